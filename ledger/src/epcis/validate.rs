//! The binding-independent rules of EPCIS 2.0 / CBV 2.0, checked on the model.
//!
//! Owns: required and forbidden fields per event type, the what-dimension constraints, `ilmd`
//! only with `ADD`, value formats (`eventTimeZoneOffset`, `uom`, URIs, hex binary), every URI
//! of a document to be signed judged as an identifier by [`crate::gs1::check_identifier`] (GS1
//! forms strictly), CBV vocabulary membership, namespaced extensions, and extension names both
//! bindings can write. Both bindings call [`validate_document`] after building the model, so a
//! JSON-LD and an XML document are judged alike.
//! Does not own syntax or shape (a string where a list belongs): the bindings report those while
//! parsing, because the model cannot even hold them.

use std::fmt::Display;

use super::cbv::VocabularyKind;
use super::error::{Error, Problem};
use super::model::{
    Action, Decimal, Document, DocumentKind, Event, EventType, ExtensionField, ExtensionValue,
    Location, QuantityElement, SensorElement, VocabularyValue,
};
use crate::gs1;

/// Longest value quoted back in an error message; longer values are cut so a hostile payload
/// cannot blow up logs.
const MAX_QUOTED_VALUE_CHARS: usize = 120;

/// Checks every rule of the standard that the model can express, for the document and each
/// event (errors name the event by its 0-based index).
pub fn validate_document(document: &Document) -> Result<(), Error> {
    if document.schema_version.trim().is_empty() {
        return Err(Error::document(invalid(
            "schemaVersion",
            &document.schema_version,
            "is empty",
        )));
    }
    if let DocumentKind::Query { query_name, .. } = &document.kind
        && query_name.trim().is_empty()
    {
        return Err(Error::document(invalid("queryName", query_name, "is empty")));
    }
    check_extension_names(&"epcisHeader.", &document.header_extensions)
        .and_then(|()| check_extension_names(&"", &document.extensions))
        .map_err(Error::document)?;
    for (vocabulary_position, vocabulary) in document.master_data.iter().flatten().enumerate() {
        for (element_position, element) in vocabulary.elements.iter().enumerate() {
            let path = format!(
                "vocabularyList[{vocabulary_position}].vocabularyElementList[{element_position}]."
            );
            check_extension_names(&path, &element.extensions).map_err(Error::document)?;
            for attribute in &element.attributes {
                check_names_in_value(&format!("{path}attributes."), &attribute.value)
                    .map_err(Error::document)?;
            }
        }
    }
    // A capture document's events are about to be signed; a query document's were signed
    // elsewhere and are read as they are (see `check_document_to_sign`).
    let strict = document.kind == DocumentKind::Capture;
    for (index, event) in document.events.iter().enumerate() {
        validate_event_as(event, strict)
            .map_err(|problem| Error::event(index, event.event_type.name(), problem))?;
    }
    Ok(())
}

/// Judges the events of a validated document as events to be signed, whatever its kind: a
/// capture document's were judged so by [`validate_document`]; a query document's (which a
/// node may be sent for capture) are judged here.
pub fn check_document_to_sign(document: &Document) -> Result<(), Error> {
    if document.kind == DocumentKind::Capture {
        return Ok(());
    }
    for (index, event) in document.events.iter().enumerate() {
        validate_event_to_sign(event)
            .map_err(|problem| Error::event(index, event.event_type.name(), problem))?;
    }
    Ok(())
}

/// Checks one event against every binding-independent rule; the first broken rule is returned.
/// Its URIs are judged as URIs only: this is how a stored event is read back, and an event
/// signed before stays readable whatever its identifiers hold (see
/// [`validate_event_to_sign`]).
pub fn validate_event(event: &Event) -> Result<(), Problem> {
    validate_event_as(event, false)
}

/// [`validate_event`], with every URI also judged as an identifier before it is signed (see
/// [`gs1::check_identifier`]): what a capture and `lotline epcis check` apply to every event
/// of a capture document ([`validate_document`]), since a signed value is forever.
pub fn validate_event_to_sign(event: &Event) -> Result<(), Problem> {
    validate_event_as(event, true)
}

