//! **The secrets webhooks are signed with, as this inventory holds them.**
//!
//! The subscription adds them (the store's answer to a registration, or to
//! a rotation) and never removes one: a secret the store still signs with
//! during a grace period must keep verifying. The receiver verifies every
//! webhook with them — from a copy kept in memory, so that verifying does
//! not read the database ([`Secrets::verify`]). The copy can only be
//! missing a secret added since it was read, so a signature that none of
//! the kept secrets verifies is tried again against the stored ones before
//! it is refused.
//!
//! A signature that matches none of those either may be a forgery — or
//! signed with a secret that was rotated at the store without us. So it
//! [asks for a check](Secrets::ask_for_check) of ours against the store's
//! fingerprints, which the subscription makes; at most once per
//! [`CHECK_INTERVAL`], so a flood of forged webhooks costs the store one
//! request per interval ([`SecretCheck`]).

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::sync::Notify;

use contract::signing::{VerifyError, WebhookSecret};
use contract::{EndpointId, Timestamp};
use platform::Db;

/// Every secret stored, newest first.
pub async fn stored(db: &Db) -> Result<Vec<WebhookSecret>, sqlx::Error> {
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT secret FROM webhook_secrets ORDER BY added_at DESC")
            .fetch_all(db.pool())
            .await?;
    Ok(stored
        .iter()
        .filter_map(|s| WebhookSecret::parse(s).ok())
        .collect())
}

/// Whether any secret is stored for `endpoint`.
pub async fn any_for(db: &Db, endpoint: &EndpointId) -> Result<bool, sqlx::Error> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 AS ok FROM webhook_secrets WHERE endpoint_id = $1")
            .bind(endpoint.as_str())
            .fetch_optional(db.pool())
            .await?;
    Ok(found.is_some())
}

/// Stores a secret the store gave us for `endpoint` at `store_url` (once).
pub async fn add(
    db: &Db,
    secret: &str,
    endpoint: &EndpointId,
    store_url: &str,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO webhook_secrets (secret, endpoint_id, store_url, added_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (secret) DO NOTHING",
    )
    .bind(secret)
    .bind(endpoint.as_str())
    .bind(store_url)
    .bind(now.millis())
    .execute(db.writer())
    .await?;
    Ok(())
}

/// The secrets, kept in memory for the receiver, and the check of them
/// that bad signatures ask for. One per service, shared by the receiver
/// and the subscription.
pub struct Secrets {
    kept: RwLock<Option<Arc<Vec<WebhookSecret>>>>,
    check: SecretCheck,
}

impl Secrets {
    /// `subscribed`: whether there is a subscription to check against
    /// (`WEBHOOK_SUBSCRIBE`).
    pub fn new(subscribed: bool) -> Secrets {
        Secrets {
            kept: RwLock::new(None),
            check: SecretCheck::new(subscribed),
        }
    }

    /// `check`ed with the kept secrets — and, if it finds no matching
    /// signature, with the stored ones (one may have been added since).
    pub async fn verify<T: PartialEq>(
        &self,
        db: &Db,
        check: impl Fn(&[WebhookSecret]) -> Result<T, VerifyError>,
    ) -> Result<Result<T, VerifyError>, sqlx::Error> {
        let verified = check(&self.current(db).await?);
        if verified != Err(VerifyError::NoMatchingSignature) {
            return Ok(verified);
        }
        Ok(check(&self.reload(db).await?))
    }

    /// The secrets as last read (read now if never).
    async fn current(&self, db: &Db) -> Result<Arc<Vec<WebhookSecret>>, sqlx::Error> {
        if let Some(kept) = self.kept.read().expect("secrets lock").clone() {
            return Ok(kept);
        }
        self.reload(db).await
    }

    /// Reads the secrets again: after one was added, the receiver verifies
    /// with it at once.
    pub async fn reload(&self, db: &Db) -> Result<Arc<Vec<WebhookSecret>>, sqlx::Error> {
        let fresh = Arc::new(stored(db).await?);
        *self.kept.write().expect("secrets lock") = Some(fresh.clone());
        Ok(fresh)
    }

    /// Asks for our secrets to be checked against the store's; whether a
    /// check was asked for ([`SecretCheck::ask`]).
    pub fn ask_for_check(&self, now: Timestamp) -> bool {
        self.check.ask(now)
    }

    /// Woken when a check is asked for.
    pub fn check_wake(&self) -> Arc<Notify> {
        self.check.wake.clone()
    }
}

/// The shortest time between two checks of our secret that bad signatures
/// ask for ([`SecretCheck`]).
pub const CHECK_INTERVAL: Duration = Duration::from_secs(15);

/// Asks the subscription to check our secret against the store's when a
/// webhook's signature matched none of ours — at most once per
/// [`CHECK_INTERVAL`] on the service's clock, however many arrive. The
/// store's retries reach us within seconds; the interval keeps a flood of
/// forged signatures down to one request to the store per interval.
pub struct SecretCheck {
    /// Whether there is a subscription to check (`WEBHOOK_SUBSCRIBE`).
    enabled: bool,
    last: Mutex<Option<Timestamp>>,
    /// Wakes the subscription.
    wake: Arc<Notify>,
}

impl SecretCheck {
    pub fn new(enabled: bool) -> SecretCheck {
        SecretCheck {
            enabled,
            last: Mutex::new(None),
            wake: Arc::new(Notify::new()),
        }
    }

    /// Asks for a check at `now`; whether one was asked for (none if the
    /// last was less than [`CHECK_INTERVAL`] ago).
    pub fn ask(&self, now: Timestamp) -> bool {
        if !self.enabled {
            return false;
        }
        let mut last = self.last.lock().expect("secret check lock");
        if last.is_some_and(|at| now < at + CHECK_INTERVAL) {
            return false;
        }
        *last = Some(now);
        self.wake.notify_one();
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_signatures_ask_for_one_check_per_interval() {
        let check = SecretCheck::new(true);
        let t0 = Timestamp::from_millis(1_000_000);
        assert!(check.ask(t0), "the first bad signature asks");
        for ms in [0, 1, 5_000, 14_999] {
            let at = t0 + Duration::from_millis(ms);
            assert!(!check.ask(at), "{ms} ms later: within the interval");
        }
        let next = t0 + CHECK_INTERVAL;
        assert!(check.ask(next), "once the interval has passed");
        assert!(!check.ask(next + Duration::from_secs(1)));
    }

    #[test]
    fn without_a_subscription_there_is_nothing_to_check() {
        let check = SecretCheck::new(false);
        assert!(!check.ask(Timestamp::from_millis(0)));
    }
}
