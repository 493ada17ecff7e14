//! **poll mode — pull, initiated by the inventory.** The poller.
//!
//! Every `interval` the inventory asks the store "anything after my
//! cursor?" and works through the answer page by page, in four steps that
//! [`poll_cycle`] reads in order:
//!
//! 1. **read a page** — `GET /api/orders?after=CURSOR&limit=N` with its API
//!    key ([`read_page`]);
//! 2. **apply** the orders placed in poll mode, through the same
//!    `apply_orders_once` as the other channels — the whole page in one
//!    transaction — so an order seen twice is applied once ([`apply_page`]);
//! 3. **acknowledge** each: tell the store what was done with it
//!    (`POST /api/orders/{id}/acknowledgement`, [`acknowledge`]) — all of
//!    a page's at once;
//! 4. **advance**: only then save the page's `iterator` as the new cursor
//!    ([`cursor::advance`]), and follow it until the feed says `done`.
//!
//! That ordering is the whole reliability story of a consumer: **apply,
//! acknowledge, then advance**. A crash before the cursor is saved means
//! the page is read again after the restart — harmless, because applying is
//! idempotent. Saving the cursor first would be the bug: a crash between
//! "cursor saved" and "order applied" loses the order for good.
//!
//! What pull costs, and what the UI counts (`crate::instruments::poll_cost`):
//! every poll is a request, most find nothing ("empty polls"), and an order
//! waits up to one interval before anyone looks at it (the "delay" on the
//! compare page). What it buys: the store needs no outbox, no retries, no
//! endpoint registry, and the inventory works at its own pace — if it is
//! down, orders simply wait in the feed. When the store is unreachable the
//! poller backs off (doubling up to `max_backoff`) instead of hammering it.
//! It can be paused and resumed at run time, and told to poll now.

pub mod cursor;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow};
use secrecy::ExposeSecret;
use serde::Serialize;

use contract::inventory::Acknowledgement;
use contract::order::{FeedPage, Order};
use contract::{ApplyOutcome, Channel, IntegrationMode, OrderId, Verdict, VerdictKind};
use platform::Backoff;
use platform::outbound::{Recorded, send_recorded};
use platform::ui::count;
use platform::worker::{Next, Pacing, Worker};

use super::apply::OrderToApply;
use super::intake::{Arrival, IntakeError, Taken};
use crate::instruments::messages::{self, NewMessage};
use crate::state::AppState;
use crate::stock::Quantities;

/// What one poll cycle did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct CycleReport {
    pub requests: u32,
    pub empty_requests: u32,
    pub orders_seen: u32,
    pub orders_applied: u32,
}

/// Reads the feed from the saved cursor until `done`: read a page, apply
/// and acknowledge its poll-mode orders, then advance the cursor.
pub async fn poll_cycle(app: &AppState) -> anyhow::Result<CycleReport> {
    let mut report = CycleReport::default();
    let mut cursor = cursor::load(app).await?.cursor;
    loop {
        app.chaos.gate().await?;

        // 1. Read a page.
        let (page, rec) = read_page(app, &cursor).await?;
        report.requests += 1;

        // 2-3. Apply each poll-mode order once, and acknowledge it.
        let tally = apply_page(app, &page).await?;
        let applied = tally.first_time();
        report.orders_seen += page.data.len() as u32;
        report.orders_applied += applied;
        if applied == 0 {
            report.empty_requests += 1;
            app.metrics.empty_polls.inc();
        }
        let only_order = match poll_mode_orders(&page).as_slice() {
            [one] => Some(one.id.clone()),
            _ => None,
        };
        let verdict = page_verdict(page.data.len(), tally);
        messages::record_quietly(
            &app.log,
            &app.live,
            NewMessage::sent(Channel::Feed, &rec, verdict).about(only_order),
        )
        .await;

        // 4. Only now, with every order applied and acknowledged, advance.
        cursor::advance(app, &page.iterator, app.clock.now()).await?;
        cursor = page.iterator;
        if page.done {
            break;
        }
    }
    app.live
        .publish(contract::LiveEventKind::PollCompleted, &report);
    // One line per poll, whoever asked for it (the timer, "poll now"):
    // most say `orders_applied=0`, which is what polling costs.
    tracing::info!(
        requests = report.requests,
        empty_requests = report.empty_requests,
        orders_seen = report.orders_seen,
        orders_applied = report.orders_applied,
        "polled the store's feed"
    );
    Ok(report)
}

