//! The task that owns the `Swarm`: a closed `select!` that only delegates to `handle_*`.
//!
//! Owns: correlating outbound requests with their reply channels, holding inbound response
//! channels until the node answers, redialling bootstrap peers, turning gossip bytes into
//! typed announcements, the budget of announcements being judged (at most
//! [`super::MAX_VALIDATIONS_IN_FLIGHT`], each answered while gossipsub still holds it),
//! installing the roster's peer ids (strangers are disconnected, and neither the DHT nor mDNS
//! hands us one), and penalties: a peer whose request, response or announcement breaks the
//! framing is counted, disconnected and blocked here, and so is one the node reports (with
//! [`super::Handle::penalise`] or a [`Validation::RejectAndBan`] verdict) and one whose gossip
//! score falls below the graylist threshold; blocks are lifted after
//! [`super::PENALTY_DURATION`]. Every drop, refusal and penalty is counted in the metrics by
//! reason and logged at most once per [`super::LOG_INTERVAL`] and reason.
//! Does not own: any verification of content or any storage (that would block the swarm).

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use libp2p::{
    Multiaddr, PeerId, allow_block_list, connection_limits, gossipsub, identify, kad, mdns,
    request_response,
    swarm::{ListenError, Swarm, SwarmEvent},
};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::membership::NotAMember;
use super::protocol::ReceivedRequest;
use super::throttle::LogThrottle;
use super::{
    Announcement, Behaviour, BehaviourEvent, Command, Error, Event, Rejection, Response, Validation,
};

/// How often we redial bootstrap peers we are not connected to.
const REDIAL_INTERVAL: Duration = Duration::from_secs(5);
/// How long after its arrival an announcement's verdict may still be reported: a heartbeat
/// short of the time gossipsub keeps it in its cache, since the cache drops it on a heartbeat.
/// A later verdict is not reported (gossipsub would only log that it no longer has the
/// message); the message is then neither forwarded nor held against its sender.
const VALIDATION_DEADLINE: Duration = Duration::from_millis(
    super::HEARTBEAT_INTERVAL.as_millis() as u64 * (super::MESSAGE_CACHE_HEARTBEATS as u64 - 1),
);
/// Ids of announcements received or published lately, remembered so that we never ask
/// gossipsub to publish one it has seen (it refuses, with a warning per attempt).
const RECENT_MESSAGE_IDS: usize = 1024;

type PendingResponse = std::pin::Pin<
    Box<
        dyn std::future::Future<
                Output = (request_response::ResponseChannel<Response>, Option<Response>),
            > + Send,
    >,
>;

/// An announcement handed to the node and not judged yet.
struct PendingValidation {
    /// The peer that forwarded it (the one a verdict scores or bans).
    propagation_source: PeerId,
    /// When it arrived (see [`VALIDATION_DEADLINE`]).
    received: Instant,
}

/// A bounded first-in first-out set of gossip message ids.
#[derive(Default)]
struct RecentIds {
    /// Ids in arrival order (the oldest is forgotten first).
    order: VecDeque<gossipsub::MessageId>,
    /// The same ids, for lookups.
    ids: HashSet<gossipsub::MessageId>,
}

impl RecentIds {
    fn insert(&mut self, id: gossipsub::MessageId) {
        if !self.ids.insert(id.clone()) {
            return;
        }
        self.order.push_back(id);
        if self.order.len() > RECENT_MESSAGE_IDS
            && let Some(oldest) = self.order.pop_front()
        {
            self.ids.remove(&oldest);
        }
    }

