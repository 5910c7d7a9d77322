//! What a store's entries say about cold chain, kept as they are appended or replicated: the
//! temperature readings of each device, what each device travelled with, and the excursion
//! records signed about lots with their supersession resolved.
//!
//! Owns: [`Book`] (fed with sensor events and excursion records in append order, rebuilt from
//! the store on open like the trace index and the master-data directory), [`SeriesKey`] (one
//! signer's readings of one device travelling with one set of lots: the unit a detector runs
//! on), [`Series`] with the device's logging interval, [`SensorEvent`], [`ExcursionRecord`]
//! and the [`Standing`] of each excursion record (current, superseded, a withdrawal), and the
//! product temperature profile master data names ([`TEMPERATURE_PROFILE`], [`profile_of`],
//! [`profile_in`]).
//! Does not own: reading readings out of an event (`super::readings_of_event`), detecting
//! excursions (`super::detector`), deciding what to sign or signing it (the node), custody or
//! acknowledgements (`super::custody`), or storage.
//!
//! **Idempotent.** An entry fed twice (start-up replay, then a local append) adds nothing, and
//! a reading equal to one held (same device, signer, shipment and instant) is the same
//! reading. A reading that contradicts one held at the same instant is kept out and counted;
//! the first signed stands.
//!
//! **Supersession.** An excursion record that names another in `supersedes` replaces it only
//! when both are signed by the same organisation: nobody corrects or withdraws another's
//! statement.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::{Profile, Reading, Sample};
use crate::entry::{EntryHash, EntryRef};
use crate::epcis::Event;
use crate::gs1::{self, Identifier};
use crate::identity::PublicKey;
use crate::masterdata::{Directory, Statement, VocabularyType};
use crate::records;

/// The master-data attribute of a product class (EPCClass vocabulary, the GTIN's Digital
/// Link) or of one lot that names its temperature profile: `chilled`, `vaccine` or `frozen`
/// (see [`Profile::chilled`], [`Profile::vaccine`], [`Profile::frozen`]).
pub const TEMPERATURE_PROFILE: &str = "urn:lotline:mda:temperatureProfile";

/// The profile a value of [`TEMPERATURE_PROFILE`] names; `None` for any other value.
pub fn named_profile(value: &str) -> Option<Profile> {
    match value.trim() {
        "chilled" => Some(Profile::chilled()),
        "vaccine" => Some(Profile::vaccine()),
        "frozen" => Some(Profile::frozen()),
        _ => None,
    }
}

/// The temperature profile of `lot` (any form of a lot identifier) as master data states it:
/// the lot's own statement when it names one, else its product class's (the GTIN's Digital
/// Link). `None` when neither names a known profile. `statement_of` gives the current
/// statement about an identifier (a node's master-data view).
pub fn profile_of(lot: &str, statement_of: impl Fn(&str) -> Option<Statement>) -> Option<Profile> {
    let Some(Identifier::Lot { gtin, .. }) = gs1::classify(lot) else { return None };
    let lot = gs1::canonical_digital_link(lot)?;
    let product = Identifier::Class { gtin }.to_canonical_link();
    [lot, product].into_iter().find_map(|id| {
        let statement = statement_of(&id)?;
        named_profile(statement.attribute(TEMPERATURE_PROFILE)?)
    })
}

/// [`profile_of`] read from a master-data directory (EPCClass statements).
pub fn profile_in(directory: &Directory, lot: &str) -> Option<Profile> {
    profile_of(lot, |id| {
        directory
            .current_in(VocabularyType::EpcClass, id)
            .map(|described| described.statement.clone())
    })
}

/// One signer's readings of one device while it travelled with one set of lots: the readings
/// a detector judges together (the same logger on another shipment, or read out by another
/// organisation, is another series). Events that name no lot (a pallet's SSCC alone) form the
/// series of what they do name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeriesKey {
    /// The organisation that signed the sensor events (only it signs excursions about them).
    pub signer: PublicKey,
    /// The device (`deviceID`).
    pub device: String,
    /// The lots the events observed, as canonical Digital Links, sorted; the logistic units
    /// and items they observed when they name no lot.
    pub carried: Vec<String>,
}

