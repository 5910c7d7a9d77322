//! The feed's rules, one test per rule: decoding and verification (a tampered copy of every
//! field is rejected with the rule it breaks), selective disclosure, the pure append rules,
//! batch verification that names the bad entry, and the roster's governance.

mod feed_fixtures;

use feed_fixtures::*;
use lotline_ledger::codec;
use lotline_ledger::entry::{EntryHash, PayloadKind};
use lotline_ledger::feed::{
    self, BatchError, Error, FeedState, FeedWriter, VerifiedEntry, check_append,
};
use lotline_ledger::records::Payload;
use lotline_ledger::roster::{self, Approval, Change, Role, Roster, RosterChange};
use proptest::prelude::*;

fn roster() -> Roster {
    Roster::from_genesis(&genesis()).expect("fixture genesis verifies")
}

fn first_entry() -> VerifiedEntry {
    epcis_feed(producer(), 1).remove(0)
}

// Byte offsets of the header fields (see docs/wire-format.md).
const VERSION: std::ops::Range<usize> = 0..1;
const AUTHOR: std::ops::Range<usize> = 1..33;
const SEQUENCE: std::ops::Range<usize> = 33..41;
const PREVIOUS: std::ops::Range<usize> = 41..73;
const RECORD_TIME: std::ops::Range<usize> = 73..81;
const KIND: std::ops::Range<usize> = 81..82;
const COMMITMENT: std::ops::Range<usize> = 82..114;
const SIGNATURE: std::ops::Range<usize> = 114..178;

fn tampered(wire: &[u8], byte: usize) -> Vec<u8> {
    let mut copy = wire.to_vec();
    copy[byte] ^= 0x01;
    copy
}

#[test]
fn signed_entry_round_trips_through_its_wire_bytes() {
    let entry = first_entry();
    let decoded = VerifiedEntry::decode_and_verify(entry.wire_bytes()).unwrap();
    assert_eq!(decoded, entry);
    assert_eq!(decoded.author(), producer().public_key());
    assert_eq!(decoded.sequence(), 0);
    assert_eq!(decoded.previous(), EntryHash::ZERO);
    assert_eq!(decoded.record_time_ms(), RECORD_TIME_MS);
    assert_eq!(decoded.payload(), Some(&epcis_payload(0)));
    assert_eq!(decoded.entry_hash(), entry.entry_hash());
    assert_eq!(decoded.leaf_bytes(), &entry.wire_bytes()[..codec::ENVELOPE_LEN]);
    assert!(decoded.event_id().unwrap().starts_with("ni:///sha-256;"));
}

#[test]
fn every_payload_kind_round_trips() {
    for payload in record_payloads() {
        let entry = VerifiedEntry::sign(
            &regulator(),
            0,
            EntryHash::ZERO,
            RECORD_TIME_MS,
            &payload,
            &[3; 32],
        )
        .unwrap();
        let decoded = VerifiedEntry::decode_and_verify(entry.wire_bytes()).unwrap();
        assert_eq!(decoded.payload(), Some(&payload));
        assert_eq!(decoded.payload_kind(), payload.kind());
    }
}

#[test]
fn tampered_version_is_unsupported() {
    let wire = first_entry().into_wire_bytes();
    let error = VerifiedEntry::decode_and_verify(&tampered(&wire, VERSION.start)).unwrap_err();
    assert!(matches!(error, Error::UnsupportedVersion { found: 0 }), "{error}");
}

#[test]
fn tampered_signed_header_fields_break_the_signature() {
    let wire = first_entry().into_wire_bytes();
    for (name, range) in [
        ("author", AUTHOR),
        ("sequence", SEQUENCE),
        ("previous", PREVIOUS),
        ("record time", RECORD_TIME),
        ("signature", SIGNATURE),
    ] {
        for byte in [range.start, range.end - 1] {
            let error = VerifiedEntry::decode_and_verify(&tampered(&wire, byte)).unwrap_err();
            assert!(
                matches!(error, Error::BadSignature { .. } | Error::InvalidAuthor(_)),
                "{name} byte {byte}: {error}"
            );
        }
    }
}

