//! Shared helpers for the `epcis_*` test binaries (JSON-LD and XML alike): where the
//! third-party vectors are, a binding-agnostic runner for the Event Hash ID vectors, and
//! proptest strategies that generate valid events of every type.
//!
//! Owns no assertions about one binding; each test binary passes its own parser. Included with
//! `mod epcis_support;`, so items unused by one binary are allowed.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use lotline_ledger::epcis::cbv::{self, VocabularyKind};
use lotline_ledger::epcis::hash::{
    event_hash_id_ignoring, ignored_fields, prehash_string_ignoring,
};
use lotline_ledger::epcis::{
    Action, BizTransaction, Decimal, Document, DocumentKind, Error, ErrorDeclaration, Event,
    EventType, ExtensionField, ExtensionValue, Location, Namespace, PersistentDisposition, QName,
    QuantityElement, SensorElement, SensorMetadata, SensorReport, SourceDestination, Timestamp,
    VocabularyValue, event_hash_id, prehash_string,
};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

/// A parser of one binding (`epcis::json::parse_document`, `epcis::xml::parse_document`).
pub type Parser = fn(&[u8]) -> Result<Document, Error>;

/// The shared third-party test data directory (read in place, never copied).
pub fn testdata_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/testdata"))
}

/// The Event Hash ID reference vectors (`epcis-event-hash/examples`).
pub fn hash_examples_dir() -> PathBuf {
    testdata_dir().join("epcis-event-hash/examples")
}

/// The OpenEPCIS JSON test documents.
pub fn openepcis_json_dir() -> PathBuf {
    testdata_dir().join("epcis-openepcis/2.0/EPCIS/JSON")
}

