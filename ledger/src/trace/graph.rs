//! The lot graph: every event of every feed, interned into compact integer ids and adjacency
//! lists, kept up to date one entry at a time ([`Graph`]).
//!
//! Owns the graph's state and its maintenance ([`Graph::apply`]): nodes for lots, items and
//! logistic units (pallets) with the events naming them, item → lot membership from ILMD,
//! pallet membership, transformation groups, facility and GTIN look-ups, and error
//! declarations (an event declared in error by its own author is marked, never used). Also owns
//! the primitive reads every query is built from: resolving an event's objects to lots at the
//! event's time (pallets opened to what they held then) and finding the events that touch a
//! lot. Does not own the queries (see [`super::query`] and [`super::walk`]), the recall
//! summaries kept beside the graph (see [`super::summary`]) nor the public face both sit
//! behind (see [`super::Index`]).
//!
//! Layout: a walk reads thousands of events scattered over the graph, each read a memory miss
//! per cache line touched, so an event record ([`StoredEvent`]) is one 64-byte cache line
//! holding everything a walk reads, a single object included; further objects and the
//! documents, sources and destinations lie in two shared arenas, what only maintenance reads
//! (the written `eventID`, ILMD master data) in side tables, and where each event lives in the
//! feeds (`StoredEntry`, the author by index) in a vector beside the events. Strings are
//! interned once as shared [`Text`], so links, places and organisation keys in answers are
//! reference counts, not copies. Maps keyed by text or digests from peers' data hash with a
//! seeded fast hash (an admitted author cannot craft colliding identifiers); maps keyed by our
//! own ids use the unseeded Fx hash.
//!
//! **Invariant:** the graph is a pure function of the *set* of entries applied: applying the
//! same entries in any order (feeds replicate independently) gives the same answers, because
//! everything order-dependent (pallet contents, handoff pairing, retractions) is decided at
//! query time from event times, never from arrival order.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use foldhash::fast::RandomState as SeededState;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::entry::{EntryHash, EntryRef};
use crate::epcis;
use crate::identity::PublicKey;

use super::event_ref::EventRef;
use super::facts::{
    ActionKind, CanonicalCache, Facts, Flow, Kind, MasterData, ObjectFact, ObjectKey, ObjectKind,
    lot_link,
};
use super::hash_id::EventHashId;
use super::ids::{EventId, NodeId, Symbol};
use super::text::Text;

/// How deep pallets may nest inside pallets before contents are cut off (and reported): real
/// logistic hierarchies are two or three levels; the bound keeps a pallet recorded inside
/// itself from looping.
pub const MAX_PALLET_NESTING: usize = 8;

/// The role an object plays in an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// `epcList` / `quantityList`.
    What,
    /// `parentID`.
    Parent,
    /// `childEPCs` / `childQuantityList`.
    Child,
    /// `inputEPCList` / `inputQuantityList`.
    Input,
    /// `outputEPCList` / `outputQuantityList`.
    Output,
}

/// An optional [`Symbol`] in four bytes (`u32::MAX` stands for none; [`Graph::intern`] never
/// hands that value out), so the optional fields of an event record cost no padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct PackedSymbol(u32);

impl PackedSymbol {
    const NONE: Self = Self(u32::MAX);

    fn new(symbol: Option<Symbol>) -> Self {
        symbol.map_or(Self::NONE, Self)
    }

    fn get(self) -> Option<Symbol> {
        (self != Self::NONE).then_some(self.0)
    }
}

/// One object named by an event, interned. 20 bytes with 4-byte alignment (the amount is held
/// as two halves), so an event's first object fits in the event's own cache line.
#[derive(Debug, Clone, Copy)]
pub struct ObjectUse {
    /// The node named.
    pub node: NodeId,
    /// Unit symbol, when stated.
    uom: PackedSymbol,
    /// Bits of the amount (`f64::to_bits`, low half first), meaningful when `has_quantity`.
    quantity_bits: [u32; 2],
    /// Its role in the event.
    pub role: Role,
    /// The node's kind (fixed when the node is created), copied here so a walk knows whether
    /// an event side holds pallets without visiting every node it names.
    pub kind: ObjectKind,
    /// Whether an amount is stated.
    has_quantity: bool,
}

impl ObjectUse {
    fn new(
        node: NodeId,
        role: Role,
        kind: ObjectKind,
        quantity: Option<f64>,
        uom: Option<Symbol>,
    ) -> Self {
        let bits = quantity.map_or(0, f64::to_bits);
        Self {
            node,
            uom: PackedSymbol::new(uom),
            quantity_bits: [bits as u32, (bits >> 32) as u32],
            role,
            kind,
            has_quantity: quantity.is_some(),
        }
    }

    /// Amount, when stated.
    pub fn quantity(&self) -> Option<f64> {
        let [low, high] = self.quantity_bits;
        self.has_quantity.then(|| f64::from_bits(u64::from(high) << 32 | u64::from(low)))
    }

    /// Unit symbol, when stated.
    pub fn uom(&self) -> Option<Symbol> {
        self.uom.get()
    }
}

/// A reference document (type, id) or a source / destination (type, id), interned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EndpointPair {
    /// The CBV type; always present for sources and destinations, optional for documents.
    kind: PackedSymbol,
    /// The document, party or location.
    pub id: Symbol,
}

impl EndpointPair {
    /// The CBV type, when stated.
    pub fn kind(&self) -> Option<Symbol> {
        self.kind.get()
    }
}

/// Bits of [`StoredEvent::flags`].
const DECLARATION: u8 = 1;
const RETRACTED: u8 = 2;
const HAS_MASTER: u8 = 4;
const COPY: u8 = 8;

