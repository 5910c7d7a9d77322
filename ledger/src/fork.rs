//! Portable fork (equivocation) proofs: evidence, checkable offline by anyone holding the
//! author's key, that an author signed two histories of one feed.
//!
//! Owns: [`ForkProof`] for (a) two validly signed entries at one sequence number with
//! different content, (b) two signed checkpoints of one size with different roots, and (c) two
//! signed checkpoints of different sizes where a consistency proof shows the larger tree's
//! prefix has another root than the smaller checkpoint; its serde form (base64 and hex fields)
//! and [`ForkProof::verify`].
//! Does not own: detecting forks while syncing or freezing the feed (`store`), entry bytes
//! (`feed`), checkpoint formats (`checkpoint`).
//!
//! A failing consistency proof alone proves nothing (anyone can send a bad proof), so case (c)
//! carries a proof that *verifies* against the larger checkpoint for a prefix root that differs
//! from the smaller checkpoint's root; collision resistance then makes both signatures
//! incompatible.

use serde::{Deserialize, Serialize};

use crate::checkpoint::{self, SignedCheckpoint, feed_origin};
use crate::feed::{self, VerifiedEntry};
use crate::identity::PublicKey;
use crate::merkle::{self, Hash, Tree};
use crate::proof::{base64_bytes, base64_hash, base64_hashes};

/// Why a fork proof could not be built or does not verify. Each variant names the rule.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The two items are consistent with each other: no fork.
    #[error("not a fork: {0}")]
    NotAFork(&'static str),
    /// The proof is about another author than the one it is checked against.
    #[error("fork proof names author {found}, expected {expected}")]
    WrongAuthor {
        /// The author the verifier asked about.
        expected: PublicKey,
        /// The author the evidence is signed by.
        found: PublicKey,
    },
    /// The stated position does not match the evidence.
    #[error("fork proof position does not match its evidence")]
    PositionMismatch,
    /// An entry in the evidence does not decode or verify.
    #[error("entry in fork proof: {0}")]
    Entry(#[from] feed::Error),
    /// A checkpoint in the evidence does not verify as the author's feed checkpoint.
    #[error("checkpoint in fork proof: {0}")]
    Checkpoint(#[from] checkpoint::Error),
    /// The consistency proof of a divergence does not verify against the larger checkpoint.
    #[error("consistency proof in fork proof: {0}")]
    Consistency(merkle::Error),
    /// The tree handed in is not the tree the own checkpoint commits to.
    #[error("own tree does not match own checkpoint")]
    TreeDoesNotMatchCheckpoint,
}

/// Where the histories conflict.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForkPosition {
    /// Two entries at this sequence number.
    Sequence(u64),
    /// The trees differ at or before this size (the smaller checkpoint's size): some entry
    /// with a sequence number below it is contested.
    TreeSize(u64),
}

/// The signed material that proves a fork.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ForkEvidence))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Evidence {
    /// Two entries with one author and sequence number but different entry hashes.
    ConflictingEntries {
        /// Wire bytes of one entry (may be a redacted copy).
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Byte))]
        #[serde(with = "base64_bytes")]
        first_entry: Vec<u8>,
        /// Wire bytes of the other entry.
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Byte))]
        #[serde(with = "base64_bytes")]
        second_entry: Vec<u8>,
    },
    /// Two checkpoint notes of one origin and size with different roots.
    ConflictingCheckpoints {
        /// One signed checkpoint note.
        first_checkpoint: String,
        /// The other signed checkpoint note.
        second_checkpoint: String,
    },
    /// A smaller and a larger checkpoint whose trees disagree on the smaller one's prefix.
    DivergentCheckpoints {
        /// The smaller signed checkpoint note.
        smaller_checkpoint: String,
        /// The larger signed checkpoint note.
        larger_checkpoint: String,
        /// Root of the larger tree's first `smaller.size` leaves; differs from smaller's root.
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Byte))]
        #[serde(with = "base64_hash")]
        prefix_root: Hash,
        /// Consistency proof from `prefix_root` to the larger checkpoint's root.
        #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
        #[serde(with = "base64_hashes")]
        consistency_proof: Vec<Hash>,
    },
}

/// Offline-verifiable proof that `author` signed two incompatible histories of its feed.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForkProof {
    /// The equivocating author; kept explicit so the proof can be filed and gossiped by author.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    #[serde(with = "crate::identity::hex_public_key")]
    author: PublicKey,
    /// Where the histories conflict; lets the store freeze the feed from there.
    position: ForkPosition,
    /// The signed material.
    evidence: Evidence,
}

