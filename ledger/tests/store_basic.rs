//! The store: atomic batched append, lookups, reopening, equivocation and frozen feeds, fork
//! resolution, checkpoints, and a full verify.

mod feed_fixtures;

use feed_fixtures::*;
use lotline_ledger::checkpoint::{Checkpoint, Cosignature, Cosigner, SignedCheckpoint};
use lotline_ledger::feed::{self, FeedWriter, VerifiedEntry};
use lotline_ledger::fork::ForkPosition;
use lotline_ledger::merkle;
use lotline_ledger::records::Payload;
use lotline_ledger::roster::{Change, Role, RosterChange};
use lotline_ledger::store::{Error, SEGMENT_ENTRIES, Store};

fn wires(entries: &[VerifiedEntry]) -> Vec<Vec<u8>> {
    entries.iter().map(|entry| entry.wire_bytes().to_vec()).collect()
}

fn open(directory: &tempfile::TempDir) -> Store {
    Store::open(directory.path(), &genesis()).expect("store opens")
}

#[test]
fn appended_entries_are_found_by_every_index() {
    let directory = tempfile::tempdir().unwrap();
    let store = open(&directory);
    let entries = epcis_feed(producer(), 10);
    let appended = store.append_batch(wires(&entries)).unwrap();
    assert_eq!(appended.count, 10);
    assert_eq!(appended.heads, vec![(producer().public_key(), entries[9].as_head())]);
    assert_eq!(store.head(&producer().public_key()), Some(entries[9].as_head()));
    assert_eq!(store.entry(&producer().public_key(), 4).unwrap(), Some(entries[4].clone()));
    assert_eq!(store.entry(&producer().public_key(), 10).unwrap(), None);
    assert_eq!(store.entry_by_hash(&entries[7].entry_hash()).unwrap(), Some(entries[7].clone()));
    let event_id = entries[3].event_id().unwrap();
    assert_eq!(store.entry_by_event_id(&event_id).unwrap(), Some(entries[3].clone()));
    assert_eq!(store.entry_by_event_id("ni:///sha-256;00?ver=CBV2.0").unwrap(), None);
    let range = store.range(&producer().public_key(), 2, 3).unwrap();
    assert_eq!(range, wires(&entries[2..5]));
    let in_order: Vec<VerifiedEntry> = store.entries_in_order().collect::<Result<_, _>>().unwrap();
    assert_eq!(in_order, entries);
    assert_eq!(store.len(), 10);
}

#[test]
fn a_batch_with_one_bad_entry_stores_nothing() {
    let directory = tempfile::tempdir().unwrap();
    let store = open(&directory);
    let entries = epcis_feed(producer(), 6);
    let mut batch = wires(&entries);
    batch[4][120] ^= 1; // signature byte
    let error = store.append_batch(batch).unwrap_err();
    assert!(matches!(error, Error::Rejected(ref batch_error) if batch_error.index == 4), "{error}");
    assert_eq!(store.head(&producer().public_key()), None);
    assert_eq!(store.entry(&producer().public_key(), 0).unwrap(), None);
    let mut mis_ordered = wires(&entries);
    mis_ordered.swap(2, 3);
    let error = store.append_batch(mis_ordered).unwrap_err();
    assert!(matches!(error, Error::Rejected(ref batch_error) if batch_error.index == 2), "{error}");
    assert!(store.is_empty());
    let unadmitted = wires(&epcis_feed(outsider(), 1));
    let error = store.append_batch([wires(&entries[..1]), unadmitted].concat()).unwrap_err();
    assert!(
        matches!(error, Error::Rejected(ref batch_error) if batch_error.index == 1 && matches!(batch_error.error, feed::Error::NotAdmitted { .. })),
        "{error}"
    );
    assert!(store.is_empty());
}

