//! **Instruments: what shows the patterns, and what breaks them.** None of
//! this is part of an integration pattern — a production inventory would
//! have none of it, or would have it elsewhere (its logs, its dashboards,
//! a chaos tool) — but without it a learner could not *see* the patterns
//! work, or watch them cope when things go wrong.
//!
//! * [`messages`] — the message log: every request that crossed between
//!   the store and this inventory, in either direction, with what the
//!   inventory made of it.
//! * [`metrics`] — the counters `GET /metrics` serves.
//! * [`poll_cost`] — what pull costs: polls made, polls that found nothing,
//!   and how long a polled order waited.
//! * [`chaos`] — the switch that breaks the integration endpoints (and the
//!   poller) on purpose: down, slow, fail the next N, reject signatures.
//! * [`inbox`] — the capture inbox: somewhere of a learner's own to point
//!   a webhook at, which keeps whatever arrives to be read and checked.

pub mod chaos;
pub mod inbox;
pub mod messages;
pub mod metrics;
pub mod poll_cost;
