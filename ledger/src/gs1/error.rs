//! The one error type of the `gs1` module.
//!
//! Owns the wording of every GS1 failure: each variant names the AI and the broken rule so that a
//! message like "AI (01): check digit is wrong, expected 2" can be shown to an operator as is.
//! It deliberately does not own recovery: callers decide whether a non-GS1 identifier is an error.

/// Why a GS1 identifier, AI element string, Digital Link or EPC URN was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A line of the syntax dictionary could not be understood.
    #[error("gs1 syntax dictionary line {line}: {reason}")]
    Dictionary {
        /// 1-based line number in the dictionary text.
        line: usize,
        /// What was wrong with the line.
        reason: String,
    },
    /// The AI is not listed in the syntax dictionary (and unknown AIs are not permitted).
    #[error("AI ({ai}) is not in the gs1 syntax dictionary")]
    UnknownAi {
        /// The AI digits as written.
        ai: String,
    },
    /// An AI must be 2 to 4 digits.
    #[error("AI ({ai}) is malformed: an AI is 2 to 4 digits")]
    MalformedAi {
        /// The text that was found where an AI was expected.
        ai: String,
    },
    /// The value of an AI is empty.
    #[error("AI ({ai}): value must not be empty")]
    EmptyValue {
        /// The AI whose value is empty.
        ai: String,
    },
    /// The value is shorter than the AI's format allows.
    #[error("AI ({ai}): value is too short, format is {format}")]
    TooShort {
        /// The AI being validated.
        ai: String,
        /// The dictionary format of the AI, e.g. `N14`.
        format: String,
    },
    /// The value is longer than the AI's format allows.
    #[error("AI ({ai}): value is too long, format is {format}")]
    TooLong {
        /// The AI being validated.
        ai: String,
        /// The dictionary format of the AI, e.g. `X..20`.
        format: String,
    },
    /// A character outside the character set of the component.
    #[error("AI ({ai}): character {character:?} is not allowed, the field is {charset}")]
    InvalidCharacter {
        /// The AI being validated.
        ai: String,
        /// The offending character.
        character: char,
        /// Human name of the allowed set, e.g. "numeric" or "cset 82".
        charset: &'static str,
    },
    /// A GS1 mod-10 check digit does not match.
    #[error("AI ({ai}): check digit is wrong, expected {expected}")]
    CheckDigit {
        /// The AI being validated (or the key name for bare keys, e.g. `GTIN`).
        ai: String,
        /// The check digit the data calls for.
        expected: char,
    },
    /// Another linter of the syntax dictionary rejected a component.
    #[error("AI ({ai}): {linter} check failed: {reason}")]
    Linter {
        /// The AI being validated.
        ai: String,
        /// The linter name from the dictionary, e.g. `yymmd0`.
        linter: &'static str,
        /// What the linter found.
        reason: &'static str,
    },
    /// The same AI appears twice with different values.
    #[error("AI ({ai}) appears twice with different values")]
    ConflictingValues {
        /// The repeated AI.
        ai: String,
    },
    /// The same AI appears twice where repetition is not allowed (DL path/query).
    #[error("AI ({ai}) appears more than once")]
    DuplicateAi {
        /// The repeated AI.
        ai: String,
    },
    /// A requisite pairing (`req=`) of the dictionary is not met.
    #[error("AI ({ai}) requires {requirement}")]
    MissingRequisite {
        /// The AI with the unmet requirement.
        ai: String,
        /// The alternatives, e.g. "(01) or (02) or (8006)".
        requirement: String,
    },
    /// An exclusion (`ex=`) of the dictionary is violated.
    #[error("AI ({ai}) cannot be used together with ({other})")]
    MutuallyExclusive {
        /// The AI that carries the exclusion.
        ai: String,
        /// The AI it excludes.
        other: String,
    },
    /// The URI does not start with `http://` or `https://` (all lower or all upper case).
    #[error("digital link: scheme must be http or https in one case, found {found:?}")]
    Scheme {
        /// The text before `://`, or the whole input when there is none.
        found: String,
    },
    /// The URI has no host.
    #[error("digital link: the uri has no host")]
    MissingHost,
    /// The host is not a valid domain name, IPv4 address or IP literal.
    #[error("digital link: host {host:?} is not valid")]
    InvalidHost {
        /// The authority part as written.
        host: String,
    },
    /// A character that may not appear in a URI at all.
    #[error("digital link: character {character:?} is not allowed in a uri")]
    IllegalUriCharacter {
        /// The offending character.
        character: char,
    },
    /// A control, bidirectional-formatting or whitespace character in an identifier: it would
    /// be signed forever and shown to people who cannot see it.
    #[error(
        "character U+{code:04X} is not allowed in an identifier (control, bidirectional-formatting and whitespace characters are refused)",
        code = u32::from(*character)
    )]
    IllegalIdentifierCharacter {
        /// The offending character.
        character: char,
    },
    /// A character outside ASCII in an EPC URN, whose grammar is ASCII only.
    #[error("epc urn: character U+{code:04X} is not ASCII", code = u32::from(*character))]
    NonAsciiEpcUrn {
        /// The offending character.
        character: char,
    },
    /// The path ends with `/` or contains `//`.
    #[error("digital link: path must not contain empty segments or end with '/'")]
    EmptyPathSegment,
    /// A percent-escape decodes to NUL.
    #[error("digital link: %00 is not allowed")]
    NulCharacter,
    /// No primary key AI was found at the end of the path.
    #[error("digital link: no gs1 primary key and value found at the end of the path")]
    NoPrimaryKey,
    /// A path AI after the primary key is not one of its qualifiers.
    #[error("AI ({ai}) is not a qualifier of primary key ({key})")]
    NotAQualifier {
        /// The AI found in the path.
        ai: String,
        /// The primary key AI.
        key: String,
    },
    /// Path qualifiers are out of order or mix alternative sequences.
    #[error("AI ({ai}) is not allowed after ({after}): qualifiers must be in order {order}")]
    QualifierOrder {
        /// The out-of-place qualifier.
        ai: String,
        /// The qualifier (or key) it follows.
        after: String,
        /// The permitted sequence(s), e.g. "22, 10, 21 or 235".
        order: String,
    },
    /// A query parameter is an AI that is not flagged as a Digital Link data attribute.
    #[error("AI ({ai}) is not permitted as a digital link data attribute")]
    NotADataAttribute {
        /// The AI used in the query string.
        ai: String,
    },
    /// A data attribute that belongs in the path as a qualifier of the key.
    #[error("AI ({ai}) is a qualifier of ({key}) and must be in the path, not the query")]
    QualifierAsAttribute {
        /// The AI found in the query string.
        ai: String,
        /// The primary key AI.
        key: String,
    },
    /// AI data for a Digital Link carries no primary key.
    #[error("ai data has no digital link primary key")]
    MissingPrimaryKey,
    /// Bracketed AI data such as `(01)…(10)…` is malformed.
    #[error("bracketed ai data at byte {position}: {reason}")]
    Bracketed {
        /// Byte offset where parsing stopped.
        position: usize,
        /// What was expected there.
        reason: &'static str,
    },
    /// An element string such as `^0109506000134352^10ABC` is malformed.
    #[error("element string at byte {position}: {reason}")]
    ElementString {
        /// Byte offset where parsing stopped.
        position: usize,
        /// What was expected there.
        reason: &'static str,
    },
    /// The Digital Link stem is not an http(s) URI without query or fragment.
    #[error("digital link stem {stem:?} must be an http(s) uri without query or fragment")]
    InvalidStem {
        /// The stem as given.
        stem: String,
    },
    /// An EPC URN scheme this module does not convert (e.g. `gid`, `usdod`).
    #[error("epc urn scheme {scheme:?} is not a gs1 key scheme supported here")]
    UnsupportedEpcScheme {
        /// The scheme, e.g. `urn:epc:id:gid`.
        scheme: String,
    },
    /// The EPC URN body does not follow the Tag Data Standard grammar for its scheme.
    #[error("epc urn {urn:?}: {reason}")]
    MalformedEpcUrn {
        /// The URN as given.
        urn: String,
        /// The broken TDS rule.
        reason: &'static str,
    },
    /// A GS1 company prefix length outside 6..=12 (or too long for the key).
    #[error("gs1 company prefix length {length} is not possible for this key")]
    CompanyPrefixLength {
        /// The requested length.
        length: usize,
    },
    /// The Digital Link has no EPC URN equivalent (e.g. only attributes, or an unmapped key).
    #[error("digital link key ({key}) has no epc urn form here")]
    NoEpcForm {
        /// The primary key AI (with qualifiers) that could not be mapped.
        key: String,
    },
    /// A bare GS1 key (GTIN, GLN, SSCC …) has the wrong length.
    #[error("{key_type} must be {expected} digits, found {found}")]
    KeyLength {
        /// Key name, e.g. "gtin".
        key_type: &'static str,
        /// Allowed length(s) as text, e.g. "8, 12, 13 or 14".
        expected: &'static str,
        /// Length found.
        found: usize,
    },
}
