//! hybrid mode end to end: the store pushes a thin signed `order.notice`,
//! the inventory fetches the order by API and answers; a slow
//! reconciliation of the feed lands whatever notice was lost.

use std::time::Duration;

use sqlx::Row;

use crate::helpers::*;

/// Subscribed to the store's webhooks, reconciling every minute of the
/// inventory's (manual) clock.
fn combined() -> Options {
    Options {
        mode: "hybrid",
        inventory: |c| {
            c.subscribe = true;
            c.reconcile.paused = false;
            c.reconcile.interval = Duration::from_secs(60);
        },
        ..Options::default()
    }
}

/// Stock movements an order made: one per line applied, never more.
async fn movements(sys: &System, id: &str) -> i64 {
    sqlx::query(
        "SELECT COUNT(*) AS n FROM stock_movements WHERE order_id = $1 AND reason = 'order'",
    )
    .bind(id)
    .fetch_one(sys.inventory().state.ctx.db.pool())
    .await
    .unwrap()
    .get("n")
}

/// The inventory's log entries on one channel about one order.
async fn logged(sys: &System, channel: &str, id: &str) -> Vec<serde_json::Value> {
    let all = sys
        .inventory()
        .get_json(&format!("/api/messages?channel={channel}&limit=200"))
        .await;
    all.as_array()
        .unwrap()
        .iter()
        .filter(|m| m["order_id"] == id)
        .cloned()
        .collect()
}

/// A log entry whose verdict is "duplicate", whatever words follow.
fn is_duplicate(message: &serde_json::Value) -> bool {
    message["verdict"]
        .as_str()
        .is_some_and(|v| v.starts_with("duplicate"))
}

platform::db_test!(async fn a_hybrid_order_is_notified_fetched_and_confirmed(backend) {
    let sys = spawn_system(backend, combined()).await;
    sys.wait_subscribed().await;
    let order = place(&sys.store, "TEA-OOLONG", 2).await;
    assert_eq!(order["status"], "pending");
    assert_eq!(order["mode"], "hybrid");
    let id = order_id(&order);
    assert_eq!(settled(&sys.store, &id).await, "confirmed");
    assert_eq!(sys.inventory().on_hand("TEA-OOLONG").await, 10);

    // The timeline: the store's thin notice, then the inventory's fetch.
    let detail = sys.store.get_json(&format!("/api/orders/{id}")).await;
    let timeline = detail["timeline"].as_array().unwrap();
    let channels: Vec<(&str, &str)> = timeline
        .iter()
        .map(|e| (e["channel"].as_str().unwrap(), e["initiator"].as_str().unwrap()))
        .collect();
    assert!(channels.contains(&("notify", "store")), "{channels:?}");
    assert!(channels.contains(&("fetch", "inventory")), "{channels:?}");
    let notice = timeline.iter().find(|e| e["channel"] == "notify").unwrap();
    assert!(notice["request_headers"]["webhook-signature"].as_str().unwrap().starts_with("v1,"));
    // Thin: the type, the time and the order id — no customer, no items.
    let body: serde_json::Value =
        serde_json::from_str(notice["request_body"].as_str().unwrap()).unwrap();
    assert_eq!(body["type"], "order.notice");
    assert_eq!(body["data"], serde_json::json!({"order_id": id}));
    let text = notice["request_body"].as_str().unwrap();
    assert!(!text.contains("@example") && !text.contains("TEA-OOLONG"), "{text}");
    // The inventory logged the notice and the fetch it made.
    assert_eq!(logged(&sys, "notify", &id).await[0]["verdict"], "applied");
    assert_eq!(logged(&sys, "fetch", &id).await.len(), 1);
});

