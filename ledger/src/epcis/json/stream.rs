//! The streaming reader of one JSON-LD event object: the fast path of
//! [`super::parse_event_json_bytes`], used when a node reads back the events of stored and
//! replicated entries (a joining node reads every event it fetches).
//!
//! Owns: reading the fields events carry in bulk (identifiers, quantities, times, locations,
//! parties, vocabulary values) straight from the bytes into the model, without the JSON tree
//! the strict reader walks. Every other field (extensions, sensor data, error declarations…)
//! is read as a small tree and handed to the strict reader's own field function, so there is
//! one reading of each field's meaning.
//! Does not own: reporting problems. This reader only says "not read": on any surprise (a
//! shape it does not stream, a repeated key, an `@context` after other fields, bad syntax, a
//! value the rules reject) the caller reads the bytes again through the tree, which accepts
//! what it accepts and names the broken rule of what it rejects. The two readers therefore
//! agree on every input by construction, which the tests check on third-party documents.

use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;

use serde::Deserializer as _;
use serde::de::{self, Deserialize, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

use super::{Scope, decimal, set_event_field};
use crate::epcis::cbv::VocabularyKind;
use crate::epcis::model::{
    Action, Event, EventType, Location, QuantityElement, SourceDestination, Timestamp,
    VocabularyValue,
};
use crate::epcis::validate;

/// Reads and validates one event object; `None` when the bytes need the tree reader (an
/// unusual shape or any problem).
pub(super) fn read_event(bytes: &[u8]) -> Option<Event> {
    // A NUL in a string (JSON can only write it `\u0000`) is refused by the tree reader,
    // which names the field.
    if bytes.windows(6).any(|window| window == b"\\u0000") {
        return None;
    }
    // UTF-8 checked once for the whole event: read from bytes, serde_json checks every string
    // on its own (a call per string, about a percent of a catch-up).
    let text = std::str::from_utf8(bytes).ok()?;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let event = deserializer.deserialize_map(EventVisitor).ok()?;
    deserializer.end().ok()?;
    validate::validate_event(&event).ok()?;
    Some(event)
}

/// The error every give-up is reported with; its text is never shown (the tree reader
/// reports the real problem).
fn not_streamed<E: de::Error>() -> E {
    E::custom("not streamed")
}

/// The `eventTime` an event is built with until its own is read (an event needs one to
/// exist; `eventTime` is required, so an event without it is never returned). Its type is
/// likewise `ObjectEvent` until `type` is read.
fn placeholder_time() -> Timestamp {
    static PLACEHOLDER: OnceLock<Timestamp> = OnceLock::new();
    PLACEHOLDER.get_or_init(|| Timestamp::from_instant(time::OffsetDateTime::UNIX_EPOCH)).clone()
}

/// The keys of an event object this reader streams; any other key is read as a tree.
enum Key<'de> {
    Context,
    Type,
    EventTime,
    EventTimeZoneOffset,
    RecordTime,
    EventId,
    Action,
    EpcList,
    ParentId,
    ChildEpcs,
    InputEpcList,
    OutputEpcList,
    QuantityList,
    ChildQuantityList,
    InputQuantityList,
    OutputQuantityList,
    TransformationId,
    BizStep,
    Disposition,
    ReadPoint,
    BizLocation,
    SourceList,
    DestinationList,
    /// Any other key, handed to the strict reader's field function with its value.
    Other(Cow<'de, str>),
}

impl Key<'_> {
    /// One bit per streamed key, to notice a repeated key (the tree keeps the last value at
    /// the first one's place; this reader leaves such objects to the tree).
    fn bit(&self) -> u32 {
        let position = match self {
            Self::Context => 0,
            Self::Type => 1,
            Self::EventTime => 2,
            Self::EventTimeZoneOffset => 3,
            Self::RecordTime => 4,
            Self::EventId => 5,
            Self::Action => 6,
            Self::EpcList => 7,
            Self::ParentId => 8,
            Self::ChildEpcs => 9,
            Self::InputEpcList => 10,
            Self::OutputEpcList => 11,
            Self::QuantityList => 12,
            Self::ChildQuantityList => 13,
            Self::InputQuantityList => 14,
            Self::OutputQuantityList => 15,
            Self::TransformationId => 16,
            Self::BizStep => 17,
            Self::Disposition => 18,
            Self::ReadPoint => 19,
            Self::BizLocation => 20,
            Self::SourceList => 21,
            Self::DestinationList => 22,
            Self::Other(_) => return 0,
        };
        1 << position
    }

    fn from_text(text: &str) -> Option<Self> {
        Some(match text {
            "@context" => Self::Context,
            "type" => Self::Type,
            "eventTime" => Self::EventTime,
            "eventTimeZoneOffset" => Self::EventTimeZoneOffset,
            "recordTime" => Self::RecordTime,
            "eventID" => Self::EventId,
            "action" => Self::Action,
            "epcList" => Self::EpcList,
            "parentID" => Self::ParentId,
            "childEPCs" => Self::ChildEpcs,
            "inputEPCList" => Self::InputEpcList,
            "outputEPCList" => Self::OutputEpcList,
            "quantityList" => Self::QuantityList,
            "childQuantityList" => Self::ChildQuantityList,
            "inputQuantityList" => Self::InputQuantityList,
            "outputQuantityList" => Self::OutputQuantityList,
            "transformationID" => Self::TransformationId,
            "bizStep" => Self::BizStep,
            "disposition" => Self::Disposition,
            "readPoint" => Self::ReadPoint,
            "bizLocation" => Self::BizLocation,
            "sourceList" => Self::SourceList,
            "destinationList" => Self::DestinationList,
            _ => return None,
        })
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a field name")
            }
            fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::from_text(text).unwrap_or(Key::Other(Cow::Borrowed(text))))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Key<'de>, E> {
                Ok(Key::from_text(text).unwrap_or_else(|| Key::Other(Cow::Owned(text.to_owned()))))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Reads the top-level event object.
