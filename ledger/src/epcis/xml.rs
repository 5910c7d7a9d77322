//! The EPCIS 2.0 XML binding: `EPCISDocument` / `EPCISQueryDocument` bytes to the
//! binding-neutral [`Document`] and back.
//!
//! Owns the XML shape: namespaces (`urn:epcglobal:epcis:xsd:2`, the query namespace, and the
//! 1.x namespace read as the same vocabulary), the XSD element order of every event type, the
//! `extension` / `baseExtension` wrappers of EPCIS 1.x (read transparently, never written),
//! attributes of `sensorMetadata` / `sensorReport`, and the mapping of user extension elements
//! (nested, with attributes, typed with `xsi:type`) onto [`ExtensionField`]s.
//! Does not own the rules of the standard that do not depend on the binding (required fields
//! per event type, CBV word lists, the Event Hash ID): those live in the model's sibling
//! modules, so JSON-LD and XML are judged alike.
//!
//! Reading keeps values as written (after the whitespace collapse the XSD prescribes for
//! `anyURI`, `dateTimeStamp` and `decimal` fields); writing emits the EPCIS 2.0 XSD shape in
//! strict element order with standard vocabulary values spelled as the [`CbvXmlFormat`] asks.
//! A character XML 1.0 forbids is refused where it is written literally (the error names the
//! event and field); the writer writes such characters, and all controls, as references.
//! Namespace declarations are read unescaped, as every attribute is and as the writer escapes
//! them.
//!
//! How XML maps onto the model's extension values (the model has no notion of attributes):
//! * an element with only text is [`ExtensionValue::Text`], or a number / boolean when its
//!   `xsi:type` names a numeric XSD type / `xsd:boolean` (the writer adds that `xsi:type`, so
//!   JSON numbers survive XML);
//! * an element with attributes or child elements is an [`ExtensionValue::Object`]: attributes
//!   first (as OpenEPCIS maps them to JSON, and as the Event Hash ID treats them), then child
//!   elements, then any text under the pseudo field [`TEXT_FIELD_NAME`];
//! * repeated sibling elements are one [`ExtensionValue::List`].
//!
//! Consequently not kept: whether a user-extension field was an attribute (written back as a
//! child element; the hash is the same), attributes of events, documents and master-data
//! `attribute` elements (the XSD's `anyAttribute`), `Vocabulary`-level extensions, comments and
//! processing instructions, and a one-item JSON list (written as one element, read back as a
//! scalar).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use quick_xml::events::{BytesStart, Event as XmlEvent};
use quick_xml::name::{PrefixDeclaration, ResolveResult};
use quick_xml::reader::NsReader;

use super::cbv::VocabularyKind;
use super::error::{Error, Problem};
use super::model::{
    Action, BizTransaction, Decimal, Document, DocumentKind, ErrorDeclaration, Event, EventType,
    ExtensionField, ExtensionValue, Location, MasterDataAttribute, Namespace,
    PersistentDisposition, QName, QuantityElement, SensorElement, SensorMetadata, SensorReport,
    SourceDestination, Timestamp, Vocabulary, VocabularyElement, VocabularyValue,
};
use super::validate::{is_xml_ncname, validate_document, validate_event};

/// The EPCIS 2.0 namespace of `EPCISDocument` (standard child elements are unqualified).
pub const EPCIS_NAMESPACE: &str = "urn:epcglobal:epcis:xsd:2";
/// The EPCIS 1.x namespace; still used by many producers (and some hash vectors) for 2.0
/// content, so it is read as a synonym of [`EPCIS_NAMESPACE`].
pub const EPCIS_1_NAMESPACE: &str = "urn:epcglobal:epcis:xsd:1";
/// The EPCIS 2.0 query namespace of `EPCISQueryDocument` and `QueryResults`.
pub const EPCIS_QUERY_NAMESPACE: &str = "urn:epcglobal:epcis-query:xsd:2";
/// The EPCIS 1.x query namespace, read as a synonym of [`EPCIS_QUERY_NAMESPACE`].
pub const EPCIS_1_QUERY_NAMESPACE: &str = "urn:epcglobal:epcis-query:xsd:1";
/// The XML Schema instance namespace (`xsi:type`, `xsi:nil`).
const XSI_NAMESPACE: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// The XML Schema namespace (`xsd:decimal`, the values of `xsi:type`).
const XSD_NAMESPACE: &str = "http://www.w3.org/2001/XMLSchema";
/// The Standard Business Document Header namespace used inside `EPCISHeader`.
const SBDH_NAMESPACE: &str =
    "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader";
/// The standard children of `QueryResults` besides its extensions.
const QUERY_RESULTS_FIELDS: [&str; 3] = ["queryName", "subscriptionID", "resultsBody"];
/// Deeper nesting than this is refused, so hostile input cannot exhaust the stack.
const MAX_ELEMENT_DEPTH: usize = 128;
/// The pseudo field name under which the text of an extension element that also has
/// attributes or child elements is kept (XML mixed content has no JSON counterpart).
pub const TEXT_FIELD_NAME: &str = "#text";

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/// How closely a document must follow the EPCIS 2.0 XSD to be accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Conformance {
    /// The XSD's rules: the standard elements of an event appear in the XSD sequence order and
    /// a `QueryResults` names its query. The default, because the XSD is the binding.
    #[default]
    Strict,
    /// Tolerates what common producers emit although the XSD forbids it: standard elements of
    /// an event in any order (each still at most once) and a `QueryResults` without
    /// `queryName`. Meant for importing third-party archives, never for capture.
    Lenient,
}

/// Options of [`parse_document_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseOptions {
    /// How strictly the XSD shape is enforced.
    pub conformance: Conformance,
    /// Whether the binding-neutral rules of the standard ([`super::validate`]) are checked
    /// too. On by default; off only to read archives or test vectors for their content (for
    /// example to compute Event Hash IDs of events that use non-standard vocabulary).
    pub check_standard_rules: bool,
}

impl Default for ParseOptions {
    fn default() -> Self {
        Self { conformance: Conformance::Strict, check_standard_rules: true }
    }
}

/// How standard vocabulary values (bizStep, disposition, types, reasons…) are spelled in XML:
/// the `GS1-CBV-XML-Format` header of the EPCIS 2.0 REST binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CbvXmlFormat {
    /// `Always_EPC_URN`: `urn:epcglobal:cbv:bizstep:shipping` (the GS1 Web Vocabulary kinds,
    /// which have no URN, as Web URIs). The default: the classic XML spelling.
    #[default]
    AlwaysEpcUrn,
    /// `Always_Web_URI`: `https://ref.gs1.org/cbv/BizStep-shipping`.
    AlwaysWebUri,
    /// `Never_Translates`: URIs as the model holds them; bare JSON-LD words, which are not URIs,
    /// still become EPC URNs.
    NeverTranslates,
}

impl CbvXmlFormat {
    /// The format named by a `GS1-CBV-XML-Format` header value (`Always_Web_URI`,
    /// `Always_EPC_URN`, `Never_Translates`); `None` for anything else.
    pub fn from_header_value(value: &str) -> Option<Self> {
        match value.trim() {
            "Always_EPC_URN" => Some(Self::AlwaysEpcUrn),
            "Always_Web_URI" => Some(Self::AlwaysWebUri),
            "Never_Translates" => Some(Self::NeverTranslates),
            _ => None,
        }
    }

    /// `value` spelled in this format.
    fn spell(self, value: &VocabularyValue) -> String {
        match self {
            Self::AlwaysEpcUrn => value.urn_or_uri(),
            Self::AlwaysWebUri => value.web_uri(),
            Self::NeverTranslates => {
                let written = value.written.trim();
                if value.kind.contains(written) { value.urn_or_uri() } else { written.to_owned() }
            }
        }
    }
}

/// Options of [`to_xml_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriteOptions {
    /// How standard vocabulary values are spelled.
    pub cbv_format: CbvXmlFormat,
}

// ---------------------------------------------------------------------------------------------
// Well-formed XML → element tree with resolved namespaces
// ---------------------------------------------------------------------------------------------

/// An element or attribute name with its namespace resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
struct XmlName {
    /// The namespace IRI; `None` for an unqualified name.
    namespace_iri: Option<String>,
    /// The prefix as written, kept so extension names can be re-emitted alike.
    prefix: Option<String>,
    /// The local part.
    local_name: String,
}

impl XmlName {
    /// Whether this is the standard (unqualified, or EPCIS-namespaced) element `local_name`.
    fn is_standard(&self, local_name: &str) -> bool {
        self.local_name == local_name && self.is_in_standard_namespace()
    }

    /// Standard EPCIS child elements are unqualified; producers that qualify them with the
    /// EPCIS namespace are tolerated.
    fn is_in_standard_namespace(&self) -> bool {
        match &self.namespace_iri {
            None => true,
            Some(iri) => is_epcis_namespace(iri),
        }
    }

    /// The model's name for an extension element or attribute.
    fn to_qname(&self) -> QName {
        QName::new(
            self.namespace_iri.clone().unwrap_or_default(),
            self.prefix.clone(),
            self.local_name.clone(),
        )
    }

    /// `prefix:local` or `local`, for messages.
    fn display(&self) -> String {
        match &self.prefix {
            Some(prefix) => format!("{prefix}:{}", self.local_name),
            None => self.local_name.clone(),
        }
    }
}

/// Whether `iri` is one of the EPCIS (capture or query, 1.x or 2.0) namespaces.
fn is_epcis_namespace(iri: &str) -> bool {
    matches!(
        iri,
        EPCIS_NAMESPACE | EPCIS_1_NAMESPACE | EPCIS_QUERY_NAMESPACE | EPCIS_1_QUERY_NAMESPACE
    )
}

/// One attribute (namespace declarations excluded).
#[derive(Debug, Clone)]
struct XmlAttribute {
    /// The resolved name; unprefixed attributes are in no namespace.
    name: XmlName,
    /// The unescaped value.
    value: String,
}

/// One element: name, attributes, child elements and its own text.
#[derive(Debug, Clone)]
struct XmlElement {
    /// The resolved name.
    name: XmlName,
    /// Attributes in document order, without `xmlns` declarations.
    attributes: Vec<XmlAttribute>,
    /// Child elements in document order.
    children: Vec<XmlElement>,
    /// The concatenated character data directly inside this element (comments dropped).
    text: String,
    /// The first character XML 1.0 forbids that this element's own text or attribute values
    /// hold literally. Kept rather than refused while the tree is built, so the refusal can
    /// name the event and field ([`forbidden_character_in`]).
    forbidden_character: Option<ForbiddenCharacter>,
}

/// A character XML 1.0 does not allow in a document (`Char` of the XML 1.0 grammar: C0
/// controls other than tab, line feed and carriage return, and U+FFFE, U+FFFF), met literally.
/// The writer writes such characters as references, which is the only way they can appear.
#[derive(Debug, Clone)]
struct ForbiddenCharacter {
    /// The character.
    character: char,
    /// The attribute holding it, as written; `None` when it is in the element's text.
    attribute: Option<String>,
    /// The text or attribute value holding it.
    value: String,
}

/// Whether XML 1.0 forbids `character` in a document.
fn is_forbidden_in_xml(character: char) -> bool {
    matches!(
        character,
        '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}'
    )
}

/// The first forbidden character [`is_forbidden_in_xml`] in `text`.
fn forbidden_character(text: &str) -> Option<char> {
    text.chars().find(|character| is_forbidden_in_xml(*character))
}

/// The first forbidden character held literally by `element` or an element inside it, as the
/// problem naming where: the path of element names below `element` (`path` is `element`'s
/// own, empty for an event), then the attribute.
fn forbidden_character_in(element: &XmlElement, path: &str) -> Option<Problem> {
    if let Some(forbidden) = &element.forbidden_character {
        let field = match (&forbidden.attribute, path.is_empty()) {
            (Some(attribute), true) => attribute.clone(),
            (Some(attribute), false) => format!("{path}.{attribute}"),
            (None, true) => element.name.display(),
            (None, false) => path.to_owned(),
        };
        let rule = format!(
            "holds U+{:04X}, a character XML 1.0 does not allow in a document",
            u32::from(forbidden.character)
        );
        return Some(invalid(&field, &forbidden.value, &rule));
    }
    element.children.iter().find_map(|child| {
        let child_path = if path.is_empty() {
            child.name.display()
        } else {
            format!("{path}.{}", child.name.display())
        };
        forbidden_character_in(child, &child_path)
    })
}

impl XmlElement {
    /// The attribute `local_name` in no namespace.
    fn attribute(&self, local_name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|attribute| {
                attribute.name.namespace_iri.is_none() && attribute.name.local_name == local_name
            })
            .map(|attribute| attribute.value.as_str())
    }

    /// The attribute `{namespace_iri}local_name`.
    fn namespaced_attribute(&self, namespace_iri: &str, local_name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|attribute| {
                attribute.name.namespace_iri.as_deref() == Some(namespace_iri)
                    && attribute.name.local_name == local_name
            })
            .map(|attribute| attribute.value.as_str())
    }

    /// The first standard child element `local_name`.
    fn child(&self, local_name: &str) -> Option<&XmlElement> {
        self.children.iter().find(|child| child.name.is_standard(local_name))
    }

    /// The text with the XSD whitespace collapse of `anyURI`, `dateTimeStamp`, `decimal`.
    fn trimmed_text(&self) -> &str {
        self.text.trim()
    }

    /// Whether the element carries text other than indentation.
    fn has_significant_text(&self) -> bool {
        !self.text.trim().is_empty()
    }
}

/// The parsed tree plus every prefix declaration met, in document order.
struct XmlTree {
    /// The root element.
    root: XmlElement,
    /// `xmlns:prefix="iri"` declarations (default-namespace declarations have no prefix and are
    /// not listed), first occurrence of each pair, in document order.
    declarations: Vec<Namespace>,
}

/// A syntax error in the bytes, as the one error type.
fn syntax_error(detail: impl Into<String>) -> Error {
    Error::document(Problem::Syntax { binding: "XML", detail: detail.into() })
}

/// The character named by a predefined entity (`amp`, `lt`, `gt`, `quot`, `apos`).
fn predefined_entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => None,
    }
}

