//! Organisation keys and signatures: the ONLY file that names `ed25519_dalek` (and the curve
//! arithmetic under it, `curve25519_dalek`).
//!
//! Owns: generating and loading Ed25519 signing keys (key files written 0600), the public
//! [`PublicKey`] that identifies an organisation (and its lower-case hex form in JSON,
//! `hex_public_key`), [`Signature`], strict single verification and batch verification with a
//! fallback that names the first bad item.
//! Does not own: what is signed (see `codec`) or who is admitted (see `roster`).

use std::fmt;
use std::io::Write;
use std::path::Path;

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use ed25519_dalek::{Signer, SigningKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha512};

/// Length in bytes of a public key.
pub const PUBLIC_KEY_LEN: usize = 32;
/// Length in bytes of a signature.
pub const SIGNATURE_LEN: usize = 64;

/// Errors from key handling and signature checks.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The 32 bytes are not a valid (or are a weak) Ed25519 point.
    #[error("invalid public key {0}")]
    InvalidPublicKey(String),
    /// A signature did not verify under `verify_strict`.
    #[error("bad signature")]
    BadSignature,
    /// In a batch, the item at this index carries a bad signature.
    #[error("bad signature on item {index} of the batch")]
    BadSignatureInBatch {
        /// Position of the first failing item in the batch.
        index: usize,
    },
    /// In a batch, the item at this index names a key that is not a usable Ed25519 point.
    #[error("invalid public key {key} on item {index} of the batch")]
    InvalidKeyInBatch {
        /// Position of the first such item in the batch.
        index: usize,
        /// The key, in hex.
        key: String,
    },
    /// A key file could not be read or written.
    #[error("key file {path}: {source}")]
    KeyFile {
        /// The file involved.
        path: String,
        /// The underlying IO error.
        source: std::io::Error,
    },
    /// A key file exists but does not hold a key.
    #[error("key file {path}: {reason}")]
    MalformedKeyFile {
        /// The file involved.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The operating system's random source failed.
    #[error("no randomness available: {0}")]
    Randomness(String),
}

/// An organisation's public key; its identity on the network.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PublicKey(
    /// Raw Ed25519 public key bytes; kept raw so it orders and hashes cheaply.
    [u8; PUBLIC_KEY_LEN],
);

impl PublicKey {
    /// Wraps raw bytes after checking they are a usable Ed25519 key.
    pub fn from_bytes(bytes: [u8; PUBLIC_KEY_LEN]) -> Result<Self, Error> {
        Self(bytes).checked_dalek()?;
        Ok(Self(bytes))
    }

    /// Wraps raw bytes read from an entry header without the point checks (a decompression,
    /// the most expensive step of decoding an entry). Such a key is checked, once per
    /// distinct key, when the entry's signature is verified ([`verify_batch`],
    /// [`PublicKey::verify`]); until then it identifies a claimed author only.
    pub(crate) fn from_header_bytes(bytes: [u8; PUBLIC_KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// Parses the lower-case hex form.
    pub fn from_hex(text: &str) -> Result<Self, Error> {
        let raw = hex::decode(text.trim()).map_err(|_| Error::InvalidPublicKey(text.to_owned()))?;
        let bytes: [u8; PUBLIC_KEY_LEN] =
            raw.try_into().map_err(|_| Error::InvalidPublicKey(text.to_owned()))?;
        Self::from_bytes(bytes)
    }

    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8; PUBLIC_KEY_LEN] {
        &self.0
    }

    /// Lower-case hex, the form used in configs, URLs and JSON.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Checks `signature` over `message` with `verify_strict` (rejects malleable and small-order forms).
    pub fn verify(&self, message: &[u8], signature: &Signature) -> Result<(), Error> {
        let key = self.dalek()?;
        key.verify_strict(message, &signature.dalek()).map_err(|_| Error::BadSignature)
    }

    fn dalek(&self) -> Result<ed25519_dalek::VerifyingKey, Error> {
        ed25519_dalek::VerifyingKey::from_bytes(&self.0)
            .map_err(|_| Error::InvalidPublicKey(hex::encode(self.0)))
    }

    /// The dalek key after the full check: a valid point that is not of small order.
    fn checked_dalek(&self) -> Result<ed25519_dalek::VerifyingKey, Error> {
        let key = self.dalek()?;
        if key.is_weak() {
            return Err(Error::InvalidPublicKey(hex::encode(self.0)));
        }
        Ok(key)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "PublicKey({})", &self.to_hex()[..16])
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.to_hex())
    }
}

