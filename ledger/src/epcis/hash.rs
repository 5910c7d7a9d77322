//! The EPCIS Event Hash ID (`ni:///sha-256;<hex>?ver=CBV2.0`): a binding-independent
//! fingerprint of an event, computed from a canonical pre-hash string.
//!
//! Owns the pre-hash canonicalisation: the canonical property order, value normalisation
//! (UTC millisecond timestamps, numbers without trailing zeros, CBV Web URIs, constrained
//! canonical GS1 Digital Links via [`crate::gs1::canonical_digital_link`]), list sorting, and
//! the placement of ILMD and extensions. Does not own identifier syntax (that is `gs1`) nor
//! parsing (the bindings build the [`Event`] this hashes).
//!
//! Version: `?ver=CBV2.0` exactly as release 1.9.3 of the reference implementation
//! (RalphTro/epcis-event-hash-generator) computes it, because that is the published, deployed
//! behaviour and its vectors are our test data. Where 1.9.3 differs from later drafts it is
//! followed: `certificationInfo` is hashed (after `eventTimeZoneOffset`), `parentID` precedes
//! `epcList`, the `sensorElementList` token is present, `bizTransactionList`, `sourceList` and
//! `destinationList` are placed with ILMD and extensions in the trailing sorted section,
//! measurement types use `https://gs1.org/voc/`, and extensions inside `readPoint`,
//! `bizLocation`, `sensorElement`, `sensorMetadata` and `sensorReport` follow their parent's
//! standard fields when their namespace IRI ends in `/` (otherwise they join the trailing
//! section under their parent's path). Timestamps are rounded half-up on the fourth fractional
//! digit, as the algorithm's text requires.
//!
//! The algorithm works on a neutral tree of `(name, text, children)` nodes built from the
//! model, consuming nodes in canonical order and emitting whatever is left in a sorted trailing
//! section, which is how the reference text defines extension handling.

use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime, UtcOffset};

use super::cbv::VocabularyKind;
use super::model::{
    Decimal, Document, Event, ExtensionField, ExtensionValue, Location, Namespace, QName,
    QuantityElement, SensorElement, Timestamp, VocabularyValue,
};

/// The algorithm version this module implements, as written after `?ver=`.
pub const HASH_VERSION: &str = "CBV2.0";

/// The namespace of the reference implementation's `ignoreFields` convention: a document (or
/// query result) may list, under `{https://repository-x.example.com/}ignoreFields`, event-level
/// extension fields a repository added after capture, which the hash must then skip.
pub const IGNORE_FIELDS_NAMESPACE: &str = "https://repository-x.example.com/";

/// `rdfs:comment` is an annotation, not event data: the algorithm leaves it out at every level.
const RDFS_COMMENT: (&str, &str) = ("http://www.w3.org/2000/01/rdf-schema#", "comment");

/// The Event Hash ID of `event`: `ni:///sha-256;` + lower-case hex SHA-256 of
/// [`prehash_string`] + `?ver=CBV2.0`.
pub fn event_hash_id(event: &Event) -> String {
    event_hash_id_ignoring(event, &[])
}

/// [`event_hash_id`] leaving out the event-level extension fields named in `ignored_fields`
/// (see [`ignored_fields`]).
pub fn event_hash_id_ignoring(event: &Event, ignored_fields: &[QName]) -> String {
    let digest = Sha256::digest(prehash_string_ignoring(event, ignored_fields).as_bytes());
    format!("ni:///sha-256;{}?ver={HASH_VERSION}", hex::encode(digest))
}

/// The hash id of every event of `document`, in document order, honouring the document's
/// `ignoreFields` list.
pub fn document_event_hash_ids(document: &Document) -> Vec<String> {
    let ignored = ignored_fields(document);
    document.events.iter().map(|event| event_hash_id_ignoring(event, &ignored)).collect()
}

