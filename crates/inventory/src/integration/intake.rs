//! **Group commit for what the store sends**: the webhooks and api calls
//! that arrive at the same moment are applied in one transaction.
//!
//! Each request is verified and read on its own (the webhook receiver,
//! `/update_inventory`), then handed here as one [`Arrival`] and answered
//! once its transaction has committed — never before, so a `2xx` always
//! means the stock change and the ledger row are on disk. Every arrival
//! that came in while the previous transaction was committing shares the
//! next one (`platform::group_commit`), whose transaction reads in four
//! steps:
//!
//! 1. the webhook inbox is checked for all of them at once: a message seen
//!    before — or earlier in the same batch — is a duplicate;
//! 2. their orders go through [`super::apply::apply_orders_once`] together
//!    — each still all or nothing, in the order they arrived;
//! 3. the inbox notes every new message;
//! 4. each request's answer and its entry in the message log are written —
//!    all before one commit: the log says what was done in the same
//!    transaction that did it.
//!
//! If that transaction fails, or a concurrent one (PostgreSQL) wrote one of
//! the same orders or messages first, every arrival is applied again on its
//! own — the group commit's policy, written once in `platform` — so one
//! that cannot be written fails alone, and a race becomes an ordinary
//! repeat. The poller hands a whole feed page in at once
//! ([`Intake::apply_now`]), by the same policy.

use std::collections::HashMap;
use std::sync::Arc;

use sqlx::AnyConnection;

use contract::{ApplyOutcome, LogEntryId, Verdict};
use platform::group_commit::{Batch, CommitError, GroupCommit};
use platform::{Db, SharedClock};

use super::apply::{Applied, OrderToApply, apply_orders_once};
use crate::error::InventoryError;
use crate::idempotency::{self, InboxEntry, Noted, WebhookId};
use crate::instruments::messages::{self, MessageLog, NewMessage};
use crate::reply::Reply;

/// One request's work: an order to apply, a webhook message to note, or
/// both (an `order.created` webhook) — and how to answer it.
pub struct Arrival {
    pub order: Option<OrderToApply>,
    pub message: Option<WebhookMessage>,
    /// Makes the answer and the log entry from what became of it (none:
    /// nothing to log, as for a polled order).
    pub answerer: Option<Answerer>,
    /// The request that fetched the order (hybrid's fetch), logged in the
    /// same transaction, just before the answer: one commit for both, not
    /// a commit of its own on the notice's way.
    pub fetched_with: Option<NewMessage>,
}

/// Makes a request's [`Answer`] from what became of its arrival: called in
/// the transaction, so that its log entry commits with the effect — and
/// called again if the arrival has to be applied again on its own.
pub type Answerer = Arc<dyn Fn(&Result<Handled, InventoryError>) -> Answer + Send + Sync>;

/// The answer for a request's sender, and the log's entry for it.
pub struct Answer {
    pub reply: Reply,
    pub verdict: Verdict,
    pub log: NewMessage,
}

/// A verified webhook message, by its sender's `webhook-id`.
#[derive(Debug, Clone)]
pub struct WebhookMessage {
    pub id: WebhookId,
    /// The sender's word, which may be a type we do not know.
    pub event_type: String,
}

/// What became of an [`Arrival`].
#[derive(Debug)]
pub enum Handled {
    /// Its order was applied — or found applied before.
    Applied(Applied),
    /// The same webhook message came before: nothing was done again; what
    /// the first copy carried and came to.
    Duplicate(Noted),
    /// A message without an order (a ping, an unknown type), noted.
    NothingToApply,
}

/// What became of an [`Arrival`], and its answer if it was logged with it.
pub struct Done {
    pub handled: Result<Handled, InventoryError>,
    /// Answered, and logged in the same transaction (none if that
    /// transaction failed, or the arrival had no [`Answerer`]).
    pub logged: Option<(LogEntryId, Answer)>,
    /// The log entry of the arrival's `fetched_with`, when logged with it.
    pub fetch_logged: Option<LogEntryId>,
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

impl From<IntakeError> for InventoryError {
    fn from(e: IntakeError) -> InventoryError {
        match e {
            IntakeError::Failed(e) => e,
            raced @ IntakeError::Raced => anyhow::Error::from(raced).into(),
        }
    }
}

/// The intake: arrivals applied many per transaction. One per service,
/// shared by the webhook receiver, `/update_inventory` and the poller.
pub struct Intake {
    commit: GroupCommit<IntakeWriter>,
}

impl Intake {
    pub fn new(db: Db, clock: SharedClock) -> Intake {
        Intake {
            commit: GroupCommit::new(IntakeWriter { db, clock }),
        }
    }

