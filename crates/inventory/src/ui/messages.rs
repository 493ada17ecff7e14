//! The message log as a page: every request the store made of this
//! inventory (api calls, voids, webhooks) and every request the inventory
//! made of the store (feed reads, acknowledgements, its subscription), each
//! with what the inventory made of it — its *verdict*: a webhook verified or
//! refused, an order applied, backordered or a duplicate, a poll that came
//! back empty.
//!
//! The same log, condensed, is the right-hand column of the store's flow
//! page (`/fragments/flow`): its links are absolute because it is shown on
//! the store's origin.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use contract::{Channel, OrderId, Party, VerdictKind};
use platform::ui::{Layout, SignedMessage, clock_time, date_time, duration_ms, pretty_body};

use super::{Data, PageError, fragment, layout, page, store_url};
use crate::instruments::messages::{self, MessageView, Selection};

/// The repository files that do what this page shows (drawn under it as
/// "How this works in the code"; the UI tests check that each exists).
pub const SOURCES: &[&str] = &[
    "crates/inventory/src/ui/messages.rs",
    "crates/inventory/src/instruments/messages.rs",
    "crates/inventory/src/integration/webhook_receiver.rs",
    "crates/inventory/src/integration/update_inventory.rs",
];

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/messages", web::get().to(messages_page))
        .route("/fragments/messages", web::get().to(messages_fragment))
        .route("/fragments/flow", web::get().to(flow_fragment));
}

/// Messages on the page, and in the flow column.
pub const PAGE_LIMIT: i64 = 100;
pub const FLOW_LIMIT: i64 = 40;

/// A verdict's colour: what kind of outcome it was.
pub fn verdict_tone(kind: VerdictKind) -> &'static str {
    match kind {
        VerdictKind::Refused | VerdictKind::Failed => "tone-bad",
        VerdictKind::Backordered | VerdictKind::Rejected => "tone-warn",
        VerdictKind::Duplicate | VerdictKind::Voided => "tone-info",
        VerdictKind::Empty | VerdictKind::NothingNew => "tone-muted",
        VerdictKind::Applied
        | VerdictKind::Verified
        | VerdictKind::Acknowledged
        | VerdictKind::Subscribed => "tone-good",
    }
}

/// For a webhook the store sent: whether its signature passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureCheck {
    Verified,
    Refused,
}

impl SignatureCheck {
    /// Read from the verdict's kind and the answer: the receiver refuses a
    /// bad signature, a stale timestamp or a missing header with a `4xx`;
    /// its other refusals (chaos, its own failures) are `5xx` and come
    /// before the signature is looked at; a body it could not read after
    /// the signature passed is logged as failed, not refused.
    pub fn of(m: &MessageView) -> Option<SignatureCheck> {
        // Signed: webhooks, and hybrid's thin notices.
        if !matches!(m.channel, Channel::Webhook | Channel::Notify) || m.initiator != Party::Store {
            return None;
        }
        let client_error = m.response_status.is_some_and(|s| (400..500).contains(&s));
        match m.verdict().kind {
            VerdictKind::Refused if client_error => Some(SignatureCheck::Refused),
            VerdictKind::Refused | VerdictKind::Failed => None,
            _ => Some(SignatureCheck::Verified),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SignatureCheck::Verified => "signature verified",
            SignatureCheck::Refused => "signature refused",
        }
    }

    pub fn tone(self) -> &'static str {
        match self {
            SignatureCheck::Verified => "tone-good",
            SignatureCheck::Refused => "tone-bad",
        }
    }
}

pub use platform::ui::HeaderRow;

pub struct MessageRow {
    pub id: String,
    pub number: usize,
    /// The store opened the connection (else the inventory did).
    pub incoming: bool,
    pub arrow: &'static str,
    pub arrow_class: &'static str,
    pub by: &'static str,
    pub summary: &'static str,
    pub channel: Channel,
    pub method: String,
    pub url: String,
    pub path: String,
    pub status: String,
    pub failed: bool,
    pub verdict: String,
    pub verdict_tone: &'static str,
    pub signature: Option<&'static str>,
    pub signature_tone: &'static str,
    pub order_id: Option<String>,
    pub latency: String,
    pub time: String,
    pub time_full: String,
    pub headers: Vec<HeaderRow>,
    /// The body as logged: the bytes that crossed (a signature covers
    /// these, not a re-indented copy).
    pub request_body: String,
    /// The body re-indented, when that changes it: for reading.
    pub request_body_pretty: Option<String>,
    /// A signed webhook, laid out to check its signature by hand.
    pub by_hand: Option<SignedMessage>,
    /// The request as a `curl` command that sends it again.
    pub curl: String,
    pub response_body: Option<String>,
    pub error: Option<String>,
}

