//! The floor: the least any store → inventory integration can do per order,
//! built from the same parts as the product so that the difference between
//! the two is the product's own work.
//!
//! A *hop* is an HTTP service that, for every request, does one durable
//! insert and then — if it has a next hop — forwards the body there and
//! answers only after that hop's `2xx`. Two hops in a chain, A → B, are an
//! order's trip with nothing else: two HTTP exchanges and one committed
//! write on each side. No validation, signing, outbox, idempotency record,
//! message log or live events — everything the product adds on top.
//!
//! Same stack, so the comparison is fair: actix-web with its default
//! workers, reqwest with its keep-alive pool, and the database through
//! [`platform::Db`] itself — on SQLite the very same settings as the
//! services (WAL, `synchronous = NORMAL`, one writer connection), on
//! PostgreSQL the same server and pool. Each hop is its own process
//! (`pushpull floor-hop`, hidden from `--help`), so it pays the same
//! process and loopback costs as `pushpull store` and `pushpull inventory`.
//!
//! A hop without a database and without a next hop answers `200` to
//! anything at once: that is the minimal webhook receiver of the bench's
//! "sender only" scenario.
//!
//! [`measure`] drives the two hops like the store, at each concurrency:
//! the reference every other figure of the bench is divided by.

use std::borrow::Cow;
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::Context as _;
use clap::Args;
use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

use platform::{Clock, Db, SystemClock};

use super::context::{Context, report_progress};
use super::databases::Databases;
use super::load::Percentiles;
use super::procs::{Processes, free_port, wait_healthy};
use super::readings::outcome_of;
use super::results::{Footprint, Run, Subject};

#[derive(Debug, Clone, Args)]
pub struct FloorHopArgs {
    /// Port to listen on (127.0.0.1).
    #[arg(long)]
    pub port: u16,
    /// Where the one insert per request goes (sqlite:… or postgres://…);
    /// without it, nothing is written.
    #[arg(long)]
    pub database_url: Option<String>,
    /// The next hop's URL; without it, the hop answers once it has written.
    #[arg(long)]
    pub next: Option<String>,
}

/// The hop's one table: what arrived, and when.
const SCHEMA: &str =
    "CREATE TABLE floor_requests (body TEXT NOT NULL, received_at BIGINT NOT NULL)";

struct Hop {
    db: Option<Db>,
    next: Option<String>,
    client: reqwest::Client,
}

/// Runs one hop until the process is killed.
pub async fn serve(args: FloorHopArgs) -> anyhow::Result<()> {
    let db = match &args.database_url {
        Some(url) => Some(Db::connect(url, &migrator()).await?),
        None => None,
    };
    let hop = web::Data::new(Hop {
        db,
        next: args.next.clone(),
        // As the store's outbound clients: a timeout, no redirects, the
        // default keep-alive pool.
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()?,
    });
    HttpServer::new(move || {
        App::new()
            .app_data(hop.clone())
            .app_data(web::PayloadConfig::new(64 * 1024))
            .default_service(web::to(handle))
    })
    .bind(("127.0.0.1", args.port))
    .with_context(|| format!("binding the floor hop to 127.0.0.1:{}", args.port))?
    .run()
    .await
    .context("running the floor hop")
}

/// One insert, then the next hop.
async fn handle(hop: web::Data<Hop>, body: web::Bytes) -> HttpResponse {
    if let Some(db) = &hop.db {
        let inserted =
            sqlx::query("INSERT INTO floor_requests (body, received_at) VALUES ($1, $2)")
                .bind(String::from_utf8_lossy(&body).into_owned())
                .bind(SystemClock.now().millis())
                .execute(db.writer())
                .await;
        if let Err(e) = inserted {
            return HttpResponse::InternalServerError().body(e.to_string());
        }
    }
    if let Some(next) = &hop.next {
        match hop.client.post(next).body(body).send().await {
            Ok(r) if r.status().is_success() => {}
            Ok(r) => return HttpResponse::BadGateway().body(format!("next hop: {}", r.status())),
            Err(e) => return HttpResponse::BadGateway().body(format!("next hop: {e}")),
        }
    }
    HttpResponse::Ok().finish()
}

/// The schema as a one-migration [`Migrator`], so the hop connects through
/// [`Db::connect`] exactly as the services do.
fn migrator() -> Migrator {
    Migrator {
        migrations: Cow::Owned(vec![Migration::new(
            1,
            Cow::Borrowed("floor requests"),
            MigrationType::Simple,
            SCHEMA.into_sql_str(),
            false,
        )]),
        ..Migrator::DEFAULT
    }
}

/// The floor at each concurrency; the same hops for all of them.
pub async fn measure(
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
