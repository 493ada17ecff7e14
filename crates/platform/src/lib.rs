//! What both services stand on, so that neither re-implements it and the
//! service crates contain only what is particular to them. `contract`
//! stays free of I/O; this crate is where shared I/O lives.
//!
//! Read in this order:
//!
//! 1. [`clock`] — injected time, so retry schedules are tested exactly;
//!    [`backoff`] — the one way anything waits before trying again;
//!    [`worker`] — the one loop every background worker runs in.
//! 2. [`redact`] — what a record keeps of a message: every secret in it
//!    replaced by a hint; [`outbound`] — sending a request and recording
//!    exactly what crossed.
//! 3. [`db`] — one handle for SQLite and PostgreSQL through sqlx `Any`,
//!    embedded migrations, the two places the dialects differ;
//!    [`group_commit`] — many small transactions that arrive together,
//!    committed as one; [`fair_queue`] — waiting work shared fairly
//!    between the parties it is for; [`lease`] — work a process holds in
//!    the database under its name, renewed while it lives, taken over
//!    within seconds when it dies.
//! 4. [`error`] — the failures both APIs share, and their problem+json;
//!    [`http`] — problem+json for everything the framework rejects, body
//!    limits, the JSON body reader, bearer tokens and API-key hashing;
//!    [`limits`] — how many header bytes and how much time a request may
//!    take.
//! 5. [`ui`] — what both web UIs share: the page chrome, the response
//!    headers, formatting for people, errors as pages.
//! 6. [`guard`] — who may change things: no cross-site writes, and the
//!    operator's token ([`guard::login`]: the sign-in pages).
//! 7. [`live`] — the in-process event hub and its `GET /events` SSE
//!    stream; [`metrics`] — `GET /metrics` and per-route HTTP counters;
//!    [`telemetry`] — `tracing` set-up and a log line per request.
//! 8. [`server`] — the HTTP server and middleware stack both services run;
//!    [`config`] — settings' defaults, declared once (in clap).
//! 9. [`openapi`] — what both OpenAPI documents share, `GET /openapi.json`
//!    and the `/reference` page that reads it.
//! 10. `testing` — fresh databases per test on both backends, and the
//!     helpers that start and drive a service (only with the
//!     `test-support` feature: none of it is in the release binary).
//!
//! Each module uses only modules before it in this list, so it can be
//! read top to bottom. One method is the exception: a page's operator
//! link ([`ui::Layout::for_request`]) asks the [`guard`], and is written
//! there, so that the chrome itself knows nothing of the guard.

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
