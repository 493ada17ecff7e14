//! Logging set-up: `tracing` with an env filter (`RUST_LOG`). Each request
//! gets a span from `tracing-actix-web`'s `TracingLogger` (with a request
//! id), each webhook delivery and each api call one of its own, so one
//! order's trip can be followed through the log of either service.
//!
//! A span alone writes nothing: a subscriber prints *events*, with the
//! spans they happen in as context. So that an operator reading a
//! container's log sees every request, [`log_request`] writes one event
//! per request once it is answered (method, path, status, latency) at
//! `info`, the level the services log at; the webhook attempt, the api
//! call and the poll each write theirs where they happen. The demo's
//! terminal filter (`warn` but for the launcher) keeps them out of
//! `cargo run`, where the pages show every message anyway.
//!
//! Two formats, chosen by `LOG_FORMAT`: human-readable lines (the default,
//! for a person at a terminal), or `json` — one JSON object per line, with
//! the current span and its parents, for a log collector (Loki, Elastic,
//! CloudWatch) to index without a parsing rule.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use tracing_subscriber::EnvFilter;

/// The variable that picks the log format: `json`, or anything else (or
/// nothing) for human-readable text.
pub const LOG_FORMAT: &str = "LOG_FORMAT";

/// Which format the logs are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl LogFormat {
    /// From the value of `LOG_FORMAT` (unset or unknown: text).
    fn from_env_value(value: Option<&str>) -> LogFormat {
        match value.map(|v| v.trim().to_ascii_lowercase()) {
            Some(v) if v == "json" => LogFormat::Json,
            _ => LogFormat::Text,
        }
    }

    /// The format this process logs in (what [`init`] installed).
    pub fn from_env() -> LogFormat {
        LogFormat::from_env_value(std::env::var(LOG_FORMAT).ok().as_deref())
    }
}

/// Installs the global subscriber once; later calls are no-ops (tests call
/// it from many places).
pub fn init(default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let format = LogFormat::from_env();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .try_init(),
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
    };
}

/// Paths that machines ask on a timer — a container's health probe every
/// few seconds, a metrics scrape — logged at `debug`: a line each would
/// bury the requests a person or the other service made.
const ASKED_ON_A_TIMER: [&str; 2] = ["/healthz", "/metrics"];

/// Middleware (`from_fn(log_request)`): one log line per request, once it
/// is answered. [`crate::server`] mounts it just inside `TracingLogger`,
/// so the line sits in the request's span and carries its request id.
/// The path without its query (a query is the client's to fill), and the
/// latency to the response's head: a streamed body (`/events`) is not
/// waited for.
pub async fn log_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.path().to_owned();
    let answer = next.call(req).await;
    let status = match &answer {
        Ok(response) => response.status(),
        Err(e) => e.as_response_error().status_code(),
    }
    .as_u16();
    let latency_ms = started.elapsed().as_millis() as u64;
    // A `tracing` level is fixed at each call site, hence two.
    if ASKED_ON_A_TIMER.contains(&path.as_str()) {
        tracing::debug!(%method, %path, status, latency_ms, "answered");
    } else {
        tracing::info!(%method, %path, status, latency_ms, "answered");
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_is_read_from_the_variable() {
        assert_eq!(LogFormat::from_env_value(None), LogFormat::Text);
        assert_eq!(LogFormat::from_env_value(Some("json")), LogFormat::Json);
        assert_eq!(LogFormat::from_env_value(Some(" JSON ")), LogFormat::Json);
        assert_eq!(LogFormat::from_env_value(Some("pretty")), LogFormat::Text);
    }
}