/// Serde helper: a public key as lower-case hex, the form every JSON answer, config and URL
/// names an organisation by (`#[serde(with = "crate::identity::hex_public_key")]`). The
/// derived form is the raw bytes, which JSON would write as an array of numbers.
pub(crate) mod hex_public_key {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::PublicKey;

    /// Writes the key as lower-case hex.
    pub(crate) fn serialize<S: Serializer>(
        key: &PublicKey,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&key.to_hex())
    }

    /// Reads a hex key (checked to be a usable Ed25519 key).
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<PublicKey, D::Error> {
        let text = String::deserialize(deserializer)?;
        PublicKey::from_hex(&text).map_err(serde::de::Error::custom)
    }
}

/// An Ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(
    /// Raw `R || s` bytes.
    [u8; SIGNATURE_LEN],
);

impl Signature {
    /// Wraps raw bytes; validity is only known once verified.
    pub fn from_bytes(bytes: [u8; SIGNATURE_LEN]) -> Self {
        Self(bytes)
    }

    /// Raw bytes.
    pub fn to_bytes(&self) -> [u8; SIGNATURE_LEN] {
        self.0
    }

    fn dalek(&self) -> ed25519_dalek::Signature {
        ed25519_dalek::Signature::from_bytes(&self.0)
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "Signature({}…)", hex::encode(&self.0[..8]))
    }
}

impl Serialize for Signature {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Signature {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw: Vec<u8> = serde::Deserialize::deserialize(deserializer)?;
        let bytes: [u8; SIGNATURE_LEN] =
            raw.try_into().map_err(|_| serde::de::Error::custom("a signature is 64 bytes"))?;
        Ok(Self(bytes))
    }
}

/// An organisation's secret signing key. Never serialised except to its key file.
pub struct Keypair {
    /// The dalek key; kept private so no other module depends on the crate.
    signing_key: SigningKey,
}

impl fmt::Debug for Keypair {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "Keypair({:?})", self.public_key())
    }
}

impl Keypair {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Result<Self, Error> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|error| Error::Randomness(error.to_string()))?;
        Ok(Self::from_seed(seed))
    }

    /// A key from a 32-byte seed (deterministic; tests and golden vectors use this).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self { signing_key: SigningKey::from_bytes(&seed) }
    }

    /// The 32-byte seed (to write the key file).
    pub fn seed(&self) -> [u8; 32] {
        self.signing_key.to_bytes()
    }

    /// The public half.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.signing_key.verifying_key().to_bytes())
    }

    /// Signs `message` (RFC 8032 Ed25519, deterministic).
    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature(self.signing_key.sign(message).to_bytes())
    }

    /// Writes the seed as hex to `path`, creating it with mode 0600 (never world-readable).
    pub fn write_to_file(&self, path: &Path) -> Result<(), Error> {
        let key_file_error = |source| Error::KeyFile { path: path.display().to_string(), source };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(key_file_error)?;
        file.write_all(format!("{}\n", hex::encode(self.seed())).as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(key_file_error)
    }

    /// Reads a key file written by [`Keypair::write_to_file`].
    pub fn read_from_file(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| Error::KeyFile { path: path.display().to_string(), source })?;
        let malformed = |reason: &str| Error::MalformedKeyFile {
            path: path.display().to_string(),
            reason: reason.to_owned(),
        };
        let raw = hex::decode(text.trim()).map_err(|_| malformed("not hex"))?;
        let seed: [u8; 32] = raw.try_into().map_err(|_| malformed("a key is 32 bytes"))?;
        Ok(Self::from_seed(seed))
    }
}

