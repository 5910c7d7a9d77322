//! Ledger records as JSON: `POST /records` bodies read into typed payloads, and record
//! entries written back for `GET /records`. A `roster_change` body is read with its owner's
//! shape (`crate::governance::ChangeFile`) and is not served back as a record.
//!
//! Owns: the JSON shape of each record kind (documented in `docs/http-api.md`) and the
//! validation of what a client sent, refused naming the field and the rule. Does not own whether
//! an organisation may write a kind, nor which entries are records (`crate::state`).

use lotline_ledger::coldchain::Reason;
use lotline_ledger::entry::{EntryHash, EntryRef, PayloadKind};
use lotline_ledger::feed::VerifiedEntry;
use lotline_ledger::identity::PublicKey;
use lotline_ledger::records::{
    Excursion, ExcursionAcknowledgement, InspectionResult, MeasuredValue, Measurement, Payload,
    RecallAcknowledgement, RecallClass, RecallNotice, SupervisionFlag, Verdict,
};
use serde_json::{Value, json};

use super::ApiError;
use crate::state::Record;

fn text(record: &Value, field: &str) -> Result<String, ApiError> {
    record.get(field).and_then(Value::as_str).map(str::to_owned).ok_or_else(|| {
        ApiError::Validation(format!("record field {field}: required text is missing"))
    })
}

/// An optional text field: absent or null is empty; any other non-text value is refused.
fn optional_text(record: &Value, field: &str) -> Result<String, ApiError> {
    match record.get(field) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(text)) => Ok(text.clone()),
        Some(_) => {
            Err(ApiError::Validation(format!("record field {field}: a text or null is required")))
        }
    }
}

/// The fields a record of `kind` may carry (`kind` included); `None` for an unknown kind.
fn fields_of(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "recall_notice" => {
            &["kind", "recall_id", "class", "lots", "hazard", "instructions", "scope"]
        }
        "recall_ack" => &["kind", "notice", "recall_id", "action", "quantity_held"],
        "inspection_result" => {
            &["kind", "lots", "test", "verdict", "sampled_at", "report", "values"]
        }
        "excursion" => &["kind", "lots", "measurement", "limit", "observed", "started", "ended"],
        "excursion_ack" => &["kind", "excursion", "reason", "text"],
        "supervision_flag" => &["kind", "subject", "reason", "active"],
        "roster_change" => &["kind", "network", "roster_version", "change", "approvals"],
        _ => return None,
    })
}

/// Refuses a key of `object` that is not in `fields` (a misspelt optional field would otherwise
/// be dropped without a word), naming it as `{path}{key}` and saying what `what` holds.
fn refuse_unknown_keys(
    object: &Value,
    fields: &[&str],
    path: &str,
    what: &str,
) -> Result<(), ApiError> {
    let Some(object) = object.as_object() else {
        return Ok(());
    };
    match object.keys().find(|key| !fields.contains(&key.as_str())) {
        Some(unknown) => Err(ApiError::Validation(format!(
            "record field {path}{unknown}: {what} has no such field (its fields: {})",
            fields.join(", ")
        ))),
        None => Ok(()),
    }
}

fn text_list(record: &Value, field: &str) -> Result<Vec<String>, ApiError> {
    let list = record.get(field).and_then(Value::as_array).ok_or_else(|| {
        ApiError::Validation(format!("record field {field}: a list of identifiers is required"))
    })?;
    let items: Vec<String> = list.iter().filter_map(Value::as_str).map(str::to_owned).collect();
    if items.is_empty() || items.len() != list.len() {
        return Err(ApiError::Validation(format!(
            "record field {field}: a non-empty list of strings is required"
        )));
    }
    Ok(items)
}

