//! Starting a real inventory for tests (the `test-support` feature); see
//! `store::testing`.

use actix_web::web;

use platform::testing::{TestDatabase, TestService};

use crate::config::InventoryConfig;
use crate::startup::Application;
use crate::state::AppState;

pub struct TestInventory(TestService<web::Data<AppState>>);

impl std::ops::Deref for TestInventory {
    type Target = TestService<web::Data<AppState>>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// Builds the inventory. A restart asks for the port it had (the store's
/// endpoint points there), and while it was stopped another test's
/// outgoing connection may have been given that port as its own end: then
/// the bind is tried again until that connection is gone, instead of the
/// test failing on a neighbour's timing.
async fn build_on_its_port(config: InventoryConfig) -> Application {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        match Application::build(config.clone()).await {
            Ok(app) => return app,
            Err(e)
                if config.port != 0 && std::time::Instant::now() < deadline && port_taken(&e) =>
            {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => panic!("inventory starts: {e:?}"),
        }
    }
}

fn port_taken(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::AddrInUse)
    })
}

impl TestInventory {
    /// Starts an inventory on `db`. By default it neither subscribes to a
    /// store, nor polls, nor reconciles (no store is running); `configure`
    /// turns them on.
    pub async fn spawn(
        db: TestDatabase,
        configure: impl FnOnce(&mut InventoryConfig),
    ) -> TestInventory {
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
        config.reconcile.paused = true;
        configure(&mut config);
        let app = build_on_its_port(config).await;
        let (port, handle, state) = (app.port(), app.handle(), app.state());
        TestInventory(TestService::started(
            db,
            port,
            handle,
            state,
            app.run_until_stopped(),
        ))
    }

    pub async fn stop(self) -> TestDatabase {
        self.0.stop().await
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
            .execute(self.state.ctx.db.writer())
            .await
            .expect("set stock");
    }

    /// The outcome recorded for an order id, if it ever arrived.
    pub async fn outcome_of(&self, order_id: &str) -> Option<String> {
        sqlx::query_scalar("SELECT outcome FROM applied_orders WHERE order_id = $1")
            .bind(order_id)
            .fetch_optional(self.state.ctx.db.pool())
            .await
            .expect("query")
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
