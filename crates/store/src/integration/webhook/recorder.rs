//! Step 6, many at a time — **record and resolve**: the [`Recorder`]
//! writes finished attempts to the database, every attempt that finished
//! while the previous write was committing in one transaction
//! (`platform::group_commit`).
//!
//! For each attempt, in that one transaction: its exchange in the message
//! log (request, response, latency, error); its delivery moved on —
//! succeeded, retried later, failed for good — and its lease given back;
//! a `410` endpoint disabled; and, when the inventory's `2xx` body says what
//! it did with the order (`contract::inventory::WebhookAck`), the order
//! resolved: `confirmed`, or `backordered` when the push oversold. Only the
//! inventory's own subscription's answer counts (the endpoint's role, see
//! `super::endpoints`), and only for the order's own mode: an
//! `order.created` answer for a webhook-mode order, an `order.notice`
//! answer for a hybrid one. Each
//! table gets one statement per batch in the common case (every attempt
//! succeeded), whatever its size.
//!
//! **Nothing is lost by batching.** An attempt is recorded only if this
//! dispatcher still holds its delivery's lease. If the process dies before
//! the batch commits, the attempts in it were sent but not recorded: their
//! deliveries are still pending and leased, and once the leases run out
//! they are claimed and sent again — at-least-once, as a crash mid-attempt
//! always was; the receiver's de-duplication on `webhook-id` makes the
//! second copy harmless. And if the batch fails, each attempt is recorded
//! alone, so that one that cannot be written does not take the others
//! with it.

use std::collections::{BTreeMap, HashSet};

use sqlx::AnyConnection;

use contract::inventory::WebhookAck;
use contract::{
    ApplyOutcome, Channel, DeliveryId, DeliveryState, EventType, ExchangeId, IntegrationMode,
    OrderId, OrderStatus, Timestamp,
};
use platform::group_commit::Batch;
use platform::outbound::Recorded;
use platform::{Db, SharedClock};

use super::delivery::Claimed;
use super::endpoints;
use super::retry::Decision;
use crate::orders::{self, Resolution};
use crate::timeline::{self, AttemptInfo, NewExchange};
use crate::vocabulary::Trigger;

/// An attempt that has been sent and decided, to be recorded.
pub struct Finished {
    pub claimed: Claimed,
    pub rec: Recorded,
    pub decision: Decision,
    /// Failures so far, this attempt included.
    pub failures: i64,
    /// Whether the endpoint's answer may resolve the order: only the
    /// inventory's own subscription's does (`EndpointRole::Resolver`).
    pub resolves: bool,
    /// When it was decided.
    pub at: Timestamp,
}

/// What was recorded, for publishing once it has committed.
pub struct AttemptRecorded {
    pub exchange_id: ExchangeId,
    pub exchange: NewExchange,
    pub state: DeliveryState,
    /// The order's new status, if this attempt resolved it.
    pub resolved: Option<(OrderStatus, Option<String>)>,
}

/// Records finished attempts of one dispatcher, many per transaction.
pub struct Recorder {
    db: Db,
    clock: SharedClock,
    /// The process's name in lease columns.
    owner: String,
}

impl Recorder {
    pub fn new(db: Db, clock: SharedClock, owner: String) -> Recorder {
        Recorder { db, clock, owner }
    }

