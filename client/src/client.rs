//! The typed [`Client`]: one method per node capability, each returning values that have been
//! verified (or that say plainly they could not be).
//!
//! Owns the request paths and the order "fetch, then verify, then return". Deliberately does
//! not own HTTP details ([`crate::http`]) nor the checks themselves ([`crate::verify`]).

use std::sync::OnceLock;

use lotline_ledger::coldchain::custody::{CustodyReply, HandoffsReply};
use lotline_ledger::identity::PublicKey;
use lotline_ledger::proof::{Evidence, ProofBundle};
/// Which way a trace walks: the ledger's, so the path, the CLI's JSON and the index agree.
pub use lotline_ledger::trace::Direction;
use lotline_ledger::trace::TraceAnswer;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;
use std::collections::BTreeMap;

use crate::api::{
    CaptureJob, FeedSummary, Health, RecordItem, RecordList, RecordReceipt, Reply, Roster,
};
use crate::error::Error;
use crate::http::Transport;
use crate::verify::{self, Policy, VerifiedEvidence, VerifyError};

/// Most pages `GET /events` is followed for, so a runaway cursor cannot loop forever.
const MAX_EVENT_PAGES: usize = 1_000;

/// A trace or recall reply with the outcome of verifying it.
#[derive(Debug, Clone)]
pub struct CheckedAnswer {
    /// The reply as the node sent it (answer, subject, evidence).
    pub reply: Reply,
    /// The evidence that verified (empty when verification failed early).
    pub evidence: VerifiedEvidence,
    /// Every verification problem; empty means every entry and proof checked out.
    pub problems: Vec<VerifyError>,
}

impl CheckedAnswer {
    /// True when every entry, proof and cross-check passed.
    pub fn verified(&self) -> bool {
        self.problems.is_empty()
    }

    /// The walk's answer (a recall scope's forward trace).
    pub fn answer(&self) -> &TraceAnswer {
        self.reply.answer()
    }
}

/// Event documents from a query, each verified against its proof unless asked not to.
#[derive(Debug, Clone, Default)]
pub struct CheckedEvents {
    /// The events as JSON-LD objects, in the node's order.
    pub events: Vec<Value>,
    /// The evidence of every event that verified.
    pub evidence: VerifiedEvidence,
    /// Problems found; empty means every event verified (or verification was skipped).
    pub problems: Vec<VerifyError>,
    /// Whether proofs were fetched and checked at all.
    pub checked: bool,
}

/// A connection to one node that verifies every answer before returning it.
#[derive(Debug)]
pub struct Client {
    /// The HTTP transport (URL, token, timeouts).
    transport: Transport,
    /// Which authors and witnesses are trusted.
    policy: Policy,
    /// The trusted authors, resolved once (from the policy or the node's roster).
    trusted_authors: OnceLock<Vec<PublicKey>>,
}

impl Client {
    /// A client for the node at `node_url`, presenting `token` (needed for writes).
    pub fn connect(node_url: &str, token: Option<String>, policy: Policy) -> Result<Self, Error> {
        // Fail on a bad policy before any request is made.
        policy.witness_policy()?;
        policy.trusted_author_keys()?;
        Ok(Self {
            transport: Transport::new(node_url, token)?,
            policy,
            trusted_authors: OnceLock::new(),
        })
    }

    /// The node's base URL.
    pub fn node_url(&self) -> &str {
        self.transport.base_url()
    }

    /// `GET /health`.
    pub fn health(&self) -> Result<Health, Error> {
        self.transport.get_json("/health", &[])
    }

    /// `GET /roster`.
    pub fn roster(&self) -> Result<Roster, Error> {
        self.transport.get_json("/roster", &[])
    }