/// Every file under `directory` (recursively) whose name ends with `.{extension}`, sorted.
pub fn files_with_extension(directory: &Path, extension: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![directory.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries = std::fs::read_dir(&current)
            .unwrap_or_else(|error| panic!("cannot list {}: {error}", current.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|found_extension| found_extension == extension) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Non-empty trimmed lines of a vector file.
pub fn vector_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

/// What [`run_hash_vectors`] checked.
#[derive(Debug, Default)]
pub struct HashVectorReport {
    /// Input documents whose `.hashes` were compared.
    pub documents: usize,
    /// Event hash ids compared.
    pub hashes_checked: usize,
    /// Pre-hash lines compared.
    pub prehashes_checked: usize,
    /// Pre-hash lines skipped because their own SHA-256 is not the expected hash id (the
    /// upstream file is stale for that event), as `file:line`.
    pub stale_prehash_lines: Vec<String>,
}

/// Runs every `examples/*.{extension}` document that has a `.hashes` file through `parse`, and
/// compares each event's hash id (document order) and, where the `.prehashes` line is
/// self-consistent with the expected hash, its pre-hash string. Panics listing every mismatch.
pub fn run_hash_vectors(extension: &str, parse: Parser) -> HashVectorReport {
    let mut report = HashVectorReport::default();
    let mut failures = Vec::new();
    for input_path in files_with_extension(&hash_examples_dir(), extension) {
        let hashes_path = input_path.with_extension("hashes");
        if !hashes_path.exists() {
            continue;
        }
        let name = input_path.file_name().map(|name| name.to_string_lossy().into_owned());
        let name = name.unwrap_or_default();
        let bytes = std::fs::read(&input_path).expect("vector input");
        let document = match parse(&bytes) {
            Ok(document) => document,
            Err(error) => {
                failures.push(format!("{name}: does not parse: {error}"));
                continue;
            }
        };
        report.documents += 1;
        let ignored = ignored_fields(&document);
        let expected_hashes = vector_lines(&hashes_path);
        if expected_hashes.len() != document.events.len() {
            failures.push(format!(
                "{name}: {} events but {} expected hashes",
                document.events.len(),
                expected_hashes.len()
            ));
            continue;
        }
        let prehashes_path = input_path.with_extension("prehashes");
        let expected_prehashes =
            if prehashes_path.exists() { vector_lines(&prehashes_path) } else { Vec::new() };
        for (index, (event, expected_hash)) in
            document.events.iter().zip(&expected_hashes).enumerate()
        {
            let computed_hash = event_hash_id_ignoring(event, &ignored);
            report.hashes_checked += 1;
            if &computed_hash != expected_hash {
                failures.push(format!(
                    "{name} event {index}: hash {computed_hash} != expected {expected_hash}\n  ours: {}",
                    prehash_string_ignoring(event, &ignored)
                ));
            }
            let Some(expected_prehash) = expected_prehashes.get(index) else {
                continue;
            };
            let expected_prehash_hash = format!(
                "ni:///sha-256;{}?ver=CBV2.0",
                hex::encode(Sha256::digest(expected_prehash.as_bytes()))
            );
            if &expected_prehash_hash != expected_hash {
                report.stale_prehash_lines.push(format!("{name}:{}", index + 1));
                continue;
            }
            report.prehashes_checked += 1;
            let computed_prehash = prehash_string_ignoring(event, &ignored);
            if &computed_prehash != expected_prehash {
                failures.push(format!(
                    "{name} event {index}: pre-hash differs\n  ours:     {computed_prehash}\n  expected: {expected_prehash}"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} hash vector failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    report
}

/// Parses every `expected_equal/*.{extension}` document and checks that all its events have
/// one hash id. Returns how many documents and events were checked.
pub fn run_expected_equal(extension: &str, parse: Parser) -> (usize, usize) {
    let directory = testdata_dir().join("epcis-event-hash/expected_equal");
    let mut documents = 0;
    let mut events = 0;
    for path in files_with_extension(&directory, extension) {
        let bytes = std::fs::read(&path).expect("expected_equal input");
        let document = parse(&bytes)
            .unwrap_or_else(|error| panic!("{} does not parse: {error}", path.display()));
        assert!(document.events.len() >= 2, "{}: a group needs two events", path.display());
        let first_hash = event_hash_id(&document.events[0]);
        for (index, event) in document.events.iter().enumerate() {
            assert_eq!(
                event_hash_id(event),
                first_hash,
                "{} event {index} differs from event 0:\n  0: {}\n  {index}: {}",
                path.display(),
                prehash_string(&document.events[0]),
                prehash_string(event)
            );
        }
        documents += 1;
        events += document.events.len();
    }
    (documents, events)
}

// ---------------------------------------------------------------------------------------------
// Proptest strategies: valid events of every type
// ---------------------------------------------------------------------------------------------

/// The extension namespace generated events use.
pub const EXAMPLE_NAMESPACE: &str = "https://ns.example.com/epcis/";

/// The namespace declarations generated documents carry.
pub fn example_namespaces() -> Vec<Namespace> {
    vec![Namespace { prefix: "example".to_owned(), iri: EXAMPLE_NAMESPACE.to_owned() }]
}

fn serial() -> impl Strategy<Value = String> {
    "[A-Za-z0-9]{1,10}"
}

/// An EPC as an SGTIN URN or a GS1 Digital Link.
pub fn arb_epc() -> impl Strategy<Value = String> {
    prop_oneof![
        serial().prop_map(|serial| format!("urn:epc:id:sgtin:0614141.107346.{serial}")),
        serial().prop_map(|serial| format!("https://id.gs1.org/01/09521141012345/21/{serial}")),
        (0u32..1_000_000)
            .prop_map(|number| format!("urn:epc:id:sscc:4012345.{:010}", u64::from(number) * 7)),
    ]
}

fn arb_epc_class() -> impl Strategy<Value = String> {
    prop_oneof![
        serial().prop_map(|lot| format!("urn:epc:class:lgtin:4012345.012345.{lot}")),
        serial().prop_map(|lot| format!("https://id.gs1.org/01/04012345123456/10/{lot}")),
        Just("https://id.gs1.org/01/04012345123456".to_owned()),
    ]
}

fn arb_location_id() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u32..1000).prop_map(|extension| format!("urn:epc:id:sgln:4012345.00011.{extension}")),
        Just("https://id.gs1.org/414/4012345000115".to_owned()),
        Just("geo:50.9475,6.9221".to_owned()),
    ]
}

/// A timestamp with an explicit offset and 0–4 fractional digits.
pub fn arb_timestamp() -> impl Strategy<Value = Timestamp> {
    (946_684_800i64..1_893_456_000, 0u32..10_000, 0usize..5, arb_offset()).prop_map(
        |(seconds, fraction, fraction_digits, offset)| {
            let instant = time::OffsetDateTime::from_unix_timestamp(seconds).expect("in range");
            let base = format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                instant.year(),
                u8::from(instant.month()),
                instant.day(),
                instant.hour(),
                instant.minute(),
                instant.second()
            );
            let fraction_text = match fraction_digits {
                0 => String::new(),
                digits => format!(".{}", &format!("{fraction:04}")[..digits]),
            };
            let zone = if offset == "+00:00" { "Z".to_owned() } else { offset };
            Timestamp::parse(&format!("{base}{fraction_text}{zone}")).expect("generated timestamp")
        },
    )
}

fn arb_offset() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["+00:00", "+01:00", "-06:00", "+05:30", "+14:00", "-13:59"])
        .prop_map(str::to_owned)
}

/// A number as serde_json writes it (so JSON round trips keep its text).
pub fn arb_decimal() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        (0i64..1_000_000).prop_map(|integer| integer.to_string()),
        (0i64..1_000_000, 1u32..4).prop_map(|(integer, scale)| {
            let value = integer as f64 / 10f64.powi(scale as i32);
            serde_json::Number::from_f64(value).map_or_else(|| "0".to_owned(), |n| n.to_string())
        }),
    ]
    .prop_map(|text| Decimal::parse(&text).expect("generated number"))
}

