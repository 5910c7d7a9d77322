//! What a user may type to name a lot or an item (a GS1 Digital Link on any host, an EPC URN,
//! or `GTIN/LOT`) turned into the constrained canonical Digital Link the node and the answers
//! use (`https://id.gs1.org/01/<gtin14>/10/<lot>`).
//!
//! Owns only the `GTIN/LOT` shorthand and the wording of the refusal. Deliberately does not own
//! GS1 syntax: check digits, AI character sets and URN conversion are `lotline_ledger::gs1`'s.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::error::Error;

/// Characters percent-encoded in a Digital Link path value: everything except the RFC 3986
/// unreserved set, as the Digital Link standard requires.
pub(crate) const DIGITAL_LINK_PATH_VALUE: &AsciiSet =
    &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// The canonical Digital Link of a lot or item identifier typed by a user.
///
/// Accepts a Digital Link on any host, an EPC URN (`urn:epc:class:lgtin:…`,
/// `urn:epc:id:sgtin:…`, `urn:epc:id:sscc:…`) or `GTIN/LOT` (GTIN-8, -12, -13 or -14).
pub fn canonical_subject(input: &str) -> Result<String, Error> {
    let trimmed_input = input.trim();
    let refuse =
        |reason: &str| Error::BadIdentifier { input: input.to_owned(), reason: reason.to_owned() };
    if trimmed_input.is_empty() {
        return Err(refuse("it is empty"));
    }
    let looks_like_uri = trimmed_input.contains("://") || trimmed_input.starts_with("urn:");
    let digital_link = if looks_like_uri {
        // Canonicalisation tolerates wrong check digits (the EPCIS hash must); a user's input
        // gets the strict rules first.
        if !trimmed_input.starts_with("urn:") {
            lotline_ledger::gs1::parse_digital_link(trimmed_input)
                .map_err(|error| refuse(&error.to_string()))?;
        }
        trimmed_input.to_owned()
    } else {
        let (gtin, lot) = trimmed_input
            .split_once('/')
            .ok_or_else(|| refuse("a GTIN alone names a product, not a lot; add /LOT"))?;
        lot_digital_link(gtin, lot).map_err(|reason| refuse(&reason))?
    };
    lotline_ledger::gs1::canonical_digital_link(&digital_link).ok_or_else(|| {
        refuse(if looks_like_uri {
            "not a valid GS1 Digital Link or EPC URN of a GS1 key"
        } else {
            "the GTIN check digit or the lot characters are not valid"
        })
    })
}

/// The Digital Link `https://id.gs1.org/01/<gtin14>/10/<lot>` of a GTIN (8, 12, 13 or 14
/// digits with a valid check digit, left-padded to 14) and a lot (its characters are checked
/// by the GS1 parser the caller hands the result to).
pub fn lot_digital_link(gtin: &str, lot: &str) -> Result<String, String> {
    let gtin = gtin.trim();
    let is_gtin_length = matches!(gtin.len(), 8 | 12 | 13 | 14);
    if !is_gtin_length || !gtin.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(format!("{gtin:?} is not a GTIN (8, 12, 13 or 14 digits)"));
    }
    let padded_gtin = format!("{gtin:0>14}");
    lotline_ledger::gs1::Gtin::parse(&padded_gtin)
        .map_err(|error| format!("{gtin:?} is not a valid GTIN: {error}"))?;
    if lot.is_empty() {
        return Err("the lot is empty".to_owned());
    }
    let encoded_lot = utf8_percent_encode(lot, DIGITAL_LINK_PATH_VALUE);
    Ok(format!("https://id.gs1.org/01/{padded_gtin}/10/{encoded_lot}"))
}

/// The Digital Link `https://id.gs1.org/414/<gln>` of a 13-digit GLN, or the canonical form of
/// a location already written as a Digital Link or SGLN URN; `None` when it is neither.
pub fn location_digital_link(location: &str) -> Option<String> {
    let location = location.trim();
    let candidate = if location.len() == 13 && location.bytes().all(|byte| byte.is_ascii_digit()) {
        lotline_ledger::gs1::Gln::parse(location).ok()?;
        format!("https://id.gs1.org/414/{location}")
    } else {
        if location.starts_with("http") {
            lotline_ledger::gs1::parse_digital_link(location).ok()?;
        }
        location.to_owned()
    };
    lotline_ledger::gs1::canonical_digital_link(&candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gtin_lot_shorthand_pads_the_gtin_and_encodes_the_lot() {
        assert_eq!(
            lot_digital_link("9506000134352", "LOT 4/2").as_deref(),
            Ok("https://id.gs1.org/01/09506000134352/10/LOT%204%2F2")
        );
        assert!(lot_digital_link("95060001343", "LOT").is_err());
        assert!(lot_digital_link("0950600013435x", "LOT").is_err());
        assert!(lot_digital_link("09506000134352", "").is_err());
        assert!(lot_digital_link("09506000134353", "LOT").is_err(), "wrong check digit");
    }

    #[test]
    fn a_gtin_without_a_lot_is_refused_with_a_hint() {
        let error = canonical_subject("09506000134352").unwrap_err();
        assert!(error.to_string().contains("add /LOT"), "{error}");
        assert!(canonical_subject("  ").is_err());
        assert!(canonical_subject("https://id.gs1.org/01/09506000134353/10/A").is_err());
    }

    #[test]
    fn every_accepted_form_becomes_the_same_canonical_lot() {
        let canonical_lot = "https://id.gs1.org/01/09506000134352/10/LOT42";
        for input in [
            "09506000134352/LOT42",
            "9506000134352/LOT42",
            "https://brand.example.com/01/09506000134352/10/LOT42?17=261231",
            canonical_lot,
        ] {
            assert_eq!(canonical_subject(input).unwrap(), canonical_lot, "{input}");
        }
        assert_eq!(
            canonical_subject("urn:epc:class:lgtin:4012345.011111.1234").unwrap(),
            "https://id.gs1.org/01/04012345111118/10/1234"
        );
        assert_eq!(
            location_digital_link("4012345000115").as_deref(),
            Some("https://id.gs1.org/414/4012345000115")
        );
        assert_eq!(location_digital_link("4012345000116"), None);
    }
}
