//! EPCIS capture: a document in, every event signed into this organisation's feed, one durable
//! batch, a capture job out.
//!
//! Owns: the capture job record, how one event is kept as a payload (its binding as received,
//! re-serialised from the validated model with its own namespace context, plus its Event Hash
//! ID). Does not own reading an event back from its entry
//! (`lotline_ledger::epcis::decode_stored_event`) nor which media type names which binding
//! (`http` decides that from `Content-Type`).

use lotline_ledger::epcis::{self, Event};
use lotline_ledger::records::{EpcisCapture, EventFormat, Payload};
use serde::Serialize;

use super::{Error, Ledger, lock, now_ms};

/// The standard capture-job answer (`GET /capture/{captureID}`), plus the ids we assigned.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CaptureJob {
    /// The job's id.
    #[serde(rename = "captureID")]
    pub capture_id: String,
    /// Always false: capture is synchronous, the job is finished when answered.
    pub running: bool,
    /// Whether every event was stored.
    pub success: bool,
    /// `rollback`: one bad event stores nothing.
    pub capture_error_behaviour: String,
    /// Errors (empty on success).
    pub errors: Vec<String>,
    /// The Event Hash ID of every event, in document order.
    #[serde(rename = "eventIDs")]
    pub event_ids: Vec<String>,
    /// Sequence numbers of the entries written, in document order.
    pub sequences: Vec<u64>,
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
    /// Validates a document and signs every event into this organisation's feed as one durable
    /// batch, each event kept in `format` (the binding it arrived in). A document with one bad
    /// event stores nothing. Blocks (signatures, sled).
    pub fn capture(&self, body: &[u8], format: EventFormat) -> Result<CaptureJob, Error> {
        let document = epcis::parse_document(body)?;
        if document.events.is_empty() {
            return Err(Error::EmptyDocument);
        }
        let payloads: Vec<Payload> =
            document.events.iter().map(|event| payload_of(event, format)).collect();
        let entries = self.append_local(&payloads)?;
        // Index the events just validated rather than reading them back from the entries.
        let indexed: Vec<super::IndexedEvent> = self.with_canonical_cache(|cache| {
            entries
                .iter()
                .zip(&document.events)
                .map(|(entry, event)| super::IndexedEvent::new(entry, event, cache))
                .collect()
        });
        self.index_events(indexed);
        let job = CaptureJob {
            // The first entry's sequence number: unique per node and in capture order, so the
            // job map evicts the oldest first.
            capture_id: format!(
                "{:012}",
                entries.first().map(|entry| entry.sequence()).unwrap_or(0)
            ),
            running: false,
            success: true,
            capture_error_behaviour: "rollback".to_owned(),
            errors: Vec::new(),
            event_ids: payloads
                .iter()
                .filter_map(|payload| payload.event_id().map(str::to_owned))
                .collect(),
            sequences: entries.iter().map(|entry| entry.sequence()).collect(),
        };
        let mut captures = lock(&self.captures);
        if captures.len() >= super::MAX_CAPTURE_JOBS
            && let Some(oldest) = captures.keys().next().cloned()
        {
            captures.remove(&oldest);
        }
        captures.insert(job.capture_id.clone(), job.clone());
        drop(captures);
        self.local_appends.send_modify(|count| *count += 1);
        Ok(job)
    }

    /// Signs `payloads` as this organisation's next entries and appends them durably as one
    /// batch; on failure nothing is stored and the writer is rewound to the stored head. The
    /// caller adds EPCIS events to the views (ledger records are not indexed).
    pub(super) fn append_local(
        &self,
        payloads: &[Payload],
    ) -> Result<Vec<lotline_ledger::feed::VerifiedEntry>, Error> {
        let mut writer = lock(&self.writer);
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
        drop(writer);
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
