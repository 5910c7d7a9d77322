//! The graph's interned ids: compact integers standing for nodes, events and strings.
//!
//! A leaf shared by the graph that hands the ids out (`graph`), the walks that read
//! them and the recall summaries that keep them between queries ([`super::summary`]). Owns
//! only the names; what each id indexes (and its tables) belongs to the graph.

/// Compact id of a node (lot, item, logistic unit, class or other identifier).
pub type NodeId = u32;
/// Compact id of an indexed event.
pub type EventId = u32;
/// Compact id of an interned string (place, party, document, unit, step).
pub type Symbol = u32;
