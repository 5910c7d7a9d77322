//! The node's HTTP API (axum): EPCIS 2.0 capture and query, feeds, checkpoints and proofs,
//! trace and recall queries, ledger records, health, metrics and the OpenAPI document.
//!
//! Owns: routing, authentication by bearer token and the cap on expensive queries
//! (`admission`), body limits per route (`body_limit`), the body read timeout, serving
//! connections under a cap and timeouts (`serve`), reading requests into the ledger side's
//! typed inputs (`epcis`, `trace`, `records`, `masterdata`), serialising its typed replies, and turning its
//! errors, extractor rejections and unknown routes into problems (`error`). Calls on
//! [`crate::state::Ledger`] run off the async threads, since the store blocks. Does not own any
//! ledger logic; every answer is computed by `Ledger`.
//! **API Boundary**: the routes and JSON shapes are documented in `docs/http-api.md` and served
//! at `/openapi.json`; external tools and the `lotline` client depend on them.

mod admission;
mod body_limit;
mod coldchain;
mod custody;
mod epcis;
mod error;
mod masterdata;
mod openapi;
pub(crate) mod records;
pub mod serve;
mod trace;

use std::collections::BTreeMap;
use std::sync::Arc;

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, FromRef, Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lotline_ledger::identity::PublicKey;
use lotline_ledger::proof::Evidence;
use lotline_ledger::trace::{Direction, RecallReply, TraceReply};
use serde::Serialize;

pub use body_limit::{MAX_BODY_BYTES, SMALL_BODY_BYTES, limit_of};
pub use error::ApiError;

use crate::config::HttpLimits;
use crate::notify::Notifier;
use crate::state::{self, Ledger};

/// What the router needs of the node's configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Trace, recall, event, capture-job and master-data reads are answered without the token.
    pub public_queries: bool,
    /// Time, size and concurrency limits.
    pub limits: HttpLimits,
    /// What the web pages are given.
    pub web: crate::web::WebSettings,
}

impl Settings {
    /// The settings of `config`.
    pub fn of(config: &crate::config::Config) -> Self {
        Settings {
            public_queries: config.public_queries,
            limits: config.http_limits.clone(),
            web: crate::web::WebSettings {
                page_cache_bytes: usize::try_from(config.page_cache_mib.saturating_mul(1 << 20))
                    .unwrap_or(usize::MAX),
            },
        }
    }
}

/// The handlers' state: the ledger, the notifications, and the bounds of answers.
#[derive(Debug, Clone)]
struct Api {
    /// The node's ledger.
    ledger: Arc<Ledger>,
    /// The node's notifications (the event stream, the counters at `/metrics`).
    notifier: Notifier,
    /// Lots one recall-scope answer may name.
    max_recall_lots: usize,
}

impl FromRef<Api> for Arc<Ledger> {
    fn from_ref(api: &Api) -> Self {
        Arc::clone(&api.ledger)
    }
}

impl FromRef<Api> for Notifier {
    fn from_ref(api: &Api) -> Self {
        api.notifier.clone()
    }
}

/// Builds the router over the node's ledger.
///
/// Layers run outermost first: the body read timeout wraps every body; on a matched route the
/// token and query-slot check (`admission`) runs before the declared-size check, so a client
/// without the token learns nothing about body limits and sends no body; the streaming body
/// limit is per route.
pub fn router(ledger: Arc<Ledger>, notifier: Notifier, settings: &Settings) -> Router {
    let admission = Arc::new(admission::Admission::new(
        Arc::clone(&ledger),
        settings.public_queries,
        settings.limits.max_expensive_queries,
    ));
    let api = Api { ledger, notifier, max_recall_lots: settings.limits.max_recall_lots };
    Router::new()
        .route("/", get(index))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi_document))
        .route("/roster", get(roster))
        .route(
            "/capture",
            post(capture).layer(DefaultBodyLimit::max(limit_of("/capture"))).get(capture_jobs),
        )
        .route("/capture/{capture_id}", get(capture_job))
        .route("/events", get(events))
        .route("/events/stream", get(events_stream))
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
        .route("/excursions", get(coldchain::excursions))
        .route("/custody", get(custody::custody))
        .route("/handoffs", get(custody::handoffs))
        .route("/vocabularies", get(masterdata::vocabularies))
        .route("/vocabularies/history", get(masterdata::vocabulary_history))
        .merge(crate::web::routes(crate::web::WebState::new(Arc::clone(&api.ledger)), settings.web))
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        // Streaming limit for bodies without `Content-Length` (chunked) on every route but
        // capture; the middleware refuses declared oversized bodies before they are read.
        .layer(DefaultBodyLimit::max(SMALL_BODY_BYTES))
        .route_layer(axum::middleware::from_fn(body_limit::reject_oversized_bodies))
        .route_layer(axum::middleware::from_fn_with_state(admission, admission::admit))
        // A client that stops sending its body is cut off (with `408`) instead of holding its
        // connection and what it sent.
        .layer(axum::middleware::from_fn_with_state(
            Duration::from_millis(settings.limits.body_timeout_ms),
            body_limit::limit_body_time,
        ))
        .with_state(api)
}

