//! The store's routes: the JSON API ([`api`]), the web pages
//! ([`crate::ui`]) and the operational endpoints every service has
//! (`/healthz`, `/metrics`, `/events`).

pub mod api;

use actix_web::{HttpRequest, HttpResponse, web};

use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/healthz").get(healthz))
        .service(web::resource("/metrics").get(metrics))
        .service(web::resource("/events").get(events));
    api::configure(cfg);
    crate::ui::configure(cfg);
}

/// Liveness and readiness in one: the process answers and its database
/// does too.
async fn healthz(app: web::Data<AppState>) -> HttpResponse {
    let db_ok = sqlx::query("SELECT 1").execute(app.db.pool()).await.is_ok();
    let body = serde_json::json!({
        "status": if db_ok { "ok" } else { "degraded" },
        "service": "store",
        "database": app.db.backend().name(),
    });
    if db_ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

async fn metrics(app: web::Data<AppState>) -> HttpResponse {
    platform::metrics::metrics_response(&app.registry)
}

async fn events(app: web::Data<AppState>) -> HttpResponse {
    app.live.sse_response()
}

/// Unknown routes: problem+json for API clients and other programs, a
/// readable page for a person who mistyped an address.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    if platform::ui::is_machine_path(req.path()) {
        platform::http::not_found_problem(&req)
    } else {
        crate::ui::not_found(&req)
    }
}
