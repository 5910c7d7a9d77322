//! The regulator's recall dashboard against a real cluster: a producer's lot shipped to two
//! members, a recall issued over it by the regulator and acknowledged by one of them, then the
//! dashboard on the regulator's node over HTTP (every page refuses without a session, the login
//! takes the token from a form body only and sets a strict cookie, the pages show the recall,
//! its consignees and what is outstanding, the scope graph is XML naming the lots, the FSMA 204
//! download has its columns, hostile names and hazard text come out escaped) and in headless
//! Chromium (refused without the token, working with it, a screenshot).
//!
//! Owns the dashboard's end-to-end contract. Does not own the rules it shows (unit-tested in
//! `lotline_ledger::supervision` and `lotline_ledger::fsma204`) nor the session store (unit
//! tests in the node).

use std::net::SocketAddr;

use fantoccini::Locator;
use lotline_client::Client;
use lotline_client::verify::Policy;
use lotline_ledger::fsma204::COLUMNS;
use lotline_tests::browser::Browser;
use lotline_tests::cluster::{Cluster, DEFAULT_DEADLINE, wait_for};
use lotline_tests::fixtures::{HttpAnswer, exchange};
use serde_json::json;

/// Node roles by index in a four-node cluster.
const PRODUCER: usize = 0;
const LOGISTICS: usize = 1;
const RETAILER: usize = 2;
const REGULATOR: usize = 3;
/// The roles cycle producer, logistics, retailer, regulator, processor, lab.
const LAB: usize = 5;

const PACK_GTIN: &str = "09506000134376";
const PACK_LOT: &str = "https://id.gs1.org/01/09506000134376/10/PACK42";
const RECALL_ID: &str = "R-DASH-1";
/// A product name that would run script if a page printed it raw.
const HOSTILE_PRODUCT: &str = "Mango <script>alert('product')</script> & \"slices\"";
/// A place name that would close an attribute and add a handler if printed raw.
const HOSTILE_PLACE: &str = "Packhouse\" onmouseover=\"alert(1)";
/// A supervision flag's reason with markup.
const HOSTILE_REASON: &str = "<b>late</b> reports & \"missing\" receipts";
/// Hazard text with markup.
const HOSTILE_HAZARD: &str = "Listeria <img src=x onerror=alert('hazard')>";

fn location(gln: &str) -> String {
    format!("https://id.gs1.org/414/{gln}")
}

/// The GLN of node `index`'s organisation.
fn gln_of(cluster: &Cluster, index: usize) -> String {
    let organisation = cluster.node(index).state.organisation_hex();
    cluster
        .node(index)
        .state
        .roster()
        .members
        .into_iter()
        .find(|member| member.public_key == organisation)
        .map(|member| member.gln)
        .expect("every node's organisation is in the roster")
}

/// The name of node `index`'s organisation.
fn name_of(cluster: &Cluster, index: usize) -> String {
    let organisation = cluster.node(index).state.organisation_hex();
    cluster
        .node(index)
        .state
        .roster()
        .members
        .into_iter()
        .find(|member| member.public_key == organisation)
        .map(|member| member.name)
        .expect("every node's organisation is in the roster")
}

