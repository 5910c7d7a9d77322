//! The FSMA 204 "electronic sortable spreadsheet" (21 CFR 1.1455(c)(3)(ii)) as rows: the Key
//! Data Elements of every Critical Tracking Event behind a lot or a recall, one row per event
//! and lot, and the CSV text of those rows.
//!
//! Owns the mapping EPCIS event → CTE and KDE columns (see `docs/csv-template.md` for the
//! inverse mapping used at capture), the time window and the CSV writer, so the `lotline`
//! client's export and the node's regulator dashboard produce the same spreadsheet.
//! Also owns how the excursions in force about a lot read on its rows ([`note_excursions`],
//! the trailing column). Deliberately does not own where the events come from (callers pass
//! events they trust, in their JSON-LD form with `eventID` set to the Event Hash ID), which
//! excursions are in force (callers pass them, see `trace::excursions`) nor the XLSX workbook
//! (the client writes it).

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

use crate::masterdata::Directory;
use crate::trace::ExcursionRef;

/// Errors building or writing the spreadsheet.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Writing the CSV failed.
    #[error("cannot write the csv file: {0}")]
    Csv(#[from] csv::Error),
    /// A time window bound is not RFC 3339.
    #[error("time window bound {0:?} is not an RFC 3339 time like 2026-03-01T00:00:00Z")]
    BadWindow(String),
}

/// The spreadsheet's columns, in order. The names follow the rule's KDE wording so an FDA
/// reviewer can sort and filter without a legend; the last, beyond the KDEs, lists the
/// temperature excursions in force about the row's lot.
pub const COLUMNS: [&str; 18] = [
    "Event Type (CTE)",
    "Traceability Lot Code",
    "Traceability Lot Code (GS1 Digital Link)",
    "Product Description",
    "Quantity",
    "Unit of Measure",
    "Event Date",
    "Event Time",
    "Location Description",
    "Immediate Previous Source Location",
    "Immediate Subsequent Recipient Location",
    "Ship-From Location",
    "Traceability Lot Code Source Reference",
    "Reference Document Type",
    "Reference Document Number",
    "Input Traceability Lot Codes",
    "EPCIS Event ID",
    "Temperature Excursions",
];

/// A Critical Tracking Event of FSMA 204 (§§1.1325–1.1350).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CriticalTrackingEvent {
    /// Harvesting (§1.1325(a)).
    Harvesting,
    /// Cooling before initial packing (§1.1325(b)).
    Cooling,
    /// Initial packing of a raw agricultural commodity (§1.1330).
    InitialPacking,
    /// First land-based receiving of seafood (§1.1335).
    FirstLandBasedReceiving,
    /// Shipping (§1.1340).
    Shipping,
    /// Receiving (§1.1345).
    Receiving,
    /// Transformation (§1.1350).
    Transformation,
}

impl CriticalTrackingEvent {
    /// The name used in the spreadsheet and as the XLSX sheet name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Harvesting => "Harvesting",
            Self::Cooling => "Cooling",
            Self::InitialPacking => "Initial Packing",
            Self::FirstLandBasedReceiving => "First Land-Based Receiving",
            Self::Shipping => "Shipping",
            Self::Receiving => "Receiving",
            Self::Transformation => "Transformation",
        }
    }

    /// The CTE an EPCIS event records, from its type, action and CBV business step (the
    /// mapping of `docs/csv-template.md`); `None` for events that are no CTE (inspections,
    /// sensor reports, aggregation onto pallets).
    pub fn of_event(event: &Value) -> Option<Self> {
        let event_type = event.get("type").and_then(Value::as_str)?;
        if event_type == "TransformationEvent" {
            return Some(Self::Transformation);
        }
        if event_type != "ObjectEvent" && event_type != "TransactionEvent" {
            return None;
        }
        let biz_step = event.get("bizStep").and_then(Value::as_str).map(cbv_word)?;
        match biz_step {
            "commissioning" => Some(Self::Harvesting),
            "storing" => Some(Self::Cooling),
            "packing" => Some(Self::InitialPacking),
            "shipping" | "departing" => Some(Self::Shipping),
            "receiving" | "arriving" | "accepting" => Some(Self::Receiving),
            _ => None,
        }
    }
}

