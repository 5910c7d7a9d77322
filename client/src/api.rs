//! The node's HTTP answers as typed values (see `docs/http-api.md`), exactly as they arrive,
//! before verification.
//!
//! Owns the JSON shapes of the answers only the client reads (health, roster, feeds, capture
//! jobs, records). Trace and recall replies and their evidence are the ledger's types
//! (`lotline_ledger::trace::{TraceReply, RecallReply}`, `lotline_ledger::proof::Evidence`),
//! which the node serialises, re-exported here. Unknown fields are kept (`extra`) or ignored so
//! a newer node does not break an older client. Does not decide whether an answer can be
//! trusted: the evidence is handed to [`crate::verify`] by [`crate::Client`].

pub use lotline_ledger::proof::Evidence;
pub use lotline_ledger::trace::{ExcursionRef, Names, RecallReply, TraceAnswer, TraceReply};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `GET /health`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Health {
    /// `ok` when the node is serving.
    pub status: String,
    /// The node's human name.
    #[serde(default)]
    pub name: String,
    /// The organisation's public key (hex): the author of this node's feed.
    #[serde(default)]
    pub organisation: String,
    /// The libp2p peer id.
    #[serde(default)]
    pub peer_id: String,
    /// How many entries the node holds across all feeds.
    #[serde(default)]
    pub entries: u64,
    /// How many peers it is connected to.
    #[serde(default)]
    pub peers: u64,
}

/// `GET /roster`: who is admitted and in which roles.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Roster {
    /// The network's name.
    #[serde(default)]
    pub network: String,
    /// The admitted organisations.
    #[serde(default)]
    pub members: Vec<RosterMember>,
}

/// One admitted organisation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RosterMember {
    /// Ed25519 public key, hex: the author id of its feed.
    pub public_key: String,
    /// Display name, used in tables instead of the key.
    #[serde(default)]
    pub name: String,
    /// The organisation's GLN, when it has one.
    #[serde(default)]
    pub gln: Option<String>,
    /// `producer`, `carrier`, `lab`, `regulator`, … (decides which record kinds it may sign).
    #[serde(default)]
    pub roles: Vec<String>,
}

/// The capture job of `POST /capture` and `GET /capture/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaptureJob {
    /// The job id (also in the `Location` header).
    #[serde(rename = "captureID", default)]
    pub capture_id: String,
    /// Whether the job is still running (the node captures synchronously, so normally false).
    #[serde(default)]
    pub running: bool,
    /// Whether every event was stored.
    #[serde(default)]
    pub success: bool,
    /// `rollback`: one bad event stores nothing.
    #[serde(default)]
    pub capture_error_behaviour: String,
    /// Error lines, when `success` is false.
    #[serde(default)]
    pub errors: Vec<Value>,
    /// The hash ids of the stored events, in document order.
    #[serde(rename = "eventIDs", default)]
    pub event_ids: Vec<String>,
    /// Master-data statements signed by this capture.
    #[serde(rename = "statementsRecorded", default)]
    pub statements_recorded: usize,
    /// Master-data statements already in force unchanged (a retry), not signed again.
    #[serde(rename = "statementsUnchanged", default)]
    pub statements_unchanged: usize,
}

/// `GET /trace/back|forward` and `POST /recall/scope` as the node sent them: the ledger's
/// own reply types, so the client reads exactly what the node serialises.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// A trace back or forward, with its subject and evidence.
    Trace(TraceReply),
    /// A recall scope (hazard, implicated lots, the forward trace) with its evidence.
    Recall(RecallReply),
}

impl Reply {
    /// The walk's answer: the trace, or the recall scope's forward trace.
    pub fn answer(&self) -> &TraceAnswer {
        match self {
            Self::Trace(reply) => &reply.answer,
            Self::Recall(reply) => &reply.answer.trace,
        }
    }

    /// The subject a trace started from (canonical); a recall scope has none.
    pub fn subject(&self) -> Option<&str> {
        match self {
            Self::Trace(reply) => Some(&reply.subject),
            Self::Recall(_) => None,
        }
    }

    /// The names of what the answer mentions, with their sources.
    pub fn names(&self) -> &Names {
        match self {
            Self::Trace(reply) => &reply.names,
            Self::Recall(reply) => &reply.names,
        }
    }

    /// The excursions in force the reply says the answer's lots carry.
    pub fn excursions(&self) -> &[ExcursionRef] {
        match self {
            Self::Trace(reply) => &reply.excursions,
            Self::Recall(reply) => &reply.excursions,
        }
    }

    /// The evidence as sent, before verification.
    pub fn evidence(&self) -> &Evidence {
        match self {
            Self::Trace(reply) => &reply.evidence,
            Self::Recall(reply) => &reply.evidence,
        }
    }

    /// The evidence, to be replaced by what was read apart from the reply.
    pub fn evidence_mut(&mut self) -> &mut Evidence {
        match self {
            Self::Trace(reply) => &mut reply.evidence,
            Self::Recall(reply) => &mut reply.evidence,
        }
    }

