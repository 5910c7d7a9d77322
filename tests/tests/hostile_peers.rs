//! Hostile libp2p peers against real nodes, judged on what their messages mean: a peer built
//! here (gossipsub and the node's sync protocol with raw bytes) plays a stranger, and members
//! turned hostile whose keys the test holds (extra organisations the cluster's genesis admits,
//! see `admit_extra_members`).
//!
//! Owns: the end-to-end checks of the roster gate (a stranger holds no connection and gets no
//! sync answer), of announcement judging (forged signatures and announcements about
//! non-members get their forwarder banned, replays are dropped without blame, an equivocating
//! checkpoint freezes the feed, bans its author and its fork proof reaches the other nodes),
//! and of liveness under a flood of announcements and oversized frames, while honest nodes
//! keep replicating.
//! Does not own: broken framing of each message kind (`hostile.rs`), the framing's and the
//! network layer's unit tests (in `lotline_node::network`).

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use futures::{AsyncReadExt as _, AsyncWriteExt as _, FutureExt as _, StreamExt as _};
use libp2p::swarm::{NetworkBehaviour, Swarm, SwarmEvent};
use libp2p::{Multiaddr, PeerId, StreamProtocol, gossipsub, noise, request_response, tcp, yamux};
use lotline_ledger::checkpoint::{Checkpoint, SignedCheckpoint};
use lotline_ledger::identity::{Keypair, PublicKey};
use lotline_node::network::Announcement;
use lotline_node::network::protocol::{MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES, SYNC_PROTOCOL};
use lotline_tests::cluster::{Cluster, DEFAULT_DEADLINE, wait_for};
use lotline_tests::fixtures::{admit_extra_members, exchange};

/// Key seed of the organisation no roster admits.
const STRANGER: [u8; 32] = [0x51; 32];
/// Key seeds of members turned hostile, one per misdeed (each gets its peer banned).
const FORGER: [u8; 32] = [0x61; 32];
const FOREIGNER: [u8; 32] = [0x62; 32];
const EQUIVOCATOR: [u8; 32] = [0x63; 32];
const REPLAYER: [u8; 32] = [0x64; 32];
const FLOODER: [u8; 32] = [0x65; 32];
const OVERSIZER: [u8; 32] = [0x66; 32];
/// Announcements the flooder publishes at most.
const FLOOD_ANNOUNCEMENTS: u64 = 2_000;
/// The framed sync request "which feeds do you hold?" (length prefix, then tag 1).
const HEADS_REQUEST: [u8; 5] = [0, 0, 0, 1, 1];

/// The test peer's codec: the bytes the test hands it go out verbatim on the node's sync
/// protocol; what comes back is read raw.
#[derive(Debug, Clone, Default)]
struct RawCodec;

async fn read_raw<T: futures::AsyncRead + Unpin + Send>(io: &mut T) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    io.take(MAX_RESPONSE_BYTES as u64).read_to_end(&mut bytes).await?;
    Ok(bytes)
}

async fn write_raw<T: futures::AsyncWrite + Unpin + Send>(
    io: &mut T,
    bytes: &[u8],
) -> std::io::Result<()> {
    io.write_all(bytes).await?;
    io.close().await
}

impl request_response::Codec for RawCodec {
    type Protocol = StreamProtocol;
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    async fn read_request<T: futures::AsyncRead + Unpin + Send>(
        &mut self,
        _protocol: &StreamProtocol,
        io: &mut T,
    ) -> std::io::Result<Vec<u8>> {
        read_raw(io).await
    }

    async fn read_response<T: futures::AsyncRead + Unpin + Send>(
        &mut self,
        _protocol: &StreamProtocol,
        io: &mut T,
    ) -> std::io::Result<Vec<u8>> {
        read_raw(io).await
    }

    async fn write_request<T: futures::AsyncWrite + Unpin + Send>(
        &mut self,
        _protocol: &StreamProtocol,
        io: &mut T,
        request: Vec<u8>,
    ) -> std::io::Result<()> {
        write_raw(io, &request).await
    }

    async fn write_response<T: futures::AsyncWrite + Unpin + Send>(
        &mut self,
        _protocol: &StreamProtocol,
        io: &mut T,
        response: Vec<u8>,
    ) -> std::io::Result<()> {
        write_raw(io, &response).await
    }
}

