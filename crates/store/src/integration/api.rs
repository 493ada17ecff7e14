//! **api mode — request/response, initiated by the store.**
//!
//! The store calls the inventory's `POST /update_inventory` while the
//! customer waits, and answers the customer with the result: `confirmed`
//! (the stock is reserved) or `rejected` (with a reason they can read).
//! Because the inventory checks and reserves stock atomically before the
//! store says yes, this mode **cannot oversell** — the property push and
//! pull give up. What it costs: the checkout is only as available and as
//! fast as the inventory. Turn on "down" or "slow" in the inventory's chaos
//! controls and the store's order form shows it at once.
//!
//! Three rules make the synchronous call safe:
//!
//! 1. **Idempotency-Key = order id.** A timeout does not mean the inventory
//!    did nothing — it may have reserved the stock and lost the answer. So a
//!    retry sends the *same* key, and the inventory answers a repeat with
//!    its first answer instead of reserving twice.
//! 2. **Bounded retries, then a decision.** The customer cannot wait
//!    forever: after the timeout and a couple of quick retries the store
//!    rejects the order.
//! 3. **A rejected order never keeps stock.** When the store gives up
//!    without a clear answer, it does not know whether stock was taken. It
//!    therefore records, in the same transaction that rejects the order, a
//!    *void* it owes the inventory (`pending_voids`), and the
//!    [`CompensationWorker`] delivers it — `POST /update_inventory/{id}/void`
//!    — until the inventory confirms. The inventory puts back anything the
//!    order took and remembers the void, so a copy of the original request
//!    arriving even later is refused rather than applied. This is a
//!    compensating action (the saga pattern) rather than a distributed
//!    transaction: two-phase commit across two services' databases would
//!    need both to hold locks while waiting for each other.
//!
//! The same worker also covers a crash of the store itself mid-call: an api
//! order still `pending` long after any call could have finished is rejected
//! and voided on the next pass.
//!
//! Seen in the UI: the order page's timeline shows each call (and retry)
//! with its `Idempotency-Key`, the inventory's answer and the latency; a
//! void appears there too when one was needed.

use std::sync::Arc;
use std::time::Duration;

use sqlx::Row;

use contract::inventory::{UpdateInventoryRequest, UpdateInventoryResponse};
use contract::order::{LineItem, Order};
use contract::{OrderStatus, Problem};
use platform::outbound::send_recorded;
use platform::worker::{Next, Pacing, Worker};

use crate::error::StoreError;
use crate::orders;
use crate::state::{AppState, OutcomeLabels};
use crate::timeline::{self, Channel, NewExchange};

/// What one call to `/update_inventory` told the store.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    /// 2xx: the stock is reserved.
    Reserved,
    /// A definite no (409 shortage, or a 4xx refusal): nothing was taken.
    Refused(String),
    /// No usable answer (timeout, connection error, 5xx, 429): maybe worth
    /// retrying; if it persists, nobody knows what happened.
    Unclear(String),
}

fn classify(rec: &platform::outbound::Recorded) -> Verdict {
    let Some(status) = rec.status() else {
        return Verdict::Unclear(rec.error().unwrap_or("no answer").to_owned());
    };
    let body = rec.body().map(|b| b.as_ref()).unwrap_or_default();
    match status {
        200..=299 => match serde_json::from_slice::<UpdateInventoryResponse>(body) {
            Ok(r) if r.applied => Verdict::Reserved,
            Ok(_) => Verdict::Refused("the inventory did not apply the order".into()),
            // A 2xx we cannot read might have reserved stock: unclear.
            Err(e) => Verdict::Unclear(format!("unreadable answer ({e})")),
        },
        409 => Verdict::Refused(shortage_reason(body)),
        408 | 425 | 429 | 500..=599 => Verdict::Unclear(format!("the inventory answered {status}")),
        _ => {
            let detail = serde_json::from_slice::<Problem>(body)
                .ok()
                .and_then(|p| p.detail.or(Some(p.title)))
                .unwrap_or_default();
            Verdict::Refused(format!(
                "the inventory refused the request ({status}): {detail}"
            ))
        }
    }
}

