//! Verification of what a node sends: entry signatures and feed links, inclusion proofs
//! against checkpoints signed by the feed's author, witness cosignatures per a [`Policy`], and
//! the consistency of an answer with the entries it claims to rest on.
//!
//! Owns the client-side policy (which witnesses are trusted, how many must cosign) and the
//! cross-checks between an answer's claims and its evidence. Deliberately does not own any
//! cryptography or proof format: those are `lotline_ledger::proof` and friends, called here.

/// Which witnesses the client trusts and how many of them must have cosigned a checkpoint
/// before an inclusion proof against it is accepted.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Trusted witness keys, as Ed25519 public keys in hex (64 characters) or C2SP verifier
    /// keys (`name+id+base64`). Empty means "no witness required".
    pub witnesses: Vec<String>,
    /// How many distinct trusted witnesses must cosign each checkpoint. Zero accepts a
    /// checkpoint signed by its author alone, which proves authorship but not that the author
    /// showed everyone the same log.
    pub witness_quorum: usize,
}

/// Why something a node sent cannot be relied on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The proof bundle itself did not check out (a signature, a link or a proof).
    #[error("proof bundle: {0}")]
    Bundle(String),
    /// The answer carries no evidence although it names events.
    #[error("the answer names {0} events but carries no proof bundle")]
    MissingEvidence(usize),
    /// A checkpoint has fewer trusted cosignatures than the policy needs.
    #[error(
        "checkpoint of feed {author} has {found} trusted witness cosignatures, the policy needs {needed}"
    )]
    WitnessQuorum {
        /// The feed's author (hex).
        author: String,
        /// Trusted cosignatures found.
        found: usize,
        /// Cosignatures needed.
        needed: usize,
    },
    /// The answer relies on an event no verified entry carries.
    #[error("event {0} is named by the answer but carried by no verified entry")]
    UnbackedEvent(String),
    /// The answer's entry reference does not match the verified entry at that position.
    #[error("entry {sequence} of feed {author} does not match the proof bundle")]
    UnbackedEntry {
        /// The feed's author (hex).
        author: String,
        /// The entry's position.
        sequence: u64,
    },
    /// A lot in the answer is mentioned by no verified event.
    #[error("lot {0} is in the answer but in no verified event")]
    UnbackedLot(String),
    /// A verified entry's event does not hash to the id it is filed under.
    #[error("event filed as {claimed} hashes to {computed}")]
    EventHashMismatch {
        /// The id the entry carries.
        claimed: String,
        /// The id recomputed from the event bytes.
        computed: String,
    },
    /// A configured witness key is not a key.
    #[error("witness key {0:?} is neither 64 hex characters nor a name+id+base64 verifier key")]
    BadWitnessKey(String),
}
