//! **api mode, the inventory's side: `POST /update_inventory`.**
//!
//! The store asks, synchronously, "reserve these lines for this order", and
//! the answer decides whether the customer's order is confirmed. So this
//! endpoint, in the order [`reserve`] reads:
//!
//! 1. **authenticates** — `Authorization: Bearer <key>`; keys are stored
//!    hashed (`crate::keys`). No key or a wrong one: `401`, nothing changes.
//! 2. **reads the body in either format** — JSON by default;
//!    `Content-Type: application/xml` bodies are accepted (and
//!    `Accept: application/xml` gets XML back, errors included: the seed's
//!    second data format).
//! 3. **requires an idempotency key** — `Idempotency-Key: <order id>`. The
//!    store retries after a timeout without knowing whether the first call
//!    landed; the key must be the order id because "apply this order once"
//!    is the promise, shared with the webhook and poll channels.
//! 4. **applies the order once, all or nothing** — every line is reserved,
//!    or none is and the answer is `409` with the shortages (see
//!    `super::apply`), in a transaction shared with whatever else arrives
//!    at the same moment (`super::intake`).
//! 5. **answers with the first answer** — a repeat gets exactly what the
//!    first call got (`Idempotent-Replayed: true`), and stock moved once.
//!
//! `POST /update_inventory/{order_id}/void` is its compensating twin: the
//! store, having rejected an order after an unclear answer, withdraws it;
//! stock the order took is put back and a late copy is refused.
//!
//! Seen in the UI: the inventory's message log (each call, its key hint,
//! its verdict) and the stock table moving live.

use std::sync::Arc;
use std::time::Instant;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use contract::inventory::{UpdateInventoryRequest, UpdateInventoryResponse};
use contract::order::LineItem;
use contract::validation;
use contract::{
    ApplyOutcome, Channel, Format, IntegrationMode, OrderId, Problem, Verdict, VerdictKind,
};
use platform::ApiError;
use platform::http::bearer_token;

use super::apply::{self, Applied, OrderToApply, Voided, void_order};
use super::intake::{self, Answer, Answered, Arrival, Taken};
use crate::error::InventoryError;
use crate::instruments::messages::{self, NewMessage, Request};
use crate::reply::{Reply, answer_format, body_format};
use crate::state::AppState;
use crate::stock::Quantities;

/// `POST /update_inventory`.
#[utoipa::path(
    post,
    path = "/update_inventory",
    tag = "integration",
    summary = "Reserve an order's lines (api mode)",
    description = "The store calls this while its customer waits. Every line is reserved, or \
                   none is (`409` with the shortages). A repeat with the same `Idempotency-Key` \
                   gets the first answer (`Idempotent-Replayed: true`) and moves nothing. \
                   `Accept: application/xml` gets XML back, errors included.",
    params(("Idempotency-Key" = OrderId, Header, description = "The order id of the body")),
    request_body(content(
        (UpdateInventoryRequest = "application/json"),
        (UpdateInventoryRequest = "application/xml"),
    ), description = "XML: the same fields under an `<update_inventory>` root, each item an `<items>` element."),
    security(("inventory_key" = [])),
    responses(
        (status = 200, description = "Reserved (or the first answer, repeated)", content(
            (UpdateInventoryResponse = "application/json"),
            (UpdateInventoryResponse = "application/xml"),
        ), headers(("Idempotent-Replayed" = String, description = "`true` on a repeat"))),
        (status = 400, description = "A missing `Idempotency-Key`, or one that is not the body's order id; a body that does not parse", content((contract::Problem = "application/problem+json"), (contract::Problem = "application/problem+xml"))),
        (status = 401, description = "No valid API key", content((contract::Problem = "application/problem+json"), (contract::Problem = "application/problem+xml")),
         headers(("WWW-Authenticate" = String, description = "`Bearer`"))),
        (status = 409, description = "Stock is short (`shortages` says where; nothing changed), or the store withdrew this order", content((contract::Problem = "application/problem+json"), (contract::Problem = "application/problem+xml"))),
        (status = 415, description = "A body that is neither JSON nor XML", content((contract::Problem = "application/problem+json"), (contract::Problem = "application/problem+xml"))),
        (status = 422, description = "Invalid lines, or SKUs this inventory does not stock (each in `errors`); nothing is stored, so the order id may be sent again", content((contract::Problem = "application/problem+json"), (contract::Problem = "application/problem+xml"))),
        (status = 500, description = "Chaos: one of the next N requests that fail", content((contract::Problem = "application/problem+json"), (contract::Problem = "application/problem+xml"))),
        (status = 503, description = "Chaos: the inventory is down", content((contract::Problem = "application/problem+json"), (contract::Problem = "application/problem+xml")),
         headers(("Retry-After" = String, description = "Seconds"))),
    )
)]
pub async fn handle(app: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let request = Request::of(&req, Channel::Api, &body, Instant::now(), app.clock.now());
    let format = answer_format(&req);
    let answered = match reserve(&app, &req, &body, format, &request).await {
        Ok(answered) => answered,
        Err(refusal) => {
            // Refused before anything was applied: logged on its own.
            let answered = refused(&request, format, &refusal.error, refusal.order_id);
            messages::record_quietly(&app.log, &app.live, answered.log.clone()).await;
            answered
        }
    };
    answered.reply.into_response()
}

