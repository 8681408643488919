//! Timestamps, in one place: parsing the forms found in Singer messages, writing them the way
//! the Python SDK does, Python `strftime`/`strptime` codes, Python-compatible ISO 8601
//! ([`iso`]), and fixed UTC offsets.
//!
//! ```
//! use singer_sdk::time;
//!
//! let t = time::parse_datetime("2024-01-02 03:04:05").unwrap();
//! assert_eq!(time::format_timestamp(t.to_utc()), "2024-01-02T03:04:05+00:00");
//! assert_eq!(time::normalize_datetime("2024-01-02T05:34:05+05:30").as_deref(), Some("2024-01-02T00:04:05+00:00"));
//! assert_eq!(time::strftime(&t, "%Y%m%d.%f").unwrap(), "20240102.000000");
//! ```

mod codes;
pub mod iso;

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Timelike, Utc};

pub use codes::{Direction, chrono_format};

/// A date and time as Python's `datetime.datetime` holds it: naive (no offset) or aware (a
/// fixed UTC offset). [`iso::fromisoformat`] and [`NaiveOrAware::strptime`] read it;
/// [`iso::isoformat`] and [`NaiveOrAware::strftime`] write it.
///
/// ```
/// use singer_sdk::time::{NaiveOrAware, iso};
///
/// let t = iso::fromisoformat("2024-01-02T03:04:05").unwrap();
/// assert!(matches!(t, NaiveOrAware::Naive(_)));
/// assert_eq!(t.strftime("%d.%m.%Y").unwrap(), "02.01.2024");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NaiveOrAware {
    /// No offset: a wall-clock time.
    Naive(NaiveDateTime),
    /// A time at a fixed UTC offset.
    Aware(DateTime<FixedOffset>),
}

/// Why a timestamp could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimeError {
    /// Not an ISO 8601 date or date-time in a form Python's `fromisoformat` reads.
    #[error("invalid isoformat string: '{0}'")]
    InvalidIsoformat(String),
    /// A `strftime`/`strptime` format with a code chrono does not know.
    #[error(
        "`{format}` is not a valid strftime format; see https://docs.python.org/3/library/datetime.html#strftime-and-strptime-format-codes"
    )]
    InvalidFormat {
        /// The format as given, with Python codes.
        format: String,
        /// The format translated to chrono's codes.
        chrono: String,
    },
    /// A format with a code the value cannot fill, such as `%z` of a naive datetime.
    #[error("`{format}` cannot format a date and time; use codes such as %Y, %m, %d, %H, %M, %S")]
    Unformattable {
        /// The format as given, with Python codes.
        format: String,
        /// The format translated to chrono's codes.
        chrono: String,
    },
    /// Text that does not match a `strptime` format.
    #[error("time data '{text}' does not match format '{format}'")]
    NoMatch {
        /// The text that was read.
        text: String,
        /// The format, with Python codes.
        format: String,
    },
}

/// Parses RFC 3339 date-times, plus the looser forms found in the wild: no offset (taken as
/// UTC), a space instead of `T`, and bare dates (midnight UTC).
///
/// ```
/// let t = singer_sdk::time::parse_datetime("2024-01-02").unwrap();
/// assert_eq!(t.to_rfc3339(), "2024-01-02T00:00:00+00:00");
/// ```
#[must_use]
pub fn parse_datetime(text: &str) -> Option<DateTime<FixedOffset>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t);
    }
    let utc = FixedOffset::east_opt(0)?;
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return t.and_local_timezone(utc).single();
        }
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%dT%H:%M:%S%.f%z"] {
        if let Ok(t) = DateTime::parse_from_str(text, format) {
            return Some(t);
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|t| t.and_local_timezone(utc).single())
}

/// Formats a timestamp the way the Python SDK writes `time_extracted`:
/// `2024-01-02T03:04:05.123456+00:00`, without the fraction when it is zero.
///
/// ```
/// let t = chrono::DateTime::parse_from_rfc3339("2022-01-01T00:00:00Z").unwrap().to_utc();
/// assert_eq!(singer_sdk::time::format_timestamp(t), "2022-01-01T00:00:00+00:00");
/// ```
#[must_use]
pub fn format_timestamp(time: DateTime<Utc>) -> String {
    if time.nanosecond() / 1000 == 0 {
        time.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
    } else {
        time.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()
    }
}

/// A date-time in the form targets store: UTC, as [`format_timestamp`] writes it. Borrowed
/// when `text` already is in that form; `None` when it is not a date-time at all.
///
/// ```
/// use singer_sdk::time::normalize_datetime;
/// assert!(matches!(normalize_datetime("2024-01-01T00:00:00+00:00"), Some(std::borrow::Cow::Borrowed(_))));
/// assert_eq!(normalize_datetime("2024-01-01T00:00:00.5Z").as_deref(), Some("2024-01-01T00:00:00.500000+00:00"));
/// assert_eq!(normalize_datetime("yesterday"), None);
/// ```
#[must_use]
pub fn normalize_datetime(text: &str) -> Option<Cow<'_, str>> {
    let bytes = text.as_bytes();
    let canonical = (bytes.len() == 25 || bytes.len() == 32)
        && text.ends_with("+00:00")
        && bytes[10] == b'T'
        && parse_datetime(text).is_some();
    if canonical {
        return Some(Cow::Borrowed(text));
    }
    parse_datetime(text).map(|t| Cow::Owned(format_timestamp(t.to_utc())))
}

