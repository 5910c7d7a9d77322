//! The GS1 Barcode Syntax Tests ("linters") named in the syntax dictionary, e.g. `csum`, `yymmd0`.
//!
//! Owns content checks of one *component* of an AI value (the dictionary splits a value into
//! components and names the linters of each). It deliberately does not own length or character
//! set checks (those belong to the component, see `dictionary`), and it does not implement
//! linters that need external code lists or data sources (ISO 3166/4217 tables, the GS1 company
//! prefix database, coupon grammars): those are parsed as [`Linter::Unsupported`] and skipped.

use super::check_digit::{self, CheckPairFailure, Mod10Failure};

/// A linter named in the dictionary, resolved to an implementation when one exists here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Linter {
    /// GS1 mod-10 check digit over the whole component.
    Csum,
    /// Check character pair (mod 1021 over CSET 82, two CSET 32 characters).
    CsumAlpha,
    /// Date `YYMMDD`, day `00` allowed (means "end of month").
    Yymmd0,
    /// Date `YYMMDD`, day must exist.
    Yymmdd,
    /// Date `YYYYMMDD`.
    Yyyymmdd,
    /// Time `HHMI`.
    Hhmi,
    /// Hour `HH` (00–23).
    Hh,
    /// Minute `MI` (00–59).
    Mi,
    /// Second `SS` (00–59).
    Ss,
    /// `0` or `1`.
    YesNo,
    /// Exactly `0`.
    Zero,
    /// Any number other than zero.
    NonZero,
    /// Winding direction `0`, `1` or `9`.
    Winding,
    /// `PPTT`: piece number 1..=total, total ≥ 1.
    PieceOfTotal,
    /// No leading zero (unless the value is exactly `0`).
    NoZeroPrefix,
    /// At least one non-digit character.
    HasNonDigit,
    /// Only `-` characters.
    Hyphen,
    /// ISO/IEC 5218 sex code `0`, `1`, `2` or `9`.
    Iso5218,
    /// Latitude as 10 digits, at most 1800000000 (offset +90°, 7 decimals).
    Latitude,
    /// Longitude as 10 digits, at most 3600000000 (offset +180°, 7 decimals).
    Longitude,
    /// Every `%` starts a valid `%XX` escape.
    Pcenc,
    /// `N/M` position in sequence with 1 <= N <= M.
    PosInSeqSlash,
    /// One character of `-`, `0-9`, `A-Z`, `_`, `a-z`.
    ImporterIdx,
    /// IBAN structure and mod-97 check.
    Iban,
    /// GS1 company prefix position checks (`gcppos1`/`gcppos2`): need GCP length data, skipped.
    /// Anything else (code lists, coupon grammars) also lands here, by name.
    Unsupported(String),
}

/// Why a linter rejected a component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LintFailure {
    /// The mod-10 check digit is wrong; the right digit is given.
    CheckDigit {
        /// The digit the data calls for.
        expected: char,
    },
    /// Any other failure, worded as the broken rule.
    Rule(&'static str),
}

impl Linter {
    /// Resolves a dictionary linter name.
    pub fn from_name(name: &str) -> Linter {
        match name {
            "csum" => Linter::Csum,
            "csumalpha" => Linter::CsumAlpha,
            "yymmd0" => Linter::Yymmd0,
            "yymmdd" => Linter::Yymmdd,
            "yyyymmdd" => Linter::Yyyymmdd,
            "hhmi" => Linter::Hhmi,
            "hh" => Linter::Hh,
            "mi" => Linter::Mi,
            "ss" => Linter::Ss,
            "yesno" => Linter::YesNo,
            "zero" => Linter::Zero,
            "nonzero" => Linter::NonZero,
            "winding" => Linter::Winding,
            "pieceoftotal" => Linter::PieceOfTotal,
            "nozeroprefix" => Linter::NoZeroPrefix,
            "hasnondigit" => Linter::HasNonDigit,
            "hyphen" => Linter::Hyphen,
            "iso5218" => Linter::Iso5218,
            "latitude" => Linter::Latitude,
            "longitude" => Linter::Longitude,
            "pcenc" => Linter::Pcenc,
            "posinseqslash" => Linter::PosInSeqSlash,
            "importeridx" => Linter::ImporterIdx,
            "iban" => Linter::Iban,
            other => Linter::Unsupported(other.to_owned()),
        }
    }