/// What the test peer runs.
#[derive(NetworkBehaviour)]
struct PeerBehaviour {
    /// Raw sync requests to the node; the node's requests to us are left unanswered.
    sync: request_response::Behaviour<RawCodec>,
    /// Publishes on the node's announcement topic (signed, as the node requires).
    gossipsub: gossipsub::Behaviour,
}

/// A libp2p peer driven by the test, aimed at one node.
struct TestPeer {
    /// Its swarm, driven only while the test waits on it.
    swarm: Swarm<PeerBehaviour>,
    /// The node under attack.
    node: PeerId,
    /// Where the node listens (TCP, with `/p2p/<id>`).
    node_address: Multiaddr,
    /// The node's announcement topic.
    topic: gossipsub::IdentTopic,
}

impl TestPeer {
    /// A peer with the libp2p identity of the organisation whose key seed is `seed`.
    fn new(seed: [u8; 32], cluster: &Cluster, node: usize) -> anyhow::Result<Self> {
        let running = cluster.node(node);
        let node_address = running
            .p2p_addresses
            .iter()
            .find(|address| address.to_string().contains("/tcp/"))
            .cloned()
            .context("the node listens on TCP")?;
        let topic = lotline_node::network::announcement_topic(&running.state.network_name());
        let keypair = lotline_node::network::keypair_from_seed(seed)?;
        let swarm = libp2p::SwarmBuilder::with_existing_identity(keypair)
            .with_tokio()
            .with_tcp(
                tcp::Config::default().nodelay(true),
                noise::Config::new,
                yamux::Config::default,
            )?
            .with_behaviour(|key| {
                let gossipsub = gossipsub::Behaviour::new(
                    gossipsub::MessageAuthenticity::Signed(key.clone()),
                    gossipsub::Config::default(),
                )?;
                let sync = request_response::Behaviour::with_codec(
                    RawCodec,
                    [(SYNC_PROTOCOL, request_response::ProtocolSupport::Full)],
                    request_response::Config::default(),
                );
                Ok(PeerBehaviour { sync, gossipsub })
            })?
            // Only the node may end a connection: an idle timeout here would fake a penalty.
            .with_swarm_config(|config| {
                config.with_idle_connection_timeout(Duration::from_secs(3600))
            })
            .build();
        Ok(TestPeer { swarm, node: running.peer_id, node_address, topic })
    }

    /// Drives the swarm, handing each event to `step`, until `step` returns a value.
    async fn until<T>(
        &mut self,
        what: &str,
        mut step: impl FnMut(&mut Swarm<PeerBehaviour>, SwarmEvent<PeerBehaviourEvent>) -> Option<T>,
    ) -> anyhow::Result<T> {
        let give_up = tokio::time::Instant::now() + DEFAULT_DEADLINE;
        loop {
            let event = tokio::time::timeout_at(give_up, self.swarm.select_next_some())
                .await
                .with_context(|| format!("timed out waiting for {what}"))?;
            if let Some(value) = step(&mut self.swarm, event) {
                return Ok(value);
            }
        }
    }

    /// Connects as a member: dials and waits until the node has told us its subscription to
    /// the announcement topic (so what we publish reaches it).
    async fn join(&mut self) -> anyhow::Result<()> {
        let (node, topic) = (self.node, self.topic.hash());
        self.swarm.dial(self.node_address.clone())?;
        self.until("the node's subscription to its announcement topic", |_, event| match event {
            SwarmEvent::Behaviour(PeerBehaviourEvent::Gossipsub(
                gossipsub::Event::Subscribed { peer_id, topic: subscribed },
            )) if peer_id == node && subscribed == topic => Some(()),
            _ => None,
        })
        .await
    }

    /// Publishes `bytes` on the node's announcement topic.
    fn publish(&mut self, bytes: Vec<u8>) -> anyhow::Result<()> {
        self.swarm.behaviour_mut().gossipsub.publish(self.topic.clone(), bytes)?;
        Ok(())
    }

    /// Sends raw request bytes to the node: the raw answer, or why none came.
    async fn request(&mut self, bytes: Vec<u8>) -> anyhow::Result<Result<Vec<u8>, String>> {
        let request_id = self.swarm.behaviour_mut().sync.send_request(&self.node, bytes);
        self.until("the node's answer or the request's failure", |_, event| match event {
            SwarmEvent::Behaviour(PeerBehaviourEvent::Sync(request_response::Event::Message {
                message: request_response::Message::Response { request_id: answered, response },
                ..
            })) if answered == request_id => Some(Ok(response)),
            SwarmEvent::Behaviour(PeerBehaviourEvent::Sync(
                request_response::Event::OutboundFailure { request_id: failed, error, .. },
            )) if failed == request_id => Some(Err(error.to_string())),
            _ => None,
        })
        .await
    }

