//! The Lotline client library: a typed client for one node's HTTP API that re-verifies
//! everything it receives, plus the pure pieces the `lotline` CLI is built from.
//!
//! Owns: the transport and its error mapping ([`http`], [`error`]), the node's answer shapes
//! ([`api`]), verification of signatures, feed links, inclusion proofs and the witness policy
//! ([`verify`]), the [`Client`] that ties them together ([`client`]), identifier handling for
//! trace subjects ([`identifier`]), the CSV capture template ([`csv_template`]), the FSMA 204
//! sortable spreadsheet ([`fsma204`]) and terminal tables ([`render`]).
//!
//! Deliberately does not own any rule of the ledger: EPCIS validation, GS1 syntax, entry
//! signatures and Merkle proofs are `lotline_ledger`'s, called here so that the client and the
//! node can never disagree on what "valid" means.
//!
//! **Invariant:** nothing a node sends reaches a caller as trusted data before [`verify`] has
//! checked it; answers that fail are returned as [`Error::Verification`] or flagged
//! `verified: false`, never silently.

pub mod api;
pub mod client;
pub mod csv_template;
pub mod error;
pub mod fsma204;
pub mod http;
pub mod identifier;
pub mod render;
pub mod verify;

pub use client::Client;
pub use error::{Error, ExitStatus};
