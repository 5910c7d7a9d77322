//! The consumer page in a real browser: a producer's lot captured with master data (names) on
//! its node, a regulator's recall notice naming it, and the page of that lot opened in headless
//! Chromium. The page shows the recall banner, the origin and path by name, and earns its
//! "verified" mark by checking the proof in the browser; served through a lying node that
//! tampers with the proof it shows "not verified"; hostile names and values captured in the
//! ledger stay text; axe-core finds no serious or critical accessibility violation; the Chinese
//! page is in Chinese; the page's validator changes when a new entry touches the lot.
//!
//! Owns the browser cases of the consumer page. Does not own the browser harness
//! ([`lotline_tests::browser`]) nor the page itself (`lotline_node::web::page`).

use std::net::SocketAddr;
use std::time::Duration;

use fantoccini::Locator;
use lotline_tests::browser::Browser;
use lotline_tests::cluster::{Cluster, DEFAULT_DEADLINE, wait_for};
use lotline_tests::fixtures::{HttpAnswer, exchange, send_json_ld, tamper_with_evidence};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The producer's farm (under producer-0's company prefix `9506000`).
const FARM_URN: &str = "urn:epc:id:sgln:9506000.00000.0";
/// The producer's packhouse.
const PACKHOUSE: &str = "https://id.gs1.org/414/9506000000015";
/// The lot on the pack.
const LOT: &str = "https://id.gs1.org/01/09506000134352/10/L1";
/// The page of the lot.
const PAGE: &str = "/view/01/09506000134352/10/L1";
/// Another lot of the same product, whose entries touch nothing `PAGE` shows.
const OTHER_LOT: &str = "https://id.gs1.org/01/09506000134352/10/L2";
/// Its page.
const OTHER_PAGE: &str = "/view/01/09506000134352/10/L2";
/// A farm name that would run a script and add an image if it were written as markup.
const HOSTILE_FARM: &str =
    "Green <script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\"> Farm";
/// A product name that would close an attribute and add an element.
const HOSTILE_PRODUCT: &str = "Romaine \"><b id=\"injected\">lettuce</b>";
/// A recall hazard that would add an image.
const HOSTILE_HAZARD: &str = "Listeria <img src=x onerror=\"window.__pwned=3\">";
/// How long the page's own check may take in the browser.
const VERIFY_DEADLINE: Duration = Duration::from_secs(30);

/// The producer's document: its farm, packhouse and product named, the lot commissioned at the
/// farm and shipped from the packhouse (with a hostile extension value).
fn producer_document() -> Vec<u8> {
    serde_json::to_vec(&json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
                     {"example": "https://example.org/ns/"}],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-03-01T12:00:00.000Z",
        "epcisHeader": {"epcisMasterData": {"vocabularyList": [
            {"type": "urn:epcglobal:epcis:vtype:BusinessLocation",
             "vocabularyElementList": [
                {"id": FARM_URN, "attributes": [
                    {"id": "cbvmda:name", "attribute": HOSTILE_FARM},
                    {"id": "urn:epcglobal:cbv:mda#city", "attribute": "Salinas"},
                    {"id": "urn:epcglobal:cbv:mda#countryCode", "attribute": "US"}]},
                {"id": PACKHOUSE, "attributes": [
                    {"id": "cbvmda:name", "attribute": "Valley Packhouse"},
                    {"id": "urn:epcglobal:cbv:mda#city", "attribute": "Gonzales"}]}]},
            {"type": "urn:epcglobal:epcis:vtype:EPCClass",
             "vocabularyElementList": [{"id": "https://id.gs1.org/01/09506000134352", "attributes": [
                {"id": "gs1:productName", "attribute": HOSTILE_PRODUCT}]}]}
        ]}},
        "epcisBody": {"eventList": [
            {"type": "ObjectEvent",
             "eventTime": "2026-03-01T06:00:00.000Z",
             "eventTimeZoneOffset": "+00:00",
             "action": "ADD",
             "bizStep": "commissioning",
             "disposition": "active",
             "quantityList": [{"epcClass": LOT, "quantity": 500, "uom": "KGM"}],
             "readPoint": {"id": "https://id.gs1.org/414/9506000000008"},
             "bizLocation": {"id": "https://id.gs1.org/414/9506000000008"}},
            {"type": "ObjectEvent",
             "eventTime": "2026-03-02T10:00:00.000Z",
             "eventTimeZoneOffset": "+00:00",
             "action": "OBSERVE",
             "bizStep": "shipping",
             "disposition": "in_transit",
             "quantityList": [{"epcClass": LOT, "quantity": 40, "uom": "KGM"}],
             "readPoint": {"id": PACKHOUSE},
             "bizLocation": {"id": PACKHOUSE},
             "example:note": "<script>window.__pwned=4</script>"}
        ]}
    }))
    .unwrap()
}

