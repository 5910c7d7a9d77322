//! The node's ledger side: one organisation's keys and feed writer, the store, the roster,
//! the lot-graph index and the event catalogue, behind blocking methods.
//!
//! Owns: every decision the node makes about data (capture, replication, witnessing, fork
//! handling, answering queries, the master-data directory). Its methods block (sled, signatures), so async callers run
//! them in `spawn_blocking`. Owns no sockets and no wire formats: HTTP (`http`) and libp2p
//! (`network`, `sync`) call in with typed requests (a subject, a hazard, a payload, an
//! [`EventQuery`]) and get typed replies and an [`Error`] naming the rule broken; turning those
//! into JSON, status codes and problems is `http`'s concern.
//!
//! **Invariant:** an entry is acknowledged (capture answered, sync chunk accepted) only after
//! the store's durable append returned; the index and catalogue are updated after, and are
//! rebuilt from the store at start-up, so they can never hold what the store lacks.

mod appended;
mod capture;
mod catalogue;
mod chunked;
mod custody;
mod error;
mod masterdata;
mod records;
mod replication;
mod views;

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock, RwLock};

use lotline_ledger::feed::{FeedWriter, VerifiedEntry};
use lotline_ledger::identity::{Keypair, PublicKey};
use lotline_ledger::roster::{Genesis, Role};
use lotline_ledger::store::Store;
use lotline_ledger::trace;
use lotline_ledger::trace::facts::{CanonicalCache, Facts};
use tokio::sync::{broadcast, watch};

pub use appended::{APPENDED_CAPACITY, Appended};
pub use capture::CaptureJob;
pub use catalogue::{EventPage, EventQuery, StoredEvent};
pub use error::Error;
pub use masterdata::{MAX_ELEMENTS, MasterDataHistory, MasterDataQuery, Vocabularies, Vocabulary};
pub use records::Record;
pub use replication::{AnnouncementVerdict, Fault, RemoteApplied, RemoteError, Unwanted};
pub use views::{
    FeedEntries, FeedEntry, FeedGauges, FeedSummary, Gauges, Health, Roster, RosterMember,
};

use crate::config::{Config, Replicate};
use crate::network;

/// A feed author as raw key bytes (the form on the wire).
pub type Author = [u8; 32];

/// Most capture jobs remembered for `GET /capture/{id}`.
const MAX_CAPTURE_JOBS: usize = 1_000;

/// The node's ledger: its organisation's keys and feed writer, the store of every replicated
/// feed, and the views derived from it; shared by the HTTP handlers and the sync service.
pub struct Ledger {
    /// Node name from the config.
    name: String,
    /// Bearer token for writes.
    token: String,
    /// The organisation's signing key.
    keypair: Keypair,
    /// The network's genesis (the store checks it on open).
    genesis: Genesis,
    /// The durable store of every replicated feed.
    store: Store,
    /// The lot graph over every indexed event.
    index: RwLock<trace::Index>,
    /// The EPCIS query catalogue over every indexed event.
    catalogue: RwLock<catalogue::Catalogue>,
    /// Every master-data statement of every replicated feed, with history.
    directory: RwLock<lotline_ledger::masterdata::Directory>,
    /// What the stored entries say about cold chain, and the detectors of our readings.
    cold_chain: crate::coldchain::ColdChain,
    /// Caches of canonical identifier forms for the threads that read events before they are
    /// indexed (one taken per thread at a time, so reading needs no shared lock).
    canonical_caches: Mutex<Vec<CanonicalCache>>,
    /// Builds and signs this organisation's next entries; the mutex serialises local appends
    /// so sequence numbers never race.
    writer: Mutex<FeedWriter>,
    /// Recent capture jobs by id.
    captures: Mutex<BTreeMap<String, CaptureJob>>,
    /// Which feeds to replicate.
    replicate: Replicate,
    /// Whether this node cosigns other feeds' checkpoints.
    witness: bool,
    /// The swarm handle, set once the network is up.
    network: OnceLock<network::Handle>,
    /// Bumped after every local append, so the sync service gossips a checkpoint.
    local_appends: watch::Sender<u64>,
    /// Bumped after every batch of entries indexed, so the recall summaries are completed
    /// once entries stop arriving (see `keep_recall_summaries` in the crate root).
    indexed: watch::Sender<u64>,
    /// Every durable append, own or replicated, for the listeners (see `appended`).
    appended: broadcast::Sender<Appended>,
    /// Signed checkpoints of feeds we have not fetched up to yet, checked once we have.
    pending_checkpoints: Mutex<BTreeMap<PublicKey, String>>,
    /// The largest size we cosigned per feed (witness duty).
    cosigned_sizes: Mutex<BTreeMap<PublicKey, u64>>,
    /// The custody rules (the handoff deadline is configured; see `custody`).
    custody_rules: lotline_ledger::coldchain::custody::Rules,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Ledger")
            .field("name", &self.name)
            .field("organisation", &self.keypair.public_key())
            .finish()
    }
}

