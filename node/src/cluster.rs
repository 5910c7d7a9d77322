//! `lotline-node dev-cluster`: N nodes of one fresh local network in one process, for people
//! trying Lotline and for external tests.
//!
//! Owns: generating (once) the governance key, the genesis with every member, role and GS1
//! company prefix (`dev_prefix`: organisation i may describe keys under `9506` + i as three
//! digits in master data, besides its own GLN), and
//! each node's key, token and config under DATA_DIR; starting the nodes on fixed loopback ports
//! (node i: HTTP on BASE+2i, libp2p TCP and QUIC on BASE+2i+1); printing one JSON line per node.
//! Run again on the same DATA_DIR, it restarts the same network from its stores.
//! **API Boundary**: the printed JSON lines (`name`, `role`, `http`, `token`, `peer_id`, `p2p`)
//! are a contract for external tests.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::Context;
use lotline_ledger::gs1::check_digit::with_mod10_check_digit;
use lotline_ledger::roster::{Genesis, Member, Role};

use crate::config::{Config, Replicate};
use crate::setup::{self, CONFIG_FILE, KEY_FILE};

/// Roles handed out round-robin; the first four are the contract (producer, logistics,
/// retailer, regulator), the rest let bigger clusters try processing and lab work.
const ROLE_CYCLE: [Role; 6] =
    [Role::Producer, Role::Logistics, Role::Retailer, Role::Regulator, Role::Processor, Role::Lab];
/// Name of the development network.
const NETWORK_NAME: &str = "lotline-dev";
/// GS1 company prefix used for the dev organisations' GLNs (GS1's own example prefix).
const DEV_COMPANY_PREFIX: &str = "0950600";

/// One node of the cluster as printed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NodeLine {
    /// Node name (`producer-0`, ...).
    pub name: String,
    /// Its role.
    pub role: String,
    /// Base URL of its HTTP API.
    pub http: String,
    /// Its API token.
    pub token: String,
    /// Its libp2p peer id.
    pub peer_id: String,
    /// A dialable multiaddr.
    pub p2p: String,
}

