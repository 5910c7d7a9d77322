//! The binding-neutral EPCIS 2.0 model: documents, the five event types, and their building
//! blocks, lossless enough that JSON-LD → model → JSON-LD and XML → model → XML keep every
//! field (and the Event Hash ID).
//!
//! Owns the types and their small invariants (a [`Timestamp`] always carries an offset, a
//! [`Decimal`] is always a number). Does not own parsing, writing or rule checking: those are
//! the bindings' and [`super::validate`]'s. Values are stored **as written** (an EPC URN stays a
//! URN, `shipping` stays a bare word); helpers give the canonical forms. The one exception is the
//! JSON-LD reader's expansion of document-declared CURIEs in IRI-typed fields (see
//! [`super::json`]), because an event carries no `@context` of its own.
//!
//! Invariant: no `HashMap` anywhere: events feed signed bytes, so every collection keeps its
//! order (`Vec`) or sorts (`BTreeMap`).

use std::fmt;

use time::{Date, Month, OffsetDateTime, Time, UtcOffset};

use super::cbv::VocabularyKind;

/// An EPCIS document: a capture payload (`EPCISDocument`) or a query result
/// (`EPCISQueryDocument`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// Capture or query-result document; query results carry their query's name.
    pub kind: DocumentKind,
    /// `schemaVersion` as written (`2.0`); kept because a receiver may reject other versions.
    pub schema_version: String,
    /// `creationDate`: when the sender produced the document (not when events happened).
    pub creation_date: Timestamp,
    /// Extension namespaces declared by the document (`@context` objects in JSON-LD, `xmlns:`
    /// in XML), in declaration order, so a writer can re-declare the same prefixes.
    pub namespaces: Vec<Namespace>,
    /// JSON-LD `id` of the document, if any (no XML counterpart).
    pub id: Option<String>,
    /// `instanceIdentifier` (JSON-LD) — the sender's identifier for this document instance.
    pub instance_identifier: Option<String>,
    /// `sender` (JSON-LD; in XML it lives in the SBDH, kept as a header extension there).
    pub sender: Option<String>,
    /// `receiver` (JSON-LD; see `sender`).
    pub receiver: Option<String>,
    /// `epcisHeader.epcisMasterData.vocabularyList` (capture) or `resultsBody.vocabularyList`
    /// (query results), kept losslessly because master data travels with events.
    pub master_data: Option<Vec<Vocabulary>>,
    /// Extra fields inside `epcisHeader` (e.g. an SBDH) in document order.
    pub header_extensions: Vec<ExtensionField>,
    /// The events, in document order (error indices refer to this order).
    pub events: Vec<Event>,
    /// Extra namespaced fields on the document itself, in document order.
    pub extensions: Vec<ExtensionField>,
}

/// Which of the two EPCIS document types this is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentKind {
    /// `EPCISDocument`: events sent for capture.
    Capture,
    /// `EPCISQueryDocument`: events returned by a query or subscription.
    Query {
        /// `queryName` (required), e.g. `SimpleEventQuery`.
        query_name: String,
        /// `subscriptionID`, present when the results come from a standing subscription.
        subscription_id: Option<String>,
    },
}

/// An extension namespace declaration: `prefix` stands for `iri`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Namespace {
    /// The prefix as declared (`example`).
    pub prefix: String,
    /// The namespace IRI it expands to (`https://ns.example.com/epcis/`).
    pub iri: String,
}

/// One master-data vocabulary (`vocabularyList[]`): elements of one `type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vocabulary {
    /// The vocabulary type URI, e.g. `urn:epcglobal:epcis:vtype:BusinessLocation`.
    pub vocabulary_type: String,
    /// The elements, in document order.
    pub elements: Vec<VocabularyElement>,
}

/// One master-data element: an identifier and its attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VocabularyElement {
    /// The element's identifier (a location, product class…).
    pub id: String,
    /// Attributes in document order; an id may repeat (multi-valued attributes).
    pub attributes: Vec<MasterDataAttribute>,
    /// `children` ids (hierarchical master data), in document order.
    pub children: Vec<String>,
    /// Extra namespaced fields on the element, in document order.
    pub extensions: Vec<ExtensionField>,
}