/// The bare CBV word of a vocabulary value written as a bare word, a Web URI or a URN.
fn cbv_word(written: &str) -> &str {
    let after_separator = written.rsplit([':', '/']).next().unwrap_or(written);
    after_separator.rsplit('-').next().unwrap_or(after_separator)
}

/// One spreadsheet row: one lot line of one CTE.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    /// The CTE name.
    pub event_type: String,
    /// The TLC as GS1 element string `(01)<gtin>(10)<lot>`.
    pub lot_code: String,
    /// The TLC as canonical Digital Link.
    pub lot_link: String,
    /// Product description (GTIN master data when known, else the GTIN).
    pub product_description: String,
    /// Quantity, when the event carried one.
    pub quantity: Option<f64>,
    /// Its UN/CEFACT unit.
    pub unit_of_measure: String,
    /// Event date in the event's own time zone, `YYYY-MM-DD`.
    pub event_date: String,
    /// Event time in the event's own time zone, `HH:MM:SS±hh:mm`.
    pub event_time: String,
    /// Where the CTE happened (bizLocation, else readPoint).
    pub location: String,
    /// The previous source (sourceList).
    pub previous_source: String,
    /// The next recipient (destinationList).
    pub subsequent_recipient: String,
    /// The ship-from location (shipping events).
    pub ship_from: String,
    /// Where the TLC was assigned, when an event in the set assigned it.
    pub lot_code_source: String,
    /// Reference document types (`po`, `bol`, …), `; `-separated.
    pub document_type: String,
    /// Reference document numbers, `; `-separated, in the same order.
    pub document_number: String,
    /// Input TLCs of a transformation, `; `-separated.
    pub input_lot_codes: String,
    /// The EPCIS event hash id, to find the signed entry and its proof.
    pub event_id: String,
    /// The excursions in force about the lot, `; `-separated (see [`note_excursions`]).
    pub temperature_excursions: String,
    /// The event time as an instant, for sorting and the window filter.
    instant: Option<OffsetDateTime>,
}

impl Row {
    /// The row's cells in [`COLUMNS`] order.
    pub fn cells(&self) -> [String; 18] {
        [
            self.event_type.clone(),
            self.lot_code.clone(),
            self.lot_link.clone(),
            self.product_description.clone(),
            self.quantity.map(|quantity| quantity.to_string()).unwrap_or_default(),
            self.unit_of_measure.clone(),
            self.event_date.clone(),
            self.event_time.clone(),
            self.location.clone(),
            self.previous_source.clone(),
            self.subsequent_recipient.clone(),
            self.ship_from.clone(),
            self.lot_code_source.clone(),
            self.document_type.clone(),
            self.document_number.clone(),
            self.input_lot_codes.clone(),
            self.event_id.clone(),
            self.temperature_excursions.clone(),
        ]
    }
}

/// A time window `[from, to)` limiting which events are exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Inclusive start.
    pub from: Option<OffsetDateTime>,
    /// Exclusive end.
    pub to: Option<OffsetDateTime>,
}

impl Window {
    /// A window from optional RFC 3339 bounds.
    pub fn parse(from: Option<&str>, to: Option<&str>) -> Result<Self, Error> {
        let parse_bound = |bound: Option<&str>| {
            bound
                .map(|text| {
                    OffsetDateTime::parse(text, &Rfc3339)
                        .map_err(|_| Error::BadWindow(text.to_owned()))
                })
                .transpose()
        };
        Ok(Self { from: parse_bound(from)?, to: parse_bound(to)? })
    }

    fn contains(&self, instant: Option<OffsetDateTime>) -> bool {
        let Some(instant) = instant else { return self.from.is_none() && self.to.is_none() };
        self.from.is_none_or(|from| instant >= from) && self.to.is_none_or(|to| instant < to)
    }
}

/// A lot named by a canonical Digital Link `https://id.gs1.org/01/<gtin>/10/<lot>`.
struct Lot {
    gtin: String,
    lot: String,
    link: String,
}

