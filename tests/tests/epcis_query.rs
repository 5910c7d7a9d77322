//! The EPCIS 2.0 standard query (`GET /events`) end to end: one real node, one hand-written
//! EPCISDocument of eight events, and for each query parameter the exact set of events it must
//! return, compared by the eventIDs the capture job reported.
//!
//! Owns: the behaviour of the query parameters over HTTP as the EPCIS 2.0 standard (§8.2.7.1,
//! SimpleEventQuery, and the REST binding) defines them: `GE_eventTime` inclusive and
//! `LT_eventTime` exclusive, `EQ_bizStep` and `EQ_bizLocation` in every written form,
//! `MATCH_epc` over `epcList`/`childEPCs` only and `MATCH_anyEPC` over those plus `parentID`,
//! `inputEPCList` and `outputEPCList`, URN and Digital Link forms matching each other, parameters
//! combined by AND, `QueryParameterException` problems for bad input, and `perPage` with
//! `nextPageToken` paging. Does not own the catalogue's internals (see
//! `lotline_node::state::catalogue`) nor capture validation (see the other test files).
//!
//! The identifier pairs (EPC URN ↔ canonical Digital Link) are taken from the third-party table
//! `shared/testdata/digitallink/epc-urn-and-dl-to-canonical-dl.hashgen-v1.9.3.json`, so the
//! "same identifier, other form" cases do not rest on this project's own converter.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use anyhow::Context;
use lotline_tests::cluster::Cluster;
use lotline_tests::fixtures::{HttpAnswer, exchange};
use serde_json::{Value, json};

/// The events of the story, in document order; the capture job reports their eventIDs in the
/// same order, which is how a label finds its eventID.
const LABELS: [&str; 8] = [
    "commissioned",
    "packed",
    "shipped",
    "received",
    "lot_received",
    "transformed",
    "decommissioned",
    "sold",
];

