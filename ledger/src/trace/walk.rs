//! The graph walk behind every query: one query's working state ([`Walk`]) and the passes
//! over the graph that fill an answer.
//!
//! Owns the closure along transformation edges (grouped by `transformationID`; iterative
//! depth-first search with an explicit path colour), the lot pass that turns each reached
//! unit's events into its part of an answer (detail, origins, handoffs, what is still in
//! distribution, the events relied on, warnings), pairing shipments with receipts through
//! memoised custody lists, and the per-query caches: pallet contents at an event, candidate
//! events, pairs, formatted times. Memos live in buffers lent by the thread (see
//! [`super::memos`]); pallets are opened in room the walk lends to [`Graph::resolve`], so
//! opening one allocates nothing. A recall reuses a unit's part from the recall summaries
//! when the index holds it and offers the parts it computes (see [`super::summary`]). Does not
//! own what a query starts from (see [`super::query`]), the pairing rules (see
//! [`super::handoff`]), the relied-on lists (see [`super::relied`]) nor the graph's upkeep.
//!
//! **Invariant:** a walk expands each unit once (iterative depth-first search with an explicit
//! path colour), so a cycle recorded by mistake is reported once per closing edge and never
//! followed again.

use std::collections::BTreeSet;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::amounts::{Amounts, HolderId, QUANTITY_EPSILON};
use super::answer::{
    Handoff, Holder, LotDetail, Origin, OriginKind, Position, TraceAnswer, Visit, Warning,
};
use super::event_ref::EventRef;
use super::facts::{DocumentRef, Flow, Kind, MasterData, ObjectKind};
use super::graph::{Graph, Resolved, Role, StoredEvent};
use super::handoff::{EndpointKinds, handoff_match, sort_handoffs};
use super::hash_id::EventHashId;
use super::ids::{EventId, NodeId, Symbol};
use super::memos::{Custody, Memos, Span};
use super::relied::{EventSet, relied_lists};
use super::summary::{Summaries, UnitSummary};
use super::text::Text;
use super::time_format::format_time;
use super::window::Direction;

/// One frame of the iterative depth-first walk: the unit, its next units (with the edge's
/// event) and how many of them were taken.
type Frame = (NodeId, Vec<(NodeId, EventId)>, usize);
/// How a candidate shipment ranks for a receipt: match strength ([`handoff_match`]), then the
/// latest, then the earlier id.
type ShipmentRank = (u8, i64, std::cmp::Reverse<EventId>);

/// One query's working state: scratch buffers, the events relied on, warnings.
pub(super) struct Walk<'graph> {
    /// The graph walked.
    graph: &'graph Graph,
    /// The recall summaries: read for units whose part is held, offered the parts computed.
    summaries: &'graph Summaries,
    /// Events the answer relies on.
    pub(super) relied: EventSet,
    /// Problems met.
    pub(super) warnings: Vec<Warning>,
    /// Memos and scratch, lent by the thread (see [`Memos`]).
    memo: Memos,
    /// Event times already formatted.
    time_texts: FxHashMap<i64, Text>,
    /// Whether answers list every visit of every lot (trace) or only what a recall needs.
    pub(super) with_visits: bool,
    /// Whether answers list handoffs (who got how much) and what is still in distribution;
    /// an answer about where a lot comes from, as a consumer reads it, needs neither.
    pub(super) with_handoffs: bool,
    /// Endpoint types by id.
    kinds: EndpointKinds,
}

