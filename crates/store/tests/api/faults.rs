//! Faults, the store's side: a crashed store's work is taken over within a
//! lease term (webhook deliveries in flight, api orders mid-call), a live
//! store's never is, the abandoned-order sweep never voids an order that
//! was answered, and a slow endpoint ties up its own share of the wire and
//! nothing more — nor is a delivery waiting its turn sent twice.
//!
//! A crash is `TestStore::kill`: every background task dropped where it
//! stands, no lease given back, then a new store process on the same
//! database. Time is a `ManualClock`; receivers that must be slow are
//! slow in real time (`wiremock` delays) so that their requests are truly
//! in flight while the store is killed or the clock moves.

use std::time::Duration;

use sqlx::Row;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use contract::{IntegrationMode, OrderId};
use platform::testing::TestBackend;
use store::integration::api::compensation::CompensationWorker;

use crate::helpers::*;

const STORE_KEY: &str = contract::demo::DEMO_STORE_API_KEY;

/// A receiver's `2xx` that says the inventory applied the order.
fn applied() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(serde_json::json!({
        "webhook_id": "msg_whatever", "duplicate": false, "outcome": "applied"
    }))
}

/// The store's lease term, as the tests' stores run with it.
const TERM: Duration = platform::lease::DEFAULT_TERM;

async fn scalar(store: &TestStore, sql: &'static str, bind: &str) -> i64 {
    sqlx::query(sql)
        .bind(bind)
        .fetch_one(store.state.ctx.db.pool())
        .await
        .unwrap()
        .get("n")
}

async fn voids_owed(store: &TestStore, order_id: &str) -> i64 {
    scalar(
        store,
        "SELECT COUNT(*) AS n FROM pending_voids WHERE order_id = $1",
        order_id,
    )
    .await
}

/// An inventory whose `/update_inventory` answers "reserved" after
/// `delay` (real time), and whose voids are answered at once.
async fn slow_inventory(delay: Duration) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex(r"^/update_inventory/[^/]+/void$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"voided": true})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/update_inventory"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(
                    serde_json::json!({"order_id": "ord_1", "applied": true, "stock": []}),
                )
                .set_delay(delay),
        )
        .mount(&server)
        .await;
    server
}

async fn calls_received(inventory: &MockServer) -> usize {
    inventory
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path() == "/update_inventory")
        .count()
}

async fn voids_received(inventory: &MockServer) -> usize {
    inventory
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path().ends_with("/void"))
        .count()
}

/// A store in api mode against `inventory`, whose calls may take 30 s.
/// Its workers look only when something is due (no sweep every few
/// seconds of clock), so what runs when a test moves the clock is what the
/// test means to run.
async fn api_store(
    db: platform::testing::TestDatabase,
    inventory: &MockServer,
) -> (TestStore, platform::ManualClock) {
    let url = inventory.uri();
    restart_store(db, move |c| {
        c.mode = Some(contract::IntegrationMode::Api);
        c.inventory_url = url;
        c.api.timeout = Duration::from_secs(30);
        c.webhook.sweep_interval = Duration::from_secs(3600);
    })
    .await
}

/// Places an api order on a task of its own (the call is slow) and waits
/// until the inventory has the call; returns the order's id.
async fn place_while_the_inventory_holds_the_call(
    store: &TestStore,
    inventory: &MockServer,
) -> String {
    let before = calls_received(inventory).await;
    let (client, url) = (store.client.clone(), store.url("/api/orders"));
    tokio::spawn(async move {
        let _ = client
            .post(url)
            .json(&order_body("TEA-SENCHA", 1))
            .send()
            .await;
    });
    eventually(
        Duration::from_secs(10),
        "the inventory has the call",
        || async { (calls_received(inventory).await > before).then_some(()) },
    )
    .await;
    let row = sqlx::query("SELECT id FROM orders WHERE mode = 'api' AND status = 'pending'")
        .fetch_one(store.state.ctx.db.pool())
        .await
        .unwrap();
    row.get::<String, _>("id")
}