#[test]
fn replays_are_rejected_and_feeds_interleave() {
    let directory = tempfile::tempdir().unwrap();
    let store = open(&directory);
    let producer_entries = epcis_feed(producer(), 4);
    let logistics_entries = epcis_feed(logistics(), 4);
    let interleaved: Vec<VerifiedEntry> = producer_entries
        .iter()
        .zip(&logistics_entries)
        .flat_map(|(first, second)| [first.clone(), second.clone()])
        .collect();
    store.append_batch(wires(&interleaved[..4])).unwrap();
    store.append_batch(wires(&interleaved[4..])).unwrap();
    assert_eq!(store.heads().len(), 2);
    let error = store.append_batch(wires(&producer_entries[3..])).unwrap_err();
    assert!(
        matches!(error, Error::Rejected(ref batch_error) if matches!(batch_error.error, feed::Error::Replayed { sequence: 3, .. })),
        "{error}"
    );
    assert!(store.fork_proofs().unwrap().is_empty());
}

#[test]
fn reopening_keeps_everything_and_checks_heads() {
    let directory = tempfile::tempdir().unwrap();
    let entries = epcis_feed(producer(), 20);
    {
        let store = open(&directory);
        store.append_batch(wires(&entries[..12])).unwrap();
        store.append_batch(wires(&entries[12..])).unwrap();
    }
    let store = open(&directory);
    assert_eq!(store.head(&producer().public_key()), Some(entries[19].as_head()));
    assert_eq!(store.len(), 20);
    let report = store.verify(&genesis()).unwrap();
    assert_eq!((report.entries, report.feeds), (20, 1));
    let more = FeedWriter::new(producer(), store.head(&producer().public_key()))
        .next_entry(RECORD_TIME_MS, &epcis_payload(99))
        .unwrap();
    store.append_verified(std::slice::from_ref(&more)).unwrap();
}

#[test]
fn a_store_refuses_another_networks_genesis() {
    let directory = tempfile::tempdir().unwrap();
    drop(open(&directory));
    let keys = vec![governance().public_key(), second_governance().public_key()];
    let other = genesis_with(keys, 1, &[&second_governance()]);
    assert!(matches!(Store::open(directory.path(), &other), Err(Error::GenesisMismatch)));
}

#[test]
fn a_store_dropped_and_reopened_at_once_opens_every_time() {
    // sled's background threads keep the lock a moment after a drop; opening waits for them.
    let directory = tempfile::tempdir().unwrap();
    for _ in 0..50 {
        drop(open(&directory));
    }
}

#[test]
fn a_store_in_use_is_refused_with_its_directory_named() {
    let directory = tempfile::tempdir().unwrap();
    let _in_use = open(&directory);
    match Store::open(directory.path(), &genesis()) {
        Err(Error::Storage(message)) => {
            assert!(message.contains("in use"), "{message}");
            assert!(message.contains(&directory.path().display().to_string()), "{message}");
        }
        other => panic!("a second open of a store in use must fail, got {other:?}"),
    }
}

