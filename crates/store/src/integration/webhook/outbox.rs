//! Step 1 — **the outbox**: the event and its deliveries, written in the
//! order's transaction.
//!
//! [`enqueue_order_events`] runs *inside* the transaction that writes the
//! orders (`crate::checkout`, through [`super::Webhooks`]): it stores each order's
//! `order.created` event (webhook mode) or thin `order.notice` (hybrid
//! mode) as a message and one delivery row per subscribed
//! endpoint. Either an order and its event both commit or neither does.
//! The road not taken — "commit the order, then POST the webhook" — loses
//! the event whenever the process dies between the two, and "POST, then
//! commit" announces orders that never existed.
//!
//! A message is stored once, as the JSON text of the event: the canonical
//! form every attempt is rendered from, and its id is the `webhook-id` of
//! every attempt. A delivery is that message on its way to one endpoint.
//!
//! The deliveries are written already leased to this process's dispatcher
//! (when it has room, see `super::dispatcher::Dispatch::lease_for_new`),
//! and returned, so that the dispatcher can be handed them the moment the
//! transaction commits. Many orders committed together are written with
//! one statement per table, not one per order.

use std::sync::Arc;
use std::time::Duration;

use sqlx::AnyConnection;

use contract::events::{NoticeData, PingData, WebhookEvent};
use contract::order::Order;
use contract::{DeliveryId, DeliveryState, EndpointId, EventType, MessageId, OrderId, Timestamp};
use platform::db::{rows_per_statement, value_rows};

use super::delivery::{Claimed, Lease};
use super::subscription::Subscription;
use crate::vocabulary::Trigger;

#[derive(sqlx::FromRow)]
struct Subscriber {
    #[sqlx(try_from = "String")]
    id: EndpointId,
    #[sqlx(try_from = "String")]
    event_types: Subscription,
}

/// The deliveries an order's transaction wrote: those leased to this
/// process, to hand over once it commits, and whether others were left
/// unleased in the database (for the dispatcher to claim).
#[derive(Debug, Default)]
pub struct Enqueued {
    pub leased: Vec<Claimed>,
    pub unleased: bool,
}