impl<'graph> Walk<'graph> {
    /// A walk over `graph`, reading and offering recall parts in `summaries`.
    pub(super) fn new(graph: &'graph Graph, summaries: &'graph Summaries) -> Self {
        Self {
            graph,
            summaries,
            relied: EventSet::new(graph.event_count()),
            warnings: Vec::new(),
            memo: Memos::lend(),
            time_texts: FxHashMap::default(),
            with_visits: true,
            with_handoffs: true,
            kinds: EndpointKinds::of(graph),
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
                    self.graph.resolve(event_id, role, &mut resolved, &mut self.memo.resolve_room);
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
        self.graph.candidate_events(unit, &mut candidates);
        let span = Span::append(&mut self.memo.event_arena, &candidates);
        self.memo.candidates = candidates;
        self.memo.candidate_runs.insert(unit, span);
        span
    }

    /// Every effective event that names `unit` once resolved, with the role and the resolved
    /// amount; an event naming it in two roles appears twice.
    pub(super) fn events_of_unit(&mut self, unit: NodeId) -> Vec<(EventId, Role, Resolved)> {
        let mut found = Vec::new();
        self.events_of_unit_into(unit, &mut found);
        found
    }

    /// [`Walk::events_of_unit`] into `found` (cleared first), so one buffer serves every unit.
    fn events_of_unit_into(&mut self, unit: NodeId, found: &mut Vec<(EventId, Role, Resolved)>) {
        const ROLES: [Role; 4] = [Role::What, Role::Child, Role::Input, Role::Output];
        let graph = self.graph;
        let candidates = self.candidates_of(unit);
        found.clear();
        for position in candidates.range() {
            let event_id = self.memo.event_arena[position];
            let event = graph.event(event_id);
            if !event.is_effective() {
                continue;
            }
            // Most events name one object: its role and kind decide at once.
            if let [object] = graph.objects(event) {
                if object.role == Role::Parent {
                    continue;
                }
                let item = match object.kind {
                    ObjectKind::LogisticUnit => self
                        .resolve(event_id, object.role)
                        .iter()
                        .find(|item| item.unit == unit)
                        .copied(),
                    ObjectKind::Lot | ObjectKind::Item => (graph.unit_of(object.node) == unit)
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
            for object in graph.objects(event) {
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
                    graph.resolve_without_pallets(event, role, unit)
                };
                if let Some(item) = item {
                    found.push((event_id, role, item));
                }
            }
        }
    }

    fn note_nesting(&mut self, event_id: EventId, role: Role) {
        let graph = self.graph;
        for object in graph.objects_in(graph.event(event_id), role) {
            let node = graph.node(object.node);
            if node.kind == ObjectKind::LogisticUnit {
                self.warnings
                    .push(Warning::NestingTooDeep { logistic_unit: node.link.to_string() });
            }
        }
    }

    /// The units on the `role` side of a transformation, across its `transformationID` group,
    /// with the event each comes from.
    pub(super) fn group_units(&mut self, event_id: EventId, role: Role) -> Vec<(EventId, NodeId)> {
        let graph = self.graph;
        let event = graph.event(event_id);
        let group: Vec<EventId> = match event.transformation() {
            Some(group) => graph
                .transformation_group(group)
                .iter()
                .copied()
                .filter(|member| {
                    let member_event = graph.event(*member);
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
        let graph = self.graph;
        let candidates = self.candidates_of(unit);
        let mut next = Vec::new();
        for position in candidates.range() {
            let event_id = self.memo.event_arena[position];
            let event = graph.event(event_id);
            if event.kind != Kind::Transformation
                || !event.is_effective()
                || !graph.objects(event).iter().any(|object| object.role == from_role)
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
            let (author, sequence) = graph.entry_position(event);
            (graph.author(author), sequence)
        };
        next.sort_by(|left, right| {
            (&graph.node(left.0).link, entry_order(left.1))
                .cmp(&(&graph.node(right.0).link, entry_order(right.1)))
        });
        next.dedup();
        next
    }

    /// Closure of `seeds` along `direction` (seeds first), reporting cycles.
    fn closure(&mut self, seeds: &[NodeId], direction: Direction) -> Vec<NodeId> {
        const ON_PATH: u8 = 1;
        const DONE: u8 = 2;
        let graph = self.graph;
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
                        from: graph.node(current).link.to_string(),
                        to: graph.node(neighbour).link.to_string(),
                        event: graph.event_hash_id(event_id).clone(),
                    }),
                    Some(_) => {}
                }
            }
        }
        order
    }

    /// A full trace answer over the closure of `seeds`.
    pub(super) fn run(
        mut self,
        seeds: &[NodeId],
        direction: Direction,
        warnings: Vec<Warning>,
    ) -> TraceAnswer {
        let graph = self.graph;
        self.warnings = warnings;
        let mut units = self.closure(seeds, direction);
        units.sort_by(|left, right| graph.node(*left).link.cmp(&graph.node(*right).link));
        let mut answer = self.lot_pass(&units);
        self.warnings.sort();
        self.warnings.dedup();
        answer.warnings = std::mem::take(&mut self.warnings);
        (answer.events, answer.entries) = self.relied_entries();
        answer
    }

