//! The node's HTTP API (axum): EPCIS 2.0 capture and query, feeds, checkpoints and proofs,
//! trace and recall queries, ledger records, health, metrics and the OpenAPI document.
//!
//! Owns: routing, authentication by bearer token, body limits, reading requests into the
//! ledger side's typed inputs (`epcis`, `trace`, `records`), serialising its typed replies,
//! and turning its errors into problems (`error`). Calls on [`crate::state::Ledger`] run off
//! the async threads, since the store blocks. Does not own any ledger logic; every answer is
//! computed by `Ledger`.
//! **API Boundary**: the routes and JSON shapes are documented in `docs/http-api.md` and served
//! at `/openapi.json`; external tools and the `lotline` client depend on them.

mod body_limit;
mod epcis;
mod error;
mod openapi;
mod records;
mod trace;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lotline_ledger::identity::PublicKey;
use lotline_ledger::proof::Evidence;
use lotline_ledger::trace::{Direction, RecallReply, TraceReply};
use serde::Serialize;

pub use error::ApiError;

use crate::state::{self, Ledger};

/// Largest request body accepted (a capture document); larger ones get a problem+json `413`.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Builds the router over the node's ledger.
pub fn router(ledger: Arc<Ledger>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi_document))
        .route("/roster", get(roster))
        .route("/capture", post(capture).get(capture_jobs))
        .route("/capture/{capture_id}", get(capture_job))
        .route("/events", get(events))
        .route("/events/{event_id}", get(event))
        .route("/events/{event_id}/proof", get(event_proof))
        .route("/feeds", get(feeds))
        .route("/feeds/{author}/entries", get(feed_entries))
        .route("/feeds/{author}/checkpoint", get(feed_checkpoint))
        .route("/forks", get(forks))
        .route("/trace/back", get(trace_back))
        .route("/trace/forward", get(trace_forward))
        .route("/recall/scope", post(recall_scope))
        .route("/records", post(append_record).get(records))
        // Streaming limit for bodies without `Content-Length` (chunked); the middleware below
        // refuses declared oversized bodies before they are read and gives both one answer.
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(body_limit::reject_oversized_bodies))
        .with_state(ledger)
}

/// Runs blocking ledger work off the async threads.
async fn blocking<T, F>(ledger: &Arc<Ledger>, work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Ledger) -> Result<T, ApiError> + Send + 'static,
{
    let ledger = Arc::clone(ledger);
    tokio::task::spawn_blocking(move || work(&ledger))
        .await
        .map_err(|error| ApiError::Internal(format!("worker failed: {error}")))?
}

fn require_token(ledger: &Ledger, headers: &HeaderMap) -> Result<(), ApiError> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default();
    if ledger.token_matches(presented) { Ok(()) } else { Err(ApiError::Unauthorized) }
}

/// An organisation key named in a path (`/feeds/{author}/...`); a malformed one names no feed.
fn parse_author(author: &str) -> Result<PublicKey, ApiError> {
    PublicKey::from_hex(author).map_err(|_| {
        ApiError::NotFound(format!("{author:?} is not an organisation key (64 hex digits)"))
    })
}

async fn index() -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "resources": ["/capture", "/events", "/feeds", "/trace/back", "/trace/forward",
                      "/recall/scope", "/records", "/roster", "/health", "/metrics", "/openapi.json"]
    }))
}

/// `GET /health`: the ledger's view and the peers connected now.
#[derive(Debug, Serialize)]
struct HealthReply {
    /// What the ledger side reports.
    #[serde(flatten)]
    health: state::Health,
    /// Peers connected now.
    peers: usize,
}

async fn health(State(ledger): State<Arc<Ledger>>) -> Result<Json<HealthReply>, ApiError> {
    let peers = ledger.connected_peer_count().await;
    let health = blocking(&ledger, |ledger| Ok(ledger.health())).await?;
    Ok(Json(HealthReply { health, peers }))
}

async fn metrics(State(ledger): State<Arc<Ledger>>) -> Result<Response, ApiError> {
    let peers = ledger.connected_peer_count().await;
    let gauges = blocking(&ledger, |ledger| Ok(ledger.gauges())).await?;
    let text = crate::metrics::exposition(&gauges, peers);
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response())
}

async fn openapi_document() -> Json<serde_json::Value> {
    Json(openapi::document())
}

async fn roster(State(ledger): State<Arc<Ledger>>) -> Json<state::Roster> {
    Json(ledger.roster())
}

async fn capture(
    State(ledger): State<Arc<Ledger>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    require_token(&ledger, &headers)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("application/ld+json");
    let format = epcis::binding_of(content_type)?;
    let ledger = Arc::clone(&ledger);
    let job = tokio::task::spawn_blocking(move || ledger.capture(&body, format))
        .await
        .map_err(|error| ApiError::Internal(format!("capture worker failed: {error}")))??;
    let location = format!("/capture/{}", job.capture_id);
    Ok((StatusCode::ACCEPTED, [(header::LOCATION, location)], Json(job)).into_response())
}

async fn capture_jobs(State(ledger): State<Arc<Ledger>>) -> Json<Vec<state::CaptureJob>> {
    Json(ledger.capture_jobs())
}

async fn capture_job(
    State(ledger): State<Arc<Ledger>>,
    Path(capture_id): Path<String>,
) -> Result<Json<state::CaptureJob>, ApiError> {
    ledger
        .capture_job(&capture_id)
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no capture job {capture_id}")))
}

