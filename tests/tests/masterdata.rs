//! Master data end to end: EPCIS `vocabularyList`s captured in either binding on one node,
//! signed into its feed, replicated to another, read there with the standard's master-data
//! query and with their history; a later statement supersedes an earlier one; an organisation
//! cannot describe a GLN or GTIN it does not own, and bad vocabulary input is refused naming
//! the element and the rule, with nothing stored.
//!
//! Owns the HTTP and replication cases. Does not own the rules themselves
//! (`lotline_ledger::masterdata`, whose unit tests cover both bindings' forms, the ownership
//! rule on replicated entries and the directory's reading rules).

use lotline_tests::cluster::{Cluster, DEFAULT_DEADLINE, wait_for};
use lotline_tests::fixtures::{query_encoded as encoded, send_as as send};
use serde_json::{Value, json};

/// The farm's GLN: under producer-0's granted company prefix `9506000`.
const FARM: &str = "https://id.gs1.org/414/9506000000008";
/// The same place as an SGLN URN.
const FARM_URN: &str = "urn:epc:id:sgln:9506000.00000.0";
/// A packhouse of the same producer.
const PACKHOUSE: &str = "https://id.gs1.org/414/9506000000015";
/// A product of the producer (GTIN `0 9506000 13435 2`).
const LETTUCE: &str = "https://id.gs1.org/01/09506000134352";

/// A JSON-LD capture document with `vocabulary_list` in its header and `events`.
fn json_document(vocabulary_list: Value, events: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-03-01T12:00:00.000Z",
        "epcisHeader": {"epcisMasterData": {"vocabularyList": vocabulary_list}},
        "epcisBody": {"eventList": events}
    }))
    .unwrap()
}

/// The farm named `farm_name`, and the lettuce.
fn farm_and_lettuce(farm_name: &str) -> Value {
    json!([
        {"type": "urn:epcglobal:epcis:vtype:BusinessLocation",
         "vocabularyElementList": [{"id": FARM_URN, "attributes": [
            {"id": "cbvmda:name", "attribute": farm_name},
            {"id": "urn:epcglobal:cbv:mda#streetAddressOne", "attribute": "1 Field Road"},
            {"id": "urn:epcglobal:cbv:mda#city", "attribute": "Salinas"},
            {"id": "urn:epcglobal:cbv:mda#state", "attribute": "CA"},
            {"id": "urn:epcglobal:cbv:mda#postalCode", "attribute": "93901"},
            {"id": "urn:epcglobal:cbv:mda#countryCode", "attribute": "US"}]}]},
        {"type": "urn:epcglobal:epcis:vtype:EPCClass",
         "vocabularyElementList": [{"id": "urn:epc:idpat:sgtin:9506000.013435.*", "attributes": [
            {"id": "gs1:productName", "attribute": "Romaine lettuce, 1 kg bag"}]}]}
    ])
}

/// An XML document describing the packhouse, with one shipping event.
fn xml_packhouse_document(element_id: &str) -> Vec<u8> {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0"
    creationDate="2026-03-01T12:00:00Z">
  <EPCISHeader>
    <extension>
      <EPCISMasterData>
        <VocabularyList>
          <Vocabulary type="urn:epcglobal:epcis:vtype:ReadPoint">
            <VocabularyElementList>
              <VocabularyElement id="{element_id}">
                <attribute id="urn:epcglobal:cbv:mda#name">Valley Packhouse</attribute>
                <attribute id="urn:epcglobal:cbv:mda#city">Salinas</attribute>
              </VocabularyElement>
            </VocabularyElementList>
          </Vocabulary>
        </VocabularyList>
      </EPCISMasterData>
    </extension>
  </EPCISHeader>
  <EPCISBody>
    <EventList>
      <ObjectEvent>
        <eventTime>2026-03-01T10:00:00.000Z</eventTime>
        <eventTimeZoneOffset>+00:00</eventTimeZoneOffset>
        <epcList><epc>https://id.gs1.org/01/09506000134352/21/7</epc></epcList>
        <action>OBSERVE</action>
        <bizStep>urn:epcglobal:cbv:bizstep:shipping</bizStep>
        <readPoint><id>{element_id}</id></readPoint>
      </ObjectEvent>
    </EventList>
  </EPCISBody>
</epcis:EPCISDocument>"#
    )
    .into_bytes()
}

