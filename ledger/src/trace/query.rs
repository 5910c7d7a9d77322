//! Queries over the lot graph: trace back, trace forward, one step up / down, recall scope.
//!
//! Owns the walks and the rules that turn events into answers: transformation edges (grouped
//! by `transformationID`), handoff pairing (a receipt pairs with the latest earlier shipment
//! of the same objects that shares a reference document, a destination, the receiving place or
//! a source; documents win), quantities still in distribution (produced or received, minus
//! shipped, consumed, sold or destroyed, per holder and unit), and the warnings. Does not own
//! the index's maintenance (see [`super::index`]) nor the answer types (see [`super::answer`]).
//!
//! **Invariant:** a walk expands each unit once (iterative depth-first search with an explicit
//! path colour), so a cycle recorded by mistake is reported once per closing edge and never
//! followed again.

use std::collections::BTreeSet;
use std::ops::Range;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use serde::{Deserialize, Serialize};

use crate::identity::PublicKey;

use super::answer::{
    Handoff, Holder, LotDetail, OneStepAnswer, Origin, OriginKind, Position, RecallAnswer, Text,
    TraceAnswer, Visit, Warning,
};
use super::facts::{DocumentRef, Flow, Kind, MasterData, ObjectKind};
use super::index::{
    EndpointPair, EventId, Index, NodeId, ResolveScratch, Resolved, Role, StoredEvent, Symbol,
};
use super::subject::Subject;
use super::summary::UnitSummary;
use super::{EntryRef, EventHashId};

/// One frame of the iterative depth-first walk: the unit, its next units (with the edge's
/// event) and how many of them were taken.
type Frame = (NodeId, Vec<(NodeId, EventId)>, usize);
/// How a candidate shipment ranks for a receipt: match strength ([`handoff_match`]), then the
/// latest, then the earlier id.
type ShipmentRank = (u8, i64, std::cmp::Reverse<EventId>);

/// Amounts below this are treated as nothing left (float sums of shipped parts).
const QUANTITY_EPSILON: f64 = 1e-9;

/// Which way a trace walks the transformation edges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Upstream: from outputs to the inputs they were made from, up to harvest.
    Back,
    /// Downstream: from inputs to everything made from them.
    Forward,
}

/// A half-open window `[from, until)` of event times, in milliseconds since the Unix epoch;
/// either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeWindow {
    /// First instant inside the window.
    pub from_ms: Option<i64>,
    /// First instant after the window.
    pub until_ms: Option<i64>,
}

impl TimeWindow {
    /// A window over all time.
    pub fn all() -> Self {
        Self::default()
    }

    /// A window from RFC 3339 timestamps (either may be absent).
    pub fn parse(from: Option<&str>, until: Option<&str>) -> Result<Self, WindowError> {
        let parse_one = |text: &str| -> Result<i64, WindowError> {
            let instant = time::OffsetDateTime::parse(
                text.trim(),
                &time::format_description::well_known::Rfc3339,
            )
            .map_err(|_| WindowError::BadTimestamp(text.to_owned()))?;
            i64::try_from(instant.unix_timestamp_nanos() / 1_000_000)
                .map_err(|_| WindowError::BadTimestamp(text.to_owned()))
        };
        let window = Self {
            from_ms: from.map(parse_one).transpose()?,
            until_ms: until.map(parse_one).transpose()?,
        };
        if let (Some(from_ms), Some(until_ms)) = (window.from_ms, window.until_ms)
            && until_ms < from_ms
        {
            return Err(WindowError::Reversed);
        }
        Ok(window)
    }

    /// Whether `time_ms` falls inside.
    pub fn contains(&self, time_ms: i64) -> bool {
        self.from_ms.is_none_or(|from_ms| time_ms >= from_ms)
            && self.until_ms.is_none_or(|until_ms| time_ms < until_ms)
    }

    fn describe(&self) -> String {
        let end = |bound: Option<i64>| bound.map_or_else(|| "open".to_owned(), format_time);
        format!("[{}, {})", end(self.from_ms), end(self.until_ms))
    }
}

/// A time window that could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WindowError {
    /// Not an RFC 3339 timestamp with offset.
    #[error("time window bound {0:?} is not an RFC 3339 timestamp with an offset")]
    BadTimestamp(String),
    /// The window ends before it starts.
    #[error("time window ends before it starts")]
    Reversed,
}

/// What a recall starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hazard {
    /// Named lots (or items, or pallets: whatever they held).
    Lots(Vec<Subject>),
    /// Everything handled at a facility (GLN, any extension) within a window.
    Facility {
        /// 13-digit GLN.
        gln: String,
        /// When.
        window: TimeWindow,
    },
    /// Every lot of an ingredient GTIN named by an event within a window.
    Ingredient {
        /// 14-digit GTIN.
        gtin: String,
        /// When.
        window: TimeWindow,
    },
}

