//! Tests for `proof`: bundles built from a feed, its tree and a witnessed checkpoint verify
//! offline from the bundle and the keys alone, in JSON and in C2SP tlog-proof text form, and
//! every broken part is refused with the rule it breaks.

use lotline_ledger::checkpoint::{
    Checkpoint, Cosigner, KeyKind, SignedCheckpoint, VerifierKey, witness_cosign,
};
use lotline_ledger::feed::{FeedWriter, VerifiedEntry};
use lotline_ledger::identity::{Keypair, PublicKey};
use lotline_ledger::merkle::{self, Tree};
use lotline_ledger::proof::{
    BundleError, ProofBundle, TLOG_PROOF_HEADER, WitnessPolicy, verify_bundle,
};
use lotline_ledger::records::{Payload, SupervisionFlag};

const FEED_LENGTH: u64 = 37;

fn author_keypair() -> Keypair {
    Keypair::from_seed([7; 32])
}

fn witnesses() -> Vec<Cosigner> {
    (1..=3u8)
        .map(|seed| {
            Cosigner::new(
                &format!("witness{seed}.example.org"),
                Keypair::from_seed([seed + 40; 32]),
            )
            .unwrap()
        })
        .collect()
}

fn feed_entries(keypair: Keypair, count: u64) -> Vec<VerifiedEntry> {
    let mut writer = FeedWriter::new(keypair, None);
    (0..count)
        .map(|sequence| {
            let payload = Payload::SupervisionFlag(SupervisionFlag {
                subject: Keypair::from_seed([1; 32]).public_key(),
                reason: format!("entry {sequence}"),
                active: sequence % 2 == 0,
            });
            writer
                .next_entry_with_seed(
                    1_700_000_000_000 + sequence as i64,
                    &payload,
                    &[sequence as u8; 32],
                )
                .unwrap()
        })
        .collect()
}

struct Fixture {
    entries: Vec<VerifiedEntry>,
    tree: Tree,
    /// Signed by the author and cosigned by witnesses 1 and 2 (not 3).
    checkpoint: SignedCheckpoint,
}

fn fixture() -> Fixture {
    let author = author_keypair();
    let entries = feed_entries(Keypair::from_seed([7; 32]), FEED_LENGTH);
    let tree =
        Tree::from_leaf_hashes(entries.iter().map(|entry| merkle::leaf_hash(entry.leaf_bytes())));
    let mut checkpoint = SignedCheckpoint::sign(
        Checkpoint::for_feed(&author.public_key(), FEED_LENGTH, tree.root()),
        &author,
    )
    .unwrap();
    for witness in &witnesses()[..2] {
        let cosignature =
            witness_cosign(None, &checkpoint, &[], &author.public_key(), witness, 1_800_000_000)
                .unwrap();
        checkpoint.add_cosignature(&cosignature).unwrap();
    }
    Fixture { entries, tree, checkpoint }
}

fn policy(threshold: usize) -> WitnessPolicy {
    WitnessPolicy::new(witnesses().iter().map(Cosigner::verifier_key).collect(), threshold).unwrap()
}

fn trusted() -> Vec<PublicKey> {
    vec![Keypair::from_seed([3; 32]).public_key(), author_keypair().public_key()]
}

#[test]
fn a_bundle_for_every_entry_verifies_offline_in_json_and_tlog_proof_form() {
    let Fixture { entries, tree, checkpoint } = fixture();
    for entry in &entries {
        let bundle = ProofBundle::build(&checkpoint, &tree, std::slice::from_ref(entry)).unwrap();
        let from_json = ProofBundle::from_json(&bundle.to_json()).unwrap();
        assert_eq!(from_json, bundle);
        let verified = verify_bundle(&from_json, &trusted(), &policy(2)).unwrap();
        assert_eq!(verified.entries(), std::slice::from_ref(entry));
        assert_eq!(verified.author(), author_keypair().public_key());
        assert_eq!(verified.cosignatures().len(), 2);

        let tlog_proof = bundle.to_tlog_proof().unwrap();
        assert!(tlog_proof.starts_with(&format!("{TLOG_PROOF_HEADER}\nextra ")));
        assert!(tlog_proof.contains(&format!("\nindex {}\n", entry.sequence())));
        assert!(tlog_proof.ends_with(&checkpoint.to_note_text()));
        let from_text = ProofBundle::from_tlog_proof(&tlog_proof).unwrap();
        assert_eq!(from_text, bundle);
        verify_bundle(&from_text, &trusted(), &policy(2)).unwrap();
    }
}

