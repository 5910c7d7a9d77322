//! Partitions and bad links between real `lotline-node` processes, each in its own network
//! namespace of a [`Lab`] and talking QUIC to its peers through the lab's relay (see
//! `lotline_tests::netlab` for the layout and why a relay): the network is cut in two, both
//! sides capture concurrently, the cut stays until the connections across it time out, then
//! heals, and every node must hold identical feeds and checkpoints within [`HEAL_BOUND`]; then every link loses 10 % of its datagrams and delays
//! each by 200 ms, all nodes capture, and they must agree again within [`BAD_LINK_BOUND`].
//!
//! Needs root (namespaces; CI runs as root) and `target/<profile>/lotline-node`
//! (`cargo build -p lotline-node`, or `cargo test --workspace`); without either it fails
//! saying so.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use lotline_tests::netlab::{Lab, LinkQuality};
use lotline_tests::process::{Cluster, Placement};
use lotline_tests::workload::{self, FeedView, Outcome};

/// Nodes in the lab: producer, logistics, retailer, regulator (a witness).
const NODES: usize = 4;
/// One side of the partition.
const SIDE_A: [usize; 2] = [0, 1];
/// The other side.
const SIDE_B: [usize; 2] = [2, 3];
/// Documents each writer captures in a phase (one after another).
const DOCUMENTS_PER_WRITER: usize = 3;
/// Events per document.
const EVENTS_PER_DOCUMENT: usize = 5;
/// The bad link of the second phase.
const BAD_LINK: LinkQuality = LinkQuality { loss: 0.10, delay: Duration::from_millis(200) };
/// How long after the partition heals every node must hold identical feeds and checkpoints.
/// Nodes redial unreachable bootstrap peers every 5 s and run anti-entropy every second.
const HEAL_BOUND: Duration = Duration::from_secs(30);
/// How long after the last acknowledged capture on the bad links every node must hold
/// identical feeds and checkpoints.
const BAD_LINK_BOUND: Duration = Duration::from_secs(60);
/// How long the connections across the cut may take to time out.
const CUT_DEADLINE: Duration = Duration::from_secs(120);
/// How long start-up, first connections and agreement within a side may take.
const SETUP_DEADLINE: Duration = Duration::from_secs(60);
/// Pause between two reads of the nodes' feeds while waiting for agreement.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Captures [`DOCUMENTS_PER_WRITER`] documents on each of `writers`, all writers at once;
/// returns how many events were acknowledged (all of them, or the test fails).
async fn capture_on(cluster: &Cluster, writers: &[usize], phase: &str) -> u64 {
    let captures = writers.iter().map(|writer| {
        let node = &cluster.nodes[*writer];
        async move {
            for number in 0..DOCUMENTS_PER_WRITER {
                let label = format!("{phase}-N{writer}-D{number}");
                let document = workload::shipping_document(&label, EVENTS_PER_DOCUMENT).unwrap();
                let outcome = workload::capture(node.http, node.token(), &document).await;
                assert_eq!(outcome, Outcome::Acknowledged, "capture {label} on node {writer}");
            }
        }
    });
    futures::future::join_all(captures).await;
    (writers.len() * DOCUMENTS_PER_WRITER * EVENTS_PER_DOCUMENT) as u64
}

/// Why `views` (one per node of `nodes`) are not yet in agreement on `expected` entries, or
/// `None` when they are: identical feeds (size and head), `expected` entries in all, and each
/// non-empty feed covered on every node by a checkpoint of its full size, with the same body.
fn disagreement(
    nodes: &[usize],
    views: &[BTreeMap<String, FeedView>],
    expected: u64,
) -> Option<String> {
    for (node, view) in nodes.iter().zip(views) {
        let total: u64 = view.values().map(|feed| feed.size).sum();
        if total != expected {
            return Some(format!("node {node} holds {total} entries, not {expected}"));
        }
        if let Some((author, feed)) =
            view.iter().find(|(_, feed)| feed.size > 0 && feed.checkpoint_size != feed.size)
        {
            return Some(format!(
                "node {node}'s checkpoint of {author} covers {} of {} entries",
                feed.checkpoint_size, feed.size
            ));
        }
    }
    let differing = views.windows(2).position(|pair| pair[0] != pair[1])?;
    Some(format!("nodes {} and {} differ", nodes[differing], nodes[differing + 1]))
}

