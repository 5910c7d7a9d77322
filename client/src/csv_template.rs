//! The CSV capture template for small suppliers (documented in `docs/csv-template.md`): one
//! row per lot line, rows grouped into events, turned into an EPCIS 2.0 JSON-LD document.
//!
//! Owns the template's columns, the step words and their EPCIS meaning, and line-level error
//! reporting (every bad cell of every line, not just the first). Deliberately does not own
//! EPCIS validation or GS1 syntax: the built document is checked by `lotline_ledger::epcis`
//! and identifiers by `lotline_ledger::gs1`, and their errors are mapped back to CSV lines.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;

use serde_json::{Map, Value, json};

use crate::identifier::{location_digital_link, lot_digital_link};

/// Characters percent-encoded in a business transaction number written into a CBV URN:
/// everything except the RFC 3986 unreserved set.
const URN_COMPONENT_ESCAPES: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// One column of the template. Header names are matched case-insensitively, in any order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Column {
    /// Groups rows into one event; blank means "this row is an event on its own".
    Event,
    /// What happened: one of the [`Step`] words.
    Step,
    /// When, as RFC 3339 with an offset (`2026-03-01T08:00:00+02:00`).
    Time,
    /// The GTIN (8, 12, 13 or 14 digits with a valid check digit).
    Gtin,
    /// The lot or batch number (the FSMA Traceability Lot Code with the GTIN).
    Lot,
    /// How much of the lot (a decimal number).
    Quantity,
    /// The unit of `quantity` (UN/CEFACT Rec 20: `KGM`, `EA`, `LBR`…).
    Uom,
    /// `input` or `output`: the side of a transformation a row is on.
    Role,
    /// The GLN where the step happened.
    Location,
    /// The GLN the goods came from (shipping: ship-from; receiving: previous source).
    From,
    /// The GLN the goods go to (shipping: ship-to).
    To,
    /// The reference document type (CBV words: `po`, `bol`, `desadv`, `inv`, `prodorder`…).
    DocumentType,
    /// The reference document number.
    DocumentNumber,
}

impl Column {
    /// Every column, in the order the documentation lists them.
    pub const ALL: [Column; 13] = [
        Column::Event,
        Column::Step,
        Column::Time,
        Column::Gtin,
        Column::Lot,
        Column::Quantity,
        Column::Uom,
        Column::Role,
        Column::Location,
        Column::From,
        Column::To,
        Column::DocumentType,
        Column::DocumentNumber,
    ];

    /// Columns a file must have.
    const REQUIRED: [Column; 4] = [Column::Step, Column::Time, Column::Gtin, Column::Lot];

    /// The header name.
    pub fn name(self) -> &'static str {
        match self {
            Column::Event => "event",
            Column::Step => "step",
            Column::Time => "time",
            Column::Gtin => "gtin",
            Column::Lot => "lot",
            Column::Quantity => "quantity",
            Column::Uom => "uom",
            Column::Role => "role",
            Column::Location => "location",
            Column::From => "from",
            Column::To => "to",
            Column::DocumentType => "document_type",
            Column::DocumentNumber => "document_number",
        }
    }

    fn from_header(header: &str) -> Option<Column> {
        let normalised_header = header.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        Column::ALL.into_iter().find(|column| column.name() == normalised_header)
    }
}

/// What happened, in the words of a small supplier (and of FSMA 204's Critical Tracking
/// Events), with the EPCIS event each becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Harvest of a raw agricultural commodity: creates the lot (ObjectEvent ADD, `commissioning`).
    Harvesting,
    /// Cooling before initial packing (ObjectEvent OBSERVE, `storing`).
    Cooling,
    /// Initial packing: creates the packed lot (ObjectEvent ADD, `packing`).
    Packing,
    /// Goods leave for another party (ObjectEvent OBSERVE, `shipping`, `in_transit`).
    Shipping,
    /// Goods arrive from another party (ObjectEvent OBSERVE, `receiving`, `in_progress`).
    Receiving,
    /// Inputs become new lots (TransformationEvent, `commissioning`).
    Transformation,
}

