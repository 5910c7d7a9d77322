//! The regulator's supervision rules: which consignees of a recall have not acknowledged it,
//! and the supervision list (organisations with failed inspections, unacknowledged recalls,
//! unconfirmed handoffs of recalled goods, handoffs of any lot left unconfirmed past their
//! deadline, unacknowledged excursions or supervision flags, each finding with its evidence).
//!
//! Owns the rules, so the `lotline` CLI (`recall status`, `supervision`) and the node's
//! regulator dashboard show the same list from the same facts. Deliberately does not own
//! gathering those facts (the CLI asks a node and verifies; the node reads its own ledger)
//! nor showing them (tables, `--json`, pages).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Serialize;

use crate::coldchain::custody::{self, Status};
use crate::coldchain::{Custody, Reason};
use crate::entry::EntryRef;
use crate::identity::PublicKey;
use crate::records;
use crate::trace::Handoff;

/// An amount as a person reads it: `12 KGM`, `12` without a unit, empty when unknown.
pub fn quantity_text(quantity: Option<f64>, uom: Option<&str>) -> String {
    match (quantity, uom) {
        (Some(quantity), Some(uom)) => format!("{quantity} {uom}"),
        (Some(quantity), None) => quantity.to_string(),
        (None, _) => String::new(),
    }
}

/// A handoff's date: when it was received, else when it was shipped.
pub fn handoff_date(handoff: &Handoff) -> Option<&str> {
    handoff.received_at.as_deref().or(handoff.shipped_at.as_deref())
}

/// Whether `consignee` was received by the organisation with `gln`: its party or location
/// names that GLN.
fn received_by(consignee: &Handoff, gln: &str) -> bool {
    [consignee.party.as_deref(), consignee.location.as_deref()]
        .into_iter()
        .flatten()
        .any(|identifier| identifier.contains(gln))
}

/// The consignees that have not acknowledged: those whose party or location GLN belongs to no
/// organisation that signed an acknowledgement of this recall.
pub fn outstanding_consignees<'answer>(
    consignees: &'answer [Arc<Handoff>],
    acknowledging_glns: &[String],
) -> Vec<&'answer Handoff> {
    consignees
        .iter()
        .map(AsRef::as_ref)
        .filter(|consignee| !acknowledging_glns.iter().any(|gln| received_by(consignee, gln)))
        .collect()
}

/// An admitted organisation as the supervision rules need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Its key (hex, any case).
    pub public_key: String,
    /// Its name in the roster.
    pub name: String,
    /// Its GLN, when the roster gives one.
    pub gln: Option<String>,
}

/// What a finding reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum FindingKind {
    /// A lab's result failed a lot the organisation created or handled.
    #[serde(rename = "failed inspection")]
    FailedInspection,
    /// The organisation received recalled goods and signed no acknowledgement.
    #[serde(rename = "unacknowledged recall")]
    UnacknowledgedRecall,
    /// Recalled goods were shipped to the organisation and no receipt is recorded.
    #[serde(rename = "unconfirmed handoff")]
    UnconfirmedHandoff,
    /// A regulator flagged the organisation.
    #[serde(rename = "supervision flag")]
    SupervisionFlag,
    /// Goods of any lot were shipped and no receipt confirmed them by the deadline.
    #[serde(rename = "overdue handoff")]
    OverdueHandoff,
    /// An excursion record no custodian of the goods has acknowledged.
    #[serde(rename = "unacknowledged excursion")]
    UnacknowledgedExcursion,
}

impl FindingKind {
    /// The words the CLI and the dashboard show.
    pub fn name(self) -> &'static str {
        match self {
            Self::FailedInspection => "failed inspection",
            Self::UnacknowledgedRecall => "unacknowledged recall",
            Self::UnconfirmedHandoff => "unconfirmed handoff",
            Self::SupervisionFlag => "supervision flag",
            Self::OverdueHandoff => "overdue handoff",
            Self::UnacknowledgedExcursion => "unacknowledged excursion",
        }
    }
}

