//! EPCIS capture: a document in, its master-data statements and every event not yet recorded
//! signed into this organisation's feed as one durable batch, a capture job out.
//!
//! Owns: the capture job record, the idempotency rules (an event whose Event Hash ID any feed
//! of the store already carries, or that the document repeats, is not appended again, and the
//! job says where it is recorded; a statement equal to this organisation's latest about that
//! identifier in that vocabulary is not appended again), the refusal of master data this
//! organisation may not write before anything is signed, how one event is kept as a payload
//! (its binding as received, re-serialised from the validated model with its own namespace
//! context, plus its Event Hash ID). Does not own reading an event back from its entry
//! (`lotline_ledger::epcis::decode_stored_event`) nor which media type names which binding
//! (`http` decides that from `Content-Type`).

use std::collections::HashSet;

use lotline_ledger::entry::PayloadKind;
use lotline_ledger::epcis::{self, Event};
use lotline_ledger::feed::{FeedWriter, VerifiedEntry};
use lotline_ledger::masterdata::{self, Statement};
use lotline_ledger::records::{EpcisCapture, EventFormat, Payload};
use serde::Serialize;

use super::{Error, Ledger, lock, now_ms, read_lock};

/// The standard capture-job answer (`GET /capture/{captureID}`), plus the ids we assigned.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CaptureJob {
    /// The job's id.
    #[serde(rename = "captureID")]
    pub capture_id: String,
    /// Always false: capture is synchronous, the job is finished when answered.
    pub running: bool,
    /// Whether every event is stored (appended now, or recorded before).
    pub success: bool,
    /// `rollback`: one bad event stores nothing.
    pub capture_error_behaviour: String,
    /// Errors (empty on success).
    pub errors: Vec<String>,
    /// The Event Hash ID of every event, in document order.
    #[serde(rename = "eventIDs")]
    pub event_ids: Vec<String>,
    /// Sequence numbers of the entries written: the master-data statements, then the events,
    /// each in document order (events already recorded and unchanged statements write none).
    pub sequences: Vec<u64>,
    /// Master-data statements of the document signed now (one entry each).
    pub statements_recorded: usize,
    /// Master-data statements equal to this organisation's latest about the same identifier
    /// in the same vocabulary (a retried capture), so not appended again.
    pub statements_unchanged: usize,
    /// The events of the document that were not appended because an entry of this store
    /// already carries their Event Hash ID (a retried capture, or the same event captured by
    /// another organisation), with where; in document order, each once.
    pub already_recorded: Vec<RecordedEvent>,
}

/// Where an event already recorded lives: the first entry (by author, then sequence) carrying
/// its Event Hash ID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RecordedEvent {
    /// The event's Event Hash ID.
    #[serde(rename = "eventID")]
    pub event_id: String,
    /// The feed holding it (its author's public key, hex).
    pub author: String,
    /// Its entry's position in that feed.
    pub sequence: u64,
}

/// The payload for one validated event, in the binding it arrived in.
fn payload_of(event: &Event, format: EventFormat) -> Payload {
    let original = match format {
        EventFormat::Xml => {
            epcis::xml::event_to_xml(event, &epcis::xml::WriteOptions::default()).into_bytes()
        }
        _ => epcis::event_to_json_ld(event).to_string().into_bytes(),
    };
    Payload::Epcis(EpcisCapture { event_id: epcis::event_hash_id(event), format, original })
}

