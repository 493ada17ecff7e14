//! The API reference page (`/reference` on both services): the service's
//! OpenAPI document, read by a person.
//!
//! It is rendered on the server, from the very `serde_json::Value` that
//! `GET /openapi.json` serves — not from the Rust types a second time — so
//! the page and the document cannot disagree. The road not taken: a
//! JavaScript API explorer (Swagger UI, Redoc). It would offer "try it",
//! but it is a few hundred kilobytes of someone else's code to vendor or
//! load from a CDN, and this demo works offline with nothing but its own
//! small script. A table per operation is what a learner needs to see what
//! crosses the wire.
//!
//! The model below walks the document once: operations grouped by tag,
//! then the `webhooks` (calls the service *makes*), the shared problem
//! answers, the security schemes, and every schema as a table of fields.
//! A `$ref` becomes a link to the schema's table.

use serde_json::Value;

use crate::ui::chrome::Layout;

/// The page: `templates/shared/reference.html`.
#[derive(askama::Template)]
#[template(path = "shared/reference.html")]
pub struct ReferencePage {
    pub layout: Layout,
    pub reference: Reference,
}

/// A document, arranged to be read.
#[derive(Debug, Default)]
pub struct Reference {
    pub title: String,
    pub version: String,
    pub openapi: String,
    pub description: Prose,
    pub groups: Vec<Group>,
    /// The calls this service makes to others (OpenAPI's `webhooks`).
    pub webhooks: Vec<Operation>,
    pub problems: Vec<ProblemRow>,
    pub security: Vec<SecurityRow>,
    pub schemas: Vec<SchemaView>,
}

/// The operations of one tag.
#[derive(Debug)]
pub struct Group {
    pub name: String,
    pub anchor: String,
    pub description: Prose,
    pub operations: Vec<Operation>,
}

#[derive(Debug)]
pub struct Operation {
    pub method: String,
    /// The path, or for a webhook its name (`order.created`).
    pub path: String,
    pub anchor: String,
    pub summary: Prose,
    pub description: Prose,
    /// `Bearer feed_key`, or `none` when the operation is open; an
    /// optional scheme reads `operator (if set)`.
    pub security: Vec<String>,
    pub parameters: Vec<Parameter>,
    pub body: Option<Body>,
    /// The operation's own answers.
    pub responses: Vec<ResponseRow>,
    /// The shared answers it can also give (status, name), listed once
    /// under Problems.
    pub shared: Vec<(String, String)>,
}

#[derive(Debug)]
pub struct Parameter {
    pub name: String,
    pub location: String,
    pub required: bool,
    pub ty: TypeText,
    pub description: Prose,
}

#[derive(Debug)]
pub struct Body {
    pub required: bool,
    pub description: Prose,
    /// One row per media type (JSON and XML may carry the same schema).
    pub content: Vec<ContentRow>,
}

#[derive(Debug)]
pub struct ContentRow {
    pub media_type: String,
    pub ty: TypeText,
}

#[derive(Debug)]
pub struct ResponseRow {
    pub status: String,
    pub description: Prose,
    pub content: Vec<ContentRow>,
    pub headers: Vec<(String, Prose)>,
}

#[derive(Debug)]
pub struct ProblemRow {
    pub name: String,
    pub status: String,
    pub description: Prose,
}

#[derive(Debug)]
pub struct SecurityRow {
    pub name: String,
    pub kind: String,
    pub description: Prose,
}

#[derive(Debug)]
pub struct SchemaView {
    pub name: String,
    pub anchor: String,
    pub description: Prose,
    /// `object`, `string`, …: what the schema is when it is not a table.
    pub summary: TypeText,
    pub fields: Vec<Field>,
    pub words: Vec<String>,
}

#[derive(Debug)]
pub struct Field {
    pub name: String,
    pub ty: TypeText,
    pub required: bool,
    pub description: Prose,
}

/// Text from the document, with its `code spans` kept apart so the page
/// can set them as code (the descriptions are written in Markdown's
/// backticks; nothing else of Markdown is read).
#[derive(Debug, Clone, Default)]
pub struct Prose {
    pub parts: Vec<Span>,
}