/// Captures `body` on node `index`, expecting `status`; the answer as JSON.
async fn capture(
    cluster: &Cluster,
    index: usize,
    content_type: &str,
    body: &[u8],
    status: u16,
) -> Value {
    let answer = send(cluster, index, "POST", "/capture", content_type, body).await;
    assert_eq!(answer.status, status, "{}", String::from_utf8_lossy(&answer.body));
    answer.json().unwrap()
}

/// `GET path` on node `index`: (status, JSON body).
async fn get(cluster: &Cluster, index: usize, path: &str) -> (u16, Value) {
    let answer = send(cluster, index, "GET", path, "application/json", b"").await;
    let body = answer.json().unwrap_or(Value::Null);
    (answer.status, body)
}

/// The vocabulary elements of a `GET /vocabularies` answer, as (vocabulary type, element).
fn elements(document: &Value) -> Vec<(String, Value)> {
    let list = &document["epcisBody"]["queryResults"]["resultsBody"]["vocabularyList"];
    list.as_array()
        .into_iter()
        .flatten()
        .flat_map(|vocabulary| {
            let vocabulary_type = vocabulary["type"].as_str().unwrap_or_default().to_owned();
            vocabulary["vocabularyElementList"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |element| (vocabulary_type.clone(), element))
        })
        .collect()
}

