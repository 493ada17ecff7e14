//! The sequence diagram at the top of an order page: a store lane, an
//! inventory lane, and one arrow per message in the direction it went.
//!
//! It is SVG drawn on the server by an askama template
//! (`templates/store/diagram.html`) from geometry computed here, so it
//! needs no script, prints, and is escaped like every other template. The
//! picture is the point of the page: in webhook and api mode the arrows
//! leave the store; in poll mode they leave the inventory; in hybrid mode
//! the notice leaves the store and the fetch (and, when that is what
//! landed the order, the reconciliation's read) the inventory.
//!
//! It keeps its own legend: a **request** is a solid arrow coloured by who
//! opened the connection — red when it got no 2xx answer — and its
//! **answer** a dashed arrow back; a request that got no answer at all has
//! a cross where the answer would have been. Labels are kept to one line
//! (shortened at a word where they must be) and carry their full text as
//! a `<title>`, which browsers show on hover and screen readers read.
//!
//! It also keeps time, which a list of arrows alone does not: where the
//! next message waited more than a second after the last one ended — a
//! retry schedule's 5 s, 30 s, 2 min — a row says "waited 5 s" between
//! them (quicker pauses are the machinery's, not the story's, and stay
//! unsaid); and while an attempt is scheduled, the bottom row says when
//! it leaves. That row is written as a clock time, like the rest of the
//! page, so a re-render that changes nothing draws the same bytes; the
//! page's script turns it into a countdown ("in 12 s") and ticks it.
//!
//! Messages of another mode's channel that merely *listed* the order — the
//! inventory's polls of the feed, which lists every order, in webhook or
//! api mode — never reach the diagram: the order page leaves them out
//! (`super::orders`), since they are not how this order travelled.

use askama::Template;

use contract::{Channel, Party, Timestamp};
use platform::ui::{clock_time, date_time};

use super::exchange::ExchangeItem;

/// The drawing's coordinate space (it scales to the page width).
const WIDTH: i64 = 640;
const STORE_X: i64 = 130;
const INVENTORY_X: i64 = 510;
const TOP: i64 = 78;
/// A message: its label, the request, the answer, the note under it.
const ROW: i64 = 80;
/// Label lengths that fit between (and a little beyond) the lanes.
const LABEL_CHARS: usize = 52;
const NOTE_CHARS: usize = 56;
/// The row that says how long nothing crossed.
const GAP_ROW: i64 = 26;
/// Pauses up to this long are not labelled: dispatch, a fetch's round
/// trip, a poll's turn — not a wait anyone chose.
const GAP_WORTH_SAYING_MS: i64 = 1_000;

#[derive(Template)]
#[template(path = "store/diagram.html")]
pub struct SequenceDiagram {
    pub width: i64,
    pub height: i64,
    pub store_x: i64,
    pub inventory_x: i64,
    pub lifeline_end: i64,
    pub rows: Vec<Arrow>,
    /// The waits between messages worth saying, in the rows between them.
    pub gaps: Vec<Gap>,
    /// When the next scheduled attempt leaves, while one is.
    pub next_attempt: Option<NextAttempt>,
}

/// "waited 5 s", between the message that ended and the next to start.
pub struct Gap {
    pub y: i64,
    pub x: i64,
    pub ms: i64,
    pub text: String,
}

/// The diagram's pending last row: a clock time for pages without
/// script, and a machine-readable one for the countdown.
pub struct NextAttempt {
    /// RFC 3339, for `<time datetime>` and the script.
    pub datetime: String,
    /// `17:40:21 UTC`.
    pub short: String,
    /// `2026-12-03 17:40:21 UTC`, for the tooltip.
    pub full: String,
}

/// A wait for people, to the second: `850 ms`, `5 s`, `2 min`,
/// `1 min 31 s`, `1 h 05 min`. Rounded rather than given to a tenth — a
/// retry schedule's waits are whole seconds, and "5.0 s" reads as a
/// measurement of the machinery.
pub fn waited(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < 1_000 {
        return format!("{ms} ms");
    }
    let seconds = (ms + 500) / 1_000;
    match (seconds / 3_600, seconds % 3_600 / 60, seconds % 60) {
        (0, 0, s) => format!("{s} s"),
        (0, m, 0) => format!("{m} min"),
        (0, m, s) => format!("{m} min {s} s"),
        (h, 0, _) => format!("{h} h"),
        (h, m, _) => format!("{h} h {m:02} min"),
    }
}