#[derive(Debug, Clone)]
pub struct Span {
    pub code: bool,
    pub text: String,
}

impl Prose {
    pub fn new(text: &str) -> Prose {
        Prose {
            parts: text
                .split('`')
                .enumerate()
                .filter(|(_, t)| !t.is_empty())
                .map(|(i, t)| Span {
                    code: i % 2 == 1,
                    text: t.to_owned(),
                })
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }
}

/// A type in words, with a link to the schema it names, if it names one.
#[derive(Debug, Clone, Default)]
pub struct TypeText {
    pub before: String,
    pub link: Option<(String, String)>,
    pub after: String,
}

impl TypeText {
    fn plain(text: impl Into<String>) -> TypeText {
        TypeText {
            before: text.into(),
            ..TypeText::default()
        }
    }
}

const METHODS: &[&str] = &["get", "put", "post", "patch", "delete"];

impl Reference {
    pub fn from_document(doc: &Value) -> Reference {
        let info = &doc["info"];
        let mut groups: Vec<Group> = doc["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|tag| Group {
                name: text(&tag["name"]),
                anchor: anchor("tag", &text(&tag["name"])),
                description: prose(&tag["description"]),
                operations: Vec::new(),
            })
            .collect();
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for (method, op) in operations(item) {
                let tag = op["tags"][0].as_str().unwrap_or("other").to_owned();
                let operation = operation(method, path, op);
                match groups.iter_mut().find(|g| g.name == tag) {
                    Some(group) => group.operations.push(operation),
                    None => groups.push(Group {
                        anchor: anchor("tag", &tag),
                        name: tag,
                        description: Prose::default(),
                        operations: vec![operation],
                    }),
                }
            }
        }
        groups.retain(|g| !g.operations.is_empty());
        let webhooks = doc["webhooks"]
            .as_object()
            .into_iter()
            .flatten()
            .flat_map(|(name, item)| {
                operations(item).map(move |(method, op)| operation(method, name, op))
            })
            .collect();
        let components = &doc["components"];
        let problems = components["responses"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, response)| ProblemRow {
                name: name.clone(),
                status: shared_status(name, doc),
                description: prose(&response["description"]),
            })
            .collect();
        let security = components["securitySchemes"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, scheme)| SecurityRow {
                name: name.clone(),
                kind: format!("{} {}", text(&scheme["type"]), text(&scheme["scheme"]))
                    .trim()
                    .to_owned(),
                description: prose(&scheme["description"]),
            })
            .collect();
        let schemas = components["schemas"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, schema)| schema_view(name, schema))
            .collect();
        Reference {
            title: text(&info["title"]),
            version: text(&info["version"]),
            openapi: text(&doc["openapi"]),
            description: prose(&info["description"]),
            groups,
            webhooks,
            problems,
            security,
            schemas,
        }
    }

    /// How many operations the page lists (paths and webhooks).
    pub fn operation_count(&self) -> usize {
        self.groups
            .iter()
            .map(|g| g.operations.len())
            .sum::<usize>()
            + self.webhooks.len()
    }
}

fn operations(item: &Value) -> impl Iterator<Item = (&'static str, &Value)> {
    METHODS
        .iter()
        .filter_map(move |m| item.get(*m).map(|op| (*m, op)))
}

fn operation(method: &str, path: &str, op: &Value) -> Operation {
    let parameters = op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| Parameter {
            name: text(&p["name"]),
            location: text(&p["in"]),
            required: p["required"].as_bool().unwrap_or(false),
            ty: type_text(&p["schema"]),
            description: prose(&p["description"]),
        })
        .collect();
    let body = op.get("requestBody").map(|b| Body {
        required: b["required"].as_bool().unwrap_or(false),
        description: prose(&b["description"]),
        content: content_rows(&b["content"]),
    });
    let mut responses = Vec::new();
    let mut shared = Vec::new();
    for (status, response) in op["responses"].as_object().into_iter().flatten() {
        if let Some(reference) = response["$ref"].as_str() {
            let name = reference.rsplit('/').next().unwrap_or(reference);
            shared.push((status.clone(), name.to_owned()));
            continue;
        }
        responses.push(ResponseRow {
            status: status.clone(),
            description: prose(&response["description"]),
            content: content_rows(&response["content"]),
            headers: response["headers"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(name, h)| (name.clone(), prose(&h["description"])))
                .collect(),
        });
    }
    let security = match op["security"].as_array() {
        None => Vec::new(),
        Some(requirements) => {
            let optional = requirements
                .iter()
                .any(|r| r.as_object().is_some_and(|o| o.is_empty()));
            requirements
                .iter()
                .filter_map(|r| r.as_object())
                .flat_map(|r| r.keys())
                .map(|name| {
                    if optional {
                        format!("{name} (if set)")
                    } else {
                        name.clone()
                    }
                })
                .collect()
        }
    };
    Operation {
        method: method.to_uppercase(),
        path: path.to_owned(),
        anchor: anchor(method, path),
        summary: prose(&op["summary"]),
        description: prose(&op["description"]),
        security,
        parameters,
        body,
        responses,
        shared,
    }
}

