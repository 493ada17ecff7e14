//! The targets of issue #9, checked against a [`Report`].
//!
//! Each target is a ratio to the floor of the same run, or a bound that
//! the pattern itself sets (a poll waits half an interval on average).
//! They are *evaluated* and written in `BENCHMARKS.md` — met, not met, or
//! not measured by this run — and never asserted in a timed test: a test
//! that fails when the machine is busy teaches nothing.

use contract::IntegrationMode;
use platform::Backend;

use super::report::{ms, thousands};
use super::results::{Report, Run, Subject};

/// One target, and how this run did against it.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub what: String,
    pub backend: Option<Backend>,
    pub measured: String,
    pub wanted: String,
    /// `None`: this run did not measure it.
    pub met: Option<bool>,
}

/// Orders a service must have handled before its peak memory counts.
pub const RSS_AFTER_ORDERS: usize = 20_000;
pub const RSS_LIMIT_MIB: f64 = 64.0;
pub const IDLE_LIMIT_PERCENT: f64 = 1.0;
/// History may cost at most this much throughput.
pub const HISTORY_TOLERANCE: f64 = 0.10;

fn check(what: impl Into<String>, backend: Option<Backend>, wanted: impl Into<String>) -> Check {
    Check {
        what: what.into(),
        backend,
        measured: "—".to_owned(),
        wanted: wanted.into(),
        met: None,
    }
}

impl Check {
    fn measured(mut self, measured: String, met: bool) -> Check {
        self.measured = measured;
        self.met = Some(met);
        self
    }
}