/// One indexed event: its facts in interned form, in one cache line.
///
/// A walk reads thousands of events scattered over the graph, and each read is a memory miss
/// per cache line touched; so everything a walk reads sits in these 64 bytes, the common case
/// of a single object included. Further objects, documents and endpoints lie in shared arenas
/// of the [`Graph`] (one more line when present), and what only maintenance needs (the written
/// `eventID`, ILMD master data) lies in side tables. Read the lists through
/// [`Graph::objects`], [`Graph::documents`], [`Graph::sources`], [`Graph::destinations`].
#[derive(Debug, Clone)]
#[repr(align(64))]
pub struct StoredEvent {
    /// `eventTime` in milliseconds since the Unix epoch.
    pub time_ms: i64,
    /// Interned author (index into the author table).
    pub author: u32,
    /// Business location, else read point (canonical link).
    place: PackedSymbol,
    /// `bizStep` (bare word or URI).
    biz_step: PackedSymbol,
    /// `transformationID`.
    transformation: PackedSymbol,
    /// How many objects the event names (in every role).
    objects_len: u32,
    /// Where the objects start in [`Graph::object_arena`] when there are two or more (a single
    /// object is `first_object`).
    objects_start: u32,
    /// Where the documents and endpoints start in [`Graph::endpoint_arena`] (a header of two
    /// pairs with the counts, then the pairs), `u32::MAX` when the event has none.
    endpoints_start: u32,
    /// Event type.
    pub kind: Kind,
    /// `action`.
    pub action: Option<ActionKind>,
    /// What it means for custody of its what-objects.
    pub flow: Flow,
    /// [`DECLARATION`], [`RETRACTED`], [`HAS_MASTER`], [`COPY`].
    flags: u8,
    /// The only object, when the event names exactly one (most events do).
    first_object: ObjectUse,
}

impl StoredEvent {
    /// Whether queries may rely on this event.
    pub fn is_effective(&self) -> bool {
        self.flags & (DECLARATION | RETRACTED | COPY) == 0
    }

    /// This event is an error declaration (never used as a fact itself).
    pub fn is_declaration(&self) -> bool {
        self.flags & DECLARATION != 0
    }

    /// Declared in error by its author: marked, never used.
    pub fn is_retracted(&self) -> bool {
        self.flags & RETRACTED != 0
    }

    /// Another entry carries the same Event Hash ID and is the one relied on (see
    /// [`Graph::apply_facts`]): this entry is a copy of one event, never counted again.
    pub fn is_copy(&self) -> bool {
        self.flags & COPY != 0
    }

    /// Whether the event carries ILMD master data ([`Graph::master`]).
    pub fn has_master(&self) -> bool {
        self.flags & HAS_MASTER != 0
    }

    /// Business location, else read point (canonical link).
    pub fn place(&self) -> Option<Symbol> {
        self.place.get()
    }

    /// `bizStep` (bare word or URI).
    pub fn biz_step(&self) -> Option<Symbol> {
        self.biz_step.get()
    }

    /// `transformationID`.
    pub fn transformation(&self) -> Option<Symbol> {
        self.transformation.get()
    }
}

/// Where one indexed event lives in the feeds ([`EventRef`] with the author by its index in
/// the author table): smaller than the reference it stands for, and what an answer sorts
/// entries by (author, sequence) sits in its first cache line.
#[derive(Debug, Clone)]
struct StoredEntry {
    /// Position of the entry in its author's feed.
    sequence: u64,
    /// Interned author (index into the author table).
    author: u32,
    /// Hash of the signed entry bytes.
    entry_hash: EntryHash,
    /// The event's Event Hash ID.
    event_hash_id: EventHashId,
}

/// One node of the graph.
#[derive(Debug, Clone)]
pub struct Node {
    /// Canonical Digital Link (or the identifier as written), shared with the link map and
    /// with answers.
    pub link: Text,
    /// What it names.
    pub kind: ObjectKind,
    /// GTIN symbol for lots, items and classes.
    pub gtin: Option<Symbol>,
    /// Every event naming it, in any role, in arrival order.
    pub events: Vec<EventId>,
    /// Pallets it was ever packed onto (as a child), each once.
    pub containers: Vec<NodeId>,
    /// For an item: the lot it belongs to (from ILMD `lotNumber`).
    pub lot: Option<NodeId>,
    /// For a lot: its items known by serial.
    pub items: Vec<NodeId>,
}

/// What [`Index::apply`](super::Index::apply) did with an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// Indexed as a new event.
    Indexed(EventId),
    /// The same (author, sequence) was applied before; nothing changed.
    Duplicate,
    /// An error declaration: indexed, and this many earlier events of the same author were
    /// marked as not to be used.
    Declaration {
        /// Events retracted by this declaration when it was applied.
        retracted: usize,
    },
}

/// Sizes of the index, for the benchmark and the node's status page (the graph fills in
/// its own; [`super::Index::stats`] adds the recall summaries').
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct IndexStats {
    /// Events indexed (declarations included).
    pub events: usize,
    /// Events marked as declared in error.
    pub retracted: usize,
    /// Lot nodes.
    pub lots: usize,
    /// Item nodes.
    pub items: usize,
    /// Logistic-unit (pallet) nodes.
    pub logistic_units: usize,
    /// Distinct authors.
    pub organisations: usize,
    /// Approximate heap bytes held (capacities, not allocator overhead), recall summaries
    /// included.
    pub approximate_bytes: usize,
    /// Units whose recall summary is held (see [`super::summary`]).
    pub summaries: usize,
    /// Their approximate heap bytes (part of `approximate_bytes`).
    pub summary_bytes: usize,
}

/// A pallet's child as an aggregation names it: the node, its amount and unit of measure.
type PalletItem = (NodeId, Option<f64>, Option<Symbol>);

/// Room lent to [`Graph::resolve`] for opening pallets; a query resolves thousands of event
/// sides and keeps one of these for all of them, so opening a pallet allocates nothing.
#[derive(Debug, Default)]
pub struct ResolveScratch {
    /// One pallet's aggregation events up to the instant, in time order.
    aggregations: Vec<EventId>,
    /// One pallet's contents while its aggregations are replayed.
    contents: Vec<PalletItem>,
    /// The contents of the pallets being opened, innermost on top.
    open: Vec<PalletItem>,
}

/// One object resolved to a traceable unit (a lot, or an item with no known lot).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Resolved {
    /// The unit.
    pub unit: NodeId,
    /// Amount, when stated.
    pub quantity: Option<f64>,
    /// Unit of measure symbol.
    pub uom: Option<Symbol>,
}