impl Step {
    /// Every step.
    pub const ALL: [Step; 6] = [
        Step::Harvesting,
        Step::Cooling,
        Step::Packing,
        Step::Shipping,
        Step::Receiving,
        Step::Transformation,
    ];

    /// The word written in the `step` column.
    pub fn name(self) -> &'static str {
        match self {
            Step::Harvesting => "harvesting",
            Step::Cooling => "cooling",
            Step::Packing => "packing",
            Step::Shipping => "shipping",
            Step::Receiving => "receiving",
            Step::Transformation => "transformation",
        }
    }

    fn from_word(word: &str) -> Option<Step> {
        let word = word.trim().to_ascii_lowercase();
        Step::ALL.into_iter().find(|step| step.name() == word)
    }

    /// The EPCIS `action` (none for a TransformationEvent).
    fn action(self) -> Option<&'static str> {
        match self {
            Step::Harvesting | Step::Packing => Some("ADD"),
            Step::Cooling | Step::Shipping | Step::Receiving => Some("OBSERVE"),
            Step::Transformation => None,
        }
    }

    /// The CBV business step (bare word, as the JSON-LD binding writes it).
    fn biz_step(self) -> &'static str {
        match self {
            Step::Harvesting | Step::Transformation => "commissioning",
            Step::Cooling => "storing",
            Step::Packing => "packing",
            Step::Shipping => "shipping",
            Step::Receiving => "receiving",
        }
    }

    /// The CBV disposition afterwards.
    fn disposition(self) -> &'static str {
        match self {
            Step::Harvesting | Step::Packing | Step::Transformation | Step::Cooling => "active",
            Step::Shipping => "in_transit",
            Step::Receiving => "in_progress",
        }
    }
}

/// One problem on one line of the CSV file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// The 1-based line number in the file (the header is line 1).
    pub line: u64,
    /// The column at fault, when one is.
    pub column: Option<&'static str>,
    /// What is wrong, lowercase, naming the rule.
    pub message: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.column {
            Some(column) => write!(formatter, "line {}: {column}: {}", self.line, self.message),
            None => write!(formatter, "line {}: {}", self.line, self.message),
        }
    }
}

/// Every problem found in a CSV file, in line order; the file is rejected as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct TemplateErrors(pub Vec<LineError>);

impl fmt::Display for TemplateErrors {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let error_lines: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        formatter.write_str(&error_lines.join("\n"))
    }
}

/// A CSV file turned into an EPCIS document, with the CSV lines behind each event.
#[derive(Debug, Clone)]
pub struct Template {
    /// The EPCIS 2.0 JSON-LD capture document.
    pub document: Value,
    /// For each event (document order), the CSV lines it was built from.
    pub event_lines: Vec<Vec<u64>>,
}

/// One data row, its cells already checked.
#[derive(Debug, Clone)]
struct Row {
    line: u64,
    group_key: Option<String>,
    step: Step,
    time: String,
    zone_offset: String,
    quantity_element: Value,
    is_input: bool,
    location: Option<String>,
    from: Option<String>,
    to: Option<String>,
    document: Option<(String, String)>,
}

