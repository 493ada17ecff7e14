//! Stock, and the one function every channel uses to take it:
//! [`apply_order_once`].
//!
//! Whether an order arrives as an api call, a webhook or a polled feed
//! entry — once, twice, or through two channels after a mode switch — it is
//! applied **at most once**, keyed by its order id. The first arrival
//! inserts the order's row in `applied_orders`; the primary key makes every
//! later arrival find that row and get the first outcome back instead of
//! taking stock again. The row and the stock change are written in the same
//! transaction, so there is no moment at which one exists without the other.
//!
//! Taking stock is **all or nothing** across the order's lines: each line is
//! a conditional decrement (`… SET on_hand = on_hand - q WHERE on_hand >= q`)
//! that cannot go below zero even under concurrency, and if any line falls
//! short the lines already taken are put back in the same transaction. Lines
//! are processed in SKU order so two orders never lock the same rows in
//! opposite orders (which on PostgreSQL would be a deadlock).
//!
//! What happens when stock is short depends on who asked:
//! * **api** — the store is waiting to tell the customer: the answer is
//!   `rejected` (a `409` with the shortages) and the store refuses the order.
//! * **webhook / poll** — the store already accepted the order: it is
//!   recorded as `backordered`, taking nothing, and the store shows it so.

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

use contract::ApplyOutcome;
use contract::inventory::{Shortage, StockLevel, UpdateInventoryResponse};
use contract::order::LineItem;
use contract::{IntegrationMode, OrderId, Problem, Sku};
use platform::new_id;

use crate::error::InventoryError;

/// An order as the inventory needs it, from whichever channel.
#[derive(Debug, Clone)]
pub struct OrderToApply<'a> {
    pub order_id: &'a OrderId,
    pub items: &'a [LineItem],
    /// The channel that brought it: decides what a shortage means.
    pub channel: IntegrationMode,
    /// When the store created it, for the end-to-end latency charts.
    pub order_created_at: Option<i64>,
}

/// What [`apply_order_once`] did (or had done the first time).
#[derive(Debug, Clone)]
pub struct Applied {
    pub outcome: ApplyOutcome,
    /// False when the order had been applied (or refused, or voided) before.
    pub first_time: bool,
    /// The channel of the first arrival.
    pub first_channel: String,
    /// The api answer recorded the first time: status and JSON body.
    pub answer_status: u16,
    pub answer: String,
    /// Stock levels of the order's SKUs after this call.
    pub stock: Vec<StockLevel>,
}

/// Sums quantities per SKU, sorted by SKU (the lock order).
fn per_sku(items: &[LineItem]) -> BTreeMap<Sku, i64> {
    let mut map = BTreeMap::new();
    for item in items {
        *map.entry(item.sku.clone()).or_insert(0) += item.quantity.as_i64();
    }
    map
}

/// A digest of what an order asks for, to catch an id reused for
/// different items.
fn request_hash(items: &BTreeMap<Sku, i64>) -> String {
    let mut h = Sha256::new();
    for (sku, q) in items {
        h.update(sku.as_str().as_bytes());
        h.update(b":");
        h.update(q.to_string().as_bytes());
        h.update(b";");
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Serialize, serde::Deserialize)]
struct StoredItem {
    sku: String,
    quantity: i64,
}

