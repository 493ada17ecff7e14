//! The store's web UI: a small tea shop on the front, and the instruments
//! that show how its orders reach the inventory behind it.
//!
//! | page        | module        | what it shows                                      |
//! |-------------|---------------|----------------------------------------------------|
//! | `/`         | [`shop`]      | the catalog, the order form, the current mode      |
//! | `/orders`   | [`orders`]    | every order and its status                         |
//! | `/orders/…` | [`orders`]    | one order: where it stands ([`order_progress`]), its sequence diagram and every message; redeliver and replay ([`order_actions`]) |
//! | `/flow`     | [`flow`]      | both services' message logs side by side, live     |
//! | `/settings` | [`settings`]  | mode switch, webhook endpoints, delivery log       |
//! | `/compare`  | [`compare`]   | charts per mode, and the burst experiment          |
//! | `/tour`     | [`tour`]      | the six differences, each linked to where it shows |
//! | `/reference`| [`mod@reference`] | the API, read from the store's OpenAPI document    |
//!
//! The pattern is the same throughout: server-rendered askama templates
//! (in `templates/store/`) that work without JavaScript — every action is a
//! form that posts and redirects ("post/redirect/get"), or re-renders
//! itself with the errors next to the fields — plus regions marked
//! `data-live` that `templates/static/app.js` re-fetches from
//! `/fragments/…` when an event on `GET /events` says they changed. A
//! fragment is rendered by the same template struct the page embeds, so
//! the live view and a reload can never disagree.
//!
//! Handlers stay thin: they parse the form, call one function of the
//! domain or integration modules (`checkout::place_order`,
//! `integration::set_mode`, `integration::webhook::endpoints`,
//! `instruments::burst::start`, …) and render. Queries only the UI needs
//! live in named modules ([`crate::catalog`], [`crate::instruments`]), not
//! here.
//!
//! Who may press the buttons (`platform::guard`): the operator, exactly as
//! with the JSON API. Without `ADMIN_TOKEN` that is whoever reaches the
//! store (loopback only, by default); with it, the settings page and every
//! form that changes something send a person to `/login` once, and the
//! browser keeps an `HttpOnly`, `SameSite=Strict` cookie. Either way a page
//! of another site cannot post here: state-changing requests a browser
//! sends from elsewhere are refused (`403`) before any handler runs. The
//! customer-facing order form needs none of it (an `Idempotency-Key`, so a
//! double submit places one order).
//!
//! Escaping: askama escapes every `{{ … }}` in these templates. Nothing
//! here is ever marked `|safe`; the only values written unescaped are other
//! askama templates (the [`HtmlSafe`](askama::filters::HtmlSafe) impls
//! below), which escape their own contents.

pub mod charts;
pub mod compare;
pub mod diagram;
pub mod exchange;
pub mod flow;
pub mod order_actions;
pub mod order_progress;
pub mod orders;
pub mod reference;
pub mod settings;
pub mod shop;
pub mod tour;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use contract::IntegrationMode;
use platform::ui::{Layout, NavItem, Notice, PageProblem, Service};

use crate::error::StoreError;
use crate::state::AppState;
use platform::ApiError;

type Data = web::Data<AppState>;

/// The store's main navigation.
pub const NAV: &[NavItem] = &[
    NavItem {
        href: "/",
        label: "Shop",
    },
    NavItem {
        href: "/orders",
        label: "Orders",
    },
    NavItem {
        href: "/flow",
        label: "Flow",
    },
    NavItem {
        href: "/compare",
        label: "Compare",
    },
    NavItem {
        href: "/settings",
        label: "Settings",
    },
    NavItem {
        href: "/tour",
        label: "Tour",
    },
    NavItem {
        href: "/reference",
        label: "API",
    },
];

/// Registers every page, form action, fragment and static file.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/static/{name}", web::get().to(platform::ui::static_asset));
    shop::configure(cfg);
    orders::configure(cfg);
    flow::configure(cfg);
    settings::configure(cfg);
    compare::configure(cfg);
    tour::configure(cfg);
    reference::configure(cfg);
    // `/login` and `/logout`: how a person becomes the operator.
    platform::guard::login::routes(cfg);
}

/// The chrome of a store page.
pub fn layout(app: &AppState, req: &HttpRequest, title: impl Into<String>) -> Layout {
    Layout::new(
        Service::Store,
        NAV,
        &app.ctx.config.inventory_public_url,
        title,
        req.path(),
    )
    .for_request(req)
}

/// A rendered page with the store's headers.
pub fn page(
    app: &AppState,
    status: StatusCode,
    template: &impl Template,
) -> Result<HttpResponse, PageError> {
    Ok(platform::ui::page_response(
        status,
        template.render()?,
        &app.ctx.config.inventory_public_url,
    ))
}

