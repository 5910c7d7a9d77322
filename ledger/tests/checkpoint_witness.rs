//! Tests for tlog-cosignature/v1 cosignatures and the witness's refusal rules
//! (`checkpoint::witness_cosign`): the tlog-witness error cases must all be refused.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use lotline_ledger::checkpoint::{
    Checkpoint, Cosignature, Cosigner, Error, KeyKind, SignedCheckpoint, VerifierKey, WitnessError,
    cosignature_message, witness_cosign,
};
use lotline_ledger::identity::Keypair;
use lotline_ledger::merkle::{self, Tree};

const COSIGNED_AT: u64 = 1_727_964_367;

fn author_keypair() -> Keypair {
    Keypair::from_seed([7; 32])
}

fn witness(seed: u8) -> Cosigner {
    Cosigner::new(&format!("witness{seed}.example.org/lotline"), Keypair::from_seed([seed; 32]))
        .unwrap()
}

fn feed_tree(size: u64) -> Tree {
    Tree::from_leaf_hashes((0..size).map(|index| merkle::leaf_hash(&index.to_be_bytes())))
}

fn signed_at(tree: &Tree, size: u64, author: &Keypair) -> SignedCheckpoint {
    let checkpoint = Checkpoint::for_feed(&author.public_key(), size, tree.root_at(size).unwrap());
    SignedCheckpoint::sign(checkpoint, author).unwrap()
}

#[test]
fn transparency_dev_cosignature_line_bytes_decode() {
    // From transparency-dev/formats note tests: key ID 0x646846b9, timestamp 1727964367.
    let encoded = "ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcFiEBYJXORmnFBOBA==";
    let cosignature =
        Cosignature::parse_line(&format!("\u{2014} witness.example {encoded}")).unwrap();
    assert_eq!(cosignature.timestamp(), 1_727_964_367);
    assert_eq!(cosignature.key_id(), [0x64, 0x68, 0x46, 0xb9]);
    assert_eq!(cosignature.to_line(), format!("\u{2014} witness.example {encoded}"));
    // A plain 64-byte Ed25519 note signature is not a cosignature.
    let plain = "eQjRQm6eSKzFoiYalgwCPXu2y3ijtg68is9M46JKxuZB+dRfTmeQeDBoXnvxZx2ugnkyV+MUMLXpWs1hPb/W/4xkNQY=";
    assert!(matches!(
        Cosignature::parse_line(&format!("\u{2014} witness.example {plain}")),
        Err(Error::MalformedCosignature(68))
    ));
}

#[test]
fn cosignatures_sign_the_specified_message_and_verify() {
    let author = author_keypair();
    let tree = feed_tree(12);
    let mut signed = signed_at(&tree, 12, &author);
    let cosigner = witness(1);
    let witness_key = cosigner.verifier_key();
    assert_eq!(witness_key.kind(), KeyKind::CosignatureV1);
    assert_eq!(VerifierKey::parse(&witness_key.to_string()).unwrap(), witness_key);

    let cosignature =
        witness_cosign(None, &signed, &[], &author.public_key(), &cosigner, COSIGNED_AT).unwrap();
    cosignature.verify(&witness_key, signed.body()).unwrap();
    // The bytes are key ID || big-endian timestamp || Ed25519 over the cosignature/v1 message.
    let line = cosignature.to_line();
    let raw = BASE64.decode(line.rsplit(' ').next().unwrap()).unwrap();
    assert_eq!(raw.len(), 4 + 8 + 64);
    assert_eq!(raw[..4], witness_key.key_id());
    assert_eq!(raw[4..12], COSIGNED_AT.to_be_bytes());
    let message = format!("cosignature/v1\ntime {COSIGNED_AT}\n{}", signed.body());
    assert_eq!(cosignature_message(COSIGNED_AT, signed.body()), message);
    let signature = lotline_ledger::identity::Signature::from_bytes(raw[12..].try_into().unwrap());
    witness_key.public_key().verify(message.as_bytes(), &signature).unwrap();

    // Attached to the note, it is found by the witness policy and ignored by the log check.
    signed.add_cosignature(&cosignature).unwrap();
    let note_text = signed.to_note_text();
    let reread = SignedCheckpoint::verify_feed(&note_text, &author.public_key()).unwrap();
    assert_eq!(
        reread.verified_cosignatures(std::slice::from_ref(&witness_key)).unwrap(),
        vec![cosignature.clone()]
    );
    assert!(reread.verified_cosignatures(&[witness(2).verifier_key()]).unwrap().is_empty());

    // Tampering: other body, other timestamp, other key, the witness key used as a note key.
    let other_body = signed_at(&tree, 11, &author);
    assert!(matches!(
        cosignature.verify(&witness_key, other_body.body()),
        Err(Error::BadCosignature { .. })
    ));
    let mut later = cosignature.to_note_signature();
    later.signature_bytes[7] ^= 1;
    let later = Cosignature::from_note_signature(&later).unwrap();
    assert_eq!(later.timestamp(), COSIGNED_AT ^ 1);
    assert!(later.verify(&witness_key, signed.body()).is_err());
    assert!(matches!(
        cosignature.verify(&witness(2).verifier_key(), signed.body()),
        Err(Error::WrongWitnessKey { .. })
    ));
    let as_note_key =
        VerifierKey::new(cosigner.name(), KeyKind::Ed25519, *witness_key.public_key()).unwrap();
    assert!(cosignature.verify(&as_note_key, signed.body()).is_err());

    // A known witness's corrupted cosignature rejects the checkpoint under that policy.
    let mut corrupted = reread.clone();
    let mut corrupted_line = cosignature.to_note_signature();
    corrupted_line.signature_bytes[20] ^= 1;
    corrupted.add_cosignature(&Cosignature::from_note_signature(&corrupted_line).unwrap()).unwrap();
    assert!(matches!(
        corrupted.verified_cosignatures(&[witness_key]),
        Err(Error::BadCosignature { .. })
    ));
}

