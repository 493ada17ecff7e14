//! The API keys the store accepts: the inventory's, on the pull feed and
//! its acknowledgements (`integration::poll`).
//!
//! A key is stored as its hash (`platform::http::hash_api_key`, hex
//! SHA-256), never as itself, so a leaked database leaks no usable key;
//! checking a presented key is a lookup by its hash. The configured key is
//! held as a `secrecy::SecretString` and exposed only to be hashed.

use actix_web::HttpRequest;
use secrecy::{ExposeSecret, SecretString};

use contract::Timestamp;
use platform::http::{bearer_token, hash_api_key};
use platform::{ApiError, Db};

use crate::error::StoreError;

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
pub async fn require(db: &Db, req: &HttpRequest) -> Result<(), StoreError> {
    let token = bearer_token(req).ok_or(ApiError::Unauthorized)?;
    let known = sqlx::query("SELECT 1 AS ok FROM api_keys WHERE key_hash = $1")
        .bind(hash_api_key(token))
        .fetch_optional(db.pool())
        .await?;
    known.map(|_| ()).ok_or(ApiError::Unauthorized.into())
}
