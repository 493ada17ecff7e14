//! The store's integration tests: the real store on port 0 with a fresh
//! database (SQLite always, PostgreSQL when `TEST_DATABASE_URL` is set),
//! driven over HTTP. Webhook receivers are `wiremock` servers with a script
//! of answers (`helpers::Receiver`), so a test can make an endpoint fail,
//! throttle or disappear on cue; the real inventory as receiver is covered
//! by the launcher's system tests.

mod acknowledgements;
mod faults;
mod feed;
mod group_commit;
mod helpers;
mod inputs;
mod live_events;
mod long_poll;
mod openapi;
mod orders;
mod security;
mod upgrade;
mod webhooks;
