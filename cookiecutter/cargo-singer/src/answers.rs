//! The answers to a template's variables: given on the command line, asked for, or the
//! defaults; then checked as the template's `pre_gen_project` hook checks them.

use crate::error::{Error, Result};
use crate::render::render_str;
use crate::template::{Question, Template};

/// Each variable's answer, in the template's order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answers(Vec<(String, String)>);

impl Answers {
    /// The answer to `key`.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Replaces the answer to `key` (a no-op for a key the template does not ask).
    pub fn set(&mut self, key: &str, value: String) {
        if let Some((_, v)) = self.0.iter_mut().find(|(k, _)| k == key) {
            *v = value;
        }
    }

    /// Every `(key, answer)`, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// Asks for the values not given.
pub trait Ask {
    /// Free text, `default` offered.
    ///
    /// # Errors
    /// The prompt fails or is cancelled.
    fn text(&mut self, key: &str, message: &str, default: &str) -> Result<String>;

    /// One of `choices` (the first is the default).
    ///
    /// # Errors
    /// The prompt fails or is cancelled.
    fn choice(&mut self, key: &str, message: &str, choices: &[String]) -> Result<String>;
}

/// Resolves every variable of `template` in order: a `given` value (a choice matched
/// loosely: case, spaces, `-` and `_` aside), else the answer of `ask`, else the default
/// (text defaults render against the answers before them, as in cookiecutter). Then checks
/// the answers.
///
/// # Errors
/// [`Error::UnknownVariable`] for a given key the template does not ask,
/// [`Error::UnknownChoice`] for a value that is not a choice, the errors of [`check`], and
/// those of `ask`.
pub fn resolve(
    template: &Template,
    given: &[(String, String)],
    mut ask: Option<&mut dyn Ask>,
) -> Result<Answers> {
    if let Some((key, _)) = given.iter().find(|(k, _)| template.variable(k).is_none()) {
        return Err(Error::UnknownVariable {
            kind: template.kind.as_str(),
            key: key.clone(),
            known: template.variables.iter().map(|v| v.key.clone()).collect(),
        });
    }
    let mut answers = Answers::default();
    for variable in &template.variables {
        let key = variable.key.as_str();
        let given = given.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v);
        let message = variable.prompt.as_deref().unwrap_or(key);
        let file = format!("cookiecutter.json `{key}`");
        let value = match &variable.question {
            Question::Text(default) => match (given, ask.as_deref_mut()) {
                (Some(value), _) => value.clone(),
                (None, Some(ask)) => {
                    ask.text(key, message, &render_str(default, &answers, &file)?)?
                }
                (None, None) => render_str(default, &answers, &file)?,
            },
            Question::Choice(raw) => {
                let choices = raw
                    .iter()
                    .map(|c| render_str(c, &answers, &file))
                    .collect::<Result<Vec<_>>>()?;
                match (given, ask.as_deref_mut()) {
                    (Some(value), _) => match_choice(key, value, &choices)?,
                    (None, Some(ask)) => ask.choice(key, message, &choices)?,
                    (None, None) => choices[0].clone(),
                }
            }
        };
        answers.0.push((key.to_owned(), value));
    }
    check(template, &answers)?;
    Ok(answers)
}

/// The choice `value` stands for: equal once case, spaces, `-`, `_` and `/` are set aside
/// (`bearer-token` is `Bearer Token`, `per_batch` is `Per batch`).
///
/// # Errors
/// [`Error::UnknownChoice`] listing the choices.
pub fn match_choice(key: &str, value: &str, choices: &[String]) -> Result<String> {
    let loose = |text: &str| -> String {
        text.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let wanted = loose(value);
    choices
        .iter()
        .find(|c| loose(c) == wanted && !wanted.is_empty())
        .cloned()
        .ok_or_else(|| Error::UnknownChoice {
            key: key.to_owned(),
            value: value.to_owned(),
            allowed: choices.to_vec(),
        })
}

/// The rules of the templates' `pre_gen_project` hooks: the id and crate name are names
/// cargo accepts, the CamelCase name is a Rust type name, and no value breaks the TOML and
/// YAML strings it is written into.
///
/// # Errors
/// [`Error::InvalidName`], [`Error::InvalidIdentifier`] or [`Error::InvalidText`].
pub fn check(template: &Template, answers: &Answers) -> Result<()> {
    let kind = template.kind;
    for key in [kind.id_key(), "crate_name"] {
        check_name(key, answers.get(key).unwrap_or_default(), kind.prefix())?;
    }
    let name_key = kind.name_key();
    for key in [name_key, "admin_name", "admin_email", "variant", "sdk_path"] {
        let value = answers.get(key).unwrap_or_default();
        if value
            .chars()
            .any(|c| c == '"' || c == '\\' || c.is_ascii_control())
        {
            return Err(Error::InvalidText {
                key: key.to_owned(),
                value: value.to_owned(),
            });
        }
    }
    let name = answers.get(name_key).unwrap_or_default();
    let mut chars = name.chars();
    if !(chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric()))
    {
        let example = template
            .variable(name_key)
            .and_then(|v| match &v.question {
                Question::Text(default) => Some(default.clone()),
                Question::Choice(_) => None,
            })
            .unwrap_or_default();
        return Err(Error::InvalidIdentifier {
            key: name_key.to_owned(),
            value: name.to_owned(),
            example,
        });
    }
    Ok(())
}

/// A name cargo accepts for a package, binary and directory: ASCII letters, digits, `-`
/// and `_`, starting with a letter, and not one `cargo new` refuses ([`reserved`]).
#[must_use]
pub fn is_name(value: &str) -> bool {
    check_name("", value, "").is_ok()
}

