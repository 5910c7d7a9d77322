//! Read views for HTTP: health, metrics, roster, feeds, entries, checkpoints, proofs, trace
//! and recall answers, and the ledger records (recalls, acknowledgements, inspections,
//! excursions, supervision flags) as JSON.
//!
//! Owns: the JSON shapes of these answers (documented in `docs/http-api.md`). Every trace
//! answer carries `evidence`: the signed entries it relied on with inclusion proofs against
//! the authors' latest checkpoints, so a client can re-verify it without trusting this node.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use lotline_ledger::identity::PublicKey;
use lotline_ledger::proof::{BundledEntry, ProofBundle};
use lotline_ledger::trace::{self, query::Hazard, query::TimeWindow, subject::Subject};
use serde_json::{Value, json};

use super::{State, read_lock, store_error};
use crate::http::ApiError;

/// Most entries `GET /feeds/{author}/entries` returns at once.
const MAX_ENTRIES_PER_PAGE: u64 = 1_000;

fn parse_author(author: &str) -> Result<PublicKey, ApiError> {
    PublicKey::from_hex(author).map_err(|_| {
        ApiError::NotFound(format!("{author:?} is not an organisation key (64 hex digits)"))
    })
}

/// Parses a trace identifier: a Digital Link, an EPC URN, or `GTIN/LOT`.
pub fn parse_subject(written: &str) -> Result<Subject, ApiError> {
    let trimmed = written.trim();
    if !trimmed.contains(':')
        && let Some((gtin, lot)) = trimmed.split_once('/')
    {
        return Subject::from_gtin_and_lot(gtin, lot)
            .map_err(|error| ApiError::QueryParameter(format!("id: {error}")));
    }
    Subject::parse(trimmed).map_err(|error| ApiError::QueryParameter(format!("id: {error}")))
}

impl State {
    /// `GET /health` (peers are added by the handler).
    pub fn health(&self) -> Value {
        json!({
            "status": "ok",
            "name": self.name,
            "organisation": self.organisation_hex(),
            "peer_id": self.network.get().map(|handle| handle.local_peer_id().to_string()),
            "entries": self.store.len(),
            "events": read_lock(&self.catalogue).len(),
        })
    }

    /// `GET /metrics` in the Prometheus text format.
    pub fn metrics_text(&self, peers: usize) -> String {
        let mut text = String::new();
        let mut line = |name: &str, help: &str, kind: &str, samples: Vec<(String, u64)>| {
            text.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
            for (labels, value) in samples {
                text.push_str(&format!("{name}{labels} {value}\n"));
            }
        };
        line(
            "lotline_entries_total",
            "Entries in the store.",
            "gauge",
            vec![(String::new(), self.store.len())],
        );
        line("lotline_peers", "Connected peers.", "gauge", vec![(String::new(), peers as u64)]);
        line(
            "lotline_peer_messages_rejected_total",
            "Peer messages dropped as malformed or invalid.",
            "counter",
            vec![(String::new(), crate::metrics::peer_messages_rejected_total())],
        );
        line(
            "lotline_entries_replicated_total",
            "Entries appended from peers.",
            "counter",
            vec![(String::new(), crate::metrics::entries_replicated_total())],
        );
        let (summaries, summary_bytes) = self.recall_summaries();
        line(
            "lotline_recall_summaries",
            "Lots whose part of a recall answer is computed and kept.",
            "gauge",
            vec![(String::new(), summaries as u64)],
        );
        line(
            "lotline_recall_summary_bytes",
            "Approximate heap bytes of the kept recall summaries.",
            "gauge",
            vec![(String::new(), summary_bytes as u64)],
        );
        let heads = self.store.heads();
        line(
            "lotline_feed_size",
            "Entries held per feed.",
            "gauge",
            heads
                .iter()
                .map(|(author, head)| {
                    (format!("{{author=\"{}\"}}", author.to_hex()), head.sequence + 1)
                })
                .collect(),
        );
        let pending = super::lock(&self.pending_checkpoints).clone();
        line(
            "lotline_replication_lag",
            "Entries announced by a feed's author that this node does not hold yet.",
            "gauge",
            heads
                .iter()
                .map(|(author, head)| {
                    let announced = pending
                        .get(author)
                        .and_then(|note| {
                            lotline_ledger::checkpoint::SignedCheckpoint::verify_feed(note, author)
                                .ok()
                        })
                        .map_or(0, |signed| signed.checkpoint().size);
                    (
                        format!("{{author=\"{}\"}}", author.to_hex()),
                        announced.saturating_sub(head.sequence + 1),
                    )
                })
                .collect(),
        );
        text
    }

