//! **poll mode — pull, initiated by the inventory.** The store's side: the
//! order feed the inventory reads, and the acknowledgement it sends back.
//!
//! In poll mode the store does nothing when an order is placed. The order
//! simply *exists*, and the inventory comes asking — every few seconds —
//! `GET /api/orders?after=CURSOR&limit=N`, oldest first, following
//! `iterator` until `done`. It is the integration with the fewest moving
//! parts on the producer's side (no outbox, no retries, no endpoint
//! registry: a failed poll is simply repeated) and the most waste (most
//! polls find nothing) and latency (up to one interval) on the consumer's —
//! both of which long polling (`wait=SECONDS`, [`wait`]) takes away, for a
//! connection held open per consumer.
//!
//! **The cursor cannot skip an order.** The naive cursor — "orders with an
//! id (or a sequence number) greater than the last one I saw" — loses
//! orders under concurrency: transaction A takes number 7, transaction B
//! takes 8 and commits first, a poll sees 8 and moves its cursor past 7,
//! then A commits 7 behind the cursor, never to be read. The fix here is to
//! make numbers be handed out *in commit order*: each order takes its
//! `feed_seq` by incrementing the single row of `feed_sequence` inside its
//! own transaction. That row stays locked until the transaction commits, so
//! the next order cannot take a number until the previous one is visible.
//! (On SQLite, which has one writer at a time, this holds trivially.) The
//! price is that order inserts are serialised on that row — a few
//! milliseconds each, far below what a shop of this size needs. The roads
//! not taken: PostgreSQL's `pg_snapshot_xmin` / `xid8` (only expose rows
//! older than the oldest running transaction: precise but not portable), or
//! re-reading a trailing window and de-duplicating on the consumer.
//!
//! **The acknowledgement closes the loop.** Nobody pushed the order, so the
//! store learns what happened to it when the inventory reports back —
//! `POST /api/orders/{id}/acknowledgement`, or a whole page at once with
//! `POST /api/acknowledgements` ([`page`]) — the pattern marketplaces use
//! for orders their sellers pull — and only for orders placed in poll mode:
//! each channel resolves its own mode's orders, no other. Both endpoints
//! want the store's API key (`crate::api_keys`), checked before the query
//! or the body is read, and both are logged in the message log as the
//! inventory's requests (their thin HTTP handlers are `crate::routes::feed`).
//!
//! Seen in the UI: the flow page shows each poll arrive at the store on the
//! inventory's timer (including the empty ones); an order's timeline shows
//! the feed read that carried it and the acknowledgement.

pub mod page;
pub mod wait;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sqlx::AnyConnection;

use contract::inventory::{Acknowledged, Acknowledgement};
use contract::order::FeedPage;
use contract::{IntegrationMode, OrderId};

use crate::context::Context;
use crate::error::StoreError;
use crate::orders::{self, ORDER_COLUMNS, OrderRow};

pub const DEFAULT_PAGE: i64 = 50;
pub const MAX_PAGE: i64 = 200;

#[derive(sqlx::FromRow)]
struct LastValue {
    last_value: i64,
}

/// Takes the next `n` feed numbers and returns the first (the others
/// follow it). Must run inside the orders' transaction — for every order,
/// whatever its mode: the feed lists them all. See the module comment for
/// why the row lock is the point.
pub async fn take_feed_seqs(conn: &mut AnyConnection, n: usize) -> Result<i64, sqlx::Error> {
    let row: LastValue = sqlx::query_as(
        "UPDATE feed_sequence SET last_value = last_value + $1 WHERE id = 1 RETURNING last_value",
    )
    .bind(n as i64)
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.last_value - n as i64 + 1)
}

/// A position in the feed. Opaque to clients (`c1.<base64>`), so the
/// representation can change without breaking them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor(pub i64);

impl Cursor {
    pub const START: Cursor = Cursor(0);

    pub fn encode(self) -> String {
        format!("c1.{}", URL_SAFE_NO_PAD.encode(self.0.to_string()))
    }

    pub fn decode(text: &str) -> Result<Cursor, StoreError> {
        let bad = || {
            StoreError::bad_request(format!(
                "`after` is not a cursor this feed issued (`{}`); pass back the `iterator` \
                 of the previous page, or omit `after` to start from the beginning",
                text.chars().take(64).collect::<String>()
            ))
        };
        let payload = text.strip_prefix("c1.").ok_or_else(bad)?;
        let bytes = URL_SAFE_NO_PAD.decode(payload).map_err(|_| bad())?;
        let n: i64 = std::str::from_utf8(&bytes)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(bad)?;
        if n < 0 {
            return Err(bad());
        }
        Ok(Cursor(n))
    }
}

/// Validates `limit`: 1 to [`MAX_PAGE`], default [`DEFAULT_PAGE`].
pub fn page_size(limit: Option<i64>) -> Result<i64, StoreError> {
    match limit {
        None => Ok(DEFAULT_PAGE),
        Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
        Some(n) => Err(StoreError::bad_request(format!(
            "`limit` must be between 1 and {MAX_PAGE} (got {n})"
        ))),
    }
}

