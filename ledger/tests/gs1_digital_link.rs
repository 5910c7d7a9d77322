//! GS1 Digital Link against the GS1 Syntax Engine vectors, read in place from
//! `shared/testdata/digitallink/`: DL parse (`dl-parse-vectors.gs1-syntax-engine.json`),
//! DL generation, URI escape/unescape and bracketed AI data → element string
//! (`gs1-syntax-engine-test-vectors.json`).
//!
//! Owns only the mapping from vector fields to the `gs1` API; it does not restate any expected
//! value. Vectors whose engine flags have no `gs1::Options` equivalent are collected, printed
//! and must stay a known, short list.

use lotline_ledger::gs1::{self, Options, digital_link};
use serde_json::Value;

const PARSE_VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/testdata/digitallink/dl-parse-vectors.gs1-syntax-engine.json"
);
const ENGINE_VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/testdata/digitallink/gs1-syntax-engine-test-vectors.json"
);

fn load(path: &str) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|error| panic!("read {path}: {error}"));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("parse {path}: {error}"))
}

/// Maps the engine's flag names to options; `Err(name)` for a flag we do not implement.
fn options_from_flags(flags: &Value) -> Result<Options, String> {
    let mut options = Options::default();
    let Some(flags) = flags.as_object() else { return Ok(options) };
    for (name, value) in flags {
        let enabled = value.as_str() == Some("true");
        match name.as_str() {
            "permitConvenienceAlphas" => options.permit_convenience_alphas = enabled,
            "setPermitZeroSuppressedGTINinDLuris" => options.permit_zero_suppressed_gtin = enabled,
            "setPermitUnknownAIs" => options.permit_unknown_ais = enabled,
            "setValidationEnabled(gs1_encoder_vUNKNOWN_AI_NOT_DL_ATTR)" => {
                options.unknown_ai_as_dl_attribute = !enabled
            }
            other => return Err(other.to_owned()),
        }
    }
    Ok(options)
}