    /// Waits until the node has closed every connection with this peer (or refused the
    /// last one).
    async fn wait_until_disconnected(&mut self) -> anyhow::Result<()> {
        let node = self.node;
        if !self.swarm.is_connected(&node) {
            return Ok(());
        }
        self.until("the node to disconnect the peer", |_, event| match event {
            SwarmEvent::ConnectionClosed { peer_id, num_established: 0, .. } if peer_id == node => {
                Some(())
            }
            _ => None,
        })
        .await
    }

    /// Dials the node again and waits until the connection is refused or closed at once (a
    /// peer the node admits keeps its connection: both sides have long idle timeouts).
    async fn assert_refused_on_redial(&mut self) -> anyhow::Result<()> {
        let node = self.node;
        self.swarm.dial(self.node_address.clone())?;
        self.until("the node to refuse the peer's new connection", |_, event| match event {
            SwarmEvent::OutgoingConnectionError { peer_id: Some(peer_id), .. }
            | SwarmEvent::ConnectionClosed { peer_id, .. }
                if peer_id == node =>
            {
                Some(())
            }
            _ => None,
        })
        .await
    }
}

/// The note of a checkpoint of `seed`'s feed at `size` with `root`, signed by that key.
fn checkpoint_note(seed: [u8; 32], size: u64, root: [u8; 32]) -> String {
    let keypair = Keypair::from_seed(seed);
    let checkpoint = Checkpoint::for_feed(&keypair.public_key(), size, root);
    SignedCheckpoint::sign(checkpoint, &keypair).unwrap().to_note_text()
}

/// The gossip bytes announcing checkpoint `note`.
fn checkpoint_announcement(note: String) -> Vec<u8> {
    Announcement::Checkpoint(note).encode()
}

/// `note` with one character of its signature changed (the key id before it left intact), so
/// it still parses and names the same key, and its signature no longer verifies.
fn forge_signature(note: &str) -> String {
    let signature_line_start = note.trim_end().rfind('\n').unwrap() + 1;
    let base64_start = signature_line_start + note[signature_line_start..].rfind(' ').unwrap() + 1;
    // Base64 characters 6 and on encode signature bytes (the first four bytes are the key id).
    let position = base64_start + 40;
    let replacement = if &note[position..=position] == "A" { "B" } else { "A" };
    let mut forged = note.to_owned();
    forged.replace_range(position..=position, replacement);
    forged
}

/// Hex of the organisation key with seed `seed`.
fn organisation_hex(seed: [u8; 32]) -> String {
    Keypair::from_seed(seed).public_key().to_hex()
}

/// The value of one sample in the node's `/metrics` (0 when the series is absent).
async fn metric(address: SocketAddr, series: &str) -> u64 {
    let answer = exchange(address, "GET", "/metrics", &[], b"").await.unwrap();
    assert_eq!(answer.status, 200);
    String::from_utf8_lossy(&answer.body)
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or(0)
}

fn rejected_series(message: &str, reason: &str) -> String {
    format!(
        "lotline_peer_messages_rejected_by_reason_total{{message=\"{message}\",reason=\"{reason}\"}}"
    )
}

/// Waits until the rejected-messages counter for (`message`, `reason`) exceeds `before`.
async fn wait_for_count(address: SocketAddr, message: &str, reason: &str, before: u64) {
    let series = rejected_series(message, reason);
    wait_for(&format!("{series} to exceed {before}"), DEFAULT_DEADLINE, || async {
        (metric(address, &series).await > before).then_some(())
    })
    .await
    .unwrap();
}

/// The `/health` summary (also proves the HTTP side still answers).
async fn health(address: SocketAddr) -> serde_json::Value {
    let answer = exchange(address, "GET", "/health", &[], b"").await.unwrap();
    assert_eq!(answer.status, 200);
    answer.json().unwrap()
}

