//! How orders reach the inventory: the three integration patterns, one
//! module each, and the switch between them.
//!
//! | mode      | module       | who initiates | when                          |
//! |-----------|--------------|---------------|-------------------------------|
//! | `webhook` | [`webhook`]  | the store     | the moment the order commits  |
//! | `api`     | [`api`]      | the store     | while the customer waits      |
//! | `poll`    | [`poll`]     | the inventory | on the inventory's timer      |
//!
//! The current mode is a row in the `settings` table rather than a field in
//! memory, so that every store process sharing a database agrees on it and
//! an order reads it inside its own transaction (see `orders::place_order`).
//! Each order records its mode and finishes through that channel, so a
//! switch never strands or doubles an order that is already under way.

pub mod api;
pub mod deliveries;
pub mod endpoints;
pub mod poll;
pub mod retry;
pub mod webhook;

use sqlx::{AnyConnection, Row};

use contract::IntegrationMode;
use platform::{Db, LiveHub};

const MODE_KEY: &str = "integration_mode";

/// The mode new orders are placed under.
pub async fn current_mode(conn: &mut AnyConnection) -> Result<IntegrationMode, sqlx::Error> {
    let row = sqlx::query("SELECT value FROM settings WHERE key = $1")
        .bind(MODE_KEY)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(row) => {
            let text: String = row.try_get("value")?;
            IntegrationMode::parse(&text)
                .map_err(|e| sqlx::Error::Decode(format!("stored integration mode: {e}").into()))
        }
        // Only before start-up has written it; webhook is the default.
        None => Ok(IntegrationMode::Webhook),
    }
}

pub async fn read_mode(db: &Db) -> Result<IntegrationMode, sqlx::Error> {
    let mut conn = db.pool().acquire().await?;
    current_mode(&mut conn).await
}

/// Switches the mode for orders placed from now on.
pub async fn set_mode(
    db: &Db,
    live: &LiveHub,
    mode: IntegrationMode,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(MODE_KEY)
    .bind(mode.as_str())
    .bind(now)
    .execute(db.writer())
    .await?;
    live.publish("mode.changed", serde_json::json!({ "mode": mode }));
    tracing::info!(%mode, "integration mode set");
    Ok(())
}
