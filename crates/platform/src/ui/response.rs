//! How a page, a fragment or a static file goes out: the headers each
//! needs, and which paths are for programs rather than people.
//!
//! Every page carries a Content-Security-Policy that lets it load scripts,
//! styles and images from its own origin only and talk to exactly one
//! other: its peer's (see the module note of [`crate::ui`]). Fragments are
//! readable from the peer's pages; pages are never cached; the stylesheet
//! and the script are cached for good under a versioned URL.

use std::sync::OnceLock;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

/// The stylesheet, the same bytes in both services.
pub const APP_CSS: &str = include_str!("../../../../templates/static/app.css");
/// The live-update script.
pub const APP_JS: &str = include_str!("../../../../templates/static/app.js");

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
fn content_security_policy(peer_url: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
