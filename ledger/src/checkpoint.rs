//! Signed tree heads in the C2SP formats: `signed-note` v1.0.0, `tlog-checkpoint` v1.0.0 and
//! `tlog-cosignature` v1 (Ed25519), plus the witness's pure cosigning decision.
//!
//! Owns: parsing and producing notes byte for byte ([`Note`]), key IDs and the `vkey` text form
//! ([`VerifierKey`]), the checkpoint body ([`Checkpoint`]), a checkpoint whose log signature has
//! been checked ([`SignedCheckpoint`]), witness cosignatures ([`Cosignature`], [`Cosigner`]) and
//! [`witness_cosign`], which refuses to cosign a checkpoint inconsistent with the last one.
//! Does not own: the tree itself (`merkle`), persisting the latest cosigned checkpoint (`store`;
//! a witness MUST persist before answering), fork proofs (`fork`) or proof bundles (`proof`).
//!
//! A feed's log identity is derived from its author key: origin = key name =
//! `lotline.dev/feed/<author-hex>` ([`feed_origin`]), so any third-party C2SP tool given the
//! vkey can verify our checkpoints.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha2::{Digest, Sha256};

use crate::identity::{Keypair, PublicKey, SIGNATURE_LEN, Signature};
use crate::merkle::{self, Hash};

/// Signature type byte of plain Ed25519 note signatures (signed-note §Ed25519 signatures).
pub const SIGNATURE_TYPE_ED25519: u8 = 0x01;
/// Signature type byte of timestamped Ed25519 witness cosignatures (tlog-cosignature).
pub const SIGNATURE_TYPE_COSIGNATURE_V1: u8 = 0x04;
/// Most signature lines accepted in one note. The spec requires at least 16; the cap bounds the
/// work a hostile note can cause.
pub const MAX_NOTE_SIGNATURES: usize = 100;
/// Prefix of every feed origin; the rest is the author key in lower-case hex.
pub const FEED_ORIGIN_PREFIX: &str = "lotline.dev/feed/";

/// The `— ` that starts every signature line: U+2014 EM DASH and a space.
const SIGNATURE_LINE_PREFIX: &str = "\u{2014} ";
/// Length of a key ID.
const KEY_ID_LEN: usize = 4;
/// Length of a cosignature's timestamp.
const TIMESTAMP_LEN: usize = 8;

/// The 4-byte key ID, `SHA-256(name || 0x0A || type || public key)[:4]`.
pub type KeyId = [u8; KEY_ID_LEN];

