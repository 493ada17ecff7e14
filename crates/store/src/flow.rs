//! The flow page's view of the message log: the most recent exchanges,
//! each with the orders it carried and the mode those orders were placed
//! under — which is what tells a poll that found work from an empty one.

use std::collections::HashMap;

use sqlx::Row;

use platform::Db;

use crate::timeline::{self, ExchangeView};

/// An order an exchange carried, and the mode it was placed under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carried {
    pub order_id: String,
    pub mode: String,
}

/// The newest `limit` exchanges, newest first, with what each carried.
pub async fn recent(db: &Db, limit: i64) -> Result<Vec<(ExchangeView, Vec<Carried>)>, sqlx::Error> {
    let exchanges = timeline::recent(db, limit).await?;
    if exchanges.is_empty() {
        return Ok(Vec::new());
    }
    // One placeholder per exchange: portable, and bounded by `limit`.
    let placeholders: Vec<String> = (1..=exchanges.len()).map(|i| format!("${i}")).collect();
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT eo.exchange_id, eo.order_id, o.mode FROM exchange_orders eo \
         JOIN orders o ON o.id = eo.order_id WHERE eo.exchange_id IN ({}) ORDER BY o.feed_seq",
        placeholders.join(", ")
    ));
    let mut query = sqlx::query(sql);
    for ex in &exchanges {
        query = query.bind(&ex.id);
    }
    let mut carried: HashMap<String, Vec<Carried>> = HashMap::new();
    for row in query.fetch_all(db.pool()).await? {
        carried
            .entry(row.try_get("exchange_id")?)
            .or_default()
            .push(Carried {
                order_id: row.try_get("order_id")?,
                mode: row.try_get("mode")?,
            });
    }
    Ok(exchanges
        .into_iter()
        .map(|ex| {
            let orders = carried.remove(&ex.id).unwrap_or_default();
            (ex, orders)
        })
        .collect())
}
