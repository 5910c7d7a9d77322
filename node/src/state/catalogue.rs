//! The EPCIS query catalogue: one compact row per indexed event, scanned by `GET /events`.
//!
//! Owns: the standard query parameters we support (`eventType`, `GE_/LT_eventTime`,
//! `GE_/LT_recordTime`, `EQ_action`, `EQ_bizStep`, `EQ_disposition`, `EQ_readPoint`,
//! `EQ_bizLocation`, `MATCH_epc`, `MATCH_anyEPC`, `MATCH_epcClass`, `MATCH_anyEPCClass`,
//! `EQ_eventID`, `perPage`, `nextPageToken`) as a typed [`EventQuery`], and pagination.
//! Identifiers are compared in canonical Digital Link form, so a URN query matches a Digital
//! Link capture and back. Does not own the events' bodies (matching rows are read from the
//! store) nor the query document they are answered in (`http` writes it).

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use lotline_ledger::entry::EntryRef;
use lotline_ledger::epcis::{self, Event, VocabularyValue};
use lotline_ledger::gs1;
use lotline_ledger::trace::facts::{Facts, ObjectFact};
use lotline_ledger::trace::{EventHashId, EventRef, Text};

use super::chunked::ChunkedVec;
use super::{Error, Ledger};

/// Default page size.
const DEFAULT_PER_PAGE: usize = 100;
/// Largest page size.
pub(super) const MAX_PER_PAGE: usize = 1_000;

/// One event, reduced to what queries filter on.
#[derive(Debug, Clone)]
pub struct Row {
    /// Where the event is stored.
    entry: EventRef,
    /// `ObjectEvent`, ...
    event_type: &'static str,
    /// Event time (ms since epoch).
    event_time_ms: i64,
    /// When our ledger recorded it (the author's record time).
    record_time_ms: i64,
    /// `ADD` / `OBSERVE` / `DELETE`.
    action: Option<&'static str>,
    /// The business step, compared by its canonical web URI.
    biz_step: Option<VocabularyTerm>,
    /// The disposition, compared by its canonical web URI.
    disposition: Option<VocabularyTerm>,
    /// Canonical form of the read point. Identifiers are the lot index's shared texts: the
    /// same places, lots and pallets recur row after row, held once.
    read_point: Option<Text>,
    /// Canonical form of the business location.
    biz_location: Option<Text>,
    /// `epcList` and `childEPCs`, canonical.
    epcs: Vec<Text>,
    /// Input/output EPCs and `parentID`, canonical.
    other_epcs: Vec<Text>,
    /// `quantityList` and `childQuantityList` classes, canonical.
    classes: Vec<Text>,
    /// Input/output quantity classes, canonical.
    other_classes: Vec<Text>,
    /// The `eventID` the capturer declared, if any.
    declared_event_id: Option<String>,
}

/// A CBV value of a row, compared by its canonical web URI without writing that URI for every
/// event: a standard value is held as its vocabulary's prefix and word (both static), a custom
/// one as written. Writing two URIs per event would cost every indexed event two
/// allocations and each row a hundred bytes, for a comparison the two words answer.
#[derive(Debug, Clone, PartialEq, Eq)]
enum VocabularyTerm {
    /// A standard value: its web URI is `prefix` followed by `word`.
    Standard {
        /// The vocabulary's web URI prefix (`https://ref.gs1.org/cbv/BizStep-`).
        prefix: &'static str,
        /// The standard word (`shipping`).
        word: &'static str,
    },
    /// A custom value, trimmed (its web URI is itself).
    Custom(Box<str>),
}

impl VocabularyTerm {
    /// The term of `value` (see [`VocabularyValue::web_uri`], whose text it stands for).
    fn of(value: &VocabularyValue) -> Self {
        match value.standard_word() {
            Some(word) => Self::Standard { prefix: value.kind.web_uri_prefix(), word },
            None => Self::Custom(Box::from(value.written.trim())),
        }
    }