/// The story: an item-level supply chain spread over eight days, written so that every query
/// parameter under test matches some events and excludes others. Identifiers are deliberately
/// mixed: EPC URNs in some events, GS1 Digital Links (one on a non-canonical host) in others.
fn story_document() -> Value {
    let events = json!([
        {
            // commissioned: item EPCs as URNs, bizStep a bare CBV word, bizLocation an SGLN URN.
            "type": "ObjectEvent",
            "eventTime": "2024-03-01T08:00:00.000Z",
            "eventTimeZoneOffset": "+00:00",
            "epcList": ["urn:epc:id:sgtin:4047111.012345.1111", "urn:epc:id:sgtin:4047111.012345.2222"],
            "action": "ADD",
            "bizStep": "commissioning",
            "disposition": "active",
            "readPoint": {"id": "urn:epc:id:sgln:4012345.00011.987"},
            "bizLocation": {"id": "urn:epc:id:sgln:4012345.00011.987"}
        },
        {
            // packed: the same items as Digital Link childEPCs under an SSCC parent (URN), with
            // a local time offset; bizStep a full CBV URI, bizLocation the Digital Link form.
            "type": "AggregationEvent",
            "eventTime": "2024-03-02T09:30:00.000+02:00",
            "eventTimeZoneOffset": "+02:00",
            "parentID": "urn:epc:id:sscc:4012345.0000000111",
            "childEPCs": [
                "https://id.gs1.org/01/04047111123453/21/1111",
                "https://id.gs1.org/01/04047111123453/21/2222"
            ],
            "action": "ADD",
            "bizStep": "https://ref.gs1.org/cbv/BizStep-packing",
            "bizLocation": {"id": "https://id.gs1.org/414/4012345000115/254/987"}
        },
        {
            // shipped: the pallet (SSCC as a Digital Link) in the epcList; no bizLocation.
            "type": "ObjectEvent",
            "eventTime": "2024-03-03T12:00:00.000Z",
            "eventTimeZoneOffset": "+00:00",
            "epcList": ["https://id.gs1.org/00/040123450000001112"],
            "action": "OBSERVE",
            "bizStep": "shipping",
            "disposition": "in_transit",
            "readPoint": {"id": "urn:epc:id:sgln:4012345.00011.987"}
        },
        {
            // received: exactly at midnight (the time-bound boundary); bizStep as a CBV URN,
            // bizLocation a GLN Digital Link without extension.
            "type": "ObjectEvent",
            "eventTime": "2024-03-04T00:00:00.000Z",
            "eventTimeZoneOffset": "+00:00",
            "epcList": ["https://id.gs1.org/01/04047111123453/21/3333"],
            "action": "OBSERVE",
            "bizStep": "urn:epcglobal:cbv:bizstep:receiving",
            "bizLocation": {"id": "https://id.gs1.org/414/0614141003006"}
        },
        {
            // lot_received: a quantity list (LGTIN class as a Digital Link), no EPCs; the same
            // location written as an SGLN URN with extension 0.
            "type": "ObjectEvent",
            "eventTime": "2024-03-05T10:00:00.000Z",
            "eventTimeZoneOffset": "+00:00",
            "epcList": [],
            "quantityList": [
                {"epcClass": "https://id.gs1.org/01/04012345123456/10/998877", "quantity": 40, "uom": "KGM"}
            ],
            "action": "OBSERVE",
            "bizStep": "receiving",
            "bizLocation": {"id": "urn:epc:id:sgln:0614141.00300.0"}
        },
        {
            // transformed: item 3333 (URN) and the lot consumed into item 1 (Digital Link) and a
            // new lot (URN); bizLocation a Digital Link on a non-canonical host.
            "type": "TransformationEvent",
            "eventTime": "2024-03-06T10:00:00.000Z",
            "eventTimeZoneOffset": "+00:00",
            "inputEPCList": ["urn:epc:id:sgtin:4047111.012345.3333"],
            "inputQuantityList": [
                {"epcClass": "urn:epc:class:lgtin:4012345.012345.998877", "quantity": 40, "uom": "KGM"}
            ],
            "outputEPCList": ["https://id.gs1.org/01/04012345111118/21/1"],
            "outputQuantityList": [
                {"epcClass": "urn:epc:class:lgtin:4023333.002000.123", "quantity": 100}
            ],
            "bizStep": "https://ref.gs1.org/cbv/BizStep-commissioning",
            "bizLocation": {"id": "https://id.gs1.de/414/4012345000115"}
        },
        {
            // decommissioned: item 1 as a URN, one millisecond before the last day.
            "type": "ObjectEvent",
            "eventTime": "2024-03-07T23:59:59.999Z",
            "eventTimeZoneOffset": "+00:00",
            "epcList": ["urn:epc:id:sgtin:4012345.011111.1"],
            "action": "DELETE",
            "bizStep": "shipping",
            "readPoint": {"id": "urn:epc:id:sgln:9524678.90000.WarehouseD1"}
        },
        {
            // sold: the new lot as a Digital Link quantity.
            "type": "ObjectEvent",
            "eventTime": "2024-03-08T15:00:00.000Z",
            "eventTimeZoneOffset": "+00:00",
            "epcList": [],
            "quantityList": [
                {"epcClass": "https://id.gs1.org/01/04023333020008/10/123", "quantity": 5}
            ],
            "action": "OBSERVE",
            "bizStep": "retail_selling",
            "bizLocation": {"id": "urn:epc:id:sgln:9524678.90000.WarehouseD1"}
        }
    ]);
    json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2024-03-09T00:00:00.000Z",
        "epcisBody": {"eventList": events}
    })
}

