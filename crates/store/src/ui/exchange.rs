//! One exchange between the services, ready to draw — as an arrow in an
//! order's sequence diagram (`super::diagram`) and as an entry in the list
//! of messages below it (`super::orders`): who sent it to whom, what
//! crossed, what came back, and when.

use actix_web::http::StatusCode;

use contract::{Channel, Party};
pub use platform::ui::HeaderRow;
use platform::ui::{
    SignedMessage, clock_time, curl, date_time, duration_ms, header_pairs, header_rows, pretty_body,
};

use crate::timeline::ExchangeView;
use crate::vocabulary::Trigger;

/// One exchange, ready to draw: in the diagram and in the details list.
pub struct ExchangeItem {
    pub id: String,
    pub anchor: String,
    pub number: usize,
    pub channel: Channel,
    pub initiator: Party,
    pub receiver: Party,
    pub failed: bool,
    pub method: String,
    pub url: String,
    pub path: String,
    pub started: String,
    pub started_full: String,
    /// When it started and when its answer (or failure) came, as unix
    /// milliseconds: the diagram measures the waits between messages.
    pub started_ms: i64,
    pub ended_ms: i64,
    pub latency: String,
    pub status: Option<i64>,
    pub status_text: String,
    pub error: Option<String>,
    pub attempt_no: Option<i64>,
    pub attempt: Option<String>,
    pub request_headers: Vec<HeaderRow>,
    /// The body as recorded: the bytes that crossed (a signature covers
    /// these, not a re-indented copy).
    pub request_body: String,
    /// The body re-indented, when that changes it: for reading.
    pub request_body_pretty: Option<String>,
    /// A signed webhook, laid out to check its signature by hand.
    pub by_hand: Option<SignedMessage>,
    /// The request as a `curl` command that sends it again.
    pub curl: String,
    /// The delivery a webhook attempt belongs to: it can be replayed.
    pub delivery_id: Option<String>,
    pub response_headers: Vec<HeaderRow>,
    pub response_body: Option<String>,
}

impl ExchangeItem {
    pub fn from_view(number: usize, ex: &ExchangeView) -> ExchangeItem {
        let status_text = match (ex.response_status, &ex.error) {
            (Some(s), _) => {
                let reason = u16::try_from(s)
                    .ok()
                    .and_then(|s| StatusCode::from_u16(s).ok())
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("");
                format!("{s} {reason}").trim_end().to_owned()
            }
            (None, Some(e)) => format!("no answer: {e}"),
            (None, None) => "no answer".into(),
        };
        let path = url::Url::parse(&ex.url)
            .map(|u| match u.query() {
                Some(q) => format!("{}?{q}", u.path()),
                None => u.path().to_owned(),
            })
            .unwrap_or_else(|_| ex.url.clone());
        let pairs = header_pairs(&ex.request_headers);
        let pretty = pretty_body(&ex.request_body);
        ExchangeItem {
            by_hand: SignedMessage::of(&pairs, ex.request_body.as_bytes()),
            curl: curl(&ex.method, &ex.url, &pairs, &ex.request_body),
            request_body_pretty: Some(pretty).filter(|p| *p != ex.request_body),
            delivery_id: ex.delivery_id.as_ref().map(|d| d.to_string()),
            id: ex.id.to_string(),
            anchor: format!("ex-{}", ex.id),
            number,
            channel: ex.channel,
            initiator: ex.initiator,
            receiver: ex.initiator.peer(),
            failed: ex.failed(),
            method: ex.method.clone(),
            url: ex.url.clone(),
            path,
            started: clock_time(ex.started_at.millis()),
            started_full: date_time(ex.started_at.millis()),
            started_ms: ex.started_at.millis(),
            ended_ms: ex.started_at.millis() + ex.latency_ms.max(0),
            latency: duration_ms(ex.latency_ms),
            status: ex.response_status,
            status_text,
            error: ex.error.clone(),
            attempt_no: ex.attempt_no,
            attempt: ex.attempt_no.map(|n| {
                let how = match ex.trigger {
                    Some(Trigger::Manual) => "redelivered by hand",
                    _ if n == 1 => "first attempt",
                    _ => "scheduled retry",
                };
                format!("attempt {n} · {how}")
            }),
            request_headers: header_rows(&ex.request_headers),
            request_body: ex.request_body.clone(),
            response_headers: ex
                .response_headers
                .as_ref()
                .map(header_rows)
                .unwrap_or_default(),
            response_body: ex.response_body.as_deref().map(pretty_body),
        }
    }

    pub fn channel_label(&self) -> &'static str {
        match self.channel {
            Channel::Webhook => "webhook (push, event)",
            Channel::Api => "api call (push, request/response)",
            Channel::Void => "void (compensation)",
            Channel::Feed => "feed read (poll)",
            Channel::Ack => "acknowledgement (poll)",
            Channel::Subscribe => "message",
            Channel::Notify => "notice (hybrid push)",
            Channel::Fetch => "fetch (hybrid pull)",
            Channel::Reconcile => "reconciliation (hybrid pull)",
        }
    }
}
