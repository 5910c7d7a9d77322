//! Where the `lotline-node` binary is, for whatever starts nodes as processes (`lotline demo`,
//! the process tests, the benchmark).
//!
//! Owns the one rule: `LOTLINE_NODE_BINARY` when set, else next to the running executable
//! (`target/<profile>/` holds `lotline`, `lotline-node` and `lotline-bench`; a test executable
//! sits one level down, in `deps/`). Does not own starting nodes.

use std::path::PathBuf;

/// The variable naming the `lotline-node` binary when it is not next to the running one.
pub const NODE_BINARY_VARIABLE: &str = "LOTLINE_NODE_BINARY";

/// Why no `lotline-node` binary was found.
#[derive(Debug, thiserror::Error)]
pub enum NodeBinaryError {
    /// The variable names something that is not a file.
    #[error("{NODE_BINARY_VARIABLE}={0} is not a file")]
    NotAFile(String),
    /// The running executable cannot be located.
    #[error("cannot locate the running executable: {0}")]
    NoExecutable(std::io::Error),
    /// Nothing next to the running executable.
    #[error(
        "no lotline-node binary next to {0}: build it with `cargo build -p lotline-node` (with \
         --release for a release build; `cargo test --workspace` builds it too), or set \
         {NODE_BINARY_VARIABLE}"
    )]
    Missing(String),
}

/// The `lotline-node` binary (see the module doc).
pub fn node_binary() -> Result<PathBuf, NodeBinaryError> {
    if let Some(path) = std::env::var_os(NODE_BINARY_VARIABLE) {
        let path = PathBuf::from(path);
        if !path.is_file() {
            return Err(NodeBinaryError::NotAFile(path.display().to_string()));
        }
        return Ok(path);
    }
    let executable = std::env::current_exe().map_err(NodeBinaryError::NoExecutable)?;
    let name = format!("lotline-node{}", std::env::consts::EXE_SUFFIX);
    executable
        .ancestors()
        .skip(1)
        .take(2)
        .map(|directory| directory.join(&name))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| NodeBinaryError::Missing(executable.display().to_string()))
}
