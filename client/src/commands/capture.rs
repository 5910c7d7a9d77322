//! `lotline capture FILE`: send EPCIS events (JSON-LD, XML, or the CSV template) to the node,
//! after checking them locally so a bad file fails before anything is sent.
//!
//! Owns format detection, batching of large documents under the node's body limit, and the
//! progress bar. Deliberately does not own EPCIS rules (`lotline_ledger::epcis`) nor the CSV
//! template's rules (`lotline_client::csv_template`).

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use lotline_client::ExitStatus;
use lotline_client::api::CaptureJob;
use lotline_client::render::{Table, print_json};
use lotline_client::{csv_masterdata, csv_template};
use lotline_ledger::{epcis, masterdata};
use serde_json::json;

use super::{Context, InvalidInput, read_input_file};

/// Documents up to this size are sent as they are; larger ones are split into batches. The
/// node accepts 16 MiB; half leaves room for re-serialisation growth.
const SINGLE_REQUEST_BYTES: usize = 8 * 1024 * 1024;

/// Events per capture request when a document is split.
const EVENTS_PER_BATCH: usize = 2_000;

/// Files with more rows or events than this get a progress bar.
const PROGRESS_THRESHOLD: u64 = 1_000;

/// `lotline capture` options.
#[derive(Debug, Args)]
pub struct CaptureArgs {
    /// The file: an EPCIS 2.0 document (JSON-LD or XML) or a CSV template file.
    file: PathBuf,
    /// The file's format (default: from the extension, else from the content).
    #[arg(long, value_enum, default_value_t = Format::Auto)]
    format: Format,
    /// Check and convert only; send nothing (with --json, print the EPCIS document).
    #[arg(long)]
    dry_run: bool,
}

/// Input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// `.csv` is the template; anything else is sniffed as JSON-LD or XML.
    Auto,
    /// EPCIS 2.0 JSON-LD.
    Jsonld,
    /// EPCIS 2.0 XML.
    Xml,
    /// The CSV template of docs/csv-template.md.
    Csv,
}

/// Runs `lotline capture`.
pub fn run(arguments: &CaptureArgs, context: &Context) -> Result<ExitStatus> {
    let bytes = read_input_file(&arguments.file)?;
    let is_csv = match arguments.format {
        Format::Csv => true,
        Format::Auto => arguments
            .file
            .extension()
            .is_some_and(|extension| extension.eq_ignore_ascii_case("csv")),
        Format::Jsonld | Format::Xml => false,
    };
    let document = if is_csv {
        document_from_csv(&arguments.file, &bytes)?
    } else {
        epcis::parse_document(&bytes)?
    };
    if arguments.dry_run {
        if context.json {
            println!("{}", epcis::to_json_ld_string(&document));
        } else {
            let elements: usize = document
                .master_data
                .iter()
                .flatten()
                .map(|vocabulary| vocabulary.elements.len())
                .sum();
            let master_data = if elements > 0 {
                format!(", {elements} master-data elements")
            } else {
                String::new()
            };
            println!("ok: {} events{master_data} (nothing sent)", document.events.len());
        }
        return Ok(ExitStatus::Success);
    }
    let client = context.client()?;
    let batches: Vec<(Vec<u8>, &str)> = if !is_csv && bytes.len() <= SINGLE_REQUEST_BYTES {
        let content_type = if bytes.trim_ascii_start().starts_with(b"<") {
            "application/xml"
        } else {
            "application/ld+json"
        };
        vec![(bytes, content_type)]
    } else {
        split_into_batches(&document)
    };
    let progress_bar = progress_bar(document.events.len() as u64, "events sent");
    let mut jobs: Vec<CaptureJob> = Vec::new();
    for (batch_bytes, content_type) in &batches {
        let job = client.capture(batch_bytes, content_type)?;
        progress_bar.inc(job.event_ids.len() as u64);
        jobs.push(job);
    }
    progress_bar.finish_and_clear();
    let event_ids: Vec<&String> = jobs.iter().flat_map(|job| &job.event_ids).collect();
    let all_succeeded = jobs.iter().all(|job| job.success);
    let statements_recorded: usize = jobs.iter().map(|job| job.statements_recorded).sum();
    let statements_unchanged: usize = jobs.iter().map(|job| job.statements_unchanged).sum();
    if context.json {
        let capture_ids: Vec<&String> = jobs.iter().map(|job| &job.capture_id).collect();
        print_json(&json!({
            "success": all_succeeded,
            "captureIDs": capture_ids,
            "eventIDs": event_ids,
            "statementsRecorded": statements_recorded,
            "statementsUnchanged": statements_unchanged,
        }))?;
    } else {
        println!("captured {} events in {} request(s)", event_ids.len(), jobs.len());
        if statements_recorded + statements_unchanged > 0 {
            println!(
                "master data: {statements_recorded} statement(s) signed, \
                 {statements_unchanged} already in force unchanged"
            );
        }
        let mut table = Table::new(["#", "event id"]);
        for (index, event_id) in event_ids.iter().enumerate() {
            table.push([index.to_string(), (*event_id).clone()]);
        }
        print!("{}", table.render());
    }
    if all_succeeded {
        Ok(ExitStatus::Success)
    } else {
        for job in jobs.iter().filter(|job| !job.success) {
            eprintln!("error: capture {} failed: {:?}", job.capture_id, job.errors);
        }
        Ok(ExitStatus::Rejected)
    }
}

