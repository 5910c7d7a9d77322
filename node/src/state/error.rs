//! Why the node's ledger side refused or failed a request: one variant per rule broken.
//!
//! Owns the error values of [`super::Ledger`]'s methods and their messages (written to be shown
//! to whoever sent the request: they name the event, field, parameter or entry concerned).
//! Does not own how an error is answered: `crate::http` maps each variant to a status code and
//! an RFC 7807 problem type in one place.

use lotline_ledger::entry::PayloadKind;
use lotline_ledger::feed::{self, BatchError};
use lotline_ledger::identity::PublicKey;
use lotline_ledger::{epcis, masterdata, store};

use super::catalogue::MAX_PER_PAGE;

/// A request the node's ledger side refused, or a failure of its own.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The capture document, or an event in it, breaks the EPCIS standard (the error names the
    /// event and field).
    #[error(transparent)]
    Document(#[from] epcis::Error),
    /// The capture document holds no event: nothing would be signed.
    #[error("document: eventList has no events")]
    EmptyDocument,
    /// The document's master data breaks a rule: an unknown vocabulary type, a malformed
    /// attribute, an identifier that is not a GS1 key or that this organisation does not own
    /// (names the element and the rule); nothing of the document is stored.
    #[error("master data: {0}")]
    MasterData(#[from] masterdata::Error),
    /// A master-data query parameter holds a value it cannot take.
    #[error("{parameter}: {value:?} {rule}")]
    MasterDataParameter {
        /// The parameter.
        parameter: String,
        /// The value given.
        value: String,
        /// What the parameter takes.
        rule: String,
    },
    /// A master-data query matches more elements than one answer may hold.
    #[error(
        "the query matches {found} vocabulary elements, more than the {limit} asked for or allowed: narrow it (vocabularyName, EQ_name, HASATTR)"
    )]
    TooManyElements {
        /// Elements one answer may hold.
        limit: usize,
        /// Elements the query matched.
        found: usize,
    },
    /// A payload could not be signed as this organisation's next entry (too large to encode,
    /// no randomness for its salt).
    #[error(transparent)]
    Signing(#[from] feed::Error),
    /// The ledger's append rules refuse an entry of the batch (role, roster, link); nothing of
    /// the batch is stored.
    #[error("{0}")]
    AppendRefused(BatchError),
    /// An entry contradicts a stored entry at the same position of its feed: a fork proof is
    /// stored and the feed frozen. Holds the store's `Equivocation`, which names the entry.
    #[error("{0}")]
    Equivocation(store::Error),
    /// The store failed (disk, corruption); a fault of this node, not of the request.
    #[error("{0}")]
    Storage(store::Error),
    /// The organisation's roles do not allow it to write records of this kind.
    #[error("this organisation's roles do not allow {kind}")]
    RoleRefused {
        /// The refused record kind.
        kind: PayloadKind,
    },
    /// A recall acknowledgement names a notice this node does not hold: no recall notice at
    /// that position of that feed with that entry hash.
    #[error(
        "record field notice: no recall notice {sequence} of {author} with entry hash {entry_hash} on this node"
    )]
    UnknownNotice {
        /// The notice's feed.
        author: PublicKey,
        /// Its position.
        sequence: u64,
        /// Its entry hash, as given.
        entry_hash: String,
    },
    /// An excursion acknowledgement names an entry this node does not hold as an excursion
    /// record: no excursion at that position of that feed with that entry hash.
    #[error(
        "record field excursion: no excursion record {sequence} of {author} with entry hash {entry_hash} on this node"
    )]
    UnknownExcursion {
        /// The record's feed.
        author: PublicKey,
        /// Its position.
        sequence: u64,
        /// Its entry hash, as given.
        entry_hash: String,
    },
    /// An excursion acknowledgement breaks the acknowledgement rule: the excursion is
    /// ongoing, this organisation held no custody during it, or the reason has no words.
    #[error("record field excursion: {0}")]
    Acknowledgement(lotline_ledger::coldchain::AcknowledgementError),
    /// No indexed event has this Event Hash ID or declared `eventID`.
    #[error("no event with id {event_id} on this node")]
    UnknownEvent {
        /// The id asked for.
        event_id: String,
    },
    /// This node holds no signed checkpoint of the feed yet.
    #[error("no checkpoint of {author} on this node yet")]
    NoCheckpoint {
        /// The feed's author.
        author: PublicKey,
    },
    /// An EPCIS query time parameter is not a date-time with an offset.
    #[error("{parameter}: {value:?} is not a date-time with an offset like 2024-05-01T10:00:00Z")]
    QueryTime {
        /// The parameter (`GE_eventTime`, ...).
        parameter: String,
        /// The value given.
        value: String,
    },
    /// `perPage` is not a page size this node serves.
    #[error("perPage: {value:?} is not a number from 1 to {max}", max = MAX_PER_PAGE)]
    PageSize {
        /// The value given.
        value: String,
    },
    /// `nextPageToken` is not a position this node handed out (tokens are positions of
    /// existing catalogue rows).
    #[error("nextPageToken: {token:?} is not a token this node issued")]
    PageToken {
        /// The token given.
        token: String,
    },
    /// An EPCIS query parameter this node does not implement: refused rather than ignored, so
    /// a query never silently matches more than asked.
    #[error("query parameter {parameter} is not supported by this node (see /openapi.json)")]
    UnsupportedQueryParameter {
        /// The parameter's name.
        parameter: String,
    },
    /// An entry the catalogue points at is not in the store (the views are derived from the
    /// store, so this is a fault of this node).
    #[error("indexed entry {sequence} of {author} is missing")]
    IndexedEntryMissing {
        /// The feed.
        author: PublicKey,
        /// The entry's position.
        sequence: u64,
    },
    /// An entry the catalogue points at carries no EPCIS event.
    #[error("indexed entry carries no event")]
    IndexedEntryNotEvent,
    /// A stored event no longer reads as an event (it was read once to be indexed).
    #[error("{0}")]
    StoredEventUnreadable(epcis::Error),
    /// An append returned no entry for the one payload it was given.
    #[error("nothing appended")]
    NothingAppended,
    /// A recall scope names more lots than one answer may hold: refused before its evidence
    /// (the signed entries and their proofs, most of an answer's size) is gathered.
    #[error(
        "the recall scope names {found} lots, more than the {limit} one answer may hold: narrow the time window or name the lots"
    )]
    RecallTooWide {
        /// Lots one answer may name.
        limit: usize,
        /// Lots the scope reached.
        found: usize,
    },
}

impl From<store::Error> for Error {
    /// Sorts a store error by whose fault it is: the request's (a refused or equivocating
    /// entry) or this node's (everything else).
    fn from(error: store::Error) -> Self {
        match error {
            store::Error::Rejected(refused) => Self::AppendRefused(refused),
            equivocation @ store::Error::Equivocation { .. } => Self::Equivocation(equivocation),
            other => Self::Storage(other),
        }
    }
}
