//! The poller's controls: pause, resume, change the interval, poll now —
//! and the state a consumer keeps in pull mode, its cursor.
//!
//! The controls are drawn by one fragment, [`PollerPanel`], shown on this
//! inventory's `/poller` page and inside the store's settings page (the
//! poller is the inventory's, but a learner switching the store to poll
//! mode wants its timer at hand). Its forms therefore post to this
//! inventory's absolute URL, and carry `back=store` when they were shown by
//! the store, so the browser is sent back there afterwards — to a fixed
//! page of the configured store, never to an address taken from the form.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use platform::guard::Operator;
use platform::ui::{Layout, Notice, clock_time, count, duration_ms, see_other};

use contract::Channel;

use super::messages::verdict_tone;
use super::{Data, PageError, fragment, layout, notice, page, store_url};
use crate::config::MAX_POLL_WAIT;
use crate::instruments::messages::{self, Selection};
use crate::integration::poller::cursor::{self, MAX_INTERVAL_MS, MIN_INTERVAL_MS};

/// The repository files that do what this page shows (drawn under it as
/// "How this works in the code"; the UI tests check that each exists).
pub const SOURCES: &[&str] = &[
    "crates/inventory/src/ui/poller.rs",
    "crates/inventory/src/integration/poller/mod.rs",
    "crates/inventory/src/integration/poller/worker.rs",
    "crates/inventory/src/integration/poller/cursor.rs",
    "crates/inventory/src/instruments/poll_cost.rs",
    "crates/store/src/integration/poll.rs",
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/poller", web::get().to(poller_page))
        .route("/poller", web::post().to(change))
        .route("/poller/poll-now", web::post().to(poll_now))
        .route("/poller/reconciliation", web::post().to(reconciliation))
        .route("/fragments/poller", web::get().to(poller_fragment));
}

/// Recent polls listed under the controls.
pub const RECENT_POLLS: i64 = 8;

pub struct PollRow {
    pub id: String,
    pub time: String,
    pub verdict: String,
    pub tone: &'static str,
    pub latency: String,
}

#[derive(Template)]
#[template(path = "inventory/fragments/poller.html")]
pub struct PollerPanel {
    pub paused: bool,
    pub interval_ms: i64,
    pub interval: String,
    /// The interval as typed in seconds (`5`, `0.5`).
    pub interval_s: String,
    pub interval_error: Option<String>,
    /// Long polling: seconds the store may hold an empty read (0: off).
    pub wait_s: i64,
    pub wait_error: Option<String>,
    pub cursor: String,
    pub recent: Vec<PollRow>,
    /// This inventory's public address: the forms' target.
    pub action_base: String,
    /// `store` when shown on the store's page.
    pub back: Option<&'static str>,
}

impl askama::filters::HtmlSafe for PollerPanel {}

/// An interval typed in seconds (`5`, `0.5`, `0,5`), in milliseconds, if
/// it is one a person may set.
fn interval_ms(typed: &str) -> Option<i64> {
    typed
        .trim()
        .replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite())
        .map(|s| (s * 1000.0).round() as i64)
        .filter(|ms| (MIN_INTERVAL_MS..=MAX_INTERVAL_MS).contains(ms))
}

fn seconds_text(ms: i64) -> String {
    let s = format!("{:.2}", ms as f64 / 1000.0);
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

impl PollerPanel {
    pub async fn load(app: &Data, back: Option<&'static str>) -> Result<PollerPanel, sqlx::Error> {
        let state = cursor::load(&app.ctx.db, cursor::Feed::Poll).await?;
        let feed = Selection {
            channel: Some(Channel::Feed),
            order_id: None,
        };
        let recent = messages::recent(&app.ctx.db, feed, RECENT_POLLS)
            .await?
            .into_iter()
            .map(|m| PollRow {
                tone: verdict_tone(m.verdict().kind),
                time: clock_time(m.at.millis()),
                latency: duration_ms(m.latency_ms),
                verdict: m.verdict().to_string(),
                id: m.id.to_string(),
            })
            .collect();
        Ok(PollerPanel {
            paused: state.paused,
            interval_ms: state.interval_ms,
            interval: duration_ms(state.interval_ms),
            interval_s: seconds_text(state.interval_ms),
            interval_error: None,
            wait_s: state.long_poll().map_or(0, |w| w.as_secs() as i64),
            wait_error: None,
            cursor: state.cursor,
            recent,
            action_base: app.ctx.config.public_url.trim_end_matches('/').to_owned(),
            back,
        })
    }

    pub fn min_s(&self) -> String {
        seconds_text(MIN_INTERVAL_MS)
    }

    pub fn max_s(&self) -> String {
        seconds_text(MAX_INTERVAL_MS)
    }

    /// What an interval typed into either form must be.
    fn interval_rule(&self) -> String {
        format!(
            "an interval in seconds, from {} to {}",
            self.min_s(),
            self.max_s()
        )
    }

    /// The long-poll waits the form offers: off, then a few up to the most.
    pub fn wait_choices(&self) -> Vec<(i64, String)> {
        let max = MAX_POLL_WAIT.as_secs() as i64;
        std::iter::once((0, "off".to_owned()))
            .chain([5, 10, 20, max].map(|s| (s, format!("hold up to {s} s"))))
            .collect()
    }
}

#[derive(Deserialize, Default)]
struct BackQuery {
    back: Option<String>,
    notice: Option<String>,
    requests: Option<u32>,
    empty: Option<u32>,
    applied: Option<u32>,
}

/// Only one other page may be returned to: the store's settings.
fn back_target(back: Option<&str>) -> Option<&'static str> {
    (back == Some("store")).then_some("store")
}

