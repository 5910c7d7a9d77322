//! `lotline epcis check|hash|convert FILE`: offline work on EPCIS 2.0 documents.
//!
//! Owns reading the file and printing results. Deliberately does not own any EPCIS rule: the
//! parse, validation, hash and both writers are `lotline_ledger::epcis`, so `check` answers
//! exactly what a node's capture endpoint would.

use std::path::Path;

use anyhow::Result;
use clap::{Subcommand, ValueEnum};
use lotline_client::ExitStatus;
use lotline_ledger::epcis;

use super::read_input_file;

/// The `epcis` subcommands.
#[derive(Debug, Subcommand)]
pub enum EpcisCommand {
    /// Validate a document (JSON-LD or XML); prints `ok: N events` or the broken rule.
    Check {
        /// The EPCIS document.
        file: std::path::PathBuf,
    },
    /// Print the Event Hash ID of every event, one per line, in document order.
    Hash {
        /// The EPCIS document.
        file: std::path::PathBuf,
    },
    /// Re-serialise a document from the model in the other (or the same) binding.
    Convert {
        /// The EPCIS document.
        file: std::path::PathBuf,
        /// The binding to write.
        #[arg(long, value_enum)]
        to: Binding,
    },
}

/// An EPCIS 2.0 binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Binding {
    /// JSON-LD.
    Jsonld,
    /// XML.
    Xml,
}

/// Runs one `epcis` subcommand.
pub fn run(command: &EpcisCommand) -> Result<ExitStatus> {
    match command {
        EpcisCommand::Check { file } => check(file),
        EpcisCommand::Hash { file } => hash(file),
        EpcisCommand::Convert { file, to } => convert(file, *to),
    }
}

/// Reads and parses `file`; on a broken rule prints the ledger's line and gives `None`.
fn parse(file: &Path) -> Result<Option<epcis::Document>> {
    let bytes = read_input_file(file)?;
    match epcis::parse_document(&bytes) {
        Ok(document) => Ok(Some(document)),
        Err(error) => {
            eprintln!("error: {error}");
            Ok(None)
        }
    }
}

fn check(file: &Path) -> Result<ExitStatus> {
    let Some(document) = parse(file)? else { return Ok(ExitStatus::InvalidInput) };
    println!("ok: {} events", document.events.len());
    Ok(ExitStatus::Success)
}

/// Hashes every event. A hash id is a function of an event's content, so an XML document
/// that breaks only the XSD's element order or a binding-neutral rule is still hashed (read
/// leniently, with a warning naming the broken rule), as the reference vectors expect.
fn hash(file: &Path) -> Result<ExitStatus> {
    let bytes = read_input_file(file)?;
    let document = match epcis::parse_document(&bytes) {
        Ok(document) => document,
        Err(strict_error) => {
            let lenient_options = epcis::xml::ParseOptions {
                conformance: epcis::xml::Conformance::Lenient,
                check_standard_rules: false,
            };
            let is_xml = bytes.iter().find(|byte| !byte.is_ascii_whitespace()) == Some(&b'<');
            match is_xml.then(|| epcis::xml::parse_document_with(&bytes, &lenient_options)) {
                Some(Ok(document)) => {
                    eprintln!("warning: {strict_error}; hashing the events' content anyway");
                    document
                }
                _ => {
                    eprintln!("error: {strict_error}");
                    return Ok(ExitStatus::InvalidInput);
                }
            }
        }
    };
    for event_hash_id in epcis::hash::document_event_hash_ids(&document) {
        println!("{event_hash_id}");
    }
    Ok(ExitStatus::Success)
}

fn convert(file: &Path, binding: Binding) -> Result<ExitStatus> {
    let Some(document) = parse(file)? else { return Ok(ExitStatus::InvalidInput) };
    let serialised = match binding {
        Binding::Jsonld => epcis::to_json_ld_string(&document),
        Binding::Xml => epcis::xml::to_xml(&document),
    };
    print!("{serialised}");
    if !serialised.ends_with('\n') {
        println!();
    }
    Ok(ExitStatus::Success)
}
