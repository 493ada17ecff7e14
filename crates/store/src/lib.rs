//! # The store
//!
//! A small online shop that hands its orders to a separate inventory
//! service in one of three ways — and shows every message it takes.
//!
//! * [`orders`] — placing an order: one transaction, then the mode's channel.
//! * [`integration`] — the three patterns, one module each:
//!   [`integration::webhook`] (push: outbox, dispatcher, signing, retries),
//!   [`integration::api`] (request/response to `/update_inventory`, voids),
//!   [`integration::poll`] (the pull feed and acknowledgements);
//!   plus [`integration::endpoints`], [`integration::deliveries`] and
//!   [`integration::retry`].
//! * [`timeline`] — the log of every exchange with the inventory.
//! * [`domain`] — what a valid order request is.
//! * [`routes`] — thin HTTP handlers; [`error`] — their problem+json.
//! * [`startup`] — `Application::build(config)` / `run_until_stopped()`.
//! * [`ui`] — the web pages; [`catalog`], [`compare`], [`flow`] and
//!   [`burst`] — what the pages read and run.

pub mod burst;
pub mod catalog;
pub mod compare;
pub mod config;
pub mod domain;
pub mod error;
pub mod flow;
pub mod integration;
pub mod orders;
pub mod routes;
pub mod seed;
pub mod startup;
pub mod state;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod timeline;
pub mod ui;

pub use config::StoreConfig;
pub use startup::{AppHandle, Application};