/// A request refused, and the order it was about if it got that far.
struct Refusal {
    error: InventoryError,
    order_id: Option<OrderId>,
}

impl From<InventoryError> for Refusal {
    fn from(error: InventoryError) -> Refusal {
        Refusal {
            error,
            order_id: None,
        }
    }
}

/// Steps 1 to 5; the answer, logged.
async fn reserve(
    app: &AppState,
    req: &HttpRequest,
    body: &[u8],
    format: Format,
    request: &Request,
) -> Result<Answered, Refusal> {
    app.chaos.gate().await?;

    // 1. Authenticate.
    authenticate(app, req).await?;

    // 2. Read the body.
    let update = parse_request(req, body)?;
    let order_id = update.order_id.clone();

    // 3. The Idempotency-Key is required, and is the order id.
    check_idempotency_key(req, &update.order_id).map_err(|error| Refusal {
        error,
        order_id: Some(order_id.clone()),
    })?;

    // 4-5. Apply the order once, in one transaction shared with whatever
    // arrives at the same moment (`super::intake`) — which also logs the
    // answer: the first answer, repeated to a repeat.
    let answer: Answer = Arc::new({
        let (request, order_id, lines) = (request.clone(), order_id.clone(), update.items.clone());
        move |taken: &Result<Taken, InventoryError>| {
            answer_to(&request, format, &order_id, &lines, taken)
        }
    });
    let arrival = Arrival {
        order: Some(OrderToApply {
            order_id: order_id.clone(),
            wanted: Quantities::of(&update.items),
            channel: IntegrationMode::Api,
            order_created_at: None,
        }),
        message: None,
        answer: Some(answer),
    };
    let (answered, taken) = intake::answer(&app.intake, &app.log, &app.live, arrival).await?;
    if let Ok(Taken::Applied(applied)) = &taken {
        app.note_applied(IntegrationMode::Api, &order_id, applied);
    }
    Ok(answered)
}

/// The answer to a reservation of `lines`, from what became of it.
fn answer_to(
    request: &Request,
    format: Format,
    order_id: &OrderId,
    lines: &[LineItem],
    taken: &Result<Taken, InventoryError>,
) -> Answered {
    let applied = match taken {
        Ok(Taken::Applied(applied)) => applied,
        Ok(other) => {
            let e = anyhow::anyhow!("the order was not applied: {other:?}");
            return refused(request, format, &e.into(), Some(order_id.clone()));
        }
        // Named by the request's own lines (`items[2].sku`).
        Err(InventoryError::UnknownSkus(unknown)) => {
            let e = InventoryError::unknown_skus(unknown, lines);
            return refused(request, format, &e, Some(order_id.clone()));
        }
        Err(e) => return refused(request, format, e, Some(order_id.clone())),
    };
    let reply = match first_answer(applied, order_id, format) {
        Ok(reply) => reply,
        Err(e) => return refused(request, format, &e, Some(order_id.clone())),
    };
    let verdict = if applied.first_time {
        Verdict::new(applied.outcome.into())
    } else {
        Verdict::with_detail(
            VerdictKind::Duplicate,
            format!("first answer repeated ({})", applied.outcome),
        )
    };
    Answered {
        log: request
            .answered(&reply, verdict.clone())
            .about(Some(order_id.clone())),
        reply,
        verdict,
    }
}

