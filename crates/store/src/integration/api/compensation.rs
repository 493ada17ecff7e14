//! **Compensation — giving back what a rejected api order may have taken.**
//!
//! In api mode the store sometimes rejects an order without knowing what
//! the inventory did: the call timed out, or the store itself stopped
//! mid-call. The inventory may have reserved the stock and lost the answer.
//! Rather than a distributed transaction — two-phase commit across two
//! services' databases, with both holding locks while they wait for each
//! other — the store takes a *compensating action* (the saga pattern):
//!
//! 1. **Owe.** In the same transaction that rejects the order, it records a
//!    void it owes the inventory ([`owe_void`], the `pending_voids` table),
//!    so there is never a rejected order whose stock nobody will give back.
//! 2. **Deliver.** The [`CompensationWorker`] (a `platform::worker::Worker`,
//!    woken when a void is owed) sends `POST /update_inventory/{id}/void`
//!    until the inventory confirms, backing off exponentially up to a
//!    minute between attempts. The inventory puts back anything the order
//!    took and remembers the void, so a copy of the original request
//!    arriving even later is refused rather than applied.
//! 3. **Sweep.** On every pass the worker also rejects (and so voids) api
//!    orders a crash of the store abandoned mid-call: those whose call's
//!    lease (`api_calls`, renewed by the live process making the call) has
//!    run out — within seconds of the crash. It owes a void only for an
//!    order *it* rejected: if the real answer was written first (a slow
//!    write that raced the sweep), the order stays as answered and owes
//!    nothing. A confirmed order is never voided.
//!
//! Like the webhook dispatcher it keeps its work in the database, so a
//! restart resumes it; voids are idempotent on the inventory's side, so two
//! store processes sending the same one is harmless.
//!
//! Seen in the UI: a void appears in the order's timeline, after the call
//! it compensates, and the order's page says why ([`owed_void`]): what the
//! store owes, how many attempts failed, and when the next one leaves —
//! which is why one api order with the inventory down shows several voids.

use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;
use sqlx::AnyConnection;

use contract::{Channel, IntegrationMode, OrderId, OrderStatus, Timestamp};
use platform::Backoff;
use platform::Db;
use platform::db::NullableInt;
use platform::outbound::send_recorded;
use platform::worker::{Next, Pacing, Worker};

use super::ApiCalls;
use crate::error::StoreError;
use crate::orders;
use crate::timeline::{self, NewExchange};
use crate::vocabulary::VoidState;

/// Records the void the store owes for `order_id`, inside the transaction
/// that rejects the order. Owing it twice is owing it once.
pub async fn owe_void(
    conn: &mut AnyConnection,
    order_id: &OrderId,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO pending_voids (order_id, state, attempts, next_attempt_at, created_at) \
         VALUES ($1, $2, 0, $3, $3) ON CONFLICT (order_id) DO NOTHING",
    )
    .bind(order_id.as_str())
    .bind(VoidState::Pending.as_str())
    .bind(now.millis())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The longest pause between two attempts of a void.
pub const VOID_MAX_PAUSE: Duration = Duration::from_secs(60);

/// The pause after a void's `n`th failed attempt: 1 s, 2 s, 4 s … a minute.
/// It never gives up: stock the store may hold must be given back.
fn void_backoff() -> Backoff {
    Backoff::exponential(Duration::from_secs(1), VOID_MAX_PAUSE)
}

/// Where the void owed for an order stands, as the order page tells it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OwedVoid {
    #[sqlx(try_from = "String")]
    pub state: VoidState,
    /// Attempts made so far (each failed one is in the order's timeline).
    pub attempts: i64,
    #[sqlx(try_from = "i64")]
    pub next_attempt_at: Timestamp,
    pub last_error: Option<String>,
    #[sqlx(try_from = "NullableInt")]
    pub completed_at: Option<Timestamp>,
}

/// The void the store owes (or owed) for `order_id`, if it ever owed one.
pub async fn owed_void(db: &Db, order_id: &OrderId) -> Result<Option<OwedVoid>, sqlx::Error> {
    sqlx::query_as(
        "SELECT state, attempts, next_attempt_at, last_error, completed_at FROM pending_voids \
         WHERE order_id = $1",
    )
    .bind(order_id.as_str())
    .fetch_optional(db.pool())
    .await
}

/// Delivers owed voids, and rejects api orders abandoned by a crash.
pub struct CompensationWorker {
    api: Arc<ApiCalls>,
}