    /// Hands one request's arrival in and waits for its answer, which is in
    /// the message log (and on open pages) by the time it returns: logged
    /// in the transaction that applied it, or — if that transaction failed
    /// and the arrival was applied on its own — logged now.
    pub async fn answer(
        &self,
        log: &MessageLog,
        arrival: Arrival,
    ) -> (Answer, Result<Handled, InventoryError>) {
        let answerer = arrival
            .answerer
            .clone()
            .expect("an arrival that is answered");
        let fetched_with = arrival.fetched_with.clone();
        let failed = |handled| Done {
            handled,
            logged: None,
            fetch_logged: None,
        };
        let done = match self.commit.submit(arrival).await {
            Ok(done) => done,
            Err(CommitError::Write(e)) => failed(Err(e.into())),
            Err(e) => failed(Err(anyhow::Error::from(e).into())),
        };
        if let Some(fetch) = fetched_with {
            match &done.fetch_logged {
                Some(id) => log.announce(id, &fetch),
                None => log.record(fetch).await,
            }
        }
        let answer = match done.logged {
            Some((id, answer)) => {
                log.announce(&id, &answer.log);
                answer
            }
            None => {
                let answer = answerer(&done.handled);
                log.record(answer.log.clone()).await;
                answer
            }
        };
        (answer, done.handled)
    }

    /// Applies arrivals the caller has in hand already (a feed page) now,
    /// together — by the same policy, without waiting for company.
    pub async fn apply_now(&self, arrivals: &[Arrival]) -> Vec<Result<Handled, InventoryError>> {
        if arrivals.is_empty() {
            return Vec::new();
        }
        let done = self.commit.write_batch(arrivals).await;
        done.into_iter()
            .map(|done| match done {
                Ok(done) => done.handled,
                Err(e) => Err(e.into()),
            })
            .collect()
    }
}

/// Writes a batch of arrivals in one transaction (the group commit's
/// [`Batch`]).
struct IntakeWriter {
    db: Db,
    clock: SharedClock,
}

impl Batch for IntakeWriter {
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

        // 1. A message seen before — or earlier in this batch — is a duplicate.
        let ids: Vec<&WebhookId> = batch
            .iter()
            .filter_map(|a| Some(&a.message.as_ref()?.id))
            .collect();
        let seen = idempotency::messages_seen(&mut tx, &ids).await?;
        let mut sorted = Sorted::out(batch, seen);

        // 2. Apply the orders, together, each once.
        let Some(applied) = apply_orders_once(&mut tx, &sorted.orders, now).await? else {
            tx.rollback().await?;
            return Err(IntakeError::Raced);
        };
        sorted.applied(applied);

        // 3. Note every new message with what became of its order.
        if !idempotency::note_messages(&mut tx, &sorted.inbox_entries(batch), now).await? {
            tx.rollback().await?;
            return Err(IntakeError::Raced);
        }
        let results = sorted.finish(batch);

        // 4. Every request's answer, and its entry in the log, in this same
        // transaction.
        let logged = log_answers(&mut tx, batch, &results).await?;
        tx.commit().await?;
        Ok(results
            .into_iter()
            .zip(logged)
            .map(|(handled, (fetch_logged, logged))| Done {
                handled,
                logged,
                fetch_logged,
            })
            .collect())
    }
}

/// A batch sorted out: what is known of each arrival so far, and the
/// orders still to apply.
struct Sorted<'a> {
    /// Per arrival, once decided; `None` while its order is being applied,
    /// or it is a copy of an earlier arrival's message.
    results: Vec<Option<Result<Handled, InventoryError>>>,
    orders: Vec<OrderToApply>,
    /// The arrival each order came from.
    order_of: Vec<usize>,
    /// Each new message's first arrival in the batch.
    first_of: HashMap<&'a WebhookId, usize>,
}

