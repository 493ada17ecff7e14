//! The message log: every HTTP exchange between the store and the inventory
//! that concerns an order, in both directions, as the store saw it.
//!
//! This is what turns the demo from "stock went down" into "here is the
//! request that did it". Outgoing exchanges (webhook attempts, api calls,
//! voids) are recorded from [`platform::outbound::Recorded`]; incoming ones
//! (the inventory reading the feed, acknowledging an order, fetching one)
//! from the request the store received (`crate::inbound`). An exchange is linked to every
//! order it carried — one for a webhook, possibly many for a feed page —
//! and the order page's timeline is the list of exchanges linked to that
//! order. Each exchange says which pattern it belongs to
//! ([`contract::Channel`], the same words the inventory's log uses) and who
//! opened the connection ([`contract::Party`]).

use std::collections::HashMap;

use serde::Serialize;
use sqlx::AnyConnection;

use contract::{Channel, DeliveryId, ExchangeId, IntegrationMode, OrderId, Party, Timestamp};
use platform::db::NullableText;
use platform::outbound::{Outcome, Recorded, headers_json};
use platform::redact::truncate_for_log;
use platform::{Db, LiveHub};

use crate::vocabulary::Trigger;

/// How much of a body the log keeps.
pub const MAX_LOGGED_BODY: usize = 16 * 1024;

/// The integration mode whose orders a channel carries (`None` for the
/// inventory subscribing, which carries no order). The feed lists every
/// order, so a feed read can also *carry* orders of other modes — which the
/// poller reads past.
pub fn mode_of(channel: Channel) -> Option<IntegrationMode> {
    match channel {
        Channel::Webhook => Some(IntegrationMode::Webhook),
        Channel::Api | Channel::Void => Some(IntegrationMode::Api),
        Channel::Feed | Channel::Ack => Some(IntegrationMode::Poll),
        Channel::Notify | Channel::Fetch | Channel::Reconcile => Some(IntegrationMode::Hybrid),
        Channel::Subscribe => None,
    }
}

/// A webhook attempt's place in its delivery.
#[derive(Debug, Clone)]
pub struct AttemptInfo {
    pub delivery_id: DeliveryId,
    pub attempt_no: i64,
    pub trigger: Trigger,
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
    pub started_at: Timestamp,
    pub attempt: Option<AttemptInfo>,
}

impl NewExchange {
    /// An exchange the store initiated, from what was sent and received.
    pub fn sent(channel: Channel, rec: &Recorded) -> NewExchange {
        let (status, headers, body, error) = match &rec.outcome {
            Outcome::Response {
                status, headers, ..
            } => (
                Some(i64::from(*status)),
                Some(headers_json(headers)),
                rec.logged_response_body(MAX_LOGGED_BODY),
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
            request_body: truncate_for_log(&rec.request_body, MAX_LOGGED_BODY), // redacted when sent
            response_status: status,
            response_headers: headers,
            response_body: body,
            error,
            latency_ms: rec.latency_ms(),
            started_at: Timestamp(rec.started_at_ms),
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
    order_ids: &[&OrderId],
) -> Result<ExchangeId, sqlx::Error> {
    let ids = record_all(conn, &[(exchange, order_ids.to_vec())]).await?;
    Ok(ids.into_iter().next().expect("one id per exchange"))
}

/// [`record`] for many exchanges at once — one statement per table, not
/// one per exchange (webhook attempts recorded together).
pub async fn record_all(
    conn: &mut AnyConnection,
    exchanges: &[(&NewExchange, Vec<&OrderId>)],
) -> Result<Vec<ExchangeId>, sqlx::Error> {
    let ids: Vec<ExchangeId> = exchanges.iter().map(|_| ExchangeId::new()).collect();
    let rows: Vec<(&ExchangeId, &NewExchange)> =
        ids.iter().zip(exchanges.iter().map(|(e, _)| *e)).collect();
    for chunk in rows.chunks(platform::db::rows_per_statement(16)) {
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO exchanges (id, channel, initiator, method, url, request_headers, request_body, \
             response_status, response_headers, response_body, error, latency_ms, started_at, \
             delivery_id, attempt_no, trigger_kind) VALUES {}",
            platform::db::value_rows(16, chunk.len())
        ));
        let mut query = sqlx::query(sql);
        for (id, exchange) in chunk {
            query = query
                .bind(id.as_str())
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
                .bind(exchange.started_at.millis())
                .bind(exchange.attempt.as_ref().map(|a| a.delivery_id.as_str()))
                .bind(exchange.attempt.as_ref().map(|a| a.attempt_no))
                .bind(exchange.attempt.as_ref().map(|a| a.trigger.as_str()));
        }
        query.execute(&mut *conn).await?;
    }
    let links: Vec<(&ExchangeId, &OrderId)> = ids
        .iter()
        .zip(exchanges)
        .flat_map(|(id, (_, orders))| orders.iter().map(move |o| (id, *o)))
        .collect();
    for chunk in links.chunks(platform::db::rows_per_statement(2)) {
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO exchange_orders (exchange_id, order_id) VALUES {}",
            platform::db::value_rows(2, chunk.len())
        ));
        let mut query = sqlx::query(sql);
        for (id, order_id) in chunk {
            query = query.bind(id.as_str()).bind(order_id.as_str());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(ids)
}

/// Tells open browser tabs that a message crossed.
pub fn publish(live: &LiveHub, id: &ExchangeId, exchange: &NewExchange, order_ids: &[&OrderId]) {
    live.publish_with(contract::LiveEventKind::Exchange, || {
        crate::live::ExchangeData {
            id: id.clone(),
            channel: exchange.channel,
            initiator: exchange.initiator,
            method: exchange.method.clone(),
            url: exchange.url.clone(),
            status: exchange.response_status,
            error: exchange.error.clone(),
            latency_ms: exchange.latency_ms,
            started_at: exchange.started_at,
            order_ids: order_ids.iter().map(|&id| id.clone()).collect(),
            delivery_id: exchange.attempt.as_ref().map(|a| a.delivery_id.clone()),
            attempt_no: exchange.attempt.as_ref().map(|a| a.attempt_no),
        }
    });
}

/// Records on a pooled connection and publishes: for exchanges that are not
/// part of a larger transaction.
pub async fn record_and_publish(
    db: &Db,
    live: &LiveHub,
    exchange: &NewExchange,
    order_ids: &[&OrderId],
) -> Result<ExchangeId, sqlx::Error> {
    let mut conn = db.writer().acquire().await?;
    let id = record(&mut conn, exchange, order_ids).await?;
    publish(live, &id, exchange, order_ids);
    Ok(id)
}

/// An exchange as the API and the UI show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExchangeView {
    pub id: ExchangeId,
    pub channel: Channel,
    pub initiator: Party,
    pub method: String,
    pub url: String,
    /// Name → value, as sent (secrets redacted).
    #[schema(value_type = Object)]
    pub request_headers: serde_json::Value,
    pub request_body: String,
    pub response_status: Option<i64>,
    #[schema(value_type = Option<Object>)]
    pub response_headers: Option<serde_json::Value>,
    pub response_body: Option<String>,
    pub error: Option<String>,
    pub latency_ms: i64,
    pub started_at: Timestamp,
    pub delivery_id: Option<DeliveryId>,
    pub attempt_no: Option<i64>,
    pub trigger: Option<Trigger>,
}

