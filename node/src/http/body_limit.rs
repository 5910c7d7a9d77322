//! The request body limit: a body larger than [`MAX_BODY_BYTES`] is answered with an RFC 7807
//! `413` naming the limit, and nothing of it reaches a handler or the store.
//!
//! Owns: the early `Content-Length` check, made before a byte of the body is read (a client
//! that declares a huge body gets its answer at once instead of the server waiting for, or
//! reading, the body), and turning the streaming limit's rejection (axum's plain-text `413` for
//! a chunked body that outgrows the limit while it is read) into the same problem document.
//! Does not own: the streaming limit itself (axum's `DefaultBodyLimit`, set in `router`).

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{ApiError, MAX_BODY_BYTES};

/// Middleware on every route: refuses a declared oversized body before the handler runs, and
/// rewrites a `413` raised while streaming a body into the problem document.
pub(super) async fn reject_oversized_bodies(request: Request, next: Next) -> Response {
    if let Some(declared) = declared_length(request.headers())
        && declared > MAX_BODY_BYTES as u64
    {
        let mut response =
            ApiError::TooLarge { limit: MAX_BODY_BYTES, received: Some(declared) }.into_response();
        // The body stays unread: closing the connection spares both sides its transfer (the
        // server would otherwise have to drain it to reuse the connection).
        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        return response;
    }
    let response = next.run(request).await;
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_problem_document(&response) {
        // Only axum's body extractors answer 413 in plain text, when the streaming limit is hit.
        return ApiError::TooLarge { limit: MAX_BODY_BYTES, received: None }.into_response();
    }
    response
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
