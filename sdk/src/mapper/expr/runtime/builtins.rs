//! The implementations of built-in functions that need more than a line: conversions
//! (`int`, `float`, `round`), `min`/`max`, `dict`, `range`, and the `datetime` constructors.

use std::borrow::Cow;
use std::rc::Rc;

use chrono::{FixedOffset, NaiveDate, NaiveTime, TimeDelta};

use super::args::Args;
use super::ops::{py_cmp, py_eq};
use super::value::{Dt, EvalResult, Num, Val, fail};

/// simpleeval's limit on comprehension and `range()` sizes.
pub(crate) const MAX_ITEMS: i64 = 10_000;

/// Lowercase hexadecimal digits of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

/// `len(x)`.
pub(crate) fn len(v: &Val<'_>) -> EvalResult<i64> {
    let n = match v {
        Val::Str(s) => s.chars().count(),
        Val::List(v) | Val::Tuple(v) | Val::Set(v) => v.len(),
        Val::Dict(d) => d.len(),
        Val::JArr(a) => a.len(),
        Val::JObj(o) => o.len(),
        other => {
            return fail(format!(
                "TypeError: object of type '{}' has no len()",
                other.type_name()
            ));
        }
    };
    Ok(i64::try_from(n).unwrap_or(i64::MAX))
}

/// `int(x, base)`.
pub(crate) fn to_int<'a>(v: &Val<'a>, base: Option<Val<'a>>) -> EvalResult<Val<'a>> {
    if let Val::Str(s) = v {
        let radix = base.map_or(Ok(10), |b| b.as_int("base"))?;
        let text = s.trim().replace('_', "");
        let radix = u32::try_from(radix).ok().filter(|r| (2..=36).contains(r));
        return match radix.and_then(|r| i64::from_str_radix(&text, r).ok()) {
            Some(n) => Ok(Val::Int(n)),
            None => fail(format!(
                "ValueError: invalid literal for int() with base 10: {}",
                super::value::str_repr(s)
            )),
        };
    }
    match v.as_number() {
        Some(Num::Int(n)) => Ok(Val::Int(n)),
        Some(Num::Float(f)) if f.is_finite() && f.abs() < 9.2e18 => {
            #[allow(clippy::cast_possible_truncation)] // range checked above
            Ok(Val::Int(f.trunc() as i64))
        }
        Some(Num::Float(_)) => {
            fail("OverflowError: cannot convert float infinity or NaN to integer")
        }
        None => fail(format!(
            "TypeError: int() argument must be a string or a real number, not '{}'",
            v.type_name()
        )),
    }
}

/// `float(x)`.
pub(crate) fn to_float<'a>(v: &Val<'a>) -> EvalResult<Val<'a>> {
    if let Val::Str(s) = v {
        let text = s.trim().to_ascii_lowercase().replace('_', "");
        let parsed = match text.trim_start_matches(['+', '-']) {
            "inf" | "infinity" | "nan" => text.replace("infinity", "inf").parse::<f64>().ok(),
            t if t
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | '+' | '-')) =>
            {
                text.parse().ok()
            }
            _ => None,
        };
        return match parsed {
            Some(f) => Ok(Val::Float(f)),
            None => fail(format!(
                "ValueError: could not convert string to float: {}",
                super::value::str_repr(s)
            )),
        };
    }
    match v.as_number() {
        Some(n) => Ok(Val::Float(n.float())),
        None => fail(format!(
            "TypeError: float() argument must be a string or a real number, not '{}'",
            v.type_name()
        )),
    }
}

