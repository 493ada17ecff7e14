//! One hop of the floor: the process `pushpull floor-hop` runs (a hidden
//! subcommand of the launcher, forwarded here).
//!
//! For every request it does one durable insert and then — if it has a
//! next hop — forwards the body there and answers only after that hop's
//! `2xx`. Nothing else: no validation, signing, outbox, idempotency
//! record, message log or live events.
//!
//! Same stack as the services, so the comparison is fair: actix-web with
//! its default workers, reqwest with its keep-alive pool, and the database
//! through [`platform::Db`] itself — on SQLite the very same settings as
//! the services (WAL, `synchronous = NORMAL`, one writer connection), on
//! PostgreSQL the same server and pool.
//!
//! A hop without a database and without a next hop answers `200` to
//! anything at once: that is the minimal webhook receiver of the bench's
//! "sender only" scenario (and of `ci/profile/sender.py`).

use std::borrow::Cow;
use std::time::Duration;

use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::Context as _;
use clap::Args;
use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

use platform::{Clock, Db, SystemClock};

#[derive(Debug, Clone, Args)]
pub struct HopArgs {
    /// Port to listen on (127.0.0.1).
    #[arg(long)]
    pub port: u16,
    /// Where the one insert per request goes (sqlite:… or postgres://…);
    /// without it, nothing is written.
    #[arg(long)]
    pub database_url: Option<String>,
    /// The next hop's URL; without it, the hop answers once it has written.
    #[arg(long)]
    pub next: Option<String>,
}

/// The launcher's arguments that start a hop with these settings — the
/// other side of [`HopArgs`], kept beside it.
pub fn command_line(port: u16, database_url: Option<String>, next: Option<&str>) -> Vec<String> {
    let mut args = vec![
        "floor-hop".to_owned(),
        "--port".to_owned(),
        port.to_string(),
    ];
    if let Some(url) = database_url {
        args.extend(["--database-url".to_owned(), url]);
    }
    if let Some(next) = next {
        args.extend(["--next".to_owned(), next.to_owned()]);
    }
    args
}

/// The hop's one table: what arrived, and when.
const SCHEMA: &str =
    "CREATE TABLE floor_requests (body TEXT NOT NULL, received_at BIGINT NOT NULL)";

struct Hop {
    db: Option<Db>,
    next: Option<String>,
    client: reqwest::Client,
}

/// Runs one hop until the process is killed.
pub async fn serve(args: HopArgs) -> anyhow::Result<()> {
    let db = match &args.database_url {
        Some(url) => Some(Db::connect(url, &migrator()).await?),
        None => None,
    };
    let hop = web::Data::new(Hop {
        db,
        next: args.next.clone(),
        // As the store's outbound clients: a timeout, no redirects, the
        // default keep-alive pool.
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()?,
    });
    HttpServer::new(move || {
        App::new()
            .app_data(hop.clone())
            .app_data(web::PayloadConfig::new(64 * 1024))
            .default_service(web::to(handle))
    })
    .bind(("127.0.0.1", args.port))
    .with_context(|| format!("binding the floor hop to 127.0.0.1:{}", args.port))?
    .run()
    .await
    .context("running the floor hop")
}

/// One insert, then the next hop.
async fn handle(hop: web::Data<Hop>, body: web::Bytes) -> HttpResponse {
    if let Some(db) = &hop.db {
        let inserted =
            sqlx::query("INSERT INTO floor_requests (body, received_at) VALUES ($1, $2)")
                .bind(String::from_utf8_lossy(&body).into_owned())
                .bind(SystemClock.now().millis())
                .execute(db.writer())
                .await;
        if let Err(e) = inserted {
            return HttpResponse::InternalServerError().body(e.to_string());
        }
    }
    if let Some(next) = &hop.next {
        match hop.client.post(next).body(body).send().await {
            Ok(r) if r.status().is_success() => {}
            Ok(r) => return HttpResponse::BadGateway().body(format!("next hop: {}", r.status())),
            Err(e) => return HttpResponse::BadGateway().body(format!("next hop: {e}")),
        }
    }
    HttpResponse::Ok().finish()
}

/// The schema as a one-migration [`Migrator`], so the hop connects through
/// [`Db::connect`] exactly as the services do.
fn migrator() -> Migrator {
    Migrator {
        migrations: Cow::Owned(vec![Migration::new(
            1,
            Cow::Borrowed("floor requests"),
            MigrationType::Simple,
            SCHEMA.into_sql_str(),
            false,
        )]),
        ..Migrator::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_what_the_hop_parses() {
        use clap::Parser;
        #[derive(Parser)]
        struct Launcher {
            #[command(subcommand)]
            command: Command,
        }
        #[derive(clap::Subcommand)]
        enum Command {
            FloorHop(HopArgs),
        }
        let parse = |args: Vec<String>| {
            let Command::FloorHop(hop) =
                Launcher::try_parse_from(std::iter::once("pushpull".to_owned()).chain(args))
                    .unwrap()
                    .command;
            hop
        };
        let a = parse(command_line(
            9001,
            Some("sqlite:a.db".into()),
            Some("http://127.0.0.1:9002/"),
        ));
        assert_eq!(a.port, 9001);
        assert_eq!(a.database_url.as_deref(), Some("sqlite:a.db"));
        assert_eq!(a.next.as_deref(), Some("http://127.0.0.1:9002/"));
        let receiver = parse(command_line(9003, None, None));
        assert_eq!((receiver.database_url, receiver.next), (None, None));
    }
}
