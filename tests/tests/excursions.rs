//! Excursions signed by a real node: a producer states in master data that its product is
//! chilled, captures a logger's readings of a lot, and its node signs the excursion it finds
//! with the rule, limits, start, end, duration and min/max/mean; a late batch that splits the
//! stretch yields a record that withdraws it (the first record untouched); the same batch
//! again, or the same readings in another event, sign nothing; a gap is reported in the
//! excursion, never bridged. `GET /excursions` lists the records with their entries (on a
//! peer's node too, which signs nothing about readings it did not sign), and refuses a
//! parameter that names no lot by name.
//!
//! Owns these HTTP cases. Does not own detection (`lotline_ledger::coldchain`, whose unit
//! tests hold the incremental detector to a from-scratch scan) nor the book's rules (its unit
//! tests).

use lotline_tests::cluster::{Cluster, DEFAULT_DEADLINE, wait_for};
use lotline_tests::fixtures::{
    HttpAnswer, capture_document, entry_of, query_encoded as encoded, send_json_ld,
};
use serde_json::{Value, json};

/// A lot of producer-0's product (GTIN `0 9506000 13435 2`, under its prefix `9506000`).
const LOT: &str = "https://id.gs1.org/01/09506000134352/10/COLD1";
/// A lot made from `LOT`.
const MADE_LOT: &str = "https://id.gs1.org/01/09506000134352/10/MADE1";
/// Another lot of the same product, on another logger.
const GAP_LOT: &str = "https://id.gs1.org/01/09506000134352/10/COLD2";
/// Logger serial numbers as EPCIS device URIs.
const LOGGER: &str = "urn:lotline:device:L7";
const GAP_LOGGER: &str = "urn:lotline:device:L8";
const MINUTE_MS: i64 = 60_000;

async fn send(cluster: &Cluster, method: &str, path: &str, body: &[u8]) -> HttpAnswer {
    send_json_ld(cluster, 0, method, path, body).await
}

/// A capture document with `vocabulary_list` in its header and `events`.
fn document(vocabulary_list: Value, events: Value) -> Vec<u8> {
    serde_json::to_vec(&capture_document(vocabulary_list, events)).unwrap()
}

/// A logger's ObjectEvent observing `lot`, one temperature report per `(time, °C)`.
fn readings_event(device: &str, lot: &str, event_time: &str, readings: &[(&str, f64)]) -> Value {
    let reports: Vec<Value> = readings
        .iter()
        .map(|(time, celsius)| {
            json!({"type": "gs1:Temperature", "value": celsius, "uom": "CEL", "time": time})
        })
        .collect();
    json!({
        "type": "ObjectEvent",
        "eventTime": event_time,
        "eventTimeZoneOffset": "+00:00",
        "epcList": [],
        "quantityList": [{"epcClass": lot}],
        "action": "OBSERVE",
        "bizStep": "sensor_reporting",
        "sensorElementList": [{"sensorMetadata": {"deviceID": device}, "sensorReport": reports}],
    })
}

/// Captures `body`, expecting success; the capture job.
async fn capture(cluster: &Cluster, body: &[u8]) -> Value {
    let answer = send(cluster, "POST", "/capture", body).await;
    assert!((200..300).contains(&answer.status), "{}", String::from_utf8_lossy(&answer.body));
    answer.json().unwrap()
}

async fn get(cluster: &Cluster, path: &str) -> (u16, Value) {
    let answer = send(cluster, "GET", path, b"").await;
    (answer.status, answer.json().unwrap_or(Value::Null))
}

async fn excursions_of(cluster: &Cluster, lot: &str) -> Value {
    let (status, reply) = get(cluster, &format!("/excursions?lot={}", encoded(lot))).await;
    assert_eq!(status, 200, "{reply}");
    reply
}

async fn excursion_records(cluster: &Cluster) -> Vec<Value> {
    let (status, records) = get(cluster, "/records?kind=excursion").await;
    assert_eq!(status, 200, "{records}");
    records.as_array().unwrap().clone()
}