/// Reads the CSV master-data sheet, printing every bad line, and checks the result with the
/// ledger's master-data rules.
fn master_data_from_csv(path: &Path, bytes: &[u8]) -> Result<epcis::Document> {
    let document = csv_masterdata::parse_master_data(bytes).map_err(|errors| {
        for line_error in &errors.0 {
            eprintln!("{}:{line_error}", path.display());
        }
        InvalidInput(format!(
            "{} has {} problem(s) (listed above); nothing was sent",
            path.display(),
            errors.0.len()
        ))
    })?;
    let document = epcis::parse_document(&serde_json::to_vec(&document)?)
        .map_err(|error| InvalidInput(format!("{}: {}", path.display(), error.problem)))?;
    masterdata::statements_of(&document)
        .map_err(|error| InvalidInput(format!("{}: {error}", path.display())))?;
    Ok(document)
}

/// Reads the CSV template, printing every bad line, and validates the result with the ledger.
fn document_from_csv(path: &Path, bytes: &[u8]) -> Result<epcis::Document> {
    let header_line = bytes.split(|byte| *byte == b'\n').next().unwrap_or_default();
    if csv_masterdata::is_master_data_header(&String::from_utf8_lossy(header_line)) {
        return master_data_from_csv(path, bytes);
    }
    let row_count = bytes.iter().filter(|byte| **byte == b'\n').count() as u64;
    let progress_bar = progress_bar(row_count, "rows read");
    let outcome = csv_template::parse_template(bytes, |_| progress_bar.inc(1));
    progress_bar.finish_and_clear();
    let template = match outcome {
        Ok(template) => template,
        Err(errors) => {
            for line_error in &errors.0 {
                eprintln!("{}:{line_error}", path.display());
            }
            return Err(InvalidInput(format!(
                "{} has {} problem(s) (listed above); nothing was sent",
                path.display(),
                errors.0.len()
            ))
            .into());
        }
    };
    let document_bytes = serde_json::to_vec(&template.document)?;
    epcis::parse_document(&document_bytes).map_err(|error| {
        let lines = match &error.location {
            epcis::ErrorLocation::Event { index, .. } => template
                .event_lines
                .get(*index)
                .map(|lines| {
                    let line_texts: Vec<String> = lines.iter().map(u64::to_string).collect();
                    format!("line {}: ", line_texts.join(", "))
                })
                .unwrap_or_default(),
            _ => String::new(),
        };
        InvalidInput(format!("{}:{lines}{}", path.display(), error.problem)).into()
    })
}

/// Splits a document into JSON-LD capture documents of [`EVENTS_PER_BATCH`] events each; the
/// master data travels with the first (a document of master data alone is one batch).
fn split_into_batches(document: &epcis::Document) -> Vec<(Vec<u8>, &'static str)> {
    let mut chunks: Vec<&[epcis::Event]> = document.events.chunks(EVENTS_PER_BATCH).collect();
    if chunks.is_empty() && document.master_data.is_some() {
        chunks.push(&[]);
    }
    chunks
        .into_iter()
        .enumerate()
        .map(|(position, events)| {
            let mut batch_document = document.clone();
            batch_document.events = events.to_vec();
            if position > 0 {
                batch_document.master_data = None;
            }
            (epcis::to_json_ld_string(&batch_document).into_bytes(), "application/ld+json")
        })
        .collect()
}

/// A progress bar on stderr for `length` units, hidden for small jobs (and by indicatif when
/// stderr is not a terminal).
fn progress_bar(length: u64, unit: &'static str) -> ProgressBar {
    if length < PROGRESS_THRESHOLD {
        return ProgressBar::hidden();
    }
    let progress_bar = ProgressBar::new(length);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} {msg} ({eta})") {
        progress_bar.set_style(style);
    }
    progress_bar.set_message(unit);
    progress_bar
}
