//! The EPCIS 2.0 XML binding against third-party material, read in place from
//! `shared/testdata`: every OpenEPCIS 2.0 XML document (valid ones parse, `Invalid/` ones are
//! rejected naming the problem), the Event Hash ID vectors for XML inputs, and round trips
//! XML → model → XML and JSON-LD → model → XML that must keep every event's hash id.
//!
//! Owns only the XML binding's tests; the JSON-LD binding, validation and hashing are tested
//! by their own suites (they are used here as the reference the XML side must agree with).
//! Nothing is skipped silently: every deviation of a "valid" third-party file is listed in
//! [`KNOWN_DEVIATIONS`] with its reason, and a listed file that stops deviating fails the test
//! so the list stays honest.

use std::fs;
use std::path::{Path, PathBuf};

use lotline_ledger::epcis::xml::{self, CbvXmlFormat, Conformance, ParseOptions, WriteOptions};
use lotline_ledger::epcis::{Document, Error, Event, event_hash_id, json};
use proptest::prelude::*;

mod epcis_support;

/// The shared third-party test data, next to the checkout.
const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/testdata");

/// Strict XSD shape, without the standard's binding-neutral rules (the XML binding alone).
const STRICT_SHAPE: ParseOptions =
    ParseOptions { conformance: Conformance::Strict, check_standard_rules: false };
/// Producer-tolerant shape plus the standard's rules.
const LENIENT: ParseOptions =
    ParseOptions { conformance: Conformance::Lenient, check_standard_rules: true };
/// Producer-tolerant shape, no rule checks: content only (hash vectors, archives).
const CONTENT_ONLY: ParseOptions =
    ParseOptions { conformance: Conformance::Lenient, check_standard_rules: false };

