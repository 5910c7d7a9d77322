//! Verification of what a node sends: entry signatures, feed links between proven entries,
//! inclusion proofs against checkpoints signed by each feed's author and cosigned by witnesses
//! per a [`Policy`], event hash ids recomputed from the signed event bytes, and the consistency
//! of an answer (trace, recall scope) with the entries it claims to rest on, the excursions
//! in force it carries included.
//!
//! Owns the client-side policy, the cross-checks between an answer's claims and its
//! evidence, and which shapes a proof file may take. Deliberately does not own any
//! cryptography, proof format or reading rule: signatures, Merkle proofs, checkpoint notes and
//! evidence are `lotline_ledger::{feed, proof, checkpoint}`'s, stored events are read with
//! `lotline_ledger::epcis::decode_stored_event` and the lots an event names are
//! `lotline_ledger::trace::facts::Facts::lots`, the rule the index builds the lot graph by.

use std::collections::{BTreeMap, BTreeSet};

use lotline_ledger::checkpoint::VerifierKey;
use lotline_ledger::epcis;
use lotline_ledger::feed::VerifiedEntry;
use lotline_ledger::identity::PublicKey;
use lotline_ledger::masterdata::Directory;
use lotline_ledger::proof::{self, Evidence, ProofBundle, WitnessPolicy};
use lotline_ledger::records::Payload;
use lotline_ledger::trace::facts::Facts;
use lotline_ledger::trace::{ExcursionRef, NameSource, Names, Text, TraceAnswer};
use serde::Deserialize as _;
use serde_json::Value;

/// Which authors and witnesses the client trusts, and how many witnesses must cosign each
/// checkpoint before an inclusion proof against it is accepted.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Trusted witness keys as C2SP verifier keys (`name+id+base64`, cosignature type 0x04).
    /// Empty means "no witness required".
    pub witnesses: Vec<String>,
    /// How many distinct trusted witnesses must cosign each checkpoint. Zero accepts a
    /// checkpoint signed by its author alone, which proves authorship but not that the author
    /// showed everyone the same log.
    pub witness_quorum: usize,
    /// Feed authors (public keys, hex) whose entries are accepted. Empty means "the members of
    /// the roster the node serves", which trusts the node's roster but still proves every entry
    /// was signed by a member.
    pub trusted_authors: Vec<String>,
}

