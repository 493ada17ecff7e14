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
//! 3. **acknowledge** the page: tell the store what was done with each
//!    of its orders, all in one request (`POST /api/acknowledgements`,
//!    [`ack`]) — so a cycle costs two requests whatever the page's size;
//! 4. **advance**: only then save the page's `iterator` as the new cursor
//!    ([`cursor::advance`]), and follow it until the feed says `done`.
//!
//! (Beneath the steps, one speed-up a reader can skip: while a page is
//! applied and acknowledged, the next one is already being read —
//! `apply_reading_ahead`. The cursor still moves only in step 4.)
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
//! poll now. With `POLL_WAIT` it long-polls: each read carries `wait`, the
//! store holds an empty one until an order commits, and the next read
//! starts when one returns — an order lands in milliseconds, for a
//! connection held open at the store.
//!
//! **The same machinery is hybrid mode's reconciliation** ([`Feed`]): a
//! second `Poller`, with its own cursor, reads `GET /api/orders?mode=hybrid`
//! every `RECONCILE_INTERVAL` (60 s by default — slow, since it is only the
//! safety net) and lands the hybrid orders still pending at the store —
//! those whose thin notice was lost, refused, or never answered — through
//! the same apply and acknowledge. Nothing in hybrid mode depends on the
//! notice arriving; the notice only makes things fast.

mod ack;
pub mod cursor;
mod tally;
pub mod worker;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use serde::Serialize;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use contract::inventory::OrderAcknowledgement;
use contract::order::{FeedPage, Order};
use contract::{ApplyOutcome, OrderStatus, Verdict, VerdictKind};
use platform::outbound::Recorded;
use platform::worker::Pacing;

use super::apply::{OrderToApply, note_applied};
use super::intake::{Arrival, Handled, Intake};
use crate::context::Context;
use crate::instruments::messages::NewMessage;
use crate::stock::Quantities;
use crate::store_api::{self, StoreApi};
pub use cursor::Feed;
use cursor::PollerState;
use tally::{Tally, page_verdict};

/// The poller: the intake it hands pages to, the store it reads them from,
/// and what wakes it. One per service, shared by its worker and the
/// handlers that pause, pace or fire it.
pub struct Poller {
    /// Which reader it is: the poller, or hybrid's reconciliation.
    pub feed: Feed,
    intake: Arc<Intake>,
    store: StoreApi,
    /// Wakes the worker: resumed, a new interval, "poll now".
    wake: Arc<Notify>,
    /// Fires when the service stops: a long poll held at the store lets go.
    stopping: OnceLock<CancellationToken>,
}

/// What one poll cycle did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct CycleReport {
    /// Reads of the feed (pages).
    pub requests: u32,
    pub empty_requests: u32,
    /// Acknowledgement requests: one per page that had orders to land.
    #[serde(default)]
    pub acknowledgements: u32,
    pub orders_seen: u32,
    pub orders_applied: u32,
}

impl Poller {
    pub fn new(feed: Feed, intake: Arc<Intake>, store: StoreApi) -> Poller {
        Poller {
            feed,
            intake,
            store,
            wake: Arc::new(Notify::new()),
            stopping: OnceLock::new(),
        }
    }

    /// Lets a held long poll go when `stopping` fires (set once, at start).
    pub fn stop_with(&self, stopping: CancellationToken) {
        let _ = self.stopping.set(stopping);
    }

    /// Reads the feed from the saved cursor until `done`: read a page,
    /// apply and acknowledge its poll-mode orders, then advance the cursor.
    pub async fn poll_cycle(&self, ctx: &Context) -> anyhow::Result<CycleReport> {
        let mut report = CycleReport::default();
        let state = cursor::load(&ctx.db, self.feed).await?;
        let wait = self.long_poll(&state);
        let mut read_ahead = None;
        loop {
            ctx.chaos.gate().await?;

            // 1. Read a page (held at the store when long polling; `None`:
            // the service is stopping) — or take the one read ahead.
            let read = match read_ahead.take() {
                Some(read) => read,
                None => self.read_page(ctx, &state.cursor, wait).await?,
            };
            let Some((page, rec)) = read else {
                break;
            };

            // 2-4. Apply, acknowledge, advance — while the next page is
            // read, when the feed says there is one.
            let (handled, next) = self
                .handle_reading_ahead(ctx, &page, &rec, &mut report)
                .await;
            handled?;
            match next {
                None => break, // the page said `done`
                Some(next) => read_ahead = Some(next?),
            }
        }
        if self.feed == Feed::Poll {
            ctx.live
                .publish(contract::LiveEventKind::PollCompleted, &report);
        }
        // One line per poll, whoever asked for it (the timer, "poll now"):
        // most say `orders_applied=0`, which is what polling costs.
        tracing::info!(
            feed = ?self.feed,
            requests = report.requests,
            empty_requests = report.empty_requests,
            orders_seen = report.orders_seen,
            orders_applied = report.orders_applied,
            "polled the store's feed"
        );
        Ok(report)
    }

