//! Exhaustive and property tests for `merkle` proofs: every tree size from 1 to a few thousand,
//! every index for small sizes, every (old, new) pair up to 300, and every way of tampering with
//! a proof (each hash flipped, wrong index, wrong size, truncated, extended) must fail.
//!
//! The expected proofs come from `reference_path` / `reference_subproof` below, written straight
//! from the recursive definitions of RFC 9162 §2.1.3.1 and §2.1.4.1, independently of `Tree`.

use lotline_ledger::merkle::{
    self, EMPTY_ROOT, Error, Hash, Tree, leaf_hash, verify_consistency, verify_inclusion,
};
use proptest::prelude::*;

/// Largest tree built by the sweeping tests.
const LARGE_TREE_SIZE: u64 = 3000;
/// Every index of every size up to this one is checked, with all tampering variants.
const EXHAUSTIVE_INCLUSION_SIZE: u64 = 96;
/// Every (old, new) pair up to this size is checked.
const EXHAUSTIVE_CONSISTENCY_SIZE: u64 = 300;

fn test_leaf_hashes(count: u64) -> Vec<Hash> {
    (0..count).map(|index| leaf_hash(format!("entry {index}").as_bytes())).collect()
}

fn test_tree(count: u64) -> (Tree, Vec<Hash>) {
    let leaf_hashes = test_leaf_hashes(count);
    (Tree::from_leaf_hashes(leaf_hashes.iter().copied()), leaf_hashes)
}

fn split_of(count: usize) -> usize {
    let mut split = 1;
    while split * 2 < count {
        split *= 2;
    }
    split
}

/// RFC 9162 §2.1.3.1 PATH(m, D_n), from the definition.
fn reference_path(index: usize, leaf_hashes: &[Hash]) -> Vec<Hash> {
    if leaf_hashes.len() <= 1 {
        return Vec::new();
    }
    let split = split_of(leaf_hashes.len());
    if index < split {
        let mut path = reference_path(index, &leaf_hashes[..split]);
        path.push(merkle::root(&leaf_hashes[split..]));
        path
    } else {
        let mut path = reference_path(index - split, &leaf_hashes[split..]);
        path.push(merkle::root(&leaf_hashes[..split]));
        path
    }
}

/// RFC 9162 §2.1.4.1 SUBPROOF(m, D_n, b), from the definition.
fn reference_subproof(old_size: usize, leaf_hashes: &[Hash], whole_subtree: bool) -> Vec<Hash> {
    if old_size == leaf_hashes.len() {
        return if whole_subtree { Vec::new() } else { vec![merkle::root(leaf_hashes)] };
    }
    let split = split_of(leaf_hashes.len());
    if old_size <= split {
        let mut proof = reference_subproof(old_size, &leaf_hashes[..split], whole_subtree);
        proof.push(merkle::root(&leaf_hashes[split..]));
        proof
    } else {
        let mut proof = reference_subproof(old_size - split, &leaf_hashes[split..], false);
        proof.push(merkle::root(&leaf_hashes[..split]));
        proof
    }
}

fn flip_bit(hash: &Hash, bit: usize) -> Hash {
    let mut flipped = *hash;
    flipped[bit / 8 % merkle::HASH_LEN] ^= 1 << (bit % 8);
    flipped
}

