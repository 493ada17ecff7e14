//! Reading `GET /events` in a test, and holding what it sends to the
//! service's own OpenAPI document: each event's name must be one the
//! document lists, and its data must fit the schema listed for it.
//!
//! The schema check is a small JSON Schema subset — the keywords utoipa
//! writes (`$ref`, `type`, `oneOf`/`anyOf`/`allOf`, `enum`, `properties`,
//! `required`, `items`, `minimum`/`maximum`) — rather than a validator
//! crate: enough to catch a field added, dropped, renamed or retyped, and
//! stricter than JSON Schema in one way on purpose: an object may carry no
//! field its schema does not name, so the document lists all that is sent.

use std::time::Duration;

use serde_json::Value;

use crate::live::{EventDoc, RESYNC};

/// An open `GET /events` response, read event by event.
pub struct EventStream {
    response: reqwest::Response,
    buffer: String,
}

impl EventStream {
    /// Opens `url` (a `/events` URL, with any query) and checks that it
    /// is an event stream.
    pub async fn open(client: &reqwest::Client, url: &str) -> EventStream {
        let response = client.get(url).send().await.expect("GET /events");
        assert_eq!(response.status(), 200, "GET {url}");
        assert_eq!(
            response.headers()["content-type"],
            "text/event-stream",
            "GET {url}"
        );
        EventStream {
            response,
            buffer: String::new(),
        }
    }

    /// The next event (name, data), skipping comments and `retry:`; `None`
    /// when the server ended the stream. Panics after `within` without one.
    pub async fn next(&mut self, within: Duration) -> Option<(String, Value)> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                let mut name = None;
                let mut data = None;
                for line in frame.lines() {
                    if let Some(v) = line.strip_prefix("event: ") {
                        name = Some(v.to_owned());
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data = Some(serde_json::from_str(v).expect("data is JSON"));
                    }
                }
                match (name, data) {
                    (Some(name), Some(data)) => return Some((name, data)),
                    (None, None) => continue,
                    other => panic!("an event without a name or data: {other:?} in {frame:?}"),
                }
            }
            let chunk = tokio::time::timeout(within, self.response.chunk())
                .await
                .expect("an event within the time allowed")
                .expect("reading the stream");
            match chunk {
                Some(bytes) => self.buffer.push_str(std::str::from_utf8(&bytes).unwrap()),
                None => {
                    assert!(
                        self.buffer.trim().is_empty(),
                        "a cut frame: {:?}",
                        self.buffer
                    );
                    return None;
                }
            }
        }
    }
}

/// Checks one received event against `document` (the service's
/// `/openapi.json`): its name is one of `events` (or `resync`), the
/// description of `GET /events` names it, and its data fits its schema.
pub fn assert_documented(document: &Value, events: &[EventDoc], name: &str, data: &Value) {
    let doc = events
        .iter()
        .chain([&RESYNC])
        .find(|e| e.kind.as_str() == name)
        .unwrap_or_else(|| panic!("`{name}` was sent but is not among the documented events"));
    let description = document["paths"]["/events"]["get"]["description"]
        .as_str()
        .expect("GET /events has a description");
    assert!(
        description.contains(&format!("`{name}`")) && description.contains(doc.schema),
        "the description of GET /events does not list `{name}` with {}",
        doc.schema
    );
    let schema = serde_json::json!({ "$ref": format!("#/components/schemas/{}", doc.schema) });
    if let Err(why) = check(document, &schema, data, "data") {
        panic!(
            "`{name}` does not fit its documented schema {}: {why}\n{data}",
            doc.schema
        );
    }
}

/// Whether `value` fits `schema` (resolving `$ref`s in `document`).
pub fn check(document: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    if let Some(reference) = schema["$ref"].as_str() {
        let pointer = reference
            .strip_prefix('#')
            .ok_or_else(|| format!("{at}: a $ref outside the document: {reference}"))?;
        let target = document
            .pointer(pointer)
            .ok_or_else(|| format!("{at}: {reference} is not in the document"))?;
        return check(document, target, value, at);
    }
    if let Some(all) = schema["allOf"].as_array() {
        for s in all {
            check(document, s, value, at)?;
        }
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(any) = schema[key].as_array() {
            let errors: Vec<String> = any
                .iter()
                .filter_map(|s| check(document, s, value, at).err())
                .collect();
            if errors.len() == any.len() {
                return Err(format!("{at}: fits none of {key}: {}", errors.join("; ")));
            }
        }
    }
    match &schema["type"] {
        Value::Null => {}
        Value::String(t) => has_type(t, value, at)?,
        Value::Array(types) => {
            if !types
                .iter()
                .any(|t| has_type(t.as_str().unwrap_or(""), value, at).is_ok())
            {
                return Err(format!("{at}: {value} is none of {types:?}"));
            }
        }
        other => return Err(format!("{at}: a type that is not one: {other}")),
    }
    if let Some(options) = schema["enum"].as_array()
        && !options.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {options:?}"));
    }
    if let (Some(n), Some(min)) = (value.as_f64(), schema["minimum"].as_f64())
        && n < min
    {
        return Err(format!("{at}: {n} is below {min}"));
    }
    if let (Some(n), Some(max)) = (value.as_f64(), schema["maximum"].as_f64())
        && n > max
    {
        return Err(format!("{at}: {n} is above {max}"));
    }
    if let Some(object) = value.as_object()
        && let Some(properties) = schema["properties"].as_object()
    {
        for (field, v) in object {
            let s = properties
                .get(field)
                .ok_or_else(|| format!("{at}.{field}: sent, but not in the schema"))?;
            check(document, s, v, &format!("{at}.{field}"))?;
        }
        for field in schema["required"].as_array().into_iter().flatten() {
            let field = field.as_str().unwrap_or_default();
            if !object.contains_key(field) {
                return Err(format!("{at}.{field}: required, but not sent"));
            }
        }
    }
    if let (Some(items), Some(item_schema)) = (value.as_array(), schema.get("items")) {
        for (i, v) in items.iter().enumerate() {
            check(document, item_schema, v, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

fn has_type(t: &str, value: &Value, at: &str) -> Result<(), String> {
    let fits = match t {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => return Err(format!("{at}: unknown type {t}")),
    };
    if fits {
        Ok(())
    } else {
        Err(format!("{at}: {value} is not a {t}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_check_finds_what_differs_from_the_schema() {
        let document = json!({"components": {"schemas": {
            "Id": {"type": "string"},
            "Thing": {
                "type": "object",
                "required": ["id", "n"],
                "properties": {
                    "id": {"$ref": "#/components/schemas/Id"},
                    "n": {"type": "integer", "minimum": 0},
                    "note": {"type": ["string", "null"]},
                    "tags": {"type": "array", "items": {"enum": ["a", "b"]}},
                    "parent": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Id"}]}
                }
            }
        }}});
        let thing = json!({"$ref": "#/components/schemas/Thing"});
        let ok = json!({"id": "x", "n": 1, "note": null, "tags": ["a"], "parent": "p"});
        assert_eq!(check(&document, &thing, &ok, "data"), Ok(()));
        for bad in [
            json!({"id": "x"}),
            json!({"id": 1, "n": 1}),
            json!({"id": "x", "n": -1}),
            json!({"id": "x", "n": 1, "extra": true}),
            json!({"id": "x", "n": 1, "tags": ["c"]}),
            json!({"id": "x", "n": 1, "parent": 3}),
            json!({"id": "x", "n": 1.5}),
        ] {
            assert!(check(&document, &thing, &bad, "data").is_err(), "{bad}");
        }
    }
}
