//! Scenario `soak` of `lotline-bench`, run only when named (`--scenario soak`) for
//! `--soak-minutes` (10 by default): three real `lotline-node` processes on loopback
//! (`crate::process`: a producer, a logistics firm and a retailer, each replicating every
//! feed), two of them capturing at a steady pace while clients query all three (trace back and
//! forward, recall scope, the EPCIS query) and load the plain pages (health, feeds,
//! checkpoints, roster, metrics, the OpenAPI document); each node's resident memory is read
//! from `/proc` every [`RSS_SAMPLE_INTERVAL`].
//!
//! Reports errors (any request not answered with its expected status: must be none),
//! capture throughput, latency percentiles per kind of request, and each node's RSS: first,
//! largest, last, the means of the second and of the last minute, and what it grew by per
//! entry added in between. Under sustained capture RSS grows with the entries a node holds, by
//! design (the store's lookups and the lot index are in memory), so memory counts as flat when
//! what the running node holds is no more than the same entries take without the workload's
//! history: every node is restarted on its store at the end, and its RSS once it has indexed
//! every entry is the reference; each node's last RSS must be within [`RSS_TOLERANCE`] of it.
//! Every node must also hold every captured entry within [`REPLICATION_DEADLINE`] of the last
//! capture. [`check`] turns the report into a verdict.
//!
//! Owns the soak's workload and its figures. Does not own the node processes
//! (`crate::process`) nor the report format (`super`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};

use super::{Report, percentile_ms};
use crate::fixtures::exchange;
use crate::process::{Cluster, Placement, START_DEADLINE};
use crate::workload::{self, Outcome};

/// Nodes in the soak network.
const NODES: usize = 3;
/// Nodes that capture (the others only replicate and answer).
const WRITERS: [usize; 2] = [0, 1];
/// Events per captured document (one lot each).
const EVENTS_PER_DOCUMENT: usize = 10;
/// Time between two captures of one writer: a steady pace, well below what a node can take
/// (`capture_http` measures that), so the soak shows behaviour over time, not saturation.
const CAPTURE_PERIOD: Duration = Duration::from_millis(250);
/// Concurrent query clients.
const QUERY_CLIENTS: usize = 2;
/// Time between two requests of one query client.
const QUERY_PERIOD: Duration = Duration::from_millis(40);
/// How often each node's resident memory is read.
const RSS_SAMPLE_INTERVAL: Duration = Duration::from_secs(10);
/// How much more a node may hold at the end of the soak than the same node restarted on the
/// same store (its entries, without the workload's history).
pub const RSS_TOLERANCE: f64 = 0.10;
/// How long the nodes may take, after the last capture, to all hold every entry.
const REPLICATION_DEADLINE: Duration = Duration::from_secs(120);
/// Errors quoted in the report (all are counted).
const QUOTED_ERRORS: usize = 10;

/// Kinds of request the query clients make, in the order they cycle through them.
const QUERY_KINDS: [&str; 10] = [
    "trace_back",
    "trace_forward",
    "recall_scope",
    "epcis_query",
    "event_by_id",
    "health",
    "feeds",
    "checkpoint",
    "metrics_roster_openapi",
    "events_page",
];

/// What the workload saw, shared by its tasks.
#[derive(Debug, Default)]
struct Tally {
    /// Latencies of answered requests, by kind (`capture` and each of [`QUERY_KINDS`]).
    latencies: BTreeMap<String, Vec<Duration>>,
    /// Every failed request: kind and what went wrong.
    errors: Vec<String>,
    /// Documents acknowledged, by writer: (lot label, its event ids).
    captured: BTreeMap<usize, Vec<(String, Vec<String>)>>,
}

impl Tally {
    fn answered(&mut self, kind: &str, latency: Duration) {
        self.latencies.entry(kind.to_owned()).or_default().push(latency);
    }

    /// Events acknowledged so far, all writers together.
    fn captured_events(&self) -> u64 {
        self.captured.values().flatten().map(|(_, event_ids)| event_ids.len() as u64).sum()
    }
}

/// One reading of the nodes' memory.
#[derive(Debug)]
struct Sample {
    /// Seconds since the workload started.
    seconds: f64,
    /// Events acknowledged by then.
    entries: u64,
    /// Each node's RSS.
    rss_kib: Vec<Option<u64>>,
}

