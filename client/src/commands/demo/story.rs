//! The demo's story as data: who the six organisations are, what each names in master data,
//! and the EPCIS documents and ledger records each signs, in the order they happen.
//!
//! Owns the story (lettuce from a farm cooperative through a carrier and a salad processor to a
//! retailer's distribution centre and two stores, a lab's failed test and the regulator's
//! recall) and nothing about running it: every step is a document or a record the ordinary
//! client sends (`super`). Fixed dates and identifiers, so the same story is told every time.

use lotline_client::coldchain::Shipment;
use lotline_ledger::gs1::check_digit::with_mod10_check_digit;
use serde_json::{Value, json};

/// The roles of the six dev-cluster nodes, in node order.
pub const CAST: [&str; 6] = ["farm", "carrier", "retailer", "regulator", "processor", "lab"];
/// Node indices of the cast.
pub const FARM: usize = 0;
/// The cold-chain carrier.
pub const CARRIER: usize = 1;
/// The retailer (distribution centre and stores).
pub const RETAILER: usize = 2;
/// The regulator (issues the recall, witnesses checkpoints).
pub const REGULATOR: usize = 3;
/// The salad processor.
pub const PROCESSOR: usize = 4;
/// The inspection lab.
pub const LAB: usize = 5;

/// The recall the story ends with.
pub const RECALL_ID: &str = "R-2026-0614";

/// What the organisations' identifiers are: their GLNs (from the roster) and the GS1 company
/// prefixes the dev cluster grants them (`9506` and the node index in three digits).
#[derive(Debug, Clone)]
pub struct Identifiers {
    /// Each node's GLN, by node index.
    pub glns: Vec<String>,
}

/// One step of the story: who signs it, what it is in words, and what is sent.
#[derive(Debug, Clone)]
pub struct Step {
    /// The node that signs it.
    pub by: usize,
    /// One line for the progress output.
    pub says: String,
    /// What is sent.
    pub sends: Sends,
}

/// What a step sends.
#[derive(Debug, Clone)]
pub enum Sends {
    /// An EPCIS 2.0 JSON-LD document to `POST /capture`.
    Capture(Value),
    /// A ledger record to `POST /records`.
    Record(Value),
    /// A data logger's file, written beside the nodes' stores and imported as `lotline
    /// coldchain import` does.
    LoggerFile {
        /// The file's name.
        name: String,
        /// Its contents (CSV).
        contents: String,
        /// What the logger travelled with.
        shipment: Shipment,
    },
}

/// The carrier's truck logger over the trip, every 5 minutes from pick-up to delivery: 2–3 °C,
/// but 45 minutes at 6–7 °C while the truck waits at a crossing with its doors open.
fn truck_log() -> String {
    let mut text = String::from(
        "Serial Number,TRK-7\nTime Zone,-07:00\nLogging Interval,00:05:00\nNo.,Date Time,Temperature (°C)\n",
    );
    for step in 0..55 {
        let minutes = 10 + step * 5;
        let celsius = match step {
            20..=28 => 6.4 + f64::from(step % 3) * 0.3,
            _ => 2.2 + f64::from(step % 4) * 0.2,
        };
        text.push_str(&format!(
            "{},11/06/2026 {:02}:{:02}:00,{celsius:.1}\n",
            step + 1,
            13 + minutes / 60,
            minutes % 60
        ));
    }
    text
}

/// A GTIN-14 under node `index`'s company prefix.
fn gtin(index: usize, item: u32) -> String {
    with_mod10_check_digit(&format!("09506{index:03}{item:05}")).unwrap_or_default()
}

/// A GLN under node `index`'s company prefix (its sites beside its own GLN).
fn site_gln(index: usize, site: u32) -> String {
    with_mod10_check_digit(&format!("9506{index:03}{site:05}")).unwrap_or_default()
}

/// An SSCC under node `index`'s company prefix.
fn sscc(index: usize, serial: u32) -> String {
    with_mod10_check_digit(&format!("09506{index:03}{serial:09}")).unwrap_or_default()
}

/// The canonical Digital Link of a lot.
pub fn lot(gtin: &str, lot: &str) -> String {
    format!("https://id.gs1.org/01/{gtin}/10/{lot}")
}

