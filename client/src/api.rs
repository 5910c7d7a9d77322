//! The node's HTTP answers as typed values (see `docs/http-api.md`), exactly as they arrive,
//! before verification.
//!
//! Owns the JSON shapes only. Unknown fields are kept (`extra`) or ignored so a newer node does
//! not break an older client. Does not decide whether an answer can be trusted: the evidence
//! fields are handed to [`crate::verify`] by [`crate::Client`].

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
}

/// One consignee in a trace or recall answer: who received how much, where and when.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Consignee {
    /// The receiving party (GLN Digital Link or name), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party: Option<String>,
    /// The receiving location (GLN Digital Link), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The quantity shipped to it, when the events carried one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<f64>,
    /// The UN/CEFACT Rec 20 unit of `quantity` (`KGM`, `EA`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uom: Option<String>,
    /// The date of the handoff (RFC 3339), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// The lot (canonical Digital Link) it received, when the node says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lot: Option<String>,
    /// Everything else the node said about the handoff (ship-from, shipped_at, received_at,
    /// documents, the shipping and receiving events), kept for `--json`.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Consignee {
    /// The handoff date: `date`, else when it was received, else when it was shipped.
    pub fn best_date(&self) -> Option<&str> {
        self.date.as_deref().or_else(|| {
            ["received_at", "shipped_at"]
                .into_iter()
                .find_map(|field| self.extra.get(field).and_then(Value::as_str))
        })
    }
}

/// A reference from an answer to the feed entry that carries one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryReference {
    /// The feed's author (public key hex).
    pub author: String,
    /// The entry's position in that feed.
    pub sequence: u64,
    /// The entry's hash (hex).
    pub entry_hash: String,
    /// The hash id of the EPCIS event the entry carries.
    #[serde(default)]
    pub event_hash_id: Option<String>,
}

/// `GET /trace/back`, `GET /trace/forward` and `POST /recall/scope` (whose `trace` object
/// is lifted to the top by [`TraceAnswer::from_value`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TraceAnswer {
    /// The identifier the node traced from, canonicalised.
    #[serde(default)]
    pub subject: Value,
    /// Every identifier the walk started from (several for a recall over many lots).
    #[serde(default)]
    pub subjects: Vec<String>,
    /// Every lot reached (canonical Digital Links).
    #[serde(default)]
    pub lots: Vec<String>,
    /// Who received what (forward traces and recall scopes).
    #[serde(default)]
    pub consignees: Vec<Consignee>,
    /// The hash ids of every event the answer relies on.
    #[serde(default)]
    pub events: Vec<String>,
    /// The feed entries carrying those events.
    #[serde(default)]
    pub entries: Vec<EntryReference>,
    /// Gaps the node noticed (an unconfirmed handoff, a feed it does not replicate).
    #[serde(default)]
    pub warnings: Vec<Value>,
    /// What is not yet sold, consumed or destroyed (forward traces).
    #[serde(default)]
    pub in_distribution: Vec<Value>,
    /// A proof bundle over every entry relied on; verified before anything else is used.
    #[serde(default)]
    pub evidence: Value,
    /// Everything else the node sent (kept for `--json` and exports).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl TraceAnswer {
    /// Decodes a trace answer, or a recall scope `{"hazard", "implicated_lots", "trace": {…},
    /// "evidence"}` whose `trace` object holds the trace answer.
    pub fn from_value(mut value: Value) -> Result<Self, serde_json::Error> {
        if let Some(Value::Object(trace)) = value.get_mut("trace").map(Value::take)
            && let Value::Object(outer) = &mut value
        {
            outer.remove("trace");
            for (key, field) in trace {
                outer.entry(key).or_insert(field);
            }
        }
        serde_json::from_value(value)
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
        let answer = TraceAnswer::from_value(recall_scope).unwrap();
        assert_eq!(answer.lots.len(), 1);
        assert_eq!(answer.subjects, answer.lots);
        assert_eq!(answer.consignees[0].quantity, Some(12.5));
        assert_eq!(answer.consignees[0].best_date(), Some("2026-03-03T16:30:00Z"));
        assert_eq!(answer.evidence["bundles"], json!([]));
        assert_eq!(answer.extra["implicated_lots"].as_array().map(Vec::len), Some(1));
        let reserialised = serde_json::to_value(&answer.consignees[0]).unwrap();
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
