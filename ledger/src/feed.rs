//! Signed, hash-linked feeds: entries, their verification, and the pure append rules.
//!
//! Owns: [`Header`], [`DecodedEntry`] (decoded, commitments checked, signature not yet
//! checked), [`VerifiedEntry`] (only built by signing or by verifying), batch and all-core
//! signature verification with a fallback that names the bad entry, the append rules
//! ([`check_append`], [`verify_feed`]) and [`FeedWriter`], which builds an organisation's next
//! entries.
//! Does not own: byte layouts (`codec`), entry hashes and references (`entry`), who may write
//! what (`roster`) or describe which identifier (`masterdata::check_owner`, applied here), storage (`store`) or fork proofs (`fork`). Nothing here does IO; the only side effect is drawing salt seeds from
//! the operating system's random source in [`FeedWriter`].

use std::borrow::Cow;

use crate::codec::{self, RawHeader};
use crate::entry::{EntryHash, EntryRef, PayloadKind};
use crate::identity::{self, Keypair, PublicKey, Signature};
use crate::masterdata;
use crate::records::{self, Payload};
use crate::roster::{self, Roster};

/// One field of a payload on the wire: disclosed with its salt, or withheld as a commitment.
pub type FieldOpening = codec::RawOpening;

/// Errors: each variant names the rule an entry breaks.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not a well-formed entry.
    #[error("malformed entry: {0}")]
    Malformed(#[from] codec::Error),
    /// The header's version byte is not one this code understands.
    #[error("unsupported entry version {found}")]
    UnsupportedVersion {
        /// The version byte found.
        found: u8,
    },
    /// The author field is not a valid Ed25519 key.
    #[error("invalid author key: {0}")]
    InvalidAuthor(identity::Error),
    /// The payload fields do not match the payload commitment the author signed.
    #[error("payload does not match its signed commitment")]
    CommitmentMismatch,
    /// The payload is fully disclosed but its fields do not form a payload of its kind.
    #[error("invalid payload: {0}")]
    Payload(#[from] records::Error),
    /// The signature does not verify under the author's key.
    #[error("bad signature on entry {sequence} of {author}")]
    BadSignature {
        /// The entry's author.
        author: PublicKey,
        /// The entry's sequence number.
        sequence: u64,
    },
    /// The author is not admitted by the roster.
    #[error("author {author} is not admitted")]
    NotAdmitted {
        /// The entry's author.
        author: PublicKey,
    },
    /// The author's roles do not allow this payload kind.
    #[error("author {author} may not write {kind}")]
    RoleNotAllowed {
        /// The entry's author.
        author: PublicKey,
        /// The payload kind.
        kind: PayloadKind,
    },
    /// The feed is frozen by a fork proof; no later entry is accepted until governance
    /// resolves the fork.
    #[error("feed of {author} is frozen at fork position {fork_sequence}")]
    Frozen {
        /// The feed's author.
        author: PublicKey,
        /// The contested sequence number.
        fork_sequence: u64,
    },
    /// The entry's position is already taken (a replay, or a conflicting entry).
    #[error("entry {sequence} of {author} replays a taken position (head is {head})")]
    Replayed {
        /// The entry's author.
        author: PublicKey,
        /// The entry's sequence number.
        sequence: u64,
        /// The feed's current head sequence.
        head: u64,
    },
    /// The entry skips ahead of the next free position (a gap or reordering).
    #[error("entry {found} of {author} is out of order: expected sequence {expected}")]
    SequenceGap {
        /// The entry's author.
        author: PublicKey,
        /// The next free sequence number.
        expected: u64,
        /// The sequence number found.
        found: u64,
    },
    /// The previous-hash field does not name the feed's current head.
    #[error("broken link at entry {sequence}: expected previous {expected}, found {found}")]
    BrokenLink {
        /// The entry's sequence number.
        sequence: u64,
        /// The head's entry hash.
        expected: EntryHash,
        /// The previous hash the entry carries.
        found: EntryHash,
    },
    /// A roster change entry is withheld, so it cannot be applied.
    #[error("roster change entry {sequence} is withheld and cannot be applied")]
    RosterChangeWithheld {
        /// The entry's sequence number.
        sequence: u64,
    },
    /// A roster change entry is not acceptable to the roster.
    #[error("rejected roster change: {0}")]
    RosterChange(#[from] roster::Error),
    /// A master-data entry describes an identifier its author does not own.
    #[error("rejected master data: {0}")]
    MasterData(#[from] masterdata::Error),
    /// The operating system's random source failed while drawing a salt seed.
    #[error("no randomness for payload salts: {0}")]
    Randomness(String),
}

/// An entry in a batch broke a rule: names the entry and the rule.
#[derive(Debug, thiserror::Error)]
#[error("entry {index} of the batch: {error}")]
pub struct BatchError {
    /// Position of the failing entry in the batch.
    pub index: usize,
    /// The rule it broke.
    #[source]
    pub error: Error,
}

/// The signed header of an entry, with typed fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Format version ([`codec::ENTRY_VERSION`]).
    pub version: u8,
    /// The feed's owner, who signed the entry.
    pub author: PublicKey,
    /// Position in the feed, from 0.
    pub sequence: u64,
    /// Hash of the entry at `sequence - 1`; [`EntryHash::ZERO`] for the first entry.
    pub previous: EntryHash,
    /// When the author recorded the entry, milliseconds since the Unix epoch (UTC).
    pub record_time_ms: i64,
    /// What the payload is; signed so role rules apply to withheld payloads too.
    pub payload_kind: PayloadKind,
    /// Commitment to the payload's fields (see `codec::payload_commitment`).
    pub payload_commitment: [u8; 32],
}

impl Header {
    fn to_raw(self) -> RawHeader {
        RawHeader {
            version: self.version,
            author: *self.author.as_bytes(),
            sequence: self.sequence,
            previous: *self.previous.as_bytes(),
            record_time_ms: self.record_time_ms,
            payload_kind: self.payload_kind.code(),
            payload_commitment: self.payload_commitment,
        }
    }
}

/// The head of a feed: its last entry's position and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedHead {
    /// Sequence number of the last entry.
    pub sequence: u64,
    /// Hash of the last entry.
    pub entry_hash: EntryHash,
}

/// A decoded entry whose payload matches its signed commitment, but whose signature has not
/// been checked yet (so signatures can be checked in batches).
#[derive(Debug, Clone)]
pub struct DecodedEntry {
    /// The typed header.
    header: Header,
    /// The signature over the header.
    signature: Signature,
    /// The payload fields as carried.
    openings: Vec<FieldOpening>,
    /// The payload, when every field is disclosed.
    payload: Option<Payload>,
    /// The exact wire bytes, kept so nothing is ever re-encoded.
    wire: Vec<u8>,
    /// `codec::entry_hash` of the envelope.
    entry_hash: EntryHash,
}

impl DecodedEntry {
    /// Decodes wire bytes, checks the version and that the payload matches its commitment.
    pub fn decode(wire: Vec<u8>) -> Result<Self, Error> {
        let raw = codec::decode_entry(&wire)?;
        if raw.header.version != codec::ENTRY_VERSION {
            return Err(Error::UnsupportedVersion { found: raw.header.version });
        }
        let payload_kind = PayloadKind::from_code(raw.header.payload_kind)
            .ok_or(records::Error::UnknownKind(raw.header.payload_kind))?;
        // The key is checked with the signature (once per distinct author in a batch).
        let author = PublicKey::from_header_bytes(raw.header.author);
        let header = Header {
            version: raw.header.version,
            author,
            sequence: raw.header.sequence,
            previous: EntryHash::from_bytes(raw.header.previous),
            record_time_ms: raw.header.record_time_ms,
            payload_kind,
            payload_commitment: raw.header.payload_commitment,
        };
        let payload = open_payload(payload_kind, &raw.openings, &header.payload_commitment)?;
        let entry_hash = EntryHash::from_bytes(codec::entry_hash(&wire[..codec::ENVELOPE_LEN]));
        Ok(Self {
            header,
            signature: Signature::from_bytes(raw.signature),
            openings: raw.openings,
            payload,
            wire,
            entry_hash,
        })
    }

    /// The header (unverified).
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The entry hash.
    pub fn entry_hash(&self) -> EntryHash {
        self.entry_hash
    }

    /// Checks the signature strictly and returns the verified entry.
    pub fn verify(self) -> Result<VerifiedEntry, Error> {
        let message = codec::signing_message(&self.wire[..codec::HEADER_LEN]);
        self.header.author.verify(&message, &self.signature).map_err(|_| Error::BadSignature {
            author: self.header.author,
            sequence: self.header.sequence,
        })?;
        Ok(self.into_verified())
    }

    fn into_verified(self) -> VerifiedEntry {
        VerifiedEntry {
            header: self.header,
            signature: self.signature,
            openings: self.openings,
            payload: self.payload,
            wire: self.wire,
            entry_hash: self.entry_hash,
        }
    }
}

/// Recomputes the payload commitment from the openings, compares it with the signed one, and
/// decodes the payload when every field is disclosed.
fn open_payload(
    kind: PayloadKind,
    openings: &[FieldOpening],
    signed_commitment: &[u8; 32],
) -> Result<Option<Payload>, Error> {
    let mut field_commitments = Vec::with_capacity(openings.len());
    let mut disclosed_values = Vec::with_capacity(openings.len());
    for (index, opening) in openings.iter().enumerate() {
        let index = u32::try_from(index).map_err(|_| Error::CommitmentMismatch)?;
        match opening {
            FieldOpening::Disclosed { salt, value } => {
                field_commitments.push(codec::field_commitment(kind.code(), index, salt, value));
                disclosed_values.push(value.as_slice());
            }
            FieldOpening::Withheld { commitment } => field_commitments.push(*commitment),
        }
    }
    if codec::payload_commitment(kind.code(), &field_commitments) != *signed_commitment {
        return Err(Error::CommitmentMismatch);
    }
    if disclosed_values.len() != openings.len() {
        return Ok(None);
    }
    Ok(Some(Payload::from_fields(kind, &disclosed_values)?))
}

/// An entry whose signature and payload commitment have been checked. Can only be built by
/// signing or by decoding and verifying; every function that trusts an entry takes this type.
#[derive(Debug, Clone)]
pub struct VerifiedEntry {
    /// The typed header.
    header: Header,
    /// The author's signature.
    signature: Signature,
    /// The payload fields as carried (some may be withheld).
    openings: Vec<FieldOpening>,
    /// The payload, when every field is disclosed.
    payload: Option<Payload>,
    /// The exact signed wire bytes: what is stored, hashed and sent.
    wire: Vec<u8>,
    /// `codec::entry_hash` of the envelope.
    entry_hash: EntryHash,
}

impl PartialEq for VerifiedEntry {
    fn eq(&self, other: &Self) -> bool {
        self.wire == other.wire
    }
}

impl Eq for VerifiedEntry {}

impl VerifiedEntry {
    /// Decodes and strictly verifies one entry.
    pub fn decode_and_verify(wire: &[u8]) -> Result<Self, Error> {
        DecodedEntry::decode(wire.to_vec())?.verify()
    }

    /// Rebuilds an entry from bytes this process verified before writing them to its own
    /// store: decodes and re-checks the payload commitment, but trusts the stored signature.
    /// `store::Store::verify` re-checks every signature.
    pub(crate) fn from_trusted_store(wire: Vec<u8>) -> Result<Self, Error> {
        Ok(DecodedEntry::decode(wire)?.into_verified())
    }

    /// Builds and signs an entry. `salt_seed` must be secret and fresh per entry (it hides
    /// withheld fields); tests pass fixed seeds to get reproducible bytes.
    pub fn sign(
        keypair: &Keypair,
        sequence: u64,
        previous: EntryHash,
        record_time_ms: i64,
        payload: &Payload,
        salt_seed: &[u8; 32],
    ) -> Result<Self, Error> {
        let kind = payload.kind();
        let fields = payload.to_fields()?;
        let mut openings = Vec::with_capacity(fields.len());
        let mut field_commitments = Vec::with_capacity(fields.len());
        for (index, value) in fields.into_iter().enumerate() {
            let index = u32::try_from(index).map_err(|_| Error::CommitmentMismatch)?;
            let salt = codec::derive_field_salt(salt_seed, index);
            field_commitments.push(codec::field_commitment(kind.code(), index, &salt, &value));
            openings.push(FieldOpening::Disclosed { salt, value });
        }
        let header = Header {
            version: codec::ENTRY_VERSION,
            author: keypair.public_key(),
            sequence,
            previous,
            record_time_ms,
            payload_kind: kind,
            payload_commitment: codec::payload_commitment(kind.code(), &field_commitments),
        };
        let header_bytes = codec::encode_header(&header.to_raw());
        let signature = keypair.sign(&codec::signing_message(&header_bytes));
        let wire = codec::encode_entry(&header_bytes, &signature.to_bytes(), &openings)?;
        let entry_hash = EntryHash::from_bytes(codec::entry_hash(&wire[..codec::ENVELOPE_LEN]));
        Ok(Self { header, signature, openings, payload: Some(payload.clone()), wire, entry_hash })
    }

    /// A copy with the fields at `withheld_fields` replaced by their commitments. The copy
    /// still verifies and keeps the same entry hash and Merkle leaf.
    pub fn redact(&self, withheld_fields: &[usize]) -> Result<Self, Error> {
        let kind = self.header.payload_kind;
        let mut openings = self.openings.clone();
        for &index in withheld_fields {
            let Some(opening) = openings.get_mut(index) else { continue };
            if let FieldOpening::Disclosed { salt, value } = opening {
                let field_index = u32::try_from(index).map_err(|_| Error::CommitmentMismatch)?;
                let commitment = codec::field_commitment(kind.code(), field_index, salt, value);
                *opening = FieldOpening::Withheld { commitment };
            }
        }
        let header_bytes = &self.wire[..codec::HEADER_LEN];
        let wire = codec::encode_entry(header_bytes, &self.signature.to_bytes(), &openings)?;
        let payload = open_payload(kind, &openings, &self.header.payload_commitment)?;
        Ok(Self {
            header: self.header,
            signature: self.signature,
            openings,
            payload,
            wire,
            entry_hash: self.entry_hash,
        })
    }

    /// The exact signed wire bytes (store these, send these, never re-encode).
    pub fn wire_bytes(&self) -> &[u8] {
        &self.wire
    }

    /// Consumes the entry, returning its wire bytes.
    pub fn into_wire_bytes(self) -> Vec<u8> {
        self.wire
    }

    /// The envelope (header and signature): the feed's Merkle leaf. Identical for every
    /// redacted copy of the entry.
    pub fn leaf_bytes(&self) -> &[u8] {
        &self.wire[..codec::ENVELOPE_LEN]
    }

    /// The entry hash.
    pub fn entry_hash(&self) -> EntryHash {
        self.entry_hash
    }

    /// The typed header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The author.
    pub fn author(&self) -> PublicKey {
        self.header.author
    }

    /// The sequence number.
    pub fn sequence(&self) -> u64 {
        self.header.sequence
    }

    /// The previous entry's hash.
    pub fn previous(&self) -> EntryHash {
        self.header.previous
    }

    /// A reference to this entry (author, sequence, hash), as records and answers cite it.
    pub fn reference(&self) -> EntryRef {
        EntryRef {
            author: self.header.author,
            sequence: self.header.sequence,
            entry_hash: self.entry_hash,
        }
    }

    /// Record time, milliseconds since the Unix epoch.
    pub fn record_time_ms(&self) -> i64 {
        self.header.record_time_ms
    }

    /// The payload kind (known even when the payload is withheld).
    pub fn payload_kind(&self) -> PayloadKind {
        self.header.payload_kind
    }

    /// The payload, or `None` when any field is withheld.
    pub fn payload(&self) -> Option<&Payload> {
        self.payload.as_ref()
    }

    /// The payload fields as carried.
    pub fn openings(&self) -> &[FieldOpening] {
        &self.openings
    }

    /// The signature.
    pub fn signature(&self) -> Signature {
        self.signature
    }

    /// The EPCIS event hash id when the entry is a disclosed EPCIS capture (field 0 suffices,
    /// so the id stays indexable when only the event body is withheld).
    pub fn event_id(&self) -> Option<String> {
        self.event_id_text().map(Cow::into_owned)
    }

    /// [`VerifiedEntry::event_id`], borrowed from the decoded payload when every field is
    /// disclosed (nearly always): the store indexes every appended entry by it, so borrowing
    /// spares a copy per entry appended.
    pub fn event_id_text(&self) -> Option<Cow<'_, str>> {
        if let Some(payload) = &self.payload {
            return payload.event_id().map(Cow::Borrowed);
        }
        if self.header.payload_kind != PayloadKind::EpcisEvent {
            return None;
        }
        match self.openings.first() {
            Some(FieldOpening::Disclosed { value, .. }) => {
                codec::decode::<String>(value, "event id").ok().map(Cow::Owned)
            }
            _ => None,
        }
    }

    /// The feed head this entry makes.
    pub fn as_head(&self) -> FeedHead {
        FeedHead { sequence: self.header.sequence, entry_hash: self.entry_hash }
    }
}

