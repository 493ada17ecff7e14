//! The inventory's own JSON API, for the UI and for people with curl:
//! stock and restocking, API keys, the message log, the poller, chaos.
//!
//! Reading is open (stock, the message log — secrets hinted by
//! `platform::redact` — the poller's state, the chaos switches); changing
//! anything, and the list of keys, takes [`Operator`] as the first
//! argument: with `ADMIN_TOKEN` set, the operator's bearer token, checked
//! before the body is read.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use contract::inventory::StockLevel;
use contract::{ApiKeyId, Channel, OrderId, Problem, Sku};

use crate::config::MAX_POLL_WAIT;
use crate::error::InventoryError;
use crate::instruments::chaos::{ChaosSettings, MAX_LATENCY_MS};
use crate::instruments::messages::{self, Selection};
use crate::instruments::poll_cost;
use crate::integration::poller;
use crate::integration::poller::cursor::{self, MAX_INTERVAL_MS, MIN_INTERVAL_MS};
use crate::state::AppState;
use crate::{keys, stock};
use platform::guard::Operator;
use platform::http::Json;

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
        .service(web::resource("/api/reconciler").get(get_reconciler))
        .service(web::resource("/api/reconciler/run").post(reconcile_now))
        .service(web::resource("/api/chaos").get(get_chaos).put(put_chaos));
}

