//! Known-answer tests for `merkle`: the Certificate Transparency reference leaves and tree heads
//! (as published by transparency-dev/merkle `testonly/constants.go`, used as data only), and the
//! worked examples of RFC 6962 §2.1.3 (the seven-leaf tree with its named nodes a..l).

use lotline_ledger::merkle::{
    self, EMPTY_ROOT, Hash, Tree, leaf_hash, node_hash, verify_consistency, verify_inclusion,
};

/// The eight CT reference leaf inputs, hex encoded.
const REFERENCE_LEAVES_HEX: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

/// The published root for every tree size 0..=8 over those leaves.
const REFERENCE_ROOTS_HEX: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// The published hashes of every full subtree of the eight-leaf tree, by level.
const REFERENCE_NODES_HEX: [&[&str]; 4] = [
    &[
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    &[
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    &[
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    &["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
];

fn hash_from_hex(text: &str) -> Hash {
    hex::decode(text).unwrap().try_into().unwrap()
}

fn reference_node(level: usize, index: usize) -> Hash {
    hash_from_hex(REFERENCE_NODES_HEX[level][index])
}

fn reference_tree() -> Tree {
    let mut tree = Tree::new();
    for leaf_hex in REFERENCE_LEAVES_HEX {
        tree.push_leaf(&hex::decode(leaf_hex).unwrap());
    }
    tree
}

#[test]
fn roots_match_the_published_tree_heads_for_every_size() {
    let tree = reference_tree();
    let leaf_hashes: Vec<Hash> = REFERENCE_LEAVES_HEX
        .iter()
        .map(|leaf_hex| leaf_hash(&hex::decode(leaf_hex).unwrap()))
        .collect();
    for (size, root_hex) in REFERENCE_ROOTS_HEX.iter().enumerate() {
        let expected_root = hash_from_hex(root_hex);
        assert_eq!(tree.root_at(size as u64).unwrap(), expected_root, "tree root at size {size}");
        assert_eq!(merkle::root(&leaf_hashes[..size]), expected_root, "list root of size {size}");
    }
    assert_eq!(hash_from_hex(REFERENCE_ROOTS_HEX[0]), EMPTY_ROOT);
}

#[test]
fn every_full_subtree_matches_the_published_node_hashes() {
    let tree = reference_tree();
    for (level, level_nodes) in REFERENCE_NODES_HEX.iter().enumerate() {
        for index in 0..level_nodes.len() {
            let width = 1u64 << level;
            let start = index as u64 * width;
            // A full aligned subtree is the root of its own leaves.
            let leaf_hashes: Vec<Hash> = (start..start + width)
                .map(|leaf_index| tree.leaf_hash(leaf_index).unwrap())
                .collect();
            assert_eq!(merkle::root(&leaf_hashes), reference_node(level, index));
        }
    }
    assert_eq!(node_hash(&reference_node(0, 0), &reference_node(0, 1)), reference_node(1, 0));
}

#[test]
fn published_inclusion_proofs_are_produced_and_verify() {
    let tree = reference_tree();
    let root = tree.root();
    let expected_proof_of_leaf_0 =
        vec![reference_node(0, 1), reference_node(1, 1), reference_node(2, 1)];
    let expected_proof_of_leaf_5 =
        vec![reference_node(0, 4), reference_node(1, 3), reference_node(2, 0)];
    for (index, expected_proof) in [(0, expected_proof_of_leaf_0), (5, expected_proof_of_leaf_5)] {
        assert_eq!(tree.inclusion_proof(index, 8).unwrap(), expected_proof);
        verify_inclusion(&reference_node(0, index as usize), index, 8, &expected_proof, &root)
            .unwrap();
    }
}

#[test]
fn published_consistency_proofs_are_produced_and_verify() {
    let tree = reference_tree();
    let cases: [(u64, u64, Vec<Hash>); 3] = [
        (2, 8, vec![reference_node(1, 1), reference_node(2, 1)]),
        (6, 8, vec![reference_node(1, 2), reference_node(1, 3), reference_node(2, 0)]),
        (2, 5, vec![reference_node(1, 1), reference_node(0, 4)]),
    ];
    for (old_size, new_size, expected_proof) in cases {
        assert_eq!(tree.consistency_proof(old_size, new_size).unwrap(), expected_proof);
        let old_root = hash_from_hex(REFERENCE_ROOTS_HEX[old_size as usize]);
        let new_root = hash_from_hex(REFERENCE_ROOTS_HEX[new_size as usize]);
        verify_consistency(old_size, new_size, &old_root, &new_root, &expected_proof).unwrap();
        // The same proof must not vouch for the size before.
        let earlier_root = hash_from_hex(REFERENCE_ROOTS_HEX[old_size as usize - 1]);
        assert!(
            verify_consistency(old_size, new_size, &earlier_root, &new_root, &expected_proof)
                .is_err()
        );
    }
}

/// RFC 6962 §2.1.3: the seven-leaf tree whose nodes the RFC names a..l.
#[test]
fn rfc_6962_seven_leaf_examples() {
    let tree = reference_tree();
    let leaf = |index: usize| reference_node(0, index);
    let (a, b, c, d, e, f) = (leaf(0), leaf(1), leaf(2), leaf(3), leaf(4), leaf(5));
    let j = leaf(6);
    let g = node_hash(&a, &b);
    let h = node_hash(&c, &d);
    let i = node_hash(&e, &f);
    let k = node_hash(&g, &h);
    let l = node_hash(&i, &j);
    let root_7 = node_hash(&k, &l);
    assert_eq!(root_7, hash_from_hex(REFERENCE_ROOTS_HEX[7]));

    // "The audit path for d0 is [b, h, l]", "for d3 is [c, g, l]", "for d4 is [f, j, k]",
    // "for d6 is [i, k]".
    for (index, expected_path) in
        [(0, vec![b, h, l]), (3, vec![c, g, l]), (4, vec![f, j, k]), (6, vec![i, k])]
    {
        assert_eq!(
            tree.inclusion_proof(index, 7).unwrap(),
            expected_path,
            "audit path of d{index}"
        );
        verify_inclusion(&leaf(index as usize), index, 7, &expected_path, &root_7).unwrap();
    }

    // "The consistency proof between hash0 and hash is PROOF(3, D[7]) = [c, d, g, l]",
    // "between hash1 and hash is PROOF(4, D[7]) = [l]", "between hash2 and hash is
    // PROOF(6, D[7]) = [i, j, k]".
    for (old_size, expected_proof) in [(3, vec![c, d, g, l]), (4, vec![l]), (6, vec![i, j, k])] {
        assert_eq!(tree.consistency_proof(old_size, 7).unwrap(), expected_proof, "from {old_size}");
        let old_root = tree.root_at(old_size).unwrap();
        verify_consistency(old_size, 7, &old_root, &root_7, &expected_proof).unwrap();
    }
    assert_eq!(tree.root_at(3).unwrap(), node_hash(&g, &c));
    assert_eq!(tree.root_at(4).unwrap(), k);
    assert_eq!(tree.root_at(6).unwrap(), node_hash(&k, &i));
}
