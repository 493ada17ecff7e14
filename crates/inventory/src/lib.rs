//! # The inventory
//!
//! Stock per SKU, and the receiving end of the store's four integration
//! patterns — all of which end in one idempotent call. The store is the
//! orders' owner: it *pushes* them here, as an event (webhook mode: it
//! does not wait for the stock) or as a request it waits on (api mode:
//! request/response) — or the inventory, which wants them, *pulls* them
//! from the store's feed (poll mode); or both (hybrid mode: a thin notice
//! pushed here, the order pulled from the store).
//!
//! ## Reading order
//!
//! Top-down: the words both services share, the one call every pattern
//! ends in, each pattern's side here, what they stand on, and what shows
//! them.
//!
//! 0. `contract` (its own crate) — the orders, events, answers and words
//!    the store and the inventory exchange.
//! 1. [`integration::apply`] — **the one apply**: claim the order id, take
//!    the stock, write it down; the count and the live update once that
//!    committed; and the void that undoes it.
//! 2. Each pattern's receiving or asking side ([`integration`]):
//!    * **webhook** (push, an event) — [`integration::webhook_receiver`]:
//!      verify the raw bytes, dedupe on `webhook-id`, apply once, answer
//!      fast; with the secrets it verifies with
//!      ([`integration::webhook_secrets`]), which
//!      [`integration::subscription`] gets by registering the receiver
//!      with the store — and checks again when signatures stop verifying.
//!    * **api** (push, request/response) —
//!      [`integration::update_inventory`]: authenticate, read JSON or
//!      XML, check the key, apply, answer (a repeat gets the first
//!      answer); and the void, its compensation.
//!    * **poll** (pull) — [`integration::poller`]: read a page, apply,
//!      acknowledge, and only then advance the cursor
//!      ([`integration::poller::cursor`]); its timer and back-off
//!      ([`integration::poller::worker`]).
//!    * **hybrid** (a notice pushed, the order pulled) — the receiver
//!      above verifies a thin notice, then [`integration::notice`]
//!      fetches the order from the store and hands it to the one apply;
//!      the poller, reading only hybrid orders on a slow timer with a
//!      cursor of its own, is the reconciliation.
//!    * [`integration::intake`] — what the store sends at the same moment,
//!      applied in one transaction (group commit, `platform`'s).
//! 3. What they stand on: [`idempotency`] — *at most once*: the ledger of
//!    applied orders, the webhook inbox, the request hash; [`stock`] —
//!    units on hand, taken all or nothing; [`context`] — what pattern
//!    code takes; [`store_api`] — the store, as the inventory calls it;
//!    [`keys`] — hashed API keys; [`reply`] — answers in JSON or XML,
//!    readable until sent; [`error`] — the inventory's own failures (the
//!    shared ones are `platform::ApiError`).
//! 4. Serving it: [`routes`] — thin handlers, described by [`openapi`] (an
//!    OpenAPI 3.1 document); [`state`] — what the handlers hold;
//!    [`startup`] — `Application::build(config)` / `run_until_stopped()`;
//!    [`config`] — the flags and their defaults, written once; [`seed`] —
//!    the demo stock; `testing` — a real inventory for tests.
//! 5. What shows the patterns and what breaks them: [`instruments`] — the
//!    message log, the counters, the cost of polling, the chaos switch;
//!    [`ui`] — the web pages: stock, messages, chaos, poller, keys, the
//!    API reference.

pub mod config;
pub mod context;
pub mod error;
pub mod idempotency;
pub mod instruments;
pub mod integration;
pub mod keys;
pub mod live;
pub mod openapi;
pub mod reply;
pub mod routes;
pub mod seed;
pub mod startup;
pub mod state;
pub mod stock;
pub mod store_api;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod ui;

pub use config::InventoryConfig;
pub use startup::{AppHandle, Application};
