//! Protocol tests of the swarm task against a real libp2p peer on loopback: the budget of
//! announcements awaiting a verdict, and the roster gate.
//!
//! Owns: checks that need a running swarm task but no ledger (the test plays the node's sync
//! service through the [`Handle`] and the event receiver). Does not own: what verdicts are
//! (the ledger's judgement, tested end to end in `tests/tests/hostile_peers.rs`).

use std::time::Duration;

use futures::StreamExt;
use libp2p::swarm::{Swarm, SwarmEvent};

use super::*;

/// How long a test waits for a condition before failing.
const DEADLINE: Duration = Duration::from_secs(30);
/// How often a condition nothing signals is checked again while waiting.
const POLL_INTERVAL: Duration = Duration::from_millis(10);

/// A node's network on loopback, with no bootstrap peers and no mDNS.
fn spawn_node() -> (Handle, mpsc::Receiver<Event>) {
    let config = Config {
        listen: vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()],
        bootstrap: Vec::new(),
        mdns: false,
        network_name: "protocol-test".to_owned(),
        keypair: identity::Keypair::generate_ed25519(),
        members: HashSet::new(),
    };
    spawn(config).unwrap()
}

/// A gossip-only peer.
fn gossip_peer(keypair: identity::Keypair) -> Swarm<gossipsub::Behaviour> {
    libp2p::SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(tcp::Config::default().nodelay(true), noise::Config::new, yamux::Config::default)
        .unwrap()
        .with_behaviour(|key| {
            let behaviour = gossipsub::Behaviour::new(
                gossipsub::MessageAuthenticity::Signed(key.clone()),
                gossipsub::Config::default(),
            )?;
            Ok(behaviour)
        })
        .unwrap()
        .with_swarm_config(|config| config.with_idle_connection_timeout(Duration::from_secs(3600)))
        .build()
}

/// Dials the node at its TCP address and drives `peer` until `done` says so.
async fn drive_until<T>(
    peer: &mut Swarm<gossipsub::Behaviour>,
    what: &str,
    mut done: impl FnMut(SwarmEvent<gossipsub::Event>) -> Option<T>,
) -> T {
    let give_up = tokio::time::Instant::now() + DEADLINE;
    loop {
        let event = tokio::time::timeout_at(give_up, peer.select_next_some())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}"));
        if let Some(value) = done(event) {
            return value;
        }
    }
}

