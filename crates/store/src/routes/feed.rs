//! The pull feed's two doors, as the inventory knocks on them: `GET
//! /api/orders` (a page of the feed) and the acknowledgements, one order's
//! (`POST /api/orders/{id}/acknowledgement`) or a page's (`POST
//! /api/acknowledgements`).
//! Both want the store's API key, checked before the query or the body is
//! read, and both are logged in the message log as the inventory's
//! requests. What they do is `crate::integration::poll`'s.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use contract::inventory::{Acknowledged, Acknowledgement, PageAcknowledged, PageAcknowledgement};
use contract::order::FeedPage;
use contract::{IntegrationMode, OrderId};

use crate::api_keys;
use crate::error::StoreError;
use crate::inbound::Inbound;
use crate::integration::hybrid;
use crate::integration::poll::{self, Cursor};
use crate::state::AppState;

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
    /// Only orders placed in this mode. Hybrid mode's reconciliation reads
    /// `mode=hybrid` (and is logged as such: `reconcile`, not `feed`).
    #[param(value_type = Option<IntegrationMode>)]
    mode: Option<String>,
    /// Long polling: with nothing after the cursor, hold the read up to
    /// this many seconds (0 to 30) until an order commits; then answer the
    /// page, empty if none came.
    #[param(minimum = 0, maximum = 30)]
    wait: Option<u64>,
}

/// `GET /api/orders?after=CURSOR&limit=N&wait=SECONDS`.
#[utoipa::path(
    get,
    path = "/api/orders",
    tag = "feed",
    summary = "The order feed (pull)",
    description = "Every order, in the order their transactions committed, a page at a time. \
                   Pass each page's `iterator` back as `after`; `done` says there was nothing \
                   more when the page was read — come back later with the same cursor. With \
                   `wait`, an empty read is held (long polling) until an order commits past the \
                   cursor or the wait ends: an order reaches the reader as soon as it commits, at \
                   the price of a connection held open while it waits.",
    params(FeedQuery),
    security(("feed_key" = [])),
    responses(
        (status = 200, description = "A page of orders, oldest first", body = FeedPage),
        (status = 400, description = "An `after` this feed did not issue, a `limit` outside 1 to 200, a `wait` outside 0 to 30, or a `mode` that is not one", body = contract::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid feed key", body = contract::Problem, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "`Bearer`"))),
    )
)]
pub async fn feed(app: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, StoreError> {
    let inbound = Inbound::arrived(&app.ctx);
    // Who asks, before what they ask: the query is read only for a caller
    // with the key (a 401 comes before any 400).
    api_keys::require(&app.ctx.db, &app.ctx.known_keys, &req).await?;
    let query = web::Query::<FeedQuery>::from_query(req.query_string())
        .map_err(|e| StoreError::bad_request(format!("invalid query string: {e}")))?;
    let cursor = match query.after.as_deref() {
        None | Some("") => Cursor::START,
        Some(text) => Cursor::decode(text)?,
    };
    let mode = match query.mode.as_deref() {
        None | Some("") => None,
        Some(text) => Some(
            IntegrationMode::parse(text)
                .map_err(|e| StoreError::bad_request(format!("`mode`: {}", e.0)))?,
        ),
    };
    let limit = poll::page_size(query.limit)?;
    let wait = poll::wait::wait_time(query.wait)?;
    let page = poll::wait::read_feed_waiting(&app.ctx, cursor, limit, mode, wait).await?;
    let channel = hybrid::feed_channel(mode);
    let body = serde_json::to_string(&page).map_err(anyhow::Error::from)?;
    let carried: Vec<&OrderId> = page.data.iter().map(|o| &o.id).collect();
    inbound
        .record(&app.ctx, &req, channel, String::new(), &body, &carried)
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
                   with it; that resolves the order. Only for orders placed in poll mode, or in \
                   hybrid mode (landed by its reconciliation); the first answer decides — for a \
                   hybrid order, whichever comes first of this and the answer to its notice — \
                   and a later one is answered with `duplicate: true` and changes nothing.",
    params(("id" = OrderId, Path, description = "The order's id")),
    request_body(content = Acknowledgement, content_type = "application/json"),
    security(("feed_key" = [])),
    responses(
        (status = 200, description = "Recorded: the order as it stands now, and whether it was decided before", body = Acknowledged),
        (status = 401, description = "No valid feed key", body = contract::Problem, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "`Bearer`"))),
        (status = 404, description = "No such order", body = contract::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The order was placed in webhook or api mode: another channel resolves it", body = contract::Problem, content_type = "application/problem+json"),
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
    api_keys::require(&app.ctx.db, &app.ctx.known_keys, &req).await?;
    let id: OrderId = id_from_path("order", &id)?;
    let ack: Acknowledgement = platform::http::json_body(&req, &body)?;
    let acknowledged = poll::acknowledge(&app.ctx, &id, &ack).await?;
    let channel = hybrid::ack_channel(acknowledged.order.mode);
    let response = serde_json::to_string(&acknowledged).map_err(anyhow::Error::from)?;
    let request_body = String::from_utf8_lossy(&body).into_owned();
    inbound
        .record(&app.ctx, &req, channel, request_body, &response, &[&id])
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(response))
}