/// The lot of an EPC class or instance identifier, when it names one.
fn lot_of(identifier: &str) -> Option<Lot> {
    let link = crate::gs1::canonical_digital_link(identifier)?;
    let path = link.strip_prefix("https://id.gs1.org/01/")?;
    let mut segments = path.split('/');
    let gtin = segments.next()?.to_owned();
    if segments.next()? != "10" {
        return None;
    }
    let encoded_lot = segments.next()?;
    let lot = percent_encoding::percent_decode_str(encoded_lot).decode_utf8_lossy().into_owned();
    Some(Lot { gtin, lot, link: link.clone() })
}

/// The `id` of a `readPoint`/`bizLocation`, or the value of a source/destination entry.
fn place(event: &Value, field: &str) -> Option<String> {
    event.get(field)?.get("id")?.as_str().map(str::to_owned)
}

/// The values of a `sourceList`/`destinationList` (`key` = `source`/`destination`), `; `-joined.
fn parties(event: &Value, list: &str, key: &str) -> String {
    let Some(entries) = event.get(list).and_then(Value::as_array) else { return String::new() };
    let values: Vec<&str> = entries.iter().filter_map(|entry| entry.get(key)?.as_str()).collect();
    values.join("; ")
}

/// `(date, time)` of an event in its own time zone, and its instant.
fn event_moment(event: &Value) -> (String, String, Option<OffsetDateTime>) {
    let Some(instant) = event
        .get("eventTime")
        .and_then(Value::as_str)
        .and_then(|text| OffsetDateTime::parse(text, &Rfc3339).ok())
    else {
        return (String::new(), String::new(), None);
    };
    let offset_format = format_description!("[offset_hour sign:mandatory]:[offset_minute]");
    let local_offset = event
        .get("eventTimeZoneOffset")
        .and_then(Value::as_str)
        .and_then(|text| UtcOffset::parse(text, &offset_format).ok())
        .unwrap_or(instant.offset());
    let local = instant.to_offset(local_offset);
    let date = local.format(format_description!("[year]-[month]-[day]")).unwrap_or_default();
    let time = local
        .format(format_description!(
            "[hour]:[minute]:[second][offset_hour sign:mandatory]:[offset_minute]"
        ))
        .unwrap_or_default();
    (date, time, Some(instant))
}

/// The quantity lines of `list` that name lots: `(lot, quantity, uom)`.
fn lot_lines(
    event: &Value,
    quantity_list: &str,
    epc_list: &str,
) -> Vec<(Lot, Option<f64>, String)> {
    let mut lines = Vec::new();
    for element in event.get(quantity_list).and_then(Value::as_array).into_iter().flatten() {
        let Some(lot) = element.get("epcClass").and_then(Value::as_str).and_then(lot_of) else {
            continue;
        };
        let quantity = element.get("quantity").and_then(Value::as_f64);
        let uom = element.get("uom").and_then(Value::as_str).unwrap_or_default().to_owned();
        lines.push((lot, quantity, uom));
    }
    for epc in event.get(epc_list).and_then(Value::as_array).into_iter().flatten() {
        if let Some(lot) = epc.as_str().and_then(lot_of) {
            lines.push((lot, Some(1.0), "EA".to_owned()));
        }
    }
    lines
}

/// The product description of a lot: the name master data gives the lot or its GTIN, else
/// the GTIN.
fn product_description(master_data: &Directory, lot: &Lot) -> String {
    master_data
        .name_of(&lot.link)
        .and_then(|described| described.statement.name())
        .map_or_else(|| format!("GTIN {}", lot.gtin), str::to_owned)
}

/// A place or party as the spreadsheet describes it: the name and address master data gives
/// it, with the identifier after them so the row stays sortable by GLN; else the identifier.
fn place_description(master_data: &Directory, id: &str) -> String {
    let Some(statement) = master_data.name_of(id).map(|described| &described.statement) else {
        return id.to_owned();
    };
    let Some(name) = statement.name() else { return id.to_owned() };
    match statement.place() {
        Some(address) => format!("{name}, {address} ({id})"),
        None => format!("{name} ({id})"),
    }
}

