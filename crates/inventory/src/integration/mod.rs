//! The inventory's side of the integration patterns, and their combination.
//!
//! | mode      | module                 | who initiates | the inventory…              |
//! |-----------|------------------------|---------------|-----------------------------|
//! | `webhook` | [`webhook_receiver`]   | the store     | verifies, dedupes, applies  |
//! | `api`     | [`update_inventory`]   | the store     | reserves and answers        |
//! | `poll`    | [`poller`]             | the inventory | reads the feed, acknowledges|
//! | `hybrid`  | [`webhook_receiver`] + [`notice`], [`poller`] (`Feed::Reconcile`) | both | verifies a thin notice, fetches the order, applies; reconciles on a slow timer |
//!
//! All of them end in the same call, [`apply::apply_orders_once`], keyed by
//! order id — which is why a mode switch, a retry or a replay can never
//! take stock twice; what arrives at the same moment is applied in one
//! transaction ([`intake`]). [`subscription`] registers the webhook
//! receiver with the store on start, and keeps the secrets it verifies
//! with ([`webhook_secrets`]).
//!
//! Each pattern owns its machinery, as a value in its own module — the
//! receiver's secrets, the endpoint's keys, the poller's calls to the
//! store, the intake's group commit — and takes the shared rest as
//! `&Context` (`crate::context`).

pub mod apply;
pub mod intake;
pub mod notice;
pub mod poller;
pub mod subscription;
pub mod update_inventory;
pub mod webhook_receiver;
pub mod webhook_secrets;
