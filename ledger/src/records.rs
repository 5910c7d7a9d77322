//! What an entry carries: the EPCIS capture payload and the ledger records (recall notice and
//! acknowledgement, inspection result, excursion, supervision flag, roster change, error
//! declaration), master-data statements, and how each splits into separately committed fields.
//!
//! Owns: the payload types and their field lists (each field is one unit of selective
//! disclosure; its bytes come from `codec`).
//! Does not own: the payload kind byte and entry references (see `entry`), EPCIS parsing or the
//! event hash id computation (see `crate::epcis`; the capture payload carries the id and the
//! original bytes as given), the roster change itself and its approvals (see `roster`, whose
//! [`RosterChange`] this carries), who may write which kind (see `roster`), or signing (see
//! `feed`).

use crate::codec::{self, Canonical};
use crate::coldchain::{Bound, ExcursionId, Reason, Rule, RuleKind};
use crate::entry::{EntryHash, EntryRef, PayloadKind};
use crate::identity::{PublicKey, Signature};
use crate::masterdata::{Attribute, Statement, VocabularyType};
use crate::roster::{self, Approval, RosterChange};

/// Errors turning payload fields back into a payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The kind byte names no known payload kind.
    #[error("unknown payload kind {0}")]
    UnknownKind(u8),
    /// The payload has the wrong number of fields for its kind.
    #[error("payload kind {kind} has {expected} fields, found {found}")]
    FieldCount {
        /// The payload kind.
        kind: PayloadKind,
        /// Fields the kind defines.
        expected: usize,
        /// Fields present.
        found: usize,
    },
    /// A field's bytes do not decode.
    #[error("payload field: {0}")]
    Field(#[from] codec::Error),
    /// A field decoded but holds a value the kind does not allow.
    #[error("payload field {field}: {reason}")]
    InvalidValue {
        /// The field name.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// Why a text is not a lot identifier a record may name ([`check_lot`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LotError {
    /// The text is not a well-formed identifier (a forbidden character, a broken GS1 form).
    #[error("{0}")]
    Identifier(#[from] crate::gs1::Error),
    /// The text is a well-formed identifier of something other than a lot, or no GS1
    /// identifier at all (free text, markup, a formula).
    #[error(
        "is not a lot identifier (an LGTIN URN like urn:epc:class:lgtin:4012345.012345.L1 or a Digital Link with a GTIN and a lot, like https://id.gs1.org/01/09506000134352/10/L1)"
    )]
    NotALot,
}

/// Judges one entry of a record's `lots` before it is signed: an LGTIN class URN or a GS1
/// Digital Link naming a GTIN and a lot, passing every GS1 rule (check digits included) and
/// free of control, whitespace and bidirectional-formatting characters. Every writer of records
/// calls this, so no record names as a lot what the lot graph cannot trace (nor markup or a
/// spreadsheet formula that a reader's tools might run).
pub fn check_lot(lot: &str) -> Result<(), LotError> {
    crate::gs1::check_identifier(lot)?;
    match crate::gs1::classify(lot) {
        Some(crate::gs1::Identifier::Lot { .. }) => Ok(()),
        _ => Err(LotError::NotALot),
    }
}

/// The serialisation an EPCIS event was captured in; its original bytes are kept as given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventFormat {
    /// EPCIS 2.0 JSON / JSON-LD.
    JsonLd,
    /// EPCIS 2.0 XML.
    Xml,
}

impl EventFormat {
    fn code(self) -> u8 {
        match self {
            EventFormat::JsonLd => 0,
            EventFormat::Xml => 1,
        }
    }

    fn from_code(code: u8) -> Result<Self, Error> {
        match code {
            0 => Ok(EventFormat::JsonLd),
            1 => Ok(EventFormat::Xml),
            other => Err(Error::InvalidValue {
                field: "format",
                reason: format!("unknown event format {other}"),
            }),
        }
    }
}

/// An EPCIS event as captured: the feed layer keeps the bytes and the id, never re-encodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpcisCapture {
    /// The CBV event hash id, `ni:///sha-256;<hex>?ver=CBV2.0`; the store indexes by it.
    pub event_id: String,
    /// How `original` is serialised.
    pub format: EventFormat,
    /// The event exactly as received, so its hash id can be recomputed by anyone.
    pub original: Vec<u8>,
}

/// Recall classification (FDA 21 CFR 7.3(m)): class I is the most serious.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecallClass {
    /// Reasonable probability of serious adverse health consequences or death.
    ClassOne,
    /// Temporary or medically reversible adverse health consequences.
    ClassTwo,
    /// Not likely to cause adverse health consequences.
    ClassThree,
}

/// A regulator's recall notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecallNotice {
    /// The regulator's own recall number, quoted by acknowledgements.
    pub recall_id: String,
    /// Seriousness of the recall.
    pub class: RecallClass,
    /// Recalled lots or items, as EPC URIs (LGTIN / SGTIN patterns).
    pub lots: Vec<String>,
    /// The hazard, in words.
    pub hazard: String,
    /// What holders must do.
    pub instructions: String,
    /// The recall-scope query the lots were found with (JSON text: lots, a facility and a
    /// window, or an ingredient and a window), so anyone can run it again and compare; `None`
    /// when the lots were listed by hand. Written as a sixth field only when present.
    pub scope: Option<String>,
}

/// A holder's acknowledgement of a recall notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecallAcknowledgement {
    /// The notice acknowledged.
    pub notice: EntryRef,
    /// The notice's recall number, repeated for readers that cannot see the notice.
    pub recall_id: String,
    /// Action taken (quarantined, destroyed, returned, none held…).
    pub action: String,
    /// Quantity still held, as text with unit (e.g. `120 KGM`); a separate field so it can be
    /// withheld from competitors.
    pub quantity_held: String,
}

/// Outcome of an inspection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Meets the standard tested.
    Pass,
    /// Fails the standard tested.
    Fail,
    /// No conclusion (sample spoiled, test void).
    Inconclusive,
}

/// A lab's signed inspection result for the lots it sampled.
#[derive(Debug, Clone, PartialEq)]
pub struct InspectionResult {
    /// Lots sampled, as EPC URIs.
    pub lots: Vec<String>,
    /// The test or standard applied.
    pub test: String,
    /// The outcome.
    pub verdict: Verdict,
    /// When the sample was taken, milliseconds since the Unix epoch.
    pub sampled_at_ms: i64,
    /// Reference to the full report (URI or document number).
    pub report: String,
    /// What was measured, typed (a number stays a number). Written as a sixth field only when
    /// there is at least one.
    pub measurements: Vec<Measurement>,
}

