//! **At most once.** Everything that makes the inventory apply an order
//! once, however many times and through however many channels it arrives.
//!
//! The store retries api calls it got no answer to, redelivers webhooks
//! until it sees a 2xx, and serves the same feed page again after a crash;
//! a person can press "redeliver"; a mode switch can send one order down
//! two channels. Each of those is a *repeat*, and three guards turn every
//! repeat into "here is what happened the first time":
//!
//! 1. **The ledger of applied orders** (`applied_orders`), keyed by order
//!    id — the guard that matters. Each arrival is [looked up](first_arrivals)
//!    first; an order seen before gets the first [`StoredAnswer`] back. A
//!    new one is [written down](record_arrivals) — its [`FirstArrival`] —
//!    with what happened to it, in the
//!    same transaction as the stock it takes: there is no moment at which
//!    the row exists without the stock change, or the reverse. Its primary
//!    key is the last word: should a concurrent transaction (PostgreSQL)
//!    write the same order id first, the insert finds it, and the whole
//!    transaction is rolled back and tried again — when the lookup now
//!    finds the other's row. A withdrawn order leaves a
//!    [tombstone] so that a late copy is refused rather than
//!    applied.
//! 2. **The webhook inbox** (`webhook_inbox`), keyed by `webhook-id`
//!    ([`WebhookId`]): the same *message* twice (a retry of a delivery) is answered as a
//!    duplicate before anything is applied ([`messages_seen`]); a new one
//!    is [noted](note_messages) with the order it carried and what became
//!    of it, in the same transaction. It does not replace the ledger — two
//!    different messages can carry the same order.
//! 3. **The request hash**: what an order asks for, digested, stored with
//!    its claim. A repeat whose items differ is not a repeat but a client
//!    reusing an `Idempotency-Key` for something else, and is refused.
//!
//! The one function that uses all of this with the stock is the apply
//! module's `apply_orders_once`; the inbox is checked and written by the
//! intake, which hands it the orders.

use std::collections::HashMap;

use sha2::{Digest, Sha256};
use sqlx::AnyConnection;

use contract::{ApplyOutcome, IntegrationMode, OrderId, Timestamp};

use crate::stock::Quantities;

/// A digest of what an order asks for (hex SHA-256 of `SKU:qty;` per SKU,
/// in SKU order), to catch an id reused for different items.
pub fn request_hash(wanted: &Quantities) -> String {
    let mut h = Sha256::new();
    for (sku, q) in wanted.iter() {
        h.update(format!("{sku}:{q};").as_bytes());
    }
    hex::encode(h.finalize())
}

/// The answer `/update_inventory` gives for an order (status and body),
/// as the ledger stores it: the first time's, repeated as it was to every
/// later request for the same order — whichever channel the first arrival
/// came through — or, once the order is withdrawn, the void's.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredAnswer {
    #[sqlx(rename = "answer_status", try_from = "i64")]
    pub status: u16,
    #[sqlx(rename = "answer")]
    pub body: String,
}

/// An order's first arrival, as the ledger keeps it: written down when it
/// arrives ([`record_arrivals`]), and what every later arrival of the same
/// order finds ([`first_arrivals`]).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FirstArrival {
    #[sqlx(try_from = "String")]
    pub order_id: OrderId,
    /// The mode whose channel brought it first (`api` for a tombstone: a
    /// void is the api channel's compensation).
    #[sqlx(try_from = "String")]
    pub channel: IntegrationMode,
    #[sqlx(try_from = "String")]
    pub outcome: ApplyOutcome,
    /// Empty for a tombstone: there were no items to compare.
    pub request_hash: String,
    /// What it asked for — which is what it took, if its outcome is
    /// `applied` — as [`Quantities`] in JSON.
    items: String,
    #[sqlx(flatten)]
    pub answer: StoredAnswer,
    /// When the store created it, for the end-to-end latency charts
    /// (written, not read back).
    #[sqlx(skip)]
    order_created_at: Option<Timestamp>,
}

impl FirstArrival {
    /// An order arriving for the first time, with what became of it.
    pub fn new(
        order_id: OrderId,
        channel: IntegrationMode,
        wanted: &Quantities,
        outcome: ApplyOutcome,
        answer: StoredAnswer,
        order_created_at: Option<Timestamp>,
    ) -> Result<FirstArrival, serde_json::Error> {
        Ok(FirstArrival {
            order_id,
            channel,
            outcome,
            request_hash: request_hash(wanted),
            items: serde_json::to_string(wanted)?,
            answer,
            order_created_at,
        })
    }

    /// What the order took (nothing unless its outcome is `applied`).
    pub fn taken(&self) -> Result<Quantities, serde_json::Error> {
        serde_json::from_str(&self.items)
    }

