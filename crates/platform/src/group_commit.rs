//! Group commit: many small writes that arrive together, committed together.
//!
//! A commit is the dear part of a small write. On SQLite every commit
//! appends each page the transaction touched to the WAL, and the one writer
//! takes the commits one after another; on PostgreSQL every commit waits
//! for the WAL to reach the disk (an `fsync`). Thirty-two customers placing
//! an order at the same moment pay that thirty-two times — unless their
//! orders are written in one transaction and pay it once. Databases do this
//! inside their own log ("group commit"); [`GroupCommit`] does it one level
//! up, for a service's own small transactions.
//!
//! The mechanism is the classic leader and followers, with no timer:
//!
//! 1. every caller puts its job in a shared queue, then waits for the
//!    *turn* (a fair, first-come mutex);
//! 2. whoever gets the turn and still finds its own job queued is the
//!    leader: it takes **every** job queued so far and writes them as one
//!    batch ([`Batch::write_together`]); a caller whose job an earlier
//!    leader took finds its result waiting instead, and goes;
//! 3. while a batch is being written, new jobs queue up behind it — so the
//!    longer a commit takes, the larger the next batch. One caller alone is
//!    written at once, as a batch of one: nobody waits for company.
//!
//! Two rules keep it safe. A result is handed out only after its batch has
//! committed, so an answer built on it (a `201 Created`) never announces
//! what a crash could still undo. And the batch is written on a task of its
//! own, so a caller that goes away (its client hung up) cannot cancel, half
//! way through, a transaction that other callers are waiting on.
//!
//! **One job must not fail the others.** The policy for a batch that
//! fails is written here once, for every [`Batch`]: a batch that cannot be
//! written (one bad job, a constraint, a race lost to another process) is
//! rolled back and each of its jobs is written again on its own, so only
//! the job that cannot be written fails — with its own, typed error. A job
//! alone that lost a race ([`Batch::try_again`]) is tried again, a few
//! times. A crowd larger than [`Batch::MOST`] is written as several
//! batches.
//!
//! Reads batch the same way where each would be a statement of its own
//! (a [`Batch`] whose `write_together` only reads: one `SELECT … IN` for
//! the crowd) — nothing is written, so a failed batch only means each
//! read is tried alone.
//!
//! The road not taken: a background task draining a channel on a timer
//! ("flush every 5 ms") — simpler to picture, but it adds the timer's delay
//! to every lone request, and it needs stopping.

use std::future::Future;
use std::sync::{Arc, Mutex};

use thiserror::Error;
use tokio::sync::oneshot;

/// Writes a batch of jobs, typically in one transaction.
pub trait Batch: Send + Sync + 'static {
    type Job: Send + Sync + 'static;
    type Done: Send + 'static;
    /// Why a batch (or a job alone) could not be written.
    type Error: std::error::Error + Send + 'static;

    /// The most jobs one batch takes; a larger crowd is written in several.
    const MOST: usize = usize::MAX;

    /// Writes `jobs` together: exactly one result per job, in their order
    /// — or an error, and nothing written.
    fn write_together(
        &self,
        jobs: &[Self::Job],
    ) -> impl Future<Output = Result<Vec<Self::Done>, Self::Error>> + Send;

    /// Whether a job alone that failed with `error` may succeed if tried
    /// again at once (it lost a race to a concurrent transaction). No, by
    /// default.
    fn try_again(&self, error: &Self::Error) -> bool {
        let _ = error;
        false
    }
}

/// Why a job submitted to a [`GroupCommit`] has no result.
#[derive(Debug, Error)]
pub enum CommitError<E: std::error::Error + 'static> {
    /// It could not be written, even on its own.
    #[error(transparent)]
    Write(E),
    /// The batch it was in never finished (its writer panicked).
    #[error("the batch this write was in did not finish")]
    Abandoned,
}

/// For batches of database work: a batch that never finished is, to its
/// caller, a database call that failed — one error type, and `?` works.
impl From<CommitError<sqlx::Error>> for sqlx::Error {
    fn from(e: CommitError<sqlx::Error>) -> sqlx::Error {
        match e {
            CommitError::Write(e) => e,
            abandoned @ CommitError::Abandoned => sqlx::Error::Protocol(abandoned.to_string()),
        }
    }
}

