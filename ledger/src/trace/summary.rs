//! Recall summaries: what a recall answer says about one unit (lot, or item without a lot),
//! kept beside the graph between queries and forgotten when an applied entry may change it.
//!
//! Most of a recall's work is each reached lot's own part of the answer: its events found
//! through pallets, its origins, its handoffs paired shipment to receipt, what of it is still
//! in distribution. A lot's part changes only when an entry about it (or about what it was
//! shipped or packed with) arrives, so it is computed once and reused until then; a recall
//! then assembles its lots' parts and computes only the closure and the relied-on lists. The
//! node computes every lot's part ahead while no entries arrive
//! ([`super::Index::summarise_missing`]).
//!
//! Owns the store ([`Summaries`]: one slot per node, filled by queries through a shared
//! reference, emptied by maintenance through an exclusive one), its memory budget (past it new
//! parts are not kept and the recalls needing them are computed in full), and the rule for
//! what an entry may change (`Summaries::forget_touched_by`): for each applied or retracted
//! event, the slots of every unit standing for an object named by the event or its
//! transformation group, or named together with one of those by another event (two hops: a
//! receipt's pairing reads the shipments of every object it names), a pallet standing for
//! everything ever packed on it; past a budget of object reads it empties every slot. Parts
//! share their handoffs and lot details with the answers they came from (`Arc`), so a recall
//! copies a pointer per handoff. Does not own how a part is computed (see `walk`).
//!
//! **Invariant:** a stored summary equals what the walk would compute now: every path by
//! which an entry can change a unit's part of an answer empties that unit's slot when the
//! entry is applied (or retracted). Answers are therefore the same with or without summaries,
//! which the reference tests check by querying while entries arrive in shuffled order.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use rustc_hash::FxHashSet;

use super::answer::{Handoff, LotDetail, Origin, Position, Warning};
use super::facts::{Kind, ObjectKind};
use super::graph::{Graph, Role};
use super::ids::{EventId, NodeId};

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
    /// recalls needing them are computed in full). Sized to hold every lot of the benchmark's
    /// full-size chain with room to spare.
    pub const BUDGET_BYTES: usize = 256 << 20;

    /// Sets the heap the summaries may take (those held stay).
    pub fn set_budget(&mut self, bytes: usize) {
        self.budget_bytes = bytes;
    }

    /// Makes room for a slot per node of a graph of `node_count` nodes (slots only grow, as
    /// the graph's nodes do).
    pub fn make_slots(&mut self, node_count: usize) {
        if self.slots.len() < node_count {
            self.slots.resize_with(node_count, OnceLock::new);
        }
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

    /// Forgets the recall summaries that `event_id`, just applied or retracted, may change.
    ///
    /// A unit's summary reads the events naming the unit, its items or any pallet it was ever
    /// packed on (each pallet opened at the event's time); for a transformation output, the
    /// inputs of every event of its transformation group; and for each shipment or receipt
    /// among those, the shipments and receipts naming the same objects, whose own pairing
    /// reads the other objects *they* name. So the event may change the summary of a unit
    /// standing for any object named by the event or its group (first hop), or named together
    /// with one of those by another event or that event's group (second hop), where an item
    /// stands for itself and its lot and a pallet for everything ever packed on it. That set
    /// is forgotten; when reading it would take more than a budget of object reads (an object
    /// named by very many events, such as a product class), every summary is forgotten.
    pub(crate) fn forget_touched_by(&mut self, graph: &Graph, event_id: EventId) {
        /// Objects read before giving up and forgetting every summary.
        const READ_BUDGET: usize = 4096;
        if self.is_empty() {
            return;
        }
        let mut nodes: Vec<NodeId> = Vec::new();
        let mut seen: FxHashSet<NodeId> = FxHashSet::default();
        let mut reads = 0;
        // Counts one object read and keeps its node once.
        let mut add = |node: NodeId, nodes: &mut Vec<NodeId>, reads: &mut usize| {
            *reads += 1;
            if seen.insert(node) {
                nodes.push(node);
            }
        };
        // The event's objects and its group's, then everything named with them.
        let event_and_group = |event: EventId| {
            let group = graph
                .event(event)
                .transformation()
                .map_or(&[][..], |group| graph.transformation_group(group));
            std::iter::once(event)
                .chain(group.iter().copied())
                .flat_map(|member| graph.objects(graph.event(member)))
        };
        for object in event_and_group(event_id) {
            add(object.node, &mut nodes, &mut reads);
        }
        let first_hop = nodes.len();
        'second_hop: for position in 0..first_hop {
            for event in &graph.node(nodes[position]).events {
                for object in event_and_group(*event) {
                    add(object.node, &mut nodes, &mut reads);
                }
                if reads > READ_BUDGET {
                    break 'second_hop;
                }
            }
        }
        // Pallets stand for everything ever packed on them, nested ones included.
        let mut position = 0;
        while position < nodes.len() && reads <= READ_BUDGET {
            let node = nodes[position];
            position += 1;
            if graph.node(node).kind != ObjectKind::LogisticUnit {
                continue;
            }
            for event in &graph.node(node).events {
                let stored = graph.event(*event);
                let is_parent =
                    graph.objects_in(stored, Role::Parent).any(|parent| parent.node == node);
                if stored.kind != Kind::Aggregation || !is_parent {
                    continue;
                }
                for child in graph.objects_in(stored, Role::Child) {
                    add(child.node, &mut nodes, &mut reads);
                }
            }
        }
        if reads > READ_BUDGET {
            self.forget_all();
            return;
        }
        for node in nodes {
            let lot = graph.node(node).lot;
            self.forget(node);
            if let Some(lot) = lot {
                self.forget(lot);
            }
        }
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
        summaries.make_slots(3);
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