    /// Asks the store for the page after `cursor` — with `wait`, when long
    /// polling, so that an empty read is held until an order commits. A
    /// failed or unreadable answer is logged here and ends the cycle.
    async fn read_page(
        &self,
        ctx: &Context,
        cursor: &str,
        wait: Option<Duration>,
    ) -> anyhow::Result<Option<(FeedPage, Recorded)>> {
        let mut path = format!("/api/orders?limit={}", ctx.config.poll.page_size);
        if !cursor.is_empty() {
            path.push_str("&after=");
            path.push_str(cursor);
        }
        if self.feed == Feed::Reconcile {
            // Only hybrid orders: the store filters, so the reconciliation
            // reads no other mode's orders (and is logged as itself).
            path.push_str("&mode=hybrid");
        }
        if let Some(wait) = wait {
            path.push_str(&format!("&wait={}", wait.as_secs()));
        }
        let mut request = self
            .store
            .get(&path)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(wait) = wait {
            // The store holds the read up to `wait`: the usual timeout
            // would cut it off.
            request = request.timeout(wait + LONG_POLL_MARGIN);
        }
        let sent = self.store.send(request, ctx.clock.now());
        let stopping = self.stopping.get().cloned().unwrap_or_default();
        let rec = tokio::select! {
            rec = sent => rec?,
            _ = stopping.cancelled() => return Ok(None),
        };
        ctx.metrics.polls.inc();
        match store_api::read::<FeedPage>(&rec, "feed page") {
            Ok(page) => Ok(Some((page, rec))),
            Err(failed) => {
                let verdict = Verdict::with_detail(VerdictKind::Failed, failed.to_string());
                ctx.log
                    .record(NewMessage::sent(self.feed.read_channel(), &rec, verdict))
                    .await;
                Err(anyhow!(failed))
            }
        }
    }

    /// Steps 2 to 4 for `page` while the page after it is read (if the
    /// feed said there is one): the store's answer and the intake's
    /// transaction overlap instead of taking turns. Only the *reading* runs
    /// ahead — the cursor still advances after the acknowledgement, so a
    /// crash re-reads a page at worst, never skips one — and it never
    /// long-polls: the feed said there is more. The road not taken:
    /// applying pages concurrently, which would acknowledge out of order.
    /// (A page read ahead of a step that failed is dropped: the next cycle
    /// reads it again from the cursor.)
    async fn handle_reading_ahead(
        &self,
        ctx: &Context,
        page: &FeedPage,
        rec: &Recorded,
        report: &mut CycleReport,
    ) -> (
        anyhow::Result<()>,
        Option<anyhow::Result<Option<(FeedPage, Recorded)>>>,
    ) {
        let handle = self.handle_page(ctx, page, rec, report);
        if page.done {
            return (handle.await, None);
        }
        let (handled, next) = tokio::join!(handle, self.read_page(ctx, &page.iterator, None));
        (handled, Some(next))
    }

    /// Steps 2 to 4 for one page read: apply each order of this reader's
    /// once and acknowledge the page, log the read with what came of it,
    /// and only then advance the cursor.
    async fn handle_page(
        &self,
        ctx: &Context,
        page: &FeedPage,
        rec: &Recorded,
        report: &mut CycleReport,
    ) -> anyhow::Result<()> {
        report.requests += 1;

        // 2-3. Apply each poll-mode order once, and acknowledge the page.
        let (tally, acknowledged) = self.apply_page(ctx, page).await?;
        report.acknowledgements += u32::from(acknowledged);
        let applied = tally.first_time();
        report.orders_seen += page.data.len() as u32;
        report.orders_applied += applied;
        if applied == 0 {
            report.empty_requests += 1;
            if self.feed == Feed::Poll {
                ctx.metrics.empty_polls.inc();
            }
        }
        let only_order = match self.orders_to_land(page).as_slice() {
            [one] => Some(one.id.clone()),
            _ => None,
        };
        let verdict = page_verdict(page.data.len(), tally);
        let message = NewMessage::sent(self.feed.read_channel(), rec, verdict).about(only_order);
        ctx.log.record(message).await;

        // 4. Only now, with every order applied and acknowledged, advance.
        cursor::advance(&ctx.db, self.feed, &page.iterator, ctx.clock.now()).await?;
        Ok(())
    }