/// Verifies the signatures of `entries` with one Ed25519 batch; on failure names the first bad
/// entry (strict one-by-one fallback).
pub fn verify_batch(entries: Vec<DecodedEntry>) -> Result<Vec<VerifiedEntry>, BatchError> {
    let messages: Vec<Vec<u8>> = entries
        .iter()
        .map(|entry| codec::signing_message(&entry.wire[..codec::HEADER_LEN]))
        .collect();
    let items: Vec<(PublicKey, &[u8], Signature)> = entries
        .iter()
        .zip(&messages)
        .map(|(entry, message)| (entry.header.author, message.as_slice(), entry.signature))
        .collect();
    if let Err(error) = identity::verify_batch(&items) {
        let index = match &error {
            identity::Error::BadSignatureInBatch { index }
            | identity::Error::InvalidKeyInBatch { index, .. } => *index,
            _ => 0,
        };
        let error = match (error, entries.get(index).map(|entry| entry.header)) {
            (identity::Error::BadSignatureInBatch { .. }, Some(header)) => {
                Error::BadSignature { author: header.author, sequence: header.sequence }
            }
            (identity::Error::InvalidKeyInBatch { key, .. }, _) => {
                Error::InvalidAuthor(identity::Error::InvalidPublicKey(key))
            }
            (error, _) => Error::InvalidAuthor(error),
        };
        return Err(BatchError { index, error });
    }
    Ok(entries.into_iter().map(DecodedEntry::into_verified).collect())
}

