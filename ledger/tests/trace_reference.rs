//! The lot graph checked against a plain reference computation over the raw events.
//!
//! Owns the reference: loops over the synthetic chain's `epcis::Event` values that never touch
//! the index (nor its fact digest), and the comparison of every query on many seeds. Does not
//! own hand-made scenarios (see `trace_queries.rs`).

use std::collections::{BTreeMap, BTreeSet};

use lotline_ledger::epcis::{Action, Event, EventType, QuantityElement};
use lotline_ledger::trace::synthetic::{ChainConfig, OrganisationRole, SyntheticEntry, generate};
use lotline_ledger::trace::{
    Direction, Hazard, Holder, Index, Subject, TimeWindow, TraceAnswer, Warning,
};

const EPSILON: f64 = 1e-9;

/// One raw event with what the reference needs to know about it.
struct Raw<'chain> {
    author: String,
    hash_id: String,
    time_ms: i64,
    event: &'chain Event,
    effective: bool,
}

fn step_of(event: &Event) -> String {
    event.biz_step.as_ref().map(|value| value.bare_word_or_uri()).unwrap_or_default()
}

fn disposition_of(event: &Event) -> String {
    event.disposition.as_ref().map(|value| value.bare_word_or_uri()).unwrap_or_default()
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Flow {
    Produced,
    Received,
    Shipped,
    Ended,
    Observed,
}

fn flow_of(event: &Event) -> Flow {
    if !matches!(event.event_type, EventType::Object | EventType::Transaction) {
        return Flow::Observed;
    }
    let step = step_of(event);
    let disposition = disposition_of(event);
    if step == "receiving" {
        Flow::Received
    } else if step == "shipping" {
        Flow::Shipped
    } else if ["retail_selling", "destroying", "dispensing", "decommissioning"]
        .contains(&step.as_str())
        || ["retail_sold", "destroyed", "disposed", "dispensed"].contains(&disposition.as_str())
        || (event.event_type == EventType::Object && event.action == Some(Action::Delete))
    {
        Flow::Ended
    } else if event.event_type == EventType::Object && event.action == Some(Action::Add) {
        Flow::Produced
    } else {
        Flow::Observed
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Role {
    What,
    Child,
    Input,
    Output,
}

const ROLES: [Role; 4] = [Role::What, Role::Child, Role::Input, Role::Output];

fn role_list(event: &Event, role: Role) -> Vec<(String, Option<f64>, String)> {
    let (epcs, quantities): (&[String], &[QuantityElement]) = match role {
        Role::What => (event.epcs(), &event.quantity_list),
        Role::Child => (event.child_epcs(), &event.child_quantity_list),
        Role::Input => (event.input_epcs(), &event.input_quantity_list),
        Role::Output => (event.output_epcs(), &event.output_quantity_list),
    };
    epcs.iter()
        .map(|epc| (epc.clone(), Some(1.0), "EA".to_owned()))
        .chain(quantities.iter().map(|element| {
            (
                element.epc_class.clone(),
                element.quantity.as_ref().map(|quantity| quantity.to_f64()),
                element.uom.clone().unwrap_or_else(|| "EA".to_owned()),
            )
        }))
        .collect()
}

fn is_pallet(id: &str) -> bool {
    id.starts_with("https://id.gs1.org/00/")
}

fn is_lot(id: &str) -> bool {
    id.starts_with("https://id.gs1.org/01/") && id.contains("/10/")
}

struct Reference<'chain> {
    events: Vec<Raw<'chain>>,
    /// Per event, per role (in `ROLES` order): the resolved amounts (computed once).
    resolved: Vec<[Amounts; 4]>,
    /// Per event: the shipment a receipt pairs with.
    pairing: Vec<Option<usize>>,
    /// Transformation groups.
    groups: Vec<(BTreeSet<String>, BTreeSet<String>, Vec<usize>)>,
}

type Amounts = BTreeMap<(String, String), Option<f64>>;

impl<'chain> Reference<'chain> {
    fn new(entries: &'chain [SyntheticEntry]) -> Self {
        let declared: BTreeSet<(String, String)> = entries
            .iter()
            .filter(|entry| entry.event.error_declaration.is_some())
            .flat_map(|entry| {
                let author = entry.entry.entry.author.to_hex();
                let mut names = vec![(author.clone(), entry.entry.event_hash_id.to_text())];
                if let Some(event_id) = &entry.event.event_id {
                    names.push((author, event_id.clone()));
                }
                names
            })
            .collect();
        let is_named = |entry: &SyntheticEntry| {
            let author = entry.entry.entry.author.to_hex();
            declared.contains(&(author.clone(), entry.entry.event_hash_id.to_text()))
                || entry
                    .event
                    .event_id
                    .as_ref()
                    .is_some_and(|id| declared.contains(&(author.clone(), id.clone())))
        };
        // Entries carrying one Event Hash ID are one event: the first by (author, sequence)
        // among those not declared in error is relied on, the others are copies.
        let mut kept: BTreeMap<String, (String, u64)> = BTreeMap::new();
        for entry in entries {
            if entry.event.error_declaration.is_some() || is_named(entry) {
                continue;
            }
            let position = (entry.entry.entry.author.to_hex(), entry.entry.entry.sequence);
            kept.entry(entry.entry.event_hash_id.to_text())
                .and_modify(|first| *first = first.clone().min(position.clone()))
                .or_insert(position);
        }
        let events = entries
            .iter()
            .map(|entry| {
                let author = entry.entry.entry.author.to_hex();
                let named = is_named(entry);
                let is_copy = kept.get(&entry.entry.event_hash_id.to_text())
                    != Some(&(author.clone(), entry.entry.entry.sequence));
                Raw {
                    author,
                    hash_id: entry.entry.event_hash_id.to_text(),
                    time_ms: i64::try_from(
                        entry.event.event_time.instant().unix_timestamp_nanos() / 1_000_000,
                    )
                    .unwrap(),
                    event: &entry.event,
                    effective: entry.event.error_declaration.is_none() && !named && !is_copy,
                }
            })
            .collect();
        let mut reference =
            Self { events, resolved: Vec::new(), pairing: Vec::new(), groups: Vec::new() };
        reference.resolved = (0..reference.events.len())
            .map(|position| ROLES.map(|role| reference.resolve_uncached(position, role)))
            .collect();
        reference.pairing = (0..reference.events.len())
            .map(|position| {
                let raw = &reference.events[position];
                (raw.effective && flow_of(raw.event) == Flow::Received)
                    .then(|| reference.shipment_for_receipt_uncached(position))
                    .flatten()
            })
            .collect();
        reference.groups = reference.transformations_uncached();
        reference
    }

    fn resolve(&self, position: usize, role: Role) -> Amounts {
        let slot = ROLES.iter().position(|candidate| *candidate == role).unwrap();
        self.resolved[position][slot].clone()
    }

    fn shipment_for_receipt(&self, receipt: usize) -> Option<usize> {
        self.pairing[receipt]
    }

    fn transformations(&self) -> Vec<(BTreeSet<String>, BTreeSet<String>, Vec<usize>)> {
        self.groups.clone()
    }

    /// What a pallet held at `time_ms`.
    fn pallet_contents(&self, pallet: &str, time_ms: i64) -> Vec<(String, Option<f64>, String)> {
        let mut aggregations: Vec<(i64, usize)> = self
            .events
            .iter()
            .enumerate()
            .filter(|(_, raw)| {
                raw.effective
                    && raw.event.event_type == EventType::Aggregation
                    && raw.event.parent_id.as_deref() == Some(pallet)
                    && raw.time_ms <= time_ms
            })
            .map(|(position, raw)| (raw.time_ms, position))
            .collect();
        aggregations.sort();
        let mut contents: Vec<(String, Option<f64>, String)> = Vec::new();
        for (_, position) in aggregations {
            let event = self.events[position].event;
            let children = role_list(event, Role::Child);
            if event.action == Some(Action::Delete) {
                if children.is_empty() {
                    contents.clear();
                } else {
                    contents.retain(|(id, _, _)| !children.iter().any(|(child, _, _)| child == id));
                }
            } else {
                for child in children {
                    contents.retain(|(id, _, _)| *id != child.0);
                    contents.push(child);
                }
            }
        }
        contents
    }

    /// The event's objects in `role`, pallets opened, amounts added per (unit, uom).
    fn resolve_uncached(&self, position: usize, role: Role) -> Amounts {
        let raw = &self.events[position];
        let mut amounts: Amounts = BTreeMap::new();
        let mut queue = role_list(raw.event, role);
        let mut guard = 0;
        while let Some((id, quantity, uom)) = queue.pop() {
            guard += 1;
            assert!(guard < 100_000, "pallet nesting loops");
            if is_pallet(&id) {
                queue.extend(self.pallet_contents(&id, raw.time_ms));
            } else if id.contains("/10/") || id.contains("/21/") {
                let slot = amounts.entry((id, uom)).or_insert(Some(0.0));
                *slot = match (*slot, quantity) {
                    (Some(left), Some(right)) => Some(left + right),
                    _ => None,
                };
            }
        }
        amounts
    }

    fn names_unit(&self, position: usize, role: Role, unit: &str) -> Option<(Option<f64>, String)> {
        let slot = ROLES.iter().position(|candidate| *candidate == role).unwrap();
        self.resolved[position][slot]
            .iter()
            .find(|((id, _), _)| id == unit)
            .map(|((_, uom), quantity)| (*quantity, uom.clone()))
    }

    /// Transformation groups: (input units, output units, member positions).
    fn transformations_uncached(&self) -> Vec<(BTreeSet<String>, BTreeSet<String>, Vec<usize>)> {
        let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (position, raw) in self.events.iter().enumerate() {
            if !raw.effective || raw.event.event_type != EventType::Transformation {
                continue;
            }
            let key = match &raw.event.transformation_id {
                Some(id) => format!("id:{id}"),
                None => format!("event:{position}"),
            };
            groups.entry(key).or_default().push(position);
        }
        groups
            .into_values()
            .map(|members| {
                let mut inputs = BTreeSet::new();
                let mut outputs = BTreeSet::new();
                for member in &members {
                    inputs.extend(self.resolve(*member, Role::Input).into_keys().map(|(id, _)| id));
                    outputs
                        .extend(self.resolve(*member, Role::Output).into_keys().map(|(id, _)| id));
                }
                (inputs, outputs, members)
            })
            .collect()
    }

    fn closure(&self, seeds: &BTreeSet<String>, direction: Direction) -> BTreeSet<String> {
        let groups = &self.groups;
        let mut reached = seeds.clone();
        loop {
            let before = reached.len();
            for (inputs, outputs, _) in groups {
                let (from, to) = match direction {
                    Direction::Forward => (inputs, outputs),
                    Direction::Back => (outputs, inputs),
                };
                if from.iter().any(|unit| reached.contains(unit)) {
                    reached.extend(to.iter().cloned());
                }
            }
            if reached.len() == before {
                return reached;
            }
        }
    }

    fn has_cycle_within(&self, units: &BTreeSet<String>, direction: Direction) -> bool {
        let groups = &self.groups;
        let successors = |unit: &String| -> BTreeSet<String> {
            groups
                .iter()
                .filter(|(inputs, outputs, _)| match direction {
                    Direction::Forward => inputs.contains(unit),
                    Direction::Back => outputs.contains(unit),
                })
                .flat_map(|(inputs, outputs, _)| match direction {
                    Direction::Forward => outputs.clone(),
                    Direction::Back => inputs.clone(),
                })
                .collect()
        };
        units.iter().any(|unit| {
            let mut seen = BTreeSet::new();
            let mut frontier: Vec<String> = successors(unit).into_iter().collect();
            while let Some(next) = frontier.pop() {
                if next == *unit {
                    return true;
                }
                if seen.insert(next.clone()) {
                    frontier.extend(successors(&next));
                }
            }
            false
        })
    }

    fn endpoints(event: &Event, destinations: bool) -> Vec<(String, String)> {
        let list = if destinations { &event.destination_list } else { &event.source_list };
        list.iter()
            .map(|endpoint| {
                (endpoint.source_destination_type.bare_word_or_uri(), endpoint.id.clone())
            })
            .collect()
    }

    /// Match strength: 3 a shared document; 2 received at the ship-to site or a shared
    /// destination; 1 a shared source only; none when the ship-to site is another site than
    /// where the goods were received (and no document ties them).
    fn handoff_match(shipping: &Event, receiving: &Event) -> Option<u8> {
        let shipped_documents: Vec<&String> =
            shipping.biz_transaction_list.iter().map(|document| &document.value).collect();
        if receiving
            .biz_transaction_list
            .iter()
            .any(|document| shipped_documents.contains(&&document.value))
        {
            return Some(3);
        }
        let shipping_destinations = Self::endpoints(shipping, true);
        let ship_to: Vec<String> = shipping_destinations
            .iter()
            .filter(|(kind, _)| kind == "location")
            .map(|(_, id)| site_of(id))
            .collect();
        let receiving_place = receiving
            .biz_location
            .as_ref()
            .or(receiving.read_point.as_ref())
            .map(|location| site_of(&location.id));
        if let Some(place) = receiving_place
            && !ship_to.is_empty()
        {
            return ship_to.contains(&place).then_some(2);
        }
        let receiving_destinations = Self::endpoints(receiving, true);
        if shipping_destinations.iter().any(|endpoint| receiving_destinations.contains(endpoint)) {
            return Some(2);
        }
        let receiving_sources = Self::endpoints(receiving, false);
        Self::endpoints(shipping, false)
            .iter()
            .any(|endpoint| receiving_sources.contains(endpoint))
            .then_some(1)
    }

    fn raw_what(event: &Event) -> BTreeSet<String> {
        role_list(event, Role::What).into_iter().map(|(id, _, _)| id).collect()
    }

    fn shipment_for_receipt_uncached(&self, receipt: usize) -> Option<usize> {
        let receiving = &self.events[receipt];
        let received = Self::raw_what(receiving.event);
        let mut best: Option<(ShipmentRank, usize)> = None;
        for (position, shipping) in self.events.iter().enumerate() {
            if !shipping.effective
                || flow_of(shipping.event) != Flow::Shipped
                || shipping.time_ms > receiving.time_ms
                || Self::raw_what(shipping.event).is_disjoint(&received)
            {
                continue;
            }
            let Some(strength) = Self::handoff_match(shipping.event, receiving.event) else {
                continue;
            };
            let rank = (strength, shipping.time_ms, std::cmp::Reverse(position));
            if best.is_none_or(|(best_rank, _)| rank > best_rank) {
                best = Some((rank, position));
            }
        }
        best.map(|(_, position)| position)
    }
}

/// A consignee line reduced to comparable text: lot, shipping event, receiving event, amount,
/// unit, party and location.
type HandoffKey = (String, Option<String>, Option<String>, String, String, String);
/// How a candidate shipment ranks for a receipt.
type ShipmentRank = (u8, i64, std::cmp::Reverse<usize>);

/// A place as a site: its canonical Digital Link without the GLN extension.
fn site_of(place: &str) -> String {
    let link =
        lotline_ledger::gs1::canonical_digital_link(place).unwrap_or_else(|| place.to_owned());
    match link.find("/254/") {
        Some(extension) => link[..extension].to_owned(),
        None => link,
    }
}

/// The comparable core of a trace answer.
#[derive(Debug, PartialEq)]
struct Core {
    lots: BTreeSet<String>,
    handoffs: BTreeSet<HandoffKey>,
    positions: BTreeMap<(String, String, String), String>,
    events: BTreeSet<String>,
    origins: BTreeSet<(String, String)>,
    received_twice: BTreeSet<(String, String)>,
    has_cycle: bool,
}

fn amount(quantity: Option<f64>) -> String {
    quantity.map_or_else(|| "?".to_owned(), |quantity| format!("{quantity:.6}"))
}

fn holder_key(holder: &Holder) -> String {
    match holder {
        Holder::Organisation { key } => format!("org:{key}"),
        Holder::Consignee { party, location } => format!("to:{party:?}@{location:?}"),
    }
}

fn core_of(answer: &TraceAnswer) -> Core {
    Core {
        lots: answer.lots.iter().chain(&answer.items).map(ToString::to_string).collect(),
        handoffs: answer
            .consignees
            .iter()
            .map(|handoff| {
                (
                    handoff.lot.to_string(),
                    handoff.shipping_event.as_ref().map(ToString::to_string),
                    handoff.receiving_event.as_ref().map(ToString::to_string),
                    amount(handoff.quantity),
                    handoff.uom.as_deref().unwrap_or_default().to_owned(),
                    format!("{:?}|{:?}", handoff.party, handoff.location),
                )
            })
            .collect(),
        positions: answer
            .in_distribution
            .iter()
            .map(|position| {
                (
                    (
                        position.lot.to_string(),
                        holder_key(&position.holder),
                        position.uom.as_deref().unwrap_or_default().to_owned(),
                    ),
                    amount(Some(position.quantity)),
                )
            })
            .collect(),
        events: answer.events.iter().map(ToString::to_string).collect(),
        origins: answer
            .details
            .iter()
            .flat_map(|detail| {
                detail
                    .origins
                    .iter()
                    .map(|origin| (detail.lot.to_string(), origin.event.to_string()))
            })
            .collect(),
        received_twice: answer
            .warnings
            .iter()
            .filter_map(|warning| match warning {
                Warning::ReceivedTwice { lot, shipping_event, .. } => {
                    Some((lot.clone(), shipping_event.to_string()))
                }
                _ => None,
            })
            .collect(),
        has_cycle: answer.warnings.iter().any(|warning| matches!(warning, Warning::Cycle { .. })),
    }
}

fn endpoint_value(event: &Event, kinds: &[&str]) -> Option<String> {
    kinds.iter().find_map(|kind| {
        event
            .destination_list
            .iter()
            .find(|endpoint| endpoint.source_destination_type.bare_word_or_uri() == *kind)
            .map(|endpoint| endpoint.id.clone())
    })
}

/// The reference trace over `seeds`.
fn reference_trace(reference: &Reference, seeds: &BTreeSet<String>, direction: Direction) -> Core {
    let units = reference.closure(seeds, direction);
    let mut handoffs = BTreeSet::new();
    let mut positions: BTreeMap<(String, String, String), f64> = BTreeMap::new();
    let mut events = BTreeSet::new();
    let mut origins = BTreeSet::new();
    let mut received_twice = BTreeSet::new();
    let groups = reference.transformations();
    let party_kinds = ["owning_party", "possessing_party"];
    for unit in &units {
        for (position, raw) in reference.events.iter().enumerate() {
            if !raw.effective {
                continue;
            }
            for role in ROLES {
                let Some((quantity, uom)) = reference.names_unit(position, role, unit) else {
                    continue;
                };
                events.insert(raw.hash_id.clone());
                let own = format!("org:{}", raw.author);
                let value = quantity.unwrap_or(0.0);
                let mut add = |holder: String, delta: f64| {
                    *positions.entry((unit.clone(), holder, uom.clone())).or_default() += delta;
                };
                match (role, raw.event.event_type) {
                    (Role::What, _) => match flow_of(raw.event) {
                        Flow::Produced => {
                            add(own, value);
                            origins.insert((unit.clone(), raw.hash_id.clone()));
                        }
                        Flow::Received => {
                            add(own, value);
                            if reference.shipment_for_receipt(position).is_none() {
                                handoffs.insert((
                                    unit.clone(),
                                    None,
                                    Some(raw.hash_id.clone()),
                                    amount(quantity),
                                    uom.clone(),
                                    format!(
                                        "{:?}|{:?}",
                                        endpoint_value(raw.event, &party_kinds),
                                        raw.event.biz_location.as_ref().map(|l| l.id.clone())
                                    ),
                                ));
                            }
                        }
                        Flow::Shipped => {
                            add(own, -value);
                            let receipts: Vec<usize> = (0..reference.events.len())
                                .filter(|receipt| {
                                    let receiving = &reference.events[*receipt];
                                    receiving.effective
                                        && flow_of(receiving.event) == Flow::Received
                                        && reference.shipment_for_receipt(*receipt)
                                            == Some(position)
                                        && reference
                                            .names_unit(*receipt, Role::What, unit)
                                            .is_some()
                                })
                                .collect();
                            let party = endpoint_value(raw.event, &party_kinds);
                            let location = endpoint_value(raw.event, &["location"]);
                            if receipts.len() > 1 {
                                received_twice.insert((unit.clone(), raw.hash_id.clone()));
                            }
                            if receipts.is_empty() {
                                add(format!("to:{party:?}@{location:?}"), value);
                                handoffs.insert((
                                    unit.clone(),
                                    Some(raw.hash_id.clone()),
                                    None,
                                    amount(quantity),
                                    uom.clone(),
                                    format!("{party:?}|{location:?}"),
                                ));
                            }
                            for receipt in receipts {
                                events.insert(reference.events[receipt].hash_id.clone());
                                handoffs.insert((
                                    unit.clone(),
                                    Some(raw.hash_id.clone()),
                                    Some(reference.events[receipt].hash_id.clone()),
                                    amount(quantity),
                                    uom.clone(),
                                    format!("{party:?}|{location:?}"),
                                ));
                            }
                        }
                        Flow::Ended => add(own, -value),
                        Flow::Observed => {}
                    },
                    (Role::Input, EventType::Transformation) => add(own, -value),
                    (Role::Output, EventType::Transformation) => {
                        add(own, value);
                        origins.insert((unit.clone(), raw.hash_id.clone()));
                        let group =
                            groups.iter().find(|(_, _, members)| members.contains(&position));
                        for member in
                            group.map(|(_, _, members)| members.clone()).unwrap_or_default()
                        {
                            events.insert(reference.events[member].hash_id.clone());
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    Core {
        has_cycle: reference.has_cycle_within(&units, direction),
        lots: units,
        handoffs,
        positions: positions
            .into_iter()
            .filter(|(_, quantity)| *quantity > EPSILON)
            .map(|(key, quantity)| (key, amount(Some(quantity))))
            .collect(),
        events,
        origins,
        received_twice,
    }
}

fn build_index(entries: &[SyntheticEntry]) -> Index {
    let mut index = Index::new();
    for entry in entries {
        index.apply(entry.entry.clone(), &entry.event);
    }
    index
}

/// Every lot named anywhere in the chain, sorted.
fn all_lots(entries: &[SyntheticEntry]) -> Vec<String> {
    let mut lots = BTreeSet::new();
    for entry in entries {
        for role in ROLES {
            for (id, _, _) in role_list(&entry.event, role) {
                if is_lot(&id) {
                    lots.insert(id);
                }
            }
        }
    }
    lots.into_iter().collect()
}

fn assert_same(label: &str, actual: &Core, expected: &Core) {
    assert_eq!(actual.lots, expected.lots, "{label}: lots");
    assert_eq!(actual.handoffs, expected.handoffs, "{label}: consignees");
    assert_eq!(actual.positions, expected.positions, "{label}: in distribution");
    assert_eq!(actual.origins, expected.origins, "{label}: origins");
    assert_eq!(actual.received_twice, expected.received_twice, "{label}: double receipts");
    assert_eq!(actual.has_cycle, expected.has_cycle, "{label}: cycle warning");
    assert_eq!(actual.events, expected.events, "{label}: events relied on");
}

fn check_chain(config: ChainConfig, subjects_per_chain: usize) {
    let seed = config.seed;
    let (organisations, entries) = generate(config);
    let index = build_index(&entries);
    let reference = Reference::new(&entries);
    let lots = all_lots(&entries);
    assert!(lots.len() > 50, "seed {seed}: chain too small ({} lots)", lots.len());
    let stride = (lots.len() / subjects_per_chain).max(1);
    for lot in lots.iter().step_by(stride) {
        let subject = Subject::parse(lot).unwrap();
        let seeds = BTreeSet::from([lot.clone()]);
        for direction in [Direction::Forward, Direction::Back] {
            let answer = index.trace(std::slice::from_ref(&subject), direction);
            assert!(
                answer.lots.iter().any(|found| **found == **lot),
                "seed {seed}: subject missing from its own trace"
            );
            let expected = reference_trace(&reference, &seeds, direction);
            assert_same(&format!("seed {seed} {direction:?} {lot}"), &core_of(&answer), &expected);
            // Identical events share a hash id, so there may be more entries than ids.
            assert!(answer.entries.len() >= answer.events.len());
            assert!(
                answer.entries.iter().all(|entry| answer.events.contains(&entry.event_hash_id))
            );
            if direction == Direction::Back {
                check_provenance(&index, &subject, &answer, seed);
            }
        }
    }
    // Recall by facility: every packer over a three-day window.
    for (position, organisation) in organisations.iter().enumerate() {
        if organisation.role != OrganisationRole::Packer {
            continue;
        }
        let window =
            TimeWindow::parse(Some("2026-01-08T00:00:00Z"), Some("2026-01-11T00:00:00Z")).unwrap();
        let hazard = Hazard::Facility { gln: organisation.gln.clone(), window };
        let answer = index.recall_scope(&hazard);
        let implicated: BTreeSet<String> = reference
            .events
            .iter()
            .enumerate()
            .filter(|(_, raw)| {
                raw.effective && window.contains(raw.time_ms) && {
                    let at = |location: &Option<lotline_ledger::epcis::Location>| {
                        location
                            .as_ref()
                            .is_some_and(|location| location.id == organisation.location)
                    };
                    at(&raw.event.biz_location) || at(&raw.event.read_point)
                }
            })
            .flat_map(|(event, _)| {
                let reference = &reference;
                ROLES.into_iter().flat_map(move |role| reference.resolve(event, role).into_keys())
            })
            .map(|(id, _)| id)
            .collect();
        assert_eq!(
            answer.implicated_lots.iter().map(ToString::to_string).collect::<BTreeSet<_>>(),
            implicated,
            "seed {seed}: facility {position} implicated lots"
        );
        let expected = reference_trace(&reference, &implicated, Direction::Forward);
        assert_same(
            &format!("seed {seed} facility {position}"),
            &core_of(&answer.trace),
            &expected,
        );
    }
    // Recall by ingredient: the first farm's first product over a window.
    let ingredient_lot =
        lots.iter().find(|lot| lot.contains(&format!("/01/0{}", &organisations[0].gln[..7])));
    if let Some(ingredient_lot) = ingredient_lot {
        let gtin = ingredient_lot.split('/').nth(4).unwrap().to_owned();
        let window =
            TimeWindow::parse(Some("2026-01-06T00:00:00Z"), Some("2026-01-12T00:00:00Z")).unwrap();
        let answer = index.recall_scope(&Hazard::Ingredient { gtin: gtin.clone(), window });
        let implicated: BTreeSet<String> = lots
            .iter()
            .filter(|lot| lot.split('/').nth(4) == Some(gtin.as_str()))
            .filter(|lot| {
                reference.events.iter().enumerate().any(|(position, raw)| {
                    raw.effective
                        && window.contains(raw.time_ms)
                        && ROLES
                            .into_iter()
                            .any(|role| reference.names_unit(position, role, lot).is_some())
                })
            })
            .cloned()
            .collect();
        assert_eq!(
            answer.implicated_lots.iter().map(ToString::to_string).collect::<BTreeSet<_>>(),
            implicated,
            "seed {seed}: ingredient implicated lots"
        );
        let expected = reference_trace(&reference, &implicated, Direction::Forward);
        assert_same(&format!("seed {seed} ingredient {gtin}"), &core_of(&answer.trace), &expected);
    }
}

/// The provenance of a lot (what a consumer page shows) is its trace back without handoffs and
/// stock: the same lots, origins and visits, every event it shows among its entries, and
/// nothing it relies on that the trace back does not.
fn check_provenance(index: &Index, subject: &Subject, back: &TraceAnswer, seed: u64) {
    let provenance = index.provenance(subject);
    let label = format!("seed {seed} provenance of {}", subject.link());
    assert_eq!(provenance.subjects, back.subjects, "{label}");
    assert_eq!(provenance.lots, back.lots, "{label}");
    assert_eq!(provenance.items, back.items, "{label}");
    assert_eq!(provenance.details, back.details, "{label}");
    assert!(provenance.consignees.is_empty() && provenance.in_distribution.is_empty(), "{label}");
    let shown: BTreeSet<String> = provenance
        .details
        .iter()
        .flat_map(|detail| {
            let visits = detail.visits.iter().map(|visit| visit.event.to_string());
            visits.chain(detail.origins.iter().map(|origin| origin.event.to_string()))
        })
        .collect();
    let carried: BTreeSet<String> =
        provenance.entries.iter().map(|entry| entry.event_hash_id.to_string()).collect();
    assert!(shown.is_subset(&carried), "{label}: an event shown has no entry");
    assert!(
        provenance.entries.iter().all(|entry| back.entries.contains(entry)),
        "{label}: relies on an entry the trace back does not"
    );
}

#[test]
fn traces_match_the_reference_on_many_seeds() {
    for seed in 1..=12 {
        check_chain(ChainConfig::small(seed), 12);
    }
}

#[test]
fn inconsistent_chains_match_the_reference_and_report_problems() {
    let mut reported_twice = 0;
    let mut reported_cycle = 0;
    for seed in 101..=106 {
        let config = ChainConfig { inconsistencies: true, ..ChainConfig::small(seed) };
        check_chain(config.clone(), 8);
        let (_, entries) = generate(config);
        let index = build_index(&entries);
        for lot in all_lots(&entries) {
            let answer = index.trace_forward(&Subject::parse(&lot).unwrap());
            reported_twice += answer
                .warnings
                .iter()
                .filter(|warning| matches!(warning, Warning::ReceivedTwice { .. }))
                .count();
            reported_cycle += answer
                .warnings
                .iter()
                .filter(|warning| matches!(warning, Warning::Cycle { .. }))
                .count();
        }
    }
    assert!(reported_twice > 0, "no double receipt was reported");
    assert!(reported_cycle > 0, "no cycle was reported");
}

#[test]
fn replaying_feeds_in_another_order_gives_the_same_answers() {
    let (_, entries) = generate(ChainConfig::small(7));
    let index = build_index(&entries);
    let mut by_feed = entries.clone();
    by_feed
        .sort_by_key(|entry| (std::cmp::Reverse(entry.organisation), entry.entry.entry.sequence));
    let replayed = build_index(&by_feed);
    let lots = all_lots(&entries);
    for lot in lots.iter().step_by(7) {
        let subject = Subject::parse(lot).unwrap();
        for direction in [Direction::Forward, Direction::Back] {
            let first =
                serde_json::to_value(index.trace(std::slice::from_ref(&subject), direction))
                    .unwrap();
            let second =
                serde_json::to_value(replayed.trace(std::slice::from_ref(&subject), direction))
                    .unwrap();
            assert_eq!(first, second, "{lot} {direction:?}");
        }
    }
    assert_eq!(index.stats().retracted, replayed.stats().retracted);
    assert!(index.stats().retracted > 0, "the chain should contain retracted events");
}

/// Recall summaries are kept by the index between queries (or computed ahead by
/// `summarise_missing`) and forgotten when an entry may change them: while entries keep
/// arriving, in an order mixing every feed, each recall (and its repeat, served from
/// summaries) must equal the same recall on an index built from the same entries with no
/// summary held.
#[test]
fn recalls_stay_right_while_entries_arrive_in_any_order() {
    let mut summaries_reused = 0;
    for seed in [3, 8, 104] {
        let config = ChainConfig { inconsistencies: seed > 100, ..ChainConfig::small(seed) };
        let (organisations, mut entries) = generate(config);
        shuffle(&mut entries, seed);
        let lots = all_lots(&entries);
        let windows = [
            TimeWindow::all(),
            TimeWindow::parse(Some("2026-01-08T00:00:00Z"), Some("2026-01-11T00:00:00Z")).unwrap(),
        ];
        let mut hazards: Vec<Hazard> = organisations
            .iter()
            .filter(|organisation| organisation.role == OrganisationRole::Packer)
            .flat_map(|organisation| {
                windows.iter().map(|window| Hazard::Facility {
                    gln: organisation.gln.clone(),
                    window: *window,
                })
            })
            .collect();
        hazards.extend(
            lots.iter().step_by(9).map(|lot| Hazard::Lots(vec![Subject::parse(lot).unwrap()])),
        );
        let mut index = Index::new();
        let chunk = entries.len().div_ceil(7);
        for applied in (chunk..entries.len() + chunk).step_by(chunk) {
            let applied = applied.min(entries.len());
            for entry in &entries[index.stats().events..applied] {
                index.apply(entry.entry.clone(), &entry.event);
            }
            // Every other step, every lot is summarised first (as a node does when quiet).
            if applied / chunk % 2 == 1 {
                while index.summarise_missing(25) > 0 {}
            }
            let mut fresh = build_index(&entries[..applied]);
            for (position, hazard) in hazards.iter().enumerate() {
                fresh.forget_summaries();
                let expected = serde_json::to_value(fresh.recall_scope(hazard)).unwrap();
                let held = index.stats().summaries;
                let first = serde_json::to_value(index.recall_scope(hazard)).unwrap();
                let label = format!("seed {seed}, {applied} entries, hazard {position}");
                assert_eq!(first, expected, "{label}: first recall");
                let repeat = serde_json::to_value(index.recall_scope(hazard)).unwrap();
                assert_eq!(repeat, expected, "{label}: repeated recall");
                summaries_reused += usize::from(held > 0);
            }
        }
    }
    assert!(summaries_reused > 100, "recalls met summaries only {summaries_reused} times");
}

/// Shuffles `entries` in place, reproducibly (Fisher-Yates over a splitmix64 sequence).
fn shuffle(entries: &mut [SyntheticEntry], seed: u64) {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut mixed = state;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        mixed ^ (mixed >> 31)
    };
    for position in (1..entries.len()).rev() {
        let other = (next() % (position as u64 + 1)) as usize;
        entries.swap(position, other);
    }
}

/// Past their memory budget no more summaries are kept, answers stay the same, and a caller
/// summarising until nothing is left stops.
#[test]
fn summaries_past_their_budget_are_not_kept_and_answers_do_not_change() {
    let (organisations, entries) = generate(ChainConfig::small(5));
    let mut index = build_index(&entries);
    index.set_summary_budget(64 * 1024);
    let mut rounds = 0;
    while index.summarise_missing(16) > 0 {
        rounds += 1;
        assert!(rounds < 10_000, "summarising never ends");
    }
    let stats = index.stats();
    assert!(stats.summaries > 0 && stats.summary_bytes <= 64 * 1024, "{stats:?}");
    assert!(stats.summaries < stats.lots, "the budget should cut summarising short: {stats:?}");
    let fresh = build_index(&entries);
    for organisation in &organisations {
        let hazard = Hazard::Facility { gln: organisation.gln.clone(), window: TimeWindow::all() };
        assert_eq!(
            index.recall_scope(&hazard),
            fresh.recall_scope(&hazard),
            "{}",
            organisation.gln
        );
    }
}
