//! `docker compose up` needs a Docker engine and images the test machines
//! cannot pull, so these tests check the compose set-up against the code as
//! far as that allows: every variable the compose file sets is one the services read,
//! ports and URLs agree across services (in every recipe the docs give),
//! each demo credential is written once, the image is built and never
//! pulled, the Dockerfile builds and ships what the binary needs (its
//! dependency stage knowing every crate of the workspace). Then
//! what can run here runs: PostgreSQL's health check against the local
//! server, and the real `pushpull` binary started twice exactly as compose
//! would start it (same command, the image's and the service's
//! environment, service names mapped to 127.0.0.1) against the local
//! PostgreSQL, an order placed in each mode and its trip read in the logs.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use clap::CommandFactory;
use serde_norway::Value;

use crate::helpers::eventually;
use crate::process::{Binary, Stream};

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

/// The postgres service's health check, as its shell runs it.
fn postgres_health_check(compose: &Value) -> String {
    let test: Vec<&str> = service(compose, "postgres")["healthcheck"]["test"]
        .as_sequence()
        .expect("a postgres health check")
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let ["CMD-SHELL", command] = test[..] else {
        panic!("a CMD-SHELL check, not {test:?}")
    };
    // `$$` is compose's escape for a `$` it leaves to the shell.
    command.replace("$$", "$")
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

/// A service's first port mapping, interpolated with `vars`.
struct Published {
    interface: String,
    /// The host ports: one, or a range when the service is scaled (each
    /// replica gets one of them, the first free one first).
    host: RangeInclusive<u16>,
    container: u16,
}

fn published(compose: &Value, name: &str, vars: &BTreeMap<&str, &str>) -> Published {
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
    let port = |p: &str| -> u16 {
        p.parse()
            .unwrap_or_else(|_| panic!("{name}: a port, not {p:?} in {mapping}"))
    };
    let host = match host.split_once('-') {
        Some((first, last)) => port(first)..=port(last),
        None => port(host)..=port(host),
    };
    assert!(!host.is_empty(), "{name}: an empty range in {mapping}");
    Published {
        interface: ip.to_owned(),
        host,
        container: port(container),
    }
}

/// The port of a URL (`http://localhost:8080` → 8080).
fn port_of(url: &str) -> u16 {
    url::Url::parse(url)
        .unwrap_or_else(|e| panic!("{url}: {e}"))
        .port_or_known_default()
        .unwrap()
}

/// libpq's variables that the PostgreSQL driver (sqlx) reads itself: the
/// password, when a database URL names none. Not flags of ours.
const READ_BY_THE_DRIVER: [&str; 1] = ["PGPASSWORD"];

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
                known.contains(var) || READ_BY_THE_DRIVER.contains(&var.as_str()),
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
    let (store_published, inventory_published) = (
        published(&compose, "store", &none),
        published(&compose, "inventory", &none),
    );
    // The demo has no login: reachable from this machine only.
    assert_eq!(
        (
            store_published.interface.as_str(),
            inventory_published.interface.as_str()
        ),
        ("127.0.0.1", "127.0.0.1")
    );
    let (store_container, inventory_container) =
        (store_published.container, inventory_published.container);
    let (store_host, inventory_host) = (
        *store_published.host.start(),
        *inventory_published.host.start(),
    );
    assert!(store_published.host.len() == 1 && inventory_published.host.len() == 1);
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
    let init = std::fs::read_to_string(repo_file("docker/postgres-init.sql")).unwrap();
    for (env, var, db) in [
        (&store, "STORE_DATABASE_URL", "store"),
        (&inventory, "INVENTORY_DATABASE_URL", "inventory"),
    ] {
        // No password in the URL: the driver reads it from PGPASSWORD
        // (see `the_demo_credentials_are_written_once`).
        assert_eq!(env[var], format!("postgres://{user}@postgres:5432/{db}"));
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
    // Postgres is healthy only once each service's database answers, over
    // TCP: on a first start the init script runs with TCP closed, so a check
    // over TCP cannot pass before the script has finished. (`pg_isready -d`
    // passes for a database that does not exist.) The check is run for real
    // in `the_postgres_health_check_fails_until_both_databases_exist`.
    let check = postgres_health_check(&compose);
    for db in ["store", "inventory"] {
        assert!(
            check.contains(&format!("psql -h 127.0.0.1 -U {user} -d {db} ")),
            "{check}"
        );
    }
    assert!(!check.contains("pg_isready"), "{check}");
}

#[test]
fn the_image_is_built_here_and_never_pulled() {
    let compose = compose();
    // One image, built once: by the store; the inventory runs it as is.
    let image = service(&compose, "store")["image"].as_str().unwrap();
    assert_eq!(
        service(&compose, "inventory")["image"].as_str(),
        Some(image)
    );
    assert!(service(&compose, "store")["build"].is_string());
    assert!(service(&compose, "inventory")["build"].is_null());
    // No registry has `pushpull:local`: without `pull_policy: build` a
    // first `docker compose up` tries to pull it before building it.
    assert_eq!(
        service(&compose, "store")["pull_policy"].as_str(),
        Some("build")
    );
    assert_eq!(
        service(&compose, "inventory")["pull_policy"].as_str(),
        Some("never")
    );
}

#[test]
fn the_demo_credentials_are_written_once() {
    let text = std::fs::read_to_string(repo_file("docker-compose.yml")).unwrap();
    let compose = compose();
    let store = env_of(&compose, "store");
    let inventory = env_of(&compose, "inventory");
    let password = service(&compose, "postgres")["environment"]["POSTGRES_PASSWORD"]
        .as_str()
        .expect("postgres is given a password");
    for (what, secret) in [
        ("the database password", password),
        ("the store's API key", &store["STORE_API_KEY"]),
        ("the inventory's API key", &store["INVENTORY_API_KEY"]),
    ] {
        assert_eq!(
            text.matches(secret).count(),
            1,
            "{what} ({secret}) is written once in docker-compose.yml, and used from there"
        );
    }
    // Both services' PostgreSQL driver gets the password postgres was given.
    for env in [&store, &inventory] {
        assert_eq!(env["PGPASSWORD"], password);
    }
}

#[test]
fn one_variable_per_service_moves_its_port_and_every_link_to_it() {
    let compose = compose();
    let vars = BTreeMap::from([("STORE_HOST_PORT", "9080"), ("INVENTORY_HOST_PORT", "9081")]);
    assert_eq!(published(&compose, "store", &vars).host, 9080..=9080);
    assert_eq!(published(&compose, "inventory", &vars).host, 9081..=9081);
    for name in ["store", "inventory"] {
        let env = env_with(&compose, name, &vars);
        assert_eq!(env["STORE_PUBLIC_URL"], "http://localhost:9080", "{name}");
        assert_eq!(
            env["INVENTORY_PUBLIC_URL"], "http://localhost:9081",
            "{name}"
        );
    }
}

/// A `VAR=value … docker compose up [--scale service=N]` the docs give.
#[derive(Debug)]
struct Recipe {
    vars: BTreeMap<String, String>,
    scale: Option<(String, usize)>,
}

/// Every `docker compose up` in `text`, with the variables written before
/// it and the `--scale` after it (a recipe may wrap across lines).
fn recipes(text: &str) -> Vec<Recipe> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let bare = |w: &str| w.trim_matches(|c: char| "`().,;:".contains(c)).to_owned();
    let mut found = Vec::new();
    for (i, window) in words.windows(3).enumerate() {
        if [bare(window[0]), bare(window[1]), bare(window[2])] != ["docker", "compose", "up"] {
            continue;
        }
        let mut vars = BTreeMap::new();
        for word in words[..i].iter().rev().map(|w| bare(w)) {
            match word.split_once('=') {
                Some((k, v))
                    if !k.is_empty()
                        && k.chars()
                            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_') =>
                {
                    vars.insert(k.to_owned(), v.to_owned());
                }
                _ => break,
            }
        }
        let scale = match (words.get(i + 3), words.get(i + 4)) {
            (Some(&"--scale"), Some(what)) => {
                let (name, n) = bare(what)
                    .split_once('=')
                    .map(|(a, b)| (a.to_owned(), b.to_owned()))
                    .unwrap();
                Some((name, n.parse().unwrap()))
            }
            _ => None,
        };
        found.push(Recipe { vars, scale });
    }
    found
}

