//! Hand-made lot-graph scenarios with answers worked out by hand: a farm → packer → retailer
//! chain through a pallet, error declarations in either order, cycles, double receipts,
//! self-nested pallets, unknown identifiers, subject parsing and the JSON contract.
//!
//! Owns these small scenarios only; the randomised comparison is `trace_reference.rs`.

use std::collections::HashMap;

use lotline_ledger::entry::{EntryHash, EntryRef};
use lotline_ledger::epcis::cbv::VocabularyKind;
use lotline_ledger::epcis::{
    self, Action, BizTransaction, Decimal, ErrorDeclaration, Event, EventType, ExtensionField,
    ExtensionValue, Location, QName, QuantityElement, SourceDestination, Timestamp,
    VocabularyValue,
};
use lotline_ledger::identity::{Keypair, PublicKey};
use lotline_ledger::trace::{
    Applied, Direction, EventHashId, EventRef, Hazard, Holder, Index, OriginKind, Subject,
    SubjectError, TimeWindow, Warning,
};

const RAW_GTIN: &str = "09506000134352";
const PACKED_GTIN: &str = "09506000134369";
const FARM_GLN: &str = "4000000000013";
const PACKER_GLN: &str = "4000000000020";
const RETAILER_GLN: &str = "4000000000037";
const EXPORT_GLN: &str = "4000000000044";
const PALLET: &str = "https://id.gs1.org/00/034567890000000019";
const OTHER_PALLET: &str = "https://id.gs1.org/00/034567890000000026";

fn lot(gtin: &str, number: &str) -> String {
    format!("https://id.gs1.org/01/{gtin}/10/{number}")
}

fn place(gln: &str) -> String {
    format!("https://id.gs1.org/414/{gln}")
}

fn party(gln: &str) -> String {
    format!("https://id.gs1.org/417/{gln}")
}

/// Answer texts as plain strings, to compare with expected ones.
fn texts<Value: ToString>(values: &[Value]) -> Vec<String> {
    values.iter().map(ToString::to_string).collect()
}

fn key(seed: u8) -> PublicKey {
    Keypair::from_seed([seed; 32]).public_key()
}

