//! Examples written by hand for the types a learner sends and reads most —
//! an order placed and as it stands, `/update_inventory`'s request and
//! answer, the `order.created` event — put into both documents as each
//! schema's `examples`. The reference page shows them instead of values
//! made up from the schema (a SKU `"string"`, a name `"string"`).
//!
//! Written as JSON rather than built from the Rust types, so they read as
//! the wire does; the tests below deserialize each one into its `contract`
//! type, so an example that drifts from its type fails the build's tests.

use serde_json::{Value, json};

const ORDER_ID: &str = "ord_0193a1b2c3d4e5f60718293a4b5c6d7e";

/// `NewOrder`: `POST /api/orders`.
pub fn new_order() -> Value {
    json!({
        "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
        "items": [{"sku": "TEA-SENCHA", "quantity": 2}]
    })
}

/// `Order`: an order as the API (and `order.created`) shows it.
pub fn order() -> Value {
    json!({
        "id": ORDER_ID,
        "status": "confirmed",
        "mode": "webhook",
        "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
        "items": [{
            "sku": "TEA-SENCHA",
            "name": "Sencha green tea, 100 g",
            "quantity": 2,
            "unit_price_cents": 1250,
            "line_total_cents": 2500
        }],
        "total_cents": 2500,
        "created_at": "2025-01-01T12:00:00.000Z"
    })
}

/// `WebhookEvent<Order>`: the `order.created` event's body.
pub fn order_created() -> Value {
    json!({
        "type": "order.created",
        "timestamp": "2025-01-01T12:00:00.120Z",
        "data": order()
    })
}

/// `UpdateInventoryRequest`: api mode's call.
pub fn update_inventory_request() -> Value {
    json!({
        "order_id": ORDER_ID,
        "items": [{"sku": "TEA-SENCHA", "quantity": 2}]
    })
}

/// `UpdateInventoryResponse`: its `200`.
pub fn update_inventory_response() -> Value {
    json!({
        "order_id": ORDER_ID,
        "applied": true,
        "stock": [{"sku": "TEA-SENCHA", "on_hand": 38}]
    })
}

/// The examples by the schema names the documents give these types.
pub fn by_schema_name() -> Vec<(&'static str, Value)> {
    vec![
        ("NewOrder", new_order()),
        ("Order", order()),
        ("OrderCreatedEvent", order_created()),
        ("UpdateInventoryRequest", update_inventory_request()),
        ("UpdateInventoryResponse", update_inventory_response()),
    ]
}

/// Puts each example on its schema in a serialized document, where the
/// document has that schema (the inventory has no `NewOrder`).
pub fn apply(doc: &mut Value) {
    for (name, example) in by_schema_name() {
        if let Some(schema) = doc
            .pointer_mut(&format!("/components/schemas/{name}"))
            .and_then(Value::as_object_mut)
        {
            schema.insert("examples".into(), json!([example]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use contract::events::WebhookEvent;
    use contract::inventory::{UpdateInventoryRequest, UpdateInventoryResponse};
    use contract::order::{NewOrder, Order};
    use serde::de::DeserializeOwned;

    fn round_trips<T: DeserializeOwned + serde::Serialize>(example: Value) {
        let typed: T =
            serde_json::from_value(example.clone()).unwrap_or_else(|e| panic!("{e}: {example}"));
        assert_eq!(serde_json::to_value(typed).unwrap(), example);
    }

    #[test]
    fn every_example_is_its_type_exactly() {
        round_trips::<NewOrder>(new_order());
        round_trips::<Order>(order());
        round_trips::<WebhookEvent<Order>>(order_created());
        round_trips::<UpdateInventoryRequest>(update_inventory_request());
        round_trips::<UpdateInventoryResponse>(update_inventory_response());
    }

    #[test]
    fn examples_land_on_the_schemas_a_document_has() {
        let mut doc = json!({"components": {"schemas": {"Order": {"type": "object"}}}});
        apply(&mut doc);
        assert_eq!(
            doc["components"]["schemas"]["Order"]["examples"][0],
            order()
        );
        assert!(doc["components"]["schemas"]["NewOrder"].is_null());
    }
}