async fn tcp_address(handle: &Handle) -> Multiaddr {
    let addresses = handle.wait_for_listen_addresses().await.unwrap();
    addresses.into_iter().find(|address| address.to_string().contains("/tcp/")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_the_budget_of_announcements_awaits_a_verdict_and_a_verdict_frees_a_slot() {
    let (handle, mut events) = spawn_node();
    let peer_keypair = identity::Keypair::generate_ed25519();
    let peer_id = peer_keypair.public().to_peer_id();
    handle.set_members(HashSet::from([peer_id])).await.unwrap();
    let mut peer = gossip_peer(peer_keypair);
    peer.dial(tcp_address(&handle).await).unwrap();
    let node = handle.local_peer_id();
    let topic = announcement_topic("protocol-test");
    let topic_hash = topic.hash();
    drive_until(&mut peer, "the node's subscription", |event| match event {
        SwarmEvent::Behaviour(gossipsub::Event::Subscribed { peer_id, topic })
            if peer_id == node && topic == topic_hash =>
        {
            Some(())
        }
        _ => None,
    })
    .await;

    // Nobody reports a verdict: the first MAX_VALIDATIONS_IN_FLIGHT reach the node, the rest
    // are ignored as busy.
    let over_budget = 16;
    let rejected_before = crate::metrics::peer_messages_rejected_total();
    for number in 0..MAX_VALIDATIONS_IN_FLIGHT + over_budget {
        let announcement = Announcement::Checkpoint(format!("note {number}\n"));
        peer.behaviour_mut().publish(topic.clone(), announcement.encode()).unwrap();
    }
    let mut pending = Vec::new();
    let give_up = tokio::time::Instant::now() + DEADLINE;
    // A busy drop wakes nobody here: the count is checked again on every tick.
    let mut recheck = tokio::time::interval(POLL_INTERVAL);
    while crate::metrics::peer_messages_rejected_total() < rejected_before + over_budget as u64 {
        assert!(tokio::time::Instant::now() < give_up, "timed out waiting for busy drops");
        tokio::select! {
            _ = peer.select_next_some() => {}
            Some(event) = events.recv() => pending.push(event),
            _ = recheck.tick() => {}
        }
    }
    while let Ok(event) = events.try_recv() {
        pending.push(event);
    }
    let announcements: Vec<_> = pending
        .into_iter()
        .filter_map(|event| match event {
            Event::Announcement { message_id, propagation_source, .. } => {
                Some((message_id, propagation_source))
            }
            _ => None,
        })
        .collect();
    assert_eq!(announcements.len(), MAX_VALIDATIONS_IN_FLIGHT);

    // One verdict frees one slot: the next announcement reaches the node.
    let (message_id, propagation_source) = announcements[0].clone();
    handle
        .report_validation(message_id, propagation_source, Validation::Ignore { reason: "test" })
        .await
        .unwrap();
    // Commands are handled in order: once this answer is back, so is the verdict.
    handle.connected_peers().await.unwrap();
    let next = Announcement::Checkpoint("note after a verdict\n".to_owned());
    peer.behaviour_mut().publish(topic.clone(), next.encode()).unwrap();
    let give_up = tokio::time::Instant::now() + DEADLINE;
    let arrived = loop {
        assert!(tokio::time::Instant::now() < give_up, "timed out waiting for the next one");
        tokio::select! {
            _ = peer.select_next_some() => {}
            Some(event) = events.recv() => {
                if let Event::Announcement { announcement, .. } = event {
                    break announcement;
                }
            }
            () = tokio::time::sleep_until(give_up) => {}
        }
    };
    assert_eq!(arrived, next);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_leaving_the_roster_is_disconnected_and_refused() {
    let (handle, mut events) = spawn_node();
    let peer_keypair = identity::Keypair::generate_ed25519();
    let peer_id = peer_keypair.public().to_peer_id();
    handle.set_members(HashSet::from([peer_id])).await.unwrap();
    let address = tcp_address(&handle).await;
    let node = handle.local_peer_id();
    let mut peer = gossip_peer(peer_keypair);
    peer.dial(address.clone()).unwrap();
    let give_up = tokio::time::Instant::now() + DEADLINE;
    loop {
        assert!(tokio::time::Instant::now() < give_up, "timed out waiting for the connection");
        tokio::select! {
            _ = peer.select_next_some() => {}
            Some(event) = events.recv() => {
                if matches!(event, Event::PeerConnected(connected) if connected == peer_id) {
                    break;
                }
            }
            () = tokio::time::sleep_until(give_up) => {}
        }
    }
    assert_eq!(handle.connected_peers().await.unwrap(), vec![peer_id]);

    // A roster without the peer: its connection closes, and a new one is refused.
    handle.set_members(HashSet::new()).await.unwrap();
    drive_until(&mut peer, "the disconnection", |event| match event {
        SwarmEvent::ConnectionClosed { peer_id, num_established: 0, .. } if peer_id == node => {
            Some(())
        }
        _ => None,
    })
    .await;
    peer.dial(address).unwrap();
    drive_until(&mut peer, "the refusal", |event| match event {
        SwarmEvent::OutgoingConnectionError { peer_id: Some(peer_id), .. }
        | SwarmEvent::ConnectionClosed { peer_id, .. }
            if peer_id == node =>
        {
            Some(())
        }
        _ => None,
    })
    .await;
    // The node's side of the first connection may close after the peer saw it close: wait
    // (driving the peer) until the node holds no connection, within the deadline.
    let give_up = tokio::time::Instant::now() + DEADLINE;
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(10));
    while !handle.connected_peers().await.unwrap().is_empty() {
        assert!(tokio::time::Instant::now() < give_up, "the peer left the roster but is connected");
        tokio::select! {
            _ = peer.select_next_some() => {}
            _ = tick.tick() => {}
        }
    }
}
