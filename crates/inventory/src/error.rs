//! Every way an inventory request can fail, and the problem each becomes.
//!
//! Problems are JSON (`application/problem+json`) unless the client asked
//! for XML (`Accept: application/xml`), in which case they are
//! `application/problem+xml`, as RFC 9457 defines — see [`respond`].

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use contract::inventory::Shortage;
use contract::signing::VerifyError;
use contract::{FieldError, Problem};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("the request is invalid")]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    BadRequest(String),
    #[error("the body could not be read: {0}")]
    MalformedBody(String),
    #[error("send the body as application/json or application/xml")]
    UnsupportedMediaType,
    #[error("a valid API key is required: send `Authorization: Bearer <key>`")]
    Unauthorized,
    #[error("{what} {id} does not exist")]
    NotFound { what: &'static str, id: String },
    #[error("not enough stock for this order; nothing was reserved")]
    OutOfStock(Vec<Shortage>),
    #[error("the store withdrew order {0}; it will not be applied")]
    Voided(String),
    #[error("this Idempotency-Key was first used with different items")]
    IdempotencyKeyReused,
    #[error("the webhook was refused: {0}")]
    Signature(VerifyError),
    #[error("chaos: the inventory is down (switched on in the chaos controls)")]
    ChaosDown,
    #[error("chaos: failing this request on purpose ({0} more to fail)")]
    ChaosFailure(u32),
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl InventoryError {
    pub fn not_found(what: &'static str, id: impl Into<String>) -> InventoryError {
        InventoryError::NotFound {
            what,
            id: id.into(),
        }
    }

    pub fn problem(&self) -> Problem {
        let detail = self.to_string();
        match self {
            InventoryError::Validation(errors) => {
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
            InventoryError::BadRequest(_) => {
                Problem::new(400, "/problems/bad-request", "Bad request").with_detail(detail)
            }
            InventoryError::MalformedBody(_) => {
                Problem::new(400, "/problems/malformed-body", "Malformed request body")
                    .with_detail(detail)
            }
            InventoryError::UnsupportedMediaType => Problem::new(
                415,
                "/problems/unsupported-media-type",
                "Unsupported media type",
            )
            .with_detail(detail),
            InventoryError::Unauthorized => {
                Problem::new(401, "/problems/unauthorized", "Unauthorized").with_detail(detail)
            }
            InventoryError::NotFound { .. } => {
                Problem::new(404, "/problems/not-found", "Not found").with_detail(detail)
            }
            InventoryError::OutOfStock(shortages) => {
                Problem::new(409, "/problems/out-of-stock", "Not enough stock")
                    .with_detail(detail)
                    .with_shortages(shortages.clone())
            }
            InventoryError::Voided(_) => {
                Problem::new(409, "/problems/order-voided", "Order withdrawn").with_detail(detail)
            }
            InventoryError::IdempotencyKeyReused => Problem::new(
                422,
                "/problems/idempotency-key-reused",
                "Idempotency-Key reused",
            )
            .with_detail(detail),
            InventoryError::Signature(e) if e.is_timestamp_problem() => Problem::new(
                400,
                "/problems/webhook-timestamp",
                "Webhook timestamp out of tolerance",
            )
            .with_detail(detail),
            InventoryError::Signature(_) => Problem::new(
                401,
                "/problems/webhook-signature",
                "Webhook signature invalid",
            )
            .with_detail(detail),
            InventoryError::ChaosDown => {
                Problem::new(503, "/problems/chaos-down", "Service unavailable").with_detail(detail)
            }
            InventoryError::ChaosFailure(_) => {
                Problem::new(500, "/problems/chaos-failure", "Internal server error")
                    .with_detail(detail)
            }
            InventoryError::Database(_) | InventoryError::Unexpected(_) => {
                Problem::new(500, "about:blank", "Internal server error")
                    .with_detail("something went wrong on our side; it has been logged")
            }
        }
    }
}

impl ResponseError for InventoryError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.problem().status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        Reply::problem(self, false).into_response()
    }
}

/// Whether the client asked for XML answers (`Accept: application/xml`
/// ahead of, or instead of, JSON).
pub fn wants_xml(req: &HttpRequest) -> bool {
    let Some(accept) = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    for part in accept.split(',') {
        let media = part.split(';').next().unwrap_or("").trim();
        if contract::xml::is_xml_media_type(media) {
            return true;
        }
        if media == "application/json" || media.ends_with("+json") {
            return false;
        }
    }
    false
}

/// A response whose body is still readable, so the integration endpoints
/// can log exactly what they answered before sending it.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub content_type: &'static str,
    pub body: String,
    pub headers: Vec<(&'static str, &'static str)>,
}

impl Reply {
    /// `value` as JSON, or as XML under `root` when `xml` is asked for.
    pub fn negotiated<T: Serialize>(status: StatusCode, xml: bool, root: &str, value: &T) -> Reply {
        let rendered = if xml {
            contract::xml::to_string(root, value)
                .map(|b| (contract::xml::CONTENT_TYPE, b))
                .map_err(|e| e.to_string())
        } else {
            serde_json::to_string(value)
                .map(|b| ("application/json", b))
                .map_err(|e| e.to_string())
        };
        match rendered {
            Ok((content_type, body)) => Reply {
                status,
                content_type,
                body,
                headers: Vec::new(),
            },
            Err(e) => Reply::problem(&InventoryError::Unexpected(anyhow::anyhow!(e)), false),
        }
    }

    /// An error as problem+json, or problem+xml when `xml` is asked for.
    pub fn problem(err: &InventoryError, xml: bool) -> Reply {
        match err {
            InventoryError::Database(e) => tracing::error!(error = %e, "database error"),
            InventoryError::Unexpected(e) => tracing::error!(error = ?e, "unexpected error"),
            _ => {}
        }
        let problem = err.problem();
        let (content_type, body) = if xml {
            (
                "application/problem+xml",
                contract::xml::to_string("problem", &problem).unwrap_or_default(),
            )
        } else {
            (
                contract::problem::CONTENT_TYPE,
                serde_json::to_string(&problem).unwrap_or_default(),
            )
        };
        let mut headers = Vec::new();
        match err {
            InventoryError::Unauthorized => headers.push(("www-authenticate", "Bearer")),
            InventoryError::ChaosDown => headers.push(("retry-after", "5")),
            _ => {}
        }
        Reply {
            status: StatusCode::from_u16(problem.status)
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            content_type,
            body,
            headers,
        }
    }

    pub fn with_header(mut self, name: &'static str, value: &'static str) -> Reply {
        self.headers.push((name, value));
        self
    }

    pub fn into_response(self) -> HttpResponse {
        let mut builder = HttpResponse::build(self.status);
        builder.content_type(self.content_type);
        for (name, value) in self.headers {
            builder.insert_header((name, value));
        }
        builder.body(self.body)
    }
}
