//! GS1 Digital Link URIs on any domain: parse into AI data, generate from AI data, and the
//! percent-escaping rules of path and query components.
//!
//! Owns the URI grammar (scheme, host, optional custom path, rightmost primary key with its
//! qualifiers in `dlpkey` order, query data attributes). It deliberately does not own AI formats
//! (the dictionary does) nor EPC URNs (`epc`) nor the constrained canonical form used by the
//! EPCIS hash (`gs1::canonical_digital_link`).

use super::Options;
use super::ai_data::{self, AiData, AiElement};
use super::dictionary::{AiEntry, Dictionary, dictionary};
use super::error::Error;

/// The canonical stem used when none is given: the GS1 resolver.
pub const CANONICAL_STEM: &str = "https://id.gs1.org";

/// Path convenience names of the DL URI standard (accepted only with
/// [`Options::permit_convenience_alphas`]; never generated).
const CONVENIENCE_ALPHAS: [(&str, &str); 22] = [
    ("gtin", "01"),
    ("itip", "8006"),
    ("cpid", "8010"),
    ("gln", "414"),
    ("party", "417"),
    ("gsrnp", "8017"),
    ("gsrn", "8018"),
    ("gcn", "255"),
    ("sscc", "00"),
    ("gdti", "253"),
    ("ginc", "401"),
    ("gsin", "402"),
    ("grai", "8003"),
    ("giai", "8004"),
    ("gmn", "8013"),
    ("cpv", "22"),
    ("lot", "10"),
    ("ser", "21"),
    ("tpx", "235"),
    ("glnx", "254"),
    ("srin", "8019"),
    ("cpsn", "8011"),
];

/// A parsed Digital Link: where it points and the AI data it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigitalLink {
    /// Scheme, host and any custom path before the primary key, e.g. `https://brand.example/p`.
    pub stem: String,
    /// The primary key (rightmost `dlpkey` AI in the path).
    pub primary_key: AiElement,
    /// Key qualifiers from the path, in path order.
    pub qualifiers: Vec<AiElement>,
    /// Data attributes from the query string, in query order (non-AI parameters are dropped).
    pub attributes: Vec<AiElement>,
}

impl DigitalLink {
    /// All AI data: key, qualifiers, then attributes.
    pub fn ai_data(&self) -> AiData {
        let mut ai_data = AiData::new();
        for element in
            std::iter::once(&self.primary_key).chain(&self.qualifiers).chain(&self.attributes)
        {
            // Parsing rejected duplicates already; identical repeats cannot occur.
            let _ = ai_data.push(&element.ai, &element.value);
        }
        ai_data
    }

    /// The element string (`^01…`), as a barcode carrying the same data would hold it.
    pub fn element_string(&self) -> String {
        self.ai_data().element_string()
    }

    /// `{"element_string": "^01…", "ai": {"01": "…", …}}` with AIs in key, qualifier, attribute
    /// order: the shape of `lotline dl parse URI --json`.
    pub fn to_json(&self) -> serde_json::Value {
        let ai_map: serde_json::Map<String, serde_json::Value> = self
            .ai_data()
            .elements()
            .iter()
            .map(|element| (element.ai.clone(), serde_json::Value::String(element.value.clone())))
            .collect();
        serde_json::json!({ "element_string": self.element_string(), "ai": ai_map })
    }
}

/// Parses a Digital Link URI with the strict default [`Options`].
pub fn parse(uri: &str) -> Result<DigitalLink, Error> {
    parse_with(uri, &Options::default())
}

/// Parses a Digital Link URI on any domain into its key, qualifiers and data attributes.
pub fn parse_with(uri: &str, options: &Options) -> Result<DigitalLink, Error> {
    parse_in(uri, options, dictionary())
}