/// The signed facts behind a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Evidence {
    /// The lab's inspection result.
    Inspection {
        /// The lab's name.
        lab: String,
        /// The result's entry hash (hex).
        entry_hash: String,
    },
    /// The recall notice and the handoffs that make the organisation a holder.
    Recall {
        /// The notice's entry hash (hex).
        notice_entry_hash: String,
        /// Event Hash IDs of the shipping and receiving events.
        events: BTreeSet<String>,
    },
    /// The shipping event no receipt answers.
    Handoff {
        /// Its Event Hash ID.
        shipping_event: String,
        /// The recall it belongs to.
        recall: String,
    },
    /// The shipping event no receipt confirmed by its deadline.
    Shipment {
        /// Its Event Hash ID.
        shipping_event: String,
        /// When a receipt was due (RFC 3339).
        due: String,
    },
    /// The excursion record no custodian acknowledged.
    Excursion {
        /// The record's entry hash (hex).
        excursion_entry_hash: String,
        /// Who signed it (name, else key).
        recorded_by: String,
    },
    /// The regulator's flag.
    Flag {
        /// The regulator's name.
        regulator: String,
        /// The flag's entry hash (hex).
        entry_hash: String,
    },
}

/// One finding about one organisation. JSON: `finding`, `lot` (when it concerns one),
/// `detail`, `evidence`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What is reported.
    pub finding: FindingKind,
    /// The lot concerned (canonical Digital Link), when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lot: Option<String>,
    /// In words: the test, the recall id, the missing receipt, the flag's reason.
    pub detail: String,
    /// What proves it.
    pub evidence: Evidence,
}

/// The recall facts one notice contributes to the supervision list.
#[derive(Debug, Clone, Copy)]
pub struct RecallFacts<'facts> {
    /// The recall id.
    pub recall_id: &'facts str,
    /// The notice's entry hash (hex).
    pub notice_entry_hash: &'facts str,
    /// The consignees of its scope.
    pub consignees: &'facts [Arc<Handoff>],
    /// Keys (hex, any case) of the organisations that signed an acknowledgement of it.
    pub acknowledging_authors: &'facts [String],
}

/// One excursion record as the supervision list needs it.
#[derive(Debug, Clone, Copy)]
pub struct ExcursionFacts<'facts> {
    /// The record's entry.
    pub entry: &'facts EntryRef,
    /// The record.
    pub record: &'facts records::Excursion,
    /// The acknowledgements naming this entry: who signed each, and why.
    pub acknowledgements: &'facts [(PublicKey, Reason)],
    /// Who held the record's lots when (from their handoffs, see `coldchain::custody`).
    pub custody: &'facts [Custody],
}

/// Whether the excursion record at `entry` still stands among `records` (every excursion
/// record held, with its entry): it is not a withdrawal, and no later record of its own author
/// supersedes it (the rule of `coldchain::book`: nobody corrects or withdraws another's
/// statement).
pub fn excursion_stands(
    entry: &EntryRef,
    record: &records::Excursion,
    records: &[(EntryRef, records::Excursion)],
) -> bool {
    let withdrawn = record.detail.as_ref().is_some_and(|detail| detail.withdrawn);
    let superseded = records.iter().any(|(other_entry, other)| {
        other_entry.author == entry.author
            && other.detail.as_ref().and_then(|detail| detail.supersedes.as_ref()) == Some(entry)
    });
    !withdrawn && !superseded
}

/// The name of the member with `key` (hex, any case), else the key.
fn member_name(members: &[Member], key: &str) -> String {
    members
        .iter()
        .find(|member| member.public_key.eq_ignore_ascii_case(key))
        .map_or_else(|| key.to_owned(), |member| member.name.clone())
}

/// The supervision list: findings by organisation name, each organisation's in the order they
/// were found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Supervision {
    /// Organisation name → its findings.
    pub organisations: BTreeMap<String, Vec<Finding>>,
}

