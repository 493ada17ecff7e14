//! The inventory's own JSON API, for the UI and for people with curl:
//! stock and restocking, API keys, the message log, the poller, chaos.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use contract::{Channel, OrderId, Sku};

use crate::error::InventoryError;
use crate::instruments::chaos::{ChaosSettings, MAX_LATENCY_MS};
use crate::instruments::messages::{self, Selection};
use crate::instruments::poll_cost;
use crate::integration::poller::{self, cursor};
use crate::state::AppState;
use crate::{keys, stock};

type Data = web::Data<AppState>;

/// One resource per path: the wrong method on a known path is a 405.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/stock").get(list_stock))
        .service(web::resource("/api/stock/{sku}/restock").post(restock))
        .service(web::resource("/api/keys").get(list_keys).post(create_key))
        .service(web::resource("/api/keys/{id}").delete(revoke_key))
        .service(web::resource("/api/messages").get(list_messages))
        .service(web::resource("/api/poller").get(get_poller).put(put_poller))
        .service(web::resource("/api/poller/poll-now").post(poll_now))
        .service(web::resource("/api/chaos").get(get_chaos).put(put_chaos));
}

async fn list_stock(app: Data) -> Result<HttpResponse, InventoryError> {
    Ok(HttpResponse::Ok()
        .insert_header(("Access-Control-Allow-Origin", "*"))
        .json(stock::list(&app.db, app.clock.now()).await?))
}

#[derive(Deserialize)]
struct Restock {
    quantity: Option<serde_json::Value>,
}

async fn restock(
    app: Data,
    sku: web::Path<String>,
    body: web::Json<Restock>,
) -> Result<HttpResponse, InventoryError> {
    let sku = Sku::parse(&sku).map_err(|_| InventoryError::not_found("SKU", sku.as_str()))?;
    let quantity = body
        .quantity
        .as_ref()
        .and_then(|v| v.as_i64())
        .ok_or_else(|| {
            InventoryError::invalid(
                "quantity",
                format!("a whole number of units from 1 to {}", stock::MAX_RESTOCK),
            )
        })?;
    let level = stock::restock(&app.db, &sku, quantity, app.clock.now()).await?;
    app.live
        .publish("stock.changed", serde_json::json!({"stock": [&level]}));
    Ok(HttpResponse::Ok().json(level))
}

async fn list_keys(app: Data) -> Result<HttpResponse, InventoryError> {
    Ok(HttpResponse::Ok().json(keys::list(&app.db).await?))
}

#[derive(Deserialize)]
struct NewKey {
    label: Option<String>,
}

async fn create_key(app: Data, body: web::Json<NewKey>) -> Result<HttpResponse, InventoryError> {
    let key = keys::create(
        &app.db,
        body.label.as_deref().unwrap_or(""),
        app.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Created().json(key))
}

async fn revoke_key(app: Data, id: web::Path<String>) -> Result<HttpResponse, InventoryError> {
    keys::revoke(&app.db, &id, app.clock.now()).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
struct MessageQuery {
    channel: Option<Channel>,
    order_id: Option<OrderId>,
    limit: Option<i64>,
}

async fn list_messages(
    app: Data,
    q: web::Query<MessageQuery>,
) -> Result<HttpResponse, InventoryError> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(InventoryError::bad_request(
            "`limit` must be between 1 and 500",
        ));
    }
    let selection = Selection {
        channel: q.channel,
        order_id: q.order_id.as_ref(),
    };
    let list = messages::recent(&app.db, selection, limit).await?;
    Ok(HttpResponse::Ok().json(list))
}

/// The poller's settings and cursor, and what polling has cost so far.
async fn get_poller(app: Data) -> Result<HttpResponse, InventoryError> {
    let state = cursor::load(&app).await?;
    let stats = poll_cost::stats(&app.db).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "paused": state.paused,
        "interval_ms": state.interval_ms,
        "cursor": state.cursor,
        "stats": stats,
    })))
}

#[derive(Deserialize)]
struct PollerChange {
    paused: Option<bool>,
    interval_ms: Option<i64>,
}

/// The shortest and longest poll intervals allowed.
pub const MIN_INTERVAL_MS: i64 = 250;
pub const MAX_INTERVAL_MS: i64 = 3_600_000;

async fn put_poller(
    app: Data,
    body: web::Json<PollerChange>,
) -> Result<HttpResponse, InventoryError> {
    if let Some(ms) = body.interval_ms
        && !(MIN_INTERVAL_MS..=MAX_INTERVAL_MS).contains(&ms)
    {
        return Err(InventoryError::invalid(
            "interval_ms",
            format!("between {MIN_INTERVAL_MS} and {MAX_INTERVAL_MS} milliseconds"),
        ));
    }
    Ok(HttpResponse::Ok().json(cursor::configure(&app, body.paused, body.interval_ms).await?))
}

async fn poll_now(app: Data) -> Result<HttpResponse, InventoryError> {
    match poller::poll_cycle(&app).await {
        Ok(report) => Ok(HttpResponse::Ok().json(report)),
        Err(e) => Err(e.context("the poll failed").into()),
    }
}

async fn get_chaos(app: Data) -> HttpResponse {
    HttpResponse::Ok().json(app.chaos.settings())
}

async fn put_chaos(
    app: Data,
    body: web::Json<ChaosSettings>,
) -> Result<HttpResponse, InventoryError> {
    if body.latency_ms > MAX_LATENCY_MS {
        return Err(InventoryError::invalid(
            "latency_ms",
            format!("at most {MAX_LATENCY_MS} ms"),
        ));
    }
    app.chaos.set(&body);
    let settings = app.chaos.settings();
    tracing::warn!(?settings, "chaos controls changed");
    app.live.publish("chaos.changed", &settings);
    Ok(HttpResponse::Ok().json(settings))
}