#[test]
fn the_witness_cosigns_growth_proven_by_a_consistency_proof() {
    let author = author_keypair();
    let tree = feed_tree(40);
    let cosigner = witness(1);
    let first = signed_at(&tree, 17, &author);
    witness_cosign(None, &first, &[], &author.public_key(), &cosigner, COSIGNED_AT).unwrap();
    let second = signed_at(&tree, 40, &author);
    let proof = tree.consistency_proof(17, 40).unwrap();
    let cosignature = witness_cosign(
        Some(first.checkpoint()),
        &second,
        &proof,
        &author.public_key(),
        &cosigner,
        COSIGNED_AT + 1,
    )
    .unwrap();
    cosignature.verify(&cosigner.verifier_key(), second.body()).unwrap();
    // The same checkpoint again (same size, same root, empty proof) is fine.
    witness_cosign(
        Some(second.checkpoint()),
        &second,
        &[],
        &author.public_key(),
        &cosigner,
        COSIGNED_AT + 2,
    )
    .unwrap();
}

#[test]
fn the_witness_refuses_every_inconsistent_checkpoint() {
    let author = author_keypair();
    let tree = feed_tree(40);
    let forked_tree = Tree::from_leaf_hashes(
        (0..40u64)
            .map(|index| merkle::leaf_hash(&(if index == 5 { 999 } else { index }).to_be_bytes())),
    );
    let cosigner = witness(1);
    let cosigned = signed_at(&tree, 20, &author);
    let previous = Some(cosigned.checkpoint());
    let author_key = author.public_key();

    // Same size, different root.
    let forked_same_size = signed_at(&forked_tree, 20, &author);
    assert_eq!(
        witness_cosign(previous, &forked_same_size, &[], &author_key, &cosigner, COSIGNED_AT),
        Err(WitnessError::SameSizeDifferentRoot { size: 20 })
    );
    // Smaller size.
    let smaller = signed_at(&tree, 19, &author);
    assert_eq!(
        witness_cosign(previous, &smaller, &[], &author_key, &cosigner, COSIGNED_AT),
        Err(WitnessError::SizeRegression { cosigned_size: 20, new_size: 19 })
    );
    // Bigger but forked: the honest proof of the forked tree does not match the cosigned root.
    let forked_bigger = signed_at(&forked_tree, 40, &author);
    let forked_proof = forked_tree.consistency_proof(20, 40).unwrap();
    assert!(matches!(
        witness_cosign(
            previous,
            &forked_bigger,
            &forked_proof,
            &author_key,
            &cosigner,
            COSIGNED_AT
        ),
        Err(WitnessError::BadConsistencyProof(_))
    ));
    // Bigger and honest, but with a damaged, missing or wrong-range proof.
    let bigger = signed_at(&tree, 40, &author);
    let mut damaged_proof = tree.consistency_proof(20, 40).unwrap();
    damaged_proof[0][0] ^= 1;
    let wrong_range_proof = tree.consistency_proof(21, 40).unwrap();
    for bad_proof in [damaged_proof, Vec::new(), wrong_range_proof] {
        assert!(matches!(
            witness_cosign(previous, &bigger, &bad_proof, &author_key, &cosigner, COSIGNED_AT),
            Err(WitnessError::BadConsistencyProof(_))
        ));
    }
    // First sight needs an empty proof from size zero.
    assert!(matches!(
        witness_cosign(
            None,
            &bigger,
            &tree.consistency_proof(20, 40).unwrap(),
            &author_key,
            &cosigner,
            COSIGNED_AT
        ),
        Err(WitnessError::BadConsistencyProof(_))
    ));
    // Not this author's log.
    let other_author = Keypair::from_seed([9; 32]);
    let others = signed_at(&tree, 40, &other_author);
    assert_eq!(
        witness_cosign(previous, &others, &[], &author_key, &cosigner, COSIGNED_AT),
        Err(WitnessError::NotSignedByLog)
    );
    let other_origin_previous =
        Checkpoint::for_feed(&other_author.public_key(), 20, tree.root_at(20).unwrap());
    assert!(matches!(
        witness_cosign(
            Some(&other_origin_previous),
            &bigger,
            &tree.consistency_proof(20, 40).unwrap(),
            &author_key,
            &cosigner,
            COSIGNED_AT
        ),
        Err(WitnessError::UnknownOrigin { .. })
    ));
}
