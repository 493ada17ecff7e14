//! What every handler and background task of the inventory shares.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use tokio::sync::Notify;

use contract::{ApplyOutcome, IntegrationMode, OrderId, VerdictKind};
use platform::group_commit::GroupCommit;
use platform::{Db, LiveHub, SharedClock};

use crate::config::InventoryConfig;
use crate::instruments::chaos::Chaos;
use crate::instruments::messages::LogWriter;
use crate::integration::apply::Applied;
use crate::integration::intake::Intake;
use crate::integration::subscription::{SecretCheck, Secrets};

pub struct AppState {
    pub db: Db,
    pub clock: SharedClock,
    pub live: LiveHub,
    pub config: Arc<InventoryConfig>,
    /// Calls to the store: subscription, feed, acknowledgements.
    pub client: reqwest::Client,
    pub chaos: Arc<Chaos>,
    /// Wakes the poller (resume, interval change, "poll now").
    pub poller_wake: Arc<Notify>,
    pub metrics: InventoryMetrics,
    pub registry: Arc<Registry>,
    /// Webhooks and api calls that arrive at the same moment, applied in
    /// one transaction.
    pub intake: GroupCommit<Intake>,
    /// The message log, written many entries at a time.
    pub log: GroupCommit<LogWriter>,
    /// The secrets webhooks are verified with, kept in memory.
    pub webhook_secrets: Secrets,
    /// Asks for our secret to be checked against the store's when a
    /// signature matches none of them (at most once per interval).
    pub secret_check: SecretCheck,
    /// The API keys `/update_inventory` accepts, kept in memory.
    pub api_keys: crate::keys::KeyCache,
}

impl AppState {
    /// After an order was taken in by any channel: the first time, count it
    /// and tell open pages that the stock moved (a repeat moved nothing).
    pub fn note_applied(&self, channel: IntegrationMode, order_id: &OrderId, applied: &Applied) {
        if !applied.first_time {
            return;
        }
        self.metrics
            .orders_applied
            .get_or_create(&ApplyLabels::new(channel, applied.outcome))
            .inc();
        self.live.publish(
            contract::LiveEventKind::StockChanged,
            serde_json::json!({"order_id": order_id, "stock": applied.stock}),
        );
    }
}

/// Orders applied, by the mode whose channel brought them and outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ApplyLabels {
    pub channel: String,
    pub outcome: String,
}

impl ApplyLabels {
    pub fn new(channel: IntegrationMode, outcome: ApplyOutcome) -> ApplyLabels {
        ApplyLabels {
            channel: channel.as_str().into(),
            outcome: outcome.as_str().into(),
        }
    }
}

/// Webhooks received, by the kind of verdict.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct VerdictLabels {
    pub verdict: String,
}

impl VerdictLabels {
    pub fn new(kind: VerdictKind) -> VerdictLabels {
        VerdictLabels {
            verdict: kind.as_str().into(),
        }
    }
}

#[derive(Clone, Default)]
pub struct InventoryMetrics {
    pub orders_applied: Family<ApplyLabels, Counter>,
    pub webhooks_received: Family<VerdictLabels, Counter>,
    pub polls: Counter,
    pub empty_polls: Counter,
    pub poll_failures: Counter,
    pub secret_checks: Counter,
}

impl InventoryMetrics {
    pub fn register(registry: &mut Registry) -> InventoryMetrics {
        let m = InventoryMetrics::default();
        registry.register(
            "inventory_orders_applied",
            "Orders seen for the first time, by channel and outcome",
            m.orders_applied.clone(),
        );
        registry.register(
            "inventory_webhooks_received",
            "Webhook requests received, by verdict",
            m.webhooks_received.clone(),
        );
        registry.register(
            "inventory_polls",
            "Requests to the store's order feed",
            m.polls.clone(),
        );
        registry.register(
            "inventory_empty_polls",
            "Feed requests that found nothing to apply",
            m.empty_polls.clone(),
        );
        registry.register(
            "inventory_poll_failures",
            "Feed requests that failed",
            m.poll_failures.clone(),
        );
        registry.register(
            "inventory_webhook_secret_checks",
            "Checks of our webhook secret against the store's, asked for by signatures that matched none of ours (at most one per interval)",
            m.secret_checks.clone(),
        );
        m
    }
}