/// An HTTP answer read off a raw socket (so a test sees the status, the headers and the
/// Percent-encodes a query value: everything but RFC 3986 unreserved characters, so `+` in a
/// time offset, `:` and `/` in URIs and `|` between list items arrive as written.
fn encode_query_value(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(byte).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// The node under test, with the eventIDs of the story as the capture job reported them.
struct StoryNode {
    /// Keeps the node running for the test's lifetime.
    cluster: Cluster,
    /// The node's HTTP address.
    address: SocketAddr,
    /// eventIDs in document order (see [`LABELS`]).
    event_ids: Vec<String>,
}

/// One query case: its parameters and the labels of the events it must find.
type QueryCase<'case> = (&'case [(&'case str, &'case str)], &'case [&'case str]);

impl StoryNode {
    /// Starts one node and captures the story on it.
    async fn start() -> anyhow::Result<Self> {
        let cluster = Cluster::start(1).await?;
        let address = cluster.node(0).http_address;
        let body = serde_json::to_vec(&story_document())?;
        let capture = exchange(
            address,
            "POST",
            "/capture",
            &[
                ("Content-Type", "application/ld+json"),
                ("Authorization", &format!("Bearer {}", cluster.token(0))),
            ],
            &body,
        )
        .await?;
        let job = capture.json()?;
        anyhow::ensure!(capture.status == 202, "capture refused ({}): {job}", capture.status);
        anyhow::ensure!(job["success"] == json!(true), "capture job failed: {job}");
        let event_ids: Vec<String> = job["eventIDs"]
            .as_array()
            .context("the capture job lists eventIDs")?
            .iter()
            .filter_map(|id| id.as_str().map(str::to_owned))
            .collect();
        anyhow::ensure!(event_ids.len() == LABELS.len(), "one eventID per captured event: {job}");
        anyhow::ensure!(
            event_ids.iter().collect::<BTreeSet<_>>().len() == LABELS.len(),
            "distinct events have distinct eventIDs: {job}"
        );
        Ok(Self { cluster, address, event_ids })
    }

    /// The eventIDs of the events with these labels.
    fn ids(&self, labels: &[&str]) -> BTreeSet<String> {
        labels
            .iter()
            .map(|label| {
                let position = LABELS
                    .iter()
                    .position(|known| known == label)
                    .unwrap_or_else(|| panic!("{label} is not an event of the story"));
                self.event_ids[position].clone()
            })
            .collect()
    }

    /// The label of an eventID, for readable failure messages.
    fn label_of(&self, event_id: &str) -> String {
        self.event_ids
            .iter()
            .position(|known| known == event_id)
            .map_or_else(|| format!("unknown {event_id}"), |position| LABELS[position].to_owned())
    }

    /// `GET /events` with these parameters (values percent-encoded here).
    async fn query(&self, parameters: &[(&str, &str)]) -> anyhow::Result<HttpAnswer> {
        let query = parameters
            .iter()
            .map(|(name, value)| format!("{name}={}", encode_query_value(value)))
            .collect::<Vec<_>>()
            .join("&");
        self.get(&format!("/events?{query}")).await
    }

    /// `GET path_and_query` as given.
    async fn get(&self, path_and_query: &str) -> anyhow::Result<HttpAnswer> {
        exchange(self.address, "GET", path_and_query, &[], &[]).await
    }

    /// Runs a query that must succeed in one page and returns the labels of what it found.
    async fn labels_found(&self, parameters: &[(&str, &str)]) -> anyhow::Result<BTreeSet<String>> {
        let reply = self.query(parameters).await?;
        let document = reply.json()?;
        anyhow::ensure!(reply.status == 200, "query {parameters:?} failed: {document}");
        anyhow::ensure!(
            document.get("nextPageToken").is_none() && reply.header("link").is_none(),
            "eight events fit on one default page: {parameters:?}"
        );
        Ok(event_ids_of(&document)?.iter().map(|id| self.label_of(id)).collect())
    }

