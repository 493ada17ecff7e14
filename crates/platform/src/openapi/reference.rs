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
//!
//! Descriptions are the code's doc comments, so their rustdoc Markdown
//! is read ([`markup`]) rather than shown raw; and every operation carries
//! an example ([`examples`]) — the `curl` to paste and the answer to
//! expect — because a table of fields says what is allowed, an example
//! what is meant.
//!
//! One module per part of the page: [`operations`] (a card per
//! operation), [`examples`] (its `curl` and bodies), [`schemas`] (a type
//! in words, a table per schema), [`markup`] (descriptions as paragraphs,
//! lists, code and links), [`prose`] (the shared readers and anchors);
//! this one assembles them.

pub mod examples;
pub mod markup;
pub mod operations;
pub mod prose;
pub mod schemas;

use serde_json::Value;

use crate::ui::chrome::Layout;

pub use examples::Example;
pub use markup::{Block, Prose, Span, SpanKind};
pub use operations::{Body, ContentRow, Operation, Parameter, ResponseRow};
pub use schemas::{Field, SchemaView, TypeText};

use operations::{operation, operations};
use prose::{anchor, prose, text};
use schemas::schema_view;

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

impl Reference {
    /// The page for `doc`, its `curl` examples aimed at `base` (the
    /// service's own address, `http://127.0.0.1:8080`).
    pub fn from_document(doc: &Value, base: &str) -> Reference {
        let info = &doc["info"];
        let components = &doc["components"];
        Reference {
            title: text(&info["title"]),
            version: text(&info["version"]),
            openapi: text(&doc["openapi"]),
            description: prose(&info["description"]),
            groups: groups(doc, base),
            webhooks: members(&doc["webhooks"])
                .flat_map(|(name, item)| {
                    operations(item).map(move |(method, op)| operation(method, name, op, doc, None))
                })
                .collect(),
            problems: members(&components["responses"])
                .map(|(name, response)| ProblemRow {
                    name: name.clone(),
                    status: shared_status(name, doc),
                    description: prose(&response["description"]),
                })
                .collect(),
            security: members(&components["securitySchemes"])
                .map(|(name, scheme)| SecurityRow {
                    name: name.clone(),
                    kind: format!("{} {}", text(&scheme["type"]), text(&scheme["scheme"]))
                        .trim()
                        .to_owned(),
                    description: prose(&scheme["description"]),
                })
                .collect(),
            schemas: members(&components["schemas"])
                .map(|(name, schema)| schema_view(name, schema))
                .collect(),
        }
    }
}

/// The address a person reached this service at, for the `curl`
/// examples: the request's `Host` — what the browser's address bar shows,
/// behind a published port too — or `fallback` (the configured public
/// URL) when the request has none, or one that is not a plain host.
pub fn service_address(req: &actix_web::HttpRequest, fallback: &str) -> String {
    let host = req
        .headers()
        .get(actix_web::http::header::HOST)
        .and_then(|h| h.to_str().ok());
    address(req.connection_info().scheme(), host, fallback)
}

fn address(scheme: &str, host: Option<&str>, fallback: &str) -> String {
    let scheme = if scheme == "https" { "https" } else { "http" };
    let plain = |h: &&str| {
        !h.is_empty()
            && h.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
    };
    match host.filter(plain) {
        Some(host) => format!("{scheme}://{host}"),
        None => fallback.trim_end_matches('/').to_owned(),
    }
}

/// The members of an object in the document (none when it is missing).
fn members(value: &Value) -> impl Iterator<Item = (&String, &Value)> {
    value.as_object().into_iter().flatten()
}

/// The paths' operations, grouped by their first tag: the document's tags
/// in its order, then any tag it uses without declaring; empty groups left
/// out.
fn groups(doc: &Value, base: &str) -> Vec<Group> {
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
    for (path, item) in members(&doc["paths"]) {
        for (method, op) in operations(item) {
            let tag = op["tags"][0].as_str().unwrap_or("other").to_owned();
            let operation = operation(method, path, op, doc, Some(base));
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
    groups
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Through the template: markup becomes elements, and anything that
    /// looks like HTML in a description, a link target or an example is
    /// escaped — a description cannot put a script on the page.
    #[test]
    fn the_page_sets_markup_and_escapes_everything_else() {
        use askama::Template;
        let doc = json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1",
                     "description": "<script>alert(1)</script> **bold** [`Order`] and\n\n- [spec](https://example.com/?a=1&b=\"x\")\n- [bad](javascript:alert(1))"},
            "paths": {"/x": {"post": {
                "summary": "<img src=x onerror=alert(1)>",
                "requestBody": {"content": {"application/json": {"example": {"k": "</code><script>alert(2)</script>"}}}},
                "responses": {"200": {"description": "ok"}}
            }}}
        });
        let page = ReferencePage {
            layout: Layout::new(
                crate::ui::chrome::Service::Store,
                &[],
                "http://127.0.0.1:9",
                "API reference",
                "/reference",
            ),
            reference: Reference::from_document(&doc, "http://127.0.0.1:8080"),
        };
        let html = page.render().unwrap();
        for needle in [
            "&#60;script&#62;alert(1)&#60;/script&#62; <strong>bold</strong> <code>Order</code> and</p>",
            "<ul><li><a href=\"https://example.com/?a=1&#38;b=&#34;x&#34;\">spec</a></li><li>bad</li></ul>",
            "&#60;img src=x onerror=alert(1)&#62;",
            "&#60;/code&#62;&#60;script&#62;alert(2)",
        ] {
            assert!(html.contains(needle), "expected {needle:?} in\n{html}");
        }
        for raw in ["<script>alert", "<img", "javascript:"] {
            assert!(!html.contains(raw), "{raw:?} reached the page:\n{html}");
        }
    }

    #[test]
    fn examples_aim_at_the_address_the_request_came_to() {
        let fallback = "http://127.0.0.1:8080/";
        assert_eq!(
            address("http", Some("localhost:9000"), fallback),
            "http://localhost:9000"
        );
        assert_eq!(
            address("https", Some("[::1]:8443"), fallback),
            "https://[::1]:8443"
        );
        assert_eq!(address("http", None, fallback), "http://127.0.0.1:8080");
        assert_eq!(
            address("http", Some("evil' ; rm -rf /"), fallback),
            "http://127.0.0.1:8080"
        );
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
        let r = Reference::from_document(&doc, "http://127.0.0.1:8080");
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
        let operations = r.groups.iter().map(|g| g.operations.len()).sum::<usize>();
        assert_eq!(operations + r.webhooks.len(), 2);
        // Each card has its example: a command for a path, none for a
        // webhook (the service sends those).
        assert!(
            op.example
                .command
                .as_deref()
                .is_some_and(|c| c.starts_with("curl -i 'http://127.0.0.1:8080/api/orders/")),
            "{:?}",
            op.example
        );
        assert_eq!(op.example.response_status, "200");
        assert!(r.webhooks[0].example.command.is_none());
    }
}
