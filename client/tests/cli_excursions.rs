//! `lotline trace` with an excursion in force upstream, against a real node: the table shows
//! the "Cold chain" block (lot, rule, start – end, observed, recorded by) and `--json`
//! carries the verified `excursions`; a trace reaching none shows no block and no field.
//!
//! Owns these CLI cases. Does not own the reply's shape or its verification (the ledger's and
//! the client library's unit tests, `tests/tests/excursion_answers.rs`).

use lotline_tests::cluster::{Cluster, DEFAULT_DEADLINE, wait_for};
use lotline_tests::fixtures::exchange;
use serde_json::{Value, json};

const LOTLINE: &str = env!("CARGO_BIN_EXE_lotline");
/// A lot of producer-0's chilled product whose logger ran warm.
const LOT: &str = "https://id.gs1.org/01/09506000134352/10/CLIWARM1";
/// A lot made from `LOT`.
const MADE_LOT: &str = "https://id.gs1.org/01/09506000134352/10/CLIMADE1";
/// A lot that never met a logger.
const PLAIN_LOT: &str = "https://id.gs1.org/01/09506000134352/10/CLIPLAIN1";

/// The capture: the product is chilled (above 4 °C for more than 30 min breaches), the lot is
/// commissioned, its logger reads above 4 °C from 10:10 until 10:45, and it is made into
/// `MADE_LOT`; `PLAIN_LOT` is commissioned beside it.
fn capture_document() -> Value {
    let readings: Vec<Value> = [3.0, 3.5, 6.0, 7.0, 9.0, 8.5, 6.5, 5.0, 5.5, 3.0, 2.5]
        .iter()
        .enumerate()
        .map(|(index, celsius)| {
            json!({"type": "gs1:Temperature", "value": celsius, "uom": "CEL",
                "time": format!("2026-03-01T10:{:02}:00Z", index * 5)})
        })
        .collect();
    let commissioned = |lot: &str| {
        json!({"type": "ObjectEvent", "eventTime": "2026-03-01T09:00:00Z",
            "eventTimeZoneOffset": "+00:00", "epcList": [], "action": "ADD",
            "bizStep": "commissioning",
            "quantityList": [{"epcClass": lot, "quantity": 10, "uom": "KGM"}]})
    };
    json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-03-01T12:00:00.000Z",
        "epcisHeader": {"epcisMasterData": {"vocabularyList": [
            {"type": "urn:epcglobal:epcis:vtype:EPCClass", "vocabularyElementList": [
                {"id": "urn:epc:idpat:sgtin:9506000.013435.*", "attributes": [
                    {"id": "urn:lotline:mda:temperatureProfile", "attribute": "chilled"}]}]}]}},
        "epcisBody": {"eventList": [
            commissioned(LOT),
            {"type": "ObjectEvent", "eventTime": "2026-03-01T10:50:00Z",
                "eventTimeZoneOffset": "+00:00", "epcList": [], "action": "OBSERVE",
                "bizStep": "sensor_reporting", "quantityList": [{"epcClass": LOT}],
                "sensorElementList": [{"sensorMetadata": {"deviceID": "urn:lotline:device:C1"},
                    "sensorReport": readings}]},
            {"type": "TransformationEvent", "eventTime": "2026-03-01T14:00:00Z",
                "eventTimeZoneOffset": "+00:00", "bizStep": "commissioning",
                "inputQuantityList": [{"epcClass": LOT, "quantity": 10, "uom": "KGM"}],
                "outputQuantityList": [{"epcClass": MADE_LOT, "quantity": 8, "uom": "KGM"}]},
            commissioned(PLAIN_LOT),
        ]}
    })
}

/// Runs `lotline --node … --token … arguments…`: exit code and stdout.
async fn lotline(cluster: &Cluster, arguments: &[&str]) -> (i32, String) {
    let url = cluster.url(0);
    let mut command = tokio::process::Command::new(LOTLINE);
    command.args(["--node", &url, "--token", cluster.token(0)]).args(arguments);
    for variable in [
        "LOTLINE_NODE",
        "LOTLINE_TOKEN",
        "LOTLINE_WITNESSES",
        "LOTLINE_TRUSTED_AUTHORS",
        "LOTLINE_WITNESS_QUORUM",
    ] {
        command.env_remove(variable);
    }
    let output = command.output().await.expect("the lotline binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    (
        output.status.code().unwrap_or(-1),
        format!(
            "{stdout}{}",
            if output.status.success() { String::new() } else { format!("\nstderr: {stderr}") }
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_shows_the_excursions_in_force_upstream_in_a_cold_chain_block_and_in_json() {
    let cluster = Cluster::start(1).await.unwrap();
    let authorization = format!("Bearer {}", cluster.token(0));
    let captured = exchange(
        cluster.node(0).http_address,
        "POST",
        "/capture",
        &[("Content-Type", "application/ld+json"), ("Authorization", &authorization)],
        capture_document().to_string().as_bytes(),
    )
    .await
    .unwrap();
    assert!((200..300).contains(&captured.status), "{}", String::from_utf8_lossy(&captured.body));
    wait_for("the signed excursion record", DEFAULT_DEADLINE, || async {
        (cluster.node(0).state.cold_chain().book().current_excursions_of(LOT).len() == 1)
            .then_some(())
    })
    .await
    .unwrap();

    let (code, table) = lotline(&cluster, &["trace", "back", MADE_LOT]).await;
    assert_eq!(code, 0, "{table}");
    let block = table
        .split_once("Cold chain: 1 excursion(s) in force")
        .unwrap_or_else(|| panic!("no Cold chain block:\n{table}"))
        .1;
    for expected in [
        "recorded by",
        LOT,
        "single-event: above 4 CEL",
        "2026-03-01 10:10Z – 2026-03-01 10:45Z",
        "9 CEL",
    ] {
        assert!(block.contains(expected), "{expected:?} missing:\n{table}");
    }

    let (code, json_text) = lotline(&cluster, &["trace", "back", MADE_LOT, "--json"]).await;
    assert_eq!(code, 0, "{json_text}");
    let json: Value = serde_json::from_str(&json_text).unwrap();
    assert_eq!(json["verified"], true, "{json:#}");
    let excursions = json["excursions"].as_array().unwrap_or_else(|| panic!("{json:#}"));
    assert_eq!(excursions.len(), 1);
    assert_eq!(excursions[0]["lots"], json!([LOT]));
    assert_eq!(excursions[0]["observed"], "9 CEL");
    assert_eq!(excursions[0]["started"], "2026-03-01T10:10:00.000Z");

    let (code, plain) = lotline(&cluster, &["trace", "back", PLAIN_LOT]).await;
    assert_eq!(code, 0, "{plain}");
    assert!(!plain.contains("Cold chain"), "{plain}");
    let (_, plain_json) = lotline(&cluster, &["trace", "back", PLAIN_LOT, "--json"]).await;
    let plain_json: Value = serde_json::from_str(&plain_json).unwrap();
    assert!(plain_json.get("excursions").is_none(), "{plain_json:#}");
}