/// The value of attribute `id` of a vocabulary element.
fn attribute<'element>(element: &'element Value, id: &str) -> Option<&'element Value> {
    element["attributes"]
        .as_array()?
        .iter()
        .find(|attribute| attribute["id"] == id)
        .map(|attribute| &attribute["attribute"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn master_data_is_signed_replicated_superseded_and_queried() {
    let cluster = Cluster::start(2).await.unwrap();
    let producer = cluster.node(0).state.organisation_hex();
    let no_events = json!([]);

    let job = capture(
        &cluster,
        0,
        "application/ld+json",
        &json_document(farm_and_lettuce("Green Valley"), no_events.clone()),
        202,
    )
    .await;
    assert_eq!(job["statementsRecorded"], 2, "{job}");
    assert_eq!(job["sequences"].as_array().unwrap().len(), 2, "{job}");
    // A retry appends nothing.
    let retry = capture(
        &cluster,
        0,
        "application/ld+json",
        &json_document(farm_and_lettuce("Green Valley"), no_events.clone()),
        202,
    )
    .await;
    assert_eq!(retry["statementsRecorded"], 0, "{retry}");
    assert_eq!(retry["statementsUnchanged"], 2, "{retry}");
    // The XML binding: master data and an event in one batch.
    let xml_job =
        capture(&cluster, 0, "application/xml", &xml_packhouse_document(PACKHOUSE), 202).await;
    assert_eq!(xml_job["statementsRecorded"], 1, "{xml_job}");
    assert_eq!(xml_job["eventIDs"].as_array().unwrap().len(), 1, "{xml_job}");
    assert_eq!(xml_job["sequences"].as_array().unwrap().len(), 2, "{xml_job}");

    // Node 1 replicates the producer's feed and reads the statements there.
    let farm_query = format!("/vocabularies?EQ_name={}", encoded(FARM_URN));
    let document = wait_for("the farm's master data on node 1", DEFAULT_DEADLINE, || async {
        let (status, document) = get(&cluster, 1, &farm_query).await;
        (status == 200 && !elements(&document).is_empty()).then_some(document)
    })
    .await
    .unwrap();
    assert_eq!(document["type"], "EPCISQueryDocument");
    assert_eq!(document["epcisBody"]["queryResults"]["queryName"], "SimpleMasterDataQuery");
    let found = elements(&document);
    assert_eq!(found.len(), 1, "{document}");
    let (vocabulary_type, farm) = &found[0];
    assert_eq!(vocabulary_type, "urn:epcglobal:epcis:vtype:BusinessLocation");
    assert_eq!(farm["id"], FARM);
    assert_eq!(attribute(farm, "urn:epcglobal:cbv:mda#name"), Some(&json!("Green Valley")));
    assert_eq!(farm["lotline:author"], producer);
    let replica = &cluster.node(1).state;
    wait_for("the packhouse and the lettuce on node 1", DEFAULT_DEADLINE, || async {
        (replica.master_data(PACKHOUSE).is_some() && replica.master_data(LETTUCE).is_some())
            .then_some(())
    })
    .await
    .unwrap();
    let lot = "https://id.gs1.org/01/09506000134352/10/L7";
    let named = replica.master_data_name(lot).expect("the lot is named by its product");
    assert_eq!(named.statement.name(), Some("Romaine lettuce, 1 kg bag"));
    let packhouse = replica.master_data(PACKHOUSE).unwrap();
    assert_eq!(packhouse.statement.name(), Some("Valley Packhouse"));
    assert_eq!(packhouse.author().to_hex(), producer);

    // The standard's parameters.
    let (_, products) =
        get(&cluster, 1, "/vocabularies?vocabularyName=urn:epcglobal:epcis:vtype:EPCClass").await;
    let products = elements(&products);
    assert_eq!(products.len(), 1);
    assert_eq!(products[0].1["id"], LETTUCE);
    let (_, in_salinas) = get(&cluster, 1, "/vocabularies?EQ_ATTR_cbvmda:city=Salinas").await;
    assert_eq!(elements(&in_salinas).len(), 2, "{in_salinas}");
    let (_, named_products) =
        get(&cluster, 1, "/vocabularies?HASATTR=gs1:productName&includeAttributes=false").await;
    let named_products = elements(&named_products);
    assert_eq!(named_products.len(), 1);
    assert!(named_products[0].1.get("attributes").is_none());
    let (_, names_only) = get(&cluster, 1, "/vocabularies?attributeNames=cbvmda:name").await;
    for (_, element) in elements(&names_only) {
        let attributes = element["attributes"].as_array().cloned().unwrap_or_default();
        assert!(attributes.iter().all(|attribute| attribute["id"] == "urn:epcglobal:cbv:mda#name"));
    }
    let (status, too_many) = get(&cluster, 1, "/vocabularies?maxElementCount=1").await;
    assert_eq!(status, 413, "{too_many}");
    assert_eq!(too_many["type"], "epcisException:QueryTooLargeException");
    let (status, unknown) = get(&cluster, 1, "/vocabularies?EQ_colour=red").await;
    assert_eq!(status, 400, "{unknown}");
    assert!(unknown["detail"].as_str().unwrap().contains("EQ_colour"), "{unknown}");

    // A later statement supersedes; the history keeps both, with who said them.
    capture(
        &cluster,
        0,
        "application/ld+json",
        &json_document(farm_and_lettuce("Green Valley Farms"), no_events),
        202,
    )
    .await;
    wait_for("the new farm name on node 1", DEFAULT_DEADLINE, || async {
        let current = replica.master_data(FARM)?;
        (current.statement.name() == Some("Green Valley Farms")).then_some(())
    })
    .await
    .unwrap();
    let (status, history) =
        get(&cluster, 1, &format!("/vocabularies/history?id={}", encoded(FARM_URN))).await;
    assert_eq!(status, 200, "{history}");
    assert_eq!(history["id"], FARM);
    let statements = history["history"].as_array().unwrap();
    assert_eq!(statements.len(), 2, "{history}");
    assert_eq!(statements[0]["entry"]["author"], producer);
    assert_eq!(statements[1]["entry"]["author"], producer);
    let name_of = |described: &Value| {
        described["statement"]["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|attribute| attribute["id"] == "urn:epcglobal:cbv:mda#name")
            .map(|attribute| attribute["value"].clone())
    };
    assert_eq!(name_of(&statements[0]), Some(json!("Green Valley")));
    assert_eq!(name_of(&statements[1]), Some(json!("Green Valley Farms")));
    assert_eq!(name_of(&history["current"]), Some(json!("Green Valley Farms")));
    let (status, _) =
        get(&cluster, 1, "/vocabularies/history?id=https://id.gs1.org/414/9506000000022").await;
    assert_eq!(status, 404);
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_or_foreign_master_data_is_refused_and_nothing_is_stored() {
    let cluster = Cluster::start(2).await.unwrap();
    // Node 1 (logistics, prefix 9506001) tries to rename the producer's farm, with an event
    // in the same document: the whole document is refused.
    let shipping = json!([{
        "type": "ObjectEvent",
        "eventTime": "2026-03-01T10:00:00.000Z",
        "eventTimeZoneOffset": "+00:00",
        "action": "OBSERVE",
        "bizStep": "shipping",
        "quantityList": [{"epcClass": "https://id.gs1.org/01/09506001134351/10/L1", "quantity": 1, "uom": "KGM"}]
    }]);
    let stored_before = cluster.node(1).state.store().len();
    let renamed = json!([{"type": "urn:epcglobal:epcis:vtype:BusinessLocation",
        "vocabularyElementList": [{"id": FARM, "attributes": [
            {"id": "cbvmda:name", "attribute": "Not Green Valley"}]}]}]);
    let problem =
        capture(&cluster, 1, "application/ld+json", &json_document(renamed, shipping.clone()), 400)
            .await;
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains(FARM), "{detail}");
    assert!(detail.contains("may not describe"), "{detail}");
    assert!(detail.contains("9506001"), "{detail}");
    assert_eq!(problem["type"], "epcisException:ValidationException");
    // A GTIN under another organisation's prefix, in XML.
    let problem =
        capture(&cluster, 1, "application/xml", &xml_packhouse_document(PACKHOUSE), 400).await;
    assert!(problem["detail"].as_str().unwrap().contains(PACKHOUSE), "{problem}");
    let foreign_product = json!([{"type": "urn:epcglobal:epcis:vtype:EPCClass",
        "vocabularyElementList": [{"id": LETTUCE, "attributes": [
            {"id": "gs1:productName", "attribute": "Mine now"}]}]}]);
    let problem = capture(
        &cluster,
        1,
        "application/ld+json",
        &json_document(foreign_product, json!([])),
        400,
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains(LETTUCE), "{problem}");

    // Unknown vocabulary type and malformed attributes name the element.
    let own_place = "https://id.gs1.org/414/9506001000007";
    let cases = [
        (
            json!([{"type": "urn:epcglobal:epcis:vtype:BusinessStep",
                "vocabularyElementList": [{"id": own_place}]}]),
            vec![own_place, "BusinessStep"],
        ),
        (
            json!([{"type": "urn:epcglobal:epcis:vtype:BusinessLocation",
                "vocabularyElementList": [{"id": own_place, "attributes": [
                    {"id": "nowhere:name", "attribute": "x"}]}]}]),
            vec![own_place, "nowhere:name", "not declared"],
        ),
        (
            json!([{"type": "urn:epcglobal:epcis:vtype:BusinessLocation",
                "vocabularyElementList": [{"id": own_place, "attributes": [
                    {"id": "cbvmda:name", "attribute": "bell\u{7}"}]}]}]),
            vec![own_place, "control character"],
        ),
        (
            json!([{"type": "urn:epcglobal:epcis:vtype:BusinessLocation",
                "vocabularyElementList": [{"id": "urn:uuid:2f2b3c62-3b8f-4b7e-9d39-0f5e8f7e1a11"}]}]),
            vec!["urn:uuid:2f2b3c62-3b8f-4b7e-9d39-0f5e8f7e1a11", "not a GS1 key"],
        ),
    ];
    for (vocabulary_list, expected) in cases {
        let problem = capture(
            &cluster,
            1,
            "application/ld+json",
            &json_document(vocabulary_list, shipping.clone()),
            400,
        )
        .await;
        let detail = problem["detail"].as_str().unwrap();
        for part in expected {
            assert!(detail.contains(part), "{detail:?} should name {part:?}");
        }
    }
    assert_eq!(cluster.node(1).state.store().len(), stored_before, "nothing was stored");
    let (_, everything) = get(&cluster, 1, "/vocabularies").await;
    assert!(elements(&everything).is_empty(), "{everything}");

    // Its own GLN and prefix it may describe.
    let own = json!([{"type": "urn:epcglobal:epcis:vtype:Location",
        "vocabularyElementList": [{"id": own_place, "attributes": [
            {"id": "cbvmda:name", "attribute": "Cross-dock Fresno"}]},
          {"id": "urn:epc:id:sgln:0950600.00002.0", "attributes": [
            {"id": "cbvmda:name", "attribute": "Logistics head office"}]}]}]);
    let job =
        capture(&cluster, 1, "application/ld+json", &json_document(own, json!([])), 202).await;
    assert_eq!(job["statementsRecorded"], 2, "{job}");
    cluster.shutdown().await;
}
