//! Recall summaries: what a recall answer says about one unit (lot, or item without a lot),
//! kept by the index between queries and forgotten when an applied entry may change it.
//!
//! A recall spent two thirds of its instructions on each reached lot's own part of the
//! answer (callgrind, see `docs/performance.md`): its events found through pallets, its
//! origins, its handoffs paired shipment to receipt, what of it is still in distribution. A
//! lot's part changes only when an entry about it (or about what it was shipped or packed
//! with) arrives, so it is computed once and reused until then; the node computes every lot's
//! part ahead while no entries arrive. The rule for what an entry may change lives with the index
//! ([`super::Index::apply`] forgets summaries); this module only holds them.
//!
//! Owns the store ([`Summaries`]: one slot per node, filled by queries through a shared
//! reference, emptied by the index's maintenance through an exclusive one) and its memory
//! budget. Does not own how a summary is computed (see [`super::query`]).
//!
//! **Invariant:** a stored summary equals what the walk would compute now: every path by
//! which an entry can change a unit's part of an answer empties that unit's slot when the
//! entry is applied (or retracted). Answers are therefore the same with or without summaries,
//! which the reference tests check by querying while entries arrive in shuffled order.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use super::answer::{Handoff, LotDetail, Origin, Position, Warning};
use super::index::{EventId, NodeId};

/// One unit's part of a recall answer, in answer order.
#[derive(Debug)]
pub struct UnitSummary {
    /// Its detail (origins and master data; recalls list no visits).
    pub detail: Arc<LotDetail>,
    /// Its handoffs, sorted as the answer lists them.
    pub handoffs: Vec<Arc<Handoff>>,
    /// What of it is still in distribution, sorted.
    pub positions: Vec<Position>,
    /// The events its part relies on, ascending, each once.
    pub relied: Vec<EventId>,
    /// Problems met while computing its part (double receipts, pallets nested too deep).
    pub warnings: Vec<Warning>,
    /// Approximate heap bytes held, for the budget.
    bytes: usize,
}

impl UnitSummary {
    /// A summary of these parts, with its size estimated.
    pub fn new(
        detail: Arc<LotDetail>,
        handoffs: Vec<Arc<Handoff>>,
        positions: Vec<Position>,
        relied: Vec<EventId>,
        warnings: Vec<Warning>,
    ) -> Self {
        // Texts are mostly shared with the index; dates are the walk's own (about 48 bytes
        // each with the count), two per handoff and one per origin.
        const DATE_BYTES: usize = 48;
        let bytes = std::mem::size_of::<Self>()
            + detail.origins.len() * (std::mem::size_of::<Origin>() + DATE_BYTES)
            + detail.origins.iter().map(|origin| origin.inputs.len() * 16).sum::<usize>()
            + handoffs.len() * (8 + std::mem::size_of::<Handoff>() + 16 + 2 * DATE_BYTES)
            + handoffs.iter().map(|handoff| handoff.documents.len() * 32).sum::<usize>()
            + positions.len() * std::mem::size_of::<Position>()
            + relied.len() * std::mem::size_of::<EventId>()
            + warnings.len() * 128;
        Self { detail, handoffs, positions, relied, warnings, bytes }
    }
}

/// One slot per node for its summary, under a memory budget.
///
/// Filled through `&self` by concurrent queries (a slot is set once; two queries racing for
/// it computed the same value), emptied through `&mut self` by the index's maintenance, which
/// never runs beside a query.
#[derive(Debug)]
pub struct Summaries {
    /// By [`NodeId`]; grows with the index's nodes.
    slots: Vec<OnceLock<Box<UnitSummary>>>,
    /// Heap the summaries may take ([`Summaries::BUDGET_BYTES`] unless set).
    budget_bytes: usize,
    /// Summaries held.
    held: AtomicUsize,
    /// Their approximate heap bytes.
    bytes: AtomicUsize,
}

impl Default for Summaries {
    fn default() -> Self {
        Self {
            slots: Vec::new(),
            budget_bytes: Self::BUDGET_BYTES,
            held: AtomicUsize::new(0),
            bytes: AtomicUsize::new(0),
        }
    }
}

