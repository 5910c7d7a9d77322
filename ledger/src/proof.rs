//! Self-contained, offline-verifiable proof bundles: "this entry is in that author's feed, as
//! committed to by a signed (and witnessed) checkpoint".
//!
//! Owns: [`ProofBundle`] (entry wire bytes, inclusion proofs, the checkpoint note with
//! cosignatures), its JSON form (base64 fields) and the C2SP `tlog-proof@v1` text form for a
//! single entry, [`Evidence`] (the bundles and the not-yet-checkpointed entries behind an
//! answer, as a node serves them and a client reads them), the [`WitnessPolicy`] (k of n
//! witness keys) and [`verify_bundle`], which needs nothing but the bundle and the trusted
//! keys.
//! Does not own: building trees (`merkle`), checkpoint formats (`checkpoint`), entry bytes
//! (`feed`/`codec`), or fetching anything: verification does no IO.
//!
//! The Merkle leaf of an entry is `feed::VerifiedEntry::leaf_bytes` (its signed envelope), so a
//! bundle may carry a redacted copy of an entry and still prove inclusion.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};

use crate::checkpoint::{self, Cosignature, KeyKind, SignedCheckpoint, VerifierKey};
use crate::feed::{self, VerifiedEntry};
use crate::identity::PublicKey;
use crate::merkle::{self, Hash, Tree};

/// First line of the C2SP tlog-proof text form.
pub const TLOG_PROOF_HEADER: &str = "c2sp.org/tlog-proof@v1";
/// Most entries one bundle may carry: bounds the work of verifying an untrusted bundle.
pub const MAX_BUNDLE_ENTRIES: usize = 10_000;
/// Most hashes one inclusion proof may carry (a tree of 2^64 leaves needs 64).
const MAX_PROOF_HASHES: usize = 64;
/// Most hashes a serialised proof list may carry (a consistency proof needs up to about twice
/// an inclusion proof's length).
const MAX_SERIALIZED_HASHES: usize = 2 * MAX_PROOF_HASHES;

/// Why a bundle could not be built, parsed or verified. Each variant names the broken rule.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// A bundle proves at least one entry.
    #[error("bundle carries no entries")]
    NoEntries,
    /// More entries than [`MAX_BUNDLE_ENTRIES`].
    #[error("bundle carries {0} entries, more than the limit")]
    TooManyEntries(usize),
    /// The checkpoint note does not verify, or is not a feed checkpoint.
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] checkpoint::Error),
    /// The checkpoint's author is not among the trusted keys.
    #[error("checkpoint author {0} is not trusted")]
    UntrustedAuthor(PublicKey),
    /// Fewer distinct trusted witnesses cosigned than the policy requires.
    #[error("{found} trusted witnesses cosigned, the policy requires {required}")]
    InsufficientCosignatures {
        /// The policy's threshold.
        required: usize,
        /// Valid cosignatures from distinct trusted witnesses.
        found: usize,
    },
    /// A witness policy needs k ≤ n cosignature (type 0x04) keys.
    #[error("invalid witness policy: {0}")]
    InvalidPolicy(&'static str),
    /// An entry does not decode or its signature does not verify.
    #[error("entry {index}: {source}")]
    Entry {
        /// Position of the entry in the bundle.
        index: usize,
        /// Why the entry is invalid.
        source: feed::Error,
    },
    /// An entry was written by someone other than the checkpoint's author.
    #[error("entry {index} is by {found}, not by the checkpoint author {expected}")]
    AuthorMismatch {
        /// Position of the entry in the bundle.
        index: usize,
        /// The checkpoint's author.
        expected: PublicKey,
        /// The entry's author.
        found: PublicKey,
    },
    /// A feed's leaf index is the entry's sequence number.
    #[error("entry {index} has sequence {sequence} but claims leaf index {leaf_index}")]
    IndexMismatch {
        /// Position of the entry in the bundle.
        index: usize,
        /// The entry's sequence number.
        sequence: u64,
        /// The leaf index the bundle claims.
        leaf_index: u64,
    },
    /// The inclusion proof does not lead to the checkpoint's root.
    #[error("entry {index}: inclusion proof fails: {source}")]
    Inclusion {
        /// Position of the entry in the bundle.
        index: usize,
        /// The Merkle failure.
        source: merkle::Error,
    },
    /// The tree cannot produce a proof for this entry at this checkpoint.
    #[error("cannot prove entry at sequence {sequence}: {source}")]
    Build {
        /// The entry's sequence number.
        sequence: u64,
        /// The Merkle failure.
        source: merkle::Error,
    },
    /// The tree handed to [`ProofBundle::build`] is not the tree the checkpoint commits to.
    #[error("tree root at size {size} does not match the checkpoint")]
    TreeDoesNotMatchCheckpoint {
        /// The checkpoint size.
        size: u64,
    },
    /// The JSON form is malformed.
    #[error("malformed bundle json: {0}")]
    Json(String),
    /// The tlog-proof text form is malformed.
    #[error("malformed tlog-proof: {0}")]
    TlogProof(&'static str),
    /// The tlog-proof form carries exactly one entry.
    #[error("the tlog-proof form carries exactly one entry, this bundle has {0}")]
    NotSingleEntry(usize),
}

/// One entry in a bundle with its inclusion proof.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundledEntry {
    /// Leaf index in the feed's tree (equals the entry's sequence number).
    pub index: u64,
    /// The entry's exact signed wire bytes (possibly a redacted copy).
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Byte))]
    #[serde(with = "base64_bytes")]
    pub entry: Vec<u8>,
    /// RFC 6962 inclusion proof of the entry's leaf at the checkpoint's size.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    #[serde(with = "base64_hashes")]
    pub inclusion_proof: Vec<Hash>,
}

