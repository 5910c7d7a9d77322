//! Hostile input against real nodes: oversized HTTP bodies (declared, undeclared and never
//! sent) over raw sockets, and a libp2p peer built here that speaks the node's own sync
//! protocol and gossip topic with broken bytes, so each test controls exactly what goes out.
//! Nodes admit only roster members' peer ids, so the peer runs with the identity of a member
//! the cluster's genesis admits for the purpose (a member turned hostile); strangers, forged
//! and equivocating announcements are `hostile_peers.rs`'s.
//!
//! Owns: the "bad input" end-to-end checks: every oversized body is answered with an RFC 7807
//! `413` naming the limit, promptly, stores nothing, and leaves the node serving; every broken
//! peer message is counted, its sender disconnected and refused, and replication between
//! honest nodes carries on.
//! Does not own: the framing's unit tests (in `lotline_node::network::protocol`).

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use futures::{AsyncReadExt as _, AsyncWriteExt as _, StreamExt as _};
use libp2p::swarm::{NetworkBehaviour, Swarm, SwarmEvent};
use libp2p::{Multiaddr, PeerId, StreamProtocol, gossipsub, noise, request_response, tcp, yamux};
use lotline_node::http::{MAX_BODY_BYTES, limit_of};
use lotline_node::network::protocol::{
    MAX_ANNOUNCEMENT_BYTES, MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES, SYNC_PROTOCOL,
};
use lotline_tests::cluster::{Cluster, DEFAULT_DEADLINE, wait_for};
use lotline_tests::fixtures::{
    ANSWER_DEADLINE, HttpAnswer, admit_extra_members, exchange, read_answer,
};
use lotline_tests::workload::shipping_document;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// Size of each piece of a body written by the test clients.
const BODY_PIECE_BYTES: usize = 64 * 1024;

/// Writes `total` filler bytes in pieces, in `Transfer-Encoding: chunked` framing if asked.
/// Errors are the point of some tests (the server closes the connection once it refused the
/// body), so they end the writing quietly.
async fn write_filler(mut writer: impl AsyncWrite + Unpin, total: usize, chunked: bool) {
    let piece = vec![b' '; BODY_PIECE_BYTES];
    let mut written = 0;
    while written < total {
        let size = (total - written).min(BODY_PIECE_BYTES);
        let framed = if chunked {
            let mut framed = format!("{size:x}\r\n").into_bytes();
            framed.extend_from_slice(&piece[..size]);
            framed.extend_from_slice(b"\r\n");
            framed
        } else {
            piece[..size].to_vec()
        };
        if writer.write_all(&framed).await.is_err() {
            return;
        }
        written += size;
    }
    if chunked {
        let _ = writer.write_all(b"0\r\n\r\n").await;
    }
}

/// How a test client sends a POST body.
#[derive(Debug, Clone, Copy)]
enum Body {
    /// Declares `declared` bytes in `Content-Length` and sends `sent` filler bytes.
    Declared { declared: u64, sent: usize },
    /// Sends `sent` filler bytes with `Transfer-Encoding: chunked` (no size declared).
    Chunked { sent: usize },
}

/// POSTs a filler body to `path` and reads the answer while the body is still being written,
/// as a well-behaved client does (a server may answer before reading the body).
async fn post_filler(
    address: SocketAddr,
    path: &str,
    content_type: &str,
    token: &str,
    body: Body,
) -> anyhow::Result<HttpAnswer> {
    let stream = TcpStream::connect(address).await?;
    let (mut reader, mut writer) = stream.into_split();
    let framing = match body {
        Body::Declared { declared, .. } => format!("Content-Length: {declared}"),
        Body::Chunked { .. } => "Transfer-Encoding: chunked".to_owned(),
    };
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: {content_type}\r\n\
         Authorization: Bearer {token}\r\n{framing}\r\n\r\n"
    );
    writer.write_all(head.as_bytes()).await?;
    let body_writer = tokio::spawn(async move {
        match body {
            Body::Declared { sent, .. } => write_filler(&mut writer, sent, false).await,
            Body::Chunked { sent } => write_filler(&mut writer, sent, true).await,
        }
        // Keep the write half open until the answer is read: closing it is not part of HTTP.
        writer
    });
    let answer = tokio::time::timeout(ANSWER_DEADLINE, read_answer(&mut reader))
        .await
        .context("no answer within the deadline")?;
    body_writer.abort();
    answer
}

/// Entries the node holds, as `/health` reports them.
async fn entry_count(address: SocketAddr) -> u64 {
    let answer = exchange(address, "GET", "/health", &[], b"").await.unwrap();
    assert_eq!(answer.status, 200);
    answer.json().unwrap()["entries"].as_u64().expect("/health reports entries")
}

