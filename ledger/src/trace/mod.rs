//! The lot graph: trace back, trace forward, one step up / down and recall scope.
//!
//! Owns an in-memory index over every event of every feed ([`Index`]), kept up to date by
//! [`Index::apply`] on each append and rebuildable by replaying all entries, and the queries
//! over it, each answering with the entries it relied on so a client can verify the answer.
//! Also owns a seeded generator of synthetic supply chains ([`synthetic`]) used by the tests
//! and the benchmark.
//!
//! Deliberately does not own any IO, signatures or the feeds themselves (see `feed`, `store`),
//! nor GS1 identifier syntax (see `gs1`) or EPCIS parsing (see `epcis`): the graph is built
//! from [`facts::Facts`], a small EPCIS-free digest of one event.
//!
//! Layers, bottom up; a module imports only from modules named before it (checked by
//! reading the `use` lines: there are no import circles):
//! - leaves: [`text`] (text shared by the graph and answers), [`ids`] (interned ids),
//!   [`hash_id`] (Event Hash IDs), [`event_ref`] (an event's entry), [`time_format`] (dates
//!   as answers write them);
//! - [`facts`] (event → facts), [`subject`] (what a user typed → a canonical Digital Link),
//!   [`names`] (names from the roster and master data, with their sources), [`answer`] (the
//!   answer shapes), [`window`] (directions, hazards, time windows), [`excursions`] (the
//!   excursions in force a reply carries, read from the cold-chain book);
//! - `graph` (facts → interned graph: its upkeep, layout and primitive reads);
//! - [`summary`] (each unit's part of a recall answer kept between queries, and the rule for
//!   forgetting it);
//! - the walk's parts: `memos` (the per-thread memo pool), `amounts` (quantities per holder),
//!   `handoff` (shipment–receipt matching rules), `relied` (the relied-on lists and their
//!   sorts), then `walk` (one query's pass over the graph);
//! - [`query`] (what each query starts from), then [`index`] ([`Index`]: the graph and the
//!   summaries behind one type, the only `impl Index`).
//!
//! Beside them, [`synthetic`] generates supply chains (EPCIS events with stand-in entries)
//! for the tests and the benchmark.
//!
//! **Invariant:** every query terminates in time linear in the part of the graph it visits:
//! each lot is expanded once, pallet nesting is bounded, and cycles recorded by mistake are
//! reported as warnings instead of being followed again.
//!
//! **Invariant:** an event counts once however many entries carry its Event Hash ID (captured
//! again, or by two organisations): the first entry by (author, sequence) not declared in
//! error is relied on and the others are copies, so answers do not depend on arrival order.

pub mod answer;
pub mod event_ref;
pub mod excursions;
pub mod facts;
pub mod hash_id;
pub mod ids;
pub mod index;
pub mod names;
pub mod query;
pub mod subject;
pub mod summary;
pub mod synthetic;
pub mod text;
pub mod time_format;
pub mod window;

mod amounts;
mod graph;
mod handoff;
mod memos;
mod relied;
mod walk;

pub use answer::{
    Handoff, Holder, LotDetail, LotMaster, OneStepAnswer, Origin, OriginKind, Position,
    RecallAnswer, TraceAnswer, Visit, Warning,
};
pub use answer::{RecallReply, TraceReply};
pub use event_ref::EventRef;
pub use excursions::{ExcursionFigures, ExcursionRef};
pub use graph::{Applied, IndexStats};
pub use hash_id::EventHashId;
pub use index::Index;
pub use names::{NameSource, Names, OrganisationName};
pub use subject::{Subject, SubjectError};
pub use text::Text;
pub use time_format::format_time;
pub use window::{Direction, Hazard, TimeWindow, WindowError};
