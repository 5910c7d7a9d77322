//! The EPCIS 2.0 JSON-LD binding: `EPCISDocument` / `EPCISQueryDocument` bytes to the
//! binding-neutral [`Document`] and back, plus single events.
//!
//! Owns the JSON shape: `@context` handling (extension prefixes at document and event level,
//! the default prefixes of the GS1 context), which keys are standard, how extension keys become
//! [`QName`]s, and the JSON types of values (numbers must be JSON numbers). Does not own the
//! standard's rules beyond shape: [`super::validate`] checks those on the model, for both
//! bindings alike.
//!
//! Values are kept as written, with one deliberate exception: a CURIE in a field whose JSON-LD
//! type is an IRI (`epcList`, `readPoint.id`, a custom `bizStep`…) whose prefix the document
//! declares is expanded to the full IRI, because the model carries no `@context` and the value
//! would otherwise lose its meaning. Prefixes of the GS1 context itself (`cbv:`, `gs1:`) are
//! left as written; the vocabulary helpers understand them. The writer is that reading's
//! inverse: what it declares expands nothing the model holds as written (module
//! `json::context`), and numbers are written in JSON's grammar (`06.2` as `6.2`, the same
//! value). A key or string holding U+0000 is refused, naming the field: no XML document can
//! hold that character, and every event either binding reads can be written in both.

use serde_json::{Map, Number, Value};

use super::cbv::VocabularyKind;
use super::error::{Error, Problem};
use super::model::{
    Action, BizTransaction, Decimal, Document, DocumentKind, ErrorDeclaration, Event, EventType,
    ExtensionField, ExtensionValue, Location, MasterDataAttribute, Namespace,
    PersistentDisposition, QName, QuantityElement, SensorElement, SensorMetadata, SensorReport,
    SourceDestination, Timestamp, Vocabulary, VocabularyElement, VocabularyValue,
};
use super::validate::{self, invalid};

mod context;
mod stream;

use context::Context;

/// The ratified, versioned EPCIS 2.0.0 JSON-LD context; what the writer emits.
pub const EPCIS_CONTEXT_URL: &str =
    "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";

/// Prefixes the GS1 EPCIS context defines; usable without a declaration.
pub const DEFAULT_PREFIXES: &[(&str, &str)] = &[
    ("epcis", "https://ref.gs1.org/epcis/"),
    ("cbv", "https://ref.gs1.org/cbv/"),
    ("cbvmda", "urn:epcglobal:cbv:mda:"),
    ("gs1", "https://gs1.org/voc/"),
    ("rdfs", "http://www.w3.org/2000/01/rdf-schema#"),
    ("owl", "http://www.w3.org/2002/07/owl#"),
    ("xsd", "http://www.w3.org/2001/XMLSchema#"),
    ("dcterms", "http://purl.org/dc/terms/"),
];

/// Parses a JSON-LD `EPCISDocument` or `EPCISQueryDocument` and validates it.
pub fn parse_document(bytes: &[u8]) -> Result<Document, Error> {
    let root: Value = serde_json::from_slice(bytes).map_err(|error| {
        Error::document(Problem::Syntax { binding: "JSON", detail: error.to_string() })
    })?;
    let document = document_from_value(&root)?;
    validate::validate_document(&document)?;
    Ok(document)
}

/// Parses one JSON-LD event object (as stored or served on its own) and validates it.
/// `namespaces` are the prefixes in scope around it (a document's); an `@context` inside the
/// event adds to them. Errors are reported as event 0.
pub fn parse_event_json(value: &Value, namespaces: &[Namespace]) -> Result<Event, Error> {
    if let Some(problem) = nul_character_in(value, "", None) {
        return Err(Error::event(0, written_event_type(value), problem));
    }
    let scope = Scope { namespaces: namespaces.to_vec() };
    let event = event_from_value(value, &scope)
        .map_err(|problem| Error::event(0, written_event_type(value), problem))?;
    validate::validate_event(&event)
        .map_err(|problem| Error::event(0, event.event_type.name(), problem))?;
    Ok(event)
}

/// Reads one JSON-LD event object from its bytes (a stored payload, or a peer's) and validates
/// it: the same [`Event`], or the same error, as [`parse_event_json`] with no namespaces in
/// scope. Objects of the shapes events are written in are read straight into the model
/// without building a JSON tree first; anything else (a late `@context`, a repeated key, any
/// error) is read again through the tree, which accepts or reports it precisely.
pub fn parse_event_json_bytes(bytes: &[u8]) -> Result<Event, Error> {
    if let Some(event) = stream::read_event(bytes) {
        return Ok(event);
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|error| {
        Error::document(Problem::Syntax { binding: "JSON", detail: error.to_string() })
    })?;
    parse_event_json(&value, &[])
}

/// The document as JSON-LD, re-declaring its extension namespaces in `@context` (and, per
/// event, any prefix an event uses that the document does not declare). A prefix is declared
/// only where it expands no value the model holds literally (as XML holds `example:x`); a
/// name whose prefix cannot be declared so is written under a fresh one (module
/// `json::context`), so the document reads back with the same values and Event Hash IDs.
pub fn to_json_ld(document: &Document) -> Value {
    let mut document_names = Vec::new();
    context::names_in(&document.header_extensions, &mut document_names);
    context::names_in(&document.extensions, &mut document_names);
    for vocabulary in document.master_data.iter().flatten() {
        for element in &vocabulary.elements {
            for attribute in &element.attributes {
                context::names_in_value(&attribute.value, &mut document_names);
            }
            context::names_in(&element.extensions, &mut document_names);
        }
    }
    let values: Vec<&str> = document.events.iter().flat_map(context::expanded_values).collect();
    let context = Context::plan(None, &document.namespaces, &document_names, &values);
    let mut root = Map::new();
    root.insert("@context".to_owned(), context_value(&context.declared, true));
    root.insert("type".to_owned(), Value::from(document_type_name(&document.kind)));
    if let Some(id) = &document.id {
        root.insert("id".to_owned(), Value::from(id.as_str()));
    }
    root.insert("schemaVersion".to_owned(), Value::from(document.schema_version.as_str()));
    root.insert("creationDate".to_owned(), Value::from(document.creation_date.as_str()));
    let optional_strings = [
        ("instanceIdentifier", &document.instance_identifier),
        ("sender", &document.sender),
        ("receiver", &document.receiver),
    ];
    for (key, value) in optional_strings {
        if let Some(value) = value {
            root.insert(key.to_owned(), Value::from(value.as_str()));
        }
    }
    if document.master_data.is_some() || !document.header_extensions.is_empty() {
        let mut header = Map::new();
        if let Some(vocabularies) = &document.master_data {
            let mut master_data = Map::new();
            master_data
                .insert("vocabularyList".to_owned(), vocabularies_to_value(vocabularies, &context));
            header.insert("epcisMasterData".to_owned(), Value::Object(master_data));
        }
        insert_extensions(&mut header, &document.header_extensions, &context);
        root.insert("epcisHeader".to_owned(), Value::Object(header));
    }
    let events: Vec<Value> =
        document.events.iter().map(|event| event_value(event, Some(&context), false)).collect();
    root.insert("epcisBody".to_owned(), body_value(&document.kind, events));
    insert_extensions(&mut root, &document.extensions, &context);
    Value::Object(root)
}

/// An `EPCISDocument` around events already written as JSON-LD objects (each as
/// [`event_to_json_ld`] gives it, perhaps with fields added, such as an `eventID`): the EPCIS
/// context, schema version 2.0, `creationDate` as given and the events in order. The same
/// envelope [`to_json_ld`] writes for a capture document with no header, identifier or
/// extension namespaces, built without re-reading the events into the model.
pub fn document_envelope(creation_date: &str, events: Vec<Value>) -> Value {
    envelope(&DocumentKind::Capture, creation_date, events)
}

/// An `EPCISQueryDocument` answering the query `query_name` (no subscription) with events
/// already written as JSON-LD objects; otherwise as [`document_envelope`].
pub fn query_document_envelope(query_name: &str, creation_date: &str, events: Vec<Value>) -> Value {
    let kind = DocumentKind::Query { query_name: query_name.to_owned(), subscription_id: None };
    envelope(&kind, creation_date, events)
}