/// One measured value of an inspection (e.g. `listeria` = `present`, `aflatoxin B1` = 1.8
/// `µg/kg`).
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// What was measured.
    pub name: String,
    /// The value found.
    pub value: MeasuredValue,
    /// Unit of a number (UN/CEFACT code or the lab's own), when it has one.
    pub unit: Option<String>,
}

/// A measured value: a finite number, or a finding in words (`absent`, `< 0.04`).
#[derive(Debug, Clone, PartialEq)]
pub enum MeasuredValue {
    /// A finite number.
    Number(f64),
    /// A finding that is not a number.
    Text(String),
}

/// The canonical form of a measurement: name, kind (0 number, 1 text), the value as text (a
/// number in Rust's shortest round-trip form, so one value has one encoding), unit.
type MeasurementFields = (String, u8, String, Option<String>);

/// Refuses a number that is not finite: [`measurement_from_fields`] would refuse it, and a
/// signed entry nobody can read back must not be written.
fn measurement_fields(measurement: &Measurement) -> Result<MeasurementFields, codec::Error> {
    let (kind, value) = match &measurement.value {
        MeasuredValue::Number(number) if number.is_finite() => (0, number.to_string()),
        MeasuredValue::Number(number) => {
            return Err(codec::Error::Encode {
                what: "measurements",
                reason: format!("{number} is not a finite number"),
            });
        }
        MeasuredValue::Text(text) => (1, text.clone()),
    };
    if let Some(reason) =
        empty_text_in(&measurement.name, kind, &value, measurement.unit.as_deref())
    {
        return Err(codec::Error::Encode { what: "measurements", reason });
    }
    Ok((measurement.name.clone(), kind, value, measurement.unit.clone()))
}

/// Why a measurement's texts are not acceptable: a nameless measurement, an empty finding or
/// an empty unit says nothing (absent is how a unit is left out). Checked on writing and on
/// reading, like the finite-number rule.
fn empty_text_in(name: &str, kind: u8, value: &str, unit: Option<&str>) -> Option<String> {
    if name.trim().is_empty() {
        Some("a measurement needs a name".to_owned())
    } else if kind == 1 && value.trim().is_empty() {
        Some(format!("measurement {name:?} has an empty finding"))
    } else if unit.is_some_and(|unit| unit.trim().is_empty()) {
        Some(format!("measurement {name:?} has an empty unit"))
    } else {
        None
    }
}

fn measurement_from_fields(fields: MeasurementFields) -> Result<Measurement, Error> {
    let (name, kind, value, unit) = fields;
    if let Some(reason) = empty_text_in(&name, kind, &value, unit.as_deref()) {
        return Err(Error::InvalidValue { field: "measurements", reason });
    }
    let value = match kind {
        0 => {
            let number = value
                .parse::<f64>()
                .ok()
                .filter(|number| number.is_finite() && number.to_string() == value)
                .ok_or_else(|| Error::InvalidValue {
                    field: "measurements",
                    reason: format!("{value:?} is not a number in canonical form"),
                })?;
            MeasuredValue::Number(number)
        }
        1 => MeasuredValue::Text(value),
        other => {
            return Err(Error::InvalidValue {
                field: "measurements",
                reason: format!("no value kind {other}"),
            });
        }
    };
    Ok(Measurement { name, value, unit })
}

/// A cold-chain excursion: a threshold exceeded for longer than allowed.
#[derive(Debug, Clone, PartialEq)]
pub struct Excursion {
    /// Lots affected, as EPC URIs.
    pub lots: Vec<String>,
    /// What was measured (CBV sensor type, e.g. `gs1:Temperature`).
    pub measurement: String,
    /// The limit that was applied, kept with the excursion (e.g. `> 8 CEL for 30 min`).
    pub limit: String,
    /// The worst value observed, with unit.
    pub observed: String,
    /// Start of the excursion, milliseconds since the Unix epoch.
    pub started_ms: i64,
    /// End of the excursion, if it ended.
    pub ended_ms: Option<i64>,
    /// What a detector found, typed, and which record this one corrects. Written as twelve
    /// trailing fields by every detected excursion (`coldchain::Excursion::to_record`); `None`
    /// for an excursion stated in words only (entered by hand, or written before the fields
    /// existed).
    pub detail: Option<ExcursionDetail>,
}

/// The typed part of a detected excursion (fields 7 to 18 of an `excursion` payload).
#[derive(Debug, Clone, PartialEq)]
pub struct ExcursionDetail {
    /// The device whose readings these are (logger serial number or EPCIS `deviceID`).
    pub device: String,
    /// The detected excursion's identity (a digest of what it states): a retry that finds the
    /// same excursion finds the same id, so it is signed once.
    pub excursion_id: ExcursionId,
    /// The rule applied (kind, bound, threshold, duration).
    pub rule: Rule,
    /// Time known to be beyond the bound, ms (gaps excluded).
    pub duration_ms: i64,
    /// Lowest reading beyond the bound, °C (finite).
    pub min_celsius: f64,
    /// Highest reading beyond the bound, °C (finite).
    pub max_celsius: f64,
    /// Mean of the readings beyond the bound, °C (finite).
    pub mean_celsius: f64,
    /// How many readings were beyond the bound.
    pub readings: u64,
    /// Gaps in the logging inside the excursion (reported, never bridged).
    pub gaps: u32,
    /// Their total length, ms.
    pub gap_ms: i64,
    /// The excursion record this one corrects or withdraws; `None` for a first report.
    pub supersedes: Option<EntryRef>,
    /// `true`: the superseded excursion no longer holds, and this record restates it (its
    /// figures are the withdrawn excursion's). Only a record that supersedes may withdraw.
    pub withdrawn: bool,
}

impl Excursion {
    /// The record that withdraws `withdrawn` (signed as `at`): the same statement, superseding
    /// it and saying it no longer holds. `None` when `withdrawn` carries no detail (an
    /// excursion stated in words only is not the detector's to withdraw).
    pub fn withdrawal_of(withdrawn: &Excursion, at: EntryRef) -> Option<Excursion> {
        let mut record = withdrawn.clone();
        let detail = record.detail.as_mut()?;
        detail.supersedes = Some(at);
        detail.withdrawn = true;
        Some(record)
    }

    /// This record as a correction of the excursion record at `at`.
    pub fn superseding(mut self, at: EntryRef) -> Excursion {
        if let Some(detail) = self.detail.as_mut() {
            detail.supersedes = Some(at);
        }
        self
    }
}

