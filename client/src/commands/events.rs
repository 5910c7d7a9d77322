//! `lotline events`: the EPCIS 2.0 query parameters as flags, each returned event verified
//! against its proof bundle.
//!
//! Owns the flag ↔ parameter names. Deliberately does not own paging or verification
//! (`lotline_client::Client::query_events`).

use std::collections::BTreeSet;

use anyhow::Result;
use clap::Args;
use lotline_client::ExitStatus;
use lotline_client::client::CheckedEvents;
use lotline_client::render::{Table, print_json};
use lotline_ledger::gs1::canonical_digital_link;
use serde_json::{Value, json};

use super::{Context, InvalidInput};

/// EPCIS query parameters; list flags may repeat and are sent `|`-separated.
#[derive(Debug, Args, Clone, Default)]
pub struct QueryArgs {
    /// eventType: ObjectEvent, AggregationEvent, TransactionEvent, TransformationEvent, AssociationEvent.
    #[arg(long)]
    pub event_type: Vec<String>,
    /// GE_eventTime (RFC 3339).
    #[arg(long)]
    pub ge_event_time: Option<String>,
    /// LT_eventTime (RFC 3339).
    #[arg(long)]
    pub lt_event_time: Option<String>,
    /// GE_recordTime (RFC 3339).
    #[arg(long)]
    pub ge_record_time: Option<String>,
    /// LT_recordTime (RFC 3339).
    #[arg(long)]
    pub lt_record_time: Option<String>,
    /// EQ_action: ADD, OBSERVE, DELETE.
    #[arg(long)]
    pub action: Vec<String>,
    /// EQ_bizStep (CBV word or URI).
    #[arg(long)]
    pub biz_step: Vec<String>,
    /// EQ_disposition (CBV word or URI).
    #[arg(long)]
    pub disposition: Vec<String>,
    /// EQ_readPoint (GLN Digital Link or SGLN URN).
    #[arg(long)]
    pub read_point: Vec<String>,
    /// EQ_bizLocation (GLN Digital Link or SGLN URN).
    #[arg(long)]
    pub biz_location: Vec<String>,
    /// MATCH_epc.
    #[arg(long)]
    pub match_epc: Vec<String>,
    /// MATCH_anyEPC.
    #[arg(long)]
    pub match_any_epc: Vec<String>,
    /// MATCH_epcClass.
    #[arg(long)]
    pub match_epc_class: Vec<String>,
    /// MATCH_anyEPCClass.
    #[arg(long)]
    pub match_any_epc_class: Vec<String>,
    /// EQ_eventID.
    #[arg(long)]
    pub event_id: Vec<String>,
    /// perPage (the client follows every page).
    #[arg(long)]
    pub per_page: Option<u32>,
    /// Any other EPCIS query parameter, as NAME=VALUE (e.g. GE_maxValue_CEL=8).
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub extra: Vec<String>,
}

impl QueryArgs {
    /// The query as (name, value) pairs in EPCIS spelling.
    pub fn parameters(&self) -> Result<Vec<(String, String)>, InvalidInput> {
        let mut parameters = Vec::new();
        let mut list = |name: &str, values: &[String]| {
            if !values.is_empty() {
                parameters.push((name.to_owned(), values.join("|")));
            }
        };
        list("eventType", &self.event_type);
        list("EQ_action", &self.action);
        list("EQ_bizStep", &self.biz_step);
        list("EQ_disposition", &self.disposition);
        list("EQ_readPoint", &self.read_point);
        list("EQ_bizLocation", &self.biz_location);
        list("MATCH_epc", &self.match_epc);
        list("MATCH_anyEPC", &self.match_any_epc);
        list("MATCH_epcClass", &self.match_epc_class);
        list("MATCH_anyEPCClass", &self.match_any_epc_class);
        list("EQ_eventID", &self.event_id);
        let singles = [
            ("GE_eventTime", &self.ge_event_time),
            ("LT_eventTime", &self.lt_event_time),
            ("GE_recordTime", &self.ge_record_time),
            ("LT_recordTime", &self.lt_record_time),
        ];
        for (name, value) in singles {
            if let Some(value) = value {
                // Checked here so a typo is the user's input error (exit 3), not the node's.
                time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
                    .map_err(|_| {
                        InvalidInput(format!(
                            "{name} {value:?} is not an RFC 3339 time with an offset like 2026-03-01T08:00:00Z"
                        ))
                    })?;
                parameters.push((name.to_owned(), value.clone()));
            }
        }
        if let Some(per_page) = self.per_page {
            parameters.push(("perPage".to_owned(), per_page.to_string()));
        }
        for pair in &self.extra {
            let (name, value) = pair
                .split_once('=')
                .ok_or_else(|| InvalidInput(format!("--param {pair:?} is not NAME=VALUE")))?;
            parameters.push((name.to_owned(), value.to_owned()));
        }
        Ok(parameters)
    }
}

/// `lotline events` options.
#[derive(Debug, Args)]
pub struct EventsArgs {
    #[command(flatten)]
    query: QueryArgs,
    /// Do not fetch and check each event's proof (faster; output says unverified).
    #[arg(long)]
    no_verify: bool,
}

/// Runs `lotline events`.
pub fn run(arguments: &EventsArgs, context: &Context) -> Result<ExitStatus> {
    let client = context.client()?;
    let checked_events =
        client.query_events(&arguments.query.parameters()?, !arguments.no_verify)?;
    let verified = checked_events.checked && checked_events.problems.is_empty();
    if context.json {
        print_json(&events_json(&checked_events))?;
    } else {
        let place_of = |event: &Value| {
            let written =
                event["bizLocation"]["id"].as_str().or(event["readPoint"]["id"].as_str())?;
            Some(canonical_digital_link(written).unwrap_or_else(|| written.to_owned()))
        };
        let places: BTreeSet<String> = checked_events.events.iter().filter_map(place_of).collect();
        let place_names = client.names_of(&places.into_iter().collect::<Vec<_>>())?;
        let mut table =
            Table::new(["event time", "type", "bizStep", "where", "verified", "event id"]);
        for event in &checked_events.events {
            let event_id = event["eventID"].as_str().unwrap_or_default();
            let event_verified = checked_events.evidence.events.contains_key(event_id);
            let place = place_of(event).unwrap_or_default();
            table.push([
                event["eventTime"].as_str().unwrap_or_default().to_owned(),
                event["type"].as_str().unwrap_or_default().to_owned(),
                event["bizStep"].as_str().unwrap_or_default().to_owned(),
                place_names.get(&place).cloned().unwrap_or(place),
                if event_verified { "yes" } else { "no" }.to_owned(),
                event_id.to_owned(),
            ]);
        }
        print!("{}", table.render());
        println!("{} events", checked_events.events.len());
    }
    if !checked_events.checked {
        return Ok(ExitStatus::Success);
    }
    if verified {
        Ok(ExitStatus::Success)
    } else {
        let first_problem =
            checked_events.problems.first().map(ToString::to_string).unwrap_or_default();
        eprintln!("error: verification failed: {first_problem}; do not rely on these events");
        Ok(ExitStatus::VerificationFailed)
    }
}

/// The `--json` shape: the events (JSON-LD), whether they verified, and any problems.
fn events_json(checked_events: &CheckedEvents) -> Value {
    let problems: Vec<String> = checked_events.problems.iter().map(ToString::to_string).collect();
    json!({
        "events": checked_events.events,
        "verified": checked_events.checked && checked_events.problems.is_empty(),
        "problems": problems,
    })
}
