//! Standard Webhooks signatures (<https://www.standardwebhooks.com>).
//!
//! A webhook is an unauthenticated HTTP request arriving from the internet,
//! so the receiver needs proof of two things: that the sender knows a secret
//! they share, and that this exact request is fresh. The spec's answer, which
//! Svix, Clerk, Resend and others use and which the store follows:
//!
//! * `webhook-id` — unique per message, *unchanged* across retries, so the
//!   receiver can deduplicate;
//! * `webhook-timestamp` — unix seconds of *this attempt*, so a captured
//!   request cannot be replayed later than the tolerance (±5 minutes);
//! * `webhook-signature` — `v1,<base64 HMAC-SHA256>` over
//!   `"{id}.{timestamp}.{raw body}"`, keyed with the base64-decoded part of a
//!   `whsec_…` secret. Several space-separated signatures may be present,
//!   which is how a secret is rotated without downtime: the sender signs with
//!   the old and the new secret until the old one expires.
//!
//! Two rules make verification safe, and both are easy to get wrong:
//! the MAC is computed over the **raw bytes** received (re-serialising parsed
//! JSON changes whitespace and key order and breaks the signature — or worse,
//! verifies something other than what will be processed), and signatures are
//! compared in **constant time** (`subtle`), so response timing does not leak
//! how many leading bytes of a forged signature were right.
//!
//! The road not taken: asymmetric signatures (the spec's `v1a`, ed25519)
//! would let anyone verify without holding a secret that can also sign. They
//! matter when one sender serves many receivers who should not be able to
//! forge for each other; with one endpoint per secret HMAC is simpler and is
//! what nearly every provider ships.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use thiserror::Error;

type HmacSha256 = Hmac<Sha256>;

pub const HEADER_ID: &str = "webhook-id";
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
pub const HEADER_SIGNATURE: &str = "webhook-signature";

/// How far a `webhook-timestamp` may be from the receiver's clock, in either
/// direction, before the message is refused as stale (or from the future).
pub const DEFAULT_TOLERANCE_SECONDS: i64 = 5 * 60;

const SECRET_PREFIX: &str = "whsec_";
/// The spec asks for 24 to 64 bytes of key material; 32 matches SHA-256.
const SECRET_BYTES: usize = 32;

/// A signing secret: the key bytes behind a `whsec_<base64>` string.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret {
    key: Vec<u8>,
}

// Never print key material, not even in debug logs.
impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(whsec_…)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SecretError {
    #[error("a webhook secret looks like `whsec_` followed by base64")]
    Malformed,
    #[error("a webhook secret holds 24 to 64 bytes of key material")]
    WrongLength,
}

impl WebhookSecret {
    /// A fresh random secret (32 bytes from the operating system's CSPRNG).
    pub fn generate() -> WebhookSecret {
        let mut key = vec![0u8; SECRET_BYTES];
        rand::fill(&mut key[..]);
        WebhookSecret { key }
    }

    /// Parses `whsec_<base64>`. The prefix is optional on input, as in the
    /// reference libraries, because people paste secrets without it.
    pub fn parse(text: &str) -> Result<WebhookSecret, SecretError> {
        let b64 = text
            .trim()
            .strip_prefix(SECRET_PREFIX)
            .unwrap_or(text.trim());
        let key = B64.decode(b64).map_err(|_| SecretError::Malformed)?;
        if !(24..=64).contains(&key.len()) {
            return Err(SecretError::WrongLength);
        }
        Ok(WebhookSecret { key })
    }

    /// The `whsec_…` form, shown to the endpoint owner once, on creation or
    /// rotation.
    pub fn expose(&self) -> String {
        format!("{SECRET_PREFIX}{}", B64.encode(&self.key))
    }

    fn mac(&self, id: &str, timestamp: i64, body: &[u8]) -> [u8; 32] {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.finalize().into_bytes().into()
    }

