//! Steps 2 and 3 — **hand over or claim, then fan out**: the
//! [`OutboxDispatcher`], a `platform::worker::Worker`, and [`Dispatch`],
//! the handle the rest of the store reaches it by.
//!
//! **The lease decides who sends.** A delivery is attempted only by the
//! dispatcher whose id is in its `lease_owner` column, until its
//! `lease_expires_at`; past that, any dispatcher may take it over. So two
//! dispatchers never send the same attempt at once, and one that dies
//! mid-attempt leaves work that is simply taken over when its lease runs
//! out: at-least-once, never zero.
//!
//! **Two ways in.** A delivery gets its lease in one of two ways:
//!
//! * **Handed over at birth** — the common case. The order's transaction
//!   writes the new delivery already leased to this process's dispatcher
//!   ([`Dispatch::lease_for_new`]), and once it has committed the delivery
//!   is handed over in memory ([`Dispatch::hand_over`]) with everything
//!   its attempt needs. The first attempt leaves within a millisecond of
//!   the commit, and nothing is read back that was just written. The
//!   outbox is still the durable truth: if the process dies with the
//!   delivery in memory, its lease runs out and the next look at the
//!   database finds it.
//! * **Claimed from the database** — retries that fell due, leases that
//!   ran out, redeliveries, and work another store process committed. The
//!   dispatcher stamps up to a slot's worth of due deliveries with its id
//!   and a lease expiry in one `UPDATE … RETURNING` (with `FOR UPDATE SKIP
//!   LOCKED` on PostgreSQL). It looks when something is due
//!   ([`Dispatch::look_at`]: a retry's time, a person's "redeliver") and at
//!   least every sweep interval, the safety net; it does not query the
//!   database for every order.
//!
//! **Fan out.** Each delivery becomes one attempt ([`super::attempt`]) on
//! its own task. At most `max_in_flight` requests are on the wire at once;
//! an attempt that has its answer gives its place on the wire to the next
//! and waits for its result to be recorded — with the others that finished
//! meanwhile, in one transaction. Up to [`RECORDING_DEPTH`] times as many
//! attempts may be waiting so: enough that recording never holds up
//! sending, few enough to bound what sits in memory.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;
use tracing::Instrument;

use contract::{
    DeliveryId, DeliveryState, DispatcherId, EndpointId, EventType, MessageId, OrderId, Timestamp,
};
use platform::Db;
use platform::db::NullableText;
use platform::worker::{Next, Pacing, Worker};

use super::attempt;
use crate::config::WebhookSettings;
use crate::state::AppState;
use crate::vocabulary::Trigger;

/// A delivery this process holds the lease on, with what its attempt needs.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: DeliveryId,
    pub message_id: MessageId,
    pub endpoint_id: EndpointId,
    pub order_id: Option<OrderId>,
    pub event_type: EventType,
    /// Attempts and failures so far.
    pub attempts: i64,
    pub failures: i64,
    pub next_trigger: Trigger,
    /// The stored event, byte for byte.
    pub payload: Arc<str>,
    /// Until when the lease is ours.
    pub leased_until: Timestamp,
}

/// A lease on deliveries being written, granted to an order's transaction.
#[derive(Debug, Clone)]
pub struct Lease {
    pub owner: DispatcherId,
    pub until: Timestamp,
}

/// How long a claim is good for: the request timeout plus room to record
/// the result. Past it, another dispatcher may take over.
pub fn lease_for(settings: &WebhookSettings) -> Duration {
    settings.timeout + Duration::from_secs(30)
}

/// At most this many deliveries wait in memory; beyond it, new ones are
/// left in the database unleased (the outbox is the queue; memory is only a
/// shortcut), where the dispatcher claims them when it has room.
const HANDOVER_LIMIT: usize = 1024;

/// How many times `max_in_flight` attempts may be started and not yet
/// recorded.
pub const RECORDING_DEPTH: usize = 4;

/// "Nothing to look for in the database": `look_at`'s empty value.
const NEVER: i64 = i64::MAX;

/// How the store reaches its dispatcher: hands it new deliveries, and tells
/// it when the database has something due.
pub struct Dispatch {
    owner: DispatcherId,
    lease: Duration,
    handed: Mutex<VecDeque<Claimed>>,
    /// When the dispatcher should next look in the database (unix ms).
    look_at: AtomicI64,
    /// Set once the dispatcher has stopped: new deliveries stay unleased.
    closed: AtomicBool,
    wake: Arc<Notify>,
    /// Places on the wire: `max_in_flight`.
    sending: Arc<Semaphore>,
}

impl Dispatch {
    /// `lease`: how long a claim is good for — the request timeout plus
    /// room to record the result.
    pub fn new(lease: Duration, max_in_flight: usize, wake: Arc<Notify>) -> Dispatch {
        Dispatch {
            owner: DispatcherId::new(),
            lease,
            handed: Mutex::new(VecDeque::new()),
            look_at: AtomicI64::new(0), // look at once: work left by a previous run
            closed: AtomicBool::new(false),
            wake,
            sending: Arc::new(Semaphore::new(max_in_flight.max(1))),
        }
    }

