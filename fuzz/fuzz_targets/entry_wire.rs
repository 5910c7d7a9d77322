//! Fuzz target `entry_wire`: entry wire decoding (`feed::DecodedEntry::decode`) and what a node
//! does with a decoded entry next: strict and batched signature checks, redaction, reading the
//! payload (and a captured event, `epcis::decode_stored_event`) and signing it again.
//!
//! Owns the properties of entry bytes; does not own checkpoints or bundles (`checkpoint_note`,
//! `proof_bundle`) nor the sync framing around entries (`sync_messages`).
//!
//! Each input is used twice:
//! * as received, the bytes a peer may send: decoding fails, or the entry re-encodes to exactly
//!   the same bytes (one value, one encoding), its hash is its envelope's, and batch and single
//!   verification agree on it;
//! * re-signed: when the bytes have the entry layout, the header is rebuilt around the fuzzed
//!   fields with the payload commitment they imply and signed by a fixed key, so the fuzzer
//!   reaches payload decoding, verification and redaction, which random bytes never reach (the
//!   commitment is a SHA-256 over the fields). Such an entry must verify unless its fields are
//!   not a payload of its kind, and a one-bit change to its signature must be refused.

#![no_main]

use libfuzzer_sys::fuzz_target;
use lotline_ledger::codec::{self, RawEntry, RawHeader, RawOpening};
use lotline_ledger::epcis;
use lotline_ledger::feed::{self, DecodedEntry, VerifiedEntry};
use lotline_ledger::identity::Keypair;
use lotline_ledger::records::Payload;

/// Seed of the key every re-signed entry is signed with: fixed, so a crash input replays.
const AUTHOR_SEED: [u8; 32] = [7; 32];
/// Salt seed for signing a decoded payload again (fixed for the same reason).
const SALT_SEED: [u8; 32] = [9; 32];

fuzz_target!(|wire: &[u8]| {
    check_as_received(wire);
    check_re_signed(wire);
});

/// Arbitrary bytes: an error, or an entry whose bytes are canonical and whose verdicts agree.
fn check_as_received(wire: &[u8]) {
    let raw = codec::decode_entry(wire);
    let Ok(decoded) = DecodedEntry::decode(wire.to_vec()) else {
        return;
    };
    let raw = raw.expect("an entry that decodes has the entry layout");
    assert_canonical(wire, &raw);
    assert_eq!(
        decoded.entry_hash().as_bytes(),
        &codec::entry_hash(&wire[..codec::ENVELOPE_LEN]),
        "the entry hash is the envelope's"
    );
    assert_eq!(decoded.header().sequence, raw.header.sequence);
    assert_eq!(decoded.header().record_time_ms, raw.header.record_time_ms);
    let single = decoded.clone().verify();
    let batch = feed::verify_batch(vec![decoded]);
    assert_eq!(single.is_ok(), batch.is_ok(), "single and batch verification disagree");
    if let Ok(verified) = single {
        check_verified(&verified);
    }
}

/// Decoding is the inverse of encoding: the raw parts encode back to the very same bytes.
fn assert_canonical(wire: &[u8], raw: &RawEntry) {
    assert_eq!(codec::encode_header(&raw.header), wire[..codec::HEADER_LEN], "header re-encodes");
    let encoded = codec::encode_entry(&wire[..codec::HEADER_LEN], &raw.signature, &raw.openings)
        .expect("a decoded entry re-encodes");
    assert_eq!(encoded, wire, "a decoded entry re-encodes to its own bytes");
}

/// The fuzzed fields under a correct commitment and signature.
fn check_re_signed(wire: &[u8]) {
    let Ok(raw) = codec::decode_entry(wire) else {
        return;
    };
    let keypair = Keypair::from_seed(AUTHOR_SEED);
    let kind = raw.header.payload_kind;
    let field_commitments: Vec<[u8; 32]> = raw
        .openings
        .iter()
        .enumerate()
        .map(|(index, opening)| match opening {
            RawOpening::Disclosed { salt, value } => {
                let index = u32::try_from(index).expect("an entry holds few fields");
                codec::field_commitment(kind, index, salt, value)
            }
            RawOpening::Withheld { commitment } => *commitment,
        })
        .collect();
    let header = RawHeader {
        version: codec::ENTRY_VERSION,
        author: *keypair.public_key().as_bytes(),
        payload_commitment: codec::payload_commitment(kind, &field_commitments),
        ..raw.header
    };
    let header_bytes = codec::encode_header(&header);
    let signature = keypair.sign(&codec::signing_message(&header_bytes)).to_bytes();
    // Same length as the input (the header has a fixed width), so within the size limit.
    let signed_wire = codec::encode_entry(&header_bytes, &signature, &raw.openings)
        .expect("a re-signed entry encodes");
    let verified = match VerifiedEntry::decode_and_verify(&signed_wire) {
        Ok(verified) => verified,
        // The kind byte names no kind, or the disclosed fields are not a payload of the kind.
        Err(feed::Error::Payload(_)) => return,
        Err(error) => panic!("a correctly committed and signed entry is refused: {error}"),
    };
    check_verified(&verified);
    check_tampered_signature(&verified, wire.len());
}

