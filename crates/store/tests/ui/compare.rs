//! The compare page: polling's requests per order include every empty
//! poll charged to it, the same figure the bench computes; the figures
//! cover a window (since a reset, or the last minutes) and say which;
//! polls made in another mode are charged to no one; every chart names its
//! unit; the charts keep their text inside the drawing and their legends
//! in the bars' colours.

use std::time::Duration;

use contract::IntegrationMode;
use store::instruments::comparison::{self, Span, Window};

use crate::helpers::*;

const MINUTE: Duration = Duration::from_secs(60);

platform::db_test!(async fn polling_pays_for_its_empty_polls_in_requests_per_order(backend) {
    let store = spawn_store(backend, |_| {}).await;
    store.set_mode("poll").await;
    post_form(&store, "/orders", &order_form("P", "p@example.com", "qty-TEA-ASSAM", "1")).await;
    // One poll brings the order; two more find nothing new.
    let cursor = poll(&store, None).await;
    let cursor = poll(&store, Some(&cursor)).await;
    poll(&store, Some(&cursor)).await;

    let figures = comparison::compare(&store.state.ctx.db, Span::all_time()).await.unwrap();
    let polling = figures.mode(IntegrationMode::Poll);
    assert_eq!((polling.orders, polling.requests), (1, 3), "{polling:?}");
    assert_eq!((figures.feed.reads, figures.feed.empty), (3, 2));
    assert_eq!(polling.requests_per_order(), Some(3.0));
    // The bench's figure over the same history: every exchange the store
    // logged, divided by the orders.
    let logged: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM exchanges")
        .fetch_one(store.state.ctx.db.pool())
        .await
        .unwrap();
    assert_eq!(Some(logged as f64 / polling.orders as f64), polling.requests_per_order());

    let page = get(&store, "/compare").await;
    page.assert_contains("3.0 per order: 3 requests for 1 order, 2 of them empty polls");
    page.assert_contains("2 of 3 polls found nothing");
    // Labels and values are text inside the card (they wrap there), the
    // bars drawn under them.
    page.assert_contains("<span class=\"bar-label\">Polling</span>\n      <span class=\"bar-value\">3.0 per order");
    page.assert_lacks("<text class=\"bar-value\"");
    // The legend says what the bars look like.
    page.assert_contains("<span class=\"swatch light\" aria-hidden=\"true\"></span>all requests, empty polls included");
    page.assert_contains("<span class=\"swatch \" aria-hidden=\"true\"></span>requests that brought an order");
    let css = platform::ui::APP_CSS;
    let swatch = &css[css.find(".legend .swatch {").unwrap()..];
    let swatch = &swatch[..swatch.find('}').unwrap()];
    for colour in ["var(--webhook)", "var(--api)", "var(--poll)"] {
        assert!(swatch.contains(colour), "the swatch shows {colour}: {swatch}");
    }
});

/// The figures over `window`, as the page reads them.
async fn figures(store: &store::testing::TestStore, window: Window) -> comparison::Comparison {
    let db = &store.state.ctx.db;
    let span = window.span(db, store.state.ctx.clock.now()).await.unwrap();
    comparison::compare(db, span).await.unwrap()
}

/// Places a poll-mode order, and polls and acknowledges it as the
/// inventory would; returns the next cursor.
async fn place_and_poll(store: &store::testing::TestStore, after: Option<&str>) -> String {
    let placed = post_form(
        store,
        "/orders",
        &order_form("P", "p@example.com", "qty-TEA-ASSAM", "1"),
    )
    .await;
    let id = order_id_from(&placed.location.unwrap());
    let cursor = poll(store, after).await;
    acknowledge(store, &id).await;
    cursor
}

platform::db_test!(async fn the_window_leaves_out_an_old_slow_order(backend) {
    let (store, clock) = spawn_store_with_clock(backend).await;
    store.set_mode("poll").await;
    // Slow: polled ten minutes after it was placed.
    let placed = post_form(&store, "/orders", &order_form("S", "s@example.com", "qty-TEA-ASSAM", "1")).await;
    let slow = order_id_from(&placed.location.unwrap());
    clock.advance(10 * MINUTE);
    let cursor = poll(&store, None).await;
    acknowledge(&store, &slow).await;
    // Twenty minutes later, a quick one.
    clock.advance(20 * MINUTE);
    place_and_poll(&store, Some(&cursor)).await;

    let all = figures(&store, Window::SinceReset).await;
    let latency = all.mode(IntegrationMode::Poll).latency.unwrap();
    assert_eq!((latency.count, latency.max), (2, 600_000));
    let recent = figures(&store, Window::LastMinutes(15)).await;
    let polling = recent.mode(IntegrationMode::Poll);
    assert_eq!(polling.orders, 1);
    assert_eq!(polling.latency.map(|l| (l.count, l.max)), Some((1, 0)));

    let page = get(&store, "/compare?window=15").await;
    page.assert_contains("Showing <strong>the last 15 minutes</strong>");
    page.assert_contains("p50 0 ms · p95 0 ms");
    page.assert_lacks("10 min 00 s");
    page.assert_contains("<a href=\"/compare?window=15\" aria-current=\"true\">last 15 min</a>");
    // The fragment the page refreshes from keeps the window.
    page.assert_contains("data-src=\"/fragments/compare/charts?window=15\"");
    get(&store, "/fragments/compare/charts?window=15").await.assert_lacks("10 min 00 s");
    let everything = get(&store, "/compare").await;
    everything.assert_contains("Showing <strong>since the first order (never reset)</strong>");
    everything.assert_contains("p95 10 min 00 s");
    // A window the page does not offer is refused, not guessed.
    let odd = store.client.get(store.url("/compare?window=7")).send().await.unwrap();
    assert_eq!(odd.status(), 422);
});