fn validate_event_as(event: &Event, strict: bool) -> Result<(), Problem> {
    check_offset(&event.event_time_zone_offset)?;
    check_fields_allowed_for_type(event)?;
    check_what_dimension(event)?;
    check_values(event, strict)?;
    check_extensions_are_namespaced(&"", &event.extensions)?;
    if let Some(ilmd) = &event.ilmd {
        check_extensions_are_namespaced(&"ilmd.", ilmd)?;
    }
    Ok(())
}

/// Whether `offset` matches `^[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00)$`.
pub fn is_time_zone_offset(offset: &str) -> bool {
    let bytes = offset.as_bytes();
    if bytes.len() != 6 || !matches!(bytes[0], b'+' | b'-') || bytes[3] != b':' {
        return false;
    }
    let two_digits = |first: u8, second: u8| {
        (first.is_ascii_digit() && second.is_ascii_digit())
            .then(|| u32::from(first - b'0') * 10 + u32::from(second - b'0'))
    };
    match (two_digits(bytes[1], bytes[2]), two_digits(bytes[4], bytes[5])) {
        (Some(hours), Some(minutes)) => {
            (hours <= 13 && minutes <= 59) || (hours == 14 && minutes == 0)
        }
        _ => false,
    }
}

/// Whether `uom` is a UN/CEFACT Rec 20 code shape: 2–3 upper-case letters or digits.
pub fn is_unit_of_measure(uom: &str) -> bool {
    (2..=3).contains(&uom.len())
        && uom.bytes().all(|byte| byte.is_ascii_uppercase() || byte.is_ascii_digit())
}

/// Whether `text` looks like an absolute URI: a scheme (`letter *(letter / digit / + - .)`), a
/// colon, something after it, and no whitespace.
pub fn is_absolute_uri(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once(':') else {
        return false;
    };
    let mut scheme_chars = scheme.chars();
    scheme_chars.next().is_some_and(|first| first.is_ascii_alphabetic())
        && scheme_chars
            .all(|other| other.is_ascii_alphanumeric() || matches!(other, '+' | '-' | '.'))
        && !rest.is_empty()
        && !contains_whitespace(text)
}

/// Whether `text` holds a character with the Unicode `White_Space` property. Every URI of
/// every event is checked, nearly all ASCII: those are scanned as bytes, without decoding.
fn contains_whitespace(text: &str) -> bool {
    if text.is_ascii() {
        // The ASCII characters with `White_Space`: tab, line feed, vertical tab, form feed,
        // carriage return and space.
        text.bytes().any(|byte| matches!(byte, b'\t'..=b'\r' | b' '))
    } else {
        text.chars().any(char::is_whitespace)
    }
}

fn check_offset(offset: &str) -> Result<(), Problem> {
    if is_time_zone_offset(offset) {
        Ok(())
    } else {
        Err(invalid("eventTimeZoneOffset", offset, "is not an offset like +02:00"))
    }
}

/// Which fields each event type may carry (XSD / JSON schema per type).
fn check_fields_allowed_for_type(event: &Event) -> Result<(), Problem> {
    use EventType::{Aggregation, Association, Object, Transaction, Transformation};
    let event_type = event.event_type;
    // `persistentDisposition` is accepted on every type: the XSD allows it on Object and
    // Transformation events only, but published valid examples (OpenEPCIS) carry it on
    // Aggregation events too, and it does not change the what-dimension.
    let present: [(&str, bool, &[EventType]); 12] = [
        ("action", event.action.is_some(), &[Object, Aggregation, Transaction, Association]),
        ("epcList", event.epc_list.is_some(), &[Object, Transaction]),
        ("quantityList", !event.quantity_list.is_empty(), &[Object, Transaction]),
        ("parentID", event.parent_id.is_some(), &[Aggregation, Transaction, Association]),
        ("childEPCs", event.child_epcs.is_some(), &[Aggregation, Association]),
        ("childQuantityList", !event.child_quantity_list.is_empty(), &[Aggregation, Association]),
        ("inputEPCList", event.input_epc_list.is_some(), &[Transformation]),
        ("outputEPCList", event.output_epc_list.is_some(), &[Transformation]),
        ("inputQuantityList", !event.input_quantity_list.is_empty(), &[Transformation]),
        ("outputQuantityList", !event.output_quantity_list.is_empty(), &[Transformation]),
        ("transformationID", event.transformation_id.is_some(), &[Transformation]),
        ("ilmd", event.ilmd.is_some(), &[Object, Transformation]),
    ];
    for (field, is_present, allowed_types) in present {
        if is_present && !allowed_types.contains(&event_type) {
            return Err(Problem::FieldNotAllowed {
                field: field.to_owned(),
                rule: format!("is not a field of {event_type}"),
            });
        }
    }
    let needs_action = event_type != Transformation;
    if needs_action && event.action.is_none() {
        return Err(Problem::MissingField("action".to_owned()));
    }
    if event.ilmd.is_some() && event_type == Object && event.action != Some(Action::Add) {
        return Err(Problem::FieldNotAllowed {
            field: "ilmd".to_owned(),
            rule: "is only allowed when action is ADD".to_owned(),
        });
    }
    Ok(())
}

