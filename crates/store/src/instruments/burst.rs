//! The compare page's one-click experiment: place the same small burst of
//! orders in each mode, one mode after the other, and let the charts show
//! the difference.
//!
//! A burst switches the store's mode (`integration::set_mode`), places
//! [`Plan::per_mode`] identical orders through `checkout::place_order` —
//! exactly the path a customer's checkout takes — waits until each has been
//! resolved (or [`Plan::settle_timeout`] passes), moves on to the next mode,
//! and finally switches back to the mode it found. It runs as a background
//! task so the page that started it never waits; its progress is published
//! as `burst.progress` events and kept in the `settings` table.
//!
//! Why the database and not memory: every store process sharing the
//! database then agrees whether a burst is running (only one may run,
//! claimed with a single conditional upsert), and a page rendered by any of
//! them shows the same progress. A burst whose process died stops
//! heart-beating and is considered abandoned after [`STALE_AFTER`].
//!
//! The trade-off to know about: the mode is global, so an order a person
//! places while a burst is running goes through whatever mode the burst has
//! switched to. That is the honest cost of measuring with the real
//! checkout path instead of a simulation.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use contract::order::{Customer, LineItem, NewOrder};
use contract::{BurstId, IntegrationMode, OrderId, OrderStatus, Quantity, Sku, Timestamp};
use platform::Db;

use crate::state::AppState;
use crate::{catalog, integration};

const PROGRESS_KEY: &str = "compare.burst";
const LOCK_KEY: &str = "compare.burst.lock";
const IDLE: &str = "idle";
/// A running burst that has not written progress for this long is taken
/// to be dead (its process stopped) and no longer blocks a new one.
pub const STALE_AFTER: Duration = Duration::from_secs(2 * 60);

/// How big a burst is and how long each mode may take to settle.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub per_mode: usize,
    pub settle_timeout: Duration,
}

impl Default for Plan {
    /// Five orders per mode; long enough for a 5-second poll interval and a
    /// webhook retry or two.
    fn default() -> Plan {
        Plan {
            per_mode: 5,
            settle_timeout: Duration::from_secs(45),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    Waiting,
    Placing,
    Settling,
    Done,
    TimedOut,
}

impl StepState {
    pub fn label(self) -> &'static str {
        match self {
            StepState::Waiting => "waiting",
            StepState::Placing => "placing orders",
            StepState::Settling => "waiting for the inventory",
            StepState::Done => "done",
            StepState::TimedOut => "timed out",
        }
    }
}

/// One mode's part of a burst.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Step {
    pub mode: IntegrationMode,
    pub state: StepState,
    pub total: usize,
    pub placed: usize,
    pub resolved: usize,
    /// From the first order placed to the last one resolved.
    pub elapsed_ms: i64,
    pub order_ids: Vec<OrderId>,
}

/// A burst and how far it got (also `burst.progress`'s data on
/// `GET /events`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Burst {
    pub id: BurstId,
    pub running: bool,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    /// The mode the store was in before, and is in again after.
    pub restore_mode: IntegrationMode,
    pub steps: Vec<Step>,
    /// What went wrong, if something did.
    pub problem: Option<String>,
}

impl Burst {
    /// Orders placed and resolved so far, out of all the burst will place.
    pub fn progress(&self) -> (usize, usize) {
        let total: usize = self.steps.iter().map(|s| s.total).sum();
        let done: usize = self.steps.iter().map(|s| s.resolved).sum();
        (done, total)
    }

