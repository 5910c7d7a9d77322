//! Tests for `checkpoint`: C2SP signed-note parsing, production and verifier rules, the vkey
//! form, tlog-checkpoint bodies and tamper resistance of every field.
//!
//! Third-party vectors (data only): the signed note of golang.org/x/mod `sumdb/note` (key
//! `PeterNeumann`), verifier keys from golang.org/x/mod and transparency-dev/formats tests, and
//! the key ID example of the signed-note summary in trust-log.md.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use lotline_ledger::checkpoint::{
    Checkpoint, Error, KeyKind, MAX_NOTE_SIGNATURES, Note, NoteSignature, SignedCheckpoint,
    VerifierKey, author_of_feed_origin, feed_origin, key_id, sign_note_text,
};
use lotline_ledger::identity::Keypair;
use lotline_ledger::merkle::{self, Tree};
use sha2::{Digest, Sha256};

const GO_VERIFIER_KEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const GO_SIGNER_KEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const GO_TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                       then you don't know what your problem is.\n";
const GO_SIGNED_NOTE: &str = "If you think cryptography is the answer to your problem,\n\
    then you don't know what your problem is.\n\
    \n\
    \u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

/// The seed inside the Go private key string `PRIVATE+KEY+<name>+<id>+<base64(0x01 || seed)>`.
fn go_seed() -> [u8; 32] {
    let encoded = GO_SIGNER_KEY.splitn(5, '+').nth(4).unwrap();
    let raw = BASE64.decode(encoded).unwrap();
    assert_eq!(raw[0], 0x01);
    raw[1..].try_into().unwrap()
}

fn author_keypair() -> Keypair {
    Keypair::from_seed([7; 32])
}

fn feed_checkpoint(author: &Keypair, size: u64) -> Checkpoint {
    let tree =
        Tree::from_leaf_hashes((0..size).map(|index| merkle::leaf_hash(&index.to_be_bytes())));
    Checkpoint::for_feed(&author.public_key(), size, tree.root())
}

#[test]
fn go_sumdb_note_vector_verifies_and_is_reproduced_byte_for_byte() {
    let verifier_key = VerifierKey::parse(GO_VERIFIER_KEY).unwrap();
    assert_eq!(verifier_key.name(), "PeterNeumann");
    assert_eq!(hex::encode(verifier_key.key_id()), "c74f20a3");
    assert_eq!(verifier_key.to_string(), GO_VERIFIER_KEY);

    let note = Note::parse(GO_SIGNED_NOTE).unwrap();
    assert_eq!(note.text(), GO_TEXT);
    let verified = note.verify(std::slice::from_ref(&verifier_key)).unwrap();
    assert_eq!(verified.len(), 1);

    // Ed25519 is deterministic: signing the same text with the same seed gives the same note.
    let keypair = Keypair::from_seed(go_seed());
    assert_eq!(keypair.public_key(), *verifier_key.public_key());
    let mut produced = Note::new(GO_TEXT).unwrap();
    produced.push_signature(sign_note_text("PeterNeumann", &keypair, GO_TEXT).unwrap()).unwrap();
    assert_eq!(produced.to_string(), GO_SIGNED_NOTE);

    let tampered = GO_SIGNED_NOTE.replace("cryptography", "cryptographY");
    assert!(matches!(
        Note::parse(&tampered).unwrap().verify(std::slice::from_ref(&verifier_key)),
        Err(Error::BadSignature { .. })
    ));
}

#[test]
fn third_party_verifier_keys_parse_and_their_key_ids_check_out() {
    for vkey in [
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop",
        "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        // The base64 part itself contains a '+'.
        "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6",
        // A type 0x04 (cosignature/v1) witness key.
        "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2",
    ] {
        let verifier_key =
            VerifierKey::parse(vkey).unwrap_or_else(|error| panic!("{vkey}: {error}"));
        assert_eq!(verifier_key.to_string(), vkey);
    }
    let witness_key =
        VerifierKey::parse("remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2")
            .unwrap();
    assert_eq!(witness_key.kind(), KeyKind::CosignatureV1);
}

