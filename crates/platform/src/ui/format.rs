//! Numbers, times and message bodies as people read them: money, counts
//! with their nouns, clock times and durations, product names that do not
//! break between a number and its unit, JSON and XML bodies indented, and
//! the headers a learner should notice highlighted.
//!
//! Display only: what is stored and sent is never what these return.

/// Integer cents as money: `1250` → `€12.50`.
pub fn money(cents: i64) -> String {
    let sign = if cents < 0 { "−" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}€{}.{:02}", abs / 100, abs % 100)
}

/// A count and its noun, agreeing: `1 order`, `3 orders`, `0 orders`.
/// (Regular plurals only, which is every noun these pages count.)
pub fn count(n: i64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A name with each number bound to its unit by a no-break space, so
/// "Sencha green tea, 100 g" wraps at its other spaces and never leaves a
/// lone "g" on a line. Display only: the name itself is unchanged.
pub fn keep_units_together(name: &str) -> String {
    const UNITS: &[&str] = &["g", "kg", "mg", "ml", "cl", "l", "oz", "lb", "cm", "mm"];
    let mut out = String::with_capacity(name.len() + 2);
    let mut after_number = false;
    for (i, word) in name.split(' ').enumerate() {
        if i > 0 {
            let bare = word
                .trim_end_matches([',', '.', ';', ')'])
                .to_ascii_lowercase();
            out.push(if after_number && UNITS.contains(&bare.as_str()) {
                '\u{a0}'
            } else {
                ' '
            });
        }
        out.push_str(word);
        after_number = word.ends_with(|c: char| c.is_ascii_digit());
    }
    out
}

/// `HH:MM:SS` (UTC) of a unix-millisecond time.
pub fn clock_time(ms: i64) -> String {
    let text = contract::Timestamp(ms).to_rfc3339();
    text.get(11..19).unwrap_or(&text).to_owned()
}

/// `YYYY-MM-DD HH:MM:SS UTC`.
pub fn date_time(ms: i64) -> String {
    let text = contract::Timestamp(ms).to_rfc3339();
    match (text.get(0..10), text.get(11..19)) {
        (Some(date), Some(time)) => format!("{date} {time} UTC"),
        _ => text,
    }
}

/// A duration for people: `850 ms`, `1.2 s`, `2 min 05 s`.
pub fn duration_ms(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else if ms < 3_600_000 {
        format!("{} min {:02} s", ms / 60_000, (ms % 60_000) / 1000)
    } else {
        format!("{} h {:02} min", ms / 3_600_000, (ms % 3_600_000) / 60_000)
    }
}

/// A message body made readable: JSON and XML indented, anything else as
/// it came. The text is re-indented, never re-serialised, so keys keep
/// their order and values their exact spelling — it is still the body
/// that was signed, only with line breaks.
pub fn pretty_body(body: &str) -> String {
    let trimmed = body.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        if serde_json::from_str::<serde::de::IgnoredAny>(body).is_ok() {
            return indent_json(body);
        }
    } else if trimmed.starts_with('<')
        && let Some(pretty) = indent_xml(body)
    {
        return pretty;
    }
    body.to_owned()
}

/// Re-indents valid JSON text, two spaces per level.
fn indent_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = text.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.extend(std::iter::repeat_n("  ", depth));
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                // Keep empty containers on one line: `{}`, `[]`.
                while chars.peek().is_some_and(|n| n.is_whitespace()) {
                    chars.next();
                }
                if matches!(chars.peek(), Some('}' | ']')) {
                    out.push(chars.next().unwrap_or(' '));
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

/// Re-indents well-formed XML; `None` if it does not parse.
fn indent_xml(text: &str) -> Option<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut writer = quick_xml::Writer::new_with_indent(Vec::new(), b' ', 2);
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(event) => writer.write_event(event).ok()?,
            Err(_) => return None,
        }
    }
    String::from_utf8(writer.into_inner()).ok()
}