impl MessageRow {
    /// `here`: this inventory's public address, which completes the path
    /// a received request was logged with into a URL `curl` can use.
    pub fn from_view(number: usize, m: &MessageView, here: &str) -> MessageRow {
        let incoming = m.initiator == Party::Store;
        let signature = SignatureCheck::of(m);
        let pairs = platform::ui::header_pairs(&m.headers_json());
        let full_url = if m.url.starts_with('/') {
            format!("{}{}", here.trim_end_matches('/'), m.url)
        } else {
            m.url.clone()
        };
        let pretty = pretty_body(&m.request_body);
        MessageRow {
            id: m.id.to_string(),
            number,
            incoming,
            arrow: if incoming { "→" } else { "←" },
            arrow_class: if incoming { "to-inventory" } else { "to-store" },
            by: if incoming { "by-store" } else { "by-inventory" },
            summary: if incoming {
                "received from the store"
            } else {
                "sent to the store"
            },
            channel: m.channel,
            method: m.method.clone(),
            path: url::Url::parse(&m.url)
                .map(|u| u.path().to_owned())
                .unwrap_or_else(|_| m.url.split('?').next().unwrap_or("").to_owned()),
            url: m.url.clone(),
            status: match m.response_status {
                Some(s) => s.to_string(),
                None => "no answer".into(),
            },
            failed: !m.succeeded(),
            verdict: m.verdict().to_string(),
            verdict_tone: verdict_tone(m.verdict().kind),
            signature: signature.map(SignatureCheck::label),
            signature_tone: signature.map_or("tone-bad", SignatureCheck::tone),
            order_id: m.order_id.clone(),
            latency: duration_ms(m.latency_ms),
            time: clock_time(m.at.millis()),
            time_full: date_time(m.at.millis()),
            headers: platform::ui::header_rows(&m.headers_json()),
            by_hand: SignedMessage::of(&pairs, m.request_body.as_bytes()),
            curl: platform::ui::curl(&m.method, &full_url, &pairs, &m.request_body),
            request_body_pretty: Some(pretty).filter(|p| *p != m.request_body),
            request_body: m.request_body.clone(),
            response_body: m.response_body.as_deref().map(pretty_body),
            error: m.error.clone(),
        }
    }
}

/// The filter as a browser sends it (an unset `<select>` is blank).
#[derive(Deserialize, Default, Clone)]
pub struct FilterQuery {
    pub channel: Option<String>,
    pub order_id: Option<String>,
}

/// The filter as understood: an unknown channel is no filter, not an error.
#[derive(Default, Clone)]
pub struct Filter {
    pub channel: Option<Channel>,
    /// The order id as typed (at most 64 characters).
    pub order_id: Option<String>,
}

impl From<FilterQuery> for Filter {
    fn from(q: FilterQuery) -> Filter {
        let keep = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        Filter {
            channel: keep(q.channel).and_then(|c| Channel::parse(&c).ok()),
            order_id: keep(q.order_id).map(|s| s.chars().take(64).collect()),
        }
    }
}

impl Filter {
    pub fn query(&self) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        if let Some(c) = &self.channel {
            q.append_pair("channel", c.as_str());
        }
        if let Some(o) = &self.order_id {
            q.append_pair("order_id", o);
        }
        q.finish()
    }

    pub fn is_channel(&self, channel: &Channel) -> bool {
        self.channel.as_ref() == Some(channel)
    }

    pub fn order_text(&self) -> &str {
        self.order_id.as_deref().unwrap_or("")
    }

    fn is_set(&self) -> bool {
        self.channel.is_some() || self.order_id.is_some()
    }
}

#[derive(Template)]
#[template(path = "inventory/fragments/messages.html")]
pub struct MessageList {
    pub rows: Vec<MessageRow>,
    pub filtered: bool,
    pub store_url: String,
}

impl askama::filters::HtmlSafe for MessageList {}

impl MessageList {
    pub async fn load(app: &Data, filter: &Filter) -> Result<MessageList, sqlx::Error> {
        // Text that is no order id matches no message.
        let order_id = filter.order_id.as_deref().map(OrderId::parse);
        let list = match &order_id {
            Some(Err(_)) => Vec::new(),
            _ => {
                let selection = Selection {
                    channel: filter.channel,
                    order_id: order_id.as_ref().and_then(|id| id.as_ref().ok()),
                };
                messages::recent(&app.ctx.db, selection, PAGE_LIMIT).await?
            }
        };
        let n = list.len();
        Ok(MessageList {
            // Numbered oldest = 1, shown newest first.
            rows: list
                .iter()
                .enumerate()
                .map(|(i, m)| MessageRow::from_view(n - i, m, &app.ctx.config.public_url))
                .collect(),
            filtered: filter.is_set(),
            store_url: store_url(app),
        })
    }
}

#[derive(Template)]
#[template(path = "inventory/messages.html")]
pub struct MessagesPage {
    pub layout: Layout,
    pub filter: Filter,
    pub channels: &'static [Channel],
    pub list: MessageList,
    pub src: String,
}

