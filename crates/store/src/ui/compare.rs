//! The compare page: one chart per question — how fast, how many requests,
//! how much waste, how many failures — with the four modes side by side,
//! and the burst button that fills them with comparable orders.
//!
//! The figures come from `crate::instruments::comparison` (queries over the
//! orders and the message log) and the charts are SVG drawn by
//! [`super::charts`]. The burst runs in the background
//! (`crate::instruments::burst`); the button's form answers
//! at once with a redirect, and the progress panel follows the burst through
//! `burst.progress` events. Without JavaScript the page refreshes itself
//! while a burst runs.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use contract::IntegrationMode;
use platform::guard::Operator;
use platform::ui::{Layout, count, duration_ms, see_other};

use super::charts::{Arrangement, BarChart, ChartBuilder, Legend, Value};
use super::{Data, PageError, fragment, layout, mode_info, notice, page};
use crate::instruments::burst::{self, Burst, BurstError};
use crate::instruments::comparison::{self, Comparison};

/// The repository files that do what this page shows (drawn under it as
/// "How this works in the code"; the UI tests check that each exists).
pub const SOURCES: &[&str] = &[
    "crates/store/src/ui/compare.rs",
    "crates/store/src/instruments/comparison.rs",
    "crates/store/src/instruments/burst.rs",
    "crates/store/src/ui/charts.rs",
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/compare", web::get().to(compare_page))
        .route("/compare/burst", web::post().to(start_burst))
        .route("/fragments/compare/charts", web::get().to(charts_fragment))
        .route("/fragments/compare/burst", web::get().to(burst_fragment));
}

// ---------------------------------------------------------------------------
// The charts.
// ---------------------------------------------------------------------------

fn bar(amount: f64, class: String) -> Value {
    Value { amount, class }
}

fn latency_chart(c: &Comparison) -> BarChart {
    let mut chart = ChartBuilder::new(Arrangement::Overlaid);
    for m in &c.modes {
        let slug = m.mode.as_str();
        let (values, text, table) = match m.latency {
            Some(s) => (
                vec![
                    bar(s.p95 as f64, format!("bar mode-{slug} light")),
                    bar(s.p50 as f64, format!("bar mode-{slug}")),
                ],
                format!("median {} · p95 {}", duration_ms(s.p50), duration_ms(s.p95)),
                vec![
                    slug.to_owned(),
                    s.count.to_string(),
                    duration_ms(s.p50),
                    duration_ms(s.p95),
                    duration_ms(s.max),
                ],
            ),
            None => (
                vec![bar(0.0, format!("bar mode-{slug}"))],
                "no resolved orders yet".to_owned(),
                vec![
                    slug.to_owned(),
                    "0".into(),
                    "—".into(),
                    "—".into(),
                    "—".into(),
                ],
            ),
        };
        chart = chart.row(mode_info(m.mode).name, values, text, table);
    }
    chart.build(
        "latency",
        "Placed → resolved: how long until the store knew the outcome",
        "Median (solid) and 95th percentile (light) time from placing an order to its confirmation, rejection or backorder, per mode.",
        vec![
            Legend { class: "", label: "median" },
            Legend { class: "light", label: "95th percentile" },
        ],
        vec!["Mode", "Resolved orders", "Median", "95th percentile", "Slowest"],
    )
}

