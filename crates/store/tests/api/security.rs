//! Security, the store's side: only the inventory's subscription resolves
//! webhook orders, each channel resolves only its own mode's orders, the
//! caller is authenticated before the body is read, an order is validated
//! by `contract::validation`, and with `ADMIN_TOKEN` management needs the
//! operator (cross-site form posts never get through).

use std::time::Duration;

use wiremock::ResponseTemplate;

use crate::helpers::*;

const STORE_KEY: &str = contract::demo::DEMO_STORE_API_KEY;
const TOKEN: &str = "operator-t0ken-for-tests";

/// A receiver's `2xx` that says it applied (or backordered) the order.
fn says(outcome: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(serde_json::json!({
        "webhook_id": "msg_whatever", "duplicate": false, "outcome": outcome
    }))
}

async fn register_as(store: &TestStore, url: &str, bearer: Option<&str>) -> reqwest::Response {
    let mut r = store
        .client
        .post(store.url("/api/webhook-endpoints"))
        .json(&serde_json::json!({ "url": url }));
    if let Some(token) = bearer {
        r = r.bearer_auth(token);
    }
    r.send().await.unwrap()
}

async fn succeeded_deliveries(store: &TestStore, order_id: &str) -> usize {
    deliveries_of(store, order_id)
        .await
        .iter()
        .filter(|d| d["state"] == "succeeded")
        .count()
}

/// A store whose inventory is `inventory` (its `inventory_url`), so that
/// `inventory.inventory_receiver_url()` is the one URL that resolves.
async fn store_of(
    backend: platform::testing::TestBackend,
    inventory: &Receiver,
    configure: fn(&mut store::StoreConfig),
) -> (TestStore, platform::ManualClock) {
    let base = inventory.base();
    spawn_store_with(backend, move |c| {
        c.inventory_url = base;
        configure(c);
    })
    .await
}

// Regression: an endpoint registered by anyone answered `applied` and the
// store confirmed the order although the inventory never saw it.
platform::db_test!(async fn only_the_inventory_s_subscription_resolves_a_webhook_order(backend) {
    let observer = Receiver::start(vec![says("applied")]).await;
    let resolver = Receiver::start(vec![says("backordered")]).await;
    let (store, _) = store_of(backend, &resolver, |_| {}).await;
    let r = register_as(&store, &observer.url, None).await;
    assert_eq!(r.status(), 201);
    let observer_endpoint: serde_json::Value = r.json().await.unwrap();
    assert_eq!(observer_endpoint["role"], "observer");
    let r = register_as(&store, &resolver.inventory_receiver_url(), Some(STORE_KEY)).await;
    assert_eq!(r.status(), 201);
    let resolver_endpoint: serde_json::Value = r.json().await.unwrap();
    assert_eq!(resolver_endpoint["role"], "resolver");

    let order = place(&store, "TEA-SENCHA", 1).await;
    let id = order["id"].as_str().unwrap();
    eventually(Duration::from_secs(10), "both deliveries succeed", || async {
        (succeeded_deliveries(&store, id).await == 2).then_some(())
    })
    .await;
    // The observer said "applied" (perhaps first): it decided nothing; the
    // resolver's "backordered" did.
    assert_eq!(store.order_status(id).await, "backordered");

    // An observer alone: its 2xx is a delivery, never a resolution.
    let r = store.client.delete(store.url(&format!("/api/webhook-endpoints/{}", resolver_endpoint["id"].as_str().unwrap()))).send().await.unwrap();
    assert_eq!(r.status(), 204);
    let second = Receiver::start(vec![says("applied")]).await;
    register_as(&store, &second.url, None).await;
    let order = place(&store, "TEA-SENCHA", 1).await;
    let id = order["id"].as_str().unwrap();
    eventually(Duration::from_secs(10), "the observers' deliveries succeed", || async {
        (succeeded_deliveries(&store, id).await == 2).then_some(())
    })
    .await;
    assert_eq!(store.order_status(id).await, "pending");
});

