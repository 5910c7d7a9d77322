//! Writes the committed seed inputs of the fuzz targets that take signed bytes (`entry_wire`,
//! `checkpoint_note`, `proof_bundle`, `sync_messages`) into `fuzz/seeds/<target>/`: one entry
//! of every payload kind and a redacted copy, a cosigned checkpoint with its keys, fork proofs,
//! proof bundles in both text forms, an answer's evidence and every sync message. Random bytes
//! never carry a valid signature or commitment, so these give the fuzzer well-formed material
//! to mutate.
//!
//! Keys and salts come from fixed seeds, so the output only changes with the wire format. Run
//! it again after a format change:
//! `cargo run --manifest-path fuzz/Cargo.toml --features node --example write_seeds -- fuzz/seeds`
//! Does not own the third-party seeds (`.ci/fuzz` copies those from `../shared/testdata` at run
//! time) nor the hand-written CSV seeds.

use std::path::{Path, PathBuf};

use lotline_ledger::checkpoint::{
    Checkpoint, Cosignature, Cosigner, SignedCheckpoint, VerifierKey,
};
use lotline_ledger::entry::EntryRef;
use lotline_ledger::epcis;
use lotline_ledger::feed::VerifiedEntry;
use lotline_ledger::fork::ForkProof;
use lotline_ledger::identity::Keypair;
use lotline_ledger::merkle::{self, Tree};
use lotline_ledger::proof::{Evidence, ProofBundle, Unproven};
use lotline_ledger::records::{
    EpcisCapture, ErrorDeclaration, EventFormat, Excursion, InspectionResult, MeasuredValue,
    Measurement, Payload, RecallAcknowledgement, RecallClass, RecallNotice, SupervisionFlag,
    Verdict,
};
use lotline_ledger::roster::{Approval, Change, RosterChange};
use lotline_node::network::protocol::{Announcement, Head, Request, Response};

/// A JSON-LD event as a capture stores it.
const JSON_EVENT: &str = r#"{"type":"ObjectEvent","eventTime":"2026-03-03T16:30:00.000+01:00","eventTimeZoneOffset":"+01:00","action":"OBSERVE","bizStep":"shipping","disposition":"in_transit","readPoint":{"id":"https://id.gs1.org/414/9506000134352"},"quantityList":[{"epcClass":"https://id.gs1.org/01/09506000134376/10/PACK42","quantity":60,"uom":"EA"}]}"#;
/// The same kind of event in the XML binding.
const XML_EVENT: &str = r#"<ObjectEvent><eventTime>2026-03-01T07:00:00+01:00</eventTime><eventTimeZoneOffset>+01:00</eventTimeZoneOffset><epcList/><action>ADD</action><bizStep>urn:epcglobal:cbv:bizstep:commissioning</bizStep><quantityList><quantityElement><epcClass>urn:epc:class:lgtin:950600.013435.FIELD7</epcClass><quantity>500</quantity><uom>KGM</uom></quantityElement></quantityList></ObjectEvent>"#;

