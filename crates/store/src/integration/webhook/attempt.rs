//! Steps 4 to 6 — **one attempt**, top to bottom: load what was claimed,
//! sign and send it, decide, then record, resolve and publish.
//!
//! * **Sign and send.** Each attempt is signed per Standard Webhooks
//!   (`contract::signing`) with a fresh `webhook-timestamp` and the same
//!   `webhook-id` (the message id), with every secret of the endpoint still
//!   valid (two during a rotation), and sent with a timeout and without
//!   following redirects. The body is the stored JSON byte for byte, or its
//!   XML rendering for an endpoint that asked for XML.
//! * **Decide** ([`super::retry::decide`]): succeeded, endpoint gone, retry
//!   when, or give up.
//! * **Record and resolve.** The attempt (request, response, latency,
//!   error) is written to the message log in the same transaction that
//!   moves the delivery on — and, when the inventory's `2xx` body says what
//!   it did with the order (`contract::inventory::WebhookAck`), that
//!   resolves the order: `confirmed`, or `backordered` when the push
//!   oversold. The store accepted the order without knowing the stock;
//!   that is the price of push.
//! * **Publish**, after the commit: the live views, the metrics, the
//!   order's resolution.

use std::time::Duration;

use contract::events::{PingData, WebhookEvent};
use contract::inventory::WebhookAck;
use contract::order::Order;
use contract::signing::{HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, signature_header};
use contract::{
    Channel, DeliveryId, DeliveryState, DispatcherId, EndpointId, EventType, ExchangeId, Format,
    IntegrationMode, MessageId, OrderId, OrderStatus, Timestamp,
};
use platform::db::NullableText;
use platform::outbound::{Outcome, Recorded, send_recorded};

use super::endpoints;
use super::retry::{self, Decision};
use crate::instruments::timeline::{self, AttemptInfo, NewExchange};
use crate::orders;
use crate::state::{AppState, OutcomeLabels};
use crate::vocabulary::Trigger;

/// Runs one claimed delivery attempt end to end.
pub(super) async fn run(
    app: &AppState,
    owner: &DispatcherId,
    delivery_id: &DeliveryId,
) -> Result<(), sqlx::Error> {
    // 4. Load what was claimed, sign it, send it.
    let Some(claimed) = Claimed::load(app, owner, delivery_id).await? else {
        return Ok(()); // The lease was lost before we started.
    };
    let rec = sign_and_send(app, &claimed).await?;

    // 5. Decide.
    let failures = if rec.is_success() {
        0
    } else {
        claimed.failures + 1
    };
    let now = app.clock.now();
    let decision = retry::decide(
        &rec,
        failures as u32,
        now,
        &app.config.webhook,
        rand::random::<f64>(),
    );
    tracing::info!(
        attempt_no = claimed.attempts + 1, status = rec.status(), latency_ms = rec.latency_ms(),
        ?decision, trigger = %claimed.next_trigger, "webhook attempt"
    );

    // 6. Record and resolve, in one transaction; then publish.
    let written = record(app, owner, &claimed, &rec, &decision, failures, now).await?;
    publish(app, &claimed, &decision, &written);
    Ok(())
}

/// A claimed delivery, with its message and where it goes.
#[derive(sqlx::FromRow)]
struct Claimed {
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
    payload: String,
    url: String,
    #[sqlx(try_from = "String")]
    format: Format,
}

impl Claimed {
    /// The delivery, if this dispatcher still holds its lease.
    async fn load(
        app: &AppState,
        owner: &DispatcherId,
        delivery_id: &DeliveryId,
    ) -> Result<Option<Claimed>, sqlx::Error> {
        sqlx::query_as(
            "SELECT d.id, d.message_id, d.endpoint_id, d.order_id, d.event_type, d.attempts, \
                    d.failures, d.next_trigger, m.payload, e.url, e.format \
             FROM webhook_deliveries d \
             JOIN webhook_messages m ON m.id = d.message_id \
             JOIN webhook_endpoints e ON e.id = d.endpoint_id \
             WHERE d.id = $1 AND d.lease_owner = $2",
        )
        .bind(delivery_id.as_str())
        .bind(owner.as_str())
        .fetch_optional(app.db.pool())
        .await
    }
}