    /// Whether `hash` asks for something else than the first arrival did.
    pub fn differs_from(&self, hash: &str) -> bool {
        // A tombstone has no items to compare: any request matches it.
        self.outcome != ApplyOutcome::Voided
            && !self.request_hash.is_empty()
            && self.request_hash != hash
    }
}

const ARRIVAL_COLUMNS: &str =
    "order_id, channel, outcome, request_hash, items, answer_status, answer";

/// The first arrivals of those of `order_ids` seen before.
pub async fn first_arrivals(
    tx: &mut AnyConnection,
    order_ids: &[&OrderId],
) -> Result<HashMap<OrderId, FirstArrival>, sqlx::Error> {
    let mut found = HashMap::new();
    for chunk in order_ids.chunks(platform::db::MAX_BINDS_PER_STATEMENT) {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {ARRIVAL_COLUMNS} FROM applied_orders WHERE order_id IN ({})",
            platform::db::placeholders(1, chunk.len())
        ));
        let mut query = sqlx::query_as::<_, FirstArrival>(sql);
        for id in chunk {
            query = query.bind(id.as_str());
        }
        for first in query.fetch_all(&mut *tx).await? {
            found.insert(first.order_id.clone(), first);
        }
    }
    Ok(found)
}

/// Writes down orders arriving for the first time, with what became of
/// them. Returns false — and the caller must roll back and try again —
/// when one of them had been written down meanwhile by a concurrent
/// transaction: the primary key is what makes "at most once" true.
pub async fn record_arrivals(
    tx: &mut AnyConnection,
    arrivals: &[FirstArrival],
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    for chunk in arrivals.chunks(platform::db::rows_per_statement(9)) {
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO applied_orders (order_id, channel, outcome, request_hash, items, \
             answer_status, answer, order_created_at, applied_at) VALUES {} \
             ON CONFLICT (order_id) DO NOTHING RETURNING order_id",
            platform::db::value_rows(9, chunk.len())
        ));
        let mut query = sqlx::query(sql);
        for a in chunk {
            query = query
                .bind(a.order_id.as_str())
                .bind(a.channel.as_str())
                .bind(a.outcome.as_str())
                .bind(&a.request_hash)
                .bind(&a.items)
                .bind(i64::from(a.answer.status))
                .bind(&a.answer.body)
                .bind(a.order_created_at.map(Timestamp::millis))
                .bind(now.millis());
        }
        if query.fetch_all(&mut *tx).await?.len() < chunk.len() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The first arrival of an order known to have arrived (or been
/// tombstoned).
pub async fn first_arrival(
    tx: &mut AnyConnection,
    order_id: &OrderId,
) -> Result<FirstArrival, sqlx::Error> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {ARRIVAL_COLUMNS} FROM applied_orders WHERE order_id = $1"
    ));
    sqlx::query_as(sql)
        .bind(order_id.as_str())
        .fetch_one(&mut *tx)
        .await
}

/// Withdraws an order that never arrived: its row says `voided` from the
/// start, so a late copy finds it and gets `answer`. False when the order
/// had arrived (the caller then [withdraws](withdraw) it).
pub async fn tombstone(
    tx: &mut AnyConnection,
    order_id: &OrderId,
    answer: &StoredAnswer,
    now: Timestamp,
) -> Result<bool, anyhow::Error> {
    let inserted = sqlx::query(
        "INSERT INTO applied_orders (order_id, channel, outcome, request_hash, items, answer_status, answer, \
         applied_at, voided_at) VALUES ($1, $2, $3, '', $4, $5, $6, $7, $7) \
         ON CONFLICT (order_id) DO NOTHING RETURNING order_id",
    )
    .bind(order_id.as_str())
    .bind(IntegrationMode::Api.as_str())
    .bind(ApplyOutcome::Voided.as_str())
    .bind(serde_json::to_string(&Quantities::default())?)
    .bind(i64::from(answer.status))
    .bind(&answer.body)
    .bind(now.millis())
    .fetch_optional(&mut *tx)
    .await?;
    Ok(inserted.is_some())
}

/// Marks an arrived order withdrawn: from now on it answers `answer`.
pub async fn withdraw(
    tx: &mut AnyConnection,
    order_id: &OrderId,
    answer: &StoredAnswer,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE applied_orders SET outcome = $1, answer_status = $2, answer = $3, voided_at = $4 \
         WHERE order_id = $5",
    )
    .bind(ApplyOutcome::Voided.as_str())
    .bind(i64::from(answer.status))
    .bind(&answer.body)
    .bind(now.millis())
    .bind(order_id.as_str())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// A webhook message's `webhook-id`: the sender's string — not one of our
/// typed ids — but stored for deduplication, so bounded like an
/// `Idempotency-Key` (1 to `contract::keys::MAX_KEY_CHARS` visible
/// ASCII characters).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WebhookId(String);

