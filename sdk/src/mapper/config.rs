//! Reading the built-in settings (`stream_maps`, `stream_map_config`, `faker_config`,
//! `flattening_*`) into a checked, parsed form; every problem is collected and reported at
//! once, naming the stream map, property and construct.

use serde_json::{Map, Value};

use super::expr::Source;
use super::faker::seed_from;
use super::flatten::Flattening;
use super::options::MapOptions;

/// The `null` spelling singer-sdk accepts in YAML-unfriendly places.
pub(crate) const NULL_STRING: &str = "__NULL__";
pub(crate) const ELSE: &str = "__else__";
pub(crate) const SOURCE: &str = "__source__";
pub(crate) const ALIAS: &str = "__alias__";
pub(crate) const FILTER: &str = "__filter__";
pub(crate) const KEY_PROPERTIES: &str = "__key_properties__";

/// The parsed settings.
#[derive(Debug)]
pub(crate) struct Config {
    pub(crate) entries: Vec<Entry>,
    /// Top-level `__else__: null`: streams no entry names are dropped.
    pub(crate) drop_unmapped_streams: bool,
    pub(crate) map_config: Map<String, Value>,
    pub(crate) faker_seed: Option<u64>,
    pub(crate) flattening: Option<Flattening>,
}

/// One key of `stream_maps`.
#[derive(Debug)]
pub(crate) struct Entry {
    /// The key as written (the output stream name of a `__source__` map).
    pub(crate) key: String,
    /// The stream name or glob this entry applies to.
    pub(crate) source: String,
    /// `true` for `__source__` maps, which add a stream; `false` for maps that replace the
    /// stream's own treatment.
    pub(crate) sourced: bool,
    pub(crate) def: Def,
}

/// What an entry does.
#[derive(Debug)]
pub(crate) enum Def {
    Remove,
    Custom(Box<CustomDef>),
}

/// A stream map with properties, filter, alias or key override.
#[derive(Debug)]
pub(crate) struct CustomDef {
    pub(crate) alias: Option<Alias>,
    pub(crate) filter: Option<Source>,
    pub(crate) key_properties: Option<Vec<String>>,
    pub(crate) keep_unmapped: bool,
    /// In config order; `None` drops the property.
    pub(crate) properties: Vec<(String, Option<Source>)>,
}

/// An `__alias__`: an expression, or text that does not parse as one (used verbatim).
#[derive(Debug)]
pub(crate) enum Alias {
    Expr(Source),
    Literal(String),
}

fn is_null(value: &Value) -> bool {
    value.is_null() || value == NULL_STRING
}

/// Reads the settings; `Err` lists every violation.
pub(crate) fn parse(options: &MapOptions) -> Result<Config, Vec<String>> {
    let mut problems = Vec::new();
    let mut entries = Vec::new();
    let mut drop_unmapped_streams = false;
    match &options.stream_maps {
        None => {}
        Some(maps) => {
            for (key, def) in maps {
                if key == ELSE {
                    if is_null(def) {
                        drop_unmapped_streams = true;
                    } else {
                        problems.push(format!("stream_maps.__else__: only null or \"__NULL__\" is supported, not {def}"));
                    }
                } else if key.starts_with("__") {
                    problems.push(format!("stream_maps.{key}: option `{key}` is not expected at the top level (only `__else__` is)"));
                } else if let Some(entry) = parse_entry(key, def, &mut problems) {
                    entries.push(entry);
                }
            }
        }
    }
    let map_config = options.stream_map_config.clone().unwrap_or_default();
    let faker_seed = faker_seed(options.faker_config.as_ref(), &mut problems);
    let flattening = flattening(options, &mut problems);
    if problems.is_empty() {
        Ok(Config {
            entries,
            drop_unmapped_streams,
            map_config,
            faker_seed,
            flattening,
        })
    } else {
        Err(problems)
    }
}

