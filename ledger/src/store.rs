//! The durable store: the ONLY file that names `sled`.
//!
//! Owns: atomic, durable batched append (verify on all cores, check the pure feed rules, one
//! sled batch, one flush), lookups by author and sequence, by entry hash and by EPCIS event
//! hash id, feed heads, the roster as changed by stored roster entries, checkpoints and
//! cosignatures, fork proofs and frozen feeds, the in-order iterator the lot graph is rebuilt
//! from, the checks made on reopening, and a full [`Store::verify`].
//! Does not own: the rules themselves (`feed`, `roster`), checkpoint text formats
//! (`checkpoint`), or any async runtime (callers wrap these blocking calls).
//!
//! **Durability policy.** [`Store::append_batch`] returns only after the batch has been applied
//! as one sled batch and `flush()` has written and fsynced sled's log. A batch is atomic: after
//! a crash it is present whole or not at all. Appends are serialised by one lock; signature
//! verification runs before the lock is taken, so it overlaps another caller's write.
//!
//! **Layout.** One sled tree, so that a single `apply_batch` covers entries, heads and
//! everything else a batch changes (sled batches are atomic per tree). Keys start with a
//! one-byte prefix: `s`+first order → a segment of up to [`SEGMENT_ENTRIES`] consecutive
//! entries' wire bytes (at most [`SEGMENT_BYTES`] unless one entry is larger); `H`+author →
//! head; `c`+author+size → checkpoint note (its cosignature lines included);
//! `f`+author+position+kind → fork proof (JSON, the `fork` module's portable form);
//! `F`+author → frozen-at sequence; `m/…` → metadata (genesis, layout version).
//! Integers are big-endian so keys sort numerically.
//!
//! **Why segments.** sled copies a leaf on every insert, so the cost of an append is the number
//! of keys it writes: packing a batch's entries into a few segment values (instead of an entry
//! key plus three index keys per entry) is what lets append keep up with signature
//! verification. The lookups by author and sequence, entry hash and event hash id are in-memory
//! maps from those to the append order, rebuilt from the segments on reopening (three map
//! slots and an order per entry); an order is found in the segment whose first order is the
//! largest not above it. Entries dropped by a fork resolution leave an empty slot in their
//! segment.

use std::collections::{BTreeMap, HashMap};

use foldhash::fast::RandomState as SeededState;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use crate::checkpoint::{self, Cosignature, SignedCheckpoint};
use crate::codec;
use crate::entry::EntryHash;
use crate::feed::{self, BatchError, FeedHead, FeedState, VerifiedEntry};
use crate::fork::{self, ForkPosition, ForkProof};
use crate::identity::PublicKey;
use crate::merkle;
use crate::records::Payload;
use crate::roster::{self, Change, Genesis, Roster};

const PREFIX_SEGMENT: u8 = b's';
const PREFIX_HEAD: u8 = b'H';
const PREFIX_CHECKPOINT: u8 = b'c';
const PREFIX_FORK: u8 = b'f';
const PREFIX_FROZEN: u8 = b'F';
const KEY_GENESIS: &[u8] = b"m/genesis";
const KEY_LAYOUT: &[u8] = b"m/layout";
/// The on-disk layout this module reads and writes (see the module docs).
const LAYOUT: &[u8] = b"lotline-store/segments-1";

/// Most entries packed into one segment value.
pub const SEGMENT_ENTRIES: usize = 512;
/// Most bytes of entries packed into one segment value (a single larger entry gets a segment
/// of its own). Above sled's inline-message limit (a quarter of its 512 KiB log segment), so a
/// segment is written to a file of its own: sled rewrites a leaf (up to 16 values) as one
/// message, so fewer, larger segments mean fewer leaf rewrites per entry appended.
pub const SEGMENT_BYTES: usize = 384 * 1024;

/// Entries verified per chunk by [`Store::verify`] and when rebuilding.
const VERIFY_CHUNK: usize = 2048;

/// Errors from the store. Rejections name the entry and the broken rule; nothing of a rejected
/// batch is stored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// sled failed (IO error, corruption detected by sled).
    #[error("storage: {0}")]
    Storage(String),
    /// An entry of the batch broke a feed rule; the batch was not stored.
    #[error("rejected batch: {0}")]
    Rejected(#[from] BatchError),
    /// An entry conflicts with a stored one for the same feed position: a fork proof was
    /// stored and the feed frozen; the batch was not stored.
    #[error(
        "entry {index} of the batch equivocates at sequence {sequence} of {author}: feed frozen"
    )]
    Equivocation {
        /// Position of the conflicting entry in the batch.
        index: usize,
        /// The forked feed.
        author: PublicKey,
        /// The contested sequence number.
        sequence: u64,
    },
    /// The genesis document is invalid.
    #[error("genesis: {0}")]
    Genesis(#[from] roster::Error),
    /// The store was created for another network's genesis.
    #[error("store belongs to another genesis")]
    GenesisMismatch,
    /// The store has no genesis (never opened with one).
    #[error("store has no genesis")]
    NoGenesis,
    /// Reopen or verify found stored data that breaks an invariant.
    #[error("store corrupt: {0}")]
    Corrupt(String),
    /// A checkpoint names a size larger than the stored feed.
    #[error("checkpoint of {author} at size {size} is ahead of the stored feed ({length} entries)")]
    CheckpointAhead {
        /// The feed.
        author: PublicKey,
        /// The checkpoint's tree size.
        size: u64,
        /// Entries stored.
        length: u64,
    },
    /// A checkpoint's root is not the Merkle root of the stored feed at its size.
    #[error("checkpoint of {author} at size {size} does not match the stored feed")]
    CheckpointMismatch {
        /// The feed.
        author: PublicKey,
        /// The checkpoint's tree size.
        size: u64,
    },
    /// A checkpoint conflicts with a stored one of the same size: a fork proof was stored
    /// and the feed frozen.
    #[error("checkpoint of {author} at size {size} conflicts with a stored one: feed frozen")]
    CheckpointFork {
        /// The feed.
        author: PublicKey,
        /// The contested size.
        size: u64,
    },
    /// A stored or offered checkpoint note does not verify.
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] checkpoint::Error),
    /// A fork proof does not verify, or could not be built.
    #[error("fork proof: {0}")]
    Fork(#[from] fork::Error),
    /// A Merkle computation failed (size out of range).
    #[error(transparent)]
    Merkle(#[from] merkle::Error),
    /// Stored bytes did not decode.
    #[error(transparent)]
    Codec(#[from] codec::Error),
    /// Evidence was asked for an entry the store does not hold.
    #[error("entry {sequence} of {author} missing")]
    MissingEntry {
        /// The feed.
        author: PublicKey,
        /// The entry's position in it.
        sequence: u64,
    },
}

/// How long opening waits for the directory's lock to be released. Dropping a store does not
/// release the lock at once: sled's background threads hold the database a moment longer, so a
/// store reopened in the same process right after it is dropped (a node restarted in place)
/// can find the lock taken, most often under load.
const LOCK_RELEASE_DEADLINE: Duration = Duration::from_secs(5);

/// How often opening retries while the lock is held.
const LOCK_RETRY_INTERVAL: Duration = Duration::from_millis(2);

/// Opens the sled database at `path`, waiting up to [`LOCK_RELEASE_DEADLINE`] for a previous
/// handle to release its lock; a lock still held after that (another process using the
/// directory) is an error naming the directory.
fn open_database(path: &Path) -> Result<sled::Db, Error> {
    let deadline = Instant::now() + LOCK_RELEASE_DEADLINE;
    loop {
        match sled::open(path) {
            // sled 0.34.7 (pinned) reports a held lock as an I/O error of kind `Other` whose
            // text says so; the `WouldBlock` of the underlying `flock` is only in that text.
            Err(sled::Error::Io(error)) if error.to_string().contains("could not acquire lock") => {
                if Instant::now() >= deadline {
                    return Err(Error::Storage(format!(
                        "the store at {} is in use by another process (its lock is held): {error}",
                        path.display()
                    )));
                }
                std::thread::sleep(LOCK_RETRY_INTERVAL);
            }
            opened => return Ok(opened?),
        }
    }
}

impl From<sled::Error> for Error {
    fn from(error: sled::Error) -> Self {
        Error::Storage(error.to_string())
    }
}

/// What one successful append did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// Number of entries stored.
    pub count: usize,
    /// The new head of every feed the batch touched, ordered by author.
    pub heads: Vec<(PublicKey, FeedHead)>,
}

/// What [`Store::verify`] checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyReport {
    /// Entries re-verified.
    pub entries: u64,
    /// Feeds found.
    pub feeds: usize,
    /// Checkpoints re-checked against the feeds.
    pub checkpoints: usize,
}