/// The resolved name of an element or attribute, or an error for an undeclared prefix.
fn resolved_name(
    resolution: ResolveResult<'_>,
    qualified_name: &[u8],
    position: u64,
) -> Result<XmlName, Error> {
    let qualified_name = std::str::from_utf8(qualified_name)
        .map_err(|_| syntax_error(format!("name at byte {position} is not UTF-8")))?;
    let (prefix, local_name) = match qualified_name.split_once(':') {
        Some((prefix, local_name)) => (Some(prefix.to_owned()), local_name.to_owned()),
        None => (None, qualified_name.to_owned()),
    };
    let namespace_iri = match resolution {
        ResolveResult::Bound(namespace) => {
            let written = std::str::from_utf8(namespace.as_ref())
                .map_err(|_| syntax_error(format!("namespace at byte {position} is not UTF-8")))?;
            // The resolver hands back the declaration as written; the namespace is its value
            // unescaped (`&amp;` is `&`), as for every attribute, and as the writer escapes it.
            let iri = quick_xml::escape::unescape(written).map_err(|problem| {
                syntax_error(format!("namespace at byte {position}: {problem}"))
            })?;
            Some(iri.into_owned())
        }
        ResolveResult::Unbound => None,
        ResolveResult::Unknown(_) => {
            return Err(syntax_error(format!(
                "undeclared namespace prefix in {qualified_name:?} at byte {position}"
            )));
        }
    };
    Ok(XmlName { namespace_iri, prefix, local_name })
}

/// Refuses an element or attribute name (a namespace declaration's included) holding a
/// character XML 1.0 forbids: names are no field values an error could point to, and the model
/// keeps them (an extension's name, a declared prefix).
fn check_name_characters(name: &[u8], position: u64) -> Result<(), Error> {
    match forbidden_character(&String::from_utf8_lossy(name)) {
        Some(character) => Err(syntax_error(format!(
            "the name {:?} at byte {position} holds U+{:04X}, a character XML 1.0 does not allow",
            String::from_utf8_lossy(name),
            u32::from(character)
        ))),
        None => Ok(()),
    }
}

/// Reads the start tag `start` into an element without children, recording its namespace
/// declarations.
fn open_element(
    reader: &NsReader<&[u8]>,
    start: &BytesStart<'_>,
    declarations: &mut Vec<Namespace>,
) -> Result<XmlElement, Error> {
    let position = reader.buffer_position();
    check_name_characters(start.name().as_ref(), position)?;
    let (element_resolution, _) = reader.resolve_element(start.name());
    let name = resolved_name(element_resolution, start.name().as_ref(), position)?;
    let mut attributes = Vec::new();
    let mut forbidden = None;
    for attribute in start.attributes() {
        let attribute =
            attribute.map_err(|problem| syntax_error(format!("{problem} at byte {position}")))?;
        check_name_characters(attribute.key.as_ref(), position)?;
        let value = attribute
            .unescape_value()
            .map_err(|problem| syntax_error(format!("{problem} at byte {position}")))?
            .into_owned();
        // The value as written: references are still references there, so a forbidden
        // character in it is one written literally.
        let written = String::from_utf8_lossy(&attribute.value);
        if forbidden.is_none()
            && let Some(character) = forbidden_character(&written)
        {
            forbidden = Some(ForbiddenCharacter {
                character,
                attribute: Some(String::from_utf8_lossy(attribute.key.as_ref()).into_owned()),
                value: value.clone(),
            });
        }
        if let Some(declaration) = attribute.key.as_namespace_binding() {
            if let PrefixDeclaration::Named(prefix) = declaration {
                let prefix = String::from_utf8_lossy(prefix).into_owned();
                let namespace = Namespace { prefix, iri: value };
                if !declarations.contains(&namespace) {
                    declarations.push(namespace);
                }
            }
            continue;
        }
        let (attribute_resolution, _) = reader.resolve_attribute(attribute.key);
        let name = resolved_name(attribute_resolution, attribute.key.as_ref(), position)?;
        attributes.push(XmlAttribute { name, value });
    }
    Ok(XmlElement {
        name,
        attributes,
        children: Vec::new(),
        text: String::new(),
        forbidden_character: forbidden,
    })
}

/// Appends text written literally (not as a reference) to `element`, noting the first
/// character XML 1.0 forbids in it.
fn push_literal_text(element: &mut XmlElement, content: &str) {
    element.text.push_str(content);
    if element.forbidden_character.is_none()
        && let Some(character) = forbidden_character(content)
    {
        element.forbidden_character =
            Some(ForbiddenCharacter { character, attribute: None, value: content.to_owned() });
    }
}

/// Parses well-formed, namespace-well-formed XML into a tree. Characters XML 1.0 forbids are
/// noted on their elements ([`XmlElement::forbidden_character`]) and refused by the readers
/// of the model, which can name the event and field.
fn parse_tree(bytes: &[u8]) -> Result<XmlTree, Error> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = NsReader::from_reader(bytes);
    let mut buffer = Vec::new();
    let mut open_elements: Vec<XmlElement> = Vec::new();
    let mut declarations = Vec::new();
    let mut root: Option<XmlElement> = None;
    loop {
        let event = reader.read_event_into(&mut buffer).map_err(|problem| {
            syntax_error(format!("{problem} at byte {}", reader.error_position()))
        })?;
        match event {
            XmlEvent::Start(start) => {
                if open_elements.len() >= MAX_ELEMENT_DEPTH {
                    return Err(syntax_error(format!(
                        "elements nested deeper than {MAX_ELEMENT_DEPTH} levels"
                    )));
                }
                if root.is_some() {
                    return Err(syntax_error("content after the root element"));
                }
                open_elements.push(open_element(&reader, &start, &mut declarations)?);
            }
            XmlEvent::Empty(start) => {
                if root.is_some() {
                    return Err(syntax_error("content after the root element"));
                }
                let element = open_element(&reader, &start, &mut declarations)?;
                match open_elements.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            XmlEvent::End(_) => {
                let Some(element) = open_elements.pop() else {
                    return Err(syntax_error("end tag without start tag"));
                };
                match open_elements.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            XmlEvent::Text(text) => {
                let content = text.xml10_content().map_err(|problem| {
                    syntax_error(format!("{problem} at byte {}", reader.buffer_position()))
                })?;
                match open_elements.last_mut() {
                    Some(element) => push_literal_text(element, &content),
                    None if content.trim().is_empty() => {}
                    None => return Err(syntax_error("text outside the root element")),
                }
            }
            XmlEvent::CData(data) => {
                let content = data.xml10_content().map_err(|problem| {
                    syntax_error(format!("{problem} at byte {}", reader.buffer_position()))
                })?;
                match open_elements.last_mut() {
                    Some(element) => push_literal_text(element, &content),
                    None => return Err(syntax_error("CDATA outside the root element")),
                }
            }
            XmlEvent::GeneralRef(reference) => {
                let position = reader.buffer_position();
                let character = match reference.resolve_char_ref() {
                    Ok(Some(character)) => character,
                    Ok(None) => {
                        let name = reference.decode().map_err(|problem| {
                            syntax_error(format!("{problem} at byte {position}"))
                        })?;
                        predefined_entity(&name).ok_or_else(|| {
                            syntax_error(format!("unknown entity &{name}; at byte {position}"))
                        })?
                    }
                    Err(problem) => {
                        return Err(syntax_error(format!("{problem} at byte {position}")));
                    }
                };
                match open_elements.last_mut() {
                    Some(element) => element.text.push(character),
                    None => return Err(syntax_error("reference outside the root element")),
                }
            }
            XmlEvent::Eof => break,
            XmlEvent::Comment(_) | XmlEvent::Decl(_) | XmlEvent::PI(_) | XmlEvent::DocType(_) => {}
        }
        buffer.clear();
    }
    if !open_elements.is_empty() {
        return Err(syntax_error("unexpected end of input inside an element"));
    }
    let root = root.ok_or_else(|| syntax_error("no root element"))?;
    Ok(XmlTree { root, declarations })
}

// ---------------------------------------------------------------------------------------------
// Element tree → model
// ---------------------------------------------------------------------------------------------

/// Parses an EPCIS 2.0 (or 1.x-shaped) `EPCISDocument` or `EPCISQueryDocument` with
/// [`Conformance::Strict`] and checks the result against the standard's binding-neutral rules.
///
/// Errors name the place and the rule (`event 3 (TransformationEvent): field action: is not an
/// element of TransformationEvent in the EPCIS 2.0 XSD`), indices counting events in document
/// order from 0.
pub fn parse_document(bytes: &[u8]) -> Result<Document, Error> {
    parse_document_with(bytes, &ParseOptions::default())
}

/// [`parse_document`] with explicit [`ParseOptions`].
pub fn parse_document_with(bytes: &[u8], options: &ParseOptions) -> Result<Document, Error> {
    let tree = parse_tree(bytes)?;
    let document = DocumentReader { conformance: options.conformance }.document(tree)?;
    if options.check_standard_rules {
        validate_document(&document)?;
    }
    Ok(document)
}

/// Parses one bare event element (`<ObjectEvent>…</ObjectEvent>`, the XML body of the REST
/// binding's `POST /events`) with [`Conformance::Strict`], and checks it like an event of a
/// document (reported as event 0).
pub fn parse_event(bytes: &[u8]) -> Result<Event, Error> {
    parse_event_with(bytes, &ParseOptions::default())
}

/// [`parse_event`] with explicit [`ParseOptions`].
pub fn parse_event_with(bytes: &[u8], options: &ParseOptions) -> Result<Event, Error> {
    let tree = parse_tree(bytes)?;
    let root_name = &tree.root.name;
    let event_type = EventType::from_name(&root_name.local_name)
        .filter(|_| root_name.is_in_standard_namespace())
        .ok_or_else(|| Error::event(0, root_name.display(), not_an_event_type()))?;
    let reader = DocumentReader { conformance: options.conformance };
    let event = reader.event(&tree.root, event_type, 0)?;
    if options.check_standard_rules {
        validate_event(&event).map_err(|problem| Error::event(0, event_type.name(), problem))?;
    }
    Ok(event)
}

/// The problem of an element where an event belongs that names no EPCIS 2.0 event type.
fn not_an_event_type() -> Problem {
    Problem::Constraint(
        "not an EPCIS 2.0 event type (ObjectEvent, AggregationEvent, TransactionEvent, \
         TransformationEvent, AssociationEvent)"
            .to_owned(),
    )
}

/// A `MissingField` problem.
fn missing(field: &str) -> Problem {
    Problem::MissingField(field.to_owned())
}

/// An `InvalidValue` problem, the value truncated so a huge payload does not flood the log.
fn invalid(field: &str, value: &str, rule: &str) -> Problem {
    const MAX_SHOWN_CHARS: usize = 120;
    let shown: String = value.chars().take(MAX_SHOWN_CHARS).collect();
    Problem::InvalidValue { field: field.to_owned(), value: shown, rule: rule.to_owned() }
}

/// A `FieldNotAllowed` problem.
fn not_allowed(field: &str, rule: impl Into<String>) -> Problem {
    Problem::FieldNotAllowed { field: field.to_owned(), rule: rule.into() }
}

/// Parses `text` as an `xsd:dateTimeStamp` for `field`. [`Conformance::Lenient`] also takes a
/// time without seconds (`2006-11-07T13:00Z`, which some producers emit) as `…T13:00:00Z`.
fn timestamp(field: &str, text: &str, conformance: Conformance) -> Result<Timestamp, Problem> {
    let trimmed = text.trim();
    let repaired = || {
        let bytes = trimmed.as_bytes();
        let minutes_only = bytes.len() > 16
            && bytes[..16].is_ascii()
            && bytes[13] == b':'
            && matches!(bytes[16], b'Z' | b'+' | b'-');
        minutes_only.then(|| format!("{}:00{}", &trimmed[..16], &trimmed[16..]))
    };
    Timestamp::parse(trimmed)
        .or_else(|| match conformance {
            Conformance::Lenient => repaired().and_then(|text| Timestamp::parse(&text)),
            Conformance::Strict => None,
        })
        .ok_or_else(|| {
            invalid(
                field,
                trimmed,
                "is not an xsd:dateTimeStamp (YYYY-MM-DDThh:mm:ss with an offset)",
            )
        })
}

/// Parses `text` as a decimal number for `field`.
fn decimal(field: &str, text: &str) -> Result<Decimal, Problem> {
    let number =
        Decimal::parse(text).ok_or_else(|| invalid(field, text.trim(), "is not a number"))?;
    // Beyond `f64` no JSON-LD reader holds it (the binding's numbers are JSON numbers).
    if !number.to_f64().is_finite() {
        return Err(invalid(field, text.trim(), "is not a finite number"));
    }
    Ok(number)
}

/// Parses an `xsd:boolean` (`true`, `false`, `1`, `0`).
fn boolean(field: &str, text: &str) -> Result<bool, Problem> {
    match text.trim() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        other => Err(invalid(field, other, "is not an xsd:boolean (true, false, 1, 0)")),
    }
}

/// Whether an `xsi:type` value names a numeric XSD type.
fn is_numeric_xsd_type(local_type: &str) -> bool {
    matches!(
        local_type,
        "decimal"
            | "integer"
            | "int"
            | "long"
            | "short"
            | "byte"
            | "double"
            | "float"
            | "nonNegativeInteger"
            | "positiveInteger"
            | "negativeInteger"
            | "nonPositiveInteger"
            | "unsignedLong"
            | "unsignedInt"
            | "unsignedShort"
            | "unsignedByte"
    )
}

/// The value of an extension element: text (typed by `xsi:type` when it names a number or a
/// boolean), or an object of its attributes and child elements.
fn extension_value(element: &XmlElement) -> ExtensionValue {
    let kept_attributes: Vec<&XmlAttribute> = element
        .attributes
        .iter()
        .filter(|attribute| attribute.name.namespace_iri.as_deref() != Some(XSI_NAMESPACE))
        .collect();
    if element.children.is_empty() && kept_attributes.is_empty() {
        let declared_type = element
            .namespaced_attribute(XSI_NAMESPACE, "type")
            .map(|type_name| type_name.rsplit(':').next().unwrap_or(type_name).trim());
        return match declared_type {
            Some(local_type) if is_numeric_xsd_type(local_type) => Decimal::parse(&element.text)
                .map_or_else(|| ExtensionValue::Text(element.text.clone()), ExtensionValue::Number),
            Some("boolean") => boolean("", &element.text).map_or_else(
                |_| ExtensionValue::Text(element.text.clone()),
                ExtensionValue::Boolean,
            ),
            _ => ExtensionValue::Text(element.text.clone()),
        };
    }
    let mut fields: Vec<ExtensionField> = kept_attributes
        .iter()
        .map(|attribute| ExtensionField {
            name: attribute.name.to_qname(),
            value: ExtensionValue::Text(attribute.value.clone()),
        })
        .collect();
    fields.extend(extension_fields(element.children.iter()));
    if element.has_significant_text() {
        fields.push(ExtensionField {
            name: QName::new("", None, TEXT_FIELD_NAME),
            value: ExtensionValue::Text(element.text.clone()),
        });
    }
    ExtensionValue::Object(fields)
}