    /// Decodes a recall scope. The node flattens the forward trace into the scope's object;
    /// a scope whose trace arrives nested as `"trace": {…}` is read the same way.
    pub fn recall_from_value(mut value: Value) -> Result<Self, serde_json::Error> {
        if let Some(Value::Object(trace)) = value.get_mut("trace").map(Value::take)
            && let Value::Object(outer) = &mut value
        {
            outer.remove("trace");
            for (key, field) in trace {
                outer.entry(key).or_insert(field);
            }
        }
        serde_json::from_value(value).map(Self::Recall)
    }
}

/// `GET /feeds` item.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FeedSummary {
    /// The feed's author (public key hex).
    pub author: String,
    /// The author's name from the roster.
    #[serde(default)]
    pub name: String,
    /// How many entries the node holds.
    #[serde(default)]
    pub size: u64,
    /// The head entry hash (hex), or none for an empty feed.
    #[serde(default)]
    pub head: Option<String>,
    /// Whether the node froze the feed after a fork proof.
    #[serde(default)]
    pub frozen: bool,
}

/// `POST /records` answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordReceipt {
    /// The hash of the entry that now carries the record (hex); it names a recall notice.
    pub entry_hash: String,
    /// Its position in the author's feed.
    #[serde(default)]
    pub sequence: u64,
}

/// One item of `GET /records?kind=K`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordItem {
    /// The author (public key hex).
    #[serde(default)]
    pub author: String,
    /// The carrying entry's hash (hex).
    #[serde(default)]
    pub entry_hash: String,
    /// The carrying entry's position.
    #[serde(default)]
    pub sequence: Option<u64>,
    /// The record itself (`{"kind": …, …}`).
    #[serde(default)]
    pub record: Value,
    /// Everything else the node sent (e.g. the entry wire bytes as evidence).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `GET /records` answer, accepted either as a bare list or as `{"records": [...]}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RecordList {
    /// A bare JSON array.
    Bare(Vec<RecordItem>),
    /// An object wrapping the array.
    Wrapped {
        /// The records.
        records: Vec<RecordItem>,
    },
}

impl RecordList {
    /// The records, whichever shape arrived.
    pub fn into_items(self) -> Vec<RecordItem> {
        match self {
            Self::Bare(items) | Self::Wrapped { records: items } => items,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_recall_scope_is_read_as_its_trace_answer_with_the_evidence_kept() {
        let recall_scope = json!({
            "hazard": "lots",
            "implicated_lots": ["https://id.gs1.org/01/09506000134352/10/A"],
            "trace": {
                "subjects": ["https://id.gs1.org/01/09506000134352/10/A"],
                "lots": ["https://id.gs1.org/01/09506000134352/10/A"],
                "consignees": [{"lot": "https://id.gs1.org/01/09506000134352/10/A",
                                "party": "https://id.gs1.org/417/4012345000115",
                                "quantity": 12.5, "uom": "KGM", "shipped_at": "2026-03-03T16:30:00Z",
                                "documents": []}],
                "events": ["ni:///sha-256;ab?ver=CBV2.0"],
                "entries": [],
                "warnings": [],
            },
            "evidence": {"bundles": [], "unproven": []},
        });
        let reply = Reply::recall_from_value(recall_scope).unwrap();
        let answer = reply.answer();
        assert_eq!(answer.lots.len(), 1);
        assert_eq!(
            answer.subjects.iter().map(String::as_str).collect::<Vec<_>>(),
            answer.lots.iter().map(AsRef::as_ref).collect::<Vec<&str>>()
        );
        assert_eq!(answer.consignees[0].quantity, Some(12.5));
        assert_eq!(
            crate::render::handoff_date(&answer.consignees[0]),
            Some("2026-03-03T16:30:00Z")
        );
        assert_eq!(reply.evidence().bundles, vec![]);
        let Reply::Recall(recall) = &reply else { panic!("a recall reply") };
        assert_eq!(recall.answer.implicated_lots.len(), 1);
        let reserialised = crate::render::consignee_json(&answer.consignees[0]);
        assert_eq!(reserialised["uom"], "KGM");
        assert_eq!(reserialised["shipped_at"], "2026-03-03T16:30:00Z");
    }

    #[test]
    fn records_arrive_bare_or_wrapped() {
        let bare: RecordList = serde_json::from_value(
            json!([{"kind": "recall_notice", "author": "aa", "entry_hash": "bb"}]),
        )
        .unwrap();
        assert_eq!(bare.into_items()[0].entry_hash, "bb");
        let wrapped: RecordList =
            serde_json::from_value(json!({"records": [{"author": "aa", "entry_hash": "cc"}]}))
                .unwrap();
        assert_eq!(wrapped.into_items()[0].entry_hash, "cc");
    }
}
