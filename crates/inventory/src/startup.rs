//! Building and running the inventory: `Application::build(config)`
//! connects and seeds the database, binds the port, and starts the
//! background tasks (subscribing to the store's webhooks, the poller);
//! `run_until_stopped()` serves until stopped.

use std::sync::Arc;

use actix_web::dev::{Server, ServerHandle};
use actix_web::web;
use anyhow::Context;
use prometheus_client::registry::Registry;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use platform::LiveHub;
use platform::db::{Db, MigrationFile, Migrations};
use platform::metrics::HttpMetrics;

use crate::chaos::Chaos;
use crate::config::InventoryConfig;
use crate::integration::{poller, subscription};
use crate::state::{AppState, InventoryMetrics};
use crate::{keys, routes, seed};

pub const MIGRATIONS: Migrations = Migrations {
    sqlite: &[MigrationFile {
        version: 1,
        description: "0001_inventory",
        sql: include_str!("../../../migrations/inventory/sqlite/0001_inventory.sql"),
    }],
    postgres: &[MigrationFile {
        version: 1,
        description: "0001_inventory",
        sql: include_str!("../../../migrations/inventory/postgres/0001_inventory.sql"),
    }],
};

pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
    shutdown: watch::Sender<bool>,
    workers: Vec<JoinHandle<()>>,
}

/// Stops a running inventory from outside.
#[derive(Clone)]
pub struct AppHandle {
    server: ServerHandle,
    shutdown: watch::Sender<bool>,
}

impl AppHandle {
    pub async fn stop(&self) {
        let _ = self.shutdown.send(true);
        self.server.stop(true).await;
    }

    /// Asks the background workers to stop, without waiting (usable from
    /// `Drop`); the HTTP server stops with its runtime.
    pub fn request_stop(&self) {
        let _ = self.shutdown.send(true);
    }
}

impl Application {
    pub async fn build(config: InventoryConfig) -> anyhow::Result<Application> {
        let db = Db::connect(&config.database_url, &MIGRATIONS)
            .await
            .context("opening the inventory database")?;
        let clock = config.clock.clone();
        let now = clock.now_ms();
        if config.seed_stock {
            seed::stock(&db, now).await.context("seeding the stock")?;
        }
        keys::register(&db, &config.inventory_api_key, "configured (INVENTORY_API_KEY)", now).await?;

        let listener = platform::server::bind(&config.bind, config.port)
            .with_context(|| format!("binding the inventory to {}:{}", config.bind, config.port))?;
        let port = listener.local_addr()?.port();

        let mut registry = Registry::with_prefix("pushpull");
        let http_metrics = HttpMetrics::register(&mut registry);
        let metrics = InventoryMetrics::register(&mut registry);
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .connect_timeout(std::time::Duration::from_secs(3))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let state = web::Data::new(AppState {
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
        poller::init(&state).await?;

        let app_state = state.clone();
        let server = platform::server::serve(listener, config.workers, http_metrics, move |cfg| {
            cfg.app_data(app_state.clone());
            routes::configure(cfg);
            cfg.default_service(web::to(routes::not_found));
        })?;

        let (shutdown, _) = watch::channel(false);
        let shared: Arc<AppState> = state.clone().into_inner();
        let mut workers = vec![tokio::spawn(poller::Poller::new(shared.clone(), shutdown.subscribe()).run())];
        if config.subscribe {
            workers.push(tokio::spawn(subscription::run(shared, shutdown.subscribe())));
        }
        tracing::info!(port, config = ?config, "inventory ready");
        Ok(Application {
            port,
            server,
            state,
            shutdown,
            workers,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn handle(&self) -> AppHandle {
        AppHandle {
            server: self.server.handle(),
            shutdown: self.shutdown.clone(),
        }
    }

    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        let _ = self.shutdown.send(true);
        for worker in self.workers {
            let _ = worker.await;
        }
        result
    }
}