/// The envelope [`to_json_ld`] writes for a document of `kind` with nothing but events.
fn envelope(kind: &DocumentKind, creation_date: &str, events: Vec<Value>) -> Value {
    let mut root = Map::new();
    root.insert("@context".to_owned(), context_value(&[], true));
    root.insert("type".to_owned(), Value::from(document_type_name(kind)));
    root.insert("schemaVersion".to_owned(), Value::from(SCHEMA_VERSION));
    root.insert("creationDate".to_owned(), Value::from(creation_date));
    root.insert("epcisBody".to_owned(), body_value(kind, events));
    Value::Object(root)
}

/// The schema version this binding writes in the envelopes it builds.
const SCHEMA_VERSION: &str = "2.0";

/// The document's JSON-LD `type`.
fn document_type_name(kind: &DocumentKind) -> &'static str {
    match kind {
        DocumentKind::Capture => "EPCISDocument",
        DocumentKind::Query { .. } => "EPCISQueryDocument",
    }
}

/// `epcisBody`: the event list, inside `queryResults` for a query document.
fn body_value(kind: &DocumentKind, events: Vec<Value>) -> Value {
    let mut body = Map::new();
    match kind {
        DocumentKind::Capture => {
            body.insert("eventList".to_owned(), Value::Array(events));
        }
        DocumentKind::Query { query_name, subscription_id } => {
            let mut results = Map::new();
            results.insert("queryName".to_owned(), Value::from(query_name.as_str()));
            if let Some(subscription_id) = subscription_id {
                results.insert("subscriptionID".to_owned(), Value::from(subscription_id.as_str()));
            }
            let mut results_body = Map::new();
            results_body.insert("eventList".to_owned(), Value::Array(events));
            results.insert("resultsBody".to_owned(), Value::Object(results_body));
            body.insert("queryResults".to_owned(), Value::Object(results));
        }
    }
    Value::Object(body)
}

/// [`to_json_ld`] as compact JSON text.
pub fn to_json_ld_string(document: &Document) -> String {
    to_json_ld(document).to_string()
}

/// One event as a self-contained JSON-LD object: it carries its own `@context` (the EPCIS
/// context plus every prefix its extensions use), so it can be stored or served alone and read
/// back with [`parse_event_json`].
pub fn event_to_json_ld(event: &Event) -> Value {
    event_value(event, None, true)
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/// The prefixes in scope at some point of the document (declaration order; later wins).
#[derive(Debug, Clone, Default)]
struct Scope {
    namespaces: Vec<Namespace>,
}

impl Scope {
    /// This scope extended by an `@context` value (a URL, an object of prefixes, or an array
    /// of both). URLs are the GS1 context (or another remote context we do not fetch); objects
    /// declare prefixes. Term definitions that are not plain IRIs are ignored.
    fn extended_by(&self, context: &Value) -> Result<(Scope, Vec<Namespace>), Problem> {
        let mut declared = Vec::new();
        let entries: Vec<&Value> = match context {
            Value::Array(entries) => entries.iter().collect(),
            single => vec![single],
        };
        for entry in entries {
            match entry {
                Value::String(_) | Value::Null => {}
                Value::Object(definitions) => {
                    for (prefix, iri) in definitions {
                        if prefix.starts_with('@') {
                            continue;
                        }
                        if let Value::String(iri) = iri {
                            declared.push(Namespace { prefix: prefix.clone(), iri: iri.clone() });
                        }
                    }
                }
                _ => {
                    return Err(Problem::WrongShape {
                        field: "@context".to_owned(),
                        expected: "a context URL, an object of prefixes, or an array of those",
                    });
                }
            }
        }
        let mut namespaces = self.namespaces.clone();
        namespaces.extend(declared.iter().cloned());
        Ok((Scope { namespaces }, declared))
    }

    /// The IRI a declared prefix stands for (latest declaration wins).
    fn declared(&self, prefix: &str) -> Option<&str> {
        self.namespaces
            .iter()
            .rev()
            .find(|namespace| namespace.prefix == prefix)
            .map(|namespace| namespace.iri.as_str())
    }

    /// The IRI of a declared or default prefix.
    fn resolve(&self, prefix: &str) -> Option<String> {
        self.declared(prefix).map(str::to_owned).or_else(|| {
            DEFAULT_PREFIXES
                .iter()
                .find(|(default_prefix, _)| *default_prefix == prefix)
                .map(|(_, iri)| (*iri).to_owned())
        })
    }

    /// The [`QName`] of a JSON key: a CURIE with a known prefix, a full IRI, or (for nested
    /// extension content) a plain name without namespace. A CURIE with an undeclared prefix is
    /// an error: its meaning would be unknown.
    fn qname(&self, key: &str, field_path: &str) -> Result<QName, Problem> {
        let Some((prefix, local_name)) = key.split_once(':') else {
            return Ok(QName::new("", None, key));
        };
        if let Some(iri) = self.resolve(prefix) {
            return Ok(QName::new(iri, Some(prefix.to_owned()), local_name));
        }
        if local_name.starts_with("//") || prefix == "urn" {
            let split_at = key.rfind(['/', '#', ':']).map_or(key.len(), |position| position + 1);
            let (namespace_iri, local_name) = key.split_at(split_at);
            return Ok(QName::new(namespace_iri, None, local_name));
        }
        Err(Problem::FieldNotAllowed {
            field: join_path(field_path, key),
            rule: format!("prefix {prefix} is not declared in @context"),
        })
    }

    /// [`Self::expand_iri_value`] of a value already owned: kept as is unless it expands.
    fn expand_owned_iri_value(&self, value: String) -> String {
        if let Some((prefix, rest)) = value.split_once(':')
            && !rest.starts_with("//")
            && let Some(iri) = self.declared(prefix)
        {
            return format!("{iri}{rest}");
        }
        value
    }

    /// A value of an IRI-typed field, with a CURIE of a document-declared prefix expanded.
    fn expand_iri_value(&self, value: &str) -> String {
        if let Some((prefix, rest)) = value.split_once(':')
            && !rest.starts_with("//")
            && let Some(iri) = self.declared(prefix)
        {
            return format!("{iri}{rest}");
        }
        value.to_owned()
    }
}

fn join_path(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

fn wrong_shape(field: &str, expected: &'static str) -> Problem {
    Problem::WrongShape { field: field.to_owned(), expected }
}

fn as_object<'a>(value: &'a Value, field: &str) -> Result<&'a Map<String, Value>, Problem> {
    value.as_object().ok_or_else(|| wrong_shape(field, "an object"))
}

fn as_array<'a>(value: &'a Value, field: &str) -> Result<&'a Vec<Value>, Problem> {
    value.as_array().ok_or_else(|| wrong_shape(field, "an array"))
}

fn as_str<'a>(value: &'a Value, field: &str) -> Result<&'a str, Problem> {
    value.as_str().ok_or_else(|| wrong_shape(field, "a string"))
}

fn required<'a>(
    object: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a Value, Problem> {
    object.get(key).ok_or_else(|| Problem::MissingField(join_path(path, key)))
}

fn timestamp(value: &Value, field: &str) -> Result<Timestamp, Problem> {
    let text = as_str(value, field)?;
    Timestamp::parse(text.trim()).ok_or_else(|| {
        invalid(field, text, "is not a date-time with offset like 2024-05-01T10:00:00+02:00")
    })
}

/// A JSON number (strings are rejected: the schema types these fields as numbers).
fn decimal(value: &Value, field: &str) -> Result<Decimal, Problem> {
    match value {
        Value::Number(number) => Decimal::parse(&number.to_string())
            .ok_or_else(|| invalid(field, &number.to_string(), "is not a finite number")),
        Value::String(text) => Err(invalid(field, text, "is not a number")),
        _ => Err(wrong_shape(field, "a number")),
    }
}

fn iri(value: &Value, field: &str, scope: &Scope) -> Result<String, Problem> {
    Ok(scope.expand_iri_value(as_str(value, field)?))
}

fn iri_list(value: &Value, field: &str, scope: &Scope) -> Result<Vec<String>, Problem> {
    as_array(value, field)?
        .iter()
        .enumerate()
        .map(|(position, item)| iri(item, &format!("{field}[{position}]"), scope))
        .collect()
}

/// A vocabulary value: a bare word or IRI as written; a document-declared CURIE is expanded.
fn vocabulary(
    value: &Value,
    field: &str,
    kind: VocabularyKind,
    scope: &Scope,
) -> Result<VocabularyValue, Problem> {
    let written = as_str(value, field)?;
    if kind.standard_word(written).is_some() {
        return Ok(VocabularyValue::new(kind, written));
    }
    Ok(VocabularyValue::new(kind, scope.expand_iri_value(written)))
}

