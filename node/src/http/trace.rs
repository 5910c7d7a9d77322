//! What a client names in a trace or recall request, read into the ledger's query inputs:
//! the `id` of `/trace/*` into a [`Subject`], the body of `POST /recall/scope` (and a recall
//! notice's `scope`) into a [`Hazard`].
//!
//! Owns: the accepted JSON shapes (unknown and conflicting keys refused) and the
//! `QueryParameterException` texts naming the broken field. Does not own what a subject or a GTIN is (`lotline_ledger::trace::subject`) nor the
//! walk itself (`crate::state`).

use lotline_ledger::trace::{self, Hazard, Subject, TimeWindow};
use serde_json::Value;

use super::ApiError;

/// Parses a trace identifier (see [`Subject::parse`]: a Digital Link, an EPC URN, or
/// `GTIN/LOT`), refused as the `id` parameter.
pub fn parse_subject(written: &str) -> Result<Subject, ApiError> {
    Subject::parse(written).map_err(|error| ApiError::QueryParameter(format!("id: {error}")))
}

fn window_of(hazard: &Value) -> Result<TimeWindow, ApiError> {
    TimeWindow::parse(hazard["from"].as_str(), hazard["to"].as_str())
        .map_err(|error| ApiError::QueryParameter(format!("window: {error}")))
}

/// The keys a hazard may hold: one of the three kinds, and the window of the last two.
const HAZARD_KEYS: [&str; 5] = ["lots", "facility", "ingredient", "from", "to"];

/// Parses `{"lots": [...]}`, `{"facility": GLN, "from", "to"}` or `{"ingredient": GTIN, ...}`.
/// A key outside these, or two kinds at once, is refused naming the key: a hazard never
/// silently matches other lots than asked.
pub fn parse_hazard(hazard: &Value) -> Result<Hazard, ApiError> {
    if let Some(object) = hazard.as_object() {
        if let Some(unknown) = object.keys().find(|key| !HAZARD_KEYS.contains(&key.as_str())) {
            return Err(ApiError::QueryParameter(format!(
                "{unknown}: is not a hazard field (a hazard has lots, or facility or ingredient with from and to)"
            )));
        }
        let kinds: Vec<&str> = ["lots", "facility", "ingredient"]
            .into_iter()
            .filter(|kind| object.contains_key(*kind))
            .collect();
        if let [first, second, ..] = kinds.as_slice() {
            return Err(ApiError::QueryParameter(format!(
                "{second}: conflicts with {first}: a hazard names one of lots, facility, ingredient"
            )));
        }
    }
    if let Some(lots) = hazard.get("lots") {
        let lots = lots.as_array().ok_or_else(|| {
            ApiError::QueryParameter("lots: must be a list of identifiers".to_owned())
        })?;
        let subjects = lots
            .iter()
            .map(|lot| parse_subject(lot.as_str().unwrap_or_default()))
            .collect::<Result<Vec<_>, _>>()?;
        if subjects.is_empty() {
            return Err(ApiError::QueryParameter("lots: name at least one lot".to_owned()));
        }
        return Ok(Hazard::Lots(subjects));
    }
    if let Some(gln) = hazard.get("facility").and_then(Value::as_str) {
        let gln = gln.trim();
        if gln.len() != 13 || lotline_ledger::gs1::check_digit::verify_mod10(gln).is_err() {
            return Err(ApiError::QueryParameter(format!(
                "facility: {gln:?} is not a 13-digit GLN with a valid check digit"
            )));
        }
        return Ok(Hazard::Facility { gln: gln.to_owned(), window: window_of(hazard)? });
    }
    if let Some(gtin) = hazard.get("ingredient").and_then(Value::as_str) {
        let gtin = trace::subject::normalise_gtin(gtin)
            .map_err(|error| ApiError::QueryParameter(format!("ingredient: {error}")))?;
        return Ok(Hazard::Ingredient { gtin, window: window_of(hazard)? });
    }
    Err(ApiError::QueryParameter(
        "a hazard is {\"lots\": [...]}, {\"facility\": GLN, \"from\", \"to\"} or {\"ingredient\": GTIN, \"from\", \"to\"}"
            .to_owned(),
    ))
}
