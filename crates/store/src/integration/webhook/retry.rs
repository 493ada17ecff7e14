//! Step 5 — **decide**: what an attempt's answer means for its delivery.
//!
//! At-least-once delivery means retrying until the receiver says 2xx, but
//! *how* matters as much as *whether*:
//!
//! * `2xx` — delivered. `410 Gone` — the receiver asks to be left alone:
//!   the endpoint is disabled (its queue waits for it to be enabled again).
//!   A redirect is a failure: it is never followed (see `endpoints`).
//! * Anything else is retried on the schedule, a `platform::Backoff` —
//!   1 s, 5 s, 30 s, 2 min, 10 min by default (`WEBHOOK_RETRY_SCHEDULE`):
//!   a receiver that is briefly down gets a quick second chance, one that
//!   is really down room to recover. **Jitter** adds a random fraction to
//!   each delay, so a thousand deliveries that failed in the same second do
//!   not all retry in the same second (the "thundering herd").
//! * **`Retry-After`** on a 429 or 503 is the receiver saying when it
//!   expects to be ready. It can **lengthen** a wait, never shorten the
//!   schedule: the store waits the longer of the two (and never longer
//!   than [`MAX_RETRY_AFTER`], so a typo on their side cannot park a
//!   message for a year). Letting it shorten the wait would be the bug: a
//!   receiver that is down for a minute and answers every attempt with
//!   `Retry-After: 5` would have the whole schedule spent in 25 seconds,
//!   and the message given up while the outage it was meant to outlast
//!   had barely begun. The schedule is how long we are prepared to wait;
//!   the header only says "not before".
//!
//! After the last scheduled retry fails the delivery is `failed` and stays
//! visible — on the order's page and in the delivery log — where a person
//! can redeliver it. Stripe retries for three days and Svix for about 27
//! hours; the demo's schedule (about 13 minutes in all) is short enough to
//! watch and long enough for a coffee break.

use std::time::Duration;

use contract::Timestamp;
use platform::backoff::with_jitter;
use platform::outbound::Recorded;

use crate::config::WebhookSettings;

/// The longest `Retry-After` we honour; beyond it, this long.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60 * 60);

/// What to do with a delivery after an attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Succeeded,
    /// `410 Gone`: disable the endpoint; the delivery waits for it.
    EndpointGone,
    /// Try again at this time.
    RetryAt {
        at: Timestamp,
        why: String,
    },
    /// The schedule is exhausted.
    GiveUp {
        why: String,
    },
}

impl Decision {
    /// The word the `store_webhook_attempts` metric counts it under.
    pub fn outcome(&self) -> &'static str {
        match self {
            Decision::Succeeded => "succeeded",
            Decision::EndpointGone => "gone",
            Decision::RetryAt { .. } => "retry",
            Decision::GiveUp { .. } => "failed",
        }
    }
}

/// Applies the retry policy to an attempt's result. `failures` counts this
/// failure too; `jitter_unit` is a uniform sample from [0, 1).
pub fn decide(
    rec: &Recorded,
    failures: u32,
    now: Timestamp,
    settings: &WebhookSettings,
    jitter_unit: f64,
) -> Decision {
    let why = match rec.status() {
        Some(s) if (200..300).contains(&s) => return Decision::Succeeded,
        Some(410) => return Decision::EndpointGone,
        Some(s) => format!("answered {s}"),
        None => rec.error().unwrap_or("no answer").to_owned(),
    };
    let schedule = &settings.retry_schedule;
    let Some(scheduled) = schedule.delay_after(failures) else {
        let attempts = schedule.max_attempts().unwrap_or(failures);
        return Decision::GiveUp {
            why: format!("{why}; gave up after {attempts} attempts"),
        };
    };
    // The receiver's word on when to come back may make us wait longer
    // than the schedule, never shorter.
    let told = match rec.status() {
        Some(429 | 503) => rec
            .response_header("retry-after")
            .and_then(|v| parse_retry_after(v, now)),
        _ => None,
    };
    let planned = with_jitter(scheduled, settings.jitter, jitter_unit);
    let delay = told.map_or(planned, |told| told.max(planned));
    Decision::RetryAt {
        at: now + delay,
        why,
    }
}