#[test]
fn mangled_verifier_keys_are_rejected() {
    let vkey = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
    assert!(matches!(
        VerifierKey::parse("example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"),
        Err(Error::KeyIdMismatch)
    ));
    assert!(matches!(
        VerifierKey::parse("example.com/fop+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"),
        Err(Error::KeyIdMismatch)
    ));
    assert!(
        VerifierKey::parse("example.com/foo+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")
            .is_err()
    );
    assert!(matches!(
        VerifierKey::parse("rekor.sigstore.dev+12345678+AwEB"),
        Err(Error::UnsupportedSignatureType(0x03))
    ));
    assert!(VerifierKey::parse("bananas.sigstore.dev+12344556").is_err());
    assert!(VerifierKey::parse("rekor.sigstore.dev+12345678+THIS_IS_NOT_BASE64!").is_err());
    // Every proper substring of a valid key is invalid.
    for start in 0..vkey.len() {
        for end in start + 1..=vkey.len() {
            if (start, end) != (0, vkey.len())
                && vkey.is_char_boundary(start)
                && vkey.is_char_boundary(end)
            {
                assert!(VerifierKey::parse(&vkey[start..end]).is_err(), "{}", &vkey[start..end]);
            }
        }
    }
}

#[test]
fn key_id_is_the_first_four_bytes_of_the_specified_hash() {
    let author = author_keypair().public_key();
    let name = feed_origin(&author);
    let mut preimage = name.as_bytes().to_vec();
    preimage.push(b'\n');
    preimage.push(0x01);
    preimage.extend_from_slice(author.as_bytes());
    let digest = Sha256::digest(&preimage);
    assert_eq!(key_id(&name, 0x01, &author)[..], digest[..4]);
    assert_eq!(VerifierKey::for_feed(&author).key_id()[..], digest[..4]);
    // A different type byte gives a different ID for the same name and key.
    assert_ne!(key_id(&name, 0x04, &author), key_id(&name, 0x01, &author));
}

/// A signed checkpoint from a fixed seed, checked by hand: the body is three lines, the key
/// ID is recomputed above, and the signature is plain Ed25519 over the body (checked with the
/// public key below, independently of the note code).
#[test]
fn golden_feed_checkpoint_from_a_fixed_seed() {
    let author = author_keypair();
    let checkpoint = Checkpoint::for_feed(&author.public_key(), 3, merkle::leaf_hash(b"golden"));
    let signed = SignedCheckpoint::sign(checkpoint.clone(), &author).unwrap();
    let origin = feed_origin(&author.public_key());
    assert_eq!(origin, format!("lotline.dev/feed/{}", author.public_key().to_hex()));
    let expected_body = format!("{origin}\n3\n{}\n", BASE64.encode(merkle::leaf_hash(b"golden")));
    assert_eq!(signed.body(), expected_body);

    let note_text = signed.to_note_text();
    let signature_line = note_text.strip_prefix(&format!("{expected_body}\n")).unwrap();
    let encoded = signature_line
        .strip_prefix(&format!("\u{2014} {origin} "))
        .unwrap()
        .strip_suffix('\n')
        .unwrap();
    let raw = BASE64.decode(encoded).unwrap();
    assert_eq!(raw.len(), 4 + 64);
    assert_eq!(raw[..4], key_id(&origin, 0x01, &author.public_key()));
    let signature = lotline_ledger::identity::Signature::from_bytes(raw[4..].try_into().unwrap());
    author.public_key().verify(expected_body.as_bytes(), &signature).unwrap();
    assert_eq!(signature, author.sign(expected_body.as_bytes()));
    assert_eq!(
        note_text,
        "lotline.dev/feed/ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c\n\
         3\n\
         LjKrDVhqK0Trv8FNvfXJENgfBwgDcI3iNKDK2Y2T4B0=\n\
         \n\
         \u{2014} lotline.dev/feed/ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c mdcNS6b99+xtMoh45Uj0uqOqkyzMxzs9gME6Prel8e/GJw4Z3RRX6v8QOfl6+UtRG+x824LSA2L+B8yQG7wxkT6OEAw=\n"
    );

    let verified = SignedCheckpoint::verify_feed(&note_text, &author.public_key()).unwrap();
    assert_eq!(verified.checkpoint(), &checkpoint);
    assert_eq!(verified.author(), author.public_key());
    let self_certified = SignedCheckpoint::verify_self_certifying_feed(&note_text).unwrap();
    assert_eq!(self_certified, verified);
    // A third-party verifier only needs the vkey.
    let vkey = VerifierKey::for_feed(&author.public_key()).to_string();
    SignedCheckpoint::verify(&note_text, &VerifierKey::parse(&vkey).unwrap()).unwrap();
}

