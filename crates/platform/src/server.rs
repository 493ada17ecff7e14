//! The HTTP server both services run: the same middleware stack, limits
//! and shutdown behaviour, so the two differ only in their routes.
//!
//! Middleware, outermost first: a `tracing` span per request (with a
//! request id) and a log line once it is answered
//! ([`crate::telemetry::log_request`]), per-route metrics, the problem+json
//! safety net, the request limits (header bytes, time to send the body —
//! see [`crate::limits`]) and the refusal of cross-site writes
//! ([`crate::guard`], with the service's `Guard` in its app data). Every
//! extractor gets the shared body limit and problem-producing error
//! handlers.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing_actix_web::TracingLogger;

use crate::http::{
    form_config, json_config, path_config, payload_config, problem_errors, query_config,
};
use crate::metrics::{HttpMetrics, track_http};
use crate::worker::{Pacing, Worker};

/// Seconds a graceful stop waits for open connections. Short, because the
/// live pages hold Server-Sent Events streams open indefinitely.
pub const SHUTDOWN_TIMEOUT_SECS: u64 = 2;

/// Binds `address:port` (port 0 picks a free one).
pub fn bind(address: &str, port: u16) -> std::io::Result<TcpListener> {
    TcpListener::bind((address, port))
}

/// `http://host:port` for a service bound to `bind:port`, as this machine
/// reaches it: a wildcard bind address (`0.0.0.0`, `::`) is read as
/// loopback, and an IPv6 host is bracketed.
pub fn local_url(bind: &str, port: u16) -> String {
    let host = match bind {
        "0.0.0.0" | "::" | "[::]" => "127.0.0.1",
        other => other,
    };
    if host.contains(':') {
        format!("http://[{host}]:{port}")
    } else {
        format!("http://{host}:{port}")
    }
}

/// Starts serving `routes` on `listener`. `routes` registers the service's
/// state (`cfg.app_data(...)`), its routes and its default service.
/// Signals are not handled here: the launcher decides when to stop.
fn serve<F>(
    listener: TcpListener,
    workers: Option<usize>,
    http_metrics: HttpMetrics,
    routes: F,
) -> std::io::Result<Server>
where
    F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
{
    let http_metrics = web::Data::new(http_metrics);
    let limits = crate::limits::Limits::default();
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(http_metrics.clone())
            .app_data(json_config())
            .app_data(payload_config())
            .app_data(query_config())
            .app_data(path_config())
            .app_data(form_config())
            // No cross-site writes (a no-op for a service that registers
            // no `guard::Guard`).
            .wrap(from_fn(crate::guard::refuse_cross_site))
            .wrap(from_fn(move |req, next| {
                crate::limits::enforce(limits, req, next)
            }))
            .wrap(problem_errors())
            .wrap(from_fn(track_http))
            // A line per request, inside the request's span.
            .wrap(from_fn(crate::telemetry::log_request))
            .wrap(TracingLogger::default())
            .configure(routes.clone())
    })
    .listen(listener)?
    .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS)
    .disable_signals();
    if let Some(n) = workers {
        server = server.workers(n);
    }
    Ok(server.run())
}

/// What the operational endpoints every service has need to answer.
#[derive(Clone)]
pub struct Ops {
    /// `store` or `inventory`, as `/healthz` reports it.
    pub service: &'static str,
    pub db: crate::Db,
    pub live: crate::LiveHub,
    pub registry: std::sync::Arc<prometheus_client::registry::Registry>,
}

/// What every service's app holds besides its own routes.
pub struct ServiceApp<S> {
    /// The service's state, for its handlers.
    pub state: web::Data<S>,
    /// Who may change things: no cross-site writes, and the operator's
    /// token when one is set.
    pub guard: crate::guard::Guard,
    /// For `/healthz`, `/metrics` and `/events`.
    pub ops: Ops,
}

