//! What an entry carries: the payload kinds, the EPCIS capture payload and the ledger records
//! (recall notice and acknowledgement, inspection result, excursion, supervision flag, roster
//! change, error declaration), and how each splits into separately committed fields.
//!
//! Owns: the payload types and their field lists (each field is one unit of selective
//! disclosure; its bytes come from `codec`).
//! Does not own: EPCIS parsing or the event hash id computation (see `crate::epcis`; the capture
//! payload carries the id and the original bytes as given), who may write which kind (see
//! `roster`), or signing (see `feed`).

use crate::codec::{self, Canonical};
use crate::feed::EntryHash;
use crate::identity::{PublicKey, Signature};
use crate::roster;

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

/// The kind of an entry's payload. Signed in the header, so role rules apply even when every
/// payload field is withheld.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PayloadKind {
    /// An EPCIS 2.0 event as captured.
    EpcisEvent,
    /// A regulator's recall notice.
    RecallNotice,
    /// A holder's acknowledgement of a recall notice.
    RecallAcknowledgement,
    /// A lab's inspection or test result.
    InspectionResult,
    /// A cold-chain excursion.
    Excursion,
    /// A regulator's key-supervision flag on an organisation.
    SupervisionFlag,
    /// A governance-approved change to the roster.
    RosterChange,
    /// A declaration that an earlier entry was wrong.
    ErrorDeclaration,
}

impl PayloadKind {
    /// Every kind, in code order.
    pub const ALL: [PayloadKind; 8] = [
        PayloadKind::EpcisEvent,
        PayloadKind::RecallNotice,
        PayloadKind::RecallAcknowledgement,
        PayloadKind::InspectionResult,
        PayloadKind::Excursion,
        PayloadKind::SupervisionFlag,
        PayloadKind::RosterChange,
        PayloadKind::ErrorDeclaration,
    ];

    /// The wire code (the header's `payload_kind` byte).
    pub fn code(self) -> u8 {
        match self {
            PayloadKind::EpcisEvent => 0,
            PayloadKind::RecallNotice => 1,
            PayloadKind::RecallAcknowledgement => 2,
            PayloadKind::InspectionResult => 3,
            PayloadKind::Excursion => 4,
            PayloadKind::SupervisionFlag => 5,
            PayloadKind::RosterChange => 6,
            PayloadKind::ErrorDeclaration => 7,
        }
    }

    /// The kind with this wire code.
    pub fn from_code(code: u8) -> Result<Self, Error> {
        Self::ALL.get(usize::from(code)).copied().ok_or(Error::UnknownKind(code))
    }

    /// A stable lowercase name for errors, logs and JSON.
    pub fn name(self) -> &'static str {
        match self {
            PayloadKind::EpcisEvent => "epcis_event",
            PayloadKind::RecallNotice => "recall_notice",
            PayloadKind::RecallAcknowledgement => "recall_acknowledgement",
            PayloadKind::InspectionResult => "inspection_result",
            PayloadKind::Excursion => "excursion",
            PayloadKind::SupervisionFlag => "supervision_flag",
            PayloadKind::RosterChange => "roster_change",
            PayloadKind::ErrorDeclaration => "error_declaration",
        }
    }
}

impl std::fmt::Display for PayloadKind {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.name())
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

/// A pointer to one entry of one feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EntryRef {
    /// The feed's author.
    pub author: PublicKey,
    /// The entry's sequence number.
    pub sequence: u64,
    /// The entry's hash, so the reference cannot be satisfied by a forked entry.
    pub entry_hash: EntryHash,
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
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// One governance key's approval of a roster change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Approval {
    /// The approving governance key.
    pub key: PublicKey,
    /// Its signature over [`RosterChange::approval_message`].
    pub signature: Signature,
}

/// A roster change, carried in the feed of a governance key or a regulator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterChange {
    /// The number of roster changes applied before this one; binds approvals to one point in
    /// the roster's history so they cannot be replayed.
    pub roster_version: u64,
    /// The change itself.
    pub change: roster::Change,
    /// Governance approvals; the author's own entry signature counts if it is a governance key.
    pub approvals: Vec<Approval>,
}

impl RosterChange {
    /// The bytes a governance key signs to approve `change` at `roster_version` in `network`.
    pub fn approval_message(
        network: &str,
        roster_version: u64,
        change: &roster::Change,
    ) -> Result<Vec<u8>, codec::Error> {
        let mut message = codec::TAG_ROSTER_APPROVAL.to_vec();
        message
            .extend_from_slice(&codec::encode(&(network.to_owned(), roster_version), "approval")?);
        message.extend_from_slice(&change.to_bytes()?);
        Ok(message)
    }
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
#[derive(Debug, Clone, PartialEq, Eq)]
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
        if fields.len() != expected {
            return Err(Error::FieldCount { kind, expected, found: fields.len() });
        }
        Ok(Self { remaining: fields.iter() })
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
            Payload::RecallNotice(notice) => Ok(vec![
                field(&notice.recall_id, "recall id")?,
                field(&recall_class_code(notice.class), "class")?,
                field(&notice.lots, "lots")?,
                field(&notice.hazard, "hazard")?,
                field(&notice.instructions, "instructions")?,
            ]),
            Payload::RecallAcknowledgement(acknowledgement) => Ok(vec![
                field(&entry_ref_tuple(&acknowledgement.notice), "notice")?,
                field(&acknowledgement.recall_id, "recall id")?,
                field(&acknowledgement.action, "action")?,
                field(&acknowledgement.quantity_held, "quantity held")?,
            ]),
            Payload::InspectionResult(result) => Ok(vec![
                field(&result.lots, "lots")?,
                field(&result.test, "test")?,
                field(&verdict_code(result.verdict), "verdict")?,
                field(&result.sampled_at_ms, "sampled at")?,
                field(&result.report, "report")?,
            ]),
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
                let mut reader = FieldReader::new(kind, fields, 5)?;
                Ok(Payload::RecallNotice(RecallNotice {
                    recall_id: reader.next("recall id")?,
                    class: recall_class_from_code(reader.next("class")?)?,
                    lots: reader.next("lots")?,
                    hazard: reader.next("hazard")?,
                    instructions: reader.next("instructions")?,
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
                let mut reader = FieldReader::new(kind, fields, 5)?;
                Ok(Payload::InspectionResult(InspectionResult {
                    lots: reader.next("lots")?,
                    test: reader.next("test")?,
                    verdict: verdict_from_code(reader.next("verdict")?)?,
                    sampled_at_ms: reader.next("sampled at")?,
                    report: reader.next("report")?,
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