/// The answer to a path no route serves.
async fn no_route(uri: Uri) -> ApiError {
    ApiError::NotFound(format!("no resource at {}", uri.path()))
}

/// The answer to a method a route does not serve.
async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::MethodNotAllowed { method: method.to_string(), path: uri.path().to_owned() }
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

/// An organisation key named in a path (`/feeds/{author}/...`); a malformed one names no feed.
fn parse_author(author: &str) -> Result<PublicKey, ApiError> {
    PublicKey::from_hex(author).map_err(|_| {
        ApiError::NotFound(format!("{author:?} is not an organisation key (64 hex digits)"))
    })
}

#[utoipa::path(
    get,
    path = "/",
    tag = "node",
    summary = "Top-level resources",
    responses(
        (status = 200, description = "The resources", body = openapi::Resources),
    )
)]
async fn index() -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "resources": ["/capture", "/events", "/feeds", "/trace/back", "/trace/forward",
                      "/recall/scope", "/records", "/vocabularies", "/roster", "/health",
                      "/metrics", "/openapi.json"]
    }))
}

/// `GET /health`: the ledger's view and the peers connected now.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct HealthReply {
    /// What the ledger side reports.
    #[serde(flatten)]
    health: state::Health,
    /// Peers connected now.
    peers: usize,
}

#[utoipa::path(
    get,
    path = "/health",
    tag = "node",
    summary = "Liveness and a summary of the node",
    responses(
        (status = 200, description = "The node is up", body = HealthReply),
        openapi::Fault,
    )
)]
async fn health(State(ledger): State<Arc<Ledger>>) -> Result<Json<HealthReply>, ApiError> {
    let peers = ledger.connected_peer_count().await;
    let health = blocking(&ledger, |ledger| Ok(ledger.health())).await?;
    Ok(Json(HealthReply { health, peers }))
}

#[utoipa::path(
    get,
    path = "/metrics",
    tag = "node",
    summary = "Prometheus metrics",
    responses(
        (status = 200, description = "Prometheus text exposition format", body = String, content_type = "text/plain; version=0.0.4"),
        openapi::Fault,
    )
)]
async fn metrics(State(api): State<Api>) -> Result<Response, ApiError> {
    let peers = api.ledger.connected_peer_count().await;
    let gauges = blocking(&api.ledger, |ledger| Ok(ledger.gauges())).await?;
    let text = crate::metrics::exposition(&gauges, peers, &api.notifier.stats());
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response())
}

#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "node",
    summary = "This document",
    responses(
        (status = 200, description = "The OpenAPI document", body = Object),
    )
)]
async fn openapi_document() -> Json<utoipa::openapi::OpenApi> {
    Json(openapi::document())
}

#[utoipa::path(
    get,
    path = "/roster",
    tag = "node",
    summary = "Admitted organisations and roles",
    responses(
        (status = 200, description = "The roster", body = state::Roster),
    )
)]
async fn roster(State(ledger): State<Arc<Ledger>>) -> Json<state::Roster> {
    Json(ledger.roster())
}

