//! Python's `datetime` module semantics on chrono types: ISO parsing and printing,
//! `strftime`/`strptime`, timestamps and arithmetic.

use std::cmp::Ordering;
use std::fmt::Write as _;

use chrono::format::{Item, StrftimeItems};
use chrono::{
    DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Timelike, Utc,
};

use super::value::{Dt, EvalError, EvalResult, Val, fail};

/// `dt.isoformat(sep)`.
pub(crate) fn isoformat(dt: &Dt, sep: &str) -> String {
    match dt {
        Dt::Naive(n) => format!(
            "{}{sep}{}",
            n.date().format("%Y-%m-%d"),
            time_isoformat(&n.time())
        ),
        Dt::Aware(a) => {
            let n = a.naive_local();
            format!(
                "{}{sep}{}{}",
                n.date().format("%Y-%m-%d"),
                time_isoformat(&n.time()),
                offset_str(a.offset())
            )
        }
    }
}

/// `t.isoformat()`: microseconds only when not zero.
pub(crate) fn time_isoformat(t: &NaiveTime) -> String {
    let micros = t.nanosecond() / 1000;
    if micros == 0 {
        t.format("%H:%M:%S").to_string()
    } else {
        format!("{}.{micros:06}", t.format("%H:%M:%S"))
    }
}

fn offset_str(offset: &FixedOffset) -> String {
    let secs = offset.local_minus_utc();
    let sign = if secs < 0 { '-' } else { '+' };
    let secs = secs.abs();
    let mut out = format!("{sign}{:02}:{:02}", secs / 3600, secs / 60 % 60);
    if secs % 60 != 0 {
        let _ = write!(out, ":{:02}", secs % 60);
    }
    out
}

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
    let invalid = || EvalError(format!("ValueError: Invalid isoformat string: '{s}'"));
    let (date, rest) = split_date(s).ok_or_else(invalid)?;
    let mut chars = rest.chars();
    if chars.next().is_none() {
        return Ok(Dt::Naive(date.and_time(NaiveTime::MIN)));
    }
    let rest = chars.as_str();
    let tz_at = rest.find(['Z', 'z', '+', '-']).unwrap_or(rest.len());
    let (time, tz) = rest.split_at(tz_at);
    let time = parse_time(time).ok_or_else(invalid)?;
    let naive = date.and_time(time);
    if tz.is_empty() {
        return Ok(Dt::Naive(naive));
    }
    let offset = parse_offset(tz).ok_or_else(invalid)?;
    let aware = naive
        .and_local_timezone(offset)
        .single()
        .ok_or_else(invalid)?;
    Ok(Dt::Aware(aware))
}

/// `datetime.date.fromisoformat(s)`.
pub(crate) fn date_fromisoformat(s: &str) -> EvalResult<NaiveDate> {
    match split_date(s) {
        Some((d, "")) => Ok(d),
        _ => fail(format!("ValueError: Invalid isoformat string: '{s}'")),
    }
}

fn split_date(s: &str) -> Option<(NaiveDate, &str)> {
    if s.len() >= 10 && s.is_char_boundary(10) && s.as_bytes().get(4) == Some(&b'-') {
        let (d, rest) = s.split_at(10);
        return NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .ok()
            .map(|d| (d, rest));
    }
    if s.len() >= 8 && s.is_char_boundary(8) && s[..8].bytes().all(|b| b.is_ascii_digit()) {
        let (d, rest) = s.split_at(8);
        return NaiveDate::parse_from_str(d, "%Y%m%d")
            .ok()
            .map(|d| (d, rest));
    }
    None
}

fn parse_time(s: &str) -> Option<NaiveTime> {
    let (hms, frac) = match s.find(['.', ',']) {
        Some(at) => (&s[..at], Some(&s[at + 1..])),
        None => (s, None),
    };
    let parts: Vec<&str> = if hms.contains(':') {
        hms.split(':').collect()
    } else {
        (0..hms.len())
            .step_by(2)
            .filter_map(|k| hms.get(k..k + 2))
            .collect()
    };
    if parts.is_empty() || parts.len() > 3 || parts.iter().any(|p| p.len() != 2) {
        return None;
    }
    let num = |k: usize| parts.get(k).map_or(Some(0), |p| p.parse::<u32>().ok());
    let micros = match frac {
        None => 0,
        Some(f) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{:0<6}", &f[..f.len().min(6)]).parse().ok()?
        }
        Some(_) => return None,
    };
    NaiveTime::from_hms_micro_opt(num(0)?, num(1)?, num(2)?, micros)
}