fn without_proof(record: &Value) -> Value {
    let mut record = record.clone();
    record.as_object_mut().unwrap().remove("proof");
    record
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_signs_excursions_of_its_readings_and_corrects_them_by_new_records() {
    // The producer's node, and a carrier's that replicates its feed.
    let mut cluster = Cluster::start(2).await.unwrap();
    let producer = cluster.node(0).state.organisation_hex();
    // The product is chilled (0-4 °C; above 4 °C for more than 30 min breaches).
    let chilled = json!([{"type": "urn:epcglobal:epcis:vtype:EPCClass",
        "vocabularyElementList": [{"id": "urn:epc:idpat:sgtin:9506000.013435.*", "attributes": [
            {"id": "urn:lotline:mda:temperatureProfile", "attribute": "chilled"}]}]}]);
    // Every five minutes (one written in the logger's local zone); 10:25 is missing (the
    // gateway lost it), so 10:10-10:40 is one stretch above 4 °C, held until 10:45: 35 minutes.
    let first = [
        ("2026-03-01T10:00:00Z", 3.0),
        ("2026-03-01T10:05:00Z", 3.5),
        ("2026-03-01T10:10:00Z", 6.0),
        ("2026-03-01T10:15:00Z", 7.0),
        ("2026-03-01T10:20:00Z", 9.0),
        ("2026-03-01T11:30:00+01:00", 6.5),
        ("2026-03-01T10:35:00Z", 5.0),
        ("2026-03-01T10:40:00Z", 5.5),
        ("2026-03-01T10:45:00Z", 3.0),
        ("2026-03-01T10:50:00Z", 2.5),
    ];
    let job = capture(
        &cluster,
        &document(chilled, json!([readings_event(LOGGER, LOT, "2026-03-01T10:50:00Z", &first)])),
    )
    .await;
    assert_eq!(job["success"], true, "{job}");

    let records = excursion_records(&cluster).await;
    assert_eq!(records.len(), 1, "{records:#?}");
    // Its proof comes with the feed's next checkpoint, which the node signs on its own time.
    let reported = wait_for("the excursion record's proof", DEFAULT_DEADLINE, || {
        let cluster = &cluster;
        async move {
            let records = excursion_records(cluster).await;
            records.first().filter(|record| record.get("proof").is_some()).cloned()
        }
    })
    .await
    .unwrap();
    assert_eq!(reported["author"], producer);
    assert_eq!(reported["lots"], json!([LOT]));
    assert_eq!(reported["device"], LOGGER);
    assert_eq!(
        reported["rule"],
        json!({"kind": "single_event", "bound": "above", "threshold_celsius": 4.0, "longer_than_ms": 30 * MINUTE_MS})
    );
    assert_eq!(
        reported["limit"],
        "single-event: above 4 CEL for more than 30 min; limits 0..4 CEL"
    );
    assert_eq!(reported["started"], "2026-03-01T10:10:00.000Z");
    assert_eq!(reported["ended"], "2026-03-01T10:45:00.000Z");
    assert_eq!(reported["duration_ms"], 35 * MINUTE_MS);
    assert_eq!(reported["min_celsius"], 5.0);
    assert_eq!(reported["max_celsius"], 9.0);
    assert_eq!(reported["mean_celsius"], 6.5);
    assert_eq!(reported["readings"], 6);
    assert_eq!(reported["gaps"], 0);
    assert_eq!(reported["withdrawn"], false);
    assert!(reported.get("supersedes").is_none(), "{reported}");

    let reply = excursions_of(&cluster, "urn:epc:class:lgtin:9506000.013435.COLD1").await;
    assert_eq!(reply["lot"], LOT);
    assert_eq!(reply["profile"], "chilled 0-4");
    assert_eq!(reply["excursions"].as_array().unwrap().len(), 1, "{reply:#}");
    assert_eq!(reply["excursions"][0]["standing"], "current");
    assert_eq!(reply["excursions"][0]["entry"], entry_of(&reported));
    let device = &reply["devices"][0];
    assert_eq!((device["device"].as_str(), device["readings"].as_u64()), (Some(LOGGER), Some(10)));
    // The last reading is in range: "out of range now" is false though a rule was breached.
    assert_eq!(device["out_of_range_now"], false);

    // The logger is read out: the missing 10:25 reading was 3.5 °C, which splits the stretch
    // into two of 15 minutes. The excursion no longer holds: a new record withdraws it.
    let late = document(
        json!([]),
        json!([readings_event(
            LOGGER,
            LOT,
            "2026-03-01T10:25:00Z",
            &[("2026-03-01T10:25:00Z", 3.5)]
        )]),
    );
    capture(&cluster, &late).await;
    let records = excursion_records(&cluster).await;
    assert_eq!(records.len(), 2, "{records:#?}");
    // A signed excursion is never edited: the same fields, the same signed bytes (its proof
    // now cites a later checkpoint).
    assert_eq!(without_proof(&records[0]), without_proof(&reported));
    let signed_bytes =
        |record: &Value| record["proof"]["bundles"][0]["entries"][0]["entry"].clone();
    assert!(signed_bytes(&reported).is_string(), "{reported}");
    assert_eq!(signed_bytes(&records[0]), signed_bytes(&reported));
    let withdrawal = &records[1];
    assert_eq!(withdrawal["withdrawn"], true);
    assert_eq!(withdrawal["supersedes"], entry_of(&reported));
    for restated in ["excursion_id", "started", "ended", "duration_ms", "mean_celsius", "rule"] {
        assert_eq!(withdrawal[restated], reported[restated], "{restated}");
    }
    let reply = excursions_of(&cluster, LOT).await;
    let standings: Vec<&str> = reply["excursions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|excursion| excursion["standing"].as_str().unwrap())
        .collect();
    assert_eq!(standings, ["superseded", "withdrawal"]);
    assert_eq!(reply["excursions"][0]["superseded_by"], entry_of(withdrawal));

    // The same batch again is already recorded; the same reading in another event is the
    // same reading: neither signs anything.
    let again = capture(&cluster, &late).await;
    assert_eq!(again["alreadyRecorded"].as_array().map(Vec::len), Some(1), "{again}");
    let repeated = document(
        json!([]),
        json!([readings_event(
            LOGGER,
            LOT,
            "2026-03-01T10:26:00Z",
            &[("2026-03-01T10:25:00Z", 3.5)]
        )]),
    );
    let job = capture(&cluster, &repeated).await;
    assert_eq!(job["sequences"].as_array().map(Vec::len), Some(1), "{job}");
    assert_eq!(excursion_records(&cluster).await.len(), 2);

    // Another logger falls silent for 35 minutes while warm: the gap is reported in the
    // excursion and its time is never counted as above 4 °C (5 + 30 min are).
    let gap_readings = [
        ("2026-03-01T12:00:00Z", 6.0),
        ("2026-03-01T12:05:00Z", 7.0),
        ("2026-03-01T12:40:00Z", 8.0),
        ("2026-03-01T12:45:00Z", 9.0),
        ("2026-03-01T12:50:00Z", 6.0),
        ("2026-03-01T12:55:00Z", 6.0),
        ("2026-03-01T13:00:00Z", 6.0),
        ("2026-03-01T13:05:00Z", 5.0),
        ("2026-03-01T13:10:00Z", 3.0),
    ];
    capture(
        &cluster,
        &document(
            json!([]),
            json!([readings_event(GAP_LOGGER, GAP_LOT, "2026-03-01T13:10:00Z", &gap_readings)]),
        ),
    )
    .await;
    let reply = excursions_of(&cluster, GAP_LOT).await;
    let excursions = reply["excursions"].as_array().unwrap();
    assert_eq!(excursions.len(), 1, "{reply:#}");
    let across = &excursions[0];
    assert_eq!(
        (across["started"].as_str(), across["ended"].as_str()),
        (Some("2026-03-01T12:00:00.000Z"), Some("2026-03-01T13:10:00.000Z"))
    );
    assert_eq!(across["gaps"], 1);
    assert_eq!(across["gap_ms"], 35 * MINUTE_MS);
    assert_eq!(across["duration_ms"], 35 * MINUTE_MS, "the gap is not bridged");
    assert_eq!(
        reply["devices"][0]["gaps"],
        json!([["2026-03-01T12:05:00.000Z", "2026-03-01T12:40:00.000Z"]])
    );

    // A reading found in the gap's first part changes the stretch: a correction supersedes the
    // record (not a withdrawal), with the gap now shorter and the time known above 4 °C longer.
    let found = document(
        json!([]),
        json!([readings_event(
            GAP_LOGGER,
            GAP_LOT,
            "2026-03-01T12:10:00Z",
            &[("2026-03-01T12:10:00Z", 7.5)]
        )]),
    );
    capture(&cluster, &found).await;
    let reply = excursions_of(&cluster, GAP_LOT).await;
    let excursions = reply["excursions"].as_array().unwrap();
    assert_eq!(excursions.len(), 2, "{reply:#}");
    assert_eq!(excursions[0]["standing"], "superseded");
    let correction = &excursions[1];
    assert_eq!(correction["standing"], "current");
    assert_eq!(correction["withdrawn"], false);
    assert_eq!(correction["supersedes"], excursions[0]["entry"]);
    assert_ne!(correction["excursion_id"], excursions[0]["excursion_id"]);
    assert_eq!(correction["duration_ms"], 40 * MINUTE_MS);
    assert_eq!(correction["gap_ms"], 30 * MINUTE_MS);
    assert_eq!(correction["readings"], 9);

    // The first lot's answer is unchanged by the other logger.
    assert_eq!(excursions_of(&cluster, LOT).await["excursions"].as_array().unwrap().len(), 2);

    // The chilled lot is made into another: the new lot carries the excursions upstream of it.
    let made = json!({
        "type": "TransformationEvent",
        "eventTime": "2026-03-01T14:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "inputQuantityList": [{"epcClass": LOT, "quantity": 10, "uom": "KGM"}],
        "outputQuantityList": [{"epcClass": MADE_LOT, "quantity": 8, "uom": "KGM"}],
        "bizStep": "commissioning",
    });
    capture(&cluster, &document(json!([]), json!([made]))).await;
    let reply = excursions_of(&cluster, MADE_LOT).await;
    assert_eq!(reply["excursions"], json!([]), "{reply:#}");
    let upstream = reply["upstream"].as_array().unwrap();
    assert_eq!(upstream.len(), 2, "{reply:#}");
    assert!(upstream.iter().all(|excursion| excursion["upstream_lot"] == LOT), "{reply:#}");
    assert_eq!(upstream[1]["entry"], entry_of(withdrawal));

    // A parameter that names no lot is refused by name.
    for bad in ["urn:epc:id:sscc:9506000.0000000001", "not a lot"] {
        let (status, problem) = get(&cluster, &format!("/excursions?lot={}", encoded(bad))).await;
        assert_eq!(status, 400, "{problem}");
        assert!(problem["detail"].as_str().unwrap().starts_with("lot: "), "{problem}");
    }
    let (status, problem) = get(&cluster, "/excursions").await;
    assert_eq!(status, 400, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("lot"), "{problem}");

    // A restarted node judges its readings again from its store and finds nothing to sign.
    // The carrier's node holds the producer's readings and excursion records by replication,
    // shows the same standings, and signs nothing about readings it did not sign.
    let path = format!("/excursions?lot={}", encoded(GAP_LOT));
    let on_producer = excursions_of(&cluster, GAP_LOT).await;
    let on_carrier =
        wait_for("the carrier's node to hold the excursions", DEFAULT_DEADLINE, || {
            let (cluster, path, on_producer) = (&cluster, &path, &on_producer);
            async move {
                let reply = send_json_ld(cluster, 1, "GET", path, b"").await.json().ok()?;
                (reply["excursions"] == on_producer["excursions"]).then_some(reply)
            }
        })
        .await
        .unwrap();
    assert_eq!(on_carrier["devices"][0]["signer"], producer);
    let carrier_records = send_json_ld(&cluster, 1, "GET", "/records?kind=excursion", b"").await;
    let carrier_records = carrier_records.json().unwrap();
    assert!(
        carrier_records.as_array().unwrap().iter().all(|record| record["author"] == producer),
        "{carrier_records:#}"
    );

    let before = excursion_records(&cluster).await;
    cluster.stop_node(0).await;
    cluster.start_node(0).await.unwrap();
    assert_eq!(excursion_records(&cluster).await.len(), before.len());
    assert_eq!(excursions_of(&cluster, GAP_LOT).await["excursions"][1]["standing"], "current");
    cluster.shutdown().await;
}
