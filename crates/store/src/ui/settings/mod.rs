//! The settings page: the integration mode switch, the webhook endpoints,
//! the delivery log, and — because the poller is the inventory's — a window
//! onto the inventory's poller controls.
//!
//! Every control is a plain form. Actions that only change something
//! redirect back (`303`, with a fixed `?notice=` key); the two that reveal a
//! secret — creating an endpoint and rotating its secret — answer with the
//! page itself, because a secret must never travel in a URL and is shown
//! exactly once (as Stripe and Svix do). Each action is one call into
//! `integration` (`set_mode`, `endpoints::*`, `deliveries::*`).

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use contract::IntegrationMode;
use platform::ui::{Layout, Notice, clock_time, date_time, duration_ms, see_other};

use super::{Data, ModeInfo, PageError, fragment, layout, mode_info, notice, page};
use crate::error::StoreError;
use crate::integration::{self, deliveries, endpoints};
use platform::ApiError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings", web::get().to(settings_page))
        .route("/settings/mode", web::post().to(set_mode))
        .route("/settings/endpoints", web::post().to(add_endpoint))
        .route(
            "/settings/endpoints/{id}/enabled",
            web::post().to(set_enabled),
        )
        .route("/settings/endpoints/{id}/rotate", web::post().to(rotate))
        .route("/settings/endpoints/{id}/ping", web::post().to(ping))
        .route("/settings/endpoints/{id}/recover", web::post().to(recover))
        .route("/settings/endpoints/{id}/delete", web::post().to(delete))
        .route(
            "/settings/deliveries/{id}/redeliver",
            web::post().to(redeliver),
        )
        .route("/fragments/endpoints", web::get().to(endpoints_fragment))
        .route("/fragments/deliveries", web::get().to(deliveries_fragment));
}

/// How long a rotated-out secret keeps signing.
pub const ROTATION_GRACE: Duration = Duration::from_secs(3600);
/// Rows in the delivery log.
pub const DELIVERY_LIMIT: i64 = 30;

// ---------------------------------------------------------------------------
// Endpoints.
// ---------------------------------------------------------------------------

pub struct EndpointRow {
    pub id: String,
    pub url: String,
    pub description: String,
    pub events: String,
    pub format: &'static str,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub created: String,
}

#[derive(Template)]
#[template(path = "store/fragments/endpoints.html")]
pub struct EndpointList {
    pub rows: Vec<EndpointRow>,
}

impl askama::filters::HtmlSafe for EndpointList {}

impl EndpointList {
    pub async fn load(app: &Data) -> Result<EndpointList, StoreError> {
        Ok(EndpointList {
            rows: endpoints::list(app)
                .await?
                .into_iter()
                .map(|e| EndpointRow {
                    events: e.event_types.join(", "),
                    format: e.format.as_str(),
                    created: date_time(e.created_at.millis()),
                    id: e.id,
                    url: e.url,
                    description: e.description,
                    enabled: e.enabled,
                    disabled_reason: e.disabled_reason,
                })
                .collect(),
        })
    }
}

async fn endpoints_fragment(app: Data) -> Result<HttpResponse, PageError> {
    fragment(&EndpointList::load(&app).await?)
}

/// The "add an endpoint" form, as typed, with its errors.
#[derive(Default)]
pub struct EndpointForm {
    pub url: String,
    pub format: String,
    pub description: String,
    pub url_error: Option<String>,
    pub format_error: Option<String>,
    pub description_error: Option<String>,
    pub other_error: Option<String>,
}

/// A secret, shown once.
pub struct SecretReveal {
    pub heading: String,
    pub secret: String,
    pub endpoint_url: String,
    pub explanation: &'static str,
}

// ---------------------------------------------------------------------------
// The delivery log.
// ---------------------------------------------------------------------------

pub struct DeliveryRow {
    pub id: String,
    pub created: String,
    pub created_full: String,
    pub event_type: String,
    pub order_id: Option<String>,
    pub endpoint_url: String,
    pub state: String,
    pub state_tone: &'static str,
    pub attempts: i64,
    pub last: Option<String>,
    pub next: Option<String>,
}

#[derive(Template)]
#[template(path = "store/fragments/deliveries.html")]
pub struct DeliveryLog {
    pub rows: Vec<DeliveryRow>,
    pub state: Option<String>,
    pub states: &'static [&'static str],
}

impl askama::filters::HtmlSafe for DeliveryLog {}

