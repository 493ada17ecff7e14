//! Bounds on what one request may cost the server: how many bytes of
//! headers it may send, and how long it may take to send its body.
//!
//! A server that waits politely for every byte it was promised can be held
//! open by anyone: send `Content-Length: 1000` and then 10 bytes, and a
//! connection (and the task reading it) is tied up for as long as the
//! client likes — the "slowloris" family of attacks. The HTTP framework
//! already bounds the time to receive a request's *head*
//! (`client_request_timeout`); this middleware bounds the *body*: it must
//! arrive within [`Limits::body_timeout`], or the answer is `408 Request
//! Timeout` and the connection is closed. Likewise the framework accepts up
//! to 128 KiB of headers; nothing these services do needs more than a few
//! hundred bytes, so more than [`Limits::max_header_bytes`] in all (or one
//! value over [`Limits::max_header_value_bytes`]) is a `431 Request Header
//! Fields Too Large`.
//!
//! Both answers are problem+json, like every other error, and both close
//! the connection: a client that broke the rules once gets a fresh start.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse};
use bytes::Bytes;
use contract::Problem;
use futures_util::Stream;

use crate::http::problem_response;

/// What one request may take.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// From the head's arrival to the body's last byte.
    pub body_timeout: Duration,
    /// All header names and values together.
    pub max_header_bytes: usize,
    /// Any one header value.
    pub max_header_value_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            body_timeout: Duration::from_secs(5),
            max_header_bytes: 16 * 1024,
            max_header_value_bytes: 8 * 1024,
        }
    }
}

/// The middleware: `from_fn(move |req, next| enforce(limits, req, next))`.
pub async fn enforce(
    limits: Limits,
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if let Some(problem) = oversized_headers(&req, &limits) {
        let response = closing(problem_response(&problem));
        return Ok(req.into_response(response));
    }

    if !has_body(&req) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let expired = Arc::new(AtomicBool::new(false));
    let payload = req.take_payload();
    let deadline: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> = Box::pin(Deadline {
        inner: payload,
        sleep: Box::pin(tokio::time::sleep(limits.body_timeout)),
        expired: expired.clone(),
    });
    req.set_payload(Payload::from(deadline));

    let res = next.call(req).await?.map_into_boxed_body();
    if expired.load(Ordering::SeqCst) {
        // Whatever the handler made of the broken body, the answer is 408.
        let problem = Problem::new(408, "/problems/request-timeout", "Request timeout")
            .with_detail(format!(
                "the request body did not arrive within {} s; the connection is closed",
                limits.body_timeout.as_secs_f64()
            ));
        let (req, _) = res.into_parts();
        return Ok(ServiceResponse::new(
            req,
            closing(problem_response(&problem)),
        ));
    }
    Ok(res)
}

/// Whether the request announced a body (a length above zero, or chunks).
fn has_body(req: &ServiceRequest) -> bool {
    let headers = req.headers();
    headers.contains_key(actix_web::http::header::TRANSFER_ENCODING)
        || headers
            .get(actix_web::http::header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0")
}

fn closing(mut response: HttpResponse) -> HttpResponse {
    response
        .head_mut()
        .set_connection_type(actix_web::http::ConnectionType::Close);
    response
}

fn oversized_headers(req: &ServiceRequest, limits: &Limits) -> Option<Problem> {
    let mut total = 0;
    for (name, value) in req.headers() {
        if value.len() > limits.max_header_value_bytes {
            return Some(too_large(format!(
                "the `{name}` header is {} bytes; at most {} are accepted",
                value.len(),
                limits.max_header_value_bytes
            )));
        }
        total += name.as_str().len() + value.len();
    }
    (total > limits.max_header_bytes).then(|| {
        too_large(format!(
            "the headers are {total} bytes in all; at most {} are accepted",
            limits.max_header_bytes
        ))
    })
}

fn too_large(detail: String) -> Problem {
    Problem::new(
        431,
        "/problems/headers-too-large",
        "Request header fields too large",
    )
    .with_detail(detail)
}

/// A body stream that ends in an error once its deadline has passed.
struct Deadline {
    inner: Payload,
    sleep: Pin<Box<tokio::time::Sleep>>,
    expired: Arc<AtomicBool>,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Poll::Ready(item) = Pin::new(&mut self.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        if self.sleep.as_mut().poll(cx).is_ready() {
            self.expired.store(true, Ordering::SeqCst);
            return Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the request body did not arrive in time",
            )))));
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    use actix_web::middleware::from_fn;
    use actix_web::{App, HttpServer, web};

    use super::*;

    /// A real server (the attack needs a real socket) echoing body lengths.
    fn serve(limits: Limits) -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(move |req, next| enforce(limits, req, next)))
                .route(
                    "/",
                    web::post().to(|body: web::Bytes| async move { body.len().to_string() }),
                )
        })
        .listen(listener)
        .unwrap()
        .workers(1)
        .disable_signals()
        .run();
        tokio::spawn(server);
        port
    }

    /// Sends raw bytes and reads until the server closes (or 5 s pass).
    fn exchange(port: u16, request: &[u8]) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream.write_all(request).unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        String::from_utf8_lossy(&answer).into_owned()
    }

    fn short() -> Limits {
        Limits {
            body_timeout: Duration::from_millis(300),
            ..Limits::default()
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_body_that_stalls_gets_408_and_the_connection_closes() {
        let port = serve(short());
        let answer = tokio::task::spawn_blocking(move || {
            exchange(
                port,
                b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly ten b",
            )
        })
        .await
        .unwrap();
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("application/problem+json"), "{answer}");
        assert!(answer.contains("connection: close"), "{answer}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_whole_body_in_time_is_served() {
        let port = serve(short());
        let answer = tokio::task::spawn_blocking(move || {
            exchange(
                port,
                b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
            )
        })
        .await
        .unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with("\r\n\r\n5"), "{answer}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn oversized_headers_get_431() {
        let port = serve(short());
        let one_huge = format!(
            "POST / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\nContent-Length: 0\r\n\r\n",
            "a".repeat(100 * 1024)
        );
        let many = format!(
            "POST / HTTP/1.1\r\nHost: x\r\n{}Content-Length: 0\r\n\r\n",
            (0..40)
                .map(|i| format!("X-H{i}: {}\r\n", "b".repeat(500)))
                .collect::<String>()
        );
        for request in [one_huge, many] {
            let answer = tokio::task::spawn_blocking(move || exchange(port, request.as_bytes()))
                .await
                .unwrap();
            assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
            assert!(answer.contains("/problems/headers-too-large"), "{answer}");
        }
    }
}
