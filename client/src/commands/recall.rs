//! `lotline recall issue|status|ack`: a regulator scopes and issues a recall, anyone reads its
//! status (affected lots, consignees with quantities, acknowledgements outstanding), and a
//! holder acknowledges with the quantity on hand.
//!
//! Owns the record JSON this client sends (`recall_notice`, `recall_ack`; see
//! `docs/http-api.md`). Deliberately does not own the scope computation (the node's trace
//! module), which consignees are outstanding (`lotline_ledger::supervision`, shared with the
//! node's dashboard) nor record signing (the node).

use std::collections::BTreeSet;

use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use lotline_client::api::RecordItem;
use lotline_client::client::CheckedAnswer;
use lotline_client::identifier::{canonical_subject, location_digital_link};
use lotline_client::render::{Table, consignees_json, print_json, quantity_cell};
use lotline_client::{Client, ExitStatus};
use lotline_ledger::supervision::outstanding_consignees;
use serde_json::{Value, json};

use super::trace::{answer_json, print_checked_answer, shown};
use super::{Context, InvalidInput};

/// The `recall` subcommands.
#[derive(Debug, Subcommand)]
pub enum RecallCommand {
    /// Regulator: scope a hazard and sign a recall notice for every affected lot.
    Issue(IssueArgs),
    /// Affected lots, consignees with quantities, and acknowledgements outstanding.
    Status {
        /// The recall id (or the notice's entry hash).
        recall: String,
    },
    /// Holder: acknowledge a recall and report the quantity on hand.
    Ack(AckArgs),
}

/// `recall issue` options: exactly one hazard form.
#[derive(Debug, Args)]
pub struct IssueArgs {
    /// A recalled lot (Digital Link, EPC URN or GTIN/LOT); repeat for several.
    #[arg(long = "lot", conflicts_with_all = ["facility", "ingredient"])]
    lots: Vec<String>,
    /// A facility GLN: everything made or handled there in the window.
    #[arg(long, conflicts_with = "ingredient", requires_all = ["from", "to"])]
    facility: Option<String>,
    /// An ingredient GTIN: every lot made with it in the window.
    #[arg(long, requires_all = ["from", "to"])]
    ingredient: Option<String>,
    /// Window start (RFC 3339).
    #[arg(long)]
    from: Option<String>,
    /// Window end (RFC 3339).
    #[arg(long)]
    to: Option<String>,
    /// The hazard, in words (e.g. "Listeria monocytogenes").
    #[arg(long)]
    reason: String,
    /// Recall class (21 CFR 7.3(m)): I is the most serious.
    #[arg(long, value_enum)]
    class: RecallClass,
    /// Your recall number (default: generated from the time).
    #[arg(long)]
    recall_id: Option<String>,
    /// What holders must do.
    #[arg(long, default_value = "stop distribution, quarantine and report the quantity on hand")]
    instructions: String,
}

/// Recall classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RecallClass {
    /// Class I.
    #[value(name = "I", alias = "1")]
    One,
    /// Class II.
    #[value(name = "II", alias = "2")]
    Two,
    /// Class III.
    #[value(name = "III", alias = "3")]
    Three,
}

impl RecallClass {
    fn name(self) -> &'static str {
        match self {
            Self::One => "I",
            Self::Two => "II",
            Self::Three => "III",
        }
    }
}

/// `recall ack` options.
#[derive(Debug, Args)]
pub struct AckArgs {
    /// The recall id (or the notice's entry hash).
    recall: String,
    /// Quantity of the recalled goods you still hold.
    #[arg(long)]
    quantity: f64,
    /// Its unit (UN/CEFACT Rec 20, e.g. KGM, EA).
    #[arg(long, default_value = "EA")]
    uom: String,
    /// What you did (quarantined, destroyed, returned, none held…).
    #[arg(long, default_value = "quarantined")]
    action: String,
}

/// Runs one `recall` subcommand.
pub fn run(command: &RecallCommand, context: &Context) -> Result<ExitStatus> {
    let client = context.client()?;
    match command {
        RecallCommand::Issue(arguments) => issue(&client, arguments, context),
        RecallCommand::Status { recall } => status(&client, recall, context),
        RecallCommand::Ack(arguments) => acknowledge(&client, arguments, context),
    }
}