/// A record's `lots`: a non-empty list in which every entry is a lot identifier (see
/// [`lotline_ledger::records::check_lot`]), refused naming `lots[i]`.
fn lot_list(record: &Value) -> Result<Vec<String>, ApiError> {
    let lots = text_list(record, "lots")?;
    for (position, lot) in lots.iter().enumerate() {
        lotline_ledger::records::check_lot(lot).map_err(|error| {
            let quoted: String = lot.chars().take(QUOTED_CHARS).collect();
            ApiError::Validation(format!("record field lots[{position}]: {quoted:?} {error}"))
        })?;
    }
    Ok(lots)
}

/// Longest value quoted back in a refusal.
const QUOTED_CHARS: usize = 120;

fn time_ms(record: &Value, field: &str) -> Result<i64, ApiError> {
    let written = text(record, field)?;
    let instant =
        time::OffsetDateTime::parse(&written, &time::format_description::well_known::Rfc3339)
            .map_err(|_| {
                ApiError::Validation(format!(
                    "record field {field}: {written:?} is not an RFC 3339 time"
                ))
            })?;
    Ok(i64::try_from(instant.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX))
}

/// A recall notice's `scope`: the recall-scope query its lots were found with, checked as the
/// `/recall/scope` endpoint checks it, kept as compact JSON text; `None` when absent or null.
fn scope(record: &Value) -> Result<Option<String>, ApiError> {
    let Some(scope) = record.get("scope").filter(|scope| !scope.is_null()) else {
        return Ok(None);
    };
    super::trace::parse_hazard(scope)
        .map_err(|error| ApiError::Validation(format!("record field scope: {error}")))?;
    Ok(Some(scope.to_string()))
}

/// An inspection's `values`: `[{"name": text, "value": number or text, "unit": text}]`
/// (`unit` optional); empty when absent.
fn measurements(record: &Value) -> Result<Vec<Measurement>, ApiError> {
    let Some(values) = record.get("values").filter(|values| !values.is_null()) else {
        return Ok(Vec::new());
    };
    let values = values.as_array().ok_or_else(|| {
        ApiError::Validation("record field values: a list of measured values is required".into())
    })?;
    let problem = |position: usize, field: &str, rule: &str| {
        ApiError::Validation(format!("record field values[{position}].{field}: {rule}"))
    };
    values
        .iter()
        .enumerate()
        .map(|(position, measured)| {
            refuse_unknown_keys(
                measured,
                &["name", "value", "unit"],
                &format!("values[{position}]."),
                "a measured value",
            )?;
            let name = measured
                .get("name")
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .ok_or_else(|| problem(position, "name", "a non-empty text is required"))?;
            let value = match measured.get("value") {
                Some(Value::Number(number)) => number
                    .as_f64()
                    .filter(|number| number.is_finite())
                    .map(MeasuredValue::Number)
                    .ok_or_else(|| problem(position, "value", "a finite number is required"))?,
                Some(Value::String(text)) if !text.trim().is_empty() => {
                    MeasuredValue::Text(text.trim().to_owned())
                }
                _ => {
                    return Err(problem(
                        position,
                        "value",
                        "a number or a non-empty text is required",
                    ));
                }
            };
            let unit = match measured.get("unit") {
                None | Some(Value::Null) => None,
                Some(Value::String(unit)) if !unit.trim().is_empty() => {
                    Some(unit.trim().to_owned())
                }
                Some(_) => {
                    return Err(problem(position, "unit", "a non-empty text or null is required"));
                }
            };
            Ok(Measurement { name: name.to_owned(), value, unit })
        })
        .collect()
}

fn measurement_json(measurement: &Measurement) -> Value {
    let value = match &measurement.value {
        MeasuredValue::Number(number) => json!(number),
        MeasuredValue::Text(text) => json!(text),
    };
    json!({"name": measurement.name, "value": value, "unit": measurement.unit})
}

fn format_ms(time_ms: i64) -> String {
    lotline_ledger::trace::format_time(time_ms)
}

