//! EPCIS master data as the ledger signs it: statements about products, places and parties.
//!
//! Owns: [`VocabularyType`] (the five vocabularies an organisation may describe), [`Statement`]
//! and [`Attribute`] in their one canonical form (identifier as its canonical GS1 Digital Link,
//! attribute ids as full IRIs, attributes sorted), [`statements_of`] (an EPCIS document's
//! `vocabularyList` → statements, refusing bad input by element and rule), the reading helpers
//! a person's view needs ([`Statement::name`], [`Statement::place`],
//! [`Statement::coordinates`]), the ownership rule ([`check_owner`]: an organisation describes
//! only its own GLN and keys under the GS1 company prefixes the roster grants it), and
//! [`Directory`], the view with history.
//! Does not own: parsing either EPCIS binding (`crate::epcis`, which keeps `vocabularyList`
//! losslessly), how a statement becomes payload fields (`records`), where the ownership rule is
//! enforced (`feed::check_append`, for local and replicated entries alike), or the roster
//! itself (`roster`).

mod directory;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

pub use directory::{Described, Directory};

use crate::epcis::{Document, ExtensionField, ExtensionValue, Namespace, VocabularyElement};
use crate::gs1::{self, CANONICAL_STEM, Identifier};
use crate::identity::PublicKey;
use crate::roster::Roster;

/// The CBV master-data attribute namespace of the location attributes (`…mda#name`).
pub const CBV_MDA_HASH: &str = "urn:epcglobal:cbv:mda#";
/// The CBV master-data namespace the EPCIS 2.0 JSON-LD context binds to `cbvmda:`.
pub const CBV_MDA: &str = "urn:epcglobal:cbv:mda:";
/// The GS1 Web Vocabulary namespace the EPCIS 2.0 JSON-LD context binds to `gs1:`.
pub const GS1_VOC: &str = "https://gs1.org/voc/";

/// Full IRIs of the attributes this module reads.
pub mod attribute {
    /// CBV: the name of a location, party or product.
    pub const NAME: &str = "urn:epcglobal:cbv:mda#name";
    /// CBV: first street address line.
    pub const STREET_ADDRESS_ONE: &str = "urn:epcglobal:cbv:mda#streetAddressOne";
    /// CBV: second street address line.
    pub const STREET_ADDRESS_TWO: &str = "urn:epcglobal:cbv:mda#streetAddressTwo";
    /// CBV: third street address line.
    pub const STREET_ADDRESS_THREE: &str = "urn:epcglobal:cbv:mda#streetAddressThree";
    /// CBV: city.
    pub const CITY: &str = "urn:epcglobal:cbv:mda#city";
    /// CBV: state or province.
    pub const STATE: &str = "urn:epcglobal:cbv:mda#state";
    /// CBV: postal code.
    pub const POSTAL_CODE: &str = "urn:epcglobal:cbv:mda#postalCode";
    /// CBV: ISO 3166-1 alpha-2 country code.
    pub const COUNTRY_CODE: &str = "urn:epcglobal:cbv:mda#countryCode";
    /// CBV: latitude in decimal degrees.
    pub const LATITUDE: &str = "urn:epcglobal:cbv:mda#latitude";
    /// CBV: longitude in decimal degrees.
    pub const LONGITUDE: &str = "urn:epcglobal:cbv:mda#longitude";
    /// CBV EPCClass: the name a regulator knows a product by.
    pub const REGULATED_PRODUCT_NAME: &str = "urn:epcglobal:cbv:mda#regulatedProductName";
    /// CBV EPCClass: a short description of the product.
    pub const DESCRIPTION_SHORT: &str = "urn:epcglobal:cbv:mda#descriptionShort";
    /// GS1 Web Vocabulary: a product's consumer-facing name.
    pub const GS1_PRODUCT_NAME: &str = "https://gs1.org/voc/productName";
    /// GS1 Web Vocabulary: a product's regulated name.
    pub const GS1_REGULATED_PRODUCT_NAME: &str = "https://gs1.org/voc/regulatedProductName";
    /// GS1 Web Vocabulary: a short product description.
    pub const GS1_DESCRIPTION_SHORT: &str = "https://gs1.org/voc/descriptionShort";
    /// GS1 Web Vocabulary: an organisation's name.
    pub const GS1_ORGANIZATION_NAME: &str = "https://gs1.org/voc/organizationName";
    /// GS1 Web Vocabulary: a place's name.
    pub const GS1_PHYSICAL_LOCATION_NAME: &str = "https://gs1.org/voc/physicalLocationName";
    /// GS1 Web Vocabulary: a postal address (a `gs1:PostalAddress` structure).
    pub const GS1_ADDRESS: &str = "https://gs1.org/voc/address";
    /// GS1 Web Vocabulary: geographic coordinates (a `gs1:GeoCoordinates` structure).
    pub const GS1_GEO: &str = "https://gs1.org/voc/geo";
    /// GS1 Web Vocabulary: latitude.
    pub const GS1_LATITUDE: &str = "https://gs1.org/voc/latitude";
    /// GS1 Web Vocabulary: longitude.
    pub const GS1_LONGITUDE: &str = "https://gs1.org/voc/longitude";
}