/// The lot graph.
///
/// Hashing: maps keyed by text from peers' events (links, interned strings, declared names)
/// use a seeded fast hash, so an admitted author cannot craft colliding identifiers; maps keyed
/// by our own ids or by already-keyed fingerprints use the unseeded Fx hash, cheaper than the
/// standard SipHash on the ingest path.
#[derive(Debug, Default)]
pub struct Graph {
    /// Every event ever applied; an [`EventId`] indexes here.
    events: Vec<StoredEvent>,
    /// Where each event lives in the feeds, by [`EventId`] (returned with every answer relying
    /// on it). Kept apart from the events: a walk reads events many times and entries once,
    /// and the events alone are twice as dense in the cache.
    entries: Vec<StoredEntry>,
    /// The objects of every event naming two or more, one run per event (see
    /// [`StoredEvent`]): one allocation for all, and an event's objects in one place.
    object_arena: Vec<ObjectUse>,
    /// The documents, sources and destinations of every event naming any, one run per event:
    /// two header pairs (document and source counts, then destination count), then the pairs.
    endpoint_arena: Vec<EndpointPair>,
    /// ILMD master data of the few events that carry any (flagged
    /// [`StoredEvent::has_master`]): read only for a lot's origin, so kept out of the event
    /// records.
    masters: FxHashMap<EventId, MasterData>,
    /// `eventID` as written, by [`EventId`]: one of the names an error declaration may use,
    /// read only while applying entries, so kept out of the event records.
    written_ids: Vec<Option<Box<str>>>,
    /// Scratch for an event's objects while it is applied (saves an allocation per event).
    object_scratch: Vec<ObjectUse>,
    /// Scratch for the distinct nodes of an event while it is linked (same reason).
    node_scratch: Vec<NodeId>,
    /// Every node; a [`NodeId`] indexes here.
    nodes: Vec<Node>,
    /// Canonical link → node.
    node_by_link: HashMap<Text, NodeId, SeededState>,
    /// Interned strings; a [`Symbol`] indexes here. Shared with answers (see [`Text`]).
    symbols: Vec<Text>,
    /// String → symbol.
    symbol_by_text: HashMap<Text, Symbol, SeededState>,
    /// Author table.
    authors: Vec<PublicKey>,
    /// Each author's key in hex, as answers name organisations.
    author_hex: Vec<Text>,
    /// Author → index in the author table.
    author_ids: FxHashMap<PublicKey, u32>,
    /// (author, sequence) already applied: makes `apply` idempotent under re-delivery.
    applied_entries: FxHashSet<(u32, u64)>,
    /// Fingerprint of an event name (hash id or `eventID`) → the first event carrying it; lets
    /// an error declaration find the event it retracts. Nearly every name is carried by one
    /// event, so it is held inline rather than in a vector allocated per event.
    event_by_name: FxHashMap<u64, EventId>,
    /// Later events carrying a name already in `event_by_name`, in the order applied.
    more_events_by_name: FxHashMap<u64, Vec<EventId>>,
    /// (author, name) declared in error, so an original applied after its declaration is
    /// marked at once. Names are held as [`EventHashId`]s (compact for hash ids), compared
    /// exactly like their texts.
    declared_names: HashSet<(u32, EventHashId), SeededState>,
    /// Fingerprints of `declared_names`, checked first so most events need no allocation.
    declared_fingerprints: FxHashSet<(u32, u64)>,
    /// `transformationID` → its events.
    transformation_groups: FxHashMap<Symbol, Vec<EventId>>,
    /// Facility GLN → events that happened there.
    events_by_gln: FxHashMap<Symbol, Vec<EventId>>,
    /// GTIN → its lot nodes.
    lots_by_gtin: FxHashMap<Symbol, Vec<NodeId>>,
    /// Fixed hasher for name fingerprints.
    fingerprint_state: std::hash::RandomState,
    /// Count of retracted events.
    retracted_count: usize,
    /// Canonical forms of identifiers already seen (apply speed).
    canonical_cache: CanonicalCache,
}

impl Graph {
    /// Indexes one entry's event; pushes onto `touched` every event whose facts changed (this
    /// one, and each event it retracts or that an earlier declaration retracts), for the recall
    /// summaries to forget what those events may change.
    pub fn apply(
        &mut self,
        entry: EventRef,
        event: &epcis::Event,
        touched: &mut Vec<EventId>,
    ) -> Applied {
        let facts = Facts::from_event_cached(event, &mut self.canonical_cache);
        self.apply_facts(entry, facts, touched)
    }

