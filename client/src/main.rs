//! The `lotline` command-line client: thin clap parsing over `lotline_client`.
//!
//! Owns the command tree, global options and the mapping of outcomes to exit codes. Every
//! command lives in `commands/`; nothing here knows a protocol or a rule.

mod commands;

use std::io::IsTerminal as _;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use lotline_client::ExitStatus;
use lotline_client::verify::Policy;

use commands::capture::CaptureArgs;
use commands::events::EventsArgs;
use commands::export::ExportCommand;
use commands::inspect::InspectArgs;
use commands::proof::{ProofArgs, VerifyArgs};
use commands::recall::RecallCommand;
use commands::trace::TraceCommand;
use commands::{Context, dl::DlCommand, epcis::EpcisCommand};

/// Exit codes, shown in `--help`; they are a stable contract for scripts.
const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success (and everything received verified)
  1  unexpected failure
  2  bad command line
  3  invalid input: a file, identifier or value you gave is not valid
  4  the node could not be reached
  5  the token was refused or is missing
  6  the node refused the request (nothing recorded about it, validation, role)
  7  verification failed: do not rely on what the node sent
  8  the node gave an unusable answer (server error, not the documented API)";

/// Lotline: capture, trace, recall and verify on a Lotline traceability network.
#[derive(Debug, Parser)]
#[command(name = "lotline", version, about, after_help = EXIT_CODES_HELP)]
struct Cli {
    /// The node's HTTP address, e.g. http://127.0.0.1:8080.
    #[arg(long, env = "LOTLINE_NODE", global = true)]
    node: Option<String>,
    /// The node's API token (needed for writes).
    #[arg(long, env = "LOTLINE_TOKEN", global = true, hide_env_values = true)]
    token: Option<String>,
    /// Print machine-readable JSON instead of tables.
    #[arg(long, global = true)]
    json: bool,
    /// A trusted witness, as a C2SP verifier key (name+id+base64); repeat for several.
    #[arg(long = "witness", env = "LOTLINE_WITNESSES", value_delimiter = ',', global = true)]
    witnesses: Vec<String>,
    /// How many trusted witnesses must cosign each checkpoint (default: 0, or 1 when
    /// witnesses are given).
    #[arg(long, env = "LOTLINE_WITNESS_QUORUM", global = true)]
    witness_quorum: Option<usize>,
    /// A trusted feed author (64 hex characters); repeat for several. Default: the members
    /// of the node's roster.
    #[arg(
        long = "trust-author",
        env = "LOTLINE_TRUSTED_AUTHORS",
        value_delimiter = ',',
        global = true
    )]
    trusted_authors: Vec<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Offline work on EPCIS 2.0 documents: check, hash, convert.
    #[command(subcommand)]
    Epcis(EpcisCommand),
    /// Offline work on GS1 Digital Links: parse, from-urn.
    #[command(subcommand)]
    Dl(DlCommand),
    /// Send EPCIS events (JSON-LD, XML or the CSV template) to the node.
    Capture(CaptureArgs),
    /// Query events with the EPCIS query parameters; each event is verified.
    Events(EventsArgs),
    /// Trace a lot back (sources) or forward (destinations), verified.
    #[command(subcommand)]
    Trace(TraceCommand),
    /// Issue a recall, read its status, or acknowledge it.
    #[command(subcommand)]
    Recall(RecallCommand),
    /// Cold chain: import a data logger's file as signed sensor events, or judge one against a
    /// temperature profile.
    #[command(subcommand)]
    Coldchain(commands::coldchain::ColdchainCommand),
    /// Who held a lot at an instant (or over time), with the signed events that say so.
    Custody(commands::custody::CustodyArgs),
    /// Lab: sign a sampling or test result for lots.
    Inspect(InspectArgs),
    /// Regulator: organisations with failed inspections, unconfirmed or overdue handoffs,
    /// unacknowledged recalls or excursions, with the evidence.
    Supervision,
    /// Export an FSMA 204 spreadsheet or an EPCIS document of verified events.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Fetch, verify and save a self-contained proof bundle for an event or a trace.
    Proof(ProofArgs),
    /// Verify a proof bundle offline (no node needed).
    Verify(VerifyArgs),
    /// Start a local network of six organisations, play a lettuce recall story and show what
    /// Lotline answers (keeps serving until Ctrl-C; --exit checks and stops).
    Demo(commands::demo::DemoArgs),
    /// Print a shell completion script.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() { ExitStatus::Usage } else { ExitStatus::Success }.into();
        }
    };
    let witness_quorum = cli.witness_quorum.unwrap_or(if cli.witnesses.is_empty() { 0 } else { 1 });
    let context = Context {
        node: cli.node,
        token: cli.token,
        json: cli.json,
        policy: Policy {
            witnesses: cli.witnesses,
            witness_quorum,
            trusted_authors: cli.trusted_authors,
        },
    };
    match run(cli.command, &context) {
        Ok(status) => status.into(),
        Err(error) => {
            eprintln!("error: {error:#}");
            commands::exit_status_of(&error).into()
        }
    }
}

fn run(command: Command, context: &Context) -> anyhow::Result<ExitStatus> {
    match command {
        Command::Epcis(epcis_command) => commands::epcis::run(&epcis_command),
        Command::Dl(dl_command) => commands::dl::run(&dl_command, context.json),
        Command::Capture(arguments) => commands::capture::run(&arguments, context),
        Command::Events(arguments) => commands::events::run(&arguments, context),
        Command::Trace(trace_command) => commands::trace::run(&trace_command, context),
        Command::Recall(recall_command) => commands::recall::run(&recall_command, context),
        Command::Inspect(arguments) => commands::inspect::run_inspect(&arguments, context),
        Command::Supervision => commands::inspect::run_supervision(context),
        Command::Export(export_command) => commands::export::run(&export_command, context),
        Command::Proof(arguments) => commands::proof::run_proof(&arguments, context),
        Command::Verify(arguments) => commands::proof::run_verify(&arguments, context),
        Command::Demo(arguments) => commands::demo::run(&arguments, context),
        Command::Coldchain(command) => commands::coldchain::run(&command, context),
        Command::Custody(arguments) => commands::custody::run_custody(&arguments, context),
        Command::Completions { shell } => {
            let mut command = Cli::command();
            let mut stdout = std::io::stdout();
            if stdout.is_terminal() {
                eprintln!("# redirect this into your shell's completion directory");
            }
            clap_complete::generate(shell, &mut command, "lotline", &mut stdout);
            Ok(ExitStatus::Success)
        }
    }
}
