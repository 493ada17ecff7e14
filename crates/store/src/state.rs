//! What every handler and background worker of the store shares.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use tokio::sync::Notify;

use platform::group_commit::GroupCommit;
use platform::lease::Leases;
use platform::{Db, LiveHub, SharedClock};

use crate::checkout::Placements;
use crate::config::StoreConfig;
use crate::integration::api::Answers;
use crate::integration::webhook::Dispatch;
use crate::integration::webhook::endpoints::ResolverUrl;
use crate::integration::webhook::recorder::Recorder;
use crate::integration::webhook::targets::Targets;

pub struct AppState {
    pub db: Db,
    pub clock: SharedClock,
    pub live: LiveHub,
    pub config: Arc<StoreConfig>,
    /// For `/update_inventory` and voids: short timeout, no redirects.
    pub api_client: reqwest::Client,
    /// For webhook attempts: the webhook timeout, no redirects.
    pub webhook_client: reqwest::Client,
    /// Wakes the webhook dispatcher (work handed over, or due).
    pub dispatcher_wake: Arc<Notify>,
    /// Orders placed at the same moment, written in one transaction.
    pub placements: GroupCommit<Placements>,
    /// Hands new webhook deliveries to the dispatcher; says when the
    /// database has some due.
    pub dispatch: Arc<Dispatch>,
    /// Each endpoint's URL, format and secrets, kept for the attempts.
    pub webhook_targets: Targets,
    /// The one endpoint URL whose answers resolve webhook orders: the
    /// inventory's receiver.
    pub webhook_resolver: ResolverUrl,
    /// Webhook attempts that finished at the same moment, recorded in one
    /// transaction.
    pub webhook_recorder: GroupCommit<Recorder>,
    /// The inventory's answers to api-mode orders that came at the same
    /// moment, recorded in one transaction.
    pub api_results: GroupCommit<Answers>,
    /// The api calls this process is making, leased (and renewed) so that
    /// no other process settles their orders meanwhile.
    pub api_calls: Arc<Leases>,
    /// Wakes the compensation worker when a void is owed.
    pub compensation_wake: Arc<Notify>,
    pub metrics: StoreMetrics,
    pub registry: Arc<Registry>,
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
