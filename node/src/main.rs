//! `lotline-node`: the peer binary. Thin: parses the command line, sets up logging, and calls
//! the library (`init`, `run`, `dev-cluster`, `governance`, `key`, `public-key`).

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

/// mimalloc: the node's many small, cross-thread allocations (parsed events, answers, network
/// buffers) cost a fifth of the CPU under glibc malloc. The benchmark uses the same allocator
/// as the node so its figures are the node's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A Lotline peer node: signs this organisation's EPCIS events into its feed, replicates every
/// admitted organisation's feed over libp2p, and serves the EPCIS and trace HTTP API.
#[derive(Debug, Parser)]
#[command(name = "lotline-node", version)]
struct Cli {
    /// Log as JSON lines instead of human-readable text.
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create an organisation key, an API token and a config file in DIR.
    Init {
        /// Directory to create the node's files in.
        #[arg(long)]
        dir: PathBuf,
        /// The organisation's short name.
        #[arg(long)]
        name: String,
        /// The network's genesis file (from the network's governance).
        #[arg(long)]
        genesis: PathBuf,
        /// HTTP API address.
        #[arg(long, default_value = "127.0.0.1:8080")]
        http: String,
        /// libp2p port (TCP and QUIC).
        #[arg(long, default_value_t = 7000)]
        p2p_port: u16,
        /// Bootstrap peers (multiaddrs ending in /p2p/<peer id>).
        #[arg(long)]
        bootstrap: Vec<String>,
        /// Host libp2p listens on (0.0.0.0 to accept peers from other machines).
        #[arg(long, default_value = lotline_node::setup::DEFAULT_P2P_HOST)]
        p2p_host: String,
        /// Discover peers on the LAN with mDNS.
        #[arg(long)]
        mdns: bool,
    },
    /// Run a node from its config file until SIGINT or SIGTERM.
    Run {
        /// The node's TOML config.
        #[arg(long)]
        config: PathBuf,
    },
    /// Start N nodes of one fresh local network and print one JSON line per node.
    DevCluster {
        /// How many nodes (roles round-robin: producer, logistics, retailer, regulator).
        #[arg(long, default_value_t = 4)]
        nodes: usize,
        /// Where the nodes keep keys, configs and stores; reused on the next run.
        #[arg(long)]
        data_dir: PathBuf,
        /// First port: node i serves HTTP on PORT+2i and libp2p on PORT+2i+1.
        #[arg(long, default_value_t = 7000)]
        base_port: u16,
    },
    /// A network's governance: keys, the genesis, roster changes and their approvals.
    Governance {
        #[command(subcommand)]
        command: lotline_node::governance::Command,
    },
    /// Create an Ed25519 key file (mode 0600; never replacing one) and print its public key.
    Key {
        /// Where to write the key.
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the public key of a key file (or, with --peer-id, the node's libp2p peer id).
    PublicKey {
        /// The key file.
        #[arg(long)]
        key: PathBuf,
        /// Print the libp2p peer id a node with this key has.
        #[arg(long)]
        peer_id: bool,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    lotline_node::logging::init(cli.log_json);
    match cli.command {
        Command::Init { dir, name, genesis, http, p2p_port, bootstrap, p2p_host, mdns } => {
            let options = lotline_node::setup::InitOptions {
                dir,
                name,
                genesis,
                http,
                p2p_port,
                bootstrap,
                p2p_host,
                mdns,
            };
            let created = lotline_node::setup::init(&options)?;
            println!("{}", created.display());
            Ok(())
        }
        Command::Run { config } => {
            let config = lotline_node::config::Config::load(&config)?;
            runtime()?.block_on(lotline_node::run_until_signal(config))
        }
        Command::DevCluster { nodes, data_dir, base_port } => {
            runtime()?.block_on(lotline_node::cluster::run_dev_cluster(nodes, &data_dir, base_port))
        }
        Command::Governance { command } => lotline_node::governance::run(command),
        Command::Key { out } => {
            println!("{}", lotline_node::governance::create_key(&out)?.to_hex());
            Ok(())
        }
        Command::PublicKey { key, peer_id } => {
            let key = lotline_ledger::identity::Keypair::read_from_file(&key)?.public_key();
            if peer_id {
                let peer_id = lotline_node::network::peer_id_of_organisation(key.as_bytes())
                    .context("an organisation key is an Ed25519 key")?;
                println!("{peer_id}");
            } else {
                println!("{}", key.to_hex());
            }
            Ok(())
        }
    }
}

/// The async runtime of the commands that run nodes.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
