//! Command-line and environment configuration, layered the zero2prod way:
//! every setting has a default that works on a fresh machine, an
//! environment variable, and a flag (flags win over variables, variables
//! over defaults). `pushpull --help` lists them all; the README has the
//! table.

use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use contract::IntegrationMode;
use platform::backoff::{Backoff as RetrySchedule, parse_duration};

#[derive(Debug, Parser)]
#[command(
    name = "pushpull",
    version,
    about = "A store and an inventory that integrate by push (webhooks) or pull (API calls, polling) — for real, live.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// With no subcommand: the demo (both services in one process).
    #[command(flatten)]
    pub demo: DemoArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Both services in one process (the default).
    Demo(DemoArgs),
    /// The store alone (one container of `docker compose`).
    Store {
        #[command(flatten)]
        shared: SharedArgs,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// The inventory alone.
    Inventory {
        #[command(flatten)]
        shared: SharedArgs,
        #[command(flatten)]
        inventory: InventoryArgs,
    },
    /// Measures each mode against the floor and writes BENCHMARKS.md.
    Bench(crate::bench::BenchArgs),
    /// One hop of the bench's floor (started by `pushpull bench`).
    #[command(hide = true)]
    FloorHop(crate::bench::floor::FloorHopArgs),
    /// Exits 0 if the URL answers 2xx within two seconds (for container
    /// health checks, so images need no curl).
    Healthcheck {
        #[arg(
            long,
            env = "HEALTHCHECK_URL",
            default_value = "http://127.0.0.1:8080/healthz"
        )]
        url: String,
    },
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub shared: SharedArgs,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub inventory: InventoryArgs,
}

/// Settings both services read: where each reaches the other, where a
/// browser reaches each, and the two API keys.
#[derive(Debug, Clone, Args)]
pub struct SharedArgs {
    /// How the inventory reaches the store [default: http://<store bind>:<store port>]
    #[arg(long, env = "STORE_URL")]
    pub store_url: Option<String>,
    /// How a browser reaches the store [default: STORE_URL]
    #[arg(long, env = "STORE_PUBLIC_URL")]
    pub store_public_url: Option<String>,
    /// How the store reaches the inventory, and the base of the webhook URL
    /// the inventory registers [default: http://<inventory bind>:<inventory port>]
    #[arg(long, env = "INVENTORY_URL")]
    pub inventory_url: Option<String>,
    /// How a browser reaches the inventory [default: INVENTORY_URL]
    #[arg(long, env = "INVENTORY_PUBLIC_URL")]
    pub inventory_public_url: Option<String>,
    /// The key the store accepts on its order feed (the inventory sends it).
    #[arg(long, env = "STORE_API_KEY", default_value = store::config::DEMO_STORE_API_KEY, hide_env_values = true)]
    pub store_api_key: String,
    /// The key the inventory accepts on /update_inventory (the store sends it).
    #[arg(long, env = "INVENTORY_API_KEY", default_value = store::config::DEMO_INVENTORY_API_KEY, hide_env_values = true)]
    pub inventory_api_key: String,
}

#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    #[arg(long, env = "STORE_BIND", default_value = "127.0.0.1")]
    pub store_bind: String,
    #[arg(long, env = "STORE_PORT", default_value_t = store::config::DEFAULT_PORT)]
    pub store_port: u16,
    #[arg(long, env = "STORE_DATABASE_URL", default_value = store::config::DEFAULT_DATABASE_URL)]
    pub store_database_url: String,
    /// Integration mode to set at start: webhook, api or poll [default: keep the stored one; webhook on a fresh database]
    #[arg(long, env = "INTEGRATION_MODE", value_parser = parse_mode)]
    pub integration_mode: Option<IntegrationMode>,
    /// Delays between webhook attempts; after the last, the message is failed.
    #[arg(long, env = "WEBHOOK_RETRY_SCHEDULE", default_value = "1s,5s,30s,2m,10m", value_parser = parse_schedule)]
    pub webhook_retry_schedule: RetrySchedule,
    /// Random extra delay per retry, as a fraction of the delay.
    #[arg(long, env = "WEBHOOK_JITTER", default_value_t = 0.2)]
    pub webhook_jitter: f64,
    /// Timeout of one webhook attempt.
    #[arg(long, env = "WEBHOOK_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub webhook_timeout: Duration,
    /// Webhook attempts in flight at once.
    #[arg(long, env = "WEBHOOK_MAX_IN_FLIGHT", default_value_t = 16)]
    pub webhook_max_in_flight: usize,
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

#[derive(Debug, Clone, Args)]
pub struct InventoryArgs {
    #[arg(long, env = "INVENTORY_BIND", default_value = "127.0.0.1")]
    pub inventory_bind: String,
    #[arg(long, env = "INVENTORY_PORT", default_value_t = inventory::config::DEFAULT_PORT)]
    pub inventory_port: u16,
    #[arg(long, env = "INVENTORY_DATABASE_URL", default_value = inventory::config::DEFAULT_DATABASE_URL)]
    pub inventory_database_url: String,
    /// Time between polls of the store's order feed (poll mode).
    #[arg(long, env = "POLL_INTERVAL", default_value = "5s", value_parser = parse_duration)]
    pub poll_interval: Duration,
    /// Start with the poller paused.
    #[arg(long, env = "POLL_PAUSED", default_value_t = false, action = clap::ArgAction::Set)]
    pub poll_paused: bool,
    /// Register the inventory's webhook receiver with the store on start.
    #[arg(long, env = "WEBHOOK_SUBSCRIBE", default_value_t = true, action = clap::ArgAction::Set)]
    pub webhook_subscribe: bool,
    /// Body format the inventory asks the store's webhooks to use: json or xml.
    #[arg(long, env = "WEBHOOK_FORMAT", default_value = "json", value_parser = ["json", "xml"])]
    pub webhook_format: String,
}