fn arb_vocabulary(kind: VocabularyKind) -> impl Strategy<Value = VocabularyValue> {
    prop_oneof![
        3 => prop::sample::select(kind.words()).prop_map(move |word| VocabularyValue::new(kind, word)),
        1 => "[a-z]{1,8}".prop_map(move |word| VocabularyValue::new(kind, format!("https://example.com/vocab/{word}"))),
    ]
}

fn arb_uom() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["KGM", "LTR", "EA", "CEL", "MTR", "A93"]).prop_map(str::to_owned)
}

fn arb_quantity_element() -> impl Strategy<Value = QuantityElement> {
    (arb_epc_class(), prop::option::of(arb_decimal()), prop::option::of(arb_uom()))
        .prop_map(|(epc_class, quantity, uom)| QuantityElement { epc_class, quantity, uom })
}

fn arb_quantity_list(minimum: usize) -> impl Strategy<Value = Vec<QuantityElement>> {
    prop::collection::vec(arb_quantity_element(), minimum..4)
}

fn arb_epc_list(minimum: usize) -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(arb_epc(), minimum..5)
}

fn arb_text() -> impl Strategy<Value = String> {
    prop_oneof!["[ -~]{0,12}", "\\PC{0,8}"]
}

/// An extension value nested up to three levels; object members have distinct names (JSON
/// objects cannot repeat keys).
pub fn arb_extension_value() -> impl Strategy<Value = ExtensionValue> {
    let leaf = prop_oneof![
        arb_text().prop_map(ExtensionValue::Text),
        arb_decimal().prop_map(ExtensionValue::Number),
        any::<bool>().prop_map(ExtensionValue::Boolean),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::btree_map("[a-z]{1,6}", inner.clone(), 1..4).prop_map(|members| {
                ExtensionValue::Object(
                    members
                        .into_iter()
                        .map(|(local_name, value)| ExtensionField {
                            name: example_name(&local_name),
                            value,
                        })
                        .collect(),
                )
            }),
            prop::collection::vec(inner, 0..3).prop_map(ExtensionValue::List),
        ]
    })
}

fn example_name(local_name: &str) -> QName {
    QName::new(EXAMPLE_NAMESPACE, Some("example".to_owned()), local_name)
}

