//! The order record: writing an order and its lines, reading orders back,
//! and resolving a pending order to its final status.
//!
//! This module knows nothing of *how* an order reaches the inventory — it
//! imports no integration. Placing an order is [`crate::checkout`]; each
//! integration (`crate::integration::{webhook, api, poll}`) learns the
//! inventory's answer in its own way and comes here to [`resolve`] the
//! order. The first answer wins: a pending order moves once, and a late or
//! duplicate answer from any channel cannot flip it.

use std::collections::{BTreeMap, HashMap, HashSet};

use sqlx::AnyConnection;

use contract::order::{Customer, Order, OrderLine};
use contract::{ApplyOutcome, IntegrationMode, OrderId, OrderStatus, Quantity, Sku, Timestamp};
use platform::Db;
use platform::db::{rows_per_statement, value_rows};
use platform::group_commit::Batch;

use crate::context::{Context, ModeLabels, ModeStatusLabels};

/// Writes new orders and their lines, one statement per table. Runs
/// inside the orders' transaction (see [`crate::checkout`]); their places
/// in the pull feed are `first_feed_seq` and the numbers after it, in order.
pub async fn insert_all(
    conn: &mut AnyConnection,
    orders: &[Order],
    first_feed_seq: i64,
) -> Result<(), sqlx::Error> {
    let numbered: Vec<(&Order, i64)> = orders.iter().zip(first_feed_seq..).collect();
    for chunk in numbered.chunks(rows_per_statement(9)) {
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO orders (id, feed_seq, status, mode, customer_name, customer_email, \
             total_cents, created_at, updated_at) VALUES {}",
            value_rows(9, chunk.len())
        ));
        let mut query = sqlx::query(sql);
        for (order, feed_seq) in chunk {
            query = query
                .bind(order.id.as_str())
                .bind(*feed_seq)
                .bind(order.status.as_str())
                .bind(order.mode.as_str())
                .bind(&order.customer.name)
                .bind(&order.customer.email)
                .bind(order.total_cents)
                .bind(order.created_at.millis())
                .bind(order.created_at.millis());
        }
        query.execute(&mut *conn).await?;
    }
    let lines: Vec<(&Order, usize, &OrderLine)> = orders
        .iter()
        .flat_map(|o| o.items.iter().enumerate().map(move |(n, l)| (o, n, l)))
        .collect();
    for chunk in lines.chunks(rows_per_statement(6)) {
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO order_lines (order_id, line_no, sku, name, quantity, unit_price_cents) VALUES {}",
            value_rows(6, chunk.len())
        ));
        let mut query = sqlx::query(sql);
        for (order, n, line) in chunk {
            query = query
                .bind(order.id.as_str())
                .bind(*n as i64)
                .bind(line.sku.as_str())
                .bind(&line.name)
                .bind(line.quantity.as_i64())
                .bind(line.unit_price_cents);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Moves a pending order to its final status. Returns false (and changes
/// nothing) if it was no longer pending: the first channel to resolve an
/// order wins, and a late or duplicate answer cannot flip it. `mode` is the
/// channel's: an order placed in another mode is not its to resolve, and
/// is left as it is (an acknowledgement must not confirm a
/// webhook order the inventory later backorders).
pub async fn resolve(
    conn: &mut AnyConnection,
    mode: IntegrationMode,
    order_id: &OrderId,
    status: OrderStatus,
    reason: Option<&str>,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE orders SET status = $1, status_reason = $2, updated_at = $3, resolved_at = $3 \
         WHERE id = $4 AND status = $5 AND mode = $6",
    )
    .bind(status.as_str())
    .bind(reason)
    .bind(now.millis())
    .bind(order_id.as_str())
    .bind(OrderStatus::Pending.as_str())
    .bind(mode.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// One order to resolve, for [`resolve_all`].
#[derive(Debug, Clone)]
pub struct Resolution<'a> {
    pub order_id: &'a OrderId,
    pub status: OrderStatus,
    pub reason: Option<&'a str>,
}

/// [`resolve`] for many orders at once: one statement per distinct status
/// and reason (usually one). Returns the orders it moved; the others were
/// no longer pending.
pub async fn resolve_all(
    conn: &mut AnyConnection,
    mode: IntegrationMode,
    resolutions: &[Resolution<'_>],
    now: Timestamp,
) -> Result<HashSet<OrderId>, sqlx::Error> {
    // (status, reason) → the orders that take it.
    type Group<'a> = (&'a str, Option<&'a str>);
    let mut groups: BTreeMap<Group, Vec<&OrderId>> = BTreeMap::new();
    for r in resolutions {
        groups
            .entry((r.status.as_str(), r.reason))
            .or_default()
            .push(r.order_id);
    }
    let mut moved = HashSet::new();
    let mut statements: Vec<(Group, &[&OrderId])> = Vec::new();
    for (group, ids) in &groups {
        for chunk in ids.chunks(platform::db::MAX_BINDS_PER_STATEMENT) {
            statements.push((*group, chunk));
        }
    }
    for ((status, reason), ids) in statements {
        let sql = sqlx::AssertSqlSafe(format!(
            "UPDATE orders SET status = $1, status_reason = $2, updated_at = $3, resolved_at = $3 \
             WHERE status = $4 AND mode = $5 AND id IN ({}) RETURNING id",
            platform::db::placeholders(6, ids.len())
        ));
        let mut query = sqlx::query_as::<_, MovedRow>(sql)
            .bind(status)
            .bind(reason)
            .bind(now.millis())
            .bind(OrderStatus::Pending.as_str())
            .bind(mode.as_str());
        for id in ids {
            query = query.bind(id.as_str());
        }
        moved.extend(query.fetch_all(&mut *conn).await?.into_iter().map(|r| r.id));
    }
    Ok(moved)
}

#[derive(sqlx::FromRow)]
struct MovedRow {
    #[sqlx(try_from = "String")]
    id: OrderId,
}

/// What the inventory's outcome for a pushed or pulled order makes of it,
/// with words for the customer (the inventory's own, when it gave some).
pub fn resolution(outcome: ApplyOutcome, reason: Option<String>) -> (OrderStatus, Option<String>) {
    match outcome {
        ApplyOutcome::Applied => (OrderStatus::Confirmed, None),
        ApplyOutcome::Backordered => (
            OrderStatus::Backordered,
            Some(reason.unwrap_or_else(|| {
                "Accepted, but the inventory is short: it will ship when restocked.".into()
            })),
        ),
        ApplyOutcome::Rejected | ApplyOutcome::Voided => (
            OrderStatus::Rejected,
            Some(reason.unwrap_or_else(|| "The inventory refused the order.".into())),
        ),
    }
}

/// After a placement committed: count it and tell the browsers.
pub fn announce_placed(ctx: &Context, order: &Order) {
    ctx.metrics
        .orders_placed
        .get_or_create(&ModeLabels {
            mode: order.mode.to_string(),
        })
        .inc();
    ctx.live
        .publish(contract::LiveEventKind::OrderCreated, summary(order));
    tracing::info!(order_id = %order.id, mode = %order.mode, total_cents = order.total_cents, "order placed");
}

/// After a resolution committed: count it and tell the browsers.
pub fn announce_resolution(
    ctx: &Context,
    order_id: &OrderId,
    mode: IntegrationMode,
    status: OrderStatus,
    reason: Option<&str>,
) {
    ctx.metrics
        .orders_resolved
        .get_or_create(&ModeStatusLabels {
            mode: mode.to_string(),
            status: status.to_string(),
        })
        .inc();
    ctx.live.publish(
        contract::LiveEventKind::OrderUpdated,
        crate::live::OrderUpdatedData {
            id: order_id.clone(),
            status,
            mode,
            status_reason: reason.map(str::to_owned),
        },
    );
    tracing::info!(%order_id, %status, reason, "order resolved");
}

/// What the live views need to draw a new order.
pub fn summary(order: &Order) -> crate::live::OrderCreatedData {
    crate::live::OrderCreatedData {
        id: order.id.clone(),
        status: order.status,
        mode: order.mode,
        customer: order.customer.name.clone(),
        total_cents: order.total_cents,
        created_at: order.created_at,
        items: order
            .items
            .iter()
            .map(|l| contract::order::LineItem {
                sku: l.sku.clone(),
                quantity: l.quantity,
            })
            .collect(),
    }
}

/// The columns an [`OrderRow`] reads, from `orders o`.
pub(crate) const ORDER_COLUMNS: &str = "o.id, o.feed_seq, o.status, o.mode, o.customer_name, \
    o.customer_email, o.total_cents, o.status_reason, o.created_at";

/// An `orders` row, selected with [`ORDER_COLUMNS`]; its lines come apart.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct OrderRow {
    #[sqlx(try_from = "String")]
    pub id: OrderId,
    /// Its place in the pull feed (see `integration::poll`).
    pub feed_seq: i64,
    #[sqlx(try_from = "String")]
    pub status: OrderStatus,
    #[sqlx(try_from = "String")]
    pub mode: IntegrationMode,
    pub customer_name: String,
    pub customer_email: String,
    pub total_cents: i64,
    pub status_reason: Option<String>,
    #[sqlx(try_from = "i64")]
    pub created_at: Timestamp,
}

impl OrderRow {
    fn with_lines(self, items: Vec<OrderLine>) -> Order {
        Order {
            id: self.id,
            status: self.status,
            mode: self.mode,
            customer: Customer {
                name: self.customer_name,
                email: self.customer_email,
            },
            items,
            total_cents: self.total_cents,
            created_at: self.created_at,
            status_reason: self.status_reason,
        }
    }
}

/// An `order_lines` row.
#[derive(sqlx::FromRow)]
struct LineRow {
    #[sqlx(try_from = "String")]
    order_id: OrderId,
    sku: String,
    name: String,
    quantity: i64,
    unit_price_cents: i64,
}

impl TryFrom<LineRow> for OrderLine {
    type Error = sqlx::Error;

    fn try_from(row: LineRow) -> Result<OrderLine, sqlx::Error> {
        let invalid = |column: &str, e: contract::ParseError| sqlx::Error::ColumnDecode {
            index: column.to_owned(),
            source: Box::new(e),
        };
        Ok(OrderLine {
            sku: Sku::parse(&row.sku).map_err(|e| invalid("sku", e))?,
            name: row.name,
            quantity: Quantity::parse(row.quantity).map_err(|e| invalid("quantity", e))?,
            unit_price_cents: row.unit_price_cents,
            line_total_cents: row.unit_price_cents * row.quantity,
        })
    }
}

pub async fn get_order(db: &Db, order_id: &OrderId) -> Result<Option<Order>, sqlx::Error> {
    let mut found = get_orders(db, std::slice::from_ref(order_id)).await?;
    Ok(found.pop().flatten())
}

/// The orders `ids`, in their order (`None` for one that does not exist).
/// One statement for them all, each order repeated on each of its lines:
/// hybrid mode reads every order once more (the inventory's fetch), and on
/// SQLite each statement is a trip to a connection's worker thread — two
/// reads per order, or one per order where one per crowd will do, cost
/// trips for the same few rows ([`OrderReads`]).
pub async fn get_orders(db: &Db, ids: &[OrderId]) -> Result<Vec<Option<Order>>, sqlx::Error> {
    let mut found: HashMap<OrderId, (OrderRow, Vec<OrderLine>)> = HashMap::new();
    for chunk in ids.chunks(platform::db::MAX_BINDS_PER_STATEMENT) {
        // The ids are named twice, for the lines too (the same `$n`s), so
        // the lines are read by their key whatever the planner knows: on
        // PostgreSQL, just after 200,000 orders were loaded and before any
        // statistics, the join alone was planned as a hash join over every
        // line — 56 ms a read instead of 0.2.
        let ids_sql = platform::db::placeholders(1, chunk.len());
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {ORDER_COLUMNS}, l.sku AS line_sku, l.name AS line_name, \
             l.quantity AS line_quantity, l.unit_price_cents AS line_unit_price_cents \
             FROM orders o LEFT JOIN order_lines l ON l.order_id = o.id AND l.order_id IN ({ids_sql}) \
             WHERE o.id IN ({ids_sql}) ORDER BY o.id, l.line_no"
        ));
        let mut query = sqlx::query_as::<_, OrderAndLineRow>(sql);
        for id in chunk {
            query = query.bind(id.as_str());
        }
        for row in query.fetch_all(db.pool()).await? {
            let (order, line) = (row.order, row.line);
            let line = line.into_line(&order.id)?;
            let (_, lines) = found
                .entry(order.id.clone())
                .or_insert_with(|| (order, Vec::new()));
            lines.extend(line);
        }
    }
    let found: HashMap<OrderId, Order> = found
        .into_iter()
        .map(|(id, (order, lines))| (id, order.with_lines(lines)))
        .collect();
    // Cloned rather than moved: two fetches of one order may share a batch.
    Ok(ids.iter().map(|id| found.get(id).cloned()).collect())
}

