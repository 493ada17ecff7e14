//! The compare page: one chart per question — how fast, how many requests,
//! how much waste, how many failures — with the four modes side by side,
//! and the burst button that fills them with comparable orders.
//!
//! The figures cover a window the learner picks (`?window=reset`, the
//! default, or `?window=5|15|60` minutes) and the page says which; the
//! Reset button (`POST /compare/reset`, the operator's, refused cross-site
//! like every form) starts the "since reset" window now. Every chart
//! states its unit and a one-line definition beside the bars, not only in
//! the table behind "The numbers": a figure without its unit invites the
//! wrong comparison.
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
use platform::ui::{Layout, clock_time, count, duration_ms, see_other};

use super::charts::{Arrangement, BarChart, ChartBuilder, Legend, Value};
use super::{Data, PageError, fragment, layout, mode_info, notice, page};
use crate::error::StoreError;
use crate::instruments::burst::{self, Burst, BurstError};
use crate::instruments::comparison::{self, Comparison, MINUTE_WINDOWS, Span, Window};

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
        .route("/compare/reset", web::post().to(reset_figures))
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
                format!("p50 {} · p95 {}", duration_ms(s.p50), duration_ms(s.p95)),
                vec![
                    slug.to_owned(),
                    s.count.to_string(),
                    s.p50.to_string(),
                    s.p95.to_string(),
                    s.max.to_string(),
                ],
            ),
            None => (
                vec![bar(0.0, format!("bar mode-{slug}"))],
                "no resolved orders in this window".to_owned(),
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
    chart
        .build(
            "latency",
            "Placed → resolved: how long until the store knew the outcome",
            "Median (solid) and 95th percentile (light) time from placing an order to its confirmation, rejection or backorder, per mode.",
            vec![
                Legend { class: "", label: "p50 (median)" },
                Legend { class: "light", label: "p95" },
            ],
            vec![
                "Mode",
                "Resolved orders",
                "p50, ms",
                "p95, ms",
                "Slowest, ms",
            ],
        )
        .defined(
            "milliseconds",
            "end to end p50 and p95 — ms from placed to resolved (confirmed, rejected or backordered), over the orders placed in the window",
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
            (None, 0) => "no orders in this window".to_owned(),
            (None, e) => format!("no orders in this window, but {requests} ({e} empty polls)"),
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
    chart
        .build(
            "requests",
            "Requests per order",
            "Requests each mode made for its orders — for polling, every poll charged to it, the empty ones included; for hybrid, the notice, the fetch and every reconciliation read charged to it — divided by the orders placed in that mode (light); solid, without the empty polls.",
            vec![
                Legend { class: "light", label: "all requests, empty polls included" },
                Legend { class: "", label: "requests that brought an order" },
            ],
            vec!["Mode", "Orders", "Requests", "Empty polls", "Requests per order"],
        )
        .defined(
            "requests per order",
            "requests per order — HTTP requests between the services per order placed in the window, polls charged to the mode included",
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
            IntegrationMode::Poll if c.feed.uncharged > 0 => format!(
                "{empty} of {} found nothing; {} more made in other modes, charged to no one",
                count(reads, "poll"),
                c.feed.uncharged
            ),
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
    chart
        .build(
            "polls",
            "Empty polls: asking when there was nothing to get",
            "Feed reads by the inventory charged to polling (light) and, of those, the ones that carried no poll-mode order (solid). Webhook and api mode are push: the store starts those, so they never poll.",
            vec![
                Legend { class: "light", label: "feed reads charged to polling" },
                Legend { class: "", label: "empty" },
            ],
            vec!["Mode", "Feed reads", "Empty"],
        )
        .defined(
            "feed reads",
            "empty polls — feed reads in the window, made in poll mode, that carried no poll-mode order",
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
    chart
        .build(
            "failures",
            "Failures and retries",
            "Messages of each mode that got no 2xx answer (red), and messages that repeated an earlier one: webhook retries and redeliveries, api calls retried under the same key, feed pages read again.",
            vec![
                Legend { class: "bad", label: "failed (no 2xx)" },
                Legend { class: "", label: "retries" },
            ],
            vec!["Mode", "Failed messages", "Retried messages"],
        )
        .defined(
            "messages",
            "failed — messages sent in the window with no 2xx answer; retried — messages that repeated an earlier one",
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
    /// Which window the figures cover, in words.
    pub window: String,
    pub total_orders: i64,
    pub outcomes: Vec<OutcomeRow>,
    pub latency: BarChart,
    pub requests: BarChart,
    pub polls: BarChart,
    pub failures: BarChart,
}

impl askama::filters::HtmlSafe for Charts {}

impl Charts {
    pub async fn load(app: &Data, window: Window) -> Result<Charts, sqlx::Error> {
        let span = window.span(&app.ctx.db, app.ctx.clock.now()).await?;
        let c = comparison::compare(&app.ctx.db, span).await?;
        Ok(Charts {
            window: describe(&span),
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

/// The window in words, as the page announces it.
pub fn describe(span: &Span) -> String {
    match (span.window, span.reset_at) {
        (Window::SinceReset, Some(at)) => {
            format!("since the reset at {} UTC", clock_time(at.millis()))
        }
        (Window::SinceReset, None) => "since the first order (never reset)".to_owned(),
        (Window::LastMinutes(n), _) => format!("the last {n} minutes"),
    }
}

/// The `window=` parameter of the page and its fragment: "since reset"
/// when absent; a window the page does not offer is a 400, not a guess.
fn parse_window(param: Option<&str>) -> Result<Window, PageError> {
    match param {
        None | Some("") => Ok(Window::SinceReset),
        Some(text) => Window::parse(text).ok_or_else(|| {
            PageError::Service(StoreError::invalid(
                "window",
                "the window is `reset` or a number of minutes: 5, 15 or 60",
            ))
        }),
    }
}

#[derive(Deserialize)]
struct WindowQuery {
    window: Option<String>,
}

async fn charts_fragment(
    app: Data,
    query: web::Query<WindowQuery>,
) -> Result<HttpResponse, PageError> {
    fragment(&Charts::load(&app, parse_window(query.window.as_deref())?).await?)
}

/// Starts the "since reset" window now, and shows it.
async fn reset_figures(_: Operator, app: Data) -> Result<HttpResponse, PageError> {
    comparison::reset(&app.ctx.db, app.ctx.clock.now()).await?;
    Ok(see_other("/compare?window=reset&notice=compare-reset"))
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
    /// The `window=` parameter the figures were read with.
    pub window: String,
    pub windows: Vec<WindowChoice>,
}

/// One of the windows the page offers.
pub struct WindowChoice {
    pub param: String,
    pub label: String,
    pub current: bool,
}

#[derive(Deserialize)]
struct PageQuery {
    notice: Option<String>,
    window: Option<String>,
}

async fn compare_page(
    app: Data,
    req: HttpRequest,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, PageError> {
    let window = parse_window(query.window.as_deref())?;
    let windows = std::iter::once(Window::SinceReset)
        .chain(MINUTE_WINDOWS.iter().map(|n| Window::LastMinutes(*n)))
        .map(|w| WindowChoice {
            param: w.param(),
            label: match w {
                Window::SinceReset => "since reset".to_owned(),
                Window::LastMinutes(n) => format!("last {n} min"),
            },
            current: w == window,
        })
        .collect();
    let template = ComparePage {
        layout: layout(&app, &req, "Compare")
            .with_sources(SOURCES)
            .with_notice(notice(query.notice.as_deref())),
        burst: BurstPanel::load(&app).await?,
        charts: Charts::load(&app, window).await?,
        per_mode: burst::Plan::default().per_mode,
        window: window.param(),
        windows,
    };
    page(&app, StatusCode::OK, &template)
}