/// In-memory state guarded by the append lock.
#[derive(Debug)]
struct State {
    /// The roster after every stored roster change.
    roster: Roster,
    /// Head of every non-empty feed.
    heads: BTreeMap<PublicKey, FeedHead>,
    /// Feeds frozen by a fork proof, with the contested sequence.
    frozen: BTreeMap<PublicKey, u64>,
    /// Append-order number of the next entry.
    next_order: u64,
    /// Merkle trees of feeds that have been asked about, kept current on append.
    trees: BTreeMap<PublicKey, merkle::Tree>,
}

/// The in-memory lookups, from what readers ask for to an entry's append order. Rebuilt from
/// the segments on reopening; changed only by the append that holds the append lock, after
/// its batch is durable. The maps hash with a seeded fast hash: their keys are digests of
/// peers' data (an author could grind entries towards colliding buckets of an unseeded hash),
/// and SipHash costs more on a path every appended entry takes.
#[derive(Debug, Default)]
struct Indexes {
    /// First order of every segment, ascending.
    segment_starts: Vec<u64>,
    /// Per feed, the order of every sequence number (feeds start at sequence 0).
    by_author: HashMap<PublicKey, Vec<u64>, SeededState>,
    /// Entry hash → order.
    by_hash: HashMap<EntryHash, u64, SeededState>,
    /// Digest of an EPCIS event hash id → order of the first entry carrying it.
    by_event: HashMap<[u8; 32], u64, SeededState>,
    /// Orders of later entries carrying an event hash id already in `by_event`, ascending.
    more_by_event: HashMap<[u8; 32], Vec<u64>, SeededState>,
}

fn event_key(event_id: &str) -> [u8; 32] {
    codec::digest(event_id.as_bytes())
}

impl Indexes {
    /// Indexes the entry stored at `order` (the next sequence of its feed).
    fn add(&mut self, order: u64, entry: &VerifiedEntry) -> Result<(), Error> {
        let orders = self.by_author.entry(entry.author()).or_default();
        if entry.sequence() != orders.len() as u64 {
            return Err(Error::Corrupt(format!(
                "entry {order} has sequence {} of {} where {} was expected",
                entry.sequence(),
                entry.author(),
                orders.len()
            )));
        }
        orders.push(order);
        self.by_hash.insert(entry.entry_hash(), order);
        if let Some(event_id) = entry.event_id_text() {
            let key = event_key(&event_id);
            match self.by_event.get(&key) {
                None => {
                    self.by_event.insert(key, order);
                }
                Some(_) => self.more_by_event.entry(key).or_default().push(order),
            }
        }
        Ok(())
    }

    /// Forgets `entry`, stored at `order`, whose feed is cut at `entry.sequence()` by the caller.
    fn forget(&mut self, order: u64, entry: &VerifiedEntry) {
        self.by_hash.remove(&entry.entry_hash());
        let Some(event_id) = entry.event_id_text() else { return };
        let key = event_key(&event_id);
        let more = self.more_by_event.get_mut(&key);
        if self.by_event.get(&key) == Some(&order) {
            match more.filter(|more| !more.is_empty()) {
                Some(more) => {
                    let next = more.remove(0);
                    self.by_event.insert(key, next);
                }
                None => {
                    self.by_event.remove(&key);
                }
            }
        } else if let Some(more) = more {
            more.retain(|&other| other != order);
        }
        if self.more_by_event.get(&key).is_some_and(Vec::is_empty) {
            self.more_by_event.remove(&key);
        }
    }

    fn order_of(&self, author: &PublicKey, sequence: u64) -> Option<u64> {
        let sequence = usize::try_from(sequence).ok()?;
        self.by_author.get(author)?.get(sequence).copied()
    }

    fn event_orders(&self, event_id: &str) -> Vec<u64> {
        let key = event_key(event_id);
        let first = self.by_event.get(&key).copied();
        let more = self.more_by_event.get(&key).into_iter().flatten().copied();
        first.into_iter().chain(more).collect()
    }

    /// First order of the segment holding `order`.
    fn segment_of(&self, order: u64) -> Option<u64> {
        let after = self.segment_starts.partition_point(|&start| start <= order);
        after.checked_sub(1).and_then(|index| self.segment_starts.get(index)).copied()
    }
}

/// A segment value: entry count (u32), the end offset of every slot's bytes (u32 each,
/// relative to the data), then the data. An empty slot is an entry dropped by a fork
/// resolution.
struct Segment<'bytes> {
    ends: &'bytes [u8],
    data: &'bytes [u8],
}

