//! The GS1 Barcode Syntax Dictionary, read by code: per-AI flags, components, linters, `req=`,
//! `ex=` and `dlpkey=` attributes.
//!
//! Owns parsing the dictionary text (`parse_dictionary`), the built-in copy staged by `build.rs`
//! (`dictionary()`, parsed once), and validating one AI value against its entry. It deliberately
//! does not know about Digital Link URIs or element strings: `ai_data` and `digital_link` ask it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use super::check_digit::{CSET_39, CSET_82};
use super::error::Error;
use super::linter::{LintFailure, Linter};

/// The dictionary text staged into `OUT_DIR` by `build.rs` (see `LOTLINE_GS1_SYNTAX_DICTIONARY`).
const BUILT_IN_DICTIONARY_TEXT: &str =
    include_str!(concat!(env!("OUT_DIR"), "/gs1-syntax-dictionary.txt"));

/// Character set of one component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    /// `N`: digits.
    Numeric,
    /// `X`: GS1 AI encodable character set 82.
    Cset82,
    /// `Y`: GS1 AI encodable character set 39.
    Cset39,
    /// `Z`: base64url (`A-Z a-z 0-9 - _`, with `=` padding).
    Base64Url,
}

impl Charset {
    /// Whether `character` belongs to the set.
    pub fn contains(self, character: char) -> bool {
        match self {
            Charset::Numeric => character.is_ascii_digit(),
            Charset::Cset82 => CSET_82.contains(character),
            Charset::Cset39 => CSET_39.contains(character),
            Charset::Base64Url => {
                character.is_ascii_alphanumeric() || matches!(character, '-' | '_' | '=')
            }
        }
    }

    /// Name used in error messages.
    pub fn describe(self) -> &'static str {
        match self {
            Charset::Numeric => "numeric",
            Charset::Cset82 => "cset 82",
            Charset::Cset39 => "cset 39",
            Charset::Base64Url => "base64url",
        }
    }
}

/// One component of an AI's value, e.g. `N13,csum` or the optional `[X..17]` of a GDTI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    /// Allowed characters; checked before any linter runs.
    pub charset: Charset,
    /// Minimum length (equals `max_length` for fixed-length components).
    pub min_length: usize,
    /// Maximum length; only the last component of an AI may be variable.
    pub max_length: usize,
    /// Optional components may be absent once the data is exhausted.
    pub optional: bool,
    /// Content checks of this component, in dictionary order.
    pub linters: Vec<Linter>,
}

/// A pattern over AIs as used by `req=`/`ex=`: digits, with `n` matching any digit (`310n`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AiPattern(pub String);

impl AiPattern {
    /// Whether `ai` matches this pattern.
    pub fn matches(&self, ai: &str) -> bool {
        self.0.len() == ai.len()
            && self.0.bytes().zip(ai.bytes()).all(|(pattern_byte, ai_byte)| {
                pattern_byte == ai_byte || (pattern_byte == b'n' && ai_byte.is_ascii_digit())
            })
    }
}

/// Everything the dictionary says about one AI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AiEntry {
    /// The AI digits.
    pub ai: String,
    /// `*` flag: predefined length, so no FNC1 separator follows it in an element string.
    pub fixed_length: bool,
    /// `?` flag: may be used as a Digital Link data attribute (query parameter).
    pub dl_data_attribute: bool,
    /// The value's components, in order.
    pub components: Vec<Component>,
    /// The specification text as written (used in error messages, e.g. `N14,csum,gcppos2`).
    pub format: String,
    /// Each `req=` attribute: one of its groups must be fully present (all AIs joined by `+`).
    pub requisites: Vec<Vec<Vec<AiPattern>>>,
    /// `ex=` attributes: AIs that must not appear together with this one.
    pub exclusions: Vec<AiPattern>,
    /// `dlpkey`: `Some` when this AI is a Digital Link primary key; holds the alternative
    /// ordered qualifier sequences (one empty sequence for a key without qualifiers).
    pub dl_qualifier_sequences: Option<Vec<Vec<String>>>,
    /// Title after `#`.
    pub title: String,
}

impl AiEntry {
    /// Whether this AI is a Digital Link primary key.
    pub fn is_dl_primary_key(&self) -> bool {
        self.dl_qualifier_sequences.is_some()
    }

    /// Whether `qualifier` appears in any qualifier sequence of this key.
    pub fn has_qualifier(&self, qualifier: &str) -> bool {
        self.dl_qualifier_sequences
            .iter()
            .flatten()
            .any(|sequence| sequence.iter().any(|candidate| candidate == qualifier))
    }

    /// Maximum total value length.
    pub fn max_length(&self) -> usize {
        self.components.iter().map(|component| component.max_length).sum()
    }

    /// Checks `value` against the components: lengths, character sets and supported linters.
    pub fn validate_value(&self, value: &str) -> Result<(), Error> {
        self.validate_value_with(value, true)
    }

