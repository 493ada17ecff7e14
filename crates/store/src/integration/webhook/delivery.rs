//! A delivery — one webhook message on its way to one endpoint — as this
//! store process holds it: [`Claimed`] (with everything its attempt needs,
//! read once), [`Waiting`] for its turn on the wire with its lease held,
//! and the [`Lease`] an order's transaction writes its new deliveries
//! under. The steps (`outbox`, `dispatcher`, `attempt`, `recorder`) pass
//! these along; none of them owns the words.

use std::collections::HashSet;
use std::sync::Arc;

use contract::{DeliveryId, EndpointId, EventType, MessageId, OrderId, Timestamp};
use platform::lease::{Held, LeasedTable};

use crate::vocabulary::Trigger;

/// A delivery this process holds the lease on, with what its attempt needs.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: DeliveryId,
    pub message_id: MessageId,
    pub endpoint_id: EndpointId,
    pub order_id: Option<OrderId>,
    pub event_type: EventType,
    /// Attempts and failures so far.
    pub attempts: i64,
    pub failures: i64,
    pub next_trigger: Trigger,
    /// The stored event, byte for byte.
    pub payload: Arc<str>,
    /// Until when the lease was granted (renewed from then on, while held).
    pub leased_until: Timestamp,
}

/// A claimed delivery waiting in this process for its turn on the wire,
/// with its lease held (and so renewed) until its attempt is recorded.
#[derive(Debug)]
pub struct Waiting {
    pub claimed: Claimed,
    pub held: Held,
}

/// The delivery rows' leases.
pub const DELIVERY_LEASES: LeasedTable = LeasedTable {
    table: "webhook_deliveries",
    id_column: "id",
};

/// A lease on deliveries being written, granted to an order's transaction:
/// it covers every endpoint but those whose queue in this process is full
/// (their deliveries are written unleased, for whoever has room).
#[derive(Debug, Clone)]
pub struct Lease {
    pub owner: String,
    pub until: Timestamp,
    full: HashSet<EndpointId>,
}

impl Lease {
    /// A lease for `owner` until `until`, on every endpoint but `full`.
    pub fn new(owner: &str, until: Timestamp, full: HashSet<EndpointId>) -> Lease {
        Lease {
            owner: owner.to_owned(),
            until,
            full,
        }
    }

    /// Whether a new delivery to `endpoint` is written leased to us.
    pub fn covers(&self, endpoint: &EndpointId) -> bool {
        !self.full.contains(endpoint)
    }
}
