//! The poller's memory: its cursor (how far into the store's feed it has
//! applied and acknowledged), and whether and how often it polls — one row
//! in `poller_state`, so a restart picks up where the last run left off.
//!
//! The cursor is [advanced](advance) only after a page's orders are applied
//! and acknowledged; see the module above for why that order is the whole
//! reliability story of a consumer.

use std::time::Duration;

use serde::Serialize;

use contract::Timestamp;

use crate::state::AppState;

/// The poller's persisted state.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PollerState {
    /// The feed's `iterator` after the last page handled; empty before the
    /// first (the feed then starts at its beginning).
    pub cursor: String,
    #[sqlx(try_from = "platform::db::IntBool")]
    pub paused: bool,
    pub interval_ms: i64,
}

impl PollerState {
    /// The time between polls (never under 100 ms, whatever is stored).
    pub fn interval(&self) -> Duration {
        Duration::from_millis(self.interval_ms.max(100) as u64)
    }
}

pub async fn load(app: &AppState) -> Result<PollerState, sqlx::Error> {
    sqlx::query_as("SELECT cursor, paused, interval_ms FROM poller_state WHERE id = 1")
        .fetch_one(app.db.pool())
        .await
}

/// Creates the state row on first start (paused/interval from config).
pub async fn init(app: &AppState) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO poller_state (id, cursor, paused, interval_ms, updated_at) VALUES (1, '', $1, $2, $3) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(i64::from(app.config.poll.paused))
    .bind(app.config.poll.interval.as_millis() as i64)
    .bind(app.clock.now().millis())
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
    .bind(app.clock.now().millis())
    .execute(app.db.writer())
    .await?;
    app.poller_wake.notify_one();
    let state = load(app).await?;
    app.live
        .publish(contract::LiveEventKind::PollerChanged, &state);
    Ok(state)
}

/// Saves how far the feed has been handled.
pub async fn advance(app: &AppState, cursor: &str, now: Timestamp) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE poller_state SET cursor = $1, updated_at = $2 WHERE id = 1")
        .bind(cursor)
        .bind(now.millis())
        .execute(app.db.writer())
        .await?;
    Ok(())
}