    /// Indexes one entry given its facts (what [`Graph::apply`] does after digesting).
    pub fn apply_facts(
        &mut self,
        entry: EventRef,
        facts: Facts,
        touched: &mut Vec<EventId>,
    ) -> Applied {
        let author = self.author_id(entry.entry.author);
        if !self.applied_entries.insert((author, entry.entry.sequence)) {
            return Applied::Duplicate;
        }
        let event_id = EventId::try_from(self.events.len()).unwrap_or(EventId::MAX);
        let flow = facts.flow();
        let mut objects = std::mem::take(&mut self.object_scratch);
        objects.clear();
        for (role, list) in [
            (Role::What, &facts.what),
            (Role::Child, &facts.children),
            (Role::Input, &facts.inputs),
            (Role::Output, &facts.outputs),
        ] {
            for object in list {
                objects.push(self.object_use(object, role));
            }
        }
        if let Some(parent) = &facts.parent {
            let node = self.node_for(parent);
            let kind = self.nodes[node as usize].kind;
            objects.push(ObjectUse::new(node, Role::Parent, kind, None, None));
        }
        let place = facts.place().map(|place| self.intern(&place.link));
        let biz_step = facts.biz_step.as_deref().map(|step| self.intern(step));
        let transformation = facts.transformation_id.as_deref().map(|id| self.intern(id));
        let endpoints_start = self.store_endpoints(&facts);
        let (first_object, objects_start) = match objects.as_slice() {
            [] => (ObjectUse::new(0, Role::What, ObjectKind::Other, None, None), 0),
            [only] => (*only, 0),
            [first, ..] => {
                let start = u32::try_from(self.object_arena.len()).unwrap_or(u32::MAX);
                self.object_arena.extend_from_slice(&objects);
                (*first, start)
            }
        };
        let mut flags = 0;
        if facts.is_error_declaration {
            flags |= DECLARATION;
        }
        if !facts.master.is_empty() {
            flags |= HAS_MASTER;
            self.masters.insert(event_id, facts.master.clone());
        }
        let stored = StoredEvent {
            time_ms: facts.time_ms,
            author,
            place: PackedSymbol::new(place),
            biz_step: PackedSymbol::new(biz_step),
            transformation: PackedSymbol::new(transformation),
            objects_len: u32::try_from(objects.len()).unwrap_or(u32::MAX),
            objects_start,
            endpoints_start,
            kind: facts.kind,
            action: facts.action,
            flow,
            flags,
            first_object,
        };
        let hash_id_fingerprint = entry.event_hash_id.hash_with(&self.fingerprint_state);
        self.entries.push(StoredEntry {
            sequence: entry.entry.sequence,
            author,
            entry_hash: entry.entry.entry_hash,
            event_hash_id: entry.event_hash_id,
        });
        self.written_ids.push(facts.event_id.as_deref().map(Box::from));
        self.events.push(stored);
        self.link_event(event_id, &objects, &facts, hash_id_fingerprint);
        self.object_scratch = objects;
        touched.push(event_id);
        if facts.is_error_declaration {
            let retracted = self.apply_declaration(event_id, touched);
            return Applied::Declaration { retracted };
        }
        if self.is_declared(event_id) {
            self.mark_retracted(event_id, touched);
        }
        self.settle_copies(event_id, touched);
        Applied::Indexed(event_id)
    }

    /// Chooses which of the entries carrying `event_id`'s Event Hash ID queries rely on, so one
    /// event captured twice, or replicated from two organisations' feeds, adds its handoffs and
    /// quantities once. The kept entry is the first by (author, sequence) among those not
    /// declared in error, whatever order the entries arrived in, so answers do not depend on
    /// arrival order; the others are marked [`COPY`] and left out of answers (evidence included,
    /// which cites the kept entry). Pushes onto `touched` every entry whose mark changes.
    fn settle_copies(&mut self, event_id: EventId, touched: &mut Vec<EventId>) {
        if self.events[event_id as usize].is_declaration() {
            return;
        }
        let hash_id = &self.entries[event_id as usize].event_hash_id;
        let copies: Vec<EventId> = self
            .events_named(hash_id.hash_with(&self.fingerprint_state))
            .into_iter()
            .filter(|candidate| {
                !self.events[*candidate as usize].is_declaration()
                    && self.entries[*candidate as usize].event_hash_id == *hash_id
            })
            .collect();
        if copies.len() < 2 {
            return;
        }
        let kept = copies
            .iter()
            .copied()
            .filter(|copy| !self.events[*copy as usize].is_retracted())
            .min_by_key(|copy| {
                let entry = &self.entries[*copy as usize];
                (self.authors[entry.author as usize], entry.sequence)
            });
        for copy in copies {
            let is_copy = kept.is_some_and(|kept| kept != copy);
            let event = &mut self.events[copy as usize];
            if event.is_copy() != is_copy {
                event.flags ^= COPY;
                touched.push(copy);
            }
        }
    }

    /// Appends an event's documents, sources and destinations to the endpoint arena; returns
    /// where its run starts, or `u32::MAX` when it names none.
    fn store_endpoints(&mut self, facts: &Facts) -> u32 {
        if facts.documents.is_empty() && facts.sources.is_empty() && facts.destinations.is_empty() {
            return u32::MAX;
        }
        let start = u32::try_from(self.endpoint_arena.len()).unwrap_or(u32::MAX);
        let count = |length: usize| u32::try_from(length).unwrap_or(u32::MAX);
        self.endpoint_arena.push(EndpointPair {
            kind: PackedSymbol(count(facts.documents.len())),
            id: count(facts.sources.len()),
        });
        self.endpoint_arena
            .push(EndpointPair { kind: PackedSymbol(count(facts.destinations.len())), id: 0 });
        for document in &facts.documents {
            let document_type = document.document_type.as_deref().map(|kind| self.intern(kind));
            let id = self.intern(&document.id);
            self.endpoint_arena.push(EndpointPair { kind: PackedSymbol::new(document_type), id });
        }
        for endpoint in facts.sources.iter().chain(&facts.destinations) {
            let endpoint_type = self.intern(&endpoint.endpoint_type);
            let id = self.intern(&endpoint.id);
            self.endpoint_arena.push(EndpointPair { kind: PackedSymbol(endpoint_type), id });
        }
        start
    }