async fn events(
    State(ledger): State<Arc<Ledger>>,
    Query(parameters): Query<BTreeMap<String, String>>,
) -> Result<Response, ApiError> {
    let query = state::EventQuery::parse(
        parameters.iter().map(|(name, value)| (name.as_str(), value.as_str())),
    )?;
    let (document, next_page_token) = blocking(&ledger, move |ledger| {
        let page = ledger.query_events(&query)?;
        Ok((epcis::query_document(&page), page.next_page_token))
    })
    .await?;
    let mut response = Json(&document).into_response();
    if let Some(token) = &next_page_token {
        let link = format!("</events?{}>; rel=\"next\"", epcis::next_query(&parameters, token));
        if let Ok(value) = header::HeaderValue::from_str(&link) {
            response.headers_mut().insert(header::LINK, value);
        }
    }
    Ok(response)
}

async fn event(
    State(ledger): State<Arc<Ledger>>,
    Path(event_id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    blocking(&ledger, move |ledger| Ok(epcis::event_json(&ledger.event(&event_id)?)))
        .await
        .map(Json)
}

async fn event_proof(
    State(ledger): State<Arc<Ledger>>,
    Path(event_id): Path<String>,
) -> Result<Json<Evidence>, ApiError> {
    blocking(&ledger, move |ledger| Ok(ledger.event_proof(&event_id)?)).await.map(Json)
}

async fn feeds(
    State(ledger): State<Arc<Ledger>>,
) -> Result<Json<Vec<state::FeedSummary>>, ApiError> {
    blocking(&ledger, |ledger| Ok(ledger.feeds())).await.map(Json)
}

/// Query of `/feeds/{author}/entries`.
#[derive(Debug, serde::Deserialize)]
struct RangeQuery {
    /// First sequence number.
    #[serde(default)]
    from: u64,
    /// How many entries (capped).
    #[serde(default = "default_range_limit")]
    limit: u64,
}

fn default_range_limit() -> u64 {
    100
}

async fn feed_entries(
    State(ledger): State<Arc<Ledger>>,
    Path(author): Path<String>,
    Query(range): Query<RangeQuery>,
) -> Result<Json<state::FeedEntries>, ApiError> {
    let author = parse_author(&author)?;
    blocking(&ledger, move |ledger| Ok(ledger.entries(&author, range.from, range.limit)?))
        .await
        .map(Json)
}

async fn feed_checkpoint(
    State(ledger): State<Arc<Ledger>>,
    Path(author): Path<String>,
) -> Result<Response, ApiError> {
    let author = parse_author(&author)?;
    let note = blocking(&ledger, move |ledger| Ok(ledger.checkpoint_note(&author)?)).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], note).into_response())
}

async fn forks(
    State(ledger): State<Arc<Ledger>>,
) -> Result<Json<Vec<lotline_ledger::fork::ForkProof>>, ApiError> {
    blocking(&ledger, |ledger| Ok(ledger.forks()?)).await.map(Json)
}

/// Query of the trace endpoints.
#[derive(Debug, serde::Deserialize)]
struct TraceQuery {
    /// A Digital Link, an EPC URN, or `GTIN/LOT`.
    id: String,
}

async fn trace_back(
    State(ledger): State<Arc<Ledger>>,
    Query(query): Query<TraceQuery>,
) -> Result<Json<TraceReply>, ApiError> {
    trace_in(ledger, &query.id, Direction::Back).await
}

async fn trace_forward(
    State(ledger): State<Arc<Ledger>>,
    Query(query): Query<TraceQuery>,
) -> Result<Json<TraceReply>, ApiError> {
    trace_in(ledger, &query.id, Direction::Forward).await
}

async fn trace_in(
    ledger: Arc<Ledger>,
    id: &str,
    direction: Direction,
) -> Result<Json<TraceReply>, ApiError> {
    let subject = trace::parse_subject(id)?;
    blocking(&ledger, move |ledger| Ok(ledger.trace(&subject, direction)?)).await.map(Json)
}

async fn recall_scope(
    State(ledger): State<Arc<Ledger>>,
    Json(hazard): Json<serde_json::Value>,
) -> Result<Json<RecallReply>, ApiError> {
    let hazard = trace::parse_hazard(&hazard)?;
    blocking(&ledger, move |ledger| Ok(ledger.recall_scope(&hazard)?)).await.map(Json)
}

async fn append_record(
    State(ledger): State<Arc<Ledger>>,
    headers: HeaderMap,
    Json(record): Json<serde_json::Value>,
) -> Result<Response, ApiError> {
    require_token(&ledger, &headers)?;
    let payload = records::record_from_json(&record)?;
    let appended = blocking(&ledger, move |ledger| Ok(ledger.append_record(payload)?)).await?;
    Ok((StatusCode::CREATED, Json(appended)).into_response())
}

/// Query of `GET /records`.
#[derive(Debug, serde::Deserialize)]
struct RecordsQuery {
    /// Only records of this kind (`recall_notice`, `inspection_result`, ...).
    kind: Option<String>,
}

async fn records(
    State(ledger): State<Arc<Ledger>>,
    Query(query): Query<RecordsQuery>,
) -> Result<Json<Vec<serde_json::Value>>, ApiError> {
    let kind = match query.kind.as_deref() {
        None => None,
        Some(name) => match records::kind_named(name) {
            Some(kind) => Some(kind),
            // A kind no record carries: nothing matches.
            None => return Ok(Json(Vec::new())),
        },
    };
    blocking(&ledger, move |ledger| {
        let records = ledger.records(kind)?;
        Ok(records.iter().filter_map(records::record_json).collect())
    })
    .await
    .map(Json)
}