/// The status a shared answer is given with, as the first operation that
/// uses it says (the components do not carry statuses themselves).
fn shared_status(name: &str, doc: &Value) -> String {
    let wanted = format!("#/components/responses/{name}");
    for item in doc["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(_, v)| v)
    {
        for (_, op) in operations(item) {
            for (status, response) in op["responses"].as_object().into_iter().flatten() {
                if response["$ref"].as_str() == Some(wanted.as_str()) {
                    return status.clone();
                }
            }
        }
    }
    // Listed for the reader without being any operation's answer.
    if name == "MethodNotAllowed" {
        "405".into()
    } else {
        String::new()
    }
}

fn content_rows(content: &Value) -> Vec<ContentRow> {
    content
        .as_object()
        .into_iter()
        .flatten()
        .map(|(media_type, c)| ContentRow {
            media_type: media_type.clone(),
            ty: type_text(&c["schema"]),
        })
        .collect()
}

fn schema_view(name: &str, schema: &Value) -> SchemaView {
    let required: Vec<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let fields = schema["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(field, s)| Field {
            name: field.clone(),
            ty: type_text(s),
            required: required.contains(&field.as_str()),
            description: prose(&s["description"]),
        })
        .collect();
    let words = schema["enum"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|w| w.as_str().map(str::to_owned))
        .collect();
    SchemaView {
        name: name.to_owned(),
        anchor: anchor("schema", name),
        description: prose(&schema["description"]),
        summary: type_text(schema),
        fields,
        words,
    }
}

/// A schema in a few words: `list of Order`, `string, date-time`,
/// `integer, 1 to 99`, `OrderId or null`.
pub fn type_text(schema: &Value) -> TypeText {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap_or(reference).to_owned();
        return TypeText {
            before: String::new(),
            link: Some((anchor("schema", &name), name)),
            after: String::new(),
        };
    }
    for combinator in ["oneOf", "anyOf"] {
        if let Some(options) = schema[combinator].as_array() {
            let non_null: Vec<&Value> = options
                .iter()
                .filter(|o| o["type"].as_str() != Some("null"))
                .collect();
            let nullable = non_null.len() < options.len();
            if let [only] = non_null.as_slice() {
                let mut t = type_text(only);
                if nullable {
                    t.after.push_str(" or null");
                }
                return t;
            }
            return TypeText::plain(format!("one of {} shapes", options.len()));
        }
    }
    let (ty, nullable) = match &schema["type"] {
        Value::String(t) => (t.clone(), false),
        Value::Array(types) => {
            let names: Vec<&str> = types
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "null")
                .collect();
            (names.join(" or "), names.len() < types.len())
        }
        _ => ("any".to_owned(), false),
    };
    let mut t = if ty == "array" {
        let mut inner = type_text(&schema["items"]);
        inner.before = format!("list of {}", inner.before);
        let bounds = bounds(schema, "minItems", "maxItems", "items");
        if !bounds.is_empty() {
            inner.after.push_str(&format!(" ({bounds})"));
        }
        inner
    } else {
        let mut notes = Vec::new();
        if let Some(format) = schema["format"].as_str() {
            notes.push(format.to_owned());
        }
        let range = bounds(schema, "minimum", "maximum", "");
        if !range.is_empty() {
            notes.push(range);
        }
        let length = bounds(schema, "minLength", "maxLength", "characters");
        if !length.is_empty() {
            notes.push(length);
        }
        if let Some(pattern) = schema["pattern"].as_str() {
            notes.push(format!("matching {pattern}"));
        }
        if let Some(words) = schema["enum"].as_array() {
            let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
            notes.push(format!("one of {}", words.join(", ")));
        }
        if notes.is_empty() {
            TypeText::plain(ty)
        } else {
            TypeText::plain(format!("{ty} ({})", notes.join("; ")))
        }
    };
    if nullable {
        t.after.push_str(" or null");
    }
    t
}

