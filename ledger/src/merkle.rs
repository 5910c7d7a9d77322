//! RFC 6962 / RFC 9162 Merkle trees: hashing, an incremental in-memory tree, and proof
//! generation and verification.
//!
//! Owns: the leaf and interior-node hash rules (`SHA-256(0x00 || leaf)`,
//! `SHA-256(0x01 || left || right)`), the Merkle Tree Hash of a list of leaf hashes, the
//! append-only [`Tree`] that answers roots, inclusion proofs and consistency proofs for any past
//! size in O(log n), and the pure verification algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2.
//! Does not own: what a leaf is (the store hashes entry wire bytes), signed tree heads (see
//! `checkpoint`), persistence (see `store`), or tiles.
//!
//! **Invariant:** `Tree::levels[level][i]` is the hash of the full subtree over leaves
//! `[i·2^level, (i+1)·2^level)`, so every node an RFC 6962 proof needs is either stored or is a
//! right fold of O(log n) stored nodes. Memory is about two hashes (64 bytes) per leaf.

use sha2::{Digest, Sha256};

/// Length in bytes of every hash in the tree (SHA-256).
pub const HASH_LEN: usize = 32;

/// A SHA-256 hash: a leaf hash, an interior node hash or a root.
pub type Hash = [u8; HASH_LEN];

/// The Merkle Tree Hash of the empty tree: `SHA-256("")` (RFC 9162 §2.1.1).
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// Domain-separation prefix of a leaf hash; keeps a leaf from posing as an interior node.
const LEAF_PREFIX: u8 = 0x00;
/// Domain-separation prefix of an interior node hash.
const NODE_PREFIX: u8 = 0x01;

/// Why a tree query or a proof verification failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A past size was requested that the tree has not reached.
    #[error("tree size {requested} is beyond the {available} leaves the tree holds")]
    SizeBeyondTree {
        /// The size asked for.
        requested: u64,
        /// The number of leaves appended so far.
        available: u64,
    },
    /// A leaf index must be below the tree size.
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange {
        /// The leaf index given.
        index: u64,
        /// The tree size it was checked against.
        size: u64,
    },
    /// A consistency proof only runs from a smaller (or equal) tree to a larger one.
    #[error("old tree size {old_size} exceeds new tree size {new_size}")]
    OldSizeExceedsNewSize {
        /// The claimed older size.
        old_size: u64,
        /// The claimed newer size.
        new_size: u64,
    },
    /// The proof has more hashes than the path from the leaf (or old tree) to the root.
    #[error("proof has more hashes than the tree shape allows")]
    ProofTooLong,
    /// The proof ends before reaching the root.
    #[error("proof has fewer hashes than the tree shape requires")]
    ProofTooShort,
    /// A consistency proof between two different non-empty sizes is never empty.
    #[error("consistency proof is empty but the sizes differ")]
    EmptyConsistencyProof,
    /// Between equal sizes, or from the empty tree, the proof must be empty.
    #[error("consistency proof must be empty for equal sizes or an empty old tree")]
    UnexpectedConsistencyProof,
    /// The proof does not lead to the expected root (of the single tree, or of the new tree).
    #[error("proof does not reproduce the expected root hash")]
    RootMismatch,
    /// The consistency proof does not reproduce the old tree's root.
    #[error("consistency proof does not reproduce the old root hash")]
    OldRootMismatch,
    /// A proof from a power-of-two (or empty, or not smaller) old size omits the old root.
    #[error("a consistency proof from size {old_size} does not determine the old root")]
    OldRootNotDetermined {
        /// The old size asked about.
        old_size: u64,
    },
}

/// The RFC 6962 leaf hash: `SHA-256(0x00 || leaf)`.
pub fn leaf_hash(leaf: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([LEAF_PREFIX]);
    hasher.update(leaf);
    hasher.finalize().into()
}

/// The RFC 6962 interior node hash: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([NODE_PREFIX]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The Merkle Tree Hash (RFC 9162 §2.1.1) of a list of leaf hashes, computed straight from the
/// recursive definition. O(n); use a [`Tree`] for repeated queries.
pub fn root(leaf_hashes: &[Hash]) -> Hash {
    match leaf_hashes {
        [] => EMPTY_ROOT,
        [single_leaf_hash] => *single_leaf_hash,
        _ => {
            let split = largest_power_of_two_below(leaf_hashes.len() as u64) as usize;
            node_hash(&root(&leaf_hashes[..split]), &root(&leaf_hashes[split..]))
        }
    }
}