/// What a parse is expected to do: succeed, or fail with a message containing the text.
#[derive(Debug, Clone, Copy)]
enum Outcome {
    /// Parses.
    Parses,
    /// Rejected; the message contains this text.
    Rejected(&'static str),
}

/// A "valid" third-party document whose XML shape the strict binding does not accept as is.
struct ShapeDeviation {
    /// Path below `epcis-openepcis/2.0/EPCIS/XML/`.
    file: &'static str,
    /// Result of [`STRICT_SHAPE`].
    strict: Outcome,
    /// Result of [`CONTENT_ONLY`] (lenient shape).
    lenient: Outcome,
    /// Why the file deviates (for docs/standards.md; shown on failure).
    reason: &'static str,
}

/// Every shape deviation of the valid OpenEPCIS 2.0 XML documents; files not listed must
/// parse strictly.
const SHAPE_DEVIATIONS: &[ShapeDeviation] = &[
    ShapeDeviation {
        file: "Capture/Documents/JumbledFieldsOrder.xml",
        strict: Outcome::Rejected("field eventTimeZoneOffset: out of order"),
        lenient: Outcome::Parses,
        reason: "standard elements in random order; the EPCIS 2.0 XSD is a sequence",
    },
    ShapeDeviation {
        file: "Query/JumbledFieldsOrder.xml",
        strict: Outcome::Rejected("missing QueryResults.queryName"),
        lenient: Outcome::Parses,
        reason: "QueryResults without the required queryName, elements in random order",
    },
    ShapeDeviation {
        file: "Query/CurieString_document.xml",
        strict: Outcome::Rejected("missing QueryResults.queryName"),
        lenient: Outcome::Parses,
        reason: "QueryResults without the required queryName",
    },
    ShapeDeviation {
        file: "Query/SensorData_with_combined_events.xml",
        strict: Outcome::Rejected("missing QueryResults.queryName"),
        lenient: Outcome::Parses,
        reason: "QueryResults without the required queryName",
    },
    ShapeDeviation {
        file: "Query/TransactionEvent_with_userExtensions.xml",
        strict: Outcome::Rejected("missing QueryResults.queryName"),
        lenient: Outcome::Parses,
        reason: "QueryResults without the required queryName",
    },
    ShapeDeviation {
        file: "Query/ObjectEventWithAllPossibleFields.xml",
        strict: Outcome::Rejected("missing QueryResults.queryName"),
        lenient: Outcome::Parses,
        reason: "no queryName; declarationTime without seconds (2006-11-07T13:00Z)",
    },
    ShapeDeviation {
        file: "Query/TransformationEvent_with_error_declaration.xml",
        strict: Outcome::Rejected("missing QueryResults.queryName"),
        lenient: Outcome::Parses,
        reason: "no queryName; declarationTime without seconds (2020-01-14T23:00Z)",
    },
    ShapeDeviation {
        file: "Query/Combination_of_different_event.xml",
        strict: Outcome::Rejected("missing creationDate"),
        lenient: Outcome::Rejected("missing creationDate"),
        reason: "the root carries createdAt instead of the required creationDate",
    },
    ShapeDeviation {
        file: "Query/Queries/SimpleEventQuery.xml",
        strict: Outcome::Rejected("not query results"),
        lenient: Outcome::Rejected("not query results"),
        reason: "a Poll request, not an event document: read with xml::parse_poll",
    },
];

/// Valid-folder documents whose content breaks a binding-neutral rule of the standard
/// (checked by `epcis::validate`, identically for JSON-LD): file and message text. Empty since
/// the validation accepts custom `gs1:`/`cbv:`-prefixed values that are not standard words;
/// kept so a stricter rule shows up here as a listed, explained change.
const RULE_REJECTIONS: &[(&str, &str)] = &[];

/// The OpenEPCIS 2.0 XML folder.
fn openepcis_xml_root() -> PathBuf {
    Path::new(TESTDATA).join("epcis-openepcis/2.0/EPCIS/XML")
}

/// Every `*.<extension>` file below `root`, sorted, recursively.
fn files_with_extension(root: &Path, extension: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(directory) = pending.pop() {
        let entries = fs::read_dir(&directory)
            .unwrap_or_else(|problem| panic!("cannot list {}: {problem}", directory.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|found| found == extension) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Whether `path` lies in an `Invalid` folder.
fn is_in_invalid_folder(path: &Path) -> bool {
    path.components().any(|component| component.as_os_str() == "Invalid")
}

/// Reads a test file.
fn read(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|problem| panic!("cannot read {}: {problem}", path.display()))
}

/// Compares a parse result with the expected outcome; a description of the mismatch if any.
fn check_outcome(
    result: &Result<Document, lotline_ledger::epcis::Error>,
    expected: Outcome,
) -> Option<String> {
    match (result, expected) {
        (Ok(_), Outcome::Parses) => None,
        (Err(error), Outcome::Rejected(text)) if error.to_string().contains(text) => None,
        (Ok(_), Outcome::Rejected(text)) => {
            Some(format!("parsed, expected rejection containing {text:?}"))
        }
        (Err(error), expected) => Some(format!("rejected with `{error}`, expected {expected:?}")),
    }
}

/// The hash id of every event.
fn hash_ids(events: &[Event]) -> Vec<String> {
    events.iter().map(event_hash_id).collect()
}

#[test]
fn every_valid_openepcis_xml_document_parses_or_is_a_listed_deviation() {
    let root = openepcis_xml_root();
    let documents: Vec<PathBuf> = files_with_extension(&root, "xml")
        .into_iter()
        .filter(|path| !is_in_invalid_folder(path))
        .filter(|path| !path.starts_with(root.join("Capture/Events")))
        .collect();
    assert_eq!(documents.len(), 49, "the OpenEPCIS 2.0 XML documents outside Invalid/ and Events/");
    let mut mismatches = Vec::new();
    let mut parsed_strictly = 0;
    for path in &documents {
        let relative = path.strip_prefix(&root).expect("below root").to_string_lossy().into_owned();
        let bytes = read(path);
        let deviation = SHAPE_DEVIATIONS.iter().find(|deviation| deviation.file == relative);
        let (strict_expected, lenient_expected, reason) = deviation
            .map_or((Outcome::Parses, Outcome::Parses, ""), |deviation| {
                (deviation.strict, deviation.lenient, deviation.reason)
            });
        let rule_rejection =
            RULE_REJECTIONS.iter().find(|(file, _)| *file == relative).map(|(_, text)| *text);
        let strict_shape = xml::parse_document_with(&bytes, &STRICT_SHAPE);
        let lenient_shape = xml::parse_document_with(&bytes, &CONTENT_ONLY);
        let with_rules_expected = match (rule_rejection, &lenient_shape) {
            (Some(text), _) => Outcome::Rejected(text),
            (None, Ok(_)) => Outcome::Parses,
            (None, Err(_)) => lenient_expected,
        };
        let default_expected = match (rule_rejection, strict_expected) {
            (_, Outcome::Rejected(text)) => Outcome::Rejected(text),
            (Some(text), Outcome::Parses) => Outcome::Rejected(text),
            (None, Outcome::Parses) => Outcome::Parses,
        };
        let default = xml::parse_document(&bytes);
        parsed_strictly += usize::from(default.is_ok());
        let results = [
            ("strict shape", strict_shape, strict_expected),
            ("lenient shape", lenient_shape, lenient_expected),
            ("lenient with rules", xml::parse_document_with(&bytes, &LENIENT), with_rules_expected),
            ("parse_document", default, default_expected),
        ];
        for (mode, result, expected) in results {
            if let Some(mismatch) = check_outcome(&result, expected) {
                mismatches.push(format!("{relative} ({mode}): {mismatch} {reason}"));
            }
            if let Ok(document) = &result {
                assert!(!document.events.is_empty(), "{relative}: no events");
            }
        }
    }
    assert!(mismatches.is_empty(), "unexpected outcomes:\n{}", mismatches.join("\n"));
    let listed = SHAPE_DEVIATIONS
        .iter()
        .map(|deviation| deviation.file)
        .chain(RULE_REJECTIONS.iter().map(|(file, _)| *file));
    for file in listed {
        assert!(documents.iter().any(|path| path.ends_with(file)), "{file} is listed but absent");
    }
    println!(
        "{} valid OpenEPCIS XML documents, {parsed_strictly} pass parse_document",
        documents.len()
    );
}

#[test]
fn every_bare_openepcis_event_parses() {
    let events = files_with_extension(&openepcis_xml_root().join("Capture/Events"), "xml");
    assert_eq!(events.len(), 6);
    for path in events {
        let event = xml::parse_event(&read(&path));
        assert!(
            event.is_ok(),
            "{}: {}",
            path.display(),
            event.err().map(|error| error.to_string()).unwrap_or_default()
        );
    }
}

#[test]
fn every_invalid_openepcis_xml_document_is_rejected_naming_the_problem() {
    // (file below XML/, how it is read, text the message must contain)
    let expectations: &[(&str, &str, &str)] = &[
        (
            "Capture/Invalid/ObjectEvent_bare_event_without_action.xml",
            "event",
            "event 0 (ObjectEvent): missing action",
        ),
        (
            "Capture/Invalid/ObjectEvent_with_invalid_action.xml",
            "document",
            "event 0 (ObjectEvent): field action: \"CREATE\"",
        ),
        (
            "Capture/Invalid/ObjectEvent_with_invalid_eventTime_format.xml",
            "document",
            "field eventTime: \"22-07-2026\"",
        ),
        (
            "Capture/Invalid/ObjectEvent_with_near_miss_action.xml",
            "document",
            "field action: \"OBSERV\"",
        ),
        (
            "Capture/Invalid/ObjectEvent_with_unknown_element.xml",
            "document",
            "field madeUpField: is not an element of ObjectEvent",
        ),
        (
            "Capture/Invalid/ObjectEvent_with_wrong_element_order.xml",
            "document",
            "field eventTime: out of order",
        ),
        (
            "Capture/Invalid/ObjectEvent_without_eventTime.xml",
            "document",
            "event 0 (ObjectEvent): missing eventTime",
        ),
        (
            "Query/Invalid/QueryDocument_with_invalid_action.xml",
            "lenient",
            "field action: \"INVALIDACTION\"",
        ),
        (
            "Query/Invalid/QueryDocument_with_invalid_eventType.xml",
            "lenient",
            "event 0 (ObjectEventInvalid): not an EPCIS 2.0 event type",
        ),
        (
            "Query/Invalid/QueryDocument_with_missing_value.xml",
            "poll",
            "missing params.param[1].value",
        ),
        ("Query/Queries/Invalid/Query_without_queryName.xml", "poll", "missing queryName"),
    ];
    let root = openepcis_xml_root();
    let invalid_files: Vec<PathBuf> = files_with_extension(&root, "xml")
        .into_iter()
        .filter(|path| is_in_invalid_folder(path))
        .collect();
    assert_eq!(invalid_files.len(), expectations.len(), "every Invalid/ file needs an expectation");
    for path in invalid_files {
        let relative = path.strip_prefix(&root).expect("below root").to_string_lossy().into_owned();
        let (_, reader, expected_text) = expectations
            .iter()
            .find(|(file, _, _)| *file == relative)
            .unwrap_or_else(|| panic!("no expectation for {relative}"));
        let bytes = read(&path);
        let rejection = match *reader {
            "event" => xml::parse_event(&bytes).err(),
            "lenient" => {
                assert!(
                    xml::parse_document(&bytes).is_err(),
                    "{relative}: strict parse accepted it"
                );
                xml::parse_document_with(&bytes, &LENIENT).err()
            }
            "poll" => {
                assert!(xml::parse_document(&bytes).is_err(), "{relative}: parsed as a document");
                xml::parse_poll(&bytes).err()
            }
            _ => xml::parse_document(&bytes).err(),
        };
        let message = rejection
            .map(|error| error.to_string())
            .unwrap_or_else(|| panic!("{relative} was accepted"));
        assert!(
            message.contains(expected_text),
            "{relative}: `{message}` does not contain {expected_text:?}"
        );
    }
}

#[test]
fn the_valid_poll_request_is_read() {
    let bytes = read(&openepcis_xml_root().join("Query/Queries/SimpleEventQuery.xml"));
    let poll = xml::parse_poll(&bytes).expect("valid poll");
    assert_eq!(poll.query_name, "SimpleEventQuery");
    let names: Vec<&str> = poll.params.iter().map(|param| param.name.as_str()).collect();
    assert_eq!(
        names,
        ["eventType", "GE_eventTime", "LT_eventTime", "EQ_bizStep", "EQ_bizLocation", "MATCH_epc"]
    );
    assert_eq!(poll.params[0].values, ["ObjectEvent", "AggregationEvent"]);
    assert_eq!(poll.params[1].values, ["2026-01-01T00:00:00+01:00"]);
}

/// [`xml::parse_document_with`] with [`CONTENT_ONLY`], as a shared-runner parser.
fn parse_content_only(bytes: &[u8]) -> Result<Document, Error> {
    xml::parse_document_with(bytes, &CONTENT_ONLY)
}

#[test]
fn xml_hash_vectors_reproduce_their_hashes_and_prehash_strings() {
    let report = epcis_support::run_hash_vectors("xml", parse_content_only);
    assert_eq!(report.documents, 17, "every .xml example has .hashes");
    assert!(report.hashes_checked >= 46, "{report:?}");
    assert!(report.prehashes_checked + report.stale_prehash_lines.len() >= 40, "{report:?}");
    println!("{report:?}");
}

#[test]
fn expected_equal_xml_groups_hash_alike() {
    let (documents, events) = epcis_support::run_expected_equal("xml", parse_content_only);
    assert_eq!(documents, 10);
    assert!(events >= 20, "{events} events");
}

/// Writes `document` as XML, reads it back (strictly when `strict_again`), and asserts every
/// event keeps its hash id; returns the re-read document.
fn assert_xml_round_trip_keeps_hashes(
    label: &str,
    document: &Document,
    format: CbvXmlFormat,
) -> Document {
    let written = xml::to_xml_with(document, &WriteOptions { cbv_format: format });
    let again =
        xml::parse_document_with(written.as_bytes(), &CONTENT_ONLY).unwrap_or_else(|error| {
            panic!("{label}: written XML does not read back: {error}\n{written}")
        });
    assert!(
        xml::parse_document_with(written.as_bytes(), &STRICT_SHAPE).is_ok(),
        "{label}: written XML is not in strict XSD order"
    );
    assert_eq!(
        hash_ids(&document.events),
        hash_ids(&again.events),
        "{label}: hash ids changed\n{written}"
    );
    again
}

/// Every XML document this suite can read for content: OpenEPCIS 2.0 and 1.2, hash vectors.
fn every_readable_xml_document() -> Vec<(String, Document)> {
    let roots = [
        Path::new(TESTDATA).join("epcis-openepcis/2.0/EPCIS/XML"),
        Path::new(TESTDATA).join("epcis-openepcis/1.2/EPCIS/XML"),
        Path::new(TESTDATA).join("epcis-event-hash"),
    ];
    roots
        .iter()
        .flat_map(|root| files_with_extension(root, "xml"))
        .filter(|path| !is_in_invalid_folder(path))
        .filter_map(|path| {
            let document = xml::parse_document_with(&read(&path), &CONTENT_ONLY).ok()?;
            Some((path.display().to_string(), document))
        })
        .collect()
}

#[test]
fn xml_to_model_to_xml_keeps_every_hash_id() {
    let documents = every_readable_xml_document();
    assert!(documents.len() >= 80, "found {}", documents.len());
    let mut events = 0;
    for (label, document) in &documents {
        events += document.events.len();
        for format in
            [CbvXmlFormat::AlwaysEpcUrn, CbvXmlFormat::AlwaysWebUri, CbvXmlFormat::NeverTranslates]
        {
            assert_xml_round_trip_keeps_hashes(label, document, format);
        }
    }
    println!("{} XML documents, {events} events round-tripped", documents.len());
}

/// `document` with the lists the XSD requires (epcList, childEPCs) normalised from absent to
/// empty, the only change the writer makes on purpose.
fn with_required_lists_present(mut document: Document) -> Document {
    for event in &mut document.events {
        use lotline_ledger::epcis::EventType::{Aggregation, Object, Transaction};
        if matches!(event.event_type, Object | Transaction) {
            event.epc_list.get_or_insert_with(Vec::new);
        }
        if event.event_type == Aggregation {
            event.child_epcs.get_or_insert_with(Vec::new);
        }
    }
    document
}

#[test]
fn xml_round_trip_without_translation_keeps_the_model() {
    for (label, document) in every_readable_xml_document() {
        let again =
            assert_xml_round_trip_keeps_hashes(&label, &document, CbvXmlFormat::NeverTranslates);
        let document = with_required_lists_present(document);
        assert_eq!(document.events, again.events, "{label}: events changed");
        assert_eq!(document.master_data, again.master_data, "{label}: master data changed");
        assert_eq!(document.header_extensions, again.header_extensions, "{label}: header changed");
        assert_eq!(document.extensions, again.extensions, "{label}: extensions changed");
        assert_eq!(document.kind, again.kind, "{label}: kind changed");
        assert_eq!(document.creation_date, again.creation_date, "{label}: creationDate changed");
    }
}

#[test]
fn json_ld_to_model_to_xml_keeps_every_hash_id() {
    let roots = [
        Path::new(TESTDATA).join("epcis-openepcis/2.0/EPCIS/JSON"),
        Path::new(TESTDATA).join("epcis-event-hash"),
    ];
    let mut converted = 0;
    let mut events = 0;
    for path in roots.iter().flat_map(|root| {
        let mut files = files_with_extension(root, "json");
        files.extend(files_with_extension(root, "jsonld"));
        files
    }) {
        if is_in_invalid_folder(&path) {
            continue;
        }
        let Ok(document) = json::parse_document(&read(&path)) else {
            continue;
        };
        converted += 1;
        events += document.events.len();
        let label = path.display().to_string();
        assert_xml_round_trip_keeps_hashes(&label, &document, CbvXmlFormat::AlwaysEpcUrn);
        let again =
            assert_xml_round_trip_keeps_hashes(&label, &document, CbvXmlFormat::NeverTranslates);
        assert!(
            xml::parse_document(xml::to_xml(&document).as_bytes()).is_ok(),
            "{label}: a valid JSON-LD document must give a valid XML document"
        );
        assert_eq!(document.events.len(), again.events.len());
    }
    assert!(converted >= 60, "only {converted} JSON-LD documents parsed");
    println!("{converted} JSON-LD documents, {events} events converted to XML and back");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn generated_events_round_trip_through_xml_with_their_hash(
        event in epcis_support::arb_event()
    ) {
        let formats =
            [CbvXmlFormat::AlwaysEpcUrn, CbvXmlFormat::AlwaysWebUri, CbvXmlFormat::NeverTranslates];
        for format in formats {
            let text = xml::event_to_xml(&event, &WriteOptions { cbv_format: format });
            let reparsed = xml::parse_event(text.as_bytes());
            prop_assert!(reparsed.is_ok(), "{:?}\n{}", reparsed, text);
            let reparsed = reparsed.unwrap();
            prop_assert_eq!(event_hash_id(&reparsed), event_hash_id(&event), "{}", text);
            prop_assert_eq!(reparsed.event_type, event.event_type);
        }
    }

    #[test]
    fn damaged_documents_are_rejected_or_read_without_panicking(
        cut in 0usize..4000,
        flips in proptest::collection::vec((0usize..4000, any::<u8>()), 0..6),
    ) {
        let path = openepcis_xml_root().join("Capture/Documents/ObjectEvent_all_possible_fields.xml");
        let mut bytes = read(&path);
        for (position, byte) in flips {
            if let Some(slot) = bytes.get_mut(position) {
                *slot = byte;
            }
        }
        bytes.truncate(bytes.len().saturating_sub(cut));
        for options in [STRICT_SHAPE, LENIENT, CONTENT_ONLY] {
            if let Ok(document) = xml::parse_document_with(&bytes, &options) {
                let again = xml::parse_document_with(xml::to_xml(&document).as_bytes(), &CONTENT_ONLY);
                prop_assert!(again.is_ok(), "{:?}", again);
            }
        }
        let _ = xml::parse_event(&bytes);
        let _ = xml::parse_poll(&bytes);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = xml::parse_document_with(&bytes, &CONTENT_ONLY);
        let _ = xml::parse_event(&bytes);
        let _ = xml::parse_poll(&bytes);
    }

    #[test]
    fn generated_documents_round_trip_through_xml_with_their_hashes(
        document in epcis_support::arb_document()
    ) {
        let text = xml::to_xml(&document);
        let reparsed = xml::parse_document(text.as_bytes());
        prop_assert!(reparsed.is_ok(), "{:?}\n{}", reparsed, text);
        let reparsed = reparsed.unwrap();
        prop_assert_eq!(hash_ids(&reparsed.events), hash_ids(&document.events), "{}", text);
        prop_assert_eq!(reparsed.kind, document.kind);
        prop_assert_eq!(reparsed.master_data, document.master_data);
    }
}

#[test]
fn epcis_1_2_xml_documents_are_read_for_content() {
    // Files whose content breaks a rule of EPCIS 2.0 (they still read for content).
    let rule_rejections: &[(&str, &str)] = &[(
        "Capture/Documents/ObjectEvent_all_possible_fields.xml",
        "event 0 (ObjectEvent): field ilmd: is only allowed when action is ADD",
    )];
    let root = Path::new(TESTDATA).join("epcis-openepcis/1.2/EPCIS/XML");
    let files = files_with_extension(&root, "xml");
    assert_eq!(files.len(), 19);
    let mut failures = Vec::new();
    let mut events = 0;
    for path in &files {
        let relative = path.strip_prefix(&root).expect("below root").to_string_lossy().into_owned();
        let bytes = read(path);
        let is_bare_event =
            path.file_name().is_some_and(|name| name.to_string_lossy().starts_with("Single_event"));
        let parse = |options: &ParseOptions| {
            if is_bare_event {
                xml::parse_event_with(&bytes, options).map(|_| 1)
            } else {
                xml::parse_document_with(&bytes, options).map(|document| document.events.len())
            }
        };
        match parse(&CONTENT_ONLY) {
            Ok(count) => events += count,
            Err(error) => failures.push(format!("{relative} (content only): {error}")),
        }
        let expected_rejection =
            rule_rejections.iter().find(|(file, _)| *file == relative).map(|(_, text)| *text);
        let expected = expected_rejection.map_or(Outcome::Parses, Outcome::Rejected);
        let with_rules = parse(&LENIENT).map(|_| ());
        let mismatch = match (&with_rules, expected) {
            (Ok(()), Outcome::Parses) => None,
            (Err(error), Outcome::Rejected(text)) if error.to_string().contains(text) => None,
            (outcome, expected) => Some(format!("{outcome:?}, expected {expected:?}")),
        };
        if let Some(mismatch) = mismatch {
            failures.push(format!("{relative} (lenient with rules): {mismatch}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    println!("{} EPCIS 1.2 XML files, {events} events", files.len());
}