/// Up to three extension fields with distinct names.
pub fn arb_extensions() -> impl Strategy<Value = Vec<ExtensionField>> {
    prop::collection::btree_map("[a-z]{1,6}", arb_extension_value(), 0..3).prop_map(|members| {
        members
            .into_iter()
            .map(|(local_name, value)| ExtensionField { name: example_name(&local_name), value })
            .collect()
    })
}

fn arb_location() -> impl Strategy<Value = Location> {
    (arb_location_id(), arb_extensions()).prop_map(|(id, extensions)| Location { id, extensions })
}

fn arb_biz_transaction() -> impl Strategy<Value = BizTransaction> {
    (prop::option::of(arb_vocabulary(VocabularyKind::BizTransactionType)), serial()).prop_map(
        |(transaction_type, number)| BizTransaction {
            transaction_type,
            value: format!("http://transaction.acme.com/po/{number}"),
        },
    )
}

fn arb_source_destination() -> impl Strategy<Value = SourceDestination> {
    (arb_vocabulary(VocabularyKind::SourceDestinationType), arb_location_id())
        .prop_map(|(source_destination_type, id)| SourceDestination { source_destination_type, id })
}

fn arb_sensor_report() -> impl Strategy<Value = SensorReport> {
    (
        (
            prop::option::of(arb_vocabulary(VocabularyKind::MeasurementType)),
            prop::option::of(arb_vocabulary(VocabularyKind::SensorAlertType)),
            prop::option::of(arb_vocabulary(VocabularyKind::Component)),
            prop::option::of(arb_timestamp()),
            prop::option::of(arb_decimal()),
            prop::option::of(arb_decimal()),
        ),
        (
            prop::option::of(arb_decimal()),
            prop::option::of("[a-z ]{0,8}"),
            prop::option::of(any::<bool>()),
            prop::option::of("([0-9A-F]{2}){0,4}"),
            prop::option::of(arb_uom()),
            arb_extensions(),
        ),
    )
        .prop_map(
            |(
                (measurement_type, exception, component, time, value, min_value),
                (max_value, string_value, boolean_value, hex_binary_value, uom, extensions),
            )| SensorReport {
                measurement_type,
                exception,
                component,
                time,
                value,
                min_value,
                max_value,
                string_value,
                boolean_value,
                hex_binary_value,
                uom,
                device_id: Some("urn:epc:id:giai:4000001.111".to_owned()),
                extensions,
                ..SensorReport::default()
            },
        )
}

fn arb_sensor_element() -> impl Strategy<Value = SensorElement> {
    (
        prop::option::of((prop::option::of(arb_timestamp()), arb_extensions())),
        prop::collection::vec(arb_sensor_report(), 1..3),
        arb_extensions(),
    )
        .prop_map(|(metadata, sensor_report, extensions)| SensorElement {
            sensor_metadata: metadata.map(|(time, extensions)| SensorMetadata {
                time,
                biz_rules: Some("https://example.com/rules/1".to_owned()),
                extensions,
                ..SensorMetadata::default()
            }),
            sensor_report,
            extensions,
        })
}

fn arb_error_declaration() -> impl Strategy<Value = ErrorDeclaration> {
    (
        arb_timestamp(),
        prop::option::of(arb_vocabulary(VocabularyKind::ErrorReason)),
        prop::collection::vec(
            "[0-9a-f]{8}".prop_map(|id| format!("urn:uuid:{id}-0000-4000-8000-000000000000")),
            0..2,
        ),
        arb_extensions(),
    )
        .prop_map(|(declaration_time, reason, corrective_event_ids, extensions)| {
            ErrorDeclaration { declaration_time, reason, corrective_event_ids, extensions }
        })
}