impl ForkProof {
    /// A proof from two verified entries of one author at one sequence number with different
    /// entry hashes. Redacted copies of one entry share its hash and are not a fork.
    pub fn from_entries(first: &VerifiedEntry, second: &VerifiedEntry) -> Result<Self, Error> {
        if !feed::is_equivocation(first, second) {
            return Err(Error::NotAFork("entries differ in author or sequence, or are the same"));
        }
        Ok(Self {
            author: first.author(),
            position: ForkPosition::Sequence(first.sequence()),
            evidence: Evidence::ConflictingEntries {
                first_entry: first.wire_bytes().to_vec(),
                second_entry: second.wire_bytes().to_vec(),
            },
        })
    }

    /// A proof from two feed checkpoints of one author at one size with different roots.
    pub fn from_checkpoints(
        first: &SignedCheckpoint,
        second: &SignedCheckpoint,
    ) -> Result<Self, Error> {
        let author = first.author();
        let (first_head, second_head) = (first.checkpoint(), second.checkpoint());
        if second.author() != author || first_head.origin != second_head.origin {
            return Err(Error::NotAFork("checkpoints belong to different feeds"));
        }
        if first_head.size != second_head.size {
            return Err(Error::NotAFork("checkpoints have different sizes; prove a divergence"));
        }
        if first_head.root == second_head.root {
            return Err(Error::NotAFork("checkpoints agree"));
        }
        let proof = Self {
            author,
            position: ForkPosition::TreeSize(first_head.size),
            evidence: Evidence::ConflictingCheckpoints {
                first_checkpoint: first.to_note_text(),
                second_checkpoint: second.to_note_text(),
            },
        };
        proof.verify(&author)?;
        Ok(proof)
    }

    /// A proof that the larger checkpoint's tree has `prefix_root` at the smaller checkpoint's
    /// size (shown by `consistency_proof`), which differs from the smaller checkpoint's root.
    pub fn from_divergence(
        smaller: &SignedCheckpoint,
        larger: &SignedCheckpoint,
        prefix_root: Hash,
        consistency_proof: Vec<Hash>,
    ) -> Result<Self, Error> {
        let author = smaller.author();
        if larger.author() != author || smaller.checkpoint().origin != larger.checkpoint().origin {
            return Err(Error::NotAFork("checkpoints belong to different feeds"));
        }
        let proof = Self {
            author,
            position: ForkPosition::TreeSize(smaller.checkpoint().size),
            evidence: Evidence::DivergentCheckpoints {
                smaller_checkpoint: smaller.to_note_text(),
                larger_checkpoint: larger.to_note_text(),
                prefix_root,
                consistency_proof,
            },
        };
        proof.verify(&author)?;
        Ok(proof)
    }

    /// Checks a `foreign` checkpoint against the node's `own` checkpoint and the tree behind
    /// it. Returns `Ok(None)` when they are consistent, `Ok(Some(proof))` when they fork, and
    /// an error when the foreign checkpoint is larger (its tree is needed to judge it) or
    /// `own_tree` does not match `own`.
    pub fn check_against_own_tree(
        foreign: &SignedCheckpoint,
        own: &SignedCheckpoint,
        own_tree: &Tree,
    ) -> Result<Option<Self>, Error> {
        let own_head = own.checkpoint();
        let foreign_head = foreign.checkpoint();
        let own_root = own_tree.root_at(own_head.size).map_err(Error::Consistency)?;
        if own_root != own_head.root {
            return Err(Error::TreeDoesNotMatchCheckpoint);
        }
        if foreign_head.size > own_head.size {
            return Err(Error::NotAFork("the foreign checkpoint is larger than the own tree"));
        }
        let prefix_root = own_tree.root_at(foreign_head.size).map_err(Error::Consistency)?;
        if prefix_root == foreign_head.root {
            return Ok(None);
        }
        if foreign_head.size == own_head.size {
            return Self::from_checkpoints(foreign, own).map(Some);
        }
        let consistency_proof = own_tree
            .consistency_proof(foreign_head.size, own_head.size)
            .map_err(Error::Consistency)?;
        Self::from_divergence(foreign, own, prefix_root, consistency_proof).map(Some)
    }