/// Reads orders by id, many per statement: the reads that arrive while one
/// is under way share the next (`platform::group_commit`'s leader and
/// followers — a read batched instead of a write; nothing is written, so a
/// failed batch only means each read is tried alone). In hybrid mode every
/// order is fetched once by the inventory, thirty-two customers at once
/// mean thirty-two fetches at once, and on SQLite each statement is a hop
/// to a connection's worker thread and back: one hop for the crowd instead
/// of one each. A fetch alone is read at once, as a batch of one.
pub struct OrderReads {
    db: Db,
}

impl OrderReads {
    pub fn new(db: Db) -> OrderReads {
        OrderReads { db }
    }
}

impl Batch for OrderReads {
    type Job = OrderId;
    type Done = Option<Order>;
    type Error = sqlx::Error;

    const MOST: usize = platform::db::MAX_BINDS_PER_STATEMENT;

    async fn write_together(&self, ids: &[OrderId]) -> Result<Vec<Option<Order>>, sqlx::Error> {
        get_orders(&self.db, ids).await
    }
}

/// An order's row beside one of its lines ([`get_order`]'s join).
#[derive(sqlx::FromRow)]
struct OrderAndLineRow {
    #[sqlx(flatten)]
    order: OrderRow,
    #[sqlx(flatten)]
    line: JoinedLine,
}

