//! The regulator's recall dashboard under `/dashboard`: a login with the node's API token that
//! starts a server-side session (cookie `lotline_session`), the recalls with their status, one
//! recall's scope (a provenance graph as SVG), consignees, acknowledgements, what is still in
//! distribution and failed inspections, its FSMA 204 spreadsheet as CSV, and the supervision
//! list.
//!
//! Owns the dashboard's routes, who may see them (a live session; the form token on every
//! POST, beside the cookie's `SameSite=Strict`), the cookie's attributes, the security headers
//! of its answers (a Content-Security-Policy allowing only its own nonce-tagged style and
//! same-origin images) and its templates (`node/templates/dashboard*`, askama, escaping every
//! value). Does not own the facts shown (`facts`, over `crate::state::Ledger` and the rules in
//! `lotline_ledger::supervision` and `lotline_ledger::fsma204`), the graph layout (`graph`), nor
//! the sessions' store (`session`). The token is read only from a POST body, never from a URL,
//! and never logged.

mod facts;
mod graph;
mod session;

use std::sync::Arc;

use askama::Template;
use axum::extract::rejection::{FormRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use lotline_ledger::supervision::{Evidence, Supervision};

use super::WebState;
use crate::http::serve::RateLimitedLog;
use crate::state::Ledger;
use session::{COOKIE_NAME, Session, Sessions};

/// Longest recall address (entry hash or recall id) a path may carry.
const MAX_RECALL_ADDRESS: usize = 200;

/// What the dashboard's routes share besides the ledger.
#[derive(Debug, Default)]
struct Dashboard {
    /// The logged-in sessions.
    sessions: Sessions,
    /// Logs refused logins, at most once per interval (never the token presented).
    refused_logins: RateLimitedLog,
}

/// The dashboard's routes; the web router gives them its state.
pub fn routes() -> Router<WebState> {
    Router::new()
        .route("/dashboard", get(home))
        .route("/dashboard/login", post(login))
        .route("/dashboard/logout", post(logout))
        .route("/dashboard/recalls/{recall}", get(recall_page))
        .route("/dashboard/recalls/{recall}/scope.svg", get(scope_svg))
        .route("/dashboard/recalls/{recall}/fsma204.csv", get(fsma204_csv))
        .route("/dashboard/supervision", get(supervision_page))
        .layer(Extension(Arc::new(Dashboard::default())))
}

/// The login form's body.
#[derive(Debug, serde::Deserialize)]
struct LoginForm {
    /// The node's API token.
    token: String,
}

/// The body of every form posted while logged in.
#[derive(Debug, serde::Deserialize)]
struct SessionForm {
    /// The session's form token.
    form_token: String,
}

#[derive(Template)]
#[template(path = "dashboard_login.html")]
struct LoginPage {
    nonce: String,
    form_token: String,
    message: String,
}

/// A recall as the list and the recall page head show it.
#[derive(Debug)]
struct RecallSummary {
    entry_hash: String,
    recall_id: String,
    class: &'static str,
    hazard: String,
    instructions: String,
    issued_by: String,
    issued_at: String,
    lots: usize,
    consignees: usize,
    acknowledgements: usize,
    outstanding: usize,
    scope_problem: String,
}

impl RecallSummary {
    fn of(recall: &facts::Recall) -> Self {
        RecallSummary {
            entry_hash: recall.entry_hash.clone(),
            recall_id: recall.recall_id.clone(),
            class: recall.class,
            hazard: recall.hazard.clone(),
            instructions: recall.instructions.clone(),
            issued_by: recall.issued_by.clone(),
            issued_at: recall.issued_at.clone(),
            lots: recall.reached_lots().len(),
            consignees: recall.consignee_count(),
            acknowledgements: recall.acknowledgements.len(),
            outstanding: recall.outstanding().len(),
            scope_problem: recall.scope.as_ref().err().cloned().unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "dashboard_recalls.html")]
struct RecallsPage {
    nonce: String,
    form_token: String,
    recalls: Vec<RecallSummary>,
}

#[derive(Template)]
#[template(path = "dashboard_recall.html")]
struct RecallPage {
    nonce: String,
    form_token: String,
    recall: RecallSummary,
    lots: Vec<String>,
    consignees: Vec<facts::Consignee>,
    acknowledgements: Vec<facts::Acknowledgement>,
    in_distribution: Vec<facts::Held>,
    inspections: Vec<facts::FailedInspection>,
    excursions: Vec<facts::RecallExcursion>,
    omitted: usize,
}

/// One line of the supervision list.
#[derive(Debug)]
struct SupervisionLine {
    organisation: String,
    finding: &'static str,
    lot: String,
    detail: String,
    evidence: String,
}

#[derive(Template)]
#[template(path = "dashboard_supervision.html")]
struct SupervisionPage {
    nonce: String,
    form_token: String,
    organisations: usize,
    lines: Vec<SupervisionLine>,
}

#[derive(Template)]
#[template(path = "dashboard_error.html")]
struct ErrorPage {
    nonce: String,
    form_token: String,
    title: String,
    message: String,
}

#[derive(Template)]
#[template(path = "dashboard_scope.svg")]
struct ScopeSvg {
    recall_id: String,
    graph: graph::Graph,
}

/// An answer the dashboard could not give, as a page.
#[derive(Debug)]
struct Failure {
    status: StatusCode,
    title: &'static str,
    message: String,
    /// The session's form token, so the page keeps its logout button.
    form_token: String,
}

impl Failure {
    fn ledger(error: &str, session: &Session) -> Self {
        Failure {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            title: "The ledger could not answer",
            message: error.to_owned(),
            form_token: session.form_token.clone(),
        }
    }

    fn no_recall(address: &str, session: &Session) -> Self {
        Failure {
            status: StatusCode::NOT_FOUND,
            title: "No such recall",
            message: format!("this node holds no recall notice {address:?}"),
            form_token: session.form_token.clone(),
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let nonce = nonce();
        let page = ErrorPage {
            nonce: nonce.clone(),
            form_token: self.form_token,
            title: self.title.to_owned(),
            message: self.message,
        };
        html(self.status, &nonce, page.render())
    }
}

/// A fresh nonce for one page's inline style.
fn nonce() -> String {
    let mut bytes = [0u8; 16];
    // Without randomness the nonce is fixed; the style still applies and nothing else runs,
    // since the policy allows no script at all.
    let _ = getrandom::fill(&mut bytes);
    hex::encode(bytes)
}

/// The headers every dashboard answer carries: nothing cached, sniffed, framed or referred.
fn guard_headers(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

/// A rendered page with its Content-Security-Policy.
fn html(status: StatusCode, nonce: &str, rendered: askama::Result<String>) -> Response {
    let body = match rendered {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(%error, "a dashboard template failed to render");
            return (StatusCode::INTERNAL_SERVER_ERROR, "the page could not be rendered")
                .into_response();
        }
    };
    let policy = format!(
        "default-src 'none'; style-src 'nonce-{nonce}'; img-src 'self'; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'"
    );
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    if let Ok(policy) = HeaderValue::from_str(&policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    guard_headers(headers);
    response
}

/// A redirect (`303`) to `location`, with the dashboard's headers.
fn see_other(location: &'static str) -> Response {
    let mut response =
        (StatusCode::SEE_OTHER, [(header::LOCATION, HeaderValue::from_static(location))])
            .into_response();
    guard_headers(response.headers_mut());
    response
}

/// The answer to a page asked for without a session: back to the login.
fn to_login() -> Response {
    see_other("/dashboard")
}

/// The answer to a download asked for without a session.
fn unauthorized_download() -> Response {
    let mut response = (
        StatusCode::UNAUTHORIZED,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "log in at /dashboard first\n",
    )
        .into_response();
    guard_headers(response.headers_mut());
    response
}

/// The login page, with `message` above the form.
fn login_page(status: StatusCode, message: &str) -> Response {
    let nonce = nonce();
    let page =
        LoginPage { nonce: nonce.clone(), form_token: String::new(), message: message.to_owned() };
    html(status, &nonce, page.render())
}

/// Whether the request reached us over TLS: an `https` URI, or a proxy that says so.
fn over_tls(uri: &Uri, headers: &HeaderMap) -> bool {
    let forwarded_https = headers
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(',').next())
        .is_some_and(|protocol| protocol.trim().eq_ignore_ascii_case("https"));
    let standard_forwarded = headers
        .get(header::FORWARDED)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.to_ascii_lowercase().contains("proto=https"));
    uri.scheme_str() == Some("https") || forwarded_https || standard_forwarded
}

/// The `Set-Cookie` value of a session (`Secure` when the browser reached us over TLS).
fn session_cookie(session: &Session, secure: bool) -> String {
    let mut cookie = format!(
        "{COOKIE_NAME}={}; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age={}",
        session.id,
        session.seconds_left()
    );
    if secure {
        cookie.push_str("; Secure");
    }
    cookie
}

/// Runs blocking ledger work off the async threads; a failure comes back as its message.
async fn blocking<T, F>(ledger: &Arc<Ledger>, work: F) -> Result<T, String>
where
    T: Send + 'static,
    F: FnOnce(&Ledger) -> Result<T, crate::state::Error> + Send + 'static,
{
    let ledger = Arc::clone(ledger);
    match tokio::task::spawn_blocking(move || work(&ledger)).await {
        Ok(result) => result.map_err(|error| error.to_string()),
        Err(error) => Err(format!("the worker failed: {error}")),
    }
}

/// A recall address from the path, bounded.
fn recall_address(
    recall: Result<Path<String>, PathRejection>,
    session: &Session,
) -> Result<String, Failure> {
    match recall {
        Ok(Path(address)) if address.len() <= MAX_RECALL_ADDRESS => Ok(address),
        Ok(Path(address)) => {
            let shown: String = address.chars().take(MAX_RECALL_ADDRESS / 2).collect();
            Err(Failure::no_recall(&shown, session))
        }
        Err(rejection) => Err(Failure {
            status: StatusCode::BAD_REQUEST,
            title: "Not a recall address",
            message: rejection.body_text(),
            form_token: session.form_token.clone(),
        }),
    }
}

/// `GET /dashboard`: the recalls when logged in, else the login form.
async fn home(
    State(state): State<WebState>,
    Extension(dashboard): Extension<Arc<Dashboard>>,
    headers: HeaderMap,
) -> Response {
    let Some(session) = dashboard.sessions.of_request(&headers) else {
        return login_page(StatusCode::OK, "");
    };
    match blocking(&state.ledger, facts::recalls).await {
        Ok(recalls) => {
            let nonce = nonce();
            let page = RecallsPage {
                nonce: nonce.clone(),
                form_token: session.form_token.clone(),
                recalls: recalls.iter().map(RecallSummary::of).collect(),
            };
            html(StatusCode::OK, &nonce, page.render())
        }
        Err(error) => Failure::ledger(&error, &session).into_response(),
    }
}

/// `POST /dashboard/login`: the token from the form body starts a session.
async fn login(
    State(state): State<WebState>,
    Extension(dashboard): Extension<Arc<Dashboard>>,
    uri: Uri,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return login_page(StatusCode::BAD_REQUEST, "Send the form with the node's API token.");
    };
    if !state.ledger.token_matches(&form.token) {
        dashboard.refused_logins.warn(|suppressed| {
            tracing::warn!(suppressed, "refusing a dashboard login: wrong token");
        });
        return login_page(StatusCode::UNAUTHORIZED, "That is not this node's API token.");
    }
    let session = match dashboard.sessions.create() {
        Ok(session) => session,
        Err(error) => {
            tracing::error!(%error, "cannot start a dashboard session");
            return login_page(StatusCode::INTERNAL_SERVER_ERROR, "No session could be started.");
        }
    };
    let mut response = see_other("/dashboard");
    if let Ok(cookie) = HeaderValue::from_str(&session_cookie(&session, over_tls(&uri, &headers))) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// `POST /dashboard/logout`: ends the session (its form token required) and clears the cookie.
async fn logout(
    Extension(dashboard): Extension<Arc<Dashboard>>,
    uri: Uri,
    headers: HeaderMap,
    form: Result<Form<SessionForm>, FormRejection>,
) -> Response {
    let Some(session) = dashboard.sessions.of_request(&headers) else { return to_login() };
    let token_matches =
        form.as_ref().is_ok_and(|Form(form)| session.form_token_matches(&form.form_token));
    if !token_matches {
        return Failure {
            status: StatusCode::FORBIDDEN,
            title: "The form is not from this session",
            message: "log out with the button on a dashboard page".to_owned(),
            form_token: session.form_token.clone(),
        }
        .into_response();
    }
    dashboard.sessions.end(&session.id);
    let mut cookie =
        format!("{COOKIE_NAME}=; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age=0");
    if over_tls(&uri, &headers) {
        cookie.push_str("; Secure");
    }
    let mut response = see_other("/dashboard");
    if let Ok(cookie) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// `GET /dashboard/recalls/{recall}`.
async fn recall_page(
    State(state): State<WebState>,
    Extension(dashboard): Extension<Arc<Dashboard>>,
    headers: HeaderMap,
    recall: Result<Path<String>, PathRejection>,
) -> Response {
    let Some(session) = dashboard.sessions.of_request(&headers) else { return to_login() };
    let address = match recall_address(recall, &session) {
        Ok(address) => address,
        Err(failure) => return failure.into_response(),
    };
    let lookup = address.clone();
    let found = blocking(&state.ledger, move |ledger| {
        let Some(recall) = facts::recall(ledger, &lookup)? else { return Ok(None) };
        let inspections = facts::failed_inspections(ledger, &recall)?;
        let excursions = facts::recall_excursions(ledger, &recall);
        Ok(Some((recall, inspections, excursions)))
    })
    .await;
    let (recall, inspections, excursions) = match found {
        Ok(Some(found)) => found,
        Ok(None) => return Failure::no_recall(&address, &session).into_response(),
        Err(error) => return Failure::ledger(&error, &session).into_response(),
    };
    let lots = match &recall.scope {
        Ok(reply) => recall.reached_lots().iter().map(|lot| reply.names.label(lot)).collect(),
        Err(_) => recall.reached_lots().into_iter().collect(),
    };
    let omitted = recall.scope.as_ref().map_or(0, |reply| graph::layout(reply).omitted);
    let nonce = nonce();
    let page = RecallPage {
        nonce: nonce.clone(),
        form_token: session.form_token.clone(),
        recall: RecallSummary::of(&recall),
        lots,
        consignees: recall.consignees(),
        acknowledgements: recall.acknowledgements.clone(),
        in_distribution: recall.in_distribution(),
        inspections,
        excursions,
        omitted,
    };
    html(StatusCode::OK, &nonce, page.render())
}

/// `GET /dashboard/recalls/{recall}/scope.svg`: the scope as a provenance graph.
async fn scope_svg(
    State(state): State<WebState>,
    Extension(dashboard): Extension<Arc<Dashboard>>,
    headers: HeaderMap,
    recall: Result<Path<String>, PathRejection>,
) -> Response {
    let Some(session) = dashboard.sessions.of_request(&headers) else {
        return unauthorized_download();
    };
    let address = match recall_address(recall, &session) {
        Ok(address) => address,
        Err(failure) => return failure.into_response(),
    };
    let lookup = address.clone();
    let found = blocking(&state.ledger, move |ledger| facts::recall(ledger, &lookup)).await;
    let recall = match found {
        Ok(Some(recall)) => recall,
        Ok(None) => return Failure::no_recall(&address, &session).into_response(),
        Err(error) => return Failure::ledger(&error, &session).into_response(),
    };
    let graph = recall.scope.as_ref().map(graph::layout).unwrap_or_default();
    let svg = ScopeSvg { recall_id: recall.recall_id.clone(), graph };
    let body = match svg.render() {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(%error, "the scope graph failed to render");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/svg+xml"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
    );
    guard_headers(headers);
    response
}

/// `GET /dashboard/recalls/{recall}/fsma204.csv`: the FDA sortable spreadsheet of the recall.
async fn fsma204_csv(
    State(state): State<WebState>,
    Extension(dashboard): Extension<Arc<Dashboard>>,
    headers: HeaderMap,
    recall: Result<Path<String>, PathRejection>,
) -> Response {
    let Some(session) = dashboard.sessions.of_request(&headers) else {
        return unauthorized_download();
    };
    let address = match recall_address(recall, &session) {
        Ok(address) => address,
        Err(failure) => return failure.into_response(),
    };
    let lookup = address.clone();
    let found = blocking(&state.ledger, move |ledger| {
        let Some(recall) = facts::recall(ledger, &lookup)? else { return Ok(None) };
        let rows = facts::fsma204_rows(ledger, &recall)?;
        Ok(Some((recall.recall_id, rows)))
    })
    .await;
    let (recall_id, rows) = match found {
        Ok(Some(found)) => found,
        Ok(None) => return Failure::no_recall(&address, &session).into_response(),
        Err(error) => return Failure::ledger(&error, &session).into_response(),
    };
    let mut csv = Vec::new();
    if let Err(error) = lotline_ledger::fsma204::write_csv(&rows, &mut csv) {
        tracing::error!(%error, "the fsma 204 spreadsheet failed to write");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let file_stem: String = recall_id
        .chars()
        .filter(|character| character.is_ascii_alphanumeric() || "-_.".contains(*character))
        .take(64)
        .collect();
    let disposition = format!("attachment; filename=\"fsma204-{file_stem}.csv\"");
    let mut response = (StatusCode::OK, csv).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    if let Ok(disposition) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    guard_headers(headers);
    response
}

/// `GET /dashboard/supervision`: the supervision list.
async fn supervision_page(
    State(state): State<WebState>,
    Extension(dashboard): Extension<Arc<Dashboard>>,
    headers: HeaderMap,
) -> Response {
    let Some(session) = dashboard.sessions.of_request(&headers) else { return to_login() };
    let supervision = match blocking(&state.ledger, facts::supervision).await {
        Ok(supervision) => supervision,
        Err(error) => return Failure::ledger(&error, &session).into_response(),
    };
    let nonce = nonce();
    let page = SupervisionPage {
        nonce: nonce.clone(),
        form_token: session.form_token.clone(),
        organisations: supervision.organisations.len(),
        lines: supervision_lines(&supervision),
    };
    html(StatusCode::OK, &nonce, page.render())
}

/// The supervision list as table lines, the evidence in words.
fn supervision_lines(supervision: &Supervision) -> Vec<SupervisionLine> {
    let mut lines = Vec::new();
    for (organisation, findings) in &supervision.organisations {
        for finding in findings {
            let evidence = match &finding.evidence {
                Evidence::Inspection { lab, entry_hash } => {
                    format!("result by {lab}, entry {entry_hash}")
                }
                Evidence::Recall { notice_entry_hash, events } => format!(
                    "notice entry {notice_entry_hash}; handoff events: {}",
                    events.iter().cloned().collect::<Vec<_>>().join(", ")
                ),
                Evidence::Handoff { shipping_event, recall } => {
                    format!("shipping event {shipping_event} (recall {recall})")
                }
                Evidence::Flag { regulator, entry_hash } => {
                    format!("flagged by {regulator}, entry {entry_hash}")
                }
                Evidence::Shipment { shipping_event, due } => {
                    format!("shipping event {shipping_event} (receipt due {due})")
                }
                Evidence::Excursion { excursion_entry_hash, recorded_by } => {
                    format!("excursion entry {excursion_entry_hash} by {recorded_by}")
                }
            };
            lines.push(SupervisionLine {
                organisation: organisation.clone(),
                finding: finding.finding.name(),
                lot: finding.lot.clone().unwrap_or_default(),
                detail: finding.detail.clone(),
                evidence,
            });
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_secure_behind_a_tls_proxy_and_always_http_only_and_strict() {
        let mut headers = HeaderMap::new();
        let uri: Uri = "/dashboard/login".parse().unwrap();
        assert!(!over_tls(&uri, &headers));
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert!(over_tls(&uri, &headers));
        let session = Sessions::default().create().unwrap();
        let cookie = session_cookie(&session, true);
        assert!(cookie.starts_with(&format!("{COOKIE_NAME}={}", session.id)));
        for attribute in ["HttpOnly", "SameSite=Strict", "Path=/dashboard", "Secure"] {
            assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
        }
        assert!(!session_cookie(&session, false).contains("Secure"));
    }
}
