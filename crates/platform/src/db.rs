//! One database handle for both backends: SQLite (the default, a file under
//! `./data/`) and PostgreSQL (when the URL says `postgres://`).
//!
//! Both services talk to their database through sqlx's `Any` driver and
//! *portable* SQL: `$1` placeholders, INTEGER/BIGINT/TEXT columns, times as
//! BIGINT unix milliseconds, booleans as 0/1, `RETURNING`, `ON CONFLICT`. The
//! same query text runs on both, so the code a learner reads is the code that
//! runs in either set-up. Where the dialects genuinely differ the difference
//! is a method here ([`Db::begin_write`], [`Db::skip_locked`]), not an `if`
//! scattered through the services.
//!
//! The road not taken: sqlx's compile-time checked `query!` macros. They do
//! not work with `Any`, and generating two copies of every query (one per
//! backend) would double what a reader has to read. The cost is that a typo
//! in SQL is found by the tests rather than the compiler — and the tests run
//! every query on both backends.

use std::path::Path;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;

use crate::redact::url as redact_url;
use sqlx::{Any, AnyPool, Connection, Executor, Transaction};
use thiserror::Error;

/// Which database is behind a [`Db`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn from_url(url: &str) -> Result<Backend, DbError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(DbError::UnsupportedUrl(redact_url(url)))
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The migrations that run on `backend`: all of them but those written for
/// the other one. A file is one backend's when its name says so before the
/// `.sql` (`0005_hybrid_mode.sqlite.sql`, `0006_hybrid_mode.postgres.sql`)
/// — only where the SQL truly differs (SQLite cannot alter a `CHECK`;
/// PostgreSQL can), with the reason written in the file. Each database
/// only ever sees its own backend's list, so the versions it skips are
/// never "missing" from its history.
///
/// Two files with one version on the same backend are refused here, by
/// name: sqlx would only fail half-way, on its history table's key — as
/// two branches that each added a `0002_…` once found out.
fn for_backend(migrations: &Migrator, backend: Backend) -> Result<Migrator, DbError> {
    let other = match backend {
        Backend::Sqlite => Backend::Postgres,
        Backend::Postgres => Backend::Sqlite,
    };
    let suffix = format!(".{}", other.name());
    let chosen: Vec<_> = migrations
        .migrations
        .iter()
        .filter(|m| !m.description.ends_with(&suffix))
        .cloned()
        .collect();
    let mut versions = std::collections::BTreeSet::new();
    if let Some(twice) = chosen.iter().find(|m| !versions.insert(m.version)) {
        return Err(DbError::DuplicateMigration {
            backend: backend.name(),
            version: twice.version,
        });
    }
    Ok(Migrator {
        migrations: chosen.into(),
        ignore_missing: migrations.ignore_missing,
        locking: migrations.locking,
        no_tx: migrations.no_tx,
        table_name: migrations.table_name.clone(),
        create_schemas: migrations.create_schemas.clone(),
    })
}

#[derive(Debug, Error)]
pub enum DbError {
    #[error("unsupported database URL `{0}`: use sqlite:PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("could not create the directory for the SQLite file {path}: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
    #[error("could not connect to {url}: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("migrations failed on {url}: {source}")]
    Migrate {
        url: String,
        source: sqlx::migrate::MigrateError,
    },
    #[error("two migrations for {backend} have version {version}: give one the next free number")]
    DuplicateMigration { backend: &'static str, version: i64 },
}

/// A pool plus the knowledge of which backend it talks to.
///
/// On SQLite there are two pools: readers, and a single writer connection.
/// SQLite allows one writer at a time anyway; letting many connections
/// compete for its lock means each loser sleeps in SQLite's busy handler
/// (in steps of up to 100 ms) and retries, which under load turns into long
/// tail latencies. Queueing writers on one connection in the pool's fair
/// async queue is both faster and fairer. On PostgreSQL, which has real
/// row-level concurrency, `writer()` is the same pool as `pool()`.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    writer: AnyPool,
    backend: Backend,
}

