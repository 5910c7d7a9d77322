//! The `lotline` binary against real running nodes: every online command run as a subprocess
//! (`--node`/`--token`, once through `LOTLINE_NODE`/`LOTLINE_TOKEN`) against a
//! `lotline_tests::cluster::Cluster`, asserting on `--json` output, files written and exit
//! codes.
//!
//! Owns the end-to-end contract of the online commands: capture (JSON-LD, XML and the CSV
//! template), events, trace, recall, inspect, supervision, exports, proof and verify, the
//! witness policy, a lying node caught (exit 7), and the one-line errors of bad input. Does not re-test the verification rules one by one (the
//! library tests and `tests/tests/client.rs` do) nor the ledger's rules.
//!
//! Each test starts one cluster and walks a whole workflow, so the cost of starting nodes is
//! paid twice in total. Nothing sleeps: replication is awaited with `wait_for` and a deadline.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use lotline_ledger::epcis;
use lotline_tests::cluster::{Cluster, DEFAULT_DEADLINE, wait_for};
use lotline_tests::fixtures::{tamper_with_evidence, tampering_proxy};
use serde_json::{Value, json};

const LOTLINE: &str = env!("CARGO_BIN_EXE_lotline");

/// The raw lot harvested by the producer.
const FIELD_GTIN: &str = "09506000134352";
/// The packed lot made from it and shipped to two consignees.
const PACK_GTIN: &str = "09506000134376";
const FIELD_LOT: &str = "https://id.gs1.org/01/09506000134352/10/FIELD7";
const PACK_LOT: &str = "https://id.gs1.org/01/09506000134376/10/PACK42";

/// What one `lotline` run did.
#[derive(Debug)]
struct Run {
    /// The exit code (-1 when killed by a signal).
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Stdout as JSON; fails the test with both streams when it is not.
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|error| panic!("stdout is not JSON ({error}): {self:?}"))
    }

    /// Asserts the exit code, showing both streams when it differs.
    fn expect_code(&self, expected: i32, what: &str) -> &Self {
        assert_eq!(self.code, expected, "{what}: {self:?}");
        assert!(!self.stderr.contains("panicked"), "{what} panicked: {}", self.stderr);
        self
    }

    /// Asserts a failure reported as exactly one line on stderr, without a stack trace.
    fn expect_one_line_error(&self, expected: i32, what: &str) -> &Self {
        self.expect_code(expected, what);
        let lines: Vec<&str> = self.stderr.lines().filter(|line| !line.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{what}: stderr should be one line: {self:?}");
        assert!(lines[0].starts_with("error: "), "{what}: {self:?}");
        assert!(!self.stderr.contains("stack backtrace"), "{what}: {self:?}");
        self
    }
}

/// Runs the binary with `arguments`, with `LOTLINE_*` cleared and then `environment` set.
async fn lotline_in(environment: &[(&str, &str)], arguments: &[&str]) -> Run {
    let mut command = tokio::process::Command::new(LOTLINE);
    command.args(arguments);
    for variable in
        ["LOTLINE_NODE", "LOTLINE_TOKEN", "LOTLINE_WITNESSES", "LOTLINE_TRUSTED_AUTHORS"]
    {
        command.env_remove(variable);
    }
    command.env_remove("LOTLINE_WITNESS_QUORUM");
    for (name, value) in environment {
        command.env(name, value);
    }
    let output = command.output().await.expect("the lotline binary runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs the binary with no node configured (offline commands, unreachable addresses).
async fn lotline(arguments: &[&str]) -> Run {
    lotline_in(&[], arguments).await
}

/// One node as the CLI sees it: its URL and token, passed as `--node` and `--token`.
#[derive(Debug, Clone)]
struct NodeAccess {
    url: String,
    token: String,
}

impl NodeAccess {
    fn of(cluster: &Cluster, index: usize) -> Self {
        Self { url: cluster.url(index), token: cluster.token(index).to_owned() }
    }

    /// Runs `lotline --node URL --token TOKEN arguments…`.
    async fn run(&self, arguments: &[&str]) -> Run {
        let mut all_arguments = vec!["--node", self.url.as_str(), "--token", self.token.as_str()];
        all_arguments.extend_from_slice(arguments);
        lotline(&all_arguments).await
    }
}

/// The roster entry (`name`, `gln`) of node `index`'s organisation.
fn member_of(cluster: &Cluster, index: usize) -> (String, String) {
    let organisation = cluster.node(index).state.organisation_hex();
    let roster = serde_json::to_value(cluster.node(index).state.roster()).expect("a roster");
    let member = roster["members"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|member| member["public_key"] == organisation.as_str())
        .expect("every node's organisation is in the roster");
    (
        member["name"].as_str().unwrap_or_default().to_owned(),
        member["gln"].as_str().unwrap_or_default().to_owned(),
    )
}

/// Waits until node `reader` holds a checkpoint of node `author`'s whole feed (as long as it
/// is now), so answers relying on that feed verify there.
async fn wait_replicated(cluster: &Cluster, author: usize, reader: usize) {
    let author_key = cluster.node(author).state.organisation();
    let size = cluster.node(author).state.feed_size(author_key.as_bytes());
    let what = format!("node {reader} to hold a checkpoint of node {author}'s {size} entries");
    wait_for(&what, DEFAULT_DEADLINE, || async {
        let note = cluster.node(reader).state.checkpoint_note_for(&author_key)?;
        let checkpoint_size: u64 = note.lines().nth(1)?.parse().ok()?;
        (checkpoint_size >= size).then_some(())
    })
    .await
    .unwrap();
}

fn location(gln: &str) -> String {
    format!("https://id.gs1.org/414/{gln}")
}

/// The producer's own document: the harvest of FIELD7 and its packing into PACK42.
fn producer_document(producer_gln: &str) -> Value {
    let place = json!({"id": location(producer_gln)});
    json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-03-02T10:00:00Z",
        "epcisBody": {"eventList": [
            {
                "type": "ObjectEvent", "eventTime": "2026-03-01T07:00:00+01:00",
                "eventTimeZoneOffset": "+01:00", "epcList": [], "action": "ADD",
                "bizStep": "commissioning", "disposition": "active",
                "readPoint": place, "bizLocation": place,
                "quantityList": [{"epcClass": FIELD_LOT, "quantity": 500, "uom": "KGM"}]
            },
            {
                "type": "TransformationEvent", "eventTime": "2026-03-02T09:00:00+01:00",
                "eventTimeZoneOffset": "+01:00", "bizStep": "commissioning", "disposition": "active",
                "readPoint": place, "bizLocation": place,
                "inputQuantityList": [{"epcClass": FIELD_LOT, "quantity": 480, "uom": "KGM"}],
                "outputQuantityList": [{"epcClass": PACK_LOT, "quantity": 96, "uom": "EA"}]
            }
        ]}
    })
}