    /// The names the node's master data gives `ids` (`GET /vocabularies?EQ_name=…`), by
    /// canonical identifier; identifiers without a name are left out. Read as served: trace
    /// and recall answers carry names with proofs, this lookup is for tables of events.
    pub fn names_of(&self, ids: &[String]) -> Result<BTreeMap<String, String>, Error> {
        if ids.is_empty() {
            return Ok(BTreeMap::new());
        }
        let answer: Value = self.transport.get_json(
            "/vocabularies",
            &[
                ("EQ_name".to_owned(), ids.join("|")),
                ("includeChildren".to_owned(), "false".to_owned()),
            ],
        )?;
        let elements = answer["epcisBody"]["queryResults"]["resultsBody"]["vocabularyList"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|vocabulary| {
                vocabulary["vocabularyElementList"].as_array().into_iter().flatten()
            });
        let mut names = BTreeMap::new();
        for element in elements {
            let Some(id) = element["id"].as_str() else { continue };
            let statement = lotline_ledger::masterdata::Statement {
                vocabulary_type: lotline_ledger::masterdata::VocabularyType::BusinessLocation,
                id: id.to_owned(),
                attributes: element["attributes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|attribute| {
                        Some(lotline_ledger::masterdata::Attribute {
                            id: attribute["id"].as_str()?.to_owned(),
                            value: attribute["attribute"].as_str()?.to_owned(),
                        })
                    })
                    .collect(),
                children: Vec::new(),
            };
            if let Some(name) = statement.name() {
                names.insert(id.to_owned(), name.to_owned());
            }
        }
        Ok(names)
    }

    /// `GET /feeds/{author}/checkpoint`: the latest checkpoint this node holds of a feed, as
    /// its C2SP signed note.
    pub fn checkpoint_note(&self, author: &str) -> Result<String, Error> {
        let answer = self.transport.get(&format!("/feeds/{author}/checkpoint"), &[])?;
        Ok(String::from_utf8_lossy(&answer.body).into_owned())
    }

    /// `GET /feeds`.
    pub fn feeds(&self) -> Result<Vec<FeedSummary>, Error> {
        self.transport.get_json("/feeds", &[])
    }

    /// The authors whose entries are accepted: the policy's list, or the roster's members.
    pub fn trusted_authors(&self) -> Result<&[PublicKey], Error> {
        if let Some(trusted_authors) = self.trusted_authors.get() {
            return Ok(trusted_authors);
        }
        let mut trusted_authors = self.policy.trusted_author_keys()?;
        if trusted_authors.is_empty() {
            let roster = self.roster()?;
            for member in &roster.members {
                let key =
                    PublicKey::from_hex(&member.public_key).map_err(|error| Error::BadAnswer {
                        url: format!("{}/roster", self.node_url()),
                        detail: format!("member key {}: {error}", member.public_key),
                    })?;
                trusted_authors.push(key);
            }
        }
        Ok(self.trusted_authors.get_or_init(|| trusted_authors))
    }

    /// `POST /capture` of an EPCIS document (`application/ld+json` or `application/xml`).
    pub fn capture(&self, document: &[u8], content_type: &str) -> Result<CaptureJob, Error> {
        let answer = self.transport.post("/capture", content_type, document)?;
        self.transport.decode("/capture", &answer.body)
    }

    /// `GET /events` with EPCIS query parameters, following `nextPageToken` to the end;
    /// with `verify`, each event's proof is fetched and checked.
    pub fn query_events(
        &self,
        parameters: &[(String, String)],
        verify: bool,
    ) -> Result<CheckedEvents, Error> {
        let mut checked_events = CheckedEvents { checked: verify, ..CheckedEvents::default() };
        let mut page_parameters = parameters.to_vec();
        for _ in 0..MAX_EVENT_PAGES {
            let page: Value = self.transport.get_json("/events", &page_parameters)?;
            let results_body = &page["epcisBody"]["queryResults"]["resultsBody"];
            let event_list = results_body["eventList"]
                .as_array()
                .or_else(|| page["epcisBody"]["eventList"].as_array())
                .cloned()
                .unwrap_or_default();
            checked_events.events.extend(event_list);
            let next_page_token = page["nextPageToken"]
                .as_str()
                .or_else(|| page["epcisBody"]["queryResults"]["nextPageToken"].as_str())
                .filter(|token| !token.is_empty());
            let Some(next_page_token) = next_page_token else { break };
            page_parameters.retain(|(key, _)| key != "nextPageToken");
            page_parameters.push(("nextPageToken".to_owned(), next_page_token.to_owned()));
        }
        if verify {
            for event in &checked_events.events {
                let Some(event_id) = event.get("eventID").and_then(Value::as_str) else {
                    checked_events
                        .problems
                        .push(VerifyError::UnbackedEvent("(an event without eventID)".to_owned()));
                    continue;
                };
                match self.event_proof(event_id) {
                    Ok((_, evidence)) => merge_evidence(&mut checked_events.evidence, evidence),
                    Err(Error::Verification(problem)) => checked_events.problems.push(problem),
                    Err(other) => return Err(other),
                }
                if !checked_events.evidence.events.contains_key(event_id) {
                    checked_events.problems.push(VerifyError::UnbackedEvent(event_id.to_owned()));
                }
            }
        }
        Ok(checked_events)
    }

    /// `GET /events/{eventID}/proof`, verified: the evidence as sent, and what it proves.
    pub fn event_proof(&self, event_id: &str) -> Result<(Evidence, VerifiedEvidence), Error> {
        let path = format!("/events/{}/proof", utf8_percent_encode(event_id, NON_ALPHANUMERIC));
        let sent_value: Value = self.transport.get_json(&path, &[])?;
        let sent_evidence = read_evidence(sent_value)?;
        let evidence = verify::verify_bundles(
            &sent_evidence.bundles,
            self.trusted_authors()?,
            &self.policy.witness_policy()?,
        )?;
        if !evidence.events.contains_key(event_id) {
            return Err(VerifyError::UnbackedEvent(event_id.to_owned()).into());
        }
        Ok((sent_evidence, evidence))
    }

    /// `GET /trace/{back|forward}?id=…`, verified against its evidence.
    pub fn trace(&self, direction: Direction, subject: &str) -> Result<CheckedAnswer, Error> {
        let path = format!("/trace/{}", direction.name());
        let mut answer_value: Value =
            self.transport.get_json(&path, &[("id".to_owned(), subject.to_owned())])?;
        let sent_evidence = take_evidence(&mut answer_value);
        let reply = serde_json::from_value(answer_value).map(Reply::Trace);
        self.check(self.reply_or_bad_answer(&path, reply)?, sent_evidence)
    }

    /// `POST /recall/scope` with a hazard (`{"lots": […]}`, `{"facility", "from", "to"}` or
    /// `{"ingredient", "from", "to"}`), verified against its evidence.
    pub fn recall_scope(&self, hazard: &Value) -> Result<CheckedAnswer, Error> {
        let mut answer_value: Value = self.transport.post_json("/recall/scope", hazard)?;
        let sent_evidence = take_evidence(&mut answer_value);
        let reply = Reply::recall_from_value(answer_value);
        self.check(self.reply_or_bad_answer("/recall/scope", reply)?, sent_evidence)
    }

    /// `GET /custody?subject=…[&at=…]`: who held the subject's lots at `at` (RFC 3339), or
    /// every holding when `at` is `None`. Read as served: the reply names the entries of the
    /// events it cites, which `lotline proof` fetches and verifies one by one.
    pub fn custody(&self, subject: &str, at: Option<&str>) -> Result<CustodyReply, Error> {
        let mut query = vec![("subject".to_owned(), subject.to_owned())];
        query.extend(at.map(|at| ("at".to_owned(), at.to_owned())));
        self.transport.get_json("/custody", &query)
    }

    /// `GET /handoffs[?subject=…][&unconfirmed=true]`: the handoffs of a subject's lots (of
    /// every shipped lot when `subject` is `None`), only those not confirmed when asked.
    /// Read as served, like [`Client::custody`].
    pub fn handoffs(
        &self,
        subject: Option<&str>,
        unconfirmed: bool,
    ) -> Result<HandoffsReply, Error> {
        let mut query: Vec<(String, String)> =
            subject.map(|subject| ("subject".to_owned(), subject.to_owned())).into_iter().collect();
        if unconfirmed {
            query.push(("unconfirmed".to_owned(), "true".to_owned()));
        }
        self.transport.get_json("/handoffs", &query)
    }

    /// `POST /records`: signs a ledger record into this node's feed.
    pub fn submit_record(&self, record: &Value) -> Result<RecordReceipt, Error> {
        self.transport.post_json("/records", record)
    }

    /// `GET /records?kind=…`; items carrying a `proof` bundle are verified, and items whose
    /// proof fails are reported as an error.
    pub fn records(&self, kind: &str) -> Result<Vec<(RecordItem, bool)>, Error> {
        let list: RecordList =
            self.transport.get_json("/records", &[("kind".to_owned(), kind.to_owned())])?;
        let mut checked_items = Vec::new();
        for mut item in list.into_items() {
            // The node may send the record's fields flat beside author and entry hash.
            if item.record.is_null() {
                item.record = Value::Object(item.extra.clone());
            }
            let verified = match item.extra.get("proof") {
                Some(proof_value) => {
                    let sent_evidence = read_evidence(proof_value.clone())?;
                    let evidence = verify::verify_bundles(
                        &sent_evidence.bundles,
                        self.trusted_authors()?,
                        &self.policy.witness_policy()?,
                    )?;
                    let proves_item = evidence.entries.values().any(|entry| {
                        entry.entry_hash().to_hex() == item.entry_hash.to_ascii_lowercase()
                    });
                    if !proves_item {
                        return Err(VerifyError::UnbackedEntry {
                            author: item.author.clone(),
                            sequence: item.sequence.unwrap_or_default(),
                        }
                        .into());
                    }
                    true
                }
                None => false,
            };
            checked_items.push((item, verified));
        }
        Ok(checked_items)
    }

    /// A decoded trace or recall reply, or the path named when it is not the documented shape.
    fn reply_or_bad_answer(
        &self,
        path: &str,
        reply: Result<Reply, serde_json::Error>,
    ) -> Result<Reply, Error> {
        reply.map_err(|error| Error::BadAnswer {
            url: format!("{}{path}", self.node_url()),
            detail: format!("the body is not a trace answer: {error}"),
        })
    }

    /// Verifies a reply's evidence (read apart from it: see [`take_evidence`]) and
    /// cross-checks its answer's claims.
    fn check(
        &self,
        mut reply: Reply,
        sent_evidence: Result<Evidence, VerifyError>,
    ) -> Result<CheckedAnswer, Error> {
        let witness_policy = self.policy.witness_policy()?;
        let trusted_authors = self.trusted_authors()?;
        match sent_evidence {
            Ok(sent_evidence) => *reply.evidence_mut() = sent_evidence,
            Err(problem) => {
                return Ok(CheckedAnswer {
                    reply,
                    evidence: VerifiedEvidence::default(),
                    problems: vec![problem],
                });
            }
        }
        let (evidence, mut problems) = match verify::verify_bundles(
            &reply.evidence().bundles,
            trusted_authors,
            &witness_policy,
        ) {
            Ok(evidence) => (evidence, Vec::new()),
            Err(problem) => (VerifiedEvidence::default(), vec![problem]),
        };
        if problems.is_empty() {
            problems = verify::check_answer(reply.answer(), reply.subject(), &evidence);
            problems.extend(verify::check_names(reply.names(), &evidence));
            problems.extend(verify::check_excursions(
                reply.excursions(),
                reply.answer(),
                &evidence,
            ));
        }
        Ok(CheckedAnswer { reply, evidence, problems })
    }
}