fn parse_offset(s: &str) -> Option<FixedOffset> {
    if s.eq_ignore_ascii_case("z") {
        return FixedOffset::east_opt(0);
    }
    let sign = match s.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let body = s[1..].replace(':', "");
    let field = |k: usize| {
        body.get(k..k + 2)
            .map_or(Some(0), |p| p.parse::<i32>().ok())
    };
    if !matches!(body.len(), 2 | 4 | 6) {
        return None;
    }
    FixedOffset::east_opt(sign * (field(0)? * 3600 + field(2)? * 60 + field(4)?))
}

/// Checks a strftime/strptime format and maps Python's `%f` to chrono's.
fn chrono_format(fmt: &str, parsing: bool) -> EvalResult<String> {
    let fmt = if parsing {
        fmt.replace(".%f", "%.f")
    } else {
        fmt.replace("%f", "%6f")
    };
    if StrftimeItems::new(&fmt).any(|item| matches!(item, Item::Error)) {
        return fail(format!("ValueError: invalid format string '{fmt}'"));
    }
    Ok(fmt)
}

/// `dt.strftime(fmt)` (also for dates, at midnight).
pub(crate) fn strftime(dt: &Dt, fmt: &str) -> EvalResult<String> {
    let fmt = chrono_format(fmt, false)?;
    let mut out = String::new();
    let written = match dt {
        Dt::Naive(n) => write!(out, "{}", n.format(&fmt)),
        Dt::Aware(a) => write!(out, "{}", a.format(&fmt)),
    };
    match written {
        Ok(()) => Ok(out),
        Err(_) => fail(format!(
            "ValueError: cannot format with '{fmt}' (a naive datetime has no %z)"
        )),
    }
}

/// `datetime.datetime.strptime(s, fmt)`.
pub(crate) fn strptime(s: &str, fmt: &str) -> EvalResult<Dt> {
    let cfmt = chrono_format(fmt, true)?;
    if let Ok(dt) = DateTime::parse_from_str(s, &cfmt) {
        return Ok(Dt::Aware(dt));
    }
    if let Ok(n) = NaiveDateTime::parse_from_str(s, &cfmt) {
        return Ok(Dt::Naive(n));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, &cfmt) {
        return Ok(Dt::Naive(d.and_time(NaiveTime::MIN)));
    }
    fail(format!(
        "ValueError: time data '{s}' does not match format '{fmt}'"
    ))
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
        assert_eq!(isoformat(&dt, "T"), "2022-01-01T00:00:00+00:00");
        assert!((timestamp(&dt) - 1_640_995_200.0).abs() < f64::EPSILON);
        let dt = datetime_fromisoformat("2024-10-10 10:10:10.5+02:00").unwrap();
        assert_eq!(isoformat(&dt, "T"), "2024-10-10T10:10:10.500000+02:00");
        let dt = datetime_fromisoformat("2024-10-10").unwrap();
        assert_eq!(isoformat(&dt, " "), "2024-10-10 00:00:00");
        assert!(datetime_fromisoformat("10/10/2024").is_err());
        assert_eq!(date_fromisoformat("2019-01-01").unwrap().year(), 2019);
    }

    #[test]
    fn strftime_and_strptime_use_python_directives() {
        let dt = strptime("2024-03-05 07:08:09.123", "%Y-%m-%d %H:%M:%S.%f").unwrap();
        assert_eq!(
            strftime(&dt, "%d/%m/%Y %H:%M:%S.%f").unwrap(),
            "05/03/2024 07:08:09.123000"
        );
        assert!(strftime(&dt, "%Q").is_err());
        assert!(strptime("nope", "%Y").is_err());
    }

    #[test]
    fn timedelta_prints_like_python() {
        assert_eq!(delta_str(TimeDelta::days(1)), "1 day, 0:00:00");
        assert_eq!(delta_str(TimeDelta::hours(-1)), "-1 day, 23:00:00");
        assert_eq!(delta_str(TimeDelta::milliseconds(1500)), "0:00:01.500000");
    }
}
