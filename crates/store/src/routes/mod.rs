//! The store's routes: the JSON API ([`api`]), the web pages
//! ([`crate::ui`]) and the operational endpoints every service has
//! (`/healthz`, `/metrics`, `/events`, from `platform::server::ops_routes`).

pub mod api;

use actix_web::{HttpRequest, HttpResponse, web};

pub fn configure(cfg: &mut web::ServiceConfig) {
    api::configure(cfg);
    crate::ui::configure(cfg);
}

/// Unknown routes: problem+json for API clients and other programs, a
/// readable page for a person who mistyped an address.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    if platform::ui::is_machine_path(req.path()) {
        platform::http::not_found_problem(&req)
    } else {
        crate::ui::not_found(&req)
    }
}
