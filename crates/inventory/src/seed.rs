//! First-start data: the demo stock, and the configured API key.

use contract::Timestamp;
use contract::demo::CATALOG;
use platform::Db;

/// Inserts the demo stock for SKUs not yet known; never overwrites.
pub async fn stock(db: &Db, now: Timestamp) -> Result<(), sqlx::Error> {
    for (position, p) in CATALOG.iter().enumerate() {
        sqlx::query(
            "INSERT INTO stock (sku, name, on_hand, position, updated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (sku) DO NOTHING",
        )
        .bind(p.sku)
        .bind(p.name)
        .bind(p.initial_stock)
        .bind(position as i64)
        .bind(now.millis())
        .execute(db.writer())
        .await?;
    }
    Ok(())
}
