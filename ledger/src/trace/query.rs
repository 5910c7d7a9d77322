//! What each query starts from and which walk answers it: trace back, trace forward, recall
//! scope, one step up / down, and computing missing recall summaries ahead of recalls.
//!
//! Owns the seeds (the units a subject stands for: a lot, an item's lot, everything a pallet
//! ever held; the units a facility handled or the lots of an ingredient within a window), the
//! hazard's description, and how each answer is assembled from a walk. These are the bodies
//! of the query methods of [`super::Index`], which only forward here. Does not own the walk
//! itself (`walk`: the closure, the lot pass, handoff pairing), the graph (`graph`) nor the
//! answer types (see [`super::answer`]).

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::identity::PublicKey;

use super::answer::{OneStepAnswer, RecallAnswer, TraceAnswer, Warning};
use super::facts::{Flow, Kind, ObjectKind};
use super::graph::{Graph, ResolveScratch, Role};
use super::handoff::sort_handoffs;
use super::ids::NodeId;
use super::subject::Subject;
use super::summary::Summaries;
use super::text::Text;
use super::walk::Walk;
use super::window::{Direction, Hazard, TimeWindow};

/// Trace from several subjects at once; unknown ones are reported, not fatal.
pub(super) fn trace(
    graph: &Graph,
    summaries: &Summaries,
    subjects: &[Subject],
    direction: Direction,
) -> TraceAnswer {
    let mut warnings = Vec::new();
    let seeds = seed_units(graph, subjects, &mut warnings);
    let mut answer = Walk::new(graph, summaries).run(&seeds, direction, warnings);
    answer.subjects = subjects.iter().map(|subject| subject.link().to_owned()).collect();
    answer
}

/// Where a subject comes from, as a consumer reads it: the trace back with every lot's
/// origins and visits, without handoffs and stock (a public view shows neither).
pub(super) fn provenance(graph: &Graph, summaries: &Summaries, subject: &Subject) -> TraceAnswer {
    let mut warnings = Vec::new();
    let seeds = seed_units(graph, std::slice::from_ref(subject), &mut warnings);
    let mut walk = Walk::new(graph, summaries);
    walk.with_handoffs = false;
    let mut answer = walk.run(&seeds, Direction::Back, warnings);
    answer.subjects = vec![subject.link().to_owned()];
    answer
}

/// Recall scope: the forward trace from every lot the hazard implicates, with consignees,
/// quantities and what is still in distribution.
pub(super) fn recall_scope(graph: &Graph, summaries: &Summaries, hazard: &Hazard) -> RecallAnswer {
    let mut warnings = Vec::new();
    let (description, seeds) = match hazard {
        Hazard::Lots(subjects) => (
            format!("lots {}", subjects.iter().map(Subject::link).collect::<Vec<_>>().join(", ")),
            seed_units(graph, subjects, &mut warnings),
        ),
        Hazard::Facility { gln, window } => {
            let description = format!("facility {gln} during {}", window.describe());
            (description, units_at_facility(graph, gln.trim(), window))
        }
        Hazard::Ingredient { gtin, window } => {
            let description = format!("ingredient {gtin} during {}", window.describe());
            (description, lots_of_ingredient(graph, summaries, gtin.trim(), window))
        }
    };
    if seeds.is_empty() && warnings.is_empty() {
        warnings.push(Warning::NothingMatched { what: description.clone() });
    }
    let mut implicated_lots: Vec<Text> =
        seeds.iter().map(|unit| Text::clone(&graph.node(*unit).link)).collect();
    implicated_lots.sort();
    let mut walk = Walk::new(graph, summaries);
    // A recall screen needs consignees, quantities and stock, not every visit of every lot.
    walk.with_visits = false;
    let mut trace = walk.run(&seeds, Direction::Forward, warnings);
    trace.subjects = implicated_lots.iter().map(|lot| lot.to_string()).collect();
    RecallAnswer { hazard: description, implicated_lots, trace }
}

/// Computes and keeps the recall summaries of up to `limit` units (lots, and items with no
/// known lot) that have none; returns how many it kept (see
/// [`super::Index::summarise_missing`]).
pub(super) fn summarise_missing(graph: &Graph, summaries: &Summaries, limit: usize) -> usize {
    if !summaries.has_room() {
        return 0;
    }
    let (held_before, _) = summaries.usage();
    let units: Vec<NodeId> = (0..graph.node_count())
        .filter_map(|node| NodeId::try_from(node).ok())
        .filter(|node| {
            matches!(graph.node(*node).kind, ObjectKind::Lot | ObjectKind::Item)
                && graph.unit_of(*node) == *node
                && summaries.get(*node).is_none()
        })
        .take(limit)
        .collect();
    let mut walk = Walk::new(graph, summaries);
    walk.with_visits = false;
    walk.lot_pass(&units);
    summaries.usage().0.saturating_sub(held_before)
}

