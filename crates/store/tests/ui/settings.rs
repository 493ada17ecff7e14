//! The settings page's forms, the delivery log's redeliver button, and
//! the compare page's numbers and burst.

use std::time::Duration;

use store::instruments::burst::{self, Plan, StepState};
use store::instruments::comparison;

use crate::helpers::*;

platform::db_test!(async fn the_mode_is_switched_from_the_settings_page(backend) {
    let store = spawn_store(backend, |_| {}).await;
    let done = post_form(&store, "/settings/mode", &[("mode", "api")]).await;
    assert_eq!(done.status, 303);
    assert_eq!(done.location.as_deref(), Some("/settings?notice=mode#mode"));
    assert_eq!(store.get_json("/api/integration").await["mode"], "api");

    let settings = get(&store, "/settings?notice=mode").await;
    settings.assert_contains("Integration mode switched.");
    settings.assert_contains("<input type=\"radio\" name=\"mode\" value=\"api\" checked>");
    settings.assert_contains("<strong id=\"current-mode\">api</strong>");
    get(&store, "/").await.assert_contains("data-mode=\"api\"");

    let refused = post_form(&store, "/settings/mode", &[("mode", "carrier-pigeon")]).await;
    assert_eq!(refused.status, 422);
    refused.assert_contains("Unknown mode");
    assert_eq!(store.get_json("/api/integration").await["mode"], "api");
});

platform::db_test!(async fn webhook_endpoints_are_managed_from_the_settings_page(backend) {
    let store = spawn_store(backend, |_| {}).await;
    let port = platform::testing::free_port();
    let url = format!("http://127.0.0.1:{port}/hook");

    // Refused input comes back next to its field, as typed.
    let refused = post_form(&store, "/settings/endpoints", &[("url", "http://10.0.0.5/hook"), ("format", "json")]).await;
    assert_eq!(refused.status, 422);
    refused.assert_contains("id=\"endpoint-url-error\"");
    refused.assert_contains("10.0.0.5 is not an allowed webhook destination");
    refused.assert_contains("value=\"http://10.0.0.5/hook\"");
    // Regression: a description is human text; the reason sits beside it.
    let refused = post_form(&store, "/settings/endpoints", &[("url", &url), ("format", "json"), ("description", "mine \u{202E}gnp.exe")]).await;
    assert_eq!(refused.status, 422);
    refused.assert_contains("id=\"endpoint-description-error\">a description cannot contain U+202E, an invisible formatting character");
    assert_eq!(store.get_json("/api/webhook-endpoints").await, serde_json::json!([]));

    // Added: the secret is shown on this answer, and never again.
    let added = post_form(&store, "/settings/endpoints", &[("url", &url), ("format", "xml"), ("description", "a test receiver")]).await;
    assert_eq!(added.status, 200, "{}", added.body);
    let secret = secret_in(&added.body);
    assert!(secret.starts_with("whsec_"), "{secret}");
    let later = get(&store, "/settings").await;
    later.assert_lacks(&secret);
    later.assert_contains(&format!("data-endpoint=\"{url}\""));
    later.assert_contains("<dt>Format</dt><dd>xml</dd>");
    let endpoint = store.get_json("/api/webhook-endpoints").await[0].clone();
    let id = endpoint["id"].as_str().unwrap().to_owned();

    // Registering the same URL again finds it, without a secret.
    let again = post_form(&store, "/settings/endpoints", &[("url", &url), ("format", "json")]).await;
    assert_eq!(again.status, 200);
    again.assert_contains("is already registered");
    again.assert_lacks("id=\"secret-value\"");

    // Disable, enable.
    let disabled = post_form(&store, &format!("/settings/endpoints/{id}/enabled"), &[("enabled", "false")]).await;
    assert_eq!(disabled.status, 303);
    assert_eq!(store.get_json(&format!("/api/webhook-endpoints/{id}")).await["enabled"], false);
    get(&store, "/settings").await.assert_contains("<dt>Disabled</dt><dd>disabled by hand</dd>");
    post_form(&store, &format!("/settings/endpoints/{id}/enabled"), &[("enabled", "true")]).await;
    assert_eq!(store.get_json(&format!("/api/webhook-endpoints/{id}")).await["enabled"], true);

    // Rotate: a new secret, shown once.
    let rotated = post_form(&store, &format!("/settings/endpoints/{id}/rotate"), &[]).await;
    assert_eq!(rotated.status, 200);
    let new_secret = secret_in(&rotated.body);
    assert_ne!(new_secret, secret);
    rotated.assert_contains("Secret rotated");

    // Ping: queued, and in the delivery log.
    let pinged = post_form(&store, &format!("/settings/endpoints/{id}/ping"), &[]).await;
    assert_eq!(pinged.status, 303);
    assert_eq!(pinged.location.as_deref(), Some("/settings?notice=ping#deliveries"));
    let log = get(&store, "/fragments/deliveries").await;
    assert_eq!(log.body.matches("<span class=\"mono\">ping</span>").count(), 2, "the ping on creation and this one");
    // A test event with text of one's own: another ping.
    let tested = post_form(&store, &format!("/settings/endpoints/{id}/ping"), &[("message", "testing, 1 2 3")]).await;
    assert_eq!(tested.status, 303);
    let log = get(&store, "/fragments/deliveries").await;
    assert_eq!(log.body.matches("<span class=\"mono\">ping</span>").count(), 3);
    get(&store, "/settings").await.assert_contains("Send a test event");

    // Delete.
    let deleted = post_form(&store, &format!("/settings/endpoints/{id}/delete"), &[]).await;
    assert_eq!(deleted.status, 303);
    get(&store, "/settings").await.assert_lacks(&format!("data-endpoint=\"{url}\""));
    let gone = post_form(&store, &format!("/settings/endpoints/{id}/ping"), &[]).await;
    assert_eq!(gone.status, 404);
    assert!(gone.content_type.starts_with("text/html"));
});

