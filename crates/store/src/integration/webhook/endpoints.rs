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
//! **Where an endpoint points decides what its answers may do**: one URL,
//! the inventory's own receiver, resolves orders; every other endpoint
//! observes ([`super::resolver`]).
//!
//! Each endpoint also shows the **fingerprints** of the secrets that sign
//! for it now ([`super::secrets`]).
//!
//! Where an endpoint may point is checked by [`super::destination`]; what
//! it receives is its [`super::subscription::Subscription`].

use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use utoipa::ToSchema;

use contract::signing::WebhookSecret;
use contract::{DeliveryState, EndpointId, FieldError, Format, Timestamp};

use super::Webhooks;
use super::destination;
use super::outbox::{self, REGISTRATION_PING_DELAY};
use super::secrets;
use super::subscription::Subscription;
use crate::error::StoreError;
use crate::vocabulary::EndpointRole;

/// `POST /api/webhook-endpoints`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct NewEndpoint {
    /// Where to POST the events: `http` or `https`, no credentials in it,
    /// on a host the store allows (`WEBHOOK_ALLOWED_HOSTS`).
    #[schema(required, value_type = String, pattern = "^https?://[^/?#@\\s]+(/\\S*)?$", max_length = 2048)]
    pub url: Option<String>,
    /// What to receive: event types, or `["*"]` for every one (omitted:
    /// every type this version knows).
    #[serde(default)]
    #[schema(value_type = Option<Subscription>)]
    pub event_types: Option<Vec<String>>,
    /// The body's format (default `json`).
    #[serde(default)]
    #[schema(value_type = Option<Format>)]
    pub format: Option<String>,
    /// A note for people reading the settings page.
    #[serde(default)]
    #[schema(schema_with = description_schema)]
    pub description: Option<String>,
}

/// The longest description an endpoint may have, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 200;

fn description_schema() -> utoipa::openapi::schema::Object {
    contract::schema::human_text(
        "A note for people reading the settings page.",
        MAX_DESCRIPTION_CHARS,
        false,
    )
}

/// A description as typed, on creation and on change alike: human text
/// (`contract::human_text::check`, the rule of every field people
/// type for others to read) of at most [`MAX_DESCRIPTION_CHARS`].
fn check_description(text: &str) -> Result<(), String> {
    contract::human_text::check("a description", text)?;
    if text.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(format!("at most {MAX_DESCRIPTION_CHARS} characters"));
    }
    Ok(())
}

/// `PATCH /api/webhook-endpoints/{id}`: only the fields given change.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct EndpointChanges {
    pub enabled: Option<bool>,
    #[schema(value_type = Option<Subscription>)]
    pub event_types: Option<Vec<String>>,
    #[schema(value_type = Option<Format>)]
    pub format: Option<String>,
    /// A note for people reading the settings page.
    #[schema(schema_with = description_schema)]
    pub description: Option<String>,
}

/// An endpoint as the API shows it, read from its row (selected with
/// `ENDPOINT_COLUMNS`) and completed by `completed` (its role, its
/// fingerprints). `secret` is present only in the answer that created the
/// endpoint or rotated its secret.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, ToSchema)]
pub struct Endpoint {
    #[sqlx(try_from = "String")]
    pub id: EndpointId,
    pub url: String,
    pub description: String,
    #[sqlx(try_from = "String")]
    pub event_types: Subscription,
    #[sqlx(try_from = "String")]
    pub format: Format,
    /// Whether its answers resolve webhook orders (`resolver`: the
    /// inventory's own receiver, `{INVENTORY_URL}/webhooks/store`) or
    /// decide nothing (`observer`). Worked out from the URL, never read
    /// from the row.
    #[sqlx(skip)]
    pub role: EndpointRole,
    #[sqlx(try_from = "platform::db::IntBool")]
    pub enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    #[sqlx(try_from = "i64")]
    pub created_at: Timestamp,
    /// A fingerprint of each secret that signs now, newest first (two
    /// during a rotation's grace period): the first 16 hex digits of the
    /// SHA-256 of the secret's key bytes. It names a secret without
    /// revealing it, so a receiver can tell whether the one it holds is
    /// still current.
    #[sqlx(skip)]
    #[schema(value_type = Vec<String>, example = json!(["f74e1720b7614881"]))]
    pub secret_fingerprints: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[sqlx(skip)]
    pub secret: Option<String>,
}

