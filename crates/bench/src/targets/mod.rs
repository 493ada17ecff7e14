//! The performance targets, checked against a [`Report`].
//!
//! Each target is a ratio to the floor of the same run, or a bound that
//! the pattern itself sets (a poll waits half an interval on average).
//! They are *evaluated* and written in `BENCHMARKS.md` — met, not met, or
//! not measured by this run — and never asserted in a timed test: a test
//! that fails when the machine is busy teaches nothing.
//!
//! The targets are a table, `TARGETS`: what each asks, with its numbers,
//! on which backends, in the order the report lists them. How a run is
//! judged against each kind is a small function of its own — in `speed`
//! (throughput and latency), `footprint` (memory and idle CPU) and
//! `history` (what a large database costs). Where the table names a
//! backend, a target this run did not measure there is listed as not
//! measured rather than left out: a missing line would read as a pass.

mod footprint;
mod history;
mod speed;

use contract::IntegrationMode::{self, Api, Hybrid, Poll, Webhook};
use platform::Backend;

use super::results::Report;

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

/// Orders a service must have handled before its peak memory counts.
pub const RSS_AFTER_ORDERS: usize = 20_000;
pub const RSS_LIMIT_MIB: f64 = 64.0;
pub const IDLE_LIMIT_PERCENT: f64 = 1.0;
/// History may cost at most this much throughput.
pub const HISTORY_TOLERANCE: f64 = 0.10;

/// Every target, in the order of the report: groups, each judged on its
/// backends in turn. (Laid out by hand, to be read as a table.)
#[rustfmt::skip]
const TARGETS: &[(On, &[Target])] = &[
    // Sender only: throughput against the floor, and how far it trails.
    (On::Only(Backend::Sqlite), &[Target::SenderThroughput { share: 0.5 }]),
    (On::Only(Backend::Postgres), &[Target::SenderThroughput { share: 0.6 }]),
    (On::Every, &[Target::SenderLag { limit_ms: 1000.0 }]),
    // c=32 on SQLite: resolved throughput, and how long an order takes.
    (On::Only(Backend::Sqlite), &[
        Target::Resolved { mode: Api, c: 32, share: 0.5 },
        Target::Resolved { mode: Webhook, c: 32, share: 0.5 },
        Target::Resolved { mode: Hybrid, c: 32, share: 0.5 },
        Target::Resolved { mode: Poll, c: 32, share: 0.5 },
        Target::EndToEnd { mode: Webhook, c: 32, limit_ms: 50.0 },
        // Pulled orders wait for the poll by design — at most an interval —
        // and should not queue behind the poller on top of it.
        Target::PollEndToEnd { c: 32, slack_ms: 100.0 },
        Target::PollDrain { c: 32, slack_ms: 500.0 },
    ]),
    // c=32 on PostgreSQL: the pushed modes against its floor.
    (On::Only(Backend::Postgres), &[
        Target::Resolved { mode: Api, c: 32, share: 0.6 },
        Target::Resolved { mode: Webhook, c: 32, share: 0.6 },
    ]),
    // c=1: what one customer waits for, and how late a pulled order is.
    (On::Only(Backend::Sqlite), &[
        Target::Placement { mode: Webhook, limit_ms: 1.0 },
        Target::Placement { mode: Poll, limit_ms: 1.0 },
        Target::Placement { mode: Api, limit_ms: 1.5 },
    ]),
    // A PostgreSQL commit alone costs about what SQLite's whole placement
    // does, so there the bound is the floor's own placement, twice.
    (On::Only(Backend::Postgres), &[
        Target::PlacementVsFloor { mode: Webhook, times: 2.0 },
        Target::PlacementVsFloor { mode: Poll, times: 2.0 },
        Target::PlacementVsFloor { mode: Api, times: 2.0 },
        Target::PlacementVsFloor { mode: Hybrid, times: 2.0 },
    ]),
    (On::Every, &[
        Target::PollOneAtATime { slack_ms: 5.0 },
        Target::LongPollOneAtATime { limit_ms: 20.0 },
    ]),
    // Memory and idleness, per service.
    (On::Every, &[
        Target::PeakMemory { service: "store", after_orders: RSS_AFTER_ORDERS, limit_mib: RSS_LIMIT_MIB },
        Target::IdleCpu { service: "store", limit_percent: IDLE_LIMIT_PERCENT },
        Target::PeakMemory { service: "inventory", after_orders: RSS_AFTER_ORDERS, limit_mib: RSS_LIMIT_MIB },
        Target::IdleCpu { service: "inventory", limit_percent: IDLE_LIMIT_PERCENT },
    ]),
    // History: every throughput measured both ways, on the largest history.
    (On::Measured, &[Target::History { tolerance: HISTORY_TOLERANCE }]),
];

