//! Where and how each endpoint is sent to — its URL, its format, its
//! signing secrets, whether its answers resolve orders (from its URL:
//! `super::resolver::ResolverUrl`) — kept in memory, so an attempt does
//! not read them from the database every time.
//!
//! The trade-off is staleness, and it is bounded twice. This process
//! forgets an endpoint the moment it changes it (registration, update,
//! rotation, deletion, a `410`: see `super::endpoints`). A change made by
//! *another* store process sharing the database is seen within
//! [`FRESH_FOR`]: a rotation is harmless meanwhile (the old secret keeps
//! signing during its grace period), and a deletion may let a delivery
//! already under way go out once more — which at-least-once delivery
//! allows anyway.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use contract::signing::WebhookSecret;
use contract::{EndpointId, Format, Timestamp};
use platform::Db;
use platform::db::{IntBool, NullableInt};

use super::resolver::ResolverUrl;
use crate::vocabulary::EndpointRole;

/// How long a cached endpoint is trusted without reading it again.
pub const FRESH_FOR: Duration = Duration::from_secs(1);

/// One endpoint, as an attempt needs it.
#[derive(Debug)]
pub struct Target {
    pub url: String,
    pub format: Format,
    /// Enabled and not deleted: it takes deliveries.
    pub live: bool,
    /// Its answers resolve orders (the inventory's own subscription);
    /// otherwise it only observes (`crate::vocabulary::EndpointRole`).
    pub resolves: bool,
    /// Each secret with the end of its validity (none: until rotated).
    secrets: Vec<(WebhookSecret, Option<Timestamp>)>,
}

impl Target {
    /// The secrets that sign at `now`, newest first (two during a rotation).
    pub fn signing_secrets(&self, now: Timestamp) -> Vec<WebhookSecret> {
        self.secrets
            .iter()
            .filter(|(_, expires)| expires.is_none_or(|at| at > now))
            .map(|(secret, _)| secret.clone())
            .collect()
    }
}

/// The endpoints recently sent to.
pub struct Targets {
    cached: Mutex<HashMap<EndpointId, (Instant, Arc<Target>)>>,
    /// Which of them resolves orders.
    resolver: ResolverUrl,
}

#[derive(sqlx::FromRow)]
struct EndpointRow {
    url: String,
    #[sqlx(try_from = "String")]
    format: Format,
    #[sqlx(try_from = "IntBool")]
    live: bool,
}

#[derive(sqlx::FromRow)]
struct SecretRow {
    secret: String,
    #[sqlx(try_from = "NullableInt")]
    expires_at: Option<Timestamp>,
}

impl Targets {
    pub fn new(resolver: ResolverUrl) -> Targets {
        Targets {
            cached: Mutex::default(),
            resolver,
        }
    }

    /// The endpoint `id`, from memory if fresh; `None` if it does not exist.
    pub async fn get(&self, db: &Db, id: &EndpointId) -> Result<Option<Arc<Target>>, sqlx::Error> {
        if let Some((loaded, target)) = self.cached.lock().expect("targets lock").get(id)
            && loaded.elapsed() < FRESH_FOR
        {
            return Ok(Some(target.clone()));
        }
        let Some(target) = load(db, id, &self.resolver).await? else {
            return Ok(None);
        };
        let target = Arc::new(target);
        self.cached
            .lock()
            .expect("targets lock")
            .insert(id.clone(), (Instant::now(), target.clone()));
        Ok(Some(target))
    }

    /// Drops what is known of `id`: the next attempt reads it again.
    pub fn forget(&self, id: &EndpointId) {
        self.cached.lock().expect("targets lock").remove(id);
    }
}

async fn load(
    db: &Db,
    id: &EndpointId,
    resolver: &ResolverUrl,
) -> Result<Option<Target>, sqlx::Error> {
    let mut conn = db.pool().acquire().await?;
    let endpoint: Option<EndpointRow> = sqlx::query_as(
        "SELECT url, format, CASE WHEN enabled = 1 AND deleted_at IS NULL THEN 1 ELSE 0 END AS live \
         FROM webhook_endpoints WHERE id = $1",
    )
    .bind(id.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(endpoint) = endpoint else {
        return Ok(None);
    };
    let rows: Vec<SecretRow> = sqlx::query_as(
        "SELECT secret, expires_at FROM webhook_secrets WHERE endpoint_id = $1 \
         ORDER BY created_at DESC",
    )
    .bind(id.as_str())
    .fetch_all(&mut *conn)
    .await?;
    let secrets = rows
        .into_iter()
        .map(|r| {
            let secret =
                WebhookSecret::parse(&r.secret).map_err(|e| sqlx::Error::ColumnDecode {
                    index: "secret".into(),
                    source: e.to_string().into(),
                })?;
            Ok((secret, r.expires_at))
        })
        .collect::<Result<_, sqlx::Error>>()?;
    Ok(Some(Target {
        resolves: resolver.role_of(&endpoint.url) == EndpointRole::Resolver,
        url: endpoint.url,
        format: endpoint.format,
        live: endpoint.live,
        secrets,
    }))
}