    /// Every delivery moved on and its lease given back: the successes in
    /// one statement per status code, anything else one by one.
    async fn move_deliveries(
        &self,
        tx: &mut AnyConnection,
        batch: &[Finished],
        now: Timestamp,
    ) -> Result<(), sqlx::Error> {
        let mut succeeded: BTreeMap<u16, Vec<&DeliveryId>> = BTreeMap::new();
        let mut moved = 0;
        for f in batch {
            match (&f.decision, f.rec.status()) {
                (Decision::Succeeded, Some(status)) => {
                    succeeded.entry(status).or_default().push(&f.claimed.id);
                }
                _ => moved += self.move_one(tx, f).await?,
            }
        }
        let mut statements: Vec<(u16, &[&DeliveryId])> = Vec::new();
        for (status, ids) in &succeeded {
            for chunk in ids.chunks(platform::db::MAX_BINDS_PER_STATEMENT) {
                statements.push((*status, chunk));
            }
        }
        for (status, ids) in statements {
            let sql = sqlx::AssertSqlSafe(format!(
                "UPDATE webhook_deliveries SET state = $1, attempts = attempts + 1, failures = 0, \
                 next_attempt_at = $2, next_trigger = $3, lease_owner = NULL, lease_expires_at = NULL, \
                 last_status = $4, last_error = NULL, completed_at = $2, updated_at = $2 \
                 WHERE lease_owner = $5 AND id IN ({})",
                platform::db::placeholders(6, ids.len())
            ));
            let mut query = sqlx::query(sql)
                .bind(DeliveryState::Succeeded.as_str())
                .bind(now.millis())
                .bind(Trigger::Scheduled.as_str())
                .bind(i64::from(status))
                .bind(self.owner.as_str());
            for id in ids {
                query = query.bind(id.as_str());
            }
            moved += query.execute(&mut *tx).await?.rows_affected();
        }
        if moved < batch.len() as u64 {
            // A lease expired mid-attempt and someone else owns the delivery
            // now; the attempt stays in the log but decides nothing.
            tracing::warn!(
                lost = batch.len() as u64 - moved,
                "lease lost during an attempt; result recorded, decision left to the new owner"
            );
        }
        Ok(())
    }

    async fn move_one(&self, tx: &mut AnyConnection, f: &Finished) -> Result<u64, sqlx::Error> {
        let to = Move::after(&f.decision, f.at);
        // A 410 is the endpoint's doing, not the message's: the failure
        // count (and so the schedule) is left where it was for when it
        // comes back.
        let failures = if f.decision == Decision::EndpointGone {
            f.claimed.failures
        } else {
            f.failures
        };
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET state = $1, attempts = $2, failures = $3, next_attempt_at = $4, \
             next_trigger = $5, lease_owner = NULL, lease_expires_at = NULL, last_status = $6, \
             last_error = $7, completed_at = $8, updated_at = $9 WHERE id = $10 AND lease_owner = $11",
        )
        .bind(to.state.as_str())
        .bind(f.claimed.attempts + 1)
        .bind(failures)
        .bind(to.next_attempt_at.millis())
        .bind(Trigger::Scheduled.as_str())
        .bind(f.rec.status().map(i64::from))
        .bind(to.last_error.as_deref())
        .bind(to.completed_at.map(Timestamp::millis))
        .bind(f.at.millis())
        .bind(f.claimed.id.as_str())
        .bind(self.owner.as_str())
        .execute(&mut *tx)
        .await?;
        Ok(done.rows_affected())
    }
}

impl Batch for Recorder {
    type Job = Finished;
    type Done = AttemptRecorded;
    type Error = sqlx::Error;

    async fn write_together(
        &self,
        batch: &[Finished],
    ) -> Result<Vec<AttemptRecorded>, sqlx::Error> {
        let now = self.clock.now();
        let exchanges: Vec<NewExchange> = batch.iter().map(exchange_of).collect();
        let mut tx = self.db.begin_write().await?;
        let logged: Vec<(&NewExchange, Vec<&OrderId>)> = exchanges
            .iter()
            .zip(batch)
            .map(|(exchange, f)| (exchange, f.claimed.order_id.iter().collect()))
            .collect();
        let exchange_ids = timeline::record_all(&mut tx, &logged).await?;
        self.move_deliveries(&mut tx, batch, now).await?;
        for f in batch
            .iter()
            .filter(|f| f.decision == Decision::EndpointGone)
        {
            endpoints::disable_gone(&mut tx, &f.claimed.endpoint_id, now).await?;
        }
        let outcomes: Vec<Option<(OrderStatus, Option<String>)>> = batch
            .iter()
            .map(|f| {
                // An observer's answer is logged, and decides nothing.
                if !f.resolves {
                    return None;
                }
                let outcome = inventory_outcome(&f.rec, &f.decision)?;
                f.claimed.order_id.as_ref()?;
                Some(orders::resolution(outcome, None))
            })
            .collect();
        let (wanted, modes): (Vec<Resolution>, Vec<IntegrationMode>) = batch
            .iter()
            .zip(&outcomes)
            .filter_map(|(f, outcome)| {
                let (status, reason) = outcome.as_ref()?;
                let resolution = Resolution {
                    order_id: f.claimed.order_id.as_ref()?,
                    status: *status,
                    reason: reason.as_deref(),
                };
                Some((resolution, order_mode(f.claimed.event_type)))
            })
            .unzip();
        let resolved = resolve_by_mode(&mut tx, &wanted, &modes, now).await?;
        tx.commit().await?;
        Ok(batch
            .iter()
            .zip(exchanges)
            .zip(exchange_ids)
            .zip(outcomes)
            .map(|(((f, exchange), exchange_id), outcome)| AttemptRecorded {
                exchange_id,
                exchange,
                state: Move::after(&f.decision, f.at).state,
                resolved: outcome.filter(|_| {
                    f.claimed
                        .order_id
                        .as_ref()
                        .is_some_and(|id| resolved.contains(id))
                }),
            })
            .collect())
    }
}