/// Every tampered variant of a valid inclusion proof of `index` in a tree of `size`.
///
/// A wrong size is checked against the root `full_tree` had at that size: an RFC 6962 proof
/// does not commit to the size by itself (the signed checkpoint binds size and root), so the
/// meaningful claim is that the proof does not fit the tree of any other size.
fn assert_inclusion_tampering_fails(
    full_tree: &Tree,
    leaf_hash_at_index: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) {
    let rejects = |leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash| {
        verify_inclusion(leaf, index, size, proof, root).is_err()
    };
    for position in 0..proof.len() {
        let mut tampered = proof.to_vec();
        tampered[position] = flip_bit(&tampered[position], position * 7 + 3);
        assert!(
            rejects(leaf_hash_at_index, index, size, &tampered, root),
            "hash {position} flipped"
        );
    }
    assert!(rejects(&flip_bit(leaf_hash_at_index, 0), index, size, proof, root), "other leaf");
    assert!(rejects(leaf_hash_at_index, index, size, proof, &flip_bit(root, 255)), "other root");
    for wrong_index in [index.wrapping_sub(1), index + 1, index ^ 2, size, u64::MAX] {
        if wrong_index != index {
            assert!(
                rejects(leaf_hash_at_index, wrong_index, size, proof, root),
                "index {wrong_index}"
            );
        }
    }
    for wrong_size in [size + 1, size * 2, size.saturating_sub(1)] {
        if wrong_size != size
            && let Ok(root_at_wrong_size) = full_tree.root_at(wrong_size)
        {
            assert!(
                rejects(leaf_hash_at_index, index, wrong_size, proof, &root_at_wrong_size),
                "size {wrong_size}"
            );
        }
    }
    if !proof.is_empty() {
        assert!(
            rejects(leaf_hash_at_index, index, size, &proof[..proof.len() - 1], root),
            "truncated"
        );
        assert!(rejects(leaf_hash_at_index, index, size, &proof[1..], root), "first dropped");
    }
    let mut extended = proof.to_vec();
    extended.push(*root);
    assert!(rejects(leaf_hash_at_index, index, size, &extended, root), "extended");
    let mut prepended = vec![*leaf_hash_at_index];
    prepended.extend_from_slice(proof);
    assert!(rejects(leaf_hash_at_index, index, size, &prepended, root), "prepended");
}

/// Every tampered variant of a valid consistency proof from `old_size` to `new_size`; wrong
/// sizes are paired with the roots `full_tree` had at those sizes (see the inclusion twin).
fn assert_consistency_tampering_fails(
    full_tree: &Tree,
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) {
    let rejects =
        |old_size: u64, new_size: u64, old_root: &Hash, new_root: &Hash, proof: &[Hash]| {
            verify_consistency(old_size, new_size, old_root, new_root, proof).is_err()
        };
    for position in 0..proof.len() {
        let mut tampered = proof.to_vec();
        tampered[position] = flip_bit(&tampered[position], position * 5 + 1);
        assert!(
            rejects(old_size, new_size, old_root, new_root, &tampered),
            "hash {position} flipped"
        );
    }
    assert!(rejects(old_size, new_size, &flip_bit(old_root, 9), new_root, proof), "old root");
    // From the empty tree every new root is consistent, so only a non-empty old tree binds it.
    if old_size > 0 {
        assert!(rejects(old_size, new_size, old_root, &flip_bit(new_root, 9), proof), "new root");
    }
    if !proof.is_empty() {
        assert!(
            rejects(old_size, new_size, old_root, new_root, &proof[..proof.len() - 1]),
            "truncated"
        );
        assert!(rejects(old_size, new_size, old_root, new_root, &proof[1..]), "first dropped");
    }
    let mut extended = proof.to_vec();
    extended.push(*new_root);
    assert!(rejects(old_size, new_size, old_root, new_root, &extended), "extended");
    for wrong_new_size in [new_size + 1, new_size * 2 + 1] {
        if old_size > 0
            && let Ok(root_at_wrong_size) = full_tree.root_at(wrong_new_size)
        {
            assert!(
                rejects(old_size, wrong_new_size, old_root, &root_at_wrong_size, proof),
                "new size {wrong_new_size}"
            );
        }
    }
    for wrong_old_size in [old_size + 1, old_size.saturating_sub(1)] {
        if wrong_old_size != old_size
            && wrong_old_size > 0
            && wrong_old_size < new_size
            && let Ok(root_at_wrong_size) = full_tree.root_at(wrong_old_size)
        {
            assert!(
                rejects(wrong_old_size, new_size, &root_at_wrong_size, new_root, proof),
                "old size {wrong_old_size}"
            );
        }
    }
    if old_size != new_size {
        assert!(rejects(new_size, old_size, old_root, new_root, proof), "sizes swapped");
    }
}