/// The producer's document: names for its product and packhouse (hostile ones), the packing
/// of PACK42 and its shipments, 60 to the retailer and 36 to the logistics firm.
fn producer_document(producer_gln: &str, retailer_gln: &str, logistics_gln: &str) -> Vec<u8> {
    let place = json!({"id": location(producer_gln)});
    let shipment = |time: &str, quantity: u32, to: &str, document: &str| {
        json!({
            "type": "ObjectEvent", "eventTime": time, "eventTimeZoneOffset": "+00:00",
            "epcList": [], "action": "OBSERVE", "bizStep": "shipping",
            "disposition": "in_transit", "readPoint": place, "bizLocation": place,
            "quantityList": [{"epcClass": PACK_LOT, "quantity": quantity, "uom": "EA"}],
            "sourceList": [{"type": "location", "source": location(producer_gln)}],
            "destinationList": [
                {"type": "owning_party", "destination": format!("https://id.gs1.org/417/{to}")},
                {"type": "location", "destination": location(to)}
            ],
            "bizTransactionList": [{"type": "bol", "bizTransaction": format!("urn:epcglobal:cbv:bt:{producer_gln}:{document}")}]
        })
    };
    serde_json::to_vec(&json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-03-02T10:00:00Z",
        "epcisHeader": {"epcisMasterData": {"vocabularyList": [
            {"type": "urn:epcglobal:epcis:vtype:EPCClass",
             "vocabularyElementList": [{"id": format!("https://id.gs1.org/01/{PACK_GTIN}"),
                "attributes": [{"id": "gs1:productName", "attribute": HOSTILE_PRODUCT}]}]},
            {"type": "urn:epcglobal:epcis:vtype:BusinessLocation",
             "vocabularyElementList": [{"id": location(producer_gln),
                "attributes": [{"id": "cbvmda:name", "attribute": HOSTILE_PLACE}]}]}
        ]}},
        "epcisBody": {"eventList": [
            {
                "type": "ObjectEvent", "eventTime": "2026-03-02T09:00:00Z",
                "eventTimeZoneOffset": "+00:00", "epcList": [], "action": "ADD",
                "bizStep": "packing", "disposition": "active",
                "readPoint": place, "bizLocation": place,
                "quantityList": [{"epcClass": PACK_LOT, "quantity": 96, "uom": "EA"}]
            },
            shipment("2026-03-03T16:30:00Z", 60, retailer_gln, "BOL-1"),
            shipment("2026-03-03T17:00:00Z", 36, logistics_gln, "BOL-2")
        ]}
    }))
    .unwrap()
}

/// Waits until node `reader` holds node `author`'s whole feed (as long as it is now).
async fn wait_replicated(cluster: &Cluster, author: usize, reader: usize) {
    let author_key = cluster.node(author).state.organisation();
    let size = cluster.node(author).state.feed_size(author_key.as_bytes());
    let what = format!("node {reader} to hold node {author}'s {size} entries");
    wait_for(&what, DEFAULT_DEADLINE, || async {
        let held = cluster.node(reader).state.feed_size(author_key.as_bytes());
        (held >= size).then_some(())
    })
    .await
    .unwrap();
}

/// Runs blocking client calls off the runtime's threads.
async fn off_runtime<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(work).await.unwrap()
}

/// A GET with the session cookie, when given.
async fn get(address: SocketAddr, path: &str, cookie: Option<&str>) -> HttpAnswer {
    let cookie_header = cookie.map(|cookie| format!("lotline_session={cookie}"));
    let headers: Vec<(&str, &str)> =
        cookie_header.iter().map(|value| ("Cookie", value.as_str())).collect();
    exchange(address, "GET", path, &headers, b"").await.unwrap()
}

/// A form POST, with the session cookie when given and extra headers.
async fn post_form(
    address: SocketAddr,
    path: &str,
    body: &str,
    cookie: Option<&str>,
    extra: &[(&str, &str)],
) -> HttpAnswer {
    let cookie_header = cookie.map(|cookie| format!("lotline_session={cookie}"));
    let mut headers: Vec<(&str, &str)> =
        vec![("Content-Type", "application/x-www-form-urlencoded")];
    headers.extend(cookie_header.iter().map(|value| ("Cookie", value.as_str())));
    headers.extend_from_slice(extra);
    exchange(address, "POST", path, &headers, body.as_bytes()).await.unwrap()
}

fn text(answer: &HttpAnswer) -> String {
    String::from_utf8_lossy(&answer.body).into_owned()
}

