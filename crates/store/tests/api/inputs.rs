//! Input at the edges, the store's side: a JSON body that names a
//! member twice is refused at every door, and changes nothing; the
//! one rule for text a person types and others read holds at the API;
//! under `WEBHOOK_ALLOWED_HOSTS=*`, a destination that wraps or reaches an
//! internal address is refused.

use crate::helpers::*;

const STORE_KEY: &str = contract::demo::DEMO_STORE_API_KEY;

/// Sends `body` exactly as written (a JSON library would never write a
/// member twice), as JSON, with the store's key when asked.
async fn send_raw(
    store: &TestStore,
    method: reqwest::Method,
    path: &str,
    body: &str,
    key: Option<&str>,
) -> reqwest::Response {
    let mut r = store
        .client
        .request(method, store.url(path))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(key) = key {
        r = r.bearer_auth(key);
    }
    r.send().await.unwrap()
}

/// A `400` problem that names the repeated member.
async fn assert_repeat_refused(r: reqwest::Response, member: &str, door: &str) {
    assert_eq!(r.status(), 400, "{door}");
    assert_eq!(
        r.headers()["content-type"],
        "application/problem+json",
        "{door}"
    );
    let problem: serde_json::Value = r.json().await.unwrap();
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains(&format!("\"{member}\" appears twice")),
        "{door}: {problem}"
    );
}

async fn feed(store: &TestStore) -> Vec<serde_json::Value> {
    store
        .client
        .get(store.url("/api/orders"))
        .bearer_auth(STORE_KEY)
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["data"]
        .as_array()
        .unwrap()
        .clone()
}

