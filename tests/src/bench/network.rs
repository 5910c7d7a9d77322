//! Scenarios `capture_http`, `propagation` and `catchup` of `lotline-bench`: real nodes of the
//! [`Cluster`] harness (sled stores in a temporary directory, libp2p on 127.0.0.1, the HTTP
//! API), driven and observed from this process.
//!
//! - `capture_http`: client threads POST EPCIS 2.0 JSON-LD documents of ~500-byte
//!   ObjectEvents to one node; `per_s` counts events durably stored per second of wall time,
//!   the latencies are per request (one document).
//! - `propagation`: one event captured over HTTP on node 0 of three, timed until it is in both
//!   other nodes' stores (gossiped checkpoint, range fetch, verify, durable append).
//! - `catchup`: a fresh node joins a peer holding N entries in three feeds and is timed until
//!   it holds all of them; `ratio` compares that rate with the machine's Ed25519
//!   batch-verification rate on all cores (standard batch verification, measured before and
//!   after; the nodes' own verifier, which merges one signer's terms, is reported beside it).
//!   Then the joined node is restarted: `restart_s` is its start-up with the whole ledger
//!   (store reopened, lot index and catalogue rebuilt).
//!
//! Owns the scenarios, their sizes and their event documents. Does not own the nodes
//! (`lotline_node`), the harness (`crate::cluster`) or the report format (`super`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use lotline_client::http::Transport;
use lotline_ledger::codec;
use lotline_ledger::feed::{FeedWriter, VerifiedEntry};
use lotline_ledger::identity::{Keypair, PublicKey};
use lotline_ledger::records::{EpcisCapture, EventFormat, Payload};
use lotline_node::state::Ledger;

use super::{
    Options, Report, SignedMessage, Verifier, percentile_ms, process_cpu_time,
    verification_rate_per_s,
};
use crate::cluster::{Cluster, DEFAULT_DEADLINE, wait_for};

/// The scenario names this module answers, in the order they run.
pub const SCENARIOS: [&str; 3] = ["capture_http", "propagation", "catchup"];

/// Anti-entropy interval of the benchmark nodes: the product default, so `propagation`
/// measures the gossip push path and not the harness's faster polling.
const SYNC_INTERVAL_MS: u64 = 1_000;
/// Events per captured document in `capture_http`.
const EVENTS_PER_DOCUMENT: usize = 500;
/// Concurrent HTTP clients in `capture_http` (enough to keep a 2-core node busy while one
/// request is parsed and the previous one is flushed).
const CAPTURE_CLIENTS: usize = 4;
/// Unmeasured rounds before `propagation` starts timing (connections, gossip subscriptions).
const PROPAGATION_WARMUP_ROUNDS: usize = 5;
/// How long one `propagation` round may take before the scenario fails.
const PROPAGATION_ROUND_DEADLINE: Duration = Duration::from_secs(30);
/// Pause between two polls of the peers' stores in `propagation` (the resolution of its
/// latencies; short enough not to matter, long enough not to starve the nodes of a core).
const PROPAGATION_POLL: Duration = Duration::from_micros(200);
/// Feeds the `catchup` peer holds (organisations 0, 1 and 2 of the cluster).
const CATCHUP_FEEDS: usize = 3;
/// Entries signed and appended per durable batch when building the `catchup` peer.
const CATCHUP_SETUP_BATCH: usize = 4_096;
/// Pause between two polls of the joining node's store in `catchup`.
const CATCHUP_POLL: Duration = Duration::from_millis(5);
/// How long the joining node may take to catch up before the scenario fails.
const CATCHUP_DEADLINE: Duration = Duration::from_secs(900);
/// Signatures the `catchup` ceiling is measured over (a sample of the peer's entries).
const CEILING_SAMPLE: usize = 65_536;
/// Signatures per batch-verification call in the ceiling measurement.
const CEILING_BATCH: usize = 1_024;

/// Scenario sizes for one run.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    /// Documents posted in `capture_http`.
    capture_documents: usize,
    /// Measured rounds of `propagation`.
    propagation_rounds: usize,
    /// Entries the `catchup` peer holds.
    catchup_entries: usize,
}