    /// Asserts that the query returns exactly the events with `expected` labels.
    async fn assert_finds(&self, parameters: &[(&str, &str)], expected: &[&str]) {
        let found = self
            .labels_found(parameters)
            .await
            .unwrap_or_else(|error| panic!("query {parameters:?}: {error:#}"));
        let expected: BTreeSet<String> = expected.iter().map(|label| (*label).to_owned()).collect();
        assert_eq!(found, expected, "query {parameters:?}");
    }

    /// [`StoryNode::assert_finds`] for each (parameters, expected labels) case in turn.
    async fn assert_all_find(&self, cases: &[QueryCase<'_>]) {
        for (parameters, expected) in cases {
            self.assert_finds(parameters, expected).await;
        }
    }

    /// Asserts that the query is refused with a `QueryParameterException` problem whose detail
    /// names `parameter`.
    async fn assert_refused(&self, parameters: &[(&str, &str)], parameter: &str) {
        let reply = self.query(parameters).await.expect("the node answers");
        let problem = reply.json().expect("a problem document");
        assert_eq!(reply.status, 400, "query {parameters:?} answered {problem}");
        assert_eq!(
            reply.header("content-type"),
            Some("application/problem+json"),
            "RFC 7807 media type for {parameters:?}"
        );
        assert_eq!(problem["type"], "epcisException:QueryParameterException", "{problem}");
        assert_eq!(problem["status"], 400, "{problem}");
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(parameter), "the detail names {parameter}: {problem}");
    }
}