/// Resolves each order as its event's mode: an `order.created` answer
/// resolves a webhook order, an `order.notice` answer a hybrid one — each
/// mode's orders by their own channel only. The orders it moved.
async fn resolve_by_mode(
    tx: &mut AnyConnection,
    wanted: &[Resolution<'_>],
    modes: &[IntegrationMode],
    now: Timestamp,
) -> Result<HashSet<OrderId>, sqlx::Error> {
    let mut resolved = HashSet::new();
    for mode in [IntegrationMode::Webhook, IntegrationMode::Hybrid] {
        let of_mode: Vec<Resolution> = wanted
            .iter()
            .zip(modes)
            .filter(|(_, m)| **m == mode)
            .map(|(r, _)| r.clone())
            .collect();
        if !of_mode.is_empty() {
            resolved.extend(orders::resolve_all(&mut *tx, mode, &of_mode, now).await?);
        }
    }
    Ok(resolved)
}

/// The mode of the orders an event about an order resolves: a thin
/// notice is hybrid mode's, anything else webhook mode's.
pub(super) fn order_mode(event_type: EventType) -> IntegrationMode {
    match event_type {
        EventType::OrderNotice => IntegrationMode::Hybrid,
        EventType::OrderCreated | EventType::Ping => IntegrationMode::Webhook,
    }
}

/// The attempt as the message log keeps it: a notice is hybrid's `notify`.
fn exchange_of(f: &Finished) -> NewExchange {
    let channel = match f.claimed.event_type {
        EventType::OrderNotice => Channel::Notify,
        EventType::OrderCreated | EventType::Ping => Channel::Webhook,
    };
    NewExchange::sent(channel, &f.rec).with_attempt(AttemptInfo {
        delivery_id: f.claimed.id.clone(),
        attempt_no: f.claimed.attempts + 1,
        trigger: f.claimed.next_trigger,
    })
}

/// What the inventory says it did with the order, when it says so.
fn inventory_outcome(rec: &Recorded, decision: &Decision) -> Option<ApplyOutcome> {
    if *decision != Decision::Succeeded {
        return None;
    }
    let ack: WebhookAck = contract::json::from_slice(rec.body()?).ok()?;
    ack.outcome
}

/// Where a delivery stands after an attempt.
struct Move {
    state: DeliveryState,
    next_attempt_at: Timestamp,
    completed_at: Option<Timestamp>,
    last_error: Option<String>,
}

impl Move {
    fn after(decision: &Decision, now: Timestamp) -> Move {
        let (state, next_attempt_at, completed_at, last_error) = match decision {
            Decision::Succeeded => (DeliveryState::Succeeded, now, Some(now), None),
            Decision::EndpointGone => (
                DeliveryState::Pending,
                now,
                None,
                Some("410 Gone: endpoint disabled".to_owned()),
            ),
            Decision::RetryAt { at, why } => (DeliveryState::Pending, *at, None, Some(why.clone())),
            Decision::GiveUp { why } => (DeliveryState::Failed, now, Some(now), Some(why.clone())),
        };
        Move {
            state,
            next_attempt_at,
            completed_at,
            last_error,
        }
    }
}
