//! **At most once.** Everything that makes the inventory apply an order
//! once, however many times and through however many channels it arrives.
//!
//! The store retries api calls it got no answer to, redelivers webhooks
//! until it sees a 2xx, and serves the same feed page again after a crash;
//! a person can press "redeliver"; a mode switch can send one order down
//! two channels. Each of those is a *repeat*, and three guards turn every
//! repeat into "here is what happened the first time":
//!
//! 1. **The ledger of applied orders** (`applied_orders`), keyed by order
//!    id — the guard that matters. The first arrival [claims](claim_order)
//!    the id by inserting its row, in the same transaction as the stock it
//!    takes; the primary key makes every later arrival, from any channel,
//!    find that row instead and get the first [`Answer`] back. There is no
//!    moment at which the row exists without the stock change, or the
//!    reverse. A withdrawn order leaves a [tombstone](tombstone) so that a
//!    late copy is refused rather than applied.
//! 2. **The webhook inbox** (`webhook_inbox`), keyed by `webhook-id`: the
//!    same *message* twice (a retry of a delivery) is answered as a
//!    duplicate before anything is parsed or applied. It does not replace
//!    the ledger — two different messages can carry the same order.
//! 3. **The request hash**: what an order asks for, digested, stored with
//!    its claim. A repeat whose items differ is not a repeat but a client
//!    reusing an `Idempotency-Key` for something else, and is refused.
//!
//! The one function that uses all of this with the stock is
//! `crate::integration::apply::apply_order_once`.

use sha2::{Digest, Sha256};
use sqlx::AnyConnection;

use contract::{ApplyOutcome, IntegrationMode, OrderId, Timestamp};

use crate::stock::Quantities;

/// A digest of what an order asks for (hex SHA-256 of `SKU:qty;` per SKU,
/// in SKU order), to catch an id reused for different items.
pub fn request_hash(wanted: &Quantities) -> String {
    let mut h = Sha256::new();
    for (sku, q) in wanted.iter() {
        h.update(format!("{sku}:{q};").as_bytes());
    }
    hex::encode(h.finalize())
}

/// The answer `/update_inventory` gave the first time (status and body),
/// repeated as it was to every later request for the same order — whichever
/// channel the first arrival came through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// An order's first arrival, as the ledger remembers it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FirstArrival {
    /// The mode whose channel brought it first (`api` for a tombstone: a
    /// void is the api channel's compensation).
    #[sqlx(try_from = "String")]
    pub channel: IntegrationMode,
    #[sqlx(try_from = "String")]
    pub outcome: ApplyOutcome,
    /// Empty for a tombstone: there were no items to compare.
    pub request_hash: String,
    /// What it took, as [`Quantities`] in JSON.
    items: String,
    #[sqlx(try_from = "i64")]
    answer_status: u16,
    answer: String,
}

impl FirstArrival {
    pub fn answer(&self) -> Answer {
        Answer {
            status: self.answer_status,
            body: self.answer.clone(),
        }
    }

    /// What the order took (nothing unless its outcome is `applied`).
    pub fn taken(&self) -> Result<Quantities, serde_json::Error> {
        serde_json::from_str(&self.items)
    }

    /// Whether `hash` asks for something else than the first arrival did.
    pub fn differs_from(&self, hash: &str) -> bool {
        // A tombstone has no items to compare: any request matches it.
        self.outcome != ApplyOutcome::Voided
            && !self.request_hash.is_empty()
            && self.request_hash != hash
    }
}

/// What [`claim_order`] found.
#[derive(Debug)]
pub enum Claim {
    /// The id is ours now; settle it before committing.
    Fresh,
    /// Seen before: what happened then.
    Repeat(FirstArrival),
}

/// An order arriving, to be claimed.
pub struct Arrival<'a> {
    pub order_id: &'a OrderId,
    pub channel: IntegrationMode,
    pub wanted: &'a Quantities,
    /// When the store created it, for the end-to-end latency charts.
    pub order_created_at: Option<Timestamp>,
}

