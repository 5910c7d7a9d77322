//! Answers to trace and recall queries: plain serde values the node serves as JSON and the
//! client reads back into the same types.
//!
//! Owns the shape of every answer (the client's contract: `lots`, `consignees`, `events`,
//! `entries`, plus per-lot detail and `warnings`) and of the replies that carry one over HTTP
//! with its evidence ([`TraceReply`], [`RecallReply`]). Every type here deserialises what it
//! serialises. Does not own how answers are computed (see [`super::query`]), how evidence is
//! gathered (`store::Store::evidence`) nor rendering (the client's).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::event_ref::EventRef;
use super::excursions::ExcursionRef;
use super::facts::{DocumentRef, Flow};
use super::hash_id::EventHashId;
use super::names::Names;
use super::text::Text;
use crate::masterdata::Directory;
use crate::proof::Evidence;
use crate::roster::Roster;

pub use super::facts::MasterData as LotMaster;

/// Answer to trace back or trace forward. A field missing from the JSON reads as empty, so
/// a reader accepts an answer from a node that leaves one out.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TraceAnswer {
    /// The identifiers the walk started from (canonical Digital Links).
    pub subjects: Vec<String>,
    /// Every lot reached, the subjects included (canonical Digital Links), sorted.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub lots: Vec<Text>,
    /// Items reached that could not be tied to a lot (no lot number in their master data).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub items: Vec<Text>,
    /// Every shipment or receipt of a reached lot: who got how much, where and when. Shared
    /// with the index's recall summaries (see [`super::summary`]), so a recall copies a
    /// pointer per handoff; serialised as the handoff itself.
    pub consignees: Vec<Arc<Handoff>>,
    /// What of the reached lots is still in distribution (not sold, consumed or destroyed).
    pub in_distribution: Vec<Position>,
    /// Per-lot detail: origin, master data, places and dates (shared like `consignees`).
    pub details: Vec<Arc<LotDetail>>,
    /// Event Hash IDs of every event the answer relied on, sorted.
    pub events: Vec<EventHashId>,
    /// The feed entries carrying those events, so a client can verify each one.
    pub entries: Vec<EventRef>,
    /// Problems met on the way: unknown identifiers, cycles, double receipts.
    pub warnings: Vec<Warning>,
}

impl TraceAnswer {
    /// The names of what the answer mentions: organisations that recorded, shipped, received
    /// or hold something (from the roster); lots, items, their products, and the places and
    /// parties of origins, visits, handoffs and holders (from master data).
    pub fn names(&self, directory: &Directory, roster: &Roster) -> Names {
        let mut keys: Vec<&str> = Vec::new();
        let mut ids: Vec<&str> = Vec::new();
        ids.extend(self.subjects.iter().map(String::as_str));
        ids.extend(self.lots.iter().chain(&self.items).map(|lot| &**lot));
        for handoff in &self.consignees {
            ids.extend(
                [&handoff.party, &handoff.location, &handoff.ship_from]
                    .into_iter()
                    .filter_map(text_of),
            );
            keys.extend(
                [&handoff.shipped_by, &handoff.received_by].into_iter().filter_map(text_of),
            );
        }
        for position in &self.in_distribution {
            ids.push(&position.lot);
            match &position.holder {
                Holder::Organisation { key } => keys.push(key),
                Holder::Consignee { party, location } => {
                    ids.extend([party, location].into_iter().filter_map(text_of));
                }
            }
        }
        for detail in &self.details {
            ids.push(&detail.lot);
            for origin in &detail.origins {
                keys.push(&origin.organisation);
                ids.extend(text_of(&origin.place));
                ids.extend(origin.inputs.iter().map(|input| &**input));
            }
            for visit in &detail.visits {
                keys.push(&visit.organisation);
                ids.extend(text_of(&visit.place));
            }
        }
        Names::collect(keys, ids, directory, roster)
    }
}

/// An optional text as `&str`.
fn text_of(text: &Option<Text>) -> Option<&str> {
    text.as_deref()
}