impl Db {
    /// Connects (creating the SQLite file and its directory if needed),
    /// applies pending migrations, and returns the handle.
    ///
    /// `migrations` is the service's one schema folder, embedded in the
    /// binary at build time (`sqlx::migrate!("../../migrations/store")`):
    /// the same portable SQL runs on both backends — but for the rare file
    /// written for one backend only (see `for_backend`).
    pub async fn connect(url: &str, migrations: &Migrator) -> Result<Db, DbError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        if backend == Backend::Sqlite {
            ensure_sqlite_dir(url)?;
        }
        let options: AnyConnectOptions = url.parse().map_err(|source| DbError::Connect {
            url: redact_url(url),
            source,
        })?;
        let connect_error = |source| DbError::Connect {
            url: redact_url(url),
            source,
        };
        let (pool, writer) = match backend {
            // Readers proceed beside the one writer (WAL mode).
            Backend::Sqlite => {
                let writer = pool_options(backend, 1)
                    .connect_with(options.clone())
                    .await
                    .map_err(connect_error)?;
                let pool = pool_options(backend, 8)
                    .connect_with(options)
                    .await
                    .map_err(connect_error)?;
                (pool, writer)
            }
            // Small on purpose: the test suite runs many services at once
            // against one server, and PostgreSQL's default limit is 100.
            Backend::Postgres => {
                let pool = pool_options(backend, 6)
                    .connect_with(options)
                    .await
                    .map_err(connect_error)?;
                (pool.clone(), pool)
            }
        };
        for_backend(migrations, backend)?
            .run(&writer)
            .await
            .map_err(|source| DbError::Migrate {
                url: redact_url(url),
                source,
            })?;
        Ok(Db {
            pool,
            writer,
            backend,
        })
    }

    /// For reads (and, on PostgreSQL, anything).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// For statements that write outside [`Db::begin_write`]'s transactions.
    pub fn writer(&self) -> &AnyPool {
        &self.writer
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Begins a transaction that will write.
    ///
    /// On SQLite this is `BEGIN IMMEDIATE`: the write lock is taken up front,
    /// so two transactions that each read and then write cannot deadlock
    /// (with a plain deferred `BEGIN`, the second one to upgrade from reader
    /// to writer fails with `SQLITE_BUSY` instead of waiting). PostgreSQL
    /// locks rows as it goes and needs nothing special.
    pub async fn begin_write(&self) -> Result<Transaction<'static, Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.writer.begin().await,
        }
    }

    /// The clause that lets concurrent workers claim *different* rows:
    /// ` FOR UPDATE SKIP LOCKED` on PostgreSQL. SQLite has one writer at a
    /// time (see [`Db::begin_write`]), so a claim there is already exclusive.
    pub fn skip_locked(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }
}

/// How a pool of `max` connections to `backend` makes each connection and
/// hands it out.
fn pool_options(backend: Backend, max: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(30))
        // sqlx pings every connection it hands out, by default: a
        // round trip per transaction (for SQLite, to its worker
        // thread and back — a tenth of an order's placement at
        // c=1). A SQLite connection lives in this process and
        // cannot be lost; a PostgreSQL one can (a server restart),
        // so it is checked when it has been idle a while, when
        // that is likely, not before every use.
        .test_before_acquire(false)
        .before_acquire(move |conn, meta| {
            Box::pin(async move {
                if backend == Backend::Postgres && meta.idle_for > IDLE_BEFORE_PING {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    // WAL: readers never block the writer nor it them.
                    // synchronous=NORMAL is durable across application
                    // crashes in WAL mode (only a power cut can lose the last
                    // transactions). busy_timeout makes a second writer wait
                    // for the lock instead of failing at once.
                    conn.execute(sqlx::raw_sql(
                        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA busy_timeout = 15000; PRAGMA foreign_keys = ON;",
                    ))
                    .await?;
                }
                Ok(())
            })
        })
}

