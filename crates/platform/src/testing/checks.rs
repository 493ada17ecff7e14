//! Checks both services run on themselves, written once: that a
//! management call is the operator's alone ([`assert_operator_only`]),
//! that every enumerated column of a schema holds exactly its enum's words
//! ([`checked_words`]), that a page's "How this works in the code"
//! names files that exist ([`assert_sources_exist`]), and how a `/reference`
//! page is read ([`operation_cards`], [`assert_no_raw_markup`]).

/// A management call, as a test sends it to check who may make it.
#[derive(Debug, Clone)]
pub struct ManagementCall {
    pub method: reqwest::Method,
    pub path: String,
    pub body: Option<serde_json::Value>,
}

impl ManagementCall {
    pub fn new(method: reqwest::Method, path: impl Into<String>) -> ManagementCall {
        ManagementCall {
            method,
            path: path.into(),
            body: None,
        }
    }

    pub fn with(mut self, body: serde_json::Value) -> ManagementCall {
        self.body = Some(body);
        self
    }
}

/// Checks that `call` on the service at `base` is the operator's: a `401`
/// problem without a token and with each of `others`, a `401` — not a
/// `400` — for a broken body before it is read, and success with `token`.
pub async fn assert_operator_only(
    client: &reqwest::Client,
    base: &str,
    call: &ManagementCall,
    token: &str,
    others: &[&str],
) {
    let ManagementCall { method, path, body } = call;
    let send = |auth: Option<&str>, broken: bool| {
        let mut r = client.request(method.clone(), format!("{base}{path}"));
        if broken {
            r = r.header("content-type", "application/json").body("{broken");
        } else if let Some(body) = body {
            r = r.json(body);
        }
        if let Some(token) = auth {
            r = r.bearer_auth(token);
        }
        r.send()
    };
    let r = send(None, false).await.unwrap();
    assert_eq!(r.status(), 401, "{method} {path} without the token");
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    for other in others {
        let r = send(Some(other), false).await.unwrap();
        assert_eq!(r.status(), 401, "{method} {path} with {other:?}");
    }
    if body.is_some() {
        let r = send(None, true).await.unwrap();
        assert_eq!(
            r.status(),
            401,
            "{method} {path}: 401 before the body is read"
        );
    }
    let ok = send(Some(token), false).await.unwrap();
    assert!(
        ok.status().is_success(),
        "{method} {path} with the token: {}",
        ok.status()
    );
}

/// Every `CHECK (column IN ('word', …))` of a service's schema — all the
/// migrations in `dir`, in order, `ALTER TABLE … ADD COLUMN` included — as
/// `table.column` → words, for a test that holds each enumerated column to
/// its enum's words.
pub fn checked_words(dir: &std::path::Path) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    let schema: String = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect::<Vec<_>>()
        .concat()
        // A column added later reads as the table's own columns do.
        .replace("ALTER TABLE ", "CREATE TABLE ");
    let mut found = std::collections::BTreeMap::new();
    for table in schema.split("CREATE TABLE ").skip(1) {
        let name = table.split_whitespace().next().unwrap_or_default();
        for check in table.split("CHECK (").skip(1) {
            let Some((column, rest)) = check.split_once(" IN (") else {
                continue;
            };
            let list = rest.split("))").next().unwrap_or_default();
            let words: Vec<String> = list
                .split(',')
                .filter_map(|w| w.trim().strip_prefix('\'')?.strip_suffix('\''))
                .map(str::to_owned)
                .collect();
            if !words.is_empty() {
                found.insert(format!("{name}.{column}"), words);
            }
        }
    }
    found
}

/// Checks that a page names the files behind it (its "How this works in
/// the code" line) and that each one exists in this repository — so a
/// file moved or renamed fails here, not in front of a reader. Returns
/// the paths, for a test that wants one in particular.
pub fn assert_sources_exist(what: &str, page: &super::Page) -> Vec<String> {
    let paths = page.source_paths();
    assert!(!paths.is_empty(), "{what} names no source file");
    // This crate is `crates/platform`; the paths are from the root.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for path in &paths {
        assert!(
            !path.starts_with('/') && !path.contains(".."),
            "{what}: {path:?} is not a path from the repository's root"
        );
        assert!(
            root.join(path).is_file(),
            "{what} names {path}, which is not a file of the repository"
        );
    }
    paths
}

/// The operation cards of a `/reference` page (`<section class="card
/// reference-op" …>` … `</section>`).
pub fn operation_cards(body: &str) -> Vec<&str> {
    body.split("<section class=\"card reference-op\"")
        .skip(1)
        .map(|rest| rest.split_once("</section>").map_or(rest, |(card, _)| card))
        .collect()
}

/// A `/reference` page's rustdoc is read, not shown: no intra-doc link's
/// brackets around code, no `**`, no `](crate::…)` target, anywhere.
pub fn assert_no_raw_markup(body: &str) {
    for raw in [
        "[<code>",
        "</code>]",
        "[`",
        "`]",
        "**",
        "](crate::",
        "](Self::",
    ] {
        assert!(
            !body.contains(raw),
            "raw markup {raw:?} in the page:\n{body}"
        );
    }
}
