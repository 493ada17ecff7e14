//! Group commit: orders placed together share a transaction, and webhook
//! attempts that finish together are recorded in one — and neither trades
//! anything away: every `201` follows its commit, an order that cannot be
//! written fails alone, and an attempt whose result never committed is
//! sent again once its lease runs out.

use std::time::Duration;

use sqlx::Row;
use store::checkout::{Placement, PlacementError, Stored};
use store::idempotency::IdempotencyKey;

use crate::helpers::*;

fn placement(name: &str, key: Option<&str>) -> Placement {
    let request = contract::validation::new_order_json(&serde_json::json!({
        "customer": {"name": name, "email": "a@example.com"},
        "items": [{"sku": "TEA-ASSAM", "quantity": 1}, {"sku": "MUG-BLUE", "quantity": 2}]
    }))
    .unwrap();
    let key = key.map(|k| {
        let fingerprint = store::idempotency::fingerprint(&request);
        (IdempotencyKey::parse(k).unwrap(), fingerprint)
    });
    Placement { request, key }
}

/// Makes every insert into `table` fail while `when` holds of the new row.
async fn fail_inserts(store: &TestStore, table: &str, when: &str) {
    let pool = store.state.ctx.db.pool();
    let statements = match store.state.ctx.db.backend() {
        platform::Backend::Sqlite => vec![format!(
            "CREATE TRIGGER {table}_fails BEFORE INSERT ON {table} WHEN {when} \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
        )],
        platform::Backend::Postgres => vec![
            format!(
                "CREATE FUNCTION {table}_fails() RETURNS trigger AS $$ BEGIN \
                 RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql"
            ),
            format!(
                "CREATE TRIGGER {table}_fails BEFORE INSERT ON {table} FOR EACH ROW \
                 WHEN ({when}) EXECUTE FUNCTION {table}_fails()"
            ),
        ],
    };
    for sql in statements {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(pool)
            .await
            .unwrap();
    }
}

async fn heal(store: &TestStore, table: &str) {
    let sql = match store.state.ctx.db.backend() {
        platform::Backend::Sqlite => format!("DROP TRIGGER {table}_fails"),
        platform::Backend::Postgres => format!("DROP TRIGGER {table}_fails ON {table}"),
    };
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(store.state.ctx.db.pool())
        .await
        .unwrap();
}

async fn count(store: &TestStore, sql: &'static str) -> i64 {
    sqlx::query(sql)
        .fetch_one(store.state.ctx.db.pool())
        .await
        .unwrap()
        .get("n")
}

platform::db_test!(async fn orders_written_together_take_consecutive_feed_numbers(backend) {
    let (store, _) = spawn_store(backend).await;
    let batch: Vec<Placement> = (0..5).map(|i| placement(&format!("Customer {i}"), None)).collect();
    let written = store.state.checkout.placements.write_batch(&batch).await;
    let mut seqs = Vec::new();
    for (i, w) in written.iter().enumerate() {
        let Ok(Stored::Order(order)) = w else { panic!("order {i}: {w:?}") };
        assert_eq!(order.customer.name, format!("Customer {i}"), "results in the jobs' order");
        let row = sqlx::query("SELECT feed_seq FROM orders WHERE id = $1")
            .bind(order.id.as_str())
            .fetch_one(store.state.ctx.db.pool())
            .await
            .unwrap();
        seqs.push(row.get::<i64, _>("feed_seq"));
    }
    assert_eq!(seqs, vec![1, 2, 3, 4, 5]);
    assert_eq!(count(&store, "SELECT COUNT(*) AS n FROM order_lines").await, 10);
});

platform::db_test!(async fn an_order_that_cannot_be_written_fails_alone(backend) {
    let (store, _) = spawn_store(backend).await;
    let endpoint = Receiver::start(vec![]).await;
    register_endpoint(&store, &endpoint.url, serde_json::json!({"event_types": ["order.created"]})).await;
    fail_inserts(&store, "orders", "NEW.customer_name = 'Poison'").await;
    let batch = vec![placement("Alice", None), placement("Poison", None), placement("Bob", None)];
    let written = store.state.checkout.placements.write_batch(&batch).await;
    assert!(matches!(&written[0], Ok(Stored::Order(o)) if o.customer.name == "Alice"), "{:?}", written[0]);
    assert!(matches!(written[1], Err(PlacementError::Database(_))), "{:?}", written[1]);
    assert!(matches!(&written[2], Ok(Stored::Order(o)) if o.customer.name == "Bob"), "{:?}", written[2]);
    assert_eq!(count(&store, "SELECT COUNT(*) AS n FROM orders").await, 2);
    // Each order that was placed has its event, and nothing else does.
    assert_eq!(
        count(&store, "SELECT COUNT(*) AS n FROM webhook_messages WHERE event_type = 'order.created'").await,
        2
    );
    // The feed's numbers of the failed attempt were rolled back with it.
    let last: i64 = sqlx::query("SELECT last_value FROM feed_sequence")
        .fetch_one(store.state.ctx.db.pool())
        .await
        .unwrap()
        .get("last_value");
    assert_eq!(last, 2);
    // Both placed orders are delivered.
    eventually(Duration::from_secs(10), "both delivered", || async {
        (endpoint.orders_received().await.len() == 2).then_some(())
    })
    .await;
});