struct EventVisitor;

impl<'de> Visitor<'de> for EventVisitor {
    type Value = Event;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an EPCIS event object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Event, A::Error> {
        let mut scope = Scope::default();
        let mut event = Event::new(EventType::Object, placeholder_time());
        let mut seen_keys = 0u32;
        let mut other_keys: Vec<Cow<'de, str>> = Vec::new();
        let mut first_key = true;
        while let Some(key) = map.next_key::<Key<'de>>()? {
            if seen_keys & key.bit() != 0 {
                return Err(not_streamed());
            }
            seen_keys |= key.bit();
            let is_first_key = std::mem::replace(&mut first_key, false);
            match key {
                // The scope applies to every value: only a leading @context can be streamed.
                Key::Context if is_first_key => {
                    let context: Value = map.next_value()?;
                    scope = scope.extended_by(&context).map_err(|_| not_streamed())?.0;
                }
                Key::Context => return Err(not_streamed()),
                Key::Type => {
                    let name: String = map.next_value()?;
                    event.event_type = EventType::from_name(&name).ok_or_else(not_streamed)?;
                }
                Key::EventTime => event.event_time = timestamp(map.next_value()?)?,
                Key::EventTimeZoneOffset => event.event_time_zone_offset = map.next_value()?,
                Key::RecordTime => event.record_time = Some(timestamp(map.next_value()?)?),
                Key::EventId => event.event_id = Some(iri(&scope, map.next_value()?)),
                Key::Action => {
                    let name: String = map.next_value()?;
                    event.action = Some(Action::from_name(&name).ok_or_else(not_streamed)?);
                }
                Key::EpcList => event.epc_list = Some(iri_list(&scope, map.next_value()?)),
                Key::ParentId => event.parent_id = Some(iri(&scope, map.next_value()?)),
                Key::ChildEpcs => event.child_epcs = Some(iri_list(&scope, map.next_value()?)),
                Key::InputEpcList => {
                    event.input_epc_list = Some(iri_list(&scope, map.next_value()?));
                }
                Key::OutputEpcList => {
                    event.output_epc_list = Some(iri_list(&scope, map.next_value()?));
                }
                Key::QuantityList => event.quantity_list = quantities(&scope, map.next_value()?),
                Key::ChildQuantityList => {
                    event.child_quantity_list = quantities(&scope, map.next_value()?);
                }
                Key::InputQuantityList => {
                    event.input_quantity_list = quantities(&scope, map.next_value()?);
                }
                Key::OutputQuantityList => {
                    event.output_quantity_list = quantities(&scope, map.next_value()?);
                }
                Key::TransformationId => {
                    event.transformation_id = Some(iri(&scope, map.next_value()?));
                }
                Key::BizStep => {
                    event.biz_step =
                        Some(vocabulary(&scope, VocabularyKind::BizStep, map.next_value()?));
                }
                Key::Disposition => {
                    event.disposition =
                        Some(vocabulary(&scope, VocabularyKind::Disposition, map.next_value()?));
                }
                Key::ReadPoint => event.read_point = Some(location(&scope, map.next_value()?)),
                Key::BizLocation => {
                    event.biz_location = Some(location(&scope, map.next_value()?));
                }
                Key::SourceList => {
                    event.source_list = parties(&scope, PartyKey::Source, map.next_value()?)?;
                }
                Key::DestinationList => {
                    event.destination_list =
                        parties(&scope, PartyKey::Destination, map.next_value()?)?;
                }
                Key::Other(name) => {
                    if other_keys.contains(&name) {
                        return Err(not_streamed());
                    }
                    // Read before `type` if it comes first, with the placeholder type: the type
                    // only words the error of a bad extension, and any error goes to the tree.
                    let value: Value = map.next_value()?;
                    set_event_field(&mut event, &name, &value, &scope)
                        .map_err(|_| not_streamed())?;
                    other_keys.push(name);
                }
            }
        }
        let required = Key::Type.bit() | Key::EventTime.bit() | Key::EventTimeZoneOffset.bit();
        if seen_keys & required != required {
            return Err(not_streamed());
        }
        Ok(event)
    }
}

