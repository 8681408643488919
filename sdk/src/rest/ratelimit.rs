//! Slowing down before the server refuses: rate-limit headers and a shared request budget.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderMap;
use tokio::time::Instant;

/// What a response's rate-limit headers say: requests left and when the window resets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitHeaders {
    /// Requests left in the window.
    pub remaining: u64,
    /// Time until the window resets.
    pub reset: Duration,
}

impl RateLimitHeaders {
    /// Reads `X-RateLimit-Remaining`/`X-RateLimit-Reset` (reset in seconds, or a Unix time
    /// when it is larger than one year of seconds), the IETF draft's `RateLimit-Remaining`/
    /// `RateLimit-Reset`, or its combined `RateLimit: limit=100, remaining=5, reset=30`
    /// (also the structured form `"default";r=5;t=30`). `None` if absent or malformed.
    pub fn parse(headers: &HeaderMap, now: SystemTime) -> Option<Self> {
        let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        if let Some(combined) = get("ratelimit") {
            // A policy's window (`RateLimit-Policy: 100;w=60`) bounds a missing reset.
            let window = get("ratelimit-policy").and_then(policy_window);
            return parse_combined(combined, window);
        }
        let remaining = get("x-ratelimit-remaining").or_else(|| get("ratelimit-remaining"))?;
        let reset = get("x-ratelimit-reset").or_else(|| get("ratelimit-reset"))?;
        let remaining = remaining.trim().parse::<u64>().ok()?;
        let reset = reset.trim().parse::<f64>().ok().filter(|r| *r >= 0.0)?;
        let reset = if reset > 365.0 * 24.0 * 3600.0 {
            let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs_f64();
            (reset - now).max(0.0)
        } else {
            reset
        };
        Some(RateLimitHeaders {
            remaining,
            reset: Duration::try_from_secs_f64(reset).ok()?,
        })
    }

    /// How long to wait before the next request so the remaining requests spread over the
    /// window: the whole window when none are left, `reset / remaining` when fewer than
    /// `low_water` are left, nothing otherwise.
    pub fn pause(&self, low_water: u64) -> Duration {
        if self.remaining == 0 {
            self.reset
        } else if self.remaining < low_water {
            self.reset / u32::try_from(self.remaining).unwrap_or(u32::MAX)
        } else {
            Duration::ZERO
        }
    }
}

/// The window (`w=`) of the first policy in a `RateLimit-Policy` header, in seconds.
fn policy_window(value: &str) -> Option<u64> {
    value
        .split([',', ';'])
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("w"))
        .and_then(|(_, v)| v.trim().parse().ok())
}

fn parse_combined(value: &str, window: Option<u64>) -> Option<RateLimitHeaders> {
    let mut remaining = None;
    let mut reset = None;
    for part in value.split([',', ';']) {
        let Some((key, val)) = part.split_once('=') else {
            continue;
        };
        let val = val.trim().trim_matches('"');
        match key.trim().to_ascii_lowercase().as_str() {
            "remaining" | "r" => remaining = val.parse::<u64>().ok(),
            "reset" | "t" => reset = val.parse::<u64>().ok(),
            _ => {}
        }
    }
    Some(RateLimitHeaders {
        remaining: remaining?,
        reset: Duration::from_secs(reset.or(window)?),
    })
}

/// The longest pause rate-limit headers can cause (a longer reset is likely a misread clock).
const MAX_PAUSE: Duration = Duration::from_secs(3600);

/// The earliest time the next request may go out, shared by all clones of a client.
#[derive(Debug, Clone, Default)]
pub(crate) struct Gate {
    not_before: Arc<Mutex<Option<Instant>>>,
}

impl Gate {
    /// Pushes the gate to `now + pause` (never earlier than it is).
    pub(crate) fn hold_for(&self, pause: Duration) {
        if pause.is_zero() {
            return;
        }
        if pause > MAX_PAUSE {
            tracing::warn!(
                seconds = pause.as_secs(),
                "Rate-limit headers ask for a pause of over an hour; pausing for an hour."
            );
        }
        let Some(until) = Instant::now().checked_add(pause.min(MAX_PAUSE)) else {
            return;
        };
        let mut guard = self.not_before.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none_or(|t| t < until) {
            *guard = Some(until);
        }
    }

    /// Waits until the gate opens. Returns whether it had to wait.
    pub(crate) async fn wait(&self) -> bool {
        let until = *self.not_before.lock().unwrap_or_else(|e| e.into_inner());
        match until {
            Some(t) if t > Instant::now() => {
                tokio::time::sleep_until(t).await;
                true
            }
            _ => false,
        }
    }
}

