//! What the process-level tests and the soak send to nodes and read back, over plain HTTP:
//! EPCIS documents whose Event Hash IDs are known before they are sent, captures that record
//! exactly what the client was told (acknowledged, refused, or no answer at all), streams of
//! concurrent captures that can be cut by killing the node, and the feeds and events a node
//! reports.
//!
//! Owns: the meaning of "acknowledged" in these tests: a `202` whose `eventIDs` are the
//! document's own hash ids. Does not own the node processes (`crate::process`) nor the raw
//! HTTP exchange (`crate::fixtures::exchange`).

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context;
use lotline_ledger::epcis;
use serde_json::{Value, json};

use crate::fixtures::exchange;

/// Largest page `GET /events` serves (`perPage`).
const EVENTS_PAGE: usize = 1_000;

/// An EPCIS document ready to capture, with the Event Hash ID of each of its events.
#[derive(Debug, Clone)]
pub struct Document {
    /// Unique label: the lot its events name, and how failures name the document.
    pub label: String,
    /// The JSON-LD `EPCISDocument`, as `POST /capture` takes it.
    pub body: Vec<u8>,
    /// The Event Hash ID of every event, in document order (what the node must answer).
    pub event_ids: Vec<String>,
}

/// The lot link a document labelled `label` names.
pub fn lot_of(label: &str) -> String {
    format!("https://id.gs1.org/01/09506000134352/10/{label}")
}

/// A document of `events` shipping ObjectEvents of the lot [`lot_of`]`(label)`, each event
/// distinct (its time and quantity follow its position), so two documents with different
/// labels share no event. Its hash ids are computed with the ledger's own functions, the way
/// the node computes them.
pub fn shipping_document(label: &str, events: usize) -> anyhow::Result<Document> {
    anyhow::ensure!((1..=3_600).contains(&events), "a document holds 1 to 3600 events");
    let lot = lot_of(label);
    let event_values: Vec<Value> = (0..events)
        .map(|index| {
            json!({
                "type": "ObjectEvent",
                "eventTime": format!("2024-03-01T10:{:02}:{:02}.000Z", index / 60, index % 60),
                "eventTimeZoneOffset": "+00:00",
                "action": "OBSERVE",
                "bizStep": "shipping",
                "disposition": "in_transit",
                "quantityList": [{"epcClass": lot, "quantity": index + 1, "uom": "KGM"}],
                "readPoint": {"id": "https://id.gs1.org/414/9506000000008"}
            })
        })
        .collect();
    let body = serde_json::to_vec(&json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2024-03-01T12:00:00.000Z",
        "epcisBody": {"eventList": event_values}
    }))?;
    let parsed = epcis::parse_document(&body)
        .with_context(|| format!("document {label} is not valid EPCIS"))?;
    let event_ids = parsed.events.iter().map(epcis::event_hash_id).collect();
    Ok(Document { label: label.to_owned(), body, event_ids })
}

/// What a client was told about one capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `202` naming exactly the document's hash ids: the node promises they are durable.
    Acknowledged,
    /// The node answered, but not with that acknowledgement.
    Refused {
        /// The status code.
        status: u16,
        /// The body, as text.
        body: String,
    },
    /// Nothing was sent: the node refused the connection (it is not running).
    Unreachable(String),
    /// The request was sent but no answer came: the connection was cut or the answer did not
    /// come in time. The capture may or may not have been stored.
    NoAnswer(String),
}

/// Captures `document` on the node at `address` with its API `token`, and says what the
/// client was told.
pub async fn capture(address: SocketAddr, token: &str, document: &Document) -> Outcome {
    let authorization = format!("Bearer {token}");
    let headers =
        [("Authorization", authorization.as_str()), ("Content-Type", "application/ld+json")];
    let answer = match exchange(address, "POST", "/capture", &headers, &document.body).await {
        Ok(answer) => answer,
        Err(error) => {
            let refused = error
                .downcast_ref::<std::io::Error>()
                .is_some_and(|error| error.kind() == std::io::ErrorKind::ConnectionRefused);
            return if refused {
                Outcome::Unreachable(format!("{error:#}"))
            } else {
                Outcome::NoAnswer(format!("{error:#}"))
            };
        }
    };
    let body = String::from_utf8_lossy(&answer.body).into_owned();
    let named: Option<Vec<String>> = answer
        .json()
        .ok()
        .and_then(|job| serde_json::from_value(job.get("eventIDs")?.clone()).ok());
    if answer.status == 202 && named.as_ref() == Some(&document.event_ids) {
        Outcome::Acknowledged
    } else {
        Outcome::Refused { status: answer.status, body }
    }
}

/// A document sent and what its client was told.
pub type Sent = (Document, Outcome);

/// A stream of captures from several concurrent clients to one node, each client sending its
/// next document as soon as the previous one is answered, until told to stop or until a
/// capture gets no answer or no connection (the node is gone).
#[derive(Debug)]
pub struct CaptureStream {
    /// Set to make every client stop after its current capture.
    stop: Arc<AtomicBool>,
    /// Acknowledged captures so far, all clients together.
    acknowledged: Arc<AtomicUsize>,
    /// Each client's task, returning its documents and what it was told about each.
    clients: Vec<tokio::task::JoinHandle<anyhow::Result<Vec<Sent>>>>,
}

