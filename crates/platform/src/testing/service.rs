//! A service started for a test, and what a test does with it: an address
//! and a client that does not follow redirects ([`TestService`]), its
//! pages as a browser receives them ([`Page`]), and waiting for what its
//! background work makes true ([`eventually`]) rather than for time to
//! pass.

use super::TestDatabase;

/// Polls `check` every 20 ms until it returns `Some`, or panics after
/// `within`. For waiting on *conditions* that background work makes true
/// (a webhook delivered, a poll applied) — not for waiting out time: tests
/// never sleep to let a schedule pass, they advance a `ManualClock`.
pub async fn eventually<T, F, Fut>(within: std::time::Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("timed out after {within:?} waiting for: {what}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// A port that was free a moment ago (for a service started later).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A service started for a test: its address, its database, a handle to
/// stop it, its shared state (for looking inside), and an HTTP client that
/// does not follow redirects. Each service crate's `testing` module wraps
/// one (`store::testing::TestStore`, `inventory::testing::TestInventory`).
pub struct TestService<S> {
    pub address: String,
    pub port: u16,
    pub db: TestDatabase,
    pub handle: crate::server::ServiceHandle,
    pub state: S,
    pub client: reqwest::Client,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl<S> TestService<S> {
    /// Wraps a built service; `run` is its `run_until_stopped()`.
    pub fn started(
        db: TestDatabase,
        port: u16,
        handle: crate::server::ServiceHandle,
        state: S,
        run: impl std::future::Future<Output = std::io::Result<()>> + Send + 'static,
    ) -> TestService<S> {
        TestService {
            address: format!("http://127.0.0.1:{port}"),
            port,
            db,
            handle,
            state,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("an HTTP client"),
            server: Some(tokio::spawn(run)),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Stops the service (as on SIGTERM) and hands back its database.
    pub async fn stop(mut self) -> TestDatabase {
        self.handle.stop().await;
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        self.db.take()
    }

    /// Kills the service as `kill -9` would ([`ServiceHandle::kill`]:
    /// nothing drains, no lease is given back) and hands back its database,
    /// for a test that restarts on it and checks what the crash left.
    ///
    /// [`ServiceHandle::kill`]: crate::server::ServiceHandle::kill
    pub async fn kill(mut self) -> TestDatabase {
        self.handle.kill().await;
        if let Some(server) = self.server.take() {
            server.abort();
            let _ = server.await;
        }
        self.db.take()
    }

    /// GETs `path` and parses the JSON answer, which must be a 2xx.
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let r = self.client.get(self.url(path)).send().await.expect("GET");
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.expect("JSON")
    }
}

/// A page as a browser would receive it (redirects not followed, so a
/// test sees the `303` and where it points).
pub struct Page {
    pub status: u16,
    pub content_type: String,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    async fn from_response(response: reqwest::Response) -> Page {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        Page {
            status,
            content_type: header("content-type").unwrap_or_default(),
            location: header("location"),
            body: response.text().await.expect("a body"),
            headers,
        }
    }

    pub fn assert_contains(&self, needle: &str) {
        assert!(
            self.body.contains(needle),
            "expected {needle:?} in the page:\n{}",
            self.body
        );
    }

    /// The repository paths the page's "How this works in the code" line
    /// names (`<code data-source-path>…</code>`, drawn by
    /// `templates/shared/base.html`), in order.
    pub fn source_paths(&self) -> Vec<String> {
        self.body
            .split("<code data-source-path>")
            .skip(1)
            .filter_map(|rest| rest.split_once("</code>").map(|(path, _)| path.to_owned()))
            .collect()
    }

    pub fn assert_lacks(&self, needle: &str) {
        assert!(
            !self.body.contains(needle),
            "did not expect {needle:?} in the page:\n{}",
            self.body
        );
    }
}

impl<S> TestService<S> {
    /// GETs a page.
    pub async fn get_page(&self, path: &str) -> Page {
        Page::from_response(self.client.get(self.url(path)).send().await.expect("GET")).await
    }

    /// Posts a form as a browser does (`application/x-www-form-urlencoded`).
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let response = self
            .client
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("POST");
        Page::from_response(response).await
    }
}

impl<S> Drop for TestService<S> {
    fn drop(&mut self) {
        // Quiet the workers before the test's database is dropped.
        self.handle.request_stop();
    }
}
