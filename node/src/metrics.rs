//! Process-wide counters exported at `/metrics` in the Prometheus text format.
//!
//! Owns: counters that many layers bump (rejected peer messages, penalties) and the whole
//! exposition text ([`exposition`]). The ledger's gauges (entries, feeds, lag, recall
//! summaries) are read from the store when scraped ([`crate::state::Gauges`]), not kept here.
//! The counters are per process: nodes started in one test process share them.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::notify;
use crate::state::{FeedGauges, Gauges};

/// Peer messages (gossip or sync) dropped as malformed, oversized or invalid.
static PEER_MESSAGES_REJECTED: AtomicU64 = AtomicU64::new(0);
/// The same, by (kind of message, reason); sums to [`PEER_MESSAGES_REJECTED`].
static PEER_MESSAGES_REJECTED_BY_REASON: Mutex<BTreeMap<(&str, &str), u64>> =
    Mutex::new(BTreeMap::new());
/// Peers disconnected and blocked for sending what the protocol or the ledger forbids.
static PEER_PENALTIES: AtomicU64 = AtomicU64::new(0);
/// Entries received from peers and appended.
static ENTRIES_REPLICATED: AtomicU64 = AtomicU64::new(0);
/// Consumer pages answered (`200` or `304`), and of them the ones rendered for the answer.
static PAGES_ANSWERED: AtomicU64 = AtomicU64::new(0);
static PAGES_RENDERED: AtomicU64 = AtomicU64::new(0);
/// Bytes of rendered pages kept, and pages let go to stay within the room given.
static PAGE_CACHE_BYTES: AtomicU64 = AtomicU64::new(0);
static PAGE_CACHE_EVICTIONS: AtomicU64 = AtomicU64::new(0);

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

/// Counts one consumer page answered (`200` or `304`).
pub fn page_answered() {
    PAGES_ANSWERED.fetch_add(1, Ordering::Relaxed);
}

/// Counts one consumer page rendered.
pub fn page_rendered() {
    PAGES_RENDERED.fetch_add(1, Ordering::Relaxed);
}

/// Notes that the kept pages went from `before` to `after` bytes, letting `evicted` pages go.
pub fn page_cache_changed(before: usize, after: usize, evicted: u64) {
    if after >= before {
        PAGE_CACHE_BYTES.fetch_add((after - before) as u64, Ordering::Relaxed);
    } else {
        PAGE_CACHE_BYTES.fetch_sub((before - after) as u64, Ordering::Relaxed);
    }
    PAGE_CACHE_EVICTIONS.fetch_add(evicted, Ordering::Relaxed);
}

/// Current value of the rejected-messages counter.
pub fn peer_messages_rejected_total() -> u64 {
    PEER_MESSAGES_REJECTED.load(Ordering::Relaxed)
}

/// Current value of the replicated-entries counter.
pub fn entries_replicated_total() -> u64 {
    ENTRIES_REPLICATED.load(Ordering::Relaxed)
}

