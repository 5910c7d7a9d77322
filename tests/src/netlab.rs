//! A network lab for process-level tests: each node in its own network namespace, joined to
//! the host by a veth pair, and reaching its peers only through a datagram relay in the test
//! process that can cut (partition), drop (loss) and hold back (delay) what crosses it.
//!
//! Layout: node `i` lives in namespace `lotline-{pid}-{lab}-{i}` with address [`Lab::node_ip`]
//! on its end of the veth pair; the host end holds [`Lab::host_ip`]. Node `i` reaches node `j`
//! at `host_ip(i):relay_port(j)`; the relay forwards those datagrams out of
//! `host_ip(j):relay_port(i)` to node `j`, so each node sees every peer at an address on its
//! own link, and has no route to any other namespace (the host does not forward). Addresses
//! come from 198.18.0.0/15, the range set aside for network benchmarks (RFC 2544), one /26
//! per lab; namespace and interface names carry the process id, so concurrent runs do not
//! clash, and a run finds and deletes what a killed earlier run left behind.
//!
//! Why a relay rather than `tc netem` on the veth pairs: netem is an optional kernel module,
//! and kernels built without it are common on virtual machines, while veth pairs and
//! namespaces are everywhere. The relay acts on whole datagrams, as netem does on packets, so
//! nodes talk QUIC (one of the node's two transports) through it and recover from loss and
//! delay as they would on a real link; a relayed TCP stream could be delayed but never lose a
//! packet.
//!
//! Owns: creating and deleting namespaces and veth pairs (with iproute2's `ip`), the relay and
//! its link conditions. Does not own the node processes (`crate::process`).

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::process::Command;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::Context;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Most nodes one lab holds (sixteen /30 links in its /26).
pub const MAX_NODES: usize = 16;
/// The UDP port a node in a lab listens on for QUIC (each namespace has its own ports).
pub const NODE_P2P_PORT: u16 = 7_000;
/// The TCP port a node in a lab serves HTTP on.
pub const NODE_HTTP_PORT: u16 = 8_080;
/// First relay port on the host side: node `i` reaches node `j` at `host_ip(i):RELAY_PORT_BASE + j`.
const RELAY_PORT_BASE: u16 = 9_000;
/// Datagrams waiting in one direction of the relay; beyond it, new ones are dropped (a full
/// queue on a real link).
const RELAY_QUEUE: usize = 4_096;
/// Largest datagram the relay carries (the veth MTU is far below it).
const MAX_DATAGRAM: usize = 65_536;
/// Prefix of every namespace a lab creates: `lotline-{pid}-{lab}-{node}`.
const NAMESPACE_PREFIX: &str = "lotline-";
/// 198.18.0.0, start of the benchmarking range (RFC 2544), as an integer.
const RANGE_START: u32 = 0xC612_0000;
/// Labs of 64 addresses the /15 holds.
const BLOCKS: u32 = (1 << 17) / 64;

/// Labs created by this process so far (part of their names).
static LABS_CREATED: AtomicUsize = AtomicUsize::new(0);

/// What the relay does to datagrams between two nodes that are not cut apart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkQuality {
    /// Fraction of datagrams dropped, each independently (0 to 1).
    pub loss: f64,
    /// How long each datagram is held before it is forwarded.
    pub delay: Duration,
}

impl LinkQuality {
    /// No loss, no delay.
    pub const CLEAN: LinkQuality = LinkQuality { loss: 0.0, delay: Duration::ZERO };
}

/// Datagrams the relay has handled since the lab was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelayCounts {
    /// Forwarded (after their delay).
    pub forwarded: u64,
    /// Dropped because a partition separates the two nodes.
    pub cut: u64,
    /// Dropped by the link's loss rate.
    pub lost: u64,
    /// Dropped because the direction's queue was full.
    pub overflowed: u64,
}

/// The relay's conditions, shared with its tasks.
#[derive(Debug)]
struct Conditions {
    /// `cut[i][j]`: datagrams from node `i` to node `j` are dropped.
    cut: Vec<Vec<bool>>,
    /// Loss and delay on every link that is not cut.
    quality: LinkQuality,
}

#[derive(Debug, Default)]
struct Counters {
    forwarded: AtomicU64,
    cut: AtomicU64,
    lost: AtomicU64,
    overflowed: AtomicU64,
}