/// Extension fields from sibling elements: repeated names become one
/// [`ExtensionValue::List`] at the position of their first occurrence (XML's form of a JSON
/// array).
fn extension_fields<'element>(
    elements: impl IntoIterator<Item = &'element XmlElement>,
) -> Vec<ExtensionField> {
    let elements: Vec<&XmlElement> = elements.into_iter().collect();
    let identity = |element: &'element XmlElement| {
        (
            element.name.namespace_iri.as_deref().unwrap_or_default(),
            element.name.local_name.as_str(),
        )
    };
    let mut occurrences: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for element in &elements {
        *occurrences.entry(identity(element)).or_default() += 1;
    }
    let mut position_of: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let mut fields: Vec<ExtensionField> = Vec::new();
    for element in elements {
        let key = identity(element);
        let value = extension_value(element);
        if let Some(&position) = position_of.get(&key) {
            if let Some(ExtensionValue::List(items)) =
                fields.get_mut(position).map(|field| &mut field.value)
            {
                items.push(value);
            }
            continue;
        }
        let repeated = occurrences.get(&key).is_some_and(|count| *count > 1);
        let value = if repeated { ExtensionValue::List(vec![value]) } else { value };
        position_of.insert(key, fields.len());
        fields.push(ExtensionField { name: element.name.to_qname(), value });
    }
    fields
}

/// Reads the element tree of a document into the model.
struct DocumentReader {
    /// How strictly the XSD shape is enforced.
    conformance: Conformance,
}

/// The standard fields of each event type in EPCIS 2.0 XSD sequence order (the position is the
/// rank [`Conformance::Strict`] checks). `persistentDisposition` and `ilmd` are read for every
/// type (at their ObjectEvent positions) so that the binding-neutral validation, not the XML
/// reader, decides where they are allowed.
fn field_sequence(event_type: EventType) -> &'static [&'static str] {
    match event_type {
        EventType::Object => &[
            "eventTime",
            "recordTime",
            "eventTimeZoneOffset",
            "eventID",
            "errorDeclaration",
            "certificationInfo",
            "epcList",
            "action",
            "bizStep",
            "disposition",
            "readPoint",
            "bizLocation",
            "bizTransactionList",
            "quantityList",
            "sourceList",
            "destinationList",
            "sensorElementList",
            "persistentDisposition",
            "ilmd",
        ],
        EventType::Aggregation => &[
            "eventTime",
            "recordTime",
            "eventTimeZoneOffset",
            "eventID",
            "errorDeclaration",
            "certificationInfo",
            "parentID",
            "childEPCs",
            "action",
            "bizStep",
            "disposition",
            "readPoint",
            "bizLocation",
            "bizTransactionList",
            "childQuantityList",
            "sourceList",
            "destinationList",
            "sensorElementList",
            "persistentDisposition",
            "ilmd",
        ],
        EventType::Transaction => &[
            "eventTime",
            "recordTime",
            "eventTimeZoneOffset",
            "eventID",
            "errorDeclaration",
            "certificationInfo",
            "bizTransactionList",
            "parentID",
            "epcList",
            "action",
            "bizStep",
            "disposition",
            "readPoint",
            "bizLocation",
            "quantityList",
            "sourceList",
            "destinationList",
            "sensorElementList",
            "persistentDisposition",
            "ilmd",
        ],
        EventType::Transformation => &[
            "eventTime",
            "recordTime",
            "eventTimeZoneOffset",
            "eventID",
            "errorDeclaration",
            "certificationInfo",
            "inputEPCList",
            "inputQuantityList",
            "outputEPCList",
            "outputQuantityList",
            "transformationID",
            "bizStep",
            "disposition",
            "readPoint",
            "bizLocation",
            "bizTransactionList",
            "sourceList",
            "destinationList",
            "sensorElementList",
            "persistentDisposition",
            "ilmd",
        ],
        EventType::Association => &[
            "eventTime",
            "recordTime",
            "eventTimeZoneOffset",
            "eventID",
            "errorDeclaration",
            "certificationInfo",
            "parentID",
            "childEPCs",
            "childQuantityList",
            "action",
            "bizStep",
            "disposition",
            "readPoint",
            "bizLocation",
            "bizTransactionList",
            "sourceList",
            "destinationList",
            "sensorElementList",
            "persistentDisposition",
            "ilmd",
        ],
    }
}

/// Whether `element` is an `extension` / `baseExtension` wrapper of EPCIS 1.x (or the 2.0
/// `extension` element), whose standard children are read as if they were not wrapped.
fn is_wrapper(element: &XmlElement) -> bool {
    element.name.is_standard("extension") || element.name.is_standard("baseExtension")
}

/// The standard elements and the extension elements of one event, wrappers unfolded.
#[derive(Default)]
struct EventParts<'tree> {
    /// Standard elements by name (each at most once, `certificationInfo` repeatable).
    standard: Vec<&'tree XmlElement>,
    /// User extension elements (other namespaces), in document order.
    extensions: Vec<&'tree XmlElement>,
}

impl DocumentReader {
    /// The whole document.
    fn document(&self, tree: XmlTree) -> Result<Document, Error> {
        let root = &tree.root;
        let is_capture = root.name.local_name == "EPCISDocument"
            && matches!(
                root.name.namespace_iri.as_deref(),
                Some(EPCIS_NAMESPACE | EPCIS_1_NAMESPACE)
            );
        let is_query = root.name.local_name == "EPCISQueryDocument"
            && root.name.namespace_iri.as_deref().is_some_and(is_epcis_namespace);
        if !is_capture && !is_query {
            return Err(Error::document(Problem::UnsupportedBinding(format!(
                "root element {} (namespace {:?}) is not an EPCISDocument in {EPCIS_NAMESPACE} \
                 or an EPCISQueryDocument in {EPCIS_QUERY_NAMESPACE}",
                root.name.display(),
                root.name.namespace_iri.as_deref().unwrap_or("none"),
            ))));
        }
        let schema_version = root
            .attribute("schemaVersion")
            .ok_or_else(|| Error::document(missing("schemaVersion")))?
            .trim()
            .to_owned();
        let creation_date_text = root
            .attribute("creationDate")
            .ok_or_else(|| Error::document(missing("creationDate")))?;
        let creation_date = timestamp("creationDate", creation_date_text, self.conformance)
            .map_err(Error::document)?;

        let namespaces = tree
            .declarations
            .iter()
            .filter(|namespace| !is_epcis_namespace(&namespace.iri))
            .cloned()
            .collect();
        let mut document = Document {
            kind: DocumentKind::Capture,
            schema_version,
            creation_date,
            namespaces,
            id: None,
            instance_identifier: None,
            sender: None,
            receiver: None,
            master_data: None,
            header_extensions: Vec::new(),
            events: Vec::new(),
            extensions: Vec::new(),
        };

        // Lenient only: a query result written without EPCISBody/QueryResults, its queryName
        // and resultsBody straight under the root (as some repositories export).
        let flat_query_results = is_query
            && self.conformance == Conformance::Lenient
            && root.child("EPCISBody").is_none()
            && root.child("resultsBody").is_some();
        let mut body = None;
        let mut document_extensions = Vec::new();
        for child in &root.children {
            if child.name.is_standard("EPCISHeader") {
                self.header(child, &mut document)?;
            } else if child.name.is_standard("EPCISBody") {
                if body.replace(child).is_some() {
                    return Err(Error::document(not_allowed(
                        "EPCISBody",
                        "appears more than once",
                    )));
                }
            } else if child.name.is_standard("extension") {
                document_extensions.extend(child.children.iter());
            } else if flat_query_results
                && QUERY_RESULTS_FIELDS.iter().any(|field| child.name.is_standard(field))
            {
            } else if child.name.is_in_standard_namespace() {
                return Err(Error::document(unknown_element(
                    &child.name,
                    root.name.local_name.as_str(),
                )));
            } else {
                document_extensions.push(child);
            }
        }
        if flat_query_results {
            self.query_results(root, &mut document, &mut Vec::new())?;
        } else {
            let body = body.ok_or_else(|| Error::document(missing("EPCISBody")))?;
            if is_capture {
                self.capture_body(body, &mut document, &mut document_extensions)?;
            } else {
                self.query_body(body, &mut document, &mut document_extensions)?;
            }
        }
        document.extensions = extension_fields(document_extensions);
        // Events were checked as they were read, so what is found here is outside them.
        if let Some(problem) = forbidden_character_in(root, &root.name.display()) {
            return Err(Error::document(problem));
        }
        Ok(document)
    }

    /// `EPCISHeader`: an optional SBDH (kept as a header extension), master data (directly or
    /// in the 1.x/2.0 `extension` wrapper), and further extension elements.
    fn header(&self, header: &XmlElement, document: &mut Document) -> Result<(), Error> {
        let mut header_extensions = Vec::new();
        let mut pending: Vec<&XmlElement> = header.children.iter().collect();
        pending.reverse();
        while let Some(child) = pending.pop() {
            if child.name.is_standard("EPCISMasterData") {
                let vocabulary_list = child
                    .child("VocabularyList")
                    .ok_or_else(|| Error::document(missing("EPCISMasterData.VocabularyList")))?;
                let vocabularies = vocabulary_list_of(vocabulary_list)?;
                document.master_data.get_or_insert_with(Vec::new).extend(vocabularies);
            } else if child.name.is_standard("extension") {
                pending.extend(child.children.iter().rev());
            } else if child.name.is_in_standard_namespace() {
                return Err(Error::document(unknown_element(&child.name, "EPCISHeader")));
            } else {
                header_extensions.push(child);
            }
        }
        document.header_extensions = extension_fields(header_extensions);
        Ok(())
    }