    /// Whether this term's canonical web URI is `web_uri`.
    fn has_web_uri(&self, web_uri: &str) -> bool {
        match self {
            Self::Standard { prefix, word } => web_uri.strip_prefix(prefix) == Some(*word),
            Self::Custom(written) => **written == *web_uri,
        }
    }
}

/// Every indexed event in append order.
#[derive(Debug, Default)]
pub struct Catalogue {
    /// Rows in the order they were indexed, in fixed-size chunks: a row is a few hundred
    /// bytes and a joining node pushes millions, so one vector grown by doubling would copy
    /// (and touch fresh pages for) everything it holds at each growth.
    rows: ChunkedVec<Row>,
    /// Event Hash ID (or declared `eventID`) → the first row carrying it, keyed compactly:
    /// a digest compares in a few words where a `ni:///sha-256;…` text takes a long string
    /// comparison. Seeded fast hash: ids come from peers' events. Almost every id names one row, so the row number is
    /// held inline rather than in a vector allocated per event.
    by_event_id: HashMap<EventHashId, usize, foldhash::fast::RandomState>,
    /// Later rows of ids already in `by_event_id` (the same event in two feeds, or a declared
    /// `eventID` reused), ascending.
    more_by_event_id: HashMap<EventHashId, Vec<usize>, foldhash::fast::RandomState>,
}

/// One event read back from the store for an answer.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    /// The event, validated again as it was read.
    pub event: Event,
    /// Its Event Hash ID, for answers whose event declares no `eventID`.
    pub event_hash_id: String,
}

/// A page of query results.
#[derive(Debug, Clone)]
pub struct EventPage {
    /// The matching events, in the order they were indexed.
    pub events: Vec<StoredEvent>,
    /// Token for the next page, if more results exist.
    pub next_page_token: Option<String>,
}

/// Canonical form of an identifier for comparison: the canonical Digital Link when it is a
/// GS1 key, the text itself otherwise.
fn canonical(identifier: &str) -> String {
    gs1::canonical_digital_link(identifier).unwrap_or_else(|| identifier.trim().to_owned())
}

fn vocabulary(value: &Option<VocabularyValue>) -> Option<VocabularyTerm> {
    value.as_ref().map(VocabularyTerm::of)
}

impl Row {
    /// The row of `event`, stored in `entry`, from its `facts` (the lot index's digest of the
    /// same event): its identifiers are already canonical there, in the order the event lists
    /// them (EPCs before quantity classes in each role), so nothing is canonicalised twice.
    /// Pure, so rows are built on all cores before the catalogue is locked.
    pub fn new(entry: EventRef, record_time_ms: i64, event: &Event, facts: &Facts) -> Self {
        let links = |objects: &[ObjectFact], range: std::ops::Range<usize>| -> Vec<Text> {
            objects
                .iter()
                .take(range.end)
                .skip(range.start)
                .map(|object| Text::clone(&object.key.link))
                .collect()
        };
        let (what_epcs, child_epcs) = (event.epcs().len(), event.child_epcs().len());
        let (input_epcs, output_epcs) = (event.input_epcs().len(), event.output_epcs().len());
        let mut epcs = links(&facts.what, 0..what_epcs);
        epcs.extend(links(&facts.children, 0..child_epcs));
        let mut other_epcs = links(&facts.inputs, 0..input_epcs);
        other_epcs.extend(links(&facts.outputs, 0..output_epcs));
        other_epcs.extend(facts.parent.as_ref().map(|parent| Text::clone(&parent.link)));
        let mut classes = links(&facts.what, what_epcs..usize::MAX);
        classes.extend(links(&facts.children, child_epcs..usize::MAX));
        let mut other_classes = links(&facts.inputs, input_epcs..usize::MAX);
        other_classes.extend(links(&facts.outputs, output_epcs..usize::MAX));
        Row {
            event_type: event.event_type.name(),
            event_time_ms: instant_ms(event.event_time.instant()),
            record_time_ms,
            action: event.action.map(|action| action.name()),
            biz_step: vocabulary(&event.biz_step),
            disposition: vocabulary(&event.disposition),
            read_point: facts.read_point.as_ref().map(|place| Text::clone(&place.link)),
            biz_location: facts.biz_location.as_ref().map(|place| Text::clone(&place.link)),
            epcs,
            other_epcs,
            classes,
            other_classes,
            declared_event_id: event.event_id.clone(),
            entry,
        }
    }
}