/// Standard "why/where/how" fields any event type may carry.
#[derive(Debug, Clone)]
struct CommonFields {
    event_time: Timestamp,
    offset: String,
    record_time: Option<Timestamp>,
    event_id: Option<String>,
    certification_info: Vec<String>,
    error_declaration: Option<ErrorDeclaration>,
    biz_step: Option<VocabularyValue>,
    disposition: Option<VocabularyValue>,
    read_point: Option<Location>,
    biz_location: Option<Location>,
    biz_transaction_list: Vec<BizTransaction>,
    source_list: Vec<SourceDestination>,
    destination_list: Vec<SourceDestination>,
    sensor_element_list: Vec<SensorElement>,
    persistent_disposition: Option<PersistentDisposition>,
    extensions: Vec<ExtensionField>,
}

fn arb_common_fields() -> impl Strategy<Value = CommonFields> {
    (
        (
            arb_timestamp(),
            arb_offset(),
            prop::option::of(arb_timestamp()),
            prop::option::of(
                "[0-9a-f]{8}".prop_map(|id| format!("urn:uuid:{id}-1111-4000-8000-000000000000")),
            ),
            prop::collection::vec(
                Just("https://accreditation.example.org/cert/1".to_owned()),
                0..3,
            ),
            prop::option::of(arb_error_declaration()),
            prop::option::of(arb_vocabulary(VocabularyKind::BizStep)),
            prop::option::of(arb_vocabulary(VocabularyKind::Disposition)),
        ),
        (
            prop::option::of(arb_location()),
            prop::option::of(arb_location()),
            prop::collection::vec(arb_biz_transaction(), 0..3),
            prop::collection::vec(arb_source_destination(), 0..3),
            prop::collection::vec(arb_source_destination(), 0..3),
            prop::collection::vec(arb_sensor_element(), 0..2),
            prop::option::of((
                prop::collection::vec(arb_vocabulary(VocabularyKind::Disposition), 0..2),
                prop::collection::vec(arb_vocabulary(VocabularyKind::Disposition), 0..2),
            )),
            arb_extensions(),
        ),
    )
        .prop_map(
            |(
                (
                    event_time,
                    offset,
                    record_time,
                    event_id,
                    certification_info,
                    error_declaration,
                    biz_step,
                    disposition,
                ),
                (
                    read_point,
                    biz_location,
                    biz_transaction_list,
                    source_list,
                    destination_list,
                    sensor_element_list,
                    persistent,
                    extensions,
                ),
            )| CommonFields {
                event_time,
                offset,
                record_time,
                event_id,
                certification_info,
                error_declaration,
                biz_step,
                disposition,
                read_point,
                biz_location,
                biz_transaction_list,
                source_list,
                destination_list,
                sensor_element_list,
                persistent_disposition: persistent
                    .map(|(set, unset)| PersistentDisposition { set, unset }),
                extensions,
            },
        )
}

fn event_with_common(event_type: EventType, common: CommonFields) -> Event {
    let mut event = Event::new(event_type, common.event_time);
    event.event_time_zone_offset = common.offset;
    event.record_time = common.record_time;
    event.event_id = common.event_id;
    event.certification_info = common.certification_info;
    event.error_declaration = common.error_declaration;
    event.biz_step = common.biz_step;
    event.disposition = common.disposition;
    event.read_point = common.read_point;
    event.biz_location = common.biz_location;
    event.biz_transaction_list = common.biz_transaction_list;
    event.source_list = common.source_list;
    event.destination_list = common.destination_list;
    event.sensor_element_list = common.sensor_element_list;
    event.persistent_disposition = common.persistent_disposition;
    event.extensions = common.extensions;
    event
}

fn arb_action() -> impl Strategy<Value = Action> {
    prop::sample::select(Action::ALL.to_vec())
}

/// A valid event of any of the five types, with random standard fields and extensions.
pub fn arb_event() -> impl Strategy<Value = Event> {
    prop_oneof![
        arb_object_event(),
        arb_aggregation_event(),
        arb_transaction_event(),
        arb_transformation_event(),
        arb_association_event(),
    ]
}