fn secret_in(body: &str) -> String {
    let start = body
        .find("<code id=\"secret-value\">")
        .expect("a secret on the page")
        + "<code id=\"secret-value\">".len();
    body[start..start + body[start..].find('<').unwrap()].to_owned()
}

platform::db_test!(async fn a_failed_delivery_is_redelivered_from_the_log(backend) {
    // One attempt, then a retry an hour later: only the button can make a
    // second attempt happen during the test.
    let store = spawn_store(backend, |c| {
        c.webhook.retry_schedule = "1h".parse().unwrap();
        c.webhook.jitter = 0.0;
    })
    .await;
    let dead = platform::testing::free_port();
    post_form(&store, "/settings/endpoints", &[("url", &format!("http://127.0.0.1:{dead}/hook")), ("format", "json")]).await;
    let placed = post_form(&store, "/orders", &order_form("Ada", "ada@example.com", "qty-TEA-ASSAM", "1")).await;
    let order_id = order_id_from(&placed.location.unwrap());

    let delivery = eventually(Duration::from_secs(10), "the first attempt to fail", || async {
        let list = store.get_json(&format!("/api/deliveries?order_id={order_id}")).await;
        let d = list[0].clone();
        (d["attempts"] == 1).then_some(d)
    })
    .await;
    let delivery_id = delivery["id"].as_str().unwrap().to_owned();
    let log = get(&store, "/settings").await;
    log.assert_contains(&format!("action=\"/settings/deliveries/{delivery_id}/redeliver\""));
    log.assert_contains("could not connect");

    let redelivered = post_form(&store, &format!("/settings/deliveries/{delivery_id}/redeliver"), &[]).await;
    assert_eq!(redelivered.status, 303);
    assert_eq!(redelivered.location.as_deref(), Some("/settings?notice=redelivered#deliveries"));
    eventually(Duration::from_secs(10), "a second, manual attempt", || async {
        let d = store.get_json(&format!("/api/deliveries/{delivery_id}")).await;
        (d["attempts"] == 2).then_some(())
    })
    .await;
    let order = get(&store, &format!("/orders/{order_id}")).await;
    order.assert_contains("attempt 2 · redelivered by hand");
    order.assert_contains("attempt 1 · first attempt");
    get(&store, "/settings?notice=redelivered").await.assert_contains("Redelivery queued");
});

