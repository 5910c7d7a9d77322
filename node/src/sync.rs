//! The sync service: answers peers, validates gossip, and runs anti-entropy.
//!
//! Owns: the async orchestration of replication: periodic and on-connect head comparison,
//! fetching missing ranges in bounded chunks (a window of requests in flight, several peers
//! in parallel, one fetch per feed at a time), handing them to the ledger in order, and
//! publishing checkpoints, cosignatures and fork proofs.
//! Does not own: any verification or storage; every such decision is a blocking call on
//! [`Ledger`] made off the async threads.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use libp2p::PeerId;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use crate::network::throttle::LogThrottle;
use crate::network::{
    self, Announcement, Request, Response, Validation, protocol::MAX_RANGE_ENTRIES,
};
use crate::state::{AnnouncementVerdict, Author, Ledger, RemoteError, Unwanted};

/// Range requests in flight per feed being fetched.
const FETCH_WINDOW: u64 = 8;
/// Shortest time between two log lines about peers sending invalid entries.
const LOG_INTERVAL: Duration = Duration::from_secs(10);
/// Rate-limits the log of invalid ranges (each also penalises its sender, so a peer appears
/// once per penalty, but members are many).
static INVALID_ENTRIES_LOG: LogThrottle = LogThrottle::new(LOG_INTERVAL);

/// The replication service of one node.
pub struct Service {
    /// The ledger side.
    state: Arc<Ledger>,
    /// The swarm task's handle.
    network: network::Handle,
    /// Time between anti-entropy rounds.
    interval: Duration,
    /// Feeds being fetched now with the size wanted, so two peers' answers do not race on one
    /// feed and an announcement arriving mid-fetch raises the running fetch's target.
    fetching: Fetching,
    /// Peers being synced with now.
    syncing: Arc<Mutex<HashSet<PeerId>>>,
    /// Background work (answers, fetches); bounded by the peers and feeds in flight, and by
    /// the swarm task's budget of announcements being judged.
    tasks: JoinSet<()>,
    /// The roster version whose members the swarm admits (see [`install_roster`]).
    roster_version: Arc<Mutex<Option<u64>>>,
}

impl Service {
    /// A service over `state`, talking through `network`.
    pub fn new(state: Arc<Ledger>, network: network::Handle, interval: Duration) -> Self {
        Self {
            state,
            network,
            interval,
            fetching: Arc::default(),
            syncing: Arc::default(),
            tasks: JoinSet::new(),
            roster_version: Arc::default(),
        }
    }

