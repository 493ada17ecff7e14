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

use platform::ui::{Layout, clock_time, date_time, duration_ms, pretty_body};

use super::{Data, PageError, fragment, layout, page, store_url};
use crate::messages::{self, MessageView};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/messages", web::get().to(messages_page))
        .route("/fragments/messages", web::get().to(messages_fragment))
        .route("/fragments/flow", web::get().to(flow_fragment));
}

/// Messages on the page, and in the flow column.
pub const PAGE_LIMIT: i64 = 100;
pub const FLOW_LIMIT: i64 = 40;

/// The channels a filter can pick.
pub const CHANNELS: &[&str] = &["webhook", "api", "void", "feed", "ack", "subscribe"];

/// A verdict's colour: what kind of outcome it was.
pub fn verdict_tone(verdict: &str) -> &'static str {
    let v = verdict.to_ascii_lowercase();
    if v.starts_with("refused") || v.starts_with("failed") || v == "store unreachable" {
        "tone-bad"
    } else if v.contains("backordered") || v == "rejected" || v.ends_with(": rejected") {
        "tone-warn"
    } else if v.starts_with("duplicate")
        || v.starts_with("order already applied")
        || v.starts_with("voided")
    {
        "tone-info"
    } else if v.starts_with("empty") {
        "tone-muted"
    } else {
        "tone-good"
    }
}

/// For a received webhook: whether its signature passed.
pub fn signature_verdict(m: &MessageView) -> Option<&'static str> {
    if m.channel != "webhook" || m.direction != "in" {
        return None;
    }
    let v = m.verdict.to_ascii_lowercase();
    if v.contains("signature") || v.contains("timestamp") || v.contains("missing webhook") {
        Some("signature refused")
    } else if v.starts_with("refused") {
        // Refused before the signature was looked at (chaos, a bad body).
        None
    } else {
        Some("signature verified")
    }
}

pub use platform::ui::HeaderRow;

pub struct MessageRow {
    pub id: String,
    pub number: usize,
    pub direction: String,
    pub arrow: &'static str,
    pub arrow_class: &'static str,
    pub by: &'static str,
    pub summary: &'static str,
    pub channel: String,
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
    pub request_body: String,
    pub response_body: Option<String>,
    pub error: Option<String>,
}

impl MessageRow {
    pub fn from_view(number: usize, m: &MessageView) -> MessageRow {
        let incoming = m.direction == "in";
        let failed =
            m.error.is_some() || !m.response_status.is_some_and(|s| (200..300).contains(&s));
        MessageRow {
            id: m.id.clone(),
            number,
            direction: m.direction.clone(),
            arrow: if incoming { "→" } else { "←" },
            arrow_class: if incoming { "to-inventory" } else { "to-store" },
            by: if incoming { "by-store" } else { "by-inventory" },
            summary: if incoming {
                "received from the store"
            } else {
                "sent to the store"
            },
            channel: m.channel.clone(),
            method: m.method.clone(),
            path: url::Url::parse(&m.url)
                .map(|u| u.path().to_owned())
                .unwrap_or_else(|_| m.url.split('?').next().unwrap_or("").to_owned()),
            url: m.url.clone(),
            status: match m.response_status {
                Some(s) => s.to_string(),
                None => "no answer".into(),
            },
            failed,
            verdict: m.verdict.clone(),
            verdict_tone: verdict_tone(&m.verdict),
            signature: signature_verdict(m),
            signature_tone: match signature_verdict(m) {
                Some("signature verified") => "tone-good",
                _ => "tone-bad",
            },
            order_id: m.order_id.clone(),
            latency: duration_ms(m.latency_ms),
            time: clock_time(m.at.millis()),
            time_full: date_time(m.at.millis()),
            headers: platform::ui::header_rows(&m.request_headers),
            request_body: pretty_body(&m.request_body),
            response_body: m.response_body.as_deref().map(pretty_body),
            error: m.error.clone(),
        }
    }
}

