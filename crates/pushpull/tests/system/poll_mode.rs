//! poll mode end to end: the inventory reads the store's feed on its own
//! timer, applies poll-mode orders and acknowledges them.

use std::time::Duration;

use sqlx::Row;

use crate::helpers::*;

fn pull() -> Options {
    Options {
        mode: "poll",
        inventory: polling,
        ..Options::default()
    }
}

async fn movements(inv: &inventory::testing::TestInventory, sku: &str) -> i64 {
    sqlx::query("SELECT COUNT(*) AS n FROM stock_movements WHERE sku = $1 AND reason = 'order'")
        .bind(sku)
        .fetch_one(inv.state.ctx.db.pool())
        .await
        .unwrap()
        .get("n")
}

platform::db_test!(async fn a_polled_order_is_applied_and_acknowledged(backend) {
    let sys = spawn_system(backend, pull()).await;
    let order = place(&sys.store, "TEA-SENCHA", 4).await;
    assert_eq!(order["status"], "pending");
    let id = order_id(&order);
    let status = advance_until(&sys.inventory_clock, Duration::from_secs(1), "polled", || async {
        let status = sys.store.order_status(&id).await;
        (status != "pending").then_some(status)
    })
    .await;
    assert_eq!(status, "confirmed");
    assert_eq!(sys.inventory().on_hand("TEA-SENCHA").await, 36);
    // The delay between the order's creation and its application is kept.
    let stats = &sys.inventory().get_json("/api/poller").await["stats"];
    assert_eq!(stats["orders_applied"], 1);
    assert!(stats["average_delay_ms"].as_i64().unwrap() >= 0, "{stats}");
    // The timeline: the inventory initiated both exchanges.
    let detail = sys.store.get_json(&format!("/api/orders/{id}")).await;
    let channels: Vec<(&str, &str)> = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["channel"].as_str().unwrap(), e["initiator"].as_str().unwrap()))
        .collect();
    assert_eq!(channels, vec![("feed", "inventory"), ("ack", "inventory")]);
});