/// Verifies many `(key, message, signature)` triples at once.
///
/// One random linear combination of the items' verification equations is checked (the
/// Ed25519 batch equation, as ed25519-dalek's `verify_batch` checks it), with one change: the
/// terms of a key that signs several items of the batch are merged into one,
/// `(Σ zᵢ·hᵢ)·A` instead of `Σ (zᵢ·hᵢ)·A`. The sum is the same point (for a key without a
/// torsion component; a key with one keeps its terms apart), but a range of one feed then
/// costs one multiscalar product over n + 2 points instead of 2n + 1, and the n points that
/// remain carry 128-bit coefficients. `lotline-bench` measures its rate against the standard
/// batch's (`merged_verifier_per_s` against `ceiling_per_s`).
///
/// If the batch fails, falls back to strict one-by-one checks (`verify_strict`) to name the
/// first bad item; a batch whose equation fails although every item passes alone is refused
/// too. Weak keys are refused before any equation (their terms would vanish from it).
pub fn verify_batch(items: &[(PublicKey, &[u8], Signature)]) -> Result<(), Error> {
    if items.is_empty() {
        return Ok(());
    }
    let mut keys: Vec<(PublicKey, CurveKey)> = Vec::new();
    let mut key_slots = Vec::with_capacity(items.len());
    for (index, (key, _, _)) in items.iter().enumerate() {
        let slot = match keys.iter().position(|(seen, _)| seen == key) {
            Some(slot) => slot,
            None => {
                let curve_key = CurveKey::of(key)
                    .map_err(|_| Error::InvalidKeyInBatch { index, key: key.to_hex() })?;
                keys.push((*key, curve_key));
                keys.len() - 1
            }
        };
        key_slots.push(slot);
    }
    if batch_equation_holds(items, &keys, &key_slots) {
        return Ok(());
    }
    Err(first_bad_item(items))
}

/// After a failed batch equation: the first item that fails `verify_strict`. When every item
/// passes alone (cannot happen for honest inputs), the first item is blamed rather than the
/// batch accepted.
fn first_bad_item(items: &[(PublicKey, &[u8], Signature)]) -> Error {
    let index = items
        .iter()
        .position(|(key, message, signature)| key.verify(message, signature).is_err())
        .unwrap_or(0);
    Error::BadSignatureInBatch { index }
}

/// ed25519-dalek's own `verify_batch` over the same items, with the same fallback: the
/// standard batch verification. The benchmarks measure the machine's verification rate with
/// it, and the tests hold [`verify_batch`] to the same verdicts.
pub fn verify_batch_standard(items: &[(PublicKey, &[u8], Signature)]) -> Result<(), Error> {
    if items.is_empty() {
        return Ok(());
    }
    let mut messages = Vec::with_capacity(items.len());
    let mut signatures = Vec::with_capacity(items.len());
    let mut keys = Vec::with_capacity(items.len());
    let mut checked: Vec<(PublicKey, ed25519_dalek::VerifyingKey)> = Vec::new();
    for (index, (key, message, signature)) in items.iter().enumerate() {
        messages.push(*message);
        signatures.push(signature.dalek());
        let known = checked.iter().find(|(seen, _)| seen == key).map(|(_, dalek)| *dalek);
        let dalek = match known {
            Some(dalek) => dalek,
            None => {
                let dalek = key
                    .checked_dalek()
                    .map_err(|_| Error::InvalidKeyInBatch { index, key: key.to_hex() })?;
                checked.push((*key, dalek));
                dalek
            }
        };
        keys.push(dalek);
    }
    if ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok() {
        return Ok(());
    }
    Err(first_bad_item(items))
}

/// A checked key as a curve point, remembered per process: decompressing a key and testing it
/// for a torsion component cost a point multiplication, and a node meets the same few
/// hundred authors in every batch.
#[derive(Clone, Copy)]
struct CurveKey {
    /// The decompressed point.
    point: EdwardsPoint,
    /// Whether the point lies in the prime-order subgroup; only then may its terms be merged
    /// (a coefficient reduced modulo the group order moves a torsion component).
    torsion_free: bool,
}

/// Keys remembered by [`CurveKey::of`] before the memo is emptied (a bound, not a working
/// size: a consortium has far fewer organisations).
const CURVE_KEY_MEMO_LIMIT: usize = 4_096;