/// Reads a template CSV file and builds the EPCIS document, or reports every bad line.
///
/// `on_row` is called after each data row (for a progress bar on large files).
pub fn parse_template(
    mut reader: impl Read,
    mut on_row: impl FnMut(u64),
) -> Result<Template, TemplateErrors> {
    // Read whole, so every line number is counted from the bytes ([`LineCounter`]).
    let mut text = Vec::new();
    reader.read_to_end(&mut text).map_err(|error| {
        TemplateErrors(vec![LineError {
            line: 1,
            column: None,
            message: format!("cannot read the file: {error}"),
        }])
    })?;
    let mut lines = LineCounter::new(&text);
    let mut csv_reader =
        csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(&text[..]);
    let mut errors = Vec::new();
    let headers = csv_reader.headers().map_err(|error| {
        TemplateErrors(vec![LineError {
            line: 1,
            column: None,
            message: format!("cannot read the header row: {error}"),
        }])
    })?;
    let mut column_positions = BTreeMap::new();
    for (position, header) in headers.iter().enumerate() {
        match Column::from_header(header) {
            Some(column) if column_positions.contains_key(&column) => errors.push(LineError {
                line: 1,
                column: Some(column.name()),
                message: "the column appears twice".to_owned(),
            }),
            Some(column) => {
                column_positions.insert(column, position);
            }
            None => errors.push(LineError {
                line: 1,
                column: None,
                message: format!(
                    "unknown column {header:?} (known: {})",
                    Column::ALL.map(Column::name).join(", ")
                ),
            }),
        }
    }
    for required in Column::REQUIRED {
        if !column_positions.contains_key(&required) {
            errors.push(LineError {
                line: 1,
                column: Some(required.name()),
                message: "the required column is missing".to_owned(),
            });
        }
    }
    if !errors.is_empty() {
        return Err(TemplateErrors(errors));
    }

    let mut rows = Vec::new();
    for (row_index, record) in csv_reader.records().enumerate() {
        let fallback_line = row_index as u64 + 2;
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                let line = error
                    .position()
                    .map_or(fallback_line, |position| lines.line_at(position.byte()));
                errors.push(LineError { line, column: None, message: error.to_string() });
                continue;
            }
        };
        let line =
            record.position().map_or(fallback_line, |position| lines.line_at(position.byte()));
        if record.iter().all(str::is_empty) {
            continue;
        }
        let cell = |column: Column| {
            column_positions
                .get(&column)
                .and_then(|position| record.get(*position))
                .filter(|text| !text.is_empty())
        };
        match parse_row(line, cell) {
            Ok(row) => rows.push(row),
            Err(row_errors) => errors.extend(row_errors),
        }
        on_row(line);
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push(LineError {
            line: 2,
            column: None,
            message: "the file has no data rows".into(),
        });
    }
    let (events, event_lines) = group_rows(&rows, &mut errors);
    if !errors.is_empty() {
        errors.sort_by_key(|error| error.line);
        return Err(TemplateErrors(errors));
    }
    let creation_date = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned());
    let document = lotline_ledger::epcis::document_envelope(&creation_date, events);
    Ok(Template { document, event_lines })
}

/// The line numbers of records, as an editor or spreadsheet numbers the file's lines: `\n`,
/// `\r\n` and a lone `\r` each end a line. The csv crate's own `Position::line` counts `\n`
/// only, and before the `\n` of a record's `\r\n` is read, so it is one short for files
/// saved with CRLF line ends (as spreadsheets on Windows save them) and after blank lines.
pub(crate) struct LineCounter<'text> {
    /// The whole file.
    text: &'text [u8],
    /// How far `line` is counted.
    scanned: usize,
    /// The line at byte `scanned`.
    line: u64,
}

impl<'text> LineCounter<'text> {
    /// A counter over the whole file.
    pub(crate) fn new(text: &'text [u8]) -> Self {
        Self { text, scanned: 0, line: 1 }
    }

    /// The line of the record whose position is `byte`: the csv crate may place a record at
    /// the line ends before it, which are skipped (a record never starts with one: a record
    /// of nothing is no record, and a quoted field starts with its quote).
    pub(crate) fn line_at(&mut self, byte: u64) -> u64 {
        let mut start = usize::try_from(byte).unwrap_or(usize::MAX).min(self.text.len());
        while self.text.get(start).is_some_and(|byte| matches!(byte, b'\r' | b'\n')) {
            start += 1;
        }
        if start < self.scanned {
            (self.scanned, self.line) = (0, 1);
        }
        for index in self.scanned..start {
            let ends_a_line = match self.text[index] {
                b'\n' => true,
                b'\r' => self.text.get(index + 1) != Some(&b'\n'),
                _ => false,
            };
            self.line += u64::from(ends_a_line);
        }
        self.scanned = start;
        self.line
    }
}