/// `POST /api/acknowledgements`.
#[utoipa::path(
    post,
    path = "/api/acknowledgements",
    tag = "feed",
    summary = "Report what was done with a page of pulled orders",
    description = "The single acknowledgement's rules, for up to 200 orders in one request and \
                   one transaction, so a poll cycle costs two requests (read, acknowledge) \
                   whatever its size. Each item gets its own result — `resolved`, `duplicate` \
                   (decided before; nothing changed), `conflict` (a webhook or api order: its \
                   own channel resolves it) or `not_found` — and a wrong item does not fail the \
                   others: the answer is `200` whenever the request itself is sound.",
    request_body(content = PageAcknowledgement, content_type = "application/json"),
    security(("feed_key" = [])),
    responses(
        (status = 200, description = "One result per item, in the order sent", body = PageAcknowledged),
        (status = 400, description = "No items, more than 200, or an item that is not an acknowledgement", body = contract::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid feed key", body = contract::Problem, content_type = "application/problem+json",
         headers(("WWW-Authenticate" = String, description = "`Bearer`"))),
    )
)]
pub async fn page_acknowledgement(
    app: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, StoreError> {
    let inbound = Inbound::arrived(&app.ctx);
    // The key before the body, as for one order.
    api_keys::require(&app.ctx.db, &app.ctx.known_keys, &req).await?;
    let page: PageAcknowledgement = platform::http::json_body(&req, &body)?;
    let (answer, modes) = poll::page::acknowledge_page(&app.ctx, &page).await?;
    // A page is the poller's or the reconciliation's, never both: a
    // hybrid order on it makes it the reconciliation's.
    let mode = if modes.contains(&IntegrationMode::Hybrid) {
        IntegrationMode::Hybrid
    } else {
        IntegrationMode::Poll
    };
    let response = serde_json::to_string(&answer).map_err(anyhow::Error::from)?;
    let request_body = String::from_utf8_lossy(&body).into_owned();
    // Every order the store knows is on the page's timeline entry (once,
    // even if listed twice), so each order's timeline shows the
    // acknowledgement that carried it.
    let mut carried: Vec<&OrderId> = Vec::with_capacity(answer.results.len());
    for r in answer.results.iter().filter(|r| r.status.is_some()) {
        if !carried.contains(&&r.order_id) {
            carried.push(&r.order_id);
        }
    }
    inbound
        .record(
            &app.ctx,
            &req,
            hybrid::ack_channel(mode),
            request_body,
            &response,
            &carried,
        )
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(response))
}
