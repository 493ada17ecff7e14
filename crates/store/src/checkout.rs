//! Placing an order: where the three integration modes part ways, and the
//! one place that must never half-happen.
//!
//! Everything the store knows about a new order — the order, its lines,
//! its idempotency key, its place in the feed and, in webhook mode, its
//! outbox event — is written in **one transaction**. Only after that
//! commits does the store talk to anyone, through the mode's
//! [`Handoff`](crate::integration::Handoff):
//!
//! * webhook: wake the dispatcher (`integration::webhook`), answer `pending`;
//! * api: call the inventory now (`integration::api`), answer `confirmed`
//!   or `rejected`;
//! * poll: nothing; the inventory will find it in the feed
//!   (`integration::poll`), answer `pending`.
//!
//! Committing before calling out is the rule that makes crashes harmless: a
//! crash before the commit leaves nothing; a crash after it leaves a
//! recorded order whose outbox event, feed entry or pending api call is
//! picked up again on restart.

use contract::order::Order;
use contract::{OrderId, OrderStatus};

use crate::domain::ValidOrder;
use crate::error::StoreError;
use crate::idempotency::{self, IdempotencyKey};
use crate::integration::{self, poll};
use crate::state::AppState;
use crate::{catalog, orders};

/// A placed order, and whether it is a replay of an earlier request with
/// the same `Idempotency-Key`.
#[derive(Debug, Clone)]
pub struct Placed {
    pub order: Order,
    pub replayed: bool,
}

impl Placed {
    fn replay(order: Order) -> Placed {
        Placed {
            order,
            replayed: true,
        }
    }
}

/// Places an order under the store's current integration mode.
pub async fn place_order(
    app: &AppState,
    request: ValidOrder,
    key: Option<&IdempotencyKey>,
) -> Result<Placed, StoreError> {
    // A key seen before answers with its first order, and writes nothing.
    let fingerprint = idempotency::fingerprint(&request);
    if let Some(key) = key
        && let Some(order) = idempotency::replay(app, key, &fingerprint).await?
    {
        return Ok(Placed::replay(order));
    }

    let now = app.clock.now();
    let mut tx = app.db.begin_write().await?;

    // Read inside the transaction: an order is placed entirely before or
    // entirely after a mode switch, never half in each mode.
    let mode = integration::current_mode(&mut tx).await?;
    let lines = match catalog::price_lines(&mut tx, &request.items).await? {
        Ok(lines) => lines,
        Err(unknown) => {
            tx.rollback().await?;
            return Err(StoreError::validation(unknown));
        }
    };
    let order = Order {
        id: OrderId::new(),
        status: OrderStatus::Pending,
        mode,
        customer: request.customer,
        total_cents: lines.iter().map(|l| l.line_total_cents).sum(),
        items: lines,
        created_at: now,
        status_reason: None,
    };
    let feed_seq = poll::next_feed_seq(&mut tx).await?;
    orders::insert(&mut tx, &order, feed_seq).await?;

    if let Some(key) = key
        && !idempotency::claim(&mut tx, key, &fingerprint, &order.id, now).await?
    {
        // A concurrent request with the same key committed first: this
        // one becomes a replay of it, and writes nothing.
        tx.rollback().await?;
        return idempotency::replay(app, key, &fingerprint)
            .await?
            .map(Placed::replay)
            .ok_or(StoreError::IdempotencyKeyInFlight);
    }

    integration::within_order_transaction(&mut tx, &order, now).await?;
    tx.commit().await?;
    orders::announce_placed(app, &order);

    let order = integration::after_commit(app, order).await?;
    Ok(Placed {
        order,
        replayed: false,
    })
}