fn timestamp<E: de::Error>(text: String) -> Result<Timestamp, E> {
    Timestamp::parse(text.trim()).ok_or_else(not_streamed)
}

fn iri(scope: &Scope, text: String) -> String {
    scope.expand_owned_iri_value(text)
}

fn iri_list(scope: &Scope, texts: Vec<String>) -> Vec<String> {
    texts.into_iter().map(|text| iri(scope, text)).collect()
}

/// A vocabulary value as the tree reader keeps it: a standard word as written, anything else
/// with a declared prefix expanded.
fn vocabulary(scope: &Scope, kind: VocabularyKind, written: String) -> VocabularyValue {
    if kind.standard_word(&written).is_some() {
        return VocabularyValue::new(kind, written);
    }
    VocabularyValue::new(kind, scope.expand_owned_iri_value(written))
}

/// A `quantityElement` as written (its `epcClass` not yet expanded).
struct StreamedQuantity(QuantityElement);

impl<'de> Deserialize<'de> for StreamedQuantity {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct QuantityVisitor;
        impl<'de> Visitor<'de> for QuantityVisitor {
            type Value = StreamedQuantity;
            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a quantityElement object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let (mut epc_class, mut quantity, mut uom) = (None, None, None);
                while let Some(key) = map.next_key::<&'de str>()? {
                    match key {
                        "epcClass" if epc_class.is_none() => {
                            epc_class = Some(map.next_value::<String>()?);
                        }
                        "quantity" if quantity.is_none() => {
                            let number: Value = map.next_value()?;
                            quantity = Some(decimal(&number, "").map_err(|_| not_streamed())?);
                        }
                        "uom" if uom.is_none() => uom = Some(map.next_value::<String>()?),
                        _ => return Err(not_streamed()),
                    }
                }
                let epc_class = epc_class.ok_or_else(not_streamed)?;
                Ok(StreamedQuantity(QuantityElement { epc_class, quantity, uom }))
            }
        }
        deserializer.deserialize_map(QuantityVisitor)
    }
}

fn quantities(scope: &Scope, elements: Vec<StreamedQuantity>) -> Vec<QuantityElement> {
    elements
        .into_iter()
        .map(|StreamedQuantity(mut element)| {
            element.epc_class = iri(scope, element.epc_class);
            element
        })
        .collect()
}

/// A `readPoint` or `bizLocation` without extension fields (those go to the tree reader).
struct StreamedLocation(String);

