//! The CSV master-data sheet (documented in `docs/csv-template.md`): one row per product or
//! place, turned into an EPCIS 2.0 JSON-LD document whose header carries the vocabularies,
//! so a small producer names its products and sites without writing JSON.
//!
//! Owns the sheet's columns, which vocabulary and attribute each becomes, and line-level error
//! reporting (every bad cell of every line). Deliberately does not own master-data rules (the
//! built document is read by `lotline_ledger::masterdata::statements_of`, whose refusals name
//! the element) nor GS1 syntax (`lotline_ledger::gs1`).

use std::collections::BTreeMap;
use std::io::Read;

use lotline_ledger::masterdata::{VocabularyType, attribute};
use serde_json::{Value, json};

use crate::csv_template::{LineCounter, LineError, TemplateErrors};
use crate::identifier::location_digital_link;

/// The sheet's columns: `kind`, `id` and `name` are required.
const COLUMNS: [&str; 10] = [
    "kind",
    "id",
    "name",
    "street",
    "city",
    "state",
    "postal_code",
    "country",
    "latitude",
    "longitude",
];

/// Whether a CSV header row is the master-data sheet's (it has a `kind` column) rather than
/// the event template's.
pub fn is_master_data_header(header_line: &str) -> bool {
    header_line.split(',').any(|column| column_name(column) == "kind")
}

/// A header cell as a column name: trimmed, lower-case, spaces and `-` read as `_`.
fn column_name(header: &str) -> String {
    header.trim().trim_matches('"').to_ascii_lowercase().replace([' ', '-'], "_")
}

/// One checked row: the vocabulary element it becomes and the line it came from.
struct Element {
    vocabulary_type: VocabularyType,
    id: String,
    attributes: Vec<(&'static str, String)>,
}

/// Reads a master-data sheet and builds the EPCIS document, or reports every bad line.
pub fn parse_master_data(mut reader: impl Read) -> Result<Value, TemplateErrors> {
    // Read whole, so line numbers are counted from the bytes as the event template counts them.
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
    let header_error =
        |message: String| TemplateErrors(vec![LineError { line: 1, column: None, message }]);
    let headers = csv_reader
        .headers()
        .map_err(|error| header_error(format!("cannot read the header row: {error}")))?
        .clone();
    let mut errors = Vec::new();
    let mut positions: BTreeMap<&'static str, usize> = BTreeMap::new();
    for (position, header) in headers.iter().enumerate() {
        let name = column_name(header);
        match COLUMNS.iter().find(|column| **column == name) {
            Some(column) if positions.contains_key(column) => errors.push(LineError {
                line: 1,
                column: Some(column),
                message: "the column appears twice".to_owned(),
            }),
            Some(column) => {
                positions.insert(column, position);
            }
            None => errors.push(LineError {
                line: 1,
                column: None,
                message: format!("unknown column {header:?} (known: {})", COLUMNS.join(", ")),
            }),
        }
    }
    for required in ["kind", "id", "name"] {
        if !positions.contains_key(required) {
            errors.push(LineError {
                line: 1,
                column: Some(required),
                message: "the required column is missing".to_owned(),
            });
        }
    }
    if !errors.is_empty() {
        return Err(TemplateErrors(errors));
    }

    let mut elements: Vec<Element> = Vec::new();
    let mut first_line_of: BTreeMap<(String, String), u64> = BTreeMap::new();
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
        let cell = |column: &str| {
            positions
                .get(column)
                .and_then(|position| record.get(*position))
                .filter(|text| !text.is_empty())
        };
        match parse_row(line, cell) {
            Ok(element) => {
                let key = (element.vocabulary_type.uri().to_owned(), element.id.clone());
                if let Some(first) = first_line_of.get(&key) {
                    errors.push(LineError {
                        line,
                        column: Some("id"),
                        message: format!("{} is described on line {first} already", element.id),
                    });
                } else {
                    first_line_of.insert(key, line);
                    elements.push(element);
                }
            }
            Err(row_errors) => errors.extend(row_errors),
        }
    }
    if elements.is_empty() && errors.is_empty() {
        errors.push(LineError {
            line: 2,
            column: None,
            message: "the file has no data rows".into(),
        });
    }
    if !errors.is_empty() {
        errors.sort_by_key(|error| error.line);
        return Err(TemplateErrors(errors));
    }
    let creation_date = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned());
    let mut document = lotline_ledger::epcis::document_envelope(&creation_date, Vec::new());
    document["epcisHeader"] =
        json!({"epcisMasterData": {"vocabularyList": vocabulary_list(&elements)}});
    Ok(document)
}