/// The Prometheus text exposition of a scrape: the ledger's `gauges`, the `peers` connected
/// now, the node's `notifications` counters, and the counters kept here.
pub fn exposition(gauges: &Gauges, peers: usize, notifications: &notify::Stats) -> String {
    let mut text = String::new();
    let mut family = |name: &str, help: &str, kind: &str, samples: Vec<(String, u64)>| {
        text.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
        for (labels, value) in samples {
            text.push_str(&format!("{name}{labels} {value}\n"));
        }
    };
    let unlabelled = |value: u64| vec![(String::new(), value)];
    let per_feed = |value: fn(&FeedGauges) -> u64| {
        gauges
            .feeds
            .iter()
            .map(|feed| (format!("{{author=\"{}\"}}", feed.author.to_hex()), value(feed)))
            .collect()
    };
    family("lotline_entries_total", "Entries in the store.", "gauge", unlabelled(gauges.entries));
    family("lotline_peers", "Connected peers.", "gauge", unlabelled(peers as u64));
    family(
        "lotline_peer_messages_rejected_total",
        "Peer messages dropped as malformed or invalid.",
        "counter",
        unlabelled(peer_messages_rejected_total()),
    );
    family(
        "lotline_entries_replicated_total",
        "Entries appended from peers.",
        "counter",
        unlabelled(entries_replicated_total()),
    );
    family(
        "lotline_recall_summaries",
        "Lots whose part of a recall answer is computed and kept.",
        "gauge",
        unlabelled(gauges.recall_summaries as u64),
    );
    family(
        "lotline_recall_summary_bytes",
        "Approximate heap bytes of the kept recall summaries.",
        "gauge",
        unlabelled(gauges.recall_summary_bytes as u64),
    );
    family(
        "lotline_pages_answered_total",
        "Consumer pages answered (200 or 304).",
        "counter",
        unlabelled(PAGES_ANSWERED.load(Ordering::Relaxed)),
    );
    family(
        "lotline_pages_rendered_total",
        "Consumer pages rendered to answer (the rest were kept or not modified).",
        "counter",
        unlabelled(PAGES_RENDERED.load(Ordering::Relaxed)),
    );
    family(
        "lotline_page_cache_bytes",
        "Bytes of rendered consumer pages and proofs kept (page_cache_mib bounds it).",
        "gauge",
        unlabelled(PAGE_CACHE_BYTES.load(Ordering::Relaxed)),
    );
    family(
        "lotline_page_cache_evictions_total",
        "Kept consumer pages let go to stay within page_cache_mib.",
        "counter",
        unlabelled(PAGE_CACHE_EVICTIONS.load(Ordering::Relaxed)),
    );
    family("lotline_feed_size", "Entries held per feed.", "gauge", per_feed(|feed| feed.size));
    family(
        "lotline_replication_lag",
        "Entries announced by a feed's author that this node does not hold yet.",
        "gauge",
        per_feed(|feed| feed.lag),
    );
    notification_families(&mut text, notifications);
    render(&mut text);
    text
}

/// Appends the notification counters: the event streams and, per webhook (labelled by its
/// position in the config, since a URL may hold a secret), its queue and deliveries.
fn notification_families(text: &mut String, stats: &notify::Stats) {
    let mut family = |name: &str, help: &str, kind: &str, samples: Vec<(String, u64)>| {
        text.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
        for (labels, value) in samples {
            text.push_str(&format!("{name}{labels} {value}\n"));
        }
    };
    let unlabelled = |value: u64| vec![(String::new(), value)];
    let per_webhook = |value: fn(&notify::webhook::Stats) -> u64| {
        stats
            .webhooks
            .iter()
            .map(|webhook| (format!("{{webhook=\"{}\"}}", webhook.index), value(webhook)))
            .collect()
    };
    family(
        "lotline_notifications_total",
        "Notifications published (recalls, excursions, acknowledgements, overdue handoffs).",
        "counter",
        unlabelled(stats.published),
    );
    family("lotline_event_streams", "Event streams open.", "gauge", unlabelled(stats.streams_open));
    family(
        "lotline_event_streams_refused_total",
        "Event streams refused because as many were open as allowed.",
        "counter",
        unlabelled(stats.streams_refused),
    );
    family(
        "lotline_notification_catch_ups_total",
        "Times notifications fell behind the appended entries and read them back from the store.",
        "counter",
        unlabelled(stats.catch_ups),
    );
    family(
        "lotline_webhook_queued",
        "Notifications waiting per webhook.",
        "gauge",
        per_webhook(|webhook| webhook.queued),
    );
    family(
        "lotline_webhook_delivered_total",
        "Notifications delivered per webhook.",
        "counter",
        per_webhook(|webhook| webhook.delivered),
    );
    family(
        "lotline_webhook_retries_total",
        "Failed delivery attempts that were retried, per webhook.",
        "counter",
        per_webhook(|webhook| webhook.retried),
    );
    family(
        "lotline_webhook_failed_total",
        "Notifications given up after the last attempt, per webhook.",
        "counter",
        per_webhook(|webhook| webhook.failed),
    );
    family(
        "lotline_webhook_dropped_total",
        "Notifications dropped unsent because the webhook's queue was full (oldest first).",
        "counter",
        per_webhook(|webhook| webhook.dropped),
    );
}

/// Appends the families kept only here to a Prometheus text exposition.
fn render(text: &mut String) {
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
