//! ISO 8601 the way Python's `datetime` reads and writes it: `isoformat()` of datetimes, dates
//! and times, `fromisoformat()` of datetimes and dates (Python 3.11 rules, `Z` accepted), and
//! UTC offsets as `±HH:MM[:SS]`.
//!
//! ```
//! use singer_sdk::time::iso;
//!
//! let t = iso::fromisoformat("2024-10-10 10:10:10.5+02:00").unwrap();
//! assert_eq!(iso::isoformat(&t, "T"), "2024-10-10T10:10:10.500000+02:00");
//! ```

use std::fmt::Write as _;

use chrono::{FixedOffset, NaiveDate, NaiveTime, Timelike};

use super::{NaiveOrAware, TimeError};

/// `dt.isoformat(sep)`: date, `sep`, time (microseconds only when not zero), then the offset
/// of an aware datetime.
///
/// ```
/// use singer_sdk::time::{NaiveOrAware, iso};
///
/// let t = chrono::NaiveDate::from_ymd_opt(2024, 1, 2).unwrap().and_hms_opt(3, 4, 5).unwrap();
/// assert_eq!(iso::isoformat(&NaiveOrAware::Naive(t), " "), "2024-01-02 03:04:05");
/// let t = t.and_utc().fixed_offset();
/// assert_eq!(iso::isoformat(&NaiveOrAware::Aware(t), "T"), "2024-01-02T03:04:05+00:00");
/// ```
#[must_use]
pub fn isoformat(value: &NaiveOrAware, sep: &str) -> String {
    let (naive, offset) = match value {
        NaiveOrAware::Naive(n) => (*n, None),
        NaiveOrAware::Aware(a) => (a.naive_local(), Some(a.offset())),
    };
    let mut out = format!(
        "{}{sep}{}",
        date_isoformat(&naive.date()),
        time_isoformat(&naive.time())
    );
    if let Some(offset) = offset {
        out.push_str(&offset_isoformat(offset));
    }
    out
}

