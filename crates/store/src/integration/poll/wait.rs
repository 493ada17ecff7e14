//! **Long polling**: `GET /api/orders?after=…&wait=SECONDS` holds the read
//! until an order commits past the cursor, or the wait (at most
//! [`MAX_WAIT_SECS`]) ends — then answers the page, possibly empty. It is
//! still pull (the inventory asks, the store answers), but the classic
//! costs of asking on a timer go: an order no longer waits half an interval
//! on average for the next poll, and an idle minute costs two requests
//! instead of twelve. SQS's `WaitTimeSeconds`, Kafka's `fetch.max.wait.ms`
//! and Telegram's `getUpdates?timeout=` are the same idea. What it costs:
//! a connection held open per waiting consumer, and a store that must know
//! when an order commits.
//!
//! **Woken by the commit, not by a timer.** [`FeedBell`] is a
//! `tokio::sync::watch` counter the checkout rings after every order
//! transaction commits; a waiting read subscribes *before* it reads, so an
//! order that commits between the read and the wait still wakes it. That
//! covers one process. Several store processes on one PostgreSQL each ring
//! only their own bell, so the order transaction also sends `NOTIFY
//! store_feed` (delivered by PostgreSQL at the commit, never for a rollback),
//! and every store listens ([`FeedListener`]) and rings its bell when
//! another process's orders commit. SQLite has no second process to tell
//! (one file, one store) and skips both. If the listening connection
//! drops, a notice may be missed while it reconnects: a waiter then
//! answers at the end of its wait instead, and the next read finds the
//! order — late, never lost.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::watch;

use contract::IntegrationMode;
use contract::order::FeedPage;
use platform::db::Backend;
use platform::worker::{Next, Worker};

use super::{Cursor, read_feed};
use crate::context::Context;
use crate::error::StoreError;

/// The longest a read may be held, in seconds.
pub const MAX_WAIT_SECS: u64 = 30;

/// The PostgreSQL channel other store processes are told on.
const CHANNEL: &str = "store_feed";

/// Rung after orders commit; waiting reads listen to it.
#[derive(Clone)]
pub struct FeedBell {
    rung: Arc<watch::Sender<u64>>,
    /// Who this process is, in its `NOTIFY`s: its own are not rung twice.
    owner: Arc<str>,
}

impl FeedBell {
    pub fn new(owner: &str) -> FeedBell {
        FeedBell {
            rung: Arc::new(watch::Sender::new(0)),
            owner: owner.into(),
        }
    }

    /// Inside the order transaction, on PostgreSQL: tells the other store
    /// processes at the commit (nothing on SQLite).
    pub async fn notify_in(
        &self,
        backend: Backend,
        conn: &mut sqlx::AnyConnection,
    ) -> Result<(), sqlx::Error> {
        if backend != Backend::Postgres {
            return Ok(());
        }
        // The owner id is our own (letters, digits, `_`), never input.
        let sql = sqlx::AssertSqlSafe(format!("NOTIFY {CHANNEL}, '{}'", self.owner));
        sqlx::raw_sql(sql).execute(conn).await?;
        Ok(())
    }

    /// After the commit: wakes this process's waiting reads.
    pub fn ring(&self) {
        self.rung.send_modify(|n| *n = n.wrapping_add(1));
    }

    fn subscribe(&self) -> watch::Receiver<u64> {
        self.rung.subscribe()
    }

    /// How many reads are waiting now (for tests and the curious).
    pub fn waiting(&self) -> usize {
        self.rung.receiver_count()
    }
}

/// Validates `wait`: 0 to [`MAX_WAIT_SECS`] seconds; absent, no wait.
pub fn wait_time(wait: Option<u64>) -> Result<Duration, StoreError> {
    match wait {
        None => Ok(Duration::ZERO),
        Some(s) if s <= MAX_WAIT_SECS => Ok(Duration::from_secs(s)),
        Some(s) => Err(StoreError::bad_request(format!(
            "`wait` must be between 0 and {MAX_WAIT_SECS} seconds (got {s})"
        ))),
    }
}

/// [`read_feed`], held until the page has an order or `wait` is over.
#[tracing::instrument(skip(ctx), fields(wait_ms = wait.as_millis() as u64))]
pub async fn read_feed_waiting(
    ctx: &Context,
    cursor: Cursor,
    limit: i64,
    mode: Option<IntegrationMode>,
    wait: Duration,
) -> Result<FeedPage, StoreError> {
    // Subscribed before the first read: a commit between the read and the
    // wait has changed the value, so `changed()` returns at once.
    let mut rung = ctx.feed_bell.subscribe();
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let page = read_feed(ctx, cursor, limit, mode).await?;
        if !page.data.is_empty() || wait.is_zero() {
            return Ok(page);
        }
        tokio::select! {
            changed = rung.changed() => {
                if changed.is_err() {
                    return Ok(page); // the service is going away
                }
            }
            _ = tokio::time::sleep_until(deadline) => return Ok(page),
        }
    }
}

/// Listens for other store processes' `NOTIFY store_feed` (PostgreSQL
/// only) and rings this process's bell.
pub struct FeedListener {
    listener: PgListener,
    bell: FeedBell,
}

impl FeedListener {
    pub async fn connect(url: &str, bell: FeedBell) -> Result<FeedListener, sqlx::Error> {
        let mut listener = PgListener::connect(url).await?;
        listener.listen(CHANNEL).await?;
        Ok(FeedListener { listener, bell })
    }
}

impl Worker for FeedListener {
    const NAME: &'static str = "feed_listener";

    async fn pass(&mut self) -> anyhow::Result<Next> {
        // Bounded, so that the service's stop is noticed within a second.
        match tokio::time::timeout(Duration::from_secs(1), self.listener.try_recv()).await {
            Ok(Ok(Some(notice))) => {
                if notice.payload() != &*self.bell.owner {
                    self.bell.ring();
                }
            }
            // The connection dropped (it reconnects on the next call): a
            // notice may have been missed, so wake the waiters to re-read.
            Ok(Ok(None)) => self.bell.ring(),
            Ok(Err(e)) => return Err(e.into()),
            Err(_elapsed) => {}
        }
        Ok(Next::Now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_bounded() {
        assert_eq!(wait_time(None).unwrap(), Duration::ZERO);
        assert_eq!(wait_time(Some(0)).unwrap(), Duration::ZERO);
        assert_eq!(wait_time(Some(30)).unwrap(), Duration::from_secs(30));
        assert!(wait_time(Some(31)).is_err());
    }
}
