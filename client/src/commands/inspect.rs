//! `lotline inspect` (a lab signs a sampling or test result for lots) and `lotline
//! supervision` (a regulator's view of organisations with failed inspections, unconfirmed or
//! overdue handoffs, unacknowledged recalls or excursions, with the evidence).
//!
//! Owns the `inspection_result` record JSON this client sends and gathering the verified facts
//! the supervision list is built from. Deliberately does not own the list's rules
//! (`lotline_ledger::supervision`, shared with the node's dashboard), signing or roles (the
//! node) nor verification (`lotline_client`).

use anyhow::Result;
use clap::{Args, ValueEnum};
use lotline_client::client::Direction;
use lotline_client::identifier::canonical_subject;
use lotline_client::render::{Table, print_json};
use lotline_client::{Client, ExitStatus};
use lotline_ledger::coldchain::Reason;
use lotline_ledger::coldchain::custody::intervals;
use lotline_ledger::entry::{EntryHash, EntryRef};
use lotline_ledger::identity::PublicKey;
use lotline_ledger::records;
use lotline_ledger::supervision::{
    ExcursionFacts, Member, RecallFacts, Supervision, excursion_stands,
};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

use super::recall::notice_scope;
use super::{Context, InvalidInput};

/// `lotline inspect` options.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A lot sampled (Digital Link, EPC URN or GTIN/LOT); repeat for several.
    #[arg(long = "lot", required = true)]
    lots: Vec<String>,
    /// The standard tested against (e.g. "GB 2763-2021", "EU 2073/2005").
    #[arg(long)]
    standard: String,
    /// The method (e.g. "ISO 11290-1").
    #[arg(long)]
    method: String,
    /// A measured value as NAME=VALUE[ UNIT] (e.g. "listeria=absent", "lead=0.02 MGM"); repeat.
    #[arg(long = "value", value_name = "NAME=VALUE")]
    values: Vec<String>,
    /// The outcome.
    #[arg(long, value_enum)]
    result: Verdict,
    /// Sampling (taking the sample) or test (the lab result).
    #[arg(long, value_enum, default_value_t = InspectionKind::Test)]
    kind: InspectionKind,
    /// When the sample was taken (RFC 3339; default now).
    #[arg(long)]
    sampled_at: Option<String>,
    /// Reference to the full report (URI or document number).
    #[arg(long, default_value = "")]
    report: String,
}

/// Inspection outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Verdict {
    /// Meets the standard.
    Pass,
    /// Fails the standard.
    Fail,
    /// No conclusion.
    Inconclusive,
}

/// What the record reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InspectionKind {
    /// A sample was taken.
    Sampling,
    /// A test result.
    Test,
}

/// Parses `NAME=VALUE[ UNIT]`.
fn measured_value(text: &str) -> Result<Value, InvalidInput> {
    let (name, value_and_unit) = text
        .split_once('=')
        .ok_or_else(|| InvalidInput(format!("--value {text:?} is not NAME=VALUE")))?;
    let (value, unit) = match value_and_unit.trim().split_once(' ') {
        Some((value, unit)) => (value, Some(unit.trim())),
        None => (value_and_unit.trim(), None),
    };
    let value_json = value.parse::<f64>().map_or_else(|_| json!(value), |number| json!(number));
    Ok(json!({"name": name.trim(), "value": value_json, "unit": unit}))
}

/// The record's `test` line, what was done in words: the kind, standard, method and measured
/// values (the ledger also keeps the values typed, from the record's `values`). E.g. `test: EU
/// 2073/2005 (ISO 11290-1); listeria=present`.
fn test_description(arguments: &InspectArgs) -> String {
    let kind = match arguments.kind {
        InspectionKind::Sampling => "sampling",
        InspectionKind::Test => "test",
    };
    let mut description = format!("{kind}: {} ({})", arguments.standard, arguments.method);
    if !arguments.values.is_empty() {
        let values: Vec<&str> = arguments.values.iter().map(|value| value.trim()).collect();
        description.push_str("; ");
        description.push_str(&values.join(", "));
    }
    description
}

