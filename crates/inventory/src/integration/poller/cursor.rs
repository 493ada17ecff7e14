//! A feed reader's memory: its cursor (how far into the store's feed it
//! has applied and acknowledged), and whether and how often it reads — one
//! row, so a restart picks up where the last run left off. There are two
//! readers ([`Feed`]): the poller (poll mode, `poller_state`) and hybrid
//! mode's reconciliation (`reconciler_state`), each with its own row, so
//! neither's reading moves the other's place.
//!
//! The cursor is [advanced](advance) only after a page's orders are applied
//! and acknowledged; see the poller's own comment for why that order is
//! the whole reliability story of a consumer.

use std::time::Duration;

use serde::Serialize;

use contract::{Channel, IntegrationMode, Timestamp};
use platform::Db;

use crate::config::{MAX_POLL_WAIT, PollSettings};

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
    /// How long the store may hold an empty read (0: not long polling).
    pub wait_ms: i64,
}

impl PollerState {
    /// The time between polls (never under 100 ms, whatever is stored).
    pub fn interval(&self) -> Duration {
        Duration::from_millis(self.interval_ms.max(100) as u64)
    }

    /// The `wait` each read carries when long polling (whole seconds, at
    /// most `MAX_POLL_WAIT`, whatever is stored); `None` when not.
    pub fn long_poll(&self) -> Option<Duration> {
        let seconds = (self.wait_ms / 1000).clamp(0, MAX_POLL_WAIT.as_secs() as i64);
        (seconds > 0).then(|| Duration::from_secs(seconds as u64))
    }
}

/// Which reader of the store's feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    /// Poll mode: every poll-mode order, on the poll interval.
    Poll,
    /// Hybrid mode's reconciliation: hybrid orders still pending — their
    /// notice lost — on the slow `RECONCILE_INTERVAL`.
    Reconcile,
}

impl Feed {
    /// Where its state row lives.
    fn table(self) -> &'static str {
        match self {
            Feed::Poll => "poller_state",
            Feed::Reconcile => "reconciler_state",
        }
    }

    /// The mode whose orders it lands.
    pub fn mode(self) -> IntegrationMode {
        match self {
            Feed::Poll => IntegrationMode::Poll,
            Feed::Reconcile => IntegrationMode::Hybrid,
        }
    }

    /// How its reads of the feed are logged.
    pub fn read_channel(self) -> Channel {
        match self {
            Feed::Poll => Channel::Feed,
            Feed::Reconcile => Channel::Reconcile,
        }
    }

    /// How its acknowledgements are logged.
    pub fn ack_channel(self) -> Channel {
        match self {
            Feed::Poll => Channel::Ack,
            Feed::Reconcile => Channel::Reconcile,
        }
    }
}

pub async fn load(db: &Db, feed: Feed) -> Result<PollerState, sqlx::Error> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT cursor, paused, interval_ms, wait_ms FROM {} WHERE id = 1",
        feed.table()
    ));
    sqlx::query_as(sql).fetch_one(db.pool()).await
}

/// Creates the state row on first start (paused/interval from config); a
/// configured long-poll wait (`POLL_WAIT`) is written at every start.
pub async fn init(
    db: &Db,
    feed: Feed,
    settings: &PollSettings,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    let sql = sqlx::AssertSqlSafe(format!(
        "INSERT INTO {} (id, cursor, paused, interval_ms, updated_at) VALUES (1, '', $1, $2, $3) \
         ON CONFLICT (id) DO NOTHING",
        feed.table()
    ));
    sqlx::query(sql)
        .bind(i64::from(settings.paused))
        .bind(settings.interval.as_millis() as i64)
        .bind(now.millis())
        .execute(db.writer())
        .await?;
    if let Some(wait) = settings.wait {
        let sql = sqlx::AssertSqlSafe(format!(
            "UPDATE {} SET wait_ms = $1 WHERE id = 1",
            feed.table()
        ));
        sqlx::query(sql)
            .bind(wait.as_millis() as i64)
            .execute(db.writer())
            .await?;
    }
    Ok(())
}

/// Pauses/resumes or changes the interval (what is `None` stays); the
/// state after.
/// What a change of the reader's settings sets (`None`: left as it is).
#[derive(Debug, Clone, Copy, Default)]
pub struct Change {
    pub paused: Option<bool>,
    pub interval_ms: Option<i64>,
    /// 0 switches long polling off.
    pub wait_ms: Option<i64>,
}

pub async fn change(
    db: &Db,
    feed: Feed,
    change: Change,
    now: Timestamp,
) -> Result<PollerState, sqlx::Error> {
    let current = load(db, feed).await?;
    let sql = sqlx::AssertSqlSafe(format!(
        "UPDATE {} SET paused = $1, interval_ms = $2, wait_ms = $3, updated_at = $4 WHERE id = 1",
        feed.table()
    ));
    sqlx::query(sql)
        .bind(i64::from(change.paused.unwrap_or(current.paused)))
        .bind(change.interval_ms.unwrap_or(current.interval_ms))
        .bind(change.wait_ms.unwrap_or(current.wait_ms))
        .bind(now.millis())
        .execute(db.writer())
        .await?;
    load(db, feed).await
}

/// Saves how far the feed has been handled.
pub async fn advance(db: &Db, feed: Feed, cursor: &str, now: Timestamp) -> Result<(), sqlx::Error> {
    let sql = sqlx::AssertSqlSafe(format!(
        "UPDATE {} SET cursor = $1, updated_at = $2 WHERE id = 1",
        feed.table()
    ));
    sqlx::query(sql)
        .bind(cursor)
        .bind(now.millis())
        .execute(db.writer())
        .await?;
    Ok(())
}