/// The largest power of two strictly smaller than `count` (`count` must be at least 2): where
/// RFC 6962 splits a tree of `count` leaves.
fn largest_power_of_two_below(count: u64) -> u64 {
    debug_assert!(count >= 2);
    1 << (63 - (count - 1).leading_zeros())
}

/// An append-only Merkle tree kept in memory with every full-subtree hash.
///
/// Appending is O(1) amortised; [`Tree::root_at`], [`Tree::inclusion_proof`] and
/// [`Tree::consistency_proof`] are O(log n) for any size the tree has passed through, which is
/// what a log needs to answer a client that holds an old checkpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tree {
    /// `levels[0]` holds the leaf hashes; `levels[l][i]` the hash of the full subtree over leaves
    /// `[i·2^l, (i+1)·2^l)`. Only complete subtrees are stored, so past sizes stay answerable.
    levels: Vec<Vec<Hash>>,
}

impl Tree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// A tree holding `leaf_hashes` in order.
    pub fn from_leaf_hashes(leaf_hashes: impl IntoIterator<Item = Hash>) -> Self {
        let mut tree = Self::new();
        for leaf_hash in leaf_hashes {
            tree.push_leaf_hash(leaf_hash);
        }
        tree
    }

    /// Number of leaves appended so far.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |leaf_level| leaf_level.len() as u64)
    }

    /// Whether no leaf has been appended yet.
    pub fn is_empty(&self) -> bool {
        self.size() == 0
    }

    /// Appends an already computed leaf hash and returns its index.
    pub fn push_leaf_hash(&mut self, leaf_hash: Hash) -> u64 {
        let index = self.size();
        let mut carried_hash = leaf_hash;
        let mut level = 0;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let level_hashes = &mut self.levels[level];
            level_hashes.push(carried_hash);
            // A new full subtree one level up exists exactly when this level became even.
            if level_hashes.len() % 2 == 1 {
                break;
            }
            let right = level_hashes[level_hashes.len() - 1];
            let left = level_hashes[level_hashes.len() - 2];
            carried_hash = node_hash(&left, &right);
            level += 1;
        }
        index
    }

    /// Hashes `leaf` with [`leaf_hash`], appends it and returns its index.
    pub fn push_leaf(&mut self, leaf: &[u8]) -> u64 {
        self.push_leaf_hash(leaf_hash(leaf))
    }

    /// The leaf hash at `index`, if appended.
    pub fn leaf_hash(&self, index: u64) -> Option<Hash> {
        let index = usize::try_from(index).ok()?;
        self.levels.first()?.get(index).copied()
    }

    /// The root of the tree at its current size.
    pub fn root(&self) -> Hash {
        self.subtree_hash(0, self.size())
    }

    /// The root the tree had when it held `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash, Error> {
        self.check_size(size)?;
        Ok(self.subtree_hash(0, size))
    }

    /// The RFC 9162 §2.1.3.1 inclusion proof of leaf `index` in the tree of `size` leaves: sibling
    /// hashes from the leaf up to (excluding) the root.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, Error> {
        self.check_size(size)?;
        if index >= size {
            return Err(Error::IndexOutOfRange { index, size });
        }
        // Walk the RFC's PATH recursion top-down, then reverse: the proof lists the deepest
        // sibling first.
        let mut siblings_top_down = Vec::new();
        let (mut range_start, mut range_end) = (0, size);
        while range_end - range_start > 1 {
            let split = range_start + largest_power_of_two_below(range_end - range_start);
            if index < split {
                siblings_top_down.push(self.subtree_hash(split, range_end));
                range_end = split;
            } else {
                siblings_top_down.push(self.subtree_hash(range_start, split));
                range_start = split;
            }
        }
        siblings_top_down.reverse();
        Ok(siblings_top_down)
    }

    /// The RFC 9162 §2.1.4.1 consistency proof that the tree of `old_size` leaves is a prefix of
    /// the tree of `new_size` leaves. Empty when `old_size` is 0 or equals `new_size`.
    pub fn consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<Hash>, Error> {
        self.check_size(new_size)?;
        if old_size > new_size {
            return Err(Error::OldSizeExceedsNewSize { old_size, new_size });
        }
        if old_size == 0 || old_size == new_size {
            return Ok(Vec::new());
        }
        // The RFC's SUBPROOF recursion, walked top-down; `old_is_whole_subtree` is its flag `b`.
        let mut proof_top_down = Vec::new();
        let (mut range_start, mut range_end) = (0, new_size);
        let mut old_is_whole_subtree = true;
        loop {
            if old_size == range_end {
                if !old_is_whole_subtree {
                    proof_top_down.push(self.subtree_hash(range_start, range_end));
                }
                break;
            }
            let split = range_start + largest_power_of_two_below(range_end - range_start);
            if old_size <= split {
                proof_top_down.push(self.subtree_hash(split, range_end));
                range_end = split;
            } else {
                proof_top_down.push(self.subtree_hash(range_start, split));
                range_start = split;
                old_is_whole_subtree = false;
            }
        }
        proof_top_down.reverse();
        Ok(proof_top_down)
    }

    fn check_size(&self, size: u64) -> Result<(), Error> {
        let available = self.size();
        if size > available {
            return Err(Error::SizeBeyondTree { requested: size, available });
        }
        Ok(())
    }

    /// The Merkle Tree Hash of leaves `[range_start, range_end)`, for ranges that RFC 6962's
    /// recursion produces (`range_start` is a multiple of the smallest power of two at least
    /// the range's length). Such a range is a run of stored full subtrees of strictly
    /// decreasing size, combined by a right fold.
    fn subtree_hash(&self, range_start: u64, range_end: u64) -> Hash {
        if range_start == range_end {
            return EMPTY_ROOT;
        }
        let mut full_subtrees: Vec<Hash> = Vec::with_capacity(self.levels.len());
        let mut position = range_start;
        while position < range_end {
            let remaining = range_end - position;
            let mut level = position.trailing_zeros().min(63 - remaining.leading_zeros());
            while (1u64 << level) > remaining {
                level -= 1;
            }
            full_subtrees.push(self.levels[level as usize][(position >> level) as usize]);
            position += 1 << level;
        }
        let mut folded_hash = full_subtrees.pop().unwrap_or(EMPTY_ROOT);
        while let Some(left_hash) = full_subtrees.pop() {
            folded_hash = node_hash(&left_hash, &folded_hash);
        }
        folded_hash
    }
}

