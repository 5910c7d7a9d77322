//! GS1 identifiers (being written by the gs1 work).

/// The constrained canonical GS1 Digital Link (`https://id.gs1.org/...`, key + qualifiers only)
/// of an EPC URN or a Digital Link on any host; `None` when `identifier` is not a GS1 key.
pub fn canonical_digital_link(identifier: &str) -> Option<String> {
    let _ = identifier;
    None
}