platform::db_test!(async fn every_figure_names_its_unit_and_what_it_is(backend) {
    let store = spawn_store(backend, |_| {}).await;
    let page = get(&store, "/compare").await;
    for line in [
        "Placed → resolved: how long until the store knew the outcome <span class=\"unit\">(milliseconds)</span>",
        "end to end p50 and p95 — ms from placed to resolved",
        "Requests per order <span class=\"unit\">(requests per order)</span>",
        "requests per order — HTTP requests between the services per order placed in the window, polls charged to the mode included",
        "<span class=\"unit\">(feed reads)</span>",
        "<span class=\"unit\">(messages)</span>",
        "<th scope=\"col\">p50, ms</th>",
        "Which polls are charged.",
    ] {
        page.assert_contains(line);
    }
    assert_eq!(page.body.matches("<p class=\"chart-def small\">").count(), 4);
});

platform::db_test!(async fn reset_starts_the_figures_again(backend) {
    let (store, clock) = spawn_store_with_clock(backend).await;
    store.set_mode("poll").await;
    place_and_poll(&store, None).await;
    get(&store, "/compare").await.assert_contains("2.0 per order: 2 requests for 1 order");
    assert_eq!(comparison::reset_at(&store.state.ctx.db).await.unwrap(), None);

    clock.advance(Duration::from_secs(1));
    let reset = post_form(&store, "/compare/reset", &[]).await;
    assert_eq!(reset.status, 303);
    assert_eq!(reset.location.as_deref(), Some("/compare?window=reset&notice=compare-reset"));
    let page = get(&store, "/compare?window=reset&notice=compare-reset").await;
    page.assert_contains("Figures reset");
    page.assert_contains("Showing <strong>since the reset at ");
    page.assert_contains("No orders in this window");
    page.assert_lacks("2.0 per order");
    let after = figures(&store, Window::SinceReset).await;
    assert_eq!(after.total_orders(), 0);
    assert_eq!(after.mode(IntegrationMode::Poll).requests, 0);
    // Nothing was deleted: the window over the last minutes still has it.
    assert_eq!(figures(&store, Window::LastMinutes(5)).await.total_orders(), 1);
    // Orders placed after the reset count again.
    clock.advance(Duration::from_secs(1));
    place_and_poll(&store, None).await;
    assert_eq!(figures(&store, Window::SinceReset).await.total_orders(), 1);
});

platform::db_test!(async fn a_cross_site_reset_is_refused(backend) {
    let store = spawn_store(backend, |_| {}).await;
    let evil = post_form_cross_site(&store, "/compare/reset").await;
    assert_eq!(evil.status(), 403);
    assert!(evil.text().await.unwrap().contains("Cross-site request refused"));
    assert_eq!(comparison::reset_at(&store.state.ctx.db).await.unwrap(), None);
});

platform::db_test!(async fn polls_made_in_webhook_mode_cost_polling_nothing(backend) {
    let (store, clock) = spawn_store_with_clock(backend).await;
    store.set_mode("poll").await;
    // One poll brings the order; two more find nothing: 3 requests and the
    // acknowledgement, for 1 order.
    let cursor = place_and_poll(&store, None).await;
    let cursor = poll(&store, Some(&cursor)).await;
    let cursor = poll(&store, Some(&cursor)).await;
    let before = figures(&store, Window::SinceReset).await;
    assert_eq!(before.mode(IntegrationMode::Poll).requests_per_order(), Some(4.0));

    // An hour in webhook mode: the poller keeps asking (and one page lists
    // a webhook order), and none of it is polling's cost.
    clock.advance(Duration::from_secs(1));
    store.set_mode("webhook").await;
    clock.advance(Duration::from_secs(1));
    post_form(&store, "/orders", &order_form("W", "w@example.com", "qty-TEA-ASSAM", "1")).await;
    let mut cursor = cursor;
    for _ in 0..6 {
        clock.advance(10 * MINUTE);
        cursor = poll(&store, Some(&cursor)).await;
    }
    let idle = figures(&store, Window::SinceReset).await;
    assert_eq!(idle.mode(IntegrationMode::Poll).requests_per_order(), Some(4.0), "{idle:?}");
    assert_eq!((idle.feed.reads, idle.feed.empty, idle.feed.uncharged), (3, 2, 6));
    let page = get(&store, "/compare").await;
    page.assert_contains("4.0 per order: 4 requests for 1 order, 2 of them empty polls");
    page.assert_contains("2 of 3 polls found nothing; 6 more made in other modes, charged to no one");

    // Back in poll mode, waiting is polling's cost again.
    clock.advance(Duration::from_secs(1));
    store.set_mode("poll").await;
    clock.advance(Duration::from_secs(1));
    poll(&store, Some(&cursor)).await;
    let polling = figures(&store, Window::SinceReset).await;
    assert_eq!(polling.mode(IntegrationMode::Poll).requests_per_order(), Some(5.0));
});
