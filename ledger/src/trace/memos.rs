//! The per-thread pool of a walk's memos and scratch buffers.
//!
//! A recall fills tens of thousands of memo entries (pallet contents at an event, each unit's
//! candidate events, shipment–receipt pairs, each node's shipments and receipts). Growing the
//! maps and arenas from nothing on every query would rehash maps and copy arenas as they grow,
//! so each thread keeps its last walk's, emptied, for the next one ([`Memos::lend`],
//! [`Memos::give_back`]): a query no larger than the thread's previous ones allocates none of
//! them again. Buffers grown past [`Memos::KEPT_BYTES`] by a rare huge answer are freed
//! instead, so the threads of a node's blocking pool hold little while idle. Memoised lists
//! live as runs ([`Span`]) of a few shared arenas instead of a vector each, freed at once.
//!
//! Owns the memo layout, the pool and the arena runs. Does not own what is memoised or when
//! (the walk's, see [`super::walk`]).

use std::ops::Range;

use rustc_hash::FxHashMap;

#[cfg(doc)]
use super::graph::Graph;
use super::graph::{ResolveScratch, Resolved, Role};
use super::ids::{EventId, NodeId};

/// A walk's memos and scratch buffers, lent by the thread for one query (see the module
/// documentation).
#[derive(Debug, Default)]
pub(super) struct Memos {
    /// Scratch for candidate events.
    pub(super) candidates: Vec<EventId>,
    /// Each unit's candidate events ([`Graph::candidate_events`]) as a run of `event_arena`:
    /// the closure and the lot pass both need them, and merging a unit's pallets' events
    /// costs a sort.
    pub(super) candidate_runs: FxHashMap<NodeId, Span>,
    /// Each event side resolved so far (pallets expanded to their contents at the event's
    /// time), as a run of `resolved_arena`: a recall meets the same pallet shipment once per
    /// lot on the pallet, and resolves it once.
    /// Whether nesting was cut off rides along.
    pub(super) resolutions: FxHashMap<(EventId, Role), (Span, bool)>,
    /// The resolved sides, one run each (see `resolutions`): one growing buffer instead of an
    /// allocation per side, freed at once.
    pub(super) resolved_arena: Vec<Resolved>,
    /// Scratch for resolving one side.
    pub(super) resolve_scratch: Vec<Resolved>,
    /// Room for opening pallets while resolving.
    pub(super) resolve_room: ResolveScratch,
    /// The shipment each receipt pairs with, as found so far.
    pub(super) shipments: FxHashMap<EventId, Option<EventId>>,
    /// The receipts each shipment pairs with, as found so far.
    pub(super) receipts: FxHashMap<EventId, Span>,
    /// The runs of `candidate_runs`, `receipts` and `custody`.
    pub(super) event_arena: Vec<EventId>,
    /// Scratch for the receipts of one shipment holding one unit.
    pub(super) receipt_scratch: Vec<EventId>,
    /// Scratch for the receipts pairing with one shipment, while they are found.
    pub(super) pairing_scratch: Vec<EventId>,
    /// Scratch for the receipts of one node, while its custody is found.
    pub(super) custody_scratch: Vec<EventId>,
    /// The effective shipments and receipts naming each node as a what-object, found once
    /// per node: pairing a lot's k shipments with its k receipts would otherwise read every
    /// event of the lot 2k times.
    pub(super) custody: FxHashMap<NodeId, Custody>,
}

thread_local! {
    /// The memos of this thread's last walk, emptied (see [`Memos`]).
    static SPARE_MEMOS: std::cell::Cell<Memos> = std::cell::Cell::new(Memos::default());
}

impl Memos {
    /// Capacity kept for the next walk, at most; a rare huge answer's buffers are freed.
    pub(super) const KEPT_BYTES: usize = 4 << 20;

    /// This thread's spare memos (empty), or new ones.
    pub(super) fn lend() -> Self {
        SPARE_MEMOS.with(std::cell::Cell::take)
    }

    /// Empties the memos and keeps them for this thread's next walk.
    pub(super) fn give_back(mut self) {
        let Self {
            candidates,
            candidate_runs,
            resolutions,
            resolved_arena,
            resolve_scratch,
            resolve_room: _,
            shipments,
            receipts,
            event_arena,
            receipt_scratch,
            pairing_scratch,
            custody_scratch,
            custody,
        } = &mut self;
        let bytes = candidate_runs.capacity() * 16
            + resolutions.capacity() * 24
            + shipments.capacity() * 16
            + receipts.capacity() * 16
            + custody.capacity() * 24
            + 4 * (candidates.capacity()
                + event_arena.capacity()
                + receipt_scratch.capacity()
                + pairing_scratch.capacity()
                + custody_scratch.capacity())
            + std::mem::size_of::<Resolved>()
                * (resolved_arena.capacity() + resolve_scratch.capacity());
        if bytes > Self::KEPT_BYTES {
            return;
        }
        candidate_runs.clear();
        resolutions.clear();
        resolved_arena.clear();
        shipments.clear();
        receipts.clear();
        event_arena.clear();
        custody.clear();
        SPARE_MEMOS.with(|spare| spare.set(self));
    }
}

/// The effective events moving one node as a what-object, in index order, as runs of
/// [`Memos::event_arena`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Custody {
    /// Events shipping it.
    pub(super) shipments: Span,
    /// Events receiving it.
    pub(super) receipts: Span,
}

/// A run of one of a walk's arenas (memoised lists live in one buffer per kind instead of an
/// allocation each).
#[derive(Debug, Clone, Copy)]
pub(super) struct Span {
    start: u32,
    len: u32,
}

impl Span {
    pub(super) fn new(start: usize, len: usize) -> Self {
        let narrow = |value: usize| u32::try_from(value).unwrap_or(u32::MAX);
        Self { start: narrow(start), len: narrow(len) }
    }

    /// Appends `items` to `arena` and names their run.
    pub(super) fn append<Item: Copy>(arena: &mut Vec<Item>, items: &[Item]) -> Self {
        let start = arena.len();
        arena.extend_from_slice(items);
        Self::new(start, items.len())
    }

    pub(super) fn range(self) -> Range<usize> {
        self.start as usize..self.start as usize + self.len as usize
    }
}
