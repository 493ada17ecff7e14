//! The store's settings, and the command line they come from.
//!
//! [`StoreArgs`] is the store's part of the launcher's command line
//! (`crates/pushpull`): every setting a flag, an environment variable and a
//! default, layered the zero2prod way (flags win over variables, variables
//! over defaults), with durations written as people write them (`10s`,
//! `2m`, via humantime). Those clap defaults are the *only* copy of each
//! default: [`StoreConfig::default()`], [`WebhookSettings::default()`] and
//! [`ApiCallSettings::default()`] are read from an empty command line with
//! the environment switched off (`platform::config::declared_defaults`), so a test's
//! defaults are the shipped ones and never depend on the machine's
//! environment. Tests then adjust a config in code (port 0, a fresh
//! database, a manual clock).
//!
//! The two API keys and the operator's token are held as
//! `secrecy::SecretString`: they print as
//! `[REDACTED]` wherever a config is logged, and are exposed only where a
//! request is sent or a key hashed.

use std::time::Duration;

use clap::Args;
use secrecy::SecretString;

use contract::IntegrationMode;
use platform::backoff::parse_duration;
use platform::server::local_url;
use platform::{Backoff, SharedClock, SystemClock};

pub use contract::demo::{DEMO_INVENTORY_API_KEY, DEMO_STORE_API_KEY};

/// Where the store listens unless told otherwise.
pub const DEFAULT_PORT: u16 = contract::demo::STORE_PORT;
pub const DEFAULT_DATABASE_URL: &str = "sqlite:data/store.db?mode=rwc";

/// How often background workers look for due work even if nothing woke
/// them (the safety net behind the in-process notification).
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(5);

/// The pause before the first retry of an `/update_inventory` call, doubled
/// for each further one, and the most it may grow to: the customer is
/// waiting.
pub const API_FIRST_RETRY: Duration = Duration::from_millis(200);
pub const API_LONGEST_RETRY: Duration = Duration::from_secs(5);

/// The store's flags (and environment variables), with their defaults.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    #[arg(long, env = "STORE_BIND", default_value = "127.0.0.1")]
    pub store_bind: String,
    #[arg(long, env = "STORE_PORT", default_value_t = DEFAULT_PORT)]
    pub store_port: u16,
    #[arg(long, env = "STORE_DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub store_database_url: String,
    /// Integration mode to set at start: webhook, api or poll [default: keep the stored one; webhook on a fresh database]
    #[arg(long, env = "INTEGRATION_MODE", value_parser = parse_mode)]
    pub integration_mode: Option<IntegrationMode>,
    /// Delays between webhook attempts; after the last, the message is failed.
    #[arg(long, env = "WEBHOOK_RETRY_SCHEDULE", default_value = "1s,5s,30s,2m,10m", value_parser = parse_schedule)]
    pub webhook_retry_schedule: Backoff,
    /// Random extra delay per retry, as a fraction of the delay.
    #[arg(long, env = "WEBHOOK_JITTER", default_value_t = 0.2)]
    pub webhook_jitter: f64,
    /// Timeout of one webhook attempt.
    #[arg(long, env = "WEBHOOK_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub webhook_timeout: Duration,
    /// Webhook attempts in flight at once, all endpoints together.
    #[arg(long, env = "WEBHOOK_MAX_IN_FLIGHT", default_value_t = 256)]
    pub webhook_max_in_flight: usize,
    /// Webhook attempts in flight at once to any one endpoint (a slow endpoint fills its own share, no more).
    #[arg(long, env = "WEBHOOK_MAX_IN_FLIGHT_PER_ENDPOINT", default_value_t = 16)]
    pub webhook_max_in_flight_per_endpoint: usize,
    /// Hosts webhook endpoints may point at (comma-separated; * = any).
    #[arg(
        long,
        env = "WEBHOOK_ALLOWED_HOSTS",
        default_value = "localhost,127.0.0.1,::1,inventory",
        value_delimiter = ','
    )]
    pub webhook_allowed_hosts: Vec<String>,
    /// Timeout of one /update_inventory call (api mode).
    #[arg(long, env = "API_TIMEOUT", default_value = "3s", value_parser = parse_duration)]
    pub api_timeout: Duration,
    /// Retries of /update_inventory after the first attempt, same Idempotency-Key.
    #[arg(long, env = "API_RETRIES", default_value_t = 2)]
    pub api_retries: u32,
}