/// The names of cargo's build directories: refused as package and binary names.
pub const CARGO_DIRECTORIES: [&str; 4] = ["build", "deps", "examples", "incremental"];

/// The Rust keywords `cargo new` refuses as package names (its own list, strict and
/// reserved keywords alike).
pub const KEYWORDS: [&str; 51] = [
    "Self", "abstract", "as", "async", "await", "become", "box", "break", "const", "continue",
    "crate", "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Why cargo refuses `value` as a package or binary name although its characters are
/// fine, as `cargo new` says it; `None` if it does not.
#[must_use]
pub fn reserved(value: &str) -> Option<&'static str> {
    if CARGO_DIRECTORIES.contains(&value) {
        Some("it conflicts with cargo's build directory names")
    } else if value == "test" {
        Some("it conflicts with Rust's built-in test library")
    } else if KEYWORDS.contains(&value) {
        Some("it is a Rust keyword")
    } else {
        None
    }
}

/// Checks a name that becomes a package, binary or directory name (`key` names it in the
/// error; `prefix` makes the example).
///
/// # Errors
/// [`Error::InvalidName`] for characters cargo refuses, [`Error::ReservedName`] for a name
/// it refuses.
pub fn check_name(key: &str, value: &str, prefix: &str) -> Result<()> {
    let mut chars = value.chars();
    let example = format!("{prefix}example");
    if !(chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    {
        return Err(Error::InvalidName {
            key: key.to_owned(),
            value: value.to_owned(),
            example,
        });
    }
    match reserved(value) {
        Some(reason) => Err(Error::ReservedName {
            key: key.to_owned(),
            value: value.to_owned(),
            reason,
            example,
        }),
        None => Ok(()),
    }
}

/// The CamelCase name of a connector id: `tap-my-api` is `MyApi`.
#[must_use]
pub fn camel_case(id: &str, prefix: &str) -> String {
    let rest = id.strip_prefix(prefix).unwrap_or(id);
    rest.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::Kind;

    #[test]
    fn camel_case_drops_the_prefix() {
        assert_eq!(camel_case("tap-my-api", "tap-"), "MyApi");
        assert_eq!(camel_case("target_warehouse", "target-"), "TargetWarehouse");
        assert_eq!(camel_case("mapper-x2", "mapper-"), "X2");
    }

    #[test]
    fn choices_match_loosely_and_only_whole() {
        let choices: Vec<String> = ["API Key", "Bearer Token", "Custom or N/A"]
            .map(str::to_owned)
            .to_vec();
        assert_eq!(
            match_choice("k", "bearer-token", &choices).unwrap(),
            "Bearer Token"
        );
        assert_eq!(
            match_choice("k", "custom_or_n/a", &choices).unwrap(),
            "Custom or N/A"
        );
        assert!(match_choice("k", "bearer", &choices).is_err());
        assert!(match_choice("k", "--", &choices).is_err());
    }

    #[test]
    fn defaults_render_against_earlier_answers() {
        let template = Template::load(Kind::Tap).unwrap();
        let given = [("source_name".to_owned(), "GitHub".to_owned())];
        let answers = resolve(&template, &given, None).unwrap();
        assert_eq!(answers.get("tap_id"), Some("tap-github"));
        assert_eq!(answers.get("crate_name"), Some("tap-github"));
        assert_eq!(answers.get("stream_type"), Some("REST"));
        assert_eq!(answers.get("sdk_path"), Some(""));
    }

    #[test]
    fn names_are_what_cargo_accepts() {
        assert!(is_name("tap-x_1"));
        for bad in [
            "", "1x", "x y", "x.y", "é", "build", "deps", "test", "fn", "Self",
        ] {
            assert!(!is_name(bad), "{bad}");
        }
        // Only the exact names: cargo takes these.
        for good in ["tests", "Build", "gen", "union", "tap-fn", "my_test"] {
            assert!(is_name(good), "{good}");
        }
        assert_eq!(
            reserved("incremental"),
            Some("it conflicts with cargo's build directory names")
        );
        assert_eq!(reserved("yield"), Some("it is a Rust keyword"));
    }

    /// Answers from a script, recording what was asked.
    struct Scripted {
        asked: Vec<String>,
    }

    impl Ask for Scripted {
        fn text(&mut self, key: &str, _message: &str, default: &str) -> Result<String> {
            self.asked.push(format!("{key}={default}"));
            Ok(match key {
                "admin_name" => "Ada Lovelace".to_owned(),
                _ => default.to_owned(),
            })
        }

        fn choice(&mut self, key: &str, _message: &str, choices: &[String]) -> Result<String> {
            self.asked.push(format!("{key}:{}", choices.join("|")));
            Ok(choices.last().cloned().unwrap_or_default())
        }
    }

    #[test]
    fn it_asks_for_what_is_not_given_in_order_with_rendered_defaults() {
        let template = Template::load(Kind::Target).unwrap();
        let given = [("destination_name".to_owned(), "Lake".to_owned())];
        let mut ask = Scripted { asked: Vec::new() };
        let answers = resolve(&template, &given, Some(&mut ask)).unwrap();
        assert_eq!(
            ask.asked,
            [
                "admin_name=FirstName LastName",
                "admin_email=firstname.lastname@example.com",
                "target_id=target-lake",
                "crate_name=target-lake",
                "variant=None (Skip)",
                "serialization_method:Per batch|Per record|SQL",
                "include_ci_files:GitHub|None",
                "license:Apache-2.0|MIT|None",
                "sdk_path=",
            ]
        );
        assert_eq!(answers.get("admin_name"), Some("Ada Lovelace"));
        assert_eq!(answers.get("serialization_method"), Some("SQL"));
    }
}