impl DeliveryLog {
    pub async fn load(app: &Data, state: Option<String>) -> Result<DeliveryLog, StoreError> {
        let state = state.filter(|s| deliveries::STATES.contains(&s.as_str()));
        let now = app.clock.now_ms();
        let list = deliveries::list(
            app,
            deliveries::DeliveryFilter {
                state: state.clone(),
                limit: Some(DELIVERY_LIMIT),
                ..Default::default()
            },
        )
        .await?;
        let rows = list
            .into_iter()
            .map(|d| DeliveryRow {
                created: clock_time(d.created_at.millis()),
                created_full: date_time(d.created_at.millis()),
                state_tone: match d.state.as_str() {
                    "succeeded" => "tone-good",
                    "failed" => "tone-bad",
                    "cancelled" => "tone-muted",
                    _ => "tone-warn",
                },
                last: match (d.last_status, &d.last_error) {
                    (Some(s), Some(e)) => Some(format!("{s} — {e}")),
                    (Some(s), None) => Some(s.to_string()),
                    (None, Some(e)) => Some(e.clone()),
                    (None, None) => None,
                },
                next: d.next_attempt_at.map(|t| {
                    let wait = t.millis() - now;
                    if wait <= 0 {
                        "now".to_owned()
                    } else {
                        format!("in {}", duration_ms(wait))
                    }
                }),
                id: d.id,
                event_type: d.event_type,
                order_id: d.order_id,
                endpoint_url: d.endpoint_url,
                state: d.state,
                attempts: d.attempts,
            })
            .collect();
        Ok(DeliveryLog {
            rows,
            state,
            states: deliveries::STATES,
        })
    }

    pub fn is_selected(&self, state: &str) -> bool {
        self.state.as_deref() == Some(state)
    }

    pub fn src(&self) -> String {
        match &self.state {
            Some(s) => format!("/fragments/deliveries?state={s}"),
            None => "/fragments/deliveries".into(),
        }
    }
}

#[derive(Deserialize)]
struct StateQuery {
    state: Option<String>,
}

async fn deliveries_fragment(
    app: Data,
    query: web::Query<StateQuery>,
) -> Result<HttpResponse, PageError> {
    fragment(&DeliveryLog::load(&app, query.into_inner().state).await?)
}

// ---------------------------------------------------------------------------
// The page.
// ---------------------------------------------------------------------------

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
}

#[derive(Deserialize)]
struct PageQuery {
    notice: Option<String>,
    state: Option<String>,
}

async fn render(
    app: &Data,
    req: &HttpRequest,
    status: StatusCode,
    notice: Option<Notice>,
    secret: Option<SecretReveal>,
    form: EndpointForm,
    state: Option<String>,
) -> Result<HttpResponse, PageError> {
    let template = SettingsPage {
        layout: layout(app, req, "Settings").with_notice(notice),
        mode: integration::read_mode(&app.db).await?,
        modes: IntegrationMode::ALL.iter().map(|m| mode_info(*m)).collect(),
        secret,
        endpoints: EndpointList::load(app).await?,
        form,
        deliveries: DeliveryLog::load(app, state).await?,
        inventory_url: app
            .config
            .inventory_public_url
            .trim_end_matches('/')
            .to_owned(),
        allowed_hosts: app.config.webhook.allowed_hosts.join(", "),
    };
    page(app, status, &template)
}

