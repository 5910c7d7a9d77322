//! `lotline trace back|forward ID`: the verified lot graph walk, as a table or as the JSON
//! contract `{lots, consignees, events, verified}`, with the excursions in force about the
//! lots reached (a "Cold chain" block; `excursions` in the JSON when there are any).
//!
//! Owns the output shape of a checked answer (shared by `recall`). Deliberately does not own
//! the walk (the node's `trace` module) nor the checks (`lotline_client::verify`).

use std::collections::BTreeSet;

use anyhow::Result;
use clap::Subcommand;
use lotline_client::client::{CheckedAnswer, Direction};
use lotline_client::identifier::canonical_subject;
use lotline_client::render::{Table, consignees_json, handoff_date, print_json, quantity_cell};
use lotline_client::{Client, ExitStatus};
use lotline_ledger::trace::{Holder, Names, Position, Text, Warning};
use serde_json::{Value, json};

use super::Context;

/// The `trace` subcommands.
#[derive(Debug, Subcommand)]
pub enum TraceCommand {
    /// Upstream: every lot, place and event this lot came from.
    Back {
        /// A GS1 Digital Link, an EPC URN, or GTIN/LOT (e.g. 09506000134352/LOT42).
        id: String,
    },
    /// Downstream: every lot made from it and every consignee, with quantities.
    Forward {
        /// A GS1 Digital Link, an EPC URN, or GTIN/LOT (e.g. 09506000134352/LOT42).
        id: String,
    },
}

/// Runs one `trace` subcommand.
pub fn run(command: &TraceCommand, context: &Context) -> Result<ExitStatus> {
    let (direction, id) = match command {
        TraceCommand::Back { id } => (Direction::Back, id),
        TraceCommand::Forward { id } => (Direction::Forward, id),
    };
    let subject = canonical_subject(id)?;
    let client = context.client()?;
    let checked_answer = client.trace(direction, &subject)?;
    let inspections = lot_inspections(&client, &checked_answer.answer().lots)?;
    let heading = format!("trace {} {subject}", direction.name());
    let status = if context.json {
        let mut json = answer_json(&checked_answer, Some(direction));
        if !inspections.is_empty() {
            json["inspections"] = json!(inspections);
        }
        print_json(&json)?;
        verdict_status(&checked_answer)
    } else {
        print_answer_tables(&checked_answer, &heading);
        print_inspection_table(&inspections);
        verdict_status(&checked_answer)
    };
    if status == ExitStatus::Success && is_unknown_subject(&checked_answer, &subject) {
        eprintln!(
            "error: nothing is recorded about {subject} on the node at {} (check the identifier, \
             or wait until the feeds that mention it have replicated to this node)",
            client.node_url()
        );
        return Ok(ExitStatus::Rejected);
    }
    Ok(status)
}

/// Whether the node knows nothing of `subject`: it warned so and relied on no event.
fn is_unknown_subject(checked_answer: &CheckedAnswer, subject: &str) -> bool {
    let answer = checked_answer.answer();
    answer.events.is_empty()
        && answer.warnings.iter().any(|warning| {
            matches!(warning, Warning::UnknownIdentifier { identifier } if identifier == subject)
        })
}

/// What a table shows for an identifier: its name when the answer gives one, else the
/// identifier itself (`--json` keeps identifiers and names apart).
pub fn shown(names: &Names, id: Option<&str>) -> String {
    match id {
        Some(id) => names.name(id).unwrap_or(id).to_owned(),
        None => String::new(),
    }
}

/// A position still in distribution as one line of words.
fn position_text(position: &Position, names: &Names) -> String {
    let holder_text = match &position.holder {
        Holder::Organisation { key } => match names.organisation(key) {
            Some(name) => name.to_owned(),
            None => format!("organisation {key}"),
        },
        Holder::Consignee { party, location } => {
            let place = party.as_deref().or(location.as_deref());
            match place {
                Some(place) => format!("consignee {}", shown(names, Some(place))),
                None => "consignee (unnamed)".to_owned(),
            }
        }
    };
    let quantity = quantity_cell(Some(position.quantity), position.uom.as_deref());
    format!("{}  {quantity}  held by {holder_text}", shown(names, Some(&position.lot)))
}