fn at(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

fn quantity(class: &str, amount: &str, uom: &str) -> QuantityElement {
    QuantityElement {
        epc_class: class.to_owned(),
        quantity: Decimal::parse(amount),
        uom: Some(uom.to_owned()),
    }
}

fn endpoint(kind: &str, id: &str) -> SourceDestination {
    SourceDestination {
        source_destination_type: VocabularyValue::new(VocabularyKind::SourceDestinationType, kind),
        id: id.to_owned(),
    }
}

fn desadv(number: &str) -> BizTransaction {
    BizTransaction {
        transaction_type: Some(VocabularyValue::new(VocabularyKind::BizTransactionType, "desadv")),
        value: format!("https://example.com/desadv/{number}"),
    }
}

fn object(time: &str, action: Action, step: &str, gln: &str) -> Event {
    let mut event = Event::new(EventType::Object, at(time));
    event.action = Some(action);
    event.biz_step = Some(VocabularyValue::new(VocabularyKind::BizStep, step));
    event.biz_location = Some(Location { id: place(gln), extensions: Vec::new() });
    event
}

fn shipping(time: &str, what: Vec<QuantityElement>, from: &str, to: &str, document: &str) -> Event {
    let mut event = object(time, Action::Observe, "shipping", from);
    event.quantity_list = what;
    event.biz_transaction_list = vec![desadv(document)];
    event.source_list = vec![endpoint("owning_party", &party(from))];
    event.destination_list =
        vec![endpoint("owning_party", &party(to)), endpoint("location", &place(to))];
    event
}

fn receiving(
    time: &str,
    what: Vec<QuantityElement>,
    from: &str,
    at_gln: &str,
    document: &str,
) -> Event {
    let mut event = object(time, Action::Observe, "receiving", at_gln);
    event.quantity_list = what;
    event.biz_transaction_list = vec![desadv(document)];
    event.source_list = vec![endpoint("owning_party", &party(from))];
    event
}

fn transformation(
    time: &str,
    inputs: Vec<QuantityElement>,
    outputs: Vec<QuantityElement>,
    gln: &str,
) -> Event {
    let mut event = Event::new(EventType::Transformation, at(time));
    event.input_quantity_list = inputs;
    event.output_quantity_list = outputs;
    event.biz_step = Some(VocabularyValue::new(VocabularyKind::BizStep, "commissioning"));
    event.biz_location = Some(Location { id: place(gln), extensions: Vec::new() });
    event
}

fn aggregation(
    time: &str,
    action: Action,
    parent: &str,
    children: Vec<QuantityElement>,
    gln: &str,
) -> Event {
    let mut event = Event::new(EventType::Aggregation, at(time));
    event.action = Some(action);
    event.parent_id = Some(parent.to_owned());
    event.child_quantity_list = children;
    event.biz_location = Some(Location { id: place(gln), extensions: Vec::new() });
    event
}

/// An index fed the way the node feeds it: one entry per event, sequences per author.
#[derive(Default)]
struct Ledger {
    index: Index,
    sequences: HashMap<PublicKey, u64>,
}

impl Ledger {
    fn entry(&mut self, author: PublicKey, event: &Event) -> EventRef {
        let sequence = self.sequences.entry(author).or_default();
        let entry = EventRef {
            entry: EntryRef {
                author,
                sequence: *sequence,
                entry_hash: EntryHash::from_bytes([u8::try_from(*sequence % 256).unwrap(); 32]),
            },
            event_hash_id: EventHashId::new(&epcis::event_hash_id(event)),
        };
        *sequence += 1;
        entry
    }

    fn add(&mut self, author: PublicKey, event: Event) -> String {
        let entry = self.entry(author, &event);
        let hash_id = entry.event_hash_id.to_text();
        self.index.apply(entry, &event);
        hash_id
    }
}

struct Chain {
    ledger: Ledger,
    farm: PublicKey,
    packer: PublicKey,
    retailer: PublicKey,
    raw_lot: String,
    packed_lot: String,
}

/// Farm harvests 100 kg; ships it to the packer; the packer packs it into 20 cases, puts 12
/// on a pallet for the retailer and ships 8 to an export customer off the ledger; the retailer
/// receives and unpacks the pallet and sells 5 cases.
fn chain() -> Chain {
    chain_after(|_| {})
}

/// The export shipment of [`chain`] (packer to the export customer, 8 cases).
fn export_shipping() -> Event {
    shipping(
        "2026-03-02T13:00:00Z",
        vec![quantity(&lot(PACKED_GTIN, "PACK-1"), "8", "CS")],
        PACKER_GLN,
        EXPORT_GLN,
        "D3",
    )
}

/// [`chain`], with `earlier` applied to the index before any of its entries.
fn chain_after(earlier: impl FnOnce(&mut Ledger)) -> Chain {
    let (farm, packer, retailer) = (key(1), key(2), key(3));
    let raw_lot = lot(RAW_GTIN, "FARM-1");
    let packed_lot = lot(PACKED_GTIN, "PACK-1");
    let mut ledger = Ledger::default();
    earlier(&mut ledger);
    let mut harvest = object("2026-03-01T08:00:00Z", Action::Add, "commissioning", FARM_GLN);
    harvest.quantity_list = vec![quantity(&raw_lot, "100", "KGM")];
    harvest.ilmd = Some(vec![
        ExtensionField {
            name: QName::new("urn:epcglobal:cbv:mda:", Some("cbvmda".into()), "harvestStartDate"),
            value: ExtensionValue::Text("2026-03-01".into()),
        },
        ExtensionField {
            name: QName::new("urn:epcglobal:cbv:mda:", Some("cbvmda".into()), "countryOfOrigin"),
            value: ExtensionValue::Text("ES".into()),
        },
    ]);
    ledger.add(farm, harvest);
    let raw_100 = || vec![quantity(&raw_lot, "100", "KGM")];
    ledger.add(farm, shipping("2026-03-01T12:00:00Z", raw_100(), FARM_GLN, PACKER_GLN, "D1"));
    ledger.add(packer, receiving("2026-03-02T08:00:00Z", raw_100(), FARM_GLN, PACKER_GLN, "D1"));
    ledger.add(
        packer,
        transformation(
            "2026-03-02T10:00:00Z",
            raw_100(),
            vec![quantity(&packed_lot, "20", "CS")],
            PACKER_GLN,
        ),
    );
    ledger.add(
        packer,
        aggregation(
            "2026-03-02T11:00:00Z",
            Action::Add,
            PALLET,
            vec![quantity(&packed_lot, "12", "CS")],
            PACKER_GLN,
        ),
    );
    let mut pallet_out =
        shipping("2026-03-02T12:00:00Z", Vec::new(), PACKER_GLN, RETAILER_GLN, "D2");
    pallet_out.epc_list = Some(vec![PALLET.to_owned()]);
    ledger.add(packer, pallet_out);
    ledger.add(packer, export_shipping());
    let mut pallet_in =
        receiving("2026-03-03T08:00:00Z", Vec::new(), PACKER_GLN, RETAILER_GLN, "D2");
    pallet_in.epc_list = Some(vec![PALLET.to_owned()]);
    ledger.add(retailer, pallet_in);
    ledger.add(
        retailer,
        aggregation("2026-03-03T09:00:00Z", Action::Delete, PALLET, Vec::new(), RETAILER_GLN),
    );
    let mut sale = object("2026-03-03T15:00:00Z", Action::Observe, "retail_selling", RETAILER_GLN);
    sale.quantity_list = vec![quantity(&packed_lot, "5", "CS")];
    ledger.add(retailer, sale);
    Chain { ledger, farm, packer, retailer, raw_lot, packed_lot }
}

fn subject(link: &str) -> Subject {
    Subject::parse(link).unwrap()
}

#[test]
fn forward_trace_passes_through_the_pallet_to_every_consignee() {
    let chain = chain();
    let answer = chain.ledger.index.trace_forward(&subject(&chain.raw_lot));
    assert_eq!(texts(&answer.lots), vec![chain.raw_lot.clone(), chain.packed_lot.clone()]);
    assert!(answer.warnings.is_empty(), "{:?}", answer.warnings);
    let consignees = consignee_lines(&answer);
    assert_eq!(
        consignees,
        vec![
            (chain.raw_lot.clone(), Some(party(PACKER_GLN)), Some(100.0), Some("KGM".into()), true),
            (
                chain.packed_lot.clone(),
                Some(party(RETAILER_GLN)),
                Some(12.0),
                Some("CS".into()),
                true
            ),
            (
                chain.packed_lot.clone(),
                Some(party(EXPORT_GLN)),
                Some(8.0),
                Some("CS".into()),
                false
            ),
        ]
    );
    let pallet_handoff = &answer.consignees[1];
    assert_eq!(pallet_handoff.received_by.as_deref(), Some(chain.retailer.to_hex().as_str()));
    assert_eq!(pallet_handoff.shipped_at.as_deref(), Some("2026-03-02T12:00:00.000Z"));
    // Shipment and receipt both cite D2: the handoff lists it once.
    assert_eq!(pallet_handoff.documents.len(), 1);
    assert_eq!(&*pallet_handoff.documents[0].id, "https://example.com/desadv/D2");
    // Still in distribution: 12 - 5 cases at the retailer, 8 with the export customer.
    let remaining: Vec<(Holder, f64)> = answer
        .in_distribution
        .iter()
        .map(|position| (position.holder.clone(), position.quantity))
        .collect();
    assert_eq!(
        remaining,
        vec![
            (Holder::Organisation { key: chain.retailer.to_hex().into() }, 7.0),
            (
                Holder::Consignee {
                    party: Some(party(EXPORT_GLN).into()),
                    location: Some(place(EXPORT_GLN).into()),
                },
                8.0
            ),
        ]
    );
    // Every event naming a lot of the trace; the unpacking (DELETE without children) names
    // none, so it is the one event of the chain not relied on.
    assert_eq!(answer.events.len(), 9);
    assert_eq!(answer.entries.len(), 9);
}

#[test]
fn back_trace_reaches_the_harvest_with_its_master_data() {
    let chain = chain();
    let answer = chain.ledger.index.trace_back(&subject(&chain.packed_lot));
    assert_eq!(texts(&answer.lots), vec![chain.raw_lot.clone(), chain.packed_lot.clone()]);
    let raw = answer.details.iter().find(|detail| *detail.lot == *chain.raw_lot).unwrap();
    assert_eq!(raw.origins.len(), 1);
    assert_eq!(raw.origins[0].how, OriginKind::Commissioned);
    assert_eq!(*raw.origins[0].organisation, chain.farm.to_hex());
    assert_eq!(raw.origins[0].place.as_deref(), Some(place(FARM_GLN).as_str()));
    assert_eq!(raw.master.harvest_date.as_deref(), Some("2026-03-01"));
    assert_eq!(raw.master.country_of_origin.as_deref(), Some("ES"));
    let packed = answer.details.iter().find(|detail| *detail.lot == *chain.packed_lot).unwrap();
    assert_eq!(packed.origins[0].how, OriginKind::Transformed);
    assert_eq!(texts(&packed.origins[0].inputs), vec![chain.raw_lot.clone()]);
    assert_eq!(packed.gtin.as_deref(), Some(PACKED_GTIN));
}

#[test]
fn one_step_up_and_down_for_the_packer() {
    let chain = chain();
    let answer = chain.ledger.index.one_step(&chain.packer, &subject(&chain.packed_lot));
    assert_eq!(texts(&answer.made_from), vec![chain.raw_lot.clone()]);
    assert!(answer.made_into.is_empty());
    assert_eq!(answer.received.len(), 1);
    assert_eq!(answer.received[0].shipped_by.as_deref(), Some(chain.farm.to_hex().as_str()));
    assert_eq!(answer.received[0].quantity, Some(100.0));
    let shipped_to: Vec<Option<String>> =
        answer.shipped.iter().map(|handoff| handoff.party.as_deref().map(str::to_owned)).collect();
    assert_eq!(shipped_to, vec![Some(party(RETAILER_GLN)), Some(party(EXPORT_GLN))]);
    // The farm did nothing with the packed lot.
    let farm_answer = chain.ledger.index.one_step(&chain.farm, &subject(&chain.packed_lot));
    assert!(farm_answer.received.is_empty() && farm_answer.shipped.is_empty());
}

#[test]
fn recall_by_facility_and_by_ingredient() {
    let chain = chain();
    let window =
        TimeWindow::parse(Some("2026-03-02T00:00:00Z"), Some("2026-03-03T00:00:00Z")).unwrap();
    let facility = Hazard::Facility { gln: PACKER_GLN.into(), window };
    let answer = chain.ledger.index.recall_scope(&facility);
    assert_eq!(
        texts(&answer.implicated_lots),
        vec![chain.raw_lot.clone(), chain.packed_lot.clone()]
    );
    assert_eq!(answer.trace.consignees.len(), 3);
    let ingredient = Hazard::Ingredient { gtin: RAW_GTIN.into(), window: TimeWindow::all() };
    let answer = chain.ledger.index.recall_scope(&ingredient);
    assert_eq!(texts(&answer.implicated_lots), vec![chain.raw_lot.clone()]);
    assert_eq!(texts(&answer.trace.lots), vec![chain.raw_lot.clone(), chain.packed_lot.clone()]);
    // A window before anything happened matches nothing, and says so.
    let early = TimeWindow::parse(None, Some("2026-01-01T00:00:00Z")).unwrap();
    let answer = chain
        .ledger
        .index
        .recall_scope(&Hazard::Facility { gln: PACKER_GLN.into(), window: early });
    assert!(answer.trace.lots.is_empty());
    assert!(matches!(answer.trace.warnings.as_slice(), [Warning::NothingMatched { .. }]));
    assert!(TimeWindow::parse(Some("2026-03-02T00:00:00Z"), Some("2026-03-01T00:00:00Z")).is_err());
    assert!(TimeWindow::parse(Some("yesterday"), None).is_err());
}

#[test]
fn unknown_identifiers_give_an_empty_answer_with_a_warning() {
    let chain = chain();
    let unknown = lot(RAW_GTIN, "NOPE");
    let answer = chain.ledger.index.trace_forward(&subject(&unknown));
    assert!(answer.lots.is_empty() && answer.consignees.is_empty() && answer.events.is_empty());
    assert_eq!(answer.warnings, vec![Warning::UnknownIdentifier { identifier: unknown.clone() }]);
    let one_step = chain.ledger.index.one_step(&key(99), &subject(&chain.raw_lot));
    assert_eq!(one_step.warnings.len(), 1);
}

#[test]
fn error_declarations_retract_in_either_order_but_only_for_their_author() {
    let mut chain = chain();
    let mut wrong_sale =
        object("2026-03-03T16:00:00Z", Action::Observe, "retail_selling", RETAILER_GLN);
    wrong_sale.quantity_list = vec![quantity(&chain.packed_lot, "7", "CS")];
    let mut declaration = wrong_sale.clone();
    declaration.error_declaration = Some(ErrorDeclaration {
        declaration_time: at("2026-03-03T17:00:00Z"),
        reason: Some(VocabularyValue::new(VocabularyKind::ErrorReason, "incorrect_data")),
        corrective_event_ids: Vec::new(),
        extensions: Vec::new(),
    });
    // Someone else's declaration changes nothing.
    let stranger_declaration = chain.ledger.entry(chain.farm, &declaration);
    assert_eq!(
        chain.ledger.index.apply(stranger_declaration, &declaration),
        Applied::Declaration { retracted: 0 }
    );
    // The retailer's declaration arrives before the event it retracts.
    let declared = chain.ledger.entry(chain.retailer, &declaration);
    chain.ledger.index.apply(declared, &declaration);
    let wrong_hash = chain.ledger.add(chain.retailer, wrong_sale);
    assert_eq!(chain.ledger.index.stats().retracted, 1);
    let answer = chain.ledger.index.trace_forward(&subject(&chain.packed_lot));
    assert!(!answer.events.iter().any(|event| *event == wrong_hash));
    let retailer_left: f64 = answer
        .in_distribution
        .iter()
        .filter(|position| {
            position.holder == Holder::Organisation { key: chain.retailer.to_hex().into() }
        })
        .map(|position| position.quantity)
        .sum();
    assert_eq!(retailer_left, 7.0, "the retracted sale of 7 must not count");
}

#[test]
fn a_cycle_recorded_by_mistake_terminates_and_is_reported() {
    let mut ledger = Ledger::default();
    let (first, second) = (lot(RAW_GTIN, "A"), lot(RAW_GTIN, "B"));
    let one = |amount: &str, class: &str| vec![quantity(class, amount, "KGM")];
    ledger.add(
        key(5),
        transformation("2026-03-01T08:00:00Z", one("1", &first), one("1", &second), FARM_GLN),
    );
    ledger.add(
        key(5),
        transformation("2026-03-01T09:00:00Z", one("1", &second), one("1", &first), FARM_GLN),
    );
    // And a lot that is its own input.
    ledger.add(
        key(5),
        transformation("2026-03-01T10:00:00Z", one("1", &second), one("1", &second), FARM_GLN),
    );
    for direction in [Direction::Forward, Direction::Back] {
        let answer = ledger.index.trace(&[subject(&first)], direction);
        assert_eq!(texts(&answer.lots), vec![first.clone(), second.clone()]);
        let cycles = answer.warnings.iter().filter(|w| matches!(w, Warning::Cycle { .. })).count();
        assert_eq!(cycles, 2, "{direction:?}: {:?}", answer.warnings);
    }
}

#[test]
fn a_shipment_received_twice_is_reported() {
    let mut ledger = Ledger::default();
    let item = lot(RAW_GTIN, "TWICE");
    let ten = || vec![quantity(&item, "10", "KGM")];
    ledger.add(key(1), shipping("2026-03-01T12:00:00Z", ten(), FARM_GLN, PACKER_GLN, "X"));
    ledger.add(key(2), receiving("2026-03-02T08:00:00Z", ten(), FARM_GLN, PACKER_GLN, "X"));
    ledger.add(key(2), receiving("2026-03-02T09:00:00Z", ten(), FARM_GLN, PACKER_GLN, "X"));
    let answer = ledger.index.trace_forward(&subject(&item));
    assert!(
        matches!(answer.warnings.as_slice(), [Warning::ReceivedTwice { receiving_events, .. }] if receiving_events.len() == 2),
        "{:?}",
        answer.warnings
    );
    assert_eq!(answer.consignees.len(), 2);
}

/// One producer ships the same lot to two customers; the first customer's receipt names only
/// the producer as source and no document. It must pair with the shipment to its own site,
/// not with the later shipment to the other customer.
#[test]
fn a_receipt_without_documents_pairs_with_the_shipment_to_its_own_site() {
    let mut ledger = Ledger::default();
    let item = lot(PACKED_GTIN, "PACK42");
    let amount = |kilograms: &str| vec![quantity(&item, kilograms, "KGM")];
    let to_retailer = ledger.add(
        key(2),
        shipping("2026-03-01T15:30:00Z", amount("60"), PACKER_GLN, RETAILER_GLN, "BOL-1"),
    );
    let to_export = ledger.add(
        key(2),
        shipping("2026-03-01T16:00:00Z", amount("36"), PACKER_GLN, EXPORT_GLN, "BOL-2"),
    );
    let mut receipt =
        receiving("2026-03-02T08:00:00Z", amount("60"), PACKER_GLN, RETAILER_GLN, "unused");
    receipt.biz_transaction_list.clear();
    let received = ledger.add(key(3), receipt);

    let answer = ledger.index.trace_forward(&subject(&item));
    let handoff_of = |shipment: &str| {
        answer
            .consignees
            .iter()
            .find(|handoff| handoff.shipping_event.as_ref().is_some_and(|event| *event == shipment))
            .unwrap_or_else(|| panic!("no handoff for {shipment}: {:?}", answer.consignees))
    };
    assert_eq!(
        handoff_of(&to_retailer).receiving_event.as_ref().map(ToString::to_string),
        Some(received.clone())
    );
    assert_eq!(handoff_of(&to_export).receiving_event, None);
    // The retailer holds its 60; the 36 are with the export customer, not yet received.
    let held: Vec<(String, f64)> = answer
        .in_distribution
        .iter()
        .map(|position| {
            let holder = match &position.holder {
                Holder::Organisation { key } => key.to_string(),
                Holder::Consignee { location, .. } => {
                    location.as_deref().unwrap_or_default().to_owned()
                }
            };
            (holder, position.quantity)
        })
        .collect();
    assert!(held.contains(&(key(3).to_hex(), 60.0)), "{held:?}");
    assert!(held.contains(&(place(EXPORT_GLN), 36.0)), "{held:?}");
}

#[test]
fn pallets_nested_in_themselves_terminate() {
    let mut ledger = Ledger::default();
    let item = lot(RAW_GTIN, "NEST");
    ledger.add(
        key(1),
        aggregation(
            "2026-03-01T08:00:00Z",
            Action::Add,
            PALLET,
            vec![quantity(&item, "3", "KGM")],
            FARM_GLN,
        ),
    );
    let mut inner =
        aggregation("2026-03-01T08:10:00Z", Action::Add, OTHER_PALLET, Vec::new(), FARM_GLN);
    inner.child_epcs = Some(vec![PALLET.to_owned()]);
    ledger.add(key(1), inner);
    let mut outer = aggregation("2026-03-01T08:20:00Z", Action::Add, PALLET, Vec::new(), FARM_GLN);
    outer.child_epcs = Some(vec![OTHER_PALLET.to_owned()]);
    ledger.add(key(1), outer);
    let mut out = shipping("2026-03-01T12:00:00Z", Vec::new(), FARM_GLN, PACKER_GLN, "N");
    out.epc_list = Some(vec![PALLET.to_owned()]);
    ledger.add(key(1), out);
    let answer = ledger.index.trace_forward(&subject(&item));
    assert_eq!(texts(&answer.lots), vec![item.clone()]);
    assert!(
        answer.warnings.iter().any(|warning| matches!(warning, Warning::NestingTooDeep { .. }))
    );
    // Tracing the pallet itself traces what it held.
    let by_pallet = ledger.index.trace_forward(&subject(PALLET));
    assert_eq!(texts(&by_pallet.lots), vec![item]);
}

#[test]
fn applying_an_entry_twice_changes_nothing() {
    let mut ledger = Ledger::default();
    let mut harvest = object("2026-03-01T08:00:00Z", Action::Add, "commissioning", FARM_GLN);
    harvest.quantity_list = vec![quantity(&lot(RAW_GTIN, "ONCE"), "1", "KGM")];
    let entry = ledger.entry(key(1), &harvest);
    assert_eq!(ledger.index.apply(entry.clone(), &harvest), Applied::Indexed(0));
    assert_eq!(ledger.index.apply(entry, &harvest), Applied::Duplicate);
    assert_eq!(ledger.index.stats().events, 1);
}

/// The consignees of a forward trace as (lot, party, quantity, unit, received) lines.
fn consignee_lines(
    answer: &lotline_ledger::trace::TraceAnswer,
) -> Vec<(String, Option<String>, Option<f64>, Option<String>, bool)> {
    answer
        .consignees
        .iter()
        .map(|handoff| {
            (
                handoff.lot.to_string(),
                handoff.party.as_deref().map(str::to_owned),
                handoff.quantity,
                handoff.uom.as_deref().map(str::to_owned),
                handoff.received_by.is_some(),
            )
        })
        .collect()
}

#[test]
fn an_event_in_two_feeds_counts_once_whatever_the_arrival_order() {
    let plain = chain();
    let expected = plain.ledger.index.trace_forward(&subject(&plain.raw_lot));
    let expected_recall =
        plain.ledger.index.recall_scope(&Hazard::Lots(vec![subject(&plain.raw_lot)]));
    // Other organisations' keys sort before and after the packer's.
    for other in (4..12).map(key) {
        let mut copy_last = chain();
        let copy_hash_id = copy_last.ledger.add(other, export_shipping());
        let copy_first = chain_after(|ledger| {
            assert_eq!(ledger.add(other, export_shipping()), copy_hash_id);
        });
        let raw_lot = subject(&plain.raw_lot);
        let last = copy_last.ledger.index.trace_forward(&raw_lot);
        let first = copy_first.ledger.index.trace_forward(&raw_lot);
        assert_eq!(consignee_lines(&last), consignee_lines(&expected));
        assert_eq!(
            serde_json::to_value(&last).unwrap(),
            serde_json::to_value(&first).unwrap(),
            "the answer depends on which copy arrived first"
        );
        // Stock is held by the author of the kept copy: the packer's, when its key sorts first.
        if plain.packer < other {
            assert_eq!(last.in_distribution, expected.in_distribution);
        }
        // The shipment is relied on once: the answer cites one of the two entries.
        assert_eq!(last.entries.len(), expected.entries.len());
        let cited: Vec<_> = last
            .entries
            .iter()
            .filter(|entry| entry.event_hash_id.to_text() == copy_hash_id)
            .collect();
        assert_eq!(cited.len(), 1);
        assert_eq!(cited[0].entry.author, other.min(plain.packer));
        let hazard = Hazard::Lots(vec![raw_lot]);
        let recall_last = copy_last.ledger.index.recall_scope(&hazard);
        let recall_first = copy_first.ledger.index.recall_scope(&hazard);
        assert_eq!(recall_last, recall_first);
        assert_eq!(consignee_lines(&recall_last.trace), consignee_lines(&expected_recall.trace));
    }
}

#[test]
fn a_retracted_copy_leaves_the_other_organisations_copy_relied_on() {
    let plain = chain();
    let expected = plain.ledger.index.trace_forward(&subject(&plain.raw_lot));
    for other in (4..12).map(key) {
        let mut chain = chain();
        let hash_id = chain.ledger.add(other, export_shipping());
        let kept = other.min(chain.packer);
        let mut declaration = export_shipping();
        declaration.error_declaration = Some(ErrorDeclaration {
            declaration_time: at("2026-03-04T08:00:00Z"),
            reason: Some(VocabularyValue::new(VocabularyKind::ErrorReason, "incorrect_data")),
            corrective_event_ids: Vec::new(),
            extensions: Vec::new(),
        });
        let entry = chain.ledger.entry(kept, &declaration);
        assert_eq!(
            chain.ledger.index.apply(entry, &declaration),
            Applied::Declaration { retracted: 1 }
        );
        let answer = chain.ledger.index.trace_forward(&subject(&chain.raw_lot));
        assert_eq!(consignee_lines(&answer), consignee_lines(&expected));
        let cited: Vec<_> = answer
            .entries
            .iter()
            .filter(|entry| entry.event_hash_id.to_text() == hash_id)
            .collect();
        assert_eq!(cited.len(), 1);
        assert_eq!(cited[0].entry.author, other.max(chain.packer));
    }
}

#[test]
fn answers_serialise_to_the_client_contract() {
    let chain = chain();
    let answer = chain.ledger.index.trace_forward(&subject(&chain.raw_lot));
    let json = serde_json::to_value(&answer).unwrap();
    for field in
        ["lots", "consignees", "events", "entries", "warnings", "in_distribution", "details"]
    {
        assert!(json.get(field).is_some(), "missing {field}");
    }
    let consignee = &json["consignees"][0];
    for field in ["party", "location", "quantity", "uom"] {
        assert!(consignee.get(field).is_some(), "consignee missing {field}");
    }
    let author = json["entries"][0]["author"].as_str().unwrap();
    assert_eq!(author.len(), 64);
    assert!(json["entries"][0]["entry_hash"].as_str().unwrap().len() == 64);
    let round_trip: lotline_ledger::trace::TraceAnswer = serde_json::from_value(json).unwrap();
    assert_eq!(round_trip, answer);
}

#[test]
fn subjects_parse_from_links_urns_and_gtin_plus_lot() {
    let canonical = lot(RAW_GTIN, "L1");
    for written in [
        canonical.as_str(),
        "https://example.com/01/09506000134352/10/L1?17=261231",
        "urn:epc:class:lgtin:9506000.013435.L1",
        "(01)09506000134352(10)L1",
        "09506000134352 L1",
        "9506000134352 L1",
    ] {
        assert_eq!(
            Subject::parse(written).map(|s| s.link().to_owned()),
            Ok(canonical.clone()),
            "{written}"
        );
    }
    assert_eq!(
        Subject::parse("urn:epc:id:sscc:3456789.0000000001").map(|s| s.link().to_owned()),
        Ok(PALLET.to_owned())
    );
    assert_eq!(Subject::parse("  "), Err(SubjectError::Empty));
    assert!(matches!(Subject::parse(&place(FARM_GLN)), Err(SubjectError::NotTraceable(_))));
    assert!(matches!(Subject::parse("12345 X"), Err(SubjectError::BadGtin(_))));
    assert!(matches!(Subject::parse("09506000134353 X"), Err(SubjectError::BadGtin(_))));
    assert!(matches!(Subject::from_gtin_and_lot(RAW_GTIN, ""), Err(SubjectError::BadLot(_))));
    let message = Subject::parse("not an id").unwrap_err().to_string();
    assert!(message.contains("not a GS1 Digital Link"), "{message}");
}

/// A recall keeps each lot's part for the next recall, and an entry that may change it must
/// make the index forget it, even when the entry does not name the lot: here a later shipment
/// of lot A alone takes over the receipt of A and B, so B's shipment is no longer received.
#[test]
fn a_later_shipment_of_another_lot_changes_a_kept_recall() {
    let (lot_a, lot_b) = (lot(RAW_GTIN, "A"), lot(RAW_GTIN, "B"));
    let both = || vec![quantity(&lot_a, "10", "KGM"), quantity(&lot_b, "10", "KGM")];
    let events = [
        (key(2), shipping("2026-03-01T12:00:00Z", both(), PACKER_GLN, RETAILER_GLN, "D1")),
        (key(3), receiving("2026-03-02T08:00:00Z", both(), PACKER_GLN, RETAILER_GLN, "D1")),
        (
            key(2),
            shipping(
                "2026-03-01T13:00:00Z",
                vec![quantity(&lot_a, "10", "KGM")],
                PACKER_GLN,
                RETAILER_GLN,
                "D1",
            ),
        ),
    ];
    let recall_b = Hazard::Lots(vec![subject(&lot_b)]);
    let mut ledger = Ledger::default();
    for (author, event) in events[..2].iter().cloned() {
        ledger.add(author, event);
    }
    let before = ledger.index.recall_scope(&recall_b);
    assert!(before.trace.consignees[0].receiving_event.is_some(), "{:?}", before.trace);
    assert!(ledger.index.stats().summaries > 0, "the recall kept nothing");

    ledger.add(events[2].0, events[2].1.clone());
    let after = ledger.index.recall_scope(&recall_b);
    let mut fresh = Ledger::default();
    for (author, event) in events.iter().cloned() {
        fresh.add(author, event);
    }
    assert_eq!(after, fresh.index.recall_scope(&recall_b));
    assert_ne!(after, before, "the later shipment should change B's recall");
}

/// An entry naming an object met by very many events (past the index's read budget for
/// finding what to forget) makes the index forget every summary rather than scan them all;
/// answers stay right.
#[test]
fn an_entry_on_a_very_busy_object_forgets_every_summary() {
    let mut ledger = Ledger::default();
    let (busy, quiet) = (lot(RAW_GTIN, "BUSY"), lot(PACKED_GTIN, "QUIET"));
    let observed = |time: &str, class: &str| {
        let mut event = object(time, Action::Observe, "inspecting", PACKER_GLN);
        event.quantity_list = vec![quantity(class, "1", "KGM")];
        event
    };
    for second in 0..4_200 {
        let time =
            format!("2026-03-01T{:02}:{:02}:{:02}Z", second / 3600, second / 60 % 60, second % 60);
        ledger.add(key(2), observed(&time, &busy));
    }
    let to_retailer = vec![quantity(&quiet, "5", "KGM")];
    ledger
        .add(key(2), shipping("2026-03-02T08:00:00Z", to_retailer, PACKER_GLN, RETAILER_GLN, "Q"));
    let recall = |lot: &str| Hazard::Lots(vec![subject(lot)]);
    let quiet_before = ledger.index.recall_scope(&recall(&quiet));
    ledger.index.recall_scope(&recall(&busy));
    assert_eq!(ledger.index.stats().summaries, 2);

    ledger.add(key(2), observed("2026-03-03T08:00:00Z", &busy));
    assert_eq!(ledger.index.stats().summaries, 0, "every summary is forgotten");
    assert_eq!(ledger.index.recall_scope(&recall(&quiet)), quiet_before);
    assert_eq!(ledger.index.recall_scope(&recall(&busy)).trace.details[0].lot.as_ref(), busy);
}
