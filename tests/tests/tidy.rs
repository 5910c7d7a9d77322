//! Tidy tests: the architecture's invariants, checked on the source tree itself.

use std::path::{Path, PathBuf};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

fn rust_files(directory: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(directory).expect("readable source directory") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            found.push(path);
        }
    }
}

fn sources_of(crate_directory: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    rust_files(&workspace_root().join(crate_directory).join("src"), &mut found);
    found
}

fn dependencies_section(manifest: &str) -> String {
    let text = std::fs::read_to_string(workspace_root().join(manifest)).expect("manifest");
    let start = text.find("[dependencies]").expect("a [dependencies] section");
    let rest = &text[start + "[dependencies]".len()..];
    rest[..rest.find("\n[").unwrap_or(rest.len())].to_owned()
}

#[test]
fn the_ledger_does_no_network_io_and_runs_no_async_runtime() {
    let dependencies = dependencies_section("ledger/Cargo.toml");
    for forbidden in ["tokio", "libp2p", "axum", "ureq", "reqwest", "hyper", "futures"] {
        assert!(
            !dependencies.lines().any(|line| line.trim_start().starts_with(forbidden)),
            "ledger/Cargo.toml must not depend on {forbidden}"
        );
    }
}

#[test]
fn node_and_client_never_depend_on_each_other() {
    assert!(!dependencies_section("node/Cargo.toml").contains("lotline-client"));
    assert!(!dependencies_section("client/Cargo.toml").contains("lotline-node"));
}

#[test]
fn each_pinned_dependency_is_named_by_exactly_one_file() {
    let homes = [
        ("bincode", "codec.rs"),
        ("sled", "store.rs"),
        ("ed25519_dalek", "identity.rs"),
        ("curve25519_dalek", "identity.rs"),
    ];
    let mut sources = Vec::new();
    for crate_directory in ["ledger", "node", "client", "tests"] {
        sources.extend(sources_of(crate_directory));
    }
    for (dependency, home) in homes {
        let naming: Vec<String> = sources
            .iter()
            .filter(|path| {
                let text = std::fs::read_to_string(path).unwrap_or_default();
                text.lines().any(|line| {
                    let code = line.split("//").next().unwrap_or_default();
                    code.contains(&format!("{dependency}::"))
                        || code.contains(&format!("use {dependency}"))
                })
            })
            .map(|path| path.display().to_string())
            .collect();
        assert!(
            naming.iter().all(|path| path.ends_with(home)),
            "{dependency} may only be named in {home}, found in {naming:?}"
        );
    }
}

#[test]
fn every_source_file_opens_with_a_module_comment() {
    for crate_directory in ["ledger", "node", "client", "tests"] {
        for path in sources_of(crate_directory) {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                text.trim_start().starts_with("//!"),
                "{} must open with a //! comment",
                path.display()
            );
        }
    }
}

#[test]
fn the_readme_test_command_is_what_ci_runs() {
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).expect("README.md");
    let ci = std::fs::read_to_string(workspace_root().join(".ci/run")).expect(".ci/run");
    let command = "cargo test --workspace --locked";
    assert!(readme.contains(command), "README.md must give the test command");
    assert!(
        ci.lines().any(|line| line.trim() == command),
        ".ci/run must run the README's test command"
    );
}

/// What the node's ledger side (`node/src/state/`) must not name: it takes typed requests and
/// returns typed replies and errors, and only `node/src/http/` turns them into HTTP and JSON.
/// Each found item is (what is named, the line it is named on).
fn http_names_in(source: &str) -> Vec<(&'static str, String)> {
    let code: Vec<&str> =
        source.lines().map(|line| line.split("//").next().unwrap_or_default()).collect();
    let mut found = Vec::new();
    for line in &code {
        for (needle, what) in [
            ("crate::http", "crate::http"),
            ("ApiError", "crate::http"),
            ("axum", "axum"),
            ("serde_json::Value", "serde_json::Value"),
            ("json!", "serde_json::json!"),
        ] {
            if line.contains(needle) {
                found.push((what, line.trim().to_owned()));
            }
        }
    }
    // `use serde_json::{Value, ...}` and `use crate::{http, ...}`, on one line or several.
    let joined = code.join(" ");
    for (group, member, what) in
        [("serde_json::{", "Value", "serde_json::Value"), ("crate::{", "http", "crate::http")]
    {
        let mut rest = joined.as_str();
        while let Some(start) = rest.find(group) {
            let inside = &rest[start + group.len()..];
            let items = &inside[..inside.find('}').unwrap_or(inside.len())];
            if items.split(|c: char| !c.is_alphanumeric() && c != '_').any(|item| item == member) {
                found.push((what, format!("{group}{items}}}")));
            }
            rest = inside;
        }
    }
    found
}

#[test]
fn the_http_check_finds_every_way_of_naming_http_in_the_ledger_side() {
    for source in [
        "use crate::http::ApiError;",
        "fn parse(value: &str) -> Result<u64, ApiError> {",
        "use axum::Json;",
        "use serde_json::{Value, json};",
        "use serde_json::{\n    Map,\n    Value,\n};",
        "pub fn health(&self) -> serde_json::Value {",
        "    let body = json!({\"status\": \"ok\"});",
        "use crate::{config, http};",
    ] {
        assert!(!http_names_in(source).is_empty(), "not caught: {source}");
    }
    for source in [
        "//! `crate::http` maps each error to a problem.",
        "let bytes = serde_json::to_vec(&proof)?;",
        "use crate::{config::Config, network};",
        "let values = record.values(); // not a serde_json::Value",
    ] {
        assert!(http_names_in(source).is_empty(), "wrongly caught: {source}");
    }
}

#[test]
fn the_node_ledger_side_names_no_http_type() {
    let mut sources = Vec::new();
    rust_files(&workspace_root().join("node/src/state"), &mut sources);
    assert!(!sources.is_empty(), "node/src/state holds the ledger side");
    let mut offences = Vec::new();
    for path in sources {
        let text = std::fs::read_to_string(&path).expect("readable source file");
        for (what, line) in http_names_in(&text) {
            offences.push(format!("{} names {what}: {line}", path.display()));
        }
    }
    assert!(
        offences.is_empty(),
        "node/src/state takes typed requests and returns typed replies and state::Error; only \
         node/src/http turns them into HTTP (move the parsing or mapping there):\n{}",
        offences.join("\n")
    );
}
