//! The HTTP API against its own OpenAPI document: a real node with captured events, and a
//! property-based contract run over every documented operation (the `st` command line of the
//! `schemathesis` package, which CI installs). No answer may be a `5xx`, and every answer's
//! status, content type, headers and body must be what the document says.
//!
//! Owns: the contract run's bounds (examples per operation, a deadline) and the checks it
//! leaves out, each with its reason. Does not own the document (`lotline_node::http`'s
//! `openapi`) nor what any route answers.

use std::process::Stdio;
use std::time::Duration;

use lotline_client::http::Transport;
use lotline_ledger::epcis;
use lotline_ledger::trace::synthetic::{ChainConfig, generate};
use lotline_tests::cluster::Cluster;
use lotline_tests::fixtures::document_of;

/// The contract runner's command.
const RUNNER: &str = "st";
/// Generated requests per operation and phase: enough to reach every documented status, few
/// enough that the run stays short on a small machine.
const MAX_EXAMPLES: &str = "50";
/// A fixed seed, so a failure reproduces.
const SEED: &str = "20261207";
/// The whole run's deadline; past it the runner is stopped and the test fails.
const RUN_DEADLINE: Duration = Duration::from_secs(600);
/// Events captured before the run, so queries, traces and proofs answer with data.
const EVENTS: usize = 40;

/// Checks left out, each because it cannot hold by design:
/// - `positive_data_acceptance`: a request can match the document and still be refused by a
///   rule no schema states (an identifier's check digit, a record's lot that is not a GS1 key,
///   a hazard naming no recorded lot, an organisation whose role may not write that kind);
///   the node must refuse those, with a `4xx` the document lists.
const EXCLUDED_CHECKS: &str = "positive_data_acceptance";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_answers_as_the_openapi_document_says() {
    let runner_version = std::process::Command::new(RUNNER).arg("--version").output();
    assert!(
        runner_version.as_ref().is_ok_and(|output| output.status.success()),
        "the contract test needs the `{RUNNER}` command: pip install schemathesis \
         (.ci/run installs the pinned version)"
    );

    let cluster = Cluster::start(1).await.unwrap();
    let url = cluster.url(0);
    let token = cluster.token(0).to_owned();
    let (_, entries) = generate(ChainConfig::small(3));
    let events: Vec<&epcis::Event> =
        entries.iter().take(EVENTS).map(|entry| &entry.event).collect();
    let document = document_of(&events).unwrap();
    let transport = Transport::new(&url, Some(token.clone())).unwrap();
    let (job, health) = tokio::task::spawn_blocking(move || {
        let job = transport.post("/capture", "application/ld+json", &document);
        (job, transport.get("/health", &[]))
    })
    .await
    .unwrap();
    job.expect("capture accepted");
    let health: serde_json::Value =
        serde_json::from_slice(&health.expect("health answered").body).unwrap();

    // The node's own feed, so the feed operations answer with its entries rather than only `404`.
    // (Event ids are not given: an Event Hash ID holds `/` and `?`, which the runner would put
    // into the path as they are.)
    let workspace = tempfile::tempdir().unwrap();
    let settings = workspace.path().join("schemathesis.toml");
    std::fs::write(
        &settings,
        format!("[parameters]\n\"path.author\" = {}\n", health["organisation"]),
    )
    .unwrap();
    let mut runner = tokio::process::Command::new(RUNNER);
    runner
        .arg("--config-file")
        .arg(&settings)
        .arg("run")
        .arg(format!("{url}/openapi.json"))
        .args(["--checks", "all", "--exclude-checks", EXCLUDED_CHECKS])
        // An event stream never ends: the runner would wait for its body until the request
        // timeout. Its framing and resumption are tested in `notifications.rs`.
        .args(["--exclude-path", "/events/stream"])
        .args(["--max-examples", MAX_EXAMPLES, "--seed", SEED])
        .args(["--workers", "2", "--request-timeout", "30"])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        // The runner keeps its example database in its working directory.
        .current_dir(workspace.path())
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let mut child = runner.spawn().expect("the contract runner starts");
    let status = match tokio::time::timeout(RUN_DEADLINE, child.wait()).await {
        Ok(status) => status.expect("the contract runner ran"),
        Err(_) => {
            child.kill().await.ok();
            panic!("the contract run did not finish within {RUN_DEADLINE:?}");
        }
    };
    assert!(
        status.success(),
        "the API breaks its OpenAPI document (the runner's report is above): {status}"
    );
    cluster.shutdown().await;
}
