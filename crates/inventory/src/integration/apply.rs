//! **The one call every channel ends in:** [`apply_orders_once`].
//!
//! Whether an order arrives as an api call, a webhook or a polled feed
//! entry — once, twice, or through two channels after a mode switch — it
//! goes through here, keyed by its order id:
//!
//! 1. **look it up** in the ledger (`crate::idempotency`); a repeat stops
//!    here with the first arrival's outcome and answer;
//! 2. **take the stock**, all or nothing (`crate::stock::Book`);
//! 3. **write down** what happened — the ledger row with the stock it took
//!    — in the same transaction, which the caller commits (the intake notes
//!    a webhook's inbox row in it too).
//!
//! Orders that arrive together are applied together, in the order they
//! arrived: one lookup, one read of the stock, one insert into the ledger
//! for all of them (group commit: the intake module) — and each is still
//! all or nothing on its own.
//!
//! What a shortage means depends on who asked:
//! * **api** — the store is waiting to tell the customer: the outcome is
//!   `rejected` (a `409` with the shortages) and the store refuses the order.
//! * **webhook / poll** — the store already accepted the order: it is
//!   recorded as `backordered`, taking nothing, and the store shows it so.
//!
//! Once the caller has committed, [`note_applied`] counts a first arrival
//! and tells open pages that the stock moved.
//!
//! [`void_order`] is the way back, for the api channel's compensation: it
//! gives back what an order took, or leaves a tombstone for one that never
//! arrived.

use std::collections::HashMap;

use serde::Serialize;
use sqlx::AnyConnection;

use contract::inventory::{StockLevel, UpdateInventoryResponse};
use contract::{ApplyOutcome, IntegrationMode, OrderId, Sku, Timestamp};

use crate::context::Context;
use crate::error::InventoryError;
use crate::idempotency::{self, FirstArrival, StoredAnswer};
use crate::instruments::metrics::ApplyLabels;
use crate::stock::{self, Book, Quantities, Taken};

/// An order as the inventory needs it, from whichever channel.
#[derive(Debug, Clone)]
pub struct OrderToApply {
    pub order_id: OrderId,
    pub wanted: Quantities,
    /// The channel that brought it: decides what a shortage means.
    pub channel: IntegrationMode,
    /// When the store created it, for the end-to-end latency charts.
    pub order_created_at: Option<Timestamp>,
}

/// What [`apply_orders_once`] did with an order (or had done the first time).
#[derive(Debug, Clone)]
pub struct Applied {
    pub outcome: ApplyOutcome,
    /// False when the order had been applied (or refused, or voided) before.
    pub first_time: bool,
    /// The channel of the first arrival.
    pub first_channel: IntegrationMode,
    /// The api answer recorded the first time.
    pub answer: StoredAnswer,
    /// Stock levels of the order's SKUs after this call.
    pub stock: Vec<StockLevel>,
}

/// Applies each order at most once, in their order, on the caller's
/// transaction (the caller commits). One result per order: an order can
/// fail alone (a repeat that asks for other items).
///
/// `Ok(None)`: a concurrent transaction wrote one of these orders down
/// first (PostgreSQL); roll back and try again, and it will be a repeat.
pub async fn apply_orders_once(
    tx: &mut AnyConnection,
    orders: &[OrderToApply],
    now: Timestamp,
) -> Result<Option<Vec<Result<Applied, InventoryError>>>, InventoryError> {
    // 1. Look every order up: which arrived before?
    let ids: Vec<&OrderId> = orders.iter().map(|o| &o.order_id).collect();
    let mut seen: HashMap<OrderId, FirstArrival> = idempotency::first_arrivals(tx, &ids).await?;

    // 2. Take the stock, order by order, all or nothing each.
    let mut book = Book::open(tx, orders.iter().flat_map(|o| o.wanted.skus())).await?;
    let mut arrivals = Vec::new();
    let mut results = Vec::with_capacity(orders.len());
    for order in orders {
        if let Some(first) = seen.get(&order.order_id) {
            results.push(repeat(first, &order.wanted, &book));
            continue;
        }
        // A SKU this inventory does not stock, asked for synchronously: the
        // request is wrong, not the stock short — refused like any invalid
        // input (`422`), with nothing written, so the order id is not
        // burnt and the corrected request succeeds. (Pushed and polled
        // orders the store already accepted; for them it is a shortage
        // that no restock will end: backordered, as before.)
        if order.channel == IntegrationMode::Api {
            let unknown: Vec<Sku> = order
                .wanted
                .skus()
                .filter(|sku| !book.stocks(sku))
                .cloned()
                .collect();
            if !unknown.is_empty() {
                results.push(Err(InventoryError::UnknownSkus(unknown)));
                continue;
            }
        }
        let arrival = take(&mut book, order)?;
        results.push(Ok(Applied {
            outcome: arrival.outcome,
            first_time: true,
            first_channel: order.channel,
            answer: arrival.answer.clone(),
            stock: book.levels(order.wanted.skus()),
        }));
        // A second copy later in this same batch is a repeat of this one.
        seen.insert(order.order_id.clone(), arrival.clone());
        arrivals.push(arrival);
    }

    // 3. Write down what happened: the ledger, the stock, its movements.
    if !idempotency::record_arrivals(tx, &arrivals, now).await? {
        return Ok(None);
    }
    book.write(tx, now).await?;
    Ok(Some(results))
}

