//! The failures every API of both services shares, and the problem+json
//! each one becomes — written once.
//!
//! Each service has its own error enum (`store::error::StoreError`,
//! `inventory::error::InventoryError`) for what only it can say — an
//! idempotency key still in flight, stock that ran out, a webhook whose
//! signature did not verify — and wraps [`ApiError`] for the rest, so the
//! wording and status of "not found" or "unauthorized" cannot drift apart
//! between the two (the realworld-axum-sqlx `http/error.rs` style: handlers
//! return `Result<_, Error>`, and the mapping to HTTP lives in one place).
//!
//! Internal failures (database, unexpected) are logged with their cause and
//! answered with a generic 500: a database's error message is for the
//! operator, not the client.

use contract::{FieldError, Problem};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Fields that did not parse, each with what is allowed.
    #[error("the request is invalid")]
    Validation(Vec<FieldError>),

    #[error("{0}")]
    BadRequest(String),

    #[error("the body could not be read: {0}")]
    MalformedBody(String),

    #[error("{0}")]
    UnsupportedMediaType(String),

    #[error("{what} {id} does not exist")]
    NotFound { what: &'static str, id: String },

    #[error("a valid API key is required: send `Authorization: Bearer <key>`")]
    Unauthorized,

    #[error("{0}")]
    Conflict(String),

    #[error(
        "this Idempotency-Key was first used for a different request; use a new key for a new one"
    )]
    IdempotencyKeyReused,

    #[error("database error")]
    Database(#[from] sqlx::Error),

    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl ApiError {
    pub fn not_found(what: &'static str, id: impl Into<String>) -> ApiError {
        ApiError::NotFound {
            what,
            id: id.into(),
        }
    }

    /// One invalid field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }

    pub fn problem(&self) -> Problem {
        let detail = self.to_string();
        match self {
            ApiError::Validation(errors) => {
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
            ApiError::BadRequest(_) => {
                Problem::new(400, "/problems/bad-request", "Bad request").with_detail(detail)
            }
            ApiError::MalformedBody(_) => {
                Problem::new(400, "/problems/malformed-body", "Malformed request body")
                    .with_detail(detail)
            }
            ApiError::UnsupportedMediaType(_) => Problem::new(
                415,
                "/problems/unsupported-media-type",
                "Unsupported media type",
            )
            .with_detail(detail),
            ApiError::NotFound { .. } => {
                Problem::new(404, "/problems/not-found", "Not found").with_detail(detail)
            }
            ApiError::Unauthorized => {
                Problem::new(401, "/problems/unauthorized", "Unauthorized").with_detail(detail)
            }
            ApiError::Conflict(_) => {
                Problem::new(409, "/problems/conflict", "Conflict").with_detail(detail)
            }
            ApiError::IdempotencyKeyReused => Problem::new(
                422,
                "/problems/idempotency-key-reused",
                "Idempotency-Key reused",
            )
            .with_detail(detail),
            ApiError::Database(_) | ApiError::Unexpected(_) => {
                Problem::new(500, "about:blank", "Internal server error")
                    .with_detail("something went wrong on our side; it has been logged")
            }
        }
    }

    /// Headers the answer must carry besides the problem body.
    pub fn headers(&self) -> &'static [(&'static str, &'static str)] {
        match self {
            ApiError::Unauthorized => &[("www-authenticate", "Bearer")],
            _ => &[],
        }
    }

    /// Logs an internal failure with its cause (once, where it is answered).
    pub fn log(&self) {
        match self {
            ApiError::Database(e) => tracing::error!(error = %e, "database error"),
            ApiError::Unexpected(e) => tracing::error!(error = ?e, "unexpected error"),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_failure_has_its_status_and_type() {
        let cases = [
            (
                ApiError::invalid("items", "needs one"),
                422,
                "/problems/validation",
            ),
            (
                ApiError::BadRequest("x".into()),
                400,
                "/problems/bad-request",
            ),
            (
                ApiError::not_found("order", "ord_1"),
                404,
                "/problems/not-found",
            ),
            (ApiError::Unauthorized, 401, "/problems/unauthorized"),
            (ApiError::Conflict("x".into()), 409, "/problems/conflict"),
            (
                ApiError::IdempotencyKeyReused,
                422,
                "/problems/idempotency-key-reused",
            ),
            (
                ApiError::Database(sqlx::Error::PoolClosed),
                500,
                "about:blank",
            ),
        ];
        for (error, status, kind) in cases {
            let p = error.problem();
            assert_eq!(
                (p.status, p.problem_type.as_str()),
                (status, kind),
                "{error:?}"
            );
        }
    }

    #[test]
    fn internal_details_stay_inside() {
        let p = ApiError::Database(sqlx::Error::Protocol("secret table x".into())).problem();
        assert!(!p.detail.unwrap_or_default().contains("secret"));
        assert_eq!(
            ApiError::Unauthorized.headers(),
            &[("www-authenticate", "Bearer")]
        );
    }
}
