//! How long to wait before trying again — one type for every component
//! that retries: webhook deliveries, the api call and its voids, the
//! poller, the inventory's subscription, a failing worker pass.
//!
//! Two shapes cover them all:
//!
//! * an explicit **schedule** — `1s,5s,30s,2m,10m` for webhooks, the way
//!   Stripe and Svix publish theirs — which ends: after the last delay the
//!   caller gives up (and, for webhooks, a person may redeliver);
//! * **exponential** — `first`, doubling, capped at `max` — for things that
//!   must keep trying until they succeed (a void the store owes; a poller
//!   whose store is down), optionally limited to a number of retries (the
//!   api call, where a customer is waiting).
//!
//! **Jitter** adds a random fraction to a delay so that many failures from
//! the same second do not all come back in the same second (the
//! "thundering herd" that keeps a recovering service down). The random
//! sample is a parameter, so tests pin it.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// When to try again after `failures` consecutive failures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backoff {
    /// `delays[0]` after the first failure, and so on; then give up.
    Schedule(Vec<Duration>),
    /// `first`, `2 × first`, `4 × first` … never more than `max`; after
    /// `retries` retries give up (`None`: never give up).
    Exponential {
        first: Duration,
        max: Duration,
        retries: Option<u32>,
    },
}

impl Backoff {
    /// Doubling from `first` up to `max`, for ever.
    pub fn exponential(first: Duration, max: Duration) -> Backoff {
        Backoff::Exponential {
            first,
            max,
            retries: None,
        }
    }

    /// The same, giving up after `retries` retries.
    pub fn limited_to(self, retries: u32) -> Backoff {
        match self {
            Backoff::Exponential { first, max, .. } => Backoff::Exponential {
                first,
                max,
                retries: Some(retries),
            },
            Backoff::Schedule(mut delays) => {
                delays.truncate(retries as usize);
                Backoff::Schedule(delays)
            }
        }
    }

    /// The pause before the next try after `failures` failures in a row
    /// (1 = the first try failed), or `None` when it is time to give up.
    pub fn delay_after(&self, failures: u32) -> Option<Duration> {
        let index = failures.checked_sub(1)?;
        match self {
            Backoff::Schedule(delays) => delays.get(index as usize).copied(),
            Backoff::Exponential {
                first,
                max,
                retries,
            } => {
                if retries.is_some_and(|r| index >= r) {
                    return None;
                }
                let factor = 2u32.saturating_pow(index.min(31));
                Some(first.saturating_mul(factor).min(*max))
            }
        }
    }

    /// Tries in all — the first plus one per retry — or `None` for ever.
    pub fn max_attempts(&self) -> Option<u32> {
        match self {
            Backoff::Schedule(delays) => Some(delays.len() as u32 + 1),
            Backoff::Exponential { retries, .. } => retries.map(|r| r + 1),
        }
    }

    /// The sum of every wait before giving up (`None` when it never does).
    pub fn total(&self) -> Option<Duration> {
        let attempts = self.max_attempts()?;
        Some((1..attempts).filter_map(|f| self.delay_after(f)).sum())
    }
}

/// `delay` plus a random extra of up to `fraction × delay`. `unit` is a
/// uniform sample from [0, 1), injected so tests can pin it.
pub fn with_jitter(delay: Duration, fraction: f64, unit: f64) -> Duration {
    let extra = delay.as_secs_f64() * fraction.clamp(0.0, 1.0) * unit.clamp(0.0, 1.0);
    delay + Duration::from_secs_f64(extra)
}

impl fmt::Display for Backoff {
    /// A schedule as `1s,5s,30s,2m,10m`; exponential as `1s..60s` (and
    /// `×N` when limited).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Backoff::Schedule(delays) => {
                let parts: Vec<String> = delays
                    .iter()
                    .map(|d| humantime::format_duration(*d).to_string())
                    .collect();
                f.write_str(&parts.join(","))
            }
            Backoff::Exponential {
                first,
                max,
                retries,
            } => {
                write!(
                    f,
                    "{}..{}",
                    humantime::format_duration(*first),
                    humantime::format_duration(*max)
                )?;
                if let Some(r) = retries {
                    write!(f, "×{r}")?;
                }
                Ok(())
            }
        }
    }
}

impl FromStr for Backoff {
    type Err = String;

    /// A schedule: comma-separated durations (`250ms, 2s, 1m, 1h`); empty
    /// for "never retry".
    fn from_str(text: &str) -> Result<Backoff, String> {
        text.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(parse_duration)
            .collect::<Result<Vec<_>, _>>()
            .map(Backoff::Schedule)
    }
}

/// `250ms`, `5s`, `2m`, `1h 30m` — a duration as people write one.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim()).map_err(|e| format!("`{}`: {e}", text.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn a_schedule_ends() {
        let s: Backoff = "1s,5s,30s,2m,10m".parse().unwrap();
        assert_eq!(s.to_string(), "1s,5s,30s,2m,10m");
        assert_eq!(s.max_attempts(), Some(6));
        assert_eq!(s.delay_after(0), None);
        assert_eq!(s.delay_after(1), Some(secs(1)));
        assert_eq!(s.delay_after(5), Some(secs(600)));
        assert_eq!(s.delay_after(6), None);
        assert_eq!(s.total(), Some(secs(1 + 5 + 30 + 120 + 600)));
    }

    #[test]
    fn schedules_parse_from_text() {
        let s: Backoff = "250ms, 2s,1m,1h".parse().unwrap();
        assert_eq!(
            s,
            Backoff::Schedule(vec![
                Duration::from_millis(250),
                secs(2),
                secs(60),
                secs(3600)
            ])
        );
        assert_eq!(s.to_string(), "250ms,2s,1m,1h");
        assert_eq!("".parse::<Backoff>().unwrap().max_attempts(), Some(1));
        assert!("5".parse::<Backoff>().is_err());
        assert!("5 parsecs".parse::<Backoff>().is_err());
        assert!("x5s".parse::<Backoff>().is_err());
    }

    #[test]
    fn exponential_doubles_up_to_its_cap() {
        let b = Backoff::exponential(secs(1), secs(60));
        let waits: Vec<u64> = (1..=8)
            .map(|f| b.delay_after(f).unwrap().as_secs())
            .collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(b.delay_after(1_000), Some(secs(60)));
        assert_eq!(b.max_attempts(), None);
        assert_eq!(b.total(), None);

        let limited = Backoff::exponential(Duration::from_millis(200), secs(5)).limited_to(2);
        assert_eq!(limited.delay_after(1), Some(Duration::from_millis(200)));
        assert_eq!(limited.delay_after(2), Some(Duration::from_millis(400)));
        assert_eq!(limited.delay_after(3), None);
        assert_eq!(limited.max_attempts(), Some(3));
        assert_eq!(limited.total(), Some(Duration::from_millis(600)));
    }

    #[test]
    fn jitter_only_ever_adds_and_stays_within_its_fraction() {
        let d = secs(10);
        assert_eq!(with_jitter(d, 0.2, 0.0), d);
        assert_eq!(with_jitter(d, 0.0, 0.99), d);
        let most = with_jitter(d, 0.2, 0.999_999);
        assert!(most > d && most < secs(12));
        assert_eq!(with_jitter(d, 0.2, 0.5), secs(11));
    }
}