/// `d.isoformat()`: `YYYY-MM-DD`.
///
/// ```
/// let d = chrono::NaiveDate::from_ymd_opt(2019, 1, 1).unwrap();
/// assert_eq!(singer_sdk::time::iso::date_isoformat(&d), "2019-01-01");
/// ```
#[must_use]
pub fn date_isoformat(date: &NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// `t.isoformat()`: `HH:MM:SS`, with `.ffffff` only when the microseconds are not zero.
///
/// ```
/// let t = chrono::NaiveTime::from_hms_micro_opt(1, 2, 3, 500).unwrap();
/// assert_eq!(singer_sdk::time::iso::time_isoformat(&t), "01:02:03.000500");
/// ```
#[must_use]
pub fn time_isoformat(time: &NaiveTime) -> String {
    let micros = time.nanosecond() / 1000;
    if micros == 0 {
        time.format("%H:%M:%S").to_string()
    } else {
        format!("{}.{micros:06}", time.format("%H:%M:%S"))
    }
}

/// A UTC offset as Python writes it: `±HH:MM`, plus `:SS` when the seconds are not zero.
///
/// ```
/// let offset = chrono::FixedOffset::west_opt(5 * 3600 + 30 * 60).unwrap();
/// assert_eq!(singer_sdk::time::iso::offset_isoformat(&offset), "-05:30");
/// ```
#[must_use]
pub fn offset_isoformat(offset: &FixedOffset) -> String {
    let secs = offset.local_minus_utc();
    let sign = if secs < 0 { '-' } else { '+' };
    let secs = secs.abs();
    let mut out = format!("{sign}{:02}:{:02}", secs / 3600, secs / 60 % 60);
    if secs % 60 != 0 {
        let _ = write!(out, ":{:02}", secs % 60);
    }
    out
}

/// `datetime.datetime.fromisoformat(text)`: a date (`YYYY-MM-DD` or `YYYYMMDD`), optionally
/// one separator character and a time (`HH[:MM[:SS[.f]]]` or `HH[MM[SS[.f]]]`, `,` allowed
/// for `.`), optionally an offset (`Z`, `±HH[:MM[:SS]]`). Naive without an offset.
///
/// ```
/// use singer_sdk::time::{NaiveOrAware, iso};
///
/// assert!(matches!(iso::fromisoformat("2022-01-01T00:00:00Z"), Ok(NaiveOrAware::Aware(_))));
/// assert!(matches!(iso::fromisoformat("20220101"), Ok(NaiveOrAware::Naive(_))));
/// assert!(iso::fromisoformat("10/10/2024").is_err());
/// ```
///
/// # Errors
/// [`TimeError::InvalidIsoformat`] when `text` is not in one of these forms.
pub fn fromisoformat(text: &str) -> Result<NaiveOrAware, TimeError> {
    let invalid = || TimeError::InvalidIsoformat(text.to_owned());
    let (date, rest) = split_date(text).ok_or_else(invalid)?;
    let mut chars = rest.chars();
    if chars.next().is_none() {
        return Ok(NaiveOrAware::Naive(date.and_time(NaiveTime::MIN)));
    }
    let rest = chars.as_str();
    let tz_at = rest.find(['Z', 'z', '+', '-']).unwrap_or(rest.len());
    let (time, tz) = rest.split_at(tz_at);
    let time = parse_time(time).ok_or_else(invalid)?;
    let naive = date.and_time(time);
    if tz.is_empty() {
        return Ok(NaiveOrAware::Naive(naive));
    }
    let offset = parse_offset(tz).ok_or_else(invalid)?;
    let aware = naive
        .and_local_timezone(offset)
        .single()
        .ok_or_else(invalid)?;
    Ok(NaiveOrAware::Aware(aware))
}

/// `datetime.date.fromisoformat(text)`: `YYYY-MM-DD` or `YYYYMMDD`.
///
/// ```
/// use chrono::Datelike;
/// assert_eq!(singer_sdk::time::iso::date_fromisoformat("2019-01-01").unwrap().year(), 2019);
/// ```
///
/// # Errors
/// [`TimeError::InvalidIsoformat`] when `text` is not a date in one of these forms.
pub fn date_fromisoformat(text: &str) -> Result<NaiveDate, TimeError> {
    match split_date(text) {
        Some((d, "")) => Ok(d),
        _ => Err(TimeError::InvalidIsoformat(text.to_owned())),
    }
}

/// Reads a UTC offset: `Z` (either case) or `±HH`, `±HH:MM`, `±HH:MM:SS` (colons optional).
///
/// ```
/// use singer_sdk::time::iso::parse_offset;
/// assert_eq!(parse_offset("+05:30").unwrap().local_minus_utc(), 19_800);
/// assert_eq!(parse_offset("-0100").unwrap().local_minus_utc(), -3_600);
/// assert_eq!(parse_offset("5"), None);
/// ```
#[must_use]
pub fn parse_offset(text: &str) -> Option<FixedOffset> {
    if text.eq_ignore_ascii_case("z") {
        return FixedOffset::east_opt(0);
    }
    let sign = match text.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let body = text[1..].replace(':', "");
    let field = |k: usize| {
        body.get(k..k + 2)
            .map_or(Some(0), |p| p.parse::<i32>().ok())
    };
    if !matches!(body.len(), 2 | 4 | 6) {
        return None;
    }
    FixedOffset::east_opt(sign * (field(0)? * 3600 + field(2)? * 60 + field(4)?))
}

/// The leading date of `s` (extended or basic form) and what follows it.
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

/// A time of day, `HH[:MM[:SS[.f]]]` or the same without colons; fractions past
/// microseconds are cut.
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

#[cfg(test)]
mod tests {
    use chrono::Datelike;

    use super::*;

    #[test]
    fn iso_round_trips_like_python() {
        let dt = fromisoformat("2022-01-01T00:00:00Z").unwrap();
        assert_eq!(isoformat(&dt, "T"), "2022-01-01T00:00:00+00:00");
        let dt = fromisoformat("2024-10-10 10:10:10.5+02:00").unwrap();
        assert_eq!(isoformat(&dt, "T"), "2024-10-10T10:10:10.500000+02:00");
        let dt = fromisoformat("2024-10-10").unwrap();
        assert_eq!(isoformat(&dt, " "), "2024-10-10 00:00:00");
        let dt = fromisoformat("20241010T101010,1234567-01:02:03").unwrap();
        assert_eq!(isoformat(&dt, "T"), "2024-10-10T10:10:10.123456-01:02:03");
        assert_eq!(date_fromisoformat("2019-01-01").unwrap().year(), 2019);
    }

    #[test]
    fn bad_iso_text_is_named_in_the_error() {
        for text in [
            "10/10/2024",
            "2024-10-10T1",
            "2024-10-10T10:10+5",
            "2024-10-10T10:10:10.",
        ] {
            assert_eq!(
                fromisoformat(text),
                Err(TimeError::InvalidIsoformat(text.to_owned())),
                "{text}"
            );
        }
        assert_eq!(
            date_fromisoformat("2019-01-01T00").unwrap_err().to_string(),
            "invalid isoformat string: '2019-01-01T00'"
        );
    }

    #[test]
    fn offsets() {
        assert_eq!(parse_offset("z"), FixedOffset::east_opt(0));
        assert_eq!(parse_offset("+01:02:03").unwrap().local_minus_utc(), 3723);
        assert_eq!(parse_offset("+1"), None);
        let east = FixedOffset::east_opt(3723).unwrap();
        assert_eq!(offset_isoformat(&east), "+01:02:03");
        assert_eq!(
            offset_isoformat(&FixedOffset::east_opt(0).unwrap()),
            "+00:00"
        );
    }
}
