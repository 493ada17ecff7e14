//! The bench's command line (`pushpull bench --help`), and the [`Plan`] it
//! comes to once checked.
//!
//! Every flag selects or sizes: with none, the whole bench runs, as
//! `BENCHMARKS.md` is regenerated; with some, one scenario reruns while
//! optimising (`--output` then keeps `BENCHMARKS.md` untouched). The flags
//! are declared here, in the bench's crate, and the launcher only embeds
//! them as its `bench` subcommand: the bench's options stay with the code
//! that reads them.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use clap::{Args, ValueEnum};
use contract::IntegrationMode;
use platform::Backend;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// Each mode end to end: store and inventory.
    Modes,
    /// The store alone, delivering webhooks to a receiver that does nothing.
    Sender,
}

#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// A PostgreSQL server (`postgres://user@host:port/any`): every run is
    /// repeated on it, in databases created there and dropped afterwards.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Backends to run: sqlite, postgres [default: sqlite, and postgres
    /// with --database-url]
    #[arg(long, value_delimiter = ',', value_parser = parse_backend)]
    pub backend: Vec<Backend>,
    /// Scenarios to run (the floor always runs: every figure needs it).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "modes,sender"
    )]
    pub scenario: Vec<Scenario>,
    /// Modes of the `modes` scenario.
    #[arg(long, value_delimiter = ',', default_value = "api,webhook,poll,hybrid", value_parser = parse_mode)]
    pub mode: Vec<IntegrationMode>,
    /// Clients in flight at once; each value is a run (sender only: the largest).
    #[arg(long, value_delimiter = ',', default_value = "1,32")]
    pub concurrency: Vec<usize>,
    /// Orders already in the store's database when the services start; each
    /// value is a set of runs (0: an empty database).
    #[arg(long, value_delimiter = ',', default_value = "0,200000")]
    pub history: Vec<u64>,
    /// Orders placed per run.
    #[arg(long, default_value_t = 4000)]
    pub orders: usize,
    /// The inventory's poll interval in poll mode.
    #[arg(long, default_value = "1s", value_parser = platform::backoff::parse_duration)]
    pub poll_interval: Duration,
    /// How long each service is watched doing nothing, for its idle CPU (0s: skip).
    #[arg(long, default_value = "5s", value_parser = platform::backoff::parse_duration)]
    pub idle: Duration,
    /// Where to write the report.
    #[arg(long, default_value = "BENCHMARKS.md")]
    pub output: PathBuf,
}

fn parse_backend(text: &str) -> Result<Backend, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "sqlite" => Ok(Backend::Sqlite),
        "postgres" | "postgresql" => Ok(Backend::Postgres),
        other => Err(format!("`{other}`: expected sqlite or postgres")),
    }
}

fn parse_mode(text: &str) -> Result<IntegrationMode, String> {
    IntegrationMode::parse(text).map_err(|e| e.0)
}

/// What a run will measure, from flags that make sense together.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// In the order they run.
    pub backends: Vec<Backend>,
    /// Each at most once, in the order given.
    pub concurrencies: Vec<usize>,
    /// The sender-only scenario runs once per history, at the largest
    /// concurrency: its question is whether deliveries keep up.
    pub sender_concurrency: usize,
    pub modes: bool,
    pub sender: bool,
}

impl BenchArgs {
    /// The plan, or an error saying which flags do not fit.
    pub fn plan(&self) -> anyhow::Result<Plan> {
        if self.orders == 0 || self.concurrency.is_empty() || self.concurrency.contains(&0) {
            bail!("--orders and every --concurrency must be at least 1");
        }
        let backends = self.backends();
        if backends.contains(&Backend::Postgres) && self.database_url.is_none() {
            bail!(
                "--backend postgres needs --database-url postgres://… (a server the bench may create databases on)"
            );
        }
        let mut concurrencies: Vec<usize> = Vec::new();
        for &c in &self.concurrency {
            if !concurrencies.contains(&c) {
                concurrencies.push(c);
            }
        }
        Ok(Plan {
            backends,
            sender_concurrency: *concurrencies.iter().max().expect("checked above"),
            concurrencies,
            modes: self.scenario.contains(&Scenario::Modes) && !self.mode.is_empty(),
            sender: self.scenario.contains(&Scenario::Sender),
        })
    }

    /// As given, or SQLite — and PostgreSQL when a server is named.
    fn backends(&self) -> Vec<Backend> {
        if !self.backend.is_empty() {
            return self.backend.clone();
        }
        let mut backends = vec![Backend::Sqlite];
        if self.database_url.is_some() {
            backends.push(Backend::Postgres);
        }
        backends
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            bench: BenchArgs,
        }
        let cli = Cli::try_parse_from([
            "bench",
            "--backend",
            "postgres",
            "--scenario",
            "sender",
            "--mode",
            "webhook,poll",
            "--concurrency",
            "32",
            "--history",
            "0",
        ])
        .unwrap();
        assert_eq!(cli.bench.backend, vec![Backend::Postgres]);
        assert_eq!(cli.bench.scenario, vec![Scenario::Sender]);
        assert_eq!(
            cli.bench.mode,
            vec![IntegrationMode::Webhook, IntegrationMode::Poll]
        );
        assert_eq!(
            (cli.bench.concurrency, cli.bench.history),
            (vec![32], vec![0])
        );
        let defaults = Cli::try_parse_from(["bench"]).unwrap().bench;
        assert_eq!(defaults.concurrency, vec![1, 32]);
        assert_eq!(defaults.history, vec![0, 200_000]);
        assert!(Cli::try_parse_from(["bench", "--backend", "mysql"]).is_err());
        assert!(Cli::try_parse_from(["bench", "--mode", "fax"]).is_err());
    }

    #[test]
    fn the_plan_follows_the_flags_and_refuses_what_cannot_run() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            bench: BenchArgs,
        }
        let plan = |args: &[&str]| {
            Cli::try_parse_from(std::iter::once("bench").chain(args.iter().copied()))
                .unwrap()
                .bench
                .plan()
        };
        let defaults = plan(&[]).unwrap();
        assert_eq!(defaults.backends, vec![Backend::Sqlite]);
        assert!(defaults.modes && defaults.sender);
        let both = plan(&[
            "--database-url",
            "postgres://u@h/db",
            "--concurrency",
            "8,1,8",
        ])
        .unwrap();
        assert_eq!(both.backends, vec![Backend::Sqlite, Backend::Postgres]);
        assert_eq!(
            (both.concurrencies, both.sender_concurrency),
            (vec![8, 1], 8)
        );
        assert!(plan(&["--backend", "postgres"]).is_err(), "no server named");
        assert!(plan(&["--concurrency", "0"]).is_err());
        assert!(plan(&["--orders", "0"]).is_err());
    }
}
