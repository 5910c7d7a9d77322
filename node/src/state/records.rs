//! Ledger records: signed into this organisation's feed when its role allows the kind, and
//! served from every replicated feed with their proofs.
//!
//! Owns: the early role check (the roster's role rules are enforced by the ledger's append
//! rules; this only refuses with a clear message before signing; a roster change is checked
//! by `Roster::check_change` in those append rules, whose refusal names the rule), the rule that an
//! acknowledgement names a recall notice this node holds, the acknowledgement rule of an
//! excursion (checked in `custody`: the record exists, has ended, and this organisation held
//! custody during it), and which entries are served as records. Does not own any record's
//! text form: `http` reads and writes the JSON of each
//! kind (documented in `docs/http-api.md`).

use lotline_ledger::entry::{EntryRef, PayloadKind};
use lotline_ledger::feed::VerifiedEntry;
use lotline_ledger::proof::Evidence;
use lotline_ledger::records::Payload;

use super::{Error, Ledger};

/// A record entry served by `GET /records`.
#[derive(Debug, Clone)]
pub struct Record {
    /// The signed entry; its payload is one of the record kinds (see [`is_record`]).
    pub entry: VerifiedEntry,
    /// Its proof: the signed entry, inclusion proof and the author's cosigned checkpoint;
    /// `None` until a checkpoint covers it.
    pub proof: Option<Evidence>,
}

/// Whether `kind` is served as a record: the business records, not EPCIS events (served as
/// events) nor governance entries (roster changes, error declarations).
fn is_record(kind: PayloadKind) -> bool {
    matches!(
        kind,
        PayloadKind::RecallNotice
            | PayloadKind::RecallAcknowledgement
            | PayloadKind::InspectionResult
            | PayloadKind::Excursion
            | PayloadKind::ExcursionAcknowledgement
            | PayloadKind::SupervisionFlag
    )
}

impl Ledger {
    /// `POST /records`: signs a record into our feed and says where it stands. Blocks
    /// (signature, sled).
    pub fn append_record(&self, payload: Payload) -> Result<EntryRef, Error> {
        let kind = payload.kind();
        if !self.store.roster().role_allows(&self.organisation(), kind) {
            return Err(Error::RoleRefused { kind });
        }
        if let Payload::RecallAcknowledgement(acknowledgement) = &payload {
            self.check_notice_held(&acknowledgement.notice)?;
        }
        if let Payload::ExcursionAcknowledgement(acknowledgement) = &payload {
            self.check_excursion_acknowledgement(acknowledgement, self.organisation())?;
        }
        let entries = self.append_local(&[payload])?;
        self.local_appends.send_modify(|count| *count += 1);
        entries.first().map(VerifiedEntry::reference).ok_or(Error::NothingAppended)
    }

    /// Refuses an acknowledgement of a notice this node does not hold: the entry it names must
    /// be a recall notice with that entry hash, so a signed acknowledgement always points at
    /// something its readers can fetch.
    fn check_notice_held(&self, notice: &EntryRef) -> Result<(), Error> {
        let held = self.store.entry(&notice.author, notice.sequence)?.is_some_and(|entry| {
            entry.reference().entry_hash == notice.entry_hash
                && matches!(entry.payload(), Some(Payload::RecallNotice(_)))
        });
        if held {
            return Ok(());
        }
        Err(Error::UnknownNotice {
            author: notice.author,
            sequence: notice.sequence,
            entry_hash: notice.entry_hash.to_hex(),
        })
    }

    /// `GET /records`: the records of every replicated feed in append order, only those of
    /// `kind` when given.
    pub fn records(&self, kind: Option<PayloadKind>) -> Result<Vec<Record>, Error> {
        let mut records = Vec::new();
        for entry in self.store.entries_in_order() {
            let entry = entry?;
            let Some(entry_kind) = entry.payload().map(Payload::kind) else { continue };
            if !is_record(entry_kind) || kind.is_some_and(|kind| kind != entry_kind) {
                continue;
            }
            let evidence = self.store.evidence(&[(entry.author(), entry.sequence())])?;
            let proof = (!evidence.bundles.is_empty()).then_some(evidence);
            records.push(Record { entry, proof });
        }
        Ok(records)
    }
}