/// [`parse_with`] against a given syntax dictionary (e.g. a newer release loaded at run time).
pub fn parse_in(
    uri: &str,
    options: &Options,
    syntax_dictionary: &Dictionary,
) -> Result<DigitalLink, Error> {
    if let Some(character) = uri.chars().find(|character| !is_uri_character(*character)) {
        return Err(Error::IllegalUriCharacter { character });
    }
    let (scheme, after_scheme) = split_scheme(uri)?;
    let without_fragment = after_scheme.split_once('#').map_or(after_scheme, |(before, _)| before);
    let (before_query, query) = match without_fragment.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (without_fragment, None),
    };
    let authority_end = before_query.find('/').unwrap_or(before_query.len());
    let (authority, path) = before_query.split_at(authority_end);
    validate_authority(authority)?;
    if path.is_empty() || path == "/" {
        return Err(Error::NoPrimaryKey);
    }
    if path.ends_with('/') {
        return Err(Error::EmptyPathSegment);
    }

    let segments: Vec<&str> = path[1..].split('/').collect();
    let mut end = segments.len();
    let mut path_pairs_reversed: Vec<(String, &str)> = Vec::new();
    let key_start = loop {
        if end < 2 {
            return Err(Error::NoPrimaryKey);
        }
        let (ai_segment, value_segment) = (segments[end - 2], segments[end - 1]);
        if ai_segment.is_empty() || value_segment.is_empty() {
            return Err(Error::EmptyPathSegment);
        }
        let Some(ai) = resolve_path_ai(ai_segment, options) else {
            return Err(Error::NoPrimaryKey);
        };
        let is_primary_key = syntax_dictionary.entry(&ai).is_some_and(AiEntry::is_dl_primary_key);
        path_pairs_reversed.push((ai, value_segment));
        if is_primary_key {
            break end - 2;
        }
        end -= 2;
    };
    let stem = format!("{scheme}://{authority}{}", custom_path(&segments[..key_start]));

    let mut path_pairs = path_pairs_reversed.into_iter().rev();
    let Some((key_ai, key_raw_value)) = path_pairs.next() else {
        return Err(Error::NoPrimaryKey);
    };
    let key_entry =
        syntax_dictionary.entry(&key_ai).ok_or_else(|| Error::UnknownAi { ai: key_ai.clone() })?;
    let key_value = decoded_value(&key_ai, key_raw_value, Component::Path, options)?;
    key_entry.validate_value_with(&key_value, !options.skip_linters)?;
    let primary_key = AiElement { ai: key_ai, value: key_value };

    let mut qualifiers: Vec<AiElement> = Vec::new();
    for (qualifier_ai, raw_value) in path_pairs {
        if !key_entry.has_qualifier(&qualifier_ai) {
            return Err(Error::NotAQualifier { ai: qualifier_ai, key: primary_key.ai.clone() });
        }
        if qualifiers.iter().any(|existing| existing.ai == qualifier_ai) {
            return Err(Error::DuplicateAi { ai: qualifier_ai });
        }
        let value = decoded_value(&qualifier_ai, raw_value, Component::Path, options)?;
        ai_data::validate_element_in(&qualifier_ai, &value, options, syntax_dictionary)?;
        qualifiers.push(AiElement { ai: qualifier_ai, value });
    }
    check_qualifier_order(key_entry, &qualifiers)?;

    let mut attributes: Vec<AiElement> = Vec::new();
    for parameter in query.unwrap_or("").split('&') {
        let Some((name, raw_value)) = parameter.split_once('=') else {
            continue; // empty pieces and bare `singleton` parameters carry no AI data
        };
        if name.is_empty() || !name.bytes().all(|byte| byte.is_ascii_digit()) {
            continue; // non-AI parameters such as `linkType` are for the resolver, not AI data
        }
        check_attribute_ai(name, options, syntax_dictionary)?;
        if raw_value.is_empty() {
            return Err(Error::EmptyValue { ai: name.to_owned() });
        }
        let already_used = primary_key.ai == name
            || qualifiers.iter().chain(&attributes).any(|existing| existing.ai == name);
        if already_used {
            return Err(Error::DuplicateAi { ai: name.to_owned() });
        }
        if qualifier_fits_path(key_entry, &qualifiers, name) {
            return Err(Error::QualifierAsAttribute {
                ai: name.to_owned(),
                key: primary_key.ai.clone(),
            });
        }
        let value = decoded_value(name, raw_value, Component::Query, options)?;
        ai_data::validate_element_in(name, &value, options, syntax_dictionary)?;
        attributes.push(AiElement { ai: name.to_owned(), value });
    }

    let link = DigitalLink { stem, primary_key, qualifiers, attributes };
    ai_data::check_pairings_in(&link.ai_data(), syntax_dictionary)?;
    Ok(link)
}