async fn messages_page(
    app: Data,
    req: HttpRequest,
    query: web::Query<FilterQuery>,
) -> Result<HttpResponse, PageError> {
    let filter = Filter::from(query.into_inner());
    let list = MessageList::load(&app, &filter).await?;
    let q = filter.query();
    let template = MessagesPage {
        layout: layout(&app, &req, "Messages").with_sources(SOURCES),
        src: if q.is_empty() {
            "/fragments/messages".into()
        } else {
            format!("/fragments/messages?{q}")
        },
        filter,
        channels: Channel::ALL,
        list,
    };
    page(&app, StatusCode::OK, &template)
}

async fn messages_fragment(
    app: Data,
    query: web::Query<FilterQuery>,
) -> Result<HttpResponse, PageError> {
    fragment(&MessageList::load(&app, &Filter::from(query.into_inner())).await?)
}

/// The inventory's column on the store's flow page.
#[derive(Template)]
#[template(path = "inventory/fragments/flow.html")]
pub struct FlowColumn {
    pub rows: Vec<MessageRow>,
    pub store_url: String,
}

async fn flow_fragment(app: Data) -> Result<HttpResponse, PageError> {
    let list = messages::recent(&app.ctx.db, Selection::default(), FLOW_LIMIT).await?;
    let n = list.len();
    fragment(&FlowColumn {
        rows: list
            .iter()
            .enumerate()
            .map(|(i, m)| MessageRow::from_view(n - i, m, &app.ctx.config.public_url))
            .collect(),
        store_url: store_url(&app),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_get_a_tone_from_their_kind() {
        use VerdictKind::*;
        assert_eq!(verdict_tone(Applied), "tone-good");
        assert_eq!(verdict_tone(Verified), "tone-good"); // a ping
        assert_eq!(verdict_tone(Refused), "tone-bad"); // a bad signature
        assert_eq!(verdict_tone(Failed), "tone-bad"); // the store answered 503
        assert_eq!(verdict_tone(Backordered), "tone-warn");
        assert_eq!(verdict_tone(Rejected), "tone-warn");
        assert_eq!(verdict_tone(Duplicate), "tone-info");
        assert_eq!(verdict_tone(Empty), "tone-muted");
        assert_eq!(verdict_tone(NothingNew), "tone-muted");
        // An acknowledgement says the store took note; a backorder is
        // coloured where it happened (the feed page that brought it:
        // `backordered: 1 of 1 orders short of stock`).
        assert_eq!(verdict_tone(Acknowledged), "tone-good");
        for kind in VerdictKind::ALL {
            assert!(verdict_tone(*kind).starts_with("tone-"));
        }
    }

    fn logged(channel: Channel, initiator: Party, kind: VerdictKind, status: i64) -> MessageView {
        MessageView {
            id: contract::LogEntryId::new(),
            initiator,
            channel,
            method: "POST".into(),
            url: "/webhooks/store".into(),
            request_headers: "[]".into(),
            request_body: String::new(),
            response_status: Some(status),
            response_body: None,
            error: None,
            verdict: messages::LoggedVerdict(contract::Verdict::new(kind)),
            order_id: None,
            latency_ms: 1,
            at: contract::Timestamp(0),
        }
    }

    #[test]
    fn a_received_webhook_shows_whether_its_signature_passed() {
        use VerdictKind::*;
        let webhook = |kind, status| {
            SignatureCheck::of(&logged(Channel::Webhook, Party::Store, kind, status))
        };
        assert_eq!(webhook(Applied, 200), Some(SignatureCheck::Verified));
        assert_eq!(webhook(Duplicate, 200), Some(SignatureCheck::Verified));
        assert_eq!(webhook(Refused, 401), Some(SignatureCheck::Refused));
        assert_eq!(webhook(Refused, 400), Some(SignatureCheck::Refused)); // stale
        assert_eq!(webhook(Refused, 503), None); // chaos: never looked at
        assert_eq!(webhook(Failed, 400), None); // signed, body unreadable
        assert_eq!(
            SignatureCheck::of(&logged(Channel::Api, Party::Store, Refused, 401)),
            None
        );
        assert_eq!(
            SignatureCheck::of(&logged(Channel::Feed, Party::Inventory, Applied, 200)),
            None
        );
    }

    #[test]
    fn filters_take_known_channels_only() {
        let f = Filter::from(FilterQuery {
            channel: Some(" Webhook ".into()),
            order_id: Some(" ord_1 ".into()),
        });
        assert_eq!(f.channel, Some(Channel::Webhook));
        assert_eq!(f.query(), "channel=webhook&order_id=ord_1");
        let f = Filter::from(FilterQuery {
            channel: Some("<script>".into()),
            order_id: Some("  ".into()),
        });
        assert!(!f.is_set());
    }
}
