//! End-to-end trace tests: a generated supply chain captured over HTTP on several nodes,
//! replicated, then traced on a node that wrote none of it. The node's answers must equal the
//! ledger's own index over the same events, and every piece of evidence must verify offline.

use std::collections::BTreeSet;

use lotline_client::http::Transport;
use lotline_ledger::epcis;
use lotline_ledger::proof::{ProofBundle, WitnessPolicy, verify_bundle};
use lotline_ledger::trace::synthetic::{ChainConfig, generate};
use lotline_ledger::trace::{Direction, Hazard, Index, Text, subject::Subject};
use lotline_tests::cluster::{Cluster, DEFAULT_DEADLINE, wait_for};
use lotline_tests::fixtures::document_of;
use serde_json::json;

/// Events per captured document.
const EVENTS_PER_DOCUMENT: usize = 400;

fn get_json(transport: &Transport, path: &str, id: &str) -> serde_json::Value {
    let answer = transport.get(path, &[("id".to_owned(), id.to_owned())]).expect("trace answered");
    serde_json::from_slice(&answer.body).unwrap()
}

fn string_set(value: &serde_json::Value) -> BTreeSet<String> {
    value.as_array().unwrap().iter().map(|item| item.as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn traces_on_a_node_match_the_ledger_index_and_their_evidence_verifies() {
    let nodes = 4;
    let cluster = Cluster::start(nodes).await.unwrap();
    let mut config = ChainConfig::small(7);
    config.days = 6;
    let (organisations, entries) = generate(config);
    assert!(entries.len() > 200, "the generated chain has substance ({} events)", entries.len());

    // Each synthetic organisation's events are captured on one node, in the generator's order.
    for node in 0..nodes {
        let events: Vec<&epcis::Event> = entries
            .iter()
            .filter(|entry| entry.organisation % nodes == node)
            .map(|entry| &entry.event)
            .collect();
        for chunk in events.chunks(EVENTS_PER_DOCUMENT) {
            let document = document_of(chunk).unwrap();
            let transport =
                Transport::new(&cluster.url(node), Some(cluster.token(node).to_owned())).unwrap();
            tokio::task::spawn_blocking(move || {
                transport.post("/capture", "application/ld+json", &document)
            })
            .await
            .unwrap()
            .expect("capture accepted");
        }
    }
    let total = entries.len() as u64;
    wait_for("every node to hold the whole chain", DEFAULT_DEADLINE, || async {
        (0..nodes).all(|node| cluster.node(node).state.store().len() == total).then_some(())
    })
    .await
    .unwrap();

    // The reference: the ledger's index over the same events, applied in generation order.
    let mut index = Index::new();
    for entry in &entries {
        index.apply(entry.entry.clone(), &entry.event);
    }
    let lots: BTreeSet<String> = entries
        .iter()
        .flat_map(|entry| entry.event.quantity_list.iter().map(|element| element.epc_class.clone()))
        .filter_map(|class| Subject::parse(&class).ok().map(|subject| subject.link().to_owned()))
        .collect();
    assert!(lots.len() >= 10, "enough lots to trace ({})", lots.len());
    let trusted: Vec<_> = (0..nodes).map(|node| cluster.node(node).state.organisation()).collect();
    let transport = Transport::new(&cluster.url(3), None).unwrap();
    let sampled: Vec<String> = lots.iter().step_by(lots.len() / 10).cloned().collect();
    let _ = organisations;

    let index = tokio::task::spawn_blocking(move || {
        for lot in &sampled {
            let subject = Subject::parse(lot).unwrap();
            for (path, direction) in
                [("/trace/forward", Direction::Forward), ("/trace/back", Direction::Back)]
            {
                let expected = index.trace(std::slice::from_ref(&subject), direction);
                let answer = get_json(&transport, path, lot);
                let expected_lots: BTreeSet<String> =
                    expected.lots.iter().map(ToString::to_string).collect();
                assert_eq!(string_set(&answer["lots"]), expected_lots, "{path} {lot}: lots");
                let expected_events: BTreeSet<String> =
                    expected.events.iter().map(ToString::to_string).collect();
                assert_eq!(string_set(&answer["events"]), expected_events, "{path} {lot}: events");
                assert_eq!(
                    answer["consignees"].as_array().unwrap().len(),
                    expected.consignees.len(),
                    "{path} {lot}: consignees"
                );
                // Every relied-on entry is proven by a bundle that verifies offline.
                let mut proven = BTreeSet::new();
                for bundle in answer["evidence"]["bundles"].as_array().unwrap() {
                    let bundle: ProofBundle = serde_json::from_value(bundle.clone()).unwrap();
                    let verified = verify_bundle(&bundle, &trusted, &WitnessPolicy::none())
                        .unwrap_or_else(|error| {
                            panic!("{path} {lot}: evidence does not verify: {error}")
                        });
                    for entry in &bundle.entries {
                        proven.insert((verified.author().to_hex(), entry.index));
                    }
                }
                let unproven = answer["evidence"]["unproven"].as_array().unwrap().len();
                let relied_on: BTreeSet<(String, u64)> = answer["entries"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|entry| {
                        (
                            entry["author"].as_str().unwrap().to_owned(),
                            entry["sequence"].as_u64().unwrap(),
                        )
                    })
                    .collect();
                assert_eq!(
                    proven.len() + unproven,
                    relied_on.len(),
                    "{path} {lot}: evidence covers the answer"
                );
                assert!(proven.is_subset(&relied_on));
            }
        }
        index
    })
    .await
    .unwrap();

    // Recalls: once indexing is quiet the node summarises every lot's part in the background;
    // recalls then answer from the summaries, and an entry arriving later is reflected.
    while index.summarise_missing(64) > 0 {}
    let units = index.stats().summaries;
    let state = std::sync::Arc::clone(&cluster.node(3).state);
    wait_for("node 3 to summarise every lot", DEFAULT_DEADLINE, || async {
        (state.recall_summaries().0 == units).then_some(())
    })
    .await
    .unwrap();
    let recalled: Vec<String> = lots.iter().step_by(lots.len() / 5).cloned().collect();
    let transport = Transport::new(&cluster.url(3), Some(cluster.token(3).to_owned())).unwrap();
    let recall = move |lot: &str| -> serde_json::Value {
        let answer = transport
            .post(
                "/recall/scope",
                "application/json",
                json!({"lots": [lot]}).to_string().as_bytes(),
            )
            .expect("recall answered");
        serde_json::from_slice(&answer.body).unwrap()
    };
    let recall_for_later = recall.clone();
    let index = tokio::task::spawn_blocking(move || {
        for lot in &recalled {
            let expected = index.recall_scope(&Hazard::Lots(vec![Subject::parse(lot).unwrap()]));
            let answer = recall(lot);
            let texts = |values: &[Text]| -> BTreeSet<String> {
                values.iter().map(ToString::to_string).collect()
            };
            assert_eq!(string_set(&answer["lots"]), texts(&expected.trace.lots), "recall {lot}");
            let expected_events: BTreeSet<String> =
                expected.trace.events.iter().map(ToString::to_string).collect();
            assert_eq!(string_set(&answer["events"]), expected_events, "recall {lot}: events");
            for (field, length) in [
                ("consignees", expected.trace.consignees.len()),
                ("in_distribution", expected.trace.in_distribution.len()),
            ] {
                assert_eq!(
                    answer[field].as_array().unwrap().len(),
                    length,
                    "recall {lot}: {field}"
                );
            }
        }
        index
    })
    .await
    .unwrap();
    // A shipment of a summarised lot, captured on another node long after the chain: once
    // replicated, node 3's recall of the lot lists it as one more (unreceived) handoff.
    let shipped = entries
        .iter()
        .find(|entry| {
            entry
                .event
                .biz_step
                .as_ref()
                .is_some_and(|step| step.standard_word() == Some("shipping"))
                && entry.event.quantity_list.len() == 1
        })
        .expect("the chain ships lots");
    let lot = Subject::parse(&shipped.event.quantity_list[0].epc_class).unwrap().link().to_owned();
    let before = index.recall_scope(&Hazard::Lots(vec![Subject::parse(&lot).unwrap()]));
    let mut late_shipment = shipped.event.clone();
    late_shipment.event_time = epcis::Timestamp::parse("2030-01-01T00:00:00Z").unwrap();
    let document = document_of(&[&late_shipment]).unwrap();
    let writer = Transport::new(&cluster.url(0), Some(cluster.token(0).to_owned())).unwrap();
    tokio::task::spawn_blocking(move || writer.post("/capture", "application/ld+json", &document))
        .await
        .unwrap()
        .expect("late shipment captured");
    wait_for("node 3 to hold the late shipment", DEFAULT_DEADLINE, || async {
        (cluster.node(3).state.store().len() == total + 1).then_some(())
    })
    .await
    .unwrap();
    let after = tokio::task::spawn_blocking(move || recall_for_later(&lot)).await.unwrap();
    assert_eq!(
        after["consignees"].as_array().unwrap().len(),
        before.trace.consignees.len() + 1,
        "the late shipment is in the recall"
    );
    let late_hash_id = epcis::event_hash_id(&late_shipment);
    assert!(string_set(&after["events"]).contains(&late_hash_id));

    // Unknown identifiers give an empty answer with a clear message; bad ones a clear error.
    let transport = Transport::new(&cluster.url(3), None).unwrap();
    tokio::task::spawn_blocking(move || {
        let unknown = get_json(
            &transport,
            "/trace/forward",
            "https://id.gs1.org/01/09506000134352/10/NO-SUCH-LOT",
        );
        assert!(unknown["lots"].as_array().unwrap().len() <= 1);
        assert!(!unknown["warnings"].as_array().unwrap().is_empty(), "an unknown lot is reported");
        let error =
            transport.get("/trace/back", &[("id".to_owned(), "not an identifier".to_owned())]);
        assert!(error.is_err(), "a malformed identifier is refused");
    })
    .await
    .unwrap();
    cluster.shutdown().await;
}

/// A document with one shipment of 40 kg of `lot` from the farm to the packer.
fn one_shipment(lot: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2024-03-01T12:00:00.000Z",
        "epcisBody": {"eventList": [{
            "type": "ObjectEvent",
            "eventTime": "2024-03-01T10:00:00.000Z",
            "eventTimeZoneOffset": "+00:00",
            "action": "OBSERVE",
            "bizStep": "shipping",
            "disposition": "in_transit",
            "quantityList": [{"epcClass": lot, "quantity": 40, "uom": "KGM"}],
            "bizLocation": {"id": "https://id.gs1.org/414/4000000000013"},
            "sourceList": [{"type": "owning_party", "source": "https://id.gs1.org/417/4000000000013"}],
            "destinationList": [{"type": "owning_party", "destination": "https://id.gs1.org/417/4000000000020"}]
        }]}
    }))
    .unwrap()
}