#[derive(sqlx::FromRow)]
struct DueVoid {
    #[sqlx(try_from = "String")]
    order_id: OrderId,
    attempts: i64,
}

#[derive(sqlx::FromRow)]
struct Abandoned {
    #[sqlx(try_from = "String")]
    id: OrderId,
}

#[derive(sqlx::FromRow)]
struct NextDue {
    next: Option<i64>,
}

impl Worker for CompensationWorker {
    const NAME: &'static str = "compensation";

    /// One pass: the sweep, then every void that is due.
    async fn pass(&mut self) -> anyhow::Result<Next> {
        let started = self.api.ctx.clock.now();
        self.reject_abandoned().await?;
        let due: Vec<DueVoid> = sqlx::query_as(
            "SELECT order_id, attempts FROM pending_voids \
             WHERE state = $1 AND next_attempt_at <= $2 ORDER BY next_attempt_at LIMIT 20",
        )
        .bind(VoidState::Pending.as_str())
        .bind(self.api.ctx.clock.now().millis())
        .fetch_all(self.api.ctx.db.pool())
        .await?;
        for void in due {
            self.send_void(&void).await?;
        }
        let next: NextDue = sqlx::query_as(
            "SELECT MIN(next_attempt_at) AS next FROM pending_voids WHERE state = $1",
        )
        .bind(VoidState::Pending.as_str())
        .fetch_one(self.api.ctx.db.pool())
        .await?;
        let next_void = next.next.map_or(Next::Idle, |at| Next::At(Timestamp(at)));
        let next_expiry = self
            .next_lease_expiry()
            .await?
            // Not before a second after this pass began: one the sweep
            // could not settle just now is looked at again then, not in a
            // busy loop.
            .map_or(Next::Idle, |at| {
                Next::At(at.max(started + Duration::from_secs(1)))
            });
        Ok(next_void.min(next_expiry))
    }
}

impl CompensationWorker {
    pub fn new(api: Arc<ApiCalls>) -> CompensationWorker {
        CompensationWorker { api }
    }

    /// Woken when a void is owed; the sweep also finds abandoned orders.
    pub fn pacing(api: &ApiCalls) -> Pacing {
        Pacing {
            clock: api.ctx.clock.clone(),
            wake: api.compensation_wake.clone(),
            sweep: Some(api.ctx.config.webhook.sweep_interval),
        }
    }

    /// How long after placement an api order still `pending` *without* a
    /// leased call must have been abandoned: longer than every attempt and
    /// pause could take. (Only orders placed before calls were leased have
    /// none; every other is judged by its lease.)
    fn stale_after(&self) -> Duration {
        let api = &self.api.ctx.config.api;
        let attempts = api.backoff.max_attempts().unwrap_or(1);
        api.timeout * attempts + api.backoff.total().unwrap_or_default() + Duration::from_secs(10)
    }

    /// The pending api orders nobody is deciding any more: their call's
    /// lease ran out (the process making it died), or they have no call
    /// and are older than any call could take. Those whose call this
    /// process still holds are not among them, however late their lease
    /// looks: this process decides them itself.
    pub async fn abandoned_orders(&self) -> Result<Vec<OrderId>, StoreError> {
        let now = self.api.ctx.clock.now();
        let cutoff = now - self.stale_after();
        let abandoned: Vec<Abandoned> = sqlx::query_as(
            "SELECT o.id FROM orders o LEFT JOIN api_calls c ON c.order_id = o.id \
             WHERE o.mode = $1 AND o.status = $2 \
               AND ((c.order_id IS NULL AND o.created_at < $3) OR c.lease_expires_at <= $4)",
        )
        .bind(IntegrationMode::Api.as_str())
        .bind(OrderStatus::Pending.as_str())
        .bind(cutoff.millis())
        .bind(now.millis())
        .fetch_all(self.api.ctx.db.pool())
        .await?;
        Ok(abandoned
            .into_iter()
            .map(|a| a.id)
            .filter(|id| !self.api.leases.holds(id.as_str()))
            .collect())
    }

    async fn reject_abandoned(&self) -> Result<(), StoreError> {
        for order_id in self.abandoned_orders().await? {
            tracing::warn!(%order_id, "api order abandoned mid-call (its store stopped); rejecting and voiding");
            self.reject_and_void(&order_id).await?;
        }
        Ok(())
    }

