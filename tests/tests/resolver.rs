//! The GS1-Conformant resolver and the QR codes end to end on a real node: a lot captured on
//! the node resolves by a `307` to its consumer page with the query string passed on and a
//! `Link` to its linkset; the RFC 9264 linkset (checked against the shape the GS1 linkset
//! schema sets) merges the lot and product levels under one default link; `linkType`
//! redirects or answers `404`; an unknown lot walks up to its product, an unknown GTIN is a
//! `404`; GS1's own invalid Digital Link vectors are each a `400` (an HTML page naming the
//! broken rule for browsers, RFC 7807 JSON for the rest); `HEAD`, `OPTIONS`, CORS, the
//! description file, over-long and percent-encoded input; the API routes beside it answer as
//! before; QR codes come as SVG with the link under them and as PNG.
//!
//! Owns the HTTP cases. Does not own the Digital Link rules (`lotline_ledger::gs1` and its
//! tests over the same vectors) nor the consumer page behind the default link.

use std::net::SocketAddr;
use std::time::Duration;

use lotline_ledger::gs1::check_digit::with_mod10_check_digit;
use lotline_tests::cluster::{Cluster, DEFAULT_DEADLINE, wait_for};
use lotline_tests::fixtures::{HttpAnswer, exchange};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The producer's GTIN (under producer-0's company prefix `9506000`).
const GTIN: &str = "09506000134352";
/// The captured lot.
const LOT_PATH: &str = "/01/09506000134352/10/LOT1";
/// The product's name in the producer's master data.
const PRODUCT_NAME: &str = "Romaine lettuce, 1 kg bag";
/// GS1's Digital Link parse vectors.
const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/testdata/digitallink/dl-parse-vectors.gs1-syntax-engine.json"
);

/// A capture document: the product named in master data, and the lot commissioned at the farm.
fn lot_document() -> Vec<u8> {
    serde_json::to_vec(&json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-03-01T12:00:00.000Z",
        "epcisHeader": {"epcisMasterData": {"vocabularyList": [
            {"type": "urn:epcglobal:epcis:vtype:EPCClass",
             "vocabularyElementList": [{"id": "urn:epc:idpat:sgtin:9506000.013435.*",
                "attributes": [{"id": "gs1:productName", "attribute": PRODUCT_NAME}]}]}
        ]}},
        "epcisBody": {"eventList": [{
            "type": "ObjectEvent",
            "eventTime": "2026-03-01T10:00:00.000Z",
            "eventTimeZoneOffset": "+00:00",
            "epcList": [],
            "quantityList": [{"epcClass": format!("https://id.gs1.org{LOT_PATH}"),
                              "quantity": 100, "uom": "KGM"}],
            "action": "ADD",
            "bizStep": "commissioning",
            "bizLocation": {"id": "https://id.gs1.org/414/9506000000008"}
        }]}
    }))
    .unwrap()
}

/// `GET path` with `headers`.
async fn get(address: SocketAddr, path: &str, headers: &[(&str, &str)]) -> HttpAnswer {
    exchange(address, "GET", path, headers, b"").await.unwrap()
}

/// The answer's header `name`, or a failure naming it.
fn header<'answer>(answer: &'answer HttpAnswer, name: &str) -> &'answer str {
    answer.header(name).unwrap_or_else(|| panic!("no {name} header in {:?}", answer.headers))
}

/// Sends a `HEAD` request and reads the answer head only (a `HEAD` answer has no body).
async fn head(address: SocketAddr, path: &str) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!("HEAD {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut received))
        .await
        .expect("the HEAD answer ends")
        .unwrap();
    let end = received.windows(4).position(|window| window == b"\r\n\r\n").unwrap();
    let text = String::from_utf8_lossy(&received[..end]).into_owned();
    let mut lines = text.split("\r\n");
    let status = lines.next().unwrap().split_whitespace().nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    (status, headers, received[end + 4..].to_vec())
}