/// The producer's shipments of PACK42 in the CSV template (docs/csv-template.md): 60 to the
/// first consignee, 36 to the second. With `bad_line`, line 3 has a wrong GTIN check digit.
fn shipments_csv(producer_gln: &str, first_gln: &str, second_gln: &str, bad_line: bool) -> String {
    let second_gtin = if bad_line { "09506000134377" } else { PACK_GTIN };
    format!(
        "event,step,time,gtin,lot,quantity,uom,role,location,from,to,document_type,document_number\n\
         ship-9,shipping,2026-03-03T16:30:00+01:00,{PACK_GTIN},PACK42,60,EA,,{producer_gln},{producer_gln},{first_gln},bol,BOL-1\n\
         ship-10,shipping,2026-03-03T17:00:00+01:00,{second_gtin},PACK42,36,EA,,{producer_gln},{producer_gln},{second_gln},bol,BOL-2\n"
    )
}

/// The first consignee's receipt of its 60 packs.
fn receiving_document(producer_gln: &str, consignee_gln: &str) -> Value {
    let place = json!({"id": location(consignee_gln)});
    json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-03-04T09:00:00Z",
        "epcisBody": {"eventList": [{
            "type": "ObjectEvent", "eventTime": "2026-03-04T08:00:00Z",
            "eventTimeZoneOffset": "+00:00", "epcList": [], "action": "OBSERVE",
            "bizStep": "receiving", "disposition": "in_progress",
            "readPoint": place, "bizLocation": place,
            "quantityList": [{"epcClass": PACK_LOT, "quantity": 60, "uom": "EA"}],
            "sourceList": [{"type": "location", "source": location(producer_gln)}],
            "destinationList": [{"type": "location", "destination": location(consignee_gln)}]
        }]}
    })
}

fn write_file(directory: &Path, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let path = directory.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

fn text_of(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

/// The strings of a JSON list.
fn strings(value: &Value) -> Vec<String> {
    value.as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect()
}

/// Whether `lot` is the canonical `https://id.gs1.org/01/<gtin14>/10/<lot>` form.
fn is_canonical_lot(lot: &str) -> bool {
    let Some(rest) = lot.strip_prefix("https://id.gs1.org/01/") else { return false };
    let Some((gtin, lot_number)) = rest.split_once("/10/") else { return false };
    gtin.len() == 14 && gtin.bytes().all(|byte| byte.is_ascii_digit()) && !lot_number.is_empty()
}

/// The `trace --json` contract: the four fields with their types, lots canonical.
fn assert_trace_contract(answer: &Value, what: &str) {
    for field in ["lots", "consignees", "events"] {
        assert!(answer[field].is_array(), "{what}: {field} is a list: {answer}");
    }
    assert_eq!(answer["verified"], json!(true), "{what}: {answer}");
    for lot in strings(&answer["lots"]) {
        assert!(is_canonical_lot(&lot), "{what}: {lot} is not canonical");
    }
    for consignee in answer["consignees"].as_array().into_iter().flatten() {
        for field in ["party", "location", "uom"] {
            assert!(
                consignee.get(field).is_none_or(Value::is_string),
                "{what}: consignee {field}: {consignee}"
            );
        }
        assert!(consignee.get("quantity").is_none_or(Value::is_number), "{what}: {consignee}");
    }
}

/// The consignee of a trace or recall answer at `gln`, if any.
fn consignee_at<'answer>(answer: &'answer Value, key: &str, gln: &str) -> Option<&'answer Value> {
    answer[key].as_array().into_iter().flatten().find(|consignee| {
        ["location", "party"]
            .iter()
            .any(|field| consignee[*field].as_str().is_some_and(|text| text.contains(gln)))
    })
}

