//! An example per operation: a `curl` command a learner can paste (method,
//! the service's own address, path, the auth header to fill in, the JSON
//! body), and the answer's body for the success status — or, for a webhook
//! (a call this service *makes*), the body it sends.
//!
//! Bodies come from the document: a media type's or schema's own `example`
//! (or first of `examples`) where the code gives one, since a person wrote
//! those to be read; otherwise one is made up by walking the schema —
//! objects by their properties, a `$ref` followed, a list with one item, an
//! enum's first word, a string shaped by its `format`. The walk is bounded
//! (depth, and a schema never entered inside itself), so a recursive schema
//! ends with an empty value instead of looping. A made-up example is valid in
//! shape but not in meaning (a SKU `"string"`); that is why the key types
//! carry examples of their own.
//!
//! Pure functions over `serde_json::Value`: no service, no I/O.

use serde_json::{Map, Value, json};

use super::prose::required_fields;

/// How deep the walk goes before it stops making things up.
const MAX_DEPTH: usize = 8;

/// What an operation's card shows as its example.
#[derive(Debug, Clone, Default)]
pub struct Example {
    /// The `curl` command (for the paths: calls made *to* this service).
    pub command: Option<String>,
    /// The JSON body sent (for the webhooks, which this service sends:
    /// there is nothing here to call).
    pub body: Option<String>,
    /// The success status, and its JSON body if it has one.
    pub response_status: String,
    pub response: Option<String>,
}

impl Example {
    pub fn is_empty(&self) -> bool {
        self.command.is_none() && self.body.is_none() && self.response_status.is_empty()
    }
}

/// The example for one operation. `base` is the service's address
/// (`http://127.0.0.1:8080`) for a path; `None` for a webhook.
pub(super) fn operation_example(
    method: &str,
    path: &str,
    op: &Value,
    doc: &Value,
    base: Option<&str>,
) -> Example {
    let body = json_media(&op["requestBody"]["content"]).map(|media| media_example(media, doc));
    let (response_status, response) = success(op, doc);
    let response = response.map(|r| pretty(&r));
    match base {
        Some(base) => Example {
            command: Some(curl(method, base, path, op, doc, body.as_ref())),
            body: None,
            response_status,
            response,
        },
        None => Example {
            command: None,
            body: body.map(|b| pretty(&b)),
            response_status,
            response,
        },
    }
}

/// `curl` with one option per line, single-quoted for a POSIX shell.
fn curl(
    method: &str,
    base: &str,
    path: &str,
    op: &Value,
    doc: &Value,
    body: Option<&Value>,
) -> String {
    let parameters: Vec<&Value> = op["parameters"].as_array().into_iter().flatten().collect();
    let mut url = format!("{}{}", base.trim_end_matches('/'), path);
    for p in parameters.iter().filter(|p| p["in"] == "path") {
        let name = p["name"].as_str().unwrap_or_default();
        let value = scalar(&parameter_example(p, doc));
        url = url.replace(&format!("{{{name}}}"), &value);
    }
    let query: Vec<String> = parameters
        .iter()
        .filter(|p| p["in"] == "query" && p["required"] == true)
        .map(|p| {
            format!(
                "{}={}",
                p["name"].as_str().unwrap_or_default(),
                scalar(&parameter_example(p, doc))
            )
        })
        .collect();
    if !query.is_empty() {
        url = format!("{url}?{}", query.join("&"));
    }
    let mut lines = vec![match method.to_ascii_uppercase().as_str() {
        "GET" => format!("curl -i {}", quote(&url)),
        other => format!("curl -i -X {other} {}", quote(&url)),
    }];
    if let Some(header) = auth_header(op, doc) {
        lines.push(format!("-H {}", quote(&header)));
    }
    for p in parameters
        .iter()
        .filter(|p| p["in"] == "header" && p["required"] == true)
    {
        let header = format!(
            "{}: {}",
            p["name"].as_str().unwrap_or_default(),
            scalar(&parameter_example(p, doc))
        );
        lines.push(format!("-H {}", quote(&header)));
    }
    if let Some(body) = body {
        lines.push(format!("-H {}", quote("Content-Type: application/json")));
        lines.push(format!("-d {}", quote(&pretty(body))));
    }
    lines.join(" \\\n  ")
}

