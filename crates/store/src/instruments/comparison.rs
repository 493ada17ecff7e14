//! The numbers behind the compare page: what each integration mode cost
//! and how fast it was, measured from the store's own records.
//!
//! Everything here is read from two tables the store keeps anyway — the
//! orders (with `created_at`, `resolved_at` and the mode each was placed
//! under) and the message log (`exchanges`, linked to the orders each
//! message carried). No counters are kept just for the charts, so the
//! numbers cannot drift from the timelines a learner can open, and they
//! survive a restart.
//!
//! **Over a window.** Every figure is read over a [`Window`]: since the
//! last reset, or the last few minutes. All-time figures let one slowed
//! order stay "slowest" forever, and let history nobody remembers outweigh
//! what a learner just did. A reset deletes nothing (the timelines still
//! show every message): it is a point in time, kept in the `settings`
//! table ([`RESET_KEY`]) so that every store process sharing the database
//! shows the same window — held in memory, each would show its own. An
//! order is in the window if it was placed in it; a message, if it was
//! sent in it.
//!
//! What is measured, per mode:
//!
//! * **latency** — order placed → resolved (confirmed, rejected or
//!   backordered): when the store *knew* the outcome. For api mode that is
//!   inside the checkout request; for webhooks, one delivery later; for
//!   polling, up to a poll interval later.
//! * **requests per order** — the messages each mode sent for its orders,
//!   divided by its orders: webhook attempts and api calls and voids that
//!   carried one of its orders; for polling, the feed reads and
//!   acknowledgements **charged** to it (below) — the empty ones included,
//!   since asking is what polling costs whether or not there was anything
//!   to get. Each message counts once: a feed page carrying five orders is
//!   one request shared by five.
//! * **empty polls** — feed reads charged to polling that carried no
//!   poll-mode order: the price of asking "anything new?" when the answer
//!   is no. Those made in other modes are counted apart, charged to no one.
//! * **failures and retries** — messages on the mode's channels that got
//!   no 2xx answer, and messages that repeated an earlier one (a webhook
//!   attempt after the first, an api call retried under the same key, a
//!   feed page read again because its acknowledgement failed).
//!
//! **Which polls are charged.** The inventory's poller reads the feed in
//! every mode (it cannot know the store's), and hybrid's reconciler reads
//! it every minute. A read is charged to polling (a reconciliation read to
//! hybrid) if it carried one of that mode's orders, or if the store was in
//! that mode when it was made — read from the mode's history,
//! `mode_changes`, which `crate::integration::set_mode` writes. So an hour
//! idle in webhook mode charges nothing to poll-mode orders, while an hour
//! idle in poll mode does: that waiting is what polling costs. The
//! trade-off: the store's mode stands for "what the inventory was polling
//! for", which is right for this demo (one store, one inventory) and
//! would not be for a feed with many consumers. The bench (`pushpull
//! bench`) counts every exchange of a run divided by its orders, and runs
//! one mode at a time: on its runs the two figures agree.
//!
//! Which channel belongs to which mode is [`crate::timeline::mode_of`].

use contract::{Channel, IntegrationMode, OrderStatus, Timestamp};
use platform::Db;

use crate::timeline::mode_of;

/// The `settings` row that holds the last reset, in milliseconds.
pub const RESET_KEY: &str = "compare_reset_at";

/// The "last N minutes" windows the page offers.
pub const MINUTE_WINDOWS: [i64; 3] = [5, 15, 60];

/// Which stretch of history the figures cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Since the last reset (or since the beginning, if there was none).
    SinceReset,
    /// The last so many minutes.
    LastMinutes(i64),
}

impl Window {
    /// From the page's `window=` parameter: `reset`, or one of
    /// [`MINUTE_WINDOWS`]. `None` for anything else.
    pub fn parse(text: &str) -> Option<Window> {
        match text {
            "reset" => Some(Window::SinceReset),
            n => n
                .parse::<i64>()
                .ok()
                .filter(|n| MINUTE_WINDOWS.contains(n))
                .map(Window::LastMinutes),
        }
    }