/// The answer to a request refused.
fn refused(
    request: &Request,
    format: Format,
    error: &InventoryError,
    order_id: Option<OrderId>,
) -> Answered {
    let reply = Reply::problem(error, format);
    let verdict = error.verdict();
    Answered {
        log: request.answered(&reply, verdict.clone()).about(order_id),
        reply,
        verdict,
    }
}

async fn authenticate(app: &AppState, req: &HttpRequest) -> Result<(), InventoryError> {
    let token = bearer_token(req).ok_or(ApiError::Unauthorized)?;
    if app
        .api_keys
        .is_valid(&app.db, app.clock.now(), token)
        .await?
    {
        Ok(())
    } else {
        Err(ApiError::Unauthorized.into())
    }
}

/// Parses the body by its `Content-Type`: JSON (also when absent) or XML.
fn parse_request(req: &HttpRequest, body: &[u8]) -> Result<UpdateInventoryRequest, InventoryError> {
    let format = body_format(req).ok_or_else(|| {
        ApiError::UnsupportedMediaType(
            "send the body as application/json or application/xml".into(),
        )
    })?;
    // Read loosely, then held to the rules every door shares
    // (`contract::validation`): the same fields refused for the same
    // reasons in JSON and XML, and by the store's own API.
    let checked = match format {
        Format::Json => {
            // Read as the store reads `POST /api/orders`: an object, any shape.
            let value: serde_json::Value =
                platform::http::read_json_object(body).map_err(ApiError::MalformedBody)?;
            validation::inventory_request_json(&value)
        }
        Format::Xml => validation::inventory_request_xml(body)
            .map_err(|e| ApiError::MalformedBody(e.to_string()))?,
    };
    let (order_id, items) = checked.map_err(ApiError::Validation)?;
    Ok(UpdateInventoryRequest { order_id, items })
}

fn check_idempotency_key(req: &HttpRequest, order_id: &OrderId) -> Result<(), InventoryError> {
    let key = req
        .headers()
        .get("Idempotency-Key")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            InventoryError::bad_request("the Idempotency-Key header is required (use the order id)")
        })?;
    if key != order_id.as_str() {
        return Err(InventoryError::bad_request(format!(
            "Idempotency-Key must be the order id ({order_id}), got {key}"
        )));
    }
    Ok(())
}

/// The first answer, repeated as it was given (re-rendered only if this
/// request asks for the other format).
fn first_answer(
    applied: &Applied,
    order_id: &OrderId,
    format: Format,
) -> Result<Reply, InventoryError> {
    let reply = if applied.answer.status >= 400 {
        let problem: Problem =
            serde_json::from_str(&applied.answer.body).map_err(anyhow::Error::from)?;
        let error = match applied.outcome {
            ApplyOutcome::Voided => InventoryError::Voided(order_id.clone()),
            _ => InventoryError::OutOfStock(problem.shortages),
        };
        Reply::problem(&error, format)
    } else {
        let first: UpdateInventoryResponse =
            serde_json::from_str(&applied.answer.body).map_err(anyhow::Error::from)?;
        Reply::negotiated(StatusCode::OK, format, "update_inventory_result", &first)
    };
    Ok(if applied.first_time {
        reply
    } else {
        reply.with_header("idempotent-replayed", "true")
    })
}

