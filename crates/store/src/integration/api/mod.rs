//! **api mode — push, request/response.** The store starts (it has the
//! order, and is the API's client) and waits for the answer.
//!
//! The store calls the inventory's `POST /update_inventory` while the
//! customer waits, and answers the customer with the result: `confirmed`
//! (the stock is reserved) or `rejected` (with a reason they can read).
//! Because the inventory checks and reserves stock atomically before the
//! store says yes, this mode **cannot oversell** — the property webhook and
//! poll mode give up, because nobody waits for the inventory's answer there. What it costs: the checkout is only as available and as
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
//!    forever: after the timeout and a couple of quick retries (a
//!    `platform::Backoff`, `API_RETRIES`) the store rejects the order.
//! 3. **A rejected order never keeps stock.** When the store gives up
//!    without a clear answer, it does not know whether stock was taken. It
//!    therefore records, in the same transaction that rejects the order, a
//!    *void* it owes the inventory — which [`compensation`] delivers
//!    until the inventory confirms it.
//! 4. **A call under way is leased.** The order's transaction also writes
//!    its call into `api_calls`, leased to this process
//!    (`platform::lease`), which renews it for as long as it waits. If the
//!    process dies mid-call, the lease runs out within seconds and
//!    [`compensation`]'s sweep rejects and voids the order; while
//!    the process lives, nobody else decides its order.
//!
//! Seen in the UI: the order page's timeline shows each call (and retry)
//! with its `Idempotency-Key`, the inventory's answer and the latency; a
//! void appears there too when one was needed.

use std::sync::Arc;

use secrecy::ExposeSecret;
use sqlx::AnyConnection;
use tokio::sync::Notify;

use contract::inventory::{UpdateInventoryRequest, UpdateInventoryResponse};
use contract::order::{LineItem, Order};
use contract::{Channel, OrderStatus, Problem, Timestamp};
use platform::db::value_rows;
use platform::group_commit::GroupCommit;
use platform::lease::{LeasedTable, Leases};
use platform::outbound::{self, Failure, send_recorded};

pub mod answers;
pub mod compensation;

pub use answers::{Answered, Answers};

use crate::context::{Context, OutcomeLabels};
use crate::error::StoreError;
use crate::orders;
use crate::timeline::{self, NewExchange};

/// The api-mode machinery of one store process: the HTTP client that
/// calls the inventory, the recorder of its answers, the leases on the
/// calls under way, and the wake-up of the worker that delivers voids —
/// with the context they run in.
pub struct ApiCalls {
    pub ctx: Context,
    pub client: reqwest::Client,
    pub answers: GroupCommit<Answers>,
    /// The calls this process is making, leased (and renewed) so that no
    /// other process settles their orders meanwhile.
    pub leases: Arc<Leases>,
    /// Wakes the compensation worker when a void is owed.
    pub compensation_wake: Arc<Notify>,
}

/// The `api_calls` rows' leases.
pub const CALL_LEASES: LeasedTable = LeasedTable {
    table: "api_calls",
    id_column: "order_id",
};

impl ApiCalls {
    /// The machinery for a process whose leases are in `owner`'s name.
    pub fn new(ctx: Context, owner: &str) -> anyhow::Result<ApiCalls> {
        let timeout = ctx.config.api.timeout;
        Ok(ApiCalls {
            client: reqwest::Client::builder()
                .timeout(timeout)
                .connect_timeout(timeout.min(std::time::Duration::from_secs(3)))
                // Never follow a redirect: an answer is the inventory's, or none.
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            answers: GroupCommit::new(Answers::new(ctx.db.clone(), ctx.clock.clone())),
            leases: Leases::new(CALL_LEASES, owner, ctx.config.lease_term),
            compensation_wake: Arc::new(Notify::new()),
            ctx,
        })
    }

    /// Inside the orders' transaction: the calls about to be made, leased
    /// to this process (rule 4).
    pub async fn lease_calls(
        &self,
        conn: &mut AnyConnection,
        orders: &[Order],
        now: Timestamp,
    ) -> Result<(), sqlx::Error> {
        for chunk in orders.chunks(platform::db::rows_per_statement(4)) {
            let sql = sqlx::AssertSqlSafe(format!(
                "INSERT INTO api_calls (order_id, lease_owner, lease_expires_at, started_at) VALUES {}",
                value_rows(4, chunk.len())
            ));
            let mut query = sqlx::query(sql);
            for order in chunk {
                query = query
                    .bind(order.id.as_str())
                    .bind(self.leases.owner())
                    .bind(self.leases.expiry_from(now).millis())
                    .bind(now.millis());
            }
            query.execute(&mut *conn).await?;
        }
        Ok(())
    }

