//! Shared fixtures of the end-to-end tests: an EPCISDocument built from model events, and a
//! lying node (an HTTP proxy in front of a real node that tampers with trace evidence).
//!
//! Owns: how tests make capture bodies and how they fake a dishonest node, so every test that
//! checks "the client catches a lie" lies the same way. Does not own: the cluster itself
//! (see [`crate::cluster`]) nor what the client does with the lie.

use std::net::SocketAddr;

use anyhow::Context;
use lotline_ledger::epcis;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The JSON-LD EPCISDocument carrying `events`, as `POST /capture` takes it.
pub fn document_of(events: &[&epcis::Event]) -> anyhow::Result<Vec<u8>> {
    let event_values: Vec<Value> =
        events.iter().map(|event| epcis::event_to_json_ld(event)).collect();
    serde_json::to_vec(&json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2024-03-01T12:00:00.000Z",
        "epcisBody": {"eventList": event_values}
    }))
    .context("an EPCISDocument serialises")
}

/// Flips one base64 character in the middle of the first entry of the first evidence bundle
/// of `document` (`{"evidence": {"bundles": …}}` as trace answers and proof files carry it,
/// or `{"bundles": …}` as `/proofs` serves it), keeping the JSON and the base64 valid so only
/// the signature check can tell. Returns whether there was an entry to tamper with.
pub fn tamper_with_evidence(document: &mut Value) -> bool {
    let pointer = if document.get("evidence").is_some() {
        "/evidence/bundles/0/entries/0/entry"
    } else {
        "/bundles/0/entries/0/entry"
    };
    let Some(entry) = document.pointer_mut(pointer) else { return false };
    let Some(text) = entry.as_str().filter(|text| !text.is_empty()) else { return false };
    let mut tampered = text.to_owned();
    let middle = tampered.len() / 2;
    let replacement = if &tampered[middle..=middle] == "A" { "B" } else { "A" };
    tampered.replace_range(middle..=middle, replacement);
    *entry = Value::String(tampered);
    true
}

/// A lying node: an HTTP proxy in front of `upstream` that forwards GET requests and tampers
/// with the evidence of every trace answer ([`tamper_with_evidence`]). Returns its address.
pub async fn tampering_proxy(upstream: SocketAddr) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(relay_one_request(client, upstream));
        }
    });
    Ok(address)
}

/// Serves one request of the lying node: reads the request head, asks `upstream` for the same
/// path, and answers with the (tampered, for traces) body. Any failure just drops the client.
async fn relay_one_request(mut client: tokio::net::TcpStream, upstream: SocketAddr) {
    let mut request = Vec::new();
    let mut buffer = [0u8; 4096];
    while !request.windows(4).any(|window| window == b"\r\n\r\n") {
        match client.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => request.extend_from_slice(&buffer[..read]),
        }
    }
    let request_text = String::from_utf8_lossy(&request).into_owned();
    let Some(path) = request_text.split_whitespace().nth(1).map(str::to_owned) else { return };
    let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await else { return };
    let forwarded = format!("GET {path} HTTP/1.1\r\nHost: {upstream}\r\nConnection: close\r\n\r\n");
    if server.write_all(forwarded.as_bytes()).await.is_err() {
        return;
    }
    let mut response = Vec::new();
    let _ = server.read_to_end(&mut response).await;
    let Some(split) = response.windows(4).position(|window| window == b"\r\n\r\n") else {
        return;
    };
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let status_line = head.lines().next().unwrap_or("HTTP/1.1 502 Bad Gateway").to_owned();
    let mut body = response[split + 4..].to_vec();
    if path.starts_with("/trace/")
        && let Ok(mut answer) = serde_json::from_slice::<Value>(&body)
        && tamper_with_evidence(&mut answer)
        && let Ok(tampered) = serde_json::to_vec(&answer)
    {
        body = tampered;
    }
    let reply = format!(
        "{status_line}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = client.write_all(reply.as_bytes()).await;
    let _ = client.write_all(&body).await;
}
