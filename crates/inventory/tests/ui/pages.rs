//! Every page renders with its key content; 404s; fragments.

use crate::helpers::*;

platform::db_test!(async fn every_page_renders_with_its_key_content(backend) {
    let inventory = spawn_inventory(backend).await;
    let cases: &[(&str, &[&str])] = &[
        ("/", &["<h1>Stock</h1>", "data-sku=\"TEA-SENCHA\"", "data-on-hand=\"40\"", "Restock", "all off: behaving normally", "not registered"]),
        ("/messages", &["<h1>Messages</h1>", "Nothing has crossed yet.", "<option value=\"webhook\">webhook</option>"]),
        ("/chaos", &["Chaos controls", "name=\"down\"", "name=\"latency_ms\"", "name=\"fail_next\"", "name=\"reject_signatures\"", "name=\"drop_webhooks\"", "Heal everything"]),
        ("/poller", &["<h1>Poller</h1>", "data-paused=\"true\"", "Resume polling", "Poll now", "name=\"interval_s\"", "none yet — the next poll starts at the beginning", "Hybrid mode's reconciliation", "GET /api/orders?mode=hybrid"]),
        ("/keys", &["API keys", "configured (INVENTORY_API_KEY)", "pp_d…e_me", "Create a key"]),
    ];
    for (path, needles) in cases {
        let page = get(&inventory, path).await;
        assert_eq!(page.status, 200, "GET {path}");
        assert_eq!(page.content_type, "text/html; charset=utf-8", "GET {path}");
        let csp = page.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains(&format!("form-action 'self' {STORE};")), "{path}: {csp}");
        page.assert_contains("class=\"service-inventory\"");
        page.assert_contains(&format!("href=\"{STORE}/\""));
        for needle in *needles {
            assert!(page.body.contains(needle), "GET {path}: expected {needle:?}\n{}", page.body);
        }
    }
    // The full key is never on the page.
    get(&inventory, "/keys").await.assert_lacks("pp_demo_inventory_key_change_me");
});

platform::db_test!(async fn unknown_pages_get_a_page_and_machine_paths_a_problem(backend) {
    let inventory = spawn_inventory(backend).await;
    let page = get(&inventory, "/shelves").await;
    assert_eq!(page.status, 404);
    assert!(page.content_type.starts_with("text/html"));
    page.assert_contains("There is no such page");
    for path in ["/api/shelves", "/webhooks/other", "/fragments/shelves"] {
        let page = get(&inventory, path).await;
        assert_eq!(page.status, 404, "{path}");
        assert_eq!(page.content_type, "application/problem+json", "{path}");
    }
    let css = get(&inventory, "/static/app.css").await;
    assert_eq!(css.status, 200);
    assert_eq!(css.body, platform::ui::APP_CSS);
});

platform::db_test!(async fn fragments_can_be_embedded_by_the_store(backend) {
    let inventory = spawn_inventory(backend).await;
    for path in ["/fragments/stock", "/fragments/status", "/fragments/messages", "/fragments/flow", "/fragments/chaos", "/fragments/poller", "/fragments/poller?back=store"] {
        let page = get(&inventory, path).await;
        assert_eq!(page.status, 200, "{path}");
        assert_eq!(page.headers["access-control-allow-origin"], "*", "{path}");
        page.assert_lacks("<html");
    }
    // Shown on the store's settings page, the poller's forms post back
    // here by absolute URL and say where to return.
    let panel = get(&inventory, "/fragments/poller?back=store").await;
    panel.assert_contains(&format!("action=\"{}/poller\"", inventory.address));
    panel.assert_contains("<input type=\"hidden\" name=\"back\" value=\"store\">");
    get(&inventory, "/fragments/poller?back=elsewhere").await.assert_lacks("name=\"back\"");
});

