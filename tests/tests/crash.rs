//! Crash safety of a real `lotline-node` process: concurrent clients capture over HTTP, the
//! node is SIGKILLed mid-stream and restarted on the same sled store, again and again. After
//! every kill the store passes full verification in this process (every signature, append
//! rule, index, head and checkpoint), holds every acknowledged event, and holds each
//! unanswered document whole or not at all; the restarted node opens it (re-checking heads and
//! checkpoints), answers, and serves every acknowledged event.
//!
//! Cycles: `LOTLINE_KILL_CYCLES` (default [`DEFAULT_KILL_CYCLES`]; `.ci/full` runs 50). Needs
//! `target/<profile>/lotline-node` (`cargo build -p lotline-node`, or `cargo test --workspace`; see
//! `process::node_binary`).

use std::collections::BTreeSet;
use std::time::Duration;

use lotline_tests::process::{Cluster, Placement, START_DEADLINE};
use lotline_tests::workload::{self, CaptureStream, Document, Outcome};

/// Environment variable setting how many times the node is killed.
const KILL_CYCLES_VARIABLE: &str = "LOTLINE_KILL_CYCLES";
/// Kills when the variable is unset: enough to cross several store sizes in CI's time.
const DEFAULT_KILL_CYCLES: usize = 5;
/// Concurrent capture clients: with several, a kill nearly always cuts a request in flight.
const CLIENTS: usize = 3;
/// Events per captured document (one durable batch each).
const EVENTS_PER_DOCUMENT: usize = 8;
/// How long a cycle may take to see its acknowledgements before the kill.
const STREAM_DEADLINE: Duration = Duration::from_secs(60);

fn kill_cycles() -> usize {
    match std::env::var(KILL_CYCLES_VARIABLE) {
        Ok(text) => text.trim().parse().unwrap_or_else(|_| {
            panic!("{KILL_CYCLES_VARIABLE}={text:?} is not a number of cycles")
        }),
        Err(_) => DEFAULT_KILL_CYCLES,
    }
}

/// Acknowledged captures a cycle waits for before the kill; it varies from cycle to cycle so
/// kills land at different depths of a stream.
fn acknowledgements_before_kill(cycle: usize) -> usize {
    2 + (cycle * 7) % 13
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_captures_survive_sigkill_mid_stream() {
    let cycles = kill_cycles();
    let mut cluster = Cluster::prepare(1, Placement::Loopback).unwrap();
    let genesis = cluster.genesis().unwrap();
    let node = &mut cluster.nodes[0];
    node.start().unwrap();
    node.wait_healthy(START_DEADLINE).await.unwrap();

    let mut acknowledged: Vec<Document> = Vec::new();
    let mut cut_in_flight = 0;
    let mut stored_unacknowledged = 0;
    for cycle in 0..cycles {
        let stream = CaptureStream::start(
            node.http,
            node.token(),
            &format!("CRASH{cycle}"),
            CLIENTS,
            EVENTS_PER_DOCUMENT,
        );
        stream
            .wait_for_acknowledged(acknowledgements_before_kill(cycle), STREAM_DEADLINE)
            .await
            .unwrap_or_else(|error| panic!("cycle {cycle}: {error:#}\n{}", node.log_tail()));
        node.kill().unwrap();
        let mut unanswered = Vec::new();
        for (document, outcome) in stream.finish().await.unwrap() {
            match outcome {
                Outcome::Acknowledged => acknowledged.push(document),
                Outcome::NoAnswer(_) => {
                    cut_in_flight += 1;
                    unanswered.push(document);
                }
                Outcome::Unreachable(_) => unanswered.push(document),
                Outcome::Refused { status, body } => {
                    panic!("cycle {cycle}: capture {} refused ({status}): {body}", document.label)
                }
            }
        }

        // The store as the kill left it: it verifies in full and holds what was acknowledged.
        {
            let store = node.open_store(&genesis).unwrap();
            let report = store.verify(&genesis).unwrap_or_else(|error| {
                panic!("cycle {cycle}: the store fails verification: {error}")
            });
            let acknowledged_events: usize =
                acknowledged.iter().map(|document| document.event_ids.len()).sum();
            assert!(
                report.entries as usize >= acknowledged_events,
                "cycle {cycle}: {} entries stored, {acknowledged_events} events acknowledged",
                report.entries
            );
            for document in &acknowledged {
                for event_id in &document.event_ids {
                    let entries = store.entries_by_event_id(event_id).unwrap();
                    assert!(
                        !entries.is_empty(),
                        "cycle {cycle}: acknowledged event {event_id} of {} is lost",
                        document.label
                    );
                }
            }
            for document in &unanswered {
                let stored = document
                    .event_ids
                    .iter()
                    .filter(|event_id| !store.entries_by_event_id(event_id).unwrap().is_empty())
                    .count();
                assert!(
                    stored == 0 || stored == document.event_ids.len(),
                    "cycle {cycle}: {stored} of the {} events of unanswered {} are stored: a \
                     capture must land whole or not at all",
                    document.event_ids.len(),
                    document.label
                );
                stored_unacknowledged += usize::from(stored > 0);
            }
        }

        // The node restarts on that store and serves every acknowledged event.
        node.start().unwrap();
        let health = node
            .wait_healthy(START_DEADLINE)
            .await
            .unwrap_or_else(|error| panic!("cycle {cycle}: the node does not restart: {error:#}"));
        let served: BTreeSet<String> =
            workload::stored_event_ids(node.http, node.token()).await.unwrap();
        for document in &acknowledged {
            for event_id in &document.event_ids {
                assert!(
                    served.contains(event_id),
                    "cycle {cycle}: the restarted node does not serve acknowledged event {event_id} \
                     of {}",
                    document.label
                );
            }
        }
        assert_eq!(
            health["entries"].as_u64(),
            Some(served.len() as u64),
            "cycle {cycle}: every stored entry is one served event"
        );
    }
    node.kill().unwrap();
    assert!(
        cut_in_flight > 0,
        "no kill cut a capture in flight in {cycles} cycles: the test did not crash mid-stream"
    );
    println!(
        "{cycles} kills: {} documents acknowledged, {cut_in_flight} cut in flight, \
         {stored_unacknowledged} of those stored whole without an answer",
        acknowledged.len()
    );
}
