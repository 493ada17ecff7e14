//! **api mode, the inventory's side: `POST /update_inventory`.**
//!
//! The store asks, synchronously, "reserve these lines for this order", and
//! the answer decides whether the customer's order is confirmed. So this
//! endpoint must be:
//!
//! * **authenticated** — `Authorization: Bearer <key>`; keys are stored
//!   hashed (`crate::keys`). No key or a wrong one: `401`, nothing changes.
//! * **idempotent** — `Idempotency-Key: <order id>` is required. The store
//!   retries after a timeout without knowing whether the first call landed;
//!   a repeat gets the first answer back (`Idempotent-Replayed: true`), and
//!   stock moves once. The key must be the order id because "apply this
//!   order once" is the promise, shared with the webhook and poll channels.
//! * **all or nothing** — every line is reserved, or none is and the answer
//!   is `409` with the shortages (see `crate::stock::apply_order_once`).
//! * **bilingual** — JSON by default; `Content-Type: application/xml`
//!   bodies are accepted and `Accept: application/xml` gets XML back (the
//!   seed's second data format), errors included (`application/problem+xml`).
//!
//! `POST /update_inventory/{order_id}/void` is its compensating twin: the
//! store, having rejected an order after an unclear answer, withdraws it;
//! stock the order took is put back and a late copy is refused.
//!
//! Seen in the UI: the inventory's message log (each call, its key hint,
//! its verdict) and the stock table moving live.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};

use contract::inventory::UpdateInventoryRequest;
use contract::{IntegrationMode, OrderId};
use platform::http::bearer_token;

use crate::error::{InventoryError, Reply, wants_xml};
use crate::keys;
use crate::messages::{self, NewMessage};
use crate::state::{AppState, ApplyLabels};
use crate::stock::{self, OrderToApply};

/// Lines one request may carry (the store's own limit is 20).
pub const MAX_LINES: usize = 100;

/// Parses the body by its `Content-Type`: JSON (also when absent) or XML.
fn parse_request(req: &HttpRequest, body: &[u8]) -> Result<UpdateInventoryRequest, InventoryError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    let parsed = if contract::xml::is_xml_media_type(content_type) {
        contract::xml::from_slice(body).map_err(|e| InventoryError::MalformedBody(e.to_string()))?
    } else if content_type.starts_with("application/json") || content_type.ends_with("+json") {
        serde_json::from_slice(body)
            .map_err(|e| InventoryError::MalformedBody(format!("invalid JSON: {e}")))?
    } else {
        return Err(InventoryError::UnsupportedMediaType);
    };
    let parsed: UpdateInventoryRequest = parsed;
    if parsed.items.is_empty() {
        return Err(InventoryError::Validation(vec![contract::FieldError::new(
            "items",
            "an update needs at least one item",
        )]));
    }
    if parsed.items.len() > MAX_LINES {
        return Err(InventoryError::Validation(vec![contract::FieldError::new(
            "items",
            format!("at most {MAX_LINES} items per update"),
        )]));
    }
    Ok(parsed)
}

async fn authenticate(app: &AppState, req: &HttpRequest) -> Result<(), InventoryError> {
    let token = bearer_token(req).ok_or(InventoryError::Unauthorized)?;
    if keys::is_valid(&app.db, token).await? {
        Ok(())
    } else {
        Err(InventoryError::Unauthorized)
    }
}

