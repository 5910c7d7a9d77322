//! The Event Hash ID as the lot graph keeps and answers it: a 32-byte digest for the form every
//! Lotline node computes, the text for anything else.
//!
//! Owns the compact representation, its order (the order of the texts), and its serde form
//! (always the text, so the JSON of an answer does not depend on how an id is held). Does not
//! own computing hash ids (see `epcis::hash`).
//!
//! Why a type and not a `String`: a recall answer carries thousands of hash ids (each event it
//! relied on, once in `events` and once in `entries`, plus every handoff's two events), and a
//! heap text for each would be an allocation and a copy apiece, more work than the rest of
//! building the answer. The text is written only when the answer is serialised, straight into
//! the output.

use std::cmp::Ordering;
use std::fmt;
use std::hash::BuildHasher;

use serde::de::Visitor;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An EPCIS Event Hash ID (`ni:///sha-256;…?ver=CBV2.0`), or any other name an event is known
/// by when it was written in another form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EventHashId {
    /// `ni:///sha-256;<lower-case hex of these bytes>?ver=CBV2.0`.
    Sha256([u8; 32]),
    /// Any other form, as written.
    Text(Box<str>),
}

/// What surrounds the hex digest in the compact form.
const PREFIX: &str = "ni:///sha-256;";
const SUFFIX: &str = "?ver=CBV2.0";
/// Length of the compact form's text.
const COMPACT_TEXT_LEN: usize = PREFIX.len() + 64 + SUFFIX.len();

impl EventHashId {
    /// The compact form when `text` is canonical (lower-case hex that round-trips), else text.
    pub fn new(text: &str) -> Self {
        match compact_digest(text) {
            Some(digest) => Self::Sha256(digest),
            None => Self::Text(Box::from(text)),
        }
    }

    /// A hash of this id under `state`, equal to [`EventHashId::hash_text_with`] of its text:
    /// lets a table of names be keyed by either form without writing the text out.
    pub fn hash_with(&self, state: &impl BuildHasher) -> u64 {
        match self {
            Self::Sha256(digest) => state.hash_one(NameForm::Sha256(digest)),
            Self::Text(text) => state.hash_one(NameForm::Text(text)),
        }
    }

    /// The hash [`EventHashId::hash_with`] gives `EventHashId::new(text)`, without allocating.
    pub fn hash_text_with(text: &str, state: &impl BuildHasher) -> u64 {
        match compact_digest(text) {
            Some(digest) => state.hash_one(NameForm::Sha256(&digest)),
            None => state.hash_one(NameForm::Text(text)),
        }
    }

    /// Whether this is the hash id written `text`.
    pub fn is(&self, text: &str) -> bool {
        match self {
            Self::Sha256(_) => *self == Self::new(text),
            Self::Text(own) => **own == *text,
        }
    }

    /// Calls `with` on the text, written on the stack for the compact form.
    pub fn with_text<Output>(&self, with: impl FnOnce(&str) -> Output) -> Output {
        match self {
            Self::Sha256(digest) => {
                let mut text = [0u8; COMPACT_TEXT_LEN];
                let (prefix, rest) = text.split_at_mut(PREFIX.len());
                let (hex_digits, suffix) = rest.split_at_mut(64);
                prefix.copy_from_slice(PREFIX.as_bytes());
                suffix.copy_from_slice(SUFFIX.as_bytes());
                // Both cannot fail: 64 bytes is exactly twice 32, and hex is ASCII.
                let encoded = hex::encode_to_slice(digest, hex_digits);
                match (encoded, std::str::from_utf8(&text)) {
                    (Ok(()), Ok(text)) => with(text),
                    _ => with(""),
                }
            }
            Self::Text(text) => with(text),
        }
    }

    /// The text, allocated at its exact length.
    pub fn to_text(&self) -> String {
        self.with_text(str::to_owned)
    }

    /// Heap bytes held (for the index's size estimate).
    pub fn heap_bytes(&self) -> usize {
        match self {
            Self::Sha256(_) => 0,
            Self::Text(text) => text.len(),
        }
    }
}

