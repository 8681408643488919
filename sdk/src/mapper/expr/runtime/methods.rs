//! Methods of strings, dicts, lists, datetimes and timedeltas.

use std::borrow::Cow;
use std::rc::Rc;

use chrono::{Datelike, NaiveTime, Timelike};

use super::args::{Args, count, opt_str};
use super::datetime as dt;
use super::ops::py_eq;
use super::strings::str_method;
use super::value::{Dt, EvalResult, Val, fail};
use crate::mapper::expr::names::Method;
use crate::time::iso;

/// Calls `recv.<m>(args)`.
pub(crate) fn call_method<'a>(
    recv: &Val<'a>,
    m: Method,
    mut args: Args<'a>,
) -> EvalResult<Val<'a>> {
    let (result, max) = match recv {
        Val::Str(s) => str_method(s, m, &mut args)?,
        Val::Dict(_) | Val::JObj(_) => dict_method(recv, m, &mut args)?,
        Val::List(_) | Val::JArr(_) | Val::Tuple(_)
            if matches!(m, Method::Count | Method::Index) =>
        {
            let needle = args.need(0, "value")?;
            let items = recv.iter_items()?;
            let found = items.iter().position(|v| py_eq(v, &needle));
            let value = match m {
                Method::Count => {
                    Val::Int(count(items.iter().filter(|v| py_eq(v, &needle)).count()))
                }
                _ => match found {
                    Some(k) => Val::Int(count(k)),
                    None => return fail("ValueError: value is not in list"),
                },
            };
            (value, 1)
        }
        Val::DateTime(_) | Val::Date(_) => datetime_method(recv, m, &mut args)?,
        Val::Delta(d) if m == Method::TotalSeconds => {
            #[allow(clippy::cast_precision_loss)] // as Python's float
            let secs = d.num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6;
            (Val::Float(secs), 0)
        }
        Val::Float(f) if m == Method::IsInteger => (Val::Bool(f.fract() == 0.0), 0),
        _ => {
            return fail(format!(
                "AttributeError: '{}' object has no attribute '{}'",
                recv.type_name(),
                m.name()
            ));
        }
    };
    args.done(max)?;
    Ok(result)
}

fn dict_method<'a>(recv: &Val<'a>, m: Method, args: &mut Args<'a>) -> EvalResult<(Val<'a>, usize)> {
    let pairs = || recv.dict_pairs().unwrap_or_default();
    Ok(match m {
        Method::Get => {
            let key = args.need(0, "key")?;
            let default = args.get(1, "default").unwrap_or(Val::None);
            (recv.dict_get(&key).flatten().unwrap_or(default), 2)
        }
        Method::Keys => (Val::list(pairs().into_iter().map(|(k, _)| k).collect()), 0),
        Method::Values => (Val::list(pairs().into_iter().map(|(_, v)| v).collect()), 0),
        Method::Items => (
            Val::list(
                pairs()
                    .into_iter()
                    .map(|(k, v)| Val::Tuple(Rc::new(vec![k, v])))
                    .collect(),
            ),
            0,
        ),
        _ => {
            return fail(format!(
                "AttributeError: 'dict' object has no attribute '{}'",
                m.name()
            ));
        }
    })
}

