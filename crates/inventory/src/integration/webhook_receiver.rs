//! **webhook mode, the receiving half: `POST /webhooks/store`.**
//!
//! A webhook receiver is an open door on the internet, so the order of
//! operations is the security model:
//!
//! 1. **Read the raw bytes**, and nothing else yet. The signature covers
//!    the bytes as sent; parsing first and verifying a re-serialisation
//!    would verify the wrong thing.
//! 2. **Verify** (`contract::signing::verify`): the three Standard Webhooks
//!    headers present, the timestamp within ±5 minutes of our clock (`400`
//!    otherwise — a replayed capture is stale), and a `v1` signature that
//!    matches under one of our secrets, compared in constant time (`401`
//!    otherwise). A refused request changes nothing.
//! 3. **Deduplicate on `webhook-id`**: the store retries until it sees a
//!    2xx, so the same message can arrive twice (our 2xx was lost, a person
//!    pressed "redeliver"). The id goes into `webhook_inbox` in the same
//!    transaction as the effect; a repeat finds it and answers `200` with
//!    `"duplicate": true` and the first outcome — a 2xx, or the sender
//!    would keep retrying something we already have.
//! 4. **Apply the order once** through `crate::stock::apply_order_once`,
//!    keyed by order id — so even a *different* message about the same
//!    order (another endpoint, a replay after a mode switch) takes stock
//!    once. A shortage does not fail the webhook (the store has already
//!    accepted the order): the order is recorded `backordered` and the
//!    answer says so, which is how the store learns to show it.
//! 5. **Answer fast**: everything above is one short transaction. Slow work
//!    belongs after the 2xx (a real receiver would queue it), because the
//!    sender's timeout is ticking.
//!
//! Seen in the UI: the inventory's message log marks each webhook verified
//! or refused, applied, backordered or duplicate; chaos can make this
//! endpoint fail, slow down or refuse signatures.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use sqlx::Row;

use contract::ApplyOutcome;
use contract::EventType;
use contract::events::{EventTypeOnly, OrderCreated};
use contract::inventory::WebhookAck;
use contract::signing::{
    self, HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, SignedHeaders, VerifyError,
};
use contract::{IntegrationMode, OrderId};

use super::subscription;
use crate::error::{InventoryError, Reply};
use crate::messages::{self, NewMessage};
use crate::state::{AppState, ApplyLabels, VerdictLabels};
use crate::stock::{self, OrderToApply};

/// `POST /webhooks/store`.
pub async fn receive(app: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let started = std::time::Instant::now();
    let at = app.clock.now_ms();
    let (reply, verdict, order_id) = match handle(&app, &req, &body).await {
        Ok((ack, verdict)) => {
            let order_id = ack.order_id.as_ref().map(|id| id.to_string());
            (
                Reply::negotiated(StatusCode::OK, false, "ack", &ack),
                verdict,
                order_id,
            )
        }
        Err(e) => {
            let verdict = match &e {
                InventoryError::Signature(v) if v.is_timestamp_problem() => {
                    "refused: stale timestamp".to_owned()
                }
                InventoryError::Signature(VerifyError::MissingHeader(h)) => {
                    format!("refused: missing {h}")
                }
                InventoryError::Signature(_) => "refused: bad signature".to_owned(),
                other => format!("refused: {}", other.problem().title.to_lowercase()),
            };
            (Reply::problem(&e, false), verdict, None)
        }
    };
    app.metrics
        .webhooks_received
        .get_or_create(&VerdictLabels {
            verdict: verdict.split(':').next().unwrap_or("").to_owned(),
        })
        .inc();
    messages::record_quietly(
        &app.db,
        &app.live,
        &NewMessage::received(
            &req,
            "webhook",
            &body,
            reply.status.as_u16(),
            &reply.body,
            verdict,
            order_id,
            started,
            at,
        ),
    )
    .await;
    reply.into_response()
}

fn header_text<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

fn is_xml(req: &HttpRequest) -> bool {
    header_text(req, header::CONTENT_TYPE.as_str()).is_some_and(contract::xml::is_xml_media_type)
}

/// Parses the event body (JSON, or XML when the endpoint asked for it).
fn parse<T: serde::de::DeserializeOwned>(
    req: &HttpRequest,
    body: &[u8],
) -> Result<T, InventoryError> {
    if is_xml(req) {
        contract::xml::from_slice(body).map_err(|e| InventoryError::MalformedBody(e.to_string()))
    } else {
        serde_json::from_slice(body)
            .map_err(|e| InventoryError::MalformedBody(format!("invalid JSON: {e}")))
    }
}

