//! The JSON-LD binding against the OpenEPCIS test documents: every valid capture and query
//! document parses and survives JSON → model → JSON → model with the same model and hash ids;
//! every document under `Invalid/` is rejected with a message naming the problem; and the
//! error message format is pinned.
//!
//! Owns only JSON-LD behaviour; hashing vectors live in `epcis_hash.rs`.

mod epcis_support;

use std::path::{Path, PathBuf};

use lotline_ledger::epcis::{self, Document, event_hash_id, json};

/// Valid documents: everything except `Invalid/` folders and `Queries/` (query definitions,
/// not documents).
fn valid_documents() -> Vec<PathBuf> {
    epcis_support::files_with_extension(&epcis_support::openepcis_json_dir(), "json")
        .into_iter()
        .filter(|path| {
            let text = path.to_string_lossy();
            !text.contains("/Invalid/") && !text.contains("/Queries/") && !text.contains("/Events/")
        })
        .collect()
}

fn invalid_documents() -> Vec<PathBuf> {
    epcis_support::files_with_extension(&epcis_support::openepcis_json_dir(), "json")
        .into_iter()
        .filter(|path| {
            let text = path.to_string_lossy();
            text.contains("/Invalid/") && !text.contains("/Queries/")
        })
        .collect()
}

fn parse_file(path: &Path) -> Result<Document, epcis::Error> {
    json::parse_document(&std::fs::read(path).expect("test document"))
}

