//! JSON in and out: `json.dumps` with Python's exact text (separators, `ensure_ascii`, float
//! repr), `json.loads`, and conversion of results to record values the way singer-sdk's
//! writer serialises them (datetimes as ISO 8601, anything else unknown as `str()`).

use std::fmt::Write as _;
use std::rc::Rc;

use serde_json::{Map, Number, Value};

use super::args::Args;
use super::value::{EvalResult, Val, fail, float_repr};
use crate::mapper::expr::names::Builtin;

/// Options of `json.dumps`.
#[derive(Clone)]
pub(crate) struct Dumps {
    pub(crate) item_sep: String,
    pub(crate) key_sep: String,
    pub(crate) indent: Option<String>,
    pub(crate) sort_keys: bool,
    pub(crate) ensure_ascii: bool,
    pub(crate) default: Option<Builtin>,
    /// Treat fractional numbers of the record as singer-sdk does: its reader parses them as
    /// `Decimal`, which `json.dumps` cannot write itself (`default=str` makes them strings).
    pub(crate) record_decimals: bool,
}

impl Dumps {
    /// The compact form singer-sdk uses when flattening (`separators=(",", ":")`).
    pub(crate) fn compact() -> Dumps {
        Dumps {
            item_sep: ",".to_owned(),
            key_sep: ":".to_owned(),
            indent: None,
            sort_keys: false,
            ensure_ascii: true,
            default: Some(Builtin::Str),
            record_decimals: false,
        }
    }
}

/// `json.dumps(obj, default=…, sort_keys=…, indent=…, separators=…, ensure_ascii=…)`.
pub(crate) fn dumps_call<'a>(args: &mut Args<'a>) -> EvalResult<Val<'a>> {
    let obj = args.need(0, "obj")?;
    let indent = match args.get(usize::MAX, "indent") {
        None | Some(Val::None) => None,
        Some(Val::Int(n)) => Some(" ".repeat(usize::try_from(n).unwrap_or(0))),
        Some(Val::Str(s)) => Some(s.to_string()),
        Some(other) => {
            return fail(format!(
                "TypeError: indent must be int or str, not {}",
                other.type_name()
            ));
        }
    };
    let (mut item_sep, key_sep) = (
        if indent.is_some() { "," } else { ", " }.to_owned(),
        ": ".to_owned(),
    );
    let mut opts = Dumps {
        item_sep: String::new(),
        key_sep,
        indent,
        sort_keys: false,
        ensure_ascii: true,
        default: None,
        record_decimals: true,
    };
    if let Some(seps) = args.get(usize::MAX, "separators") {
        match seps.iter_items()?.as_slice() {
            [Val::Str(i), Val::Str(k)] => {
                item_sep = i.to_string();
                opts.key_sep = k.to_string();
            }
            _ => {
                return fail(
                    "TypeError: separators must be a (item_separator, key_separator) tuple",
                );
            }
        }
    }
    opts.item_sep = item_sep;
    opts.sort_keys = args
        .get(usize::MAX, "sort_keys")
        .is_some_and(|v| v.truthy());
    opts.ensure_ascii = args
        .get(usize::MAX, "ensure_ascii")
        .is_none_or(|v| v.truthy());
    opts.default = match args.get(usize::MAX, "default") {
        None | Some(Val::None) => None,
        Some(Val::Func(b)) => Some(b),
        Some(other) => {
            return fail(format!(
                "TypeError: default must be a built-in function, not '{}'",
                other.type_name()
            ));
        }
    };
    let _ = args.get(usize::MAX, "allow_nan");
    let mut out = String::new();
    write_value(&mut out, &obj, &opts, 0)?;
    Ok(Val::str(out))
}

/// Serialises with the given options.
pub(crate) fn dumps(value: &Val<'_>, opts: &Dumps) -> EvalResult<String> {
    let mut out = String::new();
    write_value(&mut out, value, opts, 0)?;
    Ok(out)
}

