//! The store's JSON API. Handlers are thin on purpose: parse the request,
//! call one function of the domain or integration modules, shape the
//! answer. Who may call is the first argument: a management call takes
//! [`Operator`] (with `ADMIN_TOKEN` set, the operator's bearer token; a
//! `401` before the body is read), a registration [`Registrant`] (the
//! inventory's key, or the operator); a customer's order needs nobody. Anything that can fail returns a `StoreError`, which becomes a
//! problem+json response in one place (`crate::error`). The pull feed's
//! two handlers live with the feed, in `integration::poll`.

use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use contract::order::{NewOrder, Order, Product};
use contract::{DeliveryId, EndpointId, IntegrationMode, MessageId, OrderId, Problem, Sku};

use super::id_from_path;
use crate::api_keys::Registrant;

use super::feed;
use crate::error::StoreError;
use crate::idempotency::IdempotencyKey;
use crate::integration;
use crate::integration::webhook::{deliveries, endpoints};
use crate::orders;
use crate::state::AppState;
use crate::timeline::{self, ExchangeView};
use platform::ApiError;
use platform::guard::Operator;
use platform::http::{Json, OptionalJson};

type Data = web::Data<AppState>;

/// One resource per path, so a known path with the wrong method is a
/// `405 Method Not Allowed` (with `Allow`), not a 404.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/products").get(list_products))
        .service(
            web::resource("/api/orders")
                .post(place_order)
                .get(feed::feed),
        )
        .service(web::resource("/api/orders/{id}").get(get_order))
        .service(web::resource("/api/orders/{id}/acknowledgement").post(feed::acknowledgement))
        .service(
            web::resource("/api/integration")
                .get(get_integration)
                .put(put_integration),
        )
        .service(
            web::resource("/api/webhook-endpoints")
                .post(create_endpoint)
                .get(list_endpoints),
        )
        .service(
            web::resource("/api/webhook-endpoints/{id}")
                .get(get_endpoint)
                .patch(update_endpoint)
                .delete(delete_endpoint),
        )
        .service(web::resource("/api/webhook-endpoints/{id}/rotate-secret").post(rotate_secret))
        .service(web::resource("/api/webhook-endpoints/{id}/ping").post(ping_endpoint))
        .service(web::resource("/api/webhook-endpoints/{id}/recover").post(recover_endpoint))
        .service(web::resource("/api/deliveries").get(list_deliveries))
        .service(web::resource("/api/deliveries/{id}").get(get_delivery))
        .service(web::resource("/api/deliveries/{id}/redeliver").post(redeliver));
}