/// "Not enough stock: Ceremonial matcha (asked 3, 1 left)" from a 409.
fn shortage_reason(body: &[u8]) -> String {
    match serde_json::from_slice::<Problem>(body) {
        Ok(p) if !p.shortages.is_empty() => {
            let parts: Vec<String> = p
                .shortages
                .iter()
                .map(|s| format!("{} (asked {}, {} left)", s.sku, s.requested, s.available))
                .collect();
            format!("Not enough stock: {}", parts.join(", "))
        }
        Ok(p) => p.detail.unwrap_or(p.title),
        Err(_) => "Not enough stock".into(),
    }
}

fn request_for(order: &Order) -> UpdateInventoryRequest {
    UpdateInventoryRequest {
        order_id: order.id.clone(),
        items: order
            .items
            .iter()
            .map(|l| LineItem {
                sku: l.sku.clone(),
                quantity: l.quantity,
            })
            .collect(),
    }
}

/// Calls the inventory for a just-placed api-mode order and resolves it.
/// Returns the order as it now stands.
#[tracing::instrument(name = "update_inventory", skip_all, fields(order_id = %order.id))]
pub async fn confirm_with_inventory(app: &AppState, order: Order) -> Result<Order, StoreError> {
    let settings = &app.config.api;
    let url = format!(
        "{}/update_inventory",
        app.config.inventory_url.trim_end_matches('/')
    );
    let body = serde_json::to_vec(&request_for(&order)).map_err(anyhow::Error::from)?;

    let mut attempt: u32 = 0;
    let (verdict, last) = loop {
        attempt += 1;
        let request = app
            .api_client
            .post(&url)
            .bearer_auth(&app.config.inventory_api_key)
            .header("Idempotency-Key", order.id.as_str())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::ACCEPT, "application/json")
            .body(body.clone())
            .build()
            .map_err(anyhow::Error::from)?;
        let rec = send_recorded(&app.api_client, request, app.clock.now_ms()).await;
        let verdict = classify(&rec);
        tracing::info!(
            attempt,
            status = rec.status(),
            latency_ms = rec.latency_ms(),
            ?verdict,
            "called /update_inventory"
        );
        let label = match &verdict {
            Verdict::Reserved => "reserved",
            Verdict::Refused(_) => "refused",
            Verdict::Unclear(_) => "unclear",
        };
        app.metrics
            .api_calls
            .get_or_create(&OutcomeLabels {
                outcome: label.into(),
            })
            .inc();
        match verdict {
            Verdict::Unclear(_) if attempt <= settings.retries => {
                let exchange = NewExchange::sent(Channel::Api, &rec);
                timeline::record_and_publish(&app.db, &app.live, &exchange, &[order.id.as_str()])
                    .await?;
                // A short, growing pause: the customer is waiting.
                let pause = settings.retry_backoff * 2u32.saturating_pow(attempt - 1);
                tokio::time::sleep(pause).await;
            }
            v => break (v, rec),
        }
    };

    // The last call, the order's fate and (if the outcome is unclear) the
    // void the store now owes: one transaction, so none exists without the
    // others.
    let (status, reason, unclear) = match &verdict {
        Verdict::Reserved => (OrderStatus::Confirmed, None, false),
        Verdict::Refused(reason) => (OrderStatus::Rejected, Some(reason.clone()), false),
        Verdict::Unclear(why) => (
            OrderStatus::Rejected,
            Some(format!(
                "The inventory did not answer in time ({why}), so the order was not placed. \
                 Nothing was reserved; please try again."
            )),
            true,
        ),
    };
    let exchange = NewExchange::sent(Channel::Api, &last);
    let now = app.clock.now_ms();
    let mut tx = app.db.begin_write().await?;
    let exchange_id = timeline::record(&mut tx, &exchange, &[order.id.as_str()]).await?;
    let resolved =
        orders::resolve(&mut tx, order.id.as_str(), status, reason.as_deref(), now).await?;
    // Reserved, but no longer pending — the stale-order sweep rejected it
    // while we waited — so the reservation must be given back too.
    let owes_void = unclear || (verdict == Verdict::Reserved && !resolved);
    if owes_void {
        insert_pending_void(&mut tx, order.id.as_str(), now).await?;
    }
    tx.commit().await?;

    timeline::publish(&app.live, &exchange_id, &exchange, &[order.id.as_str()]);
    if resolved {
        orders::announce_resolution(
            app,
            order.id.as_str(),
            order.mode,
            status,
            reason.as_deref(),
        );
    }
    if owes_void {
        app.compensation_wake.notify_one();
    }
    if resolved {
        // The order as now stored, without reading it back.
        return Ok(Order {
            status,
            status_reason: reason,
            ..order
        });
    }
    orders::get_order(&app.db, order.id.as_str())
        .await?
        .ok_or_else(|| StoreError::not_found("order", order.id.as_str()))
}