/// The clause that makes a `SELECT` lock the rows it reads until the
/// transaction ends — ` FOR UPDATE` on PostgreSQL — for a transaction
/// that decides from what it read and then writes it back. SQLite has one
/// writer at a time (see [`Db::begin_write`]), so there the read is
/// already as good as locked.
pub fn for_update(conn: &sqlx::AnyConnection) -> &'static str {
    if conn.backend_name() == "PostgreSQL" {
        " FOR UPDATE"
    } else {
        ""
    }
}

/// `$first, $first+1, …` — `count` numbered placeholders, for `IN (…)`
/// lists whose length is only known at run time. (Bound values, never
/// interpolated ones: the text this builds contains only `$n`.)
pub fn placeholders(first: usize, count: usize) -> String {
    let mut sql = String::with_capacity(count * 6);
    push_placeholders(&mut sql, first, count);
    sql
}

/// Appends `$first, …` to `sql`. Written into one string: building the
/// text of a batch's statements was 6 % of the store's instructions per
/// order when each `$n` was its own `String`, joined (measured with callgrind).
fn push_placeholders(sql: &mut String, first: usize, count: usize) {
    use std::fmt::Write;
    for i in first..first + count {
        if i > first {
            sql.push_str(", ");
        }
        let _ = write!(sql, "${i}");
    }
}

/// How long a PostgreSQL connection may sit in the pool before it is
/// pinged on its way out (see `pool_options`).
const IDLE_BEFORE_PING: Duration = Duration::from_secs(10);

/// The most values one statement should bind. Batching rows into one
/// statement saves a round trip to the database per row — but sqlx looks
/// each `$n` of a SQLite statement up by name, which SQLite does by walking
/// a list, so binding *n* values costs in the order of *n²*: a 1,600-value
/// insert spends milliseconds there alone. A hundred-odd values keep both
/// costs small.
pub const MAX_BINDS_PER_STATEMENT: usize = 128;

/// How many rows of `width` values one multi-row statement should carry
/// (see [`MAX_BINDS_PER_STATEMENT`]).
pub fn rows_per_statement(width: usize) -> usize {
    (MAX_BINDS_PER_STATEMENT / width.max(1)).max(1)
}

/// `($1, $2), ($3, $4), …` — `rows` tuples of `width` placeholders, for a
/// multi-row `INSERT … VALUES` (one statement instead of one per row).
pub fn value_rows(width: usize, rows: usize) -> String {
    let mut sql = String::with_capacity(rows * (width * 6 + 4));
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        push_placeholders(&mut sql, 1 + r * width, width);
        sql.push(')');
    }
    sql
}

/// A portable boolean column (INTEGER 0/1) as a row struct reads it:
/// `#[sqlx(try_from = "platform::db::IntBool")] pub paused: bool`. (The
/// `Any` driver decodes `bool` only from a backend's own boolean type, which
/// a portable schema does not use.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntBool(pub bool);

impl sqlx::Type<Any> for IntBool {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <i64 as sqlx::Type<Any>>::type_info()
    }

    fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
        <i64 as sqlx::Type<Any>>::compatible(ty)
    }
}

impl<'r> sqlx::Decode<'r, Any> for IntBool {
    fn decode(value: sqlx::any::AnyValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        Ok(IntBool(<i64 as sqlx::Decode<Any>>::decode(value)? != 0))
    }
}

impl From<IntBool> for bool {
    fn from(b: IntBool) -> bool {
        b.0
    }
}

/// A nullable TEXT column read into `Option<T>` (for any `T:
/// TryFrom<String>`, such as a typed id or a vocabulary word):
/// `#[sqlx(try_from = "platform::db::NullableText")] pub order_id:
/// Option<OrderId>`. sqlx can be told to build `T` from a `String`, but not
/// `Option<T>` from an `Option<String>`; this is the step between.
pub struct NullableText(Option<String>);

