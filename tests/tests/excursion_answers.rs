//! Excursions in trace and recall answers, on a real node: a chilled lot whose logger ran warm
//! is made into another lot; once the node has signed the excursion, `GET /trace/back` of
//! the made lot and `POST /recall/scope` of the chilled lot carry it (entry, lots, rule,
//! observed, start, end, figures) with its record in the evidence, the client's verification
//! accepts both, the FSMA 204 spreadsheet built from that evidence notes it on the chilled
//! lot's rows, and a reply whose excursion says another observed value than the signed
//! record is refused by name. An answer reaching no excursion has no `excursions` field.
//!
//! Owns these cases. Does not own detection or signing (`tests/tests/excursions.rs`), nor the
//! shape's own rules (`lotline_ledger::trace::excursions`' unit tests).

use lotline_client::client::Direction;
use lotline_client::fsma204;
use lotline_client::verify::{self, Policy, VerifyError};
use lotline_ledger::proof::WitnessPolicy;
use lotline_ledger::trace::{RecallReply, TraceReply};
use lotline_tests::cluster::{Cluster, DEFAULT_DEADLINE, wait_for};
use lotline_tests::fixtures::{capture_document, entry_of, query_encoded};
use serde_json::{Value, json};

/// A lot of producer-0's chilled product (GTIN `0 9506000 13435 2`).
const LOT: &str = "https://id.gs1.org/01/09506000134352/10/WARM1";
/// A lot made from `LOT`.
const MADE_LOT: &str = "https://id.gs1.org/01/09506000134352/10/MADEWARM1";
/// A lot of the same product that never met a logger.
const PLAIN_LOT: &str = "https://id.gs1.org/01/09506000134352/10/PLAIN1";
const LOGGER: &str = "urn:lotline:device:L9";