impl ExchangeView {
    /// Whether the exchange got no 2xx answer.
    pub fn failed(&self) -> bool {
        self.error.is_some()
            || !self
                .response_status
                .is_some_and(|s| (200..300).contains(&s))
    }
}

/// An `exchanges` row as stored: headers as JSON text, and the columns
/// only webhook attempts fill.
#[derive(sqlx::FromRow)]
struct ExchangeRow {
    #[sqlx(try_from = "String")]
    id: ExchangeId,
    #[sqlx(try_from = "String")]
    channel: Channel,
    #[sqlx(try_from = "String")]
    initiator: Party,
    method: String,
    url: String,
    request_headers: String,
    request_body: String,
    response_status: Option<i64>,
    response_headers: Option<String>,
    response_body: Option<String>,
    error: Option<String>,
    latency_ms: i64,
    #[sqlx(try_from = "i64")]
    started_at: Timestamp,
    #[sqlx(try_from = "NullableText")]
    delivery_id: Option<DeliveryId>,
    attempt_no: Option<i64>,
    #[sqlx(try_from = "NullableText")]
    trigger_kind: Option<Trigger>,
}

impl From<ExchangeRow> for ExchangeView {
    fn from(row: ExchangeRow) -> ExchangeView {
        // A log that cannot be parsed back is shown as nothing, not an error.
        let json = |text: String| serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
        ExchangeView {
            id: row.id,
            channel: row.channel,
            initiator: row.initiator,
            method: row.method,
            url: row.url,
            request_headers: json(row.request_headers),
            request_body: row.request_body,
            response_status: row.response_status,
            response_headers: row.response_headers.map(json),
            response_body: row.response_body,
            error: row.error,
            latency_ms: row.latency_ms,
            started_at: row.started_at,
            delivery_id: row.delivery_id,
            attempt_no: row.attempt_no,
            trigger: row.trigger_kind,
        }
    }
}

const VIEW_COLUMNS: &str = "e.id, e.channel, e.initiator, e.method, e.url, e.request_headers, \
    e.request_body, e.response_status, e.response_headers, e.response_body, e.error, \
    e.latency_ms, e.started_at, e.delivery_id, e.attempt_no, e.trigger_kind";

fn into_views(rows: Vec<ExchangeRow>) -> Vec<ExchangeView> {
    rows.into_iter().map(ExchangeView::from).collect()
}

/// Every exchange that carried `order_id`, oldest first.
pub async fn for_order(db: &Db, order_id: &OrderId) -> Result<Vec<ExchangeView>, sqlx::Error> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {VIEW_COLUMNS} FROM exchanges e \
         JOIN exchange_orders eo ON eo.exchange_id = e.id \
         WHERE eo.order_id = $1 ORDER BY e.started_at, e.id"
    ));
    let rows = sqlx::query_as(sql)
        .bind(order_id.as_str())
        .fetch_all(db.pool())
        .await?;
    Ok(into_views(rows))
}

