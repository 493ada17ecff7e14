//! What a large database costs: every throughput measured on the largest
//! history this run seeded, set against the same run on an empty database.

use contract::IntegrationMode;
use platform::Backend;

use super::{Check, check};
use crate::report::thousands;
use crate::results::{Report, Run, Subject};

/// One check per throughput measured both ways on `b`; with no history
/// run, one check that says so.
pub(super) fn checks(report: &Report, b: Backend, tolerance: f64) -> Vec<Check> {
    let Some(history) = report
        .runs
        .iter()
        .filter(|r| r.backend == b)
        .map(|r| r.history)
        .max()
    else {
        return Vec::new();
    };
    if history == 0 {
        return vec![check(
            "history: throughput vs an empty database",
            Some(b),
            format!("within {:.0} %", tolerance * 100.0),
        )];
    }
    // Runs paced one at a time go as fast as their pauses: not a throughput.
    report
        .runs
        .iter()
        .filter(|r| {
            r.backend == b
                && r.history == history
                && !matches!(
                    r.subject,
                    Subject::OneAtATime(_) | Subject::LongPollOneAtATime
                )
        })
        .filter_map(|with_history| {
            let without = report.find(b, 0, with_history.subject, with_history.concurrency)?;
            Some(compare(with_history, without, tolerance))
        })
        .collect()
}

fn compare(with_history: &Run, without: &Run, tolerance: f64) -> Check {
    let (figure, throughput) = history_figure(with_history.subject);
    let (now, before) = (throughput(with_history), throughput(without));
    let share = now / before.max(1e-9);
    check(
        format!(
            "history of {}: {} c={} {figure}/s",
            thousands(with_history.history),
            with_history.subject.name(),
            with_history.concurrency,
        ),
        Some(with_history.backend),
        format!("≥ {:.1} × empty", 1.0 - tolerance),
    )
    .measured(
        format!("{now:.0} vs {before:.0} ({share:.2}×)"),
        share >= 1.0 - tolerance,
    )
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
