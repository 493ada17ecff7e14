//! Two inventory processes on one database (what `docker compose up
//! --scale inventory=2` runs): whichever receives or polls an order, it is
//! applied once.

use std::time::Duration;

use sqlx::Row;

use inventory::testing::TestInventory;

use crate::helpers::*;

platform::db_test!(async fn two_inventories_on_one_database_apply_every_order_once(backend) {
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
    // A second process on the same database, subscribed at its own address:
    // every webhook now goes to both, and both poll the same feed.
    let store_url = sys.store.address.clone();
    let clock = sys.inventory_clock.shared();
    let port = platform::testing::free_port();
    let second = TestInventory::spawn(sys.inventory().db.share(), move |c| {
        c.port = port;
        c.url = format!("http://127.0.0.1:{port}");
        c.store_url = store_url.clone();
        c.store_public_url = store_url;
        c.subscribe = true;
        c.poll.paused = false;
        c.poll.interval = Duration::from_secs(1);
        c.clock = clock;
        c.seed_stock = false;
    })
    .await;
    eventually(Duration::from_secs(10), "both receivers are registered", || async {
        (sys.store.get_json("/api/webhook-endpoints").await.as_array().unwrap().len() == 2).then_some(())
    })
    .await;
    let before = sys.inventory().on_hand("TEA-SENCHA").await;

    let mut ids = Vec::new();
    for (i, mode) in ["webhook", "poll", "webhook", "poll", "webhook", "poll"].iter().enumerate() {
        sys.store.set_mode(mode).await;
        ids.push(order_id(&place(&sys.store, "TEA-SENCHA", 1 + i as i64 % 2).await));
    }
    advance_until(&sys.inventory_clock, Duration::from_secs(1), "every order settles", || async {
        for id in &ids {
            if sys.store.order_status(id).await == "pending" {
                return None;
            }
        }
        Some(())
    })
    .await;
    // Both receivers got every webhook order (3 orders × 2 endpoints)...
    // (A delivery that reached the second process before it had stored its
    // fresh secret was refused and is retried on the store's clock.)
    advance_until(&sys.store_clock, Duration::from_secs(1), "both endpoints receive every webhook order", || async {
        let deliveries = sys.store.get_json("/api/deliveries?state=succeeded&limit=200").await;
        let done = deliveries.as_array().unwrap().iter().filter(|d| d["event_type"] == "order.created").count();
        (done == 6).then_some(())
    })
    .await;
    // ...yet every order took stock once.
    for id in &ids {
        assert_eq!(sys.store.order_status(id).await, "confirmed");
        let moved: i64 = sqlx::query("SELECT COUNT(*) AS n FROM stock_movements WHERE order_id = $1")
            .bind(id)
            .fetch_one(second.state.ctx.db.pool())
            .await
            .unwrap()
            .get("n");
        assert_eq!(moved, 1, "{id}");
    }
    assert_eq!(sys.inventory().on_hand("TEA-SENCHA").await, before - 9);
    assert_eq!(second.on_hand("TEA-SENCHA").await, before - 9);
});

// Regression: two inventory processes behind one URL — `docker compose up
// --scale inventory=2`, where both are `http://inventory:8081` — are one
// endpoint at the store, the resolver, with one secret: the second finds
// the first's registration, and the first's secret in the database they
// share, so it rotates nothing. After a rotation without grace the one
// that gets the deliveries heals push, and the other, restarted, finds
// the secret it fetched.
platform::db_test!(async fn two_inventories_behind_one_url_share_the_resolver_and_its_secret(backend) {
    let sys = spawn_system(
        backend,
        Options { mode: "webhook", inventory: subscribing, ..Options::default() },
    )
    .await;
    sys.wait_subscribed().await;
    sys.wait_pinged().await;
    let signing = sys.signing_fingerprints().await;
    let (url, store_url) = (format!("http://127.0.0.1:{}", sys.inventory_port), sys.store.address.clone());
    let clock = sys.inventory_clock.shared();
    let behind_the_same_url = move |c: &mut inventory::InventoryConfig| {
        c.url = url;
        c.store_url = store_url.clone();
        c.store_public_url = store_url;
        c.subscribe = true;
        c.clock = clock;
        c.seed_stock = false;
    };
    let second = TestInventory::spawn(sys.inventory().db.share(), behind_the_same_url.clone()).await;
    eventually(Duration::from_secs(10), "the second process registers too", || async {
        (sys.subscription_log().await.len() == 2).then_some(())
    })
    .await;
    let endpoint = sys.the_endpoint().await;
    assert_eq!(endpoint["role"], "resolver");
    assert_eq!(sys.signing_fingerprints().await, signing, "the second process rotated");
    let id = order_id(&place(&sys.store, "TEA-SENCHA", 1).await);
    assert_eq!(settled(&sys.store, &id).await, "confirmed");

    sys.rotate_without_grace().await;
    let id = order_id(&place(&sys.store, "TEA-SENCHA", 1).await);
    advance_until(&sys.store_clock, Duration::from_secs(1), "the order lands after the rotation", || async {
        (sys.store.order_status(&id).await == "confirmed").then_some(())
    })
    .await;
    let healed = sys.signing_fingerprints().await;
    let db = second.stop().await;
    let logged = sys.subscription_log().await.len();
    let _second = TestInventory::spawn(db, behind_the_same_url).await;
    let log = eventually(Duration::from_secs(10), "the second process checks at its start", || async {
        let log = sys.subscription_log().await;
        (log.len() > logged).then_some(log)
    })
    .await;
    assert!(log.last().unwrap().contains("our secret is current"), "{log:?}");
    assert_eq!(sys.signing_fingerprints().await, healed);
});
