//! Custody over the node's ledger: who held a subject's lots at an instant, the handoffs of a
//! subject or of every shipped lot, the custody intervals an excursion acknowledgement is
//! checked against, and the cold-chain findings of the supervision list.
//!
//! Owns gathering these from the index (a trace back from each subject reaches its lots with
//! their visits and handoffs), the roster (logistics members are the carriers) and the records
//! (excursions and their acknowledgements). Does not own the rules (`coldchain::custody` and
//! `supervision` in the ledger, shared with the client) nor any text form (`http`).

use std::collections::{BTreeMap, BTreeSet};

use lotline_ledger::coldchain::Custody;
use lotline_ledger::coldchain::custody::{
    self, CustodyReply, Handoff, HandoffsReply, Rules, Status, Timeline,
};
use lotline_ledger::entry::EntryRef;
use lotline_ledger::identity::PublicKey;
use lotline_ledger::records::{self, Payload};
use lotline_ledger::roster::Role;
use lotline_ledger::supervision::{ExcursionFacts, Member, Supervision};
use lotline_ledger::trace::facts::{Facts, ObjectKind};
use lotline_ledger::trace::{Direction, EventRef, Subject, TraceAnswer, format_time};

use super::{Error, EventQuery, Ledger, read_lock};

/// Shipping events read per catalogue page when every shipped lot is gathered.
const SHIPMENTS_PER_PAGE: &str = "1000";

/// Now, in milliseconds since the epoch.
fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

impl Ledger {
    /// The custody rules of this node (the handoff deadline is configured).
    pub fn custody_rules(&self) -> Rules {
        self.custody_rules
    }

    /// Keys (lower-case hex) of the members whose events in transit make them carriers.
    fn carriers(&self) -> BTreeSet<String> {
        self.store.with_roster(|roster| {
            roster
                .members()
                .filter(|member| member.roles.contains(&Role::Logistics))
                .map(|member| member.key.to_hex())
                .collect()
        })
    }

    /// The trace back from `subject` and the timeline of each lot a custody question about it
    /// concerns.
    fn timelines(&self, subject: &Subject, now_ms: i64) -> (TraceAnswer, Vec<Timeline>) {
        let answer = read_lock(&self.index).trace(std::slice::from_ref(subject), Direction::Back);
        let carriers = self.carriers();
        let rules = self.custody_rules();
        let timelines = custody::lots_of(&answer, subject.link())
            .iter()
            .map(|lot| custody::timeline(&answer, lot, &carriers, now_ms, &rules))
            .collect();
        (answer, timelines)
    }

    /// `GET /custody`: who held the subject's lots at `at_ms` (every holding when `None`),
    /// with the handoffs and the entries of every event cited.
    pub fn custody(&self, subject: &Subject, at_ms: Option<i64>) -> Result<CustodyReply, Error> {
        let (answer, timelines) = self.timelines(subject, now_ms());
        let mut holders = Vec::new();
        let mut handoffs = Vec::new();
        for timeline in timelines {
            match at_ms {
                Some(at_ms) => holders
                    .extend(custody::holders_at(&timeline.holdings, at_ms).into_iter().cloned()),
                None => holders.extend(timeline.holdings),
            }
            handoffs.extend(timeline.handoffs);
        }
        let entries = cited_entries(&answer, &handoffs, &holders);
        Ok(CustodyReply {
            subject: subject.link().to_owned(),
            at: at_ms.map(format_time),
            holders,
            handoffs,
            entries,
        })
    }

    /// `GET /handoffs`: the handoffs of the subject's lots, or of every lot a shipping event
    /// names when no subject is given; only those not confirmed when `unconfirmed_only`.
    pub fn handoffs(
        &self,
        subject: Option<&Subject>,
        unconfirmed_only: bool,
    ) -> Result<HandoffsReply, Error> {
        let subjects = match subject {
            Some(subject) => vec![subject.clone()],
            None => self.shipped_subjects()?,
        };
        let now_ms = now_ms();
        let mut handoffs: Vec<Handoff> = Vec::new();
        let mut entries: BTreeSet<EventRef> = BTreeSet::new();
        let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
        for subject in &subjects {
            let (answer, timelines) = self.timelines(subject, now_ms);
            let mut found = Vec::new();
            for handoff in timelines.into_iter().flat_map(|timeline| timeline.handoffs) {
                if unconfirmed_only && handoff.status == Status::Confirmed {
                    continue;
                }
                let first = handoff.events().next().map(|signed| signed.event.to_text());
                if seen.insert((handoff.lot.clone(), first.unwrap_or_default())) {
                    found.push(handoff);
                }
            }
            entries.extend(cited_entries(&answer, &found, &[]));
            handoffs.extend(found);
        }
        handoffs.sort_by(|left, right| {
            let first = |handoff: &Handoff| {
                handoff.events().next().map(|signed| (signed.at.clone(), signed.event.clone()))
            };
            (&left.lot, first(left)).cmp(&(&right.lot, first(right)))
        });
        Ok(HandoffsReply {
            subject: subject.map(|subject| subject.link().to_owned()),
            handoffs,
            entries: entries.into_iter().collect(),
        })
    }