    /// `GET /roster`.
    pub fn roster_json(&self) -> Value {
        let roster = self.store.roster();
        let members: Vec<Value> = roster
            .members()
            .map(|member| {
                json!({
                    "public_key": member.key.to_hex(),
                    "name": member.name,
                    "gln": member.gln,
                    "roles": member.roles,
                })
            })
            .collect();
        json!({"network": roster.network(), "version": roster.version(), "members": members})
    }

    /// `GET /feeds`.
    pub fn feeds(&self) -> Result<Value, ApiError> {
        let roster = self.store.roster();
        let feeds: Vec<Value> = self
            .store
            .heads()
            .into_iter()
            .map(|(author, head)| {
                json!({
                    "author": author.to_hex(),
                    "name": roster.member(&author).map(|member| member.name.clone()),
                    "size": head.sequence + 1,
                    "head": head.entry_hash.to_hex(),
                    "frozen": self.store.is_frozen(&author).is_some(),
                })
            })
            .collect();
        Ok(Value::Array(feeds))
    }

    /// `GET /feeds/{author}/entries`.
    pub fn entries(&self, author: &str, from: u64, limit: u64) -> Result<Value, ApiError> {
        let author = parse_author(author)?;
        let limit = limit.clamp(1, MAX_ENTRIES_PER_PAGE) as usize;
        let wires = self.store.range(&author, from, limit).map_err(store_error)?;
        let entries: Vec<Value> = wires
            .iter()
            .enumerate()
            .map(|(offset, wire)| {
                let entry_hash = lotline_ledger::feed::DecodedEntry::decode(wire.clone())
                    .map(|decoded| decoded.entry_hash().to_hex())
                    .unwrap_or_default();
                json!({"sequence": from + offset as u64, "entry_hash": entry_hash, "wire": BASE64.encode(wire)})
            })
            .collect();
        Ok(json!({"author": author.to_hex(), "entries": entries}))
    }

    /// `GET /feeds/{author}/checkpoint`.
    pub fn checkpoint_note(&self, author: &str) -> Result<String, ApiError> {
        let author = parse_author(author)?;
        self.checkpoint_note_for(&author).ok_or_else(|| {
            ApiError::NotFound(format!("no checkpoint of {author} on this node yet"))
        })
    }

    /// `GET /forks`.
    pub fn forks(&self) -> Result<Value, ApiError> {
        let proofs = self.store.fork_proofs().map_err(store_error)?;
        Ok(Value::Array(
            proofs
                .into_iter()
                .map(|proof| serde_json::to_value(&proof).unwrap_or_default())
                .collect(),
        ))
    }

    /// The evidence for a set of entries: one proof bundle per feed (the author's latest
    /// cosigned checkpoint and, for each entry, its signed bytes and inclusion proof), plus the
    /// entries not covered by a checkpoint yet.
    pub fn evidence(&self, references: &[trace::EntryRef]) -> Result<Value, ApiError> {
        let mut by_author: std::collections::BTreeMap<PublicKey, Vec<u64>> = Default::default();
        for reference in references {
            by_author.entry(reference.author).or_default().push(reference.sequence);
        }
        let mut bundles = Vec::new();
        let mut unproven = Vec::new();
        for (author, mut sequences) in by_author {
            sequences.sort_unstable();
            sequences.dedup();
            let checkpoint = self.store.latest_checkpoint(&author).map_err(store_error)?;
            let size = checkpoint.as_ref().map_or(0, |checkpoint| checkpoint.checkpoint().size);
            let mut entries = Vec::new();
            for sequence in sequences {
                if sequence >= size {
                    unproven.push(json!({"author": author.to_hex(), "sequence": sequence}));
                    continue;
                }
                let entry = self
                    .store
                    .range(&author, sequence, 1)
                    .map_err(store_error)?
                    .into_iter()
                    .next()
                    .ok_or_else(|| {
                        ApiError::Internal(format!("entry {sequence} of {author} missing"))
                    })?;
                let inclusion_proof =
                    self.store.inclusion_proof(&author, sequence, size).map_err(store_error)?;
                entries.push(BundledEntry { index: sequence, entry, inclusion_proof });
            }
            if let (Some(checkpoint), false) = (checkpoint, entries.is_empty()) {
                bundles.push(ProofBundle { checkpoint: checkpoint.to_note_text(), entries });
            }
        }
        Ok(json!({"bundles": bundles, "unproven": unproven}))
    }

