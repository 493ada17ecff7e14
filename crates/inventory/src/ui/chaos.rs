//! The chaos page: break the inventory on purpose and watch each pattern
//! cope (see `crate::instruments::chaos` for what each control does). One form sets all
//! four controls at once, exactly like `PUT /api/chaos`; "heal" switches
//! everything off. The controls never apply to these pages, so the way
//! back is always open.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use platform::guard::Operator;
use platform::ui::{Layout, see_other};

use super::stock::chaos_summary;
use super::{Data, PageError, fragment, layout, notice, page};
use crate::instruments::chaos::{ChaosSettings, MAX_LATENCY_MS};

/// The repository files that do what this page shows (drawn under it as
/// "How this works in the code"; the UI tests check that each exists).
pub const SOURCES: &[&str] = &[
    "crates/inventory/src/ui/chaos.rs",
    "crates/inventory/src/instruments/chaos.rs",
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/chaos", web::get().to(chaos_page))
        .route("/chaos", web::post().to(apply))
        .route("/fragments/chaos", web::get().to(chaos_fragment));
}

/// The most requests "fail the next N" takes at once.
pub const MAX_FAIL_NEXT: u32 = 1000;

/// What the controls are doing now (the live part of the page).
#[derive(Template)]
#[template(path = "inventory/fragments/chaos.html")]
pub struct ChaosState {
    pub settings: ChaosSettings,
    pub summary: String,
}

impl askama::filters::HtmlSafe for ChaosState {}

impl ChaosState {
    pub fn now(app: &Data) -> ChaosState {
        let settings = app.ctx.chaos.settings();
        ChaosState {
            summary: chaos_summary(&settings),
            settings,
        }
    }

    pub fn is_on(&self) -> bool {
        self.settings != ChaosSettings::default()
    }
}

async fn chaos_fragment(app: Data) -> Result<HttpResponse, PageError> {
    fragment(&ChaosState::now(&app))
}

/// The form, as typed, with its errors.
pub struct ChaosForm {
    pub down: bool,
    pub latency_ms: String,
    pub fail_next: String,
    pub reject_signatures: bool,
    pub drop_webhooks: bool,
    pub latency_error: Option<String>,
    pub fail_next_error: Option<String>,
}

impl ChaosForm {
    fn from_settings(s: &ChaosSettings) -> ChaosForm {
        ChaosForm {
            down: s.down,
            latency_ms: s.latency_ms.to_string(),
            fail_next: s.fail_next.to_string(),
            reject_signatures: s.reject_signatures,
            drop_webhooks: s.drop_webhooks,
            latency_error: None,
            fail_next_error: None,
        }
    }
}

#[derive(Template)]
#[template(path = "inventory/chaos.html")]
pub struct ChaosPage {
    pub layout: Layout,
    pub state: ChaosState,
    pub form: ChaosForm,
    pub max_latency_ms: u64,
    pub max_fail_next: u32,
}

#[derive(Deserialize)]
struct PageQuery {
    notice: Option<String>,
}

async fn chaos_page(
    app: Data,
    req: HttpRequest,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, PageError> {
    let state = ChaosState::now(&app);
    let template = ChaosPage {
        layout: layout(&app, &req, "Chaos")
            .with_sources(SOURCES)
            .with_notice(notice(query.notice.as_deref())),
        form: ChaosForm::from_settings(&state.settings),
        state,
        max_latency_ms: MAX_LATENCY_MS,
        max_fail_next: MAX_FAIL_NEXT,
    };
    page(&app, StatusCode::OK, &template)
}

/// Checkboxes are present (`on`) or absent; numbers arrive as text.
#[derive(Deserialize)]
struct ChaosFields {
    down: Option<String>,
    #[serde(default)]
    latency_ms: String,
    #[serde(default)]
    fail_next: String,
    reject_signatures: Option<String>,
    drop_webhooks: Option<String>,
    action: Option<ChaosAction>,
}

/// Which button of the form was pressed.
#[derive(Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum ChaosAction {
    /// Switches everything off, whatever the rest says.
    Heal,
    /// "Apply" (also what any other word means): the form as filled in.
    #[serde(other)]
    Apply,
}

/// A whole number from 0 to `max`; an empty field is 0 (off).
fn number<T>(text: &str, max: T, what: &str) -> Result<T, String>
where
    T: std::str::FromStr + PartialOrd + Default + std::fmt::Display,
{
    let text = text.trim();
    if text.is_empty() {
        return Ok(T::default());
    }
    match text.parse::<T>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(format!("{what}: a whole number from 0 to {max}")),
    }
}

async fn apply(
    _: Operator,
    app: Data,
    req: HttpRequest,
    form: web::Form<ChaosFields>,
) -> Result<HttpResponse, PageError> {
    let fields = form.into_inner();
    let heal = fields.action == Some(ChaosAction::Heal);
    let settings = if heal {
        Ok(ChaosSettings::default())
    } else {
        let latency = number::<u64>(
            &fields.latency_ms,
            MAX_LATENCY_MS,
            "added latency in milliseconds",
        );
        let fail_next = number::<u32>(&fields.fail_next, MAX_FAIL_NEXT, "requests to fail");
        match (latency, fail_next) {
            (Ok(latency_ms), Ok(fail_next)) => Ok(ChaosSettings {
                down: fields.down.is_some(),
                latency_ms,
                fail_next,
                reject_signatures: fields.reject_signatures.is_some(),
                drop_webhooks: fields.drop_webhooks.is_some(),
            }),
            (latency, fail_next) => Err(ChaosForm {
                down: fields.down.is_some(),
                latency_ms: fields.latency_ms.clone(),
                fail_next: fields.fail_next.clone(),
                reject_signatures: fields.reject_signatures.is_some(),
                drop_webhooks: fields.drop_webhooks.is_some(),
                latency_error: latency.err(),
                fail_next_error: fail_next.err(),
            }),
        }
    };
    match settings {
        Ok(settings) => {
            app.ctx.chaos.set(&settings);
            let now = app.ctx.chaos.settings();
            tracing::warn!(settings = ?now, "chaos controls changed from the UI");
            app.ctx
                .live
                .publish(contract::LiveEventKind::ChaosChanged, &now);
            Ok(see_other(if heal {
                "/chaos?notice=healed"
            } else {
                "/chaos?notice=chaos"
            }))
        }
        Err(form) => {
            let template = ChaosPage {
                layout: layout(&app, &req, "Chaos").with_sources(SOURCES),
                state: ChaosState::now(&app),
                form,
                max_latency_ms: MAX_LATENCY_MS,
                max_fail_next: MAX_FAIL_NEXT,
            };
            page(&app, StatusCode::UNPROCESSABLE_ENTITY, &template)
        }
    }
}
