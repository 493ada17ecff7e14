//! The order page says where the order stands, in words, where a learner
//! looks: a webhook delivery's attempt n of m and when the next one
//! leaves; when the store gave up, with a Redeliver button right there; an
//! api rejection that says what happened; and why a rejected api order
//! keeps sending voids.

use std::time::Duration;

use crate::helpers::*;

/// A store with one webhook endpoint nobody listens on, and a webhook-mode
/// order placed through the form; returns the order id.
async fn order_to_a_dead_endpoint(store: &store::testing::TestStore) -> String {
    store.set_mode("webhook").await;
    let dead = platform::testing::free_port();
    post_form(
        store,
        "/settings/endpoints",
        &[
            ("url", &format!("http://127.0.0.1:{dead}/hook")),
            ("format", "json"),
        ],
    )
    .await;
    let placed = post_form(
        store,
        "/orders",
        &order_form("Ada", "ada@example.com", "qty-TEA-ASSAM", "1"),
    )
    .await;
    order_id_from(&placed.location.unwrap())
}

async fn page_when(
    store: &store::testing::TestStore,
    path: &str,
    what: &str,
    needle: &str,
) -> Page {
    eventually(Duration::from_secs(10), what, || async {
        let page = get(store, path).await;
        page.body.contains(needle).then_some(page)
    })
    .await
}

platform::db_test!(async fn a_retrying_delivery_says_which_attempt_failed_and_when_the_next_leaves(backend) {
    let store = spawn_store(backend, |c| {
        c.webhook.retry_schedule = "1h".parse().unwrap();
        c.webhook.jitter = 0.0;
    })
    .await;
    let id = order_to_a_dead_endpoint(&store).await;
    let page = page_when(&store, &format!("/orders/{id}"), "the first attempt to fail", "data-phase=\"retrying\"").await;
    page.assert_contains("data-status=\"pending\"");
    page.assert_contains("<strong>Attempt 1 of 2 failed: it got no answer (could not connect");
    page.assert_contains("Next attempt at <time datetime=\"");
    page.assert_contains("the store retries on its schedule");
    // Nothing to press while the store is still trying.
    page.assert_lacks("data-redeliver=");
    // The live region draws the same.
    get(&store, &format!("/fragments/orders/{id}")).await.assert_contains("<strong>Attempt 1 of 2 failed");
});

platform::db_test!(async fn a_delivery_that_gave_up_is_redelivered_from_the_order_page(backend) {
    let store = spawn_store(backend, |c| {
        c.webhook.retry_schedule = "10ms,10ms".parse().unwrap();
        c.webhook.jitter = 0.0;
    })
    .await;
    let id = order_to_a_dead_endpoint(&store).await;
    let path = format!("/orders/{id}");
    let page = page_when(&store, &path, "the delivery to give up", "data-phase=\"gave-up\"").await;
    page.assert_contains("data-status=\"pending\"");
    page.assert_contains("<strong>Gave up at ");
    page.assert_contains(" after 3 attempts: the last one got no answer (could not connect");
    page.assert_contains("Nothing more is scheduled");
    let delivery = store.get_json(&format!("/api/deliveries?order_id={id}")).await[0]["id"].as_str().unwrap().to_owned();
    let action = format!("/orders/{id}/deliveries/{delivery}/redeliver");
    page.assert_contains(&format!("<form method=\"post\" action=\"{action}\""));
    page.assert_contains(&format!("data-redeliver=\"{delivery}\">Redeliver</button>"));

    // Pressed: back to the order, which says a new attempt is on its way.
    let pressed = post_form(&store, &action, &[]).await;
    assert_eq!(pressed.status, 303);
    assert_eq!(pressed.location.as_deref(), Some(format!("/orders/{id}?notice=redelivered#delivery").as_str()));
    get(&store, &format!("/orders/{id}?notice=redelivered")).await.assert_contains("Redelivery queued");
    // The schedule starts again from the first attempt, and runs out again.
    eventually(Duration::from_secs(10), "three more attempts, then giving up again", || async {
        let d = store.get_json(&format!("/api/deliveries/{delivery}")).await;
        (d["attempts"] == 6 && d["state"] == "failed").then_some(())
    })
    .await;
    let page = get(&store, &path).await;
    page.assert_contains(" after 3 attempts: the last one got no answer");
    page.assert_contains("attempt 4 · redelivered by hand");

    // A delivery can only be redelivered from its own order's page.
    let other = post_form(&store, "/orders", &order_form("Bo", "bo@example.com", "qty-TEA-ASSAM", "1")).await;
    let other = order_id_from(&other.location.unwrap());
    let wrong = post_form(&store, &format!("/orders/{other}/deliveries/{delivery}/redeliver"), &[]).await;
    assert_eq!(wrong.status, 404);
    assert!(wrong.content_type.starts_with("text/html"));
    let unknown = post_form(&store, &format!("/orders/{id}/deliveries/dlv_nope/redeliver"), &[]).await;
    assert_eq!(unknown.status, 404);
});