impl Supervision {
    /// A failed inspection of `lot` (result `entry_hash` of `lab`, testing `test`), found
    /// against each organisation in `responsible` (those whose entries the lot's trace back
    /// relies on).
    pub fn failed_inspection(
        &mut self,
        responsible: &[String],
        lot: &str,
        test: &str,
        lab: &str,
        entry_hash: &str,
    ) {
        for organisation in responsible {
            self.push(
                organisation,
                Finding {
                    finding: FindingKind::FailedInspection,
                    lot: Some(lot.to_owned()),
                    detail: test.to_owned(),
                    evidence: Evidence::Inspection {
                        lab: lab.to_owned(),
                        entry_hash: entry_hash.to_owned(),
                    },
                },
            );
        }
    }

    /// A recall's findings: every member that received recalled goods and did not acknowledge,
    /// and every shipment to a member that no receipt confirms.
    pub fn recall(&mut self, recall: &RecallFacts<'_>, members: &[Member]) {
        for member in members {
            let Some(gln) = &member.gln else { continue };
            let member_consignees: Vec<&Handoff> = recall
                .consignees
                .iter()
                .map(AsRef::as_ref)
                .filter(|consignee| received_by(consignee, gln))
                .collect();
            if member_consignees.is_empty() {
                continue;
            }
            let acknowledged = recall
                .acknowledging_authors
                .iter()
                .any(|author| author.eq_ignore_ascii_case(&member.public_key));
            if !acknowledged {
                let events: BTreeSet<String> = member_consignees
                    .iter()
                    .flat_map(|consignee| [&consignee.shipping_event, &consignee.receiving_event])
                    .flatten()
                    .map(|event| event.to_text())
                    .collect();
                self.push(
                    &member.name,
                    Finding {
                        finding: FindingKind::UnacknowledgedRecall,
                        lot: None,
                        detail: recall.recall_id.to_owned(),
                        evidence: Evidence::Recall {
                            notice_entry_hash: recall.notice_entry_hash.to_owned(),
                            events,
                        },
                    },
                );
            }
            for consignee in member_consignees {
                let (Some(shipping_event), None) =
                    (&consignee.shipping_event, &consignee.receiving_event)
                else {
                    continue;
                };
                let detail = format!(
                    "no receipt recorded for {} of {} shipped{}",
                    quantity_text(consignee.quantity, consignee.uom.as_deref()),
                    consignee.lot,
                    handoff_date(consignee).map(|date| format!(" on {date}")).unwrap_or_default()
                );
                self.push(
                    &member.name,
                    Finding {
                        finding: FindingKind::UnconfirmedHandoff,
                        lot: Some(consignee.lot.to_string()),
                        detail,
                        evidence: Evidence::Handoff {
                            shipping_event: shipping_event.to_text(),
                            recall: recall.recall_id.to_owned(),
                        },
                    },
                );
            }
        }
    }

    /// Every overdue handoff among `handoffs` (shipped, and no receipt by its deadline), found
    /// against the member the goods were shipped to (by its GLN in the ship-to party or
    /// location), else against the sender, with the shipping event as evidence.
    pub fn overdue_handoffs(&mut self, handoffs: &[custody::Handoff], members: &[Member]) {
        for handoff in handoffs {
            let (Status::Overdue, Some(shipped)) = (handoff.status, &handoff.shipped) else {
                continue;
            };
            let consignee = members.iter().find(|member| {
                member.gln.as_deref().is_some_and(|gln| {
                    [&handoff.party, &handoff.location]
                        .into_iter()
                        .flatten()
                        .any(|identifier| identifier.contains(gln))
                })
            });
            let organisation = consignee
                .map_or_else(|| member_name(members, &shipped.by), |member| member.name.clone());
            let due = handoff.due.clone().unwrap_or_default();
            let detail = format!(
                "no receipt by {due} for {} of {} shipped on {}",
                quantity_text(handoff.quantity, handoff.uom.as_deref()),
                handoff.lot,
                shipped.at
            );
            self.push(
                &organisation,
                Finding {
                    finding: FindingKind::OverdueHandoff,
                    lot: Some(handoff.lot.clone()),
                    detail,
                    evidence: Evidence::Shipment { shipping_event: shipped.event.to_text(), due },
                },
            );
        }
    }