async fn send(
    cluster: &Cluster,
    method: reqwest::Method,
    path: &str,
    body: Option<&Value>,
) -> Value {
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{path}", cluster.url(0)))
        .bearer_auth(cluster.token(0));
    if let Some(body) = body {
        request = request.header("Content-Type", "application/ld+json").body(body.to_string());
    }
    let answer = request.send().await.unwrap();
    let status = answer.status();
    let text = answer.text().await.unwrap();
    assert!(status.is_success(), "{path}: {status} {text}");
    serde_json::from_str(&text).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_and_recall_answers_carry_the_excursions_in_force_with_evidence() {
    let cluster = Cluster::start(1).await.unwrap();
    let producer = cluster.node(0).state.organisation_hex();
    // The product is chilled: above 4 °C for more than 30 min breaches. The logger reads
    // above 4 °C from 10:10 until 10:45.
    let chilled = json!([{"type": "urn:epcglobal:epcis:vtype:EPCClass",
        "vocabularyElementList": [{"id": "urn:epc:idpat:sgtin:9506000.013435.*", "attributes": [
            {"id": "urn:lotline:mda:temperatureProfile", "attribute": "chilled"}]}]}]);
    let readings: Vec<Value> = [3.0, 3.5, 6.0, 7.0, 9.0, 8.5, 6.5, 5.0, 5.5, 3.0, 2.5]
        .iter()
        .enumerate()
        .map(|(index, celsius)| {
            json!({"type": "gs1:Temperature", "value": celsius, "uom": "CEL",
                "time": format!("2026-03-01T10:{:02}:00Z", index * 5)})
        })
        .collect();
    let logged = json!({
        "type": "ObjectEvent",
        "eventTime": "2026-03-01T10:50:00Z",
        "eventTimeZoneOffset": "+00:00",
        "epcList": [],
        "quantityList": [{"epcClass": LOT}],
        "action": "OBSERVE",
        "bizStep": "sensor_reporting",
        "sensorElementList": [{"sensorMetadata": {"deviceID": LOGGER}, "sensorReport": readings}],
    });
    let commissioned = |lot: &str, time: &str| {
        json!({
            "type": "ObjectEvent",
            "eventTime": time,
            "eventTimeZoneOffset": "+00:00",
            "epcList": [],
            "quantityList": [{"epcClass": lot, "quantity": 10, "uom": "KGM"}],
            "action": "ADD",
            "bizStep": "commissioning",
        })
    };
    let made = json!({
        "type": "TransformationEvent",
        "eventTime": "2026-03-01T14:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "inputQuantityList": [{"epcClass": LOT, "quantity": 10, "uom": "KGM"}],
        "outputQuantityList": [{"epcClass": MADE_LOT, "quantity": 8, "uom": "KGM"}],
        "bizStep": "commissioning",
    });
    let events = json!([
        commissioned(LOT, "2026-03-01T09:00:00Z"),
        logged,
        made,
        commissioned(PLAIN_LOT, "2026-03-01T09:00:00Z"),
    ]);
    let job =
        send(&cluster, reqwest::Method::POST, "/capture", Some(&capture_document(chilled, events)))
            .await;
    assert_eq!(job["success"], true, "{job}");

    let record = wait_for("the signed excursion record", DEFAULT_DEADLINE, || async {
        let records = send(&cluster, reqwest::Method::GET, "/records?kind=excursion", None).await;
        records.as_array().and_then(|records| records.first().cloned())
    })
    .await
    .unwrap();
    assert_eq!(record["author"], producer);

    // Trace back of the made lot reaches the chilled lot upstream, and its excursion.
    let back = send(
        &cluster,
        reqwest::Method::GET,
        &format!("/trace/back?id={}", query_encoded(MADE_LOT)),
        None,
    )
    .await;
    let excursions = back["excursions"].as_array().unwrap_or_else(|| panic!("{back:#}"));
    assert_eq!(excursions.len(), 1, "{back:#}");
    let excursion = &excursions[0];
    assert_eq!(excursion["entry"], entry_of(&record));
    assert_eq!(excursion["lots"], json!([LOT]));
    assert_eq!(excursion["limit"], record["limit"]);
    assert_eq!(excursion["observed"], record["observed"]);
    assert_eq!(excursion["started"], "2026-03-01T10:10:00.000Z");
    assert_eq!(excursion["ended"], "2026-03-01T10:45:00.000Z");
    assert_eq!(excursion["figures"]["device"], LOGGER);
    assert_eq!(excursion["figures"]["max_celsius"], 9.0);
    assert_eq!(excursion["figures"]["duration_ms"], 35 * 60_000);
    assert!(back["names"]["organisations"][&producer]["name"].is_string(), "{back:#}");
    let keys: Vec<&str> = back.as_object().unwrap().keys().map(String::as_str).collect();
    let at = |key: &str| keys.iter().position(|name| *name == key).unwrap();
    assert!(at("names") < at("excursions") && at("excursions") < at("evidence"), "{keys:?}");

    // Recall of the chilled lot carries it too.
    let recall =
        send(&cluster, reqwest::Method::POST, "/recall/scope", Some(&json!({"lots": [LOT]}))).await;
    assert_eq!(recall["excursions"], back["excursions"], "{recall:#}");

    // An answer that reaches no excursion leaves the field out.
    let plain = send(
        &cluster,
        reqwest::Method::GET,
        &format!("/trace/back?id={}", query_encoded(PLAIN_LOT)),
        None,
    )
    .await;
    assert!(plain.get("excursions").is_none(), "{plain:#}");

    // The client verifies both, the excursion's record among the evidence.
    let client = lotline_client::Client::connect(
        &cluster.url(0),
        Some(cluster.token(0).to_owned()),
        Policy::default(),
    )
    .unwrap();
    let (traced, recalled) = tokio::task::spawn_blocking(move || {
        (
            client.trace(Direction::Back, MADE_LOT).unwrap(),
            client.recall_scope(&json!({"lots": [LOT]})).unwrap(),
        )
    })
    .await
    .unwrap();
    for checked in [&traced, &recalled] {
        assert!(checked.verified(), "{:?}", checked.problems);
        assert_eq!(checked.reply.excursions().len(), 1);
        let entry = checked.reply.excursions()[0].entry;
        assert!(checked.evidence.entries.contains_key(&(entry.author.to_hex(), entry.sequence)));
    }

    // The FSMA 204 spreadsheet from the verified evidence notes the excursion on the chilled
    // lot's rows, as `lotline export fsma204` does.
    let window = fsma204::Window { from: None, to: None };
    let mut rows = fsma204::rows_from_events(
        &traced.evidence.events_json_ld(),
        window,
        &traced.evidence.master_data(),
    );
    fsma204::note_excursions(&mut rows, &traced.evidence.excursions());
    let cell = |lot: &str| rows.iter().find(|row| row.lot_link == lot).unwrap().cells()[17].clone();
    let observed = record["observed"].as_str().unwrap();
    assert!(cell(LOT).starts_with(&format!("observed {observed} from ")), "{rows:#?}");
    assert!(cell(LOT).ends_with(&format!("of feed {producer}")), "{rows:#?}");
    assert_eq!(cell(MADE_LOT), "", "the made lot has no excursion of its own");

    // A reply whose excursion claims another observed value than its signed record is refused.
    let genuine: TraceReply = serde_json::from_value(back.clone()).unwrap();
    assert_eq!(verify_excursions_of_trace(&genuine), Vec::new());
    let mut tampered_json = back.clone();
    tampered_json["excursions"][0]["observed"] = json!("4.5 CEL");
    let tampered: TraceReply = serde_json::from_value(tampered_json).unwrap();
    let problems = verify_excursions_of_trace(&tampered);
    assert!(
        matches!(problems.as_slice(), [VerifyError::ExcursionMismatch { field: "observed", .. }]),
        "{problems:?}"
    );
    let mut tampered_recall = recall.clone();
    tampered_recall["excursions"][0]["figures"]["max_celsius"] = json!(4.1);
    let tampered_recall: RecallReply = serde_json::from_value(tampered_recall).unwrap();
    let evidence =
        verify::verify_bundles(&tampered_recall.evidence.bundles, &[], &WitnessPolicy::none())
            .unwrap();
    let problems = verify::check_excursions(
        &tampered_recall.excursions,
        &tampered_recall.answer.trace,
        &evidence,
    );
    assert!(
        matches!(
            problems.as_slice(),
            [VerifyError::ExcursionMismatch { field: "figures.max_celsius", .. }]
        ),
        "{problems:?}"
    );
}

/// The client's checks of a trace reply's evidence, answer and excursions.
fn verify_excursions_of_trace(reply: &TraceReply) -> Vec<VerifyError> {
    let evidence =
        verify::verify_bundles(&reply.evidence.bundles, &[], &WitnessPolicy::none()).unwrap();
    let mut problems = verify::check_answer(&reply.answer, Some(&reply.subject), &evidence);
    problems.extend(verify::check_excursions(&reply.excursions, &reply.answer, &evidence));
    problems
}
