//! An outage at a learner's pace: the inventory is "down" for a minute —
//! answering every webhook `503` with `Retry-After: 5` — and the order
//! still lands by itself once it is back, on a later scheduled attempt,
//! with nobody pressing "Redeliver". `Retry-After` may lengthen a wait;
//! it must never shorten the schedule, or the attempts would all be spent
//! in the first 25 seconds of the outage.

use std::time::Duration;

use platform::Clock;

use crate::helpers::*;

/// Moves both services' clocks one second at a time, letting the store's
/// dispatcher finish whatever came due before the next second passes — so
/// every attempt happens at its own scheduled moment, as it would in real
/// time.
async fn let_time_pass(sys: &System, seconds: u64) {
    for _ in 0..seconds {
        sys.store_clock.advance(Duration::from_secs(1));
        sys.inventory_clock.advance(Duration::from_secs(1));
        dispatcher_idle(sys).await;
    }
}

/// Until no delivery is due or in flight at the store's current time.
async fn dispatcher_idle(sys: &System) {
    let now = sys.store_clock.now();
    eventually(
        Duration::from_secs(20),
        "the dispatcher catches up",
        || async {
            let busy: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'pending' \
             AND (lease_owner IS NOT NULL OR next_attempt_at <= $1)",
            )
            .bind(now.millis())
            .fetch_one(sys.store.state.ctx.db.pool())
            .await
            .unwrap();
            (busy == 0).then_some(())
        },
    )
    .await;
}

async fn delivery_of(sys: &System, order_id: &str) -> serde_json::Value {
    sys.store
        .get_json(&format!("/api/deliveries?order_id={order_id}"))
        .await[0]
        .clone()
}

fn statuses(delivery: &serde_json::Value) -> Vec<i64> {
    delivery["attempt_log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["response_status"].as_i64().unwrap_or(0))
        .collect()
}

fn started_at(attempt: &serde_json::Value) -> i64 {
    contract::Timestamp::parse_rfc3339(attempt["started_at"].as_str().unwrap())
        .unwrap()
        .millis()
}

platform::db_test!(async fn a_webhook_outlasts_a_minute_of_down_and_lands_by_itself(backend) {
    let sys = spawn_system(
        backend,
        Options {
            mode: "webhook",
            inventory: subscribing,
            ..Options::default()
        },
    )
    .await;
    sys.wait_subscribed().await;
    sys.wait_pinged().await;

    // Down, then an order: its first attempt meets a 503.
    sys.inventory().set_chaos(serde_json::json!({"down": true})).await;
    let id = order_id(&place(&sys.store, "TEA-SENCHA", 1).await);
    dispatcher_idle(&sys).await;

    // A minute of "down". Retry-After: 5 stretches the 1 s wait to 5 s;
    // after that the schedule (5 s, 30 s) is longer and wins.
    let_time_pass(&sys, 60).await;
    let d = delivery_of(&sys, &id).await;
    assert_eq!(d["state"], "pending", "{d}");
    assert_eq!(statuses(&d), vec![503, 503, 503, 503], "{d}");
    let log = d["attempt_log"].as_array().unwrap();
    let gaps: Vec<i64> = log.windows(2).map(|w| started_at(&w[1]) - started_at(&w[0])).collect();
    assert_eq!(gaps, vec![5_000, 5_000, 30_000], "{d}");
    assert_eq!(sys.store.order_status(&id).await, "pending");

    // Back up. Nobody redelivers: the next attempt on the schedule — two
    // minutes after the fourth — lands.
    sys.inventory().set_chaos(serde_json::json!({})).await;
    let mut waited = 0;
    while sys.store.order_status(&id).await == "pending" {
        assert!(waited < 200, "the order never landed: {}", delivery_of(&sys, &id).await);
        let_time_pass(&sys, 1).await;
        waited += 1;
    }
    assert_eq!(sys.store.order_status(&id).await, "confirmed");
    let d = delivery_of(&sys, &id).await;
    assert_eq!(d["state"], "succeeded", "{d}");
    assert_eq!(statuses(&d), vec![503, 503, 503, 503, 200], "{d}");
    let log = d["attempt_log"].as_array().unwrap();
    assert_eq!(started_at(&log[4]) - started_at(&log[3]), 120_000, "{d}");
    assert!(
        log.iter().all(|a| a["trigger"] != "manual"),
        "no attempt was redelivered by hand: {d}"
    );
    assert_eq!(sys.inventory().on_hand("TEA-SENCHA").await, 39);
});
