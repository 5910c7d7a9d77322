//! Text shared between the graph and the answers built from it.
//!
//! A leaf: the graph interns strings as [`Text`], answers and recall summaries hold the same
//! allocations, and the node's query catalogue and the canonical-form caches share them too.
//! Owns only the type; who interns what belongs to the graph (see `graph`) and to
//! [`super::facts`].

use std::sync::Arc;

/// Text an answer shares with the index it came from (lot links, places, parties, units,
/// organisation keys, dates). A recall answer holds tens of thousands of these; sharing them
/// costs a reference count each instead of an allocation and a copy. Serialised as a string.
pub type Text = Arc<str>;
