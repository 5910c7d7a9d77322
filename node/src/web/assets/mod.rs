//! The consumer page's inline style sheet and verification script, compiled into the node, and
//! the Content-Security-Policy that admits exactly them.
//!
//! Owns: the asset texts (`page.css`, `verify.js` beside this file, kept as plain files with no
//! build step) and their SHA-256 hashes for the policy. Does not own the page (`super::page`),
//! nor the rules the script checks (`lotline_ledger::proof`, `docs/wire-format.md`: the script
//! follows them byte for byte).

use std::sync::LazyLock;

use base64::Engine as _;
use sha2::{Digest, Sha256};

/// The page's style sheet, inlined in a `<style>` element.
pub const STYLE: &str = include_str!("page.css");
/// The script that verifies the page's evidence in the browser, inlined in a `<script>`.
pub const SCRIPT: &str = include_str!("verify.js");

/// The Content-Security-Policy of the consumer page: nothing but the inline style and script
/// (by hash, so an injected element could run nothing), fetches to the node itself, no frames,
/// no forms elsewhere, no base URL changes.
pub static PAGE_POLICY: LazyLock<String> = LazyLock::new(|| {
    format!(
        "default-src 'none'; script-src '{}'; style-src '{}'; connect-src 'self'; img-src 'self' data:; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        source_hash(SCRIPT),
        source_hash(STYLE)
    )
});

/// The CSP source expression `sha256-<base64>` of an inline text.
fn source_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!("sha256-{}", base64::engine::general_purpose::STANDARD.encode(digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_names_the_hash_of_each_inline_asset_and_nothing_else_runs() {
        assert!(PAGE_POLICY.starts_with("default-src 'none'; script-src 'sha256-"));
        assert!(PAGE_POLICY.contains(&source_hash(STYLE)));
        assert!(!PAGE_POLICY.contains("unsafe"));
    }
}
