//! webhook mode end to end: the store pushes signed `order.created` events
//! to the inventory's receiver, which subscribed itself.

use std::time::Duration;

use sqlx::Row;

use crate::helpers::*;

fn push() -> Options {
    Options {
        mode: "webhook",
        inventory: subscribing,
        ..Options::default()
    }
}

platform::db_test!(async fn a_pushed_order_moves_stock_and_is_confirmed(backend) {
    let sys = spawn_system(backend, push()).await;
    sys.wait_subscribed().await;
    let order = place(&sys.store, "TEA-OOLONG", 2).await;
    assert_eq!(order["status"], "pending"); // the customer is answered at once
    let id = order_id(&order);
    assert_eq!(settled(&sys.store, &id).await, "confirmed");
    assert_eq!(sys.inventory().on_hand("TEA-OOLONG").await, 10);
    // The timeline shows the signed push, from the store to the inventory.
    let detail = sys.store.get_json(&format!("/api/orders/{id}")).await;
    let push = &detail["timeline"][0];
    assert_eq!(push["channel"], "webhook");
    assert_eq!(push["initiator"], "store");
    assert!(push["request_headers"]["webhook-signature"].as_str().unwrap().starts_with("v1,"));
    assert_eq!(push["response_status"], 200);
    assert_eq!(push["attempt_no"], 1);
});

platform::db_test!(async fn a_push_that_oversells_is_shown_as_backordered(backend) {
    let sys = spawn_system(backend, push()).await;
    sys.wait_subscribed().await;
    sys.inventory().set_on_hand("WHISK-BAMBOO", 1).await;
    let order = place(&sys.store, "WHISK-BAMBOO", 3).await;
    let id = order_id(&order);
    // The store accepted it without knowing the stock: push can oversell.
    assert_eq!(settled(&sys.store, &id).await, "backordered");
    let detail = sys.store.get_json(&format!("/api/orders/{id}")).await;
    assert!(detail["status_reason"].as_str().unwrap().contains("short"));
    assert_eq!(sys.inventory().on_hand("WHISK-BAMBOO").await, 1);
});