impl Catalogue {
    /// Adds one event's row (see [`Row::new`]).
    pub fn push(&mut self, row: Row) {
        let row_number = self.rows.len();
        self.add_event_id(row.entry.event_hash_id.clone(), row_number);
        if let Some(declared) = &row.declared_event_id
            && row.entry.event_hash_id != *declared
        {
            self.add_event_id(EventHashId::new(declared), row_number);
        }
        self.rows.push(row);
    }

    /// Records that row `row_number` carries `event_id`.
    fn add_event_id(&mut self, event_id: EventHashId, row_number: usize) {
        match self.by_event_id.entry(event_id) {
            Entry::Vacant(vacant) => {
                vacant.insert(row_number);
            }
            Entry::Occupied(occupied) => {
                let later_rows = self.more_by_event_id.entry(occupied.key().clone()).or_default();
                later_rows.push(row_number);
            }
        }
    }

    /// Entry references of the events with this id (hash id or declared eventID), in the
    /// order they were indexed.
    pub fn entries_for(&self, event_id: &str) -> Vec<EventRef> {
        let event_id = EventHashId::new(event_id);
        let Some(first_row) = self.by_event_id.get(&event_id) else {
            return Vec::new();
        };
        let later_rows = self.more_by_event_id.get(&event_id).map_or(&[][..], Vec::as_slice);
        std::iter::once(first_row)
            .chain(later_rows)
            .filter_map(|row_number| self.rows.get(*row_number))
            .map(|row| row.entry.clone())
            .collect()
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.rows.len()
    }
}