/// Waits until node `index` has `peers` connected peers.
async fn wait_for_peers(cluster: &Cluster, index: usize, peers: u64) {
    let address = cluster.node(index).http_address;
    wait_for(&format!("node {index} to hold {peers} peers"), DEFAULT_DEADLINE, || async {
        (health(address).await["peers"] == peers).then_some(())
    })
    .await
    .unwrap();
}

/// A small valid EPCIS document with one shipping event of lot `lot`.
fn shipping_document(lot: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2024-03-01T12:00:00.000Z",
        "epcisBody": {"eventList": [{
            "type": "ObjectEvent",
            "eventTime": "2024-03-01T10:00:00.000Z",
            "eventTimeZoneOffset": "+00:00",
            "action": "OBSERVE",
            "bizStep": "shipping",
            "disposition": "in_transit",
            "quantityList": [{"epcClass": format!("https://id.gs1.org/01/09506000134352/10/{lot}"), "quantity": 1, "uom": "KGM"}],
            "readPoint": {"id": "https://id.gs1.org/414/9506000000008"}
        }]}
    }))
    .unwrap()
}

/// Captures one event of lot `lot` at node `from` and waits until node `to` holds as many
/// entries as `from` then does: honest replication goes on.
async fn assert_replicates(cluster: &Cluster, from: usize, to: usize, lot: &str) {
    let from_http = cluster.node(from).http_address;
    let authorization = format!("Bearer {}", cluster.token(from));
    let answer = exchange(
        from_http,
        "POST",
        "/capture",
        &[("Content-Type", "application/ld+json"), ("Authorization", &authorization)],
        &shipping_document(lot),
    )
    .await
    .unwrap();
    assert_eq!(answer.status, 202, "body: {}", String::from_utf8_lossy(&answer.body));
    let captured = health(from_http).await["entries"].as_u64().unwrap();
    let to_http = cluster.node(to).http_address;
    wait_for(&format!("node {to} to replicate {lot}"), DEFAULT_DEADLINE, || async {
        (health(to_http).await["entries"].as_u64() == Some(captured)).then_some(())
    })
    .await
    .unwrap();
}