platform::db_test!(async fn the_message_log_shows_verdicts_and_filters(backend) {
    let inventory = spawn_inventory(backend).await;
    // An unsigned webhook and an api call without a key: both refused, and
    // both logged with what the inventory made of them.
    let client = reqwest::Client::new();
    let r = client.post(inventory.url("/webhooks/store")).body("{\"type\":\"order.created\"}").send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = client.post(inventory.url("/update_inventory")).body("{}").header("content-type", "application/json").send().await.unwrap();
    assert_eq!(r.status(), 401);

    let page = get(&inventory, "/messages").await;
    page.assert_contains("refused: missing webhook-id");
    page.assert_contains("<span class=\"badge tone-bad\">signature refused</span>");
    page.assert_contains("refused: no valid API key");
    page.assert_contains("received from the store");

    let webhooks = get(&inventory, "/messages?channel=webhook").await;
    webhooks.assert_contains("data-channel=\"webhook\"");
    webhooks.assert_lacks("data-channel=\"api\"");
    webhooks.assert_contains("<option value=\"webhook\" selected>webhook</option>");
    webhooks.assert_contains("data-src=\"/fragments/messages?channel=webhook\"");
    // An unknown channel is no filter, not an error.
    let all = get(&inventory, "/messages?channel=%3Cscript%3E").await;
    assert_eq!(all.status, 200);
    all.assert_contains("data-channel=\"api\"");
    all.assert_lacks("<script>");
    let none = get(&inventory, "/messages?order_id=ord_nothing").await;
    none.assert_contains("No messages match.");
});

platform::db_test!(async fn skus_never_break_and_units_stay_with_their_numbers(backend) {
    let inventory = spawn_inventory(backend).await;
    let stock = get(&inventory, "/").await;
    stock.assert_contains("<th scope=\"row\" class=\"sku\">TEA-SENCHA</th>");
    stock.assert_contains("<td>Sencha green tea, 100\u{a0}g</td>");
    stock.assert_contains("<td>Gooseneck kettle, 1\u{a0}l</td>");
    let css = platform::ui::APP_CSS;
    let rule = &css[css.find("\n.sku {").expect("a .sku rule")..];
    let rule = &rule[..rule.find('}').unwrap()];
    assert!(rule.contains("white-space: nowrap"), "{rule}");
    assert!(rule.contains("overflow-wrap: normal"), "{rule}");
});

// Regression: the stock page said "subscribed" after the store had deleted
// the inventory's endpoint. It now asks the store each time; when the store
// does not answer, it says it could not ask, never that all is well.
platform::db_test!(async fn the_status_says_when_it_could_not_ask_the_store(backend) {
    let inventory = spawn_inventory(backend).await;
    sqlx::query("INSERT INTO webhook_secrets (secret, endpoint_id, store_url, added_at) VALUES ('whsec_x', 'whe_gone', 'http://store', 0)")
        .execute(inventory.state.ctx.db.pool())
        .await
        .unwrap();
    let page = get(&inventory, "/").await;
    page.assert_lacks("<strong>registered</strong>");
    page.assert_contains(r#"data-state="unknown""#);
    page.assert_contains("couldn't ask the store");
    page.assert_lacks("Subscribe again");
});

platform::db_test!(async fn every_page_names_the_files_behind_it_and_they_exist(backend) {
    let inventory = spawn_inventory(backend).await;
    for (path, own) in [
        ("/", "crates/inventory/src/ui/stock.rs"),
        ("/messages", "crates/inventory/src/ui/messages.rs"),
        ("/chaos", "crates/inventory/src/ui/chaos.rs"),
        ("/poller", "crates/inventory/src/ui/poller.rs"),
        ("/keys", "crates/inventory/src/ui/keys.rs"),
        ("/inbox", "crates/inventory/src/ui/inbox.rs"),
        ("/inbox/mine", "crates/inventory/src/ui/inbox.rs"),
        ("/reference", "crates/inventory/src/ui/reference.rs"),
    ] {
        let page = get(&inventory, path).await;
        assert_eq!(page.status, 200, "GET {path}");
        page.assert_contains("How this works in the code");
        let paths = platform::testing::assert_sources_exist(&format!("GET {path}"), &page);
        assert_eq!(paths[0], own, "GET {path}: its own module comes first");
    }
    // A page about nothing in particular names nothing.
    get(&inventory, "/shelves").await.assert_lacks("How this works in the code");
});