impl Sizes {
    fn for_options(options: &Options) -> Self {
        if options.quick {
            Self { capture_documents: 40, propagation_rounds: 50, catchup_entries: 40_000 }
        } else {
            Self { capture_documents: 400, propagation_rounds: 500, catchup_entries: 1_000_000 }
        }
    }
}

/// Runs the scenarios of this module that `selected` accepts, each on its own cluster, and
/// returns their report lines in [`SCENARIOS`] order.
pub fn run(options: &Options, selected: impl Fn(&str) -> bool) -> anyhow::Result<Vec<Report>> {
    let sizes = Sizes::for_options(options);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .context("starting the benchmark's async runtime")?;
    let mut reports = Vec::new();
    if selected("capture_http") {
        reports.push(runtime.block_on(capture_http(sizes))?);
    }
    if selected("propagation") {
        reports.push(runtime.block_on(propagation(sizes))?);
    }
    if selected("catchup") {
        reports.push(runtime.block_on(catchup(sizes))?);
    }
    Ok(reports)
}

/// One ~500-byte EPCIS 2.0 ObjectEvent in JSON-LD: a unique serialised item of a lot,
/// shipped between two parties, with its quantity of the lot.
fn object_event_json(serial: u64) -> String {
    let lot = serial / 1_000;
    let second = serial % 3_600;
    format!(
        concat!(
            r#"{{"type":"ObjectEvent","eventTime":"2026-03-01T10:{minute:02}:{second:02}.000Z","#,
            r#""eventTimeZoneOffset":"+00:00","#,
            r#""epcList":["https://id.gs1.org/01/09506000134352/21/{serial}"],"#,
            r#""action":"OBSERVE","bizStep":"shipping","disposition":"in_transit","#,
            r#""readPoint":{{"id":"https://id.gs1.org/414/9506000000008"}},"#,
            r#""bizLocation":{{"id":"https://id.gs1.org/414/9506000000008"}},"#,
            r#""quantityList":[{{"epcClass":"https://id.gs1.org/01/09506000134352/10/LOT-{lot}","#,
            r#""quantity":{quantity},"uom":"KGM"}}],"#,
            r#""sourceList":[{{"type":"owning_party","source":"https://id.gs1.org/417/9506000000008"}}],"#,
            r#""destinationList":[{{"type":"owning_party","#,
            r#""destination":"https://id.gs1.org/417/9506000000008"}}]}}"#
        ),
        minute = second / 60,
        second = second % 60,
        serial = serial,
        lot = lot,
        quantity = 100 + serial % 400,
    )
}

/// An EPCIS 2.0 JSON-LD capture document holding the events `first_serial..+count`.
fn capture_document(first_serial: u64, count: usize) -> Vec<u8> {
    let events: Vec<String> =
        (first_serial..first_serial + count as u64).map(object_event_json).collect();
    format!(
        concat!(
            r#"{{"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],"#,
            r#""type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2026-03-01T12:00:00.000Z","#,
            r#""epcisBody":{{"eventList":[{events}]}}}}"#
        ),
        events = events.join(",")
    )
    .into_bytes()
}

/// The payload of event `serial` on the `catchup` peer. Its id is a digest of the JSON rather
/// than the canonical Event Hash ID: replication treats ids as opaque, and canonicalising a
/// million events would triple the scenario's (unmeasured) setup time.
fn peer_payload(serial: u64) -> Payload {
    let original = object_event_json(serial);
    let event_id =
        format!("ni:///sha-256;{}?ver=CBV2.0", hex::encode(codec::digest(original.as_bytes())));
    Payload::Epcis(EpcisCapture {
        event_id,
        format: EventFormat::JsonLd,
        original: original.into_bytes(),
    })
}

/// Rounds for the report (machine noise makes more digits meaningless).
fn round(value: f64, places: i32) -> f64 {
    let factor = 10f64.powi(places);
    (value * factor).round() / factor
}

/// Starts `count` nodes with the benchmark's sync interval.
async fn start_cluster(count: usize) -> anyhow::Result<Cluster> {
    Cluster::start_with(count, |_, config| config.sync_interval_ms = SYNC_INTERVAL_MS).await
}

