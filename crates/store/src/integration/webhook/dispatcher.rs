//! Steps 2 and 3 — **hand over or claim, then fan out**: the
//! [`OutboxDispatcher`], a `platform::worker::Worker`, and [`Dispatch`],
//! the handle the rest of the store reaches it by.
//!
//! **The lease decides who sends.** A delivery is attempted only by the
//! store process whose name is in its `lease_owner` column, until its
//! `lease_expires_at`; past that, any process may take it over. The owner
//! renews the lease of every delivery it holds while it lives
//! (`platform::lease`): a delivery waiting its turn here for a minute is
//! still ours, and nobody sends it as if it had been abandoned. A process
//! that dies stops renewing, and its deliveries are taken over within one
//! lease term — seconds. At-least-once, never zero, and never twice at the
//! same time.
//!
//! **Two ways in.** A delivery gets its lease in one of two ways:
//!
//! * **Handed over at birth** — the common case. The order's transaction
//!   writes the new delivery already leased to this process
//!   ([`Dispatch::lease_for_new`]), and once it has committed the delivery
//!   is handed over in memory ([`Dispatch::hand_over`]) with everything
//!   its attempt needs. The first attempt leaves within a millisecond of
//!   the commit, and nothing is read back that was just written. The
//!   outbox is still the durable truth: if the process dies with the
//!   delivery in memory, its lease runs out and the next look at the
//!   database finds it.
//! * **Claimed from the database** — retries that fell due, leases that
//!   ran out, redeliveries, and work another store process committed. The
//!   dispatcher stamps up to a slot's worth of due deliveries with its
//!   name and a lease expiry in one `UPDATE … RETURNING` (with `FOR UPDATE
//!   SKIP LOCKED` on PostgreSQL). It looks when something is due
//!   ([`Dispatch::look_at`]: a retry's time, a person's "redeliver") and at
//!   least every sweep interval, the safety net; it does not query the
//!   database for every order. A claimed delivery this process already
//!   holds is not queued a second time.
//!
//! **Fan out, fairly.** Deliveries wait in one queue per endpoint
//! (`platform::fair_queue`). At most `max_in_flight` requests are on the
//! wire at once, and at most `max_in_flight_per_endpoint` of them to any
//! one endpoint (the resolver, the inventory's own receiver, may have
//! half the wire: `Dispatch::widen_for_resolver`); the next place goes to
//! the endpoint with the fewest on
//! the wire. So an endpoint that takes nine seconds to answer ties up its
//! own places and no more, and the inventory's deliveries keep leaving in
//! milliseconds beside it. Each attempt runs on its own task; one that has
//! its answer gives its place on the wire to the next and waits for its
//! result to be recorded — with the others that finished meanwhile, in one
//! transaction. Up to [`RECORDING_DEPTH`] times as many attempts may be
//! waiting so: enough that recording never holds up sending, few enough to
//! bound what sits in memory. So is what waits for the wire: beyond
//! `HANDOVER_LIMIT` (or an endpoint's share of it) new deliveries stay in
//! the database until there is room.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tracing::Instrument;

use contract::{DeliveryId, DeliveryState, EndpointId, Timestamp};
use platform::Db;
use platform::fair_queue::FairQueue;
use platform::lease::Leases;
use platform::worker::{Next, Pacing, Worker};

use super::Webhooks;
use super::delivery::{Claimed, Lease, Waiting};
use super::{attempt, claim};

/// At most this many deliveries wait in memory, all endpoints together;
/// beyond it, new ones are left in the database unleased (the outbox is the
/// queue; memory is only a shortcut), where the dispatcher claims them when
/// it has room.
const HANDOVER_LIMIT: usize = 1024;

/// At most this many deliveries of one endpoint wait (or are on the wire)
/// in memory: a slow endpoint's backlog stays in the database, and cannot
/// crowd the others' out of memory.
const HANDOVER_LIMIT_PER_ENDPOINT: usize = 256;

/// The resolver endpoint may hold one `RESOLVER_SHARE`-th of the wire
/// ([`Dispatch::widen_for_resolver`]).
const RESOLVER_SHARE: usize = 2;