#[utoipa::path(
    get,
    path = "/api/products",
    tag = "catalog",
    summary = "The catalog",
    responses((status = 200, description = "Every product the shop sells", body = Vec<Product>))
)]
async fn list_products(app: Data) -> Result<HttpResponse, StoreError> {
    let products = crate::catalog::list(&app.ctx.db)
        .await?
        .into_iter()
        .map(|item| {
            Ok(Product {
                sku: Sku::parse(&item.sku).map_err(|e| sqlx::Error::ColumnDecode {
                    index: "sku".into(),
                    source: Box::new(e),
                })?,
                name: item.name,
                price_cents: item.price_cents,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(HttpResponse::Ok().json(products))
}

#[utoipa::path(
    post,
    path = "/api/orders",
    tag = "orders",
    summary = "Place an order",
    description = "Writes the order (and, in webhook mode, its `order.created` event) in one \
                   transaction, then hands it over in the current integration mode. In api mode \
                   the answer waits for the inventory: the order comes back `confirmed` or \
                   `rejected`. With an `Idempotency-Key`, a repeat of the same request gets the \
                   first answer (`Idempotent-Replayed: true`) and places nothing.",
    params(("Idempotency-Key" = Option<String>, Header,
            description = "1 to 255 visible ASCII characters; the same key places one order.",
            min_length = 1, max_length = 255, pattern = "^[!-~]+$")),
    request_body(content = NewOrder, content_type = "application/json",
                 description = "Who orders what: 1 to 20 lines, each SKU once."),
    responses(
        (status = 201, description = "Placed (or the stored answer to the same request)", body = Order,
         headers(("Location" = String, description = "The order's address, `/api/orders/{id}`"),
                 ("Idempotent-Replayed" = String, description = "`true` when this is the stored answer to an earlier request"))),
        (status = 400, description = "A malformed `Idempotency-Key`, or a body that is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The first request with this `Idempotency-Key` is still being processed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (each in `errors`), a SKU the shop does not sell, or an `Idempotency-Key` reused for a different request", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn place_order(
    app: Data,
    req: HttpRequest,
    body: Json<serde_json::Value>,
) -> Result<HttpResponse, StoreError> {
    let key = IdempotencyKey::from_request(&req)?;
    // The order rules of every door (`contract::validation`).
    let valid = contract::validation::new_order_json(&body).map_err(StoreError::validation)?;
    let placed = app.checkout.place_order(valid, key.as_ref()).await?;
    let mut response = HttpResponse::Created();
    response.insert_header((header::LOCATION, format!("/api/orders/{}", placed.order.id)));
    if placed.replayed {
        // Stripe's name for "this is the stored answer to an earlier request".
        response.insert_header(("Idempotent-Replayed", "true"));
    }
    Ok(response.json(placed.order))
}

/// An order with the exchanges that carried it.
#[derive(Serialize, ToSchema)]
pub struct OrderWithTimeline {
    #[serde(flatten)]
    order: Order,
    timeline: Vec<ExchangeView>,
}

#[utoipa::path(
    get,
    path = "/api/orders/{id}",
    tag = "orders",
    summary = "One order and its integration timeline",
    params(("id" = OrderId, Path, description = "The order's id")),
    responses(
        (status = 200, description = "The order, with every exchange that carried it", body = OrderWithTimeline),
        (status = 404, description = "No such order", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_order(app: Data, id: web::Path<String>) -> Result<HttpResponse, StoreError> {
    let id: OrderId = id_from_path("order", &id)?;
    let order = orders::get_order(&app.ctx.db, &id)
        .await?
        .ok_or_else(|| StoreError::not_found("order", id.as_str()))?;
    let timeline = timeline::for_order(&app.ctx.db, &id).await?;
    Ok(HttpResponse::Ok().json(OrderWithTimeline { order, timeline }))
}

/// The store's integration mode.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct IntegrationSetting {
    #[schema(value_type = IntegrationMode)]
    pub mode: String,
}

#[utoipa::path(
    get,
    path = "/api/integration",
    tag = "integration",
    summary = "The current integration mode",
    responses((status = 200, description = "How new orders reach the inventory", body = IntegrationSetting))
)]
async fn get_integration(app: Data) -> Result<HttpResponse, StoreError> {
    let mode = integration::read_mode(&app.ctx.db).await?;
    Ok(HttpResponse::Ok().json(IntegrationSetting {
        mode: mode.to_string(),
    }))
}

#[utoipa::path(
    put,
    path = "/api/integration",
    tag = "integration",
    summary = "Switch the integration mode",
    description = "New orders use the new mode; orders already placed finish through the \
                   channel of the mode they were placed under.",
    request_body(content = IntegrationSetting, content_type = "application/json"),
    security((), ("operator" = [])),
    responses(
        (status = 200, description = "Switched", body = IntegrationSetting),
        (status = 422, description = "Not one of `webhook`, `api`, `poll`", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn put_integration(
    _: Operator,
    app: Data,
    body: Json<IntegrationSetting>,
) -> Result<HttpResponse, StoreError> {
    let mode = IntegrationMode::parse(&body.mode).map_err(|e| StoreError::invalid("mode", e.0))?;
    integration::set_mode(&app.ctx.db, &app.ctx.live, mode, app.ctx.clock.now()).await?;
    Ok(HttpResponse::Ok().json(IntegrationSetting {
        mode: mode.to_string(),
    }))
}

#[utoipa::path(
    post,
    path = "/api/webhook-endpoints",
    tag = "webhook endpoints",
    summary = "Register a webhook endpoint",
    description = "The answer that creates an endpoint is the only one that shows its signing \
                   secret (`whsec_…`). A `ping` is sent to it at once. Registering the same URL \
                   again finds the first registration (`200`, without the secret). The endpoint \
                   at the inventory's receiver URL (`{INVENTORY_URL}/webhooks/store`) is the \
                   `resolver`, whoever registers it; every other one is an `observer`.",
    request_body(content = endpoints::NewEndpoint, content_type = "application/json"),
    security((), ("operator" = []), ("feed_key" = [])),
    responses(
        (status = 201, description = "Registered; `secret` is shown this once", body = endpoints::Endpoint,
         headers(("Location" = String, description = "The endpoint's address"))),
        (status = 200, description = "This URL was registered already", body = endpoints::Endpoint),
        (status = 422, description = "A URL that is not allowed, an unknown event type or format, a description that is too long or holds a hidden character", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn create_endpoint(
    // The inventory (with the store's key) or the operator may register;
    // which of them does has no say in the endpoint's role — its URL does.
    _: Registrant,
    app: Data,
    body: Json<endpoints::NewEndpoint>,
) -> Result<HttpResponse, StoreError> {
    let (endpoint, created) = endpoints::register(&app.webhooks, body.into_inner()).await?;
    Ok(if created {
        HttpResponse::Created()
            .insert_header((
                header::LOCATION,
                format!("/api/webhook-endpoints/{}", endpoint.id),
            ))
            .json(endpoint)
    } else {
        // Registering a URL twice finds the first registration (without
        // its secret, which is only ever shown once).
        HttpResponse::Ok().json(endpoint)
    })
}

fn endpoint_id(raw: &str) -> Result<EndpointId, StoreError> {
    id_from_path("webhook endpoint", raw)
}

#[utoipa::path(
    get,
    path = "/api/webhook-endpoints",
    tag = "webhook endpoints",
    summary = "Every registered endpoint (without secrets)",
    security((), ("operator" = [])),
    responses((status = 200, description = "The endpoints", body = Vec<endpoints::Endpoint>))
)]
async fn list_endpoints(_: Operator, app: Data) -> Result<HttpResponse, StoreError> {
    Ok(HttpResponse::Ok().json(endpoints::list(&app.webhooks).await?))
}

#[utoipa::path(
    get,
    path = "/api/webhook-endpoints/{id}",
    tag = "webhook endpoints",
    summary = "One endpoint (without its secret)",
    description = "Shows the fingerprints of the secrets that sign for the endpoint now, never \
                   the secrets. The store's key reads the inventory's own endpoint (to check \
                   that the secret it holds is current), no other.",
    params(("id" = EndpointId, Path, description = "The endpoint's id")),
    security((), ("operator" = []), ("feed_key" = [])),
    responses(
        (status = 200, description = "The endpoint", body = endpoints::Endpoint),
        (status = 401, description = "The store's key, for an endpoint other than the inventory's", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such endpoint", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_endpoint(
    registrant: Registrant,
    app: Data,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, StoreError> {
    let endpoint = endpoints::get(&app.webhooks, &endpoint_id(&id)?).await?;
    if !registrant.may_manage(endpoint.role, &req) {
        return Err(ApiError::Unauthorized.into());
    }
    Ok(HttpResponse::Ok().json(endpoint))
}

#[utoipa::path(
    patch,
    path = "/api/webhook-endpoints/{id}",
    tag = "webhook endpoints",
    summary = "Enable, disable or change an endpoint",
    params(("id" = EndpointId, Path, description = "The endpoint's id")),
    request_body(content = endpoints::EndpointChanges, content_type = "application/json"),
    security((), ("operator" = [])),
    responses(
        (status = 200, description = "Changed", body = endpoints::Endpoint),
        (status = 404, description = "No such endpoint", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown event type or format, a description that is too long or holds a hidden character", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn update_endpoint(
    _: Operator,
    app: Data,
    id: web::Path<String>,
    body: Json<endpoints::EndpointChanges>,
) -> Result<HttpResponse, StoreError> {
    let endpoint = endpoints::update(&app.webhooks, &endpoint_id(&id)?, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(endpoint))
}

#[utoipa::path(
    delete,
    path = "/api/webhook-endpoints/{id}",
    tag = "webhook endpoints",
    summary = "Delete an endpoint",
    description = "Its pending deliveries are cancelled.",
    params(("id" = EndpointId, Path, description = "The endpoint's id")),
    security((), ("operator" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such endpoint", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn delete_endpoint(
    _: Operator,
    app: Data,
    id: web::Path<String>,
) -> Result<HttpResponse, StoreError> {
    endpoints::delete(&app.webhooks, &endpoint_id(&id)?).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, Default, ToSchema)]
pub struct RotateRequest {
    /// How long the old secret keeps signing, in seconds (default one
    /// hour, at most a week).
    #[schema(maximum = 604_800)]
    grace_seconds: Option<u64>,
}

/// The longest grace period a rotation may ask for: a week.
pub const MAX_GRACE_SECONDS: u64 = 7 * 24 * 3600;

/// The answer to a ping: the message that was queued.
#[derive(Serialize, ToSchema)]
pub struct PingQueued {
    message_id: MessageId,
}

/// The answer to a recovery: how many failed deliveries were queued again.
#[derive(Serialize, ToSchema)]
pub struct Requeued {
    requeued: u64,
}

#[utoipa::path(
    post,
    path = "/api/webhook-endpoints/{id}/rotate-secret",
    tag = "webhook endpoints",
    summary = "Rotate an endpoint's signing secret",
    description = "A new secret signs from now on; the old one signs too (a second \
                   `v1,` signature) until the grace period ends, so a receiver can switch \
                   without losing a message. The answer shows the new secret, this once.",
    params(("id" = EndpointId, Path, description = "The endpoint's id")),
    request_body(content = Option<RotateRequest>, content_type = "application/json",
                 description = "Optional: how long the old secret keeps signing."),
    security((), ("operator" = []), ("feed_key" = [])),
    responses(
        (status = 200, description = "Rotated; `secret` is the new one", body = endpoints::Endpoint),
        (status = 404, description = "No such endpoint", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A grace period over a week", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn rotate_secret(
    registrant: Registrant,
    app: Data,
    req: HttpRequest,
    id: web::Path<String>,
    body: OptionalJson<RotateRequest>,
) -> Result<HttpResponse, StoreError> {
    let id = endpoint_id(&id)?;
    // The store's key rotates the inventory's own endpoint (a wiped
    // inventory gets a secret again), nobody else's.
    if !registrant.may_manage(endpoints::get(&app.webhooks, &id).await?.role, &req) {
        return Err(ApiError::Unauthorized.into());
    }
    let grace = body.0.and_then(|b| b.grace_seconds).unwrap_or(3600);
    if grace > MAX_GRACE_SECONDS {
        return Err(StoreError::invalid(
            "grace_seconds",
            format!("at most {MAX_GRACE_SECONDS} (a week)"),
        ));
    }
    let endpoint = endpoints::rotate_secret(&app.webhooks, &id, Duration::from_secs(grace)).await?;
    Ok(HttpResponse::Ok().json(endpoint))
}

#[utoipa::path(
    post,
    path = "/api/webhook-endpoints/{id}/ping",
    tag = "webhook endpoints",
    summary = "Send a signed `ping` to an endpoint",
    params(("id" = EndpointId, Path, description = "The endpoint's id")),
    security((), ("operator" = [])),
    responses(
        (status = 202, description = "Queued for delivery", body = PingQueued),
        (status = 404, description = "No such endpoint", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn ping_endpoint(
    _: Operator,
    app: Data,
    id: web::Path<String>,
) -> Result<HttpResponse, StoreError> {
    let message_id = endpoints::ping(&app.webhooks, &endpoint_id(&id)?).await?;
    Ok(HttpResponse::Accepted().json(PingQueued { message_id }))
}

#[utoipa::path(
    post,
    path = "/api/webhook-endpoints/{id}/recover",
    tag = "webhook endpoints",
    summary = "Send an endpoint's failed deliveries again",
    params(("id" = EndpointId, Path, description = "The endpoint's id")),
    security((), ("operator" = [])),
    responses(
        (status = 202, description = "Requeued", body = Requeued),
        (status = 404, description = "No such endpoint", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn recover_endpoint(
    _: Operator,
    app: Data,
    id: web::Path<String>,
) -> Result<HttpResponse, StoreError> {
    let requeued = deliveries::recover(&app.webhooks, &endpoint_id(&id)?).await?;
    Ok(HttpResponse::Accepted().json(Requeued { requeued }))
}

#[utoipa::path(
    get,
    path = "/api/deliveries",
    tag = "deliveries",
    summary = "The webhook delivery log",
    params(deliveries::DeliveryFilter),
    security((), ("operator" = [])),
    responses(
        (status = 200, description = "Deliveries, newest first, each with its attempts", body = Vec<deliveries::DeliveryView>),
        (status = 400, description = "An id that is not one, a `state` that is not a delivery state, or a `limit` outside 1 to 200", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn list_deliveries(
    _: Operator,
    app: Data,
    query: web::Query<deliveries::DeliveryFilter>,
) -> Result<HttpResponse, StoreError> {
    Ok(HttpResponse::Ok().json(deliveries::list(&app.webhooks, query.into_inner()).await?))
}

fn delivery_id(raw: &str) -> Result<DeliveryId, StoreError> {
    id_from_path("delivery", raw)
}

#[utoipa::path(
    get,
    path = "/api/deliveries/{id}",
    tag = "deliveries",
    summary = "One delivery and its attempts",
    params(("id" = DeliveryId, Path, description = "The delivery's id")),
    security((), ("operator" = [])),
    responses(
        (status = 200, description = "The delivery", body = deliveries::DeliveryView),
        (status = 404, description = "No such delivery", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn get_delivery(
    _: Operator,
    app: Data,
    id: web::Path<String>,
) -> Result<HttpResponse, StoreError> {
    Ok(HttpResponse::Ok().json(deliveries::get(&app.webhooks, &delivery_id(&id)?).await?))
}

#[utoipa::path(
    post,
    path = "/api/deliveries/{id}/redeliver",
    tag = "deliveries",
    summary = "Send a delivery again, now",
    params(("id" = DeliveryId, Path, description = "The delivery's id")),
    security((), ("operator" = [])),
    responses(
        (status = 202, description = "Queued: the delivery, pending again", body = deliveries::DeliveryView),
        (status = 404, description = "No such delivery", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The delivery's endpoint was deleted", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn redeliver(
    _: Operator,
    app: Data,
    id: web::Path<String>,
) -> Result<HttpResponse, StoreError> {
    Ok(HttpResponse::Accepted()
        .json(deliveries::redeliver(&app.webhooks, &delivery_id(&id)?).await?))
}