fn parse_mode(text: &str) -> Result<IntegrationMode, String> {
    IntegrationMode::parse(text).map_err(|e| e.0)
}

fn parse_schedule(text: &str) -> Result<RetrySchedule, String> {
    text.parse()
}

/// `http://host:port`, with a wildcard bind address replaced by loopback.
fn local_url(bind: &str, port: u16) -> String {
    let host = match bind {
        "0.0.0.0" | "::" | "[::]" => "127.0.0.1",
        other => other,
    };
    if host.contains(':') {
        format!("http://[{host}]:{port}")
    } else {
        format!("http://{host}:{port}")
    }
}

impl SharedArgs {
    fn store_url(&self, store: Option<&StoreArgs>) -> String {
        self.store_url.clone().unwrap_or_else(|| match store {
            Some(s) => local_url(&s.store_bind, s.store_port),
            None => local_url("127.0.0.1", store::config::DEFAULT_PORT),
        })
    }

    fn inventory_url(&self, inventory: Option<&InventoryArgs>) -> String {
        self.inventory_url
            .clone()
            .unwrap_or_else(|| match inventory {
                Some(i) => local_url(&i.inventory_bind, i.inventory_port),
                None => local_url("127.0.0.1", inventory::config::DEFAULT_PORT),
            })
    }
}

/// The store's configuration from the command line and environment.
pub fn store_config(
    shared: &SharedArgs,
    s: &StoreArgs,
    inventory: Option<&InventoryArgs>,
) -> store::StoreConfig {
    let store_url = shared.store_url(Some(s));
    let inventory_url = shared.inventory_url(inventory);
    store::StoreConfig {
        bind: s.store_bind.clone(),
        port: s.store_port,
        database_url: s.store_database_url.clone(),
        public_url: shared.store_public_url.clone().unwrap_or(store_url),
        inventory_public_url: shared
            .inventory_public_url
            .clone()
            .unwrap_or_else(|| inventory_url.clone()),
        inventory_url,
        inventory_api_key: shared.inventory_api_key.clone().into(),
        store_api_key: shared.store_api_key.clone().into(),
        mode: s.integration_mode,
        webhook: store::config::WebhookSettings {
            retry_schedule: s.webhook_retry_schedule.clone(),
            jitter: s.webhook_jitter,
            timeout: s.webhook_timeout,
            max_in_flight: s.webhook_max_in_flight,
            allowed_hosts: s
                .webhook_allowed_hosts
                .iter()
                .map(|h| h.trim().to_owned())
                .collect(),
            ..Default::default()
        },
        api: store::config::ApiCallSettings {
            timeout: s.api_timeout,
            backoff: store::config::ApiCallSettings::default()
                .backoff
                .limited_to(s.api_retries),
        },
        ..Default::default()
    }
}

/// The inventory's configuration from the command line and environment.
pub fn inventory_config(
    shared: &SharedArgs,
    i: &InventoryArgs,
    store: Option<&StoreArgs>,
) -> inventory::InventoryConfig {
    let url = shared.inventory_url(Some(i));
    let store_url = shared.store_url(store);
    inventory::InventoryConfig {
        bind: i.inventory_bind.clone(),
        port: i.inventory_port,
        database_url: i.inventory_database_url.clone(),
        public_url: shared
            .inventory_public_url
            .clone()
            .unwrap_or_else(|| url.clone()),
        url,
        store_public_url: shared
            .store_public_url
            .clone()
            .unwrap_or_else(|| store_url.clone()),
        store_url,
        inventory_api_key: shared.inventory_api_key.clone().into(),
        store_api_key: shared.store_api_key.clone().into(),
        poll: inventory::config::PollSettings {
            interval: i.poll_interval,
            paused: i.poll_paused,
            ..Default::default()
        },
        subscribe: i.webhook_subscribe,
        webhook_format: contract::Format::parse(&i.webhook_format)
            .expect("clap allows json or xml"),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn urls_follow_the_ports_unless_given() {
        let cli = Cli::try_parse_from([
            "pushpull",
            "--store-port",
            "9000",
            "--inventory-bind",
            "0.0.0.0",
        ])
        .unwrap();
        let d = cli.demo;
        let s = store_config(&d.shared, &d.store, Some(&d.inventory));
        assert_eq!(s.public_url, "http://127.0.0.1:9000");
        assert_eq!(s.inventory_url, "http://127.0.0.1:8081");
        let i = inventory_config(&d.shared, &d.inventory, Some(&d.store));
        assert_eq!(i.store_url, "http://127.0.0.1:9000");
        assert_eq!(i.url, "http://127.0.0.1:8081");
    }

    #[test]
    fn explicit_urls_win() {
        let cli = Cli::try_parse_from([
            "pushpull",
            "inventory",
            "--store-url",
            "http://store:8080",
            "--inventory-url",
            "http://inventory:8081",
            "--inventory-public-url",
            "http://localhost:8081",
        ])
        .unwrap();
        let Some(Command::Inventory { shared, inventory }) = cli.command else {
            panic!()
        };
        let i = inventory_config(&shared, &inventory, None);
        assert_eq!(i.store_url, "http://store:8080");
        assert_eq!(i.url, "http://inventory:8081");
        assert_eq!(i.public_url, "http://localhost:8081");
        assert_eq!(i.store_public_url, "http://store:8080");
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(Cli::try_parse_from(["pushpull", "--integration-mode", "fax"]).is_err());
        assert!(Cli::try_parse_from(["pushpull", "--webhook-retry-schedule", "1s,soon"]).is_err());
        assert!(Cli::try_parse_from(["pushpull", "--webhook-format", "yaml"]).is_err());
    }
}
