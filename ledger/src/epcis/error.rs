//! The one error type of the EPCIS bindings: where in the document a rule broke and which rule.
//!
//! Owns the message format (`event 3 (TransformationEvent): needs at least one input and one
//! output`, `document: missing @context`). Does not decide which rules exist: the parsers and
//! [`super::validate`] do.

use std::fmt;

/// A rejected EPCIS document or event: the place ([`ErrorLocation`]) and the broken rule
/// ([`Problem`]).
///
/// Displays as `<location>: <problem>`, so one line names both the event and the rule, which is
/// what a capture client needs to fix its payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {problem}")]
pub struct Error {
    /// Which part of the document is wrong: the document itself or one event (by index).
    pub location: ErrorLocation,
    /// The rule that was broken there.
    pub problem: Problem,
}

impl Error {
    /// An error about the document as a whole (header, body, context, syntax).
    pub fn document(problem: Problem) -> Self {
        Self { location: ErrorLocation::Document, problem }
    }

    /// An error about the event at `index` (0-based, document order) whose type is written
    /// `event_type` (kept as written so an unknown type can still be named).
    pub fn event(index: usize, event_type: impl Into<String>, problem: Problem) -> Self {
        Self { location: ErrorLocation::Event { index, event_type: event_type.into() }, problem }
    }
}

/// Where a rule broke.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorLocation {
    /// The document: its syntax, header, context or body structure. Displays as `document`.
    Document,
    /// One event. Displays as `event <index> (<event_type>)`.
    Event {
        /// 0-based position in the document's event list, so the sender can find it.
        index: usize,
        /// The event's `type` as written (`ObjectEvent`…, or whatever unknown text was sent).
        event_type: String,
    },
}

impl fmt::Display for ErrorLocation {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Document => formatter.write_str("document"),
            Self::Event { index, event_type } => write!(formatter, "event {index} ({event_type})"),
        }
    }
}

/// The broken rule. Messages are lowercase and name the rule, not the code path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// The bytes are not well-formed in their binding (JSON syntax, XML syntax).
    #[error("not well-formed {binding}: {detail}")]
    Syntax {
        /// `JSON` or `XML`.
        binding: &'static str,
        /// The parser's own description, with position.
        detail: String,
    },
    /// The bytes are neither JSON nor XML, or the binding is not supported here.
    #[error("unsupported binding: {0}")]
    UnsupportedBinding(String),
    /// A required field is absent.
    #[error("missing {0}")]
    MissingField(String),
    /// A field is present but its value breaks a rule: `field <name>: "<value>" <rule>`.
    #[error("field {field}: {value:?} {rule}")]
    InvalidValue {
        /// The field's name as written in the standard (`eventTimeZoneOffset`, `quantityList[0].uom`).
        field: String,
        /// The offending value, as written (truncated when very long).
        value: String,
        /// What the value should have been, e.g. `is not an offset like +02:00`.
        rule: String,
    },
    /// A field is present where the standard forbids it (`ilmd` on an OBSERVE event,
    /// a non-namespaced extension).
    #[error("field {field}: {rule}")]
    FieldNotAllowed {
        /// The field's name as written.
        field: String,
        /// Why it may not be there.
        rule: String,
    },
    /// A field has the wrong JSON/XML shape (a string where a list is needed, …).
    #[error("field {field}: expected {expected}")]
    WrongShape {
        /// The field's name as written.
        field: String,
        /// The shape the standard requires, e.g. `an array of strings`.
        expected: &'static str,
    },
    /// A cross-field rule of an event type is broken, e.g. the what-dimension.
    #[error("{0}")]
    Constraint(String),
}
