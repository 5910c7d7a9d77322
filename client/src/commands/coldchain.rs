//! `lotline coldchain`: import a data logger's file as signed EPCIS sensor events, judge a
//! file against a product temperature profile, and acknowledge an excursion (in `custody`).
//!
//! Owns the command-line surface of cold chain. Deliberately does not own reading logger
//! files, profiles or excursion rules (`lotline_ledger::coldchain`) nor the mapping of
//! readings to events (`lotline_client::coldchain`).

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use lotline_client::ExitStatus;
use lotline_client::coldchain::{Shipment, Verdict, document_of, verdicts};
use lotline_client::identifier::{canonical_subject, location_digital_link};
use lotline_client::render::{Table, print_json};
use lotline_ledger::coldchain::logger::Hint;
use lotline_ledger::coldchain::zone::Zone;
use lotline_ledger::coldchain::{LoggerFile, Profile, Unit, parse_logger_file};
use lotline_ledger::trace::format_time;
use serde_json::json;

use super::{Context, InvalidInput, read_input_file};

/// `lotline coldchain` subcommands.
#[derive(Debug, Subcommand)]
pub enum ColdchainCommand {
    /// Send a logger file's readings to the node as EPCIS sensor events (signed, replicated).
    Import(ImportArgs),
    /// Judge a logger file against a temperature profile: excursions, gaps, MKT.
    Check(CheckArgs),
    /// Acknowledge an excursion record, with the reason (by an organisation that held the
    /// goods during it; see `lotline custody`).
    Ack(super::custody::AckArgs),
}

/// How a logger file is read.
#[derive(Debug, Args)]
pub struct FileArgs {
    /// The logger file: CSV (ISO, day-first or US logger exports) or JSON Lines.
    file: PathBuf,
    /// The device, when the file names none.
    #[arg(long)]
    device: Option<String>,
    /// The time zone of times written without an offset (`Europe/Berlin`, `+02:00`), when the
    /// file declares none.
    #[arg(long)]
    zone: Option<String>,
    /// The temperature unit (`CEL`, `FAR`, `KEL`), when the file names none.
    #[arg(long)]
    unit: Option<String>,
}

/// `lotline coldchain import` options.
#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    file: FileArgs,
    /// A lot the logger travelled with (repeatable; any form `lotline trace` takes).
    #[arg(long = "lot")]
    lots: Vec<String>,
    /// An SSCC (18 digits) the logger travelled with (repeatable).
    #[arg(long = "sscc")]
    ssccs: Vec<String>,
    /// The GLN where the readings were read (the truck's or store's location), if any.
    #[arg(long)]
    location: Option<String>,
    /// Check and convert only; send nothing (with --json, print the EPCIS document).
    #[arg(long)]
    dry_run: bool,
}

/// The built-in product profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProfileName {
    /// Chilled food, 0–4 °C.
    Chilled,
    /// Vaccines, 2–8 °C (WHO PQS indicator rules).
    Vaccine,
    /// Quick-frozen food, −18 °C (+3 °C transport tolerance).
    Frozen,
}

/// `lotline coldchain check` options.
#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    file: FileArgs,
    /// The product's temperature profile.
    #[arg(long, value_enum)]
    profile: ProfileName,
    /// Also give the mean kinetic temperature over consecutive windows of this many hours
    /// from the first reading (e.g. 24).
    #[arg(long, value_name = "HOURS", value_parser = clap::value_parser!(u32).range(1..=8784))]
    mkt_window: Option<u32>,
}

/// Runs one `coldchain` subcommand.
pub fn run(command: &ColdchainCommand, context: &Context) -> Result<ExitStatus> {
    match command {
        ColdchainCommand::Import(arguments) => import(arguments, context),
        ColdchainCommand::Check(arguments) => check(arguments, context),
        ColdchainCommand::Ack(arguments) => super::custody::run_acknowledge(arguments, context),
    }
}

/// Reads and parses the file, printing every bad line and refusing it whole.
fn read_logger_file(arguments: &FileArgs) -> Result<LoggerFile> {
    let bytes = read_input_file(&arguments.file)?;
    let zone = match &arguments.zone {
        Some(text) => Some(Zone::parse(text).ok_or_else(|| {
            InvalidInput(format!("--zone {text:?} is not a known time zone or a UTC offset"))
        })?),
        None => None,
    };
    let unit = match &arguments.unit {
        Some(text) => Some(
            Unit::parse(text)
                .ok_or_else(|| InvalidInput(format!("--unit {text:?} is not CEL, FAR or KEL")))?,
        ),
        None => None,
    };
    let hint = Hint { device: arguments.device.as_deref(), zone, unit, ..Hint::default() };
    parse_logger_file(&bytes, hint).map_err(|errors| {
        for error in &errors {
            eprintln!("{}:{error}", arguments.file.display());
        }
        InvalidInput(format!(
            "{} has {} problem(s) (listed above); nothing was sent",
            arguments.file.display(),
            errors.len()
        ))
        .into()
    })
}

