//! **webhook mode — push, event-driven.** The whole flow, top to bottom,
//! one file per step:
//!
//! 1. **Outbox** ([`outbox`]). Inside the transaction that writes the
//!    order, the `order.created` event is stored as a message, with one
//!    delivery row per subscribed endpoint. Either the order and its event
//!    both commit or neither does.
//! 2. **Wake-up** ([`dispatcher`]). After the commit the store pokes the
//!    [`OutboxDispatcher`] through an in-process `Notify`, so the first
//!    attempt leaves within milliseconds; a periodic sweep is only the
//!    safety net.
//! 3. **Claim with a lease** ([`dispatcher`]). The dispatcher stamps due
//!    deliveries with its id and a lease expiry in one `UPDATE … RETURNING`,
//!    so two dispatchers never send the same attempt at once and a crashed
//!    one's work is taken over when its lease runs out; then it fans the
//!    claimed deliveries out, at most `max_in_flight` at a time.
//! 4. **Load, sign and send** ([`attempt`]). Each attempt is signed per
//!    Standard Webhooks with a fresh `webhook-timestamp` and the same
//!    `webhook-id`, sent with a timeout and without following redirects.
//! 5. **Decide** ([`retry`]). `2xx` → succeeded; `410 Gone` → the endpoint
//!    is disabled (its queue waits); anything else → retry on the schedule
//!    with jitter — later, if a `429`/`503` says `Retry-After` a longer
//!    time — until it runs out and the delivery is `failed`.
//! 6. **Record, resolve and publish** ([`attempt`]). The attempt is written
//!    to the message log in the same transaction that moves the delivery on
//!    and, when the inventory's answer says what it did, resolves the
//!    order: `confirmed`, or `backordered` when the push oversold — the
//!    store accepted the order without knowing the stock, which is the
//!    price of push. Then the live views hear of it.
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
pub mod retry;
pub mod subscription;

use sqlx::AnyConnection;

use contract::Timestamp;
use contract::order::Order;

pub use dispatcher::OutboxDispatcher;

use super::Handoff;
use crate::error::StoreError;
use crate::state::AppState;

/// How webhook mode takes over an order: step 1 inside its transaction,
/// step 2 after.
pub struct Push;

impl Handoff for Push {
    async fn within_order_transaction(
        conn: &mut AnyConnection,
        order: &Order,
        now: Timestamp,
    ) -> Result<(), sqlx::Error> {
        outbox::enqueue_order_created(conn, order, now).await?;
        Ok(())
    }

    async fn after_commit(app: &AppState, order: Order) -> Result<Order, StoreError> {
        app.dispatcher_wake.notify_one();
        Ok(order)
    }
}