impl CurveKey {
    /// The point of `key` once checked (valid, not of small order), from the memo when met
    /// before.
    fn of(key: &PublicKey) -> Result<Self, Error> {
        static MEMO: OnceLock<Mutex<HashMap<PublicKey, CurveKey>>> = OnceLock::new();
        let memo = MEMO.get_or_init(Mutex::default);
        let lock = |memo: &'static Mutex<HashMap<PublicKey, CurveKey>>| {
            memo.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some(known) = lock(memo).get(key) {
            return Ok(*known);
        }
        let point = key.checked_dalek()?.to_edwards();
        let curve_key = Self { point, torsion_free: point.is_torsion_free() };
        let mut memo = lock(memo);
        if memo.len() >= CURVE_KEY_MEMO_LIMIT {
            memo.clear();
        }
        memo.insert(*key, curve_key);
        Ok(curve_key)
    }
}

/// Whether `[−Σ zᵢsᵢ]B + Σ [zᵢ]Rᵢ + Σ_keys [Σ zᵢhᵢ]A = 0` for coefficients zᵢ of 128 bits
/// drawn from a hash of every input (so no signer can choose signatures that cancel out).
/// `false` also when a signature is malformed (`s` not reduced, `R` not a point): the caller's
/// strict checks then name it.
fn batch_equation_holds(
    items: &[(PublicKey, &[u8], Signature)],
    keys: &[(PublicKey, CurveKey)],
    key_slots: &[usize],
) -> bool {
    let mut seed = Sha512::new();
    seed.update(BATCH_DOMAIN);
    let mut hrams = Vec::with_capacity(items.len());
    let mut s_values = Vec::with_capacity(items.len());
    let mut points = Vec::with_capacity(items.len() + keys.len() + 1);
    points.push(ED25519_BASEPOINT_POINT);
    for (key, message, signature) in items {
        let r_bytes: [u8; 32] = std::array::from_fn(|at| signature.0[at]);
        let s_bytes: [u8; 32] = std::array::from_fn(|at| signature.0[32 + at]);
        let Some(s_value) = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes)) else {
            return false;
        };
        let Some(r_point) = CompressedEdwardsY(r_bytes).decompress() else {
            return false;
        };
        let hram: [u8; 64] = Sha512::new()
            .chain_update(r_bytes)
            .chain_update(key.0)
            .chain_update(message)
            .finalize()
            .into();
        seed.update(hram);
        seed.update(s_bytes);
        hrams.push(Scalar::from_bytes_mod_order_wide(&hram));
        s_values.push(s_value);
        points.push(r_point);
    }
    let mut coefficients = Coefficients::new(seed.finalize().into());
    let mut scalars = Vec::with_capacity(points.capacity());
    scalars.push(Scalar::ZERO);
    let mut basepoint_coefficient = Scalar::ZERO;
    let mut merged = vec![Scalar::ZERO; keys.len()];
    let mut apart: Vec<(Scalar, EdwardsPoint)> = Vec::new();
    for ((hram, s_value), slot) in hrams.iter().zip(&s_values).zip(key_slots) {
        let z = coefficients.next_scalar();
        basepoint_coefficient += z * s_value;
        scalars.push(z);
        let curve_key = keys[*slot].1;
        if curve_key.torsion_free {
            merged[*slot] += z * hram;
        } else {
            apart.push((z * hram, curve_key.point));
        }
    }
    scalars[0] = -basepoint_coefficient;
    for ((_, curve_key), coefficient) in keys.iter().zip(merged) {
        if curve_key.torsion_free {
            scalars.push(coefficient);
            points.push(curve_key.point);
        }
    }
    for (coefficient, point) in apart {
        scalars.push(coefficient);
        points.push(point);
    }
    EdwardsPoint::vartime_multiscalar_mul(&scalars, &points).is_identity()
}

/// Domain separation for the seed of a batch's coefficients.
const BATCH_DOMAIN: &[u8] = b"lotline batch verification v1";

/// The batch coefficients: 128-bit scalars, four per SHA-512 block of `seed ‖ counter`.
struct Coefficients {
    /// The hash of every input of the batch.
    seed: [u8; 64],
    /// Blocks drawn so far.
    counter: u64,
    /// The current block.
    block: [u8; 64],
    /// Coefficients taken from `block`.
    taken: usize,
}