/// Step 4: renders the body, signs it with every valid secret of the
/// endpoint, and sends it.
async fn sign_and_send(app: &AppState, claimed: &Claimed) -> Result<Recorded, sqlx::Error> {
    let now = app.clock.now();
    let secrets = {
        let mut conn = app.db.pool().acquire().await?;
        endpoints::signing_secrets(&mut conn, &claimed.endpoint_id, now).await?
    };
    let body = render_body(claimed.event_type, &claimed.payload, claimed.format)
        .map_err(|e| sqlx::Error::Encode(e.into()))?;
    let timestamp = now.unix_seconds();
    let signature = signature_header(
        &secrets,
        claimed.message_id.as_str(),
        timestamp,
        body.as_bytes(),
    );
    let request = app
        .webhook_client
        .post(&claimed.url)
        .header(reqwest::header::CONTENT_TYPE, claimed.format.content_type())
        .header(
            reqwest::header::USER_AGENT,
            concat!("pushpull-store/", env!("CARGO_PKG_VERSION")),
        )
        .header(HEADER_ID, claimed.message_id.as_str())
        .header(HEADER_TIMESTAMP, timestamp.to_string())
        .header(HEADER_SIGNATURE, signature)
        .body(body)
        .build();
    Ok(match request {
        Ok(request) => send_recorded(&app.webhook_client, request, now.millis()).await,
        Err(e) => Recorded {
            method: "POST".into(),
            url: claimed.url.clone(),
            request_headers: vec![],
            request_body: String::new(),
            started_at_ms: now.millis(),
            latency: Duration::ZERO,
            outcome: Outcome::Failed {
                error: format!("could not build the request: {e}"),
                timed_out: false,
            },
        },
    })
}

/// Renders a stored message in an endpoint's format. The JSON form is the
/// stored text itself, byte for byte: what is signed is exactly what was
/// committed with the order.
fn render_body(event_type: EventType, payload: &str, format: Format) -> Result<String, String> {
    fn xml<T: serde::de::DeserializeOwned + serde::Serialize>(
        payload: &str,
    ) -> Result<String, String> {
        let event: WebhookEvent<T> = serde_json::from_str(payload).map_err(|e| e.to_string())?;
        contract::xml::to_string("event", &event).map_err(|e| e.to_string())
    }
    match (format, event_type) {
        (Format::Json, _) => Ok(payload.to_owned()),
        (Format::Xml, EventType::OrderCreated) => xml::<Order>(payload),
        (Format::Xml, EventType::Ping) => xml::<PingData>(payload),
    }
}

/// Where the delivery stands after the attempt.
struct Move {
    state: DeliveryState,
    next_attempt_at: Timestamp,
    completed_at: Option<Timestamp>,
    last_error: Option<String>,
}

impl Move {
    fn after(decision: &Decision, now: Timestamp) -> Move {
        let (state, next_attempt_at, completed_at, last_error) = match decision {
            Decision::Succeeded => (DeliveryState::Succeeded, now, Some(now), None),
            Decision::EndpointGone => (
                DeliveryState::Pending,
                now,
                None,
                Some("410 Gone: endpoint disabled".to_owned()),
            ),
            Decision::RetryAt { at, why } => (DeliveryState::Pending, *at, None, Some(why.clone())),
            Decision::GiveUp { why } => (DeliveryState::Failed, now, Some(now), Some(why.clone())),
        };
        Move {
            state,
            next_attempt_at,
            completed_at,
            last_error,
        }
    }
}

/// What step 6 wrote, for publishing once it has committed.
struct Written {
    exchange_id: ExchangeId,
    exchange: NewExchange,
    state: DeliveryState,
    resolved: Option<(OrderStatus, Option<String>)>,
}