fn bounds(schema: &Value, min: &str, max: &str, unit: &str) -> String {
    let unit = if unit.is_empty() {
        String::new()
    } else {
        format!(" {unit}")
    };
    match (schema[min].as_i64(), schema[max].as_i64()) {
        (Some(a), Some(b)) => format!("{a} to {b}{unit}"),
        (Some(a), None) => format!("at least {a}{unit}"),
        (None, Some(b)) => format!("at most {b}{unit}"),
        (None, None) => String::new(),
    }
}

fn prose(value: &Value) -> Prose {
    Prose::new(value.as_str().unwrap_or_default())
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

/// An `id` for a heading: `op-post-api-orders`, `schema-Order`.
fn anchor(kind: &str, name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("{kind}-{}", slug.trim_matches('-'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn code_spans_are_kept_apart() {
        let p = Prose::new("pass `after` back, or `x`");
        let parts: Vec<(bool, &str)> = p.parts.iter().map(|s| (s.code, s.text.as_str())).collect();
        assert_eq!(
            parts,
            [
                (false, "pass "),
                (true, "after"),
                (false, " back, or "),
                (true, "x")
            ]
        );
        assert!(Prose::new("").is_empty());
    }

    #[test]
    fn types_read_as_words_and_link_their_schemas() {
        let t =
            type_text(&json!({"type": "array", "items": {"$ref": "#/components/schemas/Order"}}));
        assert_eq!(t.before, "list of ");
        assert_eq!(t.link, Some(("schema-Order".into(), "Order".into())));
        let t = type_text(&json!({"type": ["string", "null"]}));
        assert_eq!(
            (t.before.as_str(), t.after.as_str()),
            ("string", " or null")
        );
        let t = type_text(&json!({"type": "integer", "minimum": 1, "maximum": 99}));
        assert_eq!(t.before, "integer (1 to 99)");
        let t = type_text(
            &json!({"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/OrderId"}]}),
        );
        assert_eq!(t.after, " or null");
    }

    #[test]
    fn a_document_becomes_groups_webhooks_and_tables() {
        let doc = json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "tags": [{"name": "orders", "description": "Orders."}],
            "paths": {"/api/orders/{id}": {"get": {
                "tags": ["orders"],
                "summary": "One order",
                "parameters": [{"name": "id", "in": "path", "required": true,
                                "schema": {"$ref": "#/components/schemas/OrderId"}}],
                "responses": {
                    "200": {"description": "ok", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Order"}}}},
                    "500": {"$ref": "#/components/responses/InternalError"}
                }
            }}},
            "webhooks": {"order.created": {"post": {"responses": {}}}},
            "components": {
                "responses": {"InternalError": {"description": "boom"}},
                "schemas": {"Order": {"type": "object", "required": ["id"],
                    "properties": {"id": {"$ref": "#/components/schemas/OrderId"}}}}
            }
        });
        let r = Reference::from_document(&doc);
        assert_eq!(r.groups.len(), 1);
        let op = &r.groups[0].operations[0];
        assert_eq!(
            (op.method.as_str(), op.path.as_str()),
            ("GET", "/api/orders/{id}")
        );
        assert_eq!(op.responses.len(), 1);
        assert_eq!(op.shared, [("500".to_owned(), "InternalError".to_owned())]);
        assert_eq!(r.webhooks[0].path, "order.created");
        assert_eq!(r.problems[0].status, "500");
        assert!(r.schemas[0].fields[0].required);
        assert_eq!(r.operation_count(), 2);
    }
}