fn written_event_type(value: &Value) -> String {
    value.get("type").and_then(Value::as_str).unwrap_or("untyped").to_owned()
}

fn document_from_value(root: &Value) -> Result<Document, Error> {
    let document_error = Error::document;
    let object = as_object(root, "document").map_err(document_error)?;
    let context = object
        .get("@context")
        .ok_or_else(|| document_error(Problem::MissingField("@context".to_owned())))?;
    let (scope, namespaces) = Scope::default().extended_by(context).map_err(document_error)?;
    let type_name = as_str(required(object, "type", "").map_err(document_error)?, "type")
        .map_err(document_error)?;
    let body = as_object(required(object, "epcisBody", "").map_err(document_error)?, "epcisBody")
        .map_err(document_error)?;
    let mut master_data = None;
    // Namespaced extras inside `queryResults` (e.g. `ignoreFields`); kept as document extensions.
    let mut query_extensions = Vec::new();
    let (kind, event_values) = match type_name {
        "EPCISDocument" => {
            let events = required(body, "eventList", "epcisBody")
                .and_then(|events| as_array(events, "epcisBody.eventList"))
                .map_err(document_error)?;
            (DocumentKind::Capture, events)
        }
        "EPCISQueryDocument" => {
            let results = required(body, "queryResults", "epcisBody")
                .and_then(|results| as_object(results, "epcisBody.queryResults"))
                .map_err(document_error)?;
            let query_name = required(results, "queryName", "queryResults")
                .and_then(|name| as_str(name, "queryName"))
                .map_err(document_error)?
                .to_owned();
            for (key, value) in results {
                if !matches!(key.as_str(), "queryName" | "subscriptionID" | "resultsBody") {
                    query_extensions.push(
                        namespaced_field(key, value, "queryResults", &scope)
                            .map_err(document_error)?,
                    );
                }
            }
            let subscription_id = results
                .get("subscriptionID")
                .map(|id| as_str(id, "subscriptionID").map(str::to_owned))
                .transpose()
                .map_err(document_error)?;
            let results_body = required(results, "resultsBody", "queryResults")
                .and_then(|results_body| as_object(results_body, "resultsBody"))
                .map_err(document_error)?;
            if let Some(vocabulary_list) = results_body.get("vocabularyList") {
                master_data = Some(
                    vocabularies_from_value(vocabulary_list, "resultsBody.vocabularyList", &scope)
                        .map_err(document_error)?,
                );
            }
            let events = required(results_body, "eventList", "resultsBody")
                .and_then(|events| as_array(events, "resultsBody.eventList"))
                .map_err(document_error)?;
            (DocumentKind::Query { query_name, subscription_id }, events)
        }
        other => {
            return Err(document_error(invalid(
                "type",
                other,
                "is not EPCISDocument or EPCISQueryDocument",
            )));
        }
    };
    let schema_version = required(object, "schemaVersion", "")
        .and_then(|version| match version {
            Value::String(text) => Ok(text.clone()),
            Value::Number(number) => Ok(number.to_string()),
            _ => Err(wrong_shape("schemaVersion", "a string")),
        })
        .map_err(document_error)?;
    let creation_date = required(object, "creationDate", "")
        .and_then(|date| timestamp(date, "creationDate"))
        .map_err(document_error)?;
    let mut document = Document {
        kind,
        schema_version,
        creation_date,
        namespaces,
        id: None,
        instance_identifier: None,
        sender: None,
        receiver: None,
        master_data,
        header_extensions: Vec::new(),
        events: Vec::with_capacity(event_values.len()),
        extensions: query_extensions,
    };
    for (key, value) in object {
        match key.as_str() {
            "@context" | "type" | "schemaVersion" | "creationDate" | "epcisBody" => {}
            "id" => document.id = Some(as_str(value, key).map_err(document_error)?.to_owned()),
            "instanceIdentifier" => {
                document.instance_identifier =
                    Some(as_str(value, key).map_err(document_error)?.to_owned());
            }
            "sender" => {
                document.sender = Some(as_str(value, key).map_err(document_error)?.to_owned());
            }
            "receiver" => {
                document.receiver = Some(as_str(value, key).map_err(document_error)?.to_owned());
            }
            "epcisHeader" => {
                read_header(value, &scope, &mut document).map_err(document_error)?;
            }
            other => {
                let field = namespaced_field(other, value, "", &scope).map_err(document_error)?;
                document.extensions.push(field);
            }
        }
    }
    for (index, event_value) in event_values.iter().enumerate() {
        if let Some(problem) = nul_character_in(event_value, "", None) {
            return Err(Error::event(index, written_event_type(event_value), problem));
        }
        // Each event is validated as soon as it is read, so the error reported is the first
        // broken rule in document order.
        let event = event_from_value(event_value, &scope)
            .and_then(|event| validate::validate_event(&event).map(|()| event))
            .map_err(|problem| Error::event(index, written_event_type(event_value), problem))?;
        document.events.push(event);
    }
    if let Some(problem) = nul_character_in(root, "", Some(event_values)) {
        return Err(Error::document(problem));
    }
    Ok(document)
}

/// The first key or string in `value` (at `path`; `skipped`, an array already judged, left
/// out) holding U+0000: no XML document can hold that character, not even as a reference, so
/// a model holding it could not be written in the other binding.
fn nul_character_in(value: &Value, path: &str, skipped: Option<&Vec<Value>>) -> Option<Problem> {
    const RULE: &str = "holds U+0000, a character no XML document can hold";
    match value {
        Value::String(text) if text.contains('\0') => Some(invalid(path, text, RULE)),
        Value::Array(items) if !skipped.is_some_and(|skipped| std::ptr::eq(items, skipped)) => {
            items.iter().enumerate().find_map(|(position, item)| {
                nul_character_in(item, &format!("{path}[{position}]"), skipped)
            })
        }
        Value::Object(object) => object.iter().find_map(|(key, item)| {
            let item_path = join_path(path, key);
            if key.contains('\0') {
                return Some(Problem::FieldNotAllowed { field: item_path, rule: RULE.to_owned() });
            }
            nul_character_in(item, &item_path, skipped)
        }),
        _ => None,
    }
}

fn read_header(value: &Value, scope: &Scope, document: &mut Document) -> Result<(), Problem> {
    for (key, value) in as_object(value, "epcisHeader")? {
        if key == "epcisMasterData" {
            let master_data = as_object(value, "epcisHeader.epcisMasterData")?;
            let vocabulary_list =
                required(master_data, "vocabularyList", "epcisHeader.epcisMasterData")?;
            document.master_data =
                Some(vocabularies_from_value(vocabulary_list, "vocabularyList", scope)?);
        } else {
            let field = namespaced_field(key, value, "epcisHeader", scope)?;
            document.header_extensions.push(field);
        }
    }
    Ok(())
}

fn vocabularies_from_value(
    value: &Value,
    field: &str,
    scope: &Scope,
) -> Result<Vec<Vocabulary>, Problem> {
    let mut vocabularies = Vec::new();
    for (position, vocabulary_value) in as_array(value, field)?.iter().enumerate() {
        let path = format!("{field}[{position}]");
        let object = as_object(vocabulary_value, &path)?;
        let vocabulary_type = as_str(required(object, "type", &path)?, &path)?.to_owned();
        let mut elements = Vec::new();
        if let Some(element_list) = object.get("vocabularyElementList") {
            for (element_position, element_value) in
                as_array(element_list, &path)?.iter().enumerate()
            {
                let element_path = format!("{path}.vocabularyElementList[{element_position}]");
                elements.push(vocabulary_element(element_value, &element_path, scope)?);
            }
        }
        vocabularies.push(Vocabulary { vocabulary_type, elements });
    }
    Ok(vocabularies)
}

