//! Crash safety: a child process (this test binary, re-executed with `LOTLINE_CRASH_STORE`
//! set) appends batches and prints each acknowledged sequence number; the parent kills it with
//! SIGKILL at a random point, many times, and after each kill reopens the store and checks that
//! every acknowledged entry is present and the whole store verifies. No sleeps: the parent
//! waits on the child's output.

mod feed_fixtures;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use feed_fixtures::*;
use lotline_ledger::feed::FeedWriter;
use lotline_ledger::store::Store;

const STORE_VARIABLE: &str = "LOTLINE_CRASH_STORE";
const KILLS: usize = 30;

/// The writer mode: appends batches of 1..=64 entries forever, printing `ack <sequence>` after
/// each batch is durable. Does nothing in a normal test run.
#[test]
fn crash_writer_child() {
    let Ok(path) = std::env::var(STORE_VARIABLE) else { return };
    let store = Store::open(std::path::Path::new(&path), &genesis()).expect("child opens store");
    let mut writer = FeedWriter::new(producer(), store.head(&producer().public_key()));
    let mut batch_size = 1usize;
    loop {
        let entries: Vec<_> = (0..batch_size)
            .map(|_| {
                let index = writer.next_sequence();
                writer
                    .next_entry(RECORD_TIME_MS + index as i64, &epcis_payload(index))
                    .expect("signs")
            })
            .collect();
        let wires = entries.iter().map(|entry| entry.wire_bytes().to_vec()).collect();
        let appended = store.append_batch(wires).expect("child appends");
        let (_, head) = appended.heads[0];
        println!("ack {}", head.sequence);
        batch_size = batch_size % 64 + 1;
    }
}

/// A small deterministic generator for kill points (xorshift64).
fn next_random(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn every_acknowledged_entry_survives_sigkill() {
    let directory = tempfile::tempdir().unwrap();
    let executable = std::env::current_exe().unwrap();
    let mut random_state = 0x9e37_79b9_7f4a_7c15u64;
    let mut highest_acknowledged: Option<u64> = None;
    for round in 0..KILLS {
        let mut child = Command::new(&executable)
            .args(["crash_writer_child", "--exact", "--nocapture", "--test-threads=1"])
            .env(STORE_VARIABLE, directory.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let acknowledgements_before_kill = 1 + next_random(&mut random_state) % 20;
        let mut seen = 0;
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let Some(sequence) = line.strip_prefix("ack ") else { continue };
            highest_acknowledged = Some(sequence.trim().parse().unwrap());
            seen += 1;
            if seen == acknowledgements_before_kill {
                // `Child::kill` sends SIGKILL on Unix: the writer is typically mid-batch.
                child.kill().unwrap();
                break;
            }
        }
        child.wait().unwrap();
        assert_eq!(seen, acknowledgements_before_kill, "round {round}: child stopped early");
        let store = Store::open(directory.path(), &genesis()).unwrap();
        let head = store.head(&producer().public_key()).expect("acknowledged entries exist");
        let acknowledged = highest_acknowledged.unwrap();
        assert!(
            head.sequence >= acknowledged,
            "round {round}: head {} < acked {acknowledged}",
            head.sequence
        );
        for sequence in 0..=acknowledged {
            assert!(
                store.entry(&producer().public_key(), sequence).unwrap().is_some(),
                "lost {sequence}"
            );
        }
        let report = store.verify(&genesis()).unwrap();
        assert_eq!(report.entries, head.sequence + 1);
    }
}