/// `round(x, ndigits)`: banker's rounding like Python.
pub(crate) fn round<'a>(v: &Val<'a>, digits: Option<Val<'a>>) -> EvalResult<Val<'a>> {
    let digits = match digits {
        None | Some(Val::None) => None,
        Some(d) => Some(d.as_int("ndigits")?),
    };
    match (v.as_number(), digits) {
        (Some(Num::Int(n)), _) => Ok(Val::Int(n)),
        (Some(Num::Float(f)), None) => to_int(&Val::Float(f.round_ties_even()), None),
        (Some(Num::Float(f)), Some(d)) if (0..=300).contains(&d) => {
            // Correctly rounded from the exact binary value, as Python does (2.675 → 2.67).
            let digits = usize::try_from(d).unwrap_or(0);
            Ok(Val::Float(format!("{f:.digits$}").parse().unwrap_or(f)))
        }
        (Some(Num::Float(f)), Some(d)) => {
            let scale = 10f64.powi(i32::try_from((-d).clamp(0, 300)).unwrap_or(0));
            Ok(Val::Float((f / scale).round_ties_even() * scale))
        }
        (None, _) => fail(format!(
            "TypeError: type {} doesn't define __round__ method",
            v.type_name()
        )),
    }
}

pub(crate) fn min_max<'a>(min: bool, args: &mut Args<'a>) -> EvalResult<Val<'a>> {
    let default = args.get(usize::MAX, "default");
    let items = if args.pos.len() == 1 {
        args.pos.remove(0).iter_items()?
    } else {
        std::mem::take(&mut args.pos)
    };
    let mut best: Option<Val<'a>> = None;
    for item in items {
        best = Some(match best {
            None => item,
            Some(b) => {
                let ord = py_cmp(&item, &b)?;
                let better = if min { ord.is_lt() } else { ord.is_gt() };
                if better { item } else { b }
            }
        });
    }
    match best.or(default) {
        Some(v) => Ok(v),
        None => fail(format!(
            "ValueError: {}() arg is an empty sequence",
            if min { "min" } else { "max" }
        )),
    }
}

pub(crate) fn dedupe_dict<'a>(
    source: Option<&Val<'a>>,
    kwargs: Vec<(&'a str, Val<'a>)>,
) -> EvalResult<Val<'a>> {
    let mut pairs: Vec<(Val<'a>, Val<'a>)> = match source {
        None => Vec::new(),
        Some(v) => match v.dict_pairs() {
            Some(p) => p,
            None => v
                .iter_items()?
                .into_iter()
                .map(|item| match item.iter_items() {
                    Ok(kv) if kv.len() == 2 => Ok((kv[0].clone(), kv[1].clone())),
                    _ => fail("ValueError: dictionary update sequence element has wrong length; 2 is required"),
                })
                .collect::<EvalResult<_>>()?,
        },
    };
    pairs.extend(
        kwargs
            .into_iter()
            .map(|(k, v)| (Val::Str(Cow::Borrowed(k)), v)),
    );
    Ok(Val::Dict(Rc::new(dedupe(pairs))))
}

/// `set(items)`: the items without repeats, in first-seen order.
pub(crate) fn set<'a>(items: Vec<Val<'a>>) -> Val<'a> {
    let mut out: Vec<Val<'a>> = Vec::with_capacity(items.len());
    for item in items {
        if !out.iter().any(|o| py_eq(o, &item)) {
            out.push(item);
        }
    }
    Val::Set(Rc::new(out))
}

/// Keeps the last value of each key, at the position of its first occurrence.
pub(crate) fn dedupe<'a>(pairs: Vec<(Val<'a>, Val<'a>)>) -> Vec<(Val<'a>, Val<'a>)> {
    let mut out: Vec<(Val<'a>, Val<'a>)> = Vec::with_capacity(pairs.len());
    for (k, v) in pairs {
        match out.iter_mut().find(|(o, _)| py_eq(o, &k)) {
            Some(slot) => slot.1 = v,
            None => out.push((k, v)),
        }
    }
    out
}