fn requests_chart(c: &Comparison) -> BarChart {
    let mut chart = ChartBuilder::new(Arrangement::Overlaid);
    for m in &c.modes {
        let slug = m.mode.as_str();
        // Polling's empty polls are requests too: the light bar counts
        // them, the solid one only the requests that brought something.
        let empty = if m.mode == IntegrationMode::Poll {
            c.feed.empty
        } else {
            0
        };
        let per = m.requests_per_order();
        let useful = (m.orders > 0).then(|| (m.requests - empty) as f64 / m.orders as f64);
        let requests = count(m.requests, "request");
        let text = match (per, empty) {
            (Some(p), 0) => format!(
                "{p:.1} per order: {requests} for {}",
                count(m.orders, "order")
            ),
            (Some(p), e) => format!(
                "{p:.1} per order: {requests} for {}, {e} of them empty polls",
                count(m.orders, "order")
            ),
            (None, 0) => "no orders yet".to_owned(),
            (None, e) => format!("no orders yet, but {requests} ({e} empty polls)"),
        };
        chart = chart.row(
            mode_info(m.mode).name,
            vec![
                bar(per.unwrap_or(0.0), format!("bar mode-{slug} light")),
                bar(useful.unwrap_or(0.0), format!("bar mode-{slug}")),
            ],
            text,
            vec![
                slug.to_owned(),
                m.orders.to_string(),
                m.requests.to_string(),
                empty.to_string(),
                per.map(|p| format!("{p:.2}")).unwrap_or_else(|| "—".into()),
            ],
        );
    }
    chart.build(
        "requests",
        "Requests per order",
        "Requests each mode made for its orders — for polling, every poll, the empty ones included; for hybrid, the notice, the fetch and every reconciliation read — divided by the orders placed in that mode (light); solid, without the empty polls.",
        vec![
            Legend { class: "light", label: "all requests, empty polls included" },
            Legend { class: "", label: "requests that brought an order" },
        ],
        vec!["Mode", "Orders", "Requests", "Empty polls", "Per order"],
    )
}

fn polls_chart(c: &Comparison) -> BarChart {
    let mut chart = ChartBuilder::new(Arrangement::Overlaid);
    for m in &c.modes {
        let slug = m.mode.as_str();
        let (reads, empty) = if m.mode == IntegrationMode::Poll {
            (c.feed.reads, c.feed.empty)
        } else {
            (0, 0)
        };
        let text = match m.mode {
            IntegrationMode::Poll => format!("{empty} of {} found nothing", count(reads, "poll")),
            // Its slow reconciliation reads are counted with its requests.
            IntegrationMode::Hybrid => "no polls: a reconciliation every minute instead".to_owned(),
            IntegrationMode::Webhook | IntegrationMode::Api => "never polls: 0".to_owned(),
        };
        chart = chart.row(
            mode_info(m.mode).name,
            vec![
                bar(reads as f64, format!("bar mode-{slug} light")),
                bar(empty as f64, format!("bar mode-{slug}")),
            ],
            text,
            vec![slug.to_owned(), reads.to_string(), empty.to_string()],
        );
    }
    chart.build(
        "polls",
        "Empty polls: asking when there was nothing to get",
        "Feed reads by the inventory (light) and, of those, the ones that carried no poll-mode order (solid). Webhook and api mode are push: the store starts those, so they never poll.",
        vec![
            Legend { class: "light", label: "all feed reads" },
            Legend { class: "", label: "empty" },
        ],
        vec!["Mode", "Feed reads", "Empty"],
    )
}

fn failures_chart(c: &Comparison) -> BarChart {
    let mut chart = ChartBuilder::new(Arrangement::Grouped);
    for m in &c.modes {
        let slug = m.mode.as_str();
        chart = chart.row(
            mode_info(m.mode).name,
            vec![
                bar(m.failed as f64, "bar bad".into()),
                bar(m.retries as f64, format!("bar mode-{slug}")),
            ],
            format!("{} failed · {} retried", m.failed, m.retries),
            vec![slug.to_owned(), m.failed.to_string(), m.retries.to_string()],
        );
    }
    chart.build(
        "failures",
        "Failures and retries",
        "Messages of each mode that got no 2xx answer (red), and messages that repeated an earlier one: webhook retries and redeliveries, api calls retried under the same key, feed pages read again.",
        vec![
            Legend { class: "bad", label: "failed (no 2xx)" },
            Legend { class: "", label: "retries" },
        ],
        vec!["Mode", "Failed", "Retries"],
    )
}

/// An outcome count for the summary table.
pub struct OutcomeRow {
    pub mode: &'static str,
    pub name: &'static str,
    pub orders: i64,
    pub confirmed: i64,
    pub rejected: i64,
    pub backordered: i64,
    pub pending: i64,
}

#[derive(Template)]
#[template(path = "store/fragments/charts.html")]
pub struct Charts {
    pub total_orders: i64,
    pub outcomes: Vec<OutcomeRow>,
    pub latency: BarChart,
    pub requests: BarChart,
    pub polls: BarChart,
    pub failures: BarChart,
}

impl askama::filters::HtmlSafe for Charts {}