/// The hazard JSON of `POST /recall/scope`.
fn hazard_json(arguments: &IssueArgs) -> Result<Value> {
    if !arguments.lots.is_empty() {
        let lots = arguments
            .lots
            .iter()
            .map(|lot| canonical_subject(lot))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(json!({"lots": lots}));
    }
    if let Some(facility) = &arguments.facility {
        let facility_gln = location_digital_link(facility)
            .and_then(|link| match lotline_ledger::gs1::classify(&link)? {
                lotline_ledger::gs1::Identifier::Location { gln, .. } => Some(gln),
                _ => None,
            })
            .ok_or_else(|| {
                InvalidInput(format!("--facility {facility:?} is not a GLN (13 digits) or SGLN"))
            })?;
        return Ok(json!({"facility": facility_gln, "from": arguments.from, "to": arguments.to}));
    }
    if let Some(ingredient) = &arguments.ingredient {
        let gtin =
            lotline_ledger::gs1::Gtin::parse(&format!("{ingredient:0>14}")).map_err(|error| {
                InvalidInput(format!("--ingredient {ingredient:?} is not a GTIN: {error}"))
            })?;
        return Ok(
            json!({"ingredient": gtin.as_str(), "from": arguments.from, "to": arguments.to}),
        );
    }
    Err(InvalidInput(
        "give the hazard: --lot ID, or --facility GLN or --ingredient GTIN with --from and --to"
            .to_owned(),
    )
    .into())
}

