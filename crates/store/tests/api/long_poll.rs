//! Long polling: `GET /api/orders?after=…&wait=SECONDS` holds an empty
//! read until an order commits past the cursor, or the wait ends.

use std::time::{Duration, Instant};

use platform::testing::TestBackend;

use crate::helpers::*;

const KEY: &str = contract::demo::DEMO_STORE_API_KEY;

/// Reads the feed with `query`, answering the page and how long it took.
fn read_later(
    store: &TestStore,
    query: &str,
) -> tokio::task::JoinHandle<(serde_json::Value, Duration)> {
    let request = store
        .client
        .get(store.url(&format!("/api/orders{query}")))
        .bearer_auth(KEY);
    tokio::spawn(async move {
        let started = Instant::now();
        let r = request.send().await.unwrap();
        assert_eq!(r.status(), 200);
        (r.json().await.unwrap(), started.elapsed())
    })
}

/// Until `n` reads are held at `store` (no sleep: the bell counts them).
async fn until_waiting(store: &TestStore, n: usize) {
    eventually(Duration::from_secs(10), "a read held", || async {
        (store.state.ctx.feed_bell.waiting() >= n).then_some(())
    })
    .await;
}

async fn cursor_now(store: &TestStore) -> String {
    let page: serde_json::Value = store
        .client
        .get(store.url("/api/orders"))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["iterator"].as_str().unwrap().to_owned()
}

platform::db_test!(async fn a_held_read_answers_as_soon_as_an_order_commits(backend) {
    let (store, _) = spawn_store(backend).await;
    store.set_mode("poll").await;
    let cursor = cursor_now(&store).await;
    let read = read_later(&store, &format!("?after={cursor}&wait=20"));
    until_waiting(&store, 1).await;
    let placed = place(&store, "TEA-ASSAM", 1).await;
    let (page, took) = read.await.unwrap();
    assert_eq!(page["data"][0]["id"], placed["id"], "{page}");
    assert!(took < Duration::from_secs(10), "woken by the commit, not the wait: {took:?}");
});

platform::db_test!(async fn an_empty_wait_answers_an_empty_page_when_it_ends(backend) {
    let (store, _) = spawn_store(backend).await;
    let cursor = cursor_now(&store).await;
    let (page, took) = read_later(&store, &format!("?after={cursor}&wait=1")).await.unwrap();
    assert_eq!(page["data"], serde_json::json!([]));
    assert_eq!(page["done"], true);
    assert_eq!(page["iterator"], cursor.as_str(), "the same cursor comes back");
    assert!(took >= Duration::from_secs(1), "held for the wait: {took:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    // With orders already there, a wait does not hold the read at all.
    place(&store, "TEA-ASSAM", 1).await;
    let (page, took) = read_later(&store, "?wait=20").await.unwrap();
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    assert!(took < Duration::from_secs(10), "{took:?}");
});

platform::db_test!(async fn waits_outside_0_to_30_seconds_are_clear_400s(backend) {
    let (store, _) = spawn_store(backend).await;
    for query in ["?wait=31", "?wait=-1", "?wait=soon", "?wait=3600"] {
        let r = store.client.get(store.url(&format!("/api/orders{query}"))).bearer_auth(KEY).send().await.unwrap();
        assert_eq!(r.status(), 400, "{query}");
        assert_eq!(r.headers()["content-type"], "application/problem+json", "{query}");
    }
    let r = store.client.get(store.url("/api/orders?wait=0")).bearer_auth(KEY).send().await.unwrap();
    assert_eq!(r.status(), 200);
});

platform::db_test!(async fn an_order_placed_at_another_store_process_wakes_a_held_read(backend) {
    if backend == TestBackend::Sqlite {
        return; // one SQLite file, one store process: nothing to tell
    }
    let db = platform::testing::TestDatabase::create(backend).await;
    let shared = db.share();
    let (waiting_at, _) = restart_store(db, |_| {}).await;
    let (placing_at, _) = restart_store(shared, |_| {}).await;
    placing_at.set_mode("poll").await;
    let cursor = cursor_now(&waiting_at).await;
    let read = read_later(&waiting_at, &format!("?after={cursor}&wait=20"));
    until_waiting(&waiting_at, 1).await;
    let placed = place(&placing_at, "TEA-ASSAM", 1).await;
    let (page, took) = read.await.unwrap();
    assert_eq!(page["data"][0]["id"], placed["id"], "{page}");
    assert!(took < Duration::from_secs(10), "woken by NOTIFY, not the wait: {took:?}");
});