/// Asks the store for the page after `cursor`. A failed or unreadable
/// answer is logged here and ends the cycle.
async fn read_page(app: &AppState, cursor: &str) -> anyhow::Result<(FeedPage, Recorded)> {
    let store = app.config.store_url.trim_end_matches('/');
    let mut url = format!("{store}/api/orders?limit={}", app.config.poll.page_size);
    if !cursor.is_empty() {
        url.push_str("&after=");
        url.push_str(cursor);
    }
    let request = app
        .client
        .get(&url)
        .bearer_auth(app.config.store_api_key.expose_secret())
        .header(reqwest::header::ACCEPT, "application/json")
        .build()?;
    let rec = send_recorded(&app.client, request, app.clock.now().millis()).await;
    app.metrics.polls.inc();

    let page = match rec.status() {
        Some(200) => contract::json::from_slice::<FeedPage>(
            rec.body().map(|b| b.as_ref()).unwrap_or_default(),
        )
        .map_err(|e| format!("unreadable feed page: {e}")),
        Some(status) => Err(format!("the store answered {status}")),
        None => Err(rec.error().unwrap_or("no answer").to_owned()),
    };
    match page {
        Ok(page) => Ok((page, rec)),
        Err(why) => {
            let verdict = Verdict::with_detail(VerdictKind::Failed, why.clone());
            messages::record_quietly(
                &app.log,
                &app.live,
                NewMessage::sent(Channel::Feed, &rec, verdict),
            )
            .await;
            Err(anyhow!(why))
        }
    }
}

/// The orders on a page that are the poller's business: those placed in
/// poll mode (the others travel by their own mode's channel).
fn poll_mode_orders(page: &FeedPage) -> Vec<&Order> {
    page.data
        .iter()
        .filter(|o| o.mode == IntegrationMode::Poll)
        .collect()
}

/// Orders a page brought for the first time, by what became of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Tally {
    applied: u32,
    /// Taken, but the stock was short.
    backordered: u32,
}

impl Tally {
    fn first_time(self) -> u32 {
        self.applied + self.backordered
    }
}