impl Index {
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
        let mut warnings = Vec::new();
        let seeds = self.seed_units(subjects, &mut warnings);
        let mut answer = Walk::new(self).run(&seeds, direction, warnings);
        answer.subjects = subjects.iter().map(|subject| subject.link().to_owned()).collect();
        answer
    }

    /// Recall scope: the forward trace from every lot the hazard implicates, with consignees,
    /// quantities and what is still in distribution.
    pub fn recall_scope(&self, hazard: &Hazard) -> RecallAnswer {
        let mut warnings = Vec::new();
        let (description, seeds) = match hazard {
            Hazard::Lots(subjects) => (
                format!(
                    "lots {}",
                    subjects.iter().map(Subject::link).collect::<Vec<_>>().join(", ")
                ),
                self.seed_units(subjects, &mut warnings),
            ),
            Hazard::Facility { gln, window } => {
                let description = format!("facility {gln} during {}", window.describe());
                (description, self.units_at_facility(gln.trim(), window))
            }
            Hazard::Ingredient { gtin, window } => {
                let description = format!("ingredient {gtin} during {}", window.describe());
                (description, self.lots_of_ingredient(gtin.trim(), window))
            }
        };
        if seeds.is_empty() && warnings.is_empty() {
            warnings.push(Warning::NothingMatched { what: description.clone() });
        }
        let mut implicated_lots: Vec<Text> =
            seeds.iter().map(|unit| Text::clone(&self.node(*unit).link)).collect();
        implicated_lots.sort();
        let mut walk = Walk::new(self);
        // A recall screen needs consignees, quantities and stock, not every visit of every lot.
        walk.with_visits = false;
        let mut trace = walk.run(&seeds, Direction::Forward, warnings);
        trace.subjects = implicated_lots.iter().map(|lot| lot.to_string()).collect();
        RecallAnswer { hazard: description, implicated_lots, trace }
    }

    /// Computes and keeps the recall summaries of up to `limit` units (lots, and items with no
    /// known lot) that have none, so later recalls find their parts ready; returns how many it
    /// kept (0 once every unit has one, or when the summaries' budget is spent, so a caller
    /// looping until 0 stops). A node calls this in the background, in batches, while no
    /// entries arrive.
    pub fn summarise_missing(&self, limit: usize) -> usize {
        if !self.summaries().has_room() {
            return 0;
        }
        let (held_before, _) = self.summaries().usage();
        let units: Vec<NodeId> = (0..self.node_count())
            .filter_map(|node| NodeId::try_from(node).ok())
            .filter(|node| {
                matches!(self.node(*node).kind, ObjectKind::Lot | ObjectKind::Item)
                    && self.unit_of(*node) == *node
                    && self.summaries().get(*node).is_none()
            })
            .take(limit)
            .collect();
        let mut walk = Walk::new(self);
        walk.with_visits = false;
        walk.lot_pass(&units);
        self.summaries().usage().0.saturating_sub(held_before)
    }

    /// One step up and one step down for one organisation: from whom it received the lot (or
    /// the inputs it made the lot from) and to whom it shipped the lot (or what it made from
    /// it). The legal minimum every organisation must be able to answer.
    pub fn one_step(&self, organisation: &PublicKey, subject: &Subject) -> OneStepAnswer {
        let mut answer = OneStepAnswer {
            organisation: organisation.to_hex(),
            lot: subject.link().to_owned(),
            ..OneStepAnswer::default()
        };
        let mut warnings = Vec::new();
        let seeds = self.seed_units(std::slice::from_ref(subject), &mut warnings);
        let Some(author) = self.author_index(organisation) else {
            warnings.push(Warning::UnknownIdentifier { identifier: organisation.to_hex() });
            answer.warnings = warnings;
            return answer;
        };
        let mut walk = Walk::new(self);
        let mut made_from = BTreeSet::new();
        let mut made_into = BTreeSet::new();
        let mut received_units = BTreeSet::new();
        let mut shipped_units = BTreeSet::new();
        for unit in &seeds {
            received_units.insert(*unit);
            shipped_units.insert(*unit);
            for (event_id, role, _) in walk.events_of_unit(*unit) {
                let event = self.event(event_id);
                if event.author != author || event.kind != Kind::Transformation {
                    continue;
                }
                let (other_role, target) = match role {
                    Role::Output => (Role::Input, &mut made_from),
                    Role::Input => (Role::Output, &mut made_into),
                    _ => continue,
                };
                walk.relied.insert(event_id);
                for (other_event, other_unit) in walk.group_units(event_id, other_role) {
                    walk.relied.insert(other_event);
                    target.insert(other_unit);
                }
            }
        }
        received_units.extend(made_from.iter().copied());
        shipped_units.extend(made_into.iter().copied());
        for unit in received_units {
            for (event_id, role, resolved) in walk.events_of_unit(unit) {
                let event = self.event(event_id);
                if event.author == author && role == Role::What && event.flow == Flow::Received {
                    let handoff = walk.receipt_handoff(unit, event_id, resolved);
                    answer.received.push(Arc::new(handoff));
                }
            }
        }
        for unit in shipped_units {
            for (event_id, role, resolved) in walk.events_of_unit(unit) {
                let event = self.event(event_id);
                if event.author == author && role == Role::What && event.flow == Flow::Shipped {
                    walk.shipment_handoffs(unit, event_id, resolved, &mut answer.shipped);
                }
            }
        }
        if seeds.is_empty() && warnings.is_empty() {
            warnings.push(Warning::UnknownIdentifier { identifier: subject.link().to_owned() });
        }
        answer.made_from =
            made_from.iter().map(|unit| Text::clone(&self.node(*unit).link)).collect();
        answer.made_into =
            made_into.iter().map(|unit| Text::clone(&self.node(*unit).link)).collect();
        answer.made_from.sort();
        answer.made_into.sort();
        sort_handoffs(&mut answer.received);
        sort_handoffs(&mut answer.shipped);
        warnings.append(&mut walk.warnings);
        warnings.sort();
        warnings.dedup();
        answer.warnings = warnings;
        (answer.events, answer.entries) = walk.relied_entries();
        answer
    }

    /// The units a subject stands for: a lot itself, an item's lot (or the item), everything
    /// a pallet ever held.
    fn seed_units(&self, subjects: &[Subject], warnings: &mut Vec<Warning>) -> Vec<NodeId> {
        let mut seeds = Vec::new();
        for subject in subjects {
            let Some(node) = self.node_by_link(subject.link()) else {
                warnings.push(Warning::UnknownIdentifier { identifier: subject.link().to_owned() });
                continue;
            };
            let mut pallets = vec![node];
            let mut position = 0;
            while position < pallets.len() {
                let current = pallets[position];
                position += 1;
                match self.node(current).kind {
                    ObjectKind::Lot | ObjectKind::Item => seeds.push(self.unit_of(current)),
                    ObjectKind::LogisticUnit => {
                        for event_id in &self.node(current).events {
                            let event = self.event(*event_id);
                            let is_parent = self
                                .objects_in(event, Role::Parent)
                                .any(|object| object.node == current);
                            if event.kind != Kind::Aggregation
                                || !event.is_effective()
                                || !is_parent
                            {
                                continue;
                            }
                            for child in self.objects_in(event, Role::Child) {
                                if !pallets.contains(&child.node) {
                                    pallets.push(child.node);
                                }
                            }
                        }
                    }
                    ObjectKind::Class | ObjectKind::Other => {}
                }
            }
        }
        seeds.sort_by(|left, right| self.node(*left).link.cmp(&self.node(*right).link));
        seeds.dedup();
        seeds
    }

    fn units_at_facility(&self, gln: &str, window: &TimeWindow) -> Vec<NodeId> {
        let mut units = BTreeSet::new();
        let mut resolved = Vec::new();
        let mut scratch = ResolveScratch::default();
        for event_id in self.events_at_gln(gln) {
            let event = self.event(*event_id);
            if !event.is_effective() || !window.contains(event.time_ms) {
                continue;
            }
            for role in [Role::What, Role::Child, Role::Input, Role::Output] {
                self.resolve(*event_id, role, &mut resolved, &mut scratch);
                units.extend(resolved.iter().map(|item| item.unit));
            }
        }
        units.into_iter().collect()
    }

    fn lots_of_ingredient(&self, gtin: &str, window: &TimeWindow) -> Vec<NodeId> {
        let mut walk = Walk::new(self);
        let mut lots = Vec::new();
        for lot in self.lots_of_gtin(gtin) {
            let named_in_window = walk
                .events_of_unit(*lot)
                .into_iter()
                .any(|(event_id, _, _)| window.contains(self.event(event_id).time_ms));
            if named_in_window {
                lots.push(*lot);
            }
        }
        lots.sort_unstable();
        lots
    }
}

/// One query's working state: scratch buffers, the events relied on, warnings.
struct Walk<'index> {
    index: &'index Index,
    /// Events the answer relies on.
    relied: EventSet,
    /// Problems met.
    warnings: Vec<Warning>,
    /// Memos and scratch, lent by the thread (see [`Memos`]).
    memo: Memos,
    /// Event times already formatted.
    time_texts: FxHashMap<i64, Text>,
    /// Whether answers list every visit of every lot (trace) or only what a recall needs.
    with_visits: bool,
    /// Endpoint types by id.
    kinds: EndpointKinds,
}

impl<'index> Walk<'index> {
    fn new(index: &'index Index) -> Self {
        Self {
            index,
            relied: EventSet::new(index.event_count()),
            warnings: Vec::new(),
            memo: Memos::lend(),
            time_texts: FxHashMap::default(),
            with_visits: true,
            kinds: EndpointKinds::of(index),
        }
    }

    /// The units on the `role` side of `event_id`, pallets expanded (memoised per query).
    /// Nesting cut off is reported at every use, not only the first, so each unit's part of
    /// an answer carries the warnings of what it read (see [`UnitSummary`]).
    fn resolve(&mut self, event_id: EventId, role: Role) -> &[Resolved] {
        let (span, cut_off) = match self.memo.resolutions.get(&(event_id, role)) {
            Some(found) => *found,
            None => {
                let mut resolved = std::mem::take(&mut self.memo.resolve_scratch);
                let cut_off =
                    self.index.resolve(event_id, role, &mut resolved, &mut self.memo.resolve_room);
                let span = Span::append(&mut self.memo.resolved_arena, &resolved);
                self.memo.resolve_scratch = resolved;
                self.memo.resolutions.insert((event_id, role), (span, cut_off));
                (span, cut_off)
            }
        };
        if cut_off {
            self.note_nesting(event_id, role);
        }
        &self.memo.resolved_arena[span.range()]
    }

    /// The events that may name `unit` once resolved (memoised).
    fn candidates_of(&mut self, unit: NodeId) -> Span {
        if let Some(span) = self.memo.candidate_runs.get(&unit) {
            return *span;
        }
        let mut candidates = std::mem::take(&mut self.memo.candidates);
        self.index.candidate_events(unit, &mut candidates);
        let span = Span::append(&mut self.memo.event_arena, &candidates);
        self.memo.candidates = candidates;
        self.memo.candidate_runs.insert(unit, span);
        span
    }

    /// Every effective event that names `unit` once resolved, with the role and the resolved
    /// amount; an event naming it in two roles appears twice.
    fn events_of_unit(&mut self, unit: NodeId) -> Vec<(EventId, Role, Resolved)> {
        let mut found = Vec::new();
        self.events_of_unit_into(unit, &mut found);
        found
    }

