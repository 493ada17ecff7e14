//! **Do it by hand:** what a page shows beside a recorded message so a
//! learner can check it without this project's code — the exact bytes a
//! webhook signature covers, the steps from secret to `v1,…`, ready-to-run
//! snippets, and the message as a `curl` command that sends it again.
//!
//! Webhook tools (webhook.site, the Stripe CLI, Svix Play) teach the same
//! way: a signature is only understood once it has been recomputed by hand
//! from what crossed the wire. Two traps this module exists to avoid:
//!
//! * **Pretty-printing is not what was signed.** The signature covers
//!   `{webhook-id}.{webhook-timestamp}.{raw body}`, byte for byte; a
//!   re-indented body gives another HMAC. So [`SignedMessage`] carries the
//!   raw bytes (base64, for the page's script) and shows the pretty form
//!   only as a second view, labelled as such.
//! * **The secret stays with the learner.** The page's script computes the
//!   HMAC in the browser (WebCrypto); the field has no `name` and sits in
//!   no form, so the secret is never sent, stored or logged. Without the
//!   script, the openssl snippet does the same in a terminal.
//!
//! The trade-off: a snippet embeds the body, so a large body makes a long
//! snippet. Bodies here are a few hundred bytes; the message logs cap what
//! they keep anyway.

use askama::Template;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

/// One recorded request that carries the three Standard Webhooks headers,
/// laid out for checking its signature by hand.
#[derive(Debug, Clone, Template)]
#[template(path = "shared/by_hand.html")]
pub struct SignedMessage {
    pub webhook_id: String,
    pub timestamp: String,
    /// The `webhook-signature` header as sent: one or more `v1,…`.
    pub signatures: String,
    /// `{id}.{timestamp}.{body}` as text (lossy only if the body is not
    /// UTF-8; the script signs [`SignedMessage::body_base64`] instead).
    pub signed: String,
    /// How many bytes were signed.
    pub signed_len: usize,
    /// The raw body, base64: what the page's script signs.
    pub body_base64: String,
    /// The body re-indented, when that changes it: for reading only.
    pub pretty: Option<String>,
    pub openssl: String,
    pub python: String,
    pub rust: String,
}

impl SignedMessage {
    /// The message's by-hand view, or `None` when it is not a signed
    /// webhook (any of the three headers missing). Header names are
    /// compared without case, as HTTP does.
    pub fn of(headers: &[(String, String)], body: &[u8]) -> Option<SignedMessage> {
        let find = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim().to_owned())
        };
        let webhook_id = find("webhook-id")?;
        let timestamp = find("webhook-timestamp")?;
        let signatures = find("webhook-signature")?;
        let body_text = String::from_utf8_lossy(body);
        let signed = format!("{webhook_id}.{timestamp}.{body_text}");
        let pretty = Some(super::pretty_body(&body_text)).filter(|p| *p != body_text);
        Some(SignedMessage {
            openssl: openssl_snippet(&signed, &signatures),
            python: python_snippet(&signed),
            rust: rust_snippet(&webhook_id, &timestamp, &body_text),
            signed_len: webhook_id.len() + timestamp.len() + 2 + body.len(),
            body_base64: B64.encode(body),
            webhook_id,
            timestamp,
            signatures,
            signed,
            pretty,
        })
    }
}

/// A rendered template, written into the page that shows it unescaped (its
/// own values were escaped when it rendered).
impl askama::filters::HtmlSafe for SignedMessage {}

/// `text` as one shell word, in single quotes (a `'` inside becomes
/// `'\''`): nothing in it is expanded, so the bytes arrive as they are.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

fn openssl_snippet(signed: &str, signatures: &str) -> String {
    format!(
        "SECRET='whsec_…'   # paste the endpoint's secret, shown once when it was added\n\
         KEY=$(printf '%s' \"${{SECRET#whsec_}}\" | openssl base64 -d -A | od -An -tx1 | tr -d ' \\n')\n\
         printf '%s' {} \\\n  | openssl dgst -sha256 -mac HMAC -macopt \"hexkey:$KEY\" -binary \\\n  | openssl base64 -A; echo\n\
         # prints the base64 part; it should be one of: {signatures}",
        shell_quote(signed)
    )
}

