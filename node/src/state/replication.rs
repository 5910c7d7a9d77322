//! Replication decisions: answering peers, judging gossip, applying fetched ranges, fork
//! handling, signing our checkpoints and cosigning others' as a witness.
//!
//! Owns: what a node accepts from peers. Every entry goes through the store's pure append
//! rules (signature, link, roster, role); every checkpoint is checked against the author's key
//! and our own copy of the feed before it is stored, cosigned or forwarded.
//! Does not own: when or from whom to fetch (see `crate::sync`).

use std::collections::HashSet;

use lotline_ledger::checkpoint::{
    self, Checkpoint, Cosignature, Cosigner, KeyKind, SignedCheckpoint, VerifierKey,
};
use lotline_ledger::feed::DecodedEntry;
use lotline_ledger::fork::ForkProof;
use lotline_ledger::identity::{Keypair, PublicKey};
use lotline_ledger::roster::Role;
use lotline_ledger::store;

use super::{Author, Ledger, lock};
use crate::network::{Announcement, Head, Request, Response, protocol::MAX_RANGE_ENTRIES};

/// The verdict on a gossiped announcement.
#[derive(Debug)]
pub enum AnnouncementVerdict {
    /// Valid and new: forward it; `fetch` names a feed we should catch up on (author, size).
    Accept {
        /// A feed that is ahead of ours.
        fetch: Option<(Author, u64)>,
    },
    /// Nothing wrong with it, but not worth forwarding: nobody is blamed.
    Ignore(Unwanted),
    /// Invalid: dropped; `fault` decides how its forwarder is penalised.
    Reject {
        /// What is wrong with it.
        fault: Fault,
        /// The rule broken, for the log.
        reason: String,
    },
    /// A checkpoint showing that its author signed two histories of its feed: another
    /// checkpoint of the same size with another root, or a root other than the entries we hold
    /// give. The feed is frozen. The author is to blame, not the forwarder (a peer holding
    /// less of the feed cannot tell).
    Equivocation {
        /// The organisation that equivocated.
        author: Author,
        /// The fork proof to gossip, when the two statements make one (a checkpoint against
        /// entries does not: the proof would be the whole feed).
        proof: Option<Announcement>,
        /// What contradicts what, for the log.
        reason: String,
    },
}

/// Why a valid announcement is not forwarded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unwanted {
    /// It is about a feed this node does not replicate.
    NotReplicated,
    /// We hold everything it says already: a replay (or an empty feed's checkpoint, which
    /// says nothing).
    Known,
    /// Our own side failed while taking it in (storage); the sender is not to blame.
    LocalFailure(String),
}

impl Unwanted {
    /// The reason label of the metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Unwanted::NotReplicated => "not_replicated",
            Unwanted::Known => "replayed",
            Unwanted::LocalFailure(_) => "local_failure",
        }
    }
}

/// What is wrong with an invalid announcement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// It does not parse (note syntax, checkpoint body, fork-proof JSON).
    Malformed,
    /// A signature does not verify, or no signature is by the key the checkpoint names.
    BadSignature,
    /// It is about an organisation our roster does not admit.
    NotAMember,
    /// A fork proof whose two statements do not verify or do not conflict.
    InvalidForkProof,
}

impl Fault {
    /// The reason label of the metrics.
    pub fn label(self) -> &'static str {
        match self {
            Fault::Malformed => "malformed",
            Fault::BadSignature => "bad_signature",
            Fault::NotAMember => "not_member",
            Fault::InvalidForkProof => "invalid_fork_proof",
        }
    }

    /// Whether every node reaches this verdict from the bytes alone (syntax, signatures).
    /// Honest peers validate before forwarding, so such an announcement comes from a peer
    /// that skipped validation. Membership is not such a fault: peers learn roster changes at
    /// different times.
    pub fn is_objective(self) -> bool {
        !matches!(self, Fault::NotAMember)
    }

    /// The fault of a checkpoint note that failed verification.
    fn of_checkpoint_error(error: &checkpoint::Error) -> Self {
        match error {
            checkpoint::Error::BadSignature { .. }
            | checkpoint::Error::NoTrustedSignature
            | checkpoint::Error::DuplicateSignature { .. } => Fault::BadSignature,
            _ => Fault::Malformed,
        }
    }
}

