//! `lotline dl parse|from-urn`: offline GS1 Digital Link work.
//!
//! Owns printing only; parsing, validation and URN conversion are `lotline_ledger::gs1`'s.

use anyhow::Result;
use clap::Subcommand;
use lotline_client::ExitStatus;
use lotline_client::render::{Table, print_json};
use lotline_ledger::gs1;

/// The `dl` subcommands.
#[derive(Debug, Subcommand)]
pub enum DlCommand {
    /// Show the AI data of a Digital Link URI (strict GS1 rules, check digits included).
    Parse {
        /// The Digital Link URI, e.g. https://id.gs1.org/01/09506000134352/10/ABC
        uri: String,
    },
    /// Print the canonical Digital Link (https://id.gs1.org/…) of an EPC URN.
    FromUrn {
        /// The EPC URN, e.g. urn:epc:id:sgtin:0614141.107346.2017
        urn: String,
    },
}

/// Runs one `dl` subcommand; `json` selects machine output for `parse`.
pub fn run(command: &DlCommand, json: bool) -> Result<ExitStatus> {
    match command {
        DlCommand::Parse { uri } => parse(uri, json),
        DlCommand::FromUrn { urn } => from_urn(urn),
    }
}

fn parse(uri: &str, json: bool) -> Result<ExitStatus> {
    let digital_link = match gs1::parse_digital_link(uri) {
        Ok(digital_link) => digital_link,
        Err(error) => {
            eprintln!("error: {uri:?} is not a valid GS1 Digital Link: {error}");
            return Ok(ExitStatus::InvalidInput);
        }
    };
    if json {
        print_json(&digital_link.to_json())?;
        return Ok(ExitStatus::Success);
    }
    println!("element string: {}", digital_link.element_string());
    let mut table = Table::new(["AI", "value", "role"]);
    table.push([
        digital_link.primary_key.ai.clone(),
        digital_link.primary_key.value.clone(),
        "primary key".to_owned(),
    ]);
    for qualifier in &digital_link.qualifiers {
        table.push([qualifier.ai.clone(), qualifier.value.clone(), "key qualifier".to_owned()]);
    }
    for attribute in &digital_link.attributes {
        table.push([attribute.ai.clone(), attribute.value.clone(), "data attribute".to_owned()]);
    }
    print!("{}", table.render());
    Ok(ExitStatus::Success)
}

fn from_urn(urn: &str) -> Result<ExitStatus> {
    let trimmed_urn = urn.trim();
    if !trimmed_urn.starts_with("urn:epc:") {
        eprintln!(
            "error: {urn:?} is not an EPC URN (it must start with urn:epc:id:, urn:epc:class: or urn:epc:idpat:)"
        );
        return Ok(ExitStatus::InvalidInput);
    }
    match gs1::canonical_digital_link(trimmed_urn) {
        Some(canonical_link) => {
            println!("{canonical_link}");
            Ok(ExitStatus::Success)
        }
        None => {
            let reason = match gs1::urn_to_ai_data(trimmed_urn) {
                Err(error) => error.to_string(),
                Ok(_) => "it names no GS1 key".to_owned(),
            };
            eprintln!("error: {urn:?} is not a valid EPC URN of a GS1 key: {reason}");
            Ok(ExitStatus::InvalidInput)
        }
    }
}
