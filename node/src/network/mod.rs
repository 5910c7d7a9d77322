//! The peer-to-peer layer: one task owns the libp2p `Swarm`; everyone else holds a [`Handle`].
//!
//! Owns: transports (TCP + Noise + Yamux, and QUIC), peer discovery (bootstrap list, mDNS,
//! private Kademlia), liveness (identify, ping), who may connect (only roster members, see
//! `membership`, within connection limits), penalties (a peer that breaks the protocol or the
//! ledger rules, or whose gossip score falls too low, is disconnected and blocked for a while),
//! gossip of small announcements with peer scoring and a bounded number of validations in
//! flight, and the anti-entropy request-response protocol.
//! Does not own: what messages mean or who the members are. Inbound requests and gossip go up
//! to the node's sync service as [`Event`]s; verification and storage happen there, off this
//! task, and the sync service pushes the roster's peer ids down ([`Handle::set_members`]).

mod event_loop;
pub mod membership;
pub mod protocol;
mod scoring;
#[cfg(test)]
mod tests;
pub(crate) mod throttle;

use std::collections::HashSet;
use std::time::Duration;

use libp2p::{
    Multiaddr, PeerId, allow_block_list, connection_limits, gossipsub, identify, identity, kad,
    mdns, noise, ping, request_response, swarm::NetworkBehaviour, swarm::behaviour::toggle::Toggle,
    tcp, yamux,
};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

pub use protocol::{Announcement, Head, Rejection, Request, Response};

/// Capacity of the command channel from handles to the swarm task.
const COMMAND_CHANNEL_CAPACITY: usize = 256;
/// Capacity of the event channel from the swarm task to the sync service.
const EVENT_CHANNEL_CAPACITY: usize = 1024;
/// Connections we keep at most, in and out.
const MAX_ESTABLISHED_CONNECTIONS: u32 = 256;
/// Inbound connections we keep at most: room is left for our own dials to members, so peers
/// dialling us can never take every slot.
const MAX_ESTABLISHED_INCOMING: u32 = 192;
/// Inbound connections in their handshake at most. A peer's id is known, and a stranger
/// refused, only once the handshake is done; this bounds the work strangers can start.
const MAX_PENDING_INCOMING: u32 = 32;
/// Our own dials in progress at most (bootstrap peers, mDNS and DHT discoveries).
const MAX_PENDING_OUTGOING: u32 = 32;
/// Connections per peer at most (one TCP and one QUIC is plenty).
const MAX_CONNECTIONS_PER_PEER: u32 = 2;
/// Announcements handed to the node and not judged yet, at most; beyond it new ones are
/// ignored (neither forwarded nor held against their sender) and counted as `busy`, so a flood
/// costs the node bounded work. Each judgement verifies a signature or two.
const MAX_VALIDATIONS_IN_FLIGHT: usize = 64;
/// Gossipsub's heartbeat (mesh upkeep, message cache shifts).
const HEARTBEAT_INTERVAL: Duration = Duration::from_millis(500);
/// Heartbeats a received message stays in gossipsub's cache: its validation must be reported
/// within that time, or gossipsub has dropped it and the report is void. Long enough for a
/// validation queued behind a catch-up's signature checks.
const MESSAGE_CACHE_HEARTBEATS: usize = 20;
/// Shortest time between two log lines about one kind of peer misbehaviour.
const LOG_INTERVAL: Duration = Duration::from_secs(10);
/// How long an idle connection stays open. request-response and ping do not keep
/// connections alive, so without this, peers would drop between sync rounds.
const IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(300);
/// How long one sync request may take end to end.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a penalised peer stays blocked: no connection to or from it is accepted.
const PENALTY_DURATION: Duration = Duration::from_secs(600);

