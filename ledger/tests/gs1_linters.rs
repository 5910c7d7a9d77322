//! GS1 syntax linters and the syntax dictionary against the Syntax Engine linter vectors
//! (`gs1-syntax-engine-test-vectors.json` → `linters`), read in place.
//!
//! Owns the mapping from `lint_<name>` to `gs1::linter::Linter`; linters without an
//! implementation (they need a GS1 company prefix data source) are collected and printed.

use lotline_ledger::gs1::linter::{LintFailure, Linter};
use lotline_ledger::gs1::{self, check_digit};
use serde_json::Value;

const ENGINE_VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/testdata/digitallink/gs1-syntax-engine-test-vectors.json"
);
const DICTIONARY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/testdata/digitallink/gs1-syntax-dictionary.txt"
);

/// Longest component the dictionary applies `linter` to; vectors beyond it exercise engine
/// internals (buffer limits) rather than the linter's definition.
fn longest_component_with(linter: &Linter) -> usize {
    gs1::dictionary()
        .entries()
        .flat_map(|entry| &entry.components)
        .filter(|component| component.linters.contains(linter))
        .map(|component| component.max_length)
        .max()
        .unwrap_or(0)
}

#[test]
fn linter_vectors() {
    let text = std::fs::read_to_string(ENGINE_VECTORS).expect("engine vectors");
    let vectors: Value = serde_json::from_str(&text).expect("json");
    let mut failures = Vec::new();
    let mut unsupported = Vec::new();
    let mut checked = 0;
    for (test_name, cases) in vectors["linters"].as_object().expect("linters") {
        let linter = Linter::from_name(test_name.trim_start_matches("lint_"));
        if !linter.is_supported() {
            unsupported.push(test_name.clone());
            continue;
        }
        let length_limit = longest_component_with(&linter);
        for case in cases.as_array().expect("cases") {
            let input = case["input"].as_str().unwrap_or_default();
            if input.len() > length_limit {
                continue;
            }
            let must_pass = case["expect"].as_str() == Some("PASS");
            let outcome = linter.check(input);
            checked += 1;
            if outcome.is_ok() != must_pass {
                failures.push(format!(
                    "{test_name}({input:?}): {outcome:?}, expected {}",
                    case["expect"]
                ));
            }
            if case["error"].as_str() == Some("GS1_LINTER_INCORRECT_CHECK_DIGIT") {
                assert!(matches!(outcome, Err(LintFailure::CheckDigit { .. })), "{input}");
            }
        }
    }
    println!("checked {checked} linter vectors; unsupported linters: {unsupported:?}");
    assert!(checked > 150);
    assert_eq!(unsupported, ["lint_gcppos2"], "only the gcp data source linter may be missing");
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn dictionary_parses_at_runtime_like_the_built_in_copy() {
    let text = std::fs::read_to_string(DICTIONARY).expect("dictionary");
    let runtime = gs1::parse_dictionary(&text).expect("dictionary parses");
    assert_eq!(&runtime, gs1::dictionary());
    let primary_keys: Vec<&str> = runtime
        .entries()
        .filter(|entry| entry.is_dl_primary_key())
        .map(|entry| entry.ai.as_str())
        .collect();
    for key_type in gs1::KeyType::ALL {
        assert!(primary_keys.contains(&key_type.ai()), "{key_type:?} is a dlpkey");
    }
    println!("unsupported linters: {:?}", runtime.unsupported_linters());
}

#[test]
fn malformed_dictionary_lines_are_reported_with_their_line_number() {
    let error = gs1::parse_dictionary("01 *? N14,csum\n99x  X..9\n").unwrap_err();
    assert_eq!(error.to_string(), "gs1 syntax dictionary line 2: bad ai \"99x\"");
}

#[test]
fn typed_keys_normalise_and_check() {
    assert_eq!(gs1::Gtin::parse("02345673").expect("gtin-8").as_str(), "00000002345673");
    assert_eq!(gs1::Gtin::parse("416000336108").expect("gtin-12").as_str(), "00416000336108");
    assert_eq!(
        gs1::Gtin::parse("1234567890129").unwrap_err().to_string(),
        "AI (01): check digit is wrong, expected 8"
    );
    assert!(gs1::Sscc::parse("123456789012345675").is_ok());
    assert!(gs1::Gln::parse("4012345000054").is_ok());
    assert!(gs1::PrimaryKey::parse(gs1::KeyType::Grai, "0401234500077118765").is_ok());
    assert_eq!(
        gs1::PrimaryKey::parse(gs1::KeyType::Grai, "0401234500077018765").unwrap_err().to_string(),
        "AI (8003): check digit is wrong, expected 1"
    );
    assert_eq!(check_digit::mod10_check_digit("401234500011"), Some('5'));
}

#[test]
fn a_dictionary_loaded_at_runtime_drives_digital_link_parsing() {
    let text = std::fs::read_to_string(DICTIONARY).expect("dictionary");
    // A hypothetical newer release that adds AI 7999 as a DL data attribute.
    let newer_text =
        format!("{text}\n7999        ?  X..5                              req=01  # NEW\n");
    let newer = gs1::parse_dictionary(&newer_text).expect("newer dictionary parses");
    let uri = "https://example.com/01/09506000134352?7999=ABC";
    let options = gs1::Options::default();
    assert_eq!(
        gs1::digital_link::parse_in(uri, &options, gs1::dictionary()).unwrap_err().to_string(),
        "AI (7999) is not in the gs1 syntax dictionary"
    );
    let link =
        gs1::digital_link::parse_in(uri, &options, &newer).expect("known in the newer release");
    assert_eq!(link.attributes[0].value, "ABC");
    assert!(
        gs1::digital_link::parse_in(
            "https://example.com/01/09506000134352?7999=ABCDEF",
            &options,
            &newer
        )
        .is_err()
    );
}
