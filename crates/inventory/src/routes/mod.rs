//! The inventory's routes: the integration endpoints (the store calls
//! these), its own JSON API (stock, keys, messages, poller, chaos), the web
//! pages ([`crate::ui`]), and `/healthz`, `/metrics`, `/events` — all of
//! them described at `/openapi.json` ([`crate::openapi`]).

pub mod api;

use actix_web::{HttpRequest, HttpResponse, web};

use crate::integration::{update_inventory, webhook_receiver};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::Data::new(crate::openapi::DOCUMENT.clone()))
        .service(web::resource("/openapi.json").get(platform::openapi::serve));
    cfg.service(web::resource("/update_inventory").post(update_inventory::handle))
        .service(web::resource("/update_inventory/{order_id}/void").post(update_inventory::void))
        .service(web::resource("/webhooks/store").post(webhook_receiver::receive));
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
