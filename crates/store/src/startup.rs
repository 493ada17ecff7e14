//! Building and running the store: `Application::build(config)` connects
//! the database, seeds it, binds the port, starts the background workers
//! (the webhook dispatcher and the compensation worker) and returns;
//! `run_until_stopped()` serves until stopped, then lets the workers finish
//! what they hold. Tests call `build` with port 0 and a fresh database; the
//! launcher calls it with the configured ones.

use std::sync::Arc;

use actix_web::web;
use anyhow::Context as _;
use prometheus_client::registry::Registry;

use platform::LiveHub;
use platform::db::{Backend, Db};
use platform::group_commit::GroupCommit;
use platform::guard::Guard;
use platform::lease::LeaseRenewer;
use platform::metrics::HttpMetrics;
use platform::server::{Ops, Service, ServiceApp, ServiceHandle};
use sqlx::migrate::Migrator;

use crate::checkout::Checkout;
use crate::config::StoreConfig;
use crate::context::{Context, KnownKeys, StoreMetrics};
use crate::inbound::InboundLog;
use crate::integration::api::ApiCalls;
use crate::integration::api::compensation::CompensationWorker;
use crate::integration::poll::wait::{FeedBell, FeedListener};
use crate::integration::webhook::resolver::{self, ResolverUrl};
use crate::integration::webhook::{OutboxDispatcher, Webhooks};
use crate::orders::OrderReads;
use crate::state::AppState;
use crate::{api_keys, integration, openapi, routes, seed, ui};

/// The store's schema: one folder of portable SQL, embedded in the binary
/// and run at start-up on either backend.
pub static MIGRATIONS: Migrator = sqlx::sqlx_macros::migrate!("../../migrations/store");

pub struct Application {
    service: Service,
    state: web::Data<AppState>,
}

/// Stops a running store from outside (the launcher on Ctrl-C, tests).
pub type AppHandle = ServiceHandle;

/// Connects, migrates, seeds the demo catalog, accepts the configured API
/// key, and records which endpoint resolves webhook orders — which
/// follows from where the inventory is, not from who registered it.
async fn open_database(config: &StoreConfig) -> anyhow::Result<Db> {
    let db = Db::connect(&config.database_url, &MIGRATIONS)
        .await
        .context("opening the store database")?;
    if config.seed_catalog {
        seed::catalog(&db).await.context("seeding the catalog")?;
    }
    api_keys::accept(&db, &config.store_api_key, config.clock.now()).await?;
    resolver::record_roles(&db, &ResolverUrl::of_inventory(&config.inventory_url)).await?;
    Ok(db)
}

/// The background workers: the webhook dispatcher, the compensation
/// worker (voids, and api orders a crashed store abandoned), and the
/// renewer of this process's leases.
fn start_workers(service: &Service, state: &web::Data<AppState>) {
    let webhooks = state.webhooks.clone();
    service.spawn_worker(
        OutboxDispatcher::new(webhooks.clone()),
        OutboxDispatcher::pacing(&webhooks),
    );
    service.spawn_worker(
        CompensationWorker::new(state.api.clone()),
        CompensationWorker::pacing(&state.api),
    );
    let renewer = LeaseRenewer::new(
        state.ctx.db.clone(),
        state.ctx.clock.clone(),
        vec![webhooks.dispatch.leases().clone(), state.api.leases.clone()],
    );
    let pacing = renewer.pacing();
    service.spawn_worker(renewer, pacing);
}

impl Application {
    /// Opens the database, puts the patterns' machinery together, binds the
    /// port and starts the background workers.
    pub async fn build(config: StoreConfig) -> anyhow::Result<Application> {
        let mut registry = Registry::with_prefix("pushpull");
        let http_metrics = HttpMetrics::register(&mut registry);
        let db = open_database(&config).await?;
        let owner = contract::DispatcherId::new().to_string();
        let ctx = Context {
            feed_bell: FeedBell::new(&owner),
            known_keys: KnownKeys::default(),
            inbound: Arc::new(GroupCommit::new(InboundLog::new(db.clone()))),
            order_reads: Arc::new(GroupCommit::new(OrderReads::new(db.clone()))),
            db,
            clock: config.clock.clone(),
            live: LiveHub::new(),
            metrics: StoreMetrics::register(&mut registry),
            config: Arc::new(config.clone()),
        };
        if let Some(mode) = config.mode {
            integration::set_mode(&ctx.db, &ctx.live, mode, ctx.clock.now()).await?;
        }
        // This process's name in every lease it takes: deliveries it sends,
        // api calls it makes.
        let webhooks = Arc::new(Webhooks::new(ctx.clone(), &owner)?);
        let api = Arc::new(ApiCalls::new(ctx.clone(), &owner)?);
        let state = web::Data::new(AppState {
            checkout: Checkout::new(ctx.clone(), webhooks.clone(), api.clone()),
            webhooks,
            api,
            registry: Arc::new(registry),
            ctx,
        });

        let listener = platform::server::bind(&config.bind, config.port)
            .with_context(|| format!("binding the store to {}:{}", config.bind, config.port))?;
        let service = Service::start_app(
            listener,
            config.workers,
            http_metrics,
            ServiceApp {
                state: state.clone(),
                guard: Guard::new(
                    platform::ui::Service::Store,
                    crate::ui::NAV,
                    &config.public_url,
                    &config.inventory_public_url,
                    config.admin_token.clone(),
                ),
                ops: Ops {
                    service: "store",
                    db: state.ctx.db.clone(),
                    live: state.ctx.live.clone(),
                    registry: state.registry.clone(),
                },
            },
            |cfg| {
                openapi::configure(cfg);
                routes::configure(cfg);
                ui::configure(cfg);
                cfg.default_service(actix_web::web::to(ui::not_found));
            },
        )?;
        start_workers(&service, &state);
        if state.ctx.db.backend() == Backend::Postgres {
            // Other store processes' orders wake this one's long polls.
            let listener = FeedListener::connect(&config.database_url, state.ctx.feed_bell.clone())
                .await
                .context("listening for the feed's commits")?;
            service.spawn_worker(
                listener,
                platform::worker::Pacing {
                    clock: state.ctx.clock.clone(),
                    wake: Default::default(),
                    sweep: None,
                },
            );
        }
        tracing::debug!(port = service.port(), config = ?config, "store ready");
        Ok(Application { service, state })
    }

    pub fn port(&self) -> u16 {
        self.service.port()
    }

    pub fn handle(&self) -> AppHandle {
        self.service.handle()
    }

    /// The shared state, for tests that need to look inside.
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.service.run_until_stopped().await
    }
}