/// A self-contained proof that entries belong to a feed committed to by a signed checkpoint.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofBundle {
    /// The checkpoint note verbatim: body, author signature and any witness cosignatures.
    pub checkpoint: String,
    /// The proven entries (one, or several of a trace).
    pub entries: Vec<BundledEntry>,
}

impl ProofBundle {
    /// Builds a bundle for `entries` from the feed's `tree` at `signed_checkpoint`'s size.
    pub fn build(
        signed_checkpoint: &SignedCheckpoint,
        tree: &Tree,
        entries: &[VerifiedEntry],
    ) -> Result<Self, BundleError> {
        let size = signed_checkpoint.checkpoint().size;
        let tree_root =
            tree.root_at(size).map_err(|source| BundleError::Build { sequence: size, source })?;
        if tree_root != signed_checkpoint.checkpoint().root {
            return Err(BundleError::TreeDoesNotMatchCheckpoint { size });
        }
        let bundled_entries = entries
            .iter()
            .map(|entry| {
                let sequence = entry.sequence();
                let inclusion_proof = tree
                    .inclusion_proof(sequence, size)
                    .map_err(|source| BundleError::Build { sequence, source })?;
                Ok(BundledEntry {
                    index: sequence,
                    entry: entry.wire_bytes().to_vec(),
                    inclusion_proof,
                })
            })
            .collect::<Result<Vec<_>, BundleError>>()?;
        Ok(Self { checkpoint: signed_checkpoint.to_note_text(), entries: bundled_entries })
    }

    /// The JSON form (binary fields in base64).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Parses the JSON form (not verified; see [`verify_bundle`]).
    pub fn from_json(text: &str) -> Result<Self, BundleError> {
        serde_json::from_str(text).map_err(|error| BundleError::Json(error.to_string()))
    }

    /// The C2SP `tlog-proof@v1` text of a single-entry bundle; the entry wire bytes travel in
    /// the `extra` line (unauthenticated there, but the leaf hash binds them).
    pub fn to_tlog_proof(&self) -> Result<String, BundleError> {
        let [bundled_entry] = self.entries.as_slice() else {
            return Err(BundleError::NotSingleEntry(self.entries.len()));
        };
        let mut text = format!(
            "{TLOG_PROOF_HEADER}\nextra {}\nindex {}\n",
            BASE64.encode(&bundled_entry.entry),
            bundled_entry.index
        );
        for proof_hash in &bundled_entry.inclusion_proof {
            text.push_str(&BASE64.encode(proof_hash));
            text.push('\n');
        }
        text.push('\n');
        text.push_str(&self.checkpoint);
        Ok(text)
    }