/// The gap worth a row between a message that ended at `ended_ms` and
/// the next, which started at `started_ms`.
fn gap_text(ended_ms: i64, started_ms: i64) -> Option<String> {
    let ms = started_ms - ended_ms;
    (ms > GAP_WORTH_SAYING_MS).then(|| format!("waited {}", waited(ms)))
}

// The diagram escapes its own text; embedding it must not escape it twice.
impl askama::filters::HtmlSafe for SequenceDiagram {}

/// One message: the request arrow and, if there was one, the answer.
pub struct Arrow {
    pub anchor: String,
    pub number: usize,
    /// Read by screen readers and shown as a tooltip.
    pub title: String,
    pub label: Text,
    pub note: Text,
    pub y: i64,
    pub x1: i64,
    pub x2: i64,
    pub label_x: i64,
    pub label_y: i64,
    pub head: String,
    pub line_class: &'static str,
    pub head_class: &'static str,
    pub reply: Option<Reply>,
    pub note_y: i64,
    pub note_class: &'static str,
    /// Where the cross goes when nothing answered: in the answer's row,
    /// by the lane that never answered — clear of the request's head.
    pub cross: Option<(i64, i64)>,
}

impl Arrow {
    /// The box a click anywhere in lands on this message (`x`, `y`,
    /// width, height): from above its label to below its note, a little
    /// beyond both lanes — a two-pixel line alone is a hard target.
    pub fn hit_box(&self) -> (i64, i64, i64, i64) {
        let top = self.label_y - 15;
        (
            STORE_X - 24,
            top,
            INVENTORY_X - STORE_X + 48,
            self.note_y + 6 - top,
        )
    }
}

/// A line of text, shortened to fit, with its full wording for `<title>`.
pub struct Text {
    pub shown: String,
    pub full: String,
}

impl Text {
    fn fitted(full: String, max: usize) -> Text {
        Text {
            shown: shorten(&full, max),
            full,
        }
    }

    /// Whether something was cut, so the full text is worth a tooltip.
    pub fn is_cut(&self) -> bool {
        self.shown != self.full
    }
}

pub struct Reply {
    pub y: i64,
    pub x1: i64,
    pub x2: i64,
    pub head: String,
    pub class: &'static str,
    pub head_class: &'static str,
}

/// An arrowhead at (`x`, `y`) pointing right (`dir` = 1) or left (-1).
fn head(x: i64, y: i64, dir: i64) -> String {
    let back = x - dir * 11;
    format!("{x},{y} {back},{} {back},{}", y - 6, y + 6)
}

/// `text` in at most `max` characters: cut at the last space that keeps
/// at least half of it, else anywhere, and marked with an ellipsis.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max.saturating_sub(1)).collect();
    let cut = match cut.rfind(' ') {
        Some(space) if space >= cut.len() / 2 => {
            cut[..space].trim_end_matches([',', ':', '·', ' '])
        }
        _ => cut.as_str(),
    };
    format!("{cut}…")
}

/// "timed out" from "timed out: operation timed out": what kind of
/// failure, without the library's wording after it.
fn failure_kind(error: &str) -> &str {
    error.split(':').next().unwrap_or(error).trim()
}

/// Lanes, in the direction of a message.
struct Lanes {
    from: i64,
    to: i64,
    dir: i64,
}

impl Lanes {
    fn of(initiator: Party) -> Lanes {
        match initiator {
            Party::Store => Lanes {
                from: STORE_X,
                to: INVENTORY_X,
                dir: 1,
            },
            Party::Inventory => Lanes {
                from: INVENTORY_X,
                to: STORE_X,
                dir: -1,
            },
        }
    }
}