/// Step 6: the attempt in the message log, the delivery moved on, a gone
/// endpoint disabled, and the order resolved — one transaction.
async fn record(
    app: &AppState,
    owner: &DispatcherId,
    claimed: &Claimed,
    rec: &Recorded,
    decision: &Decision,
    failures: i64,
    now: Timestamp,
) -> Result<Written, sqlx::Error> {
    let attempt_no = claimed.attempts + 1;
    let exchange = NewExchange::sent(Channel::Webhook, rec).with_attempt(AttemptInfo {
        delivery_id: claimed.id.clone(),
        attempt_no,
        trigger: claimed.next_trigger,
    });
    let order_ids: Vec<&OrderId> = claimed.order_id.iter().collect();
    let to = Move::after(decision, now);
    // A 410 is the endpoint's doing, not the message's: the failure count
    // (and so the schedule) is left where it was for when it comes back.
    let failures = if *decision == Decision::EndpointGone {
        claimed.failures
    } else {
        failures
    };

    let mut tx = app.db.begin_write().await?;
    let exchange_id = timeline::record(&mut tx, &exchange, &order_ids).await?;
    let moved = sqlx::query(
        "UPDATE webhook_deliveries SET state = $1, attempts = $2, failures = $3, next_attempt_at = $4, \
         next_trigger = $5, lease_owner = NULL, lease_expires_at = NULL, last_status = $6, \
         last_error = $7, completed_at = $8, updated_at = $9 WHERE id = $10 AND lease_owner = $11",
    )
    .bind(to.state.as_str())
    .bind(attempt_no)
    .bind(failures)
    .bind(to.next_attempt_at.millis())
    .bind(Trigger::Scheduled.as_str())
    .bind(rec.status().map(i64::from))
    .bind(to.last_error.as_deref())
    .bind(to.completed_at.map(Timestamp::millis))
    .bind(now.millis())
    .bind(claimed.id.as_str())
    .bind(owner.as_str())
    .execute(&mut *tx)
    .await?;
    if moved.rows_affected() == 0 {
        // Our lease expired mid-attempt and someone else owns the delivery
        // now; the attempt stays in the log but decides nothing.
        tracing::warn!(
            "lease lost during the attempt; result recorded, decision left to the new owner"
        );
    }
    if *decision == Decision::EndpointGone {
        endpoints::disable_gone(&mut tx, &claimed.endpoint_id, now).await?;
    }
    let mut resolved = None;
    if let (Some(outcome), Some(order_id)) = (inventory_outcome(rec, decision), &claimed.order_id) {
        let (status, reason) = orders::resolution(outcome, None);
        if orders::resolve(&mut tx, order_id, status, reason.as_deref(), now).await? {
            resolved = Some((status, reason));
        }
    }
    tx.commit().await?;
    Ok(Written {
        exchange_id,
        exchange,
        state: to.state,
        resolved,
    })
}

/// What the inventory says it did with the order, when it says so.
fn inventory_outcome(rec: &Recorded, decision: &Decision) -> Option<contract::ApplyOutcome> {
    if *decision != Decision::Succeeded {
        return None;
    }
    let ack: WebhookAck = serde_json::from_slice(rec.body()?).ok()?;
    ack.outcome
}

/// After the commit: the live views, the metric, the order's resolution.
fn publish(app: &AppState, claimed: &Claimed, decision: &Decision, written: &Written) {
    let order_ids: Vec<&OrderId> = claimed.order_id.iter().collect();
    timeline::publish(
        &app.live,
        &written.exchange_id,
        &written.exchange,
        &order_ids,
    );
    app.live.publish(
        "delivery.updated",
        serde_json::json!({
            "id": claimed.id,
            "state": written.state,
            "attempts": claimed.attempts + 1,
            "order_id": claimed.order_id,
        }),
    );
    if *decision == Decision::EndpointGone {
        app.live.publish(
            "endpoint.changed",
            serde_json::json!({"id": claimed.endpoint_id}),
        );
    }
    app.metrics
        .webhook_attempts
        .get_or_create(&OutcomeLabels {
            outcome: decision.outcome().into(),
        })
        .inc();
    if let (Some((status, reason)), Some(order_id)) = (&written.resolved, &claimed.order_id) {
        orders::announce_resolution(
            app,
            order_id,
            IntegrationMode::Webhook,
            *status,
            reason.as_deref(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_bodies_are_the_stored_bytes_and_xml_is_rendered() {
        let payload = r#"{"type":"ping","timestamp":"2024-01-01T00:00:00.000Z","data":{"endpoint_id":"whe_1","message":"hi"}}"#;
        assert_eq!(
            render_body(EventType::Ping, payload, Format::Json).unwrap(),
            payload
        );
        let xml = render_body(EventType::Ping, payload, Format::Xml).unwrap();
        assert!(xml.contains("<event><type>ping</type>"), "{xml}");
        assert!(xml.contains("<endpoint_id>whe_1</endpoint_id>"), "{xml}");
    }
}
