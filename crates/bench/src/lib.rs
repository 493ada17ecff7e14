//! `pushpull bench`: how fast each integration pattern is on this machine,
//! measured against the floor of the same run, written to `BENCHMARKS.md`.
//!
//! * [`floor`] — the floor itself: two minimal services on the same stack,
//!   one durable insert each ([`floor::hop`] is one of them, the process
//!   the hidden `pushpull floor-hop` runs);
//! * the scenarios — [`floor::measure`], [`modes`] (each mode end to end,
//!   store and inventory), [`sender`] (the store alone as a webhook
//!   sender), on a shared [`context`], reading the store's rows with
//!   [`readings`];
//! * [`databases`] — fresh databases per run (SQLite files, or databases
//!   created and dropped on a PostgreSQL server) and the seeded history;
//! * [`load`] — the closed-loop client and percentiles;
//! * [`procs`] — child processes, their CPU time and memory from `/proc`;
//! * [`report`] and [`targets`] — `BENCHMARKS.md` and issue #9's targets,
//!   under the [`conditions`] of the run.
//!
//! The trade-off of the whole design: everything runs as real processes
//! over real HTTP, on one machine, so the numbers include what a learner's
//! `cargo run` pays — and they are noisy when the machine is busy. Hence
//! the floor in the *same* run: the ratio survives the noise and the
//! machine far better than the absolute figure. Speed is measured here,
//! never asserted in a test.
//!
//! Reruns of one scenario during optimisation: `--backend`, `--scenario`,
//! `--mode`, `--concurrency`, `--history` select, `--orders` sizes, and
//! `--output` keeps `BENCHMARKS.md` untouched, e.g.
//! `cargo run --release -- bench --scenario modes --mode webhook
//! --concurrency 32 --history 0 --orders 1000 --output target/bench.md`.

pub mod conditions;
pub mod context;
pub mod databases;
pub mod floor;
pub mod load;
pub mod modes;
pub mod procs;
pub mod readings;
pub mod report;
pub mod results;
pub mod sender;
pub mod targets;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{Args, ValueEnum};
use contract::IntegrationMode;
use platform::Backend;

use conditions::REGENERATE;
use context::Context;
use results::Report;

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
    #[arg(long, value_delimiter = ',', default_value = "api,webhook,poll", value_parser = parse_mode)]
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

/// Runs the bench; on Ctrl-C or SIGTERM stops every service it started and
/// drops every database it created before returning.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        eprintln!("warning: this is a debug build; run `{REGENERATE}` for meaningful numbers");
    }
    tokio::select! {
        result = bench(args) => result,
        // Dropping `bench` kills the children and drops the databases.
        _ = interrupted() => bail!("interrupted; the bench's services were stopped and its databases dropped"),
    }
}

async fn interrupted() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            },
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

async fn bench(args: BenchArgs) -> anyhow::Result<()> {
    if args.orders == 0 || args.concurrency.is_empty() || args.concurrency.contains(&0) {
        bail!("--orders and every --concurrency must be at least 1");
    }
    let backends = if args.backend.is_empty() {
        let mut b = vec![Backend::Sqlite];
        if args.database_url.is_some() {
            b.push(Backend::Postgres);
        }
        b
    } else {
        args.backend.clone()
    };
    if backends.contains(&Backend::Postgres) && args.database_url.is_none() {
        bail!(
            "--backend postgres needs --database-url postgres://… (a server the bench may create databases on)"
        );
    }
    let mut concurrencies: Vec<usize> = Vec::new();
    for &c in &args.concurrency {
        if !concurrencies.contains(&c) {
            concurrencies.push(c);
        }
    }
    let sender_concurrency = *concurrencies.iter().max().expect("checked above");

    let mut report = Report {
        meta: conditions::meta(&args).await?,
        ..Report::default()
    };
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(sender_concurrency * 2)
        .timeout(Duration::from_secs(30))
        .build()?;
    let body: Arc<[u8]> = serde_json::to_vec(&databases::order_body())?.into();
    let exe = std::env::current_exe()?;
    for &backend in &backends {
        let cx = |history| Context {
            exe: exe.clone(),
            client: client.clone(),
            body: body.clone(),
            backend,
            history,
            orders: args.orders,
            poll_interval: args.poll_interval,
            idle: args.idle,
        };
        let new_databases = || databases::Databases::new(backend, args.database_url.as_deref());

        let (runs, footprints) =
            floor::measure(&cx(0), &mut new_databases()?, &concurrencies).await?;
        report.runs.extend(runs);
        report.footprints.extend(footprints);
        for &history in &args.history {
            if args.scenario.contains(&Scenario::Modes) && !args.mode.is_empty() {
                let (runs, footprints) = modes::measure(
                    &cx(history),
                    &mut new_databases()?,
                    &args.mode,
                    &concurrencies,
                )
                .await?;
                report.runs.extend(runs);
                report.footprints.extend(footprints);
            }
            if args.scenario.contains(&Scenario::Sender) {
                let (run, footprint) =
                    sender::measure(&cx(history), &mut new_databases()?, sender_concurrency)
                        .await?;
                report.runs.push(run);
                report.footprints.push(footprint);
            }
        }
    }
    report.meta.load_after = conditions::load_average();

    let text = report::render(&report);
    std::fs::write(&args.output, &text)
        .with_context(|| format!("writing {}", args.output.display()))?;
    let checks = targets::evaluate(&report);
    println!("{}", report::render_checks(&checks));
    let count = |met: Option<bool>| checks.iter().filter(|c| c.met == met).count();
    println!(
        "targets: {} met, {} not met, {} not measured; the whole report is in {}",
        count(Some(true)),
        count(Some(false)),
        count(None),
        args.output.display()
    );
    Ok(())
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
}