pub fn evaluate(report: &Report) -> Vec<Check> {
    let mut checks = Vec::new();
    let measured_backends: Vec<Backend> = [Backend::Sqlite, Backend::Postgres]
        .into_iter()
        .filter(|b| report.runs.iter().any(|r| r.backend == *b))
        .collect();
    let every_backend = if measured_backends.is_empty() {
        vec![Backend::Sqlite]
    } else {
        measured_backends.clone()
    };
    let empty = |b: Backend, subject: Subject, c: usize| report.find(b, 0, subject, c);
    let sender = |b: Backend| {
        report
            .runs
            .iter()
            .find(|r| r.backend == b && r.history == 0 && r.subject == Subject::Sender)
    };

    // Sender only: throughput against the floor, and how far it trails.
    for (b, share) in [(Backend::Sqlite, 0.5), (Backend::Postgres, 0.3)] {
        let c = check(
            "sender only: delivered/s",
            Some(b),
            format!("≥ {share} × floor"),
        );
        checks.push(
            match sender(b).and_then(|r| Some((r, report.floor(b, r.concurrency)?))) {
                Some((r, floor)) => {
                    against_floor(c, r.resolved_per_s, floor.resolved_per_s, share, r)
                }
                None => c,
            },
        );
    }
    for &b in &every_backend {
        let c = check(
            "sender only: last order → last delivery",
            Some(b),
            "≤ 1000 ms",
        );
        checks.push(match sender(b).and_then(|r| r.lag_ms) {
            Some(lag) => c.measured(format!("{} ms", ms(lag)), lag <= 1000.0),
            None => c,
        });
    }

    // c=32 on SQLite: resolved throughput, and how long a pushed order takes.
    for mode in [IntegrationMode::Api, IntegrationMode::Webhook] {
        let b = Backend::Sqlite;
        let c = check(
            format!("c=32: {mode} orders resolved/s"),
            Some(b),
            "≥ 0.5 × floor",
        );
        let run = empty(b, Subject::Mode(mode), 32);
        checks.push(match run.zip(report.floor(b, 32)) {
            Some((r, floor)) => against_floor(c, r.resolved_per_s, floor.resolved_per_s, 0.5, r),
            None => c,
        });
    }
    let c = check(
        "c=32: webhook end to end p50",
        Some(Backend::Sqlite),
        "≤ 50 ms",
    );
    checks.push(
        match empty(Backend::Sqlite, Subject::Mode(IntegrationMode::Webhook), 32) {
            Some(r) => c.measured(
                format!("{} ms", ms(r.end_to_end.p50)),
                r.end_to_end.p50 <= 50.0,
            ),
            None => c,
        },
    );

    // c=1: what one customer waits for, and how late a poll is.
    let poll_bound = report.meta.poll_interval_ms as f64 / 2.0 + 5.0;
    for &b in &every_backend {
        for (mode, limit) in [
            (IntegrationMode::Webhook, 1.0),
            (IntegrationMode::Poll, 1.0),
            (IntegrationMode::Api, 1.5),
        ] {
            let c = check(
                format!("c=1: {mode} placement p50"),
                Some(b),
                format!("≤ {limit} ms"),
            );
            // The floor's own figure beside it: two hops with one write
            // each, the least a placement through two services can take.
            let floor = report
                .floor(b, 1)
                .map(|f| format!(" (floor: {} ms)", ms(f.placement.p50)))
                .unwrap_or_default();
            checks.push(match empty(b, Subject::Mode(mode), 1) {
                Some(r) => c.measured(
                    format!("{} ms{floor}", ms(r.placement.p50)),
                    r.placement.p50 <= limit,
                ),
                None => c,
            });
        }
        let c = check(
            "one order at a time: poll end to end p50",
            Some(b),
            format!("≤ interval/2 + 5 ms = {} ms", ms(poll_bound)),
        );
        // Judged as interval/2 (the wait for the poll, by definition: a
        // random moment is half an interval from the next poll, at the
        // median) plus what follows the poll, measured per order. The
        // sample's own median is shown beside it: 60 orders at evenly
        // spread phases put it up to a sixtieth of the interval above the
        // middle, by where the first order fell.
        checks.push(
            match empty(b, Subject::OneAtATime(IntegrationMode::Poll), 1) {
                Some(r) => match &r.after_poll {
                    Some(after) => {
                        let half = report.meta.poll_interval_ms as f64 / 2.0;
                        c.measured(
                            format!(
                                "interval/2 + {} ms after the poll = {} ms (the sample's median: {} ms)",
                                ms(after.p50),
                                ms(half + after.p50),
                                ms(r.end_to_end.p50)
                            ),
                            half + after.p50 <= poll_bound,
                        )
                    }
                    None => c.measured(
                        format!("{} ms", ms(r.end_to_end.p50)),
                        r.end_to_end.p50 <= poll_bound,
                    ),
                },
                None => c,
            },
        );
    }

    // Memory and idleness, per service.
    for &b in &every_backend {
        for service in ["store", "inventory"] {
            let ours: Vec<_> = report
                .footprints
                .iter()
                .filter(|f| f.backend == b && f.service == service)
                .collect();
            let c = check(
                format!(
                    "{service}: peak RSS after {} orders",
                    thousands(RSS_AFTER_ORDERS as u64)
                ),
                Some(b),
                format!("≤ {RSS_LIMIT_MIB} MiB"),
            );
            let grown = ours
                .iter()
                .filter(|f| f.handled >= RSS_AFTER_ORDERS)
                .filter_map(|f| Some((f.peak_rss_kib?, f.handled)))
                .max();
            let most = ours.iter().map(|f| f.handled).max();
            checks.push(match (grown, most) {
                (Some((kib, handled)), _) => {
                    let mib = kib as f64 / 1024.0;
                    c.measured(
                        format!("{mib:.1} MiB after {} orders", thousands(handled as u64)),
                        mib <= RSS_LIMIT_MIB,
                    )
                }
                (None, Some(handled)) => Check {
                    measured: format!("only {} orders handled", thousands(handled as u64)),
                    ..c
                },
                (None, None) => c,
            });
            let c = check(
                format!("{service}: idle CPU"),
                Some(b),
                format!("< {IDLE_LIMIT_PERCENT} % of a core"),
            );
            let idle = ours
                .iter()
                .filter_map(|f| f.idle_cpu_percent)
                .fold(None, |worst: Option<f64>, p| {
                    Some(worst.map_or(p, |w| w.max(p)))
                });
            checks.push(match idle {
                Some(p) => c.measured(format!("{p:.2} %"), p < IDLE_LIMIT_PERCENT),
                None => c,
            });
        }
    }

    // History: every throughput measured both ways, on the largest history.
    for &b in &measured_backends {
        let Some(history) = report
            .runs
            .iter()
            .filter(|r| r.backend == b)
            .map(|r| r.history)
            .max()
        else {
            continue;
        };
        if history == 0 {
            checks.push(check(
                "history: throughput vs an empty database",
                Some(b),
                format!("within {:.0} %", HISTORY_TOLERANCE * 100.0),
            ));
            continue;
        }
        // Runs paced one at a time go as fast as their pauses: not a throughput.
        for with_history in report.runs.iter().filter(|r| {
            r.backend == b && r.history == history && !matches!(r.subject, Subject::OneAtATime(_))
        }) {
            let Some(without) = empty(b, with_history.subject, with_history.concurrency) else {
                continue;
            };
            let (figure, throughput) = history_figure(with_history.subject);
            let (now, before) = (throughput(with_history), throughput(without));
            let share = now / before.max(1e-9);
            checks.push(
                check(
                    format!(
                        "history of {}: {} c={} {figure}/s",
                        thousands(history),
                        with_history.subject.name(),
                        with_history.concurrency,
                    ),
                    Some(b),
                    format!("≥ {:.1} × empty", 1.0 - HISTORY_TOLERANCE),
                )
                .measured(
                    format!("{now:.0} vs {before:.0} ({share:.2}×)"),
                    share >= 1.0 - HISTORY_TOLERANCE,
                ),
            );
        }
    }
    checks
}

