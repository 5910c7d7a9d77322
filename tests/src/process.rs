//! Real `lotline-node` processes for the crash, partition and soak tests: a network's files
//! written with the node crate's own functions (`lotline_node::cluster::prepare`: keys,
//! tokens, genesis and roster, configs), nodes started with `lotline-node run --config`, on
//! loopback or each in a namespace of a [`netlab::Lab`], SIGKILLed and restarted on the same
//! store, waited for with deadlines, and killed on drop (even when a test panics). Nodes whose
//! files an operator's commands wrote (`lotline-node init`) are run too ([`Node::from_config`]),
//! and stopped as an operator stops them (SIGTERM, [`Node::stop`]).
//!
//! The binary is not built by this crate (a crate cannot depend on another's binary on
//! stable cargo): `cargo test --workspace` builds it for the node's own command-line tests,
//! and `cargo build -p lotline-node` (with `--release` for a release bench) builds it alone,
//! next to the test executables and the bench, where [`node_binary`] finds it;
//! `LOTLINE_NODE_BINARY` names another.
//!
//! Owns: process lifecycle and where each node listens. Does not own what the tests send
//! (`crate::workload`), the namespaces (`crate::netlab`), nor the in-process harness
//! (`crate::cluster`), which starts nodes as tasks of the test itself.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use anyhow::Context;
use lotline_ledger::identity::Keypair;
use lotline_ledger::roster::Genesis;
use lotline_ledger::store::Store;
use lotline_node::config::Config;
use lotline_node::setup::CONFIG_FILE;
use serde_json::Value;

use crate::fixtures::exchange;
use crate::netlab::{self, Lab};

/// Environment variable naming the `lotline-node` binary to run (instead of the one next to
/// the test executable).
pub use lotline_client::node_binary::NODE_BINARY_VARIABLE;
/// How long a node may take from spawn to answering `GET /health` (opening its store and
/// rebuilding its index included).
pub const START_DEADLINE: Duration = Duration::from_secs(60);
/// How often a condition is re-checked while waiting.
const POLL_INTERVAL: Duration = Duration::from_millis(25);
/// Lines of a node's log quoted when it fails.
const LOG_TAIL_LINES: usize = 40;
/// Loopback ports are picked below the kernel's ephemeral range, so an outgoing connection
/// elsewhere on the machine does not take a port between its pick and the node's bind.
const LOOPBACK_PORTS: std::ops::Range<u16> = 20_000..32_000;

/// Where the nodes of a cluster listen.
#[derive(Debug, Clone, Copy)]
pub enum Placement<'lab> {
    /// On 127.0.0.1, HTTP and libp2p (TCP and QUIC) on free ports, bootstrapping to each
    /// other directly.
    Loopback,
    /// Node `i` in namespace `i` of the lab, QUIC only, reaching its peers through the lab's
    /// relay.
    Lab(&'lab Lab),
}

/// The `lotline-node` binary, by the client's rule ([`lotline_client::node_binary`]).
pub fn node_binary() -> anyhow::Result<PathBuf> {
    Ok(lotline_client::node_binary::node_binary()?)
}

/// A network of node processes and the temporary directory holding their files.
#[derive(Debug)]
pub struct Cluster {
    /// The nodes, in roster order (roles round-robin: producer, logistics, retailer,
    /// regulator, ...).
    pub nodes: Vec<Node>,
    /// Root of the network's files (`genesis.json`, `node-{i}/`).
    pub data_dir: PathBuf,
    /// Kept alive as long as the cluster; declared last so the nodes are killed first.
    _directory: tempfile::TempDir,
}

