//! What every part of the store runs in: its database, its clock, its live
//! events, its settings and its counters — the [`Context`] every pattern
//! takes, and nothing of any pattern's own machinery.
//!
//! Each pattern owns its state beside its code (the webhook dispatcher in
//! `integration::webhook::Webhooks`, the api calls in
//! `integration::api::ApiCalls`, the group commit of new orders in
//! `checkout::Checkout`); what they share is this, cheap to clone (every
//! field is a handle). The road not taken — one `AppState` holding
//! everything, taken by everything — made every module a neighbour of
//! every other: a reader following an order could not tell which parts a
//! pattern needs.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use platform::group_commit::GroupCommit;
use platform::{Db, LiveHub, SharedClock};

use crate::inbound::InboundLog;
use crate::integration::poll::wait::FeedBell;
use crate::orders::OrderReads;

use crate::config::StoreConfig;

/// The database, the clock, live events, settings and counters.
#[derive(Clone)]
pub struct Context {
    pub db: Db,
    pub clock: SharedClock,
    pub live: LiveHub,
    pub config: Arc<StoreConfig>,
    pub metrics: StoreMetrics,
    /// The log of what the inventory asks of the store, written many
    /// requests per transaction (`crate::inbound`).
    pub inbound: Arc<GroupCommit<InboundLog>>,
    /// Reads orders by id, many per statement (`crate::orders::OrderReads`):
    /// hybrid mode's fetches.
    pub order_reads: Arc<GroupCommit<OrderReads>>,
    /// Rung when orders commit, for long-polled feed reads
    /// (`integration::poll::wait`).
    pub feed_bell: FeedBell,
    /// API keys already checked against the table (`crate::api_keys`).
    pub known_keys: KnownKeys,
}

/// The hashes of API keys the table has accepted, remembered so that each
/// is looked up once per process (why that is safe: `crate::api_keys`).
/// Only accepted keys go in, so it holds no more than the keys the store
/// was ever configured with.
#[derive(Clone, Default)]
pub struct KnownKeys(Arc<RwLock<HashSet<String>>>);

impl KnownKeys {
    pub(crate) fn knows(&self, hash: &str) -> bool {
        self.0.read().map(|k| k.contains(hash)).unwrap_or(false)
    }

    pub(crate) fn remember(&self, hash: String) {
        if let Ok(mut known) = self.0.write() {
            known.insert(hash);
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ModeLabels {
    pub mode: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ModeStatusLabels {
    pub mode: String,
    pub status: String,
}

/// The store's domain counters (HTTP counters come from `platform`).
#[derive(Clone, Default)]
pub struct StoreMetrics {
    pub orders_placed: Family<ModeLabels, Counter>,
    pub orders_resolved: Family<ModeStatusLabels, Counter>,
    pub webhook_attempts: Family<OutcomeLabels, Counter>,
    pub api_calls: Family<OutcomeLabels, Counter>,
    pub feed_reads: Counter,
    pub acknowledgements: Counter,
}

impl StoreMetrics {
    pub fn register(registry: &mut Registry) -> StoreMetrics {
        let m = StoreMetrics::default();
        registry.register(
            "store_orders_placed",
            "Orders placed, by integration mode",
            m.orders_placed.clone(),
        );
        registry.register(
            "store_orders_resolved",
            "Orders that left `pending`, by mode and final status",
            m.orders_resolved.clone(),
        );
        registry.register(
            "store_webhook_attempts",
            "Webhook delivery attempts, by outcome",
            m.webhook_attempts.clone(),
        );
        registry.register(
            "store_api_calls",
            "Calls to /update_inventory, by outcome",
            m.api_calls.clone(),
        );
        registry.register(
            "store_feed_reads",
            "Pages of the order feed served",
            m.feed_reads.clone(),
        );
        registry.register(
            "store_acknowledgements",
            "Acknowledgements of polled orders received",
            m.acknowledgements.clone(),
        );
        m
    }
}
