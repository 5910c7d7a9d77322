//! `docs/operations.md`, run: its shell blocks marked ```` ```sh operations-test NAME ```` run
//! in order in one `sh -e` in an empty directory (so variables carry from block to block, and
//! a failing command fails the test), with `lotline-node` on the `PATH` and the walkthrough's
//! addresses on free loopback ports; blocks marked `operations-run` hold `lotline-node run
//! --config …` lines, started here as real processes. Between blocks the test does what the
//! page says in words (stop a node, write through its API) and checks the outcome: governance
//! admits an organisation whose node joins and replicates; a store restored from a backup
//! verifies and catches up with the feed it wrote since, then writes on without a fork; a
//! rotated key's node writes under the new key and the removed key's feed still verifies.
//! Every marked block must run, so the page cannot grow a command no test runs.
//!
//! Needs `target/<profile>/lotline-node` (`cargo build -p lotline-node`; see
//! `process::node_binary`).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;
use lotline_ledger::roster::Genesis;
use lotline_tests::fixtures::exchange;
use lotline_tests::process::{self, Node, START_DEADLINE};
use lotline_tests::workload::get_json;
use serde_json::{Value, json};

/// The page the test runs.
const PAGE: &str = include_str!("../../docs/operations.md");
/// Fence info of a block run by the shell, followed by its name.
const SHELL_TAG: &str = "sh operations-test ";
/// Fence info of a block whose lines start nodes, followed by its name.
const RUN_TAG: &str = "sh operations-run ";
/// Longest a block may run.
const BLOCK_DEADLINE: Duration = Duration::from_secs(120);
/// Longest replication may take to show an outcome on another node.
const SYNC_DEADLINE: Duration = Duration::from_secs(90);
/// Longest a node may take to stop after SIGTERM.
const STOP_DEADLINE: Duration = Duration::from_secs(30);
/// How often a condition is re-checked.
const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// Printed by the shell after each block, so the test knows the block is done.
const DONE_MARKER: &str = "@@operations-block-done";

/// One marked block of the page.
#[derive(Debug)]
struct Block {
    /// Whether it starts nodes (`operations-run`) rather than running in the shell.
    starts_nodes: bool,
    /// Its name.
    name: String,
    /// Its text.
    text: String,
}

fn blocks(page: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut lines = page.lines();
    while let Some(line) = lines.next() {
        let info = line.trim_start().trim_start_matches("```");
        if !line.trim_start().starts_with("```") {
            continue;
        }
        let (starts_nodes, name) = if let Some(name) = info.strip_prefix(SHELL_TAG) {
            (false, name)
        } else if let Some(name) = info.strip_prefix(RUN_TAG) {
            (true, name)
        } else {
            continue;
        };
        let text: Vec<&str> = lines.by_ref().take_while(|line| line.trim() != "```").collect();
        blocks.push(Block { starts_nodes, name: name.trim().to_owned(), text: text.join("\n") });
    }
    blocks
}

/// One `sh -e` the blocks run in, its standard output read line by line by a thread.
struct Shell {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
    log: PathBuf,
}

impl Shell {
    fn start(directory: &Path, environment: &[(String, String)]) -> anyhow::Result<Shell> {
        let binary = process::node_binary()?;
        let binary_directory = binary.parent().context("the binary has a directory")?;
        let path =
            format!("{}:{}", binary_directory.display(), std::env::var("PATH").unwrap_or_default());
        let log = directory.join("shell.log");
        let mut child = Command::new("sh")
            .arg("-e")
            .current_dir(directory)
            .env("PATH", path)
            .envs(environment.iter().map(|(name, value)| (name, value)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .context("cannot start sh")?;
        let stdin = child.stdin.take().context("the shell's stdin")?;
        let stdout = child.stdout.take().context("the shell's stdout")?;
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Shell { child, stdin, lines, log })
    }

    /// Runs `text`; returns what it printed, or fails (with its output and the shell's
    /// standard error) if a command failed or the block outlived [`BLOCK_DEADLINE`].
    fn run(&mut self, name: &str, text: &str) -> anyhow::Result<String> {
        writeln!(self.stdin, "{text}\necho {DONE_MARKER}")?;
        self.stdin.flush()?;
        let give_up = Instant::now() + BLOCK_DEADLINE;
        let mut output = Vec::new();
        loop {
            let left = give_up.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line == DONE_MARKER => return Ok(output.join("\n")),
                Ok(line) => output.push(line),
                Err(stopped) => {
                    let errors = std::fs::read_to_string(&self.log).unwrap_or_default();
                    anyhow::bail!(
                        "block {name} failed ({stopped:?}; shell {:?}):\n{text}\n--- output:\n{}\n--- stderr:\n{errors}",
                        self.child.try_wait(),
                        output.join("\n")
                    );
                }
            }
        }
    }
}

