//! Fresh databases for tests, on either backend.
//!
//! Every integration test starts its services on port 0 against a database
//! nobody else uses (zero2prod's `spawn_app` pattern), so tests run in
//! parallel and never see each other's orders:
//!
//! * SQLite: a file in a temporary directory, removed with it;
//! * PostgreSQL: a database named `pushpull_test_<uuid>` created on the
//!   server at `TEST_DATABASE_URL` and dropped (`WITH (FORCE)`) when the
//!   test's [`TestDatabase`] is dropped.
//!
//! [`db_test!`](crate::db_test) writes each test once and runs it on both
//! backends. Whether the PostgreSQL copy runs is decided when it runs, not
//! when it is built: without `TEST_DATABASE_URL` it prints a `SKIPPED:` line
//! (past the harness's output capture, so it is seen) and passes; with it,
//! a server that cannot be reached is a failure. Changing the variable
//! therefore rebuilds nothing. CI sets it, and checks that no `SKIPPED:`
//! line was printed.

use sqlx::migrate::MigrateDatabase;

/// The environment variable naming a PostgreSQL server for the test pass,
/// e.g. `postgres://postgres@127.0.0.1:5432/postgres`.
pub const TEST_DATABASE_URL: &str = "TEST_DATABASE_URL";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    Sqlite,
    Postgres,
}

/// A database that exists for one test.
#[derive(Debug)]
pub struct TestDatabase {
    pub url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { database_url: String },
    Kept,
}

impl TestDatabase {
    /// Creates an empty database of the given backend. Panics (failing the
    /// test) when PostgreSQL is asked for but unreachable: a test run that
    /// was told to use a server must not quietly pass without it.
    pub async fn create(backend: TestBackend) -> TestDatabase {
        sqlx::any::install_default_drivers();
        match backend {
            TestBackend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = format!("sqlite:{}?mode=rwc", dir.path().join("test.db").display());
                TestDatabase {
                    url,
                    cleanup: Cleanup::Sqlite(dir),
                }
            }
            TestBackend::Postgres => {
                let server = std::env::var(TEST_DATABASE_URL).unwrap_or_else(|_| {
                    panic!("{TEST_DATABASE_URL} must point at a PostgreSQL server for this test")
                });
                let name = format!("pushpull_test_{}", uuid::Uuid::new_v4().simple());
                let url = replace_database(&server, &name);
                sqlx::Any::create_database(&url).await.unwrap_or_else(|e| {
                    panic!(
                        "could not create test database on {} ({TEST_DATABASE_URL}): {e}",
                        crate::redact::url(&server)
                    )
                });
                TestDatabase {
                    url: url.clone(),
                    cleanup: Cleanup::Postgres { database_url: url },
                }
            }
        }
    }

    /// Moves the database (and the duty to drop it) out of `self`, which
    /// is left as a mere share.
    fn take(&mut self) -> TestDatabase {
        let share = self.share();
        std::mem::replace(self, share)
    }

    /// A second handle on the same database (for a restarted service) that
    /// does not drop it.
    pub fn share(&self) -> TestDatabase {
        TestDatabase {
            url: self.url.clone(),
            cleanup: Cleanup::Kept,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Cleanup::Postgres { database_url } = &self.cleanup {
            let url = database_url.clone();
            // Give the services' workers, just told to stop, a moment to
            // let go of their connections before they are cut.
            std::thread::sleep(std::time::Duration::from_millis(100));
            // Drop runs outside any async context we can rely on, so the
            // drop gets a thread and a small runtime of its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime for test clean-up");
                rt.block_on(async {
                    if let Err(e) = sqlx::Any::force_drop_database(&url).await {
                        eprintln!("warning: could not drop test database: {e}");
                    }
                });
            })
            .join();
        }
    }
}

/// `postgres://user@host:5432/anything?x` → same server, database `name`.
fn replace_database(server_url: &str, name: &str) -> String {
    let mut url = url::Url::parse(server_url).expect("TEST_DATABASE_URL is a valid URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// Writes one async test that runs on SQLite and on PostgreSQL:
///
/// ```text
/// platform::db_test!(async fn orders_are_listed(backend) {
///     let app = spawn_app(backend).await;
///     ...
/// });
/// ```
///
/// expands to a module `orders_are_listed` with tests `sqlite` and
/// `postgres`; the second skips itself (saying so) when no server is named.
#[macro_export]
macro_rules! db_test {
    ($(#[$meta:meta])* async fn $name:ident($backend:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($backend: $crate::testing::TestBackend) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run($crate::testing::TestBackend::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if $crate::testing::postgres_available(module_path!()) {
                    run($crate::testing::TestBackend::Postgres).await
                }
            }
        }
    };
}

