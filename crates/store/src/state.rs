//! What the store's handlers and pages hold: the [`Context`] and each
//! pattern's machinery, put together once at start-up
//! (`crate::startup`). Pattern code never takes this — it takes the
//! context and its own machinery — so nothing below the handlers depends
//! on everything.

use std::sync::Arc;

use prometheus_client::registry::Registry;

use crate::checkout::Checkout;
use crate::context::Context;
use crate::integration::api::ApiCalls;
use crate::integration::webhook::Webhooks;

pub struct AppState {
    pub ctx: Context,
    /// Placing orders.
    pub checkout: Checkout,
    /// Push: endpoints, the outbox's dispatcher, deliveries.
    pub webhooks: Arc<Webhooks>,
    /// Request/response: calls to `/update_inventory`, and voids.
    pub api: Arc<ApiCalls>,
    pub registry: Arc<Registry>,
}
