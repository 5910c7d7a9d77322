//! `lotline-node`: the peer binary. Thin: parses the command line, sets up logging, and calls
//! the library (`init`, `run`, `dev-cluster`).

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
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    lotline_node::logging::init(cli.log_json);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
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
                lotline_node::run_until_signal(config).await
            }
            Command::DevCluster { nodes, data_dir, base_port } => {
                lotline_node::cluster::run_dev_cluster(nodes, &data_dir, base_port).await
            }
        }
    })
}