/// A later event touching the lot: it is seen again at the packhouse.
fn later_document() -> Vec<u8> {
    later_document_of(LOT)
}

/// An inspection of `lot` at the packhouse, after everything else.
fn later_document_of(lot: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-03-03T12:00:00.000Z",
        "epcisBody": {"eventList": [
            {"type": "ObjectEvent",
             "eventTime": "2026-03-03T09:00:00.000Z",
             "eventTimeZoneOffset": "+00:00",
             "action": "OBSERVE",
             "bizStep": "inspecting",
             "quantityList": [{"epcClass": lot, "quantity": 1, "uom": "KGM"}],
             "readPoint": {"id": PACKHOUSE}}
        ]}
    }))
    .unwrap()
}

/// `GET path` on `address` with extra headers.
async fn get(address: SocketAddr, path: &str, headers: &[(&str, &str)]) -> HttpAnswer {
    exchange(address, "GET", path, headers, b"").await.unwrap()
}

/// How a lying node lies.
#[derive(Debug, Clone, Copy)]
enum Lie {
    /// It tampers with the proof the page fetches ([`tamper_with_evidence`]).
    Proof,
    /// It serves the page with the packhouse renamed, and the true proof.
    Name,
}

/// A lying node in front of `upstream`: relays every request (one per connection) with its
/// headers and the answer with its headers, but lies as `lie` says.
async fn lying_node(upstream: SocketAddr, lie: Lie) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(relay(client, upstream, lie));
        }
    });
    address
}

