//! **Subscribing to the store's webhooks.** The inventory is the endpoint
//! *owner*: on start it registers its own receiver URL
//! (`{INVENTORY_URL}/webhooks/store`) with the store, and keeps the signing
//! secret the store answers with — the same dance a developer does by hand
//! in Stripe's dashboard, automated. [`subscribe_once`] reads in order:
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
//! ([`SecretCheck`]): without it a rotation we did not make would leave
//! every delivery a `401` for good — even across restarts, since we would
//! still hold *a* secret, just not the store's. Anyone can send us a bad
//! signature, so a bad signature only ever asks for the check, never for a
//! rotation: the fingerprints, read from the store with its key, are what
//! decide. And the check runs at most once per [`CHECK_INTERVAL`], so a
//! flood of forged webhooks costs the store one request per interval.
//!
//! The road not taken: the store handing the new secret over when the
//! resolver's secret is rotated — a push of a secret into a service that
//! may be down, or slow, or a second process, which must then be retried
//! and recorded somewhere. Asking is simpler: the inventory knows when its
//! signatures stop verifying.
//!
//! Until the store answers at all, the [`Subscriber`] retries with backoff
//! — the store may simply not be up yet.
//!
//! The store's answer carries the secret; the message log records it with
//! the secret hinted (`platform::redact`), so no page or list of this
//! inventory shows it — only this code, reading the answer, ever sees it.
//! The fingerprints are not secret, and the log shows them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use secrecy::ExposeSecret;
use serde::Deserialize;

use contract::signing::WebhookSecret;
use contract::{Channel, EndpointId, Timestamp, Verdict, VerdictKind};
use platform::outbound::{Recorded, send_recorded};
use platform::worker::{Next, Pacing, Worker};
use platform::{Backoff, Db};

use crate::instruments::messages::{self, NewMessage};
use crate::state::AppState;

/// Every secret the receiver accepts signatures from.
pub async fn secrets(db: &Db) -> Result<Vec<WebhookSecret>, sqlx::Error> {
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT secret FROM webhook_secrets ORDER BY added_at DESC")
            .fetch_all(db.pool())
            .await?;
    Ok(stored
        .iter()
        .filter_map(|s| WebhookSecret::parse(s).ok())
        .collect())
}

/// The secrets, kept in memory so that verifying a webhook does not read
/// the database. Secrets are only ever added (a subscription, a rotation),
/// never removed, so the copy can only be missing a new one: a signature
/// that none of the kept secrets verifies is checked again against the
/// stored ones ([`Secrets::reload`]) before it is refused.
#[derive(Default)]
pub struct Secrets(std::sync::RwLock<Option<Arc<Vec<WebhookSecret>>>>);

impl Secrets {
    /// The secrets as last read (read now if never).
    pub async fn current(&self, db: &Db) -> Result<Arc<Vec<WebhookSecret>>, sqlx::Error> {
        if let Some(kept) = self.0.read().expect("secrets lock").clone() {
            return Ok(kept);
        }
        self.reload(db).await
    }

    /// Reads the secrets again.
    pub async fn reload(&self, db: &Db) -> Result<Arc<Vec<WebhookSecret>>, sqlx::Error> {
        let fresh = Arc::new(secrets(db).await?);
        *self.0.write().expect("secrets lock") = Some(fresh.clone());
        Ok(fresh)
    }
}

/// Where the inventory is subscribed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Subscription {
    #[sqlx(try_from = "String")]
    pub endpoint_id: EndpointId,
    pub store_url: String,
}

/// The newest subscription, for the UI.
pub async fn current(db: &Db) -> Result<Option<Subscription>, sqlx::Error> {
    sqlx::query_as(
        "SELECT endpoint_id, store_url FROM webhook_secrets ORDER BY added_at DESC LIMIT 1",
    )
    .fetch_optional(db.pool())
    .await
}

/// The URL the store should deliver to.
pub fn receiver_url(app: &AppState) -> String {
    format!(
        "{}{}",
        app.config.url.trim_end_matches('/'),
        contract::inventory::WEBHOOK_RECEIVER_PATH
    )
}

/// The store's answer about an endpoint (`201`/`200`, or a rotation).
#[derive(Deserialize)]
struct EndpointAnswer {
    id: EndpointId,
    /// Only when the endpoint was created, or its secret rotated.
    secret: Option<String>,
    /// A fingerprint of each secret that signs for it now. A store that
    /// shows none (any Standard Webhooks sender may not) cannot be checked
    /// against: then a secret we hold for the endpoint is taken as current,
    /// as it always was.
    #[serde(default)]
    secret_fingerprints: Option<Vec<String>>,
}

async fn has_secret_for(db: &Db, endpoint: &EndpointId) -> Result<bool, sqlx::Error> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 AS ok FROM webhook_secrets WHERE endpoint_id = $1")
            .bind(endpoint.as_str())
            .fetch_optional(db.pool())
            .await?;
    Ok(found.is_some())
}

