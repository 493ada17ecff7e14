//! The launcher's library half: command-line configuration ([`cli`]), what
//! it writes of its own — log filters and banner ([`output`]) — and the
//! benchmark ([`bench`]). `main.rs` is only the entry point, so the
//! tests can check the configuration surface (for example, that every
//! variable `docker-compose.yml` sets is one the services read).

pub mod bench;
pub mod cli;
pub mod output;
