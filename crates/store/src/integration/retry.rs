//! When to try a failed delivery again.
//!
//! At-least-once delivery means retrying until the receiver says 2xx, but
//! *how* matters as much as *whether*:
//!
//! * **Exponential backoff** — 1 s, 5 s, 30 s, 2 min, 10 min by default —
//!   gives a receiver that is briefly down a quick second chance and one
//!   that is really down room to recover, instead of hammering it.
//! * **Jitter** adds a random fraction to each delay, so a thousand
//!   deliveries that failed in the same second do not all retry in the same
//!   second (the "thundering herd" that keeps a recovering service down).
//! * **`Retry-After`** on a 429 or 503 is the receiver telling us exactly
//!   when to come back; it overrides the schedule (bounded, so a typo on
//!   their side cannot park a message for a year).
//!
//! After the last scheduled retry fails the message is marked failed and
//! stays visible in the delivery log, where a person can redeliver it.
//! Stripe retries for three days and Svix for about 27 hours; the demo's
//! schedule is short enough to watch.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// The longest `Retry-After` we honour; beyond it the schedule applies.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60 * 60);

/// Delays between attempts: `delays[0]` after the first failure, and so on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule {
    delays: Vec<Duration>,
}

impl RetrySchedule {
    pub fn new(delays: Vec<Duration>) -> RetrySchedule {
        RetrySchedule { delays }
    }

    /// 1 s, 5 s, 30 s, 2 min, 10 min: six attempts over about 13 minutes.
    pub fn demo_default() -> RetrySchedule {
        RetrySchedule::new(
            [1, 5, 30, 120, 600]
                .into_iter()
                .map(Duration::from_secs)
                .collect(),
        )
    }

    /// The delay before retry number `failures` (1 = after the first
    /// failure), or `None` when the schedule is exhausted.
    pub fn delay_after(&self, failures: u32) -> Option<Duration> {
        let index = usize::try_from(failures).ok()?.checked_sub(1)?;
        self.delays.get(index).copied()
    }

    /// Attempts in all: the first plus one per delay.
    pub fn max_attempts(&self) -> u32 {
        self.delays.len() as u32 + 1
    }

    pub fn delays(&self) -> &[Duration] {
        &self.delays
    }
}

impl fmt::Display for RetrySchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.delays.iter().map(|d| format_duration(*d)).collect();
        f.write_str(&parts.join(","))
    }
}

impl FromStr for RetrySchedule {
    type Err = String;

    /// `"1s,5s,30s,2m,10m"`; `ms`, `s`, `m` and `h` units; empty for
    /// "never retry".
    fn from_str(text: &str) -> Result<RetrySchedule, String> {
        let delays = text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(parse_duration)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(RetrySchedule::new(delays))
    }
}

/// `250ms`, `5s`, `2m`, `1h`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("`{text}` needs a unit: ms, s, m or h"))?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` does not start with a whole number"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        "h" => Ok(Duration::from_secs(n * 3600)),
        _ => Err(format!(
            "`{text}`: unknown unit `{unit}` (use ms, s, m or h)"
        )),
    }
}

pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(3_600_000) && ms > 0 {
        format!("{}h", ms / 3_600_000)
    } else if ms.is_multiple_of(60_000) && ms > 0 {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// `delay` plus a random extra of up to `jitter × delay`. `unit` is a
/// uniform sample from [0, 1): injected so tests can pin it.
pub fn with_jitter(delay: Duration, jitter: f64, unit: f64) -> Duration {
    let extra = delay.as_secs_f64() * jitter.clamp(0.0, 1.0) * unit.clamp(0.0, 1.0);
    delay + Duration::from_secs_f64(extra)
}

/// Reads a `Retry-After` value — delta-seconds or an HTTP date — relative to
/// `now_ms`. Returns `None` for anything unreadable or in the past.
pub fn parse_retry_after(value: &str, now_ms: i64) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let at_ms = at.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as i64;
    let wait = at_ms - now_ms;
    (wait > 0).then(|| Duration::from_millis(wait as u64).min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_schedule_is_the_documented_one() {
        let s = RetrySchedule::demo_default();
        assert_eq!(s.to_string(), "1s,5s,30s,2m,10m");
        assert_eq!(s.max_attempts(), 6);
        assert_eq!(s.delay_after(1), Some(Duration::from_secs(1)));
        assert_eq!(s.delay_after(5), Some(Duration::from_secs(600)));
        assert_eq!(s.delay_after(6), None);
        assert_eq!(s.delay_after(0), None);
    }

    #[test]
    fn schedules_parse_from_text() {
        let s: RetrySchedule = "250ms, 2s,1m,1h".parse().unwrap();
        assert_eq!(
            s.delays(),
            &[
                Duration::from_millis(250),
                Duration::from_secs(2),
                Duration::from_secs(60),
                Duration::from_secs(3600)
            ]
        );
        assert_eq!(s.to_string(), "250ms,2s,1m,1h");
        assert_eq!("".parse::<RetrySchedule>().unwrap().max_attempts(), 1);
        assert!("5".parse::<RetrySchedule>().is_err());
        assert!("5d".parse::<RetrySchedule>().is_err());
        assert!("x5s".parse::<RetrySchedule>().is_err());
    }

    #[test]
    fn jitter_only_ever_adds_and_stays_within_its_fraction() {
        let d = Duration::from_secs(10);
        assert_eq!(with_jitter(d, 0.2, 0.0), d);
        assert_eq!(with_jitter(d, 0.0, 0.99), d);
        let most = with_jitter(d, 0.2, 0.999_999);
        assert!(most > d && most < Duration::from_secs(12));
        assert_eq!(with_jitter(d, 0.2, 0.5), Duration::from_secs(11));
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = 1_700_000_000_000;
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        // 2023-11-14T22:13:20Z + 30 s
        assert_eq!(
            parse_retry_after("Tue, 14 Nov 2023 22:13:50 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Tue, 14 Nov 2023 22:13:10 GMT", now),
            None
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("999999999", now), Some(MAX_RETRY_AFTER));
    }
}
