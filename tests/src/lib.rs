//! Shared code of the end-to-end tests and of `lotline-bench`: the cluster harness, test
//! fixtures (capture documents, a lying node) and the benchmark scenarios.

pub mod bench;
pub mod cluster;
pub mod fixtures;
