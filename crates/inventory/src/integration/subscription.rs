//! **Subscribing to the store's webhooks.** The inventory is the endpoint
//! *owner*: on start it registers its own receiver URL
//! (`{INVENTORY_URL}/webhooks/store`) with the store, and keeps the signing
//! secret the store answers with — the same dance a developer does by hand
//! in Stripe's dashboard, automated. [`subscribe_once`] reads in order:
//!
//! 1. **register** the receiver URL, with the store's API key — the key is
//!    what makes this endpoint the *resolver*, whose answers decide webhook
//!    orders (an endpoint anyone else registers only observes); registration
//!    is idempotent on the URL, so restarts (and a second inventory process
//!    behind the same URL) do not pile up endpoints;
//! 2. **keep the secret** the store answers with;
//! 3. an endpoint registered before comes back *without* its secret (it is
//!    shown only once): fine if we still have it — and if we do not (a
//!    wiped database), **rotate** it, and keep the new one. The store keeps
//!    signing with the old one during the grace period.
//!
//! Until the store answers at all, the [`Subscriber`] retries with backoff
//! — the store may simply not be up yet.
//!
//! The store's answer carries the secret; the message log records it with
//! the secret hinted (`platform::redact`), so no page or list of this
//! inventory shows it — only this code, reading the answer, ever sees it.

use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;
use serde::Deserialize;

use contract::signing::WebhookSecret;
use contract::{Channel, EndpointId, Verdict, VerdictKind};
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
    format!("{}/webhooks/store", app.config.url.trim_end_matches('/'))
}

/// The store's answer about an endpoint (`201`/`200`, or a rotation).
#[derive(Deserialize)]
struct EndpointAnswer {
    id: EndpointId,
    /// Only when the endpoint was created, or its secret rotated.
    secret: Option<String>,
}

/// One attempt to be subscribed with a known secret.
pub async fn subscribe_once(app: &AppState) -> anyhow::Result<EndpointId> {
    // 1. Register the receiver URL.
    let answer = register(app).await?;

    // 2. Keep the secret it came with.
    if let Some(secret) = &answer.secret {
        keep_secret(app, &answer.id, secret).await?;
        return Ok(answer.id);
    }

    // 3. Registered before: we may still have its secret — or rotate it.
    if has_secret_for(&app.db, &answer.id).await? {
        return Ok(answer.id);
    }
    let rotated = rotate_secret(app, &answer.id).await?;
    let secret = rotated
        .secret
        .ok_or_else(|| anyhow::anyhow!("the store did not return a secret"))?;
    keep_secret(app, &rotated.id, &secret).await?;
    Ok(rotated.id)
}

async fn register(app: &AppState) -> anyhow::Result<EndpointAnswer> {
    let store = app.config.store_url.trim_end_matches('/');
    let body = serde_json::json!({
        "url": receiver_url(app),
        "event_types": contract::EventType::ALL,
        "format": app.config.webhook_format,
        "description": "the inventory's webhook receiver (registered by the inventory itself)",
    });
    // With the store's key: that is what makes this endpoint the one whose
    // answers resolve webhook orders (anyone else's only observe).
    let request = app
        .client
        .post(format!("{store}/api/webhook-endpoints"))
        .bearer_auth(app.config.store_api_key.expose_secret())
        .json(&body)
        .build()?;
    let rec = send_recorded(&app.client, request, app.clock.now().millis()).await;
    let verdict = match rec.status() {
        Some(201) => Verdict::new(VerdictKind::Subscribed),
        Some(200) => Verdict::with_detail(VerdictKind::Subscribed, "already registered"),
        Some(status) => {
            Verdict::with_detail(VerdictKind::Refused, format!("the store answered {status}"))
        }
        None => Verdict::with_detail(VerdictKind::Failed, "store unreachable"),
    };
    log(app, &rec, verdict).await;
    match rec.status() {
        Some(200 | 201) => read_answer(&rec),
        Some(status) => Err(anyhow::anyhow!("the store answered {status}")),
        None => Err(anyhow::anyhow!(
            "{}",
            rec.error().unwrap_or("no answer").to_owned()
        )),
    }
}

async fn rotate_secret(app: &AppState, endpoint: &EndpointId) -> anyhow::Result<EndpointAnswer> {
    let store = app.config.store_url.trim_end_matches('/');
    let request = app
        .client
        .post(format!(
            "{store}/api/webhook-endpoints/{endpoint}/rotate-secret"
        ))
        .bearer_auth(app.config.store_api_key.expose_secret())
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

async fn has_secret_for(db: &Db, endpoint: &EndpointId) -> Result<bool, sqlx::Error> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 AS ok FROM webhook_secrets WHERE endpoint_id = $1")
            .bind(endpoint.as_str())
            .fetch_optional(db.pool())
            .await?;
    Ok(found.is_some())
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
    Ok(())
}

/// Keeps trying [`subscribe_once`] until it succeeds or the service stops.
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

    /// Paced only by its own back-off.
    pub fn pacing(app: &AppState) -> Pacing {
        Pacing {
            clock: app.clock.clone(),
            wake: Arc::new(tokio::sync::Notify::new()),
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
                tracing::info!(%endpoint_id, url = %receiver_url(app), "subscribed to the store's webhooks");
                app.live.publish(
                    "subscription.changed",
                    serde_json::json!({"endpoint_id": endpoint_id}),
                );
                Ok(Next::Done)
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
}