/// Why a note, checkpoint, vkey or cosignature was rejected. Each variant names the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Notes must not contain ASCII control characters other than newline.
    #[error("note contains a control character other than newline")]
    ControlCharacter,
    /// Note text must end with a newline.
    #[error("note text does not end with a newline")]
    TextNotNewlineTerminated,
    /// A signed note needs a blank line followed by at least one signature line.
    #[error("note has no blank line followed by signature lines")]
    MissingSignatures,
    /// A signature line is not `— <name> <base64>`.
    #[error("malformed signature line: {0}")]
    MalformedSignatureLine(String),
    /// Key names are non-empty, without Unicode spaces or `+`.
    #[error("invalid key name {0:?}")]
    InvalidKeyName(String),
    /// A note carries more signature lines than [`MAX_NOTE_SIGNATURES`].
    #[error("note carries {count} signatures, more than the limit of {limit}")]
    TooManySignatures {
        /// Signature lines found.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// A known key signed the note twice: ambiguous, so rejected.
    #[error("key {key_name} signed the note more than once")]
    DuplicateSignature {
        /// The key's name.
        key_name: String,
    },
    /// A signature from a known key failed to verify: the whole note is rejected.
    #[error("signature by known key {key_name} does not verify")]
    BadSignature {
        /// The key's name.
        key_name: String,
    },
    /// No signature from a trusted key is present.
    #[error("note carries no signature from a trusted key")]
    NoTrustedSignature,
    /// The checkpoint body lacks a mandatory line.
    #[error("checkpoint body lacks its {0} line")]
    MissingCheckpointLine(&'static str),
    /// Checkpoint bodies have no empty lines.
    #[error("checkpoint body has an empty line")]
    EmptyCheckpointLine,
    /// The tree size is decimal without leading zeros and fits in 64 bits.
    #[error("invalid tree size {0:?}")]
    InvalidTreeSize(String),
    /// The root hash is the base64 of 32 bytes.
    #[error("invalid root hash {0:?}")]
    InvalidRootHash(String),
    /// The origin is not the one expected for this log.
    #[error("checkpoint origin {found:?} is not the expected {expected:?}")]
    OriginMismatch {
        /// The origin the verifier expected.
        expected: String,
        /// The origin in the checkpoint.
        found: String,
    },
    /// The origin is not a lotline feed origin.
    #[error("origin {0:?} is not a lotline feed origin")]
    NotAFeedOrigin(String),
    /// A verifier key string is malformed.
    #[error("invalid verifier key: {0}")]
    InvalidVerifierKey(String),
    /// The signature type byte is not one this code supports.
    #[error("unsupported signature type 0x{0:02x}")]
    UnsupportedSignatureType(u8),
    /// A vkey's key ID does not match its name, type and public key.
    #[error("verifier key id does not match its name and key")]
    KeyIdMismatch,
    /// A cosignature is not 4 + 8 + 64 bytes.
    #[error("cosignature has {0} bytes, expected 76")]
    MalformedCosignature(usize),
    /// A cosignature does not verify under the witness key.
    #[error("cosignature by {witness_name} does not verify")]
    BadCosignature {
        /// The witness key name.
        witness_name: String,
    },
    /// A cosignature was checked against a key of another name or ID.
    #[error("cosignature by {witness_name} does not belong to the given witness key")]
    WrongWitnessKey {
        /// The name on the cosignature.
        witness_name: String,
    },
}

/// The key ID rule of signed-note: `SHA-256(name || "\n" || type || public key)[:4]`.
pub fn key_id(key_name: &str, signature_type: u8, public_key: &PublicKey) -> KeyId {
    let mut hasher = Sha256::new();
    hasher.update(key_name.as_bytes());
    hasher.update(b"\n");
    hasher.update([signature_type]);
    hasher.update(public_key.as_bytes());
    let digest: [u8; 32] = hasher.finalize().into();
    [digest[0], digest[1], digest[2], digest[3]]
}

/// The origin (and key name) of an author's feed: `lotline.dev/feed/<author-hex>`.
pub fn feed_origin(author: &PublicKey) -> String {
    format!("{FEED_ORIGIN_PREFIX}{}", author.to_hex())
}

/// The author whose feed `origin` names, for origins made by [`feed_origin`].
pub fn author_of_feed_origin(origin: &str) -> Result<PublicKey, Error> {
    let author_hex = origin
        .strip_prefix(FEED_ORIGIN_PREFIX)
        .ok_or_else(|| Error::NotAFeedOrigin(origin.to_owned()))?;
    // Only the canonical lower-case form, so one key has exactly one origin.
    if author_hex.len() != 64 || author_hex.bytes().any(|byte| byte.is_ascii_uppercase()) {
        return Err(Error::NotAFeedOrigin(origin.to_owned()));
    }
    PublicKey::from_hex(author_hex).map_err(|_| Error::NotAFeedOrigin(origin.to_owned()))
}

fn check_key_name(key_name: &str) -> Result<(), Error> {
    if key_name.is_empty()
        || key_name.chars().any(|character| character.is_whitespace() || character == '+')
        || key_name.chars().any(|character| character.is_control())
    {
        return Err(Error::InvalidKeyName(key_name.to_owned()));
    }
    Ok(())
}

fn check_no_control_characters(text: &str) -> Result<(), Error> {
    if text.chars().any(|character| character != '\n' && (character as u32) < 0x20) {
        return Err(Error::ControlCharacter);
    }
    Ok(())
}

/// One signature line of a note, not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// The signing key's name; with `key_id`, identifies the key and algorithm.
    pub key_name: String,
    /// The signing key's 4-byte ID.
    pub key_id: KeyId,
    /// The signature bytes after the key ID (their meaning depends on the key's type).
    pub signature_bytes: Vec<u8>,
}

impl NoteSignature {
    /// The line `— <name> <base64(key id || signature)>` without its newline.
    pub fn to_line(&self) -> String {
        let mut raw = Vec::with_capacity(KEY_ID_LEN + self.signature_bytes.len());
        raw.extend_from_slice(&self.key_id);
        raw.extend_from_slice(&self.signature_bytes);
        format!("{SIGNATURE_LINE_PREFIX}{} {}", self.key_name, BASE64.encode(raw))
    }

