//! `GET /excursions?lot=`: the excursion records about a lot (those in force, withdrawals,
//! and superseded ones listed as such, each with its entry so a reader can fetch and verify
//! it), those of the lots it traces back to (an excursion follows the goods through
//! transformations), the lot's temperature profile, and the state of each device that
//! travelled with it ("out of range now", kept apart from the breached rules the records
//! state). Also the JSON of an excursion record's fields, shared with `GET /records`.
//!
//! Owns reading the `lot` parameter (refused naming it) and the JSON shapes. Does not own what
//! the book holds (`lotline_ledger::coldchain::book`), the lot graph (`lotline_ledger::trace`),
//! detection or signing (`crate::coldchain`).

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use lotline_ledger::coldchain::book::{self, ExcursionRecord, Standing};
use lotline_ledger::coldchain::{Bound, RuleKind, scan};
use lotline_ledger::entry::EntryRef;
use lotline_ledger::gs1::{self, Identifier};
use lotline_ledger::records;
use lotline_ledger::trace::{Direction, Subject, format_time};
use serde::Serialize;

use super::{ApiError, blocking, openapi};
use crate::state::Ledger;

/// Query of `GET /excursions`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ExcursionsQuery {
    /// The lot: a Digital Link, an LGTIN URN, or `GTIN/LOT`.
    #[param(min_length = 1)]
    lot: String,
}

/// The answer of `GET /excursions`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExcursionsReply {
    /// The lot, as its canonical Digital Link.
    pub lot: String,
    /// The temperature profile master data names for the lot (`urn:lotline:mda:temperatureProfile`
    /// on the product class or the lot), if any.
    pub profile: Option<String>,
    /// Every excursion record about the lot, in the order the node learnt of them.
    pub excursions: Vec<ExcursionJson>,
    /// Every excursion record about the lots this one traces back to (what it was made from,
    /// the lots it was aggregated or shipped with before), each naming that lot: an excursion
    /// follows the goods through transformations.
    pub upstream: Vec<UpstreamExcursion>,
    /// Each device series that travelled with the lot.
    pub devices: Vec<DeviceJson>,
}

/// One excursion record with where it stands.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExcursionJson {
    /// The entry carrying the record (fetch `/feeds/{author}/entries` to verify it).
    pub entry: EntryRef,
    /// The entry's record time (RFC 3339 UTC).
    pub record_time: String,
    /// `current` (in force), `superseded` (a later record of its author corrects or withdraws
    /// it) or `withdrawal` (it says the excursion it supersedes no longer holds).
    pub standing: &'static str,
    /// The record superseding this one, when superseded.
    pub superseded_by: Option<EntryRef>,
    /// The record's fields.
    #[serde(flatten)]
    pub fields: ExcursionFields,
}

/// The fields of an excursion record as JSON (also served by `GET /records`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExcursionFields {
    /// Lots affected.
    pub lots: Vec<String>,
    /// What was measured.
    pub measurement: String,
    /// The rule and limits applied, in words.
    pub limit: String,
    /// The worst value observed, in words.
    pub observed: String,
    /// Start (RFC 3339 UTC).
    pub started: String,
    /// End (RFC 3339 UTC); `null` while ongoing.
    pub ended: Option<String>,
    /// The device whose readings these are (detected excursions only, as the rest below).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// The detected excursion's id (32 hex digits).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excursion_id: Option<String>,
    /// The rule applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<RuleJson>,
    /// Time known to be beyond the bound, ms (gaps excluded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<i64>,
    /// Lowest reading beyond the bound, °C.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_celsius: Option<f64>,
    /// Highest reading beyond the bound, °C.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_celsius: Option<f64>,
    /// Mean of the readings beyond the bound, °C.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean_celsius: Option<f64>,
    /// Readings beyond the bound.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readings: Option<u64>,
    /// Gaps in the logging inside the excursion (reported, never bridged).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gaps: Option<u32>,
    /// Their total length, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gap_ms: Option<i64>,
    /// The record this one corrects or withdraws.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<EntryRef>,
    /// `true`: the superseded excursion no longer holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<bool>,
}

/// An alarm rule.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RuleJson {
    /// `single_event` or `cumulative`.
    pub kind: &'static str,
    /// `above` or `below`.
    pub bound: &'static str,
    /// The threshold, °C (a reading equal to it is not beyond).
    pub threshold_celsius: f64,
    /// Breached when the time beyond is longer than this, ms.
    pub longer_than_ms: i64,
}

/// An excursion record about a lot the asked lot traces back to.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UpstreamExcursion {
    /// The upstream lot (canonical Digital Link).
    pub upstream_lot: String,
    /// The record.
    #[serde(flatten)]
    pub excursion: ExcursionJson,
}

/// One device series that travelled with the lot.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeviceJson {
    /// The device.
    pub device: String,
    /// The organisation that signed its readings (hex key): only it signs excursions for them.
    pub signer: String,
    /// What the readings' events observed (canonical Digital Links).
    pub carried: Vec<String>,
    /// Readings held.
    pub readings: usize,
    /// First reading (RFC 3339 UTC).
    pub first: Option<String>,
    /// Last reading (RFC 3339 UTC).
    pub last: Option<String>,
    /// The last reading, °C.
    pub last_celsius: Option<f64>,
    /// The last reading is outside the profile's limits ("out of range now"; whether a rule
    /// was breached is what the excursion records say).
    pub out_of_range_now: Option<bool>,
    /// Gaps in the logging (start and end, RFC 3339 UTC): never bridged.
    pub gaps: Vec<(String, String)>,
}