fn instant_ms(instant: time::OffsetDateTime) -> i64 {
    i64::try_from(instant.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// What a query's events must match (every parameter given, all at once).
#[derive(Debug, Default)]
struct Filter {
    event_types: Option<Vec<String>>,
    ge_event_time: Option<i64>,
    lt_event_time: Option<i64>,
    ge_record_time: Option<i64>,
    lt_record_time: Option<i64>,
    actions: Option<Vec<String>>,
    biz_steps: Option<Vec<String>>,
    dispositions: Option<Vec<String>>,
    read_points: Option<Vec<String>>,
    biz_locations: Option<Vec<String>>,
    match_epc: Option<Vec<IdentifierPattern>>,
    match_any_epc: Option<Vec<IdentifierPattern>>,
    match_epc_class: Option<Vec<IdentifierPattern>>,
    match_any_epc_class: Option<Vec<IdentifierPattern>>,
    event_ids: Option<Vec<String>>,
}

fn list(value: &str) -> Vec<String> {
    value.split('|').map(str::trim).filter(|item| !item.is_empty()).map(str::to_owned).collect()
}

fn time_parameter(name: &str, value: &str) -> Result<i64, Error> {
    epcis::Timestamp::parse(value)
        .map(|timestamp| instant_ms(timestamp.instant()))
        .ok_or_else(|| Error::QueryTime { parameter: name.to_owned(), value: value.to_owned() })
}

fn vocabulary_list(kind: epcis::cbv::VocabularyKind, value: &str) -> Vec<String> {
    list(value).into_iter().map(|word| VocabularyValue::new(kind, word).web_uri()).collect()
}

/// `MATCH_*` values: identifiers in canonical form; a trailing `*` pattern keeps its prefix.
/// A pure identity pattern (`urn:epc:idpat:sgtin:4012345.012345.*`, TDS §8) becomes its key's
/// canonical Digital Link followed by `/*`, since the events' identifiers are canonical links.
fn identifier_list(value: &str) -> Vec<String> {
    list(value).iter().map(|identifier| identifier_form(identifier)).collect()
}

/// One identifier of [`identifier_list`].
fn identifier_form(identifier: &str) -> String {
    if identifier.starts_with("urn:epc:idpat:")
        && let Some(key_link) = gs1::canonical_digital_link(identifier)
    {
        return format!("{key_link}/*");
    }
    match identifier.strip_suffix('*') {
        Some(prefix) => format!("{}*", prefix),
        None => canonical(identifier),
    }
}

/// One `MATCH_*` value as a test on canonical identifiers.
#[derive(Debug, Clone, PartialEq, Eq)]
enum IdentifierPattern {
    /// This identifier, or any starting with the text before a trailing `*` (see
    /// [`identifier_list`]).
    Text(String),
    /// A pure identity pattern wildcarding everything after the company prefix
    /// (`urn:epc:idpat:sgtin:4012345.*.*`, or `*.*.*` for every key of the scheme): the GS1 key
    /// under `ai` whose digits from `offset` start with `company_prefix` (empty: any).
    CompanyPrefix { ai: &'static str, offset: usize, company_prefix: String },
}

/// Where a pure identity scheme's company prefix sits in its canonical Digital Link: the
/// application identifier of the key and the digit the prefix starts at (after an indicator
/// or extension digit for GTIN, SSCC and GRAI). Schemes whose key holds no company prefix at a
/// fixed place are absent.
fn company_prefix_place(scheme: &str) -> Option<(&'static str, usize)> {
    Some(match scheme {
        "sgtin" => ("01", 1),
        "sscc" => ("00", 1),
        "sgln" => ("414", 0),
        "grai" => ("8003", 1),
        "giai" => ("8004", 0),
        "gsrn" => ("8018", 0),
        "gsrnp" => ("8017", 0),
        "gdti" => ("253", 0),
        "sgcn" => ("255", 0),
        "cpi" => ("8010", 0),
        _ => return None,
    })
}

/// `MATCH_*` values: [`identifier_list`], and pure identity patterns that wildcard the fields
/// after the company prefix (TDS §8 allows `*` for any field once every later field is `*`).
fn pattern_list(value: &str) -> Vec<IdentifierPattern> {
    list(value)
        .into_iter()
        .map(|identifier| {
            company_prefix_pattern(&identifier)
                .unwrap_or_else(|| IdentifierPattern::Text(identifier_form(&identifier)))
        })
        .collect()
}

/// `urn:epc:idpat:SCHEME:PREFIX.*…` or `urn:epc:idpat:SCHEME:*.*…` as a company-prefix test.
fn company_prefix_pattern(identifier: &str) -> Option<IdentifierPattern> {
    let body = identifier.strip_prefix("urn:epc:idpat:")?;
    let (scheme, fields) = body.split_once(':')?;
    let (ai, offset) = company_prefix_place(scheme)?;
    let mut fields = fields.split('.');
    let company_prefix = fields.next()?;
    let mut rest = fields.peekable();
    if rest.peek().is_none() || !rest.all(|field| field == "*") {
        return None;
    }
    let company_prefix = match company_prefix {
        "*" => String::new(),
        digits if !digits.is_empty() && digits.bytes().all(|byte| byte.is_ascii_digit()) => {
            digits.to_owned()
        }
        _ => return None,
    };
    Some(IdentifierPattern::CompanyPrefix { ai, offset, company_prefix })
}

fn identifiers<'row>(lists: &[&'row Vec<Text>]) -> Vec<&'row Text> {
    lists.iter().flat_map(|list| list.iter()).collect()
}

fn matches_identifier(wanted: &[IdentifierPattern], present: &[&Text]) -> bool {
    wanted.iter().any(|pattern| match pattern {
        IdentifierPattern::Text(text) => match text.strip_suffix('*') {
            // `key/*` also matches the bare key: an SGLN pattern covers extension 0, whose
            // canonical link is the GLN alone.
            Some(prefix) => present.iter().any(|identifier| {
                let identifier: &str = identifier;
                identifier.starts_with(prefix) || prefix.strip_suffix('/') == Some(identifier)
            }),
            None => present.iter().any(|identifier| identifier.as_ref() == text),
        },
        IdentifierPattern::CompanyPrefix { ai, offset, company_prefix } => {
            present.iter().any(|identifier| {
                gs1_key(identifier, ai).is_some_and(|key| {
                    key.get(*offset..).is_some_and(|digits| digits.starts_with(company_prefix))
                })
            })
        }
    })
}

