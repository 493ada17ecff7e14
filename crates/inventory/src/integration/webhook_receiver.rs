//! **webhook mode, the receiving half: `POST /webhooks/store`.**
//!
//! A webhook receiver is an open door on the internet, so the order of
//! operations is the security model — and the order [`handle`] reads:
//!
//! 1. **Read the raw bytes**, and nothing else yet. The signature covers
//!    the bytes as sent; parsing first and verifying a re-serialisation
//!    would verify the wrong thing.
//! 2. **Verify** ([`verify`], with `contract::signing::verify`): the three
//!    Standard Webhooks headers present, the timestamp within ±5 minutes of
//!    our clock (`400` otherwise — a replayed capture is stale), and a `v1`
//!    signature that matches under one of our secrets, compared in constant
//!    time (`401` otherwise). A refused request changes nothing.
//! 3. **Deduplicate on `webhook-id`**: the store retries until it sees a
//!    2xx, so the same message can arrive twice (our 2xx was lost, a person
//!    pressed "redeliver"). The id is looked up in the inbox and noted
//!    there (`crate::idempotency`) in the same transaction as the effect;
//!    a repeat finds it and answers `200` with `"duplicate": true` and the
//!    first outcome — a 2xx, or the sender would keep retrying something
//!    we already have.
//! 4. **Apply the order once** (through `super::apply::apply_orders_once`),
//!    keyed by order id — so even a *different* message about the same
//!    order (another endpoint, a replay after a mode switch) takes stock
//!    once. A shortage does not fail the webhook (the store has already
//!    accepted the order): the order is recorded `backordered` and the
//!    answer says so, which is how the store learns to show it.
//! 5. **Answer fast**: steps 3 and 4 are one short transaction — shared
//!    with every webhook and api call that arrives at the same moment
//!    (`super::intake`) — and the answer leaves once it has committed.
//!    Slow work belongs after the 2xx (a real receiver would queue it),
//!    because the sender's timeout is ticking.
//!
//! Seen in the UI: the inventory's message log marks each webhook verified
//! or refused, applied, backordered or duplicate; chaos can make this
//! endpoint fail, slow down or refuse signatures.

use std::time::Instant;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use contract::events::{EventTypeOnly, OrderCreated};
use contract::inventory::WebhookAck;
use contract::signing::{
    self, HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, SignedHeaders, VerifyError, WebhookSecret,
};
use contract::{
    Channel, EventType, Format, IntegrationMode, OrderId, Timestamp, Verdict, VerdictKind,
};
use platform::ApiError;

use super::apply::{Applied, OrderToApply};
use super::intake::{Arrival, Message, Taken};
use crate::error::InventoryError;
use crate::instruments::messages::{self, NewMessage};
use crate::reply::{Reply, body_format, read_body};
use crate::state::{AppState, ApplyLabels, VerdictLabels};
use crate::stock::Quantities;

/// `POST /webhooks/store`.
#[utoipa::path(
    post,
    path = "/webhooks/store",
    tag = "integration",
    summary = "Receive the store's webhooks (push)",
    description = "The receiving end of the store's `order.created` and `ping` (see the store's \
                   document, under `webhooks`). The signature is verified over the raw bytes \
                   before anything is parsed; a `webhook-id` seen before is answered as a \
                   duplicate and nothing is done again.",
    params(platform::openapi::StandardWebhooksHeaders),
    request_body(content(
        (contract::events::WebhookEvent<contract::order::Order> = "application/json"),
        (contract::events::WebhookEvent<contract::order::Order> = "application/xml"),
    ), description = "An `order.created` (or `ping`) event, JSON or XML, exactly as the store signed it."),
    responses(
        (status = 200, description = "Received — applied, backordered, verified (a ping) or a duplicate; the answer says which", body = contract::inventory::WebhookAck),
        (status = 400, description = "A `webhook-timestamp` more than 5 minutes from now, or a body that does not parse", body = contract::Problem, content_type = "application/problem+json"),
        (status = 401, description = "A missing or invalid signature", body = contract::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A signed order that breaks the order rules", body = contract::Problem, content_type = "application/problem+json"),
        (status = 500, description = "Chaos: one of the next N requests that fail", body = contract::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Chaos: the inventory is down", body = contract::Problem, content_type = "application/problem+json",
         headers(("Retry-After" = String, description = "Seconds"))),
    )
)]
pub async fn receive(app: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let started = Instant::now();
    let at = app.clock.now();
    let (reply, verdict, order_id) = match handle(&app, &req, &body).await {
        Ok(Received { ack, verdict }) => (
            Reply::negotiated(StatusCode::OK, Format::Json, "ack", &ack),
            verdict,
            ack.order_id,
        ),
        Err(e) => (Reply::problem(&e, Format::Json), refusal_verdict(&e), None),
    };
    app.metrics
        .webhooks_received
        .get_or_create(&VerdictLabels::new(verdict.kind))
        .inc();
    let message = NewMessage::received(&req, Channel::Webhook, &body, &reply, verdict, started, at)
        .about(order_id);
    messages::record_quietly(&app.log, &app.live, message).await;
    reply.into_response()
}

/// A message taken in: the answer for the sender, the verdict for the log.
struct Received {
    ack: WebhookAck,
    verdict: Verdict,
}

impl Received {
    /// Verified and acknowledged, with no order in it.
    fn noted(webhook_id: String, verdict: Verdict) -> Received {
        Received {
            ack: WebhookAck {
                webhook_id,
                duplicate: false,
                order_id: None,
                outcome: None,
            },
            verdict,
        }
    }
}