/// The digest of `text` when it is the compact form (canonical lower-case hex that round-trips).
fn compact_digest(text: &str) -> Option<[u8; 32]> {
    let hex_digits = text.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?.as_bytes();
    if hex_digits.len() != 64 {
        return None;
    }
    // Every event read is named this way, so the digits go through a table rather than a
    // general hex decoder, which does more work per digit on this hot path.
    let mut digest = [0u8; 32];
    for (byte, pair) in digest.iter_mut().zip(hex_digits.chunks_exact(2)) {
        let high = LOWER_HEX_VALUE[usize::from(pair[0])];
        let low = LOWER_HEX_VALUE[usize::from(pair[1])];
        if high == NOT_LOWER_HEX || low == NOT_LOWER_HEX {
            return None;
        }
        *byte = (high << 4) | low;
    }
    Some(digest)
}

/// Marks a byte that is not a lower-case hex digit in [`LOWER_HEX_VALUE`].
const NOT_LOWER_HEX: u8 = 0xFF;

/// The value of each lower-case hex digit, [`NOT_LOWER_HEX`] for every other byte (upper-case
/// digits too: only the lower-case form round-trips, so only it is compact).
const LOWER_HEX_VALUE: [u8; 256] = {
    let mut table = [NOT_LOWER_HEX; 256];
    let mut digit = 0;
    while digit < 10 {
        table[b'0' as usize + digit] = digit as u8;
        digit += 1;
    }
    let mut letter = 0;
    while letter < 6 {
        table[b'a' as usize + letter] = 10 + letter as u8;
        letter += 1;
    }
    table
};

/// What [`EventHashId::hash_with`] hashes: either form borrowed, so a text and the id made from
/// it hash alike.
#[derive(Hash)]
enum NameForm<'name> {
    Sha256(&'name [u8; 32]),
    Text(&'name str),
}

impl From<&str> for EventHashId {
    fn from(text: &str) -> Self {
        Self::new(text)
    }
}

impl PartialEq<str> for EventHashId {
    fn eq(&self, other: &str) -> bool {
        self.is(other)
    }
}

impl PartialEq<&str> for EventHashId {
    fn eq(&self, other: &&str) -> bool {
        self.is(other)
    }
}

impl PartialEq<String> for EventHashId {
    fn eq(&self, other: &String) -> bool {
        self.is(other)
    }
}

impl fmt::Display for EventHashId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.with_text(|text| formatter.write_str(text))
    }
}

/// Orders like the texts: two digests compare as their hex does (same prefix and suffix,
/// lower-case hex keeps byte order); anything else compares as text.
impl Ord for EventHashId {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Self::Sha256(left), Self::Sha256(right)) => left.cmp(right),
            _ => self.with_text(|left| other.with_text(|right| left.cmp(right))),
        }
    }
}

impl PartialOrd for EventHashId {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Serialize for EventHashId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.with_text(|text| serializer.serialize_str(text))
    }
}

/// In the OpenAPI document: the text it serialises as.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for EventHashId {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("EPCIS Event Hash ID (`ni:///sha-256;<hex>?ver=CBV2.0`)"))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for EventHashId {}

impl<'de> Deserialize<'de> for EventHashId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(HashIdVisitor)
    }
}

/// Reads a hash id from any string form without an intermediate `String`.
struct HashIdVisitor;

