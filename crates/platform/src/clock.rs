//! Time, injected.
//!
//! Retry schedules, poll intervals and timestamp tolerances are the parts of
//! an integration most worth testing and the easiest to test badly: a test
//! that sleeps for the 30-second retry is slow, and one that shortens the
//! schedule tests a different schedule. Every component that waits or reads
//! the time takes a [`SharedClock`] instead. Production uses [`SystemClock`];
//! tests use [`ManualClock`] and move time forward by hand, so "the 4th
//! attempt happens 36 s after the first" is asserted exactly and instantly.
//!
//! The road not taken: `tokio::time::pause()`. It auto-advances whenever the
//! runtime is idle — including while a real HTTP request is in flight on
//! loopback — so request timeouts would fire spuriously in tests that talk
//! to real servers.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use contract::Timestamp;
use tokio::sync::watch;

pub type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

pub trait Clock: Send + Sync + 'static {
    /// Now, as unix milliseconds.
    fn now_ms(&self) -> i64;
    /// Resolves once `now_ms() >= deadline`.
    fn sleep_until(&self, deadline: Timestamp) -> BoxFuture;

    /// Now.
    fn now(&self) -> Timestamp {
        Timestamp(self.now_ms())
    }
}

pub type SharedClock = Arc<dyn Clock>;

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl SystemClock {
    pub fn shared() -> SharedClock {
        Arc::new(SystemClock)
    }
}

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }

    fn sleep_until(&self, deadline: Timestamp) -> BoxFuture {
        Box::pin(tokio::time::sleep(deadline.since(self.now())))
    }
}

/// A clock that moves only when told to. Starts at the real current time,
/// so timestamps it produces still pass a receiver's ±5-minute check.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<watch::Sender<i64>>,
}

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock::new()
    }
}

impl ManualClock {
    pub fn new() -> ManualClock {
        ManualClock::starting_at(SystemClock.now_ms())
    }

    fn starting_at(ms: i64) -> ManualClock {
        ManualClock {
            now: Arc::new(watch::Sender::new(ms)),
        }
    }

    pub fn shared(&self) -> SharedClock {
        Arc::new(self.clone())
    }

    pub fn advance(&self, by: Duration) {
        self.now.send_modify(|t| *t += by.as_millis() as i64);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        *self.now.borrow()
    }

    fn sleep_until(&self, deadline: Timestamp) -> BoxFuture {
        let mut rx = self.now.subscribe();
        Box::pin(async move {
            // wait_for checks the current value first, then every change.
            let _ = rx.wait_for(|now| *now >= deadline.millis()).await;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_manual_clock_wakes_sleepers_only_when_advanced_past_their_deadline() {
        let clock = ManualClock::starting_at(1_000);
        let sleeper = tokio::spawn(clock.sleep_until(Timestamp(2_000)));
        tokio::task::yield_now().await;
        clock.advance(Duration::from_millis(999));
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished());
        clock.advance(Duration::from_millis(1));
        tokio::time::timeout(Duration::from_secs(5), sleeper)
            .await
            .expect("woken")
            .unwrap();
        assert_eq!(clock.now_ms(), 2_000);
    }

    #[tokio::test]
    async fn a_deadline_in_the_past_resolves_at_once() {
        let clock = ManualClock::starting_at(5_000);
        tokio::time::timeout(Duration::from_secs(5), clock.sleep_until(Timestamp(10)))
            .await
            .expect("immediate");
    }
}
