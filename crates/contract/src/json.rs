//! Reading JSON from outside: every object's members at most once.
//!
//! RFC 8259 says the names in an object *should* be unique and leaves what
//! a reader does with a repeat to the reader. `serde_json` building a
//! [`Value`] keeps the last one; another reader (a proxy, a log search, the
//! other service in another language) may keep the first, or refuse. So
//! `{"quantity": 1, "quantity": 3}` can be a quantity of 1 to whatever
//! checked it and 3 to whatever acted on it, and `{"mode": "api", "mode":
//! "poll"}` one mode in the message log and another in the store. The only
//! reading every party agrees on is none: a member that appears twice,
//! at any depth, makes the document unreadable here.
//!
//! The check is done *while* parsing, by a serde visitor ([`Strict`]) that
//! builds the same [`Value`] `serde_json` would and notices, when it
//! inserts a member, that the object already holds one of that name. Names
//! are compared after unescaping (`"a"` and `"\u0061"` are the same name,
//! as JSON says), and the error names the member and where it is
//! (`items[0]`). One pass, no second reading of the bytes, no pattern
//! matching on text (which escapes, whitespace and nesting would defeat).
//!
//! Both services read outside JSON only through here: request bodies
//! (`platform::http::Json`, `read_json_object`), and the answers and feed
//! pages one service reads from the other ([`from_slice`]). serde's derived
//! structs refuse a repeated *field* on their own; this catches the rest —
//! bodies read as a `Value` first (every request body is), members no
//! struct names, maps.

use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, SeqAccess};
use serde::{Deserialize, de::Visitor};
use serde_json::map::Entry;
use serde_json::{Map, Number, Value};
use thiserror::Error;

/// Why outside JSON could not be read.
#[derive(Debug, Error)]
pub enum JsonError {
    /// Not JSON at all (or cut short).
    #[error("invalid JSON: {0}")]
    Malformed(serde_json::Error),
    /// An object names the same member twice (the text says which, and
    /// where).
    #[error("invalid JSON: {0}")]
    DuplicateMember(serde_json::Error),
    /// JSON, but not of the shape asked for.
    #[error("unexpected JSON: {0}")]
    Shape(serde_json::Error),
}

/// A JSON value whose objects each name every member once (see the module
/// comment). Deserialize it instead of a [`Value`] wherever the bytes came
/// from outside.
#[derive(Debug, Clone, PartialEq)]
pub struct Strict(pub Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Strict, D::Error> {
        StrictValue { at: &Path::Top }
            .deserialize(deserializer)
            .map(Strict)
    }
}

/// Reads outside JSON bytes into a [`Value`], refusing repeated members.
pub fn value_from_slice(bytes: &[u8]) -> Result<Value, JsonError> {
    match serde_json::from_slice::<Strict>(bytes) {
        Ok(Strict(value)) => Ok(value),
        // The visitor accepts every JSON value; the one "data" error it
        // raises is a repeated member. Everything else is syntax.
        Err(e) if e.is_data() => Err(JsonError::DuplicateMember(e)),
        Err(e) => Err(JsonError::Malformed(e)),
    }
}

/// Reads outside JSON bytes into `T` (an answer or a feed page from the
/// other service), refusing repeated members at any depth.
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, JsonError> {
    serde_json::from_value(value_from_slice(bytes)?).map_err(JsonError::Shape)
}

/// Where in the document the visitor is, for the error message only: a
/// chain of borrowed links on the stack, so keeping track costs nothing
/// until there is something to say.
enum Path<'a> {
    Top,
    Member(&'a str, &'a Path<'a>),
    Index(usize, &'a Path<'a>),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Top => Ok(()),
            Path::Member(name, Path::Top) => write!(f, "{}", name.escape_debug()),
            Path::Member(name, parent) => write!(f, "{parent}.{}", name.escape_debug()),
            Path::Index(i, parent) => write!(f, "{parent}[{i}]"),
        }
    }
}

impl Path<'_> {
    /// "in items[0]", or "at the top level".
    fn describe(&self) -> String {
        match self {
            Path::Top => "at the top level".to_owned(),
            inner => format!("in {inner}"),
        }
    }
}

/// Builds a [`Value`] exactly as `serde_json`'s own visitor does, except
/// that an object refuses a member name it already holds.
struct StrictValue<'p> {
    at: &'p Path<'p>,
}

