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
//! **Who registers decides what the answers may do.** An endpoint has a
//! [`EndpointRole`]: the inventory registers its receiver with the store's
//! API key, which makes it the `resolver` — its `2xx` body says what it did
//! with the order, and that resolves the order (`super::recorder`). Any
//! other registration (anonymous, or the operator's from the settings page)
//! is an `observer`: it gets the same signed deliveries, retried and logged,
//! and whatever it answers changes no order. Otherwise anyone who can
//! register a URL could answer `{"outcome":"applied"}` and confirm orders
//! the inventory never saw.
//!
//! Where an endpoint may point is checked by [`super::destination`]; what
//! it receives is its [`Subscription`](super::subscription::Subscription).

use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use utoipa::ToSchema;

use contract::signing::WebhookSecret;
use contract::{DeliveryState, EndpointId, FieldError, Format, SecretId, Timestamp};

use super::destination;
use super::outbox::{self, REGISTRATION_PING_DELAY};
use super::subscription::Subscription;
use crate::error::StoreError;
use crate::state::AppState;
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
/// (`contract::validation::human_text`, the rule of every field people
/// type for others to read) of at most [`MAX_DESCRIPTION_CHARS`].
fn check_description(text: &str) -> Result<(), String> {
    contract::validation::human_text("a description", text)?;
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
/// [`ENDPOINT_COLUMNS`]). `secret` is present only in the answer that
/// created the endpoint or rotated its secret.
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
    /// inventory's own subscription) or decide nothing (`observer`).
    #[sqlx(try_from = "String")]
    pub role: EndpointRole,
    #[sqlx(try_from = "platform::db::IntBool")]
    pub enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    #[sqlx(try_from = "i64")]
    pub created_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[sqlx(skip)]
    pub secret: Option<String>,
}

const ENDPOINT_COLUMNS: &str =
    "id, url, description, event_types, format, role, enabled, disabled_reason, created_at";

fn parse_format(raw: Option<&str>) -> Result<Format, String> {
    raw.map_or(Ok(Format::Json), |f| Format::parse(f).map_err(|e| e.0))
}

/// Registers an endpoint, or finds the live one with the same URL.
/// Returns the endpoint and whether it was created (only then with secret).
///
/// `role` is who asks (see `crate::api_keys::Registrant`): the inventory, with the store's
/// key, registers the resolver; anyone else an observer. The inventory
/// finding its URL registered already by someone else makes that
/// registration the resolver — so registering the inventory's URL first
/// cannot keep its answers from counting — but gets no secret for it: it
/// rotates, as it does for a registration whose secret it lost.
pub async fn register(
    app: &AppState,
    request: NewEndpoint,
    role: EndpointRole,
) -> Result<(Endpoint, bool), StoreError> {
    let mut errors = Vec::new();
    let url = match request.url.as_deref() {
        Some(u) => destination::validate_url(u, &app.config.webhook.allowed_hosts)
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

    let now = app.clock.now();
    let id = EndpointId::new();
    let secret = WebhookSecret::generate();
    let mut tx = app.db.begin_write().await?;
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
        let mut existing = find_by_url(app, url.as_str()).await?.ok_or_else(|| {
            StoreError::conflict("the endpoint was deleted while registering; try again")
        })?;
        if role == EndpointRole::Resolver && existing.role != role {
            make_resolver(app, &existing.id).await?;
            existing.role = role;
        }
        return Ok((existing, false));
    }
    insert_secret(&mut tx, &id, &secret, now).await?;
    // Say hello: a signed ping the owner can verify before any order
    // exists — a moment from now, so the owner has time to store the
    // secret it is about to receive in this very response.
    outbox::enqueue_ping(&mut tx, &id, now, REGISTRATION_PING_DELAY).await?;
    tx.commit().await?;
    app.dispatch.look_at(now + REGISTRATION_PING_DELAY);
    app.live
        .publish("endpoint.changed", serde_json::json!({"id": id}));
    tracing::info!(endpoint_id = %id, url = %url, %role, "webhook endpoint registered");

    let mut endpoint = get(app, &id).await?;
    endpoint.secret = Some(secret.expose());
    Ok((endpoint, true))
}

