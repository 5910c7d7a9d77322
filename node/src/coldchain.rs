//! The node's cold-chain duty: it keeps the book of what every stored entry says about cold
//! chain, and after it captures sensor events of its own it runs the incremental detector on
//! the readings it signed and signs the excursions it finds into its own feed.
//!
//! Owns: [`ColdChain`] (the book, fed by the ledger's views as entries are appended or
//! replicated, and one [`Detector`] per series and profile), the rule that turns a detection
//! into records ([`ColdChain::plan`]: a new excursion is a new record; one whose stretch
//! changed is a correction superseding the record it replaces; one that no longer holds is
//! withdrawn by a record; an excursion id already signed is never signed again), the logging
//! interval assumed for EPCIS readings ([`CONFIG`]), and [`Ledger::sign_excursions`].
//! Does not own: detection itself (`lotline_ledger::coldchain::detector`), what the book keeps
//! (`lotline_ledger::coldchain::book`), profiles (master data, read through
//! `book::profile_of`), signing and appending (`crate::state`), or the HTTP answer
//! (`crate::http`).
//!
//! Only the organisation that signed the readings signs excursions about them: the book
//! keeps this node's new readings apart ([`Book::watching`]) and only those are judged here.
//! "Out of range now" is the detector's [`Status`](lotline_ledger::coldchain::Status) and is
//! never signed; only a breached rule becomes a record.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, RwLock, RwLockReadGuard};

use lotline_ledger::coldchain::book::{self, Book, ExcursionRecord, SensorEvent, SeriesKey};
use lotline_ledger::coldchain::{Config, Detector, Excursion, Profile, RuleKind};
use lotline_ledger::entry::EntryRef;
use lotline_ledger::feed::VerifiedEntry;
use lotline_ledger::identity::PublicKey;
use lotline_ledger::records::{self, Payload};

use crate::state::Ledger;

/// How EPCIS readings are judged for gaps: a logging interval of five minutes, and an interval
/// more than twice that is a gap (reported in the excursion, never bridged). The same for
/// every series and every run, so a detection repeated after a restart finds the same
/// excursions with the same ids.
pub const CONFIG: Config = Config { interval_ms: 5 * 60_000, gap_tolerance: 2.0 };

/// The book and the detectors of one node.
#[derive(Debug)]
pub struct ColdChain {
    /// What the stored entries say about cold chain.
    book: RwLock<Book>,
    /// One detector per series of this node's readings and profile name, built from the
    /// book's readings the first time and fed each new reading once after. The lock also
    /// serialises signing, so two captures at once sign an excursion once.
    detectors: Mutex<BTreeMap<(SeriesKey, String), Detector>>,
}

impl ColdChain {
    /// An empty book that keeps `organisation`'s new readings for detection.
    pub fn new(organisation: PublicKey) -> Self {
        Self { book: RwLock::new(Book::watching(organisation)), detectors: Mutex::default() }
    }

    /// The book, for reading.
    pub fn book(&self) -> RwLockReadGuard<'_, Book> {
        self.book.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds sensor events already read (the views read events on several threads first).
    pub fn add_sensor_events(&self, events: Vec<(EntryRef, SensorEvent)>) {
        if events.is_empty() {
            return;
        }
        let mut book = self.book.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        for (entry, event) in events {
            book.add_sensor_event(entry, event);
        }
    }

    /// Adds the excursion records among `entries` (other kinds are skipped).
    pub fn add_records(&self, entries: &[VerifiedEntry]) {
        let mut excursions = entries
            .iter()
            .filter(|entry| matches!(entry.payload(), Some(Payload::Excursion(_))))
            .peekable();
        if excursions.peek().is_none() {
            return;
        }
        let mut book = self.book.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        for entry in excursions {
            if let Some(payload) = entry.payload() {
                book.add_record(entry.reference(), entry.record_time_ms(), payload);
            }
        }
    }

