//! The poller's memory: its cursor (how far into the store's feed it has
//! applied and acknowledged), and whether and how often it polls — one row
//! in `poller_state`, so a restart picks up where the last run left off.
//!
//! The cursor is [advanced](advance) only after a page's orders are applied
//! and acknowledged; see the poller's own comment for why that order is
//! the whole reliability story of a consumer.

use std::time::Duration;

use serde::Serialize;

use contract::Timestamp;
use platform::Db;

use crate::config::PollSettings;

/// The shortest and longest poll intervals a person may set.
pub const MIN_INTERVAL_MS: i64 = 250;
pub const MAX_INTERVAL_MS: i64 = 3_600_000;

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

pub async fn load(db: &Db) -> Result<PollerState, sqlx::Error> {
    sqlx::query_as("SELECT cursor, paused, interval_ms FROM poller_state WHERE id = 1")
        .fetch_one(db.pool())
        .await
}

/// Creates the state row on first start (paused/interval from config).
pub async fn init(db: &Db, settings: &PollSettings, now: Timestamp) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO poller_state (id, cursor, paused, interval_ms, updated_at) VALUES (1, '', $1, $2, $3) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(i64::from(settings.paused))
    .bind(settings.interval.as_millis() as i64)
    .bind(now.millis())
    .execute(db.writer())
    .await?;
    Ok(())
}

/// Pauses/resumes or changes the interval (what is `None` stays); the
/// state after.
pub async fn change(
    db: &Db,
    paused: Option<bool>,
    interval_ms: Option<i64>,
    now: Timestamp,
) -> Result<PollerState, sqlx::Error> {
    let current = load(db).await?;
    sqlx::query(
        "UPDATE poller_state SET paused = $1, interval_ms = $2, updated_at = $3 WHERE id = 1",
    )
    .bind(i64::from(paused.unwrap_or(current.paused)))
    .bind(interval_ms.unwrap_or(current.interval_ms))
    .bind(now.millis())
    .execute(db.writer())
    .await?;
    load(db).await
}

/// Saves how far the feed has been handled.
pub async fn advance(db: &Db, cursor: &str, now: Timestamp) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE poller_state SET cursor = $1, updated_at = $2 WHERE id = 1")
        .bind(cursor)
        .bind(now.millis())
        .execute(db.writer())
        .await?;
    Ok(())
}
