//! Scenario `consumer_page` of `lotline-bench`: the consumer page (`GET /view/{digital-link}`)
//! of a real `lotline-node` process holding a synthetic supply chain, under 100 concurrent
//! keep-alive connections from this process, beside the same node's rate for a static
//! response in the same run.
//!
//! The node's ledger is the seeded chain of the trace scenarios (`trace::synthetic`: 1,000,000
//! events, 100,000 with `--quick`) with the organisations' own master data, so pages carry
//! names: every synthetic organisation is admitted by the genesis under its role and company
//! prefix, and its events and statements are signed into its own feed and appended to the
//! node's store before the node starts (no HTTP capture: setup, not measured). The node then
//! rebuilds its views from the store as on any restart.
//!
//! Phases, each of the same length and over the same connections, one after the other:
//! - `static`: `GET /.well-known/gs1resolver`, a small JSON answer computed without the ledger:
//!   what the node's HTTP stack serves at most on this machine (`static_per_s`);
//! - `pages`: the page of a lot drawn at random (seeded) from every lot of the ledger: the first
//!   request for a lot renders its page, later ones find it kept (`per_s`, `p50_ms`, `p99_ms`;
//!   `static_ratio` = pages/static);
//! - `revalidate`: the same with `If-None-Match` carrying the validator the `pages` phase
//!   received for that lot (`revalidate_per_s`; `not_modified_share` of them answered 304);
//! - `cached`: pages of a small set of lots that the node keeps rendered (`cached_per_s`).
//!
//! Last, the node's own gauge of what its kept pages weigh (`page_cache_bytes`).
//!
//! The load runs on one thread (a current-thread runtime over raw HTTP/1.1), so the node has
//! the other core; the node is the release binary next to the bench (see `crate::process`).
//!
//! Owns the workload, its phases and its HTTP/1.1 load client. Does not own the node, the
//! page (`lotline_node::web::page`), the generator, nor the report format (`super`).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use lotline_ledger::epcis::{self, Event};
use lotline_ledger::feed::{FeedWriter, VerifiedEntry};
use lotline_ledger::identity::Keypair;
use lotline_ledger::records::{EpcisCapture, EventFormat, Payload};
use lotline_ledger::roster::{Genesis, Member, Role};
use lotline_ledger::trace::Subject;
use lotline_ledger::trace::synthetic::{
    Chain, ChainConfig, OrganisationRole, SyntheticEntry, Xorshift,
};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use super::{Options, Report, percentile_ms};
use crate::process::{Node, free_port};

/// Events in the node's ledger for the full and `--quick` runs.
const FULL_EVENTS: usize = 1_000_000;
const QUICK_EVENTS: usize = 100_000;
/// Length of each measured phase for the full and `--quick` runs.
const FULL_PHASE: Duration = Duration::from_secs(15);
const QUICK_PHASE: Duration = Duration::from_secs(5);
/// Unmeasured page requests before the phases (first touches of the store and the caches).
const WARM_UP: Duration = Duration::from_secs(2);
/// Concurrent keep-alive connections of the load.
const CONNECTIONS: usize = 100;
/// Seed of the chain (the trace scenarios' seed) and of the lots drawn.
const SEED: u64 = 2026;
/// Lots of the `cached` phase: few enough for the node to keep every one rendered.
const CACHED_LOTS: usize = 1_000;
/// Entries signed and appended per durable batch while filling the store.
const SETUP_BATCH: usize = 4_096;
/// How long the node may take to start and rebuild its views from the whole ledger.
const START_DEADLINE: Duration = Duration::from_secs(1_800);
/// The static response: the resolver's description file, which reads nothing of the ledger.
const STATIC_PATH: &str = "/.well-known/gs1resolver";
/// Room the node is given for rendered pages: every lot's page at the full size (59,810 lots,
/// about 24 kB each as kept), as an operator sizes a node whose consumers scan every lot.
const PAGE_CACHE_MIB: u64 = 2_048;
/// Most the load client asks the socket for at once.
const READ_BYTES: usize = 64 * 1_024;
/// Longest response head the load client reads.
const MAX_HEAD_BYTES: usize = 16 * 1_024;

