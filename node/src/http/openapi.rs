//! The OpenAPI 3 description served at `/openapi.json`, built from one table of routes so it
//! cannot drift from `router()` silently (a test compares the two).

use serde_json::{Value, json};

/// One documented operation: method, path, summary, whether it needs the token, parameters.
pub(super) struct Operation {
    /// HTTP method, lower case.
    pub method: &'static str,
    /// Path template in OpenAPI syntax.
    pub path: &'static str,
    /// One line for humans.
    pub summary: &'static str,
    /// Needs `Authorization: Bearer <token>`.
    pub needs_token: bool,
    /// Query parameter names.
    pub query: &'static [&'static str],
}

/// Every route of the API.
pub(super) const OPERATIONS: &[Operation] = &[
    Operation {
        method: "get",
        path: "/",
        summary: "Top-level resources",
        needs_token: false,
        query: &[],
    },
    Operation {
        method: "get",
        path: "/health",
        summary: "Liveness and a summary of the node",
        needs_token: false,
        query: &[],
    },
    Operation {
        method: "get",
        path: "/metrics",
        summary: "Prometheus metrics",
        needs_token: false,
        query: &[],
    },
    Operation {
        method: "get",
        path: "/openapi.json",
        summary: "This document",
        needs_token: false,
        query: &[],
    },
    Operation {
        method: "get",
        path: "/roster",
        summary: "Admitted organisations and roles",
        needs_token: false,
        query: &[],
    },
    Operation {
        method: "post",
        path: "/capture",
        summary: "Capture an EPCISDocument (JSON-LD or XML); every event is signed into this organisation's feed",
        needs_token: true,
        query: &[],
    },
    Operation {
        method: "get",
        path: "/capture",
        summary: "Capture jobs",
        needs_token: false,
        query: &[],
    },
    Operation {
        method: "get",
        path: "/capture/{captureID}",
        summary: "One capture job",
        needs_token: false,
        query: &[],
    },
    Operation {
        method: "get",
        path: "/events",
        summary: "EPCIS query (EPCISQueryDocument)",
        needs_token: false,
        query: &[
            "eventType",
            "GE_eventTime",
            "LT_eventTime",
            "GE_recordTime",
            "LT_recordTime",
            "EQ_action",
            "EQ_bizStep",
            "EQ_disposition",
            "EQ_readPoint",
            "EQ_bizLocation",
            "MATCH_epc",
            "MATCH_anyEPC",
            "MATCH_epcClass",
            "MATCH_anyEPCClass",
            "EQ_eventID",
            "perPage",
            "nextPageToken",
        ],
    },
    Operation {
        method: "get",
        path: "/events/{eventID}",
        summary: "One event",
        needs_token: false,
        query: &[],
    },
    Operation {
        method: "get",
        path: "/events/{eventID}/proof",
        summary: "Proof bundle for the entry carrying an event",
        needs_token: false,
        query: &[],
    },
    Operation {
        method: "get",
        path: "/feeds",
        summary: "Feeds held by this node",
        needs_token: false,
        query: &[],
    },
    Operation {
        method: "get",
        path: "/feeds/{author}/entries",
        summary: "A range of a feed's signed entries",
        needs_token: false,
        query: &["from", "limit"],
    },
    Operation {
        method: "get",
        path: "/feeds/{author}/checkpoint",
        summary: "A feed's latest signed (and cosigned) checkpoint",
        needs_token: false,
        query: &[],
    },
    Operation {
        method: "get",
        path: "/forks",
        summary: "Fork proofs held by this node",
        needs_token: false,
        query: &[],
    },
    Operation {
        method: "get",
        path: "/trace/back",
        summary: "Trace a lot back to its origins",
        needs_token: false,
        query: &["id"],
    },
    Operation {
        method: "get",
        path: "/trace/forward",
        summary: "Trace a lot forward to every consignee",
        needs_token: false,
        query: &["id"],
    },
    Operation {
        method: "post",
        path: "/recall/scope",
        summary: "Recall scope of a hazard (lots, facility + window, ingredient + window)",
        needs_token: false,
        query: &[],
    },
    Operation {
        method: "post",
        path: "/records",
        summary: "Append a ledger record (recall, acknowledgement, inspection, excursion, supervision flag)",
        needs_token: true,
        query: &[],
    },
    Operation {
        method: "get",
        path: "/records",
        summary: "Ledger records on every replicated feed",
        needs_token: false,
        query: &["kind"],
    },
];

/// The OpenAPI document.
pub(super) fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for operation in OPERATIONS {
        let path_parameters: Vec<Value> = operation
            .path
            .split('/')
            .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let query_parameters = operation
            .query
            .iter()
            .map(|name| json!({"name": name, "in": "query", "required": false, "schema": {"type": "string"}}));
        let parameters: Vec<Value> = path_parameters.into_iter().chain(query_parameters).collect();
        let mut body = json!({
            "summary": operation.summary,
            "parameters": parameters,
            "responses": {
                "200": {"description": "success"},
                "default": {"description": "RFC 7807 problem", "content": {"application/problem+json": {}}}
            }
        });
        if operation.method == "post" {
            body["responses"]["413"] = json!({
                "description": format!("body larger than {} bytes; nothing stored", super::MAX_BODY_BYTES),
                "content": {"application/problem+json": {}}
            });
        }
        if operation.needs_token {
            body["security"] = json!([{"bearer": []}]);
        }
        let entry = paths.entry(operation.path.to_owned()).or_insert_with(|| json!({}));
        entry[operation.method] = body;
    }
    json!({
        "openapi": "3.0.3",
        "info": {"title": "Lotline node API", "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}}
    })
}