/// The what-dimension: which identifiers each type must name.
fn check_what_dimension(event: &Event) -> Result<(), Problem> {
    let deleting = event.action == Some(Action::Delete);
    match event.event_type {
        EventType::Object => {
            let has_sensor_reading_at_place =
                !event.sensor_element_list.is_empty() && event.read_point.is_some();
            if event.epc_list.is_none()
                && event.quantity_list.is_empty()
                && !has_sensor_reading_at_place
            {
                return Err(Problem::Constraint(
                    "needs epcList, quantityList, or sensorElementList with readPoint".to_owned(),
                ));
            }
        }
        EventType::Aggregation => {
            if !deleting && event.child_epcs().is_empty() && event.child_quantity_list.is_empty() {
                return Err(Problem::Constraint(
                    "needs childEPCs or childQuantityList unless action is DELETE".to_owned(),
                ));
            }
        }
        EventType::Association => {
            if event.parent_id.is_none() {
                return Err(Problem::MissingField("parentID".to_owned()));
            }
            if !deleting && event.child_epcs().is_empty() && event.child_quantity_list.is_empty() {
                return Err(Problem::Constraint(
                    "needs childEPCs or childQuantityList unless action is DELETE".to_owned(),
                ));
            }
        }
        EventType::Transaction => {
            if event.biz_transaction_list.is_empty() {
                return Err(Problem::MissingField("bizTransactionList".to_owned()));
            }
            if !deleting && event.epcs().is_empty() && event.quantity_list.is_empty() {
                return Err(Problem::Constraint(
                    "needs epcList or quantityList unless action is DELETE".to_owned(),
                ));
            }
        }
        EventType::Transformation => {
            let input_count = event.input_epcs().len() + event.input_quantity_list.len();
            let output_count = event.output_epcs().len() + event.output_quantity_list.len();
            let has_inputs_and_outputs = input_count > 0 && output_count > 0;
            // A transformation split over several events is linked by its transformationID;
            // each part then needs only some input or output.
            let linked_by_id = event.transformation_id.is_some() && input_count + output_count > 0;
            if !has_inputs_and_outputs && !linked_by_id {
                return Err(Problem::Constraint(
                    "needs at least one input and one output".to_owned(),
                ));
            }
        }
    }
    Ok(())
}

