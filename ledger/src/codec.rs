//! Canonical bytes: the ONLY module that names `bincode` and the one home of every signed layout.
//!
//! Owns: the bincode 2.0.1 configuration (fixed-width little-endian integers, a hard size limit),
//! the domain tags, the version byte, the byte layout of an entry (header, envelope, body), the
//! field and payload commitments that make selective disclosure possible, and the entry hash.
//! `docs/wire-format.md` specifies every byte written here; golden vectors in
//! `ledger/tests/feed_golden.rs` freeze it.
//! Does not own: what the values mean (see `feed`, `records`, `roster`) or signatures (see
//! `identity`).
//!
//! bincode is pinned to `=2.0.1` (3.0.0 is a `compile_error!` tombstone and the crate is
//! unmaintained); nothing outside this file depends on it, so replacing it means rewriting this
//! file against the golden vectors and nothing else.

use sha2::{Digest, Sha256};

/// The entry format version carried as the first header byte. Decoders reject any other value.
pub const ENTRY_VERSION: u8 = 1;

/// Largest accepted wire entry, in bytes.
///
/// Matches the `uint16` length prefix of C2SP tlog-tiles entry bundles, so every entry can be
/// served in a standard bundle; it also bounds every allocation a decoder makes.
pub const MAX_ENTRY_LEN: usize = 65_535;

/// Length of the signed header in bytes (fixed: every field has a fixed width).
pub const HEADER_LEN: usize = 1 + 32 + 8 + 32 + 8 + 1 + 32;

/// Length of the envelope (header followed by the 64-byte signature); also the Merkle leaf.
pub const ENVELOPE_LEN: usize = HEADER_LEN + 64;

/// Length of a per-field salt. 128 bits keep a withheld low-entropy value (a price, a count)
/// from being guessed by hashing candidates.
pub const SALT_LEN: usize = 16;

/// Domain tag prefixed to the header before signing.
pub const TAG_ENTRY_SIGNATURE: &[u8] = b"lotline/entry-signature\0";
/// Domain tag prefixed to the envelope when computing the entry hash.
pub const TAG_ENTRY_HASH: &[u8] = b"lotline/entry-hash\0";
/// Domain tag of a field commitment.
pub const TAG_FIELD_COMMITMENT: &[u8] = b"lotline/field-commitment\0";
/// Domain tag of a payload commitment (the value the header signs).
pub const TAG_PAYLOAD_COMMITMENT: &[u8] = b"lotline/payload-commitment\0";
/// Domain tag of a governance approval of a roster change.
pub const TAG_ROSTER_APPROVAL: &[u8] = b"lotline/roster-approval\0";
/// Domain tag of the governance signatures over a genesis document.
pub const TAG_GENESIS: &[u8] = b"lotline/genesis\0";
/// Domain tag used when deriving per-field salts from an entry's salt seed.
pub const TAG_SALT_DERIVATION: &[u8] = b"lotline/field-salt\0";

/// Body opening tag: the field value and its salt follow.
const OPENING_DISCLOSED: u8 = 0;
/// Body opening tag: only the field's commitment follows.
const OPENING_WITHHELD: u8 = 1;

/// The one bincode configuration: fixed-width little-endian integers (every value has exactly
/// one encoding, unlike varints) and a limit that stops a hostile length prefix from allocating.
fn configuration() -> bincode::config::Configuration<
    bincode::config::LittleEndian,
    bincode::config::Fixint,
    bincode::config::Limit<MAX_ENTRY_LEN>,
> {
    bincode::config::standard().with_fixed_int_encoding().with_limit::<MAX_ENTRY_LEN>()
}