#[test]
fn a_trace_bundle_proves_several_entries_and_redacted_copies() {
    let Fixture { entries, tree, checkpoint } = fixture();
    let trace = vec![entries[3].clone(), entries[17].redact(&[1]).unwrap(), entries[36].clone()];
    let bundle = ProofBundle::build(&checkpoint, &tree, &trace).unwrap();
    let verified = verify_bundle(&bundle, &trusted(), &policy(1)).unwrap();
    assert_eq!(verified.entries().len(), 3);
    assert!(verified.entries()[1].payload().is_none());
    assert!(matches!(bundle.to_tlog_proof(), Err(BundleError::NotSingleEntry(3))));
    // The author alone is enough under an empty policy.
    verify_bundle(&bundle, &trusted(), &WitnessPolicy::none()).unwrap();
}

#[test]
fn bundles_are_refused_for_the_rule_they_break() {
    let Fixture { entries, tree, checkpoint } = fixture();
    let bundle = ProofBundle::build(&checkpoint, &tree, &entries[5..7]).unwrap();

    assert!(matches!(
        verify_bundle(&bundle, &[Keypair::from_seed([3; 32]).public_key()], &policy(2)),
        Err(BundleError::UntrustedAuthor(_))
    ));
    assert!(matches!(
        verify_bundle(&bundle, &trusted(), &policy(3)),
        Err(BundleError::InsufficientCosignatures { required: 3, found: 2 })
    ));

    let mut flipped_proof = bundle.clone();
    flipped_proof.entries[1].inclusion_proof[2][7] ^= 1;
    assert!(matches!(
        verify_bundle(&flipped_proof, &trusted(), &policy(2)),
        Err(BundleError::Inclusion { index: 1, .. })
    ));

    let mut truncated_proof = bundle.clone();
    truncated_proof.entries[0].inclusion_proof.pop();
    assert!(matches!(
        verify_bundle(&truncated_proof, &trusted(), &policy(2)),
        Err(BundleError::Inclusion { index: 0, .. })
    ));

    let mut wrong_index = bundle.clone();
    wrong_index.entries[0].index = 6;
    assert!(matches!(
        verify_bundle(&wrong_index, &trusted(), &policy(2)),
        Err(BundleError::IndexMismatch { index: 0, .. })
    ));

    let mut swapped_entry = bundle.clone();
    swapped_entry.entries[0].entry = entries[9].wire_bytes().to_vec();
    assert!(verify_bundle(&swapped_entry, &trusted(), &policy(2)).is_err());

    let mut corrupted_entry = bundle.clone();
    corrupted_entry.entries[0].entry[50] ^= 1;
    assert!(matches!(
        verify_bundle(&corrupted_entry, &trusted(), &policy(2)),
        Err(BundleError::Entry { index: 0, .. })
    ));

    let stranger_entries = feed_entries(Keypair::from_seed([3; 32]), 6);
    let mut strangers_entry = bundle.clone();
    strangers_entry.entries[0].entry = stranger_entries[5].wire_bytes().to_vec();
    assert!(matches!(
        verify_bundle(&strangers_entry, &trusted(), &policy(2)),
        Err(BundleError::AuthorMismatch { index: 0, .. })
    ));

    let mut tampered_checkpoint = bundle.clone();
    tampered_checkpoint.checkpoint =
        tampered_checkpoint.checkpoint.replacen(&format!("\n{FEED_LENGTH}\n"), "\n38\n", 1);
    assert!(matches!(
        verify_bundle(&tampered_checkpoint, &trusted(), &policy(0)),
        Err(BundleError::Checkpoint(_))
    ));

    let mut no_entries = bundle.clone();
    no_entries.entries.clear();
    assert!(matches!(
        verify_bundle(&no_entries, &trusted(), &policy(2)),
        Err(BundleError::NoEntries)
    ));

    // A known witness whose cosignature line was damaged rejects the bundle under that policy.
    let mut damaged_cosignature = bundle.clone();
    let last_line = damaged_cosignature.checkpoint.lines().last().unwrap().to_owned();
    let mut damaged_line = last_line.clone();
    let replacement = if damaged_line.ends_with("A=") { "B=" } else { "A=" };
    damaged_line.replace_range(damaged_line.len() - 2.., replacement);
    damaged_cosignature.checkpoint =
        damaged_cosignature.checkpoint.replace(&last_line, &damaged_line);
    assert!(verify_bundle(&damaged_cosignature, &trusted(), &policy(1)).is_err());

    // A checkpoint of another size than the tree it claims: building refuses.
    let author = author_keypair();
    let wrong_root = SignedCheckpoint::sign(
        Checkpoint::for_feed(&author.public_key(), 10, tree.root()),
        &author,
    )
    .unwrap();
    assert!(matches!(
        ProofBundle::build(&wrong_root, &tree, &entries[..1]),
        Err(BundleError::TreeDoesNotMatchCheckpoint { size: 10 })
    ));
    // An entry beyond the checkpoint cannot be proven by it.
    let early = SignedCheckpoint::sign(
        Checkpoint::for_feed(&author.public_key(), 10, tree.root_at(10).unwrap()),
        &author,
    )
    .unwrap();
    assert!(matches!(
        ProofBundle::build(&early, &tree, &entries[12..13]),
        Err(BundleError::Build { sequence: 12, .. })
    ));
}