    /// Parses one signature line (without its newline).
    pub fn parse_line(line: &str) -> Result<Self, Error> {
        let malformed = || Error::MalformedSignatureLine(line.to_owned());
        let rest = line.strip_prefix(SIGNATURE_LINE_PREFIX).ok_or_else(malformed)?;
        let (key_name, encoded) = rest.split_once(' ').ok_or_else(malformed)?;
        check_key_name(key_name)?;
        let raw = BASE64.decode(encoded).map_err(|_| malformed())?;
        if raw.len() <= KEY_ID_LEN {
            return Err(malformed());
        }
        let (key_id, signature_bytes) = raw.split_at(KEY_ID_LEN);
        Ok(Self {
            key_name: key_name.to_owned(),
            key_id: [key_id[0], key_id[1], key_id[2], key_id[3]],
            signature_bytes: signature_bytes.to_vec(),
        })
    }
}

/// A C2SP signed note: text plus signature lines, parsed but not verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The signed text, including its final newline.
    text: String,
    /// The signature lines in order.
    signatures: Vec<NoteSignature>,
}

impl Note {
    /// An unsigned note with `text`, which must end in a newline and hold no control
    /// characters other than newlines.
    pub fn new(text: impl Into<String>) -> Result<Self, Error> {
        let text = text.into();
        check_no_control_characters(&text)?;
        if !text.ends_with('\n') {
            return Err(Error::TextNotNewlineTerminated);
        }
        Ok(Self { text, signatures: Vec::new() })
    }

    /// Parses a signed note: the text is separated from the signatures by the last empty line.
    pub fn parse(note: &str) -> Result<Self, Error> {
        check_no_control_characters(note)?;
        if !note.ends_with('\n') {
            return Err(Error::TextNotNewlineTerminated);
        }
        let separator = note.rfind("\n\n").ok_or(Error::MissingSignatures)?;
        let text = &note[..=separator];
        let signature_block = &note[separator + 2..];
        if signature_block.is_empty() {
            return Err(Error::MissingSignatures);
        }
        let lines: Vec<&str> = signature_block.trim_end_matches('\n').split('\n').collect();
        if signature_block.len() - signature_block.trim_end_matches('\n').len() != 1 {
            return Err(Error::MissingSignatures);
        }
        if lines.len() > MAX_NOTE_SIGNATURES {
            return Err(Error::TooManySignatures {
                count: lines.len(),
                limit: MAX_NOTE_SIGNATURES,
            });
        }
        let signatures =
            lines.into_iter().map(NoteSignature::parse_line).collect::<Result<Vec<_>, _>>()?;
        Ok(Self { text: text.to_owned(), signatures })
    }

    /// The signed text, including its final newline.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signature lines in order.
    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// Appends a signature line.
    pub fn push_signature(&mut self, signature: NoteSignature) -> Result<(), Error> {
        if self.signatures.len() >= MAX_NOTE_SIGNATURES {
            return Err(Error::TooManySignatures {
                count: self.signatures.len() + 1,
                limit: MAX_NOTE_SIGNATURES,
            });
        }
        self.signatures.push(signature);
        Ok(())
    }

    /// Applies the signed-note verifier rules against `known_keys`: signatures from unknown
    /// (name, ID) pairs are ignored; a known key's bad or repeated signature rejects the note;
    /// at least one known key must verify. Returns the verified signatures with their keys.
    pub fn verify<'key>(
        &self,
        known_keys: &'key [VerifierKey],
    ) -> Result<Vec<(&'key VerifierKey, &NoteSignature)>, Error> {
        let mut verified: Vec<(&'key VerifierKey, &NoteSignature)> = Vec::new();
        for signature in &self.signatures {
            let Some(known_key) = known_keys.iter().find(|known_key| {
                known_key.name == signature.key_name && known_key.key_id == signature.key_id
            }) else {
                continue;
            };
            let already_verified = verified.iter().any(|(seen_key, _)| {
                seen_key.name == known_key.name && seen_key.key_id == known_key.key_id
            });
            if already_verified {
                return Err(Error::DuplicateSignature { key_name: signature.key_name.clone() });
            }
            known_key.verify_signature(&self.text, &signature.signature_bytes)?;
            verified.push((known_key, signature));
        }
        if verified.is_empty() {
            return Err(Error::NoTrustedSignature);
        }
        Ok(verified)
    }
}

