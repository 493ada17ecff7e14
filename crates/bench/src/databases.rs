//! Fresh databases for every run, and the history some runs start with.
//!
//! Each service (and each floor hop) gets a database nobody else has used:
//! a SQLite file in the bench's temporary directory, or on PostgreSQL a
//! database created on the named server with a unique name
//! (`pushpull_bench_<pid>_<n>_<what>`) and dropped — `WITH (FORCE)` — when
//! [`Databases`] is dropped, on every exit path of the bench short of a
//! `kill -9` (after which `DROP DATABASE` by that name cleans up).
//!
//! **History.** A shop that has run for a while has many orders, and a
//! query that scans them, or an index that is missing, only shows there.
//! [`seed_history`] fills a store's database with resolved orders before
//! the store starts, in a few statements of set-based SQL (a recursive CTE
//! numbers the rows; portable to both backends) rather than through the
//! API, which would take minutes. The trade-off: it writes the store's
//! tables directly, so it must follow `migrations/store/*.sql` — its test
//! below starts a real store on a seeded database and reads the orders
//! back through the API and the feed, so a schema change that breaks it
//! fails there.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;
use sqlx::any::AnyConnectOptions;
use sqlx::{AssertSqlSafe, ConnectOptions, Connection};

use contract::demo::CATALOG;
use platform::{Backend, Clock, Db, SystemClock};

/// The lines of every order the bench places (and of its history): two
/// lines, the order the performance targets were set with.
pub const ORDER_ITEMS: &[(&str, i64)] = &[("TEA-ASSAM", 1), ("MUG-BLUE", 2)];

/// Creates databases on one backend and drops them all when dropped.
pub struct Databases {
    backend: Backend,
    dir: tempfile::TempDir,
    /// The PostgreSQL server's URL (any database on it).
    server: Option<String>,
    created: Vec<String>,
    counter: AtomicUsize,
}

impl Databases {
    /// `server` names the PostgreSQL server when `backend` is PostgreSQL.
    pub fn new(backend: Backend, server: Option<&str>) -> anyhow::Result<Databases> {
        sqlx::any::install_default_drivers();
        if backend == Backend::Postgres && server.is_none() {
            anyhow::bail!("the PostgreSQL runs need --database-url postgres://…");
        }
        Ok(Databases {
            backend,
            dir: tempfile::Builder::new()
                .prefix("pushpull-bench-")
                .tempdir()?,
            server: server.map(str::to_owned),
            created: Vec::new(),
            counter: AtomicUsize::new(0),
        })
    }

    /// Where the SQLite files and the services' logs go.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The URL of a new, empty database; `what` makes its name readable.
    pub async fn fresh(&mut self, what: &str) -> anyhow::Result<String> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let what: String = what
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .take(24)
            .collect();
        match self.backend {
            Backend::Sqlite => Ok(format!(
                "sqlite:{}?mode=rwc",
                self.dir().join(format!("{n}-{what}.db")).display()
            )),
            Backend::Postgres => {
                let server = self.server.as_deref().expect("checked in new");
                let name = format!("pushpull_bench_{}_{n}_{what}", std::process::id());
                let mut url = url::Url::parse(server).context("--database-url")?;
                url.set_path(&format!("/{name}"));
                // The name is ours (letters, digits, `_`), never the user's.
                let create = format!("CREATE DATABASE \"{name}\"");
                on_server(server, create).await.with_context(|| {
                    format!(
                        "creating database {name} on {}",
                        platform::redact::url(server)
                    )
                })?;
                self.created.push(name);
                Ok(url.to_string())
            }
        }
    }
}

impl Drop for Databases {
    fn drop(&mut self) {
        if self.created.is_empty() {
            return;
        }
        let names = std::mem::take(&mut self.created);
        let server = self.server.clone().expect("databases were created on it");
        // Drop may run inside the bench's runtime or while it unwinds, so
        // the clean-up gets a thread and a small runtime of its own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the clean-up");
            runtime.block_on(async {
                for name in names {
                    let drop = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                    if let Err(e) = on_server(&server, drop).await {
                        eprintln!("bench: warning: could not drop database {name}: {e}");
                    }
                }
            });
        })
        .join();
    }
}

/// Runs one statement on the server's own database, without sqlx's
/// slow-statement warnings (dropping a database that was just in use takes
/// a second or two, and that is not news).
async fn on_server(server: &str, statement: String) -> anyhow::Result<()> {
    let options: AnyConnectOptions = server.parse()?;
    let mut connection = options.disable_statement_logging().connect().await?;
    sqlx::query(AssertSqlSafe(statement))
        .execute(&mut connection)
        .await?;
    connection.close().await?;
    Ok(())
}

