//! The shop: the store front with its order form, the list of orders, and
//! one order with every message that carried it.
//!
//! The order form goes through the same two functions as `POST /api/orders`
//! — [`OrderRequest::parse`] for every check that needs no database and
//! [`orders::place_order`] for the rest — so a form and an API client can
//! never be held to different rules. What the form adds is presentation:
//! each field error is put back next to its input, with what was typed.
//!
//! The form carries a hidden `Idempotency-Key` minted when it is drawn, so
//! a double click or a browser retry places the order once: the second
//! submission finds the first order and is sent to it.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use contract::order::Order;
use contract::{IntegrationMode, OrderId, OrderStatus};
use platform::ui::{Layout, clock_time, date_time, duration_ms, money, pretty_body, see_other};

use super::diagram::SequenceDiagram;
use super::{Data, ModeInfo, PageError, fragment, layout, mode_info, page};
use crate::domain::{CustomerRequest, LineRequest, OrderRequest};
use crate::error::StoreError;
use crate::timeline::{self, ExchangeView};
use crate::{catalog, integration, orders};
use platform::ApiError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(front))
        .route("/orders", web::post().to(place))
        .route("/orders", web::get().to(list))
        .route("/orders/{id}", web::get().to(detail))
        .route("/fragments/mode", web::get().to(mode_fragment))
        .route("/fragments/orders", web::get().to(orders_fragment))
        .route("/fragments/orders/{id}", web::get().to(order_fragment));
}

// ---------------------------------------------------------------------------
// The current mode, shown plainly on the store front.
// ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "store/fragments/mode.html")]
pub struct ModeBanner {
    pub info: ModeInfo,
}

impl askama::filters::HtmlSafe for ModeBanner {}

impl ModeBanner {
    pub async fn load(app: &Data) -> Result<ModeBanner, sqlx::Error> {
        Ok(ModeBanner {
            info: mode_info(integration::read_mode(&app.db).await?),
        })
    }
}

async fn mode_fragment(app: Data) -> Result<HttpResponse, PageError> {
    fragment(&ModeBanner::load(&app).await?)
}

// ---------------------------------------------------------------------------
// The store front and the order form.
// ---------------------------------------------------------------------------

/// A product with what was typed in its quantity box.
pub struct ProductRow {
    pub sku: String,
    pub name: String,
    pub description: String,
    pub price: String,
    pub quantity: String,
    pub error: Option<String>,
}

/// The order form's state: empty, or as submitted with its errors.
#[derive(Default)]
pub struct OrderForm {
    pub name: String,
    pub email: String,
    pub name_error: Option<String>,
    pub email_error: Option<String>,
    pub items_error: Option<String>,
    /// A problem that belongs to no single field.
    pub form_error: Option<String>,
    pub idempotency_key: String,
}

impl OrderForm {
    pub fn has_errors(&self) -> bool {
        self.name_error.is_some()
            || self.email_error.is_some()
            || self.items_error.is_some()
            || self.form_error.is_some()
    }
}

fn new_form_key() -> String {
    format!("form-{}", uuid::Uuid::new_v4().simple())
}

#[derive(Template)]
#[template(path = "store/front.html")]
pub struct FrontPage {
    pub layout: Layout,
    pub mode: ModeBanner,
    pub products: Vec<ProductRow>,
    pub form: OrderForm,
}

async fn front_page(
    app: &Data,
    req: &HttpRequest,
    form: OrderForm,
    typed: &HashMap<String, String>,
    errors: &HashMap<String, String>,
) -> Result<FrontPage, PageError> {
    let products = catalog::list(&app.db)
        .await?
        .into_iter()
        .map(|p| ProductRow {
            quantity: typed.get(&p.sku).cloned().unwrap_or_default(),
            error: errors.get(&p.sku).cloned(),
            price: money(p.price_cents),
            sku: p.sku,
            name: p.name,
            description: p.description,
        })
        .collect();
    Ok(FrontPage {
        layout: layout(app, req, "Shop"),
        mode: ModeBanner::load(app).await?,
        products,
        form,
    })
}

