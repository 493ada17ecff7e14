//! Chaos controls: break the inventory on purpose and watch each
//! integration pattern cope.
//!
//! * **down** — every integration request gets `503` with `Retry-After`,
//!   and the poller stops polling: webhooks queue up and retry, api
//!   checkouts fail at once, pulled orders simply wait.
//! * **slow** — added latency before each integration request is handled:
//!   api checkouts slow down (and time out past the store's timeout),
//!   webhooks do not care until they hit theirs.
//! * **fail the next N** — the next N integration requests get a `500`.
//! * **reject signatures** — the webhook receiver refuses every signature,
//!   as it would with a wrong secret.
//! * **drop webhooks** — the webhook receiver answers `200` and does
//!   nothing, as a receiver that loses messages would: the store counts
//!   them delivered and never retries. Webhook orders stay pending for good;
//!   hybrid orders land at the next reconciliation — why that mode exists.
//!
//! The controls apply to the integration endpoints only (`/update_inventory`,
//! `/webhooks/store`) and to the poller — never to the UI, so the learner
//! can always switch them off again. They live in memory: a restart heals.
//! A teaching instrument, not part of any pattern: the patterns only ever
//! see its effect — a slow answer, a 500, a 503, a refused signature —
//! exactly as they would see a real failure.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::InventoryError;

#[derive(Debug, Default)]
pub struct Chaos {
    down: AtomicBool,
    latency_ms: AtomicU64,
    fail_next: AtomicU32,
    reject_signatures: AtomicBool,
    drop_webhooks: AtomicBool,
}

/// The controls as the API shows and takes them.
/// Fields left out of a `PUT` are off (or zero).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ChaosSettings {
    /// Every integration request gets `503` with `Retry-After`; the poller
    /// stops.
    pub down: bool,
    /// Added before each integration request is handled (at most 120,000).
    #[schema(maximum = 120_000)]
    pub latency_ms: u64,
    /// The next N integration requests get a `500`.
    #[schema(value_type = i64, minimum = 0, maximum = 4_294_967_295_i64)]
    pub fail_next: u32,
    /// The webhook receiver refuses every signature.
    pub reject_signatures: bool,
    /// The webhook receiver answers `200` to every verified message and
    /// does nothing with it (a lost notification).
    pub drop_webhooks: bool,
}

/// The most latency chaos may add (2 minutes).
pub const MAX_LATENCY_MS: u64 = 120_000;

impl Chaos {
    pub fn settings(&self) -> ChaosSettings {
        ChaosSettings {
            down: self.down.load(Ordering::SeqCst),
            latency_ms: self.latency_ms.load(Ordering::SeqCst),
            fail_next: self.fail_next.load(Ordering::SeqCst),
            reject_signatures: self.reject_signatures.load(Ordering::SeqCst),
            drop_webhooks: self.drop_webhooks.load(Ordering::SeqCst),
        }
    }

    pub fn set(&self, s: &ChaosSettings) {
        self.down.store(s.down, Ordering::SeqCst);
        self.latency_ms
            .store(s.latency_ms.min(MAX_LATENCY_MS), Ordering::SeqCst);
        self.fail_next.store(s.fail_next, Ordering::SeqCst);
        self.reject_signatures
            .store(s.reject_signatures, Ordering::SeqCst);
        self.drop_webhooks.store(s.drop_webhooks, Ordering::SeqCst);
    }

    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::SeqCst)
    }

    pub fn drops_webhooks(&self) -> bool {
        self.drop_webhooks.load(Ordering::SeqCst)
    }

    pub fn rejects_signatures(&self) -> bool {
        self.reject_signatures.load(Ordering::SeqCst)
    }

    /// Passes an integration request through the controls: waits out the
    /// added latency, then refuses it if the service is "down" or one of the
    /// next N to fail.
    pub async fn gate(&self) -> Result<(), InventoryError> {
        let latency = self.latency_ms.load(Ordering::SeqCst);
        if latency > 0 {
            tokio::time::sleep(Duration::from_millis(latency)).await;
        }
        if self.is_down() {
            return Err(InventoryError::ChaosDown);
        }
        // Decrement only if positive, atomically, so concurrent requests
        // fail exactly N times in all.
        let took = self
            .fail_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        match took {
            Ok(before) => Err(InventoryError::ChaosFailure(before - 1)),
            Err(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn fail_next_fails_exactly_n_times() {
        let chaos = Chaos::default();
        chaos.set(&ChaosSettings {
            fail_next: 2,
            ..Default::default()
        });
        assert!(matches!(
            chaos.gate().await,
            Err(InventoryError::ChaosFailure(1))
        ));
        assert!(matches!(
            chaos.gate().await,
            Err(InventoryError::ChaosFailure(0))
        ));
        assert!(chaos.gate().await.is_ok());
        assert_eq!(chaos.settings().fail_next, 0);
    }

    #[tokio::test]
    async fn down_refuses_until_switched_off() {
        let chaos = Chaos::default();
        chaos.set(&ChaosSettings {
            down: true,
            ..Default::default()
        });
        assert!(matches!(chaos.gate().await, Err(InventoryError::ChaosDown)));
        chaos.set(&ChaosSettings::default());
        assert!(chaos.gate().await.is_ok());
    }
}
