//! Request body limits per route: a body larger than its route's limit is answered with an
//! RFC 7807 `413` naming the limit, and nothing of it reaches a handler or the store.
//!
//! Owns: the limits themselves ([`MAX_BODY_BYTES`] for a capture document, [`SMALL_BODY_BYTES`]
//! for every other route: a record or a recall question is a few lines of JSON), the early
//! `Content-Length` check, made before a byte of the body is read (a client that declares a
//! huge body gets its answer at once instead of the server waiting for, or reading, the body),
//! and turning a streaming limit's plain-text `413` into the same problem document; and the
//! body read deadline: a body must arrive in full within the body timeout of its head, so a
//! client that trickles or stalls its body holds a connection (and, on the recall route, a
//! query slot) for that long at most. Does not own the streaming limit (axum's
//! `DefaultBodyLimit`, set per route in `router` from [`limit_of`]) nor the token check,
//! which runs first (`admission`).

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt as _;

use super::ApiError;

/// Largest capture document accepted; larger ones get a problem+json `413`.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Largest body of every route but `POST /capture` (a ledger record, a recall question).
pub const SMALL_BODY_BYTES: usize = 64 * 1024;

/// The body limit of the route at `path` (as routed).
pub fn limit_of(path: &str) -> usize {
    if path == "/capture" { MAX_BODY_BYTES } else { SMALL_BODY_BYTES }
}

/// Route middleware: refuses a declared oversized body before the handler runs, and rewrites a
/// `413` raised while streaming a body into the problem document.
pub(super) async fn reject_oversized_bodies(
    matched: Option<MatchedPath>,
    request: Request,
    next: Next,
) -> Response {
    let limit = limit_of(matched.as_ref().map(MatchedPath::as_str).unwrap_or_default());
    if let Some(declared) = declared_length(request.headers())
        && declared > limit as u64
    {
        let mut response = ApiError::TooLarge { limit, received: Some(declared) }.into_response();
        // The body stays unread: closing the connection spares both sides its transfer (the
        // server would otherwise have to drain it to reuse the connection).
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        return response;
    }
    let response = next.run(request).await;
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_problem_document(&response) {
        return ApiError::TooLarge { limit, received: None }.into_response();
    }
    response
}

/// A body did not arrive in full within the body timeout.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within the body timeout")]
pub struct BodyDeadline;

/// Middleware on every request that carries a body: the body's pieces must all arrive before
/// `timeout` from now; the reader of a late one gets a [`BodyDeadline`] error (answered `408`
/// by `ApiError::from_body_rejection`). A deadline for the whole body, not per piece: a piece
/// a minute would otherwise keep a connection forever.
pub(super) async fn limit_body_time(
    State(timeout): State<Duration>,
    request: Request,
    next: Next,
) -> Response {
    let carries_body = request.headers().contains_key(header::TRANSFER_ENCODING)
        || declared_length(request.headers()).is_some_and(|declared| declared > 0);
    if !carries_body {
        return next.run(request).await;
    }
    let deadline = tokio::time::Instant::now() + timeout;
    let request = request.map(|body| {
        let pieces = body.into_data_stream();
        Body::from_stream(futures::stream::unfold(Some(pieces), move |pieces| async move {
            let mut pieces = pieces?;
            match tokio::time::timeout_at(deadline, pieces.next()).await {
                Ok(Some(Ok(piece))) => Some((Ok::<Bytes, axum::BoxError>(piece), Some(pieces))),
                Ok(Some(Err(error))) => Some((Err(error.into()), None)),
                Ok(None) => None,
                Err(_) => Some((Err(BodyDeadline.into()), None)),
            }
        }))
    });
    next.run(request).await
}

/// The body size the client declared, if it sent a well-formed `Content-Length` (hyper has
/// already refused a malformed one).
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(header::CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

fn is_problem_document(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|content_type| content_type.as_bytes() == b"application/problem+json")
}
