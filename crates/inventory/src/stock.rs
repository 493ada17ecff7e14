//! Stock: units on hand per SKU, and every change to them.
//!
//! Taking stock for an order is **all or nothing** across its lines, and
//! orders that arrive together are taken in one go ([`Book`]): the levels
//! of every SKU they want are read — and on PostgreSQL locked, in SKU order
//! so that two batches never lock the same rows in opposite orders (a
//! deadlock) — then each order, in the order it arrived, takes every line
//! or none from those levels in memory, and the result is written back in
//! one statement, a conditional decrement for each SKU (`… SET on_hand =
//! on_hand - q WHERE on_hand >= q`) that cannot go below zero whatever
//! happens meanwhile, with a `CHECK (on_hand >= 0)` behind it.
//!
//! Every change is written down in `stock_movements` with its
//! [`MovementReason`] — an order took it, a void put it back, a person
//! restocked — so the stock page can say where units went.
//!
//! *Whether* an order may take stock (only once, whichever channel brought
//! it) is not decided here: see `crate::idempotency` and
//! `crate::integration::apply`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use strum::{IntoStaticStr, VariantArray};

use contract::inventory::{Shortage, StockLevel};
use contract::order::{LineItem, Order};
use contract::{MovementId, OrderId, Quantity, Sku, Timestamp};
use platform::Db;

use crate::error::InventoryError;

/// What an order asks for: units per SKU, summed over its lines, sorted by
/// SKU (the lock order).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Quantities(BTreeMap<Sku, i64>);

impl Quantities {
    /// What an `/update_inventory` request asks for.
    pub fn of(items: &[LineItem]) -> Quantities {
        Quantities::sum(items.iter().map(|i| (&i.sku, i.quantity)))
    }

    /// What a pushed or polled order asks for.
    pub fn of_order(order: &Order) -> Quantities {
        Quantities::sum(order.items.iter().map(|l| (&l.sku, l.quantity)))
    }

    fn sum<'a>(lines: impl Iterator<Item = (&'a Sku, Quantity)>) -> Quantities {
        let mut map = BTreeMap::new();
        for (sku, quantity) in lines {
            *map.entry(sku.clone()).or_insert(0) += quantity.as_i64();
        }
        Quantities(map)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Sku, i64)> {
        self.0.iter().map(|(sku, q)| (sku, *q))
    }

    pub fn skus(&self) -> impl Iterator<Item = &Sku> {
        self.0.keys()
    }
}

/// Why a SKU's stock changed (`stock_movements.reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum MovementReason {
    /// An order took it.
    Order,
    /// A void gave back what an order had taken.
    Void,
    /// A person added units.
    Restock,
}

impl MovementReason {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// What [`Book::take_all`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// Every line was taken; the levels after.
    All(Vec<StockLevel>),
    /// A line fell short: nothing was taken; what was missing.
    Short(Vec<Shortage>),
}

/// The stock of some SKUs, read and locked for the orders of one
/// transaction, taken from in memory, and written back at once.
pub struct Book {
    /// Units on hand now, as the orders so far have left them.
    levels: BTreeMap<Sku, i64>,
    /// Units taken per SKU, to write back.
    taken: BTreeMap<Sku, i64>,
    movements: Vec<(Sku, i64, i64, OrderId)>,
}

#[derive(sqlx::FromRow)]
struct LevelRow {
    sku: String,
    on_hand: i64,
}