    /// Adds the event to every adjacency list it belongs to; `objects` are its objects and
    /// `hash_id_fingerprint` is the fingerprint of its Event Hash ID (see
    /// [`Graph::fingerprint`]).
    fn link_event(
        &mut self,
        event_id: EventId,
        objects: &[ObjectUse],
        facts: &Facts,
        hash_id_fingerprint: u64,
    ) {
        let stored = &self.events[event_id as usize];
        let (kind, action, transformation) = (stored.kind, stored.action, stored.transformation());
        let mut seen_nodes = std::mem::take(&mut self.node_scratch);
        seen_nodes.clear();
        let parent =
            objects.iter().find(|object| object.role == Role::Parent).map(|object| object.node);
        for object in objects {
            if !seen_nodes.contains(&object.node) {
                seen_nodes.push(object.node);
                self.nodes[object.node as usize].events.push(event_id);
            }
            if let (Role::Child, Some(parent)) = (object.role, parent)
                && kind == Kind::Aggregation
            {
                let containers = &mut self.nodes[object.node as usize].containers;
                if !containers.contains(&parent) {
                    containers.push(parent);
                }
            }
        }
        self.node_scratch = seen_nodes;
        if let Some(group) = transformation {
            self.transformation_groups.entry(group).or_default().push(event_id);
        }
        let mut previous_gln = None;
        for place in [&facts.read_point, &facts.biz_location].into_iter().flatten() {
            if let Some(gln) = &place.gln {
                let symbol = self.intern(gln);
                if previous_gln != Some(symbol) {
                    self.events_by_gln.entry(symbol).or_default().push(event_id);
                    previous_gln = Some(symbol);
                }
            }
        }
        // Items commissioned with a lot number belong to that lot from now on.
        if let Some(lot_number) = &facts.master.lot_number
            && action == Some(ActionKind::Add)
        {
            for object in objects.iter().filter(|object| object.role != Role::Parent) {
                let node = &self.nodes[object.node as usize];
                if node.kind != ObjectKind::Item || node.lot.is_some() {
                    continue;
                }
                let Some(gtin) = node.gtin.map(|symbol| self.symbols[symbol as usize].clone())
                else {
                    continue;
                };
                let lot = self.node_for_link(&lot_link(&gtin, lot_number), ObjectKind::Lot, &gtin);
                self.nodes[object.node as usize].lot = Some(lot);
                self.nodes[lot as usize].items.push(object.node);
            }
        }
        let event_id_fingerprint = facts.event_id.as_deref().map(|name| self.fingerprint(name));
        for fingerprint in [Some(hash_id_fingerprint), event_id_fingerprint].into_iter().flatten() {
            self.add_event_name(fingerprint, event_id);
        }
    }

    /// Records that `event_id` carries the name whose fingerprint is `fingerprint` (once).
    fn add_event_name(&mut self, fingerprint: u64, event_id: EventId) {
        match self.event_by_name.entry(fingerprint) {
            Entry::Vacant(vacant) => {
                vacant.insert(event_id);
            }
            Entry::Occupied(first) if *first.get() == event_id => {}
            Entry::Occupied(_) => {
                let later_events = self.more_events_by_name.entry(fingerprint).or_default();
                if !later_events.contains(&event_id) {
                    later_events.push(event_id);
                }
            }
        }
    }

    /// The events carrying a name whose fingerprint is `fingerprint`, in the order applied.
    fn events_named(&self, fingerprint: u64) -> Vec<EventId> {
        let Some(first_event) = self.event_by_name.get(&fingerprint) else {
            return Vec::new();
        };
        let later_events =
            self.more_events_by_name.get(&fingerprint).map_or(&[][..], Vec::as_slice);
        std::iter::once(*first_event).chain(later_events.iter().copied()).collect()
    }

    /// Marks the events a declaration names (same author only: nobody may retract someone
    /// else's event), pushing each onto `touched`. Returns how many were newly marked.
    fn apply_declaration(&mut self, declaration: EventId, touched: &mut Vec<EventId>) -> usize {
        let stored = &self.events[declaration as usize];
        let author = stored.author;
        let hash_id = self.entries[declaration as usize].event_hash_id.clone();
        let written_id = self.written_ids[declaration as usize].as_deref();
        let names: Vec<EventHashId> =
            [Some(hash_id), written_id.map(EventHashId::new)].into_iter().flatten().collect();
        let mut retracted = 0;
        for name in names {
            let fingerprint = name.hash_with(&self.fingerprint_state);
            let candidates = self.events_named(fingerprint);
            for candidate in candidates {
                let event = &self.events[candidate as usize];
                let named = self.entries[candidate as usize].event_hash_id == name
                    || self.written_ids[candidate as usize]
                        .as_deref()
                        .is_some_and(|event_id| name.is(event_id));
                if event.author == author
                    && !event.is_declaration()
                    && !event.is_retracted()
                    && named
                {
                    self.mark_retracted(candidate, touched);
                    retracted += 1;
                }
            }
            self.declared_fingerprints.insert((author, fingerprint));
            self.declared_names.insert((author, name));
        }
        retracted
    }

    /// Whether an earlier-applied declaration names this event, by its Event Hash ID or by
    /// its `eventID` (names compared as [`EventHashId`]s: the same text, held compactly).
    fn is_declared(&self, event_id: EventId) -> bool {
        if self.declared_names.is_empty() {
            return false;
        }
        let stored = &self.events[event_id as usize];
        let author = stored.author;
        let hash_id = &self.entries[event_id as usize].event_hash_id;
        let by_hash_id = self
            .declared_fingerprints
            .contains(&(author, hash_id.hash_with(&self.fingerprint_state)))
            && self.declared_names.contains(&(author, hash_id.clone()));
        by_hash_id
            || self.written_ids[event_id as usize].as_deref().is_some_and(|name| {
                self.declared_fingerprints.contains(&(author, self.fingerprint(name)))
                    && self.declared_names.contains(&(author, EventHashId::new(name)))
            })
    }

    /// Marks `event_id` as declared in error, pushing it onto `touched` when newly marked.
    fn mark_retracted(&mut self, event_id: EventId, touched: &mut Vec<EventId>) {
        let event = &mut self.events[event_id as usize];
        if !event.is_retracted() {
            event.flags |= RETRACTED;
            self.retracted_count += 1;
            touched.push(event_id);
            // Another organisation's copy of the retracted event, if any, is now relied on.
            self.settle_copies(event_id, touched);
        }
    }

    /// The fingerprint of an event name written as text: the one its [`EventHashId`] has, so
    /// names given either way meet in `events_by_name`.
    fn fingerprint(&self, name: &str) -> u64 {
        EventHashId::hash_text_with(name, &self.fingerprint_state)
    }

    fn author_id(&mut self, author: PublicKey) -> u32 {
        if let Some(id) = self.author_ids.get(&author) {
            return *id;
        }
        let id = u32::try_from(self.authors.len()).unwrap_or(u32::MAX);
        self.authors.push(author);
        self.author_hex.push(Text::from(author.to_hex()));
        self.author_ids.insert(author, id);
        id
    }