    /// [`Walk::events_of_unit`] into `found` (cleared first), so one buffer serves every unit.
    fn events_of_unit_into(&mut self, unit: NodeId, found: &mut Vec<(EventId, Role, Resolved)>) {
        const ROLES: [Role; 4] = [Role::What, Role::Child, Role::Input, Role::Output];
        let index = self.index;
        let candidates = self.candidates_of(unit);
        found.clear();
        for position in candidates.range() {
            let event_id = self.memo.event_arena[position];
            let event = index.event(event_id);
            if !event.is_effective() {
                continue;
            }
            // Nine events in ten name one object: its role and kind decide at once.
            if let [object] = index.objects(event) {
                if object.role == Role::Parent {
                    continue;
                }
                let item = match object.kind {
                    ObjectKind::LogisticUnit => self
                        .resolve(event_id, object.role)
                        .iter()
                        .find(|item| item.unit == unit)
                        .copied(),
                    ObjectKind::Lot | ObjectKind::Item => (index.unit_of(object.node) == unit)
                        .then(|| Resolved { unit, quantity: object.quantity(), uom: object.uom() }),
                    ObjectKind::Class | ObjectKind::Other => None,
                };
                if let Some(item) = item {
                    found.push((event_id, object.role, item));
                }
                continue;
            }
            // One pass over the objects: which roles the event has, and which hold pallets.
            let (mut present, mut with_pallets) = ([false; 4], [false; 4]);
            for object in index.objects(event) {
                if let Some(slot) = ROLES.iter().position(|role| *role == object.role) {
                    present[slot] = true;
                    with_pallets[slot] |= object.kind == ObjectKind::LogisticUnit;
                }
            }
            for (slot, role) in ROLES.into_iter().enumerate() {
                if !present[slot] {
                    continue;
                }
                let item = if with_pallets[slot] {
                    self.resolve(event_id, role).iter().find(|item| item.unit == unit).copied()
                } else {
                    direct_resolution(index, event, role, unit)
                };
                if let Some(item) = item {
                    found.push((event_id, role, item));
                }
            }
        }
    }

    fn note_nesting(&mut self, event_id: EventId, role: Role) {
        let index = self.index;
        for object in index.objects_in(index.event(event_id), role) {
            let node = index.node(object.node);
            if node.kind == ObjectKind::LogisticUnit {
                self.warnings
                    .push(Warning::NestingTooDeep { logistic_unit: node.link.to_string() });
            }
        }
    }

    /// The units on the `role` side of a transformation, across its `transformationID` group,
    /// with the event each comes from.
    fn group_units(&mut self, event_id: EventId, role: Role) -> Vec<(EventId, NodeId)> {
        let index = self.index;
        let event = index.event(event_id);
        let group: Vec<EventId> = match event.transformation() {
            Some(group) => index
                .transformation_group(group)
                .iter()
                .copied()
                .filter(|member| {
                    let member_event = index.event(*member);
                    member_event.is_effective() && member_event.kind == Kind::Transformation
                })
                .collect(),
            None => vec![event_id],
        };
        let mut units = Vec::new();
        for member in group {
            units.extend(self.resolve(member, role).iter().map(|item| (member, item.unit)));
        }
        units
    }

    /// The next units along `direction` from `unit`, with the transformation event of each edge.
    /// Only transformations are resolved here (and only on the `unit` side), which keeps the
    /// walk itself cheap; the full per-unit pass happens once, in [`Walk::run`].
    fn neighbours(&mut self, unit: NodeId, direction: Direction) -> Vec<(NodeId, EventId)> {
        let (from_role, to_role) = match direction {
            Direction::Forward => (Role::Input, Role::Output),
            Direction::Back => (Role::Output, Role::Input),
        };
        let index = self.index;
        let candidates = self.candidates_of(unit);
        let mut next = Vec::new();
        for position in candidates.range() {
            let event_id = self.memo.event_arena[position];
            let event = index.event(event_id);
            if event.kind != Kind::Transformation
                || !event.is_effective()
                || !index.objects(event).iter().any(|object| object.role == from_role)
            {
                continue;
            }
            if !self.resolve(event_id, from_role).iter().any(|item| item.unit == unit) {
                continue;
            }
            for (member, other) in self.group_units(event_id, to_role) {
                next.push((other, member));
            }
        }
        // Link order, not id order: answers must not depend on the order entries arrived in.
        // Events compare by author key and sequence, which name an entry on their own.
        let entry_order = |event: EventId| {
            let (author, sequence) = index.entry_position(event);
            (index.author(author), sequence)
        };
        next.sort_by(|left, right| {
            (&index.node(left.0).link, entry_order(left.1))
                .cmp(&(&index.node(right.0).link, entry_order(right.1)))
        });
        next.dedup();
        next
    }

    /// Closure of `seeds` along `direction` (seeds first), reporting cycles.
    fn closure(&mut self, seeds: &[NodeId], direction: Direction) -> Vec<NodeId> {
        const ON_PATH: u8 = 1;
        const DONE: u8 = 2;
        let index = self.index;
        let mut colour: FxHashMap<NodeId, u8> = FxHashMap::default();
        let mut order = Vec::new();
        for seed in seeds {
            if colour.contains_key(seed) {
                continue;
            }
            colour.insert(*seed, ON_PATH);
            order.push(*seed);
            let first = self.neighbours(*seed, direction);
            let mut stack: Vec<Frame> = vec![(*seed, first, 0)];
            while let Some((current, next, position)) = stack.last_mut() {
                let Some((neighbour, event_id)) = next.get(*position).copied() else {
                    colour.insert(*current, DONE);
                    stack.pop();
                    continue;
                };
                *position += 1;
                let current = *current;
                match colour.get(&neighbour) {
                    None => {
                        colour.insert(neighbour, ON_PATH);
                        order.push(neighbour);
                        let further = self.neighbours(neighbour, direction);
                        stack.push((neighbour, further, 0));
                    }
                    Some(&ON_PATH) => self.warnings.push(Warning::Cycle {
                        from: index.node(current).link.to_string(),
                        to: index.node(neighbour).link.to_string(),
                        event: index.event_hash_id(event_id).clone(),
                    }),
                    Some(_) => {}
                }
            }
        }
        order
    }

    /// A full trace answer over the closure of `seeds`.
    fn run(
        mut self,
        seeds: &[NodeId],
        direction: Direction,
        warnings: Vec<Warning>,
    ) -> TraceAnswer {
        let index = self.index;
        self.warnings = warnings;
        let mut units = self.closure(seeds, direction);
        units.sort_by(|left, right| index.node(*left).link.cmp(&index.node(*right).link));
        let mut answer = self.lot_pass(&units);
        self.warnings.sort();
        self.warnings.dedup();
        answer.warnings = std::mem::take(&mut self.warnings);
        (answer.events, answer.entries) = self.relied_entries();
        answer
    }

