//! Placing an order: where the four integration modes part ways, and the
//! one place that must never half-happen.
//!
//! [`Checkout::place_order`] reads top-down:
//!
//! 1. **Replay** — an `Idempotency-Key` seen before answers with its first
//!    order and writes nothing (`crate::idempotency`).
//! 2. **Write, in one transaction** ([`Placements`]) — the order, its
//!    lines, its idempotency key, its place in the feed and what its mode
//!    must write with it: in webhook mode the `order.created` event in the
//!    outbox (`integration::webhook`), in hybrid mode the thin
//!    `order.notice` in the same outbox (`integration::hybrid`), in api
//!    mode the call about to be made, leased to this process
//!    (`integration::api`); in poll mode nothing — the feed place is all
//!    the inventory needs (`integration::poll`). One `match` on the mode
//!    says which.
//! 3. **After the commit**, the mode's hand-off: webhook and hybrid hand
//!    the new deliveries to the dispatcher and answer `pending`; api calls
//!    the inventory now and answers `confirmed` or `rejected`; poll does
//!    nothing and answers `pending`.
//!
//! Committing before calling out is the rule that makes crashes harmless: a
//! crash before the commit leaves nothing; a crash after it leaves a
//! recorded order whose outbox event, feed entry or leased api call is
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
use contract::{EventType, FieldError, IntegrationMode, OrderId, OrderStatus, Timestamp};
use platform::group_commit::{Batch, CommitError, GroupCommit};

use crate::context::Context;
use crate::error::StoreError;
use crate::idempotency::{self, IdempotencyKey};
use crate::integration::api::ApiCalls;
use crate::integration::webhook::Webhooks;
use crate::integration::{self, poll};
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

/// Placing orders: the group commit that writes them, and the patterns
/// they are handed to.
pub struct Checkout {
    ctx: Context,
    pub placements: GroupCommit<Placements>,
    api: Arc<ApiCalls>,
}

impl Checkout {
    pub fn new(ctx: Context, webhooks: Arc<Webhooks>, api: Arc<ApiCalls>) -> Checkout {
        Checkout {
            placements: GroupCommit::new(Placements {
                ctx: ctx.clone(),
                webhooks,
                api: api.clone(),
            }),
            ctx,
            api,
        }
    }

    /// Places an order under the store's current integration mode.
    pub async fn place_order(
        &self,
        request: NewOrder,
        key: Option<&IdempotencyKey>,
    ) -> Result<Placed, StoreError> {
        // 1. A key seen before answers with its first order, and writes nothing.
        let keyed = match key {
            Some(key) => {
                let fingerprint = idempotency::fingerprint(&request);
                if let Some(order) = idempotency::replay(&self.ctx.db, key, &fingerprint).await? {
                    return Ok(Placed::replay(order));
                }
                Some((key.clone(), fingerprint))
            }
            None => None,
        };

        // 2. The order and what its mode writes with it, in one transaction.
        let order = match self.write(request, keyed).await? {
            Written::New(order) => order,
            Written::Replay(placed) => return Ok(placed),
        };
        orders::announce_placed(&self.ctx, &order);

        // 3. The mode's hand-off, after the commit (webhook deliveries were
        // handed to the dispatcher at the commit itself).
        let order = match order.mode {
            IntegrationMode::Api => self.api.call(order).await?,
            IntegrationMode::Webhook | IntegrationMode::Poll | IntegrationMode::Hybrid => order,
        };
        Ok(Placed {
            order,
            replayed: false,
        })
    }

    /// Step 2: the placement through the group commit.
    async fn write(
        &self,
        request: NewOrder,
        keyed: Option<(IdempotencyKey, String)>,
    ) -> Result<Written, StoreError> {
        let written = self
            .placements
            .submit(Placement {
                request,
                key: keyed.clone(),
            })
            .await;
        match written {
            Ok(Stored::Order(order)) => Ok(Written::New(order)),
            Ok(Stored::UnknownSkus(unknown)) => Err(StoreError::validation(unknown)),
            Err(CommitError::Write(PlacementError::KeyTaken)) => {
                // A concurrent request with the same key committed first:
                // this one becomes a replay of it, and wrote nothing.
                let (key, fingerprint) = keyed.expect("only a keyed order loses its key");
                idempotency::replay(&self.ctx.db, &key, &fingerprint)
                    .await?
                    .map(|order| Written::Replay(Placed::replay(order)))
                    .ok_or(StoreError::IdempotencyKeyInFlight)
            }
            Err(CommitError::Write(PlacementError::Database(e))) => Err(e.into()),
            Err(e @ CommitError::Abandoned) => Err(anyhow::Error::from(e).into()),
        }
    }
}

