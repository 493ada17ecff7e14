//! The store's OpenAPI 3.1 document: `GET /openapi.json`, and `/reference`
//! for people.
//!
//! Both directions of the store's integration are in it, which is the
//! point: the **paths** are what others call (the pull side — the feed the
//! inventory polls, the acknowledgement it sends back — and the shop's own
//! API), and the top-level **`webhooks`** are what the store *calls* on
//! others: `order.created`, hybrid mode's thin `order.notice` and `ping`,
//! signed per Standard Webhooks, with
//! the answers the sender understands. A reader sees push and pull side by
//! side in one file.
//!
//! Paths come from `#[utoipa::path]` on the handlers, schemas from the
//! `contract` types they name. utoipa 5 has no field for OpenAPI 3.1's
//! `webhooks`, so that section is built here with utoipa's own builder
//! types — from the same contract types — and put into the JSON beside
//! `paths`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::{ContentBuilder, HeaderBuilder, Ref, Required, ResponseBuilder};
use utoipa::{OpenApi, PartialSchema, ToSchema};

use contract::events::{NoticeData, PingData, WebhookEvent};
use contract::inventory::WebhookAck;
use contract::order::Order;
use platform::openapi::{bearer, complete, problem, standard_webhooks_headers};

use crate::routes::{feed, orders, replay, webhooks};

/// Serves the document at `/openapi.json`.
pub fn configure(cfg: &mut actix_web::web::ServiceConfig) {
    cfg.app_data(actix_web::web::Data::new(DOCUMENT.clone()))
        .service(actix_web::web::resource("/openapi.json").get(platform::openapi::serve));
}

/// The name of the feed's bearer scheme.
pub const FEED_KEY: &str = "feed_key";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "pushpull store",
        description = "A demo tea shop that hands its orders to an inventory service by push \
                       (the store starts: a signed webhook event, below under `webhooks`, or a \
                       request/response call to the inventory's `/update_inventory`) or by pull \
                       (the inventory starts: it reads the order feed here). Errors are `application/problem+json` (RFC 9457).",
    ),
    paths(
        orders::list_products,
        orders::place_order,
        orders::get_order,
        feed::feed,
        feed::acknowledgement,
        feed::page_acknowledgement,
        orders::get_integration,
        orders::put_integration,
        webhooks::create_endpoint,
        webhooks::list_endpoints,
        webhooks::get_endpoint,
        webhooks::update_endpoint,
        webhooks::delete_endpoint,
        webhooks::rotate_secret,
        webhooks::ping_endpoint,
        webhooks::recover_endpoint,
        webhooks::list_deliveries,
        webhooks::get_delivery,
        webhooks::redeliver,
        replay::replay,
    ),
    tags(
        (name = "catalog", description = "What the shop sells."),
        (name = "orders", description = "Placing an order, and reading one with every message that carried it."),
        (name = "feed", description = "Pull: the inventory reads new orders here on its own timer, and reports back what it did with each."),
        (name = "integration", description = "Which of the four patterns carries new orders."),
        (name = "webhook endpoints", description = "Push: who receives the store's signed events."),
        (name = "deliveries", description = "Push: every webhook delivery and its attempts; redelivery by hand."),
        (name = "operations", description = "What every service has: health, metrics, live events, this document."),
    )
)]
struct StoreApi;

/// The document, built once (on first use) and served as built.
pub static DOCUMENT: LazyLock<platform::openapi::Document> = LazyLock::new(document);

/// The finished document.
pub fn document() -> platform::openapi::Document {
    let mut api = StoreApi::openapi();
    complete(&mut api);
    crate::live::document(&mut api);
    let components = api.components.get_or_insert_with(Default::default);
    components.security_schemes.insert(
        FEED_KEY.into(),
        bearer(
            "The store's API key for its order feed (`STORE_API_KEY`; the demo's is \
             `pp_demo_store_key_change_me`). The inventory sends it when it polls, and \
             to manage its own webhook endpoint (register it, read it, rotate its \
             secret).",
        ),
    );
    let events = [
        (
            "OrderCreatedEvent",
            WebhookEvent::<Order>::schema(),
            "An order was placed (in webhook mode): `data` is the order as the API shows it.",
        ),
        (
            "PingEvent",
            WebhookEvent::<PingData>::schema(),
            "A signed hello, sent when an endpoint is registered and on demand.",
        ),
        (
            "OrderNoticeEvent",
            WebhookEvent::<NoticeData>::schema(),
            "An order was placed (in hybrid mode): a thin notice — `data` is only the order's id, \
             no customer, no items, no prices. Fetch the order itself with `GET /api/orders/{id}` \
             and the feed key; orders whose notice is lost are found by reading the feed \
             (`GET /api/orders?mode=hybrid`).",
        ),
    ];
    let mut nested = Vec::new();
    WebhookEvent::<Order>::schemas(&mut nested);
    nested.push((Order::name().into(), Order::schema()));
    Order::schemas(&mut nested);
    nested.push((PingData::name().into(), PingData::schema()));
    PingData::schemas(&mut nested);
    nested.push((NoticeData::name().into(), NoticeData::schema()));
    NoticeData::schemas(&mut nested);
    nested.push((WebhookAck::name().into(), WebhookAck::schema()));
    WebhookAck::schemas(&mut nested);
    components.schemas.extend(nested);
    for (name, schema, _) in &events {
        components.schemas.insert((*name).into(), schema.clone());
    }

    let mut json = serde_json::to_value(&api).expect("a document serialises");
    platform::openapi::key_examples::apply(&mut json);
    let webhooks: BTreeMap<&str, PathItem> = BTreeMap::from([
        (
            "order.created",
            webhook("order.created", "OrderCreatedEvent", events[0].2),
        ),
        ("ping", webhook("ping", "PingEvent", events[1].2)),
        (
            "order.notice",
            webhook("order.notice", "OrderNoticeEvent", events[2].2),
        ),
    ]);
    json["webhooks"] = serde_json::to_value(webhooks).expect("webhooks serialise");
    platform::openapi::Document::new(json)
}

