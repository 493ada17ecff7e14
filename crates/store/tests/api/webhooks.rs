//! Push: endpoints, signed delivery, the retry schedule, 410, Retry-After,
//! redirects, leases, several dispatchers, and the outbox's atomicity.

use std::time::Duration;

use sqlx::Row;

use contract::signing::{SignedHeaders, WebhookSecret, verify};

use crate::helpers::*;

fn id_of(v: &serde_json::Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

async fn delivery(store: &TestStore, order_id: &str) -> serde_json::Value {
    let list = deliveries_of(store, order_id).await;
    assert_eq!(list.len(), 1, "one delivery per order: {list:?}");
    list[0].clone()
}

async fn wait_for_attempts(store: &TestStore, order_id: &str, n: usize) -> serde_json::Value {
    eventually(
        Duration::from_secs(10),
        &format!("{n} attempts of {order_id}"),
        || async {
            let d = delivery(store, order_id).await;
            (d["attempt_log"].as_array().unwrap().len() >= n
                && d["attempts"].as_i64().unwrap() >= n as i64)
                .then_some(d)
        },
    )
    .await
}

fn started_at_ms(attempt: &serde_json::Value) -> i64 {
    contract::Timestamp::parse_rfc3339(attempt["started_at"].as_str().unwrap())
        .unwrap()
        .millis()
}

platform::db_test!(async fn a_delivery_is_signed_per_standard_webhooks_and_verifies(backend) {
    let (store, _) = spawn_store(backend).await;
    let endpoint = Receiver::start(vec![]).await;
    let (_, secret) = register_endpoint(&store, &endpoint.url, serde_json::json!({})).await;
    assert!(secret.starts_with("whsec_"));

    let order = place(&store, "TEA-SENCHA", 2).await;
    let received = eventually(Duration::from_secs(10), "the webhook arrives", || async {
        endpoint.orders_received().await.into_iter().next()
    })
    .await;
    let secret = WebhookSecret::parse(&secret).unwrap();
    let id = received.header("webhook-id").unwrap();
    let ts: i64 = received.header("webhook-timestamp").unwrap().parse().unwrap();
    verify(
        &[secret],
        SignedHeaders {
            id: Some(id),
            timestamp: Some(&ts.to_string()),
            signature: received.header("webhook-signature"),
        },
        &received.body,
        ts,
        300,
    )
    .expect("the signature verifies over the raw body");
    assert_eq!(received.header("content-type"), Some("application/json"));
    let event: serde_json::Value = serde_json::from_slice(&received.body).unwrap();
    assert_eq!(event["type"], "order.created");
    assert_eq!(event["data"]["id"], order["id"]);
    assert_eq!(event["data"]["items"][0]["quantity"], 2);
    assert!(event["timestamp"].as_str().unwrap().ends_with('Z'));

    let d = wait_for_attempts(&store, &id_of(&order), 1).await;
    assert_eq!(d["state"], "succeeded");
    assert_eq!(d["message_id"], id);
});

platform::db_test!(async fn failures_retry_on_the_schedule_and_the_fourth_attempt_delivers(backend) {
    let (store, clock) = spawn_store(backend).await;
    let endpoint = Receiver::start(vec![answer(500), answer(500), answer(500)]).await;
    register_endpoint(&store, &endpoint.url, serde_json::json!({"event_types": ["order.created"]})).await;

    let order = place(&store, "TEA-ASSAM", 1).await;
    let id = id_of(&order);
    let t0 = order["created_at"].as_str().map(|t| contract::Timestamp::parse_rfc3339(t).unwrap().millis()).unwrap();

    // Default schedule 1 s, 5 s, 30 s (no jitter in tests): attempts at
    // t0, t0+1 s, t0+6 s, t0+36 s.
    for (n, wait_ms) in [(1, 1_000), (2, 5_000), (3, 30_000)] {
        let d = wait_for_attempts(&store, &id, n).await;
        assert_eq!(d["state"], "pending");
        assert_eq!(d["last_status"], 500);
        let attempts = d["attempt_log"].as_array().unwrap();
        let last = started_at_ms(attempts.last().unwrap());
        let next = contract::Timestamp::parse_rfc3339(d["next_attempt_at"].as_str().unwrap()).unwrap().millis();
        assert_eq!(next - last, wait_ms, "delay after attempt {n}");
        // Not a moment early: a millisecond short of the delay, nothing.
        clock.advance(Duration::from_millis(wait_ms as u64 - 1));
        assert_eq!(delivery(&store, &id).await["attempts"], n as i64);
        clock.advance(Duration::from_millis(1));
    }
    let d = wait_for_attempts(&store, &id, 4).await;
    assert_eq!(d["state"], "succeeded");
    let starts: Vec<i64> = d["attempt_log"].as_array().unwrap().iter().map(|a| started_at_ms(a) - t0).collect();
    assert_eq!(starts, vec![0, 1_000, 6_000, 36_000]);
    // Every attempt carried the same webhook-id and a fresh timestamp.
    let received = endpoint.orders_received().await;
    assert_eq!(received.len(), 4);
    assert!(received.iter().all(|r| r.header("webhook-id") == received[0].header("webhook-id")));
    let stamps: Vec<i64> = received.iter().map(|r| r.header("webhook-timestamp").unwrap().parse().unwrap()).collect();
    assert_eq!(stamps[3] - stamps[0], 36);
});

platform::db_test!(async fn after_the_last_scheduled_retry_the_delivery_fails_and_can_be_redelivered(backend) {
    let (store, clock) = spawn_store_with(backend, |c| {
        c.webhook.retry_schedule = "1s,2s".parse().unwrap();
    })
    .await;
    let endpoint = Receiver::start(vec![answer(503), answer(503), answer(503)]).await;
    register_endpoint(&store, &endpoint.url, serde_json::json!({"event_types": ["order.created"]})).await;
    let id = id_of(&place(&store, "TEA-ASSAM", 1).await);
    wait_for_attempts(&store, &id, 1).await;
    clock.advance(Duration::from_secs(1));
    wait_for_attempts(&store, &id, 2).await;
    clock.advance(Duration::from_secs(2));
    let d = wait_for_attempts(&store, &id, 3).await;
    assert_eq!(d["state"], "failed");
    assert!(d["last_error"].as_str().unwrap().contains("gave up after 3 attempts"), "{d}");
    clock.advance(Duration::from_secs(3600));
    assert_eq!(delivery(&store, &id).await["attempts"], 3);

    // A person presses "redeliver": the same message goes again, now.
    let r = store
        .client
        .post(store.url(&format!("/api/deliveries/{}/redeliver", d["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let d = wait_for_attempts(&store, &id, 4).await;
    assert_eq!(d["state"], "succeeded");
    let last = d["attempt_log"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["trigger"], "manual");
    let received = endpoint.orders_received().await;
    assert_eq!(received[3].header("webhook-id"), received[0].header("webhook-id"));
});

platform::db_test!(async fn a_410_disables_the_endpoint_and_its_queue_waits_for_re_enabling(backend) {
    let (store, _) = spawn_store(backend).await;
    let endpoint = Receiver::start(vec![answer(410)]).await;
    let (endpoint_id, _) = register_endpoint(&store, &endpoint.url, serde_json::json!({"event_types": ["order.created"]})).await;
    let first = id_of(&place(&store, "TEA-ASSAM", 1).await);
    wait_for_attempts(&store, &first, 1).await;
    let ep = store.get_json(&format!("/api/webhook-endpoints/{endpoint_id}")).await;
    assert_eq!(ep["enabled"], false);
    assert!(ep["disabled_reason"].as_str().unwrap().contains("410"));
    assert_eq!(delivery(&store, &first).await["state"], "pending");
    // New orders are not queued for a disabled endpoint...
    let second = id_of(&place(&store, "TEA-ASSAM", 1).await);
    assert!(deliveries_of(&store, &second).await.is_empty());
    // ...and the queued one goes out when it is enabled again.
    let r = store
        .client
        .patch(store.url(&format!("/api/webhook-endpoints/{endpoint_id}")))
        .json(&serde_json::json!({"enabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let d = wait_for_attempts(&store, &first, 2).await;
    assert_eq!(d["state"], "succeeded");
});

platform::db_test!(async fn retry_after_on_429_is_honoured(backend) {
    let (store, clock) = spawn_store(backend).await;
    let endpoint = Receiver::start(vec![answer(429).insert_header("retry-after", "42")]).await;
    register_endpoint(&store, &endpoint.url, serde_json::json!({"event_types": ["order.created"]})).await;
    let id = id_of(&place(&store, "TEA-ASSAM", 1).await);
    let d = wait_for_attempts(&store, &id, 1).await;
    let last = started_at_ms(&d["attempt_log"][0]);
    let next = contract::Timestamp::parse_rfc3339(d["next_attempt_at"].as_str().unwrap()).unwrap().millis();
    assert_eq!(next - last, 42_000, "Retry-After, not the 1 s schedule");
    clock.advance(Duration::from_secs(41));
    assert_eq!(delivery(&store, &id).await["attempts"], 1);
    clock.advance(Duration::from_secs(1));
    assert_eq!(wait_for_attempts(&store, &id, 2).await["state"], "succeeded");
});

platform::db_test!(async fn redirects_are_not_followed(backend) {
    let (store, _) = spawn_store(backend).await;
    let elsewhere = Receiver::start(vec![]).await;
    let endpoint = Receiver::start(vec![answer(307).insert_header("location", elsewhere.url.as_str())]).await;
    register_endpoint(&store, &endpoint.url, serde_json::json!({"event_types": ["order.created"]})).await;
    let id = id_of(&place(&store, "TEA-ASSAM", 1).await);
    let d = wait_for_attempts(&store, &id, 1).await;
    assert_eq!(d["state"], "pending");
    assert_eq!(d["last_status"], 307);
    assert!(elsewhere.received().await.is_empty());
});

platform::db_test!(async fn endpoints_are_validated_idempotent_on_url_and_pinged(backend) {
    let (store, clock) = spawn_store(backend).await;
    for (url, field) in [
        ("http://10.1.2.3/hook", "url"),
        ("https://127.0.0.1/hook", "url"),
        ("ftp://127.0.0.1/hook", "url"),
        ("not a url", "url"),
    ] {
        let r = store
            .client
            .post(store.url("/api/webhook-endpoints"))
            .json(&serde_json::json!({"url": url}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{url}");
        let p: serde_json::Value = r.json().await.unwrap();
        assert_eq!(p["errors"][0]["field"], field);
    }
    let r = store
        .client
        .post(store.url("/api/webhook-endpoints"))
        .json(&serde_json::json!({"url": "http://127.0.0.1:1/x", "event_types": ["order.shipped"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);

    let endpoint = Receiver::start(vec![]).await;
    let (id, _) = register_endpoint(&store, &endpoint.url, serde_json::json!({})).await;
    // The same URL again: the first registration, without its secret.
    let r = store
        .client
        .post(store.url("/api/webhook-endpoints"))
        .json(&serde_json::json!({"url": endpoint.url}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let again: serde_json::Value = r.json().await.unwrap();
    assert_eq!(again["id"], id.as_str());
    assert!(again.get("secret").is_none());
    assert_eq!(store.get_json("/api/webhook-endpoints").await.as_array().unwrap().len(), 1);

    // The welcome ping arrives a moment after registration.
    clock.advance(Duration::from_secs(1));
    let ping = eventually(Duration::from_secs(10), "the ping", || async {
        endpoint.received().await.into_iter().find(|r| r.event_type() == "ping")
    })
    .await;
    let body: serde_json::Value = serde_json::from_slice(&ping.body).unwrap();
    assert_eq!(body["data"]["endpoint_id"], id.as_str());

    // Deleting it cancels what it had queued.
    let r = store.client.delete(store.url(&format!("/api/webhook-endpoints/{id}"))).send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert!(store.get_json("/api/webhook-endpoints").await.as_array().unwrap().is_empty());
});

platform::db_test!(async fn a_rotated_secret_signs_alongside_the_old_one(backend) {
    let (store, _) = spawn_store(backend).await;
    let endpoint = Receiver::start(vec![]).await;
    let (id, old) = register_endpoint(&store, &endpoint.url, serde_json::json!({"event_types": ["order.created"]})).await;
    let r = store
        .client
        .post(store.url(&format!("/api/webhook-endpoints/{id}/rotate-secret")))
        .json(&serde_json::json!({"grace_seconds": 600}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let new = r.json::<serde_json::Value>().await.unwrap()["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    place(&store, "TEA-ASSAM", 1).await;
    let received = eventually(Duration::from_secs(10), "the webhook", || async {
        endpoint.orders_received().await.into_iter().next()
    })
    .await;
    let header = received.header("webhook-signature").unwrap();
    assert_eq!(header.split(' ').count(), 2, "{header}");
    let ts = received.header("webhook-timestamp").unwrap();
    for secret in [&old, &new] {
        verify(
            &[WebhookSecret::parse(secret).unwrap()],
            SignedHeaders { id: received.header("webhook-id"), timestamp: Some(ts), signature: Some(header) },
            &received.body,
            ts.parse().unwrap(),
            300,
        )
        .expect("each secret verifies during the grace period");
    }
});

/// The fingerprint of a `whsec_…` secret, worked out here from its
/// definition (the first 8 bytes of SHA-256 over the key bytes, in hex),
/// not with the code under test.
fn fingerprint_of(secret: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .unwrap();
    hex::encode(&sha2::Sha256::digest(&key)[..8])
}

fn fingerprints(endpoint: &serde_json::Value) -> Vec<String> {
    endpoint["secret_fingerprints"]
        .as_array()
        .unwrap_or_else(|| panic!("no secret_fingerprints: {endpoint}"))
        .iter()
        .map(|f| f.as_str().unwrap().to_owned())
        .collect()
}

// Regression: the inventory could not tell that the secret it held was
// no longer the store's. An endpoint now shows a fingerprint of each
// secret that signs for it — newest first, the old one too during a
// grace period — and never a secret.
platform::db_test!(async fn an_endpoint_shows_the_fingerprints_of_the_secrets_that_sign_now(backend) {
    let (store, clock) = spawn_store(backend).await;
    let endpoint = Receiver::start(vec![]).await;
    let (id, first) = register_endpoint(&store, &endpoint.url, serde_json::json!({})).await;
    let path = format!("/api/webhook-endpoints/{id}");
    assert_eq!(fingerprints(&store.get_json(&path).await), vec![fingerprint_of(&first)]);

    let rotate = |grace: u64| {
        let (client, url) = (store.client.clone(), store.url(&format!("{path}/rotate-secret")));
        async move {
            let r = client.post(url).json(&serde_json::json!({"grace_seconds": grace})).send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.json::<serde_json::Value>().await.unwrap()
        }
    };
    let rotated = rotate(600).await;
    let second = rotated["secret"].as_str().unwrap().to_owned();
    let both = vec![fingerprint_of(&second), fingerprint_of(&first)];
    assert_eq!(fingerprints(&rotated), both, "the rotation's answer");
    assert_eq!(fingerprints(&store.get_json(&path).await), both);
    let listed = store.get_json("/api/webhook-endpoints").await;
    assert_eq!(fingerprints(&listed[0]), both);

    // The grace period over, the old secret no longer signs.
    clock.advance(Duration::from_secs(600));
    assert_eq!(fingerprints(&store.get_json(&path).await), vec![fingerprint_of(&second)]);
    // With no grace, the new one alone at once.
    let third = rotate(0).await["secret"].as_str().unwrap().to_owned();
    assert_eq!(fingerprints(&store.get_json(&path).await), vec![fingerprint_of(&third)]);

    let shown = store.get_json(&path).await.to_string() + &store.get_json("/api/webhook-endpoints").await.to_string();
    for secret in [&first, &second, &third] {
        assert!(!shown.contains(secret.trim_start_matches("whsec_")), "a secret was shown: {shown}");
    }
});

platform::db_test!(async fn an_xml_endpoint_gets_signed_xml(backend) {
    let (store, _) = spawn_store(backend).await;
    let endpoint = Receiver::start(vec![]).await;
    let (_, secret) =
        register_endpoint(&store, &endpoint.url, serde_json::json!({"format": "xml", "event_types": ["order.created"]})).await;
    let order = place(&store, "MUG-WHITE", 2).await;
    let received = eventually(Duration::from_secs(10), "the XML webhook", || async {
        endpoint.received().await.into_iter().find(|r| r.header("content-type") == Some("application/xml"))
    })
    .await;
    let ts = received.header("webhook-timestamp").unwrap();
    verify(
        &[WebhookSecret::parse(&secret).unwrap()],
        SignedHeaders { id: received.header("webhook-id"), timestamp: Some(ts), signature: received.header("webhook-signature") },
        &received.body,
        ts.parse().unwrap(),
        300,
    )
    .expect("signed over the XML bytes");
    let event: contract::events::OrderCreated = contract::xml::from_slice(&received.body).unwrap();
    assert_eq!(event.data.id.as_str(), order["id"].as_str().unwrap());
    assert_eq!(event.data.items[0].quantity.get(), 2);
});

platform::db_test!(async fn an_expired_lease_is_taken_over(backend) {
    // A dispatcher that died mid-attempt leaves its lease behind; nobody
    // touches the delivery until the lease runs out, then it is retried.
    let (store, clock) = spawn_store(backend).await;
    let endpoint = Receiver::start(vec![answer(500)]).await;
    register_endpoint(&store, &endpoint.url, serde_json::json!({"event_types": ["order.created"]})).await;
    let id = id_of(&place(&store, "TEA-ASSAM", 1).await);
    wait_for_attempts(&store, &id, 1).await;
    // Pretend a dispatcher claimed the retry and died holding it.
    let now = clock_now(&clock);
    sqlx::query(
        "UPDATE webhook_deliveries SET lease_owner = 'dispatcher_dead', lease_expires_at = $1, next_attempt_at = $2 \
         WHERE order_id = $3",
    )
    .bind(now + 40_000)
    .bind(now)
    .bind(&id)
    .execute(store.state.ctx.db.pool())
    .await
    .unwrap();
    store.state.webhooks.dispatch.wake().notify_one();
    clock.advance(Duration::from_secs(39));
    store.state.webhooks.dispatch.wake().notify_one();
    assert_eq!(delivery(&store, &id).await["attempts"], 1);
    clock.advance(Duration::from_secs(2));
    assert_eq!(wait_for_attempts(&store, &id, 2).await["state"], "succeeded");
});

fn clock_now(clock: &platform::ManualClock) -> i64 {
    use platform::Clock;
    clock.now_ms()
}

platform::db_test!(async fn two_stores_on_one_database_deliver_each_message_once(backend) {
    let (a, _) = spawn_store(backend).await;
    let (b, _) = restart_store(a.db.share(), |_| {}).await;
    let endpoint = Receiver::start(vec![]).await;
    register_endpoint(&a, &endpoint.url, serde_json::json!({"event_types": ["order.created"]})).await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..40 {
        let (client, url) = if i % 2 == 0 { (a.client.clone(), a.url("/api/orders")) } else { (b.client.clone(), b.url("/api/orders")) };
        tasks.spawn(async move {
            let r = client.post(url).json(&order_body("TEA-ASSAM", 1)).send().await.unwrap();
            assert_eq!(r.status(), 201);
        });
    }
    while tasks.join_next().await.is_some() {}
    // Store B only learns of A's orders through its sweep; wake both often.
    eventually(Duration::from_secs(20), "all 40 delivered", || async {
        a.state.webhooks.dispatch.wake().notify_one();
        b.state.webhooks.dispatch.wake().notify_one();
        (endpoint.orders_received().await.len() >= 40).then_some(())
    })
    .await;
    let received = endpoint.orders_received().await;
    let ids: std::collections::HashSet<_> = received.iter().map(|r| r.header("webhook-id").unwrap().to_owned()).collect();
    assert_eq!(ids.len(), 40);
    assert_eq!(received.len(), 40, "a message was delivered twice");
    // Each delivery records exactly one attempt, once its result is in.
    let attempts = eventually(Duration::from_secs(10), "every result recorded", || async {
        let row = sqlx::query(
            "SELECT COUNT(*) AS done, CAST(SUM(attempts) AS BIGINT) AS attempts FROM webhook_deliveries \
             WHERE event_type = 'order.created' AND state = 'succeeded'",
        )
        .fetch_one(a.state.ctx.db.pool())
        .await
        .unwrap();
        (row.get::<i64, _>("done") == 40).then(|| row.get::<i64, _>("attempts"))
    })
    .await;
    assert_eq!(attempts, 40);
});

platform::db_test!(async fn the_order_and_its_event_commit_together_or_not_at_all(backend) {
    let (store, _) = spawn_store(backend).await;
    let endpoint = Receiver::start(vec![]).await;
    register_endpoint(&store, &endpoint.url, serde_json::json!({"event_types": ["order.created"]})).await;
    // Make the outbox write fail inside the order's transaction.
    let pool = store.state.ctx.db.pool();
    match store.state.ctx.db.backend() {
        platform::Backend::Sqlite => {
            sqlx::query(
                "CREATE TRIGGER outbox_fails BEFORE INSERT ON webhook_deliveries \
                 BEGIN SELECT RAISE(ABORT, 'injected outbox failure'); END",
            )
            .execute(pool)
            .await
            .unwrap();
        }
        platform::Backend::Postgres => {
            sqlx::raw_sql(
                "CREATE FUNCTION outbox_fails() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected outbox failure'; END $$ LANGUAGE plpgsql; \
                 CREATE TRIGGER outbox_fails BEFORE INSERT ON webhook_deliveries FOR EACH ROW EXECUTE FUNCTION outbox_fails();",
            )
            .execute(pool)
            .await
            .unwrap();
        }
    }
    let r = store.post_order(&order_body("TEA-ASSAM", 1)).await;
    assert_eq!(r.status(), 500);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    for table in ["orders", "order_lines", "webhook_messages", "webhook_deliveries"] {
        let sql = sqlx::AssertSqlSafe(format!("SELECT COUNT(*) AS n FROM {table}"));
        let n: i64 = sqlx::query(sql).fetch_one(pool).await.unwrap().get("n");
        let expected = if table == "webhook_messages" || table == "webhook_deliveries" { 1 } else { 0 }; // the ping
        assert_eq!(n, expected, "{table}");
    }
    let feed_seq: i64 = sqlx::query("SELECT last_value FROM feed_sequence").fetch_one(pool).await.unwrap().get("last_value");
    assert_eq!(feed_seq, 0, "the feed number was rolled back too");
});

// Regression: redelivering a delivered message of a deleted endpoint said
// "leaves now", sent nothing, and then showed a "next attempt" long past.
platform::db_test!(async fn a_deleted_endpoints_delivery_cannot_be_redelivered_and_says_why(backend) {
    let (store, _) = spawn_store(backend).await;
    let endpoint = Receiver::start(vec![answer(200)]).await;
    let (endpoint_id, _) = register_endpoint(&store, &endpoint.url, serde_json::json!({"event_types": ["order.created"]})).await;
    let order = id_of(&place(&store, "TEA-ASSAM", 1).await);
    let d = wait_for_attempts(&store, &order, 1).await;
    assert_eq!(d["state"], "succeeded");
    let r = store.client.delete(store.url(&format!("/api/webhook-endpoints/{endpoint_id}"))).send().await.unwrap();
    assert_eq!(r.status(), 204);

    let r = store
        .client
        .post(store.url(&format!("/api/deliveries/{}/redeliver", d["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let problem: serde_json::Value = r.json().await.unwrap();
    assert_eq!(problem["type"], "/problems/endpoint-deleted", "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("deleted"), "{problem}");
    // Nothing changed: still the one attempt, still succeeded.
    let d = delivery(&store, &order).await;
    assert_eq!((d["state"].as_str(), d["attempts"].as_i64()), (Some("succeeded"), Some(1)));
});

// Regression: an order placed while no endpoint existed stayed `pending`
// for ever, even after the inventory registered again, though the
// settings page promised it would wait in the outbox until one was added.
platform::db_test!(async fn an_order_placed_with_no_endpoint_is_delivered_when_one_is_added(backend) {
    let (store, clock) = spawn_store(backend).await;
    let order = id_of(&place(&store, "TEA-ASSAM", 1).await);
    assert!(deliveries_of(&store, &order).await.is_empty());
    // The order page says why nothing has crossed.
    let page = store.get_page(&format!("/orders/{order}")).await;
    page.assert_contains("No webhook endpoint is registered");

    let endpoint = Receiver::start(vec![answer(200)]).await;
    register_endpoint(&store, &endpoint.url, serde_json::json!({"event_types": ["order.created"]})).await;
    // Due with the welcome ping, once the owner has had a moment to keep
    // the secret from the answer.
    assert_eq!(delivery(&store, &order).await["attempts"], 0);
    clock.advance(Duration::from_secs(1));
    let d = wait_for_attempts(&store, &order, 1).await;
    assert_eq!(d["state"], "succeeded");
    let received = endpoint.orders_received().await;
    assert_eq!(received.len(), 1);
    // This receiver is an observer, not the inventory, so the order still
    // waits: a second endpoint gets it too, once.
    let (second, _) = register_endpoint(&store, &format!("{}/other", endpoint.base()), serde_json::json!({})).await;
    let all = deliveries_of(&store, &order).await;
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(all.iter().filter(|d| d["endpoint_id"] == second.as_str()).count(), 1, "{all:?}");
});

platform::db_test!(async fn a_replay_sends_the_last_attempt_unchanged_and_hands_back_the_answer(backend) {
    let (store, _) = spawn_store(backend).await;
    let endpoint = Receiver::start(vec![answer(200)]).await;
    register_endpoint(&store, &endpoint.url, serde_json::json!({"event_types": ["order.created"]})).await;
    let order = id_of(&place(&store, "TEA-ASSAM", 1).await);
    let d = wait_for_attempts(&store, &order, 1).await;
    let replay = |url: String| {
        let store = &store;
        let id = d["id"].as_str().unwrap().to_owned();
        async move {
            store
                .client
                .post(store.url(&format!("/api/deliveries/{id}/replay")))
                .json(&serde_json::json!({ "url": url }))
                .send()
                .await
                .unwrap()
        }
    };

    let elsewhere = Receiver::start(vec![answer(202)]).await;
    let r = replay(format!("{}/replayed", elsewhere.base())).await;
    assert_eq!(r.status(), 200);
    let answer: serde_json::Value = r.json().await.unwrap();
    assert_eq!(answer["status"], 202, "{answer}");
    // Exactly what crossed the first time: headers, signature and bytes.
    let first = &endpoint.orders_received().await[0];
    let again = &elsewhere.orders_received().await[0];
    for h in ["webhook-id", "webhook-timestamp", "webhook-signature", "content-type"] {
        assert_eq!(again.header(h), first.header(h), "{h}");
    }
    assert_eq!(again.body, first.body);
    // Nothing changed at the store: still one attempt.
    assert_eq!(delivery(&store, &order).await["attempts"], 1);

    // A URL no endpoint could have is refused.
    let r = replay("http://example.com/hook".into()).await;
    assert_eq!(r.status(), 422);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
});

platform::db_test!(async fn a_test_event_carries_the_text_written_for_it_signed_like_any_other(backend) {
    let (store, _) = spawn_store(backend).await;
    let endpoint = Receiver::start(vec![answer(200)]).await;
    let (id, secret) = register_endpoint(&store, &endpoint.url, serde_json::json!({})).await;
    let ping = |body: serde_json::Value| {
        let store = &store;
        let id = id.clone();
        async move {
            store
                .client
                .post(store.url(&format!("/api/webhook-endpoints/{id}/ping")))
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let r = ping(serde_json::json!({"message": "Hello, it's Ada testing <xml> & all"})).await;
    assert_eq!(r.status(), 202);
    let test_event = eventually(Duration::from_secs(10), "the test event", || async {
        endpoint.received().await.into_iter().find(|r| {
            serde_json::from_slice::<serde_json::Value>(&r.body).is_ok_and(|b| b["data"]["message"] == "Hello, it's Ada testing <xml> & all")
        })
    })
    .await;
    // Signed with the endpoint's secret, like any other message.
    let secret = contract::signing::WebhookSecret::parse(&secret).unwrap();
    let signed = secret.sign(
        test_event.header("webhook-id").unwrap(),
        test_event.header("webhook-timestamp").unwrap().parse().unwrap(),
        &test_event.body,
    );
    assert_eq!(test_event.header("webhook-signature"), Some(signed.as_str()));

    // Too long, or with a hidden character: refused, nothing queued.
    for bad in ["x".repeat(501), "zero\u{200b}width".to_owned()] {
        let r = ping(serde_json::json!({ "message": bad })).await;
        assert_eq!(r.status(), 422, "{bad:?}");
    }
});