    /// Applies every order on a page that is this reader's to land — in one
    /// transaction, each once — then acknowledges them all in one request.
    /// Says whether there was an acknowledgement to send.
    async fn apply_page(&self, ctx: &Context, page: &FeedPage) -> anyhow::Result<(Tally, bool)> {
        let mode = self.feed.mode();
        let mut acks = Vec::new();
        let orders = refuse_invalid(self.orders_to_land(page), &mut acks);
        let arrivals: Vec<Arrival> = orders
            .iter()
            .map(|order| Arrival {
                order: Some(OrderToApply {
                    order_id: order.id.clone(),
                    wanted: Quantities::of_order(order),
                    channel: mode,
                    order_created_at: Some(order.created_at),
                }),
                message: None,
                answerer: None, // the page's read is what the log shows
                fetched_with: None,
            })
            .collect();
        let results = self.intake.apply_now(&arrivals).await;
        let mut tally = Tally::default();
        for (order, handled) in orders.into_iter().zip(results) {
            let applied = match handled.with_context(|| format!("applying {}", order.id))? {
                Handled::Applied(applied) => applied,
                other => anyhow::bail!("{} was not applied: {other:?}", order.id),
            };
            tally.count(applied.first_time, applied.outcome);
            note_applied(ctx, mode, &order.id, &applied);
            acks.push(ack::item(&order.id, applied.outcome, None));
        }
        // Acknowledge every poll-mode order on the page, even one applied on
        // an earlier read: its acknowledgement may be the thing that failed
        // last time. One request for the page, and it must succeed before
        // the cursor moves.
        let any = !acks.is_empty();
        self.acknowledge_page(ctx, acks).await?;
        Ok((tally, any))
    }

    /// Pauses or resumes the poller, changes its interval or its long
    /// polling; wakes it.
    pub async fn configure(
        &self,
        ctx: &Context,
        change: cursor::Change,
    ) -> Result<PollerState, sqlx::Error> {
        let state = cursor::change(&ctx.db, self.feed, change, ctx.clock.now()).await?;
        self.wake.notify_one();
        if self.feed == Feed::Poll {
            ctx.live
                .publish(contract::LiveEventKind::PollerChanged, &state);
        }
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

impl Poller {
    /// How long the store may hold this reader's empty reads: as set
    /// (`POLL_WAIT` at start, the poller page after), for the poller only —
    /// the reconciliation is a rare safety net.
    pub fn long_poll(&self, state: &PollerState) -> Option<Duration> {
        match self.feed {
            Feed::Poll => state.long_poll(),
            Feed::Reconcile => None,
        }
    }

    /// The orders on a page that are this reader's business: for the
    /// poller, those placed in poll mode (the others travel by their own
    /// mode's channel); for the reconciliation, hybrid orders the store
    /// still has pending — one its notice already settled needs nothing.
    fn orders_to_land<'p>(&self, page: &'p FeedPage) -> Vec<&'p Order> {
        let mode = self.feed.mode();
        page.data
            .iter()
            .filter(|o| o.mode == mode)
            .filter(|o| self.feed == Feed::Poll || o.status == OrderStatus::Pending)
            .collect()
    }
}

/// The orders that keep the rules every door shares
/// (`contract::validation`); each of the others is not applied, and the
/// store hears (in `acks`) it was rejected, and why. (The store checks the
/// same rules when the order is placed, so this is a store with a bug, or
/// not ours.)
fn refuse_invalid<'p>(
    orders: Vec<&'p Order>,
    acks: &mut Vec<OrderAcknowledgement>,
) -> Vec<&'p Order> {
    let mut valid = Vec::new();
    for order in orders {
        match contract::validation::check_order(order) {
            Ok(()) => valid.push(order),
            Err(errors) => {
                let why: Vec<String> = errors
                    .iter()
                    .map(|e| format!("{}: {}", e.field, e.message))
                    .collect();
                let reason = format!("Refused: {}", why.join("; "));
                acks.push(ack::item(&order.id, ApplyOutcome::Rejected, Some(reason)));
            }
        }
    }
    valid
}

/// How much longer than its wait a long poll may take before it is given
/// up on: the store's answer, once the wait is over.
const LONG_POLL_MARGIN: Duration = Duration::from_secs(10);