/// Takes a reply's `evidence` out of its JSON and reads it. Evidence that is not the ledger's
/// [`Evidence`] makes the answer unverifiable, which is a verification problem (exit status
/// 7), not an unusable answer; missing evidence reads as none, which the cross-checks report
/// when the answer names events.
fn take_evidence(answer_value: &mut Value) -> Result<Evidence, VerifyError> {
    let taken = answer_value.as_object_mut().and_then(|fields| fields.remove("evidence"));
    match taken {
        None | Some(Value::Null) => Ok(Evidence::default()),
        Some(evidence_value) => read_evidence(evidence_value),
    }
}

/// Reads the ledger's [`Evidence`], naming what is wrong when it is not that shape.
fn read_evidence(evidence_value: Value) -> Result<Evidence, VerifyError> {
    serde_json::from_value(evidence_value)
        .map_err(|error| VerifyError::MalformedEvidence(error.to_string()))
}

/// Adds `more` to `evidence` (entries and events are keyed, so repeats collapse).
pub fn merge_evidence(evidence: &mut VerifiedEvidence, more: VerifiedEvidence) {
    evidence.entries.extend(more.entries);
    evidence.events.extend(more.events);
    evidence.checkpoints.extend(more.checkpoints);
}

/// Parses a proof file and verifies it offline: what `lotline proof` writes (the node's
/// evidence for an event, or `{"subject", "direction", "events", "evidence"}` for a trace) or
/// one bundle in the ledger's JSON form (see [`verify::bundles_of`]).
pub fn verify_bundle_file(
    text: &str,
    trusted_authors: &[PublicKey],
    policy: &Policy,
) -> Result<VerifiedEvidence, Error> {
    let bundle_value: Value = serde_json::from_str(text)
        .map_err(|error| VerifyError::MalformedEvidence(error.to_string()))?;
    let evidence_value = bundle_value.get("evidence").unwrap_or(&bundle_value);
    let bundles: Vec<ProofBundle> = verify::bundles_of(evidence_value)?;
    if bundles.is_empty() {
        return Err(VerifyError::MalformedEvidence("the file holds no proof bundle".into()).into());
    }
    Ok(verify::verify_bundles(&bundles, trusted_authors, &policy.witness_policy()?)?)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_replys_evidence_is_read_apart_and_a_wrong_shape_is_a_verification_problem() {
        let mut reply = json!({"lots": [], "evidence": {"bundles": [], "unproven": []}});
        assert_eq!(take_evidence(&mut reply), Ok(Evidence::default()));
        assert_eq!(reply, json!({"lots": []}), "taken out of the reply");
        let mut missing = json!({"lots": []});
        assert_eq!(take_evidence(&mut missing), Ok(Evidence::default()));
        let mut garbled = json!({"lots": [], "evidence": "nonsense"});
        assert!(matches!(take_evidence(&mut garbled), Err(VerifyError::MalformedEvidence(_))));
    }
}