/// The first scheme the operation names, as the header to send, with a
/// placeholder where the secret goes (`Authorization: Bearer <feed_key>`).
fn auth_header(op: &Value, doc: &Value) -> Option<String> {
    let name = op["security"]
        .as_array()?
        .iter()
        .filter_map(Value::as_object)
        .flat_map(|r| r.keys())
        .next()?;
    let scheme = &doc["components"]["securitySchemes"][name];
    match scheme["type"].as_str() {
        Some("apiKey") if scheme["in"] == "header" => Some(format!(
            "{}: <{name}>",
            scheme["name"].as_str().unwrap_or(name)
        )),
        Some("http") if scheme["scheme"].as_str() == Some("basic") => {
            Some(format!("Authorization: Basic <{name}>"))
        }
        _ => Some(format!("Authorization: Bearer <{name}>")),
    }
}

/// The first 2xx answer (`200`, `2XX`, …) and its JSON example, if it has
/// a body.
fn success(op: &Value, doc: &Value) -> (String, Option<Value>) {
    let Some((status, response)) = op["responses"]
        .as_object()
        .into_iter()
        .flatten()
        .find(|(status, _)| status.starts_with('2'))
    else {
        return (String::new(), None);
    };
    let response = resolve(response, doc);
    (
        status.clone(),
        json_media(&response["content"]).map(|media| media_example(media, doc)),
    )
}

/// The JSON media type of a `content` map (`application/json`, or any
/// `…+json`), if it has one.
fn json_media(content: &Value) -> Option<&Value> {
    let content = content.as_object()?;
    content.get("application/json").or_else(|| {
        content
            .iter()
            .find(|(media, _)| media.ends_with("+json"))
            .map(|(_, m)| m)
    })
}

/// A media type's example: its own, else its schema's.
pub(super) fn media_example(media: &Value, doc: &Value) -> Value {
    if let Some(example) = media.get("example") {
        return example.clone();
    }
    if let Some(first) = media["examples"]
        .as_object()
        .and_then(|e| e.values().next())
    {
        let first = resolve(first, doc);
        if let Some(value) = first.get("value") {
            return value.clone();
        }
    }
    example(&media["schema"], doc)
}

fn parameter_example(p: &Value, doc: &Value) -> Value {
    p.get("example")
        .cloned()
        .unwrap_or_else(|| example(&p["schema"], doc))
}

/// An example of a schema: its own, or one made by walking it.
pub fn example(schema: &Value, doc: &Value) -> Value {
    walk(schema, doc, &mut Vec::new()).unwrap_or(Value::Null)
}

/// `None` when the walk had to stop (too deep, or a schema inside itself):
/// an optional property is then left out, a list left empty.
fn walk(schema: &Value, doc: &Value, trail: &mut Vec<String>) -> Option<Value> {
    if trail.len() > MAX_DEPTH {
        return None;
    }
    if let Some(reference) = schema["$ref"].as_str() {
        if trail.iter().any(|r| r == reference) {
            return None;
        }
        let target = lookup(reference, doc)?;
        trail.push(reference.to_owned());
        let value = walk(target, doc, trail);
        trail.pop();
        return value;
    }
    if let Some(own) = own_example(schema) {
        return Some(own);
    }
    if let Some(options) = schema["oneOf"].as_array().or(schema["anyOf"].as_array()) {
        // The first option that is not `null`: the shape worth showing.
        return options
            .iter()
            .filter(|o| o["type"] != "null")
            .find_map(|o| nested(o, doc, trail))
            .or(Some(Value::Null));
    }
    if let Some(parts) = schema["allOf"].as_array() {
        let mut merged = Map::new();
        for part in parts {
            match nested(part, doc, trail) {
                Some(Value::Object(fields)) => merged.extend(fields),
                Some(other) if parts.len() == 1 => return Some(other),
                _ => {}
            }
        }
        return Some(Value::Object(merged));
    }
    let ty = match &schema["type"] {
        Value::String(t) => t.as_str(),
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ if schema.get("properties").is_some() => "object",
        _ if schema.get("items").is_some() => "array",
        _ => return Some(Value::Null),
    };
    Some(match ty {
        "object" => object(schema, doc, trail),
        "array" => Value::Array(nested(&schema["items"], doc, trail).into_iter().collect()),
        "string" => Value::String(string(schema)),
        "integer" => json!(integer(schema)),
        "number" => json!(integer(schema) as f64),
        "boolean" => Value::Bool(true),
        _ => Value::Null,
    })
}

/// One level down: the depth counts every step, not only `$ref`s.
fn nested(schema: &Value, doc: &Value, trail: &mut Vec<String>) -> Option<Value> {
    trail.push(String::new());
    let value = walk(schema, doc, trail);
    trail.pop();
    value
}

/// What the schema itself offers: an example, a constant, a first word, a
/// default.
fn own_example(schema: &Value) -> Option<Value> {
    schema
        .get("example")
        .or_else(|| schema["examples"].as_array().and_then(|e| e.first()))
        .or_else(|| schema.get("const"))
        .or_else(|| schema["enum"].as_array().and_then(|e| e.first()))
        .or_else(|| schema.get("default"))
        .cloned()
}

