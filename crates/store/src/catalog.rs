//! The catalog: what the shop sells, at what price.
//!
//! Products are seeded from `contract::demo::CATALOG` on first start and
//! read from the database afterwards, so a price changed in the database is
//! the price an order is charged ([`prices`] reads them from this table
//! inside the order's transaction). The store deliberately
//! knows nothing about stock: that is the inventory's business, and in push
//! and pull modes the shop takes orders it cannot know it can fill.

use std::collections::HashMap;

use sqlx::AnyConnection;

use contract::FieldError;
use contract::order::{LineItem, OrderLine};
use platform::Db;

/// One product as the shop window shows it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CatalogItem {
    pub sku: String,
    pub name: String,
    pub description: String,
    pub price_cents: i64,
}

/// Every product, in shop-window order.
pub async fn list(db: &Db) -> Result<Vec<CatalogItem>, sqlx::Error> {
    sqlx::query_as(
        "SELECT sku, name, description, price_cents FROM products ORDER BY position, sku",
    )
    .fetch_all(db.pool())
    .await
}

#[derive(sqlx::FromRow)]
struct Price {
    sku: String,
    name: String,
    price_cents: i64,
}

/// The prices of some SKUs, read once for every order of a transaction.
pub struct Prices(HashMap<String, Price>);

/// Reads the prices of `items`' SKUs, in one query.
pub async fn prices<'a>(
    conn: &mut AnyConnection,
    items: impl Iterator<Item = &'a LineItem>,
) -> Result<Prices, sqlx::Error> {
    let mut skus: Vec<&str> = items.map(|i| i.sku.as_str()).collect();
    skus.sort_unstable();
    skus.dedup();
    if skus.is_empty() {
        return Ok(Prices(HashMap::new()));
    }
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT sku, name, price_cents FROM products WHERE sku IN ({})",
        platform::db::placeholders(1, skus.len())
    ));
    let mut query = sqlx::query_as::<_, Price>(sql);
    for sku in skus {
        query = query.bind(sku);
    }
    Ok(Prices(
        query
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|p| (p.sku.clone(), p))
            .collect(),
    ))
}

impl Prices {
    /// Prices every line — or lists the lines whose SKU the shop does not
    /// sell, as field errors (`items[2].sku`).
    pub fn lines(&self, items: &[LineItem]) -> Result<Vec<OrderLine>, Vec<FieldError>> {
        let mut lines = Vec::with_capacity(items.len());
        let mut unknown = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match self.0.get(item.sku.as_str()) {
                Some(p) => lines.push(OrderLine {
                    sku: item.sku.clone(),
                    name: p.name.clone(),
                    quantity: item.quantity,
                    unit_price_cents: p.price_cents,
                    line_total_cents: p.price_cents * item.quantity.as_i64(),
                }),
                None => unknown.push(FieldError::new(
                    format!("items[{i}].sku"),
                    format!("there is no product with SKU {}", item.sku),
                )),
            }
        }
        if unknown.is_empty() {
            Ok(lines)
        } else {
            Err(unknown)
        }
    }
}
