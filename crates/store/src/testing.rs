//! Starting a real store for tests (the `test-support` feature): on port 0,
//! against a fresh database, with one HTTP worker. Used by the store's own
//! integration tests and by the launcher's system tests, so both start the
//! store the same way the launcher does — through `Application::build`.

use actix_web::web;

use platform::testing::{TestDatabase, TestService};

use crate::config::StoreConfig;
use crate::startup::Application;
use crate::state::AppState;

pub struct TestStore(TestService<web::Data<AppState>>);

impl std::ops::Deref for TestStore {
    type Target = TestService<web::Data<AppState>>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl TestStore {
    /// Starts a store on `db`; `configure` adjusts the test defaults.
    pub async fn spawn(db: TestDatabase, configure: impl FnOnce(&mut StoreConfig)) -> TestStore {
        platform::telemetry::init("warn");
        let mut config = StoreConfig {
            bind: "127.0.0.1".into(),
            port: 0,
            database_url: db.url.clone(),
            workers: Some(1),
            ..StoreConfig::default()
        };
        // Fast in-request retries: tests check behaviour, not patience.
        if let platform::Backoff::Exponential { first, .. } = &mut config.api.backoff {
            *first = std::time::Duration::from_millis(20);
        }
        configure(&mut config);
        let app = Application::build(config).await.expect("store starts");
        let (port, handle, state) = (app.port(), app.handle(), app.state());
        TestStore(TestService::started(
            db,
            port,
            handle,
            state,
            app.run_until_stopped(),
        ))
    }

    /// Stops the store (as on SIGTERM) and hands back its database.
    pub async fn stop(self) -> TestDatabase {
        self.0.stop().await
    }

    /// Kills the store as `kill -9` would (nothing drains, no lease is
    /// given back) and hands back its database.
    pub async fn kill(self) -> TestDatabase {
        self.0.kill().await
    }

    pub async fn post_order(&self, body: &serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url("/api/orders"))
            .json(body)
            .send()
            .await
            .expect("POST /api/orders")
    }

    pub async fn set_mode(&self, mode: &str) {
        let r = self
            .client
            .put(self.url("/api/integration"))
            .json(&serde_json::json!({ "mode": mode }))
            .send()
            .await
            .expect("PUT /api/integration");
        assert_eq!(r.status(), 200, "setting mode {mode}");
    }

    /// An order's current status, straight from the API.
    pub async fn order_status(&self, id: &str) -> String {
        self.get_json(&format!("/api/orders/{id}")).await["status"]
            .as_str()
            .expect("status")
            .to_owned()
    }
}

/// A valid order body for `sku` × `quantity`.
pub fn order_body(sku: &str, quantity: i64) -> serde_json::Value {
    serde_json::json!({
        "customer": {"name": "Test Customer", "email": "test@example.com"},
        "items": [{"sku": sku, "quantity": quantity}]
    })
}