#[test]
fn every_recipe_the_docs_give_publishes_each_service_where_its_links_point() {
    let compose = compose();
    // The recipes are in docs/operations.md, but any document a reader
    // follows may quote one, and a quoted recipe is run as written.
    let docs: String = crate::tour::DOCUMENTS
        .iter()
        .map(|document| std::fs::read_to_string(repo_file(document)).unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    let compose_comments: String = std::fs::read_to_string(repo_file("docker-compose.yml"))
        .unwrap()
        .lines()
        .filter_map(|l| l.trim().strip_prefix('#'))
        .collect::<Vec<_>>()
        .join("\n");
    let in_docs = recipes(&docs);
    assert!(
        in_docs.iter().filter(|r| r.scale.is_some()).count() >= 2,
        "the docs give a scaling recipe for each service: {in_docs:?}"
    );
    let in_compose = recipes(&compose_comments);
    assert!(
        in_compose.iter().filter(|r| r.scale.is_some()).count() >= 2,
        "so do the compose file's comments: {in_compose:?}"
    );
    let all: Vec<Recipe> = in_docs.into_iter().chain(in_compose).collect();
    for recipe in &all {
        let vars: BTreeMap<&str, &str> = recipe
            .vars
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let store = published(&compose, "store", &vars).host;
        let inventory = published(&compose, "inventory", &vars).host;
        // Docker gives each replica a free port of the range, the first
        // one first; a range that reaches into the other service's ports
        // takes them from it (or the other way round, whichever starts first).
        assert!(
            store.end() < inventory.start() || inventory.end() < store.start(),
            "{recipe:?}: the store's host ports {store:?} and the inventory's {inventory:?} overlap"
        );
        if let Some((name, replicas)) = &recipe.scale {
            let range = if name == "store" { &store } else { &inventory };
            assert!(
                range.len() >= *replicas,
                "{recipe:?}: {replicas} replicas of {name} on {range:?}"
            );
        }
        // Every link to a service (in either service's environment) goes
        // to the first port it is published on: a replica is there.
        for name in ["store", "inventory"] {
            let env = env_with(&compose, name, &vars);
            for (var, ports) in [
                ("STORE_PUBLIC_URL", &store),
                ("INVENTORY_PUBLIC_URL", &inventory),
            ] {
                assert_eq!(
                    port_of(&env[var]),
                    *ports.start(),
                    "{recipe:?}: {name}'s {var} is {}, but that service is published on {ports:?}",
                    env[var]
                );
            }
        }
    }
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
    // Every variable the image sets is read by one of the services, and
    // its log filter is theirs: a container logs what `pushpull store` does.
    let known: BTreeSet<String> = variables_read_by("store")
        .union(&variables_read_by("inventory"))
        .cloned()
        .collect();
    let image = image_env();
    for var in image.keys() {
        assert!(
            known.contains(var) || var == "RUST_LOG",
            "the image sets {var}, which nothing reads"
        );
    }
    assert_eq!(image["RUST_LOG"], pushpull::output::SERVICE_LOGS);
    // The build context leaves out what would only slow it down.
    let ignore = std::fs::read_to_string(repo_file(".dockerignore")).unwrap();
    assert!(ignore.lines().any(|l| l.trim() == "target"));
}

/// The workspace's members (`crates/…`), as its `Cargo.toml` lists them.
fn workspace_members() -> Vec<String> {
    let manifest = std::fs::read_to_string(repo_file("Cargo.toml")).expect("Cargo.toml");
    let (_, after) = manifest
        .split_once("members = [")
        .expect("the workspace lists its members");
    let (list, _) = after.split_once(']').expect("a closed list of members");
    list.split(',')
        .map(|m| m.trim().trim_matches('"').to_owned())
        .filter(|m| !m.is_empty())
        .collect()
}

#[test]
fn the_dependency_stage_knows_every_crate_of_the_workspace() {
    // Without a member's manifest the workspace does not load in the
    // image's build; without its placeholder source cargo has nothing to
    // compile its dependencies against. Either fails only in `docker
    // build`, which the test machines cannot run.
    let instructions = dockerfile_instructions();
    let deps: Vec<&String> = instructions
        .iter()
        .skip(1)
        .take_while(|i| !i.starts_with("FROM "))
        .collect();
    let placeholders = deps
        .iter()
        .find(|i| i.starts_with("RUN ") && i.contains("cargo build"))
        .expect("the dependency stage builds on placeholder sources");
    // The crates whose `src/lib.rs` the `for crate in …; do` loop writes.
    let looped: Vec<&str> = placeholders
        .split_once("for crate in ")
        .and_then(|(_, rest)| rest.split_once(';'))
        .map(|(names, _)| names.split_whitespace().collect())
        .unwrap_or_default();
    let members = workspace_members();
    assert!(
        members.iter().any(|m| m == "crates/bench"),
        "the bench is a crate of the workspace: {members:?}"
    );
    for member in &members {
        let name = member.strip_prefix("crates/").unwrap_or(member);
        assert!(
            deps.iter()
                .any(|i| **i == format!("COPY {member}/Cargo.toml {member}/")),
            "the dependency stage copies {member}/Cargo.toml"
        );
        for target in ["lib.rs", "main.rs"] {
            if !repo_file(&format!("{member}/src/{target}")).exists() {
                continue;
            }
            let written = placeholders.contains(&format!("{member}/src/{target}"))
                || (target == "lib.rs"
                    && looped.contains(&name)
                    && placeholders.contains("crates/$crate/src/lib.rs"));
            assert!(
                written,
                "the dependency stage writes a placeholder {member}/src/{target}: {placeholders}"
            );
        }
    }
    // Nothing copied for a crate that is gone.
    let manifests = deps
        .iter()
        .filter(|i| i.starts_with("COPY crates/"))
        .count();
    assert_eq!(manifests, members.len(), "one manifest per member");
}

// ---------------------------------------------------------------------------
// The two binaries, started as compose starts them.
// ---------------------------------------------------------------------------

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

/// `pushpull NAME` as its container starts it: the image's environment,
/// then the service's from compose (which wins, as in a container).
fn spawn_service(name: &str, env: &BTreeMap<String, String>, dir: &std::path::Path) -> Binary {
    let mut vars = image_env();
    vars.extend(env.clone());
    Binary::start(name, &[name], &vars, dir)
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

/// The user and password compose gives postgres.
fn compose_credentials(compose: &Value) -> (String, String) {
    let pg = &service(compose, "postgres")["environment"];
    (
        pg["POSTGRES_USER"].as_str().unwrap().to_owned(),
        pg["POSTGRES_PASSWORD"].as_str().unwrap().to_owned(),
    )
}

async fn admin(server: &str) -> sqlx::AnyConnection {
    sqlx::any::install_default_drivers();
    <sqlx::AnyConnection as sqlx::Connection>::connect(server)
        .await
        .unwrap()
}

/// The compose file's user on the test server, with its password.
async fn ensure_compose_role(user: &str, password: &str, server: &str) {
    use sqlx::Executor;
    let create_role = format!(
        "DO $$ BEGIN CREATE ROLE {user} LOGIN PASSWORD '{password}'; EXCEPTION WHEN duplicate_object THEN NULL; END $$"
    );
    admin(server)
        .await
        .execute(sqlx::AssertSqlSafe(create_role))
        .await
        .unwrap();
}

/// A fresh database named `name`, owned by `user`, on the test server.
async fn create_database(server: &str, name: &str, user: &str) {
    use sqlx::Executor;
    admin(server)
        .await
        .execute(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE {name} OWNER {user}"
        )))
        .await
        .unwrap();
}