#[utoipa::path(
    post,
    path = "/capture",
    tag = "epcis",
    summary = "Capture an EPCISDocument (JSON-LD or XML); every event is signed into this organisation's feed",
    request_body(content(
        (openapi::EpcisDocument = "application/ld+json"),
        (openapi::EpcisDocument = "application/json"),
        (String = "application/xml"),
    ), description = "An EPCISDocument in the JSON-LD or the XML binding; `Content-Type` names which"),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Every event is signed and stored; the job is finished", body = state::CaptureJob,
            headers(("Location" = String, description = "The capture job: `/capture/{captureID}`"))),
        (status = 400, description = "the document or an event in it breaks the standard (names event and field); nothing stored", body = openapi::Problem, content_type = "application/problem+json"),
        openapi::Unauthorized,
        (status = 403, description = "this organisation's role may not capture events", body = openapi::Problem, content_type = "application/problem+json"),
        openapi::FeedFrozen,
        openapi::BodyTimeout,
        openapi::BodyTooLarge,
        (status = 415, description = "the content type is not an EPCIS binding", body = openapi::Problem, content_type = "application/problem+json"),
        openapi::Fault,
    )
)]
async fn capture(
    State(ledger): State<Arc<Ledger>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body =
        body.map_err(|rejection| ApiError::from_body_rejection(rejection, limit_of("/capture")))?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("application/ld+json");
    let format = epcis::binding_of(content_type)?;
    epcis::check_body_binding(content_type, format, &body)?;
    let ledger = Arc::clone(&ledger);
    let job = tokio::task::spawn_blocking(move || ledger.capture(&body, format))
        .await
        .map_err(|error| ApiError::Internal(format!("capture worker failed: {error}")))??;
    let location = format!("/capture/{}", job.capture_id);
    Ok((StatusCode::ACCEPTED, [(header::LOCATION, location)], Json(job)).into_response())
}

#[utoipa::path(
    get,
    path = "/capture",
    tag = "epcis",
    summary = "Capture jobs",
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Every capture job this node ran", body = Vec<state::CaptureJob>),
        openapi::QueryUnauthorized,
    )
)]
async fn capture_jobs(State(ledger): State<Arc<Ledger>>) -> Json<Vec<state::CaptureJob>> {
    Json(ledger.capture_jobs())
}

#[utoipa::path(
    get,
    path = "/capture/{captureID}",
    tag = "epcis",
    summary = "One capture job",
    params(("captureID" = String, Path, description = "The job's id")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The job", body = state::CaptureJob),
        (status = 404, description = "no capture job has this id", body = openapi::Problem, content_type = "application/problem+json"),
        openapi::QueryUnauthorized,
    )
)]
async fn capture_job(
    State(ledger): State<Arc<Ledger>>,
    capture_id: Result<Path<String>, PathRejection>,
) -> Result<Json<state::CaptureJob>, ApiError> {
    let Path(capture_id) = capture_id?;
    ledger
        .capture_job(&capture_id)
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no capture job {capture_id}")))
}

#[utoipa::path(
    get,
    path = "/events",
    tag = "epcis",
    summary = "EPCIS query (EPCISQueryDocument)",
    params(openapi::EventQueryParameters),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "One page of matching events", body = openapi::EpcisQueryDocument,
            headers(("Link" = String, description = "`</events?...>; rel=\"next\"` when more pages follow"))),
        (status = 400, description = "a query parameter is malformed or not supported (QueryParameterException)", body = openapi::Problem, content_type = "application/problem+json"),
        openapi::Fault,
        openapi::QueryUnauthorized,
        openapi::Busy,
    )
)]
async fn events(
    State(ledger): State<Arc<Ledger>>,
    parameters: Result<Query<BTreeMap<String, String>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(parameters) = parameters?;
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

#[utoipa::path(
    get,
    path = "/events/stream",
    tag = "notifications",
    summary = "Notifications as Server-Sent Events: recalls, excursions, their acknowledgements, overdue handoffs",
    params(("Last-Event-ID" = Option<String>, Header, description = "The `id` of the last event received: the events after it are sent first, or an `event: reset` when they are no longer held")),
    responses(
        (status = 200, description = "An endless `text/event-stream`: `id:` the notification's number, `event:` its kind, `data:` its JSON; keep-alive comments when idle", body = String, content_type = "text/event-stream"),
        (status = 503, description = "as many event streams are open as the node allows; retry after `Retry-After` seconds", body = openapi::Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
async fn events_stream(State(notifier): State<Notifier>, headers: HeaderMap) -> Response {
    crate::notify::stream::open(&notifier, &headers)
}

#[utoipa::path(
    get,
    path = "/events/{eventID}",
    tag = "epcis",
    summary = "One event",
    params(("eventID" = String, Path, description = "The event's `eventID` or Event Hash ID")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The event as JSON-LD", body = openapi::EpcisEvent),
        openapi::NoSuchEvent,
        openapi::Fault,
        openapi::QueryUnauthorized,
    )
)]
async fn event(
    State(ledger): State<Arc<Ledger>>,
    event_id: Result<Path<String>, PathRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Path(event_id) = event_id?;
    blocking(&ledger, move |ledger| Ok(epcis::event_json(&ledger.event(&event_id)?)))
        .await
        .map(Json)
}

#[utoipa::path(
    get,
    path = "/events/{eventID}/proof",
    tag = "feeds",
    summary = "Proof bundle for the entry carrying an event",
    params(("eventID" = String, Path, description = "The event's `eventID` or Event Hash ID")),
    responses(
        (status = 200, description = "The evidence for the entry carrying the event", body = Evidence),
        openapi::NoSuchEvent,
        openapi::Fault,
    )
)]
async fn event_proof(
    State(ledger): State<Arc<Ledger>>,
    event_id: Result<Path<String>, PathRejection>,
) -> Result<Json<Evidence>, ApiError> {
    let Path(event_id) = event_id?;
    blocking(&ledger, move |ledger| Ok(ledger.event_proof(&event_id)?)).await.map(Json)
}

