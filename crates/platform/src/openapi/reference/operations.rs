//! Operations as the page shows them: one card per path and method (or
//! webhook), with its parameters, body, own answers, and the shared
//! answers it can also give, and an example ([`super::examples`]).

use serde_json::Value;

use super::examples::{Example, operation_example};
use super::prose::{Prose, anchor, prose, text};
use super::schemas::{TypeText, type_text};

/// The methods the page lists, in the order it lists them.
const METHODS: &[&str] = &["get", "put", "post", "patch", "delete"];

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
    pub example: Example,
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

/// The operations of a path item (or a webhook), method by method.
pub(super) fn operations(item: &Value) -> impl Iterator<Item = (&'static str, &Value)> {
    METHODS
        .iter()
        .filter_map(move |m| item.get(*m).map(|op| (*m, op)))
}

/// One operation, as its card shows it. `base` is the service's address
/// for a path's `curl` example; `None` for a webhook (a call this service
/// makes: there is nothing here to call).
pub(super) fn operation(
    method: &str,
    path: &str,
    op: &Value,
    doc: &Value,
    base: Option<&str>,
) -> Operation {
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
        example: operation_example(method, path, op, doc, base),
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
