//! Every page renders, with the headers a page needs; unknown addresses
//! get the right kind of 404; the static files are cached properly.

use crate::helpers::*;

platform::db_test!(async fn every_page_renders_with_its_key_content(backend) {
    let store = spawn_store(backend, |_| {}).await;
    let cases: &[(&str, &[&str])] = &[
        ("/", &["Sencha green tea, 100\u{a0}g", "€12.50", "name=\"qty-TEA-SENCHA\"", "Orders reach the inventory by", "Webhook", "Place order"]),
        ("/orders", &["No orders yet", "data-live=\"orders\""]),
        ("/flow", &["Flow: both sides of every message", "data-wire", "http://127.0.0.1:9/fragments/flow", "http://127.0.0.1:9/events"]),
        ("/settings", &["Integration mode", "name=\"mode\" value=\"api\"", "Webhook endpoints", "Delivery log", "http://127.0.0.1:9/fragments/poller?back=store"]),
        ("/compare", &["Compare the modes", "Place 5 orders in each mode", "data-chart=\"latency\"", "data-chart=\"requests\"", "data-chart=\"polls\"", "data-chart=\"failures\""]),
        ("/tour", &["six places", "id=\"direction\"", "id=\"initiation\"", "id=\"use-case\"", "id=\"data-format\"", "id=\"authentication\"", "id=\"statelessness\"", "http://127.0.0.1:9/chaos", "<span id=\"retry-schedule\">1s, 5s, 30s, 2m, 10m</span>, about 13 min in all"]),
    ];
    for (path, needles) in cases {
        let page = get(&store, path).await;
        assert_eq!(page.status, 200, "GET {path}");
        assert_eq!(page.content_type, "text/html; charset=utf-8", "GET {path}");
        let csp = page.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self';") && csp.contains("connect-src 'self' http://127.0.0.1:9;"), "{path}: {csp}");
        assert_eq!(page.headers["cache-control"], "no-store", "{path}");
        // The chrome: the stylesheet, the script, the link to the inventory.
        page.assert_contains("/static/app.css?v=");
        page.assert_contains("/static/app.js?v=");
        page.assert_contains("href=\"http://127.0.0.1:9/\"");
        for needle in *needles {
            assert!(page.body.contains(needle), "GET {path}: expected {needle:?}");
        }
    }
    // The current page is marked in the navigation.
    get(&store, "/compare").await.assert_contains("<a href=\"/compare\" aria-current=\"page\">Compare</a>");
});

platform::db_test!(async fn unknown_pages_get_a_page_and_unknown_api_paths_a_problem(backend) {
    let store = spawn_store(backend, |_| {}).await;
    let page = get(&store, "/no-such-page").await;
    assert_eq!(page.status, 404);
    assert!(page.content_type.starts_with("text/html"), "{}", page.content_type);
    page.assert_contains("There is no such page");
    page.assert_contains("/no-such-page");

    for path in ["/api/nothing", "/fragments/nothing", "/static/nothing.css"] {
        let page = get(&store, path).await;
        assert_eq!(page.status, 404, "{path}");
        assert_eq!(page.content_type, "application/problem+json", "{path}");
    }

    // A malformed or unknown order id is a page too, not a problem document.
    for path in ["/orders/ord_doesnotexist", "/orders/<script>"] {
        let page = get(&store, path).await;
        assert_eq!(page.status, 404, "{path}");
        assert!(page.content_type.starts_with("text/html"), "{path}");
        page.assert_lacks("<script>");
    }
});

platform::db_test!(async fn static_files_are_served_with_cache_headers(backend) {
    let store = spawn_store(backend, |_| {}).await;
    let css = get(&store, "/static/app.css").await;
    assert_eq!(css.status, 200);
    assert_eq!(css.content_type, "text/css; charset=utf-8");
    assert_eq!(css.body, platform::ui::APP_CSS);
    assert_eq!(css.headers["cache-control"], "public, max-age=0, must-revalidate");
    let etag = css.headers["etag"].to_str().unwrap().to_owned();

    let js = get(&store, &format!("/static/app.js?v={}", platform::ui::asset_version())).await;
    assert_eq!(js.status, 200);
    assert_eq!(js.content_type, "text/javascript; charset=utf-8");
    assert_eq!(js.headers["cache-control"], "public, max-age=31536000, immutable");
    assert!(js.body.contains("new EventSource"));

    let again = store
        .client
        .get(store.url("/static/app.css"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    // Pages link the current version, so a new build is fetched at once.
    get(&store, "/").await.assert_contains(&format!("/static/app.css?v={}", platform::ui::asset_version()));
});

platform::db_test!(async fn fragments_are_readable_from_the_other_service(backend) {
    let store = spawn_store(backend, |_| {}).await;
    for path in ["/fragments/mode", "/fragments/orders", "/fragments/flow", "/fragments/flow/empty-polls", "/fragments/endpoints", "/fragments/deliveries", "/fragments/compare/charts", "/fragments/compare/burst"] {
        let page = get(&store, path).await;
        assert_eq!(page.status, 200, "{path}");
        assert_eq!(page.headers["access-control-allow-origin"], "*", "{path}");
        // A fragment is a piece of a page, not a page.
        page.assert_lacks("<html");
    }
    get(&store, "/fragments/mode").await.assert_contains("data-mode=\"webhook\"");
});

/// Every event a page's live region listens for (`data-on`, in any of both
/// services' templates) is one the services publish: a name misspelt in a
/// template would otherwise wait for ever.
#[test]
fn live_regions_listen_only_for_events_that_exist() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../templates");
    let mut heard = Vec::new();
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "html") {
                let text = std::fs::read_to_string(&path).unwrap();
                for part in text.split("data-on=\"").skip(1) {
                    let names = part.split('"').next().unwrap();
                    heard.extend(
                        names
                            .split_whitespace()
                            .map(|n| (n.to_owned(), path.clone())),
                    );
                }
            }
        }
    }
    assert!(heard.len() > 10, "found the live regions: {heard:?}");
    for (name, path) in heard {
        assert!(
            contract::LiveEventKind::parse(&name).is_ok(),
            "{}: data-on names {name:?}, which nothing publishes",
            path.display()
        );
    }
}