fn vocabulary_element(
    value: &Value,
    path: &str,
    scope: &Scope,
) -> Result<VocabularyElement, Problem> {
    let object = as_object(value, path)?;
    let id = as_str(required(object, "id", path)?, path)?.to_owned();
    let mut element = VocabularyElement {
        id,
        attributes: Vec::new(),
        children: Vec::new(),
        extensions: Vec::new(),
    };
    for (key, value) in object {
        match key.as_str() {
            "id" => {}
            "attributes" => {
                for (position, attribute) in as_array(value, path)?.iter().enumerate() {
                    let attribute_path = format!("{path}.attributes[{position}]");
                    let attribute_object = as_object(attribute, &attribute_path)?;
                    let attribute_id = as_str(
                        required(attribute_object, "id", &attribute_path)?,
                        &attribute_path,
                    )?;
                    let attribute_value = required(attribute_object, "attribute", &attribute_path)?;
                    element.attributes.push(MasterDataAttribute {
                        id: attribute_id.to_owned(),
                        value: extension_value(attribute_value, &attribute_path, scope)?,
                    });
                }
            }
            "children" => {
                element.children = as_array(value, path)?
                    .iter()
                    .map(|child| as_str(child, path).map(str::to_owned))
                    .collect::<Result<_, _>>()?;
            }
            other => element.extensions.push(namespaced_field(other, value, path, scope)?),
        }
    }
    Ok(element)
}

/// An extension field (any key) with its value.
fn namespaced_field(
    key: &str,
    value: &Value,
    path: &str,
    scope: &Scope,
) -> Result<ExtensionField, Problem> {
    let name = scope.qname(key, path)?;
    let value = extension_value(value, &join_path(path, key), scope)?;
    Ok(ExtensionField { name, value })
}

fn extension_fields(
    object: &Map<String, Value>,
    path: &str,
    scope: &Scope,
) -> Result<Vec<ExtensionField>, Problem> {
    object
        .iter()
        .filter(|(key, _)| !key.starts_with('@'))
        .map(|(key, value)| namespaced_field(key, value, path, scope))
        .collect()
}

fn extension_value(value: &Value, path: &str, scope: &Scope) -> Result<ExtensionValue, Problem> {
    Ok(match value {
        Value::String(text) => ExtensionValue::Text(text.clone()),
        Value::Number(number) => ExtensionValue::Number(
            Decimal::parse(&number.to_string())
                .ok_or_else(|| invalid(path, &number.to_string(), "is not a finite number"))?,
        ),
        Value::Bool(flag) => ExtensionValue::Boolean(*flag),
        Value::Object(object) => ExtensionValue::Object(extension_fields(object, path, scope)?),
        Value::Array(items) => ExtensionValue::List(
            items
                .iter()
                .map(|item| extension_value(item, path, scope))
                .collect::<Result<_, _>>()?,
        ),
        Value::Null => return Err(wrong_shape(path, "a value, not null")),
    })
}

fn event_from_value(value: &Value, outer_scope: &Scope) -> Result<Event, Problem> {
    let object = as_object(value, "event")?;
    let scope = match object.get("@context") {
        Some(context) => outer_scope.extended_by(context)?.0,
        None => outer_scope.clone(),
    };
    let type_name = as_str(required(object, "type", "")?, "type")?;
    let event_type = EventType::from_name(type_name)
        .ok_or_else(|| invalid("type", type_name, "is not an EPCIS 2.0 event type"))?;
    let event_time = timestamp(required(object, "eventTime", "")?, "eventTime")?;
    let mut event = Event::new(event_type, event_time);
    event.event_time_zone_offset =
        as_str(required(object, "eventTimeZoneOffset", "")?, "eventTimeZoneOffset")?.to_owned();
    for (key, value) in object {
        match key.as_str() {
            "@context" | "type" | "eventTime" | "eventTimeZoneOffset" => {}
            field => set_event_field(&mut event, field, value, &scope)?,
        }
    }
    Ok(event)
}

/// Reads one field of an event object other than `@context`, `type`, `eventTime` and
/// `eventTimeZoneOffset` (which decide the event's scope and type, and are read first) into
/// `event`. Shared by the tree reader and the streaming reader ([`stream`]), which hands it
/// the fields it does not stream itself, so both read every field the same way.
fn set_event_field(
    event: &mut Event,
    field: &str,
    value: &Value,
    scope: &Scope,
) -> Result<(), Problem> {
    let event_type = event.event_type;
    match field {
        "recordTime" => event.record_time = Some(timestamp(value, field)?),
        "eventID" => event.event_id = Some(iri(value, field, scope)?),
        "certificationInfo" => {
            event.certification_info = match value {
                Value::Array(_) => iri_list(value, field, scope)?,
                Value::String(_) => vec![iri(value, field, scope)?],
                _ => return Err(wrong_shape(field, "a URI or an array of URIs")),
            };
        }
        "errorDeclaration" => {
            event.error_declaration = Some(error_declaration(value, scope)?);
        }
        "action" => {
            let written = as_str(value, field)?;
            event.action = Some(
                Action::from_name(written)
                    .ok_or_else(|| invalid(field, written, "is not ADD, OBSERVE or DELETE"))?,
            );
        }
        "epcList" => event.epc_list = Some(iri_list(value, field, scope)?),
        "parentID" => event.parent_id = Some(iri(value, field, scope)?),
        "childEPCs" => event.child_epcs = Some(iri_list(value, field, scope)?),
        "inputEPCList" => event.input_epc_list = Some(iri_list(value, field, scope)?),
        "outputEPCList" => event.output_epc_list = Some(iri_list(value, field, scope)?),
        "quantityList" => event.quantity_list = quantity_list(value, field, scope)?,
        "childQuantityList" => event.child_quantity_list = quantity_list(value, field, scope)?,
        "inputQuantityList" => event.input_quantity_list = quantity_list(value, field, scope)?,
        "outputQuantityList" => {
            event.output_quantity_list = quantity_list(value, field, scope)?;
        }
        "transformationID" => event.transformation_id = Some(iri(value, field, scope)?),
        "bizStep" => {
            event.biz_step = Some(vocabulary(value, field, VocabularyKind::BizStep, scope)?);
        }
        "disposition" => {
            event.disposition = Some(vocabulary(value, field, VocabularyKind::Disposition, scope)?);
        }
        "persistentDisposition" => {
            event.persistent_disposition = Some(persistent_disposition(value, scope)?);
        }
        "readPoint" => event.read_point = Some(location(value, field, scope)?),
        "bizLocation" => event.biz_location = Some(location(value, field, scope)?),
        "bizTransactionList" => {
            event.biz_transaction_list = biz_transaction_list(value, scope)?;
        }
        "sourceList" => {
            event.source_list = source_destination_list(value, "sourceList", "source", scope)?;
        }
        "destinationList" => {
            event.destination_list =
                source_destination_list(value, "destinationList", "destination", scope)?;
        }
        "sensorElementList" => {
            event.sensor_element_list = as_array(value, field)?
                .iter()
                .enumerate()
                .map(|(position, element)| {
                    sensor_element(element, &format!("sensorElementList[{position}]"), scope)
                })
                .collect::<Result<_, _>>()?;
        }
        "ilmd" => {
            event.ilmd = Some(extension_fields(as_object(value, field)?, field, scope)?);
        }
        other => {
            let extension = namespaced_field(other, value, "", scope)?;
            if extension.name.namespace_iri.is_empty() {
                return Err(Problem::FieldNotAllowed {
                    field: other.to_owned(),
                    rule: format!(
                        "is not a field of {event_type}; extension fields must be namespaced (prefix:name)"
                    ),
                });
            }
            event.extensions.push(extension);
        }
    }
    Ok(())
}

fn error_declaration(value: &Value, scope: &Scope) -> Result<ErrorDeclaration, Problem> {
    let path = "errorDeclaration";
    let object = as_object(value, path)?;
    let declaration_time =
        timestamp(required(object, "declarationTime", path)?, "errorDeclaration.declarationTime")?;
    let mut declaration = ErrorDeclaration {
        declaration_time,
        reason: None,
        corrective_event_ids: Vec::new(),
        extensions: Vec::new(),
    };
    for (key, value) in object {
        match key.as_str() {
            "declarationTime" => {}
            "reason" => {
                declaration.reason = Some(vocabulary(
                    value,
                    "errorDeclaration.reason",
                    VocabularyKind::ErrorReason,
                    scope,
                )?);
            }
            "correctiveEventIDs" => {
                declaration.corrective_event_ids =
                    iri_list(value, "errorDeclaration.correctiveEventIDs", scope)?;
            }
            other => declaration.extensions.push(namespaced_field(other, value, path, scope)?),
        }
    }
    Ok(declaration)
}