/// Checks one row's cells; every bad cell becomes one [`LineError`].
fn parse_row<'record>(
    line: u64,
    cell: impl Fn(Column) -> Option<&'record str>,
) -> Result<Row, Vec<LineError>> {
    let mut errors = Vec::new();
    let mut fail = |column: Column, message: String| {
        errors.push(LineError { line, column: Some(column.name()), message });
    };

    let step = match cell(Column::Step) {
        None => {
            fail(Column::Step, "is empty".to_owned());
            None
        }
        Some(word) => {
            let step = Step::from_word(word);
            if step.is_none() {
                let known_steps = Step::ALL.map(Step::name).join(", ");
                fail(Column::Step, format!("{word:?} is not one of {known_steps}"));
            }
            step
        }
    };

    let mut zone_offset = String::new();
    let time = cell(Column::Time).map(str::to_owned);
    match time.as_deref() {
        None => fail(Column::Time, "is empty".to_owned()),
        Some(text) => match lotline_ledger::epcis::Timestamp::parse(text) {
            Some(timestamp) => {
                zone_offset = lotline_ledger::epcis::format_offset(timestamp.instant().offset());
            }
            None => fail(
                Column::Time,
                format!(
                    "{text:?} is not an RFC 3339 time with an offset like 2026-03-01T08:00:00+02:00"
                ),
            ),
        },
    }

    let mut lot_class = None;
    match (cell(Column::Gtin), cell(Column::Lot)) {
        (None, _) => fail(Column::Gtin, "is empty".to_owned()),
        (_, None) => fail(Column::Lot, "is empty".to_owned()),
        (Some(gtin), Some(lot)) => match lot_digital_link(gtin, lot) {
            Err(reason) => fail(Column::Gtin, reason),
            Ok(link) => match lotline_ledger::gs1::parse_digital_link(&link)
                .ok()
                .and_then(|_| lotline_ledger::gs1::canonical_digital_link(&link))
            {
                Some(canonical) => lot_class = Some(canonical),
                None => fail(
                    Column::Gtin,
                    format!(
                        "{gtin:?} with lot {lot:?} is not a valid GS1 lot (check digit, or a lot of at most 20 GS1 characters)"
                    ),
                ),
            },
        },
    }

    let quantity = cell(Column::Quantity).and_then(|text| match text.parse::<f64>() {
        Ok(value) if value.is_finite() && value > 0.0 => Some(value),
        _ => {
            fail(Column::Quantity, format!("{text:?} is not a positive number"));
            None
        }
    });
    let uom = cell(Column::Uom).map(str::to_owned);
    if let Some(unit) = &uom {
        let is_rec20_code = (2..=3).contains(&unit.len())
            && unit.bytes().all(|byte| byte.is_ascii_uppercase() || byte.is_ascii_digit());
        if !is_rec20_code {
            fail(Column::Uom, format!("{unit:?} is not a UN/CEFACT Rec 20 code like KGM or EA"));
        }
        if quantity.is_none() && cell(Column::Quantity).is_none() {
            fail(Column::Quantity, "is empty but a unit is given".to_owned());
        }
    }

    let is_input = match cell(Column::Role).map(str::to_ascii_lowercase).as_deref() {
        None | Some("output") => false,
        Some("input") => true,
        Some(other) => {
            fail(Column::Role, format!("{other:?} is not input or output"));
            false
        }
    };
    if cell(Column::Role).is_some() && step.is_some_and(|step| step != Step::Transformation) {
        fail(Column::Role, "is only used on transformation rows".to_owned());
    }

    let mut place = |column: Column| {
        cell(column).and_then(|text| match location_digital_link(text) {
            Some(link) => Some(link),
            None => {
                fail(column, format!("{text:?} is not a GLN (13 digits with a valid check digit)"));
                None
            }
        })
    };
    let location = place(Column::Location);
    let from = place(Column::From);
    let to = place(Column::To);

    let document = match (cell(Column::DocumentType), cell(Column::DocumentNumber)) {
        (None, None) => None,
        (Some(_), None) => {
            fail(Column::DocumentNumber, "is empty but document_type is given".to_owned());
            None
        }
        (document_type, Some(number)) => {
            let document_type = document_type.unwrap_or("").to_ascii_lowercase();
            let is_known_type = document_type.is_empty()
                || lotline_ledger::epcis::cbv::VocabularyKind::BizTransactionType
                    .contains(&document_type);
            if !is_known_type {
                fail(
                    Column::DocumentType,
                    format!(
                        "{document_type:?} is not a CBV business transaction type (po, bol, desadv, inv, prodorder, …)"
                    ),
                );
            }
            if names_a_uri(number)
                && let Err(problem) =
                    lotline_ledger::epcis::validate::check_uri_to_sign("bizTransaction", number)
            {
                let rule = match problem {
                    lotline_ledger::epcis::Problem::InvalidValue { rule, .. } => rule,
                    other => other.to_string(),
                };
                fail(
                    Column::DocumentNumber,
                    format!(
                        "{number:?} is taken as a URI (it begins with a scheme and a colon) but {rule}"
                    ),
                );
            }
            Some((document_type, number.to_owned()))
        }
    };

    match (step, time, lot_class) {
        (Some(step), Some(time), Some(lot_class)) if errors.is_empty() => {
            let mut quantity_element = Map::new();
            quantity_element.insert("epcClass".into(), Value::String(lot_class));
            if let Some(quantity) = quantity {
                quantity_element.insert("quantity".into(), json!(quantity));
            }
            if let Some(uom) = uom {
                quantity_element.insert("uom".into(), Value::String(uom));
            }
            Ok(Row {
                line,
                group_key: cell(Column::Event).map(str::to_owned),
                step,
                time,
                zone_offset,
                quantity_element: Value::Object(quantity_element),
                is_input,
                location,
                from,
                to,
                document,
            })
        }
        _ => Err(errors),
    }
}