/// Claims an order id in the ledger, or finds its first arrival. On
/// PostgreSQL a concurrent claim of the same id waits here until the first
/// commits, then finds it; SQLite has one writer at a time anyway.
pub async fn claim_order(
    tx: &mut AnyConnection,
    arrival: &Arrival<'_>,
    now: Timestamp,
) -> Result<Claim, anyhow::Error> {
    // The row's outcome and answer are placeholders until `settle_order`
    // fills them in, in this same transaction: nobody else sees them.
    let claimed = sqlx::query(
        "INSERT INTO applied_orders (order_id, channel, outcome, request_hash, items, answer_status, answer, \
         order_created_at, applied_at) VALUES ($1, $2, $3, $4, $5, 0, '', $6, $7) \
         ON CONFLICT (order_id) DO NOTHING RETURNING order_id",
    )
    .bind(arrival.order_id.as_str())
    .bind(arrival.channel.as_str())
    .bind(ApplyOutcome::Applied.as_str())
    .bind(request_hash(arrival.wanted))
    .bind(serde_json::to_string(arrival.wanted)?)
    .bind(arrival.order_created_at.map(Timestamp::millis))
    .bind(now.millis())
    .fetch_optional(&mut *tx)
    .await?;
    Ok(match claimed {
        Some(_) => Claim::Fresh,
        None => Claim::Repeat(first_arrival(tx, arrival.order_id).await?),
    })
}

/// Records what a fresh claim came to.
pub async fn settle_order(
    tx: &mut AnyConnection,
    order_id: &OrderId,
    outcome: ApplyOutcome,
    answer: &Answer,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE applied_orders SET outcome = $1, answer_status = $2, answer = $3 WHERE order_id = $4",
    )
    .bind(outcome.as_str())
    .bind(i64::from(answer.status))
    .bind(&answer.body)
    .bind(order_id.as_str())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub async fn first_arrival(
    tx: &mut AnyConnection,
    order_id: &OrderId,
) -> Result<FirstArrival, sqlx::Error> {
    sqlx::query_as(
        "SELECT channel, outcome, request_hash, items, answer_status, answer FROM applied_orders \
         WHERE order_id = $1",
    )
    .bind(order_id.as_str())
    .fetch_one(&mut *tx)
    .await
}

/// Withdraws an order that never arrived: its row says `voided` from the
/// start, so a late copy finds it and gets `answer`. False when the order
/// had arrived (the caller then [withdraws](withdraw) it).
pub async fn tombstone(
    tx: &mut AnyConnection,
    order_id: &OrderId,
    answer: &Answer,
    now: Timestamp,
) -> Result<bool, anyhow::Error> {
    let inserted = sqlx::query(
        "INSERT INTO applied_orders (order_id, channel, outcome, request_hash, items, answer_status, answer, \
         applied_at, voided_at) VALUES ($1, $2, $3, '', $4, $5, $6, $7, $7) \
         ON CONFLICT (order_id) DO NOTHING RETURNING order_id",
    )
    .bind(order_id.as_str())
    .bind(IntegrationMode::Api.as_str())
    .bind(ApplyOutcome::Voided.as_str())
    .bind(serde_json::to_string(&Quantities::default())?)
    .bind(i64::from(answer.status))
    .bind(&answer.body)
    .bind(now.millis())
    .fetch_optional(&mut *tx)
    .await?;
    Ok(inserted.is_some())
}

