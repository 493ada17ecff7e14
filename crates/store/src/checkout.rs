//! Placing an order: where the three integration modes part ways, and the
//! one place that must never half-happen.
//!
//! Everything the store knows about a new order — the order, its lines,
//! its idempotency key, its place in the feed and, in webhook mode, its
//! outbox event — is written in **one transaction**. Only after that
//! commits does the store talk to anyone, through the mode's
//! [`Handoff`](crate::integration::Handoff):
//!
//! * webhook: hand the new deliveries to the dispatcher
//!   (`integration::webhook`), answer `pending`;
//! * api: call the inventory now (`integration::api`), answer `confirmed`
//!   or `rejected`;
//! * poll: nothing; the inventory will find it in the feed
//!   (`integration::poll`), answer `pending`.
//!
//! Committing before calling out is the rule that makes crashes harmless: a
//! crash before the commit leaves nothing; a crash after it leaves a
//! recorded order whose outbox event, feed entry or pending api call is
//! picked up again on restart.
//!
//! **Orders placed at the same moment share the transaction** (group
//! commit, `platform::group_commit`): [`Placements`] writes every order
//! that arrived while the previous transaction was committing with one
//! statement per table, so thirty-two customers pay for one commit, not
//! thirty-two. Nobody waits for company — an order alone is a batch of one
//! — and nobody is answered before their order has committed. If such a
//! transaction fails, every order in it is placed again on its own (the
//! group commit's policy), so an order that cannot be written fails alone.

use std::sync::Arc;

use contract::order::{NewOrder, Order};
use contract::{FieldError, OrderId, OrderStatus};
use platform::group_commit::{Batch, CommitError};
use platform::lease::Leases;
use platform::{Db, SharedClock};

use crate::error::StoreError;
use crate::idempotency::{self, IdempotencyKey};
use crate::integration::webhook::Dispatch;
use crate::integration::{self, Workers, poll};
use crate::state::AppState;
use crate::{catalog, orders};

/// A placed order, and whether it is a replay of an earlier request with
/// the same `Idempotency-Key`.
#[derive(Debug, Clone)]
pub struct Placed {
    pub order: Order,
    pub replayed: bool,
}

impl Placed {
    fn replay(order: Order) -> Placed {
        Placed {
            order,
            replayed: true,
        }
    }
}

/// Places an order under the store's current integration mode.
pub async fn place_order(
    app: &AppState,
    request: NewOrder,
    key: Option<&IdempotencyKey>,
) -> Result<Placed, StoreError> {
    // A key seen before answers with its first order, and writes nothing.
    let keyed = match key {
        Some(key) => {
            let fingerprint = idempotency::fingerprint(&request);
            if let Some(order) = idempotency::replay(app, key, &fingerprint).await? {
                return Ok(Placed::replay(order));
            }
            Some((key.clone(), fingerprint))
        }
        None => None,
    };

    let written = app
        .placements
        .submit(Placement {
            request,
            key: keyed.clone(),
        })
        .await;
    let order = match written {
        Ok(Stored::Order(order)) => order,
        Ok(Stored::UnknownSkus(unknown)) => return Err(StoreError::validation(unknown)),
        Err(CommitError::Write(PlacementError::KeyTaken)) => {
            // A concurrent request with the same key committed first: this
            // one becomes a replay of it, and wrote nothing.
            let (key, fingerprint) = keyed.expect("only a keyed order loses its key");
            return idempotency::replay(app, &key, &fingerprint)
                .await?
                .map(Placed::replay)
                .ok_or(StoreError::IdempotencyKeyInFlight);
        }
        Err(CommitError::Write(PlacementError::Database(e))) => return Err(e.into()),
        Err(e @ CommitError::Abandoned) => return Err(anyhow::Error::from(e).into()),
    };
    orders::announce_placed(app, &order);

    let order = integration::after_commit(app, order).await?;
    Ok(Placed {
        order,
        replayed: false,
    })
}

