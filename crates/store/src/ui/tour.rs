//! The guided tour: the six ways push and pull differ, each with a link to
//! the place in this UI where it can be seen happening. The page is static
//! text; what makes it a tour rather than an essay is that every claim
//! points at the running system.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use platform::ui::Layout;

use super::{Data, PageError, layout, page};

/// The repository files that do what this page shows (drawn under it as
/// "How this works in the code"; the UI tests check that each exists).
pub const SOURCES: &[&str] = &[
    "crates/store/src/ui/tour.rs",
    "crates/store/src/integration/mod.rs",
    "crates/inventory/src/integration/mod.rs",
    "crates/contract/src/signing.rs",
    "crates/contract/src/xml.rs",
    "crates/inventory/src/integration/poller/cursor.rs",
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/tour", web::get().to(tour_page));
}

#[derive(Template)]
#[template(path = "store/tour.html")]
pub struct TourPage {
    pub layout: Layout,
    pub inventory_url: String,
    /// The webhook retry schedule, as configured: "1s, 5s, 30s, 2m, 10m".
    pub retry_schedule: String,
    /// How long the whole schedule lasts, roughly: "about 13 min".
    pub retry_span: Option<String>,
}

async fn tour_page(app: Data, req: HttpRequest) -> Result<HttpResponse, PageError> {
    let template = TourPage {
        layout: layout(&app, &req, "Tour").with_sources(SOURCES),
        inventory_url: app
            .ctx
            .config
            .inventory_public_url
            .trim_end_matches('/')
            .to_owned(),
        retry_schedule: app
            .ctx
            .config
            .webhook
            .retry_schedule
            .to_string()
            .replace(',', ", "),
        retry_span: app.ctx.config.webhook.retry_schedule.total().map(|total| {
            match total.as_secs() {
                s if s < 90 => format!("about {s} s"),
                s => format!("about {} min", (s + 30) / 60),
            }
        }),
    };
    page(&app, StatusCode::OK, &template)
}