    /// Parses a `tlog-proof@v1` text whose `extra` line carries the entry wire bytes.
    pub fn from_tlog_proof(text: &str) -> Result<Self, BundleError> {
        let malformed = BundleError::TlogProof;
        let (header_block, checkpoint_note) =
            text.split_once("\n\n").ok_or(malformed("no blank line before the checkpoint"))?;
        let mut lines = header_block.split('\n');
        if lines.next() != Some(TLOG_PROOF_HEADER) {
            return Err(malformed("first line is not c2sp.org/tlog-proof@v1"));
        }
        let mut next_line = lines.next().ok_or(malformed("missing index line"))?;
        let mut entry = None;
        if let Some(encoded) = next_line.strip_prefix("extra ") {
            entry = Some(BASE64.decode(encoded).map_err(|_| malformed("extra is not base64"))?);
            next_line = lines.next().ok_or(malformed("missing index line"))?;
        }
        let index_text = next_line.strip_prefix("index ").ok_or(malformed("missing index line"))?;
        let canonical_decimal = !index_text.is_empty()
            && index_text.bytes().all(|byte| byte.is_ascii_digit())
            && (index_text == "0" || !index_text.starts_with('0'));
        if !canonical_decimal {
            return Err(malformed("index is not a canonical decimal"));
        }
        let index = index_text.parse().map_err(|_| malformed("index does not fit 64 bits"))?;
        let inclusion_proof = lines
            .map(|line| {
                let raw = BASE64.decode(line).map_err(|_| malformed("proof line is not base64"))?;
                Hash::try_from(raw).map_err(|_| malformed("proof line is not a 32-byte hash"))
            })
            .collect::<Result<Vec<Hash>, BundleError>>()?;
        if inclusion_proof.len() > MAX_PROOF_HASHES {
            return Err(malformed("inclusion proof is longer than 64 hashes"));
        }
        let entry = entry.ok_or(malformed("no extra line carrying the entry"))?;
        Ok(Self {
            checkpoint: checkpoint_note.to_owned(),
            entries: vec![BundledEntry { index, entry, inclusion_proof }],
        })
    }
}

/// The evidence behind an answer (a trace, a recall scope, one event, one record): one bundle
/// per feed proving the relied-on entries against the author's latest checkpoint, and the
/// entries no checkpoint covers yet. The node builds it (`store::Store::evidence`) and the
/// client deserialises the same type, so both read one JSON shape:
/// `{"bundles": [ProofBundle…], "unproven": [{"author", "sequence"}…]}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// One bundle per author that has a checkpoint covering at least one relied-on entry, in
    /// author key order, entries by ascending sequence.
    pub bundles: Vec<ProofBundle>,
    /// Relied-on entries beyond their author's latest checkpoint (or of an author with none):
    /// signed and stored, but not yet provable to a client. Absent is read as none.
    #[serde(default)]
    pub unproven: Vec<Unproven>,
}

/// A relied-on entry that no checkpoint covers yet.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Unproven {
    /// The feed's author (lower-case hex in JSON, like every organisation key in an answer).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    #[serde(with = "crate::identity::hex_public_key")]
    pub author: PublicKey,
    /// The entry's position in that feed.
    pub sequence: u64,
}

/// Which witnesses must have cosigned: at least `threshold` distinct keys of `witnesses`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessPolicy {
    /// Trusted witness keys (type `0x04`).
    witnesses: Vec<VerifierKey>,
    /// How many distinct witnesses must have cosigned.
    threshold: usize,
}

impl WitnessPolicy {
    /// `threshold` of `witnesses`; every key must be a cosignature (type `0x04`) key.
    pub fn new(witnesses: Vec<VerifierKey>, threshold: usize) -> Result<Self, BundleError> {
        if threshold > witnesses.len() {
            return Err(BundleError::InvalidPolicy("threshold exceeds the number of witnesses"));
        }
        if witnesses.iter().any(|witness| witness.kind() != KeyKind::CosignatureV1) {
            return Err(BundleError::InvalidPolicy("witness keys must be cosignature/v1 keys"));
        }
        Ok(Self { witnesses, threshold })
    }

    /// No witness required: the author's signature alone is trusted.
    pub fn none() -> Self {
        Self { witnesses: Vec::new(), threshold: 0 }
    }

    /// The trusted witness keys.
    pub fn witnesses(&self) -> &[VerifierKey] {
        &self.witnesses
    }

    /// How many distinct witnesses must have cosigned.
    pub fn threshold(&self) -> usize {
        self.threshold
    }
}

/// A bundle that verified: the checkpoint, the entries and the cosignatures that counted.
#[derive(Debug, Clone)]
pub struct VerifiedBundle {
    /// The verified checkpoint.
    checkpoint: SignedCheckpoint,
    /// The proven entries, signatures checked, in bundle order.
    entries: Vec<VerifiedEntry>,
    /// Valid cosignatures from the policy's witnesses.
    cosignatures: Vec<Cosignature>,
}

impl VerifiedBundle {
    /// The verified checkpoint.
    pub fn checkpoint(&self) -> &SignedCheckpoint {
        &self.checkpoint
    }

    /// The proven entries.
    pub fn entries(&self) -> &[VerifiedEntry] {
        &self.entries
    }

    /// The cosignatures that satisfied the witness policy.
    pub fn cosignatures(&self) -> &[Cosignature] {
        &self.cosignatures
    }