impl WebhookId {
    /// `None` for a string that is not a valid key.
    pub fn parse(raw: &str) -> Option<WebhookId> {
        contract::keys::is_key(raw.as_bytes()).then(|| WebhookId(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for WebhookId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the inbox remembers of a webhook message: the order it carried and
/// what became of it (none for a ping or an unknown event type).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Noted {
    pub order_id: Option<OrderId>,
    pub outcome: Option<ApplyOutcome>,
}

#[derive(sqlx::FromRow)]
struct InboxRow {
    webhook_id: String,
    order_id: Option<String>,
    outcome: Option<String>,
}

/// Those of `webhook_ids` received before.
pub async fn messages_seen(
    tx: &mut AnyConnection,
    webhook_ids: &[&WebhookId],
) -> Result<HashMap<WebhookId, Noted>, sqlx::Error> {
    let mut seen = HashMap::new();
    for chunk in webhook_ids.chunks(platform::db::MAX_BINDS_PER_STATEMENT) {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT webhook_id, order_id, outcome FROM webhook_inbox WHERE webhook_id IN ({})",
            platform::db::placeholders(1, chunk.len())
        ));
        let mut query = sqlx::query_as::<_, InboxRow>(sql);
        for id in chunk {
            query = query.bind(id.as_str());
        }
        for row in query.fetch_all(&mut *tx).await? {
            // Both were written by `note_messages` from typed values.
            let noted = Noted {
                order_id: row.order_id.and_then(|id| OrderId::try_from(id).ok()),
                outcome: row.outcome.and_then(|o| ApplyOutcome::try_from(o).ok()),
            };
            seen.insert(WebhookId(row.webhook_id), noted);
        }
    }
    Ok(seen)
}

/// A webhook message received for the first time, as the inbox notes it.
pub struct InboxEntry<'a> {
    pub webhook_id: &'a WebhookId,
    /// The sender's word, which may be a type we do not know.
    pub event_type: &'a str,
    pub noted: Noted,
}

/// Notes messages received for the first time. Returns false — roll back
/// and try again — when one of them was noted meanwhile by a concurrent
/// transaction.
pub async fn note_messages(
    tx: &mut AnyConnection,
    messages: &[InboxEntry<'_>],
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    for chunk in messages.chunks(platform::db::rows_per_statement(5)) {
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO webhook_inbox (webhook_id, event_type, order_id, outcome, received_at) \
             VALUES {} ON CONFLICT (webhook_id) DO NOTHING RETURNING webhook_id",
            platform::db::value_rows(5, chunk.len())
        ));
        let mut query = sqlx::query(sql);
        for m in chunk {
            query = query
                .bind(m.webhook_id.as_str())
                .bind(m.event_type)
                .bind(m.noted.order_id.as_ref().map(OrderId::as_str))
                .bind(m.noted.outcome.map(ApplyOutcome::as_str))
                .bind(now.millis());
        }
        if query.fetch_all(&mut *tx).await?.len() < chunk.len() {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use contract::order::LineItem;
    use contract::{Quantity, Sku};

    fn wanted(lines: &[(&str, i64)]) -> Quantities {
        let items: Vec<LineItem> = lines
            .iter()
            .map(|(sku, q)| LineItem {
                sku: Sku::parse(sku).unwrap(),
                quantity: Quantity::parse(*q).unwrap(),
            })
            .collect();
        Quantities::of(&items)
    }

    #[test]
    fn the_request_hash_is_about_what_is_asked_not_how() {
        let a = request_hash(&wanted(&[("MUG-BLUE", 2), ("KETTLE", 1)]));
        // Same units, other line order and split: same request.
        let b = request_hash(&wanted(&[("KETTLE", 1), ("MUG-BLUE", 1), ("MUG-BLUE", 1)]));
        assert_eq!(a, b);
        assert_eq!(a.len(), 64);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(a, request_hash(&wanted(&[("MUG-BLUE", 3), ("KETTLE", 1)])));
    }

    #[test]
    fn a_repeat_with_other_items_is_told_apart() {
        let first = |outcome, hash: &str| FirstArrival {
            order_id: OrderId::parse("ord_1").unwrap(),
            channel: IntegrationMode::Api,
            outcome,
            request_hash: hash.into(),
            items: "{}".into(),
            answer: StoredAnswer {
                status: 200,
                body: String::new(),
            },
            order_created_at: None,
        };
        assert!(!first(ApplyOutcome::Applied, "abc").differs_from("abc"));
        assert!(first(ApplyOutcome::Applied, "abc").differs_from("abd"));
        // A tombstone matches anything: the late copy is refused as voided.
        assert!(!first(ApplyOutcome::Voided, "").differs_from("abd"));
        assert!(!first(ApplyOutcome::Voided, "abc").differs_from("abd"));
    }
}