/// The header's `vocabularyList`: one vocabulary per type, elements in file order.
fn vocabulary_list(elements: &[Element]) -> Vec<Value> {
    [VocabularyType::EpcClass, VocabularyType::BusinessLocation]
        .into_iter()
        .filter_map(|vocabulary_type| {
            let members: Vec<Value> = elements
                .iter()
                .filter(|element| element.vocabulary_type == vocabulary_type)
                .map(|element| {
                    let attributes: Vec<Value> = element
                        .attributes
                        .iter()
                        .map(|(id, value)| json!({"id": id, "attribute": value}))
                        .collect();
                    json!({"id": element.id, "attributes": attributes})
                })
                .collect();
            (!members.is_empty())
                .then(|| json!({"type": vocabulary_type.uri(), "vocabularyElementList": members}))
        })
        .collect()
}

/// Checks one row's cells; every bad cell becomes one [`LineError`].
fn parse_row<'record>(
    line: u64,
    cell: impl Fn(&str) -> Option<&'record str>,
) -> Result<Element, Vec<LineError>> {
    let mut errors = Vec::new();
    let mut fail = |column: &'static str, message: String| {
        errors.push(LineError { line, column: Some(column), message });
    };
    let kind = cell("kind").unwrap_or_default().to_ascii_lowercase();
    let id_cell = cell("id").unwrap_or_default();
    let (vocabulary_type, id) = match kind.as_str() {
        "product" => (VocabularyType::EpcClass, product_link(id_cell).map_err(|message| fail("id", message)).ok()),
        "location" => (
            VocabularyType::BusinessLocation,
            location_digital_link(id_cell)
                .filter(|link| link.contains("/414/"))
                .ok_or_else(|| fail("id", format!("{id_cell:?} is not a GLN (13 digits with a valid check digit), a GLN Digital Link or an SGLN URN")))
                .ok(),
        ),
        other => {
            fail("kind", format!("{other:?} is not a kind of master data (product or location)"));
            (VocabularyType::EpcClass, None)
        }
    };
    let name = cell("name").unwrap_or_default();
    if name.is_empty() {
        fail("name", "the name is empty".to_owned());
    }
    let name_attribute = if vocabulary_type == VocabularyType::EpcClass {
        attribute::GS1_PRODUCT_NAME
    } else {
        attribute::NAME
    };
    let mut attributes = vec![(name_attribute, name.to_owned())];
    let place_columns = [
        ("street", attribute::STREET_ADDRESS_ONE),
        ("city", attribute::CITY),
        ("state", attribute::STATE),
        ("postal_code", attribute::POSTAL_CODE),
        ("country", attribute::COUNTRY_CODE),
        ("latitude", attribute::LATITUDE),
        ("longitude", attribute::LONGITUDE),
    ];
    for (column, attribute_id) in place_columns {
        let Some(value) = cell(column) else { continue };
        if vocabulary_type == VocabularyType::EpcClass {
            fail(column, "a product has no address; leave the cell empty".to_owned());
            continue;
        }
        let problem = match column {
            "country"
                if !(value.len() == 2 && value.bytes().all(|byte| byte.is_ascii_uppercase())) =>
            {
                Some(format!("{value:?} is not an ISO 3166-1 alpha-2 country code like US or DE"))
            }
            "latitude" => degrees_problem(value, 90.0),
            "longitude" => degrees_problem(value, 180.0),
            _ => None,
        };
        match problem {
            Some(message) => fail(column, message),
            None => attributes.push((attribute_id, value.to_owned())),
        }
    }
    if cell("latitude").is_some() != cell("longitude").is_some() {
        fail("latitude", "give both latitude and longitude, or neither".to_owned());
    }
    match id {
        Some(id) if errors.is_empty() => Ok(Element { vocabulary_type, id, attributes }),
        _ => Err(errors),
    }
}

/// The Digital Link of a product (`https://id.gs1.org/01/<gtin14>`) from a GTIN cell (8, 12,
/// 13 or 14 digits with a valid check digit) or any form the ledger reads as a GTIN.
fn product_link(cell: &str) -> Result<String, String> {
    let digits = cell.trim();
    if matches!(digits.len(), 8 | 12 | 13 | 14) && digits.bytes().all(|byte| byte.is_ascii_digit())
    {
        let gtin = format!("{digits:0>14}");
        lotline_ledger::gs1::Gtin::parse(&gtin)
            .map_err(|error| format!("{digits:?} is not a valid GTIN: {error}"))?;
        return Ok(format!("{}/01/{gtin}", lotline_ledger::gs1::CANONICAL_STEM));
    }
    match lotline_ledger::gs1::classify(digits) {
        Some(lotline_ledger::gs1::Identifier::Class { gtin }) => {
            Ok(lotline_ledger::gs1::Identifier::Class { gtin }.to_canonical_link())
        }
        _ => {
            Err(format!("{digits:?} is not a GTIN (8, 12, 13 or 14 digits) or a GTIN Digital Link"))
        }
    }
}