fn quantity_list(
    value: &Value,
    field: &str,
    scope: &Scope,
) -> Result<Vec<QuantityElement>, Problem> {
    let mut elements = Vec::new();
    for (position, item) in as_array(value, field)?.iter().enumerate() {
        let path = format!("{field}[{position}]");
        let object = as_object(item, &path)?;
        let epc_class =
            iri(required(object, "epcClass", &path)?, &format!("{path}.epcClass"), scope)?;
        let mut element = QuantityElement { epc_class, quantity: None, uom: None };
        for (key, value) in object {
            match key.as_str() {
                "epcClass" => {}
                "quantity" => element.quantity = Some(decimal(value, &format!("{path}.quantity"))?),
                "uom" => element.uom = Some(as_str(value, &format!("{path}.uom"))?.to_owned()),
                other => {
                    return Err(Problem::FieldNotAllowed {
                        field: format!("{path}.{other}"),
                        rule: "is not a field of quantityElement (epcClass, quantity, uom)"
                            .to_owned(),
                    });
                }
            }
        }
        elements.push(element);
    }
    Ok(elements)
}

fn persistent_disposition(value: &Value, scope: &Scope) -> Result<PersistentDisposition, Problem> {
    let path = "persistentDisposition";
    let object = as_object(value, path)?;
    let mut disposition = PersistentDisposition { set: Vec::new(), unset: Vec::new() };
    for (key, value) in object {
        let field = format!("{path}.{key}");
        let values = match key.as_str() {
            "set" => &mut disposition.set,
            "unset" => &mut disposition.unset,
            _ => {
                return Err(Problem::FieldNotAllowed {
                    field,
                    rule: "is not a field of persistentDisposition (set, unset)".to_owned(),
                });
            }
        };
        for item in as_array(value, &field)? {
            values.push(vocabulary(item, &field, VocabularyKind::Disposition, scope)?);
        }
    }
    Ok(disposition)
}

fn location(value: &Value, field: &str, scope: &Scope) -> Result<Location, Problem> {
    let object = as_object(value, field)?;
    let id = iri(required(object, "id", field)?, &format!("{field}.id"), scope)?;
    let mut location = Location { id, extensions: Vec::new() };
    for (key, value) in object {
        if key != "id" && !key.starts_with('@') {
            location.extensions.push(namespaced_field(key, value, field, scope)?);
        }
    }
    Ok(location)
}

fn biz_transaction_list(value: &Value, scope: &Scope) -> Result<Vec<BizTransaction>, Problem> {
    let field = "bizTransactionList";
    let mut transactions = Vec::new();
    for (position, item) in as_array(value, field)?.iter().enumerate() {
        let path = format!("{field}[{position}]");
        let object = as_object(item, &path)?;
        let mut transaction = BizTransaction {
            transaction_type: None,
            value: iri(required(object, "bizTransaction", &path)?, &path, scope)?,
        };
        for (key, value) in object {
            match key.as_str() {
                "bizTransaction" => {}
                "type" => {
                    transaction.transaction_type = Some(vocabulary(
                        value,
                        &format!("{path}.type"),
                        VocabularyKind::BizTransactionType,
                        scope,
                    )?);
                }
                other => {
                    return Err(Problem::FieldNotAllowed {
                        field: format!("{path}.{other}"),
                        rule: "is not a field of bizTransaction (type, bizTransaction)".to_owned(),
                    });
                }
            }
        }
        transactions.push(transaction);
    }
    Ok(transactions)
}

fn source_destination_list(
    value: &Value,
    field: &str,
    id_key: &str,
    scope: &Scope,
) -> Result<Vec<SourceDestination>, Problem> {
    let mut entries = Vec::new();
    for (position, item) in as_array(value, field)?.iter().enumerate() {
        let path = format!("{field}[{position}]");
        let object = as_object(item, &path)?;
        for key in object.keys() {
            if key != "type" && key != id_key {
                return Err(Problem::FieldNotAllowed {
                    field: format!("{path}.{key}"),
                    rule: format!("is not a field of {id_key} (type, {id_key})"),
                });
            }
        }
        let source_destination_type = vocabulary(
            required(object, "type", &path)?,
            &format!("{path}.type"),
            VocabularyKind::SourceDestinationType,
            scope,
        )?;
        let id = iri(required(object, id_key, &path)?, &format!("{path}.{id_key}"), scope)?;
        entries.push(SourceDestination { source_destination_type, id });
    }
    Ok(entries)
}

fn sensor_element(value: &Value, path: &str, scope: &Scope) -> Result<SensorElement, Problem> {
    let object = as_object(value, path)?;
    let mut element =
        SensorElement { sensor_metadata: None, sensor_report: Vec::new(), extensions: Vec::new() };
    for (key, value) in object {
        match key.as_str() {
            "sensorMetadata" => {
                element.sensor_metadata =
                    Some(sensor_metadata(value, &format!("{path}.sensorMetadata"), scope)?);
            }
            "sensorReport" => {
                element.sensor_report = as_array(value, &format!("{path}.sensorReport"))?
                    .iter()
                    .enumerate()
                    .map(|(position, report)| {
                        sensor_report(report, &format!("{path}.sensorReport[{position}]"), scope)
                    })
                    .collect::<Result<_, _>>()?;
            }
            other if other.starts_with('@') => {}
            other => element.extensions.push(namespaced_field(other, value, path, scope)?),
        }
    }
    Ok(element)
}

fn sensor_metadata(value: &Value, path: &str, scope: &Scope) -> Result<SensorMetadata, Problem> {
    let mut metadata = SensorMetadata::default();
    for (key, value) in as_object(value, path)? {
        let field = format!("{path}.{key}");
        match key.as_str() {
            "time" => metadata.time = Some(timestamp(value, &field)?),
            "startTime" => metadata.start_time = Some(timestamp(value, &field)?),
            "endTime" => metadata.end_time = Some(timestamp(value, &field)?),
            "deviceID" => metadata.device_id = Some(iri(value, &field, scope)?),
            "deviceMetadata" => metadata.device_metadata = Some(iri(value, &field, scope)?),
            "rawData" => metadata.raw_data = Some(iri(value, &field, scope)?),
            "dataProcessingMethod" => {
                metadata.data_processing_method = Some(iri(value, &field, scope)?);
            }
            "bizRules" => metadata.biz_rules = Some(iri(value, &field, scope)?),
            other if other.starts_with('@') => {}
            other => metadata.extensions.push(namespaced_field(other, value, path, scope)?),
        }
    }
    Ok(metadata)
}