    /// Everything the answer says about `units` (sorted by link): each unit's detail, its
    /// handoffs and what of it is still in distribution; the caller adds warnings and entries.
    pub(super) fn lot_pass(&mut self, units: &[NodeId]) -> TraceAnswer {
        let graph = self.graph;
        let mut answer = TraceAnswer::default();
        // A lot has a few handoffs: room for five per lot is reserved up front, so the vector
        // of a large recall is not regrown and copied on the way.
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
            let node = graph.node(*unit);
            match node.kind {
                ObjectKind::Lot => answer.lots.push(Text::clone(&node.link)),
                _ => answer.items.push(Text::clone(&node.link)),
            }
            // A recall reuses the unit's part when the index holds it.
            let summary = if self.with_visits { None } else { self.summaries.get(*unit) };
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
                gtin: node.gtin.map(|gtin| graph.text(gtin)),
                origins: Vec::new(),
                master: MasterData::default(),
                visits: Vec::new(),
            };
            masters.clear();
            self.events_of_unit_into(*unit, &mut found);
            for (event_id, role, resolved) in found.iter().copied() {
                self.relied.insert(event_id);
                let event = graph.event(event_id);
                let uom = resolved.uom;
                let quantity = resolved.quantity.unwrap_or(0.0);
                let own = HolderId::Organisation(event.author);
                if self.with_visits {
                    detail.visits.push(Visit {
                        place: event.place().map(|place| graph.text(place)),
                        organisation: graph.author_hex(event.author),
                        date: self.time_text(event.time_ms),
                        biz_step: event.biz_step().map(|step| graph.text(step)),
                        flow: if role == Role::What { event.flow } else { Flow::Observed },
                        event: graph.event_hash_id(event_id).clone(),
                    });
                }
                if let Some(how) = origin_kind(role, event.kind, event.flow) {
                    detail.origins.push(self.origin(event_id, how));
                    if let Some(master) = graph.master(event_id) {
                        masters.push((event.time_ms, event_id, master));
                    }
                }
                if !self.with_handoffs {
                    continue;
                }
                match (role, event.kind) {
                    (Role::What, _) => match event.flow {
                        Flow::Produced => {
                            amounts.add((own, uom), quantity);
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
                                    party: self.kinds.party(graph.destinations(event)),
                                    location: self.kinds.location(graph.destinations(event)),
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
                        Holder::Organisation { key: graph.author_hex(author) }
                    }
                    HolderId::Consignee { party, location } => Holder::Consignee {
                        party: party.map(|party| graph.text(party)),
                        location: location.map(|location| graph.text(location)),
                    },
                };
                answer.in_distribution.push(Position {
                    lot: Text::clone(&node.link),
                    holder,
                    quantity,
                    uom: uom.map(|uom| graph.text(uom)),
                });
            }
            answer.in_distribution[first_position..]
                .sort_by(|left, right| (&left.holder, &left.uom).cmp(&(&right.holder, &right.uom)));
            if !self.with_visits
                && self.summaries.has_room()
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
                self.summaries.offer(*unit, summary);
            }
        }
        answer
    }

    fn origin(&mut self, event_id: EventId, how: OriginKind) -> Origin {
        let graph = self.graph;
        let event = graph.event(event_id);
        let mut inputs = BTreeSet::new();
        if how == OriginKind::Transformed {
            for (member, input) in self.group_units(event_id, Role::Input) {
                self.relied.insert(member);
                inputs.insert(Text::clone(&graph.node(input).link));
            }
        }
        Origin {
            how,
            organisation: graph.author_hex(event.author),
            place: event.place().map(|place| graph.text(place)),
            date: self.time_text(event.time_ms),
            inputs: inputs.into_iter().collect(),
            event: graph.event_hash_id(event_id).clone(),
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
        let graph = self.graph;
        let receiving = graph.event(receipt);
        let mut best: Option<(ShipmentRank, EventId)> = None;
        for object in graph.objects_in(receiving, Role::What) {
            let custody = self.custody_of(object.node);
            for candidate in &self.memo.event_arena[custody.shipments.range()] {
                let shipping = graph.event(*candidate);
                if shipping.time_ms > receiving.time_ms {
                    continue;
                }
                let Some(strength) = handoff_match(graph, &self.kinds, shipping, receiving) else {
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
        let graph = self.graph;
        // One pass over the node's events: shipments go straight to the arena, receipts wait
        // in scratch and follow them.
        let mut receipts = std::mem::take(&mut self.memo.custody_scratch);
        receipts.clear();
        let start = self.memo.event_arena.len();
        for event_id in &graph.node(node).events {
            let event = graph.event(*event_id);
            let moves = matches!(event.flow, Flow::Shipped | Flow::Received)
                && event.is_effective()
                && graph.objects_in(event, Role::What).any(|what| what.node == node);
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
        let graph = self.graph;
        let shipping = graph.event(shipment);
        let mut receipts = std::mem::take(&mut self.memo.pairing_scratch);
        receipts.clear();
        for object in graph.objects_in(shipping, Role::What) {
            let custody = self.custody_of(object.node);
            for position in custody.receipts.range() {
                let candidate = self.memo.event_arena[position];
                let receiving = graph.event(candidate);
                if receiving.time_ms < shipping.time_ms
                    || receipts.contains(&candidate)
                    || handoff_match(graph, &self.kinds, shipping, receiving).is_none()
                {
                    continue;
                }
                if self.shipment_for_receipt(candidate) == Some(shipment) {
                    receipts.push(candidate);
                }
            }
        }
        receipts.sort_by_key(|receipt| (graph.event(*receipt).time_ms, *receipt));
        let span = Span::append(&mut self.memo.event_arena, &receipts);
        self.memo.pairing_scratch = receipts;
        self.memo.receipts.insert(shipment, span);
        span
    }

    /// Adds the handoffs of one shipment of `unit` to `handoffs`: one per receipt that received
    /// the unit, or one without receipt. Reports a shipment received more than once. Returns
    /// whether any receipt is recorded.
    pub(super) fn shipment_handoffs(
        &mut self,
        unit: NodeId,
        shipment: EventId,
        shipped: Resolved,
        handoffs: &mut Vec<Arc<Handoff>>,
    ) -> bool {
        let graph = self.graph;
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
                lot: graph.node(unit).link.to_string(),
                shipping_event: graph.event_hash_id(shipment).clone(),
                receiving_events: receipts
                    .iter()
                    .map(|receipt| graph.event_hash_id(*receipt).clone())
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
    pub(super) fn receipt_handoff(
        &mut self,
        unit: NodeId,
        receipt: EventId,
        received: Resolved,
    ) -> Handoff {
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
        let graph = self.graph;
        let shipping = shipment.map(|event| graph.event(event));
        let receiving = receipt.map(|event| graph.event(event));
        let kinds = self.kinds;
        let text = |symbol: Symbol| graph.text(symbol);
        let party = shipping
            .and_then(|event| kinds.party(graph.destinations(event)))
            .or_else(|| receiving.and_then(|event| kinds.party(graph.destinations(event))))
            .map(text);
        let location = shipping
            .and_then(|event| kinds.location(graph.destinations(event)))
            .or_else(|| receiving.and_then(StoredEvent::place))
            .map(text);
        let ship_from = shipping
            .and_then(|event| kinds.location(graph.sources(event)).or(event.place()))
            .map(text);
        // Both sides usually cite the same despatch advice: repeats are dropped by interned id
        // before any text is taken, so most handoffs carry one document and need no sort.
        let shipped = shipping.map_or(&[][..], |event| graph.documents(event));
        let received = receiving.map_or(&[][..], |event| graph.documents(event));
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
                document_type: document.kind().map(|kind| graph.text(kind)),
                id: graph.text(document.id),
            });
        }
        if documents.len() > 1 {
            documents.sort();
        }
        Handoff {
            lot: Text::clone(&graph.node(unit).link),
            party,
            location,
            quantity: amount.quantity,
            uom: amount.uom.map(|uom| graph.text(uom)),
            shipped_by: shipping.map(|event| graph.author_hex(event.author)),
            shipped_at: shipping.map(|event| self.time_text(event.time_ms)),
            ship_from,
            received_by: receiving.map(|event| graph.author_hex(event.author)),
            received_at: receiving.map(|event| self.time_text(event.time_ms)),
            documents,
            shipping_event: shipment.map(|event| graph.event_hash_id(event).clone()),
            receiving_event: receipt.map(|event| graph.event_hash_id(event).clone()),
        }
    }

    /// `format_time(time_ms)`, formatted once per query.
    fn time_text(&mut self, time_ms: i64) -> Text {
        // Nearly every lookup finds the time (a recall meets a few hundred distinct times
        // thousands of times): a plain look-up first is cheaper than the entry API.
        if let Some(text) = self.time_texts.get(&time_ms) {
            return Text::clone(text);
        }
        let text: Text = format_time(time_ms).into();
        self.time_texts.insert(time_ms, Text::clone(&text));
        text
    }

    /// The relied-on events as sorted hash ids and sorted entries.
    pub(super) fn relied_entries(&mut self) -> (Vec<EventHashId>, Vec<EventRef>) {
        relied_lists(self.graph, &self.relied.to_sorted_vec())
    }
}

impl Drop for Walk<'_> {
    fn drop(&mut self) {
        std::mem::take(&mut self.memo).give_back();
    }
}

/// How an event naming a unit in `role` made it, when it did: its producing event
/// (commissioned) or a transformation it is an output of.
fn origin_kind(role: Role, kind: Kind, flow: Flow) -> Option<OriginKind> {
    match (role, kind) {
        (Role::What, _) if flow == Flow::Produced => Some(OriginKind::Commissioned),
        (Role::Output, Kind::Transformation) => Some(OriginKind::Transformed),
        _ => None,
    }
}
