//! A service's failure, as a page: how an error that a program receives
//! as problem+json looks to a person who asked for a page.
//!
//! Each service's error enum implements [`PageProblem`] — whose chrome its
//! page wears, its problem, the shared failure it wraps — and its page
//! handlers return `Result<_, PageError<TheirError>>`; the rest (the
//! status, the heading, what a person may be told, what is only logged)
//! follows here, the same for both.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};

use super::chrome::{ErrorPage, Layout, NavItem, Service};

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