fn sensor_report(value: &Value, path: &str, scope: &Scope) -> Result<SensorReport, Problem> {
    let mut report = SensorReport::default();
    for (key, value) in as_object(value, path)? {
        let field = format!("{path}.{key}");
        match key.as_str() {
            "type" => {
                report.measurement_type =
                    Some(vocabulary(value, &field, VocabularyKind::MeasurementType, scope)?);
            }
            "exception" => {
                report.exception =
                    Some(vocabulary(value, &field, VocabularyKind::SensorAlertType, scope)?);
            }
            "component" => {
                report.component =
                    Some(vocabulary(value, &field, VocabularyKind::Component, scope)?);
            }
            "deviceID" => report.device_id = Some(iri(value, &field, scope)?),
            "deviceMetadata" => report.device_metadata = Some(iri(value, &field, scope)?),
            "rawData" => report.raw_data = Some(iri(value, &field, scope)?),
            "dataProcessingMethod" => {
                report.data_processing_method = Some(iri(value, &field, scope)?)
            }
            "bizRules" => report.biz_rules = Some(iri(value, &field, scope)?),
            "time" => report.time = Some(timestamp(value, &field)?),
            "microorganism" => report.microorganism = Some(iri(value, &field, scope)?),
            "chemicalSubstance" => report.chemical_substance = Some(iri(value, &field, scope)?),
            "value" => report.value = Some(decimal(value, &field)?),
            "stringValue" => report.string_value = Some(as_str(value, &field)?.to_owned()),
            "booleanValue" => {
                report.boolean_value =
                    Some(value.as_bool().ok_or_else(|| wrong_shape(&field, "true or false"))?);
            }
            "hexBinaryValue" => report.hex_binary_value = Some(as_str(value, &field)?.to_owned()),
            "uriValue" => report.uri_value = Some(iri(value, &field, scope)?),
            "minValue" => report.min_value = Some(decimal(value, &field)?),
            "maxValue" => report.max_value = Some(decimal(value, &field)?),
            "meanValue" => report.mean_value = Some(decimal(value, &field)?),
            "sDev" => report.s_dev = Some(decimal(value, &field)?),
            "percRank" => report.perc_rank = Some(decimal(value, &field)?),
            "percValue" => report.perc_value = Some(decimal(value, &field)?),
            "uom" => report.uom = Some(as_str(value, &field)?.to_owned()),
            "coordinateReferenceSystem" => {
                report.coordinate_reference_system = Some(iri(value, &field, scope)?);
            }
            other if other.starts_with('@') => {}
            other => report.extensions.push(namespaced_field(other, value, path, scope)?),
        }
    }
    Ok(report)
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/// The `@context` array: the EPCIS context URL (when `with_epcis_context`) and one object per
/// namespace, in declaration order.
fn context_value(namespaces: &[Namespace], with_epcis_context: bool) -> Value {
    let mut entries = Vec::new();
    if with_epcis_context {
        entries.push(Value::from(EPCIS_CONTEXT_URL));
    }
    for namespace in namespaces {
        let mut declaration = Map::new();
        declaration.insert(namespace.prefix.clone(), Value::from(namespace.iri.as_str()));
        entries.push(Value::Object(declaration));
    }
    Value::Array(entries)
}

/// One event's JSON-LD inside `outer` (the document's context; `None` for an event written
/// alone, which then carries the EPCIS context itself). The event declares what its names
/// need beyond `outer` ([`Context::plan`]).
fn event_value(event: &Event, outer: Option<&Context>, standalone: bool) -> Value {
    let mut object = Map::new();
    let names = context::event_names(event);
    let values = context::expanded_values(event);
    let context = Context::plan(outer, &[], &names, &values);
    if standalone || !context.declared.is_empty() {
        object.insert("@context".to_owned(), context_value(&context.declared, standalone));
    }
    object.insert("type".to_owned(), Value::from(event.event_type.name()));
    object.insert("eventTime".to_owned(), Value::from(event.event_time.as_str()));
    if let Some(record_time) = &event.record_time {
        object.insert("recordTime".to_owned(), Value::from(record_time.as_str()));
    }
    object.insert(
        "eventTimeZoneOffset".to_owned(),
        Value::from(event.event_time_zone_offset.as_str()),
    );
    if let Some(event_id) = &event.event_id {
        object.insert("eventID".to_owned(), Value::from(event_id.as_str()));
    }
    match event.certification_info.as_slice() {
        [] => {}
        [single] => {
            object.insert("certificationInfo".to_owned(), Value::from(single.as_str()));
        }
        many => {
            object.insert("certificationInfo".to_owned(), strings_value(many));
        }
    }
    if let Some(declaration) = &event.error_declaration {
        let mut declaration_object = Map::new();
        declaration_object.insert(
            "declarationTime".to_owned(),
            Value::from(declaration.declaration_time.as_str()),
        );
        if let Some(reason) = &declaration.reason {
            declaration_object.insert("reason".to_owned(), Value::from(reason.written.as_str()));
        }
        if !declaration.corrective_event_ids.is_empty() {
            declaration_object.insert(
                "correctiveEventIDs".to_owned(),
                strings_value(&declaration.corrective_event_ids),
            );
        }
        insert_extensions(&mut declaration_object, &declaration.extensions, &context);
        object.insert("errorDeclaration".to_owned(), Value::Object(declaration_object));
    }
    if let Some(parent_id) = &event.parent_id {
        object.insert("parentID".to_owned(), Value::from(parent_id.as_str()));
    }
    let epc_lists = [
        ("epcList", &event.epc_list),
        ("childEPCs", &event.child_epcs),
        ("inputEPCList", &event.input_epc_list),
        ("outputEPCList", &event.output_epc_list),
    ];
    for (key, epcs) in epc_lists {
        if let Some(epcs) = epcs {
            object.insert(key.to_owned(), strings_value(epcs));
        }
    }
    let quantity_lists = [
        ("quantityList", &event.quantity_list),
        ("childQuantityList", &event.child_quantity_list),
        ("inputQuantityList", &event.input_quantity_list),
        ("outputQuantityList", &event.output_quantity_list),
    ];
    for (key, quantity_list) in quantity_lists {
        if !quantity_list.is_empty() {
            let items = quantity_list.iter().map(quantity_element_value).collect();
            object.insert(key.to_owned(), Value::Array(items));
        }
    }
    if let Some(action) = event.action {
        object.insert("action".to_owned(), Value::from(action.name()));
    }
    if let Some(transformation_id) = &event.transformation_id {
        object.insert("transformationID".to_owned(), Value::from(transformation_id.as_str()));
    }
    if let Some(biz_step) = &event.biz_step {
        object.insert("bizStep".to_owned(), Value::from(biz_step.written.as_str()));
    }
    if let Some(disposition) = &event.disposition {
        object.insert("disposition".to_owned(), Value::from(disposition.written.as_str()));
    }
    if let Some(persistent) = &event.persistent_disposition {
        let mut persistent_object = Map::new();
        for (key, values) in [("set", &persistent.set), ("unset", &persistent.unset)] {
            if !values.is_empty() {
                let written = values.iter().map(|value| Value::from(value.written.as_str()));
                persistent_object.insert(key.to_owned(), Value::Array(written.collect()));
            }
        }
        object.insert("persistentDisposition".to_owned(), Value::Object(persistent_object));
    }
    for (key, location) in [("readPoint", &event.read_point), ("bizLocation", &event.biz_location)]
    {
        if let Some(location) = location {
            let mut location_object = Map::new();
            location_object.insert("id".to_owned(), Value::from(location.id.as_str()));
            insert_extensions(&mut location_object, &location.extensions, &context);
            object.insert(key.to_owned(), Value::Object(location_object));
        }
    }
    if !event.biz_transaction_list.is_empty() {
        let items = event.biz_transaction_list.iter().map(|transaction| {
            let mut item = Map::new();
            if let Some(transaction_type) = &transaction.transaction_type {
                item.insert("type".to_owned(), Value::from(transaction_type.written.as_str()));
            }
            item.insert("bizTransaction".to_owned(), Value::from(transaction.value.as_str()));
            Value::Object(item)
        });
        object.insert("bizTransactionList".to_owned(), Value::Array(items.collect()));
    }
    let party_lists = [
        ("sourceList", "source", &event.source_list),
        ("destinationList", "destination", &event.destination_list),
    ];
    for (key, id_key, entries) in party_lists {
        if !entries.is_empty() {
            let items = entries.iter().map(|entry| {
                let mut item = Map::new();
                item.insert(
                    "type".to_owned(),
                    Value::from(entry.source_destination_type.written.as_str()),
                );
                item.insert(id_key.to_owned(), Value::from(entry.id.as_str()));
                Value::Object(item)
            });
            object.insert(key.to_owned(), Value::Array(items.collect()));
        }
    }
    if !event.sensor_element_list.is_empty() {
        let items = event
            .sensor_element_list
            .iter()
            .map(|element| sensor_element_value(element, &context))
            .collect();
        object.insert("sensorElementList".to_owned(), Value::Array(items));
    }
    if let Some(ilmd) = &event.ilmd {
        let mut ilmd_object = Map::new();
        insert_extensions(&mut ilmd_object, ilmd, &context);
        object.insert("ilmd".to_owned(), Value::Object(ilmd_object));
    }
    insert_extensions(&mut object, &event.extensions, &context);
    Value::Object(object)
}

fn strings_value(strings: &[String]) -> Value {
    Value::Array(strings.iter().map(|text| Value::from(text.as_str())).collect())
}

fn quantity_element_value(element: &QuantityElement) -> Value {
    let mut object = Map::new();
    object.insert("epcClass".to_owned(), Value::from(element.epc_class.as_str()));
    if let Some(quantity) = &element.quantity {
        object.insert("quantity".to_owned(), number_value(quantity));
    }
    if let Some(uom) = &element.uom {
        object.insert("uom".to_owned(), Value::from(uom.as_str()));
    }
    Value::Object(object)
}

/// A [`Decimal`] as a JSON number: its text in JSON's number grammar
/// ([`json_number_text`]), re-read by serde_json. A number beyond `f64` (which neither
/// binding's reader gives a standard field) stays a string.
fn number_value(decimal: &Decimal) -> Value {
    json_number_text(decimal.as_str())
        .parse::<Number>()
        .map(Value::Number)
        .unwrap_or_else(|_| Value::from(decimal.as_str()))
}

/// The same number in JSON's grammar: `xsd:decimal` also allows a leading `+`, leading zeros
/// (`06.2`), and a missing integer or fraction part (`.5`, `5.`), which JSON does not. The
/// value is unchanged, and so is the Event Hash ID, which hashes numbers by value.
fn json_number_text(text: &str) -> String {
    let unsigned = text.strip_prefix('+').unwrap_or(text);
    let (sign, unsigned) = match unsigned.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", unsigned),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(split) => unsigned.split_at(split),
        None => (unsigned, ""),
    };
    let (integer_part, fraction_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let integer_part = integer_part.trim_start_matches('0');
    let integer_part = if integer_part.is_empty() { "0" } else { integer_part };
    let point = if fraction_part.is_empty() { "" } else { "." };
    format!("{sign}{integer_part}{point}{fraction_part}{exponent}")
}

fn sensor_element_value(element: &SensorElement, context: &Context) -> Value {
    let mut object = Map::new();
    if let Some(metadata) = &element.sensor_metadata {
        let mut metadata_object = Map::new();
        let times = [
            ("time", &metadata.time),
            ("startTime", &metadata.start_time),
            ("endTime", &metadata.end_time),
        ];
        for (key, time) in times {
            if let Some(time) = time {
                metadata_object.insert(key.to_owned(), Value::from(time.as_str()));
            }
        }
        let strings = [
            ("deviceID", &metadata.device_id),
            ("deviceMetadata", &metadata.device_metadata),
            ("rawData", &metadata.raw_data),
            ("dataProcessingMethod", &metadata.data_processing_method),
            ("bizRules", &metadata.biz_rules),
        ];
        for (key, text) in strings {
            if let Some(text) = text {
                metadata_object.insert(key.to_owned(), Value::from(text.as_str()));
            }
        }
        insert_extensions(&mut metadata_object, &metadata.extensions, context);
        object.insert("sensorMetadata".to_owned(), Value::Object(metadata_object));
    }
    let reports = element.sensor_report.iter().map(|report| sensor_report_value(report, context));
    object.insert("sensorReport".to_owned(), Value::Array(reports.collect()));
    insert_extensions(&mut object, &element.extensions, context);
    Value::Object(object)
}

fn sensor_report_value(report: &SensorReport, context: &Context) -> Value {
    let mut object = Map::new();
    let vocabularies = [
        ("type", &report.measurement_type),
        ("exception", &report.exception),
        ("component", &report.component),
    ];
    for (key, value) in vocabularies {
        if let Some(value) = value {
            object.insert(key.to_owned(), Value::from(value.written.as_str()));
        }
    }
    let strings = [
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
    for (key, text) in strings {
        if let Some(text) = text {
            object.insert(key.to_owned(), Value::from(text.as_str()));
        }
    }
    if let Some(time) = &report.time {
        object.insert("time".to_owned(), Value::from(time.as_str()));
    }
    if let Some(flag) = report.boolean_value {
        object.insert("booleanValue".to_owned(), Value::Bool(flag));
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
    for (key, number) in numbers {
        if let Some(number) = number {
            object.insert(key.to_owned(), number_value(number));
        }
    }
    insert_extensions(&mut object, &report.extensions, context);
    Value::Object(object)
}

fn vocabularies_to_value(vocabularies: &[Vocabulary], context: &Context) -> Value {
    let items = vocabularies.iter().map(|vocabulary| {
        let mut object = Map::new();
        object.insert("type".to_owned(), Value::from(vocabulary.vocabulary_type.as_str()));
        let elements = vocabulary.elements.iter().map(|element| {
            let mut element_object = Map::new();
            element_object.insert("id".to_owned(), Value::from(element.id.as_str()));
            if !element.attributes.is_empty() {
                let attributes = element.attributes.iter().map(|attribute| {
                    let mut attribute_object = Map::new();
                    attribute_object.insert("id".to_owned(), Value::from(attribute.id.as_str()));
                    attribute_object.insert(
                        "attribute".to_owned(),
                        extension_value_to_json(&attribute.value, context),
                    );
                    Value::Object(attribute_object)
                });
                element_object.insert("attributes".to_owned(), Value::Array(attributes.collect()));
            }
            if !element.children.is_empty() {
                element_object.insert("children".to_owned(), strings_value(&element.children));
            }
            insert_extensions(&mut element_object, &element.extensions, context);
            Value::Object(element_object)
        });
        object.insert("vocabularyElementList".to_owned(), Value::Array(elements.collect()));
        Value::Object(object)
    });
    Value::Array(items.collect())
}

/// Adds extension fields to `object`. A name repeated among siblings (XML's way of writing a
/// list) becomes one JSON array at the first occurrence, since JSON keys are unique.
fn insert_extensions(
    object: &mut Map<String, Value>,
    fields: &[ExtensionField],
    context: &Context,
) {
    let mut grouped: Vec<(String, Vec<&ExtensionValue>)> = Vec::new();
    for field in fields {
        let key = context.key(&field.name);
        match grouped.iter_mut().find(|(existing_key, _)| *existing_key == key) {
            Some((_, values)) => values.push(&field.value),
            None => grouped.push((key, vec![&field.value])),
        }
    }
    for (key, values) in grouped {
        let value = match values.as_slice() {
            [single] => extension_value_to_json(single, context),
            many => Value::Array(
                many.iter()
                    .flat_map(|value| match value {
                        ExtensionValue::List(items) => items.iter().collect::<Vec<_>>(),
                        single => vec![*single],
                    })
                    .map(|value| extension_value_to_json(value, context))
                    .collect(),
            ),
        };
        object.insert(key, value);
    }
}

fn extension_value_to_json(value: &ExtensionValue, context: &Context) -> Value {
    match value {
        ExtensionValue::Text(text) => Value::from(text.as_str()),
        ExtensionValue::Number(number) => number_value(number),
        ExtensionValue::Boolean(flag) => Value::Bool(*flag),
        ExtensionValue::Object(fields) => {
            let mut object = Map::new();
            insert_extensions(&mut object, fields, context);
            Value::Object(object)
        }
        ExtensionValue::List(items) => {
            Value::Array(items.iter().map(|item| extension_value_to_json(item, context)).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A lot's commissioning, as a producer captures it.
    fn commissioning() -> Value {
        json!({
            "type": "ObjectEvent",
            "action": "ADD",
            "bizStep": "commissioning",
            "eventTime": "2026-03-01T08:00:00Z",
            "eventTimeZoneOffset": "+00:00",
            "quantityList": [{"epcClass": "https://id.gs1.org/01/09506000134352/10/LOT42"}],
            "epcList": [],
        })
    }

    #[test]
    fn a_stored_event_reads_back_from_either_binding() {
        let event = parse_event_json(&commissioning(), &[]).unwrap();
        let json_bytes = event_to_json_ld(&event).to_string().into_bytes();
        assert_eq!(crate::epcis::decode_stored_event(&json_bytes).unwrap(), event);
        // XML writes CBV values as URNs; the event is the same one by its hash id.
        let xml = crate::epcis::xml::event_to_xml(&event, &Default::default());
        let from_xml = crate::epcis::decode_stored_event(xml.as_bytes()).unwrap();
        assert_eq!(crate::epcis::event_hash_id(&from_xml), crate::epcis::event_hash_id(&event));
    }

    #[test]
    fn envelopes_are_the_documents_to_json_ld_writes_and_read_back() {
        let event = parse_event_json(&commissioning(), &[]).unwrap();
        let events = vec![event_to_json_ld(&event)];
        let capture = document_envelope("2026-03-02T00:00:00Z", events.clone());
        assert_eq!(
            capture.to_string(),
            json!({
                "@context": [EPCIS_CONTEXT_URL],
                "type": "EPCISDocument",
                "schemaVersion": "2.0",
                "creationDate": "2026-03-02T00:00:00Z",
                "epcisBody": {"eventList": events.clone()},
            })
            .to_string()
        );
        let document = parse_document(capture.to_string().as_bytes()).unwrap();
        assert_eq!(document.events, vec![event.clone()]);
        let written = to_json_ld(&document);
        let written_events = written["epcisBody"]["eventList"].as_array().unwrap().clone();
        assert_eq!(
            document_envelope("2026-03-02T00:00:00Z", written_events.clone()).to_string(),
            written.to_string()
        );

        let query = query_document_envelope("SimpleEventQuery", "2026-03-02T00:00:00Z", events);
        let document = parse_document(query.to_string().as_bytes()).unwrap();
        assert_eq!(
            document.kind,
            DocumentKind::Query {
                query_name: "SimpleEventQuery".to_owned(),
                subscription_id: None
            }
        );
        assert_eq!(
            query_document_envelope("SimpleEventQuery", "2026-03-02T00:00:00Z", written_events)
                .to_string(),
            to_json_ld(&document).to_string()
        );
    }

    /// XML → JSON-LD → model, checked as the `epcis_xml` fuzz target checks it: the same Event
    /// Hash IDs (with and without the document's ignored fields).
    fn json_ld_of_xml(xml: &str) -> (Document, Document, String) {
        let from_xml = crate::epcis::xml::parse_document(xml.as_bytes()).expect("valid XML");
        let written = to_json_ld_string(&from_xml);
        let from_json = parse_document(written.as_bytes())
            .unwrap_or_else(|error| panic!("written JSON-LD does not parse: {error}\n{written}"));
        let hash_ids = |document: &Document| -> Vec<String> {
            document.events.iter().map(crate::epcis::event_hash_id).collect()
        };
        assert_eq!(hash_ids(&from_xml), hash_ids(&from_json), "{written}");
        assert_eq!(
            crate::epcis::document_event_hash_ids(&from_xml),
            crate::epcis::document_event_hash_ids(&from_json),
            "{written}"
        );
        (from_xml, from_json, written)
    }

    /// An XML capture document declaring `declarations`, holding `events`.
    fn xml_document(declarations: &str, events: &str) -> String {
        format!(
            "<epcis:EPCISDocument xmlns:epcis=\"urn:epcglobal:epcis:xsd:2\" {declarations} \
             schemaVersion=\"2.0\" creationDate=\"2019-04-02T14:00:00Z\"><EPCISBody><EventList>\
             {events}</EventList></EPCISBody></epcis:EPCISDocument>"
        )
    }

    /// An XML ObjectEvent with `body` after its action.
    fn xml_object_event(body: &str) -> String {
        format!(
            "<ObjectEvent><eventTime>2019-04-02T15:00:00.000+01:00</eventTime>\
             <eventTimeZoneOffset>+01:00</eventTimeZoneOffset><epcList>\
             <epc>urn:epc:id:sgtin:4012345.011111.9876</epc></epcList><action>OBSERVE</action>\
             {body}</ObjectEvent>"
        )
    }

    #[test]
    fn values_xml_holds_as_curies_keep_their_hash_ids_in_json_ld() {
        // Minimised from the shared SensorData_and_extension.xml and the fuzzer's inputs: XML
        // holds `example:someSensorProperty` (and a custom bizStep) literally while declaring
        // `example` as the namespace of its extension elements.
        let xml = xml_document(
            "xmlns:example=\"http://ns.example.com/epcis/\" xmlns:gs1=\"https://gs1.org/voc/\"",
            &xml_object_event(
                "<bizStep>example:counting</bizStep><sensorElementList><sensorElement>\
                 <sensorReport type=\"example:someSensorProperty\" component=\"example:x\" \
                 stringValue=\"someSensorOutput\"/><sensorReport type=\"gs1:Temperature\" \
                 value=\"26\" uom=\"CEL\"/></sensorElement></sensorElementList>\
                 <example:myField>text</example:myField>",
            ),
        );
        let (from_xml, from_json, written) = json_ld_of_xml(&xml);
        let report = &from_json.events[0].sensor_element_list[0].sensor_report[0];
        assert_eq!(report.measurement_type.as_ref().unwrap().written, "example:someSensorProperty");
        assert_eq!(report.component.as_ref().unwrap().written, "example:x");
        assert_eq!(from_json.events[0].biz_step.as_ref().unwrap().written, "example:counting");
        // The extension keeps its namespace, under a prefix that expands no value.
        assert_eq!(from_json.events[0].extensions, {
            let mut renamed = from_xml.events[0].extensions.clone();
            renamed[0].name.prefix = Some("example1".to_owned());
            renamed
        });
        assert!(written.contains("\"example1:myField\":\"text\""), "{written}");
        assert!(!written.contains("{\"example\":"), "{written}");
    }

    #[test]
    fn one_prefix_bound_to_two_namespaces_keeps_both_in_json_ld() {
        // Minimised from the fuzzer: `rail` declared twice, on the root and on one element.
        let xml = xml_document(
            "xmlns:rail=\"urn:gs0:epcisapp:rail:\"",
            &xml_object_event(
                "<rail:trainAxleCount>12</rail:trainAxleCount>\
                 <rail:vehicle xmlns:rail=\"urn:gs1:epcisapp:rail:\"><rail:position>1\
                 </rail:position></rail:vehicle>",
            ),
        );
        let (_, from_json, written) = json_ld_of_xml(&xml);
        let namespaces: Vec<&str> = from_json.events[0]
            .extensions
            .iter()
            .map(|field| field.name.namespace_iri.as_str())
            .collect();
        assert_eq!(namespaces, ["urn:gs0:epcisapp:rail:", "urn:gs1:epcisapp:rail:"], "{written}");
    }

    #[test]
    fn text_beside_child_elements_and_leading_zeros_survive_json_ld() {
        // Minimised from the fuzzer: a rail vehicle element holding text and children, and a
        // sensor value written `06.2`, which xsd:decimal allows and JSON numbers do not.
        let xml = xml_document(
            "xmlns:rail=\"urn:gs1:epcisapp:rail:\"",
            &xml_object_event(
                "<sensorElementList><sensorElement><sensorReport type=\"gs1:Temperature\" \
                 value=\"06.2\" minValue=\"+.5\" uom=\"CEL\"/></sensorElement>\
                 </sensorElementList><rail:vehicle>0<rail:vehicleAxleCount>4\
                 </rail:vehicleAxleCount></rail:vehicle>",
            ),
        );
        let (_, from_json, written) = json_ld_of_xml(&xml);
        let report = &from_json.events[0].sensor_element_list[0].sensor_report[0];
        assert_eq!(report.value.as_ref().map(Decimal::as_str), Some("6.2"), "{written}");
        assert_eq!(report.min_value.as_ref().map(Decimal::as_str), Some("0.5"), "{written}");
        let ExtensionValue::Object(vehicle) = &from_json.events[0].extensions[0].value else {
            panic!("the vehicle is an object: {written}");
        };
        assert!(vehicle.iter().any(|field| field.name.local_name == "#text"), "{written}");
    }

    #[test]
    fn xsd_decimals_are_written_in_json_number_grammar() {
        for (written, json) in [
            ("06.2", "6.2"),
            ("+5", "5"),
            (".5", "0.5"),
            ("5.", "5"),
            ("-00.50e+3", "-0.50e+3"),
            ("000", "0"),
            ("1.5E-7", "1.5E-7"),
        ] {
            assert_eq!(json_number_text(written), json, "{written}");
            assert!(json.parse::<Number>().is_ok(), "{json}");
        }
    }

    #[test]
    fn a_nul_character_no_xml_can_hold_is_refused_naming_the_field() {
        let mut event = commissioning();
        event["@context"] = json!([{"ex": "https://ns.example.com/epcis/"}]);
        event["ex:note"] = json!({"ex:inner": "a\u{0}b"});
        let expected = "event 0 (ObjectEvent): field ex:note.ex:inner: \"a\\0b\" holds U+0000";
        let error = parse_event_json(&event, &[]).expect_err("refused").to_string();
        assert!(error.starts_with(expected), "{error}");
        let bytes = event.to_string().into_bytes();
        let error = parse_event_json_bytes(&bytes).expect_err("refused").to_string();
        assert!(error.starts_with(expected), "{error}");
        let document = document_envelope("2026-03-02T00:00:00Z", vec![event]);
        let error = parse_document(document.to_string().as_bytes()).expect_err("refused");
        assert!(error.to_string().starts_with(expected), "{error}");
        // Any other character is written as a reference and reads back from XML.
        let mut event = commissioning();
        event["@context"] = json!([{"ex": "https://ns.example.com/epcis/"}]);
        event["ex:note"] = json!("a\u{1}\u{FFFF}b");
        let event = parse_event_json(&event, &[]).expect("read");
        let xml = crate::epcis::xml::event_to_xml(&event, &Default::default());
        let from_xml = crate::epcis::decode_stored_event(xml.as_bytes()).expect("read back");
        assert_eq!(from_xml.extensions, event.extensions, "{xml}");
        assert_eq!(crate::epcis::event_hash_id(&from_xml), crate::epcis::event_hash_id(&event));
    }
}
