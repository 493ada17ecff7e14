//! **The capture inbox: somewhere of your own to point a webhook at.**
//! `POST`, `PUT` or `PATCH` anything to `/inbox/{name}` (any name) and it
//! is kept as it arrived — method, URL, headers, the raw body bytes — and
//! answered `200`; `GET /inbox/{name}` shows what arrived
//! (`crate::ui::inbox`). It is what webhook.site or RequestBin give a
//! learner: a receiver that accepts everything, so the sender's side can
//! be watched without writing a receiver first — add an endpoint in the
//! store's settings with its URL (in XML, say), place an order, and read
//! the delivery here, its signature checked against the secret the store
//! showed once.
//!
//! It is deliberately *not* the inventory's webhook receiver: it verifies
//! nothing, applies nothing and never refuses. That is the trade-off of a
//! capture tool — anyone who can reach the inventory can write to it and
//! read it — so it keeps little: bodies up to the service's request limit
//! (`platform::http::MAX_BODY_BYTES`), the newest [`KEEP_PER_INBOX`]
//! captures of an inbox and [`KEEP_IN_ALL`] across all of them, the
//! oldest going first in the transaction that adds a new one. Secret
//! headers are kept hinted, as in the message log (`platform::redact`);
//! the `webhook-*` headers are not secrets and are kept whole.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Serialize;

use contract::{CaptureId, ParseError, Timestamp};
use platform::Db;

/// How many captures an inbox keeps (the newest).
pub const KEEP_PER_INBOX: i64 = 50;
/// How many captures all inboxes keep together (the newest).
pub const KEEP_IN_ALL: i64 = 1_000;
/// The longest inbox name.
pub const MAX_NAME_LEN: usize = 64;

/// An inbox's name: 1 to [`MAX_NAME_LEN`] letters, digits, `-` or `_`, so
/// that it reads the same in a URL, a page and a log line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct InboxName(String);

impl InboxName {
    pub fn parse(raw: &str) -> Result<InboxName, ParseError> {
        let ok = !raw.is_empty()
            && raw.len() <= MAX_NAME_LEN
            && raw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if ok {
            Ok(InboxName(raw.to_owned()))
        } else {
            Err(ParseError(format!(
                "an inbox name is 1 to {MAX_NAME_LEN} letters, digits, '-' or '_'"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for InboxName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A request as it arrived at an inbox, before it is kept.
#[derive(Debug, Clone)]
pub struct Arrival<'a> {
    pub method: &'a str,
    pub url: &'a str,
    /// As the logs keep them: secret ones hinted.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
    pub at: Timestamp,
}

/// Keeps a capture, and forgets the oldest beyond the bounds — one
/// transaction, so the bounds hold whatever arrives at once.
#[tracing::instrument(skip_all, fields(inbox = %inbox))]
pub async fn record(
    db: &Db,
    inbox: &InboxName,
    arrival: Arrival<'_>,
) -> Result<CaptureId, sqlx::Error> {
    let id = CaptureId::new();
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO inbox_captures (id, inbox, method, url, headers, body_base64, body_bytes, received_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id.as_str())
    .bind(inbox.as_str())
    .bind(arrival.method)
    .bind(arrival.url)
    .bind(platform::outbound::headers_json(arrival.headers))
    .bind(B64.encode(arrival.body))
    .bind(arrival.body.len() as i64)
    .bind(arrival.at.millis())
    .execute(&mut *tx)
    .await?;
    // The newest N stay: everything older than the N-th newest goes. Ids
    // are UUIDv7, so they break ties between captures of the same ms.
    sqlx::query(
        "DELETE FROM inbox_captures WHERE inbox = $1 AND id NOT IN \
         (SELECT id FROM inbox_captures WHERE inbox = $1 ORDER BY received_at DESC, id DESC LIMIT $2)",
    )
    .bind(inbox.as_str())
    .bind(KEEP_PER_INBOX)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "DELETE FROM inbox_captures WHERE id NOT IN \
         (SELECT id FROM inbox_captures ORDER BY received_at DESC, id DESC LIMIT $1)",
    )
    .bind(KEEP_IN_ALL)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// One kept capture.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Capture {
    #[sqlx(try_from = "String")]
    pub id: CaptureId,
    pub method: String,
    pub url: String,
    /// JSON text: `{"name": "value", …}`.
    pub headers: String,
    pub body_base64: String,
    #[sqlx(try_from = "i64")]
    pub received_at: Timestamp,
}

impl Capture {
    /// The body's bytes, as they arrived.
    pub fn body(&self) -> Vec<u8> {
        B64.decode(&self.body_base64).unwrap_or_default()
    }

    pub fn header_pairs(&self) -> Vec<(String, String)> {
        let value = serde_json::from_str(&self.headers).unwrap_or(serde_json::Value::Null);
        platform::ui::header_pairs(&value)
    }
}

/// An inbox's captures, newest first.
pub async fn list(db: &Db, inbox: &InboxName) -> Result<Vec<Capture>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, method, url, headers, body_base64, received_at FROM inbox_captures \
         WHERE inbox = $1 ORDER BY received_at DESC, id DESC LIMIT $2",
    )
    .bind(inbox.as_str())
    .bind(KEEP_PER_INBOX)
    .fetch_all(db.pool())
    .await
}

/// An inbox as the index lists it: its name, how many captures it keeps,
/// and when the newest arrived.
#[derive(Debug, sqlx::FromRow)]
pub struct InboxSummary {
    pub inbox: String,
    pub captures: i64,
    #[sqlx(try_from = "i64")]
    pub last_at: Timestamp,
}

/// The inboxes that hold anything, the most recently written first (at
/// most `limit`).
pub async fn inboxes(db: &Db, limit: i64) -> Result<Vec<InboxSummary>, sqlx::Error> {
    sqlx::query_as(
        "SELECT inbox, COUNT(*) AS captures, MAX(received_at) AS last_at FROM inbox_captures \
         GROUP BY inbox ORDER BY MAX(received_at) DESC, inbox LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db.pool())
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_reads_the_same_in_a_url_and_a_page() {
        for good in ["xml", "my-hooks_2", &"a".repeat(MAX_NAME_LEN)] {
            assert!(InboxName::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "a b",
            "<script>",
            "x/y",
            "é",
            &"a".repeat(MAX_NAME_LEN + 1),
        ] {
            assert!(InboxName::parse(bad).is_err(), "{bad}");
        }
    }
}