    /// An excursion record that no acknowledgement by a custodian answers (the rule of
    /// `coldchain::check_acknowledgement`: ended, and signed by an organisation that held the
    /// goods during it), found against each organisation that held the goods during it, else
    /// against the one that recorded it. An ongoing excursion is listed too: nobody can
    /// acknowledge it yet.
    pub fn excursion(&mut self, facts: &ExcursionFacts<'_>, members: &[Member]) {
        let acknowledged = facts.acknowledgements.iter().any(|(by, reason)| {
            custody::check_record_acknowledgement(
                facts.entry,
                facts.record,
                *by,
                reason,
                facts.custody,
            )
            .is_ok()
        });
        if acknowledged {
            return;
        }
        let record = facts.record;
        let end_ms = record.ended_ms.unwrap_or(i64::MAX);
        let mut custodians: Vec<String> = facts
            .custody
            .iter()
            .filter(|custody| {
                custody.from_ms <= end_ms
                    && custody.until_ms.is_none_or(|until| until >= record.started_ms)
            })
            .map(|custody| member_name(members, &custody.holder.to_hex()))
            .collect();
        custodians.sort();
        custodians.dedup();
        let recorded_by = member_name(members, &facts.entry.author.to_hex());
        if custodians.is_empty() {
            custodians.push(recorded_by.clone());
        }
        let started = crate::trace::format_time(record.started_ms);
        let detail = match record.ended_ms {
            Some(ended_ms) => format!(
                "{} {} from {started} to {}: not acknowledged",
                record.measurement,
                record.limit,
                crate::trace::format_time(ended_ms)
            ),
            None => format!("{} {} since {started}: ongoing", record.measurement, record.limit),
        };
        for organisation in custodians {
            self.push(
                &organisation,
                Finding {
                    finding: FindingKind::UnacknowledgedExcursion,
                    lot: record.lots.first().map(|lot| {
                        crate::trace::Subject::parse(lot)
                            .map_or_else(|_| lot.clone(), |subject| subject.link().to_owned())
                    }),
                    detail: detail.clone(),
                    evidence: Evidence::Excursion {
                        excursion_entry_hash: facts.entry.entry_hash.to_hex(),
                        recorded_by: recorded_by.clone(),
                    },
                },
            );
        }
    }

    /// A regulator's flag on `subject` (the organisation's name).
    pub fn flag(&mut self, subject: &str, reason: &str, regulator: &str, entry_hash: &str) {
        self.push(
            subject,
            Finding {
                finding: FindingKind::SupervisionFlag,
                lot: None,
                detail: reason.to_owned(),
                evidence: Evidence::Flag {
                    regulator: regulator.to_owned(),
                    entry_hash: entry_hash.to_owned(),
                },
            },
        );
    }

