//! Step 3 of a poll cycle: **acknowledge the page** — one
//! `POST /api/acknowledgements` for every order of the page that was this
//! reader's to land, each with its outcome.
//!
//! One request per page, not per order: a poller that sent fifty
//! acknowledgements for a page of fifty paid fifty-one requests a page and
//! fell behind its own feed under load. The store resolves the page in one
//! transaction and answers item by item; the cursor moves only if every
//! item is settled there (`resolved`, or `duplicate`: decided before — for
//! a hybrid order, by the answer to its notice). An item the store will not
//! take (`conflict`, `not_found`) fails the cycle, so the page is read and
//! acknowledged again — the same stance as the single acknowledgement's
//! `409`/`404` had: never move past an order the store did not settle.

use anyhow::anyhow;

use contract::inventory::{AckResult, OrderAcknowledgement, PageAcknowledged, PageAcknowledgement};
use contract::{ApplyOutcome, OrderId, Verdict, VerdictKind};
use platform::ui::count;

use super::Poller;
use crate::context::Context;
use crate::instruments::messages::NewMessage;
use crate::store_api;

/// What the poller tells the store about one order: its outcome, with the
/// customer's words for a backorder when there are none of its own.
pub fn item(
    order_id: &OrderId,
    outcome: ApplyOutcome,
    reason: Option<String>,
) -> OrderAcknowledgement {
    let reason = reason.or_else(|| {
        (outcome == ApplyOutcome::Backordered).then(|| {
            "Accepted, but the inventory is short: it will ship when restocked.".to_owned()
        })
    });
    OrderAcknowledgement {
        order_id: order_id.clone(),
        outcome,
        reason,
    }
}

impl Poller {
    /// Sends the page's acknowledgements in one request (none for a page
    /// with nothing to acknowledge) and logs it; an error unless the store
    /// settled every item.
    pub(super) async fn acknowledge_page(
        &self,
        ctx: &Context,
        acknowledgements: Vec<OrderAcknowledgement>,
    ) -> anyhow::Result<()> {
        if acknowledgements.is_empty() {
            return Ok(());
        }
        // One order: the entry is about it, and says its outcome (as an
        // order's own acknowledgement did); several: how many.
        let (only_order, what) = match acknowledgements.as_slice() {
            [one] => (Some(one.order_id.clone()), one.outcome.as_str().to_owned()),
            many => (None, count(many.len() as i64, "order")),
        };
        let sent = acknowledgements.len();
        let page = PageAcknowledgement { acknowledgements };
        let request = self.store.post("/api/acknowledgements").json(&page);
        let rec = self.store.send(request, ctx.clock.now()).await?;
        let answered = store_api::read::<PageAcknowledged>(&rec, "acknowledgement")
            .map_err(|failed| anyhow!("acknowledging the page failed: {failed}"))
            .and_then(|answer| settled(answer, sent));
        let verdict = match &answered {
            Ok(duplicates) if *duplicates == sent => Verdict::with_detail(
                VerdictKind::Duplicate,
                "the store had settled every order already",
            ),
            Ok(0) => Verdict::with_detail(VerdictKind::Acknowledged, what),
            Ok(duplicates) => Verdict::with_detail(
                VerdictKind::Acknowledged,
                format!("{what}, {duplicates} settled already"),
            ),
            Err(failed) => Verdict::with_detail(VerdictKind::Failed, failed.to_string()),
        };
        let message = NewMessage::sent(self.feed.ack_channel(), &rec, verdict).about(only_order);
        ctx.log.record(message).await;
        answered.map(|_| ())
    }
}

/// How many items the store had settled before (duplicates), or why the
/// page is not settled: an item it refused, or an answer that does not
/// match what was sent.
fn settled(answer: PageAcknowledged, sent: usize) -> anyhow::Result<usize> {
    if answer.results.len() != sent {
        anyhow::bail!(
            "the store answered {} results for {sent} acknowledgements",
            answer.results.len()
        );
    }
    if let Some(refused) = answer.results.iter().find(|r| !r.result.settled()) {
        anyhow::bail!(
            "the store did not take the acknowledgement of {} ({}): {}",
            refused.order_id,
            refused.result,
            refused.detail.as_deref().unwrap_or("no detail")
        );
    }
    Ok(answer
        .results
        .iter()
        .filter(|r| r.result == AckResult::Duplicate)
        .count())
}
