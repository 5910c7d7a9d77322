//! Telling listeners about every durable append, own or replicated: one broadcast channel the
//! ledger sends on after each batch the store accepted, and a way to read back what a listener
//! that fell behind missed.
//!
//! Owns: the [`Appended`] message (which feed, which positions, and the ledger records among
//! the entries), when it is sent (after the store's durable append returned, so a listener
//! never hears of an entry the store lacks), and [`Ledger::records_in`] for catching up. Does
//! not own what a listener does with a record (`crate::notify` turns some into notifications).

use std::ops::Range;
use std::sync::Arc;

use lotline_ledger::entry::PayloadKind;
use lotline_ledger::feed::VerifiedEntry;
use lotline_ledger::identity::PublicKey;
use tokio::sync::broadcast;

use super::{Error, Ledger};

/// Batches a listener may fall behind by before it misses some (it then reads them back with
/// [`Ledger::records_in`]); records are rare among entries, so a slot is small.
pub const APPENDED_CAPACITY: usize = 256;

/// Entries read back per store read while a listener catches up.
const CATCH_UP_CHUNK: usize = 1_024;

/// One batch of entries the store appended durably to one feed.
#[derive(Debug, Clone)]
pub struct Appended {
    /// The feed.
    pub author: PublicKey,
    /// The positions appended, in order.
    pub sequences: Range<u64>,
    /// The ledger records among them (every entry but EPCIS events and master-data
    /// statements), in feed order; shared by every listener.
    pub records: Arc<[VerifiedEntry]>,
}

/// Whether an entry of `kind` is carried in [`Appended::records`].
pub fn is_carried(kind: PayloadKind) -> bool {
    !matches!(kind, PayloadKind::EpcisEvent | PayloadKind::MasterData)
}

impl Ledger {
    /// A receiver of every batch appended from now on, own or replicated. A receiver that
    /// falls more than [`APPENDED_CAPACITY`] batches behind is told it lagged and reads what
    /// it missed with [`Ledger::records_in`].
    pub fn subscribe_appended(&self) -> broadcast::Receiver<Appended> {
        self.appended.subscribe()
    }

    /// Tells the listeners that `entries` (consecutive entries of one feed) are stored.
    /// Called once the store's durable append returned.
    pub(super) fn announce_appended(&self, entries: &[VerifiedEntry]) {
        let (Some(first), Some(last)) = (entries.first(), entries.last()) else { return };
        if self.appended.receiver_count() == 0 {
            return;
        }
        let records: Arc<[VerifiedEntry]> =
            entries.iter().filter(|entry| is_carried(entry.payload_kind())).cloned().collect();
        // An error only means nobody listens now.
        let _ = self.appended.send(Appended {
            author: first.author(),
            sequences: first.sequence()..last.sequence() + 1,
            records,
        });
    }

    /// The ledger records (as [`Appended::records`]) of `author`'s feed at positions
    /// `sequences`, read from the store: what a listener that lagged missed. Blocks (sled).
    pub fn records_in(
        &self,
        author: &PublicKey,
        sequences: Range<u64>,
    ) -> Result<Vec<VerifiedEntry>, Error> {
        let mut records = Vec::new();
        let mut from = sequences.start;
        while from < sequences.end {
            let limit = usize::try_from(sequences.end - from).unwrap_or(usize::MAX);
            let wires = self.store.range(author, from, limit.min(CATCH_UP_CHUNK))?;
            if wires.is_empty() {
                break;
            }
            from += wires.len() as u64;
            for wire in wires {
                let entry = VerifiedEntry::decode_and_verify(&wire).map_err(|error| {
                    Error::Storage(lotline_ledger::store::Error::Corrupt(error.to_string()))
                })?;
                if is_carried(entry.payload_kind()) {
                    records.push(entry);
                }
            }
        }
        Ok(records)
    }

    /// The next position of every feed held: where a new listener starts.
    pub fn feed_ends(&self) -> Vec<(PublicKey, u64)> {
        self.store.heads().into_iter().map(|(author, head)| (author, head.sequence + 1)).collect()
    }
}