/// Recomputes the root from a leaf hash and its inclusion proof (RFC 9162 §2.1.3.2 steps 1-4),
/// checking the proof length against the tree shape.
pub fn root_from_inclusion_proof(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
) -> Result<Hash, Error> {
    if index >= size {
        return Err(Error::IndexOutOfRange { index, size });
    }
    let mut first_number = index;
    let mut second_number = size - 1;
    let mut running_hash = *leaf_hash;
    for proof_hash in proof {
        if second_number == 0 {
            return Err(Error::ProofTooLong);
        }
        if first_number & 1 == 1 || first_number == second_number {
            running_hash = node_hash(proof_hash, &running_hash);
            if first_number & 1 == 0 {
                while first_number & 1 == 0 && first_number != 0 {
                    first_number >>= 1;
                    second_number >>= 1;
                }
            }
        } else {
            running_hash = node_hash(&running_hash, proof_hash);
        }
        first_number >>= 1;
        second_number >>= 1;
    }
    if second_number != 0 {
        return Err(Error::ProofTooShort);
    }
    Ok(running_hash)
}

/// Verifies that `leaf_hash` is leaf `index` of the tree of `size` leaves whose root is `root`
/// (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), Error> {
    let computed_root = root_from_inclusion_proof(leaf_hash, index, size, proof)?;
    if computed_root != *root {
        return Err(Error::RootMismatch);
    }
    Ok(())
}

