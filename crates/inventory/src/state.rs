//! What the handlers hold: the shared [`Context`] and each pattern's own
//! value. Nothing here is used by pattern code — a pattern takes the
//! context and its own value, never this — so this module is the top of
//! the import graph, below only the handlers and start-up.

use std::sync::Arc;

use crate::context::Context;
use crate::integration::intake::Intake;
use crate::integration::poller::{Feed, Poller};
use crate::integration::subscription::Subscriber;
use crate::integration::update_inventory::UpdateInventory;
use crate::integration::webhook_receiver::WebhookReceiver;
use crate::integration::webhook_secrets::Secrets;
use crate::keys::KeyCache;
use crate::store_api::StoreApi;

pub struct AppState {
    pub ctx: Context,
    /// `POST /webhooks/store`.
    pub webhook_receiver: WebhookReceiver,
    /// `POST /update_inventory` and its void.
    pub update_inventory: UpdateInventory,
    /// Paused, paced and fired by the poller's API and page.
    pub poller: Arc<Poller>,
    /// Hybrid mode's reconciliation: the poller's machinery on its own
    /// cursor (`Feed::Reconcile`); fired by `POST /api/reconciler/run`.
    pub reconciler: Arc<Poller>,
    /// The API keys `/update_inventory` accepts, kept in memory; managed
    /// by the keys API and page.
    pub api_keys: Arc<KeyCache>,
    /// The subscription's steps, for the status card: asking the store
    /// whether our endpoint is still there, and subscribing once more. The
    /// worker that subscribes at start runs a clone of it.
    pub subscriber: Subscriber,
}

impl AppState {
    /// Each pattern's value, sharing one intake (what the store sends is
    /// applied in one transaction per moment, whichever channel it came
    /// by); `secrets` and `store` are shared with the subscription.
    pub fn new(ctx: Context, secrets: Arc<Secrets>, store: StoreApi) -> AppState {
        let intake = Arc::new(Intake::new(ctx.db.clone(), ctx.clock.clone()));
        let api_keys = Arc::new(KeyCache::default());
        AppState {
            subscriber: Subscriber::new(ctx.clone(), store.clone(), secrets.clone()),
            webhook_receiver: WebhookReceiver::new(
                ctx.db.clone(),
                secrets,
                intake.clone(),
                store.clone(),
            ),
            update_inventory: UpdateInventory::new(api_keys.clone(), intake.clone()),
            reconciler: Arc::new(Poller::new(Feed::Reconcile, intake.clone(), store.clone())),
            poller: Arc::new(Poller::new(Feed::Poll, intake, store)),
            api_keys,
            ctx,
        }
    }
}
