//! What a trace starts from: a lot, an item or a pallet, as a user or client names it.
//!
//! Owns the one rule for what a user may type to name one (the node's query parameters and
//! the client's command line both call [`Subject::parse`]): a GS1 Digital Link on any host, an
//! EPC URN (`lgtin`, `sgtin`, `sscc`), or a GTIN and a lot written as `GTIN/LOT`,
//! `GTIN LOT` or `(01)GTIN(10)LOT`, each turned into the canonical Digital Link the index keys
//! on. Does not own identifier syntax or check digits (see [`crate::gs1`], called here).
//!
//! What a user types is held to the strict GS1 rules (check digits included), unlike the
//! identifiers inside events, which the event hash canonicalises without judging them: a
//! typo in a check digit is refused with its reason instead of answering "nothing recorded".

use super::facts::{self, ObjectKey, ObjectKind};
use crate::gs1;

/// A trace subject: a canonical Digital Link naming a lot, an item or a logistic unit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Subject {
    /// Canonical Digital Link (`https://id.gs1.org/01/<gtin14>/10/<lot>`, `…/21/<serial>`,
    /// `…/00/<sscc>`).
    link: String,
}

/// Why a subject could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SubjectError {
    /// Nothing was given.
    #[error("a trace subject must not be empty")]
    Empty,
    /// Not a GS1 Digital Link or EPC URN of a lot, item or logistic unit.
    #[error("{0:?} is not a GS1 Digital Link or EPC URN of a lot, an item or a pallet")]
    NotTraceable(String),
    /// A GTIN (or a link naming only a GTIN) names a product, not something traceable.
    #[error("{0:?} names a product, not a lot or an item; add /LOT")]
    ProductOnly(String),
    /// A Digital Link that breaks the standard's syntax or check-digit rules.
    #[error("{link:?} is not a valid GS1 Digital Link: {reason}")]
    BadDigitalLink {
        /// The link as written.
        link: String,
        /// The GS1 rule it breaks.
        reason: String,
    },
    /// A GTIN must be 8, 12, 13 or 14 digits with a valid check digit.
    #[error("{0:?} is not a GTIN (8, 12, 13 or 14 digits with a valid check digit)")]
    BadGtin(String),
    /// A lot number is a GS1 AI (10) value.
    #[error(
        "lot number {0:?} must be 1 to 20 characters of the GS1 set (letters, digits and !\"%&'()*+,-./:;<=>?_)"
    )]
    BadLot(String),
}

impl Subject {
    /// Parses what a user typed: a Digital Link (any host), an EPC URN, or a GTIN and a lot
    /// as `GTIN/LOT`, `GTIN LOT` or `(01)GTIN(10)LOT` (GTIN-8/12/13/14).
    ///
    /// `GTIN/LOT` is recognised only in text without a `:`, so a URN or a link is never split
    /// at its slashes; the lot is everything after the first `/`.
    pub fn parse(written: &str) -> Result<Self, SubjectError> {
        let trimmed = written.trim();
        if trimmed.is_empty() {
            return Err(SubjectError::Empty);
        }
        if let Some(rest) = trimmed.strip_prefix("(01)")
            && let Some((gtin, lot)) = rest.split_once("(10)")
        {
            return Self::from_gtin_and_lot(gtin, lot);
        }
        if let Some((gtin, lot)) = trimmed.split_once(char::is_whitespace)
            && gtin.bytes().all(|byte| byte.is_ascii_digit())
        {
            return Self::from_gtin_and_lot(gtin, lot.trim());
        }
        if !trimmed.contains(':')
            && let Some((gtin, lot)) = trimmed.split_once('/')
        {
            return Self::from_gtin_and_lot(gtin, lot);
        }
        if trimmed.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(SubjectError::ProductOnly(trimmed.to_owned()));
        }
        let is_web_link =
            trimmed.get(..4).is_some_and(|scheme| scheme.eq_ignore_ascii_case("http"));
        if is_web_link {
            gs1::parse_digital_link(trimmed).map_err(|error| SubjectError::BadDigitalLink {
                link: trimmed.to_owned(),
                reason: error.to_string(),
            })?;
        }
        let key = ObjectKey::parse(trimmed);
        match key.kind {
            ObjectKind::Lot | ObjectKind::Item | ObjectKind::LogisticUnit => {
                Ok(Self { link: key.link.to_string() })
            }
            ObjectKind::Class => Err(SubjectError::ProductOnly(trimmed.to_owned())),
            ObjectKind::Other => Err(SubjectError::NotTraceable(trimmed.to_owned())),
        }
    }

    /// The lot `gtin` + `lot` (GTIN-8/12/13/14, left-padded to 14 digits; the lot trimmed and
    /// held to the AI (10) rules: 1 to 20 characters of the GS1 set).
    pub fn from_gtin_and_lot(gtin: &str, lot: &str) -> Result<Self, SubjectError> {
        let gtin14 = normalise_gtin(gtin)?;
        let lot = lot.trim();
        let lot_is_valid = !lot.is_empty()
            && gs1::ai_data::validate_element("10", lot, &gs1::Options::default()).is_ok();
        if !lot_is_valid {
            return Err(SubjectError::BadLot(lot.to_owned()));
        }
        Ok(Self { link: facts::lot_link(&gtin14, lot) })
    }

    /// The canonical Digital Link.
    pub fn link(&self) -> &str {
        &self.link
    }
}