platform::db_test!(async fn a_paused_poller_applies_nothing_until_resumed(backend) {
    let sys = spawn_system(backend, Options { mode: "poll", inventory: |c| c.poll.paused = true, ..Options::default() }).await;
    let id = order_id(&place(&sys.store, "TEA-ASSAM", 1).await);
    for _ in 0..5 {
        sys.inventory_clock.advance(Duration::from_secs(10));
        tokio::task::yield_now().await;
    }
    let polls: i64 = sqlx::query("SELECT COUNT(*) AS n FROM messages WHERE channel = 'feed'")
        .fetch_one(sys.inventory().state.ctx.db.pool())
        .await
        .unwrap()
        .get("n");
    assert_eq!(polls, 0);
    assert_eq!(sys.store.order_status(&id).await, "pending");
    assert_eq!(sys.inventory().on_hand("TEA-ASSAM").await, 60);

    let r = sys
        .inventory()
        .client
        .put(sys.inventory().url("/api/poller"))
        .json(&serde_json::json!({"paused": false, "interval_ms": 1000}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    advance_until(&sys.inventory_clock, Duration::from_secs(1), "applied after resuming", || async {
        (sys.store.order_status(&id).await == "confirmed").then_some(())
    })
    .await;
    assert_eq!(sys.inventory().on_hand("TEA-ASSAM").await, 59);
});

platform::db_test!(async fn each_polled_order_is_applied_once_across_restarts_and_lost_cursors(backend) {
    let mut sys = spawn_system(backend, pull()).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(order_id(&place(&sys.store, "KETTLE-GOOSE", 1).await));
    }
    advance_until(&sys.inventory_clock, Duration::from_secs(1), "first three applied", || async {
        (movements(sys.inventory(), "KETTLE-GOOSE").await == 3).then_some(())
    })
    .await;

    // Restart: the cursor was saved, nothing is re-applied.
    sys.stop_inventory().await;
    for _ in 0..2 {
        ids.push(order_id(&place(&sys.store, "KETTLE-GOOSE", 1).await));
    }
    sys.start_inventory().await;
    advance_until(&sys.inventory_clock, Duration::from_secs(1), "the next two applied", || async {
        (movements(sys.inventory(), "KETTLE-GOOSE").await == 5).then_some(())
    })
    .await;

    // A crash that lost the cursor (saved after applying) means the feed is
    // read again from the start — and still nothing is applied twice. (The
    // poller is paused, and the pause outlives a restart, so the read below
    // is the only one.)
    let r = sys
        .inventory()
        .client
        .put(sys.inventory().url("/api/poller"))
        .json(&serde_json::json!({"paused": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    sys.stop_inventory().await;
    sys.start_inventory().await;
    sqlx::query("UPDATE poller_state SET cursor = '' WHERE id = 1")
        .execute(sys.inventory().state.ctx.db.writer())
        .await
        .unwrap();
    let r = sys.inventory().client.post(sys.inventory().url("/api/poller/poll-now")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let report: serde_json::Value = r.json().await.unwrap();
    assert_eq!(report["orders_seen"], 5);
    assert_eq!(report["orders_applied"], 0);
    assert_eq!(movements(sys.inventory(), "KETTLE-GOOSE").await, 5);
    assert_eq!(sys.inventory().on_hand("KETTLE-GOOSE").await, 3);
    for id in &ids {
        assert_eq!(sys.store.order_status(id).await, "confirmed");
    }
});

platform::db_test!(async fn empty_polls_are_counted_and_the_store_being_down_means_backoff(backend) {
    let sys = spawn_system(backend, pull()).await;
    // Three ticks with nothing to do.
    for _ in 0..3 {
        let r = sys.inventory().client.post(sys.inventory().url("/api/poller/poll-now")).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    let empty: i64 = sqlx::query("SELECT COUNT(*) AS n FROM messages WHERE channel = 'feed' AND verdict LIKE 'empty%'")
        .fetch_one(sys.inventory().state.ctx.db.pool())
        .await
        .unwrap()
        .get("n");
    assert!(empty >= 3, "{empty}");
    let poller = sys.inventory().get_json("/api/poller").await;
    assert!(poller["stats"]["empty_polls"].as_i64().unwrap() >= 3, "{poller}");
    assert_eq!(poller["stats"]["failed_polls"], 0);
    let metrics = sys.inventory().client.get(sys.inventory().url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("pushpull_inventory_empty_polls_total"), "{metrics}");

    // Orders placed in other modes are not the poller's business.
    sys.store.set_mode("webhook").await;
    let webhook_order = order_id(&place(&sys.store, "TEA-ASSAM", 1).await);
    let r: serde_json::Value = sys.inventory().client.post(sys.inventory().url("/api/poller/poll-now")).send().await.unwrap().json().await.unwrap();
    assert_eq!(r["orders_seen"], 1);
    assert_eq!(r["orders_applied"], 0);
    assert_eq!(sys.inventory().outcome_of(&webhook_order).await, None);
});

/// Messages of one channel in the inventory's log.
async fn logged(inv: &inventory::testing::TestInventory, channel: &str) -> i64 {
    sqlx::query("SELECT COUNT(*) AS n FROM messages WHERE channel = $1")
        .bind(channel)
        .fetch_one(inv.state.ctx.db.pool())
        .await
        .unwrap()
        .get("n")
}

platform::db_test!(async fn a_poll_cycle_costs_a_read_and_one_acknowledgement_whatever_its_size(backend) {
    // Paused: only "poll now" reads, so the cycle below is the only one.
    let sys = spawn_system(backend, Options { mode: "poll", inventory: |c| c.poll.paused = true, ..Options::default() }).await;
    let mut ids = Vec::new();
    for _ in 0..6 {
        ids.push(order_id(&place(&sys.store, "TEA-ASSAM", 1).await));
    }
    let inv = sys.inventory();
    let (feeds, acks) = (logged(inv, "feed").await, logged(inv, "ack").await);
    let report: serde_json::Value =
        inv.client.post(inv.url("/api/poller/poll-now")).send().await.unwrap().json().await.unwrap();
    assert_eq!(report["orders_applied"], 6, "{report}");
    assert_eq!(report["requests"], 1, "{report}");
    assert_eq!(report["acknowledgements"], 1, "{report}");
    assert_eq!(logged(inv, "feed").await - feeds, 1);
    assert_eq!(logged(inv, "ack").await - acks, 1, "one acknowledgement for the page");
    for id in &ids {
        assert_eq!(sys.store.order_status(id).await, "confirmed", "{id}");
        // Each order's timeline at the store still shows the acknowledgement.
        let detail = sys.store.get_json(&format!("/api/orders/{id}")).await;
        let channels: Vec<&str> =
            detail["timeline"].as_array().unwrap().iter().map(|e| e["channel"].as_str().unwrap()).collect();
        assert!(channels.contains(&"ack"), "{id}: {channels:?}");
    }
    // Nothing new: a read, and no acknowledgement at all.
    let idle: serde_json::Value =
        inv.client.post(inv.url("/api/poller/poll-now")).send().await.unwrap().json().await.unwrap();
    assert_eq!(idle["acknowledgements"], 0, "{idle}");
    assert_eq!(logged(inv, "ack").await - acks, 1);
});

fn long_polling(c: &mut inventory::InventoryConfig) {
    c.poll.paused = false;
    // An interval no test waits out: only a held read can bring the order.
    c.poll.interval = Duration::from_secs(3600);
    c.poll.wait = Some(Duration::from_secs(20));
}

platform::db_test!(async fn with_long_polling_an_order_lands_without_waiting_for_the_interval(backend) {
    let mut sys = spawn_system(backend, Options { mode: "poll", inventory: long_polling, ..Options::default() }).await;
    // The poller's read is held at the store before the order is placed.
    eventually(Duration::from_secs(10), "a long poll held", || async {
        (sys.store.state.ctx.feed_bell.waiting() >= 1).then_some(())
    })
    .await;
    let started = std::time::Instant::now();
    let id = order_id(&place(&sys.store, "TEA-SENCHA", 2).await);
    // Neither clock is advanced: the commit wakes the held read.
    let status = eventually(Duration::from_secs(10), "landed", || async {
        let status = sys.store.order_status(&id).await;
        (status != "pending").then_some(status)
    })
    .await;
    assert_eq!(status, "confirmed");
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    let reads = sys.inventory().get_json("/api/messages?channel=feed&limit=200").await;
    assert!(
        reads.as_array().unwrap().iter().any(|m| m["url"].as_str().unwrap().contains("wait=20")),
        "{reads}"
    );
    // A held read does not hold up the inventory's stop.
    eventually(Duration::from_secs(10), "held again", || async {
        (sys.store.state.ctx.feed_bell.waiting() >= 1).then_some(())
    })
    .await;
    let stopping = std::time::Instant::now();
    sys.stop_inventory().await;
    assert!(stopping.elapsed() < Duration::from_secs(5), "{:?}", stopping.elapsed());
});

platform::db_test!(async fn long_polling_is_switched_on_at_run_time_without_a_restart(backend) {
    fn slow_polling(c: &mut inventory::InventoryConfig) {
        c.poll.paused = false;
        c.poll.interval = Duration::from_secs(3600);
    }
    let sys = spawn_system(backend, Options { mode: "poll", inventory: slow_polling, ..Options::default() }).await;
    let inv = sys.inventory();
    assert_eq!(inv.get_json("/api/poller").await["wait_ms"], 0);
    let put = |body: serde_json::Value| async move {
        inv.client.put(inv.url("/api/poller")).json(&body).send().await.unwrap()
    };
    // A wait the store would not hold is refused, and changes nothing.
    assert_eq!(put(serde_json::json!({"wait_s": 31})).await.status(), 422);
    assert_eq!(inv.get_json("/api/poller").await["wait_ms"], 0);

    // Switched on: the poller, woken, holds a read open at the store.
    let on = put(serde_json::json!({"wait_s": 20})).await;
    assert_eq!(on.status(), 200);
    assert_eq!(on.json::<serde_json::Value>().await.unwrap()["wait_ms"], 20_000);
    eventually(Duration::from_secs(10), "a long poll held", || async {
        (sys.store.state.ctx.feed_bell.waiting() >= 1).then_some(())
    })
    .await;
    // An order lands long before the hour-long interval.
    let id = order_id(&place(&sys.store, "TEA-SENCHA", 2).await);
    let status = eventually(Duration::from_secs(10), "landed", || async {
        let status = sys.store.order_status(&id).await;
        (status != "pending").then_some(status)
    })
    .await;
    assert_eq!(status, "confirmed");
    let reads = inv.get_json("/api/messages?channel=feed&limit=200").await;
    assert!(
        reads.as_array().unwrap().iter().any(|m| m["url"].as_str().unwrap().contains("wait=20")),
        "{reads}"
    );
});