/// The key under `ai` of a canonical Digital Link (`https://id.gs1.org/{ai}/{key}[/…]`).
fn gs1_key<'link>(link: &'link str, ai: &str) -> Option<&'link str> {
    let path = link.strip_prefix("https://id.gs1.org/")?;
    let key = path.strip_prefix(ai)?.strip_prefix('/')?;
    Some(key.split('/').next().unwrap_or(key))
}

/// An EPCIS `SimpleEventQuery`: what to match and which page to answer.
#[derive(Debug)]
pub struct EventQuery {
    /// What the events must match.
    filter: Filter,
    /// Events per page.
    per_page: usize,
    /// Catalogue position the page starts at (the `nextPageToken` this node issued).
    offset: usize,
}

impl EventQuery {
    /// The query named by EPCIS 2.0 query parameters (name, value), as any binding of the
    /// standard query carries them; the first parameter broken or unknown is refused by name.
    pub fn parse<'parameter>(
        parameters: impl IntoIterator<Item = (&'parameter str, &'parameter str)>,
    ) -> Result<Self, Error> {
        let mut filter = Filter::default();
        let mut per_page = DEFAULT_PER_PAGE;
        let mut offset = 0usize;
        for (name, value) in parameters {
            match name {
                "eventType" => filter.event_types = Some(list(value)),
                "GE_eventTime" => filter.ge_event_time = Some(time_parameter(name, value)?),
                "LT_eventTime" => filter.lt_event_time = Some(time_parameter(name, value)?),
                "GE_recordTime" => filter.ge_record_time = Some(time_parameter(name, value)?),
                "LT_recordTime" => filter.lt_record_time = Some(time_parameter(name, value)?),
                "EQ_action" => filter.actions = Some(list(value)),
                "EQ_bizStep" => {
                    filter.biz_steps =
                        Some(vocabulary_list(epcis::cbv::VocabularyKind::BizStep, value))
                }
                "EQ_disposition" => {
                    filter.dispositions =
                        Some(vocabulary_list(epcis::cbv::VocabularyKind::Disposition, value))
                }
                "EQ_readPoint" => filter.read_points = Some(identifier_list(value)),
                "EQ_bizLocation" => filter.biz_locations = Some(identifier_list(value)),
                "MATCH_epc" => filter.match_epc = Some(pattern_list(value)),
                "MATCH_anyEPC" => filter.match_any_epc = Some(pattern_list(value)),
                "MATCH_epcClass" => filter.match_epc_class = Some(pattern_list(value)),
                "MATCH_anyEPCClass" => filter.match_any_epc_class = Some(pattern_list(value)),
                "EQ_eventID" => filter.event_ids = Some(list(value)),
                "perPage" => {
                    per_page = value
                        .parse::<usize>()
                        .ok()
                        .filter(|count| (1..=MAX_PER_PAGE).contains(count))
                        .ok_or_else(|| Error::PageSize { value: value.to_owned() })?
                }
                "nextPageToken" => {
                    offset = value
                        .parse::<usize>()
                        .map_err(|_| Error::PageToken { token: value.to_owned() })?
                }
                other => {
                    return Err(Error::UnsupportedQueryParameter { parameter: other.to_owned() });
                }
            }
        }
        Ok(Self { filter, per_page, offset })
    }
}