/// A warning of the node's answer as one line of words.
pub fn warning_text(warning: &Warning) -> String {
    match warning {
        Warning::UnknownIdentifier { identifier } => {
            format!("nothing is recorded about {identifier} on this node")
        }
        Warning::Cycle { from, to, event } => {
            format!("the lot graph loops from {from} back to {to} (transformation {event})")
        }
        Warning::ReceivedTwice { lot, shipping_event, receiving_events } => format!(
            "a shipment of {lot} ({shipping_event}) was received {} times",
            receiving_events.len()
        ),
        Warning::NestingTooDeep { logistic_unit } => format!(
            "{logistic_unit} is nested too deeply; what it holds beyond the limit is not listed"
        ),
        Warning::NothingMatched { what } => format!("nothing recorded matches {what}"),
    }
}

/// The JSON form of a checked answer: the external contract of `trace --json` (and the shape
/// `recall status --json` extends).
pub fn answer_json(checked_answer: &CheckedAnswer, direction: Option<Direction>) -> Value {
    let answer = checked_answer.answer();
    let lots: Vec<String> = answer
        .lots
        .iter()
        .map(|lot| {
            lotline_ledger::gs1::canonical_digital_link(lot).unwrap_or_else(|| lot.to_string())
        })
        .collect();
    let problems: Vec<String> = checked_answer.problems.iter().map(ToString::to_string).collect();
    let mut json = json!({
        "subject": checked_answer.reply.subject(),
        "lots": lots,
        "consignees": consignees_json(answer.consignees.iter().map(AsRef::as_ref)),
        "events": answer.events,
        "verified": checked_answer.verified(),
        "problems": problems,
        "warnings": answer.warnings,
    });
    if let Some(direction) = direction {
        json["direction"] = json!(direction.name());
    }
    if !answer.in_distribution.is_empty() {
        json["in_distribution"] = json!(answer.in_distribution);
    }
    let names = checked_answer.reply.names();
    if !names.is_empty() {
        json["names"] = json!(names);
    }
    let excursions = checked_answer.reply.excursions();
    if !excursions.is_empty() {
        json["excursions"] = json!(excursions);
    }
    json
}

/// The "Cold chain" block: one line per excursion in force about a lot of the answer (the
/// lot, the rule applied, when, the worst value, who recorded it); nothing when there is none.
fn print_cold_chain(checked_answer: &CheckedAnswer) {
    let excursions = checked_answer.reply.excursions();
    if excursions.is_empty() {
        return;
    }
    let names = checked_answer.reply.names();
    let answer_lots: BTreeSet<&str> =
        checked_answer.answer().lots.iter().map(|lot| &**lot).collect();
    println!(
        "
Cold chain: {} excursion(s) in force",
        excursions.len()
    );
    let mut table = Table::new(["lot", "rule", "start – end", "observed", "recorded by"]);
    for excursion in excursions {
        let lots: Vec<String> = excursion
            .lots
            .iter()
            .filter(|lot| answer_lots.contains(lot.as_str()))
            .map(|lot| shown(names, Some(lot)))
            .collect();
        let author = excursion.entry.author.to_hex();
        let recorder = names
            .organisation(&author)
            .map_or_else(|| format!("organisation {}", &author[..16]), str::to_owned);
        let end = excursion.ended.as_deref().map_or_else(|| "ongoing".to_owned(), minute);
        table.push([
            lots.join("; "),
            excursion.limit.clone(),
            format!("{} – {end}", minute(&excursion.started)),
            excursion.observed.clone(),
            recorder,
        ]);
    }
    print!("{}", table.render());
}

/// An answer's RFC 3339 UTC time to the minute (`2026-03-01 10:00Z`).
fn minute(time: &str) -> String {
    match time.get(..16) {
        Some(to_the_minute) => format!("{}Z", to_the_minute.replacen('T', " ", 1)),
        None => time.to_owned(),
    }
}

/// Prints a checked answer (table or JSON) and gives the exit status: 7 when it did not verify.
pub fn print_checked_answer(
    checked_answer: &CheckedAnswer,
    heading: &str,
    direction: Option<Direction>,
    json: bool,
) -> Result<ExitStatus> {
    if json {
        print_json(&answer_json(checked_answer, direction))?;
    } else {
        print_answer_tables(checked_answer, heading);
    }
    Ok(verdict_status(checked_answer))
}

/// Success when the answer verified; otherwise says so on stderr and gives exit status 7.
fn verdict_status(checked_answer: &CheckedAnswer) -> ExitStatus {
    if checked_answer.verified() {
        return ExitStatus::Success;
    }
    let first_problem =
        checked_answer.problems.first().map(ToString::to_string).unwrap_or_default();
    eprintln!(
        "error: verification failed: {first_problem} ({} problem(s)); do not rely on this answer",
        checked_answer.problems.len()
    );
    ExitStatus::VerificationFailed
}

