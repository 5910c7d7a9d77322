//! The master-data view with history: who said what about each identifier, and when.
//!
//! Owns: [`Directory`] (every statement by identifier, in memory, rebuilt from the store on open
//! like the trace index) and its reading rules: an organisation's later statement about an
//! identifier in one vocabulary supersedes its earlier one (feed order decides), the earlier
//! stays in the history; when several organisations may describe an identifier (a GLN and an
//! overlapping prefix), the statement with the latest record time is current, and who said it
//! is kept with it.
//! Does not own: whether a statement may be written (`super::check_owner`, enforced by
//! `feed::check_append`), statements' canonical form (`super`), or storage.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{Statement, VocabularyType};
use crate::entry::{EntryHash, EntryRef};
use crate::gs1::{self, Identifier};
use crate::identity::PublicKey;

/// One statement with the entry that signed it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Described {
    /// What was said.
    pub statement: Statement,
    /// The entry that carries it (its author is who said it).
    pub entry: EntryRef,
    /// The entry's record time, milliseconds since the Unix epoch.
    pub record_time_ms: i64,
}

impl Described {
    /// The organisation that said it.
    pub fn author(&self) -> PublicKey {
        self.entry.author
    }

    /// Newest first by record time; ties go to the larger author key, then the later
    /// sequence, so every node picks the same statement.
    fn recency(&self) -> (i64, PublicKey, u64) {
        (self.record_time_ms, self.entry.author, self.entry.sequence)
    }
}

/// Every master-data statement a node holds, by identifier.
#[derive(Debug, Default, Clone)]
pub struct Directory {
    /// Statements by canonical identifier, in the order they were inserted.
    by_id: BTreeMap<String, Vec<Described>>,
    /// Entries already inserted, so replaying an entry (start-up, then a local append) adds
    /// nothing twice.
    inserted: BTreeSet<EntryHash>,
}

/// The key a caller's identifier is stored under: its canonical Digital Link when it is a GS1
/// key (so a URN finds what a link stored), else as given.
fn lookup_key(id: &str) -> Cow<'_, str> {
    match gs1::canonical_digital_link(id) {
        Some(link) if link != id => Cow::Owned(link),
        _ => Cow::Borrowed(id),
    }
}

impl Directory {
    /// An empty directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the statement carried by `entry`; a second insert of the same entry is ignored.
    pub fn insert(&mut self, entry: EntryRef, record_time_ms: i64, statement: Statement) {
        if !self.inserted.insert(entry.entry_hash) {
            return;
        }
        self.by_id.entry(statement.id.clone()).or_default().push(Described {
            statement,
            entry,
            record_time_ms,
        });
    }

    /// How many statements are held (history included).
    pub fn len(&self) -> usize {
        self.inserted.len()
    }

    /// Whether no statement is held.
    pub fn is_empty(&self) -> bool {
        self.inserted.is_empty()
    }

    /// The statements in force for `id`: each organisation's latest (by feed order) in each
    /// vocabulary, newest record time first.
    pub fn in_force(&self, id: &str) -> Vec<&Described> {
        let Some(statements) = self.by_id.get(lookup_key(id).as_ref()) else {
            return Vec::new();
        };
        let mut heads: BTreeMap<(PublicKey, VocabularyType), &Described> = BTreeMap::new();
        for described in statements {
            let key = (described.entry.author, described.statement.vocabulary_type);
            match heads.get(&key) {
                Some(head) if head.entry.sequence >= described.entry.sequence => {}
                _ => {
                    heads.insert(key, described);
                }
            }
        }
        let mut in_force: Vec<&Described> = heads.into_values().collect();
        in_force.sort_by_key(|described| std::cmp::Reverse(described.recency()));
        in_force
    }

    /// The current statement about `id` (any vocabulary): of the statements in force, the one
    /// with the latest record time.
    pub fn current(&self, id: &str) -> Option<&Described> {
        self.in_force(id).into_iter().next()
    }

    /// The current statement about `id` in one vocabulary.
    pub fn current_in(&self, vocabulary_type: VocabularyType, id: &str) -> Option<&Described> {
        self.in_force(id)
            .into_iter()
            .find(|described| described.statement.vocabulary_type == vocabulary_type)
    }

