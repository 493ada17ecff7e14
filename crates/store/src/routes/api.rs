//! The store's JSON API. Handlers are thin on purpose: parse the request,
//! call one function of the domain or integration modules, shape the
//! answer. Anything that can fail returns a `StoreError`, which becomes a
//! problem+json response in one place (`crate::error`).

use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use contract::inventory::Acknowledgement;
use contract::order::{Order, Product};
use contract::{IntegrationMode, OrderId, Sku};
use platform::http::bearer_token;

use crate::domain::OrderRequest;
use crate::error::StoreError;
use crate::integration::{self, deliveries, endpoints, poll};
use crate::orders;
use crate::state::AppState;
use crate::timeline::{self, Channel, NewExchange, Party};
use platform::ApiError;

type Data = web::Data<AppState>;

/// One resource per path, so a known path with the wrong method is a
/// `405 Method Not Allowed` (with `Allow`), not a 404.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/products").get(list_products))
        .service(
            web::resource("/api/orders")
                .post(place_order)
                .get(order_feed),
        )
        .service(web::resource("/api/orders/{id}").get(get_order))
        .service(web::resource("/api/orders/{id}/acknowledgement").post(acknowledge_order))
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
                sku: Sku::parse(&item.sku).map_err(|e| sqlx::Error::Decode(e.0.into()))?,
                name: item.name,
                price_cents: item.price_cents,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(HttpResponse::Ok().json(products))
}

fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, StoreError> {
    match req.headers().get("Idempotency-Key") {
        None => Ok(None),
        Some(v) => {
            let text = v
                .to_str()
                .map_err(|_| StoreError::bad_request("Idempotency-Key must be visible ASCII"))?;
            orders::parse_idempotency_key(text).map(Some)
        }
    }
}

async fn place_order(
    app: Data,
    req: HttpRequest,
    body: web::Json<OrderRequest>,
) -> Result<HttpResponse, StoreError> {
    let key = idempotency_key(&req)?;
    let valid = body.into_inner().parse().map_err(StoreError::validation)?;
    let placed = orders::place_order(&app, valid, key.as_deref()).await?;
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
    timeline: Vec<timeline::ExchangeView>,
}

async fn get_order(app: Data, id: web::Path<String>) -> Result<HttpResponse, StoreError> {
    let id = OrderId::parse(&id).map_err(|_| StoreError::not_found("order", id.as_str()))?;
    let order = orders::get_order(&app.db, id.as_str())
        .await?
        .ok_or_else(|| StoreError::not_found("order", id.as_str()))?;
    let timeline = timeline::for_order(&app.db, id.as_str()).await?;
    Ok(HttpResponse::Ok().json(OrderWithTimeline { order, timeline }))
}

/// The feed and the acknowledgement are for the inventory, not the public.
async fn require_store_key(app: &AppState, req: &HttpRequest) -> Result<(), StoreError> {
    let token = bearer_token(req).ok_or(StoreError::from(ApiError::Unauthorized))?;
    let found = sqlx::query("SELECT 1 AS ok FROM api_keys WHERE key_hash = $1")
        .bind(platform::http::hash_api_key(token))
        .fetch_optional(app.db.pool())
        .await?;
    found
        .map(|_| ())
        .ok_or(StoreError::from(ApiError::Unauthorized))
}

#[derive(Deserialize)]
struct FeedQuery {
    after: Option<String>,
    limit: Option<i64>,
}

/// Request headers as the message log shows them (credentials redacted).
fn logged_headers(req: &HttpRequest) -> String {
    platform::outbound::headers_json(&platform::http::logged_request_headers(req))
}

/// A request the inventory made of the store, timed from its arrival, to
/// be logged with the answer once there is one.
struct Inbound {
    started: std::time::Instant,
    started_at: i64,
}

impl Inbound {
    fn arrived(app: &AppState) -> Inbound {
        Inbound {
            started: std::time::Instant::now(),
            started_at: app.clock.now_ms(),
        }
    }

