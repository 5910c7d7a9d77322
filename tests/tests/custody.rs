//! Custody end to end, on a real cluster (producer, carrier, retailer, regulator): a pallet
//! shipped by the producer, picked up and delivered by the carrier and received by the
//! retailer is a confirmed handoff, and custody at three instants names the producer, the
//! carrier, then the retailer, with the entries of the events that say so; a shipment nobody
//! received past the node's (short) deadline is listed by `GET /handoffs?unconfirmed=true` and
//! in the supervision list; an excursion acknowledgement is refused for a non-custodian and
//! for an ongoing excursion (nothing stored), accepted from the custodian, and the excursion
//! then leaves the unacknowledged findings.
//!
//! Owns the custody contract across nodes. Does not own the rules (unit-tested in
//! `lotline_ledger::coldchain::custody` and `lotline_ledger::supervision`).

use lotline_ledger::coldchain::custody::{CustodyReply, HandoffsReply, Status};
use lotline_ledger::supervision::{FindingKind, Member, Supervision};
use lotline_tests::cluster::{Cluster, DEFAULT_DEADLINE, wait_for};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Node roles by index (the cluster's roles go producer, logistics, retailer, regulator).
const PRODUCER: usize = 0;
const CARRIER: usize = 1;
const RETAILER: usize = 2;
const REGULATOR: usize = 3;

/// The lot on the pallet, received.
const LOT: &str = "https://id.gs1.org/01/09506000134376/10/CHILL-1";
/// A lot shipped and never received.
const LOST_LOT: &str = "https://id.gs1.org/01/09506000134376/10/CHILL-2";
const PALLET: &str = "https://id.gs1.org/00/034567890000000019";
/// The node's handoff deadline in this test: an hour, long past for the shipments below.
const DEADLINE_MS: u64 = 3_600_000;

fn location(gln: &str) -> String {
    format!("https://id.gs1.org/414/{gln}")
}

fn desadv(number: &str) -> Value {
    json!([{"type": "desadv", "bizTransaction": format!("https://example.com/desadv/{number}")}])
}

/// The key (hex) and GLN of node `index`'s organisation.
fn member_of(cluster: &Cluster, index: usize) -> (String, String, String) {
    let organisation = cluster.node(index).state.organisation_hex();
    let member = cluster
        .node(index)
        .state
        .roster()
        .members
        .into_iter()
        .find(|member| member.public_key == organisation)
        .expect("every node's organisation is in the roster");
    (organisation, member.gln, member.name)
}

fn object(time: &str, step: &str, gln: &str) -> Value {
    json!({
        "type": "ObjectEvent", "eventTime": time, "eventTimeZoneOffset": "+00:00",
        "action": "OBSERVE", "bizStep": step, "readPoint": {"id": location(gln)},
        "bizLocation": {"id": location(gln)}, "epcList": [],
    })
}

/// Captures `events` into node `index`'s feed.
async fn capture(cluster: &Cluster, index: usize, events: Vec<Value>) {
    let document = json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-06-01T00:00:00Z",
        "epcisBody": {"eventList": events},
    });
    let response = reqwest::Client::new()
        .post(format!("{}/capture", cluster.url(index)))
        .bearer_auth(cluster.token(index))
        .header("content-type", "application/ld+json")
        .body(document.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED, "{}", response.text().await.unwrap());
}

