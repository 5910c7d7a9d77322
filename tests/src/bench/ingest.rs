//! Scenario `ingest` (being written).