/// The inventory claims a registration of its URL that someone else made.
async fn make_resolver(app: &AppState, id: &EndpointId) -> Result<(), StoreError> {
    sqlx::query("UPDATE webhook_endpoints SET role = $1, updated_at = $2 WHERE id = $3")
        .bind(EndpointRole::Resolver.as_str())
        .bind(app.clock.now().millis())
        .bind(id.as_str())
        .execute(app.db.writer())
        .await?;
    app.webhook_targets.forget(id);
    app.live
        .publish("endpoint.changed", serde_json::json!({"id": id}));
    tracing::info!(endpoint_id = %id, "webhook endpoint now resolves orders (registered by the inventory)");
    Ok(())
}

async fn find_by_url(app: &AppState, url: &str) -> Result<Option<Endpoint>, sqlx::Error> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE url = $1 AND deleted_at IS NULL"
    ));
    sqlx::query_as(sql)
        .bind(url)
        .fetch_optional(app.db.pool())
        .await
}

pub async fn get(app: &AppState, id: &EndpointId) -> Result<Endpoint, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1 AND deleted_at IS NULL"
    ));
    let endpoint: Option<Endpoint> = sqlx::query_as(sql)
        .bind(id.as_str())
        .fetch_optional(app.db.pool())
        .await?;
    endpoint.ok_or_else(|| StoreError::not_found("webhook endpoint", id.as_str()))
}

pub async fn list(app: &AppState) -> Result<Vec<Endpoint>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE deleted_at IS NULL ORDER BY created_at, id"
    ));
    Ok(sqlx::query_as(sql).fetch_all(app.db.pool()).await?)
}

/// Enables or disables an endpoint, or changes what it receives.
/// Re-enabling clears the reason it was disabled and resumes its queue.
pub async fn update(
    app: &AppState,
    id: &EndpointId,
    changes: EndpointChanges,
) -> Result<Endpoint, StoreError> {
    let current = get(app, id).await?;
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
    .bind(app.clock.now().millis())
    .bind(id.as_str())
    .execute(app.db.writer())
    .await?;
    app.webhook_targets.forget(id);
    if enabled {
        // Its queue may have waited for it.
        app.dispatch.look_at(app.clock.now());
    }
    app.live
        .publish("endpoint.changed", serde_json::json!({"id": id}));
    get(app, id).await
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
pub async fn delete(app: &AppState, id: &EndpointId) -> Result<(), StoreError> {
    let now = app.clock.now().millis();
    let mut tx = app.db.begin_write().await?;
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
    app.webhook_targets.forget(id);
    app.live
        .publish("endpoint.changed", serde_json::json!({"id": id}));
    Ok(())
}

async fn insert_secret(
    conn: &mut AnyConnection,
    endpoint_id: &EndpointId,
    secret: &WebhookSecret,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO webhook_secrets (id, endpoint_id, secret, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(SecretId::new().as_str())
    .bind(endpoint_id.as_str())
    .bind(secret.expose())
    .bind(now.millis())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Issues a new secret; the old ones keep signing for `grace`.
pub async fn rotate_secret(
    app: &AppState,
    id: &EndpointId,
    grace: std::time::Duration,
) -> Result<Endpoint, StoreError> {
    let mut endpoint = get(app, id).await?;
    let now = app.clock.now();
    let secret = WebhookSecret::generate();
    let mut tx = app.db.begin_write().await?;
    sqlx::query(
        "UPDATE webhook_secrets SET expires_at = $1 \
         WHERE endpoint_id = $2 AND (expires_at IS NULL OR expires_at > $1)",
    )
    .bind((now + grace).millis())
    .bind(id.as_str())
    .execute(&mut *tx)
    .await?;
    insert_secret(&mut tx, id, &secret, now).await?;
    tx.commit().await?;
    app.webhook_targets.forget(id);
    tracing::info!(endpoint_id = %id, grace_s = grace.as_secs(), "webhook secret rotated");
    app.live
        .publish("endpoint.changed", serde_json::json!({"id": id}));
    endpoint.secret = Some(secret.expose());
    Ok(endpoint)
}

/// Sends an endpoint a signed `ping` now (the settings page's button).
pub async fn ping(app: &AppState, id: &EndpointId) -> Result<contract::MessageId, StoreError> {
    get(app, id).await?;
    let mut tx = app.db.begin_write().await?;
    let message_id =
        outbox::enqueue_ping(&mut tx, id, app.clock.now(), std::time::Duration::ZERO).await?;
    tx.commit().await?;
    app.dispatch.look_at(app.clock.now());
    Ok(message_id)
}