async fn get_json(cluster: &Cluster, index: usize, path: &str, query: &[(&str, &str)]) -> Value {
    let url =
        reqwest::Url::parse_with_params(&format!("{}{path}", cluster.url(index)), query).unwrap();
    let response =
        reqwest::Client::new().get(url).bearer_auth(cluster.token(index)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

/// POSTs a record to node `index`: the status and the body.
async fn post_record(cluster: &Cluster, index: usize, record: &Value) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/records", cluster.url(index)))
        .bearer_auth(cluster.token(index))
        .json(record)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

/// Waits until node `index` holds `count` records of `kind`.
async fn wait_records(cluster: &Cluster, index: usize, kind: &str, count: usize) -> Vec<Value> {
    let what = format!("node {index} to hold {count} {kind} record(s)");
    wait_for(&what, DEFAULT_DEADLINE, || async {
        let records = get_json(cluster, index, "/records", &[("kind", kind)]).await;
        let records = records.as_array().cloned().unwrap_or_default();
        (records.len() >= count).then_some(records)
    })
    .await
    .unwrap()
}

/// The regulator's cold-chain findings, as the dashboard's supervision page gathers them.
async fn findings(cluster: &Cluster) -> Supervision {
    let state = cluster.node(REGULATOR).state.clone();
    tokio::task::spawn_blocking(move || {
        let members: Vec<Member> = state
            .roster()
            .members
            .into_iter()
            .map(|member| Member {
                public_key: member.public_key,
                name: member.name,
                gln: Some(member.gln),
            })
            .collect();
        let mut supervision = Supervision::default();
        state.coldchain_findings(&mut supervision, &members).unwrap();
        supervision
    })
    .await
    .unwrap()
}

fn has_finding(supervision: &Supervision, kind: FindingKind, lot: &str) -> bool {
    supervision
        .organisations
        .values()
        .flatten()
        .any(|finding| finding.finding == kind && finding.lot.as_deref() == Some(lot))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn custody_follows_signed_handoffs_and_only_a_custodian_acknowledges_an_excursion() {
    let cluster =
        Cluster::start_with(4, |_, config| config.handoff_deadline_ms = DEADLINE_MS).await.unwrap();
    let (producer, producer_gln, _) = member_of(&cluster, PRODUCER);
    let (carrier, carrier_gln, carrier_name) = member_of(&cluster, CARRIER);
    let (retailer, retailer_gln, retailer_name) = member_of(&cluster, RETAILER);

    // The producer packs CHILL-1 onto a pallet and ships the pallet to the retailer; it ships
    // CHILL-2 too, which nobody receives.
    let mut commissioning = object("2026-06-01T06:00:00Z", "commissioning", &producer_gln);
    commissioning["action"] = json!("ADD");
    commissioning["quantityList"] = json!([
        {"epcClass": LOT, "quantity": 40, "uom": "CS"},
        {"epcClass": LOST_LOT, "quantity": 10, "uom": "CS"},
    ]);
    let packing = json!({
        "type": "AggregationEvent", "eventTime": "2026-06-01T07:00:00Z",
        "eventTimeZoneOffset": "+00:00", "action": "ADD", "bizStep": "packing",
        "parentID": PALLET, "childEPCs": [],
        "childQuantityList": [{"epcClass": LOT, "quantity": 40, "uom": "CS"}],
        "bizLocation": {"id": location(&producer_gln)},
    });
    let destination = json!([
        {"type": "owning_party", "destination": format!("https://id.gs1.org/417/{retailer_gln}")},
        {"type": "location", "destination": location(&retailer_gln)},
    ]);
    let mut pallet_out = object("2026-06-01T08:00:00Z", "shipping", &producer_gln);
    pallet_out["epcList"] = json!([PALLET]);
    pallet_out["bizTransactionList"] = desadv("D1");
    pallet_out["destinationList"] = destination.clone();
    let mut lost = object("2026-06-01T09:00:00Z", "shipping", &producer_gln);
    lost["quantityList"] = json!([{"epcClass": LOST_LOT, "quantity": 10, "uom": "CS"}]);
    lost["bizTransactionList"] = desadv("D2");
    lost["destinationList"] = destination;
    capture(&cluster, PRODUCER, vec![commissioning, packing, pallet_out, lost]).await;

    // The carrier picks the pallet up and delivers it; the retailer receives it.
    let mut departing = object("2026-06-01T08:30:00Z", "departing", &carrier_gln);
    departing["epcList"] = json!([PALLET]);
    let mut arriving = object("2026-06-01T14:00:00Z", "arriving", &retailer_gln);
    arriving["epcList"] = json!([PALLET]);
    capture(&cluster, CARRIER, vec![departing, arriving]).await;
    let mut receipt = object("2026-06-01T14:20:00Z", "receiving", &retailer_gln);
    receipt["epcList"] = json!([PALLET]);
    receipt["bizTransactionList"] = desadv("D1");
    capture(&cluster, RETAILER, vec![receipt]).await;

    // Every node answers once it holds the three feeds; the regulator's answer is read here.
    let handoffs: HandoffsReply =
        wait_for("the regulator to see the confirmed handoff", DEFAULT_DEADLINE, || async {
            let reply = get_json(&cluster, REGULATOR, "/handoffs", &[("subject", LOT)]).await;
            let reply: HandoffsReply = serde_json::from_value(reply).unwrap();
            let handoff = reply.handoffs.first()?;
            (handoff.status == Status::Confirmed && handoff.delivered.is_some()).then_some(reply)
        })
        .await
        .unwrap();
    assert_eq!(handoffs.handoffs.len(), 1, "{handoffs:#?}");
    let handoff = &handoffs.handoffs[0];
    assert_eq!(handoff.shipped.as_ref().unwrap().by, producer);
    assert_eq!(handoff.picked_up.as_ref().unwrap().by, carrier);
    assert_eq!(handoff.delivered.as_ref().unwrap().by, carrier);
    assert_eq!(handoff.received.as_ref().unwrap().by, retailer);
    assert_eq!(handoffs.entries.len(), 4, "the four signed events of the handoff");

    // Custody at three instants, each with the entry of the event it rests on.
    for (at, holder) in [
        ("2026-06-01T07:30:00Z", &producer),
        ("2026-06-01T10:00:00Z", &carrier),
        ("2026-06-01T15:00:00Z", &retailer),
    ] {
        let reply =
            get_json(&cluster, REGULATOR, "/custody", &[("subject", LOT), ("at", at)]).await;
        let reply: CustodyReply = serde_json::from_value(reply).unwrap();
        let holders: Vec<&str> =
            reply.holders.iter().map(|holding| holding.holder.as_str()).collect();
        assert_eq!(holders, [holder.as_str()], "custody at {at}");
        let since = reply.holders[0].since_event.as_ref().unwrap();
        assert_eq!(since.by, **holder);
        assert!(
            reply.entries.iter().any(|entry| entry.event_hash_id == since.event
                && entry.entry.author.to_hex() == **holder),
            "the reply names the entry of {since:?}"
        );
    }

    // The client reads the same answer; over time, the three holdings in order; a time that
    // is not RFC 3339 is refused naming the parameter.
    let reader = lotline_client::Client::connect(
        &cluster.url(REGULATOR),
        Some(cluster.token(REGULATOR).to_owned()),
        lotline_client::verify::Policy::default(),
    )
    .unwrap();
    let over_time =
        tokio::task::spawn_blocking(move || reader.custody(LOT, None)).await.unwrap().unwrap();
    let holders: Vec<&str> =
        over_time.holders.iter().map(|holding| holding.holder.as_str()).collect();
    assert_eq!(holders, [producer.as_str(), carrier.as_str(), retailer.as_str()]);
    assert_eq!(over_time.holders[2].until, None, "the retailer still holds the lot");
    let bad_time = reqwest::Client::new()
        .get(format!("{}/custody?subject={LOT}&at=yesterday", cluster.url(REGULATOR)))
        .bearer_auth(cluster.token(REGULATOR))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_time.status(), StatusCode::BAD_REQUEST);
    let problem: Value = bad_time.json().await.unwrap();
    assert!(problem["detail"].as_str().unwrap().starts_with("at: "), "{problem}");

    // The shipment nobody received is overdue, in /handoffs and in the supervision list.
    let overdue = get_json(&cluster, REGULATOR, "/handoffs", &[("unconfirmed", "true")]).await;
    let overdue: HandoffsReply = serde_json::from_value(overdue).unwrap();
    assert!(overdue.handoffs.iter().all(|handoff| handoff.lot != LOT), "{overdue:#?}");
    let lost_handoff = overdue.handoffs.iter().find(|handoff| handoff.lot == LOST_LOT).unwrap();
    assert_eq!(lost_handoff.status, Status::Overdue);
    assert_eq!(lost_handoff.due.as_deref(), Some("2026-06-01T10:00:00.000Z"));
    let state = cluster.node(REGULATOR).state.clone();
    let (first, again) = tokio::task::spawn_blocking(move || {
        let mut announced = std::collections::BTreeSet::new();
        (state.newly_overdue(&mut announced).unwrap(), state.newly_overdue(&mut announced).unwrap())
    })
    .await
    .unwrap();
    let first: Vec<&str> = first.iter().map(|handoff| handoff.lot.as_str()).collect();
    assert_eq!(first, [LOST_LOT], "an overdue handoff is told once");
    assert!(again.is_empty());
    let supervision = findings(&cluster).await;
    assert!(has_finding(&supervision, FindingKind::OverdueHandoff, LOST_LOT), "{supervision:#?}");
    let against_retailer = &supervision.organisations[&retailer_name];
    assert!(against_retailer.iter().any(|finding| finding.finding == FindingKind::OverdueHandoff));

    // The carrier records an excursion in transit (ended) and one still going on.
    let excursion = |started: &str, ended: Option<&str>| {
        json!({
            "kind": "excursion", "lots": [LOT], "measurement": "gs1:Temperature",
            "limit": "above 8 CEL for more than 30 min", "observed": "11.5 CEL",
            "started": started, "ended": ended,
        })
    };
    let (status, ended) = post_record(
        &cluster,
        CARRIER,
        &excursion("2026-06-01T10:00:00Z", Some("2026-06-01T11:00:00Z")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{ended}");
    let (status, ongoing) =
        post_record(&cluster, CARRIER, &excursion("2026-06-01T12:00:00Z", None)).await;
    assert_eq!(status, StatusCode::CREATED, "{ongoing}");
    let acknowledgement = |excursion: &Value| json!({"kind": "excursion_ack", "excursion": excursion, "reason": "assessed"});

    // The retailer did not hold the pallet during it: refused, nothing stored.
    wait_records(&cluster, RETAILER, "excursion", 2).await;
    let (status, problem) = post_record(&cluster, RETAILER, &acknowledgement(&ended)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("did not hold custody"), "{problem}");
    // An ongoing excursion cannot be acknowledged, even by its custodian.
    let (status, problem) = post_record(&cluster, CARRIER, &acknowledgement(&ongoing)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("ongoing"), "{problem}");
    for index in [CARRIER, RETAILER] {
        let stored = get_json(&cluster, index, "/records", &[("kind", "excursion_ack")]).await;
        assert_eq!(stored, json!([]), "node {index} stored a refused acknowledgement");
    }

    // Before the carrier acknowledges, both excursions are on the list, against the carrier.
    wait_records(&cluster, REGULATOR, "excursion", 2).await;
    let before = findings(&cluster).await;
    let unacknowledged = |supervision: &Supervision| {
        supervision.organisations.get(&carrier_name).map_or(0, |findings| {
            findings
                .iter()
                .filter(|finding| finding.finding == FindingKind::UnacknowledgedExcursion)
                .count()
        })
    };
    assert_eq!(unacknowledged(&before), 2, "{before:#?}");

    // The carrier held it: accepted, and the ended excursion leaves the list.
    let (status, accepted) = post_record(&cluster, CARRIER, &acknowledgement(&ended)).await;
    assert_eq!(status, StatusCode::CREATED, "{accepted}");
    let stored = wait_records(&cluster, REGULATOR, "excursion_ack", 1).await;
    assert_eq!(stored[0]["reason"], "assessed");
    assert_eq!(stored[0]["excursion"]["entry_hash"], ended["entry_hash"]);
    let after = findings(&cluster).await;
    assert_eq!(unacknowledged(&after), 1, "only the ongoing one is left: {after:#?}");

    cluster.shutdown().await;
}