    /// One `v1,<base64>` signature over `"{id}.{timestamp}.{body}"`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        format!("v1,{}", B64.encode(self.mac(id, timestamp, body)))
    }

    /// A name for this secret that is safe to show anyone: the first
    /// [`FINGERPRINT_BYTES`] bytes of SHA-256 over the key bytes, in hex.
    ///
    /// It lets the two holders of a secret tell whether they hold the same
    /// one without either showing it — the store lists the fingerprints of
    /// the secrets that sign now, and the inventory compares them with its
    /// own (`inventory::integration::subscription`).
    ///
    /// **Why showing it gives nothing away.** The key is 24 to 64 bytes
    /// from a CSPRNG (at least 192 bits no one can guess). Going back from
    /// a SHA-256 output to its input is preimage search — nothing better
    /// than trying keys is known — and the fingerprint keeps only 64 of
    /// the hash's 256 bits, so even a perfect search would be left with
    /// some 2^128 keys that fit. Nor is it any use in place of the key: a
    /// signature is an HMAC *keyed* with the key bytes, and a hash of the
    /// key is not the key (HMAC hashes a key only when it is longer than
    /// SHA-256's 64-byte block, which [`WebhookSecret::parse`] refuses —
    /// and that hash would be all 32 bytes, not these 8). 64 bits are
    /// plenty to tell apart the one to three secrets an endpoint has at a
    /// time: two random secrets share a fingerprint with odds of 2^-64.
    ///
    /// The road not taken: the key itself, encrypted, or a challenge the
    /// other side signs. Both need a protocol; comparing two hashes needs
    /// none.
    pub fn fingerprint(&self) -> String {
        use sha2::Digest;
        let digest = Sha256::digest(&self.key);
        hex_lower(&digest[..FINGERPRINT_BYTES])
    }
}

/// How much of the SHA-256 of a key a [`WebhookSecret::fingerprint`] keeps.
pub const FINGERPRINT_BYTES: usize = 8;

fn hex_lower(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// The value of a `webhook-signature` header signed with every given secret,
/// space-separated: during a rotation the sender signs with old and new.
pub fn signature_header(
    secrets: &[WebhookSecret],
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    secrets
        .iter()
        .map(|s| s.sign(id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The three Standard Webhooks headers of one received request, as text.
#[derive(Debug, Clone, Copy)]
pub struct SignedHeaders<'a> {
    pub id: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub signature: Option<&'a str>,
}

/// Why a webhook was refused. The receiver maps these to status codes:
/// a timestamp problem is `400` (the request is malformed, or genuine but
/// stale), every other failure `401` (we cannot tell who sent it).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VerifyError {
    #[error("the `{0}` header is missing")]
    MissingHeader(&'static str),
    #[error("`webhook-timestamp` is not a unix timestamp in seconds")]
    InvalidTimestamp,
    #[error(
        "the message is too old: timestamp {timestamp} is {age}s behind this server's clock (tolerance {tolerance}s)"
    )]
    TimestampTooOld {
        timestamp: i64,
        age: i64,
        tolerance: i64,
    },
    #[error(
        "the message is from the future: timestamp {timestamp} is {ahead}s ahead of this server's clock (tolerance {tolerance}s)"
    )]
    TimestampTooNew {
        timestamp: i64,
        ahead: i64,
        tolerance: i64,
    },
    #[error("no `v1` signature in `webhook-signature` matches the body with any known secret")]
    NoMatchingSignature,
}

impl VerifyError {
    /// Whether the failure is about time rather than identity.
    pub fn is_timestamp_problem(&self) -> bool {
        matches!(
            self,
            VerifyError::InvalidTimestamp
                | VerifyError::TimestampTooOld { .. }
                | VerifyError::TimestampTooNew { .. }
        )
    }
}

