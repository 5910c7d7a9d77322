//! Retrying captures across a SIGKILL of a real `lotline-node` process: a client that got no
//! answer re-sends its document to the restarted node, and every event must then be stored
//! exactly once, whether or not its first attempt was stored. One first attempt is made to be
//! stored without its answer reaching the client (the node is killed after its events are
//! served, before the client reads), the others are whatever kills mid-stream cut.
//!
//! Needs `target/<profile>/lotline-node` (`cargo build -p lotline-node`, or
//! `cargo test --workspace`).

use std::net::SocketAddr;
use std::time::Duration;

use lotline_tests::cluster::wait_for;
use lotline_tests::process::{Cluster, Node, Placement, START_DEADLINE};
use lotline_tests::workload::{self, CaptureStream, Document, Outcome};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Kills mid-stream before the retries.
const KILL_CYCLES: usize = 3;
/// Concurrent capture clients.
const CLIENTS: usize = 3;
/// Events per captured document.
const EVENTS_PER_DOCUMENT: usize = 8;
/// Acknowledged captures a cycle waits for before the kill.
const ACKNOWLEDGEMENTS_BEFORE_KILL: usize = 5;
/// How long a stored capture or a stream may take.
const DEADLINE: Duration = Duration::from_secs(60);

/// Sends a capture of `document` and leaves its answer unread on the returned connection.
async fn send_without_reading(
    address: SocketAddr,
    token: &str,
    document: &Document,
) -> std::io::Result<TcpStream> {
    let mut stream = TcpStream::connect(address).await?;
    let head = format!(
        "POST /capture HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\
         Authorization: Bearer {token}\r\nContent-Type: application/ld+json\r\n\
         Content-Length: {}\r\n\r\n",
        document.body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(&document.body).await?;
    Ok(stream)
}

async fn restart(node: &mut Node) {
    node.start().unwrap();
    node.wait_healthy(START_DEADLINE).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_after_sigkill_store_each_event_once() {
    let mut cluster = Cluster::prepare(1, Placement::Loopback).unwrap();
    let genesis = cluster.genesis().unwrap();
    let node = &mut cluster.nodes[0];
    restart(node).await;
    let mut acknowledged: Vec<Document> = Vec::new();
    let mut to_retry: Vec<Document> = Vec::new();

    // A first attempt that is stored but whose answer the client never reads.
    let lost_answer =
        workload::shipping_document("RETRY-LOST-ANSWER", EVENTS_PER_DOCUMENT).unwrap();
    let unread = send_without_reading(node.http, node.token(), &lost_answer).await.unwrap();
    let last_event = lost_answer.event_ids.last().unwrap().clone();
    let (address, token) = (node.http, node.token().to_owned());
    wait_for("the unanswered capture to be stored", DEADLINE, || {
        let (last_event, token) = (&last_event, &token);
        async move {
            workload::stored_event_ids(address, &token)
                .await
                .ok()?
                .contains(last_event)
                .then_some(())
        }
    })
    .await
    .unwrap();
    node.kill().unwrap();
    drop(unread);
    to_retry.push(lost_answer);
    restart(node).await;

    // Kills mid-stream: whatever they cut is retried.
    for cycle in 0..KILL_CYCLES {
        let stream = CaptureStream::start(
            node.http,
            node.token(),
            &format!("RETRY{cycle}"),
            CLIENTS,
            EVENTS_PER_DOCUMENT,
        );
        stream.wait_for_acknowledged(ACKNOWLEDGEMENTS_BEFORE_KILL, DEADLINE).await.unwrap();
        node.kill().unwrap();
        for (document, outcome) in stream.finish().await.unwrap() {
            match outcome {
                Outcome::Acknowledged => acknowledged.push(document),
                Outcome::NoAnswer(_) | Outcome::Unreachable(_) => to_retry.push(document),
                Outcome::Refused { status, body } => {
                    panic!("capture {} refused ({status}): {body}", document.label)
                }
            }
        }
        restart(node).await;
    }

    // Each unacknowledged document is sent again, as a client would, and acknowledged.
    for document in &to_retry {
        let outcome = workload::capture(node.http, node.token(), document).await;
        assert_eq!(outcome, Outcome::Acknowledged, "the retry of {}", document.label);
    }

    // Every event, acknowledged the first time or on retry, is stored exactly once.
    node.kill().unwrap();
    let store = node.open_store(&genesis).unwrap();
    let mut duplicated = Vec::new();
    for document in acknowledged.iter().chain(&to_retry) {
        for event_id in &document.event_ids {
            let copies = store.entries_by_event_id(event_id).unwrap().len();
            assert!(copies > 0, "event {event_id} of {} is lost", document.label);
            if copies > 1 {
                duplicated.push(format!("{event_id} of {} ({copies} copies)", document.label));
            }
        }
    }
    assert!(
        duplicated.is_empty(),
        "{} events are stored more than once after retries:\n{}",
        duplicated.len(),
        duplicated.join("\n")
    );
}