/// A producer, a logistics firm, a retailer, a regulator, a processor and a lab: capture
/// (JSON-LD, CSV with a bad line, environment variables), events, traces, a recall through to
/// its acknowledgement, inspections and the regulator's supervision list.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_supply_chain_is_captured_traced_recalled_and_supervised_through_the_cli() {
    const PRODUCER: usize = 0;
    const RETAILER: usize = 2;
    const REGULATOR: usize = 3;
    const PROCESSOR: usize = 4;
    const LAB: usize = 5;
    let cluster = Cluster::start(6).await.unwrap();
    let directory = tempfile::tempdir().unwrap();
    let (_, producer_gln) = member_of(&cluster, PRODUCER);
    let (retailer_name, retailer_gln) = member_of(&cluster, RETAILER);
    let (processor_name, processor_gln) = member_of(&cluster, PROCESSOR);
    let (producer_name, _) = member_of(&cluster, PRODUCER);
    let producer = NodeAccess::of(&cluster, PRODUCER);
    let retailer = NodeAccess::of(&cluster, RETAILER);
    let regulator = NodeAccess::of(&cluster, REGULATOR);
    let lab = NodeAccess::of(&cluster, LAB);

    // 1. Capture: a JSON-LD document; the ids printed are the events' hash ids.
    let producer_path = write_file(
        directory.path(),
        "producer.jsonld",
        serde_json::to_vec(&producer_document(&producer_gln)).unwrap(),
    );
    let captured = producer.run(&["capture", text_of(&producer_path), "--json"]).await;
    captured.expect_code(0, "capture JSON-LD");
    let captured = captured.json();
    assert_eq!(captured["success"], json!(true));
    let local_document = epcis::parse_document(&std::fs::read(&producer_path).unwrap()).unwrap();
    let expected_ids: Vec<String> =
        local_document.events.iter().map(epcis::event_hash_id).collect();
    assert_eq!(strings(&captured["eventIDs"]), expected_ids);

    // A CSV file with one bad line: exit 3, the line named, nothing sent.
    let bad_csv = write_file(
        directory.path(),
        "shipments-bad.csv",
        shipments_csv(&producer_gln, &retailer_gln, &processor_gln, true),
    );
    let refused = producer.run(&["capture", text_of(&bad_csv)]).await;
    refused.expect_code(3, "capture of a CSV with a bad line");
    assert!(refused.stderr.contains("line 3"), "the bad line is named: {}", refused.stderr);
    assert!(refused.stderr.contains("gtin"), "the bad column is named: {}", refused.stderr);
    assert!(refused.stderr.contains("nothing was sent"), "{}", refused.stderr);
    let shipments = producer.run(&["events", "--biz-step", "shipping", "--json"]).await;
    shipments.expect_code(0, "events after the refused CSV");
    assert_eq!(shipments.json()["events"], json!([]), "the bad file stored nothing");

    let good_csv = write_file(
        directory.path(),
        "shipments.csv",
        shipments_csv(&producer_gln, &retailer_gln, &processor_gln, false),
    );
    let captured_csv = producer.run(&["capture", text_of(&good_csv), "--json"]).await;
    captured_csv.expect_code(0, "capture CSV");
    let shipment_ids = strings(&captured_csv.json()["eventIDs"]);
    assert_eq!(shipment_ids.len(), 2);

    // The retailer captures its receipt with the node and token from the environment.
    let receiving_path = write_file(
        directory.path(),
        "receiving.jsonld",
        serde_json::to_vec(&receiving_document(&producer_gln, &retailer_gln)).unwrap(),
    );
    let environment =
        [("LOTLINE_NODE", retailer.url.as_str()), ("LOTLINE_TOKEN", retailer.token.as_str())];
    lotline_in(&environment, &["capture", text_of(&receiving_path)])
        .await
        .expect_code(0, "capture through LOTLINE_NODE and LOTLINE_TOKEN");

    wait_replicated(&cluster, PRODUCER, REGULATOR).await;
    wait_replicated(&cluster, RETAILER, REGULATOR).await;

    // Events on another node, with query flags; each event verified.
    let shipped = regulator
        .run(&["events", "--biz-step", "shipping", "--match-any-epc-class", PACK_LOT, "--json"])
        .await;
    shipped.expect_code(0, "events --biz-step shipping");
    let shipped = shipped.json();
    assert_eq!(shipped["verified"], json!(true), "{shipped}");
    let shipped_ids: BTreeSet<String> = shipped["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["eventID"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(shipped_ids, shipment_ids.iter().cloned().collect());
    let transformations =
        regulator.run(&["events", "--event-type", "TransformationEvent", "--json"]).await;
    transformations.expect_code(0, "events --event-type");
    let transformations = transformations.json();
    assert_eq!(transformations["events"].as_array().map(Vec::len), Some(1), "{transformations}");
    assert_eq!(transformations["events"][0]["eventID"].as_str(), Some(expected_ids[1].as_str()));

    // Trace back from the pack (GTIN/LOT form) reaches the field lot and its two events.
    let back = regulator.run(&["trace", "back", &format!("{PACK_GTIN}/PACK42"), "--json"]).await;
    back.expect_code(0, "trace back");
    let back = back.json();
    assert_trace_contract(&back, "trace back");
    let back_lots = strings(&back["lots"]);
    assert!(
        back_lots.contains(&FIELD_LOT.to_owned()) && back_lots.contains(&PACK_LOT.to_owned()),
        "{back}"
    );
    let back_events = strings(&back["events"]);
    for event_id in &expected_ids {
        assert!(back_events.contains(event_id), "trace back relies on {event_id}: {back}");
    }

    // Trace forward from the field lot (EPC URN form) reaches both consignees with quantities.
    let forward = regulator
        .run(&["trace", "forward", "urn:epc:class:lgtin:9506000.013435.FIELD7", "--json"])
        .await;
    forward.expect_code(0, "trace forward");
    let forward = forward.json();
    assert_trace_contract(&forward, "trace forward");
    assert!(strings(&forward["lots"]).contains(&PACK_LOT.to_owned()), "{forward}");
    let to_retailer =
        consignee_at(&forward, "consignees", &retailer_gln).expect("retailer consignee");
    assert_eq!(to_retailer["quantity"], json!(60.0), "{forward}");
    assert_eq!(to_retailer["uom"], json!("EA"));
    let to_processor =
        consignee_at(&forward, "consignees", &processor_gln).expect("processor consignee");
    assert_eq!(to_processor["quantity"], json!(36.0), "{forward}");
    for shipment_id in &shipment_ids {
        assert!(strings(&forward["events"]).contains(shipment_id), "{forward}");
    }

    // 2. Recall: a producer may not issue one; the regulator does.
    let refused_recall = producer
        .run(&["recall", "issue", "--lot", PACK_LOT, "--reason", "Listeria", "--class", "I"])
        .await;
    refused_recall.expect_one_line_error(6, "a producer issuing a recall");
    assert!(refused_recall.stderr.contains("recall"), "{}", refused_recall.stderr);
    assert!(
        !refused_recall.stderr.contains("token"),
        "not a token problem: {}",
        refused_recall.stderr
    );

    let issued = regulator
        .run(&[
            "recall",
            "issue",
            "--lot",
            FIELD_LOT,
            "--reason",
            "Listeria monocytogenes",
            "--class",
            "I",
            "--recall-id",
            "R-1",
            "--json",
        ])
        .await;
    issued.expect_code(0, "recall issue");
    let issued = issued.json();
    assert_eq!(issued["recall_id"], json!("R-1"));
    let notice_entry_hash = issued["entry_hash"].as_str().expect("entry hash").to_owned();
    assert!(strings(&issued["lots"]).contains(&PACK_LOT.to_owned()), "{issued}");

    let status = regulator.run(&["recall", "status", "R-1", "--json"]).await;
    status.expect_code(0, "recall status");
    let status = status.json();
    assert_eq!(status["verified"], json!(true), "{status}");
    assert!(strings(&status["lots"]).contains(&FIELD_LOT.to_owned()), "{status}");
    assert!(strings(&status["lots"]).contains(&PACK_LOT.to_owned()), "{status}");
    assert_eq!(
        consignee_at(&status, "consignees", &retailer_gln).unwrap()["quantity"],
        json!(60.0)
    );
    assert!(consignee_at(&status, "outstanding", &retailer_gln).is_some(), "{status}");
    assert!(consignee_at(&status, "outstanding", &processor_gln).is_some(), "{status}");
    assert_eq!(status["acknowledgements"], json!([]));

    // The retailer acknowledges on its own node once the notice reached it.
    wait_replicated(&cluster, REGULATOR, RETAILER).await;
    let acknowledged = retailer
        .run(&[
            "recall",
            "ack",
            "R-1",
            "--quantity",
            "12",
            "--uom",
            "EA",
            "--action",
            "quarantined",
            "--json",
        ])
        .await;
    acknowledged.expect_code(0, "recall ack");
    let acknowledgement_hash = acknowledged.json()["entry_hash"].as_str().unwrap().to_owned();
    wait_replicated(&cluster, RETAILER, REGULATOR).await;
    let status = regulator.run(&["recall", "status", "R-1", "--json"]).await;
    status.expect_code(0, "recall status after the acknowledgement");
    let status = status.json();
    let acknowledgements = status["acknowledgements"].as_array().unwrap();
    assert_eq!(acknowledgements.len(), 1, "{status}");
    assert_eq!(acknowledgements[0]["entry_hash"], json!(acknowledgement_hash));
    assert_eq!(acknowledgements[0]["name"], json!(retailer_name));
    assert_eq!(acknowledgements[0]["quantity_held"], json!("12 EA"));
    assert!(consignee_at(&status, "outstanding", &retailer_gln).is_none(), "{status}");
    assert!(consignee_at(&status, "outstanding", &processor_gln).is_some(), "{status}");

    // 3. The lab records a pass and a fail; the regulator's supervision list shows the failed
    // inspection and the unacknowledged recall, with evidence.
    let passed = lab
        .run(&[
            "inspect",
            "--lot",
            &format!("{FIELD_GTIN}/FIELD7"),
            "--standard",
            "EU 2073/2005",
            "--method",
            "ISO 11290-1",
            "--value",
            "listeria=absent",
            "--result",
            "pass",
            "--json",
        ])
        .await;
    passed.expect_code(0, "inspect pass");
    let failed = lab
        .run(&[
            "inspect",
            "--lot",
            &format!("{PACK_GTIN}/PACK42"),
            "--standard",
            "EU 2073/2005",
            "--method",
            "ISO 11290-1",
            "--value",
            "listeria=present",
            "--result",
            "fail",
            "--json",
        ])
        .await;
    failed.expect_code(0, "inspect fail");
    let failed_entry_hash = failed.json()["entry_hash"].as_str().unwrap().to_owned();
    wait_replicated(&cluster, LAB, REGULATOR).await;

    // The ledger keeps what the lab measured, typed, and the query the recall's lots were
    // found with; the regulator's node serves both from the replicated entries.
    let transport = lotline_client::http::Transport::new(&cluster.url(REGULATOR), None).unwrap();
    let records_of = |kind: &str| -> Vec<Value> {
        let answer = transport.get("/records", &[("kind".to_owned(), kind.to_owned())]).unwrap();
        serde_json::from_slice::<Value>(&answer.body).unwrap().as_array().cloned().unwrap()
    };
    let inspections = records_of("inspection_result");
    let failed_record = inspections
        .iter()
        .find(|record| record["entry_hash"] == json!(failed_entry_hash))
        .unwrap_or_else(|| panic!("the failed inspection is served: {inspections:?}"));
    assert_eq!(
        failed_record["values"],
        json!([{"name": "listeria", "value": "present", "unit": null}]),
        "{failed_record}"
    );
    let notices = records_of("recall_notice");
    assert!(
        notices
            .iter()
            .any(|notice| notice["scope"]["lots"].as_array().is_some_and(|lots| !lots.is_empty())),
        "the recall notice keeps its scope: {notices:?}"
    );

    // The public view of a lot: a trace lists the lab results of the lots it reached.
    let inspected = regulator.run(&["trace", "back", PACK_LOT, "--json"]).await;
    inspected.expect_code(0, "trace back with inspections");
    let inspected = inspected.json();
    let verdicts: BTreeSet<(String, String)> = inspected["inspections"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|inspection| {
            assert_eq!(inspection["verified"], json!(true), "{inspection}");
            strings(&inspection["lots"])
                .into_iter()
                .map(|lot| (lot, inspection["verdict"].as_str().unwrap_or_default().to_owned()))
        })
        .collect();
    assert_eq!(
        verdicts,
        BTreeSet::from([
            (FIELD_LOT.to_owned(), "pass".to_owned()),
            (PACK_LOT.to_owned(), "fail".to_owned())
        ]),
        "{inspected}"
    );

    let supervision = regulator.run(&["supervision", "--json"]).await;
    supervision.expect_code(0, "supervision");
    let supervision = supervision.json();
    assert_eq!(supervision["verified"], json!(true), "{supervision}");
    let findings_of = |organisation: &str| -> Vec<Value> {
        supervision["organisations"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|item| item["organisation"] == organisation)
            .flat_map(|item| item["findings"].as_array().cloned().unwrap_or_default())
            .collect()
    };
    let producer_findings = findings_of(&producer_name);
    let failed_inspection = producer_findings
        .iter()
        .find(|finding| finding["finding"] == "failed inspection")
        .unwrap_or_else(|| panic!("{producer_name} has the failed inspection: {supervision}"));
    assert_eq!(failed_inspection["lot"], json!(PACK_LOT));
    assert_eq!(failed_inspection["evidence"]["entry_hash"], json!(failed_entry_hash));
    let failed_test = failed_inspection["detail"].as_str().unwrap_or_default();
    assert!(failed_test.contains("listeria=present"), "the values are signed: {failed_test}");
    let all_findings: Vec<Value> = supervision["organisations"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|item| item["findings"].as_array().cloned().unwrap_or_default())
        .collect();
    assert!(
        !all_findings.iter().any(|finding| finding["lot"] == FIELD_LOT),
        "a passed inspection is no finding: {supervision}"
    );
    let processor_findings = findings_of(&processor_name);
    let unacknowledged = processor_findings
        .iter()
        .find(|finding| finding["finding"] == "unacknowledged recall")
        .unwrap_or_else(|| panic!("{processor_name} has not acknowledged: {supervision}"));
    assert_eq!(unacknowledged["detail"], json!("R-1"));
    assert_eq!(unacknowledged["evidence"]["notice_entry_hash"], json!(notice_entry_hash));
    assert!(
        strings(&unacknowledged["evidence"]["events"]).contains(&shipment_ids[1]),
        "the shipment to the processor is the evidence: {unacknowledged}"
    );
    assert!(
        !findings_of(&retailer_name)
            .iter()
            .any(|finding| finding["finding"] == "unacknowledged recall"),
        "the retailer acknowledged: {supervision}"
    );

    // The human form of a recall status names the acknowledging organisation.
    let human_status = regulator.run(&["recall", "status", "R-1"]).await;
    human_status.expect_code(0, "recall status as a table");
    assert!(human_status.stdout.contains(&retailer_name), "{}", human_status.stdout);
    assert!(human_status.stdout.contains("Listeria monocytogenes"), "{}", human_status.stdout);

    // The FSMA 204 spreadsheet of the recall, limited to a window: the shipment to the
    // processor (16:00Z) and the receipt (next day) fall outside it.
    let recall_sheet = directory.path().join("recall.csv");
    regulator
        .run(&[
            "export",
            "fsma204",
            "--recall",
            "R-1",
            "--from",
            "2026-03-01T00:00:00Z",
            "--to",
            "2026-03-03T16:00:00Z",
            "--out",
            text_of(&recall_sheet),
        ])
        .await
        .expect_code(0, "export fsma204 --recall with a window");
    assert!(!recall_sheet.with_extension("xlsx").exists(), "NAME.csv writes only the CSV");
    let mut reader = csv::Reader::from_path(&recall_sheet).unwrap();
    let event_types: Vec<String> = reader.records().map(|row| row.unwrap()[0].to_owned()).collect();
    assert_eq!(
        event_types.iter().map(String::as_str).collect::<BTreeSet<_>>(),
        BTreeSet::from(["Harvesting", "Transformation", "Shipping"]),
        "{event_types:?}"
    );
    assert_eq!(event_types.iter().filter(|event_type| *event_type == "Shipping").count(), 1);

    // A recall scoped by facility and window reaches the lots made there.
    let by_facility = regulator
        .run(&[
            "recall",
            "issue",
            "--facility",
            &producer_gln,
            "--from",
            "2026-03-01T00:00:00Z",
            "--to",
            "2026-03-02T00:00:00Z",
            "--reason",
            "sanitation failure",
            "--class",
            "II",
            "--recall-id",
            "R-2",
            "--json",
        ])
        .await;
    by_facility.expect_code(0, "recall issue --facility");
    let by_facility = by_facility.json();
    assert_eq!(by_facility["verified"], json!(true), "{by_facility}");
    assert!(strings(&by_facility["lots"]).contains(&FIELD_LOT.to_owned()), "{by_facility}");
    cluster.shutdown().await;
}

