//! **webhook mode — push, event-driven.** The whole flow, top to bottom,
//! one file per step:
//!
//! 1. **Outbox** ([`outbox`]). Inside the transaction that writes the
//!    order, the `order.created` event is stored as a message, with one
//!    delivery row per subscribed endpoint. Either the order and its event
//!    both commit or neither does.
//! 2. **Hand over** ([`dispatcher`]). The new delivery is written already
//!    leased to this process's [`OutboxDispatcher`], and handed to it in
//!    memory the moment the transaction commits: the first attempt leaves
//!    within a millisecond, without reading back what was just written.
//! 3. **Claim with a lease** ([`dispatcher`]). Retries, expired leases,
//!    redeliveries and work from other store processes are claimed from
//!    the database by stamping them with the dispatcher's id and a lease
//!    expiry in one `UPDATE … RETURNING`, so two dispatchers never send the
//!    same attempt at once and a crashed one's work is taken over when its
//!    lease runs out. At most `max_in_flight` attempts run at a time.
//! 4. **Sign and send** ([`attempt`]). Each attempt is signed per Standard
//!    Webhooks with a fresh `webhook-timestamp` and the same `webhook-id`,
//!    sent with a timeout and without following redirects; where and with
//!    which secrets comes from [`targets`], kept in memory.
//! 5. **Decide** ([`retry`]). `2xx` → succeeded; `410 Gone` → the endpoint
//!    is disabled (its queue waits); anything else → retry on the schedule
//!    with jitter — later, if a `429`/`503` says `Retry-After` a longer
//!    time — until it runs out and the delivery is `failed`.
//! 6. **Record, resolve and publish** ([`recorder`], [`attempt`]). The
//!    attempt is written to the message log in the same transaction that
//!    moves the delivery on and, when the inventory's answer says what it
//!    did, resolves the order: `confirmed`, or `backordered` when the push
//!    oversold — the store accepted the order without knowing the stock,
//!    which is the price of push. Attempts that finish together share that
//!    transaction. Then the live views hear of it.
//!
//! Around the flow: [`endpoints`] (who receives what, signed with which
//! secret — registration, rotation, pings, and a [`test_event`] of the
//! learner's own) with its [`subscription`],
//! [`destination`] (where a webhook may be sent at all), and
//! [`deliveries`] (the delivery log, and redelivering by hand), and
//! [`replay`] (a delivered message sent again as it was, to any allowed
//! URL, to watch a receiver's duplicate and timestamp checks).
//!
//! The receiving half is `inventory::integration::webhook_receiver`.
//! Seen in the UI: the order timeline (each attempt with its signature
//! headers), the settings page's delivery log, and the flow page.

pub mod attempt;
pub mod claim;
pub mod deliveries;
pub mod delivery;
pub mod destination;
pub mod dispatcher;
pub mod endpoints;
pub mod outbox;
pub mod recorder;
pub mod replay;
pub mod resolver;
pub mod retry;
pub mod secrets;
pub mod subscription;
pub mod targets;
pub mod test_event;

use std::sync::Arc;

use sqlx::AnyConnection;
use tokio::sync::Notify;

use contract::order::Order;
use contract::{EventType, Timestamp};
use platform::group_commit::GroupCommit;
use platform::lease::Leases;

pub use dispatcher::{Dispatch, OutboxDispatcher};

use crate::context::Context;
use delivery::DELIVERY_LEASES;
use outbox::Enqueued;
use recorder::Recorder;
use resolver::ResolverUrl;
use targets::Targets;

/// The webhook machinery of one store process: the dispatcher's handle,
/// where each endpoint is and how it is signed for, which one resolves
/// orders, the recorder of finished attempts, the HTTP client that sends
/// them — and the context they run in.
pub struct Webhooks {
    pub ctx: Context,
    pub dispatch: Arc<Dispatch>,
    pub targets: Targets,
    pub resolver: ResolverUrl,
    pub recorder: GroupCommit<Recorder>,
    pub client: reqwest::Client,
}

impl Webhooks {
    /// The machinery for a process whose leases are in `owner`'s name.
    pub fn new(ctx: Context, owner: &str) -> anyhow::Result<Webhooks> {
        let settings = &ctx.config.webhook;
        let leases = Leases::new(DELIVERY_LEASES, owner, ctx.config.lease_term);
        let dispatch = Arc::new(Dispatch::new(
            leases,
            settings.max_in_flight,
            settings.max_in_flight_per_endpoint,
            Arc::new(Notify::new()),
        ));
        let resolver = ResolverUrl::of_inventory(&ctx.config.inventory_url);
        Ok(Webhooks {
            targets: Targets::new(resolver.clone()),
            recorder: GroupCommit::new(Recorder::new(
                ctx.db.clone(),
                ctx.clock.clone(),
                owner.to_owned(),
            )),
            // Where webhooks go is other people's input: every address a
            // name resolves to is checked when it is connected to
            // (`destination`), and no proxy from the environment gets a say.
            client: reqwest::Client::builder()
                .timeout(settings.timeout)
                .connect_timeout(settings.timeout.min(std::time::Duration::from_secs(3)))
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .dns_resolver(destination::Destinations::new(&settings.allowed_hosts))
                .build()?,
            resolver,
            dispatch,
            ctx,
        })
    }

    /// Step 1, inside the orders' transaction: their events (`order.created`,
    /// or hybrid mode's thin `order.notice`) in the outbox, leased to this
    /// process where it has room.
    pub async fn enqueue_order_events(
        &self,
        conn: &mut AnyConnection,
        orders: &[Order],
        event_type: EventType,
        now: Timestamp,
    ) -> Result<Enqueued, sqlx::Error> {
        let lease = self.dispatch.lease_for_new(now);
        outbox::enqueue_order_events(conn, orders, event_type, now, lease.as_ref()).await
    }

    /// Step 2, once that transaction has committed: the leased deliveries
    /// to the dispatcher, at once; the others it claims from the database.
    pub fn hand_over(&self, enqueued: Enqueued, now: Timestamp) {
        self.dispatch.hand_over(enqueued.leased);
        if enqueued.unleased {
            self.dispatch.look_at(now);
        }
    }
}
