//! API keys the inventory accepts on `/update_inventory`.
//!
//! Stored as SHA-256 hashes (see `platform::http::hash_api_key`): the
//! database never holds a usable key. A key is shown once, when created;
//! the UI lists only a hint (`pp_d…e_me`) and can revoke it. The key from
//! configuration (`INVENTORY_API_KEY`) is registered on every start.

use std::collections::HashSet;

use serde::Serialize;

use contract::{ApiKeyId, Timestamp};
use platform::Db;
use platform::http::hash_api_key;
use platform::redact::secret as redact_secret;

use crate::error::InventoryError;

/// An API key as the API shows it: its id and a hint, never the key
/// (except in the answer that created it).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ApiKey {
    #[sqlx(try_from = "String")]
    pub id: ApiKeyId,
    pub label: String,
    pub hint: String,
    #[sqlx(try_from = "i64")]
    pub created_at: Timestamp,
    #[sqlx(try_from = "platform::db::IntBool")]
    pub revoked: bool,
    /// Only in the answer that created it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[sqlx(skip)]
    pub key: Option<String>,
}

/// Accepts `key` from now on (if it is not accepted already).
pub async fn register(db: &Db, key: &str, label: &str, now: Timestamp) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO api_keys (id, key_hash, label, hint, created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (key_hash) DO NOTHING",
    )
    .bind(ApiKeyId::new().as_str())
    .bind(hash_api_key(key))
    .bind(label)
    .bind(redact_secret(key))
    .bind(now.millis())
    .execute(db.writer())
    .await?;
    Ok(())
}

/// The live keys' hashes, kept in memory: every `/update_inventory` call
/// is checked, and a query per call was one more trip to the database than
/// the call itself needs (the rest is shared with other calls, in one
/// transaction — `integration::intake`). Changes made by this process
/// ([`create`], [`revoke`]) count at once; a change made by another
/// inventory on the same database (`--scale inventory=2`) counts within
/// [`KEYS_FRESH_FOR`], when the copy is next read again.
#[derive(Debug, Default)]
pub struct KeyCache {
    live: std::sync::RwLock<Option<(Timestamp, HashSet<String>)>>,
}

/// How long the copy of the live keys is trusted before it is read again.
pub const KEYS_FRESH_FOR: std::time::Duration = std::time::Duration::from_secs(2);

impl KeyCache {
    /// Whether `token` is a live key.
    pub async fn is_valid(
        &self,
        db: &Db,
        now: Timestamp,
        token: &str,
    ) -> Result<bool, sqlx::Error> {
        let hash = hash_api_key(token);
        if let Some((read_at, live)) = &*self.live.read().expect("not poisoned")
            && now.millis() - read_at.millis() < KEYS_FRESH_FOR.as_millis() as i64
        {
            return Ok(live.contains(&hash));
        }
        let live: HashSet<String> =
            sqlx::query_scalar("SELECT key_hash FROM api_keys WHERE revoked_at IS NULL")
                .fetch_all(db.pool())
                .await?
                .into_iter()
                .collect();
        let valid = live.contains(&hash);
        *self.live.write().expect("not poisoned") = Some((now, live));
        Ok(valid)
    }

    /// Read the keys again on the next call.
    pub fn forget(&self) {
        *self.live.write().expect("not poisoned") = None;
    }
}

/// The longest label a key may have, in characters.
pub const MAX_LABEL_CHARS: usize = 60;

/// Creates a random key and returns it (the only time it is visible).
pub async fn create(
    db: &Db,
    cache: &KeyCache,
    label: &str,
    now: Timestamp,
) -> Result<ApiKey, InventoryError> {
    // Shown in the key list to whoever manages keys: human text, the rule
    // of every field people type for others to read.
    contract::human_text::check("a label", label)
        .map_err(|m| InventoryError::invalid("label", m))?;
    let label = label.trim();
    if label.is_empty() || label.chars().count() > MAX_LABEL_CHARS {
        return Err(InventoryError::invalid(
            "label",
            format!("a label of 1 to {MAX_LABEL_CHARS} characters says who the key is for"),
        ));
    }
    let mut bytes = [0u8; 24];
    rand::fill(&mut bytes);
    let key = format!("pp_{}", hex::encode(bytes));
    register(db, &key, label, now).await?;
    cache.forget();
    let mut created = list(db)
        .await?
        .into_iter()
        .find(|k| k.hint == redact_secret(&key) && k.label == label)
        .ok_or_else(|| anyhow::anyhow!("the new key was not found after inserting it"))?;
    created.key = Some(key);
    Ok(created)
}

pub async fn list(db: &Db) -> Result<Vec<ApiKey>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, label, hint, created_at, \
         CASE WHEN revoked_at IS NULL THEN 0 ELSE 1 END AS revoked \
         FROM api_keys ORDER BY created_at, id",
    )
    .fetch_all(db.pool())
    .await
}

/// Stops accepting a key; `id` as given (a page's path), so an id that is
/// not one of ours is simply not found.
pub async fn revoke(
    db: &Db,
    cache: &KeyCache,
    id: &str,
    now: Timestamp,
) -> Result<(), InventoryError> {
    let not_found = || InventoryError::not_found("API key", id);
    let id = ApiKeyId::parse(id).map_err(|_| not_found())?;
    let done =
        sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now.millis())
            .bind(id.as_str())
            .execute(db.writer())
            .await?;
    cache.forget();
    if done.rows_affected() == 0 {
        return Err(not_found());
    }
    Ok(())
}
