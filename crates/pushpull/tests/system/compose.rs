//! `docker compose up` needs a Docker engine and images the test machines
//! cannot pull, so these tests check the compose set-up against the code as
//! far as that allows: every variable the compose file sets is one the services read,
//! ports and URLs agree across services, the Dockerfile builds and ships
//! what the binary needs — and, last, the real `pushpull` binary is started
//! twice exactly as compose would start it (same command, same
//! environment, service names mapped to 127.0.0.1) against the local
//! PostgreSQL, and an order is placed in each mode.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use clap::CommandFactory;
use serde_norway::Value;

use crate::helpers::eventually;

pub(crate) fn repo_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(name)
}

/// The Dockerfile's instructions, a continued (`\\`) line joined to the
/// next, comments and blank lines left out.
fn dockerfile_instructions() -> Vec<String> {
    let text = std::fs::read_to_string(repo_file("Dockerfile")).expect("Dockerfile");
    let mut instructions = Vec::new();
    let mut current = String::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') || (line.is_empty() && current.is_empty()) {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(part) => {
                current.push_str(part.trim_end());
                current.push(' ');
            }
            None => {
                current.push_str(line);
                instructions.push(std::mem::take(&mut current));
            }
        }
    }
    instructions
}

/// The environment the image gives every container (the runtime stage's
/// `ENV`): what the tests that start the binary "as in the image" set.
pub(crate) fn image_env() -> BTreeMap<String, String> {
    let instructions = dockerfile_instructions();
    let runtime = instructions
        .iter()
        .rposition(|i| i.starts_with("FROM "))
        .expect("a FROM");
    instructions[runtime..]
        .iter()
        .filter_map(|i| i.strip_prefix("ENV "))
        .flat_map(str::split_whitespace)
        .map(|kv| {
            let (k, v) = kv.split_once('=').expect("ENV KEY=VALUE");
            assert!(!v.contains('"'), "unquoted values only: {kv}");
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

fn compose() -> Value {
    let text =
        std::fs::read_to_string(repo_file("docker-compose.yml")).expect("docker-compose.yml");
    let mut value: Value = serde_norway::from_str(&text).expect("valid YAML");
    value.apply_merge().expect("merge keys resolve");
    value
}

fn service<'a>(compose: &'a Value, name: &str) -> &'a Value {
    &compose["services"][name]
}

/// `${VAR:-default}` → VAR's value in `vars`, else the default (which may
/// itself be `${…}`), as compose interpolates.
fn interpolate_with(text: &str, vars: &BTreeMap<&str, &str>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        // The matching brace, counting nested `${`.
        let mut depth = 0;
        let mut end = None;
        for (i, c) in rest[start..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(start + i);
                        break;
                    }
                }
                _ => {}
            }
        }
        let end = end.expect("closed ${");
        let inner = &rest[start + 2..end];
        let (name, default) = inner.split_once(":-").unwrap_or((inner, ""));
        match vars.get(name) {
            Some(value) => out.push_str(value),
            None => out.push_str(&interpolate_with(default, vars)),
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

fn env_of(compose: &Value, name: &str) -> BTreeMap<String, String> {
    env_with(compose, name, &BTreeMap::new())
}

fn env_with(compose: &Value, name: &str, vars: &BTreeMap<&str, &str>) -> BTreeMap<String, String> {
    service(compose, name)["environment"]
        .as_mapping()
        .unwrap_or_else(|| panic!("{name} has an environment map"))
        .iter()
        .map(|(k, v)| {
            let value = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                other => panic!("{name}: unexpected value {other:?}"),
            };
            (
                k.as_str().unwrap().to_owned(),
                interpolate_with(&value, vars),
            )
        })
        .collect()
}