    pub fn percent(&self) -> usize {
        let (done, total) = self.progress();
        (done * 100).checked_div(total).unwrap_or(100)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BurstError {
    #[error("a burst is already running")]
    AlreadyRunning,
    #[error("the catalog is empty")]
    NoProducts,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

#[derive(sqlx::FromRow)]
struct Setting {
    value: String,
}

/// The latest burst, running or finished.
pub async fn current(db: &Db) -> Result<Option<Burst>, sqlx::Error> {
    let row: Option<Setting> = sqlx::query_as("SELECT value FROM settings WHERE key = $1")
        .bind(PROGRESS_KEY)
        .fetch_optional(db.pool())
        .await?;
    // A progress record this build cannot read is no burst to show.
    Ok(row.and_then(|r| serde_json::from_str(&r.value).ok()))
}

/// Claims the burst lock for `id`. Only one burst runs at a time, across
/// every store process sharing the database.
async fn claim(db: &Db, id: &BurstId, now: Timestamp) -> Result<bool, sqlx::Error> {
    let row = sqlx::query(
        "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at \
         WHERE settings.value = $4 OR settings.updated_at < $5 \
         RETURNING key",
    )
    .bind(LOCK_KEY)
    .bind(id.as_str())
    .bind(now.millis())
    .bind(IDLE)
    .bind((now - STALE_AFTER).millis())
    .fetch_optional(db.pool())
    .await?;
    Ok(row.is_some())
}

/// Stores the progress (and so renews the lock) and tells the browsers.
async fn save(app: &AppState, burst: &Burst) -> Result<(), sqlx::Error> {
    let now = app.ctx.clock.now().millis();
    let text = serde_json::to_string(burst).map_err(|e| sqlx::Error::Encode(e.into()))?;
    sqlx::query(
        "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(PROGRESS_KEY)
    .bind(&text)
    .bind(now)
    .execute(app.ctx.db.pool())
    .await?;
    let lock = if burst.running {
        burst.id.as_str()
    } else {
        IDLE
    };
    sqlx::query("UPDATE settings SET value = $1, updated_at = $2 WHERE key = $3 AND value = $4")
        .bind(lock)
        .bind(now)
        .bind(LOCK_KEY)
        .bind(burst.id.as_str())
        .execute(app.ctx.db.pool())
        .await?;
    app.ctx
        .live
        .publish(contract::LiveEventKind::BurstProgress, burst);
    Ok(())
}

/// Starts a burst in the background and returns its first progress.
pub async fn start(app: Arc<AppState>, plan: Plan) -> Result<Burst, BurstError> {
    let products = catalog::list(&app.ctx.db).await?;
    if products.is_empty() {
        return Err(BurstError::NoProducts);
    }
    let now = app.ctx.clock.now();
    let id = BurstId::new();
    if !claim(&app.ctx.db, &id, now).await? {
        return Err(BurstError::AlreadyRunning);
    }
    let burst = Burst {
        id,
        running: true,
        started_at: now,
        finished_at: None,
        restore_mode: integration::read_mode(&app.ctx.db).await?,
        steps: IntegrationMode::ALL
            .iter()
            .map(|mode| Step {
                mode: *mode,
                state: StepState::Waiting,
                total: plan.per_mode,
                placed: 0,
                resolved: 0,
                elapsed_ms: 0,
                order_ids: Vec::new(),
            })
            .collect(),
        problem: None,
    };
    save(&app, &burst).await?;
    // The same items in every mode: order k takes one of product k.
    let items: Vec<Sku> = (0..plan.per_mode)
        .filter_map(|k| Sku::parse(&products[k % products.len()].sku).ok())
        .collect();
    let task_burst = burst.clone();
    tokio::spawn(async move {
        let mut burst = task_burst;
        if let Err(e) = run(&app, plan, &items, &mut burst).await {
            tracing::error!(error = %e, "the burst stopped");
            burst.problem = Some(format!("stopped early: {e}"));
        }
        // Whatever happened, put the store back in the mode it was in.
        if let Err(e) = integration::set_mode(
            &app.ctx.db,
            &app.ctx.live,
            burst.restore_mode,
            app.ctx.clock.now(),
        )
        .await
        {
            tracing::error!(error = %e, "could not restore the mode after a burst");
        }
        burst.running = false;
        burst.finished_at = Some(app.ctx.clock.now());
        if let Err(e) = save(&app, &burst).await {
            tracing::error!(error = %e, "could not record the end of a burst");
        }
    });
    Ok(burst)
}

async fn run(
    app: &AppState,
    plan: Plan,
    items: &[Sku],
    burst: &mut Burst,
) -> Result<(), sqlx::Error> {
    let one = Quantity::parse(1).expect("1 is a valid quantity");
    for step in 0..burst.steps.len() {
        let mode = burst.steps[step].mode;
        integration::set_mode(&app.ctx.db, &app.ctx.live, mode, app.ctx.clock.now()).await?;
        burst.steps[step].state = StepState::Placing;
        save(app, burst).await?;

        let began = std::time::Instant::now();
        for (k, sku) in items.iter().enumerate() {
            let order = NewOrder {
                customer: Customer {
                    name: format!("Burst shopper {} of {}", k + 1, items.len()),
                    email: "burst@example.com".into(),
                },
                items: vec![LineItem {
                    sku: sku.clone(),
                    quantity: one,
                }],
            };
            match app.checkout.place_order(order, None).await {
                Ok(placed) => burst.steps[step].order_ids.push(placed.order.id),
                Err(e) => {
                    burst.problem =
                        Some(format!("an order in {mode} mode could not be placed: {e}"));
                }
            }
            burst.steps[step].placed = k + 1;
            save(app, burst).await?;
        }

        burst.steps[step].state = StepState::Settling;
        let deadline = tokio::time::Instant::now() + plan.settle_timeout;
        let mut last_saved = tokio::time::Instant::now();
        loop {
            let resolved = count_resolved(&app.ctx.db, &burst.steps[step].order_ids).await?;
            let changed = resolved != burst.steps[step].resolved;
            burst.steps[step].resolved = resolved;
            burst.steps[step].elapsed_ms = began.elapsed().as_millis() as i64;
            if resolved >= burst.steps[step].order_ids.len() {
                burst.steps[step].state = StepState::Done;
                break;
            }
            if tokio::time::Instant::now() >= deadline {
                burst.steps[step].state = StepState::TimedOut;
                break;
            }
            // Publish on change, and renew the lock now and then even
            // when nothing moves (a long poll interval).
            if changed || last_saved.elapsed() >= Duration::from_secs(5) {
                save(app, burst).await?;
                last_saved = tokio::time::Instant::now();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        save(app, burst).await?;
    }
    Ok(())
}

/// How many of `ids` are no longer pending.
async fn count_resolved(db: &Db, ids: &[OrderId]) -> Result<usize, sqlx::Error> {
    if ids.is_empty() {
        return Ok(0);
    }
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS n FROM orders WHERE status <> $1 AND id IN ({})",
        platform::db::placeholders(2, ids.len())
    ));
    let mut query = sqlx::query_as::<_, Count>(sql).bind(OrderStatus::Pending.as_str());
    for id in ids {
        query = query.bind(id.as_str());
    }
    Ok(query.fetch_one(db.pool()).await?.n as usize)
}

#[derive(sqlx::FromRow)]
struct Count {
    n: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_counts_resolved_orders_of_all_steps() {
        let step = |resolved| Step {
            mode: IntegrationMode::Api,
            state: StepState::Done,
            total: 5,
            placed: 5,
            resolved,
            elapsed_ms: 0,
            order_ids: vec![],
        };
        let burst = Burst {
            id: BurstId::parse("burst_1").unwrap(),
            running: true,
            started_at: Timestamp(0),
            finished_at: None,
            restore_mode: IntegrationMode::Webhook,
            steps: vec![step(5), step(2), step(0)],
            problem: None,
        };
        assert_eq!(burst.progress(), (7, 15));
        assert_eq!(burst.percent(), 46);
    }
}