async fn handle(
    app: &AppState,
    req: &HttpRequest,
    body: &[u8],
) -> Result<(WebhookAck, String), InventoryError> {
    app.chaos.gate().await?;

    // 1-2. Verify the raw bytes before looking inside them.
    let secrets = if app.chaos.rejects_signatures() {
        Vec::new() // as if we held the wrong secret
    } else {
        subscription::secrets(&app.db).await?
    };
    let headers = SignedHeaders {
        id: header_text(req, HEADER_ID),
        timestamp: header_text(req, HEADER_TIMESTAMP),
        signature: header_text(req, HEADER_SIGNATURE),
    };
    let now = app.clock.now_ms();
    let webhook_id = signing::verify(
        &secrets,
        headers,
        body,
        now.div_euclid(1000),
        app.config.webhook_tolerance.as_secs() as i64,
    )
    .map_err(InventoryError::Signature)?
    .to_owned();

    let envelope: EventTypeOnly = parse(req, body)?;

    // 3-4. Deduplicate and apply in one transaction.
    let mut tx = app.db.begin_write().await?;
    let fresh = sqlx::query(
        "INSERT INTO webhook_inbox (webhook_id, event_type, received_at) VALUES ($1, $2, $3) \
         ON CONFLICT (webhook_id) DO NOTHING RETURNING webhook_id",
    )
    .bind(&webhook_id)
    .bind(&envelope.event_type)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    if fresh.is_none() {
        let row = sqlx::query("SELECT order_id, outcome FROM webhook_inbox WHERE webhook_id = $1")
            .bind(&webhook_id)
            .fetch_one(&mut *tx)
            .await?;
        tx.rollback().await?;
        let order_id: Option<String> = row.try_get("order_id")?;
        let outcome: Option<String> = row.try_get("outcome")?;
        let ack = WebhookAck {
            webhook_id,
            duplicate: true,
            order_id: order_id.as_deref().and_then(|id| OrderId::parse(id).ok()),
            outcome: outcome.as_deref().and_then(|o| ApplyOutcome::parse(o).ok()),
        };
        return Ok((ack, "duplicate: already received".into()));
    }

    let (ack, verdict) = match EventType::parse(&envelope.event_type).ok() {
        Some(EventType::OrderCreated) => {
            let event: OrderCreated = parse(req, body)?;
            let order = event.data;
            let items: Vec<contract::order::LineItem> = order
                .items
                .iter()
                .map(|l| contract::order::LineItem {
                    sku: l.sku.clone(),
                    quantity: l.quantity,
                })
                .collect();
            let applied = stock::apply_order_once(
                &mut tx,
                &OrderToApply {
                    order_id: &order.id,
                    items: &items,
                    channel: IntegrationMode::Webhook,
                    order_created_at: Some(order.created_at.millis()),
                },
                now,
            )
            .await?;
            sqlx::query(
                "UPDATE webhook_inbox SET order_id = $1, outcome = $2 WHERE webhook_id = $3",
            )
            .bind(order.id.as_str())
            .bind(applied.outcome.as_str())
            .bind(&webhook_id)
            .execute(&mut *tx)
            .await?;
            if applied.first_time {
                app.metrics
                    .orders_applied
                    .get_or_create(&ApplyLabels {
                        channel: "webhook".into(),
                        outcome: applied.outcome.as_str().into(),
                    })
                    .inc();
            }
            let verdict = if applied.first_time {
                applied.outcome.as_str().to_owned()
            } else {
                format!(
                    "order already applied via {} ({})",
                    applied.first_channel,
                    applied.outcome.as_str()
                )
            };
            let ack = WebhookAck {
                webhook_id: webhook_id.clone(),
                duplicate: false,
                order_id: Some(order.id.clone()),
                outcome: Some(applied.outcome),
            };
            (ack, verdict)
        }
        Some(EventType::Ping) => (
            WebhookAck {
                webhook_id: webhook_id.clone(),
                duplicate: false,
                order_id: None,
                outcome: None,
            },
            "ping: verified".to_owned(),
        ),
        None => {
            let other = envelope.event_type.as_str();
            // Unknown types are acknowledged, not refused: a sender that
            // adds an event type must not break existing receivers.
            (
                WebhookAck {
                    webhook_id: webhook_id.clone(),
                    duplicate: false,
                    order_id: None,
                    outcome: None,
                },
                format!("ignored: unknown event type {other}"),
            )
        }
    };
    tx.commit().await?;
    if ack.order_id.is_some() {
        app.live.publish(
            "stock.changed",
            serde_json::json!({"order_id": ack.order_id}),
        );
    }
    Ok((ack, verdict))
}
