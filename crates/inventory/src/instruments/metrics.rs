//! The inventory's own counters, served at `GET /metrics` (Prometheus's
//! text format) beside the HTTP counters every service has
//! (`platform::metrics`): orders applied per channel and outcome, webhooks
//! per verdict, what polling costs, and how often a bad signature asked
//! for our secret to be checked.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use contract::{ApplyOutcome, IntegrationMode, VerdictKind};

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

/// Cheap to clone: every counter is shared with the registry.
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
