//! How a person becomes the operator in a browser: `GET /login` asks for
//! the token once, `POST /login` checks it and sets the session cookie
//! ([`super::SESSION_COOKIE`], a MAC of the token, never the token),
//! `POST /logout` clears it.
//!
//! A program never comes here: it sends the token itself, as
//! `Authorization: Bearer <token>`, on every request. The pages are the
//! guard's own (a child module: they read the guard's token and write the
//! cookie its check reads), drawn in the shared chrome.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::ExposeSecret;

use super::{Guard, SESSION_COOKIE, equal, session_value};
use crate::ui::chrome::Layout;
use crate::ui::response::{page_response, see_other};

/// `GET /login`, `POST /login` and `POST /logout`: how a person becomes
/// the operator in a browser.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/login").get(login_page).post(login))
        .service(web::resource("/logout").post(logout));
}

#[derive(serde::Deserialize)]
struct LoginForm {
    token: String,
    #[serde(default)]
    next: String,
}

#[derive(serde::Deserialize)]
struct NextQuery {
    #[serde(default)]
    next: String,
}

/// Only a path of this service: never an absolute URL (no open redirect).
fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/"
    }
}

async fn login_page(req: HttpRequest, query: web::Query<NextQuery>) -> HttpResponse {
    login_form(&req, StatusCode::OK, safe_next(&query.next), None)
}

/// `templates/shared/login.html`.
#[derive(askama::Template)]
#[template(path = "shared/login.html")]
struct LoginPage {
    layout: Layout,
    /// Whether there is a token to ask for at all.
    has_operator: bool,
    next: String,
    error: Option<String>,
}

fn login_form(
    req: &HttpRequest,
    status: StatusCode,
    next: &str,
    error: Option<&str>,
) -> HttpResponse {
    let Some(guard) = req.app_data::<web::Data<Guard>>() else {
        return see_other("/");
    };
    let page = LoginPage {
        layout: guard.layout(req, "Sign in as the operator"),
        has_operator: guard.has_operator(),
        next: next.to_owned(),
        error: error.map(str::to_owned),
    };
    match askama::Template::render(&page) {
        Ok(html) => page_response(status, html, &guard.peer_url),
        Err(e) => {
            tracing::error!(error = %e, "the sign-in page failed to render");
            guard.page(
                req,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "The sign-in page could not be drawn.",
            )
        }
    }
}

async fn login(req: HttpRequest, form: web::Form<LoginForm>) -> HttpResponse {
    let Some(guard) = req.app_data::<web::Data<Guard>>() else {
        return see_other("/");
    };
    let next = safe_next(&form.next);
    let Some(token) = &guard.admin_token else {
        return see_other(next);
    };
    if !equal(
        form.token.trim().as_bytes(),
        token.expose_secret().as_bytes(),
    ) {
        tracing::warn!("a sign-in with a wrong operator token");
        return login_form(
            &req,
            StatusCode::UNAUTHORIZED,
            next,
            Some("That is not the token this demo was started with."),
        );
    }
    let mut response = see_other(next);
    response.headers_mut().insert(
        header::SET_COOKIE,
        header::HeaderValue::from_str(&format!(
            "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict",
            session_value(token)
        ))
        .expect("a cookie of hex digits"),
    );
    response
}

async fn logout() -> HttpResponse {
    let mut response = see_other("/");
    response.headers_mut().insert(
        header::SET_COOKIE,
        header::HeaderValue::from_static(
            "pushpull_operator=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    response
}