    /// Interns `text`.
    pub fn intern(&mut self, text: &str) -> Symbol {
        if let Some(symbol) = self.symbol_by_text.get(text) {
            return *symbol;
        }
        // Saturates below `Symbol::MAX`, which packed records keep for "none".
        let symbol =
            Symbol::try_from(self.symbols.len()).unwrap_or(Symbol::MAX).min(Symbol::MAX - 1);
        let text = Text::from(text);
        self.symbols.push(Text::clone(&text));
        self.symbol_by_text.insert(text, symbol);
        symbol
    }

    fn object_use(&mut self, object: &ObjectFact, role: Role) -> ObjectUse {
        let node = self.node_for(&object.key);
        let uom = object.uom.as_deref().map(|uom| self.intern(uom));
        let kind = self.nodes[node as usize].kind;
        ObjectUse::new(node, role, kind, object.quantity, uom)
    }

    fn node_for(&mut self, key: &ObjectKey) -> NodeId {
        if let Some(node) = self.node_by_link.get(&*key.link) {
            return *node;
        }
        self.add_node(Text::clone(&key.link), key.kind, key.gtin.as_deref().unwrap_or_default())
    }

    fn node_for_link(&mut self, link: &str, kind: ObjectKind, gtin: &str) -> NodeId {
        if let Some(node) = self.node_by_link.get(link) {
            return *node;
        }
        self.add_node(Text::from(link), kind, gtin)
    }

    /// Adds the node of `link`, which has none yet.
    fn add_node(&mut self, link: Text, kind: ObjectKind, gtin: &str) -> NodeId {
        let node_id = NodeId::try_from(self.nodes.len()).unwrap_or(NodeId::MAX);
        let gtin = (!gtin.is_empty()).then(|| self.intern(gtin));
        if let (ObjectKind::Lot, Some(gtin)) = (kind, gtin) {
            self.lots_by_gtin.entry(gtin).or_default().push(node_id);
        }
        self.nodes.push(Node {
            link: Text::clone(&link),
            kind,
            gtin,
            events: Vec::new(),
            containers: Vec::new(),
            lot: None,
            items: Vec::new(),
        });
        self.node_by_link.insert(link, node_id);
        node_id
    }

    // ----- reads -----

    /// Sizes and approximate memory of the graph (the summaries' fields left at zero).
    pub fn stats(&self) -> IndexStats {
        let count_kind =
            |kind: ObjectKind| self.nodes.iter().filter(|node| node.kind == kind).count();
        let event_bytes: usize = self
            .events
            .iter()
            .zip(&self.entries)
            .zip(&self.written_ids)
            .map(|((event, entry), written_id)| {
                std::mem::size_of::<StoredEvent>()
                    + std::mem::size_of::<StoredEntry>()
                    + entry.event_hash_id.heap_bytes()
                    + std::mem::size_of::<Option<Box<str>>>()
                    + written_id.as_ref().map_or(0, |id| id.len())
                    + usize::from(event.has_master())
                        * (std::mem::size_of::<MasterData>() + std::mem::size_of::<EventId>() + 8)
            })
            .sum::<usize>()
            + self.object_arena.capacity() * std::mem::size_of::<ObjectUse>()
            + self.endpoint_arena.capacity() * std::mem::size_of::<EndpointPair>();
        let node_bytes: usize = self
            .nodes
            .iter()
            .map(|node| {
                std::mem::size_of::<Node>()
                    + node.link.len()
                    + 16
                    + 4 * (node.events.capacity() + node.containers.capacity())
                    + 4 * node.items.capacity()
                    + 48
            })
            .sum();
        let symbol_bytes: usize =
            self.symbols.iter().map(|symbol| symbol.len() + 16 + 48).sum::<usize>();
        let map_bytes = self.applied_entries.capacity() * 24
            + self.event_by_name.capacity() * 16
            + self.more_events_by_name.capacity() * 48
            + self.more_events_by_name.values().map(|events| 4 * events.capacity()).sum::<usize>()
            + self.events_by_gln.values().map(|events| 4 * events.capacity()).sum::<usize>()
            + self
                .transformation_groups
                .values()
                .map(|events| 4 * events.capacity())
                .sum::<usize>();
        IndexStats {
            events: self.events.len(),
            retracted: self.retracted_count,
            lots: count_kind(ObjectKind::Lot),
            items: count_kind(ObjectKind::Item),
            logistic_units: count_kind(ObjectKind::LogisticUnit),
            organisations: self.authors.len(),
            approximate_bytes: event_bytes
                + node_bytes
                + symbol_bytes
                + map_bytes
                + self.canonical_cache.approximate_bytes(),
            summaries: 0,
            summary_bytes: 0,
        }
    }

    /// The node a canonical link names, if anything was recorded about it.
    pub fn node_by_link(&self, link: &str) -> Option<NodeId> {
        self.node_by_link.get(link).copied()
    }

    /// A node.
    pub fn node(&self, node: NodeId) -> &Node {
        &self.nodes[node as usize]
    }

    /// An event.
    pub fn event(&self, event: EventId) -> &StoredEvent {
        &self.events[event as usize]
    }

    /// The objects an event names, in every role.
    pub fn objects<'graph>(&'graph self, event: &'graph StoredEvent) -> &'graph [ObjectUse] {
        match event.objects_len {
            0 => &[],
            1 => std::slice::from_ref(&event.first_object),
            length => {
                let start = event.objects_start as usize;
                self.object_arena.get(start..start + length as usize).unwrap_or(&[])
            }
        }
    }

