//! The poller as a background worker: one [`Poller::poll_cycle`] per pass,
//! every interval — counted from the start of one poll to the start of
//! the next — and, while the store is unreachable, less and less often
//! (`platform::Backoff`) rather than hammering it.

use std::sync::Arc;
use std::time::Duration;

use platform::Backoff;
use platform::worker::{Next, Worker};

use super::{Poller, cursor};
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
        self.ctx.metrics.poll_failures.inc();
        let pause = self
            .backoff(interval)
            .delay_after(self.failures)
            .unwrap_or(interval);
        let pause_ms = pause.as_millis() as u64;
        tracing::warn!(error = %error, failures = self.failures, backoff_ms = pause_ms, "poll failed; backing off");
        self.ctx.live.publish(
            contract::LiveEventKind::PollerBackoff,
            serde_json::json!({"error": error.to_string(), "failures": self.failures, "backoff_ms": pause_ms}),
        );
        pause
    }
}

impl Worker for PollerWorker {
    const NAME: &'static str = "poller";

    async fn pass(&mut self) -> anyhow::Result<Next> {
        let ctx = &self.ctx;
        let state = cursor::load(&ctx.db).await?;
        let interval = state.interval();
        if state.paused || ctx.chaos.is_down() {
            // Paused (or "down"): look again every interval in case that
            // was switched off; resuming wakes it at once.
            return Ok(Next::At(ctx.clock.now() + interval));
        }
        // Every interval, counted from the start of one poll to the start
        // of the next: how long a cycle takes does not stretch the period.
        let started = ctx.clock.now();
        match self.poller.poll_cycle(ctx).await {
            Ok(_) => {
                // `poll_cycle` logged what it did.
                self.failures = 0;
                Ok(Next::At(started + interval))
            }
            Err(e) => {
                let pause = self.failed(&e, interval);
                Ok(Next::At(self.ctx.clock.now() + pause))
            }
        }
    }
}