fn place(gln: &str) -> String {
    format!("https://id.gs1.org/414/{gln}")
}

fn party(gln: &str) -> String {
    format!("https://id.gs1.org/417/{gln}")
}

/// The romaine harvested by the farm: the lot the recall starts from.
pub fn romaine_lot() -> String {
    lot(&gtin(FARM, 1), "ROM-0611")
}

/// The iceberg harvested with it.
pub fn iceberg_lot() -> String {
    lot(&gtin(FARM, 2), "ICE-0611")
}

/// The salad mix the processor makes from both.
pub fn salad_lot() -> String {
    lot(&gtin(PROCESSOR, 1), "SM-0612")
}

/// The consumer-facing path of the salad mix lot (`/01/…/10/…`), for the page and its QR code.
pub fn salad_path() -> String {
    format!("/01/{}/10/SM-0612", gtin(PROCESSOR, 1))
}

/// The two stores the distribution centre delivers to.
pub fn stores() -> [String; 2] {
    [site_gln(RETAILER, 11), site_gln(RETAILER, 12)]
}

/// An EPCIS 2.0 capture document of `events`, with master data when given.
fn document(created: &str, vocabularies: Option<Value>, events: Vec<Value>) -> Value {
    let mut document = json!({
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": created,
        "epcisBody": {"eventList": events},
    });
    if let Some(vocabularies) = vocabularies {
        document["epcisHeader"] = json!({"epcisMasterData": {"vocabularyList": vocabularies}});
    }
    document
}

/// A BusinessLocation element with a name, an address and coordinates.
fn site(
    gln: &str,
    name: &str,
    street: &str,
    city: &str,
    state: &str,
    postal_code: &str,
    coordinates: (f64, f64),
) -> Value {
    let attribute = |id: &str, value: &str| json!({"id": format!("urn:epcglobal:cbv:mda#{id}"), "attribute": value});
    json!({
        "id": place(gln),
        "attributes": [
            attribute("name", name),
            attribute("streetAddressOne", street),
            attribute("city", city),
            attribute("state", state),
            attribute("postalCode", postal_code),
            attribute("countryCode", "US"),
            attribute("latitude", &coordinates.0.to_string()),
            attribute("longitude", &coordinates.1.to_string()),
        ]
    })
}

/// An EPCClass element naming a product.
fn product(gtin: &str, name: &str) -> Value {
    json!({
        "id": format!("https://id.gs1.org/01/{gtin}"),
        "attributes": [{"id": "https://gs1.org/voc/productName", "attribute": name}]
    })
}

/// An EPCClass element naming a chilled product (0–4 °C): the nodes judge the readings of
/// loggers that travel with its lots against that profile.
fn chilled_product(gtin: &str, name: &str) -> Value {
    json!({
        "id": format!("https://id.gs1.org/01/{gtin}"),
        "attributes": [
            {"id": "https://gs1.org/voc/productName", "attribute": name},
            {"id": lotline_ledger::coldchain::book::TEMPERATURE_PROFILE, "attribute": "chilled"}
        ]
    })
}

fn locations(elements: Vec<Value>) -> Value {
    json!({"type": "urn:epcglobal:epcis:vtype:BusinessLocation", "vocabularyElementList": elements})
}

fn products(elements: Vec<Value>) -> Value {
    json!({"type": "urn:epcglobal:epcis:vtype:EPCClass", "vocabularyElementList": elements})
}

/// An ObjectEvent at `gln` with `bizStep`, over lots (quantity lists) or SSCCs.
#[allow(clippy::too_many_arguments)]
fn object_event(
    time: &str,
    action: &str,
    biz_step: &str,
    disposition: &str,
    gln: &str,
    quantities: Vec<(String, f64, &str)>,
    ssccs: &[String],
    extra: Value,
) -> Value {
    let mut event = json!({
        "type": "ObjectEvent",
        "eventTime": time,
        "eventTimeZoneOffset": "-07:00",
        "epcList": ssccs.iter().map(|sscc| format!("https://id.gs1.org/00/{sscc}")).collect::<Vec<_>>(),
        "action": action,
        "bizStep": biz_step,
        "disposition": disposition,
        "readPoint": {"id": place(gln)},
        "bizLocation": {"id": place(gln)},
    });
    if !quantities.is_empty() {
        event["quantityList"] = quantities
            .into_iter()
            .map(|(class, quantity, uom)| json!({"epcClass": class, "quantity": quantity, "uom": uom}))
            .collect();
    }
    if let (Some(event), Some(extra)) = (event.as_object_mut(), extra.as_object()) {
        event.extend(extra.clone());
    }
    event
}