/// Generates a Digital Link URI from AI data on `stem` (default [`CANONICAL_STEM`]).
///
/// The first primary key in the data goes in the path with the qualifiers of the alternative
/// sequence that matches most of the data (ties: the first alternative), in `dlpkey` order; the
/// rest become query attributes, predefined-length AIs first, each group in data order.
pub fn generate(ai_data: &AiData, stem: Option<&str>) -> Result<String, Error> {
    generate_with(ai_data, stem, &Options::default())
}

/// [`generate`] with non-default [`Options`] (unknown AIs as attributes).
pub fn generate_with(
    ai_data: &AiData,
    stem: Option<&str>,
    options: &Options,
) -> Result<String, Error> {
    generate_in(ai_data, stem, options, dictionary())
}

/// [`generate_with`] against a given syntax dictionary.
pub fn generate_in(
    ai_data: &AiData,
    stem: Option<&str>,
    options: &Options,
    syntax_dictionary: &Dictionary,
) -> Result<String, Error> {
    let stem = validated_stem(stem.unwrap_or(CANONICAL_STEM))?;
    for element in ai_data.elements() {
        ai_data::validate_element_in(&element.ai, &element.value, options, syntax_dictionary)?;
    }
    let (key_element, key_entry) = ai_data
        .elements()
        .iter()
        .find_map(|element| {
            syntax_dictionary
                .entry(&element.ai)
                .filter(|entry| entry.is_dl_primary_key())
                .map(|entry| (element, entry))
        })
        .ok_or(Error::MissingPrimaryKey)?;
    let chosen_sequence = best_qualifier_sequence(key_entry, ai_data);

    let mut uri =
        format!("{stem}/{}/{}", key_element.ai, escape_path_component(&key_element.value));
    for qualifier in chosen_sequence {
        if let Some(value) = ai_data.get(qualifier) {
            uri.push_str(&format!("/{qualifier}/{}", escape_path_component(value)));
        }
    }

    let mut fixed_length_attributes = Vec::new();
    let mut variable_length_attributes = Vec::new();
    for element in ai_data.elements() {
        if element.ai == key_element.ai || chosen_sequence.contains(&element.ai) {
            continue;
        }
        check_attribute_ai(&element.ai, options, syntax_dictionary)?;
        let is_fixed_length =
            syntax_dictionary.entry(&element.ai).is_some_and(|entry| entry.fixed_length);
        if is_fixed_length {
            fixed_length_attributes.push(element);
        } else {
            variable_length_attributes.push(element);
        }
    }
    ai_data::check_pairings_in(ai_data, syntax_dictionary)?;

    let query = fixed_length_attributes
        .into_iter()
        .chain(variable_length_attributes)
        .map(|element| format!("{}={}", element.ai, escape_query_component(&element.value)))
        .collect::<Vec<_>>()
        .join("&");
    if !query.is_empty() {
        uri.push('?');
        uri.push_str(&query);
    }
    Ok(uri)
}

/// Percent-escapes a value for a path segment: only `A-Z a-z 0-9 - . _ ~` stay literal.
pub fn escape_path_component(value: &str) -> String {
    escape_with(value, |_| false, "%20")
}

/// Percent-escapes a value for the query string: as the path, but space becomes `+`.
pub fn escape_query_component(value: &str) -> String {
    escape_with(value, |_| false, "+")
}

/// Escaping of the constrained canonical DL used by the EPCIS event hash: as the path rule, but
/// `'`, `;` and `=` stay literal, as in the CBV 2.0 hash reference implementation (v1.9.3),
/// whose table-7-1 escape set does not include them.
pub fn escape_canonical_component(value: &str) -> String {
    escape_with(value, |byte| matches!(byte, b'\'' | b';' | b'='), "%20")
}

fn escape_with(value: &str, also_literal: impl Fn(u8) -> bool, space: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'.' | b'_' | b'~')
            || also_literal(byte)
        {
            escaped.push(char::from(byte));
        } else if byte == b' ' {
            escaped.push_str(space);
        } else {
            escaped.push_str(&format!("%{byte:02X}"));
        }
    }
    escaped
}

/// Undoes percent-escapes of a path segment; malformed escapes (`%2`, `%G4`) stay literal and
/// `+` stays `+`. Returns bytes because an escape may produce any byte.
pub fn unescape_path_component(text: &str) -> Vec<u8> {
    unescape(text, false)
}

