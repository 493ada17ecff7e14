//! The pull feed's two doors, as the inventory knocks on them: `GET
//! /api/orders` (a page of the feed) and `POST /api/orders/{id}/acknowledgement`.
//! Both want the store's API key, checked before the query or the body is
//! read, and both are logged in the message log as the inventory's
//! requests. What they do is `crate::integration::poll`'s.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use contract::inventory::Acknowledgement;
use contract::order::{FeedPage, Order};
use contract::{Channel, OrderId};

use crate::api_keys;
use crate::error::StoreError;
use crate::integration::poll::{self, Cursor};
use crate::state::AppState;
use crate::timeline::Inbound;

use super::id_from_path;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// The `iterator` of the previous page; omitted, the feed starts at
    /// its beginning.
    #[param(max_length = 64)]
    after: Option<String>,
    /// Orders per page (default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

/// `GET /api/orders?after=CURSOR&limit=N`.
#[utoipa::path(
    get,
    path = "/api/orders",
    tag = "feed",
    summary = "The order feed (pull)",
    description = "Every order, in the order their transactions committed, a page at a time. \
                   Pass each page's `iterator` back as `after`; `done` says there was nothing \
                   more when the page was read — come back later with the same cursor.",
    params(FeedQuery),
    security(("feed_key" = [])),
    responses(
        (status = 200, description = "A page of orders, oldest first", body = FeedPage),
        (status = 400, description = "An `after` this feed did not issue, or a `limit` outside 1 to 200", body = contract::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid feed key", body = contract::Problem, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "`Bearer`"))),
    )
)]
pub async fn feed(app: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, StoreError> {
    let inbound = Inbound::arrived(&app.ctx);
    // Who asks, before what they ask: the query is read only for a caller
    // with the key (a 401 comes before any 400).
    api_keys::require(&app.ctx.db, &req).await?;
    let query = web::Query::<FeedQuery>::from_query(req.query_string())
        .map_err(|e| StoreError::bad_request(format!("invalid query string: {e}")))?;
    let cursor = match query.after.as_deref() {
        None | Some("") => Cursor::START,
        Some(text) => Cursor::decode(text)?,
    };
    let page = poll::read_feed(&app.ctx, cursor, poll::page_size(query.limit)?).await?;
    let body = serde_json::to_string(&page).map_err(anyhow::Error::from)?;
    let carried: Vec<&OrderId> = page.data.iter().map(|o| &o.id).collect();
    inbound
        .record(
            &app.ctx,
            &req,
            Channel::Feed,
            String::new(),
            &body,
            &carried,
        )
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
}

/// `POST /api/orders/{id}/acknowledgement`.
#[utoipa::path(
    post,
    path = "/api/orders/{id}/acknowledgement",
    tag = "feed",
    summary = "Report what was done with a pulled order",
    description = "In poll mode nobody pushed the order, so the inventory says what it did \
                   with it; that resolves the order. Only for orders placed in poll mode; the \
                   first acknowledgement decides, repeats change nothing.",
    params(("id" = OrderId, Path, description = "The order's id")),
    request_body(content = Acknowledgement, content_type = "application/json"),
    security(("feed_key" = [])),
    responses(
        (status = 200, description = "Recorded: the order as it stands now", body = Order),
        (status = 401, description = "No valid feed key", body = contract::Problem, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "`Bearer`"))),
        (status = 404, description = "No such order", body = contract::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The order was not placed in poll mode: another channel resolves it", body = contract::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn acknowledgement(
    app: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, StoreError> {
    let inbound = Inbound::arrived(&app.ctx);
    // The key first, then the body: taken as bytes, so that nothing is
    // parsed for a caller who has not shown the key.
    api_keys::require(&app.ctx.db, &req).await?;
    let id: OrderId = id_from_path("order", &id)?;
    let ack: Acknowledgement = platform::http::json_body(&req, &body)?;
    let order = poll::acknowledge(&app.ctx, &id, &ack).await?;
    let response = serde_json::to_string(&order).map_err(anyhow::Error::from)?;
    let request_body = String::from_utf8_lossy(&body).into_owned();
    inbound
        .record(
            &app.ctx,
            &req,
            Channel::Ack,
            request_body,
            &response,
            &[&id],
        )
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(response))
}