impl<'a> Sorted<'a> {
    fn out(batch: &'a [Arrival], mut seen: HashMap<WebhookId, Noted>) -> Sorted<'a> {
        let mut sorted = Sorted {
            results: Vec::with_capacity(batch.len()),
            orders: Vec::new(),
            order_of: Vec::new(),
            first_of: HashMap::new(),
        };
        for (i, arrival) in batch.iter().enumerate() {
            if let Some(m) = &arrival.message {
                if let Some(noted) = seen.remove(&m.id) {
                    sorted.results.push(Some(Ok(Handled::Duplicate(noted))));
                    continue;
                }
                if sorted.first_of.contains_key(&m.id) {
                    sorted.results.push(None); // a copy: decided by `finish`
                    continue;
                }
                sorted.first_of.insert(&m.id, i);
            }
            match &arrival.order {
                Some(order) => {
                    sorted.order_of.push(i);
                    sorted.orders.push(order.clone());
                    sorted.results.push(None);
                }
                None => sorted.results.push(Some(Ok(Handled::NothingToApply))),
            }
        }
        sorted
    }

    /// What applying the orders came to, each to its arrival.
    fn applied(&mut self, applied: Vec<Result<Applied, InventoryError>>) {
        for (&i, result) in self.order_of.iter().zip(applied) {
            self.results[i] = Some(result.map(Handled::Applied));
        }
    }

    /// The inbox's entries for the new messages — except one whose order
    /// was refused: the sender will send it again.
    fn inbox_entries(&self, batch: &'a [Arrival]) -> Vec<InboxEntry<'a>> {
        self.first_of
            .iter()
            .filter(|(_, i)| !matches!(self.results[**i], Some(Err(_))))
            .map(|(&webhook_id, &i)| InboxEntry {
                webhook_id,
                event_type: &batch[i].message.as_ref().expect("a message").event_type,
                noted: noted_of(batch[i].order.as_ref(), self.results[i].as_ref()),
            })
            .collect()
    }

    /// Every arrival decided: copies of a message within the batch are
    /// duplicates of the first.
    fn finish(mut self, batch: &[Arrival]) -> Vec<Result<Handled, InventoryError>> {
        for (i, arrival) in batch.iter().enumerate() {
            if self.results[i].is_some() {
                continue;
            }
            let id = &arrival.message.as_ref().expect("a copy").id;
            let first = self.first_of[id];
            let noted = noted_of(batch[first].order.as_ref(), self.results[first].as_ref());
            self.results[i] = Some(Ok(Handled::Duplicate(noted)));
        }
        self.results
            .into_iter()
            .map(|r| r.expect("every arrival decided"))
            .collect()
    }
}

/// What the inbox notes of a message: the order it carried and its outcome.
fn noted_of(
    order: Option<&OrderToApply>,
    result: Option<&Result<Handled, InventoryError>>,
) -> Noted {
    let outcome: Option<ApplyOutcome> = match result {
        Some(Ok(Handled::Applied(applied))) => Some(applied.outcome),
        _ => None,
    };
    Noted {
        order_id: order
            .map(|o| o.order_id.clone())
            .filter(|_| outcome.is_some()),
        outcome,
    }
}

/// Each answered arrival's answer — after the fetch that brought its
/// order, if one did — written into the message log on the batch's
/// transaction.
async fn log_answers(
    tx: &mut AnyConnection,
    batch: &[Arrival],
    results: &[Result<Handled, InventoryError>],
) -> Result<Vec<LoggedAnswer>, sqlx::Error> {
    let logged: Vec<LoggedAnswer> = batch
        .iter()
        .zip(results)
        .map(|(a, handled)| {
            let answer = a
                .answerer
                .as_ref()
                .map(|answerer| (LogEntryId::new(), answerer(handled)));
            let fetch = a.fetched_with.as_ref().map(|_| LogEntryId::new());
            (fetch, answer)
        })
        .collect();
    let mut entries: Vec<(&LogEntryId, &NewMessage)> = Vec::new();
    for (a, (fetch_id, answer)) in batch.iter().zip(&logged) {
        if let (Some(id), Some(fetch)) = (fetch_id, &a.fetched_with) {
            entries.push((id, fetch));
        }
        if let Some((id, answer)) = answer {
            entries.push((id, &answer.log));
        }
    }
    messages::insert_all(tx, &entries).await?;
    Ok(logged)
}

/// An arrival's log entries written with it: its fetch's, its answer's.
type LoggedAnswer = (Option<LogEntryId>, Option<(LogEntryId, Answer)>);