/// Verifies that the tree of `old_size` leaves with root `old_root` is a prefix of the tree of
/// `new_size` leaves with root `new_root` (RFC 9162 §2.1.4.2).
///
/// The RFC leaves two edge cases to the caller; they are decided here: between equal sizes the
/// proof must be empty and the roots equal, and from the empty tree the proof must be empty and
/// `old_root` must be [`EMPTY_ROOT`].
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), Error> {
    if old_size > new_size {
        return Err(Error::OldSizeExceedsNewSize { old_size, new_size });
    }
    if old_size == 0 || old_size == new_size {
        if !proof.is_empty() {
            return Err(Error::UnexpectedConsistencyProof);
        }
        if old_size == 0 && *old_root != EMPTY_ROOT {
            return Err(Error::OldRootMismatch);
        }
        if old_size == new_size && old_root != new_root {
            return Err(Error::RootMismatch);
        }
        return Ok(());
    }
    // Step 1.
    let Some((first_proof_hash, remaining_proof)) = proof.split_first() else {
        return Err(Error::EmptyConsistencyProof);
    };
    // Step 2: a power-of-two old tree is itself a node of the new tree, so the proof omits it.
    let (start_hash, path) = if old_size.is_power_of_two() {
        (old_root, proof)
    } else {
        (first_proof_hash, remaining_proof)
    };
    let (computed_old_root, computed_new_root) =
        consistency_roots(old_size, new_size, start_hash, path)?;
    // Step 7.
    if computed_old_root != *old_root {
        return Err(Error::OldRootMismatch);
    }
    if computed_new_root != *new_root {
        return Err(Error::RootMismatch);
    }
    Ok(())
}

/// The old root a consistency proof commits to, after checking that it leads to `new_root`.
///
/// Only defined when `0 < old_size < new_size` and `old_size` is not a power of two: then the
/// proof itself carries enough to rebuild the old root (for a power of two, the old tree is a
/// single node of the new tree and the proof omits it). Lets a node that holds a smaller tree
/// turn a peer's proof into evidence of a fork when the rebuilt root differs from its own.
pub fn old_root_from_consistency_proof(
    old_size: u64,
    new_size: u64,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<Hash, Error> {
    if old_size == 0 || old_size >= new_size || old_size.is_power_of_two() {
        return Err(Error::OldRootNotDetermined { old_size });
    }
    let (start_hash, path) = proof.split_first().ok_or(Error::EmptyConsistencyProof)?;
    let (computed_old_root, computed_new_root) =
        consistency_roots(old_size, new_size, start_hash, path)?;
    if computed_new_root != *new_root {
        return Err(Error::RootMismatch);
    }
    Ok(computed_old_root)
}

/// RFC 9162 §2.1.4.2 steps 3 to 6 for `0 < old_size < new_size`: walks `path` from
/// `start_hash` and returns the old and new roots it yields, checking the path length.
fn consistency_roots(
    old_size: u64,
    new_size: u64,
    start_hash: &Hash,
    path: &[Hash],
) -> Result<(Hash, Hash), Error> {
    // Step 3.
    let mut first_number = old_size - 1;
    let mut second_number = new_size - 1;
    // Step 4.
    while first_number & 1 == 1 {
        first_number >>= 1;
        second_number >>= 1;
    }
    // Step 5.
    let mut first_running_hash = *start_hash;
    let mut second_running_hash = *start_hash;
    // Step 6.
    for proof_hash in path {
        if second_number == 0 {
            return Err(Error::ProofTooLong);
        }
        if first_number & 1 == 1 || first_number == second_number {
            first_running_hash = node_hash(proof_hash, &first_running_hash);
            second_running_hash = node_hash(proof_hash, &second_running_hash);
            if first_number & 1 == 0 {
                while first_number & 1 == 0 && first_number != 0 {
                    first_number >>= 1;
                    second_number >>= 1;
                }
            }
        } else {
            second_running_hash = node_hash(&second_running_hash, proof_hash);
        }
        first_number >>= 1;
        second_number >>= 1;
    }
    // Step 7 (the length part; the caller compares the roots).
    if second_number != 0 {
        return Err(Error::ProofTooShort);
    }
    Ok((first_running_hash, second_running_hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_point_is_the_largest_power_of_two_below() {
        for (count, expected_split) in [(2, 1), (3, 2), (4, 2), (5, 4), (8, 4), (9, 8), (1000, 512)]
        {
            assert_eq!(largest_power_of_two_below(count), expected_split, "count {count}");
        }
        assert_eq!(largest_power_of_two_below(u64::MAX), 1 << 63);
    }

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        let digest: Hash = Sha256::digest(b"").into();
        assert_eq!(EMPTY_ROOT, digest);
        assert_eq!(Tree::new().root(), EMPTY_ROOT);
    }
}