fn arrow(ex: &ExchangeItem, y: i64) -> Arrow {
    let lanes = Lanes::of(ex.initiator);
    let (from, to, dir) = (lanes.from, lanes.to, lanes.dir);
    let from_store = ex.initiator == Party::Store;
    // The line stops short of the lifeline so the head sits on it.
    let x2 = to - dir * 2;
    let reply_y = y + 24;
    let reply = ex.status.map(|_| Reply {
        y: reply_y,
        x1: to,
        x2: from + dir * 2,
        head: head(from + dir * 2, reply_y, -dir),
        class: if ex.failed {
            "msg-reply failed"
        } else {
            "msg-reply"
        },
        head_class: if ex.failed {
            "head reply failed"
        } else {
            "head reply"
        },
    });
    // Hybrid's three parts are named, since they share a path with
    // others: a notice is a webhook POST, a fetch reads the order as the
    // UI does, a reconciliation reads the feed as the poller does.
    let part = match ex.channel {
        Channel::Notify => "notify · ",
        Channel::Fetch => "fetch · ",
        Channel::Reconcile => "reconcile · ",
        _ => "",
    };
    let mut label = format!("{}. {part}{} {}", ex.number, ex.method, ex.path);
    if let Some(n) = ex.attempt_no {
        label.push_str(&format!(" · attempt {n}"));
    }
    let note = match (&ex.status, &ex.error) {
        (Some(_), _) => format!("{} · {}", ex.status_text, ex.latency),
        (None, Some(e)) => format!("✕ no answer: {} · {}", failure_kind(e), ex.latency),
        (None, None) => format!("✕ no answer · {}", ex.latency),
    };
    let note_full = match &ex.error {
        Some(e) if ex.status.is_none() => format!("No answer: {e} (after {})", ex.latency),
        _ => note.clone(),
    };
    Arrow {
        anchor: ex.anchor.clone(),
        number: ex.number,
        title: format!(
            "Message {}: {} {} from the {} to the {} — {}",
            ex.number, ex.method, ex.url, ex.initiator, ex.receiver, ex.status_text
        ),
        label: Text::fitted(label, LABEL_CHARS),
        note: Text {
            shown: shorten(&note, NOTE_CHARS),
            full: note_full,
        },
        y,
        x1: from,
        x2,
        label_x: (STORE_X + INVENTORY_X) / 2,
        label_y: y - 9,
        head: head(x2, y, dir),
        // A request is always solid; a failed one is red (the legend).
        line_class: match (ex.failed, from_store) {
            (true, true) => "msg-line by-store failed",
            (true, false) => "msg-line by-inventory failed",
            (false, true) => "msg-line by-store",
            (false, false) => "msg-line by-inventory",
        },
        head_class: match (ex.failed, from_store) {
            (true, _) => "head failed",
            (false, true) => "head by-store",
            (false, false) => "head by-inventory",
        },
        reply,
        note_y: reply_y + 17,
        note_class: if ex.failed {
            "msg-note failed"
        } else {
            "msg-note"
        },
        cross: ex.status.is_none().then_some((to - dir * 16, reply_y)),
    }
}

/// How far below a notice its fetch is drawn: under the notice's label
/// and arrow, above where the notice's answer will go.
const NESTED_GAP: i64 = 52;

/// The fetch a hybrid notice at `i` set off, if the next message is one:
/// it is made while the inventory answers the notice, so it starts after
/// the notice and is the next message of this order.
fn fetched_within(exchanges: &[ExchangeItem], i: usize) -> Option<&ExchangeItem> {
    let (notice, next) = (exchanges.get(i)?, exchanges.get(i + 1)?);
    (notice.channel == Channel::Notify && next.channel == Channel::Fetch).then_some(next)
}

/// Moves an arrow's answer (or the cross where it is missing) and its note
/// down to `reply_y`.
fn move_reply(arrow: &mut Arrow, reply_y: i64) {
    if let Some(reply) = arrow.reply.as_mut() {
        let dir = if reply.x2 < reply.x1 { -1 } else { 1 };
        reply.y = reply_y;
        reply.head = head(reply.x2, reply_y, dir);
    }
    if let Some((x, _)) = arrow.cross {
        arrow.cross = Some((x, reply_y));
    }
    arrow.note_y = reply_y + 17;
}

