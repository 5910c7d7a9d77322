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

pub mod cbv;
pub mod error;
pub mod hash;
pub mod json;
pub mod model;
pub mod validate;
pub mod xml;

pub use error::{Error, ErrorLocation, Problem};
pub use hash::{document_event_hash_ids, event_hash_id, prehash_string};
pub use json::{
    event_to_json_ld, parse_event_json, parse_event_json_bytes, to_json_ld, to_json_ld_string,
};
pub use model::*;

/// Parses and validates an EPCIS 2.0 document in either binding: JSON-LD when the first
/// non-blank byte is `{`, XML when it is `<`.
pub fn parse_document(bytes: &[u8]) -> Result<Document, Error> {
    let without_bom = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match without_bom.iter().find(|byte| !byte.is_ascii_whitespace()) {
        Some(b'{') => json::parse_document(without_bom),
        Some(b'<') => xml::parse_document(without_bom),
        Some(_) => Err(Error::document(Problem::UnsupportedBinding(
            "the document is neither JSON-LD (starts with {) nor XML (starts with <)".to_owned(),
        ))),
        None => {
            Err(Error::document(Problem::UnsupportedBinding("the document is empty".to_owned())))
        }
    }
}
