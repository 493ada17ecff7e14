//! The README's tour of the code is a map, and a map that drifts from the
//! territory is worse than none: a learner following a dead link or a
//! reading order the code contradicts loses the thread. These tests keep it
//! true without a person re-reading it after every move: every relative
//! link in the documents resolves (from the folder of the document it is
//! in, as a reader's browser resolves it), every page under `docs/` is one
//! of the documents checked, the tour visits each crate's modules in
//! the order that crate's `lib.rs` gives, and comments explain themselves
//! instead of pointing at a tracker that is not in the repository.
//!
//! Plain string scanning, no Markdown parser: the documents are ours and
//! use one link form, `[text](target)`.

use std::path::{Path, PathBuf};

use crate::compose::repo_file;

/// The documents whose links a reader follows, as paths from the root of
/// the repository. The compose tests read their recipes from these too.
pub(crate) const DOCUMENTS: &[&str] = &[
    "README.md",
    "SECURITY.md",
    "BENCHMARKS.md",
    "docs/operations.md",
    "docs/benchmarks.md",
    "docs/ci.md",
];

/// The crates whose `lib.rs` gives a reading order the tour must follow.
const READ_IN_ORDER: [&str; 4] = ["contract", "store", "inventory", "platform"];

/// Every `[text](target)` link target in `markdown`, in order.
fn link_targets(markdown: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut rest = markdown;
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        if let Some(end) = rest.find(')') {
            targets.push(rest[..end].to_string());
            rest = &rest[end..];
        }
    }
    targets
}

/// A link that points into the repository rather than at a web page or an
/// anchor of the same page; the anchor part of a relative link is dropped.
fn relative_path(target: &str) -> Option<&str> {
    let is_elsewhere = target.contains("://")
        || target.starts_with('#')
        || target.starts_with("mailto:")
        || target.starts_with('/');
    if is_elsewhere {
        return None;
    }
    Some(target.split('#').next().unwrap_or(target))
}

/// Where a relative link in `document` leads: from the document's own
/// folder, so `../README.md` in `docs/ci.md` is the README at the root and
/// `SECURITY.md` there would be a `docs/SECURITY.md` that does not exist.
fn resolve(document: &str, path: &str) -> PathBuf {
    let folder = Path::new(document).parent().unwrap_or(Path::new(""));
    repo_file(&folder.join(path).to_string_lossy())
}

#[test]
fn every_relative_link_in_the_documents_resolves_to_a_file() {
    let mut dead = Vec::new();
    for document in DOCUMENTS {
        let text = std::fs::read_to_string(repo_file(document)).expect("document readable");
        for target in link_targets(&text) {
            let Some(path) = relative_path(&target) else {
                continue;
            };
            if path.is_empty() || !resolve(document, path).exists() {
                dead.push(format!("{document}: {target}"));
            }
        }
    }
    assert!(dead.is_empty(), "links that lead nowhere: {dead:#?}");
}

#[test]
fn a_link_resolves_from_the_folder_of_its_document() {
    assert!(resolve("README.md", "SECURITY.md").is_file());
    assert!(resolve("docs/ci.md", "../SECURITY.md").is_file());
    assert!(resolve("docs/ci.md", "ci.md").is_file());
    // The same text, read from the other folder, leads nowhere.
    assert!(!resolve("docs/ci.md", "SECURITY.md").exists());
    assert!(!resolve("README.md", "../SECURITY.md").is_file());
}

#[test]
fn every_page_under_docs_is_a_checked_document() {
    let mut pages: Vec<String> = std::fs::read_dir(repo_file("docs"))
        .expect("docs/ readable")
        .map(|entry| entry.expect("entry readable").file_name())
        .map(|name| format!("docs/{}", name.to_string_lossy()))
        .filter(|name| name.ends_with(".md"))
        .collect();
    pages.sort();
    assert!(!pages.is_empty(), "docs/ holds pages");
    let unchecked: Vec<&String> = pages
        .iter()
        .filter(|page| !DOCUMENTS.contains(&page.as_str()))
        .collect();
    assert!(
        unchecked.is_empty(),
        "pages whose links nobody checks (add them to DOCUMENTS): {unchecked:?}"
    );
}

/// The module a linked source file is, as a path under `src/`
/// (`integration/webhook/mod.rs` → `integration/webhook`).
fn module_of_link(crate_name: &str, target: &str) -> Option<String> {
    let prefix = format!("crates/{crate_name}/src/");
    let file = target.strip_prefix(&prefix)?;
    let module = file.strip_suffix(".rs")?;
    let module = module.strip_suffix("/mod").unwrap_or(module);
    (module != "lib").then(|| module.to_string())
}