/// The wire form of an excursion's rule: kind (0 single-event, 1 cumulative), side (0 above,
/// 1 below), threshold °C, longer than ms.
type RuleFields = (u8, u8, f64, i64);

fn rule_fields(rule: &Rule) -> RuleFields {
    let kind = match rule.kind {
        RuleKind::SingleEvent => 0,
        RuleKind::Cumulative => 1,
    };
    let (side, threshold) = match rule.bound {
        Bound::Above(threshold) => (0, threshold),
        Bound::Below(threshold) => (1, threshold),
    };
    (kind, side, threshold, rule.longer_than_ms)
}

fn rule_from_fields((kind, side, threshold, longer_than_ms): RuleFields) -> Result<Rule, Error> {
    let invalid = |reason: String| Error::InvalidValue { field: "rule", reason };
    let kind = match kind {
        0 => RuleKind::SingleEvent,
        1 => RuleKind::Cumulative,
        other => return Err(invalid(format!("no rule kind {other}"))),
    };
    let bound = match side {
        0 => Bound::Above(threshold),
        1 => Bound::Below(threshold),
        other => return Err(invalid(format!("no bound side {other}"))),
    };
    Ok(Rule { kind, bound, longer_than_ms })
}

/// Why a detected excursion's typed fields cannot be signed or read: checked on writing and on
/// reading, so a signed entry nobody can read back is never written.
fn excursion_problem(
    excursion: &Excursion,
    detail: &ExcursionDetail,
) -> Option<(&'static str, String)> {
    let (_, _, threshold, longer_than_ms) = rule_fields(&detail.rule);
    let numbers = [
        ("rule", threshold),
        ("min", detail.min_celsius),
        ("max", detail.max_celsius),
        ("mean", detail.mean_celsius),
    ];
    if let Some((field, number)) = numbers.into_iter().find(|(_, number)| !number.is_finite()) {
        return Some((field, format!("{number} is not a finite number")));
    }
    if detail.device.trim().is_empty() {
        return Some((
            "device",
            "an excursion names the device whose readings it reports".to_owned(),
        ));
    }
    if excursion.measurement.trim().is_empty() {
        return Some(("measurement", "an excursion names what was measured".to_owned()));
    }
    if excursion.lots.is_empty() || excursion.lots.iter().any(|lot| lot.trim().is_empty()) {
        return Some(("lots", "an excursion names the lots it concerns, none empty".to_owned()));
    }
    if longer_than_ms < 0 {
        return Some(("rule", format!("a rule's duration of {longer_than_ms} ms is negative")));
    }
    if detail.duration_ms < 0 || detail.gap_ms < 0 {
        return Some(("duration", "durations are not negative".to_owned()));
    }
    if excursion.ended_ms.is_some_and(|ended_ms| ended_ms < excursion.started_ms) {
        return Some(("ended", "the excursion ends before it started".to_owned()));
    }
    if detail.readings == 0 {
        return Some(("readings", "an excursion rests on at least one reading".to_owned()));
    }
    if !(detail.min_celsius <= detail.mean_celsius && detail.mean_celsius <= detail.max_celsius) {
        return Some(("mean", "the mean lies between the minimum and the maximum".to_owned()));
    }
    if detail.withdrawn && detail.supersedes.is_none() {
        return Some((
            "withdrawn",
            "only a record that supersedes another withdraws it".to_owned(),
        ));
    }
    None
}

/// An organisation's acknowledgement of an excursion record, with the reason (issue 21): the
/// excursion is named by its entry, so the acknowledgement cannot be satisfied by another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExcursionAcknowledgement {
    /// The excursion record acknowledged.
    pub excursion: EntryRef,
    /// Why.
    pub reason: Reason,
}

fn reason_fields(reason: &Reason) -> (u8, String) {
    match reason {
        Reason::SensorLostOrMalfunctioning => (0, String::new()),
        Reason::AssessedAndReleased => (1, String::new()),
        Reason::Discarded => (2, String::new()),
        Reason::Other(words) => (3, words.clone()),
    }
}

/// The reason a code and words state: words only with `3` (other), and then not empty.
fn reason_from_fields(code: u8, words: String) -> Result<Reason, Error> {
    let invalid = |field, reason: &str| Error::InvalidValue { field, reason: reason.to_owned() };
    let reason = match code {
        0 => Reason::SensorLostOrMalfunctioning,
        1 => Reason::AssessedAndReleased,
        2 => Reason::Discarded,
        3 if words.trim().is_empty() => {
            return Err(invalid("words", "an other reason says what it is in words"));
        }
        3 => return Ok(Reason::Other(words)),
        other => {
            return Err(Error::InvalidValue {
                field: "reason",
                reason: format!("no reason {other}"),
            });
        }
    };
    if words.is_empty() {
        Ok(reason)
    } else {
        Err(invalid("words", "words go with the reason other only"))
    }
}

/// A regulator's key-supervision flag on an organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupervisionFlag {
    /// The organisation flagged.
    pub subject: PublicKey,
    /// Why.
    pub reason: String,
    /// `true` to place on the list, `false` to lift.
    pub active: bool,
}

/// A declaration that an earlier entry was wrong (EPCIS error declaration semantics: nothing
/// is edited; the correction is a new fact).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorDeclaration {
    /// The entry declared wrong.
    pub declared: EntryRef,
    /// CBV error reason (`did_not_occur`, `incorrect_data`) or free text.
    pub reason: String,
    /// Event hash ids of the corrective events, if any.
    pub corrective_event_ids: Vec<String>,
}

/// An entry's payload.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// An EPCIS event as captured.
    Epcis(EpcisCapture),
    /// A recall notice.
    RecallNotice(RecallNotice),
    /// A recall acknowledgement.
    RecallAcknowledgement(RecallAcknowledgement),
    /// An inspection result.
    InspectionResult(InspectionResult),
    /// An excursion.
    Excursion(Excursion),
    /// An acknowledgement of an excursion.
    ExcursionAcknowledgement(ExcursionAcknowledgement),
    /// A supervision flag.
    SupervisionFlag(SupervisionFlag),
    /// A roster change.
    RosterChange(RosterChange),
    /// An error declaration.
    ErrorDeclaration(ErrorDeclaration),
    /// A master-data statement (one vocabulary element).
    MasterData(Statement),
}

fn field<Value: Canonical>(value: &Value, what: &'static str) -> Result<Vec<u8>, codec::Error> {
    codec::encode(value, what)
}