impl SeriesKey {
    /// The lots among [`SeriesKey::carried`] (canonical Digital Links).
    pub fn lots(&self) -> impl Iterator<Item = &str> + '_ {
        self.carried
            .iter()
            .map(String::as_str)
            .filter(|link| matches!(gs1::classify(link), Some(Identifier::Lot { .. })))
    }
}

/// The readings of one series.
#[derive(Debug, Clone, Default)]
pub struct Series {
    /// Readings by instant (ms since the epoch, UTC).
    pub readings: BTreeMap<i64, Sample>,
    /// The sensor events that carried them.
    pub events: BTreeSet<EntryRef>,
    /// Readings kept out because they contradict one held at the same instant.
    pub conflicts: u64,
    /// Logistic units and items the events observed beside the lots of the key (canonical
    /// Digital Links): the pallets the device travelled in.
    pub units: BTreeSet<String>,
    /// The device's logging interval, ms: the median spacing of the readings the series held
    /// once it first held two or more (after that event), then fixed. It depends only on the
    /// order entries were appended in, so every node and every restart finds the same one
    /// (and a detector built on it the same excursions); `None` while fewer than two.
    pub interval_ms: Option<i64>,
}

impl Series {
    /// The readings in time order.
    pub fn samples(&self) -> Vec<Sample> {
        self.readings.values().copied().collect()
    }
}

/// An excursion record as stored, with where it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct ExcursionRecord {
    /// The entry that carries it.
    pub entry: EntryRef,
    /// The entry's record time, ms since the epoch.
    pub record_time_ms: i64,
    /// What it says.
    pub excursion: records::Excursion,
    /// The record by the same author that supersedes it, if any.
    pub superseded_by: Option<EntryRef>,
}

/// Where an excursion record stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// It states an excursion in force.
    Current,
    /// A later record by its author corrects or withdraws it.
    Superseded,
    /// It says that the excursion it supersedes no longer holds.
    Withdrawal,
}

impl ExcursionRecord {
    /// Where the record stands.
    pub fn standing(&self) -> Standing {
        if self.superseded_by.is_some() {
            Standing::Superseded
        } else if self.excursion.detail.as_ref().is_some_and(|detail| detail.withdrawn) {
            Standing::Withdrawal
        } else {
            Standing::Current
        }
    }
}

/// The temperature readings of one event and what it observed, read before the book is
/// locked.
#[derive(Debug, Clone, PartialEq)]
pub struct SensorEvent {
    /// The readings, as the event states them.
    pub readings: Vec<Reading>,
    /// What the event observed (see [`SeriesKey::carried`]).
    pub carried: Vec<String>,
}

impl SensorEvent {
    /// The readings of `event`; `None` when it carries no temperature reading or a bad one.
    pub fn read(event: &Event) -> Option<Self> {
        if event.sensor_element_list.is_empty() {
            return None;
        }
        let readings = super::readings_of_event(event).ok()?;
        if readings.is_empty() {
            return None;
        }
        Some(Self { readings, carried: carried_by(event) })
    }
}

/// What the stored entries say about cold chain (see the module doc).
#[derive(Debug, Default, Clone)]
pub struct Book {
    /// Readings per series.
    series: BTreeMap<SeriesKey, Series>,
    /// Series per device, so a device's journeys are found without a scan.
    by_device: BTreeMap<String, BTreeSet<SeriesKey>>,
    /// Series per lot or logistic unit they travelled with, so a page or a query over a lot
    /// finds them without a scan of every series.
    by_carried: BTreeMap<String, BTreeSet<SeriesKey>>,
    /// Excursion records by entry.
    excursions: BTreeMap<EntryRef, ExcursionRecord>,
    /// Excursion records by lot (canonical Digital Link), in insertion order.
    by_lot: BTreeMap<String, Vec<EntryRef>>,
    /// The record naming each (author, excursion id): what a signer checks before signing.
    by_excursion_id: BTreeMap<(PublicKey, [u8; 16]), EntryRef>,
    /// Supersessions named by records not held yet (the superseded record arrives later from
    /// another feed's replication order): superseded entry → superseding entry.
    pending_supersessions: BTreeMap<EntryRef, EntryRef>,
    /// Entries fed already.
    seen: HashSet<EntryHash>,
    /// The signer whose new readings are kept for [`Book::take_fresh`], if any.
    watched: Option<PublicKey>,
    /// New readings of the watched signer not taken yet, per series.
    fresh: BTreeMap<SeriesKey, Vec<Sample>>,
}

