//! Secrets out of every record: what the message logs keep of a request or
//! an answer, with each credential replaced by a hint — the one place that
//! turns a message into a record, and the one place a secret is hidden.
//!
//! Both services record every message that crosses between them, headers
//! and bodies, because showing them is the point of the demo. Some of
//! those messages carry a secret *in the body*: the store's answer to the
//! inventory's subscription (`{"secret": "whsec_…"}`), a rotation's answer,
//! an API key being created. A log that kept them would hand the signing
//! secret to anyone who can read the log — and with it the power to forge
//! an `order.created` that moves stock. So a message becomes a record only
//! through [`body`] (or [`for_log`]) and [`logged_header`] (or
//! [`request_headers`]), which replace:
//!
//! * the `Authorization` header (and cookies), as ever, by a hint
//!   (`Bearer pp_d…e_me`, see [`secret`]);
//! * in a JSON body, the value of every member named like a secret —
//!   `secret`, `…_secret`, `api_key`, `token`, `password`, and `key` when
//!   it holds something key-shaped — wherever it is nested;
//! * in an XML body, the text of every element with such a name;
//! * anywhere else, and in what the two above could not parse (a body cut
//!   short, plain text), anything shaped like a webhook secret
//!   (`whsec_…`) or a key this demo issues (`pp_…`).
//!
//! They are applied by the writers of both message logs (requests
//! received) and by [`crate::outbound`] (requests sent, answers
//! received), so no page or list needs a filter of its own: what is not
//! recorded cannot leak. The one answer that creates or rotates a secret
//! still carries it to its caller; only the record of it does not. The
//! same hint hides a key in the key lists, and [`url()`] a database
//! password in a log line.
//!
//! The trade-off: the hint keeps the first and last four characters (as
//! the key lists do), which lets a person tell two keys apart and costs an
//! attacker nothing worth having. The road not taken — dropping the bodies
//! of such messages altogether — would hide from the learner what the
//! subscription exchange looks like.

use std::borrow::Cow;

use actix_web::HttpRequest;
use serde_json::Value;

/// The longest header value a record keeps (a longer one is cut, with a
/// marker): headers are bounded on the way in ([`crate::limits`]), but a
/// log line need not hold kilobytes of one.
pub const MAX_LOGGED_HEADER: usize = 512;

/// A secret as logs and the UI show it: its first and last four characters
/// (`pp_d…e_me`), or only `…` when it is too short to show any of it.
pub fn secret(value: &str) -> String {
    let n = value.chars().count();
    if n <= 8 {
        return "…".into();
    }
    let head: String = value.chars().take(4).collect();
    let tail: String = value.chars().skip(n - 4).collect();
    format!("{head}…{tail}")
}

/// The value of an `Authorization` header as the logs show it: the scheme,
/// and the credential as a hint.
fn authorization(value: &str) -> String {
    match value.split_once(' ') {
        Some((scheme, token)) => format!("{scheme} {}", secret(token)),
        None => secret(value),
    }
}

/// A URL safe to print: any password replaced by `***` (a database URL in
/// an error or a log line).
pub fn url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Whether a JSON member or XML element of this name holds a secret.
/// `key` is a secret only when it holds one (see [`looks_like_a_key`]).
fn is_secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "secret" | "api_key" | "apikey" | "token" | "access_token" | "password"
    ) || name.ends_with("_secret")
        || name.ends_with("_token")
        || name.ends_with("_password")
}

/// A value that could be a key: one word of sixteen characters or more.
fn looks_like_a_key(value: &str) -> bool {
    value.chars().count() >= 16 && !value.chars().any(char::is_whitespace)
}

fn hides(name: &str, value: &str) -> bool {
    is_secret_name(name) || (name.eq_ignore_ascii_case("key") && looks_like_a_key(value))
}

