//! The stock page: units on hand per SKU, updating live as orders take
//! them (`stock.changed`, published by every channel that applies an
//! order), a restock form, and a strip saying how the inventory is
//! currently wired: subscribed to webhooks or not, polling or paused,
//! broken on purpose or not.
//!
//! The webhooks card does not take its own word for the subscription: the
//! store owns the list of endpoints, so each time the card is drawn it asks
//! the store whether ours is still there (one short request; the card says
//! so when it cannot ask), and offers to subscribe again when it is gone.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use contract::Sku;
use platform::guard::Operator;
use platform::ui::{Layout, clock_time, duration_ms, keep_units_together, see_other};

use super::{Data, PageError, fragment, layout, notice, page, store_url};
use platform::ApiError;

use crate::error::InventoryError;
use crate::instruments::chaos::ChaosSettings;
use crate::integration::poller::cursor;
use crate::integration::subscription::{self, AtTheStore, Subscription};
use crate::stock;

/// The repository files that do what this page shows (drawn under it as
/// "How this works in the code"; the UI tests check that each exists).
pub const SOURCES: &[&str] = &[
    "crates/inventory/src/ui/stock.rs",
    "crates/inventory/src/stock.rs",
    "crates/inventory/src/integration/apply.rs",
    "crates/inventory/src/integration/subscription.rs",
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(stock_page))
        .route("/stock/restock", web::post().to(restock))
        .route("/fragments/stock", web::get().to(stock_fragment))
        .route("/fragments/status", web::get().to(status_fragment))
        .route("/subscription/renew", web::post().to(subscribe_again));
}

/// At or below this many units a SKU is marked low.
pub const LOW_STOCK: i64 = 5;

pub struct StockRow {
    pub sku: String,
    pub name: String,
    pub on_hand: i64,
    pub taken_24h: i64,
    pub updated: String,
    /// `""`, `low` or `out`.
    pub level: &'static str,
    /// The bar's length, 0 to 100, relative to the best-stocked SKU.
    pub fill: i64,
}

#[derive(Template)]
#[template(path = "inventory/fragments/stock.html")]
pub struct StockTable {
    pub rows: Vec<StockRow>,
}

impl askama::filters::HtmlSafe for StockTable {}

impl StockTable {
    pub async fn load(app: &Data) -> Result<StockTable, sqlx::Error> {
        let items = stock::list(&app.ctx.db, app.ctx.clock.now()).await?;
        let most = items.iter().map(|i| i.on_hand).max().unwrap_or(0).max(1);
        Ok(StockTable {
            rows: items
                .into_iter()
                .map(|i| StockRow {
                    level: match i.on_hand {
                        0 => "out",
                        n if n <= LOW_STOCK => "low",
                        _ => "",
                    },
                    fill: (i.on_hand * 100 / most).clamp(0, 100),
                    updated: clock_time(i.updated_at.millis()),
                    sku: i.sku,
                    name: keep_units_together(&i.name),
                    on_hand: i.on_hand,
                    taken_24h: i.taken_24h,
                })
                .collect(),
        })
    }
}

/// How the inventory is wired right now.
#[derive(Template)]
#[template(path = "inventory/fragments/status.html")]
pub struct StatusStrip {
    pub chaos: ChaosSettings,
    pub chaos_summary: String,
    pub poller_paused: bool,
    pub poll_interval: String,
    pub subscription: Option<Subscription>,
    /// What the store said of that subscription's endpoint just now.
    pub at_store: Option<AtTheStore>,
    pub store_url: String,
}

impl askama::filters::HtmlSafe for StatusStrip {}

impl StatusStrip {
    pub async fn load(app: &Data) -> Result<StatusStrip, sqlx::Error> {
        let chaos = app.ctx.chaos.settings();
        let state = cursor::load(&app.ctx.db, cursor::Feed::Poll).await?;
        let subscription = subscription::current(&app.ctx.db).await?;
        let at_store = match &subscription {
            Some(s) => Some(app.subscriber.check_at_store(&s.endpoint_id).await),
            None => None,
        };
        Ok(StatusStrip {
            chaos_summary: chaos_summary(&chaos),
            chaos,
            poller_paused: state.paused,
            poll_interval: duration_ms(state.interval_ms),
            subscription,
            at_store,
            store_url: store_url(app),
        })
    }

    pub fn chaos_on(&self) -> bool {
        self.chaos != ChaosSettings::default()
    }
}