#[test]
fn tree_roots_match_the_recursive_definition_for_every_size() {
    let (tree, leaf_hashes) = test_tree(LARGE_TREE_SIZE);
    assert_eq!(tree.size(), LARGE_TREE_SIZE);
    assert_eq!(tree.root_at(0).unwrap(), EMPTY_ROOT);
    for size in 1..=LARGE_TREE_SIZE {
        let expected_root = merkle::root(&leaf_hashes[..size as usize]);
        assert_eq!(tree.root_at(size).unwrap(), expected_root, "size {size}");
    }
    assert_eq!(tree.root(), merkle::root(&leaf_hashes));
}

#[test]
fn incremental_tree_at_each_size_equals_the_past_size_view_of_a_bigger_tree() {
    let (bigger_tree, leaf_hashes) = test_tree(200);
    let mut growing_tree = Tree::new();
    for (index, leaf) in leaf_hashes.iter().enumerate() {
        assert_eq!(growing_tree.push_leaf_hash(*leaf), index as u64);
        let size = index as u64 + 1;
        assert_eq!(growing_tree.root(), bigger_tree.root_at(size).unwrap());
        assert_eq!(
            growing_tree.inclusion_proof(index as u64, size),
            bigger_tree.inclusion_proof(index as u64, size)
        );
    }
    assert_eq!(growing_tree, bigger_tree);
}

#[test]
fn every_inclusion_proof_of_small_trees_matches_the_rfc_and_resists_tampering() {
    let (tree, leaf_hashes) = test_tree(EXHAUSTIVE_INCLUSION_SIZE * 2 + 1);
    for size in 1..=EXHAUSTIVE_INCLUSION_SIZE {
        let prefix = &leaf_hashes[..size as usize];
        let root = tree.root_at(size).unwrap();
        for index in 0..size {
            let proof = tree.inclusion_proof(index, size).unwrap();
            assert_eq!(proof, reference_path(index as usize, prefix), "index {index} size {size}");
            verify_inclusion(&prefix[index as usize], index, size, &proof, &root).unwrap();
            assert_inclusion_tampering_fails(
                &tree,
                &prefix[index as usize],
                index,
                size,
                &proof,
                &root,
            );
        }
    }
}

#[test]
fn sampled_inclusion_proofs_of_large_trees_verify_and_resist_tampering() {
    let (tree, leaf_hashes) = test_tree(LARGE_TREE_SIZE * 2 + 1);
    for size in EXHAUSTIVE_INCLUSION_SIZE..=LARGE_TREE_SIZE {
        let root = tree.root_at(size).unwrap();
        let sampled_indices =
            [0, 1, size / 3, size / 2, size - 2, size - 1, (size * 7919 + 13) % size];
        for index in sampled_indices {
            let proof = tree.inclusion_proof(index, size).unwrap();
            verify_inclusion(&leaf_hashes[index as usize], index, size, &proof, &root).unwrap();
            if size % 97 == 0 {
                assert_inclusion_tampering_fails(
                    &tree,
                    &leaf_hashes[index as usize],
                    index,
                    size,
                    &proof,
                    &root,
                );
            }
        }
    }
}

#[test]
fn every_consistency_pair_up_to_300_matches_the_rfc_and_verifies() {
    let (tree, leaf_hashes) = test_tree(EXHAUSTIVE_CONSISTENCY_SIZE * 2 + 1);
    let roots: Vec<Hash> =
        (0..=EXHAUSTIVE_CONSISTENCY_SIZE).map(|size| tree.root_at(size).unwrap()).collect();
    for new_size in 1..=EXHAUSTIVE_CONSISTENCY_SIZE {
        for old_size in 0..=new_size {
            let proof = tree.consistency_proof(old_size, new_size).unwrap();
            if new_size <= 64 && old_size > 0 {
                let expected =
                    reference_subproof(old_size as usize, &leaf_hashes[..new_size as usize], true);
                assert_eq!(proof, expected, "old {old_size} new {new_size}");
            }
            let (old_root, new_root) = (&roots[old_size as usize], &roots[new_size as usize]);
            verify_consistency(old_size, new_size, old_root, new_root, &proof)
                .unwrap_or_else(|error| panic!("old {old_size} new {new_size}: {error}"));
            if new_size <= 128 || (old_size + new_size) % 23 == 0 {
                assert_consistency_tampering_fails(
                    &tree, old_size, new_size, old_root, new_root, &proof,
                );
            }
        }
    }
}