/// A line as the join gives it: all `NULL` for an order without lines.
#[derive(sqlx::FromRow)]
struct JoinedLine {
    line_sku: Option<String>,
    line_name: Option<String>,
    line_quantity: Option<i64>,
    line_unit_price_cents: Option<i64>,
}

impl JoinedLine {
    fn into_line(self, order_id: &OrderId) -> Result<Option<OrderLine>, sqlx::Error> {
        let (Some(sku), Some(name), Some(quantity), Some(unit_price_cents)) = (
            self.line_sku,
            self.line_name,
            self.line_quantity,
            self.line_unit_price_cents,
        ) else {
            return Ok(None);
        };
        let row = LineRow {
            order_id: order_id.clone(),
            sku,
            name,
            quantity,
            unit_price_cents,
        };
        row.try_into().map(Some)
    }
}

/// Orders for the UI's list, newest first, optionally one status only.
pub async fn recent_orders(
    db: &Db,
    status: Option<OrderStatus>,
    limit: i64,
) -> Result<Vec<Order>, sqlx::Error> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ORDER_COLUMNS} FROM orders o WHERE ($2 IS NULL OR o.status = $2) \
         ORDER BY o.feed_seq DESC LIMIT $1"
    ));
    let rows = sqlx::query_as(sql)
        .bind(limit)
        .bind(status.map(OrderStatus::as_str))
        .fetch_all(db.pool())
        .await?;
    with_lines(db, rows).await
}