    fn contains(&self, id: &gossipsub::MessageId) -> bool {
        self.ids.contains(id)
    }
}

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
    /// Announcements the node is judging, at most [`super::MAX_VALIDATIONS_IN_FLIGHT`].
    validations: HashMap<gossipsub::MessageId, PendingValidation>,
    /// Announcements received or published lately.
    recent_messages: RecentIds,
    /// Peers to keep dialling.
    bootstrap: Vec<Multiaddr>,
    /// Publishes our listen addresses to handles.
    listen_addresses: tokio::sync::watch::Sender<Vec<Multiaddr>>,
    /// Blocked peers and when their block is lifted (checked on the redial tick).
    penalties: HashMap<PeerId, Instant>,
    /// One log throttle per (what, reason) we log about peers, so a flood of one kind never
    /// hides the first line of another.
    log_throttles: HashMap<(&'static str, &'static str), LogThrottle>,
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
            validations: HashMap::new(),
            recent_messages: RecentIds::default(),
            bootstrap,
            listen_addresses,
            penalties: HashMap::new(),
            log_throttles: HashMap::new(),
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
        self.expire_validations();
        for address in self.bootstrap.clone() {
            let Some(peer_id) = super::peer_id_of(&address) else { continue };
            if !self.swarm.is_connected(&peer_id)
                && !self.penalties.contains_key(&peer_id)
                && self.swarm.behaviour().members.admits(&peer_id)
            {
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
                let _ = reply.send(self.publish(&announcement));
            }
            Command::ReportValidation { message_id, propagation_source, validation } => {
                self.report_validation(message_id, propagation_source, validation);
            }
            Command::SetMembers { members } => self.set_members(members),
            Command::ConnectedPeers { reply } => {
                let _ = reply.send(self.swarm.connected_peers().copied().collect());
            }
            Command::Dial { address } => {
                if let Err(error) = self.swarm.dial(address.clone()) {
                    tracing::warn!(%address, %error, "dial failed");
                }
            }
            Command::Penalise { peer, reason } => self.penalise(peer, reason),
        }
    }

    /// Publishes an announcement unless it is already on the network: gossipsub refuses a
    /// message it has seen (and logs a warning each time), while for us the announcement has
    /// simply been made.
    fn publish(&mut self, announcement: &Announcement) -> Result<(), Error> {
        let data = announcement.encode();
        let message_id = super::content_id(&data);
        if self.recent_messages.contains(&message_id) {
            return Ok(());
        }
        match self.swarm.behaviour_mut().gossipsub.publish(self.topic.clone(), data) {
            Ok(_) | Err(gossipsub::PublishError::Duplicate) => {
                self.recent_messages.insert(message_id);
                Ok(())
            }
            Err(error) => Err(Error::Publish(error.to_string())),
        }
    }

    /// Acts on the node's verdict on an announcement: forwards it, drops it, and scores or
    /// bans its forwarder; counts every drop.
    fn report_validation(
        &mut self,
        message_id: gossipsub::MessageId,
        propagation_source: PeerId,
        validation: Validation,
    ) {
        let Some(pending) = self.validations.remove(&message_id) else {
            // Expired: gossipsub has dropped it already.
            self.count_drop("announcement", "late", &propagation_source);
            return;
        };
        if pending.received.elapsed() > VALIDATION_DEADLINE {
            self.count_drop("announcement", "late", &propagation_source);
            return;
        }
        let peer = pending.propagation_source;
        let acceptance = match validation {
            Validation::Accept => gossipsub::MessageAcceptance::Accept,
            Validation::Ignore { .. } => gossipsub::MessageAcceptance::Ignore,
            Validation::Reject { .. } | Validation::RejectAndBan { .. } => {
                gossipsub::MessageAcceptance::Reject
            }
        };
        let gossipsub = &mut self.swarm.behaviour_mut().gossipsub;
        gossipsub.report_message_validation_result(&message_id, &peer, acceptance);
        let score = gossipsub.peer_score(&peer);
        match validation {
            Validation::Accept => {}
            Validation::Ignore { reason } => self.count_drop("announcement", reason, &peer),
            Validation::Reject { reason } => {
                self.count_drop("announcement", reason, &peer);
                if score.is_some_and(super::scoring::is_banned) {
                    self.penalise(peer, "gossip_score");
                }
            }
            Validation::RejectAndBan { reason } => {
                self.count_drop("announcement", reason, &peer);
                self.penalise(peer, reason);
            }
        }
    }

    /// Installs the roster's peer ids: disconnects connected strangers and forgets them in the
    /// DHT.
    fn set_members(&mut self, members: std::collections::HashSet<PeerId>) {
        let count = members.len();
        let connected: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
        let behaviour = self.swarm.behaviour_mut();
        let strangers = behaviour.members.set_members(members, &connected);
        let routed: Vec<PeerId> = behaviour
            .kademlia
            .kbuckets()
            .flat_map(|bucket| {
                bucket.iter().map(|entry| *entry.node.key.preimage()).collect::<Vec<_>>()
            })
            .collect();
        for peer in routed {
            if !self.swarm.behaviour().members.admits(&peer) {
                self.swarm.behaviour_mut().kademlia.remove_peer(&peer);
            }
        }
        for peer in strangers {
            self.count_drop("connection", "not_member", &peer);
            let _ = self.swarm.disconnect_peer_id(peer);
        }
        tracing::debug!(members = count, "roster installed");
    }

    /// Counts one dropped peer message or refused connection (`message` says which kind,
    /// `reason` why) and logs it, rate-limited.
    fn count_drop(&mut self, message: &'static str, reason: &'static str, peer: &PeerId) {
        crate::metrics::peer_message_rejected_because(message, reason);
        if let Some(held_back) = self.throttle(message, reason) {
            tracing::info!(%peer, message, reason, held_back, "peer message dropped");
        }
    }

    /// `Some(lines held back)` when a line about (`what`, `reason`) may be logged now.
    fn throttle(&mut self, what: &'static str, reason: &'static str) -> Option<u64> {
        self.log_throttles
            .entry((what, reason))
            .or_insert_with(|| LogThrottle::new(super::LOG_INTERVAL))
            .admit()
    }

    /// Counts a peer's message that broke the framing (`message` says which kind) and
    /// penalises the peer.
    fn reject(&mut self, peer: PeerId, message: &'static str, rejection: &Rejection) {
        crate::metrics::peer_message_rejected_because(message, rejection.class());
        if let Some(held_back) = self.throttle(message, rejection.class()) {
            tracing::warn!(%peer, message, %rejection, held_back, "peer message rejected");
        }
        self.penalise(peer, rejection.class());
    }

    /// Disconnects `peer`, forgets it in the DHT so nobody is pointed at it, and refuses every
    /// connection to or from it until the penalty expires.
    fn penalise(&mut self, peer: PeerId, reason: &'static str) {
        let behaviour = self.swarm.behaviour_mut();
        let newly_blocked = behaviour.blocked.block_peer(peer);
        behaviour.kademlia.remove_peer(&peer);
        self.penalties.insert(peer, Instant::now() + super::PENALTY_DURATION);
        if newly_blocked {
            crate::metrics::peer_penalised();
            if let Some(held_back) = self.throttle("penalty", reason) {
                let until = super::PENALTY_DURATION;
                tracing::warn!(%peer, reason, ?until, held_back, "peer penalised: blocked");
            }
        }
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

    /// Forgets validations past their deadline (gossipsub has dropped those messages), so a
    /// verdict that never comes does not hold a slot.
    fn expire_validations(&mut self) {
        self.validations.retain(|_, pending| pending.received.elapsed() <= VALIDATION_DEADLINE);
    }

    fn handle_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::Behaviour(BehaviourEvent::Sync(event)) => self.handle_sync_event(event),
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(event)) => {
                self.handle_gossip_event(event)
            }
            SwarmEvent::Behaviour(BehaviourEvent::Kademlia(event)) => {
                self.handle_kademlia_event(event)
            }
            SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received {
                peer_id,
                info,
                ..
            })) if self.swarm.behaviour().members.admits(&peer_id) => {
                for address in info.listen_addrs {
                    self.swarm.behaviour_mut().kademlia.add_address(&peer_id, address);
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Mdns(mdns::Event::Discovered(peers))) => {
                for (peer_id, address) in peers {
                    if !self.swarm.behaviour().members.admits(&peer_id) {
                        continue;
                    }
                    self.swarm.behaviour_mut().kademlia.add_address(&peer_id, address.clone());
                    let _ = self.swarm.dial(address);
                }
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
            SwarmEvent::IncomingConnectionError {
                error: ListenError::Denied { cause },
                peer_id,
                send_back_addr,
                ..
            } => {
                let reason = if cause.downcast_ref::<NotAMember>().is_some() {
                    "not_member"
                } else if cause.downcast_ref::<allow_block_list::Blocked>().is_some() {
                    "blocked"
                } else if cause.downcast_ref::<connection_limits::Exceeded>().is_some() {
                    "limit"
                } else {
                    "denied"
                };
                crate::metrics::peer_message_rejected_because("connection", reason);
                if let Some(held_back) = self.throttle("connection", reason) {
                    let peer = peer_id.map(|peer| peer.to_string()).unwrap_or_default();
                    tracing::info!(%peer, %send_back_addr, reason, held_back, "connection refused");
                }
            }
            SwarmEvent::NewListenAddr { address, .. } => {
                tracing::info!(%address, "listening");
                self.listen_addresses.send_modify(|addresses| addresses.push(address));
            }
            _ => {}
        }
    }

    /// The DHT hands us members only: peers enter the routing table through `add_address`
    /// alone (`BucketInserts::Manual`), which is called here for members; records peers put
    /// are dropped, since Lotline stores none.
    fn handle_kademlia_event(&mut self, event: kad::Event) {
        match event {
            kad::Event::RoutablePeer { peer, address }
            | kad::Event::PendingRoutablePeer { peer, address } => {
                if self.swarm.behaviour().members.admits(&peer) {
                    self.swarm.behaviour_mut().kademlia.add_address(&peer, address);
                }
            }
            kad::Event::RoutingUpdated { peer, .. } if !self.swarm.is_connected(&peer) => {
                let _ = self.swarm.dial(peer);
            }
            kad::Event::InboundRequest {
                request: kad::InboundRequest::PutRecord { source, .. },
            } => self.count_drop("dht_record", "unused", &source),
            kad::Event::InboundRequest { request: kad::InboundRequest::AddProvider { .. } } => {
                crate::metrics::peer_message_rejected_because("dht_record", "unused");
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
                    if let Err(error) = forwarded {
                        // The node is saturated (refuse rather than queue without bound) or
                        // stopping.
                        let refusal = Response::Refused("busy".to_owned());
                        let _ = self.swarm.behaviour_mut().sync.send_response(channel, refusal);
                        if matches!(error, mpsc::error::TrySendError::Full(_)) {
                            self.count_drop("request", "busy", &peer);
                        }
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
        self.recent_messages.insert(message_id.clone());
        let announcement = match Announcement::decode(&message.data) {
            Ok(announcement) => announcement,
            Err(rejection) => {
                self.swarm.behaviour_mut().gossipsub.report_message_validation_result(
                    &message_id,
                    &propagation_source,
                    gossipsub::MessageAcceptance::Reject,
                );
                // Honest peers validate before forwarding (the topic runs with
                // `validate_messages`), so malformed bytes come from a peer that skipped it.
                self.reject(propagation_source, "announcement", &rejection);
                return;
            }
        };
        if self.validations.len() >= super::MAX_VALIDATIONS_IN_FLIGHT {
            self.expire_validations();
        }
        if self.validations.len() >= super::MAX_VALIDATIONS_IN_FLIGHT {
            self.ignore_busy(&message_id, propagation_source);
            return;
        }
        let event = Event::Announcement {
            propagation_source,
            message_id: message_id.clone(),
            announcement,
        };
        match self.events.try_send(event) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                // The node's inbox is full: anti-entropy catches up on whatever this announced.
                self.ignore_busy(&message_id, propagation_source);
                return;
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                // The node is stopping.
                self.swarm.behaviour_mut().gossipsub.report_message_validation_result(
                    &message_id,
                    &propagation_source,
                    gossipsub::MessageAcceptance::Ignore,
                );
                return;
            }
        }
        let pending = PendingValidation { propagation_source, received: Instant::now() };
        self.validations.insert(message_id, pending);
    }

    /// Drops an announcement the node has no room to judge now: neither forwarded nor held
    /// against its sender.
    fn ignore_busy(&mut self, message_id: &gossipsub::MessageId, propagation_source: PeerId) {
        self.swarm.behaviour_mut().gossipsub.report_message_validation_result(
            message_id,
            &propagation_source,
            gossipsub::MessageAcceptance::Ignore,
        );
        self.count_drop("announcement", "busy", &propagation_source);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_ids_forget_the_oldest_beyond_their_bound() {
        let mut recent = RecentIds::default();
        let id = |number: usize| gossipsub::MessageId::from(number.to_string());
        for number in 0..=RECENT_MESSAGE_IDS {
            recent.insert(id(number));
        }
        recent.insert(id(RECENT_MESSAGE_IDS));
        assert!(!recent.contains(&id(0)), "the oldest is forgotten");
        assert!(recent.contains(&id(1)));
        assert!(recent.contains(&id(RECENT_MESSAGE_IDS)));
        assert_eq!(recent.order.len(), RECENT_MESSAGE_IDS);
        assert_eq!(recent.ids.len(), RECENT_MESSAGE_IDS);
    }

    #[test]
    fn a_verdict_is_due_before_gossipsub_forgets_the_message() {
        let cache_time =
            super::super::HEARTBEAT_INTERVAL * super::super::MESSAGE_CACHE_HEARTBEATS as u32;
        assert!(VALIDATION_DEADLINE < cache_time);
        assert!(VALIDATION_DEADLINE + super::super::HEARTBEAT_INTERVAL <= cache_time);
    }
}