impl std::fmt::Display for Subject {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.link)
    }
}

impl std::str::FromStr for Subject {
    type Err = SubjectError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// GTIN-8/12/13/14 → 14 digits, check digit verified (GS1 mod-10).
pub fn normalise_gtin(gtin: &str) -> Result<String, SubjectError> {
    gs1::Gtin::parse(gtin.trim())
        .map(|gtin| gtin.as_str().to_owned())
        .map_err(|_| SubjectError::BadGtin(gtin.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CANONICAL_LOT: &str = "https://id.gs1.org/01/09506000134352/10/LOT42";

    fn link_of(written: &str) -> Result<String, SubjectError> {
        Subject::parse(written).map(|subject| subject.link().to_owned())
    }

    #[test]
    fn every_written_form_of_a_lot_is_the_same_canonical_link() {
        for written in [
            CANONICAL_LOT,
            "https://brand.example.com/01/09506000134352/10/LOT42?17=261231",
            "urn:epc:class:lgtin:9506000.013435.LOT42",
            "(01)09506000134352(10)LOT42",
            "09506000134352 LOT42",
            "9506000134352 LOT42",
            "09506000134352/LOT42",
            "9506000134352/LOT42",
            "  9506000134352/LOT42\n",
        ] {
            assert_eq!(link_of(written).as_deref(), Ok(CANONICAL_LOT), "{written}");
        }
        assert_eq!(
            link_of("urn:epc:class:lgtin:4012345.011111.1234").as_deref(),
            Ok("https://id.gs1.org/01/04012345111118/10/1234")
        );
        assert_eq!(
            link_of("09506000134352/A/B").as_deref(),
            Ok("https://id.gs1.org/01/09506000134352/10/A%2FB"),
            "the lot is everything after the first slash"
        );
    }

    #[test]
    fn what_cannot_name_a_lot_item_or_pallet_is_refused_with_its_reason() {
        assert_eq!(link_of("  "), Err(SubjectError::Empty));
        let product_only = link_of("09506000134352").unwrap_err();
        assert!(matches!(product_only, SubjectError::ProductOnly(_)));
        assert!(product_only.to_string().contains("add /LOT"), "{product_only}");
        assert!(matches!(
            link_of("https://id.gs1.org/01/09506000134352"),
            Err(SubjectError::ProductOnly(_))
        ));
        assert!(matches!(link_of("09506000134353/LOT42"), Err(SubjectError::BadGtin(_))));
        assert!(matches!(link_of("95060001343/LOT42"), Err(SubjectError::BadGtin(_))));
        assert!(matches!(link_of("0950600013435x/LOT42"), Err(SubjectError::BadGtin(_))));
        assert!(matches!(link_of("09506000134352/"), Err(SubjectError::BadLot(_))));
        assert!(matches!(link_of("09506000134352/LOT 4"), Err(SubjectError::BadLot(_))));
        assert!(matches!(
            link_of("09506000134352/ABCDEFGHIJKLMNOPQRSTU"),
            Err(SubjectError::BadLot(_))
        ));
        assert!(matches!(
            link_of("https://id.gs1.org/01/09506000134353/10/A"),
            Err(SubjectError::BadDigitalLink { .. })
        ));
        assert!(matches!(
            link_of("https://id.gs1.org/414/9506000134352"),
            Err(SubjectError::NotTraceable(_))
        ));
        let nonsense = link_of("not-a-lot").unwrap_err().to_string();
        assert!(nonsense.contains("not-a-lot"), "{nonsense}");
    }
}
