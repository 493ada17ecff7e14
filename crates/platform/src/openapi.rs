//! What both services' OpenAPI 3.1 documents share: the problem answers
//! every API gives, the operator's optional token, and serving the result
//! at `GET /openapi.json` (and, read by people, at `/reference`:
//! [`reference`](mod@reference)).
//!
//! Each service describes its own operations with `#[utoipa::path]` on the
//! handlers and derives its schemas from the `contract` types; this module
//! then adds what is true of *every* operation because of the plumbing
//! they all run through ([`crate::server`], [`crate::http`],
//! [`crate::limits`], [`crate::guard`]) — a body that does not parse is a
//! `400`, one that is too large a `413`, headers that are too large a
//! `431`, a cross-site write a `403` — so that no handler has to repeat
//! them and none can forget them. The answers are `components.responses`,
//! referenced from each operation by name.
//!
//! The trade-off: a generated document is only as true as what it is
//! generated from. The contract types make the *shapes* true by
//! construction; the statuses are what the code is written to answer, and
//! outside tools check that it does (schemathesis in CI, see
//! `ci/contract/`).

#[cfg(feature = "test-support")]
pub mod coverage;
pub mod key_examples;
pub mod reference;

use std::sync::Arc;

use actix_web::{HttpResponse, http::header};
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Components, ContentBuilder, OpenApi, Ref, RefOr, Required, ResponseBuilder};
use utoipa::{PartialSchema, ToSchema};

use contract::problem::CONTENT_TYPE as PROBLEM_JSON;
use contract::{FieldError, Problem};

/// The name of the operator's bearer scheme (`ADMIN_TOKEN`), in both
/// documents.
pub const OPERATOR: &str = "operator";

/// One problem answer that the plumbing gives, shared by name.
struct Shared {
    name: &'static str,
    status: &'static str,
    description: &'static str,
}

const INTERNAL: Shared = Shared {
    name: "InternalError",
    status: "500",
    description: "Something failed on the service's side (a database error, say); \
                  the cause is logged, the answer says nothing more.",
};
const HEADERS_TOO_LARGE: Shared = Shared {
    name: "HeadersTooLarge",
    status: "431",
    description: "The request's headers are too large (more than 16 KiB in all, or \
                  one value over 8 KiB). The connection is closed.",
};
const MALFORMED_BODY: Shared = Shared {
    name: "MalformedBody",
    status: "400",
    description: "The body could not be read as the declared media type \
                  (`/problems/malformed-body`).",
};
const BODY_TIMEOUT: Shared = Shared {
    name: "BodyTimeout",
    status: "408",
    description: "The body did not arrive within 5 seconds of the request's head. \
                  The connection is closed.",
};
const BODY_TOO_LARGE: Shared = Shared {
    name: "BodyTooLarge",
    status: "413",
    description: "The body is larger than the service accepts (`/problems/body-too-large`).",
};
const UNSUPPORTED_MEDIA_TYPE: Shared = Shared {
    name: "UnsupportedMediaType",
    status: "415",
    description: "The body's `Content-Type` is not one this operation reads \
                  (`/problems/unsupported-media-type`).",
};
const BAD_QUERY: Shared = Shared {
    name: "BadQuery",
    status: "400",
    description: "A query parameter did not parse (`/problems/bad-query`).",
};
const CROSS_SITE: Shared = Shared {
    name: "CrossSiteRefused",
    status: "403",
    description: "A browser sent this write from another site's page \
                  (`Sec-Fetch-Site`/`Origin`): refused, nothing changed.",
};
const OPERATOR_REQUIRED: Shared = Shared {
    name: "OperatorRequired",
    status: "401",
    description: "`ADMIN_TOKEN` is set and the request did not carry it as \
                  `Authorization: Bearer <token>` (`/problems/unauthorized`).",
};
/// Not attached to any operation (a method an operation does not have is
/// no operation), but answered on every documented path: listed for the
/// reader.
const METHOD_NOT_ALLOWED: Shared = Shared {
    name: "MethodNotAllowed",
    status: "405",
    description: "The path exists but not with this method; `Allow` lists the ones \
                  it has.",
};

const ALL_SHARED: &[&Shared] = &[
    &MALFORMED_BODY,
    &BAD_QUERY,
    &OPERATOR_REQUIRED,
    &CROSS_SITE,
    &METHOD_NOT_ALLOWED,
    &BODY_TIMEOUT,
    &BODY_TOO_LARGE,
    &UNSUPPORTED_MEDIA_TYPE,
    &HEADERS_TOO_LARGE,
    &INTERNAL,
];

/// A problem+json answer with this description (for a handler's own
/// statuses, when a document is assembled by hand).
pub fn problem(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(Problem::name())))
                .build(),
        )
        .build()
}

/// An `http` `bearer` security scheme.
pub fn bearer(description: &str) -> SecurityScheme {
    SecurityScheme::Http(
        HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some(description))
            .build(),
    )
}