/// A nullable BIGINT column read into `Option<T>` (for any `T:
/// TryFrom<i64>`, such as a `Timestamp`).
pub struct NullableInt(Option<i64>);

macro_rules! nullable_column {
    ($name:ident, $inner:ty) => {
        impl sqlx::Type<Any> for $name {
            fn type_info() -> sqlx::any::AnyTypeInfo {
                <$inner as sqlx::Type<Any>>::type_info()
            }

            fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
                <$inner as sqlx::Type<Any>>::compatible(ty)
            }
        }

        impl<'r> sqlx::Decode<'r, Any> for $name {
            fn decode(value: sqlx::any::AnyValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                Ok($name(<Option<$inner> as sqlx::Decode<Any>>::decode(value)?))
            }
        }

        impl<T: TryFrom<$inner>> TryFrom<$name> for Option<T> {
            type Error = T::Error;

            fn try_from(column: $name) -> Result<Option<T>, T::Error> {
                column.0.map(T::try_from).transpose()
            }
        }
    };
}

nullable_column!(NullableText, String);
nullable_column!(NullableInt, i64);

fn ensure_sqlite_dir(url: &str) -> Result<(), DbError> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let path = rest.split('?').next().unwrap_or("");
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    if let Some(parent) = Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|source| DbError::CreateDir {
            path: path.to_owned(),
            source,
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn migrator(files: &[(i64, &'static str)]) -> Migrator {
        let migrations: Vec<sqlx::migrate::Migration> = files
            .iter()
            .map(|(version, description)| {
                sqlx::migrate::Migration::new(
                    *version,
                    (*description).into(),
                    sqlx::migrate::MigrationType::Simple,
                    sqlx::SqlStr::from_static("SELECT 1"),
                    false,
                )
            })
            .collect();
        Migrator {
            migrations: migrations.into(),
            ..Migrator::DEFAULT
        }
    }

    #[test]
    fn each_backend_runs_its_own_files_and_each_version_once() {
        let both = migrator(&[(1, "orders"), (2, "mode.sqlite"), (3, "mode.postgres")]);
        let sqlite = for_backend(&both, Backend::Sqlite).unwrap();
        let versions: Vec<i64> = sqlite.migrations.iter().map(|m| m.version).collect();
        assert_eq!(versions, [1, 2]);
        let postgres = for_backend(&both, Backend::Postgres).unwrap();
        let versions: Vec<i64> = postgres.migrations.iter().map(|m| m.version).collect();
        assert_eq!(versions, [1, 3]);

        // Regression: two branches each added a 0002; SQLite saw both.
        let clash = migrator(&[(1, "inventory"), (2, "hybrid.sqlite"), (2, "inbox")]);
        assert!(matches!(
            for_backend(&clash, Backend::Sqlite),
            Err(DbError::DuplicateMigration { version: 2, .. })
        ));
        assert!(for_backend(&clash, Backend::Postgres).is_ok());
    }

    #[test]
    fn backends_come_from_the_url_scheme() {
        assert_eq!(
            Backend::from_url("sqlite:data/x.db?mode=rwc").unwrap(),
            Backend::Sqlite
        );
        assert_eq!(
            Backend::from_url("postgres://u@h/db").unwrap(),
            Backend::Postgres
        );
        assert_eq!(
            Backend::from_url("postgresql://u@h/db").unwrap(),
            Backend::Postgres
        );
        assert!(Backend::from_url("mysql://u@h/db").is_err());
    }

    #[test]
    fn placeholders_are_numbered_from_where_they_start() {
        assert_eq!(placeholders(1, 3), "$1, $2, $3");
        assert_eq!(placeholders(4, 1), "$4");
        assert_eq!(value_rows(2, 3), "($1, $2), ($3, $4), ($5, $6)");
        assert_eq!(rows_per_statement(16), 8);
        assert_eq!(rows_per_statement(1000), 1);
    }
}
