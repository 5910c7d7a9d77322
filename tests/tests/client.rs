//! The client library against real nodes: answers verify end to end, and a node that returns
//! a tampered entry is caught.

use lotline_client::client::Direction;
use lotline_client::verify::Policy;
use lotline_client::{Client, http::Transport};
use lotline_ledger::epcis;
use lotline_ledger::trace::subject::Subject;
use lotline_ledger::trace::synthetic::{ChainConfig, generate};
use lotline_tests::cluster::{Cluster, DEFAULT_DEADLINE, wait_for};
use lotline_tests::fixtures::{document_of, tampering_proxy};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_client_verifies_honest_answers_and_catches_a_tampered_entry() {
    let cluster = Cluster::start(4).await.unwrap();
    let mut config = ChainConfig::small(11);
    config.days = 4;
    let (_, entries) = generate(config);
    let events: Vec<&epcis::Event> = entries.iter().map(|entry| &entry.event).collect();
    let document = document_of(&events).unwrap();
    let writer =
        Client::connect(&cluster.url(0), Some(cluster.token(0).to_owned()), Policy::default())
            .unwrap();
    let job = tokio::task::spawn_blocking(move || writer.capture(&document, "application/ld+json"))
        .await
        .unwrap();
    job.expect("capture accepted");

    // Wait until the regulator's node holds the feed and a checkpoint covering all of it.
    let author = cluster.node(0).state.organisation();
    let total = entries.len() as u64;
    wait_for("the regulator to hold the checkpointed feed", DEFAULT_DEADLINE, || async {
        let note = cluster.node(3).state.checkpoint_note_for(&author)?;
        (note.lines().nth(1)? == total.to_string()).then_some(())
    })
    .await
    .unwrap();

    let lot = entries
        .iter()
        .flat_map(|entry| entry.event.quantity_list.iter().map(|element| element.epc_class.clone()))
        .find_map(|class| Subject::parse(&class).ok())
        .expect("a lot to trace")
        .link()
        .to_owned();
    let honest_url = cluster.url(3);
    let proxy = tampering_proxy(cluster.node(3).http_address).await.unwrap();
    let lying_url = format!("http://{proxy}");
    let regulator_url = cluster.url(3);
    let regulator_token = cluster.token(3).to_owned();
    let producer_url = cluster.url(0);
    let producer_token = cluster.token(0).to_owned();
    tokio::task::spawn_blocking(move || {
        let honest = Client::connect(&honest_url, None, Policy::default()).unwrap();
        let answer = honest.trace(Direction::Forward, &lot).expect("trace answered");
        assert!(answer.verified(), "an honest node's answer verifies: {:?}", answer.problems);
        assert!(answer.answer().lots.iter().any(|reached| **reached == *lot));
        assert!(!answer.answer().events.is_empty());

        let lying = Client::connect(&lying_url, None, Policy::default()).unwrap();
        let caught = match lying.trace(Direction::Forward, &lot) {
            Ok(answer) => !answer.verified(),
            Err(_) => true,
        };
        assert!(caught, "a tampered entry must be caught by the client");

        // A regulator's recall notice is served with its proof, and the client verifies it.
        let regulator = Client::connect(&regulator_url, Some(regulator_token), Policy::default()).unwrap();
        let receipt = regulator
            .submit_record(&serde_json::json!({
                "kind": "recall_notice", "recall_id": "R-1", "class": "I", "lots": [lot.clone()],
                "hazard": "Listeria monocytogenes", "instructions": "stop sale"
            }))
            .expect("a regulator may issue a recall");
        let _ = receipt;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let records = regulator.records("recall_notice").expect("records listed");
            if records.iter().any(|(_, verified)| *verified) {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "the recall notice never came with a verified proof");
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        // A producer may not issue one: the role rules are enforced.
        let producer = Client::connect(&producer_url, Some(producer_token), Policy::default()).unwrap();
        assert!(producer
            .submit_record(&serde_json::json!({"kind": "recall_notice", "recall_id": "R-2", "lots": [lot.clone()], "hazard": "x"}))
            .is_err());

        // A wrong identifier is an error, not a panic.
        let transport = Transport::new(&honest_url, None).unwrap();
        assert!(transport.get("/trace/back", &[("id".to_owned(), "nonsense".to_owned())]).is_err());
    })
    .await
    .unwrap();
    cluster.shutdown().await;
}
