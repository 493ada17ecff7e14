//! Who may change things.
//!
//! Two rules, for both services:
//!
//! 1. **No cross-site writes.** A page on another web site must not be able
//!    to make a visitor's browser press this demo's buttons — switch the
//!    mode, delete an endpoint, turn on "down" — by posting a hidden form
//!    here (cross-site request forgery). Browsers say where a request comes
//!    from (`Sec-Fetch-Site`, `Origin`), so [`refuse_cross_site`] refuses a
//!    state-changing request (`POST`, `PUT`, `PATCH`, `DELETE`) that a
//!    browser sent from anywhere but this service or its peer: `403`, as a
//!    problem for programs and a readable page for people. Requests with
//!    neither header come from programs (curl, the other service) and pass:
//!    forgery needs a browser. The road not taken: a token in every form.
//!    It works in old browsers too, but needs state per visitor, and every
//!    browser this demo supports sends `Sec-Fetch-Site`.
//! 2. **The operator, when there is one.** With `ADMIN_TOKEN` set, the
//!    management API (mode switch, endpoints, deliveries, chaos, keys,
//!    poller, restock) and the pages that change things want it: as
//!    `Authorization: Bearer <token>` from a program, or — asked for once on
//!    `/login` — from an `HttpOnly`, `SameSite=Strict` cookie in a browser.
//!    A handler asks for the operator by taking an [`Operator`] argument
//!    *first*, so an unauthenticated request is refused before its body is
//!    parsed. Without `ADMIN_TOKEN` (the local demo) everyone is the
//!    operator, and the compose file publishes the ports on loopback only.
//!
//! This module is the check and its refusals: `403`/`401` as a problem for
//! programs, as a page in the shared chrome for people. The sign-in pages
//! that set the cookie are [`login`]'s.

use std::future::{Ready, ready};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use contract::Problem;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::http::problem_response;
use crate::ui::chrome::{ErrorPage, Layout, NavItem, Service};
use crate::ui::response::{is_machine_path, see_other};

pub mod login;

/// The cookie that carries the operator's session in a browser.
pub const SESSION_COOKIE: &str = "pushpull_operator";

/// What the guard needs to know about the service it guards.
#[derive(Clone)]
pub struct Guard {
    /// Origins (`scheme://host:port`) whose pages may post here: this
    /// service's public URL and its peer's.
    allowed_origins: Vec<Origin>,
    admin_token: Option<SecretString>,
    /// For the pages it draws: whose they are, and where the peer lives.
    service: Service,
    nav: &'static [NavItem],
    peer_url: String,
}

impl Guard {
    /// `public_url` and `peer_public_url`: how browsers reach this service
    /// and its peer (pages of both may post here).
    pub fn new(
        service: Service,
        nav: &'static [NavItem],
        public_url: &str,
        peer_public_url: &str,
        admin_token: Option<SecretString>,
    ) -> Guard {
        Guard {
            allowed_origins: [public_url, peer_public_url]
                .iter()
                .filter_map(|u| Origin::parse(u))
                .collect(),
            admin_token: admin_token.filter(|t| !t.expose_secret().is_empty()),
            service,
            nav,
            peer_url: peer_public_url.trim_end_matches('/').to_owned(),
        }
    }

    fn layout(&self, req: &HttpRequest, title: &str) -> Layout {
        Layout::new(self.service, self.nav, &self.peer_url, title, req.path()).for_request(req)
    }

    /// A page for a person: the shared error page with this heading.
    fn page(
        &self,
        req: &HttpRequest,
        status: StatusCode,
        heading: &str,
        detail: &str,
    ) -> HttpResponse {
        ErrorPage {
            layout: self.layout(req, heading),
            status: status.as_u16(),
            heading: heading.to_owned(),
            detail: detail.to_owned(),
        }
        .respond(&self.peer_url)
    }

    /// Whether an operator token is configured.
    fn has_operator(&self) -> bool {
        self.admin_token.is_some()
    }

