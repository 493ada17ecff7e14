//! The scenarios: what is started, what is driven, and what is read back.
//!
//! * [`floor`] — two floor hops (see [`super::floor`]) driven like the store
//!   at each concurrency: the reference every other figure is divided by.
//! * [`modes`] — the store and the inventory as two processes, each mode
//!   in turn at each concurrency: orders placed (what the customer waits
//!   for) and orders *resolved* (reaching their final status, from the
//!   store's own `created_at`/`resolved_at` — what the compare page shows
//!   too); CPU per order, peak memory, and CPU while idle. Webhook and
//!   poll orders are also placed one at a time, with pauses, for their
//!   end to end without queueing.
//! * [`sender`] — the store alone in webhook mode with one endpoint, a
//!   receiver that answers `200` to anything: how fast the sender's side of
//!   push goes, and how far its deliveries trail its intake.
//!
//! Every wait has a deadline, and an error says what did not settle.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use sqlx::{AnyPool, AssertSqlSafe, Row};

use contract::IntegrationMode;
use platform::Backend;

use super::databases::{self, Databases};
use super::load::{self, Percentiles, Sample};
use super::procs::{CpuTime, Processes, free_port, wait_healthy};
use super::report::{Footprint, Run, Subject};

/// What every scenario needs: how to start processes and drive them.
pub struct Context {
    pub exe: PathBuf,
    pub client: reqwest::Client,
    pub body: Arc<[u8]>,
    pub backend: Backend,
    pub history: u64,
    pub orders: usize,
    pub poll_interval: Duration,
    pub idle: Duration,
}

/// Longest a load run may take before the bench gives up on it.
const RUN_DEADLINE: Duration = Duration::from_secs(600);
/// Longest the orders of a run may go without one more settling.
const NO_PROGRESS_DEADLINE: Duration = Duration::from_secs(30);

