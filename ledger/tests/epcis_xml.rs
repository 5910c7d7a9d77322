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
use lotline_ledger::epcis::{Document, Event, ExtensionValue, event_hash_id, json, prehash_string};

/// The shared third-party test data, next to the checkout.
const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/testdata");

/// Strict XSD conformance plus the standard's rules (what `parse_document` does).
const STRICT: ParseOptions =
    ParseOptions { conformance: Conformance::Strict, check_standard_rules: true };
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

/// A "valid" third-party document that the strict binding (or the standard's rules) does not
/// accept as is, with what each parse mode does and why.
struct Deviation {
    /// Path below `epcis-openepcis/2.0/EPCIS/XML/`.
    file: &'static str,
    /// Result of [`STRICT`].
    strict: Outcome,
    /// Result of [`LENIENT`].
    lenient: Outcome,
    /// Result of [`CONTENT_ONLY`].
    content_only: Outcome,
    /// Why the file deviates (kept for docs/standards.md; shown on failure).
    reason: &'static str,
}

/// Every deviation of the valid OpenEPCIS 2.0 XML documents (files not listed must parse in
/// every mode).
const KNOWN_DEVIATIONS: &[Deviation] = &[
    Deviation {
        file: "Capture/Documents/JumbledFieldsOrder.xml",
        strict: Outcome::Rejected("field eventTimeZoneOffset: out of order"),
        lenient: Outcome::Parses,
        content_only: Outcome::Parses,
        reason: "standard elements in random order; the EPCIS 2.0 XSD is a sequence",
    },
    Deviation {
        file: "Query/JumbledFieldsOrder.xml",
        strict: Outcome::Rejected("missing QueryResults.queryName"),
        lenient: Outcome::Parses,
        content_only: Outcome::Parses,
        reason: "QueryResults without the required queryName, elements in random order",
    },
    Deviation {
        file: "Capture/Documents/CurieString_document.xml",
        strict: Outcome::Rejected("\"cbv:my_own_party\" is not a CBV 2.0 source/destination type"),
        lenient: Outcome::Rejected("\"cbv:my_own_party\""),
        content_only: Outcome::Parses,
        reason: "a cbv: CURIE that is not a CBV word (custom values need their own namespace)",
    },
    Deviation {
        file: "Query/CurieString_document.xml",
        strict: Outcome::Rejected("missing QueryResults.queryName"),
        lenient: Outcome::Rejected("\"cbv:my_own_party\""),
        content_only: Outcome::Parses,
        reason: "no queryName; a cbv: CURIE that is not a CBV word",
    },
    Deviation {
        file: "Capture/Documents/SensorData_with_combined_events.xml",
        strict: Outcome::Rejected("\"gs1:Molar_concentration\" is not a GS1 sensorReport type"),
        lenient: Outcome::Rejected("\"gs1:Molar_concentration\""),
        content_only: Outcome::Parses,
        reason: "a gs1: measurement type that the GS1 Web Vocabulary does not define",
    },
    Deviation {
        file: "Query/SensorData_with_combined_events.xml",
        strict: Outcome::Rejected("missing QueryResults.queryName"),
        lenient: Outcome::Rejected("\"gs1:Molar_concentration\""),
        content_only: Outcome::Parses,
        reason: "no queryName; a gs1: measurement type the GS1 Web Vocabulary does not define",
    },
    Deviation {
        file: "Capture/Documents/TransactionEvent_with_userExtensions.xml",
        strict: Outcome::Rejected("\"gs1:EffectiveDoseRate\" is not a GS1 sensorReport type"),
        lenient: Outcome::Rejected("\"gs1:EffectiveDoseRate\""),
        content_only: Outcome::Parses,
        reason: "a gs1: measurement type that the GS1 Web Vocabulary does not define",
    },
    Deviation {
        file: "Query/Documents/TransactionEvent_with_userExtensions.xml",
        strict: Outcome::Rejected("\"gs1:EffectiveDoseRate\""),
        lenient: Outcome::Rejected("\"gs1:EffectiveDoseRate\""),
        content_only: Outcome::Parses,
        reason: "a gs1: measurement type that the GS1 Web Vocabulary does not define",
    },
    Deviation {
        file: "Query/TransactionEvent_with_userExtensions.xml",
        strict: Outcome::Rejected("missing QueryResults.queryName"),
        lenient: Outcome::Rejected("\"gs1:EffectiveDoseRate\""),
        content_only: Outcome::Parses,
        reason: "no queryName; a gs1: measurement type the GS1 Web Vocabulary does not define",
    },
    Deviation {
        file: "Query/ObjectEventWithAllPossibleFields.xml",
        strict: Outcome::Rejected("missing QueryResults.queryName"),
        lenient: Outcome::Parses,
        content_only: Outcome::Parses,
        reason: "no queryName; declarationTime without seconds (2006-11-07T13:00Z)",
    },
    Deviation {
        file: "Query/TransformationEvent_with_error_declaration.xml",
        strict: Outcome::Rejected("missing QueryResults.queryName"),
        lenient: Outcome::Parses,
        content_only: Outcome::Parses,
        reason: "no queryName; declarationTime without seconds (2020-01-14T23:00Z)",
    },
    Deviation {
        file: "Query/Combination_of_different_event.xml",
        strict: Outcome::Rejected("missing creationDate"),
        lenient: Outcome::Rejected("missing creationDate"),
        content_only: Outcome::Rejected("missing creationDate"),
        reason: "the root carries createdAt instead of the required creationDate",
    },
    Deviation {
        file: "Query/Queries/SimpleEventQuery.xml",
        strict: Outcome::Rejected("not query results"),
        lenient: Outcome::Rejected("not query results"),
        content_only: Outcome::Rejected("not query results"),
        reason: "a Poll request, not an event document: read with xml::parse_poll",
    },
];

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

