//! The roster gate: only the peer ids of the roster's members may hold a connection.
//!
//! Owns: the set of member peer ids the swarm admits and the connection decisions made from it.
//! A connection with any other peer is denied as soon as its peer id is known: before dialling
//! when we dial a known id, and right after the security handshake for an inbound connection,
//! so a stranger never opens a protocol stream and never takes one of the established slots
//! that [`super::MAX_ESTABLISHED_CONNECTIONS`] counts.
//! Does not own: which organisations are members (the roster in the ledger; the sync service
//! pushes the set here with [`super::Handle::set_members`] whenever the roster changes), nor
//! closing connections of a peer that leaves the roster (the swarm task does that when it
//! installs a new set).

use std::collections::HashSet;
use std::convert::Infallible;
use std::task::{Context, Poll};

use libp2p::PeerId;
use libp2p::core::{Endpoint, Multiaddr, transport::PortUse};
use libp2p::swarm::{
    ConnectionDenied, ConnectionId, FromSwarm, NetworkBehaviour, THandler, THandlerInEvent,
    THandlerOutEvent, ToSwarm, dummy,
};

/// Why a connection was denied: its peer id is no roster member's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("peer {peer} is not a member of the roster")]
pub struct NotAMember {
    /// The refused peer.
    pub peer: PeerId,
}

/// The gate.
#[derive(Debug, Default)]
pub(super) struct Behaviour {
    /// Peer ids of the roster's members: the node passes the roster it opened with before the
    /// swarm listens, so no stranger is admitted even for a moment.
    members: HashSet<PeerId>,
}

impl Behaviour {
    /// A gate that admits exactly `members` until the next [`Behaviour::set_members`].
    pub(super) fn admitting(members: HashSet<PeerId>) -> Self {
        Self { members }
    }

    /// Installs the roster's member peer ids; returns the peers of `connected` it does not
    /// admit (their connections must close).
    pub(super) fn set_members<'peer>(
        &mut self,
        members: HashSet<PeerId>,
        connected: impl IntoIterator<Item = &'peer PeerId>,
    ) -> Vec<PeerId> {
        self.members = members;
        connected.into_iter().filter(|peer| !self.admits(peer)).copied().collect()
    }

    /// Whether a connection with `peer` may stay.
    pub(super) fn admits(&self, peer: &PeerId) -> bool {
        self.members.contains(peer)
    }

    fn check(&self, peer: PeerId) -> Result<(), ConnectionDenied> {
        if self.admits(&peer) { Ok(()) } else { Err(ConnectionDenied::new(NotAMember { peer })) }
    }
}

impl NetworkBehaviour for Behaviour {
    type ConnectionHandler = dummy::ConnectionHandler;
    type ToSwarm = Infallible;

    fn handle_established_inbound_connection(
        &mut self,
        _connection_id: ConnectionId,
        peer: PeerId,
        _local_addr: &Multiaddr,
        _remote_addr: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.check(peer)?;
        Ok(dummy::ConnectionHandler)
    }

    fn handle_pending_outbound_connection(
        &mut self,
        _connection_id: ConnectionId,
        maybe_peer: Option<PeerId>,
        _addresses: &[Multiaddr],
        _effective_role: Endpoint,
    ) -> Result<Vec<Multiaddr>, ConnectionDenied> {
        if let Some(peer) = maybe_peer {
            self.check(peer)?;
        }
        Ok(Vec::new())
    }

    fn handle_established_outbound_connection(
        &mut self,
        _connection_id: ConnectionId,
        peer: PeerId,
        _addr: &Multiaddr,
        _role_override: Endpoint,
        _port_use: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.check(peer)?;
        Ok(dummy::ConnectionHandler)
    }

    fn on_swarm_event(&mut self, _event: FromSwarm) {}

    fn on_connection_handler_event(
        &mut self,
        _peer_id: PeerId,
        _connection_id: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        match event {}
    }

    fn poll(
        &mut self,
        _cx: &mut Context<'_>,
    ) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address() -> Multiaddr {
        "/ip4/127.0.0.1/tcp/1".parse().unwrap()
    }

    #[test]
    fn only_members_pass_once_the_roster_is_installed() {
        let member = PeerId::random();
        let stranger = PeerId::random();
        let mut gate = Behaviour::default();
        assert!(!gate.admits(&stranger), "closed before any roster is installed");
        assert!(!gate.admits(&member));

        let to_close = gate.set_members(HashSet::from([member]), [&member, &stranger]);
        assert_eq!(to_close, vec![stranger], "a connected stranger is closed when the set arrives");
        assert!(!gate.admits(&stranger));

        let connection = ConnectionId::new_unchecked(1);
        assert!(
            gate.handle_established_inbound_connection(connection, member, &address(), &address())
                .is_ok()
        );
        let denied = gate
            .handle_established_inbound_connection(connection, stranger, &address(), &address())
            .err()
            .expect("a stranger is denied");
        assert_eq!(denied.downcast_ref::<NotAMember>(), Some(&NotAMember { peer: stranger }));
        let dial = gate.handle_pending_outbound_connection(
            connection,
            Some(stranger),
            &[],
            Endpoint::Dialer,
        );
        assert!(dial.is_err(), "we never dial a stranger's id");
        assert!(
            gate.handle_pending_outbound_connection(connection, None, &[], Endpoint::Dialer)
                .is_ok()
        );
        let outbound = gate.handle_established_outbound_connection(
            connection,
            stranger,
            &address(),
            Endpoint::Dialer,
            PortUse::Reuse,
        );
        assert!(outbound.is_err(), "an address dialled without an id that turns out a stranger");
    }

    #[test]
    fn a_member_removed_from_the_roster_is_closed_and_refused() {
        let (first, second) = (PeerId::random(), PeerId::random());
        let mut gate = Behaviour::default();
        gate.set_members(HashSet::from([first, second]), []);
        let to_close = gate.set_members(HashSet::from([first]), [&first, &second]);
        assert_eq!(to_close, vec![second]);
        assert!(!gate.admits(&second));
        assert!(gate.admits(&first));
    }
}
