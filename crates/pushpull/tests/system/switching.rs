//! One switch flips the whole system: orders placed while the mode changes
//! under them each finish through the channel of their own mode, and no
//! order is applied twice.

use std::collections::HashMap;
use std::time::Duration;

use sqlx::Row;

use crate::helpers::*;

platform::db_test!(async fn switching_modes_under_a_stream_of_orders_loses_and_doubles_nothing(backend) {
    let sys = spawn_system(
        backend,
        Options {
            mode: "webhook",
            inventory: |c| {
                c.subscribe = true;
                c.poll.paused = false;
                c.poll.interval = Duration::from_secs(1);
            },
            ..Options::default()
        },
    )
    .await;
    sys.wait_subscribed().await;
    let initial = sys.inventory().on_hand("TEA-ASSAM").await; // 60

    // A writer places 45 orders of 1–2 units while the mode cycles.
    let writer = {
        let client = sys.store.client.clone();
        let url = sys.store.url("/api/orders");
        tokio::spawn(async move {
            let mut placed = Vec::new();
            for i in 0..45i64 {
                let r = client.post(&url).json(&order_body("TEA-ASSAM", 1 + i % 2)).send().await.unwrap();
                assert_eq!(r.status(), 201);
                placed.push(r.json::<serde_json::Value>().await.unwrap());
                tokio::task::yield_now().await;
            }
            placed
        })
    };
    let modes = ["api", "poll", "hybrid", "webhook", "poll", "api", "hybrid", "webhook"];
    let mut i = 0;
    while !writer.is_finished() {
        sys.store.set_mode(modes[i % modes.len()]).await;
        i += 1;
        tokio::task::yield_now().await;
    }
    let placed = writer.await.unwrap();
    assert!(i >= 2, "the mode switched during the stream");

    // Let every channel finish: the poller ticks on its clock (hybrid
    // notices are answered at once, their reconciliation is not needed).
    let ids: Vec<String> = placed.iter().map(order_id).collect();
    advance_until(&sys.inventory_clock, Duration::from_secs(1), "every order settles", || async {
        for id in &ids {
            if sys.store.order_status(id).await == "pending" {
                return None;
            }
        }
        Some(())
    })
    .await;

    let mut by_mode: HashMap<String, usize> = HashMap::new();
    let mut applied_units = 0;
    for order in &placed {
        let id = order_id(order);
        let mode = order["mode"].as_str().unwrap().to_owned();
        *by_mode.entry(mode.clone()).or_default() += 1;
        let status = sys.store.order_status(&id).await;
        let outcome = sys.inventory().outcome_of(&id).await;
        // The inventory got it through the channel of its mode (api orders
        // that were refused never reached it as "applied").
        let channel: Option<String> = sqlx::query("SELECT channel FROM applied_orders WHERE order_id = $1")
            .bind(&id)
            .fetch_optional(sys.inventory().state.ctx.db.pool())
            .await
            .unwrap()
            .map(|r| r.get("channel"));
        assert_eq!(channel.as_deref(), Some(mode.as_str()), "{id} came through its own mode's channel");
        match (status.as_str(), outcome.as_deref()) {
            ("confirmed", Some("applied")) => applied_units += order["items"][0]["quantity"].as_i64().unwrap(),
            ("backordered", Some("backordered")) | ("rejected", Some("rejected")) => {}
            other => panic!("{id} ({mode}) ended as {other:?}"),
        }
    }
    assert!(by_mode.len() >= 2, "orders were placed under several modes: {by_mode:?}");
    assert_eq!(sys.inventory().on_hand("TEA-ASSAM").await, initial - applied_units);
    let movements: i64 = sqlx::query("SELECT COUNT(*) AS n FROM stock_movements WHERE reason = 'order'")
        .fetch_one(sys.inventory().state.ctx.db.pool())
        .await
        .unwrap()
        .get("n");
    let confirmed = placed.len() as i64
        - sqlx::query("SELECT COUNT(*) AS n FROM orders WHERE status <> 'confirmed'")
            .fetch_one(sys.store.state.ctx.db.pool())
            .await
            .unwrap()
            .get::<i64, _>("n");
    assert_eq!(movements, confirmed, "one stock movement per confirmed order, never two");
});