/// A valid ObjectEvent (epcList, possibly empty, or quantities; ILMD only with ADD).
pub fn arb_object_event() -> impl Strategy<Value = Event> {
    (
        arb_common_fields(),
        arb_action(),
        prop::option::of(arb_epc_list(0)),
        arb_quantity_list(0),
        arb_extensions(),
    )
        .prop_map(|(common, action, epc_list, quantity_list, ilmd)| {
            let mut event = event_with_common(EventType::Object, common);
            event.action = Some(action);
            event.epc_list = if epc_list.is_none() && quantity_list.is_empty() {
                Some(Vec::new())
            } else {
                epc_list
            };
            event.quantity_list = quantity_list;
            event.ilmd = (action == Action::Add).then_some(ilmd);
            event
        })
}

fn arb_aggregation_event() -> impl Strategy<Value = Event> {
    (
        arb_common_fields(),
        arb_action(),
        prop::option::of(arb_epc()),
        arb_epc_list(1),
        arb_quantity_list(0),
    )
        .prop_map(|(common, action, parent_id, child_epcs, child_quantity_list)| {
            let mut event = event_with_common(EventType::Aggregation, common);
            event.action = Some(action);
            event.parent_id = parent_id;
            event.child_epcs = Some(child_epcs);
            event.child_quantity_list = child_quantity_list;
            event
        })
}

fn arb_transaction_event() -> impl Strategy<Value = Event> {
    (
        arb_common_fields(),
        arb_action(),
        prop::option::of(arb_epc()),
        arb_epc_list(1),
        arb_quantity_list(0),
        prop::collection::vec(arb_biz_transaction(), 1..3),
    )
        .prop_map(|(common, action, parent_id, epc_list, quantity_list, transactions)| {
            let mut event = event_with_common(EventType::Transaction, common);
            event.action = Some(action);
            event.parent_id = parent_id;
            event.epc_list = Some(epc_list);
            event.quantity_list = quantity_list;
            event.biz_transaction_list = transactions;
            event
        })
}

fn arb_transformation_event() -> impl Strategy<Value = Event> {
    (
        arb_common_fields(),
        arb_epc_list(1),
        arb_quantity_list(0),
        prop::option::of(arb_epc_list(0)),
        arb_quantity_list(1),
        prop::option::of("[0-9]{6}".prop_map(|id| format!("urn:epc:id:gdti:0614141.00001.{id}"))),
        prop::option::of(arb_extensions()),
    )
        .prop_map(
            |(
                common,
                inputs,
                input_quantities,
                outputs,
                output_quantities,
                transformation_id,
                ilmd,
            )| {
                let mut event = event_with_common(EventType::Transformation, common);
                event.input_epc_list = Some(inputs);
                event.input_quantity_list = input_quantities;
                event.output_epc_list = outputs;
                event.output_quantity_list = output_quantities;
                event.transformation_id = transformation_id;
                event.ilmd = ilmd;
                event
            },
        )
}

fn arb_association_event() -> impl Strategy<Value = Event> {
    (arb_common_fields(), arb_action(), arb_epc(), arb_epc_list(1)).prop_map(
        |(common, action, parent_id, child_epcs)| {
            let mut event = event_with_common(EventType::Association, common);
            event.action = Some(action);
            event.parent_id = Some(parent_id);
            event.child_epcs = Some(child_epcs);
            event
        },
    )
}

/// A capture document holding 1–4 generated events.
pub fn arb_document() -> impl Strategy<Value = Document> {
    (prop::collection::vec(arb_event(), 1..4), arb_timestamp()).prop_map(
        |(events, creation_date)| Document {
            kind: DocumentKind::Capture,
            schema_version: "2.0".to_owned(),
            creation_date,
            namespaces: example_namespaces(),
            id: None,
            instance_identifier: Some("1234567890".to_owned()),
            sender: None,
            receiver: None,
            master_data: None,
            header_extensions: Vec::new(),
            events,
            extensions: Vec::new(),
        },
    )
}

/// Every vocabulary list is non-empty (guards the strategies above).
pub fn vocabulary_lists_are_usable() -> bool {
    VocabularyKind::ALL.iter().all(|kind| !kind.words().is_empty()) && !cbv::BIZ_STEPS.is_empty()
}