/// Why a fetched range was not applied. Whose fault it is decides whether the peer that sent
/// it is penalised: an honest peer must not be blocked because our own disk failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemoteError {
    /// The peer's data breaks the ledger's rules (malformed, forged, not admitted, out of
    /// order): drop it and penalise the peer.
    #[error("invalid range from the peer: {0}")]
    Invalid(String),
    /// Our side failed (storage): nothing is stored, the peer is not to blame.
    #[error("local failure while applying a range: {0}")]
    Local(String),
}

impl RemoteError {
    /// Classifies a store error met while applying a peer's entries.
    fn from_store(error: store::Error) -> Self {
        match error {
            store::Error::Rejected(_) | store::Error::Equivocation { .. } => {
                Self::Invalid(error.to_string())
            }
            _ => Self::Local(error.to_string()),
        }
    }

    fn invalid(reason: impl std::fmt::Display) -> Self {
        Self::Invalid(reason.to_string())
    }
}

/// What applying a fetched range did.
#[derive(Debug, Default)]
pub struct RemoteApplied {
    /// Entries newly stored.
    pub appended: u64,
    /// Stop fetching this feed (it is frozen, or the range held nothing new).
    pub stop: bool,
    /// Something to gossip (a fork proof we found).
    pub announce: Option<Announcement>,
}

/// The key name under which an organisation cosigns as a witness.
pub fn witness_name(organisation: &PublicKey) -> String {
    format!("lotline.dev/witness/{}", organisation.to_hex())
}

impl Ledger {
    /// Answers a peer's sync request from the store.
    pub fn answer(&self, request: &Request) -> Response {
        match request {
            Request::Heads => {
                let heads = self
                    .store
                    .heads()
                    .into_iter()
                    .map(|(author, head)| Head {
                        author: *author.as_bytes(),
                        size: head.sequence + 1,
                        checkpoint: self.checkpoint_note_for(&author).unwrap_or_default(),
                    })
                    .collect();
                Response::Heads(heads)
            }
            Request::Entries { author, from, limit } => {
                let Ok(author) = PublicKey::from_bytes(*author) else {
                    return Response::Refused("not a public key".to_owned());
                };
                let limit = (*limit).min(MAX_RANGE_ENTRIES) as usize;
                match self.store.range(&author, *from, limit) {
                    Ok(wires) => Response::Entries(wires),
                    Err(error) => Response::Refused(error.to_string()),
                }
            }
        }
    }

    /// Our stored size of `author`'s feed.
    pub fn feed_size(&self, author: &Author) -> u64 {
        PublicKey::from_bytes(*author)
            .ok()
            .and_then(|author| self.store.head(&author))
            .map_or(0, |head| head.sequence + 1)
    }

    /// Which feeds of a peer's heads we lack entries of (and want); also takes in the
    /// checkpoints the peer holds (cosignatures travel that way).
    pub fn wanted_from_heads(&self, heads: &[Head]) -> Vec<(Author, u64)> {
        let mut wanted = Vec::new();
        for head in heads {
            let Ok(author) = PublicKey::from_bytes(head.author) else { continue };
            if !self.wants_feed(&author) || !self.store.roster().is_admitted(&author) {
                continue;
            }
            if !head.checkpoint.is_empty() {
                let _ = self.take_checkpoint(&author, &head.checkpoint);
            }
            if self.store.is_frozen(&author).is_some() {
                continue;
            }
            if head.size > self.feed_size(&head.author) {
                wanted.push((head.author, head.size));
            }
        }
        wanted
    }

    /// Judges a gossiped announcement: whether to forward it, and whom to blame if not.
    pub fn judge_announcement(&self, announcement: &Announcement) -> AnnouncementVerdict {
        match announcement {
            Announcement::Checkpoint(note) => self.judge_checkpoint(note),
            Announcement::Fork(proof) => self.judge_fork_proof(proof),
        }
    }

