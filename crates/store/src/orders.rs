//! Placing an order, and reading and resolving orders.
//!
//! [`place_order`] is where the three integration modes part ways, and the
//! one place that must never half-happen. Everything the store knows about a
//! new order — the order, its lines, its idempotency key, its place in the
//! feed and, in webhook mode, its outbox event — is written in **one
//! transaction**. Only after that commits does the store talk to anyone:
//!
//! * webhook: wake the dispatcher (`integration::webhook`), answer `pending`;
//! * api: call the inventory now (`integration::api`), answer `confirmed`
//!   or `rejected`;
//! * poll: nothing; the inventory will find it in the feed
//!   (`integration::poll`), answer `pending`.
//!
//! Committing before calling out is the rule that makes crashes harmless: a
//! crash before the commit leaves nothing; a crash after it leaves a
//! recorded order whose outbox event, feed entry or pending api call is
//! picked up again on restart.

use serde::Serialize;
use sqlx::{AnyConnection, Row};

use contract::order::{Customer, Order, OrderLine};
use contract::{FieldError, IntegrationMode, OrderId, OrderStatus, Quantity, Sku, Timestamp};
use platform::new_id;

use crate::domain::ValidOrder;
use crate::error::StoreError;
use crate::integration;
use crate::state::{AppState, ModeLabels, ModeStatusLabels};
use platform::ApiError;

/// The longest `Idempotency-Key` accepted (Stripe allows 255).
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// A placed order, and whether it is a replay of an earlier request with
/// the same `Idempotency-Key`.
#[derive(Debug, Clone)]
pub struct Placed {
    pub order: Order,
    pub replayed: bool,
}

/// Checks an `Idempotency-Key` header value: 1 to 255 visible ASCII
/// characters (a UUID is the usual choice).
pub fn parse_idempotency_key(raw: &str) -> Result<String, StoreError> {
    let ok = !raw.is_empty()
        && raw.len() <= MAX_IDEMPOTENCY_KEY_LEN
        && raw.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(StoreError::bad_request(format!(
            "Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_LEN} visible ASCII characters"
        )))
    }
}

/// Places an order under the store's current integration mode.
pub async fn place_order(
    app: &AppState,
    request: ValidOrder,
    idempotency_key: Option<&str>,
) -> Result<Placed, StoreError> {
    let fingerprint = request.fingerprint();
    if let Some(key) = idempotency_key
        && let Some(placed) = replay(app, key, &fingerprint).await?
    {
        return Ok(placed);
    }

    let now = app.clock.now_ms();
    let order_id = OrderId::parse(&new_id("ord")).expect("minted ids are valid");
    let mut tx = app.db.begin_write().await?;

    // Read inside the transaction: an order is placed entirely before or
    // entirely after a mode switch, never half in each mode.
    let mode = integration::current_mode(&mut tx).await?;

    // Price every line from the catalog, in one query.
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT sku, name, price_cents FROM products WHERE sku IN ({})",
        platform::db::placeholders(1, request.items.len())
    ));
    let mut query = sqlx::query(sql);
    for item in &request.items {
        query = query.bind(item.sku.as_str());
    }
    let mut catalog = std::collections::HashMap::new();
    for row in query.fetch_all(&mut *tx).await? {
        let sku: String = row.try_get("sku")?;
        catalog.insert(
            sku,
            (
                row.try_get::<String, _>("name")?,
                row.try_get::<i64, _>("price_cents")?,
            ),
        );
    }
    let mut lines = Vec::with_capacity(request.items.len());
    let mut unknown = Vec::new();
    for (i, item) in request.items.iter().enumerate() {
        match catalog.remove(item.sku.as_str()) {
            Some((name, unit)) => lines.push(OrderLine {
                sku: item.sku.clone(),
                name,
                quantity: item.quantity,
                unit_price_cents: unit,
                line_total_cents: unit * item.quantity.as_i64(),
            }),
            None => unknown.push(FieldError::new(
                format!("items[{i}].sku"),
                format!("there is no product with SKU {}", item.sku),
            )),
        }
    }
    if !unknown.is_empty() {
        tx.rollback().await?;
        return Err(StoreError::validation(unknown));
    }

    let order = Order {
        id: order_id,
        status: OrderStatus::Pending,
        mode,
        customer: request.customer,
        total_cents: lines.iter().map(|l| l.line_total_cents).sum(),
        items: lines,
        created_at: Timestamp(now),
        status_reason: None,
    };

    let feed_seq = integration::poll::next_feed_seq(&mut tx).await?;
    insert_order(&mut tx, &order, feed_seq).await?;

    if let Some(key) = idempotency_key {
        let claimed = sqlx::query(
            "INSERT INTO idempotency_keys (idempotency_key, request_hash, order_id, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (idempotency_key) DO NOTHING \
             RETURNING idempotency_key",
        )
        .bind(key)
        .bind(&fingerprint)
        .bind(order.id.as_str())
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        if claimed.is_none() {
            // A concurrent request with the same key committed first: this
            // one becomes a replay of it, and writes nothing.
            tx.rollback().await?;
            return replay(app, key, &fingerprint)
                .await?
                .ok_or(StoreError::IdempotencyKeyInFlight);
        }
    }

    if mode == IntegrationMode::Webhook {
        integration::webhook::enqueue_order_created(&mut tx, &order, now).await?;
    }
    tx.commit().await?;

    app.metrics
        .orders_placed
        .get_or_create(&ModeLabels {
            mode: mode.to_string(),
        })
        .inc();
    app.live.publish("order.created", summary(&order));
    tracing::info!(order_id = %order.id, %mode, total_cents = order.total_cents, "order placed");

    let order = match mode {
        IntegrationMode::Webhook => {
            app.dispatcher_wake.notify_one();
            order
        }
        IntegrationMode::Api => integration::api::confirm_with_inventory(app, order).await?,
        IntegrationMode::Poll => order,
    };
    Ok(Placed {
        order,
        replayed: false,
    })
}