    /// The objects an event names in one role.
    pub fn objects_in<'graph>(
        &'graph self,
        event: &'graph StoredEvent,
        role: Role,
    ) -> impl Iterator<Item = &'graph ObjectUse> {
        self.objects(event).iter().filter(move |object| object.role == role)
    }

    /// An event's run in the endpoint arena: its (document, source, destination) counts and
    /// the pairs after the header.
    fn endpoint_run(&self, event: &StoredEvent) -> ([usize; 3], &[EndpointPair]) {
        let start = event.endpoints_start as usize;
        let Some([counts, more, ..]) = self.endpoint_arena.get(start..start + 2) else {
            return ([0; 3], &[]);
        };
        let counts = [counts.kind.0 as usize, counts.id as usize, more.kind.0 as usize];
        let pairs = self
            .endpoint_arena
            .get(start + 2..start + 2 + counts.iter().sum::<usize>())
            .unwrap_or(&[]);
        (counts, pairs)
    }

    /// An event's reference documents: (type, id).
    pub fn documents(&self, event: &StoredEvent) -> &[EndpointPair] {
        let ([documents, ..], pairs) = self.endpoint_run(event);
        pairs.get(..documents).unwrap_or(&[])
    }

    /// An event's `sourceList`: (type, id).
    pub fn sources(&self, event: &StoredEvent) -> &[EndpointPair] {
        let ([documents, sources, _], pairs) = self.endpoint_run(event);
        pairs.get(documents..documents + sources).unwrap_or(&[])
    }

    /// An event's `destinationList`: (type, id).
    pub fn destinations(&self, event: &StoredEvent) -> &[EndpointPair] {
        let ([documents, sources, _], pairs) = self.endpoint_run(event);
        pairs.get(documents + sources..).unwrap_or(&[])
    }

    /// An event's ILMD master data, when it carries any.
    pub fn master(&self, event: EventId) -> Option<&MasterData> {
        let stored = self.events.get(event as usize)?;
        if stored.has_master() { self.masters.get(&event) } else { None }
    }

    /// Where an event lives in the feeds.
    pub fn entry(&self, event: EventId) -> EventRef {
        let stored = &self.entries[event as usize];
        EventRef {
            entry: EntryRef {
                author: self.authors[stored.author as usize],
                sequence: stored.sequence,
                entry_hash: stored.entry_hash,
            },
            event_hash_id: stored.event_hash_id.clone(),
        }
    }

    /// An event's Event Hash ID.
    pub fn event_hash_id(&self, event: EventId) -> &EventHashId {
        &self.entries[event as usize].event_hash_id
    }

    /// Where an event sits in the feeds: its author's index in the author table (see
    /// [`Graph::author`]) and its sequence in that author's feed.
    pub fn entry_position(&self, event: EventId) -> (u32, u64) {
        let stored = &self.entries[event as usize];
        (stored.author, stored.sequence)
    }

    /// Number of nodes (a [`NodeId`] runs from 0 below it).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Number of events applied.
    pub fn event_count(&self) -> usize {
        self.events.len()
    }

    /// An interned string.
    pub fn symbol(&self, symbol: Symbol) -> &str {
        &self.symbols[symbol as usize]
    }

    /// An interned string, shared for an answer.
    pub fn text(&self, symbol: Symbol) -> Text {
        Text::clone(&self.symbols[symbol as usize])
    }

    /// The symbol of `text`, if it was ever interned.
    pub fn find_symbol(&self, text: &str) -> Option<Symbol> {
        self.symbol_by_text.get(text).copied()
    }

    /// Number of distinct authors indexed (author ids run from 0 below it).
    pub fn author_count(&self) -> usize {
        self.authors.len()
    }

    /// An author's key.
    pub fn author(&self, author: u32) -> PublicKey {
        self.authors[author as usize]
    }

    /// An author's key in hex, shared for an answer.
    pub fn author_hex(&self, author: u32) -> Text {
        Text::clone(&self.author_hex[author as usize])
    }

    /// The interned id of an author, if it ever wrote an indexed event.
    pub fn author_index(&self, author: &PublicKey) -> Option<u32> {
        self.author_ids.get(author).copied()
    }

    /// Events sharing a `transformationID`.
    pub fn transformation_group(&self, group: Symbol) -> &[EventId] {
        self.transformation_groups.get(&group).map_or(&[], Vec::as_slice)
    }

    /// Events that happened at a facility (by GLN, any extension).
    pub fn events_at_gln(&self, gln: &str) -> &[EventId] {
        self.find_symbol(gln)
            .and_then(|symbol| self.events_by_gln.get(&symbol))
            .map_or(&[], Vec::as_slice)
    }

    /// Lots of one GTIN.
    pub fn lots_of_gtin(&self, gtin: &str) -> &[NodeId] {
        self.find_symbol(gtin)
            .and_then(|symbol| self.lots_by_gtin.get(&symbol))
            .map_or(&[], Vec::as_slice)
    }

    /// The traceable unit an object stands for: an item's lot when known, else itself.
    pub fn unit_of(&self, node: NodeId) -> NodeId {
        self.nodes[node as usize].lot.unwrap_or(node)
    }

    /// Resolves the objects of `event` in `role` to traceable units at the event's time:
    /// items to their lots, pallets to what they held then (recursively, bounded). Amounts of
    /// the same unit and unit of measure are added up. Returns whether nesting was cut off.
    /// `scratch` lends the room pallets are opened in (nothing is allocated once it has grown).
    pub fn resolve(
        &self,
        event: EventId,
        role: Role,
        resolved: &mut Vec<Resolved>,
        scratch: &mut ResolveScratch,
    ) -> bool {
        resolved.clear();
        let stored = &self.events[event as usize];
        let mut cut_off = false;
        for object in self.objects_in(stored, role) {
            let named = (object.node, object.quantity(), object.uom());
            cut_off |= self.resolve_object(named, stored.time_ms, 0, resolved, scratch);
        }
        merge_resolved(resolved);
        cut_off
    }

    /// What `event` names of `unit` in `role` when that side holds no pallet: the same answer
    /// as [`Graph::resolve`] (amounts of the unit added up per unit of measure, the first unit
    /// of measure in order kept) without resolving and storing the whole side.
    pub fn resolve_without_pallets(
        &self,
        event: &StoredEvent,
        role: Role,
        unit: NodeId,
    ) -> Option<Resolved> {
        let mut found: Option<Resolved> = None;
        for object in self.objects_in(event, role) {
            let named_unit = match object.kind {
                ObjectKind::Lot | ObjectKind::Item => self.unit_of(object.node),
                ObjectKind::LogisticUnit | ObjectKind::Class | ObjectKind::Other => continue,
            };
            if named_unit != unit {
                continue;
            }
            let (quantity, uom) = (object.quantity(), object.uom());
            match &mut found {
                Some(sum) if sum.uom == uom => {
                    sum.quantity = sum.quantity.zip(quantity).map(|(left, right)| left + right);
                }
                Some(sum) if sum.uom < uom => {}
                _ => found = Some(Resolved { unit, quantity, uom }),
            }
        }
        found
    }

    fn resolve_object(
        &self,
        (node, quantity, uom): PalletItem,
        time_ms: i64,
        depth: usize,
        resolved: &mut Vec<Resolved>,
        scratch: &mut ResolveScratch,
    ) -> bool {
        let record = &self.nodes[node as usize];
        match record.kind {
            ObjectKind::Lot | ObjectKind::Item => {
                resolved.push(Resolved { unit: record.lot.unwrap_or(node), quantity, uom });
                false
            }
            ObjectKind::LogisticUnit => {
                if depth >= MAX_PALLET_NESTING {
                    return true;
                }
                // This pallet's contents sit on top of the `open` stack while they are
                // resolved (a pallet inside it stacks its own above them).
                let first = scratch.open.len();
                self.open_pallet(node, time_ms, scratch);
                let mut cut_off = false;
                for position in first..scratch.open.len() {
                    let child = scratch.open[position];
                    cut_off |= self.resolve_object(child, time_ms, depth + 1, resolved, scratch);
                }
                scratch.open.truncate(first);
                cut_off
            }
            ObjectKind::Class | ObjectKind::Other => false,
        }
    }

    /// Pushes onto `scratch.open` what a pallet held at `time_ms`: its effective aggregation
    /// events up to then, replayed in time order (ADD/OBSERVE put children on, DELETE takes
    /// the listed ones, or all when none are listed, off).
    fn open_pallet(&self, pallet: NodeId, time_ms: i64, scratch: &mut ResolveScratch) {
        let ResolveScratch { aggregations, contents, open } = scratch;
        aggregations.clear();
        aggregations.extend(self.nodes[pallet as usize].events.iter().copied().filter(
            |event_id| {
                let event = &self.events[*event_id as usize];
                event.kind == Kind::Aggregation
                    && event.is_effective()
                    && event.time_ms <= time_ms
                    && self.objects_in(event, Role::Parent).any(|object| object.node == pallet)
            },
        ));
        aggregations
            .sort_unstable_by_key(|event_id| (self.events[*event_id as usize].time_ms, *event_id));
        contents.clear();
        for event_id in aggregations.iter() {
            let event = &self.events[*event_id as usize];
            match event.action {
                Some(ActionKind::Delete) => {
                    let mut listed = self.objects_in(event, Role::Child).peekable();
                    if listed.peek().is_none() {
                        contents.clear();
                    } else {
                        for removed in listed {
                            contents.retain(|(child, _, _)| *child != removed.node);
                        }
                    }
                }
                _ => {
                    for object in self.objects_in(event, Role::Child) {
                        contents.retain(|(child, _, _)| *child != object.node);
                        contents.push((object.node, object.quantity(), object.uom()));
                    }
                }
            }
        }
        open.extend_from_slice(contents);
    }

    /// Every event that may name `unit` once resolved: its own, its items', and those of the
    /// pallets they were ever packed onto (recursively). Sorted, without duplicates; callers
    /// resolve each to check the unit was really there at the time.
    pub fn candidate_events(&self, unit: NodeId, candidates: &mut Vec<EventId>) {
        candidates.clear();
        let record = &self.nodes[unit as usize];
        if record.items.is_empty() && record.containers.is_empty() {
            // A node's events are listed once each, in id order: nothing to merge.
            candidates.extend_from_slice(&record.events);
            return;
        }
        let mut objects: Vec<NodeId> = vec![unit];
        objects.extend_from_slice(&self.nodes[unit as usize].items);
        let mut position = 0;
        while position < objects.len() {
            let node = &self.nodes[objects[position] as usize];
            candidates.extend_from_slice(&node.events);
            for container in &node.containers {
                if !objects.contains(container) {
                    objects.push(*container);
                }
            }
            position += 1;
        }
        candidates.sort_unstable();
        candidates.dedup();
    }
}