pub fn evaluate(report: &Report) -> Vec<Check> {
    let mut checks = Vec::new();
    for (on, targets) in TARGETS {
        for backend in on.backends(report) {
            for target in *targets {
                checks.extend(target.judge(report, backend));
            }
        }
    }
    checks
}

/// What a target asks of a run. The numbers are the targets themselves.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// The store alone delivers webhooks at `share` × the floor's rate or
    /// more, at the sender's concurrency.
    SenderThroughput { share: f64 },
    /// Its last delivery comes at most `limit_ms` after its last order.
    SenderLag { limit_ms: f64 },
    /// Orders in `mode`, `c` clients at once, resolve at `share` × the
    /// floor's rate or more.
    Resolved {
        mode: IntegrationMode,
        c: usize,
        share: f64,
    },
    /// … and reach their final status within `limit_ms`, at the median.
    EndToEnd {
        mode: IntegrationMode,
        c: usize,
        limit_ms: f64,
    },
    /// Poll mode, `c` clients at once: an order reaches its final status
    /// within one poll interval and `slack_ms`, at the median — the poll's
    /// own wait, and no queue behind the poller.
    PollEndToEnd { c: usize, slack_ms: f64 },
    /// … and the last order of the burst within one interval and
    /// `slack_ms` of its placing: the poller keeps up with its feed.
    PollDrain { c: usize, slack_ms: f64 },
    /// One customer (c=1) waits at most `limit_ms` for an answer, at the
    /// median.
    Placement {
        mode: IntegrationMode,
        limit_ms: f64,
    },
    /// … at most `times` the floor's own placement (c=1), at the median.
    PlacementVsFloor { mode: IntegrationMode, times: f64 },
    /// A poll-mode order placed on its own is resolved within half a poll
    /// interval (the wait for the poll) and `slack_ms`, at the median.
    PollOneAtATime { slack_ms: f64 },
    /// The same with the poller long-polling: resolved within `limit_ms`
    /// of its placing, at the median — the commit wakes the held read.
    LongPollOneAtATime { limit_ms: f64 },
    /// `service` (`store`, `inventory`) holds at most `limit_mib` resident
    /// once it has handled `after_orders` orders.
    PeakMemory {
        service: &'static str,
        after_orders: usize,
        limit_mib: f64,
    },
    /// `service` uses less than `limit_percent` of a core doing nothing.
    IdleCpu {
        service: &'static str,
        limit_percent: f64,
    },
    /// Every throughput on the largest history is within `tolerance` of
    /// the same on an empty database.
    History { tolerance: f64 },
}

/// Which backends a group of targets is judged on.
#[derive(Debug, Clone, Copy)]
enum On {
    /// That backend, whether this run measured it or not.
    Only(Backend),
    /// Every backend this run measured; SQLite when it measured none.
    Every,
    /// The backends this run measured, and no other.
    Measured,
}

impl On {
    fn backends(self, report: &Report) -> Vec<Backend> {
        let measured: Vec<Backend> = [Backend::Sqlite, Backend::Postgres]
            .into_iter()
            .filter(|b| report.runs.iter().any(|r| r.backend == *b))
            .collect();
        match self {
            On::Only(backend) => vec![backend],
            On::Every if measured.is_empty() => vec![Backend::Sqlite],
            On::Every | On::Measured => measured,
        }
    }
}