/// The first answer for an `Idempotency-Key`, if the key was seen before.
async fn replay(
    app: &AppState,
    key: &str,
    fingerprint: &str,
) -> Result<Option<Placed>, StoreError> {
    let row = sqlx::query(
        "SELECT order_id, request_hash FROM idempotency_keys WHERE idempotency_key = $1",
    )
    .bind(key)
    .fetch_optional(app.db.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let hash: String = row.try_get("request_hash")?;
    if hash != fingerprint {
        return Err(ApiError::IdempotencyKeyReused.into());
    }
    let order_id: String = row.try_get("order_id")?;
    let order = get_order(&app.db, &order_id)
        .await?
        .ok_or_else(|| StoreError::not_found("order", &order_id))?;
    // In api mode the first request answers only once the inventory has;
    // until then there is no "first answer" to repeat.
    if order.mode == IntegrationMode::Api && order.status == OrderStatus::Pending {
        return Err(StoreError::IdempotencyKeyInFlight);
    }
    Ok(Some(Placed {
        order,
        replayed: true,
    }))
}

async fn insert_order(
    conn: &mut AnyConnection,
    order: &Order,
    feed_seq: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO orders (id, feed_seq, status, mode, customer_name, customer_email, \
         total_cents, status_reason, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8, $8)",
    )
    .bind(order.id.as_str())
    .bind(feed_seq)
    .bind(order.status.as_str())
    .bind(order.mode.as_str())
    .bind(&order.customer.name)
    .bind(&order.customer.email)
    .bind(order.total_cents)
    .bind(order.created_at.millis())
    .execute(&mut *conn)
    .await?;
    let sql = sqlx::AssertSqlSafe(format!(
        "INSERT INTO order_lines (order_id, line_no, sku, name, quantity, unit_price_cents) VALUES {}",
        platform::db::value_rows(6, order.items.len())
    ));
    let mut query = sqlx::query(sql);
    for (n, line) in order.items.iter().enumerate() {
        query = query
            .bind(order.id.as_str())
            .bind(n as i64)
            .bind(line.sku.as_str())
            .bind(&line.name)
            .bind(line.quantity.as_i64())
            .bind(line.unit_price_cents);
    }
    query.execute(&mut *conn).await?;
    Ok(())
}

