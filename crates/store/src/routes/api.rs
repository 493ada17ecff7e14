//! The store's JSON API. Handlers are thin on purpose: parse the request,
//! call one function of the domain or integration modules, shape the
//! answer. Anything that can fail returns a `StoreError`, which becomes a
//! problem+json response in one place (`crate::error`). The pull feed's
//! two handlers live with the feed, in `integration::poll`.

use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use contract::order::{Order, Product};
use contract::{DeliveryId, EndpointId, IntegrationMode, OrderId, Sku};

use super::id_from_path;
use crate::checkout;
use crate::domain::OrderRequest;
use crate::error::StoreError;
use crate::idempotency::IdempotencyKey;
use crate::instruments::timeline::{self, ExchangeView};
use crate::integration::webhook::{deliveries, endpoints};
use crate::integration::{self, poll};
use crate::orders;
use crate::state::AppState;

type Data = web::Data<AppState>;

/// One resource per path, so a known path with the wrong method is a
/// `405 Method Not Allowed` (with `Allow`), not a 404.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/products").get(list_products))
        .service(
            web::resource("/api/orders")
                .post(place_order)
                .get(poll::feed),
        )
        .service(web::resource("/api/orders/{id}").get(get_order))
        .service(web::resource("/api/orders/{id}/acknowledgement").post(poll::acknowledgement))
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

async fn list_products(app: Data) -> Result<HttpResponse, StoreError> {
    let products = crate::catalog::list(&app.db)
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

async fn place_order(
    app: Data,
    req: HttpRequest,
    body: web::Json<OrderRequest>,
) -> Result<HttpResponse, StoreError> {
    let key = IdempotencyKey::from_request(&req)?;
    let valid = body.into_inner().parse().map_err(StoreError::validation)?;
    let placed = checkout::place_order(&app, valid, key.as_ref()).await?;
    let mut response = HttpResponse::Created();
    response.insert_header((header::LOCATION, format!("/api/orders/{}", placed.order.id)));
    if placed.replayed {
        // Stripe's name for "this is the stored answer to an earlier request".
        response.insert_header(("Idempotent-Replayed", "true"));
    }
    Ok(response.json(placed.order))
}

/// An order with the exchanges that carried it.
#[derive(Serialize)]
struct OrderWithTimeline {
    #[serde(flatten)]
    order: Order,
    timeline: Vec<ExchangeView>,
}

async fn get_order(app: Data, id: web::Path<String>) -> Result<HttpResponse, StoreError> {
    let id: OrderId = id_from_path("order", &id)?;
    let order = orders::get_order(&app.db, &id)
        .await?
        .ok_or_else(|| StoreError::not_found("order", id.as_str()))?;
    let timeline = timeline::for_order(&app.db, &id).await?;
    Ok(HttpResponse::Ok().json(OrderWithTimeline { order, timeline }))
}

#[derive(Serialize, Deserialize)]
pub struct IntegrationSetting {
    pub mode: String,
}

async fn get_integration(app: Data) -> Result<HttpResponse, StoreError> {
    let mode = integration::read_mode(&app.db).await?;
    Ok(HttpResponse::Ok().json(IntegrationSetting {
        mode: mode.to_string(),
    }))
}

async fn put_integration(
    app: Data,
    body: web::Json<IntegrationSetting>,
) -> Result<HttpResponse, StoreError> {
    let mode = IntegrationMode::parse(&body.mode).map_err(|e| StoreError::invalid("mode", e.0))?;
    integration::set_mode(&app.db, &app.live, mode, app.clock.now()).await?;
    Ok(HttpResponse::Ok().json(IntegrationSetting {
        mode: mode.to_string(),
    }))
}

async fn create_endpoint(
    app: Data,
    body: web::Json<endpoints::NewEndpoint>,
) -> Result<HttpResponse, StoreError> {
    let (endpoint, created) = endpoints::register(&app, body.into_inner()).await?;
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

async fn list_endpoints(app: Data) -> Result<HttpResponse, StoreError> {
    Ok(HttpResponse::Ok().json(endpoints::list(&app).await?))
}

async fn get_endpoint(app: Data, id: web::Path<String>) -> Result<HttpResponse, StoreError> {
    let endpoint = endpoints::get(&app, &endpoint_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(endpoint))
}

async fn update_endpoint(
    app: Data,
    id: web::Path<String>,
    body: web::Json<endpoints::EndpointChanges>,
) -> Result<HttpResponse, StoreError> {
    let endpoint = endpoints::update(&app, &endpoint_id(&id)?, body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(endpoint))
}

async fn delete_endpoint(app: Data, id: web::Path<String>) -> Result<HttpResponse, StoreError> {
    endpoints::delete(&app, &endpoint_id(&id)?).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, Default)]
struct RotateRequest {
    /// How long the old secret keeps signing (default one hour).
    grace_seconds: Option<u64>,
}

async fn rotate_secret(
    app: Data,
    id: web::Path<String>,
    body: Option<web::Json<RotateRequest>>,
) -> Result<HttpResponse, StoreError> {
    let grace = body
        .and_then(|b| b.grace_seconds)
        .unwrap_or(3600)
        .min(7 * 24 * 3600);
    let endpoint =
        endpoints::rotate_secret(&app, &endpoint_id(&id)?, Duration::from_secs(grace)).await?;
    Ok(HttpResponse::Ok().json(endpoint))
}

async fn ping_endpoint(app: Data, id: web::Path<String>) -> Result<HttpResponse, StoreError> {
    let message_id = endpoints::ping(&app, &endpoint_id(&id)?).await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "message_id": message_id })))
}

async fn recover_endpoint(app: Data, id: web::Path<String>) -> Result<HttpResponse, StoreError> {
    let requeued = deliveries::recover(&app, &endpoint_id(&id)?).await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "requeued": requeued })))
}

async fn list_deliveries(
    app: Data,
    query: web::Query<deliveries::DeliveryFilter>,
) -> Result<HttpResponse, StoreError> {
    Ok(HttpResponse::Ok().json(deliveries::list(&app, query.into_inner()).await?))
}

fn delivery_id(raw: &str) -> Result<DeliveryId, StoreError> {
    id_from_path("delivery", raw)
}

async fn get_delivery(app: Data, id: web::Path<String>) -> Result<HttpResponse, StoreError> {
    Ok(HttpResponse::Ok().json(deliveries::get(&app, &delivery_id(&id)?).await?))
}

async fn redeliver(app: Data, id: web::Path<String>) -> Result<HttpResponse, StoreError> {
    Ok(HttpResponse::Accepted().json(deliveries::redeliver(&app, &delivery_id(&id)?).await?))
}
