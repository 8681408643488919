//! The runtime value of an expression, with Python's truthiness, equality, ordering, `str()`
//! and `repr()`. Record and config values are borrowed, not copied: a JSON array or object is
//! read in place until an operation needs something new.

use std::borrow::Cow;
use std::rc::Rc;

use chrono::{FixedOffset, NaiveDate, NaiveTime, TimeDelta};
use serde_json::{Map, Value};

use super::ops::py_eq;
use crate::mapper::expr::names::Builtin;
use crate::time::iso;

/// An evaluation error, worded like Python's (`TypeError: …`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EvalError(pub(crate) String);

/// Result of evaluation steps.
pub(crate) type EvalResult<T> = Result<T, EvalError>;

/// Shorthand for an `Err(EvalError)`.
pub(crate) fn fail<T>(message: impl Into<String>) -> EvalResult<T> {
    Err(EvalError(message.into()))
}

/// A `datetime.datetime`, naive or aware.
pub(crate) use crate::time::NaiveOrAware as Dt;

/// A value.
#[derive(Debug, Clone)]
pub(crate) enum Val<'a> {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Cow<'a, str>),
    List(Rc<Vec<Val<'a>>>),
    Tuple(Rc<Vec<Val<'a>>>),
    Set(Rc<Vec<Val<'a>>>),
    Dict(Rc<Vec<(Val<'a>, Val<'a>)>>),
    /// A JSON array of the record or config, borrowed.
    JArr(&'a [Value]),
    /// A JSON object of the record or config (or the record itself), borrowed.
    JObj(&'a Map<String, Value>),
    DateTime(Dt),
    Date(NaiveDate),
    Time(NaiveTime),
    Delta(TimeDelta),
    Tz(FixedOffset),
    Func(Builtin),
}

impl<'a> Val<'a> {
    /// A JSON value as a Python value: scalars copied (strings borrowed), containers borrowed.
    pub(crate) fn from_json(value: &'a Value) -> Val<'a> {
        match value {
            Value::Null => Val::None,
            Value::Bool(b) => Val::Bool(*b),
            Value::Number(n) => n
                .as_i64()
                .map_or_else(|| Val::Float(n.as_f64().unwrap_or(f64::NAN)), Val::Int),
            Value::String(s) => Val::Str(Cow::Borrowed(s)),
            Value::Array(a) => Val::JArr(a),
            Value::Object(o) => Val::JObj(o),
        }
    }

    /// An owned string value.
    pub(crate) fn str(s: impl Into<String>) -> Val<'a> {
        Val::Str(Cow::Owned(s.into()))
    }

    /// A new list.
    pub(crate) fn list(items: Vec<Val<'a>>) -> Val<'a> {
        Val::List(Rc::new(items))
    }

    /// Python's type name, for messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Val::None => "NoneType",
            Val::Bool(_) => "bool",
            Val::Int(_) => "int",
            Val::Float(_) => "float",
            Val::Str(_) => "str",
            Val::List(_) | Val::JArr(_) => "list",
            Val::Tuple(_) => "tuple",
            Val::Set(_) => "set",
            Val::Dict(_) | Val::JObj(_) => "dict",
            Val::DateTime(_) => "datetime.datetime",
            Val::Date(_) => "datetime.date",
            Val::Time(_) => "datetime.time",
            Val::Delta(_) => "datetime.timedelta",
            Val::Tz(_) => "datetime.timezone",
            Val::Func(_) => "builtin_function_or_method",
        }
    }

    /// Python truthiness.
    pub(crate) fn truthy(&self) -> bool {
        match self {
            Val::None => false,
            Val::Bool(b) => *b,
            Val::Int(n) => *n != 0,
            Val::Float(f) => *f != 0.0,
            Val::Str(s) => !s.is_empty(),
            Val::List(v) | Val::Tuple(v) | Val::Set(v) => !v.is_empty(),
            Val::Dict(d) => !d.is_empty(),
            Val::JArr(a) => !a.is_empty(),
            Val::JObj(o) => !o.is_empty(),
            Val::Delta(d) => !d.is_zero(),
            Val::DateTime(_) | Val::Date(_) | Val::Time(_) | Val::Tz(_) | Val::Func(_) => true,
        }
    }

    /// The items of a sequence (a string yields its characters, a dict its keys).
    pub(crate) fn iter_items(&self) -> EvalResult<Vec<Val<'a>>> {
        Ok(match self {
            Val::List(v) | Val::Tuple(v) | Val::Set(v) => v.as_ref().clone(),
            Val::JArr(a) => a.iter().map(Val::from_json).collect(),
            Val::Str(s) => s.chars().map(|c| Val::str(c.to_string())).collect(),
            Val::Dict(d) => d.iter().map(|(k, _)| k.clone()).collect(),
            Val::JObj(o) => o.keys().map(|k| Val::Str(Cow::Borrowed(k))).collect(),
            other => {
                return fail(format!(
                    "TypeError: '{}' object is not iterable",
                    other.type_name()
                ));
            }
        })
    }

    /// The `(key, value)` pairs of a dict.
    pub(crate) fn dict_pairs(&self) -> Option<Vec<(Val<'a>, Val<'a>)>> {
        match self {
            Val::Dict(d) => Some(d.as_ref().clone()),
            Val::JObj(o) => Some(
                o.iter()
                    .map(|(k, v)| (Val::Str(Cow::Borrowed(k.as_str())), Val::from_json(v)))
                    .collect(),
            ),
            _ => None,
        }
    }

    /// `d.get(key)` for dicts; `None` when `self` is not a dict.
    pub(crate) fn dict_get(&self, key: &Val<'_>) -> Option<Option<Val<'a>>> {
        match self {
            Val::Dict(d) => Some(
                d.iter()
                    .find(|(k, _)| py_eq(k, key))
                    .map(|(_, v)| v.clone()),
            ),
            Val::JObj(o) => Some(match key {
                Val::Str(s) => o.get(s.as_ref()).map(Val::from_json),
                _ => None,
            }),
            _ => None,
        }
    }

    /// Python's `str()`.
    pub(crate) fn py_str(&self) -> String {
        match self {
            Val::Str(s) => s.to_string(),
            Val::DateTime(dt) => iso::isoformat(dt, " "),
            Val::Date(d) => iso::date_isoformat(d),
            Val::Time(t) => iso::time_isoformat(t),
            Val::Delta(d) => super::datetime::delta_str(*d),
            _ => self.py_repr(),
        }
    }

    /// Python's `repr()`.
    pub(crate) fn py_repr(&self) -> String {
        let seq = |items: &mut dyn Iterator<Item = Val<'_>>| {
            items.map(|v| v.py_repr()).collect::<Vec<_>>().join(", ")
        };
        match self {
            Val::None => "None".to_owned(),
            Val::Bool(true) => "True".to_owned(),
            Val::Bool(false) => "False".to_owned(),
            Val::Int(n) => n.to_string(),
            Val::Float(f) => float_repr(*f),
            Val::Str(s) => str_repr(s),
            Val::List(v) => format!("[{}]", seq(&mut v.iter().cloned())),
            Val::JArr(a) => format!("[{}]", seq(&mut a.iter().map(Val::from_json))),
            Val::Tuple(v) if v.len() == 1 => format!("({},)", v[0].py_repr()),
            Val::Tuple(v) => format!("({})", seq(&mut v.iter().cloned())),
            Val::Set(v) if v.is_empty() => "set()".to_owned(),
            Val::Set(v) => format!("{{{}}}", seq(&mut v.iter().cloned())),
            Val::Dict(_) | Val::JObj(_) => {
                let pairs = self.dict_pairs().unwrap_or_default();
                let body: Vec<String> = pairs
                    .iter()
                    .map(|(k, v)| format!("{}: {}", k.py_repr(), v.py_repr()))
                    .collect();
                format!("{{{}}}", body.join(", "))
            }
            Val::DateTime(dt) => super::datetime::datetime_repr(dt),
            Val::Date(d) => format!(
                "datetime.date({}, {}, {})",
                d.format("%Y"),
                d.format("%-m"),
                d.format("%-d")
            ),
            Val::Time(t) => format!("datetime.time({})", t.format("%-H, %-M, %-S")),
            Val::Delta(d) => format!("datetime.timedelta(seconds={})", d.num_seconds()),
            Val::Tz(tz) if tz.local_minus_utc() == 0 => "datetime.timezone.utc".to_owned(),
            Val::Tz(tz) => format!("datetime.timezone({tz})"),
            Val::Func(b) => format!("<built-in function {}>", b.name()),
        }
    }

    /// As a number, for arithmetic: bools are ints.
    pub(crate) fn as_number(&self) -> Option<Num> {
        match self {
            Val::Bool(b) => Some(Num::Int(i64::from(*b))),
            Val::Int(n) => Some(Num::Int(*n)),
            Val::Float(f) => Some(Num::Float(*f)),
            _ => None,
        }
    }

    /// As an integer (bools included), or a `TypeError` naming `what`.
    pub(crate) fn as_int(&self, what: &str) -> EvalResult<i64> {
        match self.as_number() {
            Some(Num::Int(n)) => Ok(n),
            _ => fail(format!(
                "TypeError: {what} must be an integer, not '{}'",
                self.type_name()
            )),
        }
    }

    /// As a string slice, or a `TypeError` naming `what`.
    pub(crate) fn as_str(&self, what: &str) -> EvalResult<&str> {
        match self {
            Val::Str(s) => Ok(s),
            _ => fail(format!(
                "TypeError: {what} must be str, not '{}'",
                self.type_name()
            )),
        }
    }
}

/// A number, for arithmetic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    /// As a float.
    pub(crate) fn float(self) -> f64 {
        match self {
            #[allow(clippy::cast_precision_loss)] // Python converts the same way
            Num::Int(n) => n as f64,
            Num::Float(f) => f,
        }
    }
}

/// Python's `repr()` of a float.
pub(crate) fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if f.is_sign_negative() { "-" } else { "" };
    if (-4..16).contains(&exp) {
        let body = if exp >= 0 {
            let split = usize::try_from(exp).unwrap_or(0) + 1;
            let padded = format!("{digits:0<split$}");
            let (int, frac) = padded.split_at(split);
            format!("{int}.{}", if frac.is_empty() { "0" } else { frac })
        } else {
            let zeros = "0".repeat(usize::try_from(-exp - 1).unwrap_or(0));
            format!("0.{zeros}{digits}")
        };
        format!("{sign}{body}")
    } else {
        let exp_sign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{mantissa}e{exp_sign}{:02}", exp.abs())
    }
}

