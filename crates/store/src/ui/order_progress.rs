//! The order page's answer to "where is my order?", in words, where the
//! learner is looking: for a webhook-mode order, each delivery of its
//! `order.created` — attempt n of m, when the next one leaves, or when the
//! store gave up, with a **Redeliver** button right there once it has; for
//! an api-mode order rejected without a clear answer, the void the store
//! owes the inventory, and why it keeps sending it.
//!
//! The same facts are in the settings page's delivery log, but a learner
//! who broke the inventory looks at the order, not at settings. Times are
//! written as clock times (UTC), not "in 2 min": the order page re-renders
//! only when something about the order happens, and a relative time would
//! go stale in between.
//!
//! Redeliver is a plain form (`POST`, to this same store, then `303` back
//! to the order: `super::order_actions`), so it works without JavaScript;
//! with it, the page's live region shows the new attempt as it lands.

use askama::Template;

use contract::{DeliveryId, DeliveryState, OrderId};
use platform::ui::{clock_time, count, date_time};

use super::Data;
use crate::error::StoreError;
use crate::integration::api::compensation::{self, OwedVoid, VOID_MAX_PAUSE};
use crate::integration::webhook::deliveries::{self, DeliveryFilter, DeliveryView};
use crate::timeline::ExchangeView;
use crate::vocabulary::{EndpointRole, Trigger, VoidState};

/// A time as the page writes it: `06:22:31 UTC`, with the full date for
/// `<time datetime>` and the tooltip.
pub struct ClockTime {
    pub short: String,
    pub full: String,
    pub at: contract::Timestamp,
}

impl ClockTime {
    fn at(t: contract::Timestamp) -> ClockTime {
        ClockTime {
            short: format!("{} UTC", clock_time(t.millis())),
            full: date_time(t.millis()),
            at: t,
        }
    }
}

/// One delivery of the order's event, told in words.
pub struct DeliveryProgress {
    pub id: DeliveryId,
    pub endpoint_url: String,
    pub state: DeliveryState,
    /// `retrying`, `sending`, `delivered`, `gave-up`, `waiting` or
    /// `cancelled`: finer than the state, for the page's colour and tests.
    pub phase: &'static str,
    /// The notice tone: `info`, `warning`, `error` or `success`.
    pub tone: &'static str,
    pub headline: String,
    pub detail: Option<String>,
    /// When the next attempt leaves, while one is scheduled.
    pub next: Option<ClockTime>,
    pub redeliverable: bool,
}

/// "answered 503 Service Unavailable", "got no answer (timed out)".
fn answer_of(attempt: &ExchangeView) -> String {
    match (attempt.response_status, &attempt.error) {
        (Some(s), _) => {
            let reason = u16::try_from(s)
                .ok()
                .and_then(|s| actix_web::http::StatusCode::from_u16(s).ok())
                .and_then(|s| s.canonical_reason())
                .unwrap_or("");
            format!("answered {s} {reason}").trim_end().to_owned()
        }
        (None, Some(e)) => format!("got no answer ({e})"),
        (None, None) => "got no answer".to_owned(),
    }
}

/// Where a delivery's current run of attempts stands — a redelivery by
/// hand restarts the schedule, so "attempt n of m" counts from the last
/// attempt someone asked for — and how its last attempt went.
struct Run {
    in_run: i64,
    by_hand: bool,
    max_attempts: Option<u32>,
    /// How the last attempt went: "answered 503 …", "got no answer (…)".
    why: String,
    /// " at 14:02:07" when the delivery ended.
    ended: String,
    gone: bool,
    /// This endpoint's answer decides the order (the inventory's
    /// receiver), and the order is still waiting for it.
    holds_up_the_order: bool,
    /// This endpoint only receives a copy: its answers change no order.
    observer: bool,
}

impl Run {
    fn of(d: &DeliveryView, max_attempts: Option<u32>, stake: Stake) -> Run {
        let run_start = d
            .attempt_log
            .iter()
            .rposition(|a| a.trigger == Some(Trigger::Manual))
            .unwrap_or(0);
        Run {
            in_run: (d.attempt_log.len() - run_start) as i64,
            by_hand: d
                .attempt_log
                .iter()
                .any(|a| a.trigger == Some(Trigger::Manual)),
            max_attempts,
            why: d.attempt_log.last().map(answer_of).unwrap_or_default(),
            ended: d
                .completed_at
                .map(|t| format!(" at {}", ClockTime::at(t).short))
                .unwrap_or_default(),
            gone: d.last_status == Some(410),
            holds_up_the_order: stake.decides && stake.order_pending,
            observer: !stake.decides,
        }
    }

