//! EPC URNs and Digital Links → the constrained canonical Digital Link of the EPCIS hash,
//! against `epc-urn-and-dl-to-canonical-dl.hashgen-v1.9.3.json` (234 pairs), read in place;
//! plus classification for the lot graph and DL → URN conversion.

use lotline_ledger::gs1::{self, Identifier};
use serde_json::Value;

const CANONICAL_PAIRS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/testdata/digitallink/epc-urn-and-dl-to-canonical-dl.hashgen-v1.9.3.json"
);

fn pairs() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(CANONICAL_PAIRS).expect("canonical pairs");
    let value: Value = serde_json::from_str(&text).expect("json");
    value
        .as_array()
        .expect("array")
        .iter()
        .map(|pair| {
            (
                pair["input"].as_str().unwrap_or_default().to_owned(),
                pair["canonical_dl"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn all_canonical_pairs_reproduce() {
    let pairs = pairs();
    assert_eq!(pairs.len(), 234);
    let failures: Vec<String> = pairs
        .iter()
        .filter_map(|(input, expected)| {
            let canonical = gs1::canonical_digital_link(input);
            (canonical.as_deref() != Some(expected.as_str()))
                .then(|| format!("{input}: got {canonical:?} expected {expected}"))
        })
        .collect();
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn classification_agrees_with_the_canonical_link() {
    for (input, expected) in pairs() {
        let identifier = gs1::classify(&input).unwrap_or_else(|| panic!("{input} classifies"));
        assert_eq!(identifier.to_canonical_link(), expected, "{input}");
        assert_eq!(gs1::canonical_digital_link(&expected).as_ref(), Some(&expected), "idempotent");
    }
}

#[test]
fn classify_names_the_lot_graph_kinds() {
    assert_eq!(
        gs1::classify("urn:epc:class:lgtin:4012345.012345.Lot987"),
        Some(Identifier::Lot { gtin: "04012345123456".into(), lot: "Lot987".into() })
    );
    assert_eq!(
        gs1::classify("https://example.com/01/09506000134352/10/L1/21/S1"),
        Some(Identifier::Item { gtin: "09506000134352".into(), serial: "S1".into() })
    );
    assert_eq!(
        gs1::classify("urn:epc:id:sgln:4012345.00011.0"),
        Some(Identifier::Location { gln: "4012345000115".into(), extension: None })
    );
    assert_eq!(
        gs1::classify("urn:epc:id:pgln:4012345.00225"),
        Some(Identifier::Party { gln: "4012345002256".into() })
    );
    assert_eq!(
        gs1::classify("urn:epc:id:sscc:4012345.0000000333"),
        Some(Identifier::LogisticUnit { sscc: "040123450000003338".into() })
    );
    assert!(matches!(
        gs1::classify("urn:epc:id:grai:4012345.55555.987"),
        Some(Identifier::Other(_))
    ));
    for not_gs1 in [
        "geo:47.506,19.273",
        "http://transaction.acme.com/po/1",
        "urn:uuid:4c2ad6a4-5b42-4b8f-8a0f-fb0e39bbf7f5",
    ] {
        assert_eq!(gs1::classify(not_gs1), None, "{not_gs1}");
        assert_eq!(gs1::canonical_digital_link(not_gs1), None, "{not_gs1}");
    }
}

#[test]
fn lot_link_matches_the_canonical_lgtin() {
    let urn = "urn:epc:class:lgtin:0614141.812345.6789%2F%26%25";
    let canonical = gs1::canonical_digital_link(urn).expect("lgtin");
    assert_eq!(gs1::lot_link("80614141123458", "6789/&%"), canonical);
}

#[test]
fn digital_link_to_urn_for_the_main_schemes() {
    let cases = [
        ("https://id.gs1.org/01/10614141073464/21/2017", 7, "urn:epc:id:sgtin:0614141.107346.2017"),
        (
            "https://id.gs1.org/01/04012345123456/10/Lot%2F1",
            7,
            "urn:epc:class:lgtin:4012345.012345.Lot%2F1",
        ),
        ("https://id.gs1.org/00/106141412345678908", 7, "urn:epc:id:sscc:0614141.1234567890"),
        ("https://id.gs1.org/414/4012345000054/254/122", 7, "urn:epc:id:sgln:4012345.00005.122"),
        ("https://id.gs1.org/414/4012345000115", 7, "urn:epc:id:sgln:4012345.00011.0"),
        ("https://id.gs1.org/417/4012345002256", 7, "urn:epc:id:pgln:4012345.00225"),
        (
            "https://id.gs1.org/01/04150567890128/21/987654",
            12,
            "urn:epc:id:sgtin:415056789012.0.987654",
        ),
    ];
    for (link, company_prefix_length, expected) in cases {
        assert_eq!(
            gs1::digital_link_to_urn(link, company_prefix_length).as_deref(),
            Ok(expected),
            "{link}"
        );
        // And back again.
        assert_eq!(gs1::canonical_digital_link(expected).as_deref(), Some(link), "{expected}");
    }
    assert!(gs1::digital_link_to_urn("https://id.gs1.org/01/10614141073464/21/2017", 13).is_err());
}

#[test]
fn urns_to_digital_links_on_other_stems() {
    assert_eq!(
        gs1::urn_to_digital_link(
            "urn:epc:id:sgtin:0614141.107346.2017",
            Some("https://brand.example")
        ),
        Ok("https://brand.example/01/10614141073464/21/2017".to_owned())
    );
    assert!(gs1::urn_to_ai_data("urn:epc:id:gid:95100000.12345.400").is_err());
    assert!(gs1::urn_to_ai_data("urn:epc:id:sgtin:0614141.10734.2017").is_err());
}
