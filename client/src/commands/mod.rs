//! The `lotline` subcommands, one module each, and what they share: the global options
//! ([`Context`]), reading input files, and the error kinds that pick an exit status.
//!
//! Owns the command-line surface. Deliberately does not own any rule or protocol: every
//! command calls `lotline_client` (network, verification, templates) or `lotline_ledger`.

pub mod capture;
pub mod coldchain;
pub mod custody;
pub mod demo;
pub mod dl;
pub mod epcis;
pub mod events;
pub mod export;
pub mod inspect;
pub mod proof;
pub mod recall;
pub mod trace;

use std::path::Path;

use lotline_client::{Client, ExitStatus, verify::Policy};

/// A problem with something the user supplied (a file, a flag value): exit status 3.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidInput(pub String);

/// Options every command may use.
#[derive(Debug, Clone)]
pub struct Context {
    /// `--node` / `LOTLINE_NODE`, when given.
    pub node: Option<String>,
    /// `--token` / `LOTLINE_TOKEN`, when given.
    pub token: Option<String>,
    /// `--json`: machine output instead of tables.
    pub json: bool,
    /// The witness policy from `--witness` / `--witness-quorum`.
    pub policy: Policy,
}

impl Context {
    /// A client for the configured node, or a clear error telling how to name one.
    pub fn client(&self) -> anyhow::Result<Client> {
        let node = self.node.as_deref().ok_or_else(|| {
            InvalidInput(
                "no node given: pass --node http://HOST:PORT or set LOTLINE_NODE".to_owned(),
            )
        })?;
        Ok(Client::connect(node, self.token.clone(), self.policy.clone())?)
    }
}

/// Reads a file the user named, turning IO errors into one line that names the file.
pub fn read_input_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path)
        .map_err(|error| InvalidInput(format!("cannot read {}: {error}", path.display())).into())
}

/// The exit status an error ending a command maps to.
pub fn exit_status_of(error: &anyhow::Error) -> ExitStatus {
    for cause in error.chain() {
        if let Some(client_error) = cause.downcast_ref::<lotline_client::Error>() {
            return client_error.exit_status();
        }
        let is_invalid_input = cause.is::<InvalidInput>()
            || cause.is::<lotline_ledger::epcis::Error>()
            || cause.is::<lotline_ledger::gs1::Error>()
            || cause.is::<lotline_client::csv_template::TemplateErrors>()
            || cause.is::<lotline_client::fsma204::Error>()
            || cause.is::<lotline_ledger::fsma204::Error>();
        if is_invalid_input {
            return ExitStatus::InvalidInput;
        }
    }
    ExitStatus::Failure
}