/// Errors of the network layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Building the transport or a behaviour failed.
    #[error("network setup failed: {0}")]
    Setup(String),
    /// The swarm task has stopped.
    #[error("the network task has stopped")]
    Stopped,
    /// A request to a peer failed (timeout, refused stream, connection closed, bad bytes).
    #[error("request to {peer} failed: {reason}")]
    RequestFailed {
        /// The peer asked.
        peer: PeerId,
        /// What went wrong.
        reason: String,
    },
    /// Publishing an announcement failed (for instance, no peer subscribed yet).
    #[error("publish failed: {0}")]
    Publish(String),
}

/// Settings of the network layer.
#[derive(Debug, Clone)]
pub struct Config {
    /// Addresses to listen on (e.g. `/ip4/127.0.0.1/tcp/7001`, `/ip4/127.0.0.1/udp/7001/quic-v1`).
    pub listen: Vec<Multiaddr>,
    /// Peers to dial at start and to keep in the DHT.
    pub bootstrap: Vec<Multiaddr>,
    /// Whether to discover peers with mDNS on the local network.
    pub mdns: bool,
    /// Name of the consortium: the gossip topic and DHT are private to it.
    pub network_name: String,
    /// The node's libp2p identity (derived from the organisation's key file seed).
    pub keypair: identity::Keypair,
    /// Peer ids of the roster's members at start-up: the gate admits only them from the first
    /// connection on; later roster changes arrive through [`Handle::set_members`].
    pub members: HashSet<PeerId>,
}

/// What the swarm task reports to the node.
#[derive(Debug)]
pub enum Event {
    /// A peer asks something; answer through `respond` (dropping it refuses).
    InboundRequest {
        /// Who asks.
        peer: PeerId,
        /// The question.
        request: Request,
        /// Where the answer goes.
        respond: oneshot::Sender<Response>,
    },
    /// A gossip message arrived; the node must validate it and report the verdict with
    /// [`Handle::report_validation`] before it is forwarded.
    Announcement {
        /// The peer that forwarded it to us.
        propagation_source: PeerId,
        /// Gossipsub's id for it (content-derived).
        message_id: gossipsub::MessageId,
        /// The decoded announcement (malformed bytes never get here: the swarm task rejects
        /// them and penalises the forwarder).
        announcement: Announcement,
    },
    /// A connection to a peer opened (a good moment to compare heads).
    PeerConnected(PeerId),
}

/// What a handle asks the swarm task to do.
#[derive(Debug)]
enum Command {
    Request {
        peer: PeerId,
        request: Request,
        reply: oneshot::Sender<Result<Response, Error>>,
    },
    Publish {
        announcement: Announcement,
        reply: oneshot::Sender<Result<(), Error>>,
    },
    ReportValidation {
        message_id: gossipsub::MessageId,
        propagation_source: PeerId,
        validation: Validation,
    },
    SetMembers {
        members: HashSet<PeerId>,
    },
    ConnectedPeers {
        reply: oneshot::Sender<Vec<PeerId>>,
    },
    Dial {
        address: Multiaddr,
    },
    Penalise {
        peer: PeerId,
        reason: &'static str,
    },
}

/// The node's verdict on an announcement, as the swarm task acts on it. Every verdict but
/// `Accept` is counted in the rejected-messages metrics with its reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validation {
    /// Valid and new: forward it.
    Accept,
    /// Not forwarded, nobody blamed (a feed we do not replicate, an announcement we already
    /// hold, a failure of our own).
    Ignore {
        /// Why, for the metrics (`replayed`, `local_failure`, ...).
        reason: &'static str,
    },
    /// Invalid in a way an honest peer may still forward (it depends on the roster, which
    /// peers learn at different times): gossipsub's score of the forwarder drops, and it is
    /// banned only when the score falls below the graylist threshold.
    Reject {
        /// Why, for the metrics (`not_member`, ...).
        reason: &'static str,
    },
    /// Invalid from its bytes alone (a forged signature, a malformed note): honest peers
    /// validate before forwarding and never pass it on, so the forwarder is banned at once.
    RejectAndBan {
        /// Why, for the metrics (`bad_signature`, `malformed`, ...).
        reason: &'static str,
    },
}

