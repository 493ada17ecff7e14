//! The flow page's store column: every message a row of the same three
//! lines, and polls described by what they brought — "empty" only when
//! the feed page listed no order at all; the empty polls counted, and
//! hidden on request.

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

platform::db_test!(async fn empty_polls_are_counted_and_can_be_hidden(backend) {
    let store = spawn_store(backend, |_| {}).await;
    store.set_mode("webhook").await;
    post_form(&store, "/orders", &order_form("W", "w@example.com", "qty-TEA-ASSAM", "1")).await;
    // Three polls that bring the poller nothing (the first lists the
    // webhook order), then one that brings it a poll-mode order.
    let mut cursor = poll(&store, None).await;
    for _ in 0..2 {
        cursor = poll(&store, Some(&cursor)).await;
    }
    store.set_mode("poll").await;
    post_form(&store, "/orders", &order_form("P", "p@example.com", "qty-TEA-ASSAM", "1")).await;
    poll(&store, Some(&cursor)).await;

    let all = get(&store, "/flow").await;
    all.assert_contains("data-empty-polls=\"3\"");
    all.assert_contains("3 empty polls in all");
    all.assert_contains("<a href=\"/flow?polls=hide\">Hide empty polls</a>");
    all.assert_contains("data-src=\"/fragments/flow\"");
    assert_eq!(all.body.matches("<li class=\"flow-item").count(), 4);

    let hidden = get(&store, "/flow?polls=hide").await;
    hidden.assert_contains("3 empty polls in all — feed reads that brought nothing for the poller, not shown.");
    hidden.assert_contains("<a href=\"/flow\">Show them</a>");
    // The live refresh keeps the filter.
    hidden.assert_contains("data-src=\"/fragments/flow?polls=hide\"");
    assert_eq!(hidden.body.matches("<li class=\"flow-item").count(), 1);
    hidden.assert_contains("carried 1 poll-mode order");
    hidden.assert_lacks("nothing for the poller</span>");
    hidden.assert_contains("data-src=\"/fragments/flow/empty-polls?polls=hide\"");
    let fragment = get(&store, "/fragments/flow?polls=hide").await;
    assert_eq!(fragment.body.matches("<li class=\"flow-item").count(), 1);
    get(&store, "/fragments/flow/empty-polls?polls=hide").await.assert_contains("<a href=\"/flow\">Show them</a>");
});
