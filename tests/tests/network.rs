//! End-to-end replication tests: real nodes (sled stores in temp dirs, libp2p swarms on
//! 127.0.0.1, the HTTP API) started in this process by the `Cluster` harness.

use lotline_client::http::Transport;
use lotline_ledger::feed::FeedWriter;
use lotline_ledger::identity::Keypair;
use lotline_ledger::records::{EpcisCapture, EventFormat, Payload};
use lotline_node::state::RemoteError;
use lotline_tests::cluster::{Cluster, DEFAULT_DEADLINE, wait_for};
use lotline_tests::workload::shipping_document;

/// Captures a document on node `index` over HTTP.
async fn capture(cluster: &Cluster, index: usize, document: Vec<u8>) -> serde_json::Value {
    let transport =
        Transport::new(&cluster.url(index), Some(cluster.token(index).to_owned())).unwrap();
    tokio::task::spawn_blocking(move || {
        let answer =
            transport.post("/capture", "application/ld+json", &document).expect("capture accepted");
        serde_json::from_slice(&answer.body).unwrap()
    })
    .await
    .unwrap()
}

/// (author hex, size, root line) of every feed a node holds, sorted.
fn feed_summary(cluster: &Cluster, index: usize) -> Vec<(String, u64, String)> {
    let state = &cluster.node(index).state;
    let mut summary: Vec<(String, u64, String)> = state
        .store()
        .heads()
        .into_iter()
        .map(|(author, head)| {
            let root = state.checkpoint_note_for(&author).unwrap_or_default();
            let root_line = root.lines().nth(2).unwrap_or_default().to_owned();
            (author.to_hex(), head.sequence + 1, root_line)
        })
        .collect();
    summary.sort();
    summary
}

