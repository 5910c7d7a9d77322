//! The lot graph index: every event of every feed, interned into compact integer ids and
//! adjacency lists, kept up to date one entry at a time.
//!
//! Owns the graph's state and its maintenance ([`Index::apply`]): nodes for lots, items and
//! logistic units (pallets) with the events naming them, item → lot membership from ILMD,
//! pallet membership, transformation groups, facility and GTIN look-ups, and error
//! declarations (an event declared in error by its own author is marked, never used). Also owns
//! the two primitive reads every query is built from: resolving an event's objects to lots at
//! the event's time (pallets opened to what they held then) and finding the events that touch a
//! lot. Does not own the queries themselves (see [`super::query`]).
//!
//! **Invariant:** the index is a pure function of the *set* of entries applied: applying the
//! same entries in any order (feeds replicate independently) gives the same answers, because
//! everything order-dependent (pallet contents, handoff pairing, retractions) is decided at
//! query time from event times, never from arrival order.

use std::collections::{HashMap, HashSet};

use foldhash::fast::RandomState as SeededState;
use rustc_hash::{FxHashMap, FxHashSet};

use crate::epcis;
use crate::identity::PublicKey;

use super::facts::{
    ActionKind, CanonicalCache, Facts, Flow, Kind, MasterData, ObjectFact, ObjectKind, lot_link,
};
use super::{EntryRef, EventHashId, Text};

/// Compact id of a node (lot, item, logistic unit, class or other identifier).
pub type NodeId = u32;
/// Compact id of an indexed event.
pub type EventId = u32;
/// Compact id of an interned string (place, party, document, unit, step).
pub type Symbol = u32;

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

/// One object named by an event, interned.
#[derive(Debug, Clone, Copy)]
pub struct ObjectUse {
    /// The node named.
    pub node: NodeId,
    /// Its role in the event.
    pub role: Role,
    /// The node's kind (fixed when the node is created), copied here so a walk knows whether
    /// an event side holds pallets without visiting every node it names.
    pub kind: ObjectKind,
    /// Amount, when stated.
    pub quantity: Option<f64>,
    /// Unit symbol, when stated.
    pub uom: Option<Symbol>,
}

/// One indexed event: its entry, and its facts in interned form.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    /// Interned author (index into the author table).
    pub author: u32,
    /// Event type.
    pub kind: Kind,
    /// `action`.
    pub action: Option<ActionKind>,
    /// What it means for custody of its what-objects.
    pub flow: Flow,
    /// `eventTime` in milliseconds since the Unix epoch.
    pub time_ms: i64,
    /// `bizStep` (bare word or URI).
    pub biz_step: Option<Symbol>,
    /// Business location, else read point (canonical link).
    pub place: Option<Symbol>,
    /// The objects it names, in every role.
    pub objects: Box<[ObjectUse]>,
    /// `transformationID`.
    pub transformation: Option<Symbol>,
    /// Reference documents: (type, id).
    pub documents: Box<[(Option<Symbol>, Symbol)]>,
    /// `sourceList`: (type, id).
    pub sources: Box<[(Symbol, Symbol)]>,
    /// `destinationList`: (type, id).
    pub destinations: Box<[(Symbol, Symbol)]>,
    /// ILMD lot master data, when the event carries any.
    pub master: Option<Box<MasterData>>,
    /// `eventID` as written, one of the names an error declaration may use.
    pub event_id: Option<Box<str>>,
    /// This event is an error declaration (never used as a fact itself).
    pub is_declaration: bool,
    /// Declared in error by its author: marked, never used.
    pub retracted: bool,
}

impl StoredEvent {
    /// Whether queries may rely on this event.
    pub fn is_effective(&self) -> bool {
        !self.retracted && !self.is_declaration
    }