impl Filter {
    fn accepts(&self, row: &Row) -> bool {
        let in_vocabulary_list =
            |wanted: &Option<Vec<String>>, term: Option<&VocabularyTerm>| match wanted {
                None => true,
                Some(wanted) => {
                    term.is_some_and(|term| wanted.iter().any(|web_uri| term.has_web_uri(web_uri)))
                }
            };
        let in_list = |wanted: &Option<Vec<String>>, value: Option<&str>| match wanted {
            None => true,
            Some(wanted) => value.is_some_and(|value| wanted.iter().any(|item| item == value)),
        };
        in_list(&self.event_types, Some(row.event_type))
            && self.ge_event_time.is_none_or(|bound| row.event_time_ms >= bound)
            && self.lt_event_time.is_none_or(|bound| row.event_time_ms < bound)
            && self.ge_record_time.is_none_or(|bound| row.record_time_ms >= bound)
            && self.lt_record_time.is_none_or(|bound| row.record_time_ms < bound)
            && in_list(&self.actions, row.action)
            && in_vocabulary_list(&self.biz_steps, row.biz_step.as_ref())
            && in_vocabulary_list(&self.dispositions, row.disposition.as_ref())
            && in_list(&self.read_points, row.read_point.as_deref())
            && in_list(&self.biz_locations, row.biz_location.as_deref())
            && self
                .match_epc
                .as_ref()
                .is_none_or(|wanted| matches_identifier(wanted, &identifiers(&[&row.epcs])))
            && self.match_any_epc.as_ref().is_none_or(|wanted| {
                matches_identifier(wanted, &identifiers(&[&row.epcs, &row.other_epcs]))
            })
            && self
                .match_epc_class
                .as_ref()
                .is_none_or(|wanted| matches_identifier(wanted, &identifiers(&[&row.classes])))
            && self.match_any_epc_class.as_ref().is_none_or(|wanted| {
                matches_identifier(wanted, &identifiers(&[&row.classes, &row.other_classes]))
            })
            && self.event_ids.as_ref().is_none_or(|wanted| {
                wanted.iter().any(|id| {
                    row.entry.event_hash_id == *id || Some(id) == row.declared_event_id.as_ref()
                })
            })
    }
}

impl Ledger {
    /// Runs an EPCIS query (`GET /events`): one page of matching events, read from the store.
    pub fn query_events(&self, query: &EventQuery) -> Result<EventPage, Error> {
        let EventQuery { filter, per_page, offset } = query;
        let (per_page, offset) = (*per_page, *offset);
        let (matched, next_offset) = {
            let catalogue = super::read_lock(&self.catalogue);
            // Tokens are positions of existing rows (rows are only appended): one beyond the
            // catalogue was never issued, and an empty page would read as "no more results".
            if offset > 0 && offset >= catalogue.rows.len() {
                return Err(Error::PageToken { token: offset.to_string() });
            }
            let mut matched = Vec::new();
            let mut next_offset = None;
            for (position, row) in (offset..).zip(catalogue.rows.iter_from(offset)) {
                if !filter.accepts(row) {
                    continue;
                }
                if matched.len() == per_page {
                    next_offset = Some(position);
                    break;
                }
                matched.push(row.entry.clone());
            }
            (matched, next_offset)
        };
        let events = matched
            .iter()
            .map(|reference| self.stored_event(reference))
            .collect::<Result<_, _>>()?;
        let next_page_token = next_offset.map(|position| position.to_string());
        Ok(EventPage { events, next_page_token })
    }

    /// The event an indexed entry carries, read back from the store.
    fn stored_event(&self, reference: &EventRef) -> Result<StoredEvent, Error> {
        let EntryRef { author, sequence, .. } = reference.entry;
        let entry = self
            .store
            .entry(&author, sequence)?
            .ok_or(Error::IndexedEntryMissing { author, sequence })?;
        let Some(lotline_ledger::records::Payload::Epcis(capture)) = entry.payload() else {
            return Err(Error::IndexedEntryNotEvent);
        };
        let event =
            epcis::decode_stored_event(&capture.original).map_err(Error::StoredEventUnreadable)?;
        Ok(StoredEvent { event, event_hash_id: capture.event_id.clone() })
    }

    /// `GET /events/{eventID}`: the first event indexed under this Event Hash ID or declared
    /// `eventID`.
    pub fn event(&self, event_id: &str) -> Result<StoredEvent, Error> {
        let references = super::read_lock(&self.catalogue).entries_for(event_id);
        let reference = references
            .first()
            .ok_or_else(|| Error::UnknownEvent { event_id: event_id.to_owned() })?;
        self.stored_event(reference)
    }
}

