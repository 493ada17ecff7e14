//! The API keys page: who may call `/update_inventory`. Keys are stored
//! hashed (`crate::keys`), so the list shows only a hint of each; a new key
//! is shown once, in the answer to the form that created it, and never
//! travels in a URL.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use platform::guard::Operator;
use platform::ui::{Layout, date_time, see_other};

use super::{Data, PageError, layout, notice, page};
use platform::ApiError;

use crate::error::InventoryError;
use crate::keys;

/// The repository files that do what this page shows (drawn under it as
/// "How this works in the code"; the UI tests check that each exists).
pub const SOURCES: &[&str] = &[
    "crates/inventory/src/ui/keys.rs",
    "crates/inventory/src/keys.rs",
    "crates/platform/src/http.rs",
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/keys", web::get().to(keys_page))
        .route("/keys", web::post().to(create))
        .route("/keys/{id}/revoke", web::post().to(revoke));
}

pub struct KeyRow {
    pub id: String,
    pub label: String,
    pub hint: String,
    pub created: String,
    pub revoked: bool,
}

/// A key just created, shown this once.
pub struct NewKey {
    pub label: String,
    pub key: String,
}

#[derive(Template)]
#[template(path = "inventory/keys.html")]
pub struct KeysPage {
    pub layout: Layout,
    pub rows: Vec<KeyRow>,
    pub created: Option<NewKey>,
    pub label: String,
    pub label_error: Option<String>,
}

async fn render(
    app: &Data,
    req: &HttpRequest,
    status: StatusCode,
    notice_key: Option<&str>,
    created: Option<NewKey>,
    label: String,
    label_error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let rows = keys::list(&app.ctx.db)
        .await?
        .into_iter()
        .map(|k| KeyRow {
            created: date_time(k.created_at.millis()),
            id: k.id.to_string(),
            label: k.label,
            hint: k.hint,
            revoked: k.revoked,
        })
        .collect();
    let template = KeysPage {
        layout: layout(app, req, "API keys")
            .with_sources(SOURCES)
            .with_notice(notice(notice_key)),
        rows,
        created,
        label,
        label_error,
    };
    page(app, status, &template)
}

#[derive(Deserialize)]
struct PageQuery {
    notice: Option<String>,
}

async fn keys_page(
    _: Operator,
    app: Data,
    req: HttpRequest,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, PageError> {
    render(
        &app,
        &req,
        StatusCode::OK,
        query.notice.as_deref(),
        None,
        String::new(),
        None,
    )
    .await
}

#[derive(Deserialize)]
struct NewKeyFields {
    #[serde(default)]
    label: String,
}

async fn create(
    _: Operator,
    app: Data,
    req: HttpRequest,
    form: web::Form<NewKeyFields>,
) -> Result<HttpResponse, PageError> {
    let label = form.into_inner().label;
    match keys::create(&app.ctx.db, &app.api_keys, &label, app.ctx.clock.now()).await {
        Ok(key) => {
            let created = NewKey {
                label: key.label,
                key: key.key.unwrap_or_default(),
            };
            render(
                &app,
                &req,
                StatusCode::OK,
                None,
                Some(created),
                String::new(),
                None,
            )
            .await
        }
        Err(InventoryError::Api(ApiError::Validation(errors))) => {
            let message = errors.into_iter().next().map(|e| e.message);
            render(
                &app,
                &req,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                None,
                label,
                message,
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

async fn revoke(_: Operator, app: Data, id: web::Path<String>) -> Result<HttpResponse, PageError> {
    keys::revoke(&app.ctx.db, &app.api_keys, &id, app.ctx.clock.now()).await?;
    Ok(see_other("/keys?notice=revoked"))
}
