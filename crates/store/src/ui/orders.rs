//! The orders: the list of every order and its status, and one order's
//! page — its sequence diagram and every message that carried it, as the
//! message log (`timeline`) recorded them.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use contract::order::Order;
use contract::{IntegrationMode, OrderId, OrderStatus};
use platform::ui::{Layout, clock_time, date_time, keep_units_together, money};

use super::diagram::SequenceDiagram;
use super::order_progress::OrderProgress;
use super::{Data, ModeInfo, PageError, fragment, layout, mode_info, notice, page};
use crate::orders;
use crate::timeline::{self, mode_of};

/// The repository files that do what the list of orders shows (drawn
/// under it as "How this works in the code"; the UI tests check that each
/// exists).
pub const LIST_SOURCES: &[&str] = &[
    "crates/store/src/ui/orders.rs",
    "crates/store/src/orders.rs",
];

/// The repository files that show how one order travelled: the page and
/// its message log, then the two halves of the mode it was placed in — the
/// picture on the page differs by mode, and so does the code behind it.
pub fn order_sources(mode: IntegrationMode) -> &'static [&'static str] {
    match mode {
        IntegrationMode::Webhook => &[
            "crates/store/src/ui/orders.rs",
            "crates/store/src/ui/diagram.rs",
            "crates/store/src/timeline.rs",
            "crates/store/src/integration/webhook/outbox.rs",
            "crates/store/src/integration/webhook/dispatcher.rs",
            "crates/store/src/integration/webhook/retry.rs",
            "crates/inventory/src/integration/webhook_receiver.rs",
        ],
        IntegrationMode::Api => &[
            "crates/store/src/ui/orders.rs",
            "crates/store/src/ui/diagram.rs",
            "crates/store/src/timeline.rs",
            "crates/store/src/integration/api/mod.rs",
            "crates/store/src/integration/api/compensation.rs",
            "crates/inventory/src/integration/update_inventory.rs",
        ],
        IntegrationMode::Poll => &[
            "crates/store/src/ui/orders.rs",
            "crates/store/src/ui/diagram.rs",
            "crates/store/src/timeline.rs",
            "crates/store/src/integration/poll.rs",
            "crates/store/src/routes/feed.rs",
            "crates/inventory/src/integration/poller/mod.rs",
        ],
        IntegrationMode::Hybrid => &[
            "crates/store/src/ui/orders.rs",
            "crates/store/src/ui/diagram.rs",
            "crates/store/src/timeline.rs",
            "crates/store/src/integration/hybrid.rs",
            "crates/store/src/integration/webhook/outbox.rs",
            "crates/inventory/src/integration/notice.rs",
        ],
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/orders", web::get().to(list))
        .route("/orders/{id}", web::get().to(detail))
        .route(
            "/orders/{id}/deliveries/{delivery}/redeliver",
            web::post().to(super::order_actions::redeliver),
        )
        .route(
            "/orders/{id}/deliveries/{delivery}/replay",
            web::post().to(super::order_actions::replay_form),
        )
        .route("/fragments/orders", web::get().to(orders_fragment))
        .route("/fragments/orders/{id}", web::get().to(order_fragment));
}

// ---------------------------------------------------------------------------
// The list of orders.
// ---------------------------------------------------------------------------

/// How many orders the list shows.
pub const LIST_LIMIT: i64 = 100;

pub struct OrderRow {
    pub id: OrderId,
    pub placed: String,
    pub placed_full: String,
    pub customer: String,
    pub items: String,
    pub total: String,
    pub mode: IntegrationMode,
    pub status: OrderStatus,
    pub reason: Option<String>,
}

impl OrderRow {
    pub fn from_order(o: &Order) -> OrderRow {
        let units: u32 = o.items.iter().map(|l| l.quantity.get()).sum();
        OrderRow {
            id: o.id.clone(),
            placed: clock_time(o.created_at.millis()),
            placed_full: date_time(o.created_at.millis()),
            customer: o.customer.name.clone(),
            items: match (o.items.len(), units) {
                (1, 1) => keep_units_together(&o.items[0].name),
                (1, n) => format!("{n} × {}", keep_units_together(&o.items[0].name)),
                (lines, n) => format!("{n} items, {lines} products"),
            },
            total: money(o.total_cents),
            mode: o.mode,
            status: o.status,
            reason: o.status_reason.clone(),
        }
    }
}

/// A status filter link with its count.
pub struct StatusCount {
    pub status: OrderStatus,
    pub count: i64,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "store/fragments/orders.html")]
pub struct OrdersTable {
    pub rows: Vec<OrderRow>,
    pub counts: Vec<StatusCount>,
    pub total: i64,
    pub filter: Option<OrderStatus>,
}

impl askama::filters::HtmlSafe for OrdersTable {}

impl OrdersTable {
    pub async fn load(app: &Data, filter: Option<OrderStatus>) -> Result<OrdersTable, sqlx::Error> {
        let rows = orders::recent_orders(&app.ctx.db, filter, LIST_LIMIT).await?;
        let counts = orders::status_counts(&app.ctx.db).await?;
        Ok(OrdersTable {
            rows: rows.iter().map(OrderRow::from_order).collect(),
            counts: OrderStatus::ALL
                .iter()
                .map(|s| StatusCount {
                    status: *s,
                    count: counts.of(*s),
                    current: filter == Some(*s),
                })
                .collect(),
            total: counts.total(),
            filter,
        })
    }

    /// Where `app.js` re-fetches this table from.
    pub fn src(&self) -> String {
        match self.filter {
            Some(s) => format!("/fragments/orders?status={s}"),
            None => "/fragments/orders".into(),
        }
    }
}