impl Policy {
    /// The ledger's witness policy for these settings.
    pub fn witness_policy(&self) -> Result<WitnessPolicy, VerifyError> {
        let witness_keys = self
            .witnesses
            .iter()
            .map(|text| {
                VerifierKey::parse(text.trim())
                    .map_err(|error| VerifyError::BadWitnessKey(format!("{text}: {error}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        WitnessPolicy::new(witness_keys, self.witness_quorum)
            .map_err(|error| VerifyError::BadWitnessKey(error.to_string()))
    }

    /// The configured trusted authors, parsed.
    pub fn trusted_author_keys(&self) -> Result<Vec<PublicKey>, VerifyError> {
        parse_author_keys(&self.trusted_authors)
    }
}

/// Parses hex public keys, naming the first bad one.
pub fn parse_author_keys(texts: &[String]) -> Result<Vec<PublicKey>, VerifyError> {
    texts
        .iter()
        .map(|text| {
            PublicKey::from_hex(text.trim())
                .map_err(|error| VerifyError::BadAuthorKey(format!("{text}: {error}")))
        })
        .collect()
}

/// Why something a node sent cannot be relied on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// A proof bundle did not check out (a signature, a proof, the witness policy).
    #[error("proof bundle of feed {feed}: {reason}")]
    Bundle {
        /// The feed the bundle claims to prove (or `?` when unreadable).
        feed: String,
        /// The ledger's reason.
        reason: String,
    },
    /// The evidence is not in the documented shape.
    #[error("the evidence is not a proof bundle or a list of them: {0}")]
    MalformedEvidence(String),
    /// The answer names events but carries no evidence.
    #[error("the answer names {0} events but carries no proof bundle")]
    MissingEvidence(usize),
    /// Two proven consecutive entries of one feed are not hash-linked.
    #[error("entry {sequence} of feed {author} does not link to the entry before it")]
    BrokenLink {
        /// The feed's author (hex).
        author: String,
        /// The entry whose `previous` does not match.
        sequence: u64,
    },
    /// The answer relies on an event no verified entry carries.
    #[error("event {0} is named by the answer but carried by no verified entry")]
    UnbackedEvent(String),
    /// The answer's entry reference does not match a verified entry.
    #[error("entry {sequence} of feed {author} named by the answer is not in the proof bundles")]
    UnbackedEntry {
        /// The feed's author (hex).
        author: String,
        /// The entry's position.
        sequence: u64,
    },
    /// A lot in the answer is mentioned by no verified event.
    #[error("lot {0} is in the answer but in no verified event")]
    UnbackedLot(String),
    /// A verified entry's event bytes do not hash to the id it is filed under.
    #[error("event filed as {claimed} hashes to {computed}")]
    EventHashMismatch {
        /// The id the entry carries.
        claimed: String,
        /// The id recomputed from the event bytes.
        computed: String,
    },
    /// A verified entry's event bytes are not a valid EPCIS event.
    #[error("entry {sequence} of feed {author} carries an event that does not parse: {reason}")]
    BadEvent {
        /// The feed's author (hex).
        author: String,
        /// The entry's position.
        sequence: u64,
        /// The EPCIS error.
        reason: String,
    },
    /// A name the answer gives is not what the proven master-data entry it cites says.
    #[error(
        "the name given for {id} is not backed: entry {sequence} of feed {author} is not proven master data saying so"
    )]
    UnbackedName {
        /// The identifier named.
        id: String,
        /// The cited entry's feed (hex).
        author: String,
        /// The cited entry's position.
        sequence: u64,
    },
    /// An excursion the reply carries cites an entry that is not a proven excursion record.
    #[error(
        "the excursion of entry {sequence} of feed {author} is not backed: no proven excursion record is carried by that entry"
    )]
    UnbackedExcursion {
        /// The cited entry's feed (hex).
        author: String,
        /// The cited entry's position.
        sequence: u64,
    },
    /// An excursion the reply carries says something its proven record does not.
    #[error(
        "the excursion of entry {sequence} of feed {author} differs from its signed record in {field}"
    )]
    ExcursionMismatch {
        /// The record's feed (hex).
        author: String,
        /// The record's position.
        sequence: u64,
        /// The first field that differs (`observed`, `lots`, `figures.max_celsius`, …).
        field: &'static str,
    },
    /// An excursion the reply carries names no lot of the answer.
    #[error("the excursion of entry {sequence} of feed {author} names no lot of the answer")]
    ExcursionOffAnswer {
        /// The record's feed (hex).
        author: String,
        /// The record's position.
        sequence: u64,
    },
    /// A configured witness key is not a verifier key.
    #[error(
        "witness key {0} is not usable (give a name+id+base64 cosignature verifier key, and a quorum no larger than the number of witnesses)"
    )]
    BadWitnessKey(String),
    /// A configured author key is not a public key.
    #[error("author key {0} is not a 64-hex-character Ed25519 public key")]
    BadAuthorKey(String),
}

/// Evidence that checked out: the proven entries of every feed, and the EPCIS events they
/// carry, keyed by event hash id.
#[derive(Debug, Clone, Default)]
pub struct VerifiedEvidence {
    /// Every proven entry, by (author hex, sequence).
    pub entries: BTreeMap<(String, u64), VerifiedEntry>,
    /// The events carried by proven entries, as parsed models, by hash id.
    pub events: BTreeMap<String, epcis::Event>,
    /// Per feed: the checkpoint size proven against and the number of witness cosignatures
    /// that counted, for display.
    pub checkpoints: BTreeMap<String, (u64, usize)>,
}

impl VerifiedEvidence {
    /// The proven events as JSON-LD objects with their `eventID` set to the hash id, in a
    /// stable order (by hash id), for exports.
    pub fn events_json_ld(&self) -> Vec<Value> {
        self.events
            .iter()
            .map(|(event_hash_id, event)| {
                let mut json = epcis::event_to_json_ld(event);
                if let Some(object) = json.as_object_mut() {
                    object.insert("eventID".to_owned(), Value::String(event_hash_id.clone()));
                }
                json
            })
            .collect()
    }

