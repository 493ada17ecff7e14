//! Building and running the inventory: `Application::build(config)`
//! connects and seeds the database, binds the port, and starts the
//! background tasks (subscribing to the store's webhooks, the poller);
//! `run_until_stopped()` serves until stopped.

use std::sync::Arc;

use actix_web::web;
use anyhow::Context;
use prometheus_client::registry::Registry;
use secrecy::ExposeSecret;
use tokio::sync::Notify;

use platform::LiveHub;
use platform::db::Db;
use platform::group_commit::GroupCommit;
use platform::guard::Guard;
use platform::metrics::HttpMetrics;
use platform::server::{Ops, Service, ServiceApp, ServiceHandle};
use sqlx::migrate::Migrator;

use crate::config::InventoryConfig;
use crate::instruments::chaos::Chaos;
use crate::instruments::messages::LogWriter;
use crate::integration::intake::Intake;
use crate::integration::subscription::{SecretCheck, Secrets};
use crate::integration::{poller, subscription};
use crate::state::{AppState, InventoryMetrics};
use crate::{keys, routes, seed};

/// The inventory's schema: one folder of portable SQL, embedded in the
/// binary and run at start-up on either backend.
pub static MIGRATIONS: Migrator = sqlx::sqlx_macros::migrate!("../../migrations/inventory");

pub struct Application {
    service: Service,
    state: web::Data<AppState>,
}

/// Stops a running inventory from outside.
pub type AppHandle = ServiceHandle;

impl Application {
    pub async fn build(config: InventoryConfig) -> anyhow::Result<Application> {
        let db = Db::connect(&config.database_url, &MIGRATIONS)
            .await
            .context("opening the inventory database")?;
        let clock = config.clock.clone();
        let now = clock.now();
        if config.seed_stock {
            seed::stock(&db, now).await.context("seeding the stock")?;
        }
        keys::register(
            &db,
            config.inventory_api_key.expose_secret(),
            "configured (INVENTORY_API_KEY)",
            now,
        )
        .await?;

        let listener = platform::server::bind(&config.bind, config.port)
            .with_context(|| format!("binding the inventory to {}:{}", config.bind, config.port))?;

        let mut registry = Registry::with_prefix("pushpull");
        let http_metrics = HttpMetrics::register(&mut registry);
        let metrics = InventoryMetrics::register(&mut registry);
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .connect_timeout(std::time::Duration::from_secs(3))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let state = web::Data::new(AppState {
            intake: GroupCommit::new(Intake::new(db.clone(), clock.clone())),
            log: GroupCommit::new(LogWriter::new(db.clone())),
            webhook_secrets: Secrets::default(),
            secret_check: SecretCheck::new(config.subscribe),
            api_keys: Default::default(),
            db,
            clock,
            live: LiveHub::new(),
            client,
            chaos: Arc::new(Chaos::default()),
            poller_wake: Arc::new(Notify::new()),
            metrics,
            registry: Arc::new(registry),
            config: Arc::new(config.clone()),
        });
        poller::cursor::init(&state).await?;

        let service = Service::start_app(
            listener,
            config.workers,
            http_metrics,
            ServiceApp {
                state: state.clone(),
                guard: Guard::new(
                    platform::ui::Service::Inventory,
                    crate::ui::NAV,
                    &config.public_url,
                    &config.store_public_url,
                    config.admin_token.clone(),
                ),
                ops: Ops {
                    service: contract::Party::Inventory.as_str(),
                    db: state.db.clone(),
                    live: state.live.clone(),
                    registry: state.registry.clone(),
                },
            },
            routes::configure,
        )?;

        let shared: Arc<AppState> = state.clone().into_inner();
        service.spawn_worker(
            poller::Poller::new(shared.clone()),
            poller::Poller::pacing(&shared),
        );
        if config.subscribe {
            service.spawn_worker(
                subscription::Subscriber::new(shared.clone()),
                subscription::Subscriber::pacing(&shared),
            );
        }
        tracing::debug!(port = service.port(), config = ?config, "inventory ready");
        Ok(Application { service, state })
    }

    pub fn port(&self) -> u16 {
        self.service.port()
    }

    pub fn handle(&self) -> AppHandle {
        self.service.handle()
    }

    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.service.run_until_stopped().await
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use contract::{ApplyOutcome, Channel, IntegrationMode, Party, VerdictKind};
    use strum::VariantArray;

    use crate::stock::MovementReason;

    fn words(words: impl IntoIterator<Item = &'static str>) -> Vec<String> {
        words.into_iter().map(str::to_owned).collect()
    }

    #[test]
    fn every_enumerated_column_lists_exactly_its_enum_s_words() {
        let expected: BTreeMap<String, Vec<String>> = [
            (
                "stock_movements.reason",
                words(MovementReason::VARIANTS.iter().map(|r| r.as_str())),
            ),
            (
                "applied_orders.channel",
                words(IntegrationMode::ALL.iter().map(|m| m.as_str())),
            ),
            (
                "applied_orders.outcome",
                words(ApplyOutcome::ALL.iter().map(|o| o.as_str())),
            ),
            (
                "webhook_inbox.outcome",
                words(ApplyOutcome::ALL.iter().map(|o| o.as_str())),
            ),
            (
                "messages.initiator",
                words(Party::ALL.iter().map(|p| p.as_str())),
            ),
            (
                "messages.channel",
                words(Channel::ALL.iter().map(|c| c.as_str())),
            ),
            (
                "messages.verdict",
                words(VerdictKind::ALL.iter().map(|v| v.as_str())),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let schema = platform::testing::checked_words(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../migrations/inventory"
        )));
        assert_eq!(schema, expected);
    }
}