    /// Runs until `shutdown` turns true.
    pub async fn run(
        mut self,
        mut events: mpsc::Receiver<network::Event>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        // Before anything else: until the swarm holds the roster, any peer may connect.
        install_roster(&self.state, &self.network, &self.roster_version).await;
        let mut ticker = tokio::time::interval(self.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut local_appends = self.state.subscribe_local_appends();
        loop {
            tokio::select! {
                _ = shutdown.wait_for(|stopping| *stopping) => break,
                Some(event) = events.recv() => self.handle_network_event(event),
                _ = ticker.tick() => self.handle_tick(),
                Ok(()) = local_appends.changed() => self.handle_local_append(),
                Some(_) = self.tasks.join_next(), if !self.tasks.is_empty() => {}
            }
        }
        self.tasks.abort_all();
    }

    fn handle_network_event(&mut self, event: network::Event) {
        match event {
            network::Event::InboundRequest { peer, request, respond } => {
                let state = Arc::clone(&self.state);
                self.tasks.spawn(async move {
                    let answer = tokio::task::spawn_blocking(move || state.answer(&request)).await;
                    let response = answer.unwrap_or_else(|error| {
                        Response::Refused(format!("internal error: {error}"))
                    });
                    let _ = respond.send(response);
                    tracing::trace!(%peer, "answered sync request");
                });
            }
            network::Event::Announcement { propagation_source, message_id, announcement } => {
                let state = Arc::clone(&self.state);
                let network = self.network.clone();
                let fetching = Arc::clone(&self.fetching);
                self.tasks.spawn(async move {
                    let judged = judge_and_report(
                        &state,
                        &network,
                        message_id,
                        propagation_source,
                        announcement,
                    )
                    .await;
                    if let Some((author, size)) = judged {
                        // The forwarder may not hold the entries yet (it accepted the
                        // announcement before fetching them): the author's own node does.
                        let mut peers = vec![propagation_source];
                        if let Some(author_peer) = network::peer_id_of_organisation(&author)
                            && author_peer != propagation_source
                        {
                            peers.push(author_peer);
                        }
                        fetch_feed(state, network, fetching, &peers, author, size).await;
                    }
                });
            }
            network::Event::PeerConnected(peer) => self.start_sync_with(peer),
        }
    }

    fn handle_tick(&mut self) {
        let network = self.network.clone();
        let state = Arc::clone(&self.state);
        let fetching = Arc::clone(&self.fetching);
        let syncing = Arc::clone(&self.syncing);
        let roster_version = Arc::clone(&self.roster_version);
        self.tasks.spawn(async move {
            // Roster changes arrive as entries, fetched or captured: follow them every round.
            install_roster(&state, &network, &roster_version).await;
            let Ok(peers) = network.connected_peers().await else { return };
            let mut rounds = JoinSet::new();
            for peer in peers {
                if !claim(&syncing, peer) {
                    continue;
                }
                let (state, network, fetching, syncing) = (
                    Arc::clone(&state),
                    network.clone(),
                    Arc::clone(&fetching),
                    Arc::clone(&syncing),
                );
                rounds.spawn(async move {
                    sync_with(state, network, fetching, peer).await;
                    release(&syncing, &peer);
                });
            }
            while rounds.join_next().await.is_some() {}
            // Periodic duties that need no peer: witness cosignatures of what we hold.
            let state_for_witness = Arc::clone(&state);
            let announcements =
                tokio::task::spawn_blocking(move || state_for_witness.witness_round())
                    .await
                    .unwrap_or_default();
            for announcement in announcements {
                let _ = network.publish(announcement).await;
            }
        });
    }

    fn start_sync_with(&mut self, peer: PeerId) {
        if !claim(&self.syncing, peer) {
            return;
        }
        let (state, network, fetching, syncing) = (
            Arc::clone(&self.state),
            self.network.clone(),
            Arc::clone(&self.fetching),
            Arc::clone(&self.syncing),
        );
        self.tasks.spawn(async move {
            sync_with(state, network, fetching, peer).await;
            release(&syncing, &peer);
        });
    }

    fn handle_local_append(&mut self) {
        let state = Arc::clone(&self.state);
        let network = self.network.clone();
        self.tasks.spawn(async move {
            let note = {
                let state = Arc::clone(&state);
                tokio::task::spawn_blocking(move || state.local_checkpoint_note()).await
            };
            if let Ok(Some(note)) = note {
                // No peer subscribed yet is normal at start-up; anti-entropy covers it.
                if let Err(error) = network.publish(Announcement::Checkpoint(note)).await {
                    tracing::debug!(%error, "checkpoint not gossiped");
                }
            }
        });
    }
}

/// Judges an announcement off the async threads and reports the verdict to the swarm task
/// (which forwards, drops, scores or bans, and counts); gossips the fork proof an
/// equivocation yields and penalises the equivocating organisation's node. Returns the feed
/// to catch up on when the announcement is ahead of our copy.
async fn judge_and_report(
    state: &Arc<Ledger>,
    network: &network::Handle,
    message_id: libp2p::gossipsub::MessageId,
    propagation_source: PeerId,
    announcement: Announcement,
) -> Option<(Author, u64)> {
    let verdict = {
        let state = Arc::clone(state);
        tokio::task::spawn_blocking(move || state.judge_announcement(&announcement))
            .await
            .unwrap_or_else(|error| {
                AnnouncementVerdict::Ignore(Unwanted::LocalFailure(error.to_string()))
            })
    };
    let validation = match &verdict {
        AnnouncementVerdict::Accept { .. } => Validation::Accept,
        AnnouncementVerdict::Ignore(unwanted) => {
            if let Unwanted::LocalFailure(reason) = unwanted {
                tracing::error!(%reason, "could not take in an announcement");
            }
            Validation::Ignore { reason: unwanted.label() }
        }
        AnnouncementVerdict::Reject { fault, reason } => {
            tracing::debug!(%propagation_source, %reason, "announcement rejected");
            if fault.is_objective() {
                Validation::RejectAndBan { reason: fault.label() }
            } else {
                Validation::Reject { reason: fault.label() }
            }
        }
        AnnouncementVerdict::Equivocation { reason, .. } => {
            tracing::debug!(%propagation_source, %reason, "announcement shows an equivocation");
            Validation::Ignore { reason: "equivocation" }
        }
    };
    let _ = network.report_validation(message_id, propagation_source, validation).await;
    match verdict {
        AnnouncementVerdict::Accept { fetch } => fetch,
        AnnouncementVerdict::Equivocation { author, proof, .. } => {
            if let Some(author_peer) = network::peer_id_of_organisation(&author) {
                let _ = network.penalise(author_peer, "equivocation").await;
            }
            if let Some(proof) = proof {
                let _ = network.publish(proof).await;
            }
            None
        }
        AnnouncementVerdict::Ignore(_) | AnnouncementVerdict::Reject { .. } => None,
    }
}

/// Hands the swarm task the peer ids of the roster's members when the roster changed since
/// the last time (`installed` holds that version): only they may stay connected.
async fn install_roster(
    state: &Arc<Ledger>,
    network: &network::Handle,
    installed: &Mutex<Option<u64>>,
) {
    let members = {
        let state = Arc::clone(state);
        tokio::task::spawn_blocking(move || state.roster_members()).await
    };
    let Ok((version, keys)) = members else { return };
    let changed = installed.lock().is_ok_and(|mut installed| {
        let changed = *installed != Some(version);
        *installed = Some(version);
        changed
    });
    if changed && network.set_members(network::peer_ids_of_organisations(&keys)).await.is_err() {
        // The swarm has stopped: the next round (if any) tries again.
        if let Ok(mut installed) = installed.lock() {
            *installed = None;
        }
    }
}

/// Feeds being fetched, with the largest size anyone announced for each.
type Fetching = Arc<Mutex<HashMap<Author, u64>>>;

/// Claims the fetch of `author` up to `size`; if a fetch is running, raises its target instead
/// and returns false.
fn claim_fetch(fetching: &Fetching, author: Author, size: u64) -> bool {
    let Ok(mut running) = fetching.lock() else { return false };
    match running.get_mut(&author) {
        Some(target) => {
            *target = (*target).max(size);
            false
        }
        None => {
            running.insert(author, size);
            true
        }
    }
}

/// The current target of a running fetch, or `None` (and the claim released) when
/// `local_size` reached it; done under the lock so a raised target is never lost.
fn fetch_target(fetching: &Fetching, author: Author, local_size: u64) -> Option<u64> {
    let mut running = fetching.lock().ok()?;
    let target = *running.get(&author)?;
    if local_size >= target {
        running.remove(&author);
        return None;
    }
    Some(target)
}

fn claim<T: std::hash::Hash + Eq>(set: &Mutex<HashSet<T>>, item: T) -> bool {
    set.lock().map(|mut guard| guard.insert(item)).unwrap_or(false)
}

fn release<T: std::hash::Hash + Eq>(set: &Mutex<HashSet<T>>, item: &T) {
    if let Ok(mut guard) = set.lock() {
        guard.remove(item);
    }
}

/// One anti-entropy round with `peer`: compare heads, fetch what we lack.
async fn sync_with(state: Arc<Ledger>, network: network::Handle, fetching: Fetching, peer: PeerId) {
    let heads = match network.request(peer, Request::Heads).await {
        Ok(Response::Heads(heads)) => heads,
        Ok(_) => return,
        Err(error) => {
            tracing::debug!(%peer, %error, "heads request failed");
            return;
        }
    };
    let wanted = {
        let state = Arc::clone(&state);
        tokio::task::spawn_blocking(move || state.wanted_from_heads(&heads)).await
    };
    let Ok(wanted) = wanted else { return };
    let mut fetches = JoinSet::new();
    for (author, size) in wanted {
        let (state, network, fetching) =
            (Arc::clone(&state), network.clone(), Arc::clone(&fetching));
        fetches.spawn(async move {
            fetch_feed(state, network, fetching, &[peer], author, size).await;
        });
    }
    while fetches.join_next().await.is_some() {}
}

/// Why a fetch from a peer stopped early.
enum FetchError {
    /// The request failed (timeout, closed connection): not the peer's fault for sure.
    Transport(String),
    /// The peer sent data our rules reject: it is penalised.
    Invalid(String),
    /// Our own side failed (storage): the peer is not penalised.
    Local(String),
}

/// Fetches `author`'s entries from our size up to `target_size` from `peer`, with a window of
/// range requests in flight, appending each chunk in order as it is verified.
async fn fetch_feed(
    state: Arc<Ledger>,
    network: network::Handle,
    fetching: Fetching,
    peers: &[PeerId],
    author: Author,
    target_size: u64,
) {
    if !claim_fetch(&fetching, author, target_size) {
        return;
    }
    let mut reached = false;
    // Each peer in turn until our copy reaches the wanted size.
    for &peer in peers {
        let outcome = fetch_feed_claimed(&state, &network, &fetching, peer, author).await;
        match outcome {
            Ok(Completion::Reached) => {
                reached = true;
                break;
            }
            Ok(Completion::Stopped) => {}
            Err(FetchError::Transport(reason)) => {
                tracing::debug!(%peer, author = %hex::encode(author), %reason, "feed fetch stopped");
            }
            Err(FetchError::Local(reason)) => {
                tracing::error!(%peer, author = %hex::encode(author), %reason, "could not apply a fetched range");
            }
            Err(FetchError::Invalid(reason)) => {
                crate::metrics::peer_message_rejected();
                if let Some(held_back) = INVALID_ENTRIES_LOG.admit() {
                    tracing::warn!(%peer, author = %hex::encode(author), %reason, held_back, "peer sent invalid entries");
                }
                let _ = network.penalise(peer, "invalid_entries").await;
            }
        }
    }
    if !reached && let Ok(mut running) = fetching.lock() {
        running.remove(&author);
    }
}

/// How a fetch loop ended without error.
enum Completion {
    /// Our copy reached the wanted size; the claim was released with the check.
    Reached,
    /// The peer had nothing more (or the feed froze); the claim is still held.
    Stopped,
}

async fn fetch_feed_claimed(
    state: &Arc<Ledger>,
    network: &network::Handle,
    fetching: &Fetching,
    peer: PeerId,
    author: Author,
) -> Result<Completion, FetchError> {
    let mut local_size = feed_size(state, author).await?;
    let mut prefetched: Option<Prefetch> = None;
    loop {
        let Some(target_size) = fetch_target(fetching, author, local_size) else {
            if let Some(prefetch) = prefetched {
                prefetch.answers.abort();
            }
            return Ok(Completion::Reached);
        };
        let window_task = match prefetched.take() {
            Some(prefetch) if prefetch.from == local_size => prefetch.answers,
            stale => {
                // The previous window stored fewer entries than predicted (some were held
                // already): asking from the predicted size would leave a gap.
                if let Some(prefetch) = stale {
                    prefetch.answers.abort();
                }
                tokio::spawn(request_window(network.clone(), peer, author, local_size, target_size))
            }
        };
        let window =
            window_task.await.map_err(|error| FetchError::Transport(error.to_string()))??;
        if window.is_empty() {
            return Ok(Completion::Stopped);
        }
        // Ask for the next window while this one is verified and written, so the network
        // and the disk overlap the signature checks.
        let next_from = local_size + window.len() as u64;
        if let Some(wanted) = wanted_size(fetching, author)
            && next_from < wanted
        {
            let answers =
                tokio::spawn(request_window(network.clone(), peer, author, next_from, wanted));
            prefetched = Some(Prefetch { from: next_from, answers });
        }
        let state_for_apply = Arc::clone(state);
        let applied =
            tokio::task::spawn_blocking(move || state_for_apply.apply_remote(author, window))
                .await
                .map_err(|error| FetchError::Transport(error.to_string()));
        let outcome = match applied.and_then(|applied| {
            applied.map_err(|error| match error {
                RemoteError::Invalid(reason) => FetchError::Invalid(reason),
                RemoteError::Local(reason) => FetchError::Local(reason),
            })
        }) {
            Ok(outcome) => outcome,
            Err(error) => {
                if let Some(prefetch) = prefetched {
                    prefetch.answers.abort();
                }
                return Err(error);
            }
        };
        crate::metrics::entries_replicated(outcome.appended);
        if let Some(announcement) = outcome.announce {
            let _ = network.publish(announcement).await;
        }
        if outcome.stop || outcome.appended == 0 {
            if let Some(prefetch) = prefetched {
                prefetch.answers.abort();
            }
            return Ok(Completion::Stopped);
        }
        local_size = feed_size(state, author).await?;
    }
}

/// A window of range requests sent ahead, starting at `from`.
struct Prefetch {
    /// Where the window starts: valid only if our copy has exactly this size by then.
    from: u64,
    /// The window's entries, in order.
    answers: tokio::task::JoinHandle<Result<Vec<Vec<u8>>, FetchError>>,
}

/// Our number of entries of `author`.
async fn feed_size(state: &Arc<Ledger>, author: Author) -> Result<u64, FetchError> {
    let state = Arc::clone(state);
    tokio::task::spawn_blocking(move || state.feed_size(&author))
        .await
        .map_err(|error| FetchError::Transport(error.to_string()))
}

/// The current target of a running fetch of `author`, without releasing the claim.
fn wanted_size(fetching: &Fetching, author: Author) -> Option<u64> {
    fetching.lock().ok()?.get(&author).copied()
}

/// Asks `peer` for up to [`FETCH_WINDOW`] ranges of `author`'s feed from `from` towards
/// `target_size`, in parallel, and returns their entries in order (stopping at the first
/// short or refused answer).
async fn request_window(
    network: network::Handle,
    peer: PeerId,
    author: Author,
    from: u64,
    target_size: u64,
) -> Result<Vec<Vec<u8>>, FetchError> {
    let mut requests = Vec::new();
    let mut next = from;
    while next < target_size && (requests.len() as u64) < FETCH_WINDOW {
        let limit = (target_size - next).min(u64::from(MAX_RANGE_ENTRIES)) as u32;
        let network = network.clone();
        let range_from = next;
        requests.push(async move {
            network.request(peer, Request::Entries { author, from: range_from, limit }).await
        });
        next += u64::from(limit);
    }
    // The window's answers are applied as one batch: one verification pass on all cores and
    // one durable write for up to FETCH_WINDOW × MAX_RANGE_ENTRIES entries.
    let mut window = Vec::new();
    for answer in futures::future::join_all(requests).await {
        match answer {
            Ok(Response::Entries(entries)) if !entries.is_empty() => {
                let complete = entries.len() as u64;
                window.extend(entries);
                // A short answer means the peer has no more: later ranges would leave a gap.
                if complete < u64::from(MAX_RANGE_ENTRIES) {
                    break;
                }
            }
            Ok(Response::Entries(_)) | Ok(Response::Refused(_)) => break,
            Ok(Response::Heads(_)) => {
                return Err(FetchError::Invalid("answered a range request with heads".to_owned()));
            }
            Err(error) => return Err(FetchError::Transport(error.to_string())),
        }
    }
    Ok(window)
}