/// One master-data attribute: `id` (a URI or CURIE as written) and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterDataAttribute {
    /// The attribute name as written (`urn:epcglobal:cbv:mda#name`, `cbvmda:sst`).
    pub id: String,
    /// The value: text, or structured content (addresses) as nested fields.
    pub value: ExtensionValue,
}

/// The five EPCIS 2.0 event types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventType {
    /// Observation, commissioning or decommissioning of objects.
    Object,
    /// Objects packed into / unpacked from a parent.
    Aggregation,
    /// Objects associated with / disassociated from a business transaction.
    Transaction,
    /// Inputs consumed and outputs produced (the lot-graph edge).
    Transformation,
    /// Objects (e.g. sensors) associated with a parent that is not a container.
    Association,
}

impl EventType {
    /// Every event type, in the standard's order.
    pub const ALL: [EventType; 5] = [
        Self::Object,
        Self::Aggregation,
        Self::Transaction,
        Self::Transformation,
        Self::Association,
    ];

    /// The name used in both bindings (`ObjectEvent`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Object => "ObjectEvent",
            Self::Aggregation => "AggregationEvent",
            Self::Transaction => "TransactionEvent",
            Self::Transformation => "TransformationEvent",
            Self::Association => "AssociationEvent",
        }
    }

    /// The event type named `name` (`ObjectEvent`…), `None` for anything else.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|event_type| event_type.name() == name)
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

/// `action`: how the event relates to the lifecycle of the objects it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// The objects came into being / were added (only ADD may carry `ilmd`).
    Add,
    /// The objects were observed, nothing created or removed.
    Observe,
    /// The objects ceased to exist / were removed.
    Delete,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 3] = [Self::Add, Self::Observe, Self::Delete];

    /// The written form in both bindings (`ADD`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Add => "ADD",
            Self::Observe => "OBSERVE",
            Self::Delete => "DELETE",
        }
    }

    /// The action written `name` (`ADD`, `OBSERVE`, `DELETE`; case-sensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|action| action.name() == name)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

/// One EPCIS event of any type. Fields a type does not use stay empty; [`super::validate`]
/// checks which are required or forbidden per type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Which of the five event types.
    pub event_type: EventType,
    /// `eventTime`: when the event happened (must carry an offset).
    pub event_time: Timestamp,
    /// `eventTimeZoneOffset` as written (`+02:00`): the local offset where the event happened;
    /// kept separately from `event_time` because it is hashed and shown to users.
    pub event_time_zone_offset: String,
    /// `recordTime`: set by the repository that captured it; not part of the hash.
    pub record_time: Option<Timestamp>,
    /// `eventID` as written (`urn:uuid:…` or an Event Hash ID); not part of the hash.
    pub event_id: Option<String>,
    /// `certificationInfo` URIs (one or many in JSON-LD).
    pub certification_info: Vec<String>,
    /// `errorDeclaration`: present when this copy of an event declares the original in error.
    pub error_declaration: Option<ErrorDeclaration>,
    /// `action` (required for every type except TransformationEvent).
    pub action: Option<Action>,
    /// `epcList` (Object, Transaction). `Some(vec![])` is a present but empty list, which the
    /// standard allows for ObjectEvent; `None` means absent.
    pub epc_list: Option<Vec<String>>,
    /// `parentID` (Aggregation, Transaction, Association).
    pub parent_id: Option<String>,
    /// `childEPCs` (Aggregation, Association); `None` = absent.
    pub child_epcs: Option<Vec<String>>,
    /// `inputEPCList` (Transformation); `None` = absent.
    pub input_epc_list: Option<Vec<String>>,
    /// `outputEPCList` (Transformation); `None` = absent.
    pub output_epc_list: Option<Vec<String>>,
    /// `quantityList` (Object, Transaction); empty = absent.
    pub quantity_list: Vec<QuantityElement>,
    /// `childQuantityList` (Aggregation, Association); empty = absent.
    pub child_quantity_list: Vec<QuantityElement>,
    /// `inputQuantityList` (Transformation); empty = absent.
    pub input_quantity_list: Vec<QuantityElement>,
    /// `outputQuantityList` (Transformation); empty = absent.
    pub output_quantity_list: Vec<QuantityElement>,
    /// `transformationID` (Transformation): links transformation events of one process.
    pub transformation_id: Option<String>,
    /// `bizStep`: what business step this was.
    pub biz_step: Option<VocabularyValue>,
    /// `disposition`: the objects' business condition afterwards.
    pub disposition: Option<VocabularyValue>,
    /// `persistentDisposition`: dispositions set / unset until changed again.
    pub persistent_disposition: Option<PersistentDisposition>,
    /// `readPoint`: where the event was observed.
    pub read_point: Option<Location>,
    /// `bizLocation`: where the objects are afterwards.
    pub biz_location: Option<Location>,
    /// `bizTransactionList`; empty = absent.
    pub biz_transaction_list: Vec<BizTransaction>,
    /// `sourceList`; empty = absent.
    pub source_list: Vec<SourceDestination>,
    /// `destinationList`; empty = absent.
    pub destination_list: Vec<SourceDestination>,
    /// `sensorElementList` (the how-dimension); empty = absent.
    pub sensor_element_list: Vec<SensorElement>,
    /// `ilmd` (instance/lot master data, ADD ObjectEvents and TransformationEvents);
    /// `Some(vec![])` is a present but empty block.
    pub ilmd: Option<Vec<ExtensionField>>,
    /// Event-level extension fields, in document order.
    pub extensions: Vec<ExtensionField>,
}

