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
//! What is measured, per mode:
//!
//! * **latency** — order placed → resolved (confirmed, rejected or
//!   backordered): when the store *knew* the outcome. For api mode that is
//!   inside the checkout request; for webhooks, one delivery later; for
//!   polling, up to a poll interval later.
//! * **requests per order** — the messages each mode sent for its orders,
//!   divided by its orders: webhook attempts and api calls and voids that
//!   carried one of its orders; for polling, **every** feed read — the
//!   empty ones included, since asking is what polling costs whether or
//!   not there was anything to get — and every acknowledgement. Each
//!   message counts once: a feed page carrying five orders is one request
//!   shared by five. This is the bench's definition too (`pushpull bench`
//!   counts every exchange the store logged in a run of one mode, divided
//!   by the orders placed), so the two agree on the same history.
//! * **empty polls** — feed reads that carried no poll-mode order: the
//!   price of asking "anything new?" when the answer is no.
//! * **failures and retries** — messages on the mode's channels that got
//!   no 2xx answer, and messages that repeated an earlier one (a webhook
//!   attempt after the first, an api call retried under the same key, a
//!   feed page read again because its acknowledgement failed).
//!
//! The trade-off: these are all-time figures over one database. A reset
//! button would need to delete history the timelines show, so there is
//! none; a burst on the compare page simply adds comparable orders.
//!
//! Which channel belongs to which mode is [`crate::timeline::mode_of`].

use contract::{Channel, IntegrationMode, OrderStatus};
use platform::Db;

use crate::timeline::mode_of;

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

/// The feed as the store served it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FeedFigures {
    pub reads: i64,
    /// Reads that carried no poll-mode order.
    pub empty: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
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

/// Reads every figure the compare page shows.
pub async fn compare(db: &Db) -> Result<Comparison, sqlx::Error> {
    let mut c = Comparison {
        modes: IntegrationMode::ALL
            .iter()
            .map(|m| ModeFigures::empty(*m))
            .collect(),
        feed: FeedFigures::default(),
    };
    c.count_orders(db).await?;
    c.measure_latency(db).await?;
    c.count_requests(db).await?;
    c.count_failures(db).await?;
    c.count_retries(db).await?;
    c.count_feed_reads(db).await?;
    Ok(c)
}

