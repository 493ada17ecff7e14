//! **What pattern code takes:** the few things every pattern touches — the
//! database, the clock, the live events open pages listen to, the
//! settings, the counters — and the two instruments every integration
//! request passes through: the message log it is written into, and the
//! chaos switch that can break it.
//!
//! Nothing here belongs to one pattern. What a pattern needs beyond this
//! (the receiver's secrets, the intake's group commit, the poller's
//! calls to the store) is a value in the pattern's own module,
//! handed to it beside the context; the handlers' `AppState` is only
//! where they find both. The trade-off: a function's signature says
//! what it uses — `&Context` plus its pattern's value — at the price of a
//! second argument where one `&AppState` used to do.

use std::sync::Arc;

use platform::{Db, LiveHub, SharedClock};

use crate::config::InventoryConfig;
use crate::instruments::chaos::Chaos;
use crate::instruments::messages::MessageLog;
use crate::instruments::metrics::InventoryMetrics;

/// Cheap to clone: handles all of it. The background workers hold a copy.
#[derive(Clone)]
pub struct Context {
    pub db: Db,
    pub clock: SharedClock,
    pub live: LiveHub,
    pub config: Arc<InventoryConfig>,
    pub metrics: InventoryMetrics,
    /// Every request that crossed between the store and this inventory.
    pub log: Arc<MessageLog>,
    /// What is broken on purpose (in memory: a restart heals).
    pub chaos: Arc<Chaos>,
}

impl Context {
    pub fn new(db: Db, config: InventoryConfig, metrics: InventoryMetrics) -> Context {
        let live = LiveHub::new();
        Context {
            log: Arc::new(MessageLog::new(db.clone(), live.clone())),
            chaos: Arc::new(Chaos::default()),
            clock: config.clock.clone(),
            config: Arc::new(config),
            db,
            live,
            metrics,
        }
    }
}