/// Decodes and verifies wire entries on `threads` cores: the batch is split into one chunk per
/// thread, each decoded and batch-verified; the first failure (lowest index) is reported.
pub fn decode_and_verify_parallel(
    wires: Vec<Vec<u8>>,
    threads: usize,
) -> Result<Vec<VerifiedEntry>, BatchError> {
    let threads = threads.max(1);
    let chunk_size = wires.len().div_ceil(threads).max(1);
    if threads == 1 || wires.len() <= chunk_size {
        return decode_and_verify_chunk(wires, 0);
    }
    let mut chunks: Vec<(usize, Vec<Vec<u8>>)> = Vec::new();
    let mut remaining = wires.into_iter();
    let mut offset = 0;
    loop {
        let chunk: Vec<Vec<u8>> = remaining.by_ref().take(chunk_size).collect();
        if chunk.is_empty() {
            break;
        }
        let length = chunk.len();
        chunks.push((offset, chunk));
        offset += length;
    }
    let results: Vec<Result<Vec<VerifiedEntry>, BatchError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|(offset, chunk)| scope.spawn(move || decode_and_verify_chunk(chunk, offset)))
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle.join().unwrap_or_else(|_| {
                    Err(BatchError {
                        index: 0,
                        error: Error::Randomness("verifier panicked".into()),
                    })
                })
            })
            .collect()
    });
    let mut verified = Vec::with_capacity(offset);
    for result in results {
        verified.extend(result?);
    }
    Ok(verified)
}