    async fn record(
        self,
        app: &AppState,
        req: &HttpRequest,
        channel: Channel,
        request_body: String,
        response_body: &str,
        order_ids: &[&str],
    ) -> Result<(), StoreError> {
        let exchange = NewExchange {
            channel,
            initiator: Party::Inventory,
            method: req.method().to_string(),
            url: format!(
                "{}{}",
                app.config.public_url.trim_end_matches('/'),
                req.uri()
            ),
            request_headers: logged_headers(req),
            request_body,
            response_status: Some(200),
            response_headers: Some(r#"{"content-type":"application/json"}"#.into()),
            response_body: Some(platform::outbound::truncate_for_log(
                response_body,
                timeline::MAX_LOGGED_BODY,
            )),
            error: None,
            latency_ms: self.started.elapsed().as_millis() as i64,
            started_at: self.started_at,
            attempt: None,
        };
        timeline::record_and_publish(&app.db, &app.live, &exchange, order_ids).await?;
        Ok(())
    }
}

async fn order_feed(
    app: Data,
    req: HttpRequest,
    query: web::Query<FeedQuery>,
) -> Result<HttpResponse, StoreError> {
    let inbound = Inbound::arrived(&app);
    require_store_key(&app, &req).await?;
    let cursor = match query.after.as_deref() {
        None | Some("") => poll::Cursor::START,
        Some(text) => poll::Cursor::decode(text)?,
    };
    let limit = poll::page_size(query.limit)?;
    let page = poll::read_feed(&app, cursor, limit).await?;
    let body = serde_json::to_string(&page).map_err(anyhow::Error::from)?;
    let ids: Vec<&str> = page.data.iter().map(|o| o.id.as_str()).collect();
    inbound
        .record(&app, &req, Channel::Feed, String::new(), &body, &ids)
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
}

async fn acknowledge_order(
    app: Data,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<Acknowledgement>,
) -> Result<HttpResponse, StoreError> {
    let inbound = Inbound::arrived(&app);
    require_store_key(&app, &req).await?;
    let id = OrderId::parse(&id).map_err(|_| StoreError::not_found("order", id.as_str()))?;
    let order = poll::acknowledge(&app, id.as_str(), &body).await?;
    let response = serde_json::to_string(&order).map_err(anyhow::Error::from)?;
    let request_body = serde_json::to_string(&body.into_inner()).unwrap_or_default();
    inbound
        .record(
            &app,
            &req,
            Channel::Ack,
            request_body,
            &response,
            &[id.as_str()],
        )
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(response))
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
    let mode = IntegrationMode::parse(&body.mode)
        .map_err(|e| StoreError::validation(vec![contract::FieldError::new("mode", e.0)]))?;
    integration::set_mode(&app.db, &app.live, mode, app.clock.now_ms()).await?;
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

async fn list_endpoints(app: Data) -> Result<HttpResponse, StoreError> {
    Ok(HttpResponse::Ok().json(endpoints::list(&app).await?))
}

async fn get_endpoint(app: Data, id: web::Path<String>) -> Result<HttpResponse, StoreError> {
    Ok(HttpResponse::Ok().json(endpoints::get(&app, &id).await?))
}

async fn update_endpoint(
    app: Data,
    id: web::Path<String>,
    body: web::Json<endpoints::EndpointChanges>,
) -> Result<HttpResponse, StoreError> {
    Ok(HttpResponse::Ok().json(endpoints::update(&app, &id, body.into_inner()).await?))
}

async fn delete_endpoint(app: Data, id: web::Path<String>) -> Result<HttpResponse, StoreError> {
    endpoints::delete(&app, &id).await?;
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
    let endpoint = endpoints::rotate_secret(&app, &id, Duration::from_secs(grace)).await?;
    Ok(HttpResponse::Ok().json(endpoint))
}

async fn ping_endpoint(app: Data, id: web::Path<String>) -> Result<HttpResponse, StoreError> {
    let message_id = endpoints::ping(&app, &id).await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "message_id": message_id })))
}

async fn recover_endpoint(app: Data, id: web::Path<String>) -> Result<HttpResponse, StoreError> {
    let requeued = deliveries::recover(&app, &id).await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "requeued": requeued })))
}

async fn list_deliveries(
    app: Data,
    query: web::Query<deliveries::DeliveryFilter>,
) -> Result<HttpResponse, StoreError> {
    Ok(HttpResponse::Ok().json(deliveries::list(&app, query.into_inner()).await?))
}

async fn get_delivery(app: Data, id: web::Path<String>) -> Result<HttpResponse, StoreError> {
    Ok(HttpResponse::Ok().json(deliveries::get(&app, &id).await?))
}

async fn redeliver(app: Data, id: web::Path<String>) -> Result<HttpResponse, StoreError> {
    Ok(HttpResponse::Accepted().json(deliveries::redeliver(&app, &id).await?))
}