impl Event {
    /// A minimal event of `event_type` at `event_time` with every optional field absent;
    /// callers fill in the rest. The zone offset is taken from `event_time`.
    pub fn new(event_type: EventType, event_time: Timestamp) -> Self {
        let event_time_zone_offset = format_offset(event_time.instant().offset());
        Self {
            event_type,
            event_time,
            event_time_zone_offset,
            record_time: None,
            event_id: None,
            certification_info: Vec::new(),
            error_declaration: None,
            action: None,
            epc_list: None,
            parent_id: None,
            child_epcs: None,
            input_epc_list: None,
            output_epc_list: None,
            quantity_list: Vec::new(),
            child_quantity_list: Vec::new(),
            input_quantity_list: Vec::new(),
            output_quantity_list: Vec::new(),
            transformation_id: None,
            biz_step: None,
            disposition: None,
            persistent_disposition: None,
            read_point: None,
            biz_location: None,
            biz_transaction_list: Vec::new(),
            source_list: Vec::new(),
            destination_list: Vec::new(),
            sensor_element_list: Vec::new(),
            ilmd: None,
            extensions: Vec::new(),
        }
    }

    /// The EPCs in `epcList` (empty when absent).
    pub fn epcs(&self) -> &[String] {
        self.epc_list.as_deref().unwrap_or_default()
    }

    /// The EPCs in `childEPCs` (empty when absent).
    pub fn child_epcs(&self) -> &[String] {
        self.child_epcs.as_deref().unwrap_or_default()
    }

    /// The EPCs in `inputEPCList` (empty when absent).
    pub fn input_epcs(&self) -> &[String] {
        self.input_epc_list.as_deref().unwrap_or_default()
    }

    /// The EPCs in `outputEPCList` (empty when absent).
    pub fn output_epcs(&self) -> &[String] {
        self.output_epc_list.as_deref().unwrap_or_default()
    }
}

/// Formats an offset the way `eventTimeZoneOffset` is written (`+02:00`, `-06:00`, `+00:00`).
pub fn format_offset(offset: UtcOffset) -> String {
    let (hours, minutes, _) = offset.as_hms();
    let sign = if offset.is_negative() { '-' } else { '+' };
    // Built by hand: `format!` was half a percent of a catch-up (one call per event read).
    let (hours, minutes) = (hours.unsigned_abs(), minutes.unsigned_abs());
    let digit = |value: u8| char::from(b'0' + value % 10);
    [sign, digit(hours / 10), digit(hours), ':', digit(minutes / 10), digit(minutes)]
        .into_iter()
        .collect()
}

/// An `xsd:dateTimeStamp`: the text as written plus the instant it denotes.
///
/// Invariant: `text` parses to `instant` and carries an explicit offset (`Z` or `±hh:mm`); the
/// only constructors check this. The text is kept because re-emitting a reformatted time would
/// change the document, while the instant is what comparisons and the hash use.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Timestamp {
    /// The timestamp exactly as written.
    text: String,
    /// The instant `text` denotes, at the written offset (nanosecond precision; further digits
    /// are dropped, which the hash's millisecond rounding never needs).
    instant: OffsetDateTime,
}

