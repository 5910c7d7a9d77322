//! Fuzz target `proof_bundle`: proof bundles (`lotline_ledger::proof`) in their JSON and C2SP
//! `tlog-proof@v1` text forms, the `Evidence` a node attaches to its answers, and
//! `verify_bundle`, which a client runs on what a node sends.
//!
//! Owns two properties. Parsing: a bundle or evidence that parses survives its JSON form, a
//! `tlog-proof` text prints back exactly as read, and verifying any of them never panics.
//! Soundness: inputs of at most [`BUILD_INPUT_LEN`] bytes instead choose a small honest bundle
//! (how many entries, which ones, the checkpoint size) and one bit to damage in it; the honest
//! bundle must verify, also after both text forms, and the damaged one must not. Does not own
//! entry or note parsing on their own (`entry_wire`, `checkpoint_note`).

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use lotline_ledger::checkpoint::{Checkpoint, Cosignature, Cosigner, SignedCheckpoint};
use lotline_ledger::feed::VerifiedEntry;
use lotline_ledger::identity::Keypair;
use lotline_ledger::merkle::Tree;
use lotline_ledger::proof::{self, Evidence, ProofBundle, WitnessPolicy};
use lotline_ledger::records::{Excursion, Payload};

/// Inputs up to this length describe a bundle to build and damage rather than text to parse.
const BUILD_INPUT_LEN: usize = 16;
/// Most entries in a built feed: enough for inclusion proofs of several levels.
const MAX_FEED_ENTRIES: usize = 9;
/// Seeds of the feed author's and the witness's keys (fixed, so a crash input replays).
const AUTHOR_SEED: [u8; 32] = [5; 32];
const WITNESS_SEED: [u8; 32] = [6; 32];
/// The witness key name in built checkpoints.
const WITNESS_NAME: &str = "witness.example/fuzz";

fuzz_target!(|bytes: &[u8]| {
    if bytes.len() <= BUILD_INPUT_LEN {
        check_built_bundle(bytes);
        return;
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    if let Ok(bundle) = ProofBundle::from_json(text) {
        let reread = ProofBundle::from_json(&bundle.to_json()).expect("written JSON reads back");
        assert_eq!(reread, bundle, "a bundle survives its JSON form");
        verify_as_client(&bundle);
    }
    if let Ok(bundle) = ProofBundle::from_tlog_proof(text) {
        let printed = bundle.to_tlog_proof().expect("a parsed tlog-proof has one entry");
        assert_eq!(printed, text, "a tlog-proof prints back as read");
        verify_as_client(&bundle);
    }
    // The evidence a node attaches to an answer: a bundle per feed and the unproven entries.
    if let Ok(evidence) = serde_json::from_str::<Evidence>(text) {
        let written = serde_json::to_string(&evidence).expect("evidence serialises");
        let reread: Evidence = serde_json::from_str(&written).expect("its JSON reads back");
        assert_eq!(reread, evidence, "evidence survives its JSON form");
        for bundle in &evidence.bundles {
            verify_as_client(bundle);
        }
    }
});

/// Verifies as a client trusting the author the checkpoint names (so the fuzzer gets past the
/// trust check whenever the note verifies at all); a verified bundle holds exactly its entries.
fn verify_as_client(bundle: &ProofBundle) {
    let author = SignedCheckpoint::verify_self_certifying_feed(&bundle.checkpoint)
        .map(|signed| signed.author())
        .unwrap_or_else(|_| Keypair::from_seed(AUTHOR_SEED).public_key());
    if let Ok(verified) = proof::verify_bundle(bundle, &[author], &WitnessPolicy::none()) {
        assert_eq!(verified.entries().len(), bundle.entries.len());
        for (entry, bundled) in verified.entries().iter().zip(&bundle.entries) {
            assert_eq!(entry.wire_bytes(), bundled.entry.as_slice());
            assert_eq!(entry.sequence(), bundled.index);
            assert!(entry.sequence() < verified.checkpoint().checkpoint().size);
        }
    }
}

/// Reads the input as: feed length, checkpoint size, which entries to prove, what to damage.
fn check_built_bundle(bytes: &[u8]) {
    let byte = |index: usize| bytes.get(index).copied().unwrap_or(0) as usize;
    let feed_length = 1 + byte(0) % MAX_FEED_ENTRIES;
    let checkpoint_size = 1 + byte(1) % feed_length;
    // The entries below the checkpoint size picked by the bits of byte 2, and always one more.
    let always_proven = byte(3) % checkpoint_size;
    let proven: Vec<usize> = (0..checkpoint_size)
        .filter(|index| byte(2) & (1 << (index % 8)) != 0 || *index == always_proven)
        .collect();
    let damage = byte(4) % 6;
    let damage_position = byte(5) | byte(6) << 8;

    let author = Keypair::from_seed(AUTHOR_SEED);
    let entries = &feed()[..feed_length];
    let tree = Tree::from_leaf_hashes(
        entries.iter().map(|entry| lotline_ledger::merkle::leaf_hash(entry.leaf_bytes())),
    );
    let root = tree.root_at(checkpoint_size as u64).expect("the tree has the size");
    let checkpoint = Checkpoint::for_feed(&author.public_key(), checkpoint_size as u64, root);
    let mut signed = SignedCheckpoint::sign(checkpoint, &author).expect("signs");
    let witness = Cosigner::new(WITNESS_NAME, Keypair::from_seed(WITNESS_SEED)).expect("name");
    signed
        .add_cosignature(&Cosignature::sign(&witness, signed.body(), 1_700_000_000))
        .expect("room for a cosignature");
    let chosen: Vec<VerifiedEntry> = proven.iter().map(|index| entries[*index].clone()).collect();
    let bundle = ProofBundle::build(&signed, &tree, &chosen).expect("an honest bundle builds");
    let policy = WitnessPolicy::new(vec![witness.verifier_key()], 1).expect("a valid policy");
    let trusted = [author.public_key()];

    proof::verify_bundle(&bundle, &trusted, &policy).expect("an honest bundle verifies");
    let from_json = ProofBundle::from_json(&bundle.to_json()).expect("JSON reads back");
    proof::verify_bundle(&from_json, &trusted, &policy).expect("verifies after JSON");
    if let Ok(text) = bundle.to_tlog_proof() {
        let from_text = ProofBundle::from_tlog_proof(&text).expect("tlog-proof reads back");
        assert_eq!(from_text, bundle);
    }
    let stranger = Keypair::from_seed(WITNESS_SEED).public_key();
    assert!(proof::verify_bundle(&bundle, &[stranger], &policy).is_err(), "untrusted author");

    let mut damaged = bundle.clone();
    let damaged_anything = damage_bundle(&mut damaged, damage, damage_position);
    if damaged_anything {
        assert!(
            proof::verify_bundle(&damaged, &trusted, &policy).is_err(),
            "a damaged bundle verifies (damage {damage} at {damage_position})"
        );
    }
}

/// The author's feed of [`MAX_FEED_ENTRIES`] small entries, each linked to the one before;
/// signed once per process (every entry depends on its position only), so each input pays
/// only for its own bundle.
fn feed() -> &'static [VerifiedEntry] {
    static FEED: OnceLock<Vec<VerifiedEntry>> = OnceLock::new();
    FEED.get_or_init(|| build_feed(&Keypair::from_seed(AUTHOR_SEED)))
}

