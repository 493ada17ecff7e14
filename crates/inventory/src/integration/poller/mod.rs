//! **poll mode — pull, initiated by the inventory.** The poller.
//!
//! Every `interval` the inventory asks the store "anything after my
//! cursor?" and works through the answer page by page, in four steps that
//! [`Poller::poll_cycle`] reads in order:
//!
//! 1. **read a page** — `GET /api/orders?after=CURSOR&limit=N` with its API
//!    key (`read_page`);
//! 2. **apply** the orders placed in poll mode, through the same
//!    `apply_orders_once` as the other channels — the whole page in one
//!    transaction (the intake's) — so an order seen twice is applied once
//!    (`apply_page`);
//! 3. **acknowledge** each: tell the store what was done with it
//!    (`POST /api/orders/{id}/acknowledgement`, `acknowledge`) — all of
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
//! poller backs off (doubling up to `max_backoff`) instead of hammering it
//! ([`worker`]). It can be paused and resumed at run time, and told to
//! poll now.

pub mod cursor;
pub mod worker;

use std::sync::Arc;

use anyhow::{Context as _, anyhow};
use serde::Serialize;
use tokio::sync::Notify;

use contract::inventory::Acknowledgement;
use contract::order::{FeedPage, Order};
use contract::{ApplyOutcome, Channel, IntegrationMode, OrderId, Verdict, VerdictKind};
use platform::outbound::Recorded;
use platform::ui::count;
use platform::worker::Pacing;

use super::apply::{OrderToApply, note_applied};
use super::intake::{Arrival, Handled, Intake};
use crate::context::Context;
use crate::instruments::messages::NewMessage;
use crate::stock::Quantities;
use crate::store_api::{self, StoreApi};
use cursor::PollerState;

/// The poller: the intake it hands pages to, the store it reads them from,
/// and what wakes it. One per service, shared by its worker and the
/// handlers that pause, pace or fire it.
pub struct Poller {
    intake: Arc<Intake>,
    store: StoreApi,
    /// Wakes the worker: resumed, a new interval, "poll now".
    wake: Arc<Notify>,
}

/// What one poll cycle did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct CycleReport {
    pub requests: u32,
    pub empty_requests: u32,
    pub orders_seen: u32,
    pub orders_applied: u32,
}

