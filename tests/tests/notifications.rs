//! Notifications end to end, with real components: nodes of a real cluster, an event-stream
//! client reading `GET /events/stream` over HTTP, and a real webhook receiver (an axum server
//! on 127.0.0.1) that checks each delivery's signature with the node's public key.
//!
//! Covers: a recall notice (replicated from the regulator's node) and an excursion (the
//! node's own) arrive in order; a client reconnecting with `Last-Event-ID` gets only what came
//! after, and a reset when that is no longer held; the cap on open streams; a webhook that
//! fails twice gets the third attempt; a full webhook queue drops the oldest and the metric
//! counts it. Every wait has a deadline; nothing sleeps.

use std::sync::{Arc, Mutex};

use anyhow::Context;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use futures::StreamExt;
use lotline_ledger::identity::{PublicKey, Signature};
use lotline_tests::cluster::{Cluster, DEFAULT_DEADLINE, wait_for};
use serde_json::{Value, json};
use tokio::sync::watch;

/// Index of the producer node (cluster roles go producer, logistics, retailer, regulator).
const PRODUCER: usize = 0;
/// Index of the regulator node.
const REGULATOR: usize = 3;
/// A lot of the records.
const LOT: &str = "urn:epc:class:lgtin:4012345.012345.L1";

/// One event read from an event stream.
#[derive(Debug, Clone)]
struct StreamEvent {
    /// `id:`.
    id: Option<u64>,
    /// `event:`.
    event: String,
    /// `data:` as JSON.
    data: Value,
}

/// An open event stream and what it has read but not yet returned.
struct EventStream {
    /// The body, a chunk at a time.
    body: futures::stream::BoxStream<'static, reqwest::Result<Bytes>>,
    /// Text read past the last complete event.
    buffer: String,
}

impl EventStream {
    /// Opens `GET /events/stream` on `base`, sending `last_event_id` when given.
    async fn open(base: &str, last_event_id: Option<&str>) -> anyhow::Result<Self> {
        let mut request = reqwest::Client::new().get(format!("{base}/events/stream"));
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        let response = request.send().await?;
        anyhow::ensure!(response.status() == StatusCode::OK, "stream: {}", response.status());
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        anyhow::ensure!(content_type.starts_with("text/event-stream"), "{content_type}");
        Ok(EventStream { body: response.bytes_stream().boxed(), buffer: String::new() })
    }

    /// The next event (keep-alive comments skipped), within the default deadline.
    async fn next(&mut self) -> anyhow::Result<StreamEvent> {
        tokio::time::timeout(DEFAULT_DEADLINE, self.read_event())
            .await
            .context("no event within the deadline")?
    }

    async fn read_event(&mut self) -> anyhow::Result<StreamEvent> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if let Some(event) = parse_event(&block)? {
                    return Ok(event);
                }
                continue;
            }
            let chunk = self.body.next().await.context("the stream ended")??;
            self.buffer.push_str(std::str::from_utf8(&chunk)?);
        }
    }
}

/// One event block; `None` for a block of comments only.
fn parse_event(block: &str) -> anyhow::Result<Option<StreamEvent>> {
    let (mut id, mut event, mut data) = (None, String::from("message"), Vec::new());
    let mut any = false;
    for line in block.lines() {
        if line.is_empty() || line.starts_with(':') {
            continue;
        }
        any = true;
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "id" => id = Some(value.parse().context("a numeric id")?),
            "event" => event = value.to_owned(),
            "data" => data.push(value.to_owned()),
            _ => {}
        }
    }
    if !any {
        return Ok(None);
    }
    let data = serde_json::from_str(&data.join("\n")).context("event data is JSON")?;
    Ok(Some(StreamEvent { id, event, data }))
}

/// POSTs a record to node `index`; returns the entry reference the node answers.
async fn post_record(cluster: &Cluster, index: usize, record: &Value) -> anyhow::Result<Value> {
    let response = reqwest::Client::new()
        .post(format!("{}/records", cluster.url(index)))
        .bearer_auth(cluster.token(index))
        .json(record)
        .send()
        .await?;
    let status = response.status();
    let body: Value = response.json().await?;
    anyhow::ensure!(status == StatusCode::CREATED, "POST /records: {status} {body}");
    Ok(body)
}

fn recall_notice(recall_id: &str) -> Value {
    json!({
        "kind": "recall_notice", "recall_id": recall_id, "class": "I", "lots": [LOT],
        "hazard": "listeria monocytogenes", "instructions": "hold and return",
    })
}