    /// The dictionary name of this linter (static for use in error values).
    pub fn name(&self) -> &'static str {
        match self {
            Linter::Csum => "csum",
            Linter::CsumAlpha => "csumalpha",
            Linter::Yymmd0 => "yymmd0",
            Linter::Yymmdd => "yymmdd",
            Linter::Yyyymmdd => "yyyymmdd",
            Linter::Hhmi => "hhmi",
            Linter::Hh => "hh",
            Linter::Mi => "mi",
            Linter::Ss => "ss",
            Linter::YesNo => "yesno",
            Linter::Zero => "zero",
            Linter::NonZero => "nonzero",
            Linter::Winding => "winding",
            Linter::PieceOfTotal => "pieceoftotal",
            Linter::NoZeroPrefix => "nozeroprefix",
            Linter::HasNonDigit => "hasnondigit",
            Linter::Hyphen => "hyphen",
            Linter::Iso5218 => "iso5218",
            Linter::Latitude => "latitude",
            Linter::Longitude => "longitude",
            Linter::Pcenc => "pcenc",
            Linter::PosInSeqSlash => "posinseqslash",
            Linter::ImporterIdx => "importeridx",
            Linter::Iban => "iban",
            Linter::Unsupported(_) => "unsupported",
        }
    }

    /// Whether this linter is implemented (unsupported ones always pass).
    pub fn is_supported(&self) -> bool {
        !matches!(self, Linter::Unsupported(_))
    }

    /// Applies the linter to one component value.
    pub fn check(&self, component: &str) -> Result<(), LintFailure> {
        match self {
            Linter::Csum => lint_csum(component),
            Linter::CsumAlpha => lint_csumalpha(component),
            Linter::Yymmd0 => lint_yymmdd(component, true),
            Linter::Yymmdd => lint_yymmdd(component, false),
            Linter::Yyyymmdd => lint_yyyymmdd(component),
            Linter::Hhmi => lint_hhmi(component),
            Linter::Hh => lint_number_in_range(component, 2, 0, 23, "hour must be 00 to 23"),
            Linter::Mi => lint_number_in_range(component, 2, 0, 59, "minute must be 00 to 59"),
            Linter::Ss => lint_number_in_range(component, 2, 0, 59, "second must be 00 to 59"),
            Linter::YesNo => lint_one_of(component, &["0", "1"], "must be 0 or 1"),
            Linter::Zero => lint_one_of(component, &["0"], "must be 0"),
            Linter::NonZero => lint_nonzero(component),
            Linter::Winding => lint_one_of(component, &["0", "1", "9"], "must be 0, 1 or 9"),
            Linter::PieceOfTotal => lint_piece_of_total(component),
            Linter::NoZeroPrefix => lint_no_zero_prefix(component),
            Linter::HasNonDigit => lint_has_non_digit(component),
            Linter::Hyphen => lint_hyphen(component),
            Linter::Iso5218 => {
                lint_one_of(component, &["0", "1", "2", "9"], "must be 0, 1, 2 or 9")
            }
            Linter::Latitude => lint_bounded_coordinate(component, 1_800_000_000),
            Linter::Longitude => lint_bounded_coordinate(component, 3_600_000_000),
            Linter::Pcenc => lint_percent_encoding(component),
            Linter::PosInSeqSlash => lint_position_in_sequence(component),
            Linter::ImporterIdx => lint_importer_index(component),
            Linter::Iban => lint_iban(component),
            Linter::Unsupported(_) => Ok(()),
        }
    }
}

/// `csum`: the last digit is the GS1 mod-10 check digit of the others.
pub fn lint_csum(component: &str) -> Result<(), LintFailure> {
    match check_digit::verify_mod10(component) {
        Ok(()) => Ok(()),
        Err(Mod10Failure::TooShort) => Err(LintFailure::Rule("too short for a check digit")),
        Err(Mod10Failure::NonDigit) => Err(LintFailure::Rule("non-digit character")),
        Err(Mod10Failure::Incorrect { expected }) => Err(LintFailure::CheckDigit { expected }),
    }
}

