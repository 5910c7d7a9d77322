//! Fuzz target `epcis_xml`: the EPCIS XML binding (`epcis::xml`): documents in every
//! conformance mode, bare events (the REST binding's `POST /events` body) and `Poll` requests.
//!
//! Owns the properties of the XML binding: a document that reads for content is written again
//! in each vocabulary spelling (`CbvXmlFormat`), reads back in the strict XSD shape, and keeps
//! every event's hash id; a document that passes the standard's rules also converts to JSON-LD
//! that parses with the same hash ids; a bare event round-trips with its hash id. Does not own
//! JSON-LD inputs (`epcis_json`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use lotline_ledger::epcis::xml::{self, CbvXmlFormat, Conformance, ParseOptions, WriteOptions};
use lotline_ledger::epcis::{self, Document, Event};

/// Every shape a producer may use, no standard rules: the widest reading.
const CONTENT_ONLY: ParseOptions =
    ParseOptions { conformance: Conformance::Lenient, check_standard_rules: false };
/// The XSD's element order, no standard rules: what the writer must always produce.
const STRICT_SHAPE: ParseOptions =
    ParseOptions { conformance: Conformance::Strict, check_standard_rules: false };
const FORMATS: [CbvXmlFormat; 3] =
    [CbvXmlFormat::AlwaysEpcUrn, CbvXmlFormat::AlwaysWebUri, CbvXmlFormat::NeverTranslates];

fuzz_target!(|bytes: &[u8]| {
    check_document(bytes);
    check_event(bytes);
    let _ = xml::parse_poll(bytes);
});

fn hash_ids(events: &[Event]) -> Vec<String> {
    events.iter().map(epcis::event_hash_id).collect()
}

fn check_document(bytes: &[u8]) {
    let Ok(document) = xml::parse_document_with(bytes, &CONTENT_ONLY) else {
        return;
    };
    for format in FORMATS {
        let written = xml::to_xml_with(&document, &WriteOptions { cbv_format: format });
        let reread = xml::parse_document_with(written.as_bytes(), &CONTENT_ONLY)
            .unwrap_or_else(|error| panic!("written XML does not read back: {error}\n{written}"));
        assert_eq!(hash_ids(&document.events), hash_ids(&reread.events), "{format:?}\n{written}");
        assert_eq!(document.kind, reread.kind, "{written}");
        assert!(
            xml::parse_document_with(written.as_bytes(), &STRICT_SHAPE).is_ok(),
            "written XML is not in the XSD's element order\n{written}"
        );
    }
    if let Ok(valid) = xml::parse_document(bytes) {
        check_as_json_ld(&valid);
    }
}

/// A document valid in XML converts to JSON-LD that parses with the same hash ids.
fn check_as_json_ld(document: &Document) {
    let written = epcis::to_json_ld_string(document);
    let reread = epcis::json::parse_document(written.as_bytes())
        .unwrap_or_else(|error| panic!("written JSON-LD does not parse: {error}\n{written}"));
    assert_eq!(hash_ids(&document.events), hash_ids(&reread.events), "{written}");
    assert_eq!(
        epcis::document_event_hash_ids(document),
        epcis::document_event_hash_ids(&reread),
        "{written}"
    );
}

fn check_event(bytes: &[u8]) {
    let Ok(event) = xml::parse_event(bytes) else {
        return;
    };
    for format in FORMATS {
        let written = xml::event_to_xml(&event, &WriteOptions { cbv_format: format });
        let reread = xml::parse_event(written.as_bytes()).unwrap_or_else(|error| {
            panic!("a written event does not read back: {error}\n{written}")
        });
        assert_eq!(epcis::event_hash_id(&reread), epcis::event_hash_id(&event), "{written}");
        assert_eq!(reread.event_type, event.event_type);
    }
}