impl<'bytes> Segment<'bytes> {
    fn encode<'wire>(slots: impl ExactSizeIterator<Item = &'wire [u8]> + Clone) -> Vec<u8> {
        let data_len: usize = slots.clone().map(<[u8]>::len).sum();
        let mut bytes = Vec::with_capacity(4 + 4 * slots.len() + data_len);
        bytes.extend_from_slice(&(slots.len() as u32).to_be_bytes());
        let mut end = 0u32;
        for slot in slots.clone() {
            end += slot.len() as u32;
            bytes.extend_from_slice(&end.to_be_bytes());
        }
        for slot in slots {
            bytes.extend_from_slice(slot);
        }
        bytes
    }

    fn parse(bytes: &'bytes [u8], start: u64) -> Result<Self, Error> {
        let corrupt = || Error::Corrupt(format!("segment {start} is malformed"));
        let count = bytes.get(..4).and_then(|count| count.try_into().ok()).ok_or_else(corrupt)?;
        let count = u32::from_be_bytes(count) as usize;
        let ends = bytes.get(4..4 + 4 * count).ok_or_else(corrupt)?;
        let data = &bytes[4 + 4 * count..];
        let segment = Segment { ends, data };
        if segment.end(count).ok_or_else(corrupt)? != data.len() {
            return Err(corrupt());
        }
        Ok(segment)
    }

    fn len(&self) -> usize {
        self.ends.len() / 4
    }

    /// Where slot `slot - 1` ends (0 for slot 0).
    fn end(&self, slot: usize) -> Option<usize> {
        if slot == 0 {
            return Some(0);
        }
        let end = self.ends.get(4 * (slot - 1)..4 * slot)?;
        Some(u32::from_be_bytes(end.try_into().ok()?) as usize)
    }

    /// The wire bytes in `slot`, `None` when it is empty.
    fn slot(&self, slot: usize, start: u64) -> Result<Option<&'bytes [u8]>, Error> {
        let corrupt = || Error::Corrupt(format!("segment {start} has no slot {slot}"));
        let (from, to) =
            (self.end(slot).ok_or_else(corrupt)?, self.end(slot + 1).ok_or_else(corrupt)?);
        let wire = self.data.get(from..to).ok_or_else(corrupt)?;
        Ok((!wire.is_empty()).then_some(wire))
    }

    /// Every slot, empty ones included, in order.
    fn slots(&self, start: u64) -> Result<Vec<&'bytes [u8]>, Error> {
        (0..self.len()).map(|slot| Ok(self.slot(slot, start)?.unwrap_or_default())).collect()
    }
}

fn segment_key(start: u64) -> Vec<u8> {
    key(PREFIX_SEGMENT, &[&start.to_be_bytes()])
}

#[derive(Debug)]
struct Inner {
    /// The sled database (kept to flush and to own the tree's lifetime).
    database: sled::Db,
    /// The single tree holding everything (see the module docs for its layout).
    tree: sled::Tree,
    /// Append lock and derived state.
    state: Mutex<State>,
    /// Lookups (taken after `state` when both are needed, never before).
    indexes: RwLock<Indexes>,
    /// Threads used for signature verification.
    verify_threads: usize,
}

/// The store. Cheap to clone (an `Arc`); `Send + Sync`; every method blocks.
#[derive(Debug, Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

fn key(prefix: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + parts.iter().map(|part| part.len()).sum::<usize>());
    key.push(prefix);
    for part in parts {
        key.extend_from_slice(part);
    }
    key
}

fn read_u64(bytes: &[u8], what: &str) -> Result<u64, Error> {
    let array: [u8; 8] = bytes
        .get(..8)
        .and_then(|slice| slice.try_into().ok())
        .ok_or_else(|| Error::Corrupt(format!("{what} is not a u64")))?;
    Ok(u64::from_be_bytes(array))
}

fn read_key_tail<const N: usize>(key: &[u8], offset: usize, what: &str) -> Result<[u8; N], Error> {
    key.get(offset..offset + N)
        .and_then(|slice| slice.try_into().ok())
        .ok_or_else(|| Error::Corrupt(format!("short {what} key")))
}

fn encode_head(head: &FeedHead) -> Vec<u8> {
    let mut bytes = head.sequence.to_be_bytes().to_vec();
    bytes.extend_from_slice(head.entry_hash.as_bytes());
    bytes
}

fn decode_head(bytes: &[u8]) -> Result<FeedHead, Error> {
    let sequence = read_u64(bytes, "head")?;
    let hash: [u8; 32] = read_key_tail(bytes, 8, "head")?;
    Ok(FeedHead { sequence, entry_hash: EntryHash::from_bytes(hash) })
}

fn public_key(bytes: [u8; 32]) -> Result<PublicKey, Error> {
    PublicKey::from_bytes(bytes).map_err(|error| Error::Corrupt(error.to_string()))
}

impl Store {
    /// Opens (or creates) the store at `path` for the network started by `genesis`.
    ///
    /// The first open records the genesis; later opens refuse another one. Reopening rebuilds
    /// the roster from the stored roster changes and checks every feed head against its stored
    /// entry and every feed's latest checkpoint against its entries.
    pub fn open(path: &Path, genesis: &Genesis) -> Result<Self, Error> {
        let roster = Roster::from_genesis(genesis)?;
        let database = open_database(path)?;
        let tree = database.open_tree("lotline")?;
        let genesis_bytes = genesis.signing_bytes()?;
        match tree.get(KEY_GENESIS)? {
            Some(stored) if stored.as_ref() != genesis_bytes.as_slice() => {
                return Err(Error::GenesisMismatch);
            }
            Some(_) => {
                if tree.get(KEY_LAYOUT)?.as_deref() != Some(LAYOUT) {
                    return Err(Error::Corrupt(
                        "store written with an older layout: start from a fresh data directory"
                            .to_owned(),
                    ));
                }
            }
            None => {
                tree.insert(KEY_GENESIS, genesis_bytes)?;
                tree.insert(KEY_LAYOUT, LAYOUT)?;
                tree.flush()?;
            }
        }
        let state = State {
            roster,
            heads: BTreeMap::new(),
            frozen: BTreeMap::new(),
            next_order: 0,
            trees: BTreeMap::new(),
        };
        let verify_threads = std::thread::available_parallelism().map_or(1, usize::from);
        let store = Store {
            inner: Arc::new(Inner {
                database,
                tree,
                state: Mutex::new(state),
                indexes: RwLock::new(Indexes::default()),
                verify_threads,
            }),
        };
        store.load_state()?;
        Ok(store)
    }