    /// Everything the answer says about `units` (sorted by link): each unit's detail, its
    /// handoffs and what of it is still in distribution; the caller adds warnings and entries.
    fn lot_pass(&mut self, units: &[NodeId]) -> TraceAnswer {
        let index = self.index;
        let mut answer = TraceAnswer::default();
        // About four handoffs per lot (4.2 on average in the benchmark's recalls, as many in the
        // largest): growing a vector of these large structs copies all of them.
        answer.consignees.reserve(units.len() * 5);
        answer.details.reserve(units.len());
        answer.lots.reserve(units.len());
        let mut found = Vec::new();
        let mut masters: Vec<(i64, EventId, &MasterData)> = Vec::new();
        // One unit's amounts, summed per holder in event order (its events are all met while
        // the unit is processed); what is left is sorted per unit.
        let mut amounts = Amounts::default();
        // Answers list units in link order (`units` is sorted so), and each unit's handoffs and
        // positions are added while it is processed: sorting within each unit's run sorts all.
        for unit in units {
            let first_handoff = answer.consignees.len();
            let first_position = answer.in_distribution.len();
            let first_relied = self.relied.len();
            let first_warning = self.warnings.len();
            let node = index.node(*unit);
            match node.kind {
                ObjectKind::Lot => answer.lots.push(Text::clone(&node.link)),
                _ => answer.items.push(Text::clone(&node.link)),
            }
            // A recall reuses the unit's part when the index holds it.
            let summary = if self.with_visits { None } else { index.summaries().get(*unit) };
            if let Some(summary) = summary {
                answer.details.push(summary.detail.clone());
                answer.consignees.extend_from_slice(&summary.handoffs);
                answer.in_distribution.extend_from_slice(&summary.positions);
                self.relied.extend(&summary.relied);
                self.warnings.extend_from_slice(&summary.warnings);
                continue;
            }
            let mut detail = LotDetail {
                lot: Text::clone(&node.link),
                gtin: node.gtin.map(|gtin| index.text(gtin)),
                origins: Vec::new(),
                master: MasterData::default(),
                visits: Vec::new(),
            };
            masters.clear();
            self.events_of_unit_into(*unit, &mut found);
            for (event_id, role, resolved) in found.iter().copied() {
                self.relied.insert(event_id);
                let event = index.event(event_id);
                let uom = resolved.uom;
                let quantity = resolved.quantity.unwrap_or(0.0);
                let own = HolderId::Organisation(event.author);
                if self.with_visits {
                    detail.visits.push(Visit {
                        place: event.place().map(|place| index.text(place)),
                        organisation: index.author_hex(event.author),
                        date: self.time_text(event.time_ms),
                        biz_step: event.biz_step().map(|step| index.text(step)),
                        flow: if role == Role::What { event.flow } else { Flow::Observed },
                        event: index.event_hash_id(event_id).clone(),
                    });
                }
                match (role, event.kind) {
                    (Role::What, _) => match event.flow {
                        Flow::Produced => {
                            amounts.add((own, uom), quantity);
                            detail.origins.push(self.origin(event_id, OriginKind::Commissioned));
                            if let Some(master) = index.master(event_id) {
                                masters.push((event.time_ms, event_id, master));
                            }
                        }
                        Flow::Received => {
                            amounts.add((own, uom), quantity);
                            if self.shipment_for_receipt(event_id).is_none() {
                                answer.consignees.push(Arc::new(
                                    self.receipt_handoff(*unit, event_id, resolved),
                                ));
                            }
                        }
                        Flow::Shipped => {
                            amounts.add((own, uom), -quantity);
                            let received = self.shipment_handoffs(
                                *unit,
                                event_id,
                                resolved,
                                &mut answer.consignees,
                            );
                            if !received {
                                let holder = HolderId::Consignee {
                                    party: self.kinds.party(index.destinations(event)),
                                    location: self.kinds.location(index.destinations(event)),
                                };
                                amounts.add((holder, uom), quantity);
                            }
                        }
                        Flow::Ended => {
                            amounts.add((own, uom), -quantity);
                        }
                        Flow::Observed => {}
                    },
                    (Role::Input, Kind::Transformation) => {
                        amounts.add((own, uom), -quantity);
                    }
                    (Role::Output, Kind::Transformation) => {
                        amounts.add((own, uom), quantity);
                        detail.origins.push(self.origin(event_id, OriginKind::Transformed));
                        if let Some(master) = index.master(event_id) {
                            masters.push((event.time_ms, event_id, master));
                        }
                    }
                    _ => {}
                }
            }
            masters.sort_by_key(|(time_ms, event_id, _)| (*time_ms, *event_id));
            for (_, _, master) in masters.iter().copied() {
                detail.master.merge_missing(master);
            }
            detail
                .origins
                .sort_by(|left, right| (&left.date, &left.event).cmp(&(&right.date, &right.event)));
            detail
                .visits
                .sort_by(|left, right| (&left.date, &left.event).cmp(&(&right.date, &right.event)));
            answer.details.push(Arc::new(detail));
            sort_handoffs(&mut answer.consignees[first_handoff..]);
            for ((holder, uom), quantity) in amounts.drain() {
                if quantity <= QUANTITY_EPSILON {
                    continue;
                }
                let holder = match holder {
                    HolderId::Organisation(author) => {
                        Holder::Organisation { key: index.author_hex(author) }
                    }
                    HolderId::Consignee { party, location } => Holder::Consignee {
                        party: party.map(|party| index.text(party)),
                        location: location.map(|location| index.text(location)),
                    },
                };
                answer.in_distribution.push(Position {
                    lot: Text::clone(&node.link),
                    holder,
                    quantity,
                    uom: uom.map(|uom| index.text(uom)),
                });
            }
            answer.in_distribution[first_position..]
                .sort_by(|left, right| (&left.holder, &left.uom).cmp(&(&right.holder, &right.uom)));
            if !self.with_visits
                && index.summaries().has_room()
                && let Some(detail) = answer.details.last()
            {
                let mut relied = self.relied.since(first_relied).to_vec();
                relied.sort_unstable();
                relied.dedup();
                let summary = UnitSummary::new(
                    detail.clone(),
                    answer.consignees[first_handoff..].to_vec(),
                    answer.in_distribution[first_position..].to_vec(),
                    relied,
                    self.warnings[first_warning..].to_vec(),
                );
                index.summaries().offer(*unit, summary);
            }
        }
        answer
    }

    fn origin(&mut self, event_id: EventId, how: OriginKind) -> Origin {
        let index = self.index;
        let event = index.event(event_id);
        let mut inputs = BTreeSet::new();
        if how == OriginKind::Transformed {
            for (member, input) in self.group_units(event_id, Role::Input) {
                self.relied.insert(member);
                inputs.insert(Text::clone(&index.node(input).link));
            }
        }
        Origin {
            how,
            organisation: index.author_hex(event.author),
            place: event.place().map(|place| index.text(place)),
            date: self.time_text(event.time_ms),
            inputs: inputs.into_iter().collect(),
            event: index.event_hash_id(event_id).clone(),
        }
    }

    /// The shipment a receipt pairs with: among effective shipments naming one of the same
    /// objects at or before the receipt and matching it ([`handoff_match`]), the strongest
    /// match first (a shared document, then the receiving site or a destination, then only a
    /// source), then the latest, then the first indexed.
    fn shipment_for_receipt(&mut self, receipt: EventId) -> Option<EventId> {
        if let Some(shipment) = self.memo.shipments.get(&receipt) {
            return *shipment;
        }
        let index = self.index;
        let receiving = index.event(receipt);
        let mut best: Option<(ShipmentRank, EventId)> = None;
        for object in index.objects_in(receiving, Role::What) {
            let custody = self.custody_of(object.node);
            for candidate in &self.memo.event_arena[custody.shipments.range()] {
                let shipping = index.event(*candidate);
                if shipping.time_ms > receiving.time_ms {
                    continue;
                }
                let Some(strength) = handoff_match(index, &self.kinds, shipping, receiving) else {
                    continue;
                };
                let rank = (strength, shipping.time_ms, std::cmp::Reverse(*candidate));
                if best.is_none_or(|(best_rank, _)| rank > best_rank) {
                    best = Some((rank, *candidate));
                }
            }
        }
        let shipment = best.map(|(_, shipment)| shipment);
        self.memo.shipments.insert(receipt, shipment);
        shipment
    }

    /// The effective shipments and receipts naming `node` as a what-object (memoised).
    fn custody_of(&mut self, node: NodeId) -> Custody {
        if let Some(custody) = self.memo.custody.get(&node) {
            return *custody;
        }
        let index = self.index;
        // One pass over the node's events: shipments go straight to the arena, receipts wait
        // in scratch and follow them.
        let mut receipts = std::mem::take(&mut self.memo.custody_scratch);
        receipts.clear();
        let start = self.memo.event_arena.len();
        for event_id in &index.node(node).events {
            let event = index.event(*event_id);
            let moves = matches!(event.flow, Flow::Shipped | Flow::Received)
                && event.is_effective()
                && index.objects_in(event, Role::What).any(|what| what.node == node);
            if !moves {
                continue;
            }
            if event.flow == Flow::Shipped {
                self.memo.event_arena.push(*event_id);
            } else {
                receipts.push(*event_id);
            }
        }
        let shipments = Span::new(start, self.memo.event_arena.len() - start);
        let runs = [shipments, Span::append(&mut self.memo.event_arena, &receipts)];
        self.memo.custody_scratch = receipts;
        let custody = Custody { shipments: runs[0], receipts: runs[1] };
        self.memo.custody.insert(node, custody);
        custody
    }

    /// The receipts that pair with a shipment, in time order.
    fn receipts_for_shipment(&mut self, shipment: EventId) -> Span {
        if let Some(receipts) = self.memo.receipts.get(&shipment) {
            return *receipts;
        }
        let index = self.index;
        let shipping = index.event(shipment);
        let mut receipts = std::mem::take(&mut self.memo.pairing_scratch);
        receipts.clear();
        for object in index.objects_in(shipping, Role::What) {
            let custody = self.custody_of(object.node);
            for position in custody.receipts.range() {
                let candidate = self.memo.event_arena[position];
                let receiving = index.event(candidate);
                if receiving.time_ms < shipping.time_ms
                    || receipts.contains(&candidate)
                    || handoff_match(index, &self.kinds, shipping, receiving).is_none()
                {
                    continue;
                }
                if self.shipment_for_receipt(candidate) == Some(shipment) {
                    receipts.push(candidate);
                }
            }
        }
        receipts.sort_by_key(|receipt| (index.event(*receipt).time_ms, *receipt));
        let span = Span::append(&mut self.memo.event_arena, &receipts);
        self.memo.pairing_scratch = receipts;
        self.memo.receipts.insert(shipment, span);
        span
    }