/// Groups rows into events (by `event` key, or one per row) and builds each event's JSON-LD.
/// Rows of one event must agree on step, time, places and document.
fn group_rows(rows: &[Row], errors: &mut Vec<LineError>) -> (Vec<Value>, Vec<Vec<u64>>) {
    let mut groups: Vec<Vec<&Row>> = Vec::new();
    let mut group_by_key: BTreeMap<&str, usize> = BTreeMap::new();
    for row in rows {
        match row.group_key.as_deref() {
            Some(key) => match group_by_key.get(key) {
                Some(&group_index) => groups[group_index].push(row),
                None => {
                    group_by_key.insert(key, groups.len());
                    groups.push(vec![row]);
                }
            },
            None => groups.push(vec![row]),
        }
    }
    let mut events = Vec::new();
    let mut event_lines = Vec::new();
    for group in groups {
        let first = group[0];
        for row in &group[1..] {
            let disagreements = [
                (row.step != first.step, Column::Step),
                (row.time != first.time, Column::Time),
                (row.location != first.location, Column::Location),
                (row.from != first.from, Column::From),
                (row.to != first.to, Column::To),
                (row.document != first.document, Column::DocumentNumber),
            ];
            for (disagrees, column) in disagreements {
                if disagrees {
                    errors.push(LineError {
                        line: row.line,
                        column: Some(column.name()),
                        message: format!(
                            "differs from line {} of the same event {:?}",
                            first.line,
                            first.group_key.as_deref().unwrap_or_default()
                        ),
                    });
                }
            }
        }
        if first.step == Step::Transformation {
            let has_input = group.iter().any(|row| row.is_input);
            let has_output = group.iter().any(|row| !row.is_input);
            if !has_input || !has_output {
                errors.push(LineError {
                    line: first.line,
                    column: Some(Column::Role.name()),
                    message: "a transformation needs at least one input row and one output row"
                        .to_owned(),
                });
            }
        }
        events.push(event_json(&group));
        event_lines.push(group.iter().map(|row| row.line).collect());
    }
    (events, event_lines)
}