/// A rendered fragment for `app.js`.
pub fn fragment(template: &impl Template) -> Result<HttpResponse, PageError> {
    Ok(platform::ui::fragment_response(template.render()?))
}

/// How each mode is described wherever the UI names it.
pub struct ModeInfo {
    pub mode: IntegrationMode,
    pub name: &'static str,
    pub pattern: &'static str,
    pub summary: &'static str,
}

pub fn mode_info(mode: IntegrationMode) -> ModeInfo {
    match mode {
        IntegrationMode::Webhook => ModeInfo {
            mode,
            name: "Webhook",
            pattern: "push, event",
            summary: "The store pushes each order to the inventory the moment it is placed, signed, \
                      and retries until the inventory says it has it.",
        },
        IntegrationMode::Api => ModeInfo {
            mode,
            name: "API call",
            pattern: "push, request/response",
            summary: "The store pushes each order by calling the inventory's /update_inventory \
                      while you wait at checkout; the answer decides whether your order is confirmed.",
        },
        IntegrationMode::Poll => ModeInfo {
            mode,
            name: "Polling",
            pattern: "pull",
            summary: "The store only records the order. The inventory asks the store's order feed \
                      for news on its own timer, and reports back what it did.",
        },
        IntegrationMode::Hybrid => ModeInfo {
            mode,
            name: "Hybrid",
            pattern: "push + pull",
            summary: "The store pushes a thin signed notice (just the order id); the inventory \
                      fetches the order by API and answers. A slow reconciliation of the feed lands \
                      any order whose notice was lost.",
        },
    }
}

impl ModeInfo {
    pub fn slug(&self) -> &'static str {
        self.mode.as_str()
    }

    pub fn is(&self, mode: IntegrationMode) -> bool {
        self.mode == mode
    }
}

/// A page's failure, rendered as a page (see `platform::ui::PageError`).
pub type PageError = platform::ui::PageError<StoreError>;

impl PageProblem for StoreError {
    const SERVICE: Service = Service::Store;
    const NAV: &'static [NavItem] = NAV;

    fn problem(&self) -> contract::Problem {
        StoreError::problem(self)
    }

    fn shared(&self) -> Option<&ApiError> {
        match self {
            StoreError::Api(e) => Some(e),
            _ => None,
        }
    }
}

/// The 404 for a page address that does not exist.
/// Unknown routes: problem+json for API clients and other programs, a
/// readable page for a person who mistyped an address.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    if platform::ui::is_machine_path(req.path()) {
        return platform::http::not_found_problem(&req);
    }
    let peer = req
        .app_data::<Data>()
        .map(|app| app.ctx.config.inventory_public_url.clone())
        .unwrap_or_default();
    platform::ui::not_found_page::<StoreError>(
        &req,
        &peer,
        format!(
            "Nothing lives at {} in this shop. The menu above has everything there is.",
            req.path()
        ),
    )
}

/// A fixed message for a `?notice=` key (see `platform::ui::Notice`).
pub fn notice(key: Option<&str>) -> Option<Notice> {
    Some(match key? {
        "mode" => Notice::success(
            "Integration mode switched. New orders go through it; orders already under way finish the way they started.",
        ),
        "endpoint-deleted" => {
            Notice::success("Endpoint deleted. Its pending deliveries were cancelled.")
        }
        "endpoint-enabled" => {
            Notice::success("Endpoint enabled. Deliveries waiting for it are sent now.")
        }
        "endpoint-disabled" => {
            Notice::warning("Endpoint disabled. Its deliveries wait until it is enabled again.")
        }
        "ping" => Notice::success("Ping queued. Watch it arrive in the delivery log below."),
        "recovered" => Notice::success("Failed deliveries queued again."),
        "redelivered" => Notice::success(
            "Redelivery queued: a new attempt of the same message (same webhook-id) leaves now.",
        ),
        "redeliver-busy" => Notice::warning(
            "That delivery cannot be redelivered right now: an attempt is in flight. Try again in a moment.",
        ),
        "redeliver-deleted" => Notice::error(
            "Not sent: that delivery's endpoint was deleted, so there is nowhere to send it. Add an endpoint with its URL again in settings — an order still pending is delivered to it.",
        ),
        "poller" => Notice::success("Poller settings saved on the inventory."),
        "burst-started" => {
            Notice::info("Burst started: five orders in each mode, one mode after the other.")
        }
        "burst-running" => Notice::warning("A burst is already running; its progress is below."),
        "compare-reset" => Notice::success(
            "Figures reset: the charts now count only orders placed and messages sent from now on. Nothing was deleted.",
        ),
        _ => return None,
    })
}
