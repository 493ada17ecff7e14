//! **poll mode — pull, initiated by the inventory.** The poller.
//!
//! Every `interval` the inventory asks the store "anything after my
//! cursor?" — `GET /api/orders?after=CURSOR&limit=N` with its API key —
//! follows `iterator` until `done`, applies each order placed in poll mode
//! (through the same `apply_order_once` as the other channels, so an order
//! seen twice is applied once), tells the store what it did
//! (`POST /api/orders/{id}/acknowledgement`), and only then saves the new
//! cursor in its database.
//!
//! That ordering is the whole reliability story of a consumer: **apply,
//! acknowledge, then advance**. A crash before the cursor is saved means
//! the page is read again after the restart — harmless, because applying is
//! idempotent. Saving the cursor first would be the bug: a crash between
//! "cursor saved" and "order applied" loses the order for good.
//!
//! What pull costs, and what the UI counts: every poll is a request, most
//! find nothing ("empty polls"), and an order waits up to one interval
//! before anyone looks at it (the "delay" on the compare page). What it
//! buys: the store needs no outbox, no retries, no endpoint registry, and
//! the inventory works at its own pace — if it is down, orders simply wait
//! in the feed. When the store is unreachable the poller backs off
//! (doubling up to `max_backoff`) instead of hammering it. It can be paused
//! and resumed at run time, and told to poll now.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use sqlx::Row;

use contract::ApplyOutcome;
use contract::inventory::Acknowledgement;
use contract::order::{FeedPage, LineItem};
use contract::{IntegrationMode, Timestamp};
use platform::Backoff;
use platform::outbound::send_recorded;
use platform::worker::{Next, Pacing, Worker};

use crate::messages::{self, NewMessage};
use crate::state::{AppState, ApplyLabels};
use crate::stock::{self, OrderToApply};

/// The poller's persisted state.
#[derive(Debug, Clone, Serialize)]
pub struct PollerState {
    pub cursor: String,
    pub paused: bool,
    pub interval_ms: i64,
}

pub async fn load(app: &AppState) -> Result<PollerState, sqlx::Error> {
    let row = sqlx::query("SELECT cursor, paused, interval_ms FROM poller_state WHERE id = 1")
        .fetch_one(app.db.pool())
        .await?;
    Ok(PollerState {
        cursor: row.try_get("cursor")?,
        paused: row.try_get::<i64, _>("paused")? != 0,
        interval_ms: row.try_get("interval_ms")?,
    })
}

/// Creates the state row on first start (paused/interval from config).
pub async fn init(app: &AppState) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO poller_state (id, cursor, paused, interval_ms, updated_at) VALUES (1, '', $1, $2, $3) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(i64::from(app.config.poll.paused))
    .bind(app.config.poll.interval.as_millis() as i64)
    .bind(app.clock.now_ms())
    .execute(app.db.writer())
    .await?;
    Ok(())
}

/// Pauses/resumes or changes the interval; wakes the poller.
pub async fn configure(
    app: &AppState,
    paused: Option<bool>,
    interval_ms: Option<i64>,
) -> Result<PollerState, sqlx::Error> {
    let current = load(app).await?;
    sqlx::query(
        "UPDATE poller_state SET paused = $1, interval_ms = $2, updated_at = $3 WHERE id = 1",
    )
    .bind(i64::from(paused.unwrap_or(current.paused)))
    .bind(interval_ms.unwrap_or(current.interval_ms))
    .bind(app.clock.now_ms())
    .execute(app.db.writer())
    .await?;
    app.poller_wake.notify_one();
    let state = load(app).await?;
    app.live.publish("poller.changed", &state);
    Ok(state)
}

/// What polling has cost and delivered so far, from the message log and
/// the applied orders: every poll is a request, most find nothing, and an
/// order waits for the next tick.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PollStats {
    pub polls: i64,
    pub empty_polls: i64,
    pub failed_polls: i64,
    pub orders_applied: i64,
    /// Order created (at the store) → applied here, in milliseconds.
    pub average_delay_ms: Option<i64>,
    pub max_delay_ms: Option<i64>,
}

