//! **Subscribing to the store's webhooks.** The inventory is the endpoint
//! *owner*: on start it registers its own receiver URL
//! (`{INVENTORY_URL}/webhooks/store`) with the store, and keeps the signing
//! secret the store answers with — the same dance a developer does by hand
//! in Stripe's dashboard, automated. The [`Subscriber`]'s `subscribe_once`
//! reads in order:
//!
//! 1. **register** the receiver URL, with the store's API key. That URL is
//!    what makes this endpoint the *resolver*, whose answers decide webhook
//!    orders (the store gives the role to its configured inventory's
//!    receiver URL, whoever registers it; any other endpoint only
//!    observes); registration is idempotent on the URL, so restarts (and a
//!    second inventory process behind the same URL) do not pile up
//!    endpoints;
//! 2. **keep the secret** the store answers with;
//! 3. an endpoint registered before comes back *without* its secret (it is
//!    shown only once), but with a **fingerprint** of each secret that
//!    signs for it now (`contract::signing::WebhookSecret::fingerprint`).
//!    If we hold one of those, all is well. If we hold none — a wiped
//!    database, or someone rotated the secret at the store (the settings
//!    page, or `POST …/rotate-secret` with no grace) and we never got the
//!    new one — **rotate** it, and keep the new one. The store keeps
//!    signing with the old ones during the grace period.
//!
//! **Agreeing again, by ourselves.** Step 3 runs at start, and again
//! whenever a webhook arrives whose signature matches none of our secrets
//! ([`SecretCheck`](super::webhook_secrets::SecretCheck)): without it a
//! rotation we did not make would leave every delivery a `401` for good —
//! even across restarts, since we would still hold *a* secret, just not
//! the store's. Anyone can send us a bad
//! signature, so a bad signature only ever asks for the check, never for a
//! rotation: the fingerprints, read from the store with its key, are what
//! decide. And the check runs at most once per interval, so a flood of
//! forged webhooks costs the store one request per interval.
//!
//! The road not taken: the store handing the new secret over when the
//! resolver's secret is rotated — a push of a secret into a service that
//! may be down, or slow, or a second process, which must then be retried
//! and recorded somewhere. Asking is simpler: the inventory knows when its
//! signatures stop verifying.
//!
//! Until the store answers at all, the subscriber retries with backoff —
//! the store may simply not be up yet.
//!
//! **Is it still there?** The store owns the list of endpoints: a person
//! may delete or disable ours there at any time, and nothing tells us (a
//! store that stops sending has no one to send the news to). So whoever
//! wants to know — the status card, when it is drawn — asks
//! ([`Subscriber::check_at_store`]): `GET /api/webhook-endpoints/{id}` with
//! the store's key, which reads the inventory's own endpoint and no other,
//! with a one-second timeout so a slow store makes the card say it could
//! not ask rather than hold the page. The check is a read made for a page,
//! not part of the integration, so it is not written to the message log
//! (the card is drawn again on every change of the wiring). A deleted
//! endpoint is fixed by subscribing once more ([`Subscriber::resubscribe`],
//! the card's button); a disabled one only by whoever disabled it, at the
//! store — registering its URL again finds it, still disabled, and the
//! store's key may not enable it (that is the operator's call).
//!
//! The store's answer carries the secret; the message log records it with
//! the secret hinted (`platform::redact`), so no page or list of this
//! inventory shows it — only this code, reading the answer, ever sees it.
//! The fingerprints are not secret, and the log shows them.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use thiserror::Error;

use contract::{Channel, EndpointId, Verdict, VerdictKind};
use platform::outbound::Recorded;
use platform::worker::{Next, Pacing, Worker};
use platform::{Backoff, Db};

use super::webhook_secrets::{self, Secrets};
use crate::config::InventoryConfig;
use crate::context::Context;
use crate::instruments::messages::NewMessage;
use crate::store_api::{self, CallFailed, StoreApi};

/// Where the inventory is subscribed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Subscription {
    #[sqlx(try_from = "String")]
    pub endpoint_id: EndpointId,
    pub store_url: String,
}

