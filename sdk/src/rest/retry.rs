//! When to try a request again, and how long to wait first.

use std::time::{Duration, SystemTime};

/// Exponential backoff with jitter, bounded by a number of tries and a total time.
///
/// The defaults follow singer-sdk: 5 tries, waits doubling from 2 s (2, 4, 8, 16 s), each
/// with jitter, at most 60 s per wait and 10 minutes in all.
///
/// ```
/// use std::time::Duration;
/// use singer_sdk::rest::RetryPolicy;
///
/// let policy = RetryPolicy::default().max_tries(3).initial_delay(Duration::from_millis(10));
/// assert!(policy.delay(1) <= Duration::from_millis(10));
/// assert!(policy.delay(2) <= Duration::from_millis(20));
/// ```
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub(crate) max_tries: u32,
    initial: Duration,
    factor: f64,
    max_delay: Duration,
    pub(crate) max_elapsed: Option<Duration>,
    jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_tries: 5,
            initial: Duration::from_secs(2),
            factor: 2.0,
            max_delay: Duration::from_secs(60),
            max_elapsed: Some(Duration::from_secs(600)),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// No retries: every request is sent once.
    pub fn never() -> Self {
        RetryPolicy {
            max_tries: 1,
            ..Self::default()
        }
    }

    /// How many times a request is sent at most (1 = no retry; 0 counts as 1).
    #[must_use]
    pub fn max_tries(mut self, tries: u32) -> Self {
        self.max_tries = tries.max(1);
        self
    }

    /// The wait before the first retry.
    #[must_use]
    pub fn initial_delay(mut self, delay: Duration) -> Self {
        self.initial = delay;
        self
    }

    /// The multiplier from one wait to the next (at least 1).
    #[must_use]
    pub fn factor(mut self, factor: f64) -> Self {
        self.factor = factor.max(1.0);
        self
    }

    /// The longest single wait (a longer `Retry-After` is still honoured, within
    /// [`max_elapsed`](Self::max_elapsed)).
    #[must_use]
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// The longest total time spent on one request, waits included (`None`: no limit).
    #[must_use]
    pub fn max_elapsed(mut self, limit: Option<Duration>) -> Self {
        self.max_elapsed = limit;
        self
    }

    /// Whether waits are randomised (between half and all of the computed wait).
    #[must_use]
    pub fn jitter(mut self, on: bool) -> Self {
        self.jitter = on;
        self
    }

    /// The wait before retry number `retry` (1 for the first retry).
    pub fn delay(&self, retry: u32) -> Duration {
        let exponent = i32::try_from(retry.saturating_sub(1)).unwrap_or(i32::MAX);
        let secs = self.initial.as_secs_f64() * self.factor.powi(exponent);
        let capped = secs.min(self.max_delay.as_secs_f64());
        let secs = if self.jitter {
            capped * (0.5 + unit_random() * 0.5)
        } else {
            capped
        };
        Duration::try_from_secs_f64(secs).unwrap_or(self.max_delay)
    }
}

/// A random number in `[0, 1)`, good enough for jitter (std's per-map random hash keys).
fn unit_random() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let bits = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    // 53 random bits make an evenly spread f64 in [0, 1).
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// Parses a `Retry-After` value: delay seconds (`120`) or an HTTP-date
/// (`Wed, 21 Oct 2015 07:28:00 GMT`). A date in the past means "now".
///
/// # Errors
///
/// Returns the value back when it is neither form; the caller warns and falls back to backoff.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use singer_sdk::rest::parse_retry_after;
/// assert_eq!(parse_retry_after("3", SystemTime::now()), Ok(Duration::from_secs(3)));
/// assert!(parse_retry_after("soon", SystemTime::now()).is_err());
/// ```
pub fn parse_retry_after(value: &str, now: SystemTime) -> Result<Duration, String> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>()
        && let Ok(d) = Duration::try_from_secs_f64(secs)
    {
        return Ok(d);
    }
    match httpdate::parse_http_date(value) {
        Ok(when) => Ok(when.duration_since(now).unwrap_or(Duration::ZERO)),
        Err(_) => Err(value.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_bounds() {
        let p = RetryPolicy::default();
        for retry in 1..=4u32 {
            let full = Duration::from_secs(2u64 << (retry - 1));
            for _ in 0..50 {
                let d = p.delay(retry);
                assert!(d >= full / 2 && d <= full, "retry {retry}: {d:?}");
            }
        }
    }

    #[test]
    fn backoff_is_capped() {
        let p = RetryPolicy::default()
            .jitter(false)
            .max_delay(Duration::from_secs(5));
        assert_eq!(p.delay(30), Duration::from_secs(5));
        assert_eq!(p.delay(u32::MAX), Duration::from_secs(5));
        assert_eq!(p.delay(1), Duration::from_secs(2));
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        assert_eq!(parse_retry_after(" 7 ", now), Ok(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Ok(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Ok(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("-1", now), Err("-1".to_owned()));
        assert_eq!(
            parse_retry_after("tomorrow", now),
            Err("tomorrow".to_owned())
        );
        assert!(parse_retry_after("1e400", now).is_err());
    }
}