/// How many times `max_in_flight` attempts may be started and not yet
/// recorded.
pub const RECORDING_DEPTH: usize = 4;

/// An attempt starts only on a lease that runs at least this much longer
/// (the renewer extends it while the attempt is on the wire).
const START_MARGIN: Duration = Duration::from_secs(1);

/// "Nothing to look for in the database": `look_at`'s empty value.
const NEVER: i64 = i64::MAX;

/// How the store reaches its dispatcher: hands it new deliveries, and tells
/// it when the database has something due.
pub struct Dispatch {
    /// The deliveries this process holds, renewed while it lives.
    leases: Arc<Leases>,
    /// Deliveries waiting for the wire, one queue per endpoint, each
    /// endpoint with at most `max_in_flight_per_endpoint` on the wire.
    waiting: Mutex<FairQueue<EndpointId, Waiting>>,
    /// When the dispatcher should next look in the database (unix ms).
    look_at: AtomicI64,
    /// Set once the dispatcher has stopped: new deliveries stay unleased.
    closed: AtomicBool,
    wake: Arc<Notify>,
    /// Places on the wire, all endpoints together: `max_in_flight`.
    wire: Arc<Semaphore>,
    /// The resolver's share of the wire: see [`Dispatch::widen_for_resolver`].
    resolver_cap: usize,
}

impl Dispatch {
    /// `leases`: this process's delivery leases; `max_in_flight`: attempts
    /// on the wire at once, of which at most `per_endpoint` to one endpoint.
    pub fn new(
        leases: Arc<Leases>,
        max_in_flight: usize,
        per_endpoint: usize,
        wake: Arc<Notify>,
    ) -> Dispatch {
        Dispatch {
            leases,
            waiting: Mutex::new(FairQueue::new(per_endpoint)),
            look_at: AtomicI64::new(0), // look at once: work left by a previous run
            closed: AtomicBool::new(false),
            wake,
            wire: Arc::new(Semaphore::new(max_in_flight.max(1))),
            resolver_cap: (max_in_flight / RESOLVER_SHARE).max(per_endpoint).max(1),
        }
    }