/// CBV attributes published in the `urn:epcglobal:cbv:mda#` namespace. The EPCIS 2.0 JSON-LD
/// context binds `cbvmda:` to `urn:epcglobal:cbv:mda:`, so `cbvmda:name` expands to
/// `urn:epcglobal:cbv:mda:name`; these local names are rewritten to their `#` form so one
/// attribute has one id whichever binding carried it.
const CBV_HASH_ATTRIBUTES: [&str; 14] = [
    "name",
    "streetAddressOne",
    "streetAddressTwo",
    "streetAddressThree",
    "city",
    "state",
    "postalCode",
    "countryCode",
    "latitude",
    "longitude",
    "regulatedProductName",
    "descriptionShort",
    "informationProvider",
    "description",
];

/// Prefixes the EPCIS 2.0 JSON-LD context defines, used when a document does not redeclare
/// them.
const STANDARD_PREFIXES: [(&str, &str); 4] = [
    ("cbvmda", CBV_MDA),
    ("gs1", GS1_VOC),
    ("cbv", "https://ref.gs1.org/cbv/"),
    ("epcis", "https://ref.gs1.org/epcis/"),
];

/// Errors: each names the vocabulary element and the rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The vocabulary type is not one the ledger records.
    #[error(
        "{}vocabulary type {vocabulary_type:?} is not one of urn:epcglobal:epcis:vtype:EPCClass, BusinessLocation, ReadPoint, Location, Party",
        element_prefix(.element)
    )]
    UnknownVocabularyType {
        /// The type as written.
        vocabulary_type: String,
        /// The first element of that vocabulary, if it has one.
        element: Option<String>,
    },
    /// The element's identifier breaks a GS1 rule or carries a forbidden character.
    #[error("vocabulary element {element:?}: {source}")]
    BadIdentifier {
        /// The element id as written.
        element: String,
        /// The GS1 rule broken.
        source: gs1::Error,
    },
    /// The element's identifier is not a GS1 key, so no organisation can be shown to own it.
    #[error(
        "vocabulary element {element:?}: the identifier is not a GS1 key (an EPC URN or a GS1 Digital Link), so no organisation can be shown to own it"
    )]
    NotAGs1Key {
        /// The element id as written.
        element: String,
    },
    /// The identifier names the wrong kind of thing for its vocabulary.
    #[error("vocabulary element {element:?}: a {vocabulary_type} element must name {expected}")]
    WrongKindOfKey {
        /// The element id as written.
        element: String,
        /// The vocabulary.
        vocabulary_type: VocabularyType,
        /// What the vocabulary's elements name.
        expected: &'static str,
    },
    /// One identifier is described twice in one vocabulary of one document.
    #[error(
        "vocabulary element {element:?} appears more than once in the {vocabulary_type} vocabulary"
    )]
    DuplicateElement {
        /// The element's canonical id.
        element: String,
        /// The vocabulary.
        vocabulary_type: VocabularyType,
    },
    /// An attribute's id or value is malformed.
    #[error("vocabulary element {element:?}, attribute {attribute:?}: {reason}")]
    MalformedAttribute {
        /// The element id.
        element: String,
        /// The attribute id as written.
        attribute: String,
        /// The rule broken.
        reason: String,
    },
    /// A child identifier is malformed.
    #[error("vocabulary element {element:?}, child {child:?}: {reason}")]
    MalformedChild {
        /// The element id.
        element: String,
        /// The child id as written.
        child: String,
        /// The rule broken.
        reason: String,
    },
    /// The author may not describe this identifier.
    #[error("vocabulary element {element:?}: organisation {author} may not describe it: {reason}")]
    NotOwner {
        /// The element's id.
        element: String,
        /// The organisation that tried.
        author: PublicKey,
        /// Why not (whose GLN and prefixes it holds).
        reason: String,
    },
    /// A signed statement is not in canonical form (read from a payload).
    #[error("statement about {element:?} is not canonical: {reason}")]
    NotCanonical {
        /// The statement's id.
        element: String,
        /// The rule broken.
        reason: String,
    },
}