    fn judge_checkpoint(&self, note: &str) -> AnnouncementVerdict {
        let signed = match SignedCheckpoint::verify_self_certifying_feed(note) {
            Ok(signed) => signed,
            Err(error) => {
                let fault = Fault::of_checkpoint_error(&error);
                return AnnouncementVerdict::Reject {
                    fault,
                    reason: format!("checkpoint: {error}"),
                };
            }
        };
        let author = signed.author();
        if !self.store.roster().is_admitted(&author) {
            let reason = format!("checkpoint of unadmitted {author}");
            return AnnouncementVerdict::Reject { fault: Fault::NotAMember, reason };
        }
        if !self.wants_feed(&author) {
            return AnnouncementVerdict::Ignore(Unwanted::NotReplicated);
        }
        let size = signed.checkpoint().size;
        if size == 0 {
            return AnnouncementVerdict::Ignore(Unwanted::Known);
        }
        match self.store.checkpoint_at(&author, size) {
            Ok(Some(stored)) if holds_every_line(&stored.to_note_text(), note) => {
                return AnnouncementVerdict::Ignore(Unwanted::Known);
            }
            Ok(_) => {}
            Err(error) => {
                return AnnouncementVerdict::Ignore(Unwanted::LocalFailure(error.to_string()));
            }
        }
        let local = self.feed_size(author.as_bytes());
        if size > local {
            return self.judge_checkpoint_ahead(note, &signed);
        }
        let was_frozen = self.store.is_frozen(&author).is_some();
        if let Err(reason) = self.take_checkpoint(&author, note) {
            return self.judge_refused_checkpoint(&signed, was_frozen, reason);
        }
        AnnouncementVerdict::Accept { fetch: None }
    }

    /// A checkpoint ahead of our copy of the feed: kept pending until the entries arrive (as
    /// [`Self::take_checkpoint`] keeps one), and checked against the one pending for that
    /// feed, under one lock so that two announcements judged at once are still compared: one
    /// of the same size with another root makes a fork proof, stored here (which freezes the
    /// feed).
    fn judge_checkpoint_ahead(&self, note: &str, signed: &SignedCheckpoint) -> AnnouncementVerdict {
        let author = signed.author();
        let head = signed.checkpoint();
        let conflicting = {
            let mut pending = lock(&self.pending_checkpoints);
            let held = pending.get(&author).and_then(|held_note| {
                let held = SignedCheckpoint::verify_feed(held_note, &author).ok()?;
                let known = holds_every_line(held_note, note);
                (held.checkpoint().size == head.size).then_some((held, known))
            });
            match held {
                Some((_, true)) => return AnnouncementVerdict::Ignore(Unwanted::Known),
                Some((held, false)) if held.checkpoint().root != head.root => Some(held),
                _ => {
                    pending.insert(author, note.to_owned());
                    None
                }
            }
        };
        let Some(held) = conflicting else {
            let fetch =
                self.store.is_frozen(&author).is_none().then_some((*author.as_bytes(), head.size));
            return AnnouncementVerdict::Accept { fetch };
        };
        let proof = match ForkProof::from_checkpoints(&held, signed) {
            Ok(proof) => proof,
            Err(error) => {
                return AnnouncementVerdict::Ignore(Unwanted::LocalFailure(error.to_string()));
            }
        };
        if let Err(error) = self.store.put_fork_proof(&proof) {
            return AnnouncementVerdict::Ignore(Unwanted::LocalFailure(error.to_string()));
        }
        AnnouncementVerdict::Equivocation {
            author: *author.as_bytes(),
            proof: serde_json::to_vec(&proof).ok().map(Announcement::Fork),
            reason: format!(
                "two checkpoints of {author} at size {} with different roots",
                head.size
            ),
        }
    }