/// Python's `repr()` of a string.
pub(crate) fn str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
#[allow(clippy::approx_constant)] // 3.14 is sample data, not π
mod tests {
    use std::cmp::Ordering;

    use super::super::ops::py_cmp;
    use super::*;

    #[test]
    fn floats_print_like_python() {
        for (f, text) in [
            (1.0, "1.0"),
            (3.14, "3.14"),
            (-0.5, "-0.5"),
            (1640995200.0, "1640995200.0"),
            (1e16, "1e+16"),
            (1.5e-7, "1.5e-07"),
            (0.0001, "0.0001"),
            (123456789012345.6, "123456789012345.6"),
            (f64::INFINITY, "inf"),
        ] {
            assert_eq!(float_repr(f), text);
        }
    }

    #[test]
    fn str_and_repr_follow_python() {
        assert_eq!(Val::Bool(true).py_str(), "True");
        assert_eq!(Val::None.py_str(), "None");
        assert_eq!(str_repr("it's"), "\"it's\"");
        let list = Val::list(vec![Val::Int(1), Val::str("a"), Val::None]);
        assert_eq!(list.py_str(), "[1, 'a', None]");
        let value = serde_json::json!({"a": [1, 2.5], "b": null});
        assert_eq!(
            Val::from_json(&value).py_str(),
            "{'a': [1, 2.5], 'b': None}"
        );
    }

    #[test]
    fn equality_and_ordering_mix_numbers() {
        assert!(py_eq(&Val::Int(1), &Val::Float(1.0)));
        assert!(py_eq(&Val::Bool(true), &Val::Int(1)));
        assert!(!py_eq(&Val::str("1"), &Val::Int(1)));
        assert_eq!(
            py_cmp(&Val::Int(1), &Val::Float(1.5)).unwrap(),
            Ordering::Less
        );
        assert!(py_cmp(&Val::Int(1), &Val::str("a")).is_err());
        let json = serde_json::json!([1, 2]);
        assert!(py_eq(
            &Val::from_json(&json),
            &Val::list(vec![Val::Int(1), Val::Int(2)])
        ));
    }
}
