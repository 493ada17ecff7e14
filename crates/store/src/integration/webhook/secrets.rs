//! An endpoint's signing secrets: issued on registration and shown once,
//! rotated with a grace period (both sign meanwhile, as Standard Webhooks
//! allows several signatures), and named by **fingerprints** — a short
//! hash that tells a receiver whether the secret it holds is still current
//! (after someone rotated it here, say) without showing the secret to
//! anyone (`contract::signing::WebhookSecret::fingerprint`).

use sqlx::AnyConnection;

use contract::signing::WebhookSecret;
use contract::{EndpointId, SecretId, Timestamp};

/// Stores a new signing secret for an endpoint.
pub(super) async fn insert_secret(
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

/// Ends the validity of an endpoint's current secrets at `at` (a
/// rotation's grace period: until then they sign beside the new one).
pub(super) async fn expire_current(
    conn: &mut AnyConnection,
    endpoint_id: &EndpointId,
    at: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE webhook_secrets SET expires_at = $1 \
         WHERE endpoint_id = $2 AND (expires_at IS NULL OR expires_at > $1)",
    )
    .bind(at.millis())
    .bind(endpoint_id.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}
