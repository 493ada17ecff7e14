//! The store's routes: the JSON API ([`api`]), the web pages
//! ([`crate::ui`]), the operational endpoints every service has
//! (`/healthz`, `/metrics`, `/events`, from `platform::server::ops_routes`)
//! and the document that describes them all (`/openapi.json`,
//! [`crate::openapi`]).

pub mod api;
pub mod feed;

use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::StoreError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::Data::new(crate::openapi::DOCUMENT.clone()))
        .service(web::resource("/openapi.json").get(platform::openapi::serve));
    api::configure(cfg);
    crate::ui::configure(cfg);
    cfg.default_service(web::to(not_found));
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

/// A typed id from a URL path. One that does not even parse names nothing
/// that exists, so it is the same `404` as an unknown one.
pub fn id_from_path<I: TryFrom<String>>(what: &'static str, raw: &str) -> Result<I, StoreError> {
    I::try_from(raw.to_owned()).map_err(|_| StoreError::not_found(what, raw))
}