#[utoipa::path(
    get,
    path = "/feeds",
    tag = "feeds",
    summary = "Feeds held by this node",
    responses(
        (status = 200, description = "One summary per feed", body = Vec<state::FeedSummary>),
        openapi::Fault,
    )
)]
async fn feeds(
    State(ledger): State<Arc<Ledger>>,
) -> Result<Json<Vec<state::FeedSummary>>, ApiError> {
    blocking(&ledger, |ledger| Ok(ledger.feeds())).await.map(Json)
}

/// Query of `/feeds/{author}/entries`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
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

#[utoipa::path(
    get,
    path = "/feeds/{author}/entries",
    tag = "feeds",
    summary = "A range of a feed's signed entries",
    params(("author" = String, Path, description = "The organisation key (64 hex digits)"), RangeQuery),
    responses(
        (status = 200, description = "The entries held in the range (at most 1000)", body = state::FeedEntries),
        (status = 400, description = "`from` or `limit` is not a non-negative integer", body = openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "the author is not an organisation key", body = openapi::Problem, content_type = "application/problem+json"),
        openapi::Fault,
    )
)]
async fn feed_entries(
    State(ledger): State<Arc<Ledger>>,
    author: Result<Path<String>, PathRejection>,
    range: Result<Query<RangeQuery>, QueryRejection>,
) -> Result<Json<state::FeedEntries>, ApiError> {
    let (Path(author), Query(range)) = (author?, range?);
    let author = parse_author(&author)?;
    blocking(&ledger, move |ledger| Ok(ledger.entries(&author, range.from, range.limit)?))
        .await
        .map(Json)
}

#[utoipa::path(
    get,
    path = "/feeds/{author}/checkpoint",
    tag = "feeds",
    summary = "A feed's latest signed (and cosigned) checkpoint",
    params(("author" = String, Path, description = "The organisation key (64 hex digits)")),
    responses(
        (status = 200, description = "The checkpoint note (C2SP signed note)", body = String, content_type = "text/plain; charset=utf-8"),
        (status = 404, description = "the author is not an organisation key, or its feed has no checkpoint", body = openapi::Problem, content_type = "application/problem+json"),
        openapi::Fault,
    )
)]
async fn feed_checkpoint(
    State(ledger): State<Arc<Ledger>>,
    author: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path(author) = author?;
    let author = parse_author(&author)?;
    let note = blocking(&ledger, move |ledger| Ok(ledger.checkpoint_note(&author)?)).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], note).into_response())
}

#[utoipa::path(
    get,
    path = "/forks",
    tag = "feeds",
    summary = "Fork proofs held by this node",
    responses(
        (status = 200, description = "Every fork proof held", body = Vec<lotline_ledger::fork::ForkProof>),
        openapi::Fault,
    )
)]
async fn forks(
    State(ledger): State<Arc<Ledger>>,
) -> Result<Json<Vec<lotline_ledger::fork::ForkProof>>, ApiError> {
    blocking(&ledger, |ledger| Ok(ledger.forks()?)).await.map(Json)
}

/// Query of the trace endpoints.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct TraceQuery {
    /// A Digital Link, an EPC URN, or `GTIN/LOT`.
    #[param(min_length = 1)]
    id: String,
}

#[utoipa::path(
    get,
    path = "/trace/back",
    tag = "trace",
    summary = "Trace a lot back to its origins",
    params(TraceQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The answer and its evidence", body = TraceReply),
        openapi::BadTraceId,
        openapi::Fault,
        openapi::QueryUnauthorized,
        openapi::Busy,
    )
)]
async fn trace_back(
    State(ledger): State<Arc<Ledger>>,
    query: Result<Query<TraceQuery>, QueryRejection>,
) -> Result<Json<TraceReply>, ApiError> {
    trace_in(ledger, query, Direction::Back).await
}