fn write_value(out: &mut String, value: &Val<'_>, opts: &Dumps, depth: usize) -> EvalResult<()> {
    if depth > 200 {
        return fail("RecursionError: value nested too deeply");
    }
    match value {
        Val::None => out.push_str("null"),
        Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Val::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Val::Float(f) if f.is_nan() => out.push_str("NaN"),
        Val::Float(f) if f.is_infinite() => {
            out.push_str(if *f > 0.0 { "Infinity" } else { "-Infinity" });
        }
        Val::Float(f) => out.push_str(&float_repr(*f)),
        Val::JArr(_) | Val::JObj(_) if opts.record_decimals && has_fraction(value) => {
            write_record_json(out, value, opts, depth)?;
        }
        Val::Str(s) => write_str(out, s, opts.ensure_ascii),
        Val::List(_) | Val::Tuple(_) | Val::JArr(_) => {
            let items = value.iter_items()?;
            write_seq(out, opts, depth, '[', ']', items.len(), |out, k| {
                write_value(out, &items[k], opts, depth + 1)
            })?;
        }
        Val::Dict(_) | Val::JObj(_) => {
            let mut pairs: Vec<(String, Val<'_>)> = value
                .dict_pairs()
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| Ok((key_text(&k)?, v)))
                .collect::<EvalResult<_>>()?;
            if opts.sort_keys {
                pairs.sort_by(|a, b| a.0.cmp(&b.0));
            }
            write_seq(out, opts, depth, '{', '}', pairs.len(), |out, k| {
                write_str(out, &pairs[k].0, opts.ensure_ascii);
                out.push_str(&opts.key_sep);
                write_value(out, &pairs[k].1, opts, depth + 1)
            })?;
        }
        other => match opts.default {
            Some(Builtin::Str) => write_str(out, &other.py_str(), opts.ensure_ascii),
            Some(b) => {
                return fail(format!(
                    "TypeError: json.dumps default={}() is not supported; use default=str",
                    b.name()
                ));
            }
            None => {
                return fail(format!(
                    "TypeError: Object of type {} is not JSON serializable (pass default=str)",
                    other.type_name().rsplit('.').next().unwrap_or("object")
                ));
            }
        },
    }
    Ok(())
}

fn write_seq(
    out: &mut String,
    opts: &Dumps,
    depth: usize,
    open: char,
    close: char,
    len: usize,
    mut item: impl FnMut(&mut String, usize) -> EvalResult<()>,
) -> EvalResult<()> {
    out.push(open);
    if len == 0 {
        out.push(close);
        return Ok(());
    }
    let newline = |out: &mut String, level: usize| {
        if let Some(indent) = &opts.indent {
            out.push('\n');
            out.push_str(&indent.repeat(level));
        }
    };
    for k in 0..len {
        if k > 0 {
            out.push_str(&opts.item_sep);
        }
        newline(out, depth + 1);
        item(out, k)?;
    }
    newline(out, depth);
    out.push(close);
    Ok(())
}

/// The text of a dict key as Python's `json` converts it.
fn key_text(key: &Val<'_>) -> EvalResult<String> {
    Ok(match key {
        Val::Str(s) => s.to_string(),
        Val::Int(n) => n.to_string(),
        Val::Float(f) => float_repr(*f),
        Val::Bool(b) => b.to_string(),
        Val::None => "null".to_owned(),
        other => {
            return fail(format!(
                "TypeError: keys must be str, int, float, bool or None, not {}",
                other.type_name()
            ));
        }
    })
}

/// Whether a record value holds a fractional number anywhere.
fn has_fraction(value: &Val<'_>) -> bool {
    fn walk(value: &Value) -> bool {
        match value {
            Value::Number(n) => n.is_f64(),
            Value::Array(items) => items.iter().any(walk),
            Value::Object(map) => map.values().any(walk),
            _ => false,
        }
    }
    match value {
        Val::JArr(items) => items.iter().any(walk),
        Val::JObj(map) => map.values().any(walk),
        _ => false,
    }
}

/// Writes a record value whose fractional numbers are `Decimal`s, as singer-sdk sees them.
fn write_record_json(
    out: &mut String,
    value: &Val<'_>,
    opts: &Dumps,
    depth: usize,
) -> EvalResult<()> {
    let plain = Dumps {
        record_decimals: false,
        ..opts.clone()
    };
    let json = match value {
        Val::JArr(items) => Value::Array(items.to_vec()),
        Val::JObj(map) => Value::Object((*map).clone()),
        _ => return write_value(out, value, &plain, depth),
    };
    let decimals = decimals_as(&json, opts)?;
    write_value(out, &Val::from_json(&decimals), &plain, depth)
}

