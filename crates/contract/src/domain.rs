//! Value types that parse instead of validate.
//!
//! A `Sku` or a `Quantity` can only be obtained through `parse`, so a function
//! that receives one never has to ask "is this valid?" again. Deserialising a
//! request into raw strings and integers and then parsing them into these
//! types (rather than deriving `Deserialize` straight onto them) is
//! deliberate: it lets a handler report *every* problem in a body at once,
//! field by field, instead of stopping at serde's first error.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

/// Why a value did not parse. The message is written for the person who
/// typed the value (it ends up next to a form field or in a problem's
/// `errors` list), so it says what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct ParseError(pub String);

/// A stock-keeping unit: 2 to 32 characters of `A-Z`, `0-9` and `-`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Sku(String);

impl Sku {
    pub const MAX_LEN: usize = 32;

    /// Accepts lowercase input and normalises it, because people type SKUs.
    pub fn parse(raw: &str) -> Result<Sku, ParseError> {
        let s = raw.trim().to_ascii_uppercase();
        if s.len() < 2 || s.len() > Self::MAX_LEN {
            return Err(ParseError(format!(
                "a SKU is 2 to {} characters long",
                Self::MAX_LEN
            )));
        }
        if !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(ParseError(
                "a SKU contains only letters, digits and '-'".into(),
            ));
        }
        Ok(Sku(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Sku {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Sku::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// How many units of one SKU an order line asks for: 1 to 99.
///
/// The upper bound is a business rule of the demo shop (nobody buys 100 tea
/// tins at once); it also keeps arithmetic on totals far from overflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Quantity(u32);

impl Quantity {
    pub const MAX: i64 = 99;

    pub fn parse(raw: i64) -> Result<Quantity, ParseError> {
        if (1..=Self::MAX).contains(&raw) {
            Ok(Quantity(raw as u32))
        } else {
            Err(ParseError(format!(
                "quantity must be between 1 and {}",
                Self::MAX
            )))
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }

    pub fn as_i64(self) -> i64 {
        i64::from(self.0)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = i64::deserialize(d)?;
        Quantity::parse(raw).map_err(serde::de::Error::custom)
    }
}

/// A point in time as unix milliseconds inside the services (and in both
/// databases, as BIGINT), written as RFC 3339 in UTC on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn from_millis(ms: i64) -> Timestamp {
        Timestamp(ms)
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    /// Whole unix seconds (what a `webhook-timestamp` header carries).
    pub fn unix_seconds(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// How long after `earlier` this is (zero if it is not after it).
    pub fn since(self, earlier: Timestamp) -> std::time::Duration {
        std::time::Duration::from_millis((self.0 - earlier.0).max(0) as u64)
    }

    pub fn to_rfc3339(self) -> String {
        let nanos = i128::from(self.0) * 1_000_000;
        let dt = time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        // Milliseconds always present, so the text form is fixed-width and
        // the same instant always prints the same way (it is signed over).
        let fmt = time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        dt.format(&fmt).unwrap_or_default()
    }

    pub fn parse_rfc3339(raw: &str) -> Result<Timestamp, ParseError> {
        let dt = time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339)
            .map_err(|_| ParseError("expected an RFC 3339 timestamp".into()))?;
        Ok(Timestamp((dt.unix_timestamp_nanos() / 1_000_000) as i64))
    }
}

impl std::ops::Add<std::time::Duration> for Timestamp {
    type Output = Timestamp;
    fn add(self, d: std::time::Duration) -> Timestamp {
        Timestamp(
            self.0
                .saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        )
    }
}

impl std::ops::Sub<std::time::Duration> for Timestamp {
    type Output = Timestamp;
    fn sub(self, d: std::time::Duration) -> Timestamp {
        Timestamp(
            self.0
                .saturating_sub(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        )
    }
}

impl From<i64> for Timestamp {
    fn from(ms: i64) -> Timestamp {
        Timestamp(ms)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Timestamp::parse_rfc3339(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sku_parses_and_normalises() {
        assert_eq!(Sku::parse(" tea-sencha ").unwrap().as_str(), "TEA-SENCHA");
        assert!(Sku::parse("A").is_err());
        assert!(Sku::parse("TEA SENCHA").is_err());
        assert!(Sku::parse("<script>").is_err());
        assert!(Sku::parse(&"A".repeat(33)).is_err());
    }

    #[test]
    fn quantity_bounds() {
        assert!(Quantity::parse(0).is_err());
        assert!(Quantity::parse(-3).is_err());
        assert!(Quantity::parse(100).is_err());
        assert_eq!(Quantity::parse(99).unwrap().get(), 99);
        assert_eq!(Quantity::parse(1).unwrap().get(), 1);
    }

    #[test]
    fn timestamps_are_fixed_width_rfc3339_in_utc() {
        let t = Timestamp(1_700_000_000_123);
        assert_eq!(t.to_rfc3339(), "2023-11-14T22:13:20.123Z");
        assert_eq!(Timestamp::parse_rfc3339(&t.to_rfc3339()).unwrap(), t);
        assert_eq!(Timestamp(0).to_rfc3339(), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            Timestamp::parse_rfc3339("2023-11-14T23:13:20.123+01:00").unwrap(),
            t
        );
    }

    #[test]
    fn timestamps_move_by_durations() {
        let t = Timestamp(10_000);
        assert_eq!(t + std::time::Duration::from_secs(2), Timestamp(12_000));
        assert_eq!(t - std::time::Duration::from_millis(1), Timestamp(9_999));
        assert_eq!(
            Timestamp(12_500).since(t),
            std::time::Duration::from_millis(2_500)
        );
        assert_eq!(t.since(Timestamp(12_500)), std::time::Duration::ZERO);
        assert_eq!(Timestamp(1_999).unix_seconds(), 1);
    }
}
