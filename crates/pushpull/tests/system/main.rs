//! System tests: the real store and the real inventory, each on port 0 with
//! its own fresh database, talking over loopback HTTP exactly as they do
//! under `cargo run`. Every test runs on SQLite and, when
//! `TEST_DATABASE_URL` is set, on PostgreSQL.

mod api_mode;
mod compose;
mod helpers;
mod hybrid_mode;
mod logs;
mod outage;
mod poll_mode;
mod process;
mod scaling;
mod security;
mod switching;
mod tour;
mod webhook_mode;
