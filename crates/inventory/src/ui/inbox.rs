//! `/inbox/{name}`: the capture inbox's two doors (the storage and the
//! reasons are in `crate::instruments::inbox`). A `POST`, `PUT` or `PATCH`
//! is kept and answered `200` with what was kept; a `GET` is the page a
//! learner reads it on — each capture's headers and raw body, its
//! signature laid out to check by hand against a secret pasted into the
//! page (`platform::ui::by_hand`), and the request as `curl`.
//!
//! The same path serves a program and a person, as webhook.site does: the
//! URL a learner pastes into the store's settings is the URL they open.
//! `/inbox` itself is the index: the inboxes that hold anything, and a
//! field that opens one by name.
//!
//! The page is live: each capture publishes `inbox.captured`, and the list
//! (`/fragments/inbox/{name}`) is re-fetched on it, as other pages'
//! regions are. The event does not say which inbox a page shows, so every
//! open inbox page re-fetches on any capture; a list that did not change
//! is not swapped (`app.js`), and captures come one by one, by hand.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use platform::ui::{HeaderRow, Layout, SignedMessage, date_time, header_rows, see_other};
use serde::Deserialize;

use super::{Data, PageError, fragment, layout, page};
use crate::error::InventoryError;
use crate::instruments::inbox::{self, Arrival, Capture, InboxName, KEEP_PER_INBOX};

/// The repository files that do what this page shows (drawn under it as
/// "How this works in the code"; the UI tests check that each exists).
pub const SOURCES: &[&str] = &[
    "crates/inventory/src/ui/inbox.rs",
    "crates/inventory/src/instruments/inbox.rs",
    "crates/platform/src/ui/by_hand.rs",
    "crates/contract/src/signing.rs",
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/inbox", web::get().to(index_page))
        .route("/inbox/{name}", web::get().to(inbox_page))
        .route("/inbox/{name}", web::post().to(capture))
        .route("/inbox/{name}", web::put().to(capture))
        .route("/inbox/{name}", web::patch().to(capture))
        .route("/fragments/inbox/{name}", web::get().to(list_fragment));
}

fn name_of(req: &HttpRequest) -> Result<InboxName, InventoryError> {
    InboxName::parse(req.match_info().get("name").unwrap_or(""))
        .map_err(|e| InventoryError::invalid("name", e.0))
}

/// Keeps whatever arrived and says so. Never refuses a body it could read:
/// a capture tool that answered 4xx would be retried by the sender, and
/// the learner would watch retries instead of their message.
#[tracing::instrument(skip_all, fields(method = %req.method(), path = %req.path()))]
async fn capture(
    app: Data,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, InventoryError> {
    let name = name_of(&req)?;
    let headers = platform::redact::request_headers(&req);
    let url = format!(
        "{}{}",
        app.ctx.config.public_url.trim_end_matches('/'),
        req.uri()
    );
    let id = inbox::record(
        &app.ctx.db,
        &name,
        Arrival {
            method: req.method().as_str(),
            url: &url,
            headers: &headers,
            body: &body,
            at: app.ctx.clock.now(),
        },
    )
    .await?;
    tracing::info!(capture = %id, bytes = body.len(), "captured in the inbox");
    // An open page of this inbox shows it without a reload.
    app.ctx.live.publish(
        contract::LiveEventKind::InboxCaptured,
        crate::live::InboxCapturedData {
            inbox: name.to_string(),
            capture_id: id.clone(),
        },
    );
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "captured": id,
        "inbox": name,
        "bytes": body.len(),
        "see": format!("/inbox/{name}"),
    })))
}

/// One capture, as the page shows it.
pub struct CaptureRow {
    pub id: String,
    pub method: String,
    pub url: String,
    pub received: String,
    pub headers: Vec<HeaderRow>,
    pub content_type: String,
    /// The body as it arrived, as text (`None`: not UTF-8, shown as size).
    pub body: Option<String>,
    pub body_bytes: usize,
    pub by_hand: Option<SignedMessage>,
    pub curl: String,
}

