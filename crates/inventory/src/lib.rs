//! # The inventory
//!
//! Stock per SKU, and the receiving end of the store's three integration
//! patterns — all of which end in one idempotent function,
//! [`stock::apply_order_once`].
//!
//! * [`integration`] — [`integration::update_inventory`] (api mode),
//!   [`integration::webhook_receiver`] (push), [`integration::poller`]
//!   (pull), [`integration::subscription`] (registering for webhooks).
//! * [`stock`] — taking stock all-or-nothing, once per order; voids; restock.
//! * [`chaos`] — breaking the service on purpose.
//! * [`keys`] — hashed API keys; [`messages`] — the message log.
//! * [`routes`] — thin handlers; [`error`] — problem+json (and +xml).
//! * [`startup`] — `Application::build(config)` / `run_until_stopped()`.
//! * [`ui`] — the web pages: stock, messages, chaos, poller, keys.

pub mod chaos;
pub mod config;
pub mod error;
pub mod integration;
pub mod keys;
pub mod messages;
pub mod routes;
pub mod seed;
pub mod startup;
pub mod state;
pub mod stock;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod ui;

pub use config::InventoryConfig;
pub use startup::{AppHandle, Application};
