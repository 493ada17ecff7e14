//! **hybrid mode — the combination: notify by webhook, fetch by API,
//! reconcile by polling.** How production integrations with Stripe, GitHub
//! or Shopify are built, and the seed's last word ("you might choose to use
//! a combination of webhooks and APIs").
//!
//! Three parts, each borrowed from a mode beside it:
//!
//! 1. **Notify (push, an event).** Placing the order writes it and a
//!    *thin* `order.notice` in one transaction — the same outbox,
//!    dispatcher, retries and Standard Webhooks signing as webhook mode
//!    (`super::webhook`). The notice names the event type, the order id and
//!    the time: no customer, no items, no prices.
//! 2. **Fetch (pull, request/response).** The inventory verifies the
//!    notice and reads the order with `GET /api/orders/{id}` and the feed
//!    key (`crate::routes::orders`, logged as `fetch`), applies it once and
//!    answers the notice; that answer resolves the order
//!    (`super::webhook::recorder`).
//! 3. **Reconcile (pull, on a slow timer).** The inventory reads the feed
//!    for hybrid orders (`GET /api/orders?mode=hybrid`, logged as
//!    `reconcile`) every `RECONCILE_INTERVAL`, lands any still pending —
//!    a notice lost, an endpoint disabled, deliveries that gave up — and
//!    acknowledges it (`super::poll::acknowledge`).
//!
//! **Whichever answer comes first resolves the order, once**: the
//! notice's answer or the reconciliation's acknowledgement, each moving it
//! only out of `pending` and only as a hybrid order (`crate::orders::
//! resolve`); the other is a duplicate and says so (the inventory's answer
//! carries `duplicate`, the acknowledgement's answer too).
//!
//! What it buys: no stale or personal data in webhooks (a notice cannot go
//! out of date, and a leaked delivery log leaks ids), and nothing is lost
//! when a webhook is — nothing depends on the notice arriving, it only makes
//! things fast. What it costs: one more request per order (the fetch, plus
//! the reconciliation's share), and the receiver must be able to reach the
//! sender's API, which a plain webhook consumer never needs.
//!
//! Seen in the UI: the order page draws notify → fetch → answer (and the
//! reconciliation read, when that is what landed it); the chaos page can
//! make the receiver drop webhooks, which webhook orders never recover
//! from and hybrid orders do at the next reconciliation.

use contract::{Channel, IntegrationMode};

/// How a read of the feed is logged: a read of hybrid orders only is that
/// mode's reconciliation, anything else the poller's feed read.
pub fn feed_channel(mode: Option<IntegrationMode>) -> Channel {
    match mode {
        Some(IntegrationMode::Hybrid) => Channel::Reconcile,
        _ => Channel::Feed,
    }
}

/// How an acknowledgement is logged: for a hybrid order it is the
/// reconciliation's, for a poll order the poller's.
pub fn ack_channel(order_mode: IntegrationMode) -> Channel {
    match order_mode {
        IntegrationMode::Hybrid => Channel::Reconcile,
        _ => Channel::Ack,
    }
}