    /// What wakes the dispatcher (for its `Pacing`).
    pub fn wake(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// This process's name in lease columns.
    pub fn owner(&self) -> &str {
        self.leases.owner()
    }

    /// The delivery leases this process holds (for the renewer).
    pub fn leases(&self) -> &Arc<Leases> {
        &self.leases
    }

    /// A lease for deliveries written in a transaction starting now, to be
    /// [handed over](Dispatch::hand_over) once it commits — or `None` when
    /// enough is waiting in memory already (or the dispatcher has stopped):
    /// then they wait in the database like any due delivery. Endpoints
    /// with a full queue here are not covered.
    pub fn lease_for_new(&self, now: Timestamp) -> Option<Lease> {
        if self.closed.load(Ordering::SeqCst) {
            return None;
        }
        let waiting = self.queue();
        if waiting.queued() >= HANDOVER_LIMIT {
            return None;
        }
        Some(Lease::new(
            self.owner(),
            self.leases.expiry_from(now),
            waiting.keys_loaded_at_least(HANDOVER_LIMIT_PER_ENDPOINT),
        ))
    }

    /// Gives the dispatcher deliveries leased to it whose transaction has
    /// committed.
    pub fn hand_over(&self, claimed: Vec<Claimed>) {
        if claimed.is_empty() {
            return;
        }
        self.hold_all(claimed);
        self.wake.notify_one();
    }

    /// Holds the leases of `claimed` and queues them for the wire — except
    /// those already held here (a claim that re-stamped a delivery this
    /// process is still working on: it is not sent twice).
    fn hold_all(&self, claimed: Vec<Claimed>) -> usize {
        let mut queued = 0;
        let mut waiting = self.queue();
        for claimed in claimed {
            if self.leases.holds(claimed.id.as_str()) {
                continue;
            }
            let held = self.leases.hold(claimed.id.as_str(), claimed.leased_until);
            waiting.push(claimed.endpoint_id.clone(), Waiting { claimed, held });
            queued += 1;
        }
        queued
    }

    /// Lets the resolver — the inventory's own receiver, whose answers
    /// decide orders — have a larger share of the wire than an observer:
    /// half of it (128 of the default 256) instead of
    /// `max_in_flight_per_endpoint` (16). Hybrid mode needs it: a notice
    /// stays on the wire while the inventory fetches and applies the order
    /// (tens of milliseconds under load). Sixteen of those at a time capped
    /// hybrid near 800 orders a second; a quarter of the wire (64) near
    /// 1,800, with a backlog behind it (end to end p50 1.3 s at c=32 in
    /// the bench); half: about 2,000, end to end p50 70 ms — the CPU, not
    /// the wire, is then the limit. Only the resolver: an observer anyone
    /// may add still gets the small share, so slow ones cannot take the
    /// wire from it (half stays for the rest). Called by the attempt, which
    /// is the first to know the target.
    pub fn widen_for_resolver(&self, endpoint: &EndpointId) {
        self.queue().set_cap(endpoint.clone(), self.resolver_cap);
    }

    /// Tells the dispatcher that something in the database is due at `at`
    /// (a retry, a redelivery, deliveries written unleased).
    pub fn look_at(&self, at: Timestamp) {
        self.look_at.fetch_min(at.millis(), Ordering::SeqCst);
        self.wake.notify_one();
    }

    /// Whether the dispatcher has work it could start if it had a place.
    fn has_work(&self, now: Timestamp) -> bool {
        self.queue().has_startable() || self.look_at.load(Ordering::SeqCst) <= now.millis()
    }

    /// An attempt was recorded: wake the dispatcher if it can start more.
    fn slot_freed(&self, now: Timestamp) {
        if self.has_work(now) {
            self.wake.notify_one();
        }
    }

    /// An attempt to `endpoint` left the wire.
    fn off_the_wire(&self, endpoint: &EndpointId) {
        let mut waiting = self.queue();
        waiting.finished(endpoint);
        if waiting.has_startable() {
            self.wake.notify_one();
        }
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, FairQueue<EndpointId, Waiting>> {
        self.waiting.lock().expect("dispatch queue lock")
    }

    /// Gives up a lease without an attempt (its endpoint stopped taking
    /// deliveries since): the delivery waits in the database.
    pub async fn release(&self, db: &Db, id: &DeliveryId) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE webhook_deliveries SET lease_owner = NULL, lease_expires_at = NULL \
             WHERE id = $1 AND lease_owner = $2",
        )
        .bind(id.as_str())
        .bind(self.owner())
        .execute(db.writer())
        .await?;
        Ok(())
    }
}

/// An attempt's place on the wire; giving it back (dropping it) lets the
/// next delivery start — of this endpoint or, fairly, another's.
pub struct OnTheWire {
    dispatch: Arc<Dispatch>,
    endpoint: EndpointId,
    _permit: OwnedSemaphorePermit,
}

impl Drop for OnTheWire {
    fn drop(&mut self) {
        self.dispatch.off_the_wire(&self.endpoint);
    }
}

/// Delivers the outbox. One runs in every store process.
pub struct OutboxDispatcher {
    hooks: Arc<Webhooks>,
    /// Attempts started and not yet recorded.
    slots: Arc<Semaphore>,
    in_flight: JoinSet<()>,
}

impl OutboxDispatcher {
    pub fn new(hooks: Arc<Webhooks>) -> OutboxDispatcher {
        let started = hooks.ctx.config.webhook.max_in_flight.max(1) * RECORDING_DEPTH;
        let slots = Arc::new(Semaphore::new(started));
        OutboxDispatcher {
            hooks,
            slots,
            in_flight: JoinSet::new(),
        }
    }

    /// How it is woken (the moment an event commits) and its safety net.
    pub fn pacing(hooks: &Webhooks) -> Pacing {
        Pacing {
            clock: hooks.ctx.clock.clone(),
            wake: hooks.dispatch.wake(),
            sweep: Some(hooks.ctx.config.webhook.sweep_interval),
        }
    }

