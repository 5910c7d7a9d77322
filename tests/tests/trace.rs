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
