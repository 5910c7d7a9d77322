//! Lotline client.