fn command_of(compose: &Value, name: &str) -> Vec<String> {
    service(compose, name)["command"]
        .as_sequence()
        .unwrap_or_else(|| panic!("{name} has a command"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// The environment variables a `pushpull` subcommand reads.
fn variables_read_by(subcommand: &str) -> BTreeSet<String> {
    let cli = pushpull::cli::Cli::command();
    let sub = cli
        .find_subcommand(subcommand)
        .unwrap_or_else(|| panic!("no `{subcommand}` subcommand"));
    sub.get_arguments()
        .filter_map(|a| a.get_env())
        .map(|e| e.to_string_lossy().into_owned())
        .collect()
}

/// `(interface, host port, container port)` of a service's first mapping.
fn published_port(compose: &Value, name: &str, vars: &BTreeMap<&str, &str>) -> (String, u16, u16) {
    let mapping = interpolate_with(
        service(compose, name)["ports"][0]
            .as_str()
            .expect("a published port"),
        vars,
    );
    let parts: Vec<&str> = mapping.split(':').collect();
    let [ip, host, container] = parts[..] else {
        panic!("{name} publishes INTERFACE:HOST:CONTAINER, not {mapping}")
    };
    (
        ip.to_owned(),
        host.parse().unwrap(),
        container.parse().unwrap(),
    )
}

#[test]
fn every_variable_compose_sets_is_one_the_service_reads() {
    let compose = compose();
    for name in ["store", "inventory"] {
        let command = command_of(&compose, name);
        assert_eq!(
            command,
            vec![name.to_owned()],
            "{name} runs `pushpull {name}`"
        );
        let known = variables_read_by(name);
        for var in env_of(&compose, name).keys() {
            assert!(
                known.contains(var),
                "{name} sets {var}, which `pushpull {name}` does not read (it reads {known:?})"
            );
        }
    }
}

#[test]
fn ports_urls_keys_and_databases_agree() {
    let compose = compose();
    let store = env_of(&compose, "store");
    let inventory = env_of(&compose, "inventory");

    // Each service listens where its port is published, on all interfaces.
    assert_eq!(store["STORE_BIND"], "0.0.0.0");
    assert_eq!(inventory["INVENTORY_BIND"], "0.0.0.0");
    let none = BTreeMap::new();
    let (store_ip, store_host, store_container) = published_port(&compose, "store", &none);
    let (inventory_ip, inventory_host, inventory_container) =
        published_port(&compose, "inventory", &none);
    // The demo has no login: reachable from this machine only.
    assert_eq!(
        (store_ip.as_str(), inventory_ip.as_str()),
        ("127.0.0.1", "127.0.0.1")
    );
    assert_eq!(store["STORE_PORT"], store_container.to_string());
    assert_eq!(inventory["INVENTORY_PORT"], inventory_container.to_string());
    assert_eq!(
        (store_host, inventory_host),
        (8080, 8081),
        "the documented ports"
    );

    // Service-to-service URLs use the compose service names and container
    // ports; browser URLs use the published host ports.
    let store_url = format!("http://store:{store_container}");
    let inventory_url = format!("http://inventory:{inventory_container}");
    for env in [&store, &inventory] {
        assert_eq!(env["STORE_URL"], store_url);
        assert_eq!(env["INVENTORY_URL"], inventory_url);
        assert_eq!(
            env["STORE_PUBLIC_URL"],
            format!("http://localhost:{store_host}")
        );
        assert_eq!(
            env["INVENTORY_PUBLIC_URL"],
            format!("http://localhost:{inventory_host}")
        );
        // Both sides hold the same demo keys.
        assert_eq!(env["STORE_API_KEY"], store["STORE_API_KEY"]);
        assert_eq!(env["INVENTORY_API_KEY"], store["INVENTORY_API_KEY"]);
    }
    // The store may deliver webhooks to the inventory's receiver.
    let allowed: Vec<&str> = store["WEBHOOK_ALLOWED_HOSTS"]
        .split(',')
        .map(str::trim)
        .collect();
    assert!(allowed.contains(&"inventory"), "{allowed:?}");

    // Each service has its own database on the postgres service, created by
    // the init script, with the credentials postgres was given.
    let pg = &service(&compose, "postgres")["environment"];
    let user = pg["POSTGRES_USER"].as_str().unwrap();
    let password = pg["POSTGRES_PASSWORD"].as_str().unwrap();
    let init = std::fs::read_to_string(repo_file("docker/postgres-init.sql")).unwrap();
    for (env, var, db) in [
        (&store, "STORE_DATABASE_URL", "store"),
        (&inventory, "INVENTORY_DATABASE_URL", "inventory"),
    ] {
        assert_eq!(
            env[var],
            format!("postgres://{user}:{password}@postgres:5432/{db}")
        );
        assert!(
            init.contains(&format!("CREATE DATABASE {db};")),
            "init script creates {db}"
        );
    }
    let mounts: Vec<&str> = service(&compose, "postgres")["volumes"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        mounts
            .iter()
            .any(|m| m.starts_with("./docker/postgres-init.sql:/docker-entrypoint-initdb.d/"))
    );
    assert!(
        mounts.iter().any(|m| m.starts_with("pgdata:")),
        "a volume keeps the data"
    );

    // Start order: postgres healthy → store healthy → inventory.
    assert_eq!(
        service(&compose, "store")["depends_on"]["postgres"]["condition"],
        "service_healthy"
    );
    assert_eq!(
        service(&compose, "inventory")["depends_on"]["postgres"]["condition"],
        "service_healthy"
    );
    assert_eq!(
        service(&compose, "inventory")["depends_on"]["store"]["condition"],
        "service_healthy"
    );
    // Health checks use the binary itself (the image has no curl), on the
    // port the service listens on.
    for (name, port) in [
        ("store", store_container),
        ("inventory", inventory_container),
    ] {
        let test: Vec<&str> = service(&compose, name)["healthcheck"]["test"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(
            test,
            vec![
                "CMD",
                "pushpull",
                "healthcheck",
                "--url",
                &format!("http://127.0.0.1:{port}/healthz")
            ]
        );
    }
    // Postgres is healthy only once it listens on TCP, which on a first
    // start it does only after the init script has created the databases.
    let pg_check = format!(
        "{:?}",
        service(&compose, "postgres")["healthcheck"]["test"]
            .as_sequence()
            .expect("a postgres health check")
    );
    assert!(pg_check.contains("pg_isready -h 127.0.0.1"), "{pg_check}");

    // One image, built once: by the store; the inventory runs it as is.
    let image = service(&compose, "store")["image"].as_str().unwrap();
    assert_eq!(
        service(&compose, "inventory")["image"].as_str(),
        Some(image)
    );
    assert!(service(&compose, "store")["build"].is_string());
    assert!(service(&compose, "inventory")["build"].is_null());
    assert_eq!(
        service(&compose, "inventory")["pull_policy"].as_str(),
        Some("never")
    );
}

#[test]
fn one_variable_per_service_moves_its_port_and_every_link_to_it() {
    let compose = compose();
    let vars = BTreeMap::from([("STORE_HOST_PORT", "9080"), ("INVENTORY_HOST_PORT", "9081")]);
    assert_eq!(published_port(&compose, "store", &vars).1, 9080);
    assert_eq!(published_port(&compose, "inventory", &vars).1, 9081);
    for name in ["store", "inventory"] {
        let env = env_with(&compose, name, &vars);
        assert_eq!(env["STORE_PUBLIC_URL"], "http://localhost:9080", "{name}");
        assert_eq!(
            env["INVENTORY_PUBLIC_URL"], "http://localhost:9081",
            "{name}"
        );
    }
    // Scaled, a range of host ports; the links keep to the first.
    let scaled = BTreeMap::from([("INVENTORY_HOST_PORTS", "8081-8089")]);
    let mapping = interpolate_with(
        service(&compose, "inventory")["ports"][0].as_str().unwrap(),
        &scaled,
    );
    assert_eq!(mapping, "127.0.0.1:8081-8089:8081");
}

#[test]
fn the_dockerfile_builds_the_launcher_and_ships_only_it_as_non_root() {
    let text = std::fs::read_to_string(repo_file("Dockerfile")).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    let froms: Vec<&&str> = lines.iter().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(froms.len(), 3, "multi-stage: dependencies, build, runtime");
    assert!(
        froms[0].starts_with("FROM rust:") && froms[0].ends_with(" AS deps"),
        "{}",
        froms[0]
    );
    assert_eq!(*froms[1], "FROM deps AS build");
    assert!(
        froms[2].starts_with("FROM debian:") && froms[2].contains("-slim"),
        "{}",
        froms[2]
    );
    // The dependency layer sees only the manifests, so it stays cached
    // while the project's own sources change.
    let deps_stage: Vec<&&str> = lines
        .iter()
        .skip(1)
        .take_while(|l| !l.starts_with("FROM "))
        .collect();
    for copy in deps_stage.iter().filter(|l| l.starts_with("COPY ")) {
        assert!(
            copy.contains("Cargo.toml") || copy.contains("Cargo.lock"),
            "the dependency stage copies only manifests: {copy}"
        );
    }
    assert!(
        deps_stage
            .iter()
            .any(|l| l.contains("cargo build --release --locked -p pushpull")),
        "the dependency stage builds"
    );
    // Shipped without debug info.
    assert!(text.contains("CARGO_PROFILE_RELEASE_STRIP=true"));
    assert!(text.contains("CARGO_PROFILE_RELEASE_DEBUG=false"));
    assert!(text.contains("cargo build --release --locked -p pushpull"));
    // Comments name files that exist.
    for word in text.split_whitespace() {
        let word = word.trim_matches(|c: char| c == '`' || c == ',' || c == '.');
        if word.starts_with("crates/") && word.ends_with(".rs") {
            assert!(
                repo_file(word).exists(),
                "the Dockerfile names {word}, which does not exist"
            );
        }
    }
    let runtime: Vec<&&str> = lines
        .iter()
        .skip_while(|l| !l.starts_with("FROM debian:"))
        .collect();
    let copies: Vec<&&&str> = runtime.iter().filter(|l| l.starts_with("COPY ")).collect();
    assert_eq!(
        copies.len(),
        1,
        "the runtime stage copies only the binary: {copies:?}"
    );
    assert!(
        copies[0].starts_with("COPY --from=build ")
            && copies[0].ends_with("/usr/local/bin/pushpull")
    );
    let user = runtime
        .iter()
        .find(|l| l.starts_with("USER "))
        .expect("a USER line");
    assert_ne!(**user, "USER root");
    assert!(
        runtime
            .iter()
            .any(|l| l.starts_with("ENTRYPOINT [\"pushpull\"]"))
    );
    // Every variable the image sets is read by one of the services.
    let known: BTreeSet<String> = variables_read_by("store")
        .union(&variables_read_by("inventory"))
        .cloned()
        .collect();
    for line in runtime.iter().filter(|l| l.starts_with("ENV ")) {
        for var in line
            .trim_start_matches("ENV ")
            .split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, _)| k)
        {
            assert!(
                known.contains(var) || var == "RUST_LOG",
                "the image sets {var}, which nothing reads"
            );
        }
    }
    // The build context leaves out what would only slow it down.
    let ignore = std::fs::read_to_string(repo_file(".dockerignore")).unwrap();
    assert!(ignore.lines().any(|l| l.trim() == "target"));
}

// ---------------------------------------------------------------------------
// The two binaries, started as compose starts them.
// ---------------------------------------------------------------------------

struct Running(Vec<Child>);

impl Drop for Running {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The compose environment of a service, with the compose network mapped
/// onto this machine: service names → 127.0.0.1, container ports → free
/// local ports, and the postgres service → the test server's databases.
fn as_on_this_machine(
    env: &BTreeMap<String, String>,
    ports: &[(u16, u16)],
    databases: &[(&str, String)],
) -> BTreeMap<String, String> {
    env.iter()
        .map(|(k, v)| {
            let mut v = v.clone();
            for (from, url) in databases {
                if v.ends_with(&format!("@postgres:5432/{from}")) {
                    v = url.clone();
                }
            }
            for (from, to) in ports {
                v = v.replace(&format!(":{from}"), &format!(":{to}"));
                if v == from.to_string() {
                    v = to.to_string();
                }
            }
            for host in ["store", "inventory"] {
                v = v.replace(&format!("http://{host}:"), "http://127.0.0.1:");
                v = v
                    .split(',')
                    .map(|h| if h.trim() == host { "127.0.0.1" } else { h })
                    .collect::<Vec<_>>()
                    .join(",");
            }
            v = v.replace("http://localhost:", "http://127.0.0.1:");
            (k.clone(), v)
        })
        .collect()
}

fn spawn_service(name: &str, env: &BTreeMap<String, String>, dir: &std::path::Path) -> Child {
    let log = std::fs::File::create(dir.join(format!("{name}.log"))).unwrap();
    Command::new(env!("CARGO_BIN_EXE_pushpull"))
        .arg(name)
        .env_clear()
        .envs(env)
        // What the Dockerfile sets, as the image would.
        .env("STORE_BIND", "0.0.0.0")
        .env("INVENTORY_BIND", "0.0.0.0")
        .env("RUST_LOG", "info,sqlx=warn")
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("the pushpull binary starts")
}

fn healthy(url: &str) -> bool {
    Command::new(env!("CARGO_BIN_EXE_pushpull"))
        .args(["healthcheck", "--url", url])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// A fresh database owned by the compose file's user on the test server.
async fn compose_database(user: &str, password: &str, server: &str) -> (String, String) {
    use sqlx::Executor;
    sqlx::any::install_default_drivers();
    let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(server)
        .await
        .unwrap();
    let create_role = format!(
        "DO $$ BEGIN CREATE ROLE {user} LOGIN PASSWORD '{password}'; EXCEPTION WHEN duplicate_object THEN NULL; END $$"
    );
    admin
        .execute(sqlx::AssertSqlSafe(create_role))
        .await
        .unwrap();
    let name = format!("pushpull_compose_{}", uuid_like());
    admin
        .execute(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE {name} OWNER {user}"
        )))
        .await
        .unwrap();
    let mut url = url::Url::parse(server).unwrap();
    url.set_username(user).unwrap();
    url.set_password(Some(password)).unwrap();
    url.set_path(&format!("/{name}"));
    (name, url.to_string())
}

fn uuid_like() -> String {
    format!(
        "{:x}{:x}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

async fn drop_database(server: &str, name: &str) {
    use sqlx::Executor;
    let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(server)
        .await
        .unwrap();
    let _ = admin
        .execute(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binaries_started_as_compose_starts_them_take_an_order_in_each_mode() {
    if !platform::testing::postgres_available(module_path!()) {
        return;
    }
    let server = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
    let compose = compose();
    let pg = &service(&compose, "postgres")["environment"];
    let (user, password) = (
        pg["POSTGRES_USER"].as_str().unwrap(),
        pg["POSTGRES_PASSWORD"].as_str().unwrap(),
    );
    let (store_db, store_url) = compose_database(user, password, &server).await;
    let (inventory_db, inventory_url) = compose_database(user, password, &server).await;

    let (store_port, inventory_port) = (
        platform::testing::free_port(),
        platform::testing::free_port(),
    );
    let ports = [(8080, store_port), (8081, inventory_port)];
    let databases = [("store", store_url), ("inventory", inventory_url)];
    let store_env = as_on_this_machine(&env_of(&compose, "store"), &ports, &databases);
    let inventory_env = as_on_this_machine(&env_of(&compose, "inventory"), &ports, &databases);
    assert_eq!(
        store_env["INVENTORY_URL"],
        format!("http://127.0.0.1:{inventory_port}")
    );

    // An empty working directory: the binary must need nothing beside it.
    let dir = tempfile::tempdir().unwrap();
    let store_health = format!("http://127.0.0.1:{store_port}/healthz");
    let inventory_health = format!("http://127.0.0.1:{inventory_port}/healthz");
    let mut running = Running(vec![spawn_service("store", &store_env, dir.path())]);
    eventually(Duration::from_secs(30), "the store is healthy", || async {
        healthy(&store_health).then_some(())
    })
    .await;
    running
        .0
        .push(spawn_service("inventory", &inventory_env, dir.path()));
    eventually(
        Duration::from_secs(30),
        "the inventory is healthy",
        || async { healthy(&inventory_health).then_some(()) },
    )
    .await;

    let client = reqwest::Client::new();
    let store = format!("http://127.0.0.1:{store_port}");
    let inventory = format!("http://127.0.0.1:{inventory_port}");
    // The inventory subscribed itself at http://inventory:8081 (mapped).
    eventually(
        Duration::from_secs(15),
        "the inventory subscribes",
        || async {
            let endpoints: serde_json::Value = client
                .get(format!("{store}/api/webhook-endpoints"))
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            (endpoints[0]["url"] == format!("http://127.0.0.1:{inventory_port}/webhooks/store"))
                .then_some(())
        },
    )
    .await;

    let stock = |sku: &'static str| {
        let client = client.clone();
        let inventory = inventory.clone();
        async move {
            let all: serde_json::Value = client
                .get(format!("{inventory}/api/stock"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            all.as_array()
                .unwrap()
                .iter()
                .find(|s| s["sku"] == sku)
                .unwrap()["on_hand"]
                .as_i64()
                .unwrap()
        }
    };
    let before = stock("TEA-ASSAM").await;
    for mode in ["webhook", "api", "poll"] {
        let r = client
            .put(format!("{store}/api/integration"))
            .json(&serde_json::json!({"mode": mode}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let order: serde_json::Value = client
            .post(format!("{store}/api/orders"))
            .json(&store::testing::order_body("TEA-ASSAM", 1))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(order["mode"], mode);
        let id = order["id"].as_str().unwrap().to_owned();
        if mode == "poll" {
            // Not waiting out the 5 s interval: ask for a poll now.
            let r = client
                .post(format!("{inventory}/api/poller/poll-now"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        }
        let status = eventually(
            Duration::from_secs(15),
            &format!("the {mode} order settles"),
            || async {
                let o: serde_json::Value = client
                    .get(format!("{store}/api/orders/{id}"))
                    .send()
                    .await
                    .ok()?
                    .json()
                    .await
                    .ok()?;
                let s = o["status"].as_str()?.to_owned();
                (s != "pending").then_some(s)
            },
        )
        .await;
        assert_eq!(status, "confirmed", "{mode}");
    }
    assert_eq!(stock("TEA-ASSAM").await, before - 3);
    drop(running);
    let logs = std::fs::read_to_string(dir.path().join("store.log")).unwrap_or_default();
    assert!(!logs.contains("ERROR"), "the store logged errors:\n{logs}");
    drop_database(&server, &store_db).await;
    drop_database(&server, &inventory_db).await;
}