    /// As [`AiEntry::validate_value`]; with `run_linters` false only lengths and character sets
    /// are checked (used to canonicalise identifiers whose check digit is wrong).
    pub fn validate_value_with(&self, value: &str, run_linters: bool) -> Result<(), Error> {
        if value.is_empty() {
            return Err(Error::EmptyValue { ai: self.ai.clone() });
        }
        let mut remaining = value;
        for component in &self.components {
            if remaining.is_empty() && component.optional {
                break;
            }
            let available = remaining.chars().count();
            if available < component.min_length {
                return Err(Error::TooShort { ai: self.ai.clone(), format: self.format.clone() });
            }
            let taken_chars = available.min(component.max_length);
            let split_at = remaining
                .char_indices()
                .nth(taken_chars)
                .map_or(remaining.len(), |(byte_index, _)| byte_index);
            let (component_value, rest) = remaining.split_at(split_at);
            if let Some(character) =
                component_value.chars().find(|character| !component.charset.contains(*character))
            {
                return Err(Error::InvalidCharacter {
                    ai: self.ai.clone(),
                    character,
                    charset: component.charset.describe(),
                });
            }
            for linter in component.linters.iter().filter(|_| run_linters) {
                linter.check(component_value).map_err(|failure| match failure {
                    LintFailure::CheckDigit { expected } => {
                        Error::CheckDigit { ai: self.ai.clone(), expected }
                    }
                    LintFailure::Rule(reason) => {
                        Error::Linter { ai: self.ai.clone(), linter: linter.name(), reason }
                    }
                })?;
            }
            remaining = rest;
        }
        if remaining.is_empty() {
            Ok(())
        } else {
            Err(Error::TooLong { ai: self.ai.clone(), format: self.format.clone() })
        }
    }
}

/// A parsed syntax dictionary: AI → entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dictionary {
    /// Entries by AI; AI ranges (`3100-3105`) are expanded to one entry per AI.
    entries: BTreeMap<String, AiEntry>,
    /// Linter names that occur in the dictionary but are not implemented here.
    unsupported_linters: BTreeSet<String>,
}

impl Dictionary {
    /// The entry of `ai`, if the dictionary lists it.
    pub fn entry(&self, ai: &str) -> Option<&AiEntry> {
        self.entries.get(ai)
    }

    /// All entries in AI order.
    pub fn entries(&self) -> impl Iterator<Item = &AiEntry> {
        self.entries.values()
    }

    /// Linter names present in the dictionary that this module skips.
    pub fn unsupported_linters(&self) -> &BTreeSet<String> {
        &self.unsupported_linters
    }

    /// Validates `value` for `ai`; unknown AIs are an error.
    pub fn validate(&self, ai: &str, value: &str) -> Result<(), Error> {
        self.entry(ai).ok_or_else(|| Error::UnknownAi { ai: ai.to_owned() })?.validate_value(value)
    }
}

/// The built-in dictionary (the file chosen at build time), parsed once on first use.
///
/// The staged file is checked by this crate's tests. A malformed replacement given through
/// `LOTLINE_GS1_SYNTAX_DICTIONARY` does not panic: it yields an empty dictionary (every AI is
/// then unknown, so nothing validates) and a `tracing` error naming the bad line.
pub fn dictionary() -> &'static Dictionary {
    static BUILT_IN: OnceLock<Dictionary> = OnceLock::new();
    BUILT_IN.get_or_init(|| {
        parse_dictionary(BUILT_IN_DICTIONARY_TEXT).unwrap_or_else(|parse_error| {
            tracing::error!(%parse_error, "built-in gs1 syntax dictionary is malformed");
            Dictionary { entries: BTreeMap::new(), unsupported_linters: BTreeSet::new() }
        })
    })
}

