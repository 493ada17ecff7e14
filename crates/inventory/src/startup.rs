//! Building and running the inventory: `Application::build(config)`
//! connects and seeds the database, binds the port, builds what the
//! handlers hold, and starts the background workers (the subscription to
//! the store's webhooks, the poller); `run_until_stopped()` serves until
//! stopped.

use std::sync::Arc;

use actix_web::web;
use anyhow::Context as _;
use prometheus_client::registry::Registry;
use secrecy::ExposeSecret;

use platform::db::Db;
use platform::guard::Guard;
use platform::metrics::HttpMetrics;
use platform::server::{Ops, Service, ServiceApp, ServiceHandle};
use sqlx::migrate::Migrator;

use crate::config::InventoryConfig;
use crate::context::Context;
use crate::instruments::metrics::InventoryMetrics;
use crate::integration::poller::cursor::{self, Feed};
use crate::integration::poller::worker::{PollerWorker, ReconcilerWorker};
use crate::integration::webhook_secrets::Secrets;
use crate::state::AppState;
use crate::store_api::StoreApi;
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
        let db = open_database(&config).await?;
        let listener = platform::server::bind(&config.bind, config.port)
            .with_context(|| format!("binding the inventory to {}:{}", config.bind, config.port))?;

        let mut registry = Registry::with_prefix("pushpull");
        let http_metrics = HttpMetrics::register(&mut registry);
        let metrics = InventoryMetrics::register(&mut registry);
        let ctx = Context::new(db, config.clone(), metrics);
        cursor::init(&ctx.db, Feed::Poll, &config.poll, ctx.clock.now()).await?;
        cursor::init(&ctx.db, Feed::Reconcile, &config.reconcile, ctx.clock.now()).await?;

        // The secrets and the calls to the store are shared by the
        // handlers' patterns and the subscription.
        let secrets = Arc::new(Secrets::new(config.subscribe));
        let store = StoreApi::new(&config)?;
        let state = web::Data::new(AppState::new(ctx.clone(), secrets, store));

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
                    db: ctx.db.clone(),
                    live: ctx.live.clone(),
                    registry: Arc::new(registry),
                },
            },
            routes::configure,
        )?;

        // A long poll held at the store lets go when the service stops.
        state.poller.stop_with(service.stopping());
        let poller = PollerWorker::new(ctx.clone(), state.poller.clone());
        service.spawn_worker(poller, state.poller.pacing(&ctx));
        let reconciler = ReconcilerWorker(PollerWorker::new(ctx.clone(), state.reconciler.clone()));
        service.spawn_worker(reconciler, state.reconciler.pacing(&ctx));
        if config.subscribe {
            let subscriber = state.subscriber.clone();
            let pacing = subscriber.pacing();
            service.spawn_worker(subscriber, pacing);
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

/// Connects (running the migrations), seeds the demo stock if asked, and
/// accepts the configured API key.
async fn open_database(config: &InventoryConfig) -> anyhow::Result<Db> {
    let db = Db::connect(&config.database_url, &MIGRATIONS)
        .await
        .context("opening the inventory database")?;
    let now = config.clock.now();
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
    Ok(db)
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