/// Tries of a job alone that keeps losing races (each a repeat of the last).
const TRIES_ALONE: usize = 3;

type Outcome<B> = Result<<B as Batch>::Done, <B as Batch>::Error>;
type Queued<B> = (<B as Batch>::Job, oneshot::Sender<Outcome<B>>);

/// Commits concurrent jobs together; see the module comment.
pub struct GroupCommit<B: Batch> {
    batch: Arc<B>,
    queue: Arc<Mutex<Vec<Queued<B>>>>,
    turn: Arc<tokio::sync::Mutex<()>>,
}

impl<B: Batch> GroupCommit<B> {
    pub fn new(batch: B) -> GroupCommit<B> {
        GroupCommit {
            batch: Arc::new(batch),
            queue: Arc::new(Mutex::new(Vec::new())),
            turn: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// Writes `jobs` — a batch the caller has in hand already (a page of a
    /// feed) — now, by the same policy, without waiting for company.
    pub async fn write_batch(&self, jobs: &[B::Job]) -> Vec<Result<B::Done, B::Error>> {
        write(&*self.batch, jobs).await
    }

    /// Writes `job` together with whatever else is waiting, and returns its
    /// result once its batch is over (committed, or failed).
    pub async fn submit(&self, job: B::Job) -> Result<B::Done, CommitError<B::Error>> {
        let (reply, mut result) = oneshot::channel();
        self.queue.lock().expect("queue lock").push((job, reply));
        let turn = self.turn.clone().lock_owned().await;
        match result.try_recv() {
            // An earlier leader took our job; it held the turn until every
            // result of its batch was sent.
            Ok(done) => return done.map_err(CommitError::Write),
            Err(oneshot::error::TryRecvError::Closed) => return Err(CommitError::Abandoned),
            Err(oneshot::error::TryRecvError::Empty) => {}
        }
        // Nobody took it, so it is still queued: we lead, and take everyone.
        let queued = std::mem::take(&mut *self.queue.lock().expect("queue lock"));
        let batch = self.batch.clone();
        tokio::spawn(async move {
            let _turn = turn; // held until every result is out
            let (jobs, replies): (Vec<_>, Vec<_>) = queued.into_iter().unzip();
            let results = write(&*batch, &jobs).await;
            assert_eq!(results.len(), jobs.len(), "one result per job");
            for (reply, done) in replies.into_iter().zip(results) {
                let _ = reply.send(done); // a caller that left is fine
            }
        });
        match result.await {
            Ok(done) => done.map_err(CommitError::Write),
            Err(_) => Err(CommitError::Abandoned),
        }
    }
}

/// The policy: each chunk of at most [`Batch::MOST`] jobs together; a
/// chunk that fails, each of its jobs alone.
async fn write<B: Batch>(batch: &B, jobs: &[B::Job]) -> Vec<Outcome<B>> {
    let mut results = Vec::with_capacity(jobs.len());
    for chunk in jobs.chunks(B::MOST.max(1)) {
        if let [one] = chunk {
            results.push(write_alone(batch, one).await);
            continue;
        }
        match batch.write_together(chunk).await {
            Ok(done) => {
                assert_eq!(done.len(), chunk.len(), "one result per job");
                results.extend(done.into_iter().map(Ok));
            }
            Err(e) => {
                tracing::warn!(error = %e, jobs = chunk.len(), "a shared transaction failed; writing each job on its own");
                for job in chunk {
                    results.push(write_alone(batch, job).await);
                }
            }
        }
    }
    results
}

/// One job in a transaction of its own, tried again while it loses races.
async fn write_alone<B: Batch>(batch: &B, job: &B::Job) -> Outcome<B> {
    let mut tries = 0;
    loop {
        tries += 1;
        match batch.write_together(std::slice::from_ref(job)).await {
            Ok(mut done) => return Ok(done.remove(0)),
            Err(e) if tries < TRIES_ALONE && batch.try_again(&e) => continue,
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use tokio::sync::Notify;

    use super::*;

    /// Doubles numbers, remembers each batch, and can be held at the door.
    #[derive(Default)]
    struct Doubler {
        batches: Mutex<Vec<Vec<u32>>>,
        hold: AtomicBool,
        held: Notify,
        release: Notify,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("odd numbers cannot be doubled here")]
    struct Odd;

    impl Batch for Doubler {
        type Job = u32;
        type Done = u32;
        type Error = Odd;

        async fn write_together(&self, jobs: &[u32]) -> Result<Vec<u32>, Odd> {
            if self.hold.swap(false, Ordering::SeqCst) {
                self.held.notify_one();
                self.release.notified().await;
            }
            self.batches.lock().unwrap().push(jobs.to_vec());
            if jobs.iter().any(|j| j % 2 == 1 && *j > 100) {
                return Err(Odd);
            }
            Ok(jobs.iter().map(|j| j * 2).collect())
        }
    }

    #[tokio::test]
    async fn a_lone_job_is_a_batch_of_one() {
        let group = GroupCommit::new(Doubler::default());
        assert_eq!(group.submit(21).await.unwrap(), 42);
        assert_eq!(group.submit(5).await.unwrap(), 10);
        assert_eq!(
            *group.batch.batches.lock().unwrap(),
            vec![vec![21], vec![5]]
        );
    }

    #[tokio::test]
    async fn jobs_that_queue_behind_a_commit_are_written_together() {
        let group = Arc::new(GroupCommit::new(Doubler::default()));
        group.batch.hold.store(true, Ordering::SeqCst);
        let first = tokio::spawn({
            let group = group.clone();
            async move { group.submit(1).await.unwrap() }
        });
        group.batch.held.notified().await; // the first batch is "committing"
        let mut rest = Vec::new();
        for n in 2..=10 {
            let group = group.clone();
            rest.push(tokio::spawn(async move { group.submit(n).await.unwrap() }));
        }
        // Let every one of them queue its job before the first commit ends.
        while group.queue.lock().unwrap().len() < 9 {
            tokio::task::yield_now().await;
        }
        group.batch.release.notify_one();
        assert_eq!(first.await.unwrap(), 2);
        for (n, task) in (2..=10).zip(rest) {
            assert_eq!(task.await.unwrap(), n * 2, "each gets its own result");
        }
        let batches = group.batch.batches.lock().unwrap().clone();
        assert_eq!(batches.len(), 2, "{batches:?}");
        assert_eq!(batches[0], vec![1]);
        let mut second = batches[1].clone();
        second.sort();
        assert_eq!(second, (2..=10).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_job_that_fails_a_batch_fails_alone() {
        let group = Arc::new(GroupCommit::new(Doubler::default()));
        group.batch.hold.store(true, Ordering::SeqCst);
        let first = tokio::spawn({
            let group = group.clone();
            async move { group.submit(1).await.unwrap() }
        });
        group.batch.held.notified().await;
        let mut rest = Vec::new();
        for n in [2, 101, 4] {
            let group = group.clone();
            rest.push(tokio::spawn(async move { group.submit(n).await }));
        }
        while group.queue.lock().unwrap().len() < 3 {
            tokio::task::yield_now().await;
        }
        group.batch.release.notify_one();
        assert_eq!(first.await.unwrap(), 2);
        let results: Vec<_> = futures_util::future::join_all(rest).await;
        let results: Vec<Option<u32>> = results.into_iter().map(|r| r.unwrap().ok()).collect();
        assert_eq!(results, [Some(4), None, Some(8)]);
        // The failed batch of three, then each of its jobs alone.
        let batches = group.batch.batches.lock().unwrap().clone();
        assert_eq!(batches.len(), 5, "{batches:?}");
        assert_eq!(batches[1].len(), 3);
        assert!(batches[2..].iter().all(|b| b.len() == 1));
    }

    #[tokio::test]
    async fn a_caller_that_leaves_does_not_stop_the_batch() {
        let group = Arc::new(GroupCommit::new(Doubler::default()));
        group.batch.hold.store(true, Ordering::SeqCst);
        let leader = tokio::spawn({
            let group = group.clone();
            async move { group.submit(1).await }
        });
        group.batch.held.notified().await;
        leader.abort(); // the leader's client hung up mid-commit
        let _ = leader.await;
        group.batch.release.notify_one();
        // The batch finished anyway, and the next one is written normally.
        assert_eq!(group.submit(3).await.unwrap(), 6);
        let batches = group.batch.batches.lock().unwrap().clone();
        assert_eq!(batches, vec![vec![1], vec![3]]);
    }
}