fn parse_entry(key: &str, def: &Value, problems: &mut Vec<String>) -> Option<Entry> {
    let at = format!("stream_maps.{key}");
    let mut entry = Entry {
        key: key.to_owned(),
        source: key.to_owned(),
        sourced: false,
        def: Def::Remove,
    };
    let object = match def {
        v if is_null(v) => return Some(entry),
        Value::Object(o) => o,
        other => {
            problems.push(format!("{at}: a stream map must be null, \"__NULL__\" or an object of property expressions, not {other}"));
            return None;
        }
    };
    let mut custom = CustomDef {
        alias: None,
        filter: None,
        key_properties: None,
        keep_unmapped: true,
        properties: Vec::new(),
    };
    let before = problems.len();
    for (prop, value) in object {
        let here = format!("{at}.{prop}");
        match (prop.as_str(), value) {
            (SOURCE, Value::String(s)) => {
                entry.source.clone_from(s);
                entry.sourced = true;
            }
            (ALIAS, Value::String(s)) => {
                custom.alias = Some(Source::parse(s).map_or_else(|_| Alias::Literal(s.clone()), Alias::Expr));
            }
            (FILTER, Value::Null) => {}
            (FILTER, Value::String(s)) => match Source::parse(s) {
                Ok(src) => custom.filter = Some(src),
                Err(e) => problems.push(format!("{here}: cannot parse filter expression `{s}`: {e}")),
            },
            (KEY_PROPERTIES, Value::Null) => custom.key_properties = Some(Vec::new()),
            (KEY_PROPERTIES, Value::Array(items)) if items.iter().all(Value::is_string) => {
                custom.key_properties = Some(items.iter().filter_map(Value::as_str).map(str::to_owned).collect());
            }
            (ELSE, v) if is_null(v) => custom.keep_unmapped = false,
            (ELSE, v) => problems.push(format!("{here}: only null or \"__NULL__\" is supported, not {v}")),
            (SOURCE | ALIAS | FILTER | KEY_PROPERTIES, v) => {
                let wanted = if prop == KEY_PROPERTIES { "a list of property names or null" } else { "a string" };
                problems.push(format!("{here}: must be {wanted}, not {v}"));
            }
            (p, _) if p.starts_with("__") && p.ends_with("__") => problems.push(format!(
                "{here}: unknown option `{p}` (expected __alias__, __source__, __filter__, __key_properties__ or __else__)"
            )),
            (_, v) if is_null(v) => custom.properties.push((prop.clone(), None)),
            (_, Value::String(s)) => match Source::parse(s) {
                Ok(src) => custom.properties.push((prop.clone(), Some(src))),
                Err(e) => problems.push(format!("{here}: cannot parse expression `{s}`: {e}")),
            },
            (_, other) => problems.push(format!("{here}: a property map must be an expression string, null or \"__NULL__\", not {other}")),
        }
    }
    if entry.sourced && custom.alias.is_some() {
        problems.push(format!(
            "{at}: `__alias__` cannot be combined with `__source__`; the key `{key}` already names the new stream"
        ));
    }
    if problems.len() > before {
        return None;
    }
    entry.def = Def::Custom(Box::new(custom));
    Some(entry)
}

fn faker_seed(faker: Option<&Map<String, Value>>, problems: &mut Vec<String>) -> Option<u64> {
    let faker = faker?;
    let locales: Vec<&str> = match faker.get("locale") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    for locale in locales
        .iter()
        .filter(|l| !l.to_ascii_lowercase().starts_with("en"))
    {
        tracing::warn!(locale = %locale, "Faker locale is not supported; fake data will be English (en_US).");
    }
    match faker.get("seed") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(seed_from(&n.to_string())),
        Some(Value::String(s)) => Some(seed_from(s)),
        Some(Value::Bool(b)) => Some(seed_from(if *b { "True" } else { "False" })),
        Some(other) => {
            problems.push(format!(
                "faker_config.seed: must be a number, string or boolean, not {other}"
            ));
            None
        }
    }
}

