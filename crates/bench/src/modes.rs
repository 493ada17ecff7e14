//! The store and the inventory as two processes, each mode in turn at each
//! concurrency: orders placed (what the customer waits for) and orders
//! *resolved* (reaching their final status, from the store's own
//! `created_at`/`resolved_at` — what the compare page shows too); CPU per
//! order, peak memory, and CPU while idle.
//!
//! A closed loop places orders back to back, so in push and pull modes the
//! end-to-end figure is mostly queueing (a poll carries every order of its
//! interval). Webhook, poll and hybrid orders are therefore also placed
//! **one at a time**, with pauses, as a person at the demo does: that end to end is
//! the pattern's own latency.

use std::time::Duration;

use anyhow::bail;
use sqlx::AnyPool;

use contract::IntegrationMode;

use super::context::{Context, connect, put, report_progress, seed};
use super::databases::{self, Databases};
use super::load::{self, Percentiles};
use super::procs::{CpuTime, Processes, free_port, wait_healthy};
use super::readings::{
    after_poll, count, empty_polls, idle_percent, outcome_of, resolution, settle,
};
use super::results::{Footprint, Run, Subject};

/// Each mode at each concurrency, then idle.
pub async fn measure(
    cx: &Context,
    dbs: &mut Databases,
    modes: &[IntegrationMode],
    concurrencies: &[usize],
) -> anyhow::Result<(Vec<Run>, Vec<Footprint>)> {
    let mut services = Services::start(cx, dbs).await?;
    let mut runs = Vec::new();
    for &mode in modes {
        services.switch_to(cx, mode).await?;
        for &c in concurrencies {
            let run = services.closed_loop(cx, mode, c).await?;
            report_progress(&run);
            runs.push(run);
        }
        if let Some(spacing) = one_at_a_time_gap(cx, mode) {
            let subject = Subject::OneAtATime(mode);
            let run = services.one_at_a_time(cx, mode, spacing, subject).await?;
            report_progress(&run);
            runs.push(run);
        }
    }
    let idle = services.idle(cx).await?;
    services.procs.check_alive()?;
    // Taken before the inventory is restarted for the long-polling row.
    let footprints = services.footprints(cx, idle);
    if modes.contains(&IntegrationMode::Poll) {
        let run = services.long_poll_one_at_a_time(cx, dbs).await?;
        report_progress(&run);
        runs.push(run);
    }
    services.store_pool.close().await;
    Ok((runs, footprints))
}

/// The wait the long-polling row's poller asks for (`POLL_WAIT`): longer
/// than the gaps between its orders, so every read is held until one comes.
const LONG_POLL_WAIT: &str = "20s";

/// Every HTTP exchange the store logged, in any channel.
const EXCHANGES: &str = "SELECT COUNT(*) AS n FROM exchanges";

/// The store and the inventory, each its own process on a fresh database,
/// subscribed to each other; both stopped when dropped.
struct Services {
    procs: Processes,
    /// The store's and the inventory's places in `procs`.
    s: usize,
    i: usize,
    store: String,
    inventory: String,
    /// The store's database, where what each run resolved is read.
    store_pool: AnyPool,
    /// Orders the services handled so far, warm-ups included.
    orders: usize,
    /// What both were started with, for restarting the inventory.
    env: Vec<(&'static str, String)>,
}

impl Services {
    /// Both services started, with the history seeded, stock plenty and
    /// the inventory subscribed to the store's webhooks.
    async fn start(cx: &Context, dbs: &mut Databases) -> anyhow::Result<Services> {
        let store_db = dbs.fresh("store").await?;
        let inventory_db = dbs.fresh("inventory").await?;
        if cx.history > 0 {
            seed(cx, &store_db).await?;
        }
        let (store_port, inventory_port) = (free_port()?, free_port()?);
        let store = format!("http://127.0.0.1:{store_port}");
        let inventory = format!("http://127.0.0.1:{inventory_port}");
        let env = vec![
            ("STORE_PORT", store_port.to_string()),
            ("INVENTORY_PORT", inventory_port.to_string()),
            ("STORE_DATABASE_URL", store_db.clone()),
            ("INVENTORY_DATABASE_URL", inventory_db.clone()),
            ("STORE_URL", store.clone()),
            ("INVENTORY_URL", inventory.clone()),
            (
                "POLL_INTERVAL",
                format!("{}ms", cx.poll_interval.as_millis()),
            ),
            ("POLL_PAUSED", "true".to_owned()),
            ("WEBHOOK_SUBSCRIBE", "true".to_owned()),
        ];
        let mut procs = Processes::default();
        let s = procs.spawn(
            "store",
            &cx.launcher,
            &["store".to_owned()],
            &env,
            dbs.dir(),
        )?;
        wait_healthy(&cx.client, &mut procs, s, &format!("{store}/healthz")).await?;
        let i = procs.spawn(
            "inventory",
            &cx.launcher,
            &["inventory".to_owned()],
            &env,
            dbs.dir(),
        )?;
        wait_healthy(&cx.client, &mut procs, i, &format!("{inventory}/healthz")).await?;
        prepare_inventory(cx, &inventory_db).await?;
        wait_subscribed(cx, &mut procs, &store).await?;
        Ok(Services {
            procs,
            s,
            i,
            store,
            inventory,
            store_pool: connect(&store_db).await?,
            orders: 0,
            env,
        })
    }

