//! The order form, the orders list and the order page.

use std::time::Duration;

use crate::helpers::*;

platform::db_test!(async fn an_order_placed_through_the_form_opens_its_page(backend) {
    let store = spawn_store(backend, |_| {}).await;
    store.set_mode("poll").await;
    let mut form = order_form("Ada Lovelace", "ada@example.com", "qty-TEA-SENCHA", "2");
    form.push(("qty-MUG-BLUE", "1"));
    form.push(("qty-TEA-ASSAM", "0"));
    form.push(("qty-TEA-OOLONG", ""));
    let placed = post_form(&store, "/orders", &form).await;
    assert_eq!(placed.status, 303, "{}", placed.body);
    let location = placed.location.expect("a Location");
    let id = order_id_from(&location);

    // The order is what the form said, in the mode of the moment.
    let order = store.get_json(&format!("/api/orders/{id}")).await;
    assert_eq!(order["mode"], "poll");
    assert_eq!(order["customer"]["name"], "Ada Lovelace");
    let items = order["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "zero and empty quantities are not lines: {order}");
    assert_eq!(order["total_cents"], 2 * 1250 + 1800);

    let page = get(&store, &location).await;
    assert_eq!(page.status, 200);
    for needle in [id.as_str(), "Ada Lovelace", "ada@example.com", "Sencha green tea, 100\u{a0}g", "€43.00", "data-status=\"pending\"", "Polling", "<svg"] {
        page.assert_contains(needle);
    }
    // Nothing has crossed yet in poll mode, and the page says why.
    page.assert_contains("nothing will until the inventory asks");
    page.assert_contains(&format!("http://127.0.0.1:9/messages?order_id={id}"));

    // The live region re-fetches the same content.
    let fragment = get(&store, &format!("/fragments/orders/{id}")).await;
    assert_eq!(fragment.status, 200);
    fragment.assert_contains("data-status=\"pending\"");

    // And the list shows it.
    let list = get(&store, "/orders").await;
    list.assert_contains(&format!("href=\"/orders/{id}\""));
    list.assert_contains("<strong data-count=\"pending\">1</strong>");
    let filtered = get(&store, "/orders?status=confirmed").await;
    filtered.assert_lacks(&format!("href=\"/orders/{id}\""));
    filtered.assert_contains("No orders with this status");
});

platform::db_test!(async fn form_errors_are_shown_next_to_their_fields_with_what_was_typed(backend) {
    let store = spawn_store(backend, |_| {}).await;
    let mut form = order_form("  ", "not-an-email", "qty-MUG-BLUE", "abc");
    form.push(("qty-TEA-SENCHA", "100"));
    form.push(("qty-TEA-ASSAM", "3"));
    let page = post_form(&store, "/orders", &form).await;
    assert_eq!(page.status, 422);
    page.assert_contains("The order was not placed.");
    page.assert_contains("<span class=\"field-error\" id=\"name-error\">a name is required</span>");
    page.assert_contains("id=\"email-error\"");
    page.assert_contains("value=\"not-an-email\"");
    page.assert_contains("aria-describedby=\"email-error\"");
    // Quantity errors sit with their product, and what was typed stays.
    page.assert_contains("<p class=\"field-error\" id=\"qty-MUG-BLUE-error\">quantity must be a whole number from 1 to 99</p>");
    page.assert_contains("id=\"qty-TEA-SENCHA-error\"");
    page.assert_contains("value=\"abc\"");
    page.assert_contains("value=\"100\"");
    page.assert_contains("value=\"3\"");
    page.assert_lacks("id=\"qty-TEA-ASSAM-error\"");

    // An empty basket is an error about the basket.
    let page = post_form(&store, "/orders", &order_form("Ada", "ada@example.com", "qty-MUG-BLUE", "0")).await;
    assert_eq!(page.status, 422);
    page.assert_contains("id=\"items-error\"");
    page.assert_contains("value=\"Ada\"");

    // Nothing was ordered.
    let list = get(&store, "/orders").await;
    list.assert_contains("No orders yet");
});

// Regression: the form holds a name and an email to the API's rule
// for human text, and says so beside the field.
platform::db_test!(async fn invisible_characters_in_a_name_or_email_are_refused_beside_the_field(backend) {
    let store = spawn_store(backend, |_| {}).await;
    for (name, code) in [("Ada\u{200B}Lovelace", "U+200B"), ("Ada Lovelace\u{2029}", "U+2029"), ("\u{FEFF}Ada", "U+FEFF")] {
        let page = post_form(&store, "/orders", &order_form(name, "ada@example.com", "qty-TEA-SENCHA", "1")).await;
        assert_eq!(page.status, 422, "{name:?}");
        page.assert_contains(&format!(
            "<span class=\"field-error\" id=\"name-error\">a name cannot contain {code}, "
        ));
    }
    let page = post_form(&store, "/orders", &order_form("Ada", "ada@exa\u{2028}mple.com", "qty-TEA-SENCHA", "1")).await;
    assert_eq!(page.status, 422);
    page.assert_contains("<span class=\"field-error\" id=\"email-error\">an email address cannot contain U+2028, ");
    get(&store, "/orders").await.assert_contains("No orders yet");
});

platform::db_test!(async fn user_text_comes_back_escaped(backend) {
    let store = spawn_store(backend, |_| {}).await;
    store.set_mode("poll").await;
    let name = "<script>alert('pwned')</script> & \"friends\"";
    let placed = post_form(&store, "/orders", &order_form(name, "x@example.com", "qty-TEA-MATCHA", "1")).await;
    assert_eq!(placed.status, 303, "{}", placed.body);
    let location = placed.location.unwrap();
    for path in [location.as_str(), "/orders"] {
        let page = get(&store, path).await;
        page.assert_lacks("<script>alert");
        page.assert_contains("&#60;script&#62;alert(&#39;pwned&#39;)&#60;/script&#62; &#38; &#34;friends&#34;");
    }
    // A typed value put back into a form is escaped as an attribute too.
    let page = post_form(&store, "/orders", &order_form(name, "\"><script>x</script>", "qty-TEA-MATCHA", "1")).await;
    assert_eq!(page.status, 422);
    page.assert_lacks("<script>x");
    page.assert_lacks("\"><script>");
});

platform::db_test!(async fn a_form_submitted_twice_places_one_order(backend) {
    let store = spawn_store(backend, |_| {}).await;
    store.set_mode("poll").await;
    let front = get(&store, "/").await;
    let key_start = front.body.find("name=\"idempotency_key\" value=\"").expect("the form carries a key") + 30;
    let key = &front.body[key_start..key_start + front.body[key_start..].find('"').unwrap()];
    assert!(key.starts_with("form-"), "{key}");

    let mut form = order_form("Ada", "ada@example.com", "qty-TEA-ROOIBOS", "2");
    form.push(("idempotency_key", key));
    let first = post_form(&store, "/orders", &form).await;
    let second = post_form(&store, "/orders", &form).await;
    assert_eq!(first.status, 303);
    assert_eq!(second.status, 303);
    assert_eq!(first.location, second.location, "the second submission finds the first order");
    get(&store, "/orders").await.assert_contains("<strong data-count=\"pending\">1</strong>");

    // The same key with a different basket is refused, next to the form,
    // and the form comes back with a fresh key.
    let mut changed = order_form("Ada", "ada@example.com", "qty-TEA-ROOIBOS", "3");
    changed.push(("idempotency_key", key));
    let page = post_form(&store, "/orders", &changed).await;
    assert_eq!(page.status, 422);
    page.assert_contains("This form already placed a different order.");
    page.assert_lacks(&format!("value=\"{key}\""));
});

platform::db_test!(async fn the_sample_order_on_the_flow_page_returns_to_the_flow(backend) {
    let store = spawn_store(backend, |_| {}).await;
    store.set_mode("poll").await;
    let mut form = order_form("Flow watcher", "flow@example.com", "qty-TEA-SENCHA", "1");
    form.push(("next", "/flow"));
    let placed = post_form(&store, "/orders", &form).await;
    assert_eq!(placed.status, 303);
    assert_eq!(placed.location.as_deref(), Some("/flow"));
    // Anywhere else is not a place a form may send the browser.
    let mut form = order_form("Flow watcher", "flow@example.com", "qty-TEA-SENCHA", "1");
    form.push(("next", "https://evil.example/"));
    let placed = post_form(&store, "/orders", &form).await;
    assert!(placed.location.unwrap().starts_with("/orders/ord_"));
});

platform::db_test!(async fn an_api_order_that_failed_shows_each_attempt_in_the_timeline(backend) {
    // With no inventory listening, api mode tries three times (the first
    // call and two retries under the same key), then rejects the order.
    let store = spawn_store(backend, |_| {}).await;
    store.set_mode("api").await;
    let placed = post_form(&store, "/orders", &order_form("Grace", "grace@example.com", "qty-POT-GLASS", "1")).await;
    assert_eq!(placed.status, 303);
    let location = placed.location.unwrap();
    let id = order_id_from(&location);
    let page = eventually(Duration::from_secs(10), "the order rejected", || async {
        let page = get(&store, &location).await;
        page.body.contains("data-status=\"rejected\"").then_some(page)
    })
    .await;
    // One arrow per exchange (three calls, then the voids the store owes),
    // each failed and drawn as such, with no answer.
    let arrows = page.body.matches("class=\"seq-row\"").count();
    assert!(arrows >= 3, "three attempts at least");
    assert_eq!(arrows, page.body.matches("data-exchange=").count(), "the diagram and the list agree");
    assert!(page.body.matches("msg-line by-store failed").count() >= 3);
    page.assert_contains("class=\"fail-mark\"");
    page.assert_contains("no answer: could not connect");
    page.assert_contains("data-failed=\"true\"");
    page.assert_contains("store → inventory");
    // The headers, the redacted key included, and the pretty-printed body.
    page.assert_contains("<th scope=\"row\">authorization</th><td>Bearer pp_d…e_me</td>");
    page.assert_contains(&format!("<tr class=\"signature\"><th scope=\"row\">idempotency-key</th><td>{id}</td></tr>"));
    page.assert_contains(&format!("{{\n  &#34;order_id&#34;: &#34;{id}&#34;,"));
    page.assert_contains("id=\"order-reason\"");
});