    /// Whether a request sent by a browser comes from an allowed page.
    fn allows(&self, req: &HttpRequest) -> Result<(), &'static str> {
        let header_text = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
        let origin = header_text("origin");
        let fetch_site = header_text("sec-fetch-site");
        let origin_allowed = || {
            origin
                .and_then(Origin::parse)
                .is_some_and(|o| self.allowed_origins.iter().any(|a| a.same_as(&o)))
        };
        match fetch_site {
            // Typed into the address bar, or a page of this very origin.
            Some("same-origin" | "none") => Ok(()),
            // Another port of this host (the peer service): only the peer.
            Some("same-site") if origin_allowed() => Ok(()),
            Some("same-site" | "cross-site") => Err("a page of another site"),
            // An older browser says only `Origin`; a program says neither.
            _ => match origin {
                None => Ok(()),
                Some(_) if origin_allowed() => Ok(()),
                Some(_) => Err("a page of another origin"),
            },
        }
    }

    /// Whether the request carries the operator's token (bearer or cookie).
    fn is_operator(&self, req: &HttpRequest) -> bool {
        let Some(token) = &self.admin_token else {
            return true;
        };
        let expected_session = session_value(token);
        let bearer = crate::http::bearer_token(req)
            .is_some_and(|t| equal(t.as_bytes(), token.expose_secret().as_bytes()));
        let cookie = cookie(req, SESSION_COOKIE)
            .is_some_and(|v| equal(v.as_bytes(), expected_session.as_bytes()));
        bearer || cookie
    }

    fn refuse(
        &self,
        req: &HttpRequest,
        status: StatusCode,
        title: &str,
        detail: &str,
    ) -> HttpResponse {
        if is_machine_path(req.path()) {
            let kind = match status {
                StatusCode::FORBIDDEN => "/problems/cross-site-request",
                _ => "/problems/operator-required",
            };
            let mut response =
                problem_response(&Problem::new(status.as_u16(), kind, title).with_detail(detail));
            if status == StatusCode::UNAUTHORIZED {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Bearer"),
                );
            }
            response
        } else {
            self.page(req, status, title, detail)
        }
    }
}

/// `scheme://host:port`, with the loopback names treated as one host (a
/// person may open `localhost` where the configuration says `127.0.0.1`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    fn parse(text: &str) -> Option<Origin> {
        let url = url::Url::parse(text.trim()).ok()?;
        let host = match url.host_str()? {
            "localhost" | "127.0.0.1" | "[::1]" | "::1" => "loopback".to_owned(),
            other => other.to_ascii_lowercase(),
        };
        Some(Origin {
            scheme: url.scheme().to_owned(),
            port: url.port_or_known_default()?,
            host,
        })
    }

    fn same_as(&self, other: &Origin) -> bool {
        self == other
    }
}

