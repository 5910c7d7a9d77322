//! EPCIS 2.0 / CBV 2.0: the binding-neutral event model, the JSON-LD binding, validation and
//! the EPCIS Event Hash ID.
//!
//! Owns: [`model`] (documents and events, lossless), [`cbv`] (the CBV 2.0 word lists),
//! [`error`] (the one error type every binding reports), and the JSON-LD and hash modules.
//! Deliberately does not own GS1 identifier syntax (that is [`crate::gs1`]) nor the XML
//! binding's internals ([`xml`], written separately against this model).

pub mod cbv;
pub mod error;
pub mod model;
pub mod xml;

pub use error::{Error, ErrorLocation, Problem};
pub use model::*;
