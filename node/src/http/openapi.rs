//! The OpenAPI 3.1 description served at `/openapi.json`, derived from the code: each handler's
//! `#[utoipa::path]` (route, parameters, request body, every status it answers) and the
//! `ToSchema` of every reply type (the node's own in `crate::state`, the ledger's answers and
//! evidence in `lotline_ledger`).
//!
//! Owns: the document's assembly, the bearer security scheme, and the schemas of bodies the
//! handlers read as free JSON and check themselves (a hazard, a record, a served record), the
//! problem document of `error` and the problem responses several routes answer alike, and the
//! EPCIS documents, which are the standard's (described here and referenced, not restated). Does
//! not own routing (`router`), the problem mapping (`error`) nor any reply's shape (the reply
//! types own theirs).

use std::collections::BTreeMap;

use lotline_ledger::fork::ForkProof;
use lotline_ledger::proof::Evidence;
use lotline_ledger::trace::{RecallReply, TraceReply};
use serde::Deserialize;
use serde_json::Value;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::state;

/// The document, from the handlers and types listed here.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Lotline node API",
        description = "EPCIS 2.0 capture and query over signed, replicated feeds; trace, recall \
            and ledger records with the evidence to verify them. Errors are RFC 7807 problems \
            (`application/problem+json`) whose `type` is the EPCIS exception name."
    ),
    paths(
        super::index,
        super::health,
        super::metrics,
        super::openapi_document,
        super::roster,
        super::capture,
        super::capture_jobs,
        super::capture_job,
        super::events,
        super::events_stream,
        super::event,
        super::event_proof,
        super::feeds,
        super::feed_entries,
        super::feed_checkpoint,
        super::forks,
        super::trace_back,
        super::trace_forward,
        super::recall_scope,
        super::custody::custody,
        super::custody::handoffs,
        super::append_record,
        super::records,
        super::coldchain::excursions,
        super::masterdata::vocabularies,
        super::masterdata::vocabulary_history,
        crate::web::resolver::description,
    ),
    components(schemas(
        Problem,
        Resources,
        EpcisDocument,
        EpcisQueryDocument,
        EpcisEvent,
        Hazard,
        RecordRequest,
        StoredRecord,
        super::HealthReply,
        state::CaptureJob,
        state::MasterDataHistory,
        state::Roster,
        state::FeedSummary,
        state::FeedEntries,
        TraceReply,
        RecallReply,
        Evidence,
        ForkProof,
    )),
    modifiers(&BearerToken),
    tags(
        (name = "epcis", description = "EPCIS 2.0 capture and query"),
        (name = "feeds", description = "Signed feeds, checkpoints, proofs and fork proofs"),
        (name = "trace", description = "Trace and recall, each with its evidence"),
        (name = "records", description = "Ledger records: recalls, inspections, excursions, flags"),
        (name = "node", description = "The node itself"),
        (name = "notifications", description = "Notifications as they happen (Server-Sent Events)"),
    )
)]
pub(super) struct Document;

/// Adds the `bearer` scheme the writes name in their `security`.
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The node's API token (`api_token` in its config)"))
                    .build(),
            ),
        );
    }
}

/// The OpenAPI document as served.
pub(super) fn document() -> utoipa::openapi::OpenApi {
    Document::openapi()
}

