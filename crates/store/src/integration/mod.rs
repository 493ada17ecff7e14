//! How orders reach the inventory: the integration patterns, one module
//! each — and their combination — and the switch between them.
//!
//! | mode      | module      | who starts the exchange | does the sender wait?     |
//! |-----------|-------------|-------------------------|---------------------------|
//! | `webhook` | [`webhook`] | the store (push)        | no: an event, retried     |
//! | `api`     | [`api`]     | the store (push)        | yes: request/response     |
//! | `poll`    | [`poll`]    | the inventory (pull)    | yes, per read             |
//! | `hybrid`  | [`hybrid`]  | notice pushed, order pulled | both: notice is an event, fetch a request |
//!
//! Each pattern owns its machinery ([`webhook::Webhooks`],
//! [`api::ApiCalls`]; the feed has none) and takes the store's
//! [`Context`](crate::context::Context); placing an order
//! (`crate::checkout`) is where they part ways, in one plain `match` on the
//! mode. The integrations import the order record (`crate::orders`) to
//! resolve orders; neither the record nor checkout is imported back.
//!
//! **The switch.** The current mode is a row in the `settings` table rather
//! than a field in memory, so that every store process sharing a database
//! agrees on it and an order reads it inside its own transaction. Each
//! order records its mode and finishes through that channel, so a switch
//! never strands or doubles an order that is already under way.

pub mod api;
pub mod hybrid;
pub mod poll;
pub mod webhook;

use sqlx::AnyConnection;

use contract::{IntegrationMode, Timestamp};
use platform::{Db, LiveHub};

/// The `settings` row that holds the mode.
pub const MODE_KEY: &str = "integration_mode";

/// The mode when none was ever stored (no row before start-up has written
/// one).
pub const DEFAULT_MODE: IntegrationMode = IntegrationMode::Webhook;

#[derive(sqlx::FromRow)]
struct ModeRow {
    #[sqlx(try_from = "String")]
    value: IntegrationMode,
}

/// The mode new orders are placed under.
pub async fn current_mode(conn: &mut AnyConnection) -> Result<IntegrationMode, sqlx::Error> {
    let row: Option<ModeRow> = sqlx::query_as("SELECT value FROM settings WHERE key = $1")
        .bind(MODE_KEY)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map_or(DEFAULT_MODE, |r| r.value))
}

pub async fn read_mode(db: &Db) -> Result<IntegrationMode, sqlx::Error> {
    let mut conn = db.pool().acquire().await?;
    current_mode(&mut conn).await
}

/// Switches the mode for orders placed from now on, and notes the switch
/// in the mode's history (`mode_changes`), in the same transaction: the
/// compare page charges a poll to polling only if it was made while the
/// store was in poll mode, which it reads from there. A "switch" to the
/// mode already in effect (every start-up with a configured mode) adds no
/// row.
pub async fn set_mode(
    db: &Db,
    live: &LiveHub,
    mode: IntegrationMode,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(MODE_KEY)
    .bind(mode.as_str())
    .bind(now.millis())
    .execute(&mut *tx)
    .await?;
    // Two switches in the same millisecond: the later one is in effect.
    sqlx::query(
        "INSERT INTO mode_changes (changed_at, mode) SELECT CAST($1 AS BIGINT), CAST($2 AS TEXT) \
         WHERE COALESCE((SELECT m.mode FROM mode_changes m ORDER BY m.changed_at DESC LIMIT 1), '') <> CAST($2 AS TEXT) \
         ON CONFLICT (changed_at) DO UPDATE SET mode = excluded.mode",
    )
    .bind(now.millis())
    .bind(mode.as_str())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    live.publish(
        contract::LiveEventKind::ModeChanged,
        crate::live::ModeChangedData { mode },
    );
    tracing::info!(%mode, "integration mode set");
    Ok(())
}