impl fmt::Display for Note {
    /// The exact note bytes: text, blank line, one signature line each ending in newline.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.text)?;
        formatter.write_str("\n")?;
        for signature in &self.signatures {
            writeln!(formatter, "{}", signature.to_line())?;
        }
        Ok(())
    }
}

/// What a verifier key checks: a plain note signature or a witness cosignature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// Type `0x01`: RFC 8032 Ed25519 over the note text.
    Ed25519,
    /// Type `0x04`: tlog-cosignature/v1 timestamped Ed25519 over `cosignature/v1` messages.
    CosignatureV1,
}

impl KeyKind {
    /// The signature type byte.
    pub fn type_byte(self) -> u8 {
        match self {
            Self::Ed25519 => SIGNATURE_TYPE_ED25519,
            Self::CosignatureV1 => SIGNATURE_TYPE_COSIGNATURE_V1,
        }
    }

    fn from_type_byte(type_byte: u8) -> Result<Self, Error> {
        match type_byte {
            SIGNATURE_TYPE_ED25519 => Ok(Self::Ed25519),
            SIGNATURE_TYPE_COSIGNATURE_V1 => Ok(Self::CosignatureV1),
            other => Err(Error::UnsupportedSignatureType(other)),
        }
    }
}

/// A trusted key for verifying notes: name, ID, kind and Ed25519 public key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VerifierKey {
    /// The key name signature lines carry.
    name: String,
    /// Derived from name, kind and key by [`key_id`]; cached because lines are matched on it.
    key_id: KeyId,
    /// Which signature type this key verifies.
    kind: KeyKind,
    /// The Ed25519 public key.
    public_key: PublicKey,
}

impl VerifierKey {
    /// A key of `kind` named `name`.
    pub fn new(name: &str, kind: KeyKind, public_key: PublicKey) -> Result<Self, Error> {
        check_key_name(name)?;
        let key_id = key_id(name, kind.type_byte(), &public_key);
        Ok(Self { name: name.to_owned(), key_id, kind, public_key })
    }

    /// The log key of an author's feed: Ed25519, named [`feed_origin`].
    pub fn for_feed(author: &PublicKey) -> Self {
        let name = feed_origin(author);
        let key_id = key_id(&name, SIGNATURE_TYPE_ED25519, author);
        Self { name, key_id, kind: KeyKind::Ed25519, public_key: *author }
    }

    /// Parses the vkey form `<name>+<hex8 key ID>+<base64(type || public key)>`, checking the
    /// key ID.
    pub fn parse(vkey: &str) -> Result<Self, Error> {
        let invalid = |reason: &str| Error::InvalidVerifierKey(reason.to_owned());
        let mut parts = vkey.splitn(3, '+');
        let (Some(name), Some(key_id_hex), Some(encoded)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid("expected <name>+<key id>+<key>"));
        };
        check_key_name(name)?;
        if key_id_hex.len() != 2 * KEY_ID_LEN
            || !key_id_hex
                .bytes()
                .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
        {
            return Err(invalid("key id is not 8 lower-case hex digits"));
        }
        let claimed_key_id = hex::decode(key_id_hex).map_err(|_| invalid("key id is not hex"))?;
        let raw = BASE64.decode(encoded).map_err(|_| invalid("key is not base64"))?;
        let (&type_byte, key_bytes) = raw.split_first().ok_or_else(|| invalid("empty key"))?;
        let kind = KeyKind::from_type_byte(type_byte)?;
        let key_bytes: [u8; 32] =
            key_bytes.try_into().map_err(|_| invalid("an Ed25519 key is 32 bytes"))?;
        let public_key =
            PublicKey::from_bytes(key_bytes).map_err(|error| invalid(&error.to_string()))?;
        let verifier_key = Self::new(name, kind, public_key)?;
        if verifier_key.key_id[..] != claimed_key_id[..] {
            return Err(Error::KeyIdMismatch);
        }
        Ok(verifier_key)
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The signature type this key verifies.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The Ed25519 public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    /// Checks one signature line's bytes over `text` according to the key's kind.
    fn verify_signature(&self, text: &str, signature_bytes: &[u8]) -> Result<(), Error> {
        let bad = || Error::BadSignature { key_name: self.name.clone() };
        match self.kind {
            KeyKind::Ed25519 => {
                let raw: [u8; SIGNATURE_LEN] = signature_bytes.try_into().map_err(|_| bad())?;
                self.public_key
                    .verify(text.as_bytes(), &Signature::from_bytes(raw))
                    .map_err(|_| bad())
            }
            KeyKind::CosignatureV1 => {
                let (timestamp, signature) =
                    split_cosignature_bytes(signature_bytes).map_err(|_| bad())?;
                let message = cosignature_message(timestamp, text);
                self.public_key.verify(message.as_bytes(), &signature).map_err(|_| bad())
            }
        }
    }
}