/// One step up and one step down for one organisation: from whom it received the lot (or the
/// inputs it made the lot from) and to whom it shipped the lot (or what it made from it).
pub(super) fn one_step(
    graph: &Graph,
    summaries: &Summaries,
    organisation: &PublicKey,
    subject: &Subject,
) -> OneStepAnswer {
    let mut answer = OneStepAnswer {
        organisation: organisation.to_hex(),
        lot: subject.link().to_owned(),
        ..OneStepAnswer::default()
    };
    let mut warnings = Vec::new();
    let seeds = seed_units(graph, std::slice::from_ref(subject), &mut warnings);
    let Some(author) = graph.author_index(organisation) else {
        warnings.push(Warning::UnknownIdentifier { identifier: organisation.to_hex() });
        answer.warnings = warnings;
        return answer;
    };
    let mut walk = Walk::new(graph, summaries);
    let mut made_from = BTreeSet::new();
    let mut made_into = BTreeSet::new();
    let mut received_units = BTreeSet::new();
    let mut shipped_units = BTreeSet::new();
    for unit in &seeds {
        received_units.insert(*unit);
        shipped_units.insert(*unit);
        for (event_id, role, _) in walk.events_of_unit(*unit) {
            let event = graph.event(event_id);
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
            let event = graph.event(event_id);
            if event.author == author && role == Role::What && event.flow == Flow::Received {
                let handoff = walk.receipt_handoff(unit, event_id, resolved);
                answer.received.push(Arc::new(handoff));
            }
        }
    }
    for unit in shipped_units {
        for (event_id, role, resolved) in walk.events_of_unit(unit) {
            let event = graph.event(event_id);
            if event.author == author && role == Role::What && event.flow == Flow::Shipped {
                walk.shipment_handoffs(unit, event_id, resolved, &mut answer.shipped);
            }
        }
    }
    if seeds.is_empty() && warnings.is_empty() {
        warnings.push(Warning::UnknownIdentifier { identifier: subject.link().to_owned() });
    }
    answer.made_from = made_from.iter().map(|unit| Text::clone(&graph.node(*unit).link)).collect();
    answer.made_into = made_into.iter().map(|unit| Text::clone(&graph.node(*unit).link)).collect();
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

/// The units a subject stands for: a lot itself, an item's lot (or the item), everything a
/// pallet ever held.
fn seed_units(graph: &Graph, subjects: &[Subject], warnings: &mut Vec<Warning>) -> Vec<NodeId> {
    let mut seeds = Vec::new();
    for subject in subjects {
        let Some(node) = graph.node_by_link(subject.link()) else {
            warnings.push(Warning::UnknownIdentifier { identifier: subject.link().to_owned() });
            continue;
        };
        let mut pallets = vec![node];
        let mut position = 0;
        while position < pallets.len() {
            let current = pallets[position];
            position += 1;
            match graph.node(current).kind {
                ObjectKind::Lot | ObjectKind::Item => seeds.push(graph.unit_of(current)),
                ObjectKind::LogisticUnit => {
                    for event_id in &graph.node(current).events {
                        let event = graph.event(*event_id);
                        let is_parent = graph
                            .objects_in(event, Role::Parent)
                            .any(|object| object.node == current);
                        if event.kind != Kind::Aggregation || !event.is_effective() || !is_parent {
                            continue;
                        }
                        for child in graph.objects_in(event, Role::Child) {
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
    seeds.sort_by(|left, right| graph.node(*left).link.cmp(&graph.node(*right).link));
    seeds.dedup();
    seeds
}

/// The units named at a facility (GLN, any extension) by effective events within `window`.
fn units_at_facility(graph: &Graph, gln: &str, window: &TimeWindow) -> Vec<NodeId> {
    let mut units = BTreeSet::new();
    let mut resolved = Vec::new();
    let mut scratch = ResolveScratch::default();
    for event_id in graph.events_at_gln(gln) {
        let event = graph.event(*event_id);
        if !event.is_effective() || !window.contains(event.time_ms) {
            continue;
        }
        for role in [Role::What, Role::Child, Role::Input, Role::Output] {
            graph.resolve(*event_id, role, &mut resolved, &mut scratch);
            units.extend(resolved.iter().map(|item| item.unit));
        }
    }
    units.into_iter().collect()
}

/// The lots of an ingredient GTIN named by an event within `window`.
fn lots_of_ingredient(
    graph: &Graph,
    summaries: &Summaries,
    gtin: &str,
    window: &TimeWindow,
) -> Vec<NodeId> {
    let mut walk = Walk::new(graph, summaries);
    let mut lots = Vec::new();
    for lot in graph.lots_of_gtin(gtin) {
        let named_in_window = walk
            .events_of_unit(*lot)
            .into_iter()
            .any(|(event_id, _, _)| window.contains(graph.event(event_id).time_ms));
        if named_in_window {
            lots.push(*lot);
        }
    }
    lots.sort_unstable();
    lots
}
