//! Every way a store request can fail, and the problem+json each becomes.
//!
//! Handlers return `Result<_, StoreError>`; the mapping to status, problem
//! type and wording is here and only here (the realworld-axum-sqlx style).
//! Internal failures are logged with their cause and answered with a
//! generic 500 — a database error message is for the operator, not the
//! client.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use contract::{FieldError, Problem};
use platform::http::problem_response;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the request is invalid")]
    Validation(Vec<FieldError>),

    #[error("{0}")]
    BadRequest(String),

    #[error("{what} {id} does not exist")]
    NotFound { what: &'static str, id: String },

    #[error("this Idempotency-Key was used for a different request")]
    IdempotencyKeyReused,

    #[error("a request with this Idempotency-Key is still being processed")]
    IdempotencyKeyInFlight,

    #[error("a valid API key is required: send `Authorization: Bearer <key>`")]
    Unauthorized,

    #[error("{0}")]
    Conflict(String),

    #[error("database error")]
    Database(#[from] sqlx::Error),

    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl StoreError {
    pub fn not_found(what: &'static str, id: impl Into<String>) -> StoreError {
        StoreError::NotFound {
            what,
            id: id.into(),
        }
    }

    pub fn problem(&self) -> Problem {
        match self {
            StoreError::Validation(errors) => {
                Problem::new(422, "/problems/validation", "The request is invalid")
                    .with_detail(
                        errors
                            .iter()
                            .map(|e| format!("{}: {}", e.field, e.message))
                            .collect::<Vec<_>>()
                            .join("; "),
                    )
                    .with_errors(errors.clone())
            }
            StoreError::BadRequest(detail) => {
                Problem::new(400, "/problems/bad-request", "Bad request").with_detail(detail)
            }
            StoreError::NotFound { .. } => {
                Problem::new(404, "/problems/not-found", "Not found").with_detail(self.to_string())
            }
            StoreError::IdempotencyKeyReused => Problem::new(
                422,
                "/problems/idempotency-key-reused",
                "Idempotency-Key reused",
            )
            .with_detail(
                "this Idempotency-Key was first used for a different order; \
                 use a new key for a new order",
            ),
            StoreError::IdempotencyKeyInFlight => Problem::new(
                409,
                "/problems/idempotency-key-in-flight",
                "Request still in progress",
            )
            .with_detail(
                "the first request with this Idempotency-Key has not finished; retry shortly",
            ),
            StoreError::Unauthorized => Problem::new(401, "/problems/unauthorized", "Unauthorized")
                .with_detail(self.to_string()),
            StoreError::Conflict(detail) => {
                Problem::new(409, "/problems/conflict", "Conflict").with_detail(detail)
            }
            StoreError::Database(_) | StoreError::Unexpected(_) => {
                Problem::new(500, "about:blank", "Internal server error")
                    .with_detail("something went wrong on our side; it has been logged")
            }
        }
    }
}

impl ResponseError for StoreError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.problem().status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            StoreError::Database(e) => tracing::error!(error = %e, "database error"),
            StoreError::Unexpected(e) => tracing::error!(error = ?e, "unexpected error"),
            _ => {}
        }
        let mut response = problem_response(&self.problem());
        if matches!(self, StoreError::Unauthorized) {
            response.headers_mut().insert(
                actix_web::http::header::WWW_AUTHENTICATE,
                actix_web::http::header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}