impl fmt::Display for VerifierKey {
    /// The vkey text form.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut typed_key = vec![self.kind.type_byte()];
        typed_key.extend_from_slice(self.public_key.as_bytes());
        write!(formatter, "{}+{}+{}", self.name, hex::encode(self.key_id), BASE64.encode(typed_key))
    }
}

/// Signs `text` as a plain Ed25519 note signature by the key `key_name`.
pub fn sign_note_text(
    key_name: &str,
    keypair: &Keypair,
    text: &str,
) -> Result<NoteSignature, Error> {
    check_key_name(key_name)?;
    Ok(NoteSignature {
        key_name: key_name.to_owned(),
        key_id: key_id(key_name, SIGNATURE_TYPE_ED25519, &keypair.public_key()),
        signature_bytes: keypair.sign(text.as_bytes()).to_bytes().to_vec(),
    })
}

/// A tree head: the body of a tlog-checkpoint note.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Checkpoint {
    /// The log's identity; for feeds, [`feed_origin`] of the author.
    pub origin: String,
    /// Number of leaves in the tree.
    pub size: u64,
    /// RFC 6962 root of the tree at `size`.
    pub root: Hash,
}

impl Checkpoint {
    /// The checkpoint of an author's feed tree.
    pub fn for_feed(author: &PublicKey, size: u64, root: Hash) -> Self {
        Self { origin: feed_origin(author), size, root }
    }

    /// The note body: origin, decimal size and base64 root, each followed by a newline.
    pub fn to_body(&self) -> String {
        format!("{}\n{}\n{}\n", self.origin, self.size, BASE64.encode(self.root))
    }

    /// Parses a note body; returns the checkpoint and any extension lines after the root.
    pub fn parse_body(body: &str) -> Result<(Self, Vec<String>), Error> {
        check_no_control_characters(body)?;
        let lines_text = body.strip_suffix('\n').ok_or(Error::TextNotNewlineTerminated)?;
        let mut lines = lines_text.split('\n');
        let origin = lines.next().filter(|line| !line.is_empty());
        let origin = origin.ok_or(Error::MissingCheckpointLine("origin"))?;
        let size_text = lines.next().ok_or(Error::MissingCheckpointLine("tree size"))?;
        let root_text = lines.next().ok_or(Error::MissingCheckpointLine("root hash"))?;
        let extension_lines: Vec<String> = lines.map(str::to_owned).collect();
        if extension_lines.iter().any(String::is_empty) {
            return Err(Error::EmptyCheckpointLine);
        }
        let canonical_decimal = !size_text.is_empty()
            && size_text.bytes().all(|byte| byte.is_ascii_digit())
            && (size_text == "0" || !size_text.starts_with('0'));
        if !canonical_decimal {
            return Err(Error::InvalidTreeSize(size_text.to_owned()));
        }
        let size = size_text.parse().map_err(|_| Error::InvalidTreeSize(size_text.to_owned()))?;
        let root_bytes =
            BASE64.decode(root_text).map_err(|_| Error::InvalidRootHash(root_text.to_owned()))?;
        let root: Hash =
            root_bytes.try_into().map_err(|_| Error::InvalidRootHash(root_text.to_owned()))?;
        Ok((Self { origin: origin.to_owned(), size, root }, extension_lines))
    }
}

/// A checkpoint whose log signature has been verified. Built only by signing or verifying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    /// The parsed body.
    checkpoint: Checkpoint,
    /// Lines after the root hash, kept because the signatures cover them.
    extension_lines: Vec<String>,
    /// The whole note: body plus every signature line (log signature, cosignatures, others).
    note: Note,
    /// The log key that verified the note.
    log_key: VerifierKey,
}

