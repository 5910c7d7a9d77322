//! Scenarios `trace_forward`, `trace_back`, `recall_scope` (being written).
