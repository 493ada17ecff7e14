//! Step 1 — **the outbox**: the event and its deliveries, written in the
//! order's transaction.
//!
//! [`enqueue_order_created`] runs *inside* the transaction that writes the
//! order (`checkout::place_order`, through [`super::Push`]): it stores the
//! `order.created` event as a message and one delivery row per subscribed
//! endpoint. Either the order and its event both commit or neither does.
//! The road not taken — "commit the order, then POST the webhook" — loses
//! the event whenever the process dies between the two, and "POST, then
//! commit" announces orders that never existed.
//!
//! A message is stored once, as the JSON text of the event: the canonical
//! form every attempt is rendered from, and its id is the `webhook-id` of
//! every attempt. A delivery is that message on its way to one endpoint.

use std::time::Duration;

use sqlx::AnyConnection;

use contract::events::{PingData, WebhookEvent};
use contract::order::Order;
use contract::{DeliveryId, DeliveryState, EndpointId, EventType, MessageId, OrderId, Timestamp};

use super::subscription::Subscription;

#[derive(sqlx::FromRow)]
struct Subscriber {
    #[sqlx(try_from = "String")]
    id: EndpointId,
    #[sqlx(try_from = "String")]
    event_types: Subscription,
}

/// Writes the `order.created` event and a delivery for every enabled
/// endpoint that subscribes to it. Call inside the order's transaction.
pub async fn enqueue_order_created(
    conn: &mut AnyConnection,
    order: &Order,
    now: Timestamp,
) -> Result<MessageId, sqlx::Error> {
    let event = WebhookEvent {
        event_type: EventType::OrderCreated,
        timestamp: now,
        data: order.clone(),
    };
    let payload = serde_json::to_string(&event).map_err(|e| sqlx::Error::Encode(e.into()))?;
    let message_id = insert_message(conn, event.event_type, Some(&order.id), &payload, now).await?;
    let subscribers: Vec<Subscriber> = sqlx::query_as(
        "SELECT id, event_types FROM webhook_endpoints WHERE enabled = 1 AND deleted_at IS NULL",
    )
    .fetch_all(&mut *conn)
    .await?;
    for endpoint in subscribers {
        if endpoint.event_types.wants(event.event_type) {
            let delivery = NewDelivery {
                message_id: &message_id,
                endpoint_id: &endpoint.id,
                order_id: Some(&order.id),
                event_type: event.event_type,
            };
            delivery.insert(conn, now, now).await?;
        }
    }
    Ok(message_id)
}

/// How long after registration the welcome ping is sent: a moment, so
/// the owner has time to store the secret it receives in the answer.
pub const REGISTRATION_PING_DELAY: Duration = Duration::from_secs(1);

/// Queues a signed `ping` for one endpoint (on registration, or from the
/// UI), due `delay` from `now`. Pings go to every endpoint, whatever it
/// subscribed to: they are how its owner checks the secret.
pub async fn enqueue_ping(
    conn: &mut AnyConnection,
    endpoint_id: &EndpointId,
    now: Timestamp,
    delay: Duration,
) -> Result<MessageId, sqlx::Error> {
    let event = WebhookEvent {
        event_type: EventType::Ping,
        timestamp: now,
        data: PingData {
            endpoint_id: endpoint_id.clone(),
            message: "Hello from the pushpull store: this endpoint will receive signed webhooks."
                .into(),
        },
    };
    let payload = serde_json::to_string(&event).map_err(|e| sqlx::Error::Encode(e.into()))?;
    let message_id = insert_message(conn, event.event_type, None, &payload, now).await?;
    let delivery = NewDelivery {
        message_id: &message_id,
        endpoint_id,
        order_id: None,
        event_type: event.event_type,
    };
    delivery.insert(conn, now, now + delay).await?;
    Ok(message_id)
}

/// Stores a message (the event, as JSON). Its id is the `webhook-id` of
/// every attempt to deliver it.
async fn insert_message(
    conn: &mut AnyConnection,
    event_type: EventType,
    order_id: Option<&OrderId>,
    payload: &str,
    now: Timestamp,
) -> Result<MessageId, sqlx::Error> {
    let id = MessageId::new();
    sqlx::query(
        "INSERT INTO webhook_messages (id, event_type, order_id, payload, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id.as_str())
    .bind(event_type.as_str())
    .bind(order_id.map(OrderId::as_str))
    .bind(payload)
    .bind(now.millis())
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// One message queued for one endpoint.
struct NewDelivery<'a> {
    message_id: &'a MessageId,
    endpoint_id: &'a EndpointId,
    order_id: Option<&'a OrderId>,
    event_type: EventType,
}

impl NewDelivery<'_> {
    /// Queues it, first attempt due at `due`.
    async fn insert(
        &self,
        conn: &mut AnyConnection,
        now: Timestamp,
        due: Timestamp,
    ) -> Result<DeliveryId, sqlx::Error> {
        let id = DeliveryId::new();
        sqlx::query(
            "INSERT INTO webhook_deliveries (id, message_id, endpoint_id, order_id, event_type, \
             state, next_attempt_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        )
        .bind(id.as_str())
        .bind(self.message_id.as_str())
        .bind(self.endpoint_id.as_str())
        .bind(self.order_id.map(OrderId::as_str))
        .bind(self.event_type.as_str())
        .bind(DeliveryState::Pending.as_str())
        .bind(due.millis())
        .bind(now.millis())
        .execute(&mut *conn)
        .await?;
        Ok(id)
    }
}
