//! GS1 check digits: the mod-10 digit of GTIN/GLN/SSCC/GSRN/GDTI… and the mod-1021 check
//! character pair of GMN/MUDI (`csumalpha`).
//!
//! Owns only the arithmetic over ASCII digits/characters. It deliberately does not know which AI
//! carries a check digit: the syntax dictionary says so through its `csum`/`csumalpha` linters.

/// GS1 AI encodable character set 82, in the order that defines each character's value for the
/// check character pair (GS1 General Specifications, figure 7.11-1).
pub const CSET_82: &str =
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

/// GS1 AI encodable character set 39 (`Y` components, e.g. CPID).
pub const CSET_39: &str = "#-/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// GS1 character set 32: the alphabet of the two check characters of `csumalpha`.
const CSET_32: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// Prime weights of the check character pair, applied from the rightmost data character leftwards.
const CHECK_PAIR_WEIGHTS: [u32; 23] =
    [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83];

/// Computes the GS1 mod-10 check digit for `digits` (all digits *except* the check digit).
///
/// From the rightmost digit leftwards, weights alternate 3, 1, 3, 1…; the check digit tops the
/// weighted sum up to a multiple of ten. Returns `None` when `digits` is empty or has a non-digit.
pub fn mod10_check_digit(digits: &str) -> Option<char> {
    if digits.is_empty() {
        return None;
    }
    let mut weighted_sum = 0u32;
    for (position_from_right, byte) in digits.bytes().rev().enumerate() {
        if !byte.is_ascii_digit() {
            return None;
        }
        let weight = if position_from_right % 2 == 0 { 3 } else { 1 };
        weighted_sum += u32::from(byte - b'0') * weight;
    }
    let check_value = (10 - weighted_sum % 10) % 10;
    char::from_digit(check_value, 10)
}

/// Why a mod-10 check failed, kept apart so callers can word the error for their context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mod10Failure {
    /// Fewer than two digits: there is no data to check.
    TooShort,
    /// A character other than `0`–`9`.
    NonDigit,
    /// The last digit is wrong; carries the digit that would be right.
    Incorrect {
        /// The check digit the data calls for.
        expected: char,
    },
}

/// Checks that the last digit of `digits` is the mod-10 check digit of the ones before it.
pub fn verify_mod10(digits: &str) -> Result<(), Mod10Failure> {
    if digits.is_empty() {
        return Err(Mod10Failure::TooShort);
    }
    if !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(Mod10Failure::NonDigit);
    }
    let (data, given) = digits.split_at(digits.len() - 1);
    if data.is_empty() {
        return Err(Mod10Failure::TooShort);
    }
    let expected = mod10_check_digit(data).ok_or(Mod10Failure::NonDigit)?;
    if given.starts_with(expected) { Ok(()) } else { Err(Mod10Failure::Incorrect { expected }) }
}

/// Appends the mod-10 check digit to `digits`; `None` when `digits` is empty or not numeric.
pub fn with_mod10_check_digit(digits: &str) -> Option<String> {
    let check_digit = mod10_check_digit(digits)?;
    let mut completed = String::with_capacity(digits.len() + 1);
    completed.push_str(digits);
    completed.push(check_digit);
    Some(completed)
}

/// Why a check character pair failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckPairFailure {
    /// Fewer than two characters: no room for the pair.
    TooShort,
    /// More data characters than there are prime weights (23).
    TooLong,
    /// A data character outside CSET 82.
    InvalidCharacter,
    /// The last two characters are not the pair computed from the data.
    Incorrect,
}

/// Computes the two check characters (from CSET 32) of `data` (CSET 82 characters).
pub fn check_character_pair(data: &str) -> Result<[char; 2], CheckPairFailure> {
    if data.len() > CHECK_PAIR_WEIGHTS.len() {
        return Err(CheckPairFailure::TooLong);
    }
    let mut weighted_sum = 0u32;
    for (weight, character) in CHECK_PAIR_WEIGHTS.iter().zip(data.chars().rev()) {
        let value = CSET_82.find(character).ok_or(CheckPairFailure::InvalidCharacter)?;
        weighted_sum += weight * value as u32;
    }
    let remainder = (weighted_sum % 1021) as usize;
    Ok([char::from(CSET_32[remainder / 32]), char::from(CSET_32[remainder % 32])])
}

/// Checks that `value` ends with the check character pair of the characters before it.
pub fn verify_check_character_pair(value: &str) -> Result<(), CheckPairFailure> {
    if value.chars().count() < 2 || !value.is_ascii() {
        return Err(if value.is_ascii() {
            CheckPairFailure::TooShort
        } else {
            CheckPairFailure::InvalidCharacter
        });
    }
    let (data, given_pair) = value.split_at(value.len() - 2);
    let expected_pair = check_character_pair(data)?;
    if given_pair.chars().eq(expected_pair) { Ok(()) } else { Err(CheckPairFailure::Incorrect) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worked_example_from_the_standards_summary() {
        assert_eq!(mod10_check_digit("0950600013435"), Some('2'));
        assert_eq!(verify_mod10("09506000134352"), Ok(()));
        assert_eq!(verify_mod10("09506000134353"), Err(Mod10Failure::Incorrect { expected: '2' }));
    }

    #[test]
    fn cset82_has_82_characters() {
        assert_eq!(CSET_82.len(), 82);
        assert_eq!(CSET_39.len(), 39);
        assert_eq!(CSET_32.len(), 32);
    }
}