    /// `EPCISBody` of an `EPCISDocument`: `EventList`, then extensions.
    fn capture_body<'tree>(
        &self,
        body: &'tree XmlElement,
        document: &mut Document,
        document_extensions: &mut Vec<&'tree XmlElement>,
    ) -> Result<(), Error> {
        for child in &body.children {
            if child.name.is_standard("EventList") {
                self.event_list(child, &mut document.events)?;
            } else if child.name.is_standard("extension") {
                document_extensions.extend(child.children.iter());
            } else if child.name.is_in_standard_namespace() {
                return Err(Error::document(unknown_element(&child.name, "EPCISBody")));
            } else {
                document_extensions.push(child);
            }
        }
        Ok(())
    }

    /// `EPCISBody` of an `EPCISQueryDocument`: exactly one `QueryResults`.
    fn query_body<'tree>(
        &self,
        body: &'tree XmlElement,
        document: &mut Document,
        document_extensions: &mut Vec<&'tree XmlElement>,
    ) -> Result<(), Error> {
        let mut query_results = None;
        for child in &body.children {
            if child.name.is_standard("QueryResults") {
                if query_results.replace(child).is_some() {
                    return Err(Error::document(not_allowed(
                        "QueryResults",
                        "appears more than once",
                    )));
                }
            } else if child.name.is_in_standard_namespace() {
                return Err(Error::document(not_allowed(
                    &child.name.local_name,
                    "is a query-interface message, not query results: only an \
                     EPCISQueryDocument holding QueryResults carries events",
                )));
            } else {
                document_extensions.push(child);
            }
        }
        let query_results =
            query_results.ok_or_else(|| Error::document(missing("QueryResults")))?;
        self.query_results(query_results, document, document_extensions)
    }

    /// The content of `QueryResults`: `queryName`, `subscriptionID?`, `resultsBody` (events or
    /// master data), extensions. At the root of a flat (lenient) query document only
    /// `resultsBody` is read here: the header and extension siblings were read already.
    fn query_results<'tree>(
        &self,
        query_results: &'tree XmlElement,
        document: &mut Document,
        document_extensions: &mut Vec<&'tree XmlElement>,
    ) -> Result<(), Error> {
        let is_flat_root = query_results.name.local_name == "EPCISQueryDocument";
        let results_body = query_results.child("resultsBody");
        let query_name = match query_results.child("queryName") {
            Some(query_name) => query_name.trimmed_text().to_owned(),
            // The only standard queries: event results come from SimpleEventQuery, master
            // data from SimpleMasterDataQuery.
            None if self.conformance == Conformance::Lenient => {
                let holds_master_data =
                    results_body.is_some_and(|body| body.child("VocabularyList").is_some());
                let inferred =
                    if holds_master_data { "SimpleMasterDataQuery" } else { "SimpleEventQuery" };
                inferred.to_owned()
            }
            None => return Err(Error::document(missing("QueryResults.queryName"))),
        };
        let subscription_id =
            query_results.child("subscriptionID").map(|element| element.trimmed_text().to_owned());
        document.kind = DocumentKind::Query { query_name, subscription_id };
        for child in &query_results.children {
            if child.name.is_standard("resultsBody") {
                for result in &child.children {
                    if result.name.is_standard("EventList") {
                        self.event_list(result, &mut document.events)?;
                    } else if result.name.is_standard("VocabularyList") {
                        let vocabularies = vocabulary_list_of(result)?;
                        document.master_data.get_or_insert_with(Vec::new).extend(vocabularies);
                    } else {
                        return Err(Error::document(unknown_element(&result.name, "resultsBody")));
                    }
                }
            } else if is_flat_root
                || QUERY_RESULTS_FIELDS.iter().any(|field| child.name.is_standard(field))
            {
            } else if child.name.is_standard("extension") {
                document_extensions.extend(child.children.iter());
            } else if child.name.is_in_standard_namespace() {
                return Err(Error::document(unknown_element(&child.name, "QueryResults")));
            } else {
                document_extensions.push(child);
            }
        }
        Ok(())
    }

    /// `EventList`: the events in document order, unwrapping the 1.x `extension` elements that
    /// hold TransformationEvent (and AssociationEvent in the 1.2 revision).
    fn event_list(&self, event_list: &XmlElement, events: &mut Vec<Event>) -> Result<(), Error> {
        let mut pending: Vec<&XmlElement> = event_list.children.iter().collect();
        pending.reverse();
        while let Some(element) = pending.pop() {
            let index = events.len();
            if element.name.is_standard("extension") {
                pending.extend(element.children.iter().rev());
                continue;
            }
            let event_type = EventType::from_name(&element.name.local_name)
                .filter(|_| element.name.is_in_standard_namespace());
            let Some(event_type) = event_type else {
                let problem = if element.name.is_standard("QuantityEvent") {
                    Problem::Constraint(
                        "QuantityEvent was removed in EPCIS 2.0 (use an ObjectEvent with a \
                         quantityList)"
                            .to_owned(),
                    )
                } else {
                    not_an_event_type()
                };
                return Err(Error::event(index, element.name.display(), problem));
            };
            events.push(self.event(element, event_type, index)?);
        }
        Ok(())
    }

    /// Splits an event's children into standard and extension elements, unfolding wrappers, and
    /// enforces uniqueness and (when strict) the XSD order at each nesting level.
    fn event_parts<'tree>(
        &self,
        event_element: &'tree XmlElement,
        event_type: EventType,
    ) -> Result<EventParts<'tree>, Problem> {
        let sequence = field_sequence(event_type);
        let mut parts = EventParts::default();
        let mut levels: Vec<std::slice::Iter<'tree, XmlElement>> =
            vec![event_element.children.iter()];
        let mut last_rank_per_level: Vec<Option<(usize, &'tree str)>> = vec![None];
        let mut extension_seen_per_level: Vec<bool> = vec![false];
        while let Some(level) = levels.last_mut() {
            let Some(child) = level.next() else {
                levels.pop();
                last_rank_per_level.pop();
                extension_seen_per_level.pop();
                continue;
            };
            let depth = levels.len() - 1;
            if is_wrapper(child) {
                levels.push(child.children.iter());
                last_rank_per_level.push(None);
                extension_seen_per_level.push(false);
                continue;
            }
            if !child.name.is_in_standard_namespace() {
                parts.extensions.push(child);
                extension_seen_per_level[depth] = true;
                continue;
            }
            let local_name = child.name.local_name.as_str();
            let Some(rank) = sequence.iter().position(|field| *field == local_name) else {
                let belongs_to_another_type = EventType::ALL
                    .iter()
                    .any(|other_type| field_sequence(*other_type).contains(&local_name));
                return Err(if belongs_to_another_type {
                    not_allowed(
                        local_name,
                        format!("is not an element of {} in the EPCIS 2.0 XSD", event_type.name()),
                    )
                } else {
                    unknown_element(&child.name, event_type.name())
                });
            };
            let repeatable = local_name == "certificationInfo";
            if !repeatable && parts.standard.iter().any(|seen| seen.name.local_name == local_name) {
                return Err(not_allowed(local_name, "appears more than once"));
            }
            if self.conformance == Conformance::Strict {
                if let Some((last_rank, last_name)) = last_rank_per_level[depth]
                    && rank < last_rank
                {
                    return Err(not_allowed(
                        local_name,
                        format!("out of order: the EPCIS 2.0 XSD puts it before {last_name}"),
                    ));
                }
                if extension_seen_per_level[depth] {
                    return Err(not_allowed(
                        local_name,
                        "out of order: standard elements come before extension elements",
                    ));
                }
            }
            last_rank_per_level[depth] = Some((rank, sequence[rank]));
            parts.standard.push(child);
        }
        Ok(parts)
    }

    /// One event element of `event_type` at `index`.
    fn event(
        &self,
        element: &XmlElement,
        event_type: EventType,
        index: usize,
    ) -> Result<Event, Error> {
        let located = |problem: Problem| Error::event(index, element.name.display(), problem);
        if let Some(problem) = forbidden_character_in(element, "") {
            return Err(located(problem));
        }
        let parts = self.event_parts(element, event_type).map_err(located)?;
        let find =
            |name: &str| parts.standard.iter().copied().find(|child| child.name.local_name == name);
        let event_time_element = find("eventTime").ok_or_else(|| located(missing("eventTime")))?;
        let event_time =
            timestamp("eventTime", &event_time_element.text, self.conformance).map_err(located)?;
        let offset_element =
            find("eventTimeZoneOffset").ok_or_else(|| located(missing("eventTimeZoneOffset")))?;
        let mut event = Event::new(event_type, event_time);
        event.event_time_zone_offset = offset_element.trimmed_text().to_owned();
        for child in &parts.standard {
            self.standard_field(&mut event, child).map_err(located)?;
        }
        event.extensions = extension_fields(parts.extensions);
        Ok(event)
    }

    /// Reads one standard element of an event into `event`.
    fn standard_field(&self, event: &mut Event, element: &XmlElement) -> Result<(), Problem> {
        let text = element.trimmed_text();
        match element.name.local_name.as_str() {
            "eventTime" | "eventTimeZoneOffset" => {}
            "recordTime" => {
                event.record_time = Some(timestamp("recordTime", text, self.conformance)?);
            }
            "eventID" => event.event_id = Some(text.to_owned()),
            "errorDeclaration" => {
                event.error_declaration = Some(error_declaration(element, self.conformance)?)
            }
            "certificationInfo" => event.certification_info.push(text.to_owned()),
            "action" => {
                event.action = Some(Action::from_name(text).ok_or_else(|| {
                    invalid("action", text, "is not one of ADD, OBSERVE, DELETE")
                })?);
            }
            "epcList" => event.epc_list = Some(epc_list(element, "epcList")?),
            "childEPCs" => event.child_epcs = Some(epc_list(element, "childEPCs")?),
            "inputEPCList" => event.input_epc_list = Some(epc_list(element, "inputEPCList")?),
            "outputEPCList" => event.output_epc_list = Some(epc_list(element, "outputEPCList")?),
            "parentID" => event.parent_id = Some(text.to_owned()),
            "quantityList" => event.quantity_list = quantity_list(element, "quantityList")?,
            "childQuantityList" => {
                event.child_quantity_list = quantity_list(element, "childQuantityList")?;
            }
            "inputQuantityList" => {
                event.input_quantity_list = quantity_list(element, "inputQuantityList")?;
            }
            "outputQuantityList" => {
                event.output_quantity_list = quantity_list(element, "outputQuantityList")?;
            }
            "transformationID" => event.transformation_id = Some(text.to_owned()),
            "bizStep" => event.biz_step = Some(VocabularyValue::new(VocabularyKind::BizStep, text)),
            "disposition" => {
                event.disposition = Some(VocabularyValue::new(VocabularyKind::Disposition, text));
            }
            "persistentDisposition" => {
                event.persistent_disposition = Some(persistent_disposition(element)?);
            }
            "readPoint" => event.read_point = Some(location(element, "readPoint")?),
            "bizLocation" => event.biz_location = Some(location(element, "bizLocation")?),
            "bizTransactionList" => event.biz_transaction_list = biz_transaction_list(element)?,
            "sourceList" => {
                event.source_list = source_destination_list(element, "sourceList", "source")?;
            }
            "destinationList" => {
                event.destination_list =
                    source_destination_list(element, "destinationList", "destination")?;
            }
            "sensorElementList" => {
                event.sensor_element_list = sensor_element_list(element, self.conformance)?
            }
            "ilmd" => event.ilmd = Some(ilmd(element)?),
            other => return Err(not_allowed(other, "is not an EPCIS 2.0 event element")),
        }
        Ok(())
    }
}

/// The problem of an unknown unqualified (standard-namespace) element inside `parent`.
fn unknown_element(name: &XmlName, parent: &str) -> Problem {
    not_allowed(
        &name.display(),
        format!(
            "is not an element of {parent} in the EPCIS 2.0 XSD (extension elements need their \
             own namespace)"
        ),
    )
}

/// Checks that `element` has only standard children named `allowed`, returning them.
fn standard_children<'tree>(
    element: &'tree XmlElement,
    parent_field: &str,
    allowed: &[&str],
) -> Result<Vec<&'tree XmlElement>, Problem> {
    element
        .children
        .iter()
        .map(|child| {
            if child.name.is_in_standard_namespace()
                && allowed.contains(&child.name.local_name.as_str())
            {
                Ok(child)
            } else {
                Err(unknown_element(&child.name, parent_field))
            }
        })
        .collect()
}

/// An `EPCListType` element: its `epc` children's texts.
fn epc_list(element: &XmlElement, field: &str) -> Result<Vec<String>, Problem> {
    Ok(standard_children(element, field, &["epc"])?
        .into_iter()
        .map(|epc| epc.trimmed_text().to_owned())
        .collect())
}

/// A `QuantityListType` element.
fn quantity_list(element: &XmlElement, field: &str) -> Result<Vec<QuantityElement>, Problem> {
    standard_children(element, field, &["quantityElement"])?
        .into_iter()
        .enumerate()
        .map(|(position, quantity_element)| {
            let prefix = format!("{field}[{position}]");
            let parts =
                standard_children(quantity_element, &prefix, &["epcClass", "quantity", "uom"])?;
            let find = |name: &str| parts.iter().find(|part| part.name.local_name == name);
            let epc_class = find("epcClass")
                .ok_or_else(|| missing(&format!("{prefix}.epcClass")))?
                .trimmed_text()
                .to_owned();
            let quantity = match find("quantity") {
                Some(quantity)
                    if quantity
                        .namespaced_attribute(XSI_NAMESPACE, "nil")
                        .is_some_and(|nil| matches!(nil.trim(), "true" | "1")) =>
                {
                    None
                }
                Some(quantity) => Some(decimal(&format!("{prefix}.quantity"), &quantity.text)?),
                None => None,
            };
            let uom = find("uom").map(|uom| uom.trimmed_text().to_owned());
            Ok(QuantityElement { epc_class, quantity, uom })
        })
        .collect()
}

/// A `readPoint` / `bizLocation` element: `id`, then extensions.
fn location(element: &XmlElement, field: &str) -> Result<Location, Problem> {
    let mut id = None;
    let mut extensions = Vec::new();
    let mut pending: Vec<&XmlElement> = element.children.iter().rev().collect();
    while let Some(child) = pending.pop() {
        if child.name.is_standard("id") {
            id = Some(child.trimmed_text().to_owned());
        } else if is_wrapper(child) {
            pending.extend(child.children.iter().rev());
        } else if child.name.is_in_standard_namespace() {
            return Err(unknown_element(&child.name, field));
        } else {
            extensions.push(child);
        }
    }
    let id = id.ok_or_else(|| missing(&format!("{field}.id")))?;
    Ok(Location { id, extensions: extension_fields(extensions) })
}

/// `bizTransactionList`.
fn biz_transaction_list(element: &XmlElement) -> Result<Vec<BizTransaction>, Problem> {
    Ok(standard_children(element, "bizTransactionList", &["bizTransaction"])?
        .into_iter()
        .map(|transaction| BizTransaction {
            transaction_type: transaction.attribute("type").map(|written| {
                VocabularyValue::new(VocabularyKind::BizTransactionType, written.trim())
            }),
            value: transaction.trimmed_text().to_owned(),
        })
        .collect())
}

/// `sourceList` / `destinationList` (the `type` attribute is required).
fn source_destination_list(
    element: &XmlElement,
    field: &str,
    item: &str,
) -> Result<Vec<SourceDestination>, Problem> {
    standard_children(element, field, &[item])?
        .into_iter()
        .enumerate()
        .map(|(position, entry)| {
            let written_type = entry
                .attribute("type")
                .ok_or_else(|| missing(&format!("{field}[{position}].type")))?;
            Ok(SourceDestination {
                source_destination_type: VocabularyValue::new(
                    VocabularyKind::SourceDestinationType,
                    written_type.trim(),
                ),
                id: entry.trimmed_text().to_owned(),
            })
        })
        .collect()
}

/// `persistentDisposition`: `unset*` then `set*`.
fn persistent_disposition(element: &XmlElement) -> Result<PersistentDisposition, Problem> {
    let mut disposition = PersistentDisposition { set: Vec::new(), unset: Vec::new() };
    for child in standard_children(element, "persistentDisposition", &["set", "unset"])? {
        let value = VocabularyValue::new(VocabularyKind::Disposition, child.trimmed_text());
        if child.name.local_name == "set" {
            disposition.set.push(value);
        } else {
            disposition.unset.push(value);
        }
    }
    Ok(disposition)
}

/// `ilmd`: namespaced fields (the 1.x `extension` wrapper unfolded).
fn ilmd(element: &XmlElement) -> Result<Vec<ExtensionField>, Problem> {
    let mut fields = Vec::new();
    let mut pending: Vec<&XmlElement> = element.children.iter().rev().collect();
    while let Some(child) = pending.pop() {
        if child.name.is_standard("extension") {
            pending.extend(child.children.iter().rev());
        } else if child.name.is_in_standard_namespace() {
            return Err(not_allowed(
                &format!("ilmd.{}", child.name.display()),
                "ilmd fields must be in their own namespace",
            ));
        } else {
            fields.push(child);
        }
    }
    Ok(extension_fields(fields))
}

/// `errorDeclaration`: its children form an XSD choice, so any order is accepted.
fn error_declaration(
    element: &XmlElement,
    conformance: Conformance,
) -> Result<ErrorDeclaration, Problem> {
    let mut declaration_time = None;
    let mut reason = None;
    let mut corrective_event_ids = Vec::new();
    let mut extensions = Vec::new();
    let mut pending: Vec<&XmlElement> = element.children.iter().rev().collect();
    while let Some(child) = pending.pop() {
        if child.name.is_standard("declarationTime") {
            declaration_time =
                Some(timestamp("errorDeclaration.declarationTime", &child.text, conformance)?);
        } else if child.name.is_standard("reason") {
            reason = Some(VocabularyValue::new(VocabularyKind::ErrorReason, child.trimmed_text()));
        } else if child.name.is_standard("correctiveEventIDs") {
            for corrective in standard_children(
                child,
                "errorDeclaration.correctiveEventIDs",
                &["correctiveEventID"],
            )? {
                corrective_event_ids.push(corrective.trimmed_text().to_owned());
            }
        } else if child.name.is_standard("extension") {
            pending.extend(child.children.iter().rev());
        } else if child.name.is_in_standard_namespace() {
            return Err(unknown_element(&child.name, "errorDeclaration"));
        } else {
            extensions.push(child);
        }
    }
    Ok(ErrorDeclaration {
        declaration_time: declaration_time
            .ok_or_else(|| missing("errorDeclaration.declarationTime"))?,
        reason,
        corrective_event_ids,
        extensions: extension_fields(extensions),
    })
}

/// `sensorElementList`.
fn sensor_element_list(
    element: &XmlElement,
    conformance: Conformance,
) -> Result<Vec<SensorElement>, Problem> {
    let mut sensor_elements = Vec::new();
    for child in &element.children {
        if child.name.is_standard("sensorElement") {
            sensor_elements.push(sensor_element(child, sensor_elements.len(), conformance)?);
        } else if !child.name.is_standard("extension") {
            return Err(unknown_element(&child.name, "sensorElementList"));
        }
    }
    Ok(sensor_elements)
}