impl Poller {
    pub fn new(intake: Arc<Intake>, store: StoreApi) -> Poller {
        Poller {
            intake,
            store,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Reads the feed from the saved cursor until `done`: read a page,
    /// apply and acknowledge its poll-mode orders, then advance the cursor.
    pub async fn poll_cycle(&self, ctx: &Context) -> anyhow::Result<CycleReport> {
        let mut report = CycleReport::default();
        let mut cursor = cursor::load(&ctx.db).await?.cursor;
        loop {
            ctx.chaos.gate().await?;

            // 1. Read a page.
            let (page, rec) = self.read_page(ctx, &cursor).await?;
            report.requests += 1;

            // 2-3. Apply each poll-mode order once, and acknowledge it.
            let tally = self.apply_page(ctx, &page).await?;
            let applied = tally.first_time();
            report.orders_seen += page.data.len() as u32;
            report.orders_applied += applied;
            if applied == 0 {
                report.empty_requests += 1;
                ctx.metrics.empty_polls.inc();
            }
            let only_order = match poll_mode_orders(&page).as_slice() {
                [one] => Some(one.id.clone()),
                _ => None,
            };
            let verdict = page_verdict(page.data.len(), tally);
            let message = NewMessage::sent(Channel::Feed, &rec, verdict).about(only_order);
            ctx.log.record(message).await;

            // 4. Only now, with every order applied and acknowledged, advance.
            cursor::advance(&ctx.db, &page.iterator, ctx.clock.now()).await?;
            cursor = page.iterator;
            if page.done {
                break;
            }
        }
        ctx.live
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
    async fn read_page(&self, ctx: &Context, cursor: &str) -> anyhow::Result<(FeedPage, Recorded)> {
        let mut path = format!("/api/orders?limit={}", ctx.config.poll.page_size);
        if !cursor.is_empty() {
            path.push_str("&after=");
            path.push_str(cursor);
        }
        let request = self
            .store
            .get(&path)
            .header(reqwest::header::ACCEPT, "application/json");
        let rec = self.store.send(request, ctx.clock.now()).await?;
        ctx.metrics.polls.inc();
        match store_api::read::<FeedPage>(&rec, "feed page") {
            Ok(page) => Ok((page, rec)),
            Err(failed) => {
                let verdict = Verdict::with_detail(VerdictKind::Failed, failed.to_string());
                ctx.log
                    .record(NewMessage::sent(Channel::Feed, &rec, verdict))
                    .await;
                Err(anyhow!(failed))
            }
        }
    }

    /// Applies every poll-mode order on a page — in one transaction, each
    /// once — then acknowledges each.
    async fn apply_page(&self, ctx: &Context, page: &FeedPage) -> anyhow::Result<Tally> {
        let orders = self.refuse_invalid(ctx, poll_mode_orders(page)).await?;
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
                answerer: None, // the page's read is what the log shows
            })
            .collect();
        let results = self.intake.apply_now(&arrivals).await;
        let mut tally = Tally::default();
        let mut acks = Vec::new();
        for (order, handled) in orders.into_iter().zip(results) {
            let applied = match handled.with_context(|| format!("applying {}", order.id))? {
                Handled::Applied(applied) => applied,
                other => anyhow::bail!("{} was not applied: {other:?}", order.id),
            };
            tally.count(applied.first_time, applied.outcome);
            note_applied(ctx, IntegrationMode::Poll, &order.id, &applied);
            acks.push(self.acknowledge(ctx, &order.id, applied.outcome, None));
        }
        // Acknowledge every poll-mode order on the page, even one applied on
        // an earlier read: its acknowledgement may be the thing that failed
        // last time. All at once — each is its own request, and none waits
        // for another — and every one must succeed before the cursor moves.
        for acked in futures_util::future::join_all(acks).await {
            acked?;
        }
        Ok(tally)
    }

    /// The orders that keep the rules every door shares
    /// (`contract::validation`); each of the others is not applied, and
    /// the store hears it was rejected, and why. (The store checks the same
    /// rules when the order is placed, so this is a store with a bug, or
    /// not ours.)
    async fn refuse_invalid<'p>(
        &self,
        ctx: &Context,
        orders: Vec<&'p Order>,
    ) -> anyhow::Result<Vec<&'p Order>> {
        let mut valid = Vec::new();
        let mut refused = Vec::new();
        for order in orders {
            match contract::validation::check_order(order) {
                Ok(()) => valid.push(order),
                Err(errors) => {
                    let why: Vec<String> = errors
                        .iter()
                        .map(|e| format!("{}: {}", e.field, e.message))
                        .collect();
                    let reason = format!("Refused: {}", why.join("; "));
                    refused.push(self.acknowledge(
                        ctx,
                        &order.id,
                        ApplyOutcome::Rejected,
                        Some(reason),
                    ));
                }
            }
        }
        for acked in futures_util::future::join_all(refused).await {
            acked?;
        }
        Ok(valid)
    }

    /// Tells the store what became of a polled order.
    async fn acknowledge(
        &self,
        ctx: &Context,
        order_id: &OrderId,
        outcome: ApplyOutcome,
        reason: Option<String>,
    ) -> anyhow::Result<()> {
        let reason = reason.or_else(|| {
            (outcome == ApplyOutcome::Backordered).then(|| {
                "Accepted, but the inventory is short: it will ship when restocked.".to_owned()
            })
        });
        let ack = Acknowledgement {
            outcome,
            channel: IntegrationMode::Poll,
            applied_at: ctx.clock.now(),
            reason,
        };
        let path = format!("/api/orders/{order_id}/acknowledgement");
        let rec = self
            .store
            .send(self.store.post(&path).json(&ack), ctx.clock.now())
            .await?;
        let acked = store_api::succeeded(&rec);
        let verdict = match &acked {
            Ok(()) => Verdict::with_detail(VerdictKind::Acknowledged, outcome.as_str()),
            Err(failed) => Verdict::with_detail(VerdictKind::Failed, failed.to_string()),
        };
        let message = NewMessage::sent(Channel::Ack, &rec, verdict).about(Some(order_id.clone()));
        ctx.log.record(message).await;
        acked.map_err(|failed| anyhow!("acknowledging {order_id} failed: {failed}"))
    }

    /// Pauses or resumes the poller, or changes its interval; wakes it.
    pub async fn configure(
        &self,
        ctx: &Context,
        paused: Option<bool>,
        interval_ms: Option<i64>,
    ) -> Result<PollerState, sqlx::Error> {
        let state = cursor::change(&ctx.db, paused, interval_ms, ctx.clock.now()).await?;
        self.wake.notify_one();
        ctx.live
            .publish(contract::LiveEventKind::PollerChanged, &state);
        Ok(state)
    }

    /// Paced by its own interval; "poll now", resuming and a new interval
    /// wake it.
    pub fn pacing(&self, ctx: &Context) -> Pacing {
        Pacing {
            clock: ctx.clock.clone(),
            wake: self.wake.clone(),
            sweep: None,
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
    /// Counts an order applied now (a repeat counts for nothing).
    fn count(&mut self, first_time: bool, outcome: ApplyOutcome) {
        if !first_time {
            return;
        }
        match outcome {
            ApplyOutcome::Backordered => self.backordered += 1,
            _ => self.applied += 1,
        }
    }

    fn first_time(self) -> u32 {
        self.applied + self.backordered
    }
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
