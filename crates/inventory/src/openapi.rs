//! The inventory's OpenAPI 3.1 document: `GET /openapi.json`, and
//! `/reference` for people.
//!
//! The inventory is on the receiving end of all four patterns, and its
//! document says so: `/update_inventory` (api mode: the store asks and
//! waits), `/webhooks/store` (push: the store's signed events arrive here —
//! the path that the store's document describes from the sender's side,
//! under `webhooks`, with the same three headers), and its own API around
//! them. Paths come from `#[utoipa::path]` on the handlers, schemas from
//! the `contract` types they name; `platform::openapi` adds what every
//! operation shares.

use std::sync::LazyLock;

use utoipa::OpenApi;

use platform::openapi::{bearer, complete};

use crate::routes::api;
use crate::routes::integration;

/// The name of `/update_inventory`'s bearer scheme.
pub const INVENTORY_KEY: &str = "inventory_key";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "pushpull inventory",
        description = "Stock per SKU, and the receiving end of a store's three integration \
                       patterns: the store pushes, by calling `/update_inventory` (api: \
                       request/response) or by posting signed webhook events to \
                       `/webhooks/store`; or this service pulls, polling the store's order feed \
                       (nothing to call here). Errors are \
                       `application/problem+json` (RFC 9457).",
    ),
    paths(
        integration::update_inventory,
        integration::void,
        integration::receive_webhook,
        api::list_stock,
        api::restock,
        api::list_keys,
        api::create_key,
        api::revoke_key,
        api::list_messages,
        api::get_poller,
        api::put_poller,
        api::poll_now,
        api::get_reconciler,
        api::reconcile_now,
        api::get_chaos,
        api::put_chaos,
    ),
    tags(
        (name = "integration", description = "What the store calls: api mode's request/response and its void, and the webhook receiver."),
        (name = "stock", description = "Units on hand per SKU, and restocking."),
        (name = "keys", description = "Who may call /update_inventory."),
        (name = "messages", description = "Every message the inventory received or sent, with its verdict."),
        (name = "poller", description = "Pull: the inventory's poller of the store's order feed."),
        (name = "chaos", description = "Breaking the inventory on purpose, to watch each pattern cope."),
        (name = "operations", description = "What every service has: health, metrics, live events, this document."),
    )
)]
struct InventoryApi;

/// The document, built once (on first use) and served as built.
pub static DOCUMENT: LazyLock<platform::openapi::Document> = LazyLock::new(document);

/// The finished document.
pub fn document() -> platform::openapi::Document {
    let mut api = InventoryApi::openapi();
    complete(&mut api);
    crate::live::document(&mut api);
    api.components
        .get_or_insert_with(Default::default)
        .security_schemes
        .insert(
            INVENTORY_KEY.into(),
            bearer(
                "An API key of the inventory's (`INVENTORY_API_KEY`; the demo's is \
                 `pp_demo_inventory_key_change_me`; more on the keys page). The store sends \
                 it on `/update_inventory`.",
            ),
        );
    let mut json = serde_json::to_value(&api).expect("a document serialises");
    platform::openapi::key_examples::apply(&mut json);
    // The receiver's body is the store's event, inline here (it is the
    // store's type): its example goes on the media type.
    if let Some(media) = json
        .pointer_mut("/paths/~1webhooks~1store/post/requestBody/content/application~1json")
        .and_then(serde_json::Value::as_object_mut)
    {
        media.insert(
            "example".into(),
            platform::openapi::key_examples::order_created(),
        );
    }
    platform::openapi::Document::new(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_openapi_3_1_with_the_receiving_end() {
        let doc = document();
        let json = doc.json();
        assert!(
            json["openapi"].as_str().unwrap().starts_with("3.1"),
            "{json}"
        );
        let update = &json["paths"]["/update_inventory"]["post"];
        let body = &update["requestBody"]["content"];
        assert!(body["application/json"].is_object() && body["application/xml"].is_object());
        assert_eq!(
            update["security"][0]["inventory_key"],
            serde_json::json!([])
        );
        let receiver = &json["paths"]["/webhooks/store"]["post"];
        let headers: Vec<&str> = receiver["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            headers,
            ["webhook-id", "webhook-timestamp", "webhook-signature"]
        );
        assert_eq!(
            receiver["requestBody"]["content"]["application/json"]["example"]["type"],
            "order.created"
        );
        for name in ["UpdateInventoryRequest", "UpdateInventoryResponse"] {
            assert!(
                json["components"]["schemas"][name]["examples"][0].is_object(),
                "{name}"
            );
        }
        for status in ["401", "409", "503"] {
            assert!(update["responses"][status].is_object(), "{status}");
        }
    }
}
