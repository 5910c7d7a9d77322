//! The node's cold-chain duty: it keeps the book of what every stored entry says about cold
//! chain, and after it captures sensor events of its own it runs the incremental detector on
//! the readings it signed and signs the excursions it finds into its own feed.
//!
//! Owns: [`ColdChain`] (the book, fed by the ledger's views as entries are appended or
//! replicated, and one [`Detector`] per series and profile), the rule that turns a detection
//! into records ([`ColdChain::plan`]: a new excursion is a new record; one whose stretch
//! changed is a correction superseding the record it replaces; one that no longer holds is
//! withdrawn by a record; an excursion id already signed is never signed again), the logging
//! how gaps are judged ([`config_of`]), and [`Ledger::sign_excursions`].
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

/// An interval between two readings longer than this many logging intervals is a gap
/// (reported in the excursion, never bridged).
pub const GAP_TOLERANCE: f64 = 2.0;

/// How a series' readings are judged: its logging interval as the book fixed it (see
/// `book::Series::interval_ms`, the same on every node and after every restart, so a
/// detection repeated finds the same excursions with the same ids) and [`GAP_TOLERANCE`];
/// `None` while the series holds fewer than two readings.
pub fn config_of(series: &book::Series) -> Option<Config> {
    Some(Config { interval_ms: series.interval_ms?, gap_tolerance: GAP_TOLERANCE })
}

/// The book and the detectors of one node.
#[derive(Debug)]
pub struct ColdChain {
    /// What the stored entries say about cold chain.
    book: RwLock<Book>,
    /// The detectors and the series waiting for a profile. The lock also serialises signing,
    /// so two captures at once sign an excursion once.
    detectors: Mutex<Detectors>,
}