/// A cloneable handle on the swarm task.
#[derive(Debug, Clone)]
pub struct Handle {
    /// The swarm task's inbox.
    commands: mpsc::Sender<Command>,
    /// This node's peer id.
    local_peer_id: PeerId,
    /// The addresses the swarm listens on, updated by the swarm task.
    listen_addresses: tokio::sync::watch::Receiver<Vec<Multiaddr>>,
}

impl Handle {
    /// This node's peer id.
    pub fn local_peer_id(&self) -> PeerId {
        self.local_peer_id
    }

    /// Sends `request` to `peer` and waits for its answer (bounded by the request timeout).
    pub async fn request(&self, peer: PeerId, request: Request) -> Result<Response, Error> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Request { peer, request, reply }).await?;
        answer.await.map_err(|_| Error::Stopped)?
    }

    /// Gossips an announcement to the consortium topic.
    pub async fn publish(&self, announcement: Announcement) -> Result<(), Error> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Publish { announcement, reply }).await?;
        answer.await.map_err(|_| Error::Stopped)?
    }

    /// Reports the node's verdict on a received announcement (forward it, drop it, penalise
    /// its forwarder).
    pub async fn report_validation(
        &self,
        message_id: gossipsub::MessageId,
        propagation_source: PeerId,
        validation: Validation,
    ) -> Result<(), Error> {
        self.send(Command::ReportValidation { message_id, propagation_source, validation }).await
    }

    /// Installs the peer ids of the roster's members: only they may hold a connection from
    /// now on, and connected peers outside the set are disconnected. Until the first call
    /// (made by the sync service as it starts) every peer is let in.
    pub async fn set_members(&self, members: HashSet<PeerId>) -> Result<(), Error> {
        self.send(Command::SetMembers { members }).await
    }

    /// Peers we are connected to now.
    pub async fn connected_peers(&self) -> Result<Vec<PeerId>, Error> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::ConnectedPeers { reply }).await?;
        answer.await.map_err(|_| Error::Stopped)
    }

    /// Waits until the swarm listens on at least one address, and returns them all.
    pub async fn wait_for_listen_addresses(&self) -> Result<Vec<Multiaddr>, Error> {
        let mut receiver = self.listen_addresses.clone();
        let addresses = receiver
            .wait_for(|addresses| !addresses.is_empty())
            .await
            .map_err(|_| Error::Stopped)?;
        Ok(addresses.clone())
    }

    /// Penalises a peer that sent us invalid data, or whose organisation provably lied
    /// (`reason` says which, for the log): it is disconnected, forgotten by the DHT, and no
    /// connection to or from it is accepted for a while.
    pub async fn penalise(&self, peer: PeerId, reason: &'static str) -> Result<(), Error> {
        self.send(Command::Penalise { peer, reason }).await
    }

    /// Dials an address (e.g. a bootstrap peer learnt later).
    pub async fn dial(&self, address: Multiaddr) -> Result<(), Error> {
        self.send(Command::Dial { address }).await
    }

    async fn send(&self, command: Command) -> Result<(), Error> {
        self.commands.send(command).await.map_err(|_| Error::Stopped)
    }
}

/// The composed libp2p behaviour. The gates come first: a connection they deny is never
/// offered to the others.
#[derive(NetworkBehaviour)]
struct Behaviour {
    /// Admits only the roster's members.
    members: membership::Behaviour,
    /// Caps connections so a flood of dials cannot exhaust the node.
    limits: connection_limits::Behaviour,
    /// Penalised peers: their connections are closed and refused, in and out.
    blocked: allow_block_list::Behaviour<allow_block_list::BlockedPeers>,
    /// Exchanges listen addresses and protocols.
    identify: identify::Behaviour,
    /// Detects dead connections.
    ping: ping::Behaviour,
    /// Carries small announcements (checkpoints, fork proofs).
    gossipsub: gossipsub::Behaviour,
    /// Anti-entropy: heads and entry ranges.
    sync: request_response::Behaviour<protocol::Codec>,
    /// Private DHT for peer routing beyond the bootstrap list; members' addresses only, and
    /// no records (Lotline stores none in it).
    kademlia: kad::Behaviour<kad::store::MemoryStore>,
    /// LAN discovery (off in tests and dev clusters on one machine unless asked).
    mdns: Toggle<mdns::tokio::Behaviour>,
}

