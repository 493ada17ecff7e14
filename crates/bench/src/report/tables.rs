//! A backend's section of the report: three tables — each mode end to end,
//! the sender alone, and each process's memory and idle CPU — every figure
//! beside its ratio to the floor of the same concurrency (the floor's own
//! rows, in the first table, beside nothing).

use std::fmt::Write as _;

use platform::Backend;

use super::format::{backend_title, history_label, ms, opt, ratio, thousands};
use crate::results::{Footprint, Report, Run, Subject};

pub fn render_backend(out: &mut String, report: &Report, backend: Backend) {
    let _ = writeln!(out, "## {}\n", backend_title(backend));
    modes_table(out, report, backend);
    sender_table(out, report, backend);
    footprints_table(out, report, backend);
}

/// The floor and every mode, closed loop and one at a time — written when
/// some mode ran.
fn modes_table(out: &mut String, report: &Report, backend: Backend) {
    let runs: Vec<&Run> = report
        .runs
        .iter()
        .filter(|r| r.backend == backend)
        .filter(|r| {
            matches!(
                r.subject,
                Subject::Floor
                    | Subject::Mode(_)
                    | Subject::OneAtATime(_)
                    | Subject::LongPollOneAtATime
            )
        })
        .collect();
    if runs.iter().all(|r| r.subject == Subject::Floor) {
        return;
    }
    let _ = writeln!(out, "### Each mode, end to end\n");
    let _ = writeln!(
        out,
        "| history | mode | c | resolved/s | placed/s | placement p50 (ms) | p90 | p99 | \
         end to end p50 (ms) | p90 | p99 | CPU ms/order: store | inventory | requests/order | outcome |"
    );
    let _ = writeln!(
        out,
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    );
    for r in runs {
        let floor = match r.subject {
            Subject::Floor => None,
            _ => report.floor(backend, r.concurrency),
        };
        let _ = writeln!(out, "{}", mode_row(r, floor));
    }
    let _ = writeln!(out);
}

fn mode_row(r: &Run, f: Option<&Run>) -> String {
    let cell_rate = |v: f64, fv: fn(&Run) -> f64| format!("{v:.0}{}", ratio(v, f.map(fv)));
    let cell_ms = |v: f64, fv: fn(&Run) -> f64| format!("{}{}", ms(v), ratio(v, f.map(fv)));
    let cell_cpu = |k: usize| {
        opt(r.cpu_ms[k], |v| {
            format!("{v:.2}{}", ratio(v, f.and_then(|f| f.cpu_ms[k])))
        })
    };
    format!(
        "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
        if r.subject == Subject::Floor {
            "—".to_owned()
        } else {
            history_label(r.history)
        },
        r.subject.name(),
        r.concurrency,
        cell_rate(r.resolved_per_s, |f| f.resolved_per_s),
        cell_rate(r.placed_per_s, |f| f.placed_per_s),
        cell_ms(r.placement.p50, |f| f.placement.p50),
        cell_ms(r.placement.p90, |f| f.placement.p90),
        cell_ms(r.placement.p99, |f| f.placement.p99),
        cell_ms(r.end_to_end.p50, |f| f.end_to_end.p50),
        cell_ms(r.end_to_end.p90, |f| f.end_to_end.p90),
        cell_ms(r.end_to_end.p99, |f| f.end_to_end.p99),
        cell_cpu(0),
        cell_cpu(1),
        opt(r.requests_per_order, |v| match r.empty_polls {
            Some(e) => format!("{v:.2} ({e} empty polls)"),
            None => format!("{v:.2}"),
        }),
        r.outcome
    )
}

/// The store alone, delivering webhooks — written when it ran.
fn sender_table(out: &mut String, report: &Report, backend: Backend) {
    let senders: Vec<&Run> = report
        .runs
        .iter()
        .filter(|r| r.backend == backend && r.subject == Subject::Sender)
        .collect();
    if senders.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "### Sender only (the store alone, webhooks to a receiver that does nothing)\n"
    );
    let _ = writeln!(
        out,
        "| history | c | delivered/s | placed/s | placement p50 (ms) | created → delivered p50 (ms) | \
         p90 | p99 | last order → last delivery (ms) | CPU ms/order: store | outcome |"
    );
    let _ = writeln!(
        out,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    );
    for r in senders {
        let _ = writeln!(
            out,
            "{}",
            sender_row(r, report.floor(backend, r.concurrency))
        );
    }
    let _ = writeln!(out);
}

fn sender_row(r: &Run, f: Option<&Run>) -> String {
    format!(
        "| {} | {} | {:.0}{} | {:.0}{} | {}{} | {}{} | {}{} | {}{} | {} | {} | {} |",
        history_label(r.history),
        r.concurrency,
        r.resolved_per_s,
        ratio(r.resolved_per_s, f.map(|f| f.resolved_per_s)),
        r.placed_per_s,
        ratio(r.placed_per_s, f.map(|f| f.placed_per_s)),
        ms(r.placement.p50),
        ratio(r.placement.p50, f.map(|f| f.placement.p50)),
        ms(r.end_to_end.p50),
        ratio(r.end_to_end.p50, f.map(|f| f.end_to_end.p50)),
        ms(r.end_to_end.p90),
        ratio(r.end_to_end.p90, f.map(|f| f.end_to_end.p90)),
        ms(r.end_to_end.p99),
        ratio(r.end_to_end.p99, f.map(|f| f.end_to_end.p99)),
        opt(r.lag_ms, ms),
        opt(r.cpu_ms[0], |v| format!(
            "{v:.2}{}",
            ratio(v, f.and_then(|f| f.cpu_ms[0]))
        )),
        r.outcome
    )
}

/// Every process's peak memory and idle CPU — the store set against hop
/// A, the inventory against hop B.
fn footprints_table(out: &mut String, report: &Report, backend: Backend) {
    let footprints: Vec<&Footprint> = report
        .footprints
        .iter()
        .filter(|f| f.backend == backend)
        .collect();
    if footprints.is_empty() {
        return;
    }
    let floor_rss = |name: &str| {
        footprints
            .iter()
            .find(|f| f.service == name)
            .and_then(|f| f.peak_rss_kib)
            .map(|k| k as f64)
    };
    let _ = writeln!(out, "### Memory and idle CPU, per process\n");
    let _ = writeln!(
        out,
        "| process | history | orders handled | peak RSS (MiB) | idle CPU (% of a core) |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|");
    for f in &footprints {
        let reference = match f.service.as_str() {
            "store" | "store (sender only)" => floor_rss("floor hop A"),
            "inventory" => floor_rss("floor hop B"),
            _ => None,
        };
        let _ = writeln!(out, "{}", footprint_row(f, reference));
    }
    let _ = writeln!(out);
}

fn footprint_row(f: &Footprint, floor_rss_kib: Option<f64>) -> String {
    format!(
        "| {} | {} | {} | {} | {} |",
        f.service,
        if f.service.starts_with("floor") {
            "—".to_owned()
        } else {
            history_label(f.history)
        },
        thousands(f.handled as u64),
        opt(f.peak_rss_kib, |k| format!(
            "{:.1}{}",
            k as f64 / 1024.0,
            ratio(k as f64, floor_rss_kib)
        )),
        opt(f.idle_cpu_percent, |p| format!("{p:.2}"))
    )
}