/// The EPCIS 2.0 `SimpleEventQuery` parameters `GET /events` reads (`state::EventQuery`); any
/// other parameter is refused as unsupported.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, non_snake_case, reason = "parameters only: state::EventQuery reads them")]
pub(super) struct EventQueryParameters {
    /// Event types, comma-separated (`ObjectEvent,TransformationEvent`).
    eventType: Option<String>,
    /// Events at or after this time (RFC 3339 with offset).
    #[param(format = DateTime)]
    GE_eventTime: Option<String>,
    /// Events before this time.
    #[param(format = DateTime)]
    LT_eventTime: Option<String>,
    /// Events recorded at or after this time.
    #[param(format = DateTime)]
    GE_recordTime: Option<String>,
    /// Events recorded before this time.
    #[param(format = DateTime)]
    LT_recordTime: Option<String>,
    /// Actions, comma-separated (`ADD`, `OBSERVE`, `DELETE`).
    EQ_action: Option<String>,
    /// Business steps (CBV words or URIs), comma-separated.
    EQ_bizStep: Option<String>,
    /// Dispositions (CBV words or URIs), comma-separated.
    EQ_disposition: Option<String>,
    /// Read points (identifiers), comma-separated.
    EQ_readPoint: Option<String>,
    /// Business locations (identifiers), comma-separated.
    EQ_bizLocation: Option<String>,
    /// EPC patterns of `epcList`, comma-separated.
    MATCH_epc: Option<String>,
    /// EPC patterns of any EPC field, comma-separated.
    MATCH_anyEPC: Option<String>,
    /// Class patterns of `quantityList`, comma-separated.
    MATCH_epcClass: Option<String>,
    /// Class patterns of any class field, comma-separated.
    MATCH_anyEPCClass: Option<String>,
    /// Event ids, comma-separated.
    EQ_eventID: Option<String>,
    /// Events per page.
    #[param(minimum = 1, maximum = 1000)]
    perPage: Option<u32>,
    /// The `nextPageToken` of the previous page (as this node issued it).
    #[param(pattern = "^[0-9]{1,18}$")]
    nextPageToken: Option<String>,
}

/// The EPCIS 2.0 `SimpleMasterDataQuery` parameters `GET /vocabularies` reads
/// (`state::MasterDataQuery`); any other parameter is refused as unsupported. List values are
/// separated by `|`. `EQ_ATTR_<attribute>` (values of an attribute named by full IRI or CURIE,
/// `EQ_ATTR_cbvmda:city=Salinas`) is read too.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, non_snake_case, reason = "parameters only: state::MasterDataQuery reads them")]
pub(super) struct MasterDataQueryParameters {
    /// Vocabulary type URIs (`urn:epcglobal:epcis:vtype:EPCClass`, `BusinessLocation`,
    /// `ReadPoint`, `Location`, `Party`); all when absent.
    vocabularyName: Option<String>,
    /// Whether attributes are given (default true).
    includeAttributes: Option<bool>,
    /// Whether children are given (default true).
    includeChildren: Option<bool>,
    /// Only these attributes are given (full IRIs or CURIEs `cbvmda:`, `gs1:`).
    attributeNames: Option<String>,
    /// Only these identifiers (EPC URNs or Digital Links).
    EQ_name: Option<String>,
    /// Only these identifiers and their descendants through `children`.
    WD_name: Option<String>,
    /// Only elements having every one of these attributes.
    HASATTR: Option<String>,
    /// Refuse (413) an answer of more elements than this.
    #[param(minimum = 1, maximum = 10000)]
    maxElementCount: Option<u32>,
}

/// An RFC 7807 problem, as `error` writes every refusal and failure.
#[derive(ToSchema)]
#[allow(dead_code, reason = "a schema only: error.rs writes the problem")]
pub(super) struct Problem {
    /// The EPCIS exception name (`epcisException:ValidationException`, ...).
    r#type: String,
    /// The status's reason phrase.
    title: String,
    /// The HTTP status code.
    status: u16,
    /// What was wrong, naming the field, event or rule.
    detail: String,
    /// With `413`: the body limit in bytes, or the most lots one recall answer may name.
    #[schema(required = false)]
    limit: Option<u64>,
    /// With `413` for a recall scope: the lots the scope named.
    #[schema(required = false)]
    found: Option<u64>,
    /// With `413`: the size the client declared in `Content-Length`.
    #[schema(required = false)]
    received: Option<u64>,
}

/// The refusals and failures several routes answer alike, each a problem document under one
/// status. A handler's `#[utoipa::path]` names them in `responses(...)`; they are written into
/// each operation in full (not referenced), so every operation reads on its own.
macro_rules! problem_responses {
    ($(
        $(#[$doc:meta])*
        $name:ident = ($status:tt, $description:tt $(, $header:tt)?);
    )*) => {$(
        $(#[$doc])*
        #[derive(utoipa::IntoResponses)]
        #[response(
            status = $status,
            description = $description,
            content_type = "application/problem+json"
            $(, headers($header))?
        )]
        #[allow(dead_code, reason = "a response only: error.rs writes the problem")]
        pub(super) struct $name(Problem);
    )*};
}