/// Posts a capture on node `index` and returns (status, job).
async fn post_capture(
    cluster: &Cluster,
    index: usize,
    document: Vec<u8>,
) -> (u16, serde_json::Value) {
    let transport =
        Transport::new(&cluster.url(index), Some(cluster.token(index).to_owned())).unwrap();
    tokio::task::spawn_blocking(move || {
        let answer =
            transport.post("/capture", "application/ld+json", &document).expect("capture accepted");
        (answer.status, serde_json::from_slice(&answer.body).unwrap())
    })
    .await
    .unwrap()
}

/// The forward trace of `lot` on node `index`: its consignees as (party, quantity).
fn forward_consignees(cluster: &Cluster, index: usize, lot: &str) -> Vec<(String, f64)> {
    let transport = Transport::new(&cluster.url(index), None).unwrap();
    let answer = get_json(&transport, "/trace/forward", lot);
    answer["consignees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|handoff| {
            (handoff["party"].as_str().unwrap().to_owned(), handoff["quantity"].as_f64().unwrap())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn capturing_a_document_twice_stores_each_event_once() {
    let cluster = Cluster::start(1).await.unwrap();
    let lot = "https://id.gs1.org/01/09506000134352/10/TWICE";
    let (status, first) = post_capture(&cluster, 0, one_shipment(lot)).await;
    assert_eq!(status, 202, "{first}");
    assert_eq!(first["alreadyRecorded"], json!([]));
    let entries = cluster.node(0).state.store().len();
    let (status, second) = post_capture(&cluster, 0, one_shipment(lot)).await;
    assert_eq!(status, 202, "{second}");
    assert_eq!(second["success"], json!(true));
    assert_eq!(second["eventIDs"], first["eventIDs"]);
    assert_eq!(second["sequences"], json!([]));
    assert_eq!(
        second["alreadyRecorded"],
        json!([{
            "eventID": first["eventIDs"][0],
            "author": cluster.node(0).state.organisation_hex(),
            "sequence": first["sequences"][0],
        }])
    );
    assert_ne!(second["captureID"], first["captureID"]);
    assert_eq!(cluster.node(0).state.store().len(), entries, "the second capture appended");
    // A document repeating an event stores it once too.
    let other_lot = "https://id.gs1.org/01/09506000134352/10/REPEATED";
    let mut repeated: serde_json::Value = serde_json::from_slice(&one_shipment(other_lot)).unwrap();
    let event = repeated["epcisBody"]["eventList"][0].clone();
    repeated["epcisBody"]["eventList"].as_array_mut().unwrap().push(event);
    let (status, job) = post_capture(&cluster, 0, serde_json::to_vec(&repeated).unwrap()).await;
    assert_eq!(status, 202, "{job}");
    assert_eq!(job["sequences"].as_array().unwrap().len(), 1, "{job}");
    assert_eq!(cluster.node(0).state.store().len(), entries + 1);
    assert_eq!(
        forward_consignees(&cluster, 0, lot),
        vec![("https://id.gs1.org/417/4000000000020".to_owned(), 40.0)]
    );
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_event_captured_by_two_organisations_counts_once_in_a_trace() {
    let mut cluster = Cluster::start(2).await.unwrap();
    // Two islands, so each node captures the event before it sees the other's copy.
    cluster.stop_node(0).await;
    cluster.stop_node(1).await;
    cluster.start_island(&[0]).await.unwrap();
    cluster.start_island(&[1]).await.unwrap();
    let lot = "https://id.gs1.org/01/09506000134352/10/BOTH";
    let (status, on_zero) = post_capture(&cluster, 0, one_shipment(lot)).await;
    assert_eq!(status, 202, "{on_zero}");
    let (status, on_one) = post_capture(&cluster, 1, one_shipment(lot)).await;
    assert_eq!(status, 202, "{on_one}");
    assert_eq!(on_zero["eventIDs"], on_one["eventIDs"]);
    assert_eq!(on_one["alreadyRecorded"], json!([]), "the islands share nothing yet");
    let event_id = on_zero["eventIDs"][0].as_str().unwrap().to_owned();
    cluster.connect(1, 0).await.unwrap();
    wait_for("both nodes to hold both copies", DEFAULT_DEADLINE, || async {
        (0..2)
            .all(|node| {
                cluster.node(node).state.store().entries_by_event_id(&event_id).unwrap().len() == 2
            })
            .then_some(())
    })
    .await
    .unwrap();
    let expected = vec![("https://id.gs1.org/417/4000000000020".to_owned(), 40.0)];
    for node in 0..2 {
        // The catalogue and the lot graph are updated together: once the query lists both
        // copies, the trace has seen both.
        wait_for("both copies to be indexed", DEFAULT_DEADLINE, || async {
            let transport =
                Transport::new(&cluster.url(node), Some(cluster.token(node).to_owned())).unwrap();
            let answer = tokio::task::spawn_blocking(move || {
                transport.get("/events", &[("EQ_bizStep".to_owned(), "shipping".to_owned())])
            })
            .await
            .unwrap()
            .ok()?;
            let page: serde_json::Value = serde_json::from_slice(&answer.body).ok()?;
            let events =
                page["epcisBody"]["queryResults"]["resultsBody"]["eventList"].as_array()?;
            (events.len() == 2).then_some(())
        })
        .await
        .unwrap();
        let consignees = {
            let cluster = &cluster;
            tokio::task::block_in_place(|| forward_consignees(cluster, node, lot))
        };
        assert_eq!(consignees, expected, "node {node}");
        // The trace relies on one copy, the same one on both nodes whatever arrived first.
        let transport = Transport::new(&cluster.url(node), None).unwrap();
        let lot = lot.to_owned();
        let answer =
            tokio::task::block_in_place(move || get_json(&transport, "/trace/forward", &lot));
        let cited = answer["entries"].as_array().unwrap();
        assert_eq!(cited.len(), 1, "node {node}: {answer}");
        let first_author =
            [cluster.node(0).state.organisation_hex(), cluster.node(1).state.organisation_hex()]
                .into_iter()
                .min()
                .unwrap();
        assert_eq!(cited[0]["author"].as_str(), Some(first_author.as_str()), "node {node}");
    }
    // Capturing it again on either node records nothing more.
    let (status, again) = post_capture(&cluster, 1, one_shipment(lot)).await;
    assert_eq!(status, 202, "{again}");
    assert_eq!(again["sequences"], json!([]));
    assert_eq!(again["alreadyRecorded"].as_array().unwrap().len(), 1, "{again}");
    cluster.shutdown().await;
}
