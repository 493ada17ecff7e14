//! # The inventory
//!
//! Stock per SKU, and the receiving end of the store's three integration
//! patterns — all of which end in one idempotent call.
//!
//! ## Reading order
//!
//! 1. [`stock`] — units on hand, taken all or nothing across an order's
//!    lines, with every change written down.
//! 2. [`idempotency`] — *at most once*: the ledger of applied orders keyed
//!    by order id, the webhook inbox keyed by `webhook-id`, the request hash
//!    that catches a reused `Idempotency-Key`.
//! 3. [`integration::apply`] — the one call every channel ends in:
//!    claim the order id, take the stock, settle the claim; and the void
//!    that undoes it.
//! 4. [`integration::update_inventory`] — **api**: the store asks and
//!    waits; authenticate, read JSON or XML, check the key, apply, answer
//!    (a repeat gets the first answer).
//! 5. [`integration::webhook_receiver`] — **push**: verify the raw bytes,
//!    dedupe on `webhook-id`, apply once, answer fast.
//! 6. [`integration::poller`] — **pull**: read a page, apply, acknowledge,
//!    and only then advance the cursor.
//! 7. [`integration::subscription`] — how the inventory registers its
//!    receiver with the store and keeps the signing secret — checking it
//!    against the store's when signatures stop verifying.
//!
//! Around the patterns, not part of them:
//!
//! 8. [`instruments`] — what shows them and what breaks them: the message
//!    log, the cost of polling, the chaos switch.
//! 9. [`keys`] — hashed API keys; [`error`] — the inventory's own failures
//!    (the shared ones are `platform::ApiError`); [`reply`] — answers in
//!    JSON or XML, readable until sent.
//! 10. [`routes`] — thin handlers, described by [`openapi`] (an OpenAPI 3.1
//!     document); [`ui`] — the web pages: stock, messages, chaos, poller,
//!     keys, the API reference.
//! 11. [`config`] — the flags and their defaults, written once;
//!     [`startup`] — `Application::build(config)` / `run_until_stopped()`;
//!     [`state`] — what every handler and worker shares; [`seed`] — the
//!     demo stock.

pub mod config;
pub mod context;
pub mod error;
pub mod idempotency;
pub mod instruments;
pub mod integration;
pub mod keys;
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
