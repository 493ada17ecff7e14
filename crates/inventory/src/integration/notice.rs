//! **hybrid mode, the receiving half: a thin notice in, the order fetched.**
//!
//! In hybrid mode the store's webhook says only *that* an order was placed
//! (`order.notice`: the event type, the order id, the time). The receiver
//! (`super::webhook_receiver`) verifies its signature exactly as it would
//! an `order.created`, then comes here: **fetch** the order from the
//! store's API — `GET /api/orders/{id}` with the feed key, logged as
//! `fetch` — and hand back what to apply. The order is applied once, keyed
//! by its id, with the same `apply` as every channel, and the answer to the
//! notice says what became of it.
//!
//! Why fetch rather than trust a fat payload: what is read now is the
//! order as it stands *now* — a notice cannot go stale, arrive out of order
//! with the truth, or leave a customer's name in somebody's webhook logs.
//! The price: one more request per order, and the receiver must be able to
//! reach the sender. If the fetch fails, the notice is answered `502` and
//! the store retries it; and if every notice is lost, the reconciliation
//! (`super::poller`, `Feed::Reconcile`) lands the order anyway.

use contract::order::Order;
use contract::{Channel, IntegrationMode, OrderId, Verdict, VerdictKind};
use platform::group_commit::{Batch, GroupCommit};
use platform::{ApiError, Db};

use super::apply::OrderToApply;
use crate::context::Context;
use crate::error::InventoryError;
use crate::idempotency::{self, WebhookId};
use crate::instruments::messages::NewMessage;
use crate::stock::Quantities;
use crate::store_api::{self, StoreApi};

/// Which notices were received before: then their orders are not fetched
/// again — the intake answers each as the duplicate it is, with the first
/// outcome. (A copy racing the first past this check is still answered as
/// a duplicate by the intake; it only costs one more fetch.)
///
/// Asked many at a time: the notices that arrive while one check is under
/// way share the next, one statement for them all
/// (`platform::group_commit`'s leader and followers, reading instead of
/// writing). Every notice asks, thirty-two at once under load, and on
/// SQLite each statement is a hop to a connection's worker thread and
/// back. A notice alone is checked at once, as a batch of one.
pub struct NoticesSeen {
    db: Db,
}

impl NoticesSeen {
    pub fn new(db: Db) -> NoticesSeen {
        NoticesSeen { db }
    }
}

impl Batch for NoticesSeen {
    type Job = WebhookId;
    /// Whether it was received before.
    type Done = bool;
    type Error = sqlx::Error;

    const MOST: usize = platform::db::MAX_BINDS_PER_STATEMENT;

    async fn write_together(&self, ids: &[WebhookId]) -> Result<Vec<bool>, sqlx::Error> {
        let mut conn = self.db.pool().acquire().await?;
        let asked: Vec<&WebhookId> = ids.iter().collect();
        let seen = idempotency::messages_seen(&mut conn, &asked).await?;
        Ok(ids.iter().map(|id| seen.contains_key(id)).collect())
    }
}

/// Whether the notice `webhook_id` was received before ([`NoticesSeen`]).
pub async fn seen_before(
    seen: &GroupCommit<NoticesSeen>,
    webhook_id: &WebhookId,
) -> Result<bool, InventoryError> {
    Ok(seen
        .submit(webhook_id.clone())
        .await
        .map_err(sqlx::Error::from)?)
}

/// An order fetched, and the log entry of the request that fetched it —
/// written by the intake with the notice's answer
/// (`super::intake::Arrival::fetched_with`).
pub struct Fetched {
    pub order: OrderToApply,
    pub message: NewMessage,
}

/// Fetches the order a notice names and returns it to apply (as a hybrid
/// order), with the fetch's log entry. A fetch that fails is the store's
/// or the network's trouble, not the notice's: logged now, and a `502`, so
/// it is retried.
pub async fn fetch_order(
    ctx: &Context,
    store: &StoreApi,
    order_id: &OrderId,
) -> Result<Fetched, InventoryError> {
    let request = store
        .get(&format!("/api/orders/{order_id}"))
        .header(reqwest::header::ACCEPT, "application/json");
    let rec = store
        .send(request, ctx.clock.now())
        .await
        .map_err(|e| InventoryError::FetchFailed(e.to_string()))?;
    let fetched = store_api::read::<Order>(&rec, "order");
    let verdict = match &fetched {
        Ok(order) => Verdict::with_detail(
            VerdictKind::Verified,
            format!("fetched: {} at the store", order.status),
        ),
        Err(failed) => Verdict::with_detail(VerdictKind::Failed, failed.to_string()),
    };
    let message = NewMessage::sent(Channel::Fetch, &rec, verdict).about(Some(order_id.clone()));
    match to_apply(fetched, order_id) {
        Ok(order) => Ok(Fetched { order, message }),
        Err(e) => {
            ctx.log.record(message).await;
            Err(e)
        }
    }
}

/// The fetched order as one to apply, once it is the one asked for and
/// passes the rules every door holds an order to.
fn to_apply(
    fetched: Result<Order, store_api::CallFailed>,
    order_id: &OrderId,
) -> Result<OrderToApply, InventoryError> {
    let order = fetched.map_err(|failed| InventoryError::FetchFailed(failed.to_string()))?;
    if order.id != *order_id {
        return Err(InventoryError::FetchFailed(format!(
            "asked for {order_id}, the store answered with {}",
            order.id
        )));
    }
    contract::validation::check_order(&order).map_err(ApiError::Validation)?;
    Ok(OrderToApply {
        wanted: Quantities::of_order(&order),
        order_id: order.id,
        channel: IntegrationMode::Hybrid,
        order_created_at: Some(order.created_at),
    })
}
