//! `BENCHMARKS.md`, written from the [`Report`] of a run.
//!
//! Every figure is printed next to the floor's from the same run, as a
//! ratio (`(0.42×)` = the figure ÷ the floor's at the same concurrency), so
//! the file says how far the product is from what the machine can do, not
//! just how fast this machine happened to be. Rendering is a pure function
//! of [`Report`], so it is unit-tested without running anything.

use std::fmt::Write as _;

use platform::Backend;

use super::results::{Footprint, Report, Run, Subject};
use super::targets::{self, Check};

/// How a backend is named in the report.
pub fn backend_title(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    }
}

/// Milliseconds, with the precision the size deserves.
pub fn ms(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// `1234` → `1,234`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// ` (0.42×)`: `value` ÷ `floor`, or nothing when there is no floor.
pub fn ratio(value: f64, floor: Option<f64>) -> String {
    match floor {
        Some(f) if f > 0.0 => {
            let r = value / f;
            if r >= 10.0 {
                format!(" ({r:.0}×)")
            } else {
                format!(" ({r:.2}×)")
            }
        }
        _ => String::new(),
    }
}

fn history_label(history: u64) -> String {
    if history == 0 {
        "empty".to_owned()
    } else {
        thousands(history)
    }
}

fn opt<T>(value: Option<T>, show: impl Fn(T) -> String) -> String {
    value.map(show).unwrap_or_else(|| "—".to_owned())
}

pub fn render(report: &Report) -> String {
    let m = &report.meta;
    let mut out = String::new();
    let _ = writeln!(out, "# Benchmarks\n");
    let _ = writeln!(
        out,
        "Regenerate this whole file with:\n\n```sh\n{}\n```\n",
        m.regenerate
    );
    if m.command != m.regenerate {
        let _ = writeln!(
            out,
            "**This copy was written by a partial rerun** — `{}` — so it shows only what that \
             command measured.\n",
            m.command
        );
    }
    let _ = writeln!(
        out,
        "The bench starts each service as its own process (`pushpull store`, `pushpull inventory`, \
         the floor's `pushpull floor-hop`) on fresh databases, drives `POST /api/orders` with a \
         two-line order from a closed loop of *c* clients, and reads what happened from the \
         store's own rows. Every figure is measured, none is asserted by a test, and each is \
         written next to the floor's from the same run: `(0.42×)` is the figure ÷ the floor's at \
         the same concurrency. Absolute numbers drift between machines; quote the ratios.\n"
    );
    let _ = writeln!(out, "- date: {}", m.date);
    let _ = writeln!(out, "- machine: {}", m.machine);
    let _ = writeln!(
        out,
        "- load average (1 min): {} before, {} after",
        m.load_before, m.load_after
    );
    let _ = writeln!(out, "- build: {}", m.build);
    let _ = writeln!(
        out,
        "- each run: {} orders after a short warm-up; poll interval {} ms; idle watched for {} s",
        m.orders, m.poll_interval_ms, m.idle_seconds
    );
    if let Some(pg) = &m.postgres {
        let _ = writeln!(
            out,
            "- PostgreSQL: {pg}, a fresh database per service and run"
        );
    }
    let _ = writeln!(
        out,
        "- SQLite: a file per service, WAL, `synchronous = NORMAL`, one writer connection (`platform::db`)\n"
    );

    let _ = writeln!(out, "## Targets (issue #9)\n");
    let _ = writeln!(out, "{}", render_checks(&targets::evaluate(report)));

    let _ = writeln!(
        out,
        "## The floor\n\n\
         Two hops (`crates/pushpull/src/bench/floor.rs`), each its own process on the same stack as \
         the services (actix-web, reqwest, sqlx through `platform::Db`, the same database settings): \
         hop A inserts one row, forwards the body to hop B, which inserts one row, and A answers \
         after B's `200`. That is an order's trip with nothing else — the least any store → \
         inventory integration can do. Its placement and end-to-end latency are the same figure \
         (it answers after both writes); its CPU per request is hop A's and hop B's, set against \
         the store's and the inventory's.\n"
    );

    for backend in report.backends() {
        render_backend(&mut out, report, backend);
    }

    // Written from profiles (`ci/profile/`), not measured by this run.
    let _ = writeln!(out, "{}", include_str!("where_the_time_goes.md"));
    let _ = writeln!(
        out,
        "## Reading the numbers\n\n\
         - **Placement** is what the customer waits for. In api mode it includes the synchronous \
         call to the inventory — the only mode that cannot oversell. Webhook and poll modes \
         answer as soon as the order (and, for webhooks, its outbox event) is committed.\n\
         - **Resolved/s** and **end to end** count from the store's `created_at` to its \
         `resolved_at` (the compare page's figure): an order is done when its status is final, \
         not when it is accepted. With many clients, push and pull queue: the end-to-end figure \
         is then mostly waiting.\n\
         - **One at a time**: orders placed singly — the demo's situation, and what the \
         end-to-end figure of a pattern means without queueing. For polls, 60 orders about \
         seven to an interval, spaced so that each lands at a different sixtieth of the poll \
         cycle: their median wait is then the cycle's middle to within a sixtieth of it, \
         rather than by luck (random moments would leave the median of 60 some 60 ms either \
         way). Still a sixtieth: so the poll target is judged as interval/2 — the median wait \
         for a poll from a random moment, the pattern's own price — plus the time from the feed \
         read that carried each order to its final status, measured per order from the store's \
         message log; the sample's median is written beside it. For webhooks, one every 50 ms. (A closed loop at c=1 places \
         thousands of orders per interval, and a poll then carries all of them.)\n\
         - **Sender only** is the push pattern's producer alone: orders in, signed webhooks out \
         to a receiver that does nothing. *Last order → last delivery* is how far deliveries \
         trail intake when the burst ends.\n\
         - **CPU ms/order** is each process's user + system time (`/proc/<pid>/stat`) over the run \
         (trailing work included), divided by the orders; **peak RSS** is `VmHWM`; **idle** is \
         CPU while nothing happens (webhook mode, the poller paused).\n\
         - **Requests per order** counts every HTTP exchange the store logged (webhook attempts, \
         api calls, feed reads, acknowledgements); a poll that finds nothing still costs one.\n\
         - **History**: the same runs on a store whose database already holds that many \
         resolved orders (seeded by SQL before it starts; the inventory's poll cursor is set \
         past them).\n\
         - What the product does beyond the floor, per order: validation, pricing, an \
         idempotency record, the feed sequence, the outbox, the message log on both sides, \
         Standard Webhooks signing and verification, live events for the UI."
    );
    out
}

fn render_backend(out: &mut String, report: &Report, backend: Backend) {
    let _ = writeln!(out, "## {}\n", backend_title(backend));
    let runs: Vec<&Run> = report
        .runs
        .iter()
        .filter(|r| r.backend == backend)
        .collect();
    let floor = |c: usize| report.floor(backend, c);

    let modes: Vec<&&Run> = runs
        .iter()
        .filter(|r| {
            matches!(
                r.subject,
                Subject::Floor | Subject::Mode(_) | Subject::OneAtATime(_)
            )
        })
        .collect();
    if modes.iter().any(|r| r.subject != Subject::Floor) {
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
        for r in &modes {
            let f = if r.subject == Subject::Floor {
                None
            } else {
                floor(r.concurrency)
            };
            let cell_rate = |v: f64, fv: fn(&Run) -> f64| format!("{v:.0}{}", ratio(v, f.map(fv)));
            let cell_ms = |v: f64, fv: fn(&Run) -> f64| format!("{}{}", ms(v), ratio(v, f.map(fv)));
            let cell_cpu = |k: usize| {
                opt(r.cpu_ms[k], |v| {
                    format!("{v:.2}{}", ratio(v, f.and_then(|f| f.cpu_ms[k])))
                })
            };
            let _ = writeln!(
                out,
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
            );
        }
        let _ = writeln!(out);
    }

    let senders: Vec<&&Run> = runs
        .iter()
        .filter(|r| r.subject == Subject::Sender)
        .collect();
    if !senders.is_empty() {
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
            let f = floor(r.concurrency);
            let _ = writeln!(
                out,
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
            );
        }
        let _ = writeln!(out);
    }

    let footprints: Vec<&Footprint> = report
        .footprints
        .iter()
        .filter(|f| f.backend == backend)
        .collect();
    if !footprints.is_empty() {
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
        for f in footprints.iter() {
            // The store is set against hop A, the inventory against hop B.
            let reference = match f.service.as_str() {
                "store" | "store (sender only)" => floor_rss("floor hop A"),
                "inventory" => floor_rss("floor hop B"),
                _ => None,
            };
            let _ = writeln!(
                out,
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
                    ratio(k as f64, reference)
                )),
                opt(f.idle_cpu_percent, |p| format!("{p:.2}"))
            );
        }
        let _ = writeln!(out);
    }
}

