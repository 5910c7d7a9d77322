//! Tests for `fork`: equivocating entries and checkpoints are detected, the proofs verify
//! offline (also after a JSON round trip), and nothing consistent is ever taken for a fork.

use lotline_ledger::checkpoint::{Checkpoint, SignedCheckpoint};
use lotline_ledger::feed::{FeedWriter, VerifiedEntry};
use lotline_ledger::fork::{Error, Evidence, ForkPosition, ForkProof};
use lotline_ledger::identity::Keypair;
use lotline_ledger::merkle::{self, Tree};
use lotline_ledger::records::{Payload, SupervisionFlag};
use proptest::prelude::*;

fn author_keypair() -> Keypair {
    Keypair::from_seed([7; 32])
}

fn payload(reason: &str) -> Payload {
    Payload::SupervisionFlag(SupervisionFlag {
        subject: Keypair::from_seed([1; 32]).public_key(),
        reason: reason.to_owned(),
        active: true,
    })
}

/// `count` entries of the author's feed; entries from `fork_at` on carry a different payload
/// when `variant` is set.
fn feed_entries(count: u64, fork_at: u64, variant: &str) -> Vec<VerifiedEntry> {
    let mut writer = FeedWriter::new(author_keypair(), None);
    (0..count)
        .map(|sequence| {
            let reason = if sequence >= fork_at {
                format!("{variant} {sequence}")
            } else {
                format!("entry {sequence}")
            };
            writer
                .next_entry_with_seed(
                    1_700_000_000_000 + sequence as i64,
                    &payload(&reason),
                    &[sequence as u8; 32],
                )
                .unwrap()
        })
        .collect()
}

fn tree_of(entries: &[VerifiedEntry]) -> Tree {
    Tree::from_leaf_hashes(entries.iter().map(|entry| merkle::leaf_hash(entry.leaf_bytes())))
}

fn checkpoint_of(tree: &Tree, size: u64) -> SignedCheckpoint {
    let author = author_keypair();
    SignedCheckpoint::sign(
        Checkpoint::for_feed(&author.public_key(), size, tree.root_at(size).unwrap()),
        &author,
    )
    .unwrap()
}

fn round_trip(proof: &ForkProof) -> ForkProof {
    let json = serde_json::to_string(proof).unwrap();
    serde_json::from_str(&json).unwrap()
}

