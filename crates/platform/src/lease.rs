//! Leases: work a process has taken on, marked in the database with the
//! process's name and an expiry, and **renewed while the process lives**.
//!
//! Two store processes sharing a database must never both do the same
//! piece of work (send the same webhook attempt, decide the same api
//! order), and work a crashed process held must not wait for a person. A
//! lease gives both: a row is claimed by writing `lease_owner = me,
//! lease_expires_at = now + term`, only a row whose lease has run out may
//! be claimed again, and the owner keeps the lease alive — every third of
//! a term, a [`LeaseRenewer`] pushes the expiry of everything it
//! [holds](Leases::hold) one term further. So:
//!
//! * a **live** process keeps what it holds for as long as it needs it —
//!   an attempt waiting its turn behind a slow endpoint, a call waiting
//!   for a slow inventory — and nobody takes it over as if abandoned;
//! * a **dead** one (`kill -9`, a power cut) stops renewing, and its work
//!   is free to be claimed within one term ([`DEFAULT_TERM`]: seconds, not
//!   the minute a lease sized for the slowest request would need).
//!
//! Only what is held *in memory* is renewed, never "every row with my
//! name": a row this process marked but then lost track of (its task
//! failed before writing the result) simply runs out, and is taken up
//! again like a crashed process's. [`Held`] is a guard: dropping it — the
//! work finished, or the task that held it went away — lets go.
//!
//! The road not taken: one heartbeat row per process, with claims allowed
//! on work whose owner's heartbeat is stale. Same guarantees, but every
//! claim query would join the heartbeat table, and a process that is alive
//! but has lost a task's work would hold it for ever.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use contract::Timestamp;

use crate::SharedClock;
use crate::db::{Db, MAX_BINDS_PER_STATEMENT, placeholders};
use crate::worker::{Next, Pacing, Worker};

/// How long a lease is good for unless renewed: what a crashed process's
/// work waits before it may be taken over. Renewed every third of it, so
/// two renewals may be late before a live process loses anything.
pub const DEFAULT_TERM: Duration = Duration::from_secs(6);

/// A table whose rows are leased: its id column, and the `lease_owner` and
/// `lease_expires_at` columns every leased table has.
#[derive(Debug, Clone, Copy)]
pub struct LeasedTable {
    pub table: &'static str,
    pub id_column: &'static str,
}

/// What one process holds in one [`LeasedTable`]. Cheap to share
/// (`Arc<Leases>`); every clone speaks for the same owner.
#[derive(Debug)]
pub struct Leases {
    table: LeasedTable,
    owner: String,
    term: Duration,
    /// Held ids, each with the expiry its lease is known to have.
    held: Mutex<HashMap<String, Timestamp>>,
}

impl Leases {
    /// Leases on `table`'s rows, owned by `owner` (this process's name).
    pub fn new(table: LeasedTable, owner: impl Into<String>, term: Duration) -> Arc<Leases> {
        Arc::new(Leases {
            table,
            owner: owner.into(),
            term,
            held: Mutex::new(HashMap::new()),
        })
    }

