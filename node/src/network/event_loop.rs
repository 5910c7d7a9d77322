//! The task that owns the `Swarm`: a closed `select!` that only delegates to `handle_*`.
//!
//! Owns: correlating outbound requests with their reply channels, holding inbound response
//! channels until the node answers, redialling bootstrap peers, turning gossip bytes into
//! typed announcements, and penalties: a peer whose request, response or announcement breaks
//! the framing is counted, disconnected and blocked here, and so is one the node reports (with
//! [`super::Handle::penalise`]) for content the ledger refused; blocks are lifted after
//! [`super::PENALTY_DURATION`].
//! Does not own: any verification of content or any storage (that would block the swarm).

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use libp2p::{
    Multiaddr, PeerId, gossipsub, identify, kad, mdns, request_response,
    swarm::{Swarm, SwarmEvent},
};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::protocol::ReceivedRequest;
use super::{Announcement, Behaviour, BehaviourEvent, Command, Error, Event, Rejection, Response};

/// How often we redial bootstrap peers we are not connected to.
const REDIAL_INTERVAL: Duration = Duration::from_secs(5);

type PendingResponse = std::pin::Pin<
    Box<
        dyn std::future::Future<
                Output = (request_response::ResponseChannel<Response>, Option<Response>),
            > + Send,
    >,
>;

/// State of the swarm task.
pub(super) struct EventLoop {
    /// The swarm; owned here and nowhere else.
    swarm: Swarm<Behaviour>,
    /// The consortium's announcement topic.
    topic: gossipsub::IdentTopic,
    /// Commands from handles.
    commands: mpsc::Receiver<Command>,
    /// Events to the node.
    events: mpsc::Sender<Event>,
    /// Outbound requests awaiting their answer.
    pending_requests:
        HashMap<request_response::OutboundRequestId, oneshot::Sender<Result<Response, Error>>>,
    /// Inbound requests the node is answering.
    pending_responses: FuturesUnordered<PendingResponse>,
    /// Peers to keep dialling.
    bootstrap: Vec<Multiaddr>,
    /// Publishes our listen addresses to handles.
    listen_addresses: tokio::sync::watch::Sender<Vec<Multiaddr>>,
    /// Blocked peers and when their block is lifted (checked on the redial tick).
    penalties: HashMap<PeerId, Instant>,
}

impl EventLoop {
    pub(super) fn new(
        swarm: Swarm<Behaviour>,
        topic: gossipsub::IdentTopic,
        commands: mpsc::Receiver<Command>,
        events: mpsc::Sender<Event>,
        bootstrap: Vec<Multiaddr>,
        listen_addresses: tokio::sync::watch::Sender<Vec<Multiaddr>>,
    ) -> Self {
        Self {
            swarm,
            topic,
            commands,
            events,
            pending_requests: HashMap::new(),
            pending_responses: FuturesUnordered::new(),
            bootstrap,
            listen_addresses,
            penalties: HashMap::new(),
        }
    }