    /// A place on the wire, for one request; waits for one to be free.
    pub async fn place_to_send(&self) -> tokio::sync::OwnedSemaphorePermit {
        self.sending
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed")
    }

    /// This process's identity in lease columns.
    pub fn owner(&self) -> &DispatcherId {
        &self.owner
    }

    /// A lease for deliveries written in a transaction starting now, to be
    /// [handed over](Dispatch::hand_over) once it commits — or `None` when
    /// enough is waiting in memory already (or the dispatcher has stopped):
    /// then they wait in the database like any due delivery.
    pub fn lease_for_new(&self, now: Timestamp) -> Option<Lease> {
        let full = self.handed.lock().expect("handover lock").len() >= HANDOVER_LIMIT;
        (!full && !self.closed.load(Ordering::SeqCst)).then(|| Lease {
            owner: self.owner.clone(),
            until: now + self.lease,
        })
    }

    /// Gives the dispatcher deliveries leased to it whose transaction has
    /// committed.
    pub fn hand_over(&self, claimed: Vec<Claimed>) {
        if claimed.is_empty() {
            return;
        }
        self.handed.lock().expect("handover lock").extend(claimed);
        self.wake.notify_one();
    }

    /// Tells the dispatcher that something in the database is due at `at`
    /// (a retry, a redelivery, deliveries written unleased).
    pub fn look_at(&self, at: Timestamp) {
        self.look_at.fetch_min(at.millis(), Ordering::SeqCst);
        self.wake.notify_one();
    }

    /// Whether the dispatcher has work it could start if it had a slot.
    fn has_work(&self, now: Timestamp) -> bool {
        !self.handed.lock().expect("handover lock").is_empty()
            || self.look_at.load(Ordering::SeqCst) <= now.millis()
    }

    /// An attempt finished: wake the dispatcher if its slot can be refilled.
    fn slot_freed(&self, now: Timestamp) {
        if self.has_work(now) {
            self.wake.notify_one();
        }
    }

    fn take(&self, n: usize) -> Vec<Claimed> {
        let mut handed = self.handed.lock().expect("handover lock");
        let n = n.min(handed.len());
        handed.drain(..n).collect()
    }

    /// Gives up a lease without an attempt (its endpoint stopped taking
    /// deliveries since): the delivery waits in the database.
    pub async fn release(&self, db: &Db, id: &DeliveryId) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE webhook_deliveries SET lease_owner = NULL, lease_expires_at = NULL \
             WHERE id = $1 AND lease_owner = $2",
        )
        .bind(id.as_str())
        .bind(self.owner.as_str())
        .execute(db.writer())
        .await?;
        Ok(())
    }
}

/// Delivers the outbox. One runs in every store process.
pub struct OutboxDispatcher {
    app: Arc<AppState>,
    /// Attempts started and not yet recorded.
    slots: Arc<Semaphore>,
    in_flight: JoinSet<()>,
}

/// Deliveries whose endpoint can take them, as an SQL condition.
const ENDPOINT_LIVE: &str =
    "endpoint_id IN (SELECT id FROM webhook_endpoints WHERE enabled = 1 AND deleted_at IS NULL)";

/// A delivery row as the claim returns it.
#[derive(sqlx::FromRow)]
struct ClaimedRow {
    #[sqlx(try_from = "String")]
    id: DeliveryId,
    #[sqlx(try_from = "String")]
    message_id: MessageId,
    #[sqlx(try_from = "String")]
    endpoint_id: EndpointId,
    #[sqlx(try_from = "NullableText")]
    order_id: Option<OrderId>,
    #[sqlx(try_from = "String")]
    event_type: EventType,
    attempts: i64,
    failures: i64,
    #[sqlx(try_from = "String")]
    next_trigger: Trigger,
}

#[derive(sqlx::FromRow)]
struct Payload {
    id: String,
    payload: String,
}

#[derive(sqlx::FromRow)]
struct Due {
    due: Option<i64>,
}