/// `csumalpha`: the last two characters are the check character pair of the others.
pub fn lint_csumalpha(component: &str) -> Result<(), LintFailure> {
    check_digit::verify_check_character_pair(component).map_err(|failure| match failure {
        CheckPairFailure::TooShort => LintFailure::Rule("too short for a check character pair"),
        CheckPairFailure::TooLong => LintFailure::Rule("too long for a check character pair"),
        CheckPairFailure::InvalidCharacter => LintFailure::Rule("character outside cset 82"),
        CheckPairFailure::Incorrect => LintFailure::Rule("check character pair is wrong"),
    })
}

/// Parses a non-empty run of ASCII digits; `None` for anything else.
fn digits_value(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn days_in_month(year: u32, month: u32, two_digit_year: bool) -> u32 {
    let is_leap_year = if two_digit_year {
        // A YY year cannot tell 2000 from 2100; GS1 dates fall in a ±50 year window around today,
        // where every multiple of four is a leap year.
        year.is_multiple_of(4)
    } else {
        (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
    };
    match month {
        2 if is_leap_year => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `yymmdd` / `yymmd0`: a six-digit date.
pub fn lint_yymmdd(component: &str, day_zero_allowed: bool) -> Result<(), LintFailure> {
    if !component.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(LintFailure::Rule("non-digit character"));
    }
    match component.len() {
        length if length < 6 => return Err(LintFailure::Rule("date is too short")),
        length if length > 6 => return Err(LintFailure::Rule("date is too long")),
        _ => {}
    }
    check_date(&component[0..2], &component[2..4], &component[4..6], true, day_zero_allowed)
}

fn check_date(
    year_text: &str,
    month_text: &str,
    day_text: &str,
    two_digit_year: bool,
    day_zero_allowed: bool,
) -> Result<(), LintFailure> {
    let (Some(year), Some(month), Some(day)) =
        (digits_value(year_text), digits_value(month_text), digits_value(day_text))
    else {
        return Err(LintFailure::Rule("non-digit character"));
    };
    if !(1..=12).contains(&month) {
        return Err(LintFailure::Rule("illegal month"));
    }
    if day == 0 && day_zero_allowed {
        return Ok(());
    }
    if day == 0 || day > days_in_month(year, month, two_digit_year) {
        return Err(LintFailure::Rule("illegal day"));
    }
    Ok(())
}

/// `yyyymmdd`: an eight-digit date.
pub fn lint_yyyymmdd(component: &str) -> Result<(), LintFailure> {
    if component.len() != 8 || !component.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(LintFailure::Rule("date must be 8 digits"));
    }
    check_date(&component[0..4], &component[4..6], &component[6..8], false, false)
}

/// `hhmi`: four-digit time of day.
pub fn lint_hhmi(component: &str) -> Result<(), LintFailure> {
    if component.len() != 4 {
        return Err(LintFailure::Rule("time must be 4 digits"));
    }
    lint_number_in_range(&component[0..2], 2, 0, 23, "hour must be 00 to 23")?;
    lint_number_in_range(&component[2..4], 2, 0, 59, "minute must be 00 to 59")
}

fn lint_number_in_range(
    component: &str,
    width: usize,
    minimum: u32,
    maximum: u32,
    rule: &'static str,
) -> Result<(), LintFailure> {
    match digits_value(component) {
        Some(value) if component.len() == width && (minimum..=maximum).contains(&value) => Ok(()),
        _ => Err(LintFailure::Rule(rule)),
    }
}

fn lint_one_of(component: &str, allowed: &[&str], rule: &'static str) -> Result<(), LintFailure> {
    if allowed.contains(&component) { Ok(()) } else { Err(LintFailure::Rule(rule)) }
}

fn lint_nonzero(component: &str) -> Result<(), LintFailure> {
    if component.bytes().any(|byte| byte != b'0') {
        Ok(())
    } else {
        Err(LintFailure::Rule("must not be zero"))
    }
}

fn lint_piece_of_total(component: &str) -> Result<(), LintFailure> {
    let rule = "piece must be 01 to total, total at least 01";
    if component.len() != 4 {
        return Err(LintFailure::Rule(rule));
    }
    match (digits_value(&component[0..2]), digits_value(&component[2..4])) {
        (Some(piece), Some(total)) if piece >= 1 && total >= 1 && piece <= total => Ok(()),
        _ => Err(LintFailure::Rule(rule)),
    }
}

fn lint_no_zero_prefix(component: &str) -> Result<(), LintFailure> {
    if component.len() > 1 && component.starts_with('0') {
        Err(LintFailure::Rule("must not start with zero"))
    } else {
        Ok(())
    }
}

fn lint_has_non_digit(component: &str) -> Result<(), LintFailure> {
    if component.bytes().any(|byte| !byte.is_ascii_digit()) {
        Ok(())
    } else {
        Err(LintFailure::Rule("must contain a non-digit character"))
    }
}

fn lint_hyphen(component: &str) -> Result<(), LintFailure> {
    if component.bytes().all(|byte| byte == b'-') {
        Ok(())
    } else {
        Err(LintFailure::Rule("must be a hyphen"))
    }
}

fn lint_bounded_coordinate(component: &str, maximum: u64) -> Result<(), LintFailure> {
    let parsed = component
        .bytes()
        .all(|byte| byte.is_ascii_digit())
        .then(|| component.parse::<u64>().ok())
        .flatten();
    match parsed {
        Some(value) if component.len() == 10 && value <= maximum => Ok(()),
        _ => Err(LintFailure::Rule("coordinate out of range")),
    }
}

fn lint_percent_encoding(component: &str) -> Result<(), LintFailure> {
    let bytes = component.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let escape_is_valid = bytes.len() >= index + 3
                && bytes[index + 1].is_ascii_hexdigit()
                && bytes[index + 2].is_ascii_hexdigit();
            if !escape_is_valid {
                return Err(LintFailure::Rule("invalid percent escape"));
            }
            index += 3;
        } else {
            index += 1;
        }
    }
    Ok(())
}

