//! What polling cost, counted from the message log and the ledger.

use contract::{Channel, LogEntryId, OrderId, Timestamp, Verdict, VerdictKind};
use inventory::instruments::messages::{self, NewMessage};
use inventory::instruments::poll_cost;
use platform::Db;

use crate::helpers::*;

/// A feed request the inventory made, judged `verdict`.
fn poll(verdict: Verdict) -> NewMessage {
    NewMessage {
        initiator: contract::Party::Inventory,
        channel: Channel::Feed,
        method: "GET".into(),
        url: "http://store/api/orders?limit=50".into(),
        request_headers: "[]".into(),
        request_body: String::new(),
        response_status: Some(200),
        response_body: Some("{}".into()),
        error: None,
        verdict,
        order_id: None,
        latency_ms: 3,
        at: Timestamp(1_000),
    }
}

/// Writes one entry into the log.
async fn record(db: &Db, m: &NewMessage) -> Result<(), sqlx::Error> {
    let mut conn = db.writer().acquire().await?;
    messages::insert_all(&mut conn, &[(&LogEntryId::new(), m)]).await
}

platform::db_test!(async fn polls_are_counted_by_their_verdict_kind(backend) {
    let inv = spawn_inventory(backend).await;
    let db = &inv.state.ctx.db;
    let stats = poll_cost::stats(db).await.unwrap();
    assert_eq!((stats.polls, stats.empty_polls, stats.failed_polls, stats.orders_applied), (0, 0, 0, 0));
    assert_eq!(stats.average_delay_ms, None);

    for verdict in [
        Verdict::new(VerdictKind::Empty),
        Verdict::with_detail(VerdictKind::NothingNew, "2 orders seen, none to apply"),
        Verdict::with_detail(VerdictKind::Applied, "1 of 1 orders"),
        Verdict::with_detail(VerdictKind::Failed, "the store answered 503"),
    ] {
        record(db, &poll(verdict)).await.unwrap();
    }
    // Not a poll: an acknowledgement.
    let mut ack = poll(Verdict::with_detail(VerdictKind::Acknowledged, "applied"));
    ack.channel = Channel::Ack;
    record(db, &ack).await.unwrap();
    // Two polled orders applied 400 and 600 ms after the store created them.
    for (id, created, applied) in [("ord_p1", 1_000, 1_400), ("ord_p2", 2_000, 2_600)] {
        sqlx::query(
            "INSERT INTO applied_orders (order_id, channel, outcome, request_hash, items, answer_status, answer, \
             order_created_at, applied_at) VALUES ($1, 'poll', 'applied', 'h', '{}', 200, '', $2, $3)",
        )
        .bind(OrderId::parse(id).unwrap().as_str())
        .bind(created as i64)
        .bind(applied as i64)
        .execute(db.writer())
        .await
        .unwrap();
    }

    let stats = poll_cost::stats(db).await.unwrap();
    assert_eq!(stats.polls, 4);
    assert_eq!(stats.empty_polls, 2, "empty and nothing new both applied nothing");
    assert_eq!(stats.failed_polls, 1);
    assert_eq!(stats.orders_applied, 2);
    assert_eq!(stats.average_delay_ms, Some(500));
    assert_eq!(stats.max_delay_ms, Some(600));
});

platform::db_test!(async fn the_schema_refuses_words_outside_the_vocabulary(backend) {
    let inv = spawn_inventory(backend).await;
    let db = &inv.state.ctx.db;
    let insert = |channel: &'static str, verdict: &'static str| {
        sqlx::query(
            "INSERT INTO messages (id, initiator, channel, method, url, request_headers, request_body, \
             verdict, latency_ms, at) VALUES ($1, 'inventory', $2, 'GET', '/', '[]', '', $3, 0, 0)",
        )
        .bind(contract::LogEntryId::new().to_string())
        .bind(channel)
        .bind(verdict)
        .execute(db.writer())
    };
    assert!(insert("feed", "nothing_new").await.is_ok());
    assert!(insert("fax", "applied").await.is_err(), "an unknown channel");
    assert!(insert("feed", "empty: 3 orders").await.is_err(), "a verdict's words belong in verdict_detail");
});
