//! The page chrome: what `templates/shared/base.html` draws around every
//! page of both services — whose page it is ([`Service`]), the navigation
//! ([`NavItem`]), a one-line [`Notice`], the operator's sign-in link, the
//! way to the peer service, the repository files that do what the page
//! shows — given as one [`Layout`]; and [`ErrorPage`], the page every
//! failure becomes, in that chrome.
//!
//! Only what is drawn: the headers a page goes out with are
//! [`super::response`]'s, the numbers and times on it [`super::format`]'s.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;

use super::response::{asset_version, page_response};

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
///
/// A page answering a request takes its operator link from
/// [`Layout::for_request`], which asks the guard whether this browser is
/// signed in — written beside the guard (`crate::guard`), so that the
/// chrome knows nothing of it.
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
    /// The repository files that do what the page shows, from the
    /// repository's root, drawn under it as "How this works in the code".
    /// Each page module names its own (a `SOURCES` constant beside its
    /// handler), so the list sits next to the code it points into; the
    /// services' UI tests fetch every page and check that each path
    /// exists. Shown as text, not links: the repository is not hosted
    /// anywhere the page could point to.
    pub sources: &'static [&'static str],
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
            sources: &[],
        }
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

    pub fn with_sources(mut self, sources: &'static [&'static str]) -> Layout {
        self.sources = sources;
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

#[cfg(test)]
mod tests {
    use super::*;

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