impl Book {
    /// Reads (on PostgreSQL: locks) the stock of `skus`. Unknown SKUs are
    /// left out: an order that wants one is short of it.
    pub async fn open<'a>(
        tx: &mut AnyConnection,
        skus: impl Iterator<Item = &'a Sku>,
    ) -> Result<Book, sqlx::Error> {
        let skus: std::collections::BTreeSet<&Sku> = skus.collect();
        let skus: Vec<&Sku> = skus.into_iter().collect();
        let mut levels = BTreeMap::new();
        for chunk in skus.chunks(platform::db::MAX_BINDS_PER_STATEMENT) {
            let sql = sqlx::AssertSqlSafe(format!(
                "SELECT sku, on_hand FROM stock WHERE sku IN ({}) ORDER BY sku{}",
                platform::db::placeholders(1, chunk.len()),
                platform::db::for_update(tx)
            ));
            let mut query = sqlx::query_as::<_, LevelRow>(sql);
            for sku in chunk {
                query = query.bind(sku.as_str());
            }
            for row in query.fetch_all(&mut *tx).await? {
                if let Ok(sku) = Sku::parse(&row.sku) {
                    levels.insert(sku, row.on_hand);
                }
            }
        }
        Ok(Book {
            levels,
            taken: BTreeMap::new(),
            movements: Vec::new(),
        })
    }

    /// Whether `sku` is one this inventory stocks.
    pub fn stocks(&self, sku: &Sku) -> bool {
        self.levels.contains_key(sku)
    }

    /// Takes every line of an order, or none.
    pub fn take_all(&mut self, wanted: &Quantities, order_id: &OrderId) -> Taken {
        let shortages: Vec<Shortage> = wanted
            .iter()
            .filter_map(|(sku, q)| {
                let available = self.levels.get(sku).copied().unwrap_or(0);
                (available < q).then(|| Shortage {
                    sku: sku.to_string(),
                    requested: q,
                    available,
                })
            })
            .collect();
        if !shortages.is_empty() {
            return Taken::Short(shortages);
        }
        for (sku, q) in wanted.iter() {
            let level = self.levels.get_mut(sku).expect("checked above");
            *level -= q;
            *self.taken.entry(sku.clone()).or_insert(0) += q;
            self.movements
                .push((sku.clone(), -q, *level, order_id.clone()));
        }
        Taken::All(self.levels(wanted.skus()))
    }

    /// The current levels of some SKUs (unknown ones left out).
    pub fn levels<'a>(&self, skus: impl Iterator<Item = &'a Sku>) -> Vec<StockLevel> {
        skus.filter_map(|sku| {
            Some(StockLevel {
                sku: sku.clone(),
                on_hand: *self.levels.get(sku)?,
            })
        })
        .collect()
    }

    /// Writes back what was taken — one statement for every SKU, each row
    /// a conditional decrement — and every movement.
    pub async fn write(self, tx: &mut AnyConnection, now: Timestamp) -> Result<(), sqlx::Error> {
        let taken: Vec<(&Sku, &i64)> = self.taken.iter().collect();
        for chunk in taken.chunks(platform::db::rows_per_statement(2)) {
            // `CASE sku WHEN 'A' THEN 2 WHEN 'B' THEN 1 END`: each row's own q.
            let q = (0..chunk.len())
                .map(|i| format!("WHEN ${} THEN ${}", 2 + 2 * i, 3 + 2 * i))
                .collect::<Vec<_>>()
                .join(" ");
            let skus = (0..chunk.len())
                .map(|i| format!("${}", 2 + 2 * i))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = sqlx::AssertSqlSafe(format!(
                "UPDATE stock SET on_hand = on_hand - CASE sku {q} END, updated_at = $1 \
                 WHERE sku IN ({skus}) AND on_hand >= CASE sku {q} END"
            ));
            let mut query = sqlx::query(sql).bind(now.millis());
            for (sku, q) in chunk {
                query = query.bind(sku.as_str()).bind(**q);
            }
            if query.execute(&mut *tx).await?.rows_affected() != chunk.len() as u64 {
                // Cannot happen while the rows are locked (or SQLite's one
                // writer holds the database); refuse rather than oversell.
                return Err(sqlx::Error::Protocol(
                    "the stock changed while it was being taken".into(),
                ));
            }
        }
        let movements: Vec<Movement> = self
            .movements
            .iter()
            .map(|(sku, delta, on_hand_after, order_id)| Movement {
                sku,
                delta: *delta,
                on_hand_after: *on_hand_after,
                reason: MovementReason::Order,
                order_id: Some(order_id),
            })
            .collect();
        Movement::record_all(tx, &movements, now).await
    }
}

/// Gives back what an order took (a void). SKUs that have disappeared
/// since are skipped.
pub async fn put_back(
    tx: &mut AnyConnection,
    taken: &Quantities,
    order_id: &OrderId,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    for (sku, q) in taken.iter() {
        if let Some(on_hand) = increment(tx, sku, q, now).await? {
            let movement = Movement {
                sku,
                delta: q,
                on_hand_after: on_hand,
                reason: MovementReason::Void,
                order_id: Some(order_id),
            };
            movement.record(tx, now).await?;
        }
    }
    Ok(())
}

/// `on_hand + q`; the new level, or `None` for an unknown SKU.
async fn increment(
    tx: &mut AnyConnection,
    sku: &Sku,
    q: i64,
    now: Timestamp,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE stock SET on_hand = on_hand + $1, updated_at = $2 WHERE sku = $3 RETURNING on_hand",
    )
    .bind(q)
    .bind(now.millis())
    .bind(sku.as_str())
    .fetch_optional(&mut *tx)
    .await
}

/// One change of one SKU's stock, for the audit trail (`stock_movements`).
struct Movement<'a> {
    sku: &'a Sku,
    delta: i64,
    on_hand_after: i64,
    reason: MovementReason,
    order_id: Option<&'a OrderId>,
}

