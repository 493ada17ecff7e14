//! The HTTP server both services run: the same middleware stack, limits
//! and shutdown behaviour, so the two differ only in their routes.
//!
//! Middleware, outermost first: a `tracing` span per request (with a
//! request id), per-route metrics, and the problem+json safety net. Every
//! extractor gets the shared body limit and problem-producing error
//! handlers.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use tracing_actix_web::TracingLogger;

use crate::http::{form_config, json_config, path_config, payload_config, problem_errors, query_config};
use crate::metrics::{HttpMetrics, track_http};

/// Seconds a graceful stop waits for open connections. Short, because the
/// live pages hold Server-Sent Events streams open indefinitely.
pub const SHUTDOWN_TIMEOUT_SECS: u64 = 2;

/// Binds `address:port` (port 0 picks a free one).
pub fn bind(address: &str, port: u16) -> std::io::Result<TcpListener> {
    TcpListener::bind((address, port))
}

/// Starts serving `routes` on `listener`. `routes` registers the service's
/// state (`cfg.app_data(...)`), its routes and its default service.
/// Signals are not handled here: the launcher decides when to stop.
pub fn serve<F>(
    listener: TcpListener,
    workers: Option<usize>,
    http_metrics: HttpMetrics,
    routes: F,
) -> std::io::Result<Server>
where
    F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
{
    let http_metrics = web::Data::new(http_metrics);
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(http_metrics.clone())
            .app_data(json_config())
            .app_data(payload_config())
            .app_data(query_config())
            .app_data(path_config())
            .app_data(form_config())
            .wrap(problem_errors())
            .wrap(from_fn(track_http))
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