/// `"vocabulary element \"…\": "` when there is an element to name.
fn element_prefix(element: &Option<String>) -> String {
    element.as_ref().map(|element| format!("vocabulary element {element:?}: ")).unwrap_or_default()
}

/// The vocabularies an organisation may describe: products and lots, places, parties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum VocabularyType {
    /// Product classes and lots (`urn:epcglobal:epcis:vtype:EPCClass`).
    EpcClass,
    /// Where objects are after an event (`…:BusinessLocation`).
    BusinessLocation,
    /// Where an event was observed (`…:ReadPoint`).
    ReadPoint,
    /// A source or destination location (`…:Location`).
    Location,
    /// A source or destination party (`…:Party`).
    Party,
}

impl VocabularyType {
    /// Every type, in wire-code order.
    pub const ALL: [VocabularyType; 5] = [
        VocabularyType::EpcClass,
        VocabularyType::BusinessLocation,
        VocabularyType::ReadPoint,
        VocabularyType::Location,
        VocabularyType::Party,
    ];

    /// The vocabulary type URI.
    pub fn uri(self) -> &'static str {
        match self {
            VocabularyType::EpcClass => "urn:epcglobal:epcis:vtype:EPCClass",
            VocabularyType::BusinessLocation => "urn:epcglobal:epcis:vtype:BusinessLocation",
            VocabularyType::ReadPoint => "urn:epcglobal:epcis:vtype:ReadPoint",
            VocabularyType::Location => "urn:epcglobal:epcis:vtype:Location",
            VocabularyType::Party => "urn:epcglobal:epcis:vtype:Party",
        }
    }

    /// The type a URI names. The local name is matched without regard to ASCII case, as
    /// published documents write `…:vtype:location`; anything else is `None`.
    pub fn from_uri(uri: &str) -> Option<Self> {
        let trimmed = uri.trim();
        Self::ALL.into_iter().find(|vocabulary_type| {
            let expected = vocabulary_type.uri();
            trimmed.len() == expected.len()
                && trimmed.starts_with("urn:epcglobal:epcis:vtype:")
                && trimmed.eq_ignore_ascii_case(expected)
        })
    }

    /// The wire code (`docs/wire-format.md`).
    pub fn code(self) -> u8 {
        match self {
            VocabularyType::EpcClass => 0,
            VocabularyType::BusinessLocation => 1,
            VocabularyType::ReadPoint => 2,
            VocabularyType::Location => 3,
            VocabularyType::Party => 4,
        }
    }

    /// The type with this wire code.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.get(usize::from(code)).copied()
    }

    /// Whether `identifier` is the kind of key this vocabulary's elements name, and if not,
    /// what they name.
    fn check_key(self, identifier: &Identifier) -> Result<(), &'static str> {
        let fits = match self {
            VocabularyType::EpcClass => {
                matches!(identifier, Identifier::Class { .. } | Identifier::Lot { .. })
            }
            VocabularyType::BusinessLocation
            | VocabularyType::ReadPoint
            | VocabularyType::Location => matches!(identifier, Identifier::Location { .. }),
            VocabularyType::Party => {
                matches!(identifier, Identifier::Party { .. } | Identifier::Location { .. })
            }
        };
        if fits {
            return Ok(());
        }
        Err(match self {
            VocabularyType::EpcClass => {
                "a product class or lot (a GTIN with or without a lot: urn:epc:idpat:sgtin:…, urn:epc:class:lgtin:…, https://id.gs1.org/01/…)"
            }
            VocabularyType::Party => {
                "a party or place GLN (urn:epc:id:pgln:…, urn:epc:id:sgln:…, https://id.gs1.org/417/… or /414/…)"
            }
            _ => "a place (an SGLN urn:epc:id:sgln:… or https://id.gs1.org/414/…)",
        })
    }
}

