//! `BENCHMARKS.md`, written from the [`Report`] of a run: the conditions,
//! the targets judged, the floor, each backend's tables (`tables`), then the
//! prose that does not change from run to run.
//!
//! Every figure is printed next to the floor's from the same run, as a
//! ratio (`(0.42×)` = the figure ÷ the floor's at the same concurrency), so
//! the file says how far the product is from what the machine can do, not
//! just how fast this machine happened to be. Rendering is a pure function
//! of [`Report`], so it is unit-tested without running anything.

mod format;
mod tables;

use std::fmt::Write as _;

pub use format::{backend_title, ms, ratio, thousands};

use super::results::{Meta, Report};
use super::targets::{self, Check};

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    render_conditions(&mut out, &report.meta);
    let _ = writeln!(out, "## Targets\n");
    let _ = writeln!(out, "{}", render_checks(&targets::evaluate(report)));
    let _ = writeln!(out, "{THE_FLOOR}");
    for backend in report.backends() {
        tables::render_backend(&mut out, report, backend);
    }
    // Written from profiles (`ci/profile/`), not measured by this run.
    let _ = writeln!(out, "{}", include_str!("where_the_time_goes.md"));
    let _ = writeln!(out, "{READING_THE_NUMBERS}");
    out
}

/// The title, how to regenerate the file, how it was measured, and under
/// which conditions.
fn render_conditions(out: &mut String, m: &Meta) {
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
    let _ = writeln!(out, "{HOW_IT_IS_MEASURED}");
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

/// How every figure below was taken, and how to read it against the floor.
const HOW_IT_IS_MEASURED: &str = "The bench starts each service as its own process (`pushpull store`, `pushpull inventory`, \
    the floor's `pushpull floor-hop`) on fresh databases, drives `POST /api/orders` with a \
    two-line order from a closed loop of *c* clients, and reads what happened from the \
    store's own rows. Every figure is measured, none is asserted by a test, and each is \
    written next to the floor's from the same run: `(0.42×)` is the figure ÷ the floor's at \
    the same concurrency. Absolute numbers drift between machines; quote the ratios.\n";

/// What the floor is, for the reader of the report (the code is `super::floor`).
const THE_FLOOR: &str = "## The floor\n\n\
    Two hops (`crates/bench/src/floor/`), each its own process on the same stack as \
    the services (actix-web, reqwest, sqlx through `platform::Db`, the same database settings): \
    hop A inserts one row, forwards the body to hop B, which inserts one row, and A answers \
    after B's `200`. That is an order's trip with nothing else — the least any store → \
    inventory integration can do. Its placement and end-to-end latency are the same figure \
    (it answers after both writes); its CPU per request is hop A's and hop B's, set against \
    the store's and the inventory's.\n";

/// What each figure means, and what the product does that the floor does not.
const READING_THE_NUMBERS: &str = "## Reading the numbers\n\n\
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
    Standard Webhooks signing and verification, live events for the UI.";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::Percentiles;
    use crate::results::{Footprint, Run, Subject};
    use contract::IntegrationMode;
    use platform::Backend;

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
