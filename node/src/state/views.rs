//! Read views: health, metrics gauges, roster, feeds, entries, checkpoints, proofs, trace and
//! recall answers, each as a typed reply.
//!
//! Owns: the shapes of the node's own replies (serialised by `http` as documented in
//! `docs/http-api.md`, fields in the order written here), and pairing every trace and recall
//! answer with its evidence: the signed entries it relied on with inclusion proofs against
//! the authors' latest checkpoints, so a client can re-verify it without trusting this node,
//! and with the excursions in force about the lots it reaches (read from the cold-chain book,
//! their records proven alongside).
//! Does not own the shapes a client reads back too (answers, replies and evidence live in
//! `lotline_ledger::trace` and `lotline_ledger::proof`, gathered by `Store::evidence`), nor
//! reading what a user typed (subjects, hazards, keys in paths: `http` parses those).

use std::collections::BTreeSet;

use lotline_ledger::fork::ForkProof;
use lotline_ledger::identity::PublicKey;
use lotline_ledger::proof::Evidence;
use lotline_ledger::roster::Role;
use lotline_ledger::trace::{
    Direction, EventRef, ExcursionRef, Hazard, Names, RecallReply, Subject, TraceAnswer,
    TraceReply, excursions,
};
use serde::Serialize;

use super::{Error, Ledger, read_lock};

/// Most entries `GET /feeds/{author}/entries` returns at once.
const MAX_ENTRIES_PER_PAGE: u64 = 1_000;

/// `GET /health`, without the peer count (the network, not the ledger, knows it).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// Always `ok`: a node that answers is up.
    #[schema(value_type = String)]
    pub status: &'static str,
    /// Node name from the config.
    pub name: String,
    /// This organisation's key (hex).
    pub organisation: String,
    /// The libp2p peer id, once the network is up.
    pub peer_id: Option<String>,
    /// Entries in the store.
    pub entries: u64,
    /// Events indexed in the catalogue.
    pub events: u64,
}

/// `GET /roster`: the network's admitted organisations.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Roster {
    /// The network's name.
    pub network: String,
    /// The roster's version (bumped by every roster change).
    pub version: u64,
    /// Every admitted organisation.
    pub members: Vec<RosterMember>,
}

/// One organisation of [`Roster`].
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RosterMember {
    /// Its signing key (hex).
    pub public_key: String,
    /// Display name.
    pub name: String,
    /// Its GLN.
    pub gln: String,
    /// Roles held.
    pub roles: BTreeSet<Role>,
}

/// One feed of `GET /feeds`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FeedSummary {
    /// The author's key (hex).
    pub author: String,
    /// The author's name in the roster, if admitted.
    pub name: Option<String>,
    /// Entries held.
    pub size: u64,
    /// Hash of the last entry held (hex).
    pub head: String,
    /// Whether a fork proof froze the feed.
    pub frozen: bool,
}

/// `GET /feeds/{author}/entries`: a range of one feed's signed entries.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FeedEntries {
    /// The author's key (hex).
    pub author: String,
    /// The entries, in sequence order.
    pub entries: Vec<FeedEntry>,
}

/// One entry of [`FeedEntries`].
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FeedEntry {
    /// Its position in the feed.
    pub sequence: u64,
    /// Its entry hash (hex; empty should the stored bytes not decode).
    pub entry_hash: String,
    /// The signed wire bytes.
    #[serde(serialize_with = "base64_text")]
    #[schema(value_type = String, format = Byte)]
    pub wire: Vec<u8>,
}

/// Writes bytes as standard base64 text.
fn base64_text<S: serde::Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
    use base64::Engine;
    serializer.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// What `/metrics` reports of the ledger, read at one scrape (`crate::metrics` writes the
/// text).
#[derive(Debug, Clone)]
pub struct Gauges {
    /// Entries in the store.
    pub entries: u64,
    /// Lots whose recall summary is kept.
    pub recall_summaries: usize,
    /// Approximate heap bytes of the kept recall summaries.
    pub recall_summary_bytes: usize,
    /// Per feed held, in author order.
    pub feeds: Vec<FeedGauges>,
}

/// One feed of [`Gauges`].
#[derive(Debug, Clone)]
pub struct FeedGauges {
    /// The feed's author.
    pub author: PublicKey,
    /// Entries held.
    pub size: u64,
    /// Entries its author announced (in a signed checkpoint) that this node lacks.
    pub lag: u64,
}