    /// Once the order has committed: the call, while the customer waits.
    /// Its lease is held (renewed) until the answer is recorded — or until
    /// this future is dropped (the customer hung up): then the lease runs
    /// out and the sweep settles the order as abandoned.
    pub async fn call(&self, order: Order) -> Result<Order, StoreError> {
        let _call = self
            .leases
            .hold(order.id.as_str(), self.leases.expiry_from(order.created_at));
        confirm_with_inventory(self, order).await
    }
}

/// What one call to `/update_inventory` told the store.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Answer {
    /// 2xx: the stock is reserved.
    Reserved,
    /// A definite no (409 shortage, or a 4xx refusal): nothing was taken.
    Refused(String),
    /// No usable answer (timeout, connection error, 5xx, 429): maybe worth
    /// retrying; if it persists, nobody knows what happened. Says what did
    /// happen, after "the inventory": "answered 503 Service Unavailable",
    /// "did not answer: it could not be reached (…)".
    Unclear(String),
}

impl Answer {
    /// The word the `store_api_calls` metric counts it under.
    fn outcome(&self) -> &'static str {
        match self {
            Answer::Reserved => "reserved",
            Answer::Refused(_) => "refused",
            Answer::Unclear(_) => "unclear",
        }
    }
}

fn classify(rec: &outbound::Recorded) -> Answer {
    let Some(status) = rec.status() else {
        let error = rec.error().unwrap_or("no answer");
        return Answer::Unclear(match rec.failure() {
            Some(Failure::TimedOut) => format!(
                "did not answer within {:.1} s (timed out)",
                rec.latency.as_secs_f64()
            ),
            Some(Failure::Unreachable) => {
                format!("did not answer: it could not be reached ({error})")
            }
            _ => format!("did not answer ({error})"),
        });
    };
    let body = rec.body().map(|b| b.as_ref()).unwrap_or_default();
    let answered = format!(
        "answered {status} {}",
        reqwest::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("")
    )
    .trim_end()
    .to_owned();
    match status {
        200..=299 => match contract::json::from_slice::<UpdateInventoryResponse>(body) {
            Ok(r) if r.applied => Answer::Reserved,
            Ok(_) => Answer::Refused("the inventory did not apply the order".into()),
            // A 2xx we cannot read might have reserved stock: unclear.
            Err(e) => Answer::Unclear(format!("{answered}, but its answer was unreadable ({e})")),
        },
        409 => Answer::Refused(shortage_reason(body)),
        408 | 425 | 429 | 500..=599 => Answer::Unclear(answered),
        _ => {
            let detail = contract::json::from_slice::<Problem>(body)
                .ok()
                .and_then(|p| p.detail.or(Some(p.title)))
                .unwrap_or_default();
            Answer::Refused(format!(
                "the inventory refused the request ({status}): {detail}"
            ))
        }
    }
}