fn entry_ref_tuple(entry_ref: &EntryRef) -> ([u8; 32], u64, [u8; 32]) {
    (*entry_ref.author.as_bytes(), entry_ref.sequence, *entry_ref.entry_hash.as_bytes())
}

fn entry_ref_from_tuple(tuple: ([u8; 32], u64, [u8; 32])) -> Result<EntryRef, Error> {
    let author = PublicKey::from_bytes(tuple.0).map_err(|error| Error::InvalidValue {
        field: "entry reference",
        reason: error.to_string(),
    })?;
    Ok(EntryRef { author, sequence: tuple.1, entry_hash: EntryHash::from_bytes(tuple.2) })
}

fn public_key_field(bytes: [u8; 32], field: &'static str) -> Result<PublicKey, Error> {
    PublicKey::from_bytes(bytes)
        .map_err(|error| Error::InvalidValue { field, reason: error.to_string() })
}

/// Reads a payload's fields in order, checking the count up front.
struct FieldReader<'fields> {
    /// The fields still to read.
    remaining: std::slice::Iter<'fields, &'fields [u8]>,
}

impl<'fields> FieldReader<'fields> {
    fn new(
        kind: PayloadKind,
        fields: &'fields [&'fields [u8]],
        expected: usize,
    ) -> Result<Self, Error> {
        Self::with_optional(kind, fields, expected, 0)
    }

    /// A reader for a kind with `required` fields and up to `optional` more after them (fields
    /// added to a kind later: entries written before still read).
    fn with_optional(
        kind: PayloadKind,
        fields: &'fields [&'fields [u8]],
        required: usize,
        optional: usize,
    ) -> Result<Self, Error> {
        if fields.len() < required {
            return Err(Error::FieldCount { kind, expected: required, found: fields.len() });
        }
        if fields.len() > required + optional {
            let expected = required + optional;
            return Err(Error::FieldCount { kind, expected, found: fields.len() });
        }
        Ok(Self { remaining: fields.iter() })
    }

    /// The next field when present. An optional field is written only when it holds
    /// something, so a present one that is empty (an empty text or list) is refused: each
    /// payload has one encoding.
    fn next_optional<Value: Canonical + Default + PartialEq>(
        &mut self,
        what: &'static str,
    ) -> Result<Option<Value>, Error> {
        let Some(bytes) = self.remaining.next() else {
            return Ok(None);
        };
        let value: Value = codec::decode(bytes, what)?;
        if value == Value::default() {
            return Err(Error::InvalidValue {
                field: what,
                reason: "an empty value is written by leaving the field out".to_owned(),
            });
        }
        Ok(Some(value))
    }

    fn next_raw(&mut self, what: &'static str) -> Result<&'fields [u8], Error> {
        self.remaining
            .next()
            .copied()
            .ok_or(Error::InvalidValue { field: what, reason: "missing".to_owned() })
    }

    fn next<Value: Canonical>(&mut self, what: &'static str) -> Result<Value, Error> {
        Ok(codec::decode(self.next_raw(what)?, what)?)
    }
}

impl Payload {
    /// The payload's kind.
    pub fn kind(&self) -> PayloadKind {
        match self {
            Payload::Epcis(_) => PayloadKind::EpcisEvent,
            Payload::RecallNotice(_) => PayloadKind::RecallNotice,
            Payload::RecallAcknowledgement(_) => PayloadKind::RecallAcknowledgement,
            Payload::InspectionResult(_) => PayloadKind::InspectionResult,
            Payload::Excursion(_) => PayloadKind::Excursion,
            Payload::SupervisionFlag(_) => PayloadKind::SupervisionFlag,
            Payload::RosterChange(_) => PayloadKind::RosterChange,
            Payload::ErrorDeclaration(_) => PayloadKind::ErrorDeclaration,
            Payload::MasterData(_) => PayloadKind::MasterData,
            Payload::ExcursionAcknowledgement(_) => PayloadKind::ExcursionAcknowledgement,
        }
    }

    /// The EPCIS event hash id, if this is an EPCIS capture.
    pub fn event_id(&self) -> Option<&str> {
        match self {
            Payload::Epcis(capture) => Some(&capture.event_id),
            _ => None,
        }
    }

