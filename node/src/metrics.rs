//! Process-wide counters exported at `/metrics` in the Prometheus text format.
//!
//! Owns: counters that many layers bump (rejected peer messages). Per-feed gauges are
//! computed from the store when scraped, not kept here.

use std::sync::atomic::{AtomicU64, Ordering};

/// Peer messages (gossip or sync) dropped as malformed, oversized or invalid.
static PEER_MESSAGES_REJECTED: AtomicU64 = AtomicU64::new(0);
/// Entries received from peers and appended.
static ENTRIES_REPLICATED: AtomicU64 = AtomicU64::new(0);

/// Counts one rejected peer message.
pub fn peer_message_rejected() {
    PEER_MESSAGES_REJECTED.fetch_add(1, Ordering::Relaxed);
}

/// Counts entries appended from peers.
pub fn entries_replicated(count: u64) {
    ENTRIES_REPLICATED.fetch_add(count, Ordering::Relaxed);
}

/// Current value of the rejected-messages counter.
pub fn peer_messages_rejected_total() -> u64 {
    PEER_MESSAGES_REJECTED.load(Ordering::Relaxed)
}

/// Current value of the replicated-entries counter.
pub fn entries_replicated_total() -> u64 {
    ENTRIES_REPLICATED.load(Ordering::Relaxed)
}
