//! The inventory's message log: every request it received from the store
//! (api calls, voids, webhooks — verified or refused, applied or duplicate)
//! and every request it made of the store (polls of the feed, empty or not,
//! acknowledgements, its subscription). The store keeps its own log of the
//! same exchanges; the flow page shows the two side by side.
//!
//! Each entry says who opened the connection (a [`Party`]), which
//! [`Channel`] it belongs to, and its [`Verdict`]: what the inventory made
//! of it, as a kind (its own column, so it can be counted and coloured
//! without reading text) and the words for a person beside it.

use std::time::Instant;

use actix_web::HttpRequest;
use serde::{Serialize, Serializer};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, FromRow, Row};

use contract::{Channel, LogEntryId, OrderId, Party, Timestamp, Verdict, VerdictKind};
use platform::group_commit::{Batch, GroupCommit};
use platform::outbound::{Outcome, Recorded, headers_json};
use platform::redact;
use platform::redact::truncate_for_log;
use platform::{Db, LiveHub};

use crate::reply::Reply;

pub const MAX_LOGGED_BODY: usize = 16 * 1024;

#[derive(Debug, Clone)]
pub struct NewMessage {
    /// Who opened the connection: the store (it called us) or the inventory.
    pub initiator: Party,
    pub channel: Channel,
    pub method: String,
    pub url: String,
    pub request_headers: String,
    pub request_body: String,
    pub response_status: Option<u16>,
    pub response_body: Option<String>,
    pub error: Option<String>,
    pub verdict: Verdict,
    pub order_id: Option<OrderId>,
    pub latency_ms: i64,
    pub at: Timestamp,
}

/// A request the store made of us, as the log will keep it, before it is
/// answered.
#[derive(Debug, Clone)]
pub struct Request {
    channel: Channel,
    method: String,
    url: String,
    request_headers: String,
    request_body: String,
    started: Instant,
    at: Timestamp,
}

impl Request {
    /// `started` and `at`: when it arrived, by the watch and by the clock.
    pub fn of(
        req: &HttpRequest,
        channel: Channel,
        body: &[u8],
        started: Instant,
        at: Timestamp,
    ) -> Request {
        let headers = platform::redact::request_headers(req);
        Request {
            channel,
            method: req.method().to_string(),
            url: req.uri().to_string(),
            request_headers: headers_json(&headers),
            // Secrets hinted, as everywhere in the log (`platform::redact`).
            request_body: redact::for_log(&String::from_utf8_lossy(body), MAX_LOGGED_BODY),
            started,
            at,
        }
    }

    /// The same request, filed under another channel (a webhook that
    /// turned out to be hybrid mode's notice).
    pub fn on_channel(mut self, channel: Channel) -> Request {
        self.channel = channel;
        self
    }

    /// With our answer: the log's entry.
    pub fn answered(&self, reply: &Reply, verdict: Verdict) -> NewMessage {
        NewMessage {
            initiator: Party::Store,
            channel: self.channel,
            method: self.method.clone(),
            url: self.url.clone(),
            request_headers: self.request_headers.clone(),
            request_body: self.request_body.clone(),
            response_status: Some(reply.status.as_u16()),
            response_body: Some(redact::for_log(&reply.body, MAX_LOGGED_BODY)),
            error: None,
            verdict,
            order_id: None,
            latency_ms: self.started.elapsed().as_millis() as i64,
            at: self.at,
        }
    }
}

impl NewMessage {
    /// A request we made of the store, from its recording.
    pub fn sent(channel: Channel, rec: &Recorded, verdict: Verdict) -> NewMessage {
        let (status, body, error) = match &rec.outcome {
            // The store's answer to a subscription carries the secret: the
            // log keeps it hinted (`Recorded::logged_response_body`).
            Outcome::Response { status, .. } => (
                Some(*status),
                rec.logged_response_body(MAX_LOGGED_BODY),
                None,
            ),
            Outcome::Failed { error, .. } => (None, None, Some(error.clone())),
        };
        NewMessage {
            initiator: Party::Inventory,
            channel,
            method: rec.method.clone(),
            url: rec.url.clone(),
            request_headers: headers_json(&rec.request_headers),
            request_body: truncate_for_log(&rec.request_body, MAX_LOGGED_BODY),
            response_status: status,
            response_body: body,
            error,
            verdict,
            order_id: None,
            latency_ms: rec.latency_ms(),
            at: Timestamp(rec.started_at_ms),
        }
    }