#[test]
fn tampered_kind_or_commitment_breaks_the_commitment() {
    let wire = first_entry().into_wire_bytes();
    for byte in [KIND.start, COMMITMENT.start, COMMITMENT.end - 1] {
        let error = VerifiedEntry::decode_and_verify(&tampered(&wire, byte)).unwrap_err();
        assert!(matches!(error, Error::CommitmentMismatch), "byte {byte}: {error}");
    }
    let mut unknown_kind = wire.clone();
    unknown_kind[KIND.start] = 200;
    let error = VerifiedEntry::decode_and_verify(&unknown_kind).unwrap_err();
    assert!(matches!(error, Error::Payload(_)), "{error}");
}

#[test]
fn tampered_body_breaks_the_commitment_or_the_layout() {
    let wire = first_entry().into_wire_bytes();
    // Body: u64 count, then per field: tag, 16-byte salt, u64 length, value.
    let first_salt = codec::ENVELOPE_LEN + 8 + 1;
    let first_value = first_salt + codec::SALT_LEN + 8;
    for byte in [first_salt, first_value, wire.len() - 1] {
        let error = VerifiedEntry::decode_and_verify(&tampered(&wire, byte)).unwrap_err();
        assert!(matches!(error, Error::CommitmentMismatch), "byte {byte}: {error}");
    }
    let error =
        VerifiedEntry::decode_and_verify(&tampered(&wire, codec::ENVELOPE_LEN)).unwrap_err();
    assert!(matches!(error, Error::Malformed(_)), "count: {error}");
    let mut trailing = wire.clone();
    trailing.push(0);
    assert!(matches!(VerifiedEntry::decode_and_verify(&trailing), Err(Error::Malformed(_))));
    assert!(matches!(
        VerifiedEntry::decode_and_verify(&wire[..wire.len() - 1]),
        Err(Error::Malformed(_))
    ));
    assert!(matches!(VerifiedEntry::decode_and_verify(&wire[..100]), Err(Error::Malformed(_))));
    assert!(matches!(VerifiedEntry::decode_and_verify(&[]), Err(Error::Malformed(_))));
}

#[test]
fn oversized_entries_are_rejected_before_decoding() {
    let huge = vec![1u8; codec::MAX_ENTRY_LEN + 1];
    let error = VerifiedEntry::decode_and_verify(&huge).unwrap_err();
    assert!(matches!(error, Error::Malformed(codec::Error::TooLong { .. })), "{error}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Flipping any bit anywhere in an entry makes it fail to verify.
    #[test]
    fn any_bit_flip_is_rejected(position in 0usize..10_000, bit in 0u8..8) {
        let wire = first_entry().into_wire_bytes();
        let mut copy = wire.clone();
        let index = position % copy.len();
        copy[index] ^= 1 << bit;
        prop_assert!(VerifiedEntry::decode_and_verify(&copy).is_err());
    }

    /// Arbitrary bytes never panic the decoder.
    #[test]
    fn arbitrary_bytes_do_not_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = VerifiedEntry::decode_and_verify(&bytes);
    }

    /// Any EPCIS bytes and id survive signing and verification unchanged.
    #[test]
    fn epcis_payloads_round_trip(original in proptest::collection::vec(any::<u8>(), 0..2_000), id in "[a-z0-9:/;?=.-]{0,90}") {
        let payload = Payload::Epcis(lotline_ledger::records::EpcisCapture {
            event_id: id,
            format: lotline_ledger::records::EventFormat::Xml,
            original,
        });
        let entry = VerifiedEntry::sign(&producer(), 5, EntryHash::from_bytes([9; 32]), -1, &payload, &[1; 32]).unwrap();
        let decoded = VerifiedEntry::decode_and_verify(entry.wire_bytes()).unwrap();
        prop_assert_eq!(decoded.payload(), Some(&payload));
    }
}

#[test]
fn withheld_fields_still_verify_with_the_same_hash_and_leaf() {
    let entry = first_entry();
    let redacted = entry.redact(&[2]).unwrap();
    let decoded = VerifiedEntry::decode_and_verify(redacted.wire_bytes()).unwrap();
    assert_eq!(decoded.entry_hash(), entry.entry_hash());
    assert_eq!(decoded.leaf_bytes(), entry.leaf_bytes());
    assert!(decoded.wire_bytes().len() < entry.wire_bytes().len());
    assert_eq!(decoded.payload(), None);
    assert_eq!(decoded.event_id(), entry.event_id());
    let fully_withheld = entry.redact(&[0, 1, 2]).unwrap();
    let decoded = VerifiedEntry::decode_and_verify(fully_withheld.wire_bytes()).unwrap();
    assert_eq!(decoded.entry_hash(), entry.entry_hash());
    assert_eq!(decoded.event_id(), None);
    assert_eq!(decoded.payload_kind(), PayloadKind::EpcisEvent);
}