/// "Not enough stock: Ceremonial matcha (asked 3, 1 left)" from a 409.
fn shortage_reason(body: &[u8]) -> String {
    match contract::json::from_slice::<Problem>(body) {
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
pub async fn confirm_with_inventory(api: &ApiCalls, order: Order) -> Result<Order, StoreError> {
    let (answer, last, calls) = call_until_answered(api, &order).await?;

    // The last call, the order's fate and (if the outcome is unclear) the
    // void the store now owes: one transaction, so none exists without the
    // others (`answers`, shared with the answers that came back with it).
    let (status, reason, unclear) = match &answer {
        Answer::Reserved => (OrderStatus::Confirmed, None, false),
        Answer::Refused(reason) => (OrderStatus::Rejected, Some(reason.clone()), false),
        Answer::Unclear(what) => (
            OrderStatus::Rejected,
            Some(format!(
                "The inventory {what}{}, so the order was not placed. Nothing stays reserved \
                 for it; please try again.",
                if calls > 1 {
                    format!(" (the last of {calls} tries)")
                } else {
                    String::new()
                }
            )),
            true,
        ),
    };
    let answered = Answered {
        order_id: order.id.clone(),
        exchange: NewExchange::sent(Channel::Api, &last),
        status,
        reason: reason.clone(),
        reserved: answer == Answer::Reserved,
        unclear,
    };
    let written = api
        .answers
        .submit(answered)
        .await
        .map_err(|e| anyhow::anyhow!("recording the answer failed: {e}"))?;

    timeline::publish(
        &api.ctx.live,
        &written.exchange_id,
        &written.exchange,
        &[&order.id],
    );
    if written.owes_void {
        api.compensation_wake.notify_one();
    }
    if written.resolved {
        orders::announce_resolution(&api.ctx, &order.id, order.mode, status, reason.as_deref());
        // The order as now stored, without reading it back.
        return Ok(Order {
            status,
            status_reason: reason,
            ..order
        });
    }
    orders::get_order(&api.ctx.db, &order.id)
        .await?
        .ok_or_else(|| StoreError::not_found("order", order.id.as_str()))
}

/// Calls `/update_inventory` — again, under the same key, while the answer
/// is unclear and the back-off allows — and returns the answer with the
/// last call and how many calls were made (every earlier one is logged as
/// it happens).
async fn call_until_answered(
    api: &ApiCalls,
    order: &Order,
) -> Result<(Answer, outbound::Recorded, u32), StoreError> {
    let url = format!(
        "{}/update_inventory",
        api.ctx.config.inventory_url.trim_end_matches('/')
    );
    let body = serde_json::to_vec(&request_for(order)).map_err(anyhow::Error::from)?;
    let mut attempt: u32 = 0;
    loop {
        attempt += 1;
        let request = api
            .client
            .post(&url)
            .bearer_auth(api.ctx.config.inventory_api_key.expose_secret())
            .header("Idempotency-Key", order.id.as_str())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::ACCEPT, "application/json")
            .body(body.clone())
            .build()
            .map_err(anyhow::Error::from)?;
        let rec = send_recorded(&api.client, request, api.ctx.clock.now().millis()).await;
        let answer = classify(&rec);
        tracing::info!(
            attempt,
            status = rec.status(),
            latency_ms = rec.latency_ms(),
            ?answer,
            "called /update_inventory"
        );
        api.ctx
            .metrics
            .api_calls
            .get_or_create(&OutcomeLabels {
                outcome: answer.outcome().into(),
            })
            .inc();
        let pause = match answer {
            Answer::Unclear(_) => api.ctx.config.api.backoff.delay_after(attempt),
            _ => None,
        };
        let Some(pause) = pause else {
            return Ok((answer, rec, attempt));
        };
        let exchange = NewExchange::sent(Channel::Api, &rec);
        timeline::record_and_publish(&api.ctx.db, &api.ctx.live, &exchange, &[&order.id]).await?;
        // A short, growing pause: the customer is waiting.
        tokio::time::sleep(pause).await;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use bytes::Bytes;
    use platform::outbound::Outcome;

    fn rec(outcome: Outcome) -> outbound::Recorded {
        outbound::Recorded {
            method: "POST".into(),
            url: "http://x/update_inventory".into(),
            request_headers: vec![],
            request_body: String::new(),
            started_at_ms: 0,
            latency: Duration::ZERO,
            outcome,
        }
    }

    fn answered(status: u16, body: &str) -> outbound::Recorded {
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
            Answer::Reserved
        );
        assert!(matches!(
            classify(&answered(200, "garbage")),
            Answer::Unclear(_)
        ));
        assert!(matches!(classify(&answered(503, "")), Answer::Unclear(_)));
        assert!(matches!(classify(&answered(429, "")), Answer::Unclear(_)));
        assert!(matches!(
            classify(&answered(401, r#"{"title":"Unauthorized","status":401}"#)),
            Answer::Refused(_)
        ));
        assert!(matches!(
            classify(&rec(Outcome::Failed {
                kind: Failure::TimedOut,
                error: "timed out".into(),
            })),
            Answer::Unclear(_)
        ));
    }

    #[test]
    fn an_unclear_answer_says_what_happened() {
        assert_eq!(
            classify(&answered(503, "")),
            Answer::Unclear("answered 503 Service Unavailable".into())
        );
        let mut slow = rec(Outcome::Failed {
            kind: Failure::TimedOut,
            error: "timed out: operation timed out".into(),
        });
        slow.latency = Duration::from_millis(2_004);
        assert_eq!(
            classify(&slow),
            Answer::Unclear("did not answer within 2.0 s (timed out)".into())
        );
        assert_eq!(
            classify(&rec(Outcome::Failed {
                kind: Failure::Unreachable,
                error: "could not connect: Connection refused".into(),
            })),
            Answer::Unclear(
                "did not answer: it could not be reached (could not connect: Connection refused)"
                    .into()
            )
        );
        // An answer is never described as the lack of one.
        for status in [408, 429, 500, 502, 503] {
            let Answer::Unclear(what) = classify(&answered(status, "")) else {
                panic!("{status} is unclear");
            };
            assert!(what.starts_with(&format!("answered {status}")), "{what}");
            assert!(!what.contains("did not answer"), "{what}");
        }
    }

    #[test]
    fn a_shortage_is_explained_line_by_line() {
        let body = r#"{"type":"/problems/out-of-stock","title":"Not enough stock","status":409,
            "shortages":[{"sku":"TEA-MATCHA","requested":3,"available":1}]}"#;
        assert_eq!(
            classify(&answered(409, body)),
            Answer::Refused("Not enough stock: TEA-MATCHA (asked 3, 1 left)".into())
        );
    }
}