/// `value` percent-encoded for a form body.
fn form_encoded(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// The session id a login's `Set-Cookie` carries.
fn session_of(answer: &HttpAnswer) -> String {
    let cookie = answer.header("set-cookie").expect("a login sets the session cookie");
    cookie
        .strip_prefix("lotline_session=")
        .and_then(|rest| rest.split(';').next())
        .expect("the cookie is lotline_session")
        .to_owned()
}

/// The form token a dashboard page's logout form carries.
fn form_token_of(page: &str) -> String {
    let marker = "name=\"form_token\" value=\"";
    let start = page.find(marker).expect("a logged-in page has the logout form") + marker.len();
    page[start..].split('"').next().unwrap_or_default().to_owned()
}

/// Asserts a page is HTML with the dashboard's policy and none of the hostile markup raw.
fn assert_safe_page(answer: &HttpAnswer, what: &str) {
    assert_eq!(answer.status, 200, "{what}: {}", text(answer));
    assert_eq!(answer.header("content-type"), Some("text/html; charset=utf-8"), "{what}");
    let policy = answer.header("content-security-policy").unwrap_or_default();
    assert!(policy.contains("default-src 'none'"), "{what}: {policy}");
    assert!(!policy.contains("script-src"), "{what}: the dashboard runs no script: {policy}");
    assert_eq!(answer.header("cache-control"), Some("no-store"), "{what}");
    let page = text(answer);
    for raw in ["<script>alert", "<img src=x", "\" onmouseover=\"alert"] {
        assert!(!page.contains(raw), "{what} prints {raw:?} unescaped");
    }
}

/// Whether `page` shows `raw` as text: every markup character escaped (by name or number).
fn shows_escaped(page: &str, raw: &str) -> bool {
    let numeric = |text: &str| {
        text.replace("&lt;", "&#60;")
            .replace("&gt;", "&#62;")
            .replace("&quot;", "&#34;")
            .replace("&apos;", "&#39;")
            .replace("&amp;", "&#38;")
    };
    let mut escaped = String::new();
    for character in raw.chars() {
        match character {
            '<' | '>' | '&' | '"' | '\'' => escaped.push_str(&format!("&#{};", character as u32)),
            other => escaped.push(other),
        }
    }
    numeric(page).contains(&escaped)
}

/// Every XML event of `document`, failing on the first that is not well-formed; returns the
/// text content.
fn xml_text(document: &str) -> String {
    let mut reader = quick_xml::Reader::from_str(document);
    let mut content = String::new();
    let mut elements = 0;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(quick_xml::events::Event::Start(_) | quick_xml::events::Event::Empty(_)) => {
                elements += 1;
            }
            Ok(quick_xml::events::Event::Text(text)) => {
                content.push_str(&text.decode().expect("text is UTF-8"));
            }
            Ok(quick_xml::events::Event::GeneralRef(reference)) => {
                let character = match reference.resolve_char_ref() {
                    Ok(Some(character)) => character,
                    _ => match reference.decode().expect("a reference is UTF-8").as_ref() {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "quot" => '"',
                        "apos" => '\'',
                        other => panic!("the scope graph uses an undeclared entity &{other};"),
                    },
                };
                content.push(character);
            }
            Ok(quick_xml::events::Event::End(_)) => content.push('\n'),
            Ok(_) => {}
            Err(error) => panic!("the scope graph is not well-formed XML: {error}\n{document}"),
        }
    }
    assert!(elements > 3, "the scope graph draws something: {document}");
    content
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_dashboard_shows_a_recall_only_to_a_logged_in_regulator() {
    let cluster = Cluster::start(6).await.unwrap();
    let producer_gln = gln_of(&cluster, PRODUCER);
    let retailer_gln = gln_of(&cluster, RETAILER);
    let logistics_gln = gln_of(&cluster, LOGISTICS);
    let retailer_name = name_of(&cluster, RETAILER);
    let logistics_name = name_of(&cluster, LOGISTICS);
    let producer_name = name_of(&cluster, PRODUCER);

    let producer = Client::connect(
        &cluster.url(PRODUCER),
        Some(cluster.token(PRODUCER).to_owned()),
        Policy::default(),
    )
    .unwrap();
    let document = producer_document(&producer_gln, &retailer_gln, &logistics_gln);
    off_runtime(move || producer.capture(&document, "application/ld+json"))
        .await
        .expect("capture accepted");
    wait_replicated(&cluster, PRODUCER, REGULATOR).await;

    // The regulator recalls the lot; the retailer acknowledges, the logistics firm does not.
    let regulator = Client::connect(
        &cluster.url(REGULATOR),
        Some(cluster.token(REGULATOR).to_owned()),
        Policy::default(),
    )
    .unwrap();
    let producer_key = cluster.node(PRODUCER).state.organisation_hex();
    let notice = off_runtime(move || {
        regulator
            .submit_record(&json!({
                "kind": "supervision_flag", "subject": producer_key,
                "reason": HOSTILE_REASON, "active": true
            }))
            .expect("the regulator flags the producer");
        regulator.submit_record(&json!({
            "kind": "recall_notice", "recall_id": RECALL_ID, "class": "I", "lots": [PACK_LOT],
            "hazard": HOSTILE_HAZARD, "instructions": "stop sale and quarantine"
        }))
    })
    .await
    .expect("the regulator issues the recall");
    wait_replicated(&cluster, REGULATOR, RETAILER).await;
    let retailer = Client::connect(
        &cluster.url(RETAILER),
        Some(cluster.token(RETAILER).to_owned()),
        Policy::default(),
    )
    .unwrap();
    let regulator_key = cluster.node(REGULATOR).state.organisation_hex();
    off_runtime(move || {
        retailer.submit_record(&json!({
            "kind": "recall_ack", "recall_id": RECALL_ID, "action": "quarantined",
            "quantity_held": "60 EA",
            "notice": {"author": regulator_key, "sequence": notice.sequence, "entry_hash": notice.entry_hash},
        }))
    })
    .await
    .expect("the retailer acknowledges");
    wait_replicated(&cluster, RETAILER, REGULATOR).await;
    // A lab's failed test of the recalled lot, and a passed one the page must not list.
    let lab =
        Client::connect(&cluster.url(LAB), Some(cluster.token(LAB).to_owned()), Policy::default())
            .unwrap();
    off_runtime(move || {
        for (verdict, test) in
            [("fail", "Listeria monocytogenes (ISO 11290-1)"), ("pass", "pesticide screen")]
        {
            lab.submit_record(&json!({
                "kind": "inspection_result", "lots": [PACK_LOT], "test": test, "verdict": verdict,
                "values": [], "sampled_at": "2026-03-05T09:00:00Z", "report": "REP-17"
            }))
            .expect("the lab signs its result");
        }
    })
    .await;
    wait_replicated(&cluster, LAB, REGULATOR).await;
    let lab_name = name_of(&cluster, LAB);
    // The producer's record of a temperature excursion on the recalled lot.
    let producer = Client::connect(
        &cluster.url(PRODUCER),
        Some(cluster.token(PRODUCER).to_owned()),
        Policy::default(),
    )
    .unwrap();
    off_runtime(move || {
        producer.submit_record(&json!({
            "kind": "excursion", "lots": [PACK_LOT], "measurement": "gs1:Temperature",
            "limit": "above 8 CEL for more than 30 min", "observed": "12.5 CEL",
            "started": "2026-03-04T10:00:00Z", "ended": "2026-03-04T11:15:00Z"
        }))
    })
    .await
    .expect("the producer records the excursion");
    wait_replicated(&cluster, PRODUCER, REGULATOR).await;

    let dashboard = cluster.node(REGULATOR).http_address;
    let token = cluster.token(REGULATOR).to_owned();

    // Without a session: the login form, redirects to it, 401 for downloads.
    let login_form = get(dashboard, "/dashboard", None).await;
    assert_safe_page(&login_form, "the login page");
    assert!(text(&login_form).contains("name=\"token\""), "{}", text(&login_form));
    assert!(!text(&login_form).contains(RECALL_ID), "no recall is shown before the login");
    let recall_path = format!("/dashboard/recalls/{RECALL_ID}");
    for page in ["/dashboard/supervision", recall_path.as_str()] {
        let refused = get(dashboard, page, None).await;
        assert_eq!(refused.status, 303, "{page} without a session");
        assert_eq!(refused.header("location"), Some("/dashboard"), "{page}");
    }
    for download in ["scope.svg", "fsma204.csv"] {
        let refused = get(dashboard, &format!("{recall_path}/{download}"), None).await;
        assert_eq!(refused.status, 401, "{download} without a session");
    }
    let forged = get(dashboard, "/dashboard/supervision", Some("00112233")).await;
    assert_eq!(forged.status, 303, "an unknown session id is no session");

    // A wrong token is refused with no cookie; the right one sets a strict one.
    let refused = post_form(dashboard, "/dashboard/login", "token=not-the-token", None, &[]).await;
    assert_eq!(refused.status, 401);
    assert!(refused.header("set-cookie").is_none());
    assert!(!text(&refused).contains("not-the-token"), "the page does not echo the token");
    let body = format!("token={}", form_encoded(&token));
    let plain = post_form(dashboard, "/dashboard/login", &body, None, &[]).await;
    assert_eq!(plain.status, 303, "{}", text(&plain));
    assert_eq!(plain.header("location"), Some("/dashboard"));
    let cookie = plain.header("set-cookie").unwrap_or_default().to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/dashboard", "Max-Age="] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP gets no Secure cookie: {cookie}");
    assert!(!cookie.contains(&token), "the cookie is a session id, not the token");
    let behind_tls =
        post_form(dashboard, "/dashboard/login", &body, None, &[("X-Forwarded-Proto", "https")])
            .await;
    assert!(behind_tls.header("set-cookie").unwrap_or_default().contains("; Secure"));
    let session = session_of(&plain);

    // The recalls: the recall with its class, hazard (escaped) and outstanding count.
    let recalls = get(dashboard, "/dashboard", Some(&session)).await;
    assert_safe_page(&recalls, "the recalls page");
    let recalls_page = text(&recalls);
    assert!(recalls_page.contains(RECALL_ID), "{recalls_page}");
    assert!(shows_escaped(&recalls_page, HOSTILE_HAZARD), "{recalls_page}");
    let form_token = form_token_of(&recalls_page);

    // One recall: consignees with quantities and places, who acknowledged, who is outstanding.
    let recall = get(dashboard, &recall_path, Some(&session)).await;
    assert_safe_page(&recall, "the recall page");
    let recall_page = text(&recall);
    for expected in [
        retailer_name.as_str(),
        logistics_name.as_str(),
        retailer_gln.as_str(),
        "60 EA",
        "36 EA",
        "quarantined",
        "outstanding",
        "1 of 2 consignee(s) outstanding",
        "scope.svg",
        "fsma204.csv",
    ] {
        assert!(
            recall_page.contains(expected),
            "the recall page lacks {expected:?}: {recall_page}"
        );
    }
    let excursions = &recall_page[recall_page.find("id=\"excursions\"").expect("the section")..];
    let excursions =
        &excursions[..excursions.find("id=\"inspections\"").unwrap_or(excursions.len())];
    assert!(excursions.contains("12.5 CEL"), "the excursion on the recalled lot: {excursions}");
    assert!(excursions.contains(&producer_name), "who recorded it: {excursions}");
    let inspections = &recall_page[recall_page.find("id=\"inspections\"").expect("the section")..];
    assert!(inspections.contains("Listeria monocytogenes (ISO 11290-1)"), "{inspections}");
    assert!(inspections.contains(&lab_name), "the lab is named: {inspections}");
    assert!(!inspections.contains("pesticide screen"), "a passed test is no failed inspection");
    assert!(shows_escaped(&recall_page, HOSTILE_PRODUCT), "{recall_page}");
    assert!(shows_escaped(&recall_page, HOSTILE_HAZARD), "{recall_page}");

    // The scope graph is well-formed XML naming the lot and its product.
    let svg = get(dashboard, &format!("{recall_path}/scope.svg"), Some(&session)).await;
    assert_eq!(svg.status, 200);
    assert_eq!(svg.header("content-type"), Some("image/svg+xml"));
    let svg_text = text(&svg);
    assert!(!svg_text.contains("<script"), "{svg_text}");
    let drawn = xml_text(&svg_text);
    assert!(drawn.contains("/01/09506000134376/10/PACK42"), "the graph names the lot: {drawn}");
    assert!(drawn.contains("Mango <script>"), "the product's name, as text: {drawn}");
    assert!(drawn.contains("60 EA"), "the handoff's quantity: {drawn}");

    // The FSMA 204 spreadsheet: its columns, then the recalled lot's events.
    let csv = get(dashboard, &format!("{recall_path}/fsma204.csv"), Some(&session)).await;
    assert_eq!(csv.status, 200);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(csv.header("content-disposition").unwrap_or_default().starts_with("attachment"));
    let csv_text = text(&csv);
    assert_eq!(csv_text.lines().next(), Some(COLUMNS.join(",").as_str()));
    let shipping_rows =
        csv_text.lines().filter(|line| line.starts_with("Shipping,(01)09506000134376(10)PACK42"));
    let shipping_rows: Vec<&str> = shipping_rows.collect();
    assert_eq!(shipping_rows.len(), 2, "{csv_text}");
    assert!(
        shipping_rows.iter().all(|row| row.contains("12.5 CEL")),
        "the rows of the lot note its excursion: {csv_text}"
    );

    // The supervision list: the logistics firm holds recalled goods and has not acknowledged.
    let supervision = get(dashboard, "/dashboard/supervision", Some(&session)).await;
    assert_safe_page(&supervision, "the supervision page");
    let supervision_page = text(&supervision);
    assert!(supervision_page.contains("unacknowledged recall"), "{supervision_page}");
    assert!(supervision_page.contains(&logistics_name), "{supervision_page}");
    assert!(supervision_page.contains("unconfirmed handoff"), "no receipt is recorded");
    assert!(supervision_page.contains("supervision flag"), "{supervision_page}");
    assert!(supervision_page.contains(&producer_name), "{supervision_page}");
    assert!(shows_escaped(&supervision_page, HOSTILE_REASON), "{supervision_page}");

    // A recall the node does not hold, or an absurd address, is a 404 page.
    let unknown = get(dashboard, "/dashboard/recalls/R-NONE", Some(&session)).await;
    assert_eq!(unknown.status, 404);
    let long_address = format!("/dashboard/recalls/{}", "9".repeat(5_000));
    assert_eq!(get(dashboard, &long_address, Some(&session)).await.status, 404);

    in_a_browser(dashboard, &token, &logistics_name).await;

    // Logging out needs the session's form token; afterwards the session is gone.
    let forged_logout =
        post_form(dashboard, "/dashboard/logout", "form_token=guess", Some(&session), &[]).await;
    assert_eq!(forged_logout.status, 403);
    let logout = post_form(
        dashboard,
        "/dashboard/logout",
        &format!("form_token={form_token}"),
        Some(&session),
        &[],
    )
    .await;
    assert_eq!(logout.status, 303);
    assert!(logout.header("set-cookie").unwrap_or_default().contains("Max-Age=0"));
    assert_eq!(get(dashboard, "/dashboard/supervision", Some(&session)).await.status, 303);

    cluster.shutdown().await;
}

