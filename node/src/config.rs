//! The node's TOML configuration file.
//!
//! Owns: the settings a node operator edits, their defaults, and reading/writing the file.
//! Does not own: key material (the key file is separate and written 0600 by `identity`), nor
//! how the HTTP limits are enforced (`crate::http`).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Default interval between anti-entropy rounds.
const DEFAULT_SYNC_INTERVAL_MS: u64 = 1_000;

/// Default time a client has to send a complete request head (also how long an idle
/// keep-alive connection stays open: the server waits for the next head under this timeout).
const DEFAULT_HEADER_TIMEOUT_MS: u64 = 10_000;
/// Default longest wait for the next piece of a request body.
const DEFAULT_BODY_TIMEOUT_MS: u64 = 30_000;
/// Default cap on open HTTP connections; beyond it a new connection is closed at once, so
/// the process keeps file descriptors for its store and its peers.
const DEFAULT_MAX_CONNECTIONS: usize = 512;
/// Default cap on trace, recall and event queries running at once.
const DEFAULT_MAX_EXPENSIVE_QUERIES: usize = 2;
/// Default cap on the lots one recall-scope answer lists.
const DEFAULT_MAX_RECALL_LOTS: usize = 10_000;

/// Default room for rendered consumer pages: a 1,000,000-event ledger's page keeps about 24 kB
/// (its style sheet and script are not kept), so this holds some 44,000 lots' pages.
pub const DEFAULT_PAGE_CACHE_MIB: u64 = 1_024;

/// Default time a shipment has to be confirmed by its receipt before the supervision list
/// shows it as overdue: 48 hours.
pub const DEFAULT_HANDOFF_DEADLINE_MS: u64 = 48 * 3_600_000;

/// Which feeds this node stores and serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Replicate {
    /// Every admitted organisation's feed (regulators, large firms).
    #[default]
    All,
    /// Only these organisations' feeds (public keys in hex), plus our own.
    Only(Vec<String>),
}

/// A node's configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Human name of this node (e.g. the organisation's short name).
    pub name: String,
    /// Directory holding the store (`store/`); relative paths below are relative to the config file.
    pub data_dir: PathBuf,
    /// The organisation's Ed25519 key file (hex seed, mode 0600).
    pub key_file: PathBuf,
    /// The network's genesis file (signed by the governance key).
    pub genesis_file: PathBuf,
    /// Bearer token required for writes, and for trace, recall, event and capture-job reads
    /// unless `public_queries` is set.
    pub api_token: String,
    /// Answer trace, recall, event and capture-job reads without the token (public feeds,
    /// checkpoints, proofs, records, health and metrics never need it).
    #[serde(default)]
    pub public_queries: bool,
    /// HTTP API listen address, e.g. `127.0.0.1:8080`.
    pub http_listen: String,
    /// libp2p listen multiaddrs (TCP and QUIC).
    pub p2p_listen: Vec<String>,
    /// Peers to dial at start (multiaddrs ending in `/p2p/<peer id>`).
    #[serde(default)]
    pub bootstrap: Vec<String>,
    /// Discover peers on the LAN with mDNS.
    #[serde(default)]
    pub mdns: bool,
    /// Which feeds to replicate.
    #[serde(default)]
    pub replicate: Replicate,
    /// Cosign other feeds' checkpoints (regulators by default).
    #[serde(default)]
    pub witness: Option<bool>,
    /// Milliseconds between anti-entropy rounds.
    #[serde(default = "default_sync_interval_ms")]
    pub sync_interval_ms: u64,
    /// Time, size and concurrency limits of the HTTP API.
    #[serde(default)]
    pub http_limits: HttpLimits,
    /// Milliseconds a shipment has to be confirmed by its receipt before it is overdue.
    #[serde(default = "default_handoff_deadline_ms")]
    pub handoff_deadline_ms: u64,
    /// Notifications: the event stream's bounds and the webhooks to call.
    #[serde(default)]
    pub notifications: Notifications,
    /// MiB of rendered consumer pages (and their proofs) kept between requests; 0 keeps none.
    #[serde(default = "default_page_cache_mib")]
    pub page_cache_mib: u64,
}

fn default_page_cache_mib() -> u64 {
    DEFAULT_PAGE_CACHE_MIB
}

fn default_handoff_deadline_ms() -> u64 {
    DEFAULT_HANDOFF_DEADLINE_MS
}

fn default_sync_interval_ms() -> u64 {
    DEFAULT_SYNC_INTERVAL_MS
}

/// The HTTP API's bounds on time and concurrency (`[http_limits]` in the file); every field
/// has a default, so the table is optional.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpLimits {
    /// Milliseconds a client has to send a complete request head; an idle keep-alive
    /// connection is closed after the same time.
    pub header_timeout_ms: u64,
    /// Milliseconds the server waits for the next piece of a request body.
    pub body_timeout_ms: u64,
    /// Open connections served at once; more are closed as soon as they are accepted.
    pub max_connections: usize,
    /// Trace, recall and event queries computed at once; more are answered `503`.
    pub max_expensive_queries: usize,
    /// Lots one recall-scope answer may list; a wider scope is answered `413`.
    pub max_recall_lots: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            header_timeout_ms: DEFAULT_HEADER_TIMEOUT_MS,
            body_timeout_ms: DEFAULT_BODY_TIMEOUT_MS,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_expensive_queries: DEFAULT_MAX_EXPENSIVE_QUERIES,
            max_recall_lots: DEFAULT_MAX_RECALL_LOTS,
        }
    }
}