fn main() {
    let root = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "fuzz/seeds".to_owned()));
    let author = Keypair::from_seed([11; 32]);
    let regulator = Keypair::from_seed([12; 32]);
    let witness = Cosigner::new("witness.example/lotline", Keypair::from_seed([13; 32]))
        .expect("a valid witness name");

    let entries = build_feed(&author, &regulator);
    let entry_dir = directory(&root, "entry_wire");
    let names = [
        "epcis-json",
        "epcis-xml",
        "recall-notice",
        "recall-ack",
        "inspection",
        "excursion",
        "supervision",
        "roster-change",
        "error-declaration",
    ];
    for (entry, name) in entries.iter().zip(names) {
        write(&entry_dir, &format!("{name}.bin"), entry.wire_bytes());
    }
    let redacted = entries[0].redact(&[2]).expect("redacts");
    write(&entry_dir, "epcis-json-redacted.bin", redacted.wire_bytes());

    let tree =
        Tree::from_leaf_hashes(entries.iter().map(|entry| merkle::leaf_hash(entry.leaf_bytes())));
    let size = entries.len() as u64;
    let checkpoint = Checkpoint::for_feed(&author.public_key(), size, tree.root());
    let mut signed = SignedCheckpoint::sign(checkpoint, &author).expect("signs");
    let cosignature = Cosignature::sign(&witness, signed.body(), 1_772_000_000);
    signed.add_cosignature(&cosignature).expect("room for a cosignature");
    let note = signed.to_note_text();

    let checkpoint_dir = directory(&root, "checkpoint_note");
    write(&checkpoint_dir, "checkpoint-cosigned.txt", note.as_bytes());
    let keys = format!(
        "{}\n{}\n{}\n",
        VerifierKey::for_feed(&author.public_key()),
        witness.verifier_key(),
        cosignature.to_line()
    );
    write(&checkpoint_dir, "keys-and-cosignature.txt", keys.as_bytes());
    let entry_fork = entry_fork(&author, &entries);
    write(&checkpoint_dir, "fork-entries.json", entry_fork.as_bytes());
    let smaller_tree = Tree::from_leaf_hashes(
        entries[..4].iter().map(|entry| merkle::leaf_hash(entry.leaf_bytes())),
    );
    let honest = SignedCheckpoint::sign(
        Checkpoint::for_feed(&author.public_key(), 4, smaller_tree.root()),
        &author,
    )
    .expect("signs");
    let lying =
        SignedCheckpoint::sign(Checkpoint::for_feed(&author.public_key(), 4, tree.root()), &author)
            .expect("signs");
    let checkpoint_fork = ForkProof::from_checkpoints(&honest, &lying).expect("a fork");
    let checkpoint_fork = serde_json::to_string(&checkpoint_fork).expect("serialises");
    write(&checkpoint_dir, "fork-checkpoints.json", checkpoint_fork.as_bytes());

    let bundle_dir = directory(&root, "proof_bundle");
    let several = ProofBundle::build(&signed, &tree, &[entries[1].clone(), entries[5].clone()])
        .expect("builds");
    write(&bundle_dir, "bundle.json", several.to_json().as_bytes());
    let evidence = Evidence {
        bundles: vec![several],
        unproven: vec![Unproven { author: author.public_key(), sequence: size }],
    };
    let evidence = serde_json::to_string(&evidence).expect("evidence serialises");
    write(&bundle_dir, "evidence.json", evidence.as_bytes());
    let single = ProofBundle::build(&signed, &tree, &[redacted]).expect("builds");
    let tlog_proof = single.to_tlog_proof().expect("one entry");
    write(&bundle_dir, "bundle.tlog-proof", tlog_proof.as_bytes());
    // Short inputs describe a bundle to build and damage (see the target).
    write(&bundle_dir, "build-and-damage.bin", &[8, 6, 0b1011, 2, 3, 7, 1]);

    let sync_dir = directory(&root, "sync_messages");
    let author_bytes = *author.public_key().as_bytes();
    let request_entries = Request::Entries { author: author_bytes, from: 2, limit: 64 };
    let response_entries =
        Response::Entries(entries[..3].iter().map(|entry| entry.wire_bytes().to_vec()).collect());
    let messages = [
        ("request-heads.bin", Request::Heads.encode()),
        ("request-entries.bin", request_entries.encode()),
        (
            "response-heads.bin",
            Response::Heads(vec![
                Head { author: author_bytes, size, checkpoint: note.clone() },
                Head {
                    author: *regulator.public_key().as_bytes(),
                    size: 0,
                    checkpoint: String::new(),
                },
            ])
            .encode(),
        ),
        ("response-entries.bin", response_entries.encode()),
        ("response-refused.bin", Response::Refused("range beyond the feed".to_owned()).encode()),
        ("announce-checkpoint.bin", Announcement::Checkpoint(note.clone()).encode()),
        ("announce-fork.bin", Announcement::Fork(entry_fork.into_bytes()).encode()),
    ];
    for (name, message) in &messages {
        write(&sync_dir, name, message);
        // The stream codec reads each message behind a u32 big-endian length.
        let mut framed = (message.len() as u32).to_be_bytes().to_vec();
        framed.extend_from_slice(message);
        write(&sync_dir, &format!("framed-{name}"), &framed);
    }
}