/// Waits until `nodes` agree (see [`disagreement`]) on `expected` entries, for at most
/// `bound`; returns how long it took, or fails saying what still differs.
async fn wait_for_agreement(
    cluster: &Cluster,
    nodes: &[usize],
    expected: u64,
    bound: Duration,
    when: &str,
) -> Duration {
    let started = Instant::now();
    loop {
        let mut views = Vec::new();
        for node in nodes {
            views.push(workload::feed_views(cluster.nodes[*node].http).await.unwrap());
        }
        let Some(reason) = disagreement(nodes, &views, expected) else {
            return started.elapsed();
        };
        if started.elapsed() > bound {
            let logs: Vec<String> = nodes
                .iter()
                .map(|node| format!("node {node}:\n{}", cluster.nodes[*node].log_tail()))
                .collect();
            panic!("{when}: no agreement within {bound:?}: {reason}\n{}", logs.join("\n"));
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitioned_writes_heal_to_identical_checkpoints_and_a_lossy_slow_link_converges() {
    let lab = Lab::create(NODES).unwrap_or_else(|error| panic!("{error:#}"));
    let mut cluster = Cluster::prepare(NODES, Placement::Lab(&lab)).unwrap();
    cluster.start_all().await.unwrap();
    cluster.wait_for_peers(NODES as u64 - 1, SETUP_DEADLINE).await.unwrap();
    let all: Vec<usize> = (0..NODES).collect();

    let mut expected = capture_on(&cluster, &all, "BASE").await;
    wait_for_agreement(&cluster, &all, expected, SETUP_DEADLINE, "before the partition").await;

    // Cut in two; both sides write at once, and each side agrees on its own writes only.
    lab.partition(&[&SIDE_A, &SIDE_B]);
    let (side_a_events, side_b_events) = tokio::join!(
        capture_on(&cluster, &SIDE_A, "SIDE-A"),
        capture_on(&cluster, &SIDE_B, "SIDE-B"),
    );
    let (side_a, side_b) = (expected + side_a_events, expected + side_b_events);
    wait_for_agreement(&cluster, &SIDE_A, side_a, SETUP_DEADLINE, "side A, cut off").await;
    wait_for_agreement(&cluster, &SIDE_B, side_b, SETUP_DEADLINE, "side B, cut off").await;
    expected += side_a_events + side_b_events;
    // Keep the cut until the connections across it have timed out, so healing needs the
    // nodes to dial their lost peers again, not only a connection to resume.
    let cut_for = Instant::now();
    cluster.wait_for_peers_at_most(SIDE_A.len() as u64 - 1, CUT_DEADLINE).await.unwrap();
    let cut_for = cut_for.elapsed();

    lab.heal();
    let healed_in =
        wait_for_agreement(&cluster, &all, expected, HEAL_BOUND, "after the partition heals").await;

    // Every link loses and delays; every node writes; all agree again.
    let before_bad_link = lab.counts();
    lab.set_quality(BAD_LINK);
    expected += capture_on(&cluster, &all, "LOSSY").await;
    let converged_in =
        wait_for_agreement(&cluster, &all, expected, BAD_LINK_BOUND, "over the lossy, slow links")
            .await;
    let after = lab.counts();
    let (lost, forwarded) =
        (after.lost - before_bad_link.lost, after.forwarded - before_bad_link.forwarded);
    let lost_fraction = lost as f64 / (lost + forwarded).max(1) as f64;
    assert!(lost > 0, "the bad link dropped nothing ({forwarded} datagrams forwarded)");
    assert!(
        lost + forwarded < 400 || (0.03..0.2).contains(&lost_fraction),
        "the bad link dropped {lost} of {} datagrams, far from {}",
        lost + forwarded,
        BAD_LINK.loss
    );
    println!(
        "{NODES} nodes, {expected} entries: cut for {cut_for:?} (until the connections across \
         timed out), healed in {healed_in:?} (bound {HEAL_BOUND:?}); converged over the bad \
         link in {converged_in:?} (bound {BAD_LINK_BOUND:?}), the relay dropping {lost} of {} \
         datagrams; relay totals {after:?}",
        lost + forwarded
    );
}
