//! `lotline custody SUBJECT [--at TIME]` (who held a lot at an instant, or over time, with the
//! signed events that say so, each verified with its proof) and `lotline coldchain ack
//! EXCURSION_ENTRY --reason …` (an organisation that held the goods acknowledges an excursion
//! record).
//!
//! Owns the command-line surface of custody and the `excursion_ack` record JSON this client
//! sends. Deliberately does not own the custody or acknowledgement rules
//! (`lotline_ledger::coldchain`; the node checks an acknowledgement before signing it).

use anyhow::Result;
use clap::{Args, ValueEnum};
use lotline_client::identifier::canonical_subject;
use lotline_client::render::{Table, print_json};
use lotline_client::{Client, ExitStatus};
use lotline_ledger::coldchain::custody::{CustodyReply, Holding};
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Context, InvalidInput};

/// `lotline custody` options.
#[derive(Debug, Args)]
pub struct CustodyArgs {
    /// The lot (or pallet, item): a Digital Link, an EPC URN or GTIN/LOT.
    subject: String,
    /// The instant (RFC 3339, e.g. 2026-06-01T10:00:00Z); every holding over time when absent.
    #[arg(long)]
    at: Option<String>,
}

/// Why an excursion is acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AckReason {
    /// The sensor was lost or malfunctioning: the readings do not describe the product.
    SensorLost,
    /// The product was assessed (e.g. against stability data) and released.
    Assessed,
    /// The product was quarantined or discarded.
    Discarded,
    /// Anything else, said with --text.
    Other,
}

/// `lotline coldchain ack` options.
#[derive(Debug, Args)]
pub struct AckArgs {
    /// The excursion record's entry hash (64 hex digits, as `GET /records?kind=excursion`
    /// lists it).
    excursion_entry: String,
    /// Why.
    #[arg(long, value_enum)]
    reason: AckReason,
    /// What the reason `other` means, in words.
    #[arg(long)]
    text: Option<String>,
}

/// The name of the organisation with `key` in the roster, else the key.
fn name_of(roster: &lotline_client::api::Roster, key: &str) -> String {
    roster
        .members
        .iter()
        .find(|member| member.public_key.eq_ignore_ascii_case(key))
        .map_or_else(|| key.to_owned(), |member| member.name.clone())
}

/// Runs `lotline custody`.
pub fn run_custody(arguments: &CustodyArgs, context: &Context) -> Result<ExitStatus> {
    let subject = canonical_subject(&arguments.subject)?;
    if let Some(at) = &arguments.at {
        OffsetDateTime::parse(at, &Rfc3339).map_err(|_| {
            InvalidInput(format!("--at {at:?} is not RFC 3339 like 2026-06-01T10:00:00Z"))
        })?;
    }
    let client = context.client()?;
    let reply = client.custody(&subject, arguments.at.as_deref())?;
    let unproven = unproven_entries(&client, &reply);
    let status =
        if unproven.is_empty() { ExitStatus::Success } else { ExitStatus::VerificationFailed };
    if context.json {
        let mut json = serde_json::to_value(&reply)?;
        json["verified"] = json!(unproven.is_empty());
        print_json(&json)?;
        return Ok(status);
    }
    let roster = client.roster()?;
    let mut table = Table::new(["lot", "holder", "from", "until", "since event", "awaiting"]);
    for holding in &reply.holders {
        table.push(holding_row(&roster, holding));
    }
    print!("{}", table.render());
    match &reply.at {
        Some(at) => println!("{} holder(s) at {at}", reply.holders.len()),
        None => println!("{} holding(s)", reply.holders.len()),
    }
    if unproven.is_empty() {
        println!("verified: the {} signed event(s) cited", reply.entries.len());
    } else {
        for (event, problem) in &unproven {
            println!("NOT verified: {event}: {problem}");
        }
    }
    Ok(status)
}

/// The cited events whose signed entry and inclusion proof do not verify (fetched one by one
/// with `GET /events/{id}/proof`, checked as `lotline proof` checks them), with why: custody
/// rests on those signatures, not on the node that put the answer together.
fn unproven_entries(client: &Client, reply: &CustodyReply) -> Vec<(String, String)> {
    let mut unproven = Vec::new();
    for entry in &reply.entries {
        let event = entry.event_hash_id.to_text();
        // The event may be carried by more than one entry; what custody rests on is that its
        // author signed it.
        let author = entry.entry.author.to_hex();
        let proven = client.event_proof(&event).map(|(_, evidence)| {
            evidence.entries.keys().any(|(signer, _)| signer.eq_ignore_ascii_case(&author))
        });
        match proven {
            Ok(true) => {}
            Ok(false) => unproven.push((event, format!("no proof of an entry signed by {author}"))),
            Err(error) => unproven.push((event, error.to_string())),
        }
    }
    unproven
}

fn holding_row(roster: &lotline_client::api::Roster, holding: &Holding) -> [String; 6] {
    [
        holding.lot.clone(),
        name_of(roster, &holding.holder),
        holding.from.clone().unwrap_or_default(),
        holding.until.clone().unwrap_or_else(|| "still holding".to_owned()),
        holding.since_event.as_ref().map(|signed| signed.event.to_text()).unwrap_or_default(),
        holding
            .awaiting
            .as_ref()
            .map(|signed| format!("receipt of {}", signed.event))
            .unwrap_or_default(),
    ]
}

/// Finds the excursion record with entry hash `entry_hash` among the node's records.
fn find_excursion(client: &Client, entry_hash: &str) -> Result<lotline_client::api::RecordItem> {
    let wanted = entry_hash.trim();
    client
        .records("excursion")?
        .into_iter()
        .map(|(item, _)| item)
        .find(|item| item.entry_hash.eq_ignore_ascii_case(wanted))
        .ok_or_else(|| {
            InvalidInput(format!(
                "no excursion record with entry hash {wanted:?} on this node (see GET /records?kind=excursion)"
            ))
            .into()
        })
}

/// Runs `lotline coldchain ack`.
pub fn run_acknowledge(arguments: &AckArgs, context: &Context) -> Result<ExitStatus> {
    let words = arguments.text.as_deref().map(str::trim).unwrap_or_default();
    let reason = match arguments.reason {
        AckReason::SensorLost => "sensor_lost",
        AckReason::Assessed => "assessed",
        AckReason::Discarded => "discarded",
        AckReason::Other => "other",
    };
    if arguments.reason == AckReason::Other && words.is_empty() {
        return Err(InvalidInput("--reason other needs --text saying what it is".to_owned()).into());
    }
    if arguments.reason != AckReason::Other && !words.is_empty() {
        return Err(InvalidInput("--text goes with --reason other only".to_owned()).into());
    }
    let client = context.client()?;
    let excursion = find_excursion(&client, &arguments.excursion_entry)?;
    let record = json!({
        "kind": "excursion_ack",
        "excursion": {
            "author": excursion.author,
            "sequence": excursion.sequence,
            "entry_hash": excursion.entry_hash,
        },
        "reason": reason,
        "text": (!words.is_empty()).then_some(words),
    });
    let receipt = client.submit_record(&record)?;
    if context.json {
        print_json(
            &json!({"entry_hash": receipt.entry_hash, "sequence": receipt.sequence, "record": record}),
        )?;
    } else {
        println!(
            "excursion {} acknowledged ({reason}) as entry {}",
            excursion.entry_hash, receipt.entry_hash
        );
    }
    Ok(ExitStatus::Success)
}
