//! Facts: the few things the lot graph needs from one EPCIS event, free of EPCIS syntax.
//!
//! Owns the digest of an [`epcis::Event`] into [`Facts`] (identifiers made canonical, CBV words
//! made bare, ILMD reduced to lot master data) and the classification of what an event means
//! for custody ([`Flow`]). Does not own identifier syntax (that is [`crate::gs1`]; here only the
//! canonical Digital Link path is split) nor any graph state (see [`super::index`]).

use std::borrow::Cow;
use std::collections::HashMap;

use foldhash::fast::RandomState as SeededState;

use serde::{Deserialize, Serialize};

use super::text::Text;
use crate::epcis::{self, EventType, ExtensionField, ExtensionValue, QuantityElement};
use crate::gs1::{self, Identifier};

/// Unit code used for objects counted one by one (EPCs), UN/CEFACT Rec 20 "each".
pub const EACH: &str = "EA";

/// What kind of traceable thing an identifier names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    /// GTIN + lot (LGTIN): the unit of traceability (FSMA's traceability lot code).
    Lot,
    /// GTIN + serial (SGTIN): one item, traced through the lot it belongs to when known.
    Item,
    /// SSCC: a pallet or case that carries lots and items; traces pass through it.
    LogisticUnit,
    /// GTIN without lot or serial: cannot be traced, only counted.
    Class,
    /// Anything else (non-GS1 URIs); kept so it can be named in answers.
    Other,
}

/// One identifier, canonicalised.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectKey {
    /// What it names.
    pub kind: ObjectKind,
    /// The canonical Digital Link (`https://id.gs1.org/01/…/10/…`), or the identifier as
    /// written when it is not a GS1 key; the graph's node key. Shared text: the same lot,
    /// pallet or class recurs in many events, and a copy from the cache costs a reference
    /// count instead of an allocation.
    pub link: Text,
    /// The 14-digit GTIN for lots, items and classes; used by ingredient hazards.
    pub gtin: Option<Text>,
}

impl ObjectKey {
    /// Canonicalises `written` (EPC URN, Digital Link on any host, or the canonical form);
    /// anything that is not a GS1 key is kept as written, as [`ObjectKind::Other`].
    pub fn parse(written: &str) -> Self {
        let trimmed = written.trim();
        let Some((identifier, canonical_link)) = gs1::classify_with_canonical_link(trimmed) else {
            return Self { kind: ObjectKind::Other, link: Text::from(trimmed), gtin: None };
        };
        let link = Text::from(canonical_link.as_ref());
        let (kind, gtin) = match identifier {
            Identifier::Lot { gtin, .. } => (ObjectKind::Lot, Some(Text::from(gtin))),
            Identifier::Item { gtin, .. } => (ObjectKind::Item, Some(Text::from(gtin))),
            Identifier::Class { gtin } => (ObjectKind::Class, Some(Text::from(gtin))),
            Identifier::LogisticUnit { .. } => (ObjectKind::LogisticUnit, None),
            Identifier::Location { .. } | Identifier::Party { .. } | Identifier::Other(_) => {
                (ObjectKind::Other, None)
            }
        };
        Self { kind, gtin, link }
    }
}

/// An identifier with the amount an event names of it.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectFact {
    /// The identifier.
    pub key: ObjectKey,
    /// How much: `Some(1)` for an EPC, the quantity element's amount for a class, `None` when
    /// the event leaves it unspecified.
    pub quantity: Option<f64>,
    /// Unit of `quantity` (`KGM`, `EA`…); `EA` for EPCs and for unitless quantity elements
    /// (borrowed: most objects are counted in `EA`, which needs no allocation).
    pub uom: Option<Cow<'static, str>>,
}

/// A place (read point, business location), canonicalised.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Place {
    /// Canonical Digital Link (`https://id.gs1.org/414/<gln>[/254/<ext>]`) or as written
    /// (shared text, like [`ObjectKey::link`]).
    pub link: Text,
    /// The 13-digit GLN of the facility, without extension; facility hazards match on it.
    pub gln: Option<Text>,
}