    fn tree(&self) -> &sled::Tree {
        &self.inner.tree
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave sled half-written (batches are atomic);
        // the in-memory state is rebuilt from what was last flushed, so continuing is safe.
        self.inner.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn indexes(&self) -> RwLockReadGuard<'_, Indexes> {
        // Writers change the indexes only after a durable batch and cannot fail half-way.
        self.inner.indexes.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn update_indexes(
        &self,
        update: impl FnOnce(&mut Indexes) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut indexes =
            self.inner.indexes.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        update(&mut indexes)
    }

    /// Rebuilds the in-memory state and indexes from disk and checks heads and checkpoints.
    fn load_state(&self) -> Result<(), Error> {
        let mut state = self.lock();
        let mut indexes = Indexes::default();
        for item in self.tree().scan_prefix([PREFIX_SEGMENT]) {
            let (segment_key, value) = item?;
            let start = read_u64(&segment_key[1..], "segment key")?;
            let segment = Segment::parse(&value, start)?;
            indexes.segment_starts.push(start);
            for (slot, wire) in segment.slots(start)?.into_iter().enumerate() {
                if wire.is_empty() {
                    continue;
                }
                let order = start + slot as u64;
                let entry = VerifiedEntry::from_trusted_store(wire.to_vec())
                    .map_err(|error| Error::Corrupt(format!("entry {order}: {error}")))?;
                if let Some(Payload::RosterChange(change)) = entry.payload() {
                    state.roster.apply(&entry.author(), change).map_err(|error| {
                        Error::Corrupt(format!(
                            "stored roster change {order} does not apply: {error}"
                        ))
                    })?;
                }
                indexes.add(order, &entry)?;
            }
            state.next_order = start + segment.len() as u64;
        }
        for item in self.tree().scan_prefix([PREFIX_HEAD]) {
            let (head_key, head_value) = item?;
            let author = public_key(read_key_tail(&head_key, 1, "head")?)?;
            let head = decode_head(&head_value)?;
            let stored_length = indexes.by_author.get(&author).map_or(0, Vec::len) as u64;
            if stored_length != head.sequence + 1 {
                return Err(Error::Corrupt(format!(
                    "head {} of {author} but {stored_length} entries stored",
                    head.sequence
                )));
            }
            let head_order = indexes.order_of(&author, head.sequence);
            let head_hash = indexes.by_hash.get(&head.entry_hash).copied();
            if head_order.is_none() || head_order != head_hash {
                return Err(Error::Corrupt(format!("head of {author} does not match its entry")));
            }
            state.heads.insert(author, head);
        }
        if let Some(author) =
            indexes.by_author.keys().find(|author| !state.heads.contains_key(author))
        {
            return Err(Error::Corrupt(format!("entries of {author} without a head")));
        }
        for item in self.tree().scan_prefix([PREFIX_FROZEN]) {
            let (frozen_key, frozen_value) = item?;
            let author = public_key(read_key_tail(&frozen_key, 1, "frozen")?)?;
            state.frozen.insert(author, read_u64(&frozen_value, "frozen")?);
        }
        self.update_indexes(|current| {
            *current = indexes;
            Ok(())
        })?;
        let authors: Vec<PublicKey> = state.heads.keys().copied().collect();
        for author in authors {
            if let Some(checkpoint) = self.latest_checkpoint(&author)? {
                let head = checkpoint.checkpoint();
                self.check_checkpoint(&mut state, &author, head.size, &head.root)?;
            }
        }
        Ok(())
    }

    /// Decodes and verifies `wires` on all cores, then appends them as one atomic, durable
    /// batch. On any broken rule nothing of the batch is stored.
    pub fn append_batch(&self, wires: Vec<Vec<u8>>) -> Result<Appended, Error> {
        let entries = feed::decode_and_verify_parallel(wires, self.inner.verify_threads)?;
        self.append_verified(&entries)
    }

    /// Appends a stream of batches as a two-stage pipeline: while one batch is checked,
    /// written and flushed, the next is decoded and verified on all cores. `on_durable` is
    /// called with each batch's index and result, in order, once it is durable. Stops at the
    /// first rejected batch (earlier batches stay stored) and returns the entries appended.
    pub fn append_pipelined<Batches, OnDurable>(
        &self,
        batches: Batches,
        mut on_durable: OnDurable,
    ) -> Result<usize, Error>
    where
        Batches: Iterator<Item = Vec<Vec<u8>>> + Send,
        OnDurable: FnMut(usize, &Appended),
    {
        let verify_threads = self.inner.verify_threads;
        std::thread::scope(|scope| {
            // One verified batch may wait while the next is being verified: enough to keep
            // both stages busy without holding many batches in memory.
            let (verified_sender, verified_receiver) = std::sync::mpsc::sync_channel(1);
            scope.spawn(move || {
                for batch in batches {
                    let verified = feed::decode_and_verify_parallel(batch, verify_threads);
                    let failed = verified.is_err();
                    if verified_sender.send(verified).is_err() || failed {
                        break;
                    }
                }
            });
            let mut appended_entries = 0;
            for (index, verified) in verified_receiver.iter().enumerate() {
                let appended = self.append_verified(&verified?)?;
                appended_entries += appended.count;
                on_durable(index, &appended);
            }
            Ok(appended_entries)
        })
    }

    /// Appends entries already verified (signed by this node's [`feed::FeedWriter`], or decoded
    /// and verified by [`feed::decode_and_verify_parallel`], as [`Store::append_batch`] and
    /// [`Store::append_pipelined`] do): checks the feed rules in order, writes one sled batch,
    /// flushes, and only then returns.
    pub fn append_verified(&self, entries: &[VerifiedEntry]) -> Result<Appended, Error> {
        let mut state = self.lock();
        let mut batch_heads: BTreeMap<PublicKey, FeedHead> = BTreeMap::new();
        let mut batch_positions: BTreeMap<(PublicKey, u64), usize> = BTreeMap::new();
        let mut batch_roster: Option<Roster> = None;
        let mut resolutions: Vec<(PublicKey, u64, EntryHash)> = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            let author = entry.author();
            let feed_state = FeedState {
                head: batch_heads.get(&author).or_else(|| state.heads.get(&author)).copied(),
                frozen_at: state.frozen.get(&author).copied(),
            };
            let roster = batch_roster.as_ref().unwrap_or(&state.roster);
            if let Err(error) = feed::check_append(&feed_state, entry, roster) {
                if let feed::Error::Replayed { sequence, .. } = error {
                    let earlier = match batch_positions.get(&(author, sequence)) {
                        Some(&position) => entries.get(position).cloned(),
                        None => self.entry(&author, sequence)?,
                    };
                    if let Some(earlier) =
                        earlier.filter(|earlier| feed::is_equivocation(earlier, entry))
                    {
                        self.record_equivocation(&mut state, &earlier, entry)?;
                        return Err(Error::Equivocation { index, author, sequence });
                    }
                }
                return Err(Error::Rejected(BatchError { index, error }));
            }
            if let Some(Payload::RosterChange(change)) = entry.payload() {
                let roster = batch_roster.get_or_insert_with(|| state.roster.clone());
                roster
                    .apply(&author, change)
                    .map_err(|error| BatchError { index, error: error.into() })?;
                if let Change::ResolveFork { author: forked, sequence, keep } = change.change {
                    resolutions.push((forked, sequence, keep));
                }
            }
            batch_positions.insert((author, entry.sequence()), index);
            batch_heads.insert(author, entry.as_head());
        }

        let first_order = state.next_order;
        let mut batch = sled::Batch::default();
        let mut new_segments = Vec::new();
        let mut chunk_start = 0;
        while chunk_start < entries.len() {
            let mut chunk_end = chunk_start + 1;
            let mut chunk_bytes = entries[chunk_start].wire_bytes().len();
            while let Some(next) = entries.get(chunk_end) {
                chunk_bytes += next.wire_bytes().len();
                if chunk_end - chunk_start == SEGMENT_ENTRIES || chunk_bytes > SEGMENT_BYTES {
                    break;
                }
                chunk_end += 1;
            }
            let start = first_order + chunk_start as u64;
            let chunk = &entries[chunk_start..chunk_end];
            batch.insert(
                segment_key(start),
                Segment::encode(chunk.iter().map(VerifiedEntry::wire_bytes)),
            );
            new_segments.push(start);
            chunk_start = chunk_end;
        }
        for (author, head) in &batch_heads {
            batch.insert(key(PREFIX_HEAD, &[author.as_bytes()]), encode_head(head));
        }
        let mut truncated_heads: Vec<(PublicKey, Option<FeedHead>)> = Vec::new();
        let mut rewritten: BTreeMap<u64, Vec<Vec<u8>>> = BTreeMap::new();
        let mut dropped: Vec<(u64, VerifiedEntry)> = Vec::new();
        for (forked, sequence, keep) in &resolutions {
            batch.remove(key(PREFIX_FROZEN, &[forked.as_bytes()]));
            let stored = self.entry(forked, *sequence)?;
            if stored.is_some_and(|stored| stored.entry_hash() != *keep) {
                let new_head =
                    self.drop_branch(&mut batch, &mut rewritten, &mut dropped, forked, *sequence)?;
                truncated_heads.push((*forked, new_head));
            }
        }
        for (start, slots) in &rewritten {
            batch.insert(segment_key(*start), Segment::encode(slots.iter().map(Vec::as_slice)));
        }
        self.tree().apply_batch(batch)?;
        self.tree().flush()?;

        self.update_indexes(|indexes| {
            for (order, entry) in &dropped {
                indexes.forget(*order, entry);
            }
            for (forked, new_head) in &truncated_heads {
                let length = new_head.map_or(0, |head| head.sequence + 1) as usize;
                if let Some(orders) = indexes.by_author.get_mut(forked) {
                    orders.truncate(length);
                }
            }
            indexes.segment_starts.extend(new_segments);
            for (offset, entry) in entries.iter().enumerate() {
                indexes.add(first_order + offset as u64, entry)?;
            }
            Ok(())
        })?;
        state.next_order += entries.len() as u64;
        if let Some(roster) = batch_roster {
            state.roster = roster;
        }
        for (forked, _, _) in &resolutions {
            state.frozen.remove(forked);
        }
        for (forked, new_head) in truncated_heads {
            state.trees.remove(&forked);
            match new_head {
                Some(head) => state.heads.insert(forked, head),
                None => state.heads.remove(&forked),
            };
        }
        for entry in entries {
            if let Some(tree) = state.trees.get_mut(&entry.author()) {
                tree.push_leaf(entry.leaf_bytes());
            }
        }
        state.heads.extend(batch_heads.iter().map(|(author, head)| (*author, *head)));
        Ok(Appended { count: entries.len(), heads: batch_heads.into_iter().collect() })
    }