/// The targets table's rows, as Markdown.
pub fn render_checks(checks: &[Check]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "| target | backend | measured | wanted | met |");
    let _ = writeln!(out, "|---|---|---|---|---|");
    for c in checks {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            c.what,
            c.backend.map(backend_title).unwrap_or("—"),
            c.measured,
            c.wanted,
            match c.met {
                Some(true) => "met",
                Some(false) => "**not met**",
                None => "not measured",
            }
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::Percentiles;
    use crate::results::Meta;
    use contract::IntegrationMode;

    fn p(p50: f64) -> Percentiles {
        Percentiles {
            p50,
            p90: p50 * 2.0,
            p99: p50 * 4.0,
            max: p50 * 5.0,
        }
    }

    pub fn sample_report() -> Report {
        let floor = |c: usize, rate: f64, lat: f64| Run {
            subject: Subject::Floor,
            concurrency: c,
            placed: 100,
            placed_per_s: rate,
            resolved_per_s: rate,
            placement: p(lat),
            end_to_end: p(lat),
            cpu_ms: [Some(0.1), Some(0.1)],
            outcome: "100 ok".into(),
            ..Run::default()
        };
        let api = Run {
            subject: Subject::Mode(IntegrationMode::Api),
            concurrency: 32,
            placed: 100,
            placed_per_s: 1000.0,
            resolved_per_s: 1000.0,
            placement: p(10.0),
            end_to_end: p(8.0),
            cpu_ms: [Some(0.4), Some(0.3)],
            requests_per_order: Some(1.0),
            outcome: "100 confirmed".into(),
            ..Run::default()
        };
        let sender = Run {
            subject: Subject::Sender,
            concurrency: 32,
            placed: 100,
            placed_per_s: 1500.0,
            resolved_per_s: 600.0,
            placement: p(5.0),
            end_to_end: p(900.0),
            lag_ms: Some(1200.0),
            cpu_ms: [Some(0.5), None],
            outcome: "100 succeeded".into(),
            ..Run::default()
        };
        Report {
            meta: Meta {
                regenerate: "cargo run --release -- bench".into(),
                command: "cargo run --release -- bench".into(),
                date: "2026-01-01T00:00:00.000Z".into(),
                machine: "2 cores, Test CPU".into(),
                load_before: "0.10".into(),
                load_after: "1.90".into(),
                build: "release".into(),
                orders: 100,
                poll_interval_ms: 1000,
                idle_seconds: 5.0,
                postgres: None,
            },
            runs: vec![floor(1, 2500.0, 0.4), floor(32, 4000.0, 8.0), api, sender],
            footprints: vec![
                Footprint {
                    backend: Backend::Sqlite,
                    history: 0,
                    service: "floor hop A".into(),
                    handled: 200,
                    peak_rss_kib: Some(10 * 1024),
                    idle_cpu_percent: None,
                },
                Footprint {
                    backend: Backend::Sqlite,
                    history: 0,
                    service: "store".into(),
                    handled: 24_000,
                    peak_rss_kib: Some(40 * 1024),
                    idle_cpu_percent: Some(0.25),
                },
            ],
        }
    }

    #[test]
    fn numbers_are_written_readably() {
        assert_eq!(ms(0.4321), "0.43");
        assert_eq!(ms(12.34), "12.3");
        assert_eq!(ms(3210.4), "3210");
        assert_eq!(thousands(200_000), "200,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(ratio(1.0, Some(4.0)), " (0.25×)");
        assert_eq!(ratio(40.0, Some(2.0)), " (20×)");
        assert_eq!(ratio(1.0, None), "");
        assert_eq!(ratio(1.0, Some(0.0)), "", "no division by a zero floor");
    }

    #[test]
    fn every_figure_stands_next_to_the_floor_of_its_concurrency() {
        let text = render(&sample_report());
        assert!(
            text.contains(
                "| empty | api | 32 | 1000 (0.25×) | 1000 (0.25×) | 10.0 (1.25×) | 20.0 (1.25×) | \
                 40.0 (1.25×) | 8.00 (1.00×) | 16.0 (1.00×) | 32.0 (1.00×) | 0.40 (4.00×) | \
                 0.30 (3.00×) | 1.00 | 100 confirmed |"
            ),
            "{text}"
        );
        assert!(
            text.contains("| — | floor | 32 | 4000 | 4000 | 8.00 | 16.0 | 32.0 |"),
            "{text}"
        );
        assert!(
            text.contains("| empty | 32 | 600 (0.15×) | 1500 (0.38×) | 5.00 (0.62×) | 900 (112×) | 1800 (112×) | 3600 (112×) | 1200 | 0.50 (5.00×) | 100 succeeded |"),
            "{text}"
        );
        assert!(
            text.contains("| store | empty | 24,000 | 40.0 (4.00×) | 0.25 |"),
            "{text}"
        );
    }

    #[test]
    fn the_report_states_its_conditions() {
        let mut report = sample_report();
        let text = render(&report);
        assert!(
            text.contains("```sh\ncargo run --release -- bench\n```"),
            "{text}"
        );
        assert!(text.contains("- machine: 2 cores, Test CPU"));
        assert!(text.contains("0.10 before, 1.90 after"));
        assert!(text.contains("## Where the time goes"));
        assert!(!text.contains("partial rerun"));
        assert!(!text.contains("../"), "nothing outside the repository");

        report.meta.command = "cargo run --release -- bench --mode api".into();
        assert!(
            render(&report).contains("partial rerun** — `cargo run --release -- bench --mode api`")
        );
    }
}
