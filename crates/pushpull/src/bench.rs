//! `pushpull bench`: how fast each integration mode is, on this machine,
//! measured against the floor.
//!
//! The benchmark starts the store and the inventory as two real processes
//! (this same binary, `pushpull store` and `pushpull inventory`, on free
//! ports, with fresh SQLite files in a temporary directory), places the same
//! number of orders in each mode with the same concurrency, and reports:
//!
//! * **placement** — what the customer waits for: `POST /api/orders` until
//!   the `201` (in api mode that includes the call to the inventory);
//! * **end to end** — order created until its status is final (confirmed
//!   or otherwise), from the store's own `created_at`/`resolved_at`: the
//!   push's delivery, the api's call, or the poll's interval plus ack;
//! * **requests per order** and **empty polls** — what each pattern costs
//!   on the wire, counted from the store's message log.
//!
//! The floor (`../shared/instruments/floor`, if built) is the least any
//! store → inventory integration can do per order: two HTTP hops and one
//! durable SQLite write on each side. It is driven with the same client,
//! body and concurrency, and the ratio is what to quote — absolute numbers
//! drift between machines. Speed is *measured* here and written to
//! `BENCHMARKS.md`; no test asserts it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use sqlx::Row;

#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Orders placed in each mode.
    #[arg(long, default_value_t = 1000)]
    pub orders: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// The inventory's poll interval during the poll-mode run.
    #[arg(long, default_value = "1s", value_parser = store::integration::retry::parse_duration)]
    pub poll_interval: Duration,
    /// The floor instrument's binary; measured too if it exists.
    #[arg(long, default_value = "target/floor/release/floor")]
    pub floor: PathBuf,
    /// Where to write the report.
    #[arg(long, default_value = "BENCHMARKS.md")]
    pub output: PathBuf,
}

/// Latency percentiles of a sample, in milliseconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Percentiles {
    pub fn of(mut samples: Vec<f64>) -> Percentiles {
        if samples.is_empty() {
            return Percentiles::default();
        }
        samples.sort_by(|a, b| a.total_cmp(b));
        let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
        Percentiles {
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
            max: *samples.last().unwrap(),
        }
    }
}

/// What one mode (or the floor) did.
#[derive(Debug, Clone)]
pub struct ModeResult {
    pub name: String,
    pub orders: usize,
    pub seconds: f64,
    pub placement: Percentiles,
    pub end_to_end: Option<Percentiles>,
    pub statuses: Vec<(String, i64)>,
    pub requests_per_order: Option<f64>,
    pub empty_polls: Option<i64>,
    pub failed_requests: usize,
}

impl ModeResult {
    pub fn throughput(&self) -> f64 {
        self.orders as f64 / self.seconds.max(1e-9)
    }
}

struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

async fn wait_healthy(client: &reqwest::Client, url: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = client.get(url).send().await
            && r.status().is_success()
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{url} did not become healthy");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// POSTs `body` to `url` `n` times, `concurrency` at a time; returns each
/// request's latency (ms), the answers' JSON, and how many failed.
async fn drive(
    client: &reqwest::Client,
    url: &str,
    body: &serde_json::Value,
    n: usize,
    concurrency: usize,
) -> (Vec<f64>, Vec<serde_json::Value>, usize, f64) {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (client, url, body, next) =
            (client.clone(), url.to_owned(), body.clone(), next.clone());
        workers.spawn(async move {
            let mut latencies = Vec::new();
            let mut answers = Vec::new();
            let mut failed = 0;
            while next.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < n {
                let t = Instant::now();
                match client.post(&url).json(&body).send().await {
                    Ok(r) if r.status().is_success() => {
                        let answer = r.json::<serde_json::Value>().await.unwrap_or_default();
                        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
                        answers.push(answer);
                    }
                    _ => failed += 1,
                }
            }
            (latencies, answers, failed)
        });
    }
    let (mut latencies, mut answers, mut failed) = (Vec::new(), Vec::new(), 0);
    while let Some(done) = workers.join_next().await {
        let (l, a, f) = done.expect("worker");
        latencies.extend(l);
        answers.extend(a);
        failed += f;
    }
    (latencies, answers, failed, started.elapsed().as_secs_f64())
}

