//! The store's JSON API: its thin handlers ([`api`]) and the pull feed's
//! two doors ([`feed`]). Beside them, mounted by `crate::startup`: the web
//! pages (`crate::ui`), the operational endpoints every service has
//! (`/healthz`, `/metrics`, `/events`, from `platform::server::ops_routes`)
//! and the document that describes them all (`/openapi.json`,
//! `crate::openapi`, which reads these handlers' attributes).

pub mod api;
pub mod feed;

use actix_web::web;

use crate::error::StoreError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    api::configure(cfg);
}

/// A typed id from a URL path. One that does not even parse names nothing
/// that exists, so it is the same `404` as an unknown one.
pub fn id_from_path<I: TryFrom<String>>(what: &'static str, raw: &str) -> Result<I, StoreError> {
    I::try_from(raw.to_owned()).map_err(|_| StoreError::not_found(what, raw))
}