#[cfg(test)]
mod tests {
    use lotline_ledger::entry::EntryHash;
    use lotline_ledger::identity::Keypair;
    use lotline_ledger::trace::facts::CanonicalCache;

    use super::*;

    const EVENT_JSON: &str = r#"{
        "type": "ObjectEvent",
        "eventTime": "2024-03-01T10:00:00.000Z",
        "eventTimeZoneOffset": "+00:00",
        "epcList": ["https://id.gs1.org/01/09506000134352/21/7"],
        "action": "OBSERVE",
        "bizStep": "shipping"
    }"#;

    fn hash_id(digit: char) -> String {
        format!("ni:///sha-256;{}?ver=CBV2.0", digit.to_string().repeat(64))
    }

    fn row(sequence: u64, event_hash_id: &str, declared_event_id: Option<&str>) -> Row {
        let mut event = epcis::parse_event_json_bytes(EVENT_JSON.as_bytes())
            .unwrap_or_else(|error| panic!("the test event parses: {error}"));
        event.event_id = declared_event_id.map(str::to_owned);
        let facts = Facts::from_event_cached(&event, &mut CanonicalCache::default());
        let entry = EventRef {
            entry: EntryRef {
                author: Keypair::from_seed([3; 32]).public_key(),
                sequence,
                entry_hash: EntryHash::from_bytes([u8::try_from(sequence).unwrap_or(u8::MAX); 32]),
            },
            event_hash_id: EventHashId::new(event_hash_id),
        };
        Row::new(entry, 0, &event, &facts)
    }

    fn sequences(catalogue: &Catalogue, event_id: &str) -> Vec<u64> {
        catalogue.entries_for(event_id).iter().map(|reference| reference.entry.sequence).collect()
    }

    #[test]
    fn a_vocabulary_term_matches_exactly_the_web_uri_of_its_value() {
        use lotline_ledger::epcis::cbv::VocabularyKind;
        let values = [
            (VocabularyKind::BizStep, "shipping"),
            (VocabularyKind::BizStep, "https://ref.gs1.org/cbv/BizStep-receiving"),
            (VocabularyKind::BizStep, "urn:epcglobal:cbv:bizstep:commissioning"),
            (VocabularyKind::Disposition, "in_transit"),
            (VocabularyKind::BizStep, " https://example.com/steps/sorting "),
        ];
        let web_uris: Vec<String> = values
            .iter()
            .map(|(kind, written)| VocabularyValue::new(*kind, *written).web_uri())
            .collect();
        for (value_number, (kind, written)) in values.iter().enumerate() {
            let term = VocabularyTerm::of(&VocabularyValue::new(*kind, *written));
            for (uri_number, web_uri) in web_uris.iter().enumerate() {
                assert_eq!(
                    term.has_web_uri(web_uri),
                    value_number == uri_number,
                    "{written} against {web_uri}"
                );
            }
            assert!(!term.has_web_uri("shipping"), "{written} matched a bare word");
        }
    }

    #[test]
    fn every_row_carrying_an_id_is_found_in_indexing_order() {
        let mut catalogue = Catalogue::default();
        catalogue.push(row(0, &hash_id('a'), None));
        catalogue.push(row(1, &hash_id('b'), Some("urn:uuid:declared-1")));
        catalogue.push(row(2, &hash_id('a'), None));
        catalogue.push(row(3, &hash_id('c'), Some("urn:uuid:declared-1")));
        catalogue.push(row(4, &hash_id('a'), None));
        assert_eq!(catalogue.len(), 5);
        assert_eq!(sequences(&catalogue, &hash_id('a')), [0, 2, 4]);
        assert_eq!(sequences(&catalogue, &hash_id('b')), [1]);
        assert_eq!(sequences(&catalogue, "urn:uuid:declared-1"), [1, 3]);
        assert!(sequences(&catalogue, &hash_id('d')).is_empty());
    }
}