impl Place {
    /// Canonicalises a location identifier (SGLN URN or Digital Link); other URIs (`geo:`)
    /// are kept as written, without GLN.
    pub fn parse(written: &str) -> Self {
        let trimmed = written.trim();
        match gs1::classify_with_canonical_link(trimmed) {
            Some((Identifier::Location { gln, .. }, canonical_link)) => {
                Self { link: Text::from(canonical_link.as_ref()), gln: Some(Text::from(gln)) }
            }
            Some((_, canonical_link)) => {
                Self { link: Text::from(canonical_link.as_ref()), gln: None }
            }
            None => Self { link: Text::from(trimmed), gln: None },
        }
    }
}

/// A business document an event refers to (purchase order, despatch advice, bill of lading).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DocumentRef {
    /// CBV type as a bare word (`desadv`, `bol`, `po`) or a custom URI; `None` when unstated.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub document_type: Option<Text>,
    /// The document identifier URI.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: Text,
}

/// A source or destination: a party or a place goods come from or go to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    /// CBV type as a bare word (`owning_party`, `possessing_party`, `location`) or custom URI.
    pub endpoint_type: String,
    /// The party or location, canonicalised when it is a GS1 key (shared text).
    pub id: Text,
}

/// Lot master data from ILMD: what FSMA and consumers ask about a lot's origin.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MasterData {
    /// `countryOfOrigin` (ISO 3166 code as written).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country_of_origin: Option<String>,
    /// `harvestStartDate` (or `harvestDate`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub harvest_date: Option<String>,
    /// `productionDate` / `manufacturingDate` / `packingDate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub production_date: Option<String>,
    /// `itemExpirationDate` (or `expiryDate`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiry_date: Option<String>,
    /// `bestBeforeDate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub best_before_date: Option<String>,
    /// `lotNumber`: for items, the lot they belong to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lot_number: Option<String>,
}

impl MasterData {
    /// Whether no attribute is known.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Fills attributes still unknown here from `other` (the earliest statement wins).
    pub fn merge_missing(&mut self, other: &MasterData) {
        let pairs = [
            (&mut self.country_of_origin, &other.country_of_origin),
            (&mut self.harvest_date, &other.harvest_date),
            (&mut self.production_date, &other.production_date),
            (&mut self.expiry_date, &other.expiry_date),
            (&mut self.best_before_date, &other.best_before_date),
            (&mut self.lot_number, &other.lot_number),
        ];
        for (mine, theirs) in pairs {
            if mine.is_none() {
                mine.clone_from(theirs);
            }
        }
    }
}

/// The EPCIS event type, as far as the graph cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// ObjectEvent.
    Object,
    /// AggregationEvent: packing onto / unpacking from a pallet.
    Aggregation,
    /// TransactionEvent.
    Transaction,
    /// TransformationEvent: inputs become outputs (the lot graph's edges).
    Transformation,
    /// AssociationEvent: not a custody or lot-graph event; indexed only for completeness.
    Association,
}

/// `action`, as far as the graph cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionKind {
    /// Objects created / added.
    Add,
    /// Objects observed.
    Observe,
    /// Objects ended / removed.
    Delete,
}

/// What an event means for the quantity an organisation holds of the objects in its
/// what-dimension (epcList / quantityList).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    /// Created here (ADD: harvest, commissioning, initial packing): the author now holds it.
    Produced,
    /// Received from someone else (`receiving`): the author now holds it.
    Received,
    /// Sent away (`shipping`): the author no longer holds it; the consignee does.
    Shipped,
    /// Gone for good (sold at retail, destroyed, disposed, dispensed, decommissioned).
    Ended,
    /// Seen, nothing changes hands.
    Observed,
}

/// Business steps after which the objects leave distribution.
const ENDING_STEPS: &[&str] = &["retail_selling", "destroying", "dispensing", "decommissioning"];
/// Dispositions after which the objects leave distribution.
const ENDING_DISPOSITIONS: &[&str] = &["retail_sold", "destroyed", "disposed", "dispensed"];

