//! AI data: an ordered list of (AI, value) pairs, its bracketed form `(01)…(10)…` and its
//! element string form `^01…10…` (`^` = FNC1).
//!
//! Owns the pairing rules of the dictionary (`req=` / `ex=`), FNC1 placement and parsing of
//! bracketed AI data. It deliberately does not own URIs (see `digital_link`) or barcode
//! symbologies: the element string is the unencoded message text.

use std::fmt;

use super::Options;
use super::dictionary::{AiEntry, Charset, Component, Dictionary, dictionary};
use super::error::Error;

/// Maximum length of the value of an AI the dictionary does not list (when those are permitted).
const UNKNOWN_AI_MAX_LENGTH: usize = 90;

/// One AI with its value (unescaped, as it appears in the element string).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AiElement {
    /// The AI digits, e.g. `01`.
    pub ai: String,
    /// The value, e.g. `09506000134352`.
    pub value: String,
}

/// AI data in the order it was given; identical repeats are dropped, conflicting ones rejected.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AiData {
    /// The pairs in input order (order matters for element strings and DL query order).
    elements: Vec<AiElement>,
}

impl AiData {
    /// Empty AI data.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `(ai, value)`; a repeat with the same value is ignored, a different value is an error.
    pub fn push(&mut self, ai: &str, value: &str) -> Result<(), Error> {
        if let Some(existing) = self.get(ai) {
            return if existing == value {
                Ok(())
            } else {
                Err(Error::ConflictingValues { ai: ai.to_owned() })
            };
        }
        self.elements.push(AiElement { ai: ai.to_owned(), value: value.to_owned() });
        Ok(())
    }

    /// The value of `ai`, if present.
    pub fn get(&self, ai: &str) -> Option<&str> {
        self.elements.iter().find(|element| element.ai == ai).map(|element| element.value.as_str())
    }

    /// The pairs in order.
    pub fn elements(&self) -> &[AiElement] {
        &self.elements
    }

    /// Whether there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.elements.is_empty()
    }

    /// The element string: leading `^`, then `AI value` pairs with a `^` (FNC1) after every
    /// value whose AI is not of predefined length (`*` flag), except after the last one.
    pub fn element_string(&self) -> String {
        element_string_in(self, dictionary())
    }

    /// The bracketed form `(01)…(10)…`; literal `(` in values is escaped as `\(`.
    pub fn bracketed(&self) -> String {
        let mut bracketed = String::new();
        for element in &self.elements {
            bracketed.push('(');
            bracketed.push_str(&element.ai);
            bracketed.push(')');
            bracketed.push_str(&element.value.replace('(', "\\("));
        }
        bracketed
    }

    /// Checks the `req=` and `ex=` pairing rules of every known AI against the whole data.
    pub fn check_pairings(&self) -> Result<(), Error> {
        check_pairings_in(self, dictionary())
    }
}

impl fmt::Display for AiData {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.bracketed())
    }
}

/// [`AiData::element_string`] against a given dictionary.
pub fn element_string_in(ai_data: &AiData, dictionary: &Dictionary) -> String {
    let mut element_string = String::from("^");
    let last_index = ai_data.elements.len().saturating_sub(1);
    for (index, element) in ai_data.elements.iter().enumerate() {
        element_string.push_str(&element.ai);
        element_string.push_str(&element.value);
        let needs_separator = dictionary.entry(&element.ai).is_none_or(|entry| !entry.fixed_length);
        if needs_separator && index != last_index {
            element_string.push('^');
        }
    }
    element_string
}

/// [`AiData::check_pairings`] against a given dictionary.
pub fn check_pairings_in(ai_data: &AiData, dictionary: &Dictionary) -> Result<(), Error> {
    let present = |pattern: &super::dictionary::AiPattern| {
        ai_data.elements.iter().any(|element| pattern.matches(&element.ai))
    };
    for element in &ai_data.elements {
        let Some(entry) = dictionary.entry(&element.ai) else { continue };
        for requisite in &entry.requisites {
            let satisfied = requisite.iter().any(|group| group.iter().all(present));
            if !satisfied {
                let requirement = requisite
                    .iter()
                    .map(|group| {
                        group
                            .iter()
                            .map(|pattern| format!("({})", pattern.0))
                            .collect::<Vec<_>>()
                            .join("+")
                    })
                    .collect::<Vec<_>>()
                    .join(" or ");
                return Err(Error::MissingRequisite { ai: element.ai.clone(), requirement });
            }
        }
        for excluded in &entry.exclusions {
            if let Some(other) = ai_data
                .elements
                .iter()
                .find(|other| other.ai != element.ai && excluded.matches(&other.ai))
            {
                return Err(Error::MutuallyExclusive {
                    ai: element.ai.clone(),
                    other: other.ai.clone(),
                });
            }
        }
    }
    Ok(())
}

/// Whether `text` has the shape of an AI (2 to 4 digits).
pub fn is_ai_shaped(text: &str) -> bool {
    (2..=4).contains(&text.len()) && text.bytes().all(|byte| byte.is_ascii_digit())
}

/// The entry for an AI the dictionary does not list: CSET 82, up to 90 characters, FNC1 after.
pub fn unknown_ai_entry(ai: &str) -> AiEntry {
    AiEntry {
        ai: ai.to_owned(),
        fixed_length: false,
        dl_data_attribute: false,
        components: vec![Component {
            charset: Charset::Cset82,
            min_length: 1,
            max_length: UNKNOWN_AI_MAX_LENGTH,
            optional: false,
            linters: Vec::new(),
        }],
        format: format!("X..{UNKNOWN_AI_MAX_LENGTH}"),
        requisites: Vec::new(),
        exclusions: Vec::new(),
        dl_qualifier_sequences: None,
        title: String::from("UNKNOWN"),
    }
}