/// One `sensorElement`: `sensorMetadata?`, `sensorReport+`, extensions.
fn sensor_element(
    element: &XmlElement,
    position: usize,
    conformance: Conformance,
) -> Result<SensorElement, Problem> {
    let field = format!("sensorElementList[{position}]");
    let mut sensor_metadata = None;
    let mut sensor_report = Vec::new();
    let mut extensions = Vec::new();
    let mut pending: Vec<&XmlElement> = element.children.iter().rev().collect();
    while let Some(child) = pending.pop() {
        if child.name.is_standard("sensorMetadata") {
            sensor_metadata = Some(sensor_metadata_of(child, &field, conformance)?);
        } else if child.name.is_standard("sensorReport") {
            let report_field = format!("{field}.sensorReport[{}]", sensor_report.len());
            sensor_report.push(sensor_report_of(child, &report_field, conformance)?);
        } else if child.name.is_standard("extension") {
            pending.extend(child.children.iter().rev());
        } else if child.name.is_in_standard_namespace() {
            return Err(unknown_element(&child.name, "sensorElement"));
        } else {
            extensions.push(child);
        }
    }
    Ok(SensorElement { sensor_metadata, sensor_report, extensions: extension_fields(extensions) })
}

/// The extension attributes (other namespaces) and extension child elements of a sensor
/// element whose standard data are attributes.
fn attribute_extensions(element: &XmlElement, field: &str) -> Result<Vec<ExtensionField>, Problem> {
    let mut fields: Vec<ExtensionField> = element
        .attributes
        .iter()
        .filter(|attribute| attribute.name.namespace_iri.is_some())
        .filter(|attribute| attribute.name.namespace_iri.as_deref() != Some(XSI_NAMESPACE))
        .map(|attribute| ExtensionField {
            name: attribute.name.to_qname(),
            value: ExtensionValue::Text(attribute.value.clone()),
        })
        .collect();
    let mut child_elements = Vec::new();
    for child in &element.children {
        if child.name.is_in_standard_namespace() {
            return Err(unknown_element(&child.name, field));
        }
        child_elements.push(child);
    }
    fields.extend(extension_fields(child_elements));
    Ok(fields)
}

/// `sensorMetadata` (all data in attributes).
fn sensor_metadata_of(
    element: &XmlElement,
    field: &str,
    conformance: Conformance,
) -> Result<SensorMetadata, Problem> {
    let field = format!("{field}.sensorMetadata");
    let mut metadata = SensorMetadata::default();
    for attribute in
        element.attributes.iter().filter(|attribute| attribute.name.namespace_iri.is_none())
    {
        let name = format!("{field}.{}", attribute.name.local_name);
        let value = attribute.value.trim();
        match attribute.name.local_name.as_str() {
            "time" => metadata.time = Some(timestamp(&name, value, conformance)?),
            "startTime" => metadata.start_time = Some(timestamp(&name, value, conformance)?),
            "endTime" => metadata.end_time = Some(timestamp(&name, value, conformance)?),
            "deviceID" => metadata.device_id = Some(value.to_owned()),
            "deviceMetadata" => metadata.device_metadata = Some(value.to_owned()),
            "rawData" => metadata.raw_data = Some(value.to_owned()),
            "dataProcessingMethod" => metadata.data_processing_method = Some(value.to_owned()),
            "bizRules" => metadata.biz_rules = Some(value.to_owned()),
            _ => {
                return Err(not_allowed(
                    &name,
                    "is not a sensorMetadata attribute in the EPCIS 2.0 XSD",
                ));
            }
        }
    }
    metadata.extensions = attribute_extensions(element, &field)?;
    Ok(metadata)
}

/// `sensorReport` (all data in attributes).
fn sensor_report_of(
    element: &XmlElement,
    field: &str,
    conformance: Conformance,
) -> Result<SensorReport, Problem> {
    let mut report = SensorReport::default();
    for attribute in
        element.attributes.iter().filter(|attribute| attribute.name.namespace_iri.is_none())
    {
        let name = format!("{field}.{}", attribute.name.local_name);
        let value = attribute.value.trim();
        let text = || Some(value.to_owned());
        match attribute.name.local_name.as_str() {
            "type" => {
                report.measurement_type =
                    Some(VocabularyValue::new(VocabularyKind::MeasurementType, value));
            }
            "exception" => {
                report.exception =
                    Some(VocabularyValue::new(VocabularyKind::SensorAlertType, value));
            }
            "component" => {
                report.component = Some(VocabularyValue::new(VocabularyKind::Component, value));
            }
            "deviceID" => report.device_id = text(),
            "deviceMetadata" => report.device_metadata = text(),
            "rawData" => report.raw_data = text(),
            "dataProcessingMethod" => report.data_processing_method = text(),
            "bizRules" => report.biz_rules = text(),
            "time" => report.time = Some(timestamp(&name, value, conformance)?),
            "microorganism" => report.microorganism = text(),
            "chemicalSubstance" => report.chemical_substance = text(),
            "value" => report.value = Some(decimal(&name, value)?),
            "stringValue" => report.string_value = Some(attribute.value.clone()),
            "booleanValue" => report.boolean_value = Some(boolean(&name, value)?),
            "hexBinaryValue" => report.hex_binary_value = text(),
            "uriValue" => report.uri_value = text(),
            "minValue" => report.min_value = Some(decimal(&name, value)?),
            "maxValue" => report.max_value = Some(decimal(&name, value)?),
            "meanValue" => report.mean_value = Some(decimal(&name, value)?),
            "sDev" => report.s_dev = Some(decimal(&name, value)?),
            "percRank" => report.perc_rank = Some(decimal(&name, value)?),
            "percValue" => report.perc_value = Some(decimal(&name, value)?),
            "uom" => report.uom = text(),
            "coordinateReferenceSystem" => report.coordinate_reference_system = text(),
            _ => {
                return Err(not_allowed(
                    &name,
                    "is not a sensorReport attribute in the EPCIS 2.0 XSD",
                ));
            }
        }
    }
    report.extensions = attribute_extensions(element, field)?;
    Ok(report)
}

/// `VocabularyList` (master data): its `Vocabulary` elements.
fn vocabulary_list_of(element: &XmlElement) -> Result<Vec<Vocabulary>, Error> {
    let mut vocabularies = Vec::new();
    for vocabulary in &element.children {
        if !vocabulary.name.is_standard("Vocabulary") {
            return Err(Error::document(unknown_element(&vocabulary.name, "VocabularyList")));
        }
        let vocabulary_type = vocabulary
            .attribute("type")
            .ok_or_else(|| Error::document(missing("Vocabulary.type")))?
            .trim()
            .to_owned();
        let mut elements = Vec::new();
        if let Some(element_list) = vocabulary.child("VocabularyElementList") {
            for vocabulary_element in &element_list.children {
                if !vocabulary_element.name.is_standard("VocabularyElement") {
                    return Err(Error::document(unknown_element(
                        &vocabulary_element.name,
                        "VocabularyElementList",
                    )));
                }
                elements.push(vocabulary_element_of(vocabulary_element).map_err(Error::document)?);
            }
        }
        vocabularies.push(Vocabulary { vocabulary_type, elements });
    }
    Ok(vocabularies)
}

/// One `VocabularyElement`: `attribute*`, `children?`, extensions.
fn vocabulary_element_of(element: &XmlElement) -> Result<VocabularyElement, Problem> {
    let id =
        element.attribute("id").ok_or_else(|| missing("VocabularyElement.id"))?.trim().to_owned();
    let mut attributes = Vec::new();
    let mut children = Vec::new();
    let mut extensions = Vec::new();
    let mut pending: Vec<&XmlElement> = element.children.iter().rev().collect();
    while let Some(child) = pending.pop() {
        if child.name.is_standard("attribute") {
            let attribute_id = child
                .attribute("id")
                .ok_or_else(|| missing("VocabularyElement.attribute.id"))?
                .trim()
                .to_owned();
            let value = if child.children.is_empty() {
                ExtensionValue::Text(child.text.clone())
            } else {
                ExtensionValue::Object(extension_fields(child.children.iter()))
            };
            attributes.push(MasterDataAttribute { id: attribute_id, value });
        } else if child.name.is_standard("children") {
            for id in standard_children(child, "VocabularyElement.children", &["id"])? {
                children.push(id.trimmed_text().to_owned());
            }
        } else if child.name.is_standard("extension") {
            pending.extend(child.children.iter().rev());
        } else if child.name.is_in_standard_namespace() {
            return Err(unknown_element(&child.name, "VocabularyElement"));
        } else {
            extensions.push(child);
        }
    }
    Ok(VocabularyElement { id, attributes, children, extensions: extension_fields(extensions) })
}

// ---------------------------------------------------------------------------------------------
// Poll requests of the query interface
// ---------------------------------------------------------------------------------------------

/// A `Poll` request of the EPCIS query interface (XML binding): which query to run with which
/// parameters. Carried in an `EPCISQueryDocument` body (or bare, as a SOAP body would).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollRequest {
    /// `queryName` (required), e.g. `SimpleEventQuery`.
    pub query_name: String,
    /// The parameters in document order; a name may repeat as written.
    pub params: Vec<QueryParam>,
}

/// One `param` of a [`PollRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryParam {
    /// `name`, e.g. `EQ_bizStep`, `GE_eventTime`.
    pub name: String,
    /// `value`: one text, or the `string` items of an `ArrayOfString`, trimmed.
    pub values: Vec<String>,
}

/// Parses a `Poll` request (`EPCISQueryDocument/EPCISBody/Poll`, or a bare `Poll` element).
/// Every `param` needs a `name` and a `value`; errors name the parameter by position.
pub fn parse_poll(bytes: &[u8]) -> Result<PollRequest, Error> {
    let tree = parse_tree(bytes)?;
    let root = &tree.root;
    if let Some(problem) = forbidden_character_in(root, &root.name.display()) {
        return Err(Error::document(problem));
    }
    let is_poll = |element: &XmlElement| {
        element.name.local_name == "Poll"
            && element.name.namespace_iri.as_deref().is_none_or(is_epcis_namespace)
    };
    let poll = if is_poll(root) {
        root
    } else if root.name.local_name == "EPCISQueryDocument" {
        root.child("EPCISBody")
            .ok_or_else(|| Error::document(missing("EPCISBody")))?
            .children
            .iter()
            .find(|child| is_poll(child))
            .ok_or_else(|| Error::document(missing("EPCISBody.Poll")))?
    } else {
        return Err(Error::document(Problem::UnsupportedBinding(format!(
            "root element {} is neither an EPCISQueryDocument nor a Poll",
            root.name.display()
        ))));
    };
    let query_name = poll
        .child("queryName")
        .map(|name| name.trimmed_text().to_owned())
        .filter(|name| !name.is_empty())
        .ok_or_else(|| Error::document(missing("queryName")))?;
    let mut params = Vec::new();
    if let Some(param_list) = poll.child("params") {
        for (position, param) in param_list.children.iter().enumerate() {
            let field = format!("params.param[{position}]");
            if !param.name.is_standard("param") {
                return Err(Error::document(unknown_element(&param.name, "params")));
            }
            let name = param
                .child("name")
                .map(|name| name.trimmed_text().to_owned())
                .filter(|name| !name.is_empty())
                .ok_or_else(|| Error::document(missing(&format!("{field}.name"))))?;
            let value = param
                .child("value")
                .ok_or_else(|| Error::document(missing(&format!("{field}.value"))))?;
            let values = if value.children.is_empty() {
                vec![value.trimmed_text().to_owned()]
            } else {
                value.children.iter().map(|item| item.trimmed_text().to_owned()).collect()
            };
            params.push(QueryParam { name, values });
        }
    }
    Ok(PollRequest { query_name, params })
}

// ---------------------------------------------------------------------------------------------
// Model → XML text
// ---------------------------------------------------------------------------------------------

/// Writes `document` in the EPCIS 2.0 XSD shape with standard vocabulary values as EPC URNs
/// ([`CbvXmlFormat::AlwaysEpcUrn`]); identifiers, quantities and times as the model holds them.
pub fn to_xml(document: &Document) -> String {
    to_xml_with(document, &WriteOptions::default())
}

/// [`to_xml`] with explicit [`WriteOptions`].
///
/// Shape notes: EPCIS 1.x `extension` wrappers are never written (every field sits at its 2.0
/// position); lists the XSD requires (`epcList` of Object/TransactionEvent, `childEPCs` of
/// AggregationEvent) are written empty when the model has none; numbers and booleans in
/// extensions carry `xsi:type` so they read back as numbers and booleans; master data goes in
/// `EPCISHeader/extension/EPCISMasterData` (or in `resultsBody` of an event-less query result).
pub fn to_xml_with(document: &Document, options: &WriteOptions) -> String {
    let writer = ModelWriter { cbv_format: options.cbv_format };
    let root = writer.document(document);
    let mut preset_declarations: Vec<(String, String)> = Vec::new();
    for namespace in &document.namespaces {
        let reserved = matches!(namespace.prefix.as_str(), "epcis" | "epcisq" | "xml" | "xmlns");
        let already = preset_declarations.iter().any(|(prefix, _)| *prefix == namespace.prefix);
        if !reserved && !already && is_xml_ncname(&namespace.prefix) {
            preset_declarations.push((namespace.prefix.clone(), namespace.iri.clone()));
        }
    }
    let mut serializer =
        Serializer { output: String::new(), scope: Vec::new(), generated_prefixes: 0 };
    serializer.output.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    serializer.element(&root, 0, preset_declarations);
    serializer.output.push('\n');
    serializer.output
}

/// Writes one event as a bare event element (the XML body of the REST binding's
/// `POST /events`), the counterpart of [`parse_event`].
pub fn event_to_xml(event: &Event, options: &WriteOptions) -> String {
    let writer = ModelWriter { cbv_format: options.cbv_format };
    let node = writer.event(event);
    let mut serializer =
        Serializer { output: String::new(), scope: Vec::new(), generated_prefixes: 0 };
    serializer.output.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    serializer.element(&node, 0, Vec::new());
    serializer.output.push('\n');
    serializer.output
}

/// A name to write: namespace plus the prefix it would like to be written with.
#[derive(Debug, Clone)]
struct OutName {
    /// `None` for the unqualified standard elements.
    namespace_iri: Option<String>,
    /// The prefix to reuse when it is free (the one the source document used).
    preferred_prefix: Option<String>,
    /// The local part.
    local_name: String,
}