impl Drop for Shell {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The page's blocks, the shell, and the nodes its blocks started (by node directory).
struct Walkthrough {
    blocks: Vec<Block>,
    ran: BTreeSet<String>,
    shell: Shell,
    nodes: BTreeMap<String, Node>,
    directory: PathBuf,
}

impl Walkthrough {
    /// Runs the next block, which must be `name` (the page and this test agree on the order).
    async fn block(&mut self, name: &str) -> anyhow::Result<String> {
        let position = self.ran.len();
        let block = self
            .blocks
            .get(position)
            .with_context(|| format!("docs/operations.md has no block {name} at {position}"))?;
        anyhow::ensure!(
            block.name == name,
            "docs/operations.md's block {position} is {}, the test expects {name}",
            block.name
        );
        let (starts_nodes, text) = (block.starts_nodes, block.text.clone());
        self.ran.insert(name.to_owned());
        if !starts_nodes {
            return self.shell.run(name, &text);
        }
        for line in text.lines().map(str::trim).filter(|line| !line.is_empty()) {
            let config = line
                .strip_prefix("lotline-node run --config ")
                .with_context(|| format!("block {name}: {line:?} is no `lotline-node run`"))?;
            let directory = Path::new(config)
                .parent()
                .and_then(Path::to_str)
                .context("a config lives in a node directory")?
                .to_owned();
            let index = self.nodes.len();
            let node = match self.nodes.entry(directory) {
                std::collections::btree_map::Entry::Occupied(entry) => entry.into_mut(),
                std::collections::btree_map::Entry::Vacant(entry) => {
                    entry.insert(Node::from_config(index, &self.directory.join(config))?)
                }
            };
            node.start()?;
            node.wait_healthy(START_DEADLINE).await?;
        }
        Ok(String::new())
    }

