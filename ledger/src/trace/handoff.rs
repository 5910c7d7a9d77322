//! The rules that tie a shipment to its receipt, and the order answers list handoffs in.
//!
//! A receipt pairs with the latest earlier shipment of the same objects that matches it best
//! ([`handoff_match`]): a shared reference document first, then the receiving site or a
//! shared destination, then only a shared source. Endpoint types are compared as interned ids
//! resolved once per query ([`EndpointKinds`]), sites by their Digital Link without a GLN
//! extension ([`site`]). Handoffs are `Arc`-shared between answers and the recall summaries,
//! so an answer copies a pointer per handoff; [`sort_handoffs`] orders them by lot, times and
//! events, comparing shared texts by pointer first. Does not own finding candidate shipments
//! and receipts or memoising pairs (the walk's, see [`super::walk`]) nor the handoff's shape
//! (see [`super::answer`]).

use std::sync::Arc;

use super::answer::Handoff;
use super::graph::{EndpointPair, Graph, StoredEvent};
use super::ids::Symbol;
use super::text::Text;

/// How strongly a shipment and a receipt are two sides of one handoff (higher is stronger),
/// or `None` when they are not: they share a reference document (3); the receipt is at the
/// shipment's destination, or they name the same destination (2); they only name the same
/// source (1). A shipment whose ship-to location is another site than where the goods were
/// received is not that receipt's shipment unless a document ties them (the same producer
/// ships one lot to several customers: the source alone cannot tell them apart).
pub(super) fn handoff_match(
    graph: &Graph,
    kinds: &EndpointKinds,
    shipping: &StoredEvent,
    receiving: &StoredEvent,
) -> Option<u8> {
    let received_documents = graph.documents(receiving);
    let shares_document = graph.documents(shipping).iter().any(|shipped_document| {
        received_documents
            .iter()
            .any(|received_document| shipped_document.id == received_document.id)
    });
    if shares_document {
        return Some(3);
    }
    let shipped_to = graph.destinations(shipping);
    if let Some(received_at) = receiving.place() {
        let mut ship_to = shipped_to
            .iter()
            .filter(|destination| destination.kind() == kinds.location)
            .map(|destination| destination.id)
            .peekable();
        if ship_to.peek().is_some() {
            let same_site = |place: Symbol| {
                place == received_at || site(graph.symbol(place)) == site(graph.symbol(received_at))
            };
            return ship_to.any(same_site).then_some(2);
        }
    }
    let received_destinations = graph.destinations(receiving);
    let shares_destination =
        shipped_to.iter().any(|destination| received_destinations.contains(destination));
    if shares_destination {
        return Some(2);
    }
    let received_sources = graph.sources(receiving);
    let shares_source =
        graph.sources(shipping).iter().any(|source| received_sources.contains(source));
    shares_source.then_some(1)
}

/// The site of a place: its Digital Link without a GLN extension (`/254/…`), so a receipt at
/// a dock of a site matches a shipment to the site.
pub(super) fn site(place: &str) -> &str {
    // A byte scan: `str::find` sets up a substring searcher, which costs more than these
    // short links take to scan.
    let extension = place.as_bytes().windows(5).position(|window| window == b"/254/");
    extension.map_or(place, |extension| &place[..extension])
}

/// The interned CBV source/destination types a walk looks for, resolved once per query so
/// endpoints are compared by id rather than by text (`None`: never recorded, so never found).
#[derive(Debug, Clone, Copy)]
pub(super) struct EndpointKinds {
    owning_party: Option<Symbol>,
    possessing_party: Option<Symbol>,
    location: Option<Symbol>,
}

impl EndpointKinds {
    pub(super) fn of(graph: &Graph) -> Self {
        Self {
            owning_party: graph.find_symbol("owning_party"),
            possessing_party: graph.find_symbol("possessing_party"),
            location: graph.find_symbol("location"),
        }
    }

    /// The party an endpoint list names: its owning party, else its possessing party.
    pub(super) fn party(&self, endpoints: &[EndpointPair]) -> Option<Symbol> {
        endpoint_of(endpoints, self.owning_party)
            .or_else(|| endpoint_of(endpoints, self.possessing_party))
    }

    /// The location an endpoint list names.
    pub(super) fn location(&self, endpoints: &[EndpointPair]) -> Option<Symbol> {
        endpoint_of(endpoints, self.location)
    }
}

/// The id of the first endpoint of type `kind`.
pub(super) fn endpoint_of(endpoints: &[EndpointPair], kind: Option<Symbol>) -> Option<Symbol> {
    let kind = kind?;
    endpoints.iter().find(|endpoint| endpoint.kind() == Some(kind)).map(|endpoint| endpoint.id)
}

/// Sorts handoffs as answers list them: by lot, shipping time, receiving time, then events.
pub(super) fn sort_handoffs(handoffs: &mut [Arc<Handoff>]) {
    /// Texts of one answer are shared: the same time or lot is usually the same allocation,
    /// equal without reading it.
    fn text_order(left: &Text, right: &Text) -> std::cmp::Ordering {
        if Text::ptr_eq(left, right) { std::cmp::Ordering::Equal } else { left.cmp(right) }
    }
    fn optional_text_order(left: &Option<Text>, right: &Option<Text>) -> std::cmp::Ordering {
        match (left, right) {
            (Some(left), Some(right)) => text_order(left, right),
            _ => left.is_some().cmp(&right.is_some()),
        }
    }
    // Handoffs equal on this key are equal altogether (same lot and events): an unstable sort
    // gives the same order as a stable one, without a stable sort's scratch buffer.
    handoffs.sort_unstable_by(|left, right| {
        text_order(&left.lot, &right.lot)
            .then_with(|| optional_text_order(&left.shipped_at, &right.shipped_at))
            .then_with(|| optional_text_order(&left.received_at, &right.received_at))
            .then_with(|| left.shipping_event.cmp(&right.shipping_event))
            .then_with(|| left.receiving_event.cmp(&right.receiving_event))
    });
}
