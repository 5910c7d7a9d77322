//! The offline `lotline` commands (`epcis check|hash|convert`, `dl parse|from-urn`) run as a
//! built binary against the third-party vectors in `shared/testdata`, read in place.
//!
//! Owns the command-line contract of those commands: exact stdout, exit codes, one-line errors.
//! Does not re-test the ledger's rules one by one; it checks the CLI passes them through.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const LOTLINE: &str = env!("CARGO_BIN_EXE_lotline");

fn testdata(relative: &str) -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/testdata")).join(relative)
}

fn lotline(arguments: &[&str]) -> Output {
    Command::new(LOTLINE)
        .args(arguments)
        .env_remove("LOTLINE_NODE")
        .env_remove("LOTLINE_TOKEN")
        .output()
        .expect("the lotline binary runs")
}

fn stdout_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Every file under `directory` (recursively) whose name ends in one of `extensions`.
fn files_under(directory: &Path, extensions: &[&str]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![directory.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).expect("test data directory is readable") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if extensions.iter().any(|extension| {
                path.file_name()
                    .and_then(|name| name.to_str())
                    .is_some_and(|name| name.ends_with(extension))
            }) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Each `.hashes` file paired with the documents (`.jsonld`, `.xml`) it gives the ids of.
fn hash_vectors() -> Vec<(PathBuf, String)> {
    let mut vectors = Vec::new();
    for hashes_path in files_under(&testdata("epcis-event-hash"), &[".hashes"]) {
        let expected = std::fs::read_to_string(&hashes_path).expect("hashes file is readable");
        for extension in ["jsonld", "xml"] {
            let document_path = hashes_path.with_extension(extension);
            if document_path.exists() {
                vectors.push((document_path, expected.clone()));
            }
        }
    }
    vectors
}

#[test]
fn epcis_hash_prints_the_reference_ids_in_document_order() {
    let vectors = hash_vectors();
    assert!(vectors.len() >= 30, "expected the reference vectors, found {}", vectors.len());
    let mut mismatches = Vec::new();
    for (document_path, expected) in &vectors {
        let output = lotline(&["epcis", "hash", document_path.to_str().unwrap()]);
        let expected_lines: Vec<&str> = expected.lines().filter(|line| !line.is_empty()).collect();
        let printed = stdout_of(&output);
        let printed_lines: Vec<&str> = printed.lines().collect();
        if !output.status.success() || printed_lines != expected_lines {
            mismatches.push(format!("{}: {}", document_path.display(), stderr_of(&output)));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} differ:\n{}",
        mismatches.len(),
        vectors.len(),
        mismatches.join("\n")
    );
}

#[test]
fn epcis_check_accepts_valid_capture_documents_and_counts_events() {
    let documents: Vec<PathBuf> = ["epcis-openepcis/2.0/EPCIS/JSON/Capture/Documents"]
        .iter()
        .flat_map(|directory| files_under(&testdata(directory), &[".json", ".jsonld"]))
        .collect();
    assert!(!documents.is_empty());
    for document_path in documents {
        let output = lotline(&["epcis", "check", document_path.to_str().unwrap()]);
        assert!(output.status.success(), "{}: {}", document_path.display(), stderr_of(&output));
        let printed = stdout_of(&output);
        let count_text = printed
            .trim()
            .strip_prefix("ok: ")
            .and_then(|rest| rest.strip_suffix(" events"))
            .unwrap_or_else(|| panic!("unexpected output {printed:?}"));
        let document: Value =
            serde_json::from_slice(&std::fs::read(&document_path).unwrap()).unwrap();
        let event_count = document["epcisBody"]["eventList"].as_array().map_or(0, Vec::len);
        assert_eq!(
            count_text.parse::<usize>().unwrap(),
            event_count,
            "{}",
            document_path.display()
        );
    }
}

#[test]
fn epcis_check_rejects_invalid_documents_with_one_line_naming_the_place() {
    let invalid_documents: Vec<PathBuf> = [
        "epcis-openepcis/2.0/EPCIS/JSON/Capture/Invalid",
        "epcis-openepcis/2.0/EPCIS/XML/Capture/Invalid",
    ]
    .iter()
    .flat_map(|directory| files_under(&testdata(directory), &[".json", ".jsonld", ".xml"]))
    .collect();
    assert!(invalid_documents.len() >= 10);
    for document_path in invalid_documents {
        let output = lotline(&["epcis", "check", document_path.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(3), "{}", document_path.display());
        assert!(stdout_of(&output).is_empty());
        let message = stderr_of(&output);
        assert_eq!(message.lines().count(), 1, "{message}");
        assert!(
            message.starts_with("error: event ") || message.starts_with("error: document"),
            "{}: {message}",
            document_path.display()
        );
    }
}

#[test]
fn epcis_check_names_the_event_index_and_type() {
    let output = lotline(&[
        "epcis",
        "check",
        testdata(
            "epcis-openepcis/2.0/EPCIS/XML/Capture/Invalid/ObjectEvent_with_invalid_action.xml",
        )
        .to_str()
        .unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(3));
    assert!(
        stderr_of(&output).starts_with("error: event 0 (ObjectEvent): field action"),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn epcis_convert_keeps_every_event_hash_across_bindings() {
    let scratch = tempfile::tempdir().unwrap();
    for (document_path, expected) in hash_vectors().into_iter().take(40) {
        if lotline(&["epcis", "check", document_path.to_str().unwrap()]).status.code() != Some(0) {
            continue;
        }
        for (binding, extension) in [("xml", "xml"), ("jsonld", "jsonld")] {
            let output =
                lotline(&["epcis", "convert", document_path.to_str().unwrap(), "--to", binding]);
            assert!(output.status.success(), "{}: {}", document_path.display(), stderr_of(&output));
            let converted_path = scratch.path().join(format!("converted.{extension}"));
            std::fs::write(&converted_path, &output.stdout).unwrap();
            let rehashed = lotline(&["epcis", "hash", converted_path.to_str().unwrap()]);
            let rehashed_lines: Vec<String> =
                stdout_of(&rehashed).lines().map(str::to_owned).collect();
            let expected_lines: Vec<String> =
                expected.lines().filter(|line| !line.is_empty()).map(str::to_owned).collect();
            assert_eq!(rehashed_lines, expected_lines, "{} via {binding}", document_path.display());
        }
    }
}

#[test]
fn a_missing_file_is_one_line_and_exit_status_three() {
    let output = lotline(&["epcis", "check", "/nonexistent/lotline-test.jsonld"]);
    assert_eq!(output.status.code(), Some(3));
    let message = stderr_of(&output);
    assert_eq!(message.lines().count(), 1);
    assert!(message.contains("cannot read /nonexistent/lotline-test.jsonld"), "{message}");
}

#[test]
fn dl_parse_follows_the_strict_syntax_engine_vectors() {
    let vectors: Vec<Value> = serde_json::from_slice(
        &std::fs::read(testdata("digitallink/dl-parse-vectors.gs1-syntax-engine.json")).unwrap(),
    )
    .unwrap();
    let strict_vectors: Vec<&Value> = vectors
        .iter()
        .filter(|vector| vector["flags"].as_object().is_none_or(|flags| flags.is_empty()))
        .filter(|vector| !vector["uri"].as_str().unwrap_or_default().is_empty())
        .collect();
    assert!(strict_vectors.len() >= 60);
    for vector in strict_vectors {
        let uri = vector["uri"].as_str().unwrap();
        let output = lotline(&["dl", "parse", uri, "--json"]);
        if vector["should_succeed"].as_bool() == Some(true) {
            assert!(output.status.success(), "{uri}: {}", stderr_of(&output));
            let parsed: Value = serde_json::from_slice(&output.stdout).unwrap();
            assert_eq!(parsed["element_string"], vector["expected_ai_element_string"], "{uri}");
            assert!(parsed["ai"].is_object());
        } else {
            assert_eq!(output.status.code(), Some(3), "{uri} should fail");
            assert_eq!(stderr_of(&output).lines().count(), 1, "{uri}");
        }
    }
}

#[test]
fn dl_parse_without_json_prints_a_table_of_ais() {
    let output =
        lotline(&["dl", "parse", "https://example.com/01/09506000134352/10/ABC?17=261231"]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let printed = stdout_of(&output);
    assert!(printed.contains("element string: ^0109506000134352"), "{printed}");
    assert!(
        printed.lines().any(|line| line.starts_with("10 ") && line.contains("ABC")),
        "{printed}"
    );
    assert!(printed.contains("data attribute"), "{printed}");
}

#[test]
fn dl_from_urn_matches_the_canonicalisation_table() {
    let pairs: Vec<Value> = serde_json::from_slice(
        &std::fs::read(testdata("digitallink/epc-urn-and-dl-to-canonical-dl.hashgen-v1.9.3.json"))
            .unwrap(),
    )
    .unwrap();
    let urn_pairs: Vec<&Value> = pairs
        .iter()
        .filter(|pair| pair["input"].as_str().unwrap().starts_with("urn:epc:"))
        .collect();
    assert!(urn_pairs.len() >= 150);
    for pair in urn_pairs {
        let urn = pair["input"].as_str().unwrap();
        let output = lotline(&["dl", "from-urn", urn]);
        assert!(output.status.success(), "{urn}: {}", stderr_of(&output));
        assert_eq!(stdout_of(&output).trim_end(), pair["canonical_dl"].as_str().unwrap(), "{urn}");
    }
}

#[test]
fn dl_from_urn_refuses_what_is_not_an_epc_urn() {
    for not_an_urn in ["https://id.gs1.org/01/09506000134352", "urn:epc:id:sgtin:nonsense"] {
        let output = lotline(&["dl", "from-urn", not_an_urn]);
        assert_eq!(output.status.code(), Some(3), "{not_an_urn}");
        assert!(stderr_of(&output).starts_with("error: "), "{not_an_urn}");
    }
}

#[test]
fn completions_are_generated_for_bash() {
    let output = lotline(&["completions", "bash"]);
    assert!(output.status.success());
    assert!(stdout_of(&output).contains("lotline"));
}

const TEMPLATE_CSV: &str = "\
event,step,time,gtin,lot,quantity,uom,role,location,from,to,document_type,document_number
,harvesting,2026-03-01T07:00:00+01:00,09506000134352,FIELD7,500,KGM,,9506000134352,,,,
ship-9,shipping,2026-03-03T16:30:00+01:00,9506000134376,PACK42,60,EA,,9506000134352,9506000134352,4012345000115,bol,BOL-1
ship-9,shipping,2026-03-03T16:30:00+01:00,9506000134376,PACK43,30,EA,,9506000134352,9506000134352,4012345000115,bol,BOL-1
";

#[test]
fn capture_dry_run_turns_the_csv_template_into_a_valid_document() {
    let scratch = tempfile::tempdir().unwrap();
    let csv_path = scratch.path().join("week.csv");
    std::fs::write(&csv_path, TEMPLATE_CSV).unwrap();
    let output = lotline(&["capture", csv_path.to_str().unwrap(), "--dry-run"]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(stdout_of(&output).trim(), "ok: 2 events (nothing sent)");

    let output = lotline(&["capture", csv_path.to_str().unwrap(), "--dry-run", "--json"]);
    let document_path = scratch.path().join("week.jsonld");
    std::fs::write(&document_path, &output.stdout).unwrap();
    let checked = lotline(&["epcis", "check", document_path.to_str().unwrap()]);
    assert_eq!(stdout_of(&checked).trim(), "ok: 2 events", "{}", stderr_of(&checked));
}

#[test]
fn capture_of_a_bad_csv_lists_every_bad_line_and_sends_nothing() {
    let scratch = tempfile::tempdir().unwrap();
    let csv_path = scratch.path().join("bad.csv");
    let bad_csv = TEMPLATE_CSV
        .replace("09506000134352,FIELD7", "09506000134353,FIELD7")
        .replace("2026-03-03T16:30:00+01:00,9506000134376,PACK43", "tomorrow,9506000134376,PACK43");
    std::fs::write(&csv_path, bad_csv).unwrap();
    // A node address that cannot answer: the file must fail before any request is made.
    let output = lotline(&["capture", csv_path.to_str().unwrap(), "--node", "http://127.0.0.1:9"]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr_of(&output));
    let message = stderr_of(&output);
    assert!(message.contains("bad.csv:line 2: gtin: "), "{message}");
    assert!(message.contains("bad.csv:line 4: time: "), "{message}");
    assert!(message.lines().last().unwrap().contains("nothing was sent"), "{message}");
}

#[test]
fn network_commands_without_a_node_say_how_to_name_one() {
    let output = lotline(&["trace", "back", "09506000134352/LOT42"]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr_of(&output));
    assert_eq!(stderr_of(&output).lines().count(), 1);
    assert!(stderr_of(&output).contains("--node"), "{}", stderr_of(&output));
}

#[test]
fn a_wrong_identifier_is_refused_before_any_request() {
    for bad_identifier in ["09506000134353/LOT42", "09506000134352", "not-a-lot"] {
        let output = lotline(&["trace", "forward", bad_identifier, "--node", "http://127.0.0.1:9"]);
        assert_eq!(output.status.code(), Some(3), "{bad_identifier}: {}", stderr_of(&output));
        let message = stderr_of(&output);
        assert_eq!(message.lines().count(), 1, "{message}");
        assert!(message.contains("GTIN/LOT"), "{message}");
    }
}

#[test]
fn an_unreachable_node_is_exit_status_four_with_one_line() {
    let output =
        lotline(&["trace", "back", "09506000134352/LOT42", "--node", "http://127.0.0.1:9"]);
    assert_eq!(output.status.code(), Some(4), "{}", stderr_of(&output));
    let message = stderr_of(&output);
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(message.contains("cannot reach the node at http://127.0.0.1:9"), "{message}");
    let output = lotline(&["events", "--node", "ftp://example.com"]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr_of(&output));
}

#[test]
fn writes_without_a_token_say_how_to_give_one() {
    let output = lotline(&[
        "inspect",
        "--lot",
        "09506000134352/LOT42",
        "--standard",
        "EU 2073/2005",
        "--method",
        "ISO 11290-1",
        "--result",
        "fail",
        "--node",
        "http://127.0.0.1:9",
    ]);
    assert_eq!(output.status.code(), Some(5), "{}", stderr_of(&output));
    assert!(stderr_of(&output).contains("LOTLINE_TOKEN"), "{}", stderr_of(&output));
}

mod offline_verify {
    use lotline_ledger::checkpoint::{Checkpoint, SignedCheckpoint};
    use lotline_ledger::feed::FeedWriter;
    use lotline_ledger::identity::Keypair;
    use lotline_ledger::merkle::Tree;
    use lotline_ledger::proof::ProofBundle;
    use lotline_ledger::records::{EpcisCapture, EventFormat, Payload};

    use super::*;

    /// A bundle proving one signed EPCIS entry, as `lotline proof` would save it.
    fn bundle_file_text() -> (String, String, String) {
        let keypair = Keypair::from_seed([21; 32]);
        let event_json = serde_json::json!({
            "type": "ObjectEvent",
            "eventTime": "2026-03-01T08:00:00Z",
            "eventTimeZoneOffset": "+00:00",
            "epcList": [],
            "action": "ADD",
            "bizStep": "commissioning",
            "quantityList": [{"epcClass": "https://id.gs1.org/01/09506000134352/10/LOT42"}],
        });
        let event = lotline_ledger::epcis::parse_event_json(&event_json, &[]).unwrap();
        let event_id = lotline_ledger::epcis::event_hash_id(&event);
        let payload = Payload::Epcis(EpcisCapture {
            event_id: event_id.clone(),
            format: EventFormat::JsonLd,
            original: serde_json::to_vec(&event_json).unwrap(),
        });
        let mut writer = FeedWriter::new(Keypair::from_seed([21; 32]), None);
        let entry = writer.next_entry_with_seed(1_700_000_000_000, &payload, &[5; 32]).unwrap();
        let mut tree = Tree::new();
        tree.push_leaf(entry.leaf_bytes());
        let checkpoint = Checkpoint::for_feed(&keypair.public_key(), tree.size(), tree.root());
        let signed_checkpoint = SignedCheckpoint::sign(checkpoint, &keypair).unwrap();
        let bundle = ProofBundle::build(&signed_checkpoint, &tree, &[entry]).unwrap();
        (bundle.to_json(), event_id, keypair.public_key().to_hex())
    }

    #[test]
    fn verify_accepts_a_genuine_bundle_and_rejects_a_tampered_one() {
        let scratch = tempfile::tempdir().unwrap();
        let (bundle_text, event_id, author_hex) = bundle_file_text();
        let bundle_path = scratch.path().join("proof.json");
        std::fs::write(&bundle_path, &bundle_text).unwrap();

        let output = lotline(&["verify", bundle_path.to_str().unwrap(), "--json"]);
        assert!(output.status.success(), "{}", stderr_of(&output));
        let report: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(report["verified"], true);
        assert_eq!(report["events"], serde_json::json!([event_id]));
        assert_eq!(report["feeds"][0]["author"], author_hex.as_str());

        let pinned =
            lotline(&["verify", bundle_path.to_str().unwrap(), "--trust-author", &author_hex]);
        assert!(pinned.status.success(), "{}", stderr_of(&pinned));
        let stranger = Keypair::from_seed([22; 32]).public_key().to_hex();
        let untrusted =
            lotline(&["verify", bundle_path.to_str().unwrap(), "--trust-author", &stranger]);
        assert_eq!(untrusted.status.code(), Some(7), "{}", stderr_of(&untrusted));

        let mut bundle: Value = serde_json::from_str(&bundle_text).unwrap();
        let entry_text = bundle["entries"][0]["entry"].as_str().unwrap().to_owned();
        let middle = entry_text.len() / 2;
        let flipped = if &entry_text[middle..=middle] == "A" { "B" } else { "A" };
        bundle["entries"][0]["entry"] = Value::String(format!(
            "{}{flipped}{}",
            &entry_text[..middle],
            &entry_text[middle + 1..]
        ));
        let tampered_path = scratch.path().join("tampered.json");
        std::fs::write(&tampered_path, serde_json::to_string(&bundle).unwrap()).unwrap();
        let output = lotline(&["verify", tampered_path.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(7), "{}", stderr_of(&output));
        assert!(
            stderr_of(&output).starts_with("error: verification failed: "),
            "{}",
            stderr_of(&output)
        );
    }

    #[test]
    fn verify_of_a_file_that_is_no_bundle_is_one_line() {
        let scratch = tempfile::tempdir().unwrap();
        let path = scratch.path().join("notes.txt");
        std::fs::write(&path, "hello").unwrap();
        let output = lotline(&["verify", path.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(3), "{}", stderr_of(&output));
        assert!(
            stderr_of(&output).contains("is not a proof bundle file"),
            "{}",
            stderr_of(&output)
        );
        assert_eq!(stderr_of(&output).lines().count(), 1);
    }
}

#[test]
fn coldchain_check_judges_a_logger_export_and_names_every_bad_line() {
    let directory = tempfile::tempdir().unwrap();
    // A US logger export in °F: 36–38 °F, then an hour at 45 °F (7.2 °C) in the middle.
    let mut export = String::from(
        "Device S/N: 88231907\nTime Zone: America/Chicago\nLogging Interval: 00:10:00\nDate,Time,Temperature (°F)\n",
    );
    for step in 0..24 {
        let minutes = step * 10;
        let fahrenheit = if (8..14).contains(&step) { 45.0 } else { 37.0 };
        let hour = 8 + minutes / 60;
        let (clock, meridiem) = if hour >= 12 { (hour - 12, "PM") } else { (hour, "AM") };
        let clock = if clock == 0 { 12 } else { clock };
        export.push_str(&format!(
            "06/11/2026,{clock:02}:{:02} {meridiem},{fahrenheit}\n",
            minutes % 60
        ));
    }
    let good = directory.path().join("truck.csv");
    std::fs::write(&good, &export).unwrap();
    let output =
        lotline(&["--json", "coldchain", "check", good.to_str().unwrap(), "--profile", "chilled"]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let verdict: serde_json::Value = serde_json::from_str(&stdout_of(&output)).unwrap();
    let device = &verdict["devices"][0];
    assert_eq!(device["device"], "88231907");
    assert_eq!(device["readings"], 24);
    assert_eq!(device["excursions"].as_array().unwrap().len(), 1, "{device}");
    assert_eq!(device["excursions"][0]["durationMs"], 60 * 60_000);
    assert!(
        device["meanKineticCelsius"].is_null() || device["mean_kinetic_celsius"].as_f64().is_some()
    );

    // Bad lines are named by number and nothing is judged.
    let bad = directory.path().join("bad.csv");
    std::fs::write(
        &bad,
        "device,time,value,unit\nTRK-1,2026-06-11T08:00:00Z,4.0,CEL\nTRK-1,yesterday,4.0,CEL\nTRK-1,2026-06-11T08:10:00Z,-300,CEL\n",
    )
    .unwrap();
    let output = lotline(&["coldchain", "check", bad.to_str().unwrap(), "--profile", "chilled"]);
    assert_eq!(output.status.code(), Some(3), "{}", stderr_of(&output));
    let stderr = stderr_of(&output);
    assert!(stderr.contains("line 3"), "{stderr}");
    assert!(stderr.contains("line 4"), "{stderr}");
}