impl<'de> Deserialize<'de> for StreamedLocation {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LocationVisitor;
        impl<'de> Visitor<'de> for LocationVisitor {
            type Value = StreamedLocation;
            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a location object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut id = None;
                while let Some(key) = map.next_key::<&'de str>()? {
                    match key {
                        "id" if id.is_none() => id = Some(map.next_value::<String>()?),
                        // JSON-LD keywords carry no field of the model.
                        keyword if keyword.starts_with('@') => {
                            map.next_value::<IgnoredAny>()?;
                        }
                        _ => return Err(not_streamed()),
                    }
                }
                id.map(StreamedLocation).ok_or_else(not_streamed)
            }
        }
        deserializer.deserialize_map(LocationVisitor)
    }
}

fn location(scope: &Scope, StreamedLocation(id): StreamedLocation) -> Location {
    Location { id: iri(scope, id), extensions: Vec::new() }
}

/// Which list a `source` / `destination` element belongs to (its id key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PartyKey {
    Source,
    Destination,
}

/// One element of a `sourceList` or `destinationList` as written.
struct StreamedParty {
    /// Which id key it carried.
    key: PartyKey,
    /// `type` as written.
    party_type: String,
    /// The `source` / `destination` value as written.
    id: String,
}

impl<'de> Deserialize<'de> for StreamedParty {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PartyVisitor;
        impl<'de> Visitor<'de> for PartyVisitor {
            type Value = StreamedParty;
            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a source or destination object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let (mut party_type, mut id) = (None, None);
                while let Some(key) = map.next_key::<&'de str>()? {
                    match key {
                        "type" if party_type.is_none() => {
                            party_type = Some(map.next_value::<String>()?);
                        }
                        "source" if id.is_none() => {
                            id = Some((PartyKey::Source, map.next_value::<String>()?));
                        }
                        "destination" if id.is_none() => {
                            id = Some((PartyKey::Destination, map.next_value::<String>()?));
                        }
                        _ => return Err(not_streamed()),
                    }
                }
                let (Some(party_type), Some((key, id))) = (party_type, id) else {
                    return Err(not_streamed());
                };
                Ok(StreamedParty { key, party_type, id })
            }
        }
        deserializer.deserialize_map(PartyVisitor)
    }
}