impl CaptureRow {
    fn of(c: Capture) -> CaptureRow {
        let pairs = c.header_pairs();
        let bytes = c.body();
        let body = String::from_utf8(bytes.clone()).ok();
        let headers_value = serde_json::from_str(&c.headers).unwrap_or(serde_json::Value::Null);
        CaptureRow {
            id: c.id.to_string(),
            received: date_time(c.received_at.millis()),
            headers: header_rows(&headers_value),
            content_type: pairs
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| "no content-type".into()),
            by_hand: SignedMessage::of(&pairs, &bytes),
            curl: platform::ui::curl(&c.method, &c.url, &pairs, body.as_deref().unwrap_or("")),
            body_bytes: bytes.len(),
            body,
            method: c.method,
            url: c.url,
        }
    }
}

/// An inbox's captures, newest first: the page's live region.
#[derive(Template)]
#[template(path = "inventory/fragments/inbox.html")]
pub struct CaptureList {
    pub rows: Vec<CaptureRow>,
}

impl askama::filters::HtmlSafe for CaptureList {}

impl CaptureList {
    async fn load(app: &Data, name: &InboxName) -> Result<CaptureList, sqlx::Error> {
        let rows = inbox::list(&app.ctx.db, name)
            .await?
            .into_iter()
            .map(CaptureRow::of)
            .collect();
        Ok(CaptureList { rows })
    }
}

#[derive(Template)]
#[template(path = "inventory/inbox.html")]
pub struct InboxPage {
    pub layout: Layout,
    pub name: String,
    /// Where to send things: this page's own address.
    pub address: String,
    pub keep: i64,
    pub list: CaptureList,
}

async fn list_fragment(app: Data, req: HttpRequest) -> Result<HttpResponse, PageError> {
    let name = name_of(&req)?;
    fragment(&CaptureList::load(&app, &name).await?)
}

async fn inbox_page(app: Data, req: HttpRequest) -> Result<HttpResponse, PageError> {
    let name = name_of(&req)?;
    let list = CaptureList::load(&app, &name).await?;
    let template = InboxPage {
        layout: layout(&app, &req, format!("Inbox {name}")).with_sources(SOURCES),
        address: format!(
            "{}/inbox/{name}",
            app.ctx.config.public_url.trim_end_matches('/')
        ),
        name: name.to_string(),
        keep: KEEP_PER_INBOX,
        list,
    };
    page(&app, StatusCode::OK, &template)
}

/// How many inboxes the index lists.
const INDEX_LIMIT: i64 = 50;

/// An inbox on the index.
pub struct InboxRow {
    pub name: String,
    pub captures: i64,
    pub last: String,
}

#[derive(Template)]
#[template(path = "inventory/inbox_index.html")]
pub struct InboxIndex {
    pub layout: Layout,
    /// Where inboxes live: `{public_url}/inbox/`.
    pub base: String,
    pub rows: Vec<InboxRow>,
    /// A name typed into the field that is not one.
    pub name_error: Option<String>,
    pub typed: String,
}

#[derive(Deserialize, Default)]
struct OpenQuery {
    name: Option<String>,
}

/// `GET /inbox`: the index — or, with `?name=`, that inbox (a form with
/// no script: the field's value becomes the path once it is a name).
async fn index_page(
    app: Data,
    req: HttpRequest,
    query: web::Query<OpenQuery>,
) -> Result<HttpResponse, PageError> {
    let typed = query.into_inner().name.unwrap_or_default();
    let name_error = if typed.is_empty() {
        None
    } else {
        match InboxName::parse(typed.trim()) {
            Ok(name) => return Ok(see_other(&format!("/inbox/{name}"))),
            Err(e) => Some(e.to_string()),
        }
    };
    let rows = inbox::inboxes(&app.ctx.db, INDEX_LIMIT)
        .await?
        .into_iter()
        .map(|s| InboxRow {
            name: s.inbox,
            captures: s.captures,
            last: date_time(s.last_at.millis()),
        })
        .collect();
    let status = if name_error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let template = InboxIndex {
        layout: layout(&app, &req, "Inboxes").with_sources(SOURCES),
        base: format!("{}/inbox/", app.ctx.config.public_url.trim_end_matches('/')),
        rows,
        name_error,
        typed,
    };
    page(&app, status, &template)
}