/// The value with every fractional number replaced as `json.dumps` treats a `Decimal`.
fn decimals_as(value: &Value, opts: &Dumps) -> EvalResult<Value> {
    use Value as J;
    Ok(match value {
        J::Number(n) if n.is_f64() => match opts.default {
            Some(Builtin::Str) => J::String(n.to_string()),
            _ => {
                return fail(
                    "TypeError: Object of type Decimal is not JSON serializable (pass default=str)",
                );
            }
        },
        J::Array(items) => J::Array(
            items
                .iter()
                .map(|v| decimals_as(v, opts))
                .collect::<EvalResult<_>>()?,
        ),
        J::Object(map) => J::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), decimals_as(v, opts)?)))
                .collect::<EvalResult<_>>()?,
        ),
        other => other.clone(),
    })
}

fn write_str(out: &mut String, s: &str, ensure_ascii: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (ensure_ascii && !c.is_ascii()) => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `json.loads(s)`.
pub(crate) fn loads(s: &str) -> EvalResult<Val<'static>> {
    match serde_json::from_str::<Value>(s) {
        Ok(v) => Ok(owned(v)),
        Err(e) => fail(format!("JSONDecodeError: {e}")),
    }
}

fn owned(value: Value) -> Val<'static> {
    match value {
        Value::Null => Val::None,
        Value::Bool(b) => Val::Bool(b),
        Value::Number(n) => n
            .as_i64()
            .map_or_else(|| Val::Float(n.as_f64().unwrap_or(f64::NAN)), Val::Int),
        Value::String(s) => Val::str(s),
        Value::Array(a) => Val::list(a.into_iter().map(owned).collect()),
        Value::Object(o) => Val::Dict(Rc::new(
            o.into_iter()
                .map(|(k, v)| (Val::str(k), owned(v)))
                .collect(),
        )),
    }
}

/// A result as a record value, as singer-sdk's writer would serialise it.
pub(crate) fn to_json(value: &Val<'_>) -> EvalResult<Value> {
    Ok(match value {
        Val::None => Value::Null,
        Val::Bool(b) => Value::Bool(*b),
        Val::Int(n) => Value::Number((*n).into()),
        Val::Float(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
        Val::Str(s) => Value::String(s.to_string()),
        Val::JArr(a) => Value::Array(a.to_vec()),
        Val::JObj(o) => Value::Object((*o).clone()),
        Val::List(v) | Val::Tuple(v) => {
            Value::Array(v.iter().map(to_json).collect::<EvalResult<_>>()?)
        }
        Val::Dict(d) => {
            let mut map = Map::with_capacity(d.len());
            for (k, v) in d.iter() {
                map.insert(key_text(k)?, to_json(v)?);
            }
            Value::Object(map)
        }
        Val::DateTime(dt) => Value::String(crate::time::iso::isoformat(dt, "T")),
        other => Value::String(other.py_str()),
    })
}

#[cfg(test)]
#[allow(clippy::approx_constant)] // 3.14 is sample data, not π
mod tests {
    use super::*;

    #[test]
    fn dumps_matches_python_text() {
        let value = serde_json::json!({"id": 1, "sub": {"x": "é"}, "n": [3.14, 1e16, null, true]});
        let v = Val::from_json(&value);
        let python = Dumps {
            item_sep: ", ".into(),
            key_sep: ": ".into(),
            indent: None,
            sort_keys: false,
            ensure_ascii: true,
            default: None,
            record_decimals: false,
        };
        assert_eq!(
            dumps(&v, &python).unwrap(),
            r#"{"id": 1, "sub": {"x": "\u00e9"}, "n": [3.14, 1e+16, null, true]}"#
        );
        assert_eq!(
            dumps(&v, &Dumps::compact()).unwrap(),
            r#"{"id":1,"sub":{"x":"\u00e9"},"n":[3.14,1e+16,null,true]}"#
        );
    }

    #[test]
    fn loads_and_to_json_round_trip() {
        let v = loads(r#"{"a": [1, 2.5, "x"]}"#).unwrap();
        assert_eq!(
            to_json(&v).unwrap(),
            serde_json::json!({"a": [1, 2.5, "x"]})
        );
        assert!(loads("{").is_err());
    }
}