/// Number of entries of `author` held by `state`.
fn held(state: &Ledger, author: &PublicKey) -> u64 {
    state.feed_size(author.as_bytes())
}

/// Posts one capture document and checks that every event was accepted.
fn post_capture(transport: &Transport, document: &[u8], events: usize) -> anyhow::Result<()> {
    let answer = transport
        .post("/capture", "application/ld+json", document)
        .context("the node refused a capture")?;
    let job: serde_json::Value =
        serde_json::from_slice(&answer.body).context("the capture answer is not JSON")?;
    let accepted = job["eventIDs"].as_array().map_or(0, Vec::len);
    anyhow::ensure!(
        job["success"] == true && accepted == events,
        "capture job stored {accepted} of {events} events: {job}"
    );
    Ok(())
}

/// `capture_http`: documents posted by [`CAPTURE_CLIENTS`] threads to one node.
async fn capture_http(sizes: Sizes) -> anyhow::Result<Report> {
    let cluster = start_cluster(1).await?;
    let transport = Transport::new(&cluster.url(0), Some(cluster.token(0).to_owned()))?;
    let state = Arc::clone(&cluster.node(0).state);
    let documents: Vec<Vec<u8>> = (0..sizes.capture_documents)
        .map(|index| capture_document((index * EVENTS_PER_DOCUMENT) as u64, EVENTS_PER_DOCUMENT))
        .collect();
    let document_bytes: usize = documents.iter().map(Vec::len).sum();
    let events = (sizes.capture_documents * EVENTS_PER_DOCUMENT) as u64;

    let measured = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let per_client: Vec<anyhow::Result<Vec<Duration>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..CAPTURE_CLIENTS)
                .map(|client| {
                    let (transport, documents) = (transport.clone(), &documents);
                    scope.spawn(move || {
                        documents
                            .iter()
                            .skip(client)
                            .step_by(CAPTURE_CLIENTS)
                            .map(|document| {
                                let sent = Instant::now();
                                post_capture(&transport, document, EVENTS_PER_DOCUMENT)?;
                                Ok(sent.elapsed())
                            })
                            .collect()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|handle| {
                    handle.join().unwrap_or_else(|_| Err(anyhow::anyhow!("a client panicked")))
                })
                .collect()
        });
        let elapsed = started.elapsed();
        let mut latencies = Vec::new();
        for client_latencies in per_client {
            latencies.extend(client_latencies?);
        }
        anyhow::Ok((elapsed, latencies))
    })
    .await
    .context("the capture clients failed")?;
    // Stop the node before reporting a failure, so no task outlives the scenario.
    let stored = held(&state, &state.organisation());
    cluster.shutdown().await;
    let (elapsed, mut latencies) = measured?;
    latencies.sort();
    anyhow::ensure!(stored == events, "the node holds {stored} of {events} captured events");

    let per_s = stored as f64 / elapsed.as_secs_f64();
    let mut extra = serde_json::Map::new();
    extra.insert("documents".into(), sizes.capture_documents.into());
    extra.insert("events_per_document".into(), EVENTS_PER_DOCUMENT.into());
    extra.insert("clients".into(), CAPTURE_CLIENTS.into());
    extra.insert("mean_event_bytes".into(), (document_bytes as u64 / events.max(1)).into());
    extra.insert("elapsed_s".into(), round(elapsed.as_secs_f64(), 3).into());
    Ok(Report {
        scenario: "capture_http".to_owned(),
        events: stored,
        per_s: Some(round(per_s, 0)),
        p50_ms: Some(round(percentile_ms(&latencies, 0.50), 2)),
        p99_ms: Some(round(percentile_ms(&latencies, 0.99), 2)),
        extra,
        ..Report::default()
    })
}

/// Waits until every node of `cluster` is connected to all the others.
async fn wait_until_meshed(cluster: &Cluster, count: usize) -> anyhow::Result<()> {
    wait_for("every benchmark node to connect to the others", DEFAULT_DEADLINE, || async {
        for index in 0..count {
            if cluster.node(index).state.connected_peer_count().await < count - 1 {
                return None;
            }
        }
        Some(())
    })
    .await
}