pub async fn stats(app: &AppState) -> Result<PollStats, sqlx::Error> {
    let polls = sqlx::query(
        "SELECT COUNT(*) AS polls, \
         CAST(COALESCE(SUM(CASE WHEN verdict LIKE 'empty%' THEN 1 ELSE 0 END), 0) AS BIGINT) AS empty, \
         CAST(COALESCE(SUM(CASE WHEN verdict LIKE 'failed%' THEN 1 ELSE 0 END), 0) AS BIGINT) AS failed \
         FROM messages WHERE channel = 'feed'",
    )
    .fetch_one(app.db.pool())
    .await?;
    let applied = sqlx::query(
        "SELECT COUNT(*) AS n, CAST(AVG(applied_at - order_created_at) AS BIGINT) AS average, \
         MAX(applied_at - order_created_at) AS longest \
         FROM applied_orders WHERE channel = 'poll' AND order_created_at IS NOT NULL",
    )
    .fetch_one(app.db.pool())
    .await?;
    Ok(PollStats {
        polls: polls.try_get("polls")?,
        empty_polls: polls.try_get("empty")?,
        failed_polls: polls.try_get("failed")?,
        orders_applied: applied.try_get("n")?,
        average_delay_ms: applied.try_get("average")?,
        max_delay_ms: applied.try_get("longest")?,
    })
}

/// What one poll cycle did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CycleReport {
    pub requests: u32,
    pub empty_requests: u32,
    pub orders_seen: u32,
    pub orders_applied: u32,
}

pub struct Poller {
    app: Arc<AppState>,
    /// Failed cycles in a row, for the back-off.
    failures: u32,
}

impl Poller {
    pub fn new(app: Arc<AppState>) -> Poller {
        Poller { app, failures: 0 }
    }

    /// Paced by its own interval; "poll now" wakes it.
    pub fn pacing(app: &AppState) -> Pacing {
        Pacing {
            clock: app.clock.clone(),
            wake: app.poller_wake.clone(),
            sweep: None,
        }
    }
}

impl Worker for Poller {
    const NAME: &'static str = "poller";

    async fn pass(&mut self) -> anyhow::Result<Next> {
        let state = load(&self.app).await?;
        let interval = Duration::from_millis(state.interval_ms.max(100) as u64);
        let now = self.app.clock.now();
        if state.paused || self.app.chaos.is_down() {
            // Paused (or "down"): look again every interval in case that
            // was switched off; resuming wakes it at once.
            return Ok(Next::At(now + interval));
        }
        let delay = match poll_cycle(&self.app).await {
            Ok(report) => {
                self.failures = 0;
                tracing::debug!(?report, "poll cycle done");
                interval
            }
            Err(e) => {
                self.failures += 1;
                self.app.metrics.poll_failures.inc();
                let backoff = Backoff::exponential(
                    interval * 2,
                    self.app.config.poll.max_backoff.max(interval),
                )
                .delay_after(self.failures)
                .unwrap_or(interval);
                tracing::warn!(error = %e, failures = self.failures, backoff_ms = backoff.as_millis() as u64, "poll failed; backing off");
                self.app.live.publish(
                    "poller.backoff",
                    serde_json::json!({"error": e, "failures": self.failures, "backoff_ms": backoff.as_millis() as u64}),
                );
                backoff
            }
        };
        Ok(Next::At(self.app.clock.now() + delay))
    }
}