    fn push(&mut self, organisation: &str, finding: Finding) {
        self.organisations.entry(organisation.to_owned()).or_default().push(finding);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consignees_of_acknowledging_organisations_are_not_outstanding() {
        let consignees = vec![
            Arc::new(Handoff {
                location: Some("https://id.gs1.org/414/4012345000115".into()),
                quantity: Some(10.0),
                ..Handoff::default()
            }),
            Arc::new(Handoff {
                party: Some("https://id.gs1.org/417/0614141000005".into()),
                ..Handoff::default()
            }),
        ];
        let outstanding = outstanding_consignees(&consignees, &["4012345000115".to_owned()]);
        assert_eq!(outstanding.len(), 1);
        assert_eq!(outstanding[0].party.as_deref(), Some("https://id.gs1.org/417/0614141000005"));
        assert_eq!(outstanding_consignees(&consignees, &[]).len(), 2);
    }

    #[test]
    fn a_holder_without_acknowledgement_or_receipt_is_listed_with_the_evidence() {
        let consignees = vec![Arc::new(Handoff {
            lot: "https://id.gs1.org/01/09506000134376/10/PACK42".into(),
            location: Some("https://id.gs1.org/414/4012345000115".into()),
            quantity: Some(60.0),
            uom: Some("EA".into()),
            shipped_at: Some("2026-03-03T08:00:00Z".into()),
            ..Handoff::default()
        })];
        let members = [Member {
            public_key: "AB".to_owned(),
            name: "Retailer".to_owned(),
            gln: Some("4012345000115".to_owned()),
        }];
        let mut supervision = Supervision::default();
        let facts = RecallFacts {
            recall_id: "R-1",
            notice_entry_hash: "00",
            consignees: &consignees,
            acknowledging_authors: &[],
        };
        supervision.recall(&facts, &members);
        let findings = &supervision.organisations["Retailer"];
        assert_eq!(findings.len(), 1, "no shipping event: the receipt is not missing");
        assert_eq!(findings[0].finding, FindingKind::UnacknowledgedRecall);
        assert_eq!(
            serde_json::to_value(&findings[0]).unwrap(),
            serde_json::json!({"finding": "unacknowledged recall", "detail": "R-1",
                "evidence": {"notice_entry_hash": "00", "events": []}})
        );
        let mut acknowledged = Supervision::default();
        let authors = ["ab".to_owned()];
        acknowledged.recall(&RecallFacts { acknowledging_authors: &authors, ..facts }, &members);
        assert!(acknowledged.organisations.is_empty());
        acknowledged.flag("Retailer", "late reports", "Regulator", "01");
        assert_eq!(acknowledged.organisations["Retailer"][0].detail, "late reports");
    }

    fn retailer() -> Member {
        Member {
            public_key: crate::identity::Keypair::from_seed([3; 32]).public_key().to_hex(),
            name: "Retailer".to_owned(),
            gln: Some("4012345000115".to_owned()),
        }
    }

    #[test]
    fn an_overdue_handoff_is_found_against_the_consignee_with_the_shipping_event() {
        use crate::coldchain::custody::{Handoff as CustodyHandoff, Signed};
        let shipped = Signed {
            event: crate::trace::EventHashId::new("ni:///sha-256;00?ver=CBV2.0"),
            by: "aa".to_owned(),
            at: "2026-06-01T08:00:00.000Z".to_owned(),
            step: Some("shipping".to_owned()),
        };
        let handoff = |status| CustodyHandoff {
            lot: "https://id.gs1.org/01/09506000134376/10/CHILL-7".to_owned(),
            status,
            shipped: Some(shipped.clone()),
            picked_up: None,
            delivered: None,
            received: None,
            party: None,
            location: Some("https://id.gs1.org/414/4012345000115".to_owned()),
            quantity: Some(40.0),
            uom: Some("CS".to_owned()),
            documents: Vec::new(),
            due: Some("2026-06-03T08:00:00.000Z".to_owned()),
            clock_skew_ms: None,
        };
        let mut supervision = Supervision::default();
        supervision.overdue_handoffs(&[handoff(Status::Unconfirmed)], &[retailer()]);
        assert!(supervision.organisations.is_empty(), "within its deadline: not overdue");
        supervision.overdue_handoffs(&[handoff(Status::Overdue)], &[retailer()]);
        let findings = &supervision.organisations["Retailer"];
        assert_eq!(findings[0].finding, FindingKind::OverdueHandoff);
        assert_eq!(
            serde_json::to_value(&findings[0]).unwrap()["evidence"],
            serde_json::json!({"shipping_event": "ni:///sha-256;00?ver=CBV2.0",
                "due": "2026-06-03T08:00:00.000Z"})
        );
        // A consignee off the ledger: the sender answers for it.
        let mut elsewhere = Supervision::default();
        elsewhere.overdue_handoffs(
            &[CustodyHandoff { location: None, ..handoff(Status::Overdue) }],
            &[retailer()],
        );
        assert!(elsewhere.organisations.contains_key("aa"));
    }

    #[test]
    fn an_excursion_leaves_the_list_once_a_custodian_acknowledges_it() {
        let carrier = crate::identity::Keypair::from_seed([2; 32]).public_key();
        let stranger = crate::identity::Keypair::from_seed([3; 32]).public_key();
        let entry = EntryRef {
            author: carrier,
            sequence: 4,
            entry_hash: crate::entry::EntryHash::from_bytes([5; 32]),
        };
        let record = records::Excursion {
            lots: vec!["urn:epc:class:lgtin:4012345.012345.L1".to_owned()],
            measurement: "gs1:Temperature".to_owned(),
            limit: "above 8 CEL for more than 30 min".to_owned(),
            observed: "11 CEL".to_owned(),
            started_ms: 1_000,
            ended_ms: Some(5_000),
            detail: None,
        };
        let custody = [Custody { holder: carrier, from_ms: 0, until_ms: Some(10_000) }];
        let members = [
            Member { public_key: carrier.to_hex(), name: "Carrier".to_owned(), gln: None },
            retailer(),
        ];
        let list = |acknowledgements: &[(PublicKey, Reason)]| {
            let mut supervision = Supervision::default();
            let facts = ExcursionFacts {
                entry: &entry,
                record: &record,
                acknowledgements,
                custody: &custody,
            };
            supervision.excursion(&facts, &members);
            supervision
        };
        let unacknowledged = list(&[]);
        let finding = &unacknowledged.organisations["Carrier"][0];
        assert_eq!(finding.finding, FindingKind::UnacknowledgedExcursion);
        assert_eq!(finding.lot.as_deref(), Some("https://id.gs1.org/01/04012345123456/10/L1"));
        assert!(list(&[(stranger, Reason::Discarded)]).organisations.contains_key("Carrier"));
        assert!(list(&[(carrier, Reason::SensorLostOrMalfunctioning)]).organisations.is_empty());
        let records = [(entry.clone(), record.clone())];
        assert!(excursion_stands(&entry, &record, &records));
    }

    /// A record stands until its own author supersedes or withdraws it; another's record
    /// naming it in `supersedes` changes nothing.
    #[test]
    fn only_its_author_supersedes_an_excursion_record() {
        let author = crate::identity::Keypair::from_seed([2; 32]).public_key();
        let other = crate::identity::Keypair::from_seed([3; 32]).public_key();
        let entry_of = |author, sequence: u64| EntryRef {
            author,
            sequence,
            entry_hash: crate::entry::EntryHash::from_bytes([sequence as u8; 32]),
        };
        let record = |supersedes: Option<EntryRef>, withdrawn| records::Excursion {
            lots: vec!["urn:epc:class:lgtin:4012345.012345.L1".to_owned()],
            measurement: "gs1:Temperature".to_owned(),
            limit: "above 8 CEL for more than 30 min".to_owned(),
            observed: "11 CEL".to_owned(),
            started_ms: 1_000,
            ended_ms: Some(5_000),
            detail: Some(records::ExcursionDetail {
                device: "LOGGER-1".to_owned(),
                excursion_id: crate::coldchain::ExcursionId([1; 16]),
                rule: crate::coldchain::Rule {
                    kind: crate::coldchain::RuleKind::SingleEvent,
                    bound: crate::coldchain::Bound::Above(8.0),
                    longer_than_ms: 1_800_000,
                },
                duration_ms: 4_000,
                min_celsius: 9.0,
                max_celsius: 11.0,
                mean_celsius: 10.0,
                readings: 4,
                gaps: 0,
                gap_ms: 0,
                supersedes,
                withdrawn,
            }),
        };
        let first = entry_of(author, 1);
        let original = record(None, false);
        let by_another = [
            (first.clone(), original.clone()),
            (entry_of(other, 1), record(Some(first.clone()), false)),
        ];
        assert!(excursion_stands(&first, &original, &by_another));
        let withdrawal = record(Some(first.clone()), true);
        let by_its_author =
            [(first.clone(), original.clone()), (entry_of(author, 2), withdrawal.clone())];
        assert!(!excursion_stands(&first, &original, &by_its_author));
        assert!(!excursion_stands(&entry_of(author, 2), &withdrawal, &by_its_author));
    }
}