fn import(arguments: &ImportArgs, context: &Context) -> Result<ExitStatus> {
    let file = read_logger_file(&arguments.file)?;
    let lots = arguments.lots.iter().map(|lot| canonical_subject(lot)).collect::<Result<_, _>>()?;
    let units = arguments
        .ssccs
        .iter()
        .map(|sscc| {
            let link = format!("https://id.gs1.org/00/{}", sscc.trim());
            lotline_ledger::gs1::canonical_digital_link(&link)
                .ok_or_else(|| InvalidInput(format!("--sscc {sscc:?} is not a valid SSCC")))
        })
        .collect::<Result<_, _>>()?;
    let read_point = match &arguments.location {
        Some(location) => Some(location_digital_link(location).ok_or_else(|| {
            InvalidInput(format!("--location {location:?} is not a GLN or a location link"))
        })?),
        None => None,
    };
    let shipment = Shipment { lots, units, read_point };
    let created =
        format_time(time::OffsetDateTime::now_utc().unix_timestamp().saturating_mul(1000));
    let document = document_of(&file, &shipment, &created);
    let document_bytes = serde_json::to_vec(&document)?;
    let parsed = lotline_ledger::epcis::parse_document(&document_bytes)?;
    lotline_ledger::epcis::validate::check_document_to_sign(&parsed)?;
    if arguments.dry_run {
        if context.json {
            print_json(&document)?;
        } else {
            println!(
                "ok: {} readings of {} device(s) in {} events (nothing sent)",
                file.len(),
                file.series.len(),
                parsed.events.len()
            );
        }
        return Ok(ExitStatus::Success);
    }
    let client = context.client()?;
    let job = client.capture(&document_bytes, "application/ld+json")?;
    if context.json {
        print_json(&json!({
            "success": job.success,
            "readings": file.len(),
            "eventIDs": job.event_ids,
        }))?;
    } else {
        println!(
            "imported {} readings of {} device(s) as {} sensor events",
            file.len(),
            file.series.len(),
            job.event_ids.len()
        );
    }
    Ok(if job.success { ExitStatus::Success } else { ExitStatus::Rejected })
}

fn check(arguments: &CheckArgs, context: &Context) -> Result<ExitStatus> {
    let file = read_logger_file(&arguments.file)?;
    let profile = match arguments.profile {
        ProfileName::Chilled => Profile::chilled(),
        ProfileName::Vaccine => Profile::vaccine(),
        ProfileName::Frozen => Profile::frozen(),
    };
    let window_ms = arguments.mkt_window.map(|hours| i64::from(hours) * 3_600_000);
    let verdicts = verdicts(&file, &profile, window_ms).map_err(InvalidInput)?;
    if context.json {
        print_json(&json!({"devices": verdicts}))?;
    } else {
        print_verdicts(&verdicts);
    }
    Ok(ExitStatus::Success)
}

fn print_verdicts(verdicts: &[Verdict]) {
    for verdict in verdicts {
        let mkt = verdict
            .mean_kinetic_celsius
            .map_or_else(|| "n/a".to_owned(), |celsius| format!("{celsius:.2} °C"));
        println!(
            "{}: {} readings, {} to {}, profile {}, mean kinetic temperature {mkt}{}",
            verdict.device,
            verdict.readings,
            verdict.from.as_deref().unwrap_or("-"),
            verdict.to.as_deref().unwrap_or("-"),
            verdict.profile,
            if verdict.out_of_range_now { ", OUT OF RANGE NOW" } else { "" }
        );
        if verdict.excursions.is_empty() {
            println!("  no rule breached");
        } else {
            let mut table =
                Table::new(["rule breached", "from", "to", "minutes", "min", "max", "mean"]);
            for excursion in &verdict.excursions {
                table.push([
                    excursion.rule.to_string(),
                    format_time(excursion.start_ms),
                    excursion.end_ms.map_or_else(|| "ongoing".to_owned(), format_time),
                    (excursion.duration_ms / 60_000).to_string(),
                    format!("{:.1}", excursion.min_celsius),
                    format!("{:.1}", excursion.max_celsius),
                    format!("{:.1}", excursion.mean_celsius),
                ]);
            }
            print!("{}", table.render());
        }
        for (start, end) in &verdict.gaps {
            println!("  gap in the logging from {start} to {end} (not bridged)");
        }
        for window in &verdict.windows {
            let mkt = window
                .mean_kinetic_celsius
                .map_or_else(|| "n/a".to_owned(), |celsius| format!("{celsius:.2} °C"));
            println!("  mean kinetic temperature from {} to {}: {mkt}", window.from, window.to);
        }
    }
}
