//! Typed GS1 keys: GTIN (normalised to 14 digits), GLN, SSCC, and the other primary keys by AI.
//!
//! Owns construction of a key from its bare digits with length and check-digit validation, so a
//! `Gtin` value is always 14 digits with a correct check digit. It deliberately does not own URI
//! forms: `digital_link`, `epc` and `gs1::Identifier` turn keys into links.

use std::fmt;

use super::check_digit::{Mod10Failure, verify_mod10};
use super::dictionary::dictionary;
use super::error::Error;

fn checked_digits(
    digits: &str,
    key_type: &'static str,
    ai: &str,
    allowed_lengths: &[usize],
    expected: &'static str,
) -> Result<(), Error> {
    if !allowed_lengths.contains(&digits.len()) {
        return Err(Error::KeyLength { key_type, expected, found: digits.len() });
    }
    match verify_mod10(digits) {
        Ok(()) => Ok(()),
        Err(Mod10Failure::Incorrect { expected }) => {
            Err(Error::CheckDigit { ai: ai.to_owned(), expected })
        }
        Err(Mod10Failure::NonDigit | Mod10Failure::TooShort) => Err(Error::InvalidCharacter {
            ai: ai.to_owned(),
            character: digits.chars().find(|character| !character.is_ascii_digit()).unwrap_or(' '),
            charset: "numeric",
        }),
    }
}

/// A Global Trade Item Number, always held as 14 digits (GTIN-8/12/13 are left-padded).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gtin(String);

impl Gtin {
    /// Parses a GTIN-8, -12, -13 or -14 and normalises it to 14 digits.
    pub fn parse(digits: &str) -> Result<Gtin, Error> {
        checked_digits(digits, "gtin", "01", &[8, 12, 13, 14], "8, 12, 13 or 14")?;
        Ok(Gtin(format!("{digits:0>14}")))
    }

    /// The 14 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The indicator digit (packaging level) – the first of the 14 digits.
    pub fn indicator_digit(&self) -> char {
        self.0.chars().next().unwrap_or('0')
    }
}

impl fmt::Display for Gtin {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// A Global Location Number (13 digits), used for locations (AI 414) and parties (AI 417).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gln(String);

impl Gln {
    /// Parses 13 digits with a correct check digit.
    pub fn parse(digits: &str) -> Result<Gln, Error> {
        checked_digits(digits, "gln", "414", &[13], "13")?;
        Ok(Gln(digits.to_owned()))
    }

    /// The 13 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Gln {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// A Serial Shipping Container Code (18 digits) identifying a logistic unit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sscc(String);

impl Sscc {
    /// Parses 18 digits with a correct check digit.
    pub fn parse(digits: &str) -> Result<Sscc, Error> {
        checked_digits(digits, "sscc", "00", &[18], "18")?;
        Ok(Sscc(digits.to_owned()))
    }

    /// The 18 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sscc {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// The GS1 primary key types that can head a Digital Link (`dlpkey` in the dictionary).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum KeyType {
    /// AI 00, Serial Shipping Container Code.
    Sscc,
    /// AI 01, Global Trade Item Number.
    Gtin,
    /// AI 253, Global Document Type Identifier.
    Gdti,
    /// AI 255, Global Coupon Number (serialised: SGCN).
    Gcn,
    /// AI 401, Global Identification Number for Consignment.
    Ginc,
    /// AI 402, Global Shipment Identification Number.
    Gsin,
    /// AI 414, GLN of a physical location.
    Gln,
    /// AI 417, party GLN.
    PartyGln,
    /// AI 8003, Global Returnable Asset Identifier.
    Grai,
    /// AI 8004, Global Individual Asset Identifier.
    Giai,
    /// AI 8006, Identification of an Individual Trade Item Piece.
    Itip,
    /// AI 8010, Component/Part Identifier.
    Cpid,
    /// AI 8013, Global Model Number.
    Gmn,
    /// AI 8017, Global Service Relation Number – provider.
    GsrnProvider,
    /// AI 8018, Global Service Relation Number – recipient.
    GsrnRecipient,
}

impl KeyType {
    /// Every key type, in AI order.
    pub const ALL: [KeyType; 15] = [
        KeyType::Sscc,
        KeyType::Gtin,
        KeyType::Gdti,
        KeyType::Gcn,
        KeyType::Ginc,
        KeyType::Gsin,
        KeyType::Gln,
        KeyType::PartyGln,
        KeyType::Grai,
        KeyType::Giai,
        KeyType::Itip,
        KeyType::Cpid,
        KeyType::Gmn,
        KeyType::GsrnProvider,
        KeyType::GsrnRecipient,
    ];

    /// The AI of this key.
    pub fn ai(self) -> &'static str {
        match self {
            KeyType::Sscc => "00",
            KeyType::Gtin => "01",
            KeyType::Gdti => "253",
            KeyType::Gcn => "255",
            KeyType::Ginc => "401",
            KeyType::Gsin => "402",
            KeyType::Gln => "414",
            KeyType::PartyGln => "417",
            KeyType::Grai => "8003",
            KeyType::Giai => "8004",
            KeyType::Itip => "8006",
            KeyType::Cpid => "8010",
            KeyType::Gmn => "8013",
            KeyType::GsrnProvider => "8017",
            KeyType::GsrnRecipient => "8018",
        }
    }

    /// The key type of a primary-key AI.
    pub fn from_ai(ai: &str) -> Option<KeyType> {
        KeyType::ALL.into_iter().find(|key_type| key_type.ai() == ai)
    }
}

/// Any GS1 primary key, validated against the syntax dictionary (format and check digits).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PrimaryKey {
    /// Which key this is.
    pub key_type: KeyType,
    /// The value as it appears after the AI in an element string.
    pub value: String,
}

impl PrimaryKey {
    /// Validates `value` as a key of `key_type` (e.g. a GRAI's zero, N13 with check digit, serial).
    pub fn parse(key_type: KeyType, value: &str) -> Result<PrimaryKey, Error> {
        dictionary().validate(key_type.ai(), value)?;
        Ok(PrimaryKey { key_type, value: value.to_owned() })
    }
}