/// The newest subscription, for the UI. Two secrets kept in the same
/// millisecond (or on a clock that stood still) are told apart by their
/// endpoint ids, which are UUIDv7 and so grow with time: a subscription
/// made again after a deletion wins over the deleted one.
pub async fn current(db: &Db) -> Result<Option<Subscription>, sqlx::Error> {
    sqlx::query_as(
        "SELECT endpoint_id, store_url FROM webhook_secrets \
         ORDER BY added_at DESC, endpoint_id DESC LIMIT 1",
    )
    .fetch_optional(db.pool())
    .await
}

/// The URL the store should deliver to.
fn receiver_url(config: &InventoryConfig) -> String {
    format!(
        "{}{}",
        config.url.trim_end_matches('/'),
        contract::inventory::WEBHOOK_RECEIVER_PATH
    )
}

/// The store's endpoint, as its answer about it describes it (`201`/`200`,
/// a rotation, or a read).
#[derive(Deserialize)]
struct Endpoint {
    id: EndpointId,
    /// Absent from stores that do not say: taken as enabled.
    #[serde(default = "enabled_by_default")]
    enabled: bool,
    #[serde(default)]
    disabled_reason: Option<String>,
    /// Only when the endpoint was created, or its secret rotated.
    secret: Option<String>,
    /// A fingerprint of each secret that signs for it now. A store that
    /// shows none (any Standard Webhooks sender may not) cannot be checked
    /// against: then a secret we hold for the endpoint is taken as current,
    /// as it always was.
    #[serde(default)]
    secret_fingerprints: Option<Vec<String>>,
}

fn enabled_by_default() -> bool {
    true
}

/// How long the status card waits for the store's word on our endpoint:
/// a page drawn for a person should not hang on a slow store.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(1);

/// What the store says of our endpoint, asked just now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AtTheStore {
    /// It exists and is enabled: events are sent to us.
    Registered,
    /// The store has no such endpoint any more (`404`).
    Deleted,
    /// It exists but is disabled: nothing is sent until it is enabled
    /// there; the store's reason, if it gave one.
    Disabled(Option<String>),
    /// We could not find out.
    Unknown(CheckFailed),
}

/// Why the store could not be asked about our endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CheckFailed {
    /// No answer (within [`CHECK_TIMEOUT`]), in the transport's words.
    #[error("{0}")]
    NoAnswer(String),
    #[error("the store answered {0}")]
    Refused(u16),
    #[error("unreadable answer: {0}")]
    Unreadable(String),
}

/// The subscription: keeps trying to be subscribed until it succeeds or
/// the service stops; then, each time a bad signature asks for a check of
/// our secret, does it again — the registration is idempotent, so that is
/// the check.
#[derive(Clone)]
pub struct Subscriber {
    ctx: Context,
    store: StoreApi,
    /// Where a secret the store gives us is kept, for the receiver.
    secrets: Arc<Secrets>,
    failures: u32,
}

/// Half a second, doubling up to 30 s: quick while the store starts up
/// beside us, patient if it is really gone.
fn retry_backoff() -> Backoff {
    Backoff::exponential(Duration::from_millis(500), Duration::from_secs(30))
}

impl Subscriber {
    pub fn new(ctx: Context, store: StoreApi, secrets: Arc<Secrets>) -> Subscriber {
        Subscriber {
            ctx,
            store,
            secrets,
            failures: 0,
        }
    }

    /// Paced by its own back-off, and woken by a bad signature's request
    /// for a check.
    pub fn pacing(&self) -> Pacing {
        Pacing {
            clock: self.ctx.clock.clone(),
            wake: self.secrets.check_wake(),
            sweep: None,
        }
    }

