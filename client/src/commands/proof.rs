//! `lotline proof ID` (fetch, verify and save a self-contained proof bundle for an event or a
//! trace) and `lotline verify BUNDLE` (check one offline, with no node).
//!
//! Owns the proof file layout: `{"subject", "direction", "events", "evidence"}` for traces,
//! the node's evidence (`lotline_ledger::proof::Evidence`) as sent for single events. Deliberately does not own the bundle format
//! (`lotline_ledger::proof`) nor its verification (`lotline_client::verify`).

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};
use lotline_client::ExitStatus;
use lotline_client::client::{Direction, verify_bundle_file};
use lotline_client::identifier::canonical_subject;
use lotline_client::render::{Table, print_json};
use lotline_client::verify::{VerifiedEvidence, VerifyError};
use serde_json::{Value, json};

use super::{Context, InvalidInput, read_input_file};

/// `lotline proof` options.
#[derive(Debug, Args)]
pub struct ProofArgs {
    /// An event hash id (ni:///sha-256;…) for one event, or a lot (Digital Link, EPC URN,
    /// GTIN/LOT) for every entry a trace relies on.
    id: String,
    /// For a lot: which trace's evidence to export.
    #[arg(long, value_enum, default_value_t = TraceSide::Back)]
    trace: TraceSide,
    /// Write the bundle here instead of stdout.
    #[arg(long, short)]
    out: Option<PathBuf>,
}

/// Which trace a lot's proof covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TraceSide {
    /// Upstream.
    Back,
    /// Downstream.
    Forward,
}

/// `lotline verify` options.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A proof bundle file written by `lotline proof` (or served by a node).
    bundle: PathBuf,
}

/// Runs `lotline proof`.
pub fn run_proof(arguments: &ProofArgs, context: &Context) -> Result<ExitStatus> {
    let client = context.client()?;
    let (proof_file, evidence) = if arguments.id.starts_with("ni:///") {
        let (sent_evidence, evidence) = client.event_proof(&arguments.id)?;
        (serde_json::to_value(&sent_evidence)?, evidence)
    } else {
        let subject = canonical_subject(&arguments.id)?;
        let direction = match arguments.trace {
            TraceSide::Back => Direction::Back,
            TraceSide::Forward => Direction::Forward,
        };
        let checked_answer = client.trace(direction, &subject)?;
        if let Some(problem) = checked_answer.problems.first() {
            return Err(lotline_client::Error::Verification(problem.clone()).into());
        }
        let proof_file = json!({
            "subject": subject,
            "direction": direction.name(),
            "events": checked_answer.answer().events,
            "evidence": checked_answer.reply.evidence(),
        });
        (proof_file, checked_answer.evidence)
    };
    let text = serde_json::to_string_pretty(&proof_file)?;
    match &arguments.out {
        Some(path) => {
            std::fs::write(path, format!("{text}\n")).map_err(|error| {
                InvalidInput(format!("cannot write {}: {error}", path.display()))
            })?;
            eprintln!(
                "wrote {} ({} entries from {} feeds, verified)",
                path.display(),
                evidence.entries.len(),
                evidence.checkpoints.len()
            );
        }
        None => println!("{text}"),
    }
    Ok(ExitStatus::Success)
}

/// Runs `lotline verify`: offline, no node needed.
pub fn run_verify(arguments: &VerifyArgs, context: &Context) -> Result<ExitStatus> {
    let bytes = read_input_file(&arguments.bundle)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| InvalidInput(format!("{} is not UTF-8 text", arguments.bundle.display())))?;
    let trusted_authors = context.policy.trusted_author_keys()?;
    let outcome =
        verify_bundle_file(&text, &trusted_authors, &context.policy).and_then(|evidence| {
            let claimed_events = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|file| file.get("events").and_then(Value::as_array).cloned())
                .unwrap_or_default();
            for claimed_event in claimed_events.iter().filter_map(Value::as_str) {
                if !evidence.events.contains_key(claimed_event) {
                    return Err(VerifyError::UnbackedEvent(claimed_event.to_owned()).into());
                }
            }
            Ok(evidence)
        });
    match outcome {
        Ok(evidence) => {
            print_verified(&evidence, trusted_authors.is_empty(), context.json)?;
            Ok(ExitStatus::Success)
        }
        Err(lotline_client::Error::Verification(VerifyError::MalformedEvidence(reason))) => {
            Err(InvalidInput(format!(
                "{} is not a proof bundle file: {reason}",
                arguments.bundle.display()
            ))
            .into())
        }
        Err(lotline_client::Error::Verification(problem)) => {
            if context.json {
                print_json(&json!({"verified": false, "problems": [problem.to_string()]}))?;
            }
            eprintln!("error: verification failed: {problem}");
            Ok(ExitStatus::VerificationFailed)
        }
        Err(other) => Err(other.into()),
    }
}

fn print_verified(evidence: &VerifiedEvidence, self_certified: bool, json: bool) -> Result<()> {
    if json {
        let feeds: Vec<Value> = evidence
            .checkpoints
            .iter()
            .map(|(author, (size, cosignatures))| {
                json!({"author": author, "checkpoint_size": size, "witness_cosignatures": cosignatures})
            })
            .collect();
        let event_ids: Vec<&String> = evidence.events.keys().collect();
        print_json(&json!({
            "verified": true,
            "feeds": feeds,
            "entries": evidence.entries.len(),
            "events": event_ids,
            "authors_trusted_by": if self_certified { "bundle (no --trust-author given)" } else { "--trust-author" },
        }))?;
        return Ok(());
    }
    let mut table = Table::new(["feed author", "checkpoint size", "witness cosignatures"]);
    for (author, (size, cosignatures)) in &evidence.checkpoints {
        table.push([author.clone(), size.to_string(), cosignatures.to_string()]);
    }
    print!("{}", table.render());
    println!(
        "verified: {} entries, {} events{}",
        evidence.entries.len(),
        evidence.events.len(),
        if self_certified {
            " (authors as named in the bundle; pass --trust-author to pin them)"
        } else {
            ""
        }
    );
    Ok(())
}