impl SequenceDiagram {
    pub fn new(exchanges: &[ExchangeItem]) -> SequenceDiagram {
        let mut rows = Vec::new();
        let mut gaps = Vec::new();
        // `y` is the bottom of what is drawn so far; each row starts there.
        let mut y = TOP - 30;
        // When the last message drawn ended (its answer, or its failure).
        let mut ended: Option<i64> = None;
        let mut i = 0;
        while i < exchanges.len() {
            let started = exchanges[i].started_ms;
            if let Some(text) = ended.and_then(|end| gap_text(end, started)) {
                gaps.push(Gap {
                    y: y + 17,
                    x: (STORE_X + INVENTORY_X) / 2,
                    ms: started - ended.unwrap_or(started),
                    text,
                });
                y += GAP_ROW;
            }
            if let Some(fetch) = fetched_within(exchanges, i) {
                // Hybrid: the notice, the fetch it set off, then the
                // notice's answer — which waited for the fetch.
                let mut notice = arrow(&exchanges[i], y + 30);
                let inner = arrow(fetch, y + 30 + NESTED_GAP);
                move_reply(&mut notice, inner.note_y + 22);
                rows.push(notice);
                rows.push(inner);
                ended = Some(exchanges[i].ended_ms.max(fetch.ended_ms));
                i += 2;
                y += 2 * ROW - 10;
            } else {
                rows.push(arrow(&exchanges[i], y + 30));
                ended = Some(exchanges[i].ended_ms);
                i += 1;
                y += ROW;
            }
        }
        let height = if exchanges.is_empty() {
            TOP + ROW
        } else {
            y + 30
        };
        SequenceDiagram {
            width: WIDTH,
            height,
            store_x: STORE_X,
            inventory_x: INVENTORY_X,
            lifeline_end: height - 8,
            rows,
            gaps,
            next_attempt: None,
        }
    }

