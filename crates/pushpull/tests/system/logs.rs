//! What the `pushpull` binary writes, as an operator and a log collector
//! read it: the real binary, its stdout and stderr captured.
//!
//! - Started as its container starts it (the Dockerfile's environment),
//!   each service logs a line per HTTP request, per webhook attempt and per
//!   poll.

use std::collections::BTreeMap;
use std::time::Duration;

use platform::testing::free_port;

use crate::compose::image_env;
use crate::process::Binary;

const START: Duration = Duration::from_secs(30);

fn env(pairs: &[(&str, String)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

async fn healthy(url: &str) -> Option<()> {
    let response = reqwest::get(format!("{url}/healthz")).await.ok()?;
    response.status().is_success().then_some(())
}

/// Places an order, once the inventory has subscribed to the store's
/// webhooks, and waits until the store has it resolved.
async fn place_order_and_wait(store: &str) -> serde_json::Value {
    let client = reqwest::Client::new();
    crate::helpers::eventually(START, "the inventory subscribes", || async {
        let endpoints: serde_json::Value = client
            .get(format!("{store}/api/webhook-endpoints"))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        (!endpoints.as_array()?.is_empty()).then_some(())
    })
    .await;
    let order: serde_json::Value = client
        .post(format!("{store}/api/orders"))
        .json(&store::testing::order_body("TEA-ASSAM", 1))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = order["id"].as_str().expect("an order id").to_owned();
    crate::helpers::eventually(START, "the order is resolved", || async {
        let o: serde_json::Value = client
            .get(format!("{store}/api/orders/{id}"))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        (o["status"] != "pending").then_some(o)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_container_each_request_webhook_attempt_and_poll_logs_a_line() {
    // Both services as their containers start them: the image's
    // environment (its RUST_LOG above all), text logs, SQLite in an empty
    // directory instead of the compose PostgreSQL.
    let dir = tempfile::tempdir().unwrap();
    let (store_port, inventory_port) = (free_port(), free_port());
    let (store, inventory) = (
        format!("http://127.0.0.1:{store_port}"),
        format!("http://127.0.0.1:{inventory_port}"),
    );
    let mut vars = image_env();
    assert!(
        vars.contains_key("RUST_LOG"),
        "the image sets its log filter"
    );
    vars.extend(env(&[
        ("STORE_PORT", store_port.to_string()),
        ("INVENTORY_PORT", inventory_port.to_string()),
        ("STORE_URL", store.clone()),
        ("INVENTORY_URL", inventory.clone()),
        // Polls only when asked (below), so the one line is the one asked for.
        ("POLL_PAUSED", "true".into()),
    ]));
    let store_process = Binary::start("the store", &["store"], &vars, dir.path());
    crate::helpers::eventually(START, "the store is healthy", || healthy(&store)).await;
    let inventory_process = Binary::start("the inventory", &["inventory"], &vars, dir.path());
    crate::helpers::eventually(START, "the inventory is healthy", || healthy(&inventory)).await;
    inventory_process
        .line(START, "the inventory subscribed", |l| {
            l.contains("subscribed to the store's webhooks")
        })
        .await;

    // A request, and the webhook it sets off (webhook mode, the default).
    assert_eq!(place_order_and_wait(&store).await["status"], "confirmed");
    let request = |method: &'static str, path: &'static str, status: u16| {
        move |l: &str| {
            l.contains("answered")
                && l.contains(&format!("method={method}"))
                && l.contains(&format!("path={path} "))
                && l.contains(&format!("status={status}"))
        }
    };
    store_process
        .line(
            START,
            "the line of POST /api/orders",
            request("POST", "/api/orders", 201),
        )
        .await;
    store_process
        .line(START, "the line of the webhook attempt", |l| {
            l.contains("webhook attempt") && l.contains("status=200")
        })
        .await;
    inventory_process
        .line(
            START,
            "the line of the webhook received",
            request("POST", "/webhooks/store", 200),
        )
        .await;

    // A poll, asked for now: one line, saying what it found.
    let r = reqwest::Client::new()
        .post(format!("{inventory}/api/poller/poll-now"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    inventory_process
        .line(START, "the line of the poll", |l| {
            l.contains("polled the store's feed") && l.contains("orders_seen=")
        })
        .await;
    store_process
        .line(
            START,
            "the line of the feed read",
            request("GET", "/api/orders", 200),
        )
        .await;

    // The health checks a container's probe makes every few seconds are
    // not worth a line each at this level.
    for mut process in [store_process, inventory_process] {
        let lines = process.stop();
        assert!(
            !lines.iter().any(|(_, l)| l.contains("path=/healthz")),
            "{}",
            process.transcript()
        );
        assert!(
            !lines.iter().any(|(_, l)| l.contains("ERROR")),
            "{}",
            process.transcript()
        );
    }
}