fn build_feed(author: &Keypair) -> Vec<VerifiedEntry> {
    let mut entries: Vec<VerifiedEntry> = Vec::with_capacity(MAX_FEED_ENTRIES);
    for sequence in 0..MAX_FEED_ENTRIES {
        let previous = entries.last().map(VerifiedEntry::entry_hash).unwrap_or_default();
        let payload = Payload::Excursion(Excursion {
            lots: vec![format!("urn:epc:class:lgtin:4012345.012345.L{sequence}")],
            measurement: "gs1:Temperature".to_owned(),
            limit: "> 8 CEL for 30 min".to_owned(),
            observed: "9.5 CEL".to_owned(),
            started_ms: 1_700_000_000_000 + sequence as i64,
            ended_ms: None,
            detail: None,
        });
        let seed = [sequence as u8; 32];
        let entry = VerifiedEntry::sign(author, sequence as u64, previous, 0, &payload, &seed)
            .expect("a small entry signs");
        entries.push(entry);
    }
    entries
}

/// Damages one part of `bundle` by one bit (or one step); false when there was nothing to
/// damage of that kind.
fn damage_bundle(bundle: &mut ProofBundle, damage: usize, position: usize) -> bool {
    let entry_count = bundle.entries.len();
    let bundled = &mut bundle.entries[position % entry_count];
    match damage {
        0 => {
            let bit = position % (bundled.entry.len() * 8);
            bundled.entry[bit / 8] ^= 1 << (bit % 8);
        }
        1 => {
            if bundled.inclusion_proof.is_empty() {
                return false;
            }
            let hash_count = bundled.inclusion_proof.len();
            let hash = &mut bundled.inclusion_proof[position % hash_count];
            hash[(position / hash_count) % 32] ^= 1 << (position % 8);
        }
        2 => bundled.index ^= 1 << (position % 64),
        3 => {
            // An ASCII byte with one of its low seven bits flipped stays ASCII, so the note
            // stays text; every such change must break a signature or the note's syntax.
            let index = position % bundle.checkpoint.len();
            if !bundle.checkpoint.as_bytes()[index].is_ascii() {
                return false;
            }
            let mut note = std::mem::take(&mut bundle.checkpoint).into_bytes();
            note[index] ^= 1 << (position % 7);
            bundle.checkpoint = String::from_utf8(note).expect("ASCII stays UTF-8");
        }
        4 => {
            // Without its cosignature line the note no longer meets the policy.
            let note = &bundle.checkpoint;
            let without = note.trim_end_matches('\n').rsplit_once('\n').map(|(kept, _)| kept);
            bundle.checkpoint = format!("{}\n", without.expect("the note has signature lines"));
        }
        _ => {
            let index = bundled.index;
            let Some(other) = bundle.entries.iter().position(|entry| entry.index != index) else {
                return false;
            };
            // Swapping the proofs of two entries proves neither.
            let other_proof = bundle.entries[other].inclusion_proof.clone();
            let this = position % entry_count;
            if bundle.entries[this].inclusion_proof == other_proof {
                return false;
            }
            bundle.entries[this].inclusion_proof = other_proof;
        }
    }
    true
}