    /// Runs the detectors on this node's readings added since the last run and returns the
    /// records to sign, with the detectors' lock (held until they are signed). `profile_of`
    /// names a lot's temperature profile (master data).
    pub fn plan(
        &self,
        organisation: &PublicKey,
        profile_of: impl Fn(&str) -> Option<Profile>,
    ) -> (std::sync::MutexGuard<'_, BTreeMap<(SeriesKey, String), Detector>>, Vec<Payload>) {
        let mut detectors =
            self.detectors.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let fresh =
            self.book.write().unwrap_or_else(std::sync::PoisonError::into_inner).take_fresh();
        let book = self.book();
        let mut payloads = Vec::new();
        for (key, samples) in fresh {
            // The series' lots by profile: each profile judges the readings once, for its lots.
            let mut by_profile: BTreeMap<String, (Profile, Vec<String>)> = BTreeMap::new();
            for lot in key.lots() {
                if let Some(profile) = profile_of(lot) {
                    by_profile
                        .entry(profile.name.clone())
                        .or_insert_with(|| (profile, Vec::new()))
                        .1
                        .push(lot.to_owned());
                }
            }
            for (name, (profile, lots)) in by_profile {
                let detector_key = (key.clone(), name);
                let detector = match detectors.get_mut(&detector_key) {
                    Some(detector) => {
                        if let Err(conflicts) = detector.insert(&samples) {
                            // The book keeps contradicting readings out, so this is a fault.
                            tracing::warn!(device = %key.device, conflicts = conflicts.len(), "readings refused by the detector");
                        }
                        detector
                    }
                    None => {
                        let Ok(mut detector) =
                            Detector::new(key.device.clone(), profile.clone(), CONFIG)
                        else {
                            continue;
                        };
                        let all = book.series(&key).map(|series| series.samples());
                        if let Err(conflicts) = detector.insert(&all.unwrap_or_default()) {
                            tracing::warn!(device = %key.device, conflicts = conflicts.len(), "readings refused by the detector");
                        }
                        detectors.entry(detector_key).or_insert(detector)
                    }
                };
                let signed = book.current_of_device(organisation, &key.device, &lots);
                payloads.extend(
                    records_for(&book, organisation, &detector.excursions(), &signed, &lots)
                        .into_iter()
                        .map(Payload::Excursion),
                );
            }
        }
        (detectors, payloads)
    }
}

/// The records that bring `signed` (the author's excursion records in force for one device
/// and lot set) in line with `detected` (what the detector now finds): every detected
/// excursion not signed before becomes a record, superseding the signed one of the same rule
/// whose stretch it overlaps (for a cumulative rule: the signed one of that rule); every
/// signed one that nothing detected replaces is withdrawn.
fn records_for(
    book: &Book,
    author: &PublicKey,
    detected: &[Excursion],
    signed: &[&ExcursionRecord],
    lots: &[String],
) -> Vec<records::Excursion> {
    let detected_ids: BTreeSet<[u8; 16]> =
        detected.iter().map(|excursion| excursion.id.0).collect();
    let still_held = |record: &&ExcursionRecord| {
        record
            .excursion
            .detail
            .as_ref()
            .is_some_and(|detail| detected_ids.contains(&detail.excursion_id.0))
    };
    let mut replaced: BTreeSet<EntryRef> = BTreeSet::new();
    let mut out = Vec::new();
    for excursion in detected {
        if book.signed(author, excursion.id.0).is_some() {
            continue;
        }
        let record = excursion.to_record(lots.to_vec());
        let old = signed.iter().find(|old| {
            !replaced.contains(&old.entry) && !still_held(old) && replaces(old, excursion)
        });
        match old {
            Some(old) => {
                replaced.insert(old.entry);
                out.push(record.superseding(old.entry));
            }
            None => out.push(record),
        }
    }
    for old in signed {
        if replaced.contains(&old.entry) || still_held(old) {
            continue;
        }
        if let Some(withdrawal) = records::Excursion::withdrawal_of(&old.excursion, old.entry) {
            out.push(withdrawal);
        }
    }
    out
}

/// Whether `excursion` is a new statement of what `old` reported: the same rule and, for a
/// single-event rule, stretches that overlap (an ongoing one reaches to the end of time).
fn replaces(old: &ExcursionRecord, excursion: &Excursion) -> bool {
    let Some(detail) = &old.excursion.detail else { return false };
    if detail.rule != excursion.rule {
        return false;
    }
    if excursion.rule.kind == RuleKind::Cumulative {
        return true;
    }
    let old_end = old.excursion.ended_ms.unwrap_or(i64::MAX);
    let new_end = excursion.end_ms.unwrap_or(i64::MAX);
    old.excursion.started_ms <= new_end && excursion.start_ms <= old_end
}

impl Ledger {
    /// Judges this organisation's readings added since the last run and signs what changed:
    /// new excursions, corrections and withdrawals, each a record of its own. Called after a
    /// capture and once at start-up (readings captured before a crash are judged then). A
    /// failure is logged, never passed to the capture, whose events are already stored: the
    /// next run that judges the same series (a new reading of it, or the next start) compares
    /// the detection with what is signed again and signs what is still missing. Blocks.
    pub fn sign_excursions(&self) {
        let organisation = self.organisation();
        let (detectors, payloads) = self.cold_chain().plan(&organisation, |lot| {
            book::profile_of(lot, |id| self.master_data(id).map(|described| described.statement))
        });
        for payload in payloads {
            if let Err(error) = self.append_record(payload) {
                tracing::warn!(%error, "excursion record not signed");
                break;
            }
        }
        drop(detectors);
    }
}