#[utoipa::path(
    get,
    path = "/trace/forward",
    tag = "trace",
    summary = "Trace a lot forward to every consignee",
    params(TraceQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The answer and its evidence", body = TraceReply),
        openapi::BadTraceId,
        openapi::Fault,
        openapi::QueryUnauthorized,
        openapi::Busy,
    )
)]
async fn trace_forward(
    State(ledger): State<Arc<Ledger>>,
    query: Result<Query<TraceQuery>, QueryRejection>,
) -> Result<Json<TraceReply>, ApiError> {
    trace_in(ledger, query, Direction::Forward).await
}

/// The body of both trace routes, which differ only in their direction (and their document).
async fn trace_in(
    ledger: Arc<Ledger>,
    query: Result<Query<TraceQuery>, QueryRejection>,
    direction: Direction,
) -> Result<Json<TraceReply>, ApiError> {
    let Query(query) = query?;
    let subject = trace::parse_subject(&query.id)?;
    blocking(&ledger, move |ledger| Ok(ledger.trace(&subject, direction)?)).await.map(Json)
}

/// `POST /recall/scope`: the whole scope in one answer, or `413` when it names more lots than
/// one answer may hold. A recall is acted on as a whole (every consignee notified, every lot
/// held), so the answer is not split into pages a client could stop reading early; a scope too
/// wide for one answer is refused, naming its size, so the client narrows the question.
#[utoipa::path(
    post,
    path = "/recall/scope",
    tag = "trace",
    summary = "Recall scope of a hazard (lots, facility + window, ingredient + window)",
    request_body = openapi::Hazard,
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The scope and its evidence", body = RecallReply),
        (status = 400, description = "the body is not JSON, or the hazard is malformed", body = openapi::Problem, content_type = "application/problem+json"),
        openapi::BodyTimeout,
        (status = 413, description = "the body is larger than the limit, or the scope names more lots than one answer may (QueryTooLargeException)", body = openapi::Problem, content_type = "application/problem+json"),
        openapi::NotJson,
        openapi::Fault,
        openapi::QueryUnauthorized,
        openapi::Busy,
    )
)]
async fn recall_scope(
    State(api): State<Api>,
    hazard: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Json<RecallReply>, ApiError> {
    let Json(hazard) = hazard
        .map_err(|rejection| ApiError::from_json_rejection(rejection, limit_of("/recall/scope")))?;
    let hazard = trace::parse_hazard(&hazard)?;
    let limit = api.max_recall_lots;
    let reply =
        blocking(&api.ledger, move |ledger| Ok(ledger.recall_scope(&hazard, limit)?)).await?;
    Ok(Json(reply))
}

#[utoipa::path(
    post,
    path = "/records",
    tag = "records",
    summary = "Append a ledger record (recall, acknowledgement, inspection, excursion, supervision flag)",
    request_body = openapi::RecordRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The record is signed and stored: its entry", body = lotline_ledger::entry::EntryRef),
        (status = 400, description = "the body is not JSON, or the record breaks a rule (names the field)", body = openapi::Problem, content_type = "application/problem+json"),
        openapi::Unauthorized,
        (status = 403, description = "this organisation's role may not write this kind of record", body = openapi::Problem, content_type = "application/problem+json"),
        openapi::FeedFrozen,
        openapi::BodyTimeout,
        openapi::BodyTooLarge,
        openapi::NotJson,
        openapi::Fault,
    )
)]
async fn append_record(
    State(ledger): State<Arc<Ledger>>,
    record: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(record) = record
        .map_err(|rejection| ApiError::from_json_rejection(rejection, limit_of("/records")))?;
    let payload = records::record_from_json(&record)?;
    let appended = blocking(&ledger, move |ledger| Ok(ledger.append_record(payload)?)).await?;
    Ok((StatusCode::CREATED, Json(appended)).into_response())
}

/// Query of `GET /records`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct RecordsQuery {
    /// Only records of this kind (`recall_notice`, `inspection_result`, ...).
    kind: Option<String>,
}

#[utoipa::path(
    get,
    path = "/records",
    tag = "records",
    summary = "Ledger records on every replicated feed",
    params(RecordsQuery),
    responses(
        (status = 200, description = "The records in append order", body = Vec<openapi::StoredRecord>),
        openapi::Fault,
    )
)]
async fn records(
    State(ledger): State<Arc<Ledger>>,
    query: Result<Query<RecordsQuery>, QueryRejection>,
) -> Result<Json<Vec<serde_json::Value>>, ApiError> {
    let Query(query) = query?;
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