fn spawn(exe: &Path, args: &[&str], env: &[(&str, String)], dir: &Path) -> anyhow::Result<Child> {
    let log = std::fs::File::create(dir.join(format!("{}.log", args[0])))?;
    Command::new(exe)
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("RUST_LOG", "warn")
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .with_context(|| format!("starting {}", exe.display()))
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: this is a debug build; run `cargo run --release -- bench` for meaningful numbers"
        );
    }
    let exe = std::env::current_exe()?;
    let dir = tempfile::tempdir()?;
    let (store_port, inventory_port) = (free_port()?, free_port()?);
    let store = format!("http://127.0.0.1:{store_port}");
    let inventory = format!("http://127.0.0.1:{inventory_port}");
    let store_db = dir.path().join("store.db");
    let inventory_db = dir.path().join("inventory.db");
    let env = vec![
        ("STORE_PORT", store_port.to_string()),
        ("INVENTORY_PORT", inventory_port.to_string()),
        (
            "STORE_DATABASE_URL",
            format!("sqlite:{}?mode=rwc", store_db.display()),
        ),
        (
            "INVENTORY_DATABASE_URL",
            format!("sqlite:{}?mode=rwc", inventory_db.display()),
        ),
        ("STORE_URL", store.clone()),
        ("INVENTORY_URL", inventory.clone()),
        (
            "POLL_INTERVAL",
            format!("{}ms", args.poll_interval.as_millis()),
        ),
        ("POLL_PAUSED", "true".into()),
    ];
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency * 2)
        .build()?;
    let _children = Children(vec![spawn(&exe, &["store"], &env, dir.path())?]);
    wait_healthy(&client, &format!("{store}/healthz")).await?;
    let mut children = _children;
    children
        .0
        .push(spawn(&exe, &["inventory"], &env, dir.path())?);
    wait_healthy(&client, &format!("{inventory}/healthz")).await?;

    // Enough stock that no mode runs out: shortages are not what is measured.
    sqlx::any::install_default_drivers();
    let inventory_pool =
        sqlx::AnyPool::connect(&format!("sqlite:{}", inventory_db.display())).await?;
    sqlx::query("UPDATE stock SET on_hand = 100000000")
        .execute(&inventory_pool)
        .await?;
    let store_pool = sqlx::AnyPool::connect(&format!("sqlite:{}", store_db.display())).await?;
    // The inventory subscribes itself on start; wait for it.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let endpoints: serde_json::Value = client
            .get(format!("{store}/api/webhook-endpoints"))
            .send()
            .await?
            .json()
            .await?;
        if !endpoints.as_array().map(|a| a.is_empty()).unwrap_or(true) {
            break;
        }
        if Instant::now() > deadline {
            bail!("the inventory did not subscribe to webhooks");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let body = serde_json::json!({
        "customer": {"name": "Bench Customer", "email": "bench@example.com"},
        "items": [{"sku": "TEA-ASSAM", "quantity": 1}, {"sku": "MUG-BLUE", "quantity": 2}]
    });
    let mut results = Vec::new();
    for mode in ["api", "webhook", "poll"] {
        let r = client
            .put(format!("{store}/api/integration"))
            .json(&serde_json::json!({"mode": mode}))
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("could not switch to {mode}");
        }
        let poller = serde_json::json!({"paused": mode != "poll", "interval_ms": args.poll_interval.as_millis() as i64});
        client
            .put(format!("{inventory}/api/poller"))
            .json(&poller)
            .send()
            .await?;
        // A short warm-up, not measured.
        drive(
            &client,
            &format!("{store}/api/orders"),
            &body,
            args.concurrency.min(args.orders),
            args.concurrency,
        )
        .await;
        wait_settled(&store_pool, mode).await?;
        let exchanges_before = count(&store_pool, "SELECT COUNT(*) AS n FROM exchanges").await?;
        let empty_before = empty_polls(&store_pool).await?;
        eprintln!(
            "bench: {mode} mode, {} orders, concurrency {}",
            args.orders, args.concurrency
        );
        let (latencies, answers, failed, seconds) = drive(
            &client,
            &format!("{store}/api/orders"),
            &body,
            args.orders,
            args.concurrency,
        )
        .await;
        wait_settled(&store_pool, mode).await?;
        let ids: Vec<String> = answers
            .iter()
            .filter_map(|a| a["id"].as_str().map(str::to_owned))
            .collect();
        let (e2e, statuses) = end_to_end(&store_pool, &ids).await?;
        let exchanges =
            count(&store_pool, "SELECT COUNT(*) AS n FROM exchanges").await? - exchanges_before;
        results.push(ModeResult {
            name: mode.to_owned(),
            orders: latencies.len(),
            seconds,
            placement: Percentiles::of(latencies),
            end_to_end: Some(Percentiles::of(e2e)),
            statuses,
            requests_per_order: Some(exchanges as f64 / ids.len().max(1) as f64),
            empty_polls: (mode == "poll").then_some(empty_polls(&store_pool).await? - empty_before),
            failed_requests: failed,
        });
    }
    drop(children);

    let floor = if args.floor.exists() {
        Some(run_floor(&args, &client, &body).await?)
    } else {
        eprintln!(
            "bench: no floor binary at {} (build it: cargo build --release --manifest-path ../shared/instruments/floor/Cargo.toml --target-dir target/floor)",
            args.floor.display()
        );
        None
    };
    let report = render(&args, &results, floor.as_ref());
    std::fs::write(&args.output, &report)
        .with_context(|| format!("writing {}", args.output.display()))?;
    println!("{report}");
    println!("(written to {})", args.output.display());
    Ok(())
}