/// Why `text` is not decimal degrees within ±`limit`, if it is not.
fn degrees_problem(text: &str, limit: f64) -> Option<String> {
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() && value.abs() <= limit => None,
        _ => Some(format!("{text:?} is not decimal degrees between -{limit} and {limit}")),
    }
}

#[cfg(test)]
mod tests {
    use lotline_ledger::epcis;
    use lotline_ledger::masterdata::statements_of;

    use super::*;

    /// The example of `docs/csv-template.md`.
    pub const GOOD_SHEET: &str = "\
kind,id,name,street,city,state,postal_code,country,latitude,longitude
product,9506000134376,\"Mango slices, 200 g\",,,,,,,
location,9506000134352,Packhouse Tres Rios,Av. Obregon 12,Culiacan,SIN,80000,MX,24.8091,-107.3940
";

    #[test]
    fn a_good_sheet_becomes_master_data_the_ledger_reads_with_names_and_places() {
        let document = parse_master_data(GOOD_SHEET.as_bytes()).unwrap();
        let parsed = epcis::parse_document(&serde_json::to_vec(&document).unwrap()).unwrap();
        assert!(parsed.events.is_empty());
        let statements = statements_of(&parsed).unwrap();
        assert_eq!(statements.len(), 2);
        let product = statements.iter().find(|statement| statement.id.contains("/01/")).unwrap();
        assert_eq!(product.id, "https://id.gs1.org/01/09506000134376");
        assert_eq!(product.name(), Some("Mango slices, 200 g"));
        let place = statements.iter().find(|statement| statement.id.contains("/414/")).unwrap();
        assert_eq!(place.name(), Some("Packhouse Tres Rios"));
        assert_eq!(place.place().as_deref(), Some("Av. Obregon 12, Culiacan SIN 80000, MX"));
        assert_eq!(place.coordinates(), Some((24.8091, -107.394)));
    }

    #[test]
    fn every_bad_cell_is_named_by_line_and_column_and_nothing_is_built() {
        let sheet = "\
kind,id,name,country,latitude,longitude
product,9506000134377,Mango,,,
location,9506000134352,,Mexico,95,
place,123,Somewhere,,,
product,9506000134376,Mango,MX,,
location,9506000134352,A,MX,1,1
location,9506000134352,B,MX,1,1
";
        let errors = parse_master_data(sheet.as_bytes()).unwrap_err().0;
        let named: Vec<(u64, Option<&str>)> =
            errors.iter().map(|error| (error.line, error.column)).collect();
        assert_eq!(
            named,
            vec![
                (2, Some("id")),
                (3, Some("name")),
                (3, Some("country")),
                (3, Some("latitude")),
                (3, Some("latitude")),
                (4, Some("kind")),
                (5, Some("country")),
                (7, Some("id")),
            ],
            "{errors:?}"
        );
        assert!(
            errors[0].message.contains("check digit") || errors[0].message.contains("valid GTIN")
        );
        assert!(errors[7].message.contains("line 6"));
    }

    #[test]
    fn lines_are_numbered_as_an_editor_numbers_them_in_crlf_files_and_after_blank_lines() {
        let sheet = "kind,id,name\r\n\r\nlocation,123,Somewhere\r\nplace,9506000134352,X\r\n";
        let errors = parse_master_data(sheet.as_bytes()).unwrap_err().0;
        let lines: Vec<u64> = errors.iter().map(|error| error.line).collect();
        assert_eq!(lines, vec![3, 4], "{errors:?}");
    }

    #[test]
    fn the_header_decides_which_sheet_a_file_is() {
        assert!(is_master_data_header("Kind,ID,Name"));
        assert!(!is_master_data_header("event,step,time,gtin,lot"));
        let errors = parse_master_data("kind,id,colour\n".as_bytes()).unwrap_err().0;
        assert!(errors.iter().any(|error| error.message.contains("unknown column")));
        assert!(errors.iter().any(|error| error.column == Some("name")));
    }
}
