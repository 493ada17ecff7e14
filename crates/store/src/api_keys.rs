//! The API keys the store accepts: the inventory's, on the pull feed and
//! its acknowledgements (`integration::poll`) — and on its webhook
//! subscription: registering its receiver, reading it and rotating its
//! secret ([`Registrant`]). The key makes no endpoint the resolver of
//! webhook orders: the inventory's receiver URL does, whoever registers it
//! (`integration::webhook::resolver::ResolverUrl`).
//!
//! A key is stored as its hash (`platform::http::hash_api_key`, hex
//! SHA-256), never as itself, so a leaked database leaks no usable key;
//! checking a presented key is a lookup by its hash. The configured key is
//! held as a `secrecy::SecretString` and exposed only to be hashed.
//!
//! **Checked once, remembered.** Every feed read, acknowledgement and
//! hybrid fetch presents the key, and a lookup per request was one more
//! database read on each (in hybrid mode, one per order). A key the table
//! accepted is remembered in memory ([`KnownKeys`]); only a key not seen
//! before is looked up. That is safe because this store never revokes a
//! key — rows are only ever added, at start — so a remembered key cannot
//! have become invalid. (Were revocation added, the road would be a short
//! expiry or a notification; an unknown key is still looked up each time,
//! so a new process's key is accepted at once.)

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use secrecy::{ExposeSecret, SecretString};

use contract::Timestamp;
use platform::http::{bearer_token, hash_api_key};
use platform::{ApiError, Db};

use crate::context::KnownKeys;
use crate::error::StoreError;
use crate::state::AppState;
use crate::vocabulary::EndpointRole;

/// Makes the configured key valid (idempotent: runs on every start).
pub async fn accept(db: &Db, key: &SecretString, now: Timestamp) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO api_keys (key_hash, label, created_at) VALUES ($1, 'configured (STORE_API_KEY)', $2) \
         ON CONFLICT (key_hash) DO NOTHING",
    )
    .bind(hash_api_key(key.expose_secret()))
    .bind(now.millis())
    .execute(db.writer())
    .await?;
    Ok(())
}

/// Passes a request that carries `Authorization: Bearer <a key we accept>`;
/// anything else is a `401` (with `WWW-Authenticate: Bearer`).
pub async fn require(db: &Db, known: &KnownKeys, req: &HttpRequest) -> Result<(), StoreError> {
    let token = bearer_token(req).ok_or(ApiError::Unauthorized)?;
    let hash = hash_api_key(token);
    if known.knows(&hash) {
        return Ok(());
    }
    let accepted = sqlx::query("SELECT 1 AS ok FROM api_keys WHERE key_hash = $1")
        .bind(&hash)
        .fetch_optional(db.pool())
        .await?
        .is_some();
    if !accepted {
        return Err(ApiError::Unauthorized.into());
    }
    known.remember(hash);
    Ok(())
}

/// Who registers a webhook endpoint, reads one or rotates its secret: the
/// inventory, presenting the store's key, or the operator
/// ([`platform::guard::Operator`]: anyone, when no `ADMIN_TOKEN` is set).
/// Anyone else is a `401`, before the body is read (the check needs no
/// database: the key is the configured one, compared by hash).
///
/// Who it is decides what they may touch, not what an endpoint does: the
/// key registers an endpoint wherever the operator could (and what it
/// registers anywhere but the inventory's receiver URL observes, like the
/// operator's), but it reads and rotates only the inventory's own
/// endpoint ([`Registrant::may_manage`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registrant {
    Inventory,
    Operator,
}

impl Registrant {
    /// Whether this registrant may read the endpoint with `role` or rotate
    /// its secret: the operator any, the store's key only the resolver — so
    /// that a wiped inventory can get a secret again, and can check the one
    /// it holds, without being the operator.
    pub fn may_manage(self, role: EndpointRole, req: &HttpRequest) -> bool {
        self == Registrant::Operator
            || role == EndpointRole::Resolver
            || platform::guard::is_operator(req)
    }
}

/// Whether the request carries the store's configured key.
pub fn presents_store_key(req: &HttpRequest) -> bool {
    let Some(app) = req.app_data::<web::Data<AppState>>() else {
        return false;
    };
    bearer_token(req).is_some_and(|token| {
        hash_api_key(token) == hash_api_key(app.ctx.config.store_api_key.expose_secret())
    })
}

impl FromRequest for Registrant {
    type Error = actix_web::Error;
    type Future = Ready<Result<Registrant, actix_web::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if presents_store_key(req) {
            return ready(Ok(Registrant::Inventory));
        }
        ready(
            platform::guard::Operator::from_request(req, payload)
                .into_inner()
                .map(|_| Registrant::Operator),
        )
    }
}