    /// The name written into `lease_owner`.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    fn term(&self) -> Duration {
        self.term
    }

    /// The expiry to write for a lease taken at `now`.
    pub fn expiry_from(&self, now: Timestamp) -> Timestamp {
        now + self.term
    }

    /// Starts holding `id`, whose lease (already written, and committed)
    /// runs until `until`: from now on it is renewed, until the guard is
    /// dropped.
    pub fn hold(self: &Arc<Self>, id: &str, until: Timestamp) -> Held {
        self.lock().insert(id.to_owned(), until);
        Held {
            leases: self.clone(),
            id: id.to_owned(),
        }
    }

    /// Whether this process holds `id` right now.
    pub fn holds(&self, id: &str) -> bool {
        self.lock().contains_key(id)
    }

    /// Whether `id` is held and its lease runs at least `margin` past
    /// `now` — that is, whether this process may still start work on it.
    pub fn still_ours(&self, id: &str, now: Timestamp, margin: Duration) -> bool {
        self.lock()
            .get(id)
            .is_some_and(|until| *until >= now + margin)
    }

    /// How many leases are held.
    fn len(&self) -> usize {
        self.lock().len()
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Pushes the expiry of every held lease one term past `now`, a chunk
    /// of ids per statement. A held id whose row no longer names this
    /// process (it finished meanwhile, or — after renewals failed for a
    /// whole term — someone took it over) keeps its old expiry, so
    /// [`Leases::still_ours`] turns false for it. Returns how many were
    /// renewed.
    async fn renew(&self, db: &Db, now: Timestamp) -> Result<usize, sqlx::Error> {
        let ids: Vec<String> = self.lock().keys().cloned().collect();
        let until = now + self.term;
        let LeasedTable { table, id_column } = self.table;
        let mut renewed = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(MAX_BINDS_PER_STATEMENT) {
            let sql = sqlx::AssertSqlSafe(format!(
                "UPDATE {table} SET lease_expires_at = $1 WHERE lease_owner = $2 \
                 AND {id_column} IN ({}) RETURNING {id_column} AS id",
                placeholders(3, chunk.len())
            ));
            let mut query = sqlx::query_scalar::<_, String>(sql)
                .bind(until.millis())
                .bind(&self.owner);
            for id in chunk {
                query = query.bind(id);
            }
            renewed.extend(query.fetch_all(db.writer()).await?);
        }
        let mut held = self.lock();
        for id in &renewed {
            if let Some(expiry) = held.get_mut(id) {
                *expiry = until;
            }
        }
        Ok(renewed.len())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Timestamp>> {
        self.held.lock().expect("leases lock")
    }
}

/// One held lease; dropping it lets go (the lease is no longer renewed,
/// and runs out within a term unless the row was given back first).
#[derive(Debug)]
pub struct Held {
    leases: Arc<Leases>,
    id: String,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.leases.lock().remove(&self.id);
    }
}

/// Renews a process's leases every third of a term, for as long as the
/// process runs. One per process, for every [`Leases`] it has.
pub struct LeaseRenewer {
    db: Db,
    clock: SharedClock,
    leases: Vec<Arc<Leases>>,
}

impl LeaseRenewer {
    pub fn new(db: Db, clock: SharedClock, leases: Vec<Arc<Leases>>) -> LeaseRenewer {
        LeaseRenewer { db, clock, leases }
    }

    /// Paced by its own timer; nothing wakes it.
    pub fn pacing(&self) -> Pacing {
        Pacing {
            clock: self.clock.clone(),
            wake: Arc::new(tokio::sync::Notify::new()),
            sweep: None,
        }
    }

    /// A third of the shortest term.
    fn interval(&self) -> Duration {
        self.leases
            .iter()
            .map(|l| l.term())
            .min()
            .unwrap_or(DEFAULT_TERM)
            / 3
    }
}

impl Worker for LeaseRenewer {
    const NAME: &'static str = "lease_renewer";

    async fn pass(&mut self) -> anyhow::Result<Next> {
        let now = self.clock.now();
        for leases in &self.leases {
            if !leases.is_empty() {
                leases.renew(&self.db, now).await?;
            }
        }
        Ok(Next::At(now + self.interval()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leases() -> Arc<Leases> {
        Leases::new(
            LeasedTable {
                table: "t",
                id_column: "id",
            },
            "proc_1",
            Duration::from_secs(6),
        )
    }

    #[test]
    fn a_guard_holds_until_dropped() {
        let leases = leases();
        let now = Timestamp(1_000_000);
        let held = leases.hold("a", leases.expiry_from(now));
        assert!(leases.holds("a"));
        assert!(leases.still_ours("a", now, Duration::from_secs(5)));
        assert!(!leases.still_ours("a", now, Duration::from_secs(7)));
        assert!(!leases.still_ours("b", now, Duration::ZERO));
        drop(held);
        assert!(!leases.holds("a"));
        assert!(leases.is_empty());
    }
}
