//! Logging set-up: `tracing` with an env filter (`RUST_LOG`), human-readable
//! by default. Requests get a span each from `tracing-actix-web`'s
//! `TracingLogger` (with a request id), and each webhook delivery attempt,
//! api call and poll opens its own span, so one order's trip can be followed
//! through the log of either service.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls are no-ops (tests call
/// it from many places).
pub fn init(default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
