//! The launcher's library half: command-line configuration ([`cli`]) and
//! what it writes of its own — log filters and banner ([`output`]). The
//! benchmark is a crate of its own (`crates/bench`) that `pushpull bench`
//! forwards to. `main.rs` is only the entry point, so the tests can check
//! the configuration surface (for example, that every variable
//! `docker-compose.yml` sets is one the services read).

pub mod cli;
pub mod output;