impl Movement<'_> {
    async fn record(&self, tx: &mut AnyConnection, now: Timestamp) -> Result<(), sqlx::Error> {
        Movement::record_all(tx, std::slice::from_ref(self), now).await
    }

    /// Records several movements in one statement.
    async fn record_all(
        tx: &mut AnyConnection,
        movements: &[Movement<'_>],
        now: Timestamp,
    ) -> Result<(), sqlx::Error> {
        if movements.is_empty() {
            return Ok(());
        }
        for chunk in movements.chunks(platform::db::rows_per_statement(7)) {
            let sql = sqlx::AssertSqlSafe(format!(
                "INSERT INTO stock_movements (id, sku, delta, on_hand_after, reason, order_id, at) VALUES {}",
                platform::db::value_rows(7, chunk.len())
            ));
            let mut query = sqlx::query(sql);
            for m in chunk {
                query = query
                    .bind(MovementId::new().to_string())
                    .bind(m.sku.as_str())
                    .bind(m.delta)
                    .bind(m.on_hand_after)
                    .bind(m.reason.as_str())
                    .bind(m.order_id.map(OrderId::as_str))
                    .bind(now.millis());
            }
            query.execute(&mut *tx).await?;
        }
        Ok(())
    }
}

/// One SKU's stock, as `GET /api/stock` lists it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct StockItem {
    pub sku: String,
    pub name: String,
    pub on_hand: i64,
    /// Units taken by orders in the last 24 hours, less those of orders
    /// since voided (their units went back on the shelf).
    #[sqlx(rename = "taken")]
    pub taken_24h: i64,
    #[sqlx(try_from = "i64")]
    pub updated_at: Timestamp,
}

pub async fn list(db: &Db, now: Timestamp) -> Result<Vec<StockItem>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.sku, s.name, s.on_hand, s.updated_at, \
         CAST(COALESCE((SELECT SUM(-m.delta) FROM stock_movements m \
           WHERE m.sku = s.sku AND m.reason = 'order' AND m.at > $1 \
           AND NOT EXISTS (SELECT 1 FROM stock_movements v \
             WHERE v.order_id = m.order_id AND v.sku = m.sku AND v.reason = 'void')), 0) AS BIGINT) AS taken \
         FROM stock s ORDER BY s.position, s.sku",
    )
    .bind((now - std::time::Duration::from_secs(24 * 3600)).millis())
    .fetch_all(db.pool())
    .await
}

/// The largest restock accepted at once.
pub const MAX_RESTOCK: i64 = 10_000;

/// Adds units to a SKU. Returns the new level.
pub async fn restock(
    db: &Db,
    sku: &Sku,
    quantity: i64,
    now: Timestamp,
) -> Result<StockLevel, InventoryError> {
    if !(1..=MAX_RESTOCK).contains(&quantity) {
        return Err(InventoryError::invalid(
            "quantity",
            format!("restock between 1 and {MAX_RESTOCK} units"),
        ));
    }
    let mut tx = db.begin_write().await?;
    let on_hand = increment(&mut tx, sku, quantity, now)
        .await?
        .ok_or_else(|| InventoryError::not_found("SKU", sku.as_str()))?;
    let movement = Movement {
        sku,
        delta: quantity,
        on_hand_after: on_hand,
        reason: MovementReason::Restock,
        order_id: None,
    };
    movement.record(&mut tx, now).await?;
    tx.commit().await?;
    Ok(StockLevel {
        sku: sku.clone(),
        on_hand,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(sku: &str, q: i64) -> LineItem {
        LineItem {
            sku: Sku::parse(sku).unwrap(),
            quantity: Quantity::parse(q).unwrap(),
        }
    }

    #[test]
    fn quantities_are_summed_per_sku_in_lock_order() {
        let q = Quantities::of(&[line("MUG-BLUE", 2), line("KETTLE", 1), line("MUG-BLUE", 3)]);
        let listed: Vec<(String, i64)> = q.iter().map(|(s, n)| (s.to_string(), n)).collect();
        assert_eq!(listed, vec![("KETTLE".into(), 1), ("MUG-BLUE".into(), 5)]);
        assert_eq!(
            serde_json::to_string(&q).unwrap(),
            r#"{"KETTLE":1,"MUG-BLUE":5}"#
        );
    }

    #[test]
    fn movement_reasons_are_the_schema_s_words() {
        let words: Vec<&str> = MovementReason::VARIANTS
            .iter()
            .map(|r| r.as_str())
            .collect();
        assert_eq!(words, ["order", "void", "restock"]);
    }
}