    /// The objects in one role.
    pub fn objects_in(&self, role: Role) -> impl Iterator<Item = &ObjectUse> {
        self.objects.iter().filter(move |object| object.role == role)
    }
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

/// What [`Index::apply`] did with an entry.
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

/// Sizes of the index, for the benchmark and the node's status page.
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
    /// Approximate heap bytes held (capacities, not allocator overhead).
    pub approximate_bytes: usize,
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

/// The lot graph index.
/// Hashing: maps keyed by text from peers' events (links, interned strings, declared names)
/// use a seeded fast hash, so an admitted author cannot craft colliding identifiers; maps keyed
/// by our own ids or by already-keyed fingerprints use the unseeded Fx hash. SipHash, the
/// standard default, cost 4 % of a catch-up.
#[derive(Debug, Default)]
pub struct Index {
    /// Every event ever applied; an [`EventId`] indexes here.
    events: Vec<StoredEvent>,
    /// Where each event lives in the feeds, by [`EventId`] (returned with every answer relying
    /// on it). Kept apart from the events: a walk reads events many times and entries once,
    /// and the events alone are twice as dense in the cache.
    entries: Vec<EntryRef>,
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
    /// Fingerprint of an event name (hash id or `eventID`) → events carrying it; lets an error
    /// declaration find the event it retracts.
    events_by_name: FxHashMap<u64, Vec<EventId>>,
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

impl Index {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Indexes one entry's event; call on every append, or on every entry to rebuild.
    pub fn apply(&mut self, entry: EntryRef, event: &epcis::Event) -> Applied {
        let facts = Facts::from_event_cached(event, &mut self.canonical_cache);
        self.apply_facts(entry, facts)
    }

    /// Indexes one entry given its facts (what [`Index::apply`] does after digesting).
    pub fn apply_facts(&mut self, entry: EntryRef, facts: Facts) -> Applied {
        let author = self.author_id(entry.author);
        if !self.applied_entries.insert((author, entry.sequence)) {
            return Applied::Duplicate;
        }
        let event_id = EventId::try_from(self.events.len()).unwrap_or(EventId::MAX);
        let flow = facts.flow();
        let mut objects = Vec::with_capacity(
            facts.what.len() + facts.children.len() + facts.inputs.len() + facts.outputs.len() + 1,
        );
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
            objects.push(ObjectUse { node, role: Role::Parent, kind, quantity: None, uom: None });
        }
        let place = facts.place().map(|place| self.intern(&place.link));
        let stored = StoredEvent {
            author,
            kind: facts.kind,
            action: facts.action,
            flow,
            time_ms: facts.time_ms,
            biz_step: facts.biz_step.as_deref().map(|step| self.intern(step)),
            place,
            objects: objects.into_boxed_slice(),
            transformation: facts.transformation_id.as_deref().map(|id| self.intern(id)),
            documents: facts
                .documents
                .iter()
                .map(|document| {
                    let document_type =
                        document.document_type.as_deref().map(|kind| self.intern(kind));
                    (document_type, self.intern(&document.id))
                })
                .collect(),
            sources: facts
                .sources
                .iter()
                .map(|source| (self.intern(&source.endpoint_type), self.intern(&source.id)))
                .collect(),
            destinations: facts
                .destinations
                .iter()
                .map(|target| (self.intern(&target.endpoint_type), self.intern(&target.id)))
                .collect(),
            master: (!facts.master.is_empty()).then(|| Box::new(facts.master.clone())),
            event_id: facts.event_id.as_deref().map(Box::from),
            is_declaration: facts.is_error_declaration,
            retracted: false,
        };
        let hash_id_fingerprint = entry.event_hash_id.hash_with(&self.fingerprint_state);
        self.entries.push(entry);
        self.link_event(event_id, &stored, &facts, hash_id_fingerprint);
        self.events.push(stored);
        if facts.is_error_declaration {
            let retracted = self.apply_declaration(event_id);
            return Applied::Declaration { retracted };
        }
        if self.is_declared(event_id) {
            self.mark_retracted(event_id);
        }
        Applied::Indexed(event_id)
    }

