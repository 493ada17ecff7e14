//! What the bench reads back from the store's own rows: when each order
//! was created and resolved (or its webhook delivered), and whether the
//! work of a run has settled.
//!
//! The store's timestamps, not the client's, are the end-to-end figures:
//! they are what the compare page shows, and they do not include the
//! client's own queueing. The trade-off: they are whole milliseconds, so an
//! end to end of a few milliseconds is coarse.

use std::future::Future;
use std::time::Duration;

use anyhow::bail;
use sqlx::{AnyPool, AssertSqlSafe, Row};

use contract::IntegrationMode;

use super::context::{Context, NO_PROGRESS_DEADLINE};
use super::load::Sample;
use super::procs::{CpuTime, Processes};

pub async fn count(pool: &AnyPool, sql: &'static str) -> anyhow::Result<i64> {
    Ok(sqlx::query(sql).fetch_one(pool).await?.try_get("n")?)
}

/// Feed reads that carried no poll-mode order.
pub async fn empty_polls(pool: &AnyPool) -> anyhow::Result<i64> {
    count(
        pool,
        "SELECT COUNT(*) AS n FROM exchanges e WHERE e.channel = 'feed' AND NOT EXISTS \
         (SELECT 1 FROM exchange_orders eo JOIN orders o ON o.id = eo.order_id \
          WHERE eo.exchange_id = e.id AND o.mode = 'poll')",
    )
    .await
}

/// Waits until `remaining` says nothing is left, failing if it stops
/// going down for [`NO_PROGRESS_DEADLINE`] or a process dies.
async fn wait_until_none<F, Fut>(
    procs: &mut Processes,
    what: &str,
    mut remaining: F,
) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<i64>>,
{
    let mut best = i64::MAX;
    let mut progress_at = tokio::time::Instant::now();
    loop {
        let left = remaining().await?;
        if left == 0 {
            return Ok(());
        }
        if left < best {
            best = left;
            progress_at = tokio::time::Instant::now();
        }
        procs.check_alive()?;
        if progress_at.elapsed() > NO_PROGRESS_DEADLINE {
            bail!("{left} {what} did not settle: none did for {NO_PROGRESS_DEADLINE:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Until no order of `mode` is pending.
pub async fn settle(
    cx: &Context,
    pool: &AnyPool,
    procs: &mut Processes,
    mode: IntegrationMode,
    c: usize,
) -> anyhow::Result<()> {
    let what = format!("{mode}-mode orders ({}, c={c})", cx.label());
    wait_until_none(procs, &what, move || async move {
        Ok(
            sqlx::query("SELECT COUNT(*) AS n FROM orders WHERE status = 'pending' AND mode = $1")
                .bind(mode.as_str())
                .fetch_one(pool)
                .await?
                .try_get::<i64, _>("n")?,
        )
    })
    .await
}

/// Until no `order.created` delivery is pending.
pub async fn delivered(
    cx: &Context,
    pool: &AnyPool,
    procs: &mut Processes,
    c: usize,
) -> anyhow::Result<()> {
    let what = format!("webhook deliveries ({}, sender only, c={c})", cx.label());
    wait_until_none(procs, &what, move || async move {
        Ok(sqlx::query(
            "SELECT COUNT(*) AS n FROM webhook_deliveries \
             WHERE state = 'pending' AND event_type = 'order.created'",
        )
        .fetch_one(pool)
        .await?
        .try_get::<i64, _>("n")?)
    })
    .await
}

/// When each order of a run started and finished, per the store's rows.
#[derive(Debug, Default)]
pub struct Resolution {
    /// Finish − start of each finished order, in milliseconds.
    pub latencies_ms: Vec<f64>,
    /// How many ended in each final state.
    pub statuses: Vec<(String, usize)>,
    pub first_start: Option<i64>,
    pub last_start: Option<i64>,
    pub last_finish: Option<i64>,
}

impl Resolution {
    fn add(&mut self, status: String, start: i64, finish: Option<i64>) {
        match self.statuses.iter_mut().find(|(s, _)| *s == status) {
            Some((_, n)) => *n += 1,
            None => self.statuses.push((status, 1)),
        }
        self.first_start = Some(self.first_start.map_or(start, |t| t.min(start)));
        self.last_start = Some(self.last_start.map_or(start, |t| t.max(start)));
        if let Some(finish) = finish {
            self.latencies_ms.push((finish - start) as f64);
            self.last_finish = Some(self.last_finish.map_or(finish, |t| t.max(finish)));
        }
    }

    /// Finished per second, from the first start to the last finish.
    pub fn per_second(&self) -> f64 {
        match (self.first_start, self.last_finish) {
            (Some(start), Some(finish)) => {
                self.latencies_ms.len() as f64 * 1000.0 / ((finish - start).max(1) as f64)
            }
            _ => 0.0,
        }
    }

    /// From the last start to the last finish.
    pub fn lag_ms(&self) -> Option<f64> {
        Some((self.last_finish? - self.last_start?) as f64)
    }
}

/// Orders `ids`: created → resolved, and their statuses.
pub async fn resolution(pool: &AnyPool, ids: &[String]) -> anyhow::Result<Resolution> {
    let mut resolution = Resolution::default();
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT status, created_at, resolved_at FROM orders WHERE id IN ({})",
            platform::db::placeholders(1, chunk.len())
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(id.as_str());
        }
        for row in query.fetch_all(pool).await? {
            resolution.add(
                row.try_get("status")?,
                row.try_get("created_at")?,
                row.try_get("resolved_at")?,
            );
        }
    }
    Ok(resolution)
}

/// Poll-mode orders `ids`: the store's receipt of the first feed read that
/// listed each (its message log links them) → the order's final status, in
/// ms. The wait *for* the poll is the pattern's; this is what follows it.
pub async fn after_poll(pool: &AnyPool, ids: &[String]) -> anyhow::Result<Vec<f64>> {
    let mut after = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT o.resolved_at - MIN(e.started_at) AS after_ms FROM orders o \
             JOIN exchange_orders eo ON eo.order_id = o.id \
             JOIN exchanges e ON e.id = eo.exchange_id AND e.channel = 'feed' \
             WHERE o.resolved_at IS NOT NULL AND o.id IN ({}) \
             GROUP BY o.id, o.resolved_at",
            platform::db::placeholders(1, chunk.len())
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(id.as_str());
        }
        for row in query.fetch_all(pool).await? {
            let ms: i64 = row.try_get("after_ms")?;
            after.push(ms as f64);
        }
    }
    Ok(after)
}