/// What step 2 came to: a new order, or the replay of one a concurrent
/// request with the same key placed first.
enum Written {
    New(Order),
    Replay(Placed),
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

/// Writes orders, many per transaction, with what their mode writes with
/// them.
pub struct Placements {
    ctx: Context,
    webhooks: Arc<Webhooks>,
    api: Arc<ApiCalls>,
}

impl Batch for Placements {
    type Job = Placement;
    type Done = Stored;
    type Error = PlacementError;

    /// Most orders in one transaction.
    const MOST: usize = 100;

    /// Writes `batch` in one transaction, or nothing.
    async fn write_together(&self, batch: &[Placement]) -> Result<Vec<Stored>, PlacementError> {
        let now = self.ctx.clock.now();
        let mut tx = self.ctx.db.begin_write().await?;

        // The mode is read inside the transaction (with the prices, in one
        // query): an order is placed entirely before or entirely after a
        // mode switch, never half in each mode.
        let (prices, mode) =
            catalog::prices_and_mode(&mut tx, batch.iter().flat_map(|p| &p.request.items)).await?;
        let mode = mode.unwrap_or(integration::DEFAULT_MODE);
        let priced = Priced::of(batch, &prices, mode, now);
        if priced.orders.is_empty() {
            tx.rollback().await?;
            return Ok(priced.into_results());
        }

        let first_seq = poll::take_feed_seqs(&mut tx, priced.orders.len()).await?;
        orders::insert_all(&mut tx, &priced.orders, first_seq).await?;
        if !idempotency::claim_all(&mut tx, &priced.keys(batch), now).await? {
            tx.rollback().await?;
            return Err(PlacementError::KeyTaken);
        }
        // What the orders' mode writes with them — or nothing.
        let events = match mode {
            IntegrationMode::Webhook => Some(
                self.webhooks
                    .enqueue_order_events(&mut tx, &priced.orders, EventType::OrderCreated, now)
                    .await?,
            ),
            // The same outbox, a thinner event: the inventory fetches the
            // order itself (`integration::hybrid`).
            IntegrationMode::Hybrid => Some(
                self.webhooks
                    .enqueue_order_events(&mut tx, &priced.orders, EventType::OrderNotice, now)
                    .await?,
            ),
            IntegrationMode::Api => {
                self.api.lease_calls(&mut tx, &priced.orders, now).await?;
                None
            }
            IntegrationMode::Poll => None,
        };
        // Every order is in the feed, whatever its mode: long-polled reads
        // in other store processes hear of it at the commit ...
        self.ctx
            .feed_bell
            .notify_in(self.ctx.db.backend(), &mut tx)
            .await?;
        tx.commit().await?;
        // ... and this process's at once.
        self.ctx.feed_bell.ring();
        if let Some(events) = events {
            self.webhooks.hand_over(events, now);
        }
        Ok(priced.into_results())
    }
}

/// A batch of placements, priced: the orders to write, and for each
/// placement either its order's place among them or why it has none.
struct Priced {
    orders: Vec<Order>,
    /// One per placement: `None` for one that became an order (in the
    /// orders' order), or what became of it instead.
    unplaced: Vec<Option<Stored>>,
}

impl Priced {
    fn of(
        batch: &[Placement],
        prices: &catalog::Prices,
        mode: IntegrationMode,
        now: Timestamp,
    ) -> Priced {
        let mut priced = Priced {
            orders: Vec::with_capacity(batch.len()),
            unplaced: Vec::with_capacity(batch.len()),
        };
        for placement in batch {
            let request = &placement.request;
            match prices.lines(&request.items) {
                Ok(lines) => {
                    priced.unplaced.push(None);
                    priced.orders.push(Order {
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
                Err(unknown) => priced.unplaced.push(Some(Stored::UnknownSkus(unknown))),
            }
        }
        priced
    }

    /// The idempotency keys of the placements that became orders.
    fn keys<'a>(&'a self, batch: &'a [Placement]) -> Vec<idempotency::Claim<'a>> {
        batch
            .iter()
            .zip(&self.unplaced)
            .filter(|(_, unplaced)| unplaced.is_none())
            .map(|(p, _)| p)
            .zip(&self.orders)
            .filter_map(|(p, order)| {
                let (key, fingerprint) = p.key.as_ref()?;
                Some(idempotency::Claim {
                    key,
                    fingerprint,
                    order_id: &order.id,
                })
            })
            .collect()
    }

    /// One result per placement, in their order.
    fn into_results(self) -> Vec<Stored> {
        let mut placed = self.orders.into_iter();
        self.unplaced
            .into_iter()
            .map(|w| w.unwrap_or_else(|| Stored::Order(placed.next().expect("one each"))))
            .collect()
    }
}
