//! A page of pulled orders acknowledged in one request:
//! `POST /api/acknowledgements`.

use crate::helpers::*;

const KEY: &str = contract::demo::DEMO_STORE_API_KEY;

async fn acknowledge(store: &TestStore, body: serde_json::Value) -> reqwest::Response {
    store
        .client
        .post(store.url("/api/acknowledgements"))
        .bearer_auth(KEY)
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn item(id: &str, outcome: &str) -> serde_json::Value {
    serde_json::json!({"order_id": id, "outcome": outcome})
}

async fn id_of_order_placed_in(store: &TestStore, mode: &str) -> String {
    store.set_mode(mode).await;
    place(store, "TEA-ASSAM", 1).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

platform::db_test!(async fn a_page_resolves_its_orders_and_a_wrong_item_fails_only_itself(backend) {
    let (store, _) = spawn_store(backend).await;
    let polled = id_of_order_placed_in(&store, "poll").await;
    let short = id_of_order_placed_in(&store, "poll").await;
    // A webhook order with no endpoint: it stays pending, its webhook's to
    // resolve.
    let pushed = id_of_order_placed_in(&store, "webhook").await;
    let unknown = "ord_00000000000000000000000000";
    let page = serde_json::json!({"acknowledgements": [
        item(&polled, "applied"),
        item(&pushed, "applied"),
        item(unknown, "applied"),
        {"order_id": short, "outcome": "backordered", "reason": "Short of Assam."},
    ]});
    let r = acknowledge(&store, page.clone()).await;
    assert_eq!(r.status(), 200);
    let answer: serde_json::Value = r.json().await.unwrap();
    let results = answer["results"].as_array().unwrap();
    assert_eq!(results.len(), 4, "{answer}");
    assert_eq!(results[0]["order_id"], polled.as_str());
    assert_eq!(results[0]["result"], "resolved");
    assert_eq!(results[0]["status"], "confirmed");
    assert_eq!(results[1]["result"], "conflict");
    assert_eq!(results[1]["status"], "pending");
    assert!(results[1]["detail"].as_str().unwrap().contains("webhook mode"), "{answer}");
    assert_eq!(results[2]["result"], "not_found");
    assert!(results[2].get("status").is_none(), "{answer}");
    assert_eq!(results[3]["result"], "resolved");
    assert_eq!(results[3]["status"], "backordered");
    assert_eq!(store.order_status(&polled).await, "confirmed");
    assert_eq!(store.order_status(&short).await, "backordered");
    assert_eq!(store.order_status(&pushed).await, "pending", "a webhook order is not the feed's");
    let reason = store.get_json(&format!("/api/orders/{short}")).await["status_reason"].clone();
    assert_eq!(reason, "Short of Assam.");

    // Sent again: the first answer decided, nothing changes.
    let again: serde_json::Value = acknowledge(&store, page).await.json().await.unwrap();
    assert_eq!(again["results"][0]["result"], "duplicate");
    assert_eq!(again["results"][0]["status"], "confirmed");
    assert_eq!(again["results"][1]["result"], "conflict");
    assert_eq!(again["results"][3]["result"], "duplicate");
    assert_eq!(again["results"][3]["status"], "backordered");
    // One order listed twice in one page: the second item is a repeat.
    let twice = id_of_order_placed_in(&store, "poll").await;
    let both: serde_json::Value = acknowledge(
        &store,
        serde_json::json!({"acknowledgements": [item(&twice, "applied"), item(&twice, "rejected")]}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(both["results"][0]["result"], "resolved");
    assert_eq!(both["results"][1]["result"], "duplicate");
    assert_eq!(both["results"][1]["status"], "confirmed");
});

platform::db_test!(async fn each_order_of_the_page_shows_the_acknowledgement_on_its_timeline(backend) {
    let (store, _) = spawn_store(backend).await;
    let a = id_of_order_placed_in(&store, "poll").await;
    let b = id_of_order_placed_in(&store, "poll").await;
    let r = acknowledge(&store, serde_json::json!({"acknowledgements": [item(&a, "applied"), item(&b, "applied")]})).await;
    assert_eq!(r.status(), 200);
    for id in [&a, &b] {
        let order = store.get_json(&format!("/api/orders/{id}")).await;
        let channels: Vec<&str> = order["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["channel"].as_str())
            .collect();
        assert!(channels.contains(&"ack"), "{id}: {order}");
    }
});

platform::db_test!(async fn a_page_is_bounded_and_wants_the_key_before_its_body(backend) {
    let (store, _) = spawn_store(backend).await;
    let id = id_of_order_placed_in(&store, "poll").await;
    // No key: a 401 even for a body that is not JSON at all.
    let none = store
        .client
        .post(store.url("/api/acknowledgements"))
        .header("content-type", "application/json")
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 401);
    let too_many: Vec<_> = (0..201).map(|_| item(&id, "applied")).collect();
    for body in [
        serde_json::json!({"acknowledgements": []}),
        serde_json::json!({"acknowledgements": too_many}),
        serde_json::json!({"acknowledgements": [{"order_id": id, "outcome": "maybe"}]}),
        serde_json::json!({"items": []}),
    ] {
        let r = acknowledge(&store, body.clone()).await;
        assert!(r.status().is_client_error(), "{body}: {}", r.status());
        assert_eq!(r.headers()["content-type"], "application/problem+json", "{body}");
    }
    // A bad request changes nothing.
    assert_eq!(store.order_status(&id).await, "pending");
});