/// The modules a `lib.rs` names in its crate doc, in the order it names
/// them: intra-doc links written ``[`a::b`]`` or `[text](a::b)`.
fn reading_order(crate_name: &str) -> Vec<String> {
    let lib = repo_file(&format!("crates/{crate_name}/src/lib.rs"));
    let text = std::fs::read_to_string(lib).expect("lib.rs readable");
    let doc: String = text
        .lines()
        .filter_map(|line| line.strip_prefix("//!"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut order: Vec<String> = Vec::new();
    let mut rest = doc.as_str();
    while let Some(at) = rest.find('[') {
        rest = &rest[at + 1..];
        let Some(end) = rest.find(']') else { break };
        let inside = &rest[..end];
        let after = &rest[end + 1..];
        // `[text](path)` names `path`; ``[`path`]`` names `path`.
        let named = match after.strip_prefix('(') {
            Some(link) => link.split(')').next().unwrap_or_default(),
            None => inside.trim_matches('`'),
        };
        let module = named.replace("::", "/");
        let is_module_path = !module.is_empty()
            && module
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_' || c == '/' || c.is_ascii_digit());
        if is_module_path && module_exists(crate_name, &module) && !order.contains(&module) {
            order.push(module);
        }
        rest = &rest[end..];
    }
    order
}

fn module_exists(crate_name: &str, module: &str) -> bool {
    let src: PathBuf = repo_file(&format!("crates/{crate_name}/src"));
    src.join(format!("{module}.rs")).exists() || src.join(module).join("mod.rs").exists()
}

/// Where `module` (or the nearest module above it) stands in `order`.
fn position(order: &[String], module: &str) -> Option<usize> {
    let mut module = module;
    loop {
        if let Some(at) = order.iter().position(|named| named == module) {
            return Some(at);
        }
        module = &module[..module.rfind('/')?];
    }
}

fn tour_section() -> String {
    let readme = std::fs::read_to_string(repo_file("README.md")).expect("README readable");
    let start = readme
        .find("## A tour of the code")
        .expect("the README has a tour");
    let end = readme[start..]
        .find("\n## ")
        .map_or(readme.len(), |at| start + at);
    readme[start..end].to_string()
}

#[test]
fn the_readme_tour_follows_each_crates_reading_order() {
    let tour = tour_section();
    let links = link_targets(&tour);
    for crate_name in READ_IN_ORDER {
        let order = reading_order(crate_name);
        assert!(
            order.len() >= 5,
            "{crate_name}'s lib.rs names too few modules to be a reading order: {order:?}"
        );
        let mut visited: Vec<(String, usize)> = Vec::new();
        for target in &links {
            let Some(module) = module_of_link(crate_name, target) else {
                continue;
            };
            let Some(at) = position(&order, &module) else {
                panic!(
                    "the tour visits {crate_name}'s `{module}`, which its lib.rs reading order \
                     does not name: {order:?}"
                );
            };
            if let Some((before, before_at)) = visited.last() {
                assert!(
                    at >= *before_at,
                    "the tour reads {crate_name}'s `{module}` after `{before}`, lib.rs the other \
                     way round: {order:?}"
                );
            }
            visited.push((module, at));
        }
        assert!(!visited.is_empty(), "the tour never visits {crate_name}");
    }
}

/// What a comment says when it cites a tracker instead of a reason.
fn cites_a_tracker(comment: &str) -> bool {
    let lower = comment.to_ascii_lowercase();
    let followed_by_number = |marker: &str| {
        lower.match_indices(marker).any(|(at, _)| {
            let after = lower[at + marker.len()..].trim_start_matches('#');
            after.starts_with(|c: char| c.is_ascii_digit())
        })
    };
    followed_by_number("issue ")
        || followed_by_number("finding ")
        || lower.match_indices("f-").any(|(at, _)| {
            let before_ok = at == 0
                || !lower[..at]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_ascii_alphanumeric());
            before_ok
                    && lower[at + 2..].starts_with(|c: char| c.is_ascii_digit())
                    // UTF-8 and the like are names, not findings.
                    && !lower[..at].ends_with("utf")
        })
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("directory readable") {
        let path = entry.expect("entry readable").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

/// The comment on a line: from a `//` that is not inside a string literal.
fn comment_of(line: &str) -> Option<&str> {
    line.match_indices("//")
        .find(|(at, _)| line[..*at].matches('"').count().is_multiple_of(2))
        .map(|(at, _)| &line[at..])
}

#[test]
fn comments_give_reasons_not_tracker_numbers() {
    let mut files = Vec::new();
    rust_files(&repo_file("crates"), &mut files);
    assert!(
        files.len() > 50,
        "found the sources ({} files)",
        files.len()
    );
    let mut citing = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("source readable");
        for (number, line) in text.lines().enumerate() {
            let Some(comment) = comment_of(line) else {
                continue;
            };
            if cites_a_tracker(comment) {
                citing.push(format!(
                    "{}:{}: {}",
                    file.display(),
                    number + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        citing.is_empty(),
        "comments that cite a tracker: {citing:#?}"
    );
}

#[test]
fn the_tracker_check_recognises_what_it_refuses() {
    assert!(cites_a_tracker("// fixes issue #12"));
    assert!(cites_a_tracker("// see Finding 3"));
    assert!(cites_a_tracker("// (F-4) noisy neighbours"));
    assert!(!cites_a_tracker("// bytes are UTF-8, an issue of encoding"));
    assert!(!cites_a_tracker(
        "// Regression: a confirmed order was voided"
    ));
}

#[test]
fn a_link_names_the_module_it_points_at() {
    assert_eq!(
        module_of_link("store", "crates/store/src/integration/webhook/mod.rs").as_deref(),
        Some("integration/webhook")
    );
    assert_eq!(
        module_of_link("store", "crates/store/src/checkout.rs").as_deref(),
        Some("checkout")
    );
    assert_eq!(module_of_link("store", "crates/store/src/lib.rs"), None);
    assert_eq!(
        module_of_link("inventory", "crates/store/src/checkout.rs"),
        None
    );
}