impl Timestamp {
    /// Parses an `xsd:dateTimeStamp` (`2020-03-04T11:00:30.000+01:00`, `…Z`): date, `T`, time
    /// with optional fraction of any length, and a mandatory offset. `None` otherwise.
    pub fn parse(text: &str) -> Option<Self> {
        let instant = parse_date_time_stamp(text)?;
        Some(Self { text: text.to_owned(), instant })
    }

    /// A timestamp for `instant`, written in RFC 3339 form with the instant's own offset.
    pub fn from_instant(instant: OffsetDateTime) -> Self {
        let text = instant
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|_| instant.to_string());
        Self { text, instant }
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The instant, at the written offset.
    pub fn instant(&self) -> OffsetDateTime {
        self.instant
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.text)
    }
}

/// Parses `YYYY-MM-DDThh:mm:ss(.s+)?(Z|±hh:mm)`; the strict subset of ISO 8601 that
/// `xsd:dateTimeStamp` allows (years 0001–9999).
fn parse_date_time_stamp(text: &str) -> Option<OffsetDateTime> {
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let slice = bytes.get(range)?;
        if slice.is_empty() || !slice.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(slice).ok()?.parse().ok()
    };
    if bytes.len() < 20
        || bytes[4] != b'-'
        || bytes[7] != b'-'
        || bytes[10] != b'T'
        || bytes[13] != b':'
        || bytes[16] != b':'
    {
        return None;
    }
    let year = i32::try_from(digits(0..4)?).ok()?;
    let month = Month::try_from(u8::try_from(digits(5..7)?).ok()?).ok()?;
    let day = u8::try_from(digits(8..10)?).ok()?;
    let hour = u8::try_from(digits(11..13)?).ok()?;
    let minute = u8::try_from(digits(14..16)?).ok()?;
    let second = u8::try_from(digits(17..19)?).ok()?;
    let mut position = 19;
    let mut nanosecond = 0u32;
    if bytes[position] == b'.' {
        position += 1;
        let fraction_start = position;
        while position < bytes.len() && bytes[position].is_ascii_digit() {
            position += 1;
        }
        let fraction = &text[fraction_start..position];
        if fraction.is_empty() {
            return None;
        }
        let significant: String = fraction.chars().chain(std::iter::repeat('0')).take(9).collect();
        nanosecond = significant.parse().ok()?;
    }
    let offset = match &text[position..] {
        "Z" => UtcOffset::UTC,
        zone if zone.len() == 6 && (zone.starts_with('+') || zone.starts_with('-')) => {
            if bytes[position + 3] != b':' {
                return None;
            }
            let offset_hours = i8::try_from(digits(position + 1..position + 3)?).ok()?;
            let offset_minutes = i8::try_from(digits(position + 4..position + 6)?).ok()?;
            if offset_hours > 14
                || offset_minutes > 59
                || (offset_hours == 14 && offset_minutes > 0)
            {
                return None;
            }
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            UtcOffset::from_hms(sign * offset_hours, sign * offset_minutes, 0).ok()?
        }
        _ => return None,
    };
    let date = Date::from_calendar_date(year, month, day).ok()?;
    let time_of_day = Time::from_hms_nano(hour, minute, second, nanosecond).ok()?;
    Some(date.with_time(time_of_day).assume_offset(offset))
}

/// An `xsd:decimal`/`xsd:double` number kept exactly as written (`200`, `26.2`, `1.0E3`), so
/// re-emitting does not change digits and the hash can apply its own normalisation.
///
/// Invariant: the text is a finite decimal number, optionally signed, optionally with an
/// exponent.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Decimal(String);