async fn poller_fragment(
    app: Data,
    query: web::Query<BackQuery>,
) -> Result<HttpResponse, PageError> {
    fragment(&PollerPanel::load(&app, back_target(query.back.as_deref())).await?)
}

#[derive(Template)]
#[template(path = "inventory/poller.html")]
pub struct PollerPage {
    pub layout: Layout,
    pub panel: PollerPanel,
    pub store_url: String,
    /// Hybrid mode's reconciliation: the same machinery, its own cursor.
    pub reconciler: cursor::PollerState,
    /// Its interval as typed in seconds, and why it was refused.
    pub reconcile_interval_s: String,
    pub reconcile_error: Option<String>,
}

async fn render(
    app: &Data,
    req: &HttpRequest,
    status: StatusCode,
    panel: PollerPanel,
    notice: Option<Notice>,
) -> Result<HttpResponse, PageError> {
    page(app, status, &poller_page_of(app, req, panel, notice).await?)
}

/// The page around `panel`, with the reconciliation as it stands.
async fn poller_page_of(
    app: &Data,
    req: &HttpRequest,
    panel: PollerPanel,
    notice: Option<Notice>,
) -> Result<PollerPage, PageError> {
    let reconciler = cursor::load(&app.ctx.db, cursor::Feed::Reconcile).await?;
    Ok(PollerPage {
        layout: layout(app, req, "Poller")
            .with_sources(SOURCES)
            .with_notice(notice),
        panel,
        store_url: store_url(app),
        reconcile_interval_s: seconds_text(reconciler.interval_ms),
        reconciler,
        reconcile_error: None,
    })
}

async fn poller_page(
    app: Data,
    req: HttpRequest,
    query: web::Query<BackQuery>,
) -> Result<HttpResponse, PageError> {
    let query = query.into_inner();
    let notice = match query.notice.as_deref() {
        Some("polled") => Some(Notice::success(format!(
            "Polled now: {} to the store, {} found nothing new, {} applied.",
            count(query.requests.unwrap_or(0).into(), "request"),
            query.empty.unwrap_or(0),
            count(query.applied.unwrap_or(0).into(), "order")
        ))),
        other => notice(other),
    };
    let panel = PollerPanel::load(&app, None).await?;
    render(&app, &req, StatusCode::OK, panel, notice).await
}

fn after(app: &Data, back: Option<&str>, own: &str) -> HttpResponse {
    match back_target(back) {
        Some(_) => see_other(&format!("{}/settings?notice=poller#poller", store_url(app))),
        None => see_other(own),
    }
}

/// Which button of the form was pressed.
#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum Change {
    Pause,
    Resume,
    /// Long polling on (`wait_s` seconds) or off (0).
    #[serde(rename = "long_poll")]
    LongPoll,
    /// "Set": read `interval_s` (also what any other word means).
    #[serde(other)]
    Interval,
}

#[derive(Deserialize)]
struct ChangeFields {
    action: Change,
    #[serde(default)]
    interval_s: String,
    #[serde(default)]
    wait_s: String,
    back: Option<String>,
}