impl Summaries {
    /// Heap the summaries may take; past it new ones are not kept (answers stay the same, the
    /// recalls needing them are computed in full). Every lot of the benchmark's million-event
    /// chain (59,810 lots) takes 117 MB (see `docs/performance.md`).
    pub const BUDGET_BYTES: usize = 256 << 20;

    /// Sets the heap the summaries may take (those held stay).
    pub fn set_budget(&mut self, bytes: usize) {
        self.budget_bytes = bytes;
    }

    /// Makes room for a new node's slot.
    pub fn add_node(&mut self) {
        self.slots.push(OnceLock::new());
    }

    /// Whether no summary is held (maintenance then has nothing to forget).
    pub fn is_empty(&self) -> bool {
        self.held.load(Ordering::Relaxed) == 0
    }

    /// The summary of `unit`, when held.
    pub fn get(&self, unit: NodeId) -> Option<&UnitSummary> {
        self.slots.get(unit as usize)?.get().map(|summary| &**summary)
    }

    /// Whether the budget leaves room for more summaries (else offering one is wasted work).
    pub fn has_room(&self) -> bool {
        self.bytes.load(Ordering::Relaxed) < self.budget_bytes
    }

    /// Keeps `summary` for `unit` unless the budget is spent or another query kept one first.
    pub fn offer(&self, unit: NodeId, summary: UnitSummary) {
        let Some(slot) = self.slots.get(unit as usize) else {
            return;
        };
        let bytes = summary.bytes;
        if self.bytes.load(Ordering::Relaxed) + bytes > self.budget_bytes {
            return;
        }
        if slot.set(Box::new(summary)).is_ok() {
            self.held.fetch_add(1, Ordering::Relaxed);
            self.bytes.fetch_add(bytes, Ordering::Relaxed);
        }
    }

    /// Forgets the summary of `unit`, when held.
    pub fn forget(&mut self, unit: NodeId) {
        let Some(summary) = self.slots.get_mut(unit as usize).and_then(OnceLock::take) else {
            return;
        };
        *self.held.get_mut() -= 1;
        *self.bytes.get_mut() -= summary.bytes;
    }

    /// Forgets every summary.
    pub fn forget_all(&mut self) {
        if self.is_empty() {
            return;
        }
        for slot in &mut self.slots {
            slot.take();
        }
        *self.held.get_mut() = 0;
        *self.bytes.get_mut() = 0;
    }

    /// (summaries held, their approximate heap bytes).
    pub fn usage(&self) -> (usize, usize) {
        (self.held.load(Ordering::Relaxed), self.bytes.load(Ordering::Relaxed))
    }

    /// Heap bytes of the slots themselves.
    pub fn slot_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<OnceLock<Box<UnitSummary>>>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(relied: usize) -> UnitSummary {
        let detail = LotDetail {
            lot: "https://id.gs1.org/01/09506000134352/10/L1".into(),
            gtin: None,
            origins: Vec::new(),
            master: Default::default(),
            visits: Vec::new(),
        };
        UnitSummary::new(Arc::new(detail), Vec::new(), Vec::new(), vec![7; relied], Vec::new())
    }

    #[test]
    fn summaries_are_kept_once_counted_and_forgotten_within_the_budget() {
        let mut summaries = Summaries::default();
        for _ in 0..3 {
            summaries.add_node();
        }
        let one = summary(10).bytes;
        summaries.set_budget(2 * one + one / 2);
        summaries.offer(0, summary(10));
        summaries.offer(0, summary(99));
        assert_eq!(summaries.get(0).map(|kept| kept.relied.len()), Some(10), "first one kept");
        summaries.offer(1, summary(10));
        assert!(summaries.has_room());
        summaries.offer(2, summary(10));
        assert!(summaries.get(2).is_none(), "past the budget nothing is kept");
        assert_eq!(summaries.usage(), (2, 2 * one));
        summaries.offer(7, summary(10));
        assert_eq!(summaries.usage().0, 2, "a slot the index has not made is ignored");
        summaries.forget(0);
        summaries.forget(0);
        assert_eq!(summaries.usage(), (1, one));
        summaries.offer(2, summary(10));
        assert!(summaries.get(2).is_some(), "forgetting made room");
        summaries.forget_all();
        assert!(summaries.is_empty());
        assert_eq!(summaries.usage(), (0, 0));
        assert!(summaries.get(1).is_none());
    }
}
