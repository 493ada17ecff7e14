//! Does a service's document describe exactly the routes it serves? For
//! tests (`test-support` only).
//!
//! Two checks, one from each side:
//!
//! * **Source → document.** actix-web keeps its routing table to itself,
//!   so the routes are read where they are written: every
//!   `web::resource("…")` and `.route("…", …)` in the service's source
//!   (and the operational ones in `platform::server`). Each machine path
//!   among them (`platform::ui::is_machine_path`, less the UI's own
//!   `/fragments/` and `/static/`) must be in the document, and every
//!   documented path must be among them.
//! * **Document → server.** Every documented operation is requested on
//!   the running service: it must reach a handler (never the router's
//!   "there is no … here" 404, never a 405), and every method the
//!   document does *not* list for a path must be a 405 — so a method
//!   added to a route without its documentation fails too.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];

/// Every path registered with `web::resource("…")` or `.route("…"` in
/// the `.rs` files under `dirs`.
fn registered_paths(dirs: &[&Path]) -> BTreeSet<String> {
    let mut paths = BTreeSet::new();
    for dir in dirs {
        visit(dir, &mut paths);
    }
    paths
}

fn visit(path: &Path, paths: &mut BTreeSet<String>) {
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .expect("a readable source directory")
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for entry in entries {
            visit(&entry, paths);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        let text = std::fs::read_to_string(path).expect("a readable source file");
        for marker in ["web::resource(\"", ".route(\""] {
            for (at, _) in text.match_indices(marker) {
                let rest = &text[at + marker.len()..];
                if let Some(end) = rest.find('"') {
                    paths.insert(rest[..end].to_owned());
                }
            }
        }
    }
}

/// The paths a document should describe: machine paths, not the UI's.
fn api_paths(registered: &BTreeSet<String>) -> BTreeSet<String> {
    registered
        .iter()
        .filter(|p| crate::ui::response::is_machine_path(p) || *p == "/openapi.json")
        .filter(|p| !p.starts_with("/fragments") && !p.starts_with("/static"))
        .cloned()
        .collect()
}

/// The operational routes every service gets from `platform::server`.
fn platform_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src/server.rs"))
}

/// Asserts that `document` and the routes in `source_dirs` (with the
/// operational ones of `platform::server`) name the same paths, then
/// requests every documented operation on the service at `base_url`.
pub async fn assert_document_matches_routes(
    base_url: &str,
    document: &Value,
    source_dirs: &[&Path],
) {
    let mut dirs = source_dirs.to_vec();
    dirs.push(platform_dir());
    let registered = api_paths(&registered_paths(&dirs));
    let documented: BTreeSet<String> = document["paths"]
        .as_object()
        .expect("a document with paths")
        .keys()
        .cloned()
        .collect();
    let undocumented: Vec<&String> = registered.difference(&documented).collect();
    let unrouted: Vec<&String> = documented.difference(&registered).collect();
    assert!(
        undocumented.is_empty() && unrouted.is_empty(),
        "routes without documentation: {undocumented:?}; documented paths without a route: {unrouted:?}"
    );

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");
    for (path, item) in document["paths"].as_object().expect("paths") {
        // A placeholder reaches the handler, which says "no such thing".
        let concrete = fill_placeholders(path);
        for method in METHODS {
            let documented = item.get(method.to_ascii_lowercase()).is_some();
            let response = client
                .request(
                    method.parse().expect("a method"),
                    format!("{base_url}{concrete}"),
                )
                .send()
                .await
                .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
            let status = response.status().as_u16();
            // Read only what is needed: `/events` never ends.
            let problem_detail = if status == 404 {
                response.text().await.unwrap_or_default()
            } else {
                drop(response);
                String::new()
            };
            if documented {
                assert_ne!(status, 405, "{method} {path} is documented but not routed");
                assert!(
                    !(status == 404 && problem_detail.contains("there is no")),
                    "{method} {path} is documented but the router does not know it: {problem_detail}"
                );
            } else {
                assert_eq!(
                    status, 405,
                    "{method} {path} is routed (answered {status}) but not documented"
                );
            }
        }
    }
}

fn fill_placeholders(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .map_or(rest.len(), |e| start + e + 1);
        out.push_str("x0");
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(
            fill_placeholders("/api/orders/{id}/ack"),
            "/api/orders/x0/ack"
        );
        assert_eq!(fill_placeholders("/healthz"), "/healthz");
    }

    #[test]
    fn the_platform_registers_the_operational_routes() {
        let paths = api_paths(&registered_paths(&[platform_dir()]));
        for p in ["/healthz", "/metrics", "/events"] {
            assert!(paths.contains(p), "{paths:?}");
        }
    }
}