/// Whether the PostgreSQL pass can run; when it cannot, says so.
pub fn postgres_available(test: &str) -> bool {
    if std::env::var(TEST_DATABASE_URL).is_ok_and(|v| !v.is_empty()) {
        return true;
    }
    skipped(&format!(
        "{test}::postgres (set {TEST_DATABASE_URL}=postgres://… to run the PostgreSQL pass)"
    ));
    false
}

/// Reports a skipped test where a person sees it: straight to stderr, past
/// the harness's output capture (a skip must be seen even though the test
/// is reported as passing). CI fails a run whose output has such a line.
pub fn skipped(what: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED: {what}");
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_is_replaced() {
        assert_eq!(
            replace_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            replace_database("postgres://u:p@h/db?sslmode=disable", "t2"),
            "postgres://u:p@h/t2?sslmode=disable"
        );
    }
}

/// A management call, as a test sends it to check who may make it.
#[derive(Debug, Clone)]
pub struct ManagementCall {
    pub method: reqwest::Method,
    pub path: String,
    pub body: Option<serde_json::Value>,
}

impl ManagementCall {
    pub fn new(method: reqwest::Method, path: impl Into<String>) -> ManagementCall {
        ManagementCall {
            method,
            path: path.into(),
            body: None,
        }
    }

    pub fn with(mut self, body: serde_json::Value) -> ManagementCall {
        self.body = Some(body);
        self
    }
}

/// Checks that `call` on the service at `base` is the operator's: a `401`
/// problem without a token and with each of `others`, a `401` — not a
/// `400` — for a broken body before it is read, and success with `token`.
pub async fn assert_operator_only(
    client: &reqwest::Client,
    base: &str,
    call: &ManagementCall,
    token: &str,
    others: &[&str],
) {
    let ManagementCall { method, path, body } = call;
    let send = |auth: Option<&str>, broken: bool| {
        let mut r = client.request(method.clone(), format!("{base}{path}"));
        if broken {
            r = r.header("content-type", "application/json").body("{broken");
        } else if let Some(body) = body {
            r = r.json(body);
        }
        if let Some(token) = auth {
            r = r.bearer_auth(token);
        }
        r.send()
    };
    let r = send(None, false).await.unwrap();
    assert_eq!(r.status(), 401, "{method} {path} without the token");
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    for other in others {
        let r = send(Some(other), false).await.unwrap();
        assert_eq!(r.status(), 401, "{method} {path} with {other:?}");
    }
    if body.is_some() {
        let r = send(None, true).await.unwrap();
        assert_eq!(
            r.status(),
            401,
            "{method} {path}: 401 before the body is read"
        );
    }
    let ok = send(Some(token), false).await.unwrap();
    assert!(
        ok.status().is_success(),
        "{method} {path} with the token: {}",
        ok.status()
    );
}

/// Every `CHECK (column IN ('word', …))` of a service's schema — all the
/// migrations in `dir`, in order, `ALTER TABLE … ADD COLUMN` included — as
/// `table.column` → words, for a test that holds each enumerated column to
/// its enum's words.
pub fn checked_words(dir: &std::path::Path) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    let schema: String = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect::<Vec<_>>()
        .concat()
        // A column added later reads as the table's own columns do.
        .replace("ALTER TABLE ", "CREATE TABLE ");
    let mut found = std::collections::BTreeMap::new();
    for table in schema.split("CREATE TABLE ").skip(1) {
        let name = table.split_whitespace().next().unwrap_or_default();
        for check in table.split("CHECK (").skip(1) {
            let Some((column, rest)) = check.split_once(" IN (") else {
                continue;
            };
            let list = rest.split("))").next().unwrap_or_default();
            let words: Vec<String> = list
                .split(',')
                .filter_map(|w| w.trim().strip_prefix('\'')?.strip_suffix('\''))
                .map(str::to_owned)
                .collect();
            if !words.is_empty() {
                found.insert(format!("{name}.{column}"), words);
            }
        }
    }
    found
}