problem_responses! {
    /// `500`: the store or the disk failed; the client is not at fault.
    Fault = (500, "a fault of this node (store, disk)");
    /// `401` on a route that always needs the token (a write).
    Unauthorized = (401, "no or a wrong API token");
    /// `401` on a query route, which a node may answer publicly.
    QueryUnauthorized = (401, "no or a wrong API token (unless the node answers queries publicly)");
    /// `503` on an expensive query when admission has no slot free.
    Busy = (503, "every slot for expensive queries is taken; retry after `Retry-After` seconds",
        ("Retry-After" = u64, description = "Seconds to wait"));
    /// `408` on a route that reads a body.
    BodyTimeout = (408, "the body stopped arriving for longer than the body read timeout; nothing stored");
    /// `413` on a write whose body is over its route's limit.
    BodyTooLarge = (413, "the body is larger than the limit; nothing stored");
    /// `415` on a route that reads JSON only.
    NotJson = (415, "the body is not `application/json`");
    /// `409` on a write by an organisation whose feed a fork proof froze.
    FeedFrozen = (409, "this organisation's feed is frozen by a fork proof");
    /// `404` on a route naming an event.
    NoSuchEvent = (404, "no event has this id");
    /// `400` on a trace whose `id` names nothing traceable.
    BadTraceId = (400, "`id` is missing or names no lot or item");
}

/// `GET /`: the top-level resources.
#[derive(ToSchema)]
#[allow(dead_code, reason = "a schema only: the index is written as JSON")]
pub(super) struct Resources {
    /// Paths of the resources.
    resources: Vec<String>,
}

/// An `EPCISDocument` (EPCIS 2.0 JSON-LD) as the standard's JSON schema defines it
/// (<https://ref.gs1.org/standards/epcis/epcis-json-schema.json>); the node validates it in full
/// and refuses it naming the event and field.
#[derive(ToSchema)]
#[schema(value_type = Object)]
pub(super) struct EpcisDocument(
    #[allow(dead_code, reason = "a schema only")] BTreeMap<String, Value>,
);

/// An `EPCISQueryDocument` answering a `SimpleEventQuery` (EPCIS 2.0 JSON-LD, as the standard's
/// JSON schema defines it: <https://ref.gs1.org/standards/epcis/epcis-json-schema.json>), plus
/// `nextPageToken` when more pages follow.
#[derive(ToSchema)]
#[schema(value_type = Object)]
pub(super) struct EpcisQueryDocument(
    #[allow(dead_code, reason = "a schema only")] BTreeMap<String, Value>,
);