/// The JSON-LD of one event built from its (agreeing) rows.
fn event_json(group: &[&Row]) -> Value {
    let first = group[0];
    let mut event = Map::new();
    let event_type =
        if first.step == Step::Transformation { "TransformationEvent" } else { "ObjectEvent" };
    event.insert("type".into(), json!(event_type));
    event.insert("eventTime".into(), json!(first.time));
    event.insert("eventTimeZoneOffset".into(), json!(first.zone_offset));
    let quantities = |wanted_input: bool| -> Vec<Value> {
        group
            .iter()
            .filter(|row| row.is_input == wanted_input)
            .map(|row| row.quantity_element.clone())
            .collect()
    };
    if first.step == Step::Transformation {
        event.insert("inputQuantityList".into(), Value::Array(quantities(true)));
        event.insert("outputQuantityList".into(), Value::Array(quantities(false)));
    } else {
        event.insert("epcList".into(), json!([]));
        event.insert("quantityList".into(), Value::Array(quantities(false)));
    }
    if let Some(action) = first.step.action() {
        event.insert("action".into(), json!(action));
    }
    event.insert("bizStep".into(), json!(first.step.biz_step()));
    event.insert("disposition".into(), json!(first.step.disposition()));
    if let Some(location) = &first.location {
        event.insert("readPoint".into(), json!({"id": location}));
        event.insert("bizLocation".into(), json!({"id": location}));
    }
    if let Some((document_type, number)) = &first.document {
        let transaction_id = business_transaction_uri(first, number);
        let mut transaction = Map::new();
        if !document_type.is_empty() {
            transaction.insert("type".into(), json!(document_type));
        }
        transaction.insert("bizTransaction".into(), json!(transaction_id));
        event.insert("bizTransactionList".into(), json!([transaction]));
    }
    if let Some(from) = &first.from {
        event.insert("sourceList".into(), json!([{"type": "location", "source": from}]));
    }
    if let Some(to) = &first.to {
        event.insert("destinationList".into(), json!([{"type": "location", "destination": to}]));
    }
    Value::Object(event)
}

/// A business transaction identifier for a document number: kept when it already is a URI
/// (checked by [`parse_row`]), otherwise the CBV form `urn:epcglobal:cbv:bt:<GLN>:<number>`
/// under the GLN of the party that issued it (the ship-from for shipping and receiving
/// documents, else the location).
fn business_transaction_uri(row: &Row, number: &str) -> String {
    if names_a_uri(number) {
        return number.to_owned();
    }
    let issuer_gln = [&row.from, &row.location, &row.to]
        .into_iter()
        .flatten()
        .find_map(|link| link.rsplit('/').next().filter(|gln| gln.len() == 13))
        .unwrap_or("0000000000000");
    let encoded_number = percent_encoding::utf8_percent_encode(number, URN_COMPONENT_ESCAPES);
    format!("urn:epcglobal:cbv:bt:{issuer_gln}:{encoded_number}")
}