impl Cluster {
    /// Writes the files of a fresh network of `count` nodes placed as `placement` says; starts
    /// nothing.
    pub fn prepare(count: usize, placement: Placement<'_>) -> anyhow::Result<Cluster> {
        let binary = node_binary()?;
        if let Placement::Lab(lab) = placement {
            anyhow::ensure!(lab.len() == count, "the lab links {} nodes, not {count}", lab.len());
        }
        let directory = tempfile::tempdir()?;
        let data_dir = directory.path().to_path_buf();
        let configs = lotline_node::cluster::prepare(count, &data_dir, None)?;
        let mut peer_ids = Vec::new();
        let mut organisations = Vec::new();
        for config in &configs {
            let key = Keypair::read_from_file(&config.key_file)?.public_key();
            let peer_id = lotline_node::network::peer_id_of_organisation(key.as_bytes())
                .context("an organisation key is an Ed25519 key")?;
            peer_ids.push(peer_id.to_string());
            organisations.push(key.to_hex());
        }
        let ports: Vec<(u16, u16)> = match placement {
            Placement::Loopback => {
                let mut taken = Vec::new();
                (0..count)
                    .map(|_| Ok((free_port(&mut taken)?, free_port(&mut taken)?)))
                    .collect::<anyhow::Result<_>>()?
            }
            Placement::Lab(_) => vec![(netlab::NODE_HTTP_PORT, netlab::NODE_P2P_PORT); count],
        };
        let mut nodes = Vec::new();
        for (index, mut config) in configs.into_iter().enumerate() {
            let (http_port, p2p_port) = ports[index];
            let others = (0..count).filter(|other| *other != index);
            let (http, namespace) = match placement {
                Placement::Loopback => {
                    config.p2p_listen =
                        lotline_node::setup::listen_addresses("127.0.0.1", p2p_port);
                    config.bootstrap = others
                        .map(|other| {
                            format!("/ip4/127.0.0.1/tcp/{}/p2p/{}", ports[other].1, peer_ids[other])
                        })
                        .collect();
                    (SocketAddrV4::new(Ipv4Addr::LOCALHOST, http_port), None)
                }
                Placement::Lab(lab) => {
                    config.p2p_listen =
                        vec![format!("/ip4/{}/udp/{p2p_port}/quic-v1", lab.node_ip(index))];
                    config.bootstrap = others
                        .map(|other| {
                            format!(
                                "/ip4/{}/udp/{}/quic-v1/p2p/{}",
                                lab.host_ip(index),
                                lab.relay_port(other),
                                peer_ids[other]
                            )
                        })
                        .collect();
                    (
                        SocketAddrV4::new(lab.node_ip(index), http_port),
                        Some(lab.namespace(index).to_owned()),
                    )
                }
            };
            config.http_listen = http.to_string();
            let node_dir = data_dir.join(format!("node-{index}"));
            let config_path = node_dir.join(CONFIG_FILE);
            config.save(&config_path)?;
            nodes.push(Node {
                index,
                config: Config::load(&config_path)?,
                config_path,
                http: SocketAddr::V4(http),
                organisation: organisations[index].clone(),
                peer_id: peer_ids[index].clone(),
                namespace,
                binary: binary.clone(),
                log_path: node_dir.join("node.log"),
                child: None,
            });
        }
        Ok(Cluster { nodes, data_dir, _directory: directory })
    }

    /// Starts every node and waits until each answers `GET /health`.
    pub async fn start_all(&mut self) -> anyhow::Result<()> {
        for node in &mut self.nodes {
            node.start()?;
        }
        for node in &mut self.nodes {
            node.wait_healthy(START_DEADLINE).await?;
        }
        Ok(())
    }

    /// Waits until every node reports at least `peers` connected peers in `GET /health`.
    pub async fn wait_for_peers(&mut self, peers: u64, deadline: Duration) -> anyhow::Result<()> {
        self.wait_for_each_node(&format!("at least {peers} peers"), deadline, |count| {
            count >= peers
        })
        .await
    }

    /// Waits until the peer count in every node's `GET /health` satisfies `wanted`, failing
    /// after `deadline` with the log of the first node that does not.
    async fn wait_for_each_node(
        &mut self,
        what: &str,
        deadline: Duration,
        wanted: impl Fn(u64) -> bool,
    ) -> anyhow::Result<()> {
        let give_up = tokio::time::Instant::now() + deadline;
        for node in &mut self.nodes {
            loop {
                let health = node.health().await?;
                let peers = health["peers"].as_u64().unwrap_or(0);
                if wanted(peers) {
                    break;
                }
                if tokio::time::Instant::now() > give_up {
                    anyhow::bail!(
                        "node {} has {peers} peers, not {what}, after {deadline:?}; its log ends \
                         with:\n{}",
                        node.index,
                        node.log_tail()
                    );
                }
                tokio::time::sleep(POLL_INTERVAL).await;
            }
        }
        Ok(())
    }