impl SignedCheckpoint {
    /// Signs `checkpoint` with the log key named after its origin (the tlog-checkpoint
    /// recommendation).
    pub fn sign(checkpoint: Checkpoint, keypair: &Keypair) -> Result<Self, Error> {
        let log_key = VerifierKey::new(&checkpoint.origin, KeyKind::Ed25519, keypair.public_key())?;
        let mut note = Note::new(checkpoint.to_body())?;
        note.push_signature(sign_note_text(&checkpoint.origin, keypair, note.text())?)?;
        Ok(Self { checkpoint, extension_lines: Vec::new(), note, log_key })
    }

    /// Parses and verifies a checkpoint note against the log's key (other signatures, such as
    /// cosignatures, are kept but not checked here).
    pub fn verify(note_text: &str, log_key: &VerifierKey) -> Result<Self, Error> {
        let note = Note::parse(note_text)?;
        note.verify(std::slice::from_ref(log_key))?;
        let (checkpoint, extension_lines) = Checkpoint::parse_body(note.text())?;
        Ok(Self { checkpoint, extension_lines, note, log_key: log_key.clone() })
    }

    /// Verifies a feed checkpoint: signed by `author` under the key named [`feed_origin`], and
    /// with that origin.
    pub fn verify_feed(note_text: &str, author: &PublicKey) -> Result<Self, Error> {
        let log_key = VerifierKey::for_feed(author);
        let signed_checkpoint = Self::verify(note_text, &log_key)?;
        if signed_checkpoint.checkpoint.origin != log_key.name {
            return Err(Error::OriginMismatch {
                expected: log_key.name,
                found: signed_checkpoint.checkpoint.origin,
            });
        }
        Ok(signed_checkpoint)
    }

    /// Verifies a feed checkpoint whose author is read from its origin; the caller must then
    /// check that [`SignedCheckpoint::author`] is trusted.
    pub fn verify_self_certifying_feed(note_text: &str) -> Result<Self, Error> {
        let note = Note::parse(note_text)?;
        let origin = note.text().split('\n').next().unwrap_or_default();
        let author = author_of_feed_origin(origin)?;
        Self::verify_feed(note_text, &author)
    }

    /// The verified tree head.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// Extension lines after the root hash (none in checkpoints lotline produces).
    pub fn extension_lines(&self) -> &[String] {
        &self.extension_lines
    }

    /// The log key that verified the note.
    pub fn log_key(&self) -> &VerifierKey {
        &self.log_key
    }

    /// The signing author (the log key's public key).
    pub fn author(&self) -> PublicKey {
        self.log_key.public_key
    }

    /// The note body every signature covers.
    pub fn body(&self) -> &str {
        self.note.text()
    }

    /// The parsed note, with all its signature lines.
    pub fn note(&self) -> &Note {
        &self.note
    }

    /// The full note text to publish: body, blank line and every signature line.
    pub fn to_note_text(&self) -> String {
        self.note.to_string()
    }

    /// Attaches a witness cosignature line. Not verified here (the witness key is the
    /// verifier's policy); a second line from the same (name, key ID) replaces the first.
    pub fn add_cosignature(&mut self, cosignature: &Cosignature) -> Result<(), Error> {
        let line = cosignature.to_note_signature();
        if let Some(existing) =
            self.note.signatures.iter_mut().find(|existing| {
                existing.key_name == line.key_name && existing.key_id == line.key_id
            })
        {
            *existing = line;
            return Ok(());
        }
        self.note.push_signature(line)
    }

    /// The cosignatures from `witness_keys` that verify over this checkpoint. A line that
    /// matches a known witness key but does not verify rejects the checkpoint (signed-note
    /// rule); unknown lines are ignored.
    pub fn verified_cosignatures(
        &self,
        witness_keys: &[VerifierKey],
    ) -> Result<Vec<Cosignature>, Error> {
        let mut cosignatures: Vec<Cosignature> = Vec::new();
        for line in &self.note.signatures {
            let Some(witness_key) = witness_keys.iter().find(|witness_key| {
                witness_key.kind == KeyKind::CosignatureV1
                    && witness_key.name == line.key_name
                    && witness_key.key_id == line.key_id
            }) else {
                continue;
            };
            if cosignatures
                .iter()
                .any(|seen| seen.witness_name == line.key_name && seen.key_id == line.key_id)
            {
                return Err(Error::DuplicateSignature { key_name: line.key_name.clone() });
            }
            let cosignature = Cosignature::from_note_signature(line)?;
            cosignature.verify(witness_key, self.body())?;
            cosignatures.push(cosignature);
        }
        Ok(cosignatures)
    }
}

