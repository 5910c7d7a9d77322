//! Creating a node's files: the organisation key (0600), an API token and a TOML config
//! (`lotline-node init`, which a founding member runs before the genesis admitting it exists),
//! and a fresh network's genesis for development clusters.
//!
//! Owns: file layout of a node directory (`org.key`, `config.toml`, `store/`).
//! Does not own: what a genesis means (see `lotline_ledger::roster`).

use std::path::{Path, PathBuf};

use anyhow::Context;
use lotline_ledger::identity::Keypair;

use crate::config::{Config, Replicate};

/// File name of the organisation key inside a node directory.
pub const KEY_FILE: &str = "org.key";
/// File name of the config inside a node directory.
pub const CONFIG_FILE: &str = "config.toml";

/// What `lotline-node init` needs.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// Directory to create.
    pub dir: PathBuf,
    /// Organisation short name.
    pub name: String,
    /// Genesis file of the network to join.
    pub genesis: PathBuf,
    /// HTTP listen address.
    pub http: String,
    /// libp2p port (TCP and QUIC).
    pub p2p_port: u16,
    /// Bootstrap peers.
    pub bootstrap: Vec<String>,
    /// Host libp2p listens on: `127.0.0.1` unless the operator opens it (`0.0.0.0` or an
    /// interface address) to take part in a network beyond this machine.
    pub p2p_host: String,
    /// Discover peers on the LAN with mDNS (off unless asked for: it announces the node to
    /// every machine on the segment).
    pub mdns: bool,
}

/// The libp2p host `init` writes unless told otherwise: this machine only.
pub const DEFAULT_P2P_HOST: &str = "127.0.0.1";

/// A random API token: 32 bytes of OS randomness in hex.
pub fn new_token() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|error| anyhow::anyhow!("no randomness: {error}"))?;
    Ok(hex::encode(bytes))
}

/// The libp2p listen addresses for one port on one host: TCP and QUIC.
pub fn listen_addresses(host: &str, port: u16) -> Vec<String> {
    vec![format!("/ip4/{host}/tcp/{port}"), format!("/ip4/{host}/udp/{port}/quic-v1")]
}

/// Creates `dir` with a new key, token and config; returns the config path. Refuses to
/// overwrite an existing key (that would orphan the organisation's feed).
pub fn init(options: &InitOptions) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(&options.dir)
        .with_context(|| format!("cannot create {}", options.dir.display()))?;
    let key_path = options.dir.join(KEY_FILE);
    if key_path.exists() {
        anyhow::bail!(
            "{} already exists: refusing to replace an organisation key",
            key_path.display()
        );
    }
    let keypair = Keypair::generate()?;
    keypair.write_to_file(&key_path)?;
    // A founding member creates its key before the genesis that admits it exists: the path
    // is kept, and `run` reads the file once governance has signed it.
    let genesis = match std::fs::canonicalize(&options.genesis) {
        Ok(genesis) => genesis,
        Err(_) => {
            let genesis = std::path::absolute(&options.genesis)
                .with_context(|| format!("genesis path {}", options.genesis.display()))?;
            eprintln!(
                "genesis file {} is not there yet: put the network's signed genesis there before `lotline-node run`",
                genesis.display()
            );
            genesis
        }
    };
    let config = Config {
        name: options.name.clone(),
        data_dir: PathBuf::from("store"),
        key_file: PathBuf::from(KEY_FILE),
        genesis_file: genesis,
        api_token: new_token()?,
        http_listen: options.http.clone(),
        p2p_listen: listen_addresses(&options.p2p_host, options.p2p_port),
        bootstrap: options.bootstrap.clone(),
        mdns: options.mdns,
        replicate: Replicate::All,
        witness: None,
        sync_interval_ms: 1_000,
        // Queries carry business data: only token holders read them unless the operator opts in.
        public_queries: false,
        http_limits: crate::config::HttpLimits::default(),
        handoff_deadline_ms: crate::config::DEFAULT_HANDOFF_DEADLINE_MS,
        page_cache_mib: crate::config::DEFAULT_PAGE_CACHE_MIB,
        notifications: crate::config::Notifications::default(),
    };
    let config_path = options.dir.join(CONFIG_FILE);
    config.save(&config_path)?;
    eprintln!(
        "organisation key {} (public key {}); ask the network's governance to admit it",
        key_path.display(),
        keypair.public_key()
    );
    Ok(config_path)
}

/// Reads a key file, or creates it when absent (dev clusters).
pub fn load_or_create_key(path: &Path) -> anyhow::Result<Keypair> {
    if path.exists() {
        Ok(Keypair::read_from_file(path)?)
    } else {
        let keypair = Keypair::generate()?;
        keypair.write_to_file(path)?;
        Ok(keypair)
    }
}
