//! The descriptions' markup, read into a small model the template sets:
//! [`Prose`] is blocks (paragraphs, bullet lists, fenced code), a block is
//! [`Span`]s (text, `code`, *emphasis*, **strong**, each perhaps a link).
//!
//! The descriptions are the handlers' and types' doc comments, which utoipa
//! copies as written: rustdoc's Markdown, intra-doc links included
//! (``[`Order`]``, ``[`check`](crate::human_text::check)``). Those point into
//! the Rust code, not the web, so they become code spans; `http(s)` and
//! in-page (`#anchor`) links stay links; any other target (a relative path,
//! a `javascript:` one) keeps only its words.
//!
//! The trade-off: a full Markdown library (`pulldown-cmark`) reads every
//! corner of CommonMark, but would be a dependency whose output still has to
//! be turned into something safe (it passes raw HTML through), and doc
//! comments use a handful of constructs. This reader knows that handful and
//! nothing else — headings, tables, nested lists and raw HTML are text — and
//! produces plain data: every character reaches the page through askama's
//! escaping, so a description holding `<script>` shows those characters and
//! nothing runs.

use std::collections::BTreeMap;

/// A description, as blocks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prose {
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Paragraph(Vec<Span>),
    /// A bullet (or numbered) list: one run of spans per item.
    List(Vec<Vec<Span>>),
    /// A fenced code block, verbatim.
    Code(String),
}

/// A run of text set one way, perhaps a link.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    pub kind: SpanKind,
    pub text: String,
    /// Only ever `http://…`, `https://…` or `#…`.
    pub href: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanKind {
    Text,
    Code,
    Emphasis,
    Strong,
}

impl Prose {
    pub fn parse(text: &str) -> Prose {
        let (lines, definitions) = split_definitions(text);
        let mut reader = BlockReader {
            definitions: &definitions,
            blocks: Vec::new(),
            paragraph: Vec::new(),
            items: Vec::new(),
            fence: None,
        };
        for line in lines {
            reader.line(line);
        }
        reader.finish()
    }

    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// The spans, when the description is one paragraph: set inline (in a
    /// table cell, a heading) rather than as a `<p>` of its own.
    pub fn inline(&self) -> Option<&[Span]> {
        match self.blocks.as_slice() {
            [Block::Paragraph(spans)] => Some(spans),
            _ => None,
        }
    }

    /// The words without their markup, blocks on lines of their own.
    pub fn plain_text(&self) -> String {
        fn spans(spans: &[Span]) -> String {
            spans.iter().map(|s| s.text.as_str()).collect()
        }
        self.blocks
            .iter()
            .map(|b| match b {
                Block::Paragraph(s) => spans(s),
                Block::List(items) => items
                    .iter()
                    .map(|i| format!("- {}", spans(i)))
                    .collect::<Vec<_>>()
                    .join("\n"),
                Block::Code(code) => code.clone(),
            })
            .collect::<Vec<_>>()
            .join("\n\n")
    }
}

impl Block {
    /// For the template, which reads a block by asking what it is.
    pub fn paragraph(&self) -> Option<&[Span]> {
        match self {
            Block::Paragraph(spans) => Some(spans),
            _ => None,
        }
    }

    pub fn items(&self) -> Option<&[Vec<Span>]> {
        match self {
            Block::List(items) => Some(items),
            _ => None,
        }
    }

    pub fn code(&self) -> Option<&str> {
        match self {
            Block::Code(code) => Some(code),
            _ => None,
        }
    }
}

impl Span {
    fn new(kind: SpanKind, text: impl Into<String>) -> Span {
        Span {
            kind,
            text: text.into(),
            href: None,
        }
    }

    pub fn is_code(&self) -> bool {
        self.kind == SpanKind::Code
    }

    pub fn is_strong(&self) -> bool {
        self.kind == SpanKind::Strong
    }

    pub fn is_emphasis(&self) -> bool {
        self.kind == SpanKind::Emphasis
    }
}

/// Reference-style link definitions (`[Order]: crate::order::Order`), by
/// label: taken out of the text, used by the links that name them.
type Definitions = BTreeMap<String, String>;