/// The message a tlog-cosignature/v1 Ed25519 cosignature signs.
pub fn cosignature_message(timestamp: u64, checkpoint_body: &str) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{checkpoint_body}")
}

fn split_cosignature_bytes(signature_bytes: &[u8]) -> Result<(u64, Signature), Error> {
    if signature_bytes.len() != TIMESTAMP_LEN + SIGNATURE_LEN {
        return Err(Error::MalformedCosignature(KEY_ID_LEN + signature_bytes.len()));
    }
    let (timestamp_bytes, signature_raw) = signature_bytes.split_at(TIMESTAMP_LEN);
    let mut timestamp_array = [0u8; TIMESTAMP_LEN];
    timestamp_array.copy_from_slice(timestamp_bytes);
    let mut signature_array = [0u8; SIGNATURE_LEN];
    signature_array.copy_from_slice(signature_raw);
    Ok((u64::from_be_bytes(timestamp_array), Signature::from_bytes(signature_array)))
}

/// A witness: its key name and signing key. Use one key per witness (the signed message does
/// not commit to the name).
#[derive(Debug)]
pub struct Cosigner {
    /// The witness key name, e.g. `witness.example.org/lotline`.
    name: String,
    /// The witness signing key.
    keypair: Keypair,
}

impl Cosigner {
    /// A witness named `name` signing with `keypair`.
    pub fn new(name: &str, keypair: Keypair) -> Result<Self, Error> {
        check_key_name(name)?;
        Ok(Self { name: name.to_owned(), keypair })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The verifier key (type `0x04`) others configure to trust this witness.
    pub fn verifier_key(&self) -> VerifierKey {
        let public_key = self.keypair.public_key();
        VerifierKey {
            name: self.name.clone(),
            key_id: key_id(&self.name, SIGNATURE_TYPE_COSIGNATURE_V1, &public_key),
            kind: KeyKind::CosignatureV1,
            public_key,
        }
    }
}

/// A tlog-cosignature/v1 Ed25519 cosignature: "as of `timestamp`, the largest consistent tree
/// head this witness has seen for the log has this root".
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Cosignature {
    /// The witness key name on the signature line.
    witness_name: String,
    /// The witness key ID (type `0x04`).
    key_id: KeyId,
    /// POSIX seconds at which the witness cosigned.
    timestamp: u64,
    /// Ed25519 over [`cosignature_message`].
    signature: Signature,
}

impl Cosignature {
    /// Cosigns a checkpoint body at `timestamp`.
    pub fn sign(cosigner: &Cosigner, checkpoint_body: &str, timestamp: u64) -> Self {
        let message = cosignature_message(timestamp, checkpoint_body);
        Self {
            witness_name: cosigner.name.clone(),
            key_id: key_id(
                &cosigner.name,
                SIGNATURE_TYPE_COSIGNATURE_V1,
                &cosigner.keypair.public_key(),
            ),
            timestamp,
            signature: cosigner.keypair.sign(message.as_bytes()),
        }
    }

    /// Reads a cosignature from a note signature line (not verified).
    pub fn from_note_signature(line: &NoteSignature) -> Result<Self, Error> {
        let (timestamp, signature) = split_cosignature_bytes(&line.signature_bytes)?;
        Ok(Self { witness_name: line.key_name.clone(), key_id: line.key_id, timestamp, signature })
    }

    /// Parses a cosignature line `— <name> <base64>` (not verified).
    pub fn parse_line(line: &str) -> Result<Self, Error> {
        Self::from_note_signature(&NoteSignature::parse_line(line)?)
    }

    /// The note signature line.
    pub fn to_note_signature(&self) -> NoteSignature {
        let mut signature_bytes = Vec::with_capacity(TIMESTAMP_LEN + SIGNATURE_LEN);
        signature_bytes.extend_from_slice(&self.timestamp.to_be_bytes());
        signature_bytes.extend_from_slice(&self.signature.to_bytes());
        NoteSignature { key_name: self.witness_name.clone(), key_id: self.key_id, signature_bytes }
    }

    /// The line `— <name> <base64(key id || timestamp || signature)>` (no newline).
    pub fn to_line(&self) -> String {
        self.to_note_signature().to_line()
    }