    /// The order the message was about.
    pub fn about(mut self, order_id: Option<OrderId>) -> NewMessage {
        self.order_id = order_id;
        self
    }
}

/// The message log as the patterns write to it: entries of requests
/// answered at the same moment share one insert (group commit, see
/// `platform::group_commit`) instead of a write each, and every entry is
/// announced to open pages. Cheap to share: one per service.
pub struct MessageLog {
    writer: GroupCommit<LogWriter>,
    live: LiveHub,
}

impl MessageLog {
    pub fn new(db: Db, live: LiveHub) -> MessageLog {
        MessageLog {
            writer: GroupCommit::new(LogWriter { db }),
            live,
        }
    }

    /// Records a message, logging instead of failing: a lost log line must
    /// never turn a successful request into a failed one.
    pub async fn record(&self, m: NewMessage) {
        match self.writer.submit(m.clone()).await {
            Ok(id) => self.announce(&id, &m),
            Err(e) => tracing::error!(error = %e, "could not record a message in the log"),
        }
    }

    /// Tells open browser tabs that a message crossed — one written here,
    /// or in the transaction that applied it ([`insert_all`]).
    pub fn announce(&self, id: &LogEntryId, m: &NewMessage) {
        self.live
            .publish_with(contract::LiveEventKind::Message, || {
                crate::live::MessageData {
                    id: id.clone(),
                    initiator: m.initiator,
                    channel: m.channel,
                    method: m.method.clone(),
                    url: m.url.clone(),
                    status: m.response_status,
                    error: m.error.clone(),
                    verdict: m.verdict.to_string(),
                    verdict_kind: m.verdict.kind,
                    order_id: m.order_id.clone(),
                    latency_ms: m.latency_ms,
                    at: m.at,
                }
            });
    }
}

/// Stores messages, one statement for many, on the caller's connection —
/// so that the entries of requests applied together are written in the
/// transaction that applied them (the intake's).
pub async fn insert_all(
    conn: &mut AnyConnection,
    entries: &[(&LogEntryId, &NewMessage)],
) -> Result<(), sqlx::Error> {
    for chunk in entries.chunks(platform::db::rows_per_statement(15)) {
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO messages (id, initiator, channel, method, url, request_headers, request_body, \
             response_status, response_body, error, verdict, verdict_detail, order_id, latency_ms, at) \
             VALUES {}",
            platform::db::value_rows(15, chunk.len())
        ));
        let mut query = sqlx::query(sql);
        for (id, m) in chunk {
            query = query
                .bind(id.as_str())
                .bind(m.initiator.as_str())
                .bind(m.channel.as_str())
                .bind(&m.method)
                .bind(&m.url)
                .bind(&m.request_headers)
                .bind(&m.request_body)
                .bind(m.response_status.map(i64::from))
                .bind(m.response_body.as_deref())
                .bind(m.error.as_deref())
                .bind(m.verdict.kind.as_str())
                .bind(m.verdict.detail.as_deref())
                .bind(m.order_id.as_ref().map(OrderId::as_str))
                .bind(m.latency_ms)
                .bind(m.at.millis());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Writes the log's entries, many per statement.
struct LogWriter {
    db: Db,
}

impl Batch for LogWriter {
    type Job = NewMessage;
    type Done = LogEntryId;
    type Error = sqlx::Error;

    async fn write_together(&self, batch: &[NewMessage]) -> Result<Vec<LogEntryId>, sqlx::Error> {
        let ids: Vec<LogEntryId> = batch.iter().map(|_| LogEntryId::new()).collect();
        let entries: Vec<(&LogEntryId, &NewMessage)> = ids.iter().zip(batch).collect();
        let mut conn = self.db.writer().acquire().await?;
        insert_all(&mut conn, &entries).await?;
        Ok(ids)
    }
}

/// One logged message, as `GET /api/messages` lists it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct MessageView {
    #[sqlx(try_from = "String")]
    pub id: LogEntryId,
    #[sqlx(try_from = "String")]
    pub initiator: Party,
    #[sqlx(try_from = "String")]
    pub channel: Channel,
    pub method: String,
    pub url: String,
    /// Stored as JSON text; listed as JSON.
    #[serde(serialize_with = "json_text")]
    #[schema(value_type = Object)]
    pub request_headers: String,
    pub request_body: String,
    pub response_status: Option<i64>,
    pub response_body: Option<String>,
    pub error: Option<String>,
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub verdict: LoggedVerdict,
    /// As logged (always an order id the inventory parsed).
    pub order_id: Option<String>,
    pub latency_ms: i64,
    #[sqlx(try_from = "i64")]
    pub at: Timestamp,
}