    /// Adds to `batch` the removal of `author`'s entries from `sequence` on (the branch a fork
    /// resolution rejected: their segment slots are emptied, in `rewritten`, and they are
    /// listed in `dropped`) and returns the feed's new head.
    fn drop_branch(
        &self,
        batch: &mut sled::Batch,
        rewritten: &mut BTreeMap<u64, Vec<Vec<u8>>>,
        dropped: &mut Vec<(u64, VerifiedEntry)>,
        author: &PublicKey,
        sequence: u64,
    ) -> Result<Option<FeedHead>, Error> {
        let orders: Vec<u64> = {
            let indexes = self.indexes();
            let all = indexes.by_author.get(author).map_or(&[][..], Vec::as_slice);
            all.get(sequence as usize..).unwrap_or_default().to_vec()
        };
        for order in orders {
            let start = self
                .indexes()
                .segment_of(order)
                .ok_or_else(|| Error::Corrupt(format!("entry {order} has no segment")))?;
            if let std::collections::btree_map::Entry::Vacant(vacant) = rewritten.entry(start) {
                let value = self
                    .tree()
                    .get(segment_key(start))?
                    .ok_or_else(|| Error::Corrupt(format!("segment {start} is missing")))?;
                let slots = Segment::parse(&value, start)?.slots(start)?;
                vacant.insert(slots.into_iter().map(<[u8]>::to_vec).collect());
            }
            let slot = rewritten
                .get_mut(&start)
                .and_then(|slots| slots.get_mut((order - start) as usize))
                .ok_or_else(|| Error::Corrupt(format!("segment {start} lacks entry {order}")))?;
            let wire = std::mem::take(slot);
            let entry = VerifiedEntry::from_trusted_store(wire)
                .map_err(|error| Error::Corrupt(format!("entry {order}: {error}")))?;
            dropped.push((order, entry));
        }
        let head_key = key(PREFIX_HEAD, &[author.as_bytes()]);
        if sequence == 0 {
            batch.remove(head_key);
            return Ok(None);
        }
        let previous = self
            .entry(author, sequence - 1)?
            .ok_or_else(|| Error::Corrupt(format!("missing entry {} of {author}", sequence - 1)))?;
        let head = previous.as_head();
        batch.insert(head_key, encode_head(&head));
        Ok(Some(head))
    }

    /// Stores the proof of an entry equivocation and freezes the feed (durably).
    fn record_equivocation(
        &self,
        state: &mut State,
        stored: &VerifiedEntry,
        newcomer: &VerifiedEntry,
    ) -> Result<(), Error> {
        let proof = ForkProof::from_entries(stored, newcomer)?;
        self.store_fork_proof(state, &proof)
    }

