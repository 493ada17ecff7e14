//! What the store calls: the receiving ends of the two patterns it
//! initiates — `POST /update_inventory` (api mode: push, request/response)
//! with its void, and `POST /webhooks/store` (push, an event). Each handler
//! is one line: the pattern's own value (`crate::integration`) does the
//! work with the shared context, and answers with a [`Reply`] the pattern
//! has already logged. The attributes are their OpenAPI description.

use actix_web::{HttpRequest, HttpResponse, web};

use contract::OrderId;
use contract::inventory::{UpdateInventoryRequest, UpdateInventoryResponse};

use crate::integration::apply::Voided;
#[cfg(doc)]
use crate::reply::Reply;
use crate::state::AppState;

type Data = web::Data<AppState>;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/update_inventory").post(update_inventory))
        .service(web::resource("/update_inventory/{order_id}/void").post(void))
        .service(web::resource("/webhooks/store").post(receive_webhook));
}

/// `POST /update_inventory` (operation id `handle`, as the document has
/// always said).
#[utoipa::path(
    post,
    path = "/update_inventory",
    operation_id = "handle",
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
pub async fn update_inventory(app: Data, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let reply = app.update_inventory.reserve(&app.ctx, &req, &body).await;
    reply.into_response()
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
            (Voided = "application/json"),
            (Voided = "application/xml"),
        )),
        (status = 400, description = "Not an order id", content((contract::Problem = "application/problem+json"), (contract::Problem = "application/problem+xml"))),
        (status = 401, description = "No valid API key", content((contract::Problem = "application/problem+json"), (contract::Problem = "application/problem+xml")),
         headers(("WWW-Authenticate" = String, description = "`Bearer`"))),
        (status = 500, description = "Chaos: one of the next N requests that fail", content((contract::Problem = "application/problem+json"), (contract::Problem = "application/problem+xml"))),
        (status = 503, description = "Chaos: the inventory is down", content((contract::Problem = "application/problem+json"), (contract::Problem = "application/problem+xml")),
         headers(("Retry-After" = String, description = "Seconds"))),
    )
)]
pub async fn void(app: Data, req: HttpRequest, order_id: web::Path<String>) -> HttpResponse {
    let reply = app.update_inventory.void(&app.ctx, &req, &order_id).await;
    reply.into_response()
}

/// `POST /webhooks/store` (operation id `receive`, as the document has
/// always said).
#[utoipa::path(
    post,
    path = "/webhooks/store",
    operation_id = "receive",
    tag = "integration",
    summary = "Receive the store's webhooks (push)",
    description = "The receiving end of the store's `order.created`, `order.notice` and `ping` \
                   (see the store's document, under `webhooks`). The signature is verified over \
                   the raw bytes before anything is parsed; a `webhook-id` seen before is \
                   answered as a duplicate and nothing is done again. A thin `order.notice` \
                   (hybrid mode) names an order without carrying it: the order is fetched from \
                   the store's `GET /api/orders/{id}` before it is applied.",
    params(platform::openapi::StandardWebhooksHeaders),
    request_body(content(
        (contract::events::WebhookEvent<contract::order::Order> = "application/json"),
        (contract::events::WebhookEvent<contract::order::Order> = "application/xml"),
    ), description = "An `order.created` (or a thin `order.notice`, `{\"order_id\"}` as its data, or a `ping`) event, JSON or XML, exactly as the store signed it."),
    responses(
        (status = 200, description = "Received — applied, backordered, verified (a ping) or a duplicate; the answer says which", body = contract::inventory::WebhookAck),
        (status = 400, description = "A `webhook-timestamp` more than 5 minutes from now, or a body that does not parse", body = contract::Problem, content_type = "application/problem+json"),
        (status = 401, description = "A missing or invalid signature", body = contract::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A signed order that breaks the order rules", body = contract::Problem, content_type = "application/problem+json"),
        (status = 502, description = "Hybrid: the order a notice named could not be fetched from the store (the store retries the notice)", body = contract::Problem, content_type = "application/problem+json"),
        (status = 500, description = "Chaos: one of the next N requests that fail", body = contract::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Chaos: the inventory is down", body = contract::Problem, content_type = "application/problem+json",
         headers(("Retry-After" = String, description = "Seconds"))),
    )
)]
pub async fn receive_webhook(app: Data, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let reply = app.webhook_receiver.receive(&app.ctx, &req, &body).await;
    reply.into_response()
}
