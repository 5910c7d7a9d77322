//! End-to-end trace tests: a generated supply chain captured over HTTP on several nodes,
//! replicated, then traced on a node that wrote none of it. The node's answers must equal the
//! ledger's own index over the same events, and every piece of evidence must verify offline.

use std::collections::BTreeSet;

use lotline_client::http::Transport;
use lotline_ledger::epcis;
use lotline_ledger::proof::{ProofBundle, WitnessPolicy, verify_bundle};
use lotline_ledger::trace::synthetic::{ChainConfig, generate};
use lotline_ledger::trace::{Index, query::Direction, subject::Subject};
use lotline_tests::cluster::{Cluster, DEFAULT_DEADLINE, wait_for};
use lotline_tests::fixtures::document_of;

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

    tokio::task::spawn_blocking(move || {
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
    })
    .await
    .unwrap();

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
