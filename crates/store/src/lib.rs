//! # The store
//!
//! A small online shop that owns its orders and hands each one to a
//! separate inventory service in one of four ways — and shows every
//! message it takes. The store *pushes* an order, as an event (webhook
//! mode: it does not wait for the answer) or as a request it waits on (api
//! mode: request/response); or the inventory, which wants the orders,
//! *pulls* them from the store's feed (poll mode); or both at once
//! (hybrid mode: a thin notice pushed, the order pulled).
//!
//! ## Reading order
//!
//! Top-down: placing an order, each pattern in the order of its steps,
//! what they stand on, and what serves and shows them.
//!
//! 0. `contract` (its own crate) — the orders, events, answers and words
//!    the store and the inventory exchange.
//! 1. [`checkout`] — **placing an order**: one transaction for the order
//!    and what its mode writes with it, then the mode's hand-off, in one
//!    `match`. Start here.
//! 2. Each pattern ([`integration`], which also holds the mode switch):
//!    * **webhook** (push, an event) — [`integration::webhook`], in the
//!      order of its steps: [`outbox`](integration::webhook::outbox) →
//!      [`dispatcher`](integration::webhook::dispatcher) (handed over at
//!      birth, fair between endpoints) →
//!      [`claim`](integration::webhook::claim) (with a lease) →
//!      [`attempt`](integration::webhook::attempt) (sign, send) →
//!      [`retry`](integration::webhook::retry) (decide) →
//!      [`recorder`](integration::webhook::recorder) (record, resolve);
//!      then [`endpoints`](integration::webhook::endpoints) with its
//!      [`secrets`](integration::webhook::secrets) and
//!      [`resolver`](integration::webhook::resolver),
//!      [`destination`](integration::webhook::destination) and
//!      [`deliveries`](integration::webhook::deliveries) (the log,
//!      redeliver).
//!    * **api** (push, request/response) — [`integration::api`]: the call
//!      while the customer waits, its idempotency key, retries and lease;
//!      [`answers`](integration::api::answers) (recorded in one
//!      transaction); [`compensation`](integration::api::compensation)
//!      (the void owed when the answer was lost, and the sweep of calls a
//!      crashed store abandoned).
//!    * **poll** (pull) — [`integration::poll`]: the feed with its
//!      commit-ordered cursor, and the acknowledgement.
//!    * **hybrid** (a notice pushed, the order pulled) —
//!      [`integration::hybrid`]: the three parts it borrows from the modes
//!      above — a thin `order.notice` through the webhook outbox, the
//!      inventory's fetch of the order, the reconciliation's read of the
//!      feed — and what the combination costs and buys.
//! 3. What they stand on: [`orders`] — the order record every pattern
//!    resolves; [`idempotency`] — `Idempotency-Key`: the same order
//!    placed twice is placed once; [`timeline`] — the message log the
//!    patterns write; [`inbound`] — the inventory's requests (feed reads,
//!    acknowledgements, fetches) logged together; [`context`] — what pattern code takes; [`catalog`]
//!    — what it costs; [`api_keys`] — who may read the feed; [`error`] —
//!    the store's own failures (the shared ones are `platform::ApiError`);
//!    [`vocabulary`] — the store's own words (the shared ones are
//!    `contract::vocabulary`).
//! 4. Serving it: [`routes`] — thin handlers, described by [`openapi`] (an
//!    OpenAPI 3.1 document, with the webhooks the store sends); [`state`]
//!    — what the handlers hold; [`startup`] —
//!    `Application::build(config)` / `run_until_stopped()`; [`config`] —
//!    the flags and their defaults, written once; [`seed`] — the demo
//!    catalog; `testing` — a real store for tests.
//! 5. What shows the patterns: [`instruments`] — the comparison and the
//!    burst; [`ui`] — the web pages.

pub mod api_keys;
pub mod catalog;
pub mod checkout;
pub mod config;
pub mod context;
pub mod error;
pub mod idempotency;
pub mod inbound;
pub mod instruments;
pub mod integration;
pub mod live;
pub mod openapi;
pub mod orders;
pub mod routes;
pub mod seed;
pub mod startup;
pub mod state;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod timeline;
pub mod ui;
pub mod vocabulary;

pub use config::{StoreArgs, StoreConfig};
pub use startup::{AppHandle, Application};
