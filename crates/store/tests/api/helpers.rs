//! `spawn_store`, and a scripted webhook endpoint.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

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

/// What a scripted endpoint answers to one request.
#[derive(Clone, Debug)]
pub struct Scripted {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
}

impl Scripted {
    pub fn status(status: u16) -> Scripted {
        Scripted {
            status,
            headers: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Scripted {
        self.headers.push((name, value.into()));
        self
    }
}

/// One request as the endpoint received it.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn event_type(&self) -> String {
        let json: serde_json::Value = serde_json::from_slice(&self.body).unwrap_or_default();
        json["type"].as_str().unwrap_or("").to_owned()
    }
}

#[derive(Default)]
struct Script {
    /// Answers for `order.created` deliveries, in order; then 200.
    answers: VecDeque<Scripted>,
    received: Vec<Received>,
}

/// A webhook receiver whose answers a test scripts. Pings are always
/// answered 200, so the script concerns orders only.
pub struct ScriptedEndpoint {
    pub url: String,
    script: Arc<Mutex<Script>>,
}

impl ScriptedEndpoint {
    pub async fn start(answers: Vec<Scripted>) -> ScriptedEndpoint {
        Self::start_on(0, answers).await
    }

    pub async fn start_on(port: u16, answers: Vec<Scripted>) -> ScriptedEndpoint {
        let script = Arc::new(Mutex::new(Script {
            answers: answers.into(),
            received: Vec::new(),
        }));
        let data = web::Data::new(script.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(answer))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(0)
        .bind(("127.0.0.1", port))
        .expect("bind scripted endpoint");
        let port = server.addrs()[0].port();
        tokio::spawn(server.run());
        ScriptedEndpoint {
            url: format!("http://127.0.0.1:{port}/hook"),
            script,
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.script.lock().unwrap().received.clone()
    }

    pub fn orders_received(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.event_type() == "order.created")
            .collect()
    }
}

async fn answer(
    req: HttpRequest,
    body: web::Bytes,
    script: web::Data<Arc<Mutex<Script>>>,
) -> HttpResponse {
    let received = Received {
        headers: req
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
        body: body.to_vec(),
    };
    let is_order = received.event_type() == "order.created";
    let mut script = script.lock().unwrap();
    script.received.push(received);
    let scripted = if is_order {
        script.answers.pop_front()
    } else {
        None
    };
    let scripted = scripted.unwrap_or(Scripted::status(200));
    let mut response =
        HttpResponse::build(actix_web::http::StatusCode::from_u16(scripted.status).unwrap());
    for (name, value) in scripted.headers {
        response.insert_header((name, value));
    }
    response.body("ok")
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
