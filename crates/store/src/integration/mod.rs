//! How orders reach the inventory: the three integration patterns, one
//! module each, the one interface checkout talks to them through, and the
//! switch between them.
//!
//! | mode      | module       | who initiates | when                          |
//! |-----------|--------------|---------------|-------------------------------|
//! | `webhook` | [`webhook`]  | the store     | the moment the order commits  |
//! | `api`     | [`api`]      | the store     | while the customer waits      |
//! | `poll`    | [`poll`]     | the inventory | on the inventory's timer      |
//!
//! Beside them: [`compensation`], which withdraws api orders the store had
//! to reject without a clear answer (the saga's compensating action).
//!
//! **The one interface.** Placing an order (`crate::checkout`) knows only
//! [`Handoff`]: something to write *inside* the order's transaction, and
//! something to do *after* it commits. Webhook writes its outbox event in
//! the transaction and wakes its dispatcher after; api does nothing inside
//! and calls the inventory after, while the customer waits; poll does
//! nothing at all — the order simply exists, and the inventory comes
//! asking. The integrations import the order record (`crate::orders`) to
//! resolve orders; neither the record nor checkout is imported back.
//!
//! **The switch.** The current mode is a row in the `settings` table rather
//! than a field in memory, so that every store process sharing a database
//! agrees on it and an order reads it inside its own transaction. Each
//! order records its mode and finishes through that channel, so a switch
//! never strands or doubles an order that is already under way.

pub mod api;
pub mod compensation;
pub mod poll;
pub mod webhook;

use std::future::Future;

use sqlx::AnyConnection;

use contract::order::Order;
use contract::{IntegrationMode, Timestamp};
use platform::{Db, LiveHub};

use crate::error::StoreError;
use crate::state::AppState;

/// How a pattern takes over a newly placed order.
pub trait Handoff {
    /// Writes what must commit together with the order (by default,
    /// nothing). Runs inside the order's transaction, before anyone outside
    /// hears of it.
    fn within_order_transaction(
        conn: &mut AnyConnection,
        order: &Order,
        now: Timestamp,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send {
        let _ = (conn, order, now);
        async { Ok(()) }
    }

    /// Runs once the order has committed; returns the order as the customer
    /// is answered with it.
    fn after_commit(
        app: &AppState,
        order: Order,
    ) -> impl Future<Output = Result<Order, StoreError>> + Send;
}

/// [`Handoff::within_order_transaction`] of the order's mode.
pub async fn within_order_transaction(
    conn: &mut AnyConnection,
    order: &Order,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    match order.mode {
        IntegrationMode::Webhook => webhook::Push::within_order_transaction(conn, order, now).await,
        IntegrationMode::Api => api::Call::within_order_transaction(conn, order, now).await,
        IntegrationMode::Poll => poll::Pull::within_order_transaction(conn, order, now).await,
    }
}

/// [`Handoff::after_commit`] of the order's mode.
pub async fn after_commit(app: &AppState, order: Order) -> Result<Order, StoreError> {
    match order.mode {
        IntegrationMode::Webhook => webhook::Push::after_commit(app, order).await,
        IntegrationMode::Api => api::Call::after_commit(app, order).await,
        IntegrationMode::Poll => poll::Pull::after_commit(app, order).await,
    }
}

const MODE_KEY: &str = "integration_mode";

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
    // No row only before start-up has written one; webhook is the default.
    Ok(row.map_or(IntegrationMode::Webhook, |r| r.value))
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
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(MODE_KEY)
    .bind(mode.as_str())
    .bind(now.millis())
    .execute(db.writer())
    .await?;
    live.publish("mode.changed", serde_json::json!({ "mode": mode }));
    tracing::info!(%mode, "integration mode set");
    Ok(())
}