    /// Asks the store whether `endpoint` still exists and is enabled.
    pub async fn check_at_store(&self, endpoint: &EndpointId) -> AtTheStore {
        let path = format!("/api/webhook-endpoints/{endpoint}");
        let request = self.store.get(&path).timeout(CHECK_TIMEOUT);
        let rec = match self.store.send(request, self.ctx.clock.now()).await {
            Ok(rec) => rec,
            Err(e) => return AtTheStore::Unknown(CheckFailed::NoAnswer(e.to_string())),
        };
        if rec.status() == Some(404) {
            return AtTheStore::Deleted;
        }
        match store_api::read::<Endpoint>(&rec, "endpoint") {
            Ok(found) if found.enabled => AtTheStore::Registered,
            Ok(found) => AtTheStore::Disabled(found.disabled_reason),
            Err(CallFailed::NoAnswer(why)) => AtTheStore::Unknown(CheckFailed::NoAnswer(why)),
            Err(CallFailed::Refused(status)) => AtTheStore::Unknown(CheckFailed::Refused(status)),
            Err(failed @ CallFailed::Unreadable { .. }) => {
                AtTheStore::Unknown(CheckFailed::Unreadable(failed.to_string()))
            }
        }
    }

    /// One attempt to be subscribed, asked for by a person (the status
    /// card's button) rather than by start-up: the same steps, logged the
    /// same way, and announced as the worker announces its own.
    pub async fn resubscribe(&self) -> anyhow::Result<EndpointId> {
        let endpoint_id = self.subscribe_once().await?;
        self.announce(&endpoint_id);
        Ok(endpoint_id)
    }

    /// Tells the pages that the subscription changed.
    fn announce(&self, endpoint_id: &EndpointId) {
        self.ctx.live.publish(
            contract::LiveEventKind::SubscriptionChanged,
            crate::live::SubscriptionChangedData {
                endpoint_id: endpoint_id.clone(),
            },
        );
    }

    /// One attempt to be subscribed with a secret the store signs with now.
    async fn subscribe_once(&self) -> anyhow::Result<EndpointId> {
        // 1. Register the receiver URL.
        let (rec, endpoint) = self.register().await?;

        // 2. Keep the secret it came with.
        if let Some(secret) = &endpoint.secret {
            self.log(&rec, Verdict::new(VerdictKind::Subscribed)).await;
            self.keep_secret(&endpoint.id, secret).await?;
            return Ok(endpoint.id);
        }

        // 3. Registered before: we may hold a secret that signs now — or
        // none of them, and rotate.
        let fingerprints = endpoint.secret_fingerprints.as_deref();
        if self.holds_one_of(&endpoint.id, fingerprints).await? {
            let verdict = Verdict::with_detail(
                VerdictKind::Subscribed,
                "already registered; our secret is current",
            );
            self.log(&rec, verdict).await;
            return Ok(endpoint.id);
        }
        let verdict = Verdict::with_detail(
            VerdictKind::Subscribed,
            "already registered; none of our secrets signs now, so we rotate",
        );
        self.log(&rec, verdict).await;
        let rotated = self.rotate_secret(&endpoint.id).await?;
        let secret = rotated
            .secret
            .ok_or_else(|| anyhow::anyhow!("the store did not return a secret"))?;
        self.keep_secret(&rotated.id, &secret).await?;
        tracing::info!(endpoint_id = %rotated.id, "none of our webhook secrets signed any more: rotated, and kept the new one");
        Ok(rotated.id)
    }

    /// The store's answer to the registration: logged by the caller, who
    /// knows what became of it.
    async fn register(&self) -> anyhow::Result<(Recorded, Endpoint)> {
        let config = &self.ctx.config;
        let body = serde_json::json!({
            "url": receiver_url(config),
            "event_types": contract::EventType::ALL,
            "format": config.webhook_format,
            "description": "the inventory's webhook receiver (registered by the inventory itself)",
        });
        // With the store's key, which lets us register without being the
        // operator, and read and rotate this endpoint's secret later. What
        // makes its answers resolve webhook orders is its URL: the store's
        // configured inventory's receiver.
        let request = self.store.post("/api/webhook-endpoints").json(&body);
        let rec = self.store.send(request, self.ctx.clock.now()).await?;
        let failed = match store_api::read::<Endpoint>(&rec, "answer from the store") {
            Ok(endpoint) => return Ok((rec, endpoint)),
            Err(failed) => failed,
        };
        let verdict = match &failed {
            CallFailed::Unreadable { .. } => {
                Verdict::with_detail(VerdictKind::Failed, "unreadable answer")
            }
            CallFailed::Refused(_) => {
                Verdict::with_detail(VerdictKind::Refused, failed.to_string())
            }
            CallFailed::NoAnswer(_) => {
                Verdict::with_detail(VerdictKind::Failed, "store unreachable")
            }
        };
        self.log(&rec, verdict).await;
        Err(failed.into())
    }

