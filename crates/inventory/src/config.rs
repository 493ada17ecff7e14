//! The inventory's settings, layered the zero2prod way: every setting has a
//! default that works on a fresh machine, an environment variable, and a
//! flag (flags win over variables, variables over defaults).
//!
//! The defaults are written **once**, as clap's: [`InventoryArgs`] declares
//! each flag with its variable and default, and [`InventoryConfig::default`]
//! is what that declaration yields for an empty command line (with the
//! variables ignored, so a test's defaults never depend on the shell it runs
//! in). The launcher (`crates/pushpull`) flattens [`InventoryArgs`] into its
//! command line; tests build an [`InventoryConfig`] in code (port 0, a fresh
//! database, a manual clock).
//!
//! The settings both services read — where each reaches the other, where a
//! browser reaches each, the two API keys — belong to the launcher, which
//! knows both; here they default to the demo's (`contract::demo`).

use std::time::Duration;

use clap::Args;
use secrecy::SecretString;

use contract::Format;
use contract::demo::{DEMO_INVENTORY_API_KEY, DEMO_STORE_API_KEY, INVENTORY_PORT, STORE_PORT};
use platform::backoff::parse_duration;
use platform::server::local_url;
use platform::{SharedClock, SystemClock};

/// Where the inventory listens and keeps its data unless told otherwise.
pub const DEFAULT_PORT: u16 = INVENTORY_PORT;
pub const DEFAULT_DATABASE_URL: &str = "sqlite:data/inventory.db?mode=rwc";

/// The inventory's own flags.
#[derive(Debug, Clone, Args)]
pub struct InventoryArgs {
    #[arg(long, env = "INVENTORY_BIND", default_value = "127.0.0.1")]
    pub inventory_bind: String,
    #[arg(long, env = "INVENTORY_PORT", default_value_t = DEFAULT_PORT)]
    pub inventory_port: u16,
    #[arg(long, env = "INVENTORY_DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub inventory_database_url: String,
    /// Time between polls of the store's order feed (poll mode).
    #[arg(long, env = "POLL_INTERVAL", default_value = "5s", value_parser = parse_duration)]
    pub poll_interval: Duration,
    /// Long polling: hold each empty read of the feed at the store up to
    /// this long (1 s to 30 s, whole seconds) instead of polling on the
    /// interval. Off when unset.
    #[arg(long, env = "POLL_WAIT", value_parser = parse_poll_wait)]
    pub poll_wait: Option<Duration>,
    /// Start with the poller paused.
    #[arg(long, env = "POLL_PAUSED", default_value_t = false, action = clap::ArgAction::Set)]
    pub poll_paused: bool,
    /// Time between hybrid mode's reconciliation reads of the store's feed
    /// (the safety net for lost notices: slow on purpose).
    #[arg(long, env = "RECONCILE_INTERVAL", default_value = "60s", value_parser = parse_duration)]
    pub reconcile_interval: Duration,
    /// Register the inventory's webhook receiver with the store on start.
    #[arg(long, env = "WEBHOOK_SUBSCRIBE", default_value_t = true, action = clap::ArgAction::Set)]
    pub webhook_subscribe: bool,
    /// Body format the inventory asks the store's webhooks to use: json or xml.
    #[arg(long, env = "WEBHOOK_FORMAT", default_value_t = Format::Json, value_parser = parse_format)]
    pub webhook_format: Format,
}

fn parse_format(text: &str) -> Result<Format, String> {
    Format::parse(text).map_err(|e| e.0)
}

impl Default for InventoryArgs {
    /// Every flag at its declared default (the environment ignored).
    fn default() -> InventoryArgs {
        platform::config::declared_defaults()
    }
}

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
    pub inventory_api_key: SecretString,
    /// The key the inventory presents to the store's feed — and when it
    /// subscribes, checks its secret or rotates it. (Its endpoint resolves
    /// webhook orders because of its URL, `url`, which the store knows as
    /// its `INVENTORY_URL`.)
    pub store_api_key: SecretString,
    /// The operator's token (`ADMIN_TOKEN`): when set, management calls
    /// and the forms that change things want it (`platform::guard`).
    pub admin_token: Option<SecretString>,
    pub poll: PollSettings,
    /// Hybrid mode's reconciliation: the poller's machinery, its own pace.
    pub reconcile: PollSettings,
    /// Register the webhook receiver with the store on start.
    pub subscribe: bool,
    /// The body format asked for when subscribing.
    pub webhook_format: Format,
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
    /// Long polling: how long the store may hold an empty read
    /// (`POLL_WAIT`); `None` polls on the interval.
    pub wait: Option<Duration>,
}

/// The longest `POLL_WAIT` the store accepts.
pub const MAX_POLL_WAIT: Duration = Duration::from_secs(30);

/// `POLL_WAIT`: a duration of 1 to 30 whole seconds (the store's `wait`
/// is in seconds).
fn parse_poll_wait(text: &str) -> Result<Duration, String> {
    let wait = parse_duration(text)?;
    if wait < Duration::from_secs(1) || wait > MAX_POLL_WAIT || wait.subsec_nanos() != 0 {
        return Err(format!(
            "`{}`: a long poll waits 1 to 30 whole seconds",
            text.trim()
        ));
    }
    Ok(wait)
}

impl PollSettings {
    /// The poller's part of the flags; the rest are fixed.
    pub fn from_args(args: &InventoryArgs) -> PollSettings {
        PollSettings {
            interval: args.poll_interval,
            paused: args.poll_paused,
            page_size: 50,
            max_backoff: Duration::from_secs(60),
            wait: args.poll_wait,
        }
    }
}