/// Value formats and vocabulary membership of every standard field.
fn check_values(event: &Event, strict: bool) -> Result<(), Problem> {
    for certification in &event.certification_info {
        check_uri(strict, &"certificationInfo", certification)?;
    }
    if let Some(event_id) = &event.event_id {
        check_uri(strict, &"eventID", event_id)?;
    }
    if let Some(declaration) = &event.error_declaration {
        if let Some(reason) = &declaration.reason {
            check_vocabulary(&"errorDeclaration.reason", reason)?;
        }
        for corrective_event_id in &declaration.corrective_event_ids {
            check_uri(strict, &"errorDeclaration.correctiveEventIDs", corrective_event_id)?;
        }
        check_extensions_are_namespaced(&"errorDeclaration.", &declaration.extensions)?;
    }
    let epc_lists = [
        ("epcList", event.epcs()),
        ("childEPCs", event.child_epcs()),
        ("inputEPCList", event.input_epcs()),
        ("outputEPCList", event.output_epcs()),
    ];
    for (field, epcs) in epc_lists {
        for epc in epcs {
            check_uri(strict, &field, epc)?;
        }
    }
    if let Some(parent_id) = &event.parent_id {
        check_uri(strict, &"parentID", parent_id)?;
    }
    if let Some(transformation_id) = &event.transformation_id {
        check_uri(strict, &"transformationID", transformation_id)?;
    }
    let quantity_lists = [
        ("quantityList", &event.quantity_list),
        ("childQuantityList", &event.child_quantity_list),
        ("inputQuantityList", &event.input_quantity_list),
        ("outputQuantityList", &event.output_quantity_list),
    ];
    for (field, quantity_list) in quantity_lists {
        for (position, quantity_element) in quantity_list.iter().enumerate() {
            check_quantity_element(strict, &format_args!("{field}[{position}]"), quantity_element)?;
        }
    }
    if let Some(biz_step) = &event.biz_step {
        check_vocabulary(&"bizStep", biz_step)?;
    }
    if let Some(disposition) = &event.disposition {
        check_vocabulary(&"disposition", disposition)?;
    }
    if let Some(persistent_disposition) = &event.persistent_disposition {
        for value in &persistent_disposition.set {
            check_vocabulary(&"persistentDisposition.set", value)?;
        }
        for value in &persistent_disposition.unset {
            check_vocabulary(&"persistentDisposition.unset", value)?;
        }
    }
    if let Some(read_point) = &event.read_point {
        check_location(strict, &"readPoint", read_point)?;
    }
    if let Some(biz_location) = &event.biz_location {
        check_location(strict, &"bizLocation", biz_location)?;
    }
    for biz_transaction in &event.biz_transaction_list {
        check_uri(strict, &"bizTransaction", &biz_transaction.value)?;
        if let Some(transaction_type) = &biz_transaction.transaction_type {
            check_vocabulary(&"bizTransaction type", transaction_type)?;
        }
    }
    for (field, list) in [("source", &event.source_list), ("destination", &event.destination_list)]
    {
        for source_or_destination in list {
            check_uri(strict, &field, &source_or_destination.id)?;
            check_vocabulary(
                &format_args!("{field} type"),
                &source_or_destination.source_destination_type,
            )?;
        }
    }
    for (position, sensor_element) in event.sensor_element_list.iter().enumerate() {
        check_sensor_element(
            strict,
            &format_args!("sensorElementList[{position}]"),
            sensor_element,
        )?;
    }
    Ok(())
}

fn check_quantity_element(
    strict: bool,
    field: &dyn Display,
    quantity_element: &QuantityElement,
) -> Result<(), Problem> {
    check_uri(strict, &format_args!("{field}.epcClass"), &quantity_element.epc_class)?;
    if let Some(uom) = &quantity_element.uom {
        check_uom(&format_args!("{field}.uom"), uom)?;
    }
    if let Some(quantity) = &quantity_element.quantity
        && quantity.to_f64() < 0.0
    {
        return Err(invalid(format_args!("{field}.quantity"), quantity.as_str(), "is negative"));
    }
    Ok(())
}

fn check_location(strict: bool, field: &dyn Display, location: &Location) -> Result<(), Problem> {
    check_uri(strict, &format_args!("{field}.id"), &location.id)?;
    check_extensions_are_namespaced(&format_args!("{field}."), &location.extensions)
}