    /// The `window=` parameter that selects this window.
    pub fn param(&self) -> String {
        match self {
            Window::SinceReset => "reset".to_owned(),
            Window::LastMinutes(n) => n.to_string(),
        }
    }

    /// The window pinned to where it starts, as of `now`.
    pub async fn span(&self, db: &Db, now: Timestamp) -> Result<Span, sqlx::Error> {
        Ok(match self {
            Window::SinceReset => {
                let reset_at = reset_at(db).await?;
                Span {
                    window: *self,
                    from: reset_at.unwrap_or(Timestamp(0)),
                    reset_at,
                }
            }
            Window::LastMinutes(n) => Span {
                window: *self,
                from: Timestamp(now.millis() - n * 60_000),
                reset_at: None,
            },
        })
    }
}

/// A window pinned to a start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub window: Window,
    /// Orders placed and messages sent at or after this count.
    pub from: Timestamp,
    /// The reset the window starts at, if it is [`Window::SinceReset`] and
    /// there was one.
    pub reset_at: Option<Timestamp>,
}

impl Span {
    /// Everything, ever: the figures before windows existed.
    pub fn all_time() -> Span {
        Span {
            window: Window::SinceReset,
            from: Timestamp(0),
            reset_at: None,
        }
    }
}

#[derive(sqlx::FromRow)]
struct SettingRow {
    value: String,
}

/// When the figures were last reset, if ever.
pub async fn reset_at(db: &Db) -> Result<Option<Timestamp>, sqlx::Error> {
    let row: Option<SettingRow> = sqlx::query_as("SELECT value FROM settings WHERE key = $1")
        .bind(RESET_KEY)
        .fetch_optional(db.pool())
        .await?;
    // A value that is not a number is read as "never reset".
    Ok(row.and_then(|r| r.value.parse().ok()).map(Timestamp))
}

/// Starts the "since reset" window at `now`. Nothing is deleted.
pub async fn reset(db: &Db, now: Timestamp) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(RESET_KEY)
    .bind(now.millis().to_string())
    .bind(now.millis())
    .execute(db.writer())
    .await?;
    Ok(())
}

/// How many of the most recent resolved orders latency is computed over.
pub const LATENCY_SAMPLE: i64 = 5000;

/// The spread of a set of durations, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spread {
    pub count: usize,
    pub p50: i64,
    pub p95: i64,
    pub max: i64,
}

impl Spread {
    /// Nearest-rank percentiles of `values` (which it sorts); `None` if empty.
    pub fn of(values: &mut [i64]) -> Option<Spread> {
        if values.is_empty() {
            return None;
        }
        values.sort_unstable();
        let rank = |p: f64| {
            let n = values.len();
            let index = ((p * n as f64).ceil() as usize).clamp(1, n) - 1;
            values[index]
        };
        Some(Spread {
            count: values.len(),
            p50: rank(0.50),
            p95: rank(0.95),
            max: values[values.len() - 1],
        })
    }
}

/// One mode's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct ModeFigures {
    pub mode: IntegrationMode,
    pub orders: i64,
    pub confirmed: i64,
    pub rejected: i64,
    pub backordered: i64,
    pub pending: i64,
    /// Placed → resolved.
    pub latency: Option<Spread>,
    /// Messages this mode sent for its orders (for polling: every feed
    /// read, empty or not, and every acknowledgement).
    pub requests: i64,
    /// Messages on this mode's channels without a 2xx answer.
    pub failed: i64,
    /// Messages on this mode's channels that repeated an earlier one.
    pub retries: i64,
}

impl ModeFigures {
    fn empty(mode: IntegrationMode) -> ModeFigures {
        ModeFigures {
            mode,
            orders: 0,
            confirmed: 0,
            rejected: 0,
            backordered: 0,
            pending: 0,
            latency: None,
            requests: 0,
            failed: 0,
            retries: 0,
        }
    }