/// Applies an order at most once. Runs on the caller's transaction (the
/// webhook receiver records its inbox row in the same one); the caller
/// commits.
pub async fn apply_order_once(
    tx: &mut AnyConnection,
    order: &OrderToApply<'_>,
    now: i64,
) -> Result<Applied, InventoryError> {
    let items = per_sku(order.items);
    let hash = request_hash(&items);
    let stored_items = serde_json::to_string(
        &items
            .iter()
            .map(|(sku, q)| StoredItem {
                sku: sku.to_string(),
                quantity: *q,
            })
            .collect::<Vec<_>>(),
    )
    .map_err(anyhow::Error::from)?;

    // Claim the order id first. If it is already there, this is a repeat.
    let claimed = sqlx::query(
        "INSERT INTO applied_orders (order_id, channel, outcome, request_hash, items, answer_status, answer, \
         order_created_at, applied_at) VALUES ($1, $2, 'applying', $3, $4, 0, '', $5, $6) \
         ON CONFLICT (order_id) DO NOTHING RETURNING order_id",
    )
    .bind(order.order_id.as_str())
    .bind(order.channel.as_str())
    .bind(&hash)
    .bind(&stored_items)
    .bind(order.order_created_at)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;

    if claimed.is_none() {
        let row = sqlx::query(
            "SELECT channel, outcome, request_hash, answer_status, answer FROM applied_orders WHERE order_id = $1",
        )
        .bind(order.order_id.as_str())
        .fetch_one(&mut *tx)
        .await?;
        let outcome: String = row.try_get("outcome")?;
        let first_hash: String = row.try_get("request_hash")?;
        let outcome = ApplyOutcome::parse(&outcome)
            .map_err(|_| anyhow::anyhow!("stored outcome {outcome} is unknown"))?;
        // A void tombstone has no items to compare; anything else must match.
        if outcome != ApplyOutcome::Voided && !first_hash.is_empty() && first_hash != hash {
            return Err(InventoryError::IdempotencyKeyReused);
        }
        return Ok(Applied {
            outcome,
            first_time: false,
            first_channel: row.try_get("channel")?,
            answer_status: row.try_get::<i64, _>("answer_status")? as u16,
            answer: row.try_get("answer")?,
            stock: levels(tx, items.keys()).await?,
        });
    }

    // Take every line, remembering what was taken in case one falls short.
    let mut taken: Vec<StockLevel> = Vec::new();
    let mut short = false;
    for (sku, q) in &items {
        let row = sqlx::query(
            "UPDATE stock SET on_hand = on_hand - $1, updated_at = $2 WHERE sku = $3 AND on_hand >= $1 \
             RETURNING on_hand",
        )
        .bind(*q)
        .bind(now)
        .bind(sku.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        match row {
            Some(row) => taken.push(StockLevel {
                sku: sku.clone(),
                on_hand: row.try_get("on_hand")?,
            }),
            None => {
                short = true;
                break;
            }
        }
    }

    let (outcome, status, answer, stock) = if short {
        for level in &taken {
            sqlx::query("UPDATE stock SET on_hand = on_hand + $1 WHERE sku = $2")
                .bind(items[&level.sku])
                .bind(level.sku.as_str())
                .execute(&mut *tx)
                .await?;
        }
        let shortages = shortages(tx, &items).await?;
        let problem = InventoryError::OutOfStock(shortages).problem();
        let outcome = match order.channel {
            IntegrationMode::Api => ApplyOutcome::Rejected,
            IntegrationMode::Webhook | IntegrationMode::Poll => ApplyOutcome::Backordered,
        };
        let stock = levels(tx, items.keys()).await?;
        (
            outcome,
            409u16,
            serde_json::to_string(&problem).map_err(anyhow::Error::from)?,
            stock,
        )
    } else {
        let movements: Vec<Movement> = taken
            .iter()
            .map(|level| Movement {
                sku: level.sku.as_str(),
                delta: -items[&level.sku],
                on_hand_after: level.on_hand,
                reason: "order",
                order_id: Some(order.order_id.as_str()),
            })
            .collect();
        Movement::record_all(tx, &movements, now).await?;
        let answer = UpdateInventoryResponse {
            order_id: order.order_id.clone(),
            applied: true,
            stock: taken,
        };
        let text = serde_json::to_string(&answer).map_err(anyhow::Error::from)?;
        (ApplyOutcome::Applied, 200u16, text, answer.stock)
    };

    sqlx::query("UPDATE applied_orders SET outcome = $1, answer_status = $2, answer = $3 WHERE order_id = $4")
        .bind(outcome.as_str())
        .bind(i64::from(status))
        .bind(&answer)
        .bind(order.order_id.as_str())
        .execute(&mut *tx)
        .await?;
    Ok(Applied {
        outcome,
        first_time: true,
        first_channel: order.channel.as_str().to_owned(),
        answer_status: status,
        answer,
        stock,
    })
}

/// What the order lacked, line by line (unknown SKUs have 0 available).
async fn shortages(
    tx: &mut AnyConnection,
    items: &BTreeMap<Sku, i64>,
) -> Result<Vec<Shortage>, sqlx::Error> {
    let mut out = Vec::new();
    for (sku, q) in items {
        let available: i64 = sqlx::query("SELECT on_hand FROM stock WHERE sku = $1")
            .bind(sku.as_str())
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get("on_hand"))
            .transpose()?
            .unwrap_or(0);
        if available < *q {
            out.push(Shortage {
                sku: sku.to_string(),
                requested: *q,
                available,
            });
        }
    }
    Ok(out)
}