impl Ledger {
    /// `GET /health` (the handler adds the peer count).
    pub fn health(&self) -> Health {
        Health {
            status: "ok",
            name: self.name.clone(),
            organisation: self.organisation_hex(),
            peer_id: self.network.get().map(|handle| handle.local_peer_id().to_string()),
            entries: self.store.len(),
            events: read_lock(&self.catalogue).len() as u64,
        }
    }

    /// The ledger's gauges for `GET /metrics`.
    pub fn gauges(&self) -> Gauges {
        let (recall_summaries, recall_summary_bytes) = self.recall_summaries();
        let pending = super::lock(&self.pending_checkpoints).clone();
        let feeds = self
            .store
            .heads()
            .into_iter()
            .map(|(author, head)| {
                let size = head.sequence + 1;
                let announced = pending
                    .get(&author)
                    .and_then(|note| {
                        lotline_ledger::checkpoint::SignedCheckpoint::verify_feed(note, &author)
                            .ok()
                    })
                    .map_or(0, |signed| signed.checkpoint().size);
                FeedGauges { author, size, lag: announced.saturating_sub(size) }
            })
            .collect();
        Gauges { entries: self.store.len(), recall_summaries, recall_summary_bytes, feeds }
    }

    /// `GET /roster`.
    pub fn roster(&self) -> Roster {
        let roster = self.store.roster();
        let members = roster
            .members()
            .map(|member| RosterMember {
                public_key: member.key.to_hex(),
                name: member.name.clone(),
                gln: member.gln.clone(),
                roles: member.roles.clone(),
            })
            .collect();
        Roster { network: roster.network().to_owned(), version: roster.version(), members }
    }

    /// `GET /feeds`.
    pub fn feeds(&self) -> Vec<FeedSummary> {
        let roster = self.store.roster();
        self.store
            .heads()
            .into_iter()
            .map(|(author, head)| FeedSummary {
                author: author.to_hex(),
                name: roster.member(&author).map(|member| member.name.clone()),
                size: head.sequence + 1,
                head: head.entry_hash.to_hex(),
                frozen: self.store.is_frozen(&author).is_some(),
            })
            .collect()
    }

    /// `GET /feeds/{author}/entries`: up to `limit` entries (at least one, at most
    /// [`MAX_ENTRIES_PER_PAGE`]) from sequence `from`.
    pub fn entries(&self, author: &PublicKey, from: u64, limit: u64) -> Result<FeedEntries, Error> {
        let limit = limit.clamp(1, MAX_ENTRIES_PER_PAGE) as usize;
        let wires = self.store.range(author, from, limit)?;
        let entries = wires
            .into_iter()
            .enumerate()
            .map(|(offset, wire)| {
                let sequence = from + offset as u64;
                let entry_hash = lotline_ledger::feed::DecodedEntry::decode(wire.clone())
                    .map(|decoded| decoded.entry_hash().to_hex())
                    .unwrap_or_default();
                FeedEntry { sequence, entry_hash, wire }
            })
            .collect();
        Ok(FeedEntries { author: author.to_hex(), entries })
    }

    /// `GET /feeds/{author}/checkpoint`: the latest signed checkpoint note with every
    /// cosignature held.
    pub fn checkpoint_note(&self, author: &PublicKey) -> Result<String, Error> {
        self.checkpoint_note_for(author).ok_or(Error::NoCheckpoint { author: *author })
    }

    /// `GET /forks`.
    pub fn forks(&self) -> Result<Vec<ForkProof>, Error> {
        Ok(self.store.fork_proofs()?)
    }

    /// The evidence for the entries behind `references` (see [`Evidence`]).
    fn evidence(&self, references: &[EventRef]) -> Result<Evidence, Error> {
        self.evidence_with_names(references, &Names::default())
    }

    /// The evidence for the entries behind `references` and the master-data entries `names`
    /// relies on.
    fn evidence_with_names(
        &self,
        references: &[EventRef],
        names: &Names,
    ) -> Result<Evidence, Error> {
        self.evidence_of_answer(references, names, &[])
    }