#[test]
fn sampled_consistency_proofs_of_large_trees_verify() {
    let (tree, _) = test_tree(LARGE_TREE_SIZE * 2 + 1);
    for new_size in (EXHAUSTIVE_CONSISTENCY_SIZE..=LARGE_TREE_SIZE).step_by(37) {
        for old_size in
            [1, 2, 3, new_size / 2, new_size - 1, new_size, (new_size * 31 + 7) % new_size + 1]
        {
            let proof = tree.consistency_proof(old_size, new_size).unwrap();
            let old_root = tree.root_at(old_size).unwrap();
            let new_root = tree.root_at(new_size).unwrap();
            verify_consistency(old_size, new_size, &old_root, &new_root, &proof).unwrap();
            assert_consistency_tampering_fails(
                &tree, old_size, new_size, &old_root, &new_root, &proof,
            );
        }
    }
}

#[test]
fn consistency_edge_cases_are_decided_explicitly() {
    let (tree, _) = test_tree(10);
    let root_10 = tree.root();
    // From the empty tree: empty proof and the empty root.
    verify_consistency(0, 10, &EMPTY_ROOT, &root_10, &[]).unwrap();
    assert_eq!(verify_consistency(0, 10, &root_10, &root_10, &[]), Err(Error::OldRootMismatch));
    assert_eq!(
        verify_consistency(0, 10, &EMPTY_ROOT, &root_10, &[root_10]),
        Err(Error::UnexpectedConsistencyProof)
    );
    // Equal sizes: empty proof and equal roots.
    verify_consistency(10, 10, &root_10, &root_10, &[]).unwrap();
    assert_eq!(verify_consistency(10, 10, &EMPTY_ROOT, &root_10, &[]), Err(Error::RootMismatch));
    // Shrinking is never consistent.
    assert!(matches!(
        verify_consistency(10, 9, &root_10, &root_10, &[]),
        Err(Error::OldSizeExceedsNewSize { old_size: 10, new_size: 9 })
    ));
    assert!(matches!(tree.consistency_proof(5, 4), Err(Error::OldSizeExceedsNewSize { .. })));
    // Different sizes never accept an empty proof.
    let root_5 = tree.root_at(5).unwrap();
    assert_eq!(
        verify_consistency(5, 10, &root_5, &root_10, &[]),
        Err(Error::EmptyConsistencyProof)
    );
}

#[test]
fn queries_beyond_the_tree_are_errors_not_panics() {
    let (tree, leaf_hashes) = test_tree(10);
    assert!(matches!(
        tree.root_at(11),
        Err(Error::SizeBeyondTree { requested: 11, available: 10 })
    ));
    assert!(matches!(tree.inclusion_proof(3, 11), Err(Error::SizeBeyondTree { .. })));
    assert!(matches!(
        tree.inclusion_proof(10, 10),
        Err(Error::IndexOutOfRange { index: 10, size: 10 })
    ));
    assert!(matches!(tree.consistency_proof(3, 11), Err(Error::SizeBeyondTree { .. })));
    assert_eq!(tree.leaf_hash(9), Some(leaf_hashes[9]));
    assert_eq!(tree.leaf_hash(10), None);
    assert_eq!(tree.leaf_hash(u64::MAX), None);
    assert!(matches!(
        verify_inclusion(&leaf_hashes[0], 0, 0, &[], &EMPTY_ROOT),
        Err(Error::IndexOutOfRange { .. })
    ));
    // A single-leaf tree: the root is the leaf hash, the proof is empty.
    verify_inclusion(&leaf_hashes[0], 0, 1, &[], &leaf_hashes[0]).unwrap();
    assert_eq!(
        verify_inclusion(&leaf_hashes[0], 0, 1, &[leaf_hashes[1]], &leaf_hashes[0]),
        Err(Error::ProofTooLong)
    );
}