/// The attempts of one webhook delivery, oldest first.
pub async fn for_delivery(
    db: &Db,
    delivery_id: &DeliveryId,
) -> Result<Vec<ExchangeView>, sqlx::Error> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {VIEW_COLUMNS} FROM exchanges e WHERE e.delivery_id = $1 ORDER BY e.started_at, e.id"
    ));
    let rows = sqlx::query_as(sql)
        .bind(delivery_id.as_str())
        .fetch_all(db.pool())
        .await?;
    Ok(into_views(rows))
}

/// An empty poll, as an SQL condition on `e` with the feed channel bound
/// at `$1` and poll mode at `$2`: a feed read that carried no poll-mode
/// order — nothing for the poller, whatever else the page listed. The
/// compare page's "empty polls" are these too.
const EMPTY_POLL: &str = "(e.channel = $1 AND NOT EXISTS (SELECT 1 FROM exchange_orders eo \
     JOIN orders o ON o.id = eo.order_id WHERE eo.exchange_id = e.id AND o.mode = $2))";

/// The most recent exchanges of any kind, newest first; without the empty
/// polls if `hide_empty_polls`.
pub async fn recent(
    db: &Db,
    limit: i64,
    hide_empty_polls: bool,
) -> Result<Vec<ExchangeView>, sqlx::Error> {
    // The condition is always in the statement (and its parameters always
    // bound), switched by `$3`: one statement for both views.
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {VIEW_COLUMNS} FROM exchanges e WHERE $3 = 0 OR NOT {EMPTY_POLL} \
         ORDER BY e.started_at DESC, e.id DESC LIMIT $4"
    ));
    let rows = sqlx::query_as(sql)
        .bind(Channel::Feed.as_str())
        .bind(IntegrationMode::Poll.as_str())
        .bind(i64::from(hide_empty_polls))
        .bind(limit)
        .fetch_all(db.pool())
        .await?;
    Ok(into_views(rows))
}

#[derive(sqlx::FromRow)]
struct Count {
    n: i64,
}

/// How many empty polls (see [`EMPTY_POLL`]) reached the store at or after
/// `since`.
pub async fn empty_polls_since(db: &Db, since: Timestamp) -> Result<i64, sqlx::Error> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS n FROM exchanges e WHERE e.started_at >= $3 AND {EMPTY_POLL}"
    ));
    let row: Count = sqlx::query_as(sql)
        .bind(Channel::Feed.as_str())
        .bind(IntegrationMode::Poll.as_str())
        .bind(since.millis())
        .fetch_one(db.pool())
        .await?;
    Ok(row.n)
}

/// An order an exchange carried, and the mode it was placed under — which
/// is what tells a poll that found work from an empty one.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Carried {
    #[sqlx(try_from = "String")]
    pub order_id: OrderId,
    #[sqlx(try_from = "String")]
    pub mode: IntegrationMode,
}

#[derive(sqlx::FromRow)]
struct CarriedRow {
    #[sqlx(try_from = "String")]
    exchange_id: ExchangeId,
    #[sqlx(flatten)]
    carried: Carried,
}

/// The newest `limit` exchanges, newest first, each with what it carried
/// (the flow page's view of the log); without the empty polls if
/// `hide_empty_polls`.
pub async fn recent_with_orders(
    db: &Db,
    limit: i64,
    hide_empty_polls: bool,
) -> Result<Vec<(ExchangeView, Vec<Carried>)>, sqlx::Error> {
    let exchanges = recent(db, limit, hide_empty_polls).await?;
    if exchanges.is_empty() {
        return Ok(Vec::new());
    }
    // One placeholder per exchange: portable, and bounded by `limit`.
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT eo.exchange_id, eo.order_id, o.mode FROM exchange_orders eo \
         JOIN orders o ON o.id = eo.order_id WHERE eo.exchange_id IN ({}) ORDER BY o.feed_seq",
        platform::db::placeholders(1, exchanges.len())
    ));
    let mut query = sqlx::query_as::<_, CarriedRow>(sql);
    for ex in &exchanges {
        query = query.bind(ex.id.as_str());
    }
    let mut carried: HashMap<ExchangeId, Vec<Carried>> = HashMap::new();
    for row in query.fetch_all(db.pool()).await? {
        carried
            .entry(row.exchange_id)
            .or_default()
            .push(row.carried);
    }
    Ok(exchanges
        .into_iter()
        .map(|ex| {
            let orders = carried.remove(&ex.id).unwrap_or_default();
            (ex, orders)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_belong_to_modes() {
        assert_eq!(mode_of(Channel::Void), Some(IntegrationMode::Api));
        assert_eq!(mode_of(Channel::Ack), Some(IntegrationMode::Poll));
        assert_eq!(mode_of(Channel::Webhook), Some(IntegrationMode::Webhook));
        assert_eq!(mode_of(Channel::Subscribe), None);
    }
}
