//! The catalog: what the shop sells, at what price.
//!
//! Products are seeded from `contract::demo::CATALOG` on first start and
//! read from the database afterwards, so a price changed in the database is
//! the price an order is charged (`orders::place_order` prices each line
//! from this table inside the order's transaction). The store deliberately
//! knows nothing about stock: that is the inventory's business, and in push
//! and pull modes the shop takes orders it cannot know it can fill.

use sqlx::Row;

use platform::Db;

/// One product as the shop window shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogItem {
    pub sku: String,
    pub name: String,
    pub description: String,
    pub price_cents: i64,
}

/// Every product, in shop-window order.
pub async fn list(db: &Db) -> Result<Vec<CatalogItem>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT sku, name, description, price_cents FROM products ORDER BY position, sku",
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(CatalogItem {
                sku: r.try_get("sku")?,
                name: r.try_get("name")?,
                description: r.try_get("description")?,
                price_cents: r.try_get("price_cents")?,
            })
        })
        .collect()
}
