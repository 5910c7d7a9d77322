//! Fuzz target `epcis_json`: EPCIS 2.0 JSON-LD capture and query documents
//! (`epcis::json::parse_document`) and single stored events (`epcis::decode_stored_event`,
//! whose JSON-LD reader is `epcis::parse_event_json_bytes`), the two ways JSON-LD from outside
//! reaches the ledger.
//!
//! Owns the properties of the JSON-LD binding: a document that parses is written again with
//! `epcis::to_json_ld`, parses again, and keeps its model and every event's hash id
//! (`epcis::event_hash_id`); each of its events stored alone reads back with the same hash id;
//! it converts to XML that reads back with the same hash ids; on any bytes the streaming event
//! reader agrees with the tree reader it falls back to; and a stored event reads back from
//! both bindings with its hash id. Does not own the XML binding's
//! own inputs (`epcis_xml`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use lotline_ledger::epcis::xml::{self, Conformance, ParseOptions};
use lotline_ledger::epcis::{self, Document, Event};

/// How written XML is read back: every shape a producer may use, no standard rules (the writer
/// is only asked to keep what the model holds).
const CONTENT_ONLY: ParseOptions =
    ParseOptions { conformance: Conformance::Lenient, check_standard_rules: false };

fuzz_target!(|bytes: &[u8]| {
    check_document(bytes);
    check_stored_event(bytes);
});

fn hash_ids(events: &[Event]) -> Vec<String> {
    events.iter().map(epcis::event_hash_id).collect()
}

fn check_document(bytes: &[u8]) {
    let Ok(document) = epcis::json::parse_document(bytes) else {
        return;
    };
    let written = epcis::to_json_ld_string(&document);
    let again = epcis::json::parse_document(written.as_bytes())
        .unwrap_or_else(|error| panic!("written JSON-LD does not parse again: {error}\n{written}"));
    assert_eq!(hash_ids(&document.events), hash_ids(&again.events), "hash ids changed\n{written}");
    assert_eq!(
        epcis::document_event_hash_ids(&document),
        epcis::document_event_hash_ids(&again),
        "hash ids with the document's ignored fields changed\n{written}"
    );
    assert_eq!(document, again, "the model changed in a JSON-LD round trip\n{written}");

    for event in &document.events {
        let stored = epcis::event_to_json_ld(event).to_string();
        let reread = epcis::parse_event_json_bytes(stored.as_bytes()).unwrap_or_else(|error| {
            panic!("an event stored alone does not read back: {error}\n{stored}")
        });
        assert_eq!(epcis::event_hash_id(&reread), epcis::event_hash_id(event), "{stored}");
    }

    check_as_xml(&document);
}

/// A valid JSON-LD document gives a valid XML document with the same hash ids.
fn check_as_xml(document: &Document) {
    let written = xml::to_xml(document);
    let reread = xml::parse_document_with(written.as_bytes(), &CONTENT_ONLY)
        .unwrap_or_else(|error| panic!("written XML does not read back: {error}\n{written}"));
    assert_eq!(hash_ids(&document.events), hash_ids(&reread.events), "{written}");
    assert!(xml::parse_document(written.as_bytes()).is_ok(), "the XML is not valid\n{written}");
}

/// A stored event (`epcis::decode_stored_event`, as a node reads a feed entry's event back):
/// the JSON-LD streaming reader gives the tree reader's answer, the same event or an error for
/// both, and XML reads as a bare XML event; an event read either way reads back from both
/// bindings with its hash id.
fn check_stored_event(bytes: &[u8]) {
    let stored = epcis::decode_stored_event(bytes);
    let is_xml = bytes.iter().find(|byte| !byte.is_ascii_whitespace()) == Some(&b'<');
    if is_xml {
        let as_xml = xml::parse_event(bytes);
        assert_eq!(stored.as_ref().ok(), as_xml.as_ref().ok(), "XML stored events read as XML");
    } else {
        let from_tree = serde_json::from_slice::<serde_json::Value>(bytes)
            .ok()
            .map(|value| epcis::parse_event_json(&value, &[]));
        match (&stored, &from_tree) {
            (Ok(streamed), Some(Ok(from_tree))) => {
                assert_eq!(streamed, from_tree, "the streaming and tree readers disagree");
            }
            (Err(_), None | Some(Err(_))) => {}
            (streamed, from_tree) => panic!(
                "the streaming reader says {:?}, the tree reader {:?}",
                streamed.as_ref().map(epcis::event_hash_id),
                from_tree.as_ref().map(|result| result.as_ref().map(epcis::event_hash_id))
            ),
        }
    }
    let Ok(event) = stored else {
        return;
    };
    let hash_id = epcis::event_hash_id(&event);
    let as_json = epcis::event_to_json_ld(&event).to_string();
    let from_json = epcis::decode_stored_event(as_json.as_bytes())
        .unwrap_or_else(|error| panic!("a read event does not read back: {error}\n{as_json}"));
    assert_eq!(epcis::event_hash_id(&from_json), hash_id, "{as_json}");
    let as_xml = xml::event_to_xml(&event, &xml::WriteOptions::default());
    let from_xml = epcis::decode_stored_event(as_xml.as_bytes())
        .unwrap_or_else(|error| panic!("a read event does not read back: {error}\n{as_xml}"));
    assert_eq!(epcis::event_hash_id(&from_xml), hash_id, "{as_xml}");
}
