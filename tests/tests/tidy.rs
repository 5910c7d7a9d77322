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