    /// The store's mode, and the poller running only in poll mode.
    async fn switch_to(&self, cx: &Context, mode: IntegrationMode) -> anyhow::Result<()> {
        put(
            cx,
            &format!("{}/api/integration", self.store),
            serde_json::json!({"mode": mode}),
        )
        .await?;
        let poller = serde_json::json!({
            "paused": mode != IntegrationMode::Poll,
            "interval_ms": cx.poll_interval.as_millis() as i64,
        });
        put(cx, &format!("{}/api/poller", self.inventory), poller).await
    }

    /// CPU used so far: the store's, the inventory's.
    fn cpu(&self) -> [CpuTime; 2] {
        [self.procs.get(self.s).cpu(), self.procs.get(self.i).cpu()]
    }

    /// `c` clients placing orders back to back in `mode`, after a
    /// warm-up; the orders are counted once every one has settled.
    async fn closed_loop(
        &mut self,
        cx: &Context,
        mode: IntegrationMode,
        c: usize,
    ) -> anyhow::Result<Run> {
        let orders_url = format!("{}/api/orders", self.store);
        self.orders += cx.warm_up(&orders_url, c).await?.ids.len();
        settle(cx, &self.store_pool, &mut self.procs, mode, c).await?;
        let exchanges_before = count(&self.store_pool, EXCHANGES).await?;
        let empty_before = empty_polls(&self.store_pool).await?;
        let before = self.cpu();
        let sample = cx.measure(&orders_url, c, &format!("{mode} mode")).await?;
        settle(cx, &self.store_pool, &mut self.procs, mode, c).await?;
        let after = self.cpu();
        self.orders += sample.ids.len();

        let resolution = resolution(&self.store_pool, &sample.ids).await?;
        let exchanges = count(&self.store_pool, EXCHANGES).await? - exchanges_before;
        let empty_polls = match mode {
            IntegrationMode::Poll => Some(empty_polls(&self.store_pool).await? - empty_before),
            _ => None,
        };
        let n = sample.ids.len();
        Ok(Run {
            placed: n,
            failed: sample.failed,
            placed_per_s: sample.per_second(),
            resolved_per_s: resolution.per_second(),
            placement: Percentiles::of(sample.latencies_ms.clone()),
            end_to_end: Percentiles::of(resolution.latencies_ms.clone()),
            cpu_ms: [
                Some(before[0].ms_per(after[0], n)),
                Some(before[1].ms_per(after[1], n)),
            ],
            requests_per_order: Some(exchanges as f64 / n.max(1) as f64),
            lag_ms: resolution.lag_ms(),
            empty_polls,
            outcome: outcome_of(&resolution.statuses, &sample),
            ..cx.run(Subject::Mode(mode), c)
        })
    }

    /// The inventory restarted with `POLL_WAIT` (on its own database, its
    /// cursor kept), then poll mode one order at a time: the row that shows
    /// what long polling does to pull's end to end.
    async fn long_poll_one_at_a_time(
        &mut self,
        cx: &Context,
        dbs: &Databases,
    ) -> anyhow::Result<Run> {
        let mut env = self.env.clone();
        env.push(("POLL_WAIT", LONG_POLL_WAIT.to_owned()));
        let args = ["inventory".to_owned()];
        let (i, launcher, dir) = (self.i, &cx.launcher, dbs.dir());
        self.procs
            .respawn(i, "inventory long polling", launcher, &args, &env, dir)?;
        let health = format!("{}/healthz", self.inventory);
        wait_healthy(&cx.client, &mut self.procs, i, &health).await?;
        self.switch_to(cx, IntegrationMode::Poll).await?;
        // The poller was paused through the modes measured after poll's:
        // it reads past their orders (and a warm-up of its own) first, or
        // this row would time its catch-up instead of long polling (seen on
        // PostgreSQL: ~8,000 hybrid orders to page through, 1 s end to end).
        let orders_url = format!("{}/api/orders", self.store);
        self.orders += cx.warm_up(&orders_url, 1).await?.ids.len();
        settle(
            cx,
            &self.store_pool,
            &mut self.procs,
            IntegrationMode::Poll,
            1,
        )
        .await?;
        let spacing = Duration::from_millis(50);
        let subject = Subject::LongPollOneAtATime;
        self.one_at_a_time(cx, IntegrationMode::Poll, spacing, subject)
            .await
    }