// Regression: the resolver is the inventory's own receiver,
// `{INVENTORY_URL}/webhooks/store`, whoever registers it — here the
// operator, without the store's key, and with the URL spelled otherwise
// than the configuration spells it (compared as URLs, not as text). The
// key-holder registering it again finds the same endpoint. (Before: the
// operator's registration was an observer until the key-holder's took it
// over.)
platform::db_test!(async fn the_inventory_s_own_url_resolves_whoever_registers_it(backend) {
    let inventory = Receiver::start(vec![says("applied")]).await;
    let base = format!("{}/", inventory.base());
    let (store, _) = spawn_store_with(backend, move |c| c.inventory_url = base).await;
    let spelled_otherwise = inventory.inventory_receiver_url().replacen("http://", "HTTP://", 1);
    let first = register_as(&store, &spelled_otherwise, None).await;
    assert_eq!(first.status(), 201);
    let first: serde_json::Value = first.json().await.unwrap();
    assert_eq!(first["role"], "resolver", "{first}");
    assert_eq!(first["url"], inventory.inventory_receiver_url());
    let again = register_as(&store, &inventory.inventory_receiver_url(), Some(STORE_KEY)).await;
    assert_eq!(again.status(), 200, "the URL was registered already");
    let again: serde_json::Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["role"], "resolver");
    assert!(again.get("secret").is_none(), "a secret is shown once: {again}");
    let order = place(&store, "TEA-SENCHA", 1).await;
    let id = order["id"].as_str().unwrap().to_owned();
    eventually(Duration::from_secs(10), "the resolver's answer decides", || async {
        (store.order_status(&id).await == "confirmed").then_some(())
    })
    .await;
});

// Regression: with the public demo key anyone on the host registered an
// endpoint that resolved orders — at any allowed URL, ADMIN_TOKEN or not —
// and confirmed orders the inventory never applied. The key still
// registers; what it registers anywhere else observes. So does a near miss
// of the inventory's URL.
platform::db_test!(async fn another_url_registered_with_the_store_key_only_observes(backend) {
    // Each answers `applied` to every order it gets.
    let inventory = Receiver::start(vec![says("applied"), says("applied")]).await;
    let (store, _) = store_of(backend, &inventory, with_token).await;
    let impostor = Receiver::start(vec![says("applied"), says("applied")]).await;
    let near_misses = [
        impostor.url.clone(),
        format!("{}/", inventory.inventory_receiver_url()),
        format!("{}?as=inventory", inventory.inventory_receiver_url()),
        format!("{}/webhooks/store", impostor.base()),
    ];
    for url in &near_misses {
        let r = register_as(&store, url, Some(STORE_KEY)).await;
        assert_eq!(r.status(), 201, "{url}");
        let endpoint: serde_json::Value = r.json().await.unwrap();
        assert_eq!(endpoint["role"], "observer", "{url}");
    }
    let order = place(&store, "TEA-SENCHA", 1).await;
    let id = order["id"].as_str().unwrap();
    let succeeded = || async {
        let list: serde_json::Value = store
            .client
            .get(store.url(&format!("/api/deliveries?order_id={id}")))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        list.as_array().unwrap().iter().filter(|d| d["state"] == "succeeded").count()
    };
    eventually(Duration::from_secs(10), "every impostor's delivery succeeds", || async {
        (succeeded().await == near_misses.len()).then_some(())
    })
    .await;
    assert!(impostor.orders_received().await.len() >= 2);
    assert_eq!(store.order_status(id).await, "pending", "an observer's `applied` decided the order");
});

// Regression: an endpoint stored as the resolver before the rule
// (registered with the key at another URL) stops resolving: the role is
// read from the URL, not from what the row says.
platform::db_test!(async fn a_resolver_stored_at_another_url_no_longer_resolves(backend) {
    let inventory = Receiver::start(vec![]).await;
    let (store, _) = store_of(backend, &inventory, |_| {}).await;
    let impostor = Receiver::start(vec![says("applied")]).await;
    let r = register_as(&store, &impostor.url, Some(STORE_KEY)).await;
    assert_eq!(r.status(), 201);
    // What the row looked like when the key made a resolver anywhere.
    sqlx::query("UPDATE webhook_endpoints SET role = 'resolver'")
        .execute(store.state.ctx.db.writer())
        .await
        .unwrap();
    let db = store.stop().await;
    let base = inventory.base();
    let (store, _) = restart_store(db, move |c| c.inventory_url = base).await;
    let endpoints = store.get_json("/api/webhook-endpoints").await;
    assert_eq!(endpoints[0]["role"], "observer", "{endpoints}");
    // The row is put right at start, for whoever reads the table...
    let stored: String = sqlx::query_scalar("SELECT role FROM webhook_endpoints")
        .fetch_one(store.state.ctx.db.pool())
        .await
        .unwrap();
    assert_eq!(stored, "observer");
    // ...but it is not what decides: said wrong again, it changes nothing.
    sqlx::query("UPDATE webhook_endpoints SET role = 'resolver'")
        .execute(store.state.ctx.db.writer())
        .await
        .unwrap();
    assert_eq!(store.get_json("/api/webhook-endpoints").await[0]["role"], "observer");
    let order = place(&store, "TEA-SENCHA", 1).await;
    let id = order["id"].as_str().unwrap();
    eventually(Duration::from_secs(10), "the impostor's delivery succeeds", || async {
        (succeeded_deliveries(&store, id).await == 1).then_some(())
    })
    .await;
    assert_eq!(store.order_status(id).await, "pending");
});