#[test]
fn a_forged_withheld_commitment_is_rejected() {
    let redacted = first_entry().redact(&[1]).unwrap().into_wire_bytes();
    // Second opening: tag(1) salt(16) len(8) value(..) for field 0, then tag 1 + commitment.
    let field_zero_len_offset = codec::ENVELOPE_LEN + 8 + 1 + codec::SALT_LEN;
    let field_zero_len = u64::from_le_bytes(
        redacted[field_zero_len_offset..field_zero_len_offset + 8].try_into().unwrap(),
    ) as usize;
    let commitment_offset = field_zero_len_offset + 8 + field_zero_len + 1;
    let error =
        VerifiedEntry::decode_and_verify(&tampered(&redacted, commitment_offset)).unwrap_err();
    assert!(matches!(error, Error::CommitmentMismatch), "{error}");
}

#[test]
fn a_fields_salt_hides_it_from_guessing() {
    // Two entries with the same payload and different salt seeds commit differently.
    let payload = epcis_payload(0);
    let first =
        VerifiedEntry::sign(&producer(), 0, EntryHash::ZERO, 0, &payload, &[1; 32]).unwrap();
    let second =
        VerifiedEntry::sign(&producer(), 0, EntryHash::ZERO, 0, &payload, &[2; 32]).unwrap();
    assert_ne!(first.header().payload_commitment, second.header().payload_commitment);
}

#[test]
fn append_rules_accept_a_well_formed_feed() {
    let mut roster = roster();
    let entries = epcis_feed(producer(), 5);
    let head = feed::verify_feed(&entries, &mut roster).unwrap().unwrap();
    assert_eq!(head.sequence, 4);
    assert_eq!(head.entry_hash, entries[4].entry_hash());
}

#[test]
fn first_entry_must_be_sequence_zero_with_zero_previous() {
    let roster = roster();
    let entries = epcis_feed(producer(), 2);
    let error = check_append(&FeedState::default(), &entries[1], &roster).unwrap_err();
    assert!(matches!(error, Error::SequenceGap { expected: 0, found: 1, .. }), "{error}");
    let wrong_previous = VerifiedEntry::sign(
        &producer(),
        0,
        EntryHash::from_bytes([1; 32]),
        0,
        &epcis_payload(0),
        &[0; 32],
    )
    .unwrap();
    let error = check_append(&FeedState::default(), &wrong_previous, &roster).unwrap_err();
    assert!(matches!(error, Error::BrokenLink { sequence: 0, .. }), "{error}");
}

#[test]
fn mis_linked_replayed_and_reordered_entries_are_rejected() {
    let roster = roster();
    let entries = epcis_feed(producer(), 3);
    let after_first = FeedState { head: Some(entries[0].as_head()), frozen_at: None };
    let mis_linked = VerifiedEntry::sign(
        &producer(),
        1,
        EntryHash::from_bytes([5; 32]),
        0,
        &epcis_payload(1),
        &[0; 32],
    )
    .unwrap();
    let error = check_append(&after_first, &mis_linked, &roster).unwrap_err();
    assert!(matches!(error, Error::BrokenLink { sequence: 1, .. }), "{error}");
    let error = check_append(&after_first, &entries[0], &roster).unwrap_err();
    assert!(matches!(error, Error::Replayed { sequence: 0, head: 0, .. }), "{error}");
    let error = check_append(&after_first, &entries[2], &roster).unwrap_err();
    assert!(matches!(error, Error::SequenceGap { expected: 1, found: 2, .. }), "{error}");
    let mut reordered = vec![entries[1].clone(), entries[0].clone()];
    let error = feed::verify_feed(&reordered, &mut roster.clone()).unwrap_err();
    assert_eq!(error.index, 0);
    reordered.swap(0, 1);
    feed::verify_feed(&reordered, &mut roster.clone()).unwrap();
}

