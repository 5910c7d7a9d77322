//! Shared code of the end-to-end tests and of `lotline-bench`: the cluster harness and the
//! benchmark scenarios.

pub mod bench;
pub mod cluster;