/// Writes each order's event — `order.created` carrying the whole order
/// (webhook mode), or the thin `order.notice` naming it (hybrid mode) —
/// and a delivery for every enabled endpoint that subscribes to that type.
/// Call inside the orders' transaction. The deliveries the `lease` covers
/// are leased to this process's dispatcher and returned, to be handed over
/// once the transaction commits.
pub async fn enqueue_order_events(
    conn: &mut AnyConnection,
    orders: &[Order],
    event_type: EventType,
    now: Timestamp,
    lease: Option<&Lease>,
) -> Result<Enqueued, sqlx::Error> {
    let mut messages = Vec::with_capacity(orders.len());
    for order in orders {
        let payload = order_payload(order, event_type, now)?;
        messages.push(NewMessage {
            id: MessageId::new(),
            event_type,
            order_id: Some(&order.id),
            payload: payload.into(),
        });
    }
    insert_messages(conn, &messages, now).await?;
    let subscribers: Vec<Subscriber> = sqlx::query_as(
        "SELECT id, event_types FROM webhook_endpoints WHERE enabled = 1 AND deleted_at IS NULL",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut deliveries = Vec::new();
    for endpoint in subscribers
        .iter()
        .filter(|e| e.event_types.wants(event_type))
    {
        for message in &messages {
            deliveries.push(NewDelivery {
                id: DeliveryId::new(),
                message,
                endpoint_id: &endpoint.id,
                due: now,
            });
        }
    }
    insert_deliveries(conn, &deliveries, now, lease).await?;
    let Some(lease) = lease else {
        return Ok(Enqueued {
            leased: Vec::new(),
            unleased: !deliveries.is_empty(),
        });
    };
    let unleased = deliveries.iter().any(|d| !lease.covers(d.endpoint_id));
    let leased = deliveries
        .into_iter()
        .filter(|d| lease.covers(d.endpoint_id))
        .map(|d| Claimed {
            id: d.id,
            message_id: d.message.id.clone(),
            endpoint_id: d.endpoint_id.clone(),
            order_id: d.message.order_id.cloned(),
            event_type: d.message.event_type,
            attempts: 0,
            failures: 0,
            next_trigger: Trigger::Scheduled,
            payload: d.message.payload.clone(),
            leased_until: lease.until,
        })
        .collect();
    Ok(Enqueued { leased, unleased })
}

/// Queues, for an endpoint just added, the `order.created` event of every
/// webhook-mode order still `pending` that it was never sent — above all
/// those placed while no endpoint existed, which have no delivery at all
/// and would otherwise wait for ever. Call in the transaction that adds
/// the endpoint. Returns how many were queued. They are due with the
/// welcome ping, [`REGISTRATION_PING_DELAY`] from `now`, for the same
/// reason: the owner stores the secret from the answer first.
///
/// Only orders still waiting: a resolved order's event is history, and a
/// new endpoint is not sent the shop's past.
pub async fn enqueue_waiting_orders(
    conn: &mut AnyConnection,
    endpoint_id: &EndpointId,
    types: &Subscription,
    now: Timestamp,
) -> Result<usize, sqlx::Error> {
    if !types.wants(EventType::OrderCreated) {
        return Ok(0);
    }
    let waiting: Vec<(String, String)> = sqlx::query_as(
        "SELECT m.id, m.order_id FROM webhook_messages m JOIN orders o ON o.id = m.order_id \
         WHERE m.event_type = $1 AND o.status = $2 AND o.mode = $3 \
         AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.message_id = m.id AND d.endpoint_id = $4) \
         ORDER BY m.created_at, m.id",
    )
    .bind(EventType::OrderCreated.as_str())
    .bind(contract::OrderStatus::Pending.as_str())
    .bind(contract::IntegrationMode::Webhook.as_str())
    .bind(endpoint_id.as_str())
    .fetch_all(&mut *conn)
    .await?;
    let mut messages = Vec::with_capacity(waiting.len());
    for (id, order_id) in waiting {
        let decode = |e: contract::ParseError| sqlx::Error::Decode(e.0.into());
        messages.push((
            MessageId::try_from(id).map_err(decode)?,
            OrderId::try_from(order_id).map_err(decode)?,
        ));
    }
    let messages: Vec<NewMessage> = messages
        .iter()
        .map(|(id, order_id)| NewMessage {
            id: id.clone(),
            event_type: EventType::OrderCreated,
            order_id: Some(order_id),
            // Stored already; a delivery row names the message, not its body.
            payload: Arc::from(""),
        })
        .collect();
    let deliveries: Vec<NewDelivery> = messages
        .iter()
        .map(|message| NewDelivery {
            id: DeliveryId::new(),
            message,
            endpoint_id,
            due: now + REGISTRATION_PING_DELAY,
        })
        .collect();
    insert_deliveries(conn, &deliveries, now, None).await?;
    Ok(deliveries.len())
}

/// The JSON text of an order's event. A notice carries the order's id and
/// nothing else: what the order *is* the receiver reads from the store
/// when it fetches it, so it is never stale and never in a webhook log.
fn order_payload(
    order: &Order,
    event_type: EventType,
    now: Timestamp,
) -> Result<String, sqlx::Error> {
    let encoded = match event_type {
        EventType::OrderNotice => serde_json::to_string(&WebhookEvent {
            event_type,
            timestamp: now,
            data: NoticeData {
                order_id: order.id.clone(),
            },
        }),
        EventType::OrderCreated | EventType::Ping => serde_json::to_string(&WebhookEvent {
            event_type,
            timestamp: now,
            data: order,
        }),
    };
    encoded.map_err(|e| sqlx::Error::Encode(e.into()))
}

/// How long after registration the welcome ping is sent: a moment, so
/// the owner has time to store the secret it receives in the answer.
pub const REGISTRATION_PING_DELAY: Duration = Duration::from_secs(1);

/// What a ping says unless the person sending it wrote something else.
pub const PING_MESSAGE: &str =
    "Hello from the pushpull store: this endpoint will receive signed webhooks.";

/// Queues a signed `ping` for one endpoint (on registration, or from the
/// UI: a test event, with a `message` the person wrote), due `delay` from
/// `now`. Pings go to every endpoint, whatever it subscribed to: they are
/// how its owner checks the secret.
pub async fn enqueue_ping(
    conn: &mut AnyConnection,
    endpoint_id: &EndpointId,
    now: Timestamp,
    delay: Duration,
    message: Option<&str>,
) -> Result<MessageId, sqlx::Error> {
    let event = WebhookEvent {
        event_type: EventType::Ping,
        timestamp: now,
        data: PingData {
            endpoint_id: endpoint_id.clone(),
            message: message.unwrap_or(PING_MESSAGE).to_owned(),
        },
    };
    let payload = serde_json::to_string(&event).map_err(|e| sqlx::Error::Encode(e.into()))?;
    let message = NewMessage {
        id: MessageId::new(),
        event_type: event.event_type,
        order_id: None,
        payload: payload.into(),
    };
    insert_messages(conn, std::slice::from_ref(&message), now).await?;
    let delivery = NewDelivery {
        id: DeliveryId::new(),
        message: &message,
        endpoint_id,
        due: now + delay,
    };
    insert_deliveries(conn, std::slice::from_ref(&delivery), now, None).await?;
    Ok(message.id)
}

/// A message to store: the event, as JSON. Its id is the `webhook-id` of
/// every attempt to deliver it.
struct NewMessage<'a> {
    id: MessageId,
    event_type: EventType,
    order_id: Option<&'a OrderId>,
    payload: Arc<str>,
}