/// Errors turning bytes into values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes do not decode as the expected layout.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// Which structure was being decoded.
        what: &'static str,
        /// The decoder's complaint.
        reason: String,
    },
    /// The value decoded but bytes were left over; a canonical encoding has none.
    #[error("malformed {what}: {count} trailing bytes")]
    TrailingBytes {
        /// Which structure was being decoded.
        what: &'static str,
        /// How many bytes were left.
        count: usize,
    },
    /// The input exceeds [`MAX_ENTRY_LEN`].
    #[error("entry of {length} bytes exceeds the limit of {MAX_ENTRY_LEN}")]
    TooLong {
        /// The offending length.
        length: usize,
    },
    /// A value could not be encoded (only when it exceeds the size limit).
    #[error("cannot encode {what}: {reason}")]
    Encode {
        /// Which structure was being encoded.
        what: &'static str,
        /// The encoder's complaint.
        reason: String,
    },
}

/// A value with a canonical bincode form: plain integers, byte arrays, `Vec`, `String`, `bool`,
/// `Option` and tuples of those. Lets other modules build layouts from std types without
/// naming bincode.
pub trait Canonical: bincode::Encode + bincode::Decode<()> {}

impl<Value: bincode::Encode + bincode::Decode<()>> Canonical for Value {}

/// Encodes `value` canonically.
pub fn encode<Value: Canonical>(value: &Value, what: &'static str) -> Result<Vec<u8>, Error> {
    bincode::encode_to_vec(value, configuration())
        .map_err(|error| Error::Encode { what, reason: error.to_string() })
}

/// Decodes exactly one canonical value from all of `bytes` (trailing bytes are an error).
pub fn decode<Value: Canonical>(bytes: &[u8], what: &'static str) -> Result<Value, Error> {
    let (value, consumed) = decode_prefix(bytes, what)?;
    if consumed != bytes.len() {
        return Err(Error::TrailingBytes { what, count: bytes.len() - consumed });
    }
    Ok(value)
}

/// Decodes one canonical value from the start of `bytes`, returning it and the bytes consumed.
fn decode_prefix<Value: Canonical>(
    bytes: &[u8],
    what: &'static str,
) -> Result<(Value, usize), Error> {
    bincode::decode_from_slice(bytes, configuration())
        .map_err(|error| Error::Malformed { what, reason: error.to_string() })
}

/// The signed header fields, in wire order, as raw values (the `feed` module gives them types).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawHeader {
    /// Format version; always [`ENTRY_VERSION`] when encoding.
    pub version: u8,
    /// Author's Ed25519 public key.
    pub author: [u8; 32],
    /// Position in the author's feed, from 0.
    pub sequence: u64,
    /// Entry hash of the previous entry (all zeros for sequence 0).
    pub previous: [u8; 32],
    /// Record time in milliseconds since the Unix epoch (UTC).
    pub record_time_ms: i64,
    /// Payload kind code.
    pub payload_kind: u8,
    /// Commitment to the payload fields.
    pub payload_commitment: [u8; 32],
}

type HeaderTuple = (u8, [u8; 32], u64, [u8; 32], i64, u8, [u8; 32]);

/// Encodes the header (exactly [`HEADER_LEN`] bytes).
pub fn encode_header(header: &RawHeader) -> Vec<u8> {
    let tuple: HeaderTuple = (
        header.version,
        header.author,
        header.sequence,
        header.previous,
        header.record_time_ms,
        header.payload_kind,
        header.payload_commitment,
    );
    // A fixed-width tuple of 114 bytes never reaches the size limit.
    encode(&tuple, "entry header").unwrap_or_default()
}

/// The message an author signs: the signature domain tag followed by the header bytes.
pub fn signing_message(header_bytes: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(TAG_ENTRY_SIGNATURE.len() + header_bytes.len());
    message.extend_from_slice(TAG_ENTRY_SIGNATURE);
    message.extend_from_slice(header_bytes);
    message
}

/// One field of a payload as carried on the wire: opened, or replaced by its commitment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawOpening {
    /// The field's value with the salt that hides it in the commitment.
    Disclosed {
        /// Per-field salt.
        salt: [u8; SALT_LEN],
        /// The field's canonical bytes.
        value: Vec<u8>,
    },
    /// The field is withheld; only its commitment travels.
    Withheld {
        /// The field commitment.
        commitment: [u8; 32],
    },
}