/// A cluster of `count` nodes whose genesis also admits the organisations with key `seeds`.
async fn cluster_admitting(count: usize, seeds: &[[u8; 32]]) -> Cluster {
    Cluster::start_with(count, |index, config| {
        if index == 0 {
            admit_extra_members(&config.genesis_file, seeds).unwrap();
        }
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stranger_holds_no_connection_and_gets_no_sync_answer() {
    let cluster = Cluster::start(2).await.unwrap();
    wait_for_peers(&cluster, 0, 1).await;
    let victim_http = cluster.node(0).http_address;
    let refused_before = metric(victim_http, &rejected_series("connection", "not_member")).await;

    let mut stranger = TestPeer::new(STRANGER, &cluster, 0).unwrap();
    // The node refuses the connection once the handshake names the stranger, before any
    // protocol stream is opened, so the request waiting for it fails.
    stranger.swarm.dial(stranger.node_address.clone()).unwrap();
    let answer = stranger.request(HEADS_REQUEST.to_vec()).await.unwrap();
    assert!(answer.is_err(), "a stranger gets no sync answer: {answer:?}");
    stranger.wait_until_disconnected().await.unwrap();
    assert!(!stranger.swarm.is_connected(&stranger.node));
    wait_for_count(victim_http, "connection", "not_member", refused_before).await;
    stranger.assert_refused_on_redial().await.unwrap();

    // The stranger never took a slot, and the honest peer is served as before.
    assert_eq!(health(victim_http).await["peers"], 1);
    assert_replicates(&cluster, 0, 1, "LOT-AFTER-STRANGER").await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn members_forging_or_speaking_for_strangers_are_banned_and_an_equivocation_is_proved_everywhere()
 {
    let cluster = cluster_admitting(2, &[FORGER, FOREIGNER, EQUIVOCATOR]).await;
    wait_for_peers(&cluster, 0, 1).await;
    let victim_http = cluster.node(0).http_address;

    // A forged signature on a well-formed checkpoint: banned at once.
    let forged_before =
        metric(victim_http, &rejected_series("announcement", "bad_signature")).await;
    let penalties_before = metric(victim_http, "lotline_peer_penalties_total").await;
    let mut forger = TestPeer::new(FORGER, &cluster, 0).unwrap();
    forger.join().await.unwrap();
    let genuine = checkpoint_note(FORGER, 1, [7; 32]);
    let forged = forge_signature(&genuine);
    assert_ne!(forged, genuine);
    assert!(SignedCheckpoint::verify_self_certifying_feed(&forged).is_err());
    forger.publish(checkpoint_announcement(forged)).unwrap();
    forger.wait_until_disconnected().await.unwrap();
    wait_for_count(victim_http, "announcement", "bad_signature", forged_before).await;
    assert!(metric(victim_http, "lotline_peer_penalties_total").await > penalties_before);
    forger.assert_refused_on_redial().await.unwrap();

    // Validly signed checkpoints of an organisation the roster does not admit: each costs the
    // forwarder gossip score, and the second one takes it below the graylist: banned.
    let foreign_before = metric(victim_http, &rejected_series("announcement", "not_member")).await;
    let mut foreigner = TestPeer::new(FOREIGNER, &cluster, 0).unwrap();
    foreigner.join().await.unwrap();
    for size in 1..=2 {
        let note = checkpoint_note(STRANGER, size, [size as u8; 32]);
        foreigner.publish(checkpoint_announcement(note)).unwrap();
    }
    foreigner.wait_until_disconnected().await.unwrap();
    wait_for_count(victim_http, "announcement", "not_member", foreign_before + 1).await;
    foreigner.assert_refused_on_redial().await.unwrap();

    // Two checkpoints of one size with different roots, signed by the member itself: the
    // node proves the fork, freezes the feed, bans the author's peer and gossips the proof.
    let mut equivocator = TestPeer::new(EQUIVOCATOR, &cluster, 0).unwrap();
    equivocator.join().await.unwrap();
    equivocator.publish(checkpoint_announcement(checkpoint_note(EQUIVOCATOR, 3, [1; 32]))).unwrap();
    equivocator.publish(checkpoint_announcement(checkpoint_note(EQUIVOCATOR, 3, [2; 32]))).unwrap();
    equivocator.wait_until_disconnected().await.unwrap();
    equivocator.assert_refused_on_redial().await.unwrap();
    let equivocator_hex = organisation_hex(EQUIVOCATOR);
    for index in [0, 1] {
        let http = cluster.node(index).http_address;
        wait_for(&format!("node {index} to list the fork proof"), DEFAULT_DEADLINE, || async {
            let answer = exchange(http, "GET", "/forks", &[], b"").await.ok()?;
            let proofs = answer.json().ok()?;
            proofs
                .as_array()?
                .iter()
                .any(|proof| proof["author"] == equivocator_hex.as_str())
                .then_some(())
        })
        .await
        .unwrap();
        let author = PublicKey::from_hex(&equivocator_hex).unwrap();
        assert!(cluster.node(index).state.store().is_frozen(&author).is_some());
    }

    // None of it stopped the honest nodes.
    assert_eq!(health(victim_http).await["status"], "ok");
    wait_for_peers(&cluster, 0, 1).await;
    assert_replicates(&cluster, 0, 1, "LOT-AFTER-FORGERIES").await;
    assert_replicates(&cluster, 1, 0, "LOT-BACK-FORGED").await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replayed_announcement_is_dropped_without_blaming_the_member_that_replays_it() {
    let mut cluster = cluster_admitting(2, &[REPLAYER]).await;
    // The victim learns node 1's checkpoint by syncing, not by gossip, so what the replayer
    // sends is new to the victim's gossip layer and reaches the node's judgement.
    cluster.stop_node(0).await;
    let node_1_http = cluster.node(1).http_address;
    let authorization = format!("Bearer {}", cluster.token(1));
    let answer = exchange(
        node_1_http,
        "POST",
        "/capture",
        &[("Content-Type", "application/ld+json"), ("Authorization", &authorization)],
        &shipping_document("LOT-REPLAYED"),
    )
    .await
    .unwrap();
    assert_eq!(answer.status, 202, "body: {}", String::from_utf8_lossy(&answer.body));
    cluster.start_node(0).await.unwrap();
    let node_1_key = cluster.node(1).state.organisation();
    let note = wait_for("the victim to hold node 1's checkpoint", DEFAULT_DEADLINE, || async {
        cluster.node(0).state.checkpoint_note_for(&node_1_key)
    })
    .await
    .unwrap();
    let victim_http = cluster.node(0).http_address;
    let replayed_before = metric(victim_http, &rejected_series("announcement", "replayed")).await;

    let mut replayer = TestPeer::new(REPLAYER, &cluster, 0).unwrap();
    replayer.join().await.unwrap();
    replayer.publish(checkpoint_announcement(note)).unwrap();
    wait_for_count(victim_http, "announcement", "replayed", replayed_before).await;

    // Not blamed: still connected and served (a stranger gets no answer; a member does).
    let answer = replayer.request(HEADS_REQUEST.to_vec()).await.unwrap();
    let answer = answer.expect("the replaying member is still served");
    assert!(answer.len() > 5, "a heads answer: {answer:?}");
    assert!(replayer.swarm.is_connected(&replayer.node));
    assert_replicates(&cluster, 0, 1, "LOT-AFTER-REPLAY").await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_of_announcements_and_oversized_frames_do_not_stop_honest_replication() {
    let cluster = cluster_admitting(2, &[FLOODER, OVERSIZER]).await;
    wait_for_peers(&cluster, 0, 1).await;
    let victim_http = cluster.node(0).http_address;

    // A flood of validly signed checkpoints of the flooder's own feed, each new, published as
    // fast as its queues take them; the honest nodes replicate captures made once half of it
    // is out, while the victim works through the rest.
    let mut flooder = TestPeer::new(FLOODER, &cluster, 0).unwrap();
    flooder.join().await.unwrap();
    let (progress, mut published_so_far) = tokio::sync::watch::channel(0_u64);
    let flood = tokio::spawn(async move {
        for size in 1..=FLOOD_ANNOUNCEMENTS {
            let mut root = [0u8; 32];
            root[..8].copy_from_slice(&size.to_be_bytes());
            let note = checkpoint_note(FLOODER, size, root);
            if flooder.publish(checkpoint_announcement(note)).is_ok() {
                progress.send_modify(|published| *published += 1);
            }
            // Let the swarm send what is queued, without waiting for anything.
            while let Some(Some(_)) = flooder.swarm.next().now_or_never() {}
            tokio::task::yield_now().await;
        }
        flooder
    });
    tokio::time::timeout(
        DEFAULT_DEADLINE,
        published_so_far.wait_for(|published| *published >= FLOOD_ANNOUNCEMENTS / 2),
    )
    .await
    .expect("half of the flood goes out in time")
    .unwrap();
    assert_replicates(&cluster, 0, 1, "LOT-DURING-FLOOD").await;
    assert_replicates(&cluster, 1, 0, "LOT-BACK-FLOOD").await;
    let mut flooder = flood.await.unwrap();
    // The flooder broke no rule: it is still connected and served.
    let answer = flooder.request(HEADS_REQUEST.to_vec()).await.unwrap();
    assert!(answer.is_ok(), "the flooding member is still served: {answer:?}");

    // Oversized frames from a member: a gossip frame over gossipsub's transmit limit never
    // reaches the node (gossipsub's framing drops it; had it arrived, the node would have
    // refused it as oversized and banned the sender), and a sync request announcing more than
    // the request limit is refused before it is read, counted, and gets the sender banned.
    let mut oversizer = TestPeer::new(OVERSIZER, &cluster, 0).unwrap();
    oversizer.join().await.unwrap();
    oversizer
        .publish(vec![0x04; 3 * lotline_node::network::protocol::MAX_ANNOUNCEMENT_BYTES])
        .unwrap();
    let answer = oversizer.request(HEADS_REQUEST.to_vec()).await.unwrap();
    assert!(answer.is_ok(), "the oversized gossip frame never reached the node: {answer:?}");
    let oversized_before = metric(victim_http, &rejected_series("request", "oversized")).await;
    let mut lying_frame = ((MAX_REQUEST_BYTES + 1) as u32).to_be_bytes().to_vec();
    lying_frame.extend_from_slice(&[0; 1024]);
    let answer = oversizer.request(lying_frame).await.unwrap();
    assert!(answer.is_err(), "an oversized request gets no answer: {answer:?}");
    oversizer.wait_until_disconnected().await.unwrap();
    wait_for_count(victim_http, "request", "oversized", oversized_before).await;
    oversizer.assert_refused_on_redial().await.unwrap();

    assert_eq!(health(victim_http).await["status"], "ok");
    assert_replicates(&cluster, 0, 1, "LOT-AFTER-FLOOD").await;
    cluster.shutdown().await;
}