#[test]
fn unadmitted_authors_are_rejected() {
    let entry = epcis_feed(outsider(), 1).remove(0);
    let error = check_append(&FeedState::default(), &entry, &roster()).unwrap_err();
    assert!(matches!(error, Error::NotAdmitted { .. }), "{error}");
}

#[test]
fn roles_decide_which_kinds_an_author_may_write() {
    let roster = roster();
    let kinds_by_payload: Vec<(PayloadKind, Payload)> =
        record_payloads().into_iter().map(|payload| (payload.kind(), payload)).collect();
    let expectations = [
        (producer(), Role::Producer),
        (regulator(), Role::Regulator),
        (lab(), Role::Lab),
        (logistics(), Role::Logistics),
        (witness(), Role::Witness),
    ];
    for (keypair, role) in expectations {
        for (kind, payload) in &kinds_by_payload {
            let entry =
                VerifiedEntry::sign(&keypair, 0, EntryHash::ZERO, 0, payload, &[0; 32]).unwrap();
            let result = check_append(&FeedState::default(), &entry, &roster);
            if role.may_write(*kind) {
                assert!(result.is_ok(), "{role:?} {kind}: {result:?}");
            } else {
                assert!(
                    matches!(result, Err(Error::RoleNotAllowed { kind: found, .. }) if found == *kind),
                    "{role:?} {kind}"
                );
            }
        }
    }
    // The three named rules.
    assert!(!Role::Producer.may_write(PayloadKind::RecallNotice));
    assert!(!Role::Producer.may_write(PayloadKind::SupervisionFlag));
    assert!(!Role::Regulator.may_write(PayloadKind::InspectionResult));
}

#[test]
fn frozen_feeds_accept_nothing() {
    let entries = epcis_feed(producer(), 2);
    let frozen = FeedState { head: Some(entries[0].as_head()), frozen_at: Some(0) };
    let error = check_append(&frozen, &entries[1], &roster()).unwrap_err();
    assert!(matches!(error, Error::Frozen { fork_sequence: 0, .. }), "{error}");
}

#[test]
fn batch_verification_names_the_bad_entry() {
    let mut wires: Vec<Vec<u8>> =
        epcis_feed(producer(), 40).into_iter().map(VerifiedEntry::into_wire_bytes).collect();
    feed::decode_and_verify_parallel(wires.clone(), 2).unwrap();
    // Tamper the signature's s half so the commitment still matches and only the signature fails.
    wires[27][SIGNATURE.start + 40] ^= 0x04;
    for threads in [1, 2, 3] {
        let BatchError { index, error } =
            feed::decode_and_verify_parallel(wires.clone(), threads).unwrap_err();
        assert_eq!(index, 27, "threads {threads}");
        assert!(matches!(error, Error::BadSignature { sequence: 27, .. }), "{error}");
    }
    wires[3].truncate(50);
    let BatchError { index, error } = feed::decode_and_verify_parallel(wires, 2).unwrap_err();
    assert_eq!(index, 3);
    assert!(matches!(error, Error::Malformed(_)), "{error}");
}

#[test]
fn feed_writer_continues_from_a_head() {
    let entries = epcis_feed(producer(), 2);
    let mut writer = FeedWriter::new(producer(), Some(entries[1].as_head()));
    let next = writer.next_entry(RECORD_TIME_MS, &epcis_payload(2)).unwrap();
    assert_eq!(next.sequence(), 2);
    assert_eq!(next.previous(), entries[1].entry_hash());
    let mut all = entries;
    all.push(next);
    feed::verify_feed(&all, &mut roster()).unwrap();
}

fn admit_change() -> Change {
    Change::Admit(member(&outsider(), "New Retailer", 9, &[Role::Retailer]))
}

