//! The webhook endpoint registry: who wants which events, where, in which
//! format, signed with which secret.
//!
//! An endpoint is created by its *owner* (here, the inventory registers its
//! own receiver on start; a learner can add one from the settings page).
//! The response to the creation carries the `whsec_…` secret — the only
//! time it is shown, as at Stripe and Svix; a lost secret is replaced by
//! rotating. Rotation keeps the old secret valid for a grace period and
//! signs with both meanwhile (Standard Webhooks allows several signatures),
//! so the receiver can switch over without dropping a message.
//!
//! **Why destination hosts are allow-listed.** A webhook sender makes HTTP
//! requests to URLs that other people type in. Without a check, an attacker
//! registers `http://169.254.169.254/…` or `http://10.0.0.5:6379/` and the
//! store obligingly reaches into its own private network (server-side
//! request forgery), then shows them the response in the delivery log. A
//! real deployment therefore refuses private, loopback and link-local
//! destinations (after DNS resolution, and again on every connection, since
//! a name can re-resolve). This demo's default allow-list is the opposite —
//! loopback and the compose service name `inventory` — because here the
//! receiver *is* on the private network; `WEBHOOK_ALLOWED_HOSTS` widens or
//! narrows it. Redirects are never followed, for the same reason: a public
//! URL that answers `302 Location: http://127.0.0.1/` would otherwise walk
//! the request past the check.

use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};

use contract::EventType;
use contract::Timestamp;
use contract::events::{PingData, WebhookEvent};
use contract::signing::WebhookSecret;
use platform::new_id;

use crate::error::StoreError;
use crate::state::AppState;

/// The body a webhook is sent as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Xml => "xml",
        }
    }

    pub fn parse(text: &str) -> Result<Format, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(Format::Json),
            "xml" => Ok(Format::Xml),
            other => Err(format!(
                "format must be \"json\" or \"xml\" (got \"{other}\")"
            )),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Xml => contract::xml::CONTENT_TYPE,
        }
    }
}