impl CaptureStream {
    /// Starts `clients` clients capturing documents of `events_per_document` events on the
    /// node at `address`. Client `k` labels its documents `{label}-k{k}-d{n}`.
    pub fn start(
        address: SocketAddr,
        token: &str,
        label: &str,
        clients: usize,
        events_per_document: usize,
    ) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let acknowledged = Arc::new(AtomicUsize::new(0));
        let clients = (0..clients)
            .map(|client| {
                let stop = Arc::clone(&stop);
                let acknowledged = Arc::clone(&acknowledged);
                let token = token.to_owned();
                let prefix = format!("{label}-k{client}");
                tokio::spawn(async move {
                    let mut sent = Vec::new();
                    for number in 0.. {
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        let document =
                            shipping_document(&format!("{prefix}-d{number}"), events_per_document)?;
                        let outcome = capture(address, &token, &document).await;
                        let cut = matches!(outcome, Outcome::NoAnswer(_) | Outcome::Unreachable(_));
                        if outcome == Outcome::Acknowledged {
                            acknowledged.fetch_add(1, Ordering::SeqCst);
                        }
                        sent.push((document, outcome));
                        if cut {
                            break;
                        }
                    }
                    Ok::<_, anyhow::Error>(sent)
                })
            })
            .collect();
        Self { stop, acknowledged, clients }
    }

    /// Acknowledged captures so far.
    pub fn acknowledged(&self) -> usize {
        self.acknowledged.load(Ordering::SeqCst)
    }

    /// Waits until at least `count` captures are acknowledged, failing after `deadline`.
    pub async fn wait_for_acknowledged(
        &self,
        count: usize,
        deadline: Duration,
    ) -> anyhow::Result<()> {
        crate::cluster::wait_for(&format!("{count} acknowledged captures"), deadline, || async {
            (self.acknowledged() >= count).then_some(())
        })
        .await
    }

    /// Stops the clients after their current capture (or at once, if the node is gone) and
    /// returns every document sent, with what its client was told, in no particular order.
    pub async fn finish(self) -> anyhow::Result<Vec<Sent>> {
        self.stop.store(true, Ordering::SeqCst);
        let mut sent = Vec::new();
        for client in self.clients {
            sent.extend(client.await.context("a capture client panicked")??);
        }
        Ok(sent)
    }
}

/// GETs `path_and_query` (with the node's API `token`, which business queries need unless
/// the node serves them publicly) and returns the body as JSON, failing on any status but 200.
pub async fn get_json(
    address: SocketAddr,
    path_and_query: &str,
    token: Option<&str>,
) -> anyhow::Result<Value> {
    let authorization = token.map(|token| format!("Bearer {token}"));
    let headers: Vec<(&str, &str)> =
        authorization.iter().map(|value| ("Authorization", value.as_str())).collect();
    let answer = exchange(address, "GET", path_and_query, &headers, &[]).await?;
    anyhow::ensure!(
        answer.status == 200,
        "GET {path_and_query} answered {}: {}",
        answer.status,
        String::from_utf8_lossy(&answer.body)
    );
    answer.json()
}

/// Every event id the node at `address` (API token `token`) lists in `GET /events`, page by
/// page.
pub async fn stored_event_ids(
    address: SocketAddr,
    token: &str,
) -> anyhow::Result<BTreeSet<String>> {
    let mut found = BTreeSet::new();
    let mut path = format!("/events?perPage={EVENTS_PAGE}");
    loop {
        let page = get_json(address, &path, Some(token)).await?;
        let events = page
            .pointer("/epcisBody/queryResults/resultsBody/eventList")
            .and_then(Value::as_array)
            .context("an EPCISQueryDocument has an eventList")?;
        for event in events {
            let event_id =
                event["eventID"].as_str().context("every listed event has an eventID")?;
            found.insert(event_id.to_owned());
        }
        match page["nextPageToken"].as_str() {
            Some(token) if !events.is_empty() => {
                path = format!("/events?perPage={EVENTS_PAGE}&nextPageToken={token}");
            }
            _ => return Ok(found),
        }
    }
}

/// One feed as a node reports it: its size, head and the body of its latest checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedView {
    /// Entries in the feed.
    pub size: u64,
    /// Hex hash of the last entry (`null` for an empty feed).
    pub head: Option<String>,
    /// The checkpoint's signed body (origin, size, root hash), without signature lines, which
    /// differ between nodes as witnesses' cosignatures arrive.
    pub checkpoint: String,
    /// The size the checkpoint states.
    pub checkpoint_size: u64,
}

/// Every feed the node at `address` holds, by author (hex): `GET /feeds`, then
/// `GET /feeds/{author}/checkpoint` for each non-empty one.
pub async fn feed_views(address: SocketAddr) -> anyhow::Result<BTreeMap<String, FeedView>> {
    let feeds = get_json(address, "/feeds", None).await?;
    let mut views = BTreeMap::new();
    for feed in feeds.as_array().context("GET /feeds answers a list")? {
        let author = feed["author"].as_str().context("a feed has an author")?.to_owned();
        let size = feed["size"].as_u64().context("a feed has a size")?;
        let head = feed["head"].as_str().map(str::to_owned);
        let (checkpoint, checkpoint_size) = if size == 0 {
            (String::new(), 0)
        } else {
            let path = format!("/feeds/{author}/checkpoint");
            let answer = exchange(address, "GET", &path, &[], &[]).await?;
            if answer.status == 200 {
                let note = String::from_utf8_lossy(&answer.body).into_owned();
                let body = note.split("\n\n").next().unwrap_or_default().to_owned();
                let stated = body.lines().nth(1).and_then(|line| line.parse().ok()).unwrap_or(0);
                (body, stated)
            } else {
                (String::new(), 0)
            }
        };
        views.insert(author, FeedView { size, head, checkpoint, checkpoint_size });
    }
    Ok(views)
}
