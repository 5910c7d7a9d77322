//! Shared fixtures of the feed, store and crash tests: deterministic organisations, a genesis
//! signed by governance, and payloads of every kind.
//! Owns nothing the library uses; every test file includes it with `mod feed_fixtures;`.
#![allow(dead_code)]

use std::collections::BTreeSet;

use lotline_ledger::entry::{EntryHash, EntryRef};
use lotline_ledger::feed::{FeedWriter, VerifiedEntry};
use lotline_ledger::identity::{Keypair, PublicKey};
use lotline_ledger::records::{
    EpcisCapture, ErrorDeclaration, EventFormat, Excursion, InspectionResult, Payload,
    RecallAcknowledgement, RecallClass, RecallNotice, SupervisionFlag, Verdict,
};
use lotline_ledger::roster::{Genesis, Member, Role};

/// A fixed record time: 2026-01-01T00:00:00Z.
pub const RECORD_TIME_MS: i64 = 1_767_225_600_000;

/// A deterministic key per organisation of the test network.
pub fn governance() -> Keypair {
    Keypair::from_seed([1; 32])
}
pub fn second_governance() -> Keypair {
    Keypair::from_seed([11; 32])
}
pub fn producer() -> Keypair {
    Keypair::from_seed([2; 32])
}
pub fn regulator() -> Keypair {
    Keypair::from_seed([3; 32])
}
pub fn lab() -> Keypair {
    Keypair::from_seed([4; 32])
}
pub fn logistics() -> Keypair {
    Keypair::from_seed([5; 32])
}
pub fn witness() -> Keypair {
    Keypair::from_seed([6; 32])
}
pub fn outsider() -> Keypair {
    Keypair::from_seed([9; 32])
}

/// A GLN with a correct GS1 check digit, built from a 12-digit company prefix and location.
pub fn gln(body: u64) -> String {
    let data = format!("{body:012}");
    let sum: u32 = data
        .chars()
        .rev()
        .enumerate()
        .map(|(position, digit)| {
            let value = digit.to_digit(10).unwrap_or(0);
            if position % 2 == 0 { value * 3 } else { value }
        })
        .sum();
    format!("{data}{}", (10 - sum % 10) % 10)
}

pub fn member(keypair: &Keypair, name: &str, location: u64, roles: &[Role]) -> Member {
    Member {
        key: keypair.public_key(),
        name: name.to_owned(),
        gln: gln(614_141_000_000 + location),
        roles: roles.iter().copied().collect::<BTreeSet<_>>(),
        prefixes: BTreeSet::new(),
    }
}

/// The test network: one governance key (threshold 1) and five members.
pub fn genesis() -> Genesis {
    genesis_with(vec![governance().public_key()], 1, &[&governance()])
}

/// A genesis with the given governance keys, threshold and signers.
pub fn genesis_with(keys: Vec<PublicKey>, threshold: u32, signers: &[&Keypair]) -> Genesis {
    let mut genesis = Genesis {
        network: "lotline-test".to_owned(),
        governance_keys: keys,
        threshold,
        members: vec![
            member(&producer(), "Green Valley Farm", 1, &[Role::Producer]),
            member(&regulator(), "Food Safety Authority", 2, &[Role::Regulator]),
            member(&lab(), "Central Lab", 3, &[Role::Lab]),
            member(&logistics(), "Cold Carrier", 4, &[Role::Logistics]),
            member(&witness(), "Witness One", 5, &[Role::Witness]),
        ],
        signatures: Vec::new(),
    };
    for signer in signers {
        genesis.sign(signer).expect("genesis signs");
    }
    genesis
}