/// Answer to a recall-scope query: the forward trace of everything the hazard touches.
/// Missing fields read as empty, as in [`TraceAnswer`].
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RecallAnswer {
    /// The hazard as understood (human-readable).
    pub hazard: String,
    /// The lots the hazard names directly (before the forward walk), sorted.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub implicated_lots: Vec<Text>,
    /// The forward trace from the implicated lots.
    #[serde(flatten)]
    pub trace: TraceAnswer,
}

/// `GET /trace/back` and `GET /trace/forward`: the answer, the subject as the node understood
/// it (canonical Digital Link), the names of what it mentions and the evidence for every entry
/// the answer relied on. JSON: the answer's fields, then `subject`, `names`, `excursions`,
/// `evidence`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TraceReply {
    /// The walk's answer.
    #[serde(flatten)]
    pub answer: TraceAnswer,
    /// The subject traced from, canonical.
    #[serde(default)]
    pub subject: String,
    /// Names of the answer's organisations, products and places, each with its source (the
    /// master-data entries are in `evidence` too); missing reads as none.
    #[serde(default, skip_serializing_if = "Names::is_empty")]
    pub names: Names,
    /// The excursions in force about any lot the answer reaches (see
    /// [`super::excursions::in_force`]); their entries are in `evidence` too. Missing reads as
    /// none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excursions: Vec<ExcursionRef>,
    /// Proof bundles for the entries listed in `answer.entries` and `excursions`; missing
    /// reads as none, which a verifier reports when the answer names events.
    #[serde(default)]
    pub evidence: Evidence,
}

/// `POST /recall/scope`: the answer, the names of what it mentions and the evidence for every
/// entry it relied on. JSON: the answer's fields (the trace's flattened in), then `names`,
/// `excursions`, `evidence`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RecallReply {
    /// The scope's answer.
    #[serde(flatten)]
    pub answer: RecallAnswer,
    /// Names, as in [`TraceReply`].
    #[serde(default, skip_serializing_if = "Names::is_empty")]
    pub names: Names,
    /// The excursions in force about any lot the scope reaches, as in [`TraceReply`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excursions: Vec<ExcursionRef>,
    /// Proof bundles for the entries listed in `answer.trace.entries` and `excursions`
    /// (missing reads as none, as in [`TraceReply`]).
    #[serde(default)]
    pub evidence: Evidence,
}

/// Answer to one step up / one step down for one organisation (the FSMA legal minimum).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OneStepAnswer {
    /// The organisation asked about (hex public key).
    pub organisation: String,
    /// The lot asked about (canonical Digital Link).
    pub lot: String,
    /// Lots this organisation transformed into the lot (its inputs), sorted.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub made_from: Vec<Text>,
    /// Lots this organisation made from the lot, sorted.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub made_into: Vec<Text>,
    /// One step up: receipts by this organisation of the lot or of its inputs.
    pub received: Vec<Arc<Handoff>>,
    /// One step down: shipments by this organisation of the lot or of what it made from it.
    pub shipped: Vec<Arc<Handoff>>,
    /// Event Hash IDs relied on, sorted.
    pub events: Vec<EventHashId>,
    /// The feed entries carrying those events.
    pub entries: Vec<EventRef>,
    /// Problems met: unknown lot, nothing recorded by this organisation, double receipts.
    pub warnings: Vec<Warning>,
}

/// Custody of one lot passing from one organisation to another: a shipment and its receipt
/// (either may be missing from the ledger). Carries FSMA's shipping / receiving KDEs.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Handoff {
    /// The lot handed off (canonical Digital Link).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub lot: Text,
    /// The receiving party: the shipment's `owning_party` (else `possessing_party`)
    /// destination, else the receipt's; `None` when nobody said.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub party: Option<Text>,
    /// Where it went: the shipment's `location` destination, else where it was received.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub location: Option<Text>,
    /// Amount of this lot handed off (pallets resolved to their contents): as shipped, or as
    /// received when no shipment is recorded.
    pub quantity: Option<f64>,
    /// Unit of `quantity`.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub uom: Option<Text>,
    /// Sender's organisation key (hex), when a shipping event is recorded.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub shipped_by: Option<Text>,
    /// Ship date (RFC 3339, UTC).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub shipped_at: Option<Text>,
    /// Ship-from place (source `location`, else where the shipping event happened).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub ship_from: Option<Text>,
    /// Receiver's organisation key (hex), when a receiving event is recorded.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub received_by: Option<Text>,
    /// Receive date (RFC 3339, UTC).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub received_at: Option<Text>,
    /// Reference documents of both sides (despatch advice, bill of lading, purchase order).
    pub documents: Vec<DocumentRef>,
    /// Event Hash ID of the shipping event, when recorded.
    pub shipping_event: Option<EventHashId>,
    /// Event Hash ID of the receiving event, when recorded.
    pub receiving_event: Option<EventHashId>,
}