impl Charts {
    pub async fn load(app: &Data) -> Result<Charts, sqlx::Error> {
        let c = comparison::compare(&app.ctx.db).await?;
        Ok(Charts {
            total_orders: c.total_orders(),
            outcomes: c
                .modes
                .iter()
                .map(|m| OutcomeRow {
                    mode: m.mode.as_str(),
                    name: mode_info(m.mode).name,
                    orders: m.orders,
                    confirmed: m.confirmed,
                    rejected: m.rejected,
                    backordered: m.backordered,
                    pending: m.pending,
                })
                .collect(),
            latency: latency_chart(&c),
            requests: requests_chart(&c),
            polls: polls_chart(&c),
            failures: failures_chart(&c),
        })
    }
}

async fn charts_fragment(app: Data) -> Result<HttpResponse, PageError> {
    fragment(&Charts::load(&app).await?)
}

// ---------------------------------------------------------------------------
// The burst.
// ---------------------------------------------------------------------------

pub struct StepView {
    pub mode: &'static str,
    pub name: &'static str,
    pub state: &'static str,
    pub placed: usize,
    pub resolved: usize,
    pub total: usize,
    pub elapsed: String,
    pub finished: bool,
}

#[derive(Template)]
#[template(path = "store/fragments/burst.html")]
pub struct BurstPanel {
    pub running: bool,
    pub percent: usize,
    pub done: usize,
    pub total: usize,
    pub steps: Vec<StepView>,
    pub problem: Option<String>,
    pub restore_mode: Option<&'static str>,
    pub finished: bool,
}

impl askama::filters::HtmlSafe for BurstPanel {}

impl BurstPanel {
    pub fn from_burst(burst: Option<&Burst>) -> BurstPanel {
        let Some(b) = burst else {
            return BurstPanel {
                running: false,
                percent: 0,
                done: 0,
                total: 0,
                steps: Vec::new(),
                problem: None,
                restore_mode: None,
                finished: false,
            };
        };
        let (done, total) = b.progress();
        BurstPanel {
            running: b.running,
            percent: b.percent(),
            done,
            total,
            steps: b
                .steps
                .iter()
                .map(|s| StepView {
                    mode: s.mode.as_str(),
                    name: mode_info(s.mode).name,
                    state: s.state.label(),
                    placed: s.placed,
                    resolved: s.resolved,
                    total: s.total,
                    elapsed: duration_ms(s.elapsed_ms),
                    finished: matches!(
                        s.state,
                        burst::StepState::Done | burst::StepState::TimedOut
                    ),
                })
                .collect(),
            problem: b.problem.clone(),
            restore_mode: Some(b.restore_mode.as_str()),
            finished: !b.running,
        }
    }

    pub async fn load(app: &Data) -> Result<BurstPanel, sqlx::Error> {
        Ok(BurstPanel::from_burst(
            burst::current(&app.ctx.db).await?.as_ref(),
        ))
    }
}

async fn burst_fragment(app: Data) -> Result<HttpResponse, PageError> {
    fragment(&BurstPanel::load(&app).await?)
}

async fn start_burst(_: Operator, app: Data) -> Result<HttpResponse, PageError> {
    match burst::start(app.into_inner(), burst::Plan::default()).await {
        Ok(_) => Ok(see_other("/compare?notice=burst-started#burst")),
        Err(BurstError::AlreadyRunning) => Ok(see_other("/compare?notice=burst-running#burst")),
        Err(BurstError::NoProducts) => Err(PageError::NotFound(
            "The catalog is empty: there is nothing to order.".into(),
        )),
        Err(BurstError::Database(e)) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------
// The page.
// ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "store/compare.html")]
pub struct ComparePage {
    pub layout: Layout,
    pub burst: BurstPanel,
    pub charts: Charts,
    pub per_mode: usize,
}

#[derive(Deserialize)]
struct PageQuery {
    notice: Option<String>,
}

async fn compare_page(
    app: Data,
    req: HttpRequest,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, PageError> {
    let template = ComparePage {
        layout: layout(&app, &req, "Compare")
            .with_sources(SOURCES)
            .with_notice(notice(query.notice.as_deref())),
        burst: BurstPanel::load(&app).await?,
        charts: Charts::load(&app).await?,
        per_mode: burst::Plan::default().per_mode,
    };
    page(&app, StatusCode::OK, &template)
}
