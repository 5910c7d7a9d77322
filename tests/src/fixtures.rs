//! Shared fixtures of the end-to-end tests: an EPCISDocument built from model events, a lying
//! node (an HTTP proxy in front of a real node that tampers with trace evidence), a raw
//! HTTP/1.1 client for tests that must control every byte sent (limits, bad requests), and
//! extra roster members no node runs, whose keys a test holds to play a member turned hostile.
//!
//! Owns: how tests make capture bodies, send requests as a node's organisation and name a
//! record's entry, and how they fake a dishonest node or member, so every test that checks
//! "the client catches a lie" lies the same way. Does not own: the cluster
//! itself (see [`crate::cluster`]) nor what the client does with the lie.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::Context;
use lotline_ledger::epcis;
use lotline_ledger::gs1::check_digit::with_mod10_check_digit;
use lotline_ledger::identity::Keypair;
use lotline_ledger::roster::{Genesis, Member, Role};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// An EPCISDocument with `vocabulary_list` (master data) in its header and `events`, as
/// `POST /capture` takes it.
pub fn capture_document(vocabulary_list: Value, events: Value) -> Value {
    json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-03-01T12:00:00.000Z",
        "epcisHeader": {"epcisMasterData": {"vocabularyList": vocabulary_list}},
        "epcisBody": {"eventList": events}
    })
}

/// Sends `body` (of `content_type`) to node `index` of `cluster` with that node's token: a
/// request made as the organisation that runs the node.
pub async fn send_as(
    cluster: &crate::cluster::Cluster,
    index: usize,
    method: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> HttpAnswer {
    let authorization = format!("Bearer {}", cluster.token(index));
    exchange(
        cluster.node(index).http_address,
        method,
        path,
        &[("Content-Type", content_type), ("Authorization", &authorization)],
        body,
    )
    .await
    .unwrap_or_else(|error| panic!("{method} {path} on node {index}: {error:#}"))
}

/// [`send_as`] with a JSON-LD body: what capture and record posts send.
pub async fn send_json_ld(
    cluster: &crate::cluster::Cluster,
    index: usize,
    method: &str,
    path: &str,
    body: &[u8],
) -> HttpAnswer {
    send_as(cluster, index, method, path, "application/ld+json", body).await
}

/// `value` percent-encoded for a query string (unreserved characters kept).
pub fn query_encoded(value: &str) -> String {
    value.bytes().fold(String::new(), |mut out, byte| {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
        out
    })
}

/// The entry a record answer names, as an acknowledgement cites it:
/// `{author, sequence, entry_hash}`.
pub fn entry_of(record: &Value) -> Value {
    json!({"author": record["author"], "sequence": record["sequence"], "entry_hash": record["entry_hash"]})
}

/// How long [`exchange`] waits for an answer: a node that waits for a body it will refuse
/// would blow through it.
pub const ANSWER_DEADLINE: std::time::Duration = std::time::Duration::from_secs(20);

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

/// Rewrites a test cluster's genesis, before its nodes start, to admit one extra producer per
/// key seed in `seeds` (named `mallory-<n>`): organisations no node runs, whose keys the test
/// holds, so it can run a libp2p peer with a member's identity or sign as that member. The
/// genesis is signed again with the cluster's governance key, which
/// `lotline_node::cluster::prepare` keeps beside it. Seeds already admitted are skipped, so
/// calling it from `Cluster::start_with`'s per-node hook is fine.
pub fn admit_extra_members(genesis_file: &Path, seeds: &[[u8; 32]]) -> anyhow::Result<()> {
    let directory = genesis_file.parent().context("the genesis file has a directory")?;
    let governance = Keypair::read_from_file(&directory.join("governance.key"))?;
    let mut genesis = Genesis::from_json(&std::fs::read_to_string(genesis_file)?)?;
    let mut admitted = false;
    for seed in seeds {
        let key = Keypair::from_seed(*seed).public_key();
        if genesis.members.iter().any(|member| member.key == key) {
            continue;
        }
        let number = genesis.members.len();
        let gln_body = format!("0950600{:05}", 90_000 + number);
        genesis.members.push(Member {
            key,
            name: format!("mallory-{number}"),
            gln: with_mod10_check_digit(&gln_body).unwrap_or(gln_body),
            roles: [Role::Producer].into(),
            prefixes: Default::default(),
        });
        admitted = true;
    }
    if admitted {
        genesis.signatures.clear();
        genesis.sign(&governance)?;
        std::fs::write(genesis_file, genesis.to_json())?;
    }
    Ok(())
}

/// An HTTP answer read off a raw socket.
#[derive(Debug)]
pub struct HttpAnswer {
    /// The status code.
    pub status: u16,
    /// Header names (lower case) and values.
    pub headers: Vec<(String, String)>,
    /// The body (as framed by `Content-Length`, or up to the end of the stream).
    pub body: Vec<u8>,
}

impl HttpAnswer {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(header, _)| header == name).map(|(_, value)| value.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> anyhow::Result<Value> {
        serde_json::from_slice(&self.body).with_context(|| {
            format!("the body is not JSON: {}", String::from_utf8_lossy(&self.body))
        })
    }
}

/// Sends one complete HTTP/1.1 request (`body` with its exact `Content-Length`,
/// `Connection: close`) and reads the answer within [`ANSWER_DEADLINE`].
pub async fn exchange(
    address: SocketAddr,
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> anyhow::Result<HttpAnswer> {
    let mut stream = TcpStream::connect(address).await?;
    let mut head = format!(
        "{method} {path_and_query} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\
         Content-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    tokio::time::timeout(ANSWER_DEADLINE, read_answer(&mut stream))
        .await
        .context("no answer within the deadline")?
}

/// Reads one HTTP/1.1 answer: the head, then a `Content-Length` body or everything to the end.
pub async fn read_answer(stream: &mut (impl AsyncRead + Unpin)) -> anyhow::Result<HttpAnswer> {
    let mut received = Vec::new();
    let mut buffer = vec![0u8; 16 * 1024];
    let head_end = loop {
        if let Some(position) = received.windows(4).position(|window| window == b"\r\n\r\n") {
            break position;
        }
        let read = stream.read(&mut buffer).await.context("reading the answer head")?;
        anyhow::ensure!(read > 0, "the connection closed before an answer");
        received.extend_from_slice(&buffer[..read]);
    };
    let head = String::from_utf8_lossy(&received[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .with_context(|| format!("bad status line {status_line:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let mut body = received[head_end + 4..].to_vec();
    let length = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse::<usize>().ok());
    loop {
        if length.is_some_and(|length| body.len() >= length) {
            break;
        }
        let read = stream.read(&mut buffer).await.context("reading the answer body")?;
        if read == 0 {
            anyhow::ensure!(length.is_none(), "the connection closed mid-body");
            break;
        }
        body.extend_from_slice(&buffer[..read]);
    }
    body.truncate(length.unwrap_or(body.len()));
    Ok(HttpAnswer { status, headers, body })
}