    /// Why a verified checkpoint of a member was not taken in: it contradicts what we hold
    /// (the author's fault), or our store failed (nobody's but ours).
    fn judge_refused_checkpoint(
        &self,
        signed: &SignedCheckpoint,
        was_frozen: bool,
        reason: String,
    ) -> AnnouncementVerdict {
        let author = signed.author();
        if !was_frozen && self.store.is_frozen(&author).is_some() {
            // The store found a stored checkpoint of that size with another root: a fork proof.
            let proof = self.fork_announcement(&author);
            return AnnouncementVerdict::Equivocation { author: *author.as_bytes(), proof, reason };
        }
        let head = signed.checkpoint();
        match self.store.feed_root(&author, head.size) {
            Ok(root) if root != head.root => AnnouncementVerdict::Equivocation {
                author: *author.as_bytes(),
                proof: None,
                reason,
            },
            _ => AnnouncementVerdict::Ignore(Unwanted::LocalFailure(reason)),
        }
    }

    fn judge_fork_proof(&self, bytes: &[u8]) -> AnnouncementVerdict {
        let proof: ForkProof = match serde_json::from_slice(bytes) {
            Ok(proof) => proof,
            Err(error) => {
                let reason = format!("malformed fork proof: {error}");
                return AnnouncementVerdict::Reject { fault: Fault::Malformed, reason };
            }
        };
        let author = proof.author();
        if !self.store.roster().is_admitted(&author) {
            let reason = format!("fork proof about unadmitted {author}");
            return AnnouncementVerdict::Reject { fault: Fault::NotAMember, reason };
        }
        if let Err(error) = proof.verify(&author) {
            let reason = format!("fork proof does not verify: {error}");
            return AnnouncementVerdict::Reject { fault: Fault::InvalidForkProof, reason };
        }
        // Checked above, so what `take_fork_proof` can still refuse is our storage failing.
        match self.take_fork_proof(bytes) {
            Ok(true) => AnnouncementVerdict::Accept { fetch: None },
            Ok(false) => AnnouncementVerdict::Ignore(Unwanted::Known),
            Err(reason) => AnnouncementVerdict::Ignore(Unwanted::LocalFailure(reason)),
        }
    }

    /// The roster's version and its members' keys: the sync service admits the members' peer
    /// ids to the swarm and installs them again whenever the version changes.
    pub fn roster_members(&self) -> (u64, Vec<Author>) {
        let roster = self.store.roster();
        (roster.version(), roster.members().map(|member| *member.key.as_bytes()).collect())
    }

    /// Takes in a signed checkpoint of `author`: stores it (with its witness cosignatures)
    /// when we hold the feed up to its size and the roots agree; keeps it pending when it is
    /// ahead; reports a contradiction with the entries we hold as an error.
    fn take_checkpoint(&self, author: &PublicKey, note: &str) -> Result<(), String> {
        let signed =
            SignedCheckpoint::verify_feed(note, author).map_err(|error| error.to_string())?;
        let size = signed.checkpoint().size;
        if size > self.feed_size(author.as_bytes()) {
            lock(&self.pending_checkpoints).insert(*author, note.to_owned());
            return Ok(());
        }
        self.store_checkpoint(author, &signed)
    }

    fn store_checkpoint(
        &self,
        author: &PublicKey,
        signed: &SignedCheckpoint,
    ) -> Result<(), String> {
        let size = signed.checkpoint().size;
        if size == 0 {
            return Ok(());
        }
        let stored = self.store.checkpoint_at(author, size).map_err(|error| error.to_string())?;
        match stored {
            // The store checks the root against our copy of the feed; a same-size checkpoint
            // with another root becomes a fork proof there and freezes the feed.
            None => self.store.put_checkpoint(signed).map_err(|error| error.to_string())?,
            Some(stored) if stored.checkpoint().root != signed.checkpoint().root => {
                return self.store.put_checkpoint(signed).map_err(|error| error.to_string());
            }
            Some(_) => {}
        }
        let witnesses = self.witness_keys();
        let cosignatures =
            signed.verified_cosignatures(&witnesses).map_err(|error| error.to_string())?;
        for cosignature in cosignatures {
            self.store
                .add_cosignature(author, size, &cosignature)
                .map_err(|error| error.to_string())?;
        }
        Ok(())
    }