/// Which throughput a history run is compared on. A poll-mode run's
/// resolved/s depends on where in a poll interval the run happens to end
/// (up to one interval more or less), which would drown a 10 % effect; its
/// intake — the store's side, where history could slow the inserts — does
/// not.
fn history_figure(subject: Subject) -> (&'static str, fn(&Run) -> f64) {
    match subject {
        Subject::Sender => ("delivered", |r| r.resolved_per_s),
        Subject::Mode(IntegrationMode::Poll) => ("placed", |r| r.placed_per_s),
        _ => ("resolved", |r| r.resolved_per_s),
    }
}

fn against_floor(c: Check, value: f64, floor: f64, share: f64, run: &Run) -> Check {
    let r = value / floor.max(1e-9);
    c.measured(
        format!(
            "{value:.0} vs floor {floor:.0} at c={} ({r:.2}×)",
            run.concurrency
        ),
        r >= share,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::Percentiles;
    use crate::results::{Footprint, Meta};

    fn run(backend: Backend, history: u64, subject: Subject, c: usize, rate: f64, p50: f64) -> Run {
        let p = Percentiles {
            p50,
            p90: p50,
            p99: p50,
            max: p50,
        };
        Run {
            backend,
            history,
            subject,
            concurrency: c,
            resolved_per_s: rate,
            placed_per_s: rate,
            placement: p,
            end_to_end: p,
            ..Run::default()
        }
    }

    fn find<'a>(checks: &'a [Check], what: &str, backend: Backend) -> &'a Check {
        checks
            .iter()
            .find(|c| c.what == what && c.backend == Some(backend))
            .unwrap_or_else(|| panic!("no check {what} on {backend:?} in {checks:#?}"))
    }

    #[test]
    fn ratios_to_the_floor_decide_the_throughput_targets() {
        let s = Backend::Sqlite;
        let mut sender = run(s, 0, Subject::Sender, 32, 3000.0, 1.0);
        sender.lag_ms = Some(1500.0);
        let report = Report {
            meta: Meta {
                poll_interval_ms: 1000,
                ..Meta::default()
            },
            runs: vec![
                run(s, 0, Subject::Floor, 32, 6000.0, 3.0),
                run(s, 0, Subject::Floor, 1, 2000.0, 0.4),
                sender,
                run(s, 0, Subject::Mode(IntegrationMode::Api), 32, 2999.0, 12.0),
                run(
                    s,
                    0,
                    Subject::Mode(IntegrationMode::Webhook),
                    32,
                    3000.0,
                    40.0,
                ),
                run(
                    s,
                    0,
                    Subject::OneAtATime(IntegrationMode::Poll),
                    1,
                    9.0,
                    504.0,
                ),
                run(s, 0, Subject::Mode(IntegrationMode::Api), 1, 700.0, 1.6),
            ],
            footprints: vec![],
        };
        let checks = evaluate(&report);
        let sender = find(&checks, "sender only: delivered/s", s);
        assert_eq!(sender.met, Some(true));
        assert_eq!(sender.measured, "3000 vs floor 6000 at c=32 (0.50×)");
        assert_eq!(
            find(&checks, "sender only: last order → last delivery", s).met,
            Some(false)
        );
        assert_eq!(
            find(&checks, "c=32: api orders resolved/s", s).met,
            Some(false)
        );
        assert_eq!(
            find(&checks, "c=32: webhook orders resolved/s", s).met,
            Some(true)
        );
        assert_eq!(
            find(&checks, "c=32: webhook end to end p50", s).met,
            Some(true)
        );
        assert_eq!(find(&checks, "c=1: api placement p50", s).met, Some(false));
        let poll = find(&checks, "one order at a time: poll end to end p50", s);
        assert_eq!(
            (poll.met, poll.wanted.as_str()),
            (Some(true), "≤ interval/2 + 5 ms = 505 ms")
        );
        // With the time after the poll measured, that decides: a sample
        // whose median fell late in its sixtieth is not held against the
        // pattern, and a slow step after the poll is.
        let judged = |median: f64, after_ms: f64| {
            let mut report = Report {
                meta: Meta {
                    poll_interval_ms: 1000,
                    ..Meta::default()
                },
                runs: vec![run(
                    s,
                    0,
                    Subject::OneAtATime(IntegrationMode::Poll),
                    1,
                    9.0,
                    median,
                )],
                footprints: vec![],
            };
            report.runs[0].after_poll = Some(crate::load::Percentiles::of(vec![after_ms]));
            let checks = evaluate(&report);
            let poll = find(&checks, "one order at a time: poll end to end p50", s);
            (poll.met, poll.measured.clone())
        };
        assert_eq!(
            judged(512.0, 3.0),
            (
                Some(true),
                "interval/2 + 3.00 ms after the poll = 503 ms (the sample's median: 512 ms)"
                    .to_owned()
            )
        );
        assert_eq!(judged(500.0, 9.0).0, Some(false));
        assert_eq!(
            find(&checks, "c=1: webhook placement p50", s).met,
            None,
            "not run"
        );
        // PostgreSQL named by the issue, but not run: listed as not measured.
        assert_eq!(
            find(&checks, "sender only: delivered/s", Backend::Postgres).met,
            None
        );
        // No history run: said so, not skipped silently.
        assert_eq!(
            find(&checks, "history: throughput vs an empty database", s).met,
            None
        );
    }

    #[test]
    fn memory_counts_only_after_enough_orders_and_idle_takes_the_worst() {
        let s = Backend::Sqlite;
        let footprint = |history, handled, mib: u64, idle| Footprint {
            backend: s,
            history,
            service: "store".into(),
            handled,
            peak_rss_kib: Some(mib * 1024),
            idle_cpu_percent: Some(idle),
        };
        let mut report = Report {
            runs: vec![run(s, 0, Subject::Floor, 1, 1.0, 1.0)],
            footprints: vec![
                footprint(0, 24_000, 50, 0.2),
                footprint(200_000, 24_000, 70, 1.5),
            ],
            ..Report::default()
        };
        let checks = evaluate(&report);
        let rss = find(&checks, "store: peak RSS after 20,000 orders", s);
        assert_eq!(
            (rss.met, rss.measured.as_str()),
            (Some(false), "70.0 MiB after 24,000 orders")
        );
        let idle = find(&checks, "store: idle CPU", s);
        assert_eq!((idle.met, idle.measured.as_str()), (Some(false), "1.50 %"));

        report.footprints = vec![footprint(0, 500, 20, 0.1)];
        let checks = evaluate(&report);
        let rss = find(&checks, "store: peak RSS after 20,000 orders", s);
        assert_eq!(
            (rss.met, rss.measured.as_str()),
            (None, "only 500 orders handled")
        );
        assert_eq!(find(&checks, "inventory: idle CPU", s).met, None);
    }

    #[test]
    fn history_may_cost_at_most_a_tenth() {
        let s = Backend::Sqlite;
        let api = Subject::Mode(IntegrationMode::Api);
        let report = Report {
            runs: vec![
                run(s, 0, api, 32, 1000.0, 1.0),
                run(s, 200_000, api, 32, 905.0, 1.0),
                run(s, 0, Subject::Sender, 32, 1000.0, 1.0),
                run(s, 200_000, Subject::Sender, 32, 850.0, 1.0),
            ],
            ..Report::default()
        };
        let checks = evaluate(&report);
        let api = find(&checks, "history of 200,000: api c=32 resolved/s", s);
        assert_eq!(
            (api.met, api.measured.as_str()),
            (Some(true), "905 vs 1000 (0.91×)")
        );
        assert_eq!(
            find(
                &checks,
                "history of 200,000: sender only c=32 delivered/s",
                s
            )
            .met,
            Some(false)
        );

        // Poll mode: compared on what the store takes in.
        let poll = Subject::Mode(IntegrationMode::Poll);
        let mut slow_to_resolve = run(s, 200_000, poll, 32, 1000.0, 1.0);
        slow_to_resolve.resolved_per_s = 500.0;
        let report = Report {
            runs: vec![run(s, 0, poll, 32, 1000.0, 1.0), slow_to_resolve],
            ..Report::default()
        };
        let checks = evaluate(&report);
        let poll = find(&checks, "history of 200,000: poll c=32 placed/s", s);
        assert_eq!(
            (poll.met, poll.measured.as_str()),
            (Some(true), "1000 vs 1000 (1.00×)")
        );
    }
}
