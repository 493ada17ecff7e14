//! Command-line and environment configuration, layered the zero2prod way:
//! every setting has a default that works on a fresh machine, an
//! environment variable, and a flag (flags win over variables, variables
//! over defaults). `pushpull --help` lists them all; the README has the
//! table.

use clap::{Args, Parser, Subcommand};

use inventory::config::InventoryArgs;
use platform::server::local_url;
use store::config::StoreArgs;

#[derive(Debug, Parser)]
#[command(
    name = "pushpull",
    version,
    about = "A store and an inventory that integrate by push (a webhook event, or an API request/response), by pull (polling), or both (hybrid: a notice pushed, the order pulled) — for real, live.",
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
    Bench(bench::BenchArgs),
    /// One hop of the bench's floor (started by `pushpull bench`).
    #[command(hide = true)]
    FloorHop(bench::floor::hop::HopArgs),
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
/// browser reaches each, the two API keys and the operator's token. (Each service's own flags
/// are `store::config::StoreArgs` and `inventory::config::InventoryArgs`,
/// where their defaults are declared.)
// The field docs are `--help` text, where `<store bind>` reads as a
// placeholder; rustdoc would take it for an HTML tag.
#[allow(rustdoc::invalid_html_tags)]
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
    #[arg(long, env = "STORE_API_KEY", default_value = contract::demo::DEMO_STORE_API_KEY, hide_env_values = true)]
    pub store_api_key: String,
    /// The key the inventory accepts on /update_inventory (the store sends it).
    #[arg(long, env = "INVENTORY_API_KEY", default_value = contract::demo::DEMO_INVENTORY_API_KEY, hide_env_values = true)]
    pub inventory_api_key: String,
    /// The operator's token: when set, the management API (mode, endpoints,
    /// deliveries, chaos, keys, poller, restock) wants it as a bearer token
    /// and the UI asks for it once [default: none — whoever reaches the demo
    /// may change it]
    #[arg(long, env = "ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
}

impl SharedArgs {
    fn store_url(&self, store: Option<&StoreArgs>) -> String {
        self.store_url.clone().unwrap_or_else(|| match store {
            Some(s) => local_url(&s.store_bind, s.store_port),
            None => local_url("127.0.0.1", contract::demo::STORE_PORT),
        })
    }

    /// The operator's token, if one is set (an empty one is none).
    fn admin_token(&self) -> Option<secrecy::SecretString> {
        self.admin_token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| t.to_owned().into())
    }

    fn inventory_url(&self, inventory: Option<&InventoryArgs>) -> String {
        self.inventory_url
            .clone()
            .unwrap_or_else(|| match inventory {
                Some(i) => local_url(&i.inventory_bind, i.inventory_port),
                None => local_url("127.0.0.1", contract::demo::INVENTORY_PORT),
            })
    }
}

/// The store's configuration from the command line and environment: its
/// own flags, then where the inventory is and the keys.
pub fn store_config(
    shared: &SharedArgs,
    s: &StoreArgs,
    inventory: Option<&InventoryArgs>,
) -> store::StoreConfig {
    let store_url = shared.store_url(Some(s));
    let inventory_url = shared.inventory_url(inventory);
    store::StoreConfig {
        public_url: shared.store_public_url.clone().unwrap_or(store_url),
        inventory_public_url: shared
            .inventory_public_url
            .clone()
            .unwrap_or_else(|| inventory_url.clone()),
        inventory_url,
        inventory_api_key: shared.inventory_api_key.clone().into(),
        store_api_key: shared.store_api_key.clone().into(),
        admin_token: shared.admin_token(),
        ..store::StoreConfig::from_args(s)
    }
}

/// The inventory's configuration from the command line and environment:
/// its own flags, then where the store is and the keys.
pub fn inventory_config(
    shared: &SharedArgs,
    i: &InventoryArgs,
    store: Option<&StoreArgs>,
) -> inventory::InventoryConfig {
    let url = shared.inventory_url(Some(i));
    let store_url = shared.store_url(store);
    inventory::InventoryConfig {
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
        admin_token: shared.admin_token(),
        ..inventory::InventoryConfig::from_args(i)
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
    fn the_operator_token_reaches_both_services_and_stays_out_of_help() {
        let cli = Cli::try_parse_from(["pushpull", "--admin-token", "s3cret"]).unwrap();
        let d = cli.demo;
        let s = store_config(&d.shared, &d.store, Some(&d.inventory));
        let i = inventory_config(&d.shared, &d.inventory, Some(&d.store));
        use secrecy::ExposeSecret;
        assert_eq!(s.admin_token.as_ref().unwrap().expose_secret(), "s3cret");
        assert_eq!(i.admin_token.as_ref().unwrap().expose_secret(), "s3cret");
        assert!(!format!("{s:?}").contains("s3cret"));
        let none = Cli::try_parse_from(["pushpull", "--admin-token", " "]).unwrap();
        assert!(
            store_config(&none.demo.shared, &none.demo.store, None)
                .admin_token
                .is_none()
        );
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains("ADMIN_TOKEN"), "{help}");
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(Cli::try_parse_from(["pushpull", "--integration-mode", "fax"]).is_err());
        assert!(Cli::try_parse_from(["pushpull", "--webhook-retry-schedule", "1s,soon"]).is_err());
        assert!(Cli::try_parse_from(["pushpull", "--webhook-format", "yaml"]).is_err());
    }
}