/// Applies every poll-mode order on a page — in one transaction, each
/// once — then acknowledges each.
async fn apply_page(app: &AppState, page: &FeedPage) -> anyhow::Result<Tally> {
    // An order that breaks the rules every door shares
    // (`contract::validation`) is not applied: the store hears it was
    // rejected, and why. (The store checks the same rules when the order
    // is placed, so this is a store with a bug, or not ours.)
    let mut orders = Vec::new();
    let mut refused = Vec::new();
    for order in poll_mode_orders(page) {
        match contract::validation::check_order(order) {
            Ok(()) => orders.push(order),
            Err(errors) => {
                let why: Vec<String> = errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect();
                refused.push(acknowledge(
                    app,
                    &order.id,
                    ApplyOutcome::Rejected,
                    Some(format!("Refused: {}", why.join("; "))),
                ));
            }
        }
    }
    for acked in futures_util::future::join_all(refused).await {
        acked?;
    }
    let arrivals: Vec<Arrival> = orders
        .iter()
        .map(|order| Arrival {
            order: Some(OrderToApply {
                order_id: order.id.clone(),
                wanted: Quantities::of_order(order),
                channel: IntegrationMode::Poll,
                order_created_at: Some(order.created_at),
            }),
            message: None,
            answer: None, // the page's read is what the log shows
        })
        .collect();
    let results = if arrivals.is_empty() {
        Vec::new()
    } else {
        app.intake.write_batch(&arrivals).await
    };
    let mut tally = Tally::default();
    let mut acks = Vec::new();
    for (order, result) in orders.into_iter().zip(results) {
        let taken = match result {
            Ok(done) => done.taken,
            Err(IntakeError::Failed(e)) => Err(e),
            Err(e @ IntakeError::Raced) => Err(anyhow::Error::from(e).into()),
        };
        let applied = match taken.with_context(|| format!("applying {}", order.id))? {
            Taken::Applied(applied) => applied,
            other => anyhow::bail!("{} was not applied: {other:?}", order.id),
        };
        if applied.first_time {
            match applied.outcome {
                ApplyOutcome::Backordered => tally.backordered += 1,
                _ => tally.applied += 1,
            }
        }
        app.note_applied(IntegrationMode::Poll, &order.id, &applied);
        acks.push((&order.id, applied.outcome));
    }
    // Acknowledge every poll-mode order on the page, even one applied on an
    // earlier read: its acknowledgement may be the thing that failed last
    // time. All at once — each is its own request, and none waits for
    // another — and every one must succeed before the cursor moves.
    let sent = acks
        .into_iter()
        .map(|(order_id, outcome)| acknowledge(app, order_id, outcome, None));
    for acked in futures_util::future::join_all(sent).await {
        acked?;
    }
    Ok(tally)
}

/// What the inventory made of one page of the feed: nothing there
/// (`empty`), orders but none to apply (`nothing_new` — other modes'
/// orders, or ones applied on an earlier read: not "empty", there were
/// orders), orders applied — or some short of stock, the oversell pull
/// allows, which is what the page's verdict then says.
fn page_verdict(seen: usize, tally: Tally) -> Verdict {
    match (seen, tally.first_time(), tally.backordered) {
        (0, _, _) => Verdict::new(VerdictKind::Empty),
        (seen, 0, _) => Verdict::with_detail(
            VerdictKind::NothingNew,
            format!("{} seen, none to apply", count(seen as i64, "order")),
        ),
        (seen, applied, 0) => Verdict::with_detail(
            VerdictKind::Applied,
            format!("{applied} of {}", count(seen as i64, "order")),
        ),
        (seen, _, short) => Verdict::with_detail(
            VerdictKind::Backordered,
            format!(
                "{short} of {} short of stock, {} applied",
                count(seen as i64, "order"),
                tally.applied
            ),
        ),
    }
}

/// Tells the store what became of a polled order.
async fn acknowledge(
    app: &AppState,
    order_id: &OrderId,
    outcome: ApplyOutcome,
    reason: Option<String>,
) -> anyhow::Result<()> {
    let store = app.config.store_url.trim_end_matches('/');
    let reason = reason.or_else(|| {
        (outcome == ApplyOutcome::Backordered).then(|| {
            "Accepted, but the inventory is short: it will ship when restocked.".to_owned()
        })
    });
    let ack = Acknowledgement {
        outcome,
        channel: IntegrationMode::Poll,
        applied_at: app.clock.now(),
        reason,
    };
    let request = app
        .client
        .post(format!("{store}/api/orders/{order_id}/acknowledgement"))
        .bearer_auth(app.config.store_api_key.expose_secret())
        .json(&ack)
        .build()?;
    let rec = send_recorded(&app.client, request, app.clock.now().millis()).await;
    let failure = (!rec.is_success()).then(|| match rec.error() {
        Some(error) => error.to_owned(),
        None => format!("the store answered {:?}", rec.status()),
    });
    let verdict = match &failure {
        None => Verdict::with_detail(VerdictKind::Acknowledged, outcome.as_str()),
        Some(why) => Verdict::with_detail(VerdictKind::Failed, why.clone()),
    };
    messages::record_quietly(
        &app.log,
        &app.live,
        NewMessage::sent(Channel::Ack, &rec, verdict).about(Some(order_id.clone())),
    )
    .await;
    match failure {
        None => Ok(()),
        Some(why) => Err(anyhow!("acknowledging {order_id} failed: {why}")),
    }
}

