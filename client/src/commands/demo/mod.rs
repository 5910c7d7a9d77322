//! `lotline demo`: a local network of six organisations plays a supply-chain story, then the
//! client shows what Lotline answers: where the salad came from, everywhere the recalled lettuce
//! went, the FSMA 204 spreadsheet, the consumer page of a recalled pack and the regulator's
//! dashboard.
//!
//! Owns running the story: starting `lotline-node dev-cluster` (six real nodes with sled stores
//! on 127.0.0.1; the binary next to this one, or `LOTLINE_NODE_BINARY`), sending each step with the
//! ordinary client, waiting (with a deadline) until every node holds every feed, and the
//! summary. `--exit` checks that every node holds identical checkpoints and that every answer
//! verified, then stops the network. Does not own the story's content ([`story`]) nor any rule:
//! everything goes through the node's public API and the client's verification, as a user's
//! commands would.

pub mod story;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow, bail, ensure};
use clap::Args;
use lotline_client::client::{CheckedAnswer, Direction};
use lotline_client::{Client, ExitStatus, coldchain};
use lotline_ledger::coldchain::logger::Hint;
use lotline_ledger::coldchain::{Profile, parse_logger_file};
use serde::Deserialize;
use serde_json::json;

use super::Context;
use super::trace::print_checked_answer;
use story::{Identifiers, Sends};

/// How long the network may take to start and to replicate the story.
const DEADLINE: Duration = Duration::from_secs(120);
/// How often a condition nothing signals is checked again while waiting.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// `lotline demo` options.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the nodes' keys and stores here (default: a temporary directory, removed at exit).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// First port: node i serves HTTP on PORT+2i and libp2p on PORT+2i+1.
    #[arg(long, default_value_t = 7000)]
    base_port: u16,
    /// Play the story, check that every node holds identical checkpoints and every answer
    /// verified, print the summary and exit (0 when all is well).
    #[arg(long)]
    exit: bool,
}

/// One node as `dev-cluster` prints it.
#[derive(Debug, Clone, Deserialize)]
struct NodeLine {
    name: String,
    http: String,
    token: String,
}

/// The running network: the `dev-cluster` process and its nodes.
struct Network {
    process: Child,
    nodes: Vec<NodeLine>,
    /// Holds the temporary directory (when no `--data-dir` was given) until the end.
    _scratch: Option<tempfile::TempDir>,
    data_dir: PathBuf,
}