#[test]
fn every_valid_openepcis_json_document_parses() {
    let paths = valid_documents();
    assert!(paths.len() >= 45, "found only {} documents", paths.len());
    let failures: Vec<String> = paths
        .iter()
        .filter_map(|path| {
            parse_file(path).err().map(|error| format!("{}: {error}", path.display()))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} valid documents rejected:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_invalid_openepcis_json_document_is_rejected_with_a_reason() {
    let expectations: &[(&str, &str)] = &[
        (
            "Combination_of_events_with_missing_mandatory_fields.json",
            "event 0 (ObjectEvent): missing action",
        ),
        ("Combination_of_multiple_invalid_fields.json", "bizStep"),
        (
            "Combination_of_non_standard_bizStep_and_disposition.json",
            "field bizStep: \"transforming\"",
        ),
        ("EPCISDocument_without_context.json", "document: missing @context"),
        ("ObjectEvent_with_ilmd_field_without_namespace.json", "ilmd.materialType"),
        (
            "ObjectEvent_with_invalid_action.json",
            "field action: \"CREATE\" is not ADD, OBSERVE or DELETE",
        ),
        ("ObjectEvent_with_invalid_certificationInfo.json", "certificationInfo"),
        ("ObjectEvent_with_invalid_eventTime_format.json", "field eventTime: \"22-07-2026\""),
        (
            "ObjectEvent_with_non_standard_bizStep.json",
            "event 0 (ObjectEvent): field bizStep: \"transforming\"",
        ),
        (
            "ObjectEvent_with_non_standard_bizStep_in_second_event.json",
            "event 1 (ObjectEvent): field bizStep",
        ),
        ("ObjectEvent_with_non_standard_disposition.json", "field disposition: \"in_transport\""),
        (
            "ObjectEvent_with_quantity_as_text.json",
            "field quantityList[0].quantity: \"twenty\" is not a number",
        ),
        ("ObjectEvent_with_unknown_field_in_quantityList.json", "quantityList[0].weight"),
        ("ObjectEvent_without_action_and_eventTime.json", "missing eventTime"),
        ("ObjectEvent_without_identifier_list.json", "needs epcList, quantityList"),
        ("QueryDocument_with_invalid_action.json", "field action: \"INVALIDACTION\""),
        ("QueryDocument_with_invalid_eventType.json", "event 0 (ObjectEventInvalid): field type"),
    ];
    let paths = invalid_documents();
    assert_eq!(paths.len(), expectations.len(), "every invalid document needs an expectation");
    for path in paths {
        let file_name =
            path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        let error = parse_file(&path).err().unwrap_or_else(|| panic!("{file_name} was accepted"));
        let message = error.to_string();
        let (_, expected_fragment) = expectations
            .iter()
            .find(|(name, _)| *name == file_name)
            .unwrap_or_else(|| panic!("no expectation for {file_name}: {message}"));
        assert!(
            message.contains(expected_fragment),
            "{file_name}: {message:?} lacks {expected_fragment:?}"
        );
    }
}

#[test]
fn valid_documents_round_trip_through_json_with_the_same_model_and_hashes() {
    for path in valid_documents() {
        let first = parse_file(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        let written = epcis::to_json_ld_string(&first);
        let second = json::parse_document(written.as_bytes()).unwrap_or_else(|error| {
            panic!("{}: re-parse failed: {error}\n{written}", path.display())
        });
        assert_eq!(first, second, "{}: model changed in a JSON round trip", path.display());
        for (index, (before, after)) in first.events.iter().zip(&second.events).enumerate() {
            assert_eq!(
                event_hash_id(before),
                event_hash_id(after),
                "{} event {index}",
                path.display()
            );
        }
    }
}

#[test]
fn single_events_round_trip_through_event_json() {
    for path in valid_documents() {
        let document =
            parse_file(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        for event in &document.events {
            let value = epcis::event_to_json_ld(event);
            let reparsed = epcis::parse_event_json(&value, &[])
                .unwrap_or_else(|error| panic!("{}: {error}\n{value}", path.display()));
            assert_eq!(&reparsed, event, "{}", path.display());
        }
    }
}

#[test]
fn standalone_openepcis_events_parse_with_their_own_context() {
    let events_dir = epcis_support::openepcis_json_dir().join("Capture/Events");
    let paths = epcis_support::files_with_extension(&events_dir, "json");
    assert_eq!(paths.len(), 5);
    for path in paths {
        let value: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).expect("event")).expect("json");
        let event = epcis::parse_event_json(&value, &[])
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
        assert!(path.to_string_lossy().contains(event.event_type.name()));
    }
}

#[test]
fn error_messages_name_the_event_and_the_rule() {
    let document = |events: &str| {
        format!(
            r#"{{"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
            "type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2024-01-01T00:00:00Z",
            "epcisBody":{{"eventList":[{events}]}}}}"#
        )
    };
    let object_event = r#"{"type":"ObjectEvent","eventTime":"2024-01-01T00:00:00Z",
        "eventTimeZoneOffset":"+00:00","action":"OBSERVE","epcList":[]}"#;
    let bad_offset = r#"{"type":"ObjectEvent","eventTime":"2024-01-01T00:00:00Z",
        "eventTimeZoneOffset":"+25:00","action":"OBSERVE","epcList":[]}"#;
    let transformation_without_outputs = r#"{"type":"TransformationEvent",
        "eventTime":"2024-01-01T00:00:00+01:00","eventTimeZoneOffset":"+01:00",
        "inputEPCList":["urn:epc:id:sgtin:0614141.107346.1"]}"#;
    let cases = [
        (
            document(bad_offset),
            r#"event 0 (ObjectEvent): field eventTimeZoneOffset: "+25:00" is not an offset like +02:00"#,
        ),
        (
            document(&format!("{object_event},{object_event},{object_event},{transformation_without_outputs}")),
            "event 3 (TransformationEvent): needs at least one input and one output",
        ),
        (
            document(&object_event.replace("2024-01-01T00:00:00Z", "2024-01-01T00:00:00")),
            "event 0 (ObjectEvent): field eventTime: \"2024-01-01T00:00:00\" is not a date-time with offset like 2024-05-01T10:00:00+02:00",
        ),
        (
            document(&object_event.replace(r#""epcList":[]"#, r#""epcList":[],"ilmd":{"cbvmda:lotNumber":"1"}"#)),
            "event 0 (ObjectEvent): field ilmd: is only allowed when action is ADD",
        ),
        (
            document(&object_event.replace(r#""epcList":[]"#, r#""epcList":[],"myField":"1""#)),
            "event 0 (ObjectEvent): field myField: is not a field of ObjectEvent; extension fields must be namespaced (prefix:name)",
        ),
        (
            document(&object_event.replace(r#""epcList":[]"#, r#""quantityList":[{"epcClass":"urn:epc:class:lgtin:4012345.012345.1","quantity":1,"uom":"kg"}]"#)),
            r#"event 0 (ObjectEvent): field quantityList[0].uom: "kg" is not a UN/CEFACT Rec 20 unit code like KGM"#,
        ),
        (
            document(&object_event.replace(r#""OBSERVE""#, r#""OBSERVE","bizStep":"urn:epcglobal:cbv:bizstep:flying""#)),
            r#"event 0 (ObjectEvent): field bizStep: "urn:epcglobal:cbv:bizstep:flying" is not a CBV 2.0 bizStep value"#,
        ),
        (
            r#"{"type":"EPCISDocument"}"#.to_owned(),
            "document: missing @context",
        ),
        ("{not json".to_owned(), "document: not well-formed JSON"),
    ];
    for (input, expected) in cases {
        let error = epcis::parse_document(input.as_bytes()).expect_err(expected);
        assert!(error.to_string().starts_with(expected), "{error} != {expected}");
    }
}

#[test]
fn standard_vocabulary_may_be_written_as_word_urn_or_web_uri() {
    let template = r#"{"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2024-01-01T00:00:00Z",
        "epcisBody":{"eventList":[{"type":"ObjectEvent","eventTime":"2024-01-01T00:00:00Z",
        "eventTimeZoneOffset":"+00:00","action":"OBSERVE","epcList":[],"bizStep":"STEP"}]}}"#;
    let mut hashes = Vec::new();
    for spelling in [
        "shipping",
        "urn:epcglobal:cbv:bizstep:shipping",
        "https://ref.gs1.org/cbv/BizStep-shipping",
        "cbv:BizStep-shipping",
    ] {
        let document = epcis::parse_document(template.replace("STEP", spelling).as_bytes())
            .unwrap_or_else(|error| panic!("{spelling}: {error}"));
        let biz_step = document.events[0].biz_step.as_ref().expect("bizStep");
        assert_eq!(biz_step.written, spelling, "kept as written");
        assert_eq!(biz_step.web_uri(), "https://ref.gs1.org/cbv/BizStep-shipping");
        hashes.push(event_hash_id(&document.events[0]));
    }
    assert!(hashes.windows(2).all(|pair| pair[0] == pair[1]), "{hashes:?}");
    let custom =
        epcis::parse_document(template.replace("STEP", "https://example.com/step/x").as_bytes());
    assert!(custom.is_ok(), "custom URI vocabulary is allowed");
}

#[test]
fn binding_is_sniffed() {
    let error = epcis::parse_document(b"   ").expect_err("empty");
    assert_eq!(error.to_string(), "document: unsupported binding: the document is empty");
    let error = epcis::parse_document(b"hello").expect_err("text");
    assert!(error.to_string().starts_with("document: unsupported binding"));
}

#[test]
fn master_data_and_header_extensions_survive_a_round_trip() {
    let input = r#"{"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
        {"example":"https://ns.example.com/epcis/"}],
        "type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2024-01-01T00:00:00Z",
        "epcisHeader":{"epcisMasterData":{"vocabularyList":[{"type":"urn:epcglobal:epcis:vtype:BusinessLocation",
          "vocabularyElementList":[{"id":"urn:epc:id:sgln:0037000.00729.0",
            "attributes":[{"id":"cbvmda:name","attribute":"Warehouse 5"},
                          {"id":"cbvmda:address","attribute":{"example:street":"Main St 1","example:zip":12345}}],
            "children":["urn:epc:id:sgln:0037000.00729.8201"]}]}]},
          "example:routing":"lane-4"},
        "epcisBody":{"eventList":[]}}"#;
    let document = epcis::parse_document(input.as_bytes()).expect("parses");
    let vocabularies = document.master_data.as_ref().expect("master data");
    assert_eq!(vocabularies[0].elements[0].attributes.len(), 2);
    assert_eq!(vocabularies[0].elements[0].children, ["urn:epc:id:sgln:0037000.00729.8201"]);
    assert_eq!(document.header_extensions[0].name.local_name, "routing");
    let reparsed =
        epcis::parse_document(epcis::to_json_ld_string(&document).as_bytes()).expect("re-parses");
    assert_eq!(reparsed, document);
}

#[test]
fn event_level_context_scopes_prefixes_to_that_event() {
    let path = epcis_support::openepcis_json_dir()
        .join("Capture/Documents/Namespaces_at_different_level.json");
    let document = parse_file(&path).expect("parses");
    let first_event_namespaces: Vec<&str> = document.events[0]
        .extensions
        .iter()
        .map(|field| field.name.namespace_iri.as_str())
        .collect();
    assert!(first_event_namespaces.contains(&"http://www.ext2.net/"), "{first_event_namespaces:?}");
    assert_eq!(
        document.namespaces.len(),
        1,
        "event-level prefixes stay out of the document's list"
    );
}
