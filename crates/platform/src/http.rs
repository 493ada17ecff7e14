//! HTTP plumbing both services share: problem+json responses, extractor
//! configuration that turns bad input into a clear problem, a safety net
//! that rewrites any error response the framework itself produced, body size
//! limits, bearer-token extraction and API-key hashing; and [`Json`], a
//! JSON body read as the OpenAPI documents describe it.
//!
//! The principle: a client of either API never has to parse an HTML or
//! plain-text error page. Each service maps its own error enum to a
//! [`Problem`] (see `store::error` and `inventory::error`); what the framework
//! rejects before a handler runs — malformed JSON, an oversized body, a bad
//! path segment, an unknown route — is mapped here.

use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::{StatusCode, header};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{HttpRequest, HttpResponse, web};
use contract::problem::{CONTENT_TYPE as PROBLEM_CONTENT_TYPE, Problem};
use sha2::{Digest, Sha256};

mod json;
pub use json::{Json, OptionalJson, json_body, read_json_object};

/// The largest request body either service accepts (64 KiB). An order of
/// twenty lines is well under 2 KiB; anything near this is a mistake or an
/// attack, and refusing it early bounds the memory one request can take.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Renders a problem as `application/problem+json` with its status.
pub fn problem_response(problem: &Problem) -> HttpResponse {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, PROBLEM_CONTENT_TYPE))
        .body(serde_json::to_string(problem).unwrap_or_default())
}

/// A problem carrying only an HTTP status and a sentence.
fn status_problem(status: StatusCode, detail: impl Into<String>) -> Problem {
    Problem::new(
        status.as_u16(),
        "about:blank",
        status.canonical_reason().unwrap_or("Error"),
    )
    .with_detail(detail)
}

/// `web::Json` configuration: the body limit, and every way a JSON body
/// can be wrong turned into a problem that says which.
pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(MAX_BODY_BYTES)
        .error_handler(|err, _req| {
            let problem = match &err {
                JsonPayloadError::OverflowKnownLength { length, limit } => {
                    Problem::new(413, "/problems/body-too-large", "Request body too large")
                        .with_detail(format!(
                            "the body is {length} bytes; this API accepts at most {limit}"
                        ))
                }
                JsonPayloadError::Overflow { limit } => {
                    Problem::new(413, "/problems/body-too-large", "Request body too large")
                        .with_detail(format!("this API accepts at most {limit} bytes"))
                }
                JsonPayloadError::ContentType => Problem::new(
                    415,
                    "/problems/unsupported-media-type",
                    "Unsupported media type",
                )
                .with_detail("send the body as `Content-Type: application/json`"),
                JsonPayloadError::Deserialize(e) => {
                    Problem::new(400, "/problems/malformed-body", "Malformed JSON body")
                        .with_detail(format!("the body is not valid JSON for this request: {e}"))
                }
                other => Problem::new(400, "/problems/malformed-body", "Unreadable request body")
                    .with_detail(other.to_string()),
            };
            actix_web::error::InternalError::from_response(err, problem_response(&problem)).into()
        })
}

/// `web::Bytes` / `String` extractors: the same limit for raw bodies (the
/// webhook receiver and `/update_inventory` read raw bytes).
pub fn payload_config() -> web::PayloadConfig {
    web::PayloadConfig::new(MAX_BODY_BYTES)
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err: QueryPayloadError, _req| {
        let problem = Problem::new(400, "/problems/bad-query", "Invalid query string")
            .with_detail(err.to_string());
        actix_web::error::InternalError::from_response(err, problem_response(&problem)).into()
    })
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err: PathError, _req| {
        let problem = Problem::new(400, "/problems/bad-path", "Invalid path parameter")
            .with_detail(err.to_string());
        actix_web::error::InternalError::from_response(err, problem_response(&problem)).into()
    })
}

pub fn form_config() -> web::FormConfig {
    web::FormConfig::default().limit(MAX_BODY_BYTES)
}

/// The safety net: any error response that is not already problem+json or
/// an HTML page (the UI renders its own) is rewritten into a problem with
/// the same status. This catches what actix produces on its own, such as a
/// `405 Method Not Allowed` or an oversized raw body.
pub fn problem_errors<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(|res: ServiceResponse<B>| {
        let content_type = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        // Already a problem (JSON or XML), or a page of the UI: leave it.
        let keep = content_type.starts_with(PROBLEM_CONTENT_TYPE)
            || content_type.starts_with("text/html")
            || content_type.contains("xml");
        if keep {
            return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
        }
        let status = res.status();
        let detail = res
            .response()
            .error()
            .map(|e| e.to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_lowercase());
        let mut problem = status_problem(status, detail);
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            problem.problem_type = "/problems/body-too-large".into();
            problem.detail = Some(format!(
                "this API accepts bodies of at most {MAX_BODY_BYTES} bytes"
            ));
        }
        let mut response = problem_response(&problem);
        // Keep headers that tell the client what to do next.
        for name in [header::RETRY_AFTER, header::ALLOW, header::WWW_AUTHENTICATE] {
            if let Some(v) = res.headers().get(&name) {
                response.headers_mut().insert(name.clone(), v.clone());
            }
        }
        let (req, _) = res.into_parts();
        Ok(ErrorHandlerResponse::Response(
            ServiceResponse::new(req, response).map_into_right_body(),
        ))
    })
}

/// The 404 for a route that does not exist.
pub fn not_found_problem(req: &HttpRequest) -> HttpResponse {
    problem_response(
        &Problem::new(404, "/problems/not-found", "Not found").with_detail(format!(
            "there is no {} {} here",
            req.method(),
            req.path()
        )),
    )
}

/// The token of an `Authorization: Bearer <token>` header, if any.
pub fn bearer_token(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then(|| token.trim())
}

/// How API keys are stored: the hex SHA-256 of the key.
///
/// A key is a long random string, not a password a person chose, so a fast
/// hash is enough (nobody can brute-force 2^128 guesses); what the hash buys
/// is that a leaked database does not leak usable keys. Lookup is by hash,
/// so no secret is ever compared byte-by-byte in application code.
pub fn hash_api_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn bearer_tokens_are_extracted() {
        let req = TestRequest::default()
            .insert_header((header::AUTHORIZATION, "Bearer sk_abc"))
            .to_http_request();
        assert_eq!(bearer_token(&req), Some("sk_abc"));
        let req = TestRequest::default()
            .insert_header((header::AUTHORIZATION, "Basic dXNlcg=="))
            .to_http_request();
        assert_eq!(bearer_token(&req), None);
        let req = TestRequest::default().to_http_request();
        assert_eq!(bearer_token(&req), None);
    }

    #[test]
    fn keys_hash_stably() {
        assert_eq!(hash_api_key("abc").len(), 64);
        assert_eq!(hash_api_key("abc"), hash_api_key("abc"));
        assert_ne!(hash_api_key("abc"), hash_api_key("abd"));
    }
}
