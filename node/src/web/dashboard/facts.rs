//! What the dashboard's pages show, read from the node's ledger: recall notices with their
//! scope, acknowledgements and outstanding consignees, failed inspections of recalled lots,
//! the FSMA 204 rows of a recall and the supervision list.
//!
//! Owns gathering those facts from [`Ledger`] (blocking: call from `spawn_blocking`) into plain
//! values the templates print. Does not own the rules (which consignees are outstanding, what
//! the supervision list holds, the spreadsheet's rows: `lotline_ledger::supervision` and
//! `lotline_ledger::fsma204`, shared with the `lotline` CLI) nor any markup (`super`'s
//! templates, which escape every value).

use std::collections::{BTreeMap, BTreeSet};

use lotline_ledger::entry::PayloadKind;
use lotline_ledger::fsma204::{self, Row, Window};
use lotline_ledger::identity::PublicKey;
use lotline_ledger::records::{
    InspectionResult, Payload, RecallAcknowledgement, RecallClass, RecallNotice, Verdict,
};
use lotline_ledger::supervision::{
    Member, RecallFacts, Supervision, outstanding_consignees, quantity_text,
};
use lotline_ledger::trace::{
    Direction, EventRef, Handoff, Hazard, Holder, Names, RecallReply, Subject,
};
use serde_json::Value;

use crate::state::{Error, Ledger, Roster};

/// Most lots one recall's scope may reach for the dashboard to show it (the same bound as the
/// node's default for `POST /recall/scope`).
pub const MAX_RECALL_LOTS: usize = 10_000;

/// One recall notice with what has happened since.
#[derive(Debug, Clone)]
pub struct Recall {
    /// The notice's entry hash (hex): the recall's address in the dashboard.
    pub entry_hash: String,
    /// The regulator's recall number.
    pub recall_id: String,
    /// `I`, `II` or `III`.
    pub class: &'static str,
    /// The hazard, in words.
    pub hazard: String,
    /// What holders must do.
    pub instructions: String,
    /// Who issued it (roster name, else key).
    pub issued_by: String,
    /// When its entry was recorded (RFC 3339).
    pub issued_at: String,
    /// The lots the notice names.
    pub lots: Vec<String>,
    /// Its scope now, or why it cannot be computed.
    pub scope: Result<RecallReply, String>,
    /// Acknowledgements signed for it.
    pub acknowledgements: Vec<Acknowledgement>,
    /// GLNs of the organisations that acknowledged.
    acknowledging_glns: Vec<String>,
    /// Keys (hex) of the organisations that acknowledged.
    acknowledging_authors: Vec<String>,
}

/// A holder's acknowledgement of a recall.
#[derive(Debug, Clone)]
pub struct Acknowledgement {
    /// Who signed it (roster name, else key).
    pub by: String,
    /// What they still hold.
    pub quantity_held: String,
    /// What they did.
    pub action: String,
    /// Its entry hash (hex).
    pub entry_hash: String,
}

/// A consignee of a recall as the recall's page lists it.
#[derive(Debug, Clone)]
pub struct Consignee {
    /// The lot received (name and identifier).
    pub lot: String,
    /// Who received it (name and identifier).
    pub party: String,
    /// Where (name and identifier).
    pub place: String,
    /// How much.
    pub quantity: String,
    /// When (received, else shipped).
    pub date: String,
    /// Whether the receiving organisation acknowledged the recall.
    pub acknowledged: bool,
}

/// An amount of a recalled lot still in distribution.
#[derive(Debug, Clone)]
pub struct Held {
    /// The lot (name and identifier).
    pub lot: String,
    /// Who holds it (name and identifier).
    pub holder: String,
    /// How much.
    pub quantity: String,
}

/// A failed inspection of a recalled lot.
#[derive(Debug, Clone)]
pub struct FailedInspection {
    /// The lots it failed (name and identifier).
    pub lots: Vec<String>,
    /// The test, in words.
    pub test: String,
    /// The lab (roster name, else key).
    pub lab: String,
    /// When the sample was taken (RFC 3339).
    pub sampled_at: String,
    /// The report reference.
    pub report: String,
    /// Its entry hash (hex).
    pub entry_hash: String,
}

