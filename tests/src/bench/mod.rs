//! Benchmark scenarios of `lotline-bench`; each prints one JSON line (see docs/performance.md;
//! the `soak` scenario's figures are in docs/reliability.md).

pub mod coldchain;
pub mod consumer_page;
pub mod ingest;
pub mod network;
pub mod soak;
pub mod trace;

use std::time::{Duration, Instant};

use lotline_ledger::identity::{self, PublicKey, Signature};
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

/// A signed message as the verifier sees it: key, signed bytes, signature.
pub type SignedMessage = (PublicKey, Vec<u8>, Signature);

/// Which batch verifier a rate is measured with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verifier {
    /// The standard Ed25519 batch verification (ed25519-dalek's `verify_batch`): the machine's
    /// signature-verification rate, the ceiling every ratio is taken against.
    Standard,
    /// The nodes' own verifier ([`identity::verify_batch`]), which merges the terms of one
    /// signer: reported beside the ceiling so a ratio above what the standard rate allows is
    /// explained in the same line.
    Merged,
}

/// The Ed25519 batch-verification rate on all cores over `messages`, split into one chunk per
/// core and verified `batch_size` at a time with no decoding or storage. With
/// [`Verifier::Standard`] it is the machine's ceiling (`ceiling_per_s` in the reports).
pub fn verification_rate_per_s(
    messages: &[SignedMessage],
    batch_size: usize,
    verifier: Verifier,
) -> f64 {
    let verify = match verifier {
        Verifier::Standard => identity::verify_batch_standard,
        Verifier::Merged => identity::verify_batch,
    };
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for thread_messages in messages.chunks(messages.len().div_ceil(threads).max(1)) {
            scope.spawn(move || {
                for batch in thread_messages.chunks(batch_size.max(1)) {
                    let items: Vec<(PublicKey, &[u8], Signature)> = batch
                        .iter()
                        .map(|(key, message, signature)| (*key, message.as_slice(), *signature))
                        .collect();
                    // Honest signatures: a failure would be a bug worth seeing in the figure.
                    if verify(&items).is_err() {
                        eprintln!("{verifier:?} verifier: a batch failed to verify");
                    }
                }
            });
        }
    });
    messages.len() as f64 / started.elapsed().as_secs_f64()
}

/// The value at `fraction` (0..=1) of sorted latencies, in milliseconds.
pub fn percentile_ms(sorted: &[Duration], fraction: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 * fraction).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index].as_secs_f64() * 1_000.0
}

/// CPU time this process has used so far, all threads, user and system (Linux
/// `/proc/self/stat`, in clock ticks of 10 ms); `None` elsewhere. Throughput on this shared VM
/// swings with the minute, while the CPU time a piece of work costs moves much less, so the
/// network scenarios report both.
pub fn process_cpu_time() -> Option<Duration> {
    /// `USER_HZ`, fixed at 100 on Linux for every architecture the project builds on.
    const TICKS_PER_SECOND: u64 = 100;
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis
    // are plain numbers, `utime` and `stime` being the 12th and 13th of them.
    let (_, after_name) = stat.rsplit_once(')')?;
    let mut fields = after_name.split_whitespace().skip(11);
    let user_ticks: u64 = fields.next()?.parse().ok()?;
    let system_ticks: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((user_ticks + system_ticks) * 1_000 / TICKS_PER_SECOND))
}
