//! Steps 2 and 3 — **wake, claim with a lease, fan out**: the
//! [`OutboxDispatcher`], a `platform::worker::Worker`.
//!
//! **Wake-up.** After an order commits, [`super::Push`] pokes the
//! dispatcher through an in-process `Notify`, so the first attempt leaves
//! within milliseconds rather than on the next tick of a polling loop. A
//! periodic sweep (`sweep_interval`) is only the safety net — for
//! deliveries scheduled for later, and for events committed by another
//! store process sharing the database.
//!
//! **Claim with a lease.** The dispatcher claims due deliveries by stamping
//! them with its id and a lease expiry in one `UPDATE … RETURNING` (with
//! `FOR UPDATE SKIP LOCKED` on PostgreSQL), so two dispatchers never send
//! the same attempt at once. If a process dies mid-attempt its lease simply
//! runs out and the delivery is claimed again: at-least-once, never zero.
//!
//! **Fan out.** Each claimed delivery becomes one attempt
//! ([`super::attempt`]) on its own task; at most `max_in_flight` run at
//! once, and each finished attempt wakes the dispatcher to fill its slot.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tracing::Instrument;

use contract::{DeliveryId, DeliveryState, DispatcherId, Timestamp};
use platform::worker::{Next, Pacing, Worker};

use super::attempt;
use crate::state::AppState;

/// Delivers the outbox. One runs in every store process.
pub struct OutboxDispatcher {
    app: Arc<AppState>,
    /// This process's identity in lease columns.
    owner: DispatcherId,
    slots: Arc<Semaphore>,
    in_flight: JoinSet<()>,
}

/// Deliveries whose endpoint can take them, as an SQL condition.
const ENDPOINT_LIVE: &str =
    "endpoint_id IN (SELECT id FROM webhook_endpoints WHERE enabled = 1 AND deleted_at IS NULL)";

#[derive(sqlx::FromRow)]
struct ClaimedId {
    #[sqlx(try_from = "String")]
    id: DeliveryId,
}

#[derive(sqlx::FromRow)]
struct Due {
    due: Option<i64>,
}

impl OutboxDispatcher {
    pub fn new(app: Arc<AppState>) -> OutboxDispatcher {
        let slots = Arc::new(Semaphore::new(app.config.webhook.max_in_flight.max(1)));
        OutboxDispatcher {
            owner: DispatcherId::new(),
            app,
            slots,
            in_flight: JoinSet::new(),
        }
    }

    /// How it is woken (the moment an event commits) and its safety net.
    pub fn pacing(app: &AppState) -> Pacing {
        Pacing {
            clock: app.clock.clone(),
            wake: app.dispatcher_wake.clone(),
            sweep: Some(app.config.webhook.sweep_interval),
        }
    }

    /// How long a claim is good for: the request timeout plus room to
    /// record the result. Past it, another dispatcher may take over.
    fn lease(&self) -> Duration {
        self.app.config.webhook.timeout + Duration::from_secs(30)
    }

    /// Claims up to `limit` due deliveries for this dispatcher.
    async fn claim(&self, limit: usize) -> Result<Vec<DeliveryId>, sqlx::Error> {
        let now = self.app.clock.now();
        // The conditions appear twice on purpose: the inner SELECT picks
        // candidates, the outer WHERE re-checks each row as it is updated,
        // so a row another dispatcher claimed in between is not taken.
        let sql = sqlx::AssertSqlSafe(format!(
            "UPDATE webhook_deliveries SET lease_owner = $1, lease_expires_at = $2, updated_at = $3 \
             WHERE id IN (\
                SELECT id FROM webhook_deliveries \
                WHERE state = $5 AND next_attempt_at <= $3 \
                  AND (lease_expires_at IS NULL OR lease_expires_at <= $3) AND {ENDPOINT_LIVE} \
                ORDER BY next_attempt_at LIMIT $4{skip_locked}) \
             AND state = $5 AND (lease_expires_at IS NULL OR lease_expires_at <= $3) \
             RETURNING id",
            skip_locked = self.app.db.skip_locked()
        ));
        let rows: Vec<ClaimedId> = sqlx::query_as(sql)
            .bind(self.owner.as_str())
            .bind((now + self.lease()).millis())
            .bind(now.millis())
            .bind(limit as i64)
            .bind(DeliveryState::Pending.as_str())
            .fetch_all(self.app.db.writer())
            .await?;
        Ok(rows.into_iter().map(|r| r.id).collect())
    }

    /// When the next delivery becomes due (or its lease runs out).
    async fn next_due(&self) -> Result<Option<Timestamp>, sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT MIN(CASE WHEN lease_expires_at IS NOT NULL AND lease_expires_at > next_attempt_at \
                        THEN lease_expires_at ELSE next_attempt_at END) AS due \
             FROM webhook_deliveries WHERE state = $1 AND {ENDPOINT_LIVE}"
        ));
        let row: Due = sqlx::query_as(sql)
            .bind(DeliveryState::Pending.as_str())
            .fetch_one(self.app.db.pool())
            .await?;
        Ok(row.due.map(Timestamp))
    }

    /// Starts one claimed attempt on its own task, holding a slot.
    async fn fan_out(&mut self, delivery_id: DeliveryId) -> anyhow::Result<()> {
        let permit = self.slots.clone().acquire_owned().await?;
        let app = self.app.clone();
        let owner = self.owner.clone();
        let span = tracing::info_span!("webhook_delivery", %delivery_id);
        self.in_flight.spawn(
            async move {
                if let Err(e) = attempt::run(&app, &owner, &delivery_id).await {
                    tracing::error!(error = %e, "delivery attempt could not be recorded");
                }
                drop(permit);
                // A slot is free: look for more work.
                app.dispatcher_wake.notify_one();
            }
            .instrument(span),
        );
        Ok(())
    }
}

impl Worker for OutboxDispatcher {
    const NAME: &'static str = "webhook_dispatcher";

    async fn pass(&mut self) -> anyhow::Result<Next> {
        // Reap finished attempts so the set does not grow.
        while self.in_flight.try_join_next().is_some() {}
        let free = self.slots.available_permits();
        if free == 0 {
            // Every slot is busy; each attempt wakes us as it finishes.
            return Ok(Next::Idle);
        }
        let claimed = self.claim(free).await?;
        let claimed_all = claimed.len() == free;
        for delivery_id in claimed {
            self.fan_out(delivery_id).await?;
        }
        if claimed_all {
            // There may be more due right now.
            return Ok(Next::Now);
        }
        Ok(self.next_due().await?.map_or(Next::Idle, Next::At))
    }

    /// Graceful stop: let attempts in flight finish and be recorded, so a
    /// restart does not have to wait for their leases to expire.
    async fn stop(&mut self) {
        while self.in_flight.join_next().await.is_some() {}
    }
}
