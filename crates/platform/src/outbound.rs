//! Sending an HTTP request and keeping a faithful record of it.
//!
//! Everything one service sends the other — a webhook attempt, an
//! `/update_inventory` call, a void, a poll of the feed, an acknowledgement —
//! goes through [`send_recorded`], which returns what was actually sent
//! (method, URL, headers with credentials redacted, body) and what came back
//! (status, headers, body, latency) or the error instead. That record is
//! what the UI's message timelines show, and what the delivery log keeps for
//! every attempt. Keeping the capture in one place means every channel is
//! shown the same way and none forgets to redact a key: the request's
//! headers and body are captured through [`crate::redact`], and the answer
//! — which the caller still reads whole (a subscription needs the secret it
//! carries) — is recorded through [`Recorded::logged_response_body`].

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use reqwest::header::HeaderMap;

use crate::redact::logged_header;

/// The most of a response body read into memory. Responses the services
/// exchange are small; a misbehaving endpoint answering with megabytes must
/// not be able to exhaust the sender's memory.
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// What was sent and what (if anything) came back.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub url: String,
    /// As recorded: credentials hinted.
    pub request_headers: Vec<(String, String)>,
    /// As recorded: secrets hinted (what was sent is the request itself).
    pub request_body: String,
    pub started_at_ms: i64,
    pub latency: Duration,
    pub outcome: Outcome,
}

#[derive(Debug, Clone)]
pub enum Outcome {
    Response {
        status: u16,
        headers: Vec<(String, String)>,
        body: Bytes,
    },
    /// No HTTP response: what kind of failure, and the one-line detail a
    /// person reads ("could not connect: Connection refused").
    Failed { kind: Failure, error: String },
}

/// Why no answer came back — what a caller decides on (retry, tell the
/// customer the inventory "could not be reached"), never the error's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The request's time ran out: it may have been acted on.
    TimedOut,
    /// No connection was made (refused, unreachable, no such host): it was
    /// certainly not acted on.
    Unreachable,
    /// The answer was a redirect, which is never followed.
    RedirectRefused,
    /// The answer broke off before its body was complete.
    BrokenAnswer,
    /// Nothing left this process (a destination refused, a body that could
    /// not be rendered).
    NotSent,
    /// Anything else the transport reports.
    Other,
}

impl Failure {
    /// How it reads at the head of an error's text.
    fn words(self) -> &'static str {
        match self {
            Failure::TimedOut => "timed out",
            Failure::Unreachable => "could not connect",
            Failure::RedirectRefused => "redirect refused",
            Failure::BrokenAnswer => "broken response body",
            Failure::NotSent => "not sent",
            Failure::Other => "request failed",
        }
    }

    fn of(e: &reqwest::Error) -> Failure {
        if e.is_timeout() {
            Failure::TimedOut
        } else if e.is_connect() {
            Failure::Unreachable
        } else if e.is_redirect() {
            Failure::RedirectRefused
        } else if e.is_body() || e.is_decode() {
            Failure::BrokenAnswer
        } else {
            Failure::Other
        }
    }
}

impl Recorded {
    pub fn status(&self) -> Option<u16> {
        match &self.outcome {
            Outcome::Response { status, .. } => Some(*status),
            Outcome::Failed { .. } => None,
        }
    }

    pub fn body(&self) -> Option<&Bytes> {
        match &self.outcome {
            Outcome::Response { body, .. } => Some(body),
            Outcome::Failed { .. } => None,
        }
    }

    pub fn response_header(&self, name: &str) -> Option<&str> {
        match &self.outcome {
            Outcome::Response { headers, .. } => headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str()),
            Outcome::Failed { .. } => None,
        }
    }

    pub fn error(&self) -> Option<&str> {
        match &self.outcome {
            Outcome::Failed { error, .. } => Some(error),
            Outcome::Response { .. } => None,
        }
    }

    /// Why no answer came back, if none did.
    pub fn failure(&self) -> Option<Failure> {
        match &self.outcome {
            Outcome::Failed { kind, .. } => Some(*kind),
            Outcome::Response { .. } => None,
        }
    }

    pub fn is_success(&self) -> bool {
        self.status().is_some_and(|s| (200..300).contains(&s))
    }

    pub fn latency_ms(&self) -> i64 {
        self.latency.as_millis() as i64
    }

    /// The answer's body as a message log keeps it: secrets hinted, at
    /// most `max` bytes. (The caller reads the real one with [`Self::body`].)
    pub fn logged_response_body(&self, max: usize) -> Option<String> {
        self.body()
            .map(|body| crate::redact::for_log(&String::from_utf8_lossy(body), max))
    }
}