impl Coefficients {
    fn new(seed: [u8; 64]) -> Self {
        Self { seed, counter: 0, block: [0; 64], taken: 4 }
    }

    fn next_scalar(&mut self) -> Scalar {
        if self.taken == 4 {
            self.block = Sha512::new()
                .chain_update(self.seed)
                .chain_update(self.counter.to_le_bytes())
                .finalize()
                .into();
            self.counter += 1;
            self.taken = 0;
        }
        let start = self.taken * 16;
        self.taken += 1;
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&self.block[start..start + 16]);
        Scalar::from(u128::from_le_bytes(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify_round_trip_and_tamper_fails() {
        let keypair = Keypair::from_seed([7; 32]);
        let signature = keypair.sign(b"lot 42");
        keypair.public_key().verify(b"lot 42", &signature).unwrap();
        assert!(keypair.public_key().verify(b"lot 43", &signature).is_err());
    }

    #[test]
    fn batch_names_the_bad_item() {
        let keypairs: Vec<Keypair> = (0..8u8).map(|seed| Keypair::from_seed([seed; 32])).collect();
        let messages: Vec<Vec<u8>> = (0..8u8).map(|index| vec![index; 10]).collect();
        let mut items: Vec<(PublicKey, &[u8], Signature)> = keypairs
            .iter()
            .zip(&messages)
            .map(|(keypair, message)| {
                (keypair.public_key(), message.as_slice(), keypair.sign(message))
            })
            .collect();
        verify_batch(&items).unwrap();
        items[5].2 = keypairs[0].sign(b"other");
        assert!(matches!(verify_batch(&items), Err(Error::BadSignatureInBatch { index: 5 })));
    }

    #[test]
    fn batch_checks_keys_read_from_headers_and_names_the_bad_item() {
        let keypair = Keypair::from_seed([3; 32]);
        let signature = keypair.sign(b"lot");
        // The identity point: decompresses, but is of small order (a weak key).
        let mut weak = [0u8; PUBLIC_KEY_LEN];
        weak[0] = 1;
        assert!(PublicKey::from_bytes(weak).is_err());
        let items: Vec<(PublicKey, &[u8], Signature)> = vec![
            (keypair.public_key(), b"lot", signature),
            (PublicKey::from_header_bytes(weak), b"lot", signature),
        ];
        let error = verify_batch(&items).unwrap_err();
        assert!(matches!(error, Error::InvalidKeyInBatch { index: 1, .. }), "{error}");
    }

    /// The group order ℓ, little-endian.
    const GROUP_ORDER: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];

    /// `signature` with `s` replaced by `s + ℓ`: the same point equation, a non-reduced scalar.
    fn with_unreduced_s(signature: Signature) -> Signature {
        let mut bytes = signature.to_bytes();
        let mut carry = 0u16;
        for (byte, order_byte) in bytes[32..].iter_mut().zip(GROUP_ORDER) {
            let sum = u16::from(*byte) + u16::from(order_byte) + carry;
            *byte = sum as u8;
            carry = sum >> 8;
        }
        Signature::from_bytes(bytes)
    }

    /// 32 bytes that are not the encoding of a curve point.
    fn not_a_point() -> [u8; 32] {
        (2u8..)
            .map(|low| {
                let mut bytes = [0u8; 32];
                bytes[0] = low;
                bytes
            })
            .find(|bytes| CompressedEdwardsY(*bytes).decompress().is_none())
            .unwrap()
    }

    #[test]
    fn the_group_order_constant_is_the_group_order() {
        assert!(Option::<Scalar>::from(Scalar::from_canonical_bytes(GROUP_ORDER)).is_none());
        assert_eq!(Scalar::from_bytes_mod_order(GROUP_ORDER), Scalar::ZERO);
    }

    /// Seeded batches of several signers, some with one item spoiled in one of five ways: the
    /// merged-terms verifier gives the standard batch verifier's verdict every time.
    #[test]
    fn merged_batch_gives_the_standard_verdicts() {
        let keypairs: Vec<Keypair> =
            (0..4u8).map(|seed| Keypair::from_seed([seed + 1; 32])).collect();
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move |bound: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % bound as u64) as usize
        };
        let mut spoiled_batches = 0;
        for round in 0..300 {
            let length = 1 + next(40);
            let messages: Vec<Vec<u8>> = (0..length)
                .map(|item| format!("round {round} item {item} {}", next(1000)).into_bytes())
                .collect();
            let mut items: Vec<(PublicKey, &[u8], Signature)> = messages
                .iter()
                .map(|message| {
                    let keypair = &keypairs[next(keypairs.len())];
                    (keypair.public_key(), message.as_slice(), keypair.sign(message))
                })
                .collect();
            if next(2) == 0 {
                spoiled_batches += 1;
                let target = next(length);
                let signature = items[target].2;
                items[target].2 = match next(5) {
                    0 => keypairs[0].sign(b"another message"),
                    1 => with_unreduced_s(signature),
                    2 => {
                        let mut bytes = signature.to_bytes();
                        bytes[..32].copy_from_slice(&not_a_point());
                        Signature::from_bytes(bytes)
                    }
                    3 => {
                        // R the identity (small order), s unchanged.
                        let mut bytes = signature.to_bytes();
                        bytes[..32].copy_from_slice(&[
                            1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                            0, 0, 0, 0, 0, 0, 0, 0,
                        ]);
                        Signature::from_bytes(bytes)
                    }
                    _ => {
                        let mut bytes = signature.to_bytes();
                        bytes[40] ^= 1;
                        Signature::from_bytes(bytes)
                    }
                };
                let merged = verify_batch(&items);
                let standard = verify_batch_standard(&items);
                match (merged, standard) {
                    (
                        Err(Error::BadSignatureInBatch { index: merged }),
                        Err(Error::BadSignatureInBatch { index: standard }),
                    ) => {
                        assert_eq!(merged, standard, "round {round}");
                        assert_eq!(merged, target, "round {round}");
                    }
                    (merged, standard) => panic!("round {round}: {merged:?} against {standard:?}"),
                }
            } else {
                verify_batch(&items).unwrap();
                verify_batch_standard(&items).unwrap();
            }
        }
        assert!(spoiled_batches > 100, "{spoiled_batches}");
    }

    /// A key with a torsion component keeps its own terms (merging them would move the
    /// torsion part), and a forged signature under it is still named.
    #[test]
    fn a_key_with_a_torsion_component_is_not_merged() {
        use curve25519_dalek::constants::EIGHT_TORSION;
        let keypair = Keypair::from_seed([9; 32]);
        let honest = CurveKey::of(&keypair.public_key()).unwrap();
        assert!(honest.torsion_free);
        let mixed_bytes = (honest.point + EIGHT_TORSION[1]).compress().to_bytes();
        let mixed = PublicKey::from_bytes(mixed_bytes).unwrap();
        assert!(!CurveKey::of(&mixed).unwrap().torsion_free);
        let items: Vec<(PublicKey, &[u8], Signature)> = vec![
            (keypair.public_key(), b"one", keypair.sign(b"one")),
            (mixed, b"two", keypair.sign(b"two")),
            (keypair.public_key(), b"three", keypair.sign(b"three")),
        ];
        assert!(matches!(verify_batch(&items), Err(Error::BadSignatureInBatch { index: 1 })));
    }

    #[test]
    fn a_large_batch_of_one_signer_verifies_and_a_late_forgery_is_named() {
        let keypair = Keypair::from_seed([5; 32]);
        let messages: Vec<Vec<u8>> =
            (0..600u32).map(|index| index.to_le_bytes().to_vec()).collect();
        let mut items: Vec<(PublicKey, &[u8], Signature)> = messages
            .iter()
            .map(|message| (keypair.public_key(), message.as_slice(), keypair.sign(message)))
            .collect();
        verify_batch(&items).unwrap();
        items[599].2 = keypair.sign(b"not item 599");
        assert!(matches!(verify_batch(&items), Err(Error::BadSignatureInBatch { index: 599 })));
    }

    #[test]
    fn key_file_is_private_and_round_trips() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("org.key");
        let keypair = Keypair::generate().unwrap();
        keypair.write_to_file(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let reread = Keypair::read_from_file(&path).unwrap();
        assert_eq!(reread.public_key(), keypair.public_key());
    }
}