async fn handle(
    app: &AppState,
    req: &HttpRequest,
    body: &[u8],
) -> Result<Received, InventoryError> {
    app.chaos.gate().await?;
    let now = app.clock.now();

    // 1-2. Verify the raw bytes before looking inside them.
    let webhook_id = verify(app, req, body, now).await?;
    let format = body_format(req).unwrap_or(Format::Json);
    let envelope: EventTypeOnly = read_body(format, body).map_err(ApiError::MalformedBody)?;
    let order = match EventType::parse(&envelope.event_type) {
        Ok(EventType::OrderCreated) => Some(order_of(format, body)?),
        // A ping is noted; an unknown type too — acknowledged, not refused:
        // a sender that adds an event type must not break receivers.
        Ok(EventType::Ping) | Err(_) => None,
    };

    // 3-4. Deduplicate on webhook-id and apply the order once, in one
    // transaction (shared with whatever arrives at the same moment).
    let order_id = order.as_ref().map(|o| o.order_id.clone());
    let arrival = Arrival {
        order,
        message: Some(Message {
            webhook_id: webhook_id.clone(),
            event_type: envelope.event_type.clone(),
        }),
    };
    let taken = app
        .intake
        .submit(arrival)
        .await
        .map_err(anyhow::Error::from)??;
    let received = match taken {
        Taken::Duplicate(noted) => Received {
            ack: WebhookAck {
                webhook_id,
                duplicate: true,
                order_id: noted.order_id,
                outcome: noted.outcome,
            },
            verdict: Verdict::with_detail(VerdictKind::Duplicate, "already received"),
        },
        Taken::Noted => {
            let detail = match EventType::parse(&envelope.event_type) {
                Ok(_) => "ping".to_owned(),
                Err(_) => format!("unknown event type {}, ignored", envelope.event_type),
            };
            Received::noted(
                webhook_id,
                Verdict::with_detail(VerdictKind::Verified, detail),
            )
        }
        Taken::Applied(applied) => applied_event(app, webhook_id, order_id, &applied),
    };

    // 5. Answer (the caller sends it); tell open pages the stock moved.
    if let Some(order_id) = &received.ack.order_id {
        app.live
            .publish("stock.changed", serde_json::json!({"order_id": order_id}));
    }
    Ok(received)
}

/// Checks the Standard Webhooks signature over the raw body; the message's
/// `webhook-id` when it verifies.
async fn verify(
    app: &AppState,
    req: &HttpRequest,
    body: &[u8],
    now: Timestamp,
) -> Result<String, InventoryError> {
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    let headers = SignedHeaders {
        id: header(HEADER_ID),
        timestamp: header(HEADER_TIMESTAMP),
        signature: header(HEADER_SIGNATURE),
    };
    let check = |secrets: &[WebhookSecret]| {
        signing::verify(
            secrets,
            headers,
            body,
            now.unix_seconds(),
            app.config.webhook_tolerance.as_secs() as i64,
        )
        .map(str::to_owned)
    };
    if app.chaos.rejects_signatures() {
        // As if we held the wrong secret.
        return check(&[]).map_err(InventoryError::Signature);
    }
    let kept = app.webhook_secrets.current(&app.db).await?;
    match check(&kept) {
        Err(VerifyError::NoMatchingSignature) => {
            // Perhaps signed with a secret added since we last looked.
            let stored = app.webhook_secrets.reload(&app.db).await?;
            check(&stored).map_err(InventoryError::Signature)
        }
        other => other.map_err(InventoryError::Signature),
    }
}

/// The order an `order.created` event carries, to apply.
fn order_of(format: Format, body: &[u8]) -> Result<OrderToApply, InventoryError> {
    let event: OrderCreated = read_body(format, body).map_err(ApiError::MalformedBody)?;
    let order = event.data;
    Ok(OrderToApply {
        wanted: Quantities::of_order(&order),
        order_id: order.id,
        channel: IntegrationMode::Webhook,
        order_created_at: Some(order.created_at),
    })
}

/// An `order.created` applied (or found applied before): the answer, the
/// verdict, the metric.
fn applied_event(
    app: &AppState,
    webhook_id: String,
    order_id: Option<OrderId>,
    applied: &Applied,
) -> Received {
    let verdict = if applied.first_time {
        app.metrics
            .orders_applied
            .get_or_create(&ApplyLabels::new(IntegrationMode::Webhook, applied.outcome))
            .inc();
        Verdict::new(applied.outcome.into())
    } else {
        Verdict::with_detail(
            VerdictKind::Duplicate,
            format!(
                "order already seen via {} ({})",
                applied.first_channel, applied.outcome
            ),
        )
    };
    Received {
        ack: WebhookAck {
            webhook_id,
            duplicate: false,
            order_id,
            outcome: Some(applied.outcome),
        },
        verdict,
    }
}

/// What the log says about a webhook that was not taken in. A body that
/// cannot be read *after* its signature verified is the sender's bug, not
/// an impostor: it is logged as failed, so the log does not call its
/// signature refused.
fn refusal_verdict(error: &InventoryError) -> Verdict {
    match error {
        InventoryError::Api(ApiError::MalformedBody(_)) => Verdict::with_detail(
            VerdictKind::Failed,
            "signed, but the body could not be read",
        ),
        other => other.verdict(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use contract::signing::VerifyError;

    #[test]
    fn refusals_say_whether_the_signature_was_to_blame() {
        let refused = refusal_verdict(&InventoryError::Signature(VerifyError::NoMatchingSignature));
        assert_eq!(refused.to_string(), "refused: bad signature");
        let unreadable = refusal_verdict(&ApiError::MalformedBody("x".into()).into());
        assert_eq!(unreadable.kind, VerdictKind::Failed);
        assert_eq!(
            refusal_verdict(&InventoryError::ChaosDown).kind,
            VerdictKind::Refused
        );
    }
}