async fn change(
    _: Operator,
    app: Data,
    req: HttpRequest,
    form: web::Form<ChangeFields>,
) -> Result<HttpResponse, PageError> {
    let fields = form.into_inner();
    let (poller, ctx) = (&app.poller, &app.ctx);
    match fields.action {
        Change::Pause => {
            let pause = cursor::Change {
                paused: Some(true),
                ..Default::default()
            };
            poller.configure(ctx, pause).await?;
        }
        Change::Resume => {
            let resume = cursor::Change {
                paused: Some(false),
                ..Default::default()
            };
            poller.configure(ctx, resume).await?;
        }
        Change::LongPoll => {
            // The choices are the form's own (off, or 1 to 30 s): anything
            // else is not a choice it offered, so it changes nothing.
            let max = MAX_POLL_WAIT.as_secs() as i64;
            let Some(s) = fields
                .wait_s
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|s| (0..=max).contains(s))
            else {
                let mut panel = PollerPanel::load(&app, None).await?;
                panel.wait_error = Some(format!("off, or 1 to {max} seconds"));
                return render(&app, &req, StatusCode::UNPROCESSABLE_ENTITY, panel, None).await;
            };
            let wait = cursor::Change {
                wait_ms: Some(s * 1000),
                ..Default::default()
            };
            poller.configure(ctx, wait).await?;
        }
        Change::Interval => match interval_ms(&fields.interval_s) {
            Some(ms) => {
                let interval = cursor::Change {
                    interval_ms: Some(ms),
                    ..Default::default()
                };
                poller.configure(ctx, interval).await?;
            }
            None => {
                let mut panel = PollerPanel::load(&app, None).await?;
                panel.interval_s = fields.interval_s;
                panel.interval_error = Some(panel.interval_rule());
                return render(&app, &req, StatusCode::UNPROCESSABLE_ENTITY, panel, None).await;
            }
        },
    }
    Ok(after(&app, fields.back.as_deref(), "/poller?notice=poller"))
}

#[derive(Deserialize)]
struct PollNowFields {
    back: Option<String>,
}

async fn poll_now(
    _: Operator,
    app: Data,
    form: web::Form<PollNowFields>,
) -> Result<HttpResponse, PageError> {
    let own = match app.poller.poll_cycle(&app.ctx).await {
        Ok(r) => format!(
            "/poller?notice=polled&requests={}&empty={}&applied={}",
            r.requests, r.empty_requests, r.orders_applied
        ),
        Err(e) => {
            tracing::warn!(error = %e, "a poll started from the UI failed");
            "/poller?notice=poll-failed".to_owned()
        }
    };
    Ok(after(&app, form.back.as_deref(), &own))
}

/// Which button of the reconciliation's form was pressed.
#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum Reconcile {
    Pause,
    Resume,
    Now,
    /// "Set": read `interval_s` (also what any other word means).
    #[serde(other)]
    Interval,
}

#[derive(Deserialize)]
struct ReconcileFields {
    action: Reconcile,
    #[serde(default)]
    interval_s: String,
}

/// `POST /poller/reconciliation`: hybrid mode's reconciliation paused,
/// resumed, paced, or run now — the poller's controls, for its own cursor.
async fn reconciliation(
    _: Operator,
    app: Data,
    req: HttpRequest,
    form: web::Form<ReconcileFields>,
) -> Result<HttpResponse, PageError> {
    let fields = form.into_inner();
    let (reconciler, ctx) = (&app.reconciler, &app.ctx);
    let change = match fields.action {
        Reconcile::Pause => cursor::Change {
            paused: Some(true),
            ..Default::default()
        },
        Reconcile::Resume => cursor::Change {
            paused: Some(false),
            ..Default::default()
        },
        Reconcile::Now => {
            let notice = match reconciler.poll_cycle(ctx).await {
                Ok(_) => "reconciled",
                Err(e) => {
                    tracing::warn!(error = %e, "a reconciliation started from the UI failed");
                    "reconcile-failed"
                }
            };
            return Ok(see_other(&format!(
                "/poller?notice={notice}#reconciliation"
            )));
        }
        Reconcile::Interval => match interval_ms(&fields.interval_s) {
            Some(ms) => cursor::Change {
                interval_ms: Some(ms),
                ..Default::default()
            },
            None => {
                let panel = PollerPanel::load(&app, None).await?;
                let error = panel.interval_rule();
                let mut template = poller_page_of(&app, &req, panel, None).await?;
                template.reconcile_interval_s = fields.interval_s;
                template.reconcile_error = Some(error);
                return page(&app, StatusCode::UNPROCESSABLE_ENTITY, &template);
            }
        },
    };
    reconciler.configure(ctx, change).await?;
    Ok(see_other("/poller?notice=reconciler#reconciliation"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_read_as_seconds() {
        assert_eq!(seconds_text(5000), "5");
        assert_eq!(seconds_text(250), "0.25");
        assert_eq!(seconds_text(1500), "1.5");
        assert_eq!(seconds_text(3_600_000), "3600");
    }

    #[test]
    fn only_the_store_is_a_way_back() {
        assert_eq!(back_target(Some("store")), Some("store"));
        assert_eq!(back_target(Some("http://evil.example")), None);
        assert_eq!(back_target(None), None);
    }
}