    /// Verifier keys of every witness in the roster.
    pub fn witness_keys(&self) -> Vec<VerifierKey> {
        self.store
            .roster()
            .members()
            .filter(|member| member.roles.contains(&Role::Witness))
            .filter_map(|member| {
                VerifierKey::new(&witness_name(&member.key), KeyKind::CosignatureV1, member.key)
                    .ok()
            })
            .collect()
    }

    /// The latest checkpoint note of `author` we hold, with every cosignature we stored.
    pub fn checkpoint_note_for(&self, author: &PublicKey) -> Option<String> {
        let stored = self.store.latest_checkpoint(author).ok()??;
        Some(stored.to_note_text())
    }

    /// Signs a checkpoint of our own feed at its current size if we have none at that size,
    /// and returns our latest checkpoint note (for gossip).
    pub fn local_checkpoint_note(&self) -> Option<String> {
        let organisation = self.organisation();
        let size = self.feed_size(organisation.as_bytes());
        if size == 0 {
            return None;
        }
        let latest = self.store.latest_checkpoint(&organisation).ok().flatten();
        if latest.as_ref().is_none_or(|latest| latest.checkpoint().size < size) {
            let root = self.store.feed_root(&organisation, size).ok()?;
            let checkpoint = Checkpoint::for_feed(&organisation, size, root);
            let signed = SignedCheckpoint::sign(checkpoint, &self.keypair).ok()?;
            if let Err(error) = self.store.put_checkpoint(&signed) {
                tracing::warn!(%error, "cannot store our checkpoint");
                return None;
            }
        }
        self.checkpoint_note_for(&organisation)
    }

    /// Appends a range of `author`'s entries fetched from a peer. Entries we already hold are
    /// compared with ours: identical ones are skipped, a different one is an equivocation that
    /// the store turns into a fork proof (and we gossip it).
    pub fn apply_remote(
        &self,
        author: Author,
        wires: Vec<Vec<u8>>,
    ) -> Result<RemoteApplied, RemoteError> {
        let author_key = PublicKey::from_bytes(author).map_err(RemoteError::invalid)?;
        if self.store.is_frozen(&author_key).is_some() {
            return Ok(RemoteApplied { stop: true, ..RemoteApplied::default() });
        }
        let local_size = self.feed_size(&author);
        let mut fresh = Vec::with_capacity(wires.len());
        for wire in wires {
            // Only a prefix we may already hold needs decoding here; once a fresh entry is
            // seen, the rest go straight to batch verification (which decodes them) and the
            // store's rules reject any gap or reordering.
            if !fresh.is_empty() {
                fresh.push(wire);
                continue;
            }
            let decoded = DecodedEntry::decode(wire.clone()).map_err(RemoteError::invalid)?;
            let header = decoded.header();
            if header.author != author_key {
                return Err(RemoteError::Invalid(format!(
                    "entry of {} in a range of {author_key}",
                    header.author
                )));
            }
            if header.sequence < local_size {
                let ours = self
                    .store
                    .entry(&author_key, header.sequence)
                    .map_err(RemoteError::from_store)?;
                if ours.is_some_and(|ours| ours.entry_hash() == decoded.entry_hash()) {
                    continue;
                }
                // A different entry at a position we hold: let the store prove the fork.
                let verified = decoded.verify().map_err(RemoteError::invalid)?;
                return match self.store.append_verified(std::slice::from_ref(&verified)) {
                    Err(store::Error::Equivocation { .. }) => {
                        let announce = self.fork_announcement(&author_key);
                        Ok(RemoteApplied { stop: true, announce, ..RemoteApplied::default() })
                    }
                    Err(error) => Err(RemoteError::from_store(error)),
                    Ok(_) => Err(RemoteError::Local("a conflicting entry was accepted".to_owned())),
                };
            }
            fresh.push(wire);
        }
        if fresh.is_empty() {
            return Ok(RemoteApplied { stop: true, ..RemoteApplied::default() });
        }
        let count = fresh.len() as u64;
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        let entries = lotline_ledger::feed::decode_and_verify_parallel(fresh, threads)
            .map_err(RemoteError::invalid)?;
        if let Some(stranger) = entries.iter().find(|entry| entry.author() != author_key) {
            return Err(RemoteError::Invalid(format!(
                "entry of {} in a range of {author_key}",
                stranger.author()
            )));
        }
        self.store.append_verified(&entries).map_err(RemoteError::from_store)?;
        self.announce_appended(&entries);
        self.index_entries(&entries);
        // A checkpoint that was ahead of us may now be checkable.
        let pending = lock(&self.pending_checkpoints).remove(&author_key);
        if let Some(note) = pending
            && let Err(reason) = self.take_checkpoint(&author_key, &note)
        {
            tracing::warn!(author = %author_key, %reason, "checkpoint contradicts the feed");
        }
        Ok(RemoteApplied { appended: count, stop: false, announce: None })
    }