    /// What this endpoint's trouble means for the order, said per
    /// endpoint: only the one that decides the order holds it up.
    fn for_the_order(&self) -> &'static str {
        if self.holds_up_the_order {
            "The order stays pending until an attempt gets through"
        } else if self.observer {
            "This endpoint only receives a copy and does not decide the order"
        } else {
            "The order has its answer already; this endpoint still gets its copy"
        }
    }

    /// "attempt 2 of 6".
    fn attempt(&self, n: i64) -> String {
        match self.max_attempts {
            Some(m) => format!("attempt {n} of {m}"),
            None => format!("attempt {n}"),
        }
    }

    /// The phase, tone, headline and detail of the delivery's box.
    fn describe(&self, d: &DeliveryView) -> (&'static str, &'static str, String, Option<String>) {
        let Run {
            in_run,
            by_hand,
            max_attempts,
            ref why,
            ref ended,
            gone,
            ..
        } = *self;
        let of = |n: i64| self.attempt(n);
        match d.state {
            DeliveryState::Succeeded => (
                "delivered",
                "success",
                format!(
                    "Delivered{ended}, on attempt {}{}.",
                    d.attempts,
                    if by_hand {
                        " (redelivered by hand)"
                    } else {
                        ""
                    }
                ),
                None,
            ),
            DeliveryState::Failed => (
                "gave-up",
                "error",
                format!(
                    "Gave up{ended} after {}: the last one {why}.",
                    count(in_run, "attempt")
                ),
                Some(format!(
                    "Nothing more is scheduled{}. Once the endpoint is back, redeliver it: the \
                         same message (same webhook-id), so a copy the receiver already has is \
                         recognised and not applied twice.",
                    if self.holds_up_the_order {
                        ", so the order stays pending"
                    } else {
                        " for this endpoint"
                    }
                )),
            ),
            DeliveryState::Cancelled => (
                "cancelled",
                "warning",
                "Cancelled: the endpoint was deleted before the message got through.".to_owned(),
                None,
            ),
            DeliveryState::Pending if gone => (
                "waiting",
                "warning",
                "The endpoint answered 410 Gone and was disabled.".to_owned(),
                Some(
                    "This delivery waits until the endpoint is enabled again in settings."
                        .to_owned(),
                ),
            ),
            DeliveryState::Pending if d.attempt_log.is_empty() => (
                "sending",
                "info",
                format!("Sending: {} leaves now.", of(1)),
                None,
            ),
            DeliveryState::Pending => (
                "retrying",
                "warning",
                format!("{} failed: it {why}.", capitalise(&of(in_run))),
                Some(match max_attempts {
                    Some(m) if in_run >= i64::from(m) => {
                        "A redelivery by hand is on its way.".to_owned()
                    }
                    _ => format!(
                        "{}; nobody needs to do anything — the store retries on its schedule, \
                             and waits longer if the receiver asks it to (Retry-After).",
                        self.for_the_order()
                    ),
                }),
            ),
        }
    }
}

/// What rides on one delivery for its order.
#[derive(Debug, Clone, Copy)]
pub struct Stake {
    /// The endpoint's answer resolves the order (`EndpointRole::Resolver`).
    pub decides: bool,
    pub order_pending: bool,
}

impl DeliveryProgress {
    /// `max_attempts`: what the retry schedule allows (None: no limit).
    pub fn of(d: &DeliveryView, max_attempts: Option<u32>, stake: Stake) -> DeliveryProgress {
        let (phase, tone, headline, detail) = Run::of(d, max_attempts, stake).describe(d);
        DeliveryProgress {
            id: d.id.clone(),
            endpoint_url: d.endpoint_url.clone(),
            state: d.state,
            phase,
            tone,
            headline,
            detail,
            next: (phase == "retrying")
                .then_some(d.next_attempt_at)
                .flatten()
                .map(ClockTime::at),
            redeliverable: d.state == DeliveryState::Failed,
        }
    }
}