/// `propagation`: one event captured on node 0, timed until both other nodes store it.
async fn propagation(sizes: Sizes) -> anyhow::Result<Report> {
    const NODES: usize = 3;
    let cluster = start_cluster(NODES).await?;
    wait_until_meshed(&cluster, NODES).await?;
    let transport = Transport::new(&cluster.url(0), Some(cluster.token(0).to_owned()))?;
    let author = cluster.node(0).state.organisation();
    let peers: Vec<Arc<Ledger>> =
        (1..NODES).map(|index| Arc::clone(&cluster.node(index).state)).collect();
    let rounds = sizes.propagation_rounds;

    let measured = tokio::task::spawn_blocking(move || {
        let mut propagated = Vec::with_capacity(rounds);
        let mut acknowledged = Vec::with_capacity(rounds);
        for round in 0..PROPAGATION_WARMUP_ROUNDS + rounds {
            let document = capture_document(round as u64, 1);
            let expected_size = round as u64 + 1;
            let sent = Instant::now();
            post_capture(&transport, &document, 1)?;
            let acknowledged_after = sent.elapsed();
            while !peers.iter().all(|peer| held(peer, &author) >= expected_size) {
                anyhow::ensure!(
                    sent.elapsed() < PROPAGATION_ROUND_DEADLINE,
                    "round {round}: the event did not reach both peers within \
                     {PROPAGATION_ROUND_DEADLINE:?}"
                );
                std::thread::sleep(PROPAGATION_POLL);
            }
            if round >= PROPAGATION_WARMUP_ROUNDS {
                propagated.push(sent.elapsed());
                acknowledged.push(acknowledged_after);
            }
        }
        anyhow::Ok((propagated, acknowledged))
    })
    .await
    .context("the propagation driver failed")?;
    cluster.shutdown().await;
    let (mut propagated, mut acknowledged) = measured?;
    propagated.sort();
    acknowledged.sort();

    let mut extra = serde_json::Map::new();
    extra.insert("nodes".into(), NODES.into());
    extra.insert("capture_p50_ms".into(), round(percentile_ms(&acknowledged, 0.50), 2).into());
    extra.insert("max_ms".into(), round(percentile_ms(&propagated, 1.0), 2).into());
    extra.insert("sync_interval_ms".into(), SYNC_INTERVAL_MS.into());
    Ok(Report {
        scenario: "propagation".to_owned(),
        events: propagated.len() as u64,
        p50_ms: Some(round(percentile_ms(&propagated, 0.50), 2)),
        p99_ms: Some(round(percentile_ms(&propagated, 0.99), 2)),
        extra,
        ..Report::default()
    })
}

/// CPU time used since `before` (from [`process_cpu_time`]).
fn cpu_used_since(before: Option<Duration>) -> Option<Duration> {
    Some(process_cpu_time()?.saturating_sub(before?))
}

/// Signs `count` entries into `keypair`'s feed and appends them to `state`'s store in durable
/// batches; returns the signed messages of the first `sample` entries (for the ceiling).
fn fill_feed(
    state: &Ledger,
    keypair: Keypair,
    first_serial: u64,
    count: usize,
    sample: usize,
) -> anyhow::Result<Vec<SignedMessage>> {
    let mut writer = FeedWriter::new(keypair, None);
    let record_time_ms = 1_772_359_200_000; // 2026-03-01T10:00:00Z
    let mut messages = Vec::with_capacity(sample);
    let mut written = 0;
    while written < count {
        let batch_size = CATCHUP_SETUP_BATCH.min(count - written);
        let batch: Vec<VerifiedEntry> = (0..batch_size)
            .map(|offset| {
                let serial = first_serial + (written + offset) as u64;
                let entry = writer.next_entry(record_time_ms, &peer_payload(serial))?;
                anyhow::Ok(entry)
            })
            .collect::<Result<_, _>>()?;
        for entry in batch.iter().take(sample.saturating_sub(messages.len())) {
            let header = &entry.wire_bytes()[..codec::HEADER_LEN];
            messages.push((entry.author(), codec::signing_message(header), entry.signature()));
        }
        state.store().append_verified(&batch).context("appending the peer's entries")?;
        written += batch_size;
    }
    Ok(messages)
}