    /// Average requests per order, if there were orders.
    pub fn requests_per_order(&self) -> Option<f64> {
        (self.orders > 0).then(|| self.requests as f64 / self.orders as f64)
    }
}

/// The feed as the store served it, in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FeedFigures {
    /// Reads charged to polling: made in poll mode, or carrying a
    /// poll-mode order.
    pub reads: i64,
    /// Of those, the ones that carried no poll-mode order.
    pub empty: i64,
    /// Reads made while the store was in another mode that carried
    /// nothing for the poller: charged to no one.
    pub uncharged: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The stretch of history the figures cover.
    pub span: Span,
    /// One entry per mode, in `IntegrationMode::ALL` order.
    pub modes: Vec<ModeFigures>,
    pub feed: FeedFigures,
}

impl Comparison {
    pub fn mode(&self, mode: IntegrationMode) -> &ModeFigures {
        self.modes
            .iter()
            .find(|m| m.mode == mode)
            .expect("every mode is present")
    }

    pub fn total_orders(&self) -> i64 {
        self.modes.iter().map(|m| m.orders).sum()
    }

    fn mode_mut(&mut self, mode: IntegrationMode) -> &mut ModeFigures {
        self.modes
            .iter_mut()
            .find(|m| m.mode == mode)
            .expect("every mode is present")
    }
}

/// A message without a 2xx answer, as an SQL condition on `e`.
const FAILED: &str = "(e.error IS NOT NULL OR e.response_status IS NULL OR e.response_status < 200 OR e.response_status > 299)";

/// The store's mode when message `e` was sent, as an SQL expression: the
/// latest switch at or before it (`NULL` before the first recorded one,
/// which is no mode that polls).
const MODE_THEN: &str = "(SELECT m.mode FROM mode_changes m WHERE m.changed_at <= e.started_at \
     ORDER BY m.changed_at DESC LIMIT 1)";

/// Whether message `e` carried an order of the mode bound at `$n`, as an
/// SQL condition.
fn carried(n: usize) -> String {
    format!(
        "EXISTS (SELECT 1 FROM exchange_orders eo JOIN orders o ON o.id = eo.order_id \
         WHERE eo.exchange_id = e.id AND o.mode = ${n})"
    )
}

#[derive(sqlx::FromRow)]
struct ByStatus {
    #[sqlx(try_from = "String")]
    mode: IntegrationMode,
    #[sqlx(try_from = "String")]
    status: OrderStatus,
    n: i64,
}

#[derive(sqlx::FromRow)]
struct Latency {
    #[sqlx(try_from = "String")]
    mode: IntegrationMode,
    ms: i64,
}

#[derive(sqlx::FromRow)]
struct ByModeAndChannel {
    #[sqlx(try_from = "String")]
    mode: IntegrationMode,
    #[sqlx(try_from = "String")]
    channel: Channel,
    n: i64,
}

#[derive(sqlx::FromRow)]
struct ByChannel {
    #[sqlx(try_from = "String")]
    channel: Channel,
    n: i64,
}

#[derive(sqlx::FromRow)]
struct Count {
    n: i64,
}

#[derive(sqlx::FromRow)]
struct FeedReads {
    reads: i64,
    empty: i64,
}

/// Reads every figure the compare page shows, over `span`.
pub async fn compare(db: &Db, span: Span) -> Result<Comparison, sqlx::Error> {
    let mut c = Comparison {
        span,
        modes: IntegrationMode::ALL
            .iter()
            .map(|m| ModeFigures::empty(*m))
            .collect(),
        feed: FeedFigures::default(),
    };
    let from = span.from.millis();
    c.count_orders(db, from).await?;
    c.measure_latency(db, from).await?;
    c.count_requests(db, from).await?;
    c.count_failures(db, from).await?;
    c.count_retries(db, from).await?;
    c.count_feed_reads(db, from).await?;
    Ok(c)
}

