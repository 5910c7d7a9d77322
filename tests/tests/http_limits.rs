//! The HTTP API's bounds against real nodes over raw sockets: the token is checked before a
//! body is read, request heads and bodies have a time limit, idle connections are closed,
//! open connections and expensive queries are capped, recall answers are bounded, every error
//! is an RFC 7807 problem, and the config file holding the token is private from the start.
//!
//! Owns: the end-to-end checks of `lotline_node::http`'s admission, limits and serving, each
//! waiting for the server's move with a deadline (short timeouts are configured per test).
//! Does not own: oversized bodies of authenticated clients (`hostile.rs`) nor the problem
//! documents of the ledger side's refusals (the query and trace tests).

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use lotline_node::config::Config;
use lotline_tests::cluster::{Cluster, DEFAULT_DEADLINE, wait_for};
use lotline_tests::fixtures::{ANSWER_DEADLINE, HttpAnswer, exchange, read_answer};
use lotline_tests::workload::shipping_document;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Short enough that a test waits for it, long enough that a busy machine meets it.
const SHORT_TIMEOUT_MS: u64 = 400;

/// One node whose config `adjust` edits; queries need the token unless `adjust` says otherwise.
async fn one_node(adjust: impl Fn(&mut Config)) -> Cluster {
    Cluster::start_with(1, |_, config| {
        config.public_queries = false;
        adjust(config);
    })
    .await
    .unwrap()
}

/// Asserts `answer` is a problem document with `status` and problem `type`.
fn assert_problem(answer: &HttpAnswer, status: u16, problem_type: &str) -> serde_json::Value {
    let body = String::from_utf8_lossy(&answer.body);
    assert_eq!(answer.status, status, "body: {body}");
    assert_eq!(answer.header("content-type"), Some("application/problem+json"), "body: {body}");
    let problem = answer.json().unwrap();
    assert_eq!(problem["status"], status);
    assert_eq!(problem["type"], problem_type);
    assert!(problem["title"].is_string() && problem["detail"].is_string(), "{problem}");
    problem
}