/// Flips one character in the middle of the first entry of the first bundle of a proof file
/// (`{"bundles": …}` as served, or `{"evidence": {"bundles": …}}` as `proof` writes for a
/// trace), keeping the file valid JSON and the text valid base64.
fn tampered_bundle(text: &str) -> String {
    let mut file: Value = serde_json::from_str(text).unwrap();
    assert!(tamper_with_evidence(&mut file), "no evidence entry to tamper with in {text}");
    serde_json::to_string_pretty(&file).unwrap()
}

/// Exports (FSMA 204 CSV and XLSX, EPCIS with hash ids kept), proof bundles verified offline
/// and caught when tampered, and bad input: an unreachable node, a bad or missing token, wrong
/// and unknown identifiers.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exports_and_proofs_verify_offline_and_bad_input_gets_one_clear_line() {
    const PRODUCER: usize = 0;
    const RETAILER: usize = 2;
    const REGULATOR: usize = 3;
    let cluster = Cluster::start(4).await.unwrap();
    let directory = tempfile::tempdir().unwrap();
    let (_, producer_gln) = member_of(&cluster, PRODUCER);
    let (_, retailer_gln) = member_of(&cluster, RETAILER);
    let other_consignee_gln = "4012345000115";
    let producer = NodeAccess::of(&cluster, PRODUCER);
    let regulator = NodeAccess::of(&cluster, REGULATOR);

    let producer_path = write_file(
        directory.path(),
        "producer.jsonld",
        serde_json::to_vec(&producer_document(&producer_gln)).unwrap(),
    );
    let csv_path = write_file(
        directory.path(),
        "shipments.csv",
        shipments_csv(&producer_gln, &retailer_gln, other_consignee_gln, false),
    );

    // 5. Bad input, first on the producer's node.
    let wrong_token = NodeAccess { url: producer.url.clone(), token: "not-the-token".to_owned() };
    wrong_token
        .run(&["capture", text_of(&producer_path)])
        .await
        .expect_one_line_error(5, "a write with a bad token");
    lotline(&["--node", &producer.url, "capture", text_of(&producer_path)])
        .await
        .expect_one_line_error(5, "a write without a token");
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let unreachable = lotline(&[
        "--node",
        &format!("http://127.0.0.1:{closed_port}"),
        "trace",
        "back",
        &format!("{PACK_GTIN}/PACK42"),
    ])
    .await;
    unreachable.expect_one_line_error(4, "an unreachable node");
    assert!(unreachable.stderr.contains(&closed_port.to_string()), "{}", unreachable.stderr);
    let https = lotline(&["--node", &producer.url.replace("http://", "https://"), "events"]).await;
    https.expect_one_line_error(3, "an https address this build cannot speak");
    assert!(https.stderr.contains("http://"), "says what to give instead: {}", https.stderr);
    producer
        .run(&["events", "--ge-event-time", "yesterday"])
        .await
        .expect_one_line_error(3, "a query time that is not RFC 3339");
    let malformed = producer.run(&["trace", "back", "nonsense", "--json"]).await;
    malformed.expect_one_line_error(3, "a malformed identifier");
    assert!(malformed.stderr.contains("nonsense"), "{}", malformed.stderr);
    let unknown = producer.run(&["trace", "forward", &format!("{PACK_GTIN}/NOSUCHLOT")]).await;
    unknown.expect_one_line_error(6, "an identifier nothing is recorded about");
    assert!(unknown.stderr.contains("NOSUCHLOT"), "{}", unknown.stderr);

    // Capture the producer's document as XML (converted by the CLI) through the environment;
    // the hash ids do not depend on the binding. Then everything is read on the regulator's node.
    let converted = lotline(&["epcis", "convert", text_of(&producer_path), "--to", "xml"]).await;
    converted.expect_code(0, "epcis convert --to xml");
    let xml_path = write_file(directory.path(), "producer.xml", &converted.stdout);
    let environment =
        [("LOTLINE_NODE", producer.url.as_str()), ("LOTLINE_TOKEN", producer.token.as_str())];
    let captured = lotline_in(&environment, &["capture", text_of(&xml_path), "--json"]).await;
    captured.expect_code(0, "capture XML through the environment");
    let event_ids = strings(&captured.json()["eventIDs"]);
    let json_ld_ids: Vec<String> = epcis::parse_document(&std::fs::read(&producer_path).unwrap())
        .unwrap()
        .events
        .iter()
        .map(epcis::event_hash_id)
        .collect();
    assert_eq!(event_ids, json_ld_ids);
    lotline_in(&environment, &["capture", text_of(&csv_path)])
        .await
        .expect_code(0, "capture CSV through the environment");
    wait_replicated(&cluster, PRODUCER, REGULATOR).await;

    // 4. FSMA 204: CSV and XLSX with the KDE columns and one row per CTE.
    let spreadsheet_base = directory.path().join("fsma204");
    regulator
        .run(&[
            "export",
            "fsma204",
            "--lot",
            &format!("{PACK_GTIN}/PACK42"),
            "--out",
            text_of(&spreadsheet_base),
        ])
        .await
        .expect_code(0, "export fsma204");
    let mut reader = csv::Reader::from_path(spreadsheet_base.with_extension("csv")).unwrap();
    let headers: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    for column in [
        "Event Type (CTE)",
        "Traceability Lot Code",
        "Quantity",
        "Unit of Measure",
        "Event Date",
        "Location Description",
        "Immediate Subsequent Recipient Location",
        "Traceability Lot Code Source Reference",
        "Reference Document Type",
        "Reference Document Number",
    ] {
        assert!(headers.iter().any(|header| header == column), "{column} in {headers:?}");
    }
    let column = |name: &str| headers.iter().position(|header| header == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let row_summary: Vec<(String, String, String)> = rows
        .iter()
        .map(|row| {
            (
                row[column("Event Type (CTE)")].to_owned(),
                row[column("Traceability Lot Code")].to_owned(),
                row[column("Quantity")].to_owned(),
            )
        })
        .collect();
    for (event_type, lot_code, quantity) in [
        ("Harvesting", "(01)09506000134352(10)FIELD7", "500"),
        ("Transformation", "(01)09506000134376(10)PACK42", "96"),
        ("Shipping", "(01)09506000134376(10)PACK42", "60"),
        ("Shipping", "(01)09506000134376(10)PACK42", "36"),
    ] {
        assert!(
            row_summary.iter().any(|(row_type, row_lot, row_quantity)| row_type == event_type
                && row_lot == lot_code
                && row_quantity.trim_end_matches(".0") == quantity),
            "a {event_type} row for {lot_code} of {quantity}: {row_summary:?}"
        );
    }
    let shipment_to_retailer = rows
        .iter()
        .find(|row| row[column("Reference Document Number")].contains("BOL-1"))
        .expect("the BOL-1 shipment row");
    assert!(
        shipment_to_retailer[column("Immediate Subsequent Recipient Location")]
            .contains(&retailer_gln)
    );
    let workbook = std::fs::read(spreadsheet_base.with_extension("xlsx")).unwrap();
    assert!(workbook.starts_with(b"PK"), "the XLSX file is a zip archive");

    // EPCIS export of a trace: every event keeps its hash id.
    let exported_path = directory.path().join("export.jsonld");
    regulator
        .run(&["export", "epcis", "--trace-back", PACK_LOT, "--out", text_of(&exported_path)])
        .await
        .expect_code(0, "export epcis");
    let exported = epcis::parse_document(&std::fs::read(&exported_path).unwrap())
        .expect("the export is a valid EPCIS document");
    let exported_ids: BTreeSet<String> = exported
        .events
        .iter()
        .map(|event| {
            let recomputed = epcis::event_hash_id(event);
            assert_eq!(event.event_id.as_deref(), Some(recomputed.as_str()), "hash id kept");
            recomputed
        })
        .collect();
    let back = regulator.run(&["trace", "back", PACK_LOT, "--json"]).await;
    back.expect_code(0, "trace back");
    assert_eq!(exported_ids, strings(&back.json()["events"]).into_iter().collect());
    assert!(event_ids.iter().all(|event_id| exported_ids.contains(event_id)));

    // EPCIS export of a query: the two shipments, hash ids kept.
    let shipments_path = directory.path().join("shipments.jsonld");
    regulator
        .run(&["export", "epcis", "--biz-step", "shipping", "--out", text_of(&shipments_path)])
        .await
        .expect_code(0, "export epcis of a query");
    let shipments = epcis::parse_document(&std::fs::read(&shipments_path).unwrap()).unwrap();
    assert_eq!(shipments.events.len(), 2);
    for event in &shipments.events {
        assert_eq!(event.event_id.clone(), Some(epcis::event_hash_id(event)), "hash id kept");
    }

    // Proof bundles: written, verified offline, caught when one character changes.
    for (name, proof_arguments) in [
        ("event", vec!["proof", event_ids[1].as_str()]),
        ("trace", vec!["proof", PACK_LOT, "--trace", "forward"]),
    ] {
        let bundle_path = directory.path().join(format!("{name}-bundle.json"));
        let mut arguments = proof_arguments.clone();
        arguments.extend(["--out", text_of(&bundle_path)]);
        regulator.run(&arguments).await.expect_code(0, "proof");
        let verified = lotline(&["verify", text_of(&bundle_path), "--json"]).await;
        verified.expect_code(0, "verify offline");
        let verified = verified.json();
        assert_eq!(verified["verified"], json!(true), "{verified}");
        if name == "event" {
            assert!(strings(&verified["events"]).contains(&event_ids[1]), "{verified}");
        }
        let tampered_path = directory.path().join(format!("{name}-tampered.json"));
        std::fs::write(
            &tampered_path,
            tampered_bundle(&std::fs::read_to_string(&bundle_path).unwrap()),
        )
        .unwrap();
        let caught = lotline(&["verify", text_of(&tampered_path)]).await;
        caught.expect_code(7, "verify of a tampered bundle");
        assert!(caught.stderr.contains("verification failed"), "{}", caught.stderr);
    }

    // A witness policy: the regulator's node cosigns the producer's checkpoints; with its key
    // required the trace verifies, with a witness that never cosigned it does not (exit 7).
    let producer_key = cluster.node(PRODUCER).state.organisation();
    let size = cluster.node(PRODUCER).state.feed_size(producer_key.as_bytes());
    wait_for("a cosigned checkpoint of the producer's feed", DEFAULT_DEADLINE, || async {
        let note = cluster.node(REGULATOR).state.checkpoint_note_for(&producer_key)?;
        let checkpoint_size: u64 = note.lines().nth(1)?.parse().ok()?;
        let signatures = note.lines().filter(|line| line.starts_with("\u{2014} ")).count();
        (checkpoint_size >= size && signatures >= 2).then_some(())
    })
    .await
    .unwrap();
    let regulator_key = cluster.node(REGULATOR).state.organisation();
    let regulator_witness = cluster
        .node(REGULATOR)
        .state
        .witness_keys()
        .into_iter()
        .map(|key| key.to_string())
        .find(|key| key.contains(&regulator_key.to_hex()))
        .expect("the regulator is a witness");
    let witnessed = regulator
        .run(&["--witness", &regulator_witness, "trace", "back", PACK_LOT, "--json"])
        .await;
    witnessed.expect_code(0, "trace with a required witness");
    assert_eq!(witnessed.json()["verified"], json!(true));
    let absent_witness = lotline_ledger::checkpoint::VerifierKey::new(
        "witness.example.org/never-cosigned",
        lotline_ledger::checkpoint::KeyKind::CosignatureV1,
        producer_key,
    )
    .unwrap()
    .to_string();
    let unwitnessed =
        regulator.run(&["--witness", &absent_witness, "trace", "back", PACK_LOT, "--json"]).await;
    unwitnessed.expect_code(7, "trace with a witness that never cosigned");
    assert_eq!(unwitnessed.json()["verified"], json!(false));
    assert!(unwitnessed.stderr.contains("verification failed"), "{}", unwitnessed.stderr);

    // A node that tampers with an entry of its evidence is caught: exit 7, verified false.
    let lying_node =
        format!("http://{}", tampering_proxy(cluster.node(REGULATOR).http_address).await.unwrap());
    let lied_to = lotline(&["--node", &lying_node, "trace", "back", PACK_LOT, "--json"]).await;
    lied_to.expect_code(7, "trace through a node that tampers with its evidence");
    assert_eq!(lied_to.json()["verified"], json!(false), "{lied_to:?}");
    assert!(lied_to.stderr.contains("do not rely on this answer"), "{}", lied_to.stderr);
    cluster.shutdown().await;
}