/// Runs the scenario: fills a node's store, starts the node, drives the phases.
pub fn run(options: &Options) -> anyhow::Result<Report> {
    let events = if options.quick { QUICK_EVENTS } else { FULL_EVENTS };
    let phase = if options.quick { QUICK_PHASE } else { FULL_PHASE };
    let directory = tempfile::tempdir().context("creating the node's directory")?;
    let setup_started = Instant::now();
    let (mut node, lots) = prepare_node(directory.path(), events)?;
    let setup = setup_started.elapsed();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the load's async runtime")?;
    let start_started = Instant::now();
    node.start()?;
    runtime.block_on(node.wait_healthy(START_DEADLINE))?;
    let node_start = start_started.elapsed();
    // Stop the node before reporting a failure (dropping it kills it).
    let outcome = runtime.block_on(measure(&node, &lots, phase));
    let rss_kib = node.rss_kib();
    drop(node);
    let phases = outcome?;

    let Phases { statics, pages, revalidate, cached, page_cache_bytes } = phases;
    let static_per_s = statics.per_s(phase);
    let pages_per_s = pages.per_s(phase);
    let mut extra = serde_json::Map::new();
    extra.insert("connections".into(), CONNECTIONS.into());
    extra.insert("phase_s".into(), phase.as_secs().into());
    extra.insert("lots".into(), lots.len().into());
    extra.insert("static_per_s".into(), round(static_per_s, 0).into());
    extra.insert("static_p50_ms".into(), round(statics.percentile(0.50), 2).into());
    extra.insert("static_p99_ms".into(), round(statics.percentile(0.99), 2).into());
    extra.insert("static_ratio".into(), round(pages_per_s / static_per_s.max(1e-9), 3).into());
    extra.insert("pages_not_ok".into(), pages.not_ok.into());
    extra.insert("mean_page_bytes".into(), (pages.body_bytes / pages.ok.max(1)).into());
    extra.insert("revalidate_per_s".into(), round(revalidate.per_s(phase), 0).into());
    extra.insert("revalidate_p50_ms".into(), round(revalidate.percentile(0.50), 2).into());
    extra.insert("revalidate_p99_ms".into(), round(revalidate.percentile(0.99), 2).into());
    extra.insert(
        "not_modified_share".into(),
        round(revalidate.not_modified as f64 / revalidate.answered().max(1) as f64, 3).into(),
    );
    extra.insert("cached_per_s".into(), round(cached.per_s(phase), 0).into());
    extra.insert("cached_p50_ms".into(), round(cached.percentile(0.50), 2).into());
    extra.insert("cached_p99_ms".into(), round(cached.percentile(0.99), 2).into());
    extra.insert("page_cache_bytes".into(), page_cache_bytes.into());
    extra.insert("setup_s".into(), round(setup.as_secs_f64(), 1).into());
    extra.insert("node_start_s".into(), round(node_start.as_secs_f64(), 1).into());
    if let Some(rss_kib) = rss_kib {
        extra.insert("node_rss_bytes".into(), (rss_kib * 1_024).into());
    }
    Ok(Report {
        scenario: "consumer_page".to_owned(),
        events: events as u64,
        per_s: Some(round(pages_per_s, 0)),
        p50_ms: Some(round(pages.percentile(0.50), 2)),
        p99_ms: Some(round(pages.percentile(0.99), 2)),
        extra,
        ..Report::default()
    })
}

/// Rounds for the report (machine noise makes more digits meaningless).
fn round(value: f64, places: i32) -> f64 {
    let factor = 10f64.powi(places);
    (value * factor).round() / factor
}

/// The four phases' tallies.
struct Phases {
    statics: Tally,
    pages: Tally,
    revalidate: Tally,
    cached: Tally,
    /// What the node's kept pages weigh at the end, as its `/metrics` says.
    page_cache_bytes: u64,
}

/// The node's `lotline_page_cache_bytes` gauge.
async fn page_cache_bytes(address: SocketAddr) -> anyhow::Result<u64> {
    let answer = crate::fixtures::exchange(address, "GET", "/metrics", &[], b"").await?;
    let text = String::from_utf8(answer.body).context("metrics are not UTF-8")?;
    text.lines()
        .find_map(|line| line.strip_prefix("lotline_page_cache_bytes "))
        .context("the node's metrics have no lotline_page_cache_bytes")?
        .trim()
        .parse()
        .context("a bad lotline_page_cache_bytes")
}