#[test]
fn a_tampered_copy_of_every_checkpoint_field_fails() {
    let author = author_keypair();
    let signed = SignedCheckpoint::sign(feed_checkpoint(&author, 5), &author).unwrap();
    let note_text = signed.to_note_text();
    let origin = signed.checkpoint().origin.clone();
    let root_line = BASE64.encode(signed.checkpoint().root);
    let signature_line = note_text.lines().last().unwrap().to_owned();
    let encoded = signature_line.rsplit(' ').next().unwrap().to_owned();
    let mut raw = BASE64.decode(&encoded).unwrap();

    let other_root_line = BASE64.encode(merkle::leaf_hash(b"other"));
    let other_author = Keypair::from_seed([8; 32]).public_key();
    raw[0] ^= 1;
    let wrong_key_id = BASE64.encode(&raw);
    raw[0] ^= 1;
    raw[10] ^= 1;
    let wrong_signature = BASE64.encode(&raw);
    let body_origin = format!("{origin}\n");
    let tampered_notes = [
        (
            "origin",
            note_text.replacen(&body_origin, &format!("{}\n", feed_origin(&other_author)), 1),
        ),
        ("size", note_text.replacen("\n5\n", "\n6\n", 1)),
        ("size with a leading zero", note_text.replacen("\n5\n", "\n05\n", 1)),
        ("root", note_text.replacen(&root_line, &other_root_line, 1)),
        ("signature", note_text.replacen(&encoded, &wrong_signature, 1)),
        ("key id", note_text.replacen(&encoded, &wrong_key_id, 1)),
        (
            "key name",
            note_text.replacen(
                &format!("\u{2014} {origin} "),
                "\u{2014} lotline.dev/feed/other ",
                1,
            ),
        ),
        (
            "extension line",
            note_text.replacen(&format!("{root_line}\n"), &format!("{root_line}\nextra\n"), 1),
        ),
    ];
    for (field, tampered) in tampered_notes {
        assert_ne!(tampered, note_text, "{field} was not tampered");
        assert!(SignedCheckpoint::verify_feed(&tampered, &author.public_key()).is_err(), "{field}");
        assert!(SignedCheckpoint::verify_self_certifying_feed(&tampered).is_err(), "{field}");
    }
    // A correctly signed checkpoint of another author is not this author's.
    let other = SignedCheckpoint::sign(
        feed_checkpoint(&Keypair::from_seed([8; 32]), 5),
        &Keypair::from_seed([8; 32]),
    )
    .unwrap();
    assert!(SignedCheckpoint::verify_feed(&other.to_note_text(), &author.public_key()).is_err());
    // The author's key under a name that is not the feed origin is not a feed checkpoint.
    let misnamed = SignedCheckpoint::sign(
        Checkpoint { origin: "example.com/log".into(), size: 5, root: signed.checkpoint().root },
        &author,
    )
    .unwrap();
    assert!(SignedCheckpoint::verify_feed(&misnamed.to_note_text(), &author.public_key()).is_err());
}

#[test]
fn verifier_rules_ignore_unknown_keys_and_reject_a_known_bad_signature() {
    let author = author_keypair();
    let signed = SignedCheckpoint::sign(feed_checkpoint(&author, 9), &author).unwrap();
    let body = signed.body().to_owned();
    let log_key = VerifierKey::for_feed(&author.public_key());

    // Fifteen unknown signers plus the log: sixteen lines, accepted; unknown lines ignored.
    let mut note = signed.note().clone();
    for seed in 0..15u8 {
        let stranger = Keypair::from_seed([100 + seed; 32]);
        note.push_signature(
            sign_note_text(&format!("stranger{seed}.example"), &stranger, &body).unwrap(),
        )
        .unwrap();
    }
    let crowded = note.to_string();
    assert_eq!(Note::parse(&crowded).unwrap().signatures().len(), 16);
    SignedCheckpoint::verify(&crowded, &log_key).unwrap();

    // An unknown key sharing the name (not the ID) of the log key is ignored, even if bogus.
    let mut same_name = signed.note().clone();
    same_name
        .push_signature(NoteSignature {
            key_name: log_key.name().to_owned(),
            key_id: [0, 0, 0, 0],
            signature_bytes: vec![1; 64],
        })
        .unwrap();
    SignedCheckpoint::verify(&same_name.to_string(), &log_key).unwrap();

    // A known key's bad signature rejects the whole note even when a good one is present.
    let mut bad_twin = signed.note().clone();
    bad_twin
        .push_signature(NoteSignature {
            key_name: log_key.name().to_owned(),
            key_id: log_key.key_id(),
            signature_bytes: vec![1; 64],
        })
        .unwrap();
    assert!(SignedCheckpoint::verify(&bad_twin.to_string(), &log_key).is_err());

    // Signed only by a stranger: no trusted signature.
    let mut stranger_only = Note::new(body.clone()).unwrap();
    stranger_only
        .push_signature(
            sign_note_text("stranger.example", &Keypair::from_seed([99; 32]), &body).unwrap(),
        )
        .unwrap();
    assert_eq!(
        SignedCheckpoint::verify(&stranger_only.to_string(), &log_key),
        Err(Error::NoTrustedSignature)
    );

    // Past the limit: refused before any verification.
    let line = signed.note().signatures()[0].to_line();
    let flood = format!("{body}\n{}", format!("{line}\n").repeat(MAX_NOTE_SIGNATURES + 1));
    assert!(matches!(Note::parse(&flood), Err(Error::TooManySignatures { .. })));
    // Twice the same good signature: ambiguous, refused.
    let twice = format!("{body}\n{line}\n{line}\n");
    assert!(matches!(
        SignedCheckpoint::verify(&twice, &log_key),
        Err(Error::DuplicateSignature { .. })
    ));
}

