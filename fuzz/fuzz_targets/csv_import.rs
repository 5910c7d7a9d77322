//! Fuzz target `csv_import`: the CSV capture template (`lotline_client::csv_template`), which
//! turns a small supplier's spreadsheet rows into an EPCIS 2.0 JSON-LD document.
//!
//! Owns the template's property: whatever document it builds parses with
//! `lotline_ledger::epcis::parse_document` (the template checks every cell it writes, so a file
//! it accepts is never refused afterwards) with one event per group of lines it reports, and a
//! file it refuses is refused with at least one line error. Does not own EPCIS parsing itself
//! (`epcis_json`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use lotline_client::csv_template;
use lotline_ledger::epcis;

fuzz_target!(|bytes: &[u8]| {
    let template = match csv_template::parse_template(bytes, |_| {}) {
        Ok(template) => template,
        Err(errors) => {
            assert!(!errors.0.is_empty(), "a refused file names at least one line");
            assert!(errors.0.iter().all(|error| error.line >= 1), "lines count from 1");
            return;
        }
    };
    let document_bytes = serde_json::to_vec(&template.document).expect("a JSON value serialises");
    let document = epcis::parse_document(&document_bytes).unwrap_or_else(|error| {
        panic!(
            "the template built a document EPCIS refuses: {error}\n{}",
            String::from_utf8_lossy(&document_bytes)
        )
    });
    assert_eq!(document.events.len(), template.event_lines.len(), "one line group per event");
    assert!(
        template
            .event_lines
            .iter()
            .all(|lines| !lines.is_empty() && lines.iter().all(|line| *line >= 2)),
        "every event comes from data lines (the header is line 1)"
    );
});
