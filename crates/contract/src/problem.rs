//! `application/problem+json` (RFC 9457): one error body for every API of
//! both services.
//!
//! A client can always read `status`, `title` (what kind of problem) and
//! `detail` (this occurrence, in words). Two extension members carry
//! structure a program can act on: `errors` lists every invalid field of a
//! request at once, and `shortages` says which SKUs ran out.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::inventory::Shortage;

pub const CONTENT_TYPE: &str = "application/problem+json";

/// One invalid field: `field` is a path into the request (`items[2].quantity`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem. `about:blank` means "just
    /// the HTTP status"; the others are relative references such as
    /// `/problems/out-of-stock` (stable identifiers, not links to fetch).
    #[serde(rename = "type", default = "about_blank")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shortages: Vec<Shortage>,
}

fn about_blank() -> String {
    "about:blank".into()
}

impl Problem {
    pub fn new(status: u16, problem_type: &str, title: impl Into<String>) -> Problem {
        Problem {
            problem_type: problem_type.into(),
            title: title.into(),
            status,
            detail: None,
            errors: Vec::new(),
            shortages: Vec::new(),
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Problem {
        self.detail = Some(detail.into());
        self
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Problem {
        self.errors = errors;
        self
    }

    pub fn with_shortages(mut self, shortages: Vec<Shortage>) -> Problem {
        self.shortages = shortages;
        self
    }
}