/// A verified entry keeps its bytes, hash and payload through every path a node takes.
fn check_verified(verified: &VerifiedEntry) {
    let wire = verified.wire_bytes();
    assert_eq!(verified.leaf_bytes(), &wire[..codec::ENVELOPE_LEN]);
    assert_eq!(verified.entry_hash().as_bytes(), &codec::entry_hash(verified.leaf_bytes()));
    let again = VerifiedEntry::decode_and_verify(wire).expect("verified bytes verify again");
    assert!(again == *verified, "verified bytes decode to the same entry");
    assert_eq!(verified.as_head().sequence, verified.sequence());

    let disclosed: Option<Vec<&[u8]>> = verified
        .openings()
        .iter()
        .map(|opening| match opening {
            RawOpening::Disclosed { value, .. } => Some(value.as_slice()),
            RawOpening::Withheld { .. } => None,
        })
        .collect();
    match (verified.payload(), &disclosed) {
        (Some(payload), Some(values)) => {
            assert_eq!(payload.kind(), verified.payload_kind());
            let fields = payload.to_fields().expect("a decoded payload encodes");
            // One payload, one encoding: what decoded is exactly what encoding writes.
            assert_eq!(fields.iter().map(Vec::as_slice).collect::<Vec<_>>(), *values);
            assert_eq!(verified.event_id().as_deref(), payload.event_id());
            if let Payload::Epcis(capture) = payload {
                // What a node does next with a replicated capture: read its event back.
                let _ = epcis::decode_stored_event(&capture.original);
            }
            check_signed_again(verified, payload);
        }
        (None, None) => {}
        (payload, _) => panic!(
            "payload present ({}) but fields disclosed ({})",
            payload.is_some(),
            disclosed.is_some()
        ),
    }

    let field_count = verified.openings().len();
    let every_field: Vec<usize> = (0..field_count).collect();
    let redacted = verified.redact(&every_field).expect("a verified entry redacts");
    assert_eq!(redacted.entry_hash(), verified.entry_hash(), "redaction keeps the entry hash");
    assert_eq!(redacted.leaf_bytes(), verified.leaf_bytes(), "redaction keeps the leaf");
    assert_eq!(redacted.payload().is_some(), field_count == 0);
    let reread =
        VerifiedEntry::decode_and_verify(redacted.wire_bytes()).expect("a redacted copy verifies");
    assert_eq!(reread.entry_hash(), verified.entry_hash());
    if field_count > 1 {
        // Withholding only the last field keeps the first readable (an EPCIS event id stays
        // indexable when only the event body is withheld).
        let partly = verified.redact(&[field_count - 1]).expect("a verified entry redacts");
        assert!(partly.payload().is_none());
        assert_eq!(partly.event_id(), verified.event_id());
    }
}

/// Signing the decoded payload again yields an entry that verifies and carries the same fields.
fn check_signed_again(verified: &VerifiedEntry, payload: &Payload) {
    let keypair = Keypair::from_seed(AUTHOR_SEED);
    let signed = VerifiedEntry::sign(
        &keypair,
        verified.sequence(),
        verified.previous(),
        verified.record_time_ms(),
        payload,
        &SALT_SEED,
    );
    // Another salt can only make the body longer than the size limit; nothing else may fail.
    let signed = match signed {
        Ok(signed) => signed,
        Err(feed::Error::Malformed(codec::Error::TooLong { .. })) => return,
        Err(error) => panic!("a decoded payload cannot be signed again: {error}"),
    };
    let reread = VerifiedEntry::decode_and_verify(signed.wire_bytes()).expect("signed verifies");
    let reread_fields = reread.payload().expect("fully disclosed").to_fields().expect("encodes");
    assert_eq!(reread_fields, payload.to_fields().expect("encodes"), "the payload survives");
}

/// One flipped signature bit is refused alone and names its entry in a batch.
fn check_tampered_signature(verified: &VerifiedEntry, choice: usize) {
    let mut tampered = verified.wire_bytes().to_vec();
    let bit = choice % (64 * 8);
    tampered[codec::HEADER_LEN + bit / 8] ^= 1 << (bit % 8);
    let tampered_entry = DecodedEntry::decode(tampered).expect("the signature is not decoded");
    assert!(tampered_entry.clone().verify().is_err(), "a flipped signature bit verifies");
    let good = DecodedEntry::decode(verified.wire_bytes().to_vec()).expect("verified decodes");
    let batch = feed::verify_batch(vec![good.clone(), tampered_entry]);
    assert_eq!(batch.err().map(|error| error.index), Some(1), "the batch names the bad entry");
    assert!(feed::verify_batch(vec![good.clone(), good]).is_ok(), "a good batch verifies");
}
