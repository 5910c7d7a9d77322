//! The node's HTTP API (axum): EPCIS 2.0 capture and query, feeds, checkpoints and proofs,
//! trace and recall queries, ledger records, health, metrics and the OpenAPI document.
//!
//! Owns: routing, authentication by bearer token, body limits, and turning requests into calls
//! on [`crate::state::State`] (always off the async threads, since the store blocks).
//! Does not own: any ledger logic; every answer is computed by `State`.
//! **API Boundary**: the routes and JSON shapes are documented in `docs/http-api.md` and served
//! at `/openapi.json`; external tools and the `lotline` client depend on them.

mod body_limit;
mod error;
mod openapi;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State as AxumState};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

pub use error::ApiError;

use crate::state::State;

/// Largest request body accepted (a capture document); larger ones get a problem+json `413`.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Builds the router over the node's state.
pub fn router(state: Arc<State>) -> Router {
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
        .with_state(state)
}

/// Runs blocking ledger work off the async threads.
async fn blocking<T, F>(state: &Arc<State>, work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&State) -> Result<T, ApiError> + Send + 'static,
{
    let state = Arc::clone(state);
    tokio::task::spawn_blocking(move || work(&state))
        .await
        .map_err(|error| ApiError::Internal(format!("worker failed: {error}")))?
}

fn require_token(state: &State, headers: &HeaderMap) -> Result<(), ApiError> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default();
    if state.token_matches(presented) { Ok(()) } else { Err(ApiError::Unauthorized) }
}

async fn index() -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "resources": ["/capture", "/events", "/feeds", "/trace/back", "/trace/forward",
                      "/recall/scope", "/records", "/roster", "/health", "/metrics", "/openapi.json"]
    }))
}

async fn health(
    AxumState(state): AxumState<Arc<State>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let peers = state.connected_peer_count().await;
    let summary = blocking(&state, |state| Ok(state.health())).await?;
    let mut summary = summary;
    summary["peers"] = serde_json::json!(peers);
    Ok(Json(summary))
}

async fn metrics(AxumState(state): AxumState<Arc<State>>) -> Result<Response, ApiError> {
    let peers = state.connected_peer_count().await;
    let mut text = blocking(&state, move |state| Ok(state.metrics_text(peers))).await?;
    crate::metrics::render(&mut text);
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response())
}

async fn openapi_document() -> Json<serde_json::Value> {
    Json(openapi::document())
}

async fn roster(AxumState(state): AxumState<Arc<State>>) -> Json<serde_json::Value> {
    Json(state.roster_json())
}

async fn capture(
    AxumState(state): AxumState<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    require_token(&state, &headers)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("application/ld+json")
        .to_owned();
    let job = state.capture(body.to_vec(), content_type).await?;
    let location = format!("/capture/{}", job.capture_id);
    Ok((StatusCode::ACCEPTED, [(header::LOCATION, location)], Json(job)).into_response())
}

async fn capture_jobs(
    AxumState(state): AxumState<Arc<State>>,
) -> Json<Vec<crate::state::CaptureJob>> {
    Json(state.capture_jobs())
}

async fn capture_job(
    AxumState(state): AxumState<Arc<State>>,
    Path(capture_id): Path<String>,
) -> Result<Json<crate::state::CaptureJob>, ApiError> {
    state
        .capture_job(&capture_id)
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no capture job {capture_id}")))
}

async fn events(
    AxumState(state): AxumState<Arc<State>>,
    Query(parameters): Query<BTreeMap<String, String>>,
) -> Result<Response, ApiError> {
    let page = blocking(&state, move |state| state.query_events(&parameters)).await?;
    let mut response = Json(&page.document).into_response();
    if let Some(token) = &page.next_page_token {
        let link = format!("</events?{}>; rel=\"next\"", page.next_query(token));
        if let Ok(value) = header::HeaderValue::from_str(&link) {
            response.headers_mut().insert(header::LINK, value);
        }
    }
    Ok(response)
}

async fn event(
    AxumState(state): AxumState<Arc<State>>,
    Path(event_id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    blocking(&state, move |state| state.event_json(&event_id)).await.map(Json)
}

async fn event_proof(
    AxumState(state): AxumState<Arc<State>>,
    Path(event_id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    blocking(&state, move |state| state.event_proof(&event_id)).await.map(Json)
}

async fn feeds(
    AxumState(state): AxumState<Arc<State>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    blocking(&state, |state| state.feeds()).await.map(Json)
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
    AxumState(state): AxumState<Arc<State>>,
    Path(author): Path<String>,
    Query(range): Query<RangeQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    blocking(&state, move |state| state.entries(&author, range.from, range.limit)).await.map(Json)
}

async fn feed_checkpoint(
    AxumState(state): AxumState<Arc<State>>,
    Path(author): Path<String>,
) -> Result<Response, ApiError> {
    let note = blocking(&state, move |state| state.checkpoint_note(&author)).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], note).into_response())
}

async fn forks(
    AxumState(state): AxumState<Arc<State>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    blocking(&state, |state| state.forks()).await.map(Json)
}

/// Query of the trace endpoints.
#[derive(Debug, serde::Deserialize)]
struct TraceQuery {
    /// A Digital Link, an EPC URN, or `GTIN/LOT`.
    id: String,
}

async fn trace_back(
    AxumState(state): AxumState<Arc<State>>,
    Query(query): Query<TraceQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    blocking(&state, move |state| state.trace(&query.id, crate::state::Direction::Back))
        .await
        .map(Json)
}

async fn trace_forward(
    AxumState(state): AxumState<Arc<State>>,
    Query(query): Query<TraceQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    blocking(&state, move |state| state.trace(&query.id, crate::state::Direction::Forward))
        .await
        .map(Json)
}

async fn recall_scope(
    AxumState(state): AxumState<Arc<State>>,
    Json(hazard): Json<serde_json::Value>,
) -> Result<Json<serde_json::Value>, ApiError> {
    blocking(&state, move |state| state.recall_scope(&hazard)).await.map(Json)
}

async fn append_record(
    AxumState(state): AxumState<Arc<State>>,
    headers: HeaderMap,
    Json(record): Json<serde_json::Value>,
) -> Result<Response, ApiError> {
    require_token(&state, &headers)?;
    let appended = state.append_record(record).await?;
    Ok((StatusCode::CREATED, Json(appended)).into_response())
}

/// Query of `GET /records`.
#[derive(Debug, serde::Deserialize)]
struct RecordsQuery {
    /// Only records of this kind (`recall_notice`, `inspection_result`, ...).
    kind: Option<String>,
}

async fn records(
    AxumState(state): AxumState<Arc<State>>,
    Query(query): Query<RecordsQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    blocking(&state, move |state| state.records(query.kind.as_deref())).await.map(Json)
}
