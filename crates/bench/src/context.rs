//! What every scenario needs: how to start the processes, drive them,
//! and say where the bench is.
//!
//! The processes are the launcher's own subcommands (`pushpull store`,
//! `pushpull inventory`, `pushpull floor-hop`), started from the binary
//! the launcher named when it forwarded `pushpull bench` here
//! ([`Context::launcher`]): the bench measures exactly what a learner runs.
//!
//! The scenarios themselves are [`super::floor::measure`] (the reference),
//! [`super::modes`] (store and inventory, each mode) and [`super::sender`]
//! (the store alone as a webhook sender); [`super::readings`] is what they
//! read back from the store's rows. Every wait has a deadline, and an error
//! says what did not settle.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use sqlx::AnyPool;

use platform::Backend;

use super::args::{BenchArgs, Plan};
use super::databases;
use super::load::{self, Sample};
use super::results::{Run, Subject};

/// What every scenario needs: how to start processes and drive them.
#[derive(Clone)]
pub struct Context {
    /// The `pushpull` binary whose subcommands are the processes measured.
    pub launcher: PathBuf,
    pub client: reqwest::Client,
    /// The order every run places, serialised once.
    pub body: Arc<[u8]>,
    pub backend: Backend,
    pub history: u64,
    pub orders: usize,
    pub poll_interval: Duration,
    pub idle: Duration,
}

/// Longest a load run may take before the bench gives up on it.
pub const RUN_DEADLINE: Duration = Duration::from_secs(600);
/// Longest the orders of a run may go without one more settling.
pub const NO_PROGRESS_DEADLINE: Duration = Duration::from_secs(30);

impl Context {
    /// One client and one order body for the whole bench; the backend and
    /// history are set per scenario ([`Context::at`]).
    pub fn new(launcher: PathBuf, args: &BenchArgs, plan: &Plan) -> anyhow::Result<Context> {
        Ok(Context {
            launcher,
            // Enough idle connections for the most clients any run has.
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(plan.sender_concurrency * 2)
                .timeout(Duration::from_secs(30))
                .build()?,
            body: serde_json::to_vec(&databases::order_body())?.into(),
            backend: Backend::Sqlite,
            history: 0,
            orders: args.orders,
            poll_interval: args.poll_interval,
            idle: args.idle,
        })
    }

    /// The same, on `backend` with `history` orders in the store's database.
    pub fn at(&self, backend: Backend, history: u64) -> Context {
        Context {
            backend,
            history,
            ..self.clone()
        }
    }

    pub fn label(&self) -> String {
        if self.history == 0 {
            format!("{}, empty", self.backend.name())
        } else {
            format!(
                "{}, {} orders of history",
                self.backend.name(),
                self.history
            )
        }
    }

    pub fn run(&self, subject: Subject, concurrency: usize) -> Run {
        Run {
            backend: self.backend,
            history: self.history,
            subject,
            concurrency,
            ..Run::default()
        }
    }

    /// A short run, not measured: connections opened, caches warm.
    pub async fn warm_up(&self, url: &str, concurrency: usize) -> anyhow::Result<Sample> {
        let n = concurrency.max(20).min(self.orders.max(1));
        load::drive(&self.client, url, &self.body, n, concurrency, RUN_DEADLINE).await
    }

    pub async fn measure(
        &self,
        url: &str,
        concurrency: usize,
        what: &str,
    ) -> anyhow::Result<Sample> {
        eprintln!(
            "bench: [{}] {what}, c={concurrency}: {} requests",
            self.label(),
            self.orders
        );
        let sample = load::drive(
            &self.client,
            url,
            &self.body,
            self.orders,
            concurrency,
            RUN_DEADLINE,
        )
        .await?;
        if sample.latencies_ms.is_empty() {
            bail!(
                "{what} at c={concurrency} ({}): every request failed; the first: {}",
                self.label(),
                sample.first_failure.as_deref().unwrap_or("?")
            );
        }
        Ok(sample)
    }
}

pub async fn seed(cx: &Context, store_db: &str) -> anyhow::Result<()> {
    eprintln!("bench: [{}] seeding the store's history", cx.label());
    let started = std::time::Instant::now();
    databases::seed_history(store_db, cx.history)
        .await
        .context("seeding the history")?;
    eprintln!("bench: seeded in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

pub fn report_progress(run: &Run) {
    eprintln!(
        "bench:   → {:.0} resolved/s, {:.0} placed/s, placement p50 {:.2} ms, end to end p50 {:.1} ms ({})",
        run.resolved_per_s, run.placed_per_s, run.placement.p50, run.end_to_end.p50, run.outcome
    );
}

pub async fn connect(url: &str) -> anyhow::Result<AnyPool> {
    Ok(sqlx::any::AnyPoolOptions::new()
        .max_connections(2)
        .connect(url)
        .await?)
}

pub async fn put(cx: &Context, url: &str, body: serde_json::Value) -> anyhow::Result<()> {
    let response = cx.client.put(url).json(&body).send().await?;
    if !response.status().is_success() {
        bail!("PUT {url} {body} answered {}", response.status());
    }
    Ok(())
}
