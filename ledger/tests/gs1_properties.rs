//! Property tests of the `gs1` module: mod-10 check digits, EPC URN → Digital Link → EPC URN
//! round trips (sgtin, lgtin, sscc, sgln), and Digital Link generate → parse round trips.
//!
//! Owns only generated inputs; the vector-based tests live in the other `gs1_*` test files.

use lotline_ledger::gs1::{self, AiData, check_digit, digital_link, epc};
use proptest::prelude::*;

/// GS1 AI encodable character set 82 (values of AIs 10, 21, 254 …).
fn cset82_text(max_length: usize) -> impl Strategy<Value = String> {
    let characters: Vec<char> = check_digit::CSET_82.chars().collect();
    proptest::collection::vec(proptest::sample::select(characters), 1..=max_length)
        .prop_map(|characters| characters.into_iter().collect())
}

fn digits(length: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(0u8..10, length)
        .prop_map(|digits| digits.into_iter().map(|digit| char::from(b'0' + digit)).collect())
}

/// A company prefix length and the matching prefix and reference digits (`total` digits in all).
fn prefix_and_reference(total: usize) -> impl Strategy<Value = (usize, String, String)> {
    (6usize..=12).prop_flat_map(move |prefix_length| {
        (Just(prefix_length), digits(prefix_length), digits(total - prefix_length))
    })
}

proptest! {
    #[test]
    fn check_digit_detects_every_single_digit_error(
        body in (7usize..=17).prop_flat_map(digits),
        position_seed in any::<usize>(),
        replacement in 0u8..10,
    ) {
        let complete = check_digit::with_mod10_check_digit(&body).expect("numeric");
        prop_assert!(check_digit::verify_mod10(&complete).is_ok());
        let position = position_seed % complete.len();
        let mut altered: Vec<u8> = complete.clone().into_bytes();
        let replacement_byte = b'0' + replacement;
        prop_assume!(altered[position] != replacement_byte);
        altered[position] = replacement_byte;
        let altered = String::from_utf8(altered).expect("ascii");
        prop_assert!(check_digit::verify_mod10(&altered).is_err(), "{} vs {}", complete, altered);
    }

    #[test]
    fn sgtin_and_lgtin_round_trip(
        (prefix_length, company_prefix, item_reference) in prefix_and_reference(13),
        serial in cset82_text(20),
        class_level in any::<bool>(),
    ) {
        let urn = if class_level {
            format!("urn:epc:class:lgtin:{company_prefix}.{item_reference}.{}", epc::escape_urn_component(&serial))
        } else {
            format!("urn:epc:id:sgtin:{company_prefix}.{item_reference}.{}", epc::escape_urn_component(&serial))
        };
        let link = gs1::canonical_digital_link(&urn).expect("canonical link");
        prop_assert_eq!(gs1::digital_link_to_urn(&link, prefix_length), Ok(urn.clone()));
        let expected_qualifier = if class_level { "10" } else { "21" };
        let parsed = digital_link::parse(&link).expect("strictly valid");
        prop_assert_eq!(&parsed.qualifiers[0].ai, expected_qualifier);
        prop_assert_eq!(&parsed.qualifiers[0].value, &serial);
    }

    #[test]
    fn sscc_round_trip((prefix_length, company_prefix, serial_reference) in prefix_and_reference(17)) {
        let urn = format!("urn:epc:id:sscc:{company_prefix}.{serial_reference}");
        let link = gs1::canonical_digital_link(&urn).expect("canonical link");
        prop_assert_eq!(gs1::digital_link_to_urn(&link, prefix_length), Ok(urn));
    }

    #[test]
    fn sgln_round_trip(
        (prefix_length, company_prefix, location_reference) in prefix_and_reference(12),
        extension in prop_oneof![Just(String::from("0")), cset82_text(20)],
    ) {
        let urn = format!(
            "urn:epc:id:sgln:{company_prefix}.{location_reference}.{}",
            epc::escape_urn_component(&extension)
        );
        let link = gs1::canonical_digital_link(&urn).expect("canonical link");
        prop_assert_eq!(link.contains("/254/"), extension != "0");
        prop_assert_eq!(gs1::digital_link_to_urn(&link, prefix_length), Ok(urn));
    }

    #[test]
    fn generated_links_parse_back_to_the_same_ai_data(
        gtin_body in digits(13),
        lot in proptest::option::of(cset82_text(20)),
        serial in proptest::option::of(cset82_text(20)),
        expiry in proptest::option::of((0u32..100, 1u32..=12, 0u32..=28)),
        internal in proptest::option::of(cset82_text(30)),
        stem in prop_oneof![Just(None), Just(Some("https://brand.example.com/p"))],
    ) {
        let mut ai_data = AiData::new();
        ai_data.push("01", &check_digit::with_mod10_check_digit(&gtin_body).expect("numeric")).expect("push");
        if let Some(lot) = &lot { ai_data.push("10", lot).expect("push"); }
        if let Some(serial) = &serial { ai_data.push("21", serial).expect("push"); }
        if let Some((year, month, day)) = expiry {
            ai_data.push("17", &format!("{year:02}{month:02}{day:02}")).expect("push");
        }
        if let Some(internal) = &internal { ai_data.push("91", internal).expect("push"); }

        let uri = digital_link::generate(&ai_data, stem).expect("generate");
        let parsed = digital_link::parse(&uri).expect("parse generated link");
        let parsed_data = parsed.ai_data();
        prop_assert_eq!(parsed_data.elements().len(), ai_data.elements().len());
        for element in ai_data.elements() {
            prop_assert_eq!(parsed_data.get(&element.ai), Some(element.value.as_str()), "{}", uri);
        }
        // The bracketed form of the parsed data reads back to the same element string.
        let reparsed = gs1::parse_bracketed(&parsed_data.bracketed(), &gs1::Options::default()).expect("bracketed");
        prop_assert_eq!(reparsed.element_string(), parsed.element_string());
        // And the element string reads back to the same pairs, as a scanner's output would.
        let from_scan = gs1::parse_element_string(&parsed.element_string(), &gs1::Options::default())
            .expect("element string");
        prop_assert_eq!(from_scan, parsed_data);
    }

    #[test]
    fn arbitrary_input_never_panics_and_canonicalisation_is_idempotent(
        prefix in prop_oneof![
            Just(""),
            Just("https://id.gs1.org/01/"),
            Just("https://a/8006/"),
            Just("urn:epc:id:sgtin:"),
            Just("urn:epc:idpat:itip:"),
            Just("urn:epc:id:cpi:"),
            Just("(01)"),
            Just("^01"),
        ],
        tail in "[0-9A-Za-z%./?&=()^#:*'\\-]{0,40}|\\PC{0,20}",
        company_prefix_length in 0usize..20,
    ) {
        let input = format!("{prefix}{tail}");
        let options = gs1::Options::default();
        let _ = digital_link::parse(&input);
        let _ = gs1::parse_bracketed(&input, &options);
        let _ = gs1::parse_element_string(&input, &options);
        let _ = gs1::urn_to_ai_data(&input);
        let _ = gs1::digital_link_to_urn(&input, company_prefix_length);
        let _ = gs1::parse_dictionary(&input);
        // Canonicalisation is idempotent and agrees with classification.
        let canonical = gs1::canonical_digital_link(&input);
        if let Some(canonical) = &canonical {
            let recanonicalised = gs1::canonical_digital_link(canonical);
            prop_assert_eq!(recanonicalised.as_ref(), Some(canonical));
        }
        prop_assert_eq!(gs1::classify(&input).map(|identifier| identifier.to_canonical_link()), canonical);
    }
}
