//! What the integration endpoints answer, kept readable until it is sent.
//!
//! The seed's second data format lives here: a client that sends
//! `Accept: application/xml` gets XML back — answers and problems alike
//! (`application/problem+xml`, as RFC 9457 defines) — everyone else JSON.
//! A [`Reply`] is a response whose body is still a string, so an endpoint
//! can write exactly what it answered into the message log before sending
//! it. An [`InventoryError`] a handler returns is sent the same way (as
//! JSON: its [`ResponseError`] is here, beside the one writer of problems).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;

use contract::Format;

use crate::error::InventoryError;

/// The format a client asked its answers in: XML when `Accept` names an
/// XML type ahead of (or instead of) JSON, JSON otherwise.
pub fn answer_format(req: &HttpRequest) -> Format {
    let Some(accept) = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
    else {
        return Format::Json;
    };
    for part in accept.split(',') {
        let media = part.split(';').next().unwrap_or("").trim();
        if contract::xml::is_xml_media_type(media) {
            return Format::Xml;
        }
        if media == "application/json" || media.ends_with("+json") {
            return Format::Json;
        }
    }
    Format::Json
}

/// The format of a request's body, by its `Content-Type` (JSON when there
/// is none); `None` for a type that is neither.
pub fn body_format(req: &HttpRequest) -> Option<Format> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or(Format::Json.content_type());
    if contract::xml::is_xml_media_type(content_type) {
        Some(Format::Xml)
    } else if content_type.starts_with(Format::Json.content_type())
        || content_type.ends_with("+json")
    {
        Some(Format::Json)
    } else {
        None
    }
}

/// Reads a body in the given format; the error says what was wrong with it.
pub fn read_body<T: serde::de::DeserializeOwned>(format: Format, body: &[u8]) -> Result<T, String> {
    match format {
        Format::Xml => contract::xml::from_slice(body).map_err(|e| e.to_string()),
        // An object, `2.0` read as 2: as the OpenAPI document describes it.
        Format::Json => platform::http::read_json_object(body),
    }
}

/// A response whose body is still readable.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub content_type: &'static str,
    pub body: String,
    pub headers: Vec<(&'static str, &'static str)>,
}

impl Reply {
    /// `value` in `format` (XML under the root element `root`).
    pub fn negotiated<T: Serialize>(
        status: StatusCode,
        format: Format,
        root: &str,
        value: &T,
    ) -> Reply {
        let rendered = match format {
            Format::Xml => contract::xml::to_string(root, value).map_err(|e| e.to_string()),
            Format::Json => serde_json::to_string(value).map_err(|e| e.to_string()),
        };
        match rendered {
            Ok(body) => Reply {
                status,
                content_type: format.content_type(),
                body,
                headers: Vec::new(),
            },
            Err(e) => Reply::problem(&anyhow::anyhow!(e).into(), Format::Json),
        }
    }

    /// An error as problem+json, or problem+xml.
    pub fn problem(err: &InventoryError, format: Format) -> Reply {
        err.log();
        let problem = err.problem();
        let (content_type, body) = match format {
            Format::Xml => (
                "application/problem+xml",
                contract::xml::to_string("problem", &problem).unwrap_or_default(),
            ),
            Format::Json => (
                contract::problem::CONTENT_TYPE,
                serde_json::to_string(&problem).unwrap_or_default(),
            ),
        };
        Reply {
            status: StatusCode::from_u16(problem.status)
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            content_type,
            body,
            headers: err.headers().to_vec(),
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

impl ResponseError for InventoryError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.problem().status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        Reply::problem(self, Format::Json).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn answers_follow_accept() {
        let format = |accept: &str| {
            answer_format(
                &TestRequest::default()
                    .insert_header(("accept", accept))
                    .to_http_request(),
            )
        };
        assert_eq!(format("application/xml"), Format::Xml);
        assert_eq!(format("application/json, application/xml"), Format::Json);
        assert_eq!(format("text/html;q=0.9, application/xml"), Format::Xml);
        assert_eq!(format("*/*"), Format::Json);
        assert_eq!(
            answer_format(&TestRequest::default().to_http_request()),
            Format::Json
        );
    }

    #[test]
    fn bodies_are_read_by_their_content_type() {
        let format = |ct: &str| {
            body_format(
                &TestRequest::default()
                    .insert_header(("content-type", ct))
                    .to_http_request(),
            )
        };
        assert_eq!(format("application/xml"), Some(Format::Xml));
        assert_eq!(
            format("application/json; charset=utf-8"),
            Some(Format::Json)
        );
        assert_eq!(format("application/vnd.x+json"), Some(Format::Json));
        assert_eq!(format("text/plain"), None);
        assert_eq!(
            body_format(&TestRequest::default().to_http_request()),
            Some(Format::Json)
        );
    }

    #[test]
    fn problems_come_in_the_asked_format_with_their_headers() {
        let xml = Reply::problem(&InventoryError::ChaosDown, Format::Xml);
        assert_eq!(xml.content_type, "application/problem+xml");
        assert!(xml.body.contains("<status>503</status>"), "{}", xml.body);
        assert_eq!(xml.headers, vec![("retry-after", "5")]);
        let json = Reply::problem(&platform::ApiError::Unauthorized.into(), Format::Json);
        assert_eq!(json.status, StatusCode::UNAUTHORIZED);
        assert_eq!(json.content_type, "application/problem+json");
        assert_eq!(json.headers, vec![("www-authenticate", "Bearer")]);
    }
}