platform::db_test!(async fn an_api_order_rejected_without_an_answer_says_what_happened_and_why_voids_follow(backend) {
    // A clock that stands still: the first void fails, and the next waits
    // for a second that never passes.
    let clock = platform::ManualClock::new();
    let shared = clock.shared();
    let store = spawn_store(backend, move |c| c.clock = shared).await;
    store.set_mode("api").await;
    let placed = post_form(&store, "/orders", &order_form("Ada", "ada@example.com", "qty-TEA-ASSAM", "1")).await;
    let id = order_id_from(&placed.location.unwrap());
    let path = format!("/orders/{id}");
    let page = page_when(&store, &path, "a failed void on the order page", "void attempt failed").await;
    page.assert_contains("data-status=\"rejected\"");
    // What happened, without contradicting itself.
    page.assert_contains("The inventory did not answer: it could not be reached (could not connect");
    page.assert_contains("(the last of 3 tries), so the order was not placed.");
    page.assert_lacks("did not answer in time");
    // Why the timeline shows voids, and when the next one leaves.
    page.assert_contains("id=\"void\" data-phase=\"owed\"");
    page.assert_contains("1 void attempt failed: could not connect");
    page.assert_contains("It keeps trying until the inventory confirms");
    page.assert_contains("up to 1 minute");
    page.assert_contains("Next attempt at <time");
});

platform::db_test!(async fn polls_that_only_listed_a_webhook_order_are_left_out(backend) {
    let store = spawn_store(backend, |_| {}).await;
    store.set_mode("webhook").await;
    let placed = post_form(&store, "/orders", &order_form("Ada", "ada@example.com", "qty-TEA-ASSAM", "1")).await;
    let id = order_id_from(&placed.location.unwrap());
    // The inventory's poller reads the feed twice from the start: both
    // pages list the webhook order, which the poller reads past.
    for _ in 0..2 {
        poll(&store, None).await;
    }
    let page = get(&store, &format!("/orders/{id}")).await;
    // Neither in the diagram nor in the list: they are not how it travelled.
    page.assert_contains("data-arrows=\"0\"");
    page.assert_lacks("data-exchange=");
    page.assert_lacks("not for this mode");
    page.assert_lacks("seq-row quiet");
    // Counted, with where to find them.
    page.assert_contains("data-passed-over=\"2\"");
    page.assert_contains("Not shown: 2 of the inventory's polls also listed this order.");
});