impl Target {
    /// This run on `b` against the target: one check — or, for history,
    /// one per throughput measured both ways.
    fn judge(self, report: &Report, b: Backend) -> Vec<Check> {
        let one = match self {
            Target::SenderThroughput { share } => speed::sender_throughput(report, b, share),
            Target::SenderLag { limit_ms } => speed::sender_lag(report, b, limit_ms),
            Target::Resolved { mode, c, share } => speed::resolved(report, b, mode, c, share),
            Target::EndToEnd { mode, c, limit_ms } => {
                speed::end_to_end(report, b, mode, c, limit_ms)
            }
            Target::PollEndToEnd { c, slack_ms } => speed::poll_end_to_end(report, b, c, slack_ms),
            Target::PollDrain { c, slack_ms } => speed::poll_drain(report, b, c, slack_ms),
            Target::Placement { mode, limit_ms } => speed::placement(report, b, mode, limit_ms),
            Target::PlacementVsFloor { mode, times } => {
                speed::placement_vs_floor(report, b, mode, times)
            }
            Target::PollOneAtATime { slack_ms } => speed::poll_one_at_a_time(report, b, slack_ms),
            Target::LongPollOneAtATime { limit_ms } => {
                speed::long_poll_one_at_a_time(report, b, limit_ms)
            }
            Target::PeakMemory {
                service,
                after_orders,
                limit_mib,
            } => footprint::peak_memory(report, b, service, after_orders, limit_mib),
            Target::IdleCpu {
                service,
                limit_percent,
            } => footprint::idle_cpu(report, b, service, limit_percent),
            Target::History { tolerance } => return history::checks(report, b, tolerance),
        };
        vec![one]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::Percentiles;
    use crate::results::{Footprint, Meta};
    use crate::results::{Report, Run, Subject};
    use contract::IntegrationMode;

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
        // PostgreSQL has targets of its own, but did not run: listed as not measured.
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
    fn pulled_orders_are_held_to_the_interval_and_postgres_to_its_floor() {
        let (s, pg) = (Backend::Sqlite, Backend::Postgres);
        let mut poll = run(
            s,
            0,
            Subject::Mode(IntegrationMode::Poll),
            32,
            2600.0,
            1090.0,
        );
        poll.lag_ms = Some(1600.0);
        let report = Report {
            meta: Meta {
                poll_interval_ms: 1000,
                ..Meta::default()
            },
            runs: vec![
                run(s, 0, Subject::Floor, 32, 5000.0, 3.0),
                poll,
                run(s, 0, Subject::LongPollOneAtATime, 1, 20.0, 21.0),
                run(pg, 0, Subject::Floor, 1, 1000.0, 0.8),
                run(pg, 0, Subject::Mode(IntegrationMode::Api), 1, 300.0, 1.7),
                run(pg, 0, Subject::Mode(IntegrationMode::Poll), 1, 600.0, 1.5),
            ],
            footprints: vec![],
        };
        let checks = evaluate(&report);
        assert_eq!(
            find(&checks, "c=32: poll orders resolved/s", s).met,
            Some(true)
        );
        let e2e = find(&checks, "c=32: poll end to end p50", s);
        assert_eq!(
            (e2e.met, e2e.wanted.as_str()),
            (Some(true), "≤ interval + 100 ms = 1100 ms")
        );
        let drain = find(&checks, "c=32: poll, last order placed → resolved", s);
        assert_eq!(
            (drain.met, drain.measured.as_str()),
            (Some(false), "1600 ms")
        );
        let long = find(
            &checks,
            "one order at a time: poll with long polling, end to end p50",
            s,
        );
        assert_eq!(long.met, Some(false));
        let api = find(&checks, "c=1: api placement p50", pg);
        assert_eq!(
            (api.met, api.measured.as_str()),
            (Some(false), "1.70 ms vs floor 0.80 ms (2.12×)")
        );
        assert_eq!(find(&checks, "c=1: poll placement p50", pg).met, Some(true));
        assert_eq!(find(&checks, "c=1: hybrid placement p50", pg).met, None);
        assert_eq!(
            find(&checks, "c=32: webhook orders resolved/s", pg).met,
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