fn is_state_changing(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The middleware: `from_fn(guard::refuse_cross_site)`, with the service's
/// [`Guard`] in the app data.
pub async fn refuse_cross_site(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if is_state_changing(req.method())
        && let Some(guard) = req.app_data::<web::Data<Guard>>()
        && let Err(from) = guard.allows(req.request())
    {
        tracing::warn!(path = %req.path(), from, "cross-site request refused");
        let response = guard.refuse(
            req.request(),
            StatusCode::FORBIDDEN,
            "Cross-site request refused",
            &format!(
                "This request was sent by {from}. Changes are accepted only from this \
                 service's own pages (and its peer's); open the page here and try again."
            ),
        );
        return Ok(req.into_response(response));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// Whether `req` comes from the operator (always, without a token), for a
/// handler that accepts the operator *or* someone else and must tell them
/// apart after its extractor ran.
pub fn is_operator(req: &HttpRequest) -> bool {
    req.app_data::<web::Data<Guard>>()
        .is_none_or(|guard| guard.is_operator(req))
}

/// For the page chrome: `None` when the service has no operator token (or
/// no guard), else whether `req` comes from the signed-in operator.
fn operator_status(req: &HttpRequest) -> Option<bool> {
    let guard = req.app_data::<web::Data<Guard>>()?;
    guard.has_operator().then(|| guard.is_operator(req))
}

/// The chrome asks the guard whether this browser is signed in. The method
/// is written here, beside what it asks, rather than with the rest of
/// [`Layout`] in `ui::chrome`: so the chrome knows nothing of the guard,
/// and the guard can draw its refusals in the chrome — one direction,
/// guard → ui. (An inherent method may be written in any module of the
/// crate that defines its type; callers see no difference.)
impl Layout {
    /// The chrome of a page answering `req`: offers to sign in, or out,
    /// when the service has an operator token.
    pub fn for_request(mut self, req: &HttpRequest) -> Layout {
        self.operator = operator_status(req);
        self
    }
}

/// Proof that the request comes from the operator. Take it as a handler's
/// first argument.
#[derive(Debug, Clone, Copy)]
pub struct Operator;

impl FromRequest for Operator {
    type Error = actix_web::Error;
    type Future = Ready<Result<Operator, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(guard) = req.app_data::<web::Data<Guard>>() else {
            return ready(Ok(Operator));
        };
        if guard.is_operator(req) {
            return ready(Ok(Operator));
        }
        let response = if is_machine_path(req.path()) || *req.method() != Method::GET {
            guard.refuse(
                req,
                StatusCode::UNAUTHORIZED,
                "Operator token required",
                "This demo was started with ADMIN_TOKEN: send it as `Authorization: Bearer \
                 <token>`, or sign in on /login.",
            )
        } else {
            let next =
                url::form_urlencoded::byte_serialize(req.path().as_bytes()).collect::<String>();
            see_other(&format!("/login?next={next}"))
        };
        ready(Err(actix_web::error::InternalError::from_response(
            "operator required",
            response,
        )
        .into()))
    }
}

/// What the session cookie holds: a MAC of the token, not the token — a
/// copied cookie opens this demo until the token changes, but never reveals
/// the token itself.
fn session_value(token: &SecretString) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(token.expose_secret().as_bytes())
        .expect("HMAC takes any key length");
    mac.update(b"pushpull operator session v1");
    hex::encode(mac.finalize().into_bytes())
}

fn equal(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

fn cookie<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use actix_web::middleware::from_fn;
    use actix_web::{App, test};

    use super::*;

    async fn protected(_: Operator) -> HttpResponse {
        HttpResponse::Ok().body("changed")
    }

    const NAV: &[NavItem] = &[];

    macro_rules! app {
        ($token:expr) => {{
            let token: Option<&str> = $token;
            let guard = Guard::new(
                Service::Store,
                NAV,
                "http://127.0.0.1:8080",
                "http://127.0.0.1:8081",
                token.map(|t| SecretString::from(t.to_owned())),
            );
            test::init_service(
                App::new()
                    .app_data(web::Data::new(guard))
                    .wrap(from_fn(refuse_cross_site))
                    .configure(login::routes)
                    .route("/api/mode", web::put().to(protected))
                    .route("/settings", web::post().to(protected))
                    .route("/settings", web::get().to(protected)),
            )
            .await
        }};
    }

    #[actix_web::test]
    async fn cross_site_writes_are_refused_and_same_site_peers_and_programs_pass() {
        let app = app!(None);
        let cases: &[(&[(&str, &str)], u16)] = &[
            (
                &[
                    ("sec-fetch-site", "cross-site"),
                    ("origin", "https://evil.example"),
                ],
                403,
            ),
            (&[("origin", "https://evil.example")], 403),
            (&[("origin", "null")], 403),
            (
                &[
                    ("sec-fetch-site", "same-site"),
                    ("origin", "http://127.0.0.1:3000"),
                ],
                403,
            ),
            (
                &[
                    ("sec-fetch-site", "same-origin"),
                    ("origin", "http://127.0.0.1:8080"),
                ],
                200,
            ),
            (
                &[
                    ("sec-fetch-site", "same-site"),
                    ("origin", "http://127.0.0.1:8081"),
                ],
                200,
            ),
            (
                &[
                    ("sec-fetch-site", "same-site"),
                    ("origin", "http://localhost:8081"),
                ],
                200,
            ),
            (&[("origin", "http://localhost:8080")], 200),
            (&[], 200),
        ];
        for (headers, status) in cases {
            for path in ["/api/mode", "/settings"] {
                let method = if path == "/api/mode" {
                    Method::PUT
                } else {
                    Method::POST
                };
                let mut req = test::TestRequest::default().method(method).uri(path);
                for h in *headers {
                    req = req.insert_header(*h);
                }
                let res = test::call_service(&app, req.to_request()).await;
                assert_eq!(res.status().as_u16(), *status, "{path} {headers:?}");
                if *status == 403 {
                    let ct = res
                        .headers()
                        .get("content-type")
                        .unwrap()
                        .to_str()
                        .unwrap()
                        .to_owned();
                    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
                    if path.starts_with("/api/") {
                        assert!(ct.starts_with("application/problem+json"), "{ct}");
                        assert!(body.contains("/problems/cross-site-request"), "{body}");
                    } else {
                        assert!(ct.starts_with("text/html"), "{ct}");
                        assert!(body.contains("Cross-site request refused"), "{body}");
                    }
                }
            }
        }
        // Reading is never refused: a link from anywhere may open a page.
        let res = test::call_service(
            &app,
            test::TestRequest::get()
                .uri("/settings")
                .insert_header(("sec-fetch-site", "cross-site"))
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), 200);
    }

    #[actix_web::test]
    async fn with_a_token_the_operator_is_asked_for_before_anything_else() {
        let app = app!(Some("s3cret-operator-token"));
        // A program without the token: 401 problem; with it: through.
        let res =
            test::call_service(&app, test::TestRequest::put().uri("/api/mode").to_request()).await;
        assert_eq!(res.status(), 401);
        assert_eq!(res.headers().get("www-authenticate").unwrap(), "Bearer");
        let res = test::call_service(
            &app,
            test::TestRequest::put()
                .uri("/api/mode")
                .insert_header(("authorization", "Bearer wrong"))
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), 401);
        let res = test::call_service(
            &app,
            test::TestRequest::put()
                .uri("/api/mode")
                .insert_header(("authorization", "Bearer s3cret-operator-token"))
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), 200);

        // A person: sent to /login, signs in once, then the cookie serves.
        let res =
            test::call_service(&app, test::TestRequest::get().uri("/settings").to_request()).await;
        assert_eq!(res.status(), 303);
        assert_eq!(
            res.headers().get("location").unwrap(),
            "/login?next=%2Fsettings"
        );
        let res = test::call_service(
            &app,
            test::TestRequest::post()
                .uri("/login")
                .set_form([("token", "nope"), ("next", "/settings")])
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), 401);
        let res = test::call_service(
            &app,
            test::TestRequest::post()
                .uri("/login")
                .set_form([
                    ("token", "s3cret-operator-token"),
                    ("next", "https://evil.example/"),
                ])
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), 303);
        assert_eq!(
            res.headers().get("location").unwrap(),
            "/",
            "no open redirect"
        );
        let set_cookie = res
            .headers()
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"),
            "{set_cookie}"
        );
        assert!(
            !set_cookie.contains("s3cret"),
            "the cookie is not the token: {set_cookie}"
        );
        let session = set_cookie.split(';').next().unwrap().to_owned();
        let res = test::call_service(
            &app,
            test::TestRequest::post()
                .uri("/settings")
                .insert_header(("cookie", session.as_str()))
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), 200);
    }
}
