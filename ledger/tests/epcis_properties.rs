//! Property tests of the EPCIS model, the JSON-LD binding and the Event Hash ID on generated
//! events of every type: JSON round trips keep the model and the hash id; the hash ignores list
//! order and extension order but not content.
//!
//! Owns only generated inputs; vector tests live in `epcis_hash.rs` and `epcis_json.rs`.

mod epcis_support;

use lotline_ledger::epcis::{self, Event, VocabularyValue, cbv::VocabularyKind, event_hash_id};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn generated_events_are_valid(event in epcis_support::arb_event()) {
        prop_assert!(epcis::validate::validate_event(&event).is_ok(), "{:?}", epcis::validate::validate_event(&event));
    }

    #[test]
    fn event_json_round_trip_keeps_model_and_hash(event in epcis_support::arb_event()) {
        let value = epcis::event_to_json_ld(&event);
        let reparsed = epcis::parse_event_json(&value, &[]);
        prop_assert!(reparsed.is_ok(), "{:?}\n{}", reparsed, value);
        let reparsed = reparsed.unwrap();
        prop_assert_eq!(event_hash_id(&reparsed), event_hash_id(&event));
        prop_assert_eq!(reparsed, event);
    }

    #[test]
    fn document_json_round_trip_keeps_model_and_hashes(document in epcis_support::arb_document()) {
        let text = epcis::to_json_ld_string(&document);
        let reparsed = epcis::parse_document(text.as_bytes());
        prop_assert!(reparsed.is_ok(), "{:?}\n{}", reparsed, text);
        let reparsed = reparsed.unwrap();
        for (before, after) in document.events.iter().zip(&reparsed.events) {
            prop_assert_eq!(event_hash_id(before), event_hash_id(after));
        }
        prop_assert_eq!(reparsed, document);
    }

    #[test]
    fn hash_ignores_list_and_extension_order(event in epcis_support::arb_event()) {
        let mut reordered: Event = event.clone();
        for list in [&mut reordered.epc_list, &mut reordered.child_epcs, &mut reordered.input_epc_list, &mut reordered.output_epc_list].into_iter().flatten() {
            list.reverse();
        }
        reordered.quantity_list.reverse();
        reordered.input_quantity_list.reverse();
        reordered.biz_transaction_list.reverse();
        reordered.source_list.reverse();
        reordered.destination_list.reverse();
        reordered.sensor_element_list.reverse();
        reordered.extensions.reverse();
        if let Some(ilmd) = reordered.ilmd.as_mut() {
            ilmd.reverse();
        }
        prop_assert_eq!(event_hash_id(&reordered), event_hash_id(&event));
    }

    #[test]
    fn hostile_input_is_an_error_not_a_panic(bytes in prop::collection::vec(any::<u8>(), 0..200), text in "\\PC{0,40}") {
        let _ = epcis::parse_document(&bytes);
        let _ = epcis::json::parse_document(text.as_bytes());
        let _ = epcis::Timestamp::parse(&text);
        let _ = epcis::Decimal::parse(&text);
        let wrapped = format!(r#"{{"@context":[],"type":"EPCISDocument","schemaVersion":"2.0","creationDate":"{text}","epcisBody":{{"eventList":[{{"type":"ObjectEvent","eventTime":"{text}"}}]}}}}"#);
        prop_assert!(epcis::parse_document(wrapped.as_bytes()).is_err());
    }

    #[test]
    fn mutated_valid_documents_never_panic(document in epcis_support::arb_document(), cut in 0usize..4000) {
        let text = epcis::to_json_ld_string(&document);
        let cut = cut.min(text.len());
        let truncated = &text.as_bytes()[..cut];
        let result = epcis::parse_document(truncated);
        prop_assert!(cut == text.len() || result.is_err());
    }

    #[test]
    fn hash_changes_when_content_changes(event in epcis_support::arb_event()) {
        let mut changed = event.clone();
        changed.biz_step = match &event.biz_step {
            Some(value) if value.written == "receiving" => Some(VocabularyValue::new(VocabularyKind::BizStep, "shipping")),
            _ => Some(VocabularyValue::new(VocabularyKind::BizStep, "receiving")),
        };
        prop_assert_ne!(event_hash_id(&changed), event_hash_id(&event));
        let mut moved = event.clone();
        moved.event_time_zone_offset = if event.event_time_zone_offset == "+03:00" { "+04:00".into() } else { "+03:00".into() };
        prop_assert_ne!(event_hash_id(&moved), event_hash_id(&event));
    }
}

#[test]
fn strategies_have_material() {
    assert!(epcis_support::vocabulary_lists_are_usable());
}