#[test]
fn proof_lengths_are_logarithmic_for_a_million_leaves() {
    let (tree, leaf_hashes) = test_tree(1 << 20);
    let size = tree.size();
    let proof = tree.inclusion_proof(123_456, size).unwrap();
    assert_eq!(proof.len(), 20);
    verify_inclusion(&leaf_hashes[123_456], 123_456, size, &proof, &tree.root()).unwrap();
    let consistency = tree.consistency_proof(1_000_001, size).unwrap();
    assert!(consistency.len() <= 2 * 20);
    let old_root = tree.root_at(1_000_001).unwrap();
    verify_consistency(1_000_001, size, &old_root, &tree.root(), &consistency).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn inclusion_proofs_verify_for_random_sizes_and_break_on_any_bit_flip(
        size in 1u64..5000,
        index_seed in any::<u64>(),
        flipped_bit in 0usize..(32 * 8 * 13),
    ) {
        let (tree, leaf_hashes) = test_tree(size);
        let index = index_seed % size;
        let root = tree.root();
        let proof = tree.inclusion_proof(index, size).unwrap();
        prop_assert!(verify_inclusion(&leaf_hashes[index as usize], index, size, &proof, &root).is_ok());
        if !proof.is_empty() {
            let mut tampered = proof.clone();
            let position = flipped_bit / 256 % proof.len();
            tampered[position] = flip_bit(&tampered[position], flipped_bit % 256);
            prop_assert!(verify_inclusion(&leaf_hashes[index as usize], index, size, &tampered, &root).is_err());
        }
    }

    #[test]
    fn consistency_proofs_verify_for_random_size_pairs_and_break_on_any_bit_flip(
        new_size in 1u64..5000,
        old_seed in any::<u64>(),
        flipped_bit in 0usize..(32 * 8 * 26),
    ) {
        let (tree, _) = test_tree(new_size);
        let old_size = old_seed % new_size + 1;
        let proof = tree.consistency_proof(old_size, new_size).unwrap();
        let old_root = tree.root_at(old_size).unwrap();
        let new_root = tree.root();
        prop_assert!(verify_consistency(old_size, new_size, &old_root, &new_root, &proof).is_ok());
        if !proof.is_empty() {
            let mut tampered = proof.clone();
            let position = flipped_bit / 256 % proof.len();
            tampered[position] = flip_bit(&tampered[position], flipped_bit % 256);
            prop_assert!(verify_consistency(old_size, new_size, &old_root, &new_root, &tampered).is_err());
        }
    }

    #[test]
    fn a_proof_never_vouches_for_a_different_leaf_or_a_different_tree(
        size in 2u64..600,
        index_seed in any::<u64>(),
        other_seed in any::<u64>(),
    ) {
        let (tree, leaf_hashes) = test_tree(size);
        let index = index_seed % size;
        let other_index = other_seed % size;
        let proof = tree.inclusion_proof(index, size).unwrap();
        if other_index != index {
            prop_assert!(verify_inclusion(&leaf_hashes[other_index as usize], index, size, &proof, &tree.root()).is_err());
            prop_assert!(verify_inclusion(&leaf_hashes[index as usize], other_index, size, &proof, &tree.root()).is_err());
        }
        let other_tree = Tree::from_leaf_hashes(test_leaf_hashes(size + 1).into_iter().skip(1));
        prop_assert!(verify_inclusion(&leaf_hashes[index as usize], index, size, &proof, &other_tree.root()).is_err());
    }
}

#[test]
fn consistency_proofs_from_non_power_of_two_sizes_determine_the_old_root() {
    let (tree, _) = test_tree(150);
    for new_size in 2..=150u64 {
        for old_size in 1..new_size {
            let proof = tree.consistency_proof(old_size, new_size).unwrap();
            let new_root = tree.root_at(new_size).unwrap();
            let derived =
                merkle::old_root_from_consistency_proof(old_size, new_size, &new_root, &proof);
            if old_size.is_power_of_two() {
                assert_eq!(derived, Err(Error::OldRootNotDetermined { old_size }));
            } else {
                assert_eq!(
                    derived,
                    Ok(tree.root_at(old_size).unwrap()),
                    "old {old_size} new {new_size}"
                );
                let wrong_new_root = tree.root_at(new_size - 1).unwrap();
                assert!(
                    merkle::old_root_from_consistency_proof(
                        old_size,
                        new_size,
                        &wrong_new_root,
                        &proof
                    )
                    .is_err()
                );
            }
        }
    }
}
