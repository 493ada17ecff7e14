//! The flow page: both services' message logs side by side, live.
//!
//! The left column is the store's log, rendered here; the right column is
//! the inventory's log, which the page fetches from the inventory's own
//! `/fragments/flow` and refreshes on the inventory's own `/events` — the
//! store never reads the inventory's database, and the page shows each
//! message as each side recorded it. Every message appears twice, once on
//! the side that sent it and once on the side that received it, and its
//! arrow points the way the request travelled: `→` store to inventory
//! (webhook and api mode), `←` inventory to store (poll mode, on the
//! inventory's timer, empty or not). Between the columns, the script sends
//! a packet across "the wire" for each exchange as it happens.
//!
//! Without JavaScript the store's column is complete and the inventory's
//! is a link to its message log.
//!
//! **Empty polls.** The inventory polls the feed on its timer in every
//! mode, so left alone the store's column is mostly polls that brought
//! nothing for the poller. A line above the columns counts them over the
//! stretch the store's column shows (refreshed live on its own, so the two
//! lists still start level), and `?polls=hide` (a plain link, no script
//! needed; the live refresh keeps it) leaves them out — the forty messages
//! shown are then forty that did something.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use contract::{Channel, EventType, ExchangeId, IntegrationMode, OrderId, Party, Timestamp};
use platform::ui::{Layout, clock_time, count, duration_ms};

use super::shop::ModeBanner;
use super::{Data, PageError, fragment, layout, page};
use crate::catalog;
use crate::timeline::{self, Carried, ExchangeView};

/// How many messages each column shows.
pub const FLOW_LIMIT: i64 = 40;

/// The repository files that do what this page shows (drawn under it as
/// "How this works in the code"; the UI tests check that each exists).
pub const SOURCES: &[&str] = &[
    "crates/store/src/ui/flow.rs",
    "crates/store/src/timeline.rs",
    "crates/inventory/src/instruments/messages.rs",
    "crates/platform/src/live.rs",
    "templates/static/app.js",
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/flow", web::get().to(flow_page))
        .route("/fragments/flow", web::get().to(flow_fragment))
        .route(
            "/fragments/flow/empty-polls",
            web::get().to(empty_polls_fragment),
        );
}

/// One message in a column.
pub struct FlowItem {
    pub id: ExchangeId,
    /// `→` (store to inventory) or `←`.
    pub arrow: &'static str,
    pub arrow_class: &'static str,
    pub by: &'static str,
    /// From this column's point of view: `sent` or `received`.
    pub verb: &'static str,
    pub channel: Channel,
    pub method: String,
    pub path: String,
    pub status: String,
    pub failed: bool,
    pub latency: String,
    pub time: String,
    pub note: Option<String>,
    pub order_id: Option<OrderId>,
}

impl FlowItem {
    fn from_exchange(ex: &ExchangeView, carried: &[Carried]) -> FlowItem {
        let by_store = ex.initiator == Party::Store;
        let note = match ex.channel {
            Channel::Feed => {
                let polled = carried
                    .iter()
                    .filter(|c| c.mode == IntegrationMode::Poll)
                    .count();
                Some(match (carried.len() as i64, polled as i64) {
                    (0, _) => "empty poll: no orders".to_owned(),
                    // Orders, but none for the poller: not an empty poll
                    // for the store, an empty one for polling.
                    (n, 0) => format!(
                        "listed {}, none placed in poll mode: nothing for the poller",
                        count(n, "order")
                    ),
                    (n, p) if n == p => format!("carried {}", count(n, "poll-mode order")),
                    (n, p) => format!("listed {}, {p} of them in poll mode", count(n, "order")),
                })
            }
            Channel::Webhook if carried.is_empty() => Some(EventType::Ping.to_string()),
            Channel::Notify => Some("a thin notice: just the order id".to_owned()),
            Channel::Fetch => Some("fetching the order a notice named".to_owned()),
            Channel::Reconcile if ex.method == "GET" => Some(match carried.len() as i64 {
                0 => "reconciliation: no hybrid orders".to_owned(),
                n => format!("reconciliation: listed {}", count(n, "hybrid order")),
            }),
            Channel::Reconcile => Some("reconciliation: landed a lost notice's order".to_owned()),
            _ => None,
        };
        FlowItem {
            id: ex.id.clone(),
            arrow: if by_store { "→" } else { "←" },
            arrow_class: if by_store { "to-inventory" } else { "to-store" },
            by: if by_store { "by-store" } else { "by-inventory" },
            verb: if by_store { "sent" } else { "received" },
            channel: ex.channel,
            method: ex.method.clone(),
            path: url::Url::parse(&ex.url)
                .map(|u| u.path().to_owned())
                .unwrap_or_else(|_| ex.url.clone()),
            status: match (ex.response_status, &ex.error) {
                (Some(s), _) => s.to_string(),
                (None, _) => "no answer".to_owned(),
            },
            failed: ex.failed(),
            latency: duration_ms(ex.latency_ms),
            time: clock_time(ex.started_at.millis()),
            note,
            order_id: (carried.len() == 1).then(|| carried[0].order_id.clone()),
        }
    }
}