async fn count(pool: &sqlx::AnyPool, sql: &'static str) -> anyhow::Result<i64> {
    Ok(sqlx::query(sql).fetch_one(pool).await?.try_get("n")?)
}

/// Feed reads that carried no poll-mode order.
async fn empty_polls(pool: &sqlx::AnyPool) -> anyhow::Result<i64> {
    count(
        pool,
        "SELECT COUNT(*) AS n FROM exchanges e WHERE e.channel = 'feed' AND NOT EXISTS \
         (SELECT 1 FROM exchange_orders eo JOIN orders o ON o.id = eo.order_id \
          WHERE eo.exchange_id = e.id AND o.mode = 'poll')",
    )
    .await
}

async fn wait_settled(pool: &sqlx::AnyPool, mode: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let pending: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM orders WHERE status = 'pending' AND mode = $1")
                .bind(mode)
                .fetch_one(pool)
                .await?
                .try_get("n")?;
        if pending == 0 {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{pending} {mode} orders never settled");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn end_to_end(
    pool: &sqlx::AnyPool,
    ids: &[String],
) -> anyhow::Result<(Vec<f64>, Vec<(String, i64)>)> {
    let mut latencies = Vec::with_capacity(ids.len());
    let mut statuses: std::collections::BTreeMap<String, i64> = Default::default();
    for id in ids {
        let row = sqlx::query("SELECT status, created_at, resolved_at FROM orders WHERE id = $1")
            .bind(id)
            .fetch_one(pool)
            .await?;
        let status: String = row.try_get("status")?;
        *statuses.entry(status).or_default() += 1;
        if let Some(resolved) = row.try_get::<Option<i64>, _>("resolved_at")? {
            latencies.push((resolved - row.try_get::<i64, _>("created_at")?) as f64);
        }
    }
    Ok((latencies, statuses.into_iter().collect()))
}

async fn run_floor(
    args: &BenchArgs,
    client: &reqwest::Client,
    body: &serde_json::Value,
) -> anyhow::Result<ModeResult> {
    let dir = tempfile::tempdir()?;
    let (a, b) = (free_port()?, free_port()?);
    let hop = |port: u16, db: &str, next: String| -> anyhow::Result<Child> {
        Command::new(&args.floor)
            .args([
                "hop",
                &port.to_string(),
                &dir.path().join(db).display().to_string(),
                &next,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting the floor")
    };
    let _floor = Children(vec![
        hop(b, "b.db", "-".into())?,
        hop(a, "a.db", format!("http://127.0.0.1:{b}/"))?,
    ]);
    let url = format!("http://127.0.0.1:{a}/");
    let deadline = Instant::now() + Duration::from_secs(10);
    while client
        .post(&url)
        .json(body)
        .send()
        .await
        .map(|r| !r.status().is_success())
        .unwrap_or(true)
    {
        if Instant::now() > deadline {
            bail!("the floor did not start");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!(
        "bench: floor, {} requests, concurrency {}",
        args.orders, args.concurrency
    );
    drive(client, &url, body, args.concurrency, args.concurrency).await;
    let (latencies, _, failed, seconds) =
        drive(client, &url, body, args.orders, args.concurrency).await;
    Ok(ModeResult {
        name: "floor".into(),
        orders: latencies.len(),
        seconds,
        placement: Percentiles::of(latencies),
        end_to_end: None,
        statuses: Vec::new(),
        requests_per_order: Some(1.0),
        empty_polls: None,
        failed_requests: failed,
    })
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cpus} cores, {model}")
}

fn ms(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

pub fn render(args: &BenchArgs, results: &[ModeResult], floor: Option<&ModeResult>) -> String {
    let date = contract::Timestamp(platform::Clock::now_ms(&platform::SystemClock)).to_rfc3339();
    let mut out = String::new();
    out.push_str("# Benchmarks\n\n");
    out.push_str(
        "Written by `cargo run --release -- bench` (see `crates/pushpull/src/bench.rs`). ",
    );
    out.push_str(
        "Store and inventory run as two processes on SQLite; the client drives `POST /api/orders` ",
    );
    out.push_str("with a two-line order. Absolute numbers drift between machines: compare modes, and quote ratios to the floor.\n\n");
    out.push_str(&format!(
        "- date: {date}\n- machine: {}\n- build: {}\n- orders per mode: {}, concurrency: {}, poll interval: {} ms\n\n",
        machine(),
        if cfg!(debug_assertions) { "debug (numbers are not meaningful)" } else { "release" },
        args.orders,
        args.concurrency,
        args.poll_interval.as_millis()
    ));
    out.push_str("| mode | orders/s | placement p50 / p90 / p99 (ms) | end to end p50 / p90 / p99 (ms) | requests per order | empty polls | outcome |\n");
    out.push_str("|---|---:|---|---|---:|---:|---|\n");
    for r in results.iter().chain(floor) {
        let e2e = r
            .end_to_end
            .map(|p| format!("{} / {} / {}", ms(p.p50), ms(p.p90), ms(p.p99)))
            .unwrap_or_else(|| "—".into());
        let statuses = if r.statuses.is_empty() {
            format!("{} ok, {} failed", r.orders, r.failed_requests)
        } else {
            let mut s: Vec<String> = r.statuses.iter().map(|(k, v)| format!("{v} {k}")).collect();
            if r.failed_requests > 0 {
                s.push(format!("{} failed requests", r.failed_requests));
            }
            s.join(", ")
        };
        out.push_str(&format!(
            "| {} | {:.0} | {} / {} / {} | {} | {} | {} | {} |\n",
            r.name,
            r.throughput(),
            ms(r.placement.p50),
            ms(r.placement.p90),
            ms(r.placement.p99),
            e2e,
            r.requests_per_order
                .map(|x| format!("{x:.2}"))
                .unwrap_or_else(|| "—".into()),
            r.empty_polls
                .map(|x| x.to_string())
                .unwrap_or_else(|| "—".into()),
            statuses
        ));
    }
    if let (Some(floor), Some(api)) = (floor, results.iter().find(|r| r.name == "api")) {
        out.push_str(&format!(
            "\n**Against the floor** (two hops, one SQLite write each, nothing else): api mode — the like-for-like \
             comparison, since both answer only after the second service has written — reaches {:.0} % of the \
             floor's throughput, and its median placement takes {:.1}× the floor's.\n",
            100.0 * api.throughput() / floor.throughput().max(1e-9),
            api.placement.p50 / floor.placement.p50.max(1e-9)
        ));
    }
    out.push_str(
        "\n## Reading the numbers\n\n\
         - **Placement** is what the customer waits for. In api mode it includes the synchronous call to the \
         inventory, so it is the slowest to answer — and the only mode that cannot oversell. Webhook and poll \
         modes answer as soon as the order (and, for webhooks, its outbox event) is committed.\n\
         - **End to end** is order created → status final. One order at a time (the demo), a webhook lands \
         within milliseconds of the commit and a poll within one interval. In a burst like this one, both are \
         queueing: the dispatcher sends at most `WEBHOOK_MAX_IN_FLIGHT` attempts at once, each a write on both \
         sides, and the poller reads a page and then acknowledges its orders one by one.\n\
         - **Requests per order** counts every HTTP exchange the store logged (webhook attempts, api calls, feed \
         reads, acknowledgements) divided by the orders of the run; a poll that finds nothing still costs a request.\n\
         - What the project does beyond the floor, per order: validation, pricing, an idempotency record, the \
         feed sequence, the outbox, the message log on both sides, Standard Webhooks signing and verification, \
         live events for the UI.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_right_samples() {
        let p = Percentiles::of((1..=100).map(f64::from).collect());
        assert_eq!(p.p50, 51.0); // index round(99 × 0.5) = 50 (0-based) → 51
        assert_eq!(p.p90, 90.0);
        assert_eq!(p.p99, 99.0);
        assert_eq!(p.max, 100.0);
        assert_eq!(Percentiles::of(vec![]).p50, 0.0);
        assert_eq!(Percentiles::of(vec![7.0]).p99, 7.0);
    }

    #[test]
    fn the_report_states_its_conditions_and_the_floor_ratio() {
        let args = BenchArgs {
            orders: 10,
            concurrency: 2,
            poll_interval: Duration::from_secs(1),
            floor: PathBuf::from("x"),
            output: PathBuf::from("y"),
        };
        let p = Percentiles {
            p50: 2.0,
            p90: 3.0,
            p99: 4.0,
            max: 5.0,
        };
        let api = ModeResult {
            name: "api".into(),
            orders: 10,
            seconds: 1.0,
            placement: p,
            end_to_end: Some(p),
            statuses: vec![("confirmed".into(), 10)],
            requests_per_order: Some(1.0),
            empty_polls: None,
            failed_requests: 0,
        };
        let floor = ModeResult {
            name: "floor".into(),
            seconds: 0.5,
            end_to_end: None,
            statuses: vec![],
            ..api.clone()
        };
        let text = render(&args, std::slice::from_ref(&api), Some(&floor));
        assert!(
            text.contains(
                "| api | 10 | 2.0 / 3.0 / 4.0 | 2.0 / 3.0 / 4.0 | 1.00 | — | 10 confirmed |"
            ),
            "{text}"
        );
        assert!(text.contains("50 % of the floor's throughput"), "{text}");
        assert!(text.contains("orders per mode: 10, concurrency: 2"));
    }
}