#[test]
fn malformed_notes_are_rejected_with_the_broken_rule() {
    let author = author_keypair();
    let note_text =
        SignedCheckpoint::sign(feed_checkpoint(&author, 2), &author).unwrap().to_note_text();
    assert_eq!(Note::parse(note_text.trim_end()), Err(Error::TextNotNewlineTerminated));
    assert_eq!(Note::parse("no signatures\n"), Err(Error::MissingSignatures));
    assert_eq!(Note::parse("text\n\n"), Err(Error::MissingSignatures));
    assert_eq!(Note::parse(&note_text.replacen('\n', "\r\n", 1)), Err(Error::ControlCharacter));
    assert_eq!(
        Note::parse(&note_text.replacen('3', "\t", 1).replacen('\n', "\t\n", 1)),
        Err(Error::ControlCharacter)
    );
    assert!(matches!(
        Note::parse(&note_text.replace('\u{2014}', "-")),
        Err(Error::MalformedSignatureLine(_))
    ));
    assert!(matches!(
        Note::parse("a\n\n\u{2014} name !!!!\n"),
        Err(Error::MalformedSignatureLine(_))
    ));
    assert!(matches!(
        Note::parse("a\n\n\u{2014} name AAAA\n"),
        Err(Error::MalformedSignatureLine(_))
    ));
    assert!(matches!(Note::parse("a\n\n\u{2014} na+me AAAAAAAA\n"), Err(Error::InvalidKeyName(_))));
    assert!(matches!(
        Note::parse("a\n\n\u{2014} na\u{00a0}me AAAAAAAA\n"),
        Err(Error::MalformedSignatureLine(_) | Error::InvalidKeyName(_))
    ));
    assert_eq!(Note::new("no newline"), Err(Error::TextNotNewlineTerminated));
    // The text may hold empty lines: the last empty line separates it from the signatures.
    let note = Note::parse("first\n\nsecond\n\n\u{2014} name AAAAAAAA\n").unwrap();
    assert_eq!(note.text(), "first\n\nsecond\n");
}

#[test]
fn checkpoint_bodies_follow_tlog_checkpoint() {
    let root = merkle::leaf_hash(b"x");
    let root_line = BASE64.encode(root);
    let (checkpoint, extensions) =
        Checkpoint::parse_body(&format!("example.com/log\n0\n{root_line}\n")).unwrap();
    assert_eq!(checkpoint, Checkpoint { origin: "example.com/log".into(), size: 0, root });
    assert!(extensions.is_empty());
    let (_, extensions) =
        Checkpoint::parse_body(&format!("o\n18446744073709551615\n{root_line}\next one\n"))
            .unwrap();
    assert_eq!(extensions, vec!["ext one".to_owned()]);
    for (body, description) in [
        (format!("o\n01\n{root_line}\n"), "leading zero"),
        (format!("o\n-1\n{root_line}\n"), "negative"),
        (format!("o\n+1\n{root_line}\n"), "sign"),
        (format!("o\n18446744073709551616\n{root_line}\n"), "overflow"),
        (format!("o\n\n{root_line}\n"), "empty size"),
        ("o\n1\nAAAA\n".to_owned(), "short root"),
        ("o\n1\nnot base64\n".to_owned(), "root not base64"),
        (format!("\n1\n{root_line}\n"), "empty origin"),
        ("o\n1\n".to_owned(), "no root"),
        (format!("o\n1\n{root_line}"), "no final newline"),
        (format!("o\n1\n{root_line}\n\next\n"), "empty line"),
    ] {
        assert!(Checkpoint::parse_body(&body).is_err(), "{description}");
    }
    let feed_checkpoint = Checkpoint::for_feed(&author_keypair().public_key(), 1, root);
    assert_eq!(Checkpoint::parse_body(&feed_checkpoint.to_body()).unwrap().0, feed_checkpoint);
    assert_eq!(
        author_of_feed_origin(&feed_checkpoint.origin).unwrap(),
        author_keypair().public_key()
    );
    assert!(author_of_feed_origin("example.com/log").is_err());
    assert!(author_of_feed_origin(&feed_checkpoint.origin.to_uppercase()).is_err());
}
