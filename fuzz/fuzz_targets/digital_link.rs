//! Fuzz target `digital_link`: GS1 Digital Link parsing (`gs1::digital_link`), the constrained
//! canonical link of the EPCIS hash (`gs1::canonical_digital_link`, `gs1::classify`), EPC URN
//! ↔ Digital Link conversion (`gs1::epc`) and bracketed AI data (`gs1::parse_bracketed`).
//!
//! Owns the properties of identifiers: a canonical form is its own canonical form and parses
//! again to the same key; `classify` and `canonical_digital_link` agree; a parsed link
//! generates a link that parses to the same data; an EPC URN and the Digital Link made from it
//! have one canonical form (so an event hashes the same in XML and JSON-LD) and the link turns
//! back into a URN for the same data; AI data survives its bracketed and element-string forms.
//! Does not own where identifiers sit in events (`epcis_json`, `epcis_xml`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use lotline_ledger::gs1::{self, AiElement, Identifier, Options, digital_link, epc};

/// Everything the standard's non-default options allow: the widest reading of a link.
const PERMISSIVE: Options = Options {
    permit_convenience_alphas: true,
    permit_zero_suppressed_gtin: true,
    permit_unknown_ais: true,
    unknown_ai_as_dl_attribute: true,
    skip_linters: true,
};

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    check_canonical(text);
    for options in [Options::default(), PERMISSIVE] {
        check_parse_and_generate(text, &options);
    }
    check_urn(text);
    check_ai_data(text);
});

/// The canonical form is a fixed point, parses again, and every way to reach it agrees.
fn check_canonical(text: &str) {
    let canonical = gs1::canonical_digital_link(text);
    let classified = gs1::classify(text);
    assert_eq!(
        classified.as_ref().map(Identifier::to_canonical_link),
        canonical,
        "classify and canonical_digital_link disagree on {text:?}"
    );
    let with_link = gs1::classify_with_canonical_link(text)
        .map(|(identifier, link)| (identifier, link.into_owned()));
    assert_eq!(with_link, classified.clone().zip(canonical.clone()), "{text:?}");
    let (Some(canonical), Some(classified)) = (canonical, classified) else {
        return;
    };
    assert_eq!(
        gs1::canonical_digital_link(&canonical).as_deref(),
        Some(canonical.as_str()),
        "the canonical form of {text:?} is not its own canonical form"
    );
    assert_eq!(gs1::classify(&canonical), Some(classified), "{text:?} → {canonical:?}");
    let link = digital_link::parse_with(&canonical, &PERMISSIVE).unwrap_or_else(|error| {
        panic!("canonical {canonical:?} of {text:?} does not parse: {error}")
    });
    assert_eq!(link.stem, gs1::CANONICAL_STEM);
    assert!(link.attributes.is_empty(), "a canonical link has no query");
}

/// A parsed link generates a link on the same stem that parses to the same data.
fn check_parse_and_generate(text: &str, options: &Options) {
    let Ok(link) = digital_link::parse_with(text, options) else {
        return;
    };
    assert!(
        gs1::canonical_digital_link(text).is_some(),
        "{text:?} parses as a link but has no canonical form"
    );
    let generated = match digital_link::generate_with(&link.ai_data(), Some(&link.stem), options) {
        Ok(generated) => generated,
        // Generation puts in the path the first qualifier sequence that matches most of the
        // data, as the GS1 syntax engine does; when that is not the link's own sequence, one of
        // the link's path qualifiers is left over as a query attribute it may not be (the
        // engine's own vectors: `(01)…(235)ABC(10)DEF` does not generate although
        // `https://example.com/01/…/235/ABC?10=DEF` parses).
        Err(gs1::Error::NotADataAttribute { ai })
            if link.qualifiers.iter().any(|qualifier| qualifier.ai == ai) =>
        {
            return;
        }
        Err(error) => panic!("{text:?} parses but its data does not generate: {error}"),
    };
    let reparsed = digital_link::parse_with(&generated, options)
        .unwrap_or_else(|error| panic!("generated {generated:?} from {text:?}: {error}"));
    // A custom path may end in an empty segment (`https://a//01/…` has the stem `https://a/`);
    // generation writes a stem without its one trailing slash.
    let written_stem = link.stem.strip_suffix('/').unwrap_or(&link.stem);
    assert_eq!(reparsed.stem, written_stem, "{text:?} → {generated:?}");
    assert_eq!(reparsed.primary_key, link.primary_key, "{text:?} → {generated:?}");
    assert_eq!(reparsed.qualifiers, link.qualifiers, "{text:?} → {generated:?}");
    assert_eq!(sorted(&reparsed.attributes), sorted(&link.attributes), "{text:?} → {generated:?}");
    assert_eq!(
        gs1::canonical_digital_link(&generated),
        gs1::canonical_digital_link(text),
        "{text:?} → {generated:?}"
    );
}

fn sorted(elements: &[AiElement]) -> Vec<AiElement> {
    let mut elements = elements.to_vec();
    elements.sort_by(|first, second| first.ai.cmp(&second.ai));
    elements
}

/// An EPC URN, its Digital Link and the URN made back from that link name one key.
fn check_urn(text: &str) {
    let Ok(ai_data) = epc::urn_to_ai_data(text) else {
        return;
    };
    let Ok(link) = epc::urn_to_digital_link(text, None) else {
        return;
    };
    assert_eq!(
        gs1::canonical_digital_link(text),
        gs1::canonical_digital_link(&link),
        "the URN and its link {link:?} hash differently"
    );
    // TDS URNs (`urn:epc:<kind>:<scheme>:<fields>`) put the GS1 company prefix first, so its
    // length is the first field's.
    let body = text.splitn(5, ':').nth(4).unwrap_or_default();
    let company_prefix_length = body.split('.').next().unwrap_or_default().len();
    let urn = epc::digital_link_to_urn(&link, company_prefix_length)
        .unwrap_or_else(|error| panic!("{link:?} (from {text:?}) gives no URN: {error}"));
    let round_tripped = epc::urn_to_ai_data(&urn)
        .unwrap_or_else(|error| panic!("{urn:?} (from {text:?}) does not read: {error}"));
    assert_eq!(round_tripped, ai_data, "{text:?} → {link:?} → {urn:?}");
}

/// Bracketed AI data survives its bracketed and element-string forms and a generated link.
fn check_ai_data(text: &str) {
    let Ok(ai_data) = gs1::parse_bracketed(text, &Options::default()) else {
        return;
    };
    let bracketed = ai_data.bracketed();
    assert_eq!(gs1::parse_bracketed(&bracketed, &Options::default()).ok(), Some(ai_data.clone()));
    let element_string = ai_data.element_string();
    let from_element_string = gs1::parse_element_string(&element_string, &Options::default())
        .unwrap_or_else(|error| panic!("{element_string:?} from {text:?}: {error}"));
    assert_eq!(from_element_string, ai_data, "{text:?} → {element_string:?}");
    if let Ok(uri) = digital_link::generate(&ai_data, None) {
        let link = digital_link::parse(&uri)
            .unwrap_or_else(|error| panic!("generated {uri:?} from {text:?}: {error}"));
        assert_eq!(sorted(link.ai_data().elements()), sorted(ai_data.elements()), "{uri:?}");
    }
}
