//! Where one indexed event lives in the feeds: its entry ([`crate::entry::EntryRef`]) and the
//! Event Hash ID the event is known by ([`EventRef`]).
//!
//! Answers list one per entry they relied on, so a client can fetch each signed entry with its
//! inclusion proof and check it, and no answer rests on trusting the node that computed it.
//! Owns the pairing and its JSON form, `{"author", "sequence", "entry_hash", "event_hash_id"}`
//! in that order, written field by field: a recall answer writes thousands, and
//! `#[serde(flatten)]` would make serde write a map and read through a buffer of every field.
//! Does not own the entry reference itself (`crate::entry`) nor the hash id (see
//! [`super::hash_id`]).

use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::entry::{EntryHash, EntryRef};
use crate::identity::PublicKey;

use super::hash_id::EventHashId;

/// One indexed event's place in the feeds: the signed entry carrying it and its EPCIS Event
/// Hash ID.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventRef {
    /// The entry carrying the event: author, position in the author's feed (to fetch it and
    /// its inclusion proof), and the hash of its signed bytes (to check the fetched entry is
    /// the one relied on).
    pub entry: EntryRef,
    /// The EPCIS Event Hash ID of the event carried by the entry (`ni:///sha-256;…`), the
    /// name users and other EPCIS systems know the event by.
    pub event_hash_id: EventHashId,
}

/// A key written as lower-case hex, as a serialisable field.
struct HexKey<'key>(&'key PublicKey);

impl Serialize for HexKey<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        crate::identity::hex_public_key::serialize(self.0, serializer)
    }
}

impl Serialize for EventRef {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut fields = serializer.serialize_struct("EntryRef", 4)?;
        fields.serialize_field("author", &HexKey(&self.entry.author))?;
        fields.serialize_field("sequence", &self.entry.sequence)?;
        fields.serialize_field("entry_hash", &self.entry.entry_hash)?;
        fields.serialize_field("event_hash_id", &self.event_hash_id)?;
        fields.end()
    }
}

/// The four fields as JSON names them, read with serde's own struct rules (any order, unknown
/// fields ignored, each required once).
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename = "EntryRef")]
struct EventRefFields {
    /// The feed's author (lower-case hex).
    #[serde(with = "crate::identity::hex_public_key")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    author: PublicKey,
    /// The entry's position in that feed.
    sequence: u64,
    /// The hash of the entry's signed bytes (lower-case hex).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    entry_hash: EntryHash,
    /// The EPCIS Event Hash ID of the event the entry carries.
    event_hash_id: EventHashId,
}

/// In the OpenAPI document: the four fields it serialises as.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for EventRef {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        <EventRefFields as utoipa::PartialSchema>::schema()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for EventRef {
    fn schemas(
        schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>,
    ) {
        <EventRefFields as utoipa::ToSchema>::schemas(schemas);
    }
}

impl<'de> Deserialize<'de> for EventRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let EventRefFields { author, sequence, entry_hash, event_hash_id } =
            EventRefFields::deserialize(deserializer)?;
        Ok(Self { entry: EntryRef { author, sequence, entry_hash }, event_hash_id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Keypair;

    fn reference() -> EventRef {
        EventRef {
            entry: EntryRef {
                author: Keypair::from_seed([9; 32]).public_key(),
                sequence: 12,
                entry_hash: EntryHash::from_bytes([0x0f; 32]),
            },
            event_hash_id: EventHashId::new(
                "ni:///sha-256;0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef?ver=CBV2.0",
            ),
        }
    }

    /// The JSON is the four fields in order, key and hash as lower-case hex, and reads back.
    #[test]
    fn event_refs_write_four_fields_in_order_and_read_back() {
        let reference = reference();
        let json = serde_json::to_string(&reference).unwrap();
        assert_eq!(
            json,
            format!(
                r#"{{"author":"{}","sequence":12,"entry_hash":"{}","event_hash_id":"{}"}}"#,
                reference.entry.author.to_hex(),
                "0f".repeat(32),
                reference.event_hash_id,
            )
        );
        assert_eq!(serde_json::from_str::<EventRef>(&json).unwrap(), reference);
    }

    /// Reading follows serde's struct rules: any field order, unknown fields ignored, a
    /// missing field or a short hash refused.
    #[test]
    fn event_refs_read_like_a_derived_struct() {
        let reference = reference();
        let author = reference.entry.author.to_hex();
        let hash_id = reference.event_hash_id.to_string();
        let reordered = serde_json::json!({
            "event_hash_id": hash_id, "extra": [1, 2], "entry_hash": "0F".repeat(32),
            "sequence": 12, "author": author,
        });
        assert_eq!(serde_json::from_value::<EventRef>(reordered).unwrap(), reference);
        let missing =
            serde_json::json!({"author": author, "sequence": 12, "entry_hash": "0f".repeat(32)});
        assert!(serde_json::from_value::<EventRef>(missing).is_err());
        let short = serde_json::json!({
            "author": author, "sequence": 12, "entry_hash": "0f0f", "event_hash_id": hash_id,
        });
        let error = serde_json::from_value::<EventRef>(short).unwrap_err().to_string();
        assert!(error.contains("entry hash is not 32 bytes"), "{error}");
    }
}