/// A request budget (a token bucket on tokio time), shared by every clone.
///
/// ```
/// use singer_sdk::rest::Budget;
/// let budget = Budget::per_minute(600); // 10 requests a second, bursts of up to 600
/// let same = budget.clone(); // shares the same bucket
/// # drop(same);
/// ```
#[derive(Debug, Clone)]
pub struct Budget {
    bucket: Arc<Mutex<Bucket>>,
}

#[derive(Debug)]
struct Bucket {
    capacity: f64,
    tokens: f64,
    per_second: f64,
    updated: Instant,
}

impl Budget {
    /// `requests` per `period`, with bursts of up to `requests` (at least one request).
    pub fn new(requests: u32, period: Duration) -> Self {
        let capacity = f64::from(requests.max(1));
        let per_second = capacity / period.as_secs_f64().max(1e-3);
        Budget {
            bucket: Arc::new(Mutex::new(Bucket {
                capacity,
                tokens: capacity,
                per_second,
                updated: Instant::now(),
            })),
        }
    }

    /// `requests` per second.
    pub fn per_second(requests: u32) -> Self {
        Self::new(requests, Duration::from_secs(1))
    }

    /// `requests` per minute.
    pub fn per_minute(requests: u32) -> Self {
        Self::new(requests, Duration::from_secs(60))
    }

    /// Takes one request from the budget, waiting for it if needed. Returns whether it waited.
    pub async fn acquire(&self) -> bool {
        let wait = {
            let mut b = self.bucket.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let refill = now.duration_since(b.updated).as_secs_f64() * b.per_second;
            b.tokens = (b.tokens + refill).min(b.capacity);
            b.updated = now;
            // Take the token now (possibly going negative), so concurrent callers queue up.
            b.tokens -= 1.0;
            if b.tokens >= 0.0 {
                Duration::ZERO
            } else {
                Duration::from_secs_f64(-b.tokens / b.per_second)
            }
        };
        if wait.is_zero() {
            false
        } else {
            tokio::time::sleep(wait).await;
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn reads_x_ratelimit_with_delta_and_epoch() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let h = headers(&[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "12")]);
        let rl = RateLimitHeaders::parse(&h, now).unwrap();
        assert_eq!(rl.remaining, 0);
        assert_eq!(rl.reset, Duration::from_secs(12));
        let h = headers(&[
            ("x-ratelimit-remaining", "3"),
            ("x-ratelimit-reset", "1700000030"),
        ]);
        assert_eq!(
            RateLimitHeaders::parse(&h, now).unwrap().reset,
            Duration::from_secs(30)
        );
    }

    #[test]
    fn reads_ietf_forms() {
        let now = SystemTime::now();
        let h = headers(&[("ratelimit", "limit=100, remaining=4, reset=20")]);
        assert_eq!(
            RateLimitHeaders::parse(&h, now),
            Some(RateLimitHeaders {
                remaining: 4,
                reset: Duration::from_secs(20)
            })
        );
        let h = headers(&[("ratelimit", "\"default\";r=0;t=9")]);
        assert_eq!(RateLimitHeaders::parse(&h, now).unwrap().remaining, 0);
        let h = headers(&[
            ("ratelimit", "remaining=0"),
            ("ratelimit-policy", "100;w=60"),
        ]);
        assert_eq!(
            RateLimitHeaders::parse(&h, now).unwrap().reset,
            Duration::from_secs(60)
        );
        let h = headers(&[("ratelimit-remaining", "1"), ("ratelimit-reset", "2")]);
        assert_eq!(RateLimitHeaders::parse(&h, now).unwrap().remaining, 1);
    }

    #[test]
    fn malformed_is_none() {
        let now = SystemTime::now();
        assert!(
            RateLimitHeaders::parse(
                &headers(&[("x-ratelimit-remaining", "x"), ("x-ratelimit-reset", "1")]),
                now
            )
            .is_none()
        );
        assert!(RateLimitHeaders::parse(&headers(&[("ratelimit", "garbage")]), now).is_none());
        assert!(RateLimitHeaders::parse(&HeaderMap::new(), now).is_none());
    }

    #[test]
    fn pause_spreads_the_rest_of_the_window() {
        let rl = |remaining| RateLimitHeaders {
            remaining,
            reset: Duration::from_secs(10),
        };
        assert_eq!(rl(0).pause(5), Duration::from_secs(10));
        assert_eq!(rl(2).pause(5), Duration::from_secs(5));
        assert_eq!(rl(50).pause(5), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn budget_waits_once_the_burst_is_spent() {
        let budget = Budget::per_second(2);
        let other = budget.clone();
        assert!(!budget.acquire().await);
        assert!(!other.acquire().await);
        assert!(
            budget.acquire().await,
            "third request within the second must wait"
        );
    }
}