    /// Adds the handoffs of one shipment of `unit` to `handoffs`: one per receipt that received
    /// the unit, or one without receipt. Reports a shipment received more than once. Returns
    /// whether any receipt is recorded.
    fn shipment_handoffs(
        &mut self,
        unit: NodeId,
        shipment: EventId,
        shipped: Resolved,
        handoffs: &mut Vec<Arc<Handoff>>,
    ) -> bool {
        let index = self.index;
        let mut receipts = std::mem::take(&mut self.memo.receipt_scratch);
        receipts.clear();
        for position in self.receipts_for_shipment(shipment).range() {
            let receipt = self.memo.event_arena[position];
            if self.resolve(receipt, Role::What).iter().any(|item| item.unit == unit) {
                receipts.push(receipt);
            }
        }
        if receipts.len() > 1 {
            self.warnings.push(Warning::ReceivedTwice {
                lot: index.node(unit).link.to_string(),
                shipping_event: index.event_hash_id(shipment).clone(),
                receiving_events: receipts
                    .iter()
                    .map(|receipt| index.event_hash_id(*receipt).clone())
                    .collect(),
            });
        }
        self.relied.insert(shipment);
        let received = !receipts.is_empty();
        if !received {
            handoffs.push(Arc::new(self.build_handoff(unit, Some(shipment), None, shipped)));
        }
        for receipt in receipts.iter().copied() {
            self.relied.insert(receipt);
            let handoff = self.build_handoff(unit, Some(shipment), Some(receipt), shipped);
            handoffs.push(Arc::new(handoff));
        }
        self.memo.receipt_scratch = receipts;
        received
    }

    /// The handoff of one receipt of `unit`, with its shipment when one pairs.
    fn receipt_handoff(&mut self, unit: NodeId, receipt: EventId, received: Resolved) -> Handoff {
        let shipment = self.shipment_for_receipt(receipt);
        self.relied.insert(receipt);
        let mut amount = received;
        if let Some(shipment) = shipment {
            self.relied.insert(shipment);
            if let Some(shipped) =
                self.resolve(shipment, Role::What).iter().find(|item| item.unit == unit)
            {
                amount = *shipped;
            }
        }
        self.build_handoff(unit, shipment, Some(receipt), amount)
    }

    /// One handoff of `unit` from its shipping and receiving events (either may be missing).
    fn build_handoff(
        &mut self,
        unit: NodeId,
        shipment: Option<EventId>,
        receipt: Option<EventId>,
        amount: Resolved,
    ) -> Handoff {
        let index = self.index;
        let shipping = shipment.map(|event| index.event(event));
        let receiving = receipt.map(|event| index.event(event));
        let kinds = self.kinds;
        let text = |symbol: Symbol| index.text(symbol);
        let party = shipping
            .and_then(|event| kinds.party(index.destinations(event)))
            .or_else(|| receiving.and_then(|event| kinds.party(index.destinations(event))))
            .map(text);
        let location = shipping
            .and_then(|event| kinds.location(index.destinations(event)))
            .or_else(|| receiving.and_then(StoredEvent::place))
            .map(text);
        let ship_from = shipping
            .and_then(|event| kinds.location(index.sources(event)).or(event.place()))
            .map(text);
        // Both sides usually cite the same despatch advice: repeats are dropped by interned id
        // before any text is taken, so most handoffs carry one document and need no sort.
        let shipped = shipping.map_or(&[][..], |event| index.documents(event));
        let received = receiving.map_or(&[][..], |event| index.documents(event));
        // Only each document's first citation counts (the lists are a few long).
        let first_citations = shipped
            .iter()
            .enumerate()
            .filter(|(position, document)| !shipped[..*position].contains(document))
            .chain(received.iter().enumerate().filter(|(position, document)| {
                !shipped.contains(document) && !received[..*position].contains(document)
            }))
            .map(|(_, document)| document);
        let mut documents: Vec<DocumentRef> = Vec::with_capacity(first_citations.clone().count());
        for document in first_citations {
            documents.push(DocumentRef {
                document_type: document.kind().map(|kind| index.text(kind)),
                id: index.text(document.id),
            });
        }
        if documents.len() > 1 {
            documents.sort();
        }
        Handoff {
            lot: Text::clone(&index.node(unit).link),
            party,
            location,
            quantity: amount.quantity,
            uom: amount.uom.map(|uom| index.text(uom)),
            shipped_by: shipping.map(|event| index.author_hex(event.author)),
            shipped_at: shipping.map(|event| self.time_text(event.time_ms)),
            ship_from,
            received_by: receiving.map(|event| index.author_hex(event.author)),
            received_at: receiving.map(|event| self.time_text(event.time_ms)),
            documents,
            shipping_event: shipment.map(|event| index.event_hash_id(event).clone()),
            receiving_event: receipt.map(|event| index.event_hash_id(event).clone()),
        }
    }

    /// `format_time(time_ms)`, formatted once per query.
    fn time_text(&mut self, time_ms: i64) -> Text {
        // Nearly every lookup finds the time (a recall meets ~300 times ~2,500 times): a plain
        // look-up first is cheaper than the entry API.
        if let Some(text) = self.time_texts.get(&time_ms) {
            return Text::clone(text);
        }
        let text: Text = format_time(time_ms).into();
        self.time_texts.insert(time_ms, Text::clone(&text));
        text
    }

    /// The relied-on events as sorted hash ids and sorted entries.
    fn relied_entries(&mut self) -> (Vec<EventHashId>, Vec<EntryRef>) {
        relied_lists(self.index, &self.relied.to_sorted_vec())
    }
}

/// A walk's memos and scratch buffers. A recall fills tens of thousands of memo entries;
/// growing the maps and arenas from nothing on every query (rehashing, copying arenas) cost
/// about 6 % of its instructions, so each thread keeps its last walk's, emptied, for the next
/// one. In the full-size benchmark they held at most 0.72 MB (the estimate [`Memos::give_back`]
/// makes, over 3,030 traces and recalls; a trace's 32 KB); buffers grown past
/// [`Memos::KEPT_BYTES`] by a rare huge answer are freed instead, so a node's query threads
/// (which tokio retires after 10 s idle) hold little.
#[derive(Debug, Default)]
struct Memos {
    /// Scratch for candidate events.
    candidates: Vec<EventId>,
    /// Each unit's candidate events ([`Index::candidate_events`]) as a run of `event_arena`:
    /// the closure and the lot pass both need them, and merging a unit's pallets' events
    /// costs a sort.
    candidate_runs: FxHashMap<NodeId, Span>,
    /// Each event side resolved so far (pallets expanded to their contents at the event's
    /// time), as a run of `resolved_arena`: a recall meets the same pallet shipment once per
    /// lot on the pallet, and resolves it once.
    /// Whether nesting was cut off rides along.
    resolutions: FxHashMap<(EventId, Role), (Span, bool)>,
    /// The resolved sides, one run each (see `resolutions`): one growing buffer instead of an
    /// allocation per side, freed at once.
    resolved_arena: Vec<Resolved>,
    /// Scratch for resolving one side.
    resolve_scratch: Vec<Resolved>,
    /// Room for opening pallets while resolving.
    resolve_room: ResolveScratch,
    /// The shipment each receipt pairs with, as found so far.
    shipments: FxHashMap<EventId, Option<EventId>>,
    /// The receipts each shipment pairs with, as found so far.
    receipts: FxHashMap<EventId, Span>,
    /// The runs of `candidate_runs`, `receipts` and `custody`.
    event_arena: Vec<EventId>,
    /// Scratch for the receipts of one shipment holding one unit.
    receipt_scratch: Vec<EventId>,
    /// Scratch for the receipts pairing with one shipment, while they are found.
    pairing_scratch: Vec<EventId>,
    /// Scratch for the receipts of one node, while its custody is found.
    custody_scratch: Vec<EventId>,
    /// The effective shipments and receipts naming each node as a what-object, found once
    /// per node: pairing a lot's k shipments with its k receipts would otherwise read every
    /// event of the lot 2k times.
    custody: FxHashMap<NodeId, Custody>,
}

thread_local! {
    /// The memos of this thread's last walk, emptied (see [`Memos`]).
    static SPARE_MEMOS: std::cell::Cell<Memos> = std::cell::Cell::new(Memos::default());
}

impl Memos {
    /// Capacity kept for the next walk, at most; a rare huge answer's buffers are freed.
    const KEPT_BYTES: usize = 4 << 20;

    /// This thread's spare memos (empty), or new ones.
    fn lend() -> Self {
        SPARE_MEMOS.with(std::cell::Cell::take)
    }

