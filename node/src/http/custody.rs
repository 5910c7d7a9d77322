//! `GET /custody` (who held a lot at an instant, with the entries of the signed events that
//! say so) and `GET /handoffs` (a subject's handoffs, or every shipped lot's, optionally only
//! those not confirmed by both sides).
//!
//! Owns reading the query parameters (`subject`, `at`, `unconfirmed`), refused naming the
//! parameter, and serialising the ledger's replies. Does not own the custody rules
//! (`lotline_ledger::coldchain::custody`) nor gathering their facts (`crate::state`).

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use lotline_ledger::coldchain::custody::{CustodyReply, HandoffsReply};
use lotline_ledger::trace::Subject;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{ApiError, blocking, openapi};
use crate::state::Ledger;

/// Query of `GET /custody`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct CustodyQuery {
    /// The lot (or pallet, item): a Digital Link, an EPC URN, or `GTIN/LOT`.
    #[param(min_length = 1)]
    subject: String,
    /// The instant (RFC 3339 with offset); every holding over time when absent.
    #[param(format = DateTime)]
    at: Option<String>,
}

/// Query of `GET /handoffs`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct HandoffsQuery {
    /// The lot (or pallet, item); every lot a shipping event names when absent.
    subject: Option<String>,
    /// Only handoffs not confirmed by both sides (unconfirmed or overdue).
    #[serde(default)]
    unconfirmed: bool,
}

fn parse_subject(written: &str) -> Result<Subject, ApiError> {
    Subject::parse(written).map_err(|error| ApiError::QueryParameter(format!("subject: {error}")))
}

#[utoipa::path(
    get,
    path = "/custody",
    tag = "trace",
    summary = "Who held a lot at an instant (or over time), with the signed events that say so",
    params(CustodyQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The holders, the handoffs and the entries cited", body = CustodyReply),
        (status = 400, description = "`subject` names no lot, item or pallet, or `at` is not RFC 3339", body = openapi::Problem, content_type = "application/problem+json"),
        openapi::Fault,
        openapi::QueryUnauthorized,
        openapi::Busy,
    )
)]
pub(super) async fn custody(
    State(ledger): State<Arc<Ledger>>,
    query: Result<Query<CustodyQuery>, QueryRejection>,
) -> Result<Json<CustodyReply>, ApiError> {
    let Query(query) = query?;
    let subject = parse_subject(&query.subject)?;
    let at_ms = query
        .at
        .as_deref()
        .map(|at| {
            OffsetDateTime::parse(at, &Rfc3339)
                .map(|instant| (instant.unix_timestamp_nanos() / 1_000_000) as i64)
                .map_err(|_| {
                    ApiError::QueryParameter(format!(
                        "at: {at:?} is not a date-time with an offset like 2026-06-01T10:00:00Z"
                    ))
                })
        })
        .transpose()?;
    blocking(&ledger, move |ledger| Ok(ledger.custody(&subject, at_ms)?)).await.map(Json)
}

#[utoipa::path(
    get,
    path = "/handoffs",
    tag = "trace",
    summary = "Custody handoffs with their confirmation (sender's shipment, carrier, receiver's receipt)",
    params(HandoffsQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The handoffs and the entries of their events", body = HandoffsReply),
        (status = 400, description = "`subject` names no lot, item or pallet", body = openapi::Problem, content_type = "application/problem+json"),
        openapi::Fault,
        openapi::QueryUnauthorized,
        openapi::Busy,
    )
)]
pub(super) async fn handoffs(
    State(ledger): State<Arc<Ledger>>,
    query: Result<Query<HandoffsQuery>, QueryRejection>,
) -> Result<Json<HandoffsReply>, ApiError> {
    let Query(query) = query?;
    let subject = query.subject.as_deref().map(parse_subject).transpose()?;
    let unconfirmed = query.unconfirmed;
    blocking(&ledger, move |ledger| Ok(ledger.handoffs(subject.as_ref(), unconfirmed)?))
        .await
        .map(Json)
}