fn split_definitions(text: &str) -> (Vec<&str>, Definitions) {
    let mut definitions = Definitions::new();
    let mut lines = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        let definition = trimmed
            .strip_prefix('[')
            .and_then(|rest| rest.split_once("]:"))
            .filter(|(label, target)| !label.is_empty() && !target.trim().is_empty());
        match definition {
            Some((label, target)) => {
                let target = target.split_whitespace().next().unwrap_or_default();
                definitions.insert(label.to_owned(), target.to_owned());
            }
            None => lines.push(line),
        }
    }
    (lines, definitions)
}

struct BlockReader<'a> {
    definitions: &'a Definitions,
    blocks: Vec<Block>,
    /// The current paragraph's lines.
    paragraph: Vec<String>,
    /// The current list's items, each as its lines joined.
    items: Vec<String>,
    /// Inside a fenced code block: its lines so far.
    fence: Option<Vec<String>>,
}

impl BlockReader<'_> {
    fn line(&mut self, line: &str) {
        let trimmed = line.trim();
        if let Some(code) = &mut self.fence {
            if trimmed.starts_with("```") {
                let code = code.join("\n");
                self.fence = None;
                self.blocks.push(Block::Code(code));
            } else {
                code.push(line.to_owned());
            }
            return;
        }
        if trimmed.starts_with("```") {
            self.flush();
            self.fence = Some(Vec::new());
        } else if trimmed.is_empty() {
            self.flush();
        } else if let Some(item) = list_item(trimmed) {
            self.flush_paragraph();
            self.items.push(item.to_owned());
        } else if let Some(last) = self.items.last_mut() {
            // A line after an item continues it (Markdown's lazy
            // continuation), indented or not.
            last.push(' ');
            last.push_str(trimmed);
        } else {
            // A heading reads as a paragraph of its own words.
            let heading = trimmed.trim_start_matches('#');
            if heading.len() < trimmed.len() && heading.starts_with(' ') {
                self.flush();
                self.paragraph.push(heading.trim().to_owned());
                self.flush();
            } else {
                self.paragraph.push(trimmed.to_owned());
            }
        }
    }

    fn flush_paragraph(&mut self) {
        if !self.paragraph.is_empty() {
            let text = self.paragraph.join(" ");
            self.paragraph.clear();
            self.blocks
                .push(Block::Paragraph(inline(&text, self.definitions)));
        }
    }

    fn flush(&mut self) {
        self.flush_paragraph();
        if !self.items.is_empty() {
            let items = self
                .items
                .drain(..)
                .map(|item| inline(&item, self.definitions))
                .collect();
            self.blocks.push(Block::List(items));
        }
    }

    fn finish(mut self) -> Prose {
        if let Some(code) = self.fence.take() {
            // An unclosed fence still shows its lines.
            self.blocks.push(Block::Code(code.join("\n")));
        }
        self.flush();
        Prose {
            blocks: self.blocks,
        }
    }
}

/// The text of a list item, if the line starts one (`- `, `* `, `+ `,
/// `1. `, `1) `).
fn list_item(line: &str) -> Option<&str> {
    for marker in ["- ", "* ", "+ "] {
        if let Some(rest) = line.strip_prefix(marker) {
            return Some(rest.trim());
        }
    }
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && digits <= 3 {
        let rest = &line[digits..];
        for marker in [". ", ") "] {
            if let Some(rest) = rest.strip_prefix(marker) {
                return Some(rest.trim());
            }
        }
    }
    None
}

/// One block's text as spans.
fn inline(text: &str, definitions: &Definitions) -> Vec<Span> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Spans::default();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' if chars.get(i + 1).is_some_and(|n| n.is_ascii_punctuation()) => {
                out.text(chars[i + 1]);
                i += 2;
            }
            '`' => match code_span(&chars, i) {
                Some((code, next)) => {
                    out.push(Span::new(SpanKind::Code, code));
                    i = next;
                }
                None => {
                    // An unmatched run is literal, all of it.
                    let run = run_length(&chars, i, '`');
                    (0..run).for_each(|_| out.text('`'));
                    i += run;
                }
            },
            '[' => match link(&chars, i, definitions) {
                Some((spans, next)) => {
                    spans.into_iter().for_each(|s| out.push(s));
                    i = next;
                }
                None => {
                    out.text('[');
                    i += 1;
                }
            },
            '<' => match autolink(&chars, i) {
                Some((url, next)) => {
                    out.push(Span {
                        href: Some(url.clone()),
                        ..Span::new(SpanKind::Text, url)
                    });
                    i = next;
                }
                None => {
                    out.text('<');
                    i += 1;
                }
            },
            '*' | '_' => match emphasis(&chars, i) {
                Some((kind, inner, next)) => {
                    for mut span in inline(&inner, definitions) {
                        if span.kind == SpanKind::Text {
                            span.kind = kind;
                        }
                        out.push(span);
                    }
                    i = next;
                }
                None => {
                    let run = run_length(&chars, i, c);
                    (0..run).for_each(|_| out.text(c));
                    i += run;
                }
            },
            _ => {
                out.text(c);
                i += 1;
            }
        }
    }
    out.0
}