/// Fills the store database at `url` with `orders` resolved (confirmed)
/// orders of [`ORDER_ITEMS`], one second apart and ending an hour ago,
/// spread over the three modes, and advances the feed's sequence past
/// them. Runs the store's migrations first, so it works on an empty
/// database before the store has ever started. One transaction.
///
/// Resolved orders are never sent again: there is no outbox row for them,
/// and the inventory's poll cursor is set past them ([`skip_history`]).
pub async fn seed_history(url: &str, orders: u64) -> anyhow::Result<()> {
    // The store's own migrations, as the store would run them…
    Db::connect(url, &store::startup::MIGRATIONS)
        .await?
        .close()
        .await;
    // …then one quiet connection: these statements are slow on purpose.
    let options: AnyConnectOptions = url.parse()?;
    let mut connection = options.disable_statement_logging().connect().await?;
    let orders = orders as i64;
    let first_created = SystemClock.now().millis() - 3_600_000 - orders * 1000;
    let total: i64 = ORDER_ITEMS
        .iter()
        .map(|(sku, quantity)| product(sku).price_cents * quantity)
        .sum();
    let mut tx = connection.begin().await?;
    // `n` counts 1..=orders; the id is `ord_00history` and a fixed-width
    // number, which sorts before the store's own (time-ordered) ids.
    sqlx::query(
        "WITH RECURSIVE n (i) AS (SELECT CAST(1 AS BIGINT) UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
         INSERT INTO orders (id, feed_seq, status, mode, customer_name, customer_email, total_cents, \
                             status_reason, created_at, updated_at, resolved_at) \
         SELECT 'ord_00history' || CAST(1000000000 + i AS TEXT), i, 'confirmed', \
                CASE i % 3 WHEN 0 THEN 'webhook' WHEN 1 THEN 'api' ELSE 'poll' END, \
                'History Customer', 'history@example.com', $2, NULL, \
                $3 + i * 1000, $3 + i * 1000 + 5, $3 + i * 1000 + 5 \
         FROM n",
    )
    .bind(orders)
    .bind(total)
    .bind(first_created)
    .execute(&mut *tx)
    .await
    .context("seeding orders")?;
    for (line_no, (sku, quantity)) in ORDER_ITEMS.iter().enumerate() {
        let p = product(sku);
        sqlx::query(
            "WITH RECURSIVE n (i) AS (SELECT CAST(1 AS BIGINT) UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
             INSERT INTO order_lines (order_id, line_no, sku, name, quantity, unit_price_cents) \
             SELECT 'ord_00history' || CAST(1000000000 + i AS TEXT), $2, $3, $4, $5, $6 FROM n",
        )
        .bind(orders)
        .bind(line_no as i64 + 1)
        .bind(p.sku)
        .bind(p.name)
        .bind(*quantity)
        .bind(p.price_cents)
        .execute(&mut *tx)
        .await
        .context("seeding order lines")?;
    }
    sqlx::query("UPDATE feed_sequence SET last_value = $1 WHERE id = 1")
        .bind(orders)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    connection.close().await?;
    Ok(())
}

/// Moves the inventory's poll cursor past `orders` orders of history, as if
/// it had been polling all along (otherwise its first poll would page
/// through the whole history). The cursor is the store's own encoding.
pub async fn skip_history(inventory_url: &str, orders: u64) -> anyhow::Result<()> {
    let pool = sqlx::AnyPool::connect(inventory_url).await?;
    let cursor = store::integration::poll::Cursor(orders as i64).encode();
    sqlx::query("UPDATE poller_state SET cursor = $1 WHERE id = 1")
        .bind(cursor)
        .execute(&pool)
        .await?;
    pool.close().await;
    Ok(())
}

fn product(sku: &str) -> &'static contract::demo::DemoProduct {
    CATALOG
        .iter()
        .find(|p| p.sku == sku)
        .unwrap_or_else(|| panic!("{sku} is in the demo catalog"))
}

/// The body of every order the bench places.
pub fn order_body() -> serde_json::Value {
    let items: Vec<serde_json::Value> = ORDER_ITEMS
        .iter()
        .map(|(sku, quantity)| serde_json::json!({"sku": sku, "quantity": quantity}))
        .collect();
    serde_json::json!({
        "customer": {"name": "Bench Customer", "email": "bench@example.com"},
        "items": items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use platform::testing::TestDatabase;

    // The seeding writes the store's tables directly: a store started on a
    // seeded database must read the orders back, in the API and in the feed,
    // and go on numbering its own orders after them.
    platform::db_test!(async fn seeded_history_is_what_the_store_reads(backend) {
        let database = TestDatabase::create(backend).await;
        seed_history(&database.url, 5).await.unwrap();
        let config = store::StoreConfig {
            port: 0,
            database_url: database.url.clone(),
            ..Default::default()
        };
        let app = store::Application::build(config).await.unwrap();
        let base = format!("http://127.0.0.1:{}", app.port());
        let handle = app.handle();
        let running = tokio::spawn(app.run_until_stopped());
        let client = reqwest::Client::new();

        let order: serde_json::Value = client
            .get(format!("{base}/api/orders/ord_00history1000000003"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(order["status"], "confirmed", "{order}");
        assert_eq!(order["mode"], "webhook", "{order}");
        assert_eq!(order["items"].as_array().unwrap().len(), 2, "{order}");
        assert_eq!(order["total_cents"], 990 + 2 * product("MUG-BLUE").price_cents);

        let feed: serde_json::Value = client
            .get(format!("{base}/api/orders?limit=10"))
            .bearer_auth(store::config::DEMO_STORE_API_KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let ids: Vec<&str> = feed["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids.len(), 5, "{feed}");
        assert_eq!(ids[0], "ord_00history1000000001");

        // A new order comes after the history in the feed.
        let placed: serde_json::Value = client
            .post(format!("{base}/api/orders"))
            .json(&order_body())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let after_history = store::integration::poll::Cursor(5).encode();
        let feed: serde_json::Value = client
            .get(format!("{base}/api/orders?after={after_history}"))
            .bearer_auth(store::config::DEMO_STORE_API_KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(feed["data"][0]["id"], placed["id"], "{feed}");

        handle.stop().await;
        running.await.unwrap().unwrap();
    });

    #[test]
    fn the_order_body_uses_catalog_skus() {
        let body = order_body();
        for item in body["items"].as_array().unwrap() {
            product(item["sku"].as_str().unwrap());
        }
    }
}
