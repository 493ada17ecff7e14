//! The settings page's webhook endpoints: the live list, the "add an
//! endpoint" form, and each endpoint's buttons (enable/disable, ping,
//! retry failed deliveries, rotate the secret, delete) — each one call
//! into `integration::webhook::{endpoints, deliveries}`.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use contract::{EndpointId, Format};
use platform::ApiError;
use platform::guard::Operator;
use platform::ui::{date_time, see_other};

use super::{Data, PageError, Shown, fragment, render};
use crate::error::StoreError;
use crate::integration::webhook::deliveries;
use crate::integration::webhook::endpoints::{self, Endpoint};
use crate::routes::id_from_path;
use crate::vocabulary::EndpointRole;

/// How long a rotated-out secret keeps signing.
pub const ROTATION_GRACE: Duration = Duration::from_secs(3600);

pub struct EndpointRow {
    pub id: EndpointId,
    pub url: String,
    pub description: String,
    pub events: String,
    pub format: Format,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub created: String,
    /// The inventory's own receiver: its answers resolve orders.
    pub resolves: bool,
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
            rows: endpoints::list(&app.webhooks)
                .await?
                .into_iter()
                .map(|e| EndpointRow {
                    resolves: e.role == EndpointRole::Resolver,
                    events: e.event_types.words().join(", "),
                    format: e.format,
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

pub(super) async fn endpoints_fragment(_: Operator, app: Data) -> Result<HttpResponse, PageError> {
    fragment(&EndpointList::load(&app).await?)
}

/// The "add an endpoint" form, as typed, with its errors.
pub struct EndpointForm {
    pub url: String,
    pub format: Format,
    /// Every choice of the format menu.
    pub formats: &'static [Format],
    pub description: String,
    pub url_error: Option<String>,
    pub format_error: Option<String>,
    pub description_error: Option<String>,
    pub other_error: Option<String>,
}

impl Default for EndpointForm {
    fn default() -> EndpointForm {
        EndpointForm {
            url: String::new(),
            format: Format::Json,
            formats: Format::ALL,
            description: String::new(),
            url_error: None,
            format_error: None,
            description_error: None,
            other_error: None,
        }
    }
}

/// A secret, shown once.
pub struct SecretReveal {
    pub heading: &'static str,
    pub secret: String,
    pub endpoint_url: String,
    pub explanation: &'static str,
}

/// Answers an action that issued a secret with the page showing it — the
/// one time it is shown (it never travels in a URL).
async fn reveal(
    app: &Data,
    req: &HttpRequest,
    endpoint: Endpoint,
    heading: &'static str,
    explanation: &'static str,
) -> Result<HttpResponse, PageError> {
    let secret = SecretReveal {
        heading,
        secret: endpoint.secret.unwrap_or_default(),
        endpoint_url: endpoint.url,
        explanation,
    };
    let shown = Shown {
        secret: Some(secret),
        ..Shown::default()
    };
    render(app, req, StatusCode::OK, shown).await
}

fn endpoint_id(raw: &str) -> Result<EndpointId, StoreError> {
    id_from_path("webhook endpoint", raw)
}

#[derive(Deserialize)]
pub(super) struct NewEndpointForm {
    #[serde(default)]
    url: String,
    #[serde(default)]
    format: String,
    #[serde(default)]
    description: String,
}

pub(super) async fn add_endpoint(
    _: Operator,
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
    // It observes — unless it is the inventory's own receiver URL, which
    // resolves orders whoever adds it.
    match endpoints::register(&app.webhooks, request).await {
        Ok((endpoint, true)) => {
            let explanation = "Copy this signing secret into the receiver now: it is shown only this once. \
                              The receiver uses it to check that each webhook really came from this store. \
                              A signed ping is on its way to the endpoint.";
            reveal(&app, &req, endpoint, "Endpoint added", explanation).await
        }
        Ok((endpoint, false)) => {
            let notice = platform::ui::Notice::info(format!(
                "{} is already registered; its secret was shown when it was added (rotate it to get a new one).",
                endpoint.url
            ));
            let shown = Shown {
                notice: Some(notice),
                ..Shown::default()
            };
            render(&app, &req, StatusCode::OK, shown).await
        }
        Err(StoreError::Api(ApiError::Validation(errors))) => {
            let mut typed = EndpointForm {
                format: Format::parse(&form.format).unwrap_or(Format::Json),
                url: form.url,
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
            let shown = Shown {
                form: typed,
                ..Shown::default()
            };
            render(&app, &req, StatusCode::UNPROCESSABLE_ENTITY, shown).await
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize)]
pub(super) struct EnabledForm {
    enabled: String,
}

pub(super) async fn set_enabled(
    _: Operator,
    app: Data,
    id: web::Path<String>,
    form: web::Form<EnabledForm>,
) -> Result<HttpResponse, PageError> {
    let enabled = form.enabled == "true";
    let changes = endpoints::EndpointChanges {
        enabled: Some(enabled),
        ..Default::default()
    };
    endpoints::update(&app.webhooks, &endpoint_id(&id)?, changes).await?;
    Ok(see_other(if enabled {
        "/settings?notice=endpoint-enabled#endpoints"
    } else {
        "/settings?notice=endpoint-disabled#endpoints"
    }))
}

pub(super) async fn rotate(
    _: Operator,
    app: Data,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let endpoint =
        endpoints::rotate_secret(&app.webhooks, &endpoint_id(&id)?, ROTATION_GRACE).await?;
    let explanation = if endpoint.role == EndpointRole::Resolver {
        "Messages are now signed with this new secret and, for one more hour, with the old one too \
         (a Standard Webhooks signature header may carry both). This is the inventory's own endpoint: \
         you need not give it the secret. Once its signatures stop verifying, the inventory sees from the \
         endpoint's fingerprints that it holds none of the current secrets, and rotates again to get one \
         of its own."
    } else {
        "Messages are now signed with this new secret and, for one more hour, with the old one too \
         (a Standard Webhooks signature header may carry both). Give the new secret to the receiver \
         within the hour; it is shown only this once."
    };
    reveal(&app, &req, endpoint, "Secret rotated", explanation).await
}

/// The test event form: an optional text for the ping to carry.
#[derive(serde::Deserialize)]
pub(super) struct PingForm {
    #[serde(default)]
    message: Option<String>,
}

pub(super) async fn ping(
    _: Operator,
    app: Data,
    id: web::Path<String>,
    form: web::Form<PingForm>,
) -> Result<HttpResponse, PageError> {
    crate::integration::webhook::test_event::ping(
        &app.webhooks,
        &endpoint_id(&id)?,
        form.message.as_deref(),
    )
    .await?;
    Ok(see_other("/settings?notice=ping#deliveries"))
}

pub(super) async fn recover(
    _: Operator,
    app: Data,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    deliveries::recover(&app.webhooks, &endpoint_id(&id)?).await?;
    Ok(see_other("/settings?notice=recovered#deliveries"))
}

pub(super) async fn delete(
    _: Operator,
    app: Data,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    endpoints::delete(&app.webhooks, &endpoint_id(&id)?).await?;
    Ok(see_other("/settings?notice=endpoint-deleted#endpoints"))
}