/// The void the store owes the inventory for a rejected api order.
pub struct VoidProgress {
    /// `owed` or `done`.
    pub phase: &'static str,
    pub tone: &'static str,
    pub headline: String,
    pub detail: String,
    pub next: Option<ClockTime>,
}

impl VoidProgress {
    pub fn of(v: &OwedVoid) -> VoidProgress {
        let why_owed = "The store rejected this order without a clear answer from the inventory, \
                        so it does not know whether stock was reserved for it. It therefore tells \
                        the inventory to give back anything the order took (a void).";
        match v.state {
            VoidState::Done => VoidProgress {
                phase: "done",
                tone: "success",
                headline: format!(
                    "Void confirmed by the inventory{}: nothing this order took is kept.",
                    match v.attempts {
                        0 | 1 => String::new(),
                        n => format!(" on attempt {n}"),
                    }
                ),
                detail: why_owed.to_owned(),
                next: None,
            },
            VoidState::Pending if v.attempts == 0 => VoidProgress {
                phase: "owed",
                tone: "info",
                headline: "Sending a void to the inventory.".to_owned(),
                detail: why_owed.to_owned(),
                next: None,
            },
            VoidState::Pending => VoidProgress {
                phase: "owed",
                tone: "warning",
                headline: format!(
                    "{} failed{}.",
                    capitalise(&count(v.attempts, "void attempt")),
                    v.last_error
                        .as_deref()
                        .map(|e| format!(": {e}"))
                        .unwrap_or_default()
                ),
                detail: format!(
                    "{why_owed} It keeps trying until the inventory confirms — waiting longer after \
                     each failure, up to {} — because stock it may hold must be given back. Each \
                     attempt is one of the voids in the timeline below.",
                    spoken(VOID_MAX_PAUSE)
                ),
                next: Some(ClockTime::at(v.next_attempt_at)),
            },
        }
    }
}

/// "1 minute", "90 seconds".
fn spoken(d: std::time::Duration) -> String {
    let seconds = d.as_secs() as i64;
    if seconds % 60 == 0 {
        count(seconds / 60, "minute")
    } else {
        count(seconds, "second")
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Everything the order page says about how the order is getting through.
#[derive(Template)]
#[template(path = "store/fragments/order_progress.html")]
pub struct OrderProgress {
    pub order_id: OrderId,
    pub deliveries: Vec<DeliveryProgress>,
    pub void: Option<VoidProgress>,
}

impl askama::filters::HtmlSafe for OrderProgress {}

impl OrderProgress {
    pub async fn load(
        app: &Data,
        order_id: &OrderId,
        order_pending: bool,
    ) -> Result<OrderProgress, StoreError> {
        let max_attempts = app.ctx.config.webhook.retry_schedule.max_attempts();
        let deliveries = deliveries::list(
            &app.webhooks,
            DeliveryFilter {
                order_id: Some(order_id.to_string()),
                limit: Some(deliveries::MAX_LIMIT),
                ..DeliveryFilter::default()
            },
        )
        .await?
        .iter()
        .rev() // oldest first, as the timeline
        .map(|d| {
            let stake = Stake {
                decides: app.webhooks.resolver.role_of(&d.endpoint_url) == EndpointRole::Resolver,
                order_pending,
            };
            DeliveryProgress::of(d, max_attempts, stake)
        })
        .collect();
        let void = compensation::owed_void(&app.ctx.db, order_id)
            .await?
            .map(|v| VoidProgress::of(&v));
        Ok(OrderProgress {
            order_id: order_id.clone(),
            deliveries,
            void,
        })
    }

    /// The soonest attempt scheduled — a delivery's retry or the void's —
    /// for the diagram's pending row.
    pub fn next_attempt(&self) -> Option<contract::Timestamp> {
        self.deliveries
            .iter()
            .filter_map(|d| d.next.as_ref())
            .chain(self.void.as_ref().and_then(|v| v.next.as_ref()))
            .map(|n| n.at)
            .min()
    }

    pub fn is_empty(&self) -> bool {
        self.deliveries.is_empty() && self.void.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_as_words() {
        assert_eq!(capitalise("attempt 2 of 6"), "Attempt 2 of 6");
        assert_eq!(spoken(std::time::Duration::from_secs(60)), "1 minute");
        assert_eq!(spoken(std::time::Duration::from_secs(90)), "90 seconds");
    }
}