/// The JSON of an excursion record's fields.
pub fn excursion_fields(excursion: &records::Excursion) -> ExcursionFields {
    let detail = excursion.detail.as_ref();
    ExcursionFields {
        lots: excursion.lots.clone(),
        measurement: excursion.measurement.clone(),
        limit: excursion.limit.clone(),
        observed: excursion.observed.clone(),
        started: format_time(excursion.started_ms),
        ended: excursion.ended_ms.map(format_time),
        device: detail.map(|detail| detail.device.clone()),
        excursion_id: detail.map(|detail| detail.excursion_id.to_string()),
        rule: detail.map(|detail| RuleJson {
            kind: match detail.rule.kind {
                RuleKind::SingleEvent => "single_event",
                RuleKind::Cumulative => "cumulative",
            },
            bound: match detail.rule.bound {
                Bound::Above(_) => "above",
                Bound::Below(_) => "below",
            },
            threshold_celsius: match detail.rule.bound {
                Bound::Above(threshold) | Bound::Below(threshold) => threshold,
            },
            longer_than_ms: detail.rule.longer_than_ms,
        }),
        duration_ms: detail.map(|detail| detail.duration_ms),
        min_celsius: detail.map(|detail| detail.min_celsius),
        max_celsius: detail.map(|detail| detail.max_celsius),
        mean_celsius: detail.map(|detail| detail.mean_celsius),
        readings: detail.map(|detail| detail.readings),
        gaps: detail.map(|detail| detail.gaps),
        gap_ms: detail.map(|detail| detail.gap_ms),
        supersedes: detail.and_then(|detail| detail.supersedes),
        withdrawn: detail.map(|detail| detail.withdrawn),
    }
}

fn excursion_json(record: &ExcursionRecord) -> ExcursionJson {
    ExcursionJson {
        entry: record.entry,
        record_time: format_time(record.record_time_ms),
        standing: match record.standing() {
            Standing::Current => "current",
            Standing::Superseded => "superseded",
            Standing::Withdrawal => "withdrawal",
        },
        superseded_by: record.superseded_by,
        fields: excursion_fields(&record.excursion),
    }
}

/// The lot a `lot` parameter names.
fn parse_lot(written: &str) -> Result<Subject, ApiError> {
    let subject = Subject::parse(written)
        .map_err(|error| ApiError::QueryParameter(format!("lot: {error}")))?;
    match gs1::classify(subject.link()) {
        Some(Identifier::Lot { .. }) => Ok(subject),
        _ => Err(ApiError::QueryParameter(format!(
            "lot: {written:?} names an item or a logistic unit, not a lot (a Digital Link with a GTIN and a lot, like https://id.gs1.org/01/09506000134352/10/L1)"
        ))),
    }
}

#[utoipa::path(
    get,
    path = "/excursions",
    tag = "trace",
    summary = "A lot's excursion records (in force, withdrawn, superseded) with their entries, and the state of its devices",
    params(ExcursionsQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The excursion records about the lot and its devices", body = ExcursionsReply),
        (status = 400, description = "`lot` names no lot", body = openapi::Problem, content_type = "application/problem+json"),
        openapi::Fault,
        openapi::QueryUnauthorized,
        openapi::Busy,
    )
)]
pub(super) async fn excursions(
    State(ledger): State<Arc<Ledger>>,
    query: Result<Query<ExcursionsQuery>, QueryRejection>,
) -> Result<Json<ExcursionsReply>, ApiError> {
    let Query(query) = query?;
    let lot = parse_lot(&query.lot)?;
    blocking(&ledger, move |ledger| Ok(excursions_of(ledger, lot))).await.map(Json)
}

/// The answer about `subject` (a lot). Blocks (walks the lot graph, reads the book).
fn excursions_of(ledger: &Ledger, subject: Subject) -> ExcursionsReply {
    let lot = subject.link().to_owned();
    let traced = ledger.trace_answer(&subject, Direction::Back);
    let profile =
        book::profile_of(&lot, |id| ledger.master_data(id).map(|described| described.statement));
    let cold_chain = ledger.cold_chain();
    let book = cold_chain.book();
    let excursions = book.excursions_of(&lot).into_iter().map(excursion_json).collect();
    let upstream = traced
        .lots
        .iter()
        .map(|upstream_lot| upstream_lot.to_string())
        .filter(|upstream_lot| *upstream_lot != lot)
        .flat_map(|upstream_lot| {
            book.excursions_of(&upstream_lot)
                .into_iter()
                .map(|record| UpstreamExcursion {
                    upstream_lot: upstream_lot.clone(),
                    excursion: excursion_json(record),
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let devices = book
        .series_of_lot(&lot)
        .into_iter()
        .map(|(key, series)| {
            let first = series.readings.first_key_value().map(|(time, _)| *time);
            let last = series.readings.last_key_value().map(|(_, sample)| *sample);
            let samples = series.samples();
            DeviceJson {
                device: key.device.clone(),
                signer: key.signer.to_hex(),
                carried: key.carried.iter().chain(&series.units).cloned().collect(),
                readings: series.readings.len(),
                first: first.map(format_time),
                last: last.map(|sample| format_time(sample.time_ms)),
                last_celsius: last.map(|sample| sample.celsius),
                out_of_range_now: profile
                    .as_ref()
                    .zip(last)
                    .map(|(profile, sample)| !profile.limits.contains(sample.celsius)),
                gaps: crate::coldchain::config_of(series)
                    .map(|config| scan::gaps(&samples, config))
                    .unwrap_or_default()
                    .into_iter()
                    .map(|gap| (format_time(gap.start_ms), format_time(gap.end_ms)))
                    .collect(),
            }
        })
        .collect();
    ExcursionsReply {
        lot,
        profile: profile.map(|profile| profile.name),
        excursions,
        upstream,
        devices,
    }
}