    /// The excursion records carried by proven entries, as replies cite them: a reply's
    /// evidence proves only the records in force it carries, so an export reads them here.
    pub fn excursions(&self) -> Vec<ExcursionRef> {
        self.entries
            .values()
            .filter_map(|entry| match entry.payload() {
                Some(Payload::Excursion(record)) => {
                    Some(ExcursionRef::of_record(entry.reference(), record))
                }
                _ => None,
            })
            .collect()
    }

    /// The master-data statements carried by proven entries, as a directory (the same rules
    /// of supersession as the node's).
    pub fn master_data(&self) -> Directory {
        let mut directory = Directory::new();
        for entry in self.entries.values() {
            if let Some(Payload::MasterData(statement)) = entry.payload() {
                directory.insert(entry.reference(), entry.record_time_ms(), statement.clone());
            }
        }
        directory
    }
}

/// The proof bundles in a proof file's evidence value: the node's [`Evidence`]
/// (`{"bundles": […], "unproven": […]}`, which `lotline proof` saves), one [`ProofBundle`] in
/// the ledger's JSON form ([`ProofBundle::to_json`]), or a list of bundles; `null` holds none.
/// Answers from a node are read as [`Evidence`] directly; only files come in several shapes.
pub fn bundles_of(evidence: &Value) -> Result<Vec<ProofBundle>, VerifyError> {
    let malformed = |error: serde_json::Error| VerifyError::MalformedEvidence(error.to_string());
    match evidence {
        Value::Null => Ok(Vec::new()),
        Value::Array(_) => Vec::<ProofBundle>::deserialize(evidence).map_err(malformed),
        Value::Object(object) if object.contains_key("bundles") => {
            Evidence::deserialize(evidence).map(|evidence| evidence.bundles).map_err(malformed)
        }
        Value::Object(_) => {
            ProofBundle::deserialize(evidence).map(|bundle| vec![bundle]).map_err(malformed)
        }
        _ => Err(VerifyError::MalformedEvidence("expected an object or a list".into())),
    }
}

/// Verifies proof bundles: each checkpoint signed by a trusted author and cosigned per the
/// policy, each entry signed and included, consecutive proven entries hash-linked, and each
/// EPCIS event re-hashed to the id it is filed under.
///
/// `trusted_authors` empty means "whoever signed the checkpoint" (offline verification of a
/// bundle received out of band; the author is reported).
pub fn verify_bundles(
    bundles: &[ProofBundle],
    trusted_authors: &[PublicKey],
    witness_policy: &WitnessPolicy,
) -> Result<VerifiedEvidence, VerifyError> {
    let mut evidence = VerifiedEvidence::default();
    for bundle in bundles {
        let feed_name = checkpoint_feed_name(&bundle.checkpoint);
        let bundle_error = |reason: String| VerifyError::Bundle { feed: feed_name.clone(), reason };
        let authors_to_trust: Vec<PublicKey> = if trusted_authors.is_empty() {
            lotline_ledger::checkpoint::SignedCheckpoint::verify_self_certifying_feed(
                &bundle.checkpoint,
            )
            .map(|checkpoint| vec![checkpoint.author()])
            .map_err(|error| bundle_error(format!("checkpoint: {error}")))?
        } else {
            trusted_authors.to_vec()
        };
        let verified_bundle = proof::verify_bundle(bundle, &authors_to_trust, witness_policy)
            .map_err(|error| bundle_error(error.to_string()))?;
        let author_hex = verified_bundle.author().to_hex();
        evidence.checkpoints.insert(
            author_hex.clone(),
            (verified_bundle.checkpoint().checkpoint().size, verified_bundle.cosignatures().len()),
        );
        for entry in verified_bundle.entries() {
            if let Some((event_hash_id, event)) = carried_event(entry)? {
                evidence.events.insert(event_hash_id, event);
            }
            evidence.entries.insert((author_hex.clone(), entry.sequence()), entry.clone());
        }
    }
    check_links(&evidence)?;
    Ok(evidence)
}

/// The feed name a checkpoint note starts with (its origin line), for messages.
fn checkpoint_feed_name(note: &str) -> String {
    note.lines().next().unwrap_or("?").to_owned()
}

