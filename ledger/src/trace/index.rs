//! The lot graph index as callers see it ([`Index`]): the interned graph and the recall
//! summaries kept beside it, behind one type with every query method.
//!
//! Owns the public face and the one rule joining its two halves: every entry applied to the
//! graph makes the summaries forget what the events it touched may change, before any query
//! sees it. Every method forwards: maintenance and primitive reads to `graph`, the
//! queries to [`super::query`], the summaries' store and forgetting rule to
//! [`super::summary`]. Does not own any of those, nor the answer types (see
//! [`super::answer`]).

use crate::epcis;
use crate::identity::PublicKey;

use super::answer::{OneStepAnswer, RecallAnswer, TraceAnswer};
use super::event_ref::EventRef;
use super::facts::Facts;
use super::graph::{Applied, Graph, IndexStats};
use super::ids::EventId;
use super::query;
use super::subject::Subject;
use super::summary::Summaries;
use super::window::{Direction, Hazard};

/// The lot graph index: updated on every append ([`Index::apply`]), rebuilt by replaying every
/// entry, queried through `&self` by any number of threads at once.
#[derive(Debug, Default)]
pub struct Index {
    /// Every event of every feed, interned.
    graph: Graph,
    /// Each unit's part of a recall answer, kept between queries and forgotten when an entry
    /// may change it.
    summaries: Summaries,
    /// The events the entry being applied touched (see [`Graph::apply`]); kept so applying an
    /// entry allocates nothing for them.
    touched: Vec<EventId>,
}

impl Index {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Indexes one entry's event; call on every append, or on every entry to rebuild.
    pub fn apply(&mut self, entry: EventRef, event: &epcis::Event) -> Applied {
        let applied = self.graph.apply(entry, event, &mut self.touched);
        self.forget_touched();
        applied
    }

    /// Indexes one entry given its facts (what [`Index::apply`] does after digesting).
    pub fn apply_facts(&mut self, entry: EventRef, facts: Facts) -> Applied {
        let applied = self.graph.apply_facts(entry, facts, &mut self.touched);
        self.forget_touched();
        applied
    }

    /// Gives the graph's new nodes their summary slots and forgets the summaries the events
    /// just touched may change.
    fn forget_touched(&mut self) {
        self.summaries.make_slots(self.graph.node_count());
        for event_id in self.touched.drain(..) {
            self.summaries.forget_touched_by(&self.graph, event_id);
        }
    }

    /// Sizes and approximate memory, recall summaries included.
    pub fn stats(&self) -> IndexStats {
        let mut stats = self.graph.stats();
        let (summaries, summary_bytes) = self.summaries.usage();
        stats.approximate_bytes += self.summaries.slot_bytes() + summary_bytes;
        stats.summaries = summaries;
        stats.summary_bytes = summary_bytes;
        stats
    }

    /// The recall summaries held (see [`super::summary`]).
    pub fn summaries(&self) -> &Summaries {
        &self.summaries
    }

    /// Sets the heap recall summaries may take (default [`Summaries::BUDGET_BYTES`]).
    pub fn set_summary_budget(&mut self, bytes: usize) {
        self.summaries.set_budget(bytes);
    }

    /// Forgets every recall summary: the next recalls compute every unit's part in full (how
    /// the benchmark measures cold recalls).
    pub fn forget_summaries(&mut self) {
        self.summaries.forget_all();
    }

    /// Trace back (upstream) from one subject.
    pub fn trace_back(&self, subject: &Subject) -> TraceAnswer {
        self.trace(std::slice::from_ref(subject), Direction::Back)
    }

    /// Trace forward (downstream) from one subject.
    pub fn trace_forward(&self, subject: &Subject) -> TraceAnswer {
        self.trace(std::slice::from_ref(subject), Direction::Forward)
    }

    /// Trace from several subjects at once; unknown ones are reported, not fatal.
    pub fn trace(&self, subjects: &[Subject], direction: Direction) -> TraceAnswer {
        query::trace(&self.graph, &self.summaries, subjects, direction)
    }

    /// Where one subject comes from, as a consumer reads it: the trace back without handoffs
    /// and stock (see [`TraceAnswer`]; `consignees` and `in_distribution` are empty).
    pub fn provenance(&self, subject: &Subject) -> TraceAnswer {
        query::provenance(&self.graph, &self.summaries, subject)
    }

    /// Recall scope: the forward trace from every lot the hazard implicates, with consignees,
    /// quantities and what is still in distribution.
    pub fn recall_scope(&self, hazard: &Hazard) -> RecallAnswer {
        query::recall_scope(&self.graph, &self.summaries, hazard)
    }

    /// Computes and keeps the recall summaries of up to `limit` units (lots, and items with no
    /// known lot) that have none, so later recalls find their parts ready; returns how many it
    /// kept (0 once every unit has one, or when the summaries' budget is spent, so a caller
    /// looping until 0 stops). A node calls this in the background, in batches, while no
    /// entries arrive.
    pub fn summarise_missing(&self, limit: usize) -> usize {
        query::summarise_missing(&self.graph, &self.summaries, limit)
    }

    /// Whether anything was recorded about the object a canonical Digital Link names (a lot,
    /// an item, a logistic unit, a product class), so a resolver answers it without a walk.
    pub fn records_link(&self, link: &str) -> bool {
        self.graph.node_by_link(link).is_some()
    }

    /// Whether any lot of `gtin` (14 digits) was recorded.
    pub fn records_gtin(&self, gtin: &str) -> bool {
        !self.graph.lots_of_gtin(gtin).is_empty()
    }

    /// Whether any event happened at the facility `gln` (13 digits, any extension).
    pub fn records_gln(&self, gln: &str) -> bool {
        !self.graph.events_at_gln(gln).is_empty()
    }

    /// One step up and one step down for one organisation: from whom it received the lot (or
    /// the inputs it made the lot from) and to whom it shipped the lot (or what it made from
    /// it). The legal minimum every organisation must be able to answer.
    pub fn one_step(&self, organisation: &PublicKey, subject: &Subject) -> OneStepAnswer {
        query::one_step(&self.graph, &self.summaries, organisation, subject)
    }
}