// Regression: the sweep read an order as abandoned; before it wrote, the real
// answer ("reserved") committed; the sweep recorded a void anyway, so a
// confirmed order had its stock put back. Here the answer's write holds
// the order's row (PostgreSQL) or the write lock (SQLite) while the sweep
// runs, and is released once the sweep waits on it.
platform::db_test!(async fn an_order_answered_while_the_sweep_waits_stays_confirmed_and_owes_no_void(backend) {
    let inventory = slow_inventory(Duration::from_secs(20)).await;
    let db = platform::testing::TestDatabase::create(backend).await;
    let (store, _) = api_store(db, &inventory).await;
    let id = place_while_the_inventory_holds_the_call(&store, &inventory).await;
    let db = store.kill().await;
    let (store, clock) = api_store(db, &inventory).await;

    // The dead store's "reserved", written slowly: the order's row (or the
    // database's one write lock) is held from another connection.
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(2)
        .connect(&store.db.url)
        .await
        .unwrap();
    let mut answer = pool.acquire().await.unwrap();
    let begin = match backend {
        TestBackend::Sqlite => "BEGIN IMMEDIATE",
        TestBackend::Postgres => "BEGIN",
    };
    sqlx::raw_sql(begin).execute(&mut *answer).await.unwrap();
    sqlx::query("UPDATE orders SET status = 'confirmed', resolved_at = 1 WHERE id = $1")
        .bind(&id)
        .execute(&mut *answer)
        .await
        .unwrap();

    // The dead store's lease runs out (and any call would have ended): the
    // sweep finds the order pending (the answer is not committed) and goes
    // to reject it — and waits. Nothing else writes meanwhile, so the busy
    // writer below is the sweep's.
    clock.advance(Duration::from_secs(30));
    match backend {
        TestBackend::Postgres => {
            eventually(Duration::from_secs(10), "the sweep waits on the order's row", || async {
                let waiting: i64 = sqlx::query(
                    "SELECT COUNT(*) AS n FROM pg_stat_activity \
                     WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE orders SET status%'",
                )
                .fetch_one(&pool)
                .await
                .map(|r| r.get("n"))
                .unwrap_or(0);
                (waiting > 0).then_some(())
            })
            .await;
        }
        TestBackend::Sqlite => {
            // The store's one writer connection is taken by the sweep,
            // which waits for the lock.
            eventually(Duration::from_secs(10), "the sweep waits for the write lock", || async {
                let writer = store.state.ctx.db.writer();
                (writer.size() == 1 && writer.num_idle() == 0).then_some(())
            })
            .await;
        }
    }
    sqlx::raw_sql("COMMIT").execute(&mut *answer).await.unwrap();
    drop(answer);

    // The sweep finished: the answer stands, and nothing is owed.
    eventually(Duration::from_secs(10), "the sweep lets go", || async {
        (store.state.ctx.db.writer().num_idle() == store.state.ctx.db.writer().size() as usize).then_some(())
    })
    .await;
    let worker = CompensationWorker::new(store.state.api.clone());
    assert!(worker.abandoned_orders().await.unwrap().is_empty());
    assert!(!worker.reject_and_void(&OrderId::parse(&id).unwrap()).await.unwrap());
    assert_eq!(store.order_status(&id).await, "confirmed");
    assert_eq!(voids_owed(&store, &id).await, 0, "a confirmed order owes no void");
});

// Takeover, api: an order whose store died mid-call is rejected and voided
// one lease term after the crash — not after the ~20 s any call could take.
platform::db_test!(async fn an_api_order_abandoned_by_a_crash_is_voided_within_a_lease_term(backend) {
    let inventory = slow_inventory(Duration::from_secs(20)).await;
    let db = platform::testing::TestDatabase::create(backend).await;
    let (store, _) = api_store(db, &inventory).await;
    let id = place_while_the_inventory_holds_the_call(&store, &inventory).await;
    let db = store.kill().await;

    let (store, clock) = api_store(db, &inventory).await;
    store.state.api.compensation_wake.notify_one();
    assert_eq!(store.order_status(&id).await, "pending", "not before the lease runs out");
    clock.advance(TERM + Duration::from_secs(1));
    eventually(Duration::from_secs(10), "rejected and voided", || async {
        (store.order_status(&id).await == "rejected" && voids_received(&inventory).await == 1)
            .then_some(())
    })
    .await;
    // A retry of the customer's request finds the settled order, not "in flight".
    let order = store.get_json(&format!("/api/orders/{id}")).await;
    assert!(order["status_reason"].as_str().unwrap().contains("stopped before the inventory answered"), "{order}");
});