impl fmt::Display for VocabularyType {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.uri().rsplit(':').next().unwrap_or_default())
    }
}

impl From<VocabularyType> for String {
    fn from(vocabulary_type: VocabularyType) -> String {
        vocabulary_type.uri().to_owned()
    }
}

impl TryFrom<String> for VocabularyType {
    type Error = String;

    fn try_from(uri: String) -> Result<Self, String> {
        Self::from_uri(&uri).ok_or_else(|| format!("unknown vocabulary type {uri:?}"))
    }
}

/// One attribute of a statement: a full IRI and a text value (structured values as compact
/// JSON text with sorted keys).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Attribute {
    /// The attribute's full IRI (`urn:epcglobal:cbv:mda#name`, `https://gs1.org/voc/productName`).
    pub id: String,
    /// Its value as text.
    pub value: String,
}

/// What one organisation says about one identifier at one time.
///
/// Canonical: `id` is the identifier's canonical GS1 Digital Link (the form the trace index
/// uses), attributes are sorted by id then value without duplicates, children are sorted and
/// unique; so equal content is equal bytes.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Statement {
    /// The vocabulary the element belongs to (JSON: its URI).
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = String, example = "urn:epcglobal:epcis:vtype:BusinessLocation")
    )]
    pub vocabulary_type: VocabularyType,
    /// The identifier described, as its canonical GS1 Digital Link.
    pub id: String,
    /// The attributes, canonical order.
    pub attributes: Vec<Attribute>,
    /// Child identifiers (a site's sub-locations), canonical where they are GS1 keys, sorted.
    pub children: Vec<String>,
}

