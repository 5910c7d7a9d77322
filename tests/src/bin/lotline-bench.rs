//! `lotline-bench`: runs every benchmark scenario and prints one line per scenario (JSON with
//! `--json`, see docs/performance.md), the soak only when named (`--scenario soak`, see
//! docs/reliability.md). A thin binary over `lotline_tests::bench`.

use clap::Parser;
use lotline_tests::bench::{self, Options, Report};

/// mimalloc: the node's many small, cross-thread allocations (parsed events, answers, network
/// buffers) cost a fifth of the CPU under glibc malloc. The benchmark uses the same allocator
/// as the node so its figures are the node's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Command line of `lotline-bench`.
#[derive(Debug, Parser)]
#[command(version, about = "Lotline benchmark scenarios, one result line each")]
struct Arguments {
    /// Sizes small enough to finish every scenario in under 3 minutes on 2 cores.
    #[arg(long)]
    quick: bool,
    /// Print one JSON object per line instead of a readable summary.
    #[arg(long)]
    json: bool,
    /// Run only the named scenarios (repeatable); all but `soak` when absent.
    #[arg(long = "scenario", value_name = "NAME")]
    scenarios: Vec<String>,
    /// How long the `soak` scenario runs, in minutes (it runs only when named).
    #[arg(long, default_value_t = 10)]
    soak_minutes: u64,
}

fn print_report(report: &Report, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(report)?);
    } else {
        let figure =
            |value: Option<f64>| value.map_or_else(|| "-".to_owned(), |value| value.to_string());
        println!(
            "{:<14} events {:>9}  per_s {:>10}  p50_ms {:>8}  p99_ms {:>8}  ceiling_per_s {:>10}  ratio {:>6}",
            report.scenario,
            report.events,
            figure(report.per_s),
            figure(report.p50_ms),
            figure(report.p99_ms),
            figure(report.ceiling_per_s),
            figure(report.ratio),
        );
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let arguments = Arguments::parse();
    let options = Options { quick: arguments.quick };
    let selected = |name: &str| {
        arguments.scenarios.is_empty() || arguments.scenarios.iter().any(|wanted| wanted == name)
    };
    if selected("ingest") {
        print_report(&bench::ingest::run(&options)?, arguments.json)?;
    }
    // The trace scenarios (`trace_forward`, `trace_back`, `recall_scope`) run as one group.
    if ["trace_forward", "trace_back", "recall_scope"].iter().any(|name| selected(name)) {
        for report in bench::trace::run(&options) {
            if selected(&report.scenario) {
                print_report(&report, arguments.json)?;
            }
        }
    }
    if bench::network::SCENARIOS.iter().any(|name| selected(name)) {
        for report in bench::network::run(&options, selected)? {
            print_report(&report, arguments.json)?;
        }
    }
    if selected("coldchain_import") {
        print_report(&bench::coldchain::run_import(&options)?, arguments.json)?;
    }
    if selected("coldchain_late_batch") {
        print_report(&bench::coldchain::run_late_batch(&options)?, arguments.json)?;
    }
    if selected("consumer_page") {
        print_report(&bench::consumer_page::run(&options)?, arguments.json)?;
    }
    // The soak takes minutes of wall time: only when asked for by name.
    if arguments.scenarios.iter().any(|wanted| wanted == "soak") {
        let report = bench::soak::run(arguments.soak_minutes)?;
        print_report(&report, arguments.json)?;
        bench::soak::check(&report)?;
    }
    Ok(())
}