fn lint_position_in_sequence(component: &str) -> Result<(), LintFailure> {
    let rule = "must be position/total with 1 <= position <= total";
    let Some((position_text, total_text)) = component.split_once('/') else {
        return Err(LintFailure::Rule(rule));
    };
    match (digits_value(position_text), digits_value(total_text)) {
        (Some(position), Some(total)) if position >= 1 && position <= total => Ok(()),
        _ => Err(LintFailure::Rule(rule)),
    }
}

fn lint_importer_index(component: &str) -> Result<(), LintFailure> {
    let is_valid = component.len() == 1
        && component
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
    if is_valid { Ok(()) } else { Err(LintFailure::Rule("invalid importer index")) }
}

fn lint_iban(component: &str) -> Result<(), LintFailure> {
    let bytes = component.as_bytes();
    let structure_ok = (5..=34).contains(&bytes.len())
        && bytes[0..2].iter().all(u8::is_ascii_uppercase)
        && bytes[2..4].iter().all(u8::is_ascii_digit)
        && bytes[4..].iter().all(|byte| byte.is_ascii_digit() || byte.is_ascii_uppercase());
    if !structure_ok {
        return Err(LintFailure::Rule("invalid iban structure"));
    }
    // Move the country code and check digits to the end, map letters to 10..35, reduce mod 97.
    let mut remainder = 0u32;
    for &byte in bytes[4..].iter().chain(&bytes[0..4]) {
        let value = if byte.is_ascii_digit() {
            u32::from(byte - b'0')
        } else {
            u32::from(byte - b'A') + 10
        };
        remainder = if value >= 10 {
            (remainder * 100 + value) % 97
        } else {
            (remainder * 10 + value) % 97
        };
    }
    if remainder == 1 { Ok(()) } else { Err(LintFailure::Rule("iban check digits are wrong")) }
}