    /// With a pending row for the attempt scheduled at `at`, if any.
    pub fn with_next_attempt(mut self, at: Option<Timestamp>) -> SequenceDiagram {
        self.next_attempt = at.map(|t| NextAttempt {
            datetime: t.to_rfc3339(),
            short: format!("{} UTC", clock_time(t.millis())),
            full: date_time(t.millis()),
        });
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(number: usize, status: Option<i64>, error: Option<&str>) -> ExchangeItem {
        ExchangeItem {
            id: format!("exg_{number}"),
            anchor: format!("ex-exg_{number}"),
            number,
            channel: contract::Channel::Webhook,
            initiator: Party::Store,
            receiver: Party::Inventory,
            failed: !status.is_some_and(|s| (200..300).contains(&s)),
            method: "POST".into(),
            url: "http://127.0.0.1:8081/webhooks/store".into(),
            path: "/webhooks/store".into(),
            started: String::new(),
            started_full: String::new(),
            started_ms: 0,
            ended_ms: 10_000,
            latency: "10.0 s".into(),
            status,
            status_text: match (status, error) {
                (Some(s), _) => format!("{s}"),
                (None, Some(e)) => format!("no answer: {e}"),
                (None, None) => "no answer".into(),
            },
            error: error.map(str::to_owned),
            attempt_no: Some(number as i64),
            attempt: None,
            request_headers: vec![],
            request_body: String::new(),
            request_body_pretty: None,
            by_hand: None,
            curl: String::new(),
            delivery_id: None,
            response_headers: vec![],
            response_body: None,
        }
    }

    #[test]
    fn requests_are_solid_answers_dashed_and_a_failure_is_red_on_the_request() {
        let d = SequenceDiagram::new(&[exchange(1, Some(503), None), exchange(2, Some(200), None)]);
        assert_eq!(d.rows[0].line_class, "msg-line by-store failed");
        assert_eq!(d.rows[0].head_class, "head failed");
        let reply = d.rows[0].reply.as_ref().expect("a 503 is an answer");
        assert_eq!(reply.class, "msg-reply failed");
        assert_eq!(d.rows[1].line_class, "msg-line by-store");
        assert!(d.rows[1].cross.is_none());
        // The stylesheet draws requests solid and answers dashed.
        let css = platform::ui::APP_CSS;
        let rule = |selector: &str| {
            let start = css
                .find(&format!("{selector} {{"))
                .unwrap_or_else(|| panic!("{selector}"));
            css[start..start + css[start..].find('}').unwrap()].to_owned()
        };
        assert!(!rule("svg .msg-line").contains("dasharray"));
        assert!(!rule("svg .msg-line.failed").contains("dasharray"));
        assert!(rule("svg .msg-reply").contains("dasharray"));
    }

    #[test]
    fn no_answer_is_a_cross_clear_of_the_arrowhead_and_a_short_note_with_the_full_text() {
        let d = SequenceDiagram::new(&[exchange(1, None, Some("timed out: operation timed out"))]);
        let row = &d.rows[0];
        assert!(row.reply.is_none());
        let (cx, cy) = row.cross.expect("a cross");
        // The head spans 11 units back from the lifeline at the request's
        // height; the cross (6 units each way) sits in the answer's row.
        assert!(cy - 6 > row.y + 6, "below the head: {cy} vs {}", row.y);
        assert!(
            cx + 6 < INVENTORY_X,
            "by the lane that never answered: {cx}"
        );
        assert_eq!(row.note.shown, "✕ no answer: timed out · 10.0 s");
        assert_eq!(
            row.note.full,
            "No answer: timed out: operation timed out (after 10.0 s)"
        );
        assert_eq!(row.label.shown, "1. POST /webhooks/store · attempt 1");
        assert!(!row.label.is_cut());
    }

    #[test]
    fn a_long_label_is_shortened_and_keeps_its_full_text() {
        let mut ex = exchange(12, Some(200), None);
        ex.path = "/api/orders/ord_01a220cffd2750fb8e5ceabb45b7589/acknowledgement".into();
        let d = SequenceDiagram::new(&[ex]);
        let label = &d.rows[0].label;
        assert!(label.is_cut());
        assert!(
            label.shown.chars().count() <= LABEL_CHARS,
            "{}",
            label.shown
        );
        assert!(label.shown.ends_with('…'));
        assert!(
            label.full.ends_with("/acknowledgement · attempt 12"),
            "{}",
            label.full
        );
    }

    #[test]
    fn a_hybrid_notice_is_answered_after_the_fetch_it_set_off() {
        let notice = ExchangeItem {
            channel: contract::Channel::Notify,
            ..exchange(1, Some(200), None)
        };
        let fetch = ExchangeItem {
            channel: contract::Channel::Fetch,
            initiator: Party::Inventory,
            receiver: Party::Store,
            method: "GET".into(),
            path: "/api/orders/ord_1".into(),
            attempt_no: None,
            ..exchange(2, Some(200), None)
        };
        let d = SequenceDiagram::new(&[notice, fetch]);
        let (notice, fetch) = (&d.rows[0], &d.rows[1]);
        assert!(
            notice.label.full.starts_with("1. notify · POST"),
            "{}",
            notice.label.full
        );
        assert!(
            fetch.label.full.starts_with("2. fetch · GET"),
            "{}",
            fetch.label.full
        );
        // notify → fetch → fetch's answer → the notice's answer.
        let fetch_answer = fetch.reply.as_ref().unwrap().y;
        let notice_answer = notice.reply.as_ref().unwrap().y;
        assert!(notice.y < fetch.y && fetch.y < fetch_answer && fetch_answer < notice_answer);
        assert!(notice.note_y > notice_answer && d.height > notice.note_y);
        // Its head still points back to the store.
        assert!(
            notice
                .reply
                .as_ref()
                .unwrap()
                .head
                .starts_with(&format!("{},", STORE_X + 2))
        );
    }

    /// Attempt `number`, sent `at_ms` after the first, answered at once.
    fn sent_at(number: usize, at_ms: i64) -> ExchangeItem {
        ExchangeItem {
            started_ms: at_ms,
            ended_ms: at_ms + 3,
            ..exchange(number, Some(503), None)
        }
    }

    #[test]
    fn waits_read_in_whole_human_units() {
        assert_eq!(waited(850), "850 ms");
        assert_eq!(waited(5_000), "5 s");
        assert_eq!(waited(4_997), "5 s");
        assert_eq!(waited(31_000), "31 s");
        assert_eq!(waited(59_600), "1 min");
        assert_eq!(waited(120_000), "2 min");
        assert_eq!(waited(91_000), "1 min 31 s");
        assert_eq!(waited(3_600_000), "1 h");
        assert_eq!(waited(3_900_000), "1 h 05 min");
        assert_eq!(waited(-5), "0 ms");
    }

    #[test]
    fn only_a_wait_of_more_than_a_second_gets_a_row() {
        assert_eq!(gap_text(1_000, 1_999), None);
        assert_eq!(gap_text(1_000, 2_000), None);
        assert_eq!(gap_text(1_000, 2_001).as_deref(), Some("waited 1 s"));
        // A message that started before the last one ended waited nothing.
        assert_eq!(gap_text(5_000, 1_000), None);
    }

    #[test]
    fn retries_have_their_waits_labelled_between_their_arrows() {
        // Under "down": 1 s, then 5 s (Retry-After), 31 s, 2 min — each
        // measured from when the last attempt's answer came.
        let schedule = [
            sent_at(1, 0),
            sent_at(2, 900),
            sent_at(3, 5_903),
            sent_at(4, 36_906),
            sent_at(5, 156_909),
        ];
        let d = SequenceDiagram::new(&schedule);
        let texts: Vec<&str> = d.gaps.iter().map(|g| g.text.as_str()).collect();
        assert_eq!(texts, ["waited 5 s", "waited 31 s", "waited 2 min"]);
        // Each sits between the arrows it separates, clear of both texts.
        for (gap, (before, after)) in d.gaps.iter().zip([(1, 2), (2, 3), (3, 4)]) {
            let (before, after) = (&d.rows[before], &d.rows[after]);
            assert!(
                before.note_y + 12 < gap.y,
                "{} below {}",
                gap.y,
                before.note_y
            );
            assert!(
                gap.y + 12 < after.label_y,
                "{} above {}",
                gap.y,
                after.label_y
            );
        }
        // The drawing grew by a row for each.
        let without = SequenceDiagram::new(&[
            sent_at(1, 0),
            sent_at(2, 1),
            sent_at(3, 2),
            sent_at(4, 3),
            sent_at(5, 4),
        ]);
        assert!(without.gaps.is_empty());
        assert_eq!(d.height, without.height + 3 * GAP_ROW);
    }

    #[test]
    fn the_next_attempt_is_a_clock_time_and_a_datetime_for_the_countdown() {
        let d = SequenceDiagram::new(&[]);
        assert!(d.next_attempt.is_none());
        let at = Timestamp(1_796_321_221_000);
        let next = d
            .with_next_attempt(Some(at))
            .next_attempt
            .expect("a pending row");
        assert_eq!(next.datetime, at.to_rfc3339());
        assert_eq!(next.short, format!("{} UTC", clock_time(at.millis())));
        assert!(next.full.ends_with(&next.short), "{}", next.full);
    }

    #[test]
    fn heads_point_the_way_the_message_went() {
        assert_eq!(head(100, 50, 1), "100,50 89,44 89,56");
        assert_eq!(head(100, 50, -1), "100,50 111,44 111,56");
    }

    #[test]
    fn long_text_is_shortened_at_a_word() {
        assert_eq!(shorten("/api/orders", 34), "/api/orders");
        assert_eq!(shorten("abcdefghij", 5), "abcd…");
        assert_eq!(
            shorten("✕ no answer: could not connect to anything at all", 30),
            "✕ no answer: could not…"
        );
        assert_eq!(failure_kind("timed out: operation timed out"), "timed out");
        assert_eq!(failure_kind("no such thing"), "no such thing");
    }
}
