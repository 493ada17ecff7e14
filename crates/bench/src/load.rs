//! The load: the same request, `n` times, `concurrency` at a time — a
//! closed loop, like `wrk -c N`, so that the product and the floor are
//! driven by the same client in the same way and their numbers compare.
//!
//! A closed loop measures what the system sustains (each of the
//! `concurrency` clients sends its next request when the previous one is
//! answered). It cannot show what happens when requests arrive faster than
//! they are served — that is queueing, which the end-to-end figures of the
//! push and pull modes show instead.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::bail;

/// Latency percentiles of a sample, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Percentiles {
    /// Nearest-rank percentiles (the sample at index `round((n-1)·q)`).
    pub fn of(mut samples: Vec<f64>) -> Percentiles {
        if samples.is_empty() {
            return Percentiles::default();
        }
        samples.sort_by(|a, b| a.total_cmp(b));
        let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
        Percentiles {
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
            max: *samples.last().unwrap(),
        }
    }
}

/// What one load run saw from the client's side.
#[derive(Debug, Default)]
pub struct Sample {
    /// Latency of each successful request, in milliseconds.
    pub latencies_ms: Vec<f64>,
    /// The `id` of each answer that had one (the orders placed).
    pub ids: Vec<String>,
    pub failed: usize,
    /// What the first failure was, to say why in the report.
    pub first_failure: Option<String>,
    /// From the first request sent to the last answer received.
    pub seconds: f64,
}

impl Sample {
    pub fn per_second(&self) -> f64 {
        self.latencies_ms.len() as f64 / self.seconds.max(1e-9)
    }
}

#[derive(serde::Deserialize)]
struct Answer {
    id: Option<String>,
}

/// POSTs `body` (JSON) to `url` `n` times, `concurrency` at a time. Gives
/// up — with an error saying so — if the whole run takes longer than
/// `deadline`; a single request that takes longer than the client's
/// timeout counts as failed.
pub async fn drive(
    client: &reqwest::Client,
    url: &str,
    body: &Arc<[u8]>,
    n: usize,
    concurrency: usize,
    deadline: Duration,
) -> anyhow::Result<Sample> {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.clamp(1, n.max(1)) {
        let (client, url, body, next) =
            (client.clone(), url.to_owned(), body.clone(), next.clone());
        workers.spawn(async move {
            let mut sample = Sample::default();
            while next.fetch_add(1, Ordering::Relaxed) < n {
                let sent = Instant::now();
                let outcome = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.to_vec())
                    .send()
                    .await;
                match outcome {
                    Ok(response) if response.status().is_success() => {
                        let text = response.bytes().await.unwrap_or_default();
                        sample
                            .latencies_ms
                            .push(sent.elapsed().as_secs_f64() * 1000.0);
                        if let Ok(Answer { id: Some(id) }) = serde_json::from_slice(&text) {
                            sample.ids.push(id);
                        }
                    }
                    Ok(response) => {
                        sample.failed += 1;
                        let status = response.status();
                        let text = response.text().await.unwrap_or_default();
                        sample.first_failure.get_or_insert_with(|| {
                            format!("{status}: {}", text.chars().take(300).collect::<String>())
                        });
                    }
                    Err(e) => {
                        sample.failed += 1;
                        sample.first_failure.get_or_insert_with(|| e.to_string());
                    }
                }
            }
            sample
        });
    }
    let mut total = Sample::default();
    let joined = tokio::time::timeout(deadline, async {
        while let Some(done) = workers.join_next().await {
            let part = done?;
            total.latencies_ms.extend(part.latencies_ms);
            total.ids.extend(part.ids);
            total.failed += part.failed;
            if total.first_failure.is_none() {
                total.first_failure = part.first_failure;
            }
        }
        anyhow::Ok(())
    })
    .await;
    match joined {
        Ok(result) => result?,
        Err(_) => bail!(
            "{n} requests to {url} at concurrency {concurrency} did not finish within {deadline:?}"
        ),
    }
    total.seconds = started.elapsed().as_secs_f64();
    Ok(total)
}