impl Book {
    /// An empty book.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty book that also keeps `signer`'s new readings until [`Book::take_fresh`]
    /// takes them (a node watches its own organisation, whose excursions it signs).
    pub fn watching(signer: PublicKey) -> Self {
        Self { watched: Some(signer), ..Self::default() }
    }

    /// Adds the temperature readings of a sensor event signed by `entry`'s author: each
    /// reading joins the series of its device and of what the event observed. Returns the
    /// series that gained readings. An event with a bad temperature report adds nothing (the
    /// capture path refuses such events; a peer's is skipped whole).
    pub fn add_event(&mut self, entry: EntryRef, event: &Event) -> Vec<SeriesKey> {
        match SensorEvent::read(event) {
            Some(sensor_event) => self.add_sensor_event(entry, sensor_event),
            None => Vec::new(),
        }
    }

    /// [`Book::add_event`] with the event already read (readers read events on several
    /// threads before the book is locked).
    pub fn add_sensor_event(&mut self, entry: EntryRef, event: SensorEvent) -> Vec<SeriesKey> {
        if !self.seen.insert(entry.entry_hash) {
            return Vec::new();
        }
        let SensorEvent { readings, carried } = event;
        // Keyed by the lots alone, so the same logger reporting on the same lots with and
        // without their pallet's SSCC is one series, judged once.
        let (lots, units): (Vec<String>, Vec<String>) = carried
            .into_iter()
            .partition(|link| matches!(gs1::classify(link), Some(Identifier::Lot { .. })));
        let (carried, units) = if lots.is_empty() { (units, Vec::new()) } else { (lots, units) };
        let mut touched: Vec<SeriesKey> = Vec::new();
        for Reading { device, time_ms, offset_minutes, celsius } in readings {
            let key = SeriesKey { signer: entry.author, device, carried: carried.clone() };
            let series = match self.series.get_mut(&key) {
                Some(series) => series,
                None => {
                    self.by_device.entry(key.device.clone()).or_default().insert(key.clone());
                    for link in &key.carried {
                        self.by_carried.entry(link.clone()).or_default().insert(key.clone());
                    }
                    self.series.entry(key.clone()).or_default()
                }
            };
            series.events.insert(entry);
            series.units.extend(units.iter().cloned());
            let sample = Sample { time_ms, offset_minutes, celsius };
            match series.readings.get(&time_ms) {
                Some(held) if held.celsius == celsius => continue,
                Some(_) => {
                    series.conflicts += 1;
                    continue;
                }
                None => {
                    series.readings.insert(time_ms, sample);
                }
            }
            if self.watched == Some(entry.author) {
                self.fresh.entry(key.clone()).or_default().push(sample);
            }
            if !touched.contains(&key) {
                touched.push(key);
            }
        }
        for key in &touched {
            if let Some(series) = self.series.get_mut(key)
                && series.interval_ms.is_none()
            {
                series.interval_ms = logging_interval(&series.readings);
            }
        }
        touched
    }

    /// Adds an excursion record (any author's) and resolves what it supersedes.
    pub fn add_excursion(
        &mut self,
        entry: EntryRef,
        record_time_ms: i64,
        excursion: &records::Excursion,
    ) {
        if !self.seen.insert(entry.entry_hash) {
            return;
        }
        let mut lots: Vec<String> = excursion
            .lots
            .iter()
            .map(|lot| gs1::canonical_digital_link(lot).unwrap_or_else(|| lot.clone()))
            .collect();
        lots.sort();
        lots.dedup();
        for lot in lots {
            self.by_lot.entry(lot).or_default().push(entry);
        }
        if let Some(detail) = &excursion.detail {
            // A withdrawal restates the excursion it withdraws: the id stays the report's.
            if !detail.withdrawn {
                self.by_excursion_id.entry((entry.author, detail.excursion_id.0)).or_insert(entry);
            }
            if let Some(superseded) = detail.supersedes
                && superseded.author == entry.author
            {
                match self.excursions.get_mut(&superseded) {
                    Some(record) => {
                        record.superseded_by.get_or_insert(entry);
                    }
                    None => {
                        self.pending_supersessions.entry(superseded).or_insert(entry);
                    }
                }
            }
        }
        let superseded_by = self.pending_supersessions.remove(&entry);
        self.excursions.insert(
            entry,
            ExcursionRecord { entry, record_time_ms, excursion: excursion.clone(), superseded_by },
        );
    }