/// Validates one value: against its dictionary entry, or as an unknown AI when permitted.
pub fn validate_element(ai: &str, value: &str, options: &Options) -> Result<(), Error> {
    validate_element_in(ai, value, options, dictionary())
}

/// [`validate_element`] against a given dictionary (e.g. one loaded with `parse_dictionary`).
pub fn validate_element_in(
    ai: &str,
    value: &str,
    options: &Options,
    syntax_dictionary: &Dictionary,
) -> Result<(), Error> {
    if !is_ai_shaped(ai) {
        return Err(Error::MalformedAi { ai: ai.to_owned() });
    }
    match syntax_dictionary.entry(ai) {
        Some(entry) => entry.validate_value_with(value, !options.skip_linters),
        None if options.permit_unknown_ais => unknown_ai_entry(ai).validate_value(value),
        None => Err(Error::UnknownAi { ai: ai.to_owned() }),
    }
}

/// Parses bracketed AI data such as `(01)12345678901231(10)ABC`, validating every value.
///
/// A literal `(` inside a value is written `\(`. Pairing rules (`req=`/`ex=`) are not applied
/// here (a fragment of a message may be parsed); call [`AiData::check_pairings`] for that.
pub fn parse_bracketed(text: &str, options: &Options) -> Result<AiData, Error> {
    parse_bracketed_in(text, options, dictionary())
}

/// [`parse_bracketed`] against a given dictionary.
pub fn parse_bracketed_in(
    text: &str,
    options: &Options,
    syntax_dictionary: &Dictionary,
) -> Result<AiData, Error> {
    let bytes = text.as_bytes();
    let mut ai_data = AiData::new();
    let mut position = 0;
    if bytes.first() != Some(&b'(') {
        return Err(Error::Bracketed {
            position: 0,
            reason: "ai data must start with '(' and an ai",
        });
    }
    while position < bytes.len() {
        // Here bytes[position] == '('.
        let ai_start = position + 1;
        let Some(close_offset) = text[ai_start..].find(')') else {
            return Err(Error::Bracketed { position, reason: "ai is not terminated by ')'" });
        };
        let ai = &text[ai_start..ai_start + close_offset];
        if !is_ai_shaped(ai) {
            return Err(Error::MalformedAi { ai: ai.to_owned() });
        }
        let mut value = String::new();
        position = ai_start + close_offset + 1;
        while position < bytes.len() && bytes[position] != b'(' {
            if bytes[position] == b'\\' && bytes.get(position + 1) == Some(&b'(') {
                value.push('(');
                position += 2;
                continue;
            }
            let Some(character) = text[position..].chars().next() else { break };
            value.push(character);
            position += character.len_utf8();
        }
        validate_element_in(ai, &value, options, syntax_dictionary)?;
        ai_data.push(ai, &value)?;
    }
    Ok(ai_data)
}

/// Parses an element string as a scanner reports it: `^` is FNC1 (a leading `^` is the
/// symbology's initial FNC1 and optional); after an AI of predefined length (`*` flag) the value
/// has a fixed length, otherwise it runs to the next `^` or the end. AIs are found by prefix in
/// the dictionary (GS1 AIs are prefix-free), so AIs unknown to the dictionary cannot be read.
pub fn parse_element_string(text: &str, options: &Options) -> Result<AiData, Error> {
    parse_element_string_in(text, options, dictionary())
}

/// [`parse_element_string`] against a given dictionary.
pub fn parse_element_string_in(
    text: &str,
    options: &Options,
    syntax_dictionary: &Dictionary,
) -> Result<AiData, Error> {
    let mut ai_data = AiData::new();
    let mut position = usize::from(text.starts_with('^'));
    if position >= text.len() {
        return Err(Error::ElementString { position, reason: "no ai data" });
    }
    while position < text.len() {
        let rest = &text[position..];
        let entry = (2..=4)
            .filter_map(|length| rest.get(..length))
            .filter(|candidate| candidate.bytes().all(|byte| byte.is_ascii_digit()))
            .find_map(|candidate| syntax_dictionary.entry(candidate))
            .ok_or(Error::ElementString { position, reason: "expected a known ai" })?;
        let value_start = position + entry.ai.len();
        let value_end = if entry.fixed_length {
            let fixed_end = value_start + entry.max_length();
            if fixed_end > text.len() {
                return Err(Error::TooShort { ai: entry.ai.clone(), format: entry.format.clone() });
            }
            fixed_end
        } else {
            text[value_start..].find('^').map_or(text.len(), |offset| value_start + offset)
        };
        let value = text.get(value_start..value_end).ok_or(Error::ElementString {
            position: value_start,
            reason: "value is not on a character boundary",
        })?;
        validate_element_in(&entry.ai, value, options, syntax_dictionary)?;
        ai_data.push(&entry.ai, value)?;
        position = value_end;
        // A separator after the last variable-length value, or a redundant one after a
        // predefined-length value, is consumed; a separator must not start an empty field.
        if text[position..].starts_with('^') {
            position += 1;
            if position == text.len() {
                return Err(Error::ElementString { position, reason: "trailing fnc1" });
            }
        }
    }
    Ok(ai_data)
}