fn excursion(hour: u32) -> Value {
    json!({
        "kind": "excursion", "lots": [LOT], "measurement": "gs1:Temperature",
        "limit": "> 8 CEL for 30 min", "observed": "14.2 CEL",
        "started": format!("2026-03-01T{hour:02}:00:00Z"),
        "ended": format!("2026-03-01T{hour:02}:45:00Z"),
    })
}

/// Node `index`'s `/metrics` sample `name` (with its labels), if present.
async fn metric(cluster: &Cluster, index: usize, name: &str) -> Option<u64> {
    let text =
        reqwest::get(format!("{}/metrics", cluster.url(index))).await.ok()?.text().await.ok()?;
    text.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_sends_recalls_and_excursions_in_order_and_resumes_after_the_last_id()
-> anyhow::Result<()> {
    let cluster = Cluster::start(4).await?;
    let base = cluster.url(PRODUCER);
    let mut stream = EventStream::open(&base, None).await?;

    // A recall notice signed by the regulator reaches the producer's node by replication.
    let notice = post_record(&cluster, REGULATOR, &recall_notice("R-2026-17")).await?;
    let first = stream.next().await?;
    assert_eq!(first.event, "recall_notice");
    assert_eq!(first.data["kind"], "recall_notice");
    assert_eq!(first.data["author"], cluster.node(REGULATOR).organisation);
    assert_eq!(first.data["entry_hash"], notice["entry_hash"]);
    assert_eq!(first.data["sequence"], notice["sequence"]);
    assert_eq!(first.data["lots"], json!([LOT]));
    assert_eq!(first.data["recall_id"], "R-2026-17");
    let first_id = first.id.context("an id")?;
    assert_eq!(first.data["id"], json!(first_id));

    // The producer's own excursion follows, numbered next.
    let own = post_record(&cluster, PRODUCER, &excursion(8)).await?;
    let second = stream.next().await?;
    assert_eq!(second.event, "excursion");
    assert_eq!(second.id, Some(first_id + 1));
    assert_eq!(second.data["author"], cluster.node(PRODUCER).organisation);
    assert_eq!(second.data["entry_hash"], own["entry_hash"]);
    assert_eq!(second.data["lots"], json!([LOT]));
    assert_eq!(second.data["observed"], "14.2 CEL");

    // Reconnecting after the first gets only the second, then what comes next, live.
    let mut resumed = EventStream::open(&base, Some(&first_id.to_string())).await?;
    let replayed = resumed.next().await?;
    assert_eq!((replayed.id, replayed.event.as_str()), (second.id, "excursion"));
    assert_eq!(replayed.data, second.data);
    post_record(&cluster, PRODUCER, &excursion(11)).await?;
    let live = resumed.next().await?;
    assert_eq!((live.id, live.event.as_str()), (Some(first_id + 2), "excursion"));
    assert_eq!(stream.next().await?.id, Some(first_id + 2));

    // An id older than the backlog, or one never issued, gets a reset naming the latest.
    for stale in ["1", "not-a-number"] {
        let mut reset = EventStream::open(&base, Some(stale)).await?;
        let event = reset.next().await?;
        assert_eq!(event.event, "reset", "{stale}");
        assert_eq!(event.id, Some(first_id + 2), "{stale}");
        assert_eq!(event.data["latest"], json!(first_id + 2));
    }
    cluster.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_beyond_the_cap_are_refused_with_retry_after() -> anyhow::Result<()> {
    let cluster = Cluster::start_with(1, |_, config| config.notifications.max_streams = 1).await?;
    let base = cluster.url(PRODUCER);
    let _open = EventStream::open(&base, None).await?;
    let refused = reqwest::get(format!("{base}/events/stream")).await?;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.headers().contains_key(reqwest::header::RETRY_AFTER));
    assert_eq!(metric(&cluster, PRODUCER, "lotline_event_streams_refused_total").await, Some(1));
    cluster.shutdown().await;
    Ok(())
}

/// What the webhook receiver saw and how it answers.
#[derive(Debug, Default)]
struct Receiver {
    /// Attempts received, signature checked, in order: (notification id, attempt answered
    /// with success).
    attempts: Vec<(u64, bool)>,
    /// Bodies accepted, in order.
    accepted: Vec<Value>,
    /// Attempts to fail before answering `204`.
    fail_first: usize,
    /// The organisation whose key must sign.
    signer: String,
}

/// The receiver's state: what it saw, and a gate every request waits on until it is open.
#[derive(Clone)]
struct ReceiverState {
    /// What it saw.
    seen: Arc<Mutex<Receiver>>,
    /// Requests wait until this is true.
    gate: watch::Receiver<bool>,
}

/// Checks the signature, records the attempt, waits for the gate, answers.
async fn receive(
    State(state): State<ReceiverState>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let verified = (|| {
        let key = PublicKey::from_hex(header("lotline-key")?).ok()?;
        let signature = header("lotline-signature")?.strip_prefix("ed25519=")?;
        let signature: [u8; 64] = hex::decode(signature).ok()?.try_into().ok()?;
        let message = lotline_node::notify::webhook::message(std::str::from_utf8(&body).ok()?);
        key.verify(&message, &Signature::from_bytes(signature)).ok()?;
        Some(key.to_hex())
    })();
    let Some(json) = serde_json::from_slice::<Value>(&body).ok() else {
        return StatusCode::BAD_REQUEST;
    };
    let id = json["id"].as_u64().unwrap_or_default();
    let success = {
        let mut seen = state.seen.lock().unwrap();
        if verified.as_deref() != Some(seen.signer.as_str())
            || header("lotline-notification") != Some(id.to_string().as_str())
        {
            return StatusCode::UNAUTHORIZED;
        }
        let success = seen.attempts.len() >= seen.fail_first;
        seen.attempts.push((id, success));
        success
    };
    let mut gate = state.gate.clone();
    let _ = gate.wait_for(|open| *open).await;
    if !success {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    state.seen.lock().unwrap().accepted.push(json);
    StatusCode::NO_CONTENT
}

/// Starts a receiver on 127.0.0.1; returns its URL, what it sees, and its gate (open unless
/// `gated`).
async fn start_receiver(
    fail_first: usize,
    gated: bool,
) -> anyhow::Result<(String, Arc<Mutex<Receiver>>, watch::Sender<bool>)> {
    let seen = Arc::new(Mutex::new(Receiver { fail_first, ..Receiver::default() }));
    let (gate_sender, gate) = watch::channel(!gated);
    let state = ReceiverState { seen: Arc::clone(&seen), gate };
    let router = axum::Router::new().route("/hook", axum::routing::post(receive)).with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok((format!("http://{address}/hook"), seen, gate_sender))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_that_fails_twice_gets_the_signed_notification_on_the_third_attempt()
-> anyhow::Result<()> {
    let (url, seen, _gate) = start_receiver(2, false).await?;
    let cluster = Cluster::start_with(1, |_, config| {
        config.notifications.webhooks = vec![url.clone()];
        config.notifications.webhook_backoff_ms = 20;
        config.notifications.webhook_backoff_max_ms = 50;
    })
    .await?;
    seen.lock().unwrap().signer = cluster.node(PRODUCER).organisation.clone();
    let appended = post_record(&cluster, PRODUCER, &excursion(8)).await?;
    let accepted = wait_for("the third attempt to be accepted", DEFAULT_DEADLINE, || {
        let seen = Arc::clone(&seen);
        async move { seen.lock().unwrap().accepted.first().cloned() }
    })
    .await?;
    assert_eq!(accepted["kind"], "excursion");
    assert_eq!(accepted["entry_hash"], appended["entry_hash"]);
    assert_eq!(accepted["lots"], json!([LOT]));
    let id = accepted["id"].as_u64().context("an id")?;
    assert_eq!(seen.lock().unwrap().attempts, [(id, false), (id, false), (id, true)]);
    let node = &cluster;
    let retries = wait_for("the retries to be counted", DEFAULT_DEADLINE, move || async move {
        let delivered = metric(node, PRODUCER, "lotline_webhook_delivered_total{webhook=\"0\"}");
        (delivered.await == Some(1)).then_some(())?;
        metric(node, PRODUCER, "lotline_webhook_retries_total{webhook=\"0\"}").await
    })
    .await?;
    assert_eq!(retries, 2);
    cluster.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_webhook_queue_drops_the_oldest_and_counts_it() -> anyhow::Result<()> {
    let (url, seen, gate) = start_receiver(0, true).await?;
    let cluster = Cluster::start_with(1, |_, config| {
        config.notifications.webhooks = vec![url.clone()];
        config.notifications.webhook_queue = 2;
    })
    .await?;
    seen.lock().unwrap().signer = cluster.node(PRODUCER).organisation.clone();
    // The first is in flight (the receiver holds it at the gate) ...
    post_record(&cluster, PRODUCER, &excursion(1)).await?;
    let in_flight = wait_for("the first delivery to reach the receiver", DEFAULT_DEADLINE, || {
        let seen = Arc::clone(&seen);
        async move { seen.lock().unwrap().attempts.first().map(|(id, _)| *id) }
    })
    .await?;
    // ... four more queue behind it in a queue of two: the two oldest are dropped.
    for hour in 2..=5 {
        post_record(&cluster, PRODUCER, &excursion(hour)).await?;
    }
    let node = &cluster;
    let dropped = wait_for("two drops to be counted", DEFAULT_DEADLINE, move || async move {
        let dropped = metric(node, PRODUCER, "lotline_webhook_dropped_total{webhook=\"0\"}");
        dropped.await.filter(|dropped| *dropped >= 2)
    })
    .await?;
    assert_eq!(dropped, 2);
    gate.send_replace(true);
    let accepted = wait_for("the queue to drain", DEFAULT_DEADLINE, || {
        let seen = Arc::clone(&seen);
        async move {
            let seen = seen.lock().unwrap();
            (seen.accepted.len() == 3).then(|| seen.accepted.clone())
        }
    })
    .await?;
    let ids: Vec<u64> = accepted.iter().filter_map(|body| body["id"].as_u64()).collect();
    assert_eq!(ids, [in_flight, in_flight + 3, in_flight + 4]);
    let hours: Vec<&str> =
        accepted.iter().filter_map(|body| body["started"].as_str()?.get(11..13)).collect();
    assert_eq!(hours, ["01", "04", "05"]);
    assert_eq!(
        metric(&cluster, PRODUCER, "lotline_webhook_dropped_total{webhook=\"0\"}").await,
        Some(2)
    );
    cluster.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shipment_nobody_received_is_notified_once_when_overdue() -> anyhow::Result<()> {
    const SHIPPED: &str = "https://id.gs1.org/01/09506000134376/10/CHILL-9";
    let cluster = Cluster::start_with(1, |_, config| {
        config.handoff_deadline_ms = 3_600_000;
        config.notifications.handoff_check_ms = 100;
    })
    .await?;
    let organisation = cluster.node(PRODUCER).organisation.clone();
    let gln = cluster
        .node(PRODUCER)
        .state
        .roster()
        .members
        .into_iter()
        .find(|member| member.public_key == organisation)
        .context("the producer is a member")?
        .gln;
    let place = format!("https://id.gs1.org/414/{gln}");
    let event = |time: &str, step: &str, action: &str| {
        json!({
            "type": "ObjectEvent", "eventTime": time, "eventTimeZoneOffset": "+00:00",
            "action": action, "bizStep": step, "readPoint": {"id": place},
            "bizLocation": {"id": place}, "epcList": [],
            "quantityList": [{"epcClass": SHIPPED, "quantity": 10, "uom": "CS"}],
        })
    };
    let mut shipping = event("2026-06-01T09:00:00Z", "shipping", "OBSERVE");
    shipping["destinationList"] = json!([
        {"type": "owning_party", "destination": "https://id.gs1.org/417/0614141000036"},
    ]);
    let document = json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-06-01T00:00:00Z",
        "epcisBody": {"eventList": [event("2026-06-01T06:00:00Z", "commissioning", "ADD"), shipping]},
    });
    let mut stream = EventStream::open(&cluster.url(PRODUCER), None).await?;
    let response = reqwest::Client::new()
        .post(format!("{}/capture", cluster.url(PRODUCER)))
        .bearer_auth(cluster.token(PRODUCER))
        .header("content-type", "application/ld+json")
        .body(document.to_string())
        .send()
        .await?;
    anyhow::ensure!(response.status() == StatusCode::ACCEPTED, "{}", response.text().await?);
    let job: Value = response.json().await?;

    let overdue = stream.next().await?;
    assert_eq!(overdue.event, "handoff_overdue");
    assert_eq!(overdue.data["lots"], json!([SHIPPED]));
    assert_eq!(overdue.data["status"], "overdue");
    assert_eq!(overdue.data["author"], organisation);
    assert_eq!(overdue.data["sequence"], job["sequences"][1]);
    assert_eq!(overdue.data["due"], "2026-06-01T10:00:00.000Z");
    // Told once: the next event on the stream is the next notification, an excursion.
    post_record(&cluster, PRODUCER, &excursion(8)).await?;
    let next = stream.next().await?;
    assert_eq!((next.event.as_str(), next.id), ("excursion", overdue.id.map(|id| id + 1)));
    cluster.shutdown().await;
    Ok(())
}