/// Reads a `Retry-After` value — delta-seconds or an HTTP date — relative to
/// `now`. Returns `None` for anything unreadable or in the past.
pub fn parse_retry_after(value: &str, now: Timestamp) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let at = Timestamp(at.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as i64);
    (at > now).then(|| at.since(now).min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use platform::outbound::Outcome;

    fn rec(status: Option<u16>, headers: Vec<(&str, &str)>) -> Recorded {
        Recorded {
            method: "POST".into(),
            url: "http://x/".into(),
            request_headers: vec![],
            request_body: String::new(),
            started_at_ms: 0,
            latency: Duration::ZERO,
            outcome: match status {
                Some(status) => Outcome::Response {
                    status,
                    headers: headers
                        .into_iter()
                        .map(|(a, b)| (a.into(), b.into()))
                        .collect(),
                    body: Bytes::new(),
                },
                None => Outcome::Failed {
                    kind: platform::outbound::Failure::Unreachable,
                    error: "could not connect: refused".into(),
                },
            },
        }
    }

    fn settings() -> WebhookSettings {
        WebhookSettings {
            jitter: 0.0,
            ..WebhookSettings::default()
        }
    }

    fn at(ms: i64) -> Timestamp {
        Timestamp(ms)
    }

    #[test]
    fn the_default_schedule_is_the_documented_one() {
        let s = settings().retry_schedule;
        assert_eq!(s.to_string(), "1s,5s,30s,2m,10m");
        assert_eq!(s.max_attempts(), Some(6));
    }

    #[test]
    fn success_and_gone_are_final() {
        assert_eq!(
            decide(&rec(Some(204), vec![]), 0, at(0), &settings(), 0.0),
            Decision::Succeeded
        );
        assert_eq!(
            decide(&rec(Some(410), vec![]), 1, at(0), &settings(), 0.0),
            Decision::EndpointGone
        );
    }

    #[test]
    fn failures_follow_the_schedule_then_give_up() {
        let s = settings();
        let expected = [1_000, 5_000, 30_000, 120_000, 600_000];
        for (i, ms) in expected.iter().enumerate() {
            match decide(&rec(Some(500), vec![]), i as u32 + 1, at(10), &s, 0.0) {
                Decision::RetryAt { at, .. } => assert_eq!(at.millis(), 10 + ms),
                other => panic!("{other:?}"),
            }
        }
        match decide(&rec(None, vec![]), 6, at(0), &s, 0.0) {
            Decision::GiveUp { why } => assert!(why.ends_with("gave up after 6 attempts"), "{why}"),
            other => panic!("{other:?}"),
        }
        // Redirects count as failures: they are not followed.
        assert!(matches!(
            decide(&rec(Some(302), vec![]), 1, at(0), &s, 0.0),
            Decision::RetryAt { .. }
        ));
    }

    #[test]
    fn retry_after_lengthens_the_wait_on_429_and_503_only() {
        let s = settings();
        let ra = vec![("retry-after", "42")];
        assert_eq!(
            decide(&rec(Some(429), ra.clone()), 1, at(0), &s, 0.0),
            Decision::RetryAt {
                at: at(42_000),
                why: "answered 429".into()
            }
        );
        assert_eq!(
            decide(&rec(Some(503), ra.clone()), 1, at(0), &s, 0.0),
            Decision::RetryAt {
                at: at(42_000),
                why: "answered 503".into()
            }
        );
        assert!(matches!(
            decide(&rec(Some(500), ra), 1, at(0), &s, 0.0),
            Decision::RetryAt { at, .. } if at.millis() == 1_000
        ));
    }

    #[test]
    fn retry_after_never_shortens_the_schedule() {
        // "Down" answers 503 with Retry-After: 5. The first wait grows to
        // five seconds; from the third failure on, the schedule is longer
        // and wins — so an outage of a minute does not use up every attempt.
        let s = settings();
        let down = vec![("retry-after", "5")];
        let waits: Vec<i64> = (1..=5)
            .map(
                |failures| match decide(&rec(Some(503), down.clone()), failures, at(0), &s, 0.0) {
                    Decision::RetryAt { at, .. } => at.millis(),
                    other => panic!("{other:?}"),
                },
            )
            .collect();
        assert_eq!(waits, [5_000, 5_000, 30_000, 120_000, 600_000]);
        // The schedule still runs out: Retry-After does not extend it.
        assert!(matches!(
            decide(&rec(Some(503), down), 6, at(0), &s, 0.0),
            Decision::GiveUp { .. }
        ));
        // A jittered delay that is already longer than Retry-After stands.
        let jittery = WebhookSettings {
            jitter: 0.5,
            ..WebhookSettings::default()
        };
        match decide(
            &rec(Some(429), vec![("retry-after", "31")]),
            3,
            at(0),
            &jittery,
            0.5,
        ) {
            Decision::RetryAt { at, .. } => assert_eq!(at.millis(), 37_500),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn jitter_spreads_retries() {
        let s = WebhookSettings {
            jitter: 0.5,
            ..WebhookSettings::default()
        };
        match decide(&rec(Some(500), vec![]), 2, at(0), &s, 0.5) {
            Decision::RetryAt { at, .. } => assert_eq!(at.millis(), 6_250),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = at(1_700_000_000_000);
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