/// Undoes percent-escapes of a query value; additionally `+` means space.
pub fn unescape_query_component(text: &str) -> Vec<u8> {
    unescape(text, true)
}

fn unescape(text: &str, plus_is_space: bool) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut unescaped = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if byte == b'%' && index + 2 < bytes.len() {
            let high = char::from(bytes[index + 1]).to_digit(16);
            let low = char::from(bytes[index + 2]).to_digit(16);
            if let (Some(high), Some(low)) = (high, low) {
                unescaped.push((high * 16 + low) as u8);
                index += 3;
                continue;
            }
        }
        unescaped.push(if plus_is_space && byte == b'+' { b' ' } else { byte });
        index += 1;
    }
    unescaped
}

/// Where a value came from: the escaping rules differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Component {
    Path,
    Query,
}

/// Unescapes a value, rejects NUL and non-UTF-8, and pads a zero-suppressed GTIN when allowed.
fn decoded_value(
    ai: &str,
    raw: &str,
    component: Component,
    options: &Options,
) -> Result<String, Error> {
    let bytes = match component {
        Component::Path => unescape_path_component(raw),
        Component::Query => unescape_query_component(raw),
    };
    if bytes.contains(&0) {
        return Err(Error::NulCharacter);
    }
    let value = String::from_utf8(bytes).map_err(|_| Error::InvalidCharacter {
        ai: ai.to_owned(),
        character: char::REPLACEMENT_CHARACTER,
        charset: "cset 82",
    })?;
    let is_short_gtin = ai == "01"
        && matches!(value.len(), 8 | 12 | 13)
        && value.bytes().all(|byte| byte.is_ascii_digit());
    if is_short_gtin && options.permit_zero_suppressed_gtin {
        return Ok(format!("{value:0>14}"));
    }
    Ok(value)
}

/// A numeric query parameter must be a known AI flagged `?` (unknown AIs only when both
/// [`Options::permit_unknown_ais`] and [`Options::unknown_ai_as_dl_attribute`] are set).
fn check_attribute_ai(
    ai: &str,
    options: &Options,
    syntax_dictionary: &Dictionary,
) -> Result<(), Error> {
    if !ai_data::is_ai_shaped(ai) {
        return Err(Error::MalformedAi { ai: ai.to_owned() });
    }
    match syntax_dictionary.entry(ai) {
        Some(entry) if entry.dl_data_attribute => Ok(()),
        Some(_) => Err(Error::NotADataAttribute { ai: ai.to_owned() }),
        None if !options.permit_unknown_ais => Err(Error::UnknownAi { ai: ai.to_owned() }),
        None if !options.unknown_ai_as_dl_attribute => {
            Err(Error::NotADataAttribute { ai: ai.to_owned() })
        }
        None => Ok(()),
    }
}

/// Whether adding `candidate` to the path qualifiers would still form a valid `dlpkey` sequence
/// (then it belongs in the path, not the query).
fn qualifier_fits_path(key_entry: &AiEntry, qualifiers: &[AiElement], candidate: &str) -> bool {
    key_entry.dl_qualifier_sequences.iter().flatten().any(|sequence| {
        sequence.iter().any(|ai| ai == candidate)
            && qualifiers.iter().all(|qualifier| sequence.contains(&qualifier.ai))
    })
}

/// Checks that the path qualifiers are an in-order subsequence of one `dlpkey` alternative.
fn check_qualifier_order(key_entry: &AiEntry, qualifiers: &[AiElement]) -> Result<(), Error> {
    let sequences = key_entry.dl_qualifier_sequences.as_deref().unwrap_or_default();
    let fits = |sequence: &Vec<String>| {
        let mut sequence_position = 0;
        qualifiers.iter().all(|qualifier| {
            match sequence[sequence_position..].iter().position(|ai| *ai == qualifier.ai) {
                Some(offset) => {
                    sequence_position += offset + 1;
                    true
                }
                None => false,
            }
        })
    };
    if sequences.iter().any(fits) {
        return Ok(());
    }
    // Name the first qualifier that breaks every alternative that the first one belongs to.
    let mut after = key_entry.ai.clone();
    for (index, qualifier) in qualifiers.iter().enumerate() {
        let prefix_fits = sequences.iter().any(|sequence| {
            let mut sequence_position = 0;
            qualifiers[..=index].iter().all(|earlier| {
                match sequence[sequence_position..].iter().position(|ai| *ai == earlier.ai) {
                    Some(offset) => {
                        sequence_position += offset + 1;
                        true
                    }
                    None => false,
                }
            })
        });
        if !prefix_fits {
            let order = sequences
                .iter()
                .map(|sequence| sequence.join(", "))
                .collect::<Vec<_>>()
                .join(" or ");
            return Err(Error::QualifierOrder { ai: qualifier.ai.clone(), after, order });
        }
        after = qualifier.ai.clone();
    }
    Ok(())
}

