//! The store's JSON API for webhook endpoints and their deliveries:
//! register, read, change, rotate, ping, recover and delete endpoints; list
//! deliveries and redeliver one. Thin handlers, as in [`super::orders`].
//! Who may call is the first argument: a management call takes
//! [`Operator`]; a registration, [`Registrant`] (the inventory's key, or
//! the operator).

use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use contract::{DeliveryId, EndpointId, MessageId, Problem};
use platform::ApiError;
use platform::guard::Operator;
use platform::http::{Json, OptionalJson};

use super::id_from_path;
use crate::api_keys::Registrant;
use crate::error::StoreError;
use crate::integration::webhook::{deliveries, endpoints};
use crate::state::AppState;

type Data = web::Data<AppState>;

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
pub(super) async fn create_endpoint(
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
pub(super) async fn list_endpoints(_: Operator, app: Data) -> Result<HttpResponse, StoreError> {
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
pub(super) async fn get_endpoint(
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
pub(super) async fn update_endpoint(
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
pub(super) async fn delete_endpoint(
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

/// A test ping's text.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PingRequest {
    /// What `data.message` says (at most 500 characters).
    #[schema(schema_with = ping_message_schema)]
    pub message: Option<String>,
}

fn ping_message_schema() -> utoipa::openapi::schema::Object {
    contract::schema::human_text(
        "What `data.message` says: text a person wrote, nothing hidden in it.",
        crate::integration::webhook::test_event::MAX_PING_MESSAGE,
        false,
    )
}

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
pub(super) async fn rotate_secret(
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
    description = "A test event: signed, delivered, retried and logged like any other. Its \
                   `data.message` is the usual hello, or the text given here.",
    params(("id" = EndpointId, Path, description = "The endpoint's id")),
    request_body(content = Option<PingRequest>, content_type = "application/json",
                 description = "Optional: the text the ping carries."),
    security((), ("operator" = [])),
    responses(
        (status = 202, description = "Queued for delivery", body = PingQueued),
        (status = 404, description = "No such endpoint", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A message that is too long or holds a hidden character", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn ping_endpoint(
    _: Operator,
    app: Data,
    id: web::Path<String>,
    body: OptionalJson<PingRequest>,
) -> Result<HttpResponse, StoreError> {
    let message = body.0.and_then(|b| b.message);
    let message_id = crate::integration::webhook::test_event::ping(
        &app.webhooks,
        &endpoint_id(&id)?,
        message.as_deref(),
    )
    .await?;
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
pub(super) async fn recover_endpoint(
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
pub(super) async fn list_deliveries(
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
pub(super) async fn get_delivery(
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
        (status = 409, description = "Not queued: the delivery's endpoint was deleted (`/problems/endpoint-deleted`: there is nowhere to send it), or an attempt is in flight", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn redeliver(
    _: Operator,
    app: Data,
    id: web::Path<String>,
) -> Result<HttpResponse, StoreError> {
    Ok(HttpResponse::Accepted()
        .json(deliveries::redeliver(&app.webhooks, &delivery_id(&id)?).await?))
}