impl OutName {
    /// An unqualified (standard) name.
    fn standard(local_name: &str) -> Self {
        Self { namespace_iri: None, preferred_prefix: None, local_name: local_name.to_owned() }
    }

    /// A name in `namespace_iri`, preferably written with `prefix`.
    fn qualified(namespace_iri: &str, prefix: &str, local_name: &str) -> Self {
        Self {
            namespace_iri: Some(namespace_iri.to_owned()),
            preferred_prefix: Some(prefix.to_owned()),
            local_name: local_name.to_owned(),
        }
    }

    /// The XML name of an extension field (an empty namespace means unqualified).
    fn of_qname(name: &QName) -> Self {
        Self {
            namespace_iri: (!name.namespace_iri.is_empty()).then(|| name.namespace_iri.clone()),
            preferred_prefix: name.prefix.clone(),
            local_name: name.local_name.clone(),
        }
    }
}

/// An element to write.
#[derive(Debug, Clone)]
struct OutNode {
    /// Its name.
    name: OutName,
    /// Attributes in order.
    attributes: Vec<(OutName, String)>,
    /// `xsi:type` as an XSD type's local name (`decimal`), written with whatever prefix the
    /// XML Schema namespace gets.
    xsi_type: Option<&'static str>,
    /// Child elements.
    children: Vec<OutNode>,
    /// Character content (written before the children).
    text: Option<String>,
}

impl OutNode {
    /// An empty element `name`.
    fn new(name: OutName) -> Self {
        Self { name, attributes: Vec::new(), xsi_type: None, children: Vec::new(), text: None }
    }

    /// The standard element `local_name` holding `text`.
    fn text(local_name: &str, text: impl Into<String>) -> Self {
        let mut node = Self::new(OutName::standard(local_name));
        node.text = Some(text.into());
        node
    }

    /// The standard element `local_name` holding `children`.
    fn parent(local_name: &str, children: Vec<OutNode>) -> Self {
        let mut node = Self::new(OutName::standard(local_name));
        node.children = children;
        node
    }

    /// Adds the unqualified attribute `name="value"`.
    fn with_attribute(mut self, name: &str, value: impl Into<String>) -> Self {
        self.attributes.push((OutName::standard(name), value.into()));
        self
    }
}

/// Turns model values into [`OutNode`]s in XSD order.
struct ModelWriter {
    /// How standard vocabulary values are spelled.
    cbv_format: CbvXmlFormat,
}

impl ModelWriter {
    /// The root element.
    fn document(&self, document: &Document) -> OutNode {
        let query = match &document.kind {
            DocumentKind::Capture => None,
            DocumentKind::Query { query_name, subscription_id } => {
                Some((query_name, subscription_id))
            }
        };
        let mut root = match query {
            None => OutNode::new(OutName::qualified(EPCIS_NAMESPACE, "epcis", "EPCISDocument")),
            Some(_) => OutNode::new(OutName::qualified(
                EPCIS_QUERY_NAMESPACE,
                "epcisq",
                "EPCISQueryDocument",
            )),
        };
        root = root
            .with_attribute("schemaVersion", document.schema_version.clone())
            .with_attribute("creationDate", document.creation_date.as_str());
        let master_data_in_results =
            query.is_some() && document.events.is_empty() && document.master_data.is_some();
        let header_master_data = document.master_data.as_ref().filter(|_| !master_data_in_results);
        if !document.header_extensions.is_empty() || header_master_data.is_some() {
            let mut header = OutNode::parent("EPCISHeader", Vec::new());
            let (sbdh, other_header_extensions): (Vec<&ExtensionField>, Vec<&ExtensionField>) =
                document
                    .header_extensions
                    .iter()
                    .partition(|field| field.name.namespace_iri == SBDH_NAMESPACE);
            header.children.extend(sbdh.into_iter().flat_map(|field| self.extension_nodes(field)));
            if let Some(vocabularies) = header_master_data {
                let master_data =
                    OutNode::parent("EPCISMasterData", vec![self.vocabulary_list(vocabularies)]);
                header.children.push(OutNode::parent("extension", vec![master_data]));
            }
            header.children.extend(
                other_header_extensions.into_iter().flat_map(|field| self.extension_nodes(field)),
            );
            root.children.push(header);
        }
        let event_list = OutNode::parent(
            "EventList",
            document.events.iter().map(|event| self.event(event)).collect(),
        );
        let body_content = match query {
            None => event_list,
            Some((query_name, subscription_id)) => {
                let mut query_results = OutNode::new(OutName::qualified(
                    EPCIS_QUERY_NAMESPACE,
                    "epcisq",
                    "QueryResults",
                ));
                query_results.children.push(OutNode::text("queryName", query_name.clone()));
                if let Some(subscription_id) = subscription_id {
                    query_results
                        .children
                        .push(OutNode::text("subscriptionID", subscription_id.clone()));
                }
                let results = match document.master_data.as_ref().filter(|_| master_data_in_results)
                {
                    Some(vocabularies) => self.vocabulary_list(vocabularies),
                    None => event_list,
                };
                query_results.children.push(OutNode::parent("resultsBody", vec![results]));
                query_results
            }
        };
        root.children.push(OutNode::parent("EPCISBody", vec![body_content]));
        let (unqualified, qualified): (Vec<&ExtensionField>, Vec<&ExtensionField>) =
            document.extensions.iter().partition(|field| field.name.namespace_iri.is_empty());
        if !unqualified.is_empty() {
            root.children.push(OutNode::parent(
                "extension",
                unqualified.into_iter().flat_map(|field| self.extension_nodes(field)).collect(),
            ));
        }
        root.children.extend(qualified.into_iter().flat_map(|field| self.extension_nodes(field)));
        root
    }

    /// `VocabularyList`.
    fn vocabulary_list(&self, vocabularies: &[Vocabulary]) -> OutNode {
        OutNode::parent(
            "VocabularyList",
            vocabularies
                .iter()
                .map(|vocabulary| {
                    let elements: Vec<OutNode> = vocabulary
                        .elements
                        .iter()
                        .map(|element| self.vocabulary_element(element))
                        .collect();
                    let mut node = OutNode::parent("Vocabulary", Vec::new())
                        .with_attribute("type", vocabulary.vocabulary_type.clone());
                    if !elements.is_empty() {
                        node.children.push(OutNode::parent("VocabularyElementList", elements));
                    }
                    node
                })
                .collect(),
        )
    }

    /// One `VocabularyElement`.
    fn vocabulary_element(&self, element: &VocabularyElement) -> OutNode {
        let mut node = OutNode::parent("VocabularyElement", Vec::new())
            .with_attribute("id", element.id.clone());
        for attribute in &element.attributes {
            let mut attribute_node =
                OutNode::parent("attribute", Vec::new()).with_attribute("id", attribute.id.clone());
            self.fill_with_value(&mut attribute_node, &attribute.value);
            node.children.push(attribute_node);
        }
        if !element.children.is_empty() {
            node.children.push(OutNode::parent(
                "children",
                element.children.iter().map(|id| OutNode::text("id", id.clone())).collect(),
            ));
        }
        node.children
            .extend(element.extensions.iter().flat_map(|field| self.extension_nodes(field)));
        node
    }

    /// One event, its standard elements in the XSD order of its type, then its extensions.
    fn event(&self, event: &Event) -> OutNode {
        let mut node = OutNode::parent(event.event_type.name(), Vec::new());
        for field in field_sequence(event.event_type) {
            node.children.extend(self.event_field(event, field));
        }
        node.children.extend(event.extensions.iter().flat_map(|field| self.extension_nodes(field)));
        node
    }