impl Comparison {
    /// Orders placed in the window, by mode and status.
    async fn count_orders(&mut self, db: &Db, from: i64) -> Result<(), sqlx::Error> {
        let rows: Vec<ByStatus> = sqlx::query_as(
            "SELECT mode, status, COUNT(*) AS n FROM orders WHERE created_at >= $1 \
             GROUP BY mode, status",
        )
        .bind(from)
        .fetch_all(db.pool())
        .await?;
        for row in rows {
            let m = self.mode_mut(row.mode);
            m.orders += row.n;
            match row.status {
                OrderStatus::Confirmed => m.confirmed += row.n,
                OrderStatus::Rejected => m.rejected += row.n,
                OrderStatus::Backordered => m.backordered += row.n,
                OrderStatus::Pending => m.pending += row.n,
            }
        }
        Ok(())
    }

    /// Latency: placed → resolved, over the most recent resolved orders
    /// placed in the window.
    async fn measure_latency(&mut self, db: &Db, from: i64) -> Result<(), sqlx::Error> {
        let rows: Vec<Latency> = sqlx::query_as(
            "SELECT mode, CAST(resolved_at - created_at AS BIGINT) AS ms FROM orders \
             WHERE resolved_at IS NOT NULL AND created_at >= $1 ORDER BY created_at DESC LIMIT $2",
        )
        .bind(from)
        .bind(LATENCY_SAMPLE)
        .fetch_all(db.pool())
        .await?;
        for mode in IntegrationMode::ALL {
            let mut values: Vec<i64> = rows
                .iter()
                .filter(|r| r.mode == *mode)
                .map(|r| r.ms)
                .collect();
            self.mode_mut(*mode).latency = Spread::of(&mut values);
        }
        Ok(())
    }

    /// Requests: the pushed and called ones that carried each mode's
    /// orders placed in the window, on its own channels (each carries one
    /// order: a webhook, a call, a hybrid notice and its fetch) — and the
    /// polls and acknowledgements sent in the window that are charged to
    /// polling, likewise the reconciliation reads charged to hybrid (see
    /// the module comment for which are).
    async fn count_requests(&mut self, db: &Db, from: i64) -> Result<(), sqlx::Error> {
        let rows: Vec<ByModeAndChannel> = sqlx::query_as(
            "SELECT o.mode AS mode, e.channel AS channel, COUNT(DISTINCT e.id) AS n \
             FROM exchange_orders eo JOIN orders o ON o.id = eo.order_id \
             JOIN exchanges e ON e.id = eo.exchange_id \
             WHERE e.channel NOT IN ($1, $2, $3) AND o.created_at >= $4 GROUP BY o.mode, e.channel",
        )
        .bind(Channel::Feed.as_str())
        .bind(Channel::Ack.as_str())
        .bind(Channel::Reconcile.as_str())
        .bind(from)
        .fetch_all(db.pool())
        .await?;
        for row in rows.iter().filter(|r| mode_of(r.channel) == Some(r.mode)) {
            self.mode_mut(row.mode).requests += row.n;
        }
        let sql = format!(
            "SELECT COUNT(*) AS n FROM exchanges e WHERE e.channel IN ($1, $2) \
             AND e.started_at >= $3 AND ({MODE_THEN} = $4 OR {})",
            carried(4)
        );
        for (mode, channels) in [
            (IntegrationMode::Poll, [Channel::Feed, Channel::Ack]),
            (
                IntegrationMode::Hybrid,
                [Channel::Reconcile, Channel::Reconcile],
            ),
        ] {
            let reads: Count = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
                .bind(channels[0].as_str())
                .bind(channels[1].as_str())
                .bind(from)
                .bind(mode.as_str())
                .fetch_one(db.pool())
                .await?;
            self.mode_mut(mode).requests += reads.n;
        }
        Ok(())
    }