/// An order to write: what was asked for, and its idempotency key with the
/// request's fingerprint.
pub struct Placement {
    pub request: NewOrder,
    pub key: Option<(IdempotencyKey, String)>,
}

/// What became of one [`Placement`] in a transaction that committed.
#[derive(Debug)]
pub enum Stored {
    /// Committed, as `pending`.
    Order(Order),
    /// Lines whose SKU the shop does not sell: nothing written.
    UnknownSkus(Vec<FieldError>),
}

/// Why placements could not be written (nothing was).
#[derive(Debug, thiserror::Error)]
pub enum PlacementError {
    /// Another order took an idempotency key first (alone, this order is
    /// a replay of it; in company, each is placed again on its own).
    #[error("an idempotency key was taken by another order")]
    KeyTaken,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Writes orders, many per transaction.
pub struct Placements {
    db: Db,
    clock: SharedClock,
    dispatch: Arc<Dispatch>,
    api_calls: Arc<Leases>,
}

impl Placements {
    pub fn new(
        db: Db,
        clock: SharedClock,
        dispatch: Arc<Dispatch>,
        api_calls: Arc<Leases>,
    ) -> Placements {
        Placements {
            db,
            clock,
            dispatch,
            api_calls,
        }
    }
}

impl Batch for Placements {
    type Job = Placement;
    type Done = Stored;
    type Error = PlacementError;

    /// Most orders in one transaction.
    const MOST: usize = 100;

    /// Writes `batch` in one transaction, or nothing.
    async fn write_together(&self, batch: &[Placement]) -> Result<Vec<Stored>, PlacementError> {
        let now = self.clock.now();
        let mut tx = self.db.begin_write().await?;

        // The mode is read inside the transaction (with the prices, in one
        // query): an order is placed entirely before or entirely after a
        // mode switch, never half in each mode.
        let (prices, mode) =
            catalog::prices_and_mode(&mut tx, batch.iter().flat_map(|p| &p.request.items)).await?;
        let mode = mode.unwrap_or(integration::DEFAULT_MODE);
        let mut written = Vec::with_capacity(batch.len());
        let mut orders = Vec::with_capacity(batch.len());
        for placement in batch {
            let request = &placement.request;
            match prices.lines(&request.items) {
                Ok(lines) => {
                    written.push(None);
                    orders.push(Order {
                        id: OrderId::new(),
                        status: OrderStatus::Pending,
                        mode,
                        customer: request.customer.clone(),
                        total_cents: lines.iter().map(|l| l.line_total_cents).sum(),
                        items: lines,
                        created_at: now,
                        status_reason: None,
                    });
                }
                Err(unknown) => written.push(Some(Stored::UnknownSkus(unknown))),
            }
        }
        if orders.is_empty() {
            tx.rollback().await?;
            return Ok(written.into_iter().flatten().collect());
        }

        let first_seq = poll::take_feed_seqs(&mut tx, orders.len()).await?;
        orders::insert_all(&mut tx, &orders, first_seq).await?;
        // The placements that became orders, in the orders' order.
        let keys: Vec<idempotency::Claim> = batch
            .iter()
            .zip(&written)
            .filter(|(_, decided)| decided.is_none())
            .map(|(p, _)| p)
            .zip(&orders)
            .filter_map(|(p, order)| {
                let (key, fingerprint) = p.key.as_ref()?;
                Some(idempotency::Claim {
                    key,
                    fingerprint,
                    order_id: &order.id,
                })
            })
            .collect();
        if !idempotency::claim_all(&mut tx, &keys, now).await? {
            tx.rollback().await?;
            return Err(PlacementError::KeyTaken);
        }
        let workers = Workers {
            dispatch: &self.dispatch,
            api_calls: &self.api_calls,
        };
        let handover =
            integration::within_orders_transaction(&mut tx, mode, &orders, now, workers).await?;
        tx.commit().await?;
        handover.start(&self.dispatch, now);

        let mut placed = orders.into_iter();
        Ok(written
            .into_iter()
            .map(|w| w.unwrap_or_else(|| Stored::Order(placed.next().expect("one each"))))
            .collect())
    }
}