    /// The handoffs overdue now that are not in `announced` (by lot and shipping event),
    /// added to it: what a notifier tells once each (`notify::Kind::HandoffOverdue`).
    pub fn newly_overdue(
        &self,
        announced: &mut BTreeSet<(String, String)>,
    ) -> Result<Vec<Handoff>, Error> {
        let unconfirmed = self.handoffs(None, true)?;
        Ok(unconfirmed
            .handoffs
            .into_iter()
            .filter(|handoff| handoff.status == Status::Overdue)
            .filter(|handoff| {
                let shipping_event =
                    handoff.shipped.as_ref().map(|shipped| shipped.event.to_text());
                announced.insert((handoff.lot.clone(), shipping_event.unwrap_or_default()))
            })
            .collect())
    }

    /// The lots and pallets every shipping event names, each once.
    fn shipped_subjects(&self) -> Result<Vec<Subject>, Error> {
        let mut subjects: BTreeSet<Subject> = BTreeSet::new();
        let mut token: Option<String> = None;
        loop {
            let mut parameters = vec![("EQ_bizStep", "shipping"), ("perPage", SHIPMENTS_PER_PAGE)];
            if let Some(token) = &token {
                parameters.push(("nextPageToken", token.as_str()));
            }
            let page = self.query_events(&EventQuery::parse(parameters)?)?;
            for stored in &page.events {
                let facts = Facts::from_event(&stored.event);
                for object in &facts.what {
                    if matches!(object.key.kind, ObjectKind::Lot | ObjectKind::LogisticUnit)
                        && let Ok(subject) = Subject::parse(&object.key.link)
                    {
                        subjects.insert(subject);
                    }
                }
            }
            match page.next_page_token {
                Some(next) => token = Some(next),
                None => break,
            }
        }
        Ok(subjects.into_iter().collect())
    }

    /// Who held `lots` (identifiers as records name them) when: the intervals an excursion
    /// acknowledgement is checked against.
    pub fn custody_intervals(&self, lots: &[String]) -> Vec<Custody> {
        let now_ms = now_ms();
        let mut intervals = Vec::new();
        for lot in lots {
            let Ok(subject) = Subject::parse(lot) else { continue };
            let (_, timelines) = self.timelines(&subject, now_ms);
            for timeline in timelines {
                intervals.extend(custody::intervals(&timeline.holdings));
            }
        }
        intervals
    }

    /// Refuses an acknowledgement of an excursion unless the record exists, has ended and
    /// `by` held custody of its lots during it (see `coldchain::check_acknowledgement`).
    pub(super) fn check_excursion_acknowledgement(
        &self,
        acknowledgement: &records::ExcursionAcknowledgement,
        by: PublicKey,
    ) -> Result<(), Error> {
        let excursion = &acknowledgement.excursion;
        let record = self
            .store
            .entry(&excursion.author, excursion.sequence)?
            .filter(|entry| entry.reference().entry_hash == excursion.entry_hash)
            .and_then(|entry| match entry.payload() {
                Some(Payload::Excursion(record)) => Some(record.clone()),
                _ => None,
            })
            .ok_or_else(|| Error::UnknownExcursion {
                author: excursion.author,
                sequence: excursion.sequence,
                entry_hash: excursion.entry_hash.to_hex(),
            })?;
        let intervals = self.custody_intervals(&record.lots);
        custody::check_record_acknowledgement(
            excursion,
            &record,
            by,
            &acknowledgement.reason,
            &intervals,
        )
        .map_err(Error::Acknowledgement)
    }

    /// Adds the cold-chain findings to `supervision`: every overdue handoff of any shipped lot
    /// (against its consignee, else its sender) and every standing excursion record that no
    /// custodian acknowledged.
    pub fn coldchain_findings(
        &self,
        supervision: &mut Supervision,
        members: &[Member],
    ) -> Result<(), Error> {
        let overdue = self.handoffs(None, true)?;
        supervision.overdue_handoffs(&overdue.handoffs, members);
        let mut excursions: Vec<(EntryRef, records::Excursion)> = Vec::new();
        let mut acknowledgements: BTreeMap<
            EntryRef,
            Vec<(PublicKey, lotline_ledger::coldchain::Reason)>,
        > = BTreeMap::new();
        for record in self.records(None)? {
            match record.entry.payload() {
                Some(Payload::Excursion(excursion)) => {
                    excursions.push((record.entry.reference(), excursion.clone()));
                }
                Some(Payload::ExcursionAcknowledgement(acknowledgement)) => {
                    acknowledgements
                        .entry(acknowledgement.excursion.clone())
                        .or_default()
                        .push((record.entry.author(), acknowledgement.reason.clone()));
                }
                _ => {}
            }
        }
        for (entry, excursion) in &excursions {
            if !lotline_ledger::supervision::excursion_stands(entry, excursion, &excursions) {
                continue;
            }
            let custody = self.custody_intervals(&excursion.lots);
            let facts = ExcursionFacts {
                entry,
                record: excursion,
                acknowledgements: acknowledgements.get(entry).map_or(&[], Vec::as_slice),
                custody: &custody,
            };
            supervision.excursion(&facts, members);
        }
        Ok(())
    }
}

/// The entries of the events `handoffs` and `holdings` cite, from the trace answer that
/// relied on them.
fn cited_entries(
    answer: &TraceAnswer,
    handoffs: &[Handoff],
    holdings: &[custody::Holding],
) -> Vec<EventRef> {
    let cited = custody::cited_events(handoffs, holdings);
    answer.entries.iter().filter(|entry| cited.contains(&entry.event_hash_id)).cloned().collect()
}