/// Drives the phases against the running node.
async fn measure(node: &Node, lots: &[String], phase: Duration) -> anyhow::Result<Phases> {
    let address = node.http;
    let page_targets: Arc<Vec<Target>> =
        Arc::new(lots.iter().map(|lot| Target { path: page_path(lot), etag: None }).collect());
    // The first page reads the records of the whole store once: not part of any phase.
    let mut connection = Connection::open(address).await?;
    let mut served = false;
    for target in page_targets.iter().take(10) {
        let answer = connection.get(target, false).await?;
        anyhow::ensure!(answer.status != 500, "{} answered 500", target.path);
        served |= answer.status == 200;
    }
    anyhow::ensure!(served, "none of the first lots' pages was served");
    drop(connection);
    drive(address, &page_targets, WARM_UP, SEED ^ 1, false).await?;

    let static_targets = Arc::new(vec![Target { path: STATIC_PATH.to_owned(), etag: None }]);
    let statics = drive(address, &static_targets, phase, SEED ^ 2, false).await?;
    anyhow::ensure!(statics.not_ok == 0, "{} static requests failed", statics.not_ok);
    let pages = drive(address, &page_targets, phase, SEED ^ 3, true).await?;
    anyhow::ensure!(pages.ok > 0, "no page was served");
    let validated: Vec<Target> = pages
        .etags
        .iter()
        .map(|(path, etag)| Target { path: path.clone(), etag: Some(etag.clone()) })
        .collect();
    let revalidate = drive(address, &Arc::new(validated), phase, SEED ^ 4, false).await?;
    let hot: Vec<Target> = page_targets.iter().take(CACHED_LOTS).cloned().collect();
    let hot = Arc::new(hot);
    drive(address, &hot, WARM_UP, SEED ^ 5, false).await?;
    let cached = drive(address, &hot, phase, SEED ^ 6, false).await?;
    let page_cache_bytes = page_cache_bytes(address).await?;
    Ok(Phases { statics, pages, revalidate, cached, page_cache_bytes })
}

/// `/view/` and the lot's Digital Link path.
fn page_path(lot: &str) -> String {
    format!("/view/{}", lot.strip_prefix("https://id.gs1.org/").unwrap_or(lot))
}

/// One request the load may send.
#[derive(Debug, Clone)]
struct Target {
    path: String,
    /// Sent as `If-None-Match` when present.
    etag: Option<String>,
}

/// What one phase counted.
#[derive(Debug, Default)]
struct Tally {
    /// Answers with 200.
    ok: u64,
    /// Answers with 304.
    not_modified: u64,
    /// Answers with any other status.
    not_ok: u64,
    /// Body bytes of the 200 answers.
    body_bytes: u64,
    /// Latency of every answer, sorted once the phase ends.
    latencies: Vec<Duration>,
    /// The validator each path was answered with (when asked to keep them).
    etags: HashMap<String, String>,
}

impl Tally {
    fn answered(&self) -> u64 {
        self.ok + self.not_modified + self.not_ok
    }

    /// Successful answers (200 and 304) per second of the phase.
    fn per_s(&self, phase: Duration) -> f64 {
        (self.ok + self.not_modified) as f64 / phase.as_secs_f64()
    }

    fn percentile(&self, fraction: f64) -> f64 {
        percentile_ms(&self.latencies, fraction)
    }

    fn merge(&mut self, other: Tally) {
        self.ok += other.ok;
        self.not_modified += other.not_modified;
        self.not_ok += other.not_ok;
        self.body_bytes += other.body_bytes;
        self.latencies.extend(other.latencies);
        self.etags.extend(other.etags);
    }
}

/// [`CONNECTIONS`] connections, each sending one request after the other (keep-alive) to
/// targets drawn at random from `targets` until `length` has passed; answers arriving after
/// that are not counted.
async fn drive(
    address: SocketAddr,
    targets: &Arc<Vec<Target>>,
    length: Duration,
    seed: u64,
    keep_etags: bool,
) -> anyhow::Result<Tally> {
    anyhow::ensure!(!targets.is_empty(), "a phase needs at least one target");
    let mut connections = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        connections.push(Connection::open(address).await?);
    }
    let end = Instant::now() + length;
    let mut tasks = tokio::task::JoinSet::new();
    for (index, mut connection) in connections.into_iter().enumerate() {
        let targets = Arc::clone(targets);
        tasks.spawn(async move {
            let mut random = Xorshift::new(seed.wrapping_add(index as u64 * 0x9e37_79b9));
            let mut tally = Tally::default();
            loop {
                let target = &targets[random.below(targets.len())];
                let sent = Instant::now();
                let answer = connection.get(target, keep_etags).await?;
                let done = Instant::now();
                if done > end {
                    break;
                }
                tally.latencies.push(done - sent);
                match answer.status {
                    200 => {
                        tally.ok += 1;
                        tally.body_bytes += answer.body_bytes as u64;
                    }
                    304 => tally.not_modified += 1,
                    _ => tally.not_ok += 1,
                }
                if let Some(etag) = answer.etag {
                    tally.etags.insert(target.path.clone(), etag);
                }
            }
            anyhow::Ok(tally)
        });
    }
    let mut total = Tally::default();
    while let Some(joined) = tasks.join_next().await {
        total.merge(joined.context("a load connection panicked")??);
    }
    total.latencies.sort();
    Ok(total)
}