/// The batch-verification rate of `messages` with `verifier` (both cores, [`CEILING_BATCH`] per
/// call), and the process CPU time it took.
async fn measure_verification(
    messages: Arc<Vec<SignedMessage>>,
    verifier: Verifier,
) -> anyhow::Result<(f64, Option<Duration>)> {
    let cpu_before = process_cpu_time();
    let rate = tokio::task::spawn_blocking(move || {
        verification_rate_per_s(&messages, CEILING_BATCH, verifier)
    })
    .await
    .context("a verification-rate measurement failed")?;
    Ok((rate, cpu_used_since(cpu_before)))
}

/// `catchup`: a fresh node joins a peer holding `catchup_entries` entries in
/// [`CATCHUP_FEEDS`] feeds.
async fn catchup(sizes: Sizes) -> anyhow::Result<Report> {
    let mut cluster = start_cluster(CATCHUP_FEEDS + 1).await?;
    // Stop the nodes before reporting a failure, so no task outlives the scenario.
    let outcome = measure_catchup(&mut cluster, sizes).await;
    cluster.shutdown().await;
    outcome
}

/// The `catchup` scenario on a started cluster of [`CATCHUP_FEEDS`] + 1 nodes.
async fn measure_catchup(cluster: &mut Cluster, sizes: Sizes) -> anyhow::Result<Report> {
    let joiner = CATCHUP_FEEDS;
    // Only node 0 keeps running: it is the peer; the others' keys author its feeds, and the
    // last one, never given an entry, joins afterwards.
    for index in (1..=joiner).rev() {
        cluster.stop_node(index).await;
    }
    let keypairs: Vec<Keypair> = cluster.configs[..CATCHUP_FEEDS]
        .iter()
        .map(|config| Keypair::read_from_file(&config.key_file))
        .collect::<Result<_, _>>()
        .context("reading the cluster's organisation keys")?;
    let authors: Vec<PublicKey> = keypairs.iter().map(Keypair::public_key).collect();
    let peer = Arc::clone(&cluster.node(0).state);
    let entries = sizes.catchup_entries;

    let setup_started = Instant::now();
    let filled = tokio::task::spawn_blocking(move || {
        let per_feed = entries.div_ceil(CATCHUP_FEEDS);
        std::thread::scope(|scope| {
            let handles: Vec<_> = keypairs
                .into_iter()
                .enumerate()
                .map(|(feed, keypair)| {
                    let peer = &peer;
                    let count = per_feed.min(entries - (feed * per_feed).min(entries));
                    let first_serial = (feed * per_feed) as u64;
                    scope.spawn(move || {
                        fill_feed(
                            peer,
                            keypair,
                            first_serial,
                            count,
                            CEILING_SAMPLE / CATCHUP_FEEDS,
                        )
                    })
                })
                .collect();
            let mut messages = Vec::new();
            for handle in handles {
                let feed_messages =
                    handle.join().unwrap_or_else(|_| Err(anyhow::anyhow!("a signer panicked")))?;
                messages.extend(feed_messages);
            }
            anyhow::Ok(messages)
        })
    })
    .await
    .context("building the catchup peer failed")?;
    let messages = filled?;
    let setup_elapsed = setup_started.elapsed();
    let signatures = messages.len();
    // The ceiling is measured before and after the catch-up and the two are pooled: one
    // measurement lasts about a second, and this VM's speed moves that much from one second to
    // the next; bracketing the timed phase measures the machine as it was during it.
    let messages = Arc::new(messages);
    let (ceiling_before, ceiling_cpu_before) =
        measure_verification(Arc::clone(&messages), Verifier::Standard).await?;
    let started = Instant::now();
    let catchup_cpu_before = process_cpu_time();
    cluster.start_node(joiner).await?;
    let joined = Arc::clone(&cluster.node(joiner).state);
    let expected = entries as u64;
    let mut first_entry_after = None;
    loop {
        let holds: u64 = authors.iter().map(|author| held(&joined, author)).sum();
        if holds > 0 && first_entry_after.is_none() {
            first_entry_after = Some(started.elapsed());
        }
        if holds >= expected {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < CATCHUP_DEADLINE,
            "the joining node holds {holds} of {expected} entries after {CATCHUP_DEADLINE:?}"
        );
        tokio::time::sleep(CATCHUP_POLL).await;
    }
    let elapsed = started.elapsed();
    let catchup_cpu = cpu_used_since(catchup_cpu_before);
    let (ceiling_after, ceiling_cpu_after) =
        measure_verification(Arc::clone(&messages), Verifier::Standard).await?;
    let (merged_verifier, _) = measure_verification(messages, Verifier::Merged).await?;
    // Start-up with the whole ledger: the joined node reopens its store and rebuilds its views.
    let events_indexed = Some(cluster.node(joiner).state.health().events);
    // Our handle on its state would keep the store open (and locked) across the restart.
    drop(joined);
    cluster.stop_node(joiner).await;
    let restart_started = Instant::now();
    cluster.start_node(joiner).await?;
    let restart = restart_started.elapsed();
    let restarted = &cluster.node(joiner).state;
    let holds_after: u64 = authors.iter().map(|author| held(restarted, author)).sum();
    anyhow::ensure!(holds_after == expected, "the restarted node holds {holds_after} entries");
    // At least what it listed before (indexing follows the durable append, so the count read
    // before may lag by the last window; a rebuild that dropped events would show here).
    let events_rebuilt = Some(restarted.health().events);
    anyhow::ensure!(
        events_rebuilt.is_some() && events_rebuilt >= events_indexed,
        "the restarted node indexed {events_rebuilt:?} events, {events_indexed:?} before"
    );
    // Both halves verify the same signatures: the pooled rate is their harmonic mean.
    let ceiling = 2.0 / (1.0 / ceiling_before + 1.0 / ceiling_after);
    let ceiling_cpu =
        ceiling_cpu_before.zip(ceiling_cpu_after).map(|(before, after)| (before + after) / 2);

    let per_s = expected as f64 / elapsed.as_secs_f64();
    let mut extra = serde_json::Map::new();
    extra.insert("feeds".into(), CATCHUP_FEEDS.into());
    extra.insert("elapsed_s".into(), round(elapsed.as_secs_f64(), 3).into());
    extra.insert(
        "first_entry_ms".into(),
        round(first_entry_after.unwrap_or_default().as_secs_f64() * 1_000.0, 1).into(),
    );
    extra.insert("setup_s".into(), round(setup_elapsed.as_secs_f64(), 3).into());
    extra.insert("ceiling_before_per_s".into(), round(ceiling_before, 0).into());
    extra.insert("ceiling_after_per_s".into(), round(ceiling_after, 0).into());
    extra.insert("merged_verifier_per_s".into(), round(merged_verifier, 0).into());
    extra.insert("restart_s".into(), round(restart.as_secs_f64(), 3).into());
    // CPU time (both nodes of this process) per entry caught up, and per signature in the
    // ceiling: their quotient is the ratio the machine would reach with no idle core.
    let per_item_us = |cpu: Option<Duration>, items: usize| {
        cpu.map(|cpu| round(cpu.as_secs_f64() * 1e6 / items.max(1) as f64, 2))
    };
    if let (Some(entry_us), Some(signature_us)) =
        (per_item_us(catchup_cpu, entries), per_item_us(ceiling_cpu, signatures))
    {
        extra.insert("cpu_us_per_entry".into(), entry_us.into());
        extra.insert("ceiling_cpu_us_per_signature".into(), signature_us.into());
        extra.insert("cpu_ratio".into(), round(signature_us / entry_us, 3).into());
    }
    Ok(Report {
        scenario: "catchup".to_owned(),
        events: expected,
        per_s: Some(round(per_s, 0)),
        ceiling_per_s: Some(round(ceiling, 0)),
        ratio: Some(round(per_s / ceiling, 3)),
        extra,
        ..Report::default()
    })
}
