//! # The store
//!
//! A small online shop that hands its orders to a separate inventory
//! service in one of three ways — and shows every message it takes.
//!
//! ## Reading order
//!
//! The patterns first, then what they stand on, then what shows them:
//!
//! 1. [`checkout`] — placing an order: one transaction, then the mode's
//!    [`Handoff`](integration::Handoff). Start here.
//! 2. [`integration`] — the three patterns and the switch between them.
//!    1. [`integration::webhook`] — push, in the order of its steps:
//!       [`outbox`](integration::webhook::outbox) →
//!       [`dispatcher`](integration::webhook::dispatcher) →
//!       [`attempt`](integration::webhook::attempt) →
//!       [`retry`](integration::webhook::retry); then
//!       [`endpoints`](integration::webhook::endpoints),
//!       [`destination`](integration::webhook::destination) and
//!       [`deliveries`](integration::webhook::deliveries).
//!    2. [`integration::api`] — request/response while the customer waits,
//!       and [`integration::compensation`] — voiding what a rejected order
//!       may have taken.
//!    3. [`integration::poll`] — the pull feed with its commit-ordered
//!       cursor, and the acknowledgement.
//! 3. [`idempotency`] — `Idempotency-Key`: the same order placed twice is
//!    placed once.
//! 4. [`orders`] — the order record every pattern resolves (what a valid
//!    order request is, is `contract::validation`'s, the same at every
//!    door); [`catalog`] — what it costs.
//! 5. [`routes`] — thin HTTP handlers; [`error`] — their problem+json;
//!    [`api_keys`] — who may read the feed and manage the inventory's
//!    webhook subscription
//!    (the operator is `platform::guard`'s); [`openapi`] — all of it as an
//!    OpenAPI 3.1 document, with the webhooks the store sends.
//! 6. [`config`], [`state`], [`startup`] — settings (one copy of every
//!    default, clap's), what handlers and workers share, and
//!    `Application::build(config)` / `run_until_stopped()`.
//! 7. [`vocabulary`] — the store's own words (the shared ones are
//!    `contract::vocabulary`); every query reads its rows into typed
//!    `#[derive(sqlx::FromRow)]` structs.
//! 8. [`instruments`] — what measures and shows the patterns and is not
//!    part of them: the message log, the comparison, the burst.
//! 9. [`ui`] — the web pages; [`seed`] — the demo catalog.

pub mod api_keys;
pub mod catalog;
pub mod checkout;
pub mod config;
pub mod context;
pub mod error;
pub mod idempotency;
pub mod instruments;
pub mod integration;
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