fn role_name(role: Role) -> String {
    serde_json::to_value(role)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The roles of node `index`: its cycle role, plus witness for regulators.
fn roles_of(index: usize) -> BTreeSet<Role> {
    let role = ROLE_CYCLE[index % ROLE_CYCLE.len()];
    let mut roles = BTreeSet::from([role]);
    if role == Role::Regulator {
        roles.insert(Role::Witness);
    }
    roles
}

/// The GS1 company prefix dev organisation `index` is granted: `9506000` for the first,
/// `9506001` for the second, and so on. Distinct, equally long prefixes never overlap, so no
/// organisation may describe another's keys; the first one's covers GS1's example GTINs
/// (`0 9506000 …`) that sample documents use.
pub fn dev_prefix(index: usize) -> String {
    format!("9506{:03}", index % 1000)
}

/// A valid GLN for dev organisation `index`.
fn dev_gln(index: usize) -> String {
    let body = format!("{DEV_COMPANY_PREFIX}{:05}", index + 1);
    with_mod10_check_digit(&body).unwrap_or(body)
}

/// Creates the network's files under `data_dir` unless they exist; returns each node's config.
/// With `base_port` the nodes get fixed loopback ports and bootstrap to each other; with
/// `None` every port is ephemeral (`:0`) and the caller supplies bootstrap addresses (tests).
pub fn prepare(
    nodes: usize,
    data_dir: &Path,
    base_port: Option<u16>,
) -> anyhow::Result<Vec<Config>> {
    anyhow::ensure!(nodes >= 1, "a cluster needs at least one node");
    if let Some(base_port) = base_port {
        let last_port = u32::from(base_port) + 2 * nodes as u32;
        anyhow::ensure!(last_port <= u32::from(u16::MAX), "--base-port too high for {nodes} nodes");
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let genesis_path = data_dir.join("genesis.json");
    let mut keypairs = Vec::new();
    for index in 0..nodes {
        let node_dir = data_dir.join(format!("node-{index}"));
        std::fs::create_dir_all(&node_dir)?;
        keypairs.push(setup::load_or_create_key(&node_dir.join(KEY_FILE))?);
    }
    if !genesis_path.exists() {
        let governance = setup::load_or_create_key(&data_dir.join("governance.key"))?;
        let members = keypairs
            .iter()
            .enumerate()
            .map(|(index, keypair)| Member {
                key: keypair.public_key(),
                name: node_name(index),
                gln: dev_gln(index),
                roles: roles_of(index),
                prefixes: BTreeSet::from([dev_prefix(index)]),
            })
            .collect();
        let mut genesis = Genesis {
            network: NETWORK_NAME.to_owned(),
            governance_keys: vec![governance.public_key()],
            threshold: 1,
            members,
            signatures: Vec::new(),
        };
        genesis.sign(&governance)?;
        std::fs::write(&genesis_path, genesis.to_json())?;
    }
    let peer_ids: Vec<String> = keypairs
        .iter()
        .map(|keypair| {
            crate::network::keypair_from_seed(keypair.seed())
                .map(|identity| identity.public().to_peer_id().to_string())
        })
        .collect::<Result<_, _>>()?;
    let mut configs = Vec::new();
    for index in 0..nodes {
        let node_dir = data_dir.join(format!("node-{index}"));
        let config_path = node_dir.join(CONFIG_FILE);
        if config_path.exists() {
            configs.push(Config::load(&config_path)?);
            continue;
        }
        let bootstrap = match base_port {
            Some(base_port) => (0..nodes)
                .filter(|other| *other != index)
                .map(|other| {
                    let port = p2p_port(base_port, other);
                    format!("/ip4/127.0.0.1/tcp/{port}/p2p/{}", peer_ids[other])
                })
                .collect(),
            None => Vec::new(),
        };
        let (http_port, p2p_listen_port) = match base_port {
            Some(base_port) => (base_port + 2 * index as u16, p2p_port(base_port, index)),
            None => (0, 0),
        };
        let config = Config {
            name: node_name(index),
            data_dir: "store".into(),
            key_file: KEY_FILE.into(),
            genesis_file: std::fs::canonicalize(&genesis_path)?,
            api_token: setup::new_token()?,
            http_listen: format!("127.0.0.1:{http_port}"),
            p2p_listen: setup::listen_addresses("127.0.0.1", p2p_listen_port),
            bootstrap,
            mdns: false,
            replicate: Replicate::All,
            witness: None,
            sync_interval_ms: 1_000,
            // A development cluster on loopback: the README's examples query it without a token.
            public_queries: true,
            http_limits: crate::config::HttpLimits::default(),
            handoff_deadline_ms: crate::config::DEFAULT_HANDOFF_DEADLINE_MS,
            page_cache_mib: crate::config::DEFAULT_PAGE_CACHE_MIB,
            notifications: crate::config::Notifications::default(),
        };
        config.save(&config_path)?;
        configs.push(Config::load(&config_path)?);
    }
    Ok(configs)
}

fn p2p_port(base_port: u16, index: usize) -> u16 {
    base_port + 2 * index as u16 + 1
}

/// The role a dev-cluster node `index` is named after.
pub fn role_of(index: usize) -> Role {
    ROLE_CYCLE[index % ROLE_CYCLE.len()]
}

fn node_name(index: usize) -> String {
    format!("{}-{index}", role_name(ROLE_CYCLE[index % ROLE_CYCLE.len()]))
}

/// Runs the cluster until SIGINT/SIGTERM.
pub async fn run_dev_cluster(nodes: usize, data_dir: &Path, base_port: u16) -> anyhow::Result<()> {
    let configs = prepare(nodes, data_dir, Some(base_port))?;
    let mut running = Vec::new();
    for (index, config) in configs.into_iter().enumerate() {
        let listener = tokio::net::TcpListener::bind(&config.http_listen)
            .await
            .with_context(|| format!("cannot listen on {} (port in use?)", config.http_listen))?;
        let token = config.api_token.clone();
        let name = config.name.clone();
        let node = crate::start(config, listener).await?;
        let p2p = node
            .p2p_addresses
            .iter()
            .find(|address| address.to_string().contains("/tcp/"))
            .or(node.p2p_addresses.first())
            .map(ToString::to_string)
            .unwrap_or_default();
        let line = NodeLine {
            name,
            role: role_name(ROLE_CYCLE[index % ROLE_CYCLE.len()]),
            http: format!("http://{}", node.http_address),
            token,
            peer_id: node.peer_id.to_string(),
            p2p,
        };
        println!("{}", serde_json::to_string(&line)?);
        running.push(node);
    }
    crate::shutdown_signal().await;
    for node in running {
        node.shutdown().await;
    }
    Ok(())
}