/// The entry a record refers to, `{"author", "sequence", "entry_hash"}` under `field`,
/// refused naming the field and the rule.
fn entry_reference(record: &Value, field: &str, what: &str) -> Result<EntryRef, ApiError> {
    let reference = record.get(field).ok_or_else(|| {
        ApiError::Validation(format!("record field {field}: {what}'s entry is required"))
    })?;
    refuse_unknown_keys(
        reference,
        &["author", "sequence", "entry_hash"],
        &format!("{field}."),
        &format!("{what}'s entry reference"),
    )?;
    let author = PublicKey::from_hex(&text(reference, "author")?)
        .map_err(|error| ApiError::Validation(format!("record field {field}.author: {error}")))?;
    let sequence = reference.get("sequence").and_then(Value::as_u64).ok_or_else(|| {
        ApiError::Validation(format!("record field {field}.sequence: a number is required"))
    })?;
    let entry_hash = EntryHash::from_hex(&text(reference, "entry_hash")?).ok_or_else(|| {
        ApiError::Validation(format!("record field {field}.entry_hash: 64 hex digits are required"))
    })?;
    Ok(EntryRef { author, sequence, entry_hash })
}

/// The words of an excursion acknowledgement's reason (`reason`, and `text` for `other`).
const REASONS: &str = "sensor_lost, assessed, discarded or other";

/// An excursion acknowledgement's `reason` and `text`: `text` says what `other` means and goes
/// with `other` only.
fn acknowledgement_reason(record: &Value) -> Result<Reason, ApiError> {
    let words = optional_text(record, "text")?;
    let reason = match text(record, "reason")?.as_str() {
        "sensor_lost" => Reason::SensorLostOrMalfunctioning,
        "assessed" => Reason::AssessedAndReleased,
        "discarded" => Reason::Discarded,
        "other" if words.trim().is_empty() => {
            return Err(ApiError::Validation(
                "record field text: the reason other says what it is in words".to_owned(),
            ));
        }
        "other" => return Ok(Reason::Other(words.trim().to_owned())),
        other => {
            return Err(ApiError::Validation(format!(
                "record field reason: {other:?} is not {REASONS}"
            )));
        }
    };
    if words.is_empty() {
        Ok(reason)
    } else {
        Err(ApiError::Validation("record field text: words go with the reason other only".into()))
    }
}

/// The JSON `reason` and `text` of an acknowledgement's reason.
fn reason_json(reason: &Reason) -> (&'static str, Option<&str>) {
    match reason {
        Reason::SensorLostOrMalfunctioning => ("sensor_lost", None),
        Reason::AssessedAndReleased => ("assessed", None),
        Reason::Discarded => ("discarded", None),
        Reason::Other(words) => ("other", Some(words.as_str())),
    }
}