/// A ~500-byte EPCIS 2.0 ObjectEvent in JSON-LD, varied by `index`.
pub fn epcis_payload(index: u64) -> Payload {
    let original = format!(
        concat!(
            r#"{{"type":"ObjectEvent","eventTime":"2026-01-01T00:00:00.000Z","#,
            r#""eventTimeZoneOffset":"+00:00","epcList":["urn:epc:id:sgtin:0614141.107346.{index}"],"#,
            r#""action":"OBSERVE","bizStep":"shipping","disposition":"in_transit","#,
            r#""readPoint":{{"id":"urn:epc:id:sgln:0614141.00777.0"}},"#,
            r#""bizLocation":{{"id":"urn:epc:id:sgln:0614141.00888.0"}},"#,
            r#""quantityList":[{{"epcClass":"urn:epc:class:lgtin:4012345.012345.998877","#,
            r#""quantity":200,"uom":"KGM"}}],"sourceList":[{{"type":"owning_party","#,
            r#""source":"urn:epc:id:pgln:0614141.00001"}}],"destinationList":[{{"#,
            r#""type":"owning_party","destination":"urn:epc:id:pgln:0614141.00002"}}]}}"#
        ),
        index = index
    );
    let event_id = format!("ni:///sha-256;{}?ver=CBV2.0", hex_digest(original.as_bytes()));
    Payload::Epcis(EpcisCapture {
        event_id,
        format: EventFormat::JsonLd,
        original: original.into_bytes(),
    })
}

/// A stand-in event id digest for fixtures (the real one comes from `epcis`).
fn hex_digest(bytes: &[u8]) -> String {
    let mut state: [u8; 32] = [0; 32];
    for (index, byte) in bytes.iter().enumerate() {
        state[index % 32] = state[index % 32].wrapping_mul(31).wrapping_add(*byte);
    }
    state.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A payload of every kind except roster changes, for kind-generic tests.
pub fn record_payloads() -> Vec<Payload> {
    let reference = EntryRef {
        author: producer().public_key(),
        sequence: 0,
        entry_hash: EntryHash::from_bytes([7; 32]),
    };
    vec![
        epcis_payload(1),
        Payload::RecallNotice(RecallNotice {
            recall_id: "R-2026-001".to_owned(),
            class: RecallClass::ClassOne,
            lots: vec!["urn:epc:class:lgtin:4012345.012345.998877".to_owned()],
            hazard: "Listeria monocytogenes".to_owned(),
            instructions: "Quarantine and return".to_owned(),
            scope: None,
        }),
        Payload::RecallAcknowledgement(RecallAcknowledgement {
            notice: reference,
            recall_id: "R-2026-001".to_owned(),
            action: "quarantined".to_owned(),
            quantity_held: "120 KGM".to_owned(),
        }),
        Payload::InspectionResult(InspectionResult {
            lots: vec!["urn:epc:class:lgtin:4012345.012345.998877".to_owned()],
            test: "ISO 11290-1".to_owned(),
            verdict: Verdict::Fail,
            sampled_at_ms: RECORD_TIME_MS - 86_400_000,
            report: "LAB-77/2026".to_owned(),
            measurements: Vec::new(),
        }),
        Payload::Excursion(Excursion {
            lots: vec!["urn:epc:class:lgtin:4012345.012345.998877".to_owned()],
            measurement: "gs1:Temperature".to_owned(),
            limit: "> 8 CEL for 30 min".to_owned(),
            observed: "11.5 CEL".to_owned(),
            started_ms: RECORD_TIME_MS - 3_600_000,
            ended_ms: Some(RECORD_TIME_MS - 1_200_000),
            detail: None,
        }),
        Payload::SupervisionFlag(SupervisionFlag {
            subject: producer().public_key(),
            reason: "repeated failed inspections".to_owned(),
            active: true,
        }),
        Payload::ErrorDeclaration(ErrorDeclaration {
            declared: reference,
            reason: "incorrect_data".to_owned(),
            corrective_event_ids: vec!["ni:///sha-256;00?ver=CBV2.0".to_owned()],
        }),
    ]
}

/// `count` signed EPCIS entries of `keypair`'s feed from its start, with fixed salt seeds.
pub fn epcis_feed(keypair: Keypair, count: u64) -> Vec<VerifiedEntry> {
    let mut writer = FeedWriter::new(keypair, None);
    (0..count)
        .map(|index| {
            writer
                .next_entry_with_seed(
                    RECORD_TIME_MS + index as i64,
                    &epcis_payload(index),
                    &[index as u8; 32],
                )
                .expect("fixture entry signs")
        })
        .collect()
}