/// Reads the feed from the saved cursor until `done`, applying and
/// acknowledging poll-mode orders, saving the cursor after each page.
pub async fn poll_cycle(app: &AppState) -> Result<CycleReport, String> {
    let store = app.config.store_url.trim_end_matches('/');
    let mut report = CycleReport::default();
    let mut cursor = load(app).await.map_err(|e| e.to_string())?.cursor;
    loop {
        app.chaos.gate().await.map_err(|e| e.to_string())?;
        let mut url = format!("{store}/api/orders?limit={}", app.config.poll.page_size);
        if !cursor.is_empty() {
            url.push_str("&after=");
            url.push_str(&cursor);
        }
        let request = app
            .client
            .get(&url)
            .bearer_auth(&app.config.store_api_key)
            .header(reqwest::header::ACCEPT, "application/json")
            .build()
            .map_err(|e| e.to_string())?;
        let rec = send_recorded(&app.client, request, app.clock.now_ms()).await;
        report.requests += 1;
        app.metrics.polls.inc();

        let page: FeedPage = match rec.status() {
            Some(200) => {
                match serde_json::from_slice(rec.body().map(|b| b.as_ref()).unwrap_or_default()) {
                    Ok(page) => page,
                    Err(e) => {
                        let why = format!("unreadable feed page: {e}");
                        messages::record_quietly(
                            &app.db,
                            &app.live,
                            &NewMessage::sent("feed", &rec, format!("failed: {why}"), None),
                        )
                        .await;
                        return Err(why);
                    }
                }
            }
            other => {
                let why = match other {
                    Some(s) => format!("the store answered {s}"),
                    None => rec.error().unwrap_or("no answer").to_owned(),
                };
                messages::record_quietly(
                    &app.db,
                    &app.live,
                    &NewMessage::sent("feed", &rec, format!("failed: {why}"), None),
                )
                .await;
                return Err(why);
            }
        };

        let mine: Vec<_> = page
            .data
            .iter()
            .filter(|o| o.mode == IntegrationMode::Poll)
            .collect();
        report.orders_seen += page.data.len() as u32;
        let mut applied_here = 0u32;
        for order in &mine {
            let items: Vec<LineItem> = order
                .items
                .iter()
                .map(|l| LineItem {
                    sku: l.sku.clone(),
                    quantity: l.quantity,
                })
                .collect();
            let now = app.clock.now_ms();
            let mut tx = app.db.begin_write().await.map_err(|e| e.to_string())?;
            let applied = stock::apply_order_once(
                &mut tx,
                &OrderToApply {
                    order_id: &order.id,
                    items: &items,
                    channel: IntegrationMode::Poll,
                    order_created_at: Some(order.created_at.millis()),
                },
                now,
            )
            .await
            .map_err(|e| e.to_string())?;
            tx.commit().await.map_err(|e| e.to_string())?;
            if applied.first_time {
                applied_here += 1;
                app.metrics
                    .orders_applied
                    .get_or_create(&ApplyLabels {
                        channel: "poll".into(),
                        outcome: applied.outcome.as_str().into(),
                    })
                    .inc();
                app.live
                    .publish("stock.changed", serde_json::json!({"order_id": order.id}));
            }
            // Acknowledge every poll-mode order on the page, even one
            // applied on an earlier read: its acknowledgement may be the
            // thing that failed last time.
            acknowledge(app, order.id.as_str(), applied.outcome).await?;
        }

        let verdict = if applied_here == 0 {
            report.empty_requests += 1;
            app.metrics.empty_polls.inc();
            if page.data.is_empty() {
                "empty".to_owned()
            } else {
                format!("empty: {} orders, none new for poll mode", page.data.len())
            }
        } else {
            format!("applied {applied_here} of {} orders", page.data.len())
        };
        report.orders_applied += applied_here;
        let order_id = (mine.len() == 1).then(|| mine[0].id.to_string());
        messages::record_quietly(
            &app.db,
            &app.live,
            &NewMessage::sent("feed", &rec, verdict, order_id),
        )
        .await;

        // Only now, with every order applied and acknowledged, advance.
        sqlx::query("UPDATE poller_state SET cursor = $1, updated_at = $2 WHERE id = 1")
            .bind(&page.iterator)
            .bind(app.clock.now_ms())
            .execute(app.db.writer())
            .await
            .map_err(|e| e.to_string())?;
        cursor = page.iterator;
        if page.done {
            break;
        }
    }
    app.live.publish("poll.completed", &report);
    Ok(report)
}

async fn acknowledge(app: &AppState, order_id: &str, outcome: ApplyOutcome) -> Result<(), String> {
    let store = app.config.store_url.trim_end_matches('/');
    let reason = match outcome {
        ApplyOutcome::Backordered => {
            Some("Accepted, but the inventory is short: it will ship when restocked.".to_owned())
        }
        _ => None,
    };
    let ack = Acknowledgement {
        outcome,
        channel: IntegrationMode::Poll,
        applied_at: Timestamp(app.clock.now_ms()),
        reason,
    };
    let request = app
        .client
        .post(format!("{store}/api/orders/{order_id}/acknowledgement"))
        .bearer_auth(&app.config.store_api_key)
        .json(&ack)
        .build()
        .map_err(|e| e.to_string())?;
    let rec = send_recorded(&app.client, request, app.clock.now_ms()).await;
    let ok = rec.is_success();
    let verdict = if ok {
        format!("acknowledged: {}", outcome.as_str())
    } else {
        "failed".to_owned()
    };
    messages::record_quietly(
        &app.db,
        &app.live,
        &NewMessage::sent("ack", &rec, verdict, Some(order_id.to_owned())),
    )
    .await;
    if ok {
        Ok(())
    } else {
        Err(format!(
            "acknowledging {order_id} failed: {}",
            rec.error()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("answered {:?}", rec.status()))
        ))
    }
}