async fn wait_until_identical(cluster: &Cluster, nodes: &[usize], expected_entries: u64) {
    wait_for("every node to hold identical feeds and checkpoints", DEFAULT_DEADLINE, || async {
        let summaries: Vec<_> = nodes.iter().map(|index| feed_summary(cluster, *index)).collect();
        let total: u64 = summaries[0].iter().map(|(_, size, _)| size).sum();
        let same = summaries.windows(2).all(|pair| pair[0] == pair[1]);
        let checkpointed = summaries[0].iter().all(|(_, _, root)| !root.is_empty());
        (same && checkpointed && total == expected_entries).then_some(())
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_capture_reaches_every_node_with_identical_checkpoints() {
    let cluster = Cluster::start(4).await.unwrap();
    let job = capture(&cluster, 0, shipping_document("LOT-A", 3).unwrap().body).await;
    assert_eq!(job["success"], true);
    assert_eq!(job["eventIDs"].as_array().unwrap().len(), 3);
    wait_until_identical(&cluster, &[0, 1, 2, 3], 3).await;
    // The regulator (node 3) witnesses: its cosignature reaches the author's node.
    let author = cluster.node(0).state.organisation();
    wait_for("a witness cosignature on node 0", DEFAULT_DEADLINE, || async {
        let note = cluster.node(0).state.checkpoint_note_for(&author)?;
        note.contains("lotline.dev/witness/").then_some(())
    })
    .await
    .unwrap();
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stopped_node_restarts_and_catches_up() {
    let mut cluster = Cluster::start(3).await.unwrap();
    capture(&cluster, 0, shipping_document("LOT-B", 2).unwrap().body).await;
    wait_until_identical(&cluster, &[0, 1, 2], 2).await;
    cluster.stop_node(2).await;
    for round in 0..5 {
        capture(&cluster, 0, shipping_document(&format!("LOT-C{round}"), 40).unwrap().body).await;
    }
    capture(&cluster, 1, shipping_document("LOT-D", 1).unwrap().body).await;
    cluster.start_node(2).await.unwrap();
    wait_until_identical(&cluster, &[0, 1, 2], 2 + 200 + 1).await;
    // The restarted node rebuilt its views from its store (LOT-B's events) and indexed what it
    // caught up on: it lists every event the others list.
    // (Indexing follows the durable append, so wait for it.)
    let events = |index: usize| Some(cluster.node(index).state.health().events);
    wait_for("the restarted node to index every event", DEFAULT_DEADLINE, || async {
        (events(2) == Some(2 + 200 + 1) && events(2) == events(0)).then_some(())
    })
    .await
    .unwrap();
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_partition_with_writes_on_both_sides_heals_to_identical_state() {
    // Nodes 0 and 1 know each other; 2 and 3 know each other; nobody crosses.
    let mut cluster = Cluster::start_with(4, |_, _| {}).await.unwrap();
    // The harness bootstraps every node to the earlier ones; rebuild two islands instead.
    for index in 0..4 {
        cluster.stop_node(index).await;
    }
    cluster.start_island(&[0, 1]).await.unwrap();
    cluster.start_island(&[2, 3]).await.unwrap();
    capture(&cluster, 0, shipping_document("LOT-E", 5).unwrap().body).await;
    capture(&cluster, 2, shipping_document("LOT-F", 7).unwrap().body).await;
    wait_until_identical(&cluster, &[0, 1], 5).await;
    wait_until_identical(&cluster, &[2, 3], 7).await;
    assert_ne!(feed_summary(&cluster, 0), feed_summary(&cluster, 2));
    // Heal: one link between the islands.
    cluster.connect(1, 3).await.unwrap();
    wait_until_identical(&cluster, &[0, 1, 2, 3], 12).await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forged_and_forked_feeds_are_rejected_and_the_fork_proof_reaches_every_node() {
    let cluster = Cluster::start(4).await.unwrap();
    capture(&cluster, 0, shipping_document("LOT-G", 1).unwrap().body).await;
    wait_until_identical(&cluster, &[0, 1, 2, 3], 1).await;
    let author = cluster.node(0).state.organisation();

    // A forged entry: signed by a key the roster never admitted.
    let outsider = Keypair::from_seed([42; 32]);
    let payload = Payload::Epcis(EpcisCapture {
        event_id: "ni:///sha-256;00?ver=CBV2.0".to_owned(),
        format: EventFormat::JsonLd,
        original: shipping_document("LOT-X", 1).unwrap().body,
    });
    let forged = FeedWriter::new(outsider, None).next_entry(1, &payload).unwrap();
    let rejected = cluster
        .node(1)
        .state
        .apply_remote(*forged.author().as_bytes(), vec![forged.wire_bytes().to_vec()]);
    assert!(
        matches!(rejected, Err(RemoteError::Invalid(_))),
        "an unadmitted author's entry is the peer's fault: {rejected:?}"
    );
    // A tampered copy of a real entry: signature no longer matches.
    let mut tampered = cluster.node(1).state.store().range(&author, 0, 1).unwrap().remove(0);
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let tampered = cluster.node(1).state.apply_remote(*author.as_bytes(), vec![tampered]);
    assert!(matches!(tampered, Err(RemoteError::Invalid(_))), "{tampered:?}");
    assert_eq!(cluster.node(1).state.store().len(), 1, "nothing of a rejected batch is stored");

    // A fork: node 0's own key signs a different entry at sequence 0 (a lying author).
    let key = Keypair::read_from_file(&cluster.data_dir.join("node-0/org.key")).unwrap();
    let fork = FeedWriter::new(key, None).next_entry(2, &payload).unwrap();
    let outcome = cluster
        .node(2)
        .state
        .apply_remote(*author.as_bytes(), vec![fork.wire_bytes().to_vec()])
        .unwrap();
    let announcement = outcome.announce.expect("the equivocation yields a fork proof to gossip");
    cluster.node(2).state.publish(announcement).await.unwrap();
    for index in 0..4 {
        wait_for(
            &format!("node {index} to hold the fork proof and freeze the feed"),
            DEFAULT_DEADLINE,
            || async {
                let store = cluster.node(index).state.store();
                let proofs = store.fork_proofs().ok()?;
                (proofs.iter().any(|proof| proof.author() == author)
                    && store.is_frozen(&author).is_some())
                .then_some(())
            },
        )
        .await
        .unwrap();
    }
    // A frozen feed takes no more entries, from its author either.
    let transport = Transport::new(&cluster.url(0), Some(cluster.token(0).to_owned())).unwrap();
    let refused = tokio::task::spawn_blocking(move || {
        transport.post(
            "/capture",
            "application/ld+json",
            &shipping_document("LOT-H", 1).unwrap().body,
        )
    })
    .await
    .unwrap();
    assert!(refused.is_err(), "the author's own node refuses to extend a frozen feed");
    cluster.shutdown().await;
}