#[test]
fn equivocation_stores_a_fork_proof_and_freezes_the_feed_until_resolved() {
    let directory = tempfile::tempdir().unwrap();
    let store = open(&directory);
    let entries = epcis_feed(producer(), 3);
    store.append_batch(wires(&entries)).unwrap();
    // The producer signs a different entry for position 1.
    let conflicting = VerifiedEntry::sign(
        &producer(),
        1,
        entries[0].entry_hash(),
        RECORD_TIME_MS,
        &epcis_payload(77),
        &[7; 32],
    )
    .unwrap();
    let error = store.append_batch(wires(std::slice::from_ref(&conflicting))).unwrap_err();
    assert!(matches!(error, Error::Equivocation { index: 0, sequence: 1, .. }), "{error}");
    assert_eq!(store.is_frozen(&producer().public_key()), Some(1));
    let proofs = store.fork_proofs().unwrap();
    assert_eq!(proofs.len(), 1);
    assert_eq!(proofs[0].author(), producer().public_key());
    assert_eq!(proofs[0].position(), ForkPosition::Sequence(1));
    proofs[0].verify(&producer().public_key()).unwrap();
    // Frozen: even the honest continuation is refused, across a reopen too.
    let next = FeedWriter::new(producer(), Some(entries[2].as_head()))
        .next_entry(0, &epcis_payload(3))
        .unwrap();
    let error = store.append_verified(std::slice::from_ref(&next)).unwrap_err();
    assert!(
        matches!(error, Error::Rejected(ref batch_error) if matches!(batch_error.error, feed::Error::Frozen { fork_sequence: 1, .. })),
        "{error}"
    );
    drop(store);
    let store = open(&directory);
    assert_eq!(store.is_frozen(&producer().public_key()), Some(1));
    // Governance resolves the fork in favour of the conflicting entry: the stored branch from
    // sequence 1 on is dropped and the feed continues from the kept entry.
    let resolution = RosterChange {
        roster_version: 0,
        change: Change::ResolveFork {
            author: producer().public_key(),
            sequence: 1,
            keep: conflicting.entry_hash(),
        },
        approvals: vec![],
    };
    let resolution_entry = FeedWriter::new(governance(), None)
        .next_entry(0, &Payload::RosterChange(resolution))
        .unwrap();
    store.append_verified(std::slice::from_ref(&resolution_entry)).unwrap();
    assert_eq!(store.is_frozen(&producer().public_key()), None);
    assert_eq!(store.head(&producer().public_key()), Some(entries[0].as_head()));
    assert_eq!(store.entry_by_hash(&entries[2].entry_hash()).unwrap(), None);
    store.append_verified(std::slice::from_ref(&conflicting)).unwrap();
    assert_eq!(store.head(&producer().public_key()), Some(conflicting.as_head()));
    store.verify(&genesis()).unwrap();
    // The dropped branch stays dropped after reopening: its slots are empty on disk.
    drop(store);
    let store = open(&directory);
    assert_eq!(store.head(&producer().public_key()), Some(conflicting.as_head()));
    assert_eq!(store.entry_by_hash(&entries[1].entry_hash()).unwrap(), None);
    assert_eq!(store.entry_by_event_id(&entries[2].event_id().unwrap()).unwrap(), None);
    let authors: Vec<_> =
        store.entries_in_order().map(|entry| entry.unwrap().entry_hash()).collect();
    assert!(!authors.contains(&entries[1].entry_hash()));
    assert!(authors.contains(&conflicting.entry_hash()));
    assert_eq!(store.verify(&genesis()).unwrap().entries, 3);
}

#[test]
fn entries_span_segments_and_every_lookup_survives_reopening() {
    let directory = tempfile::tempdir().unwrap();
    let count = 3 * SEGMENT_ENTRIES as u64 + 5;
    let producer_feed = epcis_feed(producer(), count);
    let logistics_feed = epcis_feed(logistics(), count);
    let interleaved: Vec<VerifiedEntry> = producer_feed
        .iter()
        .zip(&logistics_feed)
        .flat_map(|(first, second)| [first.clone(), second.clone()])
        .collect();
    {
        let store = open(&directory);
        for batch in interleaved.chunks(150) {
            store.append_batch(wires(batch)).unwrap();
        }
    }
    let store = open(&directory);
    assert_eq!(store.len(), 2 * count);
    let in_order: Vec<VerifiedEntry> = store.entries_in_order().collect::<Result<_, _>>().unwrap();
    assert_eq!(in_order, interleaved);
    for (feed, keypair) in [(&producer_feed, producer()), (&logistics_feed, logistics())] {
        let author = keypair.public_key();
        for entry in feed.iter().step_by(37) {
            assert_eq!(store.entry(&author, entry.sequence()).unwrap().as_ref(), Some(entry));
            assert_eq!(store.entry_by_hash(&entry.entry_hash()).unwrap().as_ref(), Some(entry));
        }
        assert_eq!(store.range(&author, 100, 200).unwrap(), wires(&feed[100..300]));
        assert_eq!(
            store.range(&author, count - 2, 10).unwrap(),
            wires(&feed[count as usize - 2..])
        );
        assert!(store.range(&author, count + 5, 10).unwrap().is_empty());
    }
    // The same event captured in both feeds is found in both, in append order.
    let event_id = producer_feed[200].event_id().unwrap();
    let both = store.entries_by_event_id(&event_id).unwrap();
    assert_eq!(both, vec![producer_feed[200].clone(), logistics_feed[200].clone()]);
    assert_eq!(store.verify(&genesis()).unwrap().entries, 2 * count);
}

