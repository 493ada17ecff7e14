//! One loop for every background worker.
//!
//! Both services keep work in their databases and do it in the background:
//! the store's webhook dispatcher and its compensation (void) worker, the
//! inventory's poller and its subscription. Each needs the same loop — do
//! what is due, then wait until the next thing falls due, *or* until
//! something new is committed (a wake-up), *or* until the service stops —
//! and each used to write it by hand. Here it is written once; a worker
//! only says what one [`Worker::pass`] does and when the next one is due.
//!
//! Waiting is done on the injected [`Clock`](crate::clock::Clock), so a test
//! moves a worker's schedule forward by hand instead of sleeping through
//! it. Stopping is a [`CancellationToken`]: a pass in progress finishes
//! (its writes are transactions, so a pass interrupted by `kill -9` loses
//! nothing either), then [`Worker::stop`] lets the worker drain what it has
//! in flight.
//!
//! The safety net is the *sweep*: even with nothing due and nobody waking
//! it, a worker looks again every `sweep` interval — for work committed by
//! another process sharing the database, whose wake-ups cannot reach this
//! one. The road not taken: PostgreSQL's `LISTEN/NOTIFY`, which would wake
//! across processes but has no SQLite equivalent.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use contract::Timestamp;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::backoff::Backoff;
use crate::clock::SharedClock;

/// When a worker wants its next pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// More is due right away: pass again without waiting.
    Now,
    /// Nothing is due before this time.
    At(Timestamp),
    /// Nothing is scheduled: wait for a wake-up (or the sweep).
    Idle,
    /// The work is finished for the life of the process.
    Done,
}

impl Next {
    /// The earlier of two wishes (`Now` < `At` < `Idle` < `Done`).
    pub fn min(self, other: Next) -> Next {
        use Next::*;
        match (self, other) {
            (Now, _) | (_, Now) => Now,
            (At(a), At(b)) => At(a.min(b)),
            (At(a), _) | (_, At(a)) => At(a),
            (Idle, _) | (_, Idle) => Idle,
            (Done, Done) => Done,
        }
    }
}

/// A background worker: one pass of its work at a time.
pub trait Worker: Send + 'static {
    /// For logs and the tracing span around each pass.
    const NAME: &'static str;

    /// Does whatever is due now and says when the next pass is wanted.
    /// An error is logged and the pass retried after a growing pause.
    fn pass(&mut self) -> impl Future<Output = anyhow::Result<Next>> + Send;

    /// Called once when the service stops, after the last pass: let work in
    /// flight finish and be recorded.
    fn stop(&mut self) -> impl Future<Output = ()> + Send {
        async {}
    }
}

/// How a worker is woken and paced.
#[derive(Clone)]
pub struct Pacing {
    pub clock: SharedClock,
    /// Poked when new work is committed in this process.
    pub wake: Arc<Notify>,
    /// The longest a worker waits without looking; `None`: until woken.
    pub sweep: Option<Duration>,
}

/// Pauses after consecutive failed passes: 1 s, 2 s, 4 s … up to a minute.
fn error_backoff() -> Backoff {
    Backoff::exponential(Duration::from_secs(1), Duration::from_secs(60))
}

/// Runs `worker` until `cancel` fires (or the worker is [`Next::Done`]).
pub async fn run<W: Worker>(mut worker: W, pacing: Pacing, cancel: CancellationToken) {
    let Pacing { clock, wake, sweep } = pacing;
    let mut failures: u32 = 0;
    tracing::debug!(worker = W::NAME, "worker started");
    while !cancel.is_cancelled() {
        let span = tracing::debug_span!("worker_pass", worker = W::NAME);
        let next = match worker.pass().instrument(span).await {
            Ok(next) => {
                failures = 0;
                next
            }
            Err(e) => {
                failures += 1;
                let pause = error_backoff().delay_after(failures).unwrap_or_default();
                tracing::error!(worker = W::NAME, error = ?e, failures, "worker pass failed");
                Next::At(clock.now() + pause)
            }
        };
        let now = clock.now();
        let by_sweep = sweep.map(|s| now + s);
        let deadline = match next {
            Next::Now => continue,
            Next::Done => break,
            Next::At(at) => Some(by_sweep.map_or(at, |s| s.min(at))),
            Next::Idle => by_sweep,
        };
        let sleep = async {
            match deadline {
                Some(at) => clock.sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = wake.notified() => {}
            _ = sleep => {}
            _ = cancel.cancelled() => {}
        }
    }
    worker.stop().await;
    tracing::debug!(worker = W::NAME, "worker stopped");
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::clock::ManualClock;

    /// Counts its passes and asks for the next one a second later.
    struct Ticker {
        passes: Arc<AtomicU32>,
        clock: SharedClock,
        stopped: Arc<AtomicU32>,
    }

    impl Worker for Ticker {
        const NAME: &'static str = "ticker";

        async fn pass(&mut self) -> anyhow::Result<Next> {
            self.passes.fetch_add(1, Ordering::SeqCst);
            Ok(Next::At(self.clock.now() + Duration::from_secs(1)))
        }

        async fn stop(&mut self) {
            self.stopped.fetch_add(1, Ordering::SeqCst);
        }
    }

    async fn settle() {
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn a_worker_passes_when_due_when_woken_and_stops_when_cancelled() {
        let clock = ManualClock::new();
        let passes = Arc::new(AtomicU32::new(0));
        let stopped = Arc::new(AtomicU32::new(0));
        let wake = Arc::new(Notify::new());
        let cancel = CancellationToken::new();
        let worker = Ticker {
            passes: passes.clone(),
            clock: clock.shared(),
            stopped: stopped.clone(),
        };
        let pacing = Pacing {
            clock: clock.shared(),
            wake: wake.clone(),
            sweep: None,
        };
        let task = tokio::spawn(run(worker, pacing, cancel.clone()));
        settle().await;
        assert_eq!(passes.load(Ordering::SeqCst), 1, "a first pass at once");

        clock.advance(Duration::from_millis(999));
        settle().await;
        assert_eq!(passes.load(Ordering::SeqCst), 1, "not before it is due");
        clock.advance(Duration::from_millis(1));
        settle().await;
        assert_eq!(passes.load(Ordering::SeqCst), 2, "when it is due");

        wake.notify_one();
        settle().await;
        assert_eq!(passes.load(Ordering::SeqCst), 3, "when woken");

        cancel.cancel();
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("stops")
            .unwrap();
        assert_eq!(stopped.load(Ordering::SeqCst), 1, "drained once");
    }

    #[test]
    fn the_earliest_wish_wins() {
        let t = Timestamp::from_millis(5);
        assert_eq!(Next::Idle.min(Next::At(t)), Next::At(t));
        assert_eq!(Next::At(t).min(Next::Now), Next::Now);
        assert_eq!(
            Next::At(t).min(Next::At(Timestamp::from_millis(3))),
            Next::At(Timestamp::from_millis(3))
        );
        assert_eq!(Next::Done.min(Next::Idle), Next::Idle);
    }
}
