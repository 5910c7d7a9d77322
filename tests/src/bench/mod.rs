//! Benchmark scenarios of `lotline-bench`; each prints one JSON line (see docs/performance.md).

pub mod ingest;
pub mod network;
pub mod trace;

use serde::Serialize;

/// How a run was asked for on the command line.
#[derive(Debug, Clone)]
pub struct Options {
    /// `--quick`: sizes small enough to finish every scenario in under 3 minutes on 2 cores.
    pub quick: bool,
}

/// One scenario's result: one JSON line. Fields that do not apply are omitted.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Scenario name, e.g. `ingest`.
    pub scenario: String,
    /// Number of events (or operations) the figure is over.
    pub events: u64,
    /// Sustained throughput.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_s: Option<f64>,
    /// Median latency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p50_ms: Option<f64>,
    /// 99th percentile latency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p99_ms: Option<f64>,
    /// The machine's Ed25519 batch-verification rate on all cores, measured in the same run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ceiling_per_s: Option<f64>,
    /// `per_s / ceiling_per_s`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratio: Option<f64>,
    /// Scenario-specific figures (index build rate, memory, ...).
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}