/// A fresh database owned by the compose file's user on the test server,
/// and its URL as compose writes them: the user, no password (the driver
/// takes it from PGPASSWORD, as in compose).
async fn compose_database(user: &str, password: &str, server: &str) -> (String, String) {
    ensure_compose_role(user, password, server).await;
    let name = format!("pushpull_compose_{}", uuid_like());
    create_database(server, &name, user).await;
    let mut url = url::Url::parse(server).unwrap();
    url.set_username(user).unwrap();
    url.set_password(None).unwrap();
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
    let _ = admin(server)
        .await
        .execute(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_postgres_health_check_fails_until_both_databases_exist() {
    // An old volume, made before the init script created both databases
    // (or by another project), never runs the script again: postgres must
    // not be "healthy" then, or the services crash-loop behind it.
    if !platform::testing::postgres_available(module_path!()) {
        return;
    }
    if Command::new("psql").arg("--version").output().is_err() {
        platform::testing::skipped(&format!(
            "{}::postgres_health_check (no psql on this machine to run it with)",
            module_path!()
        ));
        return;
    }
    let server = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
    let compose = compose();
    let (user, password) = compose_credentials(&compose);
    ensure_compose_role(&user, &password, &server).await;

    // The check as compose runs it, pointed at the test server and at
    // databases of this test's own instead of `store` and `inventory`.
    let at = url::Url::parse(&server).unwrap();
    let (host, port) = (at.host_str().unwrap(), at.port().unwrap_or(5432));
    let suffix = uuid_like();
    let names = [
        ("store", format!("pushpull_health_store_{suffix}")),
        ("inventory", format!("pushpull_health_inventory_{suffix}")),
    ];
    // (A space at the end, so that `-d NAME ` matches a last argument too.)
    let mut check = format!("{} ", postgres_health_check(&compose))
        .replace("-h 127.0.0.1", &format!("-h {host} -p {port}"));
    for (db, name) in &names {
        check = check.replace(&format!("-d {db} "), &format!("-d {name} "));
    }
    let healthy = || {
        Command::new("sh")
            .args(["-c", &check])
            .env("PGPASSWORD", &password)
            .env("PGCONNECT_TIMEOUT", "5")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("sh runs")
            .success()
    };

    assert!(!healthy(), "healthy with neither database: {check}");
    create_database(&server, &names[0].1, &user).await;
    let only_one = healthy();
    create_database(&server, &names[1].1, &user).await;
    let both = healthy();
    for (_, name) in &names {
        drop_database(&server, name).await;
    }
    assert!(!only_one, "healthy with the store's database only: {check}");
    assert!(both, "not healthy with both databases: {check}");
    for (_, name) in &names {
        assert!(check.contains(name), "the check reads {name}: {check}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binaries_started_as_compose_starts_them_take_an_order_in_each_mode() {
    if !platform::testing::postgres_available(module_path!()) {
        return;
    }
    let server = std::env::var("TEST_DATABASE_URL").expect("TEST_DATABASE_URL");
    let compose = compose();
    let (user, password) = compose_credentials(&compose);
    let (store_db, store_url) = compose_database(&user, &password, &server).await;
    let (inventory_db, inventory_url) = compose_database(&user, &password, &server).await;

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
    let mut store_process = spawn_service("store", &store_env, dir.path());
    eventually(Duration::from_secs(30), "the store is healthy", || async {
        healthy(&store_health).then_some(())
    })
    .await;
    let mut inventory_process = spawn_service("inventory", &inventory_env, dir.path());
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
    for mode in ["webhook", "api", "poll", "hybrid"] {
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
    assert_eq!(stock("TEA-ASSAM").await, before - 4);

    // What `docker compose logs` would show: each order's trip, no error.
    let (store_lines, inventory_lines) = (store_process.stop(), inventory_process.stop());
    let said = |lines: &[(Stream, String)], words: &[&str]| {
        lines
            .iter()
            .any(|(_, l)| words.iter().all(|w| l.contains(w)))
    };
    for (lines, process, words) in [
        (
            &store_lines,
            &store_process,
            &["answered", "path=/api/orders ", "status=201"][..],
        ),
        (
            &store_lines,
            &store_process,
            &["webhook attempt", "status=200"],
        ),
        (
            &store_lines,
            &store_process,
            &["called /update_inventory", "status=200"],
        ),
        (
            &inventory_lines,
            &inventory_process,
            &["answered", "path=/webhooks/store ", "status=200"],
        ),
        (
            &inventory_lines,
            &inventory_process,
            &["answered", "path=/update_inventory ", "status=200"],
        ),
        (
            &inventory_lines,
            &inventory_process,
            &["polled the store's feed", "orders_applied=1"],
        ),
    ] {
        assert!(
            said(lines, words),
            "no line with {words:?}\n{}",
            process.transcript()
        );
    }
    for (lines, process) in [
        (&store_lines, &store_process),
        (&inventory_lines, &inventory_process),
    ] {
        assert!(!said(lines, &["ERROR"]), "{}", process.transcript());
    }
    drop_database(&server, &store_db).await;
    drop_database(&server, &inventory_db).await;
}