/// Whether we hold one of the secrets with these fingerprints — or, when
/// the store shows none, any secret for `endpoint`.
async fn holds_one_of(
    app: &AppState,
    endpoint: &EndpointId,
    fingerprints: Option<&[String]>,
) -> Result<bool, sqlx::Error> {
    let Some(fingerprints) = fingerprints else {
        return has_secret_for(&app.db, endpoint).await;
    };
    Ok(secrets(&app.db)
        .await?
        .iter()
        .any(|held| fingerprints.contains(&held.fingerprint())))
}

/// One attempt to be subscribed with a secret the store signs with now.
pub async fn subscribe_once(app: &AppState) -> anyhow::Result<EndpointId> {
    // 1. Register the receiver URL.
    let (rec, answer) = register(app).await?;

    // 2. Keep the secret it came with.
    if let Some(secret) = &answer.secret {
        log(app, &rec, Verdict::new(VerdictKind::Subscribed)).await;
        keep_secret(app, &answer.id, secret).await?;
        return Ok(answer.id);
    }

    // 3. Registered before: we may hold a secret that signs now — or none
    // of them, and rotate.
    if holds_one_of(app, &answer.id, answer.secret_fingerprints.as_deref()).await? {
        let verdict = Verdict::with_detail(
            VerdictKind::Subscribed,
            "already registered; our secret is current",
        );
        log(app, &rec, verdict).await;
        return Ok(answer.id);
    }
    let verdict = Verdict::with_detail(
        VerdictKind::Subscribed,
        "already registered; none of our secrets signs now, so we rotate",
    );
    log(app, &rec, verdict).await;
    let rotated = rotate_secret(app, &answer.id).await?;
    let secret = rotated
        .secret
        .ok_or_else(|| anyhow::anyhow!("the store did not return a secret"))?;
    keep_secret(app, &rotated.id, &secret).await?;
    tracing::info!(endpoint_id = %rotated.id, "none of our webhook secrets signed any more: rotated, and kept the new one");
    Ok(rotated.id)
}

/// The store's answer to the registration: logged by the caller, who
/// knows what became of it.
async fn register(app: &AppState) -> anyhow::Result<(Recorded, EndpointAnswer)> {
    let store = app.config.store_url.trim_end_matches('/');
    let body = serde_json::json!({
        "url": receiver_url(app),
        "event_types": contract::EventType::ALL,
        "format": app.config.webhook_format,
        "description": "the inventory's webhook receiver (registered by the inventory itself)",
    });
    // With the store's key, which lets us register without being the
    // operator, and read and rotate this endpoint's secret later. What
    // makes its answers resolve webhook orders is its URL: the store's
    // configured inventory's receiver.
    let request = app
        .client
        .post(format!("{store}/api/webhook-endpoints"))
        .bearer_auth(app.config.store_api_key.expose_secret())
        .json(&body)
        .build()?;
    let rec = send_recorded(&app.client, request, app.clock.now().millis()).await;
    let (verdict, error) = match rec.status() {
        Some(200 | 201) => match read_answer(&rec) {
            Ok(answer) => return Ok((rec, answer)),
            Err(e) => (
                Verdict::with_detail(VerdictKind::Failed, "unreadable answer"),
                e,
            ),
        },
        Some(status) => (
            Verdict::with_detail(VerdictKind::Refused, format!("the store answered {status}")),
            anyhow::anyhow!("the store answered {status}"),
        ),
        None => (
            Verdict::with_detail(VerdictKind::Failed, "store unreachable"),
            anyhow::anyhow!("{}", rec.error().unwrap_or("no answer").to_owned()),
        ),
    };
    log(app, &rec, verdict).await;
    Err(error)
}

async fn rotate_secret(app: &AppState, endpoint: &EndpointId) -> anyhow::Result<EndpointAnswer> {
    let store = app.config.store_url.trim_end_matches('/');
    let request = app
        .client
        .post(format!(
            "{store}/api/webhook-endpoints/{endpoint}/rotate-secret"
        ))
        .bearer_auth(app.config.store_api_key.expose_secret())
        // With an hour's grace, although none of the old secrets is ours:
        // whoever else holds one (another process behind our URL that
        // fetched it a moment ago) keeps verifying while it catches up,
        // instead of being thrown into a check and a rotation of its own.
        .json(&serde_json::json!({ "grace_seconds": 3600 }))
        .build()?;
    let rec = send_recorded(&app.client, request, app.clock.now().millis()).await;
    let verdict = match rec.status() {
        Some(200) => Verdict::with_detail(VerdictKind::Subscribed, "secret rotated"),
        _ => Verdict::with_detail(VerdictKind::Failed, "the secret could not be rotated"),
    };
    log(app, &rec, verdict).await;
    match rec.status() {
        Some(200) => read_answer(&rec),
        other => Err(anyhow::anyhow!("rotating the secret failed ({other:?})")),
    }
}