    /// Splits the payload into its canonical fields (each one a unit of disclosure).
    pub fn to_fields(&self) -> Result<Vec<Vec<u8>>, codec::Error> {
        match self {
            Payload::Epcis(capture) => Ok(vec![
                field(&capture.event_id, "event id")?,
                field(&capture.format.code(), "format")?,
                field(&capture.original, "original event")?,
            ]),
            Payload::RecallNotice(notice) => {
                let mut fields = vec![
                    field(&notice.recall_id, "recall id")?,
                    field(&recall_class_code(notice.class), "class")?,
                    field(&notice.lots, "lots")?,
                    field(&notice.hazard, "hazard")?,
                    field(&notice.instructions, "instructions")?,
                ];
                // An empty scope is no scope: a present field holds something.
                if let Some(scope) = notice.scope.as_ref().filter(|scope| !scope.is_empty()) {
                    fields.push(field(scope, "scope")?);
                }
                Ok(fields)
            }
            Payload::RecallAcknowledgement(acknowledgement) => Ok(vec![
                field(&entry_ref_tuple(&acknowledgement.notice), "notice")?,
                field(&acknowledgement.recall_id, "recall id")?,
                field(&acknowledgement.action, "action")?,
                field(&acknowledgement.quantity_held, "quantity held")?,
            ]),
            Payload::InspectionResult(result) => {
                let mut fields = vec![
                    field(&result.lots, "lots")?,
                    field(&result.test, "test")?,
                    field(&verdict_code(result.verdict), "verdict")?,
                    field(&result.sampled_at_ms, "sampled at")?,
                    field(&result.report, "report")?,
                ];
                if !result.measurements.is_empty() {
                    let measurements = result
                        .measurements
                        .iter()
                        .map(measurement_fields)
                        .collect::<Result<Vec<_>, _>>()?;
                    fields.push(field(&measurements, "measurements")?);
                }
                Ok(fields)
            }
            Payload::Excursion(excursion) => {
                let mut fields = vec![
                    field(&excursion.lots, "lots")?,
                    field(&excursion.measurement, "measurement")?,
                    field(&excursion.limit, "limit")?,
                    field(&excursion.observed, "observed")?,
                    field(&excursion.started_ms, "started")?,
                    field(&excursion.ended_ms, "ended")?,
                ];
                if let Some(detail) = &excursion.detail {
                    if let Some((what, reason)) = excursion_problem(excursion, detail) {
                        return Err(codec::Error::Encode { what, reason });
                    }
                    fields.extend([
                        field(&detail.device, "device")?,
                        field(&detail.excursion_id.0, "excursion id")?,
                        field(&rule_fields(&detail.rule), "rule")?,
                        field(&detail.duration_ms, "duration")?,
                        field(&detail.min_celsius, "min")?,
                        field(&detail.max_celsius, "max")?,
                        field(&detail.mean_celsius, "mean")?,
                        field(&detail.readings, "readings")?,
                        field(&detail.gaps, "gaps")?,
                        field(&detail.gap_ms, "gap")?,
                        field(&detail.supersedes.as_ref().map(entry_ref_tuple), "supersedes")?,
                        field(&detail.withdrawn, "withdrawn")?,
                    ]);
                }
                Ok(fields)
            }
            Payload::ExcursionAcknowledgement(acknowledgement) => {
                let (code, words) = reason_fields(&acknowledgement.reason);
                // Refused here as on reading.
                reason_from_fields(code, words.clone()).map_err(|error| codec::Error::Encode {
                    what: "reason",
                    reason: error.to_string(),
                })?;
                Ok(vec![
                    field(&entry_ref_tuple(&acknowledgement.excursion), "excursion")?,
                    field(&code, "reason")?,
                    field(&words, "words")?,
                ])
            }
            Payload::SupervisionFlag(flag) => Ok(vec![
                field(flag.subject.as_bytes(), "subject")?,
                field(&flag.reason, "reason")?,
                field(&flag.active, "active")?,
            ]),
            Payload::RosterChange(change) => {
                let approvals: Vec<([u8; 32], [u8; 64])> = change
                    .approvals
                    .iter()
                    .map(|approval| (*approval.key.as_bytes(), approval.signature.to_bytes()))
                    .collect();
                Ok(vec![
                    field(&change.roster_version, "roster version")?,
                    change.change.to_bytes()?,
                    field(&approvals, "approvals")?,
                ])
            }
            Payload::ErrorDeclaration(declaration) => Ok(vec![
                field(&entry_ref_tuple(&declaration.declared), "declared entry")?,
                field(&declaration.reason, "reason")?,
                field(&declaration.corrective_event_ids, "corrective event ids")?,
            ]),
            Payload::MasterData(statement) => {
                // Refused here as on reading: a signed entry nobody can read back must not be
                // written.
                statement.check_canonical().map_err(|error| codec::Error::Encode {
                    what: "master data",
                    reason: error.to_string(),
                })?;
                let attributes: Vec<(String, String)> = statement
                    .attributes
                    .iter()
                    .map(|attribute| (attribute.id.clone(), attribute.value.clone()))
                    .collect();
                Ok(vec![
                    field(&statement.vocabulary_type.code(), "vocabulary type")?,
                    field(&statement.id, "id")?,
                    field(&attributes, "attributes")?,
                    field(&statement.children, "children")?,
                ])
            }
        }
    }

    /// Rebuilds a payload of `kind` from its fields (the inverse of [`Payload::to_fields`]).
    pub fn from_fields(kind: PayloadKind, fields: &[&[u8]]) -> Result<Self, Error> {
        match kind {
            PayloadKind::EpcisEvent => {
                let mut reader = FieldReader::new(kind, fields, 3)?;
                Ok(Payload::Epcis(EpcisCapture {
                    event_id: reader.next("event id")?,
                    format: EventFormat::from_code(reader.next("format")?)?,
                    original: reader.next("original event")?,
                }))
            }
            PayloadKind::RecallNotice => {
                let mut reader = FieldReader::with_optional(kind, fields, 5, 1)?;
                Ok(Payload::RecallNotice(RecallNotice {
                    recall_id: reader.next("recall id")?,
                    class: recall_class_from_code(reader.next("class")?)?,
                    lots: reader.next("lots")?,
                    hazard: reader.next("hazard")?,
                    instructions: reader.next("instructions")?,
                    scope: reader.next_optional::<String>("scope")?,
                }))
            }
            PayloadKind::RecallAcknowledgement => {
                let mut reader = FieldReader::new(kind, fields, 4)?;
                Ok(Payload::RecallAcknowledgement(RecallAcknowledgement {
                    notice: entry_ref_from_tuple(reader.next("notice")?)?,
                    recall_id: reader.next("recall id")?,
                    action: reader.next("action")?,
                    quantity_held: reader.next("quantity held")?,
                }))
            }
            PayloadKind::InspectionResult => {
                let mut reader = FieldReader::with_optional(kind, fields, 5, 1)?;
                let lots = reader.next("lots")?;
                let test = reader.next("test")?;
                let verdict = verdict_from_code(reader.next("verdict")?)?;
                let sampled_at_ms = reader.next("sampled at")?;
                let report = reader.next("report")?;
                let measurements = reader
                    .next_optional::<Vec<MeasurementFields>>("measurements")?
                    .unwrap_or_default()
                    .into_iter()
                    .map(measurement_from_fields)
                    .collect::<Result<Vec<_>, Error>>()?;
                Ok(Payload::InspectionResult(InspectionResult {
                    lots,
                    test,
                    verdict,
                    sampled_at_ms,
                    report,
                    measurements,
                }))
            }
            PayloadKind::Excursion => {
                let mut reader =
                    FieldReader::with_optional(kind, fields, 6, EXCURSION_DETAIL_FIELDS)?;
                // The typed fields come all together or not at all.
                if fields.len() != 6 && fields.len() != 6 + EXCURSION_DETAIL_FIELDS {
                    let expected = 6 + EXCURSION_DETAIL_FIELDS;
                    return Err(Error::FieldCount { kind, expected, found: fields.len() });
                }
                let mut excursion = Excursion {
                    lots: reader.next("lots")?,
                    measurement: reader.next("measurement")?,
                    limit: reader.next("limit")?,
                    observed: reader.next("observed")?,
                    started_ms: reader.next("started")?,
                    ended_ms: reader.next("ended")?,
                    detail: None,
                };
                if fields.len() > 6 {
                    let detail = ExcursionDetail {
                        device: reader.next("device")?,
                        excursion_id: ExcursionId(reader.next("excursion id")?),
                        rule: rule_from_fields(reader.next("rule")?)?,
                        duration_ms: reader.next("duration")?,
                        min_celsius: reader.next("min")?,
                        max_celsius: reader.next("max")?,
                        mean_celsius: reader.next("mean")?,
                        readings: reader.next("readings")?,
                        gaps: reader.next("gaps")?,
                        gap_ms: reader.next("gap")?,
                        supersedes: reader
                            .next::<Option<([u8; 32], u64, [u8; 32])>>("supersedes")?
                            .map(entry_ref_from_tuple)
                            .transpose()?,
                        withdrawn: reader.next("withdrawn")?,
                    };
                    if let Some((field, reason)) = excursion_problem(&excursion, &detail) {
                        return Err(Error::InvalidValue { field, reason });
                    }
                    excursion.detail = Some(detail);
                }
                Ok(Payload::Excursion(excursion))
            }
            PayloadKind::ExcursionAcknowledgement => {
                let mut reader = FieldReader::new(kind, fields, 3)?;
                let excursion = entry_ref_from_tuple(reader.next("excursion")?)?;
                let code = reader.next("reason")?;
                let words = reader.next("words")?;
                Ok(Payload::ExcursionAcknowledgement(ExcursionAcknowledgement {
                    excursion,
                    reason: reason_from_fields(code, words)?,
                }))
            }
            PayloadKind::SupervisionFlag => {
                let mut reader = FieldReader::new(kind, fields, 3)?;
                Ok(Payload::SupervisionFlag(SupervisionFlag {
                    subject: public_key_field(reader.next("subject")?, "subject")?,
                    reason: reader.next("reason")?,
                    active: reader.next("active")?,
                }))
            }
            PayloadKind::RosterChange => {
                let mut reader = FieldReader::new(kind, fields, 3)?;
                let roster_version = reader.next("roster version")?;
                let change =
                    roster::Change::from_bytes(reader.next_raw("change")?).map_err(|error| {
                        Error::InvalidValue { field: "change", reason: error.to_string() }
                    })?;
                let raw_approvals: Vec<([u8; 32], [u8; 64])> = reader.next("approvals")?;
                let approvals = raw_approvals
                    .into_iter()
                    .map(|(key, signature)| {
                        Ok(Approval {
                            key: public_key_field(key, "approvals")?,
                            signature: Signature::from_bytes(signature),
                        })
                    })
                    .collect::<Result<Vec<_>, Error>>()?;
                Ok(Payload::RosterChange(RosterChange { roster_version, change, approvals }))
            }
            PayloadKind::ErrorDeclaration => {
                let mut reader = FieldReader::new(kind, fields, 3)?;
                Ok(Payload::ErrorDeclaration(ErrorDeclaration {
                    declared: entry_ref_from_tuple(reader.next("declared entry")?)?,
                    reason: reader.next("reason")?,
                    corrective_event_ids: reader.next("corrective event ids")?,
                }))
            }
            PayloadKind::MasterData => {
                let mut reader = FieldReader::new(kind, fields, 4)?;
                let code: u8 = reader.next("vocabulary type")?;
                let vocabulary_type =
                    VocabularyType::from_code(code).ok_or_else(|| Error::InvalidValue {
                        field: "vocabulary type",
                        reason: format!("no vocabulary type {code}"),
                    })?;
                let id = reader.next("id")?;
                let attributes: Vec<(String, String)> = reader.next("attributes")?;
                let statement = Statement {
                    vocabulary_type,
                    id,
                    attributes: attributes
                        .into_iter()
                        .map(|(id, value)| Attribute { id, value })
                        .collect(),
                    children: reader.next("children")?,
                };
                // A signed statement is read only in its one canonical form, so equal content
                // is equal bytes and every reader shows the same thing.
                statement.check_canonical().map_err(|error| Error::InvalidValue {
                    field: "statement",
                    reason: error.to_string(),
                })?;
                Ok(Payload::MasterData(statement))
            }
        }
    }
}