    /// `author`'s latest statement about `id` in one vocabulary (what a capture compares a new
    /// statement with, so a retry appends nothing).
    pub fn latest_by(
        &self,
        author: &PublicKey,
        vocabulary_type: VocabularyType,
        id: &str,
    ) -> Option<&Described> {
        self.by_id
            .get(lookup_key(id).as_ref())?
            .iter()
            .filter(|described| {
                described.entry.author == *author
                    && described.statement.vocabulary_type == vocabulary_type
            })
            .max_by_key(|described| described.entry.sequence)
    }

    /// Every statement ever made about `id`, oldest record time first (superseded ones
    /// included).
    pub fn history(&self, id: &str) -> Vec<&Described> {
        let mut history: Vec<&Described> =
            self.by_id.get(lookup_key(id).as_ref()).into_iter().flatten().collect();
        history.sort_by_key(|described| described.recency());
        history
    }

    /// The statement that names `id` for a person: the newest statement in force that has a
    /// name; failing that, for a lot or an item its product (the GTIN), and for a place with a
    /// GLN extension the GLN itself.
    pub fn name_of(&self, id: &str) -> Option<&Described> {
        let named = |key: &str| self.named_in_force(key);
        if let Some(described) = named(id) {
            return Some(described);
        }
        match gs1::classify(id)? {
            Identifier::Lot { gtin, .. } | Identifier::Item { gtin, .. } => {
                named(&Identifier::Class { gtin }.to_canonical_link())
            }
            Identifier::Location { gln, extension: Some(_) } => {
                named(&Identifier::Location { gln, extension: None }.to_canonical_link())
            }
            _ => None,
        }
    }

    /// The statements stored about `id`: looked up as given first, since identifiers taken
    /// from answers are canonical already and a stored key is never a non-canonical form.
    fn statements_of(&self, id: &str) -> Option<&[Described]> {
        match self.by_id.get(id) {
            Some(statements) => Some(statements),
            None => self.by_id.get(lookup_key(id).as_ref()).map(Vec::as_slice),
        }
    }

    /// The first statement with a name among those in force about `id`, in
    /// [`Self::in_force`]'s order. Pages and answers ask this for every place and lot they
    /// show, so the usual few statements are compared pairwise without building the in-force
    /// list; a long list (one identifier described many times) takes the sorted way.
    fn named_in_force(&self, id: &str) -> Option<&Described> {
        const PAIRWISE_UP_TO: usize = 16;
        let statements = self.statements_of(id)?;
        if statements.len() > PAIRWISE_UP_TO {
            return self
                .in_force(id)
                .into_iter()
                .find(|described| described.statement.name().is_some());
        }
        let head_key =
            |described: &Described| (described.entry.author, described.statement.vocabulary_type);
        let mut best: Option<&Described> = None;
        for (position, described) in statements.iter().enumerate() {
            if described.statement.name().is_none() {
                continue;
            }
            // In force: no later statement by the same organisation in the same vocabulary
            // (an equal sequence keeps the first stored, as `in_force` does).
            let superseded = statements.iter().enumerate().any(|(other_position, other)| {
                head_key(other) == head_key(described)
                    && (other.entry.sequence > described.entry.sequence
                        || (other.entry.sequence == described.entry.sequence
                            && other_position < position))
            });
            if superseded {
                continue;
            }
            let newer = match best {
                None => true,
                Some(best) => {
                    described.recency() > best.recency()
                        || (described.recency() == best.recency()
                            && head_key(described) < head_key(best))
                }
            };
            if newer {
                best = Some(described);
            }
        }
        best
    }

    /// Every identifier's statements in force, by identifier, each newest first.
    pub fn iter(&self) -> impl Iterator<Item = &Described> + '_ {
        self.by_id.keys().flat_map(|id| self.in_force(id))
    }

    /// Every identifier described, in order.
    pub fn ids(&self) -> impl Iterator<Item = &str> + '_ {
        self.by_id.keys().map(String::as_str)
    }
}
