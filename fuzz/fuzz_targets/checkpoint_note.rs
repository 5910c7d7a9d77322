//! Fuzz target `checkpoint_note`: the C2SP text formats of `lotline_ledger::checkpoint` (signed
//! notes, checkpoint bodies, verifier keys, signature and cosignature lines) and gossiped fork
//! proofs (`lotline_ledger::fork::ForkProof`, JSON), as a peer's announcement delivers them.
//!
//! Owns the properties of those parsers: whatever parses writes back to exactly the same text
//! (each format has one spelling, so a note's signatures cover what is kept), a self-certifying
//! feed checkpoint verifies only under the key its origin names, and a checkpoint built from
//! parsed fields signs, cosigns and verifies again. Does not own entry bytes (`entry_wire`) or
//! bundles (`proof_bundle`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use lotline_ledger::checkpoint::{
    self, Checkpoint, Cosignature, Cosigner, Note, NoteSignature, SignedCheckpoint, VerifierKey,
};
use lotline_ledger::fork::ForkProof;
use lotline_ledger::identity::Keypair;

/// Seeds of the keys that sign and cosign checkpoints rebuilt from fuzzed fields.
const AUTHOR_SEED: [u8; 32] = [3; 32];
const WITNESS_SEED: [u8; 32] = [4; 32];

fuzz_target!(|bytes: &[u8]| {
    check_fork_proof(bytes);
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    check_note(text);
    check_body(text);
    for line in text.split('\n') {
        check_line(line);
    }
});

/// A note parses to text and signature lines that print back to the input.
fn check_note(text: &str) {
    let Ok(note) = Note::parse(text) else {
        return;
    };
    assert_eq!(note.to_string(), text, "a parsed note prints back to its text");
    assert_eq!(Note::parse(&note.to_string()).expect("reparses"), note);
    for signature in note.signatures() {
        if let Ok(cosignature) = Cosignature::from_note_signature(signature) {
            assert_eq!(cosignature.to_note_signature(), *signature, "cosignature line round trip");
        }
    }

    if let Ok(signed) = SignedCheckpoint::verify_self_certifying_feed(text) {
        assert_eq!(signed.to_note_text(), text);
        assert_eq!(signed.body(), note.text());
        let origin_author = checkpoint::author_of_feed_origin(&signed.checkpoint().origin)
            .expect("a verified feed checkpoint names its author");
        assert_eq!(origin_author, signed.author(), "the origin names the signing key");
        assert!(signed.verified_cosignatures(&[]).expect("no witness keys").is_empty());
    }

    if let Ok((checkpoint, _)) = Checkpoint::parse_body(note.text()) {
        check_signs_again(&checkpoint);
    }
}

/// A body parses to a checkpoint and extension lines that print back to the input.
fn check_body(text: &str) {
    let Ok((checkpoint, extension_lines)) = Checkpoint::parse_body(text) else {
        return;
    };
    let mut printed = checkpoint.to_body();
    for line in &extension_lines {
        printed.push_str(line);
        printed.push('\n');
    }
    assert_eq!(printed, text, "a parsed checkpoint body prints back to its text");
}

/// The fuzzed size and root, as the author's own feed checkpoint: signed, cosigned, verified.
fn check_signs_again(parsed: &Checkpoint) {
    let author = Keypair::from_seed(AUTHOR_SEED);
    let checkpoint = Checkpoint::for_feed(&author.public_key(), parsed.size, parsed.root);
    let mut signed = SignedCheckpoint::sign(checkpoint.clone(), &author).expect("signs");
    let cosigner = Cosigner::new("witness.example/fuzz", Keypair::from_seed(WITNESS_SEED))
        .expect("a valid witness name");
    let timestamp = parsed.size.rotate_left(17);
    let cosignature = Cosignature::sign(&cosigner, signed.body(), timestamp);
    signed.add_cosignature(&cosignature).expect("room for a cosignature");
    let note_text = signed.to_note_text();
    let verified =
        SignedCheckpoint::verify_feed(&note_text, &author.public_key()).expect("verifies");
    assert_eq!(*verified.checkpoint(), checkpoint);
    let witnessed = verified.verified_cosignatures(&[cosigner.verifier_key()]).expect("cosigned");
    assert_eq!(witnessed, vec![cosignature]);
    let other = Keypair::from_seed(WITNESS_SEED).public_key();
    assert!(SignedCheckpoint::verify_feed(&note_text, &other).is_err(), "verifies for another key");
}

/// Single lines: verifier keys, signature lines and cosignature lines print back as read.
fn check_line(line: &str) {
    if let Ok(key) = VerifierKey::parse(line) {
        assert_eq!(key.to_string(), line, "a verifier key prints back as read");
    }
    if let Ok(signature) = NoteSignature::parse_line(line) {
        assert_eq!(signature.to_line(), line, "a signature line prints back as read");
    }
    if let Ok(cosignature) = Cosignature::parse_line(line) {
        assert_eq!(cosignature.to_line(), line, "a cosignature line prints back as read");
    }
}

/// A fork proof from gossip: checking it never panics, and its JSON form reads back the same.
fn check_fork_proof(bytes: &[u8]) {
    let Ok(proof) = serde_json::from_slice::<ForkProof>(bytes) else {
        return;
    };
    let _ = proof.verify(&proof.author());
    let _ = proof.origin();
    let written = serde_json::to_string(&proof).expect("a fork proof serialises");
    let reread: ForkProof = serde_json::from_str(&written).expect("its JSON reads back");
    assert_eq!(reread, proof, "a fork proof survives its JSON form");
}