impl OutboxDispatcher {
    pub fn new(app: Arc<AppState>) -> OutboxDispatcher {
        let started = app.config.webhook.max_in_flight.max(1) * RECORDING_DEPTH;
        let slots = Arc::new(Semaphore::new(started));
        OutboxDispatcher {
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

    fn dispatch(&self) -> &Dispatch {
        &self.app.dispatch
    }

    /// Claims up to `limit` due deliveries for this dispatcher.
    async fn claim(&self, limit: usize, now: Timestamp) -> Result<Vec<Claimed>, sqlx::Error> {
        let until = now + lease_for(&self.app.config.webhook);
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
             RETURNING id, message_id, endpoint_id, order_id, event_type, attempts, failures, \
                       next_trigger",
            skip_locked = self.app.db.skip_locked()
        ));
        let rows: Vec<ClaimedRow> = sqlx::query_as(sql)
            .bind(self.dispatch().owner.as_str())
            .bind(until.millis())
            .bind(now.millis())
            .bind(limit as i64)
            .bind(DeliveryState::Pending.as_str())
            .fetch_all(self.app.db.writer())
            .await?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        // Their messages, in one query.
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT id, payload FROM webhook_messages WHERE id IN ({})",
            platform::db::placeholders(1, rows.len())
        ));
        let mut query = sqlx::query_as::<_, Payload>(sql);
        for row in &rows {
            query = query.bind(row.message_id.as_str());
        }
        let payloads: std::collections::HashMap<String, Arc<str>> = query
            .fetch_all(self.app.db.pool())
            .await?
            .into_iter()
            .map(|p| (p.id, p.payload.into()))
            .collect();
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let payload = payloads.get(row.message_id.as_str())?.clone();
                Some(Claimed {
                    id: row.id,
                    message_id: row.message_id,
                    endpoint_id: row.endpoint_id,
                    order_id: row.order_id,
                    event_type: row.event_type,
                    attempts: row.attempts,
                    failures: row.failures,
                    next_trigger: row.next_trigger,
                    payload,
                    leased_until: until,
                })
            })
            .collect())
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

    /// Claims what is due, starts it, and says when to look again: at once
    /// if there may be more, else when the next falls due — and never later
    /// than the sweep.
    async fn look_in_database(
        &mut self,
        free: usize,
        now: Timestamp,
    ) -> Result<Timestamp, sqlx::Error> {
        let claimed = self.claim(free, now).await?;
        let full = claimed.len() == free;
        for claimed in claimed {
            self.fan_out(claimed, now);
        }
        let sweep = now + self.app.config.webhook.sweep_interval;
        Ok(if full {
            now
        } else {
            self.next_due().await?.map_or(sweep, |due| due.min(sweep))
        })
    }

    /// Starts one attempt on its own task, holding a slot. A delivery that
    /// waited in memory so long that its lease could run out mid-attempt is
    /// left to the database instead (its lease lapses, and it is claimed).
    fn fan_out(&mut self, claimed: Claimed, now: Timestamp) {
        if claimed.leased_until - self.app.config.webhook.timeout <= now {
            return;
        }
        let Ok(permit) = self.slots.clone().try_acquire_owned() else {
            return; // cannot happen: callers take no more than the free slots
        };
        let app = self.app.clone();
        let span = tracing::info_span!("webhook_delivery", delivery_id = %claimed.id);
        self.in_flight.spawn(
            async move {
                if let Err(e) = attempt::run(&app, claimed).await {
                    tracing::error!(error = %e, "delivery attempt could not be recorded");
                }
                drop(permit);
                app.dispatch.slot_freed(app.clock.now());
            }
            .instrument(span),
        );
    }
}

impl Worker for OutboxDispatcher {
    const NAME: &'static str = "webhook_dispatcher";

    async fn pass(&mut self) -> anyhow::Result<Next> {
        // Reap finished attempts so the set does not grow.
        while self.in_flight.try_join_next().is_some() {}
        let now = self.app.clock.now();
        // Handed over at birth: first, and without reading anything back.
        for claimed in self.dispatch().take(self.slots.available_permits()) {
            self.fan_out(claimed, now);
        }
        let free = self.slots.available_permits();
        if free == 0 {
            // Every slot is busy; each attempt wakes us as it finishes.
            return Ok(Next::Idle);
        }
        if self.dispatch().look_at.load(Ordering::SeqCst) <= now.millis() {
            // Taken before looking, so a request made meanwhile is kept.
            self.dispatch().look_at.store(NEVER, Ordering::SeqCst);
            let next = match self.look_in_database(free, now).await {
                Ok(next) => next,
                Err(e) => {
                    self.dispatch().look_at(now); // look again after the pause
                    return Err(e.into());
                }
            };
            self.dispatch()
                .look_at
                .fetch_min(next.millis(), Ordering::SeqCst);
        }
        if self.slots.available_permits() == 0 {
            return Ok(Next::Idle);
        }
        if !self
            .dispatch()
            .handed
            .lock()
            .expect("handover lock")
            .is_empty()
        {
            return Ok(Next::Now);
        }
        Ok(match self.dispatch().look_at.load(Ordering::SeqCst) {
            NEVER => Next::Idle,
            at => Next::At(Timestamp(at)),
        })
    }

    /// Graceful stop: let attempts in flight finish and be recorded, then
    /// give back the leases of deliveries handed over but not yet started,
    /// so a restart sends them at once instead of after their lease.
    async fn stop(&mut self) {
        self.dispatch().closed.store(true, Ordering::SeqCst);
        while self.in_flight.join_next().await.is_some() {}
        self.dispatch()
            .handed
            .lock()
            .expect("handover lock")
            .clear();
        let released = sqlx::query(
            "UPDATE webhook_deliveries SET lease_owner = NULL, lease_expires_at = NULL \
             WHERE lease_owner = $1 AND state = $2",
        )
        .bind(self.dispatch().owner.as_str())
        .bind(DeliveryState::Pending.as_str())
        .execute(self.app.db.writer())
        .await;
        if let Err(e) = released {
            tracing::warn!(error = %e, "could not release the dispatcher's leases; they will lapse");
        }
    }
}