/// The gossip topic of a consortium.
pub fn announcement_topic(network_name: &str) -> gossipsub::IdentTopic {
    gossipsub::IdentTopic::new(format!("lotline/{network_name}/announce/1"))
}

/// Content-derived gossip message ids: the same announcement relayed by different peers is
/// one message (the default id, source + seqno, would not deduplicate it).
fn content_message_id(message: &gossipsub::Message) -> gossipsub::MessageId {
    content_id(&message.data)
}

/// The gossip message id of announcement bytes `data`.
fn content_id(data: &[u8]) -> gossipsub::MessageId {
    let digest = Sha256::digest(data);
    gossipsub::MessageId::from(hex::encode(&digest[..20]))
}

/// Builds the swarm, starts listening and dialling, and spawns the task that owns it.
pub fn spawn(config: Config) -> Result<(Handle, mpsc::Receiver<Event>), Error> {
    let setup = |error: &dyn std::fmt::Display| Error::Setup(error.to_string());
    let network_name = config.network_name.clone();
    let enable_mdns = config.mdns;
    let initial_members = config.members.clone();
    let mut swarm = libp2p::SwarmBuilder::with_existing_identity(config.keypair.clone())
        .with_tokio()
        .with_tcp(tcp::Config::default().nodelay(true), noise::Config::new, yamux::Config::default)
        .map_err(|error| setup(&error))?
        .with_quic()
        .with_behaviour(|key| {
            let local_peer_id = key.public().to_peer_id();
            let gossipsub_config = gossipsub::ConfigBuilder::default()
                .heartbeat_interval(HEARTBEAT_INTERVAL)
                .history_length(MESSAGE_CACHE_HEARTBEATS)
                .validation_mode(gossipsub::ValidationMode::Strict)
                .validate_messages()
                .message_id_fn(content_message_id)
                .max_transmit_size(protocol::MAX_ANNOUNCEMENT_BYTES * 2)
                .build()
                .map_err(|error| error.to_string())?;
            let mut gossipsub = gossipsub::Behaviour::new(
                gossipsub::MessageAuthenticity::Signed(key.clone()),
                gossipsub_config,
            )?;
            gossipsub.with_peer_score(
                scoring::params(announcement_topic(&network_name).hash()),
                scoring::thresholds(),
            )?;
            let sync = request_response::Behaviour::with_codec(
                protocol::Codec,
                [(protocol::SYNC_PROTOCOL, request_response::ProtocolSupport::Full)],
                request_response::Config::default()
                    .with_request_timeout(REQUEST_TIMEOUT)
                    .with_max_concurrent_streams(64),
            );
            let mut kademlia_config = kad::Config::new(protocol::KAD_PROTOCOL);
            // Peers enter the routing table only through `add_address`, which the swarm task
            // calls for members alone; records peers put are handed to the swarm task instead
            // of stored, and it stores none.
            kademlia_config
                .set_kbucket_inserts(kad::BucketInserts::Manual)
                .set_record_filtering(kad::StoreInserts::FilterBoth);
            let mut kademlia = kad::Behaviour::with_config(
                local_peer_id,
                kad::store::MemoryStore::new(local_peer_id),
                kademlia_config,
            );
            // Every Lotline node is infrastructure: answer DHT queries even before an
            // external address is confirmed (on loopback it never is).
            kademlia.set_mode(Some(kad::Mode::Server));
            let mdns = if enable_mdns {
                Some(mdns::tokio::Behaviour::new(mdns::Config::default(), local_peer_id)?)
            } else {
                None
            };
            Ok(Behaviour {
                members: membership::Behaviour::admitting(initial_members),
                limits: connection_limits::Behaviour::new(
                    connection_limits::ConnectionLimits::default()
                        .with_max_pending_incoming(Some(MAX_PENDING_INCOMING))
                        .with_max_pending_outgoing(Some(MAX_PENDING_OUTGOING))
                        .with_max_established_incoming(Some(MAX_ESTABLISHED_INCOMING))
                        .with_max_established(Some(MAX_ESTABLISHED_CONNECTIONS))
                        .with_max_established_per_peer(Some(MAX_CONNECTIONS_PER_PEER)),
                ),
                blocked: allow_block_list::Behaviour::default(),
                identify: identify::Behaviour::new(identify::Config::new(
                    "/lotline/id/1".to_owned(),
                    key.public(),
                )),
                ping: ping::Behaviour::default(),
                gossipsub,
                sync,
                kademlia,
                mdns: Toggle::from(mdns),
            })
        })
        .map_err(|error| setup(&error))?
        .with_swarm_config(|swarm_config| {
            swarm_config.with_idle_connection_timeout(IDLE_CONNECTION_TIMEOUT)
        })
        .build();

    let topic = announcement_topic(&network_name);
    swarm.behaviour_mut().gossipsub.subscribe(&topic).map_err(|error| setup(&error))?;
    for address in &config.listen {
        swarm.listen_on(address.clone()).map_err(|error| setup(&error))?;
    }
    for address in &config.bootstrap {
        if let Some(peer_id) = peer_id_of(address) {
            swarm.behaviour_mut().kademlia.add_address(&peer_id, address.clone());
        }
        if let Err(error) = swarm.dial(address.clone()) {
            tracing::warn!(%address, %error, "cannot dial bootstrap peer");
        }
    }

    let local_peer_id = *swarm.local_peer_id();
    let (command_sender, command_receiver) = mpsc::channel(COMMAND_CHANNEL_CAPACITY);
    let (event_sender, event_receiver) = mpsc::channel(EVENT_CHANNEL_CAPACITY);
    let (listen_sender, listen_receiver) = tokio::sync::watch::channel(Vec::new());
    let event_loop = event_loop::EventLoop::new(
        swarm,
        topic,
        command_receiver,
        event_sender,
        config.bootstrap.clone(),
        listen_sender,
    );
    tokio::spawn(event_loop.run());
    Ok((
        Handle { commands: command_sender, local_peer_id, listen_addresses: listen_receiver },
        event_receiver,
    ))
}