    /// Writes `proof` and the frozen mark in one durable batch.
    fn store_fork_proof(&self, state: &mut State, proof: &ForkProof) -> Result<(), Error> {
        let author = proof.author();
        let (kind, position) = match proof.position() {
            ForkPosition::Sequence(sequence) => (0u8, sequence),
            // Trees differ at or before this size: the last entry it covers is contested.
            ForkPosition::TreeSize(size) => (1u8, size.saturating_sub(1)),
        };
        let frozen_at = state.frozen.get(&author).copied().map_or(position, |at| at.min(position));
        let proof_json = serde_json::to_vec(proof)
            .map_err(|error| Error::Corrupt(format!("fork proof does not serialise: {error}")))?;
        let mut batch = sled::Batch::default();
        batch.insert(
            key(PREFIX_FORK, &[author.as_bytes(), &position.to_be_bytes(), &[kind]]),
            proof_json,
        );
        batch.insert(key(PREFIX_FROZEN, &[author.as_bytes()]), &frozen_at.to_be_bytes());
        self.tree().apply_batch(batch)?;
        self.tree().flush()?;
        state.frozen.insert(author, frozen_at);
        Ok(())
    }

    /// Verifies and stores a fork proof (built by `fork`, or received from a peer) and
    /// freezes the author's feed at the contested position.
    pub fn put_fork_proof(&self, proof: &ForkProof) -> Result<(), Error> {
        proof.verify(&proof.author())?;
        let mut state = self.lock();
        self.store_fork_proof(&mut state, proof)
    }

    /// Every stored fork proof, ordered by author and position (for export and gossip).
    pub fn fork_proofs(&self) -> Result<Vec<ForkProof>, Error> {
        self.tree()
            .scan_prefix([PREFIX_FORK])
            .map(|item| {
                let (_, proof_json) = item?;
                serde_json::from_slice(&proof_json)
                    .map_err(|error| Error::Corrupt(format!("stored fork proof: {error}")))
            })
            .collect()
    }

    /// The contested sequence if `author`'s feed is frozen by a fork proof.
    pub fn is_frozen(&self, author: &PublicKey) -> Option<u64> {
        self.lock().frozen.get(author).copied()
    }

    /// The current roster.
    pub fn roster(&self) -> Roster {
        self.lock().roster.clone()
    }

    /// Runs `read` on the roster in force without copying it (the store stays locked while it
    /// runs, so `read` must be short and must not call back into the store).
    pub fn with_roster<Output>(&self, read: impl FnOnce(&Roster) -> Output) -> Output {
        read(&self.lock().roster)
    }

    /// The head of `author`'s feed.
    pub fn head(&self, author: &PublicKey) -> Option<FeedHead> {
        self.lock().heads.get(author).copied()
    }

    /// Every feed head, ordered by author.
    pub fn heads(&self) -> Vec<(PublicKey, FeedHead)> {
        self.lock().heads.iter().map(|(author, head)| (*author, *head)).collect()
    }

    /// Total entries ever appended (the next append-order number).
    pub fn len(&self) -> u64 {
        self.lock().next_order
    }

    /// Whether no entry was ever appended.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Wire bytes of the entries at `orders` (`None` for a dropped one), reading each segment
    /// once for a run of orders in the same segment.
    fn wires_at_orders(&self, orders: &[u64]) -> Result<Vec<Option<Vec<u8>>>, Error> {
        let starts: Vec<Option<u64>> = {
            let indexes = self.indexes();
            orders.iter().map(|&order| indexes.segment_of(order)).collect()
        };
        let mut current: Option<(u64, sled::IVec)> = None;
        let mut wires = Vec::with_capacity(orders.len());
        for (&order, start) in orders.iter().zip(starts) {
            let start =
                start.ok_or_else(|| Error::Corrupt(format!("entry {order} has no segment")))?;
            if current.as_ref().is_none_or(|(loaded, _)| *loaded != start) {
                let value = self
                    .tree()
                    .get(segment_key(start))?
                    .ok_or_else(|| Error::Corrupt(format!("segment {start} is missing")))?;
                current = Some((start, value));
            }
            let Some((_, value)) = &current else { continue };
            let segment = Segment::parse(value, start)?;
            wires.push(segment.slot((order - start) as usize, start)?.map(<[u8]>::to_vec));
        }
        Ok(wires)
    }

    fn entry_at_order(&self, order: u64) -> Result<Option<VerifiedEntry>, Error> {
        match self.wires_at_orders(&[order])?.pop().flatten() {
            None => Ok(None),
            Some(wire) => VerifiedEntry::from_trusted_store(wire)
                .map(Some)
                .map_err(|error| Error::Corrupt(format!("entry {order}: {error}"))),
        }
    }

    /// The entry at `sequence` of `author`'s feed.
    pub fn entry(&self, author: &PublicKey, sequence: u64) -> Result<Option<VerifiedEntry>, Error> {
        let order = self.indexes().order_of(author, sequence);
        match order {
            None => Ok(None),
            Some(order) => self.entry_at_order(order),
        }
    }

    /// Orders of up to `limit` entries of `author`'s feed from `from` on.
    fn feed_orders(&self, author: &PublicKey, from: u64, limit: usize) -> Vec<u64> {
        let indexes = self.indexes();
        let all = indexes.by_author.get(author).map_or(&[][..], Vec::as_slice);
        let from = usize::try_from(from).unwrap_or(usize::MAX).min(all.len());
        all[from..].iter().take(limit).copied().collect()
    }

    /// Wire bytes of up to `limit` entries of `author`'s feed from `from` on, in order.
    pub fn range(
        &self,
        author: &PublicKey,
        from: u64,
        limit: usize,
    ) -> Result<Vec<Vec<u8>>, Error> {
        let orders = self.feed_orders(author, from, limit);
        self.wires_at_orders(&orders)?
            .into_iter()
            .zip(orders)
            .map(|(wire, order)| {
                wire.ok_or_else(|| {
                    Error::Corrupt(format!("feed index names dropped entry {order}"))
                })
            })
            .collect()
    }

    /// The entry with this hash.
    pub fn entry_by_hash(&self, entry_hash: &EntryHash) -> Result<Option<VerifiedEntry>, Error> {
        let order = self.indexes().by_hash.get(entry_hash).copied();
        match order {
            None => Ok(None),
            Some(order) => self.entry_at_order(order),
        }
    }

    /// Every entry carrying this EPCIS event hash id, in append order (the same event may be
    /// captured in more than one feed).
    pub fn entries_by_event_id(&self, event_id: &str) -> Result<Vec<VerifiedEntry>, Error> {
        let orders = self.indexes().event_orders(event_id);
        let mut entries = Vec::with_capacity(orders.len());
        for order in orders {
            // The index is keyed by a digest of the id: keep only exact matches.
            if let Some(entry) = self.entry_at_order(order)?
                && entry.event_id_text().as_deref() == Some(event_id)
            {
                entries.push(entry);
            }
        }
        Ok(entries)
    }

