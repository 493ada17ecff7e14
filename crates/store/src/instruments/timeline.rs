//! The message log: every HTTP exchange between the store and the inventory
//! that concerns an order, in both directions, as the store saw it.
//!
//! This is what turns the demo from "stock went down" into "here is the
//! request that did it". Outgoing exchanges (webhook attempts, api calls,
//! voids) are recorded from [`platform::outbound::Recorded`]; incoming ones
//! (the inventory reading the feed, acknowledging an order) from the
//! request the store received. An exchange is linked to every order it
//! carried — one for a webhook, possibly many for a feed page — and the
//! order page's timeline is the list of exchanges linked to that order.

use serde::Serialize;
use sqlx::{AnyConnection, Row};

use platform::outbound::{Outcome, Recorded, headers_json, truncate_for_log};
use platform::{Db, LiveHub, new_id};

/// How much of a body the log keeps.
pub const MAX_LOGGED_BODY: usize = 16 * 1024;

/// Which integration pattern an exchange belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// Push: a signed `order.created` (or `ping`) POSTed by the store.
    Webhook,
    /// Request/response: the store calling `/update_inventory`.
    Api,
    /// Compensation: the store withdrawing an order it had to reject.
    Void,
    /// Pull: the inventory reading the order feed.
    Feed,
    /// Pull: the inventory reporting what it did with a polled order.
    Ack,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Webhook => "webhook",
            Channel::Api => "api",
            Channel::Void => "void",
            Channel::Feed => "feed",
            Channel::Ack => "ack",
        }
    }
}

/// Who opened the connection — the heart of push versus pull.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Party {
    Store,
    Inventory,
}

impl Party {
    pub fn as_str(self) -> &'static str {
        match self {
            Party::Store => "store",
            Party::Inventory => "inventory",
        }
    }
}

/// A webhook attempt's place in its delivery.
#[derive(Debug, Clone)]
pub struct AttemptInfo {
    pub delivery_id: String,
    pub attempt_no: i64,
    /// `scheduled` or `manual` (a redeliver button).
    pub trigger: &'static str,
}

/// One exchange, ready to store.
#[derive(Debug, Clone)]
pub struct NewExchange {
    pub channel: Channel,
    pub initiator: Party,
    pub method: String,
    pub url: String,
    pub request_headers: String,
    pub request_body: String,
    pub response_status: Option<i64>,
    pub response_headers: Option<String>,
    pub response_body: Option<String>,
    pub error: Option<String>,
    pub latency_ms: i64,
    pub started_at: i64,
    pub attempt: Option<AttemptInfo>,
}

impl NewExchange {
    /// An exchange the store initiated, from what was sent and received.
    pub fn sent(channel: Channel, rec: &Recorded) -> NewExchange {
        let (status, headers, body, error) = match &rec.outcome {
            Outcome::Response {
                status,
                headers,
                body,
            } => (
                Some(i64::from(*status)),
                Some(headers_json(headers)),
                Some(truncate_for_log(
                    &String::from_utf8_lossy(body),
                    MAX_LOGGED_BODY,
                )),
                None,
            ),
            Outcome::Failed { error, .. } => (None, None, None, Some(error.clone())),
        };
        NewExchange {
            channel,
            initiator: Party::Store,
            method: rec.method.clone(),
            url: rec.url.clone(),
            request_headers: headers_json(&rec.request_headers),
            request_body: truncate_for_log(&rec.request_body, MAX_LOGGED_BODY),
            response_status: status,
            response_headers: headers,
            response_body: body,
            error,
            latency_ms: rec.latency_ms(),
            started_at: rec.started_at_ms,
            attempt: None,
        }
    }

    pub fn with_attempt(mut self, attempt: AttemptInfo) -> NewExchange {
        self.attempt = Some(attempt);
        self
    }
}

