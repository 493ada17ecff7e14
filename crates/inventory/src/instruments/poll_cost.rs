//! What polling has cost and delivered so far, read from the message log
//! and the ledger of applied orders: every poll is a request, most find
//! nothing new, and an order waits for the next tick. `GET /api/poller`
//! reports it, and the compare page charts it against push.

use serde::Serialize;

use contract::{Channel, IntegrationMode, VerdictKind};
use platform::Db;

#[derive(Debug, Clone, Default, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PollStats {
    pub polls: i64,
    /// Polls that applied nothing: no orders at all, or none new for poll
    /// mode.
    pub empty_polls: i64,
    pub failed_polls: i64,
    pub orders_applied: i64,
    /// Order created (at the store) → applied here, in milliseconds.
    pub average_delay_ms: Option<i64>,
    pub max_delay_ms: Option<i64>,
}

pub async fn stats(db: &Db) -> Result<PollStats, sqlx::Error> {
    sqlx::query_as(
        "SELECT polls, empty_polls, failed_polls, orders_applied, average_delay_ms, max_delay_ms FROM \
         (SELECT COUNT(*) AS polls, \
            CAST(COALESCE(SUM(CASE WHEN verdict IN ($2, $3) THEN 1 ELSE 0 END), 0) AS BIGINT) AS empty_polls, \
            CAST(COALESCE(SUM(CASE WHEN verdict = $4 THEN 1 ELSE 0 END), 0) AS BIGINT) AS failed_polls \
          FROM messages WHERE channel = $1) AS polling, \
         (SELECT COUNT(*) AS orders_applied, \
            CAST(AVG(applied_at - order_created_at) AS BIGINT) AS average_delay_ms, \
            MAX(applied_at - order_created_at) AS max_delay_ms \
          FROM applied_orders WHERE channel = $5 AND order_created_at IS NOT NULL) AS applied",
    )
    .bind(Channel::Feed.as_str())
    .bind(VerdictKind::Empty.as_str())
    .bind(VerdictKind::NothingNew.as_str())
    .bind(VerdictKind::Failed.as_str())
    .bind(IntegrationMode::Poll.as_str())
    .fetch_one(db.pool())
    .await
}