/// What `GET /healthz` answers.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`, or `degraded` when the database does not answer.
    #[schema(value_type = String, pattern = "^(ok|degraded)$")]
    pub status: &'static str,
    /// `store` or `inventory`.
    #[schema(value_type = String)]
    pub service: &'static str,
    /// `sqlite` or `postgres`.
    #[schema(value_type = String)]
    pub database: &'static str,
}

/// Registers `GET /healthz`, `GET /metrics` and `GET /events`.
fn ops_routes(cfg: &mut web::ServiceConfig, ops: Ops) {
    cfg.app_data(web::Data::new(ops))
        .service(web::resource("/healthz").get(healthz))
        .service(web::resource("/metrics").get(metrics))
        .service(web::resource("/events").get(events));
}

/// Liveness and readiness in one: the process answers and its database
/// does too.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    summary = "Health: the process and its database answer",
    responses(
        (status = 200, description = "Up, and the database answers", body = Health),
        (status = 503, description = "Up, but the database does not answer", body = Health),
    )
)]
pub(crate) async fn healthz(ops: web::Data<Ops>) -> actix_web::HttpResponse {
    let db_ok = sqlx::query("SELECT 1").execute(ops.db.pool()).await.is_ok();
    let body = Health {
        status: if db_ok { "ok" } else { "degraded" },
        service: ops.service,
        database: ops.db.backend().name(),
    };
    if db_ok {
        actix_web::HttpResponse::Ok().json(body)
    } else {
        actix_web::HttpResponse::ServiceUnavailable().json(body)
    }
}

#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    summary = "Prometheus metrics",
    description = "Counters and histograms in the Prometheus text format: requests per \
                   route and status, and what the service's patterns did.",
    responses((status = 200, description = "The metrics", content_type = "text/plain", body = String))
)]
pub(crate) async fn metrics(ops: web::Data<Ops>) -> actix_web::HttpResponse {
    crate::metrics::metrics_response(&ops.registry)
}

