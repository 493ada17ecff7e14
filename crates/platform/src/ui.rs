//! What the two web UIs share: the page chrome (a [`Layout`] every page
//! template receives), the response helpers that put the right headers on
//! a page, a fragment or a static file, and the small formatting functions
//! the templates need (money, times, latencies, pretty-printed bodies).
//!
//! The UIs are server-rendered: each service renders its own pages with
//! askama (`store::ui`, `inventory::ui`; the templates are in `templates/`)
//! and one hand-written script, `templates/static/app.js`, keeps marked
//! regions of a page up to date from the service's `GET /events` stream by
//! re-fetching their server-rendered fragments. Nothing is loaded from
//! another site and there is no front-end build: both files are compiled
//! into the binaries with `include_str!`.
//!
//! Two services serve one UI, so a page often talks to both origins: the
//! store's flow page listens to the inventory's events and fetches its
//! fragments, the store's settings page posts the poller form to the
//! inventory. That is why fragments carry `Access-Control-Allow-Origin: *`
//! (they are read-only and show nothing the events do not) and why the
//! Content-Security-Policy of a page names exactly one other origin: its
//! peer's.

use std::sync::OnceLock;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

/// The stylesheet, the same bytes in both services.
pub const APP_CSS: &str = include_str!("../../../templates/static/app.css");
/// The live-update script.
pub const APP_JS: &str = include_str!("../../../templates/static/app.js");

/// Which service is rendering the page (and so which one is the peer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Store,
    Inventory,
}

impl Service {
    pub fn as_str(self) -> &'static str {
        match self {
            Service::Store => "store",
            Service::Inventory => "inventory",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Service::Store => "Store",
            Service::Inventory => "Inventory",
        }
    }

    pub fn peer(self) -> Service {
        match self {
            Service::Store => Service::Inventory,
            Service::Inventory => Service::Store,
        }
    }
}

/// One entry of a service's main navigation.
#[derive(Debug, Clone, Copy)]
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
}

/// A one-line message at the top of a page ("Mode switched to api.").
/// Pages that redirect after a form pass a fixed key in the query string
/// (`?notice=mode`), never the text itself, so nobody can make a page say
/// something by crafting a link.
#[derive(Debug, Clone)]
pub struct Notice {
    /// `success`, `info`, `warning` or `error` (a CSS class).
    pub tone: &'static str,
    pub text: String,
}

impl Notice {
    pub fn success(text: impl Into<String>) -> Notice {
        Notice {
            tone: "success",
            text: text.into(),
        }
    }

    pub fn info(text: impl Into<String>) -> Notice {
        Notice {
            tone: "info",
            text: text.into(),
        }
    }

    pub fn warning(text: impl Into<String>) -> Notice {
        Notice {
            tone: "warning",
            text: text.into(),
        }
    }

    pub fn error(text: impl Into<String>) -> Notice {
        Notice {
            tone: "error",
            text: text.into(),
        }
    }
}

/// What `templates/shared/base.html` needs to draw the chrome around a
/// page: whose page it is, its title, where it sits in the navigation and
/// where the other service lives.
#[derive(Debug, Clone)]
pub struct Layout {
    pub service: Service,
    pub title: String,
    /// The request path, to mark the current navigation entry.
    pub path: String,
    pub nav: &'static [NavItem],
    /// The other service's address as a browser reaches it, without a
    /// trailing slash.
    pub peer_url: String,
    pub notice: Option<Notice>,
    /// The chrome's operator link: `None` when no `ADMIN_TOKEN` is set
    /// (nothing to sign in to), else whether this browser is signed in.
    pub operator: Option<bool>,
}

impl Layout {
    pub fn new(
        service: Service,
        nav: &'static [NavItem],
        peer_url: &str,
        title: impl Into<String>,
        path: &str,
    ) -> Layout {
        Layout {
            service,
            title: title.into(),
            path: path.to_owned(),
            nav,
            peer_url: peer_url.trim_end_matches('/').to_owned(),
            notice: None,
            operator: None,
        }
    }

    /// The chrome of a page answering `req`: offers to sign in, or out,
    /// when the service has an operator token (`crate::guard`).
    pub fn for_request(mut self, req: &HttpRequest) -> Layout {
        self.operator = crate::guard::operator_status(req);
        self
    }

    /// Where the sign-in link brings a person back to: this page.
    pub fn login_href(&self) -> String {
        let here = url::form_urlencoded::byte_serialize(self.path.as_bytes()).collect::<String>();
        format!("/login?next={here}")
    }