    fn node(&mut self, directory: &str) -> &mut Node {
        self.nodes.get_mut(directory).unwrap_or_else(|| panic!("no node {directory} started"))
    }
}

/// Waits until `check` holds, failing with `what` after `deadline`.
async fn wait_for(
    what: &str,
    deadline: Duration,
    mut check: impl AsyncFnMut() -> anyhow::Result<bool>,
) -> anyhow::Result<()> {
    let give_up = Instant::now() + deadline;
    let mut last_error = None;
    loop {
        match check().await {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(error) => last_error = Some(error),
        }
        if Instant::now() > give_up {
            anyhow::bail!("{what}: not within {deadline:?} (last error: {last_error:?})");
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

async fn roster(node: &Node) -> anyhow::Result<Value> {
    get_json(node.http, "/roster", None).await
}

fn roster_keys(roster: &Value) -> BTreeSet<String> {
    roster["members"]
        .as_array()
        .map(|members| {
            members.iter().filter_map(|member| member["public_key"].as_str()).map(str::to_owned)
        })
        .into_iter()
        .flatten()
        .collect()
}

/// The size of `author`'s feed on `node` (0 when it holds none).
async fn feed_size(node: &Node, author: &str) -> anyhow::Result<u64> {
    let feeds = get_json(node.http, "/feeds", None).await?;
    Ok(feeds
        .as_array()
        .into_iter()
        .flatten()
        .find(|feed| feed["author"].as_str() == Some(author))
        .and_then(|feed| feed["size"].as_u64())
        .unwrap_or(0))
}

/// Waits until `node` holds at least `size` entries of `author`'s feed.
async fn wait_for_feed(node: &Node, author: &str, size: u64, what: &str) -> anyhow::Result<()> {
    wait_for(what, SYNC_DEADLINE, async || Ok(feed_size(node, author).await? >= size)).await
}

/// Writes an excursion record through `node`'s API; returns its entry reference.
async fn write_excursion(node: &Node, observed: &str) -> anyhow::Result<Value> {
    let record = json!({
        "kind": "excursion",
        "lots": ["urn:epc:class:lgtin:4012345.012345.L1"],
        "measurement": "temperature",
        "limit": "8 °C",
        "observed": observed,
        "started": "2026-06-01T08:00:00Z",
    });
    let authorization = format!("Bearer {}", node.token());
    let answer = exchange(
        node.http,
        "POST",
        "/records",
        &[("Authorization", &authorization), ("Content-Type", "application/json")],
        record.to_string().as_bytes(),
    )
    .await?;
    anyhow::ensure!(
        answer.status == 201,
        "POST /records on node {}: {} {}",
        node.index,
        answer.status,
        String::from_utf8_lossy(&answer.body)
    );
    answer.json()
}

/// Stops `node` as an operator does (SIGTERM); it must exit cleanly.
async fn stop(node: &mut Node) -> anyhow::Result<()> {
    let status = node.stop(STOP_DEADLINE).await?;
    anyhow::ensure!(status.success(), "node {} exited with {status} on SIGTERM", node.index);
    Ok(())
}

fn genesis(directory: &Path) -> anyhow::Result<Genesis> {
    Ok(Genesis::from_json(&std::fs::read_to_string(directory.join("genesis.json"))?)?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_of_the_operations_guide_runs() -> anyhow::Result<()> {
    let scratch = tempfile::tempdir()?;
    let directory = scratch.path().to_path_buf();
    let mut taken = Vec::new();
    let mut environment = Vec::new();
    for node in ["REGULATOR", "FARM", "CARRIER"] {
        let http = process::free_port(&mut taken)?;
        let p2p = process::free_port(&mut taken)?;
        environment.push((format!("{node}_HTTP"), format!("127.0.0.1:{http}")));
        environment.push((format!("{node}_P2P"), p2p.to_string()));
    }
    let mut walk = Walkthrough {
        blocks: blocks(PAGE),
        ran: BTreeSet::new(),
        shell: Shell::start(&directory, &environment)?,
        nodes: BTreeMap::new(),
        directory: directory.clone(),
    };
    let names: BTreeSet<&str> = walk.blocks.iter().map(|block| block.name.as_str()).collect();
    assert_eq!(names.len(), walk.blocks.len(), "block names are unique");

    // A network founded by two governance keys, a regulator and a farm.
    walk.block("addresses").await?;
    walk.block("governance-keys").await?;
    walk.block("init-founders").await?;
    walk.block("genesis").await?;
    genesis(&directory)?.verify().context("the signed genesis verifies")?;
    walk.block("start-founders").await?;
    let regulator_key = walk.node("regulator").organisation.clone();
    let farm_key = walk.node("farm").organisation.clone();
    write_excursion(walk.node("farm"), "9 °C").await?;
    wait_for_feed(walk.node("regulator"), &farm_key, 1, "the regulator replicates the farm")
        .await?;

    // Joining: governance admits the carrier, whose node then joins and replicates.
    walk.block("join-init").await?;
    let submitted = walk.block("join-admit").await?;
    assert!(submitted.contains("entry_hash"), "submit prints the entry: {submitted}");
    for node in ["regulator", "farm"] {
        let node = walk.node(node);
        wait_for("the admission reaches every node", SYNC_DEADLINE, async || {
            Ok(roster(node).await?["version"] == 1)
        })
        .await?;
    }
    // The same change again is refused, naming the rule.
    let again = Command::new(process::node_binary()?)
        .args(["governance", "submit", "--config", "regulator/config.toml", "admit-carrier.json"])
        .current_dir(&directory)
        .output()?;
    let refusal = String::from_utf8_lossy(&again.stderr);
    assert!(!again.status.success(), "a replayed change is refused");
    assert!(refusal.contains("stale roster change"), "{refusal}");
    walk.block("join-start").await?;
    let carrier = walk.node("carrier");
    let carrier_key = carrier.organisation.clone();
    wait_for_feed(carrier, &farm_key, 1, "the carrier replicates the farm").await?;
    write_excursion(carrier, "12 °C").await?;
    for node in ["regulator", "farm"] {
        wait_for_feed(walk.node(node), &carrier_key, 1, "the carrier's entry replicates").await?;
    }

    // Backup: stop, copy, start.
    stop(walk.node("farm")).await?;
    walk.block("backup").await?;
    walk.block("backup-restart").await?;
    write_excursion(walk.node("farm"), "10 °C").await?;
    let last = write_excursion(walk.node("farm"), "11 °C").await?;
    let written = last["sequence"].as_u64().context("an entry has a sequence")? + 1;
    wait_for_feed(walk.node("regulator"), &farm_key, written, "the farm's writes replicate")
        .await?;

    // Restore: the farm's store is lost; the backup verifies, and catches up once started.
    stop(walk.node("farm")).await?;
    walk.block("restore").await?;
    let founding = genesis(&directory)?;
    {
        let store = walk.node("farm").open_store(&founding)?;
        store.verify(&founding).context("the restored store verifies")?;
        let restored = store.head(&lotline_ledger::identity::PublicKey::from_hex(&farm_key)?);
        assert!(
            restored.map_or(0, |head| head.sequence + 1) < written,
            "the backup predates the last writes"
        );
    }
    walk.block("restore-start").await?;
    wait_for_feed(walk.node("farm"), &farm_key, written, "the restored farm catches up").await?;
    let after = write_excursion(walk.node("farm"), "7 °C").await?;
    assert_eq!(
        after["sequence"].as_u64(),
        Some(written),
        "the farm writes after what it caught up"
    );
    wait_for_feed(walk.node("regulator"), &farm_key, written + 1, "the next write replicates")
        .await?;
    let forks = get_json(walk.node("regulator").http, "/forks", None).await?;
    assert_eq!(forks.as_array().map(Vec::len), Some(0), "no fork: {forks}");

    // Key rotation: admit the new key, switch the node to it, remove the old key.
    walk.block("rotate-admit").await?;
    let farm = walk.node("farm");
    wait_for("the farm's node sees its new key admitted", SYNC_DEADLINE, async || {
        Ok(roster(farm).await?["version"] == 2)
    })
    .await?;
    stop(walk.node("farm")).await?;
    walk.block("rotate-swap").await?;
    walk.node("farm").reload()?;
    walk.block("rotate-start").await?;
    let new_key = walk.node("farm").organisation.clone();
    assert_ne!(new_key, farm_key, "the node runs with its new key");
    let rotated = write_excursion(walk.node("farm"), "6 °C").await?;
    assert_eq!(rotated["author"].as_str(), Some(new_key.as_str()), "written under the new key");
    for node in ["regulator", "carrier"] {
        wait_for_feed(walk.node(node), &new_key, 1, "the new key's feed replicates").await?;
    }
    walk.block("rotate-remove").await?;
    for node in ["regulator", "farm", "carrier"] {
        let node = walk.node(node);
        wait_for("the old key's removal reaches every node", SYNC_DEADLINE, async || {
            let roster = roster(node).await?;
            Ok(roster["version"] == 3 && !roster_keys(&roster).contains(&farm_key))
        })
        .await?;
    }
    let regulator = walk.node("regulator");
    assert_eq!(feed_size(regulator, &farm_key).await?, written + 1, "the old feed stays");
    stop(regulator).await?;
    let store = regulator.open_store(&founding)?;
    store.verify(&founding).context("the regulator's store, old feed included, verifies")?;
    assert!(
        store
            .roster()
            .member(&lotline_ledger::identity::PublicKey::from_hex(&regulator_key)?)
            .is_some()
    );

    let missed: Vec<&str> = walk
        .blocks
        .iter()
        .map(|block| block.name.as_str())
        .filter(|name| !walk.ran.contains(*name))
        .collect();
    assert!(missed.is_empty(), "blocks of docs/operations.md no test runs: {missed:?}");
    Ok(())
}