    /// Verifies this cosignature over `checkpoint_body` under `witness_key`.
    pub fn verify(&self, witness_key: &VerifierKey, checkpoint_body: &str) -> Result<(), Error> {
        if witness_key.kind != KeyKind::CosignatureV1
            || witness_key.name != self.witness_name
            || witness_key.key_id != self.key_id
        {
            return Err(Error::WrongWitnessKey { witness_name: self.witness_name.clone() });
        }
        let message = cosignature_message(self.timestamp, checkpoint_body);
        witness_key
            .public_key
            .verify(message.as_bytes(), &self.signature)
            .map_err(|_| Error::BadCosignature { witness_name: self.witness_name.clone() })
    }

    /// The witness key name.
    pub fn witness_name(&self) -> &str {
        &self.witness_name
    }

    /// The witness key ID.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// When the witness cosigned (POSIX seconds).
    pub fn timestamp(&self) -> u64 {
        self.timestamp
    }
}

/// Why a witness refuses to cosign (the tlog-witness `add-checkpoint` error cases).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessError {
    /// The checkpoint is for another log than the one previously cosigned (HTTP 404).
    #[error("checkpoint origin {found:?} is not the witnessed log {expected:?}")]
    UnknownOrigin {
        /// The witnessed log's origin.
        expected: String,
        /// The checkpoint's origin.
        found: String,
    },
    /// The checkpoint was not verified under the author's log key (HTTP 403).
    #[error("checkpoint is not signed by the log's key")]
    NotSignedByLog,
    /// The new checkpoint is smaller than the one already cosigned (HTTP 400/409).
    #[error("tree size {new_size} is smaller than the cosigned size {cosigned_size}")]
    SizeRegression {
        /// Size of the checkpoint cosigned before.
        cosigned_size: u64,
        /// Size of the offered checkpoint.
        new_size: u64,
    },
    /// Same size as the cosigned checkpoint but another root: proof of a fork (HTTP 422).
    #[error("tree size {size} was cosigned with a different root")]
    SameSizeDifferentRoot {
        /// The contested size.
        size: u64,
    },
    /// The consistency proof from the cosigned checkpoint does not verify (HTTP 422).
    #[error("consistency proof from the cosigned checkpoint does not verify: {0}")]
    BadConsistencyProof(merkle::Error),
}

/// The witness's decision, pure: cosign `new_checkpoint` at `timestamp` only if it is signed by
/// `author`'s log key and consistent with `previously_cosigned` via `consistency_proof`
/// (from the previous size to the new one; from size 0 when nothing was cosigned, so empty).
/// The caller MUST persist the new checkpoint as the latest cosigned before releasing the
/// cosignature.
pub fn witness_cosign(
    previously_cosigned: Option<&Checkpoint>,
    new_checkpoint: &SignedCheckpoint,
    consistency_proof: &[Hash],
    author: &PublicKey,
    witness: &Cosigner,
    timestamp: u64,
) -> Result<Cosignature, WitnessError> {
    let log_key = new_checkpoint.log_key();
    if log_key.public_key() != author
        || log_key.kind() != KeyKind::Ed25519
        || log_key.name() != new_checkpoint.checkpoint().origin
    {
        return Err(WitnessError::NotSignedByLog);
    }
    let new_tree_head = new_checkpoint.checkpoint();
    let (old_size, old_root) = match previously_cosigned {
        Some(previous) => {
            if previous.origin != new_tree_head.origin {
                return Err(WitnessError::UnknownOrigin {
                    expected: previous.origin.clone(),
                    found: new_tree_head.origin.clone(),
                });
            }
            if previous.size > new_tree_head.size {
                return Err(WitnessError::SizeRegression {
                    cosigned_size: previous.size,
                    new_size: new_tree_head.size,
                });
            }
            if previous.size == new_tree_head.size && previous.root != new_tree_head.root {
                return Err(WitnessError::SameSizeDifferentRoot { size: previous.size });
            }
            (previous.size, previous.root)
        }
        None => (0, merkle::EMPTY_ROOT),
    };
    merkle::verify_consistency(
        old_size,
        new_tree_head.size,
        &old_root,
        &new_tree_head.root,
        consistency_proof,
    )
    .map_err(WitnessError::BadConsistencyProof)?;
    Ok(Cosignature::sign(witness, new_checkpoint.body(), timestamp))
}