/// Spans being built: adjacent plain text is kept in one span.
#[derive(Default)]
struct Spans(Vec<Span>);

impl Spans {
    fn text(&mut self, c: char) {
        match self.0.last_mut() {
            Some(last) if last.kind == SpanKind::Text && last.href.is_none() => last.text.push(c),
            _ => self.0.push(Span::new(SpanKind::Text, c.to_string())),
        }
    }

    fn push(&mut self, span: Span) {
        if span.kind == SpanKind::Text && span.href.is_none() {
            span.text.chars().for_each(|c| self.text(c));
        } else if !span.text.is_empty() {
            self.0.push(span);
        }
    }
}

fn run_length(chars: &[char], at: usize, c: char) -> usize {
    chars[at..].iter().take_while(|&&x| x == c).count()
}

/// A code span opening at `at`: its text and where it ends. The closing
/// run has as many backticks as the opening one, so ``` `` a`b `` ``` works.
fn code_span(chars: &[char], at: usize) -> Option<(String, usize)> {
    let run = run_length(chars, at, '`');
    let mut j = at + run;
    while j < chars.len() {
        if chars[j] == '`' {
            let close = run_length(chars, j, '`');
            if close == run {
                let code: String = chars[at + run..j].iter().collect();
                return Some((code.trim().to_owned(), j + run));
            }
            j += close;
        } else {
            j += 1;
        }
    }
    None
}

/// The index just past the bracket that closes the one at `at`, skipping
/// code spans (a `]` in code closes nothing).
fn closing(chars: &[char], at: usize, open: char, close: char) -> Option<usize> {
    let mut depth = 0;
    let mut j = at;
    while j < chars.len() {
        match chars[j] {
            '`' => {
                if let Some((_, next)) = code_span(chars, j) {
                    j = next;
                    continue;
                }
            }
            '\\' => j += 1,
            c if c == open => depth += 1,
            c if c == close => {
                depth -= 1;
                if depth == 0 {
                    return Some(j + 1);
                }
            }
            _ => {}
        }
        j += 1;
    }
    None
}

/// A link opening at `at` (`[label](target)`, `[label][name]`, `[label]`),
/// as the spans it becomes, and where it ends; `None` when the bracket
/// opens no link and is just a bracket.
fn link(chars: &[char], at: usize, definitions: &Definitions) -> Option<(Vec<Span>, usize)> {
    let after_label = closing(chars, at, '[', ']')?;
    let label: String = chars[at + 1..after_label - 1].iter().collect();
    let (target, next) = match chars.get(after_label) {
        Some('(') => {
            let end = closing(chars, after_label, '(', ')')?;
            let inside: String = chars[after_label + 1..end - 1].iter().collect();
            let target = inside.split_whitespace().next().unwrap_or_default();
            let target = target.trim_start_matches('<').trim_end_matches('>');
            (target.to_owned(), end)
        }
        Some('[') => {
            let end = closing(chars, after_label, '[', ']')?;
            let name: String = chars[after_label + 1..end - 1].iter().collect();
            let name = if name.is_empty() { label.clone() } else { name };
            let target = definitions.get(&name).cloned().unwrap_or(name);
            (target, end)
        }
        _ => match definitions.get(&label) {
            Some(target) => (target.clone(), after_label),
            // rustdoc's shortcut: `[Order]`, ``[`Order`]``, `[words!]`.
            None if is_rust_path(&label) || is_one_code_span(&label) => {
                (label.clone(), after_label)
            }
            None => return None,
        },
    };
    let mut spans = inline(&label, definitions);
    if is_web_link(&target) {
        if spans.is_empty() {
            spans.push(Span::new(SpanKind::Text, target.clone()));
        }
        for span in &mut spans {
            span.href = Some(target.clone());
        }
    } else if spans.iter().all(|s| s.kind == SpanKind::Text)
        && is_rust_path(&label)
        && is_rust_path(&target)
    {
        // An intra-doc link written without backticks still names code.
        spans = vec![Span::new(SpanKind::Code, label)];
    }
    Some((spans, next))
}