const ENDPOINT_COLUMNS: &str =
    "id, url, description, event_types, format, enabled, disabled_reason, created_at";

/// Completes endpoints read from their rows: each one's role, from its URL,
/// and the fingerprints of the secrets that sign for it now.
async fn completed(
    hooks: &Webhooks,
    mut endpoints: Vec<Endpoint>,
) -> Result<Vec<Endpoint>, sqlx::Error> {
    // The signing secrets of the one endpoint asked for, or of all (there
    // are few endpoints, and a list shows most of them).
    let one = match endpoints.as_slice() {
        [] => return Ok(endpoints),
        [one] => Some(one.id.as_str().to_owned()),
        _ => None,
    };
    let sql = if one.is_some() {
        "SELECT endpoint_id, secret FROM webhook_secrets \
         WHERE (expires_at IS NULL OR expires_at > $1) AND endpoint_id = $2 \
         ORDER BY created_at DESC, id DESC"
    } else {
        "SELECT endpoint_id, secret FROM webhook_secrets \
         WHERE (expires_at IS NULL OR expires_at > $1) \
         ORDER BY created_at DESC, id DESC"
    };
    let mut query = sqlx::query_as::<_, (String, String)>(sql).bind(hooks.ctx.clock.now().millis());
    if let Some(id) = one {
        query = query.bind(id);
    }
    let secrets = query.fetch_all(hooks.ctx.db.pool()).await?;
    for endpoint in &mut endpoints {
        endpoint.role = hooks.resolver.role_of(&endpoint.url);
        endpoint.secret_fingerprints = secrets
            .iter()
            .filter(|(id, _)| id == endpoint.id.as_str())
            .filter_map(|(_, secret)| WebhookSecret::parse(secret).ok())
            .map(|secret| secret.fingerprint())
            .collect();
    }
    Ok(endpoints)
}

async fn completed_one(hooks: &Webhooks, endpoint: Endpoint) -> Result<Endpoint, sqlx::Error> {
    let mut one = completed(hooks, vec![endpoint]).await?;
    Ok(one.remove(0))
}

fn parse_format(raw: Option<&str>) -> Result<Format, String> {
    raw.map_or(Ok(Format::Json), |f| Format::parse(f).map_err(|e| e.0))
}

