//! `spawn_store`, and a scripted webhook receiver (`wiremock`).

use wiremock::matchers::{any, body_partial_json, method};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use platform::ManualClock;
pub use platform::testing::eventually;
use platform::testing::{TestBackend, TestDatabase};
pub use store::testing::{TestStore, order_body};

/// A store on a fresh database, with a manual clock and no jitter.
pub async fn spawn_store(backend: TestBackend) -> (TestStore, ManualClock) {
    spawn_store_with(backend, |_| {}).await
}

pub async fn spawn_store_with(
    backend: TestBackend,
    configure: impl FnOnce(&mut store::StoreConfig),
) -> (TestStore, ManualClock) {
    let db = TestDatabase::create(backend).await;
    restart_store(db, configure).await
}

/// Starts a store on an existing database (a restart).
pub async fn restart_store(
    db: TestDatabase,
    configure: impl FnOnce(&mut store::StoreConfig),
) -> (TestStore, ManualClock) {
    let clock = ManualClock::new();
    let shared = clock.shared();
    let store = TestStore::spawn(db, move |c| {
        c.clock = shared;
        c.webhook.jitter = 0.0;
        configure(c);
    })
    .await;
    (store, clock)
}

/// A webhook receiver whose answers a test scripts: a `wiremock` server.
/// `order.created` deliveries get the scripted answers in turn, then
/// `200`; pings are always answered `200`, so a script concerns orders only.
pub struct Receiver {
    pub url: String,
    server: MockServer,
}

impl Receiver {
    pub async fn start(answers: Vec<ResponseTemplate>) -> Receiver {
        let server = MockServer::start().await;
        // Each scripted answer matches once, in the order mounted; the
        // catch-all below has a lower priority, so it answers only when
        // the script has run out (or for anything that is not an order).
        for answer in answers {
            Mock::given(method("POST"))
                .and(body_partial_json(
                    serde_json::json!({"type": "order.created"}),
                ))
                .respond_with(answer)
                .up_to_n_times(1)
                .with_priority(1)
                .mount(&server)
                .await;
        }
        Mock::given(any())
            .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
            .with_priority(10)
            .mount(&server)
            .await;
        Receiver {
            url: format!("{}/hook", server.uri()),
            server,
        }
    }

    /// `http://127.0.0.1:PORT`: this receiver's address, for a store whose
    /// `inventory_url` it plays.
    pub fn base(&self) -> String {
        self.server.uri()
    }

    /// The URL an inventory at [`Receiver::base`] registers:
    /// `{base}/webhooks/store` (the receiver answers on every path).
    pub fn inventory_receiver_url(&self) -> String {
        format!(
            "{}{}",
            self.base(),
            contract::inventory::WEBHOOK_RECEIVER_PATH
        )
    }

    /// Every request received, in order.
    pub async fn received(&self) -> Vec<Request> {
        self.server.received_requests().await.unwrap_or_default()
    }

    /// The `order.created` deliveries received, in order.
    pub async fn orders_received(&self) -> Vec<Request> {
        self.received()
            .await
            .into_iter()
            .filter(|r| r.event_type() == "order.created")
            .collect()
    }
}

/// What a test reads off a request the receiver got.
pub trait Received {
    fn header(&self, name: &str) -> Option<&str>;
    fn event_type(&self) -> String;
}

impl Received for Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn event_type(&self) -> String {
        let json: serde_json::Value = serde_json::from_slice(&self.body).unwrap_or_default();
        json["type"].as_str().unwrap_or("").to_owned()
    }
}

/// An answer for [`Receiver::start`]'s script (add headers with
/// `.insert_header`).
pub fn answer(status: u16) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_string("ok")
}

/// Registers an endpoint and returns (id, secret).
pub async fn register_endpoint(
    store: &TestStore,
    url: &str,
    extra: serde_json::Value,
) -> (String, String) {
    let mut body = serde_json::json!({ "url": url });
    if let serde_json::Value::Object(map) = extra {
        for (k, v) in map {
            body[k] = v;
        }
    }
    let r = store
        .client
        .post(store.url("/api/webhook-endpoints"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "registering {url}");
    let v: serde_json::Value = r.json().await.unwrap();
    (
        v["id"].as_str().unwrap().to_owned(),
        v["secret"].as_str().unwrap().to_owned(),
    )
}

/// The deliveries of one order (there is one per endpoint).
pub async fn deliveries_of(store: &TestStore, order_id: &str) -> Vec<serde_json::Value> {
    store
        .get_json(&format!("/api/deliveries?order_id={order_id}"))
        .await
        .as_array()
        .unwrap()
        .clone()
}

pub async fn place(store: &TestStore, sku: &str, quantity: i64) -> serde_json::Value {
    let r = store.post_order(&order_body(sku, quantity)).await;
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}