/// The three Standard Webhooks headers, as the store sends them and the
/// inventory's receiver reads them (`contract::signing`).
pub fn standard_webhooks_headers() -> Vec<Parameter> {
    use contract::signing::{HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP};
    let header = |name: &str, schema: ObjectBuilder, description: &str| {
        ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Header)
            .required(Required::True)
            .schema(Some(schema.schema_type(Type::String)))
            .description(Some(description))
            .build()
    };
    vec![
        header(
            HEADER_ID,
            ObjectBuilder::new()
                .min_length(Some(1))
                .max_length(Some(255))
                .examples(["msg_0193a1b2c3d47e8f9a0b1c2d3e4f5a6b"]),
            "The message's id: the same on every attempt (retry or redelivery) of one \
             message, so a receiver dedupes on it.",
        ),
        header(
            HEADER_TIMESTAMP,
            ObjectBuilder::new()
                .pattern(Some("^[0-9]{1,12}$"))
                .examples(["1763158400"]),
            "When this attempt was sent, in unix seconds. A receiver refuses one more than \
             5 minutes from its own clock (replays).",
        ),
        header(
            HEADER_SIGNATURE,
            ObjectBuilder::new()
                .max_length(Some(1024))
                .examples(["v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="]),
            "Space-separated `v1,<base64 HMAC-SHA256>` signatures of \
             `{webhook-id}.{webhook-timestamp}.{raw body}`, keyed with the base64-decoded \
             part of the endpoint's `whsec_` secret; two while a secret is being rotated \
             (the new one and the old).",
        ),
    ]
}

/// [`standard_webhooks_headers`] as `params(…)` of a `#[utoipa::path]`.
pub struct StandardWebhooksHeaders;

impl utoipa::IntoParams for StandardWebhooksHeaders {
    fn into_params(_: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>) -> Vec<Parameter> {
        standard_webhooks_headers()
    }
}

/// The operational endpoints every service has ([`crate::server::ops_routes`])
/// and this document's own.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    crate::server::healthz,
    crate::server::metrics,
    crate::server::events,
    serve
))]
struct Operations;

/// Adds what every operation of both services shares to a document the
/// service built from its handlers: the operational endpoints, the problem
/// schemas, the shared answers (each attached where the plumbing gives
/// it), and the operator's scheme.
pub fn complete(api: &mut OpenApi) {
    api.merge(<Operations as utoipa::OpenApi>::openapi());
    let components = api.components.get_or_insert_with(Components::new);
    for (name, schema) in [
        (Problem::name(), Problem::schema()),
        (FieldError::name(), FieldError::schema()),
    ] {
        components.schemas.insert(name.into(), schema);
    }
    let mut nested = Vec::new();
    Problem::schemas(&mut nested);
    components.schemas.extend(nested);
    for shared in ALL_SHARED {
        components
            .responses
            .insert(shared.name.into(), RefOr::T(problem(shared.description)));
    }
    components.security_schemes.insert(
        OPERATOR.into(),
        bearer(
            "The operator's token, `ADMIN_TOKEN`. Only when the service was started \
             with one: without it (the local demo) management is open to whoever \
             can reach the service.",
        ),
    );
    for item in api.paths.paths.values_mut() {
        let methods = [
            (&mut item.get, false),
            (&mut item.post, true),
            (&mut item.put, true),
            (&mut item.patch, true),
            (&mut item.delete, true),
        ];
        for (operation, writes) in methods {
            if let Some(op) = operation.as_mut() {
                attach_shared(op, writes);
            }
        }
    }
}

fn attach_shared(op: &mut Operation, writes: bool) {
    let mut shared: Vec<&Shared> = Vec::new();
    if op.request_body.is_some() {
        shared.extend([
            &MALFORMED_BODY,
            &BODY_TIMEOUT,
            &BODY_TOO_LARGE,
            &UNSUPPORTED_MEDIA_TYPE,
        ]);
    }
    let has_query = op
        .parameters
        .iter()
        .flatten()
        .any(|p| matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query));
    if has_query {
        shared.push(&BAD_QUERY);
    }
    let operator = op.security.iter().flatten().any(|requirement| {
        serde_json::to_value(requirement).is_ok_and(|v| v.get(OPERATOR).is_some())
    });
    if operator {
        shared.push(&OPERATOR_REQUIRED);
    }
    if writes {
        shared.push(&CROSS_SITE);
    }
    shared.extend([&HEADERS_TOO_LARGE, &INTERNAL]);
    for s in shared {
        op.responses
            .responses
            .entry(s.status.into())
            .or_insert_with(|| RefOr::Ref(Ref::from_response_name(s.name)));
    }
}

/// The finished document, as served: JSON text, built once at start.
#[derive(Clone)]
pub struct Document {
    json: Arc<serde_json::Value>,
}

impl Document {
    pub fn new(json: serde_json::Value) -> Document {
        Document {
            json: Arc::new(json),
        }
    }

    pub fn json(&self) -> &serde_json::Value {
        &self.json
    }
}

/// `GET /openapi.json`.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    summary = "This document",
    description = "The service's OpenAPI 3.1 document, generated from its code; \
                   `/reference` shows it as a page.",
    responses((status = 200, description = "The document", content_type = "application/json", body = Object))
)]
pub async fn serve(document: actix_web::web::Data<Document>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .json(document.json())
}