/// The alternative qualifier sequence matching most AIs present (ties: the earliest).
fn best_qualifier_sequence<'entry>(
    key_entry: &'entry AiEntry,
    ai_data: &AiData,
) -> &'entry [String] {
    let mut best: &[String] = &[];
    let mut best_matches = 0;
    for sequence in key_entry.dl_qualifier_sequences.iter().flatten() {
        let matches = sequence.iter().filter(|ai| ai_data.get(ai).is_some()).count();
        if matches > best_matches {
            best = sequence;
            best_matches = matches;
        }
    }
    best
}

fn resolve_path_ai(segment: &str, options: &Options) -> Option<String> {
    if segment.bytes().all(|byte| byte.is_ascii_digit()) {
        return Some(segment.to_owned());
    }
    if options.permit_convenience_alphas {
        return CONVENIENCE_ALPHAS
            .iter()
            .find(|(alpha, _)| *alpha == segment)
            .map(|(_, ai)| (*ai).to_owned());
    }
    None
}

fn custom_path(segments: &[&str]) -> String {
    segments.iter().map(|segment| format!("/{segment}")).collect()
}

/// Splits `http://…` / `HTTPS://…`; mixed-case schemes are rejected.
fn split_scheme(uri: &str) -> Result<(&str, &str), Error> {
    let Some((scheme, rest)) = uri.split_once("://") else {
        return Err(Error::Scheme { found: uri.to_owned() });
    };
    match scheme {
        "http" | "https" | "HTTP" | "HTTPS" => Ok((scheme, rest)),
        other => Err(Error::Scheme { found: other.to_owned() }),
    }
}

/// Host (domain name, IPv4 or `[IPv6]`) with an optional numeric port.
fn validate_authority(authority: &str) -> Result<(), Error> {
    if authority.is_empty() {
        return Err(Error::MissingHost);
    }
    let invalid = || Error::InvalidHost { host: authority.to_owned() };
    let (host, port) = if let Some(literal) = authority.strip_prefix('[') {
        let (inside, after) = literal.split_once(']').ok_or_else(invalid)?;
        let literal_ok = !inside.is_empty()
            && inside.bytes().all(|byte| byte.is_ascii_hexdigit() || byte == b':' || byte == b'.');
        if !literal_ok {
            return Err(invalid());
        }
        let port = match after {
            "" => None,
            with_colon => Some(with_colon.strip_prefix(':').ok_or_else(invalid)?),
        };
        (None, port)
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(authority), None),
        }
    };
    if let Some(host) = host {
        let host_ok = !host.is_empty()
            && host.bytes().all(|byte| {
                byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
            });
        if !host_ok {
            return Err(invalid());
        }
    }
    if port.is_some_and(|port| !port.bytes().all(|byte| byte.is_ascii_digit())) {
        return Err(invalid());
    }
    Ok(())
}

/// RFC 3986 characters: unreserved, reserved and `%`.
fn is_uri_character(character: char) -> bool {
    character.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'()*+,;=%".contains(character)
}

fn validated_stem(stem: &str) -> Result<&str, Error> {
    let trimmed = stem.strip_suffix('/').unwrap_or(stem);
    let invalid = || Error::InvalidStem { stem: stem.to_owned() };
    let (_, rest) = split_scheme(trimmed).map_err(|_| invalid())?;
    if rest.contains(['?', '#']) || trimmed.chars().any(|character| !is_uri_character(character)) {
        return Err(invalid());
    }
    let authority = rest.split('/').next().unwrap_or_default();
    validate_authority(authority).map_err(|_| invalid())?;
    Ok(trimmed)
}