/// Consecutive proven entries of one feed must be hash-linked.
fn check_links(evidence: &VerifiedEvidence) -> Result<(), VerifyError> {
    for ((author, sequence), entry) in &evidence.entries {
        let Some(previous_sequence) = sequence.checked_sub(1) else { continue };
        if let Some(previous_entry) = evidence.entries.get(&(author.clone(), previous_sequence))
            && entry.previous() != previous_entry.entry_hash()
        {
            return Err(VerifyError::BrokenLink { author: author.clone(), sequence: *sequence });
        }
    }
    Ok(())
}

/// The EPCIS event a verified entry carries, read back as the node reads it
/// ([`epcis::decode_stored_event`]) and re-hashed; `None` for other payloads or when the event
/// body is withheld.
fn carried_event(entry: &VerifiedEntry) -> Result<Option<(String, epcis::Event)>, VerifyError> {
    let Some(Payload::Epcis(capture)) = entry.payload() else { return Ok(None) };
    let event =
        epcis::decode_stored_event(&capture.original).map_err(|error| VerifyError::BadEvent {
            author: entry.author().to_hex(),
            sequence: entry.sequence(),
            reason: error.to_string(),
        })?;
    let computed = epcis::event_hash_id(&event);
    if computed != capture.event_id {
        return Err(VerifyError::EventHashMismatch { claimed: capture.event_id.clone(), computed });
    }
    Ok(Some((computed, event)))
}

/// Cross-checks a trace or recall answer against verified evidence: every event it names is
/// carried by a proven entry, every entry it names is proven, and every lot it lists is named
/// by a proven event (by the index's rule, [`Facts::lots`]), except the subjects themselves:
/// `subject` is the trace's, when it has one. Returns every problem found (empty = the answer
/// is backed).
pub fn check_answer(
    answer: &TraceAnswer,
    subject: Option<&str>,
    evidence: &VerifiedEvidence,
) -> Vec<VerifyError> {
    let mut problems = Vec::new();
    let proven_event_ids: BTreeSet<String> =
        evidence.entries.values().filter_map(VerifiedEntry::event_id).collect();
    for event_hash_id in &answer.events {
        let event_hash_id = event_hash_id.to_text();
        if !proven_event_ids.contains(&event_hash_id) {
            problems.push(VerifyError::UnbackedEvent(event_hash_id));
        }
    }
    for entry_reference in answer.entries.iter().map(|reference| &reference.entry) {
        let key = (entry_reference.author.to_hex(), entry_reference.sequence);
        let matches = evidence
            .entries
            .get(&key)
            .is_some_and(|entry| entry.entry_hash() == entry_reference.entry_hash);
        if !matches {
            problems.push(VerifyError::UnbackedEntry {
                author: entry_reference.author.to_hex(),
                sequence: entry_reference.sequence,
            });
        }
    }
    let proven_lots: BTreeSet<Text> =
        evidence.events.values().flat_map(|event| Facts::from_event(event).lots()).collect();
    // The subjects themselves are listed even when no event mentions them (an unknown lot);
    // only lots the walk claims to have reached need a proven event.
    let subjects: BTreeSet<&str> =
        answer.subjects.iter().map(String::as_str).chain(subject).collect();
    for lot in &answer.lots {
        let canonical_lot =
            lotline_ledger::gs1::canonical_digital_link(lot).unwrap_or_else(|| lot.to_string());
        if subjects.contains(&**lot) || subjects.contains(canonical_lot.as_str()) {
            continue;
        }
        if !proven_lots.contains(canonical_lot.as_str()) {
            problems.push(VerifyError::UnbackedLot(lot.to_string()));
        }
    }
    if !answer.events.is_empty() && evidence.entries.is_empty() {
        problems.insert(0, VerifyError::MissingEvidence(answer.events.len()));
    }
    problems
}

/// Cross-checks the names an answer gives from master data: each cites a proven entry whose
/// statement describes what the name says it describes and gives exactly that name, address
/// and coordinates. Organisation names come from the roster the node serves and are not
/// checked here. Returns every problem found (empty = every name is backed).
pub fn check_names(names: &Names, evidence: &VerifiedEvidence) -> Vec<VerifyError> {
    let mut problems = Vec::new();
    for (id, source) in &names.described {
        let key = (source.entry.author.to_hex(), source.entry.sequence);
        let backed = evidence.entries.get(&key).is_some_and(|entry| {
            let Some(Payload::MasterData(statement)) = entry.payload() else { return false };
            entry.entry_hash() == source.entry.entry_hash
                && statement.id == source.described
                && NameSource::from_statement(statement, source.entry).as_ref() == Some(source)
        });
        if !backed {
            problems.push(VerifyError::UnbackedName {
                id: id.clone(),
                author: key.0,
                sequence: key.1,
            });
        }
    }
    problems
}

