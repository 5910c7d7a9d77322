//! The one mapping from node errors to HTTP answers: RFC 7807 `application/problem+json`
//! whose `type` is the EPCIS exception name.
//!
//! Owns: the status code and problem type of every [`crate::state::Error`] and of the refusals
//! only HTTP makes (token, body size and read time, media type, malformed input, unknown route
//! or method, busy query slots, an answer too large to give), including the rejections of
//! axum's extractors, so every error the node answers is a problem document. Problems that are
//! HTTP's alone (`405`, `408`, `503`) have no EPCIS exception and use `about:blank`. Does not
//! own the messages of the ledger side's errors: their text is the `detail`.

use std::time::Duration;

use axum::extract::rejection::{BytesRejection, FailedToBufferBody, JsonRejection};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::state;

/// An error answered to an HTTP client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The document or an event in it breaks the standard (names event and field).
    #[error("{0}")]
    Validation(String),
    /// A query parameter is malformed or unknown.
    #[error("{0}")]
    QueryParameter(String),
    /// Nothing has that identifier.
    #[error("{0}")]
    NotFound(String),
    /// A write or a full-view read without the node's token.
    #[error("this needs the node's API token: send `Authorization: Bearer <token>`")]
    Unauthorized,
    /// The organisation's role does not allow this kind of record.
    #[error("{0}")]
    Forbidden(String),
    /// The body is larger than the node accepts; nothing of it was stored.
    #[error("the request body{} exceeds the limit of {limit} bytes", declared_size(.received))]
    TooLarge {
        /// The limit in bytes, so a client knows how far to split its document.
        limit: usize,
        /// The size the client declared in `Content-Length`; `None` for a chunked body, whose
        /// reading stopped at the limit.
        received: Option<u64>,
    },
    /// The body's media type is not one we read.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The feed is frozen by a fork proof, or another state conflict.
    #[error("{0}")]
    Conflict(String),
    /// The route exists but not for this method.
    #[error("{method} is not allowed on {path}")]
    MethodNotAllowed {
        /// The method asked for.
        method: String,
        /// The path asked for.
        path: String,
    },
    /// The client stopped sending its body for longer than the body read timeout.
    #[error("the request body did not arrive in time; nothing of it was stored")]
    BodyTimeout,
    /// Every slot for expensive queries is taken; the client retries after `retry_after`.
    #[error("the node is answering as many queries as it allows; retry after {} s", .retry_after.as_secs())]
    Busy {
        /// When to retry (sent as `Retry-After`).
        retry_after: Duration,
    },
    /// The answer would name more lots than one answer may hold; a narrower question (fewer
    /// lots, a shorter window) gets an answer.
    #[error(
        "the answer names {found} lots, more than the {limit} one answer may hold: name fewer lots or narrow the time window"
    )]
    QueryTooLarge {
        /// Lots one answer may name.
        limit: usize,
        /// Lots this answer would name.
        found: usize,
    },
    /// A master-data answer would hold more vocabulary elements than asked for or allowed.
    #[error("{0}")]
    TooManyElements(String),
    /// A fault of this node (store, disk); logged in full, answered briefly.
    #[error("internal error: {0}")]
    Internal(String),
}

/// " of N bytes" when the client declared the size, else nothing.
fn declared_size(received: &Option<u64>) -> String {
    received.map(|received| format!(" of {received} bytes")).unwrap_or_default()
}

impl ApiError {
    fn status_and_type(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Validation(_) => {
                (StatusCode::BAD_REQUEST, "epcisException:ValidationException")
            }
            ApiError::QueryParameter(_) => {
                (StatusCode::BAD_REQUEST, "epcisException:QueryParameterException")
            }
            ApiError::NotFound(_) => {
                (StatusCode::NOT_FOUND, "epcisException:NoSuchResourceException")
            }
            ApiError::Unauthorized => {
                (StatusCode::UNAUTHORIZED, "epcisException:SecurityException")
            }
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "epcisException:SecurityException"),
            ApiError::TooLarge { .. } => {
                (StatusCode::PAYLOAD_TOO_LARGE, "epcisException:CaptureLimitExceededException")
            }
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "epcisException:UnsupportedMediaTypeException")
            }
            ApiError::Conflict(_) => {
                (StatusCode::CONFLICT, "epcisException:ResourceAlreadyExistsException")
            }
            ApiError::Internal(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "epcisException:ImplementationException")
            }
            ApiError::MethodNotAllowed { .. } => (StatusCode::METHOD_NOT_ALLOWED, "about:blank"),
            ApiError::BodyTimeout => (StatusCode::REQUEST_TIMEOUT, "about:blank"),
            ApiError::Busy { .. } => (StatusCode::SERVICE_UNAVAILABLE, "about:blank"),
            ApiError::QueryTooLarge { .. } | ApiError::TooManyElements(_) => {
                (StatusCode::PAYLOAD_TOO_LARGE, "epcisException:QueryTooLargeException")
            }
        }
    }

    /// The problem for a body that could not be read in full: over `limit`, cut off by the
    /// body read timeout, or broken off by the client.
    pub fn from_body_rejection(rejection: BytesRejection, limit: usize) -> Self {
        match rejection {
            BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_)) => {
                ApiError::TooLarge { limit, received: None }
            }
            other if timed_out(&other) => ApiError::BodyTimeout,
            other => ApiError::Validation(other.body_text()),
        }
    }

    /// The problem for a JSON body that could not be read (see [`Self::from_body_rejection`]),
    /// was sent without a JSON media type, or is not JSON.
    pub fn from_json_rejection(rejection: JsonRejection, limit: usize) -> Self {
        match rejection {
            JsonRejection::BytesRejection(rejection) => Self::from_body_rejection(rejection, limit),
            JsonRejection::MissingJsonContentType(rejection) => {
                ApiError::UnsupportedMediaType(rejection.body_text())
            }
            other => ApiError::Validation(other.body_text()),
        }
    }
}