/// What the chaos controls are doing, in words.
pub fn chaos_summary(c: &ChaosSettings) -> String {
    let mut parts = Vec::new();
    if c.down {
        parts.push("down (503 to everything)".to_owned());
    }
    if c.latency_ms > 0 {
        parts.push(format!("slow (+{})", duration_ms(c.latency_ms as i64)));
    }
    if c.fail_next > 0 {
        parts.push(format!("failing the next {}", c.fail_next));
    }
    if c.reject_signatures {
        parts.push("rejecting webhook signatures".to_owned());
    }
    if parts.is_empty() {
        "all off: behaving normally".to_owned()
    } else {
        parts.join(", ")
    }
}

async fn status_fragment(app: Data) -> Result<HttpResponse, PageError> {
    fragment(&StatusStrip::load(&app).await?)
}

/// "Subscribe again": one subscription, now, as at start — for an
/// endpoint deleted at the store. Its outcome is in the message log; the
/// notice says which way it went.
async fn subscribe_again(_: Operator, app: Data) -> HttpResponse {
    match app.subscriber.resubscribe().await {
        Ok(_) => see_other("/?notice=resubscribed"),
        Err(e) => {
            tracing::warn!(error = %e, "a subscription asked for on the status card failed");
            see_other("/?notice=resubscribe-failed")
        }
    }
}

async fn stock_fragment(app: Data) -> Result<HttpResponse, PageError> {
    fragment(&StockTable::load(&app).await?)
}

/// The restock form, as typed, with its errors.
#[derive(Default)]
pub struct RestockForm {
    pub sku: String,
    pub quantity: String,
    pub sku_error: Option<String>,
    pub quantity_error: Option<String>,
}

#[derive(Template)]
#[template(path = "inventory/stock.html")]
pub struct StockPage {
    pub layout: Layout,
    pub status: StatusStrip,
    pub table: StockTable,
    pub form: RestockForm,
    pub max_restock: i64,
}

async fn render(
    app: &Data,
    req: &HttpRequest,
    status: StatusCode,
    form: RestockForm,
    notice_key: Option<&str>,
) -> Result<HttpResponse, PageError> {
    let template = StockPage {
        layout: layout(app, req, "Stock")
            .with_sources(SOURCES)
            .with_notice(notice(notice_key)),
        status: StatusStrip::load(app).await?,
        table: StockTable::load(app).await?,
        form,
        max_restock: stock::MAX_RESTOCK,
    };
    page(app, status, &template)
}

async fn stock_page(
    app: Data,
    req: HttpRequest,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, PageError> {
    render(
        &app,
        &req,
        StatusCode::OK,
        RestockForm::default(),
        query.get("notice").map(String::as_str),
    )
    .await
}

#[derive(Deserialize)]
struct RestockFields {
    #[serde(default)]
    sku: String,
    #[serde(default)]
    quantity: String,
}

async fn restock(
    _: Operator,
    app: Data,
    req: HttpRequest,
    form: web::Form<RestockFields>,
) -> Result<HttpResponse, PageError> {
    let fields = form.into_inner();
    let mut typed = RestockForm {
        sku: fields.sku.clone(),
        quantity: fields.quantity.clone(),
        ..Default::default()
    };
    let sku = Sku::parse(&fields.sku).map_err(|e| e.0);
    let quantity = fields
        .quantity
        .trim()
        .parse::<i64>()
        .map_err(|_| format!("a whole number of units from 1 to {}", stock::MAX_RESTOCK));
    let outcome = match (sku, quantity) {
        (Ok(sku), Ok(quantity)) => {
            stock::restock(&app.ctx.db, &sku, quantity, app.ctx.clock.now()).await
        }
        (sku, quantity) => {
            typed.sku_error = sku.err();
            typed.quantity_error = quantity.err();
            return render(&app, &req, StatusCode::UNPROCESSABLE_ENTITY, typed, None).await;
        }
    };
    match outcome {
        Ok(level) => {
            app.ctx.live.publish(
                contract::LiveEventKind::StockChanged,
                crate::live::StockChangedData {
                    order_id: None,
                    stock: Some(vec![level.clone()]),
                },
            );
            Ok(see_other("/?notice=restocked"))
        }
        Err(InventoryError::Api(ApiError::Validation(errors))) => {
            typed.quantity_error = errors.into_iter().next().map(|e| e.message);
            render(&app, &req, StatusCode::UNPROCESSABLE_ENTITY, typed, None).await
        }
        Err(InventoryError::Api(ApiError::NotFound { .. })) => {
            typed.sku_error = Some("there is no such SKU in stock".into());
            render(&app, &req, StatusCode::UNPROCESSABLE_ENTITY, typed, None).await
        }
        Err(other) => Err(other.into()),
    }
}
