//! Lotline's ledger: the sans-IO core every other crate builds on.
//!
//! Owns the vocabulary (GS1 identifiers, EPCIS 2.0 events), the trust core (keys, canonical
//! bytes, signed hash-linked feeds, Merkle checkpoints and proofs, the roster), the durable
//! store, and the lot graph that answers trace and recall queries.
//! Deliberately does not own any network IO or async runtime: `node` and `client` do.

pub mod checkpoint;
pub mod codec;
pub mod coldchain;
pub mod entry;
pub mod epcis;
pub mod feed;
pub mod fork;
pub mod fsma204;
pub mod gs1;
pub mod identity;
pub mod masterdata;
pub mod merkle;
pub mod proof;
pub mod records;
pub mod roster;
pub mod store;
pub mod supervision;
pub mod trace;