/// The poller as a background worker: one [`poll_cycle`] per pass, paced
/// by its interval, backing off while the store is unreachable.
pub struct Poller {
    app: Arc<AppState>,
    /// Failed cycles in a row, for the back-off.
    failures: u32,
}

impl Poller {
    pub fn new(app: Arc<AppState>) -> Poller {
        Poller { app, failures: 0 }
    }

    /// Paced by its own interval; "poll now", resuming and a new interval
    /// wake it.
    pub fn pacing(app: &AppState) -> Pacing {
        Pacing {
            clock: app.clock.clone(),
            wake: app.poller_wake.clone(),
            sweep: None,
        }
    }

    /// The pause after a failed cycle: twice the interval, doubling, never
    /// more than `max_backoff` (nor less than one interval).
    fn backoff(&self, interval: Duration) -> Backoff {
        Backoff::exponential(interval * 2, self.app.config.poll.max_backoff.max(interval))
    }

    fn failed(&mut self, error: &anyhow::Error, interval: Duration) -> Duration {
        self.failures += 1;
        self.app.metrics.poll_failures.inc();
        let pause = self
            .backoff(interval)
            .delay_after(self.failures)
            .unwrap_or(interval);
        let pause_ms = pause.as_millis() as u64;
        tracing::warn!(error = %error, failures = self.failures, backoff_ms = pause_ms, "poll failed; backing off");
        self.app.live.publish(
            contract::LiveEventKind::PollerBackoff,
            serde_json::json!({"error": error.to_string(), "failures": self.failures, "backoff_ms": pause_ms}),
        );
        pause
    }
}

impl Worker for Poller {
    const NAME: &'static str = "poller";

    async fn pass(&mut self) -> anyhow::Result<Next> {
        let state = cursor::load(&self.app).await?;
        let interval = state.interval();
        if state.paused || self.app.chaos.is_down() {
            // Paused (or "down"): look again every interval in case that
            // was switched off; resuming wakes it at once.
            return Ok(Next::At(self.app.clock.now() + interval));
        }
        // Every interval, counted from the start of one poll to the start
        // of the next: how long a cycle takes does not stretch the period.
        let started = self.app.clock.now();
        match poll_cycle(&self.app).await {
            Ok(_) => {
                // `poll_cycle` logged what it did.
                self.failures = 0;
                Ok(Next::At(started + interval))
            }
            Err(e) => {
                let pause = self.failed(&e, interval);
                Ok(Next::At(self.app.clock.now() + pause))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_judged_by_what_it_brought() {
        let tally = |applied, backordered| Tally {
            applied,
            backordered,
        };
        assert_eq!(page_verdict(0, tally(0, 0)).to_string(), "empty");
        assert_eq!(
            page_verdict(3, tally(0, 0)).to_string(),
            "nothing new: 3 orders seen, none to apply"
        );
        assert_eq!(page_verdict(3, tally(0, 0)).kind, VerdictKind::NothingNew);
        assert_eq!(
            page_verdict(3, tally(2, 0)).to_string(),
            "applied: 2 of 3 orders"
        );
        assert_eq!(
            page_verdict(3, tally(1, 1)).to_string(),
            "backordered: 1 of 3 orders short of stock, 1 applied"
        );
        // One order is one order.
        assert_eq!(
            page_verdict(1, tally(0, 0)).to_string(),
            "nothing new: 1 order seen, none to apply"
        );
        assert_eq!(
            page_verdict(1, tally(1, 0)).to_string(),
            "applied: 1 of 1 order"
        );
        assert_eq!(
            page_verdict(1, tally(0, 1)).to_string(),
            "backordered: 1 of 1 order short of stock, 0 applied"
        );
    }
}