    /// Rejects an abandoned api order and records the void the store now
    /// owes the inventory — in one transaction, and only if it is still
    /// pending with no live lease on its call at the moment of writing.
    /// Returns whether it did: an order that was answered meanwhile (its
    /// process was slow, not dead) keeps its answer, and owes no void.
    pub async fn reject_and_void(&self, order_id: &OrderId) -> Result<bool, StoreError> {
        const REASON: &str = "The store stopped before the inventory answered, so the order was \
                              not placed. Nothing stays reserved for it.";
        let api = &*self.api;
        let now = api.ctx.clock.now();
        let mut tx = api.ctx.db.begin_write().await?;
        let rejected = sqlx::query(
            "UPDATE orders SET status = $1, status_reason = $2, updated_at = $3, resolved_at = $3 \
             WHERE id = $4 AND status = $5 AND mode = $6 AND NOT EXISTS (\
                SELECT 1 FROM api_calls WHERE order_id = $4 AND lease_expires_at > $3)",
        )
        .bind(OrderStatus::Rejected.as_str())
        .bind(REASON)
        .bind(now.millis())
        .bind(order_id.as_str())
        .bind(OrderStatus::Pending.as_str())
        .bind(IntegrationMode::Api.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !rejected {
            // Answered (or renewed) since it was found: not ours to settle.
            tx.rollback().await?;
            return Ok(false);
        }
        owe_void(&mut tx, order_id, now).await?;
        sqlx::query("DELETE FROM api_calls WHERE order_id = $1")
            .bind(order_id.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        orders::announce_resolution(
            &api.ctx,
            order_id,
            IntegrationMode::Api,
            OrderStatus::Rejected,
            Some(REASON),
        );
        api.compensation_wake.notify_one();
        Ok(true)
    }

    /// When the next call another process holds would run out, if it is
    /// not renewed (ours are renewed, or settled here when they are not).
    async fn next_lease_expiry(&self) -> Result<Option<Timestamp>, sqlx::Error> {
        let next: NextDue = sqlx::query_as(
            "SELECT MIN(c.lease_expires_at) AS next FROM api_calls c \
             JOIN orders o ON o.id = c.order_id WHERE c.lease_owner <> $1 AND o.status = $2",
        )
        .bind(self.api.leases.owner())
        .bind(OrderStatus::Pending.as_str())
        .fetch_one(self.api.ctx.db.pool())
        .await?;
        Ok(next.next.map(Timestamp))
    }

    async fn send_void(&self, void: &DueVoid) -> Result<(), StoreError> {
        let api = &*self.api;
        let order_id = &void.order_id;
        let url = format!(
            "{}/update_inventory/{order_id}/void",
            api.ctx.config.inventory_url.trim_end_matches('/')
        );
        let request = api
            .client
            .post(&url)
            .bearer_auth(api.ctx.config.inventory_api_key.expose_secret())
            .header("Idempotency-Key", format!("void-{order_id}"))
            .header(reqwest::header::ACCEPT, "application/json")
            .build()
            .map_err(anyhow::Error::from)?;
        let rec = send_recorded(&api.client, request, api.ctx.clock.now().millis()).await;
        let exchange = NewExchange::sent(Channel::Void, &rec);
        timeline::record_and_publish(&api.ctx.db, &api.ctx.live, &exchange, &[order_id]).await?;
        let now = api.ctx.clock.now();
        if rec.is_success() {
            tracing::info!(%order_id, "void delivered");
            sqlx::query(
                "UPDATE pending_voids SET state = $1, attempts = attempts + 1, completed_at = $2 \
                 WHERE order_id = $3",
            )
            .bind(VoidState::Done.as_str())
            .bind(now.millis())
            .bind(order_id.as_str())
            .execute(api.ctx.db.writer())
            .await?;
        } else {
            let error = rec
                .error()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("answered {}", rec.status().unwrap_or(0)));
            let failures = u32::try_from(void.attempts + 1).unwrap_or(u32::MAX);
            let pause = void_backoff().delay_after(failures).unwrap_or_default();
            tracing::warn!(%order_id, %error, retry_in_ms = pause.as_millis() as u64, "void not delivered yet");
            sqlx::query(
                "UPDATE pending_voids SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2 \
                 WHERE order_id = $3",
            )
            .bind((now + pause).millis())
            .bind(&error)
            .bind(order_id.as_str())
            .execute(api.ctx.db.writer())
            .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voids_back_off_to_a_minute_and_never_give_up() {
        let b = void_backoff();
        let waits: Vec<u64> = [1, 2, 3, 7, 8, 1_000]
            .iter()
            .map(|f| b.delay_after(*f).unwrap().as_secs())
            .collect();
        assert_eq!(waits, [1, 2, 4, 60, 60, 60]);
    }
}