/// The producer's master-data sheet (docs/csv-template.md): its two products and its
/// packhouse; `place_gln` is the site it describes.
fn master_data_csv(place_gln: &str, place_name: &str) -> String {
    format!(
        "kind,id,name,street,city,state,postal_code,country,latitude,longitude\n\
         product,{FIELD_GTIN},\"Romaine lettuce, field-packed\",,,,,,,\n\
         product,{PACK_GTIN},\"Romaine lettuce, 1 kg bag\",,,,,,,\n\
         location,{place_gln},{place_name},1 Abbott Street,Salinas,CA,93901,US,36.6777,-121.6555\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn names_from_master_data_show_in_traces_and_the_fsma_spreadsheet_and_only_owners_give_them()
{
    const PRODUCER: usize = 0;
    const CARRIER: usize = 1;
    const RETAILER: usize = 2;
    let cluster = Cluster::start(3).await.unwrap();
    let directory = tempfile::tempdir().unwrap();
    let (producer_name, producer_gln) = member_of(&cluster, PRODUCER);
    let (_, carrier_gln) = member_of(&cluster, CARRIER);
    let (_, retailer_gln) = member_of(&cluster, RETAILER);
    let producer = NodeAccess::of(&cluster, PRODUCER);
    let retailer = NodeAccess::of(&cluster, RETAILER);

    // The producer names its products and its packhouse, then records the chain.
    let sheet = write_file(
        directory.path(),
        "sites.csv",
        master_data_csv(&producer_gln, "Green Valley Farms Packhouse"),
    );
    let named = producer.run(&["capture", text_of(&sheet), "--json"]).await;
    named.expect_code(0, "capture master data");
    assert_eq!(named.json()["statementsRecorded"], json!(3));
    let again = producer.run(&["capture", text_of(&sheet), "--json"]).await;
    again.expect_code(0, "capture the same master data again");
    assert_eq!(again.json()["statementsRecorded"], json!(0), "a retry signs nothing new");
    assert_eq!(again.json()["statementsUnchanged"], json!(3));
    let producer_path = write_file(
        directory.path(),
        "producer.jsonld",
        serde_json::to_vec(&producer_document(&producer_gln)).unwrap(),
    );
    producer.run(&["capture", text_of(&producer_path)]).await.expect_code(0, "capture events");
    let shipments = write_file(
        directory.path(),
        "shipments.csv",
        shipments_csv(&producer_gln, &retailer_gln, &carrier_gln, false),
    );
    producer.run(&["capture", text_of(&shipments)]).await.expect_code(0, "capture shipments");
    // The retailer names its distribution centre.
    let retailer_sheet = write_file(
        directory.path(),
        "dc.csv",
        format!(
            "kind,id,name,city,country\nlocation,{retailer_gln},Retailer DC Sacramento,Sacramento,US\n"
        ),
    );
    retailer.run(&["capture", text_of(&retailer_sheet)]).await.expect_code(0, "retailer's site");

    // The retailer cannot rename the producer's packhouse: refused naming the element and the
    // rule, and nothing of it is stored.
    let renaming = write_file(
        directory.path(),
        "renaming.csv",
        format!("kind,id,name\nlocation,{producer_gln},Not Your Packhouse\n"),
    );
    let refused = retailer.run(&["capture", text_of(&renaming)]).await;
    assert_ne!(refused.code, 0, "renaming another organisation's GLN is refused: {refused:?}");
    assert!(refused.stderr.contains(&producer_gln), "the element is named: {refused:?}");
    let history = cluster.node(RETAILER).state.master_data_history(&location(&producer_gln));
    let history = serde_json::to_value(history).unwrap();
    assert!(!history.to_string().contains("Not Your Packhouse"), "nothing stored: {history}");

    wait_replicated(&cluster, PRODUCER, RETAILER).await;
    wait_replicated(&cluster, RETAILER, RETAILER).await;

    // From the retailer's node: the table reads names, --json keeps identifiers and names.
    let table = retailer.run(&["trace", "forward", FIELD_LOT]).await;
    table.expect_code(0, "trace forward table");
    assert!(table.stdout.contains("Romaine lettuce, 1 kg bag"), "product names: {}", table.stdout);
    assert!(table.stdout.contains("Retailer DC Sacramento"), "place names: {}", table.stdout);
    let answer = retailer.run(&["trace", "forward", FIELD_LOT, "--json"]).await;
    answer.expect_code(0, "trace forward --json");
    let answer = answer.json();
    assert_eq!(answer["verified"], json!(true), "names verify with the events: {answer}");
    assert_eq!(answer["names"]["described"][PACK_LOT]["name"], json!("Romaine lettuce, 1 kg bag"));
    assert_eq!(
        answer["names"]["described"][location(&retailer_gln)]["name"],
        json!("Retailer DC Sacramento")
    );
    let producer_key = cluster.node(PRODUCER).state.organisation_hex();
    assert_eq!(answer["names"]["organisations"][&producer_key]["name"], json!(producer_name));
    assert!(
        consignee_at(&answer, "consignees", &retailer_gln).is_some(),
        "identifiers stay: {answer}"
    );

    // The events table says where each event happened by name.
    let events = retailer.run(&["events", "--biz-step", "shipping"]).await;
    events.expect_code(0, "events table");
    assert!(events.stdout.contains("Green Valley Farms Packhouse"), "{}", events.stdout);

    // The FSMA 204 spreadsheet describes products and places by name.
    let spreadsheet = directory.path().join("fsma204-names.csv");
    retailer
        .run(&["export", "fsma204", "--lot", FIELD_LOT, "--out", text_of(&spreadsheet)])
        .await
        .expect_code(0, "export fsma204");
    let mut reader = csv::Reader::from_path(&spreadsheet).unwrap();
    let headers: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let column = |name: &str| headers.iter().position(|header| header == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let shipping = rows
        .iter()
        .find(|row| &row[column("Event Type (CTE)")] == "Shipping")
        .expect("a shipping row");
    assert_eq!(&shipping[column("Product Description")], "Romaine lettuce, 1 kg bag");
    assert!(
        shipping[column("Location Description")]
            .starts_with("Green Valley Farms Packhouse, 1 Abbott Street, Salinas CA 93901, US"),
        "{shipping:?}"
    );
    assert!(
        rows.iter().any(|row| row[column("Immediate Subsequent Recipient Location")]
            .starts_with("Retailer DC Sacramento")),
        "{rows:?}"
    );
    cluster.shutdown().await;
}
