//! The flow page's store column: every message a row of the same three
//! lines, and polls described by what they brought — "empty" only when
//! the feed page listed no order at all.

use crate::helpers::*;

platform::db_test!(async fn polls_are_described_by_what_they_brought(backend) {
    let store = spawn_store(backend, |_| {}).await;
    store.set_mode("webhook").await;
    post_form(&store, "/orders", &order_form("W", "w@example.com", "qty-TEA-ASSAM", "1")).await;
    let cursor = poll(&store, None).await;
    poll(&store, Some(&cursor)).await;
    store.set_mode("poll").await;
    post_form(&store, "/orders", &order_form("P", "p@example.com", "qty-TEA-ASSAM", "1")).await;
    post_form(&store, "/orders", &order_form("Q", "q@example.com", "qty-TEA-ASSAM", "1")).await;
    poll(&store, Some(&cursor)).await;

    let column = get(&store, "/fragments/flow").await;
    // A page that listed a webhook order is not "empty": it listed one,
    // and none of it was the poller's business.
    column.assert_contains("listed 1 order, none placed in poll mode: nothing for the poller");
    column.assert_contains("empty poll: no orders");
    column.assert_contains("carried 2 poll-mode orders");
    column.assert_lacks("order(s)");
    // Every row has the same three lines; a cut line keeps its full text.
    let rows = column.body.matches("<li class=\"flow-item").count();
    assert_eq!(rows, 3);
    assert_eq!(column.body.matches("<div class=\"line1\">").count(), rows);
    assert_eq!(column.body.matches("<div class=\"what\" title=\"GET /api/orders\">").count(), rows);
    assert_eq!(column.body.matches("<div class=\"line3\">").count(), rows);
});
