//! Lotline node.