fn decode_and_verify_chunk(
    wires: Vec<Vec<u8>>,
    offset: usize,
) -> Result<Vec<VerifiedEntry>, BatchError> {
    let decoded = wires
        .into_iter()
        .enumerate()
        .map(|(index, wire)| {
            DecodedEntry::decode(wire).map_err(|error| BatchError { index: offset + index, error })
        })
        .collect::<Result<Vec<_>, _>>()?;
    verify_batch(decoded)
        .map_err(|BatchError { index, error }| BatchError { index: offset + index, error })
}

/// What the append rules need to know about a feed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FeedState {
    /// The current head, `None` for an empty feed.
    pub head: Option<FeedHead>,
    /// The contested sequence number when a fork proof froze the feed.
    pub frozen_at: Option<u64>,
}

/// The pure append rules: the author is admitted and its role allows the payload kind, the
/// feed is not frozen, the sequence number is the next one, and the previous hash names the
/// head. Roster change entries must also be acceptable to `roster` (checked, not applied), and
/// a disclosed master-data statement must be about an identifier its author owns.
pub fn check_append(
    state: &FeedState,
    entry: &VerifiedEntry,
    roster: &Roster,
) -> Result<(), Error> {
    let author = entry.author();
    if !roster.is_admitted(&author) {
        return Err(Error::NotAdmitted { author });
    }
    let kind = entry.payload_kind();
    if !roster.role_allows(&author, kind) {
        return Err(Error::RoleNotAllowed { author, kind });
    }
    if let Some(fork_sequence) = state.frozen_at {
        return Err(Error::Frozen { author, fork_sequence });
    }
    let (expected_sequence, expected_previous) = match state.head {
        None => (0, EntryHash::ZERO),
        Some(head) => (head.sequence.saturating_add(1), head.entry_hash),
    };
    let sequence = entry.sequence();
    if sequence < expected_sequence {
        let head = expected_sequence - 1;
        return Err(Error::Replayed { author, sequence, head });
    }
    if sequence > expected_sequence {
        return Err(Error::SequenceGap { author, expected: expected_sequence, found: sequence });
    }
    if entry.previous() != expected_previous {
        return Err(Error::BrokenLink {
            sequence,
            expected: expected_previous,
            found: entry.previous(),
        });
    }
    if kind == PayloadKind::RosterChange {
        match entry.payload() {
            Some(Payload::RosterChange(change)) => roster.check_change(&author, change)?,
            _ => return Err(Error::RosterChangeWithheld { sequence }),
        }
    }
    // The ownership rule needs the statement's id; a copy with fields withheld (a partner's
    // redacted view) cannot be judged by it and is judged by the rules above only.
    if let Some(Payload::MasterData(statement)) = entry.payload() {
        masterdata::check_owner(roster, &author, &statement.id)?;
    }
    Ok(())
}