// Takeover, never from the living: two stores on one database and one
// clock; one is waiting for a slow inventory while the clock runs far past
// a lease term. It renews its lease, the other's sweep leaves its order
// alone, and the order ends as the inventory answered.
platform::db_test!(async fn a_live_store_s_api_order_is_never_settled_by_a_peer(backend) {
    let inventory = slow_inventory(Duration::from_secs(6)).await;
    let db = platform::testing::TestDatabase::create(backend).await;
    let shared = db.share();
    let (a, clock) = api_store(db, &inventory).await;
    let url = inventory.uri();
    let b = store::testing::TestStore::spawn(shared, {
        let clock = clock.shared();
        move |c| {
            c.clock = clock;
            c.webhook.jitter = 0.0;
            c.inventory_url = url;
            c.api.timeout = Duration::from_secs(30);
            c.webhook.sweep_interval = Duration::from_secs(3600);
        }
    })
    .await;
    let id = place_while_the_inventory_holds_the_call(&a, &inventory).await;
    // Twenty seconds of clock, one at a time; after each, store A's
    // renewal has landed (its lease is at least five seconds ahead).
    for _ in 0..20 {
        clock.advance(Duration::from_secs(1));
        b.state.api.compensation_wake.notify_one();
        let now = clock.shared().now().millis();
        eventually(Duration::from_secs(10), "store A renews its lease", || async {
            let until: Option<i64> = sqlx::query("SELECT lease_expires_at AS n FROM api_calls WHERE order_id = $1")
                .bind(&id)
                .fetch_optional(a.state.ctx.db.pool())
                .await
                .unwrap()
                .map(|r| r.get("n"));
            until.is_none_or(|until| until >= now + 5_000).then_some(())
        })
        .await;
        assert_eq!(a.order_status(&id).await, "pending", "nobody settles an order its store is deciding");
    }
    eventually(Duration::from_secs(10), "the inventory's answer decides", || async {
(a.order_status(&id).await == "confirmed").then_some(())
    })
    .await;
    assert_eq!(voids_owed(&a, &id).await, 0);
    assert_eq!(voids_received(&inventory).await, 0);
});

/// Registers the inventory's own receiver (`{inventory}/webhooks/store`,
/// with the store's key): the endpoint whose answers resolve orders.
async fn register_resolver(store: &TestStore) -> String {
    register_resolver_for(store, "order.created").await
}

/// [`register_resolver`], subscribed to `event` (hybrid's `order.notice`).
async fn register_resolver_for(store: &TestStore, event: &str) -> String {
    let url = format!("{}/webhooks/store", store.state.ctx.config.inventory_url);
    let r = store
        .client
        .post(store.url("/api/webhook-endpoints"))
        .bearer_auth(STORE_KEY)
        .json(&serde_json::json!({"url": url, "event_types": [event]}))
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_success(),
        "registering the resolver: {}",
        r.status()
    );
    let endpoint: serde_json::Value = r.json().await.unwrap();
    assert_eq!(endpoint["role"], "resolver");
    endpoint["id"].as_str().unwrap().to_owned()
}

/// An inventory receiver: the first `slow` deliveries are answered
/// "applied" after `delay` (real time), every later one at once.
async fn resolver_receiver(slow: usize, delay: Duration) -> MockServer {
    let server = MockServer::start().await;
    if slow > 0 {
        Mock::given(method("POST"))
            .and(path("/webhooks/store"))
            .respond_with(applied().set_delay(delay))
            .up_to_n_times(slow as u64)
            .with_priority(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("POST"))
        .and(path("/webhooks/store"))
        .respond_with(applied())
        .with_priority(2)
        .mount(&server)
        .await;
    server
}

async fn webhook_ids(server: &MockServer) -> Vec<String> {
    ids_of(server, "order.created").await
}

/// The `webhook-id` of every `event` the server received.
async fn ids_of(server: &MockServer, event: &str) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.event_type() == event)
        .filter_map(|r| r.header("webhook-id").map(str::to_owned))
        .collect()
}

// Takeover, webhook: deliveries on the wire when the store dies are sent
// again by its successor one lease term later — not after the 40 s a lease
// sized for the slowest attempt would last — and resolve their orders.
platform::db_test!(async fn deliveries_in_flight_at_a_crash_are_taken_over_within_a_lease_term(backend) {
    taken_over_after_a_crash(backend, IntegrationMode::Webhook, "order.created").await;
});

// The same for hybrid mode's thin notices: the same outbox, the same
// takeover, and the answer to the notice resolves the order.
platform::db_test!(async fn notices_in_flight_at_a_crash_are_taken_over_within_a_lease_term(backend) {
    taken_over_after_a_crash(backend, IntegrationMode::Hybrid, "order.notice").await;
});

/// Three `event`s of `mode` orders on the wire when the store is killed:
/// its successor sends each again one lease term later, and they resolve.
async fn taken_over_after_a_crash(
    backend: TestBackend,
    mode: IntegrationMode,
    event: &'static str,
) {
    let inventory = resolver_receiver(3, Duration::from_secs(20)).await;
    let url = inventory.uri();
    let configure = move |c: &mut store::StoreConfig| {
        c.inventory_url = url.clone();
        c.webhook.timeout = Duration::from_secs(30);
        c.mode = Some(mode);
    };
    let db = platform::testing::TestDatabase::create(backend).await;
    let (store, _) = restart_store(db, configure.clone()).await;
    register_resolver_for(&store, event).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let order = place(&store, "TEA-SENCHA", 1).await;
        assert_eq!(order["mode"], mode.as_str());
        ids.push(order["id"].as_str().unwrap().to_owned());
    }
    eventually(
        Duration::from_secs(10),
        "three deliveries on the wire",
        || async { (ids_of(&inventory, event).await.len() == 3).then_some(()) },
    )
    .await;
    let db = store.kill().await;

    let (store, clock) = restart_store(db, configure).await;
    store.state.webhooks.dispatch.wake().notify_one();
    for id in &ids {
        assert_eq!(
            store.order_status(id).await,
            "pending",
            "not before the lease runs out"
        );
    }
    clock.advance(TERM + Duration::from_secs(1));
    store.state.webhooks.dispatch.wake().notify_one();
    for id in &ids {
        eventually(
            Duration::from_secs(10),
            "each order confirmed by its successor",
            || async { (store.order_status(id).await == "confirmed").then_some(()) },
        )
        .await;
    }
    let sent = ids_of(&inventory, event).await;
    assert_eq!(
        sent.len(),
        6,
        "each sent once before the crash and once after: {sent:?}"
    );
    for id in &sent {
        assert_eq!(sent.iter().filter(|s| *s == id).count(), 2, "{id}");
    }
}

