//! What the `pushpull` binary writes, as an operator and a log collector
//! read it: the real binary, its stdout and stderr captured.
//!
//! - With `LOG_FORMAT=json`, stdout carries only JSON objects, one a line —
//!   the start-up banner included, as an event with the URLs as fields.
//! - The banner names the URLs a person opens (the public ones), never the
//!   address a service binds.
//! - Started as its container starts it (the Dockerfile's environment),
//!   each service logs a line per HTTP request, per webhook attempt and per
//!   poll.
//! - The demo (`cargo run`) prints the README's banner and nothing else.

use std::collections::BTreeMap;
use std::time::Duration;

use platform::testing::free_port;

use crate::compose::{image_env, repo_file};
use crate::process::{Binary, Stream};

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

fn json_object(line: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    match serde_json::from_str(line) {
        Ok(serde_json::Value::Object(map)) => Some(map),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_json_logs_stdout_carries_only_json_objects_the_banner_included() {
    // The image's default command (`demo`) with the image's log filter:
    // what a log collector reads from a container started with
    // LOG_FORMAT=json.
    let dir = tempfile::tempdir().unwrap();
    let (store_port, inventory_port) = (free_port(), free_port());
    let (store_public, inventory_public) = (
        format!("http://localhost:{store_port}"),
        format!("http://localhost:{inventory_port}"),
    );
    let mut vars = image_env();
    vars.extend(env(&[
        ("LOG_FORMAT", "json".into()),
        ("STORE_PORT", store_port.to_string()),
        ("INVENTORY_PORT", inventory_port.to_string()),
        ("STORE_URL", format!("http://127.0.0.1:{store_port}")),
        (
            "INVENTORY_URL",
            format!("http://127.0.0.1:{inventory_port}"),
        ),
        ("STORE_PUBLIC_URL", store_public.clone()),
        ("INVENTORY_PUBLIC_URL", inventory_public.clone()),
    ]));
    let mut demo = Binary::start("the demo", &["demo"], &vars, dir.path());
    let banner = demo
        .line(START, "the start-up banner", |l| {
            l.contains("pushpull is running")
        })
        .await;
    // The services work, and log it: requests, a webhook attempt.
    let store = format!("http://127.0.0.1:{store_port}");
    assert_eq!(place_order_and_wait(&store).await["status"], "confirmed");
    demo.line(START, "a webhook attempt", |l| {
        l.contains("webhook attempt")
    })
    .await;
    let transcript = demo.transcript();
    let lines = demo.stop();

    let banner = json_object(&banner)
        .unwrap_or_else(|| panic!("the banner is a JSON object: {banner}\n{transcript}"));
    let fields = &banner["fields"];
    assert_eq!(fields["store_url"], store_public.as_str(), "{banner:?}");
    assert_eq!(
        fields["inventory_url"],
        inventory_public.as_str(),
        "{banner:?}"
    );
    assert_eq!(fields["mode"], "webhook", "{banner:?}");
    assert_eq!(banner["level"], "INFO");

    let stdout: Vec<&String> = lines
        .iter()
        .filter(|(s, _)| *s == Stream::Stdout)
        .map(|(_, l)| l)
        .collect();
    assert!(stdout.len() > 3, "the services logged:\n{transcript}");
    for line in &stdout {
        assert!(
            json_object(line).is_some(),
            "a line on stdout is not a JSON object: {line}\n{transcript}"
        );
    }
    let stderr: Vec<&String> = lines
        .iter()
        .filter(|(s, _)| *s == Stream::Stderr)
        .map(|(_, l)| l)
        .collect();
    assert!(stderr.is_empty(), "nothing on stderr:\n{transcript}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_service_names_the_url_a_person_opens_not_the_address_it_binds() {
    // As compose runs them: bound to every interface, a public URL given.
    for name in ["store", "inventory"] {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let public = format!("http://localhost:{port}");
        let upper = name.to_uppercase();
        let mut vars = image_env();
        vars.extend(env(&[
            (&format!("{upper}_PORT"), port.to_string()),
            (&format!("{upper}_PUBLIC_URL"), public.clone()),
            // The inventory alone: nobody to subscribe to.
            ("WEBHOOK_SUBSCRIBE", "false".into()),
        ]));
        assert_eq!(vars[&format!("{upper}_BIND")], "0.0.0.0");
        let service = Binary::start(name, &[name], &vars, dir.path());
        let announced = service
            .line(START, "the line naming its port", |l| {
                l.contains(&format!(":{port}"))
            })
            .await;
        assert!(
            announced.contains(&public) && !announced.contains("0.0.0.0"),
            "{name} announces {public}, not its bind address: {announced}"
        );
    }
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

/// The banner the README shows under "Two commands".
fn readme_banner() -> Vec<String> {
    let readme = std::fs::read_to_string(repo_file("README.md")).unwrap();
    let after = readme
        .split_once("`cargo run --release` prints where everything is")
        .expect("the README shows what `cargo run` prints")
        .1;
    let block = after.split("```").nth(1).expect("a code block");
    block
        .lines()
        .skip(1) // the rest of the opening fence's line
        .map(str::to_owned)
        .collect()
}

fn without_blank_ends(lines: &[String]) -> Vec<String> {
    let first = lines.iter().position(|l| !l.trim().is_empty()).unwrap_or(0);
    let last = lines
        .iter()
        .rposition(|l| !l.trim().is_empty())
        .map_or(0, |i| i + 1);
    lines[first..last.max(first)].to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_prints_the_readme_banner_and_stays_quiet_while_it_works() {
    // `cargo run`: no RUST_LOG, no LOG_FORMAT, a terminal's defaults.
    let dir = tempfile::tempdir().unwrap();
    let (store_port, inventory_port) = (free_port(), free_port());
    let vars = env(&[
        ("STORE_PORT", store_port.to_string()),
        ("INVENTORY_PORT", inventory_port.to_string()),
    ]);
    let mut demo = Binary::start("the demo", &[], &vars, dir.path());
    demo.line(START, "the banner's last line", |l| l.contains("Ctrl-C"))
        .await;
    let store = format!("http://127.0.0.1:{store_port}");
    assert_eq!(place_order_and_wait(&store).await["status"], "confirmed");
    let lines = demo.stop();

    let expected: Vec<String> = readme_banner()
        .into_iter()
        .map(|l| {
            l.replace(":8080", &format!(":{store_port}"))
                .replace(":8081", &format!(":{inventory_port}"))
        })
        .collect();
    let printed: Vec<String> = lines.into_iter().map(|(_, l)| l).collect();
    assert_eq!(
        without_blank_ends(&printed),
        without_blank_ends(&expected),
        "the demo prints the README's banner, and no log line while all is well"
    );
}