/// `<https://example.com/x>`.
fn autolink(chars: &[char], at: usize) -> Option<(String, usize)> {
    let end = chars[at..].iter().position(|&c| c == '>')? + at;
    let url: String = chars[at + 1..end].iter().collect();
    (is_web_link(&url) && !url.starts_with('#') && !url.contains(char::is_whitespace))
        .then_some((url, end + 1))
}

/// `*x*`/`_x_` (emphasis) or `**x**`/`__x__` (strong) opening at `at`:
/// its kind, inner text and where it ends. Underscores count only at word
/// edges, so `snake_case_names` stay as they are.
fn emphasis(chars: &[char], at: usize) -> Option<(SpanKind, String, usize)> {
    let c = chars[at];
    let run = run_length(chars, at, c);
    let (kind, n) = match run {
        1 => (SpanKind::Emphasis, 1),
        2 => (SpanKind::Strong, 2),
        _ => return None,
    };
    if c == '_' && at > 0 && chars[at - 1].is_alphanumeric() {
        return None;
    }
    let start = at + n;
    if chars.get(start).is_none_or(|x| x.is_whitespace()) {
        return None;
    }
    let mut j = start;
    while j < chars.len() {
        match chars[j] {
            '`' => {
                if let Some((_, next)) = code_span(chars, j) {
                    j = next;
                    continue;
                }
            }
            x if x == c => {
                let close = run_length(chars, j, c);
                let edge_ok = c != '_' || chars.get(j + close).is_none_or(|x| !x.is_alphanumeric());
                if close == n && !chars[j - 1].is_whitespace() && edge_ok {
                    return Some((kind, chars[start..j].iter().collect(), j + n));
                }
                j += close;
                continue;
            }
            _ => {}
        }
        j += 1;
    }
    None
}

fn is_web_link(target: &str) -> bool {
    target.starts_with("https://") || target.starts_with("http://") || target.starts_with('#')
}

/// `Order`, `crate::order::Order`, `Self::parse`, `words!`: a name rustdoc
/// would resolve.
fn is_rust_path(label: &str) -> bool {
    label.chars().next().is_some_and(|c| c.is_alphabetic())
        && label
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | ':' | '!' | '@'))
}