    /// Failures in the window, by channel (pings and empty polls included:
    /// they are messages of that pattern too).
    async fn count_failures(&mut self, db: &Db, from: i64) -> Result<(), sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT e.channel AS channel, COUNT(*) AS n FROM exchanges e \
             WHERE e.started_at >= $1 AND {FAILED} GROUP BY e.channel"
        ));
        let rows: Vec<ByChannel> = sqlx::query_as(sql).bind(from).fetch_all(db.pool()).await?;
        for row in rows {
            if let Some(mode) = mode_of(row.channel) {
                self.mode_mut(mode).failed += row.n;
            }
        }
        Ok(())
    }

    /// Retries in the window. Webhook attempts (and hybrid notices) number
    /// themselves; an api call or a feed read or acknowledgement repeats
    /// when a second message of the same channel carried the same order (a
    /// void is not a retry).
    async fn count_retries(&mut self, db: &Db, from: i64) -> Result<(), sqlx::Error> {
        for (mode, channel) in [
            (IntegrationMode::Webhook, Channel::Webhook),
            (IntegrationMode::Hybrid, Channel::Notify),
        ] {
            let row: Count = sqlx::query_as(
                "SELECT COUNT(*) AS n FROM exchanges \
                 WHERE channel = $1 AND attempt_no > 1 AND started_at >= $2",
            )
            .bind(channel.as_str())
            .bind(from)
            .fetch_one(db.pool())
            .await?;
            self.mode_mut(mode).retries = row.n;
        }
        let rows: Vec<ByModeAndChannel> = sqlx::query_as(
            "SELECT o.mode AS mode, e.channel AS channel, COUNT(*) AS n FROM exchange_orders eo \
             JOIN orders o ON o.id = eo.order_id JOIN exchanges e ON e.id = eo.exchange_id \
             WHERE ((o.mode = $1 AND e.channel = $2) OR (o.mode = $3 AND e.channel IN ($4, $5))) \
             AND e.started_at >= $6 \
             GROUP BY o.mode, eo.order_id, e.channel HAVING COUNT(*) > 1",
        )
        .bind(IntegrationMode::Api.as_str())
        .bind(Channel::Api.as_str())
        .bind(IntegrationMode::Poll.as_str())
        .bind(Channel::Feed.as_str())
        .bind(Channel::Ack.as_str())
        .bind(from)
        .fetch_all(db.pool())
        .await?;
        for row in rows {
            self.mode_mut(row.mode).retries += row.n - 1;
        }
        Ok(())
    }

    /// The feed in the window: the reads charged to polling, the empty
    /// ones among them, and the empty ones charged to no one.
    async fn count_feed_reads(&mut self, db: &Db, from: i64) -> Result<(), sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(CASE WHEN {MODE_THEN} = $2 OR {c} THEN 1 END) AS reads, \
             COUNT(CASE WHEN NOT {c} THEN 1 END) AS empty \
             FROM exchanges e WHERE e.channel = $1 AND e.started_at >= $3",
            c = carried(2)
        ));
        let feed: FeedReads = sqlx::query_as(sql)
            .bind(Channel::Feed.as_str())
            .bind(IntegrationMode::Poll.as_str())
            .bind(from)
            .fetch_one(db.pool())
            .await?;
        // `empty` above counts every read that found nothing; those made in
        // another mode are the ones not charged.
        let all: Count = sqlx::query_as(
            "SELECT COUNT(*) AS n FROM exchanges e WHERE e.channel = $1 AND e.started_at >= $2",
        )
        .bind(Channel::Feed.as_str())
        .bind(from)
        .fetch_one(db.pool())
        .await?;
        let uncharged = all.n - feed.reads;
        self.feed = FeedFigures {
            reads: feed.reads,
            empty: feed.empty - uncharged,
            uncharged,
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        assert_eq!(Spread::of(&mut []), None);
        let s = Spread::of(&mut [5]).unwrap();
        assert_eq!((s.p50, s.p95, s.max, s.count), (5, 5, 5, 1));
        let mut values: Vec<i64> = (1..=100).rev().collect();
        let s = Spread::of(&mut values).unwrap();
        assert_eq!((s.p50, s.p95, s.max), (50, 95, 100));
        let s = Spread::of(&mut [30, 10, 20]).unwrap();
        assert_eq!((s.p50, s.p95, s.max), (20, 30, 30));
    }
}
