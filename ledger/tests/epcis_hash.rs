//! The EPCIS Event Hash ID against the reference vectors of epcis-event-hash-generator 1.9.3
//! (JSON-LD inputs; the XML inputs are run by the XML binding's tests through the same runner).
//!
//! Owns: `.hashes` / `.prehashes` comparisons for every `examples/*.jsonld`, the
//! `expected_equal/` JSON groups, and the worked example of `docs/standards.md`.

mod epcis_support;

use lotline_ledger::epcis::{self, event_hash_id, json, prehash_string};

#[test]
fn every_jsonld_vector_reproduces_its_hashes_and_prehashes() {
    let report = epcis_support::run_hash_vectors("jsonld", json::parse_document);
    eprintln!("{report:?}");
    assert!(report.documents >= 20, "only {} vector documents found", report.documents);
    assert!(report.hashes_checked >= 40, "only {} hashes checked", report.hashes_checked);
    assert!(report.prehashes_checked >= 35, "only {} pre-hashes checked", report.prehashes_checked);
}

#[test]
fn expected_equal_json_groups_hash_alike() {
    let (documents, events) = epcis_support::run_expected_equal("json", json::parse_document);
    assert!(documents >= 1 && events >= 2, "{documents} documents, {events} events");
}

#[test]
fn worked_example_of_the_standards_summary() {
    let path = epcis_support::hash_examples_dir().join("epcisDocWithSingleEvent.jsonld");
    let document = epcis::parse_document(&std::fs::read(path).expect("vector")).expect("parses");
    assert_eq!(
        prehash_string(&document.events[0]),
        "eventType=ObjectEventeventTime=2022-02-17T02:33:31.116ZeventTimeZoneOffset=-06:00\
         epcListepc=https://id.gs1.org/01/10614141073464/21/2017\
         epc=https://id.gs1.org/01/10614141073464/21/2018action=OBSERVE\
         bizStep=https://ref.gs1.org/cbv/BizStep-shipping\
         disposition=https://ref.gs1.org/cbv/Disp-in_transit\
         readPointid=https://id.gs1.org/414/0614141073467/254/1234\
         bizTransactionListtype=https://ref.gs1.org/cbv/BTT-po\
         bizTransaction=http://transaction.acme.com/po/12345678"
    );
    assert_eq!(
        event_hash_id(&document.events[0]),
        "ni:///sha-256;ffa491b16867e34a7791a8d5389d826afc24e63a121026b6a4004ace38631b4b?ver=CBV2.0"
    );
}

#[test]
fn record_time_event_id_and_error_declaration_do_not_change_the_hash() {
    let path = epcis_support::hash_examples_dir().join("epcisDocWithSingleEvent.jsonld");
    let document = epcis::parse_document(&std::fs::read(path).expect("vector")).expect("parses");
    let original = document.events[0].clone();
    let mut annotated = original.clone();
    annotated.record_time = Some(original.event_time.clone());
    annotated.event_id = Some("urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8".to_owned());
    annotated.error_declaration = Some(epcis::ErrorDeclaration {
        declaration_time: original.event_time.clone(),
        reason: None,
        corrective_event_ids: Vec::new(),
        extensions: Vec::new(),
    });
    assert_eq!(event_hash_id(&annotated), event_hash_id(&original));
    let mut changed = original.clone();
    changed.action = Some(epcis::Action::Add);
    assert_ne!(event_hash_id(&changed), event_hash_id(&original));
}
