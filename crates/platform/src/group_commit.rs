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
//!    batch ([`Batch::write`]); a caller whose job an earlier leader took
//!    finds its result waiting instead, and goes;
//! 3. while a batch is being written, new jobs queue up behind it — so the
//!    longer a commit takes, the larger the next batch. One caller alone is
//!    written at once, as a batch of one: nobody waits for company.
//!
//! Two rules keep it safe. A result is handed out only after its batch has
//! committed, so an answer built on it (a `201 Created`) never announces
//! what a crash could still undo. And the batch is written on a task of its
//! own, so a caller that goes away (its client hung up) cannot cancel, half
//! way through, a transaction that other callers are waiting on. How a
//! batch that fails is split, so that one bad job fails alone, is the
//! [`Batch`]'s decision: it knows what can fail.
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
    type Job: Send + 'static;
    type Done: Send + 'static;

    /// Writes `jobs` and returns exactly one result per job, in their order.
    fn write(&self, jobs: Vec<Self::Job>) -> impl Future<Output = Vec<Self::Done>> + Send;
}

/// The batch a job was in never finished (its writer panicked).
#[derive(Debug, Error)]
#[error("the batch this write was in did not finish")]
pub struct Abandoned;

type Queued<B> = (<B as Batch>::Job, oneshot::Sender<<B as Batch>::Done>);

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

    /// The writer behind it.
    pub fn batch(&self) -> &B {
        &self.batch
    }

    /// Writes `job` together with whatever else is waiting, and returns its
    /// result once its batch is over (committed, or failed).
    pub async fn submit(&self, job: B::Job) -> Result<B::Done, Abandoned> {
        let (reply, mut result) = oneshot::channel();
        self.queue.lock().expect("queue lock").push((job, reply));
        let turn = self.turn.clone().lock_owned().await;
        match result.try_recv() {
            // An earlier leader took our job; it held the turn until every
            // result of its batch was sent.
            Ok(done) => return Ok(done),
            Err(oneshot::error::TryRecvError::Closed) => return Err(Abandoned),
            Err(oneshot::error::TryRecvError::Empty) => {}
        }
        // Nobody took it, so it is still queued: we lead, and take everyone.
        let queued = std::mem::take(&mut *self.queue.lock().expect("queue lock"));
        let batch = self.batch.clone();
        tokio::spawn(async move {
            let _turn = turn; // held until every result is out
            let (jobs, replies): (Vec<_>, Vec<_>) = queued.into_iter().unzip();
            let expected = jobs.len();
            let results = batch.write(jobs).await;
            assert_eq!(results.len(), expected, "one result per job");
            for (reply, done) in replies.into_iter().zip(results) {
                let _ = reply.send(done); // a caller that left is fine
            }
        });
        result.await.map_err(|_| Abandoned)
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

    impl Batch for Doubler {
        type Job = u32;
        type Done = u32;

        async fn write(&self, jobs: Vec<u32>) -> Vec<u32> {
            if self.hold.swap(false, Ordering::SeqCst) {
                self.held.notify_one();
                self.release.notified().await;
            }
            self.batches.lock().unwrap().push(jobs.clone());
            jobs.into_iter().map(|j| j * 2).collect()
        }
    }

    #[tokio::test]
    async fn a_lone_job_is_a_batch_of_one() {
        let group = GroupCommit::new(Doubler::default());
        assert_eq!(group.submit(21).await.unwrap(), 42);
        assert_eq!(group.submit(5).await.unwrap(), 10);
        assert_eq!(
            *group.batch().batches.lock().unwrap(),
            vec![vec![21], vec![5]]
        );
    }

    #[tokio::test]
    async fn jobs_that_queue_behind_a_commit_are_written_together() {
        let group = Arc::new(GroupCommit::new(Doubler::default()));
        group.batch().hold.store(true, Ordering::SeqCst);
        let first = tokio::spawn({
            let group = group.clone();
            async move { group.submit(1).await.unwrap() }
        });
        group.batch().held.notified().await; // the first batch is "committing"
        let mut rest = Vec::new();
        for n in 2..=10 {
            let group = group.clone();
            rest.push(tokio::spawn(async move { group.submit(n).await.unwrap() }));
        }
        // Let every one of them queue its job before the first commit ends.
        while group.queue.lock().unwrap().len() < 9 {
            tokio::task::yield_now().await;
        }
        group.batch().release.notify_one();
        assert_eq!(first.await.unwrap(), 2);
        for (n, task) in (2..=10).zip(rest) {
            assert_eq!(task.await.unwrap(), n * 2, "each gets its own result");
        }
        let batches = group.batch().batches.lock().unwrap().clone();
        assert_eq!(batches.len(), 2, "{batches:?}");
        assert_eq!(batches[0], vec![1]);
        let mut second = batches[1].clone();
        second.sort();
        assert_eq!(second, (2..=10).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_caller_that_leaves_does_not_stop_the_batch() {
        let group = Arc::new(GroupCommit::new(Doubler::default()));
        group.batch().hold.store(true, Ordering::SeqCst);
        let leader = tokio::spawn({
            let group = group.clone();
            async move { group.submit(1).await }
        });
        group.batch().held.notified().await;
        leader.abort(); // the leader's client hung up mid-commit
        let _ = leader.await;
        group.batch().release.notify_one();
        // The batch finished anyway, and the next one is written normally.
        assert_eq!(group.submit(3).await.unwrap(), 6);
        let batches = group.batch().batches.lock().unwrap().clone();
        assert_eq!(batches, vec![vec![1], vec![3]]);
    }
}
