//! The node's faces for people and scanners: the GS1-Conformant resolver on the node's root
//! (`resolver`, with its RFC 9264 linksets in `linkset`), QR codes of Digital Links (`qr`), the
//! consumer page under `/view/...` (`page`, with its inline CSS and script in `assets`) and the
//! regulator dashboard under `/dashboard` (`dashboard`).
//!
//! Owns: the state those routes share ([`WebState`]) and the list of their routers
//! ([`routes`]), which the HTTP router merges. Does not own any ledger logic (every answer is
//! computed by [`Ledger`]), the JSON API (`crate::http`), nor Digital Link syntax
//! (`lotline_ledger::gs1`).

pub mod assets;
mod coldchain_view;
pub mod dashboard;
pub mod linkset;
pub mod page;
pub mod qr;
pub mod resolver;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;

use crate::state::Ledger;

/// What the web routes share: the node's ledger.
#[derive(Debug, Clone)]
pub struct WebState {
    /// The node's ledger.
    pub ledger: Arc<Ledger>,
}

impl WebState {
    /// The state over `ledger`.
    pub fn new(ledger: Arc<Ledger>) -> Self {
        WebState { ledger }
    }
}

/// What the web routes are given of the node's configuration.
#[derive(Debug, Clone, Copy)]
pub struct WebSettings {
    /// Bytes of rendered consumer pages (and their proofs) kept between requests.
    pub page_cache_bytes: usize,
}

impl FromRef<WebState> for Arc<Ledger> {
    fn from_ref(state: &WebState) -> Self {
        Arc::clone(&state.ledger)
    }
}

/// Every web route, over `state`; the HTTP router merges it beside the JSON API.
pub fn routes<S>(state: WebState, settings: WebSettings) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .merge(resolver::routes())
        .merge(qr::routes())
        .merge(page::routes(settings.page_cache_bytes))
        .merge(dashboard::routes())
        .with_state(state)
}