fn flattening(options: &MapOptions, problems: &mut Vec<String>) -> Option<Flattening> {
    let enabled = options.flattening_enabled.unwrap_or(false);
    let depth = options.flattening_max_depth;
    let max_key_length = options.flattening_max_key_length.unwrap_or(255);
    let separator = options
        .flattening_separator
        .clone()
        .unwrap_or_else(|| "__".to_owned());
    if enabled && depth.is_none() {
        problems.push("flattening_max_depth: required when flattening_enabled is true (0 keeps records nested)".to_owned());
    }
    match depth {
        Some(max_level) if enabled && max_level > 0 => Some(Flattening {
            max_level,
            separator,
            max_key_length,
        }),
        _ => None,
    }
}

/// Whether `name` matches the glob `pattern` (`*`, `?`, `[seq]`, `[!seq]`), as Python's
/// `fnmatch.fnmatch` on POSIX (case-sensitive).
pub(crate) fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    glob_at(&p, &n)
}

fn glob_at(p: &[char], n: &[char]) -> bool {
    match p.first() {
        None => n.is_empty(),
        Some('*') => (0..=n.len()).any(|k| glob_at(&p[1..], &n[k..])),
        Some('?') => !n.is_empty() && glob_at(&p[1..], &n[1..]),
        Some('[') => {
            let Some(close) = p.iter().skip(2).position(|c| *c == ']').map(|k| k + 2) else {
                return n.first() == Some(&'[') && glob_at(&p[1..], &n[1..]);
            };
            let Some(c) = n.first() else { return false };
            let (negate, set) = match p[1] {
                '!' => (true, &p[2..close]),
                _ => (false, &p[1..close]),
            };
            let mut hit = false;
            let mut k = 0;
            while k < set.len() {
                if k + 2 < set.len() && set[k + 1] == '-' {
                    hit |= (set[k]..=set[k + 2]).contains(c);
                    k += 3;
                } else {
                    hit |= set[k] == *c;
                    k += 1;
                }
            }
            hit != negate && glob_at(&p[close + 1..], &n[1..])
        }
        Some(c) => n.first() == Some(c) && glob_at(&p[1..], &n[1..]),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn globs_match_like_fnmatch() {
        assert!(glob_match("*", "anything"));
        assert!(glob_match("*s", "repositories"));
        assert!(!glob_match("*s", "singular"));
        assert!(glob_match("pre_?x", "pre_ax"));
        assert!(glob_match("[a-c]*", "beta"));
        assert!(glob_match("[!a-c]*", "delta"));
        assert!(!glob_match("mystream", "mystream2"));
    }

    #[test]
    fn collects_every_problem() {
        let config = json!({
            "stream_maps": {
                "__else__": "keep",
                "__bogus__": {},
                "a": "text",
                "b": {"x": "md5(", "__weird__": "1", "y": 3, "__key_properties__": "id"}
            },
            "flattening_enabled": true
        });
        let problems =
            parse(&MapOptions::from_config(config.as_object().unwrap()).unwrap()).unwrap_err();
        let all = problems.join("\n");
        for needle in [
            "__else__",
            "__bogus__",
            "stream_maps.a",
            "stream_maps.b.x",
            "__weird__",
            "stream_maps.b.y",
            "__key_properties__",
            "flattening_max_depth",
        ] {
            assert!(all.contains(needle), "{needle} missing from:\n{all}");
        }
    }

    #[test]
    fn reads_flattening_and_faker() {
        let config = json!({"flattening_enabled": true, "flattening_max_depth": 2, "flattening_separator": ".", "faker_config": {"seed": 123_456}});
        let parsed = parse(&MapOptions::from_config(config.as_object().unwrap()).unwrap()).unwrap();
        assert_eq!(
            parsed.flattening,
            Some(Flattening {
                max_level: 2,
                separator: ".".to_owned(),
                max_key_length: 255
            })
        );
        assert_eq!(parsed.faker_seed, Some(seed_from("123456")));
        let depth0 = json!({"flattening_enabled": true, "flattening_max_depth": 0});
        assert_eq!(
            parse(&MapOptions::from_config(depth0.as_object().unwrap()).unwrap())
                .unwrap()
                .flattening,
            None
        );
    }
}