/// Who holds some of a lot now.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Holder {
    /// An organisation on the ledger (hex public key) that recorded holding it.
    Organisation {
        /// Hex public key.
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        key: Text,
    },
    /// Shipped and not (yet) received on the ledger: with the consignee named by the shipment.
    Consignee {
        /// The ship-to party, when stated.
        #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
        party: Option<Text>,
        /// The ship-to location, when stated.
        #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
        location: Option<Text>,
    },
}

/// An amount of one lot still in distribution with one holder.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// The lot (canonical Digital Link).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub lot: Text,
    /// Who holds it.
    pub holder: Holder,
    /// Remaining amount: received or produced minus shipped, consumed, sold or destroyed.
    pub quantity: f64,
    /// Unit of `quantity`.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub uom: Option<Text>,
}

/// How a lot came to be.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Origin {
    /// Harvest / commissioning (`produced`) or transformation output.
    pub how: OriginKind,
    /// The organisation that recorded it (hex public key).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub organisation: Text,
    /// Where (canonical Digital Link of the place).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub place: Option<Text>,
    /// When (RFC 3339, UTC).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub date: Text,
    /// The lots it was made from (transformations only), sorted.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub inputs: Vec<Text>,
    /// Event Hash ID of the event.
    pub event: EventHashId,
}

/// The two ways a lot code comes into being (FSMA: initial packing / harvest, transformation).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OriginKind {
    /// ObjectEvent ADD: harvest, commissioning, initial packing.
    Commissioned,
    /// Output of a TransformationEvent.
    Transformed,
}

/// One visit of a lot to a place: what happened there, by whom, when.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Visit {
    /// Canonical Digital Link of the place, when stated.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub place: Option<Text>,
    /// The organisation that recorded it (hex public key).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub organisation: Text,
    /// When (RFC 3339, UTC).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub date: Text,
    /// Business step as a bare CBV word (or custom URI).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub biz_step: Option<Text>,
    /// What it meant for custody.
    pub flow: Flow,
    /// Event Hash ID.
    pub event: EventHashId,
}

/// Everything known about one reached lot.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LotDetail {
    /// The lot (canonical Digital Link).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub lot: Text,
    /// Its GTIN (14 digits), when it is a GS1 lot.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub gtin: Option<Text>,
    /// How (and where, when, by whom) it came to be; empty when no creating event is recorded.
    pub origins: Vec<Origin>,
    /// Master data from the creating events' ILMD.
    pub master: LotMaster,
    /// Every place and date it was seen, in time order (traces only; recall answers leave it
    /// empty to stay small).
    pub visits: Vec<Visit>,
}