/// The peer id at the end of a `/p2p/<id>` multiaddr, if any.
pub fn peer_id_of(address: &Multiaddr) -> Option<PeerId> {
    address.iter().find_map(|protocol| match protocol {
        libp2p::multiaddr::Protocol::P2p(peer_id) => Some(peer_id),
        _ => None,
    })
}

/// The peer id of the node an organisation runs: its libp2p identity is its organisation key
/// (see [`keypair_from_seed`]), so the id follows from the public key. `None` for bytes that
/// are not an Ed25519 key.
pub fn peer_id_of_organisation(organisation: &[u8; 32]) -> Option<PeerId> {
    let key = identity::ed25519::PublicKey::try_from_bytes(organisation).ok()?;
    Some(identity::PublicKey::from(key).to_peer_id())
}

/// The peer ids of the nodes the organisations with these keys run (keys that are not Ed25519
/// keys have none).
pub fn peer_ids_of_organisations<'key>(
    organisations: impl IntoIterator<Item = &'key [u8; 32]>,
) -> HashSet<PeerId> {
    organisations.into_iter().filter_map(peer_id_of_organisation).collect()
}

/// Derives the libp2p identity from the organisation's 32-byte key seed, so a node's peer id
/// is stable across restarts without a second key file.
pub fn keypair_from_seed(seed: [u8; 32]) -> Result<identity::Keypair, Error> {
    let mut seed = seed;
    identity::Keypair::ed25519_from_bytes(&mut seed)
        .map_err(|error| Error::Setup(error.to_string()))
}