/// The namespace of the hash vectors' repository-specific `ignoreFields` declaration.
const REPOSITORY_X_NAMESPACE: &str = "https://repository-x.example.com/";

/// The events of `document` without the extension fields that a document-level
/// `{https://repository-x.example.com/}ignoreFields` names: the reference hash generator's
/// convention for repository-internal fields (two vectors use it). It is not part of the
/// standard's algorithm, so it is applied here rather than inside the hash.
fn events_without_ignored_fields(document: &Document) -> Vec<Event> {
    let ignored: Vec<(String, String)> = document
        .extensions
        .iter()
        .filter(|field| {
            field.name.namespace_iri == REPOSITORY_X_NAMESPACE
                && field.name.local_name == "ignoreFields"
        })
        .flat_map(|field| match &field.value {
            ExtensionValue::Object(names) => names
                .iter()
                .map(|name| (name.name.namespace_iri.clone(), name.name.local_name.clone()))
                .collect(),
            _ => Vec::new(),
        })
        .collect();
    let mut events = document.events.clone();
    for event in &mut events {
        event.extensions.retain(|field| {
            !ignored.contains(&(field.name.namespace_iri.clone(), field.name.local_name.clone()))
        });
    }
    events
}

#[test]
fn every_valid_openepcis_xml_document_parses_or_is_a_listed_deviation() {
    let root = openepcis_xml_root();
    let documents: Vec<PathBuf> = files_with_extension(&root, "xml")
        .into_iter()
        .filter(|path| !is_in_invalid_folder(path))
        .filter(|path| !path.starts_with(root.join("Capture/Events")))
        .collect();
    assert!(
        documents.len() >= 45,
        "expected the OpenEPCIS XML documents, found {}",
        documents.len()
    );
    let mut mismatches = Vec::new();
    let mut parsed_strictly = 0;
    for path in &documents {
        let relative = path.strip_prefix(&root).expect("below root").to_string_lossy().into_owned();
        let bytes = read(path);
        let deviation = KNOWN_DEVIATIONS.iter().find(|deviation| deviation.file == relative);
        let expected = deviation
            .map_or((Outcome::Parses, Outcome::Parses, Outcome::Parses), |deviation| {
                (deviation.strict, deviation.lenient, deviation.content_only)
            });
        let strict = xml::parse_document(&bytes);
        parsed_strictly += usize::from(strict.is_ok());
        let results = [
            ("strict", strict, expected.0),
            ("lenient", xml::parse_document_with(&bytes, &LENIENT), expected.1),
            ("content-only", xml::parse_document_with(&bytes, &CONTENT_ONLY), expected.2),
        ];
        for (mode, result, expected) in results {
            if let Some(mismatch) = check_outcome(&result, expected) {
                let reason = deviation.map_or("", |deviation| deviation.reason);
                mismatches.push(format!("{relative} ({mode}): {mismatch} {reason}"));
            }
            if let Ok(document) = &result {
                assert!(
                    !document.events.is_empty() || relative.contains("Vocabulary"),
                    "{relative}: no events"
                );
            }
        }
    }
    assert!(mismatches.is_empty(), "unexpected outcomes:\n{}", mismatches.join("\n"));
    assert_eq!(
        KNOWN_DEVIATIONS
            .iter()
            .filter(|deviation| !documents.iter().any(|path| path.ends_with(deviation.file)))
            .map(|deviation| deviation.file)
            .collect::<Vec<_>>(),
        Vec::<&str>::new(),
        "listed deviations that no longer exist"
    );
    println!("{} valid OpenEPCIS XML documents, {parsed_strictly} parse strictly", documents.len());
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

/// The `.xml` hash vectors with the lines of their `.<suffix>` companion, if any.
fn hash_vectors(suffix: &str) -> Vec<(PathBuf, Vec<String>)> {
    files_with_extension(&Path::new(TESTDATA).join("epcis-event-hash/examples"), "xml")
        .into_iter()
        .filter_map(|path| {
            let companion = path.with_extension(suffix);
            let text = fs::read_to_string(&companion).ok()?;
            Some((path, text.lines().map(str::to_owned).filter(|line| !line.is_empty()).collect()))
        })
        .collect()
}

#[test]
fn xml_hash_vectors_reproduce_their_hashes() {
    let vectors = hash_vectors("hashes");
    assert_eq!(vectors.len(), 17, "every .xml example has .hashes");
    let mut failures = Vec::new();
    let mut checked = 0;
    for (path, expected) in vectors {
        let document = xml::parse_document_with(&read(&path), &CONTENT_ONLY)
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        let events = events_without_ignored_fields(&document);
        assert_eq!(events.len(), expected.len(), "{}: event count", path.display());
        for (index, (event, expected)) in events.iter().zip(&expected).enumerate() {
            checked += 1;
            let actual = event_hash_id(event);
            if &actual != expected {
                failures.push(format!("{} event {index}: {actual} != {expected}", path.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} hashes differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn xml_hash_vectors_reproduce_their_prehash_strings() {
    let vectors = hash_vectors("prehashes");
    assert!(vectors.len() >= 15, "found {} .prehashes for .xml examples", vectors.len());
    let mut failures = Vec::new();
    for (path, expected) in vectors {
        let document = xml::parse_document_with(&read(&path), &CONTENT_ONLY)
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        let events = events_without_ignored_fields(&document);
        assert_eq!(events.len(), expected.len(), "{}: event count", path.display());
        for (index, (event, expected)) in events.iter().zip(&expected).enumerate() {
            let actual = prehash_string(event);
            if &actual != expected {
                failures.push(format!(
                    "{} event {index}:\n  got      {actual}\n  expected {expected}",
                    path.display()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn expected_equal_xml_groups_hash_alike() {
    let files =
        files_with_extension(&Path::new(TESTDATA).join("epcis-event-hash/expected_equal"), "xml");
    assert_eq!(files.len(), 10);
    for path in files {
        let document = xml::parse_document_with(&read(&path), &CONTENT_ONLY)
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        let ids = hash_ids(&document.events);
        assert!(ids.len() >= 2, "{}: a group needs two members", path.display());
        assert!(ids.iter().all(|id| *id == ids[0]), "{}: {ids:#?}", path.display());
    }
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
        xml::parse_document_with(
            written.as_bytes(),
            &ParseOptions { check_standard_rules: false, ..STRICT }
        )
        .is_ok(),
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
