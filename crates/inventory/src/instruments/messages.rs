//! The inventory's message log: every request it received from the store
//! (api calls, voids, webhooks — verified or refused, applied or duplicate)
//! and every request it made of the store (polls of the feed, empty or not,
//! and acknowledgements). The store keeps its own log of the same
//! exchanges; the flow page shows the two side by side.

use actix_web::HttpRequest;
use serde::Serialize;
use sqlx::Row;

use platform::outbound::{Outcome, Recorded, headers_json, truncate_for_log};
use platform::{Db, LiveHub, new_id};

pub const MAX_LOGGED_BODY: usize = 16 * 1024;

#[derive(Debug, Clone)]
pub struct NewMessage {
    /// `in` (the store called us) or `out` (we called the store).
    pub direction: &'static str,
    /// `api`, `void`, `webhook`, `feed`, `ack`, `subscribe`.
    pub channel: &'static str,
    pub method: String,
    pub url: String,
    pub request_headers: String,
    pub request_body: String,
    pub response_status: Option<i64>,
    pub response_body: Option<String>,
    pub error: Option<String>,
    /// What the inventory made of it, in a few words: `applied`,
    /// `duplicate`, `backordered`, `bad signature`, `empty`, ...
    pub verdict: String,
    pub order_id: Option<String>,
    pub latency_ms: i64,
    pub at: i64,
}

impl NewMessage {
    /// A request the store made of us, with our answer.
    #[allow(clippy::too_many_arguments)]
    pub fn received(
        req: &HttpRequest,
        channel: &'static str,
        body: &[u8],
        status: u16,
        response_body: &str,
        verdict: impl Into<String>,
        order_id: Option<String>,
        started: std::time::Instant,
        at: i64,
    ) -> NewMessage {
        let headers = platform::http::logged_request_headers(req);
        NewMessage {
            direction: "in",
            channel,
            method: req.method().to_string(),
            url: req.uri().to_string(),
            request_headers: headers_json(&headers),
            request_body: truncate_for_log(&String::from_utf8_lossy(body), MAX_LOGGED_BODY),
            response_status: Some(i64::from(status)),
            response_body: Some(truncate_for_log(response_body, MAX_LOGGED_BODY)),
            error: None,
            verdict: verdict.into(),
            order_id,
            latency_ms: started.elapsed().as_millis() as i64,
            at,
        }
    }

    /// A request we made of the store, from its recording.
    pub fn sent(
        channel: &'static str,
        rec: &Recorded,
        verdict: impl Into<String>,
        order_id: Option<String>,
    ) -> NewMessage {
        let (status, body, error) = match &rec.outcome {
            Outcome::Response { status, body, .. } => (
                Some(i64::from(*status)),
                Some(truncate_for_log(
                    &String::from_utf8_lossy(body),
                    MAX_LOGGED_BODY,
                )),
                None,
            ),
            Outcome::Failed { error, .. } => (None, None, Some(error.clone())),
        };
        NewMessage {
            direction: "out",
            channel,
            method: rec.method.clone(),
            url: rec.url.clone(),
            request_headers: headers_json(&rec.request_headers),
            request_body: truncate_for_log(&rec.request_body, MAX_LOGGED_BODY),
            response_status: status,
            response_body: body,
            error,
            verdict: verdict.into(),
            order_id,
            latency_ms: rec.latency_ms(),
            at: rec.started_at_ms,
        }
    }
}

/// Stores a message and tells open browser tabs.
pub async fn record(db: &Db, live: &LiveHub, m: &NewMessage) -> Result<String, sqlx::Error> {
    let id = new_id("imsg");
    sqlx::query(
        "INSERT INTO messages (id, direction, channel, method, url, request_headers, request_body, \
         response_status, response_body, error, verdict, order_id, latency_ms, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(&id)
    .bind(m.direction)
    .bind(m.channel)
    .bind(&m.method)
    .bind(&m.url)
    .bind(&m.request_headers)
    .bind(&m.request_body)
    .bind(m.response_status)
    .bind(m.response_body.as_deref())
    .bind(m.error.as_deref())
    .bind(&m.verdict)
    .bind(m.order_id.as_deref())
    .bind(m.latency_ms)
    .bind(m.at)
    .execute(db.writer())
    .await?;
    live.publish(
        "message",
        serde_json::json!({
            "id": id, "direction": m.direction, "channel": m.channel, "method": m.method,
            "url": m.url, "status": m.response_status, "error": m.error, "verdict": m.verdict,
            "order_id": m.order_id, "latency_ms": m.latency_ms, "at": m.at,
        }),
    );
    Ok(id)
}

/// Records, logging instead of failing: a lost log line must never turn a
/// successful request into a failed one.
pub async fn record_quietly(db: &Db, live: &LiveHub, m: &NewMessage) {
    if let Err(e) = record(db, live, m).await {
        tracing::error!(error = %e, "could not record a message in the log");
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct MessageView {
    pub id: String,
    pub direction: String,
    pub channel: String,
    pub method: String,
    pub url: String,
    pub request_headers: serde_json::Value,
    pub request_body: String,
    pub response_status: Option<i64>,
    pub response_body: Option<String>,
    pub error: Option<String>,
    pub verdict: String,
    pub order_id: Option<String>,
    pub latency_ms: i64,
    pub at: contract::Timestamp,
}

/// The newest messages, optionally of one channel or one order.
pub async fn recent(
    db: &Db,
    channel: Option<&str>,
    order_id: Option<&str>,
    limit: i64,
) -> Result<Vec<MessageView>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, direction, channel, method, url, request_headers, request_body, response_status, \
         response_body, error, verdict, order_id, latency_ms, at FROM messages \
         WHERE ($1 IS NULL OR channel = $1) AND ($2 IS NULL OR order_id = $2) \
         ORDER BY at DESC, id DESC LIMIT $3",
    )
    .bind(channel)
    .bind(order_id)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let headers: String = r.try_get("request_headers")?;
            Ok(MessageView {
                id: r.try_get("id")?,
                direction: r.try_get("direction")?,
                channel: r.try_get("channel")?,
                method: r.try_get("method")?,
                url: r.try_get("url")?,
                request_headers: serde_json::from_str(&headers).unwrap_or(serde_json::Value::Null),
                request_body: r.try_get("request_body")?,
                response_status: r.try_get("response_status")?,
                response_body: r.try_get("response_body")?,
                error: r.try_get("error")?,
                verdict: r.try_get("verdict")?,
                order_id: r.try_get("order_id")?,
                latency_ms: r.try_get("latency_ms")?,
                at: contract::Timestamp(r.try_get("at")?),
            })
        })
        .collect()
}