/// Formats `time` with a Python `strftime` format (`%f` is microseconds, as in Python).
///
/// ```
/// let t = chrono::DateTime::parse_from_rfc3339("2024-03-04T05:06:07.5+01:00").unwrap();
/// assert_eq!(singer_sdk::time::strftime(&t, "%H%M%S.%f%z").unwrap(), "050607.500000+0100");
/// ```
///
/// # Errors
/// A message naming the format when it has a code chrono does not know, or a code that
/// needs more than a date and time.
pub fn strftime(time: &DateTime<FixedOffset>, format: &str) -> Result<String, String> {
    NaiveOrAware::Aware(*time)
        .strftime(format)
        .map_err(|e| e.to_string())
}

/// Parses a fixed time zone: `UTC`, `Z`, `GMT`, `Etc/UTC`, `+02:00`, `-0530`, `+2`, `UTC+1`,
/// `GMT-03:00` and `Etc/GMT-2` (POSIX-inverted: two hours east of UTC). Named zones with
/// daylight saving (`Europe/Berlin`) are not fixed offsets and give `None`.
///
/// ```
/// use singer_sdk::time::parse_timezone;
/// assert_eq!(parse_timezone("UTC+1").unwrap().local_minus_utc(), 3600);
/// assert_eq!(parse_timezone("Etc/GMT-2").unwrap().local_minus_utc(), 7200);
/// assert_eq!(parse_timezone("Europe/Berlin"), None);
/// ```
#[must_use]
pub fn parse_timezone(text: &str) -> Option<FixedOffset> {
    let upper = text.trim().to_ascii_uppercase();
    const UTC_NAMES: [&str; 10] = [
        "UTC",
        "Z",
        "GMT",
        "ETC/UTC",
        "ETC/GMT",
        "ETC/UCT",
        "UCT",
        "UNIVERSAL",
        "ZULU",
        "ETC/ZULU",
    ];
    if UTC_NAMES.contains(&upper.as_str()) {
        return FixedOffset::east_opt(0);
    }
    let (rest, invert) = if let Some(rest) = upper.strip_prefix("ETC/GMT") {
        (rest, true)
    } else if let Some(rest) = upper
        .strip_prefix("UTC")
        .or_else(|| upper.strip_prefix("GMT"))
    {
        (rest, false)
    } else {
        (upper.as_str(), false)
    };
    let (sign, digits) = match rest.as_bytes().first()? {
        b'+' => (1, &rest[1..]),
        b'-' => (-1, &rest[1..]),
        _ => return None,
    };
    let (hours, minutes) = match digits.split_once(':') {
        Some((h, m)) => (h, m),
        None if digits.len() == 4 => digits.split_at(2),
        None => (digits, "0"),
    };
    let digits_ok = |part: &str| {
        !part.is_empty() && part.len() <= 2 && part.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits_ok(hours) || !digits_ok(minutes) {
        return None;
    }
    let hours: i32 = hours.parse().ok()?;
    let minutes: i32 = minutes.parse().ok()?;
    if hours > 23 || minutes > 59 {
        return None;
    }
    let seconds = sign * (hours * 3600 + minutes * 60) * if invert { -1 } else { 1 };
    FixedOffset::east_opt(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_are_normalised_to_utc() {
        assert!(matches!(
            normalize_datetime("2024-01-01T00:00:00+00:00"),
            Some(Cow::Borrowed(_))
        ));
        assert_eq!(
            normalize_datetime("2024-01-01T05:30:00+05:30").as_deref(),
            Some("2024-01-01T00:00:00+00:00")
        );
        assert_eq!(normalize_datetime("yesterday"), None);
    }

    #[test]
    fn loose_forms_parse() {
        for text in [
            "2024-01-02T03:04:05",
            "2024-01-02 03:04:05.5",
            "2024-01-02 03:04:05+00:00",
            "2024-01-02T03:04:05+0000",
            "2024-01-02",
        ] {
            assert!(parse_datetime(text).is_some(), "{text}");
        }
        assert!(parse_datetime("2024-13-01").is_none());
    }

    #[test]
    fn time_zones() {
        assert_eq!(parse_timezone("-0530").unwrap().local_minus_utc(), -19_800);
        assert_eq!(
            parse_timezone("GMT-03:00").unwrap().local_minus_utc(),
            -10_800
        );
        assert_eq!(parse_timezone("+24:00"), None);
        assert_eq!(parse_timezone("+1:5:0"), None);
    }

    #[test]
    fn strftime_uses_python_codes() {
        let t = DateTime::parse_from_rfc3339("2024-03-04T05:06:07.123456+00:00").unwrap();
        assert_eq!(
            strftime(&t, "%Y-%m-%d.T%H%M%S.%f").unwrap(),
            "2024-03-04.T050607.123456"
        );
        assert!(strftime(&t, "%Q").is_err());
    }
}