/// A body as the message logs keep it: secrets replaced by hints (see the
/// module comment). Text without secrets comes back unchanged, byte for
/// byte.
pub fn body(text: &str) -> Cow<'_, str> {
    // Every name `hides` can match contains one of these words; a body that
    // names none of them (an order, an answer with stock) is not parsed —
    // this runs for every message both services record.
    let named = ["secret", "key", "token", "password"].iter().any(|word| {
        text.as_bytes()
            .windows(word.len())
            .any(|w| w.eq_ignore_ascii_case(word.as_bytes()))
    });
    if !named {
        return shapes(text);
    }
    let structured = match text.trim_start().as_bytes().first() {
        Some(b'{' | b'[') => json(text),
        Some(b'<') => xml(text),
        _ => None,
    };
    match structured {
        Some(redacted) => Cow::Owned(shapes(&redacted).into_owned()),
        None => shapes(text),
    }
}

/// A body as a message log stores it: [`body`], then cut at `max` bytes
/// (in that order: a cut could split a secret so it is no longer found).
pub fn for_log(text: &str, max: usize) -> String {
    truncate_for_log(&body(text), max)
}

/// At most `max` bytes of `text`, cut at a character boundary, with a
/// marker saying how much was left out.
pub fn truncate_for_log(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… [{} more bytes]", &text[..end], text.len() - end)
}

/// One header as the message logs keep it: credentials as hints, and no
/// value longer than [`MAX_LOGGED_HEADER`].
fn header(name: &str, value: &str) -> String {
    let value = if name.eq_ignore_ascii_case("authorization")
        || name.eq_ignore_ascii_case("proxy-authorization")
    {
        authorization(value)
    } else if name.eq_ignore_ascii_case("cookie") || name.eq_ignore_ascii_case("set-cookie") {
        cookies(value)
    } else if is_secret_name(&name.replace('-', "_")) || name.eq_ignore_ascii_case("x-api-key") {
        secret(value)
    } else {
        shapes(value).into_owned()
    };
    truncate_for_log(&value, MAX_LOGGED_HEADER)
}

/// One header as the message logs keep it: the name, and the value as text
/// (`<binary>` if it is not text) with credentials as hints and no more
/// than [`MAX_LOGGED_HEADER`] bytes. For requests received (actix headers)
/// and sent (reqwest headers) alike, so no log ever holds a key.
pub fn logged_header(name: &str, value: &[u8]) -> (String, String) {
    let text = std::str::from_utf8(value).unwrap_or("<binary>");
    (name.to_owned(), header(name, text))
}

/// The headers of a request received, as the message logs keep them.
pub fn request_headers(req: &HttpRequest) -> Vec<(String, String)> {
    req.headers()
        .iter()
        .map(|(name, value)| logged_header(name.as_str(), value.as_bytes()))
        .collect()
}

/// `a=1; b=2` with every value hinted: a session cookie is a credential.
fn cookies(value: &str) -> String {
    value
        .split(';')
        .map(|pair| match pair.split_once('=') {
            Some((name, v)) => format!("{name}={}", secret(v)),
            None => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// JSON with secret members hinted; `None` if it is not JSON, or holds
/// no secret member (the text is then kept as it was).
fn json(text: &str) -> Option<String> {
    let mut value: Value = serde_json::from_str(text).ok()?;
    redact_value(&mut value).then(|| value.to_string())
}

/// Hints every secret member under `value`; whether any was found.
fn redact_value(value: &mut Value) -> bool {
    match value {
        Value::Object(members) => {
            let mut found = false;
            for (name, member) in members.iter_mut() {
                match member {
                    Value::String(s) if hides(name, s) => {
                        *s = secret(s);
                        found = true;
                    }
                    other => found |= redact_value(other),
                }
            }
            found
        }
        // Every item, not up to the first with a secret.
        Value::Array(items) => items
            .iter_mut()
            .map(redact_value)
            .fold(false, std::ops::BitOr::bitor),
        _ => false,
    }
}

/// XML with the text of every secret element hinted; `None` when there is
/// none. A scanner, not a parser: it looks for `<name>text</name>` pairs,
/// which is all a secret in these documents ever is.
fn xml(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut found = false;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        rest = &rest[open..];
        let name_len = rest[1..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | ':' | '.')))
            .unwrap_or(rest.len() - 1);
        let name = &rest[1..1 + name_len];
        let Some(tag_end) = rest.find('>') else {
            break;
        };
        let self_closing = rest[..tag_end].ends_with('/');
        let local = name.rsplit(':').next().unwrap_or(name);
        let close = format!("</{name}>");
        if !name.is_empty()
            && !self_closing
            && let Some(end) = rest[tag_end..].find(&close)
        {
            let content = &rest[tag_end + 1..tag_end + end];
            if !content.contains('<') && hides(local, content.trim()) {
                out.push_str(&rest[..=tag_end]);
                out.push_str(&secret(content.trim()));
                rest = &rest[tag_end + end..];
                found = true;
                continue;
            }
        }
        out.push_str(&rest[..=tag_end]);
        rest = &rest[tag_end + 1..];
    }
    out.push_str(rest);
    found.then_some(out)
}