/// A temperature excursion in force on a lot of a recall's scope.
#[derive(Debug, Clone)]
pub struct RecallExcursion {
    /// The lots it names that are in scope (name and identifier).
    pub lots: Vec<String>,
    /// The rule and limits applied, as the record states them.
    pub limit: String,
    /// The worst value observed.
    pub observed: String,
    /// Start (RFC 3339).
    pub started: String,
    /// End (RFC 3339), empty while ongoing.
    pub ended: String,
    /// The organisation that recorded it (roster name, else key).
    pub recorded_by: String,
    /// Its entry hash (hex).
    pub entry_hash: String,
}

impl Recall {
    /// How many consignees the scope names (0 when it has none).
    pub fn consignee_count(&self) -> usize {
        self.scope.as_ref().map_or(0, |reply| reply.answer.trace.consignees.len())
    }

    /// The consignees whose organisation has not acknowledged.
    pub fn outstanding(&self) -> Vec<&Handoff> {
        match &self.scope {
            Ok(reply) => {
                outstanding_consignees(&reply.answer.trace.consignees, &self.acknowledging_glns)
            }
            Err(_) => Vec::new(),
        }
    }

    /// Every consignee with its acknowledgement status, labelled by name.
    pub fn consignees(&self) -> Vec<Consignee> {
        let Ok(reply) = &self.scope else { return Vec::new() };
        reply
            .answer
            .trace
            .consignees
            .iter()
            .map(|handoff| Consignee {
                lot: reply.names.label(&handoff.lot),
                party: label_of(&reply.names, handoff.party.as_deref()),
                place: label_of(&reply.names, handoff.location.as_deref()),
                quantity: quantity_text(handoff.quantity, handoff.uom.as_deref()),
                date: lotline_ledger::supervision::handoff_date(handoff)
                    .unwrap_or_default()
                    .to_owned(),
                acknowledged: outstanding_consignees(
                    std::slice::from_ref(handoff),
                    &self.acknowledging_glns,
                )
                .is_empty(),
            })
            .collect()
    }

    /// What is still in distribution, labelled by name.
    pub fn in_distribution(&self) -> Vec<Held> {
        let Ok(reply) = &self.scope else { return Vec::new() };
        reply
            .answer
            .trace
            .in_distribution
            .iter()
            .map(|position| Held {
                lot: reply.names.label(&position.lot),
                holder: match &position.holder {
                    Holder::Organisation { key } => {
                        reply.names.organisation(key).map_or_else(|| key.to_string(), str::to_owned)
                    }
                    Holder::Consignee { party, location } => {
                        let party = party.as_deref().or(location.as_deref());
                        format!("in transit to {}", label_of(&reply.names, party))
                    }
                },
                quantity: quantity_text(Some(position.quantity), position.uom.as_deref()),
            })
            .collect()
    }

    /// Every lot the recall reaches: the notice's and the scope's, canonical.
    pub fn reached_lots(&self) -> BTreeSet<String> {
        let scoped = self.scope.iter().flat_map(|reply| reply.answer.trace.lots.iter());
        self.lots
            .iter()
            .map(|lot| canonical(lot))
            .chain(scoped.map(|lot| lot.to_string()))
            .collect()
    }
}

/// What a person reads for an optional identifier.
fn label_of(names: &Names, id: Option<&str>) -> String {
    id.map(|id| names.label(id)).unwrap_or_default()
}

/// The canonical Digital Link of a lot as written in a record, else the text itself.
fn canonical(lot: &str) -> String {
    lotline_ledger::gs1::canonical_digital_link(lot).unwrap_or_else(|| lot.to_owned())
}

/// `I`, `II` or `III`.
fn class_name(class: RecallClass) -> &'static str {
    match class {
        RecallClass::ClassOne => "I",
        RecallClass::ClassTwo => "II",
        RecallClass::ClassThree => "III",
    }
}

