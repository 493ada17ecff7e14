//! **webhook mode — push, event-driven.** The whole flow, top to bottom,
//! one file per step:
//!
//! 1. **Outbox** ([`outbox`]). Inside the transaction that writes the
//!    order, the `order.created` event is stored as a message, with one
//!    delivery row per subscribed endpoint. Either the order and its event
//!    both commit or neither does.
//! 2. **Hand over** ([`dispatcher`]). The new delivery is written already
//!    leased to this process's [`OutboxDispatcher`], and handed to it in
//!    memory the moment the transaction commits: the first attempt leaves
//!    within a millisecond, without reading back what was just written.
//! 3. **Claim with a lease** ([`dispatcher`]). Retries, expired leases,
//!    redeliveries and work from other store processes are claimed from
//!    the database by stamping them with the dispatcher's id and a lease
//!    expiry in one `UPDATE … RETURNING`, so two dispatchers never send the
//!    same attempt at once and a crashed one's work is taken over when its
//!    lease runs out. At most `max_in_flight` attempts run at a time.
//! 4. **Sign and send** ([`attempt`]). Each attempt is signed per Standard
//!    Webhooks with a fresh `webhook-timestamp` and the same `webhook-id`,
//!    sent with a timeout and without following redirects; where and with
//!    which secrets comes from [`targets`], kept in memory.
//! 5. **Decide** ([`retry`]). `2xx` → succeeded; `410 Gone` → the endpoint
//!    is disabled (its queue waits); anything else → retry on the schedule
//!    with jitter — later, if a `429`/`503` says `Retry-After` a longer
//!    time — until it runs out and the delivery is `failed`.
//! 6. **Record, resolve and publish** ([`recorder`], [`attempt`]). The
//!    attempt is written to the message log in the same transaction that
//!    moves the delivery on and, when the inventory's answer says what it
//!    did, resolves the order: `confirmed`, or `backordered` when the push
//!    oversold — the store accepted the order without knowing the stock,
//!    which is the price of push. Attempts that finish together share that
//!    transaction. Then the live views hear of it.
//!
//! Around the flow: [`endpoints`] (who receives what, signed with which
//! secret — registration, rotation, pings) with its [`subscription`],
//! [`destination`] (where a webhook may be sent at all), and
//! [`deliveries`] (the delivery log, and redelivering by hand).
//!
//! The receiving half is `inventory::integration::webhook_receiver`.
//! Seen in the UI: the order timeline (each attempt with its signature
//! headers), the settings page's delivery log, and the flow page.

pub mod attempt;
pub mod deliveries;
pub mod destination;
pub mod dispatcher;
pub mod endpoints;
pub mod outbox;
pub mod recorder;
pub mod retry;
pub mod subscription;
pub mod targets;

use sqlx::AnyConnection;

use contract::Timestamp;
use contract::order::Order;

pub use dispatcher::{Dispatch, OutboxDispatcher};

use super::{Handoff, Handover, Workers};
use crate::error::StoreError;
use crate::state::AppState;

/// How webhook mode takes over orders: step 1 inside their transaction,
/// step 2 after.
pub struct Push;

impl Handoff for Push {
    async fn within_orders_transaction(
        conn: &mut AnyConnection,
        orders: &[Order],
        now: Timestamp,
        workers: Workers<'_>,
    ) -> Result<Handover, sqlx::Error> {
        let lease = workers.dispatch.lease_for_new(now);
        let enqueued = outbox::enqueue_orders_created(conn, orders, now, lease.as_ref()).await?;
        Ok(Handover {
            webhooks: enqueued.leased,
            webhooks_in_database: enqueued.unleased,
        })
    }

    async fn after_commit(_app: &AppState, order: Order) -> Result<Order, StoreError> {
        Ok(order) // the dispatcher was handed the deliveries at the commit
    }
}