    /// The feed's author.
    pub fn author(&self) -> PublicKey {
        self.checkpoint.author()
    }
}

/// Verifies a bundle offline: the checkpoint is signed by a trusted author under its feed
/// origin, enough trusted witnesses cosigned it, and every entry is validly signed by that
/// author, sits at its sequence number and is included under the checkpoint's root.
pub fn verify_bundle(
    bundle: &ProofBundle,
    trusted_authors: &[PublicKey],
    policy: &WitnessPolicy,
) -> Result<VerifiedBundle, BundleError> {
    if bundle.entries.is_empty() {
        return Err(BundleError::NoEntries);
    }
    if bundle.entries.len() > MAX_BUNDLE_ENTRIES {
        return Err(BundleError::TooManyEntries(bundle.entries.len()));
    }
    let signed_checkpoint = SignedCheckpoint::verify_self_certifying_feed(&bundle.checkpoint)?;
    let author = signed_checkpoint.author();
    if !trusted_authors.contains(&author) {
        return Err(BundleError::UntrustedAuthor(author));
    }
    let cosignatures = signed_checkpoint.verified_cosignatures(&policy.witnesses)?;
    if cosignatures.len() < policy.threshold {
        return Err(BundleError::InsufficientCosignatures {
            required: policy.threshold,
            found: cosignatures.len(),
        });
    }
    let tree_head = signed_checkpoint.checkpoint();
    let mut verified_entries = Vec::with_capacity(bundle.entries.len());
    for (index, bundled_entry) in bundle.entries.iter().enumerate() {
        let entry = VerifiedEntry::decode_and_verify(&bundled_entry.entry)
            .map_err(|source| BundleError::Entry { index, source })?;
        if entry.author() != author {
            return Err(BundleError::AuthorMismatch {
                index,
                expected: author,
                found: entry.author(),
            });
        }
        if entry.sequence() != bundled_entry.index {
            return Err(BundleError::IndexMismatch {
                index,
                sequence: entry.sequence(),
                leaf_index: bundled_entry.index,
            });
        }
        merkle::verify_inclusion(
            &merkle::leaf_hash(entry.leaf_bytes()),
            bundled_entry.index,
            tree_head.size,
            &bundled_entry.inclusion_proof,
            &tree_head.root,
        )
        .map_err(|source| BundleError::Inclusion { index, source })?;
        verified_entries.push(entry);
    }
    Ok(VerifiedBundle { checkpoint: signed_checkpoint, entries: verified_entries, cosignatures })
}

/// Serde helper: bytes as one base64 string.
pub(crate) mod base64_bytes {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as BASE64;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes bytes as standard base64.
    pub(crate) fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&BASE64.encode(bytes))
    }

    /// Reads standard base64.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        BASE64.decode(text).map_err(serde::de::Error::custom)
    }
}

/// Serde helper: one hash as a base64 string.
pub(crate) mod base64_hash {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as BASE64;
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::merkle::Hash;

    /// Writes the hash as standard base64.
    pub(crate) fn serialize<S: Serializer>(hash: &Hash, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&BASE64.encode(hash))
    }

    /// Reads a standard base64 32-byte hash.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Hash, D::Error> {
        let text = String::deserialize(deserializer)?;
        let raw = BASE64.decode(text).map_err(serde::de::Error::custom)?;
        Hash::try_from(raw).map_err(|_| serde::de::Error::custom("a hash is 32 bytes"))
    }
}

/// Serde helper: a list of hashes as base64 strings.
pub(crate) mod base64_hashes {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as BASE64;
    use serde::ser::SerializeSeq;
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::merkle::Hash;

    /// Writes each hash as standard base64.
    pub(crate) fn serialize<S: Serializer>(
        hashes: &[Hash],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut sequence = serializer.serialize_seq(Some(hashes.len()))?;
        for hash in hashes {
            sequence.serialize_element(&BASE64.encode(hash))?;
        }
        sequence.end()
    }

    /// Reads a list of standard base64 32-byte hashes (bounded: a proof is never longer).
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<Hash>, D::Error> {
        let texts = Vec::<String>::deserialize(deserializer)?;
        if texts.len() > super::MAX_SERIALIZED_HASHES {
            return Err(serde::de::Error::custom("too many hashes for a proof"));
        }
        texts
            .into_iter()
            .map(|text| {
                let raw = BASE64.decode(text).map_err(serde::de::Error::custom)?;
                Hash::try_from(raw).map_err(|_| serde::de::Error::custom("a hash is 32 bytes"))
            })
            .collect()
    }
}