/// The flow page's and its fragment's query: `polls=hide` leaves the
/// empty polls out (any other value shows them).
#[derive(Deserialize)]
struct FlowQuery {
    polls: Option<String>,
}

impl FlowQuery {
    fn hide_empty_polls(&self) -> bool {
        self.polls.as_deref() == Some("hide")
    }
}

/// The store's column.
#[derive(Template)]
#[template(path = "store/fragments/flow.html")]
pub struct StoreColumn {
    pub items: Vec<FlowItem>,
    pub hide_empty_polls: bool,
    pub empty_polls: EmptyPolls,
}

impl askama::filters::HtmlSafe for StoreColumn {}

/// The count of empty polls, and the link that hides or shows them.
#[derive(Template)]
#[template(path = "store/fragments/flow_polls.html")]
pub struct EmptyPolls {
    pub hide_empty_polls: bool,
    /// Empty polls since the oldest message shown (all of them, when the
    /// list reaches back to the first message).
    pub count: i64,
    /// When the stretch counted starts, unless it is all of history.
    pub since: Option<String>,
}

impl askama::filters::HtmlSafe for EmptyPolls {}

impl StoreColumn {
    pub async fn load(app: &Data, hide_empty_polls: bool) -> Result<StoreColumn, sqlx::Error> {
        let recent =
            timeline::recent_with_orders(&app.ctx.db, FLOW_LIMIT, hide_empty_polls).await?;
        // Counted over the stretch the list covers — all of history when
        // the list reaches back to its start — so the count speaks of the
        // polls among (or hidden between) the messages shown.
        let oldest = if (recent.len() as i64) < FLOW_LIMIT {
            None
        } else {
            recent.last().map(|(ex, _)| ex.started_at)
        };
        let count =
            timeline::empty_polls_since(&app.ctx.db, oldest.unwrap_or(Timestamp(0))).await?;
        Ok(StoreColumn {
            items: recent
                .iter()
                .map(|(ex, carried)| FlowItem::from_exchange(ex, carried))
                .collect(),
            hide_empty_polls,
            empty_polls: EmptyPolls {
                hide_empty_polls,
                count,
                since: oldest.map(|t| clock_time(t.millis())),
            },
        })
    }

    /// The `?polls=` this column was drawn with, for its live refresh.
    pub fn query(&self) -> &'static str {
        if self.hide_empty_polls {
            "?polls=hide"
        } else {
            ""
        }
    }
}

#[derive(Template)]
#[template(path = "store/flow.html")]
pub struct FlowPage {
    pub layout: Layout,
    pub mode: ModeBanner,
    pub store: StoreColumn,
    pub inventory_url: String,
    /// For the "place a sample order" button.
    pub sample_sku: Option<String>,
    pub form_key: String,
}

async fn flow_page(
    app: Data,
    req: HttpRequest,
    query: web::Query<FlowQuery>,
) -> Result<HttpResponse, PageError> {
    let sample_sku = catalog::list(&app.ctx.db)
        .await?
        .into_iter()
        .next()
        .map(|p| p.sku);
    let template = FlowPage {
        layout: layout(&app, &req, "Flow").with_sources(SOURCES),
        mode: ModeBanner::load(&app).await?,
        store: StoreColumn::load(&app, query.hide_empty_polls()).await?,
        inventory_url: app
            .ctx
            .config
            .inventory_public_url
            .trim_end_matches('/')
            .to_owned(),
        sample_sku,
        form_key: format!("form-{}", uuid::Uuid::new_v4().simple()),
    };
    page(&app, StatusCode::OK, &template)
}

async fn flow_fragment(app: Data, query: web::Query<FlowQuery>) -> Result<HttpResponse, PageError> {
    fragment(&StoreColumn::load(&app, query.hide_empty_polls()).await?)
}

async fn empty_polls_fragment(
    app: Data,
    query: web::Query<FlowQuery>,
) -> Result<HttpResponse, PageError> {
    fragment(
        &StoreColumn::load(&app, query.hide_empty_polls())
            .await?
            .empty_polls,
    )
}