/// Whether a document number is written as a URI: it begins with an RFC 3986 scheme (a
/// letter, then letters, digits, `+`, `-` or `.`) and a colon, as `urn:` and `https:` do. Any
/// other number, colons and all (`12:30`, `:7`), is a plain number for the CBV URN.
fn names_a_uri(number: &str) -> bool {
    number.split_once(':').is_some_and(|(scheme, _)| {
        let mut scheme_chars = scheme.chars();
        scheme_chars.next().is_some_and(|first| first.is_ascii_alphabetic())
            && scheme_chars
                .all(|other| other.is_ascii_alphanumeric() || matches!(other, '+' | '-' | '.'))
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small supplier's week: harvest, pack (transformation), ship two lots on one BOL.
    pub(crate) const GOOD_TEMPLATE: &str = "\
event,step,time,gtin,lot,quantity,uom,role,location,from,to,document_type,document_number
,harvesting,2026-03-01T07:00:00+01:00,09506000134352,FIELD7,500,KGM,,9506000134352,,,,
pack-1,transformation,2026-03-02T09:00:00+01:00,09506000134352,FIELD7,480,KGM,input,9506000134352,,,prodorder,PO-77
pack-1,transformation,2026-03-02T09:00:00+01:00,9506000134376,PACK42,96,EA,output,9506000134352,,,prodorder,PO-77
ship-9,shipping,2026-03-03T16:30:00+01:00,9506000134376,PACK42,60,EA,,9506000134352,9506000134352,4012345000115,bol,BOL-1
ship-9,shipping,2026-03-03T16:30:00+01:00,9506000134376,PACK43,30,EA,,9506000134352,9506000134352,4012345000115,bol,BOL-1
";

    fn parse(text: &str) -> Result<Template, TemplateErrors> {
        parse_template(text.as_bytes(), |_| {})
    }

    #[test]
    fn a_good_file_becomes_a_valid_epcis_document_grouped_by_event() {
        let mut rows_seen = Vec::new();
        let template =
            parse_template(GOOD_TEMPLATE.as_bytes(), |line| rows_seen.push(line)).unwrap();
        assert_eq!(rows_seen, vec![2, 3, 4, 5, 6]);
        assert_eq!(template.event_lines, vec![vec![2], vec![3, 4], vec![5, 6]]);
        let document_bytes = serde_json::to_vec(&template.document).unwrap();
        let document = lotline_ledger::epcis::parse_document(&document_bytes).unwrap();
        assert_eq!(document.events.len(), 3);
        let events = template.document["epcisBody"]["eventList"].as_array().unwrap();
        assert_eq!(events[0]["action"], "ADD");
        assert_eq!(events[0]["eventTimeZoneOffset"], "+01:00");
        assert_eq!(
            events[0]["quantityList"][0]["epcClass"],
            "https://id.gs1.org/01/09506000134352/10/FIELD7"
        );
        assert_eq!(events[1]["type"], "TransformationEvent");
        assert_eq!(
            events[1]["outputQuantityList"][0]["epcClass"],
            "https://id.gs1.org/01/09506000134376/10/PACK42"
        );
        assert_eq!(events[2]["quantityList"].as_array().unwrap().len(), 2);
        assert_eq!(
            events[2]["destinationList"][0]["destination"],
            "https://id.gs1.org/414/4012345000115"
        );
        assert_eq!(
            events[2]["bizTransactionList"][0]["bizTransaction"],
            "urn:epcglobal:cbv:bt:9506000134352:BOL-1"
        );
    }

    #[test]
    fn every_bad_cell_is_reported_with_its_line_and_column() {
        let text = "\
step,time,gtin,lot,quantity,uom
harvesting,2026-03-01T07:00:00+01:00,09506000134353,A,5,KGM
shipping,yesterday,09506000134352,B,5,KGM
picking,2026-03-01T07:00:00Z,09506000134352,C,-2,kilo
receiving,2026-03-01T07:00:00Z,09506000134352,,5,KGM
";
        let errors = parse(text).unwrap_err().0;
        let described: Vec<(u64, Option<&str>)> =
            errors.iter().map(|error| (error.line, error.column)).collect();
        assert_eq!(
            described,
            vec![
                (2, Some("gtin")),
                (3, Some("time")),
                (4, Some("step")),
                (4, Some("quantity")),
                (4, Some("uom")),
                (5, Some("lot")),
            ]
        );
        assert!(errors[0].to_string().starts_with("line 2: gtin: "), "{}", errors[0]);
    }

    #[test]
    fn the_header_must_name_known_columns_and_the_required_ones() {
        let errors = parse("step,time,gtin,colour\n").unwrap_err().0;
        assert!(errors.iter().any(|error| error.message.contains("unknown column \"colour\"")));
        assert!(errors.iter().any(|error| error.column == Some("lot")));
        assert!(errors.iter().all(|error| error.line == 1));
    }

    #[test]
    fn rows_of_one_event_must_agree_and_transformations_need_both_sides() {
        let text = "\
event,step,time,gtin,lot,role
t1,transformation,2026-03-02T09:00:00Z,09506000134352,A,input
s1,shipping,2026-03-02T09:00:00Z,09506000134352,A,
s1,shipping,2026-03-02T10:00:00Z,09506000134352,B,
";
        let errors = parse(text).unwrap_err().0;
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert_eq!((errors[0].line, errors[0].column), (2, Some("role")));
        assert!(errors[0].message.contains("one input row and one output row"));
        assert_eq!((errors[1].line, errors[1].column), (4, Some("time")));
        assert!(errors[1].message.contains("differs from line 3"));
    }

    /// The property the `csv_import` fuzz target checks: a file the template accepts builds a
    /// document EPCIS accepts.
    fn assert_epcis_accepts(template: &Template) {
        let document_bytes = serde_json::to_vec(&template.document).unwrap();
        if let Err(error) = lotline_ledger::epcis::parse_document(&document_bytes) {
            panic!("the template built a document EPCIS refuses: {error}\n{}", template.document);
        }
    }

    #[test]
    fn a_document_number_with_a_colon_but_no_scheme_is_a_plain_number() {
        // The fuzzer's minimised input: the number `:` was once kept as a URI.
        let text = "\
event,step,time,gtin,lot,document_number
,harvesting,2026-03-01T07:00:00+01:00,95064352,2,:
,harvesting,2026-03-01T07:00:00+01:00,95064352,2,12:30
,harvesting,2026-03-01T07:00:00+01:00,95064352,2,B\u{8}01300+01:00
";
        let template = parse(text).unwrap();
        assert_epcis_accepts(&template);
        let events = template.document["epcisBody"]["eventList"].as_array().unwrap();
        let transactions: Vec<&Value> =
            events.iter().map(|event| &event["bizTransactionList"][0]["bizTransaction"]).collect();
        assert_eq!(
            transactions,
            [
                "urn:epcglobal:cbv:bt:0000000000000:%3A",
                "urn:epcglobal:cbv:bt:0000000000000:12%3A30",
                "urn:epcglobal:cbv:bt:0000000000000:B%0801300%2B01%3A00",
            ]
        );
    }

    #[test]
    fn a_document_number_written_as_a_uri_is_judged_as_a_node_judges_it() {
        let text = "\
event,step,time,gtin,lot,document_number
,harvesting,2026-03-01T07:00:00+01:00,95064352,2,urn:epcglobal:cbv:bt:9506000134352:BOL-1
,harvesting,2026-03-01T07:00:00+01:00,95064352,2,urn:epc:id:sgtin:0614141.107346
,harvesting,2026-03-01T07:00:00+01:00,95064352,2,https://example.com/bol\u{7}/1
";
        let errors = parse(text).unwrap_err().0;
        let described: Vec<(u64, Option<&str>)> =
            errors.iter().map(|error| (error.line, error.column)).collect();
        assert_eq!(described, [(3, Some("document_number")), (4, Some("document_number"))]);
        assert!(errors[0].message.contains("is taken as a URI"), "{}", errors[0]);

        let accepted = parse(&text.lines().take(2).collect::<Vec<_>>().join("\n")).unwrap();
        assert_epcis_accepts(&accepted);
        assert_eq!(
            accepted.document["epcisBody"]["eventList"][0]["bizTransactionList"][0]["bizTransaction"],
            "urn:epcglobal:cbv:bt:9506000134352:BOL-1"
        );
    }

    #[test]
    fn lines_are_numbered_as_an_editor_numbers_them_whatever_the_line_ends() {
        // The fuzzer's minimised input: CRLF line ends, which the csv crate numbers one short.
        let text = "Step,Time,GTIN,Lot,Quantity,UOM,Location,From\r\n\
receiving,2025-04-10T06:15:00Z,9506000134376,\"P2\",12.5,KGM,4012345000115,9506000134352\r\n\
cooling,2026-04-10T06:45:00-05:00,9506000134376,PACK-42345000115,\r\n";
        assert_eq!(parse(text).unwrap().event_lines, [[2], [3]]);
        let crlf = GOOD_TEMPLATE.replace('\n', "\r\n");
        let expected: &[&[u64]] = &[&[2], &[3, 4], &[5, 6]];
        assert_eq!(parse(&crlf).unwrap().event_lines, expected);
        assert_eq!(parse(&GOOD_TEMPLATE.replace('\n', "\r")).unwrap().event_lines, expected);
        let with_blank_lines = GOOD_TEMPLATE.replacen('\n', "\n\r\n\n", 2);
        let lines: &[&[u64]] = &[&[4], &[7, 8], &[9, 10]];
        assert_eq!(parse(&with_blank_lines).unwrap().event_lines, lines);
        let errors = parse("step,time,gtin,lot\r\n\r\nshipping,yesterday,09506000134352,B\r\n")
            .unwrap_err()
            .0;
        assert_eq!((errors[0].line, errors[0].column), (3, Some("time")));
    }

    #[test]
    fn an_empty_file_is_an_error_not_an_empty_capture() {
        let errors = parse("step,time,gtin,lot\n").unwrap_err().0;
        assert_eq!(errors[0].message, "the file has no data rows");
    }
}
