//! Keys a client makes up: an `Idempotency-Key` on a request that must
//! not be done twice, a `webhook-id` on a message that must not be applied
//! twice. Either service stores them, so both take the same ones.
//!
//! A key is an opaque name, compared byte for byte, never shown as text a
//! person typed: so it is held to a short run of visible ASCII rather than
//! to the human-text rule ([`crate::human_text`]), which would let a key
//! contain spaces and letters of every script that look alike.

/// The longest `Idempotency-Key` or `webhook-id` either service takes
/// (Stripe's limit for the former). Both are stored; neither needs more.
pub const MAX_KEY_CHARS: usize = 255;

/// Whether a header value is a key either service will store: an
/// `Idempotency-Key` or a `webhook-id` — 1 to [`MAX_KEY_CHARS`] visible
/// ASCII characters (no spaces, no control characters).
pub fn is_key(value: &[u8]) -> bool {
    !value.is_empty() && value.len() <= MAX_KEY_CHARS && value.iter().all(u8::is_ascii_graphic)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn keys_are_short_visible_ascii() {
        assert!(is_key(b"msg_0193abc"));
        assert!(is_key("k".repeat(MAX_KEY_CHARS).as_bytes()));
        assert!(!is_key("k".repeat(MAX_KEY_CHARS + 1).as_bytes()));
        assert!(!is_key(b""));
        assert!(!is_key(b"has space"));
        assert!(!is_key(b"del\x7f"));
        assert!(!is_key("naïve".as_bytes()));
    }

    proptest! {
        /// Any header value: a key or not, never a panic; a key always
        /// fits the column and prints as itself.
        #[test]
        fn any_bytes_are_a_key_or_not(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            if is_key(&bytes) {
                prop_assert!(bytes.len() <= MAX_KEY_CHARS);
                prop_assert!(std::str::from_utf8(&bytes).is_ok());
            }
        }
    }
}
