//! The inventory's integration tests: the real inventory on port 0 with a
//! fresh database, driven over HTTP the way the store drives it — signed
//! webhooks built with the contract's signer, `/update_inventory` calls
//! with and without keys, JSON and XML.

mod helpers;
mod inbox;
mod inputs;
mod live_events;
mod notice;
mod openapi;
mod poll_cost;
mod security;
mod update_inventory;
mod webhook_receiver;