/// `POST /api/webhook-endpoints`.
#[derive(Debug, Default, Deserialize)]
pub struct NewEndpoint {
    pub url: Option<String>,
    #[serde(default)]
    pub event_types: Option<Vec<String>>,
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// `PATCH /api/webhook-endpoints/{id}`.
#[derive(Debug, Default, Deserialize)]
pub struct EndpointChanges {
    pub enabled: Option<bool>,
    pub event_types: Option<Vec<String>>,
    pub format: Option<String>,
    pub description: Option<String>,
}

/// An endpoint as the API shows it. `secret` is present only in the answer
/// that created the endpoint or rotated its secret.
#[derive(Debug, Clone, Serialize)]
pub struct Endpoint {
    pub id: String,
    pub url: String,
    pub description: String,
    pub event_types: Vec<String>,
    pub format: Format,
    pub enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    pub created_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl Endpoint {
    pub fn wants(&self, event_type: &str) -> bool {
        self.event_types.iter().any(|t| t == event_type || t == "*")
    }
}

/// Checks a destination URL: http only in this build, a host on the
/// allow-list, no credentials embedded.
pub fn validate_url(text: &str, allowed_hosts: &[String]) -> Result<url::Url, String> {
    let url = url::Url::parse(text.trim()).map_err(|e| format!("not a valid URL: {e}"))?;
    match url.scheme() {
        "http" => {}
        "https" => {
            return Err(
                "https endpoints are not supported by this build (it carries no TLS stack); \
                 the demo's services talk plain HTTP on loopback or a private network"
                    .into(),
            );
        }
        other => return Err(format!("the URL scheme must be http (got {other})")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "credentials do not belong in an endpoint URL; the signature authenticates the sender"
                .into(),
        );
    }
    let host = url
        .host_str()
        .ok_or("the URL needs a host")?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    let allowed = allowed_hosts
        .iter()
        .any(|h| h == "*" || h.eq_ignore_ascii_case(&host));
    if !allowed {
        return Err(format!(
            "{host} is not an allowed webhook destination (allowed: {}); see WEBHOOK_ALLOWED_HOSTS",
            allowed_hosts.join(", ")
        ));
    }
    Ok(url)
}

fn parse_event_types(requested: Option<Vec<String>>) -> Result<Vec<String>, String> {
    let known: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
    let types = requested.unwrap_or_else(|| known.iter().map(|s| s.to_string()).collect());
    if types.is_empty() {
        return Err("event_types cannot be empty (omit it to receive every event)".into());
    }
    for t in &types {
        if t != "*" && EventType::parse(t).is_err() {
            return Err(format!(
                "unknown event type \"{t}\" (known: {})",
                known.join(", ")
            ));
        }
    }
    Ok(types)
}

const ENDPOINT_COLUMNS: &str =
    "id, url, description, event_types, format, enabled, disabled_reason, created_at";

fn endpoint_from_row(row: &sqlx::any::AnyRow) -> Result<Endpoint, sqlx::Error> {
    let types: String = row.try_get("event_types")?;
    let format: String = row.try_get("format")?;
    Ok(Endpoint {
        id: row.try_get("id")?,
        url: row.try_get("url")?,
        description: row.try_get("description")?,
        event_types: types
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        format: Format::parse(&format).map_err(|e| sqlx::Error::Decode(e.into()))?,
        enabled: row.try_get::<i64, _>("enabled")? != 0,
        disabled_reason: row.try_get("disabled_reason")?,
        created_at: Timestamp(row.try_get("created_at")?),
        secret: None,
    })
}

/// Registers an endpoint, or finds the live one with the same URL.
/// Returns the endpoint and whether it was created (only then with secret).
pub async fn register(
    app: &AppState,
    request: NewEndpoint,
) -> Result<(Endpoint, bool), StoreError> {
    let mut errors = Vec::new();
    let url = match request.url.as_deref() {
        Some(u) => validate_url(u, &app.config.webhook.allowed_hosts)
            .map_err(|m| errors.push(contract::FieldError::new("url", m)))
            .ok(),
        None => {
            errors.push(contract::FieldError::new("url", "a URL is required"));
            None
        }
    };
    let types = parse_event_types(request.event_types)
        .map_err(|m| errors.push(contract::FieldError::new("event_types", m)))
        .ok();
    let format = Format::parse(request.format.as_deref().unwrap_or("json"))
        .map_err(|m| errors.push(contract::FieldError::new("format", m)))
        .ok();
    let description = request.description.unwrap_or_default();
    if description.chars().count() > 200 {
        errors.push(contract::FieldError::new(
            "description",
            "at most 200 characters",
        ));
    }
    let (Some(url), Some(types), Some(format)) = (url, types, format) else {
        return Err(StoreError::validation(errors));
    };
    if !errors.is_empty() {
        return Err(StoreError::validation(errors));
    }

    let now = app.clock.now_ms();
    let id = new_id("whe");
    let secret = WebhookSecret::generate().expose();
    let mut tx = app.db.begin_write().await?;
    let inserted = sqlx::query(
        "INSERT INTO webhook_endpoints (id, url, description, event_types, format, enabled, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 1, $6, $6) \
         ON CONFLICT (url) WHERE deleted_at IS NULL DO NOTHING RETURNING id",
    )
    .bind(&id)
    .bind(url.as_str())
    .bind(&description)
    .bind(types.join(","))
    .bind(format.as_str())
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    if inserted.is_none() {
        tx.rollback().await?;
        let existing = find_by_url(app, url.as_str()).await?.ok_or_else(|| {
            StoreError::conflict("the endpoint was deleted while registering; try again")
        })?;
        return Ok((existing, false));
    }
    sqlx::query(
        "INSERT INTO webhook_secrets (id, endpoint_id, secret, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(new_id("whs"))
    .bind(&id)
    .bind(&secret)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    // Say hello: a signed ping the owner can verify before any order
    // exists — a moment from now, so the owner has time to store the
    // secret it is about to receive in this very response.
    enqueue_ping(&mut tx, &id, now, REGISTRATION_PING_DELAY_MS).await?;
    tx.commit().await?;
    app.dispatcher_wake.notify_one();
    app.live
        .publish("endpoint.changed", serde_json::json!({"id": id}));
    tracing::info!(endpoint_id = %id, url = %url, "webhook endpoint registered");

    let mut endpoint = get(app, &id).await?;
    endpoint.secret = Some(secret);
    Ok((endpoint, true))
}

async fn find_by_url(app: &AppState, url: &str) -> Result<Option<Endpoint>, sqlx::Error> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE url = $1 AND deleted_at IS NULL"
    ));
    sqlx::query(sql)
        .bind(url)
        .fetch_optional(app.db.pool())
        .await?
        .as_ref()
        .map(endpoint_from_row)
        .transpose()
}