/// Default notifications kept for clients resuming an event stream.
const DEFAULT_NOTIFICATION_BACKLOG: usize = 1_024;
/// Default cap on event streams open at once.
const DEFAULT_MAX_EVENT_STREAMS: usize = 64;
/// Default interval between keep-alive comments on an idle event stream (below the idle
/// timeouts of common proxies).
const DEFAULT_KEEP_ALIVE_MS: u64 = 15_000;
/// Default notifications waiting per webhook.
const DEFAULT_WEBHOOK_QUEUE: usize = 1_024;
/// Default attempts at delivering one notification to a webhook.
const DEFAULT_WEBHOOK_ATTEMPTS: u32 = 8;
/// Default wait before the first retry; each further retry waits twice as long.
const DEFAULT_WEBHOOK_BACKOFF_MS: u64 = 1_000;
/// Default longest wait between two attempts.
const DEFAULT_WEBHOOK_BACKOFF_MAX_MS: u64 = 300_000;
/// Default time one delivery attempt may take.
const DEFAULT_WEBHOOK_TIMEOUT_MS: u64 = 10_000;
/// Default interval between two looks for handoffs that became overdue.
const DEFAULT_HANDOFF_CHECK_MS: u64 = 60_000;

/// Notifications (`[notifications]` in the file): every field has a default, so the table is
/// optional; without webhooks the node only serves the event stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Notifications {
    /// Notifications kept in memory so a client that reconnects with `Last-Event-ID` gets
    /// what it missed.
    pub backlog: usize,
    /// Event streams open at once; more are answered `503`.
    pub max_streams: usize,
    /// Milliseconds between keep-alive comments on an idle event stream.
    pub keep_alive_ms: u64,
    /// URLs (`http` or `https`) each notification is posted to, signed by this organisation.
    pub webhooks: Vec<String>,
    /// Notifications waiting per webhook; when full, the oldest is dropped and counted.
    pub webhook_queue: usize,
    /// Attempts at delivering one notification before it is given up and counted.
    pub webhook_attempts: u32,
    /// Milliseconds before the first retry; each further retry waits twice as long.
    pub webhook_backoff_ms: u64,
    /// Longest wait between two attempts, in milliseconds.
    pub webhook_backoff_max_ms: u64,
    /// Milliseconds one attempt may take (connect, send, answer).
    pub webhook_timeout_ms: u64,
    /// Milliseconds between two looks for custody handoffs that became overdue (each look
    /// reads every shipment); 0 never looks.
    pub handoff_check_ms: u64,
}

impl Default for Notifications {
    fn default() -> Self {
        Notifications {
            backlog: DEFAULT_NOTIFICATION_BACKLOG,
            max_streams: DEFAULT_MAX_EVENT_STREAMS,
            keep_alive_ms: DEFAULT_KEEP_ALIVE_MS,
            webhooks: Vec::new(),
            webhook_queue: DEFAULT_WEBHOOK_QUEUE,
            webhook_attempts: DEFAULT_WEBHOOK_ATTEMPTS,
            webhook_backoff_ms: DEFAULT_WEBHOOK_BACKOFF_MS,
            webhook_backoff_max_ms: DEFAULT_WEBHOOK_BACKOFF_MAX_MS,
            webhook_timeout_ms: DEFAULT_WEBHOOK_TIMEOUT_MS,
            handoff_check_ms: DEFAULT_HANDOFF_CHECK_MS,
        }
    }
}

/// Errors reading or writing a config.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be read or written.
    #[error("config file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The IO error.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this schema.
    #[error("config file {path}: {reason}")]
    Invalid {
        /// The file.
        path: String,
        /// What the parser said.
        reason: String,
    },
}

impl Config {
    /// Reads a config file; relative paths inside are resolved against its directory.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| Error::Io { path: path.display().to_string(), source })?;
        let mut config: Config = toml::from_str(&text).map_err(|error| Error::Invalid {
            path: path.display().to_string(),
            reason: error.to_string(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        for field in [&mut config.data_dir, &mut config.key_file, &mut config.genesis_file] {
            if field.is_relative() {
                *field = base.join(&*field);
            }
        }
        Ok(config)
    }

    /// Writes the config with mode 0600 (it holds the API token): a new file is created with
    /// that mode, and an existing one is narrowed to it before the token is written, so no
    /// other user can read the token at any moment.
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        use std::io::Write;
        let text = toml::to_string_pretty(self).map_err(|error| Error::Invalid {
            path: path.display().to_string(),
            reason: error.to_string(),
        })?;
        let io_error = |source| Error::Io { path: path.display().to_string(), source };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(io_error)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(io_error)?;
        }
        file.write_all(text.as_bytes()).map_err(io_error)?;
        file.sync_all().map_err(io_error)?;
        Ok(())
    }
}