#[test]
fn witness_policies_are_validated() {
    let witness_keys: Vec<VerifierKey> = witnesses().iter().map(Cosigner::verifier_key).collect();
    assert!(matches!(
        WitnessPolicy::new(witness_keys.clone(), 4),
        Err(BundleError::InvalidPolicy(_))
    ));
    let note_key =
        VerifierKey::new("witness1.example.org", KeyKind::Ed25519, *witness_keys[0].public_key())
            .unwrap();
    assert!(matches!(WitnessPolicy::new(vec![note_key], 1), Err(BundleError::InvalidPolicy(_))));
    let policy = WitnessPolicy::new(witness_keys, 2).unwrap();
    assert_eq!(policy.threshold(), 2);
    assert_eq!(policy.witnesses().len(), 3);
}

#[test]
fn malformed_tlog_proofs_are_rejected() {
    let Fixture { entries, tree, checkpoint } = fixture();
    let text =
        ProofBundle::build(&checkpoint, &tree, &entries[4..5]).unwrap().to_tlog_proof().unwrap();
    let index_line = "\nindex 4\n";
    for (description, broken) in [
        ("header", text.replacen(TLOG_PROOF_HEADER, "c2sp.org/tlog-proof@v2", 1)),
        ("leading zero", text.replacen(index_line, "\nindex 04\n", 1)),
        ("no index", text.replacen(index_line, "\n", 1)),
        ("no extra", {
            let extra_line = text.lines().nth(1).unwrap();
            text.replacen(&format!("{extra_line}\n"), "", 1)
        }),
        ("short hash", text.replacen(index_line, "\nindex 4\nAAAA\n", 1)),
        ("no blank line", text.replacen("\n\n", "\n", 1)),
    ] {
        assert!(ProofBundle::from_tlog_proof(&broken).is_err(), "{description}");
    }
    // A wrong index parses but does not verify.
    let moved = ProofBundle::from_tlog_proof(&text.replacen(index_line, "\nindex 5\n", 1)).unwrap();
    assert!(verify_bundle(&moved, &trusted(), &policy(2)).is_err());
    assert!(ProofBundle::from_json("{\"checkpoint\": 1}").is_err());
}