    pub fn with_notice(mut self, notice: Option<Notice>) -> Layout {
        self.notice = notice;
        self
    }

    /// Whether `href` is the section the page belongs to (`/orders/ord_1`
    /// belongs to `/orders`; only `/` itself belongs to `/`).
    pub fn is_current(&self, href: &str) -> bool {
        if href == "/" {
            self.path == "/"
        } else {
            self.path == href || self.path.starts_with(&format!("{href}/"))
        }
    }

    pub fn asset_version(&self) -> &'static str {
        asset_version()
    }

    /// A page of the other service, as a full URL.
    pub fn peer(&self, path: &str) -> String {
        format!("{}{path}", self.peer_url)
    }
}

/// A short digest of the stylesheet and the script: pages link to
/// `/static/app.css?v=…`, so a new build is fetched at once while an
/// unchanged one is cached for good.
pub fn asset_version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let mut h = Sha256::new();
        h.update(APP_CSS.as_bytes());
        h.update([0]);
        h.update(APP_JS.as_bytes());
        h.finalize()
            .iter()
            .take(6)
            .map(|b| format!("{b:02x}"))
            .collect()
    })
}

/// The origin (`scheme://host:port`) of a URL, for the CSP.
fn origin(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    match parsed.origin() {
        url::Origin::Tuple(..) => Some(parsed.origin().ascii_serialization()),
        url::Origin::Opaque(_) => None,
    }
}

/// The Content-Security-Policy of every page: scripts, styles and images
/// from this origin only (so even a bug that let markup through could not
/// run a script), and the peer service as the one other place the page may
/// fetch from, listen to, or post a form to.
pub fn content_security_policy(peer_url: &str) -> String {
    let peer = origin(peer_url)
        .map(|o| format!(" {o}"))
        .unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'{peer}; form-action 'self'{peer}; frame-ancestors 'none'; \
         base-uri 'none'; object-src 'none'"
    )
}

/// A rendered page. Pages are never cached: they show live state, and
/// some show a secret exactly once.
pub fn page_response(status: StatusCode, html: String, peer_url: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            content_security_policy(peer_url),
        ))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .body(html)
}

/// A server-rendered piece of a page, fetched by `app.js` when an event
/// says it changed. Readable from the peer's pages (see the module note).
pub fn fragment_response(html: String) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(html)
}

/// "Post/redirect/get": after a form did its work, send the browser to
/// a page it can reload without repeating the action.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// `GET /static/{name}`: the stylesheet and the script. With the current
/// `?v=` they are cached for a year (the URL changes when they do);
/// without it, revalidated by ETag.
pub async fn static_asset(req: HttpRequest) -> HttpResponse {
    let name = req.match_info().get("name").unwrap_or("");
    let (body, content_type) = match name {
        "app.css" => (APP_CSS, "text/css; charset=utf-8"),
        "app.js" => (APP_JS, "text/javascript; charset=utf-8"),
        _ => return crate::http::not_found_problem(&req),
    };
    let etag = format!("\"{}\"", asset_version());
    let versioned = req
        .query_string()
        .split('&')
        .any(|pair| pair == format!("v={}", asset_version()));
    let cache = if versioned {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=0, must-revalidate"
    };
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut response = if matches {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::ETAG, etag))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if matches {
        response.finish()
    } else {
        response
            .insert_header((header::CONTENT_TYPE, content_type))
            .body(body)
    }
}

/// Paths meant for programs, not people: their 404 stays problem+json.
/// Everything else is a page address, and a mistyped one deserves a page.
pub fn is_machine_path(path: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "/api/",
        "/fragments/",
        "/static/",
        "/webhooks/",
        "/update_inventory",
    ];
    const EXACT: &[&str] = &[
        "/api",
        "/events",
        "/metrics",
        "/healthz",
        "/fragments",
        "/static",
    ];
    EXACT.contains(&path) || PREFIXES.iter().any(|p| path.starts_with(p))
}

/// Integer cents as money: `1250` → `€12.50`.
pub fn money(cents: i64) -> String {
    let sign = if cents < 0 { "−" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}€{}.{:02}", abs / 100, abs % 100)
}