/// A record from its JSON form.
pub fn record_from_json(record: &Value) -> Result<Payload, ApiError> {
    if !record.is_object() {
        return Err(ApiError::Validation("a record is a JSON object with a kind".to_owned()));
    }
    let kind = text(record, "kind")?;
    if let Some(fields) = fields_of(&kind) {
        refuse_unknown_keys(record, fields, "", &format!("the {kind} record"))?;
    }
    let payload = match kind.as_str() {
        "recall_notice" => Payload::RecallNotice(RecallNotice {
            recall_id: text(record, "recall_id")?,
            class: match optional_text(record, "class")?.as_str() {
                "I" | "1" | "" => RecallClass::ClassOne,
                "II" | "2" => RecallClass::ClassTwo,
                "III" | "3" => RecallClass::ClassThree,
                other => {
                    return Err(ApiError::Validation(format!(
                        "record field class: {other:?} is not I, II or III"
                    )));
                }
            },
            lots: lot_list(record)?,
            hazard: text(record, "hazard")?,
            instructions: optional_text(record, "instructions")?,
            scope: scope(record)?,
        }),
        "recall_ack" => {
            let notice = record.get("notice").ok_or_else(|| {
                ApiError::Validation(
                    "record field notice: the acknowledged notice's entry is required".to_owned(),
                )
            })?;
            refuse_unknown_keys(
                notice,
                &["author", "sequence", "entry_hash"],
                "notice.",
                "the notice's entry reference",
            )?;
            let author = PublicKey::from_hex(&text(notice, "author")?).map_err(|error| {
                ApiError::Validation(format!("record field notice.author: {error}"))
            })?;
            let sequence = notice.get("sequence").and_then(Value::as_u64).ok_or_else(|| {
                ApiError::Validation(
                    "record field notice.sequence: a number is required".to_owned(),
                )
            })?;
            let entry_hash =
                EntryHash::from_hex(&text(notice, "entry_hash")?).ok_or_else(|| {
                    ApiError::Validation(
                        "record field notice.entry_hash: 64 hex digits are required".to_owned(),
                    )
                })?;
            Payload::RecallAcknowledgement(RecallAcknowledgement {
                notice: EntryRef { author, sequence, entry_hash },
                recall_id: text(record, "recall_id")?,
                action: text(record, "action")?,
                quantity_held: optional_text(record, "quantity_held")?,
            })
        }
        "inspection_result" => Payload::InspectionResult(InspectionResult {
            lots: lot_list(record)?,
            test: text(record, "test")?,
            verdict: match text(record, "verdict")?.as_str() {
                "pass" => Verdict::Pass,
                "fail" => Verdict::Fail,
                "inconclusive" => Verdict::Inconclusive,
                other => {
                    return Err(ApiError::Validation(format!(
                        "record field verdict: {other:?} is not pass, fail or inconclusive"
                    )));
                }
            },
            sampled_at_ms: time_ms(record, "sampled_at")?,
            report: optional_text(record, "report")?,
            measurements: measurements(record)?,
        }),
        "excursion" => {
            let started_ms = time_ms(record, "started")?;
            let ended_ms = if record.get("ended").is_some_and(|ended| !ended.is_null()) {
                Some(time_ms(record, "ended")?)
            } else {
                None
            };
            if ended_ms.is_some_and(|ended_ms| ended_ms < started_ms) {
                return Err(ApiError::Validation(
                    "record field ended: the excursion ends before it started".to_owned(),
                ));
            }
            Payload::Excursion(Excursion {
                lots: lot_list(record)?,
                measurement: text(record, "measurement")?,
                limit: text(record, "limit")?,
                observed: text(record, "observed")?,
                started_ms,
                ended_ms,
                detail: None,
            })
        }
        "excursion_ack" => Payload::ExcursionAcknowledgement(ExcursionAcknowledgement {
            excursion: entry_reference(record, "excursion", "the acknowledged excursion")?,
            reason: acknowledgement_reason(record)?,
        }),
        "supervision_flag" => Payload::SupervisionFlag(SupervisionFlag {
            subject: PublicKey::from_hex(&text(record, "subject")?)
                .map_err(|error| ApiError::Validation(format!("record field subject: {error}")))?,
            reason: text(record, "reason")?,
            active: match record.get("active") {
                None | Some(Value::Null) => true,
                Some(Value::Bool(active)) => *active,
                Some(_) => {
                    return Err(ApiError::Validation(
                        "record field active: true, false or null is required".to_owned(),
                    ));
                }
            },
        }),
        "roster_change" => {
            // The change file governance signed, as `lotline-node governance` writes it; whether
            // it applies (author, version, approvals, the change itself) is the ledger's rule.
            let refused =
                |error: String| ApiError::Validation(format!("roster_change record: {error}"));
            let file = crate::governance::ChangeFile::from_json(record).map_err(refused)?;
            Payload::RosterChange(file.to_roster_change().map_err(refused)?)
        }
        other => {
            return Err(ApiError::Validation(format!(
                "record kind {other:?} is not one of recall_notice, recall_ack, inspection_result, excursion, excursion_ack, supervision_flag, roster_change"
            )));
        }
    };
    Ok(payload)
}