/// Moves a pending order to its final status. Returns false (and changes
/// nothing) if it was no longer pending: the first channel to resolve an
/// order wins, and a late or duplicate answer cannot flip it.
pub async fn resolve(
    conn: &mut AnyConnection,
    order_id: &str,
    status: OrderStatus,
    reason: Option<&str>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE orders SET status = $1, status_reason = $2, updated_at = $3, resolved_at = $3 \
         WHERE id = $4 AND status = 'pending'",
    )
    .bind(status.as_str())
    .bind(reason)
    .bind(now)
    .bind(order_id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// After a resolution committed: count it and tell the browsers.
pub fn announce_resolution(
    app: &AppState,
    order_id: &str,
    mode: IntegrationMode,
    status: OrderStatus,
    reason: Option<&str>,
) {
    app.metrics
        .orders_resolved
        .get_or_create(&ModeStatusLabels {
            mode: mode.to_string(),
            status: status.to_string(),
        })
        .inc();
    app.live.publish(
        "order.updated",
        serde_json::json!({"id": order_id, "status": status, "mode": mode, "status_reason": reason}),
    );
    tracing::info!(order_id, %status, reason, "order resolved");
}

/// What the live views need to draw a new order.
pub fn summary(order: &Order) -> serde_json::Value {
    serde_json::json!({
        "id": order.id,
        "status": order.status,
        "mode": order.mode,
        "customer": order.customer.name,
        "total_cents": order.total_cents,
        "created_at": order.created_at,
        "items": order.items.iter().map(|l| serde_json::json!({"sku": l.sku, "quantity": l.quantity})).collect::<Vec<_>>(),
    })
}

pub(crate) const ORDER_COLUMNS: &str = "o.id, o.feed_seq, o.status, o.mode, o.customer_name, \
    o.customer_email, o.total_cents, o.status_reason, o.created_at";

fn decode_error(what: &str, e: contract::domain::ParseError) -> sqlx::Error {
    sqlx::Error::Decode(format!("stored {what} is invalid: {e}").into())
}

/// Builds an order from an `orders` row (selected with [`ORDER_COLUMNS`])
/// and its lines.
pub(crate) fn order_from_row(
    row: &sqlx::any::AnyRow,
    items: Vec<OrderLine>,
) -> Result<Order, sqlx::Error> {
    let id: String = row.try_get("id")?;
    let status: String = row.try_get("status")?;
    let mode: String = row.try_get("mode")?;
    Ok(Order {
        id: OrderId::parse(&id).map_err(|e| decode_error("order id", e))?,
        status: OrderStatus::parse(&status).map_err(|e| decode_error("status", e))?,
        mode: IntegrationMode::parse(&mode).map_err(|e| decode_error("mode", e))?,
        customer: Customer {
            name: row.try_get("customer_name")?,
            email: row.try_get("customer_email")?,
        },
        items,
        total_cents: row.try_get("total_cents")?,
        created_at: Timestamp(row.try_get("created_at")?),
        status_reason: row.try_get("status_reason")?,
    })
}

pub(crate) fn line_from_row(row: &sqlx::any::AnyRow) -> Result<(String, OrderLine), sqlx::Error> {
    let sku: String = row.try_get("sku")?;
    let quantity: i64 = row.try_get("quantity")?;
    let unit: i64 = row.try_get("unit_price_cents")?;
    Ok((
        row.try_get("order_id")?,
        OrderLine {
            sku: Sku::parse(&sku).map_err(|e| decode_error("sku", e))?,
            name: row.try_get("name")?,
            quantity: Quantity::parse(quantity).map_err(|e| decode_error("quantity", e))?,
            unit_price_cents: unit,
            line_total_cents: unit * quantity,
        },
    ))
}

pub async fn get_order(db: &platform::Db, order_id: &str) -> Result<Option<Order>, sqlx::Error> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ORDER_COLUMNS} FROM orders o WHERE o.id = $1"
    ));
    let Some(row) = sqlx::query(sql)
        .bind(order_id)
        .fetch_optional(db.pool())
        .await?
    else {
        return Ok(None);
    };
    let lines = sqlx::query(
        "SELECT order_id, sku, name, quantity, unit_price_cents FROM order_lines \
         WHERE order_id = $1 ORDER BY line_no",
    )
    .bind(order_id)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| line_from_row(r).map(|(_, l)| l))
    .collect::<Result<Vec<_>, _>>()?;
    order_from_row(&row, lines).map(Some)
}

/// Orders for the UI's list, newest first, optionally one status only.
pub async fn recent_orders(
    db: &platform::Db,
    status: Option<OrderStatus>,
    limit: i64,
) -> Result<Vec<Order>, sqlx::Error> {
    let filter = if status.is_some() {
        "WHERE o.status = $2"
    } else {
        ""
    };
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ORDER_COLUMNS} FROM orders o {filter} ORDER BY o.feed_seq DESC LIMIT $1"
    ));
    let mut query = sqlx::query(sql).bind(limit);
    if let Some(s) = status {
        query = query.bind(s.as_str());
    }
    let rows = query.fetch_all(db.pool()).await?;
    with_lines(db, rows).await
}

/// Attaches lines to a batch of order rows in one query.
pub(crate) async fn with_lines(
    db: &platform::Db,
    rows: Vec<sqlx::any::AnyRow>,
) -> Result<Vec<Order>, sqlx::Error> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = rows
        .iter()
        .map(|r| r.try_get::<String, _>("id"))
        .collect::<Result<_, _>>()?;
    // One placeholder per id: portable, and bounded by the page size.
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT order_id, sku, name, quantity, unit_price_cents FROM order_lines \
         WHERE order_id IN ({}) ORDER BY order_id, line_no",
        platform::db::placeholders(1, ids.len())
    ));
    let mut query = sqlx::query(sql);
    for id in &ids {
        query = query.bind(id);
    }
    let mut by_order: std::collections::HashMap<String, Vec<OrderLine>> =
        std::collections::HashMap::new();
    for row in query.fetch_all(db.pool()).await? {
        let (order_id, line) = line_from_row(&row)?;
        by_order.entry(order_id).or_default().push(line);
    }
    rows.iter()
        .map(|row| {
            let id: String = row.try_get("id")?;
            order_from_row(row, by_order.remove(&id).unwrap_or_default())
        })
        .collect()
}

/// Counts for the UI's headline numbers.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StatusCounts {
    pub pending: i64,
    pub confirmed: i64,
    pub rejected: i64,
    pub backordered: i64,
}

pub async fn status_counts(db: &platform::Db) -> Result<StatusCounts, sqlx::Error> {
    let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM orders GROUP BY status")
        .fetch_all(db.pool())
        .await?;
    let mut counts = StatusCounts::default();
    for row in rows {
        let status: String = row.try_get("status")?;
        let n: i64 = row.try_get("n")?;
        match status.as_str() {
            "pending" => counts.pending = n,
            "confirmed" => counts.confirmed = n,
            "rejected" => counts.rejected = n,
            "backordered" => counts.backordered = n,
            _ => {}
        }
    }
    Ok(counts)
}