/// Start-up failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The key file could not be read.
    #[error(transparent)]
    Key(#[from] lotline_ledger::identity::Error),
    /// The genesis file could not be read or is invalid.
    #[error("genesis {path}: {reason}")]
    Genesis {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The store could not be opened or failed its checks.
    #[error("store: {0}")]
    Store(#[from] lotline_ledger::store::Error),
}

impl Ledger {
    /// Opens the store, checks the genesis and rebuilds the index and catalogue from the feeds.
    pub fn open(config: &Config) -> Result<Self, OpenError> {
        let keypair = Keypair::read_from_file(&config.key_file)?;
        let genesis_error = |reason: String| OpenError::Genesis {
            path: config.genesis_file.display().to_string(),
            reason,
        };
        let genesis_text = std::fs::read_to_string(&config.genesis_file)
            .map_err(|error| genesis_error(error.to_string()))?;
        let genesis =
            Genesis::from_json(&genesis_text).map_err(|error| genesis_error(error.to_string()))?;
        genesis.verify().map_err(|error| genesis_error(error.to_string()))?;
        let store = Store::open(&config.data_dir, &genesis)?;
        let organisation = keypair.public_key();
        let roster = store.roster();
        // A joining organisation's node starts before it holds the roster change admitting it:
        // it replicates that change from its peers, and its writes are refused by the append
        // rules until then.
        let member = roster.member(&organisation);
        if member.is_none() {
            tracing::warn!(
                %organisation,
                "this organisation is not in the roster this node holds: it writes once it replicates a roster change admitting it"
            );
        }
        let witness = config.witness.unwrap_or_else(|| {
            member.is_some_and(|member| {
                member.roles.contains(&Role::Witness) || member.roles.contains(&Role::Regulator)
            })
        });
        let writer = FeedWriter::new(Keypair::from_seed(keypair.seed()), store.head(&organisation));
        let ledger = Ledger {
            name: config.name.clone(),
            token: config.api_token.clone(),
            keypair,
            genesis,
            store,
            index: RwLock::new(trace::Index::new()),
            catalogue: RwLock::new(catalogue::Catalogue::default()),
            directory: RwLock::new(lotline_ledger::masterdata::Directory::new()),
            cold_chain: crate::coldchain::ColdChain::new(organisation),
            canonical_caches: Mutex::new(Vec::new()),
            writer: Mutex::new(writer),
            captures: Mutex::new(BTreeMap::new()),
            replicate: config.replicate.clone(),
            witness,
            network: OnceLock::new(),
            local_appends: watch::channel(0).0,
            indexed: watch::channel(0).0,
            appended: broadcast::channel(APPENDED_CAPACITY).0,
            pending_checkpoints: Mutex::new(BTreeMap::new()),
            cosigned_sizes: Mutex::new(BTreeMap::new()),
            custody_rules: lotline_ledger::coldchain::custody::Rules {
                deadline_ms: i64::try_from(config.handoff_deadline_ms).unwrap_or(i64::MAX),
                ..Default::default()
            },
        };
        ledger.rebuild_views()?;
        ledger.sign_excursions();
        Ok(ledger)
    }

    /// Attaches the swarm handle (after the network is up).
    pub fn with_network(self, handle: network::Handle) -> Self {
        let _ = self.network.set(handle);
        self
    }

    /// The network name (the gossip topic and DHT are private to it).
    pub fn network_name(&self) -> String {
        self.genesis.network.clone()
    }

    /// The key seed (the libp2p identity derives from it).
    pub fn keypair_seed(&self) -> [u8; 32] {
        self.keypair.seed()
    }

    /// This organisation's public key in hex.
    pub fn organisation_hex(&self) -> String {
        self.keypair.public_key().to_hex()
    }

    /// This organisation's public key.
    pub fn organisation(&self) -> PublicKey {
        self.keypair.public_key()
    }

    /// Constant-time comparison of a presented token with ours.
    pub fn token_matches(&self, presented: &str) -> bool {
        let expected = self.token.as_bytes();
        let presented = presented.as_bytes();
        if expected.len() != presented.len() {
            return false;
        }
        expected.iter().zip(presented).fold(0u8, |difference, (a, b)| difference | (a ^ b)) == 0
    }

    /// Receiver bumped after each local append.
    pub fn subscribe_local_appends(&self) -> watch::Receiver<u64> {
        self.local_appends.subscribe()
    }

    /// Receiver bumped after each batch of entries indexed.
    pub fn subscribe_indexed(&self) -> watch::Receiver<u64> {
        self.indexed.subscribe()
    }

    /// Computes the recall summaries of up to [`SUMMARY_BATCH`] lots that have none (under
    /// the index's read lock: queries go on, indexing waits for one batch); returns how many
    /// it kept (0 when none is missing or the budget is spent).
    pub fn summarise_missing(&self) -> usize {
        read_lock(&self.index).summarise_missing(SUMMARY_BATCH)
    }

    /// (lots whose recall summary is held, their approximate heap bytes).
    pub fn recall_summaries(&self) -> (usize, usize) {
        read_lock(&self.index).summaries().usage()
    }

    /// Number of peers connected now (0 before the network is up).
    pub async fn connected_peer_count(&self) -> usize {
        match self.network.get() {
            Some(handle) => handle.connected_peers().await.map(|peers| peers.len()).unwrap_or(0),
            None => 0,
        }
    }

    /// Gossips an announcement (the sync service does this after fetches; tests inject).
    pub async fn publish(&self, announcement: network::Announcement) -> Result<(), network::Error> {
        match self.network.get() {
            Some(handle) => handle.publish(announcement).await,
            None => Err(network::Error::Stopped),
        }
    }

    /// Dials a peer (operators joining a node to a known peer; tests healing a partition).
    pub async fn dial(&self, address: libp2p::Multiaddr) -> Result<(), network::Error> {
        match self.network.get() {
            Some(handle) => handle.dial(address).await,
            None => Err(network::Error::Stopped),
        }
    }

    /// Flushes the store (called at shutdown; appends are already durable).
    pub fn close(&self) {
        if let Err(error) = self.store.flush() {
            tracing::warn!(%error, "final flush failed");
        }
    }

    /// What the stored entries say about cold chain (see `crate::coldchain`).
    pub fn cold_chain(&self) -> &crate::coldchain::ColdChain {
        &self.cold_chain
    }

    /// The store, for tests and the benchmark.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Replays every stored entry into the (empty) views, in append order, a
    /// chunk at a time through [`Ledger::index_entries`]: events are read and digested on all
    /// cores, as when they arrive from a peer.
    fn rebuild_views(&self) -> Result<(), OpenError> {
        let mut chunk = Vec::with_capacity(REBUILD_CHUNK);
        for entry in self.store.entries_in_order() {
            chunk.push(entry?);
            if chunk.len() == REBUILD_CHUNK {
                self.index_entries(&chunk);
                chunk.clear();
            }
        }
        self.index_entries(&chunk);
        Ok(())
    }

    /// Adds freshly appended entries to the index, the catalogue and the master-data
    /// directory. Their events are read, digested into facts and catalogue rows on all cores
    /// before the views are locked, so the locks are held (and queries wait) only for the
    /// insertions.
    fn index_entries(&self, entries: &[VerifiedEntry]) {
        self.record_statements(entries);
        self.cold_chain.add_records(entries);
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        let read_chunk = |chunk: &[VerifiedEntry]| {
            self.with_canonical_cache(|cache| {
                // Sized up front: an `IndexedEvent` is large, and growing the vector by
                // doubling would copy every one of them again at each growth.
                let mut events = Vec::with_capacity(chunk.len());
                events.extend(chunk.iter().filter_map(|entry| IndexedEvent::read(entry, cache)));
                events
            })
        };
        if threads == 1 || entries.len() < PARALLEL_PARSE_MIN {
            self.index_events(read_chunk(entries));
            return;
        }
        // Each reader's events are applied from its own vector, in chunk order: gathering
        // them into one vector first would move every (large) `IndexedEvent` once more.
        let parsed_chunks: Vec<Vec<IndexedEvent>> = std::thread::scope(|scope| {
            let workers: Vec<_> = entries
                .chunks(entries.len().div_ceil(threads))
                .map(|chunk| scope.spawn(move || read_chunk(chunk)))
                .collect();
            workers.into_iter().map(|worker| worker.join().unwrap_or_default()).collect()
        });
        self.index_events(parsed_chunks.into_iter().flatten());
    }

    /// Runs `work` with a cache of canonical forms taken from the pool (a fresh one when all
    /// are in use), and puts the cache back after.
    fn with_canonical_cache<Output>(
        &self,
        work: impl FnOnce(&mut CanonicalCache) -> Output,
    ) -> Output {
        let mut cache = lock(&self.canonical_caches).pop().unwrap_or_default();
        let output = work(&mut cache);
        lock(&self.canonical_caches).push(cache);
        output
    }

    /// Adds events already read (a capture keeps the events it validated) to the views.
    fn index_events(&self, events: impl IntoIterator<Item = IndexedEvent>) {
        let mut sensor_events = Vec::new();
        {
            let mut index = write_lock(&self.index);
            let mut catalogue = write_lock(&self.catalogue);
            for mut indexed in events {
                if let Some(sensor_event) = indexed.sensor_event.take() {
                    sensor_events.push((indexed.reference.entry, sensor_event));
                }
                indexed.apply(&mut index, &mut catalogue);
            }
        }
        self.cold_chain.add_sensor_events(sensor_events);
        self.indexed.send_modify(|batches| *batches += 1);
    }

    fn wants_feed(&self, author: &PublicKey) -> bool {
        if *author == self.keypair.public_key() {
            return true;
        }
        match &self.replicate {
            Replicate::All => true,
            Replicate::Only(authors) => {
                authors.iter().any(|wanted| wanted.eq_ignore_ascii_case(&author.to_hex()))
            }
        }
    }
}

/// Lots summarised per read-lock hold by [`Ledger::summarise_missing`]: indexing waits behind
/// one batch at most, so a batch is kept small enough that entries arriving meanwhile are
/// indexed without a noticeable pause, and large enough that taking the lock is rare.
pub const SUMMARY_BATCH: usize = 512;

/// Entries below this count are read on the calling thread (spawning costs more).
const PARALLEL_PARSE_MIN: usize = 256;

/// Entries replayed per call of [`Ledger::index_entries`] when the views are rebuilt at
/// start-up: enough to keep both cores reading, few enough to hold in memory.
const REBUILD_CHUNK: usize = 4_096;

/// An EPCIS event read from its entry and digested, ready to be added to the index and the
/// catalogue.
struct IndexedEvent {
    /// Where the event is stored.
    reference: trace::EventRef,
    /// What the lot index keeps of it.
    facts: Facts,
    /// What the query catalogue keeps of it.
    row: catalogue::Row,
    /// Its temperature readings, for the cold-chain book.
    sensor_event: Option<lotline_ledger::coldchain::book::SensorEvent>,
}

impl IndexedEvent {
    /// Reads the event an entry carries; `None` for ledger records (read from the store when
    /// asked for) and for events that do not parse. `cache` remembers canonical identifiers.
    fn read(entry: &VerifiedEntry, cache: &mut CanonicalCache) -> Option<Self> {
        let Some(lotline_ledger::records::Payload::Epcis(capture)) = entry.payload() else {
            return None;
        };
        match lotline_ledger::epcis::decode_stored_event(&capture.original) {
            Ok(event) => Some(Self::new(entry, &event, cache)),
            Err(error) => {
                // Signed by its author but not an event we can read: keep the entry, skip
                // indexing.
                tracing::warn!(author = %entry.author(), sequence = entry.sequence(), %error, "unreadable event");
                None
            }
        }
    }

    /// `event` as carried by `entry` (already parsed by the caller), digested.
    fn new(
        entry: &VerifiedEntry,
        event: &lotline_ledger::epcis::Event,
        cache: &mut CanonicalCache,
    ) -> Self {
        let event_hash_id = match entry.payload() {
            Some(payload) => payload.event_id().map(trace::EventHashId::new),
            None => entry.event_id().map(|event_id| trace::EventHashId::new(&event_id)),
        };
        let reference = trace::EventRef {
            entry: entry.reference(),
            event_hash_id: event_hash_id.unwrap_or_else(|| trace::EventHashId::new("")),
        };
        let facts = Facts::from_event_cached(event, cache);
        let row = catalogue::Row::new(reference.clone(), entry.record_time_ms(), event, &facts);
        let sensor_event = lotline_ledger::coldchain::book::SensorEvent::read(event);
        Self { reference, facts, row, sensor_event }
    }

    /// Adds the event to the lot index and the catalogue.
    fn apply(self, index: &mut trace::Index, catalogue: &mut catalogue::Catalogue) {
        index.apply_facts(self.reference, self.facts);
        catalogue.push(self.row);
    }
}

/// Locks for reading, recovering from a poisoned lock (a panic elsewhere must not wedge reads).
fn read_lock<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Locks for writing, recovering from a poisoned lock.
fn write_lock<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Locks a mutex, recovering from poisoning.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Current time in milliseconds since the epoch.
fn now_ms() -> i64 {
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}
