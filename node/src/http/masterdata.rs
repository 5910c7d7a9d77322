//! The HTTP side of master data: `GET /vocabularies` (the EPCIS `SimpleMasterDataQuery` over
//! the statements in force, answered as an `EPCISQueryDocument` whose results are a
//! `vocabularyList`) and `GET /vocabularies/history` (every statement about one identifier,
//! each with its author and entry).
//!
//! Owns: these routes, their OpenAPI descriptions, and the JSON-LD of an answer: each
//! vocabulary element carries who said it as `lotline:` fields (author, sequence, entry hash,
//! record time) so a reader can fetch and verify the signed entry. Does not own the query's
//! parameters or which statements match (`crate::state`), nor statements' form
//! (`lotline_ledger::masterdata`). Master data is captured through `POST /capture`.
//!
//! EPCIS 2.0's REST binding defines no master-data resource; the standard's query interface
//! does (`SimpleMasterDataQuery`), and these routes read its parameters as query parameters.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use lotline_ledger::epcis;
use lotline_ledger::masterdata::Described;
use serde_json::{Map, Value, json};

use super::{ApiError, blocking, openapi};
use crate::state::{self, Ledger, MasterDataQuery, Vocabularies};

/// The JSON-LD namespace of the fields this node adds to a vocabulary element.
pub const LOTLINE_NAMESPACE: &str = "https://lotline.dev/ns/";

/// A record time as RFC 3339 UTC.
fn format_time(time_ms: i64) -> String {
    lotline_ledger::trace::format_time(time_ms)
}

/// An attribute value as JSON: a value that is a JSON object or array (how a structured value,
/// an address, is kept) is given as that JSON, any other as text.
fn attribute_value(value: &str) -> Value {
    if value.starts_with(['{', '[']) {
        if let Ok(structured) = serde_json::from_str::<Value>(value) {
            return structured;
        }
    }
    Value::String(value.to_owned())
}

/// One vocabulary element as the EPCIS JSON-LD binding writes it, with who said it.
fn element_json(described: &Described) -> Value {
    let statement = &described.statement;
    let mut element = Map::new();
    element.insert("id".to_owned(), json!(statement.id));
    if !statement.attributes.is_empty() {
        let attributes: Vec<Value> = statement
            .attributes
            .iter()
            .map(|attribute| {
                json!({"id": attribute.id, "attribute": attribute_value(&attribute.value)})
            })
            .collect();
        element.insert("attributes".to_owned(), Value::Array(attributes));
    }
    if !statement.children.is_empty() {
        element.insert("children".to_owned(), json!(statement.children));
    }
    element.insert("lotline:author".to_owned(), json!(described.entry.author.to_hex()));
    element.insert("lotline:sequence".to_owned(), json!(described.entry.sequence));
    element.insert("lotline:entryHash".to_owned(), json!(described.entry.entry_hash.to_hex()));
    element.insert("lotline:recordTime".to_owned(), json!(format_time(described.record_time_ms)));
    Value::Object(element)
}

/// The `EPCISQueryDocument` answering a `SimpleMasterDataQuery`.
pub fn query_document(answer: &Vocabularies) -> Value {
    let vocabulary_list: Vec<Value> = answer
        .vocabularies
        .iter()
        .map(|vocabulary| {
            json!({
                "type": vocabulary.vocabulary_type.uri(),
                "vocabularyElementList":
                    vocabulary.elements.iter().map(element_json).collect::<Vec<_>>(),
            })
        })
        .collect();
    let creation_date = epcis::Timestamp::from_instant(time::OffsetDateTime::now_utc());
    let mut document =
        epcis::query_document_envelope("SimpleMasterDataQuery", creation_date.as_str(), Vec::new());
    document["epcisBody"]["queryResults"]["resultsBody"] =
        json!({ "vocabularyList": vocabulary_list });
    let namespace = json!({ "lotline": LOTLINE_NAMESPACE });
    match document.get_mut("@context") {
        Some(Value::Array(context)) => context.push(namespace),
        Some(context) => *context = json!([context.clone(), namespace]),
        None => document["@context"] = json!([namespace]),
    }
    document
}

#[utoipa::path(
    get,
    path = "/vocabularies",
    tag = "epcis",
    summary = "Master data in force (SimpleMasterDataQuery), with who said what",
    description = "The statements in force of every replicated feed (each organisation's latest \
        about an identifier in a vocabulary), as an EPCISQueryDocument whose results are a \
        `vocabularyList`; each element names its author and entry (`lotline:` fields). List \
        values are separated by `|`; every parameter given must hold.",
    params(openapi::MasterDataQueryParameters),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The matching vocabulary elements", body = openapi::EpcisQueryDocument),
        (status = 400, description = "a parameter is unknown or malformed (QueryParameterException, names it)", body = openapi::Problem, content_type = "application/problem+json"),
        (status = 413, description = "the query matches more elements than `maxElementCount` or the node allows (QueryTooLargeException)", body = openapi::Problem, content_type = "application/problem+json"),
        openapi::Fault,
        openapi::QueryUnauthorized,
    )
)]
pub(super) async fn vocabularies(
    State(ledger): State<Arc<Ledger>>,
    parameters: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(parameters) = parameters?;
    let query = MasterDataQuery::parse(
        parameters.iter().map(|(name, value)| (name.as_str(), value.as_str())),
    )?;
    let answer = blocking(&ledger, move |ledger| Ok(ledger.query_master_data(&query)?)).await?;
    Ok(Json(query_document(&answer)))
}

/// Query of `GET /vocabularies/history`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct HistoryQuery {
    /// The identifier: an EPC URN or a GS1 Digital Link (any host).
    id: String,
}

#[utoipa::path(
    get,
    path = "/vocabularies/history",
    tag = "epcis",
    summary = "Every master-data statement about one identifier, with its author and entry",
    params(HistoryQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The current statement and the whole history, oldest first", body = state::MasterDataHistory),
        (status = 400, description = "`id` is missing (QueryParameterException)", body = openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "no statement about this identifier on this node", body = openapi::Problem, content_type = "application/problem+json"),
        openapi::Fault,
        openapi::QueryUnauthorized,
    )
)]
pub(super) async fn vocabulary_history(
    State(ledger): State<Arc<Ledger>>,
    query: Result<Query<HistoryQuery>, QueryRejection>,
) -> Result<Json<state::MasterDataHistory>, ApiError> {
    let Query(HistoryQuery { id }) = query?;
    let history = blocking(&ledger, move |ledger| Ok(ledger.master_data_history(&id))).await?;
    if history.history.is_empty() {
        return Err(ApiError::NotFound(format!(
            "no master-data statement about {} on this node",
            history.id
        )));
    }
    Ok(Json(history))
}