/// `POST /update_inventory/{order_id}/void`.
#[utoipa::path(
    post,
    path = "/update_inventory/{order_id}/void",
    tag = "integration",
    summary = "Withdraw an order (api mode's compensation)",
    description = "The store rejected the order after an unclear answer: stock it took is put \
                   back, and a late copy of the request is refused. Idempotent.",
    params(("order_id" = OrderId, Path, description = "The order to withdraw")),
    security(("inventory_key" = [])),
    responses(
        (status = 200, description = "Withdrawn", content(
            (apply::Voided = "application/json"),
            (apply::Voided = "application/xml"),
        )),
        (status = 400, description = "Not an order id", content((contract::Problem = "application/problem+json"), (contract::Problem = "application/problem+xml"))),
        (status = 401, description = "No valid API key", content((contract::Problem = "application/problem+json"), (contract::Problem = "application/problem+xml")),
         headers(("WWW-Authenticate" = String, description = "`Bearer`"))),
        (status = 500, description = "Chaos: one of the next N requests that fail", content((contract::Problem = "application/problem+json"), (contract::Problem = "application/problem+xml"))),
        (status = 503, description = "Chaos: the inventory is down", content((contract::Problem = "application/problem+json"), (contract::Problem = "application/problem+xml")),
         headers(("Retry-After" = String, description = "Seconds"))),
    )
)]
pub async fn void(
    app: web::Data<AppState>,
    req: HttpRequest,
    order_id: web::Path<String>,
) -> HttpResponse {
    let started = Instant::now();
    let at = app.clock.now();
    let format = answer_format(&req);
    let (reply, verdict) = match withdraw(&app, &req, &order_id).await {
        Ok(voided) => {
            if voided.restored {
                app.live.publish(
                    contract::LiveEventKind::StockChanged,
                    serde_json::json!({"order_id": voided.order_id}),
                );
            }
            (
                Reply::negotiated(StatusCode::OK, format, "void_result", &voided),
                void_verdict(&voided),
            )
        }
        Err(e) => (Reply::problem(&e, format), e.verdict()),
    };
    let message = NewMessage::received(&req, Channel::Void, b"", &reply, verdict, started, at)
        .about(OrderId::parse(&order_id).ok());
    messages::record_quietly(&app.log, &app.live, message).await;
    reply.into_response()
}

async fn withdraw(
    app: &AppState,
    req: &HttpRequest,
    raw_id: &str,
) -> Result<Voided, InventoryError> {
    app.chaos.gate().await?;
    authenticate(app, req).await?;
    let id = OrderId::parse(raw_id).map_err(|e| InventoryError::bad_request(e.0))?;
    let mut tx = app.db.begin_write().await?;
    let voided = void_order(&mut tx, &id, app.clock.now()).await?;
    tx.commit().await?;
    Ok(voided)
}

fn void_verdict(voided: &Voided) -> Verdict {
    let detail = if voided.restored {
        "stock put back"
    } else if voided.tombstone {
        "never arrived, will be refused"
    } else {
        "nothing to put back"
    };
    Verdict::with_detail(VerdictKind::Voided, detail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn the_idempotency_key_must_be_the_order_id() {
        let id = OrderId::parse("ord_1").unwrap();
        let with = |key: &str| {
            TestRequest::default()
                .insert_header(("Idempotency-Key", key))
                .to_http_request()
        };
        assert!(check_idempotency_key(&with("ord_1"), &id).is_ok());
        assert!(check_idempotency_key(&with("ord_2"), &id).is_err());
        assert!(check_idempotency_key(&TestRequest::default().to_http_request(), &id).is_err());
    }

    #[test]
    fn a_void_says_what_it_did() {
        let voided = |restored, tombstone| Voided {
            order_id: OrderId::parse("ord_1").unwrap(),
            outcome: ApplyOutcome::Voided,
            restored,
            tombstone,
        };
        assert_eq!(
            void_verdict(&voided(true, false)).to_string(),
            "voided: stock put back"
        );
        assert_eq!(
            void_verdict(&voided(false, true)).to_string(),
            "voided: never arrived, will be refused"
        );
        assert_eq!(
            void_verdict(&voided(false, false)).to_string(),
            "voided: nothing to put back"
        );
    }
}