/// ``` `Order` ```, all of the label.
fn is_one_code_span(label: &str) -> bool {
    let chars: Vec<char> = label.chars().collect();
    chars.first() == Some(&'`') && code_span(&chars, 0).is_some_and(|(_, next)| next == chars.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(text: &str) -> Vec<(SpanKind, String, Option<String>)> {
        match Prose::parse(text).blocks.as_slice() {
            [Block::Paragraph(spans)] => spans
                .iter()
                .map(|s| (s.kind, s.text.clone(), s.href.clone()))
                .collect(),
            other => panic!("not one paragraph: {other:?}"),
        }
    }

    use SpanKind::{Code, Emphasis, Strong, Text};

    fn s(kind: SpanKind, text: &str) -> (SpanKind, String, Option<String>) {
        (kind, text.to_owned(), None)
    }

    #[test]
    fn code_spans_are_kept_apart() {
        assert_eq!(
            spans("pass `after` back, or `x`"),
            [
                s(Text, "pass "),
                s(Code, "after"),
                s(Text, " back, or "),
                s(Code, "x")
            ]
        );
        assert_eq!(spans("a `` b`c `` d")[1], s(Code, "b`c"));
        assert_eq!(spans("one ` alone"), [s(Text, "one ` alone")]);
        assert!(Prose::parse("").is_empty());
        assert!(Prose::parse(" \n\n ").is_empty());
    }

    #[test]
    fn intra_doc_links_become_code_spans() {
        assert_eq!(
            spans("see [`Order`] and [`check`](crate::human_text::check)."),
            [
                s(Text, "see "),
                s(Code, "Order"),
                s(Text, " and "),
                s(Code, "check"),
                s(Text, ".")
            ]
        );
        assert_eq!(
            spans("a [`Word`][crate::Word] or [Customer]"),
            [
                s(Text, "a "),
                s(Code, "Word"),
                s(Text, " or "),
                s(Code, "Customer")
            ]
        );
        // Words with a Rust target keep only their words.
        assert_eq!(
            spans("[the rule](crate::human_text) holds"),
            [s(Text, "the rule holds")]
        );
        // Definitions are used by the links that name them, and not shown.
        let p = Prose::parse("a [`Foo`] here\n\n[`Foo`]: crate::x::Foo");
        assert_eq!(p.plain_text(), "a Foo here");
    }

    #[test]
    fn web_and_in_page_links_stay_links() {
        assert_eq!(
            spans(
                "per [RFC 9457](https://www.rfc-editor.org/rfc/rfc9457), see [below](#schema-Order)"
            ),
            [
                s(Text, "per "),
                (
                    Text,
                    "RFC 9457".into(),
                    Some("https://www.rfc-editor.org/rfc/rfc9457".into())
                ),
                s(Text, ", see "),
                (Text, "below".into(), Some("#schema-Order".into())),
            ]
        );
        assert_eq!(
            spans("[`spec`](https://example.com/s)")[0],
            (Code, "spec".into(), Some("https://example.com/s".into()))
        );
        assert_eq!(
            spans("<https://example.com/a>")[0],
            (
                Text,
                "https://example.com/a".into(),
                Some("https://example.com/a".into())
            )
        );
        // Any other scheme is never a link: only its words are kept.
        assert_eq!(spans("[click](javascript:alert(1))"), [s(Text, "click")]);
        assert_eq!(spans("[up](../x.md)"), [s(Text, "up")]);
        // A bracket that opens no link is a bracket.
        assert_eq!(spans("in [0, 100] or [x"), [s(Text, "in [0, 100] or [x")]);
    }

    #[test]
    fn emphasis_and_strong() {
        assert_eq!(
            spans("**Why.** It is *not* __so__ _here_"),
            [
                s(Strong, "Why."),
                s(Text, " It is "),
                s(Emphasis, "not"),
                s(Text, " "),
                s(Strong, "so"),
                s(Text, " "),
                s(Emphasis, "here")
            ]
        );
        assert_eq!(
            spans("**the `id`** wins"),
            [s(Strong, "the "), s(Code, "id"), s(Text, " wins")]
        );
        // Identifiers and arithmetic are left alone.
        assert_eq!(
            spans("snake_case_name and 2 * 3 * 4 and `a*b*c`"),
            [
                s(Text, "snake_case_name and 2 * 3 * 4 and "),
                s(Code, "a*b*c")
            ]
        );
        assert_eq!(spans(r"\*not\* emphasis"), [s(Text, "*not* emphasis")]);
    }

    #[test]
    fn paragraphs_lists_and_code_blocks() {
        let p = Prose::parse(
            "First line\nsame paragraph.\n\nA list:\n- one `a`\n  goes on\n* two\n\n1. first\n2) second\n\n```json\n{\"a\": 1}\n```\n## Heading",
        );
        let kinds: Vec<&str> = p
            .blocks
            .iter()
            .map(|b| match b {
                Block::Paragraph(_) => "p",
                Block::List(_) => "ul",
                Block::Code(_) => "pre",
            })
            .collect();
        assert_eq!(kinds, ["p", "p", "ul", "ul", "pre", "p"]);
        assert_eq!(
            p.blocks[0],
            Block::Paragraph(vec![Span::new(Text, "First line same paragraph.")])
        );
        let Block::List(items) = &p.blocks[2] else {
            panic!()
        };
        assert_eq!(
            items[0],
            [
                Span::new(Text, "one "),
                Span::new(Code, "a"),
                Span::new(Text, " goes on")
            ]
        );
        assert_eq!(items[1], [Span::new(Text, "two")]);
        assert_eq!(p.blocks[4], Block::Code("{\"a\": 1}".into()));
        assert_eq!(
            p.blocks[5],
            Block::Paragraph(vec![Span::new(Text, "Heading")])
        );
        assert!(p.inline().is_none());
        assert!(Prose::parse("just this").inline().is_some());
    }

    #[test]
    fn markup_characters_are_data_not_html() {
        // The model holds the characters; the template escapes them.
        let p = Prose::parse("<script>alert(1)</script> & <b>x</b>");
        assert_eq!(p.plain_text(), "<script>alert(1)</script> & <b>x</b>");
        assert!(
            p.blocks
                .iter()
                .all(|b| b.paragraph().unwrap().iter().all(|s| s.href.is_none()))
        );
    }
}