impl Decimal {
    /// Checks and wraps `text` (surrounding whitespace is trimmed). `None` when it is not a
    /// number (`"12 kg"`, `NaN`, `""`).
    pub fn parse(text: &str) -> Option<Self> {
        let trimmed = text.trim();
        let unsigned = trimmed.strip_prefix(['+', '-']).unwrap_or(trimmed);
        let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
            Some(split) => (&unsigned[..split], Some(&unsigned[split + 1..])),
            None => (unsigned, None),
        };
        let (integer_part, fraction_part) = match mantissa.split_once('.') {
            Some((integer_part, fraction_part)) => (integer_part, fraction_part),
            None => (mantissa, ""),
        };
        let all_digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
        let mantissa_ok = all_digits(integer_part)
            && all_digits(fraction_part)
            && !(integer_part.is_empty() && fraction_part.is_empty());
        let exponent_ok = exponent.is_none_or(|exponent| {
            let exponent_digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
            !exponent_digits.is_empty() && all_digits(exponent_digits)
        });
        (mantissa_ok && exponent_ok).then(|| Self(trimmed.to_owned()))
    }

    /// The number as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The nearest `f64` (for comparisons and queries; not for the hash, which works on text).
    pub fn to_f64(&self) -> f64 {
        self.0.parse().unwrap_or(f64::NAN)
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// A value of a standard vocabulary field (`bizStep`, `disposition`, a transaction type…), kept
/// as written (bare word in JSON-LD, URN or Web URI in XML, or a custom URI).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VocabularyValue {
    /// Which vocabulary the field draws from (fixed by the field).
    pub kind: VocabularyKind,
    /// The value as written.
    pub written: String,
}

impl VocabularyValue {
    /// A value of `kind` as written.
    pub fn new(kind: VocabularyKind, written: impl Into<String>) -> Self {
        Self { kind, written: written.into() }
    }

    /// The standard word this value denotes (`shipping`), in any spelling; `None` for a custom
    /// value.
    pub fn standard_word(&self) -> Option<&'static str> {
        self.kind.standard_word(self.written.trim())
    }

    /// The canonical Web URI (`https://ref.gs1.org/cbv/BizStep-shipping`) for a standard value;
    /// custom values are returned as written (trimmed).
    pub fn web_uri(&self) -> String {
        match self.standard_word() {
            Some(word) => format!("{}{word}", self.kind.web_uri_prefix()),
            None => self.written.trim().to_owned(),
        }
    }

    /// The EPC URN (`urn:epcglobal:cbv:bizstep:shipping`) for a standard CBV value, the Web URI
    /// for the GS1 Web Vocabulary kinds (they have no URN), custom values as written.
    pub fn urn_or_uri(&self) -> String {
        match (self.standard_word(), self.kind.urn_prefix()) {
            (Some(word), Some(urn_prefix)) => format!("{urn_prefix}{word}"),
            _ => self.web_uri(),
        }
    }

    /// The JSON-LD spelling: the bare word for a standard value, otherwise as written.
    pub fn bare_word_or_uri(&self) -> String {
        match self.standard_word() {
            Some(word) => word.to_owned(),
            None => self.written.trim().to_owned(),
        }
    }
}

/// `errorDeclaration`: this event copy declares the original event in error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorDeclaration {
    /// `declarationTime` (required): when the error was declared.
    pub declaration_time: Timestamp,
    /// `reason` (`did_not_occur`, `incorrect_data`, or a custom URI).
    pub reason: Option<VocabularyValue>,
    /// `correctiveEventIDs`: the events that replace the erroneous one.
    pub corrective_event_ids: Vec<String>,
    /// Extension fields inside the declaration, in document order.
    pub extensions: Vec<ExtensionField>,
}

/// `quantityElement`: an amount of a class of objects (a lot, a product).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuantityElement {
    /// `epcClass` (required): the class, e.g. an LGTIN URN or a DL URI with GTIN + lot.
    pub epc_class: String,
    /// `quantity`: how much; absent means "an unspecified amount".
    pub quantity: Option<Decimal>,
    /// `uom`: UN/CEFACT Rec 20 unit code (`KGM`); absent means a count of items.
    pub uom: Option<String>,
}

/// `persistentDisposition`: dispositions that stay set until an event unsets them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersistentDisposition {
    /// `set`: dispositions now in force.
    pub set: Vec<VocabularyValue>,
    /// `unset`: dispositions no longer in force.
    pub unset: Vec<VocabularyValue>,
}

/// `readPoint` or `bizLocation`: a location id plus extension fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// `id`: the location (SGLN URN, DL URI with AI 414, `geo:` URI…).
    pub id: String,
    /// Extension fields inside the location, in document order.
    pub extensions: Vec<ExtensionField>,
}

/// One `bizTransaction`: a business document the event relates to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BizTransaction {
    /// `type` (`po`, `desadv`, … or custom); optional.
    pub transaction_type: Option<VocabularyValue>,
    /// `bizTransaction`: the transaction identifier URI.
    pub value: String,
}

