//! The conditions of a run, written at the top of `BENCHMARKS.md`: the
//! command that regenerates it and the one that wrote it, the machine, its
//! load before and after, the build, the PostgreSQL server.
//!
//! A number without its conditions cannot be compared with anything; the
//! load average in particular says whether other work shared the machine
//! (the bench does not refuse to run on a busy machine — it says so).

use anyhow::Context as _;
use sqlx::Row;

use platform::{Clock, SystemClock};

use super::BenchArgs;
use super::results::Meta;

/// The command that regenerates `BENCHMARKS.md` entirely.
pub const REGENERATE: &str = "cargo run --release -- bench";

/// The conditions of this run, for the top of the report.
pub async fn meta(args: &BenchArgs) -> anyhow::Result<Meta> {
    let given: Vec<String> = std::env::args()
        .skip_while(|a| a != "bench")
        .skip(1)
        .map(|a| redact_arg(&a))
        .collect();
    let regenerate = match &args.database_url {
        Some(url) => format!("{REGENERATE} --database-url {}", platform::redact::url(url)),
        None => REGENERATE.to_owned(),
    };
    let command = std::iter::once(REGENERATE.to_owned())
        .chain(given)
        .collect::<Vec<_>>()
        .join(" ");
    let postgres = match &args.database_url {
        Some(url) => Some(format!(
            "{} at {}",
            postgres_version(url).await?,
            platform::redact::url(url)
        )),
        None => None,
    };
    Ok(Meta {
        regenerate,
        command,
        date: SystemClock.now().to_rfc3339(),
        machine: machine(),
        load_before: load_average(),
        load_after: String::new(),
        build: build(),
        orders: args.orders,
        poll_interval_ms: args.poll_interval.as_millis(),
        idle_seconds: args.idle.as_secs_f64(),
        postgres,
    })
}

/// An argument as it may be printed: a URL's password replaced.
fn redact_arg(arg: &str) -> String {
    match arg.split_once('=') {
        Some((flag, value)) if flag.starts_with("--") => {
            format!("{flag}={}", platform::redact::url(value))
        }
        _ if arg.contains("://") => platform::redact::url(arg),
        _ => arg.to_owned(),
    }
}

async fn postgres_version(url: &str) -> anyhow::Result<String> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url).await.with_context(|| {
        format!(
            "connecting to the PostgreSQL server at {}",
            platform::redact::url(url)
        )
    })?;
    let version: String = sqlx::query("SELECT version() AS v")
        .fetch_one(&pool)
        .await?
        .try_get("v")?;
    pool.close().await;
    // "PostgreSQL 16.4 (Debian …) on x86_64…" → "PostgreSQL 16.4".
    Ok(version
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" "))
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|k| format!(", Linux {}", k.trim()))
        .unwrap_or_default();
    format!("{cpus} cores, {model}{kernel}")
}

/// The 1-minute load average, as `uptime` shows it.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|t| t.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}

fn build() -> String {
    let profile = if cfg!(debug_assertions) {
        "debug (numbers are not meaningful)"
    } else {
        "release"
    };
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    match git(&["rev-parse", "--short", "HEAD"]) {
        Some(commit) => {
            let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty());
            format!(
                "{profile}, commit {commit}{}",
                if dirty {
                    " with uncommitted changes"
                } else {
                    ""
                }
            )
        }
        None => profile.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_the_report() {
        assert_eq!(
            redact_arg("--database-url=postgres://u:secret@h/db"),
            "--database-url=postgres://u:***@h/db"
        );
        assert_eq!(
            redact_arg("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(redact_arg("--orders"), "--orders");
    }
}