fn check_sensor_element(
    strict: bool,
    field: &dyn Display,
    sensor_element: &SensorElement,
) -> Result<(), Problem> {
    if sensor_element.sensor_report.is_empty() {
        return Err(Problem::MissingField(format!("{field}.sensorReport")));
    }
    if let Some(metadata) = &sensor_element.sensor_metadata {
        let uris = [
            ("deviceID", &metadata.device_id),
            ("deviceMetadata", &metadata.device_metadata),
            ("rawData", &metadata.raw_data),
            ("dataProcessingMethod", &metadata.data_processing_method),
            ("bizRules", &metadata.biz_rules),
        ];
        for (name, value) in uris {
            if let Some(value) = value {
                check_uri(strict, &format_args!("{field}.sensorMetadata.{name}"), value)?;
            }
        }
        check_extensions_are_namespaced(
            &format_args!("{field}.sensorMetadata."),
            &metadata.extensions,
        )?;
    }
    for (position, report) in sensor_element.sensor_report.iter().enumerate() {
        let report_field = format_args!("{field}.sensorReport[{position}]");
        if let Some(measurement_type) = &report.measurement_type {
            check_vocabulary(&format_args!("{report_field}.type"), measurement_type)?;
        }
        if let Some(exception) = &report.exception {
            check_vocabulary(&format_args!("{report_field}.exception"), exception)?;
        }
        if let Some(component) = &report.component {
            check_vocabulary(&format_args!("{report_field}.component"), component)?;
        }
        let uris = [
            ("deviceID", &report.device_id),
            ("deviceMetadata", &report.device_metadata),
            ("rawData", &report.raw_data),
            ("dataProcessingMethod", &report.data_processing_method),
            ("bizRules", &report.biz_rules),
            ("microorganism", &report.microorganism),
            ("chemicalSubstance", &report.chemical_substance),
            ("uriValue", &report.uri_value),
            ("coordinateReferenceSystem", &report.coordinate_reference_system),
        ];
        for (name, value) in uris {
            if let Some(value) = value {
                check_uri(strict, &format_args!("{report_field}.{name}"), value)?;
            }
        }
        if let Some(uom) = &report.uom {
            check_uom(&format_args!("{report_field}.uom"), uom)?;
        }
        if let Some(hex) = &report.hex_binary_value
            && (hex.len() % 2 != 0 || !hex.bytes().all(|byte| byte.is_ascii_hexdigit()))
        {
            return Err(invalid(
                format_args!("{report_field}.hexBinaryValue"),
                hex,
                "is not hex binary",
            ));
        }
        let perc_rank_out_of_range = report
            .perc_rank
            .as_ref()
            .map(Decimal::to_f64)
            .is_some_and(|rank| !(0.0..=100.0).contains(&rank));
        if perc_rank_out_of_range && let Some(perc_rank) = &report.perc_rank {
            return Err(invalid(
                format_args!("{report_field}.percRank"),
                perc_rank.as_str(),
                "is not between 0 and 100",
            ));
        }
        check_extensions_are_namespaced(&format_args!("{report_field}."), &report.extensions)?;
    }
    check_extensions_are_namespaced(&format_args!("{field}."), &sensor_element.extensions)
}

/// A vocabulary value must be a standard word (in any spelling) or a URI outside the standard
/// namespaces: `urn:epcglobal:cbv:bizstep:flying` and a bare `flying` are both rejected.
fn check_vocabulary(field: &dyn Display, value: &VocabularyValue) -> Result<(), Problem> {
    let written = value.written.trim();
    if value.standard_word().is_some() {
        return Ok(());
    }
    if value.kind.claims_standard_namespace(written) {
        return Err(invalid(
            field,
            written,
            &format!("is not a CBV 2.0 {} value", value.kind.field_name()),
        ));
    }
    let is_gs1_term = value.kind == VocabularyKind::SensorAlertType
        && (written.starts_with("gs1:") || written.starts_with(super::cbv::GS1_VOC_NAMESPACE));
    if is_gs1_term {
        return Err(invalid(
            field,
            written,
            &format!("is not a GS1 {} value", value.kind.field_name()),
        ));
    }
    let is_unlisted_term = value.kind.accepts_unlisted_bare_words()
        && written.chars().next().is_some_and(|first| first.is_ascii_alphabetic())
        && written.chars().all(|other| other.is_ascii_alphanumeric() || other == '_');
    if !is_absolute_uri(written) && !is_unlisted_term {
        return Err(invalid(
            field,
            written,
            &format!("is neither a standard {} nor a URI", value.kind.field_name()),
        ));
    }
    Ok(())
}

/// Judges `value`, the value of the URI-valued `field`, as [`validate_document`] judges every
/// URI of a capture document: an absolute URI ([`is_absolute_uri`], surrounding whitespace
/// aside) that is also an identifier fit to be signed ([`gs1::check_identifier`]). For code
/// that builds events from other input (the CSV template) and names the bad input itself.
pub fn check_uri_to_sign(field: &str, value: &str) -> Result<(), Problem> {
    check_uri(true, &field, value)
}

/// A URI; when `strict` (a document about to be signed), also judged as an identifier (see
/// [`gs1::check_identifier`]: no control, whitespace or bidirectional-formatting characters;
/// GS1 forms strictly, check digits included).
fn check_uri(strict: bool, field: &dyn Display, value: &str) -> Result<(), Problem> {
    let trimmed = value.trim();
    if !is_absolute_uri(trimmed) {
        return Err(invalid(field, value, "is not a URI"));
    }
    if !strict {
        return Ok(());
    }
    gs1::check_identifier(trimmed)
        .map_err(|error| invalid(field, value, &format!("is refused: {error}")))
}

