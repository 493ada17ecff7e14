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
//!    time (`401` otherwise). A refused request changes nothing — except
//!    that a signature matching none of our secrets asks (at most once per
//!    interval) for our secret to be checked against the store's, in case
//!    it was rotated without us (`super::subscription::SecretCheck`).
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

use std::sync::Arc;
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
use super::intake::{self, Answer, Answered, Arrival, Message, Taken};
use crate::error::InventoryError;
use crate::instruments::messages::{self, Request};
use crate::reply::{Reply, body_format, read_body};
use crate::state::{AppState, VerdictLabels};
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
    let request = Request::of(
        &req,
        Channel::Webhook,
        &body,
        Instant::now(),
        app.clock.now(),
    );
    let answered = match handle(&app, &req, &body, &request).await {
        Ok(answered) => answered,
        Err(e) => {
            // Refused before anything was applied: logged on its own.
            let answered = refused(&request, &e);
            messages::record_quietly(&app.log, &app.live, answered.log.clone()).await;
            answered
        }
    };
    app.metrics
        .webhooks_received
        .get_or_create(&VerdictLabels::new(answered.verdict.kind))
        .inc();
    answered.reply.into_response()
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

/// Steps 1 to 5; the answer, logged. An error: refused before the intake.
async fn handle(
    app: &AppState,
    req: &HttpRequest,
    body: &[u8],
    request: &Request,
) -> Result<Answered, InventoryError> {
    app.chaos.gate().await?;
    let now = app.clock.now();

    // 1-2. Verify the raw bytes before looking inside them.
    let webhook_id = verify(app, req, body, now).await?;
    // Stored for deduplication, so bounded like an Idempotency-Key.
    if !contract::validation::is_key(webhook_id.as_bytes()) {
        return Err(InventoryError::bad_request(format!(
            "the webhook-id header must be 1 to {} visible ASCII characters",
            contract::validation::MAX_KEY_CHARS
        )));
    }
    let format = body_format(req).unwrap_or(Format::Json);
    let envelope: EventTypeOnly = read_body(format, body).map_err(ApiError::MalformedBody)?;
    let order = match EventType::parse(&envelope.event_type) {
        Ok(EventType::OrderCreated) => Some(order_of(format, body)?),
        // A ping is noted; an unknown type too — acknowledged, not refused:
        // a sender that adds an event type must not break receivers.
        Ok(EventType::Ping) | Err(_) => None,
    };

    // 3-4. Deduplicate on webhook-id and apply the order once, in one
    // transaction (shared with whatever arrives at the same moment), which
    // logs the answer too.
    let answer: Answer = Arc::new({
        let (request, webhook_id) = (request.clone(), webhook_id.clone());
        let event_type = envelope.event_type.clone();
        let order_id = order.as_ref().map(|o| o.order_id.clone());
        move |taken: &Result<Taken, InventoryError>| {
            answer_to(&request, &webhook_id, &event_type, order_id.clone(), taken)
        }
    });
    let arrival = Arrival {
        order,
        message: Some(Message {
            webhook_id,
            event_type: envelope.event_type,
        }),
        answer: Some(answer),
    };
    let (answered, taken) = intake::answer(&app.intake, &app.log, &app.live, arrival).await?;

    // 5. Answer (the caller sends it); count it; tell open pages the stock
    // moved.
    if let (Ok(Taken::Applied(applied)), Some(order_id)) = (&taken, &answered.log.order_id) {
        app.note_applied(IntegrationMode::Webhook, order_id, applied);
    }
    Ok(answered)
}

/// The answer to a verified message, from what became of it.
fn answer_to(
    request: &Request,
    webhook_id: &str,
    event_type: &str,
    order_id: Option<OrderId>,
    taken: &Result<Taken, InventoryError>,
) -> Answered {
    let webhook_id = webhook_id.to_owned();
    let received = match taken {
        Ok(Taken::Duplicate(noted)) => Received {
            ack: WebhookAck {
                webhook_id,
                duplicate: true,
                order_id: noted.order_id.clone(),
                outcome: noted.outcome,
            },
            verdict: Verdict::with_detail(VerdictKind::Duplicate, "already received"),
        },
        Ok(Taken::Noted) => {
            let detail = match EventType::parse(event_type) {
                Ok(_) => "ping".to_owned(),
                Err(_) => format!("unknown event type {event_type}, ignored"),
            };
            Received::noted(
                webhook_id,
                Verdict::with_detail(VerdictKind::Verified, detail),
            )
        }
        Ok(Taken::Applied(applied)) => applied_event(webhook_id, order_id, applied),
        Err(e) => return refused(request, e),
    };
    let reply = Reply::negotiated(StatusCode::OK, Format::Json, "ack", &received.ack);
    let log = request
        .answered(&reply, received.verdict.clone())
        .about(received.ack.order_id);
    Answered {
        reply,
        verdict: received.verdict,
        log,
    }
}

/// The answer to a message that was not taken in.
fn refused(request: &Request, error: &InventoryError) -> Answered {
    let reply = Reply::problem(error, Format::Json);
    let verdict = refusal_verdict(error);
    Answered {
        log: request.answered(&reply, verdict.clone()),
        reply,
        verdict,
    }
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
            let verified = check(&stored);
            if verified == Err(VerifyError::NoMatchingSignature) {
                // Or with one we never got: the store's secret may have
                // been rotated without us. A forger gets here too, so this
                // only asks for a check of our secret against the store's
                // fingerprints — at most once per interval — and only that
                // check may rotate (`super::subscription`).
                if app.secret_check.ask(now) {
                    app.metrics.secret_checks.inc();
                    tracing::warn!(
                        "a webhook signature matched none of our secrets; checking ours against the store's"
                    );
                }
            }
            verified.map_err(InventoryError::Signature)
        }
        other => other.map_err(InventoryError::Signature),
    }
}

/// The order an `order.created` event carries, to apply.
fn order_of(format: Format, body: &[u8]) -> Result<OrderToApply, InventoryError> {
    let event: OrderCreated = read_body(format, body).map_err(ApiError::MalformedBody)?;
    let order = event.data;
    // Typed already, yet held to the rules every door shares (one line
    // per SKU, bounded lines and text): a signed order that breaks them is
    // refused, not summed or stored.
    contract::validation::check_order(&order).map_err(ApiError::Validation)?;
    Ok(OrderToApply {
        wanted: Quantities::of_order(&order),
        order_id: order.id,
        channel: IntegrationMode::Webhook,
        order_created_at: Some(order.created_at),
    })
}

/// An `order.created` applied (or found applied before): the answer and
/// the verdict.
fn applied_event(webhook_id: String, order_id: Option<OrderId>, applied: &Applied) -> Received {
    let verdict = if applied.first_time {
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