pub async fn get(app: &AppState, id: &str) -> Result<Endpoint, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1 AND deleted_at IS NULL"
    ));
    let row = sqlx::query(sql)
        .bind(id)
        .fetch_optional(app.db.pool())
        .await?
        .ok_or_else(|| StoreError::not_found("webhook endpoint", id))?;
    Ok(endpoint_from_row(&row)?)
}

pub async fn list(app: &AppState) -> Result<Vec<Endpoint>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE deleted_at IS NULL ORDER BY created_at, id"
    ));
    let rows = sqlx::query(sql).fetch_all(app.db.pool()).await?;
    Ok(rows
        .iter()
        .map(endpoint_from_row)
        .collect::<Result<_, _>>()?)
}

/// Enables or disables an endpoint, or changes what it receives.
/// Re-enabling clears the reason it was disabled and resumes its queue.
pub async fn update(
    app: &AppState,
    id: &str,
    changes: EndpointChanges,
) -> Result<Endpoint, StoreError> {
    let current = get(app, id).await?;
    let types = match changes.event_types {
        Some(t) => parse_event_types(Some(t)).map_err(|m| {
            StoreError::validation(vec![contract::FieldError::new("event_types", m)])
        })?,
        None => current.event_types.clone(),
    };
    let format = match changes.format {
        Some(f) => Format::parse(&f)
            .map_err(|m| StoreError::validation(vec![contract::FieldError::new("format", m)]))?,
        None => current.format,
    };
    let enabled = changes.enabled.unwrap_or(current.enabled);
    let reason = if enabled {
        None
    } else if current.enabled {
        Some("disabled by hand".to_owned())
    } else {
        current.disabled_reason.clone()
    };
    sqlx::query(
        "UPDATE webhook_endpoints SET event_types = $1, format = $2, enabled = $3, disabled_reason = $4, \
         description = $5, updated_at = $6 WHERE id = $7 AND deleted_at IS NULL",
    )
    .bind(types.join(","))
    .bind(format.as_str())
    .bind(i64::from(enabled))
    .bind(reason)
    .bind(changes.description.unwrap_or(current.description))
    .bind(app.clock.now_ms())
    .bind(id)
    .execute(app.db.writer())
    .await?;
    if enabled {
        app.dispatcher_wake.notify_one();
    }
    app.live
        .publish("endpoint.changed", serde_json::json!({"id": id}));
    get(app, id).await
}

/// Disables an endpoint on the receiver's request (`410 Gone`). Its queued
/// messages stay queued: re-enabling the endpoint delivers them.
pub async fn disable_gone(conn: &mut AnyConnection, id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE webhook_endpoints SET enabled = 0, \
         disabled_reason = 'the endpoint answered 410 Gone', updated_at = $1 WHERE id = $2",
    )
    .bind(now)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Removes an endpoint; its undelivered messages are cancelled.
pub async fn delete(app: &AppState, id: &str) -> Result<(), StoreError> {
    let now = app.clock.now_ms();
    let mut tx = app.db.begin_write().await?;
    let done = sqlx::query("UPDATE webhook_endpoints SET deleted_at = $1, enabled = 0 WHERE id = $2 AND deleted_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::not_found("webhook endpoint", id));
    }
    sqlx::query(
        "UPDATE webhook_deliveries SET state = 'cancelled', last_error = 'endpoint deleted', \
         completed_at = $1, updated_at = $1 WHERE endpoint_id = $2 AND state = 'pending'",
    )
    .bind(now)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    app.live
        .publish("endpoint.changed", serde_json::json!({"id": id}));
    Ok(())
}