/// Checks a linkset against RFC 9264 and the GS1 linkset schema's rules: one context object
/// with an absolute anchor, link types as full URIs, every target an object with an absolute
/// `href`, a `title`, a `type`, and `hreflang` as an array of `ll` or `ll-CC` tags; exactly one
/// default link. Returns the context object.
fn check_linkset(linkset: &Value) -> &serde_json::Map<String, Value> {
    let contexts = linkset["linkset"].as_array().expect("a linkset array");
    assert_eq!(contexts.len(), 1, "{linkset}");
    let object = contexts[0].as_object().unwrap();
    let anchor = object["anchor"].as_str().unwrap();
    assert!(anchor.starts_with("https://id.gs1.org/"), "{anchor}");
    for (key, targets) in object {
        if key == "anchor" || key == "itemDescription" {
            continue;
        }
        assert!(key.starts_with("https://gs1.org/voc/"), "link type {key} is not a full URI");
        let targets = targets.as_array().unwrap_or_else(|| panic!("{key} holds no array"));
        assert!(!targets.is_empty(), "{key} is empty");
        for target in targets {
            let href = target["href"].as_str().unwrap();
            assert!(href.starts_with("http://") || href.starts_with("https://"), "{href}");
            assert!(target["title"].as_str().is_some_and(|title| !title.is_empty()));
            assert!(target["type"].as_str().is_some_and(|media| media.contains('/')));
            if let Some(languages) = target.get("hreflang") {
                for language in languages.as_array().unwrap() {
                    let language = language.as_str().unwrap();
                    let parts: Vec<&str> = language.split('-').collect();
                    assert!(
                        parts.len() <= 2 && parts.iter().all(|part| part.len() == 2),
                        "hreflang {language}"
                    );
                }
            }
        }
    }
    let defaults = object["https://gs1.org/voc/defaultLink"].as_array().unwrap();
    assert_eq!(defaults.len(), 1, "exactly one default link");
    object
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_captured_lot_resolves_to_its_page_its_linkset_and_its_links() {
    let cluster = Cluster::start(1).await.unwrap();
    let address = cluster.node(0).http_address;
    let base = format!("http://{address}");
    let authorization = format!("Bearer {}", cluster.token(0));
    let captured = exchange(
        address,
        "POST",
        "/capture",
        &[("Content-Type", "application/ld+json"), ("Authorization", &authorization)],
        &lot_document(),
    )
    .await
    .unwrap();
    assert_eq!(captured.status, 202, "{}", String::from_utf8_lossy(&captured.body));

    // The default: a 307 to the consumer page, the whole query string passed on.
    let query = "17=271231&3103=000500&campaign=spring";
    let redirect = wait_for("the lot to resolve", DEFAULT_DEADLINE, || async {
        let answer = get(address, &format!("{LOT_PATH}?{query}"), &[]).await;
        (answer.status == 307).then_some(answer)
    })
    .await
    .unwrap();
    assert_eq!(header(&redirect, "location"), format!("{base}/view{LOT_PATH}?{query}"));
    let link = header(&redirect, "link");
    assert!(
        link.contains(&format!("<{base}{LOT_PATH}?linkType=linkset>; rel=\"linkset\"")),
        "{link}"
    );
    assert!(link.contains(&format!("<https://id.gs1.org{LOT_PATH}>; rel=\"owl:sameAs\"")));
    assert_eq!(header(&redirect, "access-control-allow-origin"), "*");
    assert!(header(&redirect, "access-control-expose-headers").contains("Link"));
    // A browser's Accept is a redirect too.
    let browser = get(address, LOT_PATH, &[("Accept", "text/html,*/*;q=0.8")]).await;
    assert_eq!(browser.status, 307);

    // The linkset, asked for by Accept, by linkType=linkset and by the older linkType=all.
    let by_accept = get(address, LOT_PATH, &[("Accept", "application/linkset+json")]).await;
    assert_eq!(by_accept.status, 200);
    assert_eq!(header(&by_accept, "content-type"), "application/linkset+json");
    assert!(header(&by_accept, "link").contains("rel=\"http://www.w3.org/ns/json-ld#context\""));
    let linkset = by_accept.json().unwrap();
    let object = check_linkset(&linkset);
    assert_eq!(object["anchor"], format!("https://id.gs1.org{LOT_PATH}"));
    assert_eq!(object["itemDescription"], PRODUCT_NAME);
    assert_eq!(
        object["https://gs1.org/voc/defaultLink"][0]["href"],
        format!("{base}/view{LOT_PATH}")
    );
    // Both levels, lot first, then the product.
    let pages: Vec<&str> = object["https://gs1.org/voc/pip"]
        .as_array()
        .unwrap()
        .iter()
        .map(|target| target["href"].as_str().unwrap())
        .collect();
    assert_eq!(pages, [format!("{base}/view{LOT_PATH}"), format!("{base}/view/01/{GTIN}")]);
    for link_type in ["recallStatus", "traceability", "epcis", "certificationInfo"] {
        assert!(object.contains_key(&format!("https://gs1.org/voc/{link_type}")), "{link_type}");
    }
    for parameter in ["linkset", "all"] {
        let answer = get(address, &format!("{LOT_PATH}?linkType={parameter}"), &[]).await;
        assert_eq!(answer.status, 200, "linkType={parameter}");
        assert_eq!(header(&answer, "content-type"), "application/linkset+json");
        assert_eq!(answer.json().unwrap(), linkset);
    }
    let as_json = get(address, LOT_PATH, &[("Accept", "application/json")]).await;
    assert_eq!((as_json.status, header(&as_json, "content-type")), (200, "application/json"));
    assert_eq!(as_json.json().unwrap(), linkset);

    // linkType=X: a redirect to that link (query passed on), or 404 when there is none.
    let trace = get(address, &format!("{LOT_PATH}?linkType=gs1:traceability"), &[]).await;
    assert_eq!(trace.status, 307);
    let location = header(&trace, "location");
    assert!(location.starts_with(&format!("{base}/trace/back?id=https%3A%2F%2Fid.gs1.org")));
    assert!(location.ends_with("&linkType=gs1:traceability"), "{location}");
    let recall =
        get(address, &format!("{LOT_PATH}?linkType=https://gs1.org/voc/recallStatus"), &[]).await;
    assert_eq!(recall.status, 307);
    assert!(header(&recall, "location").ends_with("#recall"));
    let none = get(address, &format!("{LOT_PATH}?linkType=gs1:nutritionalInfo"), &[]).await;
    assert_eq!(none.status, 404);
    let product_trace = get(address, &format!("/01/{GTIN}?linkType=gs1:traceability"), &[]).await;
    assert_eq!(product_trace.status, 404, "a product has no trace of its own");

    // An unknown lot of a known GTIN walks up to the product; an unknown GTIN is a 404.
    let walked = get(address, &format!("/01/{GTIN}/10/NOSUCHLOT?17=271231"), &[]).await;
    assert_eq!(walked.status, 307);
    assert_eq!(header(&walked, "location"), format!("{base}/view/01/{GTIN}?17=271231"));
    let walked_set = get(
        address,
        &format!("/01/{GTIN}/10/NOSUCHLOT"),
        &[("Accept", "application/linkset+json")],
    )
    .await;
    let walked_set = walked_set.json().unwrap();
    let object = check_linkset(&walked_set);
    assert_eq!(object["anchor"], format!("https://id.gs1.org/01/{GTIN}/10/NOSUCHLOT"));
    assert!(!object.contains_key("https://gs1.org/voc/traceability"));
    let unknown_gtin = with_mod10_check_digit("0950600013436").unwrap();
    let unknown = get(address, &format!("/01/{unknown_gtin}"), &[]).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(header(&unknown, "content-type"), "application/problem+json");
    let unknown_page =
        get(address, &format!("/01/{unknown_gtin}"), &[("Accept", "text/html")]).await;
    assert_eq!(unknown_page.status, 404);
    assert!(header(&unknown_page, "content-type").starts_with("text/html"));

    // HEAD and OPTIONS.
    let (status, headers, body) = head(address, &format!("{LOT_PATH}?{query}")).await;
    assert_eq!(status, 307);
    assert!(body.is_empty());
    assert!(
        headers.iter().any(|(name, value)| name == "location"
            && value == &format!("{base}/view{LOT_PATH}?{query}"))
    );
    let options =
        exchange(address, "OPTIONS", LOT_PATH, &[("Origin", "https://scanner.example")], b"")
            .await
            .unwrap();
    assert!(options.status == 204 || options.status == 200, "{}", options.status);
    assert!(header(&options, "allow").contains("HEAD"));
    assert_eq!(header(&options, "access-control-allow-origin"), "*");
    assert!(header(&options, "access-control-allow-methods").contains("GET"));

    // Percent-encoding and a trailing slash name the same lot.
    let encoded = get(address, "/01/09506000134352/10/LOT%31/", &[]).await;
    assert_eq!(encoded.status, 307);
    assert_eq!(header(&encoded, "location"), format!("{base}/view{LOT_PATH}"));

    // The description file.
    let description = get(address, "/.well-known/gs1resolver", &[]).await;
    assert_eq!(description.status, 200);
    let description = description.json().unwrap();
    assert_eq!(description["resolverRoot"], base);
    assert!(description["name"].is_string());
    assert!(description["supportedPrimaryKeys"].is_array());
    assert_eq!(description["supportedLinkType"][0]["prefix"], "gs1:");
    assert_eq!(description["linkTypeDefaultCanBeLinkset"], false);
    let document = get(address, "/openapi.json", &[]).await.json().unwrap();
    assert!(document["paths"]["/.well-known/gs1resolver"]["get"].is_object());

    // The API routes beside the resolver answer as before.
    let events = get(address, "/events", &[("Authorization", &authorization)]).await;
    assert_eq!(events.status, 200);
    assert_eq!(events.json().unwrap()["type"], "EPCISQueryDocument");
    assert_eq!(get(address, "/health", &[]).await.status, 200);
    let no_route = get(address, "/02/09506000134352", &[]).await;
    assert_eq!(no_route.status, 404);

    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn invalid_links_are_refused_naming_the_rule_and_hostile_input_is_bounded() {
    let cluster = Cluster::start(1).await.unwrap();
    let address = cluster.node(0).http_address;

    // GS1's own vectors: every link the standard refuses whose path starts with a key is a 400;
    // every valid one is not (a 404 here: the node knows none of them).
    let vectors: Vec<Value> = serde_json::from_slice(&std::fs::read(VECTORS).unwrap()).unwrap();
    let mut refused = 0;
    for vector in &vectors {
        let uri = vector["uri"].as_str().unwrap();
        let Some(path) =
            ["https://a", "https://id.gs1.org"].iter().find_map(|stem| uri.strip_prefix(stem))
        else {
            continue;
        };
        let plain_flags = vector["flags"].as_object().is_none_or(serde_json::Map::is_empty);
        let request_target = path.bytes().all(|byte| byte.is_ascii_graphic())
            && !path.contains('#')
            && !path.contains(['<', '>', '{', '}', '\\', '^', '`', '|', '"']);
        let first = path.trim_start_matches('/').split('/').next().unwrap_or_default();
        let keyed = ["00", "01", "414", "417", "8003", "8004", "253", "255", "8006", "8010"]
            .contains(&first);
        if !plain_flags || !request_target || !keyed || !path.starts_with('/') {
            continue;
        }
        let answer = get(address, path, &[]).await;
        if vector["should_succeed"] == true {
            assert_ne!(
                answer.status,
                400,
                "{uri} is valid: {:?}",
                String::from_utf8_lossy(&answer.body)
            );
        } else {
            assert_eq!(answer.status, 400, "{uri} is invalid");
            assert_eq!(header(&answer, "content-type"), "application/problem+json");
            assert!(answer.json().unwrap()["detail"].as_str().unwrap().contains("Digital Link"));
            refused += 1;
        }
    }
    assert!(refused >= 5, "only {refused} invalid vectors were tried");

    // A bad check digit and qualifiers out of order, for a browser: a page naming the rule.
    let page = get(address, "/01/09506000134353/10/L1", &[("Accept", "text/html")]).await;
    assert_eq!(page.status, 400);
    assert!(header(&page, "content-type").starts_with("text/html"));
    assert!(header(&page, "content-security-policy").starts_with("default-src 'none'"));
    let html = String::from_utf8(page.body.clone()).unwrap();
    assert!(html.contains("check digit"), "{html}");
    let order = get(address, "/01/09506000134352/21/S1/10/L1", &[("Accept", "text/html")]).await;
    assert_eq!(order.status, 400);
    // Markup in the path is escaped on the page.
    let hostile =
        get(address, "/01/09506000134352/10/%3Cscript%3E/99/x", &[("Accept", "text/html")]).await;
    assert_eq!(hostile.status, 400);
    assert!(!String::from_utf8_lossy(&hostile.body).contains("<script>"));

    // Over-long paths and queries are refused before parsing; an odd Accept is harmless.
    let long_lot = format!("/01/09506000134352/10/{}", "A".repeat(2000));
    assert_eq!(get(address, &long_lot, &[]).await.status, 414);
    let long_query = format!("/01/09506000134352?x={}", "1".repeat(5000));
    assert_eq!(get(address, &long_query, &[]).await.status, 414);
    let odd = get(address, "/01/09506000134352", &[("Accept", ";;;,,,q=x/y;q=")]).await;
    assert_eq!(odd.status, 404);
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn qr_codes_carry_the_canonical_link_as_svg_and_png() {
    let cluster = Cluster::start(1).await.unwrap();
    let address = cluster.node(0).http_address;
    let svg = get(address, "/qr/01/09506000134352/10/LOT1?17=271231&format=svg", &[]).await;
    assert_eq!(svg.status, 200);
    assert_eq!(header(&svg, "content-type"), "image/svg+xml");
    assert_eq!(header(&svg, "content-security-policy"), "default-src 'none'");
    let text = String::from_utf8(svg.body.clone()).unwrap();
    assert!(text.starts_with("<?xml"));
    assert_eq!(text.matches("<svg").count(), 1);
    assert!(text.trim_end().ends_with("</svg>"));
    assert!(
        text.contains(">https://id.gs1.org/01/09506000134352/10/LOT1?17=271231</text>"),
        "{text}"
    );

    let png = get(address, "/qr/01/09506000134352/10/LOT1?format=png", &[]).await;
    assert_eq!((png.status, header(&png, "content-type")), (200, "image/png"));
    assert_eq!(&png.body[..8], b"\x89PNG\r\n\x1a\n");
    let by_accept = get(address, "/qr/00/006141411234567890", &[("Accept", "image/png")]).await;
    assert_eq!((by_accept.status, header(&by_accept, "content-type")), (200, "image/png"));

    assert_eq!(get(address, "/qr/01/09506000134353", &[]).await.status, 400);
    assert_eq!(get(address, "/qr/01/09506000134352?format=gif", &[]).await.status, 400);
    cluster.shutdown().await;
}
