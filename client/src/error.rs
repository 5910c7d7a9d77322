//! The client's one error type and the exit status each error maps to.
//!
//! Owns the wording a user sees when something goes wrong (one line that says what to do) and
//! the exit-code table of the `lotline` binary. Does not own the EPCIS or GS1 messages: those
//! come verbatim from `lotline_ledger` so the client and the node word a broken rule the same way.

use std::process::ExitCode;

/// How a `lotline` run ended, as the process exit code scripts can branch on.
///
/// The numbers are a contract (documented in `lotline --help`): they never change meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExitStatus {
    /// Everything worked and everything received verified.
    Success = 0,
    /// An unexpected failure that fits no other class (a local IO error, say).
    Failure = 1,
    /// The command line itself is wrong (clap reports these).
    Usage = 2,
    /// A file or identifier given by the user is not valid (bad EPCIS, bad CSV, bad Digital Link).
    InvalidInput = 3,
    /// The node could not be reached (not running, wrong address, timeout).
    Unreachable = 4,
    /// The node refused the token, or a write was attempted without one.
    Unauthorized = 5,
    /// The node understood the request and refused it (not found, validation, role).
    Rejected = 6,
    /// Something the node sent failed verification: a signature, a feed link, a proof or the
    /// witness policy. The answer must not be relied on.
    VerificationFailed = 7,
    /// The node answered with a server error or with something that is not the documented API.
    NodeError = 8,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        ExitCode::from(status as u8)
    }
}

/// Everything the client library can fail with.
///
/// Each message is one line that names the broken rule and, where the user can act, what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The node address is not an `http://host:port` URL.
    #[error(
        "node address {0:?} is not an http:// URL (pass --node http://HOST:PORT or set LOTLINE_NODE)"
    )]
    BadNodeUrl(String),
    /// The node address is `https://`, which this build cannot speak.
    #[error(
        "node address {0:?} uses https, which this lotline build does not speak: give the node's http:// address (nodes serve plain HTTP; put TLS in a proxy you reach over a trusted network)"
    )]
    TlsUnsupported(String),
    /// No TCP connection or no answer in time.
    #[error(
        "cannot reach the node at {url}: {reason} (is it running? check --node or LOTLINE_NODE)"
    )]
    Unreachable {
        /// The URL that was tried, so the user sees which address is wrong.
        url: String,
        /// The transport's own description.
        reason: String,
    },
    /// A write was attempted without a token.
    #[error(
        "this command writes to the node and needs its API token: pass --token or set LOTLINE_TOKEN"
    )]
    MissingToken,
    /// The node answered 401: the token is missing or wrong.
    #[error(
        "the node at {url} refused the token ({status}): check --token or LOTLINE_TOKEN{detail}"
    )]
    Unauthorized {
        /// The URL that refused.
        url: String,
        /// The HTTP status (401).
        status: u16,
        /// The node's own explanation, prefixed with `: ` when there is one.
        detail: String,
    },
    /// The node answered 4xx with a problem document.
    #[error("the node rejected the request ({status} {title}): {detail}")]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// The problem's title or type.
        title: String,
        /// The problem's detail (for capture: the event index and field).
        detail: String,
    },
    /// The node answered 5xx or with a body that is not the documented shape.
    #[error("the node at {url} gave an unusable answer: {detail}")]
    BadAnswer {
        /// The URL that answered.
        url: String,
        /// What was wrong with the answer.
        detail: String,
    },
    /// Something the node sent failed verification.
    #[error("verification failed: {0}")]
    Verification(#[from] crate::verify::VerifyError),
    /// An identifier given by the user is not a Digital Link, EPC URN or GTIN/LOT.
    #[error(
        "{input:?} is not a lot or item identifier: {reason} (give a GS1 Digital Link, an EPC URN or GTIN/LOT such as 09506000134352/LOT42)"
    )]
    BadIdentifier {
        /// What the user typed.
        input: String,
        /// Why it was not accepted.
        reason: String,
    },
}

impl Error {
    /// The exit status a CLI run ending in this error should report.
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            Self::BadNodeUrl(_) | Self::TlsUnsupported(_) | Self::BadIdentifier { .. } => {
                ExitStatus::InvalidInput
            }
            Self::Unreachable { .. } => ExitStatus::Unreachable,
            Self::MissingToken | Self::Unauthorized { .. } => ExitStatus::Unauthorized,
            Self::Rejected { .. } => ExitStatus::Rejected,
            Self::BadAnswer { .. } => ExitStatus::NodeError,
            Self::Verification(_) => ExitStatus::VerificationFailed,
        }
    }
}
