//! The HTTP side of the EPCIS 2.0 REST binding: which media type names which event binding,
//! the `EPCISQueryDocument` a query page is answered in, one stored event as JSON-LD, and the
//! `Link` to the next page.
//!
//! Owns: these texts, the refusal of a body whose binding is not the one its media type
//! names, and the two fields the node adds to what the EPCIS binding writes (an
//! `eventID` where the capturer gave none, the `nextPageToken`). Does not own validation, the
//! query's parameters or which events match (`crate::state`), nor the JSON-LD of an event or
//! of the document's envelope (`lotline_ledger::epcis`).

use std::collections::BTreeMap;

use lotline_ledger::epcis;
use lotline_ledger::records::EventFormat;
use serde_json::{Value, json};

use super::ApiError;
use crate::state::{EventPage, StoredEvent};

/// The event binding a capture's `Content-Type` names (JSON-LD when absent or bare JSON).
pub fn binding_of(content_type: &str) -> Result<EventFormat, ApiError> {
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    match media_type {
        "application/xml" | "text/xml" => Ok(EventFormat::Xml),
        "application/ld+json" | "application/json" | "" => Ok(EventFormat::JsonLd),
        other => Err(ApiError::UnsupportedMediaType(format!(
            "content type {other} is not an EPCIS binding: send application/ld+json or application/xml"
        ))),
    }
}

/// Refuses a body written in another binding than the one its `Content-Type` names (JSON-LD
/// labelled XML or the reverse), so what is stored is what the client said it sent. A body in
/// neither binding is left to the document reader, which refuses it naming the rule.
pub fn check_body_binding(
    content_type: &str,
    format: EventFormat,
    body: &[u8],
) -> Result<(), ApiError> {
    let Some(written) = epcis::binding_of_document(body) else {
        return Ok(());
    };
    if written == format {
        return Ok(());
    }
    let (media_type, body_binding, send_as) = match written {
        EventFormat::Xml => (content_type, "XML", "application/xml"),
        _ => (content_type, "JSON-LD", "application/ld+json"),
    };
    Err(ApiError::UnsupportedMediaType(format!(
        "content type {media_type} does not match the body, which is {body_binding}: send it as {send_as}"
    )))
}

/// One event as JSON-LD, with its hash id as `eventID` when the capturer gave none.
pub fn event_json(stored: &StoredEvent) -> Value {
    let mut value = epcis::event_to_json_ld(&stored.event);
    if value.get("eventID").is_none() {
        value["eventID"] = json!(stored.event_hash_id);
    }
    value
}

/// The `EPCISQueryDocument` answering one page of a `SimpleEventQuery`.
pub fn query_document(page: &EventPage) -> Value {
    let events: Vec<Value> = page.events.iter().map(event_json).collect();
    let creation_date = epcis::Timestamp::from_instant(time::OffsetDateTime::now_utc());
    let mut document =
        epcis::query_document_envelope("SimpleEventQuery", creation_date.as_str(), events);
    if let Some(token) = &page.next_page_token {
        document["nextPageToken"] = json!(token);
    }
    document
}

/// The query string of the page after `token`: the same parameters, that token.
pub fn next_query(parameters: &BTreeMap<String, String>, token: &str) -> String {
    let mut parameters = parameters.clone();
    parameters.insert("nextPageToken".to_owned(), token.to_owned());
    parameters
        .iter()
        .map(|(name, value)| format!("{name}={}", percent_encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}
