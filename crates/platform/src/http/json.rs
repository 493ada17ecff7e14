//! [`Json`]: a JSON request body, read the way the services' OpenAPI
//! documents describe it.
//!
//! `actix_web::web::Json<T>` hands the body straight to serde, and serde
//! is more lenient than the documents in one way and stricter in another
//! (schemathesis found both):
//!
//! * **An object is an object.** serde's derived `Deserialize` also reads
//!   a struct from a JSON *array* of its fields in order, so
//!   `PUT /api/poller` with `[null, null]` changed nothing and answered
//!   `200`. A body documented as an object must be one: anything else is a
//!   `400`.
//! * **`2.0` is the number 2.** JSON has one number type, and JSON Schema
//!   counts any number without a fractional part as an `integer`; serde
//!   refuses `2.0` for an `i64`. A whole number written with a `.0` is
//!   read as the integer it is; `2.5` is still no integer.
//! * **A member is named once.** Read into a `Value`, `{"mode": "api",
//!   "mode": "poll"}` is whichever came last — and another reader of the
//!   same bytes may take the first. Every body is read through
//!   [`contract::json::Strict`], which refuses an object that repeats a
//!   member name, at any depth (`400`). This is the one JSON reading of
//!   both services: the extractors here and [`read_json_object`] (for the
//!   handlers that read raw bytes first) all go through it.
//!
//! Everything else — the size limit, the content type, malformed JSON —
//! is `web::Json`'s, with the problem answers of [`super::json_config`].

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;
use serde_json::{Number, Value};

use super::problem_response;
use contract::Problem;
use contract::json::Strict;

/// A JSON object body, deserialized into `T` (see the module comment).
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Json<T>, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Json::<Strict>::from_request(req, payload);
        Box::pin(async move {
            let Strict(value) = body.await?.into_inner();
            from_value(value).map(Json).map_err(|detail| {
                let problem = Problem::new(400, "/problems/malformed-body", "Malformed JSON body")
                    .with_detail(detail);
                actix_web::error::InternalError::from_response(
                    "malformed JSON body",
                    problem_response(&problem),
                )
                .into()
            })
        })
    }
}

/// A JSON body that may be left out: no body at all (or JSON `null`) is
/// `None`; a body that is sent must be a valid [`Json`] one (a malformed
/// body is a `400`, never silently the same as none).
#[derive(Debug)]
pub struct OptionalJson<T>(pub Option<T>);

impl<T: DeserializeOwned + 'static> FromRequest for OptionalJson<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<OptionalJson<T>, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let headers = req.headers();
        let chunked = headers.contains_key(actix_web::http::header::TRANSFER_ENCODING);
        let length = headers
            .get(actix_web::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if !chunked && matches!(length, None | Some(0)) {
            return Box::pin(async { Ok(OptionalJson(None)) });
        }
        let body = Json::<Option<T>>::from_request(req, payload);
        Box::pin(async move { Ok(OptionalJson(body.await?.into_inner())) })
    }
}

/// A JSON body read by the handler itself, as [`Json`] would read it —
/// for a handler that must authenticate its caller before it looks at the
/// body (it takes the body as `web::Bytes`, checks the key, then calls
/// this): the content type must be JSON (`415` otherwise), the body a
/// JSON object for `T` (`400`).
pub fn json_body<T: DeserializeOwned>(
    req: &HttpRequest,
    bytes: &[u8],
) -> Result<T, crate::ApiError> {
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence != "application/json" && !essence.ends_with("+json") {
        return Err(crate::ApiError::UnsupportedMediaType(
            "send the body as `Content-Type: application/json`".into(),
        ));
    }
    read_json_object(bytes).map_err(crate::ApiError::MalformedBody)
}

/// Reads raw JSON bytes (a body read as bytes, to verify or log them
/// first) as [`Json`] reads a body: an object, each member once, whole
/// numbers as integers.
pub fn read_json_object<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let value = contract::json::value_from_slice(bytes).map_err(|e| e.to_string())?;
    from_value(value)
}

/// Reads an object body into `T`, whole numbers as integers.
fn from_value<T: DeserializeOwned>(mut value: Value) -> Result<T, String> {
    let readable = value.is_object() || (value.is_null() && accepts_null::<T>());
    if !readable {
        return Err(format!(
            "the body must be a JSON object, not {}",
            kind(&value)
        ));
    }
    whole_numbers_as_integers(&mut value);
    serde_json::from_value(value)
        .map_err(|e| format!("the body is not valid JSON for this request: {e}"))
}

/// Whether `T` is an `Option` (the one case where a `null` body is read).
fn accepts_null<T: DeserializeOwned>() -> bool {
    serde_json::from_value::<T>(Value::Null).is_ok()
}

/// Rewrites every number without a fractional part (`2.0`, `-1e3`) as an
/// integer, where an `i64` or `u64` holds it exactly.
fn whole_numbers_as_integers(value: &mut Value) {
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() <= 9.0e15) {
                *n = Number::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers_as_integers),
        Value::Object(members) => members.values_mut().for_each(whole_numbers_as_integers),
        _ => {}
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "true or false",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Poller {
        paused: Option<bool>,
        interval_ms: Option<i64>,
    }

    #[test]
    fn a_struct_is_read_from_an_object_only() {
        assert_eq!(
            from_value::<Poller>(json!({"paused": true})).unwrap(),
            Poller {
                paused: Some(true),
                interval_ms: None
            }
        );
        // serde alone would read this as `{paused: null, interval_ms: null}`.
        assert!(serde_json::from_value::<Poller>(json!([null, null])).is_ok());
        let refused = from_value::<Poller>(json!([null, null])).unwrap_err();
        assert!(
            refused.contains("must be a JSON object, not a list"),
            "{refused}"
        );
        assert!(from_value::<Poller>(json!("x")).is_err());
    }

    #[test]
    fn raw_bytes_are_read_with_each_member_once() {
        let read: Poller = read_json_object(br#"{"paused": true, "interval_ms": 250.0}"#).unwrap();
        assert_eq!(read.interval_ms, Some(250));
        let refused =
            read_json_object::<Poller>(br#"{"paused": true, "paused": false}"#).unwrap_err();
        assert!(
            refused.contains(r#""paused" appears twice at the top level"#),
            "{refused}"
        );
        let refused = read_json_object::<Poller>(b"{\"paused\": true").unwrap_err();
        assert!(refused.starts_with("invalid JSON"), "{refused}");
    }

    #[test]
    fn whole_numbers_are_integers_wherever_they_are() {
        let read: Poller = from_value(json!({"interval_ms": 250.0})).unwrap();
        assert_eq!(read.interval_ms, Some(250));
        assert!(from_value::<Poller>(json!({"interval_ms": 250.5})).is_err());
        let mut nested = json!({"items": [{"quantity": 2.0}, {"quantity": 1.5}], "n": -3e2});
        whole_numbers_as_integers(&mut nested);
        assert_eq!(
            nested,
            json!({"items": [{"quantity": 2}, {"quantity": 1.5}], "n": -300})
        );
    }
}
