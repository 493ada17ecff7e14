//! The floor: the least any store → inventory integration can do per order,
//! built from the same parts as the product so that the difference between
//! the two is the product's own work.
//!
//! A [`hop`] is an HTTP service that does one durable insert per request
//! and forwards it to the next hop, if it has one. Two hops in a chain,
//! A → B, are an order's trip with nothing else: two HTTP exchanges and
//! one committed write on each side. Each hop is its own process
//! (`pushpull floor-hop`, hidden from `--help`), so it pays the same
//! process and loopback costs as `pushpull store` and `pushpull inventory`.
//!
//! [`measure`] drives the two hops like the store, at each concurrency:
//! the reference every other figure of the bench is divided by.

pub mod hop;

use super::context::{Context, report_progress};
use super::databases::Databases;
use super::load::Percentiles;
use super::procs::{CpuTime, Processes, free_port, wait_healthy};
use super::readings::outcome_of;
use super::results::{Footprint, Run, Subject};

/// The floor at each concurrency; the same hops for all of them.
pub async fn measure(
    cx: &Context,
    dbs: &mut Databases,
    concurrencies: &[usize],
) -> anyhow::Result<(Vec<Run>, Vec<Footprint>)> {
    let mut hops = Hops::start(cx, dbs).await?;
    let mut runs = Vec::new();
    for &c in concurrencies {
        let run = hops.measure(cx, c).await?;
        report_progress(&run);
        runs.push(run);
    }
    Ok((runs, hops.footprints(cx)))
}

/// Hop A forwarding to hop B, each its own process on a database of its
/// own; both stopped when dropped.
struct Hops {
    procs: Processes,
    a: usize,
    b: usize,
    /// Hop A's URL: where the load goes.
    url: String,
    /// Requests the hops handled so far, warm-ups included.
    requests: usize,
}

impl Hops {
    /// B first, so that A has somewhere to forward to from its first request.
    async fn start(cx: &Context, dbs: &mut Databases) -> anyhow::Result<Hops> {
        let mut procs = Processes::default();
        let (a_port, b_port) = (free_port()?, free_port()?);
        let (a_url, b_url) = (
            format!("http://127.0.0.1:{a_port}/"),
            format!("http://127.0.0.1:{b_port}/"),
        );
        let b_db = dbs.fresh("floor_b").await?;
        let a_db = dbs.fresh("floor_a").await?;
        let b = procs.spawn(
            "floor hop B",
            &cx.launcher,
            &hop::command_line(b_port, Some(b_db), None),
            &[],
            dbs.dir(),
        )?;
        let a = procs.spawn(
            "floor hop A",
            &cx.launcher,
            &hop::command_line(a_port, Some(a_db), Some(b_url.as_str())),
            &[],
            dbs.dir(),
        )?;
        wait_healthy(&cx.client, &mut procs, b, &b_url).await?;
        wait_healthy(&cx.client, &mut procs, a, &a_url).await?;
        Ok(Hops {
            procs,
            a,
            b,
            url: a_url,
            requests: 0,
        })
    }

    /// CPU used so far: hop A's, hop B's.
    fn cpu(&self) -> [CpuTime; 2] {
        [self.procs.get(self.a).cpu(), self.procs.get(self.b).cpu()]
    }

    /// One run at concurrency `c`, after a warm-up.
    async fn measure(&mut self, cx: &Context, c: usize) -> anyhow::Result<Run> {
        self.requests += cx.warm_up(&self.url, c).await?.latencies_ms.len();
        let before = self.cpu();
        let sample = cx.measure(&self.url, c, "floor").await?;
        let after = self.cpu();
        self.procs.check_alive()?;
        self.requests += sample.latencies_ms.len();
        let placement = Percentiles::of(sample.latencies_ms.clone());
        let n = sample.latencies_ms.len();
        Ok(Run {
            placed: n,
            failed: sample.failed,
            placed_per_s: sample.per_second(),
            // A hop answers after both writes: placed is resolved.
            resolved_per_s: sample.per_second(),
            placement,
            end_to_end: placement,
            cpu_ms: [
                Some(before[0].ms_per(after[0], n)),
                Some(before[1].ms_per(after[1], n)),
            ],
            outcome: outcome_of(&[("ok".to_owned(), n)], &sample),
            ..cx.run(Subject::Floor, c)
        })
    }

    /// Each hop's peak memory over everything it handled.
    fn footprints(&self, cx: &Context) -> Vec<Footprint> {
        [(self.a, "floor hop A"), (self.b, "floor hop B")]
            .into_iter()
            .map(|(i, name)| Footprint {
                backend: cx.backend,
                history: 0,
                service: name.to_owned(),
                handled: self.requests,
                peak_rss_kib: self.procs.get(i).peak_rss_kib(),
                idle_cpu_percent: None,
            })
            .collect()
    }
}