/// The eventIDs of an `EPCISQueryDocument`, in order.
fn event_ids_of(document: &Value) -> anyhow::Result<Vec<String>> {
    anyhow::ensure!(document["type"] == "EPCISQueryDocument", "not a query document: {document}");
    document
        .pointer("/epcisBody/queryResults/resultsBody/eventList")
        .and_then(Value::as_array)
        .context("the document has an eventList")?
        .iter()
        .map(|event| {
            event["eventID"].as_str().map(str::to_owned).context("an event has an eventID")
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_time_bounds_are_inclusive_below_and_exclusive_above() {
    let node = StoryNode::start().await.unwrap();
    node.assert_all_find(&[
        (&[], &LABELS),
        // GE_eventTime is "greater than or equal": the event exactly at midnight is in.
        (
            &[("GE_eventTime", "2024-03-04T00:00:00Z")],
            &["received", "lot_received", "transformed", "decommissioned", "sold"],
        ),
        // LT_eventTime is "less than": the event exactly at midnight is out.
        (&[("LT_eventTime", "2024-03-04T00:00:00Z")], &["commissioned", "packed", "shipped"]),
        // Times compare as instants: 09:30+02:00 is 07:30Z, whatever offset either side wrote.
        (&[("LT_eventTime", "2024-03-02T07:30:00Z")], &["commissioned"]),
        (&[("LT_eventTime", "2024-03-02T07:30:00.001Z")], &["commissioned", "packed"]),
        (&[("GE_eventTime", "2024-03-07T23:59:59.999Z")], &["decommissioned", "sold"]),
        (&[("GE_eventTime", "2024-03-08T01:59:59.999+02:00")], &["decommissioned", "sold"]),
        (&[("GE_eventTime", "2024-03-08T02:00:00+02:00")], &["sold"]),
        // Both bounds: a half-open window.
        (
            &[("GE_eventTime", "2024-03-03T12:00:00Z"), ("LT_eventTime", "2024-03-06T10:00:00Z")],
            &["shipped", "received", "lot_received"],
        ),
        (&[("GE_eventTime", "2024-03-09T00:00:00Z")], &[]),
    ])
    .await;
    node.cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn biz_step_and_biz_location_match_every_written_form() {
    let node = StoryNode::start().await.unwrap();
    // Bare CBV words, full Web URIs and CBV URNs all name the same business step.
    node.assert_all_find(&[
        (&[("EQ_bizStep", "shipping")], &["shipped", "decommissioned"]),
        (&[("EQ_bizStep", "commissioning")], &["commissioned", "transformed"]),
        (
            &[("EQ_bizStep", "https://ref.gs1.org/cbv/BizStep-receiving")],
            &["received", "lot_received"],
        ),
        (&[("EQ_bizStep", "urn:epcglobal:cbv:bizstep:packing")], &["packed"]),
        (
            &[("EQ_bizStep", "packing|https://ref.gs1.org/cbv/BizStep-retail_selling")],
            &["packed", "sold"],
        ),
        (&[("EQ_bizStep", "destroying")], &[]),
        // An SGLN URN and its Digital Link name the same place; extension 0 is the GLN itself;
        // a Digital Link on another host is the same key. Other extensions are other places.
        (&[("EQ_bizLocation", "urn:epc:id:sgln:4012345.00011.987")], &["commissioned", "packed"]),
        (
            &[("EQ_bizLocation", "https://id.gs1.org/414/4012345000115/254/987")],
            &["commissioned", "packed"],
        ),
        (
            &[("EQ_bizLocation", "https://id.gs1.org/414/0614141003006")],
            &["received", "lot_received"],
        ),
        (&[("EQ_bizLocation", "urn:epc:id:sgln:0614141.00300.0")], &["received", "lot_received"]),
        (&[("EQ_bizLocation", "urn:epc:id:sgln:4012345.00011.0")], &["transformed"]),
        (&[("EQ_bizLocation", "https://id.gs1.org/414/9524678900000/254/WarehouseD1")], &["sold"]),
        // A readPoint is not a bizLocation (decommissioned was read at WarehouseD1).
        (
            &[("EQ_readPoint", "https://id.gs1.org/414/9524678900000/254/WarehouseD1")],
            &["decommissioned"],
        ),
    ])
    .await;
    node.cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn match_epc_covers_epc_list_and_child_epcs_and_match_any_epc_every_list() {
    let node = StoryNode::start().await.unwrap();
    // EPCIS 2.0 §8.2.7.1: MATCH_epc looks at epcList and childEPCs. A Digital Link query finds
    // the URN in commissioned's epcList and the Digital Link in packed's childEPCs.
    node.assert_all_find(&[
        (
            &[("MATCH_epc", "https://id.gs1.org/01/04047111123453/21/1111")],
            &["commissioned", "packed"],
        ),
        (&[("MATCH_epc", "urn:epc:id:sgtin:4047111.012345.2222")], &["commissioned", "packed"]),
        // Not inputEPCList: item 3333 was received (epcList) then consumed (inputEPCList).
        (&[("MATCH_epc", "urn:epc:id:sgtin:4047111.012345.3333")], &["received"]),
        (
            &[("MATCH_anyEPC", "https://id.gs1.org/01/04047111123453/21/3333")],
            &["received", "transformed"],
        ),
        // Not parentID: the pallet is the parent of packed, the epcList of shipped.
        (&[("MATCH_epc", "urn:epc:id:sscc:4012345.0000000111")], &["shipped"]),
        (&[("MATCH_anyEPC", "https://id.gs1.org/00/040123450000001112")], &["packed", "shipped"]),
        // Not outputEPCList: item 1 was produced (outputEPCList) then decommissioned (epcList).
        (&[("MATCH_epc", "https://id.gs1.org/01/04012345111118/21/1")], &["decommissioned"]),
        (
            &[("MATCH_anyEPC", "urn:epc:id:sgtin:4012345.011111.1")],
            &["transformed", "decommissioned"],
        ),
        // A list is an OR.
        (
            &[(
                "MATCH_epc",
                "urn:epc:id:sgtin:4012345.011111.1|https://id.gs1.org/00/040123450000001112",
            )],
            &["shipped", "decommissioned"],
        ),
        // A pure identity pattern (TDS §8) matches every serial of the GTIN.
        (
            &[("MATCH_epc", "urn:epc:idpat:sgtin:4047111.012345.*")],
            &["commissioned", "packed", "received"],
        ),
        (
            &[("MATCH_anyEPC", "urn:epc:idpat:sgtin:4047111.012345.*")],
            &["commissioned", "packed", "received", "transformed"],
        ),
        // A pattern may wildcard every field after the company prefix, or every field: keys
        // of that scheme whose digits after the indicator or extension digit start with it.
        (
            &[("MATCH_anyEPC", "urn:epc:idpat:sgtin:4012345.*.*")],
            &["transformed", "decommissioned"],
        ),
        (&[("MATCH_anyEPC", "urn:epc:idpat:sscc:4012345.*")], &["packed", "shipped"]),
        (&[("MATCH_anyEPC", "urn:epc:idpat:sscc:4047111.*")], &[]),
        (
            &[("MATCH_epc", "urn:epc:idpat:sgtin:*.*.*")],
            &["commissioned", "packed", "received", "decommissioned"],
        ),
        // EPC classes are not EPCs: a lot is matched by MATCH_epcClass, not MATCH_epc.
        (&[("MATCH_epc", "urn:epc:class:lgtin:4023333.002000.123")], &[]),
        (&[("MATCH_epcClass", "urn:epc:class:lgtin:4023333.002000.123")], &["sold"]),
        (
            &[("MATCH_anyEPCClass", "https://id.gs1.org/01/04012345123456/10/998877")],
            &["lot_received", "transformed"],
        ),
        (&[("MATCH_anyEPC", "urn:epc:id:sgtin:4012345.011111.2")], &[]),
    ])
    .await;
    node.cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn combined_parameters_must_all_hold() {
    let node = StoryNode::start().await.unwrap();
    node.assert_all_find(&[
        (
            &[
                ("EQ_bizStep", "receiving"),
                ("EQ_bizLocation", "https://id.gs1.org/414/0614141003006"),
                ("GE_eventTime", "2024-03-05T00:00:00Z"),
            ],
            &["lot_received"],
        ),
        (
            &[
                ("MATCH_anyEPC", "urn:epc:idpat:sgtin:4047111.012345.*"),
                ("LT_eventTime", "2024-03-04T00:00:00Z"),
            ],
            &["commissioned", "packed"],
        ),
        (
            &[("MATCH_epc", "urn:epc:id:sgtin:4047111.012345.1111"), ("EQ_bizStep", "packing")],
            &["packed"],
        ),
        (&[("eventType", "ObjectEvent"), ("EQ_bizStep", "commissioning")], &["commissioned"]),
        (&[("EQ_action", "DELETE|ADD"), ("EQ_bizStep", "shipping")], &["decommissioned"]),
        // Each condition alone matches something; together nothing.
        (
            &[("EQ_bizStep", "shipping"), ("EQ_bizLocation", "urn:epc:id:sgln:4012345.00011.987")],
            &[],
        ),
    ])
    .await;
    node.cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_parameters_are_query_parameter_problems_naming_the_parameter() {
    let node = StoryNode::start().await.unwrap();
    // An unknown name (a misspelt standard one) must not be ignored: ignoring it would widen
    // the answer silently.
    node.assert_refused(&[("EQ_bizstep", "shipping")], "EQ_bizstep").await;
    node.assert_refused(&[("MATCH_epcs", "urn:epc:id:sgtin:4012345.011111.1")], "MATCH_epcs").await;
    node.assert_refused(&[("GE_eventTime", "yesterday")], "GE_eventTime").await;
    node.assert_refused(&[("LT_eventTime", "2024-13-40T00:00:00Z")], "LT_eventTime").await;
    node.assert_refused(
        &[("EQ_bizStep", "shipping"), ("GE_eventTime", "2024-03-04 00:00")],
        "GE_eventTime",
    )
    .await;
    node.assert_refused(&[("perPage", "0")], "perPage").await;
    node.assert_refused(&[("perPage", "three")], "perPage").await;
    node.assert_refused(&[("nextPageToken", "not-a-token")], "nextPageToken").await;
    node.assert_refused(&[("nextPageToken", "-1")], "nextPageToken").await;
    // A token this node could not have issued (beyond every event it holds) is refused, not
    // answered with an empty page that would read as "no more results".
    node.assert_refused(&[("perPage", "3"), ("nextPageToken", "1000000")], "nextPageToken").await;
    node.cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_page_walks_every_event_exactly_once_through_next_page_tokens() {
    let node = StoryNode::start().await.unwrap();

    // Follow the Link header, as the REST binding announces the next page.
    let mut seen_through_links = Vec::new();
    let mut page_sizes = Vec::new();
    let mut next = Some("/events?perPage=3".to_owned());
    while let Some(path_and_query) = next.take() {
        assert!(page_sizes.len() < 10, "paging does not end: {page_sizes:?}");
        let reply = node.get(&path_and_query).await.unwrap();
        let document = reply.json().unwrap();
        assert_eq!(reply.status, 200, "{path_and_query}: {document}");
        let ids = event_ids_of(&document).unwrap();
        page_sizes.push(ids.len());
        seen_through_links.extend(ids);
        let token_in_body = document.get("nextPageToken").and_then(Value::as_str);
        next = reply.header("link").map(|link| {
            assert!(link.ends_with("; rel=\"next\""), "a next link: {link}");
            let target = link
                .strip_prefix('<')
                .and_then(|rest| rest.split_once('>'))
                .map(|(target, _)| target.to_owned())
                .unwrap_or_else(|| panic!("a bracketed link target: {link}"));
            let token = token_in_body.expect("the body carries the token the link carries");
            assert!(
                target.contains(&format!("nextPageToken={}", encode_query_value(token))),
                "the link carries the body's token: {link}"
            );
            assert!(target.contains("perPage=3"), "the link keeps the page size: {link}");
            target
        });
        assert_eq!(next.is_some(), token_in_body.is_some(), "link and token agree: {document}");
    }
    assert_eq!(page_sizes, vec![3, 3, 2]);
    assert_eq!(seen_through_links, node.event_ids, "every event once, in capture order");

    // Follow the body's nextPageToken with the same parameters, over a filtered query.
    let mut seen_through_tokens = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut parameters =
            vec![("EQ_bizStep", "shipping|commissioning|receiving"), ("perPage", "2")];
        if let Some(token) = &token {
            parameters.push(("nextPageToken", token));
        }
        let reply = node.query(&parameters).await.unwrap();
        let document = reply.json().unwrap();
        assert_eq!(reply.status, 200, "{parameters:?}: {document}");
        let ids = event_ids_of(&document).unwrap();
        assert!(ids.len() <= 2, "no page exceeds perPage: {document}");
        seen_through_tokens.extend(ids);
        pages += 1;
        assert!(pages <= 10, "paging does not end");
        match document.get("nextPageToken").and_then(Value::as_str) {
            Some(next_token) => token = Some(next_token.to_owned()),
            None => break,
        }
    }
    let expected = node.ids(&[
        "commissioned",
        "shipped",
        "received",
        "lot_received",
        "transformed",
        "decommissioned",
    ]);
    assert_eq!(
        seen_through_tokens.len(),
        expected.len(),
        "no event twice: {seen_through_tokens:?}"
    );
    assert_eq!(seen_through_tokens.into_iter().collect::<BTreeSet<_>>(), expected);
    assert_eq!(pages, 3);

    // A page size covering everything: one page, no token, no link.
    let reply = node.query(&[("perPage", "8")]).await.unwrap();
    let document = reply.json().unwrap();
    assert_eq!(event_ids_of(&document).unwrap(), node.event_ids);
    assert!(document.get("nextPageToken").is_none() && reply.header("link").is_none());
    node.cluster.shutdown().await;
}