platform::db_test!(async fn a_webhook_shows_the_signed_bytes_and_itself_as_curl(backend) {
    let store = spawn_store(backend, |c| {
        c.webhook.retry_schedule = "1h".parse().unwrap();
        c.webhook.jitter = 0.0;
    })
    .await;
    let id = order_to_a_dead_endpoint(&store).await;
    let page = page_when(&store, &format!("/orders/{id}"), "the first attempt, recorded", "data-raw-body").await;
    // The raw body as it crossed — compact JSON, not re-indented — and the
    // signed bytes, `{webhook-id}.{webhook-timestamp}.{raw body}`.
    let raw = page.body.split("data-raw-body><code>").nth(1).expect("a raw body").split("</code>").next().unwrap();
    assert!(raw.starts_with("{&#34;type&#34;:&#34;order.created&#34;"), "{raw}");
    let signed = page.body.split("data-signed-bytes>").nth(1).expect("the signed bytes").split("</pre>").next().unwrap();
    assert!(signed.starts_with("msg_"), "{signed}");
    assert!(signed.ends_with(raw), "the signed bytes end with the raw body:\n{signed}\n{raw}");
    page.assert_contains("Verify the signature yourself");
    page.assert_contains("data-verify-secret");
    // The secret field sits in no form and has no name: it cannot be sent.
    let by_hand = page.body.split("class=\"by-hand\"").nth(1).unwrap().split("</details>\n</details>").next().unwrap();
    assert!(!by_hand.contains("<form") && !by_hand.contains("name=\"secret\""));
    for snippet in ["data-snippet=\"openssl\"", "openssl dgst -sha256 -mac HMAC", "data-snippet=\"python\"", "data-snippet=\"rust\"", "contract::signing::WebhookSecret::parse"] {
        page.assert_contains(snippet);
    }
    // Copy as curl: method, URL, the signature headers and the raw body.
    let curl = page.body.split("data-curl>").nth(1).expect("a curl command").split("</pre>").next().unwrap();
    assert!(curl.starts_with("curl -sS -i -X POST &#39;http://127.0.0.1:"), "{curl}");
    assert!(curl.contains("-H &#39;webhook-signature: v1,") && curl.contains("--data-binary &#39;{&#34;type&#34;"), "{curl}");
});

// Regression: with two endpoints, the box of the one that does not decide
// the order said "the order stays pending until an attempt gets through"
// — even on a confirmed order. Each box now speaks for its own endpoint.
platform::db_test!(async fn each_delivery_box_speaks_for_its_own_endpoint(backend) {
    let dead = platform::testing::free_port();
    let store = spawn_store(backend, move |c| {
        c.inventory_url = format!("http://127.0.0.1:{dead}");
        c.webhook.retry_schedule = "1h".parse().unwrap();
        c.webhook.jitter = 0.0;
    })
    .await;
    store.set_mode("webhook").await;
    for url in [format!("http://127.0.0.1:{dead}/webhooks/store"), format!("http://127.0.0.1:{dead}/copy")] {
        let added = post_form(&store, "/settings/endpoints", &[("url", &url), ("format", "json")]).await;
        assert_eq!(added.status, 200, "{url}");
    }
    let placed = post_form(&store, "/orders", &order_form("Ada", "ada@example.com", "qty-TEA-ASSAM", "1")).await;
    let id = order_id_from(&placed.location.unwrap());
    let page = eventually(Duration::from_secs(10), "both deliveries retrying", || async {
        let page = get(&store, &format!("/orders/{id}")).await;
        (page.body.matches("data-phase=\"retrying\"").count() == 2).then_some(page)
    })
    .await;
    let boxes: Vec<&str> = page.body.split("data-delivery=\"").skip(1).map(|b| b.split("</div>").next().unwrap()).collect();
    let resolver = boxes.iter().find(|b| b.contains("/webhooks/store</span>")).expect("the inventory's box");
    let observer = boxes.iter().find(|b| b.contains("/copy</span>")).expect("the other box");
    assert!(resolver.contains("The order stays pending until an attempt gets through"), "{resolver}");
    assert!(!observer.contains("order stays pending"), "{observer}");
    assert!(observer.contains("does not decide the order"), "{observer}");
});