    /// Waits until every node reports at most `peers` connected peers in `GET /health` (the
    /// connections across a partition have timed out).
    pub async fn wait_for_peers_at_most(
        &mut self,
        peers: u64,
        deadline: Duration,
    ) -> anyhow::Result<()> {
        self.wait_for_each_node(&format!("at most {peers} peers"), deadline, |count| count <= peers)
            .await
    }

    /// The network's genesis, as every node's config names it.
    pub fn genesis(&self) -> anyhow::Result<Genesis> {
        let text = std::fs::read_to_string(self.data_dir.join("genesis.json"))?;
        Ok(Genesis::from_json(&text)?)
    }
}

/// One `lotline-node` process (or none, while stopped) and its files.
#[derive(Debug)]
pub struct Node {
    /// Position in the roster.
    pub index: usize,
    /// Its config, paths resolved.
    pub config: Config,
    /// Where its config is.
    pub config_path: PathBuf,
    /// Where its HTTP API answers.
    pub http: SocketAddr,
    /// Its organisation's public key (hex): the author of its feed.
    pub organisation: String,
    /// Its libp2p peer id.
    pub peer_id: String,
    /// The namespace it runs in, if any.
    namespace: Option<String>,
    /// The `lotline-node` binary.
    binary: PathBuf,
    /// Standard output and error of every run, appended.
    log_path: PathBuf,
    /// The running process.
    child: Option<Child>,
}

impl Node {
    /// A node of files written elsewhere (`lotline-node init`, as an operator does): its config
    /// at `config_path`, its log beside it (`node.log`); starts nothing. `index` names it in
    /// failures.
    pub fn from_config(index: usize, config_path: &Path) -> anyhow::Result<Node> {
        let config = Config::load(config_path)?;
        let http: SocketAddr = config
            .http_listen
            .parse()
            .with_context(|| format!("http_listen {:?} is no address", config.http_listen))?;
        let key = Keypair::read_from_file(&config.key_file)?.public_key();
        let peer_id = lotline_node::network::peer_id_of_organisation(key.as_bytes())
            .context("an organisation key is an Ed25519 key")?;
        let directory = config_path.parent().unwrap_or(Path::new("."));
        Ok(Node {
            index,
            log_path: directory.join("node.log"),
            config,
            config_path: config_path.to_path_buf(),
            http,
            organisation: key.to_hex(),
            peer_id: peer_id.to_string(),
            namespace: None,
            binary: node_binary()?,
            child: None,
        })
    }

