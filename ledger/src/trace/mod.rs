//! The lot graph: trace back, trace forward, one step up / down and recall scope.
//!
//! Owns an in-memory index over every event of every feed ([`Index`]), kept up to date by
//! [`Index::apply`] on each append and rebuildable by replaying all entries, and the queries
//! over it, each answering with the entries it relied on so a client can verify the answer.
//! Also owns a seeded generator of synthetic supply chains ([`synthetic`]) used by the tests
//! and the benchmark.
//!
//! Deliberately does not own any IO, signatures or the feeds themselves (see `feed`, `store`),
//! nor GS1 identifier syntax (see `gs1`) or EPCIS parsing (see `epcis`): the graph is built
//! from [`facts::Facts`], a small EPCIS-free digest of one event.
//!
//! Layers, bottom up: [`facts`] (event → facts), [`index`] (facts → interned graph),
//! [`query`] (graph → [`answer`] values), [`subject`] (what a user typed → a query input).
//! Beside them, [`summary`] keeps each lot's part of a recall answer between queries; the
//! index forgets a part when an entry may change it.
//!
//! **Invariant:** every query terminates in time linear in the part of the graph it visits:
//! each lot is expanded once, pallet nesting is bounded, and cycles recorded by mistake are
//! reported as warnings instead of being followed again.

pub mod answer;
pub mod facts;
pub mod hash_id;
pub mod index;
pub mod query;
pub mod subject;
pub mod summary;
pub mod synthetic;

pub use answer::{
    Handoff, Holder, LotDetail, LotMaster, OneStepAnswer, Origin, OriginKind, Position,
    RecallAnswer, Text, TraceAnswer, Visit, Warning,
};
pub use hash_id::EventHashId;
pub use index::{Applied, Index, IndexStats};
pub use query::{Direction, Hazard, TimeWindow, WindowError};
pub use subject::{Subject, SubjectError};

use serde::{Deserialize, Serialize};

use crate::identity::PublicKey;

/// Where one indexed event lives in the feeds: enough for a client to fetch the signed entry
/// and check it, so no answer rests on trusting the node that computed it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EntryRef {
    /// The organisation whose feed holds the entry (its signing key).
    #[serde(with = "hex_public_key")]
    pub author: PublicKey,
    /// Position of the entry in that feed (0-based), to fetch it and its inclusion proof.
    pub sequence: u64,
    /// Hash of the signed entry bytes, to check the fetched entry is the one relied on.
    #[serde(with = "hex_bytes_32")]
    pub entry_hash: [u8; 32],
    /// The EPCIS Event Hash ID of the event carried by the entry (`ni:///sha-256;…`), the
    /// name users and other EPCIS systems know the event by.
    pub event_hash_id: EventHashId,
}

/// Serde for [`PublicKey`] as lower-case hex, the form every other Lotline answer uses.
mod hex_public_key {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    use crate::identity::PublicKey;

    pub fn serialize<S: Serializer>(key: &PublicKey, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&key.to_hex())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<PublicKey, D::Error> {
        let text = String::deserialize(deserializer)?;
        PublicKey::from_hex(&text).map_err(D::Error::custom)
    }
}

/// Serde for a 32-byte hash as lower-case hex.
mod hex_bytes_32 {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    pub fn serialize<S: Serializer>(bytes: &[u8; 32], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(deserializer)?;
        let raw = hex::decode(&text).map_err(D::Error::custom)?;
        raw.try_into().map_err(|_| D::Error::custom("entry hash is not 32 bytes"))
    }
}
