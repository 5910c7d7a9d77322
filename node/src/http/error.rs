//! The one mapping from node errors to HTTP answers: RFC 7807 `application/problem+json`
//! whose `type` is the EPCIS exception name.
//!
//! Owns: the status code and problem type of every [`crate::state::Error`] and of the refusals
//! only HTTP makes (token, body size, media type, malformed input). Does not own the messages
//! of the ledger side's errors: their text is the `detail`.

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
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, problem_type) = self.status_and_type();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let mut body = serde_json::json!({
            "type": problem_type,
            "title": status.canonical_reason().unwrap_or("error"),
            "status": status.as_u16(),
            "detail": self.to_string(),
        });
        // RFC 7807 extension members, so a client need not parse `detail` for the numbers.
        if let ApiError::TooLarge { limit, received } = &self {
            body["limit"] = serde_json::json!(limit);
            if let Some(received) = received {
                body["received"] = serde_json::json!(received);
            }
        }
        let mut response = (status, body.to_string()).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
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
            | Error::Signing(_)
            | Error::AppendRefused(_) => ApiError::Validation(detail),
            Error::QueryTime { .. }
            | Error::PageSize { .. }
            | Error::PageToken { .. }
            | Error::UnsupportedQueryParameter { .. } => ApiError::QueryParameter(detail),
            Error::UnknownEvent { .. } | Error::NoCheckpoint { .. } => ApiError::NotFound(detail),
            Error::RoleRefused { .. } => ApiError::Forbidden(detail),
            Error::Equivocation(_) => ApiError::Conflict(detail),
            Error::Storage(_)
            | Error::IndexedEntryMissing { .. }
            | Error::IndexedEntryNotEvent
            | Error::StoredEventUnreadable(_)
            | Error::NothingAppended => ApiError::Internal(detail),
        }
    }
}
