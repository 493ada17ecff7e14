//! The catalog: what the shop sells, at what price.
//!
//! Products are seeded from `contract::demo::CATALOG` on first start and
//! read from the database afterwards, so a price changed in the database is
//! the price an order is charged ([`prices_and_mode`] reads them from
//! this table inside the order's transaction). The store deliberately
//! knows nothing about stock: that is the inventory's business, and in
//! webhook and poll mode the shop takes orders it cannot know it can fill.

use std::collections::HashMap;

use sqlx::AnyConnection;

use contract::order::{LineItem, OrderLine};
use contract::{FieldError, IntegrationMode};
use platform::Db;
use platform::db::NullableText;

use crate::integration;

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
    /// The integration mode, read alongside (see [`prices_and_mode`]).
    #[sqlx(try_from = "NullableText")]
    mode: Option<IntegrationMode>,
}

/// The prices of some SKUs, read once for every order of a transaction.
pub struct Prices(HashMap<String, Price>);

/// Reads the prices of `items`' SKUs — and, in the same query, the mode new
/// orders are placed under (`integration::current_mode`'s row, joined to
/// every product row), since a placement needs both and each query is a
/// round trip. `None` for the mode when no SKU is known (nothing will be
/// placed) or no mode was ever stored (then it is webhook).
pub async fn prices_and_mode<'a>(
    conn: &mut AnyConnection,
    items: impl Iterator<Item = &'a LineItem>,
) -> Result<(Prices, Option<IntegrationMode>), sqlx::Error> {
    let mut skus: Vec<&str> = items.map(|i| i.sku.as_str()).collect();
    skus.sort_unstable();
    skus.dedup();
    let mut prices = HashMap::new();
    let mut mode = None;
    for chunk in skus.chunks(platform::db::MAX_BINDS_PER_STATEMENT) {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT p.sku, p.name, p.price_cents, s.value AS mode FROM products p \
             LEFT JOIN settings s ON s.key = $1 WHERE p.sku IN ({})",
            platform::db::placeholders(2, chunk.len())
        ));
        let mut query = sqlx::query_as::<_, Price>(sql).bind(integration::MODE_KEY);
        for sku in chunk {
            query = query.bind(*sku);
        }
        for price in query.fetch_all(&mut *conn).await? {
            mode = mode.or(price.mode);
            prices.insert(price.sku.clone(), price);
        }
    }
    Ok((Prices(prices), mode))
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