impl Context {
    fn label(&self) -> String {
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

    fn run(&self, subject: Subject, concurrency: usize) -> Run {
        Run {
            backend: self.backend,
            history: self.history,
            subject,
            concurrency,
            ..Run::default()
        }
    }

    /// A short run, not measured: connections opened, caches warm.
    async fn warm_up(&self, url: &str, concurrency: usize) -> anyhow::Result<Sample> {
        let n = concurrency.max(20).min(self.orders.max(1));
        load::drive(&self.client, url, &self.body, n, concurrency, RUN_DEADLINE).await
    }

    async fn measure(&self, url: &str, concurrency: usize, what: &str) -> anyhow::Result<Sample> {
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

/// The floor at each concurrency; the same hops for all of them.
pub async fn floor(
    cx: &Context,
    dbs: &mut Databases,
    concurrencies: &[usize],
) -> anyhow::Result<(Vec<Run>, Vec<Footprint>)> {
    let mut procs = Processes::default();
    let (a_port, b_port) = (free_port()?, free_port()?);
    let (a_url, b_url) = (
        format!("http://127.0.0.1:{a_port}/"),
        format!("http://127.0.0.1:{b_port}/"),
    );
    let hop = |port: u16, db: String, next: Option<&str>| {
        let mut args = vec![
            "floor-hop".to_owned(),
            "--port".to_owned(),
            port.to_string(),
            "--database-url".to_owned(),
            db,
        ];
        if let Some(next) = next {
            args.extend(["--next".to_owned(), next.to_owned()]);
        }
        args
    };
    let b_db = dbs.fresh("floor_b").await?;
    let a_db = dbs.fresh("floor_a").await?;
    let b = procs.spawn(
        "floor hop B",
        &cx.exe,
        &hop(b_port, b_db, None),
        &[],
        dbs.dir(),
    )?;
    let a = procs.spawn(
        "floor hop A",
        &cx.exe,
        &hop(a_port, a_db, Some(b_url.as_str())),
        &[],
        dbs.dir(),
    )?;
    wait_healthy(&cx.client, &mut procs, b, &b_url).await?;
    wait_healthy(&cx.client, &mut procs, a, &a_url).await?;

    let mut runs = Vec::new();
    let mut requests = 0;
    for &c in concurrencies {
        requests += cx.warm_up(&a_url, c).await?.latencies_ms.len();
        let before = [procs.get(a).cpu(), procs.get(b).cpu()];
        let sample = cx.measure(&a_url, c, "floor").await?;
        let after = [procs.get(a).cpu(), procs.get(b).cpu()];
        procs.check_alive()?;
        requests += sample.latencies_ms.len();
        let placement = Percentiles::of(sample.latencies_ms.clone());
        let n = sample.latencies_ms.len();
        runs.push(Run {
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
        });
        report_progress(runs.last().unwrap());
    }
    let footprints = [(a, "floor hop A"), (b, "floor hop B")]
        .into_iter()
        .map(|(i, name)| Footprint {
            backend: cx.backend,
            history: 0,
            service: name.to_owned(),
            handled: requests,
            peak_rss_kib: procs.get(i).peak_rss_kib(),
            idle_cpu_percent: None,
        })
        .collect();
    Ok((runs, footprints))
}

/// The store and the inventory, each mode at each concurrency, then idle.
pub async fn modes(
    cx: &Context,
    dbs: &mut Databases,
    modes: &[IntegrationMode],
    concurrencies: &[usize],
) -> anyhow::Result<(Vec<Run>, Vec<Footprint>)> {
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
    let s = procs.spawn("store", &cx.exe, &["store".to_owned()], &env, dbs.dir())?;
    wait_healthy(&cx.client, &mut procs, s, &format!("{store}/healthz")).await?;
    let i = procs.spawn(
        "inventory",
        &cx.exe,
        &["inventory".to_owned()],
        &env,
        dbs.dir(),
    )?;
    wait_healthy(&cx.client, &mut procs, i, &format!("{inventory}/healthz")).await?;

    if cx.history > 0 {
        databases::skip_history(&inventory_db, cx.history).await?;
    }
    // Enough stock that no mode runs out: shortages are not what is measured.
    let inventory_pool = connect(&inventory_db).await?;
    sqlx::query("UPDATE stock SET on_hand = 100000000")
        .execute(&inventory_pool)
        .await?;
    inventory_pool.close().await;
    wait_subscribed(cx, &mut procs, &store).await?;

    let store_pool = connect(&store_db).await?;
    let mut runs = Vec::new();
    let mut orders = 0;
    for &mode in modes {
        put(
            cx,
            &format!("{store}/api/integration"),
            serde_json::json!({"mode": mode}),
        )
        .await?;
        let poller = serde_json::json!({
            "paused": mode != IntegrationMode::Poll,
            "interval_ms": cx.poll_interval.as_millis() as i64,
        });
        put(cx, &format!("{inventory}/api/poller"), poller).await?;
        for &c in concurrencies {
            let orders_url = format!("{store}/api/orders");
            orders += cx.warm_up(&orders_url, c).await?.ids.len();
            settle(cx, &store_pool, &mut procs, mode, c).await?;
            let exchanges_before =
                count(&store_pool, "SELECT COUNT(*) AS n FROM exchanges").await?;
            let empty_before = empty_polls(&store_pool).await?;
            let before = [procs.get(s).cpu(), procs.get(i).cpu()];
            let sample = cx.measure(&orders_url, c, &format!("{mode} mode")).await?;
            settle(cx, &store_pool, &mut procs, mode, c).await?;
            let after = [procs.get(s).cpu(), procs.get(i).cpu()];
            orders += sample.ids.len();

            let resolution = resolution(&store_pool, &sample.ids).await?;
            let exchanges =
                count(&store_pool, "SELECT COUNT(*) AS n FROM exchanges").await? - exchanges_before;
            let n = sample.ids.len();
            runs.push(Run {
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
                empty_polls: if mode == IntegrationMode::Poll {
                    Some(empty_polls(&store_pool).await? - empty_before)
                } else {
                    None
                },
                outcome: outcome_of(&resolution.statuses, &sample),
                ..cx.run(Subject::Mode(mode), c)
            });
            report_progress(runs.last().unwrap());
        }
        if let Some(max_gap) = one_at_a_time_gap(cx, mode) {
            let run = one_at_a_time(cx, &store, &store_pool, &mut procs, mode, max_gap).await?;
            orders += run.placed;
            runs.push(run);
            report_progress(runs.last().unwrap());
        }
    }
    store_pool.close().await;

    // Idle: webhook mode (nothing to send), the poller paused.
    let mut idle = [None, None];
    if !cx.idle.is_zero() {
        put(
            cx,
            &format!("{store}/api/integration"),
            serde_json::json!({"mode": "webhook"}),
        )
        .await?;
        put(
            cx,
            &format!("{inventory}/api/poller"),
            serde_json::json!({"paused": true}),
        )
        .await?;
        eprintln!("bench: [{}] idle, {:?}", cx.label(), cx.idle);
        tokio::time::sleep(Duration::from_secs(1)).await;
        let before = [procs.get(s).cpu(), procs.get(i).cpu()];
        tokio::time::sleep(cx.idle).await;
        let after = [procs.get(s).cpu(), procs.get(i).cpu()];
        idle = [0, 1].map(|k| Some(idle_percent(before[k], after[k], cx.idle)));
    }
    procs.check_alive()?;
    let footprints = [(s, "store"), (i, "inventory")]
        .into_iter()
        .enumerate()
        .map(|(k, (index, name))| Footprint {
            backend: cx.backend,
            history: cx.history,
            service: name.to_owned(),
            handled: orders,
            peak_rss_kib: procs.get(index).peak_rss_kib(),
            idle_cpu_percent: idle[k],
        })
        .collect();
    Ok((runs, footprints))
}

/// Orders placed one at a time, for the end to end of the patterns whose
/// latency is not the answer's: webhook and poll.
const ONE_AT_A_TIME_ORDERS: usize = 60;

/// The longest pause between two orders placed one at a time: a fifth of
/// the poll interval (so 60 orders span about six polls), or 50 ms for
/// webhooks (no timer to fall between).
fn one_at_a_time_gap(cx: &Context, mode: IntegrationMode) -> Option<Duration> {
    match mode {
        IntegrationMode::Poll => Some(cx.poll_interval / 5),
        IntegrationMode::Webhook => Some(Duration::from_millis(50)),
        IntegrationMode::Api => None,
    }
}

async fn one_at_a_time(
    cx: &Context,
    store: &str,
    pool: &AnyPool,
    procs: &mut Processes,
    mode: IntegrationMode,
    max_gap: Duration,
) -> anyhow::Result<Run> {
    eprintln!(
        "bench: [{}] {mode} mode, one at a time: {ONE_AT_A_TIME_ORDERS} orders, pauses up to {max_gap:?}",
        cx.label()
    );
    let url = format!("{store}/api/orders");
    let sample = load::paced(&cx.client, &url, &cx.body, ONE_AT_A_TIME_ORDERS, max_gap).await?;
    settle(cx, pool, procs, mode, 1).await?;
    let resolution = resolution(pool, &sample.ids).await?;
    Ok(Run {
        placed: sample.ids.len(),
        failed: sample.failed,
        placed_per_s: sample.per_second(),
        resolved_per_s: resolution.per_second(),
        placement: Percentiles::of(sample.latencies_ms.clone()),
        end_to_end: Percentiles::of(resolution.latencies_ms.clone()),
        outcome: outcome_of(&resolution.statuses, &sample),
        ..cx.run(Subject::OneAtATime(mode), 1)
    })
}

/// The store alone, in webhook mode, delivering to a receiver that answers
/// `200` to anything.
pub async fn sender(
    cx: &Context,
    dbs: &mut Databases,
    concurrency: usize,
) -> anyhow::Result<(Run, Footprint)> {
    let store_db = dbs.fresh("sender_store").await?;
    if cx.history > 0 {
        seed(cx, &store_db).await?;
    }
    let mut procs = Processes::default();
    let receiver_port = free_port()?;
    let receiver_url = format!("http://127.0.0.1:{receiver_port}/webhooks");
    let receiver = procs.spawn(
        "receiver",
        &cx.exe,
        &[
            "floor-hop".to_owned(),
            "--port".to_owned(),
            receiver_port.to_string(),
        ],
        &[],
        dbs.dir(),
    )?;
    wait_healthy(&cx.client, &mut procs, receiver, &receiver_url).await?;
    let store_port = free_port()?;
    let store = format!("http://127.0.0.1:{store_port}");
    let env = vec![
        ("STORE_PORT", store_port.to_string()),
        ("STORE_DATABASE_URL", store_db.clone()),
        ("STORE_URL", store.clone()),
        // No inventory: nothing listens there, and webhook mode never calls it.
        (
            "INVENTORY_URL",
            format!("http://127.0.0.1:{}", free_port()?),
        ),
        ("INTEGRATION_MODE", "webhook".to_owned()),
        ("WEBHOOK_ALLOWED_HOSTS", "127.0.0.1".to_owned()),
    ];
    let s = procs.spawn(
        "store (sender only)",
        &cx.exe,
        &["store".to_owned()],
        &env,
        dbs.dir(),
    )?;
    wait_healthy(&cx.client, &mut procs, s, &format!("{store}/healthz")).await?;
    let registered = cx
        .client
        .post(format!("{store}/api/webhook-endpoints"))
        .json(&serde_json::json!({"url": receiver_url}))
        .send()
        .await?;
    if !registered.status().is_success() {
        bail!(
            "registering the receiver with the store answered {}: {}",
            registered.status(),
            registered.text().await.unwrap_or_default()
        );
    }

    let pool = connect(&store_db).await?;
    let orders_url = format!("{store}/api/orders");
    let mut orders = cx.warm_up(&orders_url, concurrency).await?.ids.len();
    delivered(cx, &pool, &mut procs, concurrency).await?;
    let before = procs.get(s).cpu();
    let sample = cx.measure(&orders_url, concurrency, "sender only").await?;
    delivered(cx, &pool, &mut procs, concurrency).await?;
    let after = procs.get(s).cpu();
    orders += sample.ids.len();
    let deliveries = deliveries(&pool, &sample.ids).await?;
    pool.close().await;
    let n = sample.ids.len();
    let run = Run {
        placed: n,
        failed: sample.failed,
        placed_per_s: sample.per_second(),
        resolved_per_s: deliveries.per_second(),
        placement: Percentiles::of(sample.latencies_ms.clone()),
        end_to_end: Percentiles::of(deliveries.latencies_ms.clone()),
        lag_ms: deliveries.lag_ms(),
        cpu_ms: [Some(before.ms_per(after, n)), None],
        outcome: outcome_of(&deliveries.statuses, &sample),
        ..cx.run(Subject::Sender, concurrency)
    };
    report_progress(&run);
    procs.check_alive()?;
    let footprint = Footprint {
        backend: cx.backend,
        history: cx.history,
        service: "store (sender only)".to_owned(),
        handled: orders,
        peak_rss_kib: procs.get(s).peak_rss_kib(),
        idle_cpu_percent: None,
    };
    Ok((run, footprint))
}

async fn seed(cx: &Context, store_db: &str) -> anyhow::Result<()> {
    eprintln!("bench: [{}] seeding the store's history", cx.label());
    let started = std::time::Instant::now();
    databases::seed_history(store_db, cx.history)
        .await
        .context("seeding the history")?;
    eprintln!("bench: seeded in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

fn report_progress(run: &Run) {
    eprintln!(
        "bench:   → {:.0} resolved/s, {:.0} placed/s, placement p50 {:.2} ms, end to end p50 {:.1} ms ({})",
        run.resolved_per_s, run.placed_per_s, run.placement.p50, run.end_to_end.p50, run.outcome
    );
}

async fn connect(url: &str) -> anyhow::Result<AnyPool> {
    Ok(sqlx::any::AnyPoolOptions::new()
        .max_connections(2)
        .connect(url)
        .await?)
}

async fn put(cx: &Context, url: &str, body: serde_json::Value) -> anyhow::Result<()> {
    let response = cx.client.put(url).json(&body).send().await?;
    if !response.status().is_success() {
        bail!("PUT {url} {body} answered {}", response.status());
    }
    Ok(())
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

async fn count(pool: &AnyPool, sql: &'static str) -> anyhow::Result<i64> {
    Ok(sqlx::query(sql).fetch_one(pool).await?.try_get("n")?)
}

/// Feed reads that carried no poll-mode order.
async fn empty_polls(pool: &AnyPool) -> anyhow::Result<i64> {
    count(
        pool,
        "SELECT COUNT(*) AS n FROM exchanges e WHERE e.channel = 'feed' AND NOT EXISTS \
         (SELECT 1 FROM exchange_orders eo JOIN orders o ON o.id = eo.order_id \
          WHERE eo.exchange_id = e.id AND o.mode = 'poll')",
    )
    .await
}

/// Waits until `remaining` says nothing is left, failing if it stops
/// going down for [`NO_PROGRESS_DEADLINE`] or a process dies.
async fn wait_until_none<F, Fut>(
    procs: &mut Processes,
    what: &str,
    mut remaining: F,
) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<i64>>,
{
    let mut best = i64::MAX;
    let mut progress_at = tokio::time::Instant::now();
    loop {
        let left = remaining().await?;
        if left == 0 {
            return Ok(());
        }
        if left < best {
            best = left;
            progress_at = tokio::time::Instant::now();
        }
        procs.check_alive()?;
        if progress_at.elapsed() > NO_PROGRESS_DEADLINE {
            bail!("{left} {what} did not settle: none did for {NO_PROGRESS_DEADLINE:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Until no order of `mode` is pending.
async fn settle(
    cx: &Context,
    pool: &AnyPool,
    procs: &mut Processes,
    mode: IntegrationMode,
    c: usize,
) -> anyhow::Result<()> {
    let what = format!("{mode}-mode orders ({}, c={c})", cx.label());
    wait_until_none(procs, &what, move || async move {
        Ok(
            sqlx::query("SELECT COUNT(*) AS n FROM orders WHERE status = 'pending' AND mode = $1")
                .bind(mode.as_str())
                .fetch_one(pool)
                .await?
                .try_get::<i64, _>("n")?,
        )
    })
    .await
}

/// Until no `order.created` delivery is pending.
async fn delivered(
    cx: &Context,
    pool: &AnyPool,
    procs: &mut Processes,
    c: usize,
) -> anyhow::Result<()> {
    let what = format!("webhook deliveries ({}, sender only, c={c})", cx.label());
    wait_until_none(procs, &what, move || async move {
        Ok(sqlx::query(
            "SELECT COUNT(*) AS n FROM webhook_deliveries \
             WHERE state = 'pending' AND event_type = 'order.created'",
        )
        .fetch_one(pool)
        .await?
        .try_get::<i64, _>("n")?)
    })
    .await
}

/// When each order of a run started and finished, per the store's rows.
#[derive(Debug, Default)]
pub struct Resolution {
    /// Finish − start of each finished order, in milliseconds.
    pub latencies_ms: Vec<f64>,
    /// How many ended in each final state.
    pub statuses: Vec<(String, usize)>,
    pub first_start: Option<i64>,
    pub last_start: Option<i64>,
    pub last_finish: Option<i64>,
}

impl Resolution {
    fn add(&mut self, status: String, start: i64, finish: Option<i64>) {
        match self.statuses.iter_mut().find(|(s, _)| *s == status) {
            Some((_, n)) => *n += 1,
            None => self.statuses.push((status, 1)),
        }
        self.first_start = Some(self.first_start.map_or(start, |t| t.min(start)));
        self.last_start = Some(self.last_start.map_or(start, |t| t.max(start)));
        if let Some(finish) = finish {
            self.latencies_ms.push((finish - start) as f64);
            self.last_finish = Some(self.last_finish.map_or(finish, |t| t.max(finish)));
        }
    }

    /// Finished per second, from the first start to the last finish.
    pub fn per_second(&self) -> f64 {
        match (self.first_start, self.last_finish) {
            (Some(start), Some(finish)) => {
                self.latencies_ms.len() as f64 * 1000.0 / ((finish - start).max(1) as f64)
            }
            _ => 0.0,
        }
    }

    /// From the last start to the last finish.
    pub fn lag_ms(&self) -> Option<f64> {
        Some((self.last_finish? - self.last_start?) as f64)
    }
}

/// Orders `ids`: created → resolved, and their statuses.
async fn resolution(pool: &AnyPool, ids: &[String]) -> anyhow::Result<Resolution> {
    let mut resolution = Resolution::default();
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT status, created_at, resolved_at FROM orders WHERE id IN ({})",
            platform::db::placeholders(1, chunk.len())
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(id.as_str());
        }
        for row in query.fetch_all(pool).await? {
            resolution.add(
                row.try_get("status")?,
                row.try_get("created_at")?,
                row.try_get("resolved_at")?,
            );
        }
    }
    Ok(resolution)
}

/// Orders `ids`: created → their `order.created` delivered.
async fn deliveries(pool: &AnyPool, ids: &[String]) -> anyhow::Result<Resolution> {
    let mut resolution = Resolution::default();
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT d.state, o.created_at, d.completed_at FROM webhook_deliveries d \
             JOIN orders o ON o.id = d.order_id \
             WHERE d.event_type = 'order.created' AND d.order_id IN ({})",
            platform::db::placeholders(1, chunk.len())
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(id.as_str());
        }
        for row in query.fetch_all(pool).await? {
            let state: String = row.try_get("state")?;
            let finish = if state == "succeeded" {
                row.try_get("completed_at")?
            } else {
                None
            };
            resolution.add(state, row.try_get("created_at")?, finish);
        }
    }
    Ok(resolution)
}

fn idle_percent(before: CpuTime, after: CpuTime, window: Duration) -> f64 {
    100.0 * (after.seconds - before.seconds) / window.as_secs_f64().max(1e-9)
}

/// "3998 confirmed, 2 backordered; 1 request failed (503: …)".
fn outcome_of(statuses: &[(String, usize)], sample: &Sample) -> String {
    let mut parts: Vec<String> = statuses.iter().map(|(s, n)| format!("{n} {s}")).collect();
    parts.sort();
    let mut text = parts.join(", ");
    if sample.failed > 0 {
        text.push_str(&format!(
            "; {} request{} failed ({})",
            sample.failed,
            if sample.failed == 1 { "" } else { "s" },
            sample.first_failure.as_deref().unwrap_or("?")
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_counts_from_first_start_to_last_finish() {
        let mut r = Resolution::default();
        r.add("confirmed".into(), 1_000, Some(1_010));
        r.add("confirmed".into(), 1_500, Some(2_000));
        r.add("backordered".into(), 1_200, Some(1_300));
        r.add("pending".into(), 1_900, None);
        assert_eq!(r.latencies_ms, vec![10.0, 500.0, 100.0]);
        // Three finished over one second.
        assert_eq!(r.per_second(), 3.0);
        assert_eq!(
            r.lag_ms(),
            Some(100.0),
            "last start 1900 → last finish 2000"
        );
        assert_eq!(
            r.statuses,
            vec![
                ("confirmed".into(), 2),
                ("backordered".into(), 1),
                ("pending".into(), 1)
            ]
        );
        assert_eq!(Resolution::default().per_second(), 0.0);
        assert_eq!(Resolution::default().lag_ms(), None);
    }

    #[test]
    fn outcomes_say_what_failed() {
        let sample = Sample {
            failed: 2,
            first_failure: Some("503 Service Unavailable: busy".into()),
            ..Sample::default()
        };
        assert_eq!(
            outcome_of(&[("confirmed".into(), 8)], &sample),
            "8 confirmed; 2 requests failed (503 Service Unavailable: busy)"
        );
        assert_eq!(outcome_of(&[("ok".into(), 3)], &Sample::default()), "3 ok");
    }

    #[test]
    fn idle_is_a_share_of_one_core() {
        let before = CpuTime { seconds: 10.0 };
        let after = CpuTime { seconds: 10.05 };
        let pct = idle_percent(before, after, Duration::from_secs(5));
        assert!((pct - 1.0).abs() < 1e-9, "{pct}");
    }
}
