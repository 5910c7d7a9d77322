//! Hostile values over HTTP: every identifier and value is judged before it is signed, and a
//! refusal is an RFC 7807 problem whose `detail` names the field, with nothing stored.
//!
//! Owns the HTTP-level cases: identifiers with control, escape and bidirectional-override
//! characters, EPC URNs outside ASCII, Digital Links with wrong check digits wherever an event
//! carries an identifier, bodies in another binding than their `Content-Type`, record `lots`
//! that are markup or formulas, acknowledgements of unknown notices, excursions ending before
//! they start, and recall hazards with unknown or conflicting keys. Does not own the rules
//! themselves (`lotline_ledger::gs1::check_identifier`, `lotline_ledger::records::check_lot`,
//! `lotline_node::http`), whose unit tests live beside them.

use lotline_tests::cluster::Cluster;
use lotline_tests::fixtures::{HttpAnswer, send_as as send};
use serde_json::{Value, json};

/// A valid shipping event; each case breaks one field of it.
fn valid_event() -> Value {
    json!({
        "type": "ObjectEvent",
        "eventTime": "2024-03-01T10:00:00.000Z",
        "eventTimeZoneOffset": "+00:00",
        "action": "OBSERVE",
        "bizStep": "shipping",
        "disposition": "in_transit",
        "epcList": ["https://id.gs1.org/01/09506000134352/21/1"],
        "quantityList": [{"epcClass": "https://id.gs1.org/01/09506000134352/10/L1", "quantity": 4, "uom": "KGM"}],
        "readPoint": {"id": "https://id.gs1.org/414/9506000000008"},
        "bizLocation": {"id": "urn:epc:id:sgln:4012345.00011.987"}
    })
}

fn document_of(event: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2024-03-01T12:00:00.000Z",
        "epcisBody": {"eventList": [event]}
    }))
    .unwrap()
}

/// Asserts a refusal: `status`, problem `type`, a `detail` naming `field`, and no entry stored.
async fn assert_refused(
    cluster: &Cluster,
    label: &str,
    answer: HttpAnswer,
    status: u16,
    problem_type: &str,
    field: &str,
    entries_before: u64,
) {
    let problem = answer.json().unwrap_or(Value::Null);
    assert_eq!(answer.status, status, "{label}: {problem}");
    assert_eq!(answer.header("content-type"), Some("application/problem+json"), "{label}");
    assert_eq!(problem["type"], json!(problem_type), "{label}: {problem}");
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(detail.contains(field), "{label}: the detail names {field}: {detail}");
    assert_eq!(
        cluster.node(0).state.store().len(),
        entries_before,
        "{label}: something was stored"
    );
}