async fn front(app: Data, req: HttpRequest) -> Result<HttpResponse, PageError> {
    let form = OrderForm {
        idempotency_key: new_form_key(),
        ..OrderForm::default()
    };
    let page_data = front_page(&app, &req, form, &HashMap::new(), &HashMap::new()).await?;
    page(&app, StatusCode::OK, &page_data)
}

/// The order form as posted: `name`, `email`, `qty-<SKU>` per product,
/// `idempotency_key`, and optionally `next` (where to go afterwards).
type Fields = web::Form<Vec<(String, String)>>;

/// Pages an order form may return to instead of the order page (a fixed
/// list: a redirect target taken from a form must never be free text).
const NEXT_PAGES: &[&str] = &["/flow"];

async fn place(app: Data, req: HttpRequest, fields: Fields) -> Result<HttpResponse, PageError> {
    let fields: HashMap<String, String> = fields.into_inner().into_iter().collect();
    let field = |name: &str| {
        fields
            .get(name)
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    };

    // One line per product with a quantity other than empty or zero, in
    // catalog order; remember which line is which product.
    let products = catalog::list(&app.db).await?;
    let mut typed = HashMap::new();
    let mut line_skus = Vec::new();
    let mut lines = Vec::new();
    for p in &products {
        let quantity = field(&format!("qty-{}", p.sku));
        if quantity.is_empty() || quantity == "0" {
            continue;
        }
        typed.insert(p.sku.clone(), quantity.clone());
        line_skus.push(p.sku.clone());
        lines.push(LineRequest {
            sku: Some(serde_json::Value::String(p.sku.clone())),
            quantity: Some(serde_json::Value::String(quantity)),
        });
    }
    let request = OrderRequest {
        customer: Some(CustomerRequest {
            name: Some(serde_json::Value::String(field("name"))),
            email: Some(serde_json::Value::String(field("email"))),
        }),
        items: Some(lines),
    };
    let key = orders::parse_idempotency_key(&field("idempotency_key")).ok();

    let mut form = OrderForm {
        name: field("name"),
        email: field("email"),
        idempotency_key: key.clone().unwrap_or_else(new_form_key),
        ..OrderForm::default()
    };
    let mut errors = HashMap::new();
    let outcome = match request.parse() {
        Ok(valid) => orders::place_order(&app, valid, key.as_deref()).await,
        Err(field_errors) => Err(StoreError::validation(field_errors)),
    };
    match outcome {
        Ok(placed) => {
            let next = field("next");
            let target = if NEXT_PAGES.contains(&next.as_str()) {
                next
            } else {
                format!("/orders/{}", placed.order.id)
            };
            return Ok(see_other(&target));
        }
        Err(StoreError::Api(ApiError::Validation(field_errors))) => {
            for e in field_errors {
                match e.field.as_str() {
                    "customer.name" => form.name_error = Some(e.message),
                    "customer.email" => form.email_error = Some(e.message),
                    "items" => {
                        form.items_error = Some(format!(
                            "{}: set a quantity on at least one product.",
                            e.message
                        ))
                    }
                    other => {
                        // `items[3].quantity` → the fourth line's product.
                        let index = other
                            .strip_prefix("items[")
                            .and_then(|rest| rest.split(']').next())
                            .and_then(|n| n.parse::<usize>().ok());
                        match index.and_then(|i| line_skus.get(i)) {
                            Some(sku) => {
                                errors.insert(sku.clone(), e.message);
                            }
                            None => form.form_error = Some(e.message),
                        }
                    }
                }
            }
        }
        Err(StoreError::Api(ApiError::IdempotencyKeyReused)) => {
            form.form_error = Some(
                "This form already placed a different order. Check the form and place the order again.".into(),
            );
            form.idempotency_key = new_form_key();
        }
        Err(StoreError::IdempotencyKeyInFlight) => {
            form.form_error =
                Some("This order is still being confirmed with the inventory; wait a moment and submit again.".into());
        }
        Err(other) => return Err(other.into()),
    }
    let page_data = front_page(&app, &req, form, &typed, &errors).await?;
    page(&app, StatusCode::UNPROCESSABLE_ENTITY, &page_data)
}

