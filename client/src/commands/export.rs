//! `lotline export fsma204` (the FDA electronic sortable spreadsheet, CSV and XLSX) and
//! `lotline export epcis` (the verified events of a trace or query as an EPCIS 2.0 JSON-LD
//! document, hash ids kept).
//!
//! Owns gathering verified events for an export and choosing output files. Deliberately does
//! not own the spreadsheet layout (`lotline_client::fsma204`) nor the event model.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::{Args, Subcommand};
use lotline_client::client::{Direction, merge_evidence};
use lotline_client::fsma204::{self, Window};
use lotline_client::identifier::canonical_subject;
use lotline_client::verify::VerifiedEvidence;
use lotline_client::{Client, ExitStatus};
use serde_json::Value;

use super::events::QueryArgs;
use super::recall::{find_notice, notice_scope};
use super::{Context, InvalidInput};

/// The `export` subcommands.
// Parsed once per process; boxing the larger variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// FSMA 204 sortable spreadsheet of every CTE behind lots or a recall.
    Fsma204(Fsma204Args),
    /// The verified events of a trace or a query as an EPCIS 2.0 JSON-LD document.
    Epcis(EpcisExportArgs),
}

/// `export fsma204` options.
#[derive(Debug, Args)]
pub struct Fsma204Args {
    /// A lot (Traceability Lot Code) to export, traced both ways; repeat for several.
    #[arg(long = "lot", required_unless_present = "recall", conflicts_with = "recall")]
    lots: Vec<String>,
    /// A recall id: every lot in its scope.
    #[arg(long)]
    recall: Option<String>,
    /// Only events at or after this time (RFC 3339).
    #[arg(long)]
    from: Option<String>,
    /// Only events before this time (RFC 3339).
    #[arg(long)]
    to: Option<String>,
    /// Output file: NAME.csv or NAME.xlsx writes that one; NAME without either writes both
    /// NAME.csv and NAME.xlsx. Default: CSV on stdout.
    #[arg(long, short)]
    out: Option<PathBuf>,
}

/// `export epcis` options.
#[derive(Debug, Args)]
pub struct EpcisExportArgs {
    /// Export the events a trace back from this lot relies on.
    #[arg(long, conflicts_with = "trace_forward")]
    trace_back: Option<String>,
    /// Export the events a trace forward from this lot relies on.
    #[arg(long)]
    trace_forward: Option<String>,
    /// Otherwise: the events matching this EPCIS query.
    #[command(flatten)]
    query: QueryArgs,
    /// Write the document here instead of stdout.
    #[arg(long, short)]
    out: Option<PathBuf>,
}

/// Runs one `export` subcommand.
pub fn run(command: &ExportCommand, context: &Context) -> Result<ExitStatus> {
    let client = context.client()?;
    match command {
        ExportCommand::Fsma204(arguments) => fsma204_export(&client, arguments),
        ExportCommand::Epcis(arguments) => epcis_export(&client, arguments),
    }
}

/// The verified evidence of every trace (both ways) from `lots`; fails on any problem.
fn traced_evidence(client: &Client, lots: &[String]) -> Result<VerifiedEvidence> {
    let mut evidence = VerifiedEvidence::default();
    for lot in lots {
        for direction in [Direction::Back, Direction::Forward] {
            let checked_answer = client.trace(direction, lot)?;
            if let Some(problem) = checked_answer.problems.first() {
                return Err(lotline_client::Error::Verification(problem.clone()).into());
            }
            merge_evidence(&mut evidence, checked_answer.evidence);
        }
    }
    Ok(evidence)
}

fn fsma204_export(client: &Client, arguments: &Fsma204Args) -> Result<ExitStatus> {
    let window = Window::parse(arguments.from.as_deref(), arguments.to.as_deref())?;
    let evidence = match &arguments.recall {
        Some(recall) => {
            let notice = find_notice(client, recall)?;
            let scope = notice_scope(client, &notice)?;
            if let Some(problem) = scope.problems.first() {
                return Err(lotline_client::Error::Verification(problem.clone()).into());
            }
            let mut evidence = scope.evidence;
            let recalled_lots: Vec<String> = notice.record["lots"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
            merge_evidence(&mut evidence, traced_evidence(client, &recalled_lots)?);
            evidence
        }
        None => {
            let lots = arguments
                .lots
                .iter()
                .map(|lot| canonical_subject(lot))
                .collect::<Result<Vec<_>, _>>()?;
            traced_evidence(client, &lots)?
        }
    };
    let mut rows =
        fsma204::rows_from_events(&evidence.events_json_ld(), window, &evidence.master_data());
    fsma204::note_excursions(&mut rows, &evidence.excursions());
    match &arguments.out {
        None => fsma204::write_csv(&rows, std::io::stdout().lock())?,
        Some(path) => {
            let extension = path.extension().and_then(|extension| extension.to_str());
            let wants_csv = extension != Some("xlsx");
            let wants_xlsx = extension != Some("csv");
            let base = if extension == Some("csv") || extension == Some("xlsx") {
                path.with_extension("")
            } else {
                path.clone()
            };
            if wants_csv {
                let csv_path = base.with_extension("csv");
                fsma204::write_csv(&rows, create_file(&csv_path)?)?;
                eprintln!("wrote {} ({} rows)", csv_path.display(), rows.len());
            }
            if wants_xlsx {
                let xlsx_path = base.with_extension("xlsx");
                fsma204::write_xlsx(&rows, &xlsx_path)?;
                eprintln!("wrote {} ({} rows)", xlsx_path.display(), rows.len());
            }
        }
    }
    Ok(ExitStatus::Success)
}

fn create_file(path: &Path) -> Result<std::fs::File> {
    std::fs::File::create(path)
        .map_err(|error| InvalidInput(format!("cannot write {}: {error}", path.display())).into())
}

fn epcis_export(client: &Client, arguments: &EpcisExportArgs) -> Result<ExitStatus> {
    let traced =
        [(&arguments.trace_back, Direction::Back), (&arguments.trace_forward, Direction::Forward)]
            .into_iter()
            .find_map(|(lot, direction)| lot.as_ref().map(|lot| (lot, direction)));
    let events: Vec<Value> = match traced {
        Some((lot, direction)) => {
            let subject = canonical_subject(lot)?;
            let checked_answer = client.trace(direction, &subject)?;
            if let Some(problem) = checked_answer.problems.first() {
                return Err(lotline_client::Error::Verification(problem.clone()).into());
            }
            checked_answer.evidence.events_json_ld()
        }
        None => {
            let checked_events = client.query_events(&arguments.query.parameters()?, true)?;
            if let Some(problem) = checked_events.problems.first() {
                return Err(lotline_client::Error::Verification(problem.clone()).into());
            }
            checked_events.evidence.events_json_ld()
        }
    };
    let creation_date = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let document = lotline_ledger::epcis::document_envelope(&creation_date, events);
    let text = serde_json::to_string_pretty(&document)?;
    match &arguments.out {
        Some(path) => {
            std::fs::write(path, format!("{text}\n")).map_err(|error| {
                InvalidInput(format!("cannot write {}: {error}", path.display()))
            })?;
            eprintln!(
                "wrote {} ({} events)",
                path.display(),
                document["epcisBody"]["eventList"].as_array().map_or(0, Vec::len)
            );
        }
        None => println!("{text}"),
    }
    Ok(ExitStatus::Success)
}