/// Sends `request` with `client` and records the exchange. `now_ms` is the
/// (possibly injected) clock reading when the request left.
pub async fn send_recorded(
    client: &reqwest::Client,
    request: reqwest::Request,
    now_ms: i64,
) -> Recorded {
    let method = request.method().to_string();
    let url = request.url().to_string();
    let request_headers = capture_headers(request.headers());
    let request_body = request
        .body()
        .and_then(|b| b.as_bytes())
        .map(|b| crate::redact::body(&String::from_utf8_lossy(b)).into_owned())
        .unwrap_or_default();

    let started = Instant::now();
    let outcome = match client.execute(request).await {
        Ok(mut response) => {
            let status = response.status().as_u16();
            let headers = capture_headers(response.headers());
            let mut body = BytesMut::new();
            let mut read_error = None;
            loop {
                match response.chunk().await {
                    Ok(Some(chunk)) => {
                        let room = MAX_RESPONSE_BYTES.saturating_sub(body.len());
                        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                        if room <= chunk.len() {
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        read_error = Some(e);
                        break;
                    }
                }
            }
            match read_error {
                // A response whose body broke off mid-way is not an answer.
                Some(e) => Outcome::Failed {
                    kind: Failure::of(&e),
                    error: describe(&e),
                },
                None => Outcome::Response {
                    status,
                    headers,
                    body: body.freeze(),
                },
            }
        }
        Err(e) => Outcome::Failed {
            kind: Failure::of(&e),
            error: describe(&e),
        },
    };
    Recorded {
        method,
        url,
        request_headers,
        request_body,
        started_at_ms: now_ms,
        latency: started.elapsed(),
        outcome,
    }
}

fn capture_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| logged_header(name.as_str(), value.as_bytes()))
        .collect()
}

/// A one-line, human explanation of a transport error (reqwest's Display
/// hides the interesting part in its source chain).
fn describe(e: &reqwest::Error) -> String {
    let kind = Failure::of(e).words();
    let mut detail = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {detail}")
    }
}

/// Headers as a JSON object string, for storing in a TEXT column.
pub fn headers_json(headers: &[(String, String)]) -> String {
    let map: serde_json::Map<String, serde_json::Value> = headers
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    serde_json::Value::Object(map).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_become_a_json_object() {
        let h = vec![
            ("a".to_owned(), "1".to_owned()),
            ("b".to_owned(), "x\"y".to_owned()),
        ];
        assert_eq!(headers_json(&h), r#"{"a":"1","b":"x\"y"}"#);
    }

    #[tokio::test]
    async fn a_refused_connection_is_recorded_as_a_failure() {
        // Bind then drop: the port is (almost certainly) closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let client = reqwest::Client::new();
        let request = client
            .post(format!("http://127.0.0.1:{port}/x"))
            .header("authorization", "Bearer sk_demo_1234567890")
            .body(r#"{"grace_seconds":1,"secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}"#)
            .build()
            .unwrap();
        let rec = send_recorded(&client, request, 42).await;
        assert_eq!(rec.status(), None);
        assert!(
            rec.error().unwrap().starts_with("could not connect"),
            "{:?}",
            rec.error()
        );
        assert_eq!(
            rec.request_body, r#"{"grace_seconds":1,"secret":"whse…LaSw"}"#,
            "recorded without the secret"
        );
        assert_eq!(rec.started_at_ms, 42);
        assert!(
            rec.request_headers
                .iter()
                .any(|(k, v)| k == "authorization" && v == "Bearer sk_d…7890")
        );
    }
}