/// One page of the feed after `cursor`: every order, or only those placed
/// in `mode` (hybrid's reconciliation reads only hybrid orders). Filtering
/// keeps the cursor sound: positions are still handed out in commit order,
/// and the page's `iterator` is its last order's position.
pub async fn read_feed(
    ctx: &Context,
    cursor: Cursor,
    limit: i64,
    mode: Option<IntegrationMode>,
) -> Result<FeedPage, StoreError> {
    // One more than asked: if it exists, there is more to read.
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ORDER_COLUMNS} FROM orders o WHERE o.feed_seq > $1 AND ($3 IS NULL OR o.mode = $3) \
         ORDER BY o.feed_seq LIMIT $2"
    ));
    let mut rows: Vec<OrderRow> = sqlx::query_as(sql)
        .bind(cursor.0)
        .bind(limit + 1)
        .bind(mode.map(IntegrationMode::as_str))
        .fetch_all(ctx.db.pool())
        .await?;
    let done = rows.len() as i64 <= limit;
    rows.truncate(limit as usize);
    let last = rows.last().map_or(cursor, |row| Cursor(row.feed_seq));
    let data = orders::with_lines(&ctx.db, rows).await?;
    ctx.metrics.feed_reads.inc();
    Ok(FeedPage {
        data,
        iterator: last.encode(),
        done,
    })
}

/// Records what the inventory did with an order it pulled. Only a
/// poll-mode order — or a hybrid one, which its reconciliation may land —
/// is the feed's to resolve: a webhook order is resolved by the
/// inventory's answer to its webhook, an api order by the answer to the
/// call — an acknowledgement for one of those is a `409` and changes
/// nothing (otherwise the two channels could decide one order differently,
/// for good).
pub async fn acknowledge(
    ctx: &Context,
    order_id: &OrderId,
    ack: &Acknowledgement,
) -> Result<Acknowledged, StoreError> {
    let order = orders::get_order(&ctx.db, order_id)
        .await?
        .ok_or_else(|| StoreError::not_found("order", order_id.as_str()))?;
    let resolver = match order.mode {
        IntegrationMode::Poll | IntegrationMode::Hybrid => None,
        IntegrationMode::Webhook => Some("webhook"),
        IntegrationMode::Api => Some("call to /update_inventory"),
    };
    if let Some(resolver) = resolver {
        return Err(StoreError::conflict(format!(
            "order {order_id} was placed in {} mode: its {resolver} resolves it, not an \
             acknowledgement (only poll and hybrid orders are acknowledged)",
            order.mode,
        )));
    }
    let (status, reason) = orders::resolution(ack.outcome, ack.reason.clone());
    let mut conn = ctx.db.writer().acquire().await?;
    let changed = orders::resolve(
        &mut conn,
        order.mode,
        order_id,
        status,
        reason.as_deref(),
        ctx.clock.now(),
    )
    .await?;
    drop(conn);
    ctx.metrics.acknowledgements.inc();
    if changed {
        orders::announce_resolution(ctx, order_id, order.mode, status, reason.as_deref());
    }
    // Repeated acknowledgements are fine: the first answer decided.
    Ok(Acknowledged {
        order: orders::get_order(&ctx.db, order_id).await?.unwrap_or(order),
        duplicate: !changed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_forgeries() {
        for n in [0, 1, 42, i64::MAX] {
            assert_eq!(Cursor::decode(&Cursor(n).encode()).unwrap(), Cursor(n));
        }
        for bad in [
            "", "42", "c1.", "c1.!!", "c2.NDI", "c1.LTE",  /* -1 */
            "c1.YWJj", /* abc */
        ] {
            assert!(Cursor::decode(bad).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        /// Whatever arrives as `after`: a cursor this feed issued, or a
        /// `400` that says how to get one — never a panic.
        #[test]
        fn any_after_is_a_cursor_or_a_clear_400(text in proptest::prelude::any::<String>()) {
            match Cursor::decode(&text) {
                Ok(cursor) => {
                    proptest::prop_assert!(cursor.0 >= 0);
                    proptest::prop_assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
                }
                Err(e) => {
                    let problem = e.problem();
                    proptest::prop_assert_eq!(problem.status, 400);
                    proptest::prop_assert!(problem.detail.unwrap().contains("iterator"));
                }
            }
        }

        #[test]
        fn every_position_round_trips(n in 0..i64::MAX) {
            proptest::prop_assert_eq!(Cursor::decode(&Cursor(n).encode()).unwrap(), Cursor(n));
        }
    }

    #[test]
    fn page_sizes_are_bounded() {
        assert_eq!(page_size(None).unwrap(), DEFAULT_PAGE);
        assert_eq!(page_size(Some(1)).unwrap(), 1);
        assert_eq!(page_size(Some(MAX_PAGE)).unwrap(), MAX_PAGE);
        assert!(page_size(Some(0)).is_err());
        assert!(page_size(Some(MAX_PAGE + 1)).is_err());
        assert!(page_size(Some(-1)).is_err());
    }
}
