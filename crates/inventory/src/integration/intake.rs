//! **Group commit for what the store sends**: the webhooks and api calls
//! that arrive at the same moment are applied in one transaction.
//!
//! Each request is verified and read on its own (`super::webhook_receiver`,
//! `super::update_inventory`), then handed here as one [`Arrival`] and
//! answered once its transaction has committed — never before, so a `2xx`
//! always means the stock change and the ledger row are on disk. Every
//! arrival that came in while the previous transaction was committing
//! shares the next one (`platform::group_commit`): the webhook inbox is
//! checked for all of them at once, their orders go through
//! [`super::apply::apply_orders_once`] together — each still all or
//! nothing, in the order they arrived — and the inbox notes every new
//! message, all before one commit.
//!
//! If that transaction fails, or a concurrent one (PostgreSQL) wrote one of
//! the same orders or messages first, every arrival is applied again on its
//! own — so one that cannot be written fails alone, and a race becomes an
//! ordinary repeat.

use std::collections::HashMap;

use contract::ApplyOutcome;
use platform::group_commit::Batch;
use platform::{Db, SharedClock};

use super::apply::{Applied, OrderToApply, apply_orders_once};
use crate::error::InventoryError;
use crate::idempotency::{self, NewMessage, Noted};

/// One request's work: an order to apply, a webhook message to note, or
/// both (an `order.created` webhook).
#[derive(Debug, Clone)]
pub struct Arrival {
    pub order: Option<OrderToApply>,
    pub message: Option<Message>,
}

/// A verified webhook message, by its sender's `webhook-id`.
#[derive(Debug, Clone)]
pub struct Message {
    pub webhook_id: String,
    /// The sender's word, which may be a type we do not know.
    pub event_type: String,
}

/// What became of an [`Arrival`].
#[derive(Debug)]
pub enum Taken {
    /// Its order was applied — or found applied before.
    Applied(Applied),
    /// The same webhook message came before: nothing was done again; what
    /// the first copy carried and came to.
    Duplicate(Noted),
    /// A message without an order (a ping, an unknown type), noted.
    Noted,
}

/// Tries before a race is given up on (each try is a repeat of the last).
const TRIES: usize = 3;

/// Applies arrivals, many per transaction.
pub struct Intake {
    db: Db,
    clock: SharedClock,
}

impl Intake {
    pub fn new(db: Db, clock: SharedClock) -> Intake {
        Intake { db, clock }
    }

    /// `Ok(None)`: a concurrent transaction got there first; rolled back.
    async fn write_together(
        &self,
        batch: &[Arrival],
    ) -> Result<Option<Vec<Result<Taken, InventoryError>>>, InventoryError> {
        let now = self.clock.now();
        let mut tx = self.db.begin_write().await?;

        // A message seen before — or earlier in this batch — is a duplicate.
        let ids: Vec<&str> = batch
            .iter()
            .filter_map(|a| Some(a.message.as_ref()?.webhook_id.as_str()))
            .collect();
        let mut seen = idempotency::messages_seen(&mut tx, &ids).await?;
        let mut first_of: HashMap<&str, usize> = HashMap::new();
        let mut results: Vec<Option<Result<Taken, InventoryError>>> = Vec::new();
        let mut orders = Vec::new();
        let mut applies = Vec::new(); // (arrival index, order index)
        for (i, arrival) in batch.iter().enumerate() {
            if let Some(m) = &arrival.message {
                if let Some(noted) = seen.remove(&m.webhook_id) {
                    results.push(Some(Ok(Taken::Duplicate(noted))));
                    continue;
                }
                if first_of.contains_key(m.webhook_id.as_str()) {
                    results.push(None); // a copy of an earlier arrival: filled in below
                    continue;
                }
                first_of.insert(&m.webhook_id, i);
            }
            match &arrival.order {
                Some(order) => {
                    applies.push((i, orders.len()));
                    orders.push(order.clone());
                    results.push(None);
                }
                None => results.push(Some(Ok(Taken::Noted))),
            }
        }

        let Some(applied) = apply_orders_once(&mut tx, &orders, now).await? else {
            tx.rollback().await?;
            return Ok(None);
        };
        let mut applied: Vec<Option<Result<Applied, InventoryError>>> =
            applied.into_iter().map(Some).collect();
        for (i, k) in applies {
            results[i] = applied[k].take().map(|r| r.map(Taken::Applied));
        }

        // Note every new message with what became of its order — except
        // one whose order was refused: the sender will send it again.
        let mut notes = Vec::new();
        for (&webhook_id, &i) in &first_of {
            if matches!(results[i], Some(Err(_))) {
                continue;
            }
            let event_type = &batch[i].message.as_ref().expect("a message").event_type;
            let noted = noted_of(batch[i].order.as_ref(), results[i].as_ref());
            notes.push(NewMessage {
                webhook_id,
                event_type,
                noted,
            });
        }
        if !idempotency::note_messages(&mut tx, &notes, now).await? {
            tx.rollback().await?;
            return Ok(None);
        }
        tx.commit().await?;

        // Copies of a message within the batch: duplicates of the first.
        let copies: Vec<(usize, Noted)> = batch
            .iter()
            .enumerate()
            .filter(|(i, _)| results[*i].is_none())
            .map(|(i, a)| {
                let first = first_of[a.message.as_ref().expect("a copy").webhook_id.as_str()];
                (
                    i,
                    noted_of(batch[first].order.as_ref(), results[first].as_ref()),
                )
            })
            .collect();
        for (i, noted) in copies {
            results[i] = Some(Ok(Taken::Duplicate(noted)));
        }
        Ok(Some(
            results
                .into_iter()
                .map(|r| r.expect("every arrival decided"))
                .collect(),
        ))
    }

    /// One arrival alone, tried again if it raced a concurrent transaction.
    async fn write_one(&self, arrival: &Arrival) -> Result<Taken, InventoryError> {
        for _ in 0..TRIES {
            if let Some(mut results) = self.write_together(std::slice::from_ref(arrival)).await? {
                return results.remove(0);
            }
        }
        Err(anyhow::anyhow!("gave up after {TRIES} races with concurrent requests").into())
    }
}

/// What the inbox notes of a message: the order it carried and its outcome.
fn noted_of(order: Option<&OrderToApply>, result: Option<&Result<Taken, InventoryError>>) -> Noted {
    let outcome: Option<ApplyOutcome> = match result {
        Some(Ok(Taken::Applied(applied))) => Some(applied.outcome),
        _ => None,
    };
    Noted {
        order_id: order
            .map(|o| o.order_id.clone())
            .filter(|_| outcome.is_some()),
        outcome,
    }
}

impl Batch for Intake {
    type Job = Arrival;
    type Done = Result<Taken, InventoryError>;

    async fn write(&self, batch: Vec<Arrival>) -> Vec<Result<Taken, InventoryError>> {
        if batch.len() == 1 {
            return vec![self.write_one(&batch[0]).await];
        }
        match self.write_together(&batch).await {
            Ok(Some(results)) => return results,
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, size = batch.len(), "a shared transaction failed; applying each arrival on its own");
            }
        }
        let mut results = Vec::with_capacity(batch.len());
        for arrival in &batch {
            results.push(self.write_one(arrival).await);
        }
        results
    }
}