fn object(schema: &Value, doc: &Value, trail: &mut Vec<String>) -> Value {
    let required = required_fields(schema);
    let mut fields = Map::new();
    for (name, property) in schema["properties"].as_object().into_iter().flatten() {
        match nested(property, doc, trail) {
            Some(value) => {
                fields.insert(name.clone(), value);
            }
            None if required.contains(&name.as_str()) => {
                fields.insert(name.clone(), Value::Null);
            }
            None => {}
        }
    }
    if fields.is_empty()
        && let Some(values) = schema.get("additionalProperties").filter(|v| v.is_object())
        && let Some(value) = nested(values, doc, trail)
    {
        fields.insert("key".into(), value);
    }
    Value::Object(fields)
}

fn string(schema: &Value) -> String {
    let text = match schema["format"].as_str() {
        Some("date-time") => "2025-01-01T12:00:00Z",
        Some("date") => "2025-01-01",
        Some("time") => "12:00:00Z",
        Some("uuid") => "0190f4c2-5b1a-7c3e-8f00-000000000001",
        Some("uri" | "url") => "https://example.com/",
        Some("email") => "learner@example.com",
        Some("ipv4") => "127.0.0.1",
        _ => "string",
    };
    let min = schema["minLength"].as_u64().unwrap_or(0) as usize;
    if text.len() < min {
        format!("{text}{}", "x".repeat(min - text.len()))
    } else {
        text.to_owned()
    }
}

/// 1, or the nearest number the bounds allow.
fn integer(schema: &Value) -> i64 {
    let mut n = 1;
    if let Some(min) = schema["minimum"].as_i64() {
        n = n.max(min);
    }
    if let Some(max) = schema["maximum"].as_i64() {
        n = n.min(max);
    }
    n
}

/// A local reference's target (`#/components/schemas/Order`).
fn lookup<'a>(reference: &str, doc: &'a Value) -> Option<&'a Value> {
    doc.pointer(reference.strip_prefix('#')?)
}

/// An object that may be a `$ref` (a response, an example), followed once.
fn resolve<'a>(value: &'a Value, doc: &'a Value) -> &'a Value {
    value["$ref"]
        .as_str()
        .and_then(|r| lookup(r, doc))
        .unwrap_or(value)
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// A value as it goes into a URL or a header: a string without its quotes.
fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "…".into(),
        other => other.to_string(),
    }
}

