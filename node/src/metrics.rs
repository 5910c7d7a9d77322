//! Process-wide counters exported at `/metrics` in the Prometheus text format.
//!
//! Owns: counters that many layers bump (rejected peer messages, penalties) and the text of the
//! families only this file knows ([`render`]). Per-feed gauges are computed from the store when
//! scraped, not kept here. The counters are per process: nodes started in one test process
//! share them.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Peer messages (gossip or sync) dropped as malformed, oversized or invalid.
static PEER_MESSAGES_REJECTED: AtomicU64 = AtomicU64::new(0);
/// The same, by (kind of message, reason); sums to [`PEER_MESSAGES_REJECTED`].
static PEER_MESSAGES_REJECTED_BY_REASON: Mutex<BTreeMap<(&str, &str), u64>> =
    Mutex::new(BTreeMap::new());
/// Peers disconnected and blocked for sending what the protocol or the ledger forbids.
static PEER_PENALTIES: AtomicU64 = AtomicU64::new(0);
/// Entries received from peers and appended.
static ENTRIES_REPLICATED: AtomicU64 = AtomicU64::new(0);

/// Counts one peer message whose content the ledger rules refused (a bad signature, an
/// unadmitted author, an invalid announcement).
pub fn peer_message_rejected() {
    peer_message_rejected_because("content", "invalid");
}

/// Counts one rejected peer message: `message` is what it was (`request`, `response`,
/// `announcement`, `content`), `reason` what was wrong (`malformed`, `truncated`, `oversized`,
/// `invalid`).
pub fn peer_message_rejected_because(message: &'static str, reason: &'static str) {
    PEER_MESSAGES_REJECTED.fetch_add(1, Ordering::Relaxed);
    if let Ok(mut counts) = PEER_MESSAGES_REJECTED_BY_REASON.lock() {
        *counts.entry((message, reason)).or_default() += 1;
    }
}

/// Counts one penalty (a peer disconnected and blocked).
pub fn peer_penalised() {
    PEER_PENALTIES.fetch_add(1, Ordering::Relaxed);
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

/// Appends the families kept only here to a Prometheus text exposition.
pub fn render(text: &mut String) {
    text.push_str(
        "# HELP lotline_peer_messages_rejected_by_reason_total Peer messages dropped, by kind \
         of message and reason.\n# TYPE lotline_peer_messages_rejected_by_reason_total counter\n",
    );
    let counts =
        PEER_MESSAGES_REJECTED_BY_REASON.lock().map(|counts| counts.clone()).unwrap_or_default();
    for ((message, reason), count) in counts {
        text.push_str(&format!(
            "lotline_peer_messages_rejected_by_reason_total{{message=\"{message}\",\
             reason=\"{reason}\"}} {count}\n"
        ));
    }
    text.push_str(&format!(
        "# HELP lotline_peer_penalties_total Peers disconnected and blocked for a protocol or \
         ledger violation.\n# TYPE lotline_peer_penalties_total counter\n\
         lotline_peer_penalties_total {}\n",
        PEER_PENALTIES.load(Ordering::Relaxed)
    ));
}