/// Orders `ids`: created → their `order.created` delivered.
pub async fn deliveries(pool: &AnyPool, ids: &[String]) -> anyhow::Result<Resolution> {
    let mut resolution = Resolution::default();
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT d.state, o.created_at, d.completed_at FROM webhook_deliveries d \
             JOIN orders o ON o.id = d.order_id \
             WHERE d.event_type = 'order.created' AND d.order_id IN ({})",
            platform::db::placeholders(1, chunk.len())
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(id.as_str());
        }
        for row in query.fetch_all(pool).await? {
            let state: String = row.try_get("state")?;
            let finish = if state == "succeeded" {
                row.try_get("completed_at")?
            } else {
                None
            };
            resolution.add(state, row.try_get("created_at")?, finish);
        }
    }
    Ok(resolution)
}

pub fn idle_percent(before: CpuTime, after: CpuTime, window: Duration) -> f64 {
    100.0 * (after.seconds - before.seconds) / window.as_secs_f64().max(1e-9)
}

/// "3998 confirmed, 2 backordered; 1 request failed (503: …)".
pub fn outcome_of(statuses: &[(String, usize)], sample: &Sample) -> String {
    let mut parts: Vec<String> = statuses.iter().map(|(s, n)| format!("{n} {s}")).collect();
    parts.sort();
    let mut text = parts.join(", ");
    if sample.failed > 0 {
        text.push_str(&format!(
            "; {} request{} failed ({})",
            sample.failed,
            if sample.failed == 1 { "" } else { "s" },
            sample.first_failure.as_deref().unwrap_or("?")
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_counts_from_first_start_to_last_finish() {
        let mut r = Resolution::default();
        r.add("confirmed".into(), 1_000, Some(1_010));
        r.add("confirmed".into(), 1_500, Some(2_000));
        r.add("backordered".into(), 1_200, Some(1_300));
        r.add("pending".into(), 1_900, None);
        assert_eq!(r.latencies_ms, vec![10.0, 500.0, 100.0]);
        // Three finished over one second.
        assert_eq!(r.per_second(), 3.0);
        assert_eq!(
            r.lag_ms(),
            Some(100.0),
            "last start 1900 → last finish 2000"
        );
        assert_eq!(
            r.statuses,
            vec![
                ("confirmed".into(), 2),
                ("backordered".into(), 1),
                ("pending".into(), 1)
            ]
        );
        assert_eq!(Resolution::default().per_second(), 0.0);
        assert_eq!(Resolution::default().lag_ms(), None);
    }

    #[test]
    fn outcomes_say_what_failed() {
        let sample = Sample {
            failed: 2,
            first_failure: Some("503 Service Unavailable: busy".into()),
            ..Sample::default()
        };
        assert_eq!(
            outcome_of(&[("confirmed".into(), 8)], &sample),
            "8 confirmed; 2 requests failed (503 Service Unavailable: busy)"
        );
        assert_eq!(outcome_of(&[("ok".into(), 3)], &Sample::default()), "3 ok");
    }

    #[test]
    fn idle_is_a_share_of_one_core() {
        let before = CpuTime { seconds: 10.0 };
        let after = CpuTime { seconds: 10.05 };
        let pct = idle_percent(before, after, Duration::from_secs(5));
        assert!((pct - 1.0).abs() < 1e-9, "{pct}");
    }
}
