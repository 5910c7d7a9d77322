//! What names a feed entry without opening it: its hash ([`EntryHash`]), a reference to it
//! ([`EntryRef`]: author, sequence, hash) and the kind of payload its header declares
//! ([`PayloadKind`]).
//!
//! A leaf every layer above may use: payloads refer to earlier entries (`records`), roster
//! changes name the entry that stands after a fork (`roster`), feeds link entries by hash and
//! check kinds against roles (`feed`), answers list the entries they relied on (`trace`).
//! Does not own how an entry hash is computed (`codec::entry_hash`), entries themselves
//! (`feed`) or what each payload kind holds (`records`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _};

use crate::identity::PublicKey;

/// An entry's identity: `SHA-256(tag ‖ envelope)` (see `codec::entry_hash`). Lower-case hex
/// in JSON.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EntryHash([u8; 32]);

impl EntryHash {
    /// The previous hash of a feed's first entry.
    pub const ZERO: EntryHash = EntryHash([0; 32]);

    /// Wraps raw bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses lower-case or upper-case hex.
    pub fn from_hex(text: &str) -> Option<Self> {
        let bytes: [u8; 32] = hex::decode(text).ok()?.try_into().ok()?;
        Some(Self(bytes))
    }
}

impl fmt::Debug for EntryHash {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "EntryHash({})", &self.to_hex()[..16])
    }
}

impl fmt::Display for EntryHash {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.to_hex())
    }
}

impl Serialize for EntryHash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for EntryHash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let raw = hex::decode(&text).map_err(D::Error::custom)?;
        let bytes: [u8; 32] =
            raw.try_into().map_err(|_| D::Error::custom("entry hash is not 32 bytes"))?;
        Ok(Self(bytes))
    }
}

/// A pointer to one entry of one feed: enough to fetch the signed entry and its inclusion
/// proof, and to tell it from a forked entry at the same position.
///
/// JSON: `{"author": hex, "sequence": n, "entry_hash": hex}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EntryRef {
    /// The feed's author (its signing key).
    #[serde(with = "crate::identity::hex_public_key")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub author: PublicKey,
    /// The entry's position in that feed (0-based).
    pub sequence: u64,
    /// The entry's hash, so the reference cannot be satisfied by a forked entry.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub entry_hash: EntryHash,
}

/// The kind of an entry's payload. Signed in the header, so role rules apply even when every
/// payload field is withheld.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PayloadKind {
    /// An EPCIS 2.0 event as captured.
    EpcisEvent,
    /// A regulator's recall notice.
    RecallNotice,
    /// A holder's acknowledgement of a recall notice.
    RecallAcknowledgement,
    /// A lab's inspection or test result.
    InspectionResult,
    /// A cold-chain excursion.
    Excursion,
    /// A regulator's key-supervision flag on an organisation.
    SupervisionFlag,
    /// A governance-approved change to the roster.
    RosterChange,
    /// A declaration that an earlier entry was wrong.
    ErrorDeclaration,
    /// An EPCIS master-data statement about a product, place or party the author owns.
    MasterData,
    /// An acknowledgement of a cold-chain excursion, with the reason.
    ExcursionAcknowledgement,
}

impl PayloadKind {
    /// Every kind, in code order.
    pub const ALL: [PayloadKind; 10] = [
        PayloadKind::EpcisEvent,
        PayloadKind::RecallNotice,
        PayloadKind::RecallAcknowledgement,
        PayloadKind::InspectionResult,
        PayloadKind::Excursion,
        PayloadKind::SupervisionFlag,
        PayloadKind::RosterChange,
        PayloadKind::ErrorDeclaration,
        PayloadKind::MasterData,
        PayloadKind::ExcursionAcknowledgement,
    ];

    /// The wire code (the header's `payload_kind` byte).
    pub fn code(self) -> u8 {
        match self {
            PayloadKind::EpcisEvent => 0,
            PayloadKind::RecallNotice => 1,
            PayloadKind::RecallAcknowledgement => 2,
            PayloadKind::InspectionResult => 3,
            PayloadKind::Excursion => 4,
            PayloadKind::SupervisionFlag => 5,
            PayloadKind::RosterChange => 6,
            PayloadKind::ErrorDeclaration => 7,
            PayloadKind::MasterData => 8,
            PayloadKind::ExcursionAcknowledgement => 9,
        }
    }

    /// The kind with this wire code, if any (an unknown code is `records::Error::UnknownKind`
    /// where a payload is read).
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.get(usize::from(code)).copied()
    }

    /// A stable lowercase name for errors, logs and JSON.
    pub fn name(self) -> &'static str {
        match self {
            PayloadKind::EpcisEvent => "epcis_event",
            PayloadKind::RecallNotice => "recall_notice",
            PayloadKind::RecallAcknowledgement => "recall_acknowledgement",
            PayloadKind::InspectionResult => "inspection_result",
            PayloadKind::Excursion => "excursion",
            PayloadKind::SupervisionFlag => "supervision_flag",
            PayloadKind::RosterChange => "roster_change",
            PayloadKind::ErrorDeclaration => "error_declaration",
            PayloadKind::MasterData => "master_data",
            PayloadKind::ExcursionAcknowledgement => "excursion_ack",
        }
    }
}

impl fmt::Display for PayloadKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Keypair;

    /// An entry reference reads back from the JSON it writes, with key and hash as lower-case
    /// hex under the field names answers and records use.
    #[test]
    fn entry_refs_round_trip_through_json_as_hex() {
        let reference = EntryRef {
            author: Keypair::from_seed([3; 32]).public_key(),
            sequence: 41,
            entry_hash: EntryHash::from_bytes([0xab; 32]),
        };
        let json = serde_json::to_value(reference).unwrap();
        assert_eq!(json["author"], reference.author.to_hex());
        assert_eq!(json["sequence"], 41);
        assert_eq!(json["entry_hash"], "ab".repeat(32));
        let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 3);
        assert_eq!(serde_json::from_value::<EntryRef>(json).unwrap(), reference);
        let short = serde_json::json!({"author": reference.author.to_hex(), "sequence": 1, "entry_hash": "abcd"});
        assert!(serde_json::from_value::<EntryRef>(short).is_err());
    }

    /// Every kind's wire code reads back as that kind; codes past the last name none.
    #[test]
    fn payload_kinds_round_trip_through_their_codes() {
        for kind in PayloadKind::ALL {
            assert_eq!(PayloadKind::from_code(kind.code()), Some(kind));
        }
        assert_eq!(PayloadKind::from_code(PayloadKind::ALL.len() as u8), None);
    }
}