impl<'de> DeserializeSeed<'de> for StrictValue<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Value, E> {
        Ok(Number::from_f64(n).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element_seed(StrictValue {
            at: &Path::Index(items.len(), self.at),
        })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = Map::new();
        // The key arrives unescaped: `"\u0061"` is the name `a`.
        while let Some(name) = map.next_key::<String>()? {
            match members.entry(name) {
                Entry::Vacant(slot) => {
                    let value = map.next_value_seed(StrictValue {
                        at: &Path::Member(slot.key(), self.at),
                    })?;
                    slot.insert(value);
                }
                Entry::Occupied(first) => {
                    return Err(de::Error::custom(format_args!(
                        "the member {:?} appears twice {} (a member may appear once: \
                         readers disagree on which of the two counts)",
                        first.key(),
                        self.at.describe(),
                    )));
                }
            }
        }
        Ok(Value::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn read(text: &str) -> Result<Value, JsonError> {
        value_from_slice(text.as_bytes())
    }

    fn duplicate(text: &str) -> String {
        match read(text) {
            Err(JsonError::DuplicateMember(e)) => e.to_string(),
            other => panic!("{text}: expected a duplicate member, got {other:?}"),
        }
    }

    #[test]
    fn a_document_without_repeats_reads_as_serde_json_reads_it() {
        let text = r#"{"customer": {"name": "Ada", "email": "a@b.co"},
                       "items": [{"sku": "TEA", "quantity": 2.0}, {"sku": "MUG", "quantity": -1e3}],
                       "n": null, "ok": true, "big": 18446744073709551615, "s": "\u00e9\n"}"#;
        assert_eq!(
            read(text).unwrap(),
            serde_json::from_str::<Value>(text).unwrap()
        );
        for scalar in ["1", "\"x\"", "null", "[]", "{}", "[[[]]]", "-0.5"] {
            assert_eq!(
                read(scalar).unwrap(),
                serde_json::from_str::<Value>(scalar).unwrap()
            );
        }
        // The same name in different objects is no repeat.
        assert!(read(r#"{"a": {"a": 1}, "b": [{"a": 1}, {"a": 2}]}"#).is_ok());
    }

    #[test]
    fn a_repeated_member_is_refused_at_the_top_level() {
        let e = duplicate(r#"{"quantity": 1, "quantity": 3}"#);
        assert!(
            e.contains(r#"the member "quantity" appears twice at the top level"#),
            "{e}"
        );
        // The same value twice is still two members.
        duplicate(r#"{"mode": "api", "mode": "api"}"#);
    }

    #[test]
    fn a_repeated_member_is_refused_at_any_depth_and_named_with_its_place() {
        let e = duplicate(r#"{"customer": {"name": "A", "email": "a@b.co", "name": "B"}}"#);
        assert!(e.contains(r#""name" appears twice in customer"#), "{e}");
        let e = duplicate(
            r#"{"items": [{"sku": "TEA", "quantity": 1}, {"sku": "MUG", "quantity": 1, "quantity": 50}]}"#,
        );
        assert!(e.contains(r#""quantity" appears twice in items[1]"#), "{e}");
        let e = duplicate(r#"[{"a": 1}, [{"b": {"c": 1, "c": 2}}]]"#);
        assert!(e.contains(r#""c" appears twice in [1][0].b"#), "{e}");
        // serde_json says where in the text, too.
        assert!(e.contains("line 1 column"), "{e}");
    }

    #[test]
    fn escaped_names_are_the_names_they_spell() {
        duplicate(r#"{"a": 1, "\u0061": 2}"#);
        duplicate(r#"{"quantity": 1, "qu\u0061ntity": 99}"#);
        duplicate(r#"{"\/": 1, "/": 2}"#);
        duplicate(r#"{"é": 1, "\u00e9": 2}"#);
        // Different code points stay different names (no normalisation:
        // JSON compares names code point by code point).
        assert!(read(r#"{"é": 1, "e\u0301": 2}"#).is_ok());
        assert!(read(r#"{"a": 1, "A": 2}"#).is_ok());
    }

    #[test]
    fn malformed_and_misshapen_json_say_so() {
        assert!(matches!(read("{\"a\": "), Err(JsonError::Malformed(_))));
        assert!(matches!(read("not json"), Err(JsonError::Malformed(_))));
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Mode {
            mode: String,
        }
        assert!(matches!(
            from_slice::<Mode>(br#"{"mode": 1}"#),
            Err(JsonError::Shape(_))
        ));
        assert!(matches!(
            from_slice::<Mode>(br#"{"mode": "api", "other": 1, "other": 2}"#),
            Err(JsonError::DuplicateMember(_))
        ));
        assert_eq!(
            from_slice::<Mode>(br#"{"mode": "api"}"#).unwrap().mode,
            "api"
        );
    }

    #[test]
    fn deep_nesting_is_still_bounded_by_serde_json() {
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        assert!(matches!(read(&deep), Err(JsonError::Malformed(_))));
    }

    /// Arbitrary JSON with a small alphabet of names, so repeats happen.
    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|i| json!(i)),
            ".{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map("[ab\u{e9}]{1,2}", inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// A document serde_json writes (so without repeats) reads back as
        /// itself.
        #[test]
        fn any_written_document_reads_back(value in any_json()) {
            let text = serde_json::to_string(&value).unwrap();
            prop_assert_eq!(read(&text).unwrap(), value);
        }

        /// Repeat any one member of any object — written plainly or with
        /// every character escaped — and the document is refused.
        #[test]
        fn any_repeated_member_is_found(value in any_json(), pick in any::<prop::sample::Index>(), escape in any::<bool>()) {
            let text = serde_json::to_string(&value).unwrap();
            // Every `"name":` that opens a member, by byte offset.
            let mut members = Vec::new();
            collect_members(&value, &mut members);
            prop_assume!(!members.is_empty());
            let name = pick.get(&members);
            let spelled = if escape {
                name.chars().map(|c| format!("\\u{:04x}", c as u32)).collect::<String>()
            } else {
                name.clone()
            };
            // Insert a second member of that name into the first object
            // that has it (found by re-serialising that object alone).
            let doubled = text.replacen(
                &format!("{}:", serde_json::to_string(name).unwrap()),
                &format!("\"{spelled}\":0,{}:", serde_json::to_string(name).unwrap()),
                1,
            );
            prop_assume!(doubled != text);
            prop_assert!(matches!(read(&doubled), Err(JsonError::DuplicateMember(_))), "{}", doubled);
        }

        /// Any bytes: a value, or an error with a message; never a panic.
        #[test]
        fn any_bytes_are_read_or_refused(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            if let Err(e) = value_from_slice(&bytes) {
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }

    fn collect_members(value: &Value, into: &mut Vec<String>) {
        match value {
            Value::Object(members) => {
                for (name, inner) in members {
                    into.push(name.clone());
                    collect_members(inner, into);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| collect_members(v, into)),
            _ => {}
        }
    }
}