async fn levels<'a>(
    tx: &mut AnyConnection,
    skus: impl Iterator<Item = &'a Sku>,
) -> Result<Vec<StockLevel>, sqlx::Error> {
    let mut out = Vec::new();
    for sku in skus {
        if let Some(row) = sqlx::query("SELECT on_hand FROM stock WHERE sku = $1")
            .bind(sku.as_str())
            .fetch_optional(&mut *tx)
            .await?
        {
            out.push(StockLevel {
                sku: sku.clone(),
                on_hand: row.try_get("on_hand")?,
            });
        }
    }
    Ok(out)
}

/// One change of one SKU's stock, for the audit trail (`stock_movements`).
struct Movement<'a> {
    sku: &'a str,
    delta: i64,
    on_hand_after: i64,
    reason: &'a str,
    order_id: Option<&'a str>,
}

impl Movement<'_> {
    async fn record(&self, tx: &mut AnyConnection, now: i64) -> Result<(), sqlx::Error> {
        Movement::record_all(tx, std::slice::from_ref(self), now).await
    }

    /// Records several movements in one statement.
    async fn record_all(
        tx: &mut AnyConnection,
        movements: &[Movement<'_>],
        now: i64,
    ) -> Result<(), sqlx::Error> {
        if movements.is_empty() {
            return Ok(());
        }
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO stock_movements (id, sku, delta, on_hand_after, reason, order_id, at) VALUES {}",
            platform::db::value_rows(7, movements.len())
        ));
        let mut query = sqlx::query(sql);
        for m in movements {
            query = query
                .bind(new_id("mov"))
                .bind(m.sku)
                .bind(m.delta)
                .bind(m.on_hand_after)
                .bind(m.reason)
                .bind(m.order_id)
                .bind(now);
        }
        query.execute(&mut *tx).await?;
        Ok(())
    }
}

/// What a void did.
#[derive(Debug, Clone, Serialize)]
pub struct Voided {
    pub order_id: String,
    pub outcome: ApplyOutcome,
    /// Stock that had been taken and was put back now.
    pub restored: bool,
    /// The order had never arrived: a tombstone now refuses it if it does.
    pub tombstone: bool,
}