/// A problem met while answering; answers stay usable and say what they could not do.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Warning {
    /// The identifier is not known to the index (nothing recorded about it).
    UnknownIdentifier {
        /// The identifier as given.
        identifier: String,
    },
    /// The transformation graph leads back to a lot already on the current path.
    Cycle {
        /// The lot the walk came from.
        from: String,
        /// The lot that closes the cycle.
        to: String,
        /// Event Hash ID of the transformation that closes it.
        event: EventHashId,
    },
    /// One shipment was received more than once.
    ReceivedTwice {
        /// The lot.
        lot: String,
        /// Event Hash ID of the shipment.
        shipping_event: EventHashId,
        /// Event Hash IDs of the receipts.
        receiving_events: Vec<EventHashId>,
    },
    /// Pallets nested deeper than the bound (or inside themselves); contents beyond were cut.
    NestingTooDeep {
        /// The pallet (canonical Digital Link).
        logistic_unit: String,
    },
    /// Nothing matched: a hazard's window or facility names no recorded event.
    NothingMatched {
        /// What was asked.
        what: String,
    },
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::proof::Unproven;
    use crate::trace::synthetic::{ChainConfig, generate};
    use crate::trace::{Direction, Hazard, Index, Subject};

    /// An index over a small synthetic chain, and every lot it commissions.
    fn index_and_lots() -> (Index, Vec<Subject>) {
        let (_, entries) = generate(ChainConfig::small(5));
        let mut index = Index::new();
        for entry in &entries {
            index.apply(entry.entry.clone(), &entry.event);
        }
        let mut lots: Vec<Subject> = entries
            .iter()
            .flat_map(|entry| &entry.event.quantity_list)
            .filter_map(|element| Subject::parse(&element.epc_class).ok())
            .collect();
        lots.sort();
        lots.dedup();
        (index, lots)
    }

    #[test]
    fn a_trace_names_its_organisations_products_and_places_with_their_sources() {
        use std::collections::BTreeSet;

        use crate::identity::Keypair;
        use crate::masterdata::Directory;
        use crate::roster::{Genesis, Member, Role, Roster};
        use crate::trace::synthetic::Chain;

        let mut chain = Chain::new(ChainConfig::small(5));
        let master_data = chain.master_data();
        let organisations = chain.organisations.clone();
        let entries: Vec<_> = chain.by_ref().collect();
        let mut index = Index::new();
        for entry in &entries {
            index.apply(entry.entry.clone(), &entry.event);
        }
        let mut directory = Directory::new();
        for (sequence, (organisation, statement)) in master_data.iter().enumerate() {
            let entry = crate::entry::EntryRef {
                author: organisations[*organisation].key,
                sequence: 1_000_000 + sequence as u64,
                entry_hash: crate::entry::EntryHash::from_bytes([sequence as u8; 32]),
            };
            directory.insert(entry, 0, statement.clone());
        }
        let governance = Keypair::from_seed([9; 32]);
        let mut genesis = Genesis {
            network: "names-test".to_owned(),
            governance_keys: vec![governance.public_key()],
            threshold: 1,
            members: organisations
                .iter()
                .map(|organisation| Member {
                    key: organisation.key,
                    name: organisation.name.clone(),
                    gln: organisation.gln.clone(),
                    roles: BTreeSet::from([Role::Producer]),
                    prefixes: BTreeSet::new(),
                })
                .collect(),
            signatures: Vec::new(),
        };
        genesis.sign(&governance).unwrap();
        let roster = Roster::from_genesis(&genesis).unwrap();

        let harvested = entries
            .iter()
            .flat_map(|entry| &entry.event.quantity_list)
            .find_map(|element| Subject::parse(&element.epc_class).ok())
            .unwrap();
        let answer = index.trace(&[harvested], Direction::Forward);
        assert!(!answer.consignees.is_empty());
        let names = answer.names(&directory, &roster);
        for lot in &answer.lots {
            let source = &names.described[&**lot];
            assert!(source.name.contains(", "), "{lot} is named by its product: {}", source.name);
            let described = directory.name_of(lot).unwrap();
            assert_eq!(source.entry, described.entry, "the name cites the statement it came from");
        }
        let name_of_key = |key: &str| {
            organisations
                .iter()
                .find(|organisation| organisation.key.to_hex() == key)
                .unwrap()
                .name
                .clone()
        };
        for handoff in &answer.consignees {
            if let Some(sender) = &handoff.shipped_by {
                assert_eq!(names.organisation(sender), Some(name_of_key(sender).as_str()));
            }
            if let Some(location) = &handoff.location
                && let Some(site) =
                    organisations.iter().find(|organisation| organisation.location == **location)
            {
                assert_eq!(names.name(location), Some(site.name.as_str()));
                assert!(names.described[&**location].address.as_deref().unwrap().ends_with(", US"));
            }
        }
        assert!(names.entries().len() >= answer.lots.len().min(1));
        // The JSON carries the names between the subject and the evidence, and reads back.
        let reply = TraceReply {
            answer,
            subject: String::new(),
            names,
            excursions: Vec::new(),
            evidence: evidence(),
        };
        let text = serde_json::to_string(&reply).unwrap();
        assert!(text.find("\"names\"").unwrap() < text.find("\"evidence\"").unwrap());
        assert_eq!(serde_json::from_str::<TraceReply>(&text).unwrap(), reply);
    }

    fn evidence() -> Evidence {
        let author = crate::identity::Keypair::from_seed([4; 32]).public_key();
        Evidence { bundles: Vec::new(), unproven: vec![Unproven { author, sequence: 3 }] }
    }

    /// The reply as the node writes it: the answer's JSON with the other fields appended.
    fn appended(answer: &impl Serialize, fields: &[(&str, Value)]) -> String {
        let mut value = serde_json::to_value(answer).unwrap();
        for (name, field) in fields {
            value[*name] = field.clone();
        }
        value.to_string()
    }

    #[test]
    fn a_trace_reply_is_the_answer_then_subject_then_evidence_and_reads_back() {
        let (index, lots) = index_and_lots();
        assert!(lots.len() > 4);
        for subject in lots.iter().step_by(lots.len() / 4) {
            for direction in [Direction::Back, Direction::Forward] {
                let answer = index.trace(std::slice::from_ref(subject), direction);
                let reply = TraceReply {
                    answer: answer.clone(),
                    subject: subject.link().to_owned(),
                    names: Names::default(),
                    excursions: Vec::new(),
                    evidence: evidence(),
                };
                let text = serde_json::to_string(&reply).unwrap();
                let expected = appended(
                    &answer,
                    &[
                        ("subject", json!(subject.link())),
                        ("evidence", serde_json::to_value(evidence()).unwrap()),
                    ],
                );
                assert_eq!(text, expected, "{subject} {direction:?}");
                let read_back: TraceReply = serde_json::from_str(&text).unwrap();
                assert_eq!(read_back, reply, "{subject} {direction:?}");
            }
        }
    }

    #[test]
    fn a_recall_reply_is_the_answer_then_evidence_and_reads_back() {
        let (index, lots) = index_and_lots();
        let answer = index.recall_scope(&Hazard::Lots(lots[..3].to_vec()));
        assert!(!answer.trace.consignees.is_empty());
        let reply = RecallReply {
            answer: answer.clone(),
            names: Names::default(),
            excursions: Vec::new(),
            evidence: evidence(),
        };
        let text = serde_json::to_string(&reply).unwrap();
        let expected =
            appended(&answer, &[("evidence", serde_json::to_value(evidence()).unwrap())]);
        assert_eq!(text, expected);
        let read_back: RecallReply = serde_json::from_str(&text).unwrap();
        assert_eq!(read_back, reply);
        // Excursions in force come between the names and the evidence, and read back.
        let excursion = ExcursionRef {
            entry: crate::entry::EntryRef {
                author: evidence().unproven[0].author,
                sequence: 3,
                entry_hash: crate::entry::EntryHash::from_bytes([9; 32]),
            },
            lots: vec![answer.trace.lots[0].to_string()],
            measurement: "gs1:Temperature".to_owned(),
            limit: "single-event: above 4 CEL for more than 30 min".to_owned(),
            observed: "9 CEL".to_owned(),
            started: "2026-03-01T10:00:00.000Z".to_owned(),
            ended: None,
            figures: None,
        };
        let reply = RecallReply { excursions: vec![excursion], ..reply };
        let text = serde_json::to_string(&reply).unwrap();
        let expected = appended(
            &answer,
            &[
                ("excursions", serde_json::to_value(&reply.excursions).unwrap()),
                ("evidence", serde_json::to_value(evidence()).unwrap()),
            ],
        );
        assert_eq!(text, expected);
        assert_eq!(serde_json::from_str::<RecallReply>(&text).unwrap(), reply);
    }

    #[test]
    fn fields_a_node_leaves_out_read_as_empty() {
        let reply: TraceReply = serde_json::from_value(json!({"lots": ["x"]})).unwrap();
        assert_eq!(reply.answer.lots, vec![Text::from("x")]);
        assert_eq!(reply.evidence, Evidence::default());
        let reply: RecallReply = serde_json::from_value(json!({"hazard": "h"})).unwrap();
        assert_eq!(reply.answer.hazard, "h");
    }
}