    /// `GET /events/{eventID}/proof`.
    pub fn event_proof(&self, event_id: &str) -> Result<Value, ApiError> {
        let references = read_lock(&self.catalogue).entries_for(event_id);
        if references.is_empty() {
            return Err(ApiError::NotFound(format!("no event with id {event_id} on this node")));
        }
        self.evidence(&references)
    }

    /// `GET /trace/back` and `GET /trace/forward`.
    pub fn trace(&self, id: &str, direction: trace::query::Direction) -> Result<Value, ApiError> {
        let subject = parse_subject(id)?;
        let answer = {
            let index = read_lock(&self.index);
            index.trace(std::slice::from_ref(&subject), direction)
        };
        let evidence = self.evidence(&answer.entries)?;
        let mut value =
            serde_json::to_value(&answer).map_err(|error| ApiError::Internal(error.to_string()))?;
        value["subject"] = json!(subject.link());
        value["evidence"] = evidence;
        Ok(value)
    }

    /// `POST /recall/scope`.
    pub fn recall_scope(&self, hazard: &Value) -> Result<Value, ApiError> {
        let hazard = parse_hazard(hazard)?;
        let answer = read_lock(&self.index).recall_scope(&hazard);
        let evidence = self.evidence(&answer.trace.entries)?;
        let mut value =
            serde_json::to_value(&answer).map_err(|error| ApiError::Internal(error.to_string()))?;
        value["evidence"] = evidence;
        Ok(value)
    }
}

fn window_of(hazard: &Value) -> Result<TimeWindow, ApiError> {
    TimeWindow::parse(hazard["from"].as_str(), hazard["to"].as_str())
        .map_err(|error| ApiError::QueryParameter(format!("window: {error}")))
}

/// Parses `{"lots": [...]}`, `{"facility": GLN, "from", "to"}` or `{"ingredient": GTIN, ...}`.
pub fn parse_hazard(hazard: &Value) -> Result<Hazard, ApiError> {
    if let Some(lots) = hazard.get("lots") {
        let lots = lots.as_array().ok_or_else(|| {
            ApiError::QueryParameter("lots: must be a list of identifiers".to_owned())
        })?;
        let subjects = lots
            .iter()
            .map(|lot| parse_subject(lot.as_str().unwrap_or_default()))
            .collect::<Result<Vec<_>, _>>()?;
        if subjects.is_empty() {
            return Err(ApiError::QueryParameter("lots: name at least one lot".to_owned()));
        }
        return Ok(Hazard::Lots(subjects));
    }
    if let Some(gln) = hazard.get("facility").and_then(Value::as_str) {
        let gln = gln.trim();
        if gln.len() != 13 || lotline_ledger::gs1::check_digit::verify_mod10(gln).is_err() {
            return Err(ApiError::QueryParameter(format!(
                "facility: {gln:?} is not a 13-digit GLN with a valid check digit"
            )));
        }
        return Ok(Hazard::Facility { gln: gln.to_owned(), window: window_of(hazard)? });
    }
    if let Some(gtin) = hazard.get("ingredient").and_then(Value::as_str) {
        let gtin = trace::subject::normalise_gtin(gtin)
            .map_err(|error| ApiError::QueryParameter(format!("ingredient: {error}")))?;
        return Ok(Hazard::Ingredient { gtin, window: window_of(hazard)? });
    }
    Err(ApiError::QueryParameter(
        "a hazard is {\"lots\": [...]}, {\"facility\": GLN, \"from\", \"to\"} or {\"ingredient\": GTIN, \"from\", \"to\"}"
            .to_owned(),
    ))
}
