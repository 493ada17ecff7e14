//! **Sender only**: the store alone in webhook mode, with one endpoint — a
//! receiver the bench runs that answers `200` to anything (a floor hop with
//! no database and no next hop). No inventory runs: what is measured is how
//! fast the sender's side of push goes, and how far its deliveries trail
//! its intake when a burst ends, from the store's own delivery rows.

use anyhow::bail;

use super::context::{Context, connect, report_progress, seed};
use super::databases::Databases;
use super::floor::hop;
use super::load::Percentiles;
use super::procs::{Processes, free_port, wait_healthy};
use super::readings::{delivered, deliveries, outcome_of};
use super::results::{Footprint, Run, Subject};

/// The store alone, in webhook mode, delivering to a receiver that answers
/// `200` to anything.
pub async fn measure(
    cx: &Context,
    dbs: &mut Databases,
    concurrency: usize,
) -> anyhow::Result<(Run, Footprint)> {
    let store_db = dbs.fresh("sender_store").await?;
    if cx.history > 0 {
        seed(cx, &store_db).await?;
    }
    let mut procs = Processes::default();
    let receiver_url = start_receiver(cx, dbs, &mut procs).await?;
    let (s, store) = start_store(cx, dbs, &mut procs, &store_db).await?;
    register(cx, &store, &receiver_url).await?;

    let pool = connect(&store_db).await?;
    let orders_url = format!("{store}/api/orders");
    let warmed_up = cx.warm_up(&orders_url, concurrency).await?.ids.len();
    delivered(cx, &pool, &mut procs, concurrency).await?;
    let before = procs.get(s).cpu();
    let sample = cx.measure(&orders_url, concurrency, "sender only").await?;
    delivered(cx, &pool, &mut procs, concurrency).await?;
    let after = procs.get(s).cpu();
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
        handled: warmed_up + n,
        peak_rss_kib: procs.get(s).peak_rss_kib(),
        idle_cpu_percent: None,
    };
    Ok((run, footprint))
}

/// A floor hop with no database and no next hop; its URL once it answers.
async fn start_receiver(
    cx: &Context,
    dbs: &Databases,
    procs: &mut Processes,
) -> anyhow::Result<String> {
    let port = free_port()?;
    let url = format!("http://127.0.0.1:{port}/webhooks");
    let receiver = procs.spawn(
        "receiver",
        &cx.launcher,
        &hop::command_line(port, None, None),
        &[],
        dbs.dir(),
    )?;
    wait_healthy(&cx.client, procs, receiver, &url).await?;
    Ok(url)
}

/// `pushpull store` in webhook mode, with no inventory; its index among
/// `procs` and its URL once it is healthy.
async fn start_store(
    cx: &Context,
    dbs: &Databases,
    procs: &mut Processes,
    store_db: &str,
) -> anyhow::Result<(usize, String)> {
    let port = free_port()?;
    let store = format!("http://127.0.0.1:{port}");
    let env = vec![
        ("STORE_PORT", port.to_string()),
        ("STORE_DATABASE_URL", store_db.to_owned()),
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
        &cx.launcher,
        &["store".to_owned()],
        &env,
        dbs.dir(),
    )?;
    wait_healthy(&cx.client, procs, s, &format!("{store}/healthz")).await?;
    Ok((s, store))
}

/// The receiver as the store's one webhook endpoint.
async fn register(cx: &Context, store: &str, receiver_url: &str) -> anyhow::Result<()> {
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
    Ok(())
}