/// Marks an arrived order withdrawn: from now on it answers `answer`.
pub async fn withdraw(
    tx: &mut AnyConnection,
    order_id: &OrderId,
    answer: &Answer,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE applied_orders SET outcome = $1, answer_status = $2, answer = $3, voided_at = $4 \
         WHERE order_id = $5",
    )
    .bind(ApplyOutcome::Voided.as_str())
    .bind(i64::from(answer.status))
    .bind(&answer.body)
    .bind(now.millis())
    .bind(order_id.as_str())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The inbox's memory of one webhook message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Receipt {
    /// Never seen: go on, and [settle](settle_message) it in this transaction.
    Fresh,
    /// Received before; the order it carried and what became of it (none
    /// for a ping or an unknown event type).
    Repeat {
        order_id: Option<OrderId>,
        outcome: Option<ApplyOutcome>,
    },
}

/// Records a webhook message's id, or finds it already there. The
/// `webhook-id` is any sender's string (not one of our typed ids), and so
/// is its event type, which may be one we do not know.
pub async fn claim_message(
    tx: &mut AnyConnection,
    webhook_id: &str,
    event_type: &str,
    now: Timestamp,
) -> Result<Receipt, sqlx::Error> {
    let fresh = sqlx::query(
        "INSERT INTO webhook_inbox (webhook_id, event_type, received_at) VALUES ($1, $2, $3) \
         ON CONFLICT (webhook_id) DO NOTHING RETURNING webhook_id",
    )
    .bind(webhook_id)
    .bind(event_type)
    .bind(now.millis())
    .fetch_optional(&mut *tx)
    .await?;
    if fresh.is_some() {
        return Ok(Receipt::Fresh);
    }
    let (order_id, outcome): (Option<String>, Option<String>) =
        sqlx::query_as("SELECT order_id, outcome FROM webhook_inbox WHERE webhook_id = $1")
            .bind(webhook_id)
            .fetch_one(&mut *tx)
            .await?;
    // Both were written by `settle_message` from typed values.
    Ok(Receipt::Repeat {
        order_id: order_id.and_then(|id| OrderId::try_from(id).ok()),
        outcome: outcome.and_then(|o| ApplyOutcome::try_from(o).ok()),
    })
}

/// Records which order a fresh message carried and what became of it.
pub async fn settle_message(
    tx: &mut AnyConnection,
    webhook_id: &str,
    order_id: &OrderId,
    outcome: ApplyOutcome,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE webhook_inbox SET order_id = $1, outcome = $2 WHERE webhook_id = $3")
        .bind(order_id.as_str())
        .bind(outcome.as_str())
        .bind(webhook_id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use contract::order::LineItem;
    use contract::{Quantity, Sku};

    fn wanted(lines: &[(&str, i64)]) -> Quantities {
        let items: Vec<LineItem> = lines
            .iter()
            .map(|(sku, q)| LineItem {
                sku: Sku::parse(sku).unwrap(),
                quantity: Quantity::parse(*q).unwrap(),
            })
            .collect();
        Quantities::of(&items)
    }

    #[test]
    fn the_request_hash_is_about_what_is_asked_not_how() {
        let a = request_hash(&wanted(&[("MUG-BLUE", 2), ("KETTLE", 1)]));
        // Same units, other line order and split: same request.
        let b = request_hash(&wanted(&[("KETTLE", 1), ("MUG-BLUE", 1), ("MUG-BLUE", 1)]));
        assert_eq!(a, b);
        assert_eq!(a.len(), 64);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(a, request_hash(&wanted(&[("MUG-BLUE", 3), ("KETTLE", 1)])));
    }

    #[test]
    fn a_repeat_with_other_items_is_told_apart() {
        let first = |outcome, hash: &str| FirstArrival {
            channel: IntegrationMode::Api,
            outcome,
            request_hash: hash.into(),
            items: "{}".into(),
            answer_status: 200,
            answer: String::new(),
        };
        assert!(!first(ApplyOutcome::Applied, "abc").differs_from("abc"));
        assert!(first(ApplyOutcome::Applied, "abc").differs_from("abd"));
        // A tombstone matches anything: the late copy is refused as voided.
        assert!(!first(ApplyOutcome::Voided, "").differs_from("abd"));
        assert!(!first(ApplyOutcome::Voided, "abc").differs_from("abd"));
    }
}