/// Whether the body read failed because the body read timeout elapsed.
fn timed_out(rejection: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(rejection);
    while let Some(error) = cause {
        if error.is::<super::body_limit::BodyDeadline>() {
            return true;
        }
        cause = error.source();
    }
    false
}

impl From<QueryRejection> for ApiError {
    /// A query string that does not fit the route's parameters (a missing `id`, a non-number).
    fn from(rejection: QueryRejection) -> Self {
        ApiError::QueryParameter(rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    /// A path segment that cannot be read names no resource.
    fn from(rejection: PathRejection) -> Self {
        ApiError::NotFound(rejection.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, problem_type) = self.status_and_type();
        // A busy refusal is logged (rate-limited) where it is made, not once per request.
        if status.is_server_error() && !matches!(self, ApiError::Busy { .. }) {
            tracing::error!(error = %self, "request failed");
        }
        let mut body = serde_json::json!({
            "type": problem_type,
            "title": status.canonical_reason().unwrap_or("error"),
            "status": status.as_u16(),
            "detail": self.to_string(),
        });
        // RFC 7807 extension members, so a client need not parse `detail` for the numbers.
        match &self {
            ApiError::TooLarge { limit, received } => {
                body["limit"] = serde_json::json!(limit);
                if let Some(received) = received {
                    body["received"] = serde_json::json!(received);
                }
            }
            ApiError::QueryTooLarge { limit, found } => {
                body["limit"] = serde_json::json!(limit);
                body["found"] = serde_json::json!(found);
            }
            _ => {}
        }
        let mut response = (status, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        match &self {
            ApiError::Busy { retry_after } => {
                headers
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after.as_secs().max(1)));
            }
            // The rest of the body may still be on its way: the connection cannot be reused.
            ApiError::BodyTimeout => {
                headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            _ => {}
        }
        response
    }
}

impl From<state::Error> for ApiError {
    /// Every refusal and failure of the ledger side, as the problem a client gets: the rule
    /// broken decides the status and EPCIS exception, the error's message is the `detail`.
    fn from(error: state::Error) -> Self {
        use state::Error;
        let detail = error.to_string();
        match error {
            Error::Document(_)
            | Error::EmptyDocument
            | Error::MasterData(_)
            | Error::Signing(_)
            | Error::AppendRefused(_)
            | Error::UnknownNotice { .. }
            | Error::UnknownExcursion { .. } => ApiError::Validation(detail),
            Error::Acknowledgement(
                lotline_ledger::coldchain::AcknowledgementError::NotCustodian { .. },
            ) => ApiError::Forbidden(detail),
            Error::Acknowledgement(_) => ApiError::Validation(detail),
            Error::QueryTime { .. }
            | Error::PageSize { .. }
            | Error::PageToken { .. }
            | Error::UnsupportedQueryParameter { .. }
            | Error::MasterDataParameter { .. } => ApiError::QueryParameter(detail),
            Error::UnknownEvent { .. } | Error::NoCheckpoint { .. } => ApiError::NotFound(detail),
            Error::RoleRefused { .. } => ApiError::Forbidden(detail),
            Error::Equivocation(_) => ApiError::Conflict(detail),
            Error::Storage(_)
            | Error::IndexedEntryMissing { .. }
            | Error::IndexedEntryNotEvent
            | Error::StoredEventUnreadable(_)
            | Error::NothingAppended => ApiError::Internal(detail),
            Error::RecallTooWide { limit, found } => ApiError::QueryTooLarge { limit, found },
            Error::TooManyElements { .. } => ApiError::TooManyElements(detail),
        }
    }
}