/// One answer as the load client reads it.
struct Answer {
    status: u16,
    body_bytes: usize,
    etag: Option<String>,
}

/// A keep-alive HTTP/1.1 connection: one request at a time, answers framed by
/// `Content-Length` (the node frames every answer the load asks for so).
struct Connection {
    stream: TcpStream,
    host: String,
    buffer: Vec<u8>,
}

impl Connection {
    async fn open(address: SocketAddr) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(address)
            .await
            .with_context(|| format!("connecting to the node at {address}"))?;
        stream.set_nodelay(true)?;
        Ok(Connection { stream, host: address.to_string(), buffer: Vec::with_capacity(READ_BYTES) })
    }

    /// Sends `GET target` and reads the whole answer; keeps its `ETag` when `keep_etag`.
    async fn get(&mut self, target: &Target, keep_etag: bool) -> anyhow::Result<Answer> {
        let validator = target
            .etag
            .as_deref()
            .map(|etag| format!("If-None-Match: {etag}\r\n"))
            .unwrap_or_default();
        let request = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nAccept: text/html\r\n{validator}\r\n",
            target.path, self.host
        );
        self.stream.write_all(request.as_bytes()).await?;
        self.buffer.clear();
        let head_end = loop {
            if let Some(position) = find(&self.buffer, b"\r\n\r\n") {
                break position + 4;
            }
            anyhow::ensure!(self.buffer.len() < MAX_HEAD_BYTES, "an answer head is too long");
            self.fill().await?;
        };
        let head = std::str::from_utf8(&self.buffer[..head_end]).context("a non-UTF-8 head")?;
        let mut lines = head.split("\r\n");
        let status: u16 = lines
            .next()
            .and_then(|line| line.split(' ').nth(1))
            .and_then(|code| code.parse().ok())
            .context("an answer without a status line")?;
        let (mut length, mut etag) = (0usize, None);
        for line in lines {
            let Some((name, value)) = line.split_once(':') else { continue };
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().context("a bad Content-Length")?;
            } else if keep_etag && name.eq_ignore_ascii_case("etag") {
                etag = Some(value.trim().to_owned());
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                anyhow::bail!("{} answered with a chunked body", target.path);
            }
        }
        // The body is counted, not kept: read over the buffer's start, so the load copies a
        // page once (from the socket) and takes as little of the machine as it can.
        let mut unread = (head_end + length)
            .checked_sub(self.buffer.len())
            .with_context(|| format!("{} answered more than its Content-Length", target.path))?;
        while unread > 0 {
            self.buffer.clear();
            self.fill().await?;
            unread = unread.checked_sub(self.buffer.len()).with_context(|| {
                format!("{} answered more than its Content-Length", target.path)
            })?;
        }
        Ok(Answer { status, body_bytes: length, etag })
    }

    /// Reads what the node sent next onto the buffer, straight into its spare room.
    async fn fill(&mut self) -> anyhow::Result<()> {
        self.buffer.reserve(READ_BYTES);
        let read = self.stream.read_buf(&mut self.buffer).await?;
        anyhow::ensure!(read > 0, "the node closed a keep-alive connection");
        Ok(())
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

/// The key of synthetic organisation `index`, derived from the chain seed as the generator
/// derives it (checked against the public key the generator states).
fn organisation_keypair(seed: u64, index: usize) -> Keypair {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8..16].copy_from_slice(&(index as u64).to_le_bytes());
    bytes[16] = 0x7c;
    Keypair::from_seed(bytes)
}

/// The roster role of a synthetic organisation.
fn role_of(role: OrganisationRole) -> Role {
    match role {
        OrganisationRole::Farm | OrganisationRole::Packer => Role::Producer,
        OrganisationRole::Processor => Role::Processor,
        OrganisationRole::Distributor => Role::Logistics,
        OrganisationRole::Retailer => Role::Retailer,
    }
}