/// Namespaces, veth pairs and the relay between them; all removed on drop, even when a test
/// panics (after killing any process still inside a namespace).
#[derive(Debug)]
pub struct Lab {
    /// Namespace of each node.
    namespaces: Vec<String>,
    /// Host end of each node's veth pair.
    host_links: Vec<String>,
    /// First address of this lab's /26.
    block_start: u32,
    /// Link conditions, read by the relay for every datagram.
    conditions: Arc<Mutex<Conditions>>,
    /// What the relay has done.
    counters: Arc<Counters>,
    /// The relay's tasks (aborted on drop).
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Lab {
    /// Creates `count` namespaces, each linked to the host, and starts the relay between them
    /// with clean links. Needs root (namespaces and links are created with `ip`) and a tokio
    /// runtime (the relay runs on it); fails with a message saying so otherwise.
    pub fn create(count: usize) -> anyhow::Result<Lab> {
        anyhow::ensure!((2..=MAX_NODES).contains(&count), "a lab holds 2 to {MAX_NODES} nodes");
        let runtime = tokio::runtime::Handle::try_current()
            .context("a lab's relay runs on a tokio runtime: create the lab inside one")?;
        remove_leftovers();
        let pid = std::process::id();
        let lab_number = LABS_CREATED.fetch_add(1, Ordering::SeqCst);
        let block_start = free_block(pid, lab_number)?;
        let mut lab = Lab {
            namespaces: Vec::new(),
            host_links: Vec::new(),
            block_start,
            conditions: Arc::new(Mutex::new(Conditions {
                cut: vec![vec![false; count]; count],
                quality: LinkQuality::CLEAN,
            })),
            counters: Arc::new(Counters::default()),
            tasks: Vec::new(),
        };
        for node in 0..count {
            let namespace = format!("{NAMESPACE_PREFIX}{pid}-{lab_number}-{node}");
            ip(&["netns", "add", &namespace]).with_context(|| {
                format!(
                    "cannot create network namespace {namespace}: the partition tests need root \
                     (CAP_SYS_ADMIN and CAP_NET_ADMIN) and iproute2's `ip`; CI runs them as root"
                )
            })?;
            lab.namespaces.push(namespace.clone());
            // Interface names are at most 15 bytes: `ll`, the pid and lab in hex, a side, the node.
            let stem = format!("ll{:x}{:x}", pid & 0xFF_FFFF, lab_number & 0xF);
            let host_link = format!("{stem}h{node:x}");
            let node_link = format!("{stem}n{node:x}");
            ip(&[
                "link", "add", &host_link, "type", "veth", "peer", "name", &node_link, "netns",
                &namespace,
            ])?;
            lab.host_links.push(host_link.clone());
            let host_address = format!("{}/30", lab.host_ip(node));
            let node_address = format!("{}/30", lab.node_ip(node));
            ip(&["addr", "add", &host_address, "dev", &host_link])?;
            ip(&["link", "set", &host_link, "up"])?;
            ip(&["-n", &namespace, "addr", "add", &node_address, "dev", &node_link])?;
            ip(&["-n", &namespace, "link", "set", &node_link, "up"])?;
            ip(&["-n", &namespace, "link", "set", "lo", "up"])?;
        }
        lab.start_relay(&runtime, count)?;
        Ok(lab)
    }

    /// How many nodes the lab links.
    pub fn len(&self) -> usize {
        self.namespaces.len()
    }

    /// Whether the lab links no node (never, once created).
    pub fn is_empty(&self) -> bool {
        self.namespaces.is_empty()
    }

    /// The namespace node `node` runs in.
    pub fn namespace(&self, node: usize) -> &str {
        &self.namespaces[node]
    }

    /// Node `node`'s address, on its end of its link.
    pub fn node_ip(&self, node: usize) -> Ipv4Addr {
        Ipv4Addr::from(self.block_start + 4 * node as u32 + 2)
    }

    /// The host's address on node `node`'s link (where the relay listens for it).
    pub fn host_ip(&self, node: usize) -> Ipv4Addr {
        Ipv4Addr::from(self.block_start + 4 * node as u32 + 1)
    }

    /// The relay port that stands for node `node` on every other node's link.
    pub fn relay_port(&self, node: usize) -> u16 {
        RELAY_PORT_BASE + node as u16
    }

    /// Cuts every link between nodes on different `sides` (a node on no side is cut from
    /// every other node); links within a side keep their quality.
    pub fn partition(&self, sides: &[&[usize]]) {
        let side_of = |node: usize| sides.iter().position(|side| side.contains(&node));
        let mut conditions = self.conditions();
        let count = conditions.cut.len();
        for from in 0..count {
            for to in 0..count {
                let same_side = side_of(from).is_some() && side_of(from) == side_of(to);
                conditions.cut[from][to] = from != to && !same_side;
            }
        }
    }

    /// Rejoins every link cut by [`Lab::partition`].
    pub fn heal(&self) {
        for row in &mut self.conditions().cut {
            row.fill(false);
        }
    }

    /// Sets the loss and delay of every link (in both directions).
    pub fn set_quality(&self, quality: LinkQuality) {
        self.conditions().quality = quality;
    }

    /// What the relay has done so far.
    pub fn counts(&self) -> RelayCounts {
        RelayCounts {
            forwarded: self.counters.forwarded.load(Ordering::SeqCst),
            cut: self.counters.cut.load(Ordering::SeqCst),
            lost: self.counters.lost.load(Ordering::SeqCst),
            overflowed: self.counters.overflowed.load(Ordering::SeqCst),
        }
    }

    fn conditions(&self) -> MutexGuard<'_, Conditions> {
        self.conditions.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Binds one socket per ordered pair of nodes and starts, for each, a task receiving what
    /// the first node sends to the second and a task forwarding it after its delay.
    fn start_relay(
        &mut self,
        runtime: &tokio::runtime::Handle,
        count: usize,
    ) -> anyhow::Result<()> {
        let _entered = runtime.enter();
        // sockets[i][j]: on node i's link, standing for node j.
        let mut sockets: Vec<Vec<Option<Arc<UdpSocket>>>> = vec![vec![None; count]; count];
        for (from, row) in sockets.iter_mut().enumerate() {
            for (to, slot) in row.iter_mut().enumerate() {
                if from == to {
                    continue;
                }
                let address = SocketAddrV4::new(self.host_ip(from), self.relay_port(to));
                let socket = std::net::UdpSocket::bind(address)
                    .with_context(|| format!("the relay cannot bind {address}"))?;
                socket.set_nonblocking(true)?;
                *slot = Some(Arc::new(UdpSocket::from_std(socket)?));
            }
        }
        // Where node i last sent from on its link (its QUIC socket); replies go there.
        let sources: Arc<Mutex<Vec<Option<SocketAddr>>>> = Arc::new(Mutex::new(vec![None; count]));
        let directions = (0..count).flat_map(|from| (0..count).map(move |to| (from, to)));
        for (from, to) in directions {
            let (Some(inbound), Some(outbound)) =
                (sockets[from][to].clone(), sockets[to][from].clone())
            else {
                continue;
            };
            let (queue, queued) = mpsc::channel(RELAY_QUEUE);
            let fallback = SocketAddr::V4(SocketAddrV4::new(self.node_ip(to), NODE_P2P_PORT));
            self.tasks.push(runtime.spawn(receive(Receiver {
                from,
                to,
                socket: inbound,
                queue,
                sources: Arc::clone(&sources),
                conditions: Arc::clone(&self.conditions),
                counters: Arc::clone(&self.counters),
                random: SplitMix64(
                    u64::from(self.block_start) << 16 | (from as u64) << 8 | to as u64,
                ),
            })));
            self.tasks.push(runtime.spawn(forward(
                to,
                outbound,
                queued,
                Arc::clone(&sources),
                fallback,
                Arc::clone(&self.counters),
            )));
        }
        Ok(())
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        for namespace in &self.namespaces {
            remove_namespace(namespace);
        }
        for host_link in &self.host_links {
            // Usually gone with its peer's namespace already.
            let _ = ip(&["link", "del", host_link]);
        }
    }
}

/// One direction of the relay: what node `from` sends towards node `to`.
struct Receiver {
    from: usize,
    to: usize,
    socket: Arc<UdpSocket>,
    queue: mpsc::Sender<(Instant, Vec<u8>)>,
    sources: Arc<Mutex<Vec<Option<SocketAddr>>>>,
    conditions: Arc<Mutex<Conditions>>,
    counters: Arc<Counters>,
    random: SplitMix64,
}

/// Receives datagrams from `from` and queues those that survive the link's conditions.
async fn receive(mut receiver: Receiver) {
    let mut buffer = vec![0u8; MAX_DATAGRAM];
    loop {
        let Ok((length, source)) = receiver.socket.recv_from(&mut buffer).await else { return };
        lock(&receiver.sources)[receiver.from] = Some(source);
        let (cut, quality) = {
            let conditions = lock(&receiver.conditions);
            (conditions.cut[receiver.from][receiver.to], conditions.quality)
        };
        if cut {
            receiver.counters.cut.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        if quality.loss > 0.0 && receiver.random.next_fraction() < quality.loss {
            receiver.counters.lost.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let due = Instant::now() + quality.delay;
        if receiver.queue.try_send((due, buffer[..length].to_vec())).is_err() {
            receiver.counters.overflowed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Sends each queued datagram to node `to` once its delay has passed, in the order received
/// (a link does not reorder), from the socket standing for the sender on `to`'s link.
async fn forward(
    to: usize,
    socket: Arc<UdpSocket>,
    mut queued: mpsc::Receiver<(Instant, Vec<u8>)>,
    sources: Arc<Mutex<Vec<Option<SocketAddr>>>>,
    fallback: SocketAddr,
    counters: Arc<Counters>,
) {
    while let Some((due, datagram)) = queued.recv().await {
        // The link's propagation delay: the datagram is in flight until then.
        tokio::time::sleep_until(due).await;
        let target = lock(&sources)[to].unwrap_or(fallback);
        if socket.send_to(&datagram, target).await.is_ok() {
            counters.forwarded.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A small seeded generator for the loss decisions (SplitMix64, Steele, Lea and Flood 2014):
/// a lab's losses are the same from run to run for the same datagram sequence.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_fraction(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut mixed = self.0;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        mixed ^= mixed >> 31;
        (mixed >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Runs `ip` with `arguments`; its standard error becomes the error.
fn ip(arguments: &[&str]) -> anyhow::Result<String> {
    let output = Command::new("ip")
        .args(arguments)
        .output()
        .context("cannot run `ip` (iproute2 is needed for network namespaces)")?;
    anyhow::ensure!(
        output.status.success(),
        "`ip {}` failed: {}",
        arguments.join(" "),
        String::from_utf8_lossy(&output.stderr).trim()
    );
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Kills whatever still runs in `namespace` (node processes a test started) and deletes it,
/// which also deletes the veth pair with an end inside it.
fn remove_namespace(namespace: &str) {
    if let Ok(pids) = ip(&["netns", "pids", namespace]) {
        for pid in pids.split_whitespace() {
            let _ = Command::new("kill").args(["-KILL", pid]).output();
        }
    }
    let _ = ip(&["netns", "del", namespace]);
}

/// Deletes the namespaces of labs whose process is gone (a test run killed before its drop).
fn remove_leftovers() {
    let Ok(listing) = ip(&["netns", "list"]) else { return };
    for namespace in listing.lines().filter_map(|line| line.split_whitespace().next()) {
        let Some(owner) = namespace
            .strip_prefix(NAMESPACE_PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if owner != std::process::id() && !std::path::Path::new(&format!("/proc/{owner}")).exists()
        {
            remove_namespace(namespace);
        }
    }
}

/// The first address of a /26 of the benchmarking range that no interface on the host uses,
/// starting from one derived from the process id and lab number.
fn free_block(pid: u32, lab_number: usize) -> anyhow::Result<u32> {
    let listing = ip(&["-o", "-4", "addr", "show"])?;
    let used: Vec<u32> = listing
        .split_whitespace()
        .filter_map(|word| word.split('/').next()?.parse::<Ipv4Addr>().ok())
        .map(u32::from)
        .collect();
    let first = (pid.wrapping_mul(16).wrapping_add(lab_number as u32)) % BLOCKS;
    (0..BLOCKS)
        .map(|offset| RANGE_START + ((first + offset) % BLOCKS) * 64)
        .find(|start| !used.iter().any(|address| (*start..*start + 64).contains(address)))
        .context("every /26 of 198.18.0.0/15 is in use on this host")
}
