//! The delivery log: every webhook delivery with every attempt, and the two
//! ways a person can intervene — redeliver one message, or recover all the
//! failed messages of an endpoint once it works again.
//!
//! Redelivery keeps the message's `webhook-id`, exactly as Stripe's and
//! Svix's "resend" do: to the receiver it is another attempt of the same
//! message, so its de-duplication makes a redelivery of something already
//! processed harmless. Redelivery restarts the retry schedule.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use contract::{DeliveryId, DeliveryState, EndpointId, EventType, MessageId, OrderId, Timestamp};
use platform::db::{NullableInt, NullableText};

use super::Webhooks;
use super::endpoints;
use crate::error::StoreError;
use crate::timeline::{self, ExchangeView};
use crate::vocabulary::Trigger;

/// `GET /api/deliveries?order_id=…&endpoint_id=…&state=…&limit=…`, as
/// received (an id that matches nothing simply finds nothing; one that is
/// not an id at all is a `400`).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryFilter {
    /// Only the deliveries of this order.
    #[param(value_type = Option<OrderId>)]
    pub order_id: Option<String>,
    /// Only the deliveries to this endpoint.
    #[param(value_type = Option<EndpointId>)]
    pub endpoint_id: Option<String>,
    /// Only deliveries in this state.
    #[param(value_type = Option<DeliveryState>)]
    pub state: Option<String>,
    /// How many, newest first (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// Most deliveries one page of the log shows.
pub const MAX_LIMIT: i64 = 200;

/// One webhook message on its way to one endpoint.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct DeliveryView {
    #[sqlx(try_from = "String")]
    pub id: DeliveryId,
    #[sqlx(try_from = "String")]
    pub message_id: MessageId,
    #[sqlx(try_from = "String")]
    pub endpoint_id: EndpointId,
    #[sqlx(rename = "url")]
    pub endpoint_url: String,
    #[sqlx(try_from = "NullableText")]
    pub order_id: Option<OrderId>,
    #[sqlx(try_from = "String")]
    pub event_type: EventType,
    #[sqlx(try_from = "String")]
    pub state: DeliveryState,
    pub attempts: i64,
    /// Only while `pending`.
    #[sqlx(try_from = "NullableInt")]
    pub next_attempt_at: Option<Timestamp>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    #[sqlx(try_from = "i64")]
    pub created_at: Timestamp,
    #[sqlx(try_from = "NullableInt")]
    pub completed_at: Option<Timestamp>,
    /// Each attempt as sent and answered, oldest first.
    #[sqlx(skip)]
    pub attempt_log: Vec<ExchangeView>,
}

impl DeliveryView {
    /// Adds the attempts, and drops the due time of a delivery that is no
    /// longer waiting for one.
    async fn complete(mut self, hooks: &Webhooks) -> Result<DeliveryView, sqlx::Error> {
        if self.state != DeliveryState::Pending {
            self.next_attempt_at = None;
        }
        self.attempt_log = timeline::for_delivery(&hooks.ctx.db, &self.id).await?;
        Ok(self)
    }
}

const COLUMNS: &str = "d.id, d.message_id, d.endpoint_id, e.url, d.order_id, d.event_type, d.state, \
    d.attempts, d.next_attempt_at, d.last_status, d.last_error, d.created_at, d.completed_at";

/// Deliveries, newest first, filtered by order, endpoint and/or state.
pub async fn list(
    hooks: &Webhooks,
    filter: DeliveryFilter,
) -> Result<Vec<DeliveryView>, StoreError> {
    let limit = filter.limit.unwrap_or(50);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(StoreError::bad_request(format!(
            "`limit` must be between 1 and {MAX_LIMIT}"
        )));
    }
    // A well-formed id that matches nothing finds nothing; one that could
    // not be an id at all is a mistake worth saying.
    if let Some(id) = filter.order_id.as_deref() {
        OrderId::parse(id).map_err(|e| StoreError::bad_request(format!("`order_id`: {}", e.0)))?;
    }
    if let Some(id) = filter.endpoint_id.as_deref() {
        EndpointId::parse(id)
            .map_err(|e| StoreError::bad_request(format!("`endpoint_id`: {}", e.0)))?;
    }
    let state = match filter.state.as_deref() {
        None => None,
        Some(text) => Some(DeliveryState::parse(text).map_err(|_| {
            let words: Vec<&str> = DeliveryState::ALL.iter().map(|s| s.as_str()).collect();
            StoreError::bad_request(format!("`state` must be one of {}", words.join(", ")))
        })?),
    };
    // Each filter is `($n IS NULL OR column = $n)`: one statement text for
    // every combination, bound with NULL where a filter is absent.
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id \
         WHERE ($1 IS NULL OR d.order_id = $1) AND ($2 IS NULL OR d.endpoint_id = $2) \
           AND ($3 IS NULL OR d.state = $3) \
         ORDER BY d.created_at DESC, d.id DESC LIMIT $4"
    ));
    let rows: Vec<DeliveryView> = sqlx::query_as(sql)
        .bind(filter.order_id.as_deref())
        .bind(filter.endpoint_id.as_deref())
        .bind(state.map(DeliveryState::as_str))
        .bind(limit)
        .fetch_all(hooks.ctx.db.pool())
        .await?;
    let mut views = Vec::with_capacity(rows.len());
    for view in rows {
        views.push(view.complete(hooks).await?);
    }
    Ok(views)
}