const VALIDATION: &str = "epcisException:ValidationException";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identifiers_are_judged_before_they_are_signed() {
    let cluster = Cluster::start(1).await.unwrap();
    let entries = cluster.node(0).state.store().len();
    let mut cases: Vec<(&str, Value, &str)> = Vec::new();
    for (label, location) in [
        ("bizLocation with NUL", "urn:epc:id:sgln:4012345.00011.9\u{0}87"),
        ("bizLocation with an ANSI escape", "https://example.com/site/\u{1b}[31mred\u{1b}[0m"),
        ("bizLocation with a right-to-left override", "urn:epc:id:sgln:4012345.00011.\u{202E}789"),
    ] {
        let mut event = valid_event();
        event["bizLocation"]["id"] = json!(location);
        cases.push((label, event, "bizLocation"));
    }
    let mut event = valid_event();
    event["epcList"] = json!(["urn:epc:id:sgtin:4012345.012345.caf\u{e9}"]);
    cases.push(("EPC URN with non-ASCII characters", event, "epcList"));
    // Wrong check digits (…134353 for …134352, …0000009 for …0000008) wherever an event names
    // an identifier.
    let mut event = valid_event();
    event["epcList"] = json!(["https://id.gs1.org/01/09506000134353/21/1"]);
    cases.push(("epcList Digital Link with a wrong check digit", event, "epcList"));
    let mut event = valid_event();
    event["bizLocation"]["id"] = json!("https://id.gs1.org/414/9506000000009");
    cases.push(("bizLocation Digital Link with a wrong check digit", event, "bizLocation"));
    let mut event = valid_event();
    event["readPoint"]["id"] = json!("https://id.gs1.org/414/9506000000009");
    cases.push(("readPoint Digital Link with a wrong check digit", event, "readPoint"));
    let mut event = valid_event();
    event["quantityList"][0]["epcClass"] = json!("https://id.gs1.org/01/09506000134353/10/L1");
    cases.push(("quantityList Digital Link with a wrong check digit", event, "quantityList[0]"));
    let aggregation = json!({
        "type": "AggregationEvent",
        "eventTime": "2024-03-01T10:00:00.000Z",
        "eventTimeZoneOffset": "+00:00",
        "action": "ADD",
        "parentID": "https://id.gs1.org/00/095060001343520003",
        "childEPCs": ["https://id.gs1.org/01/09506000134352/21/1"]
    });
    cases.push(("parentID Digital Link with a wrong check digit", aggregation, "parentID"));
    let mut event = valid_event();
    event["destinationList"] =
        json!([{"type": "owning_party", "destination": "https://id.gs1.org/417/9506000000009"}]);
    cases.push(("destination Digital Link with a wrong check digit", event, "destination"));

    for (label, event, field) in cases {
        let answer =
            send(&cluster, 0, "POST", "/capture", "application/ld+json", &document_of(event)).await;
        assert_refused(&cluster, label, answer, 400, VALIDATION, field, entries).await;
    }
    // The valid event itself is stored, so the refusals above are about their one field.
    let answer =
        send(&cluster, 0, "POST", "/capture", "application/ld+json", &document_of(valid_event()))
            .await;
    assert_eq!(answer.status, 202, "{:?}", answer.json());
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_in_another_binding_than_its_content_type_is_refused() {
    let cluster = Cluster::start(1).await.unwrap();
    let entries = cluster.node(0).state.store().len();
    let json_body = document_of(valid_event());
    let answer = send(&cluster, 0, "POST", "/capture", "application/xml", &json_body).await;
    assert_refused(
        &cluster,
        "JSON labelled XML",
        answer,
        415,
        "epcisException:UnsupportedMediaTypeException",
        "application/xml",
        entries,
    )
    .await;
    let xml_body = br#"<?xml version="1.0" encoding="UTF-8"?>
<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0" creationDate="2024-03-01T12:00:00.000Z">
  <EPCISBody><EventList><ObjectEvent>
    <eventTime>2024-03-01T10:00:00.000Z</eventTime><eventTimeZoneOffset>+00:00</eventTimeZoneOffset>
    <epcList><epc>https://id.gs1.org/01/09506000134352/21/1</epc></epcList>
    <action>OBSERVE</action>
  </ObjectEvent></EventList></EPCISBody>
</epcis:EPCISDocument>"#;
    let answer = send(&cluster, 0, "POST", "/capture", "application/ld+json", xml_body).await;
    assert_refused(
        &cluster,
        "XML labelled JSON-LD",
        answer,
        415,
        "epcisException:UnsupportedMediaTypeException",
        "application/ld+json",
        entries,
    )
    .await;
    // The same XML under its own media type is stored.
    let answer = send(&cluster, 0, "POST", "/capture", "application/xml", xml_body).await;
    assert_eq!(answer.status, 202, "{:?}", answer.json());
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_name_real_lots_notices_and_ordered_times() {
    // Node 0 holds a product (producer): it may write excursions and acknowledgements.
    let cluster = Cluster::start(1).await.unwrap();
    let entries = cluster.node(0).state.store().len();
    let good_lot = "https://id.gs1.org/01/09506000134352/10/L1";
    for (position, hostile) in
        [(1, "<script>alert(1)</script>"), (1, "=HYPERLINK(\"https://evil.example\",\"x\")")]
    {
        let record = json!({
            "kind": "excursion", "lots": [good_lot, hostile], "measurement": "gs1:Temperature",
            "limit": "> 8 CEL", "observed": "12 CEL", "started": "2024-03-01T10:00:00Z"
        });
        let answer = send(
            &cluster,
            0,
            "POST",
            "/records",
            "application/json",
            record.to_string().as_bytes(),
        )
        .await;
        assert_refused(
            &cluster,
            hostile,
            answer,
            400,
            VALIDATION,
            &format!("lots[{position}]"),
            entries,
        )
        .await;
    }
    let backwards = json!({
        "kind": "excursion", "lots": [good_lot], "measurement": "gs1:Temperature",
        "limit": "> 8 CEL", "observed": "12 CEL",
        "started": "2024-03-01T10:00:00Z", "ended": "2024-03-01T09:00:00Z"
    });
    let answer =
        send(&cluster, 0, "POST", "/records", "application/json", backwards.to_string().as_bytes())
            .await;
    assert_refused(&cluster, "excursion ending first", answer, 400, VALIDATION, "ended", entries)
        .await;
    let organisation = cluster.node(0).state.organisation_hex();
    let acknowledgement = json!({
        "kind": "recall_ack", "recall_id": "R-404", "action": "held", "quantity_held": "0",
        "notice": {"author": organisation, "sequence": 9999, "entry_hash": "ab".repeat(32)}
    });
    let answer = send(
        &cluster,
        0,
        "POST",
        "/records",
        "application/json",
        acknowledgement.to_string().as_bytes(),
    )
    .await;
    assert_refused(&cluster, "unknown notice", answer, 400, VALIDATION, "notice", entries).await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recall_hazards_with_unknown_or_conflicting_keys_are_refused() {
    let cluster = Cluster::start(1).await.unwrap();
    let entries = cluster.node(0).state.store().len();
    let lot = "https://id.gs1.org/01/09506000134352/10/L1";
    for (label, hazard, key) in [
        ("unknown key", json!({"lots": [lot], "lot_filter": "x"}), "lot_filter"),
        (
            "lots and facility",
            json!({"lots": [lot], "facility": "9506000000008", "from": "2024-01-01T00:00:00Z", "to": "2024-02-01T00:00:00Z"}),
            "facility",
        ),
        (
            "facility and ingredient",
            json!({"facility": "9506000000008", "ingredient": "09506000134352"}),
            "ingredient",
        ),
    ] {
        let answer = send(
            &cluster,
            0,
            "POST",
            "/recall/scope",
            "application/json",
            hazard.to_string().as_bytes(),
        )
        .await;
        assert_refused(
            &cluster,
            label,
            answer,
            400,
            "epcisException:QueryParameterException",
            key,
            entries,
        )
        .await;
    }
    cluster.shutdown().await;
}