type Shared = Arc<std::sync::Mutex<Tally>>;

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Tally> {
    shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs the soak for `minutes` and returns its report (see [`check`] for the verdict).
pub fn run(minutes: u64) -> anyhow::Result<Report> {
    anyhow::ensure!(minutes >= 1, "a soak runs for at least a minute");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the soak's async runtime")?;
    runtime.block_on(soak(Duration::from_secs(minutes * 60)))
}

/// Fails unless the report shows no error, full replication and flat memory.
pub fn check(report: &Report) -> anyhow::Result<()> {
    let errors = report.extra.get("errors").and_then(Value::as_u64).unwrap_or(u64::MAX);
    anyhow::ensure!(errors == 0, "the soak saw {errors} errors");
    anyhow::ensure!(
        report.extra.get("replicated") == Some(&Value::Bool(true)),
        "the soak's nodes did not all hold every captured entry"
    );
    anyhow::ensure!(
        report.extra.get("memory_flat") == Some(&Value::Bool(true)),
        "a node holds more than {RSS_TOLERANCE} above what it holds restarted on the same store"
    );
    Ok(())
}

async fn soak(duration: Duration) -> anyhow::Result<Report> {
    let mut cluster = Cluster::prepare(NODES, Placement::Loopback)?;
    cluster.start_all().await?;
    cluster.wait_for_peers(NODES as u64 - 1, START_DEADLINE).await?;
    let addresses: Vec<SocketAddr> = cluster.nodes.iter().map(|node| node.http).collect();
    let authors: Vec<String> = cluster.nodes.iter().map(|node| node.organisation.clone()).collect();
    let tokens: Vec<String> = cluster.nodes.iter().map(|node| node.token().to_owned()).collect();
    let tally: Shared = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();

    let mut tasks = Vec::new();
    for writer in WRITERS {
        let node = &cluster.nodes[writer];
        tasks.push(tokio::spawn(capture_steadily(
            writer,
            node.http,
            node.token().to_owned(),
            Arc::clone(&tally),
            Arc::clone(&stop),
        )));
    }
    for client in 0..QUERY_CLIENTS {
        tasks.push(tokio::spawn(query_steadily(
            client,
            addresses.clone(),
            authors.clone(),
            tokens.clone(),
            Arc::clone(&tally),
            Arc::clone(&stop),
        )));
    }

    // Sample memory until the time is up.
    let mut samples: Vec<Sample> = Vec::new();
    let mut exited = vec![false; NODES];
    let mut sampler = tokio::time::interval(RSS_SAMPLE_INTERVAL);
    loop {
        sampler.tick().await;
        let elapsed = started.elapsed();
        let entries = lock(&tally).captured_events();
        let rss_kib = cluster.nodes.iter().map(|node| node.rss_kib()).collect();
        samples.push(Sample { seconds: elapsed.as_secs_f64(), entries, rss_kib });
        if elapsed >= duration {
            break;
        }
        for (node, exited) in cluster.nodes.iter_mut().zip(&mut exited) {
            if !*exited && !node.is_running() {
                *exited = true;
                lock(&tally).errors.push(format!(
                    "node {} exited:\n{}",
                    node.index,
                    node.log_tail()
                ));
            }
        }
    }
    stop.store(true, Ordering::SeqCst);
    for task in tasks {
        task.await.context("a soak client panicked")?;
    }
    let elapsed = started.elapsed();

    // Every node holds every captured entry.
    let captured_events = lock(&tally).captured_events();
    let replicated = wait_for_replication(&addresses, captured_events).await;
    if let Err(error) = &replicated {
        lock(&tally).errors.push(format!("replication: {error:#}"));
    }
    let mut summary_bytes = Vec::new();
    for address in &addresses {
        summary_bytes.push(metric(*address, "lotline_recall_summary_bytes").await);
    }
    // What the same entries take in a node that has done nothing else: each node restarted
    // on its store, measured once it has indexed every entry.
    let mut restarted_kib = Vec::new();
    for node in &mut cluster.nodes {
        node.kill()?;
        node.start()?;
        node.wait_healthy(START_DEADLINE).await?;
        let address = node.http;
        crate::cluster::wait_for(
            "a restarted node to index every entry",
            START_DEADLINE,
            || async {
                let health = workload::get_json(address, "/health", None).await.ok()?;
                (health["events"].as_u64()? == captured_events).then_some(())
            },
        )
        .await?;
        restarted_kib.push(node.rss_kib());
        node.kill()?;
    }

    let tally = std::mem::take(&mut *lock(&tally));
    let end = End { summary_bytes, restarted_kib };
    Ok(report(elapsed, captured_events, replicated.is_ok(), &tally, &samples, &end))
}

/// What the soak reads from the nodes after the workload.
#[derive(Debug)]
struct End {
    /// Heap of the recall summaries each node keeps (`/metrics`).
    summary_bytes: Vec<Option<f64>>,
    /// Each node's RSS once restarted on its store and done indexing.
    restarted_kib: Vec<Option<u64>>,
}

/// The value of an unlabelled metric in the node's `GET /metrics`.
async fn metric(address: SocketAddr, name: &str) -> Option<f64> {
    let answer = exchange(address, "GET", "/metrics", &[], &[]).await.ok()?;
    let text = String::from_utf8_lossy(&answer.body).into_owned();
    text.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// Captures one document every [`CAPTURE_PERIOD`] on node `writer` until told to stop.
async fn capture_steadily(
    writer: usize,
    address: SocketAddr,
    token: String,
    tally: Shared,
    stop: Arc<AtomicBool>,
) {
    let mut pace = tokio::time::interval(CAPTURE_PERIOD);
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for number in 0.. {
        pace.tick().await;
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let label = format!("SOAK-N{writer}-D{number}");
        let document = match workload::shipping_document(&label, EVENTS_PER_DOCUMENT) {
            Ok(document) => document,
            Err(error) => {
                lock(&tally).errors.push(format!("capture {label}: {error:#}"));
                return;
            }
        };
        let sent = Instant::now();
        let outcome = workload::capture(address, &token, &document).await;
        let latency = sent.elapsed();
        let mut tally = lock(&tally);
        if outcome == Outcome::Acknowledged {
            tally.answered("capture", latency);
            tally.captured.entry(writer).or_default().push((label, document.event_ids));
        } else {
            tally.errors.push(format!("capture {label} on node {writer}: {outcome:?}"));
        }
    }
}

/// Cycles through [`QUERY_KINDS`] and the nodes, one request every [`QUERY_PERIOD`], until
/// told to stop. Queries name lots and events already acknowledged, and carry the queried
/// node's API token.
async fn query_steadily(
    client: usize,
    addresses: Vec<SocketAddr>,
    authors: Vec<String>,
    tokens: Vec<String>,
    tally: Shared,
    stop: Arc<AtomicBool>,
) {
    let mut pace = tokio::time::interval(QUERY_PERIOD);
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for turn in client.. {
        pace.tick().await;
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let kind = QUERY_KINDS[turn % QUERY_KINDS.len()];
        let node = (turn / QUERY_KINDS.len()) % addresses.len();
        // A document acknowledged by one writer, and that writer (the node sure to hold it).
        let pick = {
            let tally = lock(&tally);
            let writer = WRITERS[turn % WRITERS.len()];
            tally.captured.get(&writer).and_then(|documents| {
                let (label, event_ids) = documents.get(turn % documents.len().max(1))?;
                Some((writer, label.clone(), event_ids[turn % event_ids.len()].clone()))
            })
        };
        let Some((writer, label, event_id)) = pick else { continue };
        let lot = workload::lot_of(&label);
        let (target, method, path, body) = match kind {
            "trace_back" => (node, "GET", format!("/trace/back?id={lot}"), Vec::new()),
            "trace_forward" => (node, "GET", format!("/trace/forward?id={lot}"), Vec::new()),
            "recall_scope" => {
                let body = json!({"lots": [lot]}).to_string().into_bytes();
                (node, "POST", "/recall/scope".to_owned(), body)
            }
            "epcis_query" => {
                (node, "GET", format!("/events?MATCH_epcClass={lot}&perPage=50"), Vec::new())
            }
            "event_by_id" => (writer, "GET", format!("/events?EQ_eventID={event_id}"), Vec::new()),
            "health" => (node, "GET", "/health".to_owned(), Vec::new()),
            "feeds" => (node, "GET", "/feeds".to_owned(), Vec::new()),
            "checkpoint" => {
                (writer, "GET", format!("/feeds/{}/checkpoint", authors[writer]), Vec::new())
            }
            "metrics_roster_openapi" => {
                let path = ["/metrics", "/roster", "/openapi.json"][turn % 3];
                (node, "GET", path.to_owned(), Vec::new())
            }
            _ => (node, "GET", "/events?perPage=100".to_owned(), Vec::new()),
        };
        // Business queries need the token (unless a node serves them publicly); clients of
        // the public routes send it too, as a client of one node would.
        let authorization = format!("Bearer {}", tokens[target]);
        let mut headers = vec![("Authorization", authorization.as_str())];
        if !body.is_empty() {
            headers.push(("Content-Type", "application/json"));
        }
        let sent = Instant::now();
        let answer = exchange(addresses[target], method, &path, &headers, &body).await;
        let latency = sent.elapsed();
        let mut tally = lock(&tally);
        match answer {
            Ok(answer) if answer.status == 200 => tally.answered(kind, latency),
            Ok(answer) => tally.errors.push(format!(
                "{method} {path} on node {target}: {} {}",
                answer.status,
                String::from_utf8_lossy(&answer.body)
            )),
            Err(error) => tally.errors.push(format!("{method} {path} on node {target}: {error:#}")),
        }
    }
}

/// Waits until every node holds `entries` entries (`GET /health`), for at most
/// [`REPLICATION_DEADLINE`].
async fn wait_for_replication(addresses: &[SocketAddr], entries: u64) -> anyhow::Result<()> {
    crate::cluster::wait_for(
        "every node to hold every captured entry",
        REPLICATION_DEADLINE,
        || async {
            for address in addresses {
                let health = workload::get_json(*address, "/health", None).await.ok()?;
                if health["entries"].as_u64()? != entries {
                    return None;
                }
            }
            Some(())
        },
    )
    .await
}

/// A node's reading: (seconds, events acknowledged, RSS in KiB).
type Reading = (f64, u64, u64);

/// Mean of `value` over the readings taken in `[from, to)` seconds, if any.
fn mean_between(
    readings: &[Reading],
    from: f64,
    to: f64,
    value: fn(&Reading) -> u64,
) -> Option<f64> {
    let inside: Vec<u64> =
        readings.iter().filter(|reading| (from..to).contains(&reading.0)).map(value).collect();
    (!inside.is_empty()).then(|| inside.iter().sum::<u64>() as f64 / inside.len() as f64)
}

fn round(value: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (value * scale).round() / scale
}

fn report(
    elapsed: Duration,
    captured_events: u64,
    replicated: bool,
    tally: &Tally,
    samples: &[Sample],
    end: &End,
) -> Report {
    let seconds = elapsed.as_secs_f64();
    let mut latencies = serde_json::Map::new();
    let mut all_queries = Vec::new();
    for (kind, durations) in &tally.latencies {
        let mut sorted = durations.clone();
        sorted.sort();
        if kind != "capture" {
            all_queries.extend(sorted.iter().copied());
        }
        latencies.insert(
            kind.clone(),
            json!({
                "count": sorted.len(),
                "p50_ms": round(percentile_ms(&sorted, 0.50), 2),
                "p99_ms": round(percentile_ms(&sorted, 0.99), 2),
                "max_ms": round(percentile_ms(&sorted, 1.0), 2),
            }),
        );
    }
    all_queries.sort();

    let mut memory = serde_json::Map::new();
    let mut memory_flat = true;
    let rss = |reading: &Reading| reading.2;
    let entries = |reading: &Reading| reading.1;
    let second_minute = (60.0, 120.0);
    let last_minute = (seconds - 60.0, seconds + 1.0);
    for node in 0..NODES {
        let readings: Vec<Reading> = samples
            .iter()
            .filter_map(|sample| {
                Some((sample.seconds, sample.entries, sample.rss_kib.get(node).copied()??))
            })
            .collect();
        let mean = |(from, to): (f64, f64), value| mean_between(&readings, from, to, value);
        let growth = match (mean(second_minute, rss), mean(last_minute, rss)) {
            (Some(second), Some(last)) if second > 0.0 => Some(last / second - 1.0),
            _ => None,
        };
        let growth_per_entry = match (
            mean(second_minute, rss),
            mean(last_minute, rss),
            mean(second_minute, entries),
            mean(last_minute, entries),
        ) {
            (Some(second), Some(last), Some(before), Some(after)) if after > before => {
                Some((last - second) * 1_024.0 / (after - before))
            }
            _ => None,
        };
        let first = readings.first().map(rss);
        let last = readings.last().map(rss);
        let restarted = end.restarted_kib.get(node).copied().flatten();
        let above_restarted = match (last, restarted) {
            (Some(last), Some(restarted)) if restarted > 0 => {
                Some(last as f64 / restarted as f64 - 1.0)
            }
            _ => None,
        };
        if above_restarted.is_none_or(|above| above > RSS_TOLERANCE) {
            memory_flat = false;
        }
        let restarted_per_entry = match (first, restarted) {
            (Some(first), Some(restarted)) if captured_events > 0 => {
                Some((restarted as f64 - first as f64) * 1_024.0 / captured_events as f64)
            }
            _ => None,
        };
        let whole_minutes = (seconds / 60.0).floor() as usize;
        let minute_means: Vec<Option<f64>> = (0..whole_minutes)
            .map(|minute| {
                let window = (minute as f64 * 60.0, (minute + 1) as f64 * 60.0);
                mean(window, rss).map(f64::round)
            })
            .collect();
        memory.insert(
            format!("node{node}"),
            json!({
                "minute_means_kib": minute_means,
                "first_kib": first,
                "max_kib": readings.iter().map(rss).max(),
                "last_kib": last,
                "second_minute_mean_kib": mean(second_minute, rss).map(f64::round),
                "last_minute_mean_kib": mean(last_minute, rss).map(f64::round),
                "growth": growth.map(|growth| round(growth, 3)),
                "growth_bytes_per_added_entry": growth_per_entry.map(f64::round),
                "restarted_kib": restarted,
                "restarted_bytes_per_entry": restarted_per_entry.map(f64::round),
                "above_restarted": above_restarted.map(|above| round(above, 3)),
                "recall_summary_bytes": end.summary_bytes.get(node).copied().flatten(),
            }),
        );
    }

    let mut extra = serde_json::Map::new();
    extra.insert("minutes".into(), round(seconds / 60.0, 2).into());
    extra.insert("nodes".into(), NODES.into());
    extra.insert("errors".into(), (tally.errors.len() as u64).into());
    extra.insert(
        "first_errors".into(),
        tally.errors.iter().take(QUOTED_ERRORS).cloned().collect::<Vec<_>>().into(),
    );
    extra.insert("replicated".into(), replicated.into());
    extra.insert("queries".into(), (all_queries.len() as u64).into());
    extra.insert("queries_per_s".into(), round(all_queries.len() as f64 / seconds, 1).into());
    extra.insert("latency".into(), latencies.into());
    let whole_minutes = (seconds / 60.0).floor() as usize;
    let entries_by_minute: Vec<Option<u64>> = (1..=whole_minutes)
        .map(|minute| {
            let at = minute as f64 * 60.0;
            samples
                .iter()
                .rev()
                .find(|sample| sample.seconds <= at + 1.0)
                .map(|sample| sample.entries)
        })
        .collect();
    extra.insert("entries_at_minute_ends".into(), entries_by_minute.into());
    extra.insert("rss".into(), memory.into());
    extra.insert("rss_tolerance".into(), RSS_TOLERANCE.into());
    extra.insert("memory_flat".into(), memory_flat.into());
    Report {
        scenario: "soak".to_owned(),
        events: captured_events,
        per_s: Some(round(captured_events as f64 / seconds, 1)),
        p50_ms: Some(round(percentile_ms(&all_queries, 0.50), 2)),
        p99_ms: Some(round(percentile_ms(&all_queries, 0.99), 2)),
        extra,
        ..Report::default()
    }
}
