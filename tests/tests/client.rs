//! The client library against real nodes: answers verify end to end, and a node that returns
//! a tampered entry is caught.

use std::net::SocketAddr;

use lotline_client::client::Direction;
use lotline_client::verify::Policy;
use lotline_client::{Client, http::Transport};
use lotline_ledger::epcis;
use lotline_ledger::trace::subject::Subject;
use lotline_ledger::trace::synthetic::{ChainConfig, generate};
use lotline_tests::cluster::{Cluster, DEFAULT_DEADLINE, wait_for};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn document_of(events: &[&epcis::Event]) -> Vec<u8> {
    let event_values: Vec<serde_json::Value> =
        events.iter().map(|event| epcis::event_to_json_ld(event)).collect();
    serde_json::to_vec(&serde_json::json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2024-03-01T12:00:00.000Z",
        "epcisBody": {"eventList": event_values}
    }))
    .unwrap()
}

/// Flips one base64 character of the first entry of the first evidence bundle.
fn tamper(body: &[u8]) -> Vec<u8> {
    let mut answer: serde_json::Value = match serde_json::from_slice(body) {
        Ok(answer) => answer,
        Err(_) => return body.to_vec(),
    };
    if let Some(entry) = answer.pointer_mut("/evidence/bundles/0/entries/0/entry") {
        let mut text = entry.as_str().unwrap_or_default().to_owned();
        let middle = text.len() / 2;
        let replacement = if &text[middle..=middle] == "A" { "B" } else { "A" };
        text.replace_range(middle..=middle, replacement);
        *entry = serde_json::Value::String(text);
    }
    serde_json::to_vec(&answer).unwrap()
}

/// A lying node: an HTTP proxy in front of a real node that tampers with trace evidence.
async fn tampering_proxy(upstream: SocketAddr) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                while !request.windows(4).any(|window| window == b"\r\n\r\n") {
                    let Ok(read) = client.read(&mut buffer).await else { return };
                    if read == 0 {
                        return;
                    }
                    request.extend_from_slice(&buffer[..read]);
                }
                let request_text = String::from_utf8_lossy(&request).into_owned();
                let Some(path) = request_text.split_whitespace().nth(1).map(str::to_owned) else {
                    return;
                };
                let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await else { return };
                let forwarded =
                    format!("GET {path} HTTP/1.1\r\nHost: {upstream}\r\nConnection: close\r\n\r\n");
                if server.write_all(forwarded.as_bytes()).await.is_err() {
                    return;
                }
                let mut response = Vec::new();
                let _ = server.read_to_end(&mut response).await;
                let Some(split) = response.windows(4).position(|window| window == b"\r\n\r\n")
                else {
                    return;
                };
                let head = String::from_utf8_lossy(&response[..split]).into_owned();
                let status_line =
                    head.lines().next().unwrap_or("HTTP/1.1 502 Bad Gateway").to_owned();
                let mut body = response[split + 4..].to_vec();
                if path.starts_with("/trace/") {
                    body = tamper(&body);
                }
                let reply = format!(
                    "{status_line}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = client.write_all(reply.as_bytes()).await;
                let _ = client.write_all(&body).await;
            });
        }
    });
    address
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_client_verifies_honest_answers_and_catches_a_tampered_entry() {
    let cluster = Cluster::start(4).await.unwrap();
    let mut config = ChainConfig::small(11);
    config.days = 4;
    let (_, entries) = generate(config);
    let events: Vec<&epcis::Event> = entries.iter().map(|entry| &entry.event).collect();
    let document = document_of(&events);
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
    let proxy = tampering_proxy(cluster.node(3).http_address).await;
    let lying_url = format!("http://{proxy}");
    let regulator_url = cluster.url(3);
    let regulator_token = cluster.token(3).to_owned();
    let producer_url = cluster.url(0);
    let producer_token = cluster.token(0).to_owned();
    tokio::task::spawn_blocking(move || {
        let honest = Client::connect(&honest_url, None, Policy::default()).unwrap();
        let answer = honest.trace(Direction::Forward, &lot).expect("trace answered");
        assert!(answer.verified(), "an honest node's answer verifies: {:?}", answer.problems);
        assert!(answer.answer.lots.contains(&lot));
        assert!(!answer.answer.events.is_empty());

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