/// How many typed fields follow the six fields of an excursion stated in words.
const EXCURSION_DETAIL_FIELDS: usize = 12;

fn recall_class_code(class: RecallClass) -> u8 {
    match class {
        RecallClass::ClassOne => 1,
        RecallClass::ClassTwo => 2,
        RecallClass::ClassThree => 3,
    }
}

fn recall_class_from_code(code: u8) -> Result<RecallClass, Error> {
    match code {
        1 => Ok(RecallClass::ClassOne),
        2 => Ok(RecallClass::ClassTwo),
        3 => Ok(RecallClass::ClassThree),
        other => {
            Err(Error::InvalidValue { field: "class", reason: format!("no recall class {other}") })
        }
    }
}

fn verdict_code(verdict: Verdict) -> u8 {
    match verdict {
        Verdict::Pass => 0,
        Verdict::Fail => 1,
        Verdict::Inconclusive => 2,
    }
}

fn verdict_from_code(code: u8) -> Result<Verdict, Error> {
    match code {
        0 => Ok(Verdict::Pass),
        1 => Ok(Verdict::Fail),
        2 => Ok(Verdict::Inconclusive),
        other => {
            Err(Error::InvalidValue { field: "verdict", reason: format!("no verdict {other}") })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inspection(measurements: Vec<Measurement>) -> Payload {
        Payload::InspectionResult(InspectionResult {
            lots: vec!["urn:epc:class:lgtin:4012345.012345.L1".to_owned()],
            test: "test: EU 2073/2005 (ISO 11290-1)".to_owned(),
            verdict: Verdict::Fail,
            sampled_at_ms: 1_767_225_600_000,
            report: "R-17".to_owned(),
            measurements,
        })
    }

    fn notice(scope: Option<&str>) -> Payload {
        Payload::RecallNotice(RecallNotice {
            recall_id: "R-1".to_owned(),
            class: RecallClass::ClassOne,
            lots: vec!["urn:epc:class:lgtin:4012345.012345.L1".to_owned()],
            hazard: "listeria".to_owned(),
            instructions: "destroy".to_owned(),
            scope: scope.map(str::to_owned),
        })
    }

    fn round_trip(payload: &Payload) -> Result<Payload, Error> {
        let fields = payload.to_fields().unwrap();
        let borrowed: Vec<&[u8]> = fields.iter().map(Vec::as_slice).collect();
        Payload::from_fields(payload.kind(), &borrowed)
    }

    /// Measurements and a scope travel as a sixth field, typed; without them the payload has
    /// its original five fields, so entries written before read as before.
    #[test]
    fn optional_sixth_fields_round_trip_and_stay_out_when_empty() {
        let measured = inspection(vec![
            Measurement {
                name: "listeria".to_owned(),
                value: MeasuredValue::Text("present".to_owned()),
                unit: None,
            },
            Measurement {
                name: "aflatoxin B1".to_owned(),
                value: MeasuredValue::Number(1.8),
                unit: Some("MC".to_owned()),
            },
            Measurement {
                name: "count".to_owned(),
                value: MeasuredValue::Number(-0.0),
                unit: None,
            },
        ]);
        assert_eq!(measured.to_fields().unwrap().len(), 6);
        assert_eq!(round_trip(&measured), Ok(measured));
        let scoped = notice(Some(r#"{"gln":"4012345000009","from":"2026-01-01T00:00:00Z"}"#));
        assert_eq!(scoped.to_fields().unwrap().len(), 6);
        assert_eq!(round_trip(&scoped), Ok(scoped));
        for plain in [inspection(Vec::new()), notice(None)] {
            assert_eq!(plain.to_fields().unwrap().len(), 5);
            assert_eq!(round_trip(&plain), Ok(plain));
        }
        assert_eq!(round_trip(&notice(Some(""))), Ok(notice(None)));
        for not_finite in [f64::NAN, f64::INFINITY] {
            let unreadable = inspection(vec![Measurement {
                name: "count".to_owned(),
                value: MeasuredValue::Number(not_finite),
                unit: None,
            }]);
            let error = unreadable.to_fields().unwrap_err();
            assert!(error.to_string().contains("measurements"), "{error}");
        }
    }

    /// A sixth field that is empty, a number not in canonical form, an unknown value kind or
    /// a seventh field are refused by name.
    #[test]
    fn non_canonical_sixth_fields_are_refused() {
        let fields = inspection(Vec::new()).to_fields().unwrap();
        let with_sixth = |sixth: Vec<u8>| {
            let mut all = fields.clone();
            all.push(sixth);
            let borrowed: Vec<&[u8]> = all.iter().map(Vec::as_slice).collect();
            Payload::from_fields(PayloadKind::InspectionResult, &borrowed)
        };
        let empty: Vec<MeasurementFields> = Vec::new();
        let error = with_sixth(field(&empty, "m").unwrap()).unwrap_err();
        assert!(error.to_string().contains("measurements"), "{error}");
        let unreadable = [
            ("a", 0u8, "1.80", None),
            ("a", 0, "NaN", None),
            ("a", 0, "inf", None),
            ("a", 0, "x", None),
            ("a", 2, "1", None),
            ("", 1, "present", None),
            (" ", 0, "1", None),
            ("a", 1, "", None),
            ("a", 0, "1", Some(" ")),
        ];
        for (name, kind, value, unit) in unreadable {
            let raw: Vec<MeasurementFields> =
                vec![(name.to_owned(), kind, value.to_owned(), unit.map(str::to_owned))];
            let error = with_sixth(field(&raw, "m").unwrap()).unwrap_err();
            assert!(
                matches!(error, Error::InvalidValue { field: "measurements", .. }),
                "{name:?} {kind} {value}: {error}"
            );
        }
        // Nor are such measurements written.
        let nameless = Measurement {
            name: String::new(),
            value: MeasuredValue::Text("present".to_owned()),
            unit: None,
        };
        let error = inspection(vec![nameless]).to_fields().unwrap_err();
        assert!(error.to_string().contains("a measurement needs a name"), "{error}");
        let mut seven = fields.clone();
        seven.push(
            field(&vec![("a".to_owned(), 1u8, "b".to_owned(), None::<String>)], "m").unwrap(),
        );
        seven.push(Vec::new());
        let borrowed: Vec<&[u8]> = seven.iter().map(Vec::as_slice).collect();
        assert_eq!(
            Payload::from_fields(PayloadKind::InspectionResult, &borrowed),
            Err(Error::FieldCount { kind: PayloadKind::InspectionResult, expected: 6, found: 7 })
        );
        let four: Vec<&[u8]> = fields.iter().take(4).map(Vec::as_slice).collect();
        assert_eq!(
            Payload::from_fields(PayloadKind::InspectionResult, &four),
            Err(Error::FieldCount { kind: PayloadKind::InspectionResult, expected: 5, found: 4 })
        );
    }

    fn detected(supersedes: Option<EntryRef>, withdrawn: bool) -> Excursion {
        Excursion {
            lots: vec!["urn:epc:class:lgtin:4012345.012345.L1".to_owned()],
            measurement: "gs1:Temperature".to_owned(),
            limit: "single-event: above 4 CEL for more than 30 min; limits 0..4 CEL".to_owned(),
            observed: "9.5 CEL".to_owned(),
            started_ms: 1_767_225_600_000,
            ended_ms: Some(1_767_229_200_000),
            detail: Some(ExcursionDetail {
                device: "LOGGER-7".to_owned(),
                excursion_id: ExcursionId([7; 16]),
                rule: Rule::single_event(Bound::Above(4.0), 30),
                duration_ms: 3_600_000,
                min_celsius: 4.5,
                max_celsius: 9.5,
                mean_celsius: 7.25,
                readings: 12,
                gaps: 1,
                gap_ms: 600_000,
                supersedes,
                withdrawn,
            }),
        }
    }

    fn reference() -> EntryRef {
        EntryRef {
            author: crate::identity::Keypair::from_seed([4; 32]).public_key(),
            sequence: 9,
            entry_hash: EntryHash::from_bytes([0xcd; 32]),
        }
    }

    /// A detected excursion writes all eighteen fields and reads back as written, a first
    /// report, a correction and a withdrawal alike; one stated in words keeps its six fields,
    /// so entries written before the typed fields read as before.
    #[test]
    fn excursions_round_trip_with_and_without_their_typed_fields() {
        let first = detected(None, false);
        let correction = first.clone().superseding(reference());
        let withdrawal = Excursion::withdrawal_of(&first, reference()).unwrap();
        assert_eq!(withdrawal.detail.as_ref().unwrap().supersedes, Some(reference()));
        assert!(withdrawal.detail.as_ref().unwrap().withdrawn);
        for excursion in [first, correction, withdrawal, detected(None, false)] {
            let payload = Payload::Excursion(excursion);
            assert_eq!(payload.to_fields().unwrap().len(), 18);
            assert_eq!(round_trip(&payload), Ok(payload));
        }
        let mut cumulative = detected(None, false);
        let detail = cumulative.detail.as_mut().unwrap();
        detail.rule = Rule::cumulative(Bound::Below(-0.5), 600);
        detail.min_celsius = -3.0;
        detail.max_celsius = -0.75;
        detail.mean_celsius = -1.0;
        let payload = Payload::Excursion(cumulative);
        assert_eq!(round_trip(&payload), Ok(payload));
        let words = Excursion { detail: None, ..detected(None, false) };
        assert_eq!(Excursion::withdrawal_of(&words, reference()), None);
        let payload = Payload::Excursion(words);
        assert_eq!(payload.to_fields().unwrap().len(), 6);
        assert_eq!(round_trip(&payload), Ok(payload));
    }

    /// Non-finite or inconsistent figures, an empty device, a withdrawal of nothing, an
    /// unknown rule code and a partial set of typed fields are refused by name, on writing and
    /// on reading.
    #[test]
    fn excursions_with_unreadable_figures_are_refused_by_name() {
        type Change = fn(&mut Excursion);
        let changes: [(&str, Change); 9] = [
            ("min", |excursion| excursion.detail.as_mut().unwrap().min_celsius = f64::NAN),
            ("max", |excursion| excursion.detail.as_mut().unwrap().max_celsius = f64::INFINITY),
            ("mean", |excursion| {
                excursion.detail.as_mut().unwrap().mean_celsius = f64::NEG_INFINITY
            }),
            ("rule", |excursion| {
                excursion.detail.as_mut().unwrap().rule.bound = Bound::Above(f64::NAN)
            }),
            ("device", |excursion| excursion.detail.as_mut().unwrap().device = " ".to_owned()),
            ("measurement", |excursion| excursion.measurement = String::new()),
            ("mean", |excursion| excursion.detail.as_mut().unwrap().mean_celsius = 10.0),
            ("withdrawn", |excursion| excursion.detail.as_mut().unwrap().withdrawn = true),
            ("ended", |excursion| excursion.ended_ms = Some(excursion.started_ms - 1)),
        ];
        for (field_name, change) in changes {
            let mut excursion = detected(None, false);
            change(&mut excursion);
            let payload = Payload::Excursion(excursion.clone());
            let error = payload.to_fields().unwrap_err();
            assert!(
                matches!(&error, codec::Error::Encode { what, .. } if *what == field_name),
                "{field_name}: {error}"
            );
            // A peer that signed it anyway is not read either.
            let mut fields = Payload::Excursion(detected(None, false)).to_fields().unwrap();
            let detail = excursion.detail.as_ref().unwrap();
            let (_, _, threshold, _) = rule_fields(&detail.rule);
            fields[1] = field(&excursion.measurement, "measurement").unwrap();
            fields[5] = field(&excursion.ended_ms, "ended").unwrap();
            fields[6] = field(&detail.device, "device").unwrap();
            fields[8] = field(&(0u8, 0u8, threshold, 1_800_000i64), "rule").unwrap();
            fields[10] = field(&detail.min_celsius, "min").unwrap();
            fields[11] = field(&detail.max_celsius, "max").unwrap();
            fields[12] = field(&detail.mean_celsius, "mean").unwrap();
            fields[17] = field(&detail.withdrawn, "withdrawn").unwrap();
            let borrowed: Vec<&[u8]> = fields.iter().map(Vec::as_slice).collect();
            let error = Payload::from_fields(PayloadKind::Excursion, &borrowed).unwrap_err();
            assert!(
                matches!(&error, Error::InvalidValue { field, .. } if *field == field_name),
                "{field_name}: {error}"
            );
        }
        let fields = Payload::Excursion(detected(None, false)).to_fields().unwrap();
        let mut bad_rule = fields.clone();
        bad_rule[8] = field(&(2u8, 0u8, 4.0f64, 0i64), "rule").unwrap();
        let borrowed: Vec<&[u8]> = bad_rule.iter().map(Vec::as_slice).collect();
        let error = Payload::from_fields(PayloadKind::Excursion, &borrowed).unwrap_err();
        assert!(matches!(error, Error::InvalidValue { field: "rule", .. }), "{error}");
        let partial: Vec<&[u8]> = fields.iter().take(7).map(Vec::as_slice).collect();
        assert_eq!(
            Payload::from_fields(PayloadKind::Excursion, &partial),
            Err(Error::FieldCount { kind: PayloadKind::Excursion, expected: 18, found: 7 })
        );
        let mut nineteen = fields.clone();
        nineteen.push(field(&true, "x").unwrap());
        let borrowed: Vec<&[u8]> = nineteen.iter().map(Vec::as_slice).collect();
        assert_eq!(
            Payload::from_fields(PayloadKind::Excursion, &borrowed),
            Err(Error::FieldCount { kind: PayloadKind::Excursion, expected: 18, found: 19 })
        );
    }

    /// Every reason of an excursion acknowledgement reads back; words go with "other" only and
    /// are never empty there; an unknown code is refused by name.
    #[test]
    fn excursion_acknowledgements_round_trip_and_refuse_empty_words() {
        let acknowledgement = |reason| {
            Payload::ExcursionAcknowledgement(ExcursionAcknowledgement {
                excursion: reference(),
                reason,
            })
        };
        for reason in [
            Reason::SensorLostOrMalfunctioning,
            Reason::AssessedAndReleased,
            Reason::Discarded,
            Reason::Other("returned to the sender".to_owned()),
        ] {
            let payload = acknowledgement(reason);
            assert_eq!(payload.kind(), PayloadKind::ExcursionAcknowledgement);
            assert_eq!(payload.to_fields().unwrap().len(), 3);
            assert_eq!(round_trip(&payload), Ok(payload));
        }
        let error = acknowledgement(Reason::Other(" ".to_owned())).to_fields().unwrap_err();
        assert!(error.to_string().contains("in words"), "{error}");
        let fields = acknowledgement(Reason::Discarded).to_fields().unwrap();
        for (code, words, field_name) in
            [(2u8, "why", "words"), (3, "", "words"), (3, "\t", "words"), (4, "", "reason")]
        {
            let mut changed = fields.clone();
            changed[1] = field(&code, "reason").unwrap();
            changed[2] = field(&words.to_owned(), "words").unwrap();
            let borrowed: Vec<&[u8]> = changed.iter().map(Vec::as_slice).collect();
            let error =
                Payload::from_fields(PayloadKind::ExcursionAcknowledgement, &borrowed).unwrap_err();
            assert!(
                matches!(&error, Error::InvalidValue { field, .. } if *field == field_name),
                "{code} {words:?}: {error}"
            );
        }
        assert_eq!(PayloadKind::ExcursionAcknowledgement.name(), "excursion_ack");
        assert_eq!(PayloadKind::ExcursionAcknowledgement.code(), 9);
        assert!(roster::Role::Logistics.may_write(PayloadKind::ExcursionAcknowledgement));
        assert!(!roster::Role::Lab.may_write(PayloadKind::ExcursionAcknowledgement));
    }
}
