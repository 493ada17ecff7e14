//! Schemas as the page shows them: a type in a few words ([`TypeText`],
//! linking the schema it names), and every schema of the document as a
//! table of its fields ([`SchemaView`]).

use serde_json::Value;

use super::prose::{Prose, anchor, prose, required_fields};

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

pub(super) fn schema_view(name: &str, schema: &Value) -> SchemaView {
    let required = required_fields(schema);
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
pub(super) fn type_text(schema: &Value) -> TypeText {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
}