    /// The evidence for the entries behind `references`, the master-data entries `names`
    /// relies on and the excursion records `excursions` cite.
    fn evidence_of_answer(
        &self,
        references: &[EventRef],
        names: &Names,
        excursions: &[ExcursionRef],
    ) -> Result<Evidence, Error> {
        let entries: Vec<(PublicKey, u64)> = references
            .iter()
            .map(|reference| reference.entry)
            .chain(names.entries())
            .chain(excursions.iter().map(|excursion| excursion.entry))
            .map(|entry| (entry.author, entry.sequence))
            .collect();
        Ok(self.store.evidence(&entries)?)
    }

    /// The excursions in force about the lots `answer` reaches, and `names` completed with the
    /// organisations that recorded them.
    fn excursions_of(&self, answer: &TraceAnswer, names: &mut Names) -> Vec<ExcursionRef> {
        let found = {
            let cold_chain = self.cold_chain();
            let book = cold_chain.book();
            excursions::in_force(&book, answer.lots.iter().map(|lot| &**lot))
        };
        if !found.is_empty() {
            let authors: Vec<String> =
                found.iter().map(|excursion| excursion.entry.author.to_hex()).collect();
            let recorders = self.with_directory(|directory| {
                self.store.with_roster(|roster| {
                    Names::collect(authors.iter().map(String::as_str), [], directory, roster)
                })
            });
            for (key, name) in recorders.organisations {
                names.organisations.entry(key).or_insert(name);
            }
        }
        found
    }

    /// The walk of a trace alone, without names or evidence: for a caller that proves only
    /// part of the answer (the consumer page proves the entries it shows) or needs only to
    /// know which entries the answer rests on.
    pub fn trace_answer(&self, subject: &Subject, direction: Direction) -> TraceAnswer {
        read_lock(&self.index).trace(std::slice::from_ref(subject), direction)
    }

    /// Where `subject` comes from, as the consumer page shows it: the trace back without
    /// handoffs and stock.
    pub fn provenance(&self, subject: &Subject) -> TraceAnswer {
        read_lock(&self.index).provenance(subject)
    }

    /// The names of what `answer` mentions, from the roster and the master-data directory.
    pub fn names_of(&self, answer: &TraceAnswer) -> Names {
        // The store's lock is innermost: store code never takes the directory's.
        self.with_directory(|directory| {
            self.store.with_roster(|roster| answer.names(directory, roster))
        })
    }

    /// `GET /events/{eventID}/proof`: the evidence for every entry carrying the event.
    pub fn event_proof(&self, event_id: &str) -> Result<Evidence, Error> {
        let references = read_lock(&self.catalogue).entries_for(event_id);
        if references.is_empty() {
            return Err(Error::UnknownEvent { event_id: event_id.to_owned() });
        }
        self.evidence(&references)
    }

    /// Whether the lot graph recorded anything about the object a canonical Digital Link
    /// names, about any lot of a GTIN, or about a facility: the resolver's cheap test of what
    /// this node knows (one hash lookup each, under the index's read lock).
    pub fn knows(&self, link: &str, gtin: Option<&str>, gln: Option<&str>) -> bool {
        let index = read_lock(&self.index);
        index.records_link(link)
            || gtin.is_some_and(|gtin| index.records_gtin(gtin))
            || gln.is_some_and(|gln| index.records_gln(gln))
    }

    /// `GET /trace/back` and `GET /trace/forward`.
    pub fn trace(&self, subject: &Subject, direction: Direction) -> Result<TraceReply, Error> {
        let answer = self.trace_answer(subject, direction);
        let mut names = self.names_of(&answer);
        let excursions = self.excursions_of(&answer, &mut names);
        let evidence = self.evidence_of_answer(&answer.entries, &names, &excursions)?;
        Ok(TraceReply { answer, subject: subject.link().to_owned(), names, excursions, evidence })
    }

    /// `POST /recall/scope`: refused with [`Error::RecallTooWide`] when the scope reaches more
    /// than `max_lots` lots.
    pub fn recall_scope(&self, hazard: &Hazard, max_lots: usize) -> Result<RecallReply, Error> {
        let answer = read_lock(&self.index).recall_scope(hazard);
        let found = answer.trace.lots.len();
        if found > max_lots {
            return Err(Error::RecallTooWide { limit: max_lots, found });
        }
        let mut names = self.names_of(&answer.trace);
        let excursions = self.excursions_of(&answer.trace, &mut names);
        let evidence = self.evidence_of_answer(&answer.trace.entries, &names, &excursions)?;
        Ok(RecallReply { answer, names, excursions, evidence })
    }
}