fn python_snippet(signed: &str) -> String {
    // A JSON string is a valid Python string literal (same escapes).
    let literal = serde_json::to_string(signed).unwrap_or_default();
    format!(
        "import base64, hashlib, hmac\n\
         secret = \"whsec_…\"  # paste the endpoint's secret\n\
         key = base64.b64decode(secret.removeprefix(\"whsec_\"))\n\
         signed = {literal}.encode()\n\
         print(\"v1,\" + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode())"
    )
}

fn rust_snippet(id: &str, timestamp: &str, body: &str) -> String {
    let body = serde_json::to_string(body).unwrap_or_default();
    format!(
        "// With this project's contract crate (`contract::signing`):\n\
         let secret = contract::signing::WebhookSecret::parse(\"whsec_…\")?;\n\
         let body: &str = {body};\n\
         println!(\"{{}}\", secret.sign({id:?}, {timestamp}, body.as_bytes()));"
    )
}

/// Headers a `curl` replay leaves out: curl writes its own, for the body
/// and the connection it actually sends.
const NOT_REPLAYED: &[&str] = &[
    "host",
    "content-length",
    "connection",
    "accept-encoding",
    "transfer-encoding",
];

/// The request as a `curl` command that sends it again: the same method,
/// URL, headers and raw body (`--data-binary`, which sends the bytes as
/// they are, unlike `-d`, which strips newlines).
pub fn curl(method: &str, url: &str, headers: &[(String, String)], body: &str) -> String {
    let mut out = format!("curl -sS -i -X {method} {}", shell_quote(url));
    for (name, value) in headers {
        if NOT_REPLAYED.contains(&name.to_ascii_lowercase().as_str()) {
            continue;
        }
        out.push_str(&format!(
            " \\\n  -H {}",
            shell_quote(&format!("{name}: {value}"))
        ));
    }
    if !body.is_empty() {
        out.push_str(&format!(" \\\n  --data-binary {}", shell_quote(body)));
    }
    out
}

/// Headers as the logs store them (a JSON object of name → value), as
/// pairs for [`curl`] and [`SignedMessage::of`].
pub fn header_pairs(headers: &serde_json::Value) -> Vec<(String, String)> {
    headers
        .as_object()
        .map(|map| {
            map.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str()
                            .map(str::to_owned)
                            .unwrap_or_else(|| v.to_string()),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use contract::signing::WebhookSecret;

    fn signed_headers(secret: &WebhookSecret, body: &[u8]) -> Vec<(String, String)> {
        vec![
            ("Webhook-Id".into(), "msg_1".into()),
            ("webhook-timestamp".into(), "1700000000".into()),
            (
                "webhook-signature".into(),
                secret.sign("msg_1", 1_700_000_000, body),
            ),
        ]
    }

    #[test]
    fn the_signed_bytes_are_id_timestamp_and_the_raw_body() {
        let secret = WebhookSecret::generate();
        let body = br#"{"type":"ping","data":{}}"#;
        let m = SignedMessage::of(&signed_headers(&secret, body), body).unwrap();
        assert_eq!(m.signed, r#"msg_1.1700000000.{"type":"ping","data":{}}"#);
        assert_eq!(m.signed_len, m.signed.len());
        assert_eq!(B64.decode(&m.body_base64).unwrap(), body);
        // Pretty-printed differs from what was signed, so it is offered.
        assert!(m.pretty.as_deref().unwrap().contains("\n  \"type\""));
        assert!(m.openssl.contains(&shell_quote(&m.signed)), "{}", m.openssl);
    }

    #[test]
    fn without_the_three_headers_there_is_nothing_to_verify() {
        assert!(SignedMessage::of(&[("webhook-id".into(), "msg_1".into())], b"{}").is_none());
    }

    #[test]
    fn a_quote_in_the_body_survives_the_shell() {
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        let c = curl(
            "POST",
            "http://x/y",
            &[
                ("host".into(), "x".into()),
                ("content-type".into(), "application/json".into()),
            ],
            r#"{"name":"O'Brien"}"#,
        );
        assert_eq!(
            c,
            "curl -sS -i -X POST 'http://x/y' \\\n  -H 'content-type: application/json' \\\n  --data-binary '{\"name\":\"O'\\''Brien\"}'"
        );
    }
}
