//! The sequence diagram at the top of an order page: a store lane, an
//! inventory lane, and one arrow per message in the direction it went.
//!
//! It is SVG drawn on the server by an askama template
//! (`templates/store/diagram.html`) from geometry computed here, so it
//! needs no script, prints, and is escaped like every other template. The
//! picture is the point of the page: in webhook and api mode the arrows
//! leave the store; in poll mode they leave the inventory. A request is a
//! solid arrow coloured by who opened the connection, its answer a dashed
//! arrow back; a failure is red, and a request that got no answer at all
//! ends in a cross instead of a reply.

use askama::Template;

use contract::Party;

use super::orders::ExchangeItem;

/// The drawing's coordinate space (it scales to the page width).
const WIDTH: i64 = 640;
const STORE_X: i64 = 130;
const INVENTORY_X: i64 = 510;
const TOP: i64 = 78;
const ROW: i64 = 80;

#[derive(Template)]
#[template(path = "store/diagram.html")]
pub struct SequenceDiagram {
    pub width: i64,
    pub height: i64,
    pub store_x: i64,
    pub inventory_x: i64,
    pub lifeline_end: i64,
    pub rows: Vec<Arrow>,
}

// The diagram escapes its own text; embedding it must not escape it twice.
impl askama::filters::HtmlSafe for SequenceDiagram {}

/// One message: the request arrow and, if there was one, the answer.
pub struct Arrow {
    pub anchor: String,
    pub number: usize,
    /// Read by screen readers and shown as a tooltip.
    pub title: String,
    pub label: String,
    pub note: String,
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
    pub label_class: &'static str,
    pub note_class: &'static str,
    /// Where the cross goes when nothing answered.
    pub cross: Option<(i64, i64)>,
}

pub struct Reply {
    pub y: i64,
    pub x1: i64,
    pub x2: i64,
    pub head: String,
    pub class: &'static str,
}

/// An arrowhead at (`x`, `y`) pointing right (`dir` = 1) or left (-1).
fn head(x: i64, y: i64, dir: i64) -> String {
    let back = x - dir * 11;
    format!("{x},{y} {back},{} {back},{}", y - 6, y + 6)
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

impl SequenceDiagram {
    pub fn new(exchanges: &[ExchangeItem]) -> SequenceDiagram {
        let rows = exchanges
            .iter()
            .enumerate()
            .map(|(i, ex)| {
                let y = TOP + i as i64 * ROW;
                let from_store = ex.initiator == Party::Store;
                let (from, to) = if from_store {
                    (STORE_X, INVENTORY_X)
                } else {
                    (INVENTORY_X, STORE_X)
                };
                let dir = if from_store { 1 } else { -1 };
                // The line stops short of the lifeline so the head sits on it.
                let x2 = to - dir * 2;
                let failed = ex.failed;
                let reply_y = y + 24;
                // A message that was not for this order gets no answer drawn:
                // the answer was not about it.
                let reply = ex.status.filter(|_| !ex.incidental).map(|_| Reply {
                    y: reply_y,
                    x1: to,
                    x2: from + dir * 2,
                    head: head(from + dir * 2, reply_y, -dir),
                    class: if failed {
                        "msg-reply failed"
                    } else {
                        "msg-reply"
                    },
                });
                let cross = (ex.status.is_none() && !ex.incidental).then_some((to - dir * 14, y));
                // A message that was not for this order is labelled without
                // its query, to keep it short.
                let path = if ex.incidental {
                    ex.path.split('?').next().unwrap_or("")
                } else {
                    ex.path.as_str()
                };
                let mut label = format!("{} {}", ex.method, shorten(path, 34));
                if let Some(n) = ex.attempt_no {
                    label.push_str(&format!(" · attempt {n}"));
                }
                if ex.incidental {
                    label.push_str(" (not for this mode)");
                }
                let note = if ex.incidental {
                    "the feed lists every order; the poller skips this one".to_owned()
                } else if ex.status.is_some() {
                    format!("{} · {}", ex.status_text, ex.latency)
                } else {
                    format!("✕ {} · {}", shorten(&ex.status_text, 40), ex.latency)
                };
                Arrow {
                    anchor: ex.anchor.clone(),
                    number: ex.number,
                    title: format!(
                        "Message {}: {} {} from the {} to the {} — {}",
                        ex.number, ex.method, ex.url, ex.initiator, ex.receiver, ex.status_text
                    ),
                    label: format!("{}. {label}", ex.number),
                    note,
                    y,
                    x1: from,
                    x2,
                    label_x: (STORE_X + INVENTORY_X) / 2,
                    label_y: y - 9,
                    head: head(x2, y, dir),
                    line_class: match (failed, from_store) {
                        _ if ex.incidental => "msg-line incidental",
                        (true, true) => "msg-line by-store failed",
                        (true, false) => "msg-line by-inventory failed",
                        (false, true) => "msg-line by-store",
                        (false, false) => "msg-line by-inventory",
                    },
                    head_class: match (failed, from_store) {
                        _ if ex.incidental => "head incidental",
                        (true, _) => "head failed",
                        (false, true) => "head by-store",
                        (false, false) => "head by-inventory",
                    },
                    reply,
                    note_y: if ex.incidental { y + 19 } else { reply_y + 17 },
                    label_class: if ex.incidental {
                        "msg-label incidental"
                    } else {
                        "msg-label"
                    },
                    note_class: if failed && !ex.incidental {
                        "msg-note failed"
                    } else {
                        "msg-note"
                    },
                    cross,
                }
            })
            .collect::<Vec<_>>();
        let height = TOP + rows.len().max(1) as i64 * ROW;
        SequenceDiagram {
            width: WIDTH,
            height,
            store_x: STORE_X,
            inventory_x: INVENTORY_X,
            lifeline_end: height - 8,
            rows,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_point_the_way_the_message_went() {
        assert_eq!(head(100, 50, 1), "100,50 89,44 89,56");
        assert_eq!(head(100, 50, -1), "100,50 111,44 111,56");
    }

    #[test]
    fn long_paths_are_shortened() {
        assert_eq!(shorten("/api/orders", 34), "/api/orders");
        assert_eq!(shorten("abcdefghij", 5), "abcd…");
    }
}