pub(crate) fn range<'a>(args: &mut Args<'a>) -> EvalResult<Val<'a>> {
    let nums: Vec<i64> = std::mem::take(&mut args.pos)
        .iter()
        .map(|v| v.as_int("range() argument"))
        .collect::<EvalResult<_>>()?;
    let (start, stop, step) = match nums.as_slice() {
        [stop] => (0, *stop, 1),
        [start, stop] => (*start, *stop, 1),
        [start, stop, step] if *step != 0 => (*start, *stop, *step),
        _ => return fail("TypeError: range() takes 1 to 3 non-zero-step integer arguments"),
    };
    let count = if step > 0 {
        (stop - start + step - 1) / step
    } else {
        (start - stop - step - 1) / -step
    };
    if count > MAX_ITEMS {
        return fail("IterableTooLong: range() is limited to 10000 items");
    }
    Ok(Val::list(
        (0..count.max(0))
            .map(|k| Val::Int(start + k * step))
            .collect(),
    ))
}

pub(crate) fn ymd(y: i64, m: i64, d: i64) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(
        i32::try_from(y).ok()?,
        u32::try_from(m).ok()?,
        u32::try_from(d).ok()?,
    )
}

pub(crate) fn tz_arg(v: Option<Val<'_>>) -> EvalResult<Option<FixedOffset>> {
    match v {
        None | Some(Val::None) => Ok(None),
        Some(Val::Tz(tz)) => Ok(Some(tz)),
        Some(other) => fail(format!(
            "TypeError: tzinfo argument must be None or a timezone, not '{}'",
            other.type_name()
        )),
    }
}

pub(crate) fn offset(d: TimeDelta) -> EvalResult<FixedOffset> {
    i32::try_from(d.num_seconds())
        .ok()
        .and_then(FixedOffset::east_opt)
        .ok_or(())
        .or_else(|()| fail("ValueError: offset must be a timedelta strictly between -timedelta(hours=24) and timedelta(hours=24)"))
}

pub(crate) fn datetime_new<'a>(args: &mut Args<'a>) -> EvalResult<Val<'a>> {
    let names = [
        "year",
        "month",
        "day",
        "hour",
        "minute",
        "second",
        "microsecond",
    ];
    let mut parts = [0i64; 7];
    for (k, name) in names.iter().enumerate() {
        parts[k] = match args.get(k, name) {
            Some(v) => v.as_int(name)?,
            None if k < 3 => {
                return fail(format!(
                    "TypeError: datetime() missing required argument '{name}'"
                ));
            }
            None => 0,
        };
    }
    let tz = tz_arg(args.get(7, "tzinfo"))?;
    let time = u32::try_from(parts[3])
        .ok()
        .zip(u32::try_from(parts[4]).ok())
        .zip(u32::try_from(parts[5]).ok())
        .zip(u32::try_from(parts[6]).ok())
        .and_then(|(((h, m), s), us)| NaiveTime::from_hms_micro_opt(h, m, s, us));
    let Some(naive) = ymd(parts[0], parts[1], parts[2])
        .zip(time)
        .map(|(d, t)| d.and_time(t))
    else {
        return fail("ValueError: datetime component out of range");
    };
    Ok(Val::DateTime(match tz {
        Some(tz) => match naive.and_local_timezone(tz).single() {
            Some(a) => Dt::Aware(a),
            None => return fail("ValueError: datetime out of range"),
        },
        None => Dt::Naive(naive),
    }))
}

pub(crate) fn timedelta<'a>(args: &mut Args<'a>) -> EvalResult<Val<'a>> {
    let units = [
        ("days", 86_400e6),
        ("seconds", 1e6),
        ("microseconds", 1.0),
        ("milliseconds", 1e3),
        ("minutes", 60e6),
        ("hours", 3_600e6),
        ("weeks", 604_800e6),
    ];
    let mut micros = 0.0;
    for (k, (name, scale)) in units.iter().enumerate() {
        if let Some(v) = args.get(k, name) {
            match v.as_number() {
                Some(n) => micros += n.float() * scale,
                None => {
                    return fail(format!(
                        "TypeError: unsupported type for timedelta {name} component: {}",
                        v.type_name()
                    ));
                }
            }
        }
    }
    #[allow(clippy::cast_possible_truncation)] // Python rounds to the microsecond too
    let micros = micros.round() as i64;
    Ok(Val::Delta(TimeDelta::microseconds(micros)))
}