impl Ledger {
    /// Validates a document and signs its master-data statements and every event not yet
    /// recorded into this organisation's feed as one durable batch, each event kept in
    /// `format` (the binding it arrived in). A document with one bad event or one bad or
    /// not-owned vocabulary element stores nothing; a document with master data and no events
    /// is accepted. Capture is idempotent on the Event Hash ID: an event any feed of the store
    /// already carries, or one the document repeats, is not appended again, and the job lists
    /// the recorded ones with where they are; a statement equal to this organisation's latest
    /// about its identifier is not appended again either. The checks and the append hold the
    /// feed writer's lock, so two identical captures at once append once. Blocks (signatures,
    /// sled).
    pub fn capture(&self, body: &[u8], format: EventFormat) -> Result<CaptureJob, Error> {
        let document = epcis::parse_document(body)?;
        epcis::validate::check_document_to_sign(&document)?;
        let statements = masterdata::statements_of(&document)?;
        if document.events.is_empty() && statements.is_empty() {
            return Err(Error::EmptyDocument);
        }
        self.check_statements(&statements)?;
        let payloads: Vec<Payload> =
            document.events.iter().map(|event| payload_of(event, format)).collect();
        let event_ids: Vec<String> =
            payloads.iter().filter_map(|payload| payload.event_id().map(str::to_owned)).collect();
        let mut writer = lock(&self.writer);
        let organisation = self.organisation();
        let (unchanged, fresh_statements): (Vec<Statement>, Vec<Statement>) = {
            let directory = read_lock(&self.directory);
            statements.into_iter().partition(|statement| {
                directory
                    .latest_by(&organisation, statement.vocabulary_type, &statement.id)
                    .is_some_and(|latest| latest.statement == *statement)
            })
        };
        let statement_count = fresh_statements.len();
        let mut seen: HashSet<&str> = HashSet::with_capacity(event_ids.len());
        let mut already_recorded = Vec::new();
        let mut fresh_payloads = Vec::with_capacity(payloads.len());
        let mut fresh_events = Vec::with_capacity(payloads.len());
        for ((event_id, payload), event) in event_ids.iter().zip(&payloads).zip(&document.events) {
            if !seen.insert(event_id) {
                continue;
            }
            if let Some(recorded) = self.recorded_event(event_id)? {
                already_recorded.push(recorded);
                continue;
            }
            fresh_payloads.push(payload.clone());
            fresh_events.push(event);
        }
        let batch: Vec<Payload> =
            fresh_statements.into_iter().map(Payload::MasterData).chain(fresh_payloads).collect();
        let entries =
            if batch.is_empty() { Vec::new() } else { self.append_with(&mut writer, &batch)? };
        // Recorded before the writer is released, so a capture waiting for it compares its
        // statements with these.
        self.record_statements(&entries[..statement_count]);
        let next_sequence = writer.next_sequence();
        drop(writer);
        // Index the events just validated rather than reading them back from the entries.
        let indexed: Vec<super::IndexedEvent> = self.with_canonical_cache(|cache| {
            entries
                .iter()
                .skip(statement_count)
                .zip(fresh_events)
                .map(|(entry, event)| super::IndexedEvent::new(entry, event, cache))
                .collect()
        });
        self.index_events(indexed);
        let mut captures = lock(&self.captures);
        // The first entry's sequence number: unique per node and in capture order, so the job
        // map evicts the oldest first. A capture that appends nothing takes the next sequence
        // number with a suffix, which sorts after the jobs before it and before the next
        // appending one.
        let capture_id = match entries.first() {
            Some(entry) => format!("{:012}", entry.sequence()),
            None => (1..)
                .map(|suffix| format!("{next_sequence:012}-{suffix}"))
                .find(|candidate| !captures.contains_key(candidate))
                .unwrap_or_default(),
        };
        let job = CaptureJob {
            capture_id,
            running: false,
            success: true,
            capture_error_behaviour: "rollback".to_owned(),
            errors: Vec::new(),
            event_ids,
            sequences: entries.iter().map(|entry| entry.sequence()).collect(),
            statements_recorded: statement_count,
            statements_unchanged: unchanged.len(),
            already_recorded,
        };
        if captures.len() >= super::MAX_CAPTURE_JOBS
            && let Some(oldest) = captures.keys().next().cloned()
        {
            captures.remove(&oldest);
        }
        captures.insert(job.capture_id.clone(), job.clone());
        drop(captures);
        if !entries.is_empty() {
            self.local_appends.send_modify(|count| *count += 1);
            self.sign_excursions();
        }
        Ok(job)
    }

    /// Refuses, before anything is signed, master data this organisation may not write: its
    /// roles do not allow master data, or a statement is about an identifier it does not own
    /// (the ledger's append rules refuse both too; checking first names the element).
    fn check_statements(&self, statements: &[Statement]) -> Result<(), Error> {
        if statements.is_empty() {
            return Ok(());
        }
        let roster = self.store.roster();
        let organisation = self.organisation();
        if !roster.role_allows(&organisation, PayloadKind::MasterData) {
            return Err(Error::RoleRefused { kind: PayloadKind::MasterData });
        }
        for statement in statements {
            masterdata::check_owner(&roster, &organisation, &statement.id)?;
        }
        Ok(())
    }

    /// Where the store already records `event_id`: its first entry by (author, sequence), so
    /// the answer does not depend on which copy arrived first.
    fn recorded_event(&self, event_id: &str) -> Result<Option<RecordedEvent>, Error> {
        Ok(self
            .store
            .entries_by_event_id(event_id)?
            .iter()
            .map(|entry| (entry.author(), entry.sequence()))
            .min()
            .map(|(author, sequence)| RecordedEvent {
                event_id: event_id.to_owned(),
                author: author.to_hex(),
                sequence,
            }))
    }

    /// Signs `payloads` as this organisation's next entries and appends them durably as one
    /// batch; on failure nothing is stored and the writer is rewound to the stored head. The
    /// caller adds EPCIS events to the views (ledger records are not indexed).
    pub(super) fn append_local(&self, payloads: &[Payload]) -> Result<Vec<VerifiedEntry>, Error> {
        let mut writer = lock(&self.writer);
        let entries = self.append_with(&mut writer, payloads)?;
        self.cold_chain.add_records(&entries);
        Ok(entries)
    }

    /// [`Ledger::append_local`] with the writer's lock already held.
    fn append_with(
        &self,
        writer: &mut FeedWriter,
        payloads: &[Payload],
    ) -> Result<Vec<VerifiedEntry>, Error> {
        // Our own entries can arrive from peers (a store restored from a backup catches up
        // with the feed it wrote since): sign after them, never beside them.
        let stored = self.store.head(&self.organisation());
        if stored.map_or(0, |head| head.sequence + 1) > writer.next_sequence() {
            writer.reset(stored);
        }
        let record_time_ms = now_ms();
        let mut entries = Vec::with_capacity(payloads.len());
        for payload in payloads {
            match writer.next_entry(record_time_ms, payload) {
                Ok(entry) => entries.push(entry),
                Err(error) => {
                    writer.reset(self.store.head(&self.organisation()));
                    return Err(Error::Signing(error));
                }
            }
        }
        if let Err(error) = self.store.append_verified(&entries) {
            writer.reset(self.store.head(&self.organisation()));
            return Err(error.into());
        }
        self.announce_appended(&entries);
        Ok(entries)
    }

    /// A capture job by id.
    pub fn capture_job(&self, capture_id: &str) -> Option<CaptureJob> {
        lock(&self.captures).get(capture_id).cloned()
    }

    /// Every remembered capture job.
    pub fn capture_jobs(&self) -> Vec<CaptureJob> {
        lock(&self.captures).values().cloned().collect()
    }
}