pub async fn get(hooks: &Webhooks, id: &DeliveryId) -> Result<DeliveryView, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE d.id = $1"
    ));
    let view: DeliveryView = sqlx::query_as(sql)
        .bind(id.as_str())
        .fetch_optional(hooks.ctx.db.pool())
        .await?
        .ok_or_else(|| StoreError::not_found("delivery", id.as_str()))?;
    Ok(view.complete(hooks).await?)
}

/// Queues another attempt of a delivery, now, whatever state it is in —
/// except while an attempt is in flight, or once its endpoint is deleted
/// (the dispatcher sends nothing to a deleted endpoint, so a queued
/// attempt would only wait for ever).
pub async fn redeliver(hooks: &Webhooks, id: &DeliveryId) -> Result<DeliveryView, StoreError> {
    let now = hooks.ctx.clock.now().millis();
    let done = sqlx::query(
        "UPDATE webhook_deliveries SET state = $1, failures = 0, next_attempt_at = $2, \
         next_trigger = $3, completed_at = NULL, updated_at = $2 \
         WHERE id = $4 AND state <> $5 AND (lease_expires_at IS NULL OR lease_expires_at <= $2) \
         AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE deleted_at IS NULL)",
    )
    .bind(DeliveryState::Pending.as_str())
    .bind(now)
    .bind(Trigger::Manual.as_str())
    .bind(id.as_str())
    .bind(DeliveryState::Cancelled.as_str())
    .execute(hooks.ctx.db.writer())
    .await?;
    if done.rows_affected() == 0 {
        get(hooks, id).await?; // 404 if it does not exist
        let deleted_endpoints: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id \
             WHERE d.id = $1 AND e.deleted_at IS NOT NULL",
        )
        .bind(id.as_str())
        .fetch_one(hooks.ctx.db.pool())
        .await?;
        return Err(if deleted_endpoints > 0 {
            StoreError::EndpointDeleted
        } else {
            StoreError::conflict(
                "an attempt of this delivery is in flight right now; try again in a moment",
            )
        });
    }
    hooks.dispatch.look_at(hooks.ctx.clock.now());
    hooks.ctx.live.publish(
        contract::LiveEventKind::DeliveryUpdated,
        crate::live::DeliveryUpdatedData {
            id: id.clone(),
            state: DeliveryState::Pending,
            attempts: None,
            order_id: None,
        },
    );
    get(hooks, id).await
}

/// Queues every failed delivery of an endpoint again (after fixing it).
pub async fn recover(hooks: &Webhooks, endpoint_id: &EndpointId) -> Result<u64, StoreError> {
    endpoints::get(hooks, endpoint_id).await?;
    let now = hooks.ctx.clock.now().millis();
    let done = sqlx::query(
        "UPDATE webhook_deliveries SET state = $1, failures = 0, next_attempt_at = $2, \
         next_trigger = $3, completed_at = NULL, updated_at = $2 \
         WHERE endpoint_id = $4 AND state = $5",
    )
    .bind(DeliveryState::Pending.as_str())
    .bind(now)
    .bind(Trigger::Manual.as_str())
    .bind(endpoint_id.as_str())
    .bind(DeliveryState::Failed.as_str())
    .execute(hooks.ctx.db.writer())
    .await?;
    hooks.dispatch.look_at(hooks.ctx.clock.now());
    Ok(done.rows_affected())
}