fn datetime_method<'a>(
    recv: &Val<'a>,
    m: Method,
    args: &mut Args<'a>,
) -> EvalResult<(Val<'a>, usize)> {
    let (value, is_dt) = match recv {
        Val::DateTime(d) => (*d, true),
        Val::Date(d) => (Dt::Naive(d.and_time(NaiveTime::MIN)), false),
        _ => return fail("TypeError: not a datetime"),
    };
    let naive = match value {
        Dt::Naive(n) => n,
        Dt::Aware(a) => a.naive_local(),
    };
    Ok(match m {
        Method::Date if is_dt => (Val::Date(naive.date()), 0),
        Method::Time if is_dt => (Val::Time(naive.time()), 0),
        Method::Timestamp if is_dt => (Val::Float(dt::timestamp(&value)), 0),
        Method::Isoformat if is_dt => {
            let sep = opt_str(args, 0, "sep")?.unwrap_or_else(|| "T".to_owned());
            (Val::str(iso::isoformat(&value, &sep)), 1)
        }
        Method::Isoformat => (Val::str(iso::date_isoformat(&naive.date())), 0),
        Method::Strftime => {
            let fmt = args.need(0, "format")?;
            (
                Val::str(dt::strftime(&value, fmt.as_str("strftime() argument")?)?),
                1,
            )
        }
        Method::Weekday => (
            Val::Int(i64::from(naive.weekday().num_days_from_monday())),
            0,
        ),
        Method::Isoweekday => (Val::Int(i64::from(naive.weekday().number_from_monday())), 0),
        Method::Astimezone if is_dt => {
            let Val::Tz(tz) = args.need(0, "tz")? else {
                return fail("TypeError: astimezone() argument must be a timezone");
            };
            let aware = match value {
                Dt::Aware(a) => a,
                Dt::Naive(n) => n.and_utc().fixed_offset(),
            };
            (Val::DateTime(Dt::Aware(aware.with_timezone(&tz))), 1)
        }
        Method::Replace => (replace(recv, naive, is_dt, args)?, 0),
        _ => {
            return fail(format!(
                "AttributeError: '{}' object has no attribute '{}'",
                recv.type_name(),
                m.name()
            ));
        }
    })
}

/// `dt.replace(year=…, …, tzinfo=…)`.
fn replace<'a>(
    recv: &Val<'a>,
    naive: chrono::NaiveDateTime,
    is_dt: bool,
    args: &mut Args<'a>,
) -> EvalResult<Val<'a>> {
    let mut field = |name: &str, current: u32| -> EvalResult<u32> {
        match args.get(usize::MAX, name) {
            Some(v) => u32::try_from(v.as_int(name)?)
                .or_else(|_| fail(format!("ValueError: {name} out of range"))),
            None => Ok(current),
        }
    };
    let year = field("year", naive.year().unsigned_abs())?;
    let (month, day) = (field("month", naive.month())?, field("day", naive.day())?);
    let (hour, minute, second) = (
        field("hour", naive.hour())?,
        field("minute", naive.minute())?,
        field("second", naive.second())?,
    );
    let micro = field("microsecond", naive.nanosecond() / 1000)?;
    let date = i32::try_from(year)
        .ok()
        .and_then(|y| chrono::NaiveDate::from_ymd_opt(y, month, day));
    let time = NaiveTime::from_hms_micro_opt(hour, minute, second, micro);
    let Some(new) = date.zip(time).map(|(d, t)| d.and_time(t)) else {
        return fail("ValueError: replace() produced an invalid date or time");
    };
    if !is_dt {
        return Ok(Val::Date(new.date()));
    }
    let tz = match args.get(usize::MAX, "tzinfo") {
        Some(Val::Tz(tz)) => Some(Some(tz)),
        Some(Val::None) => Some(None),
        Some(other) => {
            return fail(format!(
                "TypeError: tzinfo argument must be None or a timezone, not '{}'",
                other.type_name()
            ));
        }
        None => None,
    };
    let current = match recv {
        Val::DateTime(Dt::Aware(a)) => Some(*a.offset()),
        _ => None,
    };
    Ok(Val::DateTime(match tz.unwrap_or(current) {
        Some(tz) => match new.and_local_timezone(tz).single() {
            Some(a) => Dt::Aware(a),
            None => return fail("ValueError: datetime out of range"),
        },
        None => Dt::Naive(new),
    }))
}

/// An attribute that is not a method call: datetime components, or a dict key
/// (simpleeval falls back to `x[name]` when `x.name` does not exist).
pub(crate) fn attribute<'a>(recv: &Val<'a>, name: &'a str) -> EvalResult<Val<'a>> {
    if let Some(v) = dt::attribute(recv, name) {
        return Ok(v);
    }
    if let Some(Some(v)) = recv.dict_get(&Val::Str(Cow::Borrowed(name))) {
        return Ok(v);
    }
    fail(format!(
        "AttributeError: '{}' object has no attribute '{name}'",
        recv.type_name()
    ))
}