#[derive(Deserialize, Default, Clone)]
pub struct Filter {
    pub channel: Option<String>,
    pub order_id: Option<String>,
}

impl Filter {
    /// Blank fields (an unset `<select>`) mean "any".
    fn clean(self) -> Filter {
        let keep = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        Filter {
            channel: keep(self.channel).filter(|c| CHANNELS.contains(&c.as_str())),
            order_id: keep(self.order_id).map(|s| s.chars().take(64).collect()),
        }
    }

    pub fn query(&self) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        if let Some(c) = &self.channel {
            q.append_pair("channel", c);
        }
        if let Some(o) = &self.order_id {
            q.append_pair("order_id", o);
        }
        q.finish()
    }

    pub fn is_channel(&self, channel: &str) -> bool {
        self.channel.as_deref() == Some(channel)
    }

    pub fn order_text(&self) -> &str {
        self.order_id.as_deref().unwrap_or("")
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
        let list = messages::recent(
            &app.db,
            filter.channel.as_deref(),
            filter.order_id.as_deref(),
            PAGE_LIMIT,
        )
        .await?;
        let n = list.len();
        Ok(MessageList {
            // Numbered oldest = 1, shown newest first.
            rows: list
                .iter()
                .enumerate()
                .map(|(i, m)| MessageRow::from_view(n - i, m))
                .collect(),
            filtered: filter.channel.is_some() || filter.order_id.is_some(),
            store_url: store_url(app),
        })
    }
}

#[derive(Template)]
#[template(path = "inventory/messages.html")]
pub struct MessagesPage {
    pub layout: Layout,
    pub filter: Filter,
    pub channels: &'static [&'static str],
    pub list: MessageList,
    pub src: String,
}

async fn messages_page(
    app: Data,
    req: HttpRequest,
    query: web::Query<Filter>,
) -> Result<HttpResponse, PageError> {
    let filter = query.into_inner().clean();
    let list = MessageList::load(&app, &filter).await?;
    let q = filter.query();
    let template = MessagesPage {
        layout: layout(&app, &req, "Messages"),
        src: if q.is_empty() {
            "/fragments/messages".into()
        } else {
            format!("/fragments/messages?{q}")
        },
        filter,
        channels: CHANNELS,
        list,
    };
    page(&app, StatusCode::OK, &template)
}

async fn messages_fragment(
    app: Data,
    query: web::Query<Filter>,
) -> Result<HttpResponse, PageError> {
    fragment(&MessageList::load(&app, &query.into_inner().clean()).await?)
}

/// The inventory's column on the store's flow page.
#[derive(Template)]
#[template(path = "inventory/fragments/flow.html")]
pub struct FlowColumn {
    pub rows: Vec<MessageRow>,
    pub store_url: String,
}

async fn flow_fragment(app: Data) -> Result<HttpResponse, PageError> {
    let list = messages::recent(&app.db, None, None, FLOW_LIMIT).await?;
    let n = list.len();
    fragment(&FlowColumn {
        rows: list
            .iter()
            .enumerate()
            .map(|(i, m)| MessageRow::from_view(n - i, m))
            .collect(),
        store_url: store_url(&app),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_get_a_tone() {
        assert_eq!(verdict_tone("applied"), "tone-good");
        assert_eq!(verdict_tone("ping: verified"), "tone-good");
        assert_eq!(verdict_tone("refused: bad signature"), "tone-bad");
        assert_eq!(verdict_tone("failed: the store answered 503"), "tone-bad");
        assert_eq!(verdict_tone("backordered"), "tone-warn");
        assert_eq!(verdict_tone("acknowledged: backordered"), "tone-warn");
        assert_eq!(verdict_tone("rejected"), "tone-warn");
        assert_eq!(verdict_tone("duplicate: already received"), "tone-info");
        assert_eq!(verdict_tone("empty"), "tone-muted");
        assert_eq!(
            verdict_tone("empty: 3 orders, none new for poll mode"),
            "tone-muted"
        );
    }
}
