//! The inventory's settings; see `store::config` for how they are layered.

use std::time::Duration;

use platform::{SharedClock, SystemClock};

#[derive(Clone)]
pub struct InventoryConfig {
    pub bind: String,
    /// 0 picks a free port (tests).
    pub port: u16,
    /// `sqlite:data/inventory.db?mode=rwc` or `postgres://…`.
    pub database_url: String,
    /// How the store reaches this inventory: the base of the webhook
    /// receiver URL it registers (`http://inventory:8081` in compose).
    pub url: String,
    /// How a browser reaches this inventory (links in the UI).
    pub public_url: String,
    /// How the inventory reaches the store (subscription, feed, acks).
    pub store_url: String,
    /// How a browser reaches the store.
    pub store_public_url: String,
    /// The key the store must present on `/update_inventory`.
    pub inventory_api_key: String,
    /// The key the inventory presents to the store's feed.
    pub store_api_key: String,
    pub poll: PollSettings,
    /// Register the webhook receiver with the store on start.
    pub subscribe: bool,
    /// The body format asked for when subscribing: `json` or `xml`.
    pub webhook_format: String,
    /// How far a webhook's timestamp may be from our clock.
    pub webhook_tolerance: Duration,
    pub workers: Option<usize>,
    /// Seed the demo stock into an empty database.
    pub seed_stock: bool,
    pub clock: SharedClock,
}

#[derive(Clone, Debug)]
pub struct PollSettings {
    /// Time between polls of the store's feed.
    pub interval: Duration,
    /// Start paused (resumable from the UI or `PUT /api/poller`).
    pub paused: bool,
    /// Orders per feed request.
    pub page_size: u32,
    /// Longest pause between polls while the store is unreachable.
    pub max_backoff: Duration,
}

impl Default for PollSettings {
    fn default() -> Self {
        PollSettings {
            interval: Duration::from_secs(5),
            paused: false,
            page_size: 50,
            max_backoff: Duration::from_secs(60),
        }
    }
}

pub const DEFAULT_PORT: u16 = 8081;
pub const DEFAULT_DATABASE_URL: &str = "sqlite:data/inventory.db?mode=rwc";

impl Default for InventoryConfig {
    fn default() -> Self {
        InventoryConfig {
            bind: "127.0.0.1".into(),
            port: DEFAULT_PORT,
            database_url: DEFAULT_DATABASE_URL.into(),
            url: format!("http://127.0.0.1:{DEFAULT_PORT}"),
            public_url: format!("http://127.0.0.1:{DEFAULT_PORT}"),
            store_url: "http://127.0.0.1:8080".into(),
            store_public_url: "http://127.0.0.1:8080".into(),
            inventory_api_key: "pp_demo_inventory_key_change_me".into(),
            store_api_key: "pp_demo_store_key_change_me".into(),
            poll: PollSettings::default(),
            subscribe: true,
            webhook_format: "json".into(),
            webhook_tolerance: Duration::from_secs(
                contract::signing::DEFAULT_TOLERANCE_SECONDS as u64,
            ),
            workers: None,
            seed_stock: true,
            clock: SystemClock::shared(),
        }
    }
}

impl std::fmt::Debug for InventoryConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InventoryConfig")
            .field("bind", &self.bind)
            .field("port", &self.port)
            .field(
                "database_url",
                &platform::db::redact_url(&self.database_url),
            )
            .field("url", &self.url)
            .field("store_url", &self.store_url)
            .field("poll", &self.poll)
            .field("subscribe", &self.subscribe)
            .finish_non_exhaustive()
    }
}
