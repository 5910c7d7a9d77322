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
#[derive(Debug, Clone, PartialEq, Eq)]
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
            Payload::Excursion(excursion) => Ok(vec![
                field(&excursion.lots, "lots")?,
                field(&excursion.measurement, "measurement")?,
                field(&excursion.limit, "limit")?,
                field(&excursion.observed, "observed")?,
                field(&excursion.started_ms, "started")?,
                field(&excursion.ended_ms, "ended")?,
            ]),
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
                let mut reader = FieldReader::new(kind, fields, 6)?;
                Ok(Payload::Excursion(Excursion {
                    lots: reader.next("lots")?,
                    measurement: reader.next("measurement")?,
                    limit: reader.next("limit")?,
                    observed: reader.next("observed")?,
                    started_ms: reader.next("started")?,
                    ended_ms: reader.next("ended")?,
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
}