    /// Adds the event to every adjacency list it belongs to; `hash_id_fingerprint` is the
    /// fingerprint of its Event Hash ID (see [`Index::fingerprint`]).
    fn link_event(
        &mut self,
        event_id: EventId,
        stored: &StoredEvent,
        facts: &Facts,
        hash_id_fingerprint: u64,
    ) {
        let mut seen_nodes: Vec<NodeId> = Vec::with_capacity(stored.objects.len());
        let parent = stored.objects_in(Role::Parent).map(|object| object.node).next();
        for object in stored.objects.iter() {
            if !seen_nodes.contains(&object.node) {
                seen_nodes.push(object.node);
                self.nodes[object.node as usize].events.push(event_id);
            }
            if let (Role::Child, Some(parent)) = (object.role, parent)
                && stored.kind == Kind::Aggregation
            {
                let containers = &mut self.nodes[object.node as usize].containers;
                if !containers.contains(&parent) {
                    containers.push(parent);
                }
            }
        }
        if let Some(group) = stored.transformation {
            self.transformation_groups.entry(group).or_default().push(event_id);
        }
        let mut glns: Vec<Symbol> = Vec::with_capacity(2);
        for place in [&facts.read_point, &facts.biz_location].into_iter().flatten() {
            if let Some(gln) = &place.gln {
                let symbol = self.intern(gln);
                if !glns.contains(&symbol) {
                    glns.push(symbol);
                }
            }
        }
        for gln in glns {
            self.events_by_gln.entry(gln).or_default().push(event_id);
        }
        // Items commissioned with a lot number belong to that lot from now on.
        if let Some(lot_number) = &facts.master.lot_number
            && stored.action == Some(ActionKind::Add)
        {
            for object in stored.objects.iter().filter(|object| object.role != Role::Parent) {
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
        let event_id_fingerprint = stored.event_id.as_deref().map(|name| self.fingerprint(name));
        for fingerprint in [Some(hash_id_fingerprint), event_id_fingerprint].into_iter().flatten() {
            let events = self.events_by_name.entry(fingerprint).or_default();
            if !events.contains(&event_id) {
                events.push(event_id);
            }
        }
    }

    /// Marks the events a declaration names (same author only: nobody may retract someone
    /// else's event). Returns how many were newly marked.
    fn apply_declaration(&mut self, declaration: EventId) -> usize {
        let stored = &self.events[declaration as usize];
        let author = stored.author;
        let hash_id = self.entries[declaration as usize].event_hash_id.clone();
        let names: Vec<EventHashId> =
            [Some(hash_id), stored.event_id.as_deref().map(EventHashId::new)]
                .into_iter()
                .flatten()
                .collect();
        let mut retracted = 0;
        for name in names {
            let fingerprint = name.hash_with(&self.fingerprint_state);
            let candidates = self.events_by_name.get(&fingerprint).cloned().unwrap_or_default();
            for candidate in candidates {
                let event = &self.events[candidate as usize];
                let named = self.entries[candidate as usize].event_hash_id == name
                    || event.event_id.as_deref().is_some_and(|event_id| name.is(event_id));
                if event.author == author && !event.is_declaration && !event.retracted && named {
                    self.mark_retracted(candidate);
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
            || stored.event_id.as_deref().is_some_and(|name| {
                self.declared_fingerprints.contains(&(author, self.fingerprint(name)))
                    && self.declared_names.contains(&(author, EventHashId::new(name)))
            })
    }

    fn mark_retracted(&mut self, event_id: EventId) {
        let event = &mut self.events[event_id as usize];
        if !event.retracted {
            event.retracted = true;
            self.retracted_count += 1;
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
        let symbol = Symbol::try_from(self.symbols.len()).unwrap_or(Symbol::MAX);
        let text = Text::from(text);
        self.symbols.push(Text::clone(&text));
        self.symbol_by_text.insert(text, symbol);
        symbol
    }

    fn object_use(&mut self, object: &ObjectFact, role: Role) -> ObjectUse {
        let node = self.node_for(&object.key);
        let uom = object.uom.as_deref().map(|uom| self.intern(uom));
        let kind = self.nodes[node as usize].kind;
        ObjectUse { node, role, kind, quantity: object.quantity, uom }
    }

    fn node_for(&mut self, key: &super::facts::ObjectKey) -> NodeId {
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

    /// Sizes and approximate memory.
    pub fn stats(&self) -> IndexStats {
        let count_kind =
            |kind: ObjectKind| self.nodes.iter().filter(|node| node.kind == kind).count();
        let event_bytes: usize = self
            .events
            .iter()
            .zip(&self.entries)
            .map(|(event, entry)| {
                std::mem::size_of::<StoredEvent>()
                    + std::mem::size_of::<EntryRef>()
                    + entry.event_hash_id.heap_bytes()
                    + std::mem::size_of_val(&*event.objects)
                    + std::mem::size_of_val(&*event.documents)
                    + std::mem::size_of_val(&*event.sources)
                    + std::mem::size_of_val(&*event.destinations)
                    + event.master.as_ref().map_or(0, |_| std::mem::size_of::<MasterData>())
                    + event.event_id.as_ref().map_or(0, |id| id.len())
            })
            .sum();
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
            + self.events_by_name.capacity() * 48
            + self.events_by_name.values().map(|events| 4 * events.capacity()).sum::<usize>()
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

    /// Where an event lives in the feeds.
    pub fn entry(&self, event: EventId) -> &EntryRef {
        &self.entries[event as usize]
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
    pub fn resolve(&self, event: EventId, role: Role, resolved: &mut Vec<Resolved>) -> bool {
        resolved.clear();
        let stored = &self.events[event as usize];
        let mut cut_off = false;
        for object in stored.objects_in(role) {
            cut_off |= self.resolve_object(
                object.node,
                object.quantity,
                object.uom,
                stored.time_ms,
                0,
                resolved,
            );
        }
        merge_resolved(resolved);
        cut_off
    }

    fn resolve_object(
        &self,
        node: NodeId,
        quantity: Option<f64>,
        uom: Option<Symbol>,
        time_ms: i64,
        depth: usize,
        resolved: &mut Vec<Resolved>,
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
                let mut cut_off = false;
                for (child, child_quantity, child_uom) in self.pallet_contents(node, time_ms) {
                    cut_off |= self.resolve_object(
                        child,
                        child_quantity,
                        child_uom,
                        time_ms,
                        depth + 1,
                        resolved,
                    );
                }
                cut_off
            }
            ObjectKind::Class | ObjectKind::Other => false,
        }
    }

    /// What a pallet held at `time_ms`: its effective aggregation events up to then, replayed
    /// in time order (ADD/OBSERVE put children on, DELETE takes the listed ones, or all when
    /// none are listed, off).
    pub fn pallet_contents(
        &self,
        pallet: NodeId,
        time_ms: i64,
    ) -> Vec<(NodeId, Option<f64>, Option<Symbol>)> {
        let mut aggregations: Vec<EventId> = self.nodes[pallet as usize]
            .events
            .iter()
            .copied()
            .filter(|event_id| {
                let event = &self.events[*event_id as usize];
                event.kind == Kind::Aggregation
                    && event.is_effective()
                    && event.time_ms <= time_ms
                    && event.objects_in(Role::Parent).any(|object| object.node == pallet)
            })
            .collect();
        aggregations.sort_by_key(|event_id| (self.events[*event_id as usize].time_ms, *event_id));
        let mut contents: Vec<(NodeId, Option<f64>, Option<Symbol>)> = Vec::new();
        for event_id in aggregations {
            let event = &self.events[event_id as usize];
            match event.action {
                Some(ActionKind::Delete) => {
                    let mut listed = event.objects_in(Role::Child).peekable();
                    if listed.peek().is_none() {
                        contents.clear();
                    } else {
                        let removed: Vec<NodeId> = listed.map(|object| object.node).collect();
                        contents.retain(|(child, _, _)| !removed.contains(child));
                    }
                }
                _ => {
                    for object in event.objects_in(Role::Child) {
                        contents.retain(|(child, _, _)| *child != object.node);
                        contents.push((object.node, object.quantity, object.uom));
                    }
                }
            }
        }
        contents
    }

    /// Every event that may name `unit` once resolved: its own, its items', and those of the
    /// pallets they were ever packed onto (recursively). Sorted, without duplicates; callers
    /// resolve each to check the unit was really there at the time.
    pub fn candidate_events(&self, unit: NodeId, candidates: &mut Vec<EventId>) {
        candidates.clear();
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

/// Adds up amounts of the same unit and unit of measure (an unknown amount stays unknown).
fn merge_resolved(resolved: &mut Vec<Resolved>) {
    if resolved.len() < 2 {
        return;
    }
    resolved.sort_by_key(|item| (item.unit, item.uom));
    let mut merged: Vec<Resolved> = Vec::with_capacity(resolved.len());
    for item in resolved.drain(..) {
        match merged.last_mut() {
            Some(last) if last.unit == item.unit && last.uom == item.uom => {
                last.quantity = match (last.quantity, item.quantity) {
                    (Some(left), Some(right)) => Some(left + right),
                    _ => None,
                };
            }
            _ => merged.push(item),
        }
    }
    *resolved = merged;
}