// Regression: the inventory checks the secret it holds against the
// fingerprints of its endpoint, with the store's key — which reads the
// inventory's own endpoint, and no other, when ADMIN_TOKEN is set.
platform::db_test!(async fn the_store_key_reads_the_inventory_s_endpoint_and_no_other(backend) {
    let inventory = Receiver::start(vec![]).await;
    let (store, _) = store_of(backend, &inventory, with_token).await;
    let own: serde_json::Value = register_as(&store, &inventory.inventory_receiver_url(), Some(STORE_KEY)).await.json().await.unwrap();
    let other: serde_json::Value = register_as(&store, &inventory.url, Some(STORE_KEY)).await.json().await.unwrap();
    let read = |id: &str, bearer: &str| {
        store
            .client
            .get(store.url(&format!("/api/webhook-endpoints/{id}")))
            .bearer_auth(bearer)
            .send()
    };
    let r = read(own["id"].as_str().unwrap(), STORE_KEY).await.unwrap();
    assert_eq!(r.status(), 200);
    let shown: serde_json::Value = r.json().await.unwrap();
    assert_eq!(shown["role"], "resolver");
    assert_eq!(shown["secret_fingerprints"].as_array().unwrap().len(), 1, "{shown}");
    assert!(shown.get("secret").is_none(), "{shown}");
    let r = read(other["id"].as_str().unwrap(), STORE_KEY).await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(read(other["id"].as_str().unwrap(), TOKEN).await.unwrap().status(), 200);
});

async fn acknowledge(store: &TestStore, id: &str) -> reqwest::Response {
    store
        .client
        .post(store.url(&format!("/api/orders/{id}/acknowledgement")))
        .bearer_auth(STORE_KEY)
        .json(&serde_json::json!({"outcome": "applied", "channel": "poll", "applied_at": "2026-01-01T00:00:00Z"}))
        .send()
        .await
        .unwrap()
}

// Regression: the acknowledgement confirmed a webhook-mode order.
platform::db_test!(async fn an_acknowledgement_resolves_only_a_poll_mode_order(backend) {
    let (store, _) = spawn_store(backend).await;
    // Webhook mode, nobody subscribed: the order waits, pending.
    let webhook = place(&store, "TEA-SENCHA", 1).await;
    let r = acknowledge(&store, webhook["id"].as_str().unwrap()).await;
    assert_eq!(r.status(), 409);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let problem: serde_json::Value = r.json().await.unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("webhook"), "{problem}");
    assert_eq!(store.order_status(webhook["id"].as_str().unwrap()).await, "pending");

    // Api mode, no inventory: rejected at once; an acknowledgement changes
    // nothing either.
    store.set_mode("api").await;
    let api = place(&store, "TEA-SENCHA", 1).await;
    let before = store.order_status(api["id"].as_str().unwrap()).await;
    assert_eq!(acknowledge(&store, api["id"].as_str().unwrap()).await.status(), 409);
    assert_eq!(store.order_status(api["id"].as_str().unwrap()).await, before);

    // A poll-mode order is what it is for.
    store.set_mode("poll").await;
    let poll = place(&store, "TEA-SENCHA", 1).await;
    assert_eq!(acknowledge(&store, poll["id"].as_str().unwrap()).await.status(), 200);
    assert_eq!(store.order_status(poll["id"].as_str().unwrap()).await, "confirmed");
});