    fn dispatch(&self) -> &Arc<Dispatch> {
        &self.hooks.dispatch
    }

    /// How many attempts could start now: a place on the wire and a slot
    /// for recording its result.
    fn free(&self) -> usize {
        self.dispatch()
            .wire
            .available_permits()
            .min(self.slots.available_permits())
    }

    /// Claims what is due, queues it, and says when to look again: at once
    /// if there may be more, else when the next falls due — and never later
    /// than the sweep.
    async fn look_in_database(
        &mut self,
        free: usize,
        now: Timestamp,
    ) -> Result<Timestamp, sqlx::Error> {
        let full: Vec<EndpointId> = self
            .dispatch()
            .queue()
            .keys_at_their_cap()
            .into_iter()
            .collect();
        let dispatch = self.dispatch();
        let db = &self.hooks.ctx.db;
        let until = dispatch.leases.expiry_from(now);
        let claimed = claim::due(db, dispatch.owner(), until, free, now, &full).await?;
        let more = claimed.len() == free;
        self.dispatch().hold_all(claimed);
        let sweep = now + self.hooks.ctx.config.webhook.sweep_interval;
        Ok(if more {
            now
        } else {
            claim::next_due(db, dispatch.owner())
                .await?
                .map_or(sweep, |due| due.min(sweep))
        })
    }

    /// Starts what waits in memory, fairly between endpoints, while there
    /// are places on the wire.
    fn start_waiting(&mut self, now: Timestamp) {
        while self.free() > 0 {
            let Some((endpoint, waiting)) = self.dispatch().queue().start_next() else {
                return;
            };
            let on_the_wire = OnTheWire {
                dispatch: self.dispatch().clone(),
                endpoint,
                _permit: self
                    .dispatch()
                    .wire
                    .clone()
                    .try_acquire_owned()
                    .expect("free() counted it"),
            };
            self.fan_out(waiting, on_the_wire, now);
        }
    }

    /// Starts one attempt on its own task, holding a slot until its result
    /// is recorded. A delivery whose lease this process no longer holds
    /// firmly (renewals failed, and the database may have let another
    /// process take it) is left to the database instead.
    fn fan_out(&mut self, waiting: Waiting, on_the_wire: OnTheWire, now: Timestamp) {
        let id = waiting.claimed.id.as_str();
        if !self.dispatch().leases.still_ours(id, now, START_MARGIN) {
            tracing::warn!(
                delivery_id = id,
                "lease not renewed in time; leaving the delivery to the database"
            );
            return;
        }
        let Ok(slot) = self.slots.clone().try_acquire_owned() else {
            return; // cannot happen: free() counted it
        };
        let hooks = self.hooks.clone();
        let span = tracing::info_span!("webhook_delivery", delivery_id = %waiting.claimed.id);
        self.in_flight.spawn(
            async move {
                let Waiting { claimed, held } = waiting;
                if let Err(e) = attempt::run(&hooks, claimed, held, on_the_wire).await {
                    tracing::error!(error = %e, "delivery attempt could not be recorded");
                }
                drop(slot);
                hooks.dispatch.slot_freed(hooks.ctx.clock.now());
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
        let now = self.hooks.ctx.clock.now();
        // Handed over at birth, or claimed before: first, and without
        // reading anything back.
        self.start_waiting(now);
        let free = self.free();
        if free == 0 {
            // Every place is busy; each attempt wakes us as it finishes.
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
            self.start_waiting(now);
        }
        if self.free() > 0 && self.dispatch().queue().has_startable() {
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
        drop(self.dispatch().queue().drain_waiting());
        let released = sqlx::query(
            "UPDATE webhook_deliveries SET lease_owner = NULL, lease_expires_at = NULL \
             WHERE lease_owner = $1 AND state = $2",
        )
        .bind(self.dispatch().owner())
        .bind(DeliveryState::Pending.as_str())
        .execute(self.hooks.ctx.db.writer())
        .await;
        if let Err(e) = released {
            tracing::warn!(error = %e, "could not release the dispatcher's leases; they will lapse");
        }
    }
}