    fn fork_announcement(&self, author: &PublicKey) -> Option<Announcement> {
        let proofs = self.store.fork_proofs().ok()?;
        let proof = proofs.into_iter().find(|proof| proof.author() == *author)?;
        serde_json::to_vec(&proof).ok().map(Announcement::Fork)
    }

    /// Takes in a fork proof from a peer: verifies it offline, stores it and freezes the
    /// feed. Returns whether it was new.
    pub fn take_fork_proof(&self, bytes: &[u8]) -> Result<bool, String> {
        let proof: ForkProof = serde_json::from_slice(bytes)
            .map_err(|error| format!("malformed fork proof: {error}"))?;
        let author = proof.author();
        if !self.store.roster().is_admitted(&author) {
            return Err(format!("fork proof about unadmitted {author}"));
        }
        proof.verify(&author).map_err(|error| format!("fork proof does not verify: {error}"))?;
        let known = self.store.fork_proofs().map_err(|error| error.to_string())?;
        if known
            .iter()
            .any(|stored| stored.author() == author && stored.position() == proof.position())
        {
            return Ok(false);
        }
        self.store.put_fork_proof(&proof).map_err(|error| error.to_string())?;
        Ok(true)
    }

    /// Witness duty: cosign the latest checkpoint of every feed we hold in full, when its root
    /// is our own root at that size (so it is consistent with everything we cosigned before:
    /// our copy only grows). Returns the cosigned notes to gossip.
    pub fn witness_round(&self) -> Vec<Announcement> {
        if !self.witness {
            return Vec::new();
        }
        let organisation = self.organisation();
        let Ok(cosigner) =
            Cosigner::new(&witness_name(&organisation), Keypair::from_seed(self.keypair.seed()))
        else {
            return Vec::new();
        };
        let mut announcements = Vec::new();
        let mut cosigned = lock(&self.cosigned_sizes);
        for (author, _) in self.store.heads() {
            if author == organisation || self.store.is_frozen(&author).is_some() {
                continue;
            }
            let Ok(Some(latest)) = self.store.latest_checkpoint(&author) else { continue };
            let size = latest.checkpoint().size;
            if cosigned.get(&author).is_some_and(|cosigned_size| *cosigned_size >= size) {
                continue;
            }
            // put_checkpoint already checked the root against our copy of the feed, which only
            // grows: cosigning it never contradicts an earlier cosignature of ours.
            let cosignature = Cosignature::sign(&cosigner, latest.body(), now_seconds());
            if !matches!(self.store.add_cosignature(&author, size, &cosignature), Ok(true)) {
                continue;
            }
            cosigned.insert(author, size);
            if let Some(note) = self.checkpoint_note_for(&author) {
                announcements.push(Announcement::Checkpoint(note));
            }
        }
        announcements
    }
}

/// Whether every line of `note` is a line of `held`: the same checkpoint, with no signature or
/// cosignature that `held` lacks.
fn holds_every_line(held: &str, note: &str) -> bool {
    let held: HashSet<&str> = held.lines().collect();
    note.lines().all(|line| held.contains(line))
}

fn now_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default()
}
