//! Memory and idleness, per service: peak memory once a service has
//! handled enough orders to have grown, and the worst idle CPU it showed.

use platform::Backend;

use super::{Check, check};
use crate::report::thousands;
use crate::results::{Footprint, Report};

/// `service`'s processes on `b`, at every history.
fn footprints<'a>(report: &'a Report, b: Backend, service: &str) -> Vec<&'a Footprint> {
    report
        .footprints
        .iter()
        .filter(|f| f.backend == b && f.service == service)
        .collect()
}

/// The largest peak among processes that handled `after_orders` or more;
/// with none, how far the busiest got.
pub(super) fn peak_memory(
    report: &Report,
    b: Backend,
    service: &str,
    after_orders: usize,
    limit_mib: f64,
) -> Check {
    let ours = footprints(report, b, service);
    let c = check(
        format!(
            "{service}: peak RSS after {} orders",
            thousands(after_orders as u64)
        ),
        Some(b),
        format!("≤ {limit_mib} MiB"),
    );
    let grown = ours
        .iter()
        .filter(|f| f.handled >= after_orders)
        .filter_map(|f| Some((f.peak_rss_kib?, f.handled)))
        .max();
    let most = ours.iter().map(|f| f.handled).max();
    match (grown, most) {
        (Some((kib, handled)), _) => {
            let mib = kib as f64 / 1024.0;
            c.measured(
                format!("{mib:.1} MiB after {} orders", thousands(handled as u64)),
                mib <= limit_mib,
            )
        }
        (None, Some(handled)) => Check {
            measured: format!("only {} orders handled", thousands(handled as u64)),
            ..c
        },
        (None, None) => c,
    }
}

/// The worst idle CPU any of `service`'s processes showed.
pub(super) fn idle_cpu(report: &Report, b: Backend, service: &str, limit_percent: f64) -> Check {
    let c = check(
        format!("{service}: idle CPU"),
        Some(b),
        format!("< {limit_percent} % of a core"),
    );
    let idle = footprints(report, b, service)
        .iter()
        .filter_map(|f| f.idle_cpu_percent)
        .fold(None, |worst: Option<f64>, p| {
            Some(worst.map_or(p, |w| w.max(p)))
        });
    match idle {
        Some(p) => c.measured(format!("{p:.2} %"), p < limit_percent),
        None => c,
    }
}