/// The event-level extension names a document asks the hash to skip: the members of its
/// `{https://repository-x.example.com/}ignoreFields` extension (document, header or query
/// result level), written as CURIEs / IRIs (JSON-LD) or as empty child elements (XML).
pub fn ignored_fields(document: &Document) -> Vec<QName> {
    let mut ignored = Vec::new();
    let candidates = document.extensions.iter().chain(&document.header_extensions);
    for field in candidates {
        if field.name.namespace_iri != IGNORE_FIELDS_NAMESPACE
            || field.name.local_name != "ignoreFields"
        {
            continue;
        }
        collect_ignored(&field.value, &document.namespaces, &mut ignored);
    }
    ignored
}

fn collect_ignored(value: &ExtensionValue, namespaces: &[Namespace], ignored: &mut Vec<QName>) {
    match value {
        ExtensionValue::Text(name) => {
            let resolved = name.split_once(':').and_then(|(prefix, local_name)| {
                let namespace =
                    namespaces.iter().rev().find(|namespace| namespace.prefix == prefix)?;
                Some(QName::new(namespace.iri.as_str(), Some(prefix.to_owned()), local_name))
            });
            let resolved = resolved.or_else(|| {
                let split_at = name.rfind(['/', '#'])? + 1;
                Some(QName::new(&name[..split_at], None, &name[split_at..]))
            });
            ignored.extend(resolved);
        }
        ExtensionValue::Object(fields) => {
            ignored.extend(fields.iter().map(|field| field.name.clone()))
        }
        ExtensionValue::List(items) => {
            for item in items {
                collect_ignored(item, namespaces, ignored);
            }
        }
        ExtensionValue::Number(_) | ExtensionValue::Boolean(_) => {}
    }
}

/// The canonical pre-hash string of `event` (UTF-8, no separators).
pub fn prehash_string(event: &Event) -> String {
    prehash_string_ignoring(event, &[])
}

/// [`prehash_string`] leaving out the event-level extension fields named in `ignored_fields`.
pub fn prehash_string_ignoring(event: &Event, ignored_fields: &[QName]) -> String {
    let mut kept_event;
    let event = if ignored_fields.is_empty() {
        event
    } else {
        kept_event = event.clone();
        kept_event.extensions.retain(|field| {
            !ignored_fields.iter().any(|ignored| {
                ignored.namespace_iri == field.name.namespace_iri
                    && ignored.local_name == field.name.local_name
            })
        });
        &kept_event
    };
    let mut root_children = event_nodes(event);
    let ordered_part = ordered_section(&mut root_children, &event_order());
    let trailing_part = generic_section(&root_children);
    format!("eventType={}{ordered_part}{trailing_part}", event.event_type.name())
}

/// One node of the neutral tree: a field name, its text (empty for containers) and children.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Node {
    name: String,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn leaf(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self { name: name.into(), text: text.into(), children: Vec::new() }
    }

    fn container(name: impl Into<String>, children: Vec<Node>) -> Self {
        Self { name: name.into(), text: String::new(), children }
    }
}

/// Canonical order of one level: a field name and, for containers, the order of its children.
struct OrderEntry {
    name: &'static str,
    children: Option<Vec<OrderEntry>>,
}

fn leaf_order(name: &'static str) -> OrderEntry {
    OrderEntry { name, children: None }
}

fn nested_order(name: &'static str, children: Vec<OrderEntry>) -> OrderEntry {
    OrderEntry { name, children: Some(children) }
}

fn quantity_list_order(name: &'static str) -> OrderEntry {
    nested_order(
        name,
        vec![nested_order(
            "quantityElement",
            vec![leaf_order("epcClass"), leaf_order("quantity"), leaf_order("uom")],
        )],
    )
}