    /// The element(s) for the standard field `field` of `event` (none when absent).
    fn event_field(&self, event: &Event, field: &str) -> Vec<OutNode> {
        let spell = |value: &VocabularyValue| self.cbv_format.spell(value);
        let epcs = |name: &str, epcs: &[String]| {
            OutNode::parent(
                name,
                epcs.iter().map(|epc| OutNode::text("epc", epc.clone())).collect(),
            )
        };
        let required_epcs = |name: &str, list: &Option<Vec<String>>| {
            vec![epcs(name, list.as_deref().unwrap_or_default())]
        };
        let optional_epcs = |name: &str, list: &Option<Vec<String>>| {
            list.as_deref().map(|list| epcs(name, list)).into_iter().collect()
        };
        let optional_text = |name: &str, value: &Option<String>| {
            value.iter().map(|value| OutNode::text(name, value.clone())).collect()
        };
        match field {
            "eventTime" => vec![OutNode::text("eventTime", event.event_time.as_str())],
            "recordTime" => event
                .record_time
                .iter()
                .map(|record_time| OutNode::text("recordTime", record_time.as_str()))
                .collect(),
            "eventTimeZoneOffset" => {
                vec![OutNode::text("eventTimeZoneOffset", event.event_time_zone_offset.clone())]
            }
            "eventID" => optional_text("eventID", &event.event_id),
            "errorDeclaration" => event
                .error_declaration
                .iter()
                .map(|declaration| self.error_declaration(declaration))
                .collect(),
            "certificationInfo" => event
                .certification_info
                .iter()
                .map(|certificate| OutNode::text("certificationInfo", certificate.clone()))
                .collect(),
            "epcList" if matches!(event.event_type, EventType::Object | EventType::Transaction) => {
                required_epcs("epcList", &event.epc_list)
            }
            "epcList" => optional_epcs("epcList", &event.epc_list),
            "childEPCs" if event.event_type == EventType::Aggregation => {
                required_epcs("childEPCs", &event.child_epcs)
            }
            "childEPCs" => optional_epcs("childEPCs", &event.child_epcs),
            "inputEPCList" => optional_epcs("inputEPCList", &event.input_epc_list),
            "outputEPCList" => optional_epcs("outputEPCList", &event.output_epc_list),
            "action" => {
                event.action.iter().map(|action| OutNode::text("action", action.name())).collect()
            }
            "parentID" => optional_text("parentID", &event.parent_id),
            "transformationID" => optional_text("transformationID", &event.transformation_id),
            "bizStep" => {
                event.biz_step.iter().map(|value| OutNode::text("bizStep", spell(value))).collect()
            }
            "disposition" => event
                .disposition
                .iter()
                .map(|value| OutNode::text("disposition", spell(value)))
                .collect(),
            "readPoint" => event
                .read_point
                .iter()
                .map(|location| self.location("readPoint", location))
                .collect(),
            "bizLocation" => event
                .biz_location
                .iter()
                .map(|location| self.location("bizLocation", location))
                .collect(),
            "bizTransactionList" => self.biz_transaction_list(&event.biz_transaction_list),
            "quantityList" => self.quantity_list("quantityList", &event.quantity_list),
            "childQuantityList" => {
                self.quantity_list("childQuantityList", &event.child_quantity_list)
            }
            "inputQuantityList" => {
                self.quantity_list("inputQuantityList", &event.input_quantity_list)
            }
            "outputQuantityList" => {
                self.quantity_list("outputQuantityList", &event.output_quantity_list)
            }
            "sourceList" => {
                self.source_destination_list("sourceList", "source", &event.source_list)
            }
            "destinationList" => self.source_destination_list(
                "destinationList",
                "destination",
                &event.destination_list,
            ),
            "sensorElementList" => self.sensor_element_list(&event.sensor_element_list),
            "persistentDisposition" => event
                .persistent_disposition
                .iter()
                .map(|disposition| {
                    let unset =
                        disposition.unset.iter().map(|value| OutNode::text("unset", spell(value)));
                    let set =
                        disposition.set.iter().map(|value| OutNode::text("set", spell(value)));
                    OutNode::parent("persistentDisposition", unset.chain(set).collect())
                })
                .collect(),
            "ilmd" => event
                .ilmd
                .iter()
                .map(|fields| {
                    OutNode::parent(
                        "ilmd",
                        fields.iter().flat_map(|field| self.extension_nodes(field)).collect(),
                    )
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// `errorDeclaration`.
    fn error_declaration(&self, declaration: &ErrorDeclaration) -> OutNode {
        let mut node = OutNode::parent(
            "errorDeclaration",
            vec![OutNode::text("declarationTime", declaration.declaration_time.as_str())],
        );
        if let Some(reason) = &declaration.reason {
            node.children.push(OutNode::text("reason", self.cbv_format.spell(reason)));
        }
        if !declaration.corrective_event_ids.is_empty() {
            node.children.push(OutNode::parent(
                "correctiveEventIDs",
                declaration
                    .corrective_event_ids
                    .iter()
                    .map(|id| OutNode::text("correctiveEventID", id.clone()))
                    .collect(),
            ));
        }
        node.children
            .extend(declaration.extensions.iter().flat_map(|field| self.extension_nodes(field)));
        node
    }

    /// `readPoint` / `bizLocation`.
    fn location(&self, name: &str, location: &Location) -> OutNode {
        let mut node = OutNode::parent(name, vec![OutNode::text("id", location.id.clone())]);
        node.children
            .extend(location.extensions.iter().flat_map(|field| self.extension_nodes(field)));
        node
    }

    /// `bizTransactionList` (nothing when empty: the XSD wants at least one entry).
    fn biz_transaction_list(&self, transactions: &[BizTransaction]) -> Vec<OutNode> {
        if transactions.is_empty() {
            return Vec::new();
        }
        let entries = transactions
            .iter()
            .map(|transaction| {
                let node = OutNode::text("bizTransaction", transaction.value.clone());
                match &transaction.transaction_type {
                    Some(transaction_type) => {
                        node.with_attribute("type", self.cbv_format.spell(transaction_type))
                    }
                    None => node,
                }
            })
            .collect();
        vec![OutNode::parent("bizTransactionList", entries)]
    }

    /// A quantity list (nothing when empty).
    fn quantity_list(&self, name: &str, quantities: &[QuantityElement]) -> Vec<OutNode> {
        if quantities.is_empty() {
            return Vec::new();
        }
        let entries = quantities
            .iter()
            .map(|quantity| {
                let mut node = OutNode::parent(
                    "quantityElement",
                    vec![OutNode::text("epcClass", quantity.epc_class.clone())],
                );
                match (&quantity.quantity, &quantity.uom) {
                    (Some(amount), _) => {
                        node.children.push(OutNode::text("quantity", amount.as_str()))
                    }
                    (None, Some(_)) => {
                        let mut nil = OutNode::new(OutName::standard("quantity"));
                        nil.attributes.push((
                            OutName::qualified(XSI_NAMESPACE, "xsi", "nil"),
                            "true".to_owned(),
                        ));
                        node.children.push(nil);
                    }
                    (None, None) => {}
                }
                if let Some(uom) = &quantity.uom {
                    node.children.push(OutNode::text("uom", uom.clone()));
                }
                node
            })
            .collect();
        vec![OutNode::parent(name, entries)]
    }

    /// `sourceList` / `destinationList` (nothing when empty).
    fn source_destination_list(
        &self,
        name: &str,
        item: &str,
        entries: &[SourceDestination],
    ) -> Vec<OutNode> {
        if entries.is_empty() {
            return Vec::new();
        }
        vec![OutNode::parent(
            name,
            entries
                .iter()
                .map(|entry| {
                    OutNode::text(item, entry.id.clone()).with_attribute(
                        "type",
                        self.cbv_format.spell(&entry.source_destination_type),
                    )
                })
                .collect(),
        )]
    }

    /// `sensorElementList` (nothing when empty).
    fn sensor_element_list(&self, sensor_elements: &[SensorElement]) -> Vec<OutNode> {
        if sensor_elements.is_empty() {
            return Vec::new();
        }
        let elements = sensor_elements
            .iter()
            .map(|sensor_element| {
                let mut node = OutNode::parent("sensorElement", Vec::new());
                if let Some(metadata) = &sensor_element.sensor_metadata {
                    node.children.push(self.sensor_metadata(metadata));
                }
                node.children.extend(
                    sensor_element.sensor_report.iter().map(|report| self.sensor_report(report)),
                );
                node.children.extend(
                    sensor_element.extensions.iter().flat_map(|field| self.extension_nodes(field)),
                );
                node
            })
            .collect();
        vec![OutNode::parent("sensorElementList", elements)]
    }

    /// `sensorMetadata`: standard data as attributes in the XSD's order.
    fn sensor_metadata(&self, metadata: &SensorMetadata) -> OutNode {
        let mut node = OutNode::new(OutName::standard("sensorMetadata"));
        let attributes: [(&str, Option<String>); 8] = [
            ("time", metadata.time.as_ref().map(|time| time.as_str().to_owned())),
            ("deviceID", metadata.device_id.clone()),
            ("deviceMetadata", metadata.device_metadata.clone()),
            ("rawData", metadata.raw_data.clone()),
            ("startTime", metadata.start_time.as_ref().map(|time| time.as_str().to_owned())),
            ("endTime", metadata.end_time.as_ref().map(|time| time.as_str().to_owned())),
            ("bizRules", metadata.biz_rules.clone()),
            ("dataProcessingMethod", metadata.data_processing_method.clone()),
        ];
        for (name, value) in attributes {
            if let Some(value) = value {
                node = node.with_attribute(name, value);
            }
        }
        self.add_attribute_extensions(&mut node, &metadata.extensions);
        node
    }

    /// `sensorReport`: standard data as attributes in the XSD's order.
    fn sensor_report(&self, report: &SensorReport) -> OutNode {
        let mut node = OutNode::new(OutName::standard("sensorReport"));
        let spell = |value: &Option<VocabularyValue>| {
            value.as_ref().map(|value| self.cbv_format.spell(value))
        };
        let number =
            |value: &Option<Decimal>| value.as_ref().map(|value| value.as_str().to_owned());
        let attributes: [(&str, Option<String>); 24] = [
            ("type", spell(&report.measurement_type)),
            ("value", number(&report.value)),
            ("component", spell(&report.component)),
            ("stringValue", report.string_value.clone()),
            ("booleanValue", report.boolean_value.map(|value| value.to_string())),
            ("hexBinaryValue", report.hex_binary_value.clone()),
            ("uriValue", report.uri_value.clone()),
            ("uom", report.uom.clone()),
            ("minValue", number(&report.min_value)),
            ("maxValue", number(&report.max_value)),
            ("sDev", number(&report.s_dev)),
            ("chemicalSubstance", report.chemical_substance.clone()),
            ("microorganism", report.microorganism.clone()),
            ("deviceID", report.device_id.clone()),
            ("deviceMetadata", report.device_metadata.clone()),
            ("rawData", report.raw_data.clone()),
            ("time", report.time.as_ref().map(|time| time.as_str().to_owned())),
            ("meanValue", number(&report.mean_value)),
            ("percRank", number(&report.perc_rank)),
            ("percValue", number(&report.perc_value)),
            ("dataProcessingMethod", report.data_processing_method.clone()),
            ("bizRules", report.biz_rules.clone()),
            ("coordinateReferenceSystem", report.coordinate_reference_system.clone()),
            ("exception", spell(&report.exception)),
        ];
        for (name, value) in attributes {
            if let Some(value) = value {
                node = node.with_attribute(name, value);
            }
        }
        self.add_attribute_extensions(&mut node, &report.extensions);
        node
    }

    /// Extensions of an attribute-only element: namespaced text values become attributes
    /// (the XSD's `anyAttribute`); structured or unqualified values become child elements,
    /// which the XSD does not foresee but which keep the data.
    fn add_attribute_extensions(&self, node: &mut OutNode, extensions: &[ExtensionField]) {
        for field in extensions {
            match &field.value {
                ExtensionValue::Text(text) if !field.name.namespace_iri.is_empty() => {
                    node.attributes.push((OutName::of_qname(&field.name), text.clone()));
                }
                _ => node.children.extend(self.extension_nodes(field)),
            }
        }
    }

    /// The element(s) of one extension field: a list becomes repeated elements.
    fn extension_nodes(&self, field: &ExtensionField) -> Vec<OutNode> {
        let mut nodes = Vec::new();
        self.push_extension_value(&field.name, &field.value, &mut nodes);
        nodes
    }

    /// Appends the element(s) for `value` named `name` to `nodes`.
    fn push_extension_value(&self, name: &QName, value: &ExtensionValue, nodes: &mut Vec<OutNode>) {
        if let ExtensionValue::List(items) = value {
            for item in items {
                self.push_extension_value(name, item, nodes);
            }
            return;
        }
        let mut node = OutNode::new(OutName::of_qname(name));
        self.fill_with_value(&mut node, value);
        nodes.push(node);
    }

    /// Sets the content of `node` to `value`.
    fn fill_with_value(&self, node: &mut OutNode, value: &ExtensionValue) {
        match value {
            ExtensionValue::Text(text) => node.text = Some(text.clone()),
            ExtensionValue::Number(number) => {
                let exponent = number.as_str().contains(['e', 'E']);
                node.xsi_type = Some(if exponent { "double" } else { "decimal" });
                node.text = Some(number.as_str().to_owned());
            }
            ExtensionValue::Boolean(flag) => {
                node.xsi_type = Some("boolean");
                node.text = Some(flag.to_string());
            }
            ExtensionValue::Object(fields) => {
                for field in fields {
                    let is_text = field.name.namespace_iri.is_empty()
                        && field.name.local_name == TEXT_FIELD_NAME;
                    match (&field.value, is_text) {
                        (ExtensionValue::Text(text), true) => node.text = Some(text.clone()),
                        _ => {
                            self.push_extension_value(&field.name, &field.value, &mut node.children)
                        }
                    }
                }
            }
            ExtensionValue::List(items) => {
                for item in items {
                    self.push_extension_value(
                        &QName::new("", None, node.name.local_name.clone()),
                        item,
                        &mut node.children,
                    );
                }
            }
        }
    }
}

/// Writes [`OutNode`]s as text, declaring namespace prefixes where first needed.
struct Serializer {
    /// The text written so far.
    output: String,
    /// In-scope prefix bindings, innermost last (one frame per open element).
    scope: Vec<Vec<(String, String)>>,
    /// Counter for `ns1`, `ns2`… when a name has no usable prefix.
    generated_prefixes: usize,
}

impl Serializer {
    /// The namespace `prefix` is bound to in scope.
    fn bound(&self, prefix: &str) -> Option<&str> {
        self.scope
            .iter()
            .rev()
            .flat_map(|frame| frame.iter().rev())
            .find(|(bound_prefix, _)| bound_prefix == prefix)
            .map(|(_, iri)| iri.as_str())
    }

    /// The prefix to write `namespace_iri` with, declaring it in `frame` if needed.
    fn prefix_for(
        &mut self,
        namespace_iri: &str,
        preferred_prefix: Option<&str>,
        frame: &mut Vec<(String, String)>,
    ) -> String {
        let in_frame = |prefix: &str| {
            frame.iter().find(|(bound, _)| bound == prefix).map(|(_, iri)| iri.clone())
        };
        let usable =
            |prefix: &str| is_xml_ncname(prefix) && !prefix.to_ascii_lowercase().starts_with("xml");
        if let Some(prefix) = preferred_prefix.filter(|prefix| usable(prefix)) {
            let current = in_frame(prefix).or_else(|| self.bound(prefix).map(str::to_owned));
            if current.as_deref() == Some(namespace_iri) {
                return prefix.to_owned();
            }
        }
        let existing = frame
            .iter()
            .rev()
            .chain(self.scope.iter().rev().flat_map(|scope_frame| scope_frame.iter().rev()))
            .find(|(prefix, iri)| {
                iri == namespace_iri
                    && in_frame(prefix).or_else(|| self.bound(prefix).map(str::to_owned)).as_deref()
                        == Some(namespace_iri)
            })
            .map(|(prefix, _)| prefix.clone());
        if let Some(prefix) = existing {
            return prefix;
        }
        let prefix =
            match preferred_prefix.filter(|prefix| usable(prefix) && in_frame(prefix).is_none()) {
                Some(prefix) => prefix.to_owned(),
                None => loop {
                    self.generated_prefixes += 1;
                    let candidate = format!("ns{}", self.generated_prefixes);
                    if in_frame(&candidate).is_none() && self.bound(&candidate).is_none() {
                        break candidate;
                    }
                },
            };
        frame.push((prefix.clone(), namespace_iri.to_owned()));
        prefix
    }

    /// `prefix:local` or `local` for `name`.
    fn written_name(&mut self, name: &OutName, frame: &mut Vec<(String, String)>) -> String {
        match &name.namespace_iri {
            None => name.local_name.clone(),
            Some(iri) => {
                let prefix = self.prefix_for(iri, name.preferred_prefix.as_deref(), frame);
                format!("{prefix}:{}", name.local_name)
            }
        }
    }

    /// Writes `node` at indentation `depth`, declaring `preset` prefixes on it first.
    fn element(&mut self, node: &OutNode, depth: usize, preset: Vec<(String, String)>) {
        let mut frame = preset;
        let tag = self.written_name(&node.name, &mut frame);
        let mut attributes = Vec::new();
        for (name, value) in &node.attributes {
            let written = self.written_name(name, &mut frame);
            attributes.push((written, value.clone()));
        }
        if let Some(local_type) = node.xsi_type {
            let xsi = self.prefix_for(XSI_NAMESPACE, Some("xsi"), &mut frame);
            let xsd = self.prefix_for(XSD_NAMESPACE, Some("xsd"), &mut frame);
            attributes.push((format!("{xsi}:type"), format!("{xsd}:{local_type}")));
        }
        let indentation = "  ".repeat(depth);
        let _ = write!(self.output, "{indentation}<{tag}");
        for (prefix, iri) in &frame {
            let _ = write!(self.output, " xmlns:{prefix}=\"{}\"", escape_attribute(iri));
        }
        for (name, value) in &attributes {
            let _ = write!(self.output, " {name}=\"{}\"", escape_attribute(value));
        }
        self.scope.push(frame);
        match (&node.text, node.children.is_empty()) {
            (None, true) => self.output.push_str("/>"),
            (Some(text), true) => {
                let _ = write!(self.output, ">{}</{tag}>", escape_text(text));
            }
            (text, false) => {
                self.output.push('>');
                match text {
                    // Mixed content: no indentation inside, so the text stays exactly as held.
                    Some(text) => {
                        self.output.push_str(&escape_text(text));
                        for child in &node.children {
                            self.element(child, 0, Vec::new());
                        }
                    }
                    None => {
                        for child in &node.children {
                            self.output.push('\n');
                            self.element(child, depth + 1, Vec::new());
                        }
                        let _ = write!(self.output, "\n{indentation}");
                    }
                }
                let _ = write!(self.output, "</{tag}>");
            }
        }
        self.scope.pop();
    }
}

/// Escapes character data; `\r` and characters XML 1.0 cannot hold literally become
/// character references so they survive a read back.
fn escape_text(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '\r' => escaped.push_str("&#xD;"),
            '\n' | '\t' => escaped.push(character),
            control if control.is_control() || is_forbidden_in_xml(control) => {
                let _ = write!(escaped, "&#x{:X};", u32::from(control));
            }
            other => escaped.push(other),
        }
    }
    escaped
}

/// Escapes an attribute value (whitespace as references, so attribute-value normalisation
/// does not turn it into spaces).
fn escape_attribute(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for character in value.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            control if control.is_control() || is_forbidden_in_xml(control) => {
                let _ = write!(escaped, "&#x{:X};", u32::from(control));
            }
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A capture document around `events` (XML text), declaring `declarations` on the root.
    fn document_with(declarations: &str, events: &str) -> String {
        format!(
            "<epcis:EPCISDocument xmlns:epcis=\"urn:epcglobal:epcis:xsd:2\" {declarations} \
             schemaVersion=\"2.0\" creationDate=\"2024-01-01T00:00:00Z\"><EPCISBody><EventList>\
             {events}</EventList></EPCISBody></epcis:EPCISDocument>"
        )
    }

    /// An ObjectEvent with the common header, `body` after the action.
    fn object_event(body: &str) -> String {
        format!(
            "<ObjectEvent><eventTime>2024-01-01T10:00:00+01:00</eventTime>\
             <eventTimeZoneOffset>+01:00</eventTimeZoneOffset><epcList>\
             <epc>urn:epc:id:sgtin:4012345.011111.1</epc></epcList><action>OBSERVE</action>\
             {body}</ObjectEvent>"
        )
    }

    fn parse_text(text: &str) -> Result<Document, Error> {
        parse_document(text.as_bytes())
    }

    #[test]
    fn extension_elements_keep_namespaces_attributes_types_and_repetition() {
        let text = document_with(
            "xmlns:ex=\"https://ns.example.com/epcis/\" \
             xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"",
            &object_event(
                "<ex:line ex:shift=\"1\" code=\"A\"><ex:machine>M-1</ex:machine></ex:line>\
                 <ex:count xsi:type=\"xsd:integer\">12</ex:count>\
                 <ex:flag xsi:type=\"xsd:boolean\">true</ex:flag>\
                 <ex:tag>a</ex:tag><ex:tag>b</ex:tag>\
                 <ex:note ex:lang=\"en\">hello</ex:note>",
            ),
        );
        let document = parse_text(&text).expect("valid document");
        let extensions = &document.events[0].extensions;
        let names: Vec<&str> =
            extensions.iter().map(|field| field.name.local_name.as_str()).collect();
        assert_eq!(names, ["line", "count", "flag", "tag", "note"]);
        assert!(
            extensions
                .iter()
                .all(|field| field.name.namespace_iri == "https://ns.example.com/epcis/")
        );
        let ExtensionValue::Object(line) = &extensions[0].value else {
            panic!("attributes make an object: {:?}", extensions[0].value);
        };
        let line_names: Vec<(String, &str)> = line
            .iter()
            .map(|field| (field.name.namespace_iri.clone(), field.name.local_name.as_str()))
            .collect();
        assert_eq!(
            line_names,
            [
                ("https://ns.example.com/epcis/".to_owned(), "shift"),
                (String::new(), "code"),
                ("https://ns.example.com/epcis/".to_owned(), "machine"),
            ]
        );
        assert_eq!(extensions[1].value, ExtensionValue::Number(Decimal::parse("12").unwrap()));
        assert_eq!(extensions[2].value, ExtensionValue::Boolean(true));
        assert_eq!(
            extensions[3].value,
            ExtensionValue::List(vec![
                ExtensionValue::Text("a".to_owned()),
                ExtensionValue::Text("b".to_owned())
            ])
        );
        let ExtensionValue::Object(note) = &extensions[4].value else {
            panic!("an attribute plus text makes an object");
        };
        assert_eq!(note[1].name.local_name, TEXT_FIELD_NAME);
        assert_eq!(note[1].value, ExtensionValue::Text("hello".to_owned()));

        let again = parse_text(&to_xml(&document)).expect("written document reads back");
        assert_eq!(again.events[0].extensions, document.events[0].extensions);
    }

    #[test]
    fn one_prefix_bound_to_two_namespaces_is_written_unambiguously() {
        let text = document_with(
            "",
            &format!(
                "{}{}",
                object_event("<ex:a xmlns:ex=\"https://one.example/\">1</ex:a>"),
                object_event("<ex:a xmlns:ex=\"https://two.example/\">2</ex:a>")
            ),
        );
        let document = parse_text(&text).expect("valid document");
        let written = to_xml(&document);
        let again = parse_text(&written).expect("written document reads back");
        let namespaces: Vec<&str> = again
            .events
            .iter()
            .map(|event| event.extensions[0].name.namespace_iri.as_str())
            .collect();
        assert_eq!(namespaces, ["https://one.example/", "https://two.example/"], "{written}");
    }

    #[test]
    fn malformed_xml_is_a_syntax_error() {
        for (text, expected) in [
            ("<a><b></a>", "not well-formed XML"),
            ("<x:a/>", "undeclared namespace prefix"),
            ("<a>&bogus;</a>", "unknown entity"),
            ("<a/><b/>", "content after the root element"),
            ("", "no root element"),
        ] {
            let message = parse_text(text).expect_err(text).to_string();
            assert!(message.contains(expected), "{text}: {message}");
            assert!(message.starts_with("document: "), "{message}");
        }
        let deep = format!(
            "{}{}",
            "<a>".repeat(MAX_ELEMENT_DEPTH + 1),
            "</a>".repeat(MAX_ELEMENT_DEPTH + 1)
        );
        assert!(parse_text(&deep).expect_err("too deep").to_string().contains("nested deeper"));
    }

    #[test]
    fn structure_errors_name_the_event_and_the_rule() {
        let duplicate = document_with(
            "",
            &object_event(
                "<bizStep>urn:epcglobal:cbv:bizstep:shipping</bizStep><bizStep>x</bizStep>",
            ),
        );
        assert_eq!(
            parse_text(&duplicate).expect_err("duplicate").to_string(),
            "event 0 (ObjectEvent): field bizStep: appears more than once"
        );
        let wrong_type = document_with("", &object_event("<inputEPCList/>"));
        assert_eq!(
            parse_text(&wrong_type).expect_err("wrong type").to_string(),
            "event 0 (ObjectEvent): field inputEPCList: is not an element of ObjectEvent in the \
             EPCIS 2.0 XSD"
        );
        let quantity_event = document_with("", "<QuantityEvent/>");
        assert!(
            parse_text(&quantity_event)
                .expect_err("removed")
                .to_string()
                .contains("QuantityEvent was removed")
        );
        let no_type = document_with(
            "",
            &object_event(
                "<sourceList><source>urn:epc:id:pgln:4012345.00001</source></sourceList>",
            ),
        );
        assert_eq!(
            parse_text(&no_type).expect_err("no type").to_string(),
            "event 0 (ObjectEvent): missing sourceList[0].type"
        );
        let bad_sensor = document_with(
            "",
            &object_event(
                "<sensorElementList><sensorElement><sensorReport type=\"gs1:Temperature\" \
                 value=\"warm\"/></sensorElement></sensorElementList>",
            ),
        );
        assert_eq!(
            parse_text(&bad_sensor).expect_err("bad number").to_string(),
            "event 0 (ObjectEvent): field sensorElementList[0].sensorReport[0].value: \"warm\" \
             is not a number"
        );
    }

    #[test]
    fn epcis_1_x_wrappers_are_read_transparently() {
        let text = document_with(
            "",
            "<ObjectEvent><eventTime>2024-01-01T10:00:00Z</eventTime>\
             <eventTimeZoneOffset>+00:00</eventTimeZoneOffset>\
             <baseExtension><eventID>urn:uuid:6f0a4b8e-1e7f-4c1d-9d55-3b1f1c0a2b11</eventID>\
             </baseExtension>\
             <epcList/><action>ADD</action>\
             <extension><quantityList><quantityElement>\
             <epcClass>urn:epc:class:lgtin:4012345.011111.L1</epcClass><quantity>5</quantity>\
             <uom>KGM</uom></quantityElement></quantityList></extension></ObjectEvent>\
             <extension><TransformationEvent><eventTime>2024-01-01T11:00:00Z</eventTime>\
             <eventTimeZoneOffset>+00:00</eventTimeZoneOffset>\
             <inputEPCList><epc>urn:epc:id:sgtin:4012345.011111.1</epc></inputEPCList>\
             <outputEPCList><epc>urn:epc:id:sgtin:4012345.011111.2</epc></outputEPCList>\
             </TransformationEvent></extension>",
        );
        let document = parse_text(&text).expect("1.x shapes read");
        assert_eq!(document.events.len(), 2);
        let object = &document.events[0];
        assert_eq!(
            object.event_id.as_deref(),
            Some("urn:uuid:6f0a4b8e-1e7f-4c1d-9d55-3b1f1c0a2b11")
        );
        assert_eq!(object.quantity_list[0].uom.as_deref(), Some("KGM"));
        assert_eq!(document.events[1].event_type, EventType::Transformation);
        let written = to_xml(&document);
        assert!(
            !written.contains("<extension>") && !written.contains("baseExtension"),
            "{written}"
        );
    }

    #[test]
    fn lenient_reading_accepts_times_without_seconds_only() {
        let text = document_with(
            "",
            &object_event("<bizStep>urn:epcglobal:cbv:bizstep:shipping</bizStep>")
                .replace("2024-01-01T10:00:00+01:00", "2024-01-01T10:00+01:00"),
        );
        assert!(parse_text(&text).expect_err("strict").to_string().contains("xsd:dateTimeStamp"));
        let lenient = ParseOptions { conformance: Conformance::Lenient, ..ParseOptions::default() };
        let document = parse_document_with(text.as_bytes(), &lenient).expect("lenient");
        assert_eq!(document.events[0].event_time.as_str(), "2024-01-01T10:00:00+01:00");
    }

    #[test]
    fn standard_values_are_spelled_as_the_cbv_xml_format_asks() {
        let text = document_with(
            "",
            &object_event("<bizStep>https://ref.gs1.org/cbv/BizStep-shipping</bizStep>"),
        );
        let document = parse_text(&text).expect("valid");
        let spelled = |format| {
            to_xml_with(&document, &WriteOptions { cbv_format: format })
                .lines()
                .find(|line| line.contains("<bizStep>"))
                .map(str::trim)
                .map(str::to_owned)
        };
        assert_eq!(
            spelled(CbvXmlFormat::AlwaysEpcUrn).as_deref(),
            Some("<bizStep>urn:epcglobal:cbv:bizstep:shipping</bizStep>")
        );
        assert_eq!(
            spelled(CbvXmlFormat::AlwaysWebUri).as_deref(),
            Some("<bizStep>https://ref.gs1.org/cbv/BizStep-shipping</bizStep>")
        );
        assert_eq!(
            spelled(CbvXmlFormat::NeverTranslates).as_deref(),
            Some("<bizStep>https://ref.gs1.org/cbv/BizStep-shipping</bizStep>")
        );
        assert_eq!(
            CbvXmlFormat::from_header_value("Always_Web_URI"),
            Some(CbvXmlFormat::AlwaysWebUri)
        );
        assert_eq!(
            CbvXmlFormat::from_header_value("Never_Translates"),
            Some(CbvXmlFormat::NeverTranslates)
        );
        assert_eq!(CbvXmlFormat::from_header_value("always_epc_urn"), None);
    }

    #[test]
    fn special_characters_survive_writing_and_reading() {
        let awkward = "a<b & \"c\" > d\r\n\te";
        let text = document_with(
            "xmlns:ex=\"https://ns.example.com/epcis/\"",
            &object_event("<ex:note>placeholder</ex:note>"),
        );
        let mut document = parse_text(&text).expect("valid");
        document.events[0].extensions[0].value = ExtensionValue::Text(awkward.to_owned());
        document.events[0].extensions.push(ExtensionField {
            // Written as ex:holder; the inner ex: is rebound to another namespace.
            name: QName::new("https://ns.example.com/epcis/", Some("ex".to_owned()), "holder"),
            value: ExtensionValue::Object(vec![ExtensionField {
                name: QName::new("https://other.example/", Some("ex".to_owned()), "inner"),
                value: ExtensionValue::Text(awkward.to_owned()),
            }]),
        });
        let again = parse_text(&to_xml(&document)).expect("written document reads back");
        assert_eq!(again.events[0].extensions, document.events[0].extensions);
        assert_eq!(escape_attribute("\"\n"), "&quot;&#xA;");
    }

    #[test]
    fn poll_requests_need_a_query_name_and_values() {
        let poll = "<epcisq:Poll xmlns:epcisq=\"urn:epcglobal:epcis-query:xsd:2\">\
                    <queryName>SimpleEventQuery</queryName><params><param><name>EQ_bizStep</name>\
                    <value><string>a</string><string>b</string></value></param></params>\
                    </epcisq:Poll>";
        let request = parse_poll(poll.as_bytes()).expect("valid poll");
        assert_eq!(request.params[0].values, ["a", "b"]);
        let without_name = poll.replace("<queryName>SimpleEventQuery</queryName>", "");
        assert_eq!(
            parse_poll(without_name.as_bytes()).expect_err("no name").to_string(),
            "document: missing queryName"
        );
    }

    #[test]
    fn characters_xml_forbids_are_refused_naming_the_event_and_field() {
        // Minimised from the fuzzer: a NUL in an extension's text and a control character in a
        // sensor report attribute, which the writer could only write as references XML 1.0
        // refuses.
        let cases = [
            (
                object_event(
                    "<ex:note xmlns:ex=\"https://ns.example.com/epcis/\">a\u{0}b</ex:note>",
                ),
                "event 0 (ObjectEvent): field ex:note",
            ),
            (
                object_event(
                    "<sensorElementList><sensorElement><sensorReport type=\"gs1:Temperature\" \
                     stringValue=\"a\u{1}b\"/></sensorElement></sensorElementList>",
                ),
                "event 0 (ObjectEvent): field \
                 sensorElementList.sensorElement.sensorReport.stringValue",
            ),
        ];
        for (event, expected) in cases {
            let text = document_with("xmlns:ex=\"https://ns.example.com/epcis/\"", &event);
            let error = parse_text(&text).expect_err("refused").to_string();
            assert!(error.starts_with(expected), "{error}");
            assert!(error.contains("a character XML 1.0 does not allow"), "{error}");
            let error = parse_event(event.as_bytes()).expect_err("refused").to_string();
            assert!(error.starts_with(expected), "{error}");
        }
        let in_header = document_with("", &object_event("")).replace(
            "<EPCISBody>",
            "<EPCISHeader><ex:a xmlns:ex=\"urn:x:\">\u{B}</ex:a></EPCISHeader><EPCISBody>",
        );
        let error = parse_text(&in_header).expect_err("refused").to_string();
        assert!(
            error.starts_with("document: field epcis:EPCISDocument.EPCISHeader.ex:a"),
            "{error}"
        );
        // In a name (an element's, an attribute's, a declared prefix) it is a syntax error.
        let in_prefix = document_with("xmlns:ex\u{0}=\"urn:x:\"", &object_event(""));
        let error = parse_text(&in_prefix).expect_err("refused").to_string();
        assert!(error.contains("holds U+0000, a character XML 1.0 does not allow"), "{error}");
        // Written as a reference, such a character is read (the writer's form for a model
        // holding one from JSON-LD); only NUL, which no XML can hold, is refused.
        let referenced = document_with(
            "xmlns:ex=\"https://ns.example.com/epcis/\"",
            &object_event("<ex:note>a&#x1;b</ex:note>"),
        );
        let document = parse_text(&referenced).expect("read");
        assert_eq!(document.events[0].extensions[0].value, ExtensionValue::Text("a\u{1}b".into()));
        let again = parse_text(&to_xml(&document)).expect("written document reads back");
        assert_eq!(again.events, document.events);
    }

    #[test]
    fn namespace_declarations_are_unescaped_like_every_attribute() {
        // Minimised from the fuzzer: the writer escapes a namespace IRI (`&amp;`, `&#xA;`), so
        // the reader must read the declaration's value, not its spelling.
        let text = document_with(
            "xmlns:ex=\"https://ns.example.com/a&amp;b&#x9;c\"",
            &object_event("<ex:note>1</ex:note>"),
        );
        let document = parse_text(&text).expect("valid");
        let name = &document.events[0].extensions[0].name;
        assert_eq!(name.namespace_iri, "https://ns.example.com/a&b\tc");
        assert_eq!(document.namespaces[0].iri, name.namespace_iri);
        let written = to_xml(&document);
        let again = parse_text(&written).expect("written document reads back");
        assert_eq!(again.events, document.events, "{written}");
        assert_eq!(
            crate::epcis::event_hash_id(&again.events[0]),
            crate::epcis::event_hash_id(&document.events[0])
        );
    }
}