fn check_uom(field: &dyn Display, uom: &str) -> Result<(), Problem> {
    if is_unit_of_measure(uom) {
        Ok(())
    } else {
        Err(invalid(field, uom, "is not a UN/CEFACT Rec 20 unit code like KGM"))
    }
}

/// Extension fields directly under a standard element must carry a namespace (a non-standard
/// name without one is a typo or an undeclared field, which the standard rejects), and every
/// name in them must be an XML name ([`check_extension_names`]).
fn check_extensions_are_namespaced(
    field_prefix: &dyn Display,
    fields: &[ExtensionField],
) -> Result<(), Problem> {
    for extension in fields {
        if extension.name.namespace_iri.is_empty() {
            return Err(Problem::FieldNotAllowed {
                field: format!("{field_prefix}{}", extension.name.local_name),
                rule: "is not a standard field; extension fields must be namespaced (prefix:name)"
                    .to_owned(),
            });
        }
    }
    check_extension_names(field_prefix, fields)
}

/// Every extension name in `fields`, nested ones included, has a local name that is an XML
/// name without a colon (an `NCName` of XML Namespaces 1.0), so that the extension can be
/// written as an XML element or attribute: a JSON-LD key may hold anything (`ex:lot\t`,
/// `ex:a>b`, `ex:`), and such a name is neither well-formed XML nor read back as itself.
/// The one exception is the text of an extension element that also holds child elements
/// (the XML binding's [`super::xml::TEXT_FIELD_NAME`]), a text value inside an object.
/// Prefixes are not judged: the XML writer declares a prefix of its own for a namespace
/// whose prefix is no XML name.
pub fn check_extension_names(
    field_prefix: &dyn Display,
    fields: &[ExtensionField],
) -> Result<(), Problem> {
    check_names_in(&field_prefix.to_string(), fields, false)
}

fn check_names_in(
    path: &str,
    fields: &[ExtensionField],
    inside_object: bool,
) -> Result<(), Problem> {
    for field in fields {
        let name = &field.name;
        let is_element_text = inside_object
            && name.namespace_iri.is_empty()
            && name.local_name == super::xml::TEXT_FIELD_NAME
            && matches!(field.value, ExtensionValue::Text(_));
        if !is_element_text && !is_xml_ncname(&name.local_name) {
            return Err(Problem::FieldNotAllowed {
                field: format!("{path}{name}"),
                rule: format!(
                    "{:?} is not an XML name (a letter or _ first, then letters, digits, ., - or \
                     _, no colon), so the field cannot be written in the XML binding",
                    name.local_name
                ),
            });
        }
        check_names_in_value(&format!("{path}{name}."), &field.value)?;
    }
    Ok(())
}

fn check_names_in_value(path: &str, value: &ExtensionValue) -> Result<(), Problem> {
    match value {
        ExtensionValue::Object(fields) => check_names_in(path, fields, true),
        ExtensionValue::List(items) => {
            items.iter().try_for_each(|item| check_names_in_value(path, item))
        }
        ExtensionValue::Text(_) | ExtensionValue::Number(_) | ExtensionValue::Boolean(_) => Ok(()),
    }
}

/// Whether `name` is an `NCName` (XML 1.0 fifth edition `Name` productions, without `:`).
pub fn is_xml_ncname(name: &str) -> bool {
    let is_start = |character: char| {
        matches!(character,
            'A'..='Z' | '_' | 'a'..='z' | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}'
            | '\u{F8}'..='\u{2FF}' | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}'
            | '\u{200C}'..='\u{200D}' | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}'
            | '\u{3001}'..='\u{D7FF}' | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}'
            | '\u{10000}'..='\u{EFFFF}')
    };
    let is_rest = |character: char| {
        is_start(character)
            || matches!(character,
                '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
    };
    let mut characters = name.chars();
    characters.next().is_some_and(is_start) && characters.all(is_rest)
}

