//! The API reference page: the inventory's OpenAPI document
//! ([`crate::openapi`]) as a person reads it. Rendered by
//! `platform::openapi::reference`, shared with the store.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use platform::openapi::reference::{Reference, ReferencePage, service_address};

use super::{PageError, layout, page};
use crate::state::AppState;

/// The repository files that do what this page shows (drawn under it as
/// "How this works in the code"; the UI tests check that each exists).
pub const SOURCES: &[&str] = &[
    "crates/inventory/src/ui/reference.rs",
    "crates/inventory/src/openapi.rs",
    "crates/platform/src/openapi/reference.rs",
    "crates/platform/src/openapi/reference/markup.rs",
    "crates/platform/src/openapi/reference/examples.rs",
    "crates/platform/src/openapi/key_examples.rs",
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/reference", web::get().to(reference_page));
}

async fn reference_page(
    app: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let template = ReferencePage {
        layout: layout(&app, &req, "API reference").with_sources(SOURCES),
        reference: Reference::from_document(
            crate::openapi::DOCUMENT.json(),
            &service_address(&req, &app.ctx.config.public_url),
        ),
    };
    page(&app, StatusCode::OK, &template)
}
