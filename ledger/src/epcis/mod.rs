//! EPCIS 2.0 / CBV 2.0: the binding-neutral event model, the JSON-LD binding, validation and
//! the EPCIS Event Hash ID.
//!
//! Owns: [`model`] (documents and events, lossless), [`cbv`] (the CBV 2.0 word lists),
//! [`error`] (the one error type every binding reports), [`json`] (JSON-LD read/write),
//! [`validate`] (the standard's rules, binding-independent) and [`hash`] (the Event Hash ID).
//! Deliberately does not own GS1 identifier syntax (that is [`crate::gs1`]) nor the XML
//! binding's internals ([`xml`], written separately against this model).
//!
//! **API Boundary:** [`parse_document`] is the one entry point for capture payloads: it sniffs
//! the binding, parses and validates, so a caller never holds an unchecked [`Document`].
//! [`decode_stored_event`] is the one way to read an event back from a feed entry, for the
//! node (index, catalogue, queries) and the client (verification) alike.

pub mod cbv;
pub mod error;
pub mod hash;
pub mod json;
pub mod model;
pub mod validate;
pub mod xml;

use crate::records::EventFormat;
pub use error::{Error, ErrorLocation, Problem};
pub use hash::{document_event_hash_ids, event_hash_id, prehash_string};
pub use json::{
    document_envelope, event_to_json_ld, parse_event_json, parse_event_json_bytes,
    query_document_envelope, to_json_ld, to_json_ld_string,
};
pub use model::*;

/// Parses and validates an EPCIS 2.0 document in either binding: JSON-LD when the first
/// non-blank byte is `{`, XML when it is `<`.
pub fn parse_document(bytes: &[u8]) -> Result<Document, Error> {
    let without_bom = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match binding_of_document(without_bom) {
        Some(EventFormat::Xml) => xml::parse_document(without_bom),
        Some(_) => json::parse_document(without_bom),
        None if without_bom.iter().all(u8::is_ascii_whitespace) => {
            Err(Error::document(Problem::UnsupportedBinding("the document is empty".to_owned())))
        }
        None => Err(Error::document(Problem::UnsupportedBinding(
            "the document is neither JSON-LD (starts with {) nor XML (starts with <)".to_owned(),
        ))),
    }
}

/// The binding a document is written in, by its first non-blank byte after any byte order
/// mark: `{` is JSON-LD, `<` is XML; `None` for anything else. [`parse_document`] reads a
/// document by this rule, so a caller that was told a binding (an HTTP `Content-Type`) can
/// refuse a body written in the other one.
pub fn binding_of_document(bytes: &[u8]) -> Option<EventFormat> {
    let without_bom = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match without_bom.iter().find(|byte| !byte.is_ascii_whitespace()) {
        Some(b'{') => Some(EventFormat::JsonLd),
        Some(b'<') => Some(EventFormat::Xml),
        _ => None,
    }
}

/// Reads back one event as a feed entry stores it (`records::EpcisCapture::original`): XML
/// when the first non-blank byte is `<`, otherwise JSON-LD through the streaming reader
/// ([`parse_event_json_bytes`], which gives the strict tree reader's event or error). Stored
/// bytes are signed by their author but not trusted to be well-formed, so the event is
/// validated as a capture would be.
pub fn decode_stored_event(original: &[u8]) -> Result<Event, Error> {
    match original.iter().find(|byte| !byte.is_ascii_whitespace()) {
        Some(b'<') => xml::parse_event(original),
        _ => parse_event_json_bytes(original),
    }
}
