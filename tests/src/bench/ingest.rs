//! Scenario `ingest`: sustained append of signed ~500-byte EPCIS events into a fresh store,
//! verified (Ed25519 batches on all cores), durable (one flush per batch) and indexed (by
//! author and sequence, entry hash and event hash id), through `Store::append_pipelined`.
//!
//! Owns the scenario and the machine's ceiling measurement (batch verification of the same
//! signatures on all cores, no storage). Does not own the store or the rules (`lotline_ledger`).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use lotline_ledger::codec;
use lotline_ledger::feed::{FeedWriter, VerifiedEntry};
use lotline_ledger::identity::{Keypair, PublicKey, Signature};
use lotline_ledger::records::{EpcisCapture, EventFormat, Payload};
use lotline_ledger::roster::{Genesis, Member, Role};
use lotline_ledger::store::Store;

use anyhow::Context as _;

use super::{Options, Report, Verifier};

/// Events appended with `--quick` (a few seconds on 2 cores).
const QUICK_EVENTS: usize = 120_000;
/// Events appended in a full run.
const FULL_EVENTS: usize = 600_000;
/// Entries per durable batch (one sled batch and one fsync each).
const BATCH_ENTRIES: usize = 2_048;
/// Number of organisations whose feeds are interleaved.
const FEEDS: usize = 8;
/// Record time of the first event (2026-01-01T00:00:00Z).
const START_MS: i64 = 1_767_225_600_000;

/// A ~500-byte EPCIS 2.0 ObjectEvent in JSON-LD with a unique EPC and its hash id.
fn epcis_event(feed: usize, index: usize) -> Payload {
    let original = format!(
        concat!(
            r#"{{"type":"ObjectEvent","eventTime":"2026-01-01T00:00:00.000Z","#,
            r#""eventTimeZoneOffset":"+00:00","epcList":["urn:epc:id:sgtin:0614141.107346.{feed}{index:08}"],"#,
            r#""action":"OBSERVE","bizStep":"shipping","disposition":"in_transit","#,
            r#""readPoint":{{"id":"urn:epc:id:sgln:0614141.00777.0"}},"#,
            r#""bizLocation":{{"id":"urn:epc:id:sgln:0614141.00888.0"}},"#,
            r#""quantityList":[{{"epcClass":"urn:epc:class:lgtin:4012345.012345.998877","#,
            r#""quantity":200,"uom":"KGM"}}],"sourceList":[{{"type":"owning_party","#,
            r#""source":"urn:epc:id:pgln:0614141.00001"}}],"destinationList":[{{"#,
            r#""type":"owning_party","destination":"urn:epc:id:pgln:0614141.00002"}}]}}"#
        ),
        feed = feed,
        index = index
    );
    let event_id = format!(
        "ni:///sha-256;{}?ver=CBV2.0",
        codec::digest(original.as_bytes())
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect::<String>()
    );
    Payload::Epcis(EpcisCapture {
        event_id,
        format: EventFormat::JsonLd,
        original: original.into_bytes(),
    })
}

/// A GLN with a correct check digit.
fn gln(location: u64) -> String {
    let data = format!("{:012}", 614_141_000_000 + location);
    let weighted: u32 = data
        .chars()
        .rev()
        .enumerate()
        .map(|(position, digit)| {
            let value = digit.to_digit(10).unwrap_or(0);
            if position % 2 == 0 { value * 3 } else { value }
        })
        .sum();
    format!("{data}{}", (10 - weighted % 10) % 10)
}

fn genesis(producers: &[PublicKey]) -> anyhow::Result<Genesis> {
    let governance = Keypair::from_seed([200; 32]);
    let members = producers
        .iter()
        .enumerate()
        .map(|(index, key)| Member {
            key: *key,
            name: format!("Producer {index}"),
            gln: gln(index as u64 + 1),
            roles: [Role::Producer].into_iter().collect(),
            prefixes: Default::default(),
        })
        .collect();
    let mut genesis = Genesis {
        network: "lotline-bench".to_owned(),
        governance_keys: vec![governance.public_key()],
        threshold: 1,
        members,
        signatures: Vec::new(),
    };
    genesis.sign(&governance).context("signing the bench genesis")?;
    Ok(genesis)
}

