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
//! * **requests per order** — the messages on the mode's own channels that
//!   carried an order (webhook: attempts; api: calls and voids; poll: feed
//!   reads and acknowledgements). A feed page carrying five orders counts
//!   once for each of them, which is what it cost each order.
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

use sqlx::Row;

use contract::IntegrationMode;
use platform::Db;

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
    /// Messages on this mode's channels that carried one of its orders.
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
}

/// The channels that carry a mode's orders, as an SQL condition on `e`
/// (exchanges) and `o` (orders).
const OWN_CHANNELS: &str = "((o.mode = 'webhook' AND e.channel = 'webhook') \
     OR (o.mode = 'api' AND e.channel IN ('api', 'void')) \
     OR (o.mode = 'poll' AND e.channel IN ('feed', 'ack')))";

/// A message without a 2xx answer, as an SQL condition on `e`.
const FAILED: &str = "(e.error IS NOT NULL OR e.response_status IS NULL OR e.response_status < 200 OR e.response_status > 299)";

fn mode_of_row(
    row: &sqlx::any::AnyRow,
    column: &str,
) -> Result<Option<IntegrationMode>, sqlx::Error> {
    let text: String = row.try_get(column)?;
    Ok(IntegrationMode::parse(&text).ok())
}

fn mode_of_channel(channel: &str) -> Option<IntegrationMode> {
    match channel {
        "webhook" => Some(IntegrationMode::Webhook),
        "api" | "void" => Some(IntegrationMode::Api),
        "feed" | "ack" => Some(IntegrationMode::Poll),
        _ => None,
    }
}

/// Reads every figure the compare page shows.
pub async fn compare(db: &Db) -> Result<Comparison, sqlx::Error> {
    let mut modes: Vec<ModeFigures> = IntegrationMode::ALL
        .iter()
        .map(|m| ModeFigures::empty(*m))
        .collect();
    let index = |mode: IntegrationMode| {
        IntegrationMode::ALL
            .iter()
            .position(|m| *m == mode)
            .unwrap_or(0)
    };

    // Orders by mode and status.
    let rows = sqlx::query("SELECT mode, status, COUNT(*) AS n FROM orders GROUP BY mode, status")
        .fetch_all(db.pool())
        .await?;
    for row in &rows {
        let Some(mode) = mode_of_row(row, "mode")? else {
            continue;
        };
        let status: String = row.try_get("status")?;
        let n: i64 = row.try_get("n")?;
        let m = &mut modes[index(mode)];
        m.orders += n;
        match status.as_str() {
            "confirmed" => m.confirmed += n,
            "rejected" => m.rejected += n,
            "backordered" => m.backordered += n,
            _ => m.pending += n,
        }
    }

    // Latency: placed → resolved, over the most recent resolved orders.
    let rows = sqlx::query(
        "SELECT mode, CAST(resolved_at - created_at AS BIGINT) AS ms FROM orders \
         WHERE resolved_at IS NOT NULL ORDER BY created_at DESC LIMIT $1",
    )
    .bind(LATENCY_SAMPLE)
    .fetch_all(db.pool())
    .await?;
    let mut samples: Vec<Vec<i64>> = vec![Vec::new(); modes.len()];
    for row in &rows {
        if let Some(mode) = mode_of_row(row, "mode")? {
            samples[index(mode)].push(row.try_get("ms")?);
        }
    }
    for (m, values) in modes.iter_mut().zip(samples.iter_mut()) {
        m.latency = Spread::of(values);
    }

    // Requests that carried each mode's orders, on its own channels.
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT o.mode AS mode, COUNT(*) AS n FROM exchange_orders eo \
         JOIN orders o ON o.id = eo.order_id JOIN exchanges e ON e.id = eo.exchange_id \
         WHERE {OWN_CHANNELS} GROUP BY o.mode"
    ));
    for row in &sqlx::query(sql).fetch_all(db.pool()).await? {
        if let Some(mode) = mode_of_row(row, "mode")? {
            modes[index(mode)].requests = row.try_get("n")?;
        }
    }

    // Failures, by channel (pings and empty polls included: they are
    // messages of that pattern too).
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT e.channel AS channel, COUNT(*) AS n FROM exchanges e WHERE {FAILED} GROUP BY e.channel"
    ));
    for row in &sqlx::query(sql).fetch_all(db.pool()).await? {
        let channel: String = row.try_get("channel")?;
        if let Some(mode) = mode_of_channel(&channel) {
            modes[index(mode)].failed += row.try_get::<i64, _>("n")?;
        }
    }

    // Retries. Webhook attempts number themselves; for the other channels
    // a repeat is a second message of the same channel for the same order.
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM exchanges WHERE channel = 'webhook' AND attempt_no > 1",
    )
    .fetch_one(db.pool())
    .await?;
    modes[index(IntegrationMode::Webhook)].retries = row.try_get("n")?;
    let rows = sqlx::query(
        "SELECT o.mode AS mode, COUNT(*) AS n FROM exchange_orders eo \
         JOIN orders o ON o.id = eo.order_id JOIN exchanges e ON e.id = eo.exchange_id \
         WHERE (o.mode = 'api' AND e.channel = 'api') OR (o.mode = 'poll' AND e.channel IN ('feed', 'ack')) \
         GROUP BY o.mode, eo.order_id, e.channel HAVING COUNT(*) > 1",
    )
    .fetch_all(db.pool())
    .await?;
    for row in &rows {
        if let Some(mode) = mode_of_row(row, "mode")? {
            modes[index(mode)].retries += row.try_get::<i64, _>("n")? - 1;
        }
    }

    // The feed: every read, and the reads that carried no poll-mode order.
    let row = sqlx::query(
        "SELECT COUNT(*) AS reads, COUNT(CASE WHEN NOT EXISTS (\
            SELECT 1 FROM exchange_orders eo JOIN orders o ON o.id = eo.order_id \
            WHERE eo.exchange_id = e.id AND o.mode = 'poll') THEN 1 END) AS empty \
         FROM exchanges e WHERE e.channel = 'feed'",
    )
    .fetch_one(db.pool())
    .await?;
    let feed = FeedFigures {
        reads: row.try_get("reads")?,
        empty: row.try_get("empty")?,
    };

    Ok(Comparison { modes, feed })
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

    #[test]
    fn channels_belong_to_modes() {
        assert_eq!(mode_of_channel("void"), Some(IntegrationMode::Api));
        assert_eq!(mode_of_channel("ack"), Some(IntegrationMode::Poll));
        assert_eq!(mode_of_channel("webhook"), Some(IntegrationMode::Webhook));
        assert_eq!(mode_of_channel("subscribe"), None);
    }
}