    async fn rotate_secret(&self, endpoint: &EndpointId) -> anyhow::Result<Endpoint> {
        let path = format!("/api/webhook-endpoints/{endpoint}/rotate-secret");
        // With an hour's grace, although none of the old secrets is ours:
        // whoever else holds one (another process behind our URL that
        // fetched it a moment ago) keeps verifying while it catches up,
        // instead of being thrown into a check and a rotation of its own.
        let request = self
            .store
            .post(&path)
            .json(&serde_json::json!({ "grace_seconds": 3600 }));
        let rec = self.store.send(request, self.ctx.clock.now()).await?;
        let rotated = store_api::succeeded(&rec);
        let verdict = match rotated {
            Ok(()) => Verdict::with_detail(VerdictKind::Subscribed, "secret rotated"),
            Err(_) => Verdict::with_detail(VerdictKind::Failed, "the secret could not be rotated"),
        };
        self.log(&rec, verdict).await;
        rotated.map_err(|failed| anyhow::anyhow!("rotating the secret failed: {failed}"))?;
        Ok(store_api::read(&rec, "answer from the store")?)
    }

    /// Whether we hold one of the secrets with these fingerprints — or,
    /// when the store shows none, any secret for `endpoint`.
    async fn holds_one_of(
        &self,
        endpoint: &EndpointId,
        fingerprints: Option<&[String]>,
    ) -> Result<bool, sqlx::Error> {
        let db = &self.ctx.db;
        let Some(fingerprints) = fingerprints else {
            return webhook_secrets::any_for(db, endpoint).await;
        };
        Ok(webhook_secrets::stored(db)
            .await?
            .iter()
            .any(|held| fingerprints.contains(&held.fingerprint())))
    }

    async fn keep_secret(&self, endpoint: &EndpointId, secret: &str) -> Result<(), sqlx::Error> {
        let ctx = &self.ctx;
        let store_url = &ctx.config.store_url;
        webhook_secrets::add(&ctx.db, secret, endpoint, store_url, ctx.clock.now()).await?;
        // The receiver verifies with it from now on.
        self.secrets.reload(&ctx.db).await?;
        Ok(())
    }

    async fn log(&self, rec: &Recorded, verdict: Verdict) {
        let message = NewMessage::sent(Channel::Subscribe, rec, verdict);
        self.ctx.log.record(message).await;
    }
}

impl Worker for Subscriber {
    const NAME: &'static str = "subscription";

    async fn pass(&mut self) -> anyhow::Result<Next> {
        match self.subscribe_once().await {
            Ok(endpoint_id) => {
                self.failures = 0;
                let url = receiver_url(&self.ctx.config);
                tracing::info!(%endpoint_id, %url, "subscribed to the store's webhooks, with a current secret");
                self.announce(&endpoint_id);
                // Until a signature matches none of our secrets.
                Ok(Next::Idle)
            }
            Err(e) => {
                self.failures += 1;
                let pause = retry_backoff()
                    .delay_after(self.failures)
                    .unwrap_or_default();
                tracing::warn!(error = %e, retry_in_ms = pause.as_millis() as u64, "not subscribed yet");
                Ok(Next::At(self.ctx.clock.now() + pause))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribing_retries_quickly_then_patiently_for_ever() {
        let b = retry_backoff();
        assert_eq!(b.delay_after(1), Some(Duration::from_millis(500)));
        assert_eq!(b.delay_after(2), Some(Duration::from_secs(1)));
        assert_eq!(b.delay_after(20), Some(Duration::from_secs(30)));
        assert_eq!(b.max_attempts(), None);
    }
}