fn issue(client: &Client, arguments: &IssueArgs, context: &Context) -> Result<ExitStatus> {
    let hazard = hazard_json(arguments)?;
    let scope = client.recall_scope(&hazard)?;
    if !scope.verified() {
        return print_checked_answer(&scope, "recall scope", None, context.json);
    }
    // The lots named by the regulator are recalled even when this node knows nothing of them
    // (their feeds may not be on the network yet); the scope adds every lot made from them.
    let named_lots: Vec<String> = hazard["lots"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    let scoped_lots = &scope.answer().lots;
    for named_lot in &named_lots {
        if !scoped_lots.iter().any(|lot| **lot == **named_lot) {
            eprintln!(
                "warning: nothing is recorded about {named_lot} on the node at {}; the recall names it anyway",
                client.node_url()
            );
        }
    }
    let recalled_lots: BTreeSet<&str> = named_lots
        .iter()
        .map(String::as_str)
        .chain(scoped_lots.iter().map(AsRef::as_ref))
        .collect();
    if recalled_lots.is_empty() {
        return Err(InvalidInput(format!(
            "nothing recorded on the node at {} matches this hazard, so no recall was issued (check the GLN or GTIN and the --from/--to window)",
            client.node_url()
        ))
        .into());
    }
    let recall_id = arguments
        .recall_id
        .clone()
        .unwrap_or_else(|| format!("R-{}", time::OffsetDateTime::now_utc().unix_timestamp()));
    let record = json!({
        "kind": "recall_notice",
        "recall_id": recall_id,
        "class": arguments.class.name(),
        "lots": recalled_lots,
        "hazard": arguments.reason,
        "instructions": arguments.instructions,
        "scope": hazard,
    });
    let receipt = client.submit_record(&record)?;
    if context.json {
        let mut json = answer_json(&scope, None);
        json["lots"] = json!(recalled_lots);
        json["recall_id"] = json!(recall_id);
        json["entry_hash"] = json!(receipt.entry_hash);
        json["sequence"] = json!(receipt.sequence);
        print_json(&json)?;
        return Ok(ExitStatus::Success);
    }
    println!(
        "recall {recall_id} (class {}) signed as entry {} ({} lots, {} consignees)",
        arguments.class.name(),
        receipt.entry_hash,
        recalled_lots.len(),
        scope.answer().consignees.len()
    );
    print_checked_answer(&scope, &format!("recall {recall_id} scope"), None, false)
}

/// Finds a recall notice by recall id or entry hash.
pub fn find_notice(client: &Client, recall: &str) -> Result<RecordItem> {
    let notices = client.records("recall_notice")?;
    notices
        .into_iter()
        .map(|(item, _)| item)
        .find(|item| {
            item.record["recall_id"].as_str() == Some(recall)
                || item.entry_hash.eq_ignore_ascii_case(recall)
        })
        .ok_or_else(|| {
            InvalidInput(format!(
                "no recall notice {recall:?} on this node (check the recall id, or that the regulator's feed is replicated here)"
            ))
            .into()
        })
}

/// The scope of a notice: a verified recall scope over its lots.
pub fn notice_scope(client: &Client, notice: &RecordItem) -> Result<CheckedAnswer> {
    let lots = notice.record["lots"].clone();
    Ok(client.recall_scope(&json!({"lots": lots}))?)
}

fn status(client: &Client, recall: &str, context: &Context) -> Result<ExitStatus> {
    let notice = find_notice(client, recall)?;
    let recall_id = notice.record["recall_id"].as_str().unwrap_or(recall).to_owned();
    let scope = notice_scope(client, &notice)?;
    let acknowledgements: Vec<RecordItem> = client
        .records("recall_ack")?
        .into_iter()
        .map(|(item, _)| item)
        .filter(|item| {
            item.record["recall_id"].as_str() == Some(recall_id.as_str())
                || item.record["notice"]["entry_hash"]
                    .as_str()
                    .is_some_and(|hash| hash.eq_ignore_ascii_case(&notice.entry_hash))
        })
        .collect();
    let roster = client.roster()?;
    let acknowledging_glns: Vec<String> = acknowledgements
        .iter()
        .filter_map(|acknowledgement| {
            roster
                .members
                .iter()
                .find(|member| member.public_key.eq_ignore_ascii_case(&acknowledgement.author))
                .and_then(|member| member.gln.clone())
        })
        .collect();
    let outstanding = outstanding_consignees(&scope.answer().consignees, &acknowledging_glns);
    let member_name = |author: &str| {
        roster
            .members
            .iter()
            .find(|member| member.public_key.eq_ignore_ascii_case(author))
            .map_or_else(|| author.to_owned(), |member| member.name.clone())
    };
    if context.json {
        let mut json = answer_json(&scope, None);
        json["recall_id"] = json!(recall_id);
        json["notice"] = json!({"entry_hash": notice.entry_hash, "author": notice.author, "record": notice.record});
        let acknowledgement_json: Vec<Value> = acknowledgements
            .iter()
            .map(|acknowledgement| {
                json!({
                    "author": acknowledgement.author,
                    "name": member_name(&acknowledgement.author),
                    "quantity_held": acknowledgement.record["quantity_held"],
                    "action": acknowledgement.record["action"],
                    "entry_hash": acknowledgement.entry_hash,
                })
            })
            .collect();
        json["acknowledgements"] = json!(acknowledgement_json);
        json["outstanding"] = json!(consignees_json(outstanding.iter().copied()));
        print_json(&json)?;
    } else {
        println!(
            "recall {recall_id} class {}: {}",
            notice.record["class"].as_str().unwrap_or("?"),
            notice.record["hazard"].as_str().unwrap_or_default()
        );
        let mut acknowledgement_table = Table::new(["acknowledged by", "quantity held", "action"]);
        for acknowledgement in &acknowledgements {
            acknowledgement_table.push([
                member_name(&acknowledgement.author),
                acknowledgement.record["quantity_held"].as_str().unwrap_or_default().to_owned(),
                acknowledgement.record["action"].as_str().unwrap_or_default().to_owned(),
            ]);
        }
        print!("{}", acknowledgement_table.render());
        let mut outstanding_table = Table::new(["outstanding: party", "location", "quantity"]);
        for consignee in &outstanding {
            outstanding_table.push([
                shown(scope.reply.names(), consignee.party.as_deref()),
                shown(scope.reply.names(), consignee.location.as_deref()),
                quantity_cell(consignee.quantity, consignee.uom.as_deref()),
            ]);
        }
        println!();
        print!("{}", outstanding_table.render());
        println!();
        return print_checked_answer(&scope, &format!("recall {recall_id} scope"), None, false);
    }
    if scope.verified() { Ok(ExitStatus::Success) } else { Ok(ExitStatus::VerificationFailed) }
}

fn acknowledge(client: &Client, arguments: &AckArgs, context: &Context) -> Result<ExitStatus> {
    if !(arguments.quantity.is_finite() && arguments.quantity >= 0.0) {
        return Err(InvalidInput("--quantity must be a number ≥ 0".to_owned()).into());
    }
    let notice = find_notice(client, &arguments.recall)?;
    let recall_id = notice.record["recall_id"].as_str().unwrap_or(&arguments.recall).to_owned();
    let record = json!({
        "kind": "recall_ack",
        "notice": {
            "author": notice.author,
            "sequence": notice.sequence,
            "entry_hash": notice.entry_hash,
        },
        "recall_id": recall_id,
        "action": arguments.action,
        "quantity_held": format!("{} {}", arguments.quantity, arguments.uom),
    });
    let receipt = client.submit_record(&record)?;
    if context.json {
        print_json(
            &json!({"recall_id": recall_id, "entry_hash": receipt.entry_hash, "sequence": receipt.sequence}),
        )?;
    } else {
        println!(
            "acknowledged recall {recall_id}: {} {} held, {} (entry {})",
            arguments.quantity, arguments.uom, arguments.action, receipt.entry_hash
        );
    }
    Ok(ExitStatus::Success)
}