fn parse_mode(text: &str) -> Result<IntegrationMode, String> {
    IntegrationMode::parse(text).map_err(|e| e.0)
}

fn parse_schedule(text: &str) -> Result<Backoff, String> {
    text.parse()
}

impl Default for StoreArgs {
    /// Every flag at its declared default (the environment ignored).
    fn default() -> StoreArgs {
        platform::config::declared_defaults()
    }
}

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
    pub inventory_api_key: SecretString,
    /// The key the store accepts on its pull feed and acknowledgements —
    /// and from the inventory managing its webhook subscription (register,
    /// read its endpoint, rotate its secret). It makes no endpoint the
    /// resolver of webhook orders: `inventory_url` does.
    pub store_api_key: SecretString,
    /// The operator's token (`ADMIN_TOKEN`): when set, management calls
    /// and the forms that change things want it (`platform::guard`); when
    /// `None`, everyone who can reach the store is the operator.
    pub admin_token: Option<SecretString>,
    /// The integration mode to set at start; `None` keeps the stored one
    /// (webhook on a fresh database). Switchable at run time either way.
    pub mode: Option<IntegrationMode>,
    pub webhook: WebhookSettings,
    pub api: ApiCallSettings,
    /// HTTP worker threads; `None` = one per core.
    pub workers: Option<usize>,
    /// Seed the demo catalog into an empty database.
    pub seed_catalog: bool,
    /// How long this process's leases (deliveries being sent, api calls
    /// being made) last unless renewed: how soon a crashed store's work is
    /// taken over (`platform::lease`).
    pub lease_term: Duration,
    /// The source of time for schedules and timestamps.
    pub clock: SharedClock,
}

#[derive(Clone, Debug)]
pub struct WebhookSettings {
    /// Delays between attempts; after the last one fails the message is
    /// marked failed (and can be redelivered by hand).
    pub retry_schedule: Backoff,
    /// Random extra delay, as a fraction of each delay (0.2 = up to +20 %),
    /// so that many failed deliveries do not retry in lock-step.
    pub jitter: f64,
    /// Per-attempt request timeout.
    pub timeout: Duration,
    /// Deliveries in flight at once, across all endpoints.
    pub max_in_flight: usize,
    /// Deliveries in flight at once to one endpoint: what a slow endpoint
    /// can tie up (see `integration::webhook::dispatcher`).
    pub max_in_flight_per_endpoint: usize,
    /// Hosts an endpoint URL may point at (`*` allows any). See
    /// `integration::webhook::destination` for why a real deployment keeps
    /// this tight.
    pub allowed_hosts: Vec<String>,
    /// How often the dispatcher (and the compensation worker) look for due
    /// work even if nothing woke them.
    pub sweep_interval: Duration,
}

#[derive(Clone, Debug)]
pub struct ApiCallSettings {
    /// Timeout of one `/update_inventory` call.
    pub timeout: Duration,
    /// The pauses between attempts under the same idempotency key, and how
    /// many retries there are.
    pub backoff: Backoff,
}

impl WebhookSettings {
    pub fn from_args(args: &StoreArgs) -> WebhookSettings {
        WebhookSettings {
            retry_schedule: args.webhook_retry_schedule.clone(),
            jitter: args.webhook_jitter,
            timeout: args.webhook_timeout,
            max_in_flight: args.webhook_max_in_flight,
            max_in_flight_per_endpoint: args.webhook_max_in_flight_per_endpoint,
            allowed_hosts: args
                .webhook_allowed_hosts
                .iter()
                .map(|h| h.trim().to_owned())
                .collect(),
            sweep_interval: SWEEP_INTERVAL,
        }
    }
}

impl ApiCallSettings {
    pub fn from_args(args: &StoreArgs) -> ApiCallSettings {
        ApiCallSettings {
            timeout: args.api_timeout,
            backoff: Backoff::exponential(API_FIRST_RETRY, API_LONGEST_RETRY)
                .limited_to(args.api_retries),
        }
    }
}

