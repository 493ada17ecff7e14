//! The settings page: the integration mode switch, the webhook endpoints
//! ([`endpoint_list`]), the delivery log ([`delivery_log`]), and — because
//! the poller is the inventory's — a window onto the inventory's poller
//! controls.
//!
//! The page and every form on it want the operator (`platform::guard`):
//! with `ADMIN_TOKEN` set, a person is sent to sign in once; without it,
//! whoever reaches the store is the operator.
//!
//! Every control is a plain form. Actions that only change something
//! redirect back (`303`, with a fixed `?notice=` key); the two that reveal a
//! secret — creating an endpoint and rotating its secret — answer with the
//! page itself, because a secret must never travel in a URL and is shown
//! exactly once (as Stripe and Svix do). Each action is one call into
//! `integration` (`set_mode`, `webhook::endpoints::*`,
//! `webhook::deliveries::*`).

pub mod delivery_log;
pub mod endpoint_list;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use contract::IntegrationMode;
use platform::guard::Operator;
use platform::ui::{Layout, Notice, see_other};

use super::{Data, ModeInfo, PageError, fragment, layout, mode_info, notice, page};
use crate::integration;
use delivery_log::DeliveryLog;
use endpoint_list::{EndpointForm, EndpointList, SecretReveal};

/// The repository files that do what this page shows (drawn under it as
/// "How this works in the code"; the UI tests check that each exists).
pub const SOURCES: &[&str] = &[
    "crates/store/src/ui/settings/mod.rs",
    "crates/store/src/integration/mod.rs",
    "crates/store/src/integration/webhook/endpoints.rs",
    "crates/store/src/integration/webhook/secrets.rs",
    "crates/store/src/integration/webhook/deliveries.rs",
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings", web::get().to(settings_page))
        .route("/settings/mode", web::post().to(set_mode))
        .route(
            "/settings/endpoints",
            web::post().to(endpoint_list::add_endpoint),
        )
        .route(
            "/settings/endpoints/{id}/enabled",
            web::post().to(endpoint_list::set_enabled),
        )
        .route(
            "/settings/endpoints/{id}/rotate",
            web::post().to(endpoint_list::rotate),
        )
        .route(
            "/settings/endpoints/{id}/ping",
            web::post().to(endpoint_list::ping),
        )
        .route(
            "/settings/endpoints/{id}/recover",
            web::post().to(endpoint_list::recover),
        )
        .route(
            "/settings/endpoints/{id}/delete",
            web::post().to(endpoint_list::delete),
        )
        .route(
            "/settings/deliveries/{id}/redeliver",
            web::post().to(delivery_log::redeliver),
        )
        .route(
            "/fragments/endpoints",
            web::get().to(endpoint_list::endpoints_fragment),
        )
        .route(
            "/fragments/deliveries",
            web::get().to(delivery_log::deliveries_fragment),
        );
}

#[derive(Template)]
#[template(path = "store/settings.html")]
pub struct SettingsPage {
    pub layout: Layout,
    pub mode: IntegrationMode,
    pub modes: Vec<ModeInfo>,
    pub secret: Option<SecretReveal>,
    pub endpoints: EndpointList,
    pub form: EndpointForm,
    pub deliveries: DeliveryLog,
    pub inventory_url: String,
    pub allowed_hosts: String,
    /// The inventory's capture inbox as the *store* reaches it (what an
    /// endpoint's URL must say), and the same inbox as a browser opens it.
    pub inbox: InboxOffer,
}

/// The capture inbox, offered when adding an endpoint: somewhere of the
/// learner's own that answers `200` to anything, unlike the inventory's
/// receiver, which refuses every signature but its own secret's.
pub struct InboxOffer {
    pub endpoint_url: String,
    pub page_url: String,
}

impl InboxOffer {
    /// The suggested inbox name.
    pub const NAME: &'static str = "my-hooks";

    fn of(config: &crate::config::StoreConfig) -> InboxOffer {
        let at = |base: &str| format!("{}/inbox/{}", base.trim_end_matches('/'), Self::NAME);
        InboxOffer {
            endpoint_url: at(&config.inventory_url),
            page_url: at(&config.inventory_public_url),
        }
    }
}

#[derive(Deserialize)]
struct PageQuery {
    notice: Option<String>,
    state: Option<String>,
}

/// What an action has to show on the page, besides how things stand.
#[derive(Default)]
pub struct Shown {
    pub notice: Option<Notice>,
    /// A secret, shown this once.
    pub secret: Option<SecretReveal>,
    /// The "add an endpoint" form as typed, with its errors.
    pub form: EndpointForm,
    /// The delivery log's state filter.
    pub state: Option<String>,
}

/// The page, with whatever an action has to show on it.
async fn render(
    app: &Data,
    req: &HttpRequest,
    status: StatusCode,
    shown: Shown,
) -> Result<HttpResponse, PageError> {
    let template = SettingsPage {
        layout: layout(app, req, "Settings")
            .with_sources(SOURCES)
            .with_notice(shown.notice),
        mode: integration::read_mode(&app.ctx.db).await?,
        modes: IntegrationMode::ALL.iter().map(|m| mode_info(*m)).collect(),
        secret: shown.secret,
        endpoints: EndpointList::load(app).await?,
        form: shown.form,
        deliveries: DeliveryLog::load(app, shown.state).await?,
        inventory_url: app
            .ctx
            .config
            .inventory_public_url
            .trim_end_matches('/')
            .to_owned(),
        allowed_hosts: app.ctx.config.webhook.allowed_hosts.join(", "),
        inbox: InboxOffer::of(&app.ctx.config),
    };
    page(app, status, &template)
}

async fn settings_page(
    _: Operator,
    app: Data,
    req: HttpRequest,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, PageError> {
    let query = query.into_inner();
    let shown = Shown {
        notice: notice(query.notice.as_deref()),
        state: query.state,
        ..Shown::default()
    };
    render(&app, &req, StatusCode::OK, shown).await
}

#[derive(Deserialize)]
struct ModeForm {
    mode: String,
}

async fn set_mode(
    _: Operator,
    app: Data,
    req: HttpRequest,
    form: web::Form<ModeForm>,
) -> Result<HttpResponse, PageError> {
    match IntegrationMode::parse(&form.mode) {
        Ok(mode) => {
            integration::set_mode(&app.ctx.db, &app.ctx.live, mode, app.ctx.clock.now()).await?;
            Ok(see_other("/settings?notice=mode#mode"))
        }
        Err(e) => {
            let notice = Notice::error(format!("Unknown mode: {e}."));
            let shown = Shown {
                notice: Some(notice),
                ..Shown::default()
            };
            render(&app, &req, StatusCode::UNPROCESSABLE_ENTITY, shown).await
        }
    }
}