/// A count and its noun, agreeing: `1 order`, `3 orders`, `0 orders`.
/// (Regular plurals only, which is every noun these pages count.)
pub fn count(n: i64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A name with each number bound to its unit by a no-break space, so
/// "Sencha green tea, 100 g" wraps at its other spaces and never leaves a
/// lone "g" on a line. Display only: the name itself is unchanged.
pub fn keep_units_together(name: &str) -> String {
    const UNITS: &[&str] = &["g", "kg", "mg", "ml", "cl", "l", "oz", "lb", "cm", "mm"];
    let mut out = String::with_capacity(name.len() + 2);
    let mut after_number = false;
    for (i, word) in name.split(' ').enumerate() {
        if i > 0 {
            let bare = word
                .trim_end_matches([',', '.', ';', ')'])
                .to_ascii_lowercase();
            out.push(if after_number && UNITS.contains(&bare.as_str()) {
                '\u{a0}'
            } else {
                ' '
            });
        }
        out.push_str(word);
        after_number = word.ends_with(|c: char| c.is_ascii_digit());
    }
    out
}

/// `HH:MM:SS` (UTC) of a unix-millisecond time.
pub fn clock_time(ms: i64) -> String {
    let text = contract::Timestamp(ms).to_rfc3339();
    text.get(11..19).unwrap_or(&text).to_owned()
}

/// `YYYY-MM-DD HH:MM:SS UTC`.
pub fn date_time(ms: i64) -> String {
    let text = contract::Timestamp(ms).to_rfc3339();
    match (text.get(0..10), text.get(11..19)) {
        (Some(date), Some(time)) => format!("{date} {time} UTC"),
        _ => text,
    }
}

/// A duration for people: `850 ms`, `1.2 s`, `2 min 05 s`.
pub fn duration_ms(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else if ms < 3_600_000 {
        format!("{} min {:02} s", ms / 60_000, (ms % 60_000) / 1000)
    } else {
        format!("{} h {:02} min", ms / 3_600_000, (ms % 3_600_000) / 60_000)
    }
}

/// A message body made readable: JSON and XML indented, anything else as
/// it came. The text is re-indented, never re-serialised, so keys keep
/// their order and values their exact spelling — it is still the body
/// that was signed, only with line breaks.
pub fn pretty_body(body: &str) -> String {
    let trimmed = body.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        if serde_json::from_str::<serde::de::IgnoredAny>(body).is_ok() {
            return indent_json(body);
        }
    } else if trimmed.starts_with('<')
        && let Some(pretty) = indent_xml(body)
    {
        return pretty;
    }
    body.to_owned()
}