/// Cross-checks the excursions a reply carries: each cites a proven entry carrying an
/// excursion record, says what that record says ([`ExcursionRef::mismatch`]) and names a lot
/// the answer reaches. Returns every problem found (empty = every excursion is backed).
/// Whether a record is still in force (not superseded by a later one of its author) is the
/// node's reading of its book and is not proven here.
pub fn check_excursions(
    excursions: &[ExcursionRef],
    answer: &TraceAnswer,
    evidence: &VerifiedEvidence,
) -> Vec<VerifyError> {
    let mut problems = Vec::new();
    let answer_lots: BTreeSet<String> = answer
        .lots
        .iter()
        .map(|lot| &**lot)
        .chain(answer.subjects.iter().map(String::as_str))
        .map(|lot| {
            lotline_ledger::gs1::canonical_digital_link(lot).unwrap_or_else(|| lot.to_owned())
        })
        .collect();
    for excursion in excursions {
        let author = excursion.entry.author.to_hex();
        let sequence = excursion.entry.sequence;
        let record =
            evidence.entries.get(&(author.clone(), sequence)).and_then(|entry| {
                match entry.payload() {
                    Some(Payload::Excursion(record))
                        if entry.entry_hash() == excursion.entry.entry_hash =>
                    {
                        Some(record)
                    }
                    _ => None,
                }
            });
        let Some(record) = record else {
            problems.push(VerifyError::UnbackedExcursion { author, sequence });
            continue;
        };
        if let Some(field) = excursion.mismatch(record) {
            problems.push(VerifyError::ExcursionMismatch { author, sequence, field });
            continue;
        }
        if !excursion.names_any_of(answer_lots.iter().map(String::as_str)) {
            problems.push(VerifyError::ExcursionOffAnswer { author, sequence });
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use lotline_ledger::checkpoint::{Checkpoint, SignedCheckpoint};
    use lotline_ledger::feed::FeedWriter;
    use lotline_ledger::identity::Keypair;
    use lotline_ledger::merkle::Tree;
    use lotline_ledger::records::{EpcisCapture, EventFormat};
    use serde_json::json;

    use super::*;

    const LOT_A: &str = "https://id.gs1.org/01/09506000134352/10/LOTA";
    const LOT_B: &str = "https://id.gs1.org/01/09506000134352/10/LOTB";

    /// A JSON-LD ObjectEvent commissioning `lot`, and its hash id.
    fn event_bytes(lot: &str, time: &str) -> (Vec<u8>, String) {
        let event_json = json!({
            "type": "ObjectEvent",
            "eventTime": time,
            "eventTimeZoneOffset": "+00:00",
            "epcList": [],
            "action": "ADD",
            "bizStep": "commissioning",
            "quantityList": [{"epcClass": lot, "quantity": 10, "uom": "KGM"}],
        });
        let event = epcis::parse_event_json(&event_json, &[]).unwrap();
        (serde_json::to_vec(&event_json).unwrap(), epcis::event_hash_id(&event))
    }

    /// A signed two-entry feed, its checkpoint, and a bundle proving both entries.
    fn signed_bundle() -> (Keypair, ProofBundle, Vec<String>) {
        let events = [(LOT_A, "2026-03-01T08:00:00Z"), (LOT_B, "2026-03-02T08:00:00Z")]
            .map(|(lot, time)| event_bytes(lot, time));
        bundle_of(&events)
    }

    /// A signed feed of `events` (JSON-LD bytes and hash ids), its checkpoint, and a bundle
    /// proving every entry.
    fn bundle_of(events: &[(Vec<u8>, String)]) -> (Keypair, ProofBundle, Vec<String>) {
        let keypair = Keypair::from_seed([7; 32]);
        let mut writer = FeedWriter::new(Keypair::from_seed([7; 32]), None);
        let mut entries = Vec::new();
        let mut event_ids = Vec::new();
        for (original, event_id) in events.iter().cloned() {
            let payload = Payload::Epcis(EpcisCapture {
                event_id: event_id.clone(),
                format: EventFormat::JsonLd,
                original,
            });
            let entry = writer.next_entry_with_seed(1_700_000_000_000, &payload, &[3; 32]).unwrap();
            entries.push(entry);
            event_ids.push(event_id);
        }
        let bundle = bundle_proving(&keypair, &entries);
        (keypair, bundle, event_ids)
    }

    /// A bundle proving `entries`, the whole of `keypair`'s feed, against its signed
    /// checkpoint.
    fn bundle_proving(keypair: &Keypair, entries: &[VerifiedEntry]) -> ProofBundle {
        let mut tree = Tree::new();
        for entry in entries {
            tree.push_leaf(entry.leaf_bytes());
        }
        let checkpoint = Checkpoint::for_feed(&keypair.public_key(), tree.size(), tree.root());
        let signed_checkpoint = SignedCheckpoint::sign(checkpoint, keypair).unwrap();
        ProofBundle::build(&signed_checkpoint, &tree, entries).unwrap()
    }

    fn answer(events: &[String], lots: &[&str]) -> TraceAnswer {
        serde_json::from_value(json!({"lots": lots, "events": events})).unwrap()
    }

    /// Checks `answer`, which traced from no subject of its own.
    fn check(answer: &TraceAnswer, evidence: &VerifiedEvidence) -> Vec<VerifyError> {
        check_answer(answer, None, evidence)
    }

    /// An excursion is backed only by the proven excursion record it cites, stating the same
    /// and naming a lot of the answer.
    #[test]
    fn an_excursion_is_backed_only_by_its_proven_record_about_a_lot_of_the_answer() {
        use lotline_ledger::records;

        let keypair = Keypair::from_seed([7; 32]);
        let mut writer = FeedWriter::new(Keypair::from_seed([7; 32]), None);
        let record = records::Excursion {
            lots: vec!["urn:epc:class:lgtin:9506000.013435.LOTA".to_owned()],
            measurement: "gs1:Temperature".to_owned(),
            limit: "single-event: above 4 CEL for more than 30 min".to_owned(),
            observed: "9 CEL".to_owned(),
            started_ms: 1_772_359_200_000,
            ended_ms: Some(1_772_366_400_000),
            detail: None,
        };
        let entry = writer
            .next_entry_with_seed(1_772_370_000_000, &Payload::Excursion(record.clone()), &[3; 32])
            .unwrap();
        let bundle = bundle_proving(&keypair, std::slice::from_ref(&entry));
        let evidence =
            verify_bundles(&[bundle], &[keypair.public_key()], &WitnessPolicy::none()).unwrap();
        let claim = ExcursionRef::of_record(entry.reference(), &record);
        let reached = answer(&[], &[LOT_A]);
        assert!(check_excursions(std::slice::from_ref(&claim), &reached, &evidence).is_empty());

        let mut warmer = claim.clone();
        warmer.observed = "5 CEL".to_owned();
        assert!(matches!(
            check_excursions(&[warmer], &reached, &evidence).as_slice(),
            [VerifyError::ExcursionMismatch { field: "observed", .. }]
        ));
        assert!(matches!(
            check_excursions(std::slice::from_ref(&claim), &answer(&[], &[LOT_B]), &evidence)
                .as_slice(),
            [VerifyError::ExcursionOffAnswer { sequence: 0, .. }]
        ));
        let mut elsewhere = claim.clone();
        elsewhere.entry.sequence = 4;
        assert!(matches!(
            check_excursions(&[elsewhere], &reached, &evidence).as_slice(),
            [VerifyError::UnbackedExcursion { sequence: 4, .. }]
        ));
        // An entry proven but carrying something else is no excursion record.
        let (events_keypair, events_bundle, _) = signed_bundle();
        let events = verify_bundles(
            &[events_bundle],
            &[events_keypair.public_key()],
            &WitnessPolicy::none(),
        )
        .unwrap();
        let mut not_a_record = claim;
        not_a_record.entry = events.entries.values().next().unwrap().reference();
        assert!(matches!(
            check_excursions(&[not_a_record], &reached, &events).as_slice(),
            [VerifyError::UnbackedExcursion { .. }]
        ));
    }

    #[test]
    fn a_name_is_backed_only_by_the_proven_statement_it_cites() {
        use lotline_ledger::masterdata::{Attribute, Statement, VocabularyType, attribute};
        use lotline_ledger::trace::NameSource;

        let keypair = Keypair::from_seed([7; 32]);
        let mut writer = FeedWriter::new(Keypair::from_seed([7; 32]), None);
        let statement = Statement {
            vocabulary_type: VocabularyType::BusinessLocation,
            id: "https://id.gs1.org/414/9506000134352".to_owned(),
            attributes: vec![Attribute {
                id: attribute::NAME.to_owned(),
                value: "Green Valley Farms".to_owned(),
            }],
            children: Vec::new(),
        };
        let entry = writer
            .next_entry_with_seed(
                1_700_000_000_000,
                &Payload::MasterData(statement.clone()),
                &[3; 32],
            )
            .unwrap();
        let bundle = bundle_proving(&keypair, std::slice::from_ref(&entry));
        let evidence =
            verify_bundles(&[bundle], &[keypair.public_key()], &WitnessPolicy::none()).unwrap();
        assert_eq!(evidence.master_data().name_of(&statement.id).unwrap().statement, statement);

        let source = NameSource::from_statement(&statement, entry.reference()).unwrap();
        let mut names = Names::default();
        names.described.insert(statement.id.clone(), source.clone());
        assert!(check_names(&names, &evidence).is_empty());

        // A name the statement does not give, or a statement cited for another place.
        let mut renamed = source.clone();
        renamed.name = "Someone Else's Farm".to_owned();
        names.described.insert(statement.id.clone(), renamed);
        assert!(matches!(
            check_names(&names, &evidence).as_slice(),
            [VerifyError::UnbackedName { id, .. }] if *id == statement.id
        ));
        let mut elsewhere = source.clone();
        elsewhere.described = "https://id.gs1.org/414/4012345000115".to_owned();
        names.described.insert(statement.id.clone(), elsewhere);
        assert_eq!(check_names(&names, &evidence).len(), 1);
        // A name citing an entry the evidence does not prove.
        let mut unproven = source;
        unproven.entry.sequence = 5;
        names.described.insert(statement.id.clone(), unproven);
        assert_eq!(check_names(&names, &evidence).len(), 1);
    }

    #[test]
    fn a_genuine_bundle_verifies_and_backs_the_answer() {
        let (keypair, bundle, event_ids) = signed_bundle();
        let evidence =
            verify_bundles(&[bundle], &[keypair.public_key()], &WitnessPolicy::none()).unwrap();
        assert_eq!(evidence.entries.len(), 2);
        assert_eq!(evidence.events.keys().cloned().collect::<Vec<_>>(), {
            let mut sorted = event_ids.clone();
            sorted.sort();
            sorted
        });
        assert!(check(&answer(&event_ids, &[LOT_A, LOT_B]), &evidence).is_empty());
        let exported = evidence.events_json_ld();
        assert!(
            exported
                .iter()
                .all(|event| event_ids.contains(&event["eventID"].as_str().unwrap().to_owned()))
        );
    }

    #[test]
    fn flipping_any_byte_of_an_entry_is_rejected() {
        let (keypair, bundle, _) = signed_bundle();
        let trusted_authors = [keypair.public_key()];
        for byte_index in 0..bundle.entries[1].entry.len() {
            let mut tampered_bundle = bundle.clone();
            tampered_bundle.entries[1].entry[byte_index] ^= 0x01;
            let outcome =
                verify_bundles(&[tampered_bundle], &trusted_authors, &WitnessPolicy::none());
            assert!(outcome.is_err(), "flipping byte {byte_index} went unnoticed");
        }
    }

    #[test]
    fn a_tampered_inclusion_proof_or_checkpoint_is_rejected() {
        let (keypair, bundle, _) = signed_bundle();
        let trusted_authors = [keypair.public_key()];
        let mut proof_tampered = bundle.clone();
        proof_tampered.entries[0].inclusion_proof[0][0] ^= 0x80;
        assert!(
            verify_bundles(&[proof_tampered], &trusted_authors, &WitnessPolicy::none()).is_err()
        );
        let mut checkpoint_tampered = bundle.clone();
        checkpoint_tampered.checkpoint =
            checkpoint_tampered.checkpoint.replacen("\n2\n", "\n3\n", 1);
        assert!(
            verify_bundles(&[checkpoint_tampered], &trusted_authors, &WitnessPolicy::none())
                .is_err()
        );
    }

    #[test]
    fn an_untrusted_author_or_a_missing_witness_is_rejected() {
        let (_, bundle, _) = signed_bundle();
        let stranger = Keypair::from_seed([9; 32]).public_key();
        let error =
            verify_bundles(std::slice::from_ref(&bundle), &[stranger], &WitnessPolicy::none())
                .unwrap_err();
        assert!(error.to_string().contains("not trusted"), "{error}");

        let witness = lotline_ledger::checkpoint::Cosigner::new(
            "witness.example.org/test",
            Keypair::from_seed([11; 32]),
        )
        .unwrap();
        let policy = Policy {
            witnesses: vec![witness.verifier_key().to_string()],
            witness_quorum: 1,
            trusted_authors: Vec::new(),
        };
        let witness_policy = policy.witness_policy().unwrap();
        let error = verify_bundles(&[bundle], &[], &witness_policy).unwrap_err();
        assert!(error.to_string().contains("witnesses cosigned"), "{error}");
    }

    #[test]
    fn answers_claiming_more_than_the_evidence_are_flagged() {
        let (keypair, bundle, event_ids) = signed_bundle();
        let evidence =
            verify_bundles(&[bundle], &[keypair.public_key()], &WitnessPolicy::none()).unwrap();
        let invented_event = "ni:///sha-256;00?ver=CBV2.0".to_owned();
        let invented_lot = "https://id.gs1.org/01/09506000134352/10/ELSEWHERE";
        let problems = check(
            &answer(&[event_ids[0].clone(), invented_event.clone()], &[LOT_A, invented_lot]),
            &evidence,
        );
        assert_eq!(
            problems,
            vec![
                VerifyError::UnbackedEvent(invented_event),
                VerifyError::UnbackedLot(invented_lot.to_owned())
            ]
        );
        let unknown_subject = "https://id.gs1.org/01/09506000134352/10/NEVERSEEN";
        let subject_only = answer(&[], &[unknown_subject]);
        assert!(
            check_answer(&subject_only, Some(unknown_subject), &evidence).is_empty(),
            "a subject needs no event"
        );
        let empty = VerifiedEvidence::default();
        let problems = check(&answer(&event_ids, &[]), &empty);
        assert_eq!(problems[0], VerifyError::MissingEvidence(2));
    }

    #[test]
    fn a_lot_is_backed_by_an_event_commissioning_items_into_it() {
        // Items commissioned with an ILMD lot number join that lot in the index, so a trace
        // reaches the lot through them; the event that says so backs it.
        let event_json = json!({
            "type": "ObjectEvent",
            "eventTime": "2026-03-01T08:00:00Z",
            "eventTimeZoneOffset": "+00:00",
            "epcList": ["https://id.gs1.org/01/09506000134352/21/S1"],
            "action": "ADD",
            "bizStep": "commissioning",
            "ilmd": {"cbvmda:lotNumber": "LOTC"},
        });
        let event = epcis::parse_event_json(&event_json, &[]).unwrap();
        let event_id = epcis::event_hash_id(&event);
        let (keypair, bundle, _) =
            bundle_of(&[(serde_json::to_vec(&event_json).unwrap(), event_id.clone())]);
        let evidence =
            verify_bundles(&[bundle], &[keypair.public_key()], &WitnessPolicy::none()).unwrap();
        let lot_c = "https://id.gs1.org/01/09506000134352/10/LOTC";
        assert!(check(&answer(&[event_id], &[lot_c]), &evidence).is_empty());
    }

    #[test]
    fn evidence_is_accepted_as_one_bundle_a_list_or_an_object_with_bundles() {
        let (_, bundle, _) = signed_bundle();
        let bundle_json = serde_json::to_value(&bundle).unwrap();
        assert_eq!(bundles_of(&bundle_json).unwrap().len(), 1);
        assert_eq!(
            bundles_of(&json!([bundle_json.clone(), bundle_json.clone()])).unwrap().len(),
            2
        );
        assert_eq!(bundles_of(&json!({"bundles": [bundle_json]})).unwrap().len(), 1);
        assert!(bundles_of(&Value::Null).unwrap().is_empty());
        assert!(bundles_of(&json!("nonsense")).is_err());
    }
}