platform::db_test!(async fn one_key_twice_in_one_batch_places_one_order(backend) {
    let (store, _) = spawn_store(backend).await;
    let batch = vec![placement("Alice", Some("key-1")), placement("Alice", Some("key-1"))];
    let written = store.state.checkout.placements.write_batch(&batch).await;
    assert!(matches!(written[0], Ok(Stored::Order(_))), "{:?}", written[0]);
    assert!(matches!(written[1], Err(PlacementError::KeyTaken)), "{:?}", written[1]);
    assert_eq!(count(&store, "SELECT COUNT(*) AS n FROM orders").await, 1);
});

platform::db_test!(async fn every_order_answered_201_is_committed_when_answered(backend) {
    let (store, _) = spawn_store(backend).await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..32 {
        let (client, url, pool) = (store.client.clone(), store.url("/api/orders"), store.state.ctx.db.pool().clone());
        tasks.spawn(async move {
            let r = client.post(url).json(&order_body("TEA-ASSAM", 1)).send().await.unwrap();
            assert_eq!(r.status(), 201);
            let order: serde_json::Value = r.json().await.unwrap();
            // Read at once, on another connection: no waiting, no retry.
            let found = sqlx::query("SELECT id FROM orders WHERE id = $1")
                .bind(order["id"].as_str().unwrap())
                .fetch_optional(&pool)
                .await
                .unwrap();
            assert!(found.is_some(), "answered 201 before its commit");
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    assert_eq!(count(&store, "SELECT COUNT(*) AS n FROM orders").await, 32);
});

platform::db_test!(async fn an_attempt_whose_result_never_committed_is_sent_again_after_its_lease(backend) {
    // As if the store died after sending, before the recorder committed.
    let (store, clock) = spawn_store(backend).await;
    let endpoint = Receiver::start(vec![]).await;
    register_endpoint(&store, &endpoint.url, serde_json::json!({"event_types": ["order.created"]})).await;
    fail_inserts(&store, "exchanges", "1 = 1").await;
    let order = place(&store, "TEA-ASSAM", 1).await;
    let id = order["id"].as_str().unwrap().to_owned();
    eventually(Duration::from_secs(10), "the first copy arrives", || async {
        (endpoint.orders_received().await.len() == 1).then_some(())
    })
    .await;
    // Nothing was recorded: the delivery is pending, still leased, with no attempt.
    let d = eventually(Duration::from_secs(10), "the failed recording", || async {
        let d = deliveries_of(&store, &id).await.remove(0);
        (d["state"] == "pending" && d["attempts"] == 0).then_some(d)
    })
    .await;
    assert!(d["attempt_log"].as_array().unwrap().is_empty());
    let leased = count(&store, "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE lease_owner IS NOT NULL AND event_type = 'order.created'").await;
    assert_eq!(leased, 1, "the lease is kept until it runs out");

    heal(&store, "exchanges").await;
    // Nobody holds it any more, so nobody renews its lease: it runs out
    // one term after it was last renewed.
    let term = platform::lease::DEFAULT_TERM;
    clock.advance(term - Duration::from_secs(3));
    store.state.webhooks.dispatch.wake().notify_one();
    assert_eq!(endpoint.orders_received().await.len(), 1, "not before the lease runs out");
    clock.advance(term);
    let d = eventually(Duration::from_secs(10), "sent again and recorded", || async {
        let d = deliveries_of(&store, &id).await.remove(0);
        (d["state"] == "succeeded").then_some(d)
    })
    .await;
    assert_eq!(d["attempts"], 1);
    let received = endpoint.orders_received().await;
    assert_eq!(received.len(), 2, "at-least-once: the unrecorded attempt went again");
    assert_eq!(received[0].header("webhook-id"), received[1].header("webhook-id"));
});

platform::db_test!(async fn fetches_read_together_each_get_their_own_order(backend) {
    // Hybrid mode's fetches share one read (`orders::OrderReads`): each
    // caller must still get its own order, with its own lines in order —
    // the same order twice in one batch, and an unknown id, included.
    let (store, _) = spawn_store(backend).await;
    let a = place(&store, "TEA-ASSAM", 1).await;
    let b = place(&store, "MUG-BLUE", 3).await;
    let id = |o: &serde_json::Value| contract::OrderId::try_from(o["id"].as_str().unwrap().to_owned()).unwrap();
    let (a, b) = (id(&a), id(&b));
    let missing = contract::OrderId::new();
    let asked = [a.clone(), missing.clone(), b.clone(), a.clone()];
    let reads = &store.state.ctx.order_reads;
    let answers = futures_util::future::join_all(asked.iter().map(|id| reads.submit(id.clone()))).await;
    let got: Vec<Option<contract::OrderId>> = answers
        .into_iter()
        .map(|r| r.unwrap().map(|o| o.id))
        .collect();
    assert_eq!(got, vec![Some(a.clone()), None, Some(b.clone()), Some(a.clone())]);

    // Read as a batch directly: lines stay with their order, in order.
    let orders = store::orders::get_orders(&store.state.ctx.db, &asked).await.unwrap();
    assert_eq!(orders[0].as_ref().unwrap().items[0].sku.as_str(), "TEA-ASSAM");
    assert!(orders[1].is_none());
    let mug = orders[2].as_ref().unwrap();
    assert_eq!((mug.items.len(), mug.items[0].quantity.get()), (1, 3));
    assert_eq!(orders[3].as_ref().unwrap().id, a);
});