/// `POST /update_inventory`.
pub async fn handle(app: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let started = std::time::Instant::now();
    let at = app.clock.now_ms();
    let xml = wants_xml(&req);
    let (reply, verdict, order_id) = match reserve(&app, &req, &body, xml).await {
        Ok(done) => done,
        Err((e, order_id)) => {
            let verdict = match &e {
                InventoryError::Unauthorized => "refused: no valid API key".to_owned(),
                other => format!("refused: {}", other.problem().title.to_lowercase()),
            };
            (Reply::problem(&e, xml), verdict, order_id)
        }
    };
    messages::record_quietly(
        &app.db,
        &app.live,
        &NewMessage::received(
            &req,
            "api",
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

type Failed = (InventoryError, Option<String>);

async fn reserve(
    app: &AppState,
    req: &HttpRequest,
    body: &[u8],
    xml: bool,
) -> Result<(Reply, String, Option<String>), Failed> {
    app.chaos.gate().await.map_err(|e| (e, None))?;
    authenticate(app, req).await.map_err(|e| (e, None))?;
    let request = parse_request(req, body).map_err(|e| (e, None))?;
    let order_id = request.order_id.to_string();
    let fail = |e: InventoryError| (e, Some(order_id.clone()));
    let key = req
        .headers()
        .get("Idempotency-Key")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            fail(InventoryError::BadRequest(
                "the Idempotency-Key header is required (use the order id)".into(),
            ))
        })?;
    if key != request.order_id.as_str() {
        return Err(fail(InventoryError::BadRequest(format!(
            "Idempotency-Key must be the order id ({}), got {key}",
            request.order_id
        ))));
    }

    let now = app.clock.now_ms();
    let mut tx = app.db.begin_write().await.map_err(|e| fail(e.into()))?;
    let applied = stock::apply_order_once(
        &mut tx,
        &OrderToApply {
            order_id: &request.order_id,
            items: &request.items,
            channel: IntegrationMode::Api,
            order_created_at: None,
        },
        now,
    )
    .await
    .map_err(fail)?;
    tx.commit().await.map_err(|e| fail(e.into()))?;

    if applied.first_time {
        app.metrics
            .orders_applied
            .get_or_create(&ApplyLabels {
                channel: "api".into(),
                outcome: applied.outcome.as_str().into(),
            })
            .inc();
        app.live.publish(
            "stock.changed",
            serde_json::json!({"order_id": order_id, "stock": applied.stock}),
        );
    }
    let replayed = !applied.first_time;
    let verdict = if replayed {
        format!(
            "duplicate: first answer repeated ({})",
            applied.outcome.as_str()
        )
    } else {
        applied.outcome.as_str().to_owned()
    };
    // The first answer, repeated as it was given (re-rendered only if this
    // request asks for the other format).
    let reply = match stock::replayed_problem(&applied) {
        Some(problem) => {
            let err = if problem.problem_type == "/problems/order-voided" {
                InventoryError::Voided(order_id.clone())
            } else {
                InventoryError::OutOfStock(problem.shortages)
            };
            Reply::problem(&err, xml)
        }
        None => {
            let first: contract::inventory::UpdateInventoryResponse =
                serde_json::from_str(&applied.answer)
                    .map_err(|e| fail(anyhow::Error::from(e).into()))?;
            Reply::negotiated(StatusCode::OK, xml, "update_inventory_result", &first)
        }
    };
    let reply = if replayed {
        reply.with_header("idempotent-replayed", "true")
    } else {
        reply
    };
    Ok((reply, verdict, Some(order_id)))
}

/// `POST /update_inventory/{order_id}/void`.
pub async fn void(
    app: web::Data<AppState>,
    req: HttpRequest,
    order_id: web::Path<String>,
) -> HttpResponse {
    let started = std::time::Instant::now();
    let at = app.clock.now_ms();
    let xml = wants_xml(&req);
    let result: Result<stock::Voided, InventoryError> = async {
        app.chaos.gate().await?;
        authenticate(&app, &req).await?;
        let id = OrderId::parse(&order_id).map_err(|e| InventoryError::BadRequest(e.0))?;
        let mut tx = app.db.begin_write().await?;
        let voided = stock::void_order(&mut tx, &id, app.clock.now_ms()).await?;
        tx.commit().await?;
        Ok(voided)
    }
    .await;
    let (reply, verdict) = match result {
        Ok(voided) => {
            if voided.restored {
                app.live.publish(
                    "stock.changed",
                    serde_json::json!({"order_id": voided.order_id}),
                );
            }
            let verdict = if voided.restored {
                "voided: stock put back"
            } else if voided.tombstone {
                "voided: never arrived, will be refused"
            } else {
                "voided: nothing to put back"
            };
            (
                Reply::negotiated(StatusCode::OK, xml, "void_result", &voided),
                verdict.to_owned(),
            )
        }
        Err(e) => {
            let verdict = format!("refused: {}", e.problem().title.to_lowercase());
            (Reply::problem(&e, xml), verdict)
        }
    };
    messages::record_quietly(
        &app.db,
        &app.live,
        &NewMessage::received(
            &req,
            "void",
            b"",
            reply.status.as_u16(),
            &reply.body,
            verdict,
            Some(order_id.into_inner()),
            started,
            at,
        ),
    )
    .await;
    reply.into_response()
}