#[test]
fn two_entries_at_one_sequence_are_a_verifiable_fork() {
    let honest = feed_entries(4, 2, "honest");
    let forked = feed_entries(4, 2, "forked");
    let author = author_keypair().public_key();
    let proof = ForkProof::from_entries(&honest[2], &forked[2]).unwrap();
    assert_eq!(proof.author(), author);
    assert_eq!(proof.position(), ForkPosition::Sequence(2));
    proof.verify(&author).unwrap();
    let reread = round_trip(&proof);
    assert_eq!(reread, proof);
    reread.verify(&author).unwrap();
    let json = serde_json::to_value(&proof).unwrap();
    assert_eq!(json["author"], author.to_hex());
    assert_eq!(json["evidence"]["kind"], "conflicting_entries");

    // Wrong author, wrong position, corrupted bytes: refused.
    let stranger = Keypair::from_seed([9; 32]).public_key();
    assert!(matches!(proof.verify(&stranger), Err(Error::WrongAuthor { .. })));
    let mut moved = serde_json::to_value(&proof).unwrap();
    moved["position"] = serde_json::json!({"sequence": 3});
    let moved: ForkProof = serde_json::from_value(moved).unwrap();
    assert!(matches!(moved.verify(&author), Err(Error::PositionMismatch)));
    let Evidence::ConflictingEntries { first_entry, .. } = proof.evidence().clone() else {
        panic!("entry evidence")
    };
    let mut corrupted_entry = first_entry.clone();
    corrupted_entry[40] ^= 1;
    let mut corrupted = serde_json::to_value(&proof).unwrap();
    corrupted["evidence"]["first_entry"] = serde_json::json!(base64_of(&corrupted_entry));
    let corrupted: ForkProof = serde_json::from_value(corrupted).unwrap();
    assert!(corrupted.verify(&author).is_err());
    // Both sides the same entry: not a fork, even when edited in by hand.
    let mut same = serde_json::to_value(&proof).unwrap();
    same["evidence"]["second_entry"] = serde_json::json!(base64_of(&first_entry));
    let same: ForkProof = serde_json::from_value(same).unwrap();
    assert!(matches!(same.verify(&author), Err(Error::NotAFork(_))));
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn non_conflicting_entry_pairs_are_not_forks() {
    let honest = feed_entries(4, 4, "unused");
    // The same entry twice.
    assert!(matches!(ForkProof::from_entries(&honest[1], &honest[1]), Err(Error::NotAFork(_))));
    // A redacted copy keeps the entry hash: not a fork.
    let redacted = honest[1].redact(&[0, 1, 2]).unwrap();
    assert_ne!(redacted.wire_bytes(), honest[1].wire_bytes());
    assert!(matches!(ForkProof::from_entries(&honest[1], &redacted), Err(Error::NotAFork(_))));
    // Different sequence numbers.
    assert!(matches!(ForkProof::from_entries(&honest[1], &honest[2]), Err(Error::NotAFork(_))));
    // Different authors at the same sequence number.
    let mut other_writer = FeedWriter::new(Keypair::from_seed([9; 32]), None);
    let other = other_writer.next_entry_with_seed(1, &payload("entry 0"), &[0; 32]).unwrap();
    assert!(matches!(ForkProof::from_entries(&honest[0], &other), Err(Error::NotAFork(_))));
}

#[test]
fn two_checkpoints_of_one_size_with_different_roots_are_a_fork() {
    let honest_tree = tree_of(&feed_entries(10, 10, "unused"));
    let forked_tree = tree_of(&feed_entries(10, 6, "forked"));
    let author = author_keypair().public_key();
    let proof = ForkProof::from_checkpoints(
        &checkpoint_of(&honest_tree, 10),
        &checkpoint_of(&forked_tree, 10),
    )
    .unwrap();
    assert_eq!(proof.position(), ForkPosition::TreeSize(10));
    round_trip(&proof).verify(&author).unwrap();
    assert!(proof.verify(&Keypair::from_seed([9; 32]).public_key()).is_err());

    // Agreeing checkpoints, or checkpoints of different sizes, are not a same-size fork.
    assert!(matches!(
        ForkProof::from_checkpoints(
            &checkpoint_of(&honest_tree, 10),
            &checkpoint_of(&honest_tree, 10)
        ),
        Err(Error::NotAFork(_))
    ));
    assert!(matches!(
        ForkProof::from_checkpoints(
            &checkpoint_of(&honest_tree, 9),
            &checkpoint_of(&forked_tree, 10)
        ),
        Err(Error::NotAFork(_))
    ));
    // Another author's checkpoint of the same size.
    let stranger = Keypair::from_seed([9; 32]);
    let strangers = SignedCheckpoint::sign(
        Checkpoint::for_feed(&stranger.public_key(), 10, forked_tree.root()),
        &stranger,
    )
    .unwrap();
    assert!(matches!(
        ForkProof::from_checkpoints(&checkpoint_of(&honest_tree, 10), &strangers),
        Err(Error::NotAFork(_))
    ));
}

#[test]
fn a_smaller_foreign_checkpoint_off_the_own_tree_is_a_divergence() {
    let own_entries = feed_entries(30, 30, "unused");
    let own_tree = tree_of(&own_entries);
    let own = checkpoint_of(&own_tree, 30);
    let foreign_tree = tree_of(&feed_entries(20, 13, "forked"));
    let foreign = checkpoint_of(&foreign_tree, 20);
    let author = author_keypair().public_key();

    let proof = ForkProof::check_against_own_tree(&foreign, &own, &own_tree).unwrap().unwrap();
    assert_eq!(proof.position(), ForkPosition::TreeSize(20));
    proof.verify(&author).unwrap();
    let reread = round_trip(&proof);
    reread.verify(&author).unwrap();
    assert_eq!(serde_json::to_value(&proof).unwrap()["evidence"]["kind"], "divergent_checkpoints");

    // Tampering with the prefix root or the consistency proof breaks the proof.
    let Evidence::DivergentCheckpoints { prefix_root, consistency_proof, .. } =
        proof.evidence().clone()
    else {
        panic!("divergence evidence")
    };
    let mut other_prefix = prefix_root;
    other_prefix[0] ^= 1;
    assert!(
        ForkProof::from_divergence(&foreign, &own, other_prefix, consistency_proof.clone())
            .is_err()
    );
    let mut damaged_proof = consistency_proof.clone();
    damaged_proof[0][5] ^= 1;
    assert!(ForkProof::from_divergence(&foreign, &own, prefix_root, damaged_proof).is_err());
    // The honest prefix root is not a fork.
    let honest_prefix = own_tree.root_at(20).unwrap();
    let honest_foreign = checkpoint_of(&own_tree, 20);
    assert!(matches!(
        ForkProof::from_divergence(
            &honest_foreign,
            &own,
            honest_prefix,
            own_tree.consistency_proof(20, 30).unwrap()
        ),
        Err(Error::NotAFork(_))
    ));
    // Consistent foreign checkpoints (any smaller or equal size of the own tree) are not forks.
    for size in 0..=30 {
        assert!(
            ForkProof::check_against_own_tree(&checkpoint_of(&own_tree, size), &own, &own_tree)
                .unwrap()
                .is_none()
        );
    }
    // Same size: a same-size conflict.
    let forked_full = tree_of(&feed_entries(30, 29, "forked"));
    let same_size =
        ForkProof::check_against_own_tree(&checkpoint_of(&forked_full, 30), &own, &own_tree)
            .unwrap()
            .unwrap();
    assert!(matches!(same_size.evidence(), Evidence::ConflictingCheckpoints { .. }));
    same_size.verify(&author).unwrap();
    // A larger foreign checkpoint cannot be judged from the smaller own tree.
    let small_own = checkpoint_of(&own_tree, 10);
    assert!(
        ForkProof::check_against_own_tree(
            &own,
            &small_own,
            &Tree::from_leaf_hashes((0..10).map(|index| own_tree.leaf_hash(index).unwrap()))
        )
        .is_err()
    );
    // The own tree must match the own checkpoint.
    assert!(matches!(
        ForkProof::check_against_own_tree(&foreign, &own, &foreign_tree),
        Err(Error::TreeDoesNotMatchCheckpoint | Error::Consistency(_))
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// A divergence is reported exactly when the forked entry lies inside the foreign prefix.
    #[test]
    fn divergence_is_detected_exactly_when_the_prefixes_differ(
        own_size in 1u64..48,
        foreign_seed in any::<u64>(),
        fork_seed in any::<u64>(),
    ) {
        let own_tree = tree_of(&feed_entries(own_size, own_size, "unused"));
        let own = checkpoint_of(&own_tree, own_size);
        let foreign_size = foreign_seed % (own_size + 1);
        let fork_at = fork_seed % (own_size + 1);
        let foreign_tree = tree_of(&feed_entries(foreign_size, fork_at, "forked"));
        let foreign = checkpoint_of(&foreign_tree, foreign_size);
        let outcome = ForkProof::check_against_own_tree(&foreign, &own, &own_tree).unwrap();
        prop_assert_eq!(outcome.is_some(), fork_at < foreign_size);
        if let Some(proof) = outcome {
            prop_assert!(proof.verify(&author_keypair().public_key()).is_ok());
            prop_assert_eq!(proof.position(), ForkPosition::TreeSize(foreign_size));
        }
    }
}

#[test]
fn a_peers_consistency_proof_for_a_forked_extension_becomes_a_fork_proof() {
    let own_tree = tree_of(&feed_entries(20, 20, "unused"));
    let own = checkpoint_of(&own_tree, 20);
    let author = author_keypair().public_key();

    // An honest extension: consistent.
    let honest_tree = tree_of(&feed_entries(30, 30, "unused"));
    let honest = checkpoint_of(&honest_tree, 30);
    let honest_proof = honest_tree.consistency_proof(20, 30).unwrap();
    assert!(ForkProof::check_foreign_extension(&own, &honest, &honest_proof).unwrap().is_none());

    // A forked extension with the peer's own (valid for its tree) proof: a divergence.
    let forked_tree = tree_of(&feed_entries(30, 11, "forked"));
    let forked = checkpoint_of(&forked_tree, 30);
    let forked_proof = forked_tree.consistency_proof(20, 30).unwrap();
    let proof = ForkProof::check_foreign_extension(&own, &forked, &forked_proof).unwrap().unwrap();
    assert_eq!(proof.position(), ForkPosition::TreeSize(20));
    round_trip(&proof).verify(&author).unwrap();
    assert_eq!(
        merkle::old_root_from_consistency_proof(20, 30, &forked_tree.root(), &forked_proof),
        Ok(forked_tree.root_at(20).unwrap())
    );

    // A garbage proof is no evidence either way.
    let mut garbage = forked_proof.clone();
    garbage[1][0] ^= 1;
    assert!(ForkProof::check_foreign_extension(&own, &forked, &garbage).is_err());

    // From a power-of-two size the proof omits the prefix root: inconclusive, not a fork proof.
    let own_16 = checkpoint_of(&own_tree, 16);
    let forked_proof_16 = forked_tree.consistency_proof(16, 30).unwrap();
    assert!(matches!(
        ForkProof::check_foreign_extension(&own_16, &forked, &forked_proof_16),
        Err(Error::Consistency(merkle::Error::OldRootNotDetermined { old_size: 16 }))
    ));
}