/// Runs `lotline inspect`.
pub fn run_inspect(arguments: &InspectArgs, context: &Context) -> Result<ExitStatus> {
    let lots =
        arguments.lots.iter().map(|lot| canonical_subject(lot)).collect::<Result<Vec<_>, _>>()?;
    let values =
        arguments.values.iter().map(|text| measured_value(text)).collect::<Result<Vec<_>, _>>()?;
    let sampled_at = match &arguments.sampled_at {
        Some(text) => time::OffsetDateTime::parse(text, &Rfc3339).map_err(|_| {
            InvalidInput(format!("--sampled-at {text:?} is not RFC 3339 like 2026-03-01T08:00:00Z"))
        })?,
        None => time::OffsetDateTime::now_utc(),
    };
    let verdict = match arguments.result {
        Verdict::Pass => "pass",
        Verdict::Fail => "fail",
        Verdict::Inconclusive => "inconclusive",
    };
    let record = json!({
        "kind": "inspection_result",
        "lots": lots,
        // The kind, standard and method are said in words here; the node refuses fields a
        // record does not keep.
        "test": test_description(arguments),
        "values": values,
        "verdict": verdict,
        "sampled_at": sampled_at.format(&Rfc3339).unwrap_or_default(),
        "report": arguments.report,
    });
    let client = context.client()?;
    let receipt = client.submit_record(&record)?;
    if context.json {
        print_json(
            &json!({"entry_hash": receipt.entry_hash, "sequence": receipt.sequence, "record": record}),
        )?;
    } else {
        println!(
            "inspection result ({verdict}) for {} lot(s) signed as entry {}",
            lots.len(),
            receipt.entry_hash
        );
    }
    Ok(ExitStatus::Success)
}

/// Runs `lotline supervision`.
pub fn run_supervision(context: &Context) -> Result<ExitStatus> {
    let client = context.client()?;
    let roster = client.roster()?;
    let name_of = |author: &str| {
        roster
            .members
            .iter()
            .find(|member| member.public_key.eq_ignore_ascii_case(author))
            .map_or_else(|| author.to_owned(), |member| member.name.clone())
    };
    let members: Vec<Member> = roster
        .members
        .iter()
        .map(|member| Member {
            public_key: member.public_key.clone(),
            name: member.name.clone(),
            gln: member.gln.clone(),
        })
        .collect();
    let mut supervision = Supervision::default();
    let mut all_verified = true;

    for (item, _) in client.records("inspection_result")? {
        if item.record["verdict"].as_str() != Some("fail") {
            continue;
        }
        let test = item.record["test"].as_str().unwrap_or_default();
        for lot in item.record["lots"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            let responsible = responsible_organisations(&client, lot, &mut all_verified)?;
            supervision.failed_inspection(
                &responsible,
                lot,
                test,
                &name_of(&item.author),
                &item.entry_hash,
            );
        }
    }

    let acknowledgements = client.records("recall_ack")?;
    for (notice, _) in client.records("recall_notice")? {
        let recall_id = notice.record["recall_id"].as_str().unwrap_or_default().to_owned();
        let scope = notice_scope(&client, &notice)?;
        all_verified &= scope.verified();
        let acknowledging_authors: Vec<String> = acknowledgements
            .iter()
            .filter(|(item, _)| {
                item.record["recall_id"].as_str() == Some(recall_id.as_str())
                    || item.record["notice"]["entry_hash"]
                        .as_str()
                        .is_some_and(|hash| hash.eq_ignore_ascii_case(&notice.entry_hash))
            })
            .map(|(item, _)| item.author.to_ascii_lowercase())
            .collect();
        let facts = RecallFacts {
            recall_id: &recall_id,
            notice_entry_hash: &notice.entry_hash,
            consignees: &scope.answer().consignees,
            acknowledging_authors: &acknowledging_authors,
        };
        supervision.recall(&facts, &members);
    }

    coldchain_findings(&client, &mut supervision, &members)?;

    for (item, _) in client.records("supervision_flag")? {
        let subject = item.record["subject"].as_str().unwrap_or_default();
        supervision.flag(
            &name_of(subject),
            item.record["reason"].as_str().unwrap_or_default(),
            &name_of(&item.author),
            &item.entry_hash,
        );
    }
    let findings = &supervision.organisations;

    if context.json {
        let organisations: Vec<Value> = findings
            .iter()
            .map(|(organisation, items)| json!({"organisation": organisation, "findings": items}))
            .collect();
        print_json(&json!({"organisations": organisations, "verified": all_verified}))?;
    } else {
        let mut table = Table::new(["organisation", "finding", "detail"]);
        for (organisation, items) in findings {
            for item in items {
                table.push([
                    organisation.clone(),
                    item.finding.name().to_owned(),
                    item.detail.clone(),
                ]);
            }
        }
        print!("{}", table.render());
        println!("{} organisation(s) flagged", findings.len());
    }
    if all_verified { Ok(ExitStatus::Success) } else { Ok(ExitStatus::VerificationFailed) }
}