/// The digest of one event that the lot graph is built from.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    /// Event type.
    pub kind: Kind,
    /// `action` (absent on transformations).
    pub action: Option<ActionKind>,
    /// `eventTime` in milliseconds since the Unix epoch; orders events and bounds windows.
    pub time_ms: i64,
    /// `bizStep` as a bare CBV word, or the custom URI as written.
    pub biz_step: Option<String>,
    /// `disposition` as a bare CBV word, or the custom URI as written.
    pub disposition: Option<String>,
    /// `readPoint`: where the event was observed.
    pub read_point: Option<Place>,
    /// `bizLocation`: where the objects are afterwards.
    pub biz_location: Option<Place>,
    /// `epcList` + `quantityList` (Object, Transaction).
    pub what: Vec<ObjectFact>,
    /// `parentID` (the pallet of an aggregation).
    pub parent: Option<ObjectKey>,
    /// `childEPCs` + `childQuantityList`.
    pub children: Vec<ObjectFact>,
    /// `inputEPCList` + `inputQuantityList`.
    pub inputs: Vec<ObjectFact>,
    /// `outputEPCList` + `outputQuantityList`.
    pub outputs: Vec<ObjectFact>,
    /// `transformationID`: transformation events of one process share their inputs/outputs.
    pub transformation_id: Option<String>,
    /// `bizTransactionList`: the reference documents, which also pair shipping and receiving.
    pub documents: Vec<DocumentRef>,
    /// `sourceList`.
    pub sources: Vec<Endpoint>,
    /// `destinationList`.
    pub destinations: Vec<Endpoint>,
    /// Lot master data found in `ilmd`.
    pub master: MasterData,
    /// Whether this event is an error declaration (a copy that retracts the original).
    pub is_error_declaration: bool,
    /// `eventID` as written; error declarations may name the original by it.
    pub event_id: Option<String>,
}

/// Most identifiers a [`CanonicalCache`] remembers per kind before it starts afresh.
/// Serialised items are mostly named once each: remembering every one would grow the cache
/// with the ledger (every entry's text on a joining node) for few hits, while
/// the identifiers that do recur (lots, places, parties, pallets) are back after a reset.
pub const CANONICAL_CACHE_LIMIT: usize = 1 << 14;

/// Remembers canonical forms already computed: the same identifiers (lots, places, parties)
/// recur in event after event, and canonicalising through the GS1 syntax dictionary costs far
/// more than a hash look-up. Holds one entry per distinct identifier written, up to
/// [`CANONICAL_CACHE_LIMIT`] per kind.
#[derive(Debug, Default)]
pub struct CanonicalCache {
    /// Identifier as written → its key.
    objects: HashMap<Box<str>, ObjectKey, SeededState>,
    /// Location as written → the place.
    places: HashMap<Box<str>, Place, SeededState>,
    /// Source / destination as written → canonical form.
    endpoints: HashMap<Box<str>, Text, SeededState>,
}

impl CanonicalCache {
    fn object(&mut self, written: &str) -> ObjectKey {
        if let Some(key) = self.objects.get(written) {
            return key.clone();
        }
        let key = ObjectKey::parse(written);
        bounded_insert(&mut self.objects, written, key.clone());
        key
    }

    fn place(&mut self, written: &str) -> Place {
        if let Some(place) = self.places.get(written) {
            return place.clone();
        }
        let place = Place::parse(written);
        bounded_insert(&mut self.places, written, place.clone());
        place
    }

    fn endpoint(&mut self, written: &str) -> Text {
        if let Some(canonical) = self.endpoints.get(written) {
            return Text::clone(canonical);
        }
        let trimmed = written.trim();
        let canonical =
            gs1::canonical_digital_link(trimmed).map_or_else(|| Text::from(trimmed), Text::from);
        bounded_insert(&mut self.endpoints, written, canonical.clone());
        canonical
    }