#[test]
fn roster_changes_need_governance_threshold_and_current_version() {
    let keys = vec![governance().public_key(), second_governance().public_key()];
    let genesis = genesis_with(keys, 2, &[&governance(), &second_governance()]);
    let mut roster = Roster::from_genesis(&genesis).unwrap();
    let change = admit_change();
    let unapproved = RosterChange { roster_version: 0, change: change.clone(), approvals: vec![] };
    let error = roster.check_change(&governance().public_key(), &unapproved).unwrap_err();
    assert!(matches!(error, roster::Error::BelowThreshold { needed: 2, found: 1 }), "{error}");
    let message = RosterChange::approval_message("lotline-test", 0, &change).unwrap();
    let approval = Approval {
        key: second_governance().public_key(),
        signature: second_governance().sign(&message),
    };
    let approved =
        RosterChange { roster_version: 0, change: change.clone(), approvals: vec![approval] };
    // A regulator may publish it too, but then it needs both governance approvals.
    let error = roster.check_change(&regulator().public_key(), &approved).unwrap_err();
    assert!(matches!(error, roster::Error::BelowThreshold { needed: 2, found: 1 }), "{error}");
    let error = roster.check_change(&producer().public_key(), &approved).unwrap_err();
    assert!(matches!(error, roster::Error::NotAllowedToPublish { .. }), "{error}");
    roster.apply(&governance().public_key(), &approved).unwrap();
    assert!(roster.is_admitted(&outsider().public_key()));
    assert!(roster.role_allows(&outsider().public_key(), PayloadKind::EpcisEvent));
    // Replaying the same approvals later is stale.
    let error = roster.check_change(&governance().public_key(), &approved).unwrap_err();
    assert!(matches!(error, roster::Error::StaleVersion { current: 1, found: 0 }), "{error}");
    let forged = Approval {
        key: second_governance().public_key(),
        signature: second_governance().sign(b"other"),
    };
    let forged_change = RosterChange {
        roster_version: 1,
        change: Change::Remove { key: outsider().public_key() },
        approvals: vec![forged],
    };
    let error = roster.check_change(&governance().public_key(), &forged_change).unwrap_err();
    assert!(matches!(error, roster::Error::BadGovernanceSignature { .. }), "{error}");
}

#[test]
fn roster_change_entries_change_who_may_append() {
    let mut roster = roster();
    let change = RosterChange { roster_version: 0, change: admit_change(), approvals: vec![] };
    let mut governance_writer = FeedWriter::new(governance(), None);
    let change_entry =
        governance_writer.next_entry(RECORD_TIME_MS, &Payload::RosterChange(change)).unwrap();
    let decoded = VerifiedEntry::decode_and_verify(change_entry.wire_bytes()).unwrap();
    assert_eq!(feed::verify_feed(&[decoded], &mut roster).unwrap().unwrap().sequence, 0);
    let newcomer = epcis_feed(outsider(), 1).remove(0);
    check_append(&FeedState::default(), &newcomer, &roster).unwrap();
    let withheld = change_entry.redact(&[1]).unwrap();
    let error =
        check_append(&FeedState::default(), &withheld, &Roster::from_genesis(&genesis()).unwrap())
            .unwrap_err();
    assert!(matches!(error, Error::RosterChangeWithheld { sequence: 0 }), "{error}");
}

#[test]
fn genesis_needs_valid_governance_signatures() {
    let genesis = genesis();
    genesis.verify().unwrap();
    let reparsed = roster::Genesis::from_json(&genesis.to_json()).unwrap();
    assert_eq!(reparsed, genesis);
    let mut unsigned = genesis.clone();
    unsigned.signatures.clear();
    assert!(matches!(unsigned.verify(), Err(roster::Error::BelowThreshold { .. })));
    let mut altered = genesis.clone();
    altered.network = "other".to_owned();
    assert!(matches!(altered.verify(), Err(roster::Error::BadGovernanceSignature { .. })));
    let mut outsider_signed = genesis.clone();
    outsider_signed.sign(&outsider()).unwrap();
    assert!(matches!(outsider_signed.verify(), Err(roster::Error::NotGovernance { .. })));
    let mut bad_gln = genesis;
    bad_gln.members[0].gln = "0614141000001".to_owned();
    assert!(matches!(bad_gln.verify(), Err(roster::Error::InvalidGln(_))));
}

#[test]
fn equivocation_is_two_valid_entries_for_one_position() {
    let first =
        VerifiedEntry::sign(&producer(), 0, EntryHash::ZERO, 0, &epcis_payload(0), &[0; 32])
            .unwrap();
    let second =
        VerifiedEntry::sign(&producer(), 0, EntryHash::ZERO, 0, &epcis_payload(1), &[0; 32])
            .unwrap();
    assert!(feed::is_equivocation(&first, &second));
    assert!(!feed::is_equivocation(&first, &first.clone()));
    let redacted = first.redact(&[2]).unwrap();
    assert!(!feed::is_equivocation(&first, &redacted));
}