    /// Adds whatever cold-chain content `payload` carries (an excursion record; events are
    /// fed with [`Book::add_event`] by whoever reads them).
    pub fn add_record(&mut self, entry: EntryRef, record_time_ms: i64, payload: &records::Payload) {
        if let records::Payload::Excursion(excursion) = payload {
            self.add_excursion(entry, record_time_ms, excursion);
        }
    }

    /// The watched signer's readings added since the last call, per series (each reading
    /// once, in arrival order).
    pub fn take_fresh(&mut self) -> BTreeMap<SeriesKey, Vec<Sample>> {
        std::mem::take(&mut self.fresh)
    }

    /// One series.
    pub fn series(&self, key: &SeriesKey) -> Option<&Series> {
        self.series.get(key)
    }

    /// Every series of a device.
    pub fn series_of_device(&self, device: &str) -> Vec<(&SeriesKey, &Series)> {
        self.by_device
            .get(device)
            .into_iter()
            .flatten()
            .filter_map(|key| self.series.get_key_value(key))
            .collect()
    }

    /// Every series that travelled with `lot` (any form of a lot identifier).
    pub fn series_of_lot(&self, lot: &str) -> Vec<(&SeriesKey, &Series)> {
        let lot = gs1::canonical_digital_link(lot).unwrap_or_else(|| lot.to_owned());
        self.by_carried
            .get(&lot)
            .into_iter()
            .flatten()
            .filter_map(|key| self.series.get_key_value(key))
            .collect()
    }

    /// Every excursion record about `lot` (any form), in the order they were added:
    /// superseded ones and withdrawals included, each with its standing.
    pub fn excursions_of(&self, lot: &str) -> Vec<&ExcursionRecord> {
        let lot = gs1::canonical_digital_link(lot).unwrap_or_else(|| lot.to_owned());
        self.by_lot
            .get(&lot)
            .into_iter()
            .flatten()
            .filter_map(|entry| self.excursions.get(entry))
            .collect()
    }

    /// The excursions in force about `lot`: records neither superseded nor withdrawals.
    pub fn current_excursions_of(&self, lot: &str) -> Vec<&ExcursionRecord> {
        self.excursions_of(lot)
            .into_iter()
            .filter(|record| record.standing() == Standing::Current)
            .collect()
    }

    /// One excursion record.
    pub fn excursion(&self, entry: &EntryRef) -> Option<&ExcursionRecord> {
        self.excursions.get(entry)
    }

    /// The record in which `author` reported a detected excursion (not a withdrawal of it), if
    /// any.
    pub fn signed(&self, author: &PublicKey, excursion_id: [u8; 16]) -> Option<&ExcursionRecord> {
        self.by_excursion_id
            .get(&(*author, excursion_id))
            .and_then(|entry| self.excursions.get(entry))
    }

    /// `author`'s detected excursions in force about `device`'s readings over `lots` (what a
    /// signer compares a new detection with).
    pub fn current_of_device(
        &self,
        author: &PublicKey,
        device: &str,
        lots: &[String],
    ) -> Vec<&ExcursionRecord> {
        self.excursions
            .range(
                EntryRef { author: *author, sequence: 0, entry_hash: EntryHash::ZERO }..=EntryRef {
                    author: *author,
                    sequence: u64::MAX,
                    entry_hash: EntryHash::from_bytes([0xff; 32]),
                },
            )
            .map(|(_, record)| record)
            .filter(|record| {
                record.standing() == Standing::Current
                    && record
                        .excursion
                        .detail
                        .as_ref()
                        .is_some_and(|detail| detail.device == device)
                    && same_lots(&record.excursion.lots, lots)
            })
            .collect()
    }