/// Serves one request of the lying node; any failure drops the client.
async fn relay(mut client: tokio::net::TcpStream, upstream: SocketAddr, lie: Lie) {
    let mut request = Vec::new();
    let mut buffer = [0u8; 4096];
    while !request.windows(4).any(|window| window == b"\r\n\r\n") {
        match client.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => request.extend_from_slice(&buffer[..read]),
        }
    }
    let text = String::from_utf8_lossy(&request).into_owned();
    let Some(path) = text.split_whitespace().nth(1).map(str::to_owned) else { return };
    let accept_language = text
        .lines()
        .find_map(|line| {
            line.strip_prefix("Accept-Language: ")
                .or_else(|| line.strip_prefix("accept-language: "))
        })
        .unwrap_or("en")
        .to_owned();
    let Ok(answer) =
        exchange(upstream, "GET", &path, &[("Accept-Language", &accept_language)], b"").await
    else {
        return;
    };
    let mut body = answer.body.clone();
    if matches!(lie, Lie::Name) && !path.ends_with("/proof") {
        body = String::from_utf8_lossy(&body).replace("Valley Packhouse", "Hill Packhouse").into();
    }
    if matches!(lie, Lie::Proof)
        && path.ends_with("/proof")
        && let Ok(mut proof) = serde_json::from_slice::<Value>(&body)
        && tamper_with_evidence(&mut proof)
    {
        body = serde_json::to_vec(&proof).unwrap();
    }
    let mut head = format!("HTTP/1.1 {} Lying\r\n", answer.status);
    for (name, value) in &answer.headers {
        if !matches!(name.as_str(), "content-length" | "connection" | "transfer-encoding" | "etag")
        {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    head.push_str(&format!("Content-Length: {}\r\nConnection: close\r\n\r\n", body.len()));
    let _ = client.write_all(head.as_bytes()).await;
    let _ = client.write_all(&body).await;
}

/// Waits until the page's script has finished its check and returns `data-verified`.
async fn verification_outcome(browser: &Browser) -> String {
    wait_for("the page's own verification to finish", VERIFY_DEADLINE, || async {
        let status = browser.client.find(Locator::Id("verification")).await.ok()?;
        let outcome = status.attr("data-verified").await.ok()??;
        (!matches!(outcome.as_str(), "pending" | "checking")).then_some(outcome)
    })
    .await
    .unwrap()
}

/// Runs `script` in the page and returns its value.
async fn script(browser: &Browser, script: &str) -> Value {
    browser.client.execute(script, Vec::new()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_page_of_a_recalled_lot_shows_the_recall_and_the_path_and_verifies_itself_in_the_browser()
 {
    // Producer 0, regulator (and witness) 3, lab 5.
    let cluster = Cluster::start(6).await.unwrap();
    let producer = cluster.node(0).http_address;
    let captured = send_json_ld(&cluster, 0, "POST", "/capture", &producer_document()).await;
    assert_eq!(captured.status, 202, "{}", String::from_utf8_lossy(&captured.body));
    let notice = json!({
        "kind": "recall_notice", "recall_id": "R-2026-7", "class": "I", "lots": [LOT],
        "hazard": HOSTILE_HAZARD, "instructions": "Return it to the store"
    });
    let recalled =
        send_json_ld(&cluster, 3, "POST", "/records", notice.to_string().as_bytes()).await;
    assert_eq!(recalled.status, 201, "{}", String::from_utf8_lossy(&recalled.body));
    let inspection = json!({
        "kind": "inspection_result", "lots": [LOT], "test": "Listeria monocytogenes",
        "verdict": "fail", "sampled_at": "2026-03-02T08:00:00Z", "report": "LAB-2026-311"
    });
    let inspected =
        send_json_ld(&cluster, 5, "POST", "/records", inspection.to_string().as_bytes()).await;
    assert_eq!(inspected.status, 201, "{}", String::from_utf8_lossy(&inspected.body));

    // The producer's node holds the notice and checkpoints covering every entry the page uses.
    let proof = wait_for(
        "the page's proof to cover the recall, with nothing unproven",
        DEFAULT_DEADLINE,
        || async {
            let answer = get(producer, &format!("{PAGE}/proof"), &[]).await;
            let proof = answer.json().ok()?;
            let authors = proof["evidence"]["bundles"].as_array()?.len();
            let complete = proof["evidence"]["unproven"].as_array().is_some_and(Vec::is_empty);
            // The producer's and the lab's checkpoints carry the witness's cosignature (the
            // regulator witnesses every feed but its own), which the browser checks too.
            let cosigned = proof["evidence"]["bundles"].as_array()?.iter().filter(|bundle| {
                bundle["checkpoint"]
                    .as_str()
                    .is_some_and(|note| note.contains("\n\u{2014} lotline.dev/witness/"))
            });
            let complete = complete && cosigned.count() == 2;
            (answer.status == 200 && authors == 3 && complete).then_some(proof)
        },
    )
    .await
    .unwrap();
    assert_eq!(proof["subject"], json!(LOT));
    assert_eq!(proof["events"].as_array().unwrap().len(), 2, "{proof}");
    // The proof file is what `lotline verify` reads: it verifies offline, events included.
    let offline = lotline_client::client::verify_bundle_file(
        &proof.to_string(),
        &[],
        &lotline_client::verify::Policy::default(),
    )
    .unwrap();
    for event in proof["events"].as_array().unwrap() {
        assert!(offline.events.contains_key(event.as_str().unwrap()), "{event} is proven");
    }
    assert!(offline.entries.len() >= 4, "the events, the records and the names' statements");

    let page = get(producer, PAGE, &[("Accept-Language", "en")]).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"));
    let policy = page.header("content-security-policy").unwrap();
    assert!(policy.starts_with("default-src 'none'"), "{policy}");
    assert!(policy.contains("connect-src 'self'") && !policy.contains("unsafe-inline"), "{policy}");
    // The page is sent whole with its length, the style sheet and script in their places.
    let length: usize = page.header("content-length").unwrap().parse().unwrap();
    assert_eq!(length, page.body.len());
    let html = std::str::from_utf8(&page.body).unwrap();
    assert!(html.contains(&format!("<style>{}</style>", lotline_node::web::assets::STYLE)));
    assert!(html.contains(&format!("<script>{}</script>", lotline_node::web::assets::SCRIPT)));
    let etag = page.header("etag").unwrap().to_owned();
    let revalidated =
        get(producer, PAGE, &[("Accept-Language", "en"), ("If-None-Match", &etag)]).await;
    assert_eq!(revalidated.status, 304, "an unchanged page is not sent again");
    let kept = get(producer, PAGE, &[("Accept-Language", "en")]).await;
    assert_eq!(kept.body, page.body, "a kept page is sent as it was rendered");
    // The operator sees pages answered, rendered and kept (counters of this test process).
    let metrics = get(producer, "/metrics", &[]).await;
    let metrics = String::from_utf8(metrics.body).unwrap();
    let value = |family: &str| -> u64 {
        let line = metrics.lines().find(|line| line.starts_with(&format!("{family} ")));
        line.and_then(|line| line.split(' ').nth(1)).unwrap().parse().unwrap()
    };
    assert!(value("lotline_pages_answered_total") >= 3, "{metrics}");
    assert!(value("lotline_pages_rendered_total") >= 1, "{metrics}");
    assert!(
        value("lotline_pages_rendered_total") < value("lotline_pages_answered_total"),
        "the kept page and the 304 needed no render: {metrics}"
    );
    let own_bytes = page.body.len()
        - lotline_node::web::assets::STYLE.len()
        - lotline_node::web::assets::SCRIPT.len();
    assert!(value("lotline_page_cache_bytes") >= own_bytes as u64, "{metrics}");

    let browser = Browser::start().await.unwrap();
    let base = format!("http://{producer}");
    browser.client.goto(&format!("{base}{PAGE}?lang=en")).await.unwrap();
    assert_eq!(verification_outcome(&browser).await, "true");
    let status = browser.client.find(Locator::Id("verification")).await.unwrap();
    let checked: usize =
        status.attr("data-verified-entries").await.unwrap().unwrap().parse().unwrap();
    assert!(checked >= 4, "two events, the notice and the inspection at least: {checked}");
    let cosignatures = status.attr("data-witness-cosignatures").await.unwrap().unwrap();
    assert_eq!(cosignatures, "2", "the producer's and the lab's checkpoints are cosigned");
    browser.screenshot("consumer-page-recalled").await.unwrap();

    let banner = browser.client.find(Locator::Id("recall")).await.unwrap().text().await.unwrap();
    assert!(banner.contains("Recalled") && banner.contains("R-2026-7"), "{banner}");
    assert!(banner.contains(HOSTILE_HAZARD), "the hazard reads as text: {banner}");
    let heading = browser.client.find(Locator::Css("h1")).await.unwrap().text().await.unwrap();
    assert_eq!(heading, HOSTILE_PRODUCT, "the product's name, as text");
    let origin = browser.client.find(Locator::Id("origin")).await.unwrap().text().await.unwrap();
    assert!(origin.contains(HOSTILE_FARM) && origin.contains("Salinas, US"), "{origin}");
    let path = browser.client.find(Locator::Id("path")).await.unwrap().text().await.unwrap();
    assert!(path.contains("Shipped") && path.contains("Valley Packhouse, Gonzales"), "{path}");
    assert!(!path.contains("40"), "no quantity is shown: {path}");
    let certificates =
        browser.client.find(Locator::Id("certificates")).await.unwrap().text().await.unwrap();
    assert!(certificates.contains("Listeria monocytogenes: failed"), "{certificates}");
    assert!(certificates.contains("tested by lab-5"), "{certificates}");
    let signed = script(
        &browser,
        "return Array.from(document.querySelectorAll('[data-step-verified=true] .signer')).map(s => s.textContent);",
    )
    .await;
    let signers = signed.as_array().unwrap();
    assert!(signers.len() >= 4, "{signed}");
    assert!(
        signers.iter().all(|signer| signer.as_str().unwrap().starts_with("Signed by ")),
        "{signed}"
    );

    let names = script(
        &browser,
        "return [document.querySelectorAll('[data-name-verified=true]').length,
                 document.querySelectorAll('[data-name-verified=false]').length];",
    )
    .await;
    let [stated, unstated] = [0, 1].map(|index| names[index].as_u64().unwrap());
    assert!(stated >= 6 && unstated == 0, "names checked against their statements: {names}");

    // Hostile names and values stayed text: no element or script came from them.
    let injected = script(
        &browser,
        "return {injected: document.querySelectorAll('#injected, img, iframe, object, embed').length,
                 scripts: document.scripts.length, pwned: window.__pwned === undefined ? null : window.__pwned};",
    )
    .await;
    assert_eq!(injected, json!({"injected": 0, "scripts": 1, "pwned": null}));

    let violations = browser.serious_accessibility_violations().await.unwrap();
    assert!(
        violations.is_empty(),
        "axe-core: {}",
        serde_json::to_string_pretty(&violations).unwrap()
    );

    // The Chinese page.
    browser.client.goto(&format!("{base}{PAGE}?lang=zh")).await.unwrap();
    assert_eq!(verification_outcome(&browser).await, "true");
    let lang = script(&browser, "return document.documentElement.lang;").await;
    assert_eq!(lang, json!("zh-Hans"));
    let path_title =
        browser.client.find(Locator::Id("path-title")).await.unwrap().text().await.unwrap();
    assert_eq!(path_title, "流通路径");
    let message = browser.client.find(Locator::Css("#verification .message")).await.unwrap();
    assert!(message.text().await.unwrap().starts_with("已验证"));
    browser.screenshot("consumer-page-zh").await.unwrap();
    let violations = browser.serious_accessibility_violations().await.unwrap();
    assert!(
        violations.is_empty(),
        "axe-core (zh): {}",
        serde_json::to_string_pretty(&violations).unwrap()
    );

    // Served by a lying node that tampers with the proof, the same page is not verified.
    let liar = lying_node(producer, Lie::Proof).await;
    browser.client.goto(&format!("http://{liar}{PAGE}?lang=en")).await.unwrap();
    assert_eq!(verification_outcome(&browser).await, "false");
    let banner = browser.client.find(Locator::Id("recall")).await.unwrap().text().await.unwrap();
    assert!(banner.contains("Recalled"), "the page still reads without the mark");
    browser.screenshot("consumer-page-tampered").await.unwrap();
    // A lying node that renames a place on the page, with the true proof, is caught too.
    let renamer = lying_node(producer, Lie::Name).await;
    browser.client.goto(&format!("http://{renamer}{PAGE}?lang=en")).await.unwrap();
    assert_eq!(verification_outcome(&browser).await, "false");
    let renamed = script(
        &browser,
        "return Array.from(document.querySelectorAll('[data-name-verified=false]')).map(n => n.textContent);",
    )
    .await;
    assert_eq!(renamed, json!(["Hill Packhouse"]));
    browser.close().await;

    // A new entry touching the lot changes the validator.
    let later = send_json_ld(&cluster, 0, "POST", "/capture", &later_document()).await;
    assert_eq!(later.status, 202);
    let changed = get(producer, PAGE, &[("Accept-Language", "en"), ("If-None-Match", &etag)]).await;
    assert_eq!(changed.status, 200, "the page changed with the new entry");
    assert_ne!(changed.header("etag"), Some(etag.as_str()));

    // An entry about another lot touches nothing the page shows: the page keeps its validator.
    let etag = changed.header("etag").unwrap().to_owned();
    let other = send_json_ld(&cluster, 0, "POST", "/capture", &later_document_of(OTHER_LOT)).await;
    assert_eq!(other.status, 202);
    wait_for("the other lot's page", DEFAULT_DEADLINE, || async {
        (get(producer, OTHER_PAGE, &[]).await.status == 200).then_some(())
    })
    .await
    .unwrap();
    let kept = get(producer, PAGE, &[("Accept-Language", "en"), ("If-None-Match", &etag)]).await;
    assert_eq!(kept.status, 304, "an entry about another lot leaves the page as it was");
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_code_gets_a_friendly_page_naming_the_problem() {
    let cluster = Cluster::start(1).await.unwrap();
    let node = cluster.node(0).http_address;
    let bad = get(node, "/view/01/09506000134353/10/L1", &[]).await;
    assert_eq!(bad.status, 400);
    let text = String::from_utf8_lossy(&bad.body);
    assert!(text.contains("check digit") || text.contains("GTIN"), "{text}");
    assert!(bad.header("content-security-policy").is_some());
    let bad_proof = get(node, "/view/01/09506000134353/10/L1/proof", &[]).await;
    assert_eq!(bad_proof.status, 400);
    assert_eq!(bad_proof.header("content-type"), Some("application/problem+json"));
    let unknown =
        get(node, "/view/01/09506000134352/10/NOPE", &[("Accept-Language", "zh-CN")]).await;
    assert_eq!(unknown.status, 404);
    assert!(String::from_utf8_lossy(&unknown.body).contains("本节点没有此批次的记录"));
    let product = get(node, "/view/01/09506000134352", &[]).await;
    assert_eq!(product.status, 200);
    let huge = format!("{PAGE}?{}", "lang=zh&".repeat(2_000));
    let answered = get(node, &huge, &[]).await;
    assert!(answered.status == 404 || answered.status == 431, "{}", answered.status);
    cluster.shutdown().await;
}