#[utoipa::path(
    get,
    path = "/events",
    tag = "operations",
    summary = "Live events (Server-Sent Events)",
    description = "A `text/event-stream`: one event per change (an order placed, a message \
                   logged, stock moved), each naming what changed, so the web UI re-fetches \
                   just that. Without `limit` or `seconds` it never ends by itself; with them \
                   it ends after that many events or seconds, whichever comes first.",
    params(crate::live::EventsQuery),
    responses(
        (status = 200, description = "The stream", content_type = "text/event-stream", body = String),
        (status = 400, description = "A `limit` outside 1 to 1000 or `seconds` outside 0 to 300", body = contract::Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn events(
    ops: web::Data<Ops>,
    query: web::Query<crate::live::EventsQuery>,
) -> actix_web::HttpResponse {
    match query.check() {
        Ok(()) => ops.live.sse_response(&query),
        Err(detail) => crate::http::problem_response(
            &contract::Problem::new(400, "/problems/bad-query", "Invalid query string")
                .with_detail(detail),
        ),
    }
}

/// A running service: its HTTP server and its background workers, which
/// stop together. Each service's `Application` wraps one.
///
/// Stopping is one [`CancellationToken`]: the launcher (or a test) cancels
/// it, the HTTP server stops accepting and finishes what it holds, and every
/// worker finishes its pass and drains ([`crate::worker`]). The
/// [`TaskTracker`] is how `run_until_stopped` knows they all have.
pub struct Service {
    port: u16,
    server: actix_web::dev::Server,
    cancel: CancellationToken,
    tasks: TaskTracker,
    aborts: Aborts,
}

/// Every background task's abort handle, for [`ServiceHandle::kill`].
type Aborts = std::sync::Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>;

/// Stops a running service from outside (the launcher on Ctrl-C, tests).
#[derive(Clone)]
pub struct ServiceHandle {
    server: actix_web::dev::ServerHandle,
    cancel: CancellationToken,
    aborts: Aborts,
}

impl ServiceHandle {
    /// Tells the workers to stop, stops accepting requests and finishes the
    /// ones in progress.
    pub async fn stop(&self) {
        self.cancel.cancel();
        self.server.stop(true).await;
    }

    /// Asks the workers to stop without waiting (usable from `Drop`).
    pub fn request_stop(&self) {
        self.cancel.cancel();
    }

    /// Stops the service the way `kill -9` would, for the tests that check
    /// what a crash leaves behind: every background task is dropped where
    /// it stands — no last pass, no draining, no lease given back — and
    /// the HTTP server drops the requests it is serving.
    pub async fn kill(&self) {
        for task in self.aborts.lock().expect("aborts lock").drain(..) {
            task.abort();
        }
        self.server.stop(false).await;
    }
}

impl Service {
    /// Starts serving (see [`serve`]); workers are added with
    /// [`Service::spawn_worker`].
    fn start<F>(
        listener: TcpListener,
        workers: Option<usize>,
        http_metrics: HttpMetrics,
        routes: F,
    ) -> std::io::Result<Service>
    where
        F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
    {
        let port = listener.local_addr()?.port();
        let server = serve(listener, workers, http_metrics, routes)?;
        Ok(Service {
            port,
            server,
            cancel: CancellationToken::new(),
            tasks: TaskTracker::new(),
            aborts: Aborts::default(),
        })
    }

    /// Starts a service's app: its state and [`crate::guard::Guard`] in the
    /// app data, the operations routes (`/healthz`, `/metrics`, `/events`),
    /// then its own (`routes`, which also names the service's answer to
    /// unknown paths).
    /// Both services start this way, so they differ only in what they pass.
    pub fn start_app<S: Send + Sync + 'static>(
        listener: TcpListener,
        workers: Option<usize>,
        http_metrics: HttpMetrics,
        app: ServiceApp<S>,
        routes: fn(&mut web::ServiceConfig),
    ) -> std::io::Result<Service> {
        let ServiceApp { state, guard, ops } = app;
        let guard = web::Data::new(guard);
        Service::start(listener, workers, http_metrics, move |cfg| {
            cfg.app_data(state.clone()).app_data(guard.clone());
            ops_routes(cfg, ops.clone());
            routes(cfg);
        })
    }

    /// Runs a background worker for the life of the service.
    pub fn spawn_worker<W: Worker>(&self, worker: W, pacing: Pacing) {
        self.spawn_task(crate::worker::run(worker, pacing, self.cancel.clone()));
    }

    /// Runs a background task for the life of the service (tracked, so
    /// `run_until_stopped` waits for it, and abortable by
    /// [`ServiceHandle::kill`]); it should return soon after the service's
    /// cancellation token fires.
    fn spawn_task(&self, task: impl std::future::Future<Output = ()> + Send + 'static) {
        let handle = self.tasks.spawn(task);
        self.aborts
            .lock()
            .expect("aborts lock")
            .push(handle.abort_handle());
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Fires when the service is told to stop: for work that may be held
    /// longer than a worker's pass should be (a long poll), to let go.
    pub fn stopping(&self) -> CancellationToken {
        self.cancel.clone()
    }

    pub fn handle(&self) -> ServiceHandle {
        ServiceHandle {
            server: self.server.handle(),
            cancel: self.cancel.clone(),
            aborts: self.aborts.clone(),
        }
    }

    /// Serves until stopped, then lets the workers finish what they hold.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        self.cancel.cancel();
        self.tasks.close();
        self.tasks.wait().await;
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_urls_reach_the_service_from_this_machine() {
        assert_eq!(local_url("0.0.0.0", 8080), "http://127.0.0.1:8080");
        assert_eq!(local_url("::", 8081), "http://127.0.0.1:8081");
        assert_eq!(local_url("inventory", 8081), "http://inventory:8081");
        assert_eq!(local_url("::1", 9000), "http://[::1]:9000");
    }
}