async fn insert_messages(
    conn: &mut AnyConnection,
    messages: &[NewMessage<'_>],
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    for chunk in messages.chunks(rows_per_statement(5)) {
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO webhook_messages (id, event_type, order_id, payload, created_at) VALUES {}",
            value_rows(5, chunk.len())
        ));
        let mut query = sqlx::query(sql);
        for m in chunk {
            query = query
                .bind(m.id.as_str())
                .bind(m.event_type.as_str())
                .bind(m.order_id.map(OrderId::as_str))
                .bind(&*m.payload)
                .bind(now.millis());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// One message queued for one endpoint, first attempt due at `due`.
struct NewDelivery<'a> {
    id: DeliveryId,
    message: &'a NewMessage<'a>,
    endpoint_id: &'a EndpointId,
    due: Timestamp,
}

async fn insert_deliveries(
    conn: &mut AnyConnection,
    deliveries: &[NewDelivery<'_>],
    now: Timestamp,
    lease: Option<&Lease>,
) -> Result<(), sqlx::Error> {
    for chunk in deliveries.chunks(rows_per_statement(11)) {
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO webhook_deliveries (id, message_id, endpoint_id, order_id, event_type, \
             state, next_attempt_at, lease_owner, lease_expires_at, created_at, updated_at) VALUES {}",
            value_rows(11, chunk.len())
        ));
        let mut query = sqlx::query(sql);
        for d in chunk {
            let lease = lease.filter(|l| l.covers(d.endpoint_id));
            query = query
                .bind(d.id.as_str())
                .bind(d.message.id.as_str())
                .bind(d.endpoint_id.as_str())
                .bind(d.message.order_id.map(OrderId::as_str))
                .bind(d.message.event_type.as_str())
                .bind(DeliveryState::Pending.as_str())
                .bind(d.due.millis())
                .bind(lease.map(|l| l.owner.as_str()))
                .bind(lease.map(|l| l.until.millis()))
                .bind(now.millis())
                .bind(now.millis());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}