impl Visitor<'_> for HashIdVisitor {
    type Value = EventHashId;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an Event Hash ID (ni:///sha-256;…) or another event name")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<EventHashId, E> {
        Ok(EventHashId::new(text))
    }

    fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<EventHashId, E> {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| E::custom("an event hash id must be UTF-8 text"))?;
        self.visit_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::{EventHashId, PREFIX, SUFFIX, compact_digest};

    #[test]
    fn compact_hash_ids_round_trip_and_order_like_their_texts() {
        let digest = "3b1e6f9c0a7d5e2b8c4f1a6d9e0b3c7f2a5d8e1b4c7f0a3d6e9b2c5f8a1d4e7b";
        let texts = [
            format!("ni:///sha-256;{digest}?ver=CBV2.0"),
            format!("ni:///sha-256;{}?ver=CBV2.0", digest.replace('3', "4")),
            format!("ni:///sha-256;{}?ver=CBV2.0", digest.to_uppercase()),
            format!("ni:///sha-256;{}?ver=CBV2.0", &digest[..40]),
            format!("ni:///sha-256;{digest}"),
            "urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8".to_owned(),
            "ni:///sha-256;00?ver=CBV2.0".to_owned(),
        ];
        let ids: Vec<EventHashId> = texts.iter().map(|text| EventHashId::new(text)).collect();
        assert!(matches!(ids[0], EventHashId::Sha256(_)));
        assert!(matches!(ids[2], EventHashId::Text(_)), "upper-case hex is kept as written");
        for (text, id) in texts.iter().zip(&ids) {
            assert_eq!(id.to_string(), *text);
            assert_eq!(id.to_text(), *text);
            assert!(id.is(text));
            assert_eq!(serde_json::to_string(id).ok(), serde_json::to_string(text).ok());
            let read: Option<EventHashId> =
                serde_json::from_str(&serde_json::to_string(text).unwrap_or_default()).ok();
            assert_eq!(read.as_ref(), Some(id), "{text} reads back");
        }
        for (left_text, left) in texts.iter().zip(&ids) {
            for (right_text, right) in texts.iter().zip(&ids) {
                assert_eq!(
                    left.cmp(right),
                    left_text.cmp(right_text),
                    "{left_text} vs {right_text}"
                );
            }
        }
    }

    #[test]
    fn an_id_and_its_text_hash_alike() {
        let state = std::hash::RandomState::new();
        let digest = "3b1e6f9c0a7d5e2b8c4f1a6d9e0b3c7f2a5d8e1b4c7f0a3d6e9b2c5f8a1d4e7b";
        let texts = [
            format!("ni:///sha-256;{digest}?ver=CBV2.0"),
            format!("ni:///sha-256;{}?ver=CBV2.0", digest.to_uppercase()),
            "urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8".to_owned(),
        ];
        let hashes: Vec<u64> =
            texts.iter().map(|text| EventHashId::hash_text_with(text, &state)).collect();
        for (text, hash) in texts.iter().zip(&hashes) {
            assert_eq!(EventHashId::new(text).hash_with(&state), *hash, "{text}");
        }
        assert_ne!(hashes[0], hashes[1], "upper-case hex is another name");
    }

    #[test]
    fn the_digit_table_agrees_with_a_general_hex_decoder() {
        let reference = |hex_digits: &str| {
            let mut digest = [0u8; 32];
            let lower_case = !hex_digits.bytes().any(|byte| byte.is_ascii_uppercase());
            let decoded = hex::decode_to_slice(hex_digits, &mut digest).is_ok();
            (lower_case && decoded).then_some(digest)
        };
        let mut digits: Vec<u8> =
            b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".to_vec();
        // Every byte value at the first and the last position, then a few lengths.
        for position in [0, 63] {
            for byte in 0u8..=0x7F {
                let original = digits[position];
                digits[position] = byte;
                let hex_digits = String::from_utf8(digits.clone()).unwrap_or_default();
                let text = format!("{PREFIX}{hex_digits}{SUFFIX}");
                assert_eq!(compact_digest(&text), reference(&hex_digits), "{text}");
                digits[position] = original;
            }
        }
        for length in [0, 2, 62, 63, 65, 66] {
            let hex_digits = "ab".repeat(33)[..length].to_owned();
            let text = format!("{PREFIX}{hex_digits}{SUFFIX}");
            assert_eq!(compact_digest(&text), None, "{text}");
        }
    }

    #[test]
    fn a_hash_id_that_is_not_text_is_refused_by_name() {
        let number = serde_json::from_str::<EventHashId>("42").map(|_| ()).unwrap_err();
        assert!(number.to_string().contains("Event Hash ID"), "{number}");
    }
}
