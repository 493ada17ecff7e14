//! The poller (and hybrid's reconciliation, the same machinery) as a
//! background worker: one [`Poller::poll_cycle`] per pass,
//! every interval — counted from the start of one poll to the start of
//! the next — and, while the store is unreachable, less and less often
//! (`platform::Backoff`) rather than hammering it.
//!
//! **Long polling** (`POLL_WAIT`): the next cycle starts as soon as one
//! ends — the store holds each empty read until an order commits or the
//! wait is over, so the wait paces the poller, not the interval. An
//! empty read answered *early* means a store that does not hold reads;
//! the poller then keeps to its interval rather than spin.

use std::sync::Arc;
use std::time::Duration;

use platform::Backoff;
use platform::worker::{Next, Worker};

use super::{Feed, Poller, cursor};
use crate::context::Context;

pub struct PollerWorker {
    ctx: Context,
    poller: Arc<Poller>,
    /// Failed cycles in a row, for the back-off.
    failures: u32,
}

impl PollerWorker {
    pub fn new(ctx: Context, poller: Arc<Poller>) -> PollerWorker {
        PollerWorker {
            ctx,
            poller,
            failures: 0,
        }
    }

    /// The pause after a failed cycle: twice the interval, doubling, never
    /// more than `max_backoff` (nor less than one interval).
    fn backoff(&self, interval: Duration) -> Backoff {
        let longest = self.ctx.config.poll.max_backoff.max(interval);
        Backoff::exponential(interval * 2, longest)
    }

    fn failed(&mut self, error: &anyhow::Error, interval: Duration) -> Duration {
        self.failures += 1;
        let feed = self.poller.feed;
        // The poller's page and counters are the poller's: the
        // reconciliation's trouble is in the log, not shown as a poll's.
        let polling = feed == Feed::Poll;
        if polling {
            self.ctx.metrics.poll_failures.inc();
        }
        let pause = self
            .backoff(interval)
            .delay_after(self.failures)
            .unwrap_or(interval);
        let pause_ms = pause.as_millis() as u64;
        tracing::warn!(error = %error, ?feed, failures = self.failures, backoff_ms = pause_ms, "poll failed; backing off");
        if polling {
            self.ctx.live.publish(
                contract::LiveEventKind::PollerBackoff,
                crate::live::PollerBackoffData {
                    error: error.to_string(),
                    failures: self.failures,
                    backoff_ms: pause_ms,
                },
            );
        }
        pause
    }
}

impl Worker for PollerWorker {
    const NAME: &'static str = "poller";

    async fn pass(&mut self) -> anyhow::Result<Next> {
        self.cycle().await
    }
}

/// Hybrid mode's reconciliation as a background worker: the same passes
/// as the poller's, over its own [`Poller`] (`Feed::Reconcile`), under its
/// own name in the logs.
pub struct ReconcilerWorker(pub PollerWorker);

impl Worker for ReconcilerWorker {
    const NAME: &'static str = "reconciler";

    async fn pass(&mut self) -> anyhow::Result<Next> {
        self.0.cycle().await
    }
}

impl PollerWorker {
    /// One pass: a cycle when due and not paused, and when the next is.
    async fn cycle(&mut self) -> anyhow::Result<Next> {
        let ctx = &self.ctx;
        let state = cursor::load(&ctx.db, self.poller.feed).await?;
        let interval = state.interval();
        if state.paused || ctx.chaos.is_down() {
            // Paused (or "down"): look again every interval in case that
            // was switched off; resuming wakes it at once.
            return Ok(Next::At(ctx.clock.now() + interval));
        }
        // Every interval, counted from the start of one poll to the start
        // of the next: how long a cycle takes does not stretch the period.
        let started = ctx.clock.now();
        // Real time, not the service's clock: how long the store held the
        // read is a fact of the network, not of the demo's time.
        let held_since = std::time::Instant::now();
        match self.poller.poll_cycle(ctx).await {
            Ok(report) => {
                // `poll_cycle` logged what it did.
                self.failures = 0;
                let held = match self.poller.long_poll(&state) {
                    Some(wait) => report.orders_seen > 0 || held_since.elapsed() >= wait,
                    None => false,
                };
                Ok(if held {
                    Next::Now
                } else {
                    Next::At(started + interval)
                })
            }
            Err(e) => {
                let pause = self.failed(&e, interval);
                Ok(Next::At(self.ctx.clock.now() + pause))
            }
        }
    }
}
