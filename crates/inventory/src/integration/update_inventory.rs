//! **api mode, the inventory's side: `POST /update_inventory`.**
//!
//! The store asks, synchronously, "reserve these lines for this order", and
//! the answer decides whether the customer's order is confirmed. So this
//! endpoint, in the order its `take_in` reads:
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

use actix_web::HttpRequest;
use actix_web::http::StatusCode;

use contract::inventory::{UpdateInventoryRequest, UpdateInventoryResponse};
use contract::order::LineItem;
use contract::validation;
use contract::{
    ApplyOutcome, Channel, Format, IntegrationMode, OrderId, Problem, Verdict, VerdictKind,
};
use platform::ApiError;
use platform::http::bearer_token;

use super::apply::{Applied, OrderToApply, Voided, note_applied, void_order};
use super::intake::{Answer, Arrival, Handled, Intake};
use crate::context::Context;
use crate::error::InventoryError;
use crate::instruments::messages::Request;
use crate::keys::KeyCache;
use crate::reply::{Reply, answer_format, body_format};
use crate::stock::Quantities;

/// The endpoint: the keys it accepts, and the intake it hands orders to.
pub struct UpdateInventory {
    keys: Arc<KeyCache>,
    intake: Arc<Intake>,
}

impl UpdateInventory {
    pub fn new(keys: Arc<KeyCache>, intake: Arc<Intake>) -> UpdateInventory {
        UpdateInventory { keys, intake }
    }

    /// `POST /update_inventory`: a reservation made — or refused — and the
    /// answer, logged.
    pub async fn reserve(&self, ctx: &Context, req: &HttpRequest, body: &[u8]) -> Reply {
        let request = Request::of(req, Channel::Api, body, Instant::now(), ctx.clock.now());
        let format = answer_format(req);
        match self.take_in(ctx, req, body, format, &request).await {
            Ok(answer) => answer.reply,
            Err(refusal) => {
                // Refused before anything was applied: logged on its own.
                let answer = refused(&request, format, &refusal.error, refusal.order_id);
                ctx.log.record(answer.log.clone()).await;
                answer.reply
            }
        }
    }

    /// Steps 1 to 5; the answer, logged.
    async fn take_in(
        &self,
        ctx: &Context,
        req: &HttpRequest,
        body: &[u8],
        format: Format,
        request: &Request,
    ) -> Result<Answer, Refusal> {
        ctx.chaos.gate().await?;

        // 1. Authenticate.
        self.authenticate(ctx, req).await?;

        // 2. Read the body.
        let update = parse_request(req, body)?;
        let order_id = update.order_id.clone();

        // 3. The Idempotency-Key is required, and is the order id.
        check_idempotency_key(req, &update.order_id).map_err(|error| Refusal {
            error,
            order_id: Some(order_id.clone()),
        })?;

        // 4-5. Apply the order once, in one transaction shared with whatever
        // arrives at the same moment (the intake) — which also logs the
        // answer: the first answer, repeated to a repeat.
        let reservation = Reservation {
            request: request.clone(),
            format,
            order_id: order_id.clone(),
            lines: update.items.clone(),
        };
        let arrival = Arrival {
            order: Some(OrderToApply {
                order_id: order_id.clone(),
                wanted: Quantities::of(&update.items),
                channel: IntegrationMode::Api,
                order_created_at: None,
            }),
            message: None,
            answerer: Some(Arc::new(move |handled| reservation.answer(handled))),
            fetched_with: None,
        };
        let (answer, handled) = self.intake.answer(&ctx.log, arrival).await;
        if let Ok(Handled::Applied(applied)) = &handled {
            note_applied(ctx, IntegrationMode::Api, &order_id, applied);
        }
        Ok(answer)
    }

    /// `POST /update_inventory/{order_id}/void`: the order withdrawn (or
    /// not), and the answer, logged.
    pub async fn void(&self, ctx: &Context, req: &HttpRequest, order_id: &str) -> Reply {
        let request = Request::of(req, Channel::Void, b"", Instant::now(), ctx.clock.now());
        let format = answer_format(req);
        let (reply, verdict) = match self.withdraw(ctx, req, order_id).await {
            Ok(voided) => {
                if voided.restored {
                    ctx.live.publish(
                        contract::LiveEventKind::StockChanged,
                        crate::live::StockChangedData {
                            order_id: Some(voided.order_id.clone()),
                            stock: None,
                        },
                    );
                }
                (
                    Reply::negotiated(StatusCode::OK, format, "void_result", &voided),
                    void_verdict(&voided),
                )
            }
            Err(e) => (Reply::problem(&e, format), e.verdict()),
        };
        let message = request
            .answered(&reply, verdict)
            .about(OrderId::parse(order_id).ok());
        ctx.log.record(message).await;
        reply
    }

    async fn withdraw(
        &self,
        ctx: &Context,
        req: &HttpRequest,
        raw_id: &str,
    ) -> Result<Voided, InventoryError> {
        ctx.chaos.gate().await?;
        self.authenticate(ctx, req).await?;
        let id = OrderId::parse(raw_id).map_err(|e| InventoryError::bad_request(e.0))?;
        let mut tx = ctx.db.begin_write().await?;
        let voided = void_order(&mut tx, &id, ctx.clock.now()).await?;
        tx.commit().await?;
        Ok(voided)
    }

    async fn authenticate(&self, ctx: &Context, req: &HttpRequest) -> Result<(), InventoryError> {
        let token = bearer_token(req).ok_or(ApiError::Unauthorized)?;
        if self.keys.is_valid(&ctx.db, ctx.clock.now(), token).await? {
            Ok(())
        } else {
            Err(ApiError::Unauthorized.into())
        }
    }
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

/// A reservation of `lines`, as its answer needs it: the answer is made in
/// the intake's transaction, from what became of the order.
struct Reservation {
    request: Request,
    format: Format,
    order_id: OrderId,
    lines: Vec<LineItem>,
}

impl Reservation {
    fn answer(&self, handled: &Result<Handled, InventoryError>) -> Answer {
        let (request, format, order_id) = (&self.request, self.format, &self.order_id);
        let refuse = |e: &InventoryError| refused(request, format, e, Some(order_id.clone()));
        let applied = match handled {
            Ok(Handled::Applied(applied)) => applied,
            Ok(other) => {
                let e = anyhow::anyhow!("the order was not applied: {other:?}");
                return refuse(&e.into());
            }
            // Named by the request's own lines (`items[2].sku`).
            Err(InventoryError::UnknownSkus(unknown)) => {
                return refuse(&InventoryError::unknown_skus(unknown, &self.lines));
            }
            Err(e) => return refuse(e),
        };
        let reply = match first_answer(applied, order_id, format) {
            Ok(reply) => reply,
            Err(e) => return refuse(&e),
        };
        let verdict = if applied.first_time {
            Verdict::new(applied.outcome.into())
        } else {
            Verdict::with_detail(
                VerdictKind::Duplicate,
                format!("first answer repeated ({})", applied.outcome),
            )
        };
        Answer {
            log: request
                .answered(&reply, verdict.clone())
                .about(Some(order_id.clone())),
            reply,
            verdict,
        }
    }
}

/// The answer to a request refused.
fn refused(
    request: &Request,
    format: Format,
    error: &InventoryError,
    order_id: Option<OrderId>,
) -> Answer {
    let reply = Reply::problem(error, format);
    let verdict = error.verdict();
    Answer {
        log: request.answered(&reply, verdict.clone()).about(order_id),
        reply,
        verdict,
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
