//! What a trace starts from: a lot, an item or a pallet, as a user or client names it.
//!
//! Owns turning a GS1 Digital Link (any host), an EPC URN (`lgtin`, `sgtin`, `sscc`) or a
//! GTIN + lot into the canonical Digital Link the index keys on. Does not own identifier
//! syntax or check digits beyond that (see [`crate::gs1`]).

use super::facts::{self, CANONICAL_HOST, ObjectKey, ObjectKind};

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
        let key = match key.kind {
            ObjectKind::Other => ObjectKey::parse(&rehost(trimmed).unwrap_or_default()),
            _ => key,
        };
        match key.kind {
            ObjectKind::Lot | ObjectKind::Item | ObjectKind::LogisticUnit => {
                Ok(Self { link: key.link })
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

/// A Digital Link on another host, rewritten onto the canonical host: the path from its
/// rightmost `01` or `00` primary key on, without query string or fragment.
fn rehost(written: &str) -> Option<String> {
    let lowercase_scheme = written.get(..8)?.to_ascii_lowercase();
    if !(lowercase_scheme.starts_with("https://") || lowercase_scheme.starts_with("http://")) {
        return None;
    }
    let without_fragment = written.split('#').next()?;
    let without_query = without_fragment.split('?').next()?;
    let start =
        [without_query.rfind("/01/"), without_query.rfind("/00/")].into_iter().flatten().max()?;
    Some(format!("{CANONICAL_HOST}{}", &without_query[start + 1..]))
}

/// GTIN-8/12/13/14 → 14 digits, check digit verified (GS1 mod-10).
pub fn normalise_gtin(gtin: &str) -> Result<String, SubjectError> {
    let gtin = gtin.trim();
    let well_formed =
        matches!(gtin.len(), 8 | 12 | 13 | 14) && gtin.bytes().all(|byte| byte.is_ascii_digit());
    if !well_formed {
        return Err(SubjectError::BadGtin(gtin.to_owned()));
    }
    let padded = format!("{gtin:0>14}");
    let digits: Vec<u32> = padded.bytes().map(|byte| u32::from(byte - b'0')).collect();
    let (body, check) = digits.split_at(13);
    let weighted: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(position, digit)| if position % 2 == 0 { digit * 3 } else { *digit })
        .sum();
    if (10 - weighted % 10) % 10 != check[0] {
        return Err(SubjectError::BadGtin(gtin.to_owned()));
    }
    Ok(padded)
}