/// Writes a one-node network under `directory` whose genesis admits every organisation of the
/// chain, fills the node's store with the chain's master data and `events` events, and
/// returns the (stopped) node and every lot of the chain (canonical Digital Links, sorted,
/// then shuffled by the seed so the `cached` phase's first lots spread over the chain).
fn prepare_node(directory: &Path, events: usize) -> anyhow::Result<(Node, Vec<String>)> {
    let mut configs = lotline_node::cluster::prepare(1, directory, None)?;
    let mut config = configs.pop().context("prepare wrote no node")?;
    let mut taken = Vec::new();
    config.http_listen = format!("127.0.0.1:{}", free_port(&mut taken)?);
    config.p2p_listen = lotline_node::setup::listen_addresses("127.0.0.1", free_port(&mut taken)?);
    config.page_cache_mib = PAGE_CACHE_MIB;
    let config_path = directory.join("node-0").join(lotline_node::setup::CONFIG_FILE);
    config.save(&config_path)?;

    let mut chain = Chain::new(ChainConfig::for_events(SEED, events));
    let keypairs: Vec<Keypair> =
        (0..chain.organisations.len()).map(|index| organisation_keypair(SEED, index)).collect();
    for (keypair, organisation) in keypairs.iter().zip(&chain.organisations) {
        anyhow::ensure!(
            keypair.public_key() == organisation.key,
            "the synthetic chain derives its keys otherwise than this scenario"
        );
    }
    let genesis_path = directory.join("genesis.json");
    let mut genesis = Genesis::from_json(&std::fs::read_to_string(&genesis_path)?)?;
    genesis.members.extend(chain.organisations.iter().map(|organisation| Member {
        key: organisation.key,
        name: organisation.name.clone(),
        gln: organisation.gln.clone(),
        roles: BTreeSet::from([role_of(organisation.role)]),
        // The generator's company prefix: the GLN's first seven digits.
        prefixes: BTreeSet::from([organisation.gln[..7].to_owned()]),
    }));
    genesis.signatures.clear();
    genesis.sign(&lotline_node::setup::load_or_create_key(&directory.join("governance.key"))?)?;
    std::fs::write(&genesis_path, genesis.to_json())?;

    let mut node = Node::from_config(0, &config_path)?;
    let store = node.open_store(&genesis)?;
    let mut writers: Vec<FeedWriter> =
        keypairs.into_iter().map(|keypair| FeedWriter::new(keypair, None)).collect();
    let mut record_times = vec![0i64; writers.len()];
    // Master data first, as an organisation describes itself before it ships.
    let statements: Vec<VerifiedEntry> = chain
        .master_data()
        .into_iter()
        .map(|(organisation, statement)| {
            writers[organisation].next_entry(1_700_000_000_000, &Payload::MasterData(statement))
        })
        .collect::<Result<_, _>>()?;
    store.append_verified(&statements).context("appending the master data")?;

    let mut lots = HashSet::new();
    let mut appended = 0;
    while appended < events {
        let batch: Vec<_> = chain.by_ref().take(SETUP_BATCH.min(events - appended)).collect();
        if batch.is_empty() {
            break;
        }
        for synthetic in &batch {
            let event = &synthetic.event;
            for element in event.quantity_list.iter().chain(&event.output_quantity_list) {
                if let Ok(subject) = Subject::parse(&element.epc_class) {
                    lots.insert(subject.link().to_owned());
                }
            }
        }
        let payloads = payloads_in_parallel(&batch)?;
        let mut entries = Vec::with_capacity(batch.len());
        for (synthetic, payload) in batch.iter().zip(&payloads) {
            let event_ms = i64::try_from(
                synthetic.event.event_time.instant().unix_timestamp_nanos() / 1_000_000,
            )
            .unwrap_or(0);
            let time = &mut record_times[synthetic.organisation];
            *time = (*time).max(event_ms);
            entries.push(writers[synthetic.organisation].next_entry(*time, payload)?);
        }
        store.append_verified(&entries).context("appending the chain's events")?;
        appended += batch.len();
    }
    drop(store);
    let mut lots: Vec<String> = lots.into_iter().collect();
    lots.sort();
    let mut random = Xorshift::new(SEED);
    for position in (1..lots.len()).rev() {
        lots.swap(position, random.below(position + 1));
    }
    Ok((node, lots))
}

/// The payload of each event, as the node's capture writes it (JSON-LD as received, with its
/// Event Hash ID), computed on every core.
fn payloads_in_parallel(batch: &[SyntheticEntry]) -> anyhow::Result<Vec<Payload>> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let chunk = batch.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = batch
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter().map(|synthetic| payload(&synthetic.event)).collect::<Vec<_>>()
                })
            })
            .collect();
        let mut payloads = Vec::with_capacity(batch.len());
        for handle in handles {
            payloads
                .extend(handle.join().map_err(|_| anyhow::anyhow!("a payload builder panicked"))?);
        }
        Ok(payloads)
    })
}

fn payload(event: &Event) -> Payload {
    Payload::Epcis(EpcisCapture {
        event_id: epcis::event_hash_id(event),
        format: EventFormat::JsonLd,
        original: epcis::event_to_json_ld(event).to_string().into_bytes(),
    })
}