    /// Checks a larger `foreign` checkpoint against the node's smaller `own` one, given the
    /// consistency proof the peer sent with it (`own.size` to `foreign.size`). Returns
    /// `Ok(None)` when the proof shows consistency, `Ok(Some(proof))` when the proof verifies
    /// against the foreign root for a prefix root other than `own`'s (a fork), and an error
    /// when it shows neither: a bad proof is no evidence, and a proof from a power-of-two size
    /// omits the prefix root (ask the peer for a proof from another size, or for its tree).
    pub fn check_foreign_extension(
        own: &SignedCheckpoint,
        foreign: &SignedCheckpoint,
        consistency_proof: &[Hash],
    ) -> Result<Option<Self>, Error> {
        let (own_head, foreign_head) = (own.checkpoint(), foreign.checkpoint());
        if own.author() != foreign.author() || own_head.origin != foreign_head.origin {
            return Err(Error::NotAFork("checkpoints belong to different feeds"));
        }
        if merkle::verify_consistency(
            own_head.size,
            foreign_head.size,
            &own_head.root,
            &foreign_head.root,
            consistency_proof,
        )
        .is_ok()
        {
            return Ok(None);
        }
        if own_head.size == foreign_head.size {
            return Self::from_checkpoints(own, foreign).map(Some);
        }
        let prefix_root = merkle::old_root_from_consistency_proof(
            own_head.size,
            foreign_head.size,
            &foreign_head.root,
            consistency_proof,
        )
        .map_err(Error::Consistency)?;
        Self::from_divergence(own, foreign, prefix_root, consistency_proof.to_vec()).map(Some)
    }

    /// The equivocating author.
    pub fn author(&self) -> PublicKey {
        self.author
    }

    /// Where the histories conflict.
    pub fn position(&self) -> ForkPosition {
        self.position
    }

    /// The signed material.
    pub fn evidence(&self) -> &Evidence {
        &self.evidence
    }

    /// Re-checks everything offline against `author`: every signature, the stated position,
    /// and that the two items really cannot both be true.
    pub fn verify(&self, author: &PublicKey) -> Result<(), Error> {
        if self.author != *author {
            return Err(Error::WrongAuthor { expected: *author, found: self.author });
        }
        match &self.evidence {
            Evidence::ConflictingEntries { first_entry, second_entry } => {
                let first = VerifiedEntry::decode_and_verify(first_entry)?;
                let second = VerifiedEntry::decode_and_verify(second_entry)?;
                if first.author() != *author {
                    return Err(Error::WrongAuthor { expected: *author, found: first.author() });
                }
                if !feed::is_equivocation(&first, &second) {
                    return Err(Error::NotAFork("entries do not conflict"));
                }
                if self.position != ForkPosition::Sequence(first.sequence()) {
                    return Err(Error::PositionMismatch);
                }
            }
            Evidence::ConflictingCheckpoints { first_checkpoint, second_checkpoint } => {
                let first = SignedCheckpoint::verify_feed(first_checkpoint, author)?;
                let second = SignedCheckpoint::verify_feed(second_checkpoint, author)?;
                let (first_head, second_head) = (first.checkpoint(), second.checkpoint());
                if first_head.size != second_head.size || first_head.root == second_head.root {
                    return Err(Error::NotAFork("checkpoints do not conflict"));
                }
                if self.position != ForkPosition::TreeSize(first_head.size) {
                    return Err(Error::PositionMismatch);
                }
            }
            Evidence::DivergentCheckpoints {
                smaller_checkpoint,
                larger_checkpoint,
                prefix_root,
                consistency_proof,
            } => {
                let smaller = SignedCheckpoint::verify_feed(smaller_checkpoint, author)?;
                let larger = SignedCheckpoint::verify_feed(larger_checkpoint, author)?;
                let (smaller_head, larger_head) = (smaller.checkpoint(), larger.checkpoint());
                if smaller_head.size >= larger_head.size {
                    return Err(Error::NotAFork("a divergence needs a strictly larger checkpoint"));
                }
                if *prefix_root == smaller_head.root {
                    return Err(Error::NotAFork("the larger tree's prefix matches"));
                }
                merkle::verify_consistency(
                    smaller_head.size,
                    larger_head.size,
                    prefix_root,
                    &larger_head.root,
                    consistency_proof,
                )
                .map_err(Error::Consistency)?;
                if self.position != ForkPosition::TreeSize(smaller_head.size) {
                    return Err(Error::PositionMismatch);
                }
            }
        }
        Ok(())
    }

    /// The feed origin the proof is about.
    pub fn origin(&self) -> String {
        feed_origin(&self.author)
    }
}