#[test]
fn roster_changes_in_the_store_survive_reopening() {
    let directory = tempfile::tempdir().unwrap();
    let admit = RosterChange {
        roster_version: 0,
        change: Change::Admit(member(&outsider(), "New Retailer", 9, &[Role::Retailer])),
        approvals: vec![],
    };
    let admit_entry =
        FeedWriter::new(governance(), None).next_entry(0, &Payload::RosterChange(admit)).unwrap();
    {
        let store = open(&directory);
        store.append_verified(std::slice::from_ref(&admit_entry)).unwrap();
        store.append_batch(wires(&epcis_feed(outsider(), 2))).unwrap();
    }
    let store = open(&directory);
    assert!(store.roster().is_admitted(&outsider().public_key()));
    assert_eq!(store.roster().version(), 1);
    store.verify(&genesis()).unwrap();
}

fn signed_checkpoint(size: u64, root: merkle::Hash) -> SignedCheckpoint {
    SignedCheckpoint::sign(Checkpoint::for_feed(&producer().public_key(), size, root), &producer())
        .unwrap()
}

#[test]
fn checkpoints_must_match_the_stored_feed() {
    let directory = tempfile::tempdir().unwrap();
    let entries = epcis_feed(producer(), 7);
    let author = producer().public_key();
    let leaves: Vec<merkle::Hash> =
        entries.iter().map(|entry| merkle::leaf_hash(entry.leaf_bytes())).collect();
    {
        let store = open(&directory);
        store.append_batch(wires(&entries)).unwrap();
        assert_eq!(store.feed_root(&author, 7).unwrap(), merkle::root(&leaves));
        store.put_checkpoint(&signed_checkpoint(5, merkle::root(&leaves[..5]))).unwrap();
        let wrong = signed_checkpoint(6, merkle::root(&leaves[..5]));
        assert!(matches!(
            store.put_checkpoint(&wrong),
            Err(Error::CheckpointMismatch { size: 6, .. })
        ));
        let ahead = signed_checkpoint(8, merkle::root(&leaves));
        assert!(matches!(
            store.put_checkpoint(&ahead),
            Err(Error::CheckpointAhead { size: 8, length: 7, .. })
        ));
        let cosigner = Cosigner::new("witness.example/one", witness()).unwrap();
        let body = signed_checkpoint(5, merkle::root(&leaves[..5])).body().to_owned();
        let cosignature = Cosignature::sign(&cosigner, &body, 1_767_225_600);
        assert!(store.add_cosignature(&author, 5, &cosignature).unwrap());
        assert!(!store.add_cosignature(&author, 6, &cosignature).unwrap());
        let proof = store.inclusion_proof(&author, 2, 7).unwrap();
        assert!(merkle::verify_inclusion(&leaves[2], 2, 7, &proof, &merkle::root(&leaves)).is_ok());
    }
    let store = open(&directory);
    let latest = store.latest_checkpoint(&author).unwrap().unwrap();
    assert_eq!(latest.checkpoint().size, 5);
    assert_eq!(latest.note().signatures().len(), 2, "log signature and cosignature");
    let report = store.verify(&genesis()).unwrap();
    assert_eq!(report.checkpoints, 1);
}

#[test]
fn conflicting_checkpoints_freeze_the_feed() {
    let directory = tempfile::tempdir().unwrap();
    let entries = epcis_feed(producer(), 4);
    let leaves: Vec<merkle::Hash> =
        entries.iter().map(|entry| merkle::leaf_hash(entry.leaf_bytes())).collect();
    let store = open(&directory);
    store.append_batch(wires(&entries[..3])).unwrap();
    store.put_checkpoint(&signed_checkpoint(3, merkle::root(&leaves[..3]))).unwrap();
    let conflicting = signed_checkpoint(3, merkle::root(&leaves[1..4]));
    let error = store.put_checkpoint(&conflicting).unwrap_err();
    assert!(matches!(error, Error::CheckpointFork { size: 3, .. }), "{error}");
    assert_eq!(store.is_frozen(&producer().public_key()), Some(2));
    let proofs = store.fork_proofs().unwrap();
    assert_eq!(proofs.len(), 1);
    assert_eq!(proofs[0].position(), ForkPosition::TreeSize(3));
    let error = store.append_batch(wires(&entries[3..])).unwrap_err();
    assert!(
        matches!(error, Error::Rejected(ref batch_error) if matches!(batch_error.error, feed::Error::Frozen { .. })),
        "{error}"
    );
}
