//! The Lotline client library: a typed client for one node's HTTP API that re-verifies
//! everything it receives, plus the pure pieces the `lotline` CLI is built from.
//!
//! Owns: the transport and its error mapping ([`http`], [`error`]), the shapes of the answers
//! only the client reads ([`api`]), verification of signatures, feed links, inclusion proofs
//! and the witness policy ([`verify`]), the [`Client`] that ties them together ([`client`]),
//! the CLI's wording for identifiers it refuses ([`identifier`]), the CSV capture template
//! ([`csv_template`]), the FSMA 204 sortable spreadsheet ([`fsma204`]) and terminal tables
//! ([`render`]).
//!
//! Deliberately does not own any rule of the ledger: EPCIS validation and reading stored
//! events, GS1 syntax, what a trace subject is, which lots an event names, the trace and
//! recall answers and their evidence, entry signatures and Merkle proofs are
//! `lotline_ledger`'s, called or deserialised here so that the client and the node can never
//! disagree on what "valid" means.
//!
//! **Invariant:** nothing a node sends reaches a caller as trusted data before [`verify`] has
//! checked it; answers that fail are returned as [`Error::Verification`] or flagged
//! `verified: false`, never silently.

pub mod api;
pub mod client;
pub mod coldchain;
pub mod csv_masterdata;
pub mod csv_template;
pub mod error;
pub mod fsma204;
pub mod http;
pub mod identifier;
pub mod node_binary;
pub mod render;
pub mod verify;

pub use client::Client;
pub use error::{Error, ExitStatus};