#[derive(Deserialize)]
struct ListQuery {
    status: Option<String>,
}

impl ListQuery {
    fn status(&self) -> Option<OrderStatus> {
        self.status
            .as_deref()
            .and_then(|s| OrderStatus::parse(s).ok())
    }
}

#[derive(Template)]
#[template(path = "store/orders.html")]
pub struct OrdersPage {
    pub layout: Layout,
    pub table: OrdersTable,
}

async fn list(
    app: Data,
    req: HttpRequest,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let table = OrdersTable::load(&app, query.status()).await?;
    page(
        &app,
        StatusCode::OK,
        &OrdersPage {
            layout: layout(&app, &req, "Orders").with_sources(LIST_SOURCES),
            table,
        },
    )
}

async fn orders_fragment(
    app: Data,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    fragment(&OrdersTable::load(&app, query.status()).await?)
}

// ---------------------------------------------------------------------------
// One order and its message timeline.
// ---------------------------------------------------------------------------

use super::exchange::ExchangeItem;

pub struct LineRow {
    pub sku: String,
    pub name: String,
    pub quantity: u32,
    pub unit: String,
    pub total: String,
}

/// The parts of the order page that change as messages arrive.
#[derive(Template)]
#[template(path = "store/fragments/order.html")]
pub struct OrderLive {
    pub id: String,
    pub status: OrderStatus,
    pub reason: Option<String>,
    pub mode: ModeInfo,
    pub customer: String,
    pub email: String,
    pub placed: String,
    pub total: String,
    pub lines: Vec<LineRow>,
    /// Where its delivery (or its void) stands, in words.
    pub progress: OrderProgress,
    pub diagram: SequenceDiagram,
    pub exchanges: Vec<ExchangeItem>,
    /// Messages of another mode's channel that listed this order (the
    /// inventory's polls of the feed), left out of the page.
    pub passed_over: usize,
    pub inventory_url: String,
    /// A pending webhook-mode order with no delivery at all: no endpoint
    /// took its event when it was placed, so it waits in the outbox for
    /// one to be added (`integration::webhook::outbox::enqueue_waiting_orders`).
    pub awaiting_endpoint: bool,
}

impl askama::filters::HtmlSafe for OrderLive {}

impl OrderLive {
    pub async fn load(app: &Data, raw_id: &str) -> Result<OrderLive, PageError> {
        let missing = || PageError::NotFound(format!("There is no order {raw_id}."));
        let id = OrderId::parse(raw_id).map_err(|_| missing())?;
        let order = orders::get_order(&app.ctx.db, &id)
            .await?
            .ok_or_else(missing)?;
        // Messages on a channel that does not deliver this order's mode
        // are left out: the feed lists every order, so each of the
        // inventory's polls also lists orders of the other modes — which
        // the poller reads past. Shown, they buried the order's own few
        // messages under polls; the page counts them instead, and the flow
        // page has them all.
        let (own, passed_over): (Vec<_>, Vec<_>) = timeline::for_order(&app.ctx.db, &id)
            .await?
            .into_iter()
            .partition(|ex| mode_of(ex.channel) == Some(order.mode));
        let exchanges: Vec<ExchangeItem> = own
            .iter()
            .enumerate()
            .map(|(i, ex)| ExchangeItem::from_view(i + 1, ex))
            .collect();
        let progress =
            OrderProgress::load(app, &order.id, order.status == OrderStatus::Pending).await?;
        let diagram = SequenceDiagram::new(&exchanges).with_next_attempt(progress.next_attempt());
        let mut live = OrderLive {
            id: order.id.to_string(),
            status: order.status,
            reason: order.status_reason.clone(),
            mode: mode_info(order.mode),
            customer: order.customer.name.clone(),
            email: order.customer.email.clone(),
            placed: date_time(order.created_at.millis()),
            total: money(order.total_cents),
            lines: order
                .items
                .iter()
                .map(|l| LineRow {
                    sku: l.sku.to_string(),
                    name: keep_units_together(&l.name),
                    quantity: l.quantity.get(),
                    unit: money(l.unit_price_cents),
                    total: money(l.line_total_cents),
                })
                .collect(),
            awaiting_endpoint: false,
            progress,
            diagram,
            exchanges,
            passed_over: passed_over.len(),
            inventory_url: app
                .ctx
                .config
                .inventory_public_url
                .trim_end_matches('/')
                .to_owned(),
        };
        live.awaiting_endpoint = order.mode == IntegrationMode::Webhook
            && order.status == OrderStatus::Pending
            && live.progress.is_empty();
        Ok(live)
    }

    pub fn is_pending(&self) -> bool {
        self.status == OrderStatus::Pending
    }

    pub fn is_rejected(&self) -> bool {
        self.status == OrderStatus::Rejected
    }
}

#[derive(Template)]
#[template(path = "store/order.html")]
pub struct OrderPage {
    pub layout: Layout,
    pub live: OrderLive,
}

#[derive(Deserialize)]
struct DetailQuery {
    notice: Option<String>,
}

async fn detail(
    app: Data,
    req: HttpRequest,
    id: web::Path<String>,
    query: web::Query<DetailQuery>,
) -> Result<HttpResponse, PageError> {
    let live = OrderLive::load(&app, &id).await?;
    let layout = layout(&app, &req, format!("Order {}", live.id))
        .with_notice(notice(query.notice.as_deref()))
        .with_sources(order_sources(live.mode.mode));
    page(&app, StatusCode::OK, &OrderPage { layout, live })
}

async fn order_fragment(app: Data, id: web::Path<String>) -> Result<HttpResponse, PageError> {
    fragment(&OrderLive::load(&app, &id).await?)
}