// Regression: `{"quantity":1,"quantity":3}` was an order of 3 (the last one won),
// whatever an earlier reader of the same bytes made of it.
platform::db_test!(async fn an_order_that_names_a_member_twice_is_refused_and_not_placed(backend) {
    let (store, _) = spawn_store(backend).await;
    use reqwest::Method;
    for (body, member) in [
        (r#"{"customer": {"name": "Ada", "email": "ada@example.com"}, "items": [{"sku": "TEA-SENCHA", "quantity": 1, "quantity": 3}]}"#, "quantity"),
        // Escaped, the name is the same name.
        (r#"{"customer": {"name": "Ada", "email": "ada@example.com", "n\u0061me": "Eve"}, "items": [{"sku": "TEA-SENCHA", "quantity": 1}]}"#, "name"),
        (r#"{"customer": {"name": "Ada", "email": "ada@example.com"}, "items": [{"sku": "TEA-SENCHA", "quantity": 1}], "items": [{"sku": "POT-KYUSU", "quantity": 3}]}"#, "items"),
    ] {
        let r = send_raw(&store, Method::POST, "/api/orders", body, None).await;
        assert_repeat_refused(r, member, body).await;
    }
    assert!(feed(&store).await.is_empty(), "no order was placed");
    // The same order without the repeat is placed.
    let once = r#"{"customer": {"name": "Ada", "email": "ada@example.com"}, "items": [{"sku": "TEA-SENCHA", "quantity": 3}]}"#;
    assert_eq!(send_raw(&store, Method::POST, "/api/orders", once, None).await.status(), 201);
});

// Regression: every other JSON door of the store, each left as it was.
platform::db_test!(async fn every_json_door_refuses_a_repeated_member_and_changes_nothing(backend) {
    let (store, _) = spawn_store(backend).await;
    use reqwest::Method;

    // The mode switch: `{"mode":"api","mode":"poll"}` switched to poll.
    let r = send_raw(&store, Method::PUT, "/api/integration", r#"{"mode": "api", "mode": "poll"}"#, None).await;
    assert_repeat_refused(r, "mode", "PUT /api/integration").await;
    assert_eq!(store.get_json("/api/integration").await["mode"], "webhook");

    // Registering an endpoint.
    let r = send_raw(&store, Method::POST, "/api/webhook-endpoints",
        r#"{"url": "http://127.0.0.1:9/a", "url": "http://127.0.0.1:9/b"}"#, None).await;
    assert_repeat_refused(r, "url", "POST /api/webhook-endpoints").await;
    assert_eq!(store.get_json("/api/webhook-endpoints").await, serde_json::json!([]));

    // Changing one, rotating its secret.
    let (id, _) = register_endpoint(&store, "http://127.0.0.1:9/hook", serde_json::json!({"description": "first"})).await;
    let path = format!("/api/webhook-endpoints/{id}");
    let r = send_raw(&store, Method::PATCH, &path, r#"{"enabled": true, "enabled": false}"#, None).await;
    assert_repeat_refused(r, "enabled", "PATCH an endpoint").await;
    let r = send_raw(&store, Method::PATCH, &path, r#"{"description": "second", "description": "third"}"#, None).await;
    assert_repeat_refused(r, "description", "PATCH an endpoint").await;
    let endpoint = store.get_json(&path).await;
    assert_eq!((endpoint["enabled"].clone(), endpoint["description"].clone()), (serde_json::json!(true), serde_json::json!("first")));
    let secrets = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM webhook_secrets")
            .fetch_one(store.state.ctx.db.pool())
            .await
            .unwrap()
    };
    let before = secrets().await;
    let r = send_raw(&store, Method::POST, &format!("{path}/rotate-secret"), r#"{"grace_seconds": 1, "grace_seconds": 3600}"#, None).await;
    assert_repeat_refused(r, "grace_seconds", "rotate-secret").await;
    assert_eq!(secrets().await, before, "no secret was issued");

    // The inventory's acknowledgement of a poll-mode order.
    store.set_mode("poll").await;
    let order = place(&store, "TEA-SENCHA", 1).await;
    let id = order["id"].as_str().unwrap();
    let r = send_raw(&store, Method::POST, &format!("/api/orders/{id}/acknowledgement"),
        r#"{"outcome": "backordered", "channel": "poll", "applied_at": "2026-01-01T00:00:00Z", "outcome": "applied"}"#,
        Some(STORE_KEY)).await;
    assert_repeat_refused(r, "outcome", "acknowledgement").await;
    assert_eq!(store.order_status(id).await, "pending");
});

/// A `422` whose one error is `field`, naming the character refused.
async fn assert_hidden_refused(r: reqwest::Response, field: &str, code: &str, what: &str) {
    assert_eq!(r.status(), 422, "{what}");
    let problem: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        problem["errors"].as_array().map(Vec::len),
        Some(1),
        "{what}: {problem}"
    );
    assert_eq!(problem["errors"][0]["field"], field, "{what}: {problem}");
    let message = problem["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("cannot contain {code}, ")),
        "{what}: {message}"
    );
}

// Regression: a zero-width space, the line and paragraph separators and a byte
// order mark passed in a customer's name (bidi overrides were refused).
platform::db_test!(async fn a_customer_s_name_and_email_refuse_invisible_characters(backend) {
    let (store, _) = spawn_store(backend).await;
    let order = |name: &str, email: &str| serde_json::json!({
        "customer": {"name": name, "email": email},
        "items": [{"sku": "TEA-SENCHA", "quantity": 1}]
    });
    for (name, code) in [
        ("Ada\u{200B}Lovelace", "U+200B"),
        ("Ada\u{2028}Lovelace", "U+2028"),
        ("Ada Lovelace\u{2029}", "U+2029"),
        ("\u{FEFF}Ada", "U+FEFF"),
        ("Ada\u{E007F}", "U+E007F"),
    ] {
        let r = store.post_order(&order(name, "ada@example.com")).await;
        assert_hidden_refused(r, "customer.name", code, &format!("{name:?}")).await;
    }
    let r = store.post_order(&order("Ada", "ada@exam\u{200B}ple.com")).await;
    assert_hidden_refused(r, "customer.email", "U+200B", "email").await;
    assert!(feed(&store).await.is_empty(), "no order was placed");
    // Every script, combining marks and emoji are welcome.
    for name in ["Nguyễn Thị Minh Khai", "محمد", "山田 太郎", "Zoë 🦀"] {
        assert_eq!(store.post_order(&order(name, "ada@example.com")).await.status(), 201, "{name}");
    }
});

// Regression: bidi overrides and isolates passed in an endpoint's description.
platform::db_test!(async fn an_endpoint_s_description_refuses_invisible_characters(backend) {
    let (store, _) = spawn_store(backend).await;
    let register = |description: &str| {
        store
            .client
            .post(store.url("/api/webhook-endpoints"))
            .json(&serde_json::json!({"url": "http://127.0.0.1:9/hook", "description": description}))
            .send()
    };
    for (description, code) in [
        ("receiver \u{202E}gnp.exe", "U+202E"),
        ("receiver \u{2066}x\u{2069}", "U+2066"),
        ("\u{200F}receiver", "U+200F"),
        ("receiver\u{061C}", "U+061C"),
        ("a\u{200E}b", "U+200E"),
    ] {
        let r = register(description).await.unwrap();
        assert_hidden_refused(r, "description", code, description).await;
    }
    assert_eq!(store.get_json("/api/webhook-endpoints").await, serde_json::json!([]));

    // Changing it is held to the same rule, and to the same length.
    let (id, _) = register_endpoint(&store, "http://127.0.0.1:9/hook", serde_json::json!({"description": "plain"})).await;
    let path = format!("/api/webhook-endpoints/{id}");
    let patch = |body: serde_json::Value| store.client.patch(store.url(&path)).json(&body).send();
    let r = patch(serde_json::json!({"description": "now \u{202D}hidden"})).await.unwrap();
    assert_hidden_refused(r, "description", "U+202D", "PATCH").await;
    let r = patch(serde_json::json!({"description": "x".repeat(201)})).await.unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(store.get_json(&path).await["description"], "plain");
    let r = patch(serde_json::json!({"description": "Ünïcödé is fine ✓"})).await.unwrap();
    assert_eq!(r.status(), 200);
});

// Regression: with `WEBHOOK_ALLOWED_HOSTS=*`, an address that wraps or reaches an
// internal one (NAT64, 6to4, IPv4-mapped, Teredo, multicast, the
// special-purpose ranges) was registered as if it were public.
platform::db_test!(async fn under_any_host_an_endpoint_that_leads_inside_is_refused(backend) {
    let (store, _) = spawn_store_with(backend, |c| c.webhook.allowed_hosts = vec!["*".into()]).await;
    for (url, says) in [
        ("http://[64:ff9b::10.0.0.5]:6379/", "NAT64 (64:ff9b::/96) around 10.0.0.5"),
        ("http://[64:ff9b::a9fe:a9fe]/latest/meta-data", "around 169.254.169.254, link-local"),
        ("http://[64:ff9b:1::5db8:d70e]/", "local-use NAT64"),
        ("http://[2002:7f00:1::]:8081/", "6to4 (2002::/16) around 127.0.0.1"),
        ("http://[::ffff:192.168.1.1]/", "IPv4-mapped"),
        ("http://[::127.0.0.1]/", "IPv4-compatible"),
        ("http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "Teredo"),
        ("http://224.0.0.251/", "multicast"),
        ("http://[ff02::1]/", "multicast"),
        ("http://198.18.0.1/", "benchmarking"),
        ("http://192.0.0.170/", "IETF protocol assignments"),
        ("http://240.0.0.1/", "reserved"),
        ("http://255.255.255.255/", "broadcast"),
        ("http://[fec0::1]/", "site-local"),
        ("http://[2001:db8::1]/", "documentation"),
    ] {
        let r = store.client.post(store.url("/api/webhook-endpoints")).json(&serde_json::json!({"url": url})).send().await.unwrap();
        assert_eq!(r.status(), 422, "{url}");
        let problem: serde_json::Value = r.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], "url", "{url}: {problem}");
        let message = problem["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(says), "{url}: {message}");
    }
    assert_eq!(store.get_json("/api/webhook-endpoints").await, serde_json::json!([]));
    // A public address, in any of those wrappings, is still welcome.
    for url in ["http://[64:ff9b::5db8:d70e]/hook", "http://[2002:5db8:d70e::1]/hook", "http://93.184.215.14/hook"] {
        let r = store.client.post(store.url("/api/webhook-endpoints")).json(&serde_json::json!({"url": url})).send().await.unwrap();
        assert_eq!(r.status(), 201, "{url}");
    }
});