platform::db_test!(async fn lost_notices_are_landed_by_the_reconciliation_exactly_once(backend) {
    let sys = spawn_system(backend, combined()).await;
    sys.wait_subscribed().await;
    sys.wait_pinged().await;
    // The receiver answers 200 and does nothing: every notice is lost, and
    // the store, told it arrived, never retries it.
    sys.inventory().set_chaos(serde_json::json!({"drop_webhooks": true})).await;
    let mut hybrid = Vec::new();
    for _ in 0..4 {
        hybrid.push(order_id(&place(&sys.store, "TEA-ASSAM", 2).await));
    }
    sys.store.set_mode("webhook").await;
    let pushed = order_id(&place(&sys.store, "TEA-ASSAM", 1).await);
    eventually(Duration::from_secs(10), "every message delivered (and dropped)", || async {
        let done = sys.store.get_json("/api/deliveries?state=succeeded").await;
        let orders = done.as_array().unwrap().iter().filter(|d| d["order_id"].is_string()).count();
        (orders == 5).then_some(())
    })
    .await;
    for id in hybrid.iter().chain([&pushed]) {
        assert_eq!(sys.store.order_status(id).await, "pending");
    }
    assert_eq!(sys.inventory().on_hand("TEA-ASSAM").await, 60);

    // The next reconciliation, on its own timer, lands every hybrid order.
    advance_until(&sys.inventory_clock, Duration::from_secs(20), "reconciled", || async {
        for id in &hybrid {
            if sys.store.order_status(id).await == "pending" {
                return None;
            }
        }
        Some(())
    })
    .await;
    // The page's orders acknowledged in one request, which names each.
    let reconciled = sys.inventory().get_json("/api/messages?channel=reconcile&limit=200").await;
    let acks: Vec<&serde_json::Value> = reconciled
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["verdict"].as_str().unwrap().starts_with("acknowledged"))
        .collect();
    for id in &hybrid {
        assert_eq!(sys.store.order_status(id).await, "confirmed");
        assert_eq!(movements(&sys, id).await, 1, "{id} applied once");
        assert!(
            acks.iter().any(|m| m["request_body"].as_str().unwrap().contains(id.as_str())),
            "{id}: {acks:?}"
        );
    }
    // The webhook order has no safety net: the store thinks it arrived.
    assert_eq!(sys.store.order_status(&pushed).await, "pending");
    assert_eq!(sys.inventory().on_hand("TEA-ASSAM").await, 60 - 8);
    let timeline = sys.store.get_json(&format!("/api/orders/{}", hybrid[0])).await["timeline"].clone();
    assert!(timeline.as_array().unwrap().iter().any(|e| e["channel"] == "reconcile"), "{timeline}");

    // A notice delivered again now is a duplicate: nothing moves twice.
    sys.inventory().set_chaos(serde_json::json!({})).await;
    let delivery = sys.store.get_json(&format!("/api/deliveries?order_id={}", hybrid[0])).await[0].clone();
    let r = sys
        .store
        .client
        .post(sys.store.url(&format!("/api/deliveries/{}/redeliver", delivery["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    eventually(Duration::from_secs(10), "the redelivered notice", || async {
        let answered = logged(&sys, "notify", &hybrid[0]).await;
        answered.iter().any(is_duplicate).then_some(())
    })
    .await;
    assert_eq!(movements(&sys, &hybrid[0]).await, 1);
    assert_eq!(sys.inventory().on_hand("TEA-ASSAM").await, 60 - 8);
});

platform::db_test!(async fn the_fetch_reads_the_order_as_it_stands_when_the_notice_arrives(backend) {
    let sys = spawn_system(backend, combined()).await;
    sys.wait_subscribed().await;
    sys.wait_pinged().await;
    // The notice is held back (refused, so the store retries it) ...
    sys.inventory().set_chaos(serde_json::json!({"reject_signatures": true})).await;
    let id = order_id(&place(&sys.store, "TIN-CADDY", 1).await);
    eventually(Duration::from_secs(10), "the first notice refused", || async {
        let d = sys.store.get_json(&format!("/api/deliveries?order_id={id}")).await[0].clone();
        (d["attempts"] == 1).then_some(())
    })
    .await;
    // ... while the reconciliation lands the order: it changes state.
    let r = sys.inventory().client.post(sys.inventory().url("/api/reconciler/run")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(sys.store.order_status(&id).await, "confirmed");

    // The notice gets through at last: the fetch reads the order as it is
    // now — confirmed — not as it was when the notice was written.
    sys.inventory().set_chaos(serde_json::json!({})).await;
    advance_until(&sys.store_clock, Duration::from_secs(1), "the notice delivered", || async {
        let d = sys.store.get_json(&format!("/api/deliveries?order_id={id}")).await[0].clone();
        (d["state"] == "succeeded").then_some(())
    })
    .await;
    let fetched = logged(&sys, "fetch", &id).await;
    assert_eq!(fetched.len(), 1, "{fetched:?}");
    let body: serde_json::Value =
        serde_json::from_str(fetched[0]["response_body"].as_str().unwrap()).unwrap();
    assert_eq!(body["status"], "confirmed");
    assert_eq!(logged(&sys, "notify", &id).await.iter().filter(|m| is_duplicate(m)).count(), 1);
    assert_eq!(movements(&sys, &id).await, 1);

    // And the reconciliation's acknowledgement, sent again now, is a
    // duplicate too: the first answer decided.
    let r = sys
        .store
        .client
        .post(sys.store.url(&format!("/api/orders/{id}/acknowledgement")))
        .bearer_auth(contract::demo::DEMO_STORE_API_KEY)
        .json(&serde_json::json!({"outcome": "backordered", "channel": "hybrid", "applied_at": "2026-01-01T00:00:00Z"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let answer: serde_json::Value = r.json().await.unwrap();
    assert_eq!(answer["duplicate"], true);
    assert_eq!(answer["status"], "confirmed");
});
