//! What both services stand on, so that neither re-implements it and the
//! service crates contain only what is particular to them.
//!
//! * [`worker`] — the one loop every background worker runs in, and
//!   [`backoff`] — the one way anything waits before trying again.
//! * [`error`] — the failures both APIs share, and their problem+json.
//! * [`config`] — settings' defaults, declared once (in clap).
//! * [`db`] — one handle for SQLite and PostgreSQL through sqlx `Any`,
//!   embedded migrations, the two places the dialects differ; and
//!   [`group_commit`] — many small transactions that arrive together,
//!   committed as one; [`fair_queue`] — waiting work shared fairly
//!   between the parties it is for.
//! * [`clock`] — injected time, so retry schedules are tested exactly.
//! * [`lease`] — work a process holds in the database under its name,
//!   renewed while it lives, taken over within seconds when it dies.
//! * [`live`] — the in-process event hub and its `GET /events` SSE stream.
//! * [`limits`] — how many header bytes and how much time a request may take.
//! * [`http`] — problem+json for everything the framework rejects, body
//!   limits, bearer tokens and API-key hashing.
//! * [`outbound`] — sending a request and recording exactly what crossed;
//!   [`redact`] — with every secret in it replaced by a hint.
//! * [`metrics`] — `GET /metrics` and per-route HTTP counters.
//! * [`openapi`] — what both OpenAPI documents share, `GET /openapi.json`
//!   and the `/reference` page that reads it.
//! * [`server`] — the HTTP server and middleware stack both services run.
//! * [`telemetry`] — `tracing` set-up.
//! * [`ui`] — what both web UIs share: page chrome, headers, formatting.
//! * [`testing`] — fresh databases per test on both backends (only with
//!   the `test-support` feature: none of it is in the release binary).
//!
//! `contract` stays free of I/O; this crate is where shared I/O lives.

pub mod backoff;
pub mod clock;
pub mod config;
pub mod db;
pub mod error;
pub mod fair_queue;
pub mod group_commit;
pub mod guard;
pub mod http;
pub mod lease;
pub mod limits;
pub mod live;
pub mod metrics;
pub mod openapi;
pub mod outbound;
pub mod redact;
pub mod server;
pub mod telemetry;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod ui;
pub mod worker;

pub use backoff::Backoff;
pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use db::{Backend, Db};
pub use error::ApiError;
pub use live::LiveHub;