/// Parses the text of a GS1 Barcode Syntax Dictionary (the format of `gs1-syntax-dictionary.txt`).
pub fn parse_dictionary(text: &str) -> Result<Dictionary, Error> {
    let mut entries = BTreeMap::new();
    let mut unsupported_linters = BTreeSet::new();
    for (line_index, raw_line) in text.lines().enumerate() {
        let line_number = line_index + 1;
        let (content, title) = match raw_line.split_once('#') {
            Some((content, title)) => (content, title.trim()),
            None => (raw_line, ""),
        };
        if content.trim().is_empty() {
            continue;
        }
        let line_error = |reason: String| Error::Dictionary { line: line_number, reason };
        let mut tokens = content.split_whitespace().peekable();
        let ai_token = tokens.next().ok_or_else(|| line_error("missing ai".into()))?;
        let ai_codes =
            expand_ai_range(ai_token).ok_or_else(|| line_error(format!("bad ai {ai_token:?}")))?;

        let mut fixed_length = false;
        let mut dl_data_attribute = false;
        if let Some(flags) = tokens.next_if(|token| is_flags_token(token)) {
            fixed_length = flags.contains('*');
            dl_data_attribute = flags.contains('?');
        }

        let mut components = Vec::new();
        let mut format_parts = Vec::new();
        while let Some(component_token) = tokens.next_if(|token| is_component_token(token)) {
            let component = parse_component(component_token)
                .ok_or_else(|| line_error(format!("bad component {component_token:?}")))?;
            for linter in &component.linters {
                if let Linter::Unsupported(name) = linter {
                    unsupported_linters.insert(name.clone());
                }
            }
            format_parts.push(component_token);
            components.push(component);
        }
        if components.is_empty() {
            return Err(line_error("no format specification".into()));
        }

        let mut requisites = Vec::new();
        let mut exclusions = Vec::new();
        let mut dl_qualifier_sequences = None;
        for attribute in tokens {
            match attribute.split_once('=') {
                Some(("req", groups)) => requisites.push(
                    groups
                        .split(',')
                        .map(|group| group.split('+').map(|ai| AiPattern(ai.to_owned())).collect())
                        .collect(),
                ),
                Some(("ex", listed)) => {
                    exclusions.extend(listed.split(',').map(|ai| AiPattern(ai.to_owned())))
                }
                Some(("dlpkey", sequences)) => {
                    dl_qualifier_sequences = Some(
                        sequences
                            .split('|')
                            .map(|sequence| sequence.split(',').map(str::to_owned).collect())
                            .collect(),
                    )
                }
                None if attribute == "dlpkey" => dl_qualifier_sequences = Some(vec![Vec::new()]),
                // Attributes added by future dictionary releases are ignored, not fatal.
                _ => {}
            }
        }

        let format = format_parts.join(" ");
        for ai in ai_codes {
            entries.insert(
                ai.clone(),
                AiEntry {
                    ai,
                    fixed_length,
                    dl_data_attribute,
                    components: components.clone(),
                    format: format.clone(),
                    requisites: requisites.clone(),
                    exclusions: exclusions.clone(),
                    dl_qualifier_sequences: dl_qualifier_sequences.clone(),
                    title: title.to_owned(),
                },
            );
        }
    }
    Ok(Dictionary { entries, unsupported_linters })
}

/// `01` → [`01`]; `3100-3105` → [`3100` … `3105`].
fn expand_ai_range(token: &str) -> Option<Vec<String>> {
    let is_ai =
        |text: &str| (2..=4).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit());
    match token.split_once('-') {
        None => is_ai(token).then(|| vec![token.to_owned()]),
        Some((first, last)) => {
            if !is_ai(first) || !is_ai(last) || first.len() != last.len() {
                return None;
            }
            let first_number: u32 = first.parse().ok()?;
            let last_number: u32 = last.parse().ok()?;
            if first_number > last_number {
                return None;
            }
            let width = first.len();
            Some((first_number..=last_number).map(|number| format!("{number:0width$}")).collect())
        }
    }
}

fn is_flags_token(token: &str) -> bool {
    !token.is_empty() && !token.bytes().any(|byte| byte.is_ascii_alphanumeric())
}

fn is_component_token(token: &str) -> bool {
    let type_part = token.strip_prefix('[').unwrap_or(token);
    let mut characters = type_part.chars();
    matches!(characters.next(), Some('N' | 'X' | 'Y' | 'Z'))
        && matches!(characters.next(), Some('0'..='9' | '.'))
}

/// `N14,csum,gcppos2`, `[X..17]`, `[N3],iso3166`, `[N4,hhmi]`.
fn parse_component(token: &str) -> Option<Component> {
    let (optional, type_text, linter_text) = if let Some(bracketed) = token.strip_prefix('[') {
        let (inside, after) = bracketed.split_once(']')?;
        let (type_text, inner_linters) = inside.split_once(',').unwrap_or((inside, ""));
        let outer_linters = after.strip_prefix(',').unwrap_or(after);
        let linters = [inner_linters, outer_linters]
            .into_iter()
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(",");
        (true, type_text, linters)
    } else {
        let (type_text, linters) = token.split_once(',').unwrap_or((token, ""));
        (false, type_text, linters.to_owned())
    };
    let charset = match type_text.chars().next()? {
        'N' => Charset::Numeric,
        'X' => Charset::Cset82,
        'Y' => Charset::Cset39,
        'Z' => Charset::Base64Url,
        _ => return None,
    };
    let length_text = &type_text[1..];
    let (min_length, max_length) = match length_text.strip_prefix("..") {
        Some(maximum) => (1, maximum.parse().ok()?),
        None => {
            let fixed: usize = length_text.parse().ok()?;
            (fixed, fixed)
        }
    };
    let linters =
        linter_text.split(',').filter(|name| !name.is_empty()).map(Linter::from_name).collect();
    Some(Component { charset, min_length, max_length, optional, linters })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_dictionary_has_the_dl_primary_keys() {
        let gtin = dictionary().entry("01").expect("01 is in the dictionary");
        assert!(gtin.fixed_length && gtin.dl_data_attribute);
        assert_eq!(
            gtin.dl_qualifier_sequences,
            Some(vec![vec!["22".into(), "10".into(), "21".into()], vec!["235".into()]])
        );
        assert!(dictionary().entry("3105").is_some());
        assert!(dictionary().entry("3106").is_none());
    }
}