/// Asserts `answer` is the problem document of a body over `limit`.
fn assert_too_large(answer: &HttpAnswer, limit: usize, declared: Option<u64>) {
    assert_eq!(answer.status, 413, "body: {}", String::from_utf8_lossy(&answer.body));
    assert_eq!(answer.header("content-type"), Some("application/problem+json"));
    let problem = answer.json().unwrap();
    assert_eq!(problem["status"], 413);
    assert_eq!(problem["type"], "epcisException:CaptureLimitExceededException");
    assert_eq!(problem["limit"], limit as u64);
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(detail.contains(&limit.to_string()), "detail names the limit: {detail}");
    match declared {
        Some(declared) => {
            assert_eq!(problem["received"], declared);
            assert!(detail.contains(&declared.to_string()), "detail names the size: {detail}");
        }
        None => assert!(problem.get("received").is_none(), "no size was declared: {problem}"),
    }
}

/// Captures a small valid document and asserts it is stored (the node still serves writes).
async fn assert_capture_accepted(address: SocketAddr, token: &str, lot: &str) {
    let entries_before = entry_count(address).await;
    let authorization = format!("Bearer {token}");
    let answer = exchange(
        address,
        "POST",
        "/capture",
        &[("Content-Type", "application/ld+json"), ("Authorization", &authorization)],
        &shipping_document(lot, 1).unwrap().body,
    )
    .await
    .unwrap();
    assert_eq!(answer.status, 202, "body: {}", String::from_utf8_lossy(&answer.body));
    assert_eq!(answer.json().unwrap()["success"], true);
    assert_eq!(entry_count(address).await, entries_before + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_oversized_body_gets_a_problem_413_on_every_body_route_and_stores_nothing() {
    let cluster = Cluster::start(1).await.unwrap();
    let address = cluster.node(0).http_address;
    let token = cluster.token(0).to_owned();
    let entries_before = entry_count(address).await;
    let just_over = MAX_BODY_BYTES + 1;
    let routes = [
        ("/capture", "application/ld+json"),
        ("/capture", "application/xml"),
        ("/records", "application/json"),
        ("/recall/scope", "application/json"),
    ];
    for (path, content_type) in routes {
        let body = Body::Declared { declared: just_over as u64, sent: just_over };
        let answer = post_filler(address, path, content_type, &token, body).await.unwrap();
        assert_too_large(&answer, limit_of(path), Some(just_over as u64));
    }
    assert_eq!(entry_count(address).await, entries_before, "nothing of a refused body is stored");
    assert_capture_accepted(address, &token, "LOT-AFTER-DECLARED").await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_declares_a_huge_body_and_sends_none_is_answered_at_once() {
    let cluster = Cluster::start(1).await.unwrap();
    let address = cluster.node(0).http_address;
    let token = cluster.token(0).to_owned();
    let entries_before = entry_count(address).await;
    let declared = 1_u64 << 40;
    // Headers only: a server that waits for the body before answering never answers.
    let body = Body::Declared { declared, sent: 0 };
    let answer = post_filler(address, "/capture", "application/ld+json", &token, body).await;
    let answer = answer.expect("the 413 arrives without the body being sent");
    assert_too_large(&answer, MAX_BODY_BYTES, Some(declared));
    assert_eq!(answer.header("connection"), Some("close"));
    assert_eq!(entry_count(address).await, entries_before);
    assert_capture_accepted(address, &token, "LOT-AFTER-HEAD-ONLY").await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_chunked_body_gets_a_problem_413_and_stores_nothing() {
    let cluster = Cluster::start(1).await.unwrap();
    let address = cluster.node(0).http_address;
    let token = cluster.token(0).to_owned();
    let entries_before = entry_count(address).await;
    let twice_the_limit = 2 * MAX_BODY_BYTES;
    for (path, content_type) in
        [("/capture", "application/ld+json"), ("/records", "application/json")]
    {
        let body = Body::Chunked { sent: twice_the_limit };
        let answer = post_filler(address, path, content_type, &token, body).await.unwrap();
        assert_too_large(&answer, limit_of(path), None);
    }
    assert_eq!(entry_count(address).await, entries_before, "nothing of a refused body is stored");
    assert_capture_accepted(address, &token, "LOT-AFTER-CHUNKED").await;
    cluster.shutdown().await;
}

/// The hostile peer's codec: whatever bytes the test hands it go out verbatim on the node's sync
/// protocol, with no framing of its own; what comes back is read raw.
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

/// What the hostile peer runs: the node's sync protocol with raw bytes, and gossip.
#[derive(NetworkBehaviour)]
struct HostileBehaviour {
    /// Sends raw request bytes, and answers the node's requests with raw bytes.
    sync: request_response::Behaviour<RawCodec>,
    /// Publishes garbage on the node's announcement topic (signed, as the node requires).
    gossipsub: gossipsub::Behaviour,
}

/// One way to misbehave.
#[derive(Debug, Clone)]
enum Attack {
    /// Send these bytes as a sync request.
    Request(Vec<u8>),
    /// Answer the node's first sync request with these bytes.
    Response(Vec<u8>),
    /// Publish these bytes on the node's announcement topic.
    Gossip(Vec<u8>),
}

/// A length prefix claiming `length` bytes, followed by `body`.
fn frame_claiming(length: usize, body: &[u8]) -> Vec<u8> {
    let mut frame = (length as u32).to_be_bytes().to_vec();
    frame.extend_from_slice(body);
    frame
}

/// A libp2p peer with the identity of an extra roster member (see [`admit_extra_members`]),
/// connected to one node.
struct HostilePeer {
    /// Its swarm, driven by the test itself.
    swarm: Swarm<HostileBehaviour>,
    /// The node under attack.
    node: PeerId,
    /// Where the node listens (TCP, with `/p2p/<id>`).
    node_address: Multiaddr,
}

impl HostilePeer {
    async fn connect(seed: u8, node: PeerId, node_address: Multiaddr) -> anyhow::Result<Self> {
        let keypair = lotline_node::network::keypair_from_seed([seed; 32])?;
        let mut swarm = libp2p::SwarmBuilder::with_existing_identity(keypair)
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
                Ok(HostileBehaviour { sync, gossipsub })
            })?
            // Only the node may end the connection: an idle timeout here would fake a penalty.
            .with_swarm_config(|config| {
                config.with_idle_connection_timeout(Duration::from_secs(3600))
            })
            .build();
        swarm.dial(node_address.clone())?;
        let mut hostile = HostilePeer { swarm, node, node_address };
        hostile
            .until("the hostile peer to connect", |_, event| match event {
                SwarmEvent::ConnectionEstablished { peer_id, .. } if peer_id == node => Some(()),
                _ => None,
            })
            .await?;
        Ok(hostile)
    }

    /// Drives the swarm, handing each event to `step`, until `step` returns a value.
    async fn until<T>(
        &mut self,
        what: &str,
        mut step: impl FnMut(
            &mut Swarm<HostileBehaviour>,
            SwarmEvent<HostileBehaviourEvent>,
        ) -> Option<T>,
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

    /// Misbehaves once.
    async fn attack(
        &mut self,
        attack: Attack,
        topic: &gossipsub::IdentTopic,
    ) -> anyhow::Result<()> {
        let node = self.node;
        match attack {
            Attack::Request(bytes) => {
                self.swarm.behaviour_mut().sync.send_request(&node, bytes);
            }
            Attack::Response(bytes) => {
                let mut garbage = Some(bytes);
                self.until("a sync request from the node to answer", |swarm, event| {
                    let SwarmEvent::Behaviour(HostileBehaviourEvent::Sync(
                        request_response::Event::Message {
                            message: request_response::Message::Request { channel, .. },
                            ..
                        },
                    )) = event
                    else {
                        return None;
                    };
                    let garbage = garbage.take()?;
                    swarm.behaviour_mut().sync.send_response(channel, garbage).ok()
                })
                .await?;
            }
            Attack::Gossip(bytes) => {
                let topic_hash = topic.hash();
                self.until("the node's subscription to its announcement topic", |_, event| {
                    match event {
                        SwarmEvent::Behaviour(HostileBehaviourEvent::Gossipsub(
                            gossipsub::Event::Subscribed { peer_id, topic },
                        )) if peer_id == node && topic == topic_hash => Some(()),
                        _ => None,
                    }
                })
                .await?;
                self.swarm.behaviour_mut().gossipsub.publish(topic.clone(), bytes)?;
            }
        }
        Ok(())
    }

    /// Waits until the node has closed every connection with this peer.
    async fn wait_until_disconnected(&mut self) -> anyhow::Result<()> {
        let node = self.node;
        self.until("the node to disconnect the hostile peer", |_, event| match event {
            SwarmEvent::ConnectionClosed { peer_id, num_established: 0, .. } if peer_id == node => {
                Some(())
            }
            _ => None,
        })
        .await
    }

    /// Dials the node again and waits until the connection is refused or closed at once (a
    /// peer that is not blocked keeps its connection: both sides have long idle timeouts).
    async fn assert_refused_on_redial(&mut self) -> anyhow::Result<()> {
        let node = self.node;
        self.swarm.dial(self.node_address.clone())?;
        self.until("the node to refuse the penalised peer's new connection", |_, event| match event
        {
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

/// The value of one sample in the node's `/metrics` (0 when the series is absent).
async fn metric(address: SocketAddr, series: &str) -> u64 {
    let answer = exchange(address, "GET", "/metrics", &[], b"").await.unwrap();
    assert_eq!(answer.status, 200);
    String::from_utf8_lossy(&answer.body)
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or(0)
}

/// The `/health` summary (also proves the HTTP side still answers).
async fn health(address: SocketAddr) -> serde_json::Value {
    let answer = exchange(address, "GET", "/health", &[], b"").await.unwrap();
    assert_eq!(answer.status, 200);
    answer.json().unwrap()
}

fn rejected_series(message: &str, reason: &str) -> String {
    format!(
        "lotline_peer_messages_rejected_by_reason_total{{message=\"{message}\",reason=\"{reason}\"}}"
    )
}

/// Key seeds of the attackers, `[seed; 32]` for seed in this range: one per attack, since each
/// attack gets its attacker blocked.
const ATTACKER_SEEDS: std::ops::Range<u8> = 0xA0..0xB0;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hostile_peers_are_counted_penalised_and_refused_while_honest_replication_goes_on() {
    let attackers: Vec<[u8; 32]> = ATTACKER_SEEDS.map(|seed| [seed; 32]).collect();
    let cluster = Cluster::start_with(2, |index, config| {
        if index == 0 {
            admit_extra_members(&config.genesis_file, &attackers).unwrap();
        }
    })
    .await
    .unwrap();
    let victim = cluster.node(0);
    let victim_http = victim.http_address;
    let victim_address = victim
        .p2p_addresses
        .iter()
        .find(|address| address.to_string().contains("/tcp/"))
        .cloned()
        .expect("the node listens on TCP");
    let topic = lotline_node::network::announcement_topic(&victim.state.network_name());
    wait_for("the honest node to connect", DEFAULT_DEADLINE, || async {
        (health(victim_http).await["peers"] == 1).then_some(())
    })
    .await
    .unwrap();

    let attacks = [
        (Attack::Request(frame_claiming(1, &[0x63])), "request", "malformed"),
        (Attack::Request(frame_claiming(100, &[1; 10])), "request", "truncated"),
        (
            Attack::Request(frame_claiming(MAX_REQUEST_BYTES + 1, &[0; 1024])),
            "request",
            "oversized",
        ),
        (Attack::Response(frame_claiming(3, &[0x63, 0x63, 0x63])), "response", "malformed"),
        (Attack::Response(frame_claiming(MAX_RESPONSE_BYTES + 1, &[])), "response", "oversized"),
        (Attack::Gossip(vec![0x63, 0xde, 0xad]), "announcement", "malformed"),
        // Over the announcement limit, under gossipsub's transmit limit: the node's own check.
        (Attack::Gossip(vec![0x04; MAX_ANNOUNCEMENT_BYTES + 1]), "announcement", "oversized"),
    ];
    for (index, (attack, message, reason)) in attacks.into_iter().enumerate() {
        let series = rejected_series(message, reason);
        let rejected_before = metric(victim_http, &series).await;
        let penalties_before = metric(victim_http, "lotline_peer_penalties_total").await;
        let seed = ATTACKER_SEEDS.start + index as u8;
        assert!(ATTACKER_SEEDS.contains(&seed), "one admitted attacker per attack");
        let mut hostile =
            HostilePeer::connect(seed, victim.peer_id, victim_address.clone()).await.unwrap();
        hostile.attack(attack, &topic).await.unwrap();
        hostile.wait_until_disconnected().await.unwrap();
        wait_for(&format!("{series} to count the {message}"), DEFAULT_DEADLINE, || async {
            (metric(victim_http, &series).await > rejected_before).then_some(())
        })
        .await
        .unwrap();
        assert!(metric(victim_http, "lotline_peer_penalties_total").await > penalties_before);
        hostile.assert_refused_on_redial().await.unwrap();
        assert_eq!(health(victim_http).await["status"], "ok");
    }

    // Only the honest peer is left, and it still replicates what the victim captures now.
    wait_for("the victim to hold only its honest peer", DEFAULT_DEADLINE, || async {
        (health(victim_http).await["peers"] == 1).then_some(())
    })
    .await
    .unwrap();
    assert_capture_accepted(victim_http, cluster.token(0), "LOT-AFTER-ATTACKS").await;
    let captured = health(victim_http).await["entries"].as_u64().unwrap();
    let honest_http = cluster.node(1).http_address;
    wait_for("the honest node to replicate the capture", DEFAULT_DEADLINE, || async {
        (health(honest_http).await["entries"].as_u64() == Some(captured)).then_some(())
    })
    .await
    .unwrap();
    cluster.shutdown().await;
}