    /// Runs until every handle is dropped.
    pub(super) async fn run(mut self) {
        let mut redial = tokio::time::interval(REDIAL_INTERVAL);
        redial.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                event = self.swarm.select_next_some() => self.handle_swarm_event(event),
                command = self.commands.recv() => match command {
                    Some(command) => self.handle_command(command),
                    None => break,
                },
                Some((channel, response)) = self.pending_responses.next(),
                    if !self.pending_responses.is_empty() => self.handle_answer(channel, response),
                _ = redial.tick() => self.handle_redial(),
            }
        }
        tracing::debug!("network task stopped");
    }

    fn handle_answer(
        &mut self,
        channel: request_response::ResponseChannel<Response>,
        response: Option<Response>,
    ) {
        let response =
            response.unwrap_or_else(|| Response::Refused("the node could not answer".to_owned()));
        // The peer may have gone; that is not our problem.
        let _ = self.swarm.behaviour_mut().sync.send_response(channel, response);
    }

    fn handle_redial(&mut self) {
        self.lift_expired_penalties();
        for address in self.bootstrap.clone() {
            let Some(peer_id) = super::peer_id_of(&address) else { continue };
            if !self.swarm.is_connected(&peer_id) && !self.penalties.contains_key(&peer_id) {
                let _ = self.swarm.dial(address);
            }
        }
    }

    fn handle_command(&mut self, command: Command) {
        let _span = tracing::debug_span!("network_command").entered();
        match command {
            Command::Request { peer, request, reply } => {
                let request_id = self.swarm.behaviour_mut().sync.send_request(&peer, Ok(request));
                self.pending_requests.insert(request_id, reply);
            }
            Command::Publish { announcement, reply } => {
                let result = self
                    .swarm
                    .behaviour_mut()
                    .gossipsub
                    .publish(self.topic.clone(), announcement.encode())
                    .map(|_| ())
                    .map_err(|error| Error::Publish(error.to_string()));
                let _ = reply.send(result);
            }
            Command::ReportValidation { message_id, propagation_source, acceptance } => {
                self.swarm.behaviour_mut().gossipsub.report_message_validation_result(
                    &message_id,
                    &propagation_source,
                    acceptance,
                );
            }
            Command::ConnectedPeers { reply } => {
                let _ = reply.send(self.swarm.connected_peers().copied().collect());
            }
            Command::Dial { address } => {
                if let Err(error) = self.swarm.dial(address.clone()) {
                    tracing::warn!(%address, %error, "dial failed");
                }
            }
            Command::Penalise { peer } => self.penalise(peer),
        }
    }

    /// Counts a peer's message that broke the framing (`message` says which kind) and
    /// penalises the peer.
    fn reject(&mut self, peer: PeerId, message: &'static str, rejection: &Rejection) {
        tracing::warn!(%peer, message, %rejection, "peer message rejected");
        crate::metrics::peer_message_rejected_because(message, rejection.class());
        self.penalise(peer);
    }

    /// Disconnects `peer`, forgets it in the DHT so nobody is pointed at it, and refuses every
    /// connection to or from it until the penalty expires.
    fn penalise(&mut self, peer: PeerId) {
        let behaviour = self.swarm.behaviour_mut();
        if behaviour.blocked.block_peer(peer) {
            tracing::warn!(%peer, until = ?super::PENALTY_DURATION, "peer penalised: blocked");
            crate::metrics::peer_penalised();
        }
        behaviour.kademlia.remove_peer(&peer);
        self.penalties.insert(peer, Instant::now() + super::PENALTY_DURATION);
    }

    fn lift_expired_penalties(&mut self) {
        let now = Instant::now();
        let expired: Vec<PeerId> = self
            .penalties
            .iter()
            .filter(|(_, until)| **until <= now)
            .map(|(peer, _)| *peer)
            .collect();
        for peer in expired {
            self.penalties.remove(&peer);
            self.swarm.behaviour_mut().blocked.unblock_peer(peer);
            tracing::info!(%peer, "penalty lifted");
        }
    }

    fn handle_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::Behaviour(BehaviourEvent::Sync(event)) => self.handle_sync_event(event),
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(event)) => {
                self.handle_gossip_event(event)
            }
            SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received {
                peer_id,
                info,
                ..
            })) => {
                for address in info.listen_addrs {
                    self.swarm.behaviour_mut().kademlia.add_address(&peer_id, address);
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Mdns(mdns::Event::Discovered(peers))) => {
                for (peer_id, address) in peers {
                    self.swarm.behaviour_mut().kademlia.add_address(&peer_id, address.clone());
                    let _ = self.swarm.dial(address);
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Kademlia(kad::Event::RoutingUpdated {
                peer,
                ..
            })) if !self.swarm.is_connected(&peer) => {
                let _ = self.swarm.dial(peer);
            }
            SwarmEvent::ConnectionEstablished { peer_id, num_established, .. } => {
                tracing::debug!(%peer_id, "connected");
                if num_established.get() == 1 {
                    // Never wait on the node here: a flood of connections would stall the
                    // swarm. When the node is saturated, its next periodic round covers it.
                    if self.events.try_send(Event::PeerConnected(peer_id)).is_err() {
                        tracing::debug!(%peer_id, "node saturated: connection not announced");
                    }
                }
            }
            SwarmEvent::NewListenAddr { address, .. } => {
                tracing::info!(%address, "listening");
                self.listen_addresses.send_modify(|addresses| addresses.push(address));
            }
            _ => {}
        }
    }

    fn handle_sync_event(&mut self, event: request_response::Event<ReceivedRequest, Response>) {
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request { request: Err(rejection), .. } => {
                    // Dropping the channel sends no answer; the block closes the stream.
                    self.reject(peer, "request", &rejection);
                }
                request_response::Message::Request { request: Ok(request), channel, .. } => {
                    let (respond, answer) = oneshot::channel();
                    let forwarded =
                        self.events.try_send(Event::InboundRequest { peer, request, respond });
                    if forwarded.is_err() {
                        // The node is saturated: refuse rather than queue without bound.
                        let refusal = Response::Refused("busy".to_owned());
                        let _ = self.swarm.behaviour_mut().sync.send_response(channel, refusal);
                        return;
                    }
                    self.pending_responses
                        .push(Box::pin(async move { (channel, answer.await.ok()) }));
                }
                request_response::Message::Response { request_id, response } => {
                    if let Some(reply) = self.pending_requests.remove(&request_id) {
                        let _ = reply.send(Ok(response));
                    }
                }
            },
            request_response::Event::OutboundFailure { peer, request_id, error, .. } => {
                // A response that breaks the framing is the peer's doing; a truncated one is
                // not always (a closing connection cuts a long response short).
                if let request_response::OutboundFailure::Io(io_error) = &error
                    && let Some(rejection) = Rejection::of_io_error(io_error)
                    && *rejection != Rejection::Truncated
                {
                    let rejection = rejection.clone();
                    self.reject(peer, "response", &rejection);
                }
                if let Some(reply) = self.pending_requests.remove(&request_id) {
                    let _ =
                        reply.send(Err(Error::RequestFailed { peer, reason: error.to_string() }));
                }
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                tracing::debug!(%peer, %error, "inbound sync request failed");
            }
            request_response::Event::ResponseSent { .. } => {}
        }
    }

    fn handle_gossip_event(&mut self, event: gossipsub::Event) {
        let gossipsub::Event::Message { propagation_source, message_id, message } = event else {
            return;
        };
        match Announcement::decode(&message.data) {
            Ok(announcement) => {
                let event = Event::Announcement { propagation_source, message_id, announcement };
                if let Err(error) = self.events.try_send(event) {
                    // Saturated: ignore (neither forward nor penalise); anti-entropy catches up.
                    if let Event::Announcement { message_id, propagation_source, .. } =
                        error.into_inner()
                    {
                        self.swarm.behaviour_mut().gossipsub.report_message_validation_result(
                            &message_id,
                            &propagation_source,
                            gossipsub::MessageAcceptance::Ignore,
                        );
                    }
                }
            }
            Err(rejection) => {
                self.swarm.behaviour_mut().gossipsub.report_message_validation_result(
                    &message_id,
                    &propagation_source,
                    gossipsub::MessageAcceptance::Reject,
                );
                // Honest peers validate before forwarding (the topic runs with
                // `validate_messages`), so malformed bytes come from a peer that skipped it.
                self.reject(propagation_source, "announcement", &rejection);
            }
        }
    }
}
