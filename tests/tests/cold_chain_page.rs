//! The consumer page's cold-chain section in a real headless Chromium: a producer says its
//! product is chilled, captures a logger's readings of a lot with a stretch above 4 °C and a
//! gap, its node signs the excursion, and the page of the lot shows the verdict, the curve
//! (limits shaded, the excursion marked, the gap left open) and the excursion with the
//! organisation that recorded it, verified in the browser; a lot kept within range says so;
//! axe-core finds no serious or critical violation.
//!
//! Owns these page cases. Does not own detection or the excursion records (their own tests),
//! nor the rest of the page (`consumer_page.rs`).

use std::time::Duration;

use fantoccini::Locator;
use lotline_tests::browser::Browser;
use lotline_tests::cluster::{Cluster, wait_for};
use lotline_tests::fixtures::{exchange, send_json_ld};
use serde_json::{Value, json};

/// A lot of producer-0's product that warmed on the way.
const WARM_LOT: &str = "https://id.gs1.org/01/09506000134352/10/WARM1";
/// Its page.
const WARM_PAGE: &str = "/view/01/09506000134352/10/WARM1";
/// A lot of the same product kept within range.
const COLD_LOT: &str = "https://id.gs1.org/01/09506000134352/10/COLD9";
/// Its page.
const COLD_PAGE: &str = "/view/01/09506000134352/10/COLD9";
/// How long a page's own check and a signed excursion may take.
const DEADLINE: Duration = Duration::from_secs(30);

/// The producer's capture: the product's chilled profile in master data, and one logger
/// event per lot with a reading every five minutes from 08:00 UTC.
fn document(warm: &[f64], cold: &[f64]) -> Vec<u8> {
    let event = |device: &str, lot: &str, readings: &[f64]| {
        let reports: Vec<Value> = readings
            .iter()
            .enumerate()
            .map(|(index, celsius)| {
                let minutes = index * 5;
                json!({"type": "gs1:Temperature", "value": celsius, "uom": "CEL",
                    "time": format!("2026-03-01T{:02}:{:02}:00Z", 8 + minutes / 60, minutes % 60)})
            })
            .collect();
        json!({
            "type": "ObjectEvent",
            "eventTime": "2026-03-01T14:00:00Z",
            "eventTimeZoneOffset": "+00:00",
            "epcList": [],
            "quantityList": [{"epcClass": lot}],
            "action": "OBSERVE",
            "bizStep": "sensor_reporting",
            "sensorElementList": [{"sensorMetadata": {"deviceID": device}, "sensorReport": reports}],
        })
    };
    serde_json::to_vec(&json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-03-01T14:00:00.000Z",
        "epcisHeader": {"epcisMasterData": {"vocabularyList": [
            {"type": "urn:epcglobal:epcis:vtype:EPCClass",
             "vocabularyElementList": [{"id": "urn:epc:idpat:sgtin:9506000.013435.*", "attributes": [
                {"id": "urn:epcglobal:cbv:mda#descriptionShort", "attribute": "Baby spinach 200 g"},
                {"id": "urn:lotline:mda:temperatureProfile", "attribute": "chilled"}]}]}]}},
        "epcisBody": {"eventList": [
            event("urn:lotline:device:W1", WARM_LOT, warm),
            event("urn:lotline:device:C1", COLD_LOT, cold),
        ]}
    }))
    .unwrap()
}

/// Runs `script` in the page and returns its value.
async fn script(browser: &Browser, script: &str) -> Value {
    browser.client.execute(script, Vec::new()).await.unwrap()
}