/// One event the store POSTs to every endpoint subscribed to it.
fn webhook(event_type: &str, schema: &str, summary: &str) -> PathItem {
    let operation = OperationBuilder::new()
        .operation_id(Some(event_type.replace('.', "_")))
        .summary(Some(summary))
        .description(Some(
            "The store POSTs this to every enabled endpoint subscribed to the event type, \
             signed per Standard Webhooks. At least once: retried on the store's schedule \
             (`WEBHOOK_RETRY_SCHEDULE`, by default 1 s, 5 s, 30 s, 2 min, 10 min, with \
             jitter) until a 2xx; redirects are never followed. The `webhook-id` stays the \
             same on every attempt, so a receiver dedupes on it.",
        ))
        .parameters(Some(standard_webhooks_headers()))
        .request_body(Some(signed_body(schema)));
    PathItem::new(HttpMethod::Post, with_webhook_answers(operation).build())
}

/// A webhook's body: the event, in JSON or XML, exactly as signed.
fn signed_body(schema: &str) -> utoipa::openapi::request_body::RequestBody {
    let content = || {
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name(schema)))
            .build()
    };
    RequestBodyBuilder::new()
        .required(Some(Required::True))
        .description(Some(
            "JSON by default; XML for an endpoint registered with `format: \"xml\"` — the same \
             fields under an `<event>` root element, each list as its element repeated. The \
             signature covers these exact bytes.",
        ))
        .content("application/json", content())
        .content("application/xml", content())
        .build()
}

/// What the store makes of each answer a receiver may give.
fn with_webhook_answers(operation: OperationBuilder) -> OperationBuilder {
    let retry_after = || {
        HeaderBuilder::new()
            .schema(String::schema())
            .description(Some(
                "Seconds, or an HTTP date: the store waits at least this long (at most an \
                 hour), and never less than its own schedule.",
            ))
            .build()
    };
    let retried = |what: &str| {
        ResponseBuilder::new()
            .description(format!("{what}: retried, not before `Retry-After`."))
            .header("Retry-After", retry_after())
            .build()
    };
    operation
        .response(
            "2XX",
            ResponseBuilder::new()
                .description(
                    "Received: the delivery succeeded. Any body is fine; the inventory's own \
                     subscription answers what it did, and that resolves the order.",
                )
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name(WebhookAck::name())))
                        .build(),
                )
                .build(),
        )
        .response(
            "410",
            problem(
                "Gone: the receiver asks to be left alone. The store disables the endpoint; \
                 its deliveries wait until a person enables it again.",
            ),
        )
        .response("429", retried("Too many requests"))
        .response("503", retried("Unavailable"))
        .response(
            "default",
            ResponseBuilder::new()
                .description(
                    "Anything else — another status, a redirect, a timeout, a refused \
                     connection — is a failed attempt: retried on the schedule, and after \
                     the last one the delivery is `failed` until a person redelivers it.",
                )
                .build(),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_openapi_3_1_with_both_directions() {
        let doc = document();
        let json = doc.json();
        assert!(
            json["openapi"].as_str().unwrap().starts_with("3.1"),
            "{json}"
        );
        assert!(json["paths"]["/api/orders"]["post"].is_object());
        assert!(json["paths"]["/api/orders"]["get"]["security"].is_array());
        let created = &json["webhooks"]["order.created"]["post"];
        let headers: Vec<&str> = created["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            headers,
            ["webhook-id", "webhook-timestamp", "webhook-signature"]
        );
        let body = &created["requestBody"]["content"];
        assert!(body["application/json"].is_object() && body["application/xml"].is_object());
        for status in ["2XX", "410", "429", "503", "default"] {
            assert!(created["responses"][status].is_object(), "{status}");
        }
        assert!(
            created["responses"]["503"]["headers"]["Retry-After"].is_object(),
            "{created}"
        );
        // Hybrid's thin notice is documented beside it, with the fetch.
        let notice = &json["webhooks"]["order.notice"]["post"];
        assert!(notice["requestBody"].is_object(), "{notice}");
        let data = &json["components"]["schemas"]["NoticeData"];
        assert!(data["properties"]["order_id"].is_object(), "{data}");
        assert!(data["properties"]["customer"].is_null(), "{data}");
        assert!(json["paths"]["/api/orders/{id}"]["get"]["security"].is_array());
        let schemas = &json["components"]["schemas"];
        // The key types carry examples a person wrote (for /reference).
        for name in ["NewOrder", "Order", "OrderCreatedEvent"] {
            assert!(schemas[name]["examples"][0].is_object(), "{name}");
        }
        for name in [
            "OrderCreatedEvent",
            "PingEvent",
            "Order",
            "Problem",
            "OrderId",
        ] {
            assert!(schemas[name].is_object(), "{name} missing");
        }
    }
}
