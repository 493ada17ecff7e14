//! Typed ids: an order id cannot be passed where a delivery id is wanted.
//!
//! Every id is a readable prefix and a UUIDv7 in simple hex
//! (`ord_0193…`, `msg_0193…`): unique without coordination, roughly ordered
//! by creation time (which keeps B-tree inserts at the right edge of the
//! index), and recognisable in a log line or a URL at a glance — the style
//! of Stripe's `ch_…` and Svix's `msg_…`. On the wire and in both databases
//! they are plain TEXT; in the code each is its own type.
//!
//! The road not taken: bare `Uuid`s. They are smaller to store, but a
//! learner reading a message log would see sixteen bytes of hex with no
//! hint of what they name.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Schema};

use crate::domain::ParseError;

/// The longest id accepted from outside (a prefix, `_` and 32 hex digits
/// is 37 to 38 characters; the slack is for ids minted by older builds).
pub const MAX_ID_LEN: usize = 64;

macro_rules! prefixed_ids {
    ($($(#[doc = $doc:literal])* $name:ident => $prefix:literal;)+) => {$(
        $(#[doc = $doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// What every id of this kind starts with, before the `_`.
            pub const PREFIX: &'static str = $prefix;

            /// A new, unique id.
            pub fn new() -> $name {
                $name(format!("{}_{}", $prefix, uuid::Uuid::now_v7().simple()))
            }

            /// Reads an id: the prefix, `_`, then 1 to 59 letters and digits.
            pub fn parse(raw: &str) -> Result<$name, ParseError> {
                if is_prefixed_id(raw, $prefix) {
                    Ok($name(raw.to_owned()))
                } else {
                    Err(ParseError(format!(
                        "a {} id looks like `{}_` followed by letters and digits",
                        stringify!($name), $prefix
                    )))
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl Default for $name {
            fn default() -> $name {
                $name::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ParseError;
            fn try_from(raw: String) -> Result<$name, ParseError> {
                if is_prefixed_id(&raw, $prefix) {
                    Ok($name(raw))
                } else {
                    $name::parse(&raw)
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                $name::try_from(raw).map_err(serde::de::Error::custom)
            }
        }

        /// Its schema: the prefix and the shape [`Self::parse`] accepts.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
                id_schema($prefix, concat!($($doc,)* ""))
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
        }
    )+};
}

/// A typed id's schema: its prefix, `_`, then letters and digits — the
/// shape [`is_prefixed_id`] accepts, and no longer than [`MAX_ID_LEN`].
fn id_schema(prefix: &str, what: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(format!("^{prefix}_[A-Za-z0-9]+$")))
        .max_length(Some(MAX_ID_LEN))
        .description(Some(what.trim()))
        .examples([format!("{prefix}_0193a1b2c3d47e8f9a0b1c2d3e4f5a6b")])
        .into()
}

fn is_prefixed_id(raw: &str, prefix: &str) -> bool {
    raw.len() <= MAX_ID_LEN
        && raw
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('_'))
            .is_some_and(|tail| !tail.is_empty() && tail.chars().all(|c| c.is_ascii_alphanumeric()))
}

prefixed_ids! {
    /// An order, as the store mints it.
    OrderId => "ord";
    /// A webhook message: the `webhook-id` of every attempt to deliver it.
    MessageId => "msg";
    /// One message on its way to one endpoint.
    DeliveryId => "dlv";
    /// A registered webhook endpoint.
    EndpointId => "whe";
    /// One HTTP exchange in the store's message log.
    ExchangeId => "exg";
    /// One message in the inventory's message log.
    LogEntryId => "imsg";
    /// An API key (its id, never the key itself).
    ApiKeyId => "key";
    /// One of an endpoint's signing secrets (its id, never the secret).
    SecretId => "whs";
    /// One change of one SKU's stock level.
    MovementId => "mov";
    /// A burst of orders placed from the compare page.
    BurstId => "burst";
    /// One running webhook dispatcher, as named in delivery leases.
    DispatcherId => "dispatcher";
    /// One request captured by the inventory's capture inbox.
    CaptureId => "cap";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_their_prefix() {
        let id = OrderId::new();
        assert!(id.as_str().starts_with("ord_"), "{id}");
        assert_eq!(id.as_str().len(), 4 + 32);
        assert_eq!(OrderId::parse(id.as_str()).unwrap(), id);
        assert!(MessageId::new().as_str().starts_with("msg_"));
    }

    #[test]
    fn ids_of_another_kind_or_shape_are_refused() {
        assert!(OrderId::parse("ord_0193abc").is_ok());
        assert!(OrderId::parse("ord_").is_err());
        assert!(OrderId::parse("ord0193").is_err());
        assert!(OrderId::parse("xyz_123").is_err());
        assert!(OrderId::parse("ord_12;drop").is_err());
        assert!(OrderId::parse(&format!("ord_{}", "a".repeat(61))).is_err());
        assert!(DeliveryId::parse(MessageId::new().as_str()).is_err());
        assert!(serde_json::from_str::<OrderId>("\"msg_1\"").is_err());
        assert_eq!(
            serde_json::from_str::<OrderId>("\"ord_1\"")
                .unwrap()
                .as_str(),
            "ord_1"
        );
    }
}
