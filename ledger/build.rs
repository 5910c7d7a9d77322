//! Build script of `lotline-ledger`: stages the GS1 Barcode Syntax Dictionary for `gs1::dictionary`.
//!
//! Owns locating the dictionary file (env var `LOTLINE_GS1_SYNTAX_DICTIONARY`, else the copy in
//! the shared test data next to the workspace), telling cargo when to re-run, and copying the
//! file into `OUT_DIR` so the library can `include_str!` it. It deliberately does not parse the
//! file: parsing lives in the library (`gs1::dictionary::parse_dictionary`) so that a newer
//! dictionary can also be loaded at run time with exactly the same code.

use std::env;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Environment variable that points at a different dictionary file (e.g. a newer GS1 release).
const DICTIONARY_ENV_VAR: &str = "LOTLINE_GS1_SYNTAX_DICTIONARY";
/// Default location relative to this crate's manifest directory.
const DEFAULT_RELATIVE_PATH: &str = "../../shared/testdata/digitallink/gs1-syntax-dictionary.txt";
/// File name inside `OUT_DIR` that `gs1::dictionary` includes.
const STAGED_FILE_NAME: &str = "gs1-syntax-dictionary.txt";

fn main() -> ExitCode {
    println!("cargo:rerun-if-env-changed={DICTIONARY_ENV_VAR}");
    println!("cargo:rerun-if-changed=build.rs");

    let dictionary_path = match env::var_os(DICTIONARY_ENV_VAR) {
        Some(overridden_path) => PathBuf::from(overridden_path),
        None => {
            let manifest_dir = env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default();
            Path::new(&manifest_dir).join(DEFAULT_RELATIVE_PATH)
        }
    };
    println!("cargo:rerun-if-changed={}", dictionary_path.display());

    let dictionary_text = match std::fs::read_to_string(&dictionary_path) {
        Ok(text) => text,
        Err(read_error) => {
            eprintln!(
                "error: cannot read the GS1 Barcode Syntax Dictionary at {}: {read_error}\n\
                 hint: set {DICTIONARY_ENV_VAR} to the path of gs1-syntax-dictionary.txt \
                 (https://github.com/gs1/gs1-syntax-dictionary)",
                dictionary_path.display()
            );
            return ExitCode::FAILURE;
        }
    };

    let Some(out_dir) = env::var_os("OUT_DIR") else {
        eprintln!("error: cargo did not set OUT_DIR for the build script");
        return ExitCode::FAILURE;
    };
    let staged_path = Path::new(&out_dir).join(STAGED_FILE_NAME);
    if let Err(write_error) = std::fs::write(&staged_path, dictionary_text) {
        eprintln!("error: cannot write {}: {write_error}", staged_path.display());
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