/// One `source` or `destination`: a party or location the goods come from / go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceDestination {
    /// `type` (`owning_party`, `possessing_party`, `location`, or custom).
    pub source_destination_type: VocabularyValue,
    /// `source` / `destination`: the party or location identifier.
    pub id: String,
}

/// One `sensorElement`: readings of one device (the how-dimension, cold chain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SensorElement {
    /// `sensorMetadata`: facts shared by all reports.
    pub sensor_metadata: Option<SensorMetadata>,
    /// `sensorReport` entries, in document order.
    pub sensor_report: Vec<SensorReport>,
    /// Extension fields on the element, in document order.
    pub extensions: Vec<ExtensionField>,
}

/// `sensorMetadata`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SensorMetadata {
    /// `time`: when the readings were taken (single instant).
    pub time: Option<Timestamp>,
    /// `startTime`: start of the summarised interval.
    pub start_time: Option<Timestamp>,
    /// `endTime`: end of the summarised interval.
    pub end_time: Option<Timestamp>,
    /// `deviceID`: the sensor device.
    pub device_id: Option<String>,
    /// `deviceMetadata`: where the device's description is.
    pub device_metadata: Option<String>,
    /// `rawData`: where the raw readings are.
    pub raw_data: Option<String>,
    /// `dataProcessingMethod`: how readings were processed.
    pub data_processing_method: Option<String>,
    /// `bizRules`: the business rules the readings were judged by.
    pub biz_rules: Option<String>,
    /// Extension fields, in document order.
    pub extensions: Vec<ExtensionField>,
}

/// `sensorReport`: one measurement or summary.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SensorReport {
    /// `type`: what was measured (`Temperature`, or a custom URI).
    pub measurement_type: Option<VocabularyValue>,
    /// `exception`: `ALARM_CONDITION` / `ERROR_CONDITION`.
    pub exception: Option<VocabularyValue>,
    /// `deviceID`.
    pub device_id: Option<String>,
    /// `deviceMetadata`.
    pub device_metadata: Option<String>,
    /// `rawData`.
    pub raw_data: Option<String>,
    /// `dataProcessingMethod`.
    pub data_processing_method: Option<String>,
    /// `bizRules`.
    pub biz_rules: Option<String>,
    /// `time`: when this reading was taken.
    pub time: Option<Timestamp>,
    /// `microorganism` (URI).
    pub microorganism: Option<String>,
    /// `chemicalSubstance` (URI).
    pub chemical_substance: Option<String>,
    /// `value`: the single reading.
    pub value: Option<Decimal>,
    /// `component` (`x`, `latitude`, … or custom).
    pub component: Option<VocabularyValue>,
    /// `stringValue`.
    pub string_value: Option<String>,
    /// `booleanValue`.
    pub boolean_value: Option<bool>,
    /// `hexBinaryValue`.
    pub hex_binary_value: Option<String>,
    /// `uriValue`.
    pub uri_value: Option<String>,
    /// `minValue` of an interval.
    pub min_value: Option<Decimal>,
    /// `maxValue` of an interval.
    pub max_value: Option<Decimal>,
    /// `meanValue` of an interval.
    pub mean_value: Option<Decimal>,
    /// `sDev`: standard deviation over the interval.
    pub s_dev: Option<Decimal>,
    /// `percRank`: the percentile rank `percValue` belongs to.
    pub perc_rank: Option<Decimal>,
    /// `percValue`: the value at `percRank`.
    pub perc_value: Option<Decimal>,
    /// `uom`: UN/CEFACT Rec 20 unit (`CEL`).
    pub uom: Option<String>,
    /// `coordinateReferenceSystem` (URI).
    pub coordinate_reference_system: Option<String>,
    /// Extension fields, in document order.
    pub extensions: Vec<ExtensionField>,
}

/// A namespaced field name: `{namespace_iri}local_name`, plus the prefix it was written with.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QName {
    /// The full namespace IRI (`https://ns.example.com/epcis/`); what identity and the hash use.
    /// Empty for an unqualified XML child element inside an extension.
    pub namespace_iri: String,
    /// The prefix as written (`example`), kept so writers can reuse it; `None` when the name
    /// was written as a full IRI.
    pub prefix: Option<String>,
    /// The local name (`myField`).
    pub local_name: String,
}

