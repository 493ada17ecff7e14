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
//! | `/reference`| [`reference`] | the API, read from the inventory's OpenAPI document    |
//! | `/inbox/{name}` | [`inbox`] | a capture inbox: what arrived, to check by hand        |
//!
//! The same pattern as the store's UI (`store::ui`): askama templates in
//! `templates/inventory/` that work without JavaScript, and `data-live`
//! regions that `app.js` re-fetches from `/fragments/…` when the
//! inventory's `GET /events` says they changed. Two fragments are also
//! shown on the *store's* pages — this log as the right-hand column of the
//! store's flow page, and the poller controls inside the store's settings —
//! which is why fragments may be read cross-origin and the poller form can
//! send the browser back to the store.
//!
//! Who may press the buttons (`platform::guard`): the operator. Without
//! `ADMIN_TOKEN`, whoever reaches the inventory (loopback only, by
//! default); with it, the keys page and every form that changes something
//! send a person to `/login` once. Pages of other sites can post nothing
//! here: a browser's state-changing request from elsewhere than this
//! inventory or its store is refused (`403`) before any handler runs.
//!
//! [`reference`]: mod@reference

pub mod chaos;
pub mod inbox;
pub mod keys;
pub mod messages;
pub mod poller;
pub mod reference;
pub mod stock;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use platform::ApiError;
use platform::ui::{Layout, NavItem, Notice, PageProblem, Service};

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
        href: "/inbox",
        label: "Inbox",
    },
    NavItem {
        href: "/keys",
        label: "API keys",
    },
    NavItem {
        href: "/reference",
        label: "API",
    },
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/static/{name}", web::get().to(platform::ui::static_asset));
    stock::configure(cfg);
    messages::configure(cfg);
    chaos::configure(cfg);
    poller::configure(cfg);
    keys::configure(cfg);
    inbox::configure(cfg);
    reference::configure(cfg);
    // `/login` and `/logout`: how a person becomes the operator.
    platform::guard::login::routes(cfg);
}

pub fn layout(app: &AppState, req: &HttpRequest, title: impl Into<String>) -> Layout {
    Layout::new(
        Service::Inventory,
        NAV,
        &app.ctx.config.store_public_url,
        title,
        req.path(),
    )
    .for_request(req)
}

pub fn page(
    app: &AppState,
    status: StatusCode,
    template: &impl Template,
) -> Result<HttpResponse, PageError> {
    Ok(platform::ui::page_response(
        status,
        template.render()?,
        &app.ctx.config.store_public_url,
    ))
}

pub fn fragment(template: &impl Template) -> Result<HttpResponse, PageError> {
    Ok(platform::ui::fragment_response(template.render()?))
}

/// The store's address as a browser reaches it, without a trailing slash.
pub fn store_url(app: &AppState) -> String {
    app.ctx
        .config
        .store_public_url
        .trim_end_matches('/')
        .to_owned()
}

/// A page's failure, rendered as a page (see `platform::ui::PageError`).
pub type PageError = platform::ui::PageError<InventoryError>;

impl PageProblem for InventoryError {
    const SERVICE: Service = Service::Inventory;
    const NAV: &'static [NavItem] = NAV;

    fn problem(&self) -> contract::Problem {
        InventoryError::problem(self)
    }

    fn shared(&self) -> Option<&ApiError> {
        match self {
            InventoryError::Api(e) => Some(e),
            _ => None,
        }
    }
}

/// The 404 for a page address that does not exist.
pub fn not_found(req: &HttpRequest) -> HttpResponse {
    let peer = req
        .app_data::<Data>()
        .map(|app| app.ctx.config.store_public_url.clone())
        .unwrap_or_default();
    platform::ui::not_found_page::<InventoryError>(
        req,
        &peer,
        format!(
            "Nothing is stored at {}. The menu above lists every page of the inventory.",
            req.path()
        ),
    )
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
        "reconciler" => Notice::success("Reconciliation settings saved."),
        "reconciled" => {
            Notice::success("Reconciled now: the hybrid orders still pending are landed.")
        }
        "reconcile-failed" => Notice::error("The reconciliation failed; the message log says why."),
        "resubscribed" => Notice::success(
            "Subscribed again: the store sends this inventory its webhooks from now on.",
        ),
        "resubscribe-failed" => Notice::error("Subscribing failed; the message log says why."),
        _ => return None,
    })
}