/// A decoded wire entry, not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawEntry {
    /// The signed header.
    pub header: RawHeader,
    /// The author's signature over [`signing_message`].
    pub signature: [u8; 64],
    /// The payload fields in order.
    pub openings: Vec<RawOpening>,
}

/// Encodes a whole wire entry: header, signature, then the body (a count and the openings).
pub fn encode_entry(
    header_bytes: &[u8],
    signature: &[u8; 64],
    openings: &[RawOpening],
) -> Result<Vec<u8>, Error> {
    let mut wire = Vec::with_capacity(ENVELOPE_LEN + 64 + body_size_hint(openings));
    wire.extend_from_slice(header_bytes);
    wire.extend_from_slice(signature);
    wire.extend_from_slice(&encode(&(openings.len() as u64), "body")?);
    for opening in openings {
        let opening_bytes = match opening {
            RawOpening::Disclosed { salt, value } => {
                encode(&(OPENING_DISCLOSED, *salt, value.clone()), "disclosed field")?
            }
            RawOpening::Withheld { commitment } => {
                encode(&(OPENING_WITHHELD, *commitment), "withheld field")?
            }
        };
        wire.extend_from_slice(&opening_bytes);
    }
    if wire.len() > MAX_ENTRY_LEN {
        return Err(Error::TooLong { length: wire.len() });
    }
    Ok(wire)
}

fn body_size_hint(openings: &[RawOpening]) -> usize {
    openings
        .iter()
        .map(|opening| match opening {
            RawOpening::Disclosed { value, .. } => 1 + SALT_LEN + 8 + value.len(),
            RawOpening::Withheld { .. } => 33,
        })
        .sum()
}

/// Decodes a whole wire entry (no signature or commitment check: see `feed`).
pub fn decode_entry(wire: &[u8]) -> Result<RawEntry, Error> {
    if wire.len() > MAX_ENTRY_LEN {
        return Err(Error::TooLong { length: wire.len() });
    }
    if wire.len() < ENVELOPE_LEN {
        return Err(Error::Malformed {
            what: "entry",
            reason: format!(
                "{} bytes is shorter than the {ENVELOPE_LEN}-byte envelope",
                wire.len()
            ),
        });
    }
    let (header_bytes, rest) = wire.split_at(HEADER_LEN);
    let (signature_bytes, body) = rest.split_at(64);
    let tuple: HeaderTuple = decode(header_bytes, "entry header")?;
    let header = RawHeader {
        version: tuple.0,
        author: tuple.1,
        sequence: tuple.2,
        previous: tuple.3,
        record_time_ms: tuple.4,
        payload_kind: tuple.5,
        payload_commitment: tuple.6,
    };
    let mut signature = [0u8; 64];
    signature.copy_from_slice(signature_bytes);
    let (count, mut offset): (u64, usize) = decode_prefix(body, "body")?;
    // Every opening takes at least 33 bytes, so a larger count cannot be honest.
    if count > (body.len() / 33) as u64 {
        return Err(Error::Malformed {
            what: "body",
            reason: format!("{count} fields cannot fit in {} bytes", body.len()),
        });
    }
    let mut openings = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let remaining = &body[offset..];
        let Some(&tag) = remaining.first() else {
            return Err(Error::Malformed { what: "body", reason: "missing field".to_owned() });
        };
        match tag {
            OPENING_DISCLOSED => {
                let ((_, salt, value), consumed): ((u8, [u8; SALT_LEN], Vec<u8>), usize) =
                    decode_prefix(remaining, "disclosed field")?;
                openings.push(RawOpening::Disclosed { salt, value });
                offset += consumed;
            }
            OPENING_WITHHELD => {
                let ((_, commitment), consumed): ((u8, [u8; 32]), usize) =
                    decode_prefix(remaining, "withheld field")?;
                openings.push(RawOpening::Withheld { commitment });
                offset += consumed;
            }
            other => {
                return Err(Error::Malformed {
                    what: "body",
                    reason: format!("unknown field opening tag {other}"),
                });
            }
        }
    }
    if offset != body.len() {
        return Err(Error::TrailingBytes { what: "entry", count: body.len() - offset });
    }
    Ok(RawEntry { header, signature, openings })
}