    /// Approximate heap bytes held.
    pub fn approximate_bytes(&self) -> usize {
        let objects: usize =
            self.objects.iter().map(|(written, key)| written.len() + key.link.len() + 96).sum();
        let places: usize =
            self.places.iter().map(|(written, place)| written.len() + place.link.len() + 96).sum();
        let endpoints: usize = self
            .endpoints
            .iter()
            .map(|(written, canonical)| written.len() + canonical.len() + 64)
            .sum();
        objects + places + endpoints
    }
}

/// Remembers `value` for `written`, forgetting everything first when the map is full.
fn bounded_insert<Value>(
    map: &mut HashMap<Box<str>, Value, SeededState>,
    written: &str,
    value: Value,
) {
    if map.len() >= CANONICAL_CACHE_LIMIT {
        map.clear();
    }
    map.insert(Box::from(written), value);
}

impl Facts {
    /// Digests `event`.
    pub fn from_event(event: &epcis::Event) -> Self {
        Self::from_event_cached(event, &mut CanonicalCache::default())
    }

    /// Digests `event`, reusing canonical forms computed before.
    pub fn from_event_cached(event: &epcis::Event, cache: &mut CanonicalCache) -> Self {
        let kind = match event.event_type {
            EventType::Object => Kind::Object,
            EventType::Aggregation => Kind::Aggregation,
            EventType::Transaction => Kind::Transaction,
            EventType::Transformation => Kind::Transformation,
            EventType::Association => Kind::Association,
        };
        let action = event.action.map(|action| match action {
            epcis::Action::Add => ActionKind::Add,
            epcis::Action::Observe => ActionKind::Observe,
            epcis::Action::Delete => ActionKind::Delete,
        });
        let instant = event.event_time.instant();
        let time_ms = i64::try_from(instant.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
        let master = event.ilmd.as_deref().map(master_data_of).unwrap_or_default();
        Self {
            kind,
            action,
            time_ms,
            biz_step: event.biz_step.as_ref().map(|value| value.bare_word_or_uri()),
            disposition: event.disposition.as_ref().map(|value| value.bare_word_or_uri()),
            read_point: event.read_point.as_ref().map(|location| cache.place(&location.id)),
            biz_location: event.biz_location.as_ref().map(|location| cache.place(&location.id)),
            what: objects_of(event.epcs(), &event.quantity_list, cache),
            parent: event.parent_id.as_deref().map(|parent| cache.object(parent)),
            children: objects_of(event.child_epcs(), &event.child_quantity_list, cache),
            inputs: objects_of(event.input_epcs(), &event.input_quantity_list, cache),
            outputs: objects_of(event.output_epcs(), &event.output_quantity_list, cache),
            transformation_id: event.transformation_id.as_ref().map(|id| id.trim().to_owned()),
            documents: event
                .biz_transaction_list
                .iter()
                .map(|transaction| DocumentRef {
                    document_type: transaction
                        .transaction_type
                        .as_ref()
                        .map(|value| Text::from(value.bare_word_or_uri())),
                    id: Text::from(transaction.value.trim()),
                })
                .collect(),
            sources: event.source_list.iter().map(|source| endpoint_of(source, cache)).collect(),
            destinations: event
                .destination_list
                .iter()
                .map(|destination| endpoint_of(destination, cache))
                .collect(),
            master,
            is_error_declaration: event.error_declaration.is_some(),
            event_id: event.event_id.as_ref().map(|id| id.trim().to_owned()),
        }
    }

    /// What this event means for the holder of the objects in its what-dimension.
    pub fn flow(&self) -> Flow {
        if !matches!(self.kind, Kind::Object | Kind::Transaction) {
            return Flow::Observed;
        }
        let step = self.biz_step.as_deref().unwrap_or_default();
        let disposition = self.disposition.as_deref().unwrap_or_default();
        if step == "receiving" {
            Flow::Received
        } else if step == "shipping" {
            Flow::Shipped
        } else if ENDING_STEPS.contains(&step)
            || ENDING_DISPOSITIONS.contains(&disposition)
            || (self.kind == Kind::Object && self.action == Some(ActionKind::Delete))
        {
            Flow::Ended
        } else if self.kind == Kind::Object && self.action == Some(ActionKind::Add) {
            Flow::Produced
        } else {
            Flow::Observed
        }
    }

    /// The place the event happened: the business location, else the read point.
    pub fn place(&self) -> Option<&Place> {
        self.biz_location.as_ref().or(self.read_point.as_ref())
    }
}

fn endpoint_of(endpoint: &epcis::SourceDestination, cache: &mut CanonicalCache) -> Endpoint {
    Endpoint {
        endpoint_type: endpoint.source_destination_type.bare_word_or_uri(),
        id: cache.endpoint(&endpoint.id),
    }
}

fn objects_of(
    epcs: &[String],
    quantities: &[QuantityElement],
    cache: &mut CanonicalCache,
) -> Vec<ObjectFact> {
    let mut objects = Vec::with_capacity(epcs.len() + quantities.len());
    objects.extend(epcs.iter().map(|epc| ObjectFact {
        key: cache.object(epc),
        quantity: Some(1.0),
        uom: Some(Cow::Borrowed(EACH)),
    }));
    objects.extend(quantities.iter().map(|element| ObjectFact {
        key: cache.object(&element.epc_class),
        quantity:
            element.quantity.as_ref().map(|quantity| quantity.to_f64()).filter(|q| q.is_finite()),
        uom: Some(element.uom.clone().map_or(Cow::Borrowed(EACH), Cow::Owned)),
    }));
    objects
}

/// Reduces ILMD to lot master data: attributes are recognised by local name, in any namespace,
/// because CBV master data (`cbvmda:`) and company vocabularies use the same names.
fn master_data_of(fields: &[ExtensionField]) -> MasterData {
    let mut master = MasterData::default();
    for field in fields {
        let Some(text) = text_of(&field.value) else { continue };
        let slot = match field.name.local_name.as_str() {
            "countryOfOrigin" => &mut master.country_of_origin,
            "harvestStartDate" | "harvestDate" => &mut master.harvest_date,
            "productionDate" | "manufacturingDate" | "packingDate" => &mut master.production_date,
            "itemExpirationDate" | "expiryDate" | "expirationDate" => &mut master.expiry_date,
            "bestBeforeDate" => &mut master.best_before_date,
            "lotNumber" => &mut master.lot_number,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(text);
        }
    }
    master
}

fn text_of(value: &ExtensionValue) -> Option<String> {
    match value {
        ExtensionValue::Text(text) => Some(text.trim().to_owned()),
        ExtensionValue::Number(number) => Some(number.as_str().to_owned()),
        _ => None,
    }
}

/// The canonical Digital Link of a lot: `https://id.gs1.org/01/<gtin14>/10/<lot>`.
pub fn lot_link(gtin: &str, lot: &str) -> String {
    gs1::lot_link(gtin, lot)
}

/// Which lots an event names: what a verifier checks an answer's lots against.
impl Facts {
    /// Every lot (canonical Digital Link) this event names, by the rule the index builds the
    /// lot graph with: a lot identifier in any what-dimension field (objects, parent,
    /// children, inputs, outputs), and, for an `ADD` event whose ILMD carries a `lotNumber`,
    /// the lot GTIN + lotNumber that each item it names outside the parent joins.
    pub fn lots(&self) -> std::collections::BTreeSet<Text> {
        let listed =
            || self.what.iter().chain(&self.children).chain(&self.inputs).chain(&self.outputs);
        let mut lots: std::collections::BTreeSet<Text> = listed()
            .map(|object| &object.key)
            .chain(self.parent.as_ref())
            .filter(|key| key.kind == ObjectKind::Lot)
            .map(|key| Text::clone(&key.link))
            .collect();
        if let (Some(lot_number), Some(ActionKind::Add)) = (&self.master.lot_number, self.action) {
            for object in listed().filter(|object| object.key.kind == ObjectKind::Item) {
                if let Some(gtin) = &object.key.gtin {
                    lots.insert(Text::from(lot_link(gtin, lot_number)));
                }
            }
        }
        lots
    }
}
