//! The store's settings. Every field has a default that makes
//! `cargo run` work on a fresh machine; the launcher (`crates/pushpull`)
//! layers environment variables and flags on top with clap, and tests build
//! a config in code (port 0, a fresh database, a manual clock).

use std::time::Duration;

use contract::IntegrationMode;
use platform::{SharedClock, SystemClock};

use crate::integration::retry::RetrySchedule;

#[derive(Clone)]
pub struct StoreConfig {
    /// Address to bind (`127.0.0.1`; `0.0.0.0` in a container).
    pub bind: String,
    /// Port to bind; 0 picks a free one (tests).
    pub port: u16,
    /// `sqlite:data/store.db?mode=rwc` or `postgres://…`.
    pub database_url: String,
    /// How a browser reaches this store (links in the UI).
    pub public_url: String,
    /// How the store reaches the inventory (api calls, voids).
    pub inventory_url: String,
    /// How a browser reaches the inventory (links in the UI).
    pub inventory_public_url: String,
    /// The key the store presents to the inventory's `/update_inventory`.
    pub inventory_api_key: String,
    /// The key the store accepts on its pull feed and acknowledgements.
    pub store_api_key: String,
    /// The integration mode to set at start; `None` keeps the stored one
    /// (webhook on a fresh database). Switchable at run time either way.
    pub mode: Option<IntegrationMode>,
    pub webhook: WebhookSettings,
    pub api: ApiCallSettings,
    /// HTTP worker threads; `None` = one per core.
    pub workers: Option<usize>,
    /// Seed the demo catalog into an empty database.
    pub seed_catalog: bool,
    /// The source of time for schedules and timestamps.
    pub clock: SharedClock,
}

#[derive(Clone, Debug)]
pub struct WebhookSettings {
    /// Delays between attempts; after the last one fails the message is
    /// marked failed (and can be redelivered by hand).
    pub retry_schedule: RetrySchedule,
    /// Random extra delay, as a fraction of each delay (0.2 = up to +20 %),
    /// so that many failed deliveries do not retry in lock-step.
    pub jitter: f64,
    /// Per-attempt request timeout.
    pub timeout: Duration,
    /// Deliveries in flight at once, across all endpoints.
    pub max_in_flight: usize,
    /// Hosts an endpoint URL may point at (`*` allows any). See
    /// `integration::endpoints` for why a real deployment keeps this tight.
    pub allowed_hosts: Vec<String>,
    /// How often the dispatcher looks for due work even if nothing woke it
    /// (the safety net behind the in-process notification).
    pub sweep_interval: Duration,
}

#[derive(Clone, Debug)]
pub struct ApiCallSettings {
    /// Timeout of one `/update_inventory` call.
    pub timeout: Duration,
    /// Extra attempts after the first, under the same idempotency key.
    pub retries: u32,
    /// Pause before the first retry; doubled for each further one.
    pub retry_backoff: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            retry_schedule: RetrySchedule::demo_default(),
            jitter: 0.2,
            timeout: Duration::from_secs(10),
            max_in_flight: 16,
            allowed_hosts: vec![
                "localhost".into(),
                "127.0.0.1".into(),
                "::1".into(),
                "inventory".into(),
            ],
            sweep_interval: Duration::from_secs(5),
        }
    }
}

impl Default for ApiCallSettings {
    fn default() -> Self {
        ApiCallSettings {
            timeout: Duration::from_secs(3),
            retries: 2,
            retry_backoff: Duration::from_millis(200),
        }
    }
}

pub const DEFAULT_PORT: u16 = 8080;
pub const DEFAULT_DATABASE_URL: &str = "sqlite:data/store.db?mode=rwc";
/// Demo keys, so `cargo run` works with no set-up. Anything reachable by
/// others must set its own (`STORE_API_KEY`, `INVENTORY_API_KEY`).
pub const DEMO_STORE_API_KEY: &str = "pp_demo_store_key_change_me";
pub const DEMO_INVENTORY_API_KEY: &str = "pp_demo_inventory_key_change_me";

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            bind: "127.0.0.1".into(),
            port: DEFAULT_PORT,
            database_url: DEFAULT_DATABASE_URL.into(),
            public_url: format!("http://127.0.0.1:{DEFAULT_PORT}"),
            inventory_url: "http://127.0.0.1:8081".into(),
            inventory_public_url: "http://127.0.0.1:8081".into(),
            inventory_api_key: DEMO_INVENTORY_API_KEY.into(),
            store_api_key: DEMO_STORE_API_KEY.into(),
            mode: None,
            webhook: WebhookSettings::default(),
            api: ApiCallSettings::default(),
            workers: None,
            seed_catalog: true,
            clock: SystemClock::shared(),
        }
    }
}

impl std::fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keys are redacted: configs end up in logs.
        f.debug_struct("StoreConfig")
            .field("bind", &self.bind)
            .field("port", &self.port)
            .field(
                "database_url",
                &platform::db::redact_url(&self.database_url),
            )
            .field("public_url", &self.public_url)
            .field("inventory_url", &self.inventory_url)
            .field("mode", &self.mode)
            .field("webhook", &self.webhook)
            .field("api", &self.api)
            .finish_non_exhaustive()
    }
}