/// The JSON form of a record entry (None for EPCIS events and governance records).
fn record_to_json(entry: &VerifiedEntry) -> Option<Value> {
    let (kind, mut body) = match entry.payload()? {
        Payload::RecallNotice(notice) => (
            "recall_notice",
            json!({
                "recall_id": notice.recall_id,
                "class": match notice.class { RecallClass::ClassOne => "I", RecallClass::ClassTwo => "II", RecallClass::ClassThree => "III" },
                "lots": notice.lots, "hazard": notice.hazard, "instructions": notice.instructions,
                // Written by a node as JSON; shown as text should a peer have signed other text.
                "scope": notice.scope.as_deref().map(|scope| serde_json::from_str::<Value>(scope).unwrap_or_else(|_| json!(scope))),
            }),
        ),
        Payload::RecallAcknowledgement(ack) => (
            "recall_ack",
            json!({"notice": ack.notice, "recall_id": ack.recall_id, "action": ack.action, "quantity_held": ack.quantity_held}),
        ),
        Payload::InspectionResult(result) => (
            "inspection_result",
            json!({
                "lots": result.lots, "test": result.test,
                "verdict": match result.verdict { Verdict::Pass => "pass", Verdict::Fail => "fail", Verdict::Inconclusive => "inconclusive" },
                "sampled_at": format_ms(result.sampled_at_ms), "report": result.report,
                "values": result.measurements.iter().map(measurement_json).collect::<Vec<_>>(),
            }),
        ),
        Payload::Excursion(excursion) => (
            "excursion",
            // The fields as `GET /excursions` writes them (a detected excursion's typed figures
            // after the six every excursion has).
            serde_json::to_value(super::coldchain::excursion_fields(excursion)).ok()?,
        ),
        Payload::ExcursionAcknowledgement(acknowledgement) => {
            let (reason, words) = reason_json(&acknowledgement.reason);
            (
                "excursion_ack",
                json!({"excursion": acknowledgement.excursion, "reason": reason, "text": words}),
            )
        }
        Payload::SupervisionFlag(flag) => (
            "supervision_flag",
            json!({"subject": flag.subject.to_hex(), "reason": flag.reason, "active": flag.active}),
        ),
        _ => return None,
    };
    body["kind"] = json!(kind);
    body["author"] = json!(entry.author().to_hex());
    body["sequence"] = json!(entry.sequence());
    body["entry_hash"] = json!(entry.entry_hash().to_hex());
    body["record_time"] = json!(format_ms(entry.record_time_ms()));
    Some(body)
}

/// The record kind a `GET /records?kind=` names (`None`: a name no record carries).
pub fn kind_named(name: &str) -> Option<PayloadKind> {
    Some(match name {
        "recall_notice" => PayloadKind::RecallNotice,
        "recall_ack" => PayloadKind::RecallAcknowledgement,
        "inspection_result" => PayloadKind::InspectionResult,
        "excursion" => PayloadKind::Excursion,
        "excursion_ack" => PayloadKind::ExcursionAcknowledgement,
        "supervision_flag" => PayloadKind::SupervisionFlag,
        _ => return None,
    })
}