/// A despatch advice reference in the sender's namespace.
fn desadv(gln: &str, number: &str) -> Value {
    json!([{"type": "desadv", "bizTransaction": format!("urn:epcglobal:cbv:bt:{gln}:{number}")}])
}

/// From one organisation's site to another's.
fn route(from: &str, to: &str) -> Value {
    delivery(from, to, to)
}

/// From `from`'s site to the site `to` of the organisation `owner` (a store of a retailer).
fn delivery(from: &str, owner: &str, to: &str) -> Value {
    json!({
        "sourceList": [
            {"type": "owning_party", "source": party(from)},
            {"type": "location", "source": place(from)}
        ],
        "destinationList": [
            {"type": "owning_party", "destination": party(owner)},
            {"type": "location", "destination": place(to)}
        ]
    })
}

fn merged(mut left: Value, right: Value) -> Value {
    if let (Some(left), Some(right)) = (left.as_object_mut(), right.as_object()) {
        left.extend(right.clone());
    }
    left
}

/// The whole story, step by step.
pub fn steps(ids: &Identifiers) -> Vec<Step> {
    let gln = |index: usize| ids.glns[index].clone();
    let (farm, carrier, retailer, processor) =
        (gln(FARM), gln(CARRIER), gln(RETAILER), gln(PROCESSOR));
    let pallet = sscc(FARM, 1);
    let [store_one, store_two] = stores();
    let capture = |by: usize, says: &str, document: Value| Step {
        by,
        says: says.to_owned(),
        sends: Sends::Capture(document),
    };
    let record = |by: usize, says: &str, record: Value| Step {
        by,
        says: says.to_owned(),
        sends: Sends::Record(record),
    };
    vec![
        capture(
            FARM,
            "Green Valley Growers names its farm and its lettuce (master data)",
            document(
                "2026-06-10T08:00:00Z",
                Some(json!([
                    locations(vec![site(
                        &farm,
                        "Green Valley Growers Cooperative",
                        "1200 Abbott Street",
                        "Salinas",
                        "CA",
                        "93901",
                        (36.6777, -121.6555)
                    )]),
                    products(vec![
                        chilled_product(&gtin(FARM, 1), "Romaine lettuce, field-packed"),
                        chilled_product(&gtin(FARM, 2), "Iceberg lettuce, field-packed"),
                    ]),
                ])),
                Vec::new(),
            ),
        ),
        capture(
            FARM,
            "harvest: 500 kg of romaine (ROM-0611) and 300 kg of iceberg (ICE-0611) at Salinas",
            document(
                "2026-06-11T07:30:00-07:00",
                None,
                vec![object_event(
                    "2026-06-11T06:00:00-07:00",
                    "ADD",
                    "commissioning",
                    "active",
                    &farm,
                    vec![(romaine_lot(), 500.0, "KGM"), (iceberg_lot(), 300.0, "KGM")],
                    &[],
                    json!({}),
                )],
            ),
        ),
        record(
            LAB,
            "the lab certifies the harvest: pesticide residues within limits",
            json!({
                "kind": "inspection_result",
                "lots": [romaine_lot(), iceberg_lot()],
                "test": "pesticide residue screen (EU 396/2005 limits)",
                "values": [{"name": "residues", "value": "below MRL", "unit": null}],
                "verdict": "pass",
                "sampled_at": "2026-06-11T09:00:00-07:00",
                "report": "https://lab.example/reports/2026-0611-17"
            }),
        ),
        capture(
            FARM,
            &format!("cooling, then packing 760 kg onto pallet SSCC {pallet}"),
            document(
                "2026-06-11T12:00:00-07:00",
                None,
                vec![
                    object_event(
                        "2026-06-11T09:30:00-07:00",
                        "OBSERVE",
                        "storing",
                        "active",
                        &farm,
                        vec![(romaine_lot(), 500.0, "KGM"), (iceberg_lot(), 300.0, "KGM")],
                        &[],
                        json!({}),
                    ),
                    json!({
                        "type": "AggregationEvent",
                        "eventTime": "2026-06-11T11:00:00-07:00",
                        "eventTimeZoneOffset": "-07:00",
                        "parentID": format!("https://id.gs1.org/00/{pallet}"),
                        "childEPCs": [],
                        "childQuantityList": [
                            {"epcClass": romaine_lot(), "quantity": 480, "uom": "KGM"},
                            {"epcClass": iceberg_lot(), "quantity": 280, "uom": "KGM"}
                        ],
                        "action": "ADD",
                        "bizStep": "packing",
                        "disposition": "in_progress",
                        "readPoint": {"id": place(&farm)},
                        "bizLocation": {"id": place(&farm)}
                    }),
                ],
            ),
        ),
        capture(
            FARM,
            "the farm ships the pallet to FreshCut Salads (despatch advice DA-611)",
            document(
                "2026-06-11T14:00:00-07:00",
                None,
                vec![object_event(
                    "2026-06-11T13:00:00-07:00",
                    "OBSERVE",
                    "shipping",
                    "in_transit",
                    &farm,
                    Vec::new(),
                    std::slice::from_ref(&pallet),
                    merged(
                        route(&farm, &processor),
                        json!({"bizTransactionList": desadv(&farm, "DA-611")}),
                    ),
                )],
            ),
        ),
        capture(
            CARRIER,
            "ColdLine Logistics picks the pallet up at the farm and delivers it to the plant",
            document(
                "2026-06-11T18:00:00-07:00",
                Some(json!([locations(vec![site(
                    &carrier,
                    "ColdLine Logistics Salinas Depot",
                    "55 Harvest Road",
                    "Salinas",
                    "CA",
                    "93905",
                    (36.6551, -121.6218)
                )])])),
                vec![
                    object_event(
                        "2026-06-11T13:10:00-07:00",
                        "OBSERVE",
                        "departing",
                        "in_transit",
                        &farm,
                        Vec::new(),
                        std::slice::from_ref(&pallet),
                        json!({"bizTransactionList": desadv(&farm, "DA-611")}),
                    ),
                    object_event(
                        "2026-06-11T17:40:00-07:00",
                        "OBSERVE",
                        "arriving",
                        "in_transit",
                        &processor,
                        Vec::new(),
                        std::slice::from_ref(&pallet),
                        json!({"bizTransactionList": desadv(&farm, "DA-611")}),
                    ),
                ],
            ),
        ),
        Step {
            by: CARRIER,
            says: "the truck's temperature logger (TRK-7) is imported: 45 minutes above 4 °C"
                .to_owned(),
            sends: Sends::LoggerFile {
                name: "coldline-truck-7.csv".to_owned(),
                contents: truck_log(),
                shipment: Shipment {
                    units: vec![format!("https://id.gs1.org/00/{pallet}")],
                    read_point: None,
                    lots: vec![romaine_lot(), iceberg_lot()],
                },
            },
        },
        capture(
            PROCESSOR,
            "FreshCut Salads receives the pallet and makes 1,500 bags of salad mix (SM-0612) from both lots",
            document(
                "2026-06-12T12:00:00-07:00",
                Some(json!([
                    locations(vec![site(
                        &processor,
                        "FreshCut Salads Watsonville Plant",
                        "300 Industrial Way",
                        "Watsonville",
                        "CA",
                        "95076",
                        (36.9102, -121.7569)
                    )]),
                    products(vec![product(&gtin(PROCESSOR, 1), "Garden salad mix, 300 g bag")]),
                ])),
                vec![
                    object_event(
                        "2026-06-11T17:50:00-07:00",
                        "OBSERVE",
                        "receiving",
                        "in_progress",
                        &processor,
                        Vec::new(),
                        std::slice::from_ref(&pallet),
                        merged(
                            route(&farm, &processor),
                            json!({"bizTransactionList": desadv(&farm, "DA-611")}),
                        ),
                    ),
                    json!({
                        "type": "TransformationEvent",
                        "eventTime": "2026-06-12T08:00:00-07:00",
                        "eventTimeZoneOffset": "-07:00",
                        "inputQuantityList": [
                            {"epcClass": romaine_lot(), "quantity": 480, "uom": "KGM"},
                            {"epcClass": iceberg_lot(), "quantity": 280, "uom": "KGM"}
                        ],
                        "outputQuantityList": [{"epcClass": salad_lot(), "quantity": 1500, "uom": "EA"}],
                        "bizStep": "commissioning",
                        "disposition": "active",
                        "readPoint": {"id": place(&processor)},
                        "bizLocation": {"id": place(&processor)}
                    }),
                ],
            ),
        ),
        capture(
            PROCESSOR,
            "the plant ships all 1,500 bags to FreshMart's distribution centre",
            document(
                "2026-06-12T15:00:00-07:00",
                None,
                vec![object_event(
                    "2026-06-12T14:00:00-07:00",
                    "OBSERVE",
                    "shipping",
                    "in_transit",
                    &processor,
                    vec![(salad_lot(), 1500.0, "EA")],
                    &[],
                    merged(
                        route(&processor, &retailer),
                        json!({"bizTransactionList": desadv(&processor, "DA-612")}),
                    ),
                )],
            ),
        ),
        capture(
            RETAILER,
            "FreshMart's distribution centre receives them and delivers 900 and 600 bags to two stores",
            document(
                "2026-06-13T12:00:00-07:00",
                Some(json!([locations(vec![
                    site(
                        &retailer,
                        "FreshMart Distribution Centre Sacramento",
                        "8800 Market Avenue",
                        "Sacramento",
                        "CA",
                        "95814",
                        (38.5816, -121.4944)
                    ),
                    site(
                        &store_one,
                        "FreshMart Store #12, Davis",
                        "410 Second Street",
                        "Davis",
                        "CA",
                        "95616",
                        (38.5449, -121.7405)
                    ),
                    site(
                        &store_two,
                        "FreshMart Store #31, Reno",
                        "77 River Drive",
                        "Reno",
                        "NV",
                        "89501",
                        (39.5296, -119.8138)
                    ),
                ])])),
                vec![
                    object_event(
                        "2026-06-12T19:00:00-07:00",
                        "OBSERVE",
                        "receiving",
                        "in_progress",
                        &retailer,
                        vec![(salad_lot(), 1500.0, "EA")],
                        &[],
                        merged(
                            route(&processor, &retailer),
                            json!({"bizTransactionList": desadv(&processor, "DA-612")}),
                        ),
                    ),
                    object_event(
                        "2026-06-13T06:00:00-07:00",
                        "OBSERVE",
                        "shipping",
                        "in_transit",
                        &retailer,
                        vec![(salad_lot(), 900.0, "EA")],
                        &[],
                        merged(
                            delivery(&retailer, &retailer, &store_one),
                            json!({"bizTransactionList": desadv(&retailer, "DA-613-12")}),
                        ),
                    ),
                    object_event(
                        "2026-06-13T06:30:00-07:00",
                        "OBSERVE",
                        "shipping",
                        "in_transit",
                        &retailer,
                        vec![(salad_lot(), 600.0, "EA")],
                        &[],
                        merged(
                            delivery(&retailer, &retailer, &store_two),
                            json!({"bizTransactionList": desadv(&retailer, "DA-613-31")}),
                        ),
                    ),
                ],
            ),
        ),
        record(
            LAB,
            "the lab finds Listeria monocytogenes in a sample of the salad mix",
            json!({
                "kind": "inspection_result",
                "lots": [salad_lot()],
                "test": "Listeria monocytogenes (ISO 11290-1); listeria=present",
                "values": [{"name": "listeria", "value": "present", "unit": null}],
                "verdict": "fail",
                "sampled_at": "2026-06-13T10:00:00-07:00",
                "report": "https://lab.example/reports/2026-0613-04"
            }),
        ),
        record(
            REGULATOR,
            "the regulator recalls the romaine lot and everything made from it (class I)",
            json!({
                "kind": "recall_notice",
                "recall_id": RECALL_ID,
                "class": "I",
                "lots": [romaine_lot()],
                "hazard": "Listeria monocytogenes",
                "instructions": "Stop sale, remove from shelves, and report quantities held"
            }),
        ),
    ]
}