/// Waits until the page's script has finished its check and returns `data-verified`.
async fn verification_outcome(browser: &Browser) -> String {
    wait_for("the page's own verification to finish", DEADLINE, || async {
        let status = browser.client.find(Locator::Id("verification")).await.ok()?;
        let outcome = status.attr("data-verified").await.ok()??;
        (!matches!(outcome.as_str(), "pending" | "checking")).then_some(outcome)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_page_shows_the_cold_chain_verdict_the_curve_and_the_signed_excursion() {
    let cluster = Cluster::start(1).await.unwrap();
    let node = cluster.node(0).http_address;
    // Six hours at 3 °C with an hour at 9 °C from 10:00 (above 4 °C for more than 30 min
    // breaches the chilled profile), and a logger silent from 12:00 to 12:45.
    let warm: Vec<f64> =
        (0..72).map(|index| if (24..36).contains(&index) { 9.0 } else { 3.0 }).collect();
    let cold: Vec<f64> = (0..72).map(|index| 2.0 + f64::from(index % 3) * 0.5).collect();
    let mut body = document(&warm, &cold);
    // The warm logger's readings of 12:00-12:40 never arrived (indices 48-56).
    let mut parsed: Value = serde_json::from_slice(&body).unwrap();
    let reports = parsed["epcisBody"]["eventList"][0]["sensorElementList"][0]["sensorReport"]
        .as_array_mut()
        .unwrap();
    reports.drain(48..57);
    body = serde_json::to_vec(&parsed).unwrap();
    let captured = send_json_ld(&cluster, 0, "POST", "/capture", &body).await;
    assert!((200..300).contains(&captured.status), "{}", String::from_utf8_lossy(&captured.body));

    // The node signs the excursion; the page shows it once signed.
    wait_for("the node to sign the excursion", DEADLINE, || async {
        let answer = exchange(node, "GET", WARM_PAGE, &[], b"").await.ok()?;
        let page = String::from_utf8_lossy(&answer.body).into_owned();
        page.contains("data-cold-chain=\"excursion\"").then_some(())
    })
    .await
    .unwrap();
    let page = exchange(node, "GET", WARM_PAGE, &[("Accept-Language", "en")], b"").await.unwrap();
    let html = String::from_utf8_lossy(&page.body).into_owned();
    assert!(html.contains("Temperature excursion recorded"), "the verdict");
    assert!(html.contains("chilled 0-4 (0–4 °C)"), "the profile applied");
    assert!(!html.contains("sensor_reporting"), "logger events are not path steps");

    let browser = Browser::start().await.unwrap();
    browser.client.goto(&format!("http://{node}{WARM_PAGE}?lang=en")).await.unwrap();
    assert_eq!(verification_outcome(&browser).await, "true");
    let chart = script(
        &browser,
        "const svg = document.querySelector('#cold-chain svg');
         return {lines: svg.querySelectorAll('polyline').length,
                 band: svg.querySelectorAll('rect.band').length,
                 excursions: svg.querySelectorAll('rect.excursion').length,
                 label: svg.querySelector('title').textContent};",
    )
    .await;
    assert_eq!(chart["lines"], 2, "the gap breaks the line: {chart}");
    assert_eq!(chart["band"], 1, "the chilled range is shaded: {chart}");
    assert_eq!(chart["excursions"], 1, "the excursion is marked: {chart}");
    let excursion = script(
        &browser,
        "const item = document.querySelector('#cold-chain li.excursion');
         return {verified: item.getAttribute('data-step-verified'), text: item.textContent};",
    )
    .await;
    assert_eq!(excursion["verified"], "true", "the excursion record's signature: {excursion}");
    let text = excursion["text"].as_str().unwrap();
    assert!(text.contains("2026-03-01 10:00 UTC – 2026-03-01 11:00 UTC"), "10:00 to 11:00: {text}");
    assert!(text.contains("9 CEL"), "the worst reading: {text}");
    assert!(text.contains("producer-0"), "who recorded it: {text}");
    let violations = browser.serious_accessibility_violations().await.unwrap();
    assert!(violations.is_empty(), "axe-core: {}", Value::Array(violations));
    script(&browser, "document.getElementById('cold-chain').scrollIntoView(); return null;").await;
    browser.screenshot("consumer-page-cold-chain").await.unwrap();

    browser.client.goto(&format!("http://{node}{COLD_PAGE}?lang=en")).await.unwrap();
    assert_eq!(verification_outcome(&browser).await, "true");
    let kept = script(
        &browser,
        "const section = document.getElementById('cold-chain');
         return {state: section.getAttribute('data-cold-chain'),
                 excursions: section.querySelectorAll('rect.excursion').length,
                 text: section.textContent};",
    )
    .await;
    assert_eq!(kept["state"], "kept", "{kept}");
    assert_eq!(kept["excursions"], 0, "{kept}");
    assert!(kept["text"].as_str().unwrap().contains("72 readings"), "{kept}");
    browser.close().await;
    cluster.shutdown().await;
}