/// Waits until the server closes `stream` (end of stream or reset), reading and discarding
/// whatever it sends first; fails if it is still open after `deadline`.
async fn wait_for_close(stream: &mut TcpStream, deadline: Duration) -> anyhow::Result<()> {
    let mut buffer = [0u8; 4096];
    tokio::time::timeout(deadline, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .context("the server kept the connection open")
}

/// Sends `head` (a request head, complete or not) on a new connection.
async fn send_head(address: SocketAddr, head: &str) -> TcpStream {
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

async fn get(address: SocketAddr, path: &str, token: Option<&str>) -> HttpAnswer {
    let authorization = token.map(|token| format!("Bearer {token}"));
    let headers: Vec<(&str, &str)> =
        authorization.iter().map(|value| ("Authorization", value.as_str())).collect();
    exchange(address, "GET", path, &headers, b"").await.unwrap()
}

async fn post_json(address: SocketAddr, path: &str, token: &str, body: &[u8]) -> HttpAnswer {
    let authorization = format!("Bearer {token}");
    let headers = [("Content-Type", "application/json"), ("Authorization", authorization.as_str())];
    exchange(address, "POST", path, &headers, body).await.unwrap()
}

async fn capture(address: SocketAddr, token: &str, lot: &str) {
    let authorization = format!("Bearer {token}");
    let headers =
        [("Content-Type", "application/ld+json"), ("Authorization", authorization.as_str())];
    let answer =
        exchange(address, "POST", "/capture", &headers, &shipping_document(lot, 1).unwrap().body)
            .await
            .unwrap();
    assert_eq!(answer.status, 202, "body: {}", String::from_utf8_lossy(&answer.body));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_without_the_token_is_refused_401_before_it_is_read() {
    let cluster = one_node(|_| {}).await;
    let address = cluster.node(0).http_address;
    for (path, content_type) in [
        ("/capture", "application/ld+json"),
        ("/records", "application/json"),
        ("/recall/scope", "application/json"),
    ] {
        // A huge declared body, none sent: only a server that answers before reading it answers.
        let mut stream = send_head(
            address,
            &format!(
                "POST {path} HTTP/1.1\r\nHost: node\r\nContent-Type: {content_type}\r\n\
                 Content-Length: {}\r\n\r\n",
                1_u64 << 40
            ),
        )
        .await;
        let answer = tokio::time::timeout(ANSWER_DEADLINE, read_answer(&mut stream))
            .await
            .expect("answered without the body")
            .unwrap();
        assert_problem(&answer, 401, "epcisException:SecurityException");
        assert_eq!(answer.header("connection"), Some("close"), "{path}");
    }
    // No content type and no token: the missing token is what the client hears of.
    let answer = exchange(address, "POST", "/records", &[], b"{}").await.unwrap();
    assert_problem(&answer, 401, "epcisException:SecurityException");
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_need_the_token_unless_public_and_the_public_view_stays_open() {
    let cluster = one_node(|_| {}).await;
    let address = cluster.node(0).http_address;
    let token = cluster.token(0).to_owned();
    let trace = "/trace/back?id=09506000134352/LOT1";
    for path in [trace, "/events", "/capture", "/capture/unknown", "/events/unknown"] {
        assert_problem(&get(address, path, None).await, 401, "epcisException:SecurityException");
        assert_ne!(get(address, path, Some(&token)).await.status, 401, "{path} with the token");
    }
    let recall = br#"{"lots": ["09506000134352/LOT1"]}"#;
    let answer =
        exchange(address, "POST", "/recall/scope", &[("Content-Type", "application/json")], recall)
            .await
            .unwrap();
    assert_problem(&answer, 401, "epcisException:SecurityException");
    assert_eq!(post_json(address, "/recall/scope", &token, recall).await.status, 200);
    for path in ["/health", "/roster", "/feeds", "/forks", "/records", "/openapi.json", "/"] {
        assert_eq!(get(address, path, None).await.status, 200, "{path} is public");
    }
    cluster.shutdown().await;

    let public = one_node(|config| config.public_queries = true).await;
    let address = public.node(0).http_address;
    assert_eq!(get(address, trace, None).await.status, 200, "public queries need no token");
    let answer = exchange(address, "POST", "/records", &[], b"{}").await.unwrap();
    assert_problem(&answer, 401, "epcisException:SecurityException");
    public.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_head_that_stops_and_an_idle_connection_are_closed_after_the_header_timeout() {
    let cluster = one_node(|config| config.http_limits.header_timeout_ms = SHORT_TIMEOUT_MS).await;
    let address = cluster.node(0).http_address;
    let mut slow_head = send_head(address, "GET /health HTTP/1.1\r\nHost: node\r\n").await;
    wait_for_close(&mut slow_head, ANSWER_DEADLINE).await.unwrap();

    // A keep-alive connection that asks once and then says nothing.
    let mut idle = send_head(address, "GET /health HTTP/1.1\r\nHost: node\r\n\r\n").await;
    let answer = read_answer(&mut idle).await.unwrap();
    assert_eq!(answer.status, 200);
    wait_for_close(&mut idle, ANSWER_DEADLINE).await.unwrap();
    assert_eq!(get(address, "/health", None).await.status, 200);
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_stops_arriving_is_answered_408_and_closed_after_the_body_timeout() {
    let cluster = one_node(|config| config.http_limits.body_timeout_ms = SHORT_TIMEOUT_MS).await;
    let address = cluster.node(0).http_address;
    let token = cluster.token(0).to_owned();
    for path in ["/capture", "/records"] {
        let mut stalled = send_head(
            address,
            &format!(
                "POST {path} HTTP/1.1\r\nHost: node\r\nContent-Type: application/json\r\n\
                 Authorization: Bearer {token}\r\nContent-Length: 1000\r\n\r\n{{\"kind\""
            ),
        )
        .await;
        let answer = tokio::time::timeout(ANSWER_DEADLINE, read_answer(&mut stalled))
            .await
            .expect("answered once the body timeout passed")
            .unwrap();
        assert_problem(&answer, 408, "about:blank");
        wait_for_close(&mut stalled, ANSWER_DEADLINE).await.unwrap();
    }
    capture(address, &token, "LOT-AFTER-STALL").await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_are_closed_at_once_and_the_node_serves_when_they_go() {
    const CAP: usize = 4;
    let cluster = one_node(|config| config.http_limits.max_connections = CAP).await;
    let address = cluster.node(0).http_address;
    let mut held = Vec::new();
    for _ in 0..CAP {
        // Each asks once and keeps its connection: the server has accepted it when it answers.
        let mut stream = send_head(address, "GET /health HTTP/1.1\r\nHost: node\r\n\r\n").await;
        assert_eq!(read_answer(&mut stream).await.unwrap().status, 200);
        held.push(stream);
    }
    let mut refused = send_head(address, "GET /health HTTP/1.1\r\nHost: node\r\n\r\n").await;
    let mut buffer = [0u8; 64];
    let read = tokio::time::timeout(ANSWER_DEADLINE, refused.read(&mut buffer))
        .await
        .expect("the refused connection is closed at once");
    assert!(matches!(read, Ok(0) | Err(_)), "no answer beyond the cap: {read:?}");
    drop(held);
    let health = wait_for("a free connection slot", DEFAULT_DEADLINE, || async {
        exchange(address, "GET", "/health", &[], b"")
            .await
            .ok()
            .filter(|answer| answer.status == 200)
    })
    .await
    .unwrap();
    assert_eq!(health.json().unwrap()["status"], "ok");
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expensive_queries_beyond_the_cap_get_a_503_problem_with_retry_after() {
    let cluster = one_node(|config| config.http_limits.max_expensive_queries = 1).await;
    let address = cluster.node(0).http_address;
    let token = cluster.token(0).to_owned();
    // A recall whose body has not arrived yet holds the only query slot.
    let holder = send_head(
        address,
        &format!(
            "POST /recall/scope HTTP/1.1\r\nHost: node\r\nContent-Type: application/json\r\n\
             Authorization: Bearer {token}\r\nContent-Length: 100\r\n\r\n"
        ),
    )
    .await;
    let trace = "/trace/forward?id=09506000134352/LOT1";
    let busy = wait_for("the slot to be taken", DEFAULT_DEADLINE, || async {
        Some(get(address, trace, Some(&token)).await).filter(|answer| answer.status == 503)
    })
    .await
    .unwrap();
    assert_problem(&busy, 503, "about:blank");
    assert_eq!(busy.header("retry-after"), Some("1"));
    let events = get(address, "/events", Some(&token)).await;
    assert_problem(&events, 503, "about:blank");
    // Cheap reads are not queued behind the expensive ones.
    assert_eq!(get(address, "/health", None).await.status, 200);
    drop(holder);
    wait_for("the slot to be released", DEFAULT_DEADLINE, || async {
        Some(get(address, trace, Some(&token)).await).filter(|answer| answer.status == 200)
    })
    .await
    .unwrap();
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_methods_and_extractor_errors_are_problems() {
    let cluster = one_node(|_| {}).await;
    let address = cluster.node(0).http_address;
    let token = cluster.token(0).to_owned();
    assert_problem(
        &get(address, "/nowhere", None).await,
        404,
        "epcisException:NoSuchResourceException",
    );
    let answer = exchange(address, "DELETE", "/health", &[], b"").await.unwrap();
    assert_problem(&answer, 405, "about:blank");
    let answer = get(address, "/trace/back", Some(&token)).await;
    let problem = assert_problem(&answer, 400, "epcisException:QueryParameterException");
    assert!(problem["detail"].as_str().unwrap().contains("id"), "{problem}");
    let answer = get(address, "/feeds/00/entries?limit=many", None).await;
    assert_problem(&answer, 400, "epcisException:QueryParameterException");
    let authorization = format!("Bearer {token}");
    let answer = exchange(
        address,
        "POST",
        "/records",
        &[("Content-Type", "text/plain"), ("Authorization", &authorization)],
        b"{}",
    )
    .await
    .unwrap();
    assert_problem(&answer, 415, "epcisException:UnsupportedMediaTypeException");
    let answer = post_json(address, "/recall/scope", &token, b"{not json").await;
    assert_problem(&answer, 400, "epcisException:ValidationException");
    let answer = post_json(address, "/records", &token, b"[1,").await;
    assert_problem(&answer, 400, "epcisException:ValidationException");
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_and_recall_bodies_have_a_small_limit_and_capture_keeps_its_own() {
    let cluster = one_node(|_| {}).await;
    let address = cluster.node(0).http_address;
    let token = cluster.token(0).to_owned();
    let over = vec![b' '; lotline_node::http::SMALL_BODY_BYTES + 1];
    for path in ["/records", "/recall/scope"] {
        let problem = assert_problem(
            &post_json(address, path, &token, &over).await,
            413,
            "epcisException:CaptureLimitExceededException",
        );
        assert_eq!(problem["limit"], lotline_node::http::SMALL_BODY_BYTES as u64, "{path}");
    }
    assert_eq!(lotline_node::http::limit_of("/capture"), lotline_node::http::MAX_BODY_BYTES);
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recall_wider_than_one_answer_may_hold_is_refused_413_naming_its_size() {
    let cluster = one_node(|config| config.http_limits.max_recall_lots = 1).await;
    let address = cluster.node(0).http_address;
    let token = cluster.token(0).to_owned();
    capture(address, &token, "LOT-A").await;
    capture(address, &token, "LOT-B").await;
    let one = br#"{"lots": ["09506000134352/LOT-A"]}"#;
    let answer = post_json(address, "/recall/scope", &token, one).await;
    assert_eq!(answer.status, 200, "body: {}", String::from_utf8_lossy(&answer.body));
    assert_eq!(answer.json().unwrap()["lots"].as_array().map(Vec::len), Some(1));
    let two = br#"{"lots": ["09506000134352/LOT-A", "09506000134352/LOT-B"]}"#;
    let answer = post_json(address, "/recall/scope", &token, two).await;
    let problem = assert_problem(&answer, 413, "epcisException:QueryTooLargeException");
    assert_eq!(problem["limit"], 1);
    assert_eq!(problem["found"], 2);
    assert!(problem["detail"].as_str().unwrap().contains("narrow"), "{problem}");
    cluster.shutdown().await;
}

#[cfg(unix)]
#[test]
fn the_config_file_holding_the_token_is_private_as_soon_as_it_is_saved() {
    use std::os::unix::fs::PermissionsExt;
    let directory = tempfile::tempdir().unwrap();
    let configs = lotline_node::cluster::prepare(1, directory.path(), None).unwrap();
    let path = directory.path().join("saved.toml");
    configs[0].save(&path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "a new config file");
    // An existing file readable by others is narrowed before the token goes into it.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    configs[0].save(&path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "a config file saved over");
    assert_eq!(lotline_node::config::Config::load(&path).unwrap().api_token, configs[0].api_token);
}

#[test]
fn init_keeps_a_new_node_to_this_machine_until_told_otherwise() {
    let directory = tempfile::tempdir().unwrap();
    let configs =
        lotline_node::cluster::prepare(1, &directory.path().join("network"), None).unwrap();
    let options = lotline_node::setup::InitOptions {
        dir: directory.path().join("node"),
        name: "fresh".to_owned(),
        genesis: configs[0].genesis_file.clone(),
        http: "127.0.0.1:0".to_owned(),
        p2p_port: 7000,
        bootstrap: Vec::new(),
        p2p_host: lotline_node::setup::DEFAULT_P2P_HOST.to_owned(),
        mdns: false,
    };
    let config = Config::load(&lotline_node::setup::init(&options).unwrap()).unwrap();
    assert!(config.p2p_listen.iter().all(|address| address.starts_with("/ip4/127.0.0.1/")));
    assert!(!config.mdns);
    assert!(!config.public_queries, "queries need the token on a node made by init");
}
