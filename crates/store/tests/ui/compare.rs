//! The compare page: polling's requests per order include every empty
//! poll, the same figure the bench computes; the charts keep their text
//! inside the drawing and their legends in the bars' colours.

use crate::helpers::*;

platform::db_test!(async fn polling_pays_for_its_empty_polls_in_requests_per_order(backend) {
    let store = spawn_store(backend, |_| {}).await;
    store.set_mode("poll").await;
    post_form(&store, "/orders", &order_form("P", "p@example.com", "qty-TEA-ASSAM", "1")).await;
    // One poll brings the order; two more find nothing new.
    let cursor = poll(&store, None).await;
    let cursor = poll(&store, Some(&cursor)).await;
    poll(&store, Some(&cursor)).await;

    let figures = store::instruments::comparison::compare(&store.state.ctx.db).await.unwrap();
    let polling = figures.mode(contract::IntegrationMode::Poll);
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
