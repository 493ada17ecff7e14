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
//! **The one interface.** Placing orders (`crate::checkout`) knows only
//! [`Handoff`]: something to write *inside* the orders' transaction, and
//! something to do *after* it commits. Webhook writes its outbox events in
//! the transaction and hands the new deliveries to its dispatcher after;
//! api does nothing inside and calls the inventory after, while the
//! customer waits; poll does nothing at all — the order simply exists, and
//! the inventory comes asking. The integrations import the order record
//! (`crate::orders`) to resolve orders; neither the record nor checkout is
//! imported back.
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

use platform::lease::Leases;

use crate::error::StoreError;
use crate::state::AppState;
use webhook::dispatcher::{Claimed, Dispatch};

/// What this process's workers take new orders over with: the webhook
/// dispatcher, and the leases on api calls under way.
#[derive(Clone, Copy)]
pub struct Workers<'a> {
    pub dispatch: &'a Dispatch,
    pub api_calls: &'a Leases,
}

/// How a pattern takes over newly placed orders.
pub trait Handoff {
    /// Writes what must commit together with the orders (by default,
    /// nothing), and says what its worker may start on once they have.
    /// Runs inside the orders' transaction, before anyone outside hears of
    /// them. The orders of one transaction share one mode.
    fn within_orders_transaction(
        conn: &mut AnyConnection,
        orders: &[Order],
        now: Timestamp,
        workers: Workers<'_>,
    ) -> impl Future<Output = Result<Handover, sqlx::Error>> + Send {
        let _ = (conn, orders, now, workers);
        async { Ok(Handover::default()) }
    }

    /// Runs once the order has committed; returns the order as the customer
    /// is answered with it.
    fn after_commit(
        app: &AppState,
        order: Order,
    ) -> impl Future<Output = Result<Order, StoreError>> + Send;
}

/// What a pattern's worker may start on as soon as the transaction that
/// wrote it commits — never before, or a crash could send what was never
/// stored.
#[derive(Debug, Default)]
pub struct Handover {
    /// Webhook deliveries leased to this process's dispatcher.
    pub webhooks: Vec<Claimed>,
    /// Webhook deliveries written unleased, for the dispatcher to claim.
    pub webhooks_in_database: bool,
}

impl Handover {
    /// Starts what was handed over. Call after the commit.
    pub fn start(self, dispatch: &Dispatch, now: Timestamp) {
        dispatch.hand_over(self.webhooks);
        if self.webhooks_in_database {
            dispatch.look_at(now);
        }
    }
}

/// [`Handoff::within_orders_transaction`] of the orders' mode.
pub async fn within_orders_transaction(
    conn: &mut AnyConnection,
    mode: IntegrationMode,
    orders: &[Order],
    now: Timestamp,
    workers: Workers<'_>,
) -> Result<Handover, sqlx::Error> {
    match mode {
        IntegrationMode::Webhook => {
            webhook::Push::within_orders_transaction(conn, orders, now, workers).await
        }
        IntegrationMode::Api => {
            api::Call::within_orders_transaction(conn, orders, now, workers).await
        }
        IntegrationMode::Poll => {
            poll::Pull::within_orders_transaction(conn, orders, now, workers).await
        }
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
    live.publish(
        contract::LiveEventKind::ModeChanged,
        serde_json::json!({ "mode": mode }),
    );
    tracing::info!(%mode, "integration mode set");
    Ok(())
}