/// A record time (milliseconds since the epoch) as RFC 3339.
fn time_text(milliseconds: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(milliseconds) * 1_000_000)
        .ok()
        .and_then(|instant| instant.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// Names of the roster's members by key (hex).
struct MemberNames {
    /// Key (lower-case hex) → (name, GLN).
    by_key: BTreeMap<String, (String, String)>,
}

impl MemberNames {
    fn of(roster: &Roster) -> Self {
        let by_key = roster
            .members
            .iter()
            .map(|member| {
                (member.public_key.to_ascii_lowercase(), (member.name.clone(), member.gln.clone()))
            })
            .collect();
        MemberNames { by_key }
    }

    /// The member's name, else the key.
    fn name(&self, key: &PublicKey) -> String {
        let hex = key.to_hex();
        self.by_key.get(&hex).map_or(hex, |(name, _)| name.clone())
    }

    /// The member's GLN.
    fn gln(&self, key: &PublicKey) -> Option<String> {
        self.by_key.get(&key.to_hex()).map(|(_, gln)| gln.clone()).filter(|gln| !gln.is_empty())
    }
}

/// A notice found in the ledger, with its entry.
struct Notice {
    entry_hash: String,
    author: PublicKey,
    record_time_ms: i64,
    notice: RecallNotice,
}

/// Every recall notice the node holds, in append order.
fn notices(ledger: &Ledger) -> Result<Vec<Notice>, Error> {
    Ok(ledger
        .records(Some(PayloadKind::RecallNotice))?
        .into_iter()
        .filter_map(|record| match record.entry.payload() {
            Some(Payload::RecallNotice(notice)) => Some(Notice {
                entry_hash: record.entry.entry_hash().to_hex(),
                author: record.entry.author(),
                record_time_ms: record.entry.record_time_ms(),
                notice: notice.clone(),
            }),
            _ => None,
        })
        .collect())
}

/// Every acknowledgement the node holds, with its author and entry hash.
fn acknowledgements(
    ledger: &Ledger,
) -> Result<Vec<(PublicKey, String, RecallAcknowledgement)>, Error> {
    Ok(ledger
        .records(Some(PayloadKind::RecallAcknowledgement))?
        .into_iter()
        .filter_map(|record| match record.entry.payload() {
            Some(Payload::RecallAcknowledgement(acknowledgement)) => Some((
                record.entry.author(),
                record.entry.entry_hash().to_hex(),
                acknowledgement.clone(),
            )),
            _ => None,
        })
        .collect())
}

/// The scope of a notice's lots, as `POST /recall/scope` computes it.
fn scope_of(ledger: &Ledger, notice: &RecallNotice) -> Result<RecallReply, String> {
    let subjects: Vec<Subject> =
        notice.lots.iter().filter_map(|lot| Subject::parse(lot).ok()).collect();
    if subjects.is_empty() {
        return Err("the notice names no lot this node can read".to_owned());
    }
    ledger.recall_scope(&Hazard::Lots(subjects), MAX_RECALL_LOTS).map_err(|error| error.to_string())
}

/// Every recall the node holds, newest first, with scope and acknowledgements.
pub fn recalls(ledger: &Ledger) -> Result<Vec<Recall>, Error> {
    let members = MemberNames::of(&ledger.roster());
    let acknowledgements = acknowledgements(ledger)?;
    let mut recalls: Vec<Recall> = notices(ledger)?
        .into_iter()
        .map(|found| recall_of(ledger, &members, &acknowledgements, found))
        .collect();
    recalls.reverse();
    Ok(recalls)
}

/// The recall whose notice has entry hash `address` or, failing that, recall id `address`.
pub fn recall(ledger: &Ledger, address: &str) -> Result<Option<Recall>, Error> {
    let members = MemberNames::of(&ledger.roster());
    let notices = notices(ledger)?;
    let found = notices
        .iter()
        .position(|notice| notice.entry_hash.eq_ignore_ascii_case(address))
        .or_else(|| notices.iter().position(|notice| notice.notice.recall_id == address));
    let Some(index) = found else { return Ok(None) };
    let acknowledgements = acknowledgements(ledger)?;
    let notice = notices.into_iter().nth(index);
    Ok(notice.map(|notice| recall_of(ledger, &members, &acknowledgements, notice)))
}

fn recall_of(
    ledger: &Ledger,
    members: &MemberNames,
    acknowledgements: &[(PublicKey, String, RecallAcknowledgement)],
    found: Notice,
) -> Recall {
    // An acknowledgement counts for the notice it names, or for its recall id (as the CLI's
    // `recall status` counts it).
    let matching: Vec<&(PublicKey, String, RecallAcknowledgement)> = acknowledgements
        .iter()
        .filter(|(_, _, acknowledgement)| {
            acknowledgement.recall_id == found.notice.recall_id
                || acknowledgement
                    .notice
                    .entry_hash
                    .to_hex()
                    .eq_ignore_ascii_case(&found.entry_hash)
        })
        .collect();
    Recall {
        scope: scope_of(ledger, &found.notice),
        acknowledgements: matching
            .iter()
            .map(|(author, entry_hash, acknowledgement)| Acknowledgement {
                by: members.name(author),
                quantity_held: acknowledgement.quantity_held.clone(),
                action: acknowledgement.action.clone(),
                entry_hash: entry_hash.clone(),
            })
            .collect(),
        acknowledging_glns: matching
            .iter()
            .filter_map(|(author, _, _)| members.gln(author))
            .collect(),
        acknowledging_authors: matching.iter().map(|(author, _, _)| author.to_hex()).collect(),
        entry_hash: found.entry_hash,
        recall_id: found.notice.recall_id,
        class: class_name(found.notice.class),
        hazard: found.notice.hazard,
        instructions: found.notice.instructions,
        issued_by: members.name(&found.author),
        issued_at: time_text(found.record_time_ms),
        lots: found.notice.lots,
    }
}

/// The failed inspections of any lot `recall` reaches.
pub fn failed_inspections(
    ledger: &Ledger,
    recall: &Recall,
) -> Result<Vec<FailedInspection>, Error> {
    let members = MemberNames::of(&ledger.roster());
    let reached = recall.reached_lots();
    let names = recall.scope.as_ref().ok().map(|reply| &reply.names);
    Ok(failed_results(ledger)?
        .into_iter()
        .filter(|(_, _, result)| result.lots.iter().any(|lot| reached.contains(&canonical(lot))))
        .map(|(author, entry_hash, result)| FailedInspection {
            lots: result
                .lots
                .iter()
                .map(|lot| {
                    let lot = canonical(lot);
                    names.map_or_else(|| lot.clone(), |names| names.label(&lot))
                })
                .collect(),
            test: result.test,
            lab: members.name(&author),
            sampled_at: time_text(result.sampled_at_ms),
            report: result.report,
            entry_hash,
        })
        .collect())
}

/// The excursions in force on the lots of `recall`'s scope (records a later one of the same
/// author superseded or withdrew are left out), each once.
pub fn recall_excursions(ledger: &Ledger, recall: &Recall) -> Vec<RecallExcursion> {
    let members = MemberNames::of(&ledger.roster());
    let reached = recall.reached_lots();
    let names = recall.scope.as_ref().ok().map(|reply| &reply.names);
    let label = |lot: &str| names.map_or_else(|| lot.to_owned(), |names| names.label(lot));
    let book = ledger.cold_chain().book();
    let mut seen = BTreeSet::new();
    let mut excursions = Vec::new();
    for lot in &reached {
        for record in book.current_excursions_of(lot) {
            if !seen.insert(record.entry) {
                continue;
            }
            let excursion = &record.excursion;
            excursions.push(RecallExcursion {
                lots: excursion
                    .lots
                    .iter()
                    .map(|lot| canonical(lot))
                    .filter(|lot| reached.contains(lot))
                    .map(|lot| label(&lot))
                    .collect(),
                limit: excursion.limit.clone(),
                observed: excursion.observed.clone(),
                started: time_text(excursion.started_ms),
                ended: excursion.ended_ms.map(time_text).unwrap_or_default(),
                recorded_by: members.name(&record.entry.author),
                entry_hash: record.entry.entry_hash.to_hex(),
            });
        }
    }
    excursions
}

/// Every inspection result that failed, with its author and entry hash.
fn failed_results(ledger: &Ledger) -> Result<Vec<(PublicKey, String, InspectionResult)>, Error> {
    Ok(ledger
        .records(Some(PayloadKind::InspectionResult))?
        .into_iter()
        .filter_map(|record| match record.entry.payload() {
            Some(Payload::InspectionResult(result)) if result.verdict == Verdict::Fail => {
                Some((record.entry.author(), record.entry.entry_hash().to_hex(), result.clone()))
            }
            _ => None,
        })
        .collect())
}

/// The FSMA 204 rows of a recall: every Critical Tracking Event its scope relies on and every
/// event of a trace back and forward from the lots the notice names (as `lotline export
/// fsma204 --recall` gathers them), described with the node's master data.
pub fn fsma204_rows(ledger: &Ledger, recall: &Recall) -> Result<Vec<Row>, Error> {
    let mut references: Vec<EventRef> = Vec::new();
    let mut excursions = Vec::new();
    if let Ok(reply) = &recall.scope {
        references.extend(reply.answer.trace.entries.iter().cloned());
        excursions.extend(reply.excursions.iter().cloned());
    }
    for lot in &recall.lots {
        let Ok(subject) = Subject::parse(lot) else { continue };
        for direction in [Direction::Back, Direction::Forward] {
            let reply = ledger.trace(&subject, direction)?;
            references.extend(reply.answer.entries);
            excursions.extend(reply.excursions);
        }
    }
    let event_ids: BTreeSet<String> =
        references.iter().map(|reference| reference.event_hash_id.to_text()).collect();
    let mut events: Vec<Value> = Vec::with_capacity(event_ids.len());
    for event_id in event_ids {
        let stored = ledger.event(&event_id)?;
        let mut json = lotline_ledger::epcis::event_to_json_ld(&stored.event);
        // The spreadsheet's event id is the Event Hash ID, the one that finds the signed entry.
        if let Some(object) = json.as_object_mut() {
            object.insert("eventID".to_owned(), Value::String(stored.event_hash_id));
        }
        events.push(json);
    }
    let window = Window { from: None, to: None };
    let mut rows =
        ledger.with_directory(|directory| fsma204::rows_from_events(&events, window, directory));
    // The same excursion reaches the scope and each recalled lot's traces: noted once.
    let mut seen = BTreeSet::new();
    excursions.retain(|excursion| seen.insert(excursion.entry));
    fsma204::note_excursions(&mut rows, &excursions);
    Ok(rows)
}

/// The supervision list over everything the node holds, by the rules the CLI's `lotline
/// supervision` applies.
pub fn supervision(ledger: &Ledger) -> Result<Supervision, Error> {
    let roster = ledger.roster();
    let names = MemberNames::of(&roster);
    let members: Vec<Member> = roster
        .members
        .iter()
        .map(|member| Member {
            public_key: member.public_key.clone(),
            name: member.name.clone(),
            gln: Some(member.gln.clone()).filter(|gln| !gln.is_empty()),
        })
        .collect();
    let mut supervision = Supervision::default();
    for (author, entry_hash, result) in failed_results(ledger)? {
        for lot in &result.lots {
            let responsible = responsible_organisations(ledger, &names, lot)?;
            supervision.failed_inspection(
                &responsible,
                lot,
                &result.test,
                &names.name(&author),
                &entry_hash,
            );
        }
    }
    for recall in recalls(ledger)?.into_iter().rev() {
        let Ok(reply) = &recall.scope else { continue };
        let facts = RecallFacts {
            recall_id: &recall.recall_id,
            notice_entry_hash: &recall.entry_hash,
            consignees: &reply.answer.trace.consignees,
            acknowledging_authors: &recall.acknowledging_authors,
        };
        supervision.recall(&facts, &members);
    }
    ledger.coldchain_findings(&mut supervision, &members)?;
    for record in ledger.records(Some(PayloadKind::SupervisionFlag))? {
        let Some(Payload::SupervisionFlag(flag)) = record.entry.payload() else { continue };
        supervision.flag(
            &names.name(&flag.subject),
            &flag.reason,
            &names.name(&record.entry.author()),
            &record.entry.entry_hash().to_hex(),
        );
    }
    Ok(supervision)
}

/// The organisations (names) whose entries a trace back from `lot` relies on: those that
/// created or handled it.
fn responsible_organisations(
    ledger: &Ledger,
    members: &MemberNames,
    lot: &str,
) -> Result<Vec<String>, Error> {
    let Ok(subject) = Subject::parse(lot) else { return Ok(Vec::new()) };
    let reply = ledger.trace(&subject, Direction::Back)?;
    let authors: BTreeSet<String> = reply
        .answer
        .entries
        .iter()
        .map(|reference| reference.entry)
        .chain(reply.names.entries())
        .map(|entry| entry.author.to_hex())
        .collect();
    Ok(authors
        .into_iter()
        .map(|author| match PublicKey::from_hex(&author) {
            Ok(key) => members.name(&key),
            Err(_) => author,
        })
        .collect())
}