/// The canonical property order of release 1.9.3 (see the module docs for where it differs
/// from the published table). `bizTransactionList`, `sourceList`, `destinationList` and `ilmd`
/// are deliberately absent: they belong to the trailing sorted section.
fn event_order() -> Vec<OrderEntry> {
    let sensor_metadata = [
        "time",
        "startTime",
        "endTime",
        "deviceID",
        "deviceMetadata",
        "rawData",
        "dataProcessingMethod",
        "bizRules",
    ];
    let sensor_report = [
        "type",
        "exception",
        "deviceID",
        "deviceMetadata",
        "rawData",
        "dataProcessingMethod",
        "time",
        "microorganism",
        "chemicalSubstance",
        "value",
        "component",
        "stringValue",
        "booleanValue",
        "hexBinaryValue",
        "uriValue",
        "minValue",
        "maxValue",
        "meanValue",
        "sDev",
        "percRank",
        "percValue",
        "uom",
        "coordinateReferenceSystem",
    ];
    vec![
        leaf_order("eventTime"),
        leaf_order("eventTimeZoneOffset"),
        leaf_order("certificationInfo"),
        leaf_order("parentID"),
        nested_order("epcList", vec![leaf_order("epc")]),
        nested_order("inputEPCList", vec![leaf_order("epc")]),
        nested_order("childEPCs", vec![leaf_order("epc")]),
        quantity_list_order("quantityList"),
        quantity_list_order("childQuantityList"),
        quantity_list_order("inputQuantityList"),
        nested_order("outputEPCList", vec![leaf_order("epc")]),
        quantity_list_order("outputQuantityList"),
        leaf_order("action"),
        leaf_order("transformationID"),
        leaf_order("bizStep"),
        leaf_order("disposition"),
        nested_order("persistentDisposition", vec![leaf_order("set"), leaf_order("unset")]),
        nested_order("readPoint", vec![leaf_order("id")]),
        nested_order("bizLocation", vec![leaf_order("id")]),
        nested_order(
            "sensorElementList",
            vec![nested_order(
                "sensorElement",
                vec![
                    nested_order("sensorMetadata", sensor_metadata.map(leaf_order).into()),
                    nested_order("sensorReport", sensor_report.map(leaf_order).into()),
                ],
            )],
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// Model → tree
// ---------------------------------------------------------------------------------------------

fn event_nodes(event: &Event) -> Vec<Node> {
    let mut nodes = vec![
        Node::leaf("eventTime", event.event_time.as_str()),
        Node::leaf("eventTimeZoneOffset", event.event_time_zone_offset.as_str()),
    ];
    nodes.extend(
        event.certification_info.iter().map(|uri| Node::leaf("certificationInfo", uri.as_str())),
    );
    if let Some(parent_id) = &event.parent_id {
        nodes.push(Node::leaf("parentID", parent_id.as_str()));
    }
    let epc_lists = [
        ("epcList", &event.epc_list),
        ("inputEPCList", &event.input_epc_list),
        ("childEPCs", &event.child_epcs),
        ("outputEPCList", &event.output_epc_list),
    ];
    for (name, epcs) in epc_lists {
        if let Some(epcs) = epcs {
            let epc_nodes = epcs.iter().map(|epc| Node::leaf("epc", epc.as_str())).collect();
            nodes.push(Node::container(name, epc_nodes));
        }
    }
    let quantity_lists = [
        ("quantityList", &event.quantity_list),
        ("childQuantityList", &event.child_quantity_list),
        ("inputQuantityList", &event.input_quantity_list),
        ("outputQuantityList", &event.output_quantity_list),
    ];
    for (name, quantity_list) in quantity_lists {
        if !quantity_list.is_empty() {
            nodes.push(Node::container(
                name,
                quantity_list.iter().map(quantity_element_node).collect(),
            ));
        }
    }
    if let Some(action) = event.action {
        nodes.push(Node::leaf("action", action.name()));
    }
    if let Some(transformation_id) = &event.transformation_id {
        nodes.push(Node::leaf("transformationID", transformation_id.as_str()));
    }
    if let Some(biz_step) = &event.biz_step {
        nodes.push(Node::leaf("bizStep", vocabulary_text(biz_step)));
    }
    if let Some(disposition) = &event.disposition {
        nodes.push(Node::leaf("disposition", vocabulary_text(disposition)));
    }
    if let Some(persistent) = &event.persistent_disposition {
        let set = persistent.set.iter().map(|value| Node::leaf("set", vocabulary_text(value)));
        let unset =
            persistent.unset.iter().map(|value| Node::leaf("unset", vocabulary_text(value)));
        nodes.push(Node::container("persistentDisposition", set.chain(unset).collect()));
    }
    for (name, location) in [("readPoint", &event.read_point), ("bizLocation", &event.biz_location)]
    {
        if let Some(location) = location {
            nodes.push(location_node(name, location));
        }
    }
    if !event.biz_transaction_list.is_empty() {
        let transactions = event.biz_transaction_list.iter().map(|transaction| {
            let mut pair = Vec::new();
            if let Some(transaction_type) = &transaction.transaction_type {
                pair.push(Node::leaf("type", vocabulary_text(transaction_type)));
            }
            pair.push(Node::leaf("bizTransaction", transaction.value.as_str()));
            Node::container("", pair)
        });
        nodes.push(Node::container("bizTransactionList", transactions.collect()));
    }
    let party_lists = [
        ("sourceList", "source", &event.source_list),
        ("destinationList", "destination", &event.destination_list),
    ];
    for (name, id_name, entries) in party_lists {
        if !entries.is_empty() {
            let pairs = entries.iter().map(|entry| {
                Node::container(
                    "",
                    vec![
                        Node::leaf("type", vocabulary_text(&entry.source_destination_type)),
                        Node::leaf(id_name, entry.id.as_str()),
                    ],
                )
            });
            nodes.push(Node::container(name, pairs.collect()));
        }
    }
    if !event.sensor_element_list.is_empty() {
        let elements = event.sensor_element_list.iter().map(sensor_element_node).collect();
        nodes.push(Node::container("sensorElementList", elements));
    }
    if let Some(ilmd) = &event.ilmd {
        nodes.push(Node::container("ilmd", extension_nodes(ilmd)));
    }
    nodes.extend(extension_nodes(&event.extensions));
    nodes
}

fn quantity_element_node(element: &QuantityElement) -> Node {
    let mut children = vec![Node::leaf("epcClass", element.epc_class.as_str())];
    if let Some(quantity) = &element.quantity {
        children.push(Node::leaf("quantity", quantity.as_str()));
    }
    if let Some(uom) = &element.uom {
        children.push(Node::leaf("uom", uom.as_str()));
    }
    Node::container("quantityElement", children)
}

fn location_node(name: &str, location: &Location) -> Node {
    let mut children = vec![Node::leaf("id", location.id.as_str())];
    children.extend(extension_nodes(&location.extensions));
    Node::container(name, children)
}

fn sensor_element_node(element: &SensorElement) -> Node {
    let mut children = Vec::new();
    if let Some(metadata) = &element.sensor_metadata {
        let mut metadata_children = Vec::new();
        let times = [
            ("time", &metadata.time),
            ("startTime", &metadata.start_time),
            ("endTime", &metadata.end_time),
        ];
        push_times(&mut metadata_children, times);
        let texts = [
            ("deviceID", &metadata.device_id),
            ("deviceMetadata", &metadata.device_metadata),
            ("rawData", &metadata.raw_data),
            ("dataProcessingMethod", &metadata.data_processing_method),
            ("bizRules", &metadata.biz_rules),
        ];
        push_texts(&mut metadata_children, texts);
        metadata_children.extend(extension_nodes(&metadata.extensions));
        children.push(Node::container("sensorMetadata", metadata_children));
    }
    for report in &element.sensor_report {
        let mut report_children = Vec::new();
        let vocabularies = [
            ("type", &report.measurement_type),
            ("exception", &report.exception),
            ("component", &report.component),
        ];
        for (name, value) in vocabularies {
            if let Some(value) = value {
                report_children.push(Node::leaf(name, vocabulary_text(value)));
            }
        }
        let texts = [
            ("deviceID", &report.device_id),
            ("deviceMetadata", &report.device_metadata),
            ("rawData", &report.raw_data),
            ("dataProcessingMethod", &report.data_processing_method),
            ("bizRules", &report.biz_rules),
            ("microorganism", &report.microorganism),
            ("chemicalSubstance", &report.chemical_substance),
            ("stringValue", &report.string_value),
            ("hexBinaryValue", &report.hex_binary_value),
            ("uriValue", &report.uri_value),
            ("uom", &report.uom),
            ("coordinateReferenceSystem", &report.coordinate_reference_system),
        ];
        push_texts(&mut report_children, texts);
        push_times(&mut report_children, [("time", &report.time)]);
        if let Some(flag) = report.boolean_value {
            report_children.push(Node::leaf("booleanValue", if flag { "true" } else { "false" }));
        }
        let numbers = [
            ("value", &report.value),
            ("minValue", &report.min_value),
            ("maxValue", &report.max_value),
            ("meanValue", &report.mean_value),
            ("sDev", &report.s_dev),
            ("percRank", &report.perc_rank),
            ("percValue", &report.perc_value),
        ];
        for (name, number) in numbers {
            if let Some(number) = number {
                report_children.push(Node::leaf(name, number.as_str()));
            }
        }
        report_children.extend(extension_nodes(&report.extensions));
        children.push(Node::container("sensorReport", report_children));
    }
    children.extend(extension_nodes(&element.extensions));
    Node::container("sensorElement", children)
}

fn push_texts<const N: usize>(nodes: &mut Vec<Node>, texts: [(&str, &Option<String>); N]) {
    for (name, text) in texts {
        if let Some(text) = text {
            nodes.push(Node::leaf(name, text.as_str()));
        }
    }
}

fn push_times<const N: usize>(nodes: &mut Vec<Node>, times: [(&str, &Option<Timestamp>); N]) {
    for (name, time) in times {
        if let Some(time) = time {
            nodes.push(Node::leaf(name, time.as_str()));
        }
    }
}

/// Extension fields as nodes named `{namespace}local`; a list becomes repeated nodes (the XML
/// form), so JSON arrays and repeated XML elements hash alike.
fn extension_nodes(fields: &[ExtensionField]) -> Vec<Node> {
    let mut nodes = Vec::new();
    for field in fields {
        if (field.name.namespace_iri.as_str(), field.name.local_name.as_str()) == RDFS_COMMENT {
            continue;
        }
        let name = if field.name.namespace_iri.is_empty() {
            field.name.local_name.clone()
        } else {
            format!("{{{}}}{}", field.name.namespace_iri, field.name.local_name)
        };
        push_extension_value(&mut nodes, &name, &field.value);
    }
    nodes
}

fn push_extension_value(nodes: &mut Vec<Node>, name: &str, value: &ExtensionValue) {
    match value {
        ExtensionValue::Text(text) => nodes.push(Node::leaf(name, text.as_str())),
        ExtensionValue::Number(number) => nodes.push(Node::leaf(name, number.as_str())),
        ExtensionValue::Boolean(flag) => {
            nodes.push(Node::leaf(name, if *flag { "true" } else { "false" }))
        }
        ExtensionValue::Object(fields) => {
            nodes.push(Node::container(name, extension_nodes(fields)))
        }
        ExtensionValue::List(items) => {
            for item in items {
                push_extension_value(nodes, name, item);
            }
        }
    }
}

/// The text a vocabulary value contributes: the Web URI of a standard word (GS1 Web
/// Vocabulary terms under `https://gs1.org/voc/`), a custom value with the GS1 context's own
/// CURIE prefixes (`gs1:`, `cbv:`) expanded, otherwise as written.
fn vocabulary_text(value: &VocabularyValue) -> String {
    if value.standard_word().is_some() {
        return value.web_uri();
    }
    let written = value.written.trim();
    let gs1_kinds =
        matches!(value.kind, VocabularyKind::MeasurementType | VocabularyKind::SensorAlertType);
    if let Some(term) = written.strip_prefix("gs1:") {
        return format!("{}{term}", super::cbv::GS1_VOC_NAMESPACE);
    }
    if let Some(term) = written.strip_prefix("cbv:") {
        return format!("{}{term}", super::cbv::CBV_WEB_NAMESPACE);
    }
    if value.kind.accepts_unlisted_bare_words() && !written.is_empty() && !written.contains(':') {
        return format!("{}{written}", super::cbv::GS1_VOC_NAMESPACE);
    }
    if gs1_kinds && let Some(term) = written.strip_prefix(super::cbv::GS1_REF_VOC_NAMESPACE) {
        return format!("{}{term}", super::cbv::GS1_VOC_NAMESPACE);
    }
    written.to_owned()
}

// ---------------------------------------------------------------------------------------------
// Tree → pre-hash string
// ---------------------------------------------------------------------------------------------

/// Emits the children of one level named in `order`, in that order (same-named siblings sorted
/// among themselves), consuming every node that has nothing left inside. Extension nodes of an
/// extension point (`{…/}name`) follow the level's standard fields.
fn ordered_section(children: &mut Vec<Node>, order: &[OrderEntry]) -> String {
    let trailing_extensions = take_point_extensions(children);
    let mut prehash = String::new();
    for entry in order {
        let mut substrings = Vec::new();
        let mut position = 0;
        while position < children.len() {
            if children[position].name != entry.name {
                position += 1;
                continue;
            }
            let substring = node_substring(&mut children[position], entry.children.as_deref());
            if !substring.is_empty() {
                substrings.push(substring);
            }
            if children[position].children.is_empty() {
                children.remove(position);
            } else {
                position += 1;
            }
        }
        substrings.sort();
        prehash.push_str(&substrings.concat());
    }
    if !trailing_extensions.is_empty() {
        prehash.push_str(&generic_section(&trailing_extensions));
    }
    prehash
}

/// Removes and returns the extension nodes of an extension point: only below the event level
/// (a level holding `eventTime` or `action` is the event itself), only when the level has more
/// than one node, and only names whose namespace IRI ends in `/` (the 1.9.3 behaviour).
fn take_point_extensions(children: &mut Vec<Node>) -> Vec<Node> {
    let is_event_level =
        children.iter().any(|node| node.name.contains("eventTime") || node.name.contains("action"));
    if children.len() <= 1 || is_event_level {
        return Vec::new();
    }
    let (extensions, standard): (Vec<Node>, Vec<Node>) = std::mem::take(children)
        .into_iter()
        .partition(|node| node.name.contains('{') && node.name.contains("/}"));
    *children = standard;
    extensions
}

/// `name=value` followed by the node's ordered children, or the empty string when both are empty.
fn node_substring(node: &mut Node, child_order: Option<&[OrderEntry]>) -> String {
    let children_part = match child_order {
        Some(order) => ordered_section(&mut node.children, order),
        None => String::new(),
    };
    let trimmed = node.text.trim();
    let value = if trimmed.is_empty() {
        String::new()
    } else {
        let lowercase_name = node.name.to_lowercase();
        if lowercase_name.contains("time") && !lowercase_name.contains("offset") {
            canonical_timestamp(trimmed)
        } else {
            canonical_value(trimmed)
        }
    };
    if value.is_empty() && children_part.is_empty() {
        return String::new();
    }
    let separator = if value.is_empty() { "" } else { "=" };
    format!("{}{separator}{value}{children_part}", node.name)
}

/// Whatever the ordered pass left: each node as `name=value` plus its children, siblings sorted
/// (except the members of one business transaction / source / destination, which keep `type`
/// first).
fn generic_section(nodes: &[Node]) -> String {
    let mut substrings: Vec<String> = nodes
        .iter()
        .map(|node| {
            let trimmed = node.text.trim();
            let value = if trimmed.is_empty() {
                String::new()
            } else {
                format!("={}", canonical_value(trimmed))
            };
            format!("{}{value}{}", node.name, generic_section(&node.children))
        })
        .collect();
    let keeps_pair_order = nodes
        .iter()
        .any(|node| matches!(node.name.as_str(), "bizTransaction" | "source" | "destination"));
    if !keeps_pair_order {
        substrings.sort();
    }
    substrings.concat()
}

/// A timestamp in UTC with exactly three fractional digits, the third rounded half-up on the
/// fourth (`11:04:03.1415+00:00` → `11:04:03.142Z`). Text that is not a timestamp is kept.
fn canonical_timestamp(text: &str) -> String {
    let Some(timestamp) = Timestamp::parse(text) else {
        return text.to_owned();
    };
    let instant: OffsetDateTime = timestamp.instant().to_offset(UtcOffset::UTC);
    let nanoseconds = instant.nanosecond();
    let truncated = instant - Duration::nanoseconds(i64::from(nanoseconds % 1_000_000));
    let fourth_digit = (nanoseconds / 100_000) % 10;
    let rounded = if fourth_digit >= 5 { truncated + Duration::milliseconds(1) } else { truncated };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        rounded.year(),
        u8::from(rounded.month()),
        rounded.day(),
        rounded.hour(),
        rounded.minute(),
        rounded.second(),
        rounded.millisecond()
    )
}

/// A value canonicalised as the algorithm requires: CBV URNs to Web URIs, numbers without
/// trailing zeros, EPC URNs and Digital Links to constrained canonical Digital Links.
fn canonical_value(text: &str) -> String {
    let web_vocabulary = cbv_urn_to_web_uri(text);
    let numeric = canonical_number(&web_vocabulary).unwrap_or(web_vocabulary);
    crate::gs1::canonical_digital_link(&numeric).unwrap_or(numeric)
}

fn cbv_urn_to_web_uri(text: &str) -> String {
    const URN_TO_WEB: [(&str, &str); 5] = [
        ("urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-"),
        ("urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-"),
        ("urn:epcglobal:cbv:btt:", "https://ref.gs1.org/cbv/BTT-"),
        ("urn:epcglobal:cbv:sdt:", "https://ref.gs1.org/cbv/SDT-"),
        ("urn:epcglobal:cbv:er:", "https://ref.gs1.org/cbv/ER-"),
    ];
    for (urn_prefix, web_prefix) in URN_TO_WEB {
        if let Some(word) = text.strip_prefix(urn_prefix) {
            return format!("{web_prefix}{word}");
        }
    }
    text.to_owned()
}

/// The canonical text of a number, `None` when `text` is not a decimal number. Integral values
/// are written as integers (`25.0` → `25`); others in shortest round-trip form, switching to
/// exponent notation below 1e-4 (`0.00001` → `1e-05`) as the reference implementation does.
fn canonical_number(text: &str) -> Option<String> {
    let decimal = Decimal::parse(text)?;
    let value: f64 = decimal.as_str().parse().ok()?;
    if !value.is_finite() {
        return None;
    }
    if value == value.trunc() {
        if value == 0.0 {
            return Some("0".to_owned());
        }
        return Some(format!("{value:.0}"));
    }
    if value.abs() >= 1e-4 {
        return Some(format!("{value}"));
    }
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific.split_once('e')?;
    let exponent: i32 = exponent.parse().ok()?;
    let sign = if exponent < 0 { '-' } else { '+' };
    Some(format!("{mantissa}e{sign}{:02}", exponent.unsigned_abs()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_lose_trailing_zeros() {
        assert_eq!(canonical_number("25.0").as_deref(), Some("25"));
        assert_eq!(canonical_number("0.3434").as_deref(), Some("0.3434"));
        assert_eq!(canonical_number("-0.0").as_deref(), Some("0"));
        assert_eq!(canonical_number("0.00001").as_deref(), Some("1e-05"));
        assert_eq!(canonical_number("1.5E-7").as_deref(), Some("1.5e-07"));
        assert_eq!(canonical_number("1e3").as_deref(), Some("1000"));
        assert_eq!(canonical_number("abc"), None);
    }

    #[test]
    fn timestamps_become_utc_milliseconds_rounded_half_up() {
        assert_eq!(canonical_timestamp("2023-01-18T11:04:03.1415Z"), "2023-01-18T11:04:03.142Z");
        assert_eq!(canonical_timestamp("2023-01-18T11:04:03.1414Z"), "2023-01-18T11:04:03.141Z");
        assert_eq!(canonical_timestamp("2023-01-18T11:04:03.1425Z"), "2023-01-18T11:04:03.143Z");
        assert_eq!(canonical_timestamp("2023-12-31T23:59:59.9999Z"), "2024-01-01T00:00:00.000Z");
        assert_eq!(
            canonical_timestamp("2022-02-16T20:33:31.116000-06:00"),
            "2022-02-17T02:33:31.116Z"
        );
    }
}