/// The signed inspection results (`inspection_result` records) of any of `lots`: the public
/// view of a lot shows what labs found. Each item says whether its own proof verified; a
/// record whose proof fails makes the whole command fail (exit 7) in `Client::records`.
fn lot_inspections(client: &Client, lots: &[Text]) -> Result<Vec<Value>> {
    let canonical = |lot: &str| {
        lotline_ledger::gs1::canonical_digital_link(lot).unwrap_or_else(|| lot.to_owned())
    };
    let traced_lots: BTreeSet<String> = lots.iter().map(|lot| canonical(lot)).collect();
    let records = client.records("inspection_result")?;
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let roster = client.roster()?;
    let lab_name = |author: &str| {
        roster
            .members
            .iter()
            .find(|member| member.public_key.eq_ignore_ascii_case(author))
            .map_or_else(|| author.to_owned(), |member| member.name.clone())
    };
    let mut inspections = Vec::new();
    for (item, verified) in records {
        let inspected_lots: Vec<String> = item.record["lots"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(canonical)
            .filter(|lot| traced_lots.contains(lot))
            .collect();
        if inspected_lots.is_empty() {
            continue;
        }
        inspections.push(json!({
            "lots": inspected_lots,
            "verdict": item.record["verdict"],
            "test": item.record["test"],
            "sampled_at": item.record["sampled_at"],
            "lab": lab_name(&item.author),
            "entry_hash": item.entry_hash,
            "verified": verified,
        }));
    }
    Ok(inspections)
}

fn print_inspection_table(inspections: &[Value]) {
    if inspections.is_empty() {
        return;
    }
    let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    let mut table = Table::new(["inspected lot", "verdict", "test", "lab", "sampled at"]);
    for inspection in inspections {
        for lot in inspection["lots"].as_array().into_iter().flatten() {
            table.push([
                text(lot),
                text(&inspection["verdict"]),
                text(&inspection["test"]),
                text(&inspection["lab"]),
                text(&inspection["sampled_at"]),
            ]);
        }
    }
    println!();
    print!("{}", table.render());
}

fn print_answer_tables(checked_answer: &CheckedAnswer, heading: &str) {
    let answer = checked_answer.answer();
    let evidence = &checked_answer.evidence;
    let verdict = if checked_answer.verified() {
        format!(
            "verified: {} entries from {} feeds",
            evidence.entries.len(),
            evidence.checkpoints.len()
        )
    } else {
        "NOT VERIFIED".to_owned()
    };
    println!("{heading}  ({verdict})\n");
    let names = checked_answer.reply.names();
    let mut lot_table = Table::new(["lot", "product", "origin"]);
    for lot in &answer.lots {
        let origin = answer
            .details
            .iter()
            .find(|detail| detail.lot == *lot)
            .and_then(|detail| detail.origins.first())
            .map(|origin| {
                let date = origin.date.get(..10).unwrap_or(&origin.date);
                match origin.place.as_deref() {
                    Some(place) => format!("{}, {date}", shown(names, Some(place))),
                    None => date.to_owned(),
                }
            })
            .unwrap_or_default();
        lot_table.push([lot.to_string(), names.name(lot).unwrap_or_default().to_owned(), origin]);
    }
    print!("{}", lot_table.render());
    if !answer.consignees.is_empty() {
        println!();
        let mut consignee_table = Table::new(["party", "location", "quantity", "date", "lot"]);
        for consignee in &answer.consignees {
            consignee_table.push([
                shown(names, consignee.party.as_deref()),
                shown(names, consignee.location.as_deref()),
                quantity_cell(consignee.quantity, consignee.uom.as_deref()),
                handoff_date(consignee).unwrap_or_default().to_owned(),
                consignee.lot.to_string(),
            ]);
        }
        print!("{}", consignee_table.render());
    }
    if !answer.in_distribution.is_empty() {
        println!("\nstill in distribution:");
        for position in &answer.in_distribution {
            println!("  {}", position_text(position, names));
        }
    }
    print_cold_chain(checked_answer);
    println!("\n{} events relied on", answer.events.len());
    for warning in &answer.warnings {
        println!("warning: {}", warning_text(warning));
    }
    for problem in &checked_answer.problems {
        println!("problem: {problem}");
    }
}
