//! The store's JSON API for customers and the mode switch: the catalog,
//! placing and reading orders, and which integration mode new orders take.
//! Handlers are thin on purpose: parse the request, call one function of
//! the domain or integration modules, shape the answer. A customer's order
//! needs nobody's permission; the mode switch takes the [`Operator`] (with
//! `ADMIN_TOKEN` set, the operator's bearer token; a `401` before the body
//! is read). Anything that can fail returns a `StoreError`, which becomes a
//! problem+json response in one place (`crate::error`).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use contract::order::{NewOrder, Order, Product};
use contract::{Channel, IntegrationMode, OrderId, Problem, Sku};
use platform::guard::Operator;
use platform::http::Json;

use super::id_from_path;
use crate::api_keys;
use crate::error::StoreError;
use crate::idempotency::IdempotencyKey;
use crate::inbound::Inbound;
use crate::integration;
use crate::state::AppState;
use crate::timeline::{self, ExchangeView};

type Data = web::Data<AppState>;

#[utoipa::path(
    get,
    path = "/api/products",
    tag = "catalog",
    summary = "The catalog",
    responses((status = 200, description = "Every product the shop sells", body = Vec<Product>))
)]
pub(super) async fn list_products(app: Data) -> Result<HttpResponse, StoreError> {
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
pub(super) async fn place_order(
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
    /// Left out for hybrid's fetch (a request with the feed key): the
    /// inventory wants the order, not the store's log of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    timeline: Option<Vec<ExchangeView>>,
}

#[utoipa::path(
    get,
    path = "/api/orders/{id}",
    tag = "orders",
    summary = "One order and its integration timeline",
    description = "Also hybrid mode's **fetch**: told by a thin `order.notice` that an order \
                   was placed, the inventory reads it here, with the feed key — so what it \
                   applies is the order as it stands now, never a stale copy. A request that \
                   presents a key must present a valid one, is logged as the `fetch`, and gets \
                   the order without the timeline.",
    params(("id" = OrderId, Path, description = "The order's id")),
    security((), ("feed_key" = [])),
    responses(
        (status = 200, description = "The order, with every exchange that carried it", body = OrderWithTimeline),
        (status = 401, description = "A key was presented, and it is not a valid feed key", body = Problem, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "`Bearer`"))),
        (status = 404, description = "No such order", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn get_order(
    app: Data,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, StoreError> {
    let inbound = Inbound::arrived(&app.ctx);
    // The inventory fetching a notified order shows the feed key; anyone
    // else (the UI, a person with the id) reads without one.
    let fetch = req.headers().contains_key(header::AUTHORIZATION);
    if fetch {
        api_keys::require(&app.ctx.db, &app.ctx.known_keys, &req).await?;
    }
    let id: OrderId = id_from_path("order", &id)?;
    // Read with whatever other reads arrive at the same moment
    // (`orders::OrderReads`): in hybrid mode, the inventory fetches every order.
    let order = app
        .ctx
        .order_reads
        .submit(id.clone())
        .await
        .map_err(sqlx::Error::from)?
        .ok_or_else(|| StoreError::not_found("order", id.as_str()))?;
    let timeline = if fetch {
        None
    } else {
        Some(timeline::for_order(&app.ctx.db, &id).await?)
    };
    let body = serde_json::to_string(&OrderWithTimeline { order, timeline })
        .map_err(anyhow::Error::from)?;
    if fetch {
        inbound
            .record(&app.ctx, &req, Channel::Fetch, String::new(), &body, &[&id])
            .await?;
    }
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
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
pub(super) async fn get_integration(app: Data) -> Result<HttpResponse, StoreError> {
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
        (status = 422, description = "Not one of `webhook`, `api`, `poll`, `hybrid`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub(super) async fn put_integration(
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
