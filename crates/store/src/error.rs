//! Every way a store request can fail, and the problem+json each becomes.
//!
//! Handlers return `Result<_, StoreError>`. The failures both services
//! share — invalid fields, not found, unauthorized, a reused
//! `Idempotency-Key`, a database error — are [`platform::ApiError`], whose
//! status, problem type and wording are written once for both; this enum
//! wraps it and adds only what the store alone can say. Internal failures
//! are logged with their cause and answered with a generic 500 — a
//! database error message is for the operator, not the client.

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use contract::{FieldError, Problem};
use platform::ApiError;
use platform::http::problem_response;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Api(#[from] ApiError),

    /// A second request with an `Idempotency-Key` whose first request has
    /// not answered yet (an api-mode order still waiting for the inventory).
    #[error("a request with this Idempotency-Key is still being processed")]
    IdempotencyKeyInFlight,

    /// A redelivery asked of a delivery whose endpoint is deleted: there is
    /// nowhere to send it, so nothing is queued.
    #[error(
        "this delivery's endpoint was deleted, so there is nowhere to send it; nothing was queued. \
         Add an endpoint with that URL again: an order still pending is delivered to it"
    )]
    EndpointDeleted,
}

impl StoreError {
    pub fn not_found(what: &'static str, id: impl Into<String>) -> StoreError {
        ApiError::not_found(what, id).into()
    }

    pub fn bad_request(detail: impl Into<String>) -> StoreError {
        ApiError::BadRequest(detail.into()).into()
    }

    pub fn conflict(detail: impl Into<String>) -> StoreError {
        ApiError::Conflict(detail.into()).into()
    }

    pub fn validation(errors: Vec<FieldError>) -> StoreError {
        ApiError::Validation(errors).into()
    }

    /// One invalid field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> StoreError {
        ApiError::invalid(field, message).into()
    }

    pub fn problem(&self) -> Problem {
        match self {
            StoreError::Api(e) => e.problem(),
            StoreError::IdempotencyKeyInFlight => Problem::new(
                409,
                "/problems/idempotency-key-in-flight",
                "Request still in progress",
            )
            .with_detail(
                "the first request with this Idempotency-Key has not finished; retry shortly",
            ),
            StoreError::EndpointDeleted => {
                Problem::new(409, "/problems/endpoint-deleted", "Endpoint deleted")
                    .with_detail(self.to_string())
            }
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        StoreError::Api(ApiError::Database(e))
    }
}

impl From<anyhow::Error> for StoreError {
    fn from(e: anyhow::Error) -> StoreError {
        StoreError::Api(ApiError::Unexpected(e))
    }
}

impl ResponseError for StoreError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.problem().status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = problem_response(&self.problem());
        if let StoreError::Api(e) = self {
            e.log();
            for (name, value) in e.headers() {
                response.headers_mut().insert(
                    HeaderName::from_static(name),
                    HeaderValue::from_static(value),
                );
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_adds_only_its_own_failures_to_the_shared_ones() {
        let in_flight = StoreError::IdempotencyKeyInFlight.problem();
        assert_eq!(
            (in_flight.status, in_flight.problem_type.as_str()),
            (409, "/problems/idempotency-key-in-flight")
        );
        let unauthorized = StoreError::from(ApiError::Unauthorized).error_response();
        assert_eq!(unauthorized.status(), 401);
        assert_eq!(
            unauthorized.headers().get("www-authenticate").unwrap(),
            "Bearer"
        );
        let internal = StoreError::from(sqlx::Error::PoolClosed).problem();
        assert_eq!(internal.status, 500);
    }
}