/// The dashboard in headless Chromium: a page asked for without a session lands on the login
/// form, a wrong token is refused, the right one opens the recalls; the recall's page shows its
/// consignees and scope graph, passes axe-core without serious violations, and the session
/// cookie is out of the page's scripts' reach.
async fn in_a_browser(dashboard: SocketAddr, token: &str, outstanding_consignee: &str) {
    let browser = Browser::start().await.unwrap();
    let client = &browser.client;
    client.goto(&format!("http://{dashboard}/dashboard/supervision")).await.unwrap();
    let login_field = client.wait().for_element(Locator::Css("input[name=token]")).await.unwrap();
    let page = client.source().await.unwrap();
    assert!(!page.contains(RECALL_ID), "nothing is shown before the login: {page}");
    login_field.send_keys("not-the-token").await.unwrap();
    client.find(Locator::Css("main form button")).await.unwrap().click().await.unwrap();
    let refusal = client.wait().for_element(Locator::Css("p.problem")).await.unwrap();
    assert!(refusal.text().await.unwrap().contains("not this node's API token"));
    browser.screenshot("dashboard-refused").await.unwrap();

    let login_field = client.find(Locator::Css("input[name=token]")).await.unwrap();
    login_field.send_keys(token).await.unwrap();
    client.find(Locator::Css("main form button")).await.unwrap().click().await.unwrap();
    let recall_link =
        client.wait().for_element(Locator::Css("a[href^='/dashboard/recalls/']")).await.unwrap();
    assert_eq!(recall_link.text().await.unwrap(), RECALL_ID);
    let cookie_seen_by_scripts =
        client.execute("return document.cookie;", Vec::new()).await.unwrap();
    assert_eq!(cookie_seen_by_scripts, json!(""), "the session cookie is HttpOnly");
    let url = client.current_url().await.unwrap();
    assert!(!url.as_str().contains(token), "the token never appears in a URL: {url}");

    recall_link.click().await.unwrap();
    let hazard = client.wait().for_element(Locator::Id("hazard")).await.unwrap();
    assert_eq!(hazard.text().await.unwrap(), HOSTILE_HAZARD, "the hazard reads as text");
    client.find(Locator::Id("consignees")).await.expect("the consignees section");
    let page_text = client.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(page_text.contains(outstanding_consignee), "{page_text}");
    assert!(page_text.contains("outstanding"), "{page_text}");
    let graph_loaded = client
        .execute(
            "const image = document.querySelector('.graph img'); \
             return image.complete && image.naturalWidth > 0;",
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(graph_loaded, json!(true), "the scope graph loads with the session");
    let injected = client
        .execute(
            "return document.querySelectorAll('main script, main img[src=x]').length;",
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(injected, json!(0), "no element comes from the hostile strings");
    browser.screenshot("dashboard-recall").await.unwrap();
    let violations = browser.serious_accessibility_violations().await.unwrap();
    assert!(violations.is_empty(), "serious accessibility violations: {violations:#?}");
    browser.close().await;
}