/// Each `; `-separated place of `places` described by [`place_description`].
fn places_description(master_data: &Directory, places: &str) -> String {
    if places.is_empty() {
        return String::new();
    }
    places
        .split("; ")
        .map(|place| place_description(master_data, place))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The spreadsheet rows for `events` (JSON-LD, already verified) whose time falls in `window`,
/// sorted by event time, then lot code. Product and location descriptions come from
/// `master_data` (the verified statements that came with the events) where it names them.
pub fn rows_from_events(events: &[Value], window: Window, master_data: &Directory) -> Vec<Row> {
    // Pass 1: where each lot code was assigned (harvest, packing, transformation output), so
    // every later row can name its TLC source.
    let mut lot_sources: BTreeMap<String, String> = BTreeMap::new();
    for event in events {
        let assigns_lot = match CriticalTrackingEvent::of_event(event) {
            Some(CriticalTrackingEvent::Transformation) => true,
            Some(CriticalTrackingEvent::Harvesting | CriticalTrackingEvent::InitialPacking) => {
                event.get("action").and_then(Value::as_str) == Some("ADD")
            }
            _ => false,
        };
        let location = place(event, "bizLocation").or_else(|| place(event, "readPoint"));
        if let (true, Some(location)) = (assigns_lot, location) {
            let (output_list, output_epcs) =
                if event.get("type").and_then(Value::as_str) == Some("TransformationEvent") {
                    ("outputQuantityList", "outputEPCList")
                } else {
                    ("quantityList", "epcList")
                };
            for (lot, _, _) in lot_lines(event, output_list, output_epcs) {
                lot_sources.entry(lot.link).or_insert_with(|| location.clone());
            }
        }
    }

    let mut rows = Vec::new();
    for event in events {
        let Some(cte) = CriticalTrackingEvent::of_event(event) else { continue };
        let (event_date, event_time, instant) = event_moment(event);
        if !window.contains(instant) {
            continue;
        }
        let location = place(event, "bizLocation").or_else(|| place(event, "readPoint"));
        let transactions: Vec<(&str, &str)> = event
            .get("bizTransactionList")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|transaction| {
                let number = transaction.get("bizTransaction")?.as_str()?;
                let kind = transaction.get("type").and_then(Value::as_str).map_or("", cbv_word);
                Some((kind, number))
            })
            .collect();
        let is_transformation = cte == CriticalTrackingEvent::Transformation;
        let input_lot_codes = if is_transformation {
            let inputs = lot_lines(event, "inputQuantityList", "inputEPCList");
            let codes: Vec<String> = inputs.iter().map(|(lot, _, _)| element_string(lot)).collect();
            codes.join("; ")
        } else {
            String::new()
        };
        let (quantity_list, epc_list) = if is_transformation {
            ("outputQuantityList", "outputEPCList")
        } else {
            ("quantityList", "epcList")
        };
        let previous_source = parties(event, "sourceList", "source");
        let subsequent_recipient = parties(event, "destinationList", "destination");
        let ship_from = if cte == CriticalTrackingEvent::Shipping {
            location.clone().unwrap_or_else(|| previous_source.clone())
        } else {
            String::new()
        };
        for (lot, quantity, unit_of_measure) in lot_lines(event, quantity_list, epc_list) {
            rows.push(Row {
                event_type: cte.name().to_owned(),
                lot_code: element_string(&lot),
                product_description: product_description(master_data, &lot),
                lot_code_source: lot_sources
                    .get(&lot.link)
                    .map(|source| place_description(master_data, source))
                    .unwrap_or_default(),
                lot_link: lot.link,
                quantity,
                unit_of_measure,
                event_date: event_date.clone(),
                event_time: event_time.clone(),
                location: places_description(master_data, location.as_deref().unwrap_or_default()),
                previous_source: places_description(master_data, &previous_source),
                subsequent_recipient: places_description(master_data, &subsequent_recipient),
                ship_from: places_description(master_data, &ship_from),
                document_type: transactions
                    .iter()
                    .map(|(kind, _)| *kind)
                    .collect::<Vec<_>>()
                    .join("; "),
                document_number: transactions
                    .iter()
                    .map(|(_, number)| *number)
                    .collect::<Vec<_>>()
                    .join("; "),
                input_lot_codes: input_lot_codes.clone(),
                event_id: event
                    .get("eventID")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                temperature_excursions: String::new(),
                instant,
            });
        }
    }
    rows.sort_by(|left, right| {
        left.instant.cmp(&right.instant).then_with(|| left.lot_code.cmp(&right.lot_code))
    });
    rows
}