/// Registers an endpoint, or finds the live one with the same URL.
/// Returns the endpoint and whether it was created (only then with secret).
///
/// Whoever asks, the endpoint at the inventory's receiver URL is the
/// resolver and any other an observer ([`ResolverUrl`](super::resolver::ResolverUrl)). So registering the
/// inventory's URL first cannot keep its answers from counting: the
/// inventory, registering it after, finds that endpoint — the resolver —
/// without its secret, sees from its fingerprints that it holds none of
/// them, and rotates (`inventory::integration::subscription`).
pub async fn register(
    hooks: &Webhooks,
    request: NewEndpoint,
) -> Result<(Endpoint, bool), StoreError> {
    let mut errors = Vec::new();
    let url = match request.url.as_deref() {
        Some(u) => destination::validate_url(u, &hooks.ctx.config.webhook.allowed_hosts)
            .map_err(|m| errors.push(FieldError::new("url", m)))
            .ok(),
        None => {
            errors.push(FieldError::new("url", "a URL is required"));
            None
        }
    };
    let types = Subscription::from_request(request.event_types)
        .map_err(|m| errors.push(FieldError::new("event_types", m)))
        .ok();
    let format = parse_format(request.format.as_deref())
        .map_err(|m| errors.push(FieldError::new("format", m)))
        .ok();
    let description = request.description.unwrap_or_default();
    if let Err(m) = check_description(&description) {
        errors.push(FieldError::new("description", m));
    }
    let (Some(url), Some(types), Some(format), true) = (url, types, format, errors.is_empty())
    else {
        return Err(StoreError::validation(errors));
    };

    let now = hooks.ctx.clock.now();
    let id = EndpointId::new();
    let secret = WebhookSecret::generate();
    let role = hooks.resolver.role_of(url.as_str());
    let mut tx = hooks.ctx.db.begin_write().await?;
    let inserted = sqlx::query(
        "INSERT INTO webhook_endpoints (id, url, description, event_types, format, role, enabled, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7) \
         ON CONFLICT (url) WHERE deleted_at IS NULL DO NOTHING RETURNING id",
    )
    .bind(id.as_str())
    .bind(url.as_str())
    .bind(&description)
    .bind(types.to_string())
    .bind(format.as_str())
    .bind(role.as_str())
    .bind(now.millis())
    .fetch_optional(&mut *tx)
    .await?;
    if inserted.is_none() {
        tx.rollback().await?;
        let existing = find_by_url(hooks, url.as_str()).await?.ok_or_else(|| {
            StoreError::conflict("the endpoint was deleted while registering; try again")
        })?;
        return Ok((existing, false));
    }
    secrets::insert_secret(&mut tx, &id, &secret, now).await?;
    // Say hello: a signed ping the owner can verify before any order
    // exists — a moment from now, so the owner has time to store the
    // secret it is about to receive in this very response.
    outbox::enqueue_ping(&mut tx, &id, now, REGISTRATION_PING_DELAY, None).await?;
    // Orders placed while no endpoint took them have waited for this one
    // (due with the ping, so the wake-up below covers them).
    outbox::enqueue_waiting_orders(&mut tx, &id, &types, now).await?;
    tx.commit().await?;
    hooks.dispatch.look_at(now + REGISTRATION_PING_DELAY);
    hooks.ctx.live.publish(
        contract::LiveEventKind::EndpointChanged,
        crate::live::EndpointChangedData { id: id.clone() },
    );
    tracing::info!(endpoint_id = %id, url = %url, %role, "webhook endpoint registered");

    let mut endpoint = get(hooks, &id).await?;
    endpoint.secret = Some(secret.expose());
    Ok((endpoint, true))
}

async fn find_by_url(hooks: &Webhooks, url: &str) -> Result<Option<Endpoint>, sqlx::Error> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE url = $1 AND deleted_at IS NULL"
    ));
    let endpoint: Option<Endpoint> = sqlx::query_as(sql)
        .bind(url)
        .fetch_optional(hooks.ctx.db.pool())
        .await?;
    match endpoint {
        Some(endpoint) => Ok(Some(completed_one(hooks, endpoint).await?)),
        None => Ok(None),
    }
}

pub async fn get(hooks: &Webhooks, id: &EndpointId) -> Result<Endpoint, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1 AND deleted_at IS NULL"
    ));
    let endpoint: Option<Endpoint> = sqlx::query_as(sql)
        .bind(id.as_str())
        .fetch_optional(hooks.ctx.db.pool())
        .await?;
    let endpoint =
        endpoint.ok_or_else(|| StoreError::not_found("webhook endpoint", id.as_str()))?;
    Ok(completed_one(hooks, endpoint).await?)
}

pub async fn list(hooks: &Webhooks) -> Result<Vec<Endpoint>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE deleted_at IS NULL ORDER BY created_at, id"
    ));
    let endpoints = sqlx::query_as(sql).fetch_all(hooks.ctx.db.pool()).await?;
    Ok(completed(hooks, endpoints).await?)
}