fn parties<E: de::Error>(
    scope: &Scope,
    list_key: PartyKey,
    elements: Vec<StreamedParty>,
) -> Result<Vec<SourceDestination>, E> {
    elements
        .into_iter()
        .map(|party| {
            if party.key != list_key {
                return Err(not_streamed());
            }
            Ok(SourceDestination {
                source_destination_type: vocabulary(
                    scope,
                    VocabularyKind::SourceDestinationType,
                    party.party_type,
                ),
                id: iri(scope, party.id),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::read_event;
    use crate::epcis::{self, Event, Problem};

    /// The shared third-party test data, read in place.
    fn testdata() -> PathBuf {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/testdata"))
    }

    /// Every JSON(-LD) file under `directory`, sorted.
    fn json_files(directory: &Path) -> Vec<PathBuf> {
        let mut found = Vec::new();
        let mut pending = vec![directory.to_path_buf()];
        while let Some(current) = pending.pop() {
            for entry in std::fs::read_dir(&current).expect("a test data directory") {
                let path = entry.expect("a directory entry").path();
                if path.is_dir() {
                    pending.push(path);
                } else if path
                    .extension()
                    .is_some_and(|extension| extension == "json" || extension == "jsonld")
                {
                    found.push(path);
                }
            }
        }
        found.sort();
        found
    }

    /// The EPCIS documents of the test data (valid and invalid ones alike).
    fn epcis_documents() -> Vec<PathBuf> {
        let mut files = json_files(&testdata().join("epcis-event-hash"));
        files.extend(json_files(&testdata().join("epcis-openepcis/2.0/EPCIS/JSON")));
        assert!(files.len() > 50, "the EPCIS test documents are missing: {}", files.len());
        files
    }

    /// The event objects of a JSON document as written (a capture or query document's event
    /// list, or the document itself when it is one event).
    fn event_objects(root: &serde_json::Value) -> Vec<serde_json::Value> {
        let lists = [
            root.pointer("/epcisBody/eventList"),
            root.pointer("/epcisBody/queryResults/resultsBody/eventList"),
        ];
        if let Some(list) = lists.into_iter().flatten().find_map(serde_json::Value::as_array) {
            return list.clone();
        }
        if root.get("eventTime").is_some() { vec![root.clone()] } else { Vec::new() }
    }

    /// The strict tree reader, as `parse_event_json_bytes` falls back to it.
    fn tree_read(bytes: &[u8]) -> Result<Event, epcis::Error> {
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|error| {
            epcis::Error::document(Problem::Syntax { binding: "JSON", detail: error.to_string() })
        })?;
        epcis::parse_event_json(&value, &[])
    }

    /// Both readers on `bytes`: the streamed event, when there is one, is the tree's, and the
    /// public reader gives the tree's event or the tree's error. Returns whether it streamed.
    fn assert_same_reading(bytes: &[u8], origin: &str) -> bool {
        let tree = tree_read(bytes);
        let streamed = read_event(bytes);
        if let Some(streamed) = &streamed {
            assert_eq!(tree.as_ref().ok(), Some(streamed), "{origin}: streamed differently");
        }
        match (tree, epcis::parse_event_json_bytes(bytes)) {
            (Ok(tree), Ok(public)) => assert_eq!(tree, public, "{origin}"),
            (Err(tree), Err(public)) => {
                assert_eq!(tree.to_string(), public.to_string(), "{origin}");
            }
            (tree, public) => panic!("{origin}: tree {tree:?}, public reader {public:?}"),
        }
        streamed.is_some()
    }

    #[test]
    fn stored_events_of_every_test_document_stream_into_the_tree_readers_event() {
        let (mut events, mut streamed) = (0, 0);
        for path in epcis_documents() {
            let Ok(document) = epcis::parse_document(&std::fs::read(&path).expect("a document"))
            else {
                continue;
            };
            for (position, event) in document.events.iter().enumerate() {
                // What a capture stores: the event on its own with its namespaces declared.
                let stored = epcis::event_to_json_ld(event).to_string();
                let origin = format!("{} event {position}", path.display());
                assert!(tree_read(stored.as_bytes()).is_ok(), "{origin}: stored form rejected");
                events += 1;
                streamed += usize::from(assert_same_reading(stored.as_bytes(), &origin));
            }
        }
        assert!(events > 100, "too few events in the test documents: {events}");
        // Extensions, sensor data and error declarations are read by the tree reader's field
        // function from inside the stream, so nearly every stored event streams.
        assert!(streamed * 10 >= events * 9, "only {streamed} of {events} stored events streamed");
    }

    #[test]
    fn events_as_written_in_the_test_documents_read_the_same_or_fail_the_same() {
        let mut objects = 0;
        for path in epcis_documents() {
            let Ok(root) = serde_json::from_slice::<serde_json::Value>(
                &std::fs::read(&path).expect("a document"),
            ) else {
                continue;
            };
            for (position, object) in event_objects(&root).iter().enumerate() {
                let bytes = serde_json::to_vec(object).expect("a JSON value serialises");
                assert_same_reading(&bytes, &format!("{} event {position}", path.display()));
                objects += 1;
            }
        }
        assert!(objects > 100, "too few event objects in the test documents: {objects}");
    }

    /// A ~500-byte ObjectEvent shaped like the ones a joining node reads in bulk.
    const SHIPPING_EVENT: &str = concat!(
        r#"{"type":"ObjectEvent","eventTime":"2026-03-01T10:00:07.000Z","#,
        r#""eventTimeZoneOffset":"+00:00","#,
        r#""epcList":["https://id.gs1.org/01/09506000134352/21/7"],"#,
        r#""action":"OBSERVE","bizStep":"shipping","disposition":"in_transit","#,
        r#""readPoint":{"id":"https://id.gs1.org/414/9506000000009"},"#,
        r#""bizLocation":{"id":"https://id.gs1.org/414/9506000000009"},"#,
        r#""quantityList":[{"epcClass":"https://id.gs1.org/01/09506000134352/10/LOT-0","#,
        r#""quantity":107,"uom":"KGM"}],"#,
        r#""sourceList":[{"type":"owning_party","source":"https://id.gs1.org/417/9506000000009"}],"#,
        r#""destinationList":[{"type":"owning_party","#,
        r#""destination":"https://id.gs1.org/417/9506000000009"}]}"#
    );

    #[test]
    fn a_bulk_shipping_event_streams() {
        assert!(assert_same_reading(SHIPPING_EVENT.as_bytes(), "shipping event"));
        let event = read_event(SHIPPING_EVENT.as_bytes()).expect("streamed");
        assert_eq!(event.quantity_list[0].uom.as_deref(), Some("KGM"));
        assert_eq!(event.destination_list.len(), 1);
        assert_eq!(event.event_time.as_str(), "2026-03-01T10:00:07.000Z");
    }

    #[test]
    fn a_leading_context_expands_prefixes_and_a_late_one_is_left_to_the_tree() {
        let leading = concat!(
            r#"{"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld","#,
            r#"{"ex":"https://example.com/ns/"}],"type":"ObjectEvent","#,
            r#""eventTime":"2026-03-01T10:00:00Z","eventTimeZoneOffset":"+00:00","#,
            r#""epcList":["ex:item-1"],"action":"OBSERVE","ex:note":{"ex:level":3}}"#
        );
        assert!(assert_same_reading(leading.as_bytes(), "leading @context"));
        let event = read_event(leading.as_bytes()).expect("streamed");
        assert_eq!(event.epc_list, Some(vec!["https://example.com/ns/item-1".to_owned()]));
        assert_eq!(event.extensions.len(), 1);

        let late = concat!(
            r#"{"type":"ObjectEvent","eventTime":"2026-03-01T10:00:00Z","#,
            r#""eventTimeZoneOffset":"+00:00","epcList":["ex:item-1"],"action":"OBSERVE","#,
            r#""@context":{"ex":"https://example.com/ns/"}}"#
        );
        assert!(read_event(late.as_bytes()).is_none());
        assert!(!assert_same_reading(late.as_bytes(), "late @context"));
        let event = epcis::parse_event_json_bytes(late.as_bytes()).expect("read by the tree");
        assert_eq!(event.epc_list, Some(vec!["https://example.com/ns/item-1".to_owned()]));
    }

    #[test]
    fn a_repeated_key_reads_as_the_tree_reads_it() {
        let repeated = SHIPPING_EVENT.replacen(
            r#""action":"OBSERVE""#,
            r#""action":"ADD","action":"OBSERVE""#,
            1,
        );
        assert!(!assert_same_reading(repeated.as_bytes(), "repeated key"));
    }

    #[test]
    fn malformed_events_are_rejected_with_the_broken_rule() {
        let cases = [
            (SHIPPING_EVENT.replacen(r#""quantity":107"#, r#""quantity":"107""#, 1), "quantity"),
            (SHIPPING_EVENT.replacen(r#""action":"OBSERVE""#, r#""action":"LOOK""#, 1), "action"),
            (SHIPPING_EVENT.replacen(r#""eventTimeZoneOffset":"+00:00","#, "", 1), "missing"),
            (SHIPPING_EVENT.replacen(r#""source":"#, r#""destination":"#, 1), "sourceList[0]"),
            (SHIPPING_EVENT.replacen("2026-03-01T10:00:07.000Z", "yesterday", 1), "eventTime"),
            (SHIPPING_EVENT.replacen(r#""bizStep""#, r#""note":"x","bizStep""#, 1), "note"),
            (SHIPPING_EVENT.replacen(r#""epcList":["#, r#""epcList":[7,"#, 1), "epcList"),
            (SHIPPING_EVENT[..SHIPPING_EVENT.len() - 10].to_owned(), "not well-formed JSON"),
            (format!("{SHIPPING_EVENT} trailing"), "not well-formed JSON"),
            ("[1,2]".to_owned(), "an object"),
        ];
        for (bytes, named) in cases {
            assert!(read_event(bytes.as_bytes()).is_none(), "{bytes}: streamed");
            assert_same_reading(bytes.as_bytes(), &bytes);
            let error = epcis::parse_event_json_bytes(bytes.as_bytes())
                .expect_err("a malformed event is rejected");
            assert!(error.to_string().contains(named), "{bytes}: error {error} names {named}");
        }
    }
}
