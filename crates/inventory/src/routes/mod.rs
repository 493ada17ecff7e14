//! The inventory's routes: the integration endpoints the store calls
//! ([`integration`]), its own JSON API ([`api`]: stock, keys, messages,
//! poller, chaos), the web pages ([`crate::ui`]), and `/healthz`,
//! `/metrics`, `/events` — all of them described at `/openapi.json`
//! ([`crate::openapi`]). Handlers are thin: they take the [`AppState`]
//! and hand the shared context and their pattern's value down.
//!
//! [`AppState`]: crate::state::AppState

pub mod api;
pub mod integration;

use actix_web::{HttpRequest, HttpResponse, web};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::Data::new(crate::openapi::DOCUMENT.clone()))
        .service(web::resource("/openapi.json").get(platform::openapi::serve));
    integration::configure(cfg);
    api::configure(cfg);
    crate::ui::configure(cfg);
    cfg.default_service(web::to(not_found));
}

/// Unknown routes: problem+json for programs, a readable page for people.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    if platform::ui::is_machine_path(req.path()) {
        platform::http::not_found_problem(&req)
    } else {
        crate::ui::not_found(&req)
    }
}