// Regression: the tour's heading and the footer filed api mode under
// "pull" while the flow page drew its arrows store → inventory. One
// vocabulary now: api mode is push, request/response — on every page. The
// wrong phrases are spelt in pieces below, so that a search of the
// repository for them finds no page, document or comment that says them.
platform::db_test!(async fn every_page_files_api_mode_under_push_request_response(backend) {
    let store = spawn_store(backend, |_| {}).await;
    for path in ["/", "/orders", "/flow", "/settings", "/compare", "/tour"] {
        let page = get(&store, path).await;
        for wrong in [
            concat!("APIs are ", "pulled"),
            concat!("pull", " (API"),
            concat!("Pull", " (API"),
            "Push modes",
        ] {
            page.assert_lacks(wrong);
        }
        page.assert_contains("push (a webhook event, or an API request/response), by pull (polling), or both (hybrid: a notice pushed, the order pulled)");
    }
    let tour = get(&store, "/tour").await;
    // The 2x2: who starts (rows) × does the sender wait (columns).
    tour.assert_contains("<table class=\"two-by-two\"");
    let push_row = tour.body.split("push: the store").nth(1).unwrap();
    let push_row = push_row.split("</tr>").next().unwrap();
    assert!(push_row.contains("<strong>webhook</strong>") && push_row.contains("<strong>api</strong>"), "{push_row}");
    let pull_row = tour.body.split("pull: the inventory").nth(1).unwrap();
    let pull_row = pull_row.split("</tr>").next().unwrap();
    assert!(pull_row.contains("<strong>poll</strong>") && !pull_row.contains("<strong>api</strong>"), "{pull_row}");
    // And the mode switch names both answers for each mode.
    let settings = get(&store, "/settings").await;
    settings.assert_contains("push, event");
    settings.assert_contains("push, request/response");
});

platform::db_test!(async fn every_page_names_the_files_behind_it_and_they_exist(backend) {
    let store = spawn_store(backend, |_| {}).await;
    let mut pages = vec![
        ("/".to_owned(), "crates/store/src/ui/shop.rs"),
        ("/orders".to_owned(), "crates/store/src/ui/orders.rs"),
        ("/flow".to_owned(), "crates/store/src/ui/flow.rs"),
        ("/settings".to_owned(), "crates/store/src/ui/settings/mod.rs"),
        ("/compare".to_owned(), "crates/store/src/ui/compare.rs"),
        ("/tour".to_owned(), "crates/store/src/ui/tour.rs"),
        ("/reference".to_owned(), "crates/store/src/ui/reference.rs"),
    ];
    // An order's page names the code of the mode it travelled in: one
    // order in each, so every mode's list is checked.
    let mut modes = Vec::new();
    for mode in ["webhook", "api", "poll", "hybrid"] {
        store.set_mode(mode).await;
        let placed = post_form(&store, "/orders", &order_form("Ada", "ada@example.com", "qty-TEA-ASSAM", "1")).await;
        let id = order_id_from(&placed.location.expect("a redirect to the order"));
        pages.push((format!("/orders/{id}"), "crates/store/src/ui/orders.rs"));
        modes.push((mode, format!("/orders/{id}")));
    }
    for (path, own) in &pages {
        let page = get(&store, path).await;
        assert_eq!(page.status, 200, "GET {path}");
        page.assert_contains("How this works in the code");
        let paths = platform::testing::assert_sources_exist(&format!("GET {path}"), &page);
        assert_eq!(&paths[0], own, "GET {path}: its own module comes first");
    }
    // Each order's list is its mode's.
    for (mode, path) in modes {
        let paths = get(&store, &path).await.source_paths();
        let mode_module = match mode {
            "webhook" => "crates/store/src/integration/webhook/outbox.rs",
            "api" => "crates/store/src/integration/api/mod.rs",
            "poll" => "crates/store/src/integration/poll.rs",
            _ => "crates/store/src/integration/hybrid.rs",
        };
        assert!(paths.iter().any(|p| p == mode_module), "a {mode} order names {mode_module}: {paths:?}");
    }
    get(&store, "/no-such-page").await.assert_lacks("How this works in the code");
});