// Regression: three observers that take seconds to answer do not hold up the
// inventory's deliveries — every order is confirmed while all the
// observers' first attempts are still on the wire.
platform::db_test!(async fn slow_observers_use_their_own_share_and_the_resolver_keeps_moving(backend) {
    let inventory = resolver_receiver(0, Duration::ZERO).await;
    let url = inventory.uri();
    let (store, _) = spawn_store_with(backend, move |c| {
        c.inventory_url = url;
        c.webhook.max_in_flight = 8;
        c.webhook.max_in_flight_per_endpoint = 2;
        c.webhook.timeout = Duration::from_secs(30);
    })
    .await;
    register_resolver(&store).await;
    let mut observers = Vec::new();
    for _ in 0..3 {
        let slow = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(6)))
            .mount(&slow)
            .await;
        register_endpoint(&store, &format!("{}/hook", slow.uri()), serde_json::json!({"event_types": ["order.created"]})).await;
        observers.push(slow);
    }
    let mut ids = Vec::new();
    for _ in 0..10 {
        ids.push(place(&store, "TEA-SENCHA", 1).await["id"].as_str().unwrap().to_owned());
    }
    for id in &ids {
        eventually(Duration::from_secs(5), "the order is confirmed", || async {
            (store.order_status(id).await == "confirmed").then_some(())
        })
        .await;
    }
    // Every observer delivery is still pending (none has been answered):
    // the resolver's went past them, not after them.
    let observed: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id \
         WHERE e.role = 'observer' AND d.event_type = 'order.created' AND d.state = 'succeeded'",
    )
    .fetch_one(store.state.ctx.db.pool())
    .await
    .unwrap()
    .get("n");
    assert_eq!(observed, 0, "the observers are still answering their first attempts");
    let sent = webhook_ids(&inventory).await;
    assert_eq!(sent.len(), 10, "each order's delivery sent once: {sent:?}");
    for observer in &observers {
        let on_the_wire = observer.received_requests().await.unwrap_or_default().len();
        assert!(on_the_wire <= 2, "an observer holds at most its share: {on_the_wire}");
    }
});

// Regression: a delivery that waits in this process longer than a lease term —
// here behind a slow delivery to the same endpoint, with the clock run
// far ahead — is still this process's: it is not claimed again as if
// abandoned, and every message is sent exactly once.
platform::db_test!(async fn a_delivery_waiting_its_turn_is_never_sent_twice(backend) {
    let inventory = resolver_receiver(1, Duration::from_secs(2)).await;
    let url = inventory.uri();
    let (store, clock) = spawn_store_with(backend, move |c| {
        c.inventory_url = url;
        c.webhook.max_in_flight = 1;
        c.webhook.max_in_flight_per_endpoint = 1;
        c.webhook.timeout = Duration::from_secs(30);
    })
    .await;
    register_resolver(&store).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(place(&store, "TEA-SENCHA", 1).await["id"].as_str().unwrap().to_owned());
    }
    eventually(Duration::from_secs(10), "the first delivery is on the wire", || async {
        (!webhook_ids(&inventory).await.is_empty()).then_some(())
    })
    .await;
    // Two minutes pass while the other two wait their turn.
    for _ in 0..4 {
        clock.advance(Duration::from_secs(30));
        store.state.webhooks.dispatch.wake().notify_one();
        tokio::task::yield_now().await;
    }
    for id in &ids {
        eventually(Duration::from_secs(10), "confirmed", || async {
            (store.order_status(id).await == "confirmed").then_some(())
        })
        .await;
    }
    let sent = webhook_ids(&inventory).await;
    assert_eq!(sent.len(), 3, "each message sent exactly once: {sent:?}");
    let attempts: Vec<i64> = sqlx::query("SELECT attempts FROM webhook_deliveries WHERE event_type = 'order.created'")
        .fetch_all(store.state.ctx.db.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get("attempts"))
        .collect();
    assert_eq!(attempts, [1, 1, 1]);
});