platform::db_test!(async fn the_compare_page_counts_what_each_mode_did(backend) {
    let store = spawn_store(backend, |_| {}).await;
    // poll: stays pending (nobody polls); api: rejected after three calls.
    store.set_mode("poll").await;
    post_form(&store, "/orders", &order_form("P", "p@example.com", "qty-TEA-ASSAM", "1")).await;
    store.set_mode("api").await;
    post_form(&store, "/orders", &order_form("A", "a@example.com", "qty-TEA-ASSAM", "1")).await;

    let figures = comparison::compare(&store.state.ctx.db, comparison::Span::all_time()).await.unwrap();
    let api = figures.mode(contract::IntegrationMode::Api);
    assert_eq!((api.orders, api.rejected), (1, 1));
    assert!(api.latency.is_some(), "a rejected order is resolved");
    assert!(api.requests >= 3, "{api:?}");
    assert!(api.failed >= 3, "{api:?}");
    assert!(api.retries >= 2, "two retries under the same key: {api:?}");
    let poll = figures.mode(contract::IntegrationMode::Poll);
    assert_eq!((poll.orders, poll.pending, poll.requests), (1, 1, 0));
    assert_eq!(poll.latency, None);
    assert_eq!(figures.feed.reads, 0);

    let page = get(&store, "/compare").await;
    page.assert_contains("<tr data-mode=\"api\"><th scope=\"row\"><span class=\"chip mode-api\">API call</span></th><td class=\"num\">1</td><td class=\"num\">0</td><td class=\"num\">1</td>");
    page.assert_contains("no resolved orders in this window");
    page.assert_contains("failed · ");
    page.assert_contains("never polls: 0");
});

platform::db_test!(async fn a_burst_runs_in_the_background_and_puts_the_mode_back(backend) {
    let store = spawn_store(backend, |_| {}).await;
    store.set_mode("poll").await;
    // Without an inventory: webhook, poll and hybrid orders stay pending
    // (and time out), api orders are rejected at once.
    let plan = Plan { per_mode: 2, settle_timeout: Duration::from_millis(300) };
    let started = burst::start(store.state.clone().into_inner(), plan).await.unwrap();
    assert!(started.running);

    // Only one at a time, from the page too.
    let busy = post_form(&store, "/compare/burst", &[]).await;
    assert_eq!(busy.status, 303);
    assert_eq!(busy.location.as_deref(), Some("/compare?notice=burst-running#burst"));
    get(&store, "/fragments/compare/burst").await.assert_contains("Burst running…");

    let done = eventually(Duration::from_secs(30), "the burst to finish", || async {
        burst::current(&store.state.ctx.db).await.unwrap().filter(|b| !b.running)
    })
    .await;
    let states: Vec<StepState> = done.steps.iter().map(|s| s.state).collect();
    assert_eq!(
        states,
        vec![StepState::TimedOut, StepState::Done, StepState::TimedOut, StepState::TimedOut]
    );
    assert!(done.steps.iter().all(|s| s.placed == 2 && s.order_ids.len() == 2));
    assert_eq!(done.steps[1].resolved, 2);
    assert_eq!(store.get_json("/api/integration").await["mode"], "poll", "the mode is put back");
    let panel = get(&store, "/fragments/compare/burst").await;
    panel.assert_contains("Last burst finished");
    panel.assert_contains("The store is back in poll mode.");
    panel.assert_contains("data-step=\"api\"");
});

platform::db_test!(async fn an_xml_webhook_is_shown_indented_with_its_signature(backend) {
    let store = spawn_store(backend, |c| {
        c.webhook.retry_schedule = "1h".parse().unwrap();
        c.webhook.jitter = 0.0;
    })
    .await;
    let dead = platform::testing::free_port();
    post_form(&store, "/settings/endpoints", &[("url", &format!("http://127.0.0.1:{dead}/hook")), ("format", "xml")]).await;
    let placed = post_form(&store, "/orders", &order_form("Ada", "ada@example.com", "qty-TEA-ASSAM", "1")).await;
    let location = placed.location.unwrap();
    let page = eventually(Duration::from_secs(10), "the webhook attempt on the order page", || async {
        let page = get(&store, &location).await;
        page.body.contains("data-exchange=\"1\"").then_some(page)
    })
    .await;
    // The body as sent, indented, escaped for the page.
    page.assert_contains("&#60;event&#62;\n  &#60;type&#62;order.created&#60;/type&#62;");
    // The Standard Webhooks headers, highlighted.
    for header in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        page.assert_contains(&format!("<tr class=\"signature\"><th scope=\"row\">{header}</th>"));
    }
    page.assert_contains("<td>v1,");
    page.assert_contains("attempt 1 · first attempt");
});