    /// The first entry carrying this EPCIS event hash id.
    pub fn entry_by_event_id(&self, event_id: &str) -> Result<Option<VerifiedEntry>, Error> {
        Ok(self.entries_by_event_id(event_id)?.into_iter().next())
    }

    /// Every stored entry in append order (the lot graph is rebuilt from this at start-up).
    pub fn entries_in_order(&self) -> impl Iterator<Item = Result<VerifiedEntry, Error>> + use<> {
        self.stored_wires().map(|item| {
            let (order, wire) = item?;
            VerifiedEntry::from_trusted_store(wire)
                .map_err(|error| Error::Corrupt(format!("entry {order}: {error}")))
        })
    }

    /// Loads (once) and returns the Merkle tree of `author`'s feed.
    fn ensure_tree<'state>(
        &self,
        state: &'state mut State,
        author: &PublicKey,
    ) -> Result<&'state merkle::Tree, Error> {
        if !state.trees.contains_key(author) {
            let mut tree = merkle::Tree::new();
            let orders = self.feed_orders(author, 0, usize::MAX);
            for (wire, order) in self.wires_at_orders(&orders)?.into_iter().zip(orders) {
                let leaf = wire
                    .as_deref()
                    .and_then(|wire| wire.get(..codec::ENVELOPE_LEN))
                    .ok_or_else(|| Error::Corrupt(format!("entry {order} has no envelope")))?;
                tree.push_leaf(leaf);
            }
            state.trees.insert(*author, tree);
        }
        state.trees.get(author).ok_or_else(|| Error::Corrupt("merkle tree vanished".to_owned()))
    }

    /// The RFC 6962 root of `author`'s feed at `size` entries (leaves are entry envelopes).
    pub fn feed_root(&self, author: &PublicKey, size: u64) -> Result<merkle::Hash, Error> {
        let mut state = self.lock();
        Ok(self.ensure_tree(&mut state, author)?.root_at(size)?)
    }

    /// Inclusion proof of entry `index` in `author`'s feed at `size`.
    pub fn inclusion_proof(
        &self,
        author: &PublicKey,
        index: u64,
        size: u64,
    ) -> Result<Vec<merkle::Hash>, Error> {
        let mut state = self.lock();
        Ok(self.ensure_tree(&mut state, author)?.inclusion_proof(index, size)?)
    }

    /// Consistency proof of `author`'s feed between two sizes.
    pub fn consistency_proof(
        &self,
        author: &PublicKey,
        old_size: u64,
        new_size: u64,
    ) -> Result<Vec<merkle::Hash>, Error> {
        let mut state = self.lock();
        Ok(self.ensure_tree(&mut state, author)?.consistency_proof(old_size, new_size)?)
    }

    fn check_checkpoint(
        &self,
        state: &mut State,
        author: &PublicKey,
        tree_size: u64,
        root: &merkle::Hash,
    ) -> Result<(), Error> {
        let tree = self.ensure_tree(state, author)?;
        if tree_size > tree.size() {
            return Err(Error::CheckpointAhead {
                author: *author,
                size: tree_size,
                length: tree.size(),
            });
        }
        if tree.root_at(tree_size)? != *root {
            return Err(Error::CheckpointMismatch { author: *author, size: tree_size });
        }
        Ok(())
    }

    /// Stores a verified checkpoint of a feed after checking its root against the stored
    /// entries. A checkpoint that conflicts with a stored one of the same size is a fork: the
    /// proof is stored, the feed frozen, and [`Error::CheckpointFork`] returned.
    pub fn put_checkpoint(&self, checkpoint: &SignedCheckpoint) -> Result<(), Error> {
        let author = checkpoint.author();
        let tree_size = checkpoint.checkpoint().size;
        let mut state = self.lock();
        if let Some(stored) = self.checkpoint_at(&author, tree_size)?
            && stored.checkpoint().root != checkpoint.checkpoint().root
        {
            let proof = ForkProof::from_checkpoints(&stored, checkpoint)?;
            self.store_fork_proof(&mut state, &proof)?;
            return Err(Error::CheckpointFork { author, size: tree_size });
        }
        self.check_checkpoint(&mut state, &author, tree_size, &checkpoint.checkpoint().root)?;
        self.write_checkpoint(checkpoint)
    }

    fn write_checkpoint(&self, checkpoint: &SignedCheckpoint) -> Result<(), Error> {
        let checkpoint_key = key(
            PREFIX_CHECKPOINT,
            &[checkpoint.author().as_bytes(), &checkpoint.checkpoint().size.to_be_bytes()],
        );
        self.tree().insert(checkpoint_key, checkpoint.to_note_text().as_bytes())?;
        self.tree().flush()?;
        Ok(())
    }

    /// Adds a witness cosignature to the stored checkpoint of `author` at `tree_size` (the
    /// caller has verified it against its witness policy). Returns `false` when no such
    /// checkpoint is stored.
    pub fn add_cosignature(
        &self,
        author: &PublicKey,
        tree_size: u64,
        cosignature: &Cosignature,
    ) -> Result<bool, Error> {
        let _append_lock = self.lock();
        let Some(mut checkpoint) = self.checkpoint_at(author, tree_size)? else {
            return Ok(false);
        };
        checkpoint.add_cosignature(cosignature)?;
        self.write_checkpoint(&checkpoint)?;
        Ok(true)
    }

    /// The stored checkpoint of `author`'s feed at `tree_size`, with its cosignatures.
    pub fn checkpoint_at(
        &self,
        author: &PublicKey,
        tree_size: u64,
    ) -> Result<Option<SignedCheckpoint>, Error> {
        let checkpoint_key = key(PREFIX_CHECKPOINT, &[author.as_bytes(), &tree_size.to_be_bytes()]);
        match self.tree().get(checkpoint_key)? {
            None => Ok(None),
            Some(note) => decode_checkpoint(author, &note).map(Some),
        }
    }

    /// The checkpoint of `author`'s feed with the largest size, with its cosignatures.
    pub fn latest_checkpoint(&self, author: &PublicKey) -> Result<Option<SignedCheckpoint>, Error> {
        let prefix = key(PREFIX_CHECKPOINT, &[author.as_bytes()]);
        match self.tree().scan_prefix(&prefix).next_back().transpose()? {
            None => Ok(None),
            Some((_, note)) => decode_checkpoint(author, &note).map(Some),
        }
    }

    /// Every stored checkpoint of `author`'s feed, by size.
    pub fn checkpoints(&self, author: &PublicKey) -> Result<Vec<SignedCheckpoint>, Error> {
        let prefix = key(PREFIX_CHECKPOINT, &[author.as_bytes()]);
        self.tree()
            .scan_prefix(&prefix)
            .map(|item| {
                let (_, note) = item?;
                decode_checkpoint(author, &note)
            })
            .collect()
    }

    /// Wire bytes of every stored entry with its order, in append order (empty slots skipped).
    fn stored_wires(&self) -> impl Iterator<Item = Result<(u64, Vec<u8>), Error>> + use<> {
        self.tree().scan_prefix([PREFIX_SEGMENT]).flat_map(|item| {
            let wires = item.map_err(Error::from).and_then(|(segment_key, value)| {
                let start = read_u64(&segment_key[1..], "segment key")?;
                let segment = Segment::parse(&value, start)?;
                Ok(segment
                    .slots(start)?
                    .into_iter()
                    .enumerate()
                    .filter(|(_, wire)| !wire.is_empty())
                    .map(|(slot, wire)| Ok((start + slot as u64, wire.to_vec())))
                    .collect::<Vec<_>>())
            });
            match wires {
                Ok(wires) => wires,
                Err(error) => vec![Err(error)],
            }
        })
    }

    /// Re-checks the whole store: every signature (in batches on all cores), every append
    /// rule replayed from the genesis roster, every index, every head and every checkpoint.
    pub fn verify(&self, genesis: &Genesis) -> Result<VerifyReport, Error> {
        let mut roster = Roster::from_genesis(genesis)?;
        let mut heads: BTreeMap<PublicKey, FeedHead> = BTreeMap::new();
        let mut entry_count = 0u64;
        let mut wires = self.stored_wires().peekable();
        while wires.peek().is_some() {
            let chunk: Vec<(u64, Vec<u8>)> =
                wires.by_ref().take(VERIFY_CHUNK).collect::<Result<_, _>>()?;
            let orders: Vec<u64> = chunk.iter().map(|(order, _)| *order).collect();
            let entries = feed::decode_and_verify_parallel(
                chunk.into_iter().map(|(_, wire)| wire).collect(),
                self.inner.verify_threads,
            )
            .map_err(|error| {
                Error::Corrupt(format!(
                    "entry {}: {}",
                    orders.get(error.index).copied().unwrap_or_default(),
                    error.error
                ))
            })?;
            for (order, entry) in orders.into_iter().zip(entries) {
                let author = entry.author();
                let feed_state = FeedState { head: heads.get(&author).copied(), frozen_at: None };
                feed::check_append(&feed_state, &entry, &roster)
                    .map_err(|error| Error::Corrupt(format!("entry {order}: {error}")))?;
                if let Some(Payload::RosterChange(change)) = entry.payload() {
                    roster
                        .apply(&author, change)
                        .map_err(|error| Error::Corrupt(format!("entry {order}: {error}")))?;
                }
                let indexes = self.indexes();
                let indexed = indexes.order_of(&author, entry.sequence()) == Some(order)
                    && indexes.by_hash.get(&entry.entry_hash()) == Some(&order)
                    && entry
                        .event_id()
                        .is_none_or(|event_id| indexes.event_orders(&event_id).contains(&order));
                drop(indexes);
                if !indexed {
                    return Err(Error::Corrupt(format!("entry {order} is not indexed")));
                }
                heads.insert(author, entry.as_head());
                entry_count += 1;
            }
        }
        let stored_heads = self.heads();
        if stored_heads != heads.iter().map(|(author, head)| (*author, *head)).collect::<Vec<_>>() {
            return Err(Error::Corrupt("stored heads differ from the replayed feeds".to_owned()));
        }
        let mut checkpoint_count = 0;
        for author in heads.keys() {
            for checkpoint in self.checkpoints(author)? {
                let mut state = self.lock();
                let head = checkpoint.checkpoint();
                self.check_checkpoint(&mut state, author, head.size, &head.root)?;
                checkpoint_count += 1;
            }
        }
        Ok(VerifyReport { entries: entry_count, feeds: heads.len(), checkpoints: checkpoint_count })
    }

    /// Flushes sled (appends already flush; this is for shutdown).
    pub fn flush(&self) -> Result<(), Error> {
        self.inner.database.flush()?;
        Ok(())
    }
}

