//! Recording the inventory's answers to api-mode orders: for each, the
//! last call in the message log, the order's fate, the end of its call's
//! lease and — if the outcome is unclear — the void the store now owes, in
//! one transaction, so none exists without the others. Answers that come back at the same moment
//! share that transaction (group commit, `platform::group_commit`): under
//! load, the customer waiting for an api-mode order waits for one commit
//! among many instead of a queue of them.

use contract::{ExchangeId, IntegrationMode, OrderId, OrderStatus};
use platform::group_commit::Batch;
use platform::{Db, SharedClock};

use super::compensation;
use crate::orders::{self, Resolution};
use crate::timeline::{self, NewExchange};

/// The inventory's answer to one order, to record.
pub struct Answered {
    pub order_id: OrderId,
    /// The last call, as the message log keeps it.
    pub exchange: NewExchange,
    /// What the answer makes of the order.
    pub status: OrderStatus,
    pub reason: Option<String>,
    /// The inventory reserved the stock.
    pub reserved: bool,
    /// Nobody knows whether it did.
    pub unclear: bool,
}

/// What was recorded, for publishing once it has committed.
pub struct AnswerRecorded {
    pub exchange_id: ExchangeId,
    pub exchange: NewExchange,
    /// The order moved to its final status (false: it had already).
    pub resolved: bool,
    /// A void is owed the inventory.
    pub owes_void: bool,
}

/// Records the inventory's answers, many per transaction (group commit,
/// `platform::group_commit`): for each, the last call, the order's fate
/// and (if the outcome is unclear) the void the store now owes — in one
/// transaction, so none exists without the others.
pub struct Answers {
    db: Db,
    clock: SharedClock,
}

impl Answers {
    pub fn new(db: Db, clock: SharedClock) -> Answers {
        Answers { db, clock }
    }
}

impl Batch for Answers {
    type Job = Answered;
    type Done = AnswerRecorded;
    type Error = sqlx::Error;

    async fn write_together(&self, batch: &[Answered]) -> Result<Vec<AnswerRecorded>, sqlx::Error> {
        let now = self.clock.now();
        let mut tx = self.db.begin_write().await?;
        let logged: Vec<(&NewExchange, Vec<&OrderId>)> = batch
            .iter()
            .map(|a| (&a.exchange, vec![&a.order_id]))
            .collect();
        let exchange_ids = timeline::record_all(&mut tx, &logged).await?;
        let wanted: Vec<Resolution> = batch
            .iter()
            .map(|a| Resolution {
                order_id: &a.order_id,
                status: a.status,
                reason: a.reason.as_deref(),
            })
            .collect();
        let resolved = orders::resolve_all(&mut tx, IntegrationMode::Api, &wanted, now).await?;
        // The calls are over: nothing for the abandoned-order sweep.
        for chunk in batch.chunks(platform::db::MAX_BINDS_PER_STATEMENT) {
            let sql = sqlx::AssertSqlSafe(format!(
                "DELETE FROM api_calls WHERE order_id IN ({})",
                platform::db::placeholders(1, chunk.len())
            ));
            let mut query = sqlx::query(sql);
            for a in chunk {
                query = query.bind(a.order_id.as_str());
            }
            query.execute(&mut *tx).await?;
        }
        let mut recorded = Vec::with_capacity(batch.len());
        for (a, exchange_id) in batch.iter().zip(exchange_ids) {
            let resolved = resolved.contains(&a.order_id);
            // Reserved, but no longer pending — the abandoned-order sweep
            // rejected it while we waited — so the reservation must be
            // given back too.
            let owes_void = a.unclear || (a.reserved && !resolved);
            if owes_void {
                compensation::owe_void(&mut tx, &a.order_id, now).await?;
            }
            recorded.push(AnswerRecorded {
                exchange_id,
                exchange: a.exchange.clone(),
                resolved,
                owes_void,
            });
        }
        tx.commit().await?;
        Ok(recorded)
    }
}