async fn settings_page(
    app: Data,
    req: HttpRequest,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, PageError> {
    let query = query.into_inner();
    let form = EndpointForm {
        format: "json".into(),
        ..Default::default()
    };
    render(
        &app,
        &req,
        StatusCode::OK,
        notice(query.notice.as_deref()),
        None,
        form,
        query.state,
    )
    .await
}

// ---------------------------------------------------------------------------
// Actions.
// ---------------------------------------------------------------------------

#[derive(Deserialize)]
struct ModeForm {
    mode: String,
}

async fn set_mode(
    app: Data,
    req: HttpRequest,
    form: web::Form<ModeForm>,
) -> Result<HttpResponse, PageError> {
    match IntegrationMode::parse(&form.mode) {
        Ok(mode) => {
            integration::set_mode(&app.db, &app.live, mode, app.clock.now_ms()).await?;
            Ok(see_other("/settings?notice=mode#mode"))
        }
        Err(e) => {
            let notice = Notice::error(format!("Unknown mode: {e}."));
            let form = EndpointForm {
                format: "json".into(),
                ..Default::default()
            };
            render(
                &app,
                &req,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(notice),
                None,
                form,
                None,
            )
            .await
        }
    }
}

#[derive(Deserialize)]
struct NewEndpointForm {
    #[serde(default)]
    url: String,
    #[serde(default)]
    format: String,
    #[serde(default)]
    description: String,
}

async fn add_endpoint(
    app: Data,
    req: HttpRequest,
    form: web::Form<NewEndpointForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    let request = endpoints::NewEndpoint {
        url: Some(form.url.clone()),
        event_types: None,
        format: Some(form.format.clone()),
        description: Some(form.description.clone()),
    };
    match endpoints::register(&app, request).await {
        Ok((endpoint, true)) => {
            let secret = SecretReveal {
                heading: "Endpoint added".into(),
                secret: endpoint.secret.unwrap_or_default(),
                endpoint_url: endpoint.url,
                explanation: "Copy this signing secret into the receiver now: it is shown only this once. \
                              The receiver uses it to check that each webhook really came from this store. \
                              A signed ping is on its way to the endpoint.",
            };
            let blank = EndpointForm {
                format: "json".into(),
                ..Default::default()
            };
            render(&app, &req, StatusCode::OK, None, Some(secret), blank, None).await
        }
        Ok((endpoint, false)) => {
            let notice = Notice::info(format!(
                "{} is already registered; its secret was shown when it was added (rotate it to get a new one).",
                endpoint.url
            ));
            let blank = EndpointForm {
                format: "json".into(),
                ..Default::default()
            };
            render(&app, &req, StatusCode::OK, Some(notice), None, blank, None).await
        }
        Err(StoreError::Api(ApiError::Validation(errors))) => {
            let mut typed = EndpointForm {
                url: form.url,
                format: form.format,
                description: form.description,
                ..Default::default()
            };
            for e in errors {
                match e.field.as_str() {
                    "url" => typed.url_error = Some(e.message),
                    "format" => typed.format_error = Some(e.message),
                    "description" => typed.description_error = Some(e.message),
                    _ => typed.other_error = Some(e.message),
                }
            }
            render(
                &app,
                &req,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                None,
                typed,
                None,
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize)]
struct EnabledForm {
    enabled: String,
}

async fn set_enabled(
    app: Data,
    id: web::Path<String>,
    form: web::Form<EnabledForm>,
) -> Result<HttpResponse, PageError> {
    let enabled = form.enabled == "true";
    let changes = endpoints::EndpointChanges {
        enabled: Some(enabled),
        ..Default::default()
    };
    endpoints::update(&app, &id, changes).await?;
    Ok(see_other(if enabled {
        "/settings?notice=endpoint-enabled#endpoints"
    } else {
        "/settings?notice=endpoint-disabled#endpoints"
    }))
}

async fn rotate(
    app: Data,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let endpoint = endpoints::rotate_secret(&app, &id, ROTATION_GRACE).await?;
    let secret = SecretReveal {
        heading: "Secret rotated".into(),
        secret: endpoint.secret.unwrap_or_default(),
        endpoint_url: endpoint.url,
        explanation: "Messages are now signed with this new secret and, for one more hour, with the old one too \
                      (a Standard Webhooks signature header may carry both). Give the new secret to the receiver \
                      within the hour; it is shown only this once.",
    };
    let form = EndpointForm {
        format: "json".into(),
        ..Default::default()
    };
    render(&app, &req, StatusCode::OK, None, Some(secret), form, None).await
}

async fn ping(app: Data, id: web::Path<String>) -> Result<HttpResponse, PageError> {
    endpoints::ping(&app, &id).await?;
    Ok(see_other("/settings?notice=ping#deliveries"))
}

async fn recover(app: Data, id: web::Path<String>) -> Result<HttpResponse, PageError> {
    deliveries::recover(&app, &id).await?;
    Ok(see_other("/settings?notice=recovered#deliveries"))
}

async fn delete(app: Data, id: web::Path<String>) -> Result<HttpResponse, PageError> {
    endpoints::delete(&app, &id).await?;
    Ok(see_other("/settings?notice=endpoint-deleted#endpoints"))
}

async fn redeliver(app: Data, id: web::Path<String>) -> Result<HttpResponse, PageError> {
    match deliveries::redeliver(&app, &id).await {
        Ok(_) => Ok(see_other("/settings?notice=redelivered#deliveries")),
        Err(StoreError::Api(ApiError::Conflict(_))) => {
            Ok(see_other("/settings?notice=redeliver-busy#deliveries"))
        }
        Err(other) => Err(other.into()),
    }
}
