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
//! transaction fails, every order in it is placed again on its own, so an
//! order that cannot be written fails alone.

use std::sync::Arc;

use contract::order::{NewOrder, Order};
use contract::{FieldError, OrderId, OrderStatus};
use platform::group_commit::Batch;
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
        .await
        .map_err(anyhow::Error::from)?;
    let order = match written {
        Written::Placed(order) => order,
        Written::Invalid(unknown) => return Err(StoreError::validation(unknown)),
        Written::Failed(e) => return Err(e),
        Written::KeyTaken => {
            // A concurrent request with the same key committed first: this
            // one becomes a replay of it, and wrote nothing.
            let (key, fingerprint) = keyed.expect("only a keyed order loses its key");
            return idempotency::replay(app, &key, &fingerprint)
                .await?
                .map(Placed::replay)
                .ok_or(StoreError::IdempotencyKeyInFlight);
        }
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

/// What became of one [`Placement`].
#[derive(Debug)]
pub enum Written {
    /// Committed, as `pending`.
    Placed(Order),
    /// Lines whose SKU the shop does not sell: nothing written.
    Invalid(Vec<FieldError>),
    /// Another order took its idempotency key first: nothing written.
    KeyTaken,
    Failed(StoreError),
}

/// Most orders in one transaction (a crowd larger than this is written in
/// several).
pub const MAX_ORDERS_PER_TRANSACTION: usize = 100;

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

    /// Writes `batch` in one transaction. `Ok(None)`: an idempotency key
    /// was taken, and the transaction rolled back (alone, that order is a
    /// replay; in company, each is placed again on its own).
    async fn write_together(
        &self,
        batch: &[Placement],
    ) -> Result<Option<Vec<Written>>, sqlx::Error> {
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
                Err(unknown) => written.push(Some(Written::Invalid(unknown))),
            }
        }
        if orders.is_empty() {
            tx.rollback().await?;
            return Ok(Some(written.into_iter().flatten().collect()));
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
            return Ok(None);
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
        Ok(Some(
            written
                .into_iter()
                .map(|w| w.unwrap_or_else(|| Written::Placed(placed.next().expect("one each"))))
                .collect(),
        ))
    }

    /// One order alone: its own transaction, its own result.
    async fn write_one(&self, placement: &Placement) -> Written {
        match self.write_together(std::slice::from_ref(placement)).await {
            Ok(Some(mut written)) => written.remove(0),
            Ok(None) => Written::KeyTaken,
            Err(e) => Written::Failed(e.into()),
        }
    }
}

impl Batch for Placements {
    type Job = Placement;
    type Done = Written;

    async fn write(&self, batch: Vec<Placement>) -> Vec<Written> {
        let mut results = Vec::with_capacity(batch.len());
        for chunk in batch.chunks(MAX_ORDERS_PER_TRANSACTION) {
            if let [one] = chunk {
                results.push(self.write_one(one).await);
                continue;
            }
            match self.write_together(chunk).await {
                Ok(Some(written)) => results.extend(written),
                outcome => {
                    if let Err(e) = outcome {
                        tracing::warn!(error = %e, orders = chunk.len(), "a shared order transaction failed; placing each order on its own");
                    }
                    for placement in chunk {
                        results.push(self.write_one(placement).await);
                    }
                }
            }
        }
        results
    }
}
