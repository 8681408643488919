//! Python's `datetime` module for the evaluator: `repr()`, comparison, attributes,
//! timestamps, `now` and arithmetic; ISO text and `strftime`/`strptime` come from
//! [`crate::time`], with their errors worded as Python's `ValueError`s.

use std::cmp::Ordering;
use std::fmt::Write as _;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveTime, TimeDelta, Timelike, Utc};

use super::value::{Dt, EvalError, EvalResult, Val, fail};
use crate::time::{TimeError, iso};

/// `repr()` of a datetime.
pub(crate) fn datetime_repr(dt: &Dt) -> String {
    let (n, tz) = match dt {
        Dt::Naive(n) => (*n, String::new()),
        Dt::Aware(a) => (a.naive_local(), ", tzinfo=datetime.timezone.utc".to_owned()),
    };
    format!(
        "datetime.datetime({}, {}, {}, {}, {}, {}{}{tz})",
        n.year(),
        n.month(),
        n.day(),
        n.hour(),
        n.minute(),
        n.second(),
        match n.nanosecond() / 1000 {
            0 => String::new(),
            us => format!(", {us}"),
        }
    )
}

/// `str(timedelta)`: `[-]D day[s], H:MM:SS[.ffffff]`.
pub(crate) fn delta_str(d: TimeDelta) -> String {
    let micros = d.num_microseconds().unwrap_or(i64::MAX);
    let days = micros.div_euclid(86_400_000_000);
    let rest = micros.rem_euclid(86_400_000_000);
    let (secs, us) = (rest / 1_000_000, rest % 1_000_000);
    let mut out = String::new();
    if days != 0 {
        let plural = if days.abs() == 1 { "" } else { "s" };
        let _ = write!(out, "{days} day{plural}, ");
    }
    let _ = write!(
        out,
        "{}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
    if us != 0 {
        let _ = write!(out, ".{us:06}");
    }
    out
}

/// Compares two datetimes; naive and aware do not compare.
pub(crate) fn dt_cmp(a: &Dt, b: &Dt) -> EvalResult<Ordering> {
    match (a, b) {
        (Dt::Naive(x), Dt::Naive(y)) => Ok(x.cmp(y)),
        (Dt::Aware(x), Dt::Aware(y)) => Ok(x.cmp(y)),
        _ => fail("TypeError: can't compare offset-naive and offset-aware datetimes"),
    }
}

/// `datetime.datetime.fromisoformat(s)` (Python 3.11 rules, `Z` accepted).
pub(crate) fn datetime_fromisoformat(s: &str) -> EvalResult<Dt> {
    iso::fromisoformat(s).map_err(value_error)
}

/// `datetime.date.fromisoformat(s)`.
pub(crate) fn date_fromisoformat(s: &str) -> EvalResult<NaiveDate> {
    iso::date_fromisoformat(s).map_err(value_error)
}

/// `dt.strftime(fmt)` (also for dates, at midnight).
pub(crate) fn strftime(dt: &Dt, fmt: &str) -> EvalResult<String> {
    dt.strftime(fmt).map_err(value_error)
}

/// `datetime.datetime.strptime(s, fmt)`.
pub(crate) fn strptime(s: &str, fmt: &str) -> EvalResult<Dt> {
    Dt::strptime(s, fmt).map_err(value_error)
}

/// A time-module error as the `ValueError` Python raises.
fn value_error(e: TimeError) -> EvalError {
    EvalError(match e {
        TimeError::InvalidIsoformat(s) => format!("ValueError: Invalid isoformat string: '{s}'"),
        TimeError::InvalidFormat { chrono, .. } => {
            format!("ValueError: invalid format string '{chrono}'")
        }
        TimeError::Unformattable { chrono, .. } => {
            format!("ValueError: cannot format with '{chrono}' (a naive datetime has no %z)")
        }
        TimeError::NoMatch { text, format } => {
            format!("ValueError: time data '{text}' does not match format '{format}'")
        }
    })
}

/// `dt.timestamp()`; a naive datetime is taken as UTC.
pub(crate) fn timestamp(dt: &Dt) -> f64 {
    let utc = match dt {
        Dt::Naive(n) => n.and_utc(),
        Dt::Aware(a) => a.with_timezone(&Utc),
    };
    #[allow(clippy::cast_precision_loss)] // as Python's float timestamp
    let secs = utc.timestamp() as f64;
    secs + f64::from(utc.timestamp_subsec_micros()) / 1e6
}

/// `datetime.datetime.fromtimestamp(ts, tz)`; without `tz`, a naive UTC datetime.
pub(crate) fn from_timestamp(ts: f64, tz: Option<FixedOffset>) -> EvalResult<Dt> {
    #[allow(clippy::cast_possible_truncation)] // bounded by chrono's range check below
    let micros = (ts * 1e6).round() as i64;
    let Some(utc) = DateTime::<Utc>::from_timestamp_micros(micros) else {
        return fail(format!("ValueError: timestamp {ts} is out of range"));
    };
    Ok(match tz {
        Some(tz) => Dt::Aware(utc.with_timezone(&tz)),
        None => Dt::Naive(utc.naive_utc()),
    })
}

/// `datetime.datetime.now(tz)` / `utcnow()`.
pub(crate) fn now(tz: Option<FixedOffset>) -> Dt {
    let utc = Utc::now();
    match tz {
        Some(tz) => Dt::Aware(utc.with_timezone(&tz)),
        None => Dt::Naive(utc.naive_utc()),
    }
}

/// `dt + delta`.
pub(crate) fn add(dt: &Dt, delta: TimeDelta) -> EvalResult<Dt> {
    let overflow = || fail("OverflowError: date value out of range");
    match dt {
        Dt::Naive(n) => n
            .checked_add_signed(delta)
            .map(Dt::Naive)
            .ok_or(())
            .or_else(|()| overflow()),
        Dt::Aware(a) => a
            .checked_add_signed(delta)
            .map(Dt::Aware)
            .ok_or(())
            .or_else(|()| overflow()),
    }
}

/// `a - b` for datetimes.
pub(crate) fn sub(a: &Dt, b: &Dt) -> EvalResult<TimeDelta> {
    match (a, b) {
        (Dt::Naive(x), Dt::Naive(y)) => Ok(x.signed_duration_since(*y)),
        (Dt::Aware(x), Dt::Aware(y)) => Ok(x.signed_duration_since(*y)),
        _ => fail("TypeError: can't subtract offset-naive and offset-aware datetimes"),
    }
}

/// A named component of a datetime, date, time or timedelta (`.year`, `.days`, …).
pub(crate) fn attribute<'a>(value: &Val<'a>, name: &str) -> Option<Val<'a>> {
    let naive = match value {
        Val::DateTime(Dt::Naive(n)) => Some(*n),
        Val::DateTime(Dt::Aware(a)) => Some(a.naive_local()),
        Val::Date(d) => Some(d.and_time(NaiveTime::MIN)),
        _ => None,
    };
    let int = |n: u32| Some(Val::Int(i64::from(n)));
    if let Some(n) = naive {
        let is_dt = matches!(value, Val::DateTime(_));
        return match name {
            "year" => Some(Val::Int(i64::from(n.year()))),
            "month" => int(n.month()),
            "day" => int(n.day()),
            "hour" if is_dt => int(n.hour()),
            "minute" if is_dt => int(n.minute()),
            "second" if is_dt => int(n.second()),
            "microsecond" if is_dt => int(n.nanosecond() / 1000),
            "tzinfo" if is_dt => Some(match value {
                Val::DateTime(Dt::Aware(a)) => Val::Tz(*a.offset()),
                _ => Val::None,
            }),
            _ => None,
        };
    }
    match (value, name) {
        (Val::Time(t), "hour") => int(t.hour()),
        (Val::Time(t), "minute") => int(t.minute()),
        (Val::Time(t), "second") => int(t.second()),
        (Val::Time(t), "microsecond") => int(t.nanosecond() / 1000),
        (Val::Delta(d), "days" | "seconds" | "microseconds") => {
            let micros = d.num_microseconds().unwrap_or(i64::MAX);
            let days = micros.div_euclid(86_400_000_000);
            let rest = micros.rem_euclid(86_400_000_000);
            Some(Val::Int(match name {
                "days" => days,
                "seconds" => rest / 1_000_000,
                _ => rest % 1_000_000,
            }))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_round_trips_like_python() {
        let dt = datetime_fromisoformat("2022-01-01T00:00:00Z").unwrap();
        assert_eq!(iso::isoformat(&dt, "T"), "2022-01-01T00:00:00+00:00");
        assert!((timestamp(&dt) - 1_640_995_200.0).abs() < f64::EPSILON);
        assert_eq!(date_fromisoformat("2019-01-01").unwrap().year(), 2019);
        assert_eq!(
            datetime_fromisoformat("10/10/2024"),
            fail("ValueError: Invalid isoformat string: '10/10/2024'")
        );
        assert_eq!(
            date_fromisoformat("2019-01-01T00"),
            fail("ValueError: Invalid isoformat string: '2019-01-01T00'")
        );
    }

    #[test]
    fn strftime_and_strptime_raise_python_value_errors() {
        let dt = strptime("2024-03-05 07:08:09.123", "%Y-%m-%d %H:%M:%S.%f").unwrap();
        assert_eq!(
            strftime(&dt, "%d/%m/%Y %H:%M:%S.%f").unwrap(),
            "05/03/2024 07:08:09.123000"
        );
        assert_eq!(
            strftime(&dt, "%f %Q"),
            fail("ValueError: invalid format string '%6f %Q'")
        );
        assert_eq!(
            strftime(&dt, "%H%z"),
            fail("ValueError: cannot format with '%H%z' (a naive datetime has no %z)")
        );
        assert_eq!(
            strptime("nope", "%Y.%f"),
            fail("ValueError: time data 'nope' does not match format '%Y.%f'")
        );
        assert_eq!(
            strptime("2024", "%Y.%Q"),
            fail("ValueError: invalid format string '%Y.%Q'")
        );
    }

    #[test]
    fn timedelta_prints_like_python() {
        assert_eq!(delta_str(TimeDelta::days(1)), "1 day, 0:00:00");
        assert_eq!(delta_str(TimeDelta::hours(-1)), "-1 day, 23:00:00");
        assert_eq!(delta_str(TimeDelta::milliseconds(1500)), "0:00:01.500000");
    }
}
