//! The `Cluster` harness: real nodes in this process, on `127.0.0.1:0`, with sled stores in a
//! temporary directory, started and stopped by tests and by `lotline-bench`.
//!
//! Owns: starting N nodes of one fresh network (keys, genesis, roster from
//! `lotline_node::cluster::prepare`), bootstrapping each to the ones before it, restarting a
//! node from its store, and waiting for conditions with a deadline (never sleeping blindly).

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use lotline_node::RunningNode;
use lotline_node::config::Config;

/// How long a test waits for a distributed condition before failing.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(60);
/// How often a condition is re-checked while waiting.
const POLL_INTERVAL: Duration = Duration::from_millis(25);

/// A running test network.
pub struct Cluster {
    /// Keeps the temporary directory alive as long as the cluster.
    _directory: tempfile::TempDir,
    /// Root of the cluster's files.
    pub data_dir: PathBuf,
    /// Each node's config (ports rewritten to what they bound).
    pub configs: Vec<Config>,
    /// Running nodes; `None` while a node is stopped.
    pub nodes: Vec<Option<RunningNode>>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Cluster").field("data_dir", &self.data_dir).finish()
    }
}

impl Cluster {
    /// Starts `count` nodes (roles round-robin: producer, logistics, retailer, regulator, ...).
    pub async fn start(count: usize) -> anyhow::Result<Self> {
        Self::start_with(count, |_, _| {}).await
    }

    /// Starts `count` nodes after letting `adjust` edit each config (index, config).
    pub async fn start_with(
        count: usize,
        adjust: impl Fn(usize, &mut Config),
    ) -> anyhow::Result<Self> {
        lotline_node::logging::init(false);
        let directory = tempfile::tempdir()?;
        let data_dir = directory.path().to_path_buf();
        let mut configs = lotline_node::cluster::prepare(count, &data_dir, None)?;
        for (index, config) in configs.iter_mut().enumerate() {
            config.sync_interval_ms = 200;
            adjust(index, config);
        }
        let mut cluster = Cluster {
            _directory: directory,
            data_dir,
            configs,
            nodes: (0..count).map(|_| None).collect(),
        };
        for index in 0..count {
            cluster.start_node(index).await?;
        }
        Ok(cluster)
    }

    /// (Re)starts node `index` from its store, bootstrapping to every running node.
    pub async fn start_node(&mut self, index: usize) -> anyhow::Result<()> {
        let peers: Vec<usize> =
            (0..self.nodes.len()).filter(|other| self.nodes[*other].is_some()).collect();
        self.start_node_with_peers(index, &peers).await
    }

    /// Starts the stopped nodes `indices`, each bootstrapping only to the ones before it in
    /// the list: an island that knows nothing of the other nodes (a network partition).
    pub async fn start_island(&mut self, indices: &[usize]) -> anyhow::Result<()> {
        for (position, index) in indices.iter().enumerate() {
            self.start_node_with_peers(*index, &indices[..position]).await?;
        }
        Ok(())
    }

    /// Makes node `from` dial node `to` (heals a partition).
    pub async fn connect(&self, from: usize, to: usize) -> anyhow::Result<()> {
        let address = self.tcp_address(to).context("node has no TCP address")?;
        self.node(from).state.dial(address.parse()?).await?;
        Ok(())
    }

    fn tcp_address(&self, index: usize) -> Option<String> {
        self.nodes[index]
            .as_ref()?
            .p2p_addresses
            .iter()
            .map(ToString::to_string)
            .find(|address| address.contains("/tcp/"))
    }

    async fn start_node_with_peers(&mut self, index: usize, peers: &[usize]) -> anyhow::Result<()> {
        let mut config = self.configs[index].clone();
        config.bootstrap = peers.iter().filter_map(|peer| self.tcp_address(*peer)).collect();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let node = lotline_node::start(config, listener)
            .await
            .with_context(|| format!("node {index} did not start"))?;
        self.nodes[index] = Some(node);
        Ok(())
    }

    /// Stops node `index` (its store stays on disk).
    pub async fn stop_node(&mut self, index: usize) {
        if let Some(node) = self.nodes[index].take() {
            node.shutdown().await;
        }
    }

    /// The running node `index`.
    pub fn node(&self, index: usize) -> &RunningNode {
        self.nodes[index].as_ref().expect("node is running")
    }

    /// Base URL of node `index`'s HTTP API.
    pub fn url(&self, index: usize) -> String {
        format!("http://{}", self.node(index).http_address)
    }

    /// API token of node `index`.
    pub fn token(&self, index: usize) -> &str {
        &self.configs[index].api_token
    }

    /// Stops every node.
    pub async fn shutdown(mut self) {
        for index in 0..self.nodes.len() {
            self.stop_node(index).await;
        }
    }
}

/// Re-checks `condition` until it returns `Some`, or fails after `deadline` naming `what`.
pub async fn wait_for<T, F, Fut>(
    what: &str,
    deadline: Duration,
    mut condition: F,
) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let give_up = tokio::time::Instant::now() + deadline;
    loop {
        if let Some(value) = condition().await {
            return Ok(value);
        }
        if tokio::time::Instant::now() > give_up {
            anyhow::bail!("timed out after {deadline:?} waiting for {what}");
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}