async fn insert_pending_void(
    conn: &mut sqlx::AnyConnection,
    order_id: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO pending_voids (order_id, state, attempts, next_attempt_at, created_at) \
         VALUES ($1, 'pending', 0, $2, $2) ON CONFLICT (order_id) DO NOTHING",
    )
    .bind(order_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Rejects the order (if it is still pending) and records the void the
/// store now owes the inventory — in one transaction, so there is never a
/// rejected order whose stock nobody will give back.
async fn reject_and_void(app: &AppState, order_id: &str, reason: &str) -> Result<(), StoreError> {
    let now = app.clock.now_ms();
    let mut tx = app.db.begin_write().await?;
    let rejected =
        orders::resolve(&mut tx, order_id, OrderStatus::Rejected, Some(reason), now).await?;
    insert_pending_void(&mut tx, order_id, now).await?;
    tx.commit().await?;
    if rejected {
        orders::announce_resolution(
            app,
            order_id,
            contract::IntegrationMode::Api,
            OrderStatus::Rejected,
            Some(reason),
        );
    }
    app.compensation_wake.notify_one();
    Ok(())
}

/// Delivers owed voids, and rejects api orders abandoned by a crash.
///
/// Runs as a background task for the life of the store. Like the webhook
/// dispatcher it keeps its work in the database, so a restart resumes it.
/// Voids are idempotent on the inventory's side, so two store processes
/// sending the same one is harmless.
pub struct CompensationWorker {
    app: Arc<AppState>,
}

/// Longest pause between two attempts at the same void.
const MAX_VOID_BACKOFF: Duration = Duration::from_secs(60);

impl Worker for CompensationWorker {
    const NAME: &'static str = "compensation";

    async fn pass(&mut self) -> anyhow::Result<Next> {
        Ok(match CompensationWorker::pass(self).await? {
            Some(due) => Next::At(contract::Timestamp(due)),
            None => Next::Idle,
        })
    }
}

impl CompensationWorker {
    pub fn new(app: Arc<AppState>) -> CompensationWorker {
        CompensationWorker { app }
    }

    /// Woken when a void is owed; the sweep also finds abandoned orders.
    pub fn pacing(app: &AppState) -> Pacing {
        Pacing {
            clock: app.clock.clone(),
            wake: app.compensation_wake.clone(),
            sweep: Some(app.config.webhook.sweep_interval),
        }
    }

    /// How long after placement an api order still `pending` must have been
    /// abandoned: longer than every attempt and pause could take.
    fn stale_after(&self) -> Duration {
        let s = &self.app.config.api;
        let attempts = s.retries + 1;
        let pauses: Duration = (0..s.retries).map(|i| s.retry_backoff * 2u32.pow(i)).sum();
        s.timeout * attempts + pauses + Duration::from_secs(10)
    }

    /// One pass; returns when the next void is due, if any is waiting.
    pub async fn pass(&self) -> Result<Option<i64>, StoreError> {
        self.reject_abandoned().await?;
        let now = self.app.clock.now_ms();
        let due = sqlx::query(
            "SELECT order_id, attempts FROM pending_voids \
             WHERE state = 'pending' AND next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT 20",
        )
        .bind(now)
        .fetch_all(self.app.db.pool())
        .await?;
        for row in due {
            let order_id: String = row.try_get("order_id")?;
            let attempts: i64 = row.try_get("attempts")?;
            self.send_void(&order_id, attempts).await?;
        }
        let next = sqlx::query(
            "SELECT MIN(next_attempt_at) AS next FROM pending_voids WHERE state = 'pending'",
        )
        .fetch_one(self.app.db.pool())
        .await?
        .try_get::<Option<i64>, _>("next")?;
        Ok(next)
    }

    async fn reject_abandoned(&self) -> Result<(), StoreError> {
        let cutoff = self.app.clock.now_ms() - self.stale_after().as_millis() as i64;
        let rows = sqlx::query(
            "SELECT id FROM orders WHERE mode = 'api' AND status = 'pending' AND created_at < $1",
        )
        .bind(cutoff)
        .fetch_all(self.app.db.pool())
        .await?;
        for row in rows {
            let id: String = row.try_get("id")?;
            tracing::warn!(order_id = %id, "api order abandoned mid-call (store restarted?); rejecting and voiding");
            reject_and_void(
                &self.app,
                &id,
                "The store stopped before the inventory answered, so the order was not placed. Nothing was reserved.",
            )
            .await?;
        }
        Ok(())
    }

    async fn send_void(&self, order_id: &str, attempts: i64) -> Result<(), StoreError> {
        let app = &self.app;
        let url = format!(
            "{}/update_inventory/{order_id}/void",
            app.config.inventory_url.trim_end_matches('/')
        );
        let request = app
            .api_client
            .post(&url)
            .bearer_auth(&app.config.inventory_api_key)
            .header("Idempotency-Key", format!("void-{order_id}"))
            .header(reqwest::header::ACCEPT, "application/json")
            .build()
            .map_err(anyhow::Error::from)?;
        let rec = send_recorded(&app.api_client, request, app.clock.now_ms()).await;
        timeline::record_and_publish(
            &app.db,
            &app.live,
            &NewExchange::sent(Channel::Void, &rec),
            &[order_id],
        )
        .await?;
        let now = app.clock.now_ms();
        if rec.is_success() {
            tracing::info!(order_id, "void delivered");
            sqlx::query("UPDATE pending_voids SET state = 'done', attempts = attempts + 1, completed_at = $1 WHERE order_id = $2")
                .bind(now)
                .bind(order_id)
                .execute(app.db.writer())
                .await?;
        } else {
            let error = rec
                .error()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("answered {}", rec.status().unwrap_or(0)));
            let backoff = (Duration::from_secs(1)
                * 2u32.saturating_pow(attempts.clamp(0, 16) as u32))
            .min(MAX_VOID_BACKOFF);
            tracing::warn!(order_id, %error, retry_in_ms = backoff.as_millis() as u64, "void not delivered yet");
            sqlx::query(
                "UPDATE pending_voids SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2 \
                 WHERE order_id = $3",
            )
            .bind(now + backoff.as_millis() as i64)
            .bind(&error)
            .bind(order_id)
            .execute(app.db.writer())
            .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use platform::outbound::{Outcome, Recorded};

    fn rec(outcome: Outcome) -> Recorded {
        Recorded {
            method: "POST".into(),
            url: "http://x/update_inventory".into(),
            request_headers: vec![],
            request_body: String::new(),
            started_at_ms: 0,
            latency: Duration::ZERO,
            outcome,
        }
    }

    fn answered(status: u16, body: &str) -> Recorded {
        rec(Outcome::Response {
            status,
            headers: vec![],
            body: Bytes::from(body.to_owned()),
        })
    }

    #[test]
    fn answers_are_classified() {
        assert_eq!(
            classify(&answered(
                200,
                r#"{"order_id":"ord_1","applied":true,"stock":[]}"#
            )),
            Verdict::Reserved
        );
        assert!(matches!(
            classify(&answered(200, "garbage")),
            Verdict::Unclear(_)
        ));
        assert!(matches!(classify(&answered(503, "")), Verdict::Unclear(_)));
        assert!(matches!(classify(&answered(429, "")), Verdict::Unclear(_)));
        assert!(matches!(
            classify(&answered(401, r#"{"title":"Unauthorized","status":401}"#)),
            Verdict::Refused(_)
        ));
        assert!(matches!(
            classify(&rec(Outcome::Failed {
                error: "timed out".into(),
                timed_out: true
            })),
            Verdict::Unclear(_)
        ));
    }

    #[test]
    fn a_shortage_is_explained_line_by_line() {
        let body = r#"{"type":"/problems/out-of-stock","title":"Not enough stock","status":409,
            "shortages":[{"sku":"TEA-MATCHA","requested":3,"available":1}]}"#;
        assert_eq!(
            classify(&answered(409, body)),
            Verdict::Refused("Not enough stock: TEA-MATCHA (asked 3, 1 left)".into())
        );
    }
}