    /// Empties the memos and keeps them for this thread's next walk.
    fn give_back(mut self) {
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

impl Drop for Walk<'_> {
    fn drop(&mut self) {
        std::mem::take(&mut self.memo).give_back();
    }
}

/// The events an answer relies on. A recall adds ten thousand events with many repeats: they
/// are pushed as met, and handed back in id order through one bit per indexed event (no sort);
/// a small trace sorts its few events instead of clearing a bitmap as large as the index.
#[derive(Debug)]
struct EventSet {
    /// Every event added, repeats included.
    pushed: Vec<EventId>,
    /// Events in the index (bitmap size).
    event_count: usize,
}

impl EventSet {
    /// Events per pushed event above which a sort beats scanning the bitmap.
    const EVENTS_PER_SORTED: usize = 512;

    fn new(event_count: usize) -> Self {
        Self { pushed: Vec::new(), event_count }
    }

    fn insert(&mut self, event: EventId) {
        self.pushed.push(event);
    }

    fn extend(&mut self, events: &[EventId]) {
        self.pushed.extend_from_slice(events);
    }

    /// Events added so far, repeats included (a mark for [`EventSet::since`]).
    fn len(&self) -> usize {
        self.pushed.len()
    }

    /// The events added since the mark `start`, repeats included.
    fn since(&self, start: usize) -> &[EventId] {
        &self.pushed[start..]
    }

    /// The events, ascending, each once.
    fn to_sorted_vec(&self) -> Vec<EventId> {
        if self.pushed.len() * Self::EVENTS_PER_SORTED < self.event_count {
            let mut events = self.pushed.clone();
            events.sort_unstable();
            events.dedup();
            return events;
        }
        let mut words = vec![0u64; self.event_count.div_ceil(64)];
        for event in &self.pushed {
            let word = *event as usize / 64;
            if word >= words.len() {
                words.resize(word + 1, 0);
            }
            words[word] |= 1 << (event % 64);
        }
        let distinct = words.iter().map(|word| word.count_ones() as usize).sum();
        let mut events = Vec::with_capacity(distinct);
        for (position, word) in words.iter().enumerate() {
            let mut bits = *word;
            while bits != 0 {
                events.push((position * 64) as EventId + bits.trailing_zeros());
                bits &= bits - 1;
            }
        }
        events
    }
}

/// The relied-on `events` (distinct, ascending) as an answer lists them: their Event Hash IDs
/// sorted without duplicates (one event may sit in two feeds), and their entries sorted by
/// author and position.
///
/// Events come in id order, which is each feed's order in practice, so entries are bucketed by
/// author (a counting sort over the few dozen authors met) and a bucket is sorted only when it
/// is not already in position order. Hash ids are sorted by a radix sort on their first bytes.
/// Every entry is read from the index in id order first, so the later reads hit the cache.
fn relied_lists(index: &Index, events: &[EventId]) -> (Vec<EventHashId>, Vec<EntryRef>) {
    const UNRANKED: u32 = u32::MAX;
    let mut rank_of_author = vec![UNRANKED; index.author_count()];
    let mut authors_met: Vec<u32> = Vec::new();
    let positions: Vec<(u32, u64)> = events
        .iter()
        .map(|event_id| {
            let (author, sequence) = index.entry_position(*event_id);
            if rank_of_author[author as usize] == UNRANKED {
                rank_of_author[author as usize] = 0;
                authors_met.push(author);
            }
            (author, sequence)
        })
        .collect();
    authors_met.sort_unstable_by_key(|author| index.author(*author));
    let mut bucket_starts = vec![0usize; authors_met.len() + 1];
    for (rank, author) in authors_met.iter().enumerate() {
        rank_of_author[*author as usize] = rank as u32;
    }
    for (author, _) in &positions {
        bucket_starts[rank_of_author[*author as usize] as usize + 1] += 1;
    }
    for rank in 1..bucket_starts.len() {
        bucket_starts[rank] += bucket_starts[rank - 1];
    }
    // Positions in `events`, grouped by author rank, ascending within each group.
    let mut order = vec![0usize; events.len()];
    let mut next_slot = bucket_starts.clone();
    for (position, (author, _)) in positions.iter().enumerate() {
        let slot = &mut next_slot[rank_of_author[*author as usize] as usize];
        order[*slot] = position;
        *slot += 1;
    }
    let sequence = |position: &usize| positions[*position].1;
    for bucket in bucket_starts.windows(2) {
        let positions = &mut order[bucket[0]..bucket[1]];
        if !positions.is_sorted_by_key(sequence) {
            positions.sort_unstable_by_key(sequence);
        }
    }
    let entries = order.iter().map(|position| index.entry(events[*position])).collect();
    let hash_ids: Vec<&EventHashId> =
        events.iter().map(|event_id| index.event_hash_id(*event_id)).collect();
    (sorted_hash_ids(&hash_ids), entries)
}

/// `hash_ids` sorted, without duplicates. Digests are radix-sorted on their first
/// [`PREFIX_BITS`] bits (three stable passes of 11-bit digits, every digit counted in one read
/// of the keys), then each run sharing that prefix (the same event in two feeds, or a
/// coincidence: among a few thousand digests, two share 33 bits once in several hundred answers) is
/// put in full order and rid of repeats; the rare ids kept as text are merged in by a full
/// sort.
fn sorted_hash_ids(hash_ids: &[&EventHashId]) -> Vec<EventHashId> {
    /// Bits of the digest the radix sort orders by, and of one digit.
    const PREFIX_BITS: u32 = 33;
    const DIGIT_BITS: u32 = 11;
    const PASSES: usize = PREFIX_BITS.div_ceil(DIGIT_BITS) as usize;
    const BUCKETS: usize = 1 << DIGIT_BITS;
    let digit = |prefix: u64, pass: usize| {
        (prefix >> (DIGIT_BITS as usize * pass)) as usize & (BUCKETS - 1)
    };
    let mut keys: Vec<(u64, u32)> = Vec::with_capacity(hash_ids.len());
    let mut texts: Vec<EventHashId> = Vec::new();
    for (position, hash_id) in hash_ids.iter().enumerate() {
        match hash_id {
            EventHashId::Sha256(digest) => {
                let leading = digest.first_chunk().copied().map_or(0, u64::from_be_bytes);
                keys.push((leading >> (64 - PREFIX_BITS), position as u32));
            }
            EventHashId::Text(_) => texts.push((*hash_id).clone()),
        }
    }
    let mut starts = vec![[0u32; BUCKETS]; PASSES];
    for (prefix, _) in &keys {
        for (pass, counts) in starts.iter_mut().enumerate() {
            counts[digit(*prefix, pass)] += 1;
        }
    }
    for counts in &mut starts {
        let mut total = 0;
        for count in counts.iter_mut() {
            (*count, total) = (total, total + *count);
        }
    }
    let mut scratch = vec![(0u64, 0u32); keys.len()];
    for (pass, next_slot) in starts.iter_mut().enumerate() {
        for key in &keys {
            let slot = &mut next_slot[digit(key.0, pass)];
            scratch[*slot as usize] = *key;
            *slot += 1;
        }
        std::mem::swap(&mut keys, &mut scratch);
    }
    let mut sorted: Vec<EventHashId> = Vec::with_capacity(keys.len() + texts.len());
    for run in keys.chunk_by_mut(|left, right| left.0 == right.0) {
        if let [(_, position)] = run {
            sorted.push(hash_ids[*position as usize].clone());
            continue;
        }
        run.sort_unstable_by(|left, right| {
            hash_ids[left.1 as usize].cmp(hash_ids[right.1 as usize])
        });
        let first = sorted.len();
        for (_, position) in run.iter() {
            let hash_id = hash_ids[*position as usize];
            if sorted.len() == first || sorted.last() != Some(hash_id) {
                sorted.push(hash_id.clone());
            }
        }
    }
    if !texts.is_empty() {
        sorted.append(&mut texts);
        sorted.sort_unstable();
        sorted.dedup();
    }
    sorted
}

/// The effective events moving one node as a what-object, in index order, as runs of
/// [`Walk::event_arena`].
#[derive(Debug, Clone, Copy)]
struct Custody {
    /// Events shipping it.
    shipments: Span,
    /// Events receiving it.
    receipts: Span,
}

/// A run of one of a walk's arenas (memoised lists live in one buffer per kind instead of an
/// allocation each).
#[derive(Debug, Clone, Copy)]
struct Span {
    start: u32,
    len: u32,
}

impl Span {
    fn new(start: usize, len: usize) -> Self {
        let narrow = |value: usize| u32::try_from(value).unwrap_or(u32::MAX);
        Self { start: narrow(start), len: narrow(len) }
    }