/// Withdraws an order for the store (api-mode compensation): puts back
/// whatever it took, and leaves a tombstone so a late copy of the original
/// request is refused instead of applied. Idempotent.
pub async fn void_order(
    tx: &mut AnyConnection,
    order_id: &OrderId,
    now: i64,
) -> Result<Voided, InventoryError> {
    let answer = serde_json::to_string(&InventoryError::Voided(order_id.to_string()).problem())
        .map_err(anyhow::Error::from)?;
    let tombstone = sqlx::query(
        "INSERT INTO applied_orders (order_id, channel, outcome, request_hash, items, answer_status, answer, \
         applied_at, voided_at) VALUES ($1, 'void', 'voided', '', '[]', 409, $2, $3, $3) \
         ON CONFLICT (order_id) DO NOTHING RETURNING order_id",
    )
    .bind(order_id.as_str())
    .bind(&answer)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    if tombstone.is_some() {
        return Ok(Voided {
            order_id: order_id.to_string(),
            outcome: ApplyOutcome::Voided,
            restored: false,
            tombstone: true,
        });
    }
    let row = sqlx::query("SELECT outcome, items FROM applied_orders WHERE order_id = $1")
        .bind(order_id.as_str())
        .fetch_one(&mut *tx)
        .await?;
    let outcome: String = row.try_get("outcome")?;
    let mut restored = false;
    if outcome == ApplyOutcome::Applied.as_str() {
        let items: Vec<StoredItem> = serde_json::from_str(&row.try_get::<String, _>("items")?)
            .map_err(anyhow::Error::from)?;
        for item in &items {
            let row = sqlx::query("UPDATE stock SET on_hand = on_hand + $1, updated_at = $2 WHERE sku = $3 RETURNING on_hand")
                .bind(item.quantity)
                .bind(now)
                .bind(&item.sku)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(row) = row {
                let movement = Movement {
                    sku: &item.sku,
                    delta: item.quantity,
                    on_hand_after: row.try_get("on_hand")?,
                    reason: "void",
                    order_id: Some(order_id.as_str()),
                };
                movement.record(tx, now).await?;
            }
        }
        restored = true;
    }
    if outcome != ApplyOutcome::Voided.as_str() {
        sqlx::query(
            "UPDATE applied_orders SET outcome = 'voided', answer_status = 409, answer = $1, voided_at = $2 \
             WHERE order_id = $3",
        )
        .bind(&answer)
        .bind(now)
        .bind(order_id.as_str())
        .execute(&mut *tx)
        .await?;
    }
    Ok(Voided {
        order_id: order_id.to_string(),
        outcome: ApplyOutcome::Voided,
        restored,
        tombstone: false,
    })
}

/// One SKU's stock, as `GET /api/stock` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct StockItem {
    pub sku: String,
    pub name: String,
    pub on_hand: i64,
    /// Units taken by orders in the last 24 hours.
    pub taken_24h: i64,
    pub updated_at: contract::Timestamp,
}

pub async fn list(db: &platform::Db, now: i64) -> Result<Vec<StockItem>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT s.sku, s.name, s.on_hand, s.updated_at, \
         CAST(COALESCE((SELECT SUM(-m.delta) FROM stock_movements m \
           WHERE m.sku = s.sku AND m.reason = 'order' AND m.at > $1), 0) AS BIGINT) AS taken \
         FROM stock s ORDER BY s.position, s.sku",
    )
    .bind(now - 24 * 3600 * 1000)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(StockItem {
                sku: r.try_get("sku")?,
                name: r.try_get("name")?,
                on_hand: r.try_get("on_hand")?,
                taken_24h: r.try_get("taken")?,
                updated_at: contract::Timestamp(r.try_get("updated_at")?),
            })
        })
        .collect()
}

/// The largest restock accepted at once.
pub const MAX_RESTOCK: i64 = 10_000;

/// Adds units to a SKU. Returns the new level.
pub async fn restock(
    db: &platform::Db,
    sku: &Sku,
    quantity: i64,
    now: i64,
) -> Result<StockLevel, InventoryError> {
    if !(1..=MAX_RESTOCK).contains(&quantity) {
        return Err(InventoryError::Validation(vec![contract::FieldError::new(
            "quantity",
            format!("restock between 1 and {MAX_RESTOCK} units"),
        )]));
    }
    let mut tx = db.begin_write().await?;
    let row = sqlx::query(
        "UPDATE stock SET on_hand = on_hand + $1, updated_at = $2 WHERE sku = $3 RETURNING on_hand",
    )
    .bind(quantity)
    .bind(now)
    .bind(sku.as_str())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| InventoryError::not_found("SKU", sku.as_str()))?;
    let on_hand: i64 = row.try_get("on_hand")?;
    let movement = Movement {
        sku: sku.as_str(),
        delta: quantity,
        on_hand_after: on_hand,
        reason: "restock",
        order_id: None,
    };
    movement.record(&mut tx, now).await?;
    tx.commit().await?;
    Ok(StockLevel {
        sku: sku.clone(),
        on_hand,
    })
}

/// The api answer as first given, for a repeat of the same request.
pub fn replayed_problem(applied: &Applied) -> Option<Problem> {
    (applied.answer_status >= 400)
        .then(|| serde_json::from_str(&applied.answer).ok())
        .flatten()
}
