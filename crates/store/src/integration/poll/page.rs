//! **Acknowledging by the page.** A poller that reads a page of fifty
//! orders and then sends fifty acknowledgements pays fifty-one requests
//! per page; under load it falls behind its own feed, and polling looks
//! slow when what is slow is saying "done" one order at a time.
//! `POST /api/acknowledgements` takes every order of a page in one request
//! and resolves them in **one transaction**, so a poll cycle costs two
//! requests (read, acknowledge) whatever its size.
//!
//! The rules are the single acknowledgement's ([`super::acknowledge`]):
//! only poll and hybrid orders are the feed's to resolve, and the first
//! answer decides. What changes is how a wrong item is told: not with the
//! request's status (that would fail the good items with it) but with a
//! result per item — `resolved`, `duplicate`, `conflict` (another mode's
//! channel resolves that order) or `not_found`. The trade-off: a client
//! must read the results, not just the status, to know every order was
//! taken; the inventory's poller does, and moves its cursor only when all
//! are `resolved` or `duplicate`.

use std::collections::{HashMap, HashSet};

use contract::inventory::{
    AckResult, AcknowledgementResult, MAX_ACKNOWLEDGEMENTS, OrderAcknowledgement, PageAcknowledged,
    PageAcknowledgement,
};
use contract::{IntegrationMode, OrderId, OrderStatus};

use crate::context::Context;
use crate::error::StoreError;
use crate::orders::{self, Resolution};

/// An order's mode and status, as the page's transaction found it.
#[derive(sqlx::FromRow)]
struct Standing {
    #[sqlx(try_from = "String")]
    id: OrderId,
    #[sqlx(try_from = "String")]
    mode: IntegrationMode,
    #[sqlx(try_from = "String")]
    status: OrderStatus,
}

/// Checks the page's size: at least one item, at most the feed's page.
pub fn check_size(page: &PageAcknowledgement) -> Result<(), StoreError> {
    match page.acknowledgements.len() {
        0 => Err(StoreError::bad_request(
            "`acknowledgements` is empty: send at least one",
        )),
        n if n > MAX_ACKNOWLEDGEMENTS => Err(StoreError::bad_request(format!(
            "`acknowledgements` has {n} items; at most {MAX_ACKNOWLEDGEMENTS} (a page of the feed)"
        ))),
        _ => Ok(()),
    }
}

/// Resolves every order of the page in one transaction and says, item by
/// item, what became of it. The modes of the orders found are returned
/// too, for the message log's channel.
#[tracing::instrument(skip_all, fields(items = page.acknowledgements.len()))]
pub async fn acknowledge_page(
    ctx: &Context,
    page: &PageAcknowledgement,
) -> Result<(PageAcknowledged, Vec<IntegrationMode>), StoreError> {
    check_size(page)?;
    let items = &page.acknowledgements;
    // Owned (status, reason) per item first: `Resolution` borrows them.
    let decided: Vec<_> = items
        .iter()
        .map(|a| orders::resolution(a.outcome, a.reason.clone()))
        .collect();
    // An order listed twice: its first item decides it, a later one is a
    // repeat (and is not resolved a second way in the same statement).
    let mut first: HashMap<&OrderId, usize> = HashMap::new();
    for (n, item) in items.iter().enumerate() {
        first.entry(&item.order_id).or_insert(n);
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin_write().await?;
    let standing = read_standing(&mut tx, items).await?;
    let mut moved = HashSet::new();
    for mode in [IntegrationMode::Poll, IntegrationMode::Hybrid] {
        let resolutions: Vec<Resolution> = items
            .iter()
            .zip(&decided)
            .enumerate()
            .filter(|(n, (a, _))| first[&a.order_id] == *n)
            .map(|(_, pair)| pair)
            .filter(|(a, _)| standing.get(&a.order_id).is_some_and(|s| s.mode == mode))
            .map(|(a, (status, reason))| Resolution {
                order_id: &a.order_id,
                status: *status,
                reason: reason.as_deref(),
            })
            .collect();
        if !resolutions.is_empty() {
            moved.extend(orders::resolve_all(&mut tx, mode, &resolutions, now).await?);
        }
    }
    tx.commit().await?;
    ctx.metrics.acknowledgements.inc_by(items.len() as u64);

    let mut results = Vec::with_capacity(items.len());
    for (n, item) in items.iter().enumerate() {
        let deciding = first[&item.order_id];
        let (status, reason) = &decided[deciding];
        let moved_now = moved.contains(&item.order_id);
        let result = match standing.get(&item.order_id) {
            Some(s) if moved_now && deciding == n => {
                orders::announce_resolution(
                    ctx,
                    &item.order_id,
                    s.mode,
                    *status,
                    reason.as_deref(),
                );
                answer(item, AckResult::Resolved, Some(*status), None)
            }
            Some(s) => item_without_change(item, s, moved_now, *status),
            None => answer(
                item,
                AckResult::NotFound,
                None,
                Some(format!("no order {}", item.order_id)),
            ),
        };
        results.push(result);
    }
    let modes = standing.values().map(|s| s.mode).collect();
    Ok((PageAcknowledged { results }, modes))
}

/// An item that changed nothing: a repeat, or another mode's order.
fn item_without_change(
    item: &OrderAcknowledgement,
    standing: &Standing,
    moved_by_an_earlier_item: bool,
    // What the earlier item decided.
    decided: OrderStatus,
) -> AcknowledgementResult {
    let status = if moved_by_an_earlier_item {
        decided
    } else {
        standing.status
    };
    match standing.mode {
        IntegrationMode::Poll | IntegrationMode::Hybrid => {
            answer(item, AckResult::Duplicate, Some(status), None)
        }
        other => answer(
            item,
            AckResult::Conflict,
            Some(status),
            Some(format!(
                "order {} was placed in {other} mode: its own channel resolves it, not an \
                 acknowledgement (only poll and hybrid orders are acknowledged)",
                item.order_id
            )),
        ),
    }
}

fn answer(
    item: &OrderAcknowledgement,
    result: AckResult,
    status: Option<OrderStatus>,
    detail: Option<String>,
) -> AcknowledgementResult {
    AcknowledgementResult {
        order_id: item.order_id.clone(),
        result,
        status,
        detail,
    }
}

/// The mode and status of every listed order that exists, read inside the
/// page's transaction (one statement).
async fn read_standing(
    conn: &mut sqlx::AnyConnection,
    items: &[OrderAcknowledgement],
) -> Result<HashMap<OrderId, Standing>, sqlx::Error> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT id, mode, status FROM orders WHERE id IN ({})",
        platform::db::placeholders(1, items.len())
    ));
    let mut query = sqlx::query_as::<_, Standing>(sql);
    for item in items {
        query = query.bind(item.order_id.as_str());
    }
    let rows = query.fetch_all(&mut *conn).await?;
    Ok(rows.into_iter().map(|s| (s.id.clone(), s)).collect())
}
