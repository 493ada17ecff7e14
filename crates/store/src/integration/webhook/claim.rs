//! Step 3 — **claim with a lease**: what the dispatcher takes from the
//! database rather than being handed — retries that fell due, leases that
//! ran out (a crashed process's work), redeliveries, and work another store
//! process committed.
//!
//! A claim stamps due deliveries with this process's name and a lease
//! expiry in one `UPDATE … RETURNING`; on PostgreSQL the candidates are
//! picked `FOR UPDATE SKIP LOCKED`, so two processes claiming at once take
//! different rows instead of waiting on each other. (SQLite has one writer
//! at a time: its claims are exclusive anyway.)

use std::sync::Arc;

use contract::{DeliveryId, DeliveryState, EndpointId, EventType, MessageId, OrderId, Timestamp};
use platform::Db;
use platform::db::NullableText;

use super::delivery::Claimed;
use crate::vocabulary::Trigger;

/// Deliveries whose endpoint can take them, as an SQL condition.
const ENDPOINT_LIVE: &str =
    "endpoint_id IN (SELECT id FROM webhook_endpoints WHERE enabled = 1 AND deleted_at IS NULL)";

/// A delivery row as the claim returns it.
#[derive(sqlx::FromRow)]
struct ClaimedRow {
    #[sqlx(try_from = "String")]
    id: DeliveryId,
    #[sqlx(try_from = "String")]
    message_id: MessageId,
    #[sqlx(try_from = "String")]
    endpoint_id: EndpointId,
    #[sqlx(try_from = "NullableText")]
    order_id: Option<OrderId>,
    #[sqlx(try_from = "String")]
    event_type: EventType,
    attempts: i64,
    failures: i64,
    #[sqlx(try_from = "String")]
    next_trigger: Trigger,
}

#[derive(sqlx::FromRow)]
struct Payload {
    id: String,
    payload: String,
}

#[derive(sqlx::FromRow)]
struct Due {
    due: Option<i64>,
}

/// Claims up to `limit` due deliveries for `owner` until `until`, leaving
/// alone the endpoints in `full` (they have all the work in memory they
/// may have).
pub async fn due(
    db: &Db,
    owner: &str,
    until: Timestamp,
    limit: usize,
    now: Timestamp,
    full: &[EndpointId],
) -> Result<Vec<Claimed>, sqlx::Error> {
    let not_full = if full.is_empty() {
        String::new()
    } else {
        format!(
            " AND endpoint_id NOT IN ({})",
            platform::db::placeholders(6, full.len())
        )
    };
    // The conditions appear twice on purpose: the inner SELECT picks
    // candidates, the outer WHERE re-checks each row as it is updated,
    // so a row another dispatcher claimed in between is not taken.
    let sql = sqlx::AssertSqlSafe(format!(
        "UPDATE webhook_deliveries SET lease_owner = $1, lease_expires_at = $2, updated_at = $3 \
         WHERE id IN (\
            SELECT id FROM webhook_deliveries \
            WHERE state = $5 AND next_attempt_at <= $3 \
              AND (lease_expires_at IS NULL OR lease_expires_at <= $3) AND {ENDPOINT_LIVE}{not_full} \
            ORDER BY next_attempt_at LIMIT $4{skip_locked}) \
         AND state = $5 AND (lease_expires_at IS NULL OR lease_expires_at <= $3) \
         RETURNING id, message_id, endpoint_id, order_id, event_type, attempts, failures, \
                   next_trigger",
        skip_locked = db.skip_locked()
    ));
    let mut query = sqlx::query_as::<_, ClaimedRow>(sql)
        .bind(owner)
        .bind(until.millis())
        .bind(now.millis())
        .bind(limit as i64)
        .bind(DeliveryState::Pending.as_str());
    for endpoint in full {
        query = query.bind(endpoint.as_str());
    }
    let rows: Vec<ClaimedRow> = query.fetch_all(db.writer()).await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    // Their messages, in one query.
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT id, payload FROM webhook_messages WHERE id IN ({})",
        platform::db::placeholders(1, rows.len())
    ));
    let mut query = sqlx::query_as::<_, Payload>(sql);
    for row in &rows {
        query = query.bind(row.message_id.as_str());
    }
    let payloads: std::collections::HashMap<String, Arc<str>> = query
        .fetch_all(db.pool())
        .await?
        .into_iter()
        .map(|p| (p.id, p.payload.into()))
        .collect();
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let payload = payloads.get(row.message_id.as_str())?.clone();
            Some(Claimed {
                id: row.id,
                message_id: row.message_id,
                endpoint_id: row.endpoint_id,
                order_id: row.order_id,
                event_type: row.event_type,
                attempts: row.attempts,
                failures: row.failures,
                next_trigger: row.next_trigger,
                payload,
                leased_until: until,
            })
        })
        .collect())
}

/// When the next delivery becomes due (or another process's lease on one
/// runs out; `owner`'s are renewed while it holds them).
pub async fn next_due(db: &Db, owner: &str) -> Result<Option<Timestamp>, sqlx::Error> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT MIN(CASE WHEN lease_expires_at IS NOT NULL AND lease_expires_at > next_attempt_at \
                    THEN lease_expires_at ELSE next_attempt_at END) AS due \
         FROM webhook_deliveries WHERE state = $1 AND {ENDPOINT_LIVE} \
           AND (lease_owner IS NULL OR lease_owner <> $2)"
    ));
    let row: Due = sqlx::query_as(sql)
        .bind(DeliveryState::Pending.as_str())
        .bind(owner)
        .fetch_one(db.pool())
        .await?;
    Ok(row.due.map(Timestamp))
}