/// Takes one new order's stock from the book, or finds it short.
fn take(book: &mut Book, order: &OrderToApply) -> Result<FirstArrival, InventoryError> {
    let (outcome, answer) = match book.take_all(&order.wanted, &order.order_id) {
        Taken::All(levels) => {
            let answer = UpdateInventoryResponse {
                order_id: order.order_id.clone(),
                applied: true,
                stock: levels,
            };
            (ApplyOutcome::Applied, json_answer(200, &answer)?)
        }
        Taken::Short(shortages) => {
            let problem = InventoryError::OutOfStock(shortages).problem();
            (shortage_outcome(order.channel), json_answer(409, &problem)?)
        }
    };
    let arrival = FirstArrival::new(
        order.order_id.clone(),
        order.channel,
        &order.wanted,
        outcome,
        answer,
        order.order_created_at,
    );
    Ok(arrival.map_err(anyhow::Error::from)?)
}

/// A repeat gets the first arrival's outcome and answer — unless it asks
/// for other items under the same id, which is a client's mistake.
fn repeat(
    first: &FirstArrival,
    wanted: &Quantities,
    book: &Book,
) -> Result<Applied, InventoryError> {
    if first.differs_from(&idempotency::request_hash(wanted)) {
        return Err(platform::ApiError::IdempotencyKeyReused.into());
    }
    Ok(Applied {
        outcome: first.outcome,
        first_time: false,
        first_channel: first.channel,
        answer: first.answer.clone(),
        stock: book.levels(wanted.skus()),
    })
}

/// Short stock: refused while the customer waits, backordered once the
/// store has accepted the order.
pub fn shortage_outcome(channel: IntegrationMode) -> ApplyOutcome {
    match channel {
        IntegrationMode::Api => ApplyOutcome::Rejected,
        IntegrationMode::Webhook | IntegrationMode::Poll | IntegrationMode::Hybrid => {
            ApplyOutcome::Backordered
        }
    }
}

/// After an order was taken in by any channel, and its transaction
/// committed: the first time, count it and tell open pages that the stock
/// moved (a repeat moved nothing).
pub fn note_applied(
    ctx: &Context,
    channel: IntegrationMode,
    order_id: &OrderId,
    applied: &Applied,
) {
    if !applied.first_time {
        return;
    }
    ctx.metrics
        .orders_applied
        .get_or_create(&ApplyLabels::new(channel, applied.outcome))
        .inc();
    ctx.live.publish(
        contract::LiveEventKind::StockChanged,
        crate::live::StockChangedData {
            order_id: Some(order_id.clone()),
            stock: Some(applied.stock.clone()),
        },
    );
}

fn json_answer(status: u16, body: &impl Serialize) -> Result<StoredAnswer, InventoryError> {
    Ok(StoredAnswer {
        status,
        body: serde_json::to_string(body).map_err(anyhow::Error::from)?,
    })
}

/// What a void did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Voided {
    pub order_id: OrderId,
    pub outcome: ApplyOutcome,
    /// Stock that had been taken and was put back now.
    pub restored: bool,
    /// The order had never arrived: a tombstone now refuses it if it does.
    pub tombstone: bool,
}

/// Withdraws an order for the store (api-mode compensation): puts back
/// whatever it took, and leaves a tombstone so a late copy of the original
/// request is refused instead of applied. Idempotent.
pub async fn void_order(
    tx: &mut AnyConnection,
    order_id: &OrderId,
    now: Timestamp,
) -> Result<Voided, InventoryError> {
    let answer = json_answer(409, &InventoryError::Voided(order_id.clone()).problem())?;
    let voided = |restored, tombstone| Voided {
        order_id: order_id.clone(),
        outcome: ApplyOutcome::Voided,
        restored,
        tombstone,
    };
    if idempotency::tombstone(tx, order_id, &answer, now).await? {
        return Ok(voided(false, true));
    }
    let first = idempotency::first_arrival(tx, order_id).await?;
    let restored = first.outcome == ApplyOutcome::Applied;
    if restored {
        let taken = first.taken().map_err(anyhow::Error::from)?;
        stock::put_back(tx, &taken, order_id, now).await?;
    }
    if first.outcome != ApplyOutcome::Voided {
        idempotency::withdraw(tx, order_id, &answer, now).await?;
    }
    Ok(voided(restored, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shortage_is_a_refusal_only_while_the_customer_waits() {
        assert_eq!(
            shortage_outcome(IntegrationMode::Api),
            ApplyOutcome::Rejected
        );
        assert_eq!(
            shortage_outcome(IntegrationMode::Webhook),
            ApplyOutcome::Backordered
        );
        assert_eq!(
            shortage_outcome(IntegrationMode::Poll),
            ApplyOutcome::Backordered
        );
    }
}