/// The detectors of one node's readings.
#[derive(Debug, Default)]
pub struct Detectors {
    /// One per series and profile name, built from the book's readings the first time and fed
    /// each new reading once after.
    by_series: BTreeMap<(SeriesKey, String), Detector>,
    /// Series with a lot master data names no profile for yet: judged again at every run, so
    /// readings captured before the product's master data are judged once it arrives.
    waiting: BTreeSet<SeriesKey>,
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
    ) -> (std::sync::MutexGuard<'_, Detectors>, Vec<Payload>) {
        let mut guard = self.detectors.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let Detectors { by_series: detectors, waiting } = &mut *guard;
        let mut fresh =
            self.book.write().unwrap_or_else(std::sync::PoisonError::into_inner).take_fresh();
        for key in std::mem::take(waiting) {
            fresh.entry(key).or_default();
        }
        let book = self.book();
        let mut payloads = Vec::new();
        for (key, samples) in fresh {
            // The series' lots by profile: each profile judges the readings once, for its lots.
            let mut by_profile: BTreeMap<String, (Profile, Vec<String>)> = BTreeMap::new();
            for lot in key.lots() {
                match profile_of(lot) {
                    Some(profile) => by_profile
                        .entry(profile.name.clone())
                        .or_insert_with(|| (profile, Vec::new()))
                        .1
                        .push(lot.to_owned()),
                    None => {
                        waiting.insert(key.clone());
                    }
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
                        let Some(series) = book.series(&key) else { continue };
                        // Built once the interval is known, from every reading held then.
                        let Some(config) = config_of(series) else {
                            waiting.insert(key.clone());
                            continue;
                        };
                        let Ok(mut detector) =
                            Detector::new(key.device.clone(), profile.clone(), config)
                        else {
                            continue;
                        };
                        if let Err(conflicts) = detector.insert(&series.samples()) {
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
        drop(book);
        (guard, payloads)
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

#[cfg(test)]
mod tests {
    use lotline_ledger::coldchain::{Reading, Sample};
    use lotline_ledger::entry::EntryHash;
    use lotline_ledger::identity::Keypair;

    use super::*;

    const LOT: &str = "https://id.gs1.org/01/09506000134352/10/L1";
    const DEVICE: &str = "urn:lotline:device:L7";
    const MINUTE: i64 = 60_000;
    /// 2026-03-01T00:00:00Z.
    const T0: i64 = 1_772_323_200_000;

    fn readings(at_minutes: &[(i64, f64)]) -> SensorEvent {
        SensorEvent {
            readings: at_minutes
                .iter()
                .map(|&(minute, celsius)| Reading {
                    device: DEVICE.to_owned(),
                    time_ms: T0 + minute * MINUTE,
                    offset_minutes: 0,
                    celsius,
                })
                .collect(),
            carried: vec![LOT.to_owned()],
        }
    }

    /// A node's cold chain and its next feed position: captures readings, plans and "signs"
    /// (adds the planned records to the book as its own entries).
    struct Node {
        organisation: PublicKey,
        cold_chain: ColdChain,
        sequence: u64,
    }

    impl Node {
        fn new() -> Self {
            let organisation = Keypair::from_seed([7; 32]).public_key();
            Self { organisation, cold_chain: ColdChain::new(organisation), sequence: 0 }
        }

        fn next(&mut self) -> EntryRef {
            self.sequence += 1;
            let mut hash = [0u8; 32];
            hash[..8].copy_from_slice(&self.sequence.to_be_bytes());
            EntryRef {
                author: self.organisation,
                sequence: self.sequence,
                entry_hash: EntryHash::from_bytes(hash),
            }
        }

        /// Captures `event`, plans and signs; the records signed, with their entries.
        fn capture(&mut self, event: SensorEvent) -> Vec<(EntryRef, records::Excursion)> {
            let at = self.next();
            self.cold_chain.add_sensor_events(vec![(at, event)]);
            let (detectors, payloads) =
                self.cold_chain.plan(&self.organisation, |_| Some(Profile::chilled()));
            drop(detectors);
            let mut signed = Vec::new();
            for payload in payloads {
                let Payload::Excursion(excursion) = payload else { panic!("{payload:?}") };
                let at = self.next();
                self.cold_chain.book.write().unwrap().add_excursion(at, 0, &excursion);
                signed.push((at, excursion));
            }
            signed
        }
    }

    fn rule_kind(excursion: &records::Excursion) -> RuleKind {
        excursion.detail.as_ref().unwrap().rule.kind
    }

    fn supersedes(excursion: &records::Excursion) -> Option<EntryRef> {
        excursion.detail.as_ref().unwrap().supersedes
    }

    /// Readings every five minutes from `from` to `to` minutes (inclusive) at `celsius`.
    fn every_five(from: i64, to: i64, celsius: f64) -> Vec<(i64, f64)> {
        (from..=to).step_by(5).map(|minute| (minute, celsius)).collect()
    }

    /// Two stretches above 4 °C breach the single-event rule each and the cumulative rule
    /// together; a later stretch changes only the cumulative excursion, whose correction
    /// supersedes it; a late reading that splits a stretch into two still breaching ones
    /// supersedes it with the first and reports the second as new; the same readings again,
    /// and a run with nothing new, sign nothing.
    #[test]
    fn corrections_supersede_the_record_of_the_same_rule_and_stretch() {
        let mut node = Node::new();
        let mut first = every_five(0, 45, 6.0);
        first.push((50, 3.0));
        first.extend(every_five(55, 130, 6.0));
        first.push((135, 3.0));
        let signed = node.capture(readings(&first));
        let kinds: Vec<RuleKind> = signed.iter().map(|(_, record)| rule_kind(record)).collect();
        assert_eq!(kinds, [RuleKind::SingleEvent, RuleKind::SingleEvent, RuleKind::Cumulative]);
        assert!(signed.iter().all(|(_, record)| supersedes(record).is_none()));
        let (stretch_b, cumulative) = (signed[1].0, signed[2].0);
        assert_eq!(signed[1].1.ended_ms, Some(T0 + 135 * MINUTE));
        assert_eq!(signed[2].1.detail.as_ref().unwrap().duration_ms, 130 * MINUTE);

        let later = node.capture(readings(&[(140, 6.0), (145, 3.0)]));
        assert_eq!(later.len(), 1, "{later:#?}");
        assert_eq!(rule_kind(&later[0].1), RuleKind::Cumulative);
        assert_eq!(supersedes(&later[0].1), Some(cumulative));
        assert_eq!(later[0].1.detail.as_ref().unwrap().duration_ms, 135 * MINUTE);
        let cumulative = later[0].0;

        let split = node.capture(readings(&[(92, 3.0)]));
        assert_eq!(split.len(), 3, "{split:#?}");
        assert_eq!(supersedes(&split[0].1), Some(stretch_b));
        assert_eq!(split[0].1.ended_ms, Some(T0 + 92 * MINUTE));
        assert_eq!(supersedes(&split[1].1), None);
        assert_eq!(split[1].1.started_ms, T0 + 95 * MINUTE);
        assert_eq!(supersedes(&split[2].1), Some(cumulative));

        assert!(node.capture(readings(&[(92, 3.0), (140, 6.0)])).is_empty());
        let book = node.cold_chain.book();
        let current = book.current_of_device(&node.organisation, DEVICE, &[LOT.to_owned()]);
        assert_eq!(current.len(), 4, "A, the two halves of B, the cumulative");
    }

    /// A logger that logs every fifteen minutes is judged on its own interval: its readings
    /// are no gaps, and 45 minutes above 4 °C breach the 30-minute rule.
    #[test]
    fn each_series_is_judged_on_its_own_logging_interval() {
        let mut node = Node::new();
        let mut quarter_hours: Vec<(i64, f64)> =
            (0..=45).step_by(15).map(|minute| (minute, 6.0)).collect();
        quarter_hours.push((60, 3.0));
        let signed = node.capture(readings(&quarter_hours));
        assert_eq!(signed.len(), 1, "{signed:#?}");
        let detail = signed[0].1.detail.as_ref().unwrap();
        assert_eq!((detail.duration_ms, detail.gaps), (60 * MINUTE, 0));
    }

    /// Readings of another organisation are never judged here; readings of a lot without a
    /// profile are judged once master data names one.
    #[test]
    fn only_our_readings_of_profiled_lots_are_judged() {
        let mut node = Node::new();
        let stranger = Keypair::from_seed([8; 32]).public_key();
        let at = EntryRef { author: stranger, sequence: 0, entry_hash: EntryHash::ZERO };
        node.cold_chain.add_sensor_events(vec![(at, readings(&every_five(0, 60, 9.0)))]);
        let (detectors, payloads) =
            node.cold_chain.plan(&node.organisation, |_| Some(Profile::chilled()));
        drop(detectors);
        assert!(payloads.is_empty());
        let at = node.next();
        node.cold_chain.add_sensor_events(vec![(at, readings(&every_five(0, 60, 9.0)))]);
        let (detectors, payloads) = node.cold_chain.plan(&node.organisation, |_| None);
        drop(detectors);
        assert!(payloads.is_empty());
        let samples: Vec<Sample> = node.cold_chain.book().series_of_lot(LOT)[0].1.samples();
        assert_eq!(samples.len(), 13);
        // Once master data names the profile, the readings already held are judged.
        let (detectors, payloads) =
            node.cold_chain.plan(&node.organisation, |_| Some(Profile::chilled()));
        drop(detectors);
        assert_eq!(payloads.len(), 1, "{payloads:#?}");
    }
}
