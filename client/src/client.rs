//! The typed [`Client`]: one method per node capability, each returning verified values.

use crate::error::Error;
use crate::http::Transport;
use crate::verify::Policy;

/// A connection to one node that verifies every answer before returning it.
#[derive(Debug, Clone)]
pub struct Client {
    /// The HTTP transport (URL, token, timeouts).
    transport: Transport,
    /// Which witnesses must have cosigned checkpoints.
    policy: Policy,
}

impl Client {
    /// A client for the node at `node_url`, presenting `token` (needed for writes).
    pub fn connect(node_url: &str, token: Option<String>, policy: Policy) -> Result<Self, Error> {
        Ok(Self { transport: Transport::new(node_url, token)?, policy })
    }
}
