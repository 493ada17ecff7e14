//! The wire contract between the store and the inventory.
//!
//! Everything that crosses the network between the two services is defined
//! here, once: the order as the store publishes it, the `/update_inventory`
//! request and answer, the webhook event envelope, the order feed page, the
//! acknowledgement the inventory sends back in poll mode, and the
//! `application/problem+json` error body. Both services depend on this crate
//! and neither reaches into the other's code or database.
//!
//! The trade-off: a shared crate makes it impossible for the two sides to
//! drift apart silently (a renamed field breaks the build, not production),
//! which is exactly what two *separately deployed* services cannot rely on in
//! real life. Real integrations publish a schema (OpenAPI, JSON Schema) and
//! version it; this crate plays that role for a codebase meant to be read in
//! one sitting. To keep the teaching honest the crate does no I/O at all: it
//! describes bytes, it never sends them.
//!
//! Read in this order — each module uses only modules before it:
//!
//! 1. [`domain`] — small value types that parse instead of validate
//!    ([`domain::Sku::parse`], [`domain::Quantity::parse`], ...); [`ids`] —
//!    typed ids (`ord_…`, `msg_…`, `dlv_…`): an order id cannot be passed
//!    where a delivery id is wanted; [`vocabulary`] — every state, kind and
//!    channel as an enum with one text form ([`IntegrationMode`],
//!    [`OrderStatus`], [`DeliveryState`], [`Channel`], [`VerdictKind`], ...).
//! 2. [`human_text`] — the one rule for free text people type for others
//!    to read; [`keys`] — the idempotency keys and message ids a client
//!    makes up.
//! 3. [`schema`] — the JSON Schema of what serde's derive cannot see, for
//!    the services' OpenAPI documents: the value types, and human text as
//!    a pattern.
//! 4. [`order`], [`inventory`], [`events`] — the messages themselves; and
//!    [`problem`] — RFC 9457 problem details, the one error body.
//! 5. [`json`] — reading JSON from outside: every object's members once;
//!    [`xml`] — the second data format of the seed, via `quick-xml` + serde.
//! 6. [`validation`] — the one set of rules an order must keep, whichever
//!    door (API, form, `/update_inventory`, webhook, feed) it comes in by.
//! 7. [`signing`] — Standard Webhooks signatures (sign and verify).
//! 8. [`demo`] — the catalog both services seed from, and the demo's ports
//!    and keys.

pub mod demo;
pub mod domain;
pub mod events;
pub mod human_text;
pub mod ids;
pub mod inventory;
pub mod json;
pub mod keys;
pub mod order;
pub mod problem;
pub mod schema;
pub mod signing;
pub mod validation;
pub mod vocabulary;
pub mod xml;

pub use domain::{ParseError, Quantity, Sku, Timestamp};
pub use ids::{
    ApiKeyId, BurstId, CaptureId, DeliveryId, DispatcherId, EndpointId, ExchangeId, LogEntryId,
    MessageId, MovementId, OrderId, SecretId,
};
pub use problem::{FieldError, Problem};
pub use vocabulary::{
    ApplyOutcome, Channel, DeliveryState, EventType, Format, IntegrationMode, LiveEventKind,
    OrderStatus, Party, Verdict, VerdictKind, Word,
};

/// For the schemas `words!` declares in other crates.
#[doc(hidden)]
pub use utoipa as __utoipa;