/// SHA-256 of `parts` concatenated.
fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// The commitment to one field:
/// `SHA-256(TAG_FIELD_COMMITMENT ‖ kind ‖ u32le index ‖ salt ‖ u64le len ‖ value)`.
pub fn field_commitment(
    payload_kind: u8,
    index: u32,
    salt: &[u8; SALT_LEN],
    value: &[u8],
) -> [u8; 32] {
    sha256(&[
        TAG_FIELD_COMMITMENT,
        &[payload_kind],
        &index.to_le_bytes(),
        salt,
        &(value.len() as u64).to_le_bytes(),
        value,
    ])
}

/// The commitment the header signs:
/// `SHA-256(TAG_PAYLOAD_COMMITMENT ‖ kind ‖ u64le count ‖ field commitment…)`.
pub fn payload_commitment(payload_kind: u8, field_commitments: &[[u8; 32]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(TAG_PAYLOAD_COMMITMENT);
    hasher.update([payload_kind]);
    hasher.update((field_commitments.len() as u64).to_le_bytes());
    for commitment in field_commitments {
        hasher.update(commitment);
    }
    hasher.finalize().into()
}

/// The per-field salt an author derives from a secret 32-byte seed:
/// `SHA-256(TAG_SALT_DERIVATION ‖ seed ‖ u32le index)[..16]`. Only authors use it; verifiers
/// only see the resulting salts, so revealing one field reveals nothing about the others.
pub fn derive_field_salt(seed: &[u8; 32], index: u32) -> [u8; SALT_LEN] {
    let digest = sha256(&[TAG_SALT_DERIVATION, seed, &index.to_le_bytes()]);
    let mut salt = [0u8; SALT_LEN];
    salt.copy_from_slice(&digest[..SALT_LEN]);
    salt
}

/// The entry hash: `SHA-256(TAG_ENTRY_HASH ‖ envelope)`, where the envelope is the header and
/// signature (the first [`ENVELOPE_LEN`] wire bytes). Withholding payload fields changes the body
/// but never the envelope, so a redacted copy keeps the entry's hash and Merkle leaf.
pub fn entry_hash(envelope: &[u8]) -> [u8; 32] {
    sha256(&[TAG_ENTRY_HASH, envelope])
}

/// Plain SHA-256, for callers that need a digest of canonical bytes (index keys, genesis ids).
pub fn digest(bytes: &[u8]) -> [u8; 32] {
    sha256(&[bytes])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_fixed_width_little_endian() {
        assert_eq!(encode(&1u64, "test").unwrap(), vec![1, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            encode(&"ab".to_owned(), "test").unwrap(),
            vec![2, 0, 0, 0, 0, 0, 0, 0, b'a', b'b']
        );
        assert_eq!(encode(&[7u8; 3], "test").unwrap(), vec![7, 7, 7]);
    }

    #[test]
    fn trailing_bytes_and_hostile_lengths_are_rejected() {
        assert!(matches!(
            decode::<u8>(&[1, 2], "test"),
            Err(Error::TrailingBytes { count: 1, .. })
        ));
        let hostile = u64::MAX.to_le_bytes();
        assert!(matches!(decode::<Vec<u8>>(&hostile, "test"), Err(Error::Malformed { .. })));
    }

    #[test]
    fn header_has_its_fixed_length() {
        let header = RawHeader {
            version: ENTRY_VERSION,
            author: [1; 32],
            sequence: 2,
            previous: [3; 32],
            record_time_ms: -4,
            payload_kind: 5,
            payload_commitment: [6; 32],
        };
        assert_eq!(encode_header(&header).len(), HEADER_LEN);
    }
}