/// A secret's prefix, and the characters that may follow it.
type Shape = (&'static str, fn(char) -> bool);

/// The shapes of the secrets this demo hands out, found in any text: a
/// webhook secret (`whsec_` and base64) or an issued key (`pp_` and a word).
const SHAPES: &[Shape] = &[
    ("whsec_", |c| {
        c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=')
    }),
    ("pp_", |c| c.is_ascii_alphanumeric() || c == '_'),
];

/// The shortest run after a prefix taken for a secret (shorter ones are
/// words that merely start the same way).
const MIN_SHAPE_CHARS: usize = 12;

fn shapes(text: &str) -> Cow<'_, str> {
    let mut result: Cow<'_, str> = Cow::Borrowed(text);
    for (prefix, allowed) in SHAPES {
        if !result.contains(prefix) {
            continue;
        }
        let mut out = String::with_capacity(result.len());
        let mut rest: &str = &result;
        while let Some(at) = rest.find(prefix) {
            let tail = &rest[at + prefix.len()..];
            let run = tail.find(|c: char| !allowed(c)).unwrap_or(tail.len());
            // A prefix in the middle of a word is not one.
            let starts_word = rest[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_ascii_alphanumeric() && c != '_');
            out.push_str(&rest[..at]);
            let token = &rest[at..at + prefix.len() + run];
            if starts_word && run >= MIN_SHAPE_CHARS {
                out.push_str(&secret(token));
            } else {
                out.push_str(token);
            }
            rest = &rest[at + prefix.len() + run..];
        }
        out.push_str(rest);
        result = Cow::Owned(out);
    }
    result
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    #[test]
    fn keys_and_credentials_become_hints() {
        assert_eq!(secret("sk_demo_1234567890"), "sk_d…7890");
        assert_eq!(
            authorization("Bearer sk_demo_1234567890"),
            "Bearer sk_d…7890"
        );
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            url("postgres://app:s3cret@db:5432/store"),
            "postgres://app:***@db:5432/store"
        );
        assert_eq!(url("sqlite:data/store.db"), "sqlite:data/store.db");
    }

    #[test]
    fn truncation_respects_characters() {
        assert_eq!(truncate_for_log("abc", 5), "abc");
        assert_eq!(truncate_for_log("abcdef", 3), "abc… [3 more bytes]");
        assert_eq!(truncate_for_log("ééé", 3), "é… [4 more bytes]");
    }

    #[test]
    fn secret_members_are_hinted_wherever_they_are() {
        let answer = format!(
            r#"{{"id":"whe_1","url":"http://x/hook","secret":"{SECRET}","nested":{{"signing_secret":"{SECRET}","items":[{{"api_key":"pp_0123456789abcdef"}}]}}}}"#
        );
        let kept = body(&answer);
        assert!(!kept.contains("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), "{kept}");
        let v: Value = serde_json::from_str(&kept).unwrap();
        assert_eq!(v["secret"], "whse…LaSw");
        assert_eq!(v["nested"]["signing_secret"], "whse…LaSw");
        assert_eq!(v["nested"]["items"][0]["api_key"], "pp_0…cdef");
        assert_eq!(v["url"], "http://x/hook");
    }

    #[test]
    fn a_secret_s_fingerprint_is_kept_beside_the_hidden_secret() {
        // A rotation's answer: the new secret is hidden; the fingerprints of
        // the secrets that sign now are not secret (see
        // `contract::signing::WebhookSecret::fingerprint`) and stay
        // readable, so the log shows which secret the inventory got.
        let answer = format!(
            r#"{{"id":"whe_1","secret_fingerprints":["f74e1720b7614881","0123456789abcdef"],"secret":"{SECRET}"}}"#
        );
        let kept = body(&answer);
        assert!(!kept.contains("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), "{kept}");
        let v: Value = serde_json::from_str(&kept).unwrap();
        assert_eq!(v["secret"], "whse…LaSw");
        assert_eq!(
            v["secret_fingerprints"],
            serde_json::json!(["f74e1720b7614881", "0123456789abcdef"])
        );
    }

    #[test]
    fn a_key_is_a_secret_only_when_it_holds_one() {
        let created = r#"{"id":"key_1","label":"ci","key":"pp_7f3a9c0d1e2b4a5f6c7d8e9f"}"#;
        assert!(!body(created).contains("pp_7f3a9c0d1e2b4a5f6c7d8e9f"));
        let setting = r#"{"key":"colour","value":"blue"}"#;
        assert_eq!(body(setting), setting);
    }

    #[test]
    fn bodies_without_secrets_are_kept_byte_for_byte() {
        for text in [
            "{ \"order_id\" : \"ord_1\",\n \"items\": [] }",
            "<update_inventory><order_id>ord_1</order_id></update_inventory>",
            "plain text",
            "",
            "{broken",
        ] {
            assert!(matches!(body(text), Cow::Borrowed(_)), "{text}");
        }
    }

    #[test]
    fn xml_elements_named_like_secrets_are_hinted() {
        let doc = format!(
            "<?xml version=\"1.0\"?><endpoint><id>whe_1</id><secret>{SECRET}</secret><x:token>abc</x:token><note>the secret is safe</note></endpoint>"
        );
        let kept = body(&doc);
        assert!(kept.contains("<secret>whse…LaSw</secret>"), "{kept}");
        assert!(kept.contains("<x:token>…</x:token>"), "{kept}");
        assert!(kept.contains("<note>the secret is safe</note>"), "{kept}");
    }

    #[test]
    fn secret_shapes_are_found_in_text_json_cannot_read() {
        let cut = format!(r#"{{"id":"whe_1","secret":"{SECRET}","descr"#);
        assert!(!body(&cut).contains("MfKQ9r8G"), "{}", body(&cut));
        let text = format!("your secret is {SECRET}, keep it");
        assert_eq!(body(&text), "your secret is whse…LaSw, keep it");
        // Words that merely start like one are left alone.
        assert_eq!(
            body("app_name whsec_ short pp_x"),
            "app_name whsec_ short pp_x"
        );
    }

    #[test]
    fn headers_hide_credentials_and_stay_short() {
        assert_eq!(
            header("Authorization", "Bearer pp_demo_store_key_change_me"),
            "Bearer pp_d…e_me"
        );
        assert_eq!(
            header(
                "cookie",
                "pushpull_operator=0123456789abcdef0123; theme=dark"
            ),
            "pushpull_operator=0123…0123; theme=…"
        );
        assert_eq!(header("x-api-key", "pp_0123456789abcdef"), "pp_0…cdef");
        assert_eq!(
            header("content-type", "application/json"),
            "application/json"
        );
        let long = header("webhook-id", &"m".repeat(8 * 1024));
        assert!(long.len() < MAX_LOGGED_HEADER + 64, "{}", long.len());
        assert!(long.contains("more bytes"));
    }

    proptest! {
        /// Whatever a body holds, a secret in a `secret` member never
        /// survives its redaction, and nothing panics.
        #[test]
        fn a_secret_never_survives(prefix in ".{0,40}", suffix in ".{0,40}", nested in any::<bool>()) {
            let member = serde_json::json!({"secret": SECRET});
            let value = if nested { serde_json::json!({"a": [member], "p": prefix}) } else { member };
            let text = format!("{prefix}{value}{suffix}");
            prop_assert!(!body(&text).contains("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
            prop_assert!(!body(&value.to_string()).contains("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
        }

        #[test]
        fn any_text_is_redacted_without_panicking(text in ".{0,200}") {
            let _ = body(&text);
            let _ = header("x", &text);
        }
    }
}