impl Statement {
    /// The first value of the attribute with this full IRI.
    pub fn attribute(&self, id: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|attribute| attribute.id == id)
            .map(|attribute| attribute.value.as_str())
            .filter(|value| !value.is_empty())
    }

    /// The name a person reads: CBV `name`; for products the GS1 Web Vocabulary
    /// `productName` or `regulatedProductName` (or CBV `regulatedProductName`), then a short
    /// description; for places and parties also `physicalLocationName` / `organizationName`.
    pub fn name(&self) -> Option<&str> {
        [
            attribute::NAME,
            attribute::GS1_PRODUCT_NAME,
            attribute::GS1_REGULATED_PRODUCT_NAME,
            attribute::REGULATED_PRODUCT_NAME,
            attribute::GS1_PHYSICAL_LOCATION_NAME,
            attribute::GS1_ORGANIZATION_NAME,
            attribute::GS1_DESCRIPTION_SHORT,
            attribute::DESCRIPTION_SHORT,
        ]
        .into_iter()
        .find_map(|id| self.attribute(id))
    }

    /// A one-line address, `street, city state postal, country`, from the CBV address
    /// attributes or else a `gs1:address` structure; `None` when neither says anything.
    pub fn place(&self) -> Option<String> {
        let cbv = AddressParts {
            streets: [
                attribute::STREET_ADDRESS_ONE,
                attribute::STREET_ADDRESS_TWO,
                attribute::STREET_ADDRESS_THREE,
            ]
            .into_iter()
            .filter_map(|id| self.attribute(id))
            .map(str::to_owned)
            .collect(),
            city: self.attribute(attribute::CITY).map(str::to_owned),
            region: self.attribute(attribute::STATE).map(str::to_owned),
            postal_code: self.attribute(attribute::POSTAL_CODE).map(str::to_owned),
            country: self.attribute(attribute::COUNTRY_CODE).map(str::to_owned),
        };
        cbv.one_line().or_else(|| {
            let address = self.attribute(attribute::GS1_ADDRESS)?;
            let object: serde_json::Value = serde_json::from_str(address).ok()?;
            let field = |name: &str| json_field(&object, name);
            AddressParts {
                streets: field("streetAddress").into_iter().collect(),
                city: field("addressLocality"),
                region: field("addressRegion"),
                postal_code: field("postalCode"),
                country: field("addressCountry"),
            }
            .one_line()
        })
    }

    /// Latitude and longitude in decimal degrees, from the CBV attributes, the GS1 Web
    /// Vocabulary ones, or a `gs1:geo` structure; `None` unless both are numbers in range.
    pub fn coordinates(&self) -> Option<(f64, f64)> {
        let pair = |latitude: Option<String>, longitude: Option<String>| {
            let latitude = parse_degrees(&latitude?, 90.0)?;
            let longitude = parse_degrees(&longitude?, 180.0)?;
            Some((latitude, longitude))
        };
        let text = |id: &str| self.attribute(id).map(str::to_owned);
        pair(text(attribute::LATITUDE), text(attribute::LONGITUDE))
            .or_else(|| pair(text(attribute::GS1_LATITUDE), text(attribute::GS1_LONGITUDE)))
            .or_else(|| {
                let geo: serde_json::Value =
                    serde_json::from_str(self.attribute(attribute::GS1_GEO)?).ok()?;
                pair(json_field(&geo, "latitude"), json_field(&geo, "longitude"))
            })
    }

    /// Checks the canonical form (what a signed statement read back must hold): the id is its
    /// own canonical Digital Link and fits the vocabulary, attribute ids are full IRIs,
    /// attributes and children are sorted and unique, and no text holds a control character.
    pub fn check_canonical(&self) -> Result<(), Error> {
        let not_canonical =
            |reason: String| Error::NotCanonical { element: self.id.clone(), reason };
        let identifier = canonical_identifier(&self.id)?;
        if identifier.1 != self.id {
            return Err(not_canonical(format!(
                "the id is not its canonical Digital Link {}",
                identifier.1
            )));
        }
        self.vocabulary_type.check_key(&identifier.0).map_err(|expected| {
            Error::WrongKindOfKey {
                element: self.id.clone(),
                vocabulary_type: self.vocabulary_type,
                expected,
            }
        })?;
        for attribute in &self.attributes {
            if expand_attribute_id(&attribute.id, &[]).as_deref() != Ok(attribute.id.as_str()) {
                return Err(not_canonical(format!(
                    "attribute id {:?} is not a canonical full IRI",
                    attribute.id
                )));
            }
            check_text(&attribute.value).map_err(|reason| Error::MalformedAttribute {
                element: self.id.clone(),
                attribute: attribute.id.clone(),
                reason,
            })?;
        }
        if !self.attributes.windows(2).all(|pair| pair[0] < pair[1]) {
            return Err(not_canonical("attributes are not sorted and unique".to_owned()));
        }
        for child in &self.children {
            if canonical_child(&self.id, child)? != *child {
                return Err(not_canonical(format!("child {child:?} is not canonical")));
            }
        }
        if !self.children.windows(2).all(|pair| pair[0] < pair[1]) {
            return Err(not_canonical("children are not sorted and unique".to_owned()));
        }
        Ok(())
    }
}

/// The parts of an address a one-line form is made of.
struct AddressParts {
    streets: Vec<String>,
    city: Option<String>,
    region: Option<String>,
    postal_code: Option<String>,
    country: Option<String>,
}