    /// Appends `items` to `arena` and names their run.
    fn append<Item: Copy>(arena: &mut Vec<Item>, items: &[Item]) -> Self {
        let start = arena.len();
        arena.extend_from_slice(items);
        Self::new(start, items.len())
    }

    fn range(self) -> Range<usize> {
        self.start as usize..self.start as usize + self.len as usize
    }
}

/// One unit's amounts per (holder, unit of measure), summed in the order they are added. Keys
/// are packed into one integer (compared in an instruction, hashed in a multiply); a unit's
/// first [`Amounts::SCANNED`] keys are found by a scan, more through a map, so a lot spread
/// over thousands of holders stays linear.
#[derive(Debug, Default)]
struct Amounts {
    /// Packed keys, in the order first met; `totals` runs alongside.
    keys: Vec<u128>,
    /// The totals, with the key they belong to.
    totals: Vec<((HolderId, Option<Symbol>), f64)>,
    /// Where each key's total is, once there are more than [`Amounts::SCANNED`].
    slots: FxHashMap<u128, usize>,
}

impl Amounts {
    /// Keys found by a scan.
    const SCANNED: usize = 8;

    /// `(holder, uom)` as one integer: a tag bit, then three 33-bit fields (a symbol plus one,
    /// zero for none; an author index).
    fn packed((holder, uom): (HolderId, Option<Symbol>)) -> u128 {
        let symbol = |symbol: Option<Symbol>| symbol.map_or(0, |symbol| u128::from(symbol) + 1);
        let (tag, first, second) = match holder {
            HolderId::Organisation(author) => (0, u128::from(author), 0),
            HolderId::Consignee { party, location } => (1, symbol(party), symbol(location)),
        };
        tag << 99 | first << 66 | second << 33 | symbol(uom)
    }

    fn add(&mut self, key: (HolderId, Option<Symbol>), amount: f64) {
        let packed = Self::packed(key);
        let slot = if self.keys.len() <= Self::SCANNED {
            self.keys.iter().position(|held| *held == packed)
        } else {
            if self.slots.is_empty() {
                self.slots.extend(self.keys.iter().enumerate().map(|(slot, held)| (*held, slot)));
            }
            self.slots.get(&packed).copied()
        };
        match slot {
            Some(slot) => self.totals[slot].1 += amount,
            None => {
                if !self.slots.is_empty() {
                    self.slots.insert(packed, self.keys.len());
                }
                self.keys.push(packed);
                self.totals.push((key, amount));
            }
        }
    }

    /// The totals, leaving none.
    fn drain(&mut self) -> std::vec::Drain<'_, ((HolderId, Option<Symbol>), f64)> {
        self.slots.clear();
        self.keys.clear();
        self.totals.drain(..)
    }
}

/// Who holds an amount, by index ids while the walk adds amounts up (strings are made only
/// for what is left in distribution).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum HolderId {
    /// An organisation on the ledger, by author index.
    Organisation(u32),
    /// The consignee named by a shipment nobody recorded receiving (interned party, location).
    Consignee { party: Option<Symbol>, location: Option<Symbol> },
}

/// What `event` names of `unit` in `role` when that side holds no pallet: the same answer as
/// [`Index::resolve`] (amounts of the unit added up per unit of measure, the first unit of
/// measure in order kept) without resolving and storing the whole side.
fn direct_resolution(
    index: &Index,
    event: &StoredEvent,
    role: Role,
    unit: NodeId,
) -> Option<Resolved> {
    let mut found: Option<Resolved> = None;
    for object in index.objects_in(event, role) {
        let named_unit = match object.kind {
            ObjectKind::Lot | ObjectKind::Item => index.unit_of(object.node),
            ObjectKind::LogisticUnit | ObjectKind::Class | ObjectKind::Other => continue,
        };
        if named_unit != unit {
            continue;
        }
        let (quantity, uom) = (object.quantity(), object.uom());
        match &mut found {
            Some(sum) if sum.uom == uom => {
                sum.quantity = sum.quantity.zip(quantity).map(|(left, right)| left + right);
            }
            Some(sum) if sum.uom < uom => {}
            _ => found = Some(Resolved { unit, quantity, uom }),
        }
    }
    found
}

/// How strongly a shipment and a receipt are two sides of one handoff (higher is stronger),
/// or `None` when they are not: they share a reference document (3); the receipt is at the
/// shipment's destination, or they name the same destination (2); they only name the same
/// source (1). A shipment whose ship-to location is another site than where the goods were
/// received is not that receipt's shipment unless a document ties them (the same producer
/// ships one lot to several customers: the source alone cannot tell them apart).
fn handoff_match(
    index: &Index,
    kinds: &EndpointKinds,
    shipping: &StoredEvent,
    receiving: &StoredEvent,
) -> Option<u8> {
    let received_documents = index.documents(receiving);
    let shares_document = index.documents(shipping).iter().any(|shipped_document| {
        received_documents
            .iter()
            .any(|received_document| shipped_document.id == received_document.id)
    });
    if shares_document {
        return Some(3);
    }
    let shipped_to = index.destinations(shipping);
    if let Some(received_at) = receiving.place() {
        let mut ship_to = shipped_to
            .iter()
            .filter(|destination| destination.kind() == kinds.location)
            .map(|destination| destination.id)
            .peekable();
        if ship_to.peek().is_some() {
            let same_site = |place: Symbol| {
                place == received_at || site(index.symbol(place)) == site(index.symbol(received_at))
            };
            return ship_to.any(same_site).then_some(2);
        }
    }
    let received_destinations = index.destinations(receiving);
    let shares_destination =
        shipped_to.iter().any(|destination| received_destinations.contains(destination));
    if shares_destination {
        return Some(2);
    }
    let received_sources = index.sources(receiving);
    let shares_source =
        index.sources(shipping).iter().any(|source| received_sources.contains(source));
    shares_source.then_some(1)
}

/// The site of a place: its Digital Link without a GLN extension (`/254/…`), so a receipt at
/// a dock of a site matches a shipment to the site.
fn site(place: &str) -> &str {
    // A byte scan: `str::find` sets up a substring searcher, which costs more than these
    // short links take to scan.
    let extension = place.as_bytes().windows(5).position(|window| window == b"/254/");
    extension.map_or(place, |extension| &place[..extension])
}

/// The interned CBV source/destination types a walk looks for, resolved once per query so
/// endpoints are compared by id rather than by text (`None`: never recorded, so never found).
#[derive(Debug, Clone, Copy)]
struct EndpointKinds {
    owning_party: Option<Symbol>,
    possessing_party: Option<Symbol>,
    location: Option<Symbol>,
}

impl EndpointKinds {
    fn of(index: &Index) -> Self {
        Self {
            owning_party: index.find_symbol("owning_party"),
            possessing_party: index.find_symbol("possessing_party"),
            location: index.find_symbol("location"),
        }
    }

    /// The party an endpoint list names: its owning party, else its possessing party.
    fn party(&self, endpoints: &[EndpointPair]) -> Option<Symbol> {
        endpoint_of(endpoints, self.owning_party)
            .or_else(|| endpoint_of(endpoints, self.possessing_party))
    }

    /// The location an endpoint list names.
    fn location(&self, endpoints: &[EndpointPair]) -> Option<Symbol> {
        endpoint_of(endpoints, self.location)
    }
}

/// The id of the first endpoint of type `kind`.
fn endpoint_of(endpoints: &[EndpointPair], kind: Option<Symbol>) -> Option<Symbol> {
    let kind = kind?;
    endpoints.iter().find(|endpoint| endpoint.kind() == Some(kind)).map(|endpoint| endpoint.id)
}

fn sort_handoffs(handoffs: &mut [Arc<Handoff>]) {
    /// Texts of one answer are shared: the same time or lot is usually the same allocation,
    /// equal without reading it.
    fn text_order(left: &Text, right: &Text) -> std::cmp::Ordering {
        if Text::ptr_eq(left, right) { std::cmp::Ordering::Equal } else { left.cmp(right) }
    }
    fn optional_text_order(left: &Option<Text>, right: &Option<Text>) -> std::cmp::Ordering {
        match (left, right) {
            (Some(left), Some(right)) => text_order(left, right),
            _ => left.is_some().cmp(&right.is_some()),
        }
    }
    // Handoffs equal on this key are equal altogether (same lot and events): an unstable sort
    // gives the same order and moves these large structs less.
    handoffs.sort_unstable_by(|left, right| {
        text_order(&left.lot, &right.lot)
            .then_with(|| optional_text_order(&left.shipped_at, &right.shipped_at))
            .then_with(|| optional_text_order(&left.received_at, &right.received_at))
            .then_with(|| left.shipping_event.cmp(&right.shipping_event))
            .then_with(|| left.receiving_event.cmp(&right.receiving_event))
    });
}

