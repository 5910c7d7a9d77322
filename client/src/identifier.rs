//! Identifiers a user types, as the CLI takes them: trace subjects refused with the CLI's own
//! wording, and the GTIN, lot and GLN cells of the CSV capture template.
//!
//! Owns only that wording and the template's cell forms (a bare 13-digit GLN). Deliberately
//! does not own what a subject is (`lotline_ledger::trace::Subject::parse`, which the node
//! calls too) nor GS1 syntax: check digits, AI character sets, link escaping and URN
//! conversion are `lotline_ledger::gs1`'s.

use lotline_ledger::trace::Subject;

use crate::error::Error;

/// The canonical Digital Link of a lot, item or pallet typed by a user, by the ledger's rule
/// ([`Subject::parse`]: a Digital Link on any host, an EPC URN, `GTIN/LOT`, `GTIN LOT` or
/// `(01)GTIN(10)LOT`); a refusal names the input and says what to give instead.
pub fn canonical_subject(input: &str) -> Result<String, Error> {
    Subject::parse(input).map(|subject| subject.link().to_owned()).map_err(|error| {
        Error::BadIdentifier { input: input.to_owned(), reason: error.to_string() }
    })
}

/// The Digital Link `https://id.gs1.org/01/<gtin14>/10/<lot>` of a template row's GTIN cell
/// (8, 12, 13 or 14 digits with a valid check digit, left-padded to 14) and lot cell (its
/// characters are checked by the GS1 parser the caller hands the result to, so each cell's
/// error names its own column).
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
    Ok(lotline_ledger::gs1::lot_link(&padded_gtin, lot))
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
    fn a_lot_cell_keeps_every_gs1_character_through_the_link() {
        let link = lot_digital_link("9506000134352", "A'B;C=D").unwrap();
        assert_eq!(
            lotline_ledger::gs1::parse_digital_link(&link).unwrap().qualifiers[0].value,
            "A'B;C=D"
        );
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
