//! [`DateWindows`]: walking an incremental API in date slices, for APIs that cap how far one
//! request may reach (or time out on a long range).

use chrono::{DateTime, Duration, FixedOffset, Utc};

use super::request::Request;

/// Date windows from the sync's starting value (the bookmark, or `start_date`) to now: one
/// paginated request per window, each with its start and end as query parameters.
///
/// ```
/// use chrono::{Duration, TimeZone, Utc};
/// use singer_sdk::rest::DateWindows;
///
/// let windows = DateWindows::new("from", "to", Duration::days(7))
///     .lookback(Duration::hours(1))
///     .until(Utc.with_ymd_and_hms(2024, 1, 15, 0, 0, 0).unwrap());
/// let start = Utc.with_ymd_and_hms(2024, 1, 1, 1, 0, 0).unwrap();
/// let slices = windows.slices(start);
/// assert_eq!(slices.len(), 2);
/// assert_eq!(slices[0].0, Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap());
/// assert_eq!(slices[1].1, Utc.with_ymd_and_hms(2024, 1, 15, 0, 0, 0).unwrap());
/// ```
#[derive(Debug, Clone)]
pub struct DateWindows {
    start_param: String,
    end_param: String,
    step: Duration,
    lookback: Duration,
    format: String,
    until: Option<DateTime<Utc>>,
}

impl DateWindows {
    /// Windows of `step`, their bounds sent as `start_param` and `end_param`.
    pub fn new(
        start_param: impl Into<String>,
        end_param: impl Into<String>,
        step: Duration,
    ) -> Self {
        DateWindows {
            start_param: start_param.into(),
            end_param: end_param.into(),
            step,
            lookback: Duration::zero(),
            format: "%Y-%m-%dT%H:%M:%SZ".to_owned(),
            until: None,
        }
    }

    /// Starts this much before the starting value, for records that arrive late.
    #[must_use]
    pub fn lookback(mut self, lookback: Duration) -> Self {
        self.lookback = lookback;
        self
    }

    /// How bounds are written (`strftime` codes, in UTC; default `%Y-%m-%dT%H:%M:%SZ`).
    #[must_use]
    pub fn format(mut self, format: impl Into<String>) -> Self {
        self.format = format.into();
        self
    }

    /// Ends the last window here instead of at the sync's start.
    #[must_use]
    pub fn until(mut self, end: DateTime<Utc>) -> Self {
        self.until = Some(end);
        self
    }

    /// The windows from `start` (less the lookback) to the end, each `[start, end)`.
    #[must_use]
    pub fn slices(&self, start: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        let end = self.until.unwrap_or_else(Utc::now);
        let step = if self.step <= Duration::zero() {
            Duration::days(1)
        } else {
            self.step
        };
        let mut slices = Vec::new();
        let mut from = start - self.lookback;
        while from < end {
            let to = (from + step).min(end);
            slices.push((from, to));
            from = to;
        }
        slices
    }

    /// One request per window, from `base`.
    pub(super) fn requests(
        &self,
        base: &Request,
        start: Option<DateTime<FixedOffset>>,
    ) -> Result<Vec<Request>, String> {
        let Some(start) = start else {
            return Err(
                "the stream walks date windows and needs a start: give it a date-time replication key and set `start_date` in the config"
                    .to_owned(),
            );
        };
        Ok(self
            .slices(start.with_timezone(&Utc))
            .into_iter()
            .map(|(from, to)| {
                base.clone()
                    .query(&self.start_param, from.format(&self.format))
                    .query(&self.end_param, to.format(&self.format))
            })
            .collect())
    }
}