/// The cold-chain findings: every handoff the node reports overdue, and every standing
/// excursion record that no acknowledgement by a custodian answers (custody from `GET
/// /custody` of the record's lots, the rules from `lotline_ledger::supervision`).
fn coldchain_findings(
    client: &Client,
    supervision: &mut Supervision,
    members: &[Member],
) -> Result<()> {
    let overdue = client.handoffs(None, true)?;
    supervision.overdue_handoffs(&overdue.handoffs, members);
    let acknowledgements: Vec<(EntryRef, PublicKey, Reason)> = client
        .records("excursion_ack")?
        .into_iter()
        .filter_map(|(item, _)| {
            let named: EntryRef = serde_json::from_value(item.record["excursion"].clone()).ok()?;
            let author = PublicKey::from_hex(&item.author).ok()?;
            let words = item.record["text"].as_str().unwrap_or_default().to_owned();
            let reason = match item.record["reason"].as_str()? {
                "sensor_lost" => Reason::SensorLostOrMalfunctioning,
                "assessed" => Reason::AssessedAndReleased,
                "discarded" => Reason::Discarded,
                _ => Reason::Other(words),
            };
            Some((named, author, reason))
        })
        .collect();
    let mut excursions: Vec<(EntryRef, records::Excursion)> = Vec::new();
    for (item, _) in client.records("excursion")? {
        let (Ok(author), Some(sequence), Some(entry_hash)) = (
            PublicKey::from_hex(&item.author),
            item.sequence,
            EntryHash::from_hex(&item.entry_hash),
        ) else {
            continue;
        };
        let time_of = |field: &str| {
            item.record[field].as_str().and_then(|text| {
                time::OffsetDateTime::parse(text, &Rfc3339)
                    .ok()
                    .map(|instant| (instant.unix_timestamp_nanos() / 1_000_000) as i64)
            })
        };
        let Some(started_ms) = time_of("started") else { continue };
        let text_of = |field: &str| item.record[field].as_str().unwrap_or_default().to_owned();
        let record = records::Excursion {
            lots: item.record["lots"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            measurement: text_of("measurement"),
            limit: text_of("limit"),
            observed: text_of("observed"),
            started_ms,
            ended_ms: time_of("ended"),
            detail: None,
        };
        excursions.push((EntryRef { author, sequence, entry_hash }, record));
    }
    for (entry, record) in &excursions {
        if !excursion_stands(entry, record, &excursions) {
            continue;
        }
        let mut custody = Vec::new();
        for lot in &record.lots {
            custody.extend(intervals(&client.custody(lot, None)?.holders));
        }
        let named: Vec<(PublicKey, Reason)> = acknowledgements
            .iter()
            .filter(|(named, _, _)| named == entry)
            .map(|(_, author, reason)| (*author, reason.clone()))
            .collect();
        let facts = ExcursionFacts { entry, record, acknowledgements: &named, custody: &custody };
        supervision.excursion(&facts, members);
    }
    Ok(())
}

/// The organisations (names) whose verified events created or handled `lot`: the authors of
/// the entries its trace back relies on.
fn responsible_organisations(
    client: &Client,
    lot: &str,
    all_verified: &mut bool,
) -> Result<Vec<String>> {
    let checked_answer = client.trace(Direction::Back, lot)?;
    *all_verified &= checked_answer.verified();
    let mut authors: Vec<String> =
        checked_answer.evidence.entries.keys().map(|(author, _)| author.clone()).collect();
    authors.dedup();
    let roster = client.roster()?;
    Ok(authors
        .into_iter()
        .map(|author| {
            roster
                .members
                .iter()
                .find(|member| member.public_key.eq_ignore_ascii_case(&author))
                .map_or(author, |member| member.name.clone())
        })
        .collect())
}