/// Re-indents valid JSON text, two spaces per level.
fn indent_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = text.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.extend(std::iter::repeat_n("  ", depth));
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                // Keep empty containers on one line: `{}`, `[]`.
                while chars.peek().is_some_and(|n| n.is_whitespace()) {
                    chars.next();
                }
                if matches!(chars.peek(), Some('}' | ']')) {
                    out.push(chars.next().unwrap_or(' '));
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

/// Re-indents well-formed XML; `None` if it does not parse.
fn indent_xml(text: &str) -> Option<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut writer = quick_xml::Writer::new_with_indent(Vec::new(), b' ', 2);
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(event) => writer.write_event(event).ok()?,
            Err(_) => return None,
        }
    }
    String::from_utf8(writer.into_inner()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_agree_with_their_nouns() {
        assert_eq!(count(1, "order"), "1 order");
        assert_eq!(count(0, "order"), "0 orders");
        assert_eq!(count(138, "poll"), "138 polls");
        assert_eq!(count(2, "void attempt"), "2 void attempts");
    }

    #[test]
    fn numbers_keep_their_units() {
        assert_eq!(
            keep_units_together("Sencha green tea, 100 g"),
            "Sencha green tea, 100\u{a0}g"
        );
        assert_eq!(
            keep_units_together("Gooseneck kettle, 1 l"),
            "Gooseneck kettle, 1\u{a0}l"
        );
        assert_eq!(
            keep_units_together("Kyusu teapot, 350 ml, boxed"),
            "Kyusu teapot, 350\u{a0}ml, boxed"
        );
        // Only a number's unit: other words, and words after words, wrap.
        assert_eq!(
            keep_units_together("Blue stoneware mug"),
            "Blue stoneware mug"
        );
        assert_eq!(keep_units_together("Size g"), "Size g");
        assert_eq!(keep_units_together("2 mugs"), "2 mugs");
    }

    #[test]
    fn json_is_indented_without_reordering() {
        let body = r#"{"type":"order.created","data":{"id":"ord_1","items":[{"sku":"A-1","quantity":2}],"note":"a, {b}: \"c\""},"empty":[]}"#;
        let pretty = pretty_body(body);
        assert_eq!(
            pretty,
            "{\n  \"type\": \"order.created\",\n  \"data\": {\n    \"id\": \"ord_1\",\n    \"items\": [\n      {\n        \"sku\": \"A-1\",\n        \"quantity\": 2\n      }\n    ],\n    \"note\": \"a, {b}: \\\"c\\\"\"\n  },\n  \"empty\": []\n}"
        );
        // Same data, same order.
        let a: serde_json::Value = serde_json::from_str(body).unwrap();
        let b: serde_json::Value = serde_json::from_str(&pretty).unwrap();
        assert_eq!(a, b);
        assert!(pretty.find("\"type\"").unwrap() < pretty.find("\"data\"").unwrap());
    }

    #[test]
    fn xml_is_indented_and_other_text_left_alone() {
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<event><type>order.created</type><data><id>ord_1</id></data></event>";
        assert_eq!(
            pretty_body(xml),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<event>\n  <type>order.created</type>\n  <data>\n    <id>ord_1</id>\n  </data>\n</event>"
        );
        assert_eq!(pretty_body("plain text"), "plain text");
        assert_eq!(pretty_body("{not json"), "{not json");
        assert_eq!(pretty_body("<a><b></a>"), "<a><b></a>");
    }

    #[test]
    fn formatting_for_people() {
        assert_eq!(money(1250), "€12.50");
        assert_eq!(money(5), "€0.05");
        assert_eq!(money(-199), "−€1.99");
        assert_eq!(duration_ms(850), "850 ms");
        assert_eq!(duration_ms(1234), "1.2 s");
        assert_eq!(duration_ms(125_000), "2 min 05 s");
        assert_eq!(clock_time(1_700_000_000_123), "22:13:20");
        assert_eq!(date_time(1_700_000_000_123), "2023-11-14 22:13:20 UTC");
    }

    #[test]
    fn machine_paths_are_recognised() {
        for p in [
            "/api/orders",
            "/api",
            "/events",
            "/metrics",
            "/healthz",
            "/fragments/stock",
            "/static/x.css",
            "/update_inventory/x",
            "/webhooks/store",
        ] {
            assert!(is_machine_path(p), "{p}");
        }
        for p in ["/", "/orders", "/nope", "/apix", "/settings/x"] {
            assert!(!is_machine_path(p), "{p}");
        }
    }

    #[test]
    fn the_csp_names_the_peer_origin_only() {
        let csp = content_security_policy("http://127.0.0.1:8081/some/path");
        assert!(
            csp.contains("connect-src 'self' http://127.0.0.1:8081;"),
            "{csp}"
        );
        assert!(
            csp.contains("form-action 'self' http://127.0.0.1:8081;"),
            "{csp}"
        );
        assert!(csp.contains("script-src 'self';"));
        assert!(!content_security_policy("not a url").contains("connect-src 'self' "));
    }

    #[test]
    fn the_current_section_is_marked() {
        const NAV: &[NavItem] = &[
            NavItem {
                href: "/",
                label: "Shop",
            },
            NavItem {
                href: "/orders",
                label: "Orders",
            },
        ];
        let layout = Layout::new(Service::Store, NAV, "http://x:1/", "t", "/orders/ord_1");
        assert!(layout.is_current("/orders"));
        assert!(!layout.is_current("/"));
        assert!(!layout.is_current("/order"));
        assert_eq!(layout.peer("/chaos"), "http://x:1/chaos");
    }
}

/// A header as the message views show it; the ones that authenticate a
/// message or make it safe to repeat are highlighted.
pub struct HeaderRow {
    pub name: String,
    pub value: String,
    pub highlight: bool,
}

/// The headers a learner should notice.
const NOTABLE_HEADERS: &[&str] = &[
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "authorization",
    "idempotency-key",
];

