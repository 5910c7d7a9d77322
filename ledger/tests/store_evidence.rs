//! The evidence a store gives for relied-on entries: one bundle per author against its latest
//! checkpoint, entries beyond it listed as unproven, and the JSON shape the node serves and the
//! client reads.

mod feed_fixtures;

use feed_fixtures::*;
use lotline_ledger::checkpoint::{Checkpoint, SignedCheckpoint};
use lotline_ledger::feed::VerifiedEntry;
use lotline_ledger::merkle;
use lotline_ledger::proof::{self, Evidence, Unproven, WitnessPolicy};
use lotline_ledger::store::Store;

fn wires(entries: &[VerifiedEntry]) -> Vec<Vec<u8>> {
    entries.iter().map(|entry| entry.wire_bytes().to_vec()).collect()
}

/// `author`'s checkpoint over the first `size` of `entries`.
fn checkpoint_over(
    keypair: &lotline_ledger::identity::Keypair,
    entries: &[VerifiedEntry],
    size: usize,
) -> SignedCheckpoint {
    let leaves: Vec<merkle::Hash> =
        entries[..size].iter().map(|entry| merkle::leaf_hash(entry.leaf_bytes())).collect();
    let checkpoint =
        Checkpoint::for_feed(&keypair.public_key(), size as u64, merkle::root(&leaves));
    SignedCheckpoint::sign(checkpoint, keypair).unwrap()
}

#[test]
fn evidence_bundles_checkpointed_entries_per_author_and_lists_the_rest_as_unproven() {
    let directory = tempfile::tempdir().unwrap();
    let store = Store::open(directory.path(), &genesis()).unwrap();
    let producer_entries = epcis_feed(producer(), 6);
    let logistics_entries = epcis_feed(logistics(), 3);
    store.append_batch(wires(&producer_entries)).unwrap();
    store.append_batch(wires(&logistics_entries)).unwrap();
    store.put_checkpoint(&checkpoint_over(&producer(), &producer_entries, 4)).unwrap();
    let producer_key = producer().public_key();
    let logistics_key = logistics().public_key();

    let evidence = store
        .evidence(&[
            (producer_key, 5),
            (producer_key, 1),
            (logistics_key, 2),
            (producer_key, 3),
            (producer_key, 1),
        ])
        .unwrap();
    assert_eq!(evidence.bundles.len(), 1, "only the producer has a checkpoint");
    let bundle = &evidence.bundles[0];
    assert_eq!(
        bundle.entries.iter().map(|entry| entry.index).collect::<Vec<_>>(),
        vec![1, 3],
        "covered entries once each, ascending"
    );
    assert_eq!(bundle.entries[0].entry, producer_entries[1].wire_bytes());
    let mut unproven = evidence.unproven.clone();
    unproven.sort();
    let mut expected = vec![
        Unproven { author: producer_key, sequence: 5 },
        Unproven { author: logistics_key, sequence: 2 },
    ];
    expected.sort();
    assert_eq!(unproven, expected);
    let verified = proof::verify_bundle(bundle, &[producer_key], &WitnessPolicy::none()).unwrap();
    assert_eq!(verified.entries().len(), 2);

    let json = serde_json::to_value(&evidence).unwrap();
    let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["bundles", "unproven"]);
    let first_unproven = &json["unproven"][0];
    assert!(first_unproven["author"].is_string(), "authors are hex: {first_unproven}");
    assert_eq!(
        first_unproven.as_object().unwrap().keys().map(String::as_str).collect::<Vec<_>>(),
        ["author", "sequence"]
    );
    let read_back: Evidence = serde_json::from_value(json).unwrap();
    assert_eq!(read_back, evidence);
    assert!(store.evidence(&[]).unwrap().bundles.is_empty());
}

#[test]
fn an_entry_past_the_checkpoint_is_unproven_even_past_the_feed() {
    let directory = tempfile::tempdir().unwrap();
    let store = Store::open(directory.path(), &genesis()).unwrap();
    let entries = epcis_feed(producer(), 2);
    store.append_batch(wires(&entries)).unwrap();
    store.put_checkpoint(&checkpoint_over(&producer(), &entries, 2)).unwrap();
    let author = producer().public_key();
    assert_eq!(store.evidence(&[(author, 1)]).unwrap().bundles[0].entries.len(), 1);
    // A checkpoint never runs ahead of the stored feed, so an entry past the feed is past the
    // checkpoint too: not provable, listed rather than refused.
    assert_eq!(
        store.evidence(&[(author, 9)]).unwrap().unproven,
        vec![Unproven { author, sequence: 9 }]
    );
}