    /// Number of series held.
    pub fn series_count(&self) -> usize {
        self.series.len()
    }

    /// Number of excursion records held.
    pub fn excursion_count(&self) -> usize {
        self.excursions.len()
    }
}

/// The median positive spacing of `readings`; `None` below two readings.
fn logging_interval(readings: &BTreeMap<i64, Sample>) -> Option<i64> {
    let times: Vec<i64> = readings.keys().copied().collect();
    let mut spacings: Vec<i64> = times.windows(2).map(|pair| pair[1] - pair[0]).collect();
    spacings.sort_unstable();
    spacings.get(spacings.len() / 2).copied()
}

/// Whether two lists name the same lots (any forms, any order).
fn same_lots(left: &[String], right: &[String]) -> bool {
    let canonical = |lots: &[String]| -> BTreeSet<String> {
        lots.iter()
            .map(|lot| gs1::canonical_digital_link(lot).unwrap_or_else(|| lot.clone()))
            .collect()
    };
    canonical(left) == canonical(right)
}

/// The lots and logistic units an event observes (its EPCs, quantities, parent and children,
/// inputs and outputs), as canonical Digital Links, sorted: what a device reporting in it
/// travelled with. Serialised items and logistic units are kept as named (an item's GTIN and
/// serial name no lot), so a series is never attributed to a lot the event did not name.
fn carried_by(event: &Event) -> Vec<String> {
    let epcs = [&event.epc_list, &event.child_epcs, &event.input_epc_list, &event.output_epc_list]
        .into_iter()
        .flatten()
        .flatten()
        .chain(&event.parent_id);
    let classes = [
        &event.quantity_list,
        &event.child_quantity_list,
        &event.input_quantity_list,
        &event.output_quantity_list,
    ]
    .into_iter()
    .flatten()
    .map(|quantity| &quantity.epc_class);
    let mut carried: Vec<String> = epcs
        .chain(classes)
        .filter_map(|identifier| match gs1::classify(identifier)? {
            identifier @ (Identifier::Lot { .. }
            | Identifier::LogisticUnit { .. }
            | Identifier::Item { .. }) => Some(identifier.to_canonical_link()),
            _ => None,
        })
        .collect();
    carried.sort();
    carried.dedup();
    carried
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coldchain::{Bound, ExcursionId, Rule};
    use crate::identity::Keypair;
    use crate::masterdata::Attribute;
    use crate::records::ExcursionDetail;

    const LOT: &str = "https://id.gs1.org/01/09506000134352/10/L1";
    const LOT_URN: &str = "urn:epc:class:lgtin:9506000.013435.L1";
    const SSCC: &str = "urn:epc:id:sscc:9506000.0000000001";

    fn key(seed: u8) -> PublicKey {
        Keypair::from_seed([seed; 32]).public_key()
    }

    fn entry(author: PublicKey, sequence: u64) -> EntryRef {
        let mut hash = [0u8; 32];
        hash[..8].copy_from_slice(&sequence.to_be_bytes());
        hash[31] = author.as_bytes()[0];
        EntryRef { author, sequence, entry_hash: EntryHash::from_bytes(hash) }
    }

    /// A sensor event of `device` observing the lot (as a quantity) and the pallet, with one
    /// reading per `(time, celsius)`.
    fn event(device: &str, readings: &[(&str, f64)]) -> Event {
        let reports: Vec<serde_json::Value> = readings
            .iter()
            .map(|(time, celsius)| {
                serde_json::json!({"type": "gs1:Temperature", "value": celsius, "uom": "CEL", "time": time})
            })
            .collect();
        let event = serde_json::json!({
            "type": "ObjectEvent",
            "eventTime": readings.last().map_or("2026-03-01T10:00:00Z", |(time, _)| *time),
            "eventTimeZoneOffset": "+00:00",
            "epcList": [SSCC],
            "quantityList": [{"epcClass": LOT_URN}],
            "action": "OBSERVE",
            "sensorElementList": [{
                "sensorMetadata": {"deviceID": device},
                "sensorReport": reports,
            }],
        });
        crate::epcis::json::parse_event_json_bytes(event.to_string().as_bytes()).unwrap()
    }

    fn excursion(id: u8, supersedes: Option<EntryRef>, withdrawn: bool) -> records::Excursion {
        records::Excursion {
            lots: vec![LOT_URN.to_owned()],
            measurement: "gs1:Temperature".to_owned(),
            limit: "single-event: above 4 CEL for more than 30 min".to_owned(),
            observed: "9 CEL".to_owned(),
            started_ms: 1_000,
            ended_ms: Some(5_000_000),
            detail: Some(ExcursionDetail {
                device: "urn:lotline:device:L7".to_owned(),
                excursion_id: ExcursionId([id; 16]),
                rule: Rule::single_event(Bound::Above(4.0), 30),
                duration_ms: 4_999_000,
                min_celsius: 5.0,
                max_celsius: 9.0,
                mean_celsius: 7.0,
                readings: 4,
                gaps: 0,
                gap_ms: 0,
                supersedes,
                withdrawn,
            }),
        }
    }

    /// Readings join the series of their signer, device and what the event observed; the same
    /// event fed twice, and a reading repeated by a later event, add nothing; a contradicting
    /// reading is kept out and counted; only the watched signer's new readings are kept for
    /// the taking.
    #[test]
    fn readings_are_kept_per_signer_device_and_shipment_idempotently() {
        let carrier = key(1);
        let other = key(2);
        let mut book = Book::watching(carrier);
        let first = event(
            "urn:lotline:device:L7",
            &[("2026-03-01T10:00:00Z", 3.0), ("2026-03-01T10:05:00+01:00", 3.5)],
        );
        let touched = book.add_event(entry(carrier, 0), &first);
        assert_eq!(touched.len(), 1);
        let series_key = touched[0].clone();
        assert_eq!(series_key.signer, carrier);
        assert_eq!(series_key.device, "urn:lotline:device:L7");
        assert_eq!(series_key.carried, vec![LOT.to_owned()]);
        assert_eq!(series_key.lots().collect::<Vec<_>>(), vec![LOT]);
        assert!(book.add_event(entry(carrier, 0), &first).is_empty());
        let late = event(
            "urn:lotline:device:L7",
            &[
                ("2026-03-01T10:00:00Z", 3.0),
                ("2026-03-01T10:00:00Z", 3.0),
                ("2026-03-01T10:10:00Z", 9.0),
                ("2026-03-01T09:05:00Z", 4.0),
            ],
        );
        assert_eq!(book.add_event(entry(carrier, 1), &late), vec![series_key.clone()]);
        let series = book.series(&series_key).unwrap();
        let times: Vec<i64> = series.readings.keys().copied().collect();
        assert_eq!(times.len(), 3, "the 09:05Z reading and 10:05+01:00 are one instant");
        assert_eq!(series.conflicts, 1);
        // Fixed by the first event (09:05Z and 10:00Z), whatever arrived after.
        assert_eq!(series.interval_ms, Some(55 * 60_000));
        assert_eq!(series.events.len(), 2);
        assert_eq!(
            series.units.iter().collect::<Vec<_>>(),
            ["https://id.gs1.org/00/095060000000000015"]
        );
        assert_eq!(series.samples()[0].offset_minutes, 60);
        // The same lot without its pallet named is the same series.
        let mut without_pallet = event("urn:lotline:device:L7", &[("2026-03-01T10:15:00Z", 3.0)]);
        without_pallet.epc_list = Some(Vec::new());
        assert_eq!(book.add_event(entry(carrier, 3), &without_pallet), vec![series_key.clone()]);
        // The same logger read out by another organisation is another series.
        book.add_event(entry(other, 0), &first);
        assert_eq!(book.series_of_device("urn:lotline:device:L7").len(), 2);
        assert_eq!(book.series_of_lot(LOT_URN).len(), 2);
        let fresh = book.take_fresh();
        assert_eq!(fresh.len(), 1);
        assert_eq!(fresh[&series_key].len(), 4);
        assert!(book.take_fresh().is_empty());
        // An event without sensor readings adds nothing.
        let mut plain = first.clone();
        plain.sensor_element_list.clear();
        assert!(book.add_event(entry(carrier, 2), &plain).is_empty());
    }

    /// A correction supersedes its author's earlier record, a withdrawal says the excursion no
    /// longer holds, whatever order they arrive in; another organisation cannot supersede.
    #[test]
    fn supersession_is_resolved_per_author_in_any_order() {
        let carrier = key(1);
        let stranger = key(2);
        let (first_at, second_at, third_at) =
            (entry(carrier, 3), entry(carrier, 4), entry(carrier, 5));
        let first = excursion(1, None, false);
        let second = excursion(2, Some(first_at), false);
        let third = records::Excursion::withdrawal_of(&second, second_at).unwrap();
        for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0]] {
            let mut book = Book::new();
            let records = [(first_at, &first), (second_at, &second), (third_at, &third)];
            for index in order {
                let (at, record) = records[index];
                book.add_excursion(at, 10, record);
            }
            book.add_excursion(entry(stranger, 0), 10, &excursion(3, Some(third_at), true));
            let standings: Vec<Standing> = [first_at, second_at, third_at]
                .iter()
                .map(|at| book.excursion(at).unwrap().standing())
                .collect();
            assert_eq!(
                standings,
                vec![Standing::Superseded, Standing::Superseded, Standing::Withdrawal],
                "{order:?}"
            );
            assert_eq!(book.excursion(&first_at).unwrap().superseded_by, Some(second_at));
            assert_eq!(book.excursions_of(LOT).len(), 4);
            // Only the stranger's record is current: its supersession of ours is ignored.
            let current = book.current_excursions_of(LOT);
            assert_eq!(current.len(), 0, "the stranger's record is itself a withdrawal");
            assert_eq!(book.signed(&carrier, [2; 16]).unwrap().entry, second_at);
            assert!(book.signed(&stranger, [2; 16]).is_none());
            assert!(
                book.current_of_device(&carrier, "urn:lotline:device:L7", &[LOT.to_owned()])
                    .is_empty()
            );
        }
        let mut book = Book::new();
        book.add_excursion(first_at, 10, &first);
        book.add_excursion(first_at, 10, &first);
        assert_eq!(book.excursions_of(LOT).len(), 1);
        assert_eq!(
            book.current_of_device(&carrier, "urn:lotline:device:L7", &[LOT.to_owned()]).len(),
            1
        );
        let words = records::Excursion { detail: None, ..excursion(9, None, false) };
        book.add_excursion(entry(stranger, 7), 10, &words);
        assert_eq!(book.current_excursions_of(LOT).len(), 2);
    }

    /// A lot's profile is read from its own EPCClass statement, else its product class's; an
    /// unknown value names no profile.
    #[test]
    fn profiles_come_from_the_product_class_or_the_lot() {
        let producer = key(5);
        let statement = |id: &str, value: &str| Statement {
            vocabulary_type: VocabularyType::EpcClass,
            id: id.to_owned(),
            attributes: vec![Attribute {
                id: TEMPERATURE_PROFILE.to_owned(),
                value: value.to_owned(),
            }],
            children: Vec::new(),
        };
        let mut directory = Directory::new();
        assert_eq!(profile_in(&directory, LOT), None);
        directory.insert(
            entry(producer, 0),
            1,
            statement("https://id.gs1.org/01/09506000134352", "chilled"),
        );
        assert_eq!(profile_in(&directory, LOT_URN), Some(Profile::chilled()));
        directory.insert(entry(producer, 1), 2, statement(LOT, "frozen"));
        assert_eq!(profile_in(&directory, LOT), Some(Profile::frozen()));
        assert_eq!(
            profile_in(&directory, "https://id.gs1.org/01/09506000134352/10/L2"),
            Some(Profile::chilled())
        );
        assert_eq!(named_profile("vaccine"), Some(Profile::vaccine()));
        assert_eq!(named_profile("warm"), None);
        assert_eq!(profile_in(&directory, SSCC), None);
    }
}