/// Re-checks a whole feed from its first entry, applying its roster changes to `roster` as it
/// goes; returns the head. The client uses this to re-verify what a node returns.
pub fn verify_feed(
    entries: &[VerifiedEntry],
    roster: &mut Roster,
) -> Result<Option<FeedHead>, BatchError> {
    let mut state = FeedState::default();
    for (index, entry) in entries.iter().enumerate() {
        check_append(&state, entry, roster).map_err(|error| BatchError { index, error })?;
        if let Some(Payload::RosterChange(change)) = entry.payload() {
            roster
                .apply(&entry.author(), change)
                .map_err(|error| BatchError { index, error: error.into() })?;
        }
        state.head = Some(entry.as_head());
    }
    Ok(state.head)
}

/// Whether two verified entries are an equivocation: same author and position, different
/// content. Both carry valid signatures, so together they prove the author forked its feed.
pub fn is_equivocation(first: &VerifiedEntry, second: &VerifiedEntry) -> bool {
    first.author() == second.author()
        && first.sequence() == second.sequence()
        && first.entry_hash() != second.entry_hash()
}

/// Builds and signs an organisation's next entries, tracking its feed head.
#[derive(Debug)]
pub struct FeedWriter {
    /// The organisation's key.
    keypair: Keypair,
    /// Sequence number of the next entry.
    next_sequence: u64,
    /// Hash of the last entry written.
    previous: EntryHash,
}