/// An [`Problem::InvalidValue`] with the value cut to a readable length.
pub(crate) fn invalid(field: impl Display, value: &str, rule: &str) -> Problem {
    let quoted: String = value.chars().take(MAX_QUOTED_VALUE_CHARS).collect();
    Problem::InvalidValue { field: field.to_string(), value: quoted, rule: rule.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_follow_the_schema_pattern() {
        for good in ["+02:00", "-06:00", "+14:00", "-13:59", "+00:00"] {
            assert!(is_time_zone_offset(good), "{good}");
        }
        for bad in ["+25:00", "+14:30", "02:00", "+2:00", "+02:60", "Z", "+0200"] {
            assert!(!is_time_zone_offset(bad), "{bad}");
        }
    }

    #[test]
    fn units_and_uris() {
        assert!(is_unit_of_measure("KGM"));
        assert!(is_unit_of_measure("A93"));
        assert!(!is_unit_of_measure("kg"));
        assert!(!is_unit_of_measure("KGMS"));
        assert!(is_absolute_uri("urn:epc:id:sgtin:0614141.107346.2017"));
        assert!(is_absolute_uri("https://id.gs1.org/01/09521141012345"));
        assert!(!is_absolute_uri("twenty"));
        assert!(!is_absolute_uri("1:2"));
        assert!(!is_absolute_uri("https://a b"));
        assert!(!is_absolute_uri("https://a\u{0B}b"));
        assert!(!is_absolute_uri("https://a\u{A0}b"));
        assert!(is_absolute_uri("https://a\u{1F}b"));
    }

    #[test]
    fn the_ascii_whitespace_scan_agrees_with_the_unicode_property() {
        for code in 0u8..=0x7F {
            let character = char::from(code);
            let text = format!("a{character}b");
            assert_eq!(contains_whitespace(&text), character.is_whitespace(), "{code:#04x}");
        }
        for character in ['\u{85}', '\u{A0}', '\u{2003}', '\u{3000}', 'é', '\u{1F600}'] {
            let text = format!("a{character}b");
            assert_eq!(contains_whitespace(&text), character.is_whitespace(), "{character:?}");
        }
    }

    #[test]
    fn extension_names_must_be_xml_names() {
        for good in ["lot", "_a", "a-b.c", "vehicle1", "é", "a\u{300}"] {
            assert!(is_xml_ncname(good), "{good:?}");
        }
        for bad in ["", "1a", "-a", "a b", "a\tb", "a>b", "a:b", "a ", "ª"] {
            assert!(!is_xml_ncname(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_json_ld_extension_name_xml_cannot_write_is_refused_naming_the_field() {
        // Minimised from the fuzzer: a tab inside a sensor metadata extension's name, which
        // the XML writer turned into a start tag that is not well-formed.
        let event = serde_json::json!({
            "@context": [{"ext1": "https://ns.ext.de/epcis/"}],
            "type": "ObjectEvent",
            "eventTime": "2023-01-11T12:00:00+01:00",
            "eventTimeZoneOffset": "+01:00",
            "epcList": ["https://id.gs1.org/01/04012345999990/21/XYZ-1234"],
            "action": "OBSERVE",
            "sensorElementList": [{
                "sensorMetadata": {"ext1:someFurtherMetad\ta": "metadataText"},
                "sensorReport": [{"type": "Dimensionless"}],
            }],
        });
        let error = crate::epcis::parse_event_json(&event, &[]).expect_err("refused").to_string();
        assert!(
            error.starts_with(
                "event 0 (ObjectEvent): field sensorElementList[0].sensorMetadata.ext1:someFurtherMetad\ta: \"someFurtherMetad\\ta\" is not an XML name"
            ),
            "{error}"
        );
        // Nested names are judged too; the text beside an element's children is the one name
        // that is no XML name.
        let mut nested = event.clone();
        nested["sensorElementList"][0]["sensorMetadata"] = serde_json::json!({});
        nested["ext1:vehicle"] = serde_json::json!({"#text": "0", "ext1:axles": 4});
        assert!(crate::epcis::parse_event_json(&nested, &[]).is_ok());
        nested["ext1:vehicle"] = serde_json::json!({"ext1:a>b": 4});
        let error = crate::epcis::parse_event_json(&nested, &[]).expect_err("refused").to_string();
        assert!(
            error.contains("field ext1:vehicle.ext1:a>b: \"a>b\" is not an XML name"),
            "{error}"
        );
    }
}