// Regression: without a key and with a broken body the acknowledgement
// answered 400 — it read the body before asking who sent it.
platform::db_test!(async fn the_caller_is_authenticated_before_the_request_is_read(backend) {
    let (store, _) = spawn_store(backend).await;
    let r = store
        .client
        .post(store.url("/api/orders/ord_x/acknowledgement"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    let r = store
        .client
        .post(store.url("/api/orders/ord_x/acknowledgement"))
        .header("content-type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = store.client.get(store.url("/api/orders?limit=ten&after=%%")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    // With the key, the same broken request is what is wrong with it.
    let r = store
        .client
        .post(store.url("/api/orders/ord_x/acknowledgement"))
        .bearer_auth(STORE_KEY)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = store.client.get(store.url("/api/orders?limit=ten")).bearer_auth(STORE_KEY).send().await.unwrap();
    assert_eq!(r.status(), 400);
});

// Regression: the store took quantity "2" (a string) where
// `/update_inventory` refused it.
platform::db_test!(async fn an_order_is_held_to_the_contract_s_rules(backend) {
    let (store, _) = spawn_store(backend).await;
    let cases = [
        (serde_json::json!([{"sku": "TEA-SENCHA", "quantity": "2"}]), "items[0].quantity"),
        (serde_json::json!([{"sku": "TEA-SENCHA", "quantity": 1}, {"sku": "tea-sencha", "quantity": 1}]), "items[1].sku"),
    ];
    for (items, field) in cases {
        let r = store
            .post_order(&serde_json::json!({"customer": {"name": "Ada", "email": "ada@example.com"}, "items": items}))
            .await;
        assert_eq!(r.status(), 422, "{items}");
        let problem: serde_json::Value = r.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }
    let r = store
        .post_order(&serde_json::json!({"customer": {"name": "Ada\u{202E}gnp.exe", "email": "ada@example.com"}, "items": [{"sku": "TEA-SENCHA", "quantity": 1}]}))
        .await;
    assert_eq!(r.status(), 422);
    // Nothing was written.
    let orders: serde_json::Value = store
        .client
        .get(store.url("/api/orders"))
        .bearer_auth(STORE_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(orders["data"].as_array().unwrap().len(), 0);
});

// Regression: an over-long Idempotency-Key is a 400 and is never stored.
platform::db_test!(async fn idempotency_keys_are_bounded(backend) {
    let (store, _) = spawn_store(backend).await;
    let long = "k".repeat(256);
    let r = store
        .client
        .post(store.url("/api/orders"))
        .header("Idempotency-Key", long.as_str())
        .json(&order_body("TEA-SENCHA", 1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let ok = store
        .client
        .post(store.url("/api/orders"))
        .header("Idempotency-Key", "k".repeat(255))
        .json(&order_body("TEA-SENCHA", 1))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 201);
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM idempotency_keys WHERE LENGTH(idempotency_key) > 255")
        .fetch_one(store.state.ctx.db.pool())
        .await
        .unwrap();
    assert_eq!(stored, 0);
});

/// A form body, as a browser encodes it.
fn form(fields: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

fn with_token(c: &mut store::StoreConfig) {
    c.admin_token = Some(TOKEN.to_owned().into());
}

// Regression: the mode switch, endpoints and deliveries accepted any caller.
platform::db_test!(async fn with_an_admin_token_management_calls_need_the_operator(backend) {
    let (store, _) = spawn_store_with(backend, with_token).await;
    let receiver = Receiver::start(vec![]).await;
    let created = store
        .client
        .post(store.url("/api/webhook-endpoints"))
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({"url": receiver.url}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let endpoint: serde_json::Value = created.json().await.unwrap();
    assert_eq!(endpoint["role"], "observer", "the operator's endpoint observes");
    let e = endpoint["id"].as_str().unwrap();
    let order = place(&store, "TEA-SENCHA", 1).await;
    let delivery = eventually(Duration::from_secs(10), "a delivery", || async {
        let list = store
            .client
            .get(store.url(&format!("/api/deliveries?order_id={}", order["id"].as_str().unwrap())))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap();
        list.as_array().and_then(|l| l.first().cloned())
    })
    .await;
    let d = delivery["id"].as_str().unwrap();

    use platform::testing::{ManagementCall as Call, assert_operator_only};
    use reqwest::Method;
    let calls = [
        Call::new(Method::PUT, "/api/integration").with(serde_json::json!({"mode": "poll"})),
        Call::new(Method::POST, "/api/webhook-endpoints").with(serde_json::json!({"url": "http://127.0.0.1:9/x"})),
        Call::new(Method::GET, "/api/webhook-endpoints"),
        Call::new(Method::GET, format!("/api/webhook-endpoints/{e}")),
        Call::new(Method::PATCH, format!("/api/webhook-endpoints/{e}")).with(serde_json::json!({"enabled": true})),
        Call::new(Method::POST, format!("/api/webhook-endpoints/{e}/rotate-secret")).with(serde_json::json!({})),
        Call::new(Method::POST, format!("/api/webhook-endpoints/{e}/ping")),
        Call::new(Method::POST, format!("/api/webhook-endpoints/{e}/recover")),
        Call::new(Method::GET, "/api/deliveries"),
        Call::new(Method::GET, format!("/api/deliveries/{d}")),
        Call::new(Method::POST, format!("/api/deliveries/{d}/redeliver")),
        Call::new(Method::DELETE, format!("/api/webhook-endpoints/{e}")),
    ];
    for call in &calls {
        // The store's key registers the inventory's own endpoint, nothing else.
        let registers = call.path == "/api/webhook-endpoints" && call.method == Method::POST;
        let others: &[&str] = if registers { &["wrong"] } else { &["wrong", STORE_KEY] };
        assert_operator_only(&store.client, &store.url(""), call, TOKEN, others).await;
    }
    assert_eq!(store.get_json("/api/integration").await["mode"], "poll");

    // Customers and the inventory are not the operator and need not be.
    assert_eq!(store.post_order(&order_body("TEA-SENCHA", 1)).await.status(), 201);
    let feed = store.client.get(store.url("/api/orders")).bearer_auth(STORE_KEY).send().await.unwrap();
    assert_eq!(feed.status(), 200);
    let resolver = register_as(&store, "http://127.0.0.1:9/inventory", Some(STORE_KEY)).await;
    assert_eq!(resolver.status(), 201, "the inventory subscribes with its key");
});

// Regression: a page of another site could make a visitor's browser press
// the store's buttons.
platform::db_test!(async fn a_cross_site_form_post_is_refused_and_changes_nothing(backend) {
    let (store, _) = spawn_store(backend).await;
    let evil = store
        .client
        .post(store.url("/settings/mode"))
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .header("content-type", "application/x-www-form-urlencoded").body(form(&[("mode", "poll")]))
        .send()
        .await
        .unwrap();
    assert_eq!(evil.status(), 403);
    let page = evil.text().await.unwrap();
    assert!(page.contains("Cross-site request refused"), "{page}");
    assert_eq!(store.get_json("/api/integration").await["mode"], "webhook");
    let api = store
        .client
        .put(store.url("/api/integration"))
        .header("origin", "https://evil.example")
        .json(&serde_json::json!({"mode": "poll"}))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 403);
    assert_eq!(store.get_json("/api/integration").await["mode"], "webhook");
    // The store's own page may.
    let own = store
        .client
        .post(store.url("/settings/mode"))
        .header("origin", store.address.as_str())
        .header("sec-fetch-site", "same-origin")
        .header("content-type", "application/x-www-form-urlencoded").body(form(&[("mode", "poll")]))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 303);
    assert_eq!(store.get_json("/api/integration").await["mode"], "poll");
});

// Regression: with a token, the settings page asks
// once, then its forms work.
platform::db_test!(async fn with_an_admin_token_the_ui_asks_once(backend) {
    let (store, _) = spawn_store_with(backend, with_token).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = client.get(store.url("/settings")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login?next=%2Fsettings");
    let r = client.post(store.url("/settings/mode")).header("content-type", "application/x-www-form-urlencoded").body(form(&[("mode", "poll")])).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(store.get_json("/api/integration").await["mode"], "webhook");
    // The shop is open to customers.
    assert_eq!(client.get(store.url("/")).send().await.unwrap().status(), 200);
    let front = client.get(store.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(front.contains("Sign in"), "the chrome offers to sign in");

    let login = client
        .post(store.url("/login"))
        .header("content-type", "application/x-www-form-urlencoded").body(form(&[("token", TOKEN), ("next", "/settings")]))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 303);
    let cookie = login.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let page = client.get(store.url("/settings")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Sign out"));
    let r = client
        .post(store.url("/settings/mode"))
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded").body(form(&[("mode", "poll")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(store.get_json("/api/integration").await["mode"], "poll");
});
