//! The inventory's web UI: the stockroom behind the shop, and the levers
//! that break it on purpose.
//!
//! | page        | module        | what it shows                                          |
//! |-------------|---------------|--------------------------------------------------------|
//! | `/`         | [`stock`]     | stock per SKU (live), restocking, the service's state  |
//! | `/messages` | [`messages`]  | every request received and made, with its verdict      |
//! | `/chaos`    | [`chaos`]     | down, slow, fail the next N, reject signatures         |
//! | `/poller`   | [`poller`]    | pause, resume, interval, poll now, the cursor          |
//! | `/keys`     | [`keys`]      | API keys: hints, create (shown once), revoke           |
//!
//! The same pattern as the store's UI (`store::ui`): askama templates in
//! `templates/inventory/` that work without JavaScript, and `data-live`
//! regions that `app.js` re-fetches from `/fragments/…` when the
//! inventory's `GET /events` says they changed. Two fragments are also
//! shown on the *store's* pages — this log as the right-hand column of the
//! store's flow page, and the poller controls inside the store's settings —
//! which is why fragments may be read cross-origin and the poller form can
//! send the browser back to the store.

pub mod chaos;
pub mod keys;
pub mod messages;
pub mod poller;
pub mod stock;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use askama::Template;

use platform::ui::{Layout, NavItem, Notice, Service};

use crate::error::InventoryError;
use crate::state::AppState;

type Data = web::Data<AppState>;

pub const NAV: &[NavItem] = &[
    NavItem {
        href: "/",
        label: "Stock",
    },
    NavItem {
        href: "/messages",
        label: "Messages",
    },
    NavItem {
        href: "/chaos",
        label: "Chaos",
    },
    NavItem {
        href: "/poller",
        label: "Poller",
    },
    NavItem {
        href: "/keys",
        label: "API keys",
    },
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/static/{name}", web::get().to(platform::ui::static_asset));
    stock::configure(cfg);
    messages::configure(cfg);
    chaos::configure(cfg);
    poller::configure(cfg);
    keys::configure(cfg);
}

pub fn layout(app: &AppState, req: &HttpRequest, title: impl Into<String>) -> Layout {
    Layout::new(
        Service::Inventory,
        NAV,
        &app.config.store_public_url,
        title,
        req.path(),
    )
}

pub fn page(
    app: &AppState,
    status: StatusCode,
    template: &impl Template,
) -> Result<HttpResponse, PageError> {
    Ok(platform::ui::page_response(
        status,
        template.render()?,
        &app.config.store_public_url,
    ))
}

pub fn fragment(template: &impl Template) -> Result<HttpResponse, PageError> {
    Ok(platform::ui::fragment_response(template.render()?))
}

/// The store's address as a browser reaches it, without a trailing slash.
pub fn store_url(app: &AppState) -> String {
    app.config.store_public_url.trim_end_matches('/').to_owned()
}

/// Every way an inventory page can fail, as a page.
#[derive(Debug)]
pub enum PageError {
    NotFound(String),
    Inventory(InventoryError),
    Render(askama::Error),
}

impl From<InventoryError> for PageError {
    fn from(e: InventoryError) -> Self {
        match e {
            InventoryError::NotFound { what, id } => {
                PageError::NotFound(format!("There is no {what} {id}."))
            }
            other => PageError::Inventory(other),
        }
    }
}

impl From<sqlx::Error> for PageError {
    fn from(e: sqlx::Error) -> Self {
        PageError::Inventory(InventoryError::Database(e))
    }
}

impl From<askama::Error> for PageError {
    fn from(e: askama::Error) -> Self {
        PageError::Render(e)
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PageError::NotFound(what) => write!(f, "{what}"),
            PageError::Inventory(e) => write!(f, "{e}"),
            PageError::Render(e) => write!(f, "rendering failed: {e}"),
        }
    }
}

#[derive(Template)]
#[template(path = "shared/error.html")]
pub struct ErrorPage {
    pub layout: Layout,
    pub status: u16,
    pub heading: String,
    pub detail: String,
}

impl ErrorPage {
    fn respond(self, peer: &str) -> HttpResponse {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        match self.render() {
            Ok(html) => platform::ui::page_response(status, html, peer),
            Err(_) => {
                HttpResponse::build(status).body(status.canonical_reason().unwrap_or("Error"))
            }
        }
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::NotFound(_) => StatusCode::NOT_FOUND,
            PageError::Inventory(e) => e.status_code(),
            PageError::Render(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let (heading, detail) = match self {
            PageError::NotFound(what) => ("Not found".to_owned(), what.clone()),
            PageError::Inventory(e) if status.is_client_error() => (
                "That did not work".to_owned(),
                e.problem().detail.unwrap_or_else(|| e.to_string()),
            ),
            PageError::Inventory(e) => {
                tracing::error!(error = ?e, "an inventory page failed");
                (
                    "Something went wrong".to_owned(),
                    "The inventory could not show this page. The error has been logged.".to_owned(),
                )
            }
            PageError::Render(e) => {
                tracing::error!(error = %e, "an inventory template failed to render");
                (
                    "Something went wrong".to_owned(),
                    "The inventory could not draw this page. The error has been logged.".to_owned(),
                )
            }
        };
        // No request here, so no peer link (see `store::ui`).
        ErrorPage {
            layout: Layout::new(Service::Inventory, NAV, "", heading.clone(), ""),
            status: status.as_u16(),
            heading,
            detail,
        }
        .respond("")
    }
}

/// The 404 for a page address that does not exist.
pub fn not_found(req: &HttpRequest) -> HttpResponse {
    let peer = req
        .app_data::<Data>()
        .map(|app| app.config.store_public_url.clone())
        .unwrap_or_default();
    ErrorPage {
        layout: Layout::new(Service::Inventory, NAV, &peer, "Page not found", req.path()),
        status: 404,
        heading: "There is no such page".into(),
        detail: format!(
            "Nothing is stored at {}. The menu above lists every page of the inventory.",
            req.path()
        ),
    }
    .respond(&peer)
}

/// A fixed message for a `?notice=` key.
pub fn notice(key: Option<&str>) -> Option<Notice> {
    Some(match key? {
        "restocked" => {
            Notice::success("Restocked. The shop's orders can take the new units straight away.")
        }
        "chaos" => Notice::warning(
            "Chaos controls changed. They apply to the integration endpoints and the poller, never to these pages.",
        ),
        "healed" => Notice::success("All chaos switched off: the inventory behaves again."),
        "revoked" => Notice::success("Key revoked. Requests presenting it now get 401."),
        "poller" => Notice::success("Poller settings saved."),
        "poll-failed" => Notice::error("The poll failed; the message log says why."),
        _ => return None,
    })
}

/// `ON`/`off` badges and similar: the text of a boolean state.
pub fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}
