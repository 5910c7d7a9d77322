//! The node's TOML configuration file.
//!
//! Owns: the settings a node operator edits, their defaults, and reading/writing the file.
//! Does not own: key material (the key file is separate and written 0600 by `identity`).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Default interval between anti-entropy rounds.
const DEFAULT_SYNC_INTERVAL_MS: u64 = 1_000;

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
    /// Bearer token required for writes and for the full view.
    pub api_token: String,
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
}

fn default_sync_interval_ms() -> u64 {
    DEFAULT_SYNC_INTERVAL_MS
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

    /// Writes the config (mode 0600: it holds the API token).
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        let text = toml::to_string_pretty(self).map_err(|error| Error::Invalid {
            path: path.display().to_string(),
            reason: error.to_string(),
        })?;
        let io_error = |source| Error::Io { path: path.display().to_string(), source };
        std::fs::write(path, text).map_err(io_error)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                .map_err(io_error)?;
        }
        Ok(())
    }
}
