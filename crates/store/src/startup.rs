//! Building and running the store: `Application::build(config)` connects
//! the database, seeds it, binds the port, starts the background workers
//! (the webhook dispatcher and the compensation worker) and returns;
//! `run_until_stopped()` serves until stopped, then lets the workers finish
//! what they hold. Tests call `build` with port 0 and a fresh database; the
//! launcher calls it with the configured ones.

use std::sync::Arc;

use actix_web::web;
use anyhow::Context;
use prometheus_client::registry::Registry;
use tokio::sync::Notify;

use platform::LiveHub;
use platform::db::Db;
use platform::group_commit::GroupCommit;
use platform::guard::Guard;
use platform::lease::{LeaseRenewer, Leases};
use platform::metrics::HttpMetrics;
use platform::server::{Ops, Service, ServiceApp, ServiceHandle};
use sqlx::migrate::Migrator;

use crate::checkout::Placements;
use crate::config::StoreConfig;
use crate::integration::api::Answers;
use crate::integration::api::CALL_LEASES;
use crate::integration::compensation::CompensationWorker;
use crate::integration::webhook::destination::Destinations;
use crate::integration::webhook::dispatcher::DELIVERY_LEASES;
use crate::integration::webhook::endpoints::{self, ResolverUrl};
use crate::integration::webhook::recorder::Recorder;
use crate::integration::webhook::targets::Targets;
use crate::integration::webhook::{Dispatch, OutboxDispatcher};
use crate::state::{AppState, StoreMetrics};
use crate::{api_keys, integration, routes, seed};

/// The store's schema: one folder of portable SQL, embedded in the binary
/// and run at start-up on either backend.
pub static MIGRATIONS: Migrator = sqlx::sqlx_macros::migrate!("../../migrations/store");

pub struct Application {
    service: Service,
    state: web::Data<AppState>,
}

/// Stops a running store from outside (the launcher on Ctrl-C, tests).
pub type AppHandle = ServiceHandle;

impl Application {
    pub async fn build(config: StoreConfig) -> anyhow::Result<Application> {
        let db = Db::connect(&config.database_url, &MIGRATIONS)
            .await
            .context("opening the store database")?;
        let clock = config.clock.clone();
        let live = LiveHub::new();
        let now = clock.now();
        if config.seed_catalog {
            seed::catalog(&db).await.context("seeding the catalog")?;
        }
        api_keys::accept(&db, &config.store_api_key, now).await?;
        // Which endpoint resolves webhook orders follows from where the
        // inventory is, not from who registered it.
        let resolver = ResolverUrl::of_inventory(&config.inventory_url);
        endpoints::record_roles(&db, &resolver).await?;
        if let Some(mode) = config.mode {
            integration::set_mode(&db, &live, mode, now).await?;
        }

        let listener = platform::server::bind(&config.bind, config.port)
            .with_context(|| format!("binding the store to {}:{}", config.bind, config.port))?;

        let mut registry = Registry::with_prefix("pushpull");
        let http_metrics = HttpMetrics::register(&mut registry);
        let metrics = StoreMetrics::register(&mut registry);

        let outbound = |timeout| {
            reqwest::Client::builder()
                .timeout(timeout)
                .connect_timeout(timeout.min(std::time::Duration::from_secs(3)))
                // Never follow a redirect: see integration::webhook::destination.
                .redirect(reqwest::redirect::Policy::none())
                .build()
        };
        // This process's name in every lease it takes: deliveries it sends,
        // api calls it makes.
        let owner = contract::DispatcherId::new().to_string();
        let delivery_leases = Leases::new(DELIVERY_LEASES, owner.clone(), config.lease_term);
        let api_calls = Leases::new(CALL_LEASES, owner.clone(), config.lease_term);
        let dispatcher_wake = Arc::new(Notify::new());
        let dispatch = Arc::new(Dispatch::new(
            delivery_leases.clone(),
            config.webhook.max_in_flight,
            config.webhook.max_in_flight_per_endpoint,
            dispatcher_wake.clone(),
        ));
        let state = web::Data::new(AppState {
            placements: GroupCommit::new(Placements::new(
                db.clone(),
                clock.clone(),
                dispatch.clone(),
                api_calls.clone(),
            )),
            webhook_recorder: GroupCommit::new(Recorder::new(db.clone(), clock.clone(), owner)),
            api_calls: api_calls.clone(),
            webhook_targets: Targets::new(resolver.clone()),
            webhook_resolver: resolver,
            api_results: GroupCommit::new(Answers::new(db.clone(), clock.clone())),
            dispatch,
            db,
            clock,
            live,
            api_client: outbound(config.api.timeout)?,
            // Where webhooks go is other people's input: every address a
            // name resolves to is checked when it is connected to
            // (`integration::webhook::destination`), and no proxy from the
            // environment gets a say.
            webhook_client: reqwest::Client::builder()
                .timeout(config.webhook.timeout)
                .connect_timeout(
                    config
                        .webhook
                        .timeout
                        .min(std::time::Duration::from_secs(3)),
                )
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .dns_resolver(Destinations::new(&config.webhook.allowed_hosts))
                .build()?,
            dispatcher_wake,
            compensation_wake: Arc::new(Notify::new()),
            metrics,
            registry: Arc::new(registry),
            config: Arc::new(config.clone()),
        });

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
                    db: state.db.clone(),
                    live: state.live.clone(),
                    registry: state.registry.clone(),
                },
            },
            routes::configure,
        )?;

        let shared: Arc<AppState> = state.clone().into_inner();
        service.spawn_worker(
            OutboxDispatcher::new(shared.clone()),
            OutboxDispatcher::pacing(&shared),
        );
        service.spawn_worker(
            CompensationWorker::new(shared.clone()),
            CompensationWorker::pacing(&shared),
        );
        let renewer = LeaseRenewer::new(
            shared.db.clone(),
            shared.clock.clone(),
            vec![delivery_leases, api_calls],
        );
        let pacing = renewer.pacing();
        service.spawn_worker(renewer, pacing);
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