/// Signs `events` entries spread round-robin over the feeds, in interleaved append order.
/// Signing is setup, not measured: each feed is signed on its own thread.
fn signed_events(keypairs: Vec<Keypair>, events: usize) -> anyhow::Result<Vec<VerifiedEntry>> {
    let feed_count = keypairs.len();
    let per_feed = events.div_ceil(feed_count);
    let feeds: Vec<anyhow::Result<Vec<VerifiedEntry>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = keypairs
            .into_iter()
            .enumerate()
            .map(|(feed, keypair)| {
                scope.spawn(move || {
                    let mut writer = FeedWriter::new(keypair, None);
                    (0..per_feed)
                        .map(|index| {
                            writer
                                .next_entry(START_MS + index as i64, &epcis_event(feed, index))
                                .context("signing a bench event")
                        })
                        .collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().unwrap_or_else(|_| Err(anyhow::anyhow!("signer panicked"))))
            .collect()
    });
    let feeds = feeds.into_iter().collect::<Result<Vec<_>, _>>()?;
    let mut iterators: Vec<_> = feeds.into_iter().map(Vec::into_iter).collect();
    let mut interleaved = Vec::with_capacity(events);
    while interleaved.len() < events {
        for iterator in &mut iterators {
            if let Some(entry) = iterator.next() {
                interleaved.push(entry);
            }
        }
    }
    interleaved.truncate(events);
    Ok(interleaved)
}

/// The Ed25519 batch-verification rate on all cores with `verifier`: the same signatures, split
/// in the same per-thread chunks the store uses, verified with no decoding or storage.
fn verification_rate_per_s(entries: &[VerifiedEntry], verifier: Verifier) -> f64 {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let messages: Vec<(PublicKey, Vec<u8>, Signature)> = entries
        .iter()
        .map(|entry| {
            let message = codec::signing_message(&entry.wire_bytes()[..codec::HEADER_LEN]);
            (entry.author(), message, entry.signature())
        })
        .collect();
    super::verification_rate_per_s(&messages, BATCH_ENTRIES.div_ceil(threads), verifier)
}

fn round(value: f64, places: i32) -> f64 {
    let factor = 10f64.powi(places);
    (value * factor).round() / factor
}

/// Runs the scenario and returns its report line.
pub fn run(options: &Options) -> anyhow::Result<Report> {
    let events = if options.quick { QUICK_EVENTS } else { FULL_EVENTS };
    let keypairs: Vec<Keypair> =
        (0..FEEDS).map(|index| Keypair::from_seed([index as u8 + 1; 32])).collect();
    let producers: Vec<PublicKey> = keypairs.iter().map(Keypair::public_key).collect();
    let genesis = genesis(&producers)?;
    let entries = signed_events(keypairs, events)?;
    let ceiling = verification_rate_per_s(&entries, Verifier::Standard);
    let merged_verifier = verification_rate_per_s(&entries, Verifier::Merged);
    let wire_bytes: usize = entries.iter().map(|entry| entry.wire_bytes().len()).sum();
    let batches: Vec<Vec<Vec<u8>>> = entries
        .chunks(BATCH_ENTRIES)
        .map(|chunk| chunk.iter().map(|entry| entry.wire_bytes().to_vec()).collect())
        .collect();
    drop(entries);
    let batch_count = batches.len();

    let directory = tempfile::tempdir().context("creating the bench store directory")?;
    let store = Store::open(directory.path(), &genesis)?;
    let submitted: Mutex<Vec<Instant>> = Mutex::new(Vec::with_capacity(batch_count));
    let mut latencies: Vec<Duration> = Vec::with_capacity(batch_count);
    let started = Instant::now();
    let stamped_batches = batches.into_iter().inspect(|_| {
        if let Ok(mut stamps) = submitted.lock() {
            stamps.push(Instant::now());
        }
    });
    let appended = store.append_pipelined(stamped_batches, |index, _| {
        let submitted_at = submitted.lock().ok().and_then(|stamps| stamps.get(index).copied());
        if let Some(submitted_at) = submitted_at {
            latencies.push(submitted_at.elapsed());
        }
    })?;
    let elapsed = started.elapsed();
    latencies.sort();

    let per_s = appended as f64 / elapsed.as_secs_f64();
    let mut extra = serde_json::Map::new();
    extra.insert("batch_entries".into(), BATCH_ENTRIES.into());
    extra.insert("batches".into(), batch_count.into());
    extra.insert("feeds".into(), FEEDS.into());
    extra.insert("merged_verifier_per_s".into(), round(merged_verifier, 0).into());
    extra.insert("mean_entry_bytes".into(), (wire_bytes / events.max(1)).into());
    extra.insert("elapsed_s".into(), round(elapsed.as_secs_f64(), 3).into());
    Ok(Report {
        scenario: "ingest".to_owned(),
        events: appended as u64,
        per_s: Some(round(per_s, 0)),
        p50_ms: Some(round(super::percentile_ms(&latencies, 0.50), 2)),
        p99_ms: Some(round(super::percentile_ms(&latencies, 0.99), 2)),
        ceiling_per_s: Some(round(ceiling, 0)),
        ratio: Some(round(per_s / ceiling, 3)),
        extra,
    })
}
