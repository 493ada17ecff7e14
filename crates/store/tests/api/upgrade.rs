//! A database made before a migration keeps what it holds when the store
//! that needs the migration starts on it.

use std::borrow::Cow;

use sqlx::Row;
use sqlx::migrate::Migrator;

use crate::helpers::*;

/// The store's migrations up to `last`, as a store of that time ran them.
fn migrations_until(last: i64) -> Migrator {
    Migrator {
        migrations: Cow::Owned(
            store::startup::MIGRATIONS
                .migrations
                .iter()
                .filter(|m| m.version <= last)
                .cloned()
                .collect(),
        ),
        ..Migrator::DEFAULT
    }
}

// The hybrid mode's words are added to CHECK lists by rebuilding tables on
// SQLite (swapping the CHECK in place on PostgreSQL): orders, their lines
// and their messages all survive, still tied to each other.
platform::db_test!(async fn a_database_from_before_hybrid_mode_keeps_its_orders(backend) {
    let db = platform::testing::TestDatabase::create(backend).await;
    {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
        migrations_until(4).run(&pool).await.unwrap();
        for sql in [
            "INSERT INTO orders (id, feed_seq, status, mode, customer_name, customer_email, total_cents, \
             created_at, updated_at) VALUES ('ord_old1', 1, 'pending', 'poll', 'Ada', 'ada@example.com', 1250, 1, 1)",
            "UPDATE feed_sequence SET last_value = 1 WHERE id = 1",
            "INSERT INTO order_lines (order_id, line_no, sku, name, quantity, unit_price_cents) \
             VALUES ('ord_old1', 0, 'TEA-SENCHA', 'Sencha', 1, 1250)",
            "INSERT INTO exchanges (id, channel, initiator, method, url, request_headers, request_body, \
             latency_ms, started_at) VALUES ('exg_old1', 'feed', 'inventory', 'GET', 'http://x/api/orders', '{}', '', 1, 1)",
            "INSERT INTO exchange_orders (exchange_id, order_id) VALUES ('exg_old1', 'ord_old1')",
        ] {
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
        pool.close().await;
    }

    let (store, _) = restart_store(db, |_| {}).await;
    let old = store.get_json("/api/orders/ord_old1").await;
    assert_eq!(old["status"], "pending");
    assert_eq!(old["items"][0]["sku"], "TEA-SENCHA");
    assert_eq!(old["timeline"][0]["channel"], "feed");
    // The new words are accepted, and the tables' ties still hold.
    store.set_mode("hybrid").await;
    let r = store.post_order(&order_body("TEA-SENCHA", 1)).await;
    assert_eq!(r.status(), 201);
    let order: serde_json::Value = r.json().await.unwrap();
    assert_eq!(order["mode"], "hybrid");
    let orphan = sqlx::query(
        "INSERT INTO order_lines (order_id, line_no, sku, name, quantity, unit_price_cents) \
         VALUES ('ord_nobody', 0, 'TEA-SENCHA', 'Sencha', 1, 1250)",
    )
    .execute(store.state.ctx.db.writer())
    .await;
    assert!(orphan.is_err(), "a line without its order is still refused");
    let leftovers: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM orders WHERE id = 'ord_old1' AND mode = 'poll'",
    )
    .fetch_one(store.state.ctx.db.pool())
    .await
    .unwrap()
    .get("n");
    assert_eq!(leftovers, 1);
});
