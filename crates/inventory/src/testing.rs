//! Starting a real inventory for tests (the `test-support` feature); see
//! `store::testing`.

use actix_web::web;
use tokio::task::JoinHandle;

use platform::testing::TestDatabase;

use crate::config::InventoryConfig;
use crate::startup::{AppHandle, Application};
use crate::state::AppState;

pub struct TestInventory {
    pub address: String,
    pub port: u16,
    pub db: TestDatabase,
    pub handle: AppHandle,
    pub state: web::Data<AppState>,
    pub client: reqwest::Client,
    server: Option<JoinHandle<std::io::Result<()>>>,
}

impl TestInventory {
    /// Starts an inventory on `db`. By default it neither subscribes to a
    /// store nor polls (no store is running); `configure` turns them on.
    pub async fn spawn(db: TestDatabase, configure: impl FnOnce(&mut InventoryConfig)) -> TestInventory {
        platform::telemetry::init("warn");
        let mut config = InventoryConfig {
            bind: "127.0.0.1".into(),
            port: 0,
            database_url: db.url.clone(),
            workers: Some(1),
            subscribe: false,
            ..InventoryConfig::default()
        };
        config.poll.paused = true;
        configure(&mut config);
        let app = Application::build(config).await.expect("inventory starts");
        let port = app.port();
        let handle = app.handle();
        let state = app.state();
        let server = tokio::spawn(app.run_until_stopped());
        TestInventory {
            address: format!("http://127.0.0.1:{port}"),
            port,
            db,
            handle,
            state,
            client: reqwest::Client::new(),
            server: Some(server),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn stop(mut self) -> TestDatabase {
        self.handle.stop().await;
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        self.db.take()
    }

    /// Units on hand of one SKU.
    pub async fn on_hand(&self, sku: &str) -> i64 {
        let stock: serde_json::Value = self
            .client
            .get(self.url("/api/stock"))
            .send()
            .await
            .expect("GET /api/stock")
            .json()
            .await
            .expect("JSON");
        stock
            .as_array()
            .expect("a list")
            .iter()
            .find(|s| s["sku"] == sku)
            .and_then(|s| s["on_hand"].as_i64())
            .unwrap_or_else(|| panic!("no stock row for {sku}"))
    }

    /// Sets one SKU's stock to exactly `n` (tests start from known levels).
    pub async fn set_on_hand(&self, sku: &str, n: i64) {
        sqlx::query("UPDATE stock SET on_hand = $1 WHERE sku = $2")
            .bind(n)
            .bind(sku)
            .execute(self.state.db.writer())
            .await
            .expect("set stock");
    }

    /// The outcome recorded for an order id, if it ever arrived.
    pub async fn outcome_of(&self, order_id: &str) -> Option<String> {
        use sqlx::Row;
        sqlx::query("SELECT outcome FROM applied_orders WHERE order_id = $1")
            .bind(order_id)
            .fetch_optional(self.state.db.pool())
            .await
            .expect("query")
            .map(|r| r.try_get("outcome").expect("outcome"))
    }

    pub async fn set_chaos(&self, settings: serde_json::Value) {
        let r = self
            .client
            .put(self.url("/api/chaos"))
            .json(&settings)
            .send()
            .await
            .expect("PUT /api/chaos");
        assert_eq!(r.status(), 200);
    }
}

impl Drop for TestInventory {
    fn drop(&mut self) {
        // Quiet the workers before the test's database is dropped.
        self.handle.request_stop();
    }
}
