//! `pushpull bench`: how fast each integration pattern is on this machine,
//! measured against the floor of the same run, written to `BENCHMARKS.md`.
//!
//! * [`args`] — the command line, and the plan it comes to;
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
//! * [`results`], [`report`] and [`targets`] — what was measured, as
//!   `BENCHMARKS.md`, and judged against the performance targets (ratios
//!   to the floor, latency bounds, memory, idle CPU, the cost of history),
//!   under the [`conditions`] of the run.
//!
//! The trade-off of the whole design: everything runs as real processes
//! over real HTTP, on one machine, so the numbers include what a learner's
//! `cargo run` pays — and they are noisy when the machine is busy. Hence
//! the floor in the *same* run: the ratio survives the noise and the
//! machine far better than the absolute figure. Speed is measured here,
//! never asserted in a test.
//!
//! **A library the launcher forwards to, not a binary of its own.** The
//! launcher's `bench` subcommand hands its flags ([`BenchArgs`]) and its
//! own path to [`run`]; its hidden `floor-hop` subcommand hands its flags
//! to [`floor::hop::serve`]. The bench then starts `pushpull store`,
//! `pushpull inventory` and `pushpull floor-hop` from that path, each as
//! its own process. So what is measured is the very binary a learner runs
//! and the image ships, not a look-alike; the floor's hops pay the same
//! start-up, process and loopback costs as the services, being the same
//! executable; and `cargo run --release -- bench` builds everything it
//! needs, where a second binary in another package would not be built by
//! it (depending on another package's binary is still unstable in
//! cargo). The price: the shipped binary carries the bench's code, which
//! a container never runs. Its dependencies are the services' own, with
//! the same features — so none is compiled into the services for its
//! sake — save `tempfile`.
//!
//! Reruns of one scenario during optimisation: `--backend`, `--scenario`,
//! `--mode`, `--concurrency`, `--history` select, `--orders` sizes, and
//! `--output` keeps `BENCHMARKS.md` untouched, e.g.
//! `cargo run --release -- bench --scenario modes --mode webhook
//! --concurrency 32 --history 0 --orders 1000 --output target/bench.md`.

pub mod args;
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

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use platform::Backend;

pub use args::{BenchArgs, Scenario};

use args::Plan;
use conditions::REGENERATE;
use context::Context;
use databases::Databases;
use results::Report;

/// Runs the bench, starting the services from `launcher` (the `pushpull`
/// binary); on Ctrl-C or SIGTERM stops every service it started and drops
/// every database it created before returning.
pub async fn run(args: BenchArgs, launcher: PathBuf) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        eprintln!("warning: this is a debug build; run `{REGENERATE}` for meaningful numbers");
    }
    tokio::select! {
        result = bench(args, launcher) => result,
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

/// The whole run: the plan, every backend in turn, then the report.
async fn bench(args: BenchArgs, launcher: PathBuf) -> anyhow::Result<()> {
    let plan = args.plan()?;
    let mut report = Report {
        meta: conditions::meta(&args).await?,
        ..Report::default()
    };
    let cx = Context::new(launcher, &args, &plan)?;
    for &backend in &plan.backends {
        measure_backend(&cx, &args, &plan, backend, &mut report).await?;
    }
    report.meta.load_after = conditions::load_average();
    write(&report, &args.output)
}

/// On one backend: the floor, then the scenarios at each history — each
/// on databases of its own, dropped when it ends.
async fn measure_backend(
    cx: &Context,
    args: &BenchArgs,
    plan: &Plan,
    backend: Backend,
    report: &mut Report,
) -> anyhow::Result<()> {
    let databases = || Databases::new(backend, args.database_url.as_deref());
    let (runs, footprints) =
        floor::measure(&cx.at(backend, 0), &mut databases()?, &plan.concurrencies).await?;
    report.runs.extend(runs);
    report.footprints.extend(footprints);
    for &history in &args.history {
        let cx = cx.at(backend, history);
        if plan.modes {
            let (runs, footprints) =
                modes::measure(&cx, &mut databases()?, &args.mode, &plan.concurrencies).await?;
            report.runs.extend(runs);
            report.footprints.extend(footprints);
        }
        if plan.sender {
            let (run, footprint) =
                sender::measure(&cx, &mut databases()?, plan.sender_concurrency).await?;
            report.runs.push(run);
            report.footprints.push(footprint);
        }
    }
    Ok(())
}

/// The report to `output`, and the targets, judged, on the terminal.
fn write(report: &Report, output: &Path) -> anyhow::Result<()> {
    std::fs::write(output, report::render(report))
        .with_context(|| format!("writing {}", output.display()))?;
    let checks = targets::evaluate(report);
    println!("{}", report::render_checks(&checks));
    let count = |met: Option<bool>| checks.iter().filter(|c| c.met == met).count();
    println!(
        "targets: {} met, {} not met, {} not measured; the whole report is in {}",
        count(Some(true)),
        count(Some(false)),
        count(None),
        output.display()
    );
    Ok(())
}