/// Enables or disables an endpoint, or changes what it receives.
/// Re-enabling clears the reason it was disabled and resumes its queue.
pub async fn update(
    hooks: &Webhooks,
    id: &EndpointId,
    changes: EndpointChanges,
) -> Result<Endpoint, StoreError> {
    let current = get(hooks, id).await?;
    let types = match changes.event_types {
        Some(t) => Subscription::from_request(Some(t))
            .map_err(|m| StoreError::invalid("event_types", m))?,
        None => current.event_types.clone(),
    };
    let format = match changes.format {
        Some(f) => parse_format(Some(&f)).map_err(|m| StoreError::invalid("format", m))?,
        None => current.format,
    };
    if let Some(text) = &changes.description {
        check_description(text).map_err(|m| StoreError::invalid("description", m))?;
    }
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
    .bind(types.to_string())
    .bind(format.as_str())
    .bind(i64::from(enabled))
    .bind(reason)
    .bind(changes.description.unwrap_or(current.description))
    .bind(hooks.ctx.clock.now().millis())
    .bind(id.as_str())
    .execute(hooks.ctx.db.writer())
    .await?;
    hooks.targets.forget(id);
    if enabled {
        // Its queue may have waited for it.
        hooks.dispatch.look_at(hooks.ctx.clock.now());
    }
    hooks.ctx.live.publish(
        contract::LiveEventKind::EndpointChanged,
        crate::live::EndpointChangedData { id: id.clone() },
    );
    get(hooks, id).await
}

/// Disables an endpoint on the receiver's request (`410 Gone`). Its queued
/// messages stay queued: re-enabling the endpoint delivers them.
pub async fn disable_gone(
    conn: &mut AnyConnection,
    id: &EndpointId,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE webhook_endpoints SET enabled = 0, \
         disabled_reason = 'the endpoint answered 410 Gone', updated_at = $1 WHERE id = $2",
    )
    .bind(now.millis())
    .bind(id.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Removes an endpoint; its undelivered messages are cancelled.
pub async fn delete(hooks: &Webhooks, id: &EndpointId) -> Result<(), StoreError> {
    let now = hooks.ctx.clock.now().millis();
    let mut tx = hooks.ctx.db.begin_write().await?;
    let done = sqlx::query(
        "UPDATE webhook_endpoints SET deleted_at = $1, enabled = 0 WHERE id = $2 AND deleted_at IS NULL",
    )
    .bind(now)
    .bind(id.as_str())
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::not_found("webhook endpoint", id.as_str()));
    }
    sqlx::query(
        "UPDATE webhook_deliveries SET state = $1, last_error = 'endpoint deleted', \
         completed_at = $2, updated_at = $2 WHERE endpoint_id = $3 AND state = $4",
    )
    .bind(DeliveryState::Cancelled.as_str())
    .bind(now)
    .bind(id.as_str())
    .bind(DeliveryState::Pending.as_str())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    hooks.targets.forget(id);
    hooks.ctx.live.publish(
        contract::LiveEventKind::EndpointChanged,
        crate::live::EndpointChangedData { id: id.clone() },
    );
    Ok(())
}

/// Issues a new secret; the old ones keep signing for `grace`.
pub async fn rotate_secret(
    hooks: &Webhooks,
    id: &EndpointId,
    grace: std::time::Duration,
) -> Result<Endpoint, StoreError> {
    get(hooks, id).await?;
    let now = hooks.ctx.clock.now();
    let secret = WebhookSecret::generate();
    let mut tx = hooks.ctx.db.begin_write().await?;
    secrets::expire_current(&mut tx, id, now + grace).await?;
    secrets::insert_secret(&mut tx, id, &secret, now).await?;
    tx.commit().await?;
    hooks.targets.forget(id);
    tracing::info!(endpoint_id = %id, grace_s = grace.as_secs(), "webhook secret rotated");
    hooks.ctx.live.publish(
        contract::LiveEventKind::EndpointChanged,
        crate::live::EndpointChangedData { id: id.clone() },
    );
    // Read again: its fingerprints are the new secret's (and the old
    // ones', while they still sign).
    let mut endpoint = get(hooks, id).await?;
    endpoint.secret = Some(secret.expose());
    Ok(endpoint)
}