/// One order at a time, as a person at the demo places them: `n` POSTs,
/// the `k`-th sent `k × spacing` after the first (whatever the answers
/// took). With a spacing that is an irrational share of the poll interval
/// ([`phase_spacing`]), the orders land at evenly spread phases of the
/// poll cycle — a stratified sample of "how long until the next poll", the
/// same every run — so that the median of a few dozen is within a few
/// milliseconds of the median of all phases, where random arrivals would
/// leave it tens of milliseconds off by chance.
pub async fn paced(
    client: &reqwest::Client,
    url: &str,
    body: &Arc<[u8]>,
    n: usize,
    spacing: Duration,
) -> anyhow::Result<Sample> {
    let started = Instant::now();
    let mut sample = Sample::default();
    for k in 0..n {
        tokio::time::sleep_until((started + spacing * k as u32).into()).await;
        let sent = Instant::now();
        let response = client
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_vec())
            .send()
            .await?;
        let status = response.status();
        let text = response.bytes().await.unwrap_or_default();
        if !status.is_success() {
            sample.failed += 1;
            sample.first_failure.get_or_insert_with(|| {
                format!(
                    "{status}: {}",
                    String::from_utf8_lossy(&text)
                        .chars()
                        .take(300)
                        .collect::<String>()
                )
            });
            continue;
        }
        sample
            .latencies_ms
            .push(sent.elapsed().as_secs_f64() * 1000.0);
        if let Ok(Answer { id: Some(id) }) = serde_json::from_slice(&text) {
            sample.ids.push(id);
        }
    }
    sample.seconds = started.elapsed().as_secs_f64();
    Ok(sample)
}

/// A spacing for `n` [`paced`] orders whose multiples fall at evenly spread
/// phases of `interval`: `interval × m / n` with `m` prime to `n`, so that
/// the phases `k·m mod n` (for `k` = 0 … n−1) are every `n`th of the
/// interval exactly once — a perfectly stratified sample — and with `m`
/// about `n / 7`, so that about seven orders fall in each interval (the
/// demo's pace, rather than all at once).
pub fn phase_spacing(interval: Duration, n: usize) -> Duration {
    let n = n.max(1);
    let target = (n / 7).max(1);
    let coprime = |m: usize| m > 0 && gcd(m, n) == 1;
    let m = (0..n)
        .flat_map(|d| [target + d, target.saturating_sub(d)])
        .find(|&m| coprime(m))
        .unwrap_or(1);
    interval * m as u32 / n as u32
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_right_samples() {
        let p = Percentiles::of((1..=100).map(f64::from).collect());
        assert_eq!(p.p50, 51.0); // index round(99 × 0.5) = 50 (0-based) → 51
        assert_eq!(p.p90, 90.0);
        assert_eq!(p.p99, 99.0);
        assert_eq!(p.max, 100.0);
        assert_eq!(Percentiles::of(vec![]).p50, 0.0);
        assert_eq!(Percentiles::of(vec![7.0]).p99, 7.0);
    }

    #[test]
    fn percentiles_do_not_depend_on_the_order_of_the_sample() {
        let mut shuffled: Vec<f64> = (1..=10).map(f64::from).rev().collect();
        shuffled.swap(2, 7);
        assert_eq!(
            Percentiles::of(shuffled),
            Percentiles::of((1..=10).map(f64::from).collect())
        );
    }

    #[test]
    fn paced_orders_fall_at_every_phase_of_a_poll_interval() {
        let interval = Duration::from_millis(1000);
        let spacing = phase_spacing(interval, 60);
        assert_eq!(spacing.as_micros(), 116_666, "7/60 of the interval");
        // The phases of 60 orders: each sixtieth of the interval once.
        let mut phases: Vec<u128> = (0..60u32)
            .map(|k| (spacing * k).as_micros() % interval.as_micros() / 16_666)
            .collect();
        phases.sort();
        assert_eq!(phases, (0..60).collect::<Vec<u128>>());
        assert_eq!(phase_spacing(interval, 1), interval);
    }

    #[test]
    fn throughput_counts_only_answered_requests() {
        let sample = Sample {
            latencies_ms: vec![1.0; 50],
            failed: 50,
            seconds: 0.5,
            ..Sample::default()
        };
        assert_eq!(sample.per_second(), 100.0);
    }
}
