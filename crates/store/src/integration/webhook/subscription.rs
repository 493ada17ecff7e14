//! What an endpoint receives: every event type, or a list of them.
//!
//! The wire and the database keep the words they always had — a list in
//! JSON (`["order.created", "ping"]`, or `["*"]` for everything), a
//! comma-separated text in the `event_types` column — while the code
//! works with the type: a `*` can no longer be misspelt or compared
//! against an event type by accident.

use std::fmt;

use serde::{Serialize, Serializer};

use contract::{EventType, ParseError};

/// Which events an endpoint receives. Stored as `*` or a comma-separated
/// list, sent and shown as a list (`["*"]`, `["order.created", "ping"]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subscription {
    /// Every event type, including those a later version adds.
    All,
    /// These event types only.
    Only(Vec<EventType>),
}

impl Subscription {
    /// The word for [`Subscription::All`].
    pub const WILDCARD: &'static str = "*";

    pub fn wants(&self, event_type: EventType) -> bool {
        match self {
            Subscription::All => true,
            Subscription::Only(types) => types.contains(&event_type),
        }
    }

    /// The words, as stored and sent.
    pub fn words(&self) -> Vec<&'static str> {
        match self {
            Subscription::All => vec![Self::WILDCARD],
            Subscription::Only(types) => types.iter().map(|t| t.as_str()).collect(),
        }
    }

    /// Reads a request's `event_types`: omitted, every type this build
    /// knows (listed, so a type added later is not sent unasked); `*`
    /// among them, all of them.
    pub fn from_request(requested: Option<Vec<String>>) -> Result<Subscription, String> {
        let Some(requested) = requested else {
            return Ok(Subscription::Only(EventType::ALL.to_vec()));
        };
        if requested.is_empty() {
            return Err("event_types cannot be empty (omit it to receive every event)".into());
        }
        Subscription::parse_words(requested.iter().map(String::as_str)).map_err(|unknown| {
            let known: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
            format!(
                "unknown event type \"{unknown}\" (known: {})",
                known.join(", ")
            )
        })
    }

    /// `*` anywhere means all; otherwise each word must be an event type
    /// (the first that is not is returned).
    fn parse_words<'a>(words: impl Iterator<Item = &'a str>) -> Result<Subscription, String> {
        let mut types = Vec::new();
        let mut all = false;
        for word in words.map(str::trim) {
            if word == Self::WILDCARD {
                all = true;
            } else {
                let t = EventType::parse(word).map_err(|_| word.to_owned())?;
                if !types.contains(&t) {
                    types.push(t);
                }
            }
        }
        Ok(if all {
            Subscription::All
        } else {
            Subscription::Only(types)
        })
    }
}

impl fmt::Display for Subscription {
    /// As stored: `*` or `order.created,ping`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.words().join(","))
    }
}

impl TryFrom<String> for Subscription {
    type Error = ParseError;

    fn try_from(stored: String) -> Result<Subscription, ParseError> {
        Subscription::parse_words(stored.split(',').filter(|w| !w.is_empty()))
            .map_err(|word| ParseError(format!("unknown event type `{word}`")))
    }
}

impl Serialize for Subscription {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.words())
    }
}

/// Its schema: a non-empty list of event types, or `["*"]` — the words
/// [`Subscription::words`] writes, taken from the same vocabulary.
impl utoipa::PartialSchema for Subscription {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
        let words = EventType::ALL
            .iter()
            .map(|t| t.as_str())
            .chain([Subscription::WILDCARD]);
        ArrayBuilder::new()
            .items(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(words)),
            )
            .min_items(Some(1))
            .description(Some(
                "Event types the endpoint receives; `[\"*\"]` for every one, \
                 including those a later version adds.",
            ))
            .into()
    }
}

impl utoipa::ToSchema for Subscription {
    fn name() -> std::borrow::Cow<'static, str> {
        "Subscription".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(types: &[&str]) -> Result<Subscription, String> {
        Subscription::from_request(Some(types.iter().map(|t| t.to_string()).collect()))
    }

    #[test]
    fn event_types_default_to_all_and_are_checked() {
        let every = Subscription::from_request(None).unwrap();
        assert_eq!(
            every,
            Subscription::Only(vec![
                EventType::OrderCreated,
                EventType::OrderNotice,
                EventType::Ping
            ])
        );
        assert_eq!(every.to_string(), "order.created,order.notice,ping");
        assert!(from(&["order.exploded"]).is_err());
        assert!(from(&[]).is_err());
        assert_eq!(from(&["*"]).unwrap(), Subscription::All);
        assert_eq!(from(&["*"]).unwrap().to_string(), "*");
        assert_eq!(
            serde_json::to_value(from(&["ping"]).unwrap()).unwrap(),
            serde_json::json!(["ping"])
        );
    }

    #[test]
    fn a_subscription_reads_back_what_it_stored() {
        for stored in ["*", "order.created", "order.created,ping"] {
            let s = Subscription::try_from(stored.to_owned()).unwrap();
            assert_eq!(s.to_string(), stored);
        }
        let only = Subscription::try_from("order.created".to_owned()).unwrap();
        assert!(only.wants(EventType::OrderCreated) && !only.wants(EventType::Ping));
        assert!(Subscription::All.wants(EventType::Ping));
        assert!(Subscription::try_from("order.exploded".to_owned()).is_err());
    }
}