impl Comparison {
    /// Orders by mode and status.
    async fn count_orders(&mut self, db: &Db) -> Result<(), sqlx::Error> {
        let rows: Vec<ByStatus> =
            sqlx::query_as("SELECT mode, status, COUNT(*) AS n FROM orders GROUP BY mode, status")
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

    /// Latency: placed → resolved, over the most recent resolved orders.
    async fn measure_latency(&mut self, db: &Db) -> Result<(), sqlx::Error> {
        let rows: Vec<Latency> = sqlx::query_as(
            "SELECT mode, CAST(resolved_at - created_at AS BIGINT) AS ms FROM orders \
             WHERE resolved_at IS NOT NULL ORDER BY created_at DESC LIMIT $1",
        )
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
    /// orders, on its own channels (each carries one order: a webhook, a
    /// call, a hybrid notice and its fetch) — and every poll and
    /// acknowledgement, whatever it carried: each was asked for, and each
    /// is what polling cost; likewise every reconciliation read and
    /// acknowledgement, hybrid's share of polling.
    async fn count_requests(&mut self, db: &Db) -> Result<(), sqlx::Error> {
        let rows: Vec<ByModeAndChannel> = sqlx::query_as(
            "SELECT o.mode AS mode, e.channel AS channel, COUNT(DISTINCT e.id) AS n \
             FROM exchange_orders eo JOIN orders o ON o.id = eo.order_id \
             JOIN exchanges e ON e.id = eo.exchange_id \
             WHERE e.channel NOT IN ($1, $2, $3) GROUP BY o.mode, e.channel",
        )
        .bind(Channel::Feed.as_str())
        .bind(Channel::Ack.as_str())
        .bind(Channel::Reconcile.as_str())
        .fetch_all(db.pool())
        .await?;
        for row in rows.iter().filter(|r| mode_of(r.channel) == Some(r.mode)) {
            self.mode_mut(row.mode).requests += row.n;
        }
        for (mode, channels) in [
            (IntegrationMode::Poll, [Channel::Feed, Channel::Ack]),
            (
                IntegrationMode::Hybrid,
                [Channel::Reconcile, Channel::Reconcile],
            ),
        ] {
            let reads: Count =
                sqlx::query_as("SELECT COUNT(*) AS n FROM exchanges WHERE channel IN ($1, $2)")
                    .bind(channels[0].as_str())
                    .bind(channels[1].as_str())
                    .fetch_one(db.pool())
                    .await?;
            self.mode_mut(mode).requests += reads.n;
        }
        Ok(())
    }

    /// Failures, by channel (pings and empty polls included: they are
    /// messages of that pattern too).
    async fn count_failures(&mut self, db: &Db) -> Result<(), sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT e.channel AS channel, COUNT(*) AS n FROM exchanges e WHERE {FAILED} GROUP BY e.channel"
        ));
        let rows: Vec<ByChannel> = sqlx::query_as(sql).fetch_all(db.pool()).await?;
        for row in rows {
            if let Some(mode) = mode_of(row.channel) {
                self.mode_mut(mode).failed += row.n;
            }
        }
        Ok(())
    }

    /// Retries. Webhook attempts (and hybrid notices) number themselves; an api call or a feed
    /// read or acknowledgement repeats when a second message of the same
    /// channel carried the same order (a void is not a retry).
    async fn count_retries(&mut self, db: &Db) -> Result<(), sqlx::Error> {
        for (mode, channel) in [
            (IntegrationMode::Webhook, Channel::Webhook),
            (IntegrationMode::Hybrid, Channel::Notify),
        ] {
            let row: Count = sqlx::query_as(
                "SELECT COUNT(*) AS n FROM exchanges WHERE channel = $1 AND attempt_no > 1",
            )
            .bind(channel.as_str())
            .fetch_one(db.pool())
            .await?;
            self.mode_mut(mode).retries = row.n;
        }
        let rows: Vec<ByModeAndChannel> = sqlx::query_as(
            "SELECT o.mode AS mode, e.channel AS channel, COUNT(*) AS n FROM exchange_orders eo \
             JOIN orders o ON o.id = eo.order_id JOIN exchanges e ON e.id = eo.exchange_id \
             WHERE (o.mode = $1 AND e.channel = $2) OR (o.mode = $3 AND e.channel IN ($4, $5)) \
             GROUP BY o.mode, eo.order_id, e.channel HAVING COUNT(*) > 1",
        )
        .bind(IntegrationMode::Api.as_str())
        .bind(Channel::Api.as_str())
        .bind(IntegrationMode::Poll.as_str())
        .bind(Channel::Feed.as_str())
        .bind(Channel::Ack.as_str())
        .fetch_all(db.pool())
        .await?;
        for row in rows {
            self.mode_mut(row.mode).retries += row.n - 1;
        }
        Ok(())
    }

    /// The feed: every read, and the reads that carried no poll-mode order.
    async fn count_feed_reads(&mut self, db: &Db) -> Result<(), sqlx::Error> {
        let feed: FeedReads = sqlx::query_as(
            "SELECT COUNT(*) AS reads, COUNT(CASE WHEN NOT EXISTS (\
                SELECT 1 FROM exchange_orders eo JOIN orders o ON o.id = eo.order_id \
                WHERE eo.exchange_id = e.id AND o.mode = $2) THEN 1 END) AS empty \
             FROM exchanges e WHERE e.channel = $1",
        )
        .bind(Channel::Feed.as_str())
        .bind(IntegrationMode::Poll.as_str())
        .fetch_one(db.pool())
        .await?;
        self.feed = FeedFigures {
            reads: feed.reads,
            empty: feed.empty,
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