/// Single-quoted for a POSIX shell: a `'` inside becomes `'\''`.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        json!({
            "components": {
                "securitySchemes": {"feed_key": {"type": "http", "scheme": "bearer"}},
                "schemas": {
                    "OrderId": {"type": "string", "example": "ord_01J0000000000000000000000"},
                    "Line": {"type": "object", "required": ["sku", "quantity"], "properties": {
                        "sku": {"type": "string"},
                        "quantity": {"type": "integer", "minimum": 1, "maximum": 99}
                    }},
                    "Order": {"type": "object", "required": ["id", "items", "status"], "properties": {
                        "id": {"$ref": "#/components/schemas/OrderId"},
                        "items": {"type": "array", "items": {"$ref": "#/components/schemas/Line"}},
                        "status": {"type": "string", "enum": ["pending", "confirmed"]},
                        "placed_at": {"type": "string", "format": "date-time"},
                        "note": {"type": ["string", "null"]},
                        "paid": {"type": "boolean"},
                        "total": {"oneOf": [{"type": "null"}, {"type": "number", "minimum": 0}]}
                    }},
                    "Tree": {"type": "object", "required": ["name", "parent"], "properties": {
                        "name": {"type": "string"},
                        "parent": {"$ref": "#/components/schemas/Tree"},
                        "children": {"type": "array", "items": {"$ref": "#/components/schemas/Tree"}},
                        "sibling": {"$ref": "#/components/schemas/Tree"}
                    }}
                }
            }
        })
    }

    #[test]
    fn a_schema_is_walked_into_an_example() {
        let doc = doc();
        let order = example(&json!({"$ref": "#/components/schemas/Order"}), &doc);
        assert_eq!(
            order,
            json!({
                "id": "ord_01J0000000000000000000000",
                "items": [{"sku": "string", "quantity": 1}],
                "status": "pending",
                "placed_at": "2025-01-01T12:00:00Z",
                "note": "string",
                "paid": true,
                "total": 1.0
            })
        );
        assert_eq!(
            example(&json!({"type": "integer", "minimum": 5}), &doc),
            json!(5)
        );
        assert_eq!(
            example(&json!({"type": "string", "minLength": 8}), &doc),
            json!("stringxx")
        );
        assert_eq!(
            example(&json!({"type": "string", "format": "uuid"}), &doc),
            json!("0190f4c2-5b1a-7c3e-8f00-000000000001")
        );
    }

    #[test]
    fn a_schema_inside_itself_ends_instead_of_looping() {
        let tree = example(&json!({"$ref": "#/components/schemas/Tree"}), &doc());
        // The required self-reference is null, the optional ones are left
        // out, the list is empty: one level, then it stops.
        assert_eq!(
            tree,
            json!({"name": "string", "parent": null, "children": []})
        );
        // A dangling reference is null, not a panic.
        assert_eq!(
            example(&json!({"$ref": "#/components/schemas/Nope"}), &doc()),
            Value::Null
        );
        // Depth is bounded even without references.
        let mut deep = json!({"type": "string"});
        for _ in 0..50 {
            deep = json!({"type": "array", "items": deep});
        }
        let mut value = example(&deep, &doc());
        let mut levels = 0;
        while let Value::Array(items) = value {
            levels += 1;
            value = items.into_iter().next().unwrap_or(Value::Null);
        }
        assert!(levels <= MAX_DEPTH + 1, "{levels}");
    }

    #[test]
    fn the_documents_own_examples_come_first() {
        let doc = doc();
        let media =
            json!({"schema": {"$ref": "#/components/schemas/Order"}, "example": {"given": true}});
        assert_eq!(media_example(&media, &doc), json!({"given": true}));
        let media = json!({"examples": {"one": {"value": [1]}, "two": {"value": [2]}}});
        assert_eq!(media_example(&media, &doc), json!([1]));
        let schema = json!({"type": "object", "examples": [{"a": 1}], "properties": {"b": {"type": "string"}}});
        assert_eq!(example(&schema, &doc), json!({"a": 1}));
    }

    #[test]
    fn an_operation_gets_a_curl_command_and_an_answer() {
        let doc = doc();
        let op = json!({
            "security": [{"feed_key": []}],
            "parameters": [
                {"name": "id", "in": "path", "required": true, "schema": {"$ref": "#/components/schemas/OrderId"}},
                {"name": "Idempotency-Key", "in": "header", "required": true, "schema": {"type": "string"}, "example": "k-1"},
                {"name": "verbose", "in": "query", "required": false, "schema": {"type": "boolean"}}
            ],
            "requestBody": {"content": {"application/json": {"example": {"note": "it's"}}}},
            "responses": {
                "400": {"description": "no"},
                "201": {"description": "yes", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Line"}}}}
            }
        });
        let e = operation_example(
            "post",
            "/api/orders/{id}",
            &op,
            &doc,
            Some("http://127.0.0.1:8080/"),
        );
        let command = e.command.unwrap();
        assert_eq!(
            command,
            "curl -i -X POST 'http://127.0.0.1:8080/api/orders/ord_01J0000000000000000000000' \\\n  \
             -H 'Authorization: Bearer <feed_key>' \\\n  \
             -H 'Idempotency-Key: k-1' \\\n  \
             -H 'Content-Type: application/json' \\\n  \
             -d '{\n  \"note\": \"it'\\''s\"\n}'"
        );
        assert_eq!(e.response_status, "201");
        assert_eq!(
            serde_json::from_str::<Value>(&e.response.unwrap()).unwrap(),
            json!({"sku": "string", "quantity": 1})
        );
        // A GET without security or body is one line.
        let get = json!({"responses": {"204": {"description": "gone"}}});
        let e = operation_example("get", "/health", &get, &doc, Some("http://h:1"));
        assert_eq!(e.command.as_deref(), Some("curl -i 'http://h:1/health'"));
        assert_eq!((e.response_status.as_str(), e.response), ("204", None));
    }

    #[test]
    fn a_webhook_gets_the_body_it_sends() {
        let doc = doc();
        let op = json!({
            "requestBody": {"content": {
                "application/xml": {"schema": {"$ref": "#/components/schemas/Order"}},
                "application/json": {"schema": {"$ref": "#/components/schemas/Line"}}
            }},
            "responses": {"2XX": {"description": "ok"}}
        });
        let e = operation_example("post", "order.created", &op, &doc, None);
        assert!(e.command.is_none());
        assert_eq!(
            serde_json::from_str::<Value>(&e.body.unwrap()).unwrap(),
            json!({"sku": "string", "quantity": 1})
        );
        assert_eq!(e.response_status, "2XX");
    }
}