impl FeedWriter {
    /// A writer continuing after `head` (`None` for an empty feed).
    pub fn new(keypair: Keypair, head: Option<FeedHead>) -> Self {
        let (next_sequence, previous) = match head {
            None => (0, EntryHash::ZERO),
            Some(head) => (head.sequence + 1, head.entry_hash),
        };
        Self { keypair, next_sequence, previous }
    }

    /// The organisation's public key.
    pub fn author(&self) -> PublicKey {
        self.keypair.public_key()
    }

    /// The sequence number the next entry will get.
    pub fn next_sequence(&self) -> u64 {
        self.next_sequence
    }

    /// Signs the next entry with a fresh random salt seed and advances the head.
    pub fn next_entry(
        &mut self,
        record_time_ms: i64,
        payload: &Payload,
    ) -> Result<VerifiedEntry, Error> {
        let mut salt_seed = [0u8; 32];
        getrandom::fill(&mut salt_seed).map_err(|error| Error::Randomness(error.to_string()))?;
        self.next_entry_with_seed(record_time_ms, payload, &salt_seed)
    }

    /// Signs the next entry with the given salt seed (reproducible; tests and vectors).
    pub fn next_entry_with_seed(
        &mut self,
        record_time_ms: i64,
        payload: &Payload,
        salt_seed: &[u8; 32],
    ) -> Result<VerifiedEntry, Error> {
        let entry = VerifiedEntry::sign(
            &self.keypair,
            self.next_sequence,
            self.previous,
            record_time_ms,
            payload,
            salt_seed,
        )?;
        self.next_sequence += 1;
        self.previous = entry.entry_hash();
        Ok(entry)
    }

    /// Moves the writer back to `head`, e.g. when a batch was rejected and not stored.
    pub fn reset(&mut self, head: Option<FeedHead>) {
        let (next_sequence, previous) = match head {
            None => (0, EntryHash::ZERO),
            Some(head) => (head.sequence + 1, head.entry_hash),
        };
        self.next_sequence = next_sequence;
        self.previous = previous;
    }
}