platform::db_test!(async fn a_webhook_is_replayed_from_its_order_page_and_the_answer_shown(backend) {
    let store = spawn_store(backend, |c| {
        c.webhook.retry_schedule = "1h".parse().unwrap();
        c.webhook.jitter = 0.0;
    })
    .await;
    let id = order_to_a_dead_endpoint(&store).await;
    let page = page_when(&store, &format!("/orders/{id}"), "the first attempt, recorded", "data-replay=").await;
    let delivery = page.body.split("data-replay=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let action = format!("/orders/{id}/deliveries/{delivery}/replay");
    page.assert_contains(&format!("<form method=\"post\" action=\"{action}\""));

    // Sent, and the (lack of an) answer shown on a page of its own.
    let elsewhere = format!("http://127.0.0.1:{}/replayed", platform::testing::free_port());
    let replayed = post_form(&store, &action, &[("url", &elsewhere)]).await;
    assert_eq!(replayed.status, 200);
    replayed.assert_contains("data-answered=\"false\"");
    replayed.assert_contains("no answer: could not connect");
    // A URL no endpoint could have is not sent, and says why.
    let refused = post_form(&store, &action, &[("url", "http://example.com/x")]).await;
    assert_eq!(refused.status, 422);
    refused.assert_contains("Not sent: ");
});

// The diagram keeps time: a retry's wait is written between the attempts
// it separates, and the attempt still to come is the last row — a clock
// time with the exact instant for the page's countdown. The store's clock
// stands still until the test moves it, so the wait is exactly the
// schedule's.
platform::db_test!(async fn the_diagram_says_how_long_a_retry_waited_and_when_the_next_leaves(backend) {
    let clock = platform::ManualClock::new();
    let shared = clock.shared();
    let store = spawn_store(backend, move |c| {
        c.clock = shared;
        c.webhook.retry_schedule = "5s,1h".parse().unwrap();
        c.webhook.jitter = 0.0;
    })
    .await;
    let id = order_to_a_dead_endpoint(&store).await;
    let path = format!("/orders/{id}");
    let next_attempt = || async {
        let deliveries = store.get_json(&format!("/api/deliveries?order_id={id}")).await;
        deliveries[0]["next_attempt_at"].as_str().expect("an attempt scheduled").to_owned()
    };

    // Waited for by its arrow: the phase alone can show while the first
    // attempt is still on the wire, before its failure and retry are written.
    let page = page_when(&store, &path, "the first attempt to fail", "data-arrows=\"1\"").await;
    page.assert_contains("data-phase=\"retrying\"");
    let first_retry = next_attempt().await;
    assert_eq!(first_retry, contract::Timestamp(platform::Clock::now_ms(&clock) + 5_000).to_rfc3339());
    let row = page.body.split("data-next-attempt-row>").nth(1).expect("a pending row").split("</p>").next().unwrap();
    assert!(row.starts_with(&format!("Next attempt <time datetime=\"{first_retry}\"")), "{row} vs {first_retry}");
    assert!(row.contains("data-countdown>at ") && row.ends_with(" UTC</time>"), "{row}");
    page.assert_contains("data-arrows=\"1\"");
    page.assert_lacks("class=\"msg-gap\"");

    // Five seconds on: the retry, with its wait between the two arrows, and
    // the pending row moved on to the attempt after it.
    clock.advance(Duration::from_secs(5));
    let page = page_when(&store, &path, "the second attempt to fail", "data-arrows=\"2\"").await;
    let gap = page.body.split("class=\"msg-gap\"").nth(1).expect("a gap row").split("</text>").next().unwrap();
    assert!(gap.ends_with(">waited 5 s"), "{gap}");
    let second_retry = next_attempt().await;
    assert_ne!(second_retry, first_retry);
    page.assert_contains(&format!("<time datetime=\"{second_retry}\""));
});