impl QName {
    /// A name in `namespace_iri` written with `prefix`.
    pub fn new(
        namespace_iri: impl Into<String>,
        prefix: Option<String>,
        local_name: impl Into<String>,
    ) -> Self {
        Self { namespace_iri: namespace_iri.into(), prefix, local_name: local_name.into() }
    }

    /// The full IRI (`namespace_iri` + `local_name`), as JSON-LD expands a CURIE.
    pub fn iri(&self) -> String {
        format!("{}{}", self.namespace_iri, self.local_name)
    }
}

impl fmt::Display for QName {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.prefix {
            Some(prefix) => write!(formatter, "{prefix}:{}", self.local_name),
            None => write!(formatter, "{}", self.iri()),
        }
    }
}

/// One extension field (user extension, ILMD entry, master-data structure): a name and a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionField {
    /// The field's namespaced name.
    pub name: QName,
    /// Its value.
    pub value: ExtensionValue,
}

/// The value of an extension field: what JSON can express, and what XML text/elements map to
/// (XML has only text and nested elements; repeated sibling elements are the XML form of a
/// [`ExtensionValue::List`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtensionValue {
    /// A string (XML: element text).
    Text(String),
    /// A JSON number, as written.
    Number(Decimal),
    /// A JSON boolean.
    Boolean(bool),
    /// Nested fields (JSON object / XML child elements), in document order.
    Object(Vec<ExtensionField>),
    /// A JSON array (XML: the same element repeated).
    List(Vec<ExtensionValue>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_written_as_sign_hours_colon_minutes() {
        for hours in -25i8..=25 {
            for minutes in [0i8, 1, 30, 45, 59] {
                let minutes = if hours < 0 { -minutes } else { minutes };
                let offset = UtcOffset::from_hms(hours, minutes, 0).unwrap();
                let sign = if offset.is_negative() { '-' } else { '+' };
                let expected =
                    format!("{sign}{:02}:{:02}", hours.unsigned_abs(), minutes.unsigned_abs());
                assert_eq!(format_offset(offset), expected);
            }
        }
        assert_eq!(format_offset(UtcOffset::from_hms(0, -30, 0).unwrap()), "-00:30");
    }

    #[test]
    fn timestamps_need_an_offset_and_keep_their_text() {
        let with_offset = Timestamp::parse("2022-02-16T20:33:31.116000-06:00");
        assert!(with_offset.is_some());
        let with_offset = with_offset.unwrap();
        assert_eq!(with_offset.as_str(), "2022-02-16T20:33:31.116000-06:00");
        assert_eq!(with_offset.instant().unix_timestamp(), 1_645_065_211);
        assert!(Timestamp::parse("2022-02-16T20:33:31.116").is_none());
        assert!(Timestamp::parse("2022-02-16 20:33:31Z").is_none());
        assert!(Timestamp::parse("2022-02-30T20:33:31Z").is_none());
        assert!(Timestamp::parse("2022-02-16T20:33:31+15:00").is_none());
        assert!(Timestamp::parse("2022-02-16T20:33:31.Z").is_none());
        assert!(Timestamp::parse("2022-02-16T20:33:31Z").is_some());
    }

    #[test]
    fn decimals_accept_numbers_only() {
        for number in ["0", "200", "-1.5", "26.20", ".5", "1.0E3", "1e-7"] {
            assert!(Decimal::parse(number).is_some(), "{number}");
        }
        for not_number in ["", "abc", "12 kg", "1.2.3", "NaN", "e5", "1e"] {
            assert!(Decimal::parse(not_number).is_none(), "{not_number}");
        }
    }

    #[test]
    fn vocabulary_values_have_three_spellings() {
        let shipping = VocabularyValue::new(VocabularyKind::BizStep, "shipping");
        assert_eq!(shipping.web_uri(), "https://ref.gs1.org/cbv/BizStep-shipping");
        assert_eq!(shipping.urn_or_uri(), "urn:epcglobal:cbv:bizstep:shipping");
        let custom = VocabularyValue::new(VocabularyKind::BizStep, "https://example.com/step");
        assert_eq!(custom.web_uri(), "https://example.com/step");
        assert_eq!(custom.bare_word_or_uri(), "https://example.com/step");
    }
}