// ---------------------------------------------------------------------------
// The list of orders.
// ---------------------------------------------------------------------------

/// How many orders the list shows.
pub const LIST_LIMIT: i64 = 100;

pub struct OrderRow {
    pub id: String,
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
            id: o.id.to_string(),
            placed: clock_time(o.created_at.millis()),
            placed_full: date_time(o.created_at.millis()),
            customer: o.customer.name.clone(),
            items: match (o.items.len(), units) {
                (1, 1) => o.items[0].name.clone(),
                (1, n) => format!("{n} × {}", o.items[0].name),
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
    pub status: &'static str,
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
        let rows = orders::recent_orders(&app.db, filter, LIST_LIMIT).await?;
        let c = orders::status_counts(&app.db).await?;
        let current = |s: OrderStatus| filter == Some(s);
        Ok(OrdersTable {
            rows: rows.iter().map(OrderRow::from_order).collect(),
            counts: vec![
                StatusCount {
                    status: "pending",
                    count: c.pending,
                    current: current(OrderStatus::Pending),
                },
                StatusCount {
                    status: "confirmed",
                    count: c.confirmed,
                    current: current(OrderStatus::Confirmed),
                },
                StatusCount {
                    status: "rejected",
                    count: c.rejected,
                    current: current(OrderStatus::Rejected),
                },
                StatusCount {
                    status: "backordered",
                    count: c.backordered,
                    current: current(OrderStatus::Backordered),
                },
            ],
            total: c.pending + c.confirmed + c.rejected + c.backordered,
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
            layout: layout(&app, &req, "Orders"),
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

pub use platform::ui::HeaderRow;
use platform::ui::header_rows;

/// One exchange, ready to draw: in the diagram and in the details list.
pub struct ExchangeItem {
    pub id: String,
    pub anchor: String,
    pub number: usize,
    pub channel: String,
    pub initiator: String,
    pub receiver: &'static str,
    pub failed: bool,
    /// On a channel that does not deliver this order's mode: a feed page
    /// that carried a webhook-mode order, which the poller then ignored.
    pub incidental: bool,
    pub method: String,
    pub url: String,
    pub path: String,
    pub started: String,
    pub started_full: String,
    pub latency: String,
    pub status: Option<i64>,
    pub status_text: String,
    pub error: Option<String>,
    pub attempt_no: Option<i64>,
    pub attempt: Option<String>,
    pub request_headers: Vec<HeaderRow>,
    pub request_body: String,
    pub response_headers: Vec<HeaderRow>,
    pub response_body: Option<String>,
}

impl ExchangeItem {
    pub fn from_view(number: usize, ex: &ExchangeView) -> ExchangeItem {
        let failed =
            ex.error.is_some() || !ex.response_status.is_some_and(|s| (200..300).contains(&s));
        let status_text = match (ex.response_status, &ex.error) {
            (Some(s), _) => {
                let reason = u16::try_from(s)
                    .ok()
                    .and_then(|s| StatusCode::from_u16(s).ok())
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("");
                format!("{s} {reason}").trim_end().to_owned()
            }
            (None, Some(e)) => format!("no answer: {e}"),
            (None, None) => "no answer".into(),
        };
        let path = url::Url::parse(&ex.url)
            .map(|u| match u.query() {
                Some(q) => format!("{}?{q}", u.path()),
                None => u.path().to_owned(),
            })
            .unwrap_or_else(|_| ex.url.clone());
        ExchangeItem {
            id: ex.id.clone(),
            anchor: format!("ex-{}", ex.id),
            number,
            channel: ex.channel.clone(),
            receiver: if ex.initiator == "store" {
                "inventory"
            } else {
                "store"
            },
            initiator: ex.initiator.clone(),
            failed,
            incidental: false,
            method: ex.method.clone(),
            url: ex.url.clone(),
            path,
            started: clock_time(ex.started_at.millis()),
            started_full: date_time(ex.started_at.millis()),
            latency: duration_ms(ex.latency_ms),
            status: ex.response_status,
            status_text,
            error: ex.error.clone(),
            attempt_no: ex.attempt_no,
            attempt: ex.attempt_no.map(|n| {
                let how = match ex.trigger.as_deref() {
                    Some("manual") => "redelivered by hand",
                    _ if n == 1 => "first attempt",
                    _ => "scheduled retry",
                };
                format!("attempt {n} · {how}")
            }),
            request_headers: header_rows(&ex.request_headers),
            request_body: pretty_body(&ex.request_body),
            response_headers: ex
                .response_headers
                .as_ref()
                .map(header_rows)
                .unwrap_or_default(),
            response_body: ex.response_body.as_deref().map(pretty_body),
        }
    }

    pub fn channel_label(&self) -> &'static str {
        match self.channel.as_str() {
            "webhook" => "webhook (push)",
            "api" => "api call",
            "void" => "void (compensation)",
            "feed" => "feed read (poll)",
            "ack" => "acknowledgement (poll)",
            _ => "message",
        }
    }
}

/// Whether a channel is one that delivers orders of `mode`. The feed
/// lists every order, so a poll also carries orders of the other modes —
/// which the poller reads past.
fn carries_mode(channel: &str, mode: IntegrationMode) -> bool {
    match mode {
        IntegrationMode::Webhook => channel == "webhook",
        IntegrationMode::Api => channel == "api" || channel == "void",
        IntegrationMode::Poll => channel == "feed" || channel == "ack",
    }
}

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
    pub diagram: SequenceDiagram,
    pub exchanges: Vec<ExchangeItem>,
    pub inventory_url: String,
}

impl askama::filters::HtmlSafe for OrderLive {}

impl OrderLive {
    pub async fn load(app: &Data, raw_id: &str) -> Result<OrderLive, PageError> {
        let missing = || PageError::NotFound(format!("There is no order {raw_id}."));
        let id = OrderId::parse(raw_id).map_err(|_| missing())?;
        let order = orders::get_order(&app.db, id.as_str())
            .await?
            .ok_or_else(missing)?;
        let exchanges: Vec<ExchangeItem> = timeline::for_order(&app.db, id.as_str())
            .await?
            .iter()
            .enumerate()
            .map(|(i, ex)| {
                let mut item = ExchangeItem::from_view(i + 1, ex);
                item.incidental = !carries_mode(&ex.channel, order.mode);
                item
            })
            .collect();
        Ok(OrderLive {
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
                    name: l.name.clone(),
                    quantity: l.quantity.get(),
                    unit: money(l.unit_price_cents),
                    total: money(l.line_total_cents),
                })
                .collect(),
            diagram: SequenceDiagram::new(&exchanges),
            exchanges,
            inventory_url: app
                .config
                .inventory_public_url
                .trim_end_matches('/')
                .to_owned(),
        })
    }

    pub fn is_pending(&self) -> bool {
        self.status == OrderStatus::Pending
    }
}

#[derive(Template)]
#[template(path = "store/order.html")]
pub struct OrderPage {
    pub layout: Layout,
    pub live: OrderLive,
}

async fn detail(
    app: Data,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let live = OrderLive::load(&app, &id).await?;
    let layout = layout(&app, &req, format!("Order {}", live.id));
    page(&app, StatusCode::OK, &OrderPage { layout, live })
}

async fn order_fragment(app: Data, id: web::Path<String>) -> Result<HttpResponse, PageError> {
    fragment(&OrderLive::load(&app, &id).await?)
}