/// One entry of every payload kind, linked into one feed (the regulator's kinds included: the
/// fuzz targets check bytes, not roles).
fn build_feed(author: &Keypair, regulator: &Keypair) -> Vec<VerifiedEntry> {
    let json_event = epcis::parse_event_json_bytes(JSON_EVENT.as_bytes()).expect("a valid event");
    let xml_event = epcis::xml::parse_event(XML_EVENT.as_bytes()).expect("a valid event");
    let lot = "urn:epc:class:lgtin:950600.013437.PACK42".to_owned();
    let mut payloads = vec![
        Payload::Epcis(EpcisCapture {
            event_id: epcis::event_hash_id(&json_event),
            format: EventFormat::JsonLd,
            original: JSON_EVENT.as_bytes().to_vec(),
        }),
        Payload::Epcis(EpcisCapture {
            event_id: epcis::event_hash_id(&xml_event),
            format: EventFormat::Xml,
            original: XML_EVENT.as_bytes().to_vec(),
        }),
        Payload::RecallNotice(RecallNotice {
            recall_id: "R-2026-0042".to_owned(),
            class: RecallClass::ClassOne,
            lots: vec![lot.clone()],
            hazard: "Listeria monocytogenes".to_owned(),
            instructions: "Quarantine and report quantities held".to_owned(),
            scope: Some(
                r#"{"lots":["https://id.gs1.org/01/09506000134376/10/PACK42"]}"#.to_owned(),
            ),
        }),
    ];
    let mut entries: Vec<VerifiedEntry> = Vec::new();
    let sign_next = |payload: &Payload, entries: &mut Vec<VerifiedEntry>| {
        let sequence = entries.len() as u64;
        let previous = entries.last().map(VerifiedEntry::entry_hash).unwrap_or_default();
        let salt_seed = [sequence as u8 + 1; 32];
        let record_time_ms = 1_772_550_000_000 + sequence as i64 * 60_000;
        let entry =
            VerifiedEntry::sign(author, sequence, previous, record_time_ms, payload, &salt_seed)
                .expect("a seed entry signs");
        entries.push(entry);
    };
    for payload in payloads.drain(..) {
        sign_next(&payload, &mut entries);
    }
    let notice =
        EntryRef { author: author.public_key(), sequence: 2, entry_hash: entries[2].entry_hash() };
    let later = [
        Payload::RecallAcknowledgement(RecallAcknowledgement {
            notice,
            recall_id: "R-2026-0042".to_owned(),
            action: "quarantined".to_owned(),
            quantity_held: "120 KGM".to_owned(),
        }),
        Payload::InspectionResult(InspectionResult {
            lots: vec![lot.clone()],
            test: "ISO 11290-1".to_owned(),
            verdict: Verdict::Fail,
            sampled_at_ms: 1_772_400_000_000,
            report: "LAB-7781".to_owned(),
            measurements: vec![
                Measurement {
                    name: "aflatoxin B1".to_owned(),
                    value: MeasuredValue::Number(1.8),
                    unit: Some("µg/kg".to_owned()),
                },
                Measurement {
                    name: "listeria".to_owned(),
                    value: MeasuredValue::Text("present".to_owned()),
                    unit: None,
                },
            ],
        }),
        Payload::Excursion(Excursion {
            lots: vec![lot],
            measurement: "gs1:Temperature".to_owned(),
            limit: "> 8 CEL for 30 min".to_owned(),
            observed: "11.5 CEL".to_owned(),
            started_ms: 1_772_500_000_000,
            ended_ms: Some(1_772_503_600_000),
            detail: None,
        }),
        Payload::SupervisionFlag(SupervisionFlag {
            subject: regulator.public_key(),
            reason: "key reported lost".to_owned(),
            active: true,
        }),
        Payload::RosterChange(RosterChange {
            roster_version: 3,
            change: Change::Remove { key: regulator.public_key() },
            approvals: vec![Approval {
                key: regulator.public_key(),
                signature: regulator.sign(b"an approval over another message"),
            }],
        }),
        Payload::ErrorDeclaration(ErrorDeclaration {
            declared: notice,
            reason: "incorrect_data".to_owned(),
            corrective_event_ids: vec![entries[0].event_id().expect("an EPCIS entry")],
        }),
    ];
    for payload in &later {
        sign_next(payload, &mut entries);
    }
    entries
}

/// Two different entries at one position of one feed, as a fork proof's JSON.
fn entry_fork(author: &Keypair, entries: &[VerifiedEntry]) -> String {
    let first = &entries[1];
    let payload = entries[0].payload().expect("disclosed");
    let second =
        VerifiedEntry::sign(author, 1, first.previous(), 0, payload, &[99; 32]).expect("signs");
    let proof = ForkProof::from_entries(first, &second).expect("a fork");
    serde_json::to_string(&proof).expect("serialises")
}

fn directory(root: &Path, target: &str) -> PathBuf {
    let directory = root.join(target);
    std::fs::create_dir_all(&directory).expect("the seed directory can be created");
    directory
}

fn write(directory: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(directory.join(name), bytes).expect("a seed file can be written");
}