platform::db_test!(async fn a_redelivered_message_moves_stock_once(backend) {
    let sys = spawn_system(backend, push()).await;
    sys.wait_subscribed().await;
    let id = order_id(&place(&sys.store, "TEA-ASSAM", 5).await);
    settled(&sys.store, &id).await;
    let delivery = sys.store.get_json(&format!("/api/deliveries?order_id={id}")).await[0].clone();
    let r = sys
        .store
        .client
        .post(sys.store.url(&format!("/api/deliveries/{}/redeliver", delivery["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let second = eventually(Duration::from_secs(10), "the second attempt", || async {
        let d = sys.store.get_json(&format!("/api/deliveries?order_id={id}")).await[0].clone();
        (d["attempts"] == 2 && d["state"] == "succeeded").then_some(d)
    })
    .await;
    let answer: serde_json::Value =
        serde_json::from_str(second["attempt_log"][1]["response_body"].as_str().unwrap()).unwrap();
    assert_eq!(answer["duplicate"], true);
    assert_eq!(sys.inventory().on_hand("TEA-ASSAM").await, 55);
});

platform::db_test!(async fn three_failures_then_success_on_the_fourth_attempt(backend) {
    let sys = spawn_system(backend, push()).await;
    sys.wait_subscribed().await;
    sys.wait_pinged().await;
    sys.inventory().set_chaos(serde_json::json!({"fail_next": 3})).await;
    let id = order_id(&place(&sys.store, "TIN-CADDY", 1).await);
    let status = advance_until(&sys.store_clock, Duration::from_secs(1), "delivered after retries", || async {
        let status = sys.store.order_status(&id).await;
        (status != "pending").then_some(status)
    })
    .await;
    assert_eq!(status, "confirmed");
    let d = sys.store.get_json(&format!("/api/deliveries?order_id={id}")).await[0].clone();
    let statuses: Vec<i64> = d["attempt_log"].as_array().unwrap().iter().map(|a| a["response_status"].as_i64().unwrap()).collect();
    assert_eq!(statuses, vec![500, 500, 500, 200]);
    assert_eq!(sys.inventory().on_hand("TIN-CADDY").await, 19);
});

async fn delivery_states(store: &store::testing::TestStore) -> (i64, i64) {
    let row = sqlx::query(
        "SELECT COUNT(*) AS total, CAST(COALESCE(SUM(CASE WHEN state = 'succeeded' THEN 1 ELSE 0 END), 0) AS BIGINT) AS ok \
         FROM webhook_deliveries WHERE event_type = 'order.created'",
    )
    .fetch_one(store.state.ctx.db.pool())
    .await
    .unwrap();
    (row.get("total"), row.get("ok"))
}

platform::db_test!(async fn with_the_inventory_stopped_every_order_is_delivered_once_it_returns(backend) {
    let mut sys = spawn_system(backend, push()).await;
    sys.wait_subscribed().await;
    sys.inventory().set_on_hand("MUG-WHITE", 25).await;
    sys.stop_inventory().await;

    let mut ids = Vec::new();
    for q in [1, 2, 3, 4, 5] {
        ids.push(order_id(&place(&sys.store, "MUG-WHITE", q).await));
    }
    // Every first attempt fails: nothing is listening.
    eventually(Duration::from_secs(10), "first attempts fail", || async {
        let failed: i64 = sqlx::query("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE attempts >= 1 AND state = 'pending'")
            .fetch_one(sys.store.state.ctx.db.pool())
            .await
            .unwrap()
            .get("n");
        (failed == 5).then_some(())
    })
    .await;

    sys.start_inventory().await;
    advance_until(&sys.store_clock, Duration::from_secs(1), "all five delivered", || async {
        (delivery_states(&sys.store).await == (5, 5)).then_some(())
    })
    .await;
    for id in &ids {
        assert_eq!(sys.store.order_status(id).await, "confirmed");
    }
    assert_eq!(sys.inventory().on_hand("MUG-WHITE").await, 25 - 15);
    // The log shows the failed attempts and the successful ones.
    let d = sys.store.get_json(&format!("/api/deliveries?order_id={}", ids[0])).await[0].clone();
    let log = d["attempt_log"].as_array().unwrap();
    assert!(log.len() >= 2);
    assert!(log[0]["error"].as_str().unwrap().contains("could not connect"));
    assert_eq!(log.last().unwrap()["response_status"], 200);
});

platform::db_test!(async fn a_store_restarted_with_pending_events_delivers_every_one_once(backend) {
    let mut sys = spawn_system(backend, push()).await;
    sys.wait_subscribed().await;
    sys.inventory().set_on_hand("TEA-ROOIBOS", 30).await;
    sys.stop_inventory().await;
    let mut ids = Vec::new();
    for _ in 0..6 {
        ids.push(order_id(&place(&sys.store, "TEA-ROOIBOS", 2).await));
    }
    // The store goes down with all six undelivered...
    let mut sys = sys.restart_store(|_| {}).await;
    // ...the inventory comes back, and the restarted store finds the work
    // in its database.
    sys.start_inventory().await;
    advance_until(&sys.store_clock, Duration::from_secs(1), "all six delivered", || async {
        (delivery_states(&sys.store).await == (6, 6)).then_some(())
    })
    .await;
    for id in &ids {
        assert_eq!(sys.store.order_status(id).await, "confirmed");
    }
    assert_eq!(sys.inventory().on_hand("TEA-ROOIBOS").await, 30 - 12);
    let applied: i64 = sqlx::query("SELECT COUNT(*) AS n FROM stock_movements WHERE sku = 'TEA-ROOIBOS' AND reason = 'order'")
        .fetch_one(sys.inventory().state.ctx.db.pool())
        .await
        .unwrap()
        .get("n");
    assert_eq!(applied, 6);
});

platform::db_test!(async fn an_inventory_subscribed_for_xml_receives_xml(backend) {
    let sys = spawn_system(
        backend,
        Options {
            mode: "webhook",
            inventory: |c| {
                c.subscribe = true;
                c.webhook_format = contract::Format::Xml;
            },
            ..Options::default()
        },
    )
    .await;
    sys.wait_subscribed().await;
    let id = order_id(&place(&sys.store, "POT-GLASS", 1).await);
    assert_eq!(settled(&sys.store, &id).await, "confirmed");
    let detail = sys.store.get_json(&format!("/api/orders/{id}")).await;
    let push = &detail["timeline"][0];
    assert_eq!(push["request_headers"]["content-type"], "application/xml");
    assert!(push["request_body"].as_str().unwrap().starts_with("<?xml"));
    assert_eq!(sys.inventory().on_hand("POT-GLASS").await, 14);
});

/// The response statuses of an order's delivery attempts, in order.
async fn attempt_statuses(sys: &System, id: &str) -> Vec<i64> {
    let d = sys
        .store
        .get_json(&format!("/api/deliveries?order_id={id}"))
        .await[0]
        .clone();
    d["attempt_log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["response_status"].as_i64().unwrap_or(0))
        .collect()
}

// Regression: "rotate secret" on the inventory's own endpoint, with no
// grace, left the inventory holding a secret that no longer signed: every
// delivery was a 401, for good. Now the first 401 makes the inventory
// check its secret against the endpoint's fingerprints; holding none of
// them, it rotates and keeps the new secret, and the store's next retry
// lands — nothing restarted.
platform::db_test!(async fn after_a_rotation_without_grace_push_heals_by_itself(backend) {
    let sys = spawn_system(backend, push()).await;
    sys.wait_subscribed().await;
    sys.wait_pinged().await;
    let handed_to_a_person = sys.rotate_without_grace().await;
    assert!(!sys.holds_a_current_secret().await);

    let id = order_id(&place(&sys.store, "TEA-OOLONG", 1).await);
    let status = advance_until(&sys.store_clock, Duration::from_secs(1), "the order lands", || async {
        let status = sys.store.order_status(&id).await;
        (status != "pending").then_some(status)
    })
    .await;
    assert_eq!(status, "confirmed");
    assert_eq!(sys.inventory().on_hand("TEA-OOLONG").await, 11);
    let statuses = attempt_statuses(&sys, &id).await;
    assert_eq!(statuses.first(), Some(&401), "{statuses:?}");
    assert_eq!(statuses.last(), Some(&200), "{statuses:?}");
    // The inventory fetched a secret of its own: the newest that signs.
    assert!(sys.holds_a_current_secret().await);
    let log = sys.subscription_log().await;
    assert!(log.iter().any(|l| l.contains("none of our secrets signs now")), "{log:?}");
    assert!(log.iter().any(|l| l.contains("secret rotated")), "{log:?}");
    // And recorded none of the secrets it saw.
    let recorded: Vec<String> = sqlx::query_scalar("SELECT COALESCE(response_body, '') FROM messages")
        .fetch_all(sys.inventory().state.ctx.db.pool())
        .await
        .unwrap();
    let theirs = handed_to_a_person.trim_start_matches("whsec_");
    for held in inventory::integration::webhook_secrets::stored(&sys.inventory().state.ctx.db).await.unwrap() {
        let ours = held.expose();
        for body in &recorded {
            assert!(!body.contains(ours.trim_start_matches("whsec_")) && !body.contains(theirs), "{body}");
        }
    }
});

// Regression: restarting the inventory did not help either — at start
// it saw that it held *a* secret for its endpoint and kept it. Now it
// checks that secret against the fingerprints at start.
platform::db_test!(async fn a_restart_after_a_rotation_without_grace_heals_too(backend) {
    let mut sys = spawn_system(backend, push()).await;
    sys.wait_subscribed().await;
    sys.wait_pinged().await;
    sys.stop_inventory().await;
    sys.rotate_without_grace().await;
    sys.start_inventory().await;
    eventually(Duration::from_secs(10), "the inventory holds a secret that signs", || async {
        sys.holds_a_current_secret().await.then_some(())
    })
    .await;
    let id = order_id(&place(&sys.store, "TEA-OOLONG", 1).await);
    assert_eq!(settled(&sys.store, &id).await, "confirmed");
    assert_eq!(attempt_statuses(&sys, &id).await, vec![200], "healed before the first delivery");
});

/// The state the inventory's status card shows for its subscription
/// (`registered`, `deleted`, `disabled`, `unknown`, `none`).
async fn subscription_state(sys: &System) -> String {
    let page = sys.inventory().get_page("/").await;
    assert_eq!(page.status, 200);
    let (_, rest) = page
        .body
        .split_once(r#"id="subscription-state" data-state=""#)
        .unwrap_or_else(|| panic!("no subscription state on the stock page:\n{}", page.body));
    rest.split('"').next().unwrap().to_owned()
}

// Regression: the inventory's page said its endpoint was registered after
// the store had deleted it, and offered no way back but a restart.
platform::db_test!(async fn an_endpoint_deleted_at_the_store_is_seen_and_subscribed_again(backend) {
    let sys = spawn_system(backend, push()).await;
    sys.wait_subscribed().await;
    assert_eq!(subscription_state(&sys).await, "registered");
    let endpoint = sys.the_endpoint().await;
    let old_id = endpoint["id"].as_str().unwrap().to_owned();
    let at = sys.store.url(&format!("/api/webhook-endpoints/{old_id}"));

    // Disabled at the store: said so, and no button (registering again
    // would find it, still disabled).
    let r = sys.store.client.patch(&at).json(&serde_json::json!({"enabled": false})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(subscription_state(&sys).await, "disabled");
    sys.inventory().get_page("/").await.assert_lacks("Subscribe again");
    let r = sys.store.client.patch(&at).json(&serde_json::json!({"enabled": true})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(subscription_state(&sys).await, "registered");

    // Deleted at the store, by its operator.
    let r = sys.store.client.delete(&at).send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(subscription_state(&sys).await, "deleted");
    sys.inventory().get_page("/").await.assert_contains("Subscribe again");

    // Another site's page cannot press the button.
    let r = sys
        .inventory()
        .client
        .post(sys.inventory().url("/subscription/renew"))
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(subscription_state(&sys).await, "deleted");

    // The operator presses it.
    let pressed = sys.inventory().post_form("/subscription/renew", &[]).await;
    assert_eq!(pressed.status, 303);
    assert_eq!(pressed.location.as_deref(), Some("/?notice=resubscribed"));
    assert_eq!(subscription_state(&sys).await, "registered");
    let endpoint = sys.the_endpoint().await;
    assert_ne!(endpoint["id"].as_str().unwrap(), old_id, "a new endpoint, not the deleted one");

    // And webhooks reach the inventory again, signed with the new secret.
    let order = place(&sys.store, "TEA-OOLONG", 2).await;
    let id = order_id(&order);
    assert_eq!(settled(&sys.store, &id).await, "confirmed");
    assert_eq!(sys.inventory().on_hand("TEA-OOLONG").await, 10);
});