/// A header as the message views show it; the ones that authenticate a
/// message or make it safe to repeat are highlighted.
pub struct HeaderRow {
    pub name: String,
    pub value: String,
    pub highlight: bool,
}

/// The headers a learner should notice.
const NOTABLE_HEADERS: &[&str] = &[
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "authorization",
    "idempotency-key",
];

/// Rows for a logged header object (`{"name": "value", …}`).
pub fn header_rows(headers: &serde_json::Value) -> Vec<HeaderRow> {
    headers
        .as_object()
        .map(|map| {
            map.iter()
                .map(|(name, value)| HeaderRow {
                    highlight: NOTABLE_HEADERS.contains(&name.to_ascii_lowercase().as_str()),
                    name: name.clone(),
                    value: value
                        .as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| value.to_string()),
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_agree_with_their_nouns() {
        assert_eq!(count(1, "order"), "1 order");
        assert_eq!(count(0, "order"), "0 orders");
        assert_eq!(count(138, "poll"), "138 polls");
        assert_eq!(count(2, "void attempt"), "2 void attempts");
    }

    #[test]
    fn numbers_keep_their_units() {
        assert_eq!(
            keep_units_together("Sencha green tea, 100 g"),
            "Sencha green tea, 100\u{a0}g"
        );
        assert_eq!(
            keep_units_together("Gooseneck kettle, 1 l"),
            "Gooseneck kettle, 1\u{a0}l"
        );
        assert_eq!(
            keep_units_together("Kyusu teapot, 350 ml, boxed"),
            "Kyusu teapot, 350\u{a0}ml, boxed"
        );
        // Only a number's unit: other words, and words after words, wrap.
        assert_eq!(
            keep_units_together("Blue stoneware mug"),
            "Blue stoneware mug"
        );
        assert_eq!(keep_units_together("Size g"), "Size g");
        assert_eq!(keep_units_together("2 mugs"), "2 mugs");
    }

    #[test]
    fn json_is_indented_without_reordering() {
        let body = r#"{"type":"order.created","data":{"id":"ord_1","items":[{"sku":"A-1","quantity":2}],"note":"a, {b}: \"c\""},"empty":[]}"#;
        let pretty = pretty_body(body);
        assert_eq!(
            pretty,
            "{\n  \"type\": \"order.created\",\n  \"data\": {\n    \"id\": \"ord_1\",\n    \"items\": [\n      {\n        \"sku\": \"A-1\",\n        \"quantity\": 2\n      }\n    ],\n    \"note\": \"a, {b}: \\\"c\\\"\"\n  },\n  \"empty\": []\n}"
        );
        // Same data, same order.
        let a: serde_json::Value = serde_json::from_str(body).unwrap();
        let b: serde_json::Value = serde_json::from_str(&pretty).unwrap();
        assert_eq!(a, b);
        assert!(pretty.find("\"type\"").unwrap() < pretty.find("\"data\"").unwrap());
    }

    #[test]
    fn xml_is_indented_and_other_text_left_alone() {
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<event><type>order.created</type><data><id>ord_1</id></data></event>";
        assert_eq!(
            pretty_body(xml),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<event>\n  <type>order.created</type>\n  <data>\n    <id>ord_1</id>\n  </data>\n</event>"
        );
        assert_eq!(pretty_body("plain text"), "plain text");
        assert_eq!(pretty_body("{not json"), "{not json");
        assert_eq!(pretty_body("<a><b></a>"), "<a><b></a>");
    }

    #[test]
    fn formatting_for_people() {
        assert_eq!(money(1250), "€12.50");
        assert_eq!(money(5), "€0.05");
        assert_eq!(money(-199), "−€1.99");
        assert_eq!(duration_ms(850), "850 ms");
        assert_eq!(duration_ms(1234), "1.2 s");
        assert_eq!(duration_ms(125_000), "2 min 05 s");
        assert_eq!(clock_time(1_700_000_000_123), "22:13:20");
        assert_eq!(date_time(1_700_000_000_123), "2023-11-14 22:13:20 UTC");
    }
}
