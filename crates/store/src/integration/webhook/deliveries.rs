//! The delivery log: every webhook delivery with every attempt, and the two
//! ways a person can intervene — redeliver one message, or recover all the
//! failed messages of an endpoint once it works again.
//!
//! Redelivery keeps the message's `webhook-id`, exactly as Stripe's and
//! Svix's "resend" do: to the receiver it is another attempt of the same
//! message, so its de-duplication makes a redelivery of something already
//! processed harmless. Redelivery restarts the retry schedule.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use contract::Timestamp;

use crate::error::StoreError;
use crate::state::AppState;
use crate::timeline::{self, ExchangeView};

#[derive(Debug, Default, Deserialize)]
pub struct DeliveryFilter {
    pub order_id: Option<String>,
    pub endpoint_id: Option<String>,
    pub state: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeliveryView {
    pub id: String,
    pub message_id: String,
    pub endpoint_id: String,
    pub endpoint_url: String,
    pub order_id: Option<String>,
    pub event_type: String,
    /// `pending`, `succeeded`, `failed` or `cancelled`.
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: Option<Timestamp>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub completed_at: Option<Timestamp>,
    /// Each attempt as sent and answered, oldest first.
    pub attempt_log: Vec<ExchangeView>,
}

pub const STATES: &[&str] = &["pending", "succeeded", "failed", "cancelled"];

fn view_from_row(row: &sqlx::any::AnyRow) -> Result<DeliveryView, sqlx::Error> {
    let state: String = row.try_get("state")?;
    let next: i64 = row.try_get("next_attempt_at")?;
    Ok(DeliveryView {
        id: row.try_get("id")?,
        message_id: row.try_get("message_id")?,
        endpoint_id: row.try_get("endpoint_id")?,
        endpoint_url: row.try_get("url")?,
        order_id: row.try_get("order_id")?,
        event_type: row.try_get("event_type")?,
        next_attempt_at: (state == "pending").then_some(Timestamp(next)),
        state,
        attempts: row.try_get("attempts")?,
        last_status: row.try_get("last_status")?,
        last_error: row.try_get("last_error")?,
        created_at: Timestamp(row.try_get("created_at")?),
        completed_at: row
            .try_get::<Option<i64>, _>("completed_at")?
            .map(Timestamp),
        attempt_log: Vec::new(),
    })
}

const COLUMNS: &str = "d.id, d.message_id, d.endpoint_id, e.url, d.order_id, d.event_type, d.state, \
    d.attempts, d.next_attempt_at, d.last_status, d.last_error, d.created_at, d.completed_at";

/// Deliveries, newest first, filtered by order, endpoint and/or state.
pub async fn list(app: &AppState, filter: DeliveryFilter) -> Result<Vec<DeliveryView>, StoreError> {
    let limit = filter.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(StoreError::bad_request("`limit` must be between 1 and 200"));
    }
    if let Some(state) = &filter.state
        && !STATES.contains(&state.as_str())
    {
        return Err(StoreError::bad_request(format!(
            "`state` must be one of {}",
            STATES.join(", ")
        )));
    }
    // Each filter is `($n IS NULL OR column = $n)`: one statement text for
    // every combination, bound with NULL where a filter is absent.
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id \
         WHERE ($1 IS NULL OR d.order_id = $1) AND ($2 IS NULL OR d.endpoint_id = $2) \
           AND ($3 IS NULL OR d.state = $3) \
         ORDER BY d.created_at DESC, d.id DESC LIMIT $4"
    ));
    let rows = sqlx::query(sql)
        .bind(filter.order_id.as_deref())
        .bind(filter.endpoint_id.as_deref())
        .bind(filter.state.as_deref())
        .bind(limit)
        .fetch_all(app.db.pool())
        .await?;
    let mut views = Vec::with_capacity(rows.len());
    for row in &rows {
        let mut view = view_from_row(row)?;
        view.attempt_log = timeline::for_delivery(&app.db, &view.id).await?;
        views.push(view);
    }
    Ok(views)
}

pub async fn get(app: &AppState, id: &str) -> Result<DeliveryView, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE d.id = $1"
    ));
    let row = sqlx::query(sql)
        .bind(id)
        .fetch_optional(app.db.pool())
        .await?
        .ok_or_else(|| StoreError::not_found("delivery", id))?;
    let mut view = view_from_row(&row)?;
    view.attempt_log = timeline::for_delivery(&app.db, id).await?;
    Ok(view)
}

/// Queues another attempt of a delivery, now, whatever state it is in
/// (except while an attempt is in flight, or its endpoint is deleted).
pub async fn redeliver(app: &AppState, id: &str) -> Result<DeliveryView, StoreError> {
    let now = app.clock.now_ms();
    let done = sqlx::query(
        "UPDATE webhook_deliveries SET state = 'pending', failures = 0, next_attempt_at = $1, \
         next_trigger = 'manual', completed_at = NULL, updated_at = $1 \
         WHERE id = $2 AND state <> 'cancelled' AND (lease_expires_at IS NULL OR lease_expires_at <= $1)",
    )
    .bind(now)
    .bind(id)
    .execute(app.db.writer())
    .await?;
    if done.rows_affected() == 0 {
        let current = get(app, id).await?; // 404 if it does not exist
        return Err(StoreError::conflict(if current.state == "cancelled" {
            "this delivery's endpoint was deleted"
        } else {
            "an attempt of this delivery is in flight right now; try again in a moment"
        }));
    }
    app.dispatcher_wake.notify_one();
    app.live.publish(
        "delivery.updated",
        serde_json::json!({"id": id, "state": "pending"}),
    );
    get(app, id).await
}

/// Queues every failed delivery of an endpoint again (after fixing it).
pub async fn recover(app: &AppState, endpoint_id: &str) -> Result<u64, StoreError> {
    super::endpoints::get(app, endpoint_id).await?;
    let now = app.clock.now_ms();
    let done = sqlx::query(
        "UPDATE webhook_deliveries SET state = 'pending', failures = 0, next_attempt_at = $1, \
         next_trigger = 'manual', completed_at = NULL, updated_at = $1 \
         WHERE endpoint_id = $2 AND state = 'failed'",
    )
    .bind(now)
    .bind(endpoint_id)
    .execute(app.db.writer())
    .await?;
    app.dispatcher_wake.notify_one();
    Ok(done.rows_affected())
}

/// Counts of deliveries by state, for the settings page.
pub async fn counts(app: &AppState) -> Result<Vec<(String, i64)>, StoreError> {
    let rows = sqlx::query(
        "SELECT state, COUNT(*) AS n FROM webhook_deliveries GROUP BY state ORDER BY state",
    )
    .fetch_all(app.db.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| Ok((r.try_get("state")?, r.try_get("n")?)))
        .collect::<Result<_, sqlx::Error>>()?)
}
