//! Throughput and latency: the sender against the floor, the modes
//! against the floor at c=32, one customer's wait at c=1, and a poll-mode
//! order placed on its own.

use contract::IntegrationMode;
use platform::Backend;

use super::{Check, check};
use crate::report::ms;
use crate::results::{Report, Run, Subject};

/// The sender-only run on an empty database.
fn sender(report: &Report, b: Backend) -> Option<&Run> {
    report
        .runs
        .iter()
        .find(|r| r.backend == b && r.history == 0 && r.subject == Subject::Sender)
}

pub(super) fn sender_throughput(report: &Report, b: Backend, share: f64) -> Check {
    let c = check(
        "sender only: delivered/s",
        Some(b),
        format!("≥ {share} × floor"),
    );
    match sender(report, b).and_then(|r| Some((r, report.floor(b, r.concurrency)?))) {
        Some((r, floor)) => against_floor(c, r.resolved_per_s, floor.resolved_per_s, share, r),
        None => c,
    }
}

pub(super) fn sender_lag(report: &Report, b: Backend, limit_ms: f64) -> Check {
    let c = check(
        "sender only: last order → last delivery",
        Some(b),
        format!("≤ {limit_ms} ms"),
    );
    at_most_ms(c, sender(report, b).and_then(|r| r.lag_ms), limit_ms)
}

pub(super) fn resolved(
    report: &Report,
    b: Backend,
    mode: IntegrationMode,
    concurrency: usize,
    share: f64,
) -> Check {
    let c = check(
        format!("c={concurrency}: {mode} orders resolved/s"),
        Some(b),
        format!("≥ {share} × floor"),
    );
    let run = report.find(b, 0, Subject::Mode(mode), concurrency);
    match run.zip(report.floor(b, concurrency)) {
        Some((r, floor)) => against_floor(c, r.resolved_per_s, floor.resolved_per_s, share, r),
        None => c,
    }
}

pub(super) fn end_to_end(
    report: &Report,
    b: Backend,
    mode: IntegrationMode,
    concurrency: usize,
    limit_ms: f64,
) -> Check {
    let c = check(
        format!("c={concurrency}: {mode} end to end p50"),
        Some(b),
        format!("≤ {limit_ms} ms"),
    );
    let run = report.find(b, 0, Subject::Mode(mode), concurrency);
    at_most_ms(c, run.map(|r| r.end_to_end.p50), limit_ms)
}

pub(super) fn placement(
    report: &Report,
    b: Backend,
    mode: IntegrationMode,
    limit_ms: f64,
) -> Check {
    let c = check(
        format!("c=1: {mode} placement p50"),
        Some(b),
        format!("≤ {limit_ms} ms"),
    );
    // The floor's own figure beside it: two hops with one write
    // each, the least a placement through two services can take.
    let floor = report
        .floor(b, 1)
        .map(|f| format!(" (floor: {} ms)", ms(f.placement.p50)))
        .unwrap_or_default();
    match report.find(b, 0, Subject::Mode(mode), 1) {
        Some(r) => c.measured(
            format!("{} ms{floor}", ms(r.placement.p50)),
            r.placement.p50 <= limit_ms,
        ),
        None => c,
    }
}

/// Poll mode at `concurrency`: end to end at the median against one
/// interval and `slack_ms`.
pub(super) fn poll_end_to_end(
    report: &Report,
    b: Backend,
    concurrency: usize,
    slack_ms: f64,
) -> Check {
    let bound = report.meta.poll_interval_ms as f64 + slack_ms;
    let c = check(
        format!("c={concurrency}: poll end to end p50"),
        Some(b),
        format!("≤ interval + {slack_ms} ms = {} ms", ms(bound)),
    );
    let run = report.find(b, 0, Subject::Mode(IntegrationMode::Poll), concurrency);
    at_most_ms(c, run.map(|r| r.end_to_end.p50), bound)
}

/// Poll mode at `concurrency`: the last order placed → the last resolved.
pub(super) fn poll_drain(report: &Report, b: Backend, concurrency: usize, slack_ms: f64) -> Check {
    let bound = report.meta.poll_interval_ms as f64 + slack_ms;
    let c = check(
        format!("c={concurrency}: poll, last order placed → resolved"),
        Some(b),
        format!("≤ interval + {slack_ms} ms = {} ms", ms(bound)),
    );
    let run = report.find(b, 0, Subject::Mode(IntegrationMode::Poll), concurrency);
    at_most_ms(c, run.and_then(|r| r.lag_ms), bound)
}

/// c=1 placement at the median against `times` the floor's.
pub(super) fn placement_vs_floor(
    report: &Report,
    b: Backend,
    mode: IntegrationMode,
    times: f64,
) -> Check {
    let c = check(
        format!("c=1: {mode} placement p50"),
        Some(b),
        format!("≤ {times} × floor"),
    );
    let run = report.find(b, 0, Subject::Mode(mode), 1);
    match run.zip(report.floor(b, 1)) {
        Some((r, floor)) => {
            let ratio = r.placement.p50 / floor.placement.p50.max(1e-9);
            c.measured(
                format!(
                    "{} ms vs floor {} ms ({ratio:.2}×)",
                    ms(r.placement.p50),
                    ms(floor.placement.p50)
                ),
                ratio <= times,
            )
        }
        None => c,
    }
}

/// Poll mode one order at a time, the poller long-polling: placed →
/// resolved at the median.
pub(super) fn long_poll_one_at_a_time(report: &Report, b: Backend, limit_ms: f64) -> Check {
    let c = check(
        "one order at a time: poll with long polling, end to end p50",
        Some(b),
        format!("≤ {limit_ms} ms"),
    );
    let run = report.find(b, 0, Subject::LongPollOneAtATime, 1);
    at_most_ms(c, run.map(|r| r.end_to_end.p50), limit_ms)
}

/// Judged as interval/2 (the wait for the poll, by definition: a random
/// moment is half an interval from the next poll, at the median) plus
/// what follows the poll, measured per order. The sample's own median is
/// shown beside it: 60 orders at evenly spread phases put it up to a
/// sixtieth of the interval above the middle, by where the first order
/// fell.
pub(super) fn poll_one_at_a_time(report: &Report, b: Backend, slack_ms: f64) -> Check {
    let half = report.meta.poll_interval_ms as f64 / 2.0;
    let bound = half + slack_ms;
    let c = check(
        "one order at a time: poll end to end p50",
        Some(b),
        format!("≤ interval/2 + {slack_ms} ms = {} ms", ms(bound)),
    );
    let Some(r) = report.find(b, 0, Subject::OneAtATime(IntegrationMode::Poll), 1) else {
        return c;
    };
    match &r.after_poll {
        Some(after) => c.measured(
            format!(
                "interval/2 + {} ms after the poll = {} ms (the sample's median: {} ms)",
                ms(after.p50),
                ms(half + after.p50),
                ms(r.end_to_end.p50)
            ),
            half + after.p50 <= bound,
        ),
        None => c.measured(
            format!("{} ms", ms(r.end_to_end.p50)),
            r.end_to_end.p50 <= bound,
        ),
    }
}

/// `c` judged on a figure in milliseconds against `bound_ms`; not measured
/// when this run has no such figure.
fn at_most_ms(c: Check, value_ms: Option<f64>, bound_ms: f64) -> Check {
    match value_ms {
        Some(v) => c.measured(format!("{} ms", ms(v)), v <= bound_ms),
        None => c,
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