/// Attaches lines to a batch of order rows in one query.
pub(crate) async fn with_lines(db: &Db, rows: Vec<OrderRow>) -> Result<Vec<Order>, sqlx::Error> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    // One placeholder per order: portable, and bounded by the page size.
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT order_id, sku, name, quantity, unit_price_cents FROM order_lines \
         WHERE order_id IN ({}) ORDER BY order_id, line_no",
        platform::db::placeholders(1, rows.len())
    ));
    let mut query = sqlx::query_as::<_, LineRow>(sql);
    for row in &rows {
        query = query.bind(row.id.as_str());
    }
    let mut by_order: HashMap<OrderId, Vec<OrderLine>> = HashMap::new();
    for line in query.fetch_all(db.pool()).await? {
        by_order
            .entry(line.order_id.clone())
            .or_default()
            .push(line.try_into()?);
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let lines = by_order.remove(&row.id).unwrap_or_default();
            row.with_lines(lines)
        })
        .collect())
}

/// How many orders stand in each status, for the UI's headline numbers.
#[derive(Debug, Clone, Default)]
pub struct StatusCounts(HashMap<OrderStatus, i64>);

impl StatusCounts {
    pub fn of(&self, status: OrderStatus) -> i64 {
        self.0.get(&status).copied().unwrap_or(0)
    }

    pub fn total(&self) -> i64 {
        self.0.values().sum()
    }
}

#[derive(sqlx::FromRow)]
struct StatusCountRow {
    #[sqlx(try_from = "String")]
    status: OrderStatus,
    n: i64,
}

pub async fn status_counts(db: &Db) -> Result<StatusCounts, sqlx::Error> {
    let rows: Vec<StatusCountRow> =
        sqlx::query_as("SELECT status, COUNT(*) AS n FROM orders GROUP BY status")
            .fetch_all(db.pool())
            .await?;
    Ok(StatusCounts(
        rows.into_iter().map(|r| (r.status, r.n)).collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inventory_outcome_decides_the_status_and_its_words() {
        assert_eq!(
            resolution(ApplyOutcome::Applied, Some("ignored".into())),
            (OrderStatus::Confirmed, None)
        );
        let (status, reason) = resolution(ApplyOutcome::Backordered, None);
        assert_eq!(status, OrderStatus::Backordered);
        assert!(reason.unwrap().contains("short"));
        assert_eq!(
            resolution(ApplyOutcome::Voided, Some("withdrawn".into())),
            (OrderStatus::Rejected, Some("withdrawn".into()))
        );
    }
}