#[utoipa::path(
    get,
    path = "/api/stock",
    tag = "stock",
    summary = "Stock per SKU",
    responses((status = 200, description = "Every SKU, in catalog order", body = Vec<stock::StockItem>))
)]
async fn list_stock(app: Data) -> Result<HttpResponse, InventoryError> {
    Ok(HttpResponse::Ok()
        .insert_header(("Access-Control-Allow-Origin", "*"))
        .json(stock::list(&app.ctx.db, app.ctx.clock.now()).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct Restock {
    /// Units to add: a whole number from 1 to 10,000.
    #[schema(value_type = i64, minimum = 1, maximum = 10_000)]
    quantity: Option<serde_json::Value>,
}

#[utoipa::path(
    post,
    path = "/api/stock/{sku}/restock",
    tag = "stock",
    summary = "Add units to a SKU",
    params(("sku" = Sku, Path, description = "The SKU to restock")),
    request_body(content = Restock, content_type = "application/json"),
    security((), ("operator" = [])),
    responses(
        (status = 200, description = "The new level", body = StockLevel),
        (status = 404, description = "No such SKU", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A quantity that is not a whole number from 1 to 10,000", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn restock(
    _: Operator,
    app: Data,
    sku: web::Path<String>,
    body: Json<Restock>,
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
    let level = stock::restock(&app.ctx.db, &sku, quantity, app.ctx.clock.now()).await?;
    app.ctx.live.publish(
        contract::LiveEventKind::StockChanged,
        crate::live::StockChangedData {
            order_id: None,
            stock: Some(vec![level.clone()]),
        },
    );
    Ok(HttpResponse::Ok().json(level))
}

#[utoipa::path(
    get,
    path = "/api/keys",
    tag = "keys",
    summary = "The API keys /update_inventory accepts (hints only)",
    security((), ("operator" = [])),
    responses((status = 200, description = "Every key, without the key itself", body = Vec<keys::ApiKey>))
)]
async fn list_keys(_: Operator, app: Data) -> Result<HttpResponse, InventoryError> {
    Ok(HttpResponse::Ok().json(keys::list(&app.ctx.db).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct NewKey {
    /// What the key is for, as shown in the key list: 1 to 60 characters,
    /// not all spaces.
    #[schema(required, schema_with = label_schema)]
    label: Option<String>,
}

fn label_schema() -> utoipa::openapi::schema::Object {
    contract::schema::human_text(
        "What the key is for, as shown in the key list: not all spaces.",
        keys::MAX_LABEL_CHARS,
        true,
    )
}

#[utoipa::path(
    post,
    path = "/api/keys",
    tag = "keys",
    summary = "Create an API key",
    description = "The answer is the only place the key itself is shown.",
    request_body(content = NewKey, content_type = "application/json"),
    security((), ("operator" = [])),
    responses(
        (status = 201, description = "Created; `key` is shown this once", body = keys::ApiKey),
        (status = 422, description = "A label that is blank, too long or holds a hidden character (control, invisible formatting, …)", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn create_key(
    _: Operator,
    app: Data,
    body: Json<NewKey>,
) -> Result<HttpResponse, InventoryError> {
    let key = keys::create(
        &app.ctx.db,
        &app.api_keys,
        body.label.as_deref().unwrap_or(""),
        app.ctx.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Created().json(key))
}

#[utoipa::path(
    delete,
    path = "/api/keys/{id}",
    tag = "keys",
    summary = "Revoke an API key",
    params(("id" = ApiKeyId, Path, description = "The key's id (never the key)")),
    security((), ("operator" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No such key", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn revoke_key(
    _: Operator,
    app: Data,
    id: web::Path<String>,
) -> Result<HttpResponse, InventoryError> {
    keys::revoke(&app.ctx.db, &app.api_keys, &id, app.ctx.clock.now()).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessageQuery {
    /// Only messages of this channel.
    channel: Option<Channel>,
    /// Only messages about this order.
    order_id: Option<OrderId>,
    /// How many, newest first (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

#[utoipa::path(
    get,
    path = "/api/messages",
    tag = "messages",
    summary = "The message log: every request the inventory received or sent",
    params(MessageQuery),
    security((), ("operator" = [])),
    responses(
        (status = 200, description = "Messages, newest first", body = Vec<messages::MessageView>),
        (status = 400, description = "A `limit` outside 1 to 500, or a filter that does not parse", body = Problem, content_type = "application/problem+json"),
    )
)]
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
    let list = messages::recent(&app.ctx.db, selection, limit).await?;
    Ok(HttpResponse::Ok().json(list))
}

/// The poller's settings and cursor, and what polling has cost so far.
#[utoipa::path(
    get,
    path = "/api/poller",
    tag = "poller",
    summary = "The poller's settings and cursor, and what polling has cost",
    security((), ("operator" = [])),
    responses((status = 200, description = "The poller", body = PollerView))
)]
async fn get_poller(app: Data) -> Result<HttpResponse, InventoryError> {
    let state = cursor::load(&app.ctx.db, cursor::Feed::Poll).await?;
    let stats = poll_cost::stats(&app.ctx.db).await?;
    Ok(HttpResponse::Ok().json(PollerView {
        paused: state.paused,
        interval_ms: state.interval_ms,
        wait_ms: state.wait_ms,
        cursor: state.cursor,
        stats,
    }))
}

/// The poller as `GET /api/poller` shows it.
#[derive(Serialize, ToSchema)]
pub struct PollerView {
    paused: bool,
    interval_ms: i64,
    /// Long polling: how long the store may hold an empty read (0: off).
    wait_ms: i64,
    /// The feed's `iterator` after the last page handled; empty before the
    /// first.
    cursor: String,
    stats: poll_cost::PollStats,
}

/// Only the fields given change.
#[derive(Deserialize, ToSchema)]
pub struct PollerChange {
    paused: Option<bool>,
    /// Milliseconds between polls: 250 to 3,600,000.
    #[schema(minimum = 250, maximum = 3_600_000)]
    interval_ms: Option<i64>,
    /// Long polling: how many seconds the store may hold an empty read,
    /// 1 to 30; 0 switches it off.
    #[schema(minimum = 0, maximum = 30)]
    wait_s: Option<i64>,
}

#[utoipa::path(
    put,
    path = "/api/poller",
    tag = "poller",
    summary = "Pause, resume or pace the poller",
    request_body(content = PollerChange, content_type = "application/json"),
    security((), ("operator" = [])),
    responses(
        (status = 200, description = "The poller's settings now", body = cursor::PollerState),
        (status = 422, description = "An interval outside 250 ms to one hour, or a wait outside 0 to 30 s", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn put_poller(
    _: Operator,
    app: Data,
    body: Json<PollerChange>,
) -> Result<HttpResponse, InventoryError> {
    if let Some(ms) = body.interval_ms
        && !(MIN_INTERVAL_MS..=MAX_INTERVAL_MS).contains(&ms)
    {
        return Err(InventoryError::invalid(
            "interval_ms",
            format!("between {MIN_INTERVAL_MS} and {MAX_INTERVAL_MS} milliseconds"),
        ));
    }
    let max_wait = MAX_POLL_WAIT.as_secs() as i64;
    if let Some(s) = body.wait_s
        && !(0..=max_wait).contains(&s)
    {
        return Err(InventoryError::invalid(
            "wait_s",
            format!("0 (off) to {max_wait} seconds"),
        ));
    }
    let change = cursor::Change {
        paused: body.paused,
        interval_ms: body.interval_ms,
        wait_ms: body.wait_s.map(|s| s * 1000),
    };
    let state = app.poller.configure(&app.ctx, change).await?;
    Ok(HttpResponse::Ok().json(state))
}

#[utoipa::path(
    post,
    path = "/api/poller/poll-now",
    tag = "poller",
    summary = "Poll the store's feed now",
    description = "One cycle, whether or not the poller is paused: read pages until `done`, \
                   apply the poll-mode orders, acknowledge each.",
    security((), ("operator" = [])),
    responses(
        (status = 200, description = "What the cycle did", body = poller::CycleReport),
        (status = 500, description = "The poll failed (the store unreachable, say)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Chaos: the inventory is down", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn poll_now(_: Operator, app: Data) -> Result<HttpResponse, InventoryError> {
    match app.poller.poll_cycle(&app.ctx).await {
        Ok(report) => Ok(HttpResponse::Ok().json(report)),
        Err(e) => Err(e.context("the poll failed").into()),
    }
}

/// Hybrid mode's reconciliation: its cursor and pace.
#[utoipa::path(
    get,
    path = "/api/reconciler",
    tag = "poller",
    summary = "Hybrid mode's reconciliation: its cursor and interval",
    description = "The reconciliation reads the store's feed for hybrid orders still pending \
                   (their notice lost) every `RECONCILE_INTERVAL`, with a cursor of its own.",
    responses((status = 200, description = "The reconciliation's state", body = cursor::PollerState))
)]
async fn get_reconciler(app: Data) -> Result<HttpResponse, InventoryError> {
    let state = cursor::load(&app.ctx.db, cursor::Feed::Reconcile).await?;
    Ok(HttpResponse::Ok().json(state))
}

#[utoipa::path(
    post,
    path = "/api/reconciler/run",
    tag = "poller",
    summary = "Reconcile now (hybrid mode)",
    description = "One reconciliation cycle, without waiting for its timer: read the feed's \
                   hybrid orders from the reconciliation's cursor, land those still pending, \
                   acknowledge each.",
    security((), ("operator" = [])),
    responses(
        (status = 200, description = "What the cycle did", body = poller::CycleReport),
        (status = 500, description = "The reconciliation failed (the store unreachable, say)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Chaos: the inventory is down", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn reconcile_now(_: Operator, app: Data) -> Result<HttpResponse, InventoryError> {
    match app.reconciler.poll_cycle(&app.ctx).await {
        Ok(report) => Ok(HttpResponse::Ok().json(report)),
        Err(e) => Err(e.context("the reconciliation failed").into()),
    }
}

#[utoipa::path(
    get,
    path = "/api/chaos",
    tag = "chaos",
    summary = "The chaos controls",
    responses((status = 200, description = "What is broken on purpose", body = ChaosSettings))
)]
async fn get_chaos(app: Data) -> HttpResponse {
    HttpResponse::Ok().json(app.ctx.chaos.settings())
}

#[utoipa::path(
    put,
    path = "/api/chaos",
    tag = "chaos",
    summary = "Break the inventory on purpose",
    description = "Affects the integration endpoints (`/update_inventory`, `/webhooks/store`) \
                   and the poller, never this API or the UI. Fields left out are off.",
    request_body(content = ChaosSettings, content_type = "application/json"),
    security((), ("operator" = [])),
    responses(
        (status = 200, description = "The controls now", body = ChaosSettings),
        (status = 422, description = "More than two minutes of latency", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn put_chaos(
    _: Operator,
    app: Data,
    body: Json<ChaosSettings>,
) -> Result<HttpResponse, InventoryError> {
    if body.latency_ms > MAX_LATENCY_MS {
        return Err(InventoryError::invalid(
            "latency_ms",
            format!("at most {MAX_LATENCY_MS} ms"),
        ));
    }
    let ctx = &app.ctx;
    ctx.chaos.set(&body);
    let settings = ctx.chaos.settings();
    tracing::warn!(?settings, "chaos controls changed");
    ctx.live
        .publish(contract::LiveEventKind::ChaosChanged, &settings);
    Ok(HttpResponse::Ok().json(settings))
}