/// Issues a new secret; the old ones keep signing for `grace`.
pub async fn rotate_secret(
    app: &AppState,
    id: &str,
    grace: std::time::Duration,
) -> Result<Endpoint, StoreError> {
    let mut endpoint = get(app, id).await?;
    let now = app.clock.now_ms();
    let secret = WebhookSecret::generate().expose();
    let mut tx = app.db.begin_write().await?;
    sqlx::query(
        "UPDATE webhook_secrets SET expires_at = $1 \
         WHERE endpoint_id = $2 AND (expires_at IS NULL OR expires_at > $1)",
    )
    .bind(now + grace.as_millis() as i64)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO webhook_secrets (id, endpoint_id, secret, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(new_id("whs"))
    .bind(id)
    .bind(&secret)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(
        endpoint_id = id,
        grace_s = grace.as_secs(),
        "webhook secret rotated"
    );
    app.live
        .publish("endpoint.changed", serde_json::json!({"id": id}));
    endpoint.secret = Some(secret);
    Ok(endpoint)
}

/// The secrets to sign with now: the current one and any still in grace.
pub async fn signing_secrets(
    conn: &mut AnyConnection,
    endpoint_id: &str,
    now: i64,
) -> Result<Vec<WebhookSecret>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT secret FROM webhook_secrets WHERE endpoint_id = $1 \
         AND (expires_at IS NULL OR expires_at > $2) ORDER BY created_at DESC",
    )
    .bind(endpoint_id)
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let text: String = r.try_get("secret")?;
            WebhookSecret::parse(&text).map_err(|e| sqlx::Error::Decode(e.to_string().into()))
        })
        .collect()
}

/// How long after registration the welcome ping is sent.
pub const REGISTRATION_PING_DELAY_MS: i64 = 1_000;

/// Queues a `ping` for one endpoint (on registration, or from the UI),
/// due `delay_ms` from `now`.
pub async fn enqueue_ping(
    conn: &mut AnyConnection,
    endpoint_id: &str,
    now: i64,
    delay_ms: i64,
) -> Result<String, sqlx::Error> {
    let event = WebhookEvent {
        event_type: EventType::Ping,
        timestamp: Timestamp(now),
        data: PingData {
            endpoint_id: contract::EndpointId::parse(endpoint_id)
                .map_err(|e| sqlx::Error::Decode(e.into()))?,
            message: "Hello from the pushpull store: this endpoint will receive signed webhooks."
                .into(),
        },
    };
    let payload = serde_json::to_string(&event).map_err(|e| sqlx::Error::Encode(e.into()))?;
    let message_id =
        super::webhook::insert_message(conn, EventType::Ping.as_str(), None, &payload, now).await?;
    super::webhook::insert_delivery(
        conn,
        &message_id,
        endpoint_id,
        None,
        EventType::Ping.as_str(),
        now,
        now + delay_ms,
    )
    .await?;
    Ok(message_id)
}

pub async fn ping(app: &AppState, id: &str) -> Result<String, StoreError> {
    get(app, id).await?;
    let mut tx = app.db.begin_write().await?;
    let message_id = enqueue_ping(&mut tx, id, app.clock.now_ms(), 0).await?;
    tx.commit().await?;
    app.dispatcher_wake.notify_one();
    Ok(message_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts() -> Vec<String> {
        vec![
            "localhost".into(),
            "127.0.0.1".into(),
            "::1".into(),
            "inventory".into(),
        ]
    }

    #[test]
    fn allowed_urls_pass() {
        for u in [
            "http://127.0.0.1:8081/webhooks/store",
            "http://localhost/hook",
            "http://[::1]:9000/x",
            "http://inventory:8081/webhooks/store",
        ] {
            assert!(validate_url(u, &hosts()).is_ok(), "{u}");
        }
    }

    #[test]
    fn other_urls_are_refused_with_a_reason() {
        for (u, why) in [
            ("ftp://127.0.0.1/x", "scheme"),
            ("https://127.0.0.1/x", "https"),
            ("http://169.254.169.254/latest/meta-data", "not an allowed"),
            ("http://10.0.0.5:6379/", "not an allowed"),
            ("http://user:pw@127.0.0.1/x", "credentials"),
            ("not a url", "not a valid URL"),
        ] {
            let err = validate_url(u, &hosts()).unwrap_err();
            assert!(err.contains(why), "{u}: {err}");
        }
        assert!(validate_url("http://example.com/x", &["*".into()]).is_ok());
    }

    #[test]
    fn event_types_default_to_all_and_are_checked() {
        assert_eq!(
            parse_event_types(None).unwrap(),
            vec!["order.created", "ping"]
        );
        assert!(parse_event_types(Some(vec!["order.exploded".into()])).is_err());
        assert!(parse_event_types(Some(vec![])).is_err());
        assert_eq!(
            parse_event_types(Some(vec!["*".into()])).unwrap(),
            vec!["*"]
        );
    }
}
