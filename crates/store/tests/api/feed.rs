//! The pull feed: `GET /api/orders?after=CURSOR&limit=N`.

use std::collections::HashSet;

use crate::helpers::*;

const KEY: &str = contract::demo::DEMO_STORE_API_KEY;

async fn read(store: &TestStore, query: &str) -> reqwest::Response {
    store
        .client
        .get(store.url(&format!("/api/orders{query}")))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap()
}

async fn page(store: &TestStore, query: &str) -> serde_json::Value {
    let r = read(store, query).await;
    assert_eq!(r.status(), 200, "{query}");
    r.json().await.unwrap()
}

fn ids(page: &serde_json::Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect()
}

platform::db_test!(async fn an_empty_feed_is_done_at_once(backend) {
    let (store, _) = spawn_store(backend).await;
    let first = page(&store, "").await;
    assert_eq!(first["data"], serde_json::json!([]));
    assert_eq!(first["done"], true);
    // Its iterator is a valid cursor for the next poll.
    let cursor = first["iterator"].as_str().unwrap();
    let again = page(&store, &format!("?after={cursor}")).await;
    assert_eq!(again["done"], true);
});

platform::db_test!(async fn pages_follow_the_iterator_oldest_first_until_done(backend) {
    let (store, _) = spawn_store(backend).await;
    store.set_mode("poll").await;
    let mut placed = Vec::new();
    for _ in 0..7 {
        placed.push(place(&store, "TEA-ASSAM", 1).await["id"].as_str().unwrap().to_owned());
    }
    let p1 = page(&store, "?limit=3").await;
    assert_eq!(ids(&p1), placed[0..3]);
    assert_eq!(p1["done"], false);
    let p2 = page(&store, &format!("?limit=3&after={}", p1["iterator"].as_str().unwrap())).await;
    assert_eq!(ids(&p2), placed[3..6]);
    assert_eq!(p2["done"], false);
    let p3 = page(&store, &format!("?limit=3&after={}", p2["iterator"].as_str().unwrap())).await;
    assert_eq!(ids(&p3), placed[6..7]);
    assert_eq!(p3["done"], true);
    // Orders arrive whole, with their lines and mode.
    assert_eq!(p1["data"][0]["mode"], "poll");
    assert_eq!(p1["data"][0]["items"][0]["sku"], "TEA-ASSAM");
    // Nothing new: the same cursor comes back, done.
    let p4 = page(&store, &format!("?limit=3&after={}", p3["iterator"].as_str().unwrap())).await;
    assert!(ids(&p4).is_empty());
    assert_eq!(p4["iterator"], p3["iterator"]);
    // An exact page boundary is not "done" until the next read proves it.
    let exact = page(&store, "?limit=7").await;
    assert_eq!(exact["done"], true);
    let short = page(&store, "?limit=6").await;
    assert_eq!(short["done"], false);
});

platform::db_test!(async fn bad_cursors_and_limits_are_clear_400s(backend) {
    let (store, _) = spawn_store(backend).await;
    for query in ["?after=42", "?after=c1.!!!", "?after=c9.NDI", "?limit=0", "?limit=201", "?limit=ten"] {
        let r = read(&store, query).await;
        assert_eq!(r.status(), 400, "{query}");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let problem: serde_json::Value = r.json().await.unwrap();
        assert!(problem["detail"].as_str().unwrap().len() > 10, "{problem}");
    }
});

platform::db_test!(async fn the_feed_wants_the_store_api_key(backend) {
    let (store, _) = spawn_store(backend).await;
    place(&store, "TEA-ASSAM", 1).await;
    let none = store.client.get(store.url("/api/orders")).send().await.unwrap();
    assert_eq!(none.status(), 401);
    assert_eq!(none.headers()["www-authenticate"], "Bearer");
    let wrong = store.client.get(store.url("/api/orders")).bearer_auth("guess").send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    let ack = store
        .client
        .post(store.url("/api/orders/ord_x/acknowledgement"))
        .json(&serde_json::json!({"outcome": "applied", "channel": "poll", "applied_at": "2024-01-01T00:00:00Z"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ack.status(), 401);
});

platform::db_test!(async fn no_order_is_skipped_while_orders_are_placed_during_polling(backend) {
    let (store, _) = spawn_store(backend).await;
    store.set_mode("poll").await;
    let writers = 4;
    let per_writer = 25;
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..writers {
        let client = store.client.clone();
        let url = store.url("/api/orders");
        tasks.spawn(async move {
            let mut ids = Vec::new();
            for i in 0..per_writer {
                let body = serde_json::json!({
                    "customer": {"name": format!("w{w} o{i}"), "email": "w@example.com"},
                    "items": [{"sku": "TEA-ASSAM", "quantity": 1}]
                });
                let r = client.post(&url).json(&body).send().await.unwrap();
                assert_eq!(r.status(), 201);
                ids.push(r.json::<serde_json::Value>().await.unwrap()["id"].as_str().unwrap().to_owned());
            }
            ids
        });
    }
    // Poll with small pages while the writers run, then until done.
    let mut seen: Vec<String> = Vec::new();
    let mut cursor = String::new();
    let mut writers_done = false;
    let mut placed = HashSet::new();
    loop {
        let query = if cursor.is_empty() { "?limit=5".to_owned() } else { format!("?limit=5&after={cursor}") };
        let p = page(&store, &query).await;
        seen.extend(ids(&p));
        cursor = p["iterator"].as_str().unwrap().to_owned();
        if !writers_done && tasks.is_empty() {
            writers_done = true;
        }
        while let Some(done) = tasks.try_join_next() {
            placed.extend(done.unwrap());
        }
        if writers_done && p["done"] == true {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(placed.len(), writers * per_writer);
    let unique: HashSet<_> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "an order was read twice");
    assert_eq!(unique, placed, "an order was skipped (or invented)");
});
