//! What the tests of both services stand on — fresh databases, a started
//! service to talk to, the checks both run — in three modules:
//!
//! 1. this one: a database per test, on either backend, and
//!    [`db_test!`](crate::db_test) to write a test once for both;
//! 2. [`service`]: a service started for a test ([`TestService`]), the pages
//!    it answers ([`Page`]), waiting for a condition ([`eventually`]);
//! 3. [`checks`]: what both services check of themselves — that management
//!    is the operator's ([`assert_operator_only`]), that each enumerated
//!    column holds its enum's words ([`checked_words`]).
//!
//! **Fresh databases.** Every integration test starts its services on port
//! 0 against a database nobody else uses (zero2prod's `spawn_app`
//! pattern), so tests run in parallel and never see each other's orders:
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

pub mod checks;
pub mod live;
pub mod service;

pub use checks::{
    ManagementCall, assert_no_raw_markup, assert_operator_only, assert_sources_exist,
    checked_words, operation_cards,
};
pub use service::{Page, TestService, eventually, free_port};

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
