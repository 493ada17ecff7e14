//! What the launcher writes of its own: the log filter each command starts
//! with, and the banner that says where the services are once they are up.
//!
//! The banner names the URLs a person opens — the *public* ones
//! (`STORE_PUBLIC_URL`, `INVENTORY_PUBLIC_URL`), which in a container are
//! the published ports on the host, never the `0.0.0.0` the service binds.
//!
//! With text logs (the default) it is printed as it reads best, for a
//! person at a terminal. With `LOG_FORMAT=json`, stdout belongs to a log
//! collector that expects one JSON object a line and nothing else, so the
//! banner is written as an event like any other, the URLs its fields
//! (`store_url`, `inventory_url`, `mode`). The road not taken: printing it
//! to stderr instead. A container runtime gathers both streams into the
//! one log the collector reads, so it would still choke; and as an event
//! the banner can be searched for ("where did that container say it was?").
//! The price: an event obeys `RUST_LOG`, so a filter that silences the
//! launcher's `info` silences the banner with it.

use contract::IntegrationMode;
use platform::telemetry::LogFormat;

/// What the services log unless `RUST_LOG` says otherwise, and what the
/// image sets: a line per HTTP request, webhook attempt and poll, for an
/// operator reading container logs; the libraries only when they warn.
pub const SERVICE_LOGS: &str = "info,sqlx=warn,actix_server=warn,actix_web=warn";

/// What the demo logs unless `RUST_LOG` says otherwise. It is for a person
/// at a terminal: the banner, then only what went wrong (every message is
/// on the pages; `RUST_LOG=info` shows them here too).
pub const DEMO_LOGS: &str = "warn,pushpull=info";

/// Where a person finds what was started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Banner {
    /// `pushpull demo`: both services, and the mode new orders take.
    Demo {
        store_url: String,
        inventory_url: String,
        mode: IntegrationMode,
    },
    /// `pushpull store`: the store alone.
    Store { store_url: String },
    /// `pushpull inventory`: the inventory alone.
    Inventory { inventory_url: String },
}

impl Banner {
    /// The banner as text lines, for a terminal.
    pub fn lines(&self) -> Vec<String> {
        match self {
            Banner::Demo {
                store_url,
                inventory_url,
                mode,
            } => vec![
                String::new(),
                "  pushpull is running — push vs pull, for real.".into(),
                String::new(),
                format!("  store      {store_url}"),
                format!("  inventory  {inventory_url}"),
                format!("  mode       {mode} (switch it on the store's settings page)"),
                String::new(),
                "  Place an order in the store and watch each message cross on the flow".into(),
                "  page. Ctrl-C stops both. (RUST_LOG=info shows every request here too.)".into(),
                String::new(),
            ],
            Banner::Store { store_url } => vec![format!("store      {store_url}")],
            Banner::Inventory { inventory_url } => vec![format!("inventory  {inventory_url}")],
        }
    }

    /// Writes the banner in the format the logs are in: printed as text,
    /// or as one `info` event.
    pub fn announce(&self, format: LogFormat) {
        match format {
            LogFormat::Text => {
                for line in self.lines() {
                    println!("{line}");
                }
            }
            LogFormat::Json => match self {
                Banner::Demo {
                    store_url,
                    inventory_url,
                    mode,
                } => tracing::info!(
                    store_url,
                    inventory_url,
                    mode = mode.as_str(),
                    "pushpull is running"
                ),
                Banner::Store { store_url } => tracing::info!(store_url, "pushpull is running"),
                Banner::Inventory { inventory_url } => {
                    tracing::info!(inventory_url, "pushpull is running")
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_banner_names_the_urls_it_is_given() {
        let demo = Banner::Demo {
            store_url: "http://localhost:9080".into(),
            inventory_url: "http://localhost:9081".into(),
            mode: IntegrationMode::Poll,
        };
        let text = demo.lines().join("\n");
        assert!(
            text.contains("  store      http://localhost:9080\n"),
            "{text}"
        );
        assert!(
            text.contains("  inventory  http://localhost:9081\n"),
            "{text}"
        );
        assert!(text.contains("  mode       poll "), "{text}");
        let store = Banner::Store {
            store_url: "http://localhost:9080".into(),
        };
        assert_eq!(store.lines(), ["store      http://localhost:9080"]);
    }
}
