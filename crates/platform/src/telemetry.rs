//! Logging set-up: `tracing` with an env filter (`RUST_LOG`). Requests get a
//! span each from `tracing-actix-web`'s `TracingLogger` (with a request id),
//! and each webhook delivery attempt, api call and poll opens its own span,
//! so one order's trip can be followed through the log of either service.
//!
//! Two formats, chosen by `LOG_FORMAT`: human-readable lines (the default,
//! for a person at a terminal), or `json` — one JSON object per line, with
//! the current span and its parents, for a log collector (Loki, Elastic,
//! CloudWatch) to index without a parsing rule.

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
    pub fn from_env_value(value: Option<&str>) -> LogFormat {
        match value.map(|v| v.trim().to_ascii_lowercase()) {
            Some(v) if v == "json" => LogFormat::Json,
            _ => LogFormat::Text,
        }
    }
}

/// Installs the global subscriber once; later calls are no-ops (tests call
/// it from many places).
pub fn init(default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let format = LogFormat::from_env_value(std::env::var(LOG_FORMAT).ok().as_deref());
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
