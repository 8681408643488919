//! Python `strftime`/`strptime` format codes on chrono: the one translation of Python's
//! `%f` (microseconds when writing, a fraction after `.` when reading), then formatting and
//! parsing with it.

use std::fmt::Write as _;

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime};

use super::{NaiveOrAware, TimeError};

/// Which way a Python format is used: `strftime` writes, `strptime` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `strftime`: `%f` is six digits of microseconds.
    Format,
    /// `strptime`: `.%f` is an optional fraction of a second of any length.
    Parse,
}

/// Translates a Python `strftime`/`strptime` format to chrono's and checks that chrono knows
/// every code. `%%` stays a literal `%`.
///
/// ```
/// use singer_sdk::time::{Direction, chrono_format};
/// assert_eq!(chrono_format("%H:%M:%S.%f", Direction::Format).unwrap(), "%H:%M:%S.%6f");
/// assert_eq!(chrono_format("%H:%M:%S.%f", Direction::Parse).unwrap(), "%H:%M:%S%.f");
/// assert_eq!(chrono_format("100%%f", Direction::Format).unwrap(), "100%%f");
/// assert!(chrono_format("%Q", Direction::Format).is_err());
/// ```
///
/// # Errors
/// [`TimeError::InvalidFormat`] when the format has a code chrono does not know.
pub fn chrono_format(python: &str, direction: Direction) -> Result<String, TimeError> {
    let mut chrono = String::with_capacity(python.len() + 4);
    let mut rest = python;
    while let Some(c) = rest.chars().next() {
        rest = &rest[c.len_utf8()..];
        if c == '.' && direction == Direction::Parse && rest.starts_with("%f") {
            chrono.push_str("%.f");
            rest = &rest[2..];
        } else if c == '%' {
            match rest.chars().next() {
                Some('f') if direction == Direction::Format => chrono.push_str("%6f"),
                Some(next) => {
                    chrono.push('%');
                    chrono.push(next);
                }
                None => chrono.push('%'),
            }
            let skip = rest.chars().next().map_or(0, char::len_utf8);
            rest = &rest[skip..];
        } else {
            chrono.push(c);
        }
    }
    if StrftimeItems::new(&chrono).any(|item| matches!(item, Item::Error)) {
        return Err(TimeError::InvalidFormat {
            format: python.to_owned(),
            chrono,
        });
    }
    Ok(chrono)
}

impl NaiveOrAware {
    /// `dt.strftime(format)` with Python codes.
    ///
    /// ```
    /// use singer_sdk::time::NaiveOrAware;
    ///
    /// let t = NaiveOrAware::strptime("2024-03-05 07:08:09.123", "%Y-%m-%d %H:%M:%S.%f").unwrap();
    /// assert_eq!(t.strftime("%d/%m/%Y %f").unwrap(), "05/03/2024 123000");
    /// assert!(t.strftime("%z").is_err()); // naive: no offset to write
    /// ```
    ///
    /// # Errors
    /// [`TimeError::InvalidFormat`] for a code chrono does not know;
    /// [`TimeError::Unformattable`] for a code the value cannot fill (`%z` of a naive value).
    pub fn strftime(&self, format: &str) -> Result<String, TimeError> {
        let chrono = chrono_format(format, Direction::Format)?;
        let items = StrftimeItems::new(&chrono);
        let mut out = String::new();
        let written = match self {
            Self::Naive(n) => write!(out, "{}", n.format_with_items(items)),
            Self::Aware(a) => write!(out, "{}", a.format_with_items(items)),
        };
        match written {
            Ok(()) => Ok(out),
            Err(_) => Err(TimeError::Unformattable {
                format: format.to_owned(),
                chrono,
            }),
        }
    }

    /// `datetime.datetime.strptime(text, format)` with Python codes: aware when the format
    /// reads an offset, naive otherwise; a format with only a date gives midnight.
    ///
    /// ```
    /// use singer_sdk::time::NaiveOrAware;
    ///
    /// assert!(matches!(
    ///     NaiveOrAware::strptime("2024-03-05 07:08 +0100", "%Y-%m-%d %H:%M %z"),
    ///     Ok(NaiveOrAware::Aware(_))
    /// ));
    /// assert!(matches!(NaiveOrAware::strptime("20240305", "%Y%m%d"), Ok(NaiveOrAware::Naive(_))));
    /// ```
    ///
    /// # Errors
    /// [`TimeError::InvalidFormat`] for a code chrono does not know;
    /// [`TimeError::NoMatch`] when `text` does not match the format.
    pub fn strptime(text: &str, format: &str) -> Result<Self, TimeError> {
        let chrono = chrono_format(format, Direction::Parse)?;
        if let Ok(dt) = DateTime::parse_from_str(text, &chrono) {
            return Ok(Self::Aware(dt));
        }
        if let Ok(n) = NaiveDateTime::parse_from_str(text, &chrono) {
            return Ok(Self::Naive(n));
        }
        if let Ok(d) = NaiveDate::parse_from_str(text, &chrono) {
            return Ok(Self::Naive(d.and_time(NaiveTime::MIN)));
        }
        Err(TimeError::NoMatch {
            text: text.to_owned(),
            format: format.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_f_is_translated_one_way_each() {
        let cases = [
            ("%Y%m%d.%f", Direction::Format, "%Y%m%d.%6f"),
            ("%f%f", Direction::Format, "%6f%6f"),
            ("%%f", Direction::Format, "%%f"),
            ("%S.%f", Direction::Parse, "%S%.f"),
            ("%S%f", Direction::Parse, "%S%f"),
            ("é.%fé", Direction::Parse, "é%.fé"),
        ];
        for (python, direction, chrono) in cases {
            assert_eq!(
                chrono_format(python, direction).as_deref(),
                Ok(chrono),
                "{python}"
            );
        }
        assert_eq!(
            chrono_format("%f%Q", Direction::Format),
            Err(TimeError::InvalidFormat {
                format: "%f%Q".to_owned(),
                chrono: "%6f%Q".to_owned()
            })
        );
        assert!(chrono_format("%", Direction::Parse).is_err());
    }

    #[test]
    fn strftime_and_strptime_use_python_codes() {
        let t = NaiveOrAware::strptime("2024-03-05 07:08:09.123", "%Y-%m-%d %H:%M:%S.%f").unwrap();
        assert_eq!(
            t.strftime("%d/%m/%Y %H:%M:%S.%f").unwrap(),
            "05/03/2024 07:08:09.123000"
        );
        assert!(matches!(
            t.strftime("%z"),
            Err(TimeError::Unformattable { .. })
        ));
        assert_eq!(
            NaiveOrAware::strptime("nope", "%Y")
                .unwrap_err()
                .to_string(),
            "time data 'nope' does not match format '%Y'"
        );
    }
}
