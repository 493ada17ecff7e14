//! **Subscribing to the store's webhooks.** The inventory is the endpoint
//! *owner*: on start it registers its own receiver URL
//! (`{INVENTORY_URL}/webhooks/store`) with the store, and keeps the signing
//! secret the store answers with — the same dance a developer does by hand
//! in Stripe's dashboard, automated.
//!
//! Registration is idempotent on the URL, so restarts (and a second
//! inventory process behind the same URL) do not pile up endpoints. The
//! secret is shown only once, though; an inventory that finds itself
//! registered but without the secret (a wiped database) asks the store to
//! rotate it, and the store keeps signing with the old one during the grace
//! period. Until the store answers at all, registration is retried with
//! backoff — the store may simply not be up yet.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use sqlx::Row;

use contract::signing::WebhookSecret;
use platform::outbound::send_recorded;
use platform::worker::{Next, Pacing, Worker};
use platform::{Backoff, Db};

use crate::messages::{self, NewMessage};
use crate::state::AppState;

/// Every secret the receiver accepts signatures from.
pub async fn secrets(db: &Db) -> Result<Vec<WebhookSecret>, sqlx::Error> {
    let rows = sqlx::query("SELECT secret FROM webhook_secrets ORDER BY added_at DESC")
        .fetch_all(db.pool())
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| r.try_get::<String, _>("secret").ok())
        .filter_map(|s| WebhookSecret::parse(&s).ok())
        .collect())
}

/// Where the inventory is subscribed, for the UI.
pub async fn current(db: &Db) -> Result<Option<(String, String)>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT endpoint_id, store_url FROM webhook_secrets ORDER BY added_at DESC LIMIT 1",
    )
    .fetch_optional(db.pool())
    .await?;
    row.map(|r| Ok((r.try_get("endpoint_id")?, r.try_get("store_url")?)))
        .transpose()
}

async fn has_secret_for(db: &Db, endpoint_id: &str) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query("SELECT 1 AS ok FROM webhook_secrets WHERE endpoint_id = $1")
            .bind(endpoint_id)
            .fetch_optional(db.pool())
            .await?
            .is_some(),
    )
}

async fn keep_secret(app: &AppState, endpoint_id: &str, secret: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO webhook_secrets (secret, endpoint_id, store_url, added_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (secret) DO NOTHING",
    )
    .bind(secret)
    .bind(endpoint_id)
    .bind(&app.config.store_url)
    .bind(app.clock.now_ms())
    .execute(app.db.writer())
    .await?;
    Ok(())
}

#[derive(Deserialize)]
struct EndpointAnswer {
    id: String,
    secret: Option<String>,
}

/// The URL the store should deliver to.
pub fn receiver_url(app: &AppState) -> String {
    format!("{}/webhooks/store", app.config.url.trim_end_matches('/'))
}

/// One attempt to be subscribed with a known secret.
pub async fn subscribe_once(app: &AppState) -> Result<String, String> {
    let store = app.config.store_url.trim_end_matches('/');
    let body = serde_json::json!({
        "url": receiver_url(app),
        "event_types": contract::EventType::ALL,
        "format": app.config.webhook_format,
        "description": "the inventory's webhook receiver (registered by the inventory itself)",
    });
    let request = app
        .client
        .post(format!("{store}/api/webhook-endpoints"))
        .json(&body)
        .build()
        .map_err(|e| e.to_string())?;
    let rec = send_recorded(&app.client, request, app.clock.now_ms()).await;
    let status = rec.status();
    let verdict = match status {
        Some(201) => "subscribed",
        Some(200) => "already subscribed",
        Some(_) => "refused",
        None => "store unreachable",
    };
    messages::record_quietly(
        &app.db,
        &app.live,
        &NewMessage::sent("subscribe", &rec, verdict, None),
    )
    .await;
    let answer: EndpointAnswer = match status {
        Some(200 | 201) => {
            serde_json::from_slice(rec.body().map(|b| b.as_ref()).unwrap_or_default())
                .map_err(|e| format!("unreadable answer from the store: {e}"))?
        }
        Some(s) => return Err(format!("the store answered {s}")),
        None => return Err(rec.error().unwrap_or("no answer").to_owned()),
    };
    if let Some(secret) = answer.secret {
        keep_secret(app, &answer.id, &secret)
            .await
            .map_err(|e| e.to_string())?;
        return Ok(answer.id);
    }
    if has_secret_for(&app.db, &answer.id)
        .await
        .map_err(|e| e.to_string())?
    {
        return Ok(answer.id);
    }
    // Registered, but we lost the secret: get a new one.
    let request = app
        .client
        .post(format!(
            "{store}/api/webhook-endpoints/{}/rotate-secret",
            answer.id
        ))
        .json(&serde_json::json!({ "grace_seconds": 3600 }))
        .build()
        .map_err(|e| e.to_string())?;
    let rec = send_recorded(&app.client, request, app.clock.now_ms()).await;
    messages::record_quietly(
        &app.db,
        &app.live,
        &NewMessage::sent("subscribe", &rec, "secret rotated", None),
    )
    .await;
    let rotated: EndpointAnswer = match rec.status() {
        Some(200) => serde_json::from_slice(rec.body().map(|b| b.as_ref()).unwrap_or_default())
            .map_err(|e| format!("unreadable answer from the store: {e}"))?,
        other => return Err(format!("rotating the secret failed ({other:?})")),
    };
    let secret = rotated.secret.ok_or("the store did not return a secret")?;
    keep_secret(app, &rotated.id, &secret)
        .await
        .map_err(|e| e.to_string())?;
    Ok(rotated.id)
}

/// Keeps trying [`subscribe_once`] until it succeeds or the service stops.
pub struct Subscriber {
    app: Arc<AppState>,
    failures: u32,
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
                let backoff =
                    Backoff::exponential(Duration::from_millis(500), Duration::from_secs(30))
                        .delay_after(self.failures)
                        .unwrap_or_default();
                tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "not subscribed yet");
                Ok(Next::At(app.clock.now() + backoff))
            }
        }
    }
}