/// Formats milliseconds since the Unix epoch as RFC 3339 UTC with milliseconds
/// (`2026-03-01T08:30:00.000Z`).
///
/// Years 1 to 9999 are written digit by digit (a recall formats a few hundred dates, and the
/// `time` crate's formatter cost 4 % of one); other instants go through `time`.
pub fn format_time(time_ms: i64) -> String {
    const MS_PER_DAY: i64 = 86_400_000;
    let (year, month, day) = civil_date(time_ms.div_euclid(MS_PER_DAY));
    if !(1..=9999).contains(&year) {
        return format_time_in_any_year(time_ms);
    }
    let of_day = time_ms.rem_euclid(MS_PER_DAY);
    // Two digits at a time, by constant divisors (the compiler turns them into multiplies).
    let mut text = String::with_capacity(24);
    let mut two_digits = |value: i64, separator: Option<char>| {
        text.push(char::from(b'0' + (value / 10) as u8));
        text.push(char::from(b'0' + (value % 10) as u8));
        if let Some(separator) = separator {
            text.push(separator);
        }
    };
    two_digits(year / 100, None);
    two_digits(year % 100, Some('-'));
    two_digits(month, Some('-'));
    two_digits(day, Some('T'));
    two_digits(of_day / 3_600_000, Some(':'));
    two_digits(of_day / 60_000 % 60, Some(':'));
    two_digits(of_day / 1_000 % 60, Some('.'));
    let millisecond = of_day % 1_000;
    two_digits(millisecond / 10, None);
    text.push(char::from(b'0' + (millisecond % 10) as u8));
    text.push('Z');
    text
}

/// The proleptic Gregorian (year, month, day) of a count of days since 1970-01-01: the
/// calendar counted in 400-year eras of 146,097 days, each year starting on 1 March so that
/// the leap day falls last.
fn civil_date(days: i64) -> (i64, i64, i64) {
    let shifted = days + 719_468; // days from 0000-03-01
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// [`format_time`] through the `time` crate, for instants outside years 1 to 9999 (and as the
/// reference the hand-written form is tested against).
fn format_time_in_any_year(time_ms: i64) -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(time_ms) * 1_000_000)
        .ok()
        .and_then(|instant| instant.format(&format).ok())
        .unwrap_or_else(|| time_ms.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Amounts add up per key the same way with a few holders (scanned) and with many (mapped),
    /// keys staying in the order first met.
    #[test]
    fn amounts_add_up_per_holder_and_unit() {
        for holders in [3_u32, 8, 9, 40] {
            let mut amounts = Amounts::default();
            let mut expected: Vec<((HolderId, Option<Symbol>), f64)> = Vec::new();
            for round in 0..5 {
                for holder in 0..holders {
                    let key = if holder % 2 == 0 {
                        (HolderId::Organisation(holder), Some(round % 2))
                    } else {
                        (HolderId::Consignee { party: Some(holder), location: None }, None)
                    };
                    let amount = f64::from(holder) + 0.5 - f64::from(round);
                    amounts.add(key, amount);
                    match expected.iter_mut().find(|(held, _)| *held == key) {
                        Some((_, total)) => *total += amount,
                        None => expected.push((key, amount)),
                    }
                }
            }
            let totals: Vec<_> = amounts.drain().collect();
            assert_eq!(totals, expected, "with {holders} holders");
            assert_eq!(amounts.drain().count(), 0);
        }
    }

    /// Thousands of hash ids, with repeats and shared prefixes of every length, alone and with
    /// a few kept as text, come out exactly as a plain sort and dedup leaves them.
    #[test]
    fn many_relied_hash_ids_sort_like_a_plain_sort() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut ids: Vec<EventHashId> = Vec::new();
        for position in 0..6_000 {
            let mut digest = [0u8; 32];
            for chunk in digest.chunks_mut(8) {
                chunk.copy_from_slice(&next().to_be_bytes());
            }
            if position % 7 == 0 && !ids.is_empty() {
                // Shares a prefix of 0 to 32 bytes with an earlier id (32: the same id).
                if let EventHashId::Sha256(earlier) = &ids[next() as usize % ids.len()] {
                    let shared = next() as usize % 33;
                    digest[..shared].copy_from_slice(&earlier[..shared]);
                }
            }
            ids.push(EventHashId::Sha256(digest));
        }
        let texts = (0..6).map(|position| EventHashId::new(&format!("urn:uuid:{position}")));
        let with_texts: Vec<EventHashId> = ids.iter().cloned().chain(texts).collect();
        // Digests alone take the radix path only; with texts the merge path too.
        for ids in [ids, with_texts] {
            let mut expected = ids.clone();
            expected.sort();
            expected.dedup();
            assert!(expected.len() < ids.len(), "the ids include repeats");
            let borrowed: Vec<&EventHashId> = ids.iter().collect();
            assert_eq!(sorted_hash_ids(&borrowed), expected);
        }
    }

    /// Dates written digit by digit read exactly as the `time` crate writes them: every day
    /// boundary of the leap-year rules (1600, 1900, 2000, 2100), the ends of the supported
    /// range, instants before 1970, and a spread of instants across the nine millennia.
    #[test]
    fn times_format_like_the_time_crate() {
        let date_ms = |year: i32, month: time::Month, day: u8| {
            let date = time::Date::from_calendar_date(year, month, day).expect("a real date");
            date.midnight().assume_utc().unix_timestamp() * 1_000
        };
        let mut instants = vec![0, -1, 1, 999, -86_400_000, 1_767_571_200_123];
        for year in [1, 4, 100, 400, 1600, 1900, 1969, 1970, 2000, 2024, 2100, 9999] {
            for (month, day) in [(time::Month::January, 1), (time::Month::February, 28)] {
                let midnight = date_ms(year, month, day);
                instants.extend([midnight - 1, midnight, midnight + 86_400_000 + 3_723_456]);
            }
        }
        let last = date_ms(9999, time::Month::December, 31) + 86_399_999;
        instants.extend([last, last + 1, date_ms(1, time::Month::January, 1) - 1]);
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            instants.push(
                date_ms(1, time::Month::January, 1)
                    + (state % (last as u64 + 62_135_596_800_000)) as i64,
            );
        }
        for instant in instants {
            assert_eq!(format_time(instant), format_time_in_any_year(instant), "at {instant} ms");
        }
    }

    /// Both ways of listing a set (sorting a few, scanning the bitmap for many) give the
    /// events ascending and each once.
    #[test]
    fn event_sets_list_each_event_once_in_order() {
        let added = [70, 3, 3, 64, 0, 199, 70, 5];
        let mut expected = added.to_vec();
        expected.sort_unstable();
        expected.dedup();
        for event_count in [200, 200 * EventSet::EVENTS_PER_SORTED] {
            let mut set = EventSet::new(event_count);
            for event in added {
                set.insert(event);
            }
            assert_eq!(set.to_sorted_vec(), expected, "with {event_count} events indexed");
        }
    }

    /// Hash ids sort as their text: digests sharing their first bytes, the same id twice (one
    /// event in two feeds) and ids kept as text all land where a plain sort puts them.
    #[test]
    fn relied_hash_ids_sort_like_their_text() {
        let digest = |first: u8, last: u8| {
            let mut bytes = [0x5a; 32];
            bytes[0] = first;
            bytes[31] = last;
            EventHashId::Sha256(bytes)
        };
        let ids = [
            digest(0x80, 2),
            digest(0x80, 1),
            EventHashId::new("urn:uuid:7c5e8b1e-0000-4000-8000-000000000001"),
            digest(0x01, 9),
            digest(0x80, 2),
            digest(0xff, 0),
            EventHashId::new("ni:///sha-256;00?ver=CBV2.0"),
        ];
        let entries: Vec<EntryRef> = ids
            .iter()
            .enumerate()
            .map(|(sequence, event_hash_id)| EntryRef {
                author: crate::identity::Keypair::from_seed([7; 32]).public_key(),
                sequence: sequence as u64,
                entry_hash: [0; 32],
                event_hash_id: event_hash_id.clone(),
            })
            .collect();
        let mut expected = ids.to_vec();
        expected.sort_by_key(ToString::to_string);
        expected.dedup();
        let hash_ids: Vec<&EventHashId> =
            entries.iter().map(|entry| &entry.event_hash_id).collect();
        assert_eq!(sorted_hash_ids(&hash_ids), expected);
    }
}