    /// [`ONE_AT_A_TIME_ORDERS`] orders, one every `spacing`.
    async fn one_at_a_time(
        &mut self,
        cx: &Context,
        mode: IntegrationMode,
        spacing: Duration,
        subject: Subject,
    ) -> anyhow::Result<Run> {
        eprintln!(
            "bench: [{}] {}: {ONE_AT_A_TIME_ORDERS} orders, one every {spacing:?}",
            cx.label(),
            subject.name()
        );
        let url = format!("{}/api/orders", self.store);
        let sample = load::paced(&cx.client, &url, &cx.body, ONE_AT_A_TIME_ORDERS, spacing).await?;
        let pool = &self.store_pool;
        settle(cx, pool, &mut self.procs, mode, 1).await?;
        self.orders += sample.ids.len();
        let resolution = resolution(pool, &sample.ids).await?;
        let after_poll = match mode {
            IntegrationMode::Poll => {
                let after = after_poll(pool, &sample.ids).await?;
                (!after.is_empty()).then(|| Percentiles::of(after))
            }
            _ => None,
        };
        Ok(Run {
            after_poll,
            placed: sample.ids.len(),
            failed: sample.failed,
            placed_per_s: sample.per_second(),
            resolved_per_s: resolution.per_second(),
            placement: Percentiles::of(sample.latencies_ms.clone()),
            end_to_end: Percentiles::of(resolution.latencies_ms.clone()),
            outcome: outcome_of(&resolution.statuses, &sample),
            ..cx.run(subject, 1)
        })
    }

    /// CPU while nothing happens — webhook mode (nothing to send), the
    /// poller paused — as a share of a core: the store's, the
    /// inventory's. Nothing when `--idle 0s`.
    async fn idle(&self, cx: &Context) -> anyhow::Result<[Option<f64>; 2]> {
        if cx.idle.is_zero() {
            return Ok([None, None]);
        }
        // Webhook mode pauses the poller too.
        self.switch_to(cx, IntegrationMode::Webhook).await?;
        eprintln!("bench: [{}] idle, {:?}", cx.label(), cx.idle);
        tokio::time::sleep(Duration::from_secs(1)).await;
        let before = self.cpu();
        tokio::time::sleep(cx.idle).await;
        let after = self.cpu();
        Ok([0, 1].map(|k| Some(idle_percent(before[k], after[k], cx.idle))))
    }

    /// Each service's peak memory over every order it handled, and its
    /// idle CPU.
    fn footprints(&self, cx: &Context, idle: [Option<f64>; 2]) -> Vec<Footprint> {
        [(self.s, "store"), (self.i, "inventory")]
            .into_iter()
            .enumerate()
            .map(|(k, (index, name))| Footprint {
                backend: cx.backend,
                history: cx.history,
                service: name.to_owned(),
                handled: self.orders,
                peak_rss_kib: self.procs.get(index).peak_rss_kib(),
                idle_cpu_percent: idle[k],
            })
            .collect()
    }
}

/// The inventory's side of the history (its poll cursor past it), and
/// enough stock that no mode runs out: shortages are not what is measured.
async fn prepare_inventory(cx: &Context, inventory_db: &str) -> anyhow::Result<()> {
    if cx.history > 0 {
        databases::skip_history(inventory_db, cx.history).await?;
    }
    let inventory_pool = connect(inventory_db).await?;
    sqlx::query("UPDATE stock SET on_hand = 100000000")
        .execute(&inventory_pool)
        .await?;
    inventory_pool.close().await;
    Ok(())
}

/// Orders placed one at a time, for the end to end of the patterns whose
/// latency is not the answer's: webhook, poll and hybrid.
const ONE_AT_A_TIME_ORDERS: usize = 60;

/// The time between two orders placed one at a time: for polls, a spacing
/// that lands them at evenly spread phases of the poll interval (about
/// seven per interval, so 60 span about nine polls, each sixtieth of the
/// cycle once); 50 ms for webhooks and hybrid notices (no timer to fall
/// between: the reconciliation is only the safety net).
fn one_at_a_time_gap(cx: &Context, mode: IntegrationMode) -> Option<Duration> {
    match mode {
        IntegrationMode::Poll => Some(load::phase_spacing(cx.poll_interval, ONE_AT_A_TIME_ORDERS)),
        IntegrationMode::Webhook | IntegrationMode::Hybrid => Some(Duration::from_millis(50)),
        IntegrationMode::Api => None,
    }
}

/// The inventory subscribes itself to the store's webhooks on start.
async fn wait_subscribed(cx: &Context, procs: &mut Processes, store: &str) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let endpoints: serde_json::Value = cx
            .client
            .get(format!("{store}/api/webhook-endpoints"))
            .send()
            .await?
            .json()
            .await?;
        if endpoints.as_array().is_some_and(|a| !a.is_empty()) {
            return Ok(());
        }
        procs.check_alive()?;
        if tokio::time::Instant::now() > deadline {
            bail!("the inventory did not subscribe to the store's webhooks within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