/// Adds up amounts of the same unit and unit of measure (an unknown amount stays unknown), in
/// place.
fn merge_resolved(resolved: &mut Vec<Resolved>) {
    if resolved.len() < 2 {
        return;
    }
    // Stable: equal keys keep the event's order, so amounts are always added in one order.
    resolved.sort_by_key(|item| (item.unit, item.uom));
    let mut kept = 0;
    for position in 1..resolved.len() {
        let item = resolved[position];
        let last = &mut resolved[kept];
        if last.unit == item.unit && last.uom == item.uom {
            last.quantity = last.quantity.zip(item.quantity).map(|(left, right)| left + right);
        } else {
            kept += 1;
            resolved[kept] = item;
        }
    }
    resolved.truncate(kept + 1);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A walk reads one cache line per event when the event names one object: the record
    /// must not grow past a line (a new field belongs in a side table or an arena).
    #[test]
    fn an_event_record_fills_one_cache_line() {
        assert_eq!(std::mem::size_of::<ObjectUse>(), 20);
        assert_eq!(std::mem::size_of::<StoredEvent>(), 64);
        assert_eq!(std::mem::align_of::<StoredEvent>(), 64);
    }

    /// Amounts survive packing exactly, an unstated amount stays unstated and a unit of
    /// measure stays what it was.
    #[test]
    fn object_amounts_round_trip() {
        for quantity in [Some(0.0), Some(-2.5), Some(1e300), Some(f64::MIN_POSITIVE), None] {
            let object = ObjectUse::new(7, Role::What, ObjectKind::Lot, quantity, Some(3));
            assert_eq!(object.quantity().map(f64::to_bits), quantity.map(f64::to_bits));
            assert_eq!(object.uom(), Some(3));
        }
        let without_unit = ObjectUse::new(7, Role::Child, ObjectKind::Item, Some(1.0), None);
        assert_eq!(without_unit.uom(), None);
    }
}