/// Stores an exchange and links it to the orders it carried. Runs on the
/// caller's connection so it can share a transaction (a webhook attempt is
/// recorded in the same transaction that updates its delivery).
pub async fn record(
    conn: &mut AnyConnection,
    exchange: &NewExchange,
    order_ids: &[&str],
) -> Result<String, sqlx::Error> {
    let id = new_id("exg");
    sqlx::query(
        "INSERT INTO exchanges (id, channel, initiator, method, url, request_headers, request_body, \
         response_status, response_headers, response_body, error, latency_ms, started_at, \
         delivery_id, attempt_no, trigger_kind) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(&id)
    .bind(exchange.channel.as_str())
    .bind(exchange.initiator.as_str())
    .bind(&exchange.method)
    .bind(&exchange.url)
    .bind(&exchange.request_headers)
    .bind(&exchange.request_body)
    .bind(exchange.response_status)
    .bind(exchange.response_headers.as_deref())
    .bind(exchange.response_body.as_deref())
    .bind(exchange.error.as_deref())
    .bind(exchange.latency_ms)
    .bind(exchange.started_at)
    .bind(exchange.attempt.as_ref().map(|a| a.delivery_id.as_str()))
    .bind(exchange.attempt.as_ref().map(|a| a.attempt_no))
    .bind(exchange.attempt.as_ref().map(|a| a.trigger))
    .execute(&mut *conn)
    .await?;
    for order_id in order_ids {
        sqlx::query("INSERT INTO exchange_orders (exchange_id, order_id) VALUES ($1, $2)")
            .bind(&id)
            .bind(*order_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(id)
}

/// Tells open browser tabs that a message crossed.
pub fn publish(live: &LiveHub, id: &str, exchange: &NewExchange, order_ids: &[&str]) {
    live.publish(
        "exchange",
        serde_json::json!({
            "id": id,
            "channel": exchange.channel,
            "initiator": exchange.initiator,
            "method": exchange.method,
            "url": exchange.url,
            "status": exchange.response_status,
            "error": exchange.error,
            "latency_ms": exchange.latency_ms,
            "started_at": exchange.started_at,
            "order_ids": order_ids,
            "delivery_id": exchange.attempt.as_ref().map(|a| a.delivery_id.as_str()),
            "attempt_no": exchange.attempt.as_ref().map(|a| a.attempt_no),
        }),
    );
}

/// Records on a pooled connection and publishes: for exchanges that are not
/// part of a larger transaction.
pub async fn record_and_publish(
    db: &Db,
    live: &LiveHub,
    exchange: &NewExchange,
    order_ids: &[&str],
) -> Result<String, sqlx::Error> {
    let mut conn = db.writer().acquire().await?;
    let id = record(&mut conn, exchange, order_ids).await?;
    publish(live, &id, exchange, order_ids);
    Ok(id)
}

/// An exchange as the API and the UI show it.
#[derive(Debug, Clone, Serialize)]
pub struct ExchangeView {
    pub id: String,
    pub channel: String,
    pub initiator: String,
    pub method: String,
    pub url: String,
    pub request_headers: serde_json::Value,
    pub request_body: String,
    pub response_status: Option<i64>,
    pub response_headers: Option<serde_json::Value>,
    pub response_body: Option<String>,
    pub error: Option<String>,
    pub latency_ms: i64,
    pub started_at: contract::Timestamp,
    pub delivery_id: Option<String>,
    pub attempt_no: Option<i64>,
    pub trigger: Option<String>,
}

const VIEW_COLUMNS: &str = "e.id, e.channel, e.initiator, e.method, e.url, e.request_headers, \
    e.request_body, e.response_status, e.response_headers, e.response_body, e.error, \
    e.latency_ms, e.started_at, e.delivery_id, e.attempt_no, e.trigger_kind";

fn view_from_row(row: &sqlx::any::AnyRow) -> Result<ExchangeView, sqlx::Error> {
    let parse = |text: String| serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
    Ok(ExchangeView {
        id: row.try_get("id")?,
        channel: row.try_get("channel")?,
        initiator: row.try_get("initiator")?,
        method: row.try_get("method")?,
        url: row.try_get("url")?,
        request_headers: parse(row.try_get("request_headers")?),
        request_body: row.try_get("request_body")?,
        response_status: row.try_get("response_status")?,
        response_headers: row
            .try_get::<Option<String>, _>("response_headers")?
            .map(parse),
        response_body: row.try_get("response_body")?,
        error: row.try_get("error")?,
        latency_ms: row.try_get("latency_ms")?,
        started_at: contract::Timestamp(row.try_get("started_at")?),
        delivery_id: row.try_get("delivery_id")?,
        attempt_no: row.try_get("attempt_no")?,
        trigger: row.try_get("trigger_kind")?,
    })
}

/// Every exchange that carried `order_id`, oldest first.
pub async fn for_order(db: &Db, order_id: &str) -> Result<Vec<ExchangeView>, sqlx::Error> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {VIEW_COLUMNS} FROM exchanges e \
         JOIN exchange_orders eo ON eo.exchange_id = e.id \
         WHERE eo.order_id = $1 ORDER BY e.started_at, e.id"
    ));
    sqlx::query(sql)
        .bind(order_id)
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(view_from_row)
        .collect()
}

/// The attempts of one webhook delivery, oldest first.
pub async fn for_delivery(db: &Db, delivery_id: &str) -> Result<Vec<ExchangeView>, sqlx::Error> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {VIEW_COLUMNS} FROM exchanges e WHERE e.delivery_id = $1 ORDER BY e.started_at, e.id"
    ));
    sqlx::query(sql)
        .bind(delivery_id)
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(view_from_row)
        .collect()
}

/// The most recent exchanges of any kind, newest first.
pub async fn recent(db: &Db, limit: i64) -> Result<Vec<ExchangeView>, sqlx::Error> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {VIEW_COLUMNS} FROM exchanges e ORDER BY e.started_at DESC, e.id DESC LIMIT $1"
    ));
    sqlx::query(sql)
        .bind(limit)
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(view_from_row)
        .collect()
}