/// Fills the "Temperature Excursions" cell of every row whose lot one of `excursions` (the
/// excursions in force about the lots exported, already verified) names: each as what was
/// observed, when, the rule applied and the signed entry that records it, `; `-separated.
pub fn note_excursions(rows: &mut [Row], excursions: &[ExcursionRef]) {
    if excursions.is_empty() {
        return;
    }
    for row in rows {
        let texts: Vec<String> = excursions
            .iter()
            .filter(|excursion| excursion.lots.iter().any(|lot| *lot == row.lot_link))
            .map(excursion_text)
            .collect();
        row.temperature_excursions = texts.join("; ");
    }
}

/// One excursion as a cell reads it: `observed 9 CEL from … to … (rule) entry N of feed KEY`.
fn excursion_text(excursion: &ExcursionRef) -> String {
    let ended = excursion.ended.as_deref().unwrap_or("ongoing");
    format!(
        "observed {} from {} to {ended} ({}), entry {} of feed {}",
        excursion.observed,
        excursion.started,
        excursion.limit,
        excursion.entry.sequence,
        excursion.entry.author.to_hex()
    )
}

/// The GS1 element string `(01)<gtin>(10)<lot>` of a lot: the TLC as PTI guidance writes it.
fn element_string(lot: &Lot) -> String {
    format!("(01){}(10){}", lot.gtin, lot.lot)
}

/// Writes the rows as CSV with a header row.
pub fn write_csv(rows: &[Row], writer: impl Write) -> Result<(), Error> {
    let mut csv_writer = csv::Writer::from_writer(writer);
    csv_writer.write_record(COLUMNS)?;
    for row in rows {
        csv_writer.write_record(row.cells())?;
    }
    csv_writer.flush().map_err(csv::Error::from)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::{EntryHash, EntryRef};
    use crate::identity::Keypair;

    const LOT: &str = "https://id.gs1.org/01/09506000134352/10/L1";

    /// An excursion fills the trailing cell of its lot's rows only; the KDE columns stay as
    /// they are.
    #[test]
    fn excursions_in_force_fill_the_trailing_cell_of_their_lots_rows() {
        let events = [LOT, "https://id.gs1.org/01/09506000134352/10/L2"].map(|lot| {
            serde_json::json!({
                "type": "ObjectEvent",
                "eventTime": "2026-03-01T08:00:00Z",
                "eventTimeZoneOffset": "+00:00",
                "action": "ADD",
                "bizStep": "commissioning",
                "quantityList": [{"epcClass": lot, "quantity": 10, "uom": "KGM"}],
                "eventID": format!("ni:///sha-256;{lot}"),
            })
        });
        let window = Window { from: None, to: None };
        let mut rows = rows_from_events(&events, window, &Directory::new());
        let before: Vec<[String; 18]> = rows.iter().map(Row::cells).collect();
        assert!(before.iter().all(|cells| cells[17].is_empty()));
        let author = Keypair::from_seed([2; 32]).public_key();
        let excursion = ExcursionRef {
            entry: EntryRef { author, sequence: 4, entry_hash: EntryHash::from_bytes([1; 32]) },
            lots: vec![LOT.to_owned()],
            measurement: "gs1:Temperature".to_owned(),
            limit: "single-event: above 4 CEL for more than 30 min".to_owned(),
            observed: "9 CEL".to_owned(),
            started: "2026-03-01T10:10:00.000Z".to_owned(),
            ended: None,
            figures: None,
        };
        note_excursions(&mut rows, &[excursion]);
        let noted = rows.iter().find(|row| row.lot_link == LOT).unwrap().cells();
        assert_eq!(
            noted[17],
            format!(
                "observed 9 CEL from 2026-03-01T10:10:00.000Z to ongoing (single-event: above 4 CEL for more than 30 min), entry 4 of feed {}",
                author.to_hex()
            )
        );
        assert_eq!(noted[..17], before.iter().find(|cells| cells[2] == LOT).unwrap()[..17]);
        assert!(rows.iter().find(|row| row.lot_link != LOT).unwrap().cells()[17].is_empty());
        let mut csv = Vec::new();
        write_csv(&rows, &mut csv).unwrap();
        let header = String::from_utf8(csv).unwrap().lines().next().unwrap().to_owned();
        assert!(header.ends_with(",EPCIS Event ID,Temperature Excursions"), "{header}");
    }
}
