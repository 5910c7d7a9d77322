//! Shared code of the end-to-end tests and of `lotline-bench`: the cluster harness (nodes in
//! this process), node processes and the network lab they can run in, a headless browser for
//! the node's pages, test fixtures (capture documents, a lying node), the workload the process
//! tests send, and the benchmark scenarios.

pub mod bench;
pub mod browser;
pub mod cluster;
pub mod fixtures;
pub mod netlab;
pub mod process;
pub mod workload;