impl Drop for Network {
    fn drop(&mut self) {
        // Acknowledged data is durable, so stopping the process at once loses nothing.
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// Reads `count` node lines from `dev-cluster`'s output.
fn read_node_lines(stdout: ChildStdout, count: usize) -> Result<Vec<NodeLine>> {
    let mut nodes = Vec::with_capacity(count);
    for line in BufReader::new(stdout).lines() {
        let line = line.context("reading the network's output")?;
        if let Ok(node) = serde_json::from_str::<NodeLine>(&line) {
            nodes.push(node);
            if nodes.len() == count {
                return Ok(nodes);
            }
        }
    }
    bail!("the network stopped after starting {} of {count} nodes (see its log above)", nodes.len())
}

fn start_network(arguments: &DemoArgs) -> Result<Network> {
    let (scratch, data_dir) = match &arguments.data_dir {
        Some(directory) => (None, directory.clone()),
        None => {
            let scratch = tempfile::tempdir().context("cannot create a temporary directory")?;
            let path = scratch.path().to_path_buf();
            (Some(scratch), path)
        }
    };
    let mut process = Command::new(lotline_client::node_binary::node_binary()?)
        .args(["dev-cluster", "--nodes", &story::CAST.len().to_string(), "--data-dir"])
        .arg(&data_dir)
        .args(["--base-port", &arguments.base_port.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot start lotline-node dev-cluster")?;
    let stdout = process.stdout.take().context("no output from lotline-node")?;
    let mut network = Network { process, nodes: Vec::new(), _scratch: scratch, data_dir };
    network.nodes = read_node_lines(stdout, story::CAST.len())?;
    Ok(network)
}

/// Waits until `check` gives a value, up to [`DEADLINE`].
fn wait_for<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> Result<T> {
    let give_up = Instant::now() + DEADLINE;
    loop {
        if let Some(value) = check() {
            return Ok(value);
        }
        ensure!(Instant::now() < give_up, "timed out waiting for {what}");
        std::thread::sleep(POLL_INTERVAL);
    }
}

/// Each node's view of every feed: author → (size, head).
fn feed_heads(client: &Client) -> Option<BTreeMap<String, (u64, Option<String>)>> {
    let feeds = client.feeds().ok()?;
    Some(feeds.into_iter().map(|feed| (feed.author, (feed.size, feed.head))).collect())
}

/// The checkpoint body (origin, size, root) a node holds for each author.
fn checkpoints(client: &Client, authors: &[String]) -> Option<BTreeMap<String, String>> {
    authors
        .iter()
        .map(|author| {
            let note = client.checkpoint_note(author).ok()?;
            let body: Vec<&str> = note.lines().take(3).collect();
            Some((author.clone(), body.join("\n")))
        })
        .collect()
}

/// Runs `lotline demo`.
pub fn run(arguments: &DemoArgs, context: &Context) -> Result<ExitStatus> {
    println!("Lotline demo: six organisations, one lettuce recall.\n");
    let network = start_network(arguments)?;
    let clients: Vec<Client> = network
        .nodes
        .iter()
        .map(|node| Client::connect(&node.http, Some(node.token.clone()), context.policy.clone()))
        .collect::<Result<_, _>>()?;
    for (node, role) in network.nodes.iter().zip(story::CAST) {
        println!("  {role:<10} {:<12} {}", node.name, node.http);
    }
    println!();

    let roster = clients[0].roster()?;
    let glns: Vec<String> = network
        .nodes
        .iter()
        .map(|node| {
            roster
                .members
                .iter()
                .find(|member| member.name == node.name)
                .and_then(|member| member.gln.clone())
                .ok_or_else(|| anyhow!("{} is not in the roster", node.name))
        })
        .collect::<Result<_>>()?;
    let identifiers = Identifiers { glns };
    let mut logger_files = Vec::new();
    for step in story::steps(&identifiers) {
        let client = &clients[step.by];
        match &step.sends {
            Sends::Capture(document) => {
                let job = client.capture(&serde_json::to_vec(document)?, "application/ld+json")?;
                ensure!(
                    job.success,
                    "{}: the node refused the capture: {:?}",
                    step.says,
                    job.errors
                );
            }
            Sends::Record(record) => {
                client.submit_record(record)?;
            }
            Sends::LoggerFile { name, contents, shipment } => {
                let path = network.data_dir.join(name);
                std::fs::write(&path, contents)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                let file =
                    parse_logger_file(contents.as_bytes(), Hint::default()).map_err(|errors| {
                        anyhow!(
                            "{name}: {}",
                            errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
                        )
                    })?;
                let document = coldchain::document_of(&file, shipment, "2026-06-11T18:00:00-07:00");
                let job = client.capture(&serde_json::to_vec(&document)?, "application/ld+json")?;
                ensure!(
                    job.success,
                    "{}: the node refused the readings: {:?}",
                    step.says,
                    job.errors
                );
                logger_files.push((path, file));
            }
        }
        println!("  ✓ {:<9} {}", story::CAST[step.by], step.says);
    }

    // Every node holds every feed, and the regulator's node a checkpoint of each.
    let expected = wait_for("every node to hold every feed", || {
        let views: Vec<_> = clients.iter().map(feed_heads).collect::<Option<Vec<_>>>()?;
        let first = views.first()?.clone();
        let complete = first.len() == story::CAST.len();
        (complete && views.iter().all(|view| *view == first)).then_some(first)
    })?;
    let authors: Vec<String> = expected.keys().cloned().collect();
    let regulator = &clients[story::REGULATOR];
    let retailer = &clients[story::RETAILER];

    let mut all_verified = true;
    let verified_answer = |answer: &str, fetch: &dyn Fn() -> Result<CheckedAnswer>| {
        wait_for(answer, || fetch().ok().filter(CheckedAnswer::verified)).or_else(|_| fetch())
    };
    println!("\nWhere the salad mix came from (trace back, on the retailer's node):\n");
    let back = verified_answer("a verified trace back", &|| {
        Ok(retailer.trace(Direction::Back, &story::salad_lot())?)
    })?;
    all_verified &= back.verified();
    print_checked_answer(&back, "trace back from the salad mix", Some(Direction::Back), false)?;

    println!("\nEverywhere the recalled romaine went (recall scope, on the regulator's node):\n");
    let scope = verified_answer("a verified recall scope", &|| {
        Ok(regulator.recall_scope(&json!({"lots": [story::romaine_lot()]}))?)
    })?;
    all_verified &= scope.verified();
    print_checked_answer(&scope, &format!("recall {} scope", story::RECALL_ID), None, false)?;

    for (path, file) in &logger_files {
        println!(
            "\nThe cold chain, as `lotline coldchain check --profile chilled {}` judges it:\n",
            path.display()
        );
        let verdicts =
            coldchain::verdicts(file, &Profile::chilled(), None).map_err(|error| anyhow!(error))?;
        for verdict in &verdicts {
            for excursion in &verdict.excursions {
                println!(
                    "  {}: {} for {} minutes (max {:.1} °C) from {}",
                    verdict.device,
                    excursion.rule,
                    excursion.duration_ms / 60_000,
                    excursion.max_celsius,
                    lotline_ledger::trace::format_time(excursion.start_ms)
                );
            }
            if let Some(mkt) = verdict.mean_kinetic_celsius {
                println!(
                    "  {}: mean kinetic temperature {mkt:.2} °C over the trip",
                    verdict.device
                );
            }
        }
    }

    let spreadsheet = network.data_dir.join(format!("fsma204-{}.csv", story::RECALL_ID));
    write_spreadsheet(&network.nodes[story::REGULATOR], &spreadsheet)?;
    println!("\nFSMA 204 sortable spreadsheet of the recall: {}", spreadsheet.display());

    let retailer_url = &network.nodes[story::RETAILER].http;
    let page = format!("{retailer_url}{}", story::salad_path());
    println!("\nA recalled pack, as a consumer scanning its QR code sees it:\n  {page}\n");
    print!("{}", terminal_qr(&format!("https://id.gs1.org{}", story::salad_path())));
    let regulator_node = &network.nodes[story::REGULATOR];
    println!(
        "\nThe regulator's dashboard: {}/dashboard (log in with the token {})",
        regulator_node.http, regulator_node.token
    );

    if arguments.exit {
        let first = checkpoints(&clients[0], &authors)
            .ok_or_else(|| anyhow!("node 0 holds no checkpoint of some feed"))?;
        let identical = wait_for("identical checkpoints on every node", || {
            clients
                .iter()
                .all(|client| checkpoints(client, &authors).as_ref() == Some(&first))
                .then_some(())
        });
        let identical = identical.is_ok();
        println!(
            "\nchecks: {} nodes hold identical checkpoints of {} feeds: {}; every answer verified: {}",
            clients.len(),
            authors.len(),
            if identical { "yes" } else { "NO" },
            if all_verified { "yes" } else { "NO" }
        );
        return Ok(if identical && all_verified {
            ExitStatus::Success
        } else {
            ExitStatus::VerificationFailed
        });
    }
    println!("\nThe network keeps running; press Ctrl-C to stop it.");
    let mut network = network;
    let _ = network.process.wait();
    Ok(ExitStatus::Success)
}

/// Writes the recall's FSMA 204 spreadsheet with this very CLI (`lotline export fsma204`), as
/// a regulator would.
fn write_spreadsheet(regulator: &NodeLine, path: &Path) -> Result<()> {
    let executable = std::env::current_exe().context("cannot locate the lotline executable")?;
    let status = Command::new(executable)
        .args(["--node", &regulator.http, "--token", &regulator.token])
        .args(["export", "fsma204", "--recall", story::RECALL_ID, "--out"])
        .arg(path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .context("cannot run lotline export fsma204")?;
    ensure!(status.success(), "lotline export fsma204 failed ({status})");
    Ok(())
}

/// `text` as a QR code drawn with block characters, two modules per character cell.
fn terminal_qr(text: &str) -> String {
    match qrcode::QrCode::new(text.as_bytes()) {
        Ok(code) => {
            code.render::<qrcode::render::unicode::Dense1x2>().quiet_zone(true).build() + "\n"
        }
        Err(_) => String::new(),
    }
}