#[test]
fn dl_parse_vectors() {
    let vectors = load(PARSE_VECTORS);
    let vectors = vectors.as_array().expect("array of vectors");
    let mut failures = Vec::new();
    let mut skipped = Vec::new();
    let mut strict_count = 0;
    for vector in vectors {
        let uri = vector["uri"].as_str().unwrap_or_default();
        let should_succeed = vector["should_succeed"].as_bool().unwrap_or(false);
        let options = match options_from_flags(&vector["flags"]) {
            Ok(options) => options,
            Err(flag) => {
                skipped.push(format!("{uri} (flag {flag})"));
                continue;
            }
        };
        if options == Options::default() {
            strict_count += 1;
        }
        match (digital_link::parse_with(uri, &options), should_succeed) {
            (Ok(link), true) => {
                let expected = vector["expected_ai_element_string"].as_str().unwrap_or_default();
                if link.element_string() != expected {
                    failures
                        .push(format!("{uri}: got {} expected {expected}", link.element_string()));
                }
            }
            (Ok(link), false) => {
                failures.push(format!("{uri}: accepted ({}) but must fail", link.element_string()))
            }
            (Err(error), true) => failures.push(format!("{uri}: rejected ({error}) but must pass")),
            (Err(_), false) => {}
        }
    }
    println!("strict vectors: {strict_count}, skipped: {skipped:#?}");
    assert!(strict_count > 90, "the strict vectors must be exercised");
    assert!(skipped.is_empty(), "unsupported flags: {skipped:#?}");
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn generate_dl_uri_vectors() {
    let vectors = load(ENGINE_VECTORS);
    let mut failures = Vec::new();
    let mut skipped = Vec::new();
    for vector in vectors["generateDLuri"].as_array().expect("generateDLuri") {
        let bracketed = vector["ai_data_bracketed"].as_str().unwrap_or_default();
        let stem = vector["stem"].as_str();
        let should_succeed = vector["should_succeed"].as_bool().unwrap_or(false);
        let flags = vector["flags"].as_object().cloned().unwrap_or_default();
        // `setDataStr` is a precondition of the engine's unit test (it loads other data first,
        // then the AI data replaces it); it does not change generation.
        let option_flags: serde_json::Map<String, Value> =
            flags.into_iter().filter(|(name, _)| name != "setDataStr").collect();
        let options = match options_from_flags(&Value::Object(option_flags)) {
            Ok(options) => options,
            Err(flag) => {
                skipped.push(format!("{bracketed} (flag {flag})"));
                continue;
            }
        };
        let generated = gs1::parse_bracketed(bracketed, &options)
            .and_then(|ai_data| digital_link::generate_with(&ai_data, stem, &options));
        match (generated, should_succeed) {
            (Ok(uri), true) => {
                let expected = vector["expected_uri"].as_str().unwrap_or_default();
                if uri != expected {
                    failures.push(format!("{bracketed}: got {uri} expected {expected}"));
                }
            }
            (Ok(uri), false) => {
                failures.push(format!("{bracketed}: generated {uri} but must fail"))
            }
            (Err(error), true) => failures.push(format!("{bracketed}: {error}")),
            (Err(_), false) => {}
        }
    }
    assert!(skipped.is_empty(), "unsupported flags: {skipped:#?}");
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

/// The expected outputs are C strings copied into JSON; where they hold bytes outside printable
/// ASCII the copy is lossy (e.g. "A%01B" → "A" as a path but "\u{1}" as a query), so those
/// vectors are not compared. `unescape_*` returns the exact bytes (`A`, 0x01, `B`).
fn is_printable_ascii(text: &str) -> bool {
    text.bytes().all(|byte| (0x20..0x7f).contains(&byte))
}

#[test]
fn uri_unescape_vectors() {
    let vectors = load(ENGINE_VECTORS);
    let mut compared = 0;
    for vector in vectors["URIunescape"].as_array().expect("URIunescape") {
        let input = vector["input"].as_str().unwrap_or_default();
        let as_path = vector["as_path_component"].as_str().unwrap_or_default();
        let as_query = vector["as_query_component"].as_str().unwrap_or_default();
        // One vector's two expectations come from the same C test line: if either is lossy,
        // neither is trustworthy.
        if !is_printable_ascii(as_path) || !is_printable_ascii(as_query) {
            continue;
        }
        compared += 1;
        assert_eq!(
            digital_link::unescape_path_component(input),
            as_path.as_bytes(),
            "path {input}"
        );
        assert_eq!(
            digital_link::unescape_query_component(input),
            as_query.as_bytes(),
            "query {input}"
        );
    }
    assert!(compared >= 15, "only {compared} unescape vectors compared");
}

#[test]
fn uri_escape_vectors() {
    let vectors = load(ENGINE_VECTORS);
    let escape_vectors = vectors["URIescape"].as_array().expect("URIescape");
    for vector in escape_vectors {
        let input = vector["input"].as_str().unwrap_or_default();
        assert_eq!(
            digital_link::escape_path_component(input),
            vector["as_path_component"].as_str().unwrap_or_default(),
            "path {input:?}"
        );
        assert_eq!(
            digital_link::escape_query_component(input),
            vector["as_query_component"].as_str().unwrap_or_default(),
            "query {input:?}"
        );
    }
    assert_eq!(escape_vectors.len(), 10);
}

#[test]
fn bracketed_ai_data_to_element_string_vectors() {
    let vectors = load(ENGINE_VECTORS);
    let mut failures = Vec::new();
    let bracketed_vectors =
        vectors["parseAIdata_bracketed_to_element_string"].as_array().expect("bracketed vectors");
    for vector in bracketed_vectors {
        let input = vector["input"].as_str().unwrap_or_default();
        let should_succeed = vector["should_succeed"].as_bool().unwrap_or(false);
        match (gs1::parse_bracketed(input, &Options::default()), should_succeed) {
            (Ok(ai_data), true) => {
                let expected = vector["expected"].as_str().unwrap_or_default();
                if ai_data.element_string() != expected {
                    failures.push(format!(
                        "{input}: got {} expected {expected}",
                        ai_data.element_string()
                    ));
                }
                // The expected element string, read as a scanner would, gives the same data.
                match gs1::parse_element_string(expected, &Options::default()) {
                    Ok(scanned) if scanned == ai_data => {}
                    other => failures.push(format!("{expected}: scanned as {other:?}")),
                }
            }
            (Ok(ai_data), false) => failures
                .push(format!("{input}: accepted ({}) but must fail", ai_data.element_string())),
            (Err(error), true) => failures.push(format!("{input}: {error}")),
            (Err(_), false) => {}
        }
    }
    assert_eq!(bracketed_vectors.len(), 27);
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn errors_name_the_ai_and_the_rule() {
    let wrong_check_digit =
        digital_link::parse("https://example.com/01/09506000134353").unwrap_err();
    assert_eq!(wrong_check_digit.to_string(), "AI (01): check digit is wrong, expected 2");
    let out_of_order =
        digital_link::parse("https://example.com/01/09506000134352/21/ABC/10/LOT").unwrap_err();
    assert_eq!(
        out_of_order.to_string(),
        "AI (10) is not allowed after (21): qualifiers must be in order 22, 10, 21 or 235"
    );
}

#[test]
fn parsed_link_exposes_stem_key_qualifiers_and_attributes() {
    let link = gs1::parse_digital_link(
        "https://brand.example.com/products/01/09506000134352/10/AB%2F12?17=271231&linkType=gs1:pip",
    )
    .expect("valid link");
    assert_eq!(link.stem, "https://brand.example.com/products");
    assert_eq!(link.primary_key.ai, "01");
    assert_eq!(link.qualifiers[0].value, "AB/12");
    assert_eq!(link.attributes.len(), 1);
    assert_eq!(link.element_string(), "^010950600013435210AB/12^17271231");
    assert_eq!(
        link.to_json().to_string(),
        r#"{"element_string":"^010950600013435210AB/12^17271231","ai":{"01":"09506000134352","10":"AB/12","17":"271231"}}"#
    );
    let regenerated = digital_link::generate(&link.ai_data(), None).expect("generate");
    assert_eq!(regenerated, "https://id.gs1.org/01/09506000134352/10/AB%2F12?17=271231");
}