fn read_answer(rec: &Recorded) -> anyhow::Result<EndpointAnswer> {
    contract::json::from_slice(rec.body().map(|b| b.as_ref()).unwrap_or_default())
        .map_err(|e| anyhow::anyhow!("unreadable answer from the store: {e}"))
}

async fn log(app: &AppState, rec: &Recorded, verdict: Verdict) {
    let message = NewMessage::sent(Channel::Subscribe, rec, verdict);
    messages::record_quietly(&app.log, &app.live, message).await;
}

async fn keep_secret(
    app: &AppState,
    endpoint: &EndpointId,
    secret: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO webhook_secrets (secret, endpoint_id, store_url, added_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (secret) DO NOTHING",
    )
    .bind(secret)
    .bind(endpoint.as_str())
    .bind(&app.config.store_url)
    .bind(app.clock.now().millis())
    .execute(app.db.writer())
    .await?;
    // The receiver verifies with it from now on.
    app.webhook_secrets.reload(&app.db).await?;
    Ok(())
}

/// The shortest time between two checks of our secret that bad signatures
/// ask for ([`SecretCheck`]).
pub const CHECK_INTERVAL: Duration = Duration::from_secs(15);

/// Asks the [`Subscriber`] to check our secret against the store's when a
/// webhook's signature matched none of ours — at most once per
/// [`CHECK_INTERVAL`] on the service's clock, however many arrive. The
/// store's retries reach us within seconds; the interval keeps a flood of
/// forged signatures down to one request to the store per interval.
pub struct SecretCheck {
    /// Whether there is a subscription to check (`WEBHOOK_SUBSCRIBE`).
    enabled: bool,
    last: Mutex<Option<Timestamp>>,
    /// Wakes the subscriber.
    wake: Arc<tokio::sync::Notify>,
}

impl SecretCheck {
    pub fn new(enabled: bool) -> SecretCheck {
        SecretCheck {
            enabled,
            last: Mutex::new(None),
            wake: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// Asks for a check at `now`; whether one was asked for (none if the
    /// last was less than [`CHECK_INTERVAL`] ago).
    pub fn ask(&self, now: Timestamp) -> bool {
        if !self.enabled {
            return false;
        }
        let mut last = self.last.lock().expect("secret check lock");
        if last.is_some_and(|at| now < at + CHECK_INTERVAL) {
            return false;
        }
        *last = Some(now);
        self.wake.notify_one();
        true
    }
}

/// Keeps trying [`subscribe_once`] until it succeeds or the service stops;
/// then, each time a [`SecretCheck`] wakes it, does it again — the
/// registration is idempotent, so that is the check.
pub struct Subscriber {
    app: Arc<AppState>,
    failures: u32,
}

/// Half a second, doubling up to 30 s: quick while the store starts up
/// beside us, patient if it is really gone.
fn retry_backoff() -> Backoff {
    Backoff::exponential(Duration::from_millis(500), Duration::from_secs(30))
}

impl Subscriber {
    pub fn new(app: Arc<AppState>) -> Subscriber {
        Subscriber { app, failures: 0 }
    }

    /// Paced by its own back-off, and woken by [`SecretCheck::ask`].
    pub fn pacing(app: &AppState) -> Pacing {
        Pacing {
            clock: app.clock.clone(),
            wake: app.secret_check.wake.clone(),
            sweep: None,
        }
    }
}

impl Worker for Subscriber {
    const NAME: &'static str = "subscription";

    async fn pass(&mut self) -> anyhow::Result<Next> {
        let app = &self.app;
        match subscribe_once(app).await {
            Ok(endpoint_id) => {
                self.failures = 0;
                tracing::info!(%endpoint_id, url = %receiver_url(app), "subscribed to the store's webhooks, with a current secret");
                app.live.publish(
                    contract::LiveEventKind::SubscriptionChanged,
                    serde_json::json!({"endpoint_id": endpoint_id}),
                );
                // Until a signature matches none of our secrets.
                Ok(Next::Idle)
            }
            Err(e) => {
                self.failures += 1;
                let pause = retry_backoff()
                    .delay_after(self.failures)
                    .unwrap_or_default();
                tracing::warn!(error = %e, retry_in_ms = pause.as_millis() as u64, "not subscribed yet");
                Ok(Next::At(app.clock.now() + pause))
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

    #[test]
    fn bad_signatures_ask_for_one_check_per_interval() {
        let check = SecretCheck::new(true);
        let t0 = Timestamp::from_millis(1_000_000);
        assert!(check.ask(t0), "the first bad signature asks");
        for ms in [0, 1, 5_000, 14_999] {
            let at = t0 + Duration::from_millis(ms);
            assert!(!check.ask(at), "{ms} ms later: within the interval");
        }
        let next = t0 + CHECK_INTERVAL;
        assert!(check.ask(next), "once the interval has passed");
        assert!(!check.ask(next + Duration::from_secs(1)));
    }

    #[test]
    fn without_a_subscription_there_is_nothing_to_check() {
        let check = SecretCheck::new(false);
        assert!(!check.ask(Timestamp::from_millis(0)));
    }
}