/// Re-verifies a stored checkpoint note (stored notes are re-checked on every read, so a
/// corrupted note is never served).
fn decode_checkpoint(author: &PublicKey, note: &[u8]) -> Result<SignedCheckpoint, Error> {
    let text = std::str::from_utf8(note)
        .map_err(|_| Error::Corrupt("stored checkpoint is not utf-8".to_owned()))?;
    Ok(SignedCheckpoint::verify_feed(text, author)?)
}

/// Evidence: what a node serves beside an answer so a client can verify it without trusting
/// the node (see [`crate::proof::Evidence`]).
impl Store {
    /// The evidence for `entries` (author, sequence): for each author, the latest checkpoint
    /// and, for every listed entry it covers, the entry's signed bytes and inclusion proof at
    /// the checkpoint's size; entries beyond it (or of an author without a checkpoint) are
    /// listed as unproven. Repeated entries count once; authors come in key order and
    /// sequences ascending. An author with no covered entry gets no bundle (a bundle proves
    /// at least one entry). A listed entry the store does not hold is
    /// [`Error::MissingEntry`].
    pub fn evidence(&self, entries: &[(PublicKey, u64)]) -> Result<crate::proof::Evidence, Error> {
        use crate::proof::{BundledEntry, Evidence, ProofBundle, Unproven};

        let mut by_author: BTreeMap<PublicKey, Vec<u64>> = BTreeMap::new();
        for (author, sequence) in entries {
            by_author.entry(*author).or_default().push(*sequence);
        }
        let mut evidence = Evidence::default();
        for (author, mut sequences) in by_author {
            sequences.sort_unstable();
            sequences.dedup();
            let checkpoint = self.latest_checkpoint(&author)?;
            let size = checkpoint.as_ref().map_or(0, |checkpoint| checkpoint.checkpoint().size);
            let mut bundled_entries = Vec::new();
            for sequence in sequences {
                if sequence >= size {
                    evidence.unproven.push(Unproven { author, sequence });
                    continue;
                }
                let entry = self
                    .range(&author, sequence, 1)?
                    .into_iter()
                    .next()
                    .ok_or(Error::MissingEntry { author, sequence })?;
                let inclusion_proof = self.inclusion_proof(&author, sequence, size)?;
                bundled_entries.push(BundledEntry { index: sequence, entry, inclusion_proof });
            }
            if let (Some(checkpoint), false) = (checkpoint, bundled_entries.is_empty()) {
                evidence.bundles.push(ProofBundle {
                    checkpoint: checkpoint.to_note_text(),
                    entries: bundled_entries,
                });
            }
        }
        Ok(evidence)
    }
}