impl MessageView {
    pub fn verdict(&self) -> &Verdict {
        &self.verdict.0
    }

    /// The request's headers as (name, value) JSON.
    pub fn headers_json(&self) -> serde_json::Value {
        serde_json::from_str(&self.request_headers).unwrap_or(serde_json::Value::Null)
    }

    /// Whether the other side got a 2xx.
    pub fn succeeded(&self) -> bool {
        self.error.is_none()
            && self
                .response_status
                .is_some_and(|s| (200..300).contains(&s))
    }
}

fn json_text<S: Serializer>(text: &str, s: S) -> Result<S::Ok, S::Error> {
    serde_json::from_str::<serde_json::Value>(text)
        .unwrap_or(serde_json::Value::Null)
        .serialize(s)
}

/// A verdict as the log stores it — two columns, `verdict` (the kind's
/// word) and `verdict_detail` — and lists it: `verdict` in words for a
/// person (`refused: bad signature`), `verdict_kind` for a program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedVerdict(pub Verdict);

impl<'r> FromRow<'r, AnyRow> for LoggedVerdict {
    fn from_row(row: &'r AnyRow) -> Result<Self, sqlx::Error> {
        let kind: String = row.try_get("verdict")?;
        let kind = VerdictKind::try_from(kind).map_err(|e| sqlx::Error::ColumnDecode {
            index: "verdict".into(),
            source: Box::new(e),
        })?;
        Ok(LoggedVerdict(Verdict {
            kind,
            detail: row.try_get("verdict_detail")?,
        }))
    }
}

impl Serialize for LoggedVerdict {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("verdict", &self.0.to_string())?;
        map.serialize_entry("verdict_kind", &self.0.kind)?;
        map.end()
    }
}

/// Its schema: the two members [`Serialize`] above writes.
impl utoipa::PartialSchema for LoggedVerdict {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
        use utoipa::ToSchema;
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .property(
                "verdict",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some("In words: `refused: bad signature`.")),
            )
            .required("verdict")
            .property(
                "verdict_kind",
                utoipa::openapi::Ref::from_schema_name(VerdictKind::name()),
            )
            .required("verdict_kind")
            .into()
    }
}

impl utoipa::ToSchema for LoggedVerdict {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        schemas.push((
            <VerdictKind as utoipa::ToSchema>::name().into(),
            <VerdictKind as utoipa::PartialSchema>::schema(),
        ));
    }
}

/// Which messages to list.
#[derive(Debug, Clone, Copy, Default)]
pub struct Selection<'a> {
    pub channel: Option<Channel>,
    pub order_id: Option<&'a OrderId>,
}

/// The newest messages of a selection, newest first.
pub async fn recent(
    db: &Db,
    selection: Selection<'_>,
    limit: i64,
) -> Result<Vec<MessageView>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, initiator, channel, method, url, request_headers, request_body, response_status, \
         response_body, error, verdict, verdict_detail, order_id, latency_ms, at FROM messages \
         WHERE ($1 IS NULL OR channel = $1) AND ($2 IS NULL OR order_id = $2) \
         ORDER BY at DESC, id DESC LIMIT $3",
    )
    .bind(selection.channel.map(Channel::as_str))
    .bind(selection.order_id.map(OrderId::as_str))
    .bind(limit)
    .fetch_all(db.pool())
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verdict_is_listed_in_words_and_as_a_kind() {
        let v = LoggedVerdict(Verdict::with_detail(VerdictKind::Refused, "bad signature"));
        assert_eq!(
            serde_json::to_value(&v).unwrap(),
            serde_json::json!({"verdict": "refused: bad signature", "verdict_kind": "refused"})
        );
        let v = LoggedVerdict(Verdict::new(VerdictKind::NothingNew));
        assert_eq!(serde_json::to_value(&v).unwrap()["verdict"], "nothing new");
    }
}
