//! What a trace starts from: a lot, an item or a pallet, as a user or client names it.
//!
//! Owns turning a GS1 Digital Link (any host), an EPC URN (`lgtin`, `sgtin`, `sscc`) or a
//! GTIN + lot into the canonical Digital Link the index keys on. Does not own identifier
//! syntax or check digits beyond that (see [`crate::gs1`]).

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
    /// A GTIN must be 8, 12, 13 or 14 digits with a valid check digit.
    #[error("{0:?} is not a GTIN (8, 12, 13 or 14 digits with a valid check digit)")]
    BadGtin(String),
    /// A lot number must be 1 to 20 characters.
    #[error("lot number {0:?} must be 1 to 20 characters")]
    BadLot(String),
}

impl Subject {
    /// Parses a Digital Link (any host), an EPC URN, or `<gtin> <lot>` / `(01)<gtin>(10)<lot>`.
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
        let key = ObjectKey::parse(trimmed);
        match key.kind {
            ObjectKind::Lot | ObjectKind::Item | ObjectKind::LogisticUnit => {
                Ok(Self { link: key.link.to_string() })
            }
            ObjectKind::Class | ObjectKind::Other => {
                Err(SubjectError::NotTraceable(trimmed.to_owned()))
            }
        }
    }

    /// The lot `gtin` + `lot` (GTIN-8/12/13/14; shorter GTINs are left-padded to 14 digits).
    pub fn from_gtin_and_lot(gtin: &str, lot: &str) -> Result<Self, SubjectError> {
        let gtin14 = normalise_gtin(gtin)?;
        let lot = lot.trim();
        if lot.is_empty() || lot.chars().count() > 20 {
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