impl AddressParts {
    /// `street, city state postal, country`, leaving out what is missing.
    fn one_line(self) -> Option<String> {
        let locality: Vec<String> = [self.city, self.region, self.postal_code]
            .into_iter()
            .flatten()
            .filter(|part| !part.is_empty())
            .collect();
        let mut parts: Vec<String> =
            self.streets.into_iter().filter(|street| !street.is_empty()).collect();
        if !locality.is_empty() {
            parts.push(locality.join(" "));
        }
        parts.extend(self.country.filter(|country| !country.is_empty()));
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

/// A text field of a structured value whose key ends in `name` (keys are full IRIs or plain
/// names); numbers are given as written.
fn json_field(object: &serde_json::Value, name: &str) -> Option<String> {
    let object = object.as_object()?;
    object.iter().find_map(|(key, value)| {
        let local = key.rsplit(['/', '#', ':']).next().unwrap_or(key);
        if local != name {
            return None;
        }
        match value {
            serde_json::Value::String(text) => Some(text.clone()),
            serde_json::Value::Number(number) => Some(number.to_string()),
            _ => None,
        }
    })
}

/// Decimal degrees within ±`limit`.
fn parse_degrees(text: &str, limit: f64) -> Option<f64> {
    let trimmed = text.trim();
    let number: f64 = trimmed.strip_prefix('+').unwrap_or(trimmed).parse().ok()?;
    (number.is_finite() && number.abs() <= limit).then_some(number)
}

/// The identifier an element id names and its canonical Digital Link.
fn canonical_identifier(element: &str) -> Result<(Identifier, String), Error> {
    gs1::check_identifier(element)
        .map_err(|source| Error::BadIdentifier { element: element.to_owned(), source })?;
    let identifier =
        gs1::classify(element).ok_or_else(|| Error::NotAGs1Key { element: element.to_owned() })?;
    let link = identifier.to_canonical_link();
    Ok((identifier, link))
}

/// A child id in canonical form: the canonical Digital Link of a GS1 key, any other
/// identifier as written (after the identifier character rules).
fn canonical_child(element: &str, child: &str) -> Result<String, Error> {
    gs1::check_identifier(child).map_err(|error| Error::MalformedChild {
        element: element.to_owned(),
        child: child.to_owned(),
        reason: error.to_string(),
    })?;
    if child.is_empty() {
        return Err(Error::MalformedChild {
            element: element.to_owned(),
            child: child.to_owned(),
            reason: "a child id must not be empty".to_owned(),
        });
    }
    Ok(gs1::canonical_digital_link(child).unwrap_or_else(|| child.to_owned()))
}

/// A text value a person will read: no control characters (they would change what a table or
/// a spreadsheet shows).
fn check_text(text: &str) -> Result<(), String> {
    match text.chars().find(|character| character.is_control()) {
        Some(character) => Err(format!("the value holds control character {character:?}")),
        None => Ok(()),
    }
}

/// An attribute id as a canonical full IRI: an absolute `urn:`, `http://` or `https://` IRI as
/// written, or a CURIE expanded with the document's namespaces (then the EPCIS context's
/// standard prefixes); CBV `#` attributes written in the `cbvmda:` form are rewritten to it.
fn expand_attribute_id(written: &str, namespaces: &[Namespace]) -> Result<String, String> {
    if written.is_empty() {
        return Err("the attribute id is empty".to_owned());
    }
    if let Some(character) =
        written.chars().find(|character| gs1::is_forbidden_in_identifier(*character))
    {
        return Err(format!("the attribute id holds forbidden character {character:?}"));
    }
    let is_absolute = ["urn:", "http://", "https://"].iter().any(|scheme| {
        written.get(..scheme.len()).is_some_and(|head| head.eq_ignore_ascii_case(scheme))
    });
    let expanded = if is_absolute {
        written.to_owned()
    } else {
        let Some((prefix, local)) = written.split_once(':') else {
            return Err(
                "the attribute id is neither a full IRI nor a CURIE (prefix:name)".to_owned()
            );
        };
        let declared = namespaces
            .iter()
            .rev()
            .find(|namespace| namespace.prefix == prefix)
            .map(|namespace| namespace.iri.as_str())
            .or_else(|| {
                STANDARD_PREFIXES
                    .iter()
                    .find(|(standard, _)| *standard == prefix)
                    .map(|(_, iri)| *iri)
            });
        match declared {
            Some(iri) if !local.is_empty() => format!("{iri}{local}"),
            Some(_) => return Err("the attribute id names a prefix but no attribute".to_owned()),
            None => {
                return Err(format!(
                    "prefix {prefix:?} of the attribute id is not declared by the document"
                ));
            }
        }
    };
    let local_after = |namespace: &str| {
        expanded
            .get(..namespace.len())
            .filter(|head| head.eq_ignore_ascii_case(namespace))
            .map(|_| &expanded[namespace.len()..])
    };
    if let Some(local) = local_after(CBV_MDA)
        && CBV_HASH_ATTRIBUTES.contains(&local)
    {
        return Ok(format!("{CBV_MDA_HASH}{local}"));
    }
    Ok(expanded)
}

/// The full IRI of an attribute named by a query (`cbvmda:name`, `gs1:productName` or a full
/// IRI), in the form statements carry, so a filter compares like with like.
pub fn attribute_iri(written: &str) -> Result<String, String> {
    expand_attribute_id(written.trim(), &[])
}

/// The text of an attribute value: text and numbers as written (trimmed), booleans as
/// `true`/`false`, structures as compact JSON with sorted keys (full IRIs where namespaced).
fn value_text(value: &ExtensionValue) -> Result<String, String> {
    let text = match value {
        ExtensionValue::Text(text) => text.trim().to_owned(),
        ExtensionValue::Number(number) => number.as_str().to_owned(),
        ExtensionValue::Boolean(flag) => flag.to_string(),
        structured => serde_json::to_string(&value_json(structured)?)
            .map_err(|error| format!("the structured value cannot be written: {error}"))?,
    };
    check_text(&text)?;
    Ok(text)
}

/// A structured value as JSON, keys sorted so equal content gives equal text.
fn value_json(value: &ExtensionValue) -> Result<serde_json::Value, String> {
    Ok(match value {
        ExtensionValue::Text(text) => {
            check_text(text)?;
            serde_json::Value::String(text.trim().to_owned())
        }
        ExtensionValue::Number(number) => serde_json::from_str(number.as_str())
            .unwrap_or_else(|_| serde_json::Value::String(number.as_str().to_owned())),
        ExtensionValue::Boolean(flag) => serde_json::Value::Bool(*flag),
        ExtensionValue::List(items) => {
            serde_json::Value::Array(items.iter().map(value_json).collect::<Result<_, _>>()?)
        }
        ExtensionValue::Object(fields) => {
            let mut sorted: BTreeMap<String, serde_json::Value> = BTreeMap::new();
            for ExtensionField { name, value } in fields {
                let key = format!("{}{}", name.namespace_iri, name.local_name);
                check_text(&key)?;
                let value = value_json(value)?;
                // A repeated key (XML siblings) becomes a list, in document order.
                match sorted.remove(&key) {
                    None => {
                        sorted.insert(key, value);
                    }
                    Some(serde_json::Value::Array(mut items)) => {
                        items.push(value);
                        sorted.insert(key, serde_json::Value::Array(items));
                    }
                    Some(first) => {
                        sorted.insert(key, serde_json::Value::Array(vec![first, value]));
                    }
                }
            }
            serde_json::Value::Object(sorted.into_iter().collect())
        }
    })
}

/// One vocabulary element as a canonical statement.
fn statement_of(
    vocabulary_type: VocabularyType,
    element: &VocabularyElement,
    namespaces: &[Namespace],
) -> Result<Statement, Error> {
    let written = element.id.trim();
    let (identifier, id) = canonical_identifier(written)?;
    vocabulary_type.check_key(&identifier).map_err(|expected| Error::WrongKindOfKey {
        element: written.to_owned(),
        vocabulary_type,
        expected,
    })?;
    let mut attributes = Vec::with_capacity(element.attributes.len());
    for attribute in &element.attributes {
        let malformed = |reason: String| Error::MalformedAttribute {
            element: written.to_owned(),
            attribute: attribute.id.clone(),
            reason,
        };
        let attribute_id =
            expand_attribute_id(attribute.id.trim(), namespaces).map_err(malformed)?;
        let value = value_text(&attribute.value).map_err(malformed)?;
        attributes.push(Attribute { id: attribute_id, value });
    }
    attributes.sort();
    attributes.dedup();
    let mut children = element
        .children
        .iter()
        .map(|child| canonical_child(written, child.trim()))
        .collect::<Result<Vec<_>, _>>()?;
    children.sort();
    children.dedup();
    Ok(Statement { vocabulary_type, id, attributes, children })
}

/// The statements of a document's master data (`epcisHeader.epcisMasterData.vocabularyList`
/// in either binding), in document order. All or nothing: the first element that breaks a
/// rule (an unknown vocabulary type, an identifier that is not a GS1 key or does not fit its
/// vocabulary, a malformed attribute or child, an identifier described twice in one
/// vocabulary) is the error.
pub fn statements_of(document: &Document) -> Result<Vec<Statement>, Error> {
    let mut statements = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for vocabulary in document.master_data.iter().flatten() {
        let vocabulary_type =
            VocabularyType::from_uri(&vocabulary.vocabulary_type).ok_or_else(|| {
                Error::UnknownVocabularyType {
                    vocabulary_type: vocabulary.vocabulary_type.clone(),
                    element: vocabulary.elements.first().map(|element| element.id.clone()),
                }
            })?;
        for element in &vocabulary.elements {
            let statement = statement_of(vocabulary_type, element, &document.namespaces)?;
            if !seen.insert((vocabulary_type, statement.id.clone())) {
                return Err(Error::DuplicateElement { element: statement.id, vocabulary_type });
            }
            statements.push(statement);
        }
    }
    Ok(statements)
}

/// Whether `prefix` is a GS1 company prefix as a roster grants one: 4 to 12 digits.
pub fn is_company_prefix(prefix: &str) -> bool {
    (4..=12).contains(&prefix.len()) && prefix.bytes().all(|byte| byte.is_ascii_digit())
}

/// The digits of a key that start with its GS1 company prefix: a GTIN or ITIP after its
/// indicator digit, an SSCC after its extension digit, a GRAI after its leading zero, any
/// other key from its first digit (`None`: not a key with a company prefix).
fn company_digits(canonical_link: &str) -> Option<(&str, &str)> {
    let path = canonical_link.strip_prefix(CANONICAL_STEM)?.strip_prefix('/')?;
    let mut segments = path.split('/');
    let ai = segments.next()?;
    let value = segments.next()?;
    let digits = match ai {
        "01" | "8006" | "00" | "8003" => value.get(1..)?,
        _ => value,
    };
    Some((ai, digits))
}

/// The ownership rule: `author` may describe `id` (any form of a GS1 key) only when it is a
/// member and `id` is its own GLN (a place at that GLN, any extension, or the party) or a key
/// under one of the GS1 company prefixes the roster grants it. An EPC URN names its company
/// prefix explicitly; the same digits lead its canonical Digital Link, so one rule serves both.
pub fn check_owner(roster: &Roster, author: &PublicKey, id: &str) -> Result<(), Error> {
    let not_owner =
        |reason: String| Error::NotOwner { element: id.to_owned(), author: *author, reason };
    let Some(member) = roster.member(author) else {
        return Err(not_owner("it is not a member of the roster".to_owned()));
    };
    let (identifier, link) = canonical_identifier(id)?;
    let own_gln = match &identifier {
        Identifier::Location { gln, .. } | Identifier::Party { gln } => *gln == member.gln,
        _ => false,
    };
    if own_gln {
        return Ok(());
    }
    let under_prefix = company_digits(&link).is_some_and(|(_, digits)| {
        member.prefixes.iter().any(|prefix| digits.starts_with(prefix.as_str()))
    });
    if under_prefix {
        return Ok(());
    }
    let granted = if member.prefixes.is_empty() {
        "none".to_owned()
    } else {
        member.prefixes.iter().cloned().collect::<Vec<_>>().join(", ")
    };
    Err(not_owner(format!(
        "an organisation describes only its own GLN ({}) and keys under the GS1 company prefixes the roster grants it ({granted})",
        member.gln
    )))
}

#[cfg(test)]
mod tests;
