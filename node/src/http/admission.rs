//! Who may use a route and when: the bearer token, checked before any body is read, and the
//! cap on expensive queries computed at once.
//!
//! Owns: which routes need the token (writes always; trace, recall, event, capture-job and
//! master-data reads unless the operator made queries public), which routes are expensive (trace, recall
//! scope, event queries), the `503` with `Retry-After` when all their slots are taken, and the
//! rate-limited log line of such a refusal. Does not own the token itself (`Ledger` compares
//! it) nor the answers (`super`'s handlers).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use super::ApiError;
use super::serve::RateLimitedLog;
use crate::state::Ledger;

/// What a client waits before retrying a query refused because every slot is busy.
pub const BUSY_RETRY_AFTER: Duration = Duration::from_secs(1);

/// What a route asks of a client before it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Open to anyone: the public view (feeds, checkpoints, proofs, records, roster, health).
    Open,
    /// A write: always needs the token.
    Write,
    /// A query of business data: needs the token unless queries are public.
    Query {
        /// Whether it runs under the cap on concurrent expensive queries.
        expensive: bool,
    },
}

/// The one table of route classes (paths as routed, with their `{parameters}`).
fn class_of(method: &Method, path: &str) -> Class {
    match (method, path) {
        (&Method::POST, "/capture" | "/records") => Class::Write,
        (&Method::POST, "/recall/scope")
        | (
            _,
            "/trace/back" | "/trace/forward" | "/events" | "/custody" | "/handoffs" | "/excursions",
        ) => Class::Query { expensive: true },
        (
            _,
            "/capture"
            | "/capture/{capture_id}"
            | "/events/{event_id}"
            | "/vocabularies"
            | "/vocabularies/history",
        ) => Class::Query { expensive: false },
        _ => Class::Open,
    }
}

/// The admission state shared by every request.
#[derive(Debug)]
pub struct Admission {
    /// Compares presented tokens.
    ledger: Arc<Ledger>,
    /// Queries answered without the token.
    public_queries: bool,
    /// One permit per expensive query computed at once.
    expensive: Arc<Semaphore>,
    /// Logs refusals of busy queries, at most once per interval.
    busy_log: RateLimitedLog,
}

impl Admission {
    /// Admission for `ledger`'s routes.
    pub fn new(ledger: Arc<Ledger>, public_queries: bool, max_expensive_queries: usize) -> Self {
        Admission {
            ledger,
            public_queries,
            expensive: Arc::new(Semaphore::new(max_expensive_queries.max(1))),
            busy_log: RateLimitedLog::default(),
        }
    }
}

/// Route middleware: refuses a request without the token its route needs (`401`, before a byte
/// of the body is read) and an expensive query when every slot is taken (`503`); holds a slot
/// while an expensive query runs.
pub async fn admit(
    State(admission): State<Arc<Admission>>,
    matched: Option<MatchedPath>,
    request: Request,
    next: Next,
) -> Response {
    let path = matched.as_ref().map(MatchedPath::as_str).unwrap_or_default();
    let class = class_of(request.method(), path);
    let needs_token = match class {
        Class::Open => false,
        Class::Write => true,
        Class::Query { .. } => !admission.public_queries,
    };
    if needs_token && !token_presented(&admission.ledger, &request) {
        let mut response = ApiError::Unauthorized.into_response();
        if request.headers().contains_key(header::CONTENT_LENGTH)
            || request.headers().contains_key(header::TRANSFER_ENCODING)
        {
            // The body stays unread: closing spares the server from draining it.
            response
                .headers_mut()
                .insert(header::CONNECTION, header::HeaderValue::from_static("close"));
        }
        return response;
    }
    if class != (Class::Query { expensive: true }) {
        return next.run(request).await;
    }
    let Ok(permit) = Arc::clone(&admission.expensive).try_acquire_owned() else {
        admission.busy_log.warn(|suppressed| {
            tracing::warn!(path, suppressed, "refusing a query: every query slot is busy");
        });
        return ApiError::Busy { retry_after: BUSY_RETRY_AFTER }.into_response();
    };
    let response = next.run(request).await;
    drop(permit);
    response
}

fn token_presented(ledger: &Ledger, request: &Request) -> bool {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default();
    ledger.token_matches(presented)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_need_the_token_and_the_heavy_queries_are_capped() {
        assert_eq!(class_of(&Method::POST, "/capture"), Class::Write);
        assert_eq!(class_of(&Method::POST, "/records"), Class::Write);
        assert_eq!(class_of(&Method::GET, "/records"), Class::Open);
        assert_eq!(class_of(&Method::GET, "/capture"), Class::Query { expensive: false });
        assert_eq!(class_of(&Method::POST, "/recall/scope"), Class::Query { expensive: true });
        assert_eq!(class_of(&Method::GET, "/trace/back"), Class::Query { expensive: true });
        assert_eq!(class_of(&Method::GET, "/events"), Class::Query { expensive: true });
        assert_eq!(class_of(&Method::GET, "/excursions"), Class::Query { expensive: true });
        assert_eq!(class_of(&Method::GET, "/events/{event_id}/proof"), Class::Open);
        assert_eq!(class_of(&Method::GET, "/feeds/{author}/checkpoint"), Class::Open);
        assert_eq!(class_of(&Method::GET, "/health"), Class::Open);
        assert_eq!(class_of(&Method::GET, "/vocabularies"), Class::Query { expensive: false });
        assert_eq!(
            class_of(&Method::GET, "/vocabularies/history"),
            Class::Query { expensive: false }
        );
    }
}