impl PollSettings {
    /// Hybrid's reconciliation: `RECONCILE_INTERVAL`, never paused at start.
    pub fn reconciliation(args: &InventoryArgs) -> PollSettings {
        PollSettings {
            interval: args.reconcile_interval,
            paused: false,
            // The safety net reads rarely, on purpose: never held.
            wait: None,
            ..PollSettings::from_args(args)
        }
    }
}

impl Default for PollSettings {
    fn default() -> Self {
        PollSettings::from_args(&InventoryArgs::default())
    }
}

impl InventoryConfig {
    /// The settings the flags give, with the inventory's own address
    /// derived from its bind address and port; the addresses of the store
    /// and the API keys are the demo's until the launcher sets them.
    pub fn from_args(args: &InventoryArgs) -> InventoryConfig {
        let url = local_url(&args.inventory_bind, args.inventory_port);
        let store_url = local_url("127.0.0.1", STORE_PORT);
        InventoryConfig {
            bind: args.inventory_bind.clone(),
            port: args.inventory_port,
            database_url: args.inventory_database_url.clone(),
            public_url: url.clone(),
            url,
            store_public_url: store_url.clone(),
            store_url,
            inventory_api_key: DEMO_INVENTORY_API_KEY.into(),
            store_api_key: DEMO_STORE_API_KEY.into(),
            admin_token: None,
            poll: PollSettings::from_args(args),
            reconcile: PollSettings::reconciliation(args),
            subscribe: args.webhook_subscribe,
            webhook_format: args.webhook_format,
            webhook_tolerance: Duration::from_secs(
                contract::signing::DEFAULT_TOLERANCE_SECONDS as u64,
            ),
            workers: None,
            seed_stock: true,
            clock: SystemClock::shared(),
        }
    }
}

impl Default for InventoryConfig {
    fn default() -> Self {
        InventoryConfig::from_args(&InventoryArgs::default())
    }
}

impl std::fmt::Debug for InventoryConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keys are left out: configs end up in logs.
        f.debug_struct("InventoryConfig")
            .field("bind", &self.bind)
            .field("port", &self.port)
            .field("database_url", &platform::redact::url(&self.database_url))
            .field("url", &self.url)
            .field("store_url", &self.store_url)
            .field("poll", &self.poll)
            .field("reconcile", &self.reconcile)
            .field("subscribe", &self.subscribe)
            .field("webhook_format", &self.webhook_format)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::FromArgMatches;
    use secrecy::ExposeSecret;

    #[test]
    fn the_defaults_are_the_flags_defaults() {
        let c = InventoryConfig::default();
        assert_eq!(c.bind, "127.0.0.1");
        assert_eq!(c.port, 8081);
        assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(c.url, "http://127.0.0.1:8081");
        assert_eq!(c.public_url, c.url);
        assert_eq!(c.store_url, "http://127.0.0.1:8080");
        assert_eq!(c.inventory_api_key.expose_secret(), DEMO_INVENTORY_API_KEY);
        assert_eq!(c.store_api_key.expose_secret(), DEMO_STORE_API_KEY);
        assert_eq!(c.poll.interval, Duration::from_secs(5));
        assert!(!c.poll.paused);
        assert!(c.subscribe);
        assert_eq!(c.webhook_format, Format::Json);
        assert_eq!(c.webhook_tolerance, Duration::from_secs(300));
    }

    /// The flags as the command line gives them (the environment ignored,
    /// so a variable set where the tests run changes nothing).
    fn parse(argv: &[&str]) -> Result<InventoryArgs, clap::Error> {
        let command = InventoryArgs::augment_args(clap::Command::new("inventory"))
            .mut_args(|arg| arg.env(None::<&str>));
        command
            .try_get_matches_from(argv)
            .and_then(|m| InventoryArgs::from_arg_matches(&m))
    }

    #[test]
    fn flags_are_read_with_their_types() {
        let args = parse(&[
            "inventory",
            "--inventory-bind",
            "0.0.0.0",
            "--inventory-port",
            "9001",
            "--poll-interval",
            "250ms",
            "--webhook-format",
            "XML",
            "--webhook-subscribe",
            "false",
        ])
        .unwrap();
        let c = InventoryConfig::from_args(&args);
        assert_eq!(c.url, "http://127.0.0.1:9001");
        assert_eq!(c.poll.interval, Duration::from_millis(250));
        assert_eq!(c.webhook_format, Format::Xml);
        assert!(!c.subscribe);
        assert!(parse(&["inventory", "--webhook-format", "yaml"]).is_err());
        assert!(parse(&["inventory", "--poll-interval", "soon"]).is_err());
    }

    #[test]
    fn a_long_poll_waits_1_to_30_whole_seconds() {
        let c = InventoryConfig::from_args(&parse(&["inventory"]).unwrap());
        assert_eq!(c.poll.wait, None, "off unless asked for");
        let c = InventoryConfig::from_args(&parse(&["inventory", "--poll-wait", "20s"]).unwrap());
        assert_eq!(c.poll.wait, Some(Duration::from_secs(20)));
        assert_eq!(c.reconcile.wait, None);
        for bad in ["31s", "500ms", "1.5s", "0s", "soon"] {
            assert!(parse(&["inventory", "--poll-wait", bad]).is_err(), "{bad}");
        }
    }
}
