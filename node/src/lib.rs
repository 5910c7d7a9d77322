//! The Lotline peer node as a library: [`start`] runs one node (store, swarm, sync service,
//! HTTP API) until its shutdown handle is used; the `lotline-node` binary and the end-to-end
//! tests both call it, the tests with an already-bound listener on `127.0.0.1:0`.
//!
//! Owns: wiring the layers together and their lifecycle (graceful shutdown on SIGINT/SIGTERM).
//! Does not own: ledger rules (`lotline-ledger`), and never depends on `lotline-client`.

pub mod cluster;
pub mod coldchain;
pub mod config;
pub mod governance;
pub mod http;
pub mod logging;
pub mod metrics;
pub mod network;
pub mod notify;
pub mod setup;
pub mod state;
pub mod sync;
pub mod web;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use libp2p::{Multiaddr, PeerId};
use tokio::sync::watch;

/// How long start-up waits for the swarm to report its listen addresses.
const LISTEN_DEADLINE: Duration = Duration::from_secs(10);

/// Longest a shutdown waits for blocking work in flight to release the store.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// A node that is running; drop or [`RunningNode::shutdown`] to stop it.
#[derive(Debug)]
pub struct RunningNode {
    /// Where the HTTP API answers.
    pub http_address: SocketAddr,
    /// The node's libp2p peer id.
    pub peer_id: PeerId,
    /// Dialable libp2p addresses, each ending in `/p2p/<peer id>`.
    pub p2p_addresses: Vec<Multiaddr>,
    /// The organisation's public key (hex).
    pub organisation: String,
    /// The node's ledger, shared with its tasks (tests read it directly).
    pub state: Arc<state::Ledger>,
    /// The node's notifications: other parts of the node (and tests) publish through it.
    pub notifier: notify::Notifier,
    /// Tells every task to stop.
    shutdown: watch::Sender<bool>,
    /// The HTTP server and sync service tasks.
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl RunningNode {
    /// Stops the node and waits for its tasks (the store is flushed on every append, so nothing
    /// acknowledged depends on this running).
    ///
    /// Returns once the store is released (a restart on the same directory can open it): work
    /// already handed to blocking threads (applying a fetched range) cannot be aborted and
    /// holds the ledger until it finishes, so this waits for it, for at most
    /// [`SHUTDOWN_GRACE`].
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks.drain(..) {
            let _ = task.await;
        }
        self.state.close();
        let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
        while Arc::strong_count(&self.state) > 1 {
            if tokio::time::Instant::now() >= deadline {
                tracing::warn!("blocking work still holds the store after the shutdown grace");
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// A receiver that turns true when the node is told to stop.
    pub fn stopping(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }
}

/// Anti-entropy rounds indexing must stay quiet for before recall summaries are computed: a
/// catch-up can pause for up to a round between fetches, and summarising in such a pause
/// takes a core from it, then makes it pay for forgetting what the next fetch changes.
const SUMMARY_QUIET_ROUNDS: u32 = 2;

/// Keeps every lot's recall summary computed (see `lotline_ledger::trace::summary`): once
/// indexing has been quiet for `quiet` after start-up or a batch of entries, lots without one
/// are summarised a batch at a time on the blocking pool, stopping as soon as more entries are
/// indexed. A recall then only assembles its lots' parts.
async fn keep_recall_summaries(
    ledger: Arc<state::Ledger>,
    quiet: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut indexed = ledger.subscribe_indexed();
    loop {
        // Wait for quiet: no batch indexed for a while.
        loop {
            indexed.mark_unchanged();
            tokio::select! {
                _ = shutdown.wait_for(|stopping| *stopping) => return,
                changed = indexed.changed() => if changed.is_err() { return },
                () = tokio::time::sleep(quiet) => break,
            }
        }
        while !*shutdown.borrow() && !indexed.has_changed().unwrap_or(true) {
            let worker = Arc::clone(&ledger);
            match tokio::task::spawn_blocking(move || worker.summarise_missing()).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        // Everything summarised (or more entries came): wait for the next batch.
        tokio::select! {
            _ = shutdown.wait_for(|stopping| *stopping) => return,
            changed = indexed.changed() => if changed.is_err() { return },
        }
    }
}

/// Starts a node from `config`, serving HTTP on `http_listener`.
pub async fn start(
    config: config::Config,
    http_listener: tokio::net::TcpListener,
) -> anyhow::Result<RunningNode> {
    let http_address = http_listener.local_addr().context("http listener has no address")?;
    let opened = tokio::task::spawn_blocking({
        let config = config.clone();
        move || state::Ledger::open(&config)
    })
    .await
    .context("start-up task failed")??;
    let network_config = network::Config {
        listen: parse_multiaddrs(&config.p2p_listen)?,
        bootstrap: parse_multiaddrs(&config.bootstrap)?,
        mdns: config.mdns,
        network_name: opened.network_name(),
        keypair: network::keypair_from_seed(opened.keypair_seed())?,
        members: network::peer_ids_of_organisations(&opened.roster_members().1),
    };
    let (network_handle, network_events) = network::spawn(network_config)?;
    let peer_id = network_handle.local_peer_id();
    let ledger = Arc::new(opened.with_network(network_handle.clone()));

    let p2p_addresses = wait_for_listen_addresses(&network_handle, peer_id).await?;
    let (shutdown_sender, shutdown_receiver) = watch::channel(false);

    // Started before anything can append (the sync service, the HTTP API), so the listener
    // starts from where every feed ends now and misses nothing after.
    let notifier = notify::Notifier::start(
        &config.notifications,
        lotline_ledger::identity::Keypair::from_seed(ledger.keypair_seed()),
        shutdown_receiver.clone(),
    )?;
    let notify_task = tokio::spawn(notify::watch_appended(Arc::clone(&ledger), notifier.clone()));
    let mut notify_tasks = vec![notify_task];
    if config.notifications.handoff_check_ms > 0 {
        let interval = Duration::from_millis(config.notifications.handoff_check_ms);
        notify_tasks.push(tokio::spawn(notify::watch_overdue(
            Arc::clone(&ledger),
            notifier.clone(),
            interval,
        )));
    }

    let sync_service = sync::Service::new(
        Arc::clone(&ledger),
        network_handle,
        Duration::from_millis(config.sync_interval_ms),
    );
    let sync_task = tokio::spawn(sync_service.run(network_events, shutdown_receiver.clone()));

    let summary_quiet = (Duration::from_millis(config.sync_interval_ms) * SUMMARY_QUIET_ROUNDS)
        .max(Duration::from_millis(200));
    let summaries_task = tokio::spawn(keep_recall_summaries(
        Arc::clone(&ledger),
        summary_quiet,
        shutdown_receiver.clone(),
    ));

    let router = http::router(Arc::clone(&ledger), notifier.clone(), &http::Settings::of(&config));
    let serve_options = http::serve::Options {
        header_timeout: Duration::from_millis(config.http_limits.header_timeout_ms),
        max_connections: config.http_limits.max_connections,
        shutdown_grace: SHUTDOWN_GRACE,
    };
    let http_task = tokio::spawn(http::serve::serve(
        http_listener,
        router,
        serve_options,
        shutdown_receiver.clone(),
    ));
    tracing::info!(name = %config.name, %http_address, %peer_id, "node started");
    Ok(RunningNode {
        http_address,
        peer_id,
        p2p_addresses,
        organisation: ledger.organisation_hex(),
        state: ledger,
        notifier,
        shutdown: shutdown_sender,
        tasks: [sync_task, http_task, summaries_task].into_iter().chain(notify_tasks).collect(),
    })
}

/// Runs a node until SIGINT or SIGTERM (the `run` command).
pub async fn run_until_signal(config: config::Config) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&config.http_listen)
        .await
        .with_context(|| format!("cannot listen for HTTP on {}", config.http_listen))?;
    let node = start(config, listener).await?;
    shutdown_signal().await;
    tracing::info!("shutting down");
    node.shutdown().await;
    Ok(())
}

/// Resolves when the process receives SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

fn parse_multiaddrs(texts: &[String]) -> anyhow::Result<Vec<Multiaddr>> {
    texts
        .iter()
        .map(|text| text.parse().with_context(|| format!("{text:?} is not a multiaddr")))
        .collect()
}

async fn wait_for_listen_addresses(
    handle: &network::Handle,
    peer_id: PeerId,
) -> anyhow::Result<Vec<Multiaddr>> {
    let addresses = tokio::time::timeout(LISTEN_DEADLINE, handle.wait_for_listen_addresses())
        .await
        .with_context(|| {
            format!("the swarm reported no listen address within {LISTEN_DEADLINE:?}")
        })??;
    Ok(addresses
        .into_iter()
        .map(|address| address.with(libp2p::multiaddr::Protocol::P2p(peer_id)))
        .collect())
}