    /// Sends SIGTERM (as `systemctl stop` or Ctrl-C does) and waits up to `deadline` for the
    /// node to shut down cleanly; fails, quoting its log, if it does not exit in time.
    pub async fn stop(&mut self, deadline: Duration) -> anyhow::Result<ExitStatus> {
        let pid = self.pid().with_context(|| format!("node {} is not running", self.index))?;
        let sent = Command::new("kill").args(["-TERM", &pid.to_string()]).status()?;
        anyhow::ensure!(sent.success(), "cannot signal node {}", self.index);
        let give_up = tokio::time::Instant::now() + deadline;
        loop {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                self.child = None;
                return Ok(status);
            }
            if tokio::time::Instant::now() > give_up {
                anyhow::bail!(
                    "node {} did not stop within {deadline:?} of SIGTERM; its log ends with:\n{}",
                    self.index,
                    self.log_tail()
                );
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Re-reads the node's config (after its files were changed, e.g. a rotated key).
    pub fn reload(&mut self) -> anyhow::Result<()> {
        anyhow::ensure!(!self.is_running(), "node {} must be stopped to reload", self.index);
        let mut fresh = Node::from_config(self.index, &self.config_path)?;
        fresh.namespace = self.namespace.take();
        *self = fresh;
        Ok(())
    }

    /// Spawns `lotline-node run --config …` (inside its namespace, if it has one); does not
    /// wait for it to answer (see [`Node::wait_healthy`]).
    pub fn start(&mut self) -> anyhow::Result<()> {
        anyhow::ensure!(self.child.is_none(), "node {} is already running", self.index);
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log_path)?;
        let mut command = match &self.namespace {
            Some(namespace) => {
                // `ip netns exec` execs the binary in place, so the child is the node itself.
                let mut command = Command::new("ip");
                command.args(["netns", "exec", namespace]).arg(&self.binary);
                command
            }
            None => Command::new(&self.binary),
        };
        command
            .arg("run")
            .arg("--config")
            .arg(&self.config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        let child =
            command.spawn().with_context(|| format!("cannot start {}", self.binary.display()))?;
        self.child = Some(child);
        Ok(())
    }

    /// Sends SIGKILL and reaps the process: no shutdown code runs, as in a power cut of the
    /// process alone (what the kernel already holds of written files survives).
    pub fn kill(&mut self) -> anyhow::Result<ExitStatus> {
        let mut child =
            self.child.take().with_context(|| format!("node {} is not running", self.index))?;
        // `Child::kill` is SIGKILL on Unix.
        child.kill().with_context(|| format!("cannot kill node {}", self.index))?;
        Ok(child.wait()?)
    }

    /// Whether the process is running (not yet exited).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.as_mut().map(Child::try_wait), Some(Ok(None)))
    }

    /// The process id, while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The process's resident set size in KiB (`VmRSS` of `/proc/<pid>/status`), while running.
    pub fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()?)).ok()?;
        let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// Its API token.
    pub fn token(&self) -> &str {
        &self.config.api_token
    }

    /// Its store directory.
    pub fn store_path(&self) -> &Path {
        &self.config.data_dir
    }

    /// `GET /health`, failing on anything but 200.
    pub async fn health(&self) -> anyhow::Result<Value> {
        crate::workload::get_json(self.http, "/health", None).await
    }

    /// Waits until the node answers `GET /health` with 200 and returns the answer; fails at
    /// once, quoting its log, if the process exits first, or after `deadline`.
    pub async fn wait_healthy(&mut self, deadline: Duration) -> anyhow::Result<Value> {
        let give_up = tokio::time::Instant::now() + deadline;
        loop {
            let child = self
                .child
                .as_mut()
                .with_context(|| format!("node {} is not running", self.index))?;
            if let Some(status) = child.try_wait()? {
                self.child = None;
                anyhow::bail!(
                    "node {} exited ({status}) before answering /health; its log ends with:\n{}",
                    self.index,
                    self.log_tail()
                );
            }
            if let Ok(answer) = exchange(self.http, "GET", "/health", &[], &[]).await
                && answer.status == 200
            {
                return answer.json();
            }
            if tokio::time::Instant::now() > give_up {
                anyhow::bail!(
                    "node {} did not answer /health within {deadline:?}; its log ends with:\n{}",
                    self.index,
                    self.log_tail()
                );
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Opens the node's store in this process (the node must be stopped: sled takes a lock).
    pub fn open_store(&mut self, genesis: &Genesis) -> anyhow::Result<Store> {
        anyhow::ensure!(
            !self.is_running(),
            "node {} must be stopped to open its store",
            self.index
        );
        Store::open(self.store_path(), genesis)
            .with_context(|| format!("node {}'s store does not open", self.index))
    }

    /// The last lines of the node's log.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A loopback port free for both TCP and UDP now, not in `taken`, from [`LOOPBACK_PORTS`];
/// the node binds it moments later.
pub fn free_port(taken: &mut Vec<u16>) -> anyhow::Result<u16> {
    let span = u32::from(LOOPBACK_PORTS.end - LOOPBACK_PORTS.start);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.subsec_nanos();
    let start = (std::process::id().wrapping_mul(7_919) ^ nanos) % span;
    (0..span)
        .map(|offset| LOOPBACK_PORTS.start + ((start + offset * 97) % span) as u16)
        .find(|port| {
            !taken.contains(port)
                && std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, *port)).is_ok()
                && std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, *port)).is_ok()
        })
        .inspect(|port| taken.push(*port))
        .context("no free loopback port")
}
