//! `lotline-bench`: every benchmark scenario, one JSON line each (see docs/performance.md).
fn main() {}