/// Verifies a received webhook: headers present, at least one `v1`
/// signature in the header matching `raw_body` under at least one of
/// `secrets`, and a timestamp within `tolerance` seconds of `now` (unix
/// seconds). Returns the message id on success.
///
/// The signature is checked *before* the tolerance: a message nobody can
/// vouch for is refused as such (`401`), whatever its timestamp, and only
/// a genuine message can be called stale (`400`, a replay) — so a caller
/// without the secret learns nothing about this server's clock. (The
/// timestamp is part of what is signed, so a valid signature also vouches
/// for it.)
///
/// `raw_body` must be the bytes exactly as received — call this before
/// parsing anything.
pub fn verify<'a>(
    secrets: &[WebhookSecret],
    headers: SignedHeaders<'a>,
    raw_body: &[u8],
    now: i64,
    tolerance: i64,
) -> Result<&'a str, VerifyError> {
    let id = headers.id.ok_or(VerifyError::MissingHeader(HEADER_ID))?;
    let ts_text = headers
        .timestamp
        .ok_or(VerifyError::MissingHeader(HEADER_TIMESTAMP))?;
    let sig_header = headers
        .signature
        .ok_or(VerifyError::MissingHeader(HEADER_SIGNATURE))?;

    let timestamp: i64 = ts_text
        .trim()
        .parse()
        .map_err(|_| VerifyError::InvalidTimestamp)?;
    // Decode every offered v1 signature; ignore other versions (e.g. v1a)
    // and garbage, as the spec says a verifier must.
    let offered: Vec<Vec<u8>> = sig_header
        .split_whitespace()
        .filter_map(|part| part.split_once(','))
        .filter(|(version, _)| *version == "v1")
        .filter_map(|(_, b64)| B64.decode(b64).ok())
        .collect();

    // Check every pair without stopping early: the loop's running time then
    // depends only on how many signatures and secrets there are, never on
    // which one (if any) matched.
    let mut matched = subtle::Choice::from(0u8);
    for secret in secrets {
        let expected = secret.mac(id, timestamp, raw_body);
        for candidate in &offered {
            matched |= expected[..].ct_eq(candidate.as_slice());
        }
    }
    if !bool::from(matched) {
        return Err(VerifyError::NoMatchingSignature);
    }
    if now - timestamp > tolerance {
        return Err(VerifyError::TimestampTooOld {
            timestamp,
            age: now - timestamp,
            tolerance,
        });
    }
    if timestamp - now > tolerance {
        return Err(VerifyError::TimestampTooNew {
            timestamp,
            ahead: timestamp - now,
            tolerance,
        });
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The test vector published with the Standard Webhooks reference
    // libraries. Reproducing it is what says an off-the-shelf receiver
    // library accepts what the store sends.
    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const SPEC_TS: i64 = 1614265330;
    const SPEC_BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SPEC_SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn spec_secret() -> WebhookSecret {
        WebhookSecret::parse(SPEC_SECRET).unwrap()
    }

    fn headers<'a>(id: &'a str, ts: &'a str, sig: &'a str) -> SignedHeaders<'a> {
        SignedHeaders {
            id: Some(id),
            timestamp: Some(ts),
            signature: Some(sig),
        }
    }

    fn check(
        secrets: &[WebhookSecret],
        sig: &str,
        body: &[u8],
        now: i64,
    ) -> Result<(), VerifyError> {
        verify(
            secrets,
            headers(SPEC_ID, &SPEC_TS.to_string(), sig),
            body,
            now,
            DEFAULT_TOLERANCE_SECONDS,
        )
        .map(|_| ())
    }

    #[test]
    fn signing_reproduces_the_spec_test_vector() {
        assert_eq!(spec_secret().sign(SPEC_ID, SPEC_TS, SPEC_BODY), SPEC_SIG);
    }

    #[test]
    fn verifying_accepts_the_spec_test_vector() {
        assert_eq!(
            check(&[spec_secret()], SPEC_SIG, SPEC_BODY, SPEC_TS),
            Ok(())
        );
    }

    #[test]
    fn a_tampered_body_is_rejected() {
        let tampered = br#"{"test": 2432232315}"#;
        assert_eq!(
            check(&[spec_secret()], SPEC_SIG, tampered, SPEC_TS),
            Err(VerifyError::NoMatchingSignature)
        );
        // Even whitespace counts: this is why we verify the raw bytes.
        assert_eq!(
            check(
                &[spec_secret()],
                SPEC_SIG,
                br#"{"test":2432232314}"#,
                SPEC_TS
            ),
            Err(VerifyError::NoMatchingSignature)
        );
    }

    #[test]
    fn a_wrong_secret_is_rejected() {
        assert_eq!(
            check(&[WebhookSecret::generate()], SPEC_SIG, SPEC_BODY, SPEC_TS),
            Err(VerifyError::NoMatchingSignature)
        );
    }

    #[test]
    fn a_tampered_id_or_timestamp_is_rejected() {
        let ts = SPEC_TS.to_string();
        let r = verify(
            &[spec_secret()],
            headers("msg_other", &ts, SPEC_SIG),
            SPEC_BODY,
            SPEC_TS,
            DEFAULT_TOLERANCE_SECONDS,
        );
        assert_eq!(r, Err(VerifyError::NoMatchingSignature));
        let ts_plus_one = (SPEC_TS + 1).to_string();
        let r = verify(
            &[spec_secret()],
            headers(SPEC_ID, &ts_plus_one, SPEC_SIG),
            SPEC_BODY,
            SPEC_TS,
            DEFAULT_TOLERANCE_SECONDS,
        );
        assert_eq!(r, Err(VerifyError::NoMatchingSignature));
    }

    #[test]
    fn stale_and_future_timestamps_are_rejected_at_the_tolerance_boundary() {
        let s = [spec_secret()];
        // Exactly at the tolerance: still fine, both ways.
        assert_eq!(check(&s, SPEC_SIG, SPEC_BODY, SPEC_TS + 300), Ok(()));
        assert_eq!(check(&s, SPEC_SIG, SPEC_BODY, SPEC_TS - 300), Ok(()));
        // One second past it: refused, and said to be about time.
        let old = check(&s, SPEC_SIG, SPEC_BODY, SPEC_TS + 301).unwrap_err();
        assert!(matches!(old, VerifyError::TimestampTooOld { age: 301, .. }));
        assert!(old.is_timestamp_problem());
        let new = check(&s, SPEC_SIG, SPEC_BODY, SPEC_TS - 301).unwrap_err();
        assert!(matches!(
            new,
            VerifyError::TimestampTooNew { ahead: 301, .. }
        ));
        assert!(new.is_timestamp_problem());
    }

    #[test]
    fn an_unsigned_message_is_unauthenticated_whatever_its_timestamp() {
        let s = [spec_secret()];
        let forged = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        for now in [SPEC_TS, SPEC_TS + 10_000, SPEC_TS - 10_000] {
            let r = check(&s, forged, SPEC_BODY, now).unwrap_err();
            assert_eq!(r, VerifyError::NoMatchingSignature, "now = {now}");
            assert!(!r.is_timestamp_problem());
        }
    }

    #[test]
    fn a_non_numeric_timestamp_is_rejected() {
        let r = verify(
            &[spec_secret()],
            headers(SPEC_ID, "yesterday", SPEC_SIG),
            SPEC_BODY,
            SPEC_TS,
            DEFAULT_TOLERANCE_SECONDS,
        );
        assert_eq!(r, Err(VerifyError::InvalidTimestamp));
    }

    #[test]
    fn each_missing_header_is_named() {
        let ts = SPEC_TS.to_string();
        let full = headers(SPEC_ID, &ts, SPEC_SIG);
        let cases = [
            (SignedHeaders { id: None, ..full }, HEADER_ID),
            (
                SignedHeaders {
                    timestamp: None,
                    ..full
                },
                HEADER_TIMESTAMP,
            ),
            (
                SignedHeaders {
                    signature: None,
                    ..full
                },
                HEADER_SIGNATURE,
            ),
        ];
        for (h, name) in cases {
            let err = verify(&[spec_secret()], h, SPEC_BODY, SPEC_TS, 300).unwrap_err();
            assert_eq!(err, VerifyError::MissingHeader(name));
            assert!(!err.is_timestamp_problem());
        }
    }

    #[test]
    fn any_one_of_several_signatures_may_match() {
        // Rotation: the sender signs with the old and the new secret.
        let other = WebhookSecret::generate();
        let rotated = format!("{} {}", other.sign(SPEC_ID, SPEC_TS, SPEC_BODY), SPEC_SIG);
        assert_eq!(
            check(&[spec_secret()], &rotated, SPEC_BODY, SPEC_TS),
            Ok(())
        );
        // ...and a receiver holding several secrets accepts either.
        assert_eq!(
            check(
                &[other.clone(), spec_secret()],
                SPEC_SIG,
                SPEC_BODY,
                SPEC_TS
            ),
            Ok(())
        );
        // Unknown versions and junk entries are skipped, not fatal.
        let noisy = format!("v1a,AAAA garbage v1,%%% {SPEC_SIG}");
        assert_eq!(check(&[spec_secret()], &noisy, SPEC_BODY, SPEC_TS), Ok(()));
        // A v1a entry carrying a valid v1 MAC does not count as v1.
        let wrong_version = SPEC_SIG.replacen("v1,", "v1a,", 1);
        assert_eq!(
            check(&[spec_secret()], &wrong_version, SPEC_BODY, SPEC_TS),
            Err(VerifyError::NoMatchingSignature)
        );
    }

    #[test]
    fn the_signature_header_lists_every_secret() {
        let a = WebhookSecret::generate();
        let b = WebhookSecret::generate();
        let header = signature_header(&[a.clone(), b.clone()], "msg_1", 10, b"{}");
        assert_eq!(header.split(' ').count(), 2);
        for s in [a, b] {
            verify(&[s], headers("msg_1", "10", &header), b"{}", 10, 300).unwrap();
        }
    }

    #[test]
    fn secrets_round_trip_and_reject_bad_input() {
        let s = WebhookSecret::generate();
        let text = s.expose();
        assert!(text.starts_with("whsec_"));
        assert_eq!(WebhookSecret::parse(&text).unwrap(), s);
        // Prefix optional, as in the reference libraries.
        assert_eq!(
            WebhookSecret::parse(text.trim_start_matches("whsec_")).unwrap(),
            s
        );
        assert_eq!(
            WebhookSecret::parse("whsec_!!!"),
            Err(SecretError::Malformed)
        );
        assert_eq!(
            WebhookSecret::parse("whsec_c2hvcnQ="),
            Err(SecretError::WrongLength)
        );
        assert!(!format!("{s:?}").contains(&text[6..]));
    }

    #[test]
    fn a_fingerprint_is_a_short_hash_of_the_key_and_names_one_secret() {
        // `sha256(base64decode("MfKQ…"))[..8]`, worked out apart from this
        // code (Python's hashlib), so the format other receivers would
        // compute is pinned.
        assert_eq!(spec_secret().fingerprint(), "f74e1720b7614881");
        let (a, b) = (WebhookSecret::generate(), WebhookSecret::generate());
        assert_eq!(a.fingerprint(), a.clone().fingerprint());
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert_eq!(a.fingerprint().len(), 2 * FINGERPRINT_BYTES);
        // Nothing of the secret's text is in it.
        let exposed = a.expose();
        assert!(!exposed.contains(&a.fingerprint()));
    }

    mod arbitrary_headers {
        use proptest::prelude::*;

        use super::*;

        fn any_header() -> impl Strategy<Value = Option<String>> {
            prop_oneof![
                Just(None),
                ".{0,80}".prop_map(Some),
                "v1,[A-Za-z0-9+/=]{0,60}( v1,[A-Za-z0-9+/=]{0,60}){0,3}".prop_map(Some),
                "-?[0-9]{0,20}".prop_map(Some),
            ]
        }

        proptest! {
            /// Whatever three headers and body arrive: no panic, and either
            /// the message id or an error that says which rule failed —
            /// and never a pass without a genuine signature.
            #[test]
            fn any_headers_are_verified_or_refused_with_a_reason(
                id in any_header(),
                ts in any_header(),
                sig in any_header(),
                body in prop::collection::vec(any::<u8>(), 0..200),
                now in any::<i64>(),
            ) {
                let headers = SignedHeaders {
                    id: id.as_deref(),
                    timestamp: ts.as_deref(),
                    signature: sig.as_deref(),
                };
                match verify(&[spec_secret()], headers, &body, now, DEFAULT_TOLERANCE_SECONDS) {
                    Ok(verified) => prop_assert!(false, "forged message accepted: {verified}"),
                    Err(e) => {
                        prop_assert!(!e.to_string().is_empty());
                        if id.is_none() {
                            prop_assert_eq!(e, VerifyError::MissingHeader(HEADER_ID));
                        }
                    }
                }
            }

            /// A genuine signature over any id, body and time verifies —
            /// or, outside the tolerance, is refused as stale, never as
            /// forged.
            #[test]
            fn a_genuine_message_is_told_apart_by_its_time_alone(
                id in "[!-~]{1,60}",
                body in prop::collection::vec(any::<u8>(), 0..200),
                ts in -10_000_000_000i64..10_000_000_000,
                skew in -1_000i64..1_000,
            ) {
                let secret = spec_secret();
                let signature = secret.sign(&id, ts, &body);
                let ts_text = ts.to_string();
                let headers = SignedHeaders { id: Some(&id), timestamp: Some(&ts_text), signature: Some(&signature) };
                match verify(&[secret], headers, &body, ts + skew, DEFAULT_TOLERANCE_SECONDS) {
                    Ok(verified) => {
                        prop_assert_eq!(verified, id.as_str());
                        prop_assert!(skew.abs() <= DEFAULT_TOLERANCE_SECONDS);
                    }
                    Err(e) => {
                        prop_assert!(e.is_timestamp_problem(), "{e}");
                        prop_assert!(skew.abs() > DEFAULT_TOLERANCE_SECONDS);
                    }
                }
            }
        }
    }
}
