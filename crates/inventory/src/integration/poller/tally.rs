//! What the poller makes of a page, in words for its message log: how
//! many orders it brought for the first time, and whether any were short
//! of stock — the oversell pull allows, said, not hidden.

use contract::{ApplyOutcome, Verdict, VerdictKind};
use platform::ui::count;

/// Orders a page brought for the first time, by what became of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Tally {
    applied: u32,
    /// Taken, but the stock was short.
    backordered: u32,
}

impl Tally {
    /// Counts an order applied now (a repeat counts for nothing).
    pub(super) fn count(&mut self, first_time: bool, outcome: ApplyOutcome) {
        if !first_time {
            return;
        }
        match outcome {
            ApplyOutcome::Backordered => self.backordered += 1,
            _ => self.applied += 1,
        }
    }

    pub(super) fn first_time(self) -> u32 {
        self.applied + self.backordered
    }
}

/// What the inventory made of one page of the feed: nothing there
/// (`empty`), orders but none to apply (`nothing_new` — other modes'
/// orders, or ones applied on an earlier read: not "empty", there were
/// orders), orders applied — or some short of stock, the oversell pull
/// allows, which is what the page's verdict then says.
pub(super) fn page_verdict(seen: usize, tally: Tally) -> Verdict {
    match (seen, tally.first_time(), tally.backordered) {
        (0, _, _) => Verdict::new(VerdictKind::Empty),
        (seen, 0, _) => Verdict::with_detail(
            VerdictKind::NothingNew,
            format!("{} seen, none to apply", count(seen as i64, "order")),
        ),
        (seen, applied, 0) => Verdict::with_detail(
            VerdictKind::Applied,
            format!("{applied} of {}", count(seen as i64, "order")),
        ),
        (seen, _, short) => Verdict::with_detail(
            VerdictKind::Backordered,
            format!(
                "{short} of {} short of stock, {} applied",
                count(seen as i64, "order"),
                tally.applied
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_judged_by_what_it_brought() {
        let tally = |applied, backordered| Tally {
            applied,
            backordered,
        };
        assert_eq!(page_verdict(0, tally(0, 0)).to_string(), "empty");
        assert_eq!(
            page_verdict(3, tally(0, 0)).to_string(),
            "nothing new: 3 orders seen, none to apply"
        );
        assert_eq!(page_verdict(3, tally(0, 0)).kind, VerdictKind::NothingNew);
        assert_eq!(
            page_verdict(3, tally(2, 0)).to_string(),
            "applied: 2 of 3 orders"
        );
        assert_eq!(
            page_verdict(3, tally(1, 1)).to_string(),
            "backordered: 1 of 3 orders short of stock, 1 applied"
        );
        // One order is one order.
        assert_eq!(
            page_verdict(1, tally(0, 0)).to_string(),
            "nothing new: 1 order seen, none to apply"
        );
        assert_eq!(
            page_verdict(1, tally(1, 0)).to_string(),
            "applied: 1 of 1 order"
        );
        assert_eq!(
            page_verdict(1, tally(0, 1)).to_string(),
            "backordered: 1 of 1 order short of stock, 0 applied"
        );
    }
}
