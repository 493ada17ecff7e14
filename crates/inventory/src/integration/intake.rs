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
//! nothing, in the order they arrived — the inbox notes every new message,
//! and each request's entry in the message log is written, all before one
//! commit: the log says what was done in the same transaction that did it.
//!
//! If that transaction fails, or a concurrent one (PostgreSQL) wrote one of
//! the same orders or messages first, every arrival is applied again on its
//! own (the group commit's policy) — so one that cannot be written fails
//! alone, and a race becomes an ordinary repeat.

use std::collections::HashMap;

use std::sync::Arc;

use contract::{ApplyOutcome, LogEntryId, Verdict};
use platform::group_commit::{Batch, CommitError, GroupCommit};
use platform::{Db, SharedClock};

use super::apply::{Applied, OrderToApply, apply_orders_once};
use crate::error::InventoryError;
use crate::idempotency::{self, Noted};
use crate::instruments::messages::{self, NewMessage};
use crate::reply::Reply;

/// One request's work: an order to apply, a webhook message to note, or
/// both (an `order.created` webhook) — and how to answer it.
pub struct Arrival {
    pub order: Option<OrderToApply>,
    pub message: Option<Message>,
    /// The answer and the log entry, from what became of it (none: nothing
    /// to log, as for a polled order).
    pub answer: Option<Answer>,
}

/// How a request is answered, from what became of its arrival: called in
/// the transaction, so that its log entry commits with the effect — and
/// called again if the arrival has to be applied again on its own.
pub type Answer = Arc<dyn Fn(&Result<Taken, InventoryError>) -> Answered + Send + Sync>;

/// The answer for a request's sender, and the log's entry for it.
pub struct Answered {
    pub reply: Reply,
    pub verdict: Verdict,
    pub log: NewMessage,
}

/// What became of an [`Arrival`], and its answer if it was logged with it.
pub struct Done {
    pub taken: Result<Taken, InventoryError>,
    /// Answered, and logged in the same transaction (none if that
    /// transaction failed, or the arrival had no [`Answer`]).
    pub logged: Option<(LogEntryId, Answered)>,
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

/// Hands one request's arrival to the intake and waits for its answer,
/// which is in the message log (and on open pages) by the time it returns:
/// logged in the transaction that applied it, or — if that transaction
/// failed and the arrival was applied on its own — logged now.
pub async fn answer(
    intake: &GroupCommit<Intake>,
    log: &GroupCommit<messages::LogWriter>,
    live: &platform::live::LiveHub,
    arrival: Arrival,
) -> Result<(Answered, Result<Taken, InventoryError>), InventoryError> {
    let answer = arrival.answer.clone().expect("an arrival that is answered");
    let done = match intake.submit(arrival).await {
        Ok(done) => done,
        Err(CommitError::Write(IntakeError::Failed(e))) => Done {
            taken: Err(e),
            logged: None,
        },
        Err(e) => Done {
            taken: Err(anyhow::Error::from(e).into()),
            logged: None,
        },
    };
    let answered = match done.logged {
        Some((id, answered)) => {
            messages::publish(live, &id, &answered.log);
            answered
        }
        None => {
            let answered = answer(&done.taken);
            messages::record_quietly(log, live, answered.log.clone()).await;
            answered
        }
    };
    Ok((answered, done.taken))
}

/// Why arrivals could not be applied together (nothing was).
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// A concurrent transaction wrote one of the same orders or messages
    /// first: tried again, it is an ordinary repeat.
    #[error("a concurrent request applied the same order or message first")]
    Raced,
    #[error(transparent)]
    Failed(#[from] InventoryError),
}

impl From<sqlx::Error> for IntakeError {
    fn from(e: sqlx::Error) -> IntakeError {
        IntakeError::Failed(e.into())
    }
}

/// Applies arrivals, many per transaction.
pub struct Intake {
    db: Db,
    clock: SharedClock,
}

impl Intake {
    pub fn new(db: Db, clock: SharedClock) -> Intake {
        Intake { db, clock }
    }
}

impl Batch for Intake {
    type Job = Arrival;
    type Done = Done;
    type Error = IntakeError;

    /// A race lost is tried again: the second time, it is a repeat.
    fn try_again(&self, error: &IntakeError) -> bool {
        matches!(error, IntakeError::Raced)
    }

    async fn write_together(&self, batch: &[Arrival]) -> Result<Vec<Done>, IntakeError> {
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
            return Err(IntakeError::Raced);
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
            notes.push(idempotency::Received {
                webhook_id,
                event_type,
                noted,
            });
        }
        if !idempotency::note_messages(&mut tx, &notes, now).await? {
            tx.rollback().await?;
            return Err(IntakeError::Raced);
        }

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
        let results: Vec<Result<Taken, InventoryError>> = results
            .into_iter()
            .map(|r| r.expect("every arrival decided"))
            .collect();

        // Every request's answer, and its entry in the log, in this same
        // transaction.
        let mut logged: Vec<Option<(LogEntryId, Answered)>> = batch
            .iter()
            .zip(&results)
            .map(|(a, taken)| Some((LogEntryId::new(), a.answer.as_ref()?(taken))))
            .collect();
        let entries: Vec<(&LogEntryId, &NewMessage)> = logged
            .iter()
            .flatten()
            .map(|(id, answered)| (id, &answered.log))
            .collect();
        messages::insert_all(&mut tx, &entries).await?;
        tx.commit().await?;
        Ok(results
            .into_iter()
            .zip(logged.iter_mut())
            .map(|(taken, logged)| Done {
                taken,
                logged: logged.take(),
            })
            .collect())
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
