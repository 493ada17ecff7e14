//! `Idempotency-Key`: placing an order twice by accident places it once.
//!
//! A client that did not get an answer — a timeout, a dropped connection, a
//! double click on the order form — cannot know whether its order was
//! placed. With an `Idempotency-Key` header (the convention of Stripe and of
//! the IETF draft of the same name) it can simply send the request again:
//!
//! 1. **Parse** the key: 1 to [`MAX_KEY_LEN`] visible ASCII characters (a
//!    UUID is the usual choice).
//! 2. **Fingerprint** what was asked for ([`fingerprint`]: a SHA-256 of the
//!    customer and lines, in hex), so that reusing a key for a *different*
//!    order is refused rather than silently answered with the first one.
//! 3. **Claim** the key *inside the order's transaction* ([`claim_all`]): the
//!    key, the fingerprint and the order id commit together with the order,
//!    so a key is never taken by an order that does not exist, and of two
//!    concurrent requests with the same key exactly one inserts it.
//! 4. **Replay** ([`replay`]): a repeat finds the key and gets the first
//!    order back (`Idempotent-Replayed: true`), as it now stands — unless
//!    the first request has not answered yet (an api-mode order still
//!    waiting for the inventory), which is a `409` to retry shortly.
//!
//! The inventory applies the same idea to `/update_inventory`, keyed on the
//! order id; see `inventory::idempotency`.

use actix_web::HttpRequest;
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;

use contract::order::{NewOrder, Order};
use contract::{IntegrationMode, OrderId, OrderStatus, Timestamp};
use platform::{ApiError, Db};

use crate::error::StoreError;
use crate::orders;

/// The header's name.
pub const HEADER: &str = "Idempotency-Key";

/// The longest key accepted (Stripe allows 255; the inventory takes the
/// same for a `webhook-id`: `contract::keys::is_key`).
pub const MAX_KEY_LEN: usize = contract::keys::MAX_KEY_CHARS;

/// A checked `Idempotency-Key` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// 1 to 255 visible ASCII characters.
    pub fn parse(raw: &str) -> Result<IdempotencyKey, StoreError> {
        if contract::keys::is_key(raw.as_bytes()) {
            Ok(IdempotencyKey(raw.to_owned()))
        } else {
            Err(StoreError::bad_request(format!(
                "Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters"
            )))
        }
    }

    /// The key a request carries, if any.
    pub fn from_request(req: &HttpRequest) -> Result<Option<IdempotencyKey>, StoreError> {
        let Some(value) = req.headers().get(HEADER) else {
            return Ok(None);
        };
        let text = value
            .to_str()
            .map_err(|_| StoreError::bad_request("Idempotency-Key must be visible ASCII"))?;
        IdempotencyKey::parse(text).map(Some)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A digest of what was asked for, stored with the key: the lowercase hex
/// SHA-256 of the customer and each line.
pub fn fingerprint(order: &NewOrder) -> String {
    let mut h = Sha256::new();
    h.update(order.customer.name.as_bytes());
    h.update([0]);
    h.update(order.customer.email.as_bytes());
    for line in &order.items {
        h.update([0]);
        h.update(line.sku.as_str().as_bytes());
        h.update(b":");
        h.update(line.quantity.get().to_string().as_bytes());
    }
    hex::encode(h.finalize())
}

/// An idempotency key to take for an order.
pub struct Claim<'a> {
    pub key: &'a IdempotencyKey,
    pub fingerprint: &'a str,
    pub order_id: &'a OrderId,
}

/// Takes every key of `claims`, inside the orders' transaction, in one
/// statement. Returns false when any of them was taken already — by a
/// concurrent request that committed first, or by another order of the
/// same batch — and then the caller must roll back: that request writes
/// nothing and becomes a replay of the other.
pub async fn claim_all(
    conn: &mut AnyConnection,
    claims: &[Claim<'_>],
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    for chunk in claims.chunks(platform::db::rows_per_statement(4)) {
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO idempotency_keys (idempotency_key, request_hash, order_id, created_at) \
             VALUES {} ON CONFLICT (idempotency_key) DO NOTHING RETURNING idempotency_key",
            platform::db::value_rows(4, chunk.len())
        ));
        let mut query = sqlx::query(sql);
        for claim in chunk {
            query = query
                .bind(claim.key.as_str())
                .bind(claim.fingerprint)
                .bind(claim.order_id.as_str())
                .bind(now.millis());
        }
        if query.fetch_all(&mut *conn).await?.len() < chunk.len() {
            return Ok(false);
        }
    }
    Ok(true)
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    #[sqlx(try_from = "String")]
    order_id: OrderId,
    request_hash: String,
}

/// The first answer for `key`, if the key was seen before.
pub async fn replay(
    db: &Db,
    key: &IdempotencyKey,
    fingerprint: &str,
) -> Result<Option<Order>, StoreError> {
    let row: Option<KeyRow> = sqlx::query_as(
        "SELECT order_id, request_hash FROM idempotency_keys WHERE idempotency_key = $1",
    )
    .bind(key.as_str())
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    if row.request_hash != fingerprint {
        return Err(ApiError::IdempotencyKeyReused.into());
    }
    let order = orders::get_order(db, &row.order_id)
        .await?
        .ok_or_else(|| StoreError::not_found("order", row.order_id.as_str()))?;
    // In api mode the first request answers only once the inventory has;
    // until then there is no "first answer" to repeat.
    if order.mode == IntegrationMode::Api && order.status == OrderStatus::Pending {
        return Err(StoreError::IdempotencyKeyInFlight);
    }
    Ok(Some(order))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn order(quantity: i64) -> NewOrder {
        contract::validation::new_order_json(&json!({
            "customer": {"name": "A", "email": "a@b.co"},
            "items": [{"sku": "TEA-SENCHA", "quantity": quantity}]
        }))
        .unwrap()
    }

    #[test]
    fn fingerprints_differ_when_the_order_differs() {
        let (a, b) = (order(1), order(2));
        assert_eq!(fingerprint(&a), fingerprint(&a.clone()));
        assert_ne!(fingerprint(&a), fingerprint(&b));
        let hex = fingerprint(&a);
        assert_eq!(hex.len(), 64);
        assert!(
            hex.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
    }

    proptest::proptest! {
        /// Any header value: a key of 1 to 255 visible ASCII characters,
        /// or a `400` saying so — never a panic, never a longer key.
        #[test]
        fn any_text_is_a_key_or_a_clear_400(raw in proptest::prelude::any::<String>()) {
            match IdempotencyKey::parse(&raw) {
                Ok(key) => {
                    proptest::prop_assert!(key.as_str().len() <= MAX_KEY_LEN);
                    proptest::prop_assert!(key.as_str().bytes().all(|b| b.is_ascii_graphic()));
                }
                Err(e) => proptest::prop_assert_eq!(e.problem().status, 400),
            }
        }
    }

    #[test]
    fn keys_are_visible_ascii_of_bounded_length() {
        assert!(IdempotencyKey::parse("0193-abc_DEF").is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(MAX_KEY_LEN)).is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(MAX_KEY_LEN + 1)).is_err());
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse("has space").is_err());
        assert!(IdempotencyKey::parse("naïve").is_err());
    }
}