/// A served record as JSON: its fields, its entry's place and time, and its proof once a
/// checkpoint covers it (`None` for a payload that is not a record).
pub fn record_json(record: &Record) -> Option<Value> {
    let mut json = record_to_json(&record.entry)?;
    if let Some(proof) = &record.proof
        && let Ok(proof) = serde_json::to_value(proof)
    {
        json["proof"] = proof;
    }
    Some(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inspection_with(values: Value) -> Value {
        json!({
            "kind": "inspection_result",
            "lots": ["urn:epc:class:lgtin:4012345.012345.L1"],
            "test": "EU 2073/2005",
            "verdict": "fail",
            "sampled_at": "2026-03-01T08:00:00Z",
            "values": values,
        })
    }

    #[test]
    fn unknown_fields_and_wrong_types_are_refused_by_name() {
        let with = |field: &str, value: Value| {
            let mut record = inspection_with(json!([]));
            record[field] = value;
            record
        };
        let message = refusal(&with("reprot", json!("lab sheet 12")));
        assert!(
            message
                .starts_with("record field reprot: the inspection_result record has no such field"),
            "{message}"
        );
        assert!(message.contains("report"), "{message}");
        let message = refusal(&with("report", json!(12)));
        assert_eq!(message, "record field report: a text or null is required");
        let message = refusal(&with("values", json!([{"name": "a", "value": 1, "units": "g"}])));
        assert!(
            message.starts_with("record field values[0].units: a measured value has no such"),
            "{message}"
        );
        // Null stands for absent.
        assert!(record_from_json(&with("report", Value::Null)).is_ok());
        let acknowledgement = json!({
            "kind": "recall_ack", "recall_id": "R-1", "action": "held",
            "notice": {"author": "00", "sequence": 1, "entry_hash": "00", "hash": "00"},
        });
        let message = refusal(&acknowledgement);
        assert!(
            message.starts_with("record field notice.hash: the notice's entry reference has"),
            "{message}"
        );
        let subject = lotline_ledger::identity::Keypair::from_seed([1; 32]).public_key().to_hex();
        let flag =
            json!({"kind": "supervision_flag", "subject": subject, "reason": "r", "active": "yes"});
        assert!(refusal(&flag).contains("record field active"), "{}", refusal(&flag));
        assert_eq!(refusal(&json!(["kind"])), "a record is a JSON object with a kind");
    }

    /// A roster change is read from the change file governance signed; what is malformed is
    /// refused naming the field (whether it applies is the ledger's, at append).
    #[test]
    fn roster_changes_are_read_from_change_files() {
        let key = lotline_ledger::identity::Keypair::from_seed([5; 32]).public_key().to_hex();
        let change = json!({
            "kind": "roster_change", "network": "lettuce-net", "roster_version": 3,
            "change": {"remove": {"key": key}}, "approvals": [],
        });
        let Ok(Payload::RosterChange(read)) = record_from_json(&change) else {
            panic!("a roster change");
        };
        assert_eq!(read.roster_version, 3);
        let mut misspelt = change.clone();
        misspelt["aprovals"] = json!([]);
        let message = refusal(&misspelt);
        assert!(
            message
                .starts_with("record field aprovals: the roster_change record has no such field"),
            "{message}"
        );
        let mut bad_key = change.clone();
        bad_key["change"] = json!({"remove": {"key": "00"}});
        let message = refusal(&bad_key);
        assert!(message.starts_with("roster_change record: change.remove.key"), "{message}");
        let mut bad_signature = change;
        bad_signature["approvals"] = json!([{"key": key, "signature": "00"}]);
        let message = refusal(&bad_signature);
        assert!(message.contains("approvals[0].signature"), "{message}");
    }

    fn refusal(record: &Value) -> String {
        match record_from_json(record) {
            Err(ApiError::Validation(message)) => message,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    /// Measured values are kept typed (numbers as numbers, findings as text, units trimmed)
    /// and served back in the same shape.
    #[test]
    fn measured_values_are_kept_typed() {
        let record = inspection_with(json!([
            {"name": "listeria", "value": "present"},
            {"name": " aflatoxin B1 ", "value": 1.8, "unit": " MC "},
        ]));
        let Ok(Payload::InspectionResult(result)) = record_from_json(&record) else {
            panic!("an inspection result");
        };
        assert_eq!(
            result.measurements,
            [
                Measurement {
                    name: "listeria".to_owned(),
                    value: MeasuredValue::Text("present".to_owned()),
                    unit: None
                },
                Measurement {
                    name: "aflatoxin B1".to_owned(),
                    value: MeasuredValue::Number(1.8),
                    unit: Some("MC".to_owned())
                },
            ]
        );
        let served: Vec<Value> = result.measurements.iter().map(measurement_json).collect();
        assert_eq!(
            served,
            [
                json!({"name": "listeria", "value": "present", "unit": null}),
                json!({"name": "aflatoxin B1", "value": 1.8, "unit": "MC"}),
            ]
        );
        let Ok(Payload::InspectionResult(plain)) = record_from_json(&inspection_with(Value::Null))
        else {
            panic!("an inspection result without values");
        };
        assert!(plain.measurements.is_empty());
    }

    /// A bad measured value or scope is refused naming the field and the rule.
    #[test]
    fn bad_values_and_scopes_are_refused_by_field() {
        for (values, expected) in [
            (json!({"name": "x"}), "record field values: a list"),
            (json!([{"value": 1}]), "record field values[0].name"),
            (json!([{"name": "a", "value": 1}, {"name": "b", "value": {}}]), "values[1].value"),
            (json!([{"name": "a", "value": " "}]), "values[0].value"),
            (json!([{"name": "a", "value": 2, "unit": 3}]), "values[0].unit"),
        ] {
            let message = refusal(&inspection_with(values.clone()));
            assert!(message.contains(expected), "{values}: {message}");
        }
        let notice = |scope: Value| {
            json!({
                "kind": "recall_notice", "recall_id": "R-1", "lots": ["urn:epc:class:lgtin:4012345.012345.L1"],
                "hazard": "listeria", "scope": scope,
            })
        };
        let message = refusal(&notice(json!({"facility": "123"})));
        assert!(message.starts_with("record field scope: facility"), "{message}");
        let Ok(Payload::RecallNotice(kept)) =
            record_from_json(&notice(json!({"lots": ["urn:epc:class:lgtin:4012345.012345.L1"]})))
        else {
            panic!("a recall notice");
        };
        let kept: Value = serde_json::from_str(kept.scope.as_deref().unwrap_or_default()).unwrap();
        assert_eq!(kept, json!({"lots": ["urn:epc:class:lgtin:4012345.012345.L1"]}));
    }

    /// An excursion acknowledgement names the record's entry and a reason; words go with
    /// `other` only, and are required there.
    #[test]
    fn excursion_acknowledgements_are_read_with_their_reason() {
        let author = lotline_ledger::identity::Keypair::from_seed([2; 32]).public_key().to_hex();
        let acknowledgement = |reason: &str, text: Value| {
            json!({
                "kind": "excursion_ack",
                "excursion": {"author": author, "sequence": 4, "entry_hash": "ab".repeat(32)},
                "reason": reason, "text": text,
            })
        };
        let Ok(Payload::ExcursionAcknowledgement(read)) =
            record_from_json(&acknowledgement("sensor_lost", Value::Null))
        else {
            panic!("an excursion acknowledgement");
        };
        assert_eq!(read.reason, Reason::SensorLostOrMalfunctioning);
        assert_eq!(read.excursion.sequence, 4);
        let Ok(Payload::ExcursionAcknowledgement(other)) =
            record_from_json(&acknowledgement("other", json!(" pallet re-chilled ")))
        else {
            panic!("an excursion acknowledgement");
        };
        assert_eq!(other.reason, Reason::Other("pallet re-chilled".to_owned()));
        assert!(refusal(&acknowledgement("other", json!(" "))).starts_with("record field text"));
        assert!(refusal(&acknowledgement("assessed", json!("x"))).starts_with("record field text"));
        assert!(refusal(&acknowledgement("lost", Value::Null)).starts_with("record field reason"));
        let mut unnamed = acknowledgement("discarded", Value::Null);
        unnamed["excursion"]["hash"] = json!("00");
        assert!(refusal(&unnamed).starts_with("record field excursion.hash"));
    }
}
