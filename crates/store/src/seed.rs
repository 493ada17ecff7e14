//! First-start data: the demo catalog and the API key the inventory uses.
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

/// Makes the configured key valid (stored as a hash, never as itself).
pub async fn api_key(db: &Db, key: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO api_keys (key_hash, label, created_at) VALUES ($1, 'configured (STORE_API_KEY)', $2) \
         ON CONFLICT (key_hash) DO NOTHING",
    )
    .bind(platform::http::hash_api_key(key))
    .bind(now)
    .execute(db.writer())
    .await?;
    Ok(())
}
