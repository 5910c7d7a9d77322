//! Organisation keys and signatures: the ONLY file that names `ed25519_dalek`.
//!
//! Owns: generating and loading Ed25519 signing keys (key files written 0600), the public
//! [`PublicKey`] that identifies an organisation, [`Signature`], strict single verification and
//! batch verification with a fallback that names the first bad item.
//! Does not own: what is signed (see `codec`) or who is admitted (see `roster`).

use std::fmt;
use std::io::Write;
use std::path::Path;

use ed25519_dalek::{Signer, SigningKey};
use serde::{Deserialize, Serialize};

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
/// Uses Ed25519 batch verification (much faster per item); if the batch fails, falls back to
/// strict one-by-one checks to name the first bad item. A batch that passes is additionally
/// protected against the batch equation's leniency by rejecting weak keys at `PublicKey`
/// construction.
pub fn verify_batch(items: &[(PublicKey, &[u8], Signature)]) -> Result<(), Error> {
    if items.is_empty() {
        return Ok(());
    }
    let mut messages = Vec::with_capacity(items.len());
    let mut signatures = Vec::with_capacity(items.len());
    let mut keys = Vec::with_capacity(items.len());
    // A batch comes from few authors: check and decompress each distinct key once.
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
    for (index, (key, message, signature)) in items.iter().enumerate() {
        if key.verify(message, signature).is_err() {
            return Err(Error::BadSignatureInBatch { index });
        }
    }
    // The batch equation failed but every strict check passed: cannot happen for honest
    // inputs; treat the first item as the culprit rather than accepting.
    Err(Error::BadSignatureInBatch { index: 0 })
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