impl StoreConfig {
    /// The store the flags describe, with the demo keys, its public URL
    /// following its address, and the inventory where the demo runs it;
    /// the launcher then sets where the inventory is and the keys.
    pub fn from_args(args: &StoreArgs) -> StoreConfig {
        let inventory_url = local_url("127.0.0.1", contract::demo::INVENTORY_PORT);
        StoreConfig {
            bind: args.store_bind.clone(),
            port: args.store_port,
            database_url: args.store_database_url.clone(),
            public_url: local_url(&args.store_bind, args.store_port),
            inventory_public_url: inventory_url.clone(),
            inventory_url,
            inventory_api_key: DEMO_INVENTORY_API_KEY.into(),
            store_api_key: DEMO_STORE_API_KEY.into(),
            admin_token: None,
            mode: args.integration_mode,
            webhook: WebhookSettings::from_args(args),
            api: ApiCallSettings::from_args(args),
            workers: None,
            seed_catalog: true,
            lease_term: platform::lease::DEFAULT_TERM,
            clock: SystemClock::shared(),
        }
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig::from_args(&StoreArgs::default())
    }
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings::from_args(&StoreArgs::default())
    }
}

impl Default for ApiCallSettings {
    fn default() -> Self {
        ApiCallSettings::from_args(&StoreArgs::default())
    }
}

impl std::fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Configs end up in logs: the keys print redacted, the database
        // URL without its password.
        f.debug_struct("StoreConfig")
            .field("bind", &self.bind)
            .field("port", &self.port)
            .field("database_url", &platform::redact::url(&self.database_url))
            .field("public_url", &self.public_url)
            .field("inventory_url", &self.inventory_url)
            .field("inventory_api_key", &self.inventory_api_key)
            .field("store_api_key", &self.store_api_key)
            .field("admin_token", &self.admin_token)
            .field("mode", &self.mode)
            .field("webhook", &self.webhook)
            .field("api", &self.api)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use clap::FromArgMatches;
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn the_defaults_are_the_command_lines() {
        let c = StoreConfig::default();
        assert_eq!(c.port, 8080);
        assert_eq!(c.public_url, "http://127.0.0.1:8080");
        assert_eq!(c.inventory_url, "http://127.0.0.1:8081");
        assert_eq!(c.database_url, "sqlite:data/store.db?mode=rwc");
        assert_eq!(c.webhook.retry_schedule.to_string(), "1s,5s,30s,2m,10m");
        assert_eq!(c.webhook.timeout, Duration::from_secs(10));
        assert_eq!(
            c.webhook.allowed_hosts,
            ["localhost", "127.0.0.1", "::1", "inventory"]
        );
        assert_eq!(c.api.timeout, Duration::from_secs(3));
        // 200 ms, then 400 ms, then the order is rejected.
        assert_eq!(c.api.backoff.max_attempts(), Some(3));
        assert_eq!(c.api.backoff.total(), Some(Duration::from_millis(600)));
        assert_eq!(c.store_api_key.expose_secret(), DEMO_STORE_API_KEY);
    }

    #[test]
    fn flags_change_what_they_name() {
        let command = StoreArgs::augment_args(clap::Command::new("store"))
            .mut_args(|arg| arg.env(None::<&str>));
        let matches = command
            .try_get_matches_from([
                "store",
                "--store-bind",
                "0.0.0.0",
                "--store-port",
                "9000",
                "--webhook-retry-schedule",
                "250ms,1s",
                "--api-retries",
                "0",
                "--integration-mode",
                "POLL",
            ])
            .unwrap();
        let c = StoreConfig::from_args(&StoreArgs::from_arg_matches(&matches).unwrap());
        assert_eq!(c.public_url, "http://127.0.0.1:9000");
        assert_eq!(c.webhook.retry_schedule.max_attempts(), Some(3));
        assert_eq!(c.api.backoff.max_attempts(), Some(1));
        assert_eq!(c.mode, Some(IntegrationMode::Poll));
    }

    #[test]
    fn keys_stay_out_of_logs() {
        let printed = format!("{:?}", StoreConfig::default());
        assert!(!printed.contains(DEMO_STORE_API_KEY), "{printed}");
        assert!(!printed.contains(DEMO_INVENTORY_API_KEY), "{printed}");
    }
}
