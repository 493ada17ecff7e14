//! First-start data: the demo catalog.
//!
//! Seeding is idempotent (`ON CONFLICT DO NOTHING`), so it runs on every
//! start and never overwrites a price someone changed.

use contract::demo::CATALOG;
use platform::Db;

pub async fn catalog(db: &Db) -> Result<(), sqlx::Error> {
    for (position, p) in CATALOG.iter().enumerate() {
        sqlx::query(
            "INSERT INTO products (sku, name, description, price_cents, position) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (sku) DO NOTHING",
        )
        .bind(p.sku)
        .bind(p.name)
        .bind(p.description)
        .bind(p.price_cents)
        .bind(position as i64)
        .execute(db.writer())
        .await?;
    }
    Ok(())
}
