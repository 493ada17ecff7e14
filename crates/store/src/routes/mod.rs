//! The store's JSON API: orders and the mode switch ([`orders`]), webhook
//! endpoints and deliveries ([`webhooks`]), a delivery replayed by hand
//! ([`replay`]), and the pull feed's two doors
//! ([`feed`]). Beside them, mounted by `crate::startup`: the web
//! pages (`crate::ui`), the operational endpoints every service has
//! (`/healthz`, `/metrics`, `/events`, from `platform::server::ops_routes`)
//! and the document that describes them all (`/openapi.json`,
//! `crate::openapi`, which reads these handlers' attributes).

pub mod feed;
pub mod orders;
pub mod replay;
pub mod webhooks;

use actix_web::web;

use crate::error::StoreError;

/// One resource per path, so a known path with the wrong method is a
/// `405 Method Not Allowed` (with `Allow`), not a 404.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/products").get(orders::list_products))
        .service(
            web::resource("/api/orders")
                .post(orders::place_order)
                .get(feed::feed),
        )
        .service(web::resource("/api/orders/{id}").get(orders::get_order))
        .service(web::resource("/api/orders/{id}/acknowledgement").post(feed::acknowledgement))
        .service(web::resource("/api/acknowledgements").post(feed::page_acknowledgement))
        .service(
            web::resource("/api/integration")
                .get(orders::get_integration)
                .put(orders::put_integration),
        )
        .service(
            web::resource("/api/webhook-endpoints")
                .post(webhooks::create_endpoint)
                .get(webhooks::list_endpoints),
        )
        .service(
            web::resource("/api/webhook-endpoints/{id}")
                .get(webhooks::get_endpoint)
                .patch(webhooks::update_endpoint)
                .delete(webhooks::delete_endpoint),
        )
        .service(
            web::resource("/api/webhook-endpoints/{id}/rotate-secret")
                .post(webhooks::rotate_secret),
        )
        .service(web::resource("/api/webhook-endpoints/{id}/ping").post(webhooks::ping_endpoint))
        .service(
            web::resource("/api/webhook-endpoints/{id}/recover").post(webhooks::recover_endpoint),
        )
        .service(web::resource("/api/deliveries").get(webhooks::list_deliveries))
        .service(web::resource("/api/deliveries/{id}").get(webhooks::get_delivery))
        .service(web::resource("/api/deliveries/{id}/redeliver").post(webhooks::redeliver))
        .service(web::resource("/api/deliveries/{id}/replay").post(replay::replay));
}

/// A typed id from a URL path. One that does not even parse names nothing
/// that exists, so it is the same `404` as an unknown one.
pub fn id_from_path<I: TryFrom<String>>(what: &'static str, raw: &str) -> Result<I, StoreError> {
    I::try_from(raw.to_owned()).map_err(|_| StoreError::not_found(what, raw))
}