/// One EPCIS 2.0 event as JSON-LD (as the standard's JSON schema defines an event:
/// <https://ref.gs1.org/standards/epcis/epcis-json-schema.json>), with its Event Hash ID as
/// `eventID` when the capturer gave none.
#[derive(ToSchema)]
#[schema(value_type = Object)]
pub(super) struct EpcisEvent(#[allow(dead_code, reason = "a schema only")] BTreeMap<String, Value>);

/// `POST /recall/scope`: what a hazard names. One of three shapes; the first key present of
/// `lots`, `facility`, `ingredient` decides which.
#[derive(ToSchema, Deserialize)]
#[serde(untagged)]
#[allow(dead_code, reason = "a schema only: http::trace reads the hazard")]
pub(super) enum Hazard {
    /// Named lots.
    Lots {
        /// Digital Links, EPC URNs or `GTIN/LOT`, at least one.
        #[schema(min_items = 1)]
        lots: Vec<String>,
    },
    /// Everything that passed through a facility in a window.
    Facility {
        /// The facility's GLN (13 digits, valid check digit).
        facility: String,
        /// Start of the window (RFC 3339).
        #[schema(format = DateTime)]
        from: Option<String>,
        /// End of the window (RFC 3339).
        #[schema(format = DateTime)]
        to: Option<String>,
    },
    /// Every lot made with an ingredient in a window.
    Ingredient {
        /// The ingredient's GTIN.
        ingredient: String,
        /// Start of the window (RFC 3339).
        #[schema(format = DateTime)]
        from: Option<String>,
        /// End of the window (RFC 3339).
        #[schema(format = DateTime)]
        to: Option<String>,
    },
}

/// Recall classes as written (`I`, `II`, `III`; digits are read too).
#[derive(ToSchema, Deserialize)]
#[allow(dead_code, reason = "a schema only")]
pub(super) enum RecallClass {
    /// Class I.
    I,
    /// Class II.
    II,
    /// Class III.
    III,
}

/// An inspection's verdict.
#[derive(ToSchema, Deserialize)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code, reason = "a schema only")]
pub(super) enum Verdict {
    /// Passed.
    Pass,
    /// Failed.
    Fail,
    /// Neither.
    Inconclusive,
}

/// One measured value of an inspection.
#[derive(ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code, reason = "a schema only")]
pub(super) struct MeasuredValue {
    /// What was measured.
    name: String,
    /// A finite number or a text.
    #[schema(value_type = Value)]
    value: Value,
    /// Its unit.
    unit: Option<String>,
}

/// The entry a record refers to (the recall notice a recall acknowledgement answers, the
/// excursion record an excursion acknowledgement answers).
#[derive(ToSchema, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code, reason = "a schema only")]
pub(super) struct NoticeRef {
    /// The notice's author (64 hex digits).
    author: String,
    /// Its position in that feed.
    sequence: u64,
    /// Its entry hash (64 hex digits).
    entry_hash: String,
}

/// `POST /records`: one ledger record, by `kind`. Unknown fields are refused, naming them;
/// whether this organisation's role may write the kind is the roster's (`403` otherwise).
#[derive(ToSchema, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[allow(dead_code, reason = "a schema only: http::records reads the record")]
pub(super) enum RecordRequest {
    /// A regulator's recall notice.
    RecallNotice {
        /// The recall's id.
        recall_id: String,
        /// Its class (`I` when absent).
        class: Option<RecallClass>,
        /// The recalled lots, at least one.
        #[schema(min_items = 1)]
        lots: Vec<String>,
        /// The hazard in words.
        hazard: String,
        /// What holders must do.
        instructions: Option<String>,
        /// The recall-scope query the lots were found with.
        scope: Option<Hazard>,
    },
    /// A holder's acknowledgement of a recall notice.
    RecallAck {
        /// The notice's entry.
        notice: NoticeRef,
        /// The recall's id.
        recall_id: String,
        /// What the holder did.
        action: String,
        /// How much the holder held.
        quantity_held: Option<String>,
    },
    /// A lab's inspection result.
    InspectionResult {
        /// The lots inspected, at least one.
        #[schema(min_items = 1)]
        lots: Vec<String>,
        /// The test.
        test: String,
        /// The verdict.
        verdict: Verdict,
        /// When the sample was taken (RFC 3339).
        #[schema(format = DateTime)]
        sampled_at: String,
        /// The report's reference.
        report: Option<String>,
        /// Measured values.
        values: Option<Vec<MeasuredValue>>,
    },
    /// A temperature (or other) excursion.
    Excursion {
        /// The lots affected, at least one.
        #[schema(min_items = 1)]
        lots: Vec<String>,
        /// What was measured.
        measurement: String,
        /// The limit broken.
        limit: String,
        /// What was observed.
        observed: String,
        /// When it started (RFC 3339).
        #[schema(format = DateTime)]
        started: String,
        /// When it ended (RFC 3339).
        #[schema(format = DateTime)]
        ended: Option<String>,
    },
    /// An acknowledgement of an excursion record by an organisation that held the goods
    /// during it; refused while the excursion is ongoing or by a non-custodian.
    ExcursionAck {
        /// The excursion record's entry.
        excursion: NoticeRef,
        /// `sensor_lost`, `assessed`, `discarded` or `other`.
        reason: String,
        /// What `other` means, in words (with `other` only).
        text: Option<String>,
    },
    /// A regulator's flag on an organisation.
    SupervisionFlag {
        /// The organisation's key (64 hex digits).
        subject: String,
        /// Why.
        reason: String,
        /// Whether the flag is raised (`true` when absent).
        active: Option<bool>,
    },
    /// A roster change governance approved, published by a regulator's node: the change file
    /// `lotline-node governance` writes (not listed by `GET /records`).
    RosterChange {
        /// The network the approvals are for.
        network: String,
        /// The roster version the change applies at.
        roster_version: u64,
        /// One of `{"admit": {key, name, gln, roles, prefixes}}`, `{"set_roles": {key, roles}}`,
        /// `{"set_prefixes": {key, prefixes}}`, `{"remove": {key}}`,
        /// `{"resolve_fork": {author, sequence, keep}}`.
        change: Value,
        /// Governance approvals, `{"key", "signature"}` in hex.
        approvals: Option<Vec<Value>>,
    },
}

/// `GET /records`: one record as served: the fields of its kind as written (see
/// [`RecordRequest`]), its entry's place and time, and its proof once a checkpoint covers it.
#[derive(ToSchema, serde::Serialize)]
#[allow(dead_code, reason = "a schema only: http::records writes the record")]
pub(super) struct StoredRecord {
    /// `recall_notice`, `recall_ack`, `inspection_result`, `excursion`, `excursion_ack` or
    /// `supervision_flag`.
    kind: String,
    /// The author's key (hex).
    author: String,
    /// The entry's position in the author's feed.
    sequence: u64,
    /// The entry's hash (hex).
    entry_hash: String,
    /// When the entry was signed (RFC 3339).
    record_time: String,
    /// The proof of the entry, once a checkpoint covers it.
    #[schema(required = false)]
    proof: Option<Evidence>,
    /// The fields of the record's kind.
    #[serde(flatten)]
    fields: BTreeMap<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every route of `router()` is documented under the method it answers, and nothing else.
    #[test]
    fn the_document_lists_every_route_and_no_other() {
        let document = serde_json::to_value(document()).unwrap();
        let mut documented: Vec<String> = Vec::new();
        for (path, item) in document["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                documented.push(format!("{method} {path}"));
            }
        }
        documented.sort();
        let mut routed = vec![
            "get /",
            "get /health",
            "get /metrics",
            "get /openapi.json",
            "get /roster",
            "post /capture",
            "get /capture",
            "get /capture/{captureID}",
            "get /events",
            "get /events/stream",
            "get /events/{eventID}",
            "get /events/{eventID}/proof",
            "get /feeds",
            "get /feeds/{author}/entries",
            "get /feeds/{author}/checkpoint",
            "get /forks",
            "get /trace/back",
            "get /trace/forward",
            "post /recall/scope",
            "get /custody",
            "get /handoffs",
            "get /excursions",
            "post /records",
            "get /records",
            "get /vocabularies",
            "get /vocabularies/history",
            "get /.well-known/gs1resolver",
        ];
        routed.sort();
        assert_eq!(documented, routed);
    }

    /// Writes need the token, and say so; every error is a problem document.
    #[test]
    fn writes_name_the_bearer_scheme_and_errors_are_problems() {
        let document = serde_json::to_value(document()).unwrap();
        assert_eq!(document["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
        for (path, method) in [("/capture", "post"), ("/records", "post")] {
            let operation = &document["paths"][path][method];
            assert_eq!(operation["security"][0]["bearer"], serde_json::json!([]), "{path}");
            assert!(operation["responses"]["401"].is_object(), "{path}");
            assert!(operation["responses"]["413"].is_object(), "{path}");
        }
        for (path, item) in document["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                for (status, response) in operation["responses"].as_object().unwrap() {
                    if status.starts_with('4') || status.starts_with('5') {
                        assert!(
                            response["content"]["application/problem+json"].is_object(),
                            "{method} {path} {status}"
                        );
                    }
                }
            }
        }
        let capture = &document["paths"]["/capture"]["post"]["responses"];
        assert!(capture["202"]["headers"]["Location"].is_object());
        let per_page = document["paths"]["/events"]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|parameter| parameter["name"] == "perPage")
            .unwrap();
        assert_eq!(per_page["schema"]["type"], "integer");
    }
}