/// Rows for a logged header object (`{"name": "value", …}`).
pub fn header_rows(headers: &serde_json::Value) -> Vec<HeaderRow> {
    headers
        .as_object()
        .map(|map| {
            map.iter()
                .map(|(name, value)| HeaderRow {
                    highlight: NOTABLE_HEADERS.contains(&name.to_ascii_lowercase().as_str()),
                    name: name.clone(),
                    value: value
                        .as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| value.to_string()),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// What a service's own error type tells its pages: how a failed page
/// request looks to a person rather than to a program (which gets
/// problem+json from the same error).
///
/// A service's error enum says only whose chrome its page wears, its
/// problem, and the shared failure it wraps (if it is one); the rest
/// follows from those, the same for both services.
pub trait PageProblem: std::fmt::Debug + std::fmt::Display + 'static {
    /// Whose chrome the error page wears.
    const SERVICE: Service;
    const NAV: &'static [NavItem];
    /// The problem+json this error is for a program.
    fn problem(&self) -> contract::Problem;
    /// The failure every API shares, when this is one.
    fn shared(&self) -> Option<&crate::ApiError>;

    fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.problem().status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// What a person may be told about a client error.
    fn detail(&self) -> String {
        self.problem().detail.unwrap_or_else(|| self.to_string())
    }

    /// `Some("There is no order ord_….")` when the error is a missing thing.
    fn missing(&self) -> Option<String> {
        match self.shared()? {
            crate::ApiError::NotFound { what, id } => Some(format!("There is no {what} {id}.")),
            _ => None,
        }
    }
}

/// Every way a page can fail, as a page.
#[derive(Debug)]
pub enum PageError<E> {
    NotFound(String),
    Service(E),
    Render(askama::Error),
}

impl<E: PageProblem> From<E> for PageError<E> {
    fn from(e: E) -> Self {
        match e.missing() {
            Some(what) => PageError::NotFound(what),
            None => PageError::Service(e),
        }
    }
}

impl<E: PageProblem + From<sqlx::Error>> From<sqlx::Error> for PageError<E> {
    fn from(e: sqlx::Error) -> Self {
        PageError::Service(E::from(e))
    }
}

impl<E> From<askama::Error> for PageError<E> {
    fn from(e: askama::Error) -> Self {
        PageError::Render(e)
    }
}

impl<E: PageProblem> std::fmt::Display for PageError<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PageError::NotFound(what) => write!(f, "{what}"),
            PageError::Service(e) => write!(f, "{e}"),
            PageError::Render(e) => write!(f, "rendering failed: {e}"),
        }
    }
}

impl<E: PageProblem> actix_web::ResponseError for PageError<E> {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::NotFound(_) => StatusCode::NOT_FOUND,
            PageError::Service(e) => e.status(),
            PageError::Render(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let service = E::SERVICE.as_str();
        let (heading, detail) = match self {
            PageError::NotFound(what) => ("Not found".to_owned(), what.clone()),
            PageError::Service(e) if status.is_client_error() => {
                ("That did not work".to_owned(), e.detail())
            }
            PageError::Service(e) => {
                // Logged with its cause; the page says only that it happened.
                tracing::error!(error = ?e, service, "a page failed");
                (
                    "Something went wrong".to_owned(),
                    format!("The {service} could not show this page. The error has been logged."),
                )
            }
            PageError::Render(e) => {
                tracing::error!(error = %e, service, "a template failed to render");
                (
                    "Something went wrong".to_owned(),
                    format!("The {service} could not draw this page. The error has been logged."),
                )
            }
        };
        // `ResponseError` has no request at hand, so the page leaves out
        // the link to the other service rather than guess its address.
        ErrorPage {
            layout: Layout::new(E::SERVICE, E::NAV, "", heading.clone(), ""),
            status: status.as_u16(),
            heading,
            detail,
        }
        .respond("")
    }
}

/// The page every error becomes (`templates/shared/error.html`).
#[derive(askama::Template)]
#[template(path = "shared/error.html")]
pub struct ErrorPage {
    pub layout: Layout,
    pub status: u16,
    pub heading: String,
    pub detail: String,
}

impl ErrorPage {
    pub fn respond(self, peer: &str) -> HttpResponse {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        match askama::Template::render(&self) {
            Ok(html) => page_response(status, html, peer),
            Err(_) => {
                HttpResponse::build(status).body(status.canonical_reason().unwrap_or("Error"))
            }
        }
    }
}

/// The 404 page for an address that is not a page of `E`'s service.
pub fn not_found_page<E: PageProblem>(
    req: &HttpRequest,
    peer: &str,
    detail: String,
) -> HttpResponse {
    ErrorPage {
        layout: Layout::new(E::SERVICE, E::NAV, peer, "Page not found", req.path())
            .for_request(req),
        status: 404,
        heading: "There is no such page".into(),
        detail,
    }
    .respond(peer)
}
